"""The committed test audio in ``tests/data/`` (made by ``tests/data/make_test_audio.py``).

Usage from any test file::

    from audio_corpus import CLIPS, MONO_CLIPS, load_clip
    y, sr = load_clip("speech_22k")          # float32 NumPy, (n,) mono or (channels, n) stereo

``CLIPS`` maps a clip name to its path; ``INFO`` gives its sample rate, channel count, kind and
format. Every clip is 0.05–3 s long; all together they are about 1.2 MB.
"""

from __future__ import annotations

import functools
import pathlib
from typing import NamedTuple

import numpy as np
import soundfile as sf

DATA_DIR = pathlib.Path(__file__).resolve().parent / "data"


class ClipInfo(NamedTuple):
  filename: str
  sr: int
  channels: int
  kind: str  # "speech", "music", "chirp", "noise", "silence", "short"
  format: str  # libsndfile subtype as written


INFO: dict[str, ClipInfo] = {
    "speech_16k": ClipInfo("speech_16k.wav", 16000, 1, "speech", "PCM_16"),
    "speech_22k": ClipInfo("speech_22k.wav", 22050, 1, "speech", "PCM_16"),
    "speech_8k": ClipInfo("speech_8k.wav", 8000, 1, "speech", "PCM_16"),
    "music_22k": ClipInfo("music_22k.wav", 22050, 1, "music", "FLOAT"),
    "music_44k": ClipInfo("music_44k.flac", 44100, 1, "music", "PCM_16"),
    "music_stereo_48k": ClipInfo("music_stereo_48k.wav", 48000, 2, "music", "PCM_24"),
    "music_22k_ogg": ClipInfo("music_22k.ogg", 22050, 1, "music", "VORBIS"),
    "chirp_22k": ClipInfo("chirp_22k.wav", 22050, 1, "chirp", "FLOAT"),
    "noise_burst_22k": ClipInfo("noise_burst_22k.wav", 22050, 1, "noise", "PCM_16"),
    "silence_22k": ClipInfo("silence_22k.wav", 22050, 1, "silence", "PCM_16"),
    "short_22k": ClipInfo("short_22k.wav", 22050, 1, "short", "PCM_16"),  # 1000 samples
}

CLIPS: dict[str, pathlib.Path] = {name: DATA_DIR / info.filename for name, info in INFO.items()}

# Convenient groups.
MONO_CLIPS: tuple[str, ...] = tuple(n for n, i in INFO.items() if i.channels == 1)
STEREO_CLIPS: tuple[str, ...] = tuple(n for n, i in INFO.items() if i.channels > 1)
SPEECH_CLIPS: tuple[str, ...] = tuple(n for n, i in INFO.items() if i.kind == "speech")
MUSIC_CLIPS: tuple[str, ...] = tuple(n for n, i in INFO.items() if i.kind == "music")
# Clips with real content (not silence, not shorter than a 2048-sample frame).
CONTENT_CLIPS: tuple[str, ...] = tuple(
    n for n, i in INFO.items() if i.kind not in ("silence", "short")
)


@functools.lru_cache(maxsize=None)
def _read(name: str) -> tuple[np.ndarray, int]:
  if name not in CLIPS:
    raise KeyError(f"unknown clip {name!r}; known: {sorted(CLIPS)}")
  y, sr = sf.read(CLIPS[name], dtype="float32", always_2d=True)
  y = np.ascontiguousarray(y.T)  # (channels, n), librosa's mono=False layout
  if y.shape[0] == 1:
    y = y[0]
  y.setflags(write=False)
  return y, int(sr)


def load_clip(name: str, *, mono: bool = False) -> tuple[np.ndarray, int]:
  """Loads a clip as float32 NumPy: ``(n,)`` for mono files, ``(channels, n)`` for stereo.

  ``mono=True`` averages the channels of a multichannel clip (as ``librosa.to_mono``). The
  returned array is read-only and cached; copy it before writing.
  """
  y, sr = _read(name)
  if mono and y.ndim == 2:
    return np.mean(y, axis=0, dtype=np.float32), sr
  return y, sr


def all_clips(names=None):
  """Yields ``(name, y, sr)`` for every clip (or the given names)."""
  for name in names or CLIPS:
    y, sr = load_clip(name)
    yield name, y, sr
