"""Spectral contrast and polynomial features (``jaxdsp.spectral_shape``) against librosa 0.11.

Tolerances (float32): from a given ``S`` the contrast is within 1e-3 dB (measured ≤ 1.5e-5) and
from ``y`` with ``linear=True`` within 1e-6 of max|contrast| (measured ≤ 3e-7). In dB from ``y`` the
two float32 FFTs' round-off in near-empty bins (valleys 60+ dB under the band peak, e.g. above a
chirp or below music's lowest note) changes the valley's dB value by up to 16 dB, so the dB contrast
from ``y`` is compared on the bands and frames whose lowest bin lies within 60 dB of the largest
such bin and within 70 dB of their band's peak: within 0.5 dB there. ``poly_features`` within 1e-5 of each coefficient row's max
(measured ≤ 1.5e-6).
"""

import jax
import jax.numpy as jnp
import librosa
import numpy as np
import pytest
from jax.test_util import check_grads

import jaxdsp as jd
from audio_corpus import load_clip

CLIPS = ("music_22k", "chirp_22k")
N = 32768  # both clips cropped to one length: the parametrizations share their compiled shapes


@pytest.mark.parametrize("name", CLIPS)
def test_contrast_matches_librosa(name):
  y, sr = load_clip(name)
  y = y[:N]
  kw = dict(n_bands=4, fmin=300.0, quantile=0.1)
  ref = librosa.feature.spectral_contrast(y=y, sr=sr, linear=True, **kw)
  np.testing.assert_allclose(jd.spectral_contrast(y, sr=sr, linear=True, **kw), ref, atol=1e-6 * np.abs(ref).max())
  for kw in (dict(),):
    ref = librosa.feature.spectral_contrast(y=y, sr=sr, **kw)
    ours = np.asarray(jd.spectral_contrast(y, sr=sr, **kw))
    valley = _valleys(np.abs(librosa.stft(y)), sr, **kw)
    keep = (valley > valley.max() * 1e-3) & (ref < 70)  # valleys within 60 dB of the largest, 70 dB of their peak
    assert keep.mean() > 0.15, name  # a sweep leaves most bands empty at any time
    np.testing.assert_allclose(ours[keep], ref[keep], atol=0.5)
  S = np.abs(librosa.stft(y, n_fft=1024))
  ref = librosa.feature.spectral_contrast(S=S, sr=sr)
  np.testing.assert_allclose(jd.spectral_contrast(S=S, sr=sr), ref, atol=1e-3)
  freq = librosa.fft_frequencies(sr=sr, n_fft=1024) * 1.01
  ref = librosa.feature.spectral_contrast(S=S, sr=sr, freq=freq, n_bands=5)
  np.testing.assert_allclose(jd.spectral_contrast(S=S, sr=sr, freq=freq, n_bands=5), ref, atol=1e-3)
  for order in (0, 2):
    ref = librosa.feature.poly_features(y=y, sr=sr, order=order)
    scale = np.abs(ref).max(axis=1, keepdims=True)
    np.testing.assert_allclose(jd.poly_features(y, sr=sr, order=order) / scale, ref / scale, atol=1e-5)
  ref = librosa.feature.poly_features(S=S, sr=sr, order=2, freq=freq)
  scale = np.abs(ref).max(axis=1, keepdims=True)
  np.testing.assert_allclose(jd.poly_features(S=S, sr=sr, order=2, freq=freq) / scale, ref / scale, atol=1e-5)


def _valleys(S, sr, fmin=200.0, n_bands=6, quantile=0.02):
  """NumPy: each band's smallest magnitude per frame (librosa's bins at n_fft=2048), for the mask."""
  freq = librosa.fft_frequencies(sr=sr)
  edges = [0.0] + [fmin * 2.0**k for k in range(n_bands + 1)]
  return np.stack([S[(freq >= lo) & (freq <= hi)].min(axis=0) for lo, hi in zip(edges[:-1], edges[1:])])


def test_registry_and_features():
  y, sr = load_clip("speech_22k")
  y = y[:16384]
  out = jd.features(y, sr=sr, names=("spectral_contrast", "poly_features", "rms"))
  np.testing.assert_allclose(out["spectral_contrast"], jd.spectral_contrast(y, sr=sr), atol=1e-4)
  np.testing.assert_allclose(out["poly_features"], jd.poly_features(y, sr=sr), rtol=1e-5, atol=1e-9)
  batch = np.stack([y, y[::-1]])
  out = jd.features(batch, sr=sr, names=("spectral_contrast",))
  np.testing.assert_allclose(out["spectral_contrast"][1], jd.spectral_contrast(y[::-1], sr=sr), atol=1e-4)


@pytest.mark.parametrize("transform", ["jit", "vmap", "grad"])
def test_transformations(transform):
  y = jnp.asarray(load_clip("music_22k")[0][:8192])
  fn = lambda v: (jd.spectral_contrast(v), jd.poly_features(v, order=2))  # noqa: E731
  if transform == "jit":
    for a, b in zip(jax.jit(fn)(y), fn(y)):
      np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
  elif transform == "vmap":
    batch = jnp.stack([y, 0.5 * y, y[::-1]])
    out = jax.vmap(fn)(batch)
    for i in range(3):
      for a, b in zip(out, fn(batch[i])):
        np.testing.assert_allclose(a[i], b, rtol=1e-4, atol=1e-4)
  else:
    S = np.abs(librosa.stft(np.asarray(y[:4096]), n_fft=256))
    S = S + 0.01 + 0.01 * np.random.default_rng(0).uniform(size=S.shape)  # no ties in the silent bins
    with jax.enable_x64(True):
      S64 = jnp.asarray(S, jnp.float64)
      # the peak and valley selection is smooth away from ties between bins; a small step keeps the differences off them
      check_grads(jax.jit(lambda s: jd.spectral_contrast(S=s, sr=22050, fmin=400.0, n_bands=3).sum()), (S64,),
                  order=1, modes=("rev",), atol=1e-3, rtol=1e-3, eps=1e-7)
      check_grads(jax.jit(lambda s: (jd.poly_features(S=s, order=2) ** 2).sum()), (S64,), order=1, modes=("rev",))


def test_bad_input():
  y = np.zeros(4096, np.float32)
  with pytest.raises(ValueError, match="fmin"):
    jd.spectral_contrast(y, fmin=0.0)
  with pytest.raises(ValueError, match="Nyquist"):
    jd.spectral_contrast(y, sr=8000, n_bands=6)
  with pytest.raises(ValueError, match="quantile"):
    jd.spectral_contrast(y, quantile=1.0)
  with pytest.raises(ValueError, match="n_bands"):
    jd.spectral_contrast(y, n_bands=0)
  with pytest.raises(TypeError, match="linear"):
    jd.spectral_contrast(y, linear="yes")
  with pytest.raises(ValueError, match="freq"):
    jd.spectral_contrast(S=np.ones((9, 3), np.float32), freq=np.ones(5))
  with pytest.raises(ValueError, match="n_bands"):
    jd.spectral_contrast(y, n_bands=2**40)
  with pytest.raises(ValueError, match="n_fft"):  # the lowest band holds no bin of so coarse a spectrum
    jd.spectral_contrast(S=np.ones((33, 8), np.float32), n_fft=64)
  with pytest.raises(ValueError, match="order"):
    jd.poly_features(y, order=-1)
  with pytest.raises(ValueError, match="order"):
    jd.poly_features(y, order=2**40)
  with pytest.raises(ValueError, match="freq"):
    jd.poly_features(S=np.ones((9, 3), np.float32), freq=np.ones((9, 3)))
  with pytest.raises(ValueError, match="y"):
    jd.poly_features(y, S=np.ones((1025, 9), np.float32))
