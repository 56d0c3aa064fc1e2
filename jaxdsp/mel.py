"""Mel scale, mel filterbank, mel spectrogram and MFCC.

Layout: ``melspectrogram`` ``(..., n_samples) -> (..., n_mels, n_frames)``; ``mfcc`` ->
``(..., n_mfcc, n_frames)``. The filterbank is built in NumPy (float64) from static arguments and
cast once; ``hz_to_mel``/``mel_to_hz`` are JAX functions (differentiable, used by learnable
front-ends) that also accept NumPy input.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from jaxdsp import _checks
from jaxdsp import _core

hz_to_mel = _core.hz_to_mel
mel_to_hz = _core.mel_to_hz


def mel_filterbank(*, sr: float, n_fft: int, n_mels: int = 128, fmin: float = 0.0, fmax: float | None = None,
                   htk: bool = False, norm: Any = "slaney", dtype: Any = jnp.float32) -> jax.Array:
  """Triangular mel filterbank ``(n_mels, 1 + n_fft // 2)``.

  Filter ``m`` rises linearly from mel-spaced edge ``f[m]`` to ``f[m+1]`` and falls to ``f[m+2]``
  (``n_mels + 2`` edges between ``fmin`` and ``fmax`` on the chosen mel scale). ``norm="slaney"``
  scales each to unit area (``2 / (f[m+2] - f[m])``); a number ``p`` normalises each row to unit
  p-norm; ``None`` leaves peaks at 1.

  Args:
    sr: sample rate (Hz).
    n_fft: FFT size.
    n_mels: number of filters.
    fmin, fmax: band edges in Hz; ``fmax`` defaults to ``sr / 2``.
    htk: use the HTK mel scale instead of Slaney's.
    norm: ``"slaney"``, a number (p-norm), or ``None``.
    dtype: output dtype, a floating dtype (an integer one would round the filters to zeros).

  Returns:
    ``(n_mels, 1 + n_fft // 2)``.

  Warns:
    UserWarning: some filters are empty (no FFT bin falls inside them, e.g. ``n_fft=512``,
      ``n_mels=256`` at 22.05 kHz), as librosa warns; also from ``melspectrogram``, ``mfcc`` and
      ``features``, once per call.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.mel_filterbank(sr=22050, n_fft=2048, n_mels=64).shape
    (64, 1025)

  References:
    M. Slaney, "Auditory Toolbox", Interval Research Technical Report 1998-010.
    Compare ``librosa.filters.mel``.
  """
  dtype = _checks.float_dtype(dtype)
  return jnp.asarray(_core.mel_matrix(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk, norm=norm),
                     dtype=dtype)


def melspectrogram(y: ArrayLike | None = None, *, sr: float = 22050, S: ArrayLike | None = None, n_fft: int = 2048,
                   hop_length: int = 512, win_length: int | None = None, window: Any = "hann",
                   center: bool = True, pad_mode: str = "constant", power: float = 2.0, n_mels: int = 128,
                   fmin: float = 0.0, fmax: float | None = None, htk: bool = False, norm: Any = "slaney") -> jax.Array:
  """Mel spectrogram: ``M = mel_filterbank · |stft(y)|^power``.

  Args:
    y: ``(..., n_samples)`` signal, or ``None`` with ``S``.
    sr: sample rate (Hz).
    S: ``(..., 1 + n_fft // 2, n_frames)`` spectrogram already raised to ``power`` (keyword).
    n_fft, hop_length, win_length, window, center, pad_mode: STFT arguments.
    power: 1 for magnitude, 2 for power.
    n_mels, fmin, fmax, htk, norm: filterbank arguments, see :func:`mel_filterbank`.

  Returns:
    ``(..., n_mels, n_frames)``.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.melspectrogram(jnp.zeros(4096), sr=16000, n_fft=512, hop_length=256, n_mels=40).shape
    (40, 17)

  Compare ``librosa.feature.melspectrogram``.
  """
  return _core.feature("melspectrogram", y, S, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                       window=window, center=center, pad_mode=pad_mode, aliases={"mel_norm": "norm"},
                       options=dict(sr=sr, power=power, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk, mel_norm=norm))


def mfcc(y: ArrayLike | None = None, *, sr: float = 22050, S: ArrayLike | None = None, n_mfcc: int = 20,
         dct_type: int = 2, norm: str | None = "ortho", lifter: float = 0.0, mel_norm: Any = "slaney", n_fft: int = 2048, hop_length: int = 512, win_length: int | None = None,
         window: Any = "hann", center: bool = True, pad_mode: str = "constant", power: float = 2.0,
         n_mels: int = 128, fmin: float = 0.0, fmax: float | None = None, htk: bool = False, top_db: float | None = 80.0) -> jax.Array:
  """Mel-frequency cepstral coefficients: DCT-II of the log-power mel spectrogram.

  ``MFCC = DCT(power_to_db(melspectrogram(y)))[:n_mfcc]``, then, if ``lifter > 0``, each
  coefficient ``k`` is scaled by ``1 + (lifter / 2)·sin(π(k + 1) / lifter)``. ``top_db`` is applied
  per example (see :func:`jaxdsp.power_to_db`).

  Args:
    y: ``(..., n_samples)`` signal, or ``None`` with ``S``.
    sr: sample rate.
    S: ``(..., n_mels, n_frames)`` log-power (dB) mel spectrogram (keyword), as librosa.
    n_mfcc: number of coefficients.
    dct_type: 2 (the only type supported; librosa's default).
    norm: DCT normalisation, ``"ortho"`` (default) or ``None`` (scipy's convention).
    lifter: cepstral liftering coefficient (0 disables).
    mel_norm: the mel filterbank's ``norm`` (see :func:`mel_filterbank`).
    n_fft, hop_length, win_length, window, center, pad_mode, power, n_mels, fmin, fmax, htk:
      see :func:`melspectrogram`.
    top_db: dynamic range of the dB mel spectrogram.

  Returns:
    ``(..., n_mfcc, n_frames)``.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.mfcc(jnp.zeros(4096), sr=16000, n_fft=512, n_mels=40, n_mfcc=13).shape
    (13, 9)

  References:
    S. Davis and P. Mermelstein, IEEE Trans. ASSP 28(4), 1980. Compare ``librosa.feature.mfcc``.
  """
  if dct_type != 2:
    raise ValueError(f"dct_type must be 2 (DCT-II), got {dct_type!r}")
  if S is not None and y is None:  # a dB mel spectrogram: its bands are the mel bands
    n_mels = np.shape(S)[-2] if np.ndim(S) >= 2 else n_mels
  return _core.feature("mfcc", y, S, n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window,
                       center=center, pad_mode=pad_mode, aliases={"dct_norm": "norm"},
                       options=dict(sr=sr, power=power, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk, mel_norm=mel_norm,
                                    n_mfcc=n_mfcc, lifter=lifter, dct_norm=norm, top_db=top_db))
