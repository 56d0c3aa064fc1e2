"""features(): one jitted pass equal to the individual functions (and so to librosa), batch-invariant,
compiled once per shape."""

import sys

import jax
import librosa
import numpy as np
import pytest

import jaxdsp as jd
from audio_corpus import load_clip

KW = dict(n_fft=1024, hop_length=256, n_mels=64, n_mfcc=13)


def _individual(name, y, sr):
  stft = dict(n_fft=1024, hop_length=256)
  frames = dict(frame_length=1024, hop_length=256)
  return {
      "stft": lambda: jd.stft(y, **stft),
      "spectrogram": lambda: jd.spectrogram(y, **stft),
      "spectrogram_db": lambda: jd.amplitude_to_db(jd.spectrogram(y, **stft)),
      "melspectrogram": lambda: jd.melspectrogram(y, sr=sr, n_mels=64, **stft),
      "mfcc": lambda: jd.mfcc(y, sr=sr, n_mels=64, n_mfcc=13, **stft),
      "spectral_centroid": lambda: jd.spectral_centroid(y, sr=sr, **stft),
      "spectral_bandwidth": lambda: jd.spectral_bandwidth(y, sr=sr, **stft),
      "spectral_rolloff": lambda: jd.spectral_rolloff(y, sr=sr, **stft),
      "spectral_flatness": lambda: jd.spectral_flatness(y, **stft),
      "rms": lambda: jd.rms(y, **frames),
      "zero_crossing_rate": lambda: jd.zero_crossing_rate(y, **frames),
      "amplitude_envelope": lambda: jd.amplitude_envelope(y, **frames),
      "chroma_stft": lambda: jd.chroma_stft(y, sr=sr, tuning=0.0, **stft),
      "onset_strength": lambda: jd.onset_strength(y, sr=sr, n_mels=64, **stft),
      "spectral_contrast": lambda: jd.spectral_contrast(y, sr=sr, **stft),
      "poly_features": lambda: jd.poly_features(y, sr=sr, **stft),
  }[name]()


@pytest.mark.parametrize("clip", ["speech_22k", "music_stereo_48k", "short_22k"])
def test_features_equal_individual_functions(clip):
  y, sr = load_clip(clip)
  # the constant-Q features (whole-signal transforms) are tested in test_chroma_intervals.py
  names = tuple(n for n in jd.FEATURE_NAMES if n not in ("chroma_cens", "chroma_cqt", "chroma_vqt", "tonnetz"))
  out = jd.features(y, sr=sr, names=names, **KW)
  assert set(out) == set(names)
  for name, value in out.items():
    ref = np.asarray(_individual(name, y, sr))
    assert value.shape == ref.shape, name
    scale = max(np.max(np.abs(ref)), 1e-6)
    np.testing.assert_allclose(np.asarray(value), ref, rtol=1e-4, atol=1e-5 * scale, err_msg=name)


def test_default_set_matches_librosa():
  y, sr = load_clip("music_22k")
  out = jd.features(y, sr=sr, n_mels=64)
  assert set(out) == set(jd.DEFAULT_FEATURES)
  S = np.abs(librosa.stft(y))
  np.testing.assert_allclose(out["spectrogram"], S, atol=2e-6 * S.max())
  np.testing.assert_allclose(out["rms"], librosa.feature.rms(y=y)[0], atol=1e-6)
  np.testing.assert_allclose(out["zero_crossing_rate"], librosa.feature.zero_crossing_rate(y)[0], atol=1e-7)
  np.testing.assert_allclose(out["spectral_centroid"], librosa.feature.spectral_centroid(y=y, sr=sr)[0], rtol=1e-4)
  mel = librosa.feature.melspectrogram(y=y, sr=sr, n_mels=64)
  np.testing.assert_allclose(out["melspectrogram"], mel, atol=2e-6 * mel.max())


def test_batch_invariance():
  y1, sr = load_clip("speech_22k")
  y2 = 1e-3 * y1[::-1].copy()
  batch = jd.features(np.stack([y1, y2]), sr=sr, names=("mfcc", "spectrogram_db", "rms"), **KW)
  for i, y in enumerate([y1, y2]):
    alone = jd.features(y, sr=sr, names=("mfcc", "spectrogram_db", "rms"), **KW)
    for k in alone:
      scale = float(np.max(np.abs(alone[k])))
      np.testing.assert_allclose(batch[k][i], alone[k], rtol=1e-5, atol=1e-6 * scale + 1e-6, err_msg=k)


def test_compiles_once_per_shape():
  pipeline = sys.modules["jaxdsp._core.pipeline"]
  y = np.random.default_rng(12345).standard_normal((2, 4000)).astype(np.float32)
  names = ("rms", "spectral_centroid")
  jd.features(y, sr=16000, names=names, n_fft=512, hop_length=128)
  before = pipeline._run._cache_size()
  for seed in range(3):
    y = np.random.default_rng(seed).standard_normal((2, 4000)).astype(np.float32)
    jax.block_until_ready(jd.features(y, sr=16000, names=names, n_fft=512, hop_length=128))
  assert pipeline._run._cache_size() == before


def test_features_jit_vmap_grad():
  y = np.random.default_rng(12345).standard_normal((3, 4000)).astype(np.float32)
  f = lambda x: jd.features(x, sr=16000, names=("rms", "melspectrogram", "spectral_bandwidth"), n_fft=512,
                            hop_length=128, n_mels=32)
  eager, jitted, vmapped = f(y), jax.jit(f)(y), jax.vmap(f)(y)
  for k in eager:
    np.testing.assert_allclose(jitted[k], eager[k], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(vmapped[k], eager[k], rtol=1e-5, atol=1e-6)
  g = jax.grad(lambda x: sum(v.sum() for v in f(x).values()))(y)
  assert np.all(np.isfinite(np.asarray(g)))


@pytest.mark.parametrize("n", [33333, 5119])
def test_cpu_chunked_path_matches_librosa(monkeypatch, n):
  """The CPU path's cache-sized chunks, forced small (50 frames), change nothing: long signals are
  cut into overlapping pieces (n=33333), short ones grouped per step (n=5119)."""
  from jaxdsp._core import chunking
  monkeypatch.setattr(chunking, "CPU_CHUNK_BYTES", 50 * 1024 * 4)  # fresh lengths: fresh traces
  speech, sr = load_clip("speech_22k")
  music, _ = load_clip("music_22k")
  rows = [speech[:n], music[:n], music[-n:][::-1] * 0.1, np.zeros(n, np.float32)]
  y = np.stack(rows)
  out = jd.features(y, sr=sr, names=jd.DEFAULT_FEATURES, **KW)
  D = jd.stft(y, n_fft=1024, hop_length=256)
  stft_kw = dict(n_fft=1024, hop_length=256)
  single = {  # the individual functions reduce chunk by chunk too
      "bandwidth": jd.spectral_bandwidth(y, sr=sr, **stft_kw),
      "rolloff": jd.spectral_rolloff(y, sr=sr, **stft_kw),
      "flatness": jd.spectral_flatness(y, **stft_kw),
      "mel": jd.melspectrogram(y, sr=sr, n_mels=64, **stft_kw),
  }
  for i, x in enumerate(rows):
    S = np.abs(librosa.stft(x, n_fft=1024, hop_length=256))
    np.testing.assert_allclose(np.abs(D[i]), S, atol=2e-6 * max(S.max(), 1e-6))
    np.testing.assert_allclose(out["spectrogram"][i], S, atol=2e-6 * max(S.max(), 1e-6))
    np.testing.assert_allclose(out["rms"][i], librosa.feature.rms(y=x, frame_length=1024, hop_length=256)[0],
                               atol=1e-6)
    zcr = librosa.feature.zero_crossing_rate(x, frame_length=1024, hop_length=256)[0]
    np.testing.assert_allclose(out["zero_crossing_rate"][i], zcr, atol=1e-7)
    np.testing.assert_allclose(jd.zero_crossing_rate(x, frame_length=1024, hop_length=256), zcr, atol=1e-7)
    mel = librosa.feature.melspectrogram(S=S ** 2, sr=sr, n_mels=64)
    np.testing.assert_allclose(out["melspectrogram"][i], mel, atol=2e-6 * max(mel.max(), 1e-6))
    np.testing.assert_allclose(single["mel"][i], mel, atol=2e-6 * max(mel.max(), 1e-6))
    np.testing.assert_allclose(single["flatness"][i], librosa.feature.spectral_flatness(S=S)[0], atol=1e-4)
    if i < 3:  # silence has no centroid to compare
      np.testing.assert_allclose(out["spectral_centroid"][i],
                                 librosa.feature.spectral_centroid(S=S, sr=sr)[0], rtol=1e-4)
      # speech and music, not the pure tones where float32 bandwidth is ill-conditioned (see its docs)
      np.testing.assert_allclose(single["bandwidth"][i], librosa.feature.spectral_bandwidth(S=S, sr=sr)[0],
                                 rtol=1e-3)
      rolloff = librosa.feature.spectral_rolloff(S=S, sr=sr)[0]
      assert np.mean(np.asarray(single["rolloff"][i]) == rolloff) >= 0.99
