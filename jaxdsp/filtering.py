"""Differentiable linear filters: ``lfilter``, ``sosfilt``, ``filtfilt``, FFT and FIR convolution, and a
time-varying all-pole filter.

Layout: time is the last axis (``lfilter`` also takes ``axis=``) and any leading axes are batch axes.
Coefficient arrays may carry leading batch axes too, broadcast against the signal's batch axes
(``b`` of shape ``(..., n_b)``, ``a`` of shape ``(..., n_a)``, ``sos`` of shape ``(..., n_sections, 6)``),
and are differentiable like the signal.

How the recursion runs. ``y = (B/A) x`` is split into its FIR part ``v = b * x`` (shifted sums, or
an FFT convolution for long ``b``) and its all-pole part ``y[n] = v[n] - Σ_k a_k y[n-k]``.

Constant coefficients (:func:`lfilter`, :func:`sosfilt`, :func:`filtfilt`): the signal is cut into
blocks of ``T`` samples (64 for orders 1–2, 128 up to order 32, ``4 N`` rounded up to a power of two
above); every block is filtered from a zero state at once, by one matrix product with the ``T × T``
Toeplitz matrix of the impulse response ``h``; the block-end states are carried across blocks
(``s_j = M s_{j-1} + l_j``, ``n_samples / T`` tiny sequential steps); each block then gets its
zero-input response to the state it inherits, as ``h`` convolved with the ``N``-sample excitation
the state is equivalent to. On CPU this is faster than a chunked scan of the recursion (measured
1–3× faster, a scan step is one small vector operation), and it keeps the float32 error at scipy's
level for Butterworth/Chebyshev orders 1–8 and low-frequency biquads. The block matmuls ask for full
float32 precision (``Precision.HIGHEST``): at JAX's default, GPUs round their inputs to TF32 and TPUs
to bfloat16, which lightly damped filters do not survive.

Time-varying coefficients (:func:`time_varying_allpole`): a chunked scan. Each row is cut into
blocks (about 2048 rows × blocks in all, none shorter than 32 samples, ``32 · order`` above order 2)
and all blocks run the plain sequential recursion side by side, time-major. Pass 1 runs each block
from a zero state and keeps its end state and its transition ``M_j`` (from ``order`` extra lanes
started at the unit states); the block-end states are carried, ``s_j = M_j s_{j-1} + l_j``, in
double-float arithmetic (the states of a lightly damped low-frequency filter are nearly collinear);
pass 2 reruns each block from its true start state and keeps the outputs.

Both engines end with one step of iterative refinement (the residual of the difference equation,
computed directly, filtered again and added): without it, long signals through lightly damped
low-frequency filters (a 30 Hz, Q = 20 peaking biquad at 44.1 kHz, 10 s) lose up to a digit against
scipy's float32 run. High-order transfer functions with poles close together (a 6th-order
Butterworth at 0.05 × Nyquist) are ill-conditioned in float32 for any method, scipy's included
(2.9e-2 relative error there): use :func:`sosfilt`, or float64.

Derivatives: the all-pole part is ``lax.custom_linear_solve`` of the banded lower-triangular
system ``A y = v``, so forward mode (``jax.jvp``, ``jax.jacfwd``: ``ẏ = A⁻¹ (v̇ - Ȧ y)``) and reverse
mode (by transposition: the cotangent through ``A⁻ᵀ``, the same filter run backwards in time, and
``∂L/∂a_k = -Σ_n u[n] y[n-k]``) both work, and every solve in them is the same block-parallel engine, as parallel
and as stable as the forward pass. The same holds for :func:`time_varying_allpole`.

Compare ``scipy.signal.lfilter``, ``sosfilt``, ``filtfilt``, ``lfilter_zi``, ``fftconvolve``.
"""

from __future__ import annotations

from typing import Any

import math

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from jaxdsp import _checks
from jaxdsp import _core

__all__ = ["fftconvolve", "filtfilt", "fir_filter", "lfilter", "lfilter_zi", "sosfilt", "time_varying_allpole"]

_FIR_DIRECT_MAX = 32  # numerator taps up to which the FIR part is a sum of shifted products


# ----------------------------------------------------------------------------------------------------------------
# argument helpers
# ----------------------------------------------------------------------------------------------------------------


def _is_concrete(x: Any) -> bool:
  return not isinstance(x, jax.core.Tracer)


def _coeffs(c: Any, name: str) -> jax.Array:
  """A floating coefficient array of rank >= 1, non-empty, finite when known on the host."""
  if c is None:
    raise ValueError(f"{name} must be given (an array of filter coefficients)")
  if isinstance(c, (list, tuple, float, int)) or isinstance(c, (np.ndarray, np.generic)):
    arr = np.asarray(c)
    if arr.dtype.kind in "iub":
      arr = arr.astype(np.float32 if not jax.config.jax_enable_x64 else np.float64)
    c = arr
  c = _checks.as_signal(c, name)
  return c


def _check_a0(a: jax.Array, *, name: str = "a", col: int = 0) -> None:
  """``a[..., col]`` (the leading denominator coefficient) non-zero and ``a`` finite, when ``a`` is concrete.

  Read through NumPy: inside a ``jit`` trace, indexing even a concrete (closed-over) array gives a tracer.
  """
  if _is_concrete(a):
    arr = np.asarray(a)
    if np.any(arr[..., col] == 0):
      what = "a[0] (the leading denominator coefficient)" if name == "a" else f"{name}[..., {col}] (each a0)"
      raise ValueError(f"{what} must be non-zero, got 0")
    if not np.all(np.isfinite(arr)):
      raise ValueError(f"{name} contains non-finite values (NaN or inf)")


def _sum_to_shape(g: jax.Array, shape: tuple[int, ...]) -> jax.Array:
  """Sums the broadcast axes of ``g`` so that it has ``shape`` (the transpose of broadcasting)."""
  lead = g.ndim - len(shape)
  if lead:
    g = g.sum(axis=tuple(range(lead)))
  axes = tuple(i for i, (s, gs) in enumerate(zip(shape, g.shape)) if s == 1 and gs != 1)
  if axes:
    g = g.sum(axis=axes, keepdims=True)
  return g


def _shift(x: jax.Array, k: int) -> jax.Array:
  """``x`` delayed by ``k`` samples along the last axis (zeros shifted in)."""
  if k == 0:
    return x
  n = x.shape[-1]
  if k >= n:
    return jnp.zeros_like(x)
  pad = [(0, 0)] * (x.ndim - 1) + [(k, 0)]
  return jnp.pad(x[..., :n - k], pad)


# ----------------------------------------------------------------------------------------------------------------
# the all-pole core (block matmul or chunked scan; custom linear solve for forward and reverse mode)
# ----------------------------------------------------------------------------------------------------------------

_LANES = 2048  # parallel recursions a chunked scan aims for (batch rows × blocks)
_MIN_BLOCK = 32  # shortest block per pole: shorter blocks of high orders lose float32 digits in the carried states
_UNROLL = 8
_SEQ_ROWS = 32  # from this many rows on, the time-varying filter runs the sequential recursion unblocked


def _n_blocks(bsz: int, length: int, order: int) -> int:
  """Blocks per row: enough for ``~_LANES`` parallel recursions, none shorter than ``_MIN_BLOCK · max(order, 1)``
  samples (orders 1-2: 32). The block transition of an order-8 filter over 32 samples has entries far larger
  than the signal (a transient from a unit start state) and costs 2 digits in float32; from ``32 · order``
  samples on it has decayed, and the error equals scipy's (measured, Butterworth/Chebyshev orders 3-8)."""
  if bsz >= _SEQ_ROWS:
    return 1  # enough rows to vectorise the plain recursion: blocks would only add passes (measured 3.5× slower)
  return max(1, min(-(-_LANES // bsz), length // (_MIN_BLOCK * (order if order > 2 else 1))))


def _recursion(vt: jax.Array, coef: Any, hist0: tuple[jax.Array, ...], *, outputs: bool):
  """The sequential all-pole recursion ``y_t = v_t - Σ_k c_k hist_k`` over the leading (time) axis of ``vt``.

  ``vt`` is ``(T, W, ...)`` (``W`` independent lanes); ``coef`` is a tuple of ``N`` scalars or lane arrays
  (constant coefficients) or one ``(T, N, W, ...)`` array (time-varying); ``hist0`` the ``N`` previous
  outputs ``(y[-1], ..., y[-N])`` per lane. Returns the final history and, with ``outputs``, ``y`` (``(T, W, ...)``).
  """
  n = len(hist0)
  varying = not isinstance(coef, tuple)

  def step(hist, inp):
    vt_, cs = inp if varying else (inp, coef)
    y = vt_
    for k in range(n):
      y = y - cs[k] * hist[k]
    return (y,) + hist[:-1], (y if outputs else None)

  return jax.lax.scan(step, hist0, (vt, coef) if varying else vt, unroll=_UNROLL)


def _two_sum(x: jax.Array, y: jax.Array) -> tuple[jax.Array, jax.Array]:
  s = x + y
  yy = s - x
  return s, (x - (s - yy)) + (y - yy)


def _split(x: jax.Array) -> tuple[jax.Array, jax.Array]:
  c = (4097.0 if x.dtype == jnp.float32 else 134217729.0) * x  # 2^12 + 1, 2^27 + 1 (Dekker)
  hi = c - (c - x)
  return hi, x - hi


def _dd_add(x: tuple, y: tuple) -> tuple[jax.Array, jax.Array]:
  """Double-float sum of two (hi, lo) pairs (Dekker / Knuth error-free transforms)."""
  s, e = _two_sum(x[0], y[0])
  return _two_sum(s, e + x[1] + y[1])


def _dd_mul(x: tuple, y: tuple) -> tuple[jax.Array, jax.Array]:
  """Double-float product of two (hi, lo) pairs."""
  p = x[0] * y[0]
  xh, xl = _split(x[0])
  yh, yl = _split(y[0])
  e = ((xh * yh - p) + xh * yl + xl * yh) + xl * yl
  return _two_sum(p, e + x[0] * y[1] + x[1] * y[0])


def _transition(a: jax.Array, tb: int) -> tuple[jax.Array, jax.Array]:
  """``M[b, k, i]``: history entry ``k`` (``y[T-1-k]``) after ``tb`` zero-input steps of the all-pole filter
  ``a[b]`` (``(Ba, N)``) from the unit history ``e_i``, in double-float arithmetic: ``(hi, lo)``, ``(Ba, N, N)``."""
  ba, n = a.shape
  eye = jnp.eye(n, dtype=a.dtype)
  hist0 = tuple((jnp.broadcast_to(eye[k], (ba, n)), jnp.zeros((ba, n), a.dtype)) for k in range(n))
  coef = [a[:, k:k + 1] for k in range(n)]

  def step(hist, _):
    acc = (jnp.zeros((ba, n), a.dtype),) * 2
    for k in range(n):
      p = _dd_mul(hist[k], (coef[k], jnp.zeros_like(coef[k])))
      acc = _dd_add(acc, (-p[0], -p[1]))
    return (acc,) + hist[:-1], None

  # not unrolled: XLA compile time explodes on unrolled double-float chains
  hist, _ = jax.lax.scan(step, hist0, None, length=tb)
  return jnp.stack([h[0] for h in hist], axis=1), jnp.stack([h[1] for h in hist], axis=1)


def _chunked_allpole(v: jax.Array, a: jax.Array) -> jax.Array:
  """``y[n] = v[n] - Σ_k a[k-1] y[n-k]`` from a zero state, as a chunked scan.

  ``v`` is ``(B, L)``; ``a`` is ``(1, N)`` or ``(B, N)`` (constant) or ``(B, L, N)`` (time-varying). Each row is
  cut into ``nb`` blocks of ``T`` samples and all ``B · nb`` blocks run the exact sequential recursion side by
  side (time-major, one lane each). Pass 1 runs every block from a zero state and keeps only its end state
  ``l_j``; the block transition ``M_j`` (the end state reached from each unit start state with zero input,
  from the same recursion) carries the true block-end states, ``s_j = M_j s_{j-1} + l_j`` (``nb`` small
  steps); pass 2 reruns every block from its true start state and keeps the outputs. Both passes are the
  plain recursion; :func:`_allpole` adds one refinement step on top.
  """
  bsz, length = v.shape
  n = a.shape[-1]
  varying = a.ndim == 3
  dtype = v.dtype
  nb = _n_blocks(bsz, length, n)
  tb = -(-length // nb)
  w = bsz * nb
  pad = nb * tb - length
  # lanes are (row, block) pairs, time-major: vt[t, b * nb + j] = v[b, j * tb + t]
  vt = jnp.pad(v, ((0, 0), (0, pad))).reshape(w, tb).T
  if varying:
    at = jnp.pad(a, ((0, 0), (0, pad), (0, 0))).reshape(w, tb, n).transpose(1, 2, 0)  # (T, N, W)
    coef = at
  elif a.shape[0] == 1:
    coef = tuple(a[0, k] for k in range(n))
  else:
    coef = tuple(jnp.repeat(a[:, k], nb) for k in range(n))
  zeros = tuple(jnp.zeros((w,), dtype) for _ in range(n))
  if nb > 1:
    eye = jnp.eye(n, dtype=dtype)
    if varying:
      # pass 1 with N extra lanes per block for the unit start states: hist_k is (W, 1 + N)
      vt1 = jnp.concatenate([vt[..., None], jnp.zeros((tb, w, n), dtype)], axis=-1)
      hist0 = tuple(jnp.broadcast_to(jnp.concatenate([jnp.zeros((1,), dtype), eye[k]]), (w, n + 1)) for k in range(n))
      ends, _ = _recursion(vt1, at[..., None], hist0, outputs=False)
      ends = jnp.stack(ends, axis=1).reshape(bsz, nb, n, n + 1)  # [..., k, 0]: l_j; [..., k, i]: M_j[k, i]
      loc, mmat = ends[..., 0], ends[..., 1:]
    else:
      ends, _ = _recursion(vt, coef, zeros, outputs=False)
      loc = jnp.stack(ends, axis=-1).reshape(bsz, nb, n)
      mmat = tuple(jnp.broadcast_to(m[:, None], (bsz, nb, n, n)) for m in _transition(a, tb))  # double-float pair
    if not isinstance(mmat, tuple):
      mmat = (mmat, jnp.zeros_like(mmat))

    def carry(state, inp):
      # s_j = M_j s_{j-1} + l_j in double-float arithmetic (pairs of ``dtype``): the carried states of a
      # lightly damped low-frequency filter are nearly collinear, and plain float32 here costs a digit.
      (m_hi, m_lo), l = inp
      prod = _dd_mul((m_hi, m_lo), (state[0][:, None, :], state[1][:, None, :]))  # (B, N, N)
      acc = (l, jnp.zeros_like(l))
      for i in range(n):
        acc = _dd_add(acc, (prod[0][..., i], prod[1][..., i]))
      return acc, acc[0] + acc[1]

    zero = jnp.zeros((bsz, n), dtype)
    _, states = jax.lax.scan(carry, (zero, zero), (tuple(jnp.moveaxis(m, 1, 0) for m in mmat), jnp.moveaxis(loc, 1, 0)))
    start = jnp.concatenate([jnp.zeros_like(states[:1]), states[:-1]], axis=0)  # (nb, B, N)
    start = jnp.moveaxis(start, 0, 1).reshape(w, n)
    zeros = tuple(start[:, k] for k in range(n))
  _, y = _recursion(vt, coef, zeros, outputs=True)
  return y.T.reshape(bsz, nb * tb)[:, :length]


# Every block matmul asks for full float32 products: JAX's default precision lets GPUs round float32 matmul
# inputs to TF32 (10 mantissa bits) and TPUs to bfloat16 (7), which no refinement step repairs for lightly
# damped filters (emulated: a 50 Hz, Q = 5 peaking biquad at 44.1 kHz errs 1.6e2 × its peak with TF32 inputs,
# NaN with bfloat16; 2.6e-4 in float32, scipy's float32 3.2e-4). CPU computes float32 either way.
_F32 = jax.lax.Precision.HIGHEST


def _block_size(n_order: int) -> int:
  if n_order <= 2:
    return 64  # biquads: measured as accurate as 128 after refinement, half the flops
  return max(128, 1 << math.ceil(math.log2(4 * n_order)))


def _impulse_response(a: jax.Array, length: int) -> jax.Array:
  """``h[t]`` of ``1 / (1 + Σ a_k z^-k)`` for ``t < length``; ``a`` is ``(Ba, N)`` -> ``(Ba, length)``."""
  ba, n = a.shape

  def step(hist, t):
    h = jnp.where(t == 0, 1.0, 0.0).astype(a.dtype) - jnp.sum(a * hist, axis=-1)
    hist = jnp.concatenate([h[:, None], hist[:, :-1]], axis=-1)
    return hist, h

  _, h = jax.lax.scan(step, jnp.zeros((ba, n), a.dtype), jnp.arange(length), unroll=8)
  return h.T


def _blocked_allpole(v: jax.Array, a: jax.Array) -> jax.Array:
  """``y[n] = v[n] - Σ_k a[k-1] y[n-k]`` from a zero state, block-parallel (constant coefficients; the fastest
  form on CPU, see the module docstring). ``v`` is ``(B, L)``; ``a`` is ``(Ba, N)``, ``Ba`` 1 or B."""
  bsz, length = v.shape
  ba, n = a.shape
  tb = _block_size(n)
  nblk = -(-length // tb)
  h = _impulse_response(a, tb)  # (Ba, T)
  idx = np.arange(tb)[:, None] - np.arange(tb)[None, :]
  hmat = jnp.where(idx >= 0, h[:, np.clip(idx, 0, None)], 0.0)  # (Ba, T, T): hmat[t, s] = h[t - s]
  vb = jnp.pad(v, ((0, 0), (0, nblk * tb - length))).reshape(bsz, nblk, tb)
  if ba == 1:
    y_loc = jnp.matmul(vb, hmat[0].T, precision=_F32)  # (B, nb, T)
  else:
    y_loc = jnp.einsum("bjs,bts->bjt", vb, hmat, precision=_F32)
  if nblk == 1:
    return y_loc.reshape(bsz, tb)[:, :length]
  # Excitation map: the state s = (y[-1], ..., y[-N]) acts on a block as e[m] = Σ_i E[m, i] s_i.
  mi = np.arange(n)[:, None] + np.arange(n)[None, :]
  emat = jnp.where(mi < n, -a[:, np.clip(mi, None, n - 1)], 0.0)  # (Ba, N, N)
  # Block transition: the end state (y[T-1], ..., y[T-N]) of the zero-input response, M = Hend @ E.
  ti = tb - 1 - mi
  hend = h[:, ti]  # (Ba, N, N): h[T-1-i-m]
  mmat = jnp.matmul(hend, emat, precision=_F32)
  local = y_loc[..., ::-1][..., :n]  # (B, nb, N) zero-state end states

  def carry_step(state, loc):
    state = (jnp.matmul(state, mmat[0].T, precision=_F32) if ba == 1
             else jnp.einsum("bmn,bn->bm", mmat, state, precision=_F32)) + loc
    return state, state

  # The one sequential part: n_blocks steps on (B, N) states (n_samples / T tiny steps).
  _, states = jax.lax.scan(carry_step, jnp.zeros((bsz, n), v.dtype), jnp.moveaxis(local, 1, 0))  # (nb, B, N)
  prev = jnp.concatenate([jnp.zeros_like(states[:1]), states[:-1]], axis=0)
  if ba == 1:
    exc = jnp.einsum("mi,jbi->bjm", emat[0], prev, precision=_F32)  # (B, nb, N)
  else:
    exc = jnp.einsum("bmi,jbi->bjm", emat, prev, precision=_F32)
  if ba == 1:
    corr = jnp.matmul(exc, hmat[0, :, :n].T, precision=_F32)
  else:
    corr = jnp.einsum("bjm,btm->bjt", exc, hmat[:, :, :n], precision=_F32)
  return (y_loc + corr).reshape(bsz, nblk * tb)[:, :length]

def _shift_coef(a: jax.Array) -> jax.Array:
  """Adjoint coefficients of a time-varying all-pole filter: ``ã[m, k-1] = a[m+k, k-1]`` (zero past the end)."""
  length, n = a.shape[-2], a.shape[-1]
  cols = [jnp.pad(a[..., k:, k - 1], [(0, 0)] * (a.ndim - 2) + [(0, k)]) if k < length
          else jnp.zeros(a.shape[:-1], a.dtype) for k in range(1, n + 1)]
  return jnp.stack(cols, axis=-1)


def _tv_matvec(y: jax.Array, a: jax.Array) -> jax.Array:
  """``y[n] + Σ_k a[n, k-1] y[n-k]`` for ``y`` ``(B, L)`` and ``a`` ``(B | 1, L | 1, N)``."""
  out = y
  for k in range(1, a.shape[-1] + 1):
    out = out + a[..., k - 1] * _shift(y, k)
  return out


def _allpole(v: jax.Array, a: jax.Array) -> jax.Array:
  """The all-pole filter ``A⁻¹ v`` as ``lax.custom_linear_solve`` (``A`` the banded lower-triangular matrix
  ``y ↦ y + Σ_k a_k y[n-k]``). ``v`` ``(B, L)``; ``a`` ``(1 | B, N)`` or ``(B, L, N)``.

  Forward mode: ``ẏ = A⁻¹ (v̇ - Ȧ y)``; reverse mode by transposition: the cotangent goes through ``A⁻ᵀ``,
  the same filter run backwards in time (time-varying: with shifted coefficients), and ``∂L/∂a_k`` is the
  transpose of ``Ȧ y``, ``-Σ_n u[n] y[n-k]``. Every solve is the forward engine plus one refinement step.
  """
  varying = a.ndim == 3

  def matvec(y):
    return _tv_matvec(y, a) if varying else _tv_matvec(y, a[:, None, :])

  def refined(rhs, coef, apply_a):
    # One step of iterative refinement: the residual of the difference equation, computed directly (a
    # short FIR), is filtered again and added. Without it, long signals through lightly damped
    # low-frequency filters (a 30 Hz, Q = 20 peaking biquad at 44.1 kHz, 10 s) err up to 28 × scipy's
    # float32 run; with it they stay at the sequential recursion's level.
    engine = _chunked_allpole if coef.ndim == 3 else _blocked_allpole
    y = engine(rhs, coef)
    if coef.ndim == 3 and _n_blocks(rhs.shape[0], rhs.shape[1], coef.shape[-1]) == 1:
      return y  # one block: the sequential recursion itself, nothing to refine
    return y + engine(rhs - apply_a(y), coef)

  def solve(_, rhs):
    return refined(rhs, a, matvec)

  def transpose_solve(_, rhs):
    if not varying:
      return refined(rhs[:, ::-1], a, matvec)[:, ::-1]
    adj = _shift_coef(a)[:, ::-1]
    return refined(rhs[:, ::-1], adj, lambda y: _tv_matvec(y, adj))[:, ::-1]

  return jax.lax.custom_linear_solve(matvec, v, solve, transpose_solve)


def _apply_allpole(v: jax.Array, a: jax.Array) -> jax.Array:
  """Broadcasts ``v`` (``(..., L)``) and ``a`` (``(..., N)``) and runs the all-pole recursion."""
  batch = jnp.broadcast_shapes(v.shape[:-1], a.shape[:-1])
  v2 = jnp.broadcast_to(v, batch + v.shape[-1:]).reshape((-1, v.shape[-1]))
  if a.ndim > 1 and any(s != 1 for s in a.shape[:-1]):
    a2 = jnp.broadcast_to(a, batch + a.shape[-1:]).reshape((-1, a.shape[-1]))
  else:
    a2 = a.reshape((1, a.shape[-1]))
  return _allpole(v2, a2).reshape(batch + v.shape[-1:])


# ----------------------------------------------------------------------------------------------------------------
# FFT convolution
# ----------------------------------------------------------------------------------------------------------------


def _fft_len(n: int) -> int:
  return _core.next_fast_len(n)


@jax.jit
def _conv_full(x: jax.Array, h: jax.Array) -> jax.Array:
  n = x.shape[-1] + h.shape[-1] - 1
  nfft = _fft_len(n)
  spec = jnp.fft.rfft(x, n=nfft) * jnp.fft.rfft(h, n=nfft)
  return jnp.fft.irfft(spec, n=nfft)[..., :n]


def fftconvolve(x: ArrayLike, h: ArrayLike, *, mode: str = "full") -> jax.Array:
  """Linear convolution of two signals along the last axis by FFT, ``y[n] = Σ_k x[k] h[n-k]``.

  Leading axes of ``x`` and ``h`` broadcast against each other. The FFT length is the next fast
  size at or above ``n_x + n_h - 1``.

  Args:
    x: ``(..., n_x)`` signal.
    h: ``(..., n_h)`` second signal (impulse response).
    mode: ``"full"`` (``n_x + n_h - 1`` samples), ``"same"`` (``n_x`` samples, centred on the full
      output as scipy does) or ``"valid"`` (``|n_x - n_h| + 1`` samples, where neither is zero-padded).

  Returns:
    ``(..., n_out)``, the broadcast batch shape.

  Raises:
    ValueError: unknown ``mode``, empty or rank-0 inputs.
    TypeError: non-floating inputs.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.fftconvolve(jnp.array([1., 2., 3.]), jnp.array([0., 1., 0.5])).round(4).tolist()
    [0.0, 1.0, 2.5, 4.0, 1.5]

  Compare ``scipy.signal.fftconvolve`` (1-D along the last axis).
  """
  x = _checks.as_signal(x, "x")
  h = _checks.as_signal(h, "h")
  _checks.choice(mode, "mode", ("full", "same", "valid"))
  full = _conv_full(x, h)
  nx, nh = x.shape[-1], h.shape[-1]
  if mode == "full":
    return full
  size = nx if mode == "same" else abs(nx - nh) + 1
  start = (full.shape[-1] - size) // 2
  return full[..., start:start + size]


def fir_filter(x: ArrayLike, *, h: ArrayLike) -> jax.Array:
  """Causal FIR filtering, ``y[n] = Σ_k h[k] x[n-k]`` with zeros before the start; same length as ``x``.

  Equal to ``lfilter(x, b=h, a=[1.0])``. Short filters (≤ 32 taps) run as shifted sums, longer ones
  by FFT convolution. Differentiable in ``x`` and ``h`` (both linear).

  Args:
    x: ``(..., n_samples)`` signal.
    h: ``(..., n_taps)`` impulse response; leading axes broadcast against ``x``'s.

  Returns:
    ``(..., n_samples)``.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.fir_filter(jnp.array([1., 0., 0., 2.]), h=jnp.array([0.5, 0.5])).tolist()
    [0.5, 0.5, 0.0, 1.0]

  Compare ``scipy.signal.lfilter(h, [1.0], x)``.
  """
  x = _checks.as_signal(x, "x")
  h = _coeffs(h, "h")
  return _fir(x, h)


def _fir(x: jax.Array, b: jax.Array) -> jax.Array:
  nb = b.shape[-1]
  if nb <= _FIR_DIRECT_MAX:
    out = b[..., 0:1] * x
    for k in range(1, nb):
      out = out + b[..., k:k + 1] * _shift(x, k)
    return out
  return _conv_full(x, b)[..., :x.shape[-1]]


# ----------------------------------------------------------------------------------------------------------------
# lfilter, lfilter_zi, sosfilt, filtfilt
# ----------------------------------------------------------------------------------------------------------------


def lfilter(x: ArrayLike, *, b: ArrayLike, a: ArrayLike, zi: ArrayLike | None = None,
            axis: int = -1) -> jax.Array | tuple[jax.Array, jax.Array]:
  """IIR/FIR filtering by the difference equation, scipy's ``lfilter``.

  ``a[0] y[n] = Σ_{k=0}^{M} b[k] x[n-k] - Σ_{k=1}^{N} a[k] y[n-k]`` (coefficients normalised by
  ``a[0]``), realised as scipy's transposed direct form II: with initial conditions ``zi`` the
  output gains ``zi[n]`` at ``n < order`` and the final state ``zf`` is returned. The recursion is
  block-parallel in time and its derivatives with respect to ``x``, ``b``,
  ``a`` and ``zi`` are exact in both modes (``jax.grad``/``jax.vjp`` run the adjoint filter backwards
  in time; ``jax.jvp``/``jax.jacfwd`` filter the tangent); see the module docstring. The filter
  is not checked for stability: an unstable ``a`` gives a growing output, as in scipy.

  Args:
    x: ``(..., n_samples)`` signal (time on ``axis``).
    b: ``(..., M + 1)`` numerator coefficients; leading axes broadcast against ``x``'s batch axes.
    a: ``(..., N + 1)`` denominator coefficients, ``a[..., 0] != 0``; leading axes likewise.
    zi: initial state of shape ``(..., max(M, N))`` (the batch shape of ``x``, order on ``axis``),
      or ``None`` for a zero state. ``lfilter_zi`` gives the steady-state one.
    axis: the time axis of ``x`` (and the state axis of ``zi``/``zf``).

  Returns:
    ``y`` with ``x``'s shape (batch broadcast with the coefficients'), or ``(y, zf)`` when ``zi`` is
    given.

  Raises:
    ValueError: ``a[0] == 0`` (when ``a`` is concrete), empty or non-finite host inputs, a ``zi``
      whose shape does not broadcast to ``(..., order)``, a bad ``axis``.
    TypeError: non-floating ``x``.

  Examples:
    >>> import jaxdsp as jd
    >>> x = jnp.array([1., 0., 0., 0.])
    >>> jd.lfilter(x, b=jnp.array([1.]), a=jnp.array([1., -0.5])).tolist()   # impulse response of 1/(1 - 0.5 z⁻¹)
    [1.0, 0.5, 0.25, 0.125]
    >>> y, zf = jd.lfilter(x, b=jnp.array([1.]), a=jnp.array([1., -0.5]), zi=jnp.array([1.]))
    >>> y.tolist(), zf.tolist()
    ([2.0, 1.0, 0.5, 0.25], [0.125])

  References:
    A. V. Oppenheim & R. W. Schafer, *Discrete-Time Signal Processing*, 3rd ed., §6.5 (transposed
    direct form II). Compare ``scipy.signal.lfilter`` and ``torchaudio.functional.lfilter`` (which
    clamps to [-1, 1] by default; this does not).
  """
  x = _checks.as_signal(x, "x")
  b = _coeffs(b, "b")
  a = _coeffs(a, "a")
  _check_a0(a)
  if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or not -x.ndim <= axis < x.ndim:
    raise ValueError(f"axis must be an int in [{-x.ndim}, {x.ndim}) for x of shape {x.shape}, got {axis!r}")
  axis = int(axis) % x.ndim
  x = jnp.moveaxis(x, axis, -1)
  dtype = jnp.result_type(x, b, a)
  x, b, a = x.astype(dtype), b.astype(dtype), a.astype(dtype)
  for name, c in (("b", b), ("a", a)):
    try:
      jnp.broadcast_shapes(c.shape[:-1], x.shape[:-1])
    except ValueError:
      raise ValueError(f"{name}'s leading (batch) axes {c.shape[:-1]} do not broadcast against the batch axes "
                       f"{x.shape[:-1]} of x") from None
  order = max(b.shape[-1], a.shape[-1]) - 1
  if zi is not None:
    zi = _checks.as_signal(zi, "zi")
    if zi.ndim == x.ndim:
      zi = jnp.moveaxis(zi, axis, -1)
    if order == 0 or zi.shape[-1] != order:
      raise ValueError(f"zi must have {order} state(s) on axis {axis} (max(len(a), len(b)) - 1), got shape "
                       f"{tuple(zi.shape)}")
    try:
      jnp.broadcast_shapes(zi.shape[:-1], x.shape[:-1])
    except ValueError:
      raise ValueError(f"zi's batch shape {zi.shape[:-1]} does not broadcast against x's {x.shape[:-1]}") from None
    zi = zi.astype(dtype)
  y, zf = _lfilter_core(x, b, a, zi)
  if zi is None:
    return jnp.moveaxis(y, -1, axis)
  return jnp.moveaxis(y, -1, axis), jnp.moveaxis(zf, -1, axis)


@jax.jit
def _lfilter_core(x, b, a, zi):
  """The traced part of :func:`lfilter` (time last, checked arguments); compiled once per shape."""
  a0 = a[..., :1]
  b = b / a0
  a = a / a0
  order = max(b.shape[-1], a.shape[-1]) - 1
  length = x.shape[-1]
  v = _fir(x, b)
  if zi is not None:
    nz = min(order, length)
    exc = jnp.pad(zi[..., :nz], [(0, 0)] * (zi.ndim - 1) + [(0, length - nz)])
    v = v + exc
  if a.shape[-1] > 1:
    y = _apply_allpole(v, a[..., 1:])
  else:
    y = v
  if zi is None:
    return y, None
  return y, _final_state(x, y, b, a, zi, order)


def _final_state(x, y, b, a, zi, order):
  """``zf[i] = Σ_{k=i+1}^{N} (b_k x[L+i-k] - a_k y[L+i-k]) + zi[i+L]`` (the last only while ``i + L < N``)."""
  length = x.shape[-1]
  bp = jnp.pad(b, [(0, 0)] * (b.ndim - 1) + [(0, order + 1 - b.shape[-1])])
  ap = jnp.pad(a, [(0, 0)] * (a.ndim - 1) + [(0, order + 1 - a.shape[-1])])
  pad = [(0, 0)] * (x.ndim - 1) + [(order, 0)]
  xt = jnp.pad(x, pad)[..., -order:]  # xt[j] = x[L - N + j]
  yt = jnp.pad(y, [(0, 0)] * (y.ndim - 1) + [(order, 0)])[..., -order:]
  zf = []
  for i in range(order):
    acc = 0.0
    for j in range(i, order):
      k = order + i - j
      acc = acc + bp[..., k] * xt[..., j] - ap[..., k] * yt[..., j]
    if i + length < order:
      acc = acc + zi[..., i + length]
    zf.append(acc)
  return jnp.stack(jnp.broadcast_arrays(*zf), axis=-1)


def lfilter_zi(*, b: ArrayLike, a: ArrayLike) -> jax.Array:
  """Steady-state initial state of ``lfilter`` for a unit step input (scipy's ``lfilter_zi``).

  Solves ``(I - Aᵀ) zi = b[1:] - a[1:] b[0]`` with ``A`` the companion matrix of the normalised
  ``a``; scale it by the first sample (``zi * x[..., :1]``) to start a filter in its steady state.

  Args:
    b: ``(..., M + 1)`` numerator coefficients.
    a: ``(..., N + 1)`` denominator coefficients, ``a[..., 0] != 0``.

  Returns:
    ``(..., max(M, N))``.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.lfilter_zi(b=jnp.array([0.5]), a=jnp.array([1., -0.5])).tolist()
    [0.5]

  Compare ``scipy.signal.lfilter_zi``.
  """
  b = _coeffs(b, "b")
  a = _coeffs(a, "a")
  _check_a0(a)
  dtype = jnp.result_type(b, a)
  b, a = b.astype(dtype), a.astype(dtype)
  n = max(b.shape[-1], a.shape[-1])
  if n == 1:
    raise ValueError("b and a must describe a filter of order >= 1 (max(len(a), len(b)) > 1)")
  b = b / a[..., :1]
  a = a / a[..., :1]
  b = jnp.pad(b, [(0, 0)] * (b.ndim - 1) + [(0, n - b.shape[-1])])
  a = jnp.pad(a, [(0, 0)] * (a.ndim - 1) + [(0, n - a.shape[-1])])
  batch = jnp.broadcast_shapes(b.shape[:-1], a.shape[:-1])
  b = jnp.broadcast_to(b, batch + (n,))
  a = jnp.broadcast_to(a, batch + (n,))
  # companion(a).T: first column -a[1:], superdiagonal ones
  comp_t = jnp.zeros(batch + (n - 1, n - 1), dtype).at[..., :, 0].set(-a[..., 1:])
  if n > 2:
    comp_t = comp_t + jnp.eye(n - 1, k=1, dtype=dtype)
  rhs = b[..., 1:] - a[..., 1:] * b[..., :1]
  return jnp.linalg.solve(jnp.eye(n - 1, dtype=dtype) - comp_t, rhs[..., None])[..., 0]


def sosfilt(x: ArrayLike, *, sos: ArrayLike, zi: ArrayLike | None = None) -> jax.Array | tuple[jax.Array, jax.Array]:
  """Cascaded second-order sections (scipy's ``sosfilt``) along the last axis.

  Each row ``[b0, b1, b2, a0, a1, a2]`` of ``sos`` is one biquad run by :func:`lfilter` (normalised by
  its ``a0``); the sections run one after the other. Better conditioned than one high-order
  ``lfilter`` for the same filter.

  Args:
    x: ``(..., n_samples)`` signal.
    sos: ``(..., n_sections, 6)`` sections; leading axes broadcast against ``x``'s batch axes.
    zi: ``(n_sections, ..., 2)`` initial states (scipy's layout), or ``None``.

  Returns:
    ``y`` of ``x``'s shape, or ``(y, zf)`` with ``zf`` shaped like ``zi`` when ``zi`` is given.

  Raises:
    ValueError: ``sos`` not of shape ``(..., n_sections, 6)``, a ``zi`` of the wrong shape, ``a0 == 0``.

  Examples:
    >>> import jaxdsp as jd
    >>> sos = jnp.array([[1., 0., 0., 1., -0.5, 0.], [1., 0., 0., 1., -0.5, 0.]])   # two 1/(1 - 0.5 z⁻¹)
    >>> jd.sosfilt(jnp.array([1., 0., 0.]), sos=sos).tolist()
    [1.0, 1.0, 0.75]

  Compare ``scipy.signal.sosfilt``.
  """
  x = _checks.as_signal(x, "x")
  sos = _coeffs(sos, "sos")
  if sos.ndim < 2 or sos.shape[-1] != 6:
    raise ValueError(f"sos must have shape (..., n_sections, 6), got {tuple(sos.shape)}")
  _check_a0(sos, name="sos", col=3)
  n_sections = sos.shape[-2]
  if zi is not None:
    zi = _checks.as_signal(zi, "zi")
    if zi.ndim < 2 or zi.shape[0] != n_sections or zi.shape[-1] != 2:
      raise ValueError(f"zi must have shape (n_sections={n_sections}, ..., 2), got {tuple(zi.shape)}")
  y = x
  zfs = []
  for i in range(n_sections):
    sec = sos[..., i, :]
    if zi is None:
      y = lfilter(y, b=sec[..., :3], a=sec[..., 3:])
    else:
      y, zf = lfilter(y, b=sec[..., :3], a=sec[..., 3:], zi=zi[i])
      zfs.append(zf)
  if zi is None:
    return y
  return y, jnp.stack(jnp.broadcast_arrays(*zfs), axis=0)


def _extend(x: jax.Array, n: int, padtype: str | None) -> jax.Array:
  if padtype is None or n == 0:
    return x
  left, right = x[..., 1:n + 1][..., ::-1], x[..., -n - 1:-1][..., ::-1]
  if padtype == "odd":
    return jnp.concatenate([2 * x[..., :1] - left, x, 2 * x[..., -1:] - right], axis=-1)
  if padtype == "even":
    return jnp.concatenate([left, x, right], axis=-1)
  return jnp.concatenate([jnp.repeat(x[..., :1], n, axis=-1), x, jnp.repeat(x[..., -1:], n, axis=-1)], axis=-1)


def filtfilt(x: ArrayLike, *, b: ArrayLike, a: ArrayLike, padtype: str | None = "odd",
             padlen: int | None = None) -> jax.Array:
  """Zero-phase filtering: forward then backward ``lfilter`` with scipy's edge handling (``filtfilt``).

  The signal is extended by ``padlen`` samples at both ends (odd/even/constant extension), filtered
  forwards from the steady state ``lfilter_zi * x_ext[0]``, reversed, filtered again from
  ``lfilter_zi * y[-1]``, reversed back and trimmed. The magnitude response is ``|H|²``, the phase
  zero.

  Args:
    x: ``(..., n_samples)`` signal; ``n_samples > padlen``.
    b: ``(..., M + 1)`` numerator coefficients.
    a: ``(..., N + 1)`` denominator coefficients.
    padtype: ``"odd"``, ``"even"``, ``"constant"`` or ``None`` (no extension).
    padlen: extension length; default ``3 * max(len(a), len(b))`` as scipy.

  Returns:
    ``(..., n_samples)``.

  Raises:
    ValueError: unknown ``padtype``, ``padlen`` negative or not shorter than the signal.

  Examples:
    >>> import jaxdsp as jd
    >>> y = jd.filtfilt(jnp.ones(16), b=jnp.array([0.2]), a=jnp.array([1., -0.8]))   # DC gain 1
    >>> jnp.round(y[:3], 4).tolist()
    [1.0, 1.0, 1.0]

  Compare ``scipy.signal.filtfilt`` (``method="pad"``).
  """
  x = _checks.as_signal(x, "x")
  b = _coeffs(b, "b")
  a = _coeffs(a, "a")
  _check_a0(a)
  _checks.choice(padtype, "padtype", ("odd", "even", "constant", None))
  ntaps = max(b.shape[-1], a.shape[-1])
  if padtype is None:
    padlen = 0
  elif padlen is None:
    padlen = 3 * ntaps
  padlen = _checks.nonnegative_int(padlen, "padlen")
  if x.shape[-1] <= padlen:
    raise ValueError(f"x must be longer than padlen={padlen} samples, got {x.shape[-1]}")
  ext = _extend(x, padlen, padtype)
  if ntaps == 1:
    y = lfilter(ext, b=b, a=a)
    y = lfilter(y[..., ::-1], b=b, a=a)[..., ::-1]
  else:
    zi = lfilter_zi(b=b, a=a)
    y, _ = lfilter(ext, b=b, a=a, zi=zi * ext[..., :1])
    y, _ = lfilter(y[..., ::-1], b=b, a=a, zi=zi * y[..., -1:])
    y = y[..., ::-1]
  return y[..., padlen:y.shape[-1] - padlen]


# ----------------------------------------------------------------------------------------------------------------
# time-varying all-pole filter
# ----------------------------------------------------------------------------------------------------------------


def time_varying_allpole(x: ArrayLike, *, a: ArrayLike) -> jax.Array:
  """All-pole filter whose coefficients change every sample, ``y[n] = x[n] - Σ_{k=1}^{N} a[n, k] y[n-k]``.

  The building block of LPC synthesis and of time-varying resonators (``a[..., n, :]`` are the
  denominator coefficients ``a_1 … a_N`` in effect at sample ``n``, ``a_0 = 1``; the state starts at
  zero). It runs as a chunked scan (parallel over blocks of the signal, the
  sequential recursion within each block, per-block transitions carrying the state), equal to the
  sequential recursion to round-off. Both differentiation modes work: reverse mode runs the adjoint
  time-varying filter backwards (``u[n] = g[n] - Σ_k a[n+k, k] u[n+k]``, ``∂L/∂a[n, k] = -u[n] y[n-k]``),
  forward mode filters the tangent; stable whenever the forward filter is.

  Args:
    x: ``(..., n_samples)`` excitation.
    a: ``(..., n_samples, order)`` per-sample coefficients; leading axes broadcast against ``x``'s.

  Returns:
    ``(..., n_samples)``.

  Raises:
    ValueError: ``a`` not of shape ``(..., n_samples, order)``.

  Examples:
    >>> import jaxdsp as jd
    >>> a = jnp.array([[-0.5], [-0.5], [0.0], [-1.0]])        # pole 0.5, then none, then 1
    >>> jd.time_varying_allpole(jnp.array([1., 0., 0., 0.]), a=a).tolist()
    [1.0, 0.5, 0.0, 0.0]
  """
  x = _checks.as_signal(x, "x")
  a = _coeffs(a, "a")
  if a.ndim < 2 or a.shape[-2] != x.shape[-1]:
    raise ValueError(f"a must have shape (..., n_samples={x.shape[-1]}, order), got {tuple(a.shape)}")
  dtype = jnp.result_type(x, a)
  batch = jnp.broadcast_shapes(x.shape[:-1], a.shape[:-2])
  x = jnp.broadcast_to(x.astype(dtype), batch + x.shape[-1:])
  a = jnp.broadcast_to(a.astype(dtype), batch + a.shape[-2:])
  return _tv_allpole(x, a)


@jax.jit
def _tv_allpole(x: jax.Array, a: jax.Array) -> jax.Array:
  y = _allpole(x.reshape((-1, x.shape[-1])), a.reshape((-1,) + a.shape[-2:]))
  return y.reshape(x.shape)
