"""All framed features in one jitted pass that shares one framing and one STFT.

``features(y, sr=..., names=(...))`` returns a dict of the requested features with the shapes of
the individual functions: per-frame features ``(..., n_frames)``, spectra ``(..., n_freq, n_frames)``,
mel ``(..., n_mels, n_frames)``, MFCC ``(..., n_mfcc, n_frames)``. Every feature equals the
corresponding public function called with the same arguments (``frame_length = n_fft`` for the
time-domain ones), so the tests compare the two.
"""

from __future__ import annotations

import functools
from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from jaxdsp import _checks
from jaxdsp import _chunking
from jaxdsp import _ops
from jaxdsp import framing
from jaxdsp import mel
from jaxdsp import spectral
from jaxdsp import spectral_features
from jaxdsp import temporal

FEATURE_NAMES = (
    "amplitude_envelope",
    "melspectrogram",
    "mfcc",
    "rms",
    "spectral_bandwidth",
    "spectral_centroid",
    "spectral_flatness",
    "spectral_rolloff",
    "spectrogram",
    "spectrogram_db",
    "stft",
    "zero_crossing_rate",
)
DEFAULT_FEATURES = (
    "spectrogram",
    "rms",
    "zero_crossing_rate",
    "spectral_centroid",
    "spectral_bandwidth",
    "spectral_rolloff",
    "melspectrogram",
)
_SPECTRAL = {"melspectrogram", "mfcc", "spectral_bandwidth", "spectral_centroid", "spectral_flatness",
             "spectral_rolloff", "spectrogram", "spectrogram_db", "stft"}


@functools.partial(jax.jit, static_argnames=("names", "n_fft", "hop_length", "center", "pad_mode", "cfg"))
def _features(y, window, freq, mel_fb, *, names, n_fft, hop_length, center, pad_mode, cfg):
  cfg = dict(cfg)
  out = {}
  if "rms" in names:
    out["rms"] = temporal._rms(y, n_fft, hop_length, center, pad_mode)
  if "amplitude_envelope" in names:
    out["amplitude_envelope"] = temporal._envelope(y, n_fft, hop_length, center, pad_mode)
  if "zero_crossing_rate" in names:
    out["zero_crossing_rate"] = temporal._zcr(y, n_fft, hop_length, center, "edge" if center else pad_mode,
                                              cfg["zcr_threshold"])
  if not _SPECTRAL.intersection(names):
    return out

  def chunk(segments):  # (c, samples) -> features with the frame axis last, one cache-sized chunk
    D = spectral._stft_frames(segments, window, n_fft, hop_length)    # (c, t, F): frequency last
    spectrum = lambda x: jnp.swapaxes(x, -1, -2)                        # public layout (c, F, t)
    res = {}
    if "stft" in names:
      res["stft"] = spectrum(D)
    power = _ops.abs2(D)
    S = _ops.safe_sqrt(power)
    if "spectrogram" in names:
      res["spectrogram"] = spectrum(S)
    if "spectrogram_db" in names:
      res["power"] = spectrum(power)
    if "spectral_centroid" in names or "spectral_bandwidth" in names:
      centroid = spectral_features._centroid(S, freq)
      if "spectral_centroid" in names:
        res["spectral_centroid"] = centroid
      if "spectral_bandwidth" in names:
        res["spectral_bandwidth"] = spectral_features._bandwidth(S, freq, centroid, cfg["p"], True)
    if "spectral_rolloff" in names:
      res["spectral_rolloff"] = spectral_features._rolloff(S, freq, cfg["roll_percent"])
    if "spectral_flatness" in names:
      res["spectral_flatness"] = spectral_features._flatness(S, 1e-10, 2.0)
    if "melspectrogram" in names or "mfcc" in names:
      res["melspectrogram"] = mel._apply_filterbank(power, mel_fb, cfg["mel_bands"])
    return res

  res = _chunking.map_frames(chunk, y, n_fft, hop_length, center, pad_mode)
  # dB scaling takes its top_db reference over a whole example, so it runs after reassembly.
  if "spectrogram_db" in names:
    out["spectrogram_db"] = spectral.power_to_db(res.pop("power"), amin=1e-10, top_db=cfg["top_db"])
  if "mfcc" in names:
    M_db = spectral.power_to_db(res["melspectrogram"], top_db=cfg["top_db"])
    out["mfcc"] = mel._cepstrum(M_db, cfg["n_mfcc"], cfg["lifter"])
    if "melspectrogram" not in names:
      del res["melspectrogram"]
  out.update(res)
  return out


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
  if isinstance(names, str):
    names = (names,)
  names = tuple(sorted(set(names)))
  for name in names:
    _checks.choice(name, "names", FEATURE_NAMES)
  if not names:
    raise ValueError("names must name at least one feature")
  y = _checks.as_signal(y)
  sr = _checks.sample_rate(sr)
  n_fft, hop_length, win_length = spectral._stft_args(y.shape[-1], n_fft, hop_length, win_length, center, pad_mode)
  if win_length != n_fft and set(names) & {"rms", "amplitude_envelope", "zero_crossing_rate"}:
    raise ValueError("time-domain features need win_length == n_fft (they use frame_length = n_fft)")
  window_arr = spectral._window(window, win_length, n_fft, y.dtype)
  freq = jnp.asarray(framing.fft_frequencies(sr=sr, n_fft=n_fft), dtype=y.dtype)
  if "melspectrogram" in names or "mfcc" in names:
    fb, mel_bands = mel._filterbank_and_bands(sr, n_fft, n_mels, fmin, fmax, htk, mel_norm, y.dtype)
  else:
    fb, mel_bands = jnp.zeros((0, n_fft // 2 + 1), y.dtype), ()
  if "mfcc" in names and n_mfcc > n_mels:
    raise ValueError(f"n_mfcc must be <= n_mels={n_mels}, got {n_mfcc}")
  if not 0.0 < roll_percent < 1.0:
    raise ValueError(f"roll_percent must be in (0, 1), got {roll_percent!r}")
  cfg = dict(roll_percent=float(roll_percent), p=_checks.positive_number(p, "p"), top_db=top_db, mel_bands=mel_bands,
             n_mfcc=_checks.positive_int(n_mfcc, "n_mfcc"),
             lifter=_checks.positive_number(lifter, "lifter", allow_zero=True),
             zcr_threshold=_checks.positive_number(zcr_threshold, "zcr_threshold", allow_zero=True))
  return _features(y, window_arr, freq, fb,
                   names=names, n_fft=n_fft, hop_length=hop_length, center=bool(center), pad_mode=pad_mode,
                   cfg=tuple(sorted(cfg.items())))
