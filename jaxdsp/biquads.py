"""Biquad filter designs from the RBJ Audio EQ Cookbook, as ``torchaudio.functional`` implements them.

Each design has a coefficient function, ``<name>_coeffs(*, sample_rate, ...) -> (b, a)`` with ``b``
and ``a`` of shape ``(..., 3)`` normalised so that ``a[..., 0] == 1``, and an apply form,
``<name>(x, *, sample_rate, ...)``, that runs :func:`jaxdsp.lfilter` on ``(..., n_samples)``. The
frequency, ``Q`` and gain arguments may be arrays (their shape broadcasts against the signal's batch
axes: one filter per example) and are differentiable; ``sample_rate`` is a Python number.

With ``w0 = 2π f / sample_rate`` and ``alpha = sin(w0) / (2 Q)`` (torchaudio's formulas, read from
``torchaudio/functional/filtering.py``):

================== ================================================ =================================================
design             b                                                a
================== ================================================ =================================================
lowpass            ``(1-cos)/2, 1-cos, (1-cos)/2``                   ``1+alpha, -2cos, 1-alpha``
highpass           ``(1+cos)/2, -(1+cos), (1+cos)/2``                ``1+alpha, -2cos, 1-alpha``
bandpass           ``t, 0, -t`` (``t = sin/2`` skirt, else ``alpha``) ``1+alpha, -2cos, 1-alpha``
bandreject (notch) ``1, -2cos, 1``                                  ``1+alpha, -2cos, 1-alpha``
allpass            ``1-alpha, -2cos, 1+alpha``                      ``1+alpha, -2cos, 1-alpha``
equalizer (peak)   ``1+alpha A, -2cos, 1-alpha A``                  ``1+alpha/A, -2cos, 1-alpha/A``
bass / treble      the cookbook's low / high shelf, ``A = 10^(gain/40)``
================== ================================================ =================================================

Unlike torchaudio, the apply forms do not clamp the output to [-1, 1] (torchaudio's ``lfilter``
default), which would stop gradients.

References:
  R. Bristow-Johnson, "Cookbook formulae for audio EQ biquad filter coefficients" (W3C Audio EQ
  Cookbook). torchaudio ``functional/filtering.py`` (``lowpass_biquad`` … ``treble_biquad``).
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from jaxdsp import _checks
from jaxdsp.filtering import lfilter

__all__ = [
    "allpass_biquad", "allpass_biquad_coeffs", "bandpass_biquad", "bandpass_biquad_coeffs", "bandreject_biquad",
    "bandreject_biquad_coeffs", "bass_biquad", "bass_biquad_coeffs", "biquad", "equalizer_biquad",
    "equalizer_biquad_coeffs", "highpass_biquad", "highpass_biquad_coeffs", "lowpass_biquad",
    "lowpass_biquad_coeffs", "treble_biquad", "treble_biquad_coeffs",
]


def _param(value: Any, name: str, *, positive: bool = True, below: float | None = None) -> jax.Array:
  """A floating (possibly batched, traced) parameter; host values are range-checked."""
  if isinstance(value, bool) or value is None:
    raise TypeError(f"{name} must be a real number or a floating array, got {value!r}")
  if not isinstance(value, (jax.Array, jax.core.Tracer)):
    arr = np.asarray(value, dtype=np.float64)
    if arr.dtype.kind not in "fiu":
      raise TypeError(f"{name} must be a real number or a floating array, got {value!r}")
    if not np.all(np.isfinite(arr)):
      raise ValueError(f"{name} must be finite, got {value!r}")
    if positive and np.any(arr <= 0):
      raise ValueError(f"{name} must be positive, got {value!r}")
    if below is not None and np.any(arr >= below):
      raise ValueError(f"{name} must be below the Nyquist frequency {below:g} Hz, got {value!r}")
    return jnp.asarray(arr, dtype=jnp.float64 if jax.config.jax_enable_x64 else jnp.float32)
  if not jnp.issubdtype(value.dtype, jnp.floating):
    raise TypeError(f"{name} must be a floating array, got dtype {value.dtype}")
  return value


def _w0_alpha(sample_rate, freq, Q, freq_name):
  sr = _checks.sample_rate(sample_rate, "sample_rate")
  freq = _param(freq, freq_name, below=sr / 2)
  Q = _param(Q, "Q")
  w0 = 2 * math.pi * freq / sr
  return w0, jnp.sin(w0) / 2 / Q


def _pack(b0, b1, b2, a0, a1, a2) -> tuple[jax.Array, jax.Array]:
  b0, b1, b2, a0, a1, a2 = jnp.broadcast_arrays(*[jnp.asarray(c) for c in (b0, b1, b2, a0, a1, a2)])
  b = jnp.stack([b0, b1, b2], axis=-1) / a0[..., None]
  a = jnp.stack([jnp.ones_like(a0), a1 / a0, a2 / a0], axis=-1)
  return b, a


def _apply(x: ArrayLike, ba: tuple[jax.Array, jax.Array]) -> jax.Array:
  x = _checks.as_signal(x, "x")
  b, a = ba
  return lfilter(x, b=b.astype(x.dtype), a=a.astype(x.dtype))


def lowpass_biquad_coeffs(*, sample_rate: float, cutoff_freq: ArrayLike, Q: ArrayLike = 0.707):
  """Second-order low-pass (RBJ cookbook LPF), ``(b, a)`` each ``(..., 3)`` with ``a[..., 0] == 1``.

  Args:
    sample_rate: sampling rate in Hz (Python number).
    cutoff_freq: cutoff in Hz, ``0 < f < sample_rate / 2``; scalar or array (batched, differentiable).
    Q: quality factor (``0.707`` is Butterworth).

  Returns:
    ``(b, a)``.

  Examples:
    >>> b, a = lowpass_biquad_coeffs(sample_rate=8000, cutoff_freq=1000.0)
    >>> round(float(b.sum() / a.sum()), 6)   # unit gain at DC
    1.0

  Compare ``torchaudio.functional.lowpass_biquad``.
  """
  w0, alpha = _w0_alpha(sample_rate, cutoff_freq, Q, "cutoff_freq")
  c = jnp.cos(w0)
  return _pack((1 - c) / 2, 1 - c, (1 - c) / 2, 1 + alpha, -2 * c, 1 - alpha)


def highpass_biquad_coeffs(*, sample_rate: float, cutoff_freq: ArrayLike, Q: ArrayLike = 0.707):
  """Second-order high-pass (RBJ HPF), ``(b, a)`` each ``(..., 3)``; arguments as :func:`lowpass_biquad_coeffs`.

  Examples:
    >>> b, a = highpass_biquad_coeffs(sample_rate=8000, cutoff_freq=1000.0)
    >>> round(float(b.sum()), 6)   # zero gain at DC
    0.0

  Compare ``torchaudio.functional.highpass_biquad``.
  """
  w0, alpha = _w0_alpha(sample_rate, cutoff_freq, Q, "cutoff_freq")
  c = jnp.cos(w0)
  return _pack((1 + c) / 2, -1 - c, (1 + c) / 2, 1 + alpha, -2 * c, 1 - alpha)


def bandpass_biquad_coeffs(*, sample_rate: float, central_freq: ArrayLike, Q: ArrayLike = 0.707,
                           const_skirt_gain: bool = False):
  """Second-order band-pass (RBJ BPF), ``(b, a)`` each ``(..., 3)``.

  Args:
    sample_rate: sampling rate in Hz.
    central_freq: centre frequency in Hz.
    Q: quality factor.
    const_skirt_gain: ``True``: constant skirt gain (peak gain ``Q``, ``b0 = sin(w0)/2``);
      ``False``: constant 0 dB peak gain (``b0 = alpha``), torchaudio's default.

  Examples:
    >>> b, a = bandpass_biquad_coeffs(sample_rate=8000, central_freq=2000.0)   # w0 = π/2
    >>> h = (b * jnp.array([1., -1j, -1.])).sum() / (a * jnp.array([1., -1j, -1.])).sum()
    >>> round(float(abs(h)), 6)   # 0 dB at the centre
    1.0

  Compare ``torchaudio.functional.bandpass_biquad``.
  """
  w0, alpha = _w0_alpha(sample_rate, central_freq, Q, "central_freq")
  if not isinstance(const_skirt_gain, bool):
    raise TypeError(f"const_skirt_gain must be a bool, got {const_skirt_gain!r}")
  t = jnp.sin(w0) / 2 if const_skirt_gain else alpha
  return _pack(t, jnp.zeros_like(t), -t, 1 + alpha, -2 * jnp.cos(w0), 1 - alpha)


def bandreject_biquad_coeffs(*, sample_rate: float, central_freq: ArrayLike, Q: ArrayLike = 0.707):
  """Second-order band-reject (notch, RBJ notch), ``(b, a)`` each ``(..., 3)``.

  Examples:
    >>> b, a = bandreject_biquad_coeffs(sample_rate=8000, central_freq=2000.0)
    >>> round(float(abs((b * jnp.array([1., -1j, -1.])).sum())), 6)   # a zero at the centre
    0.0

  Compare ``torchaudio.functional.bandreject_biquad``.
  """
  w0, alpha = _w0_alpha(sample_rate, central_freq, Q, "central_freq")
  c = jnp.cos(w0)
  return _pack(jnp.ones_like(c), -2 * c, jnp.ones_like(c), 1 + alpha, -2 * c, 1 - alpha)


def allpass_biquad_coeffs(*, sample_rate: float, central_freq: ArrayLike, Q: ArrayLike = 0.707):
  """Second-order all-pass (RBJ APF), ``(b, a)`` each ``(..., 3)``: unit magnitude, phase -π at the centre.

  Examples:
    >>> b, a = allpass_biquad_coeffs(sample_rate=8000, central_freq=1000.0)
    >>> b.round(4).tolist() == a[::-1].round(4).tolist()
    True

  Compare ``torchaudio.functional.allpass_biquad``.
  """
  w0, alpha = _w0_alpha(sample_rate, central_freq, Q, "central_freq")
  c = jnp.cos(w0)
  return _pack(1 - alpha, -2 * c, 1 + alpha, 1 + alpha, -2 * c, 1 - alpha)


def equalizer_biquad_coeffs(*, sample_rate: float, center_freq: ArrayLike, gain: ArrayLike, Q: ArrayLike = 0.707):
  """Peaking equaliser (RBJ peakingEQ), ``(b, a)`` each ``(..., 3)``: ``gain`` dB at ``center_freq``.

  Args:
    sample_rate: sampling rate in Hz.
    center_freq: centre frequency in Hz.
    gain: boost (> 0) or cut (< 0) in dB at the centre; ``A = 10^(gain/40)``.
    Q: quality factor.

  Examples:
    >>> b, a = equalizer_biquad_coeffs(sample_rate=8000, center_freq=2000.0, gain=6.0)
    >>> z = jnp.array([1., -1j, -1.])
    >>> round(float(20 * jnp.log10(abs((b * z).sum() / (a * z).sum()))), 4)
    6.0

  Compare ``torchaudio.functional.equalizer_biquad``.
  """
  w0, alpha = _w0_alpha(sample_rate, center_freq, Q, "center_freq")
  A = jnp.exp(_param(gain, "gain", positive=False) / 40.0 * math.log(10))
  c = jnp.cos(w0)
  return _pack(1 + alpha * A, -2 * c, 1 - alpha * A, 1 + alpha / A, -2 * c, 1 - alpha / A)


def _shelf_terms(sample_rate, gain, central_freq, Q):
  w0, alpha = _w0_alpha(sample_rate, central_freq, Q, "central_freq")
  A = jnp.exp(_param(gain, "gain", positive=False) / 40 * math.log(10))
  return A, 2 * jnp.sqrt(A) * alpha, (A - 1) * jnp.cos(w0), (A + 1) * jnp.cos(w0)


def bass_biquad_coeffs(*, sample_rate: float, gain: ArrayLike, central_freq: ArrayLike = 100.0,
                       Q: ArrayLike = 0.707):
  """Low shelf (RBJ lowShelf, torchaudio's bass tone control), ``(b, a)`` each ``(..., 3)``.

  Args:
    sample_rate: sampling rate in Hz.
    gain: shelf gain in dB below ``central_freq``.
    central_freq: shelf midpoint in Hz.
    Q: quality (shelf slope) factor.

  Examples:
    >>> b, a = bass_biquad_coeffs(sample_rate=8000, gain=6.0)
    >>> round(float(20 * jnp.log10(b.sum() / a.sum())), 3)   # the gain at DC
    6.0

  Compare ``torchaudio.functional.bass_biquad``.
  """
  A, t1, t2, t3 = _shelf_terms(sample_rate, gain, central_freq, Q)
  return _pack(A * ((A + 1) - t2 + t1), 2 * A * ((A - 1) - t3), A * ((A + 1) - t2 - t1),
               (A + 1) + t2 + t1, -2 * ((A - 1) + t3), (A + 1) + t2 - t1)


def treble_biquad_coeffs(*, sample_rate: float, gain: ArrayLike, central_freq: ArrayLike = 3000.0,
                         Q: ArrayLike = 0.707):
  """High shelf (RBJ highShelf, torchaudio's treble tone control), ``(b, a)`` each ``(..., 3)``.

  Arguments as :func:`bass_biquad_coeffs`, the gain applying above ``central_freq``.

  Examples:
    >>> b, a = treble_biquad_coeffs(sample_rate=8000, gain=-6.0)
    >>> z = jnp.array([1., -1., 1.])   # Nyquist
    >>> round(float(20 * jnp.log10(abs((b * z).sum() / (a * z).sum()))), 4)
    -6.0

  Compare ``torchaudio.functional.treble_biquad``.
  """
  A, t1, t2, t3 = _shelf_terms(sample_rate, gain, central_freq, Q)
  return _pack(A * ((A + 1) + t2 + t1), -2 * A * ((A - 1) + t3), A * ((A + 1) + t2 - t1),
               (A + 1) - t2 + t1, 2 * ((A - 1) - t3), (A + 1) - t2 - t1)


def biquad(x: ArrayLike, *, b0: ArrayLike, b1: ArrayLike, b2: ArrayLike, a0: ArrayLike, a1: ArrayLike,
           a2: ArrayLike) -> jax.Array:
  """Filters ``x`` with one biquad ``(b0 + b1 z⁻¹ + b2 z⁻²) / (a0 + a1 z⁻¹ + a2 z⁻²)`` from a zero state.

  Args:
    x: ``(..., n_samples)`` signal.
    b0, b1, b2, a0, a1, a2: coefficients, scalars or arrays broadcasting against ``x``'s batch axes.

  Returns:
    ``(..., n_samples)``.

  Examples:
    >>> biquad(jnp.array([1., 0., 0.]), b0=1., b1=0., b2=0., a0=1., a1=-0.5, a2=0.).tolist()
    [1.0, 0.5, 0.25]

  Compare ``torchaudio.functional.biquad``.
  """
  coeffs = [_param(c, n, positive=False) for c, n in zip((b0, b1, b2, a0, a1, a2), ("b0", "b1", "b2", "a0", "a1", "a2"))]
  b0, b1, b2, a0, a1, a2 = coeffs
  return _apply(x, _pack(b0, b1, b2, a0, a1, a2))


def lowpass_biquad(x: ArrayLike, *, sample_rate: float, cutoff_freq: ArrayLike, Q: ArrayLike = 0.707) -> jax.Array:
  """Applies :func:`lowpass_biquad_coeffs` to ``x`` (``(..., n_samples)`` -> same shape).

  Examples:
    >>> y = lowpass_biquad(jnp.ones(400), sample_rate=8000, cutoff_freq=1000.0)
    >>> round(float(y[-1]), 4)   # a step settles at the DC gain
    1.0

  Compare ``torchaudio.functional.lowpass_biquad`` (which also clamps to [-1, 1]).
  """
  return _apply(x, lowpass_biquad_coeffs(sample_rate=sample_rate, cutoff_freq=cutoff_freq, Q=Q))


def highpass_biquad(x: ArrayLike, *, sample_rate: float, cutoff_freq: ArrayLike, Q: ArrayLike = 0.707) -> jax.Array:
  """Applies :func:`highpass_biquad_coeffs` to ``x``.

  Examples:
    >>> y = highpass_biquad(jnp.ones(400), sample_rate=8000, cutoff_freq=1000.0)
    >>> round(float(y[-1]), 4)   # DC is removed
    0.0

  Compare ``torchaudio.functional.highpass_biquad``.
  """
  return _apply(x, highpass_biquad_coeffs(sample_rate=sample_rate, cutoff_freq=cutoff_freq, Q=Q))


def bandpass_biquad(x: ArrayLike, *, sample_rate: float, central_freq: ArrayLike, Q: ArrayLike = 0.707,
                    const_skirt_gain: bool = False) -> jax.Array:
  """Applies :func:`bandpass_biquad_coeffs` to ``x``.

  Examples:
    >>> bandpass_biquad(jnp.ones(400), sample_rate=8000, central_freq=1000.0).shape
    (400,)

  Compare ``torchaudio.functional.bandpass_biquad``.
  """
  return _apply(x, bandpass_biquad_coeffs(sample_rate=sample_rate, central_freq=central_freq, Q=Q,
                                          const_skirt_gain=const_skirt_gain))


def bandreject_biquad(x: ArrayLike, *, sample_rate: float, central_freq: ArrayLike, Q: ArrayLike = 0.707) -> jax.Array:
  """Applies :func:`bandreject_biquad_coeffs` (a notch) to ``x``.

  Examples:
    >>> t = jnp.arange(4000) / 8000
    >>> y = bandreject_biquad(jnp.sin(2 * jnp.pi * 1000 * t), sample_rate=8000, central_freq=1000.0)
    >>> float(jnp.abs(y[-1000:]).max()) < 1e-3   # the tone is notched out
    True

  Compare ``torchaudio.functional.bandreject_biquad``.
  """
  return _apply(x, bandreject_biquad_coeffs(sample_rate=sample_rate, central_freq=central_freq, Q=Q))


def allpass_biquad(x: ArrayLike, *, sample_rate: float, central_freq: ArrayLike, Q: ArrayLike = 0.707) -> jax.Array:
  """Applies :func:`allpass_biquad_coeffs` to ``x``.

  Examples:
    >>> allpass_biquad(jnp.ones(8), sample_rate=8000, central_freq=1000.0).shape
    (8,)

  Compare ``torchaudio.functional.allpass_biquad``.
  """
  return _apply(x, allpass_biquad_coeffs(sample_rate=sample_rate, central_freq=central_freq, Q=Q))


def equalizer_biquad(x: ArrayLike, *, sample_rate: float, center_freq: ArrayLike, gain: ArrayLike,
                     Q: ArrayLike = 0.707) -> jax.Array:
  """Applies :func:`equalizer_biquad_coeffs` (a peaking EQ) to ``x``.

  Examples:
    >>> equalizer_biquad(jnp.ones(8), sample_rate=8000, center_freq=1000.0, gain=3.0).shape
    (8,)

  Compare ``torchaudio.functional.equalizer_biquad``.
  """
  return _apply(x, equalizer_biquad_coeffs(sample_rate=sample_rate, center_freq=center_freq, gain=gain, Q=Q))


def bass_biquad(x: ArrayLike, *, sample_rate: float, gain: ArrayLike, central_freq: ArrayLike = 100.0,
                Q: ArrayLike = 0.707) -> jax.Array:
  """Applies :func:`bass_biquad_coeffs` (a low shelf) to ``x``.

  Examples:
    >>> y = bass_biquad(jnp.ones(4000), sample_rate=8000, gain=6.0)
    >>> round(float(y[-1]), 3)   # DC boosted by 6 dB
    1.995

  Compare ``torchaudio.functional.bass_biquad``.
  """
  return _apply(x, bass_biquad_coeffs(sample_rate=sample_rate, gain=gain, central_freq=central_freq, Q=Q))


def treble_biquad(x: ArrayLike, *, sample_rate: float, gain: ArrayLike, central_freq: ArrayLike = 3000.0,
                  Q: ArrayLike = 0.707) -> jax.Array:
  """Applies :func:`treble_biquad_coeffs` (a high shelf) to ``x``.

  Examples:
    >>> y = treble_biquad(jnp.ones(400), sample_rate=8000, gain=6.0)
    >>> round(float(y[-1]), 3)   # DC untouched
    1.0

  Compare ``torchaudio.functional.treble_biquad``.
  """
  return _apply(x, treble_biquad_coeffs(sample_rate=sample_rate, gain=gain, central_freq=central_freq, Q=Q))
