"""Spectral contrast and polynomial spectral fits.

Layout: each takes a signal ``y`` ``(..., n_samples)`` or a magnitude spectrogram ``S``
``(..., n_freq, n_frames)`` (keyword) and returns ``(..., n_bands + 1, n_frames)`` (contrast) or
``(..., order + 1, n_frames)`` (polynomial coefficients, highest power first, as ``np.polyfit``).
Both are registered features of the feature core (``"spectral_contrast"``, ``"poly_features"``), so
they are also computed by :func:`jaxdsp.features`, :func:`jaxdsp.batch.extract` and
``jaxdsp extract``, sharing the fused STFT pass. Band edges and the least-squares fit are built in
NumPy float64 from static arguments. Arguments and defaults follow librosa 0.11.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from jaxdsp import _checks
from jaxdsp import _core

# ---------------------------------------------------------------------------------------------
# Reducers (used by the registry entries in jaxdsp._core.registry; frequency axis ``axis``).


def contrast_bands(freq: np.ndarray, sr: float, fmin: float, n_bands: int, quantile: float) -> tuple:
  """librosa's octave bands: ``((bin indices, n_quantile), ...)``, ``n_bands + 1`` entries (static)."""
  freq = np.asarray(freq, dtype=float)
  octa = np.zeros(n_bands + 2)
  octa[1:] = fmin * (2.0 ** np.arange(0, n_bands + 1))
  if np.any(octa[:-1] >= 0.5 * sr):
    raise ValueError(f"fmin · 2^(n_bands - 1) must be below the Nyquist frequency sr / 2 = {0.5 * sr:g} "
                     f"(reduce fmin={fmin:g} or n_bands={n_bands})")
  bands = []
  for k, (f_low, f_high) in enumerate(zip(octa[:-1], octa[1:])):
    current = (freq >= f_low) & (freq <= f_high)
    idx = np.flatnonzero(current)
    if idx.size == 0:
      raise ValueError(f"spectral contrast band {k} ({f_low:g}–{f_high:g} Hz) holds no frequency bin; "
                       "use a larger n_fft or a higher fmin")
    if k > 0:
      current[idx[0] - 1] = True
    if k == n_bands:
      current[idx[-1] + 1:] = True
    sub = np.flatnonzero(current)
    if k < n_bands:
      sub = sub[:-1]
    n_q = int(max(np.rint(quantile * np.sum(current)), 1))
    bands.append((tuple(int(i) for i in sub), n_q))
  return tuple(bands)


def contrast_peaks(S: jax.Array, bands: tuple, axis: int) -> jax.Array:
  """``(..., 2, n_bands + 1, n_frames)``: each band's mean of its ``n_q`` largest (peak, row 0) and
  smallest (valley, row 1) magnitudes per frame (``top_k``; differentiable)."""
  if axis == -2:
    S = jnp.swapaxes(S, -1, -2)  # (..., n_frames, n_freq): one transpose, then bins are contiguous
  peaks, valleys = [], []
  for indices, n_q in bands:
    lo, hi = indices[0], indices[-1] + 1
    if indices == tuple(range(lo, hi)):
      sub = jax.lax.slice_in_dim(S, lo, hi, axis=-1)
    else:  # user frequencies out of order
      sub = jnp.take(S, jnp.asarray(indices), axis=-1)
    peaks.append(jnp.mean(jax.lax.top_k(sub, n_q)[0], axis=-1))
    valleys.append(-jnp.mean(jax.lax.top_k(-sub, n_q)[0], axis=-1))
  return jnp.stack([jnp.stack(peaks, axis=-2), jnp.stack(valleys, axis=-2)], axis=-3)


def contrast_finish(pv: jax.Array, linear: bool, n_valid: jax.Array | None = None) -> jax.Array:
  """Peak minus valley, linear or in dB (``power_to_db`` with ``top_db=80`` below each example's own
  peak of each of the two arrays, librosa's defaults)."""
  peak, valley = pv[..., 0, :, :], pv[..., 1, :, :]
  if linear:
    return peak - valley
  return (_core.db(peak, amin=1e-10, top_db=80.0, n_valid=n_valid)
          - _core.db(valley, amin=1e-10, top_db=80.0, n_valid=n_valid))


@functools.lru_cache(maxsize=32)
def _poly_pinv(freq: tuple, order: int) -> np.ndarray:
  """``(order + 1, n_freq)`` least-squares map of ``np.polyfit(freq, ·, order)`` (columns scaled as
  polyfit does, float64)."""
  x = np.asarray(freq, dtype=float)
  lhs = np.vander(x, order + 1)
  scale = np.sqrt((lhs * lhs).sum(axis=0))
  scale[scale == 0] = 1
  return np.linalg.pinv(lhs / scale) / scale[:, None]


def poly_fit(S: jax.Array, freq: np.ndarray, order: int, axis: int) -> jax.Array:
  """``(..., order + 1, n_frames)`` polynomial coefficients (highest power first) of each frame."""
  P = jnp.asarray(_poly_pinv(tuple(np.asarray(freq, dtype=float).tolist()), order), S.dtype)
  spec = "kf,...tf->...kt" if axis == -1 else "kf,...ft->...kt"
  return jnp.einsum(spec, P, S, precision=jax.lax.Precision.HIGHEST)


# ---------------------------------------------------------------------------------------------
# Public functions.


def _host_freq(freq: Any, n_freq: int) -> np.ndarray:
  if isinstance(freq, jax.Array) or hasattr(freq, "aval"):
    raise TypeError("freq must be a host (NumPy) array here: the bands and the fit are built from its values")
  freq = np.asarray(freq, dtype=float)
  if freq.ndim != 1 or freq.shape[0] != n_freq:
    raise ValueError(f"freq must have shape ({n_freq},) (one frequency per bin; per-frame frequencies are not "
                     f"supported), got {freq.shape}")
  return freq


def _magnitude(y: Any, S: Any, stft: dict) -> jax.Array:
  _core.y_or_S(y, S)
  if S is not None:
    return _checks.as_signal(S, "S", min_ndim=2)
  from jaxdsp.spectral import spectrogram  # pylint: disable=import-outside-toplevel
  return spectrogram(y, power=1.0, **stft)


def spectral_contrast(y: ArrayLike | None = None, *, sr: float = 22050, S: ArrayLike | None = None,
                      n_fft: int = 2048, hop_length: int = 512, win_length: int | None = None, window: Any = "hann",
                      center: bool = True, pad_mode: str = "constant", freq: ArrayLike | None = None,
                      fmin: float = 200.0, n_bands: int = 6, quantile: float = 0.02,
                      linear: bool = False) -> jax.Array:
  """Spectral contrast: per octave band, the difference between its peak and its valley.

  Bands: ``[0, fmin]``, then octaves ``[fmin·2^(k-1), fmin·2^k]`` up to the last, open to the Nyquist
  frequency (librosa's bin assignment). In each band and frame, the peak (valley) is the mean of the
  ``max(1, round(quantile · band size))`` largest (smallest) magnitudes; the contrast is
  ``power_to_db(peak) - power_to_db(valley)`` (``linear=False``; ``top_db = 80`` below each example's
  own maximum, where librosa takes the whole array's) or ``peak - valley``. Differentiable (the
  gradient flows to the selected bins).

  Args:
    y: ``(..., n_samples)`` signal, or ``None`` with ``S``.
    sr: sample rate.
    S: ``(..., n_freq, n_frames)`` magnitude spectrogram (keyword).
    n_fft, hop_length, win_length, window, center, pad_mode: STFT arguments.
    freq: ``(n_freq,)`` host array of bin frequencies; default ``fft_frequencies(sr, n_fft)``.
    fmin: upper edge of the first band in Hz, > 0.
    n_bands: number of octave bands, with ``fmin · 2^(n_bands - 1) < sr / 2``.
    quantile: fraction in (0, 1).
    linear: linear difference instead of dB.

  Returns:
    ``(..., n_bands + 1, n_frames)``.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.spectral_contrast(jd.tone(1000.0, sr=22050, length=8192)).shape
    (7, 17)

  References:
    D.-N. Jiang et al., "Music type classification by spectral contrast feature", ICME 2002.
    Compare ``librosa.feature.spectral_contrast``.
  """
  options = {"sr": sr, "contrast_fmin": fmin, "n_bands": n_bands, "quantile": quantile, "linear": linear}
  aliases = {"contrast_fmin": "fmin"}
  stft = dict(n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window, center=center,
              pad_mode=pad_mode)
  if freq is None:
    return _core.feature("spectral_contrast", y, S, options=options, aliases=aliases, **stft)
  cfg = dict(_core.config("spectral_contrast", options, aliases))
  mag = _magnitude(y, S, stft)
  bands = contrast_bands(_host_freq(freq, mag.shape[-2]), cfg["sr"], cfg["contrast_fmin"], cfg["n_bands"],
                         cfg["quantile"])
  return contrast_finish(contrast_peaks(mag, bands, -2), cfg["linear"])


def poly_features(y: ArrayLike | None = None, *, sr: float = 22050, S: ArrayLike | None = None, n_fft: int = 2048,
                  hop_length: int = 512, win_length: int | None = None, window: Any = "hann", center: bool = True,
                  pad_mode: str = "constant", order: int = 1, freq: ArrayLike | None = None) -> jax.Array:
  """Coefficients of an ``order``-th degree polynomial fitted to each frame's spectrum.

  ``coef[:, t] = argmin_c Σ_f (S[f, t] - Σ_k c[k]·freq[f]^(order - k))²`` (``np.polyfit``), a fixed
  linear map of each frame (the pseudo-inverse of the Vandermonde matrix, built in float64):
  differentiable.

  Args:
    y: ``(..., n_samples)`` signal, or ``None`` with ``S``.
    sr: sample rate.
    S: ``(..., n_freq, n_frames)`` magnitude spectrogram (keyword).
    n_fft, hop_length, win_length, window, center, pad_mode: STFT arguments.
    order: polynomial degree, a non-negative int.
    freq: ``(n_freq,)`` host array of bin frequencies; default ``fft_frequencies(sr, n_fft)``
      (librosa also accepts per-frame ``(n_freq, n_frames)`` frequencies; not supported here).

  Returns:
    ``(..., order + 1, n_frames)``, highest power first.

  Examples:
    >>> import jaxdsp as jd
    >>> f = np.arange(5.0)
    >>> S = jnp.stack([3 + 2 * f, 1 + 0.5 * f], axis=1)        # two frames, two lines
    >>> np.asarray(jd.poly_features(S=S, order=1, freq=f), float).round(3).tolist()
    [[2.0, 0.5], [3.0, 1.0]]

  Compare ``librosa.feature.poly_features``.
  """
  options = {"sr": sr, "poly_order": order}
  aliases = {"poly_order": "order"}
  stft = dict(n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window, center=center,
              pad_mode=pad_mode)
  if freq is None:
    return _core.feature("poly_features", y, S, options=options, aliases=aliases, **stft)
  cfg = dict(_core.config("poly_features", options, aliases))
  mag = _magnitude(y, S, stft)
  return poly_fit(mag, _host_freq(freq, mag.shape[-2]), cfg["poly_order"], -2)
