"""A small synthetic stand-in for UrbanSound8K, written in exactly the real dataset's layout.

The real dataset (8732 clips ≤ 4 s, 10 classes, 10 folds) cannot be downloaded here, so
``make_synthetic_urbansound`` writes ``<root>/metadata/UrbanSound8K.csv`` with the real columns
(``slice_file_name, fsID, start, end, salience, fold, classID, class``) and
``<root>/audio/fold<k>/<fsID>-<classID>-<occurrence>-<slice>.wav`` files with what makes the real
one awkward to read: mixed sample rates, mono and stereo, 16/24-bit PCM and float WAVs, and clips
shorter than the nominal duration. Each of the 10 classes (named after the real ones) is a
distinct family of synthetic sounds with randomised parameters and background noise.
"""

from __future__ import annotations

import csv
import os
import pathlib
from typing import Callable, Sequence

import numpy as np
import soundfile as sf

from jaxdsp import _checks

__all__ = ["CLASS_NAMES", "make_synthetic_urbansound"]

CLASS_NAMES = ("air_conditioner", "car_horn", "children_playing", "dog_bark", "drilling",
               "engine_idling", "gun_shot", "jackhammer", "siren", "street_music")
CSV_COLUMNS = ("slice_file_name", "fsID", "start", "end", "salience", "fold", "classID", "class")


# ---------------------------------------------------------------------------------------------
# Building blocks (NumPy, at the file's own sample rate).


def _band_noise(rng: np.random.Generator, n: int, sr: float, lo: float, hi: float) -> np.ndarray:
  """White noise band-limited to ``[lo, hi]`` Hz (FFT mask with soft edges), unit RMS."""
  spec = np.fft.rfft(rng.standard_normal(n))
  f = np.fft.rfftfreq(n, 1 / sr)
  width = max(20.0, 0.1 * (hi - lo))
  mask = 0.25 * (1 + np.tanh((f - lo) / (2 * width))) * (1 + np.tanh((hi - f) / (2 * width)))
  y = np.fft.irfft(spec * mask, n)
  return y / (np.sqrt(np.mean(y ** 2)) + 1e-12)


def _harmonic(phase: np.ndarray, f0: np.ndarray | float, sr: float, n_harm: int,
              decay: float = 0.6) -> np.ndarray:
  """Sum of harmonics ``k = 1..n_harm`` (amplitude ``decay**(k-1)``) of a running phase, each
  dropped where ``k·f0`` reaches 0.45·sr (no aliasing)."""
  y = np.zeros_like(phase)
  for k in range(1, n_harm + 1):
    y += (decay ** (k - 1)) * np.sin(k * phase) * (k * np.asarray(f0) < 0.45 * sr)
  return y


def _phase(f: np.ndarray, sr: float) -> np.ndarray:
  return 2 * np.pi * np.cumsum(f) / sr


def _env(n: int, sr: float, starts: Sequence[float], lengths: Sequence[float],
         attack: float = 0.01, release: float = 0.03) -> np.ndarray:
  """Sum of trapezoid on/off envelopes (seconds)."""
  t = np.arange(n) / sr
  e = np.zeros(n)
  for s, d in zip(starts, lengths):
    up = np.clip((t - s) / attack, 0, 1)
    down = np.clip((s + d - t) / release, 0, 1)
    e = np.maximum(e, up * down)
  return e


def _air_conditioner(rng, n, sr):
  """Steady fan hiss (band noise a few hundred Hz to 2-3 kHz) plus mains hum."""
  y = _band_noise(rng, n, sr, rng.uniform(150, 300), rng.uniform(2000, 3000))
  t = np.arange(n) / sr
  mains = rng.choice([50.0, 60.0])
  y += 0.5 * _harmonic(2 * np.pi * mains * t + rng.uniform(0, 6), mains, sr, 4, 0.5)
  return y


def _car_horn(rng, n, sr):
  f1 = rng.uniform(330, 460)
  t = np.arange(n) / sr
  dur = n / sr
  starts, lengths, s = [], [], rng.uniform(0, 0.2 * dur)
  while s < dur:
    d = rng.uniform(0.3, 1.2)
    starts.append(s), lengths.append(d)
    s += d + rng.uniform(0.1, 0.4)
  tone = (_harmonic(2 * np.pi * f1 * t, f1, sr, 8, 0.8)
          + _harmonic(2 * np.pi * f1 * 1.26 * t + 1.0, f1 * 1.26, sr, 8, 0.8))
  return tone * _env(n, sr, starts, lengths)


def _window(n: int, sr: float, start: float, length: float) -> slice:
  """The samples of ``[start, start + length)`` seconds inside ``[0, n)``."""
  return slice(min(n, max(0, int(start * sr))), min(n, int(np.ceil((start + length) * sr))))


def _children_playing(rng, n, sr):
  """Babble (300-3000 Hz band noise) and 3-6 high voices gliding with vibrato (280-500 Hz)."""
  y = 0.3 * _band_noise(rng, n, sr, 300, 3000)
  dur = n / sr
  for _ in range(rng.integers(3, 7)):
    s, d = rng.uniform(0, dur), rng.uniform(0.2, 0.7)
    w = _window(n, sr, s, d)
    m = w.stop - w.start
    f0 = rng.uniform(280, 500) * (1 + 0.3 * np.sin(2 * np.pi * rng.uniform(1, 4) * np.arange(m) / sr
                                                      + rng.uniform(0, 6)))
    y[w] += _harmonic(_phase(f0, sr), f0, sr, 6, 0.7) * _env(m, sr, [0.0], [d], 0.05, 0.1)
  return y


def _dog_bark(rng, n, sr):
  """A barking dog: short harmonic bursts (60-120 ms) with an arched pitch contour (peak
  450-800 Hz), every 0.15-0.35 s."""
  y = np.zeros(n)
  dur = n / sr
  peak = rng.uniform(450, 800)
  s = rng.uniform(0, 0.1 * dur)
  while s < dur:
    d = rng.uniform(0.06, 0.12)
    w = _window(n, sr, s, d)
    m = w.stop - w.start
    u = np.arange(m) / sr / d
    f0 = peak * rng.uniform(0.9, 1.1) * (0.6 + 0.4 * np.sin(np.pi * u))
    y[w] += _harmonic(_phase(f0, sr), f0, sr, 10, 0.8) * _env(m, sr, [0.0], [d], 0.004, 0.03)
    s += d + rng.uniform(0.1, 0.25)
  return y


def _drilling(rng, n, sr):
  f0 = rng.uniform(1400, 2200)
  t = np.arange(n) / sr
  am = 0.6 + 0.4 * np.sin(2 * np.pi * rng.uniform(30, 60) * t)
  return (_harmonic(2 * np.pi * f0 * t, f0, sr, 4, 0.7) * am
          + 0.3 * _band_noise(rng, n, sr, 2000, 0.45 * sr))


def _engine_idling(rng, n, sr):
  """Low firing pulses (18-35 Hz) exciting a low resonance: a periodic, low-frequency rumble."""
  rate = rng.uniform(18, 35)
  t = np.arange(n) / sr
  pulses = np.maximum(0, np.sin(2 * np.pi * rate * t)) ** 16
  rumble = _band_noise(rng, n, sr, 30, rng.uniform(120, 250))
  return pulses * rumble * 3 + 0.3 * _harmonic(2 * np.pi * rate * 2 * t, rate * 2, sr, 6, 0.8)


def _gun_shot(rng, n, sr):
  """One broadband blast: instant attack, long reverberant decay (0.1-0.3 s)."""
  s = rng.uniform(0, 0.4 * n / sr)
  t = np.arange(n) / sr - s
  tau = rng.uniform(0.1, 0.3)
  return _band_noise(rng, n, sr, 60, 0.45 * sr) * np.where(t >= 0, np.exp(-np.clip(t, 0, None) / tau), 0)


def _jackhammer(rng, n, sr):
  rate = rng.uniform(12, 22)
  t = np.arange(n) / sr
  hits = (np.mod(t * rate, 1.0) < 0.25).astype(float) * np.exp(-np.mod(t * rate, 1.0) * 20)
  return _band_noise(rng, n, sr, 300, 0.45 * sr) * hits * 2


def _siren(rng, n, sr):
  t = np.arange(n) / sr
  fc, dev, fm = rng.uniform(700, 1000), rng.uniform(200, 400), rng.uniform(0.25, 2.0)
  if rng.random() < 0.5:
    f = fc + dev * np.sin(2 * np.pi * fm * t)  # wail
  else:
    f = fc + dev * (2 * np.abs(np.mod(t * fm, 1.0) - 0.5) * 2 - 1)  # up/down sweeps
  return _harmonic(_phase(f, sr), f, sr, 3, 0.4)


def _street_music(rng, n, sr):
  """A melody of harmonic notes (150-450 ms, a pentatonic scale from 220 Hz) over a bass line."""
  scale = 220 * 2 ** (np.array([0, 2, 4, 7, 9, 12, 14, 16]) / 12)
  y = np.zeros(n)
  dur, s = n / sr, 0.0
  while s < dur:
    d = rng.uniform(0.15, 0.45)
    f = rng.choice(scale) * rng.choice([1, 2])
    w = _window(n, sr, s, d)
    m = w.stop - w.start
    t = np.arange(w.start, w.stop) / sr
    e = _env(m, sr, [0.0], [d], 0.01, 0.08)
    y[w] += (_harmonic(2 * np.pi * f * t, f, sr, 5, 0.5)
             + 0.5 * _harmonic(2 * np.pi * f / 4 * t, f / 4, sr, 3, 0.5)) * e
    s += d
  return y


_GENERATORS: tuple[Callable[[np.random.Generator, int, float], np.ndarray], ...] = (
    _air_conditioner, _car_horn, _children_playing, _dog_bark, _drilling, _engine_idling,
    _gun_shot, _jackhammer, _siren, _street_music)


def synthesize(class_id: int, *, sr: float, n_samples: int, seed: int = 0,
               snr_db: float = 20.0) -> np.ndarray:
  """One synthetic sound of class ``class_id`` (index into ``CLASS_NAMES``), peak 0.5–0.9.

  Args:
    class_id: 0..9.
    sr: sample rate in Hz.
    n_samples: length.
    seed: randomises the sound's parameters.
    snr_db: signal-to-background-noise ratio (pink-ish noise).

  Returns:
    float64 ``(n_samples,)``.

  Raises:
    ValueError: ``class_id`` out of range, a non-positive ``sr`` or ``n_samples``, a non-finite
      ``snr_db``.
    TypeError: a non-integer ``class_id``.

  Examples:
    >>> y = synthesize(8, sr=8000, n_samples=800, seed=1)
    >>> y.shape, bool(0.5 <= abs(y).max() <= 0.9)
    ((800,), True)
  """
  if isinstance(class_id, bool) or not isinstance(class_id, (int, np.integer)):
    raise TypeError(f"class_id must be an int in [0, {len(CLASS_NAMES)}), got {class_id!r}")
  if not 0 <= class_id < len(CLASS_NAMES):
    raise ValueError(f"class_id must be in [0, {len(CLASS_NAMES)}), got {class_id}")
  sr = _checks.sample_rate(sr, "sr")
  n_samples = _checks.positive_int(n_samples, "n_samples")
  if isinstance(snr_db, bool) or not isinstance(snr_db, (int, float, np.integer, np.floating)) \
      or not np.isfinite(snr_db):
    raise ValueError(f"snr_db must be a finite number, got {snr_db!r}")
  rng = np.random.default_rng(seed)
  y = _GENERATORS[class_id](rng, n_samples, float(sr))
  y = y / (np.sqrt(np.mean(y ** 2)) + 1e-12)
  noise = _band_noise(rng, n_samples, sr, 20, 0.45 * sr) + _band_noise(rng, n_samples, sr, 20, 500)
  noise /= np.sqrt(np.mean(noise ** 2)) + 1e-12
  y = y + noise * 10 ** (-snr_db / 20)
  return y / (np.max(np.abs(y)) + 1e-12) * rng.uniform(0.5, 0.9)


def make_synthetic_urbansound(root: str | os.PathLike, *, n_per_class: int = 20,
                              n_folds: int = 10, duration: float = 4.0,
                              sample_rates: Sequence[int] = (16000, 22050, 44100),
                              short_fraction: float = 0.2, stereo_fraction: float = 0.3,
                              snr_db: tuple[float, float] = (10.0, 30.0),
                              seed: int = 0) -> pathlib.Path:
  """Writes a synthetic dataset in the UrbanSound8K layout under ``root``.

  Clip ``j`` of each class goes to fold ``j % n_folds + 1``, so every fold holds every class when
  ``n_per_class >= n_folds``. Each clip draws a sample rate from ``sample_rates``, is stereo with
  probability ``stereo_fraction`` (two slightly different channels), shorter than ``duration``
  (between 0.3 and 0.95 of it, zero-padded by readers) with probability ``short_fraction`` (the
  same for every class, so that length is no cue to the class), and is stored as 16-bit, 24-bit or float WAV.

  Args:
    root: output directory (created; existing files of the same names are overwritten).
    n_per_class: clips per class.
    n_folds: number of folds (the real dataset has 10).
    duration: nominal clip length in seconds (the real dataset's 4 s).
    sample_rates: sample rates to draw from (Hz).
    short_fraction: fraction of clips shorter than ``duration``.
    stereo_fraction: fraction of stereo clips.
    snr_db: range of signal-to-background-noise ratios.
    seed: everything is drawn from ``np.random.default_rng(seed)``.

  Returns:
    ``root`` as a ``pathlib.Path``.

  Examples:
    >>> import tempfile
    >>> root = make_synthetic_urbansound(tempfile.mkdtemp(), n_per_class=2, n_folds=2,
    ...                                  duration=0.5)
    >>> sorted(p.name for p in (root / "audio").iterdir())
    ['fold1', 'fold2']
  """
  n_per_class = _checks.positive_int(n_per_class, "n_per_class")
  n_folds = _checks.positive_int(n_folds, "n_folds")
  duration = _checks.positive_number(duration, "duration")
  sample_rates = [int(_checks.sample_rate(s, "sample_rates")) for s in sample_rates]
  if not sample_rates:
    raise ValueError("sample_rates must not be empty")
  for name, v in (("short_fraction", short_fraction), ("stereo_fraction", stereo_fraction)):
    if not 0 <= v <= 1:
      raise ValueError(f"{name} must be in [0, 1], got {v}")
  root = pathlib.Path(root)
  (root / "metadata").mkdir(parents=True, exist_ok=True)
  for k in range(1, n_folds + 1):
    (root / "audio" / f"fold{k}").mkdir(parents=True, exist_ok=True)

  rng = np.random.default_rng(seed)
  fs_ids = rng.choice(np.arange(100000, 200000), size=len(CLASS_NAMES) * n_per_class,
                      replace=False)
  rows = []
  for c, name in enumerate(CLASS_NAMES):
    for j in range(n_per_class):
      fs_id = int(fs_ids[c * n_per_class + j])
      fold = j % n_folds + 1
      sr = int(rng.choice(sample_rates))
      short = rng.random() < short_fraction
      length = duration * (rng.uniform(0.3, 0.95) if short else 1.0)
      n = max(1, int(round(length * sr)))
      y = synthesize(c, sr=sr, n_samples=n, seed=int(rng.integers(2 ** 31)),
                     snr_db=float(rng.uniform(*snr_db)))
      if rng.random() < stereo_fraction:
        lag = int(rng.integers(0, max(1, sr // 1000)))
        y2 = np.concatenate([np.zeros(lag), y[:n - lag]]) * rng.uniform(0.7, 1.0)
        y = np.stack([y, y2], axis=1)
      subtype = str(rng.choice(["PCM_16", "PCM_24", "FLOAT"]))
      occurrence, slice_ = int(rng.integers(0, 3)), int(rng.integers(0, 5))
      fname = f"{fs_id}-{c}-{occurrence}-{slice_}.wav"
      sf.write(root / "audio" / f"fold{fold}" / fname, y.astype(np.float32), sr, subtype=subtype)
      start = round(float(rng.uniform(0, 60)), 6)
      rows.append((fname, fs_id, start, round(start + n / sr, 6), int(rng.integers(1, 3)), fold,
                   c, name))
  with open(root / "metadata" / "UrbanSound8K.csv", "w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(rows)
  return root
