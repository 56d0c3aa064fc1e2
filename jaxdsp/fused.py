"""All framed features in one jitted pass that shares one framing and one STFT.

The features and their options come from the feature registry (``jaxdsp._core.registry``): a
feature registered there is available here, in :func:`jaxdsp.batch.extract` and in
``jaxdsp extract`` without further edits.

``features(y, sr=..., names=(...))`` returns a dict of the requested features with the shapes of
the individual functions: per-frame features ``(..., n_frames)``, spectra ``(..., n_freq, n_frames)``,
mel ``(..., n_mels, n_frames)``, MFCC ``(..., n_mfcc, n_frames)``. Every feature equals the
corresponding public function called with the same arguments (``frame_length = n_fft`` for the
time-domain ones), so the tests compare the two.
"""

from __future__ import annotations

from typing import Any, Sequence

import jax
from jax.typing import ArrayLike

from jaxdsp import _core

FEATURE_NAMES = _core.FEATURE_NAMES
DEFAULT_FEATURES = _core.DEFAULT_FEATURES


def features(y: ArrayLike, *, sr: float = 22050, names: Sequence[str] = DEFAULT_FEATURES, n_fft: int = 2048,
             hop_length: int = 512, win_length: int | None = None, window: Any = "hann", center: bool = True,
             pad_mode: str = "constant", n_mels: int = 128, fmin: float = 0.0, fmax: float | None = None,
             htk: bool = False, mel_norm: Any = "slaney", n_mfcc: int = 20, lifter: float = 0.0,
             roll_percent: float = 0.85, p: float = 2.0, top_db: float | None = 80.0,
             zcr_threshold: float = 1e-10) -> dict[str, jax.Array]:
  """Computes several features in one jitted pass sharing one framing and one STFT.

  Available names: ``"stft"`` (complex), ``"spectrogram"`` (magnitude), ``"spectrogram_db"``
  (``amplitude_to_db`` of it, per-example ``top_db``), ``"melspectrogram"`` (power mel),
  ``"mfcc"``, ``"spectral_centroid"``, ``"spectral_bandwidth"``, ``"spectral_rolloff"``,
  ``"spectral_flatness"``, ``"rms"``, ``"zero_crossing_rate"``, ``"amplitude_envelope"``. Each equals
  the function of the same name called with these arguments; time-domain features use
  ``frame_length = n_fft`` (ZCR keeps librosa's ``"edge"`` centre padding).

  Args:
    y: ``(..., n_samples)`` signal.
    sr: sample rate (Hz).
    names: features to compute.
    n_fft, hop_length, win_length, window, center, pad_mode: framing/STFT arguments, shared.
    n_mels, fmin, fmax, htk, mel_norm: mel filterbank.
    n_mfcc, lifter: MFCC.
    roll_percent: roll-off fraction.
    p: bandwidth order.
    top_db: dB range for ``spectrogram_db`` and ``mfcc``.
    zcr_threshold: amplitudes at or below it count as zero for ZCR.

  Returns:
    dict name -> array.

  Examples:
    >>> import jaxdsp as jd
    >>> out = jd.features(jnp.zeros((2, 8192)), sr=16000, names=("rms", "spectral_centroid"))
    >>> {k: v.shape for k, v in out.items()}
    {'rms': (2, 17), 'spectral_centroid': (2, 17)}
  """
  names = _core.feature_names(names)
  options = dict(sr=sr, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk, mel_norm=mel_norm, n_mfcc=n_mfcc, lifter=lifter,
                 roll_percent=roll_percent, p=p, top_db=top_db, zcr_threshold=zcr_threshold)
  for key, value in options.items():  # every option, also those the requested features do not read
    _core.OPTIONS[key].check(value, key)
  return _core.features(y, names, options, n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window,
                        center=center, pad_mode=pad_mode)
