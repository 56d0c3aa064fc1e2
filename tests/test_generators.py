"""Generators (``jaxdsp.generators``) against librosa 0.11.

Tolerances: with Python-number parameters the phase is float64 on the host, so ``tone``/``chirp``
equal librosa's after the single float32 rounding (atol 1e-6; measured 0) and ``clicks`` within
1e-6 (measured ≤ 6e-8). With traced frequencies (float32 phase): ``tone`` within 1e-3 over 1 s at
440 Hz (measured 2.2e-4), ``chirp`` within 2e-2 over a 2 s 110–8000 Hz sweep (measured 8e-3).
"""

import jax
import jax.numpy as jnp
import librosa
import numpy as np
import pytest
from jax.test_util import check_grads

import jaxdsp as jd


def test_match_librosa():
  for kw in (dict(sr=22050, duration=1.0), dict(sr=16000, length=1234, phi=0.3)):
    np.testing.assert_allclose(jd.tone(440.0, **kw), librosa.tone(440.0, **kw), atol=1e-6)
  np.testing.assert_allclose(jd.tone(jnp.float32(440.0), sr=22050, duration=1.0),
                             librosa.tone(440.0, sr=22050, duration=1.0), atol=1e-3)
  for kw in (dict(duration=2.0), dict(duration=2.0, linear=True), dict(length=1000, phi=1.0),
             dict(fmin=440.0, fmax=440.0, length=500)):
    args = dict(dict(fmin=110.0, fmax=8000.0, sr=22050), **kw)
    ours, ref = jd.chirp(**args), librosa.chirp(**args)
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, atol=1e-6)
  traced = jd.chirp(fmin=jnp.float32(110.0), fmax=8000.0, sr=22050, duration=2.0)
  np.testing.assert_allclose(traced, librosa.chirp(fmin=110.0, fmax=8000.0, sr=22050, duration=2.0), atol=2e-2)
  for kw in (dict(times=[0.1, 0.5, 1.2]), dict(frames=[3, 10, 40], hop_length=256, length=10000),
             dict(times=[0.0, 0.99], length=22050, click_freq=2000.0, click_duration=0.05),
             dict(times=[0.2], click=np.full((2, 100), 0.5, np.float32)), dict(times=[0.3, 0.31], sr=8000)):
    ours, ref = jd.clicks(**kw), librosa.clicks(**kw)
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, atol=1e-6)


@pytest.mark.parametrize("transform", ["jit", "vmap", "grad"])
def test_transformations(transform):
  f = jnp.asarray([220.0, 330.0, 440.0])
  click = jnp.hanning(64).astype(jnp.float32)
  tone = lambda fr: jd.tone(fr, sr=8000, length=256)  # noqa: E731
  sweep = lambda fr: jd.chirp(fmin=fr, fmax=2000.0, sr=8000, length=256)  # noqa: E731
  track = lambda c: jd.clicks(times=[0.0, 0.01, 0.02], sr=8000, click=c, length=300)  # noqa: E731
  if transform == "jit":
    np.testing.assert_allclose(jax.jit(tone)(f[0]), tone(f[0]), atol=1e-5)
    np.testing.assert_allclose(jax.jit(sweep)(f[0]), sweep(f[0]), atol=1e-3)  # float32 phase, fused differently
    np.testing.assert_allclose(jax.jit(track)(click), track(click), atol=1e-6)
  elif transform == "vmap":
    np.testing.assert_allclose(jax.vmap(tone)(f), jnp.stack([tone(v) for v in f]), atol=1e-5)
    np.testing.assert_allclose(jax.vmap(sweep)(f), jnp.stack([sweep(v) for v in f]), atol=1e-3)
    clicks2 = jnp.stack([click, 2 * click])
    np.testing.assert_allclose(jax.vmap(track)(clicks2), track(clicks2), atol=1e-6)
  else:
    with jax.enable_x64(True):
      check_grads(jax.jit(lambda fr: jd.tone(fr, sr=8000, length=64).sum()), (jnp.float64(300.0),), order=1, modes=("rev",))
      check_grads(jax.jit(lambda fr: jd.chirp(fmin=fr, fmax=2000.0, sr=8000, length=64).sum()), (jnp.float64(300.0),),
                  order=1, modes=("rev",))
    # the click track is linear in the click: its gradient is the number of (uncut) copies per sample
    g = jax.grad(lambda c: track(c).sum())(click)
    np.testing.assert_allclose(g, np.full(64, 3.0), atol=1e-6)


def test_bad_input():
  with pytest.raises(ValueError, match="length or duration"):
    jd.tone(440.0)
  with pytest.raises(ValueError, match="frequency"):
    jd.tone(-1.0, length=10)
  with pytest.raises(ValueError, match="length"):
    jd.tone(440.0, length=0)
  with pytest.raises(ValueError, match="fmin"):
    jd.chirp(fmin=None, fmax=100.0, length=10)
  with pytest.raises(ValueError, match="sr"):
    jd.chirp(fmin=10.0, fmax=100.0, sr=0, length=10)
  with pytest.raises(ValueError, match="times or frames"):
    jd.clicks()
  with pytest.raises(ValueError, match="click_duration"):
    jd.clicks(times=[0.1], click_duration=0)
  with pytest.raises(TypeError, match="click"):
    jd.clicks(times=[0.1], click=np.ones(10, np.int16))
  # Sizes past int32 and non-finite phases are refused before anything is allocated or traced.
  with pytest.raises(ValueError, match="length"):
    jd.tone(440.0, length=2**40)
  with pytest.raises(ValueError, match="duration"):
    jd.chirp(fmin=10.0, fmax=100.0, duration=1e30)
  with pytest.raises(ValueError, match="length"):
    jd.clicks(times=[0.1], length=2**40)
  with pytest.raises(TypeError, match="phi"):
    jd.chirp(fmin=10.0, fmax=100.0, length=10, phi=float("nan"))
  with pytest.raises(TypeError, match="phi"):
    jd.tone(440.0, length=10, phi=float("inf"))
