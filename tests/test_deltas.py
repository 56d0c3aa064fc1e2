"""Deltas and stacking (``jaxdsp.deltas``) against librosa 0.11 on MFCCs of real clips.

Tolerances (float32 data, float64 weights): ``delta`` within 2e-5 of max|delta| in every mode
(measured ≤ 6e-7, 6e-6 with ``polyorder=3`` at the interp edges); ``stack_memory`` exact.
"""

import jax
import jax.numpy as jnp
import librosa
import numpy as np
import pytest
from jax.test_util import check_grads

import jaxdsp as jd
from audio_corpus import load_clip


@pytest.fixture(scope="module")
def mfcc():
  y, sr = load_clip("speech_16k")
  return librosa.feature.mfcc(y=y, sr=sr, n_mfcc=13, n_fft=512, hop_length=160)


@pytest.mark.parametrize("kw", [dict(), dict(order=2), dict(width=3), dict(width=7, order=2, mode="mirror"),
                                dict(mode="nearest"), dict(mode="wrap"), dict(mode="constant", cval=1.0),
                                dict(polyorder=3), dict(axis=0, width=5)])
def test_delta_matches_librosa(mfcc, kw):
  ref = librosa.feature.delta(mfcc, **kw)
  np.testing.assert_allclose(jd.delta(mfcc, **kw), ref, atol=2e-5 * np.abs(ref).max())


def test_stack_memory_matches_librosa(mfcc):
  for kw in (dict(), dict(n_steps=3, delay=2), dict(n_steps=3, delay=-2), dict(n_steps=4, mode="edge"),
             dict(n_steps=2, delay=-1, mode="wrap")):
    np.testing.assert_array_equal(jd.stack_memory(mfcc, **kw), librosa.feature.stack_memory(mfcc, **kw))
  np.testing.assert_array_equal(jd.stack_memory(mfcc[0], n_steps=3), librosa.feature.stack_memory(mfcc[0], n_steps=3))


@pytest.mark.parametrize("transform", ["jit", "vmap", "grad"])
def test_transformations(mfcc, transform):
  x = jnp.asarray(mfcc[:, :40])
  fn = lambda m: (jd.delta(m, order=2), jd.stack_memory(m, n_steps=3))  # noqa: E731
  if transform == "jit":
    for a, b in zip(jax.jit(fn)(x), fn(x)):
      np.testing.assert_allclose(a, b, atol=1e-4)
  elif transform == "vmap":
    batch = jnp.stack([x, 0.5 * x, x[:, ::-1]])
    out = jax.vmap(fn)(batch)
    for i in range(3):
      for a, b in zip(out, fn(batch[i])):
        np.testing.assert_allclose(a[i], b, atol=1e-4)
  else:
    with jax.enable_x64(True):
      x64 = jnp.asarray(mfcc[:2, :20], jnp.float64)
      check_grads(lambda m: (jd.delta(m) ** 2).sum() + (jd.stack_memory(m, delay=-1) ** 2).sum(), (x64,), order=1,
                  modes=("rev",))


def test_bad_input(mfcc):
  with pytest.raises(ValueError, match="width"):
    jd.delta(mfcc, width=4)
  with pytest.raises(ValueError, match="width"):
    jd.delta(mfcc[:, :5], width=9)
  with pytest.raises(ValueError, match="order"):
    jd.delta(mfcc, order=0)
  with pytest.raises(ValueError, match="mode"):
    jd.delta(mfcc, mode="reflect101")
  with pytest.raises(ValueError, match="polyorder"):
    jd.delta(mfcc, polyorder=9)
  with pytest.raises(TypeError, match="unexpected"):
    jd.delta(mfcc, window=3)
  with pytest.raises(ValueError, match="n_steps"):
    jd.stack_memory(mfcc, n_steps=0)
  with pytest.raises(ValueError, match="delay"):
    jd.stack_memory(mfcc, delay=0)
  with pytest.raises(ValueError, match="width"):
    jax.jit(lambda m: jd.delta(m, width=2))(mfcc)
  for fn in (jd.delta, jd.stack_memory):
    with pytest.raises(ValueError, match="data"):
      fn(np.where(np.arange(mfcc.size).reshape(mfcc.shape) == 3, np.nan, mfcc))
    with pytest.raises(TypeError, match="data"):
      fn("abc")
  with pytest.raises(ValueError, match="n_steps"):
    jd.stack_memory(mfcc, n_steps=2**40)
  with pytest.raises(ValueError, match="delay"):
    jd.stack_memory(mfcc, delay=2**40)
