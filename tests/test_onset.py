"""onset_strength(_multi), onset_detect, onset_backtrack against librosa 0.11 on the test clips.

Tolerances held (float32): onset strength within 1e-4 absolute (envelopes peak at 1–15; measured
≤ 3.4e-5, the dB mel spectrogram's round-off), with options (lag, max_size, detrend, median, hop)
and per channel the same, and with another ``feature`` (chroma, a mel spectrogram with its own
options: measured ≤ 7.7e-6); through ``features()`` identical to the function; onset_detect and
onset_backtrack give librosa's frames exactly on the music and speech envelopes.
"""

import jax
import jax.numpy as jnp
import librosa
import numpy as np
import pytest

import jaxdsp as jd
from audio_corpus import load_clip

# Crops of one length share one compiled pass; the short clip (1000 samples) is its own edge case.
CLIPS = ["music_22k", "speech_22k", "chirp_22k", "silence_22k", "short_22k"]
N = 22050


@pytest.mark.parametrize("clip", CLIPS)
def test_onset_strength_matches_librosa(clip):
  y, sr = load_clip(clip)
  y = y[:N]
  np.testing.assert_allclose(jd.onset_strength(y, sr=sr), librosa.onset.onset_strength(y=y, sr=sr), atol=1e-4)
  if clip == "music_22k":
    kw = dict(lag=2, max_size=3, detrend=True, hop_length=256)
    np.testing.assert_allclose(jd.onset_strength(y, sr=sr, aggregate=np.median, **kw),
                               librosa.onset.onset_strength(y=y, sr=sr, aggregate=np.median, **kw), atol=1e-4)
    ch = [0, 32, 64, 96, 128]
    np.testing.assert_allclose(jd.onset_strength_multi(y, sr=sr, channels=ch, **kw),
                               librosa.onset.onset_strength_multi(y=y, sr=sr, channels=ch, **kw), atol=1e-4)


def test_feature_matches_librosa():
  y, sr = load_clip("music_22k")
  y = y[:N]
  np.testing.assert_allclose(jd.onset_strength(y, sr=sr, feature=jd.chroma_stft),
                             librosa.onset.onset_strength(y=y, sr=sr, feature=librosa.feature.chroma_stft), atol=1e-4)
  kw = dict(n_mels=64, fmax=8000.0)
  np.testing.assert_allclose(jd.onset_strength(y, sr=sr, feature=jd.melspectrogram, feature_kwargs=kw),
                             librosa.onset.onset_strength(y=y, sr=sr, feature=librosa.feature.melspectrogram, **kw),
                             atol=1e-4)
  ch = [0, 6, 12]
  np.testing.assert_allclose(
      jd.onset_strength_multi(y, sr=sr, feature=jd.chroma_stft, channels=ch, lag=2),
      librosa.onset.onset_strength_multi(y=y, sr=sr, feature=librosa.feature.chroma_stft, channels=ch, lag=2), atol=1e-4)


def test_from_S_ref_and_features():
  y, sr = load_clip("music_22k")
  y = y[:N]
  S = librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=sr, n_mels=64))
  np.testing.assert_allclose(jd.onset_strength(S=S, sr=sr), librosa.onset.onset_strength(S=S, sr=sr), atol=1e-4)
  ref = np.roll(S, 1, axis=0)
  np.testing.assert_allclose(jd.onset_strength(S=S, ref=ref, center=False),
                             librosa.onset.onset_strength(S=S, ref=ref, center=False), atol=1e-4)
  f = jd.features(y, sr=sr, names=("onset_strength", "rms"))
  np.testing.assert_allclose(f["onset_strength"], jd.onset_strength(y, sr=sr), atol=1e-6)
  # the centring delay follows the STFT settings (n_fft // (2 hop_length): 1 frame here, 2 by default)
  f = jd.features(y, sr=sr, names=("onset_strength",), n_fft=1024, hop_length=512)
  np.testing.assert_allclose(f["onset_strength"], librosa.onset.onset_strength(y=y, sr=sr, n_fft=1024, hop_length=512),
                             atol=1e-4)
  assert "onset_strength" in jd.FEATURE_NAMES


def test_onset_detect_and_backtrack_match_librosa():
  for clip in ("music_22k", "speech_22k"):
    y, sr = load_clip(clip)
    y = y[:2 * N]
    env = librosa.onset.onset_strength(y=y, sr=sr)
    ref = librosa.onset.onset_detect(onset_envelope=env, sr=sr)
    np.testing.assert_array_equal(jd.onset_detect(onset_envelope=env, sr=sr), ref)
    np.testing.assert_array_equal(jd.onset_detect(onset_envelope=env, sr=sr, backtrack=True),
                                  librosa.onset.onset_detect(onset_envelope=env, sr=sr, backtrack=True))
    np.testing.assert_allclose(jd.onset_detect(onset_envelope=env, sr=sr, units="time", delta=0.2, wait=5),
                               librosa.onset.onset_detect(onset_envelope=env, sr=sr, units="time", delta=0.2, wait=5))
    rms = librosa.feature.rms(y=y)[0]
    np.testing.assert_array_equal(jd.onset_backtrack(ref, energy=rms), librosa.onset.onset_backtrack(ref, rms))
  assert jd.onset_detect(onset_envelope=np.zeros(50)).size == 0
  np.testing.assert_array_equal(jd.onset_detect(y[:N], sr=sr), librosa.onset.onset_detect(y=y[:N], sr=sr))


def test_transformations():
  y, sr = load_clip("music_22k")
  batch = np.stack([y[:N], y[N:2 * N]])
  # jit and vmap (== a loop) of the strength and of the detection mask
  f = jax.jit(jax.vmap(lambda x: jd.onset_strength(x, sr=sr)))
  loop = np.stack([np.asarray(jd.onset_strength(b, sr=sr)) for b in batch])
  np.testing.assert_allclose(f(batch), loop, atol=1e-5)
  masks = jax.jit(lambda e: jd.onset_detect(onset_envelope=e, sr=sr, sparse=False))(loop)
  for m, e in zip(np.asarray(masks), loop):
    np.testing.assert_array_equal(np.flatnonzero(m), jd.onset_detect(onset_envelope=e, sr=sr))
  # gradient: finite, and equal to finite differences on a tiny input (smooth away from the kinks)
  rng = np.random.default_rng(12345)
  x = jnp.asarray(rng.standard_normal(1024), jnp.float32)
  loss = lambda v: jnp.sum(jd.onset_strength(v, sr=sr, n_fft=256, hop_length=64, n_mels=16) ** 2)
  g = jax.grad(loss)(x)
  assert np.all(np.isfinite(g)) and np.any(g != 0)
  d = jnp.asarray(rng.standard_normal(1024), jnp.float32)
  eps = 1e-3
  fd = (loss(x + eps * d) - loss(x - eps * d)) / (2 * eps)
  np.testing.assert_allclose(jnp.vdot(g, d), fd, rtol=2e-2)
  # with another feature (chroma at a fixed tuning, as jit needs): jit == direct, finite gradient
  chroma = lambda v: jd.onset_strength(v, sr=sr, n_fft=256, hop_length=64, feature=jd.chroma_stft,  # noqa: E731
                                       feature_kwargs=dict(tuning=0.0))
  np.testing.assert_allclose(jax.jit(chroma)(x), chroma(x), atol=1e-5)
  g = jax.grad(lambda v: jnp.sum(chroma(v) ** 2))(x)
  assert np.all(np.isfinite(g)) and np.any(g != 0)


def test_bad_input():
  y = np.zeros(4096, np.float32)
  with pytest.raises(ValueError, match="lag"):
    jd.onset_strength(y, lag=0)
  with pytest.raises(ValueError, match="max_size"):
    jd.onset_strength(y, max_size=0, lag=2)
  with pytest.raises(ValueError, match="aggregate"):
    jd.onset_strength(y, aggregate="max")
  with pytest.raises(ValueError, match="channels"):
    jd.onset_strength_multi(y, channels=[0.5, 3])
  with pytest.raises(ValueError, match="y or S"):
    jd.onset_strength()
  with pytest.raises(ValueError, match="ref"):
    jd.onset_strength(S=np.zeros((8, 10)), ref=np.zeros((8, 9)))
  with pytest.raises(TypeError, match="y"):
    jd.onset_strength(np.zeros(4096, np.int16))
  with pytest.raises(TypeError, match="feature"):
    jd.onset_strength(y, feature="chroma")
  with pytest.raises(TypeError, match="feature_kwargs"):
    jd.onset_strength(y, feature=jd.chroma_stft, feature_kwargs=[("tuning", 0.0)])
  with pytest.raises(ValueError, match="feature_kwargs"):
    jd.onset_strength(y, feature_kwargs={"n_mels": 64})
  with pytest.raises(ValueError, match="feature"):
    jd.onset_strength(y, feature=lambda y, **kw: jnp.ones(5))
  with pytest.raises(ValueError, match="sparse"):
    jd.onset_detect(onset_envelope=np.zeros((2, 40)))
  with pytest.raises(ValueError, match="sparse"):
    jax.jit(lambda e: jd.onset_detect(onset_envelope=e))(jnp.zeros(40))
  with pytest.raises(ValueError, match="post_max"):
    jd.onset_detect(onset_envelope=np.ones(40), post_max=0)
  with pytest.raises(ValueError, match="units"):
    jd.onset_detect(onset_envelope=np.ones(40), units="beats")
  with pytest.raises(ValueError, match="energy"):
    jd.onset_backtrack(np.array([1]), energy=np.zeros((2, 5)))
