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

from typing import Any

import jax
import numpy as np
from jax.typing import ArrayLike

from jaxdsp import _checks
from jaxdsp import _core

# ---------------------------------------------------------------------------------------------
# Public functions.

_MAX_ORDER = 64  # poly_features: highest polynomial degree accepted


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
  if isinstance(n_bands, (int, np.integer)) and not isinstance(n_bands, bool) and n_bands > 1000:
    raise ValueError(f"n_bands must be at most 1000 (fmin · 2^(n_bands - 1) must stay below sr / 2), got {n_bands}")
  options = {"sr": sr, "contrast_fmin": fmin, "n_bands": n_bands, "quantile": quantile, "linear": linear}
  aliases = {"contrast_fmin": "fmin"}
  stft = dict(n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window, center=center,
              pad_mode=pad_mode)
  if freq is None:
    return _core.feature("spectral_contrast", y, S, options=options, aliases=aliases, **stft)
  cfg = dict(_core.config("spectral_contrast", options, aliases))
  mag = _magnitude(y, S, stft)
  bands = _core.contrast_bands(_host_freq(freq, mag.shape[-2]), cfg["sr"], cfg["contrast_fmin"], cfg["n_bands"],
                         cfg["quantile"])
  return _core.contrast_finish(_core.contrast_peaks(mag, bands, -2), cfg["linear"])


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
    order: polynomial degree, a non-negative int (at most 64).
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
  if isinstance(order, (int, np.integer)) and not isinstance(order, bool) and order > _MAX_ORDER:
    raise ValueError(f"order must be at most {_MAX_ORDER} (a least-squares fit of that degree is ill-conditioned "
                     f"in float64 already), got {order}")
  options = {"sr": sr, "poly_order": order}
  aliases = {"poly_order": "order"}
  stft = dict(n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window, center=center,
              pad_mode=pad_mode)
  if freq is None:
    return _core.feature("poly_features", y, S, options=options, aliases=aliases, **stft)
  cfg = dict(_core.config("poly_features", options, aliases))
  mag = _magnitude(y, S, stft)
  return _core.poly_fit(mag, _host_freq(freq, mag.shape[-2]), cfg["poly_order"], -2)
