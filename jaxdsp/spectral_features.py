"""Spectral shape descriptors: centroid, bandwidth, roll-off, flatness.

Layout: each takes a signal ``y`` ``(..., n_samples)`` or a non-negative magnitude spectrogram ``S``
``(..., n_freq, n_frames)`` (keyword) and returns ``(..., n_frames)``. From ``y`` each runs the
feature core's fused pass (one chunked STFT, reduced chunk by chunk: the same computation as
:func:`jaxdsp.features`); from ``S`` it reads ``S`` in place, in its own layout. Arguments and
defaults follow librosa 0.11.

Negative ``S``: refused with a ``ValueError`` for host input (NumPy arrays, lists), as librosa does;
device or traced arrays are not scanned, and negative entries there enter the formulas as they are.
"""

from __future__ import annotations

from typing import Any

import jax
from jax.typing import ArrayLike

from jaxdsp import _core


def spectral_centroid(y: ArrayLike | None = None, *, sr: float = 22050, S: ArrayLike | None = None, n_fft: int = 2048,
                      hop_length: int = 512, freq: ArrayLike | None = None, win_length: int | None = None,
                      window: Any = "hann", center: bool = True, pad_mode: str = "constant") -> jax.Array:
  """Spectral centroid, the magnitude-weighted mean frequency of each frame.

  ``centroid[t] = Σ_f freq[f] · S[f, t] / Σ_j S[j, t]`` (0 for silent frames).

  Args:
    y: ``(..., n_samples)`` signal, or ``None`` with ``S``.
    sr: sample rate in Hz.
    S: ``(..., n_freq, n_frames)`` magnitude spectrogram (keyword).
    n_fft, hop_length, win_length, window, center, pad_mode: STFT arguments (see :func:`jaxdsp.stft`).
    freq: ``(n_freq,)`` bin frequencies; default ``fft_frequencies(sr, n_fft)``.

  Returns:
    ``(..., n_frames)`` in Hz.

  Examples:
    >>> import jaxdsp as jd
    >>> t = jnp.arange(8192) / 8000.0
    >>> float(jd.spectral_centroid(jnp.sin(2 * jnp.pi * 1000.0 * t), sr=8000, n_fft=512)[8]) // 10
    100.0

  References:
    A. Klapuri and M. Davy (eds.), "Signal Processing Methods for Music Transcription", 2007.
    Compare ``librosa.feature.spectral_centroid``.
  """
  return _core.feature("spectral_centroid", y, S, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                       window=window, center=center, pad_mode=pad_mode, options={"sr": sr}, freq=freq)


def spectral_bandwidth(y: ArrayLike | None = None, *, sr: float = 22050, S: ArrayLike | None = None,
                       n_fft: int = 2048, hop_length: int = 512, win_length: int | None = None,
                       window: Any = "hann", center: bool = True, pad_mode: str = "constant",
                       freq: ArrayLike | None = None, centroid: ArrayLike | None = None, norm: bool = True,
                       p: float = 2.0) -> jax.Array:
  """p-th order spectral bandwidth around the centroid.

  ``bandwidth[t] = (Σ_f S'[f, t] · |freq[f] - centroid[t]|^p)^(1/p)`` with ``S'`` the spectrum
  normalised to sum 1 per frame when ``norm``.

  Precision: for a near-pure tone the far bins carry only FFT round-off, weighted by
  ``|f - centroid|^p``; a float32 FFT (here, torch) leaves a ~3e-9 floor where librosa's float64 FFT
  leaves ~1e-16, so narrow-band frames can differ from librosa by several percent in float32 (12 %
  measured on a pure sweep). Pass float64 audio with x64 enabled for those.

  Args:
    y, sr, S, n_fft, hop_length, win_length, window, center, pad_mode, freq: as
      :func:`spectral_centroid`.
    centroid: ``(..., n_frames)`` precomputed centroid; computed when ``None``.
    norm: normalise each frame's spectrum to sum 1.
    p: order, > 0.

  Returns:
    ``(..., n_frames)`` in Hz.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.spectral_bandwidth(jnp.zeros(4096), sr=8000, n_fft=512).shape
    (9,)

  References:
    Klapuri & Davy (2007). Compare ``librosa.feature.spectral_bandwidth``.
  """
  return _core.feature("spectral_bandwidth", y, S, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                       window=window, center=center, pad_mode=pad_mode, options={"sr": sr, "p": p, "norm": norm},
                       freq=freq, centroid=centroid)


def spectral_rolloff(y: ArrayLike | None = None, *, sr: float = 22050, S: ArrayLike | None = None, n_fft: int = 2048,
                     hop_length: int = 512, win_length: int | None = None, window: Any = "hann",
                     center: bool = True, pad_mode: str = "constant", freq: ArrayLike | None = None,
                     roll_percent: float = 0.85) -> jax.Array:
  """Roll-off frequency: the lowest bin frequency below which ``roll_percent`` of the energy lies.

  ``rolloff[t] = min { freq[f] : Σ_{j<=f} S[j, t] >= roll_percent · Σ_j S[j, t] }``.
  Piecewise constant in ``S``: its gradient is zero almost everywhere.

  Args:
    y, sr, S, n_fft, hop_length, win_length, window, center, pad_mode, freq: as
      :func:`spectral_centroid`.
    roll_percent: fraction in (0, 1).

  Returns:
    ``(..., n_frames)`` in Hz.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.spectral_rolloff(jnp.zeros(4096), sr=8000, n_fft=512).shape
    (9,)

  Compare ``librosa.feature.spectral_rolloff``.
  """
  return _core.feature("spectral_rolloff", y, S, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                       window=window, center=center, pad_mode=pad_mode, options={"sr": sr, "roll_percent": roll_percent},
                       freq=freq)


def spectral_flatness(y: ArrayLike | None = None, *, S: ArrayLike | None = None, n_fft: int = 2048,
                      hop_length: int = 512, win_length: int | None = None, window: Any = "hann",
                      center: bool = True, pad_mode: str = "constant", amin: float = 1e-10,
                      power: float = 2.0) -> jax.Array:
  """Spectral flatness (Wiener entropy): geometric over arithmetic mean of the power spectrum.

  ``flatness[t] = exp(mean_f log P[f, t]) / mean_f P[f, t]`` with ``P = max(amin, S^power)``; 1 for
  white noise, near 0 for a tone.

  Args:
    y: ``(..., n_samples)`` signal, or ``None`` with ``S``.
    S: ``(..., n_freq, n_frames)`` magnitude spectrogram (keyword).
    n_fft, hop_length, win_length, window, center, pad_mode: STFT arguments.
    amin: floor, > 0.
    power: exponent applied to the magnitude, > 0.

  Returns:
    ``(..., n_frames)`` in [0, 1].

  Examples:
    >>> import jaxdsp as jd
    >>> round(float(jd.spectral_flatness(jnp.zeros(4096), n_fft=512)[0]), 4)   # silence is flat
    1.0

  References:
    S. Dubnov, "Generalization of spectral flatness measure for non-Gaussian linear processes",
    IEEE Signal Processing Letters, 2004. Compare ``librosa.feature.spectral_flatness``.
  """
  return _core.feature("spectral_flatness", y, S, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                       window=window, center=center, pad_mode=pad_mode, options={"amin": amin, "power": power})
