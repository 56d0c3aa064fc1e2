"""The constant-Q family against librosa 0.11 (``jaxdsp.constantq``).

Tolerances held (float32, errors relative to each clip's largest |C|, clips cropped to 1 s):

* ``cqt`` (CPU: librosa's recursion with ``jd.resample`` between octaves): ≤ 1e-4 on speech, music, chirp
  and the 1000-sample clip (measured ≤ 1.7e-5 on the full music clip, 1.8e-6 on speech); ``vqt``,
  ``pseudo_cqt``, ``hybrid_cqt`` likewise (measured ≤ 4e-5).
* ``res_type="halfband"`` and the one-kernel (accelerator) computation, which use a filter flat where
  soxr's pass band ripples, differ from librosa in the lowest octaves: ≤ 1e-2 overall (measured
  5.4e-3 on music, 4e-4 on speech, in the lowest octave) and ≤ 1e-4 in the top two octaves but for the
  last frames (the one-kernel form does not cut the decimated signal at the clip's end as librosa does:
  1.9e-3 on the last frame of the music crop).
* ``tuning=None``: ≤ 1e-4 (measured ≤ 1e-5) eagerly, and per example under ``jit``/``vmap`` and for a batch
  (kernels built in JAX from each example's estimate, ≤ 4e-6 of the NumPy kernels' peak).
* ``icqt``: ≤ 1e-2 of the peak of librosa's reconstruction (measured 2.2e-3 on music, 2.6e-6 on speech:
  the 64× upsampling of the lowest octave by ``jd.resample`` vs soxr); ``griffinlim_cqt`` with
  ``init=None``: ≤ 1e-3 on speech after 2 iterations.
"""


import jax
import jax.numpy as jnp
import librosa
import numpy as np
import pytest
from jax.test_util import check_grads

import jaxdsp as jd
from audio_corpus import load_clip

SR = 22050


@pytest.fixture(scope="module")
def clips():
  out = {}
  for name in ("music_22k", "speech_22k", "chirp_22k", "short_22k"):
    y, sr = load_clip(name)
    out[name] = np.ascontiguousarray(y[:SR])
  return out


def _rel(ours, ref):
  return np.abs(np.asarray(ours) - ref).max() / np.abs(ref).max()


@pytest.mark.parametrize("clip", ["music_22k", "speech_22k", "chirp_22k", "short_22k"])
def test_cqt_matches_librosa(clips, clip):
  y = clips[clip]
  ref = librosa.cqt(y, sr=SR)
  ours = jd.cqt(y, sr=SR)
  assert ours.shape == ref.shape and ours.dtype == jnp.complex64
  assert _rel(ours, ref) <= 1e-4


# Three octaves above A3: the settings of the tests that compile more than one transform.
SMALL = dict(sr=SR, fmin=220.0, n_bins=36)
INV = dict(sr=SR, fmin=220.0)


def test_vqt_pseudo_hybrid_match_librosa(clips):
  y = clips["music_22k"]
  assert _rel(jd.vqt(y, **SMALL), librosa.vqt(y, **SMALL)) <= 1e-4
  kw = dict(sr=SR, fmin=110.0, n_bins=60)
  assert _rel(jd.hybrid_cqt(y, **kw), librosa.hybrid_cqt(y, **kw)) <= 1e-4
  # other options: bins per octave, filter scale, norm, no scaling, another window, reflect padding
  kw = dict(sr=SR, fmin=220.0, n_bins=48, bins_per_octave=24, filter_scale=0.8, norm=2, scale=False,
            window="hamming", pad_mode="reflect", tuning=0.2, hop_length=256)
  assert _rel(jd.cqt(y, **kw), librosa.cqt(y, **kw)) <= 1e-4


def test_icqt_and_griffinlim_match_librosa(clips):
  for clip, tol in (("speech_22k", 1e-4), ("music_22k", 1e-2)):
    y = clips[clip]
    C = librosa.cqt(y, **SMALL)
    ref = librosa.icqt(C, **INV, length=len(y))
    assert _rel(jd.icqt(jnp.asarray(C), **INV, length=len(y)), ref) <= tol
  y = clips["speech_22k"][:8192]
  M = np.abs(librosa.cqt(y, **SMALL))
  ref = librosa.griffinlim_cqt(M, **INV, init=None, n_iter=2, length=len(y))
  assert _rel(jd.griffinlim_cqt(M, **INV, init=None, n_iter=2, length=len(y)), ref) <= 1e-3
  out = jd.griffinlim_cqt(M, **INV, n_iter=2, length=len(y), random_state=3)  # random start, seeded
  assert np.all(np.isfinite(np.asarray(out)))


def test_tuning_none_estimates_per_example(clips):
  y = clips["music_22k"]
  assert _rel(jd.cqt(y, **SMALL, tuning=None), librosa.cqt(y, **SMALL, tuning=None)) <= 1e-4
  # under jit and vmap, and for a batch, each example with its own estimate (kernels built in JAX from it)
  tone = (0.5 * np.sin(2 * np.pi * 440.0 * 2 ** (0.3 / 12) * np.arange(SR // 2) / SR)).astype(np.float32)
  batch = np.stack([y[: SR // 2], clips["speech_22k"][: SR // 2], tone])
  assert len({float(librosa.estimate_tuning(y=r, sr=SR, bins_per_octave=12)) for r in batch}) == 3
  # where the filter layout changes within the estimates' range, a concrete batch goes example by example
  odd = dict(sr=SR, fmin=372.8, n_bins=12, tuning=None)
  np.testing.assert_array_equal(jd.cqt(batch[1:], **odd)[0], jd.cqt(batch[1], **odd))
  refs = [librosa.cqt(r, **SMALL, tuning=None) for r in batch]
  traced = jax.jit(jax.vmap(lambda r: jd.cqt(r, **SMALL, tuning=None)))(jnp.asarray(batch))
  eager = jd.cqt(batch, **SMALL, tuning=None)  # the same compiled function, unbatched by vmap
  for i, ref in enumerate(refs):
    assert _rel(traced[i], ref) <= 1e-4 and _rel(eager[i], ref) <= 1e-4, i


def test_frequencies_and_filters_match_librosa():
  np.testing.assert_allclose(jd.cqt_frequencies(84, fmin=32.7, tuning=0.3),
                             librosa.cqt_frequencies(84, fmin=32.7, tuning=0.3), rtol=1e-12)
  freqs = librosa.cqt_frequencies(36, fmin=110.0, bins_per_octave=12)
  for gamma in (0, None, 3.0):
    ours = jd.wavelet_lengths(freqs=freqs, sr=SR, gamma=gamma)
    ref = librosa.filters.wavelet_lengths(freqs=freqs, sr=SR, gamma=gamma)
    np.testing.assert_allclose(ours[0], ref[0], rtol=1e-12)
    assert ours[1] == pytest.approx(ref[1], rel=1e-12)
  ours, lengths = jd.wavelet_filterbank(freqs=freqs, sr=SR)
  ref, ref_lengths = librosa.filters.wavelet(freqs=freqs, sr=SR)
  np.testing.assert_allclose(lengths, ref_lengths)
  np.testing.assert_allclose(ours, ref, atol=1e-7)  # librosa's filters are complex64


def test_tone_peaks_at_its_bin():
  for midi in (45, 69, 90):
    f0 = 440.0 * 2 ** ((midi - 69) / 12)
    y = np.sin(2 * np.pi * f0 * np.arange(SR) / SR).astype(np.float32)
    C = np.abs(np.asarray(jd.cqt(y, sr=SR)))
    assert int(C[:, 20].argmax()) == midi - 24  # bin 0 is C1 = MIDI 24


def test_jit_vmap_grad():
  rng = np.random.default_rng(12345)
  batch = rng.standard_normal((2, 2048)).astype(np.float32)
  f = lambda y: jd.cqt(y, **SMALL, hop_length=64)  # noqa: E731
  direct = f(batch)
  loop = np.stack([np.asarray(f(row)) for row in batch])
  np.testing.assert_allclose(direct, loop, atol=1e-6)
  np.testing.assert_allclose(jax.jit(jax.vmap(f))(jnp.asarray(batch)), loop, atol=1e-6)
  loss = lambda y: jnp.sum(jnp.abs(f(y)) ** 2)  # noqa: E731
  g = jax.grad(loss)(jnp.asarray(batch[0]))
  assert g.shape == (2048,) and np.all(np.isfinite(np.asarray(g)))
  with jax.enable_x64(True):
    tiny = jnp.asarray(rng.standard_normal(256))
    check_grads(lambda y: jnp.sum(jnp.abs(jd.cqt(y, sr=SR, fmin=2000.0, n_bins=12, hop_length=64)) ** 2),
                (tiny,), order=1, modes=("rev",))


def test_bad_input():
  y = np.zeros(4096, np.float32)
  with pytest.raises(ValueError, match="n_bins"):
    jd.cqt(y, n_bins=0)
  with pytest.raises(ValueError, match="hop_length"):
    jd.cqt(y, hop_length=0)
  with pytest.raises(ValueError, match="fmin"):
    jd.cqt(y, fmin=-1.0)
  with pytest.raises(ValueError, match="Nyquist"):
    jd.cqt(y, n_bins=120)
  with pytest.raises(ValueError, match="window"):
    jd.cqt(y, window="kaiser")
  with pytest.raises(ValueError, match="sparsity"):
    jd.cqt(y, sparsity=1.5)
  with pytest.raises(ValueError, match="res_type"):
    jd.cqt(y, res_type="fft")
  with pytest.raises(ValueError, match="pad_mode"):
    jd.cqt(y, pad_mode="mirror")
  with pytest.raises(TypeError, match="y"):
    jd.cqt(np.zeros(4096, np.int16))
  with pytest.raises(TypeError, match="dtype"):
    jd.cqt(y, dtype=np.float32)
  with pytest.raises(TypeError, match="tuning"):
    jd.cqt(y, tuning="sharp")
  with pytest.raises(ValueError, match="tuning=None"):  # the pseudo-CQT part builds its filters in NumPy
    jax.jit(lambda y: jd.hybrid_cqt(y, tuning=None))(y)
  with pytest.raises(ValueError, match="tuning=None"):  # the longest filter passes 1024 samples within the range
    jax.jit(lambda y: jd.cqt(y, fmin=372.8, n_bins=12, tuning=None))(y)
  with pytest.raises(ValueError, match="intervals"):
    jd.vqt(y, intervals="ji9")
  with pytest.raises(ValueError, match="hop_length"):
    jd.pseudo_cqt(y, hop_length=2**40)
  with pytest.raises(ValueError, match="bins_per_octave"):
    jd.cqt(y, bins_per_octave=2**40)
  with pytest.raises(ValueError, match="length"):
    jd.icqt(np.ones((12, 4), np.complex64), length=2**40)
  with pytest.raises(ValueError, match="n_iter"):
    jd.griffinlim_cqt(np.ones((12, 4), np.float32), n_iter=2**40)
  with pytest.raises(ValueError, match="sr"):
    jd.wavelet_lengths(freqs=[220.0, 440.0], sr=float("nan"))
  with pytest.raises(ValueError, match="C"):
    jd.icqt(np.zeros(8, np.complex64))
  with pytest.raises(ValueError, match="momentum"):
    jd.griffinlim_cqt(np.ones((12, 4), np.float32), momentum=-1.0)
  with pytest.raises(ValueError, match="init"):
    jd.griffinlim_cqt(np.ones((12, 4), np.float32), init="zeros")
  with pytest.raises(ValueError, match="freqs"):
    jd.wavelet_lengths(freqs=[440.0, 220.0])


def test_one_kernel_and_halfband_against_librosa(clips):
  """Last in the file: the forced layout clears the compilation caches."""
  y = clips["music_22k"]
  ref = librosa.cqt(y, sr=SR)
  fast = np.asarray(jd.cqt(y, sr=SR, res_type="halfband"))
  ji5 = dict(sr=SR, fmin=220.0, n_bins=24, intervals="ji5")
  with jd._core.force_layout(cpu=False):  # the accelerators' one-kernel computation, on CPU
    one = np.asarray(jd.cqt(y, sr=SR))
    V = np.asarray(jd.vqt(y[: SR // 2], **ji5))  # an interval set (measured 5.8e-4)
  assert _rel(V, librosa.vqt(y[: SR // 2], **ji5)) <= 1e-2
  for ours in (fast, one):
    assert ours.shape == ref.shape
    assert _rel(ours, ref) <= 1e-2
    # top two octaves, away from the clip's abrupt end (where librosa's decimated signal is cut short)
    top = np.abs(ours[-24:, :-2] - ref[-24:, :-2]).max() / np.abs(ref).max()
    assert top <= 1e-4


def test_learnable_cqt_front_end():
  from flax import nnx  # pylint: disable=import-outside-toplevel
  import optax  # pylint: disable=import-outside-toplevel
  kw = dict(sr=SR, fmin=880.0, n_bins=24, hop_length=128)
  m = jd.nn.LearnableCQT(**kw)
  y = np.random.default_rng(12345).standard_normal((2, 2048)).astype(np.float32)
  np.testing.assert_allclose(m.transform(y), jd.cqt(y, **kw, res_type="halfband"), atol=1e-5)
  assert m(y).shape == (2, 24, 17)
  target = jnp.zeros((2, 24, 17))
  opt = nnx.Optimizer(m, optax.adam(1e-3), wrt=nnx.Param)

  @nnx.jit
  def step(m, opt):
    loss, g = nnx.value_and_grad(lambda m: jnp.mean((m(y) - target) ** 2))(m)
    opt.update(m, g)
    return loss

  losses = [float(step(m, opt)) for _ in range(3)]
  assert all(np.isfinite(losses)) and losses[-1] < losses[0]
