"""tempogram, fourier_tempogram, tempo, beat_track against librosa 0.11.

Tolerances held (float32; librosa runs these in float64): the normalised tempogram within 1e-5
absolute (measured ≤ 2e-7), unnormalised within 1e-6 relative to its peak; the Fourier tempogram
within 1e-6 relative to its peak; tempo equal BPM (to float32, 1e-6 relative; the same lag); beat
frames identical on the music and speech clips (given envelope or signal, estimated or fixed bpm,
librosa's default prior or a ``scipy.stats`` uniform / log-normal one); plp within 5e-6 absolute (the
pulse peaks at 1; measured ≤ 1.1e-6).
"""

import jax
from jax.test_util import check_grads
import jax.numpy as jnp
import librosa
import numpy as np
import pytest
import scipy.stats

import jaxdsp as jd
from audio_corpus import load_clip


N = 88 * 512  # crops of 89 frames share the compiled shapes


@pytest.fixture(scope="module")
def envs():
  out = {}
  for clip in ("music_22k", "speech_22k"):
    y, sr = load_clip(clip)
    y = y[:N]
    out[clip] = (y, sr, librosa.onset.onset_strength(y=y, sr=sr))
  return out


def test_tempograms_match_librosa(envs):
  for clip, (_, sr, env) in envs.items():
    for kw in [dict(), dict(win_length=64, norm=None), dict(center=False, win_length=80, window="hamming")]:
      if clip != "music_22k" and kw:
        continue
      ref = librosa.feature.tempogram(onset_envelope=env, sr=sr, **kw)
      ours = np.asarray(jd.tempogram(onset_envelope=env, sr=sr, **kw))
      assert ours.shape == ref.shape
      np.testing.assert_allclose(ours, ref, atol=1e-6 * np.abs(ref).max() + 1e-6)
    ref = librosa.feature.fourier_tempogram(onset_envelope=env, sr=sr)
    np.testing.assert_allclose(jd.fourier_tempogram(onset_envelope=env, sr=sr), ref, atol=1e-6 * np.abs(ref).max())
  np.testing.assert_allclose(jd.tempo_frequencies(384, sr=22050), librosa.tempo_frequencies(384, sr=22050))


def test_tempo_and_beats_match_librosa(envs):
  for clip, (y, sr, env) in envs.items():
    np.testing.assert_allclose(jd.tempo(onset_envelope=env, sr=sr), librosa.feature.tempo(onset_envelope=env, sr=sr)[0],
                               rtol=1e-6)
    np.testing.assert_allclose(jd.tempo(onset_envelope=env, sr=sr, aggregate=None, start_bpm=90),
                               librosa.feature.tempo(onset_envelope=env, sr=sr, aggregate=None, start_bpm=90), rtol=1e-6)
    bpm, beats = jd.beat_track(onset_envelope=env, sr=sr)
    bpm_ref, beats_ref = librosa.beat.beat_track(onset_envelope=env, sr=sr)
    np.testing.assert_allclose(bpm, bpm_ref[0], rtol=1e-6)
    np.testing.assert_array_equal(beats, beats_ref)
    _, beats = jd.beat_track(onset_envelope=env, sr=sr, bpm=100.0, units="time")
    np.testing.assert_allclose(beats, librosa.beat.beat_track(onset_envelope=env, sr=sr, bpm=100.0, units="time")[1])
  y, sr, _ = envs["music_22k"]
  bpm, beats = jd.beat_track(y, sr=sr)
  bpm_ref, beats_ref = librosa.beat.beat_track(y=y, sr=sr)
  np.testing.assert_allclose(bpm, bpm_ref[0], rtol=1e-6)
  np.testing.assert_array_equal(beats, beats_ref)
  assert jd.beat_track(onset_envelope=np.zeros(100))[1].size == 0


PRIORS = {"uniform": scipy.stats.uniform(30, 300), "lognorm": scipy.stats.lognorm(loc=np.log(120), scale=120, s=1)}


def test_priors_match_librosa(envs):
  for clip, (_, sr, env) in envs.items():
    for name, prior in PRIORS.items():
      np.testing.assert_allclose(jd.tempo(onset_envelope=env, sr=sr, prior=prior),
                                 librosa.feature.tempo(onset_envelope=env, sr=sr, prior=prior)[0], rtol=1e-6)
      np.testing.assert_allclose(jd.tempo(onset_envelope=env, sr=sr, prior=prior, aggregate=None),
                                 librosa.feature.tempo(onset_envelope=env, sr=sr, prior=prior, aggregate=None), rtol=1e-6)
      bpm, beats = jd.beat_track(onset_envelope=env, sr=sr, prior=prior)
      bpm_ref, beats_ref = librosa.beat.beat_track(onset_envelope=env, sr=sr, prior=prior)
      np.testing.assert_allclose(bpm, bpm_ref[0], rtol=1e-6)
      np.testing.assert_array_equal(beats, beats_ref)
  # a plain callable of BPM (here librosa's default prior written out) is the same as no prior
  _, sr, env = envs["music_22k"]
  default = lambda bpm: -0.5 * (np.log2(bpm) - np.log2(120.0)) ** 2  # noqa: E731
  np.testing.assert_allclose(jd.tempo(onset_envelope=env, sr=sr, prior=default, aggregate=None),
                             jd.tempo(onset_envelope=env, sr=sr, aggregate=None), rtol=1e-6)


@pytest.mark.filterwarnings("ignore:n_fft=")
def test_plp_matches_librosa(envs):
  for clip, (y, sr, _) in envs.items():
    env = librosa.onset.onset_strength(y=y, sr=sr, aggregate=np.median)
    for kw in (dict(), dict(tempo_min=None, tempo_max=None), dict(tempo_min=60, prior=PRIORS["lognorm"])):
      ref = librosa.beat.plp(onset_envelope=env, sr=sr, **kw)
      np.testing.assert_allclose(jd.plp(onset_envelope=env, sr=sr, **kw), ref, atol=5e-6)
    if clip == "music_22k":
      np.testing.assert_allclose(jd.plp(y, sr=sr), librosa.beat.plp(y=y, sr=sr), atol=5e-6)
      kw = dict(win_length=64, tempo_max=200)
      np.testing.assert_allclose(jd.plp(onset_envelope=env, sr=sr, **kw),
                                 librosa.beat.plp(onset_envelope=env, sr=sr, **kw), atol=5e-6)
  np.testing.assert_allclose(jd.fourier_tempo_frequencies(sr=sr, win_length=384),
                             librosa.fourier_tempo_frequencies(sr=sr, win_length=384))


def test_analytic_pulse_train():
  env = np.tile(np.r_[1.0, np.zeros(21)], 5)[:89].astype(np.float32)  # one onset every 22 frames
  assert abs(float(jd.tempo(onset_envelope=env)) - 60 * 22050 / (512 * 22)) < 1e-3
  np.testing.assert_array_equal(np.diff(jd.beat_track(onset_envelope=env)[1]), 22)
  np.testing.assert_array_equal(jd.beat_track(onset_envelope=env)[1], librosa.beat.beat_track(onset_envelope=env)[1])


def test_transformations(envs):
  _, sr, env = envs["music_22k"]
  batch = np.stack([env, env[::-1]])
  loop_tg = np.stack([np.asarray(jd.tempogram(onset_envelope=e, win_length=64)) for e in batch])
  tg = jax.jit(lambda e: jd.tempogram(onset_envelope=e, win_length=64))
  np.testing.assert_allclose(tg(batch), loop_tg, atol=1e-6)
  np.testing.assert_allclose(jax.vmap(tg)(batch), loop_tg, atol=1e-6)
  # beats under jit / vmap as masks (== the host positions of each example)
  track = jax.jit(lambda e: jd.beat_track(onset_envelope=e, sr=sr, sparse=False))
  bpms, masks = jax.vmap(track)(batch)
  for e, b, m in zip(batch, np.asarray(bpms), np.asarray(masks)):
    bpm, beats = jd.beat_track(onset_envelope=e, sr=sr)
    assert b == pytest.approx(bpm)
    np.testing.assert_array_equal(np.flatnonzero(m), beats)
  # gradients: the tempogram is smooth (FD-checked); tempo and beat positions are discrete (zero)
  x = jnp.asarray(np.random.default_rng(12345).random(48), jnp.float32)
  # (jitted: each check's evaluations share one compiled program; eager, every primitive compiles apart)
  check_grads(jax.jit(lambda e: jd.tempogram(onset_envelope=e, win_length=16, norm=None)), (x,), order=1,
              modes=("rev",), atol=2e-2, rtol=2e-2)
  g = jax.jit(jax.grad(lambda e: jd.tempo(onset_envelope=e, ac_size=0.5)))(x)
  assert np.all(g == 0)
  # plp: jit and vmap (== the loop); its gradient is finite and matches finite differences
  pulse = jax.jit(jax.vmap(lambda e: jd.plp(onset_envelope=e, sr=sr, win_length=64)))(batch)
  for p, e in zip(np.asarray(pulse), batch):
    np.testing.assert_allclose(p, jd.plp(onset_envelope=e, sr=sr, win_length=64), atol=1e-6)
  np.testing.assert_allclose(jd.plp(onset_envelope=batch, sr=sr, win_length=64), pulse, atol=1e-6)
  w = jnp.asarray(np.random.default_rng(1).standard_normal(48), jnp.float32)
  loss = lambda e: jnp.vdot(jd.plp(onset_envelope=e, win_length=16, tempo_min=None, tempo_max=None), w)  # noqa: E731
  value_and_grad = jax.jit(jax.value_and_grad(loss))  # one program: the gradient and both losses
  g = value_and_grad(x)[1]
  assert np.all(np.isfinite(g)) and np.any(g != 0)
  d = jnp.asarray(np.random.default_rng(2).standard_normal(48), jnp.float32)
  eps = 1e-3
  fd = (value_and_grad(x + eps * d)[0] - value_and_grad(x - eps * d)[0]) / (2 * eps)
  np.testing.assert_allclose(jnp.vdot(g, d), fd, rtol=5e-2, atol=1e-3)


def test_bad_input():
  env = np.ones(100, np.float32)
  with pytest.raises(ValueError, match="onset_envelope"):
    jd.tempogram()
  with pytest.raises(ValueError, match="win_length"):
    jd.tempogram(onset_envelope=env, win_length=0)
  with pytest.raises(ValueError, match="win_length"):
    jd.tempogram(onset_envelope=env[:10], win_length=64, center=False)
  with pytest.raises(ValueError, match="start_bpm"):
    jd.tempo(onset_envelope=env, start_bpm=0)
  with pytest.raises(ValueError, match="tightness"):
    jd.beat_track(onset_envelope=env, tightness=-1)
  with pytest.raises(ValueError, match="bpm"):
    jd.beat_track(onset_envelope=env, bpm=-5.0)
  with pytest.raises(ValueError, match="sparse"):
    jd.beat_track(onset_envelope=np.ones((2, 100)))
  with pytest.raises(ValueError, match="units"):
    jd.beat_track(onset_envelope=env, units="bars")
  with pytest.raises(TypeError, match="onset_envelope"):
    jd.tempo(onset_envelope=np.ones(100, np.int32))
  with pytest.raises(TypeError, match="prior"):
    jd.tempo(onset_envelope=env, prior=3.0)
  with pytest.raises(ValueError, match="prior"):
    jd.tempo(onset_envelope=env, prior=lambda bpm: np.zeros(3))
  with pytest.raises(TypeError, match="prior"):
    jd.beat_track(onset_envelope=env, prior="uniform")
  with pytest.raises(ValueError, match="start_bpm"):
    jd.beat_track(onset_envelope=env, start_bpm=0.0)
  with pytest.raises(ValueError, match="tempo_max"):
    jd.plp(onset_envelope=env, tempo_min=200, tempo_max=100)
  with pytest.raises(ValueError, match="tempo_min"):
    jd.plp(onset_envelope=env, tempo_min=-1.0)
  with pytest.raises(ValueError, match="win_length"):
    jd.plp(onset_envelope=env, win_length=0)
  with pytest.raises(ValueError, match="onset_envelope"):
    jd.plp()
  with pytest.raises(TypeError, match="prior"):
    jax.jit(lambda e: jd.plp(onset_envelope=e, prior=object()))(jnp.ones(100))
  with pytest.raises(ValueError, match="win_length"):
    jd.fourier_tempogram(onset_envelope=env, win_length=2**40)
