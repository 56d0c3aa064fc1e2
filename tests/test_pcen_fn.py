"""``jaxdsp.pcen`` (the function) against ``librosa.pcen`` on a real mel spectrogram.

Tolerance: within 1e-5 of max|P| for every variant (float32 matrix-form smoother vs librosa's float64 lfilter on a
float32 input; measured ≤ 3e-6), including ``gain = 0``, ``bias = 0``, ``power = 0``, the
max-filtered reference, a given ``zi`` and other powers (0.25, 1, 2); the final state ``zf`` within
1e-6 relative, also over 1024 frames (the smoother's scan over segments).
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
def mel():
  y, sr = load_clip("speech_22k")
  return librosa.feature.melspectrogram(y=y, sr=sr, n_mels=64) * 2**31


@pytest.mark.parametrize("kw", [dict(), dict(gain=0.0), dict(bias=0.0), dict(power=0.0), dict(max_size=3),
                                dict(b=0.5, time_constant=0.1), dict(sr=16000, hop_length=160, eps=1e-3),
                                dict(power=0.25), dict(power=1.0, bias=10.0), dict(power=2.0, b=1.0)])
def test_matches_librosa(mel, kw):
  ref = librosa.pcen(mel, **kw)
  np.testing.assert_allclose(jd.pcen(mel, **kw), ref, atol=1e-5 * np.abs(ref).max())


def test_state_and_axis(mel):
  zi = np.full((64, 1), 0.3)
  ours, zf = jd.pcen(mel, zi=zi, return_zf=True)
  ref, ref_zf = librosa.pcen(mel, zi=zi, return_zf=True)
  np.testing.assert_allclose(ours, ref, atol=1e-5 * np.abs(ref).max())
  np.testing.assert_allclose(zf, ref_zf, rtol=1e-6)
  # streaming: two halves with the state carried equal the whole
  half = mel.shape[-1] // 2
  first, z = jd.pcen(mel[:, :half], return_zf=True)
  second = jd.pcen(mel[:, half:], zi=z)
  np.testing.assert_allclose(jnp.concatenate([first, second], -1), jd.pcen(mel), rtol=1e-5, atol=1e-6)
  long = np.tile(mel[:4], 1 + 1100 // mel.shape[-1])[:, :1100]  # over 1024 frames: a scan over segments
  ref, ref_zf = librosa.pcen(long, zi=zi[:4], return_zf=True)
  ours, zf = jd.pcen(long, zi=zi[:4], return_zf=True)
  np.testing.assert_allclose(ours, ref, atol=1e-5 * np.abs(ref).max())
  np.testing.assert_allclose(zf, ref_zf, rtol=1e-6)
  ref = librosa.pcen(mel.T, axis=0, max_size=3, max_axis=1)
  np.testing.assert_allclose(jd.pcen(mel.T, axis=0, max_size=3, max_axis=1), ref, atol=1e-5 * np.abs(ref).max())
  D = librosa.stft(load_clip("speech_16k")[0][:8000], n_fft=512)
  with pytest.warns(UserWarning):
    ref = librosa.pcen(D)
  np.testing.assert_allclose(jd.pcen(D), ref, atol=1e-5 * np.abs(ref).max())


@pytest.mark.parametrize("transform", ["jit", "vmap", "grad"])
def test_transformations(mel, transform):
  S = jnp.asarray(mel[:, :60])
  fn = lambda s: jd.pcen(s, max_size=3)  # noqa: E731
  if transform == "jit":
    np.testing.assert_allclose(jax.jit(fn)(S), fn(S), rtol=1e-5)
  elif transform == "vmap":
    batch = jnp.stack([S, 0.5 * S, S[:, ::-1]])
    out = jax.vmap(fn)(batch)
    for i in range(3):
      np.testing.assert_allclose(out[i], fn(batch[i]), rtol=1e-5)
    np.testing.assert_allclose(fn(batch), out, rtol=1e-5)  # leading batch axes
  else:
    with jax.enable_x64(True):
      small = jnp.asarray(mel[:4, 10:30] / mel.max() * 100 + 0.1, jnp.float64)
      for kw in (dict(), dict(bias=0.0), dict(power=0.0)):
        check_grads(jax.jit(lambda s, kw=kw: jd.pcen(s, eps=1e-3, **kw).sum()), (small,), order=1, modes=("rev",))


def test_bad_input(mel):
  for name, value in (("gain", -1.0), ("bias", -0.1), ("power", -1.0), ("eps", 0.0), ("time_constant", 0.0),
                      ("max_size", 0), ("b", 1.5), ("hop_length", 0), ("axis", 2)):
    with pytest.raises(ValueError, match=name):
      jd.pcen(mel, **{name: value})
  with pytest.raises(ValueError, match="max_size"):
    jd.pcen(mel[0], max_size=3)
  with pytest.raises(ValueError, match="max_axis"):
    jd.pcen(mel, axis=0, max_size=3)
  with pytest.raises(ValueError, match="ref"):
    jd.pcen(mel, ref=mel[:3])
  with pytest.raises(ValueError, match="zi"):
    jd.pcen(mel, zi=np.ones((3, 2)))
  with pytest.raises(ValueError, match="S"):
    jd.pcen(np.full((4, 5), np.nan))
  np.testing.assert_array_equal(jd.pcen(mel[:4, :6], max_size=2**40), jd.pcen(mel[:4, :6], max_size=12))  # >= 2 n
  with pytest.raises(TypeError, match="S"):
    jax.jit(jd.pcen)(jnp.ones((4, 5), jnp.int32))
