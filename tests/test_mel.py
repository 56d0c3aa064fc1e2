"""Mel scale, filterbank, melspectrogram and MFCC against librosa 0.11.

Tolerances held (float32): filterbank within 1e-7 absolute (built in float64); melspectrogram within
2e-6 × its max (measured ≤ 3e-7); MFCC within 2e-3 + 2e-5 × max|MFCC| (float32 round-off of dB values summed over the bands).
"""

import librosa
import numpy as np
import pytest

import jaxdsp as jd
from audio_corpus import load_clip


@pytest.mark.parametrize("htk", [False, True])
def test_mel_scale_matches_librosa(htk):
  f = np.linspace(0, 16000, 301)
  np.testing.assert_allclose(jd.hz_to_mel(f, htk=htk), librosa.hz_to_mel(f, htk=htk), rtol=1e-12)
  m = np.linspace(0, 60 if not htk else 3500, 101)
  np.testing.assert_allclose(jd.mel_to_hz(m, htk=htk), librosa.mel_to_hz(m, htk=htk), rtol=1e-12)
  np.testing.assert_allclose(jd.mel_to_hz(jd.hz_to_mel(f, htk=htk), htk=htk), f, atol=1e-8)
  # JAX in, JAX out, float32.
  np.testing.assert_allclose(jd.hz_to_mel(f.astype(np.float32).tolist() and np.float32(440.0), htk=htk),
                             librosa.hz_to_mel(440.0, htk=htk), rtol=1e-6)


@pytest.mark.parametrize("kw", [
    dict(sr=22050, n_fft=2048),
    dict(sr=16000, n_fft=512, n_mels=40, fmin=20.0, fmax=7600.0),
    dict(sr=8000, n_fft=256, n_mels=23, htk=True, norm=None),
    dict(sr=44100, n_fft=4096, n_mels=64, norm=2.0),
    dict(sr=22050, n_fft=1024, n_mels=128, norm=1.0, htk=True),
])
def test_filterbank_matches_librosa(kw):
  np.testing.assert_allclose(jd.mel_filterbank(**kw), librosa.filters.mel(**kw), atol=1e-7, rtol=1e-5)


@pytest.mark.parametrize("clip,kw", [
    ("speech_16k", dict(n_fft=512, hop_length=160, win_length=400, n_mels=40)),
    ("music_22k", dict(n_mels=128)),
    ("music_44k", dict(n_fft=4096, hop_length=1024, n_mels=64, fmin=30.0, htk=True, power=1.0)),
    ("speech_8k", dict(n_fft=256, hop_length=80, n_mels=23, center=False, norm=None)),
    ("silence_22k", dict(n_mels=64)),
])
def test_melspectrogram_and_mfcc_match_librosa(clip, kw):
  y, sr = load_clip(clip)
  M = np.asarray(jd.melspectrogram(y, sr=sr, **kw))
  ref = librosa.feature.melspectrogram(y=y, sr=sr, **kw)
  assert M.shape == ref.shape
  assert np.max(np.abs(M - ref)) <= 2e-6 * max(ref.max(), 1e-30)
  mkw = {("mel_norm" if k == "norm" else k): v for k, v in kw.items()}
  for extra in [dict(), dict(n_mfcc=13, lifter=22.0), dict(norm=None)]:
    ref = librosa.feature.mfcc(y=y, sr=sr, **mkw, **extra)
    np.testing.assert_allclose(jd.mfcc(y, sr=sr, **mkw, **extra), ref, atol=2e-3 + 2e-5 * np.abs(ref).max())


def test_mfcc_from_db_mel_and_stereo():
  y, sr = load_clip("music_stereo_48k")
  S_db = librosa.power_to_db(librosa.feature.melspectrogram(y=y[0], sr=sr, n_mels=64))
  np.testing.assert_allclose(jd.mfcc(S=S_db, n_mfcc=20), librosa.feature.mfcc(S=S_db, n_mfcc=20), atol=2e-3)
  # Per-channel top_db: each channel equals librosa on that channel alone.
  out = np.asarray(jd.mfcc(y, sr=sr, n_mels=64))
  for c in range(2):
    np.testing.assert_allclose(out[c], librosa.feature.mfcc(y=y[c], sr=sr, n_mels=64), atol=2e-3)


def test_melspectrogram_from_S():
  y, sr = load_clip("speech_22k")
  S = np.abs(librosa.stft(y, n_fft=1024)) ** 2
  np.testing.assert_allclose(jd.melspectrogram(S=S, sr=sr, n_mels=64),
                             librosa.feature.melspectrogram(S=S, sr=sr, n_mels=64), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("args", [
    (22050, 2048, 64, 0.0, None, False, "slaney"),
    (16000, 512, 40, 300.0, 6000.0, True, None),
    (22050, 1024, 128, 0.0, None, False, 2.0),
    (8000, 256, 128, 0.0, None, False, "slaney"),  # more filters than bins: some are empty
])
def test_banded_filterbank_product_equals_the_dense_one(args):
  """The CPU path multiplies each group of filters by its nonzero bins only: the groups cover every
  filter in order, the filterbank is zero outside them, and the product equals the dense one."""
  from jaxdsp._core import filters, reducers  # pylint: disable=import-outside-toplevel
  margs = filters.mel_args(*args)
  fb = filters.mel_np(*margs)
  bands = filters.bands(*margs)
  assert [m for g in bands for m in range(g[0], g[1])] == list(range(fb.shape[0]))
  for m0, m1, f0, f1 in bands:
    rows = fb[m0:m1].copy()
    rows[:, f0:f1] = 0
    assert not rows.any()
  if args[0] == 22050 and args[2] == 64:
    assert sum((m1 - m0) * (f1 - f0) for m0, m1, f0, f1 in bands) < fb.size / 5
  S_tf = np.random.default_rng(0).random((3, 50, fb.shape[1])).astype(np.float32)
  for axis, S in ((-1, S_tf), (-2, np.swapaxes(S_tf, -1, -2))):  # both spectrum layouts
    dense = np.asarray(reducers.mel(S, fb.astype(np.float32), (), axis))
    banded = np.asarray(reducers.mel(S, fb.astype(np.float32), bands, axis))
    np.testing.assert_allclose(banded, dense, rtol=1e-5, atol=1e-6 * np.abs(dense).max())
