"""Generates the committed test audio in ``tests/data/`` and the audio shipped in the package.

    python tests/data/make_test_audio.py              # both (needs espeak-ng and sox)
    python tests/data/make_test_audio.py --tests      # only tests/data/
    python tests/data/make_test_audio.py --examples   # only jaxdsp/examples_audio/

The decoded samples are deterministic given the tool versions (eSpeak NG 1.51, SoX 14.4.2,
libsndfile 1.2.2); the bytes of the float WAV and OGG files differ between runs (a PEAK-chunk
timestamp, a random Ogg stream serial). The clips are committed, so tests never run this script.
Each clip is short (≤ 3 s) and the whole directory stays under 1.5 MB.

| file | content | sr | channels | format |
| --- | --- | --- | --- | --- |
| speech_16k.wav | espeak-ng sentence (en-us), resampled | 16000 | 1 | WAV PCM_16 |
| speech_22k.wav | espeak-ng sentence (en-gb, female variant) | 22050 | 1 | WAV PCM_16 |
| speech_8k.wav | espeak-ng sentence, 300–3400 Hz band, telephone rate | 8000 | 1 | WAV PCM_16 |
| music_22k.wav | additive-synthesis melody over chords, piano-like decays | 22050 | 1 | WAV FLOAT |
| music_44k.flac | sox plucked-string chord progression | 44100 | 1 | FLAC PCM_16 |
| music_stereo_48k.wav | melody / bass panned apart, channels differ | 48000 | 2 | WAV PCM_24 |
| music_22k.ogg | sox plucked-string arpeggio | 22050 | 1 | OGG Vorbis |
| chirp_22k.wav | log chirp 60 Hz → 10 kHz with 10 ms fades | 22050 | 1 | WAV FLOAT |
| noise_burst_22k.wav | 0.5 s silence, 0.5 s white noise, 0.5 s silence | 22050 | 1 | WAV PCM_16 |
| silence_22k.wav | digital silence (all zeros) | 22050 | 1 | WAV PCM_16 |
| short_22k.wav | 1000 samples of a decaying 440 Hz sine (< a 2048 frame) | 22050 | 1 | WAV PCM_16 |

Shipped in the package (``jaxdsp.example(name)``, mono, ≤ 300 KB in all):

| file | content | sr | format |
| --- | --- | --- | --- |
| speech.wav | espeak-ng sentence (en-us) | 16000 | WAV PCM_16 |
| music.flac | additive-synthesis melody over chords | 22050 | FLAC PCM_16 |
| chirp.flac | log chirp 60 Hz → 10 kHz | 22050 | FLAC PCM_16 |
"""

from __future__ import annotations

import argparse
import pathlib
import subprocess
import tempfile

import numpy as np
import soundfile as sf
import soxr

HERE = pathlib.Path(__file__).resolve().parent
EXAMPLES_DIR = HERE.parent.parent / "jaxdsp" / "examples_audio"
RNG = np.random.default_rng(12345)


def _espeak(text: str, voice: str, speed: int = 160, pitch: int = 50) -> tuple[np.ndarray, int]:
  with tempfile.TemporaryDirectory() as tmp:
    path = pathlib.Path(tmp) / "s.wav"
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(path), text],
        check=True,
    )
    y, sr = sf.read(path, dtype="float64")
  return _trim(y), sr


def _sox_synth(sr: int, args: list[str]) -> np.ndarray:
  with tempfile.TemporaryDirectory() as tmp:
    path = pathlib.Path(tmp) / "m.wav"
    subprocess.run(
        ["sox", "-n", "-r", str(sr), "-b", "32", "-e", "floating-point", "-c", "1", str(path)]
        + args,
        check=True,
    )
    y, _ = sf.read(path, dtype="float64")
  return y


def _trim(y: np.ndarray, thresh: float = 1e-3, pad: int = 800) -> np.ndarray:
  idx = np.flatnonzero(np.abs(y) > thresh)
  return y[max(idx[0] - pad, 0): idx[-1] + pad]


def _normalize(y: np.ndarray, peak: float = 0.8) -> np.ndarray:
  return y * (peak / np.max(np.abs(y)))


def _fade(y: np.ndarray, sr: int, seconds: float = 0.01) -> np.ndarray:
  n = int(seconds * sr)
  ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(n) / n)
  y = y.copy()
  y[..., :n] *= ramp
  y[..., -n:] *= ramp[::-1]
  return y


def _note(freq: float, dur: float, sr: int, *, n_harm: int = 8, decay: float = 3.0) -> np.ndarray:
  """A piano-like note: harmonics with 1/k amplitudes, faster decay for higher partials."""
  t = np.arange(int(dur * sr)) / sr
  y = np.zeros_like(t)
  for k in range(1, n_harm + 1):
    if k * freq >= 0.45 * sr:
      break
    inharm = 1.0 + 0.0004 * k * k
    y += np.sin(2 * np.pi * k * freq * inharm * t + RNG.uniform(0, 2 * np.pi)) / k * np.exp(
        -decay * k ** 0.5 * t
    )
  attack = np.minimum(t / 0.005, 1.0)
  return y * attack


def _midi(m: float) -> float:
  return 440.0 * 2.0 ** ((m - 69) / 12)


def _melody(sr: int, dur: float, melody: list[int], chords: list[list[int]], bass_gain=0.5):
  n = int(dur * sr)
  mel = np.zeros(n)
  acc = np.zeros(n)
  step = dur / len(melody)
  for i, m in enumerate(melody):
    s = int(i * step * sr)
    note = _note(_midi(m), step * 1.5, sr, n_harm=10, decay=2.5)
    e = min(n, s + note.size)
    mel[s:e] += note[: e - s]
  cstep = dur / len(chords)
  for i, chord in enumerate(chords):
    s = int(i * cstep * sr)
    for m in chord:
      note = _note(_midi(m), cstep * 1.2, sr, n_harm=6, decay=1.5)
      e = min(n, s + note.size)
      acc[s:e] += bass_gain * note[: e - s]
  return mel, acc


def make_tests() -> dict:
  global RNG
  RNG = np.random.default_rng(12345)
  out = {}

  # Speech.
  y, sr = _espeak("The quick brown fox jumps over the lazy dog.", "en-us", speed=170)
  y16 = soxr.resample(y, sr, 16000, quality="VHQ")
  out["speech_16k.wav"] = (_normalize(y16), 16000, "PCM_16")

  y, sr = _espeak("She sells sea shells by the sea shore.", "en-gb+f3", speed=165, pitch=60)
  out["speech_22k.wav"] = (_normalize(y), sr, "PCM_16")

  y, sr = _espeak("Please call me back at five two three, four nine.", "en-us+m3", speed=190)
  y8 = soxr.resample(y, sr, 8000, quality="VHQ")
  # Telephone band: 300-3400 Hz, zero-phase FFT mask with smooth edges.
  spec = np.fft.rfft(y8)
  f = np.fft.rfftfreq(y8.size, 1 / 8000)
  mask = 1 / (1 + (300 / np.maximum(f, 1e-3)) ** 8) / (1 + (f / 3400) ** 16)
  y8 = np.fft.irfft(spec * mask, n=y8.size)
  out["speech_8k.wav"] = (_normalize(y8, 0.7), 8000, "PCM_16")

  # Music.
  sr = 22050
  mel, acc = _melody(
      sr, 3.0, [72, 74, 76, 79, 77, 76, 74, 72, 71, 72, 74, 67],
      [[48, 55, 64], [53, 57, 60], [55, 59, 62], [48, 52, 60]],
  )
  out["music_22k.wav"] = (_fade(_normalize(mel + acc, 0.9), sr), sr, "FLOAT")

  sr = 44100
  # sox synth with several tones writes one channel per tone; build the chord progression note
  # by note instead so each chord gets its own onset.
  parts = []
  for chord in ([-21, -17, -14, -9], [-16, -12, -9, -4], [-14, -10, -7, -2], [-21, -14, -9, -5]):
    chans = []
    for semitone in chord:
      chans.append(
          _sox_synth(sr, ["synth", "0.6", "pluck", f"%{semitone}", "fade", "0", "0.6", "0.05"]))
    parts.append(np.sum(chans, axis=0))
  out["music_44k.flac"] = (_fade(_normalize(np.concatenate(parts), 0.85), sr), sr, "PCM_16")

  sr = 48000
  mel, acc = _melody(sr, 1.2, [67, 71, 74, 79, 78, 74], [[43, 50], [38, 45]], bass_gain=0.8)
  left = 0.8 * mel + 0.3 * acc
  right = 0.3 * mel + 0.8 * acc
  # A little delay on the right channel so the channels are not a linear mix of each other.
  right = np.concatenate([np.zeros(240), right[:-240]])
  stereo = np.stack([left, right])
  out["music_stereo_48k.wav"] = (_fade(_normalize(stereo, 0.9), sr), sr, "PCM_24")

  sr = 22050
  notes = [-9, -5, -2, 3, -2, -5, -9, -14]
  arp = np.concatenate([
      _sox_synth(sr, ["synth", "0.25", "pluck", f"%{s}", "fade", "0", "0.25", "0.02"])
      for s in notes
  ])
  out["music_22k.ogg"] = (_fade(_normalize(arp, 0.8), sr), sr, "VORBIS")

  # Synthetic signals.
  sr = 22050
  t = np.arange(int(2.0 * sr)) / sr
  f0, f1, dur = 60.0, 10000.0, 2.0
  k = np.log(f1 / f0) / dur
  chirp = 0.5 * np.sin(2 * np.pi * f0 * (np.exp(k * t) - 1) / k)
  out["chirp_22k.wav"] = (_fade(chirp, sr), sr, "FLOAT")

  n = int(0.5 * sr)
  burst = np.concatenate([np.zeros(n), _fade(0.3 * RNG.standard_normal(n), sr, 0.002), np.zeros(n)])
  out["noise_burst_22k.wav"] = (np.clip(burst, -0.99, 0.99), sr, "PCM_16")

  out["silence_22k.wav"] = (np.zeros(sr), sr, "PCM_16")

  t = np.arange(1000) / sr
  out["short_22k.wav"] = (0.6 * np.sin(2 * np.pi * 440 * t) * np.exp(-t / 0.02), sr, "PCM_16")

  return out


def make_examples() -> dict:
  global RNG
  RNG = np.random.default_rng(2024)
  out = {}
  y, sr = _espeak(
      "Differentiable audio signal processing in JAX.", "en-us",
      speed=165,
  )
  y16 = soxr.resample(y, sr, 16000, quality="VHQ")
  out["speech.wav"] = (_normalize(y16), 16000, "PCM_16")

  sr = 22050
  mel, acc = _melody(
      sr, 4.0, [64, 67, 72, 71, 69, 67, 65, 64, 62, 64, 67, 72, 74, 72, 71, 72],
      [[48, 52, 55], [45, 48, 52], [41, 45, 48], [43, 47, 50]],
  )
  out["music.flac"] = (_fade(_normalize(mel + acc, 0.9), sr), sr, "PCM_16")

  t = np.arange(int(2.0 * sr)) / sr
  f0, f1, dur = 60.0, 10000.0, 2.0
  k = np.log(f1 / f0) / dur
  chirp = 0.5 * np.sin(2 * np.pi * f0 * (np.exp(k * t) - 1) / k)
  out["chirp.flac"] = (_fade(chirp, sr), sr, "PCM_16")
  return out


def write(out: dict, directory: pathlib.Path) -> None:
  directory.mkdir(parents=True, exist_ok=True)
  total = 0
  for name, (y, sr, subtype) in out.items():
    path = directory / name
    data = y.T if y.ndim == 2 else y
    data = data.astype(np.float32 if subtype == "FLOAT" else np.float64)
    sf.write(path, data, sr, subtype=subtype)
    size = path.stat().st_size
    total += size
    print(f"{name:24s} sr={sr:6d} ch={1 if y.ndim == 1 else y.shape[0]} "
          f"n={y.shape[-1]:7d} ({y.shape[-1] / sr:.2f} s) {subtype:7s} {size / 1024:7.1f} KB")
  print(f"{directory}: total {total / 1024:.1f} KB")


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--tests", action="store_true", help="only write tests/data/")
  parser.add_argument("--examples", action="store_true", help="only write jaxdsp/examples_audio/")
  args = parser.parse_args()
  both = not (args.tests or args.examples)
  if args.tests or both:
    write(make_tests(), HERE)
  if args.examples or both:
    write(make_examples(), EXAMPLES_DIR)


if __name__ == "__main__":
  main()
