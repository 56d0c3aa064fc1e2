"""Signal utilities (``jaxdsp.signal_utils``) against librosa 0.11 on the test clips.

Tolerances (float32): exact (0 difference) for to_mono, preemphasis, zero_crossings and quantised
mu-law; mu-law floats within 1e-6; normalize within 1e-6 relative; magphase magnitudes within 1e-6
relative, phases 1e-6; autocorrelate within 1e-6 of its lag-0 value; deemphasis within 1e-5 of
max|y| (float32 scan vs float64 lfilter, measured 2.4e-7); lpc within 1e-5 of librosa's float64
result (measured ≤ 1.3e-6 at order 16 on speech; librosa's own float32 run is 6e-5 off).
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
def speech():
  return load_clip("speech_22k")[0][:16384]


def test_to_mono_fix_length_normalize(speech):
  st, _ = load_clip("music_stereo_48k")
  np.testing.assert_array_equal(jd.to_mono(st), librosa.to_mono(st))
  np.testing.assert_array_equal(jd.to_mono(speech), speech)
  x = np.arange(12.0, dtype=np.float32).reshape(3, 4)
  for kw in (dict(size=6), dict(size=2), dict(size=4), dict(size=5, axis=0), dict(size=7, mode="edge"),
             dict(size=6, constant_values=-1.0)):
    np.testing.assert_array_equal(jd.fix_length(x, **kw), librosa.util.fix_length(x, **kw))
  S = np.abs(librosa.stft(speech[:4096], n_fft=512))
  S[:, 3] = 0.0  # a silent frame
  for kw in (dict(), dict(norm=2, axis=1), dict(norm=-np.inf), dict(norm=0), dict(norm=1, axis=None),
             dict(norm=2, fill=True, threshold=1e-3), dict(norm=np.inf, fill=False, threshold=1e-3),
             dict(norm=None), dict(norm=3.5, axis=-1)):
    ref = librosa.util.normalize(S, **kw)
    np.testing.assert_allclose(jd.normalize(S, **kw), ref, rtol=1e-6, atol=1e-6 * np.abs(ref).max())
  D = librosa.stft(speech[:4096], n_fft=512)
  np.testing.assert_allclose(jd.normalize(D, norm=2), librosa.util.normalize(D, norm=2), atol=1e-6)


def test_mu_law_and_emphasis(speech):
  x = np.clip(speech * 3, -1, 1)
  np.testing.assert_array_equal(jd.mu_compress(x), librosa.mu_compress(x))
  np.testing.assert_array_equal(jd.mu_compress(x, mu=15), librosa.mu_compress(x, mu=15))
  c = librosa.mu_compress(x, quantize=False)
  np.testing.assert_allclose(jd.mu_compress(x, quantize=False), c, atol=1e-6)
  c = np.clip(c, -1, 1)  # librosa's float64 division leaves 1 + 2e-8 at x = 1
  np.testing.assert_allclose(jd.mu_expand(c, quantize=False), librosa.mu_expand(c, quantize=False), atol=1e-6)
  q = librosa.mu_compress(x)
  np.testing.assert_allclose(jd.mu_expand(q), librosa.mu_expand(q), atol=1e-6)
  for kw in (dict(), dict(coef=0.5, zi=0.3), dict(coef=0.0)):
    ours, zf = jd.preemphasis(speech, return_zf=True, **kw)
    ref, ref_zf = librosa.effects.preemphasis(speech, return_zf=True, **kw)
    np.testing.assert_array_equal(ours, ref)
    np.testing.assert_allclose(zf, ref_zf, rtol=1e-6)
  scale = np.abs(speech).max()
  for kw in (dict(), dict(coef=0.8, zi=0.2)):
    ours, zf = jd.deemphasis(speech, return_zf=True, **kw)
    ref, ref_zf = librosa.effects.deemphasis(speech, return_zf=True, **kw)
    np.testing.assert_allclose(ours, ref, atol=1e-5 * np.abs(ref).max())
    np.testing.assert_allclose(zf, ref_zf, atol=1e-5 * scale)
  np.testing.assert_allclose(jd.deemphasis(jd.preemphasis(speech)), speech, atol=1e-5)


def test_zero_crossings_magphase_autocorrelate(speech):
  for kw in (dict(), dict(zero_pos=False), dict(pad=False, threshold=0.01), dict(ref_magnitude=np.max, threshold=0.05),
             dict(ref_magnitude=2.0, threshold=0.01)):
    np.testing.assert_array_equal(jd.zero_crossings(speech, **kw), librosa.zero_crossings(speech, **kw))
  two = np.stack([speech[:1000], speech[1000:2000]], axis=1)
  np.testing.assert_array_equal(jd.zero_crossings(two, axis=0), librosa.zero_crossings(two, axis=0))
  D = librosa.stft(speech[:4096], n_fft=512)
  D[5, 2] = 0
  for power in (1, 2):
    mag, phase = jd.magphase(D, power=power)
    ref_mag, ref_phase = librosa.magphase(D, power=power)
    np.testing.assert_allclose(mag, ref_mag, rtol=1e-6, atol=1e-6 * ref_mag.max())
    np.testing.assert_allclose(phase, ref_phase, atol=1e-6)
  for kw in (dict(), dict(max_size=300)):
    ref = librosa.autocorrelate(speech, **kw)
    np.testing.assert_allclose(jd.autocorrelate(speech, **kw), ref, atol=1e-6 * ref[0])
  z = (speech[:1000] + 1j * speech[1000:2000]).astype(np.complex64)
  ref = librosa.autocorrelate(z, max_size=50)
  np.testing.assert_allclose(jd.autocorrelate(z, max_size=50), ref, atol=1e-6 * np.abs(ref[0]))
  ref = librosa.autocorrelate(two, axis=0, max_size=40)
  np.testing.assert_allclose(jd.autocorrelate(two, axis=0, max_size=40), ref, atol=1e-6 * np.abs(ref).max())


@pytest.mark.parametrize("order", [1, 4, 16])
def test_lpc(speech, order):
  ref = librosa.lpc(speech.astype(np.float64), order=order)
  np.testing.assert_allclose(jd.lpc(speech, order=order), ref, atol=1e-5)
  # batch and axis: two segments along axis 0
  two = np.stack([speech[:4000], speech[4000:8000]], axis=0)
  np.testing.assert_allclose(jd.lpc(two.T, order=order, axis=0),
                             librosa.lpc(two.T.astype(np.float64), order=order, axis=0), atol=1e-5)


def _all(v):
  """Every function of the module on one signal (one compilation per transformation)."""
  return {
      "to_mono": jd.to_mono(jnp.stack([v, 0.5 * v])),
      "fix_length": jd.fix_length(v, size=v.shape[-1] + 100),
      "normalize": jd.normalize(v, norm=2),
      "mu": jd.mu_expand(jd.mu_compress(jnp.clip(v, -1, 1), quantize=False), quantize=False),
      "pre": jd.deemphasis(jd.preemphasis(v)),
      "mag": jd.magphase(jnp.fft.rfft(v))[0],
      "ac": jd.autocorrelate(v, max_size=64),
      "lpc": jd.lpc(v, order=8),
      "zc": jd.zero_crossings(v).astype(v.dtype),
      "muq": jd.mu_compress(jnp.clip(v, -1, 1)).astype(v.dtype),
  }


@pytest.mark.parametrize("transform", ["jit_vmap", "grad"])
def test_transformations(speech, transform):
  x = jnp.asarray(speech[3072:3584])
  if transform == "jit_vmap":  # one compiled _all serves the jit check and the vmap reference
    all_jit = jax.jit(_all)
    jitted, eager = all_jit(x), _all(x)
    for name in eager:
      np.testing.assert_allclose(jitted[name], eager[name], rtol=1e-5, atol=1e-5, err_msg=name)
    batch = jnp.stack([x, x[::-1] * 0.5, jnp.roll(x, 7)])
    out = jax.jit(jax.vmap(_all))(batch)  # one program (eager vmap compiles every primitive apart)
    for i, row in enumerate(batch):
      for name, value in all_jit(row).items():
        np.testing.assert_allclose(out[name][i], value, rtol=1e-5, atol=1e-5, err_msg=name)
  else:
    small = x[:256] / jnp.abs(x[:256]).max() * 0.9  # voiced speech, no exact zeros

    def loss(v, names):  # weighted sums, so that every output entry enters
      outs = _all(v)
      return sum((outs[k] * jnp.cos(jnp.arange(outs[k].size, dtype=v.dtype)).reshape(outs[k].shape)).sum()
                 for k in names)

    smooth = ("to_mono", "fix_length", "normalize", "mu", "pre", "mag", "ac", "lpc")
    with jax.enable_x64(True):
      check_grads(jax.jit(lambda v: loss(v, smooth)), (jnp.asarray(small, jnp.float64),), order=1, modes=("rev",),
                  atol=1e-3, rtol=1e-3, eps=1e-6)
    # quantised mu-law and zero crossings are piecewise constant: zero gradient
    assert bool(jnp.all(jax.jit(jax.grad(lambda v: loss(v, ("zc", "muq"))))(small) == 0))


def test_bad_input():
  y = np.ones(100, np.float32)
  with pytest.raises(TypeError, match="y"):
    jd.to_mono(np.ones(10, np.int16))
  with pytest.raises(ValueError, match="size"):
    jd.fix_length(y, size=-1)
  with pytest.raises(ValueError, match="axis"):
    jd.fix_length(y, size=3, axis=2)
  with pytest.raises(ValueError, match="norm"):
    jd.normalize(y, norm=-2)
  with pytest.raises(ValueError, match="fill"):
    jd.normalize(y, fill="yes")
  with pytest.raises(ValueError, match="fill"):
    jd.normalize(y, norm=0, fill=True)
  with pytest.raises(ValueError, match="threshold"):
    jd.normalize(y, threshold=0)
  with pytest.raises(ValueError, match="x"):
    jd.mu_compress(y * 2)
  with pytest.raises(ValueError, match="mu"):
    jd.mu_compress(y, mu=0)
  with pytest.raises(ValueError, match="x"):
    jd.mu_expand(np.array([300.0]))
  with pytest.raises(ValueError, match="coef"):
    jd.preemphasis(y, coef=np.nan)
  with pytest.raises(ValueError, match="zi"):
    jd.deemphasis(np.ones((2, 10), np.float32), zi=np.ones(3))
  with pytest.raises(ValueError, match="y"):
    jd.preemphasis(np.ones(1, np.float32))
  with pytest.raises(ValueError, match="threshold"):
    jd.zero_crossings(y, threshold=-1.0)
  with pytest.raises(ValueError, match="power"):
    jd.magphase(y, power=0)
  with pytest.raises(ValueError, match="max_size"):
    jd.autocorrelate(y, max_size=0)
  with pytest.raises(ValueError, match="order"):
    jd.lpc(y, order=0)
  with pytest.raises(ValueError, match="order"):
    jax.jit(lambda v: jd.lpc(v, order=200))(y)
  with pytest.raises(ValueError, match="non-finite"):
    jd.lpc(np.array([1.0, np.nan, 2.0, 3.0], np.float32), order=1)


def test_bad_input_of_fix_length_normalize_mu_law_and_magphase_names_the_argument():
  """Issue 13's grid: strings, host NaN, 0-d spectrograms and huge sizes raise naming the argument."""
  y = np.linspace(-0.5, 0.5, 16, dtype=np.float32)
  for fn, name in ((jd.fix_length, "data"), (jd.mu_compress, "x"), (jd.mu_expand, "x"), (jd.magphase, "D"),
                   (jd.normalize, "S")):
    kw = {"size": 8} if fn is jd.fix_length else {}
    with pytest.raises(TypeError, match=name):
      fn("abc", **kw)
  for fn, name in ((jd.fix_length, "data"), (jd.mu_expand, "x")):
    with pytest.raises(ValueError, match=name):
      fn(np.array([0.0, np.nan]), **({"size": 8} if fn is jd.fix_length else {"quantize": False}))
  with pytest.raises(ValueError, match="size"):
    jd.fix_length(y, size=2**40)
  with pytest.raises(ValueError, match="S"):
    jd.normalize(np.float32(2.0))  # axis 0 of a 0-d array
  assert float(jd.normalize(np.float32(-2.0), axis=None)) == -1.0
  assert float(jd.mu_expand(np.int32(0))) == 0.0 and int(jd.mu_compress(0)) == 0  # Python/NumPy 0-d ints
