"""hpss, harmonic, percussive against librosa 0.11.

Tolerances held (float32): parts and masks within 1e-6 of the largest value (measured ≤ 2e-7), for
the default and for asymmetric kernels with margins, a power of 1 and masks (music and speech), and
binary (``power=inf``) masks of a magnitude input; harmonic/percussive audio within 1e-6 of the peak
(measured ≤ 3e-7).
"""

import jax
from jax.test_util import check_grads
import jax.numpy as jnp
import librosa
import numpy as np
import pytest

import jaxdsp as jd
from audio_corpus import load_clip

N = 22050


@pytest.fixture(scope="module")
def clips():
  return {c: load_clip(c)[0][:N] for c in ("music_22k", "speech_22k")}


def test_hpss_matches_librosa(clips):
  for clip, y in clips.items():
    D = librosa.stft(y)
    for kw in [dict(), dict(kernel_size=(17, 8), margin=(2.0, 3.0), power=1.0, mask=True)]:
      if clip != "music_22k" and kw:
        continue
      for ours, ref in zip(jd.hpss(D, **kw), librosa.decompose.hpss(D, **kw)):
        np.testing.assert_allclose(ours, ref, atol=1e-6 * np.abs(ref).max())
  y = clips["music_22k"]
  h, p = librosa.effects.harmonic(y), librosa.effects.percussive(y)
  np.testing.assert_allclose(jd.harmonic(y), h, atol=1e-6 * np.abs(h).max())
  np.testing.assert_allclose(jd.percussive(y), p, atol=1e-6 * np.abs(p).max())
  S = np.abs(np.random.default_rng(0).standard_normal((40, 30))).astype(np.float32)  # magnitude input, binary masks
  for ours, ref in zip(jd.hpss(S, kernel_size=5, power=np.inf), librosa.decompose.hpss(S, kernel_size=5, power=np.inf)):
    np.testing.assert_allclose(ours, ref, atol=1e-6)


def test_analytic_tone_and_click():
  S = np.zeros((64, 40), np.float32)
  S[10, :] = 1.0   # a steady tone: harmonic
  S[:, 20] = 1.0   # a click: percussive
  H, P = jd.hpss(S, kernel_size=7)
  assert float(H[10, 5]) == pytest.approx(1.0) and float(P[10, 5]) == pytest.approx(0.0)
  assert float(P[30, 20]) == pytest.approx(1.0) and float(H[30, 20]) == pytest.approx(0.0)


def test_transformations(clips):
  y = clips["music_22k"]
  batch = np.stack([y[:4096], y[4096:8192]])
  kw = dict(n_fft=512, kernel_size=9)
  loop = np.stack([np.asarray(jd.harmonic(b, **kw)) for b in batch])
  f = jax.jit(jax.vmap(lambda x: jd.harmonic(x, **kw)))
  np.testing.assert_allclose(f(batch), loop, atol=1e-6)
  # gradient: medians pass it to the selected element, soft masks are smooth where S > 0
  x = jnp.asarray(np.random.default_rng(12345).random((12, 10)) + 0.1, jnp.float32)
  # (jitted: each check's evaluations share one compiled program; eager, every primitive compiles apart)
  check_grads(jax.jit(lambda s: jd.hpss(s, kernel_size=3)[0]), (x,), order=1, modes=("rev",),
              atol=2e-2, rtol=2e-2)
  g = jax.jit(jax.grad(lambda v: jnp.sum(jd.percussive(v, **kw) ** 2)))(jnp.asarray(batch[0]))
  assert np.all(np.isfinite(g)) and np.any(g != 0)


def test_bad_input():
  S = np.ones((8, 8), np.float32)
  with pytest.raises(ValueError, match="margin"):
    jd.hpss(S, margin=0.5)
  with pytest.raises(ValueError, match="kernel_size"):
    jd.hpss(S, kernel_size=(3, 0))
  with pytest.raises(ValueError, match="power"):
    jd.hpss(S, power=0)
  with pytest.raises(ValueError, match="S"):
    jd.hpss(np.ones(8, np.float32))
  with pytest.raises(TypeError, match="y"):
    jd.harmonic(np.ones(4096, np.int16))


def test_huge_kernel_size_is_refused_before_allocating():
  """Issue 13's grid: ``kernel_size=2**40`` once raised a bare MemoryError (the median filter's stack)."""
  S = np.ones((9, 6), np.float32)
  for bad in (2**40, 2**31, (31, 2**30)):
    with pytest.raises(ValueError, match="kernel_size"):
      jd.hpss(S, kernel_size=bad)
  with pytest.raises(ValueError, match="kernel_size"):
    jd.harmonic(np.zeros(64, np.float32), kernel_size=2**40, n_fft=16)
