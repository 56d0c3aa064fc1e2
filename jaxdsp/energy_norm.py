"""Per-channel energy normalisation (PCEN) as librosa's function.

Layout: ``S`` is ``(..., n_freq, n_frames)`` (time last; any leading batch axes), smoothed along
``axis`` (default -1). Unlike the learnable :class:`jaxdsp.nn.PCEN` module (positive parameters by
construction), this function follows ``librosa.pcen`` exactly, including ``gain = 0``, ``bias = 0``
and ``power = 0`` and the optional max-filtered reference. The first-order IIR smoother runs as a
``lax.scan`` over frames inside one jitted pass; everything is differentiable in ``S`` (with
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


def _smoother(x: jax.Array, z: jax.Array, b: float) -> tuple[jax.Array, jax.Array]:
  """scipy's ``lfilter([b], [1, b - 1], x, zi=z)`` along the last axis: ``M[t] = b·x[t] + z``,
  ``z <- (1 - b)·M[t]``, as a ``lax.scan`` over frames (each step one element-wise pass over the
  other axes). Returns ``(M, final z)``.

  Measured on CPU inside the one jitted PCEN pass, this beats the parallel forms: a blocked matrix
  form (within-block products, the state carried across blocks) ran 2.5× slower there, XLA fusing the
  compressive nonlinearity into the product's sliced output; ``lax.associative_scan`` was no faster."""
  def step(state, frame):
    out = b * frame + state
    return (1.0 - b) * out, out

  z_last, out = jax.lax.scan(step, z, jnp.moveaxis(x, -1, 0))
  return jnp.moveaxis(out, 0, -1), z_last


@functools.partial(jax.jit, static_argnames=("b", "gain", "bias", "power", "eps", "max_size", "axis", "max_axis"))
def _pcen(S, ref, z0, *, b, gain, bias, power, eps, max_size, axis, max_axis):
  if jnp.iscomplexobj(S):
    S = jnp.abs(S)
  if ref is None:
    ref = S if max_size == 1 else _max_filter(S, max_size, max_axis)
  x = jnp.moveaxis(ref, axis, -1)
  smooth_ref, z_last = _smoother(x, z0[..., 0], b)
  zf = jnp.moveaxis(z_last[..., None], -1, axis)
  smooth_ref = jnp.moveaxis(smooth_ref, -1, axis)
  # librosa's log-space formulas, with XLA's fast log/exp/sqrt in place of its slow CPU expm1:
  # (eps + M)^-gain as exp(-gain·log(eps + M)) (= exp(-gain·(log eps + log1p(M / eps))));
  # (u + bias)^power - bias^power without cancellation.
  log_norm = -gain * jnp.log(eps + smooth_ref)
  if power == 0:
    out = jnp.log1p(S * jnp.exp(log_norm))
  elif bias == 0:
    out = jnp.exp(power * (jnp.log(S) + log_norm))
  elif power == 0.5:
    u = S * jnp.exp(log_norm)
    out = u / (jnp.sqrt(u + bias) + math.sqrt(bias))
  elif power == 1:
    out = S * jnp.exp(log_norm)
  else:
    out = (bias**power) * _expm1(power * jnp.log1p(S * jnp.exp(log_norm) / bias))
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
