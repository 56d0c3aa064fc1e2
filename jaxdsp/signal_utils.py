"""Signal utilities: channel down-mix, length fixing, normalisation, mu-law, pre-/de-emphasis, zero
crossings, magnitude/phase, autocorrelation and linear prediction.

Layout: time is the last axis and leading axes are batch axes, unless a function takes librosa's
``axis`` argument (``fix_length``, ``normalize``, ``zero_crossings``, ``autocorrelate``, ``lpc``), in
which case it works along that axis. Every function is a pure JAX function (jit, vmap); gradients
are exact where the function is smooth, and each docstring says where it is not. Names, defaults
and results follow librosa 0.11.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from jaxdsp import _checks
from jaxdsp import _core


def _axis(axis: Any, ndim: int, name: str = "axis") -> int:
  if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or not -ndim <= axis < ndim:
    raise ValueError(f"{name} must be an int in [-{ndim}, {ndim}), got {axis!r}")
  return int(axis) % ndim


def _host_range(x: Any, name: str, lo: float, hi: float) -> None:
  """Refuses host values outside ``[lo, hi]`` (device arrays are not read back)."""
  if isinstance(x, (np.ndarray, list, tuple, float, int, np.generic)):
    arr = np.asarray(x)
    if arr.size and (np.any(arr < lo) or np.any(arr > hi)):
      raise ValueError(f"{name} must lie in [{lo:g}, {hi:g}], got values in [{arr.min():g}, {arr.max():g}]")


def to_mono(y: ArrayLike) -> jax.Array:
  """Down-mixes ``(..., n_channels, n_samples)`` to ``(..., n_samples)`` by averaging the channels.

  A 1-D signal is returned as it is. For a 2-D ``(channels, n)`` input this is librosa's
  ``to_mono``; for more dimensions librosa averages every leading axis, whereas here only axis -2
  (the channels) is averaged and the leading axes stay batch axes. Linear, so differentiable.

  Args:
    y: ``(n,)`` or ``(..., n_channels, n)`` signal.

  Returns:
    ``(n,)`` or ``(..., n)``.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.to_mono(jnp.array([[1.0, 2.0], [3.0, 4.0]])).tolist()
    [2.0, 3.0]

  Compare ``librosa.to_mono``.
  """
  y = _checks.as_signal(y)
  return y if y.ndim == 1 else jnp.mean(y, axis=-2)


def fix_length(data: ArrayLike, *, size: int, axis: int = -1, **kwargs: Any) -> jax.Array:
  """Trims or pads ``data`` along ``axis`` to exactly ``size`` entries.

  Longer input is cut at ``size``; shorter input is padded at the end by ``jnp.pad`` with
  ``kwargs`` (``mode="constant"`` by default; ``constant_values`` etc. as NumPy). Linear for the
  constant mode, so differentiable.

  Args:
    data: any array.
    size: the target length, a non-negative int (static).
    axis: the axis to fix.
    **kwargs: passed to ``jnp.pad``.

  Returns:
    ``data`` with ``shape[axis] == size``.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.fix_length(jnp.arange(5.0), size=7).tolist(), jd.fix_length(jnp.arange(5.0), size=2).tolist()
    ([0.0, 1.0, 2.0, 3.0, 4.0, 0.0, 0.0], [0.0, 1.0])

  Compare ``librosa.util.fix_length``.
  """
  _checks.numbers(data, "data", allow_complex=True)
  data = jnp.asarray(data)
  if data.ndim == 0:
    raise ValueError(f"data must have at least 1 dimension, got shape {data.shape}")
  size = _checks.nonnegative_int(size, "size")
  if size > _checks.INT32_MAX:
    raise ValueError(f"size must be at most 2**31 - 1 (JAX indexes with int32), got {size}")
  axis = _axis(axis, data.ndim)
  n = data.shape[axis]
  if n > size:
    return jax.lax.slice_in_dim(data, 0, size, axis=axis)
  if n < size:
    kwargs.setdefault("mode", "constant")
    widths = [(0, 0)] * data.ndim
    widths[axis] = (0, size - n)
    return jnp.pad(data, widths, **kwargs)
  return data


def normalize(S: ArrayLike, *, norm: float | None = np.inf, axis: int | None = 0, threshold: float | None = None,
              fill: bool | None = None) -> jax.Array:
  """Normalises ``S`` so that each slice along ``axis`` has unit ``norm``.

  ``norm``: ``inf`` (max |S|), ``-inf`` (min |S|), ``0`` (number of non-zeros), a positive ``p``
  (the p-norm) or ``None`` (``S`` unchanged). Slices whose norm is below ``threshold`` (default: the
  dtype's smallest normal number) are left as they are (``fill=None``), set to zero
  (``fill=False``), or filled with the constant of unit norm (``fill=True``; not with ``norm=0``).
  Gradients: exact for p-norms; the max/min norms pass the gradient through the selected entry;
  ``norm=0`` counts entries, a piecewise-constant length.

  Args:
    S: real or complex floating array (at least 1-d unless ``axis`` is ``None``).
    norm: see above.
    axis: the axis to normalise along (librosa's default 0), or ``None`` for the whole array.
    threshold: positive number or ``None``.
    fill: ``None``, ``False`` or ``True``.

  Returns:
    ``S`` normalised, same shape and dtype.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.normalize(jnp.array([[1.0, -4.0], [2.0, 2.0]])).tolist()
    [[0.5, -1.0], [1.0, 0.5]]

  Compare ``librosa.util.normalize``.
  """
  S = _checks.as_signal(S, "S", min_ndim=0 if axis is None else 1, allow_complex=True)
  if axis is not None:
    axis = _axis(axis, max(S.ndim, 1))
  if fill not in (None, False, True):
    raise ValueError(f"fill must be None, False or True, got {fill!r}")
  real = jnp.real(S).dtype if jnp.iscomplexobj(S) else S.dtype
  if threshold is None:
    threshold = float(jnp.finfo(real).tiny)
  else:
    threshold = _checks.positive_number(threshold, "threshold")
  if norm is None:
    return S
  mag = jnp.abs(S)
  size = S.size if axis is None else S.shape[axis]
  fill_norm = 1.0
  if isinstance(norm, bool) or not isinstance(norm, (int, float, np.integer, np.floating)) or np.isnan(norm):
    raise ValueError(f"norm must be inf, -inf, 0, a positive number or None, got {norm!r}")
  if norm == np.inf:
    length = jnp.max(mag, axis=axis, keepdims=True)
  elif norm == -np.inf:
    length = jnp.min(mag, axis=axis, keepdims=True)
  elif norm == 0:
    if fill is True:
      raise ValueError("fill=True cannot be used with norm=0")
    length = jnp.sum(mag > 0, axis=axis, keepdims=True).astype(real)
  elif norm > 0:
    length = jnp.sum(mag**norm, axis=axis, keepdims=True) ** (1.0 / norm)
    fill_norm = size ** (-1.0 / norm)
  else:
    raise ValueError(f"norm must be inf, -inf, 0, a positive number or None, got {norm!r}")
  small = length < threshold
  safe = jnp.where(small, 1.0, length)
  if fill is None:
    return S / safe
  out = S / safe
  return jnp.where(small, jnp.asarray(fill_norm if fill else 0.0, out.dtype), out)


def mu_compress(x: ArrayLike, *, mu: float = 255, quantize: bool = True) -> jax.Array:
  """mu-law compression: ``sign(x) · log(1 + mu|x|) / log(1 + mu)``, optionally quantised.

  With ``quantize=True`` the result is an int32 bin index in ``[-(mu + 1)/2, (mu + 1)/2]``
  (``digitize`` against ``1 + mu`` evenly spaced edges, as librosa): piecewise constant, with zero
  gradient. With ``quantize=False`` the float result is differentiable (except at ``x = 0``).

  Args:
    x: signal in ``[-1, 1]`` (host input outside is refused).
    mu: positive compression parameter.
    quantize: return integer bins.

  Returns:
    ``x``'s shape; int32 when ``quantize``, else ``x``'s float dtype.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.mu_compress(jnp.array([-1.0, -0.01, 0.0, 0.5, 1.0])).tolist()
    [-128, -29, 0, 112, 128]

  Compare ``librosa.mu_compress``.
  """
  mu = _checks.positive_number(mu, "mu")
  x_in, x = x, _checks.as_signal(x, "x", min_ndim=0, allow_int=np.ndim(x) == 0)  # a 0-d int: a Python number
  _host_range(x_in, "x", -1.0, 1.0)
  signed = jnp.sign(x) * jnp.log1p(mu * jnp.abs(x))
  if not quantize:
    return signed / np.log1p(mu)
  # librosa digitizes comp = signed / log1p(mu) (float64 division) against 1 + mu edges e: comp > e
  # <=> signed > e · log1p(mu). Each threshold is rounded down to x's dtype so that the comparison of
  # the float32 ``signed`` gives librosa's bins exactly.
  dtype = np.dtype(signed.dtype)
  t = np.linspace(-1, 1, num=int(1 + mu), endpoint=True) * np.log1p(mu)
  t_down = t.astype(dtype)
  t_down = np.where(t_down > t, np.nextafter(t_down, dtype.type(-np.inf)), t_down)
  bins = jnp.searchsorted(jnp.asarray(t_down), jax.lax.stop_gradient(signed), side="left")
  return (bins - int(mu + 1) // 2).astype(jnp.int32)


def mu_expand(x: ArrayLike, *, mu: float = 255.0, quantize: bool = True) -> jax.Array:
  """mu-law expansion, the inverse of :func:`mu_compress`: ``sign(x) · ((1 + mu)^|x| - 1) / mu``.

  With ``quantize=True`` the input holds integer bins and is first scaled by ``2 / (1 + mu)``.
  Differentiable in ``x`` (float input).

  Args:
    x: compressed signal (in ``[-1, 1]`` after the scaling; host input outside is refused).
    mu: positive compression parameter.
    quantize: the input is quantised bins.

  Returns:
    float array of ``x``'s shape in ``[-1, 1]``.

  Examples:
    >>> import jaxdsp as jd
    >>> [round(v, 3) for v in jd.mu_expand(jnp.array([-128, 0, 64, 128])).tolist()]
    [-1.0, 0.0, 0.059, 1.0]

  Compare ``librosa.mu_expand``.
  """
  mu = _checks.positive_number(mu, "mu")
  _checks.numbers(x, "x")
  if isinstance(x, (np.ndarray, list, tuple, float, int, np.generic)):
    xs = np.asarray(x, dtype=float)
    _host_range(xs * 2.0 / (1 + mu) if quantize else xs, "x (scaled by 2 / (1 + mu) when quantize)" if quantize
                else "x", -1.0, 1.0)
  x = jnp.asarray(x)
  if not jnp.issubdtype(x.dtype, jnp.floating):
    x = x.astype(jnp.float32)
  if quantize:
    x = x * 2.0 / (1 + mu)
  return jnp.sign(x) / mu * (jnp.power(1.0 + mu, jnp.abs(x)) - 1.0)


def _coef(coef: Any) -> float:
  if isinstance(coef, bool) or not isinstance(coef, (int, float, np.integer, np.floating)) or not math.isfinite(coef):
    raise ValueError(f"coef must be a finite real number, got {coef!r}")
  return float(coef)


def _zi(zi: Any, y: jax.Array) -> jax.Array:
  zi = jnp.asarray(zi, y.dtype)
  if zi.ndim == 0:
    zi = zi[None]
  try:
    return jnp.broadcast_to(zi, y.shape[:-1] + (1,))
  except ValueError as e:
    raise ValueError(f"zi must broadcast to {y.shape[:-1] + (1,)} (one state per signal), got {zi.shape}") from e


def preemphasis(y: ArrayLike, *, coef: float = 0.97, zi: ArrayLike | None = None,
                return_zf: bool = False) -> jax.Array | tuple[jax.Array, jax.Array]:
  """Pre-emphasis FIR filter ``y'[n] = y[n] - coef · y[n - 1]``.

  The first output is ``y[0] + zi`` (scipy's ``lfilter`` state); the default
  ``zi = 2·y[0] - y[1]`` is librosa's. The final state is ``zf = -coef · y[-1]``. Linear, so
  differentiable.

  Args:
    y: ``(..., n)`` signal, ``n >= 2`` when ``zi`` is ``None``.
    coef: filter coefficient (0: identity; 1: first difference).
    zi: initial state, broadcastable to ``(..., 1)``.
    return_zf: also return the final state ``(..., 1)``.

  Returns:
    ``(..., n)`` filtered signal, and ``zf`` if ``return_zf``.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.preemphasis(jnp.array([1.0, 1.0, 1.0]), coef=0.5).tolist()
    [2.0, 0.5, 0.5]

  Compare ``librosa.effects.preemphasis``.
  """
  y = _checks.as_signal(y)
  coef = _coef(coef)
  if zi is None:
    if y.shape[-1] < 2:
      raise ValueError(f"y must have at least 2 samples when zi is None, got shape {y.shape}")
    zi = 2 * y[..., 0:1] - y[..., 1:2]
  zi = _zi(zi, y)
  prev = jnp.concatenate([jnp.zeros_like(y[..., :1]), y[..., :-1]], axis=-1)
  out = y - coef * prev
  out = out.at[..., 0:1].add(zi)
  return (out, -coef * y[..., -1:]) if return_zf else out


@jax.jit
def _iir1(x: jax.Array, a: float) -> jax.Array:
  """``out[n] = x[n] + a · out[n - 1]`` along the last axis (``out[-1] = 0``), a parallel prefix scan."""
  def combine(left, right):
    return left[0] * right[0], right[0] * left[1] + right[1]
  decay = jnp.full(x.shape, a, x.dtype)
  return jax.lax.associative_scan(combine, (decay, x), axis=x.ndim - 1)[1]


def deemphasis(y: ArrayLike, *, coef: float = 0.97, zi: ArrayLike | None = None,
               return_zf: bool = False) -> jax.Array | tuple[jax.Array, jax.Array]:
  """De-emphasis IIR filter, the inverse of :func:`preemphasis`: ``x[n] = y[n] + coef · x[n - 1]``.

  With ``zi`` the recursion starts from ``x[0] = y[0] + zi``; by default (librosa's) from zero
  state, minus ``((2 - coef)·y[0] - y[1]) / (3 - coef) · coef^n``, which inverts the default
  pre-emphasis. ``zf = coef · x'[-1]`` of the zero-state recursion ``x'`` (librosa's). Runs as a
  parallel prefix scan; linear, so differentiable.

  Args:
    y: ``(..., n)`` signal, ``n >= 2`` when ``zi`` is ``None``.
    coef: filter coefficient.
    zi: initial state, broadcastable to ``(..., 1)``.
    return_zf: also return the final state ``(..., 1)``.

  Returns:
    ``(..., n)`` filtered signal, and ``zf`` if ``return_zf``.

  Examples:
    >>> import jaxdsp as jd
    >>> x = jnp.sin(jnp.arange(50.0))
    >>> bool(jnp.allclose(jd.deemphasis(jd.preemphasis(x)), x, atol=1e-5))
    True

  Compare ``librosa.effects.deemphasis``.
  """
  y = _checks.as_signal(y)
  coef = _coef(coef)
  if zi is None:
    if y.shape[-1] < 2:
      raise ValueError(f"y must have at least 2 samples when zi is None, got shape {y.shape}")
    raw = _iir1(y, coef)
    start = ((2 - coef) * y[..., 0:1] - y[..., 1:2]) / (3 - coef)
    out = raw - start * jnp.asarray(coef ** np.arange(y.shape[-1]), y.dtype)
    zf = coef * raw[..., -1:]
  else:
    out = _iir1(y.at[..., 0:1].add(_zi(zi, y)), coef)
    zf = coef * out[..., -1:]
  return (out, zf) if return_zf else out


def zero_crossings(y: ArrayLike, *, threshold: float = 1e-10, ref_magnitude: float | Callable | None = None,
                   pad: bool = True, zero_pos: bool = True, axis: int = -1) -> jax.Array:
  """Boolean mask of sign changes: ``z[n]`` is ``True`` where ``y[n - 1]`` and ``y[n]`` differ in sign.

  Values with ``|y| <= threshold`` (times ``ref_magnitude``, or ``ref_magnitude(|y|)`` if callable)
  count as zero. With ``zero_pos`` zero counts as positive (sign bit), else as its own sign (so a
  change to or from 0 is a crossing). ``z[0] = pad``. Boolean output: no gradient (see
  :func:`jaxdsp.zero_crossing_rate_smooth` for a smooth surrogate).

  Args:
    y: real signal.
    threshold: non-negative number.
    ref_magnitude: scale of ``threshold``: a number, a callable of ``|y|`` (e.g. ``jnp.max``, taken
      over the whole array as librosa), or ``None``.
    pad: the value of the first entry.
    zero_pos: treat zero as positive.
    axis: the time axis.

  Returns:
    bool array of ``y``'s shape.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.zero_crossings(jnp.array([1.0, -1.0, 0.0, 2.0, -0.5])).tolist()
    [True, True, True, False, True]

  Compare ``librosa.zero_crossings``.
  """
  y = _checks.as_signal(y)
  axis = _axis(axis, y.ndim)
  threshold = _checks.positive_number(threshold, "threshold", allow_zero=True)
  if callable(ref_magnitude):
    threshold = threshold * ref_magnitude(jnp.abs(y))
  elif ref_magnitude is not None:
    threshold = threshold * _checks.positive_number(ref_magnitude, "ref_magnitude", allow_zero=True)
  y = jnp.moveaxis(y, axis, -1)
  y = jnp.where(jnp.abs(y) <= threshold, jnp.zeros_like(y), y)
  s = jnp.signbit(y) if zero_pos else jnp.sign(y)
  z = s[..., 1:] != s[..., :-1]
  z = jnp.concatenate([jnp.full(z.shape[:-1] + (1,), bool(pad)), z], axis=-1)
  return jnp.moveaxis(z, -1, axis)


def magphase(D: ArrayLike, *, power: float = 1) -> tuple[jax.Array, jax.Array]:
  """Splits a complex spectrogram into magnitude ``|D|^power`` and unit phase ``D / |D|``.

  Where ``D == 0`` the phase is ``1 + 0j`` (librosa's). Differentiable away from ``D = 0``.

  Args:
    D: complex (or real) array, e.g. ``(..., n_freq, n_frames)``.
    power: exponent of the magnitude, > 0.

  Returns:
    ``(mag, phase)``: real and complex arrays of ``D``'s shape.

  Examples:
    >>> import jaxdsp as jd
    >>> mag, phase = jd.magphase(jnp.array([3 + 4j, 0j]))
    >>> mag.tolist(), phase.tolist()
    ([5.0, 0.0], [(0.6000000238418579+0.800000011920929j), (1+0j)])

  Compare ``librosa.magphase``.
  """
  D = _checks.as_signal(D, "D", min_ndim=0, allow_complex=True, allow_int=np.ndim(D) == 0)  # 0-d: a Python number
  power = _checks.positive_number(power, "power")
  D = D.astype(jnp.result_type(D.dtype, jnp.complex64))
  mag = jnp.abs(D)
  zero = mag == 0
  safe = jnp.where(zero, 1.0, mag)
  phase = jax.lax.complex(D.real / safe + zero.astype(mag.dtype), D.imag / safe)
  return mag**power if power != 1 else mag, phase


def autocorrelate(y: ArrayLike, *, max_size: int | None = None, axis: int = -1) -> jax.Array:
  """Autocorrelation ``r[k] = Σ_n y[n] · conj(y[n + k])`` for lags ``0 <= k < max_size``, by FFT.

  Zero-padded to at least ``2n - 1`` so the correlation is linear (not circular). Quadratic in
  ``y``, so differentiable.

  Args:
    y: real or complex array.
    max_size: number of lags (default and maximum: the length along ``axis``).
    axis: the axis to correlate along.

  Returns:
    ``y``'s shape with ``axis`` cut to ``max_size``; real for real input.

  Examples:
    >>> import jaxdsp as jd
    >>> [round(v, 4) for v in jd.autocorrelate(jnp.array([1.0, 2.0, 3.0])).tolist()]
    [14.0, 8.0, 3.0]

  Compare ``librosa.autocorrelate``.
  """
  y = _checks.as_signal(y, allow_complex=True)
  axis = _axis(axis, y.ndim)
  n = y.shape[axis]
  max_size = n if max_size is None else min(_checks.positive_int(max_size, "max_size"), n)
  n_pad = _core.next_fast_len(2 * n - 1)
  if jnp.iscomplexobj(y):
    spec = jnp.fft.fft(y, n=n_pad, axis=axis)
    out = jnp.fft.ifft(spec.real**2 + spec.imag**2, n=n_pad, axis=axis)
  else:
    spec = jnp.fft.rfft(y, n=n_pad, axis=axis)
    out = jnp.fft.irfft(spec.real**2 + spec.imag**2, n=n_pad, axis=axis)
  return jax.lax.slice_in_dim(out, 0, max_size, axis=axis)


def lpc(y: ArrayLike, *, order: int, axis: int = -1) -> jax.Array:
  """Linear-prediction coefficients by Burg's method (librosa's recursion, Marple 1980).

  Returns ``a`` with ``a[0] = 1`` such that ``y[n] ≈ -Σ_{k=1}^{order} a[k] · y[n - k]``. Each order
  computes a reflection coefficient ``k = -2 Σ f·b / (DEN + tiny)`` from the forward and backward
  prediction errors, updates ``a`` by the Levinson recursion and ``DEN`` by Marple's eq. 17. The
  ``order`` steps run in a ``lax.fori_loop`` on fixed-size, masked error buffers. Differentiable
  (a rational function of ``y`` away from ``DEN = 0``).

  Args:
    y: real signal, at least ``order + 1`` samples along ``axis``.
    order: model order, a positive int (static).
    axis: the time axis.

  Returns:
    ``y``'s shape with ``axis`` replaced by ``order + 1`` coefficients.

  Examples:
    >>> import jaxdsp as jd
    >>> y = jnp.sin(0.3 * jnp.arange(200.0))  # y[n] = 2 cos(0.3) · y[n - 1] - y[n - 2]
    >>> [round(v, 3) for v in jd.lpc(y, order=2).tolist()]
    [1.0, -1.911, 1.0]

  References:
    L. Marple, "A new autoregressive spectrum analysis algorithm", IEEE Trans. ASSP 28(4), 1980.
    Compare ``librosa.lpc``.
  """
  y = _checks.as_signal(y)
  order = _checks.positive_int(order, "order")
  axis = _axis(axis, y.ndim)
  if y.shape[axis] < order + 1:
    raise ValueError(f"y must have at least order + 1 = {order + 1} samples along axis {axis}, "
                     f"got {y.shape[axis]}")
  y = jnp.moveaxis(y, axis, -1)
  n_err = y.shape[-1] - 1
  pos = jnp.arange(n_err)
  ar = jnp.zeros(y.shape[:-1] + (order + 1,), y.dtype).at[..., 0].set(1)
  fwd, bwd = y[..., 1:], y[..., :-1]
  den = jnp.sum(fwd**2 + bwd**2, axis=-1)
  eps = jnp.finfo(y.dtype).tiny
  j = np.arange(order + 1)

  def step(i, carry):
    ar, fwd, bwd, den = carry
    m = n_err - i  # valid length of both error buffers (zeros beyond)
    r = -2 * jnp.sum(bwd * fwd, axis=-1) / (den + eps)
    src = jnp.take(ar, (i + 1 - j) % (order + 1), axis=-1)
    update = (j >= 1) & (j <= i + 1)
    ar = ar + jnp.where(update, r[..., None] * src, 0)
    fwd, bwd = fwd + r[..., None] * bwd, bwd + r[..., None] * fwd
    last_b = jnp.take(bwd, m - 1, axis=-1)
    den = (1 - r**2) * den - last_b**2 - fwd[..., 0] ** 2
    fwd = jnp.where(pos < m - 1, jnp.roll(fwd, -1, axis=-1), 0)
    bwd = jnp.where(pos < m - 1, bwd, 0)
    return ar, fwd, bwd, den

  ar = jax.lax.fori_loop(0, order, step, (ar, fwd, bwd, den))[0]
  return jnp.moveaxis(ar, -1, axis)
