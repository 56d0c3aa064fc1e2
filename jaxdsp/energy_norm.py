"""Per-channel energy normalisation (PCEN) as librosa's function.

Layout: ``S`` is ``(..., n_freq, n_frames)`` (time last; any leading batch axes), smoothed along
``axis`` (default -1). Unlike the learnable :class:`jaxdsp.nn.PCEN` module (positive parameters by
construction), this function follows ``librosa.pcen`` exactly, including ``gain = 0``, ``bias = 0``
and ``power = 0`` and the optional max-filtered reference. The first-order IIR smoother runs in
matrix form inside one jitted pass (blocks of frames filtered by matrix products along the frame
axis; rows over 1024 frames scan over segments of that length); everything is differentiable in ``S`` (with
``bias = 0``, zeros in ``S`` give a NaN gradient, as ``log(0)`` enters the formula).
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from jaxdsp import _checks


def _max_filter(x: jax.Array, size: int, axis: int) -> jax.Array:
  """``scipy.ndimage.maximum_filter1d(x, size, axis)`` (mode ``"reflect"``: edge samples repeated).

  A window of ``2·n`` or more samples covers every (reflected) sample, so larger sizes are cut to
  ``2·n``: the result is the same, the work bounded."""
  x = jnp.moveaxis(x, axis, -1)
  n = x.shape[-1]
  size = min(size, 2 * n)
  left, right = size // 2, (size - 1) // 2
  idx = np.arange(-left, n + right)
  for _ in range(2):  # symmetric reflection (twice covers windows up to 2·n)
    idx = np.where(idx < 0, -idx - 1, idx)
    idx = np.where(idx >= n, 2 * n - idx - 1, idx)
  padded = x[..., np.clip(idx, 0, n - 1)]
  out = padded[..., 0:n]
  for k in range(1, size):
    out = jnp.maximum(out, padded[..., k:k + n])
  return jnp.moveaxis(out, -1, axis)


_BLOCK = 16  # frames per block of the smoother's matrix form
_SEGMENT = 1024  # frames per segment (at most 64 blocks); longer inputs scan over segments


@functools.lru_cache(maxsize=64)
def _smoother_mats(b: float, block: int, n_blocks: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
  """Float64 matrices of the smoother ``M[t] = b·x[t] + a·M[t - 1]`` (``a = 1 - b``) on blocks of
  ``block`` frames: ``K[i, j] = b·a^(i - j)`` (``j <= i``) filters each block from a zero state;
  ``C[k, j] = a·a^(block·(k - 1 - j))`` (``j < k``) and ``q[k] = a^(block·k)`` give the state entering
  block ``k`` from the blocks' last outputs and the initial state; ``P[k, block·k + i] = a^i`` spreads
  each block's entering state over its frames (block-diagonal)."""
  a = 1.0 - b
  i = np.arange(block)
  k = np.arange(n_blocks)
  d = i[:, None] - i[None, :]
  e = k[:, None] - 1 - k[None, :]
  with np.errstate(under="ignore"):
    K = np.where(d >= 0, b * a ** np.maximum(d, 0), 0.0)
    C = np.where(e >= 0, a * a ** (block * np.maximum(e, 0).astype(float)), 0.0)
    q = a ** (block * k.astype(float))
    P = np.kron(np.eye(n_blocks), a ** i[None, :].astype(float))
  return K, C, q, P


def _smoother(x: jax.Array, z: jax.Array, b: float) -> jax.Array:
  """scipy's ``lfilter([b], [1, b - 1], x, zi=z)`` of ``(R, n)`` rows, ``n <= _SEGMENT`` frames
  (``M[t] = b·x[t] + z``, ``z <- (1 - b)·M[t]``), in matrix form, all products along the frame axis
  in the input's own layout: blocks of ``_BLOCK`` frames from a zero state (``x @ K.T``), the state
  entering each block (``last @ C.T + q·z``), spread over the block's frames (``@ P``). No
  sequential loop and no transpose; linear, so gradients are exact.

  Chosen by measurement on CPU (``benchmarks/bench_helpers.py``): faster than a ``lax.scan`` over
  frames, with the compression inside the step or after it (a transposed read). The compression must
  read ``M`` in this 2-D layout: fused into a 4-D (block, frame) view's sliced output it ran slower."""
  rows, n = x.shape
  block = min(_BLOCK, n)
  nb = -(-n // block)
  K, C, q, P = (jnp.asarray(m, x.dtype) for m in _smoother_mats(float(b), block, nb))
  hi = jax.lax.Precision.HIGHEST
  xb = jnp.pad(x, [(0, 0), (0, nb * block - n)])
  local = jnp.matmul(xb.reshape(rows * nb, block), K.T, precision=hi).reshape(rows, nb * block)
  z_in = jnp.matmul(local.reshape(rows, nb, block)[:, :, -1], C.T, precision=hi) + z[:, None] * q
  return (local + jnp.matmul(z_in, P, precision=hi))[:, :n]


def _compress(S: jax.Array, M: jax.Array, gain: float, bias: float, power: float, eps: float) -> jax.Array:
  """``(S / (eps + M)^gain + bias)^power - bias^power`` in librosa's log-space forms, with XLA's
  fast log/exp/sqrt in place of its slow CPU expm1: ``(eps + M)^-gain`` as
  ``exp(-gain·log(eps + M))``; ``(u + bias)^power - bias^power`` without cancellation."""
  log_norm = -gain * jnp.log(eps + M)
  if power == 0:
    return jnp.log1p(S * jnp.exp(log_norm))
  if bias == 0:
    return jnp.exp(power * (jnp.log(S) + log_norm))
  if power == 0.5:
    u = S * jnp.exp(log_norm)
    return u / (jnp.sqrt(u + bias) + math.sqrt(bias))
  if power == 1:
    return S * jnp.exp(log_norm)
  return (bias**power) * _expm1(power * jnp.log1p(S * jnp.exp(log_norm) / bias))


def _pcen_rows(S: jax.Array, x: jax.Array, z: jax.Array, b: float, compress) -> tuple[jax.Array, jax.Array]:
  """PCEN of ``(R, n)`` rows ``S`` with reference ``x`` and initial state ``z`` ``(R,)``: returns
  ``(P, final z)``. Up to ``_SEGMENT`` frames in one matrix-form pass; longer rows as a
  ``lax.scan`` over segments (the state carried), each segment one such pass."""
  rows, n = S.shape
  if n <= _SEGMENT:
    M = _smoother(x, z, b)
    return compress(S, M), (1.0 - b) * M[:, -1]
  n_seg = -(-n // _SEGMENT)
  pad = n_seg * _SEGMENT - n
  last = (n - 1) % _SEGMENT  # the last real frame's place in its segment

  def segments(v):
    v = jnp.pad(v, [(0, 0), (0, pad)]).reshape(rows, n_seg, _SEGMENT)
    return jnp.moveaxis(v, 1, 0)

  def step(state, seg):
    s, r = seg
    M = _smoother(r, state, b)
    return (1.0 - b) * M[:, -1], (compress(s, M), M[:, last])

  _, (out, m_last) = jax.lax.scan(step, z, (segments(S), segments(x)))
  out = jnp.moveaxis(out, 0, 1).reshape(rows, n_seg * _SEGMENT)[:, :n]
  return out, (1.0 - b) * m_last[-1]


@functools.partial(jax.jit, static_argnames=("b", "gain", "bias", "power", "eps", "max_size", "axis", "max_axis"))
def _pcen(S, ref, z0, *, b, gain, bias, power, eps, max_size, axis, max_axis):
  if jnp.iscomplexobj(S):
    S = jnp.abs(S)
  if ref is None:
    ref = S if max_size == 1 else _max_filter(S, max_size, max_axis)
  S_t = jnp.moveaxis(S, axis, -1)
  shape = S_t.shape
  rows = (-1, shape[-1])
  compress = functools.partial(_compress, gain=gain, bias=bias, power=power, eps=eps)
  out, z_last = _pcen_rows(S_t.reshape(rows), jnp.moveaxis(ref, axis, -1).reshape(rows), z0.reshape(-1), b, compress)
  out = jnp.moveaxis(out.reshape(shape), -1, axis)
  zf = jnp.moveaxis(z_last.reshape(shape[:-1] + (1,)), -1, axis)
  return out, zf


def _expm1(v: jax.Array) -> jax.Array:
  """``exp(v) - 1`` to full relative accuracy (Kahan: ``(w - 1)·v / log w`` with ``w = exp(v)``),
  from ``exp`` and ``log`` (XLA's CPU ``expm1`` is several times slower than both together)."""
  w = jnp.exp(v)
  ok = (w != 1) & (w != 0) & jnp.isfinite(w)
  return jnp.where(ok, (w - 1) * v / jnp.log(jnp.where(ok, w, 2.0)), jnp.where(w == 0, -1.0, jnp.where(w == 1, v, w)))


def pcen(S: ArrayLike, *, sr: float = 22050, hop_length: int = 512, gain: float = 0.98, bias: float = 2.0,
         power: float = 0.5, time_constant: float = 0.400, eps: float = 1e-6, b: float | None = None,
         max_size: int = 1, ref: ArrayLike | None = None, axis: int = -1, max_axis: int | None = None,
         zi: ArrayLike | None = None, return_zf: bool = False) -> jax.Array | tuple[jax.Array, jax.Array]:
  """Per-channel energy normalisation.

  ``M = IIR(ref)`` with ``M[t] = b·ref[t] + (1 - b)·M[t - 1]`` (``M[-1]`` from ``zi``, default the
  steady state of a unit input, ``zi = 1 - b``, as librosa), then
  ``P = (S / (eps + M)^gain + bias)^power - bias^power``, computed as librosa does in log space:
  ``log1p(S·s)`` for ``power = 0``, ``exp(power·(log S + log s))`` for ``bias = 0``, else
  ``bias^power·expm1(power·log1p(S·s / bias))``, with ``s = exp(-gain·(log eps + log1p(M / eps)))``.

  Args:
    S: ``(..., n_freq, n_frames)`` non-negative magnitude (or power) spectrogram; complex input is
      replaced by its magnitude.
    sr, hop_length: sample rate and hop, for the time constant.
    gain: exponent of the normaliser, >= 0.
    bias: offset, >= 0.
    power: compression exponent, >= 0.
    time_constant: smoother time constant in seconds, > 0.
    eps: floor of the normaliser, > 0.
    b: smoother coefficient in [0, 1]; default from ``time_constant``:
      ``(sqrt(1 + 4 T²) - 1) / (2 T²)`` with ``T = time_constant · sr / hop_length``.
    max_size: frequency max-filter width for the reference (1: ``ref = S``).
    ref: a given reference instead (``S``'s shape).
    axis: the time axis (smoothed).
    max_axis: the max-filter axis; default -2 when ``axis`` is the last axis.
    zi: initial smoother state, ``S``'s shape with ``axis`` of length 1.
    return_zf: also return the final state.

  Returns:
    ``S``'s shape (and ``zf`` if ``return_zf``).

  Examples:
    >>> import jaxdsp as jd
    >>> out = jd.pcen(jnp.ones((2, 5)) * 100.0)
    >>> out.shape, round(float(out[0, -1]), 4)
    ((2, 5), 1.0586)

  References:
    Y. Wang et al., "Trainable frontend for robust and far-field keyword spotting", ICASSP 2017.
    Compare ``librosa.pcen``.
  """
  S = _checks.as_signal(S, "S", allow_complex=True)
  real_dtype = jnp.finfo(S.dtype).dtype
  sr = _checks.sample_rate(sr)
  hop_length = _checks.positive_int(hop_length, "hop_length")
  gain = _checks.positive_number(gain, "gain", allow_zero=True)
  bias = _checks.positive_number(bias, "bias", allow_zero=True)
  power = _checks.positive_number(power, "power", allow_zero=True)
  time_constant = _checks.positive_number(time_constant, "time_constant")
  eps = _checks.positive_number(eps, "eps")
  max_size = _checks.positive_int(max_size, "max_size")
  if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or not -S.ndim <= axis < S.ndim:
    raise ValueError(f"axis must be an int in [-{S.ndim}, {S.ndim}), got {axis!r}")
  axis = int(axis) % S.ndim
  if b is None:
    t_frames = time_constant * sr / float(hop_length)
    b = (math.sqrt(1 + 4 * t_frames**2) - 1) / (2 * t_frames**2)
  elif isinstance(b, bool) or not isinstance(b, (int, float, np.integer, np.floating)) or not 0 <= b <= 1:
    raise ValueError(f"b must be a number in [0, 1], got {b!r}")
  b = float(b)
  if ref is None:
    if max_size > 1:
      if S.ndim < 2:
        raise ValueError(f"max_size > 1 needs S with a frequency axis (at least 2 dimensions), got shape {S.shape}")
      if max_axis is None:
        if axis != S.ndim - 1:
          raise ValueError("max_axis must be given when axis is not the last axis")
        max_axis = S.ndim - 2
      if isinstance(max_axis, bool) or not isinstance(max_axis, (int, np.integer)) or not -S.ndim <= max_axis < S.ndim:
        raise ValueError(f"max_axis must be an int in [-{S.ndim}, {S.ndim}), got {max_axis!r}")
      max_axis = int(max_axis) % S.ndim
    else:
      max_axis = None
  else:
    ref = _checks.as_signal(ref, "ref")
    if ref.shape != S.shape:
      raise ValueError(f"ref must have S's shape {S.shape}, got {ref.shape}")
    max_axis = None
  state_shape = tuple(np.delete(S.shape, axis)) + (1,)
  if zi is None:
    z0 = jnp.full(state_shape, 1.0 - b, real_dtype)
  else:
    z0 = jnp.asarray(zi, real_dtype)
    z0 = jnp.moveaxis(z0, axis, -1) if z0.ndim == S.ndim else z0
    try:
      z0 = jnp.broadcast_to(z0, state_shape)
    except ValueError as e:
      raise ValueError(f"zi must have S's shape with axis {axis} of length 1, got {np.shape(zi)}") from e
  out, zf = _pcen(S, ref, z0, b=b, gain=gain, bias=bias, power=power, eps=eps, max_size=max_size if ref is None else 1,
                  axis=axis, max_axis=max_axis)
  return (out, zf) if return_zf else out
