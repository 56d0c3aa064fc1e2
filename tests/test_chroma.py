"""Chroma, tonnetz, piptrack and tuning against librosa 0.11 (``jaxdsp.chroma``).

Tolerances held (float32, clips cropped to 1 s):

* ``chroma_stft``: ≤ 2e-6 absolute (measured ≤ 9e-7) on music, speech, chirp and the 1000-sample
  clip, with ``tuning=0`` and with ``tuning=None`` (the same estimate as librosa's, eagerly and under
  ``jit``/``vmap``: measured ≤ 1.2e-6), from ``y`` and from ``S``, and through ``jd.features``.
* ``chroma_cqt``/``tonnetz`` before the per-frame normalisation: ≤ 1e-4 of the peak (it inherits the
  CQT's ≤ 2e-5; also with ``tuning=None`` under ``jit``); after it, ≤ 1e-3 on frames holding ≥ 1e-2 of the
  peak frame's energy (near-silent frames are ratios of round-off in both libraries). ``chroma_cens``: ≤ 1e-5 (quantised).
* ``piptrack``: pitches within 1e-3 Hz, magnitudes within 1e-5 of the peak; ``estimate_tuning`` and
  ``pitch_tuning``: equal to librosa's (on its 0.01 grid) on music, speech and detuned tones.
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
CLIPS = ("music_22k", "speech_22k", "chirp_22k", "short_22k")


@pytest.fixture(scope="module")
def clips():
  return {name: np.ascontiguousarray(load_clip(name)[0][:SR]) for name in CLIPS}


@pytest.mark.parametrize("clip", CLIPS)
def test_chroma_stft_matches_librosa(clips, clip):
  y = clips[clip]
  ref = librosa.feature.chroma_stft(y=y, sr=SR, tuning=0.0)
  np.testing.assert_allclose(jd.chroma_stft(y, sr=SR, tuning=0.0), ref, atol=2e-6)
  if clip == "music_22k":
    np.testing.assert_allclose(jd.chroma_stft(y, sr=SR), librosa.feature.chroma_stft(y=y, sr=SR), atol=2e-6)
    S = np.abs(librosa.stft(y, n_fft=1024, hop_length=256)) ** 2
    kw = dict(sr=SR, tuning=0.1, n_chroma=24, norm=2, octwidth=None, base_c=False)
    np.testing.assert_allclose(jd.chroma_stft(S=S, **kw), librosa.feature.chroma_stft(S=S, **kw), atol=2e-6)
    out = jd.features(y, sr=SR, names=("chroma_stft", "rms"))
    np.testing.assert_allclose(out["chroma_stft"], ref, atol=2e-6)


def test_chroma_filterbank_matches_librosa():
  for kw in (dict(sr=22050, n_fft=2048), dict(sr=16000, n_fft=512, n_chroma=24, tuning=-0.2, ctroct=4.0,
                                                  octwidth=None, norm=1, base_c=False)):
    np.testing.assert_allclose(jd.chroma_filterbank(**kw), librosa.filters.chroma(**kw), atol=1e-6)


def _energetic(chroma_raw, frac=1e-2):
  e = chroma_raw.sum(axis=0)
  return e >= frac * e.max()


@pytest.mark.parametrize("clip", ["music_22k", "speech_22k"])
def test_chroma_cqt_cens_tonnetz_match_librosa(clips, clip):
  y = clips[clip]
  raw_ref = librosa.feature.chroma_cqt(y=y, sr=SR, tuning=0.0, norm=None)
  raw = np.asarray(jd.chroma_cqt(y, sr=SR, tuning=0.0, norm=None))
  assert np.abs(raw - raw_ref).max() <= 1e-4 * raw_ref.max()
  mask = _energetic(raw_ref)
  C = np.abs(librosa.cqt(y, sr=SR, n_bins=252, bins_per_octave=36))
  ref = librosa.feature.chroma_cqt(C=C, sr=SR)
  np.testing.assert_allclose(np.asarray(jd.chroma_cqt(C=C, sr=SR))[:, mask], ref[:, mask], atol=1e-3)
  np.testing.assert_allclose(jd.chroma_cens(C=C, sr=SR), librosa.feature.chroma_cens(C=C, sr=SR), atol=1e-5)
  for win in (4, None):  # an even smoothing window (win_len_smooth + 2 points) and none
    np.testing.assert_allclose(jd.chroma_cens(C=C, sr=SR, win_len_smooth=win),
                               librosa.feature.chroma_cens(C=C, sr=SR, win_len_smooth=win), atol=1e-5)
  chroma = librosa.feature.chroma_cqt(C=C, sr=SR)
  np.testing.assert_allclose(jd.tonnetz(chroma=chroma), librosa.feature.tonnetz(chroma=chroma), atol=1e-5)
  if clip == "music_22k":  # from the signal, through the CQT
    # tuning=None under jit: the estimate and the CQT kernels built from it are traced
    ref_none = librosa.feature.chroma_cqt(y=y, sr=SR, norm=None)
    assert np.abs(np.asarray(jax.jit(lambda y: jd.chroma_cqt(y, sr=SR, norm=None))(y)) - ref_none).max() <= (
        1e-4 * ref_none.max())
    ton = np.asarray(jd.tonnetz(y, sr=SR, tuning=0.0))
    np.testing.assert_allclose(ton[:, mask], librosa.feature.tonnetz(y=y, sr=SR, tuning=0.0)[:, mask], atol=1e-3)
    kw = dict(C=C, sr=SR, threshold=0.05, window=np.hanning(5), n_octaves=7)
    np.testing.assert_allclose(jd.chroma_cqt(**kw)[:, mask], librosa.feature.chroma_cqt(**kw)[:, mask], atol=1e-3)


def test_piptrack_and_tuning_match_librosa(clips):
  for clip in ("music_22k", "speech_22k"):
    y = clips[clip]
    p_ref, m_ref = librosa.piptrack(y=y, sr=SR)
    p, m = jd.piptrack(y, sr=SR)
    np.testing.assert_allclose(p, p_ref, atol=1e-3)
    np.testing.assert_allclose(m, m_ref, atol=1e-5 * m_ref.max())
    assert float(jd.estimate_tuning(y, sr=SR)) == pytest.approx(librosa.estimate_tuning(y=y, sr=SR), abs=1e-6)
  t = np.arange(SR) / SR
  for detune in (-0.31, 0.17, 0.42):
    tone = (np.sin(2 * np.pi * 311.13 * 2 ** (detune / 12) * t)).astype(np.float32)
    ours = float(jd.estimate_tuning(tone, sr=SR))
    assert ours == pytest.approx(librosa.estimate_tuning(y=tone, sr=SR), abs=1e-6)
    assert ours == pytest.approx(detune, abs=0.05)  # piptrack's parabolic peak is biased by a few cents
  freqs = 440.0 * 2 ** (np.random.default_rng(12345).normal(0.2, 0.05, 200) / 12)
  assert float(jd.pitch_tuning(freqs)) == pytest.approx(librosa.pitch_tuning(freqs), abs=1e-6)
  assert float(jd.pitch_tuning(np.zeros(3))) == 0.0


def test_jit_vmap_grad(clips):
  batch = np.stack([clips["music_22k"][:8192], clips["speech_22k"][:8192]])
  f = lambda y: jd.chroma_stft(y, sr=SR, tuning=0.0, n_fft=512, hop_length=128)  # noqa: E731
  loop = np.stack([np.asarray(f(row)) for row in batch])
  np.testing.assert_allclose(f(batch), loop, atol=1e-6)
  np.testing.assert_allclose(jax.jit(jax.vmap(f))(jnp.asarray(batch)), loop, atol=1e-6)
  # chroma_stft's and tonnetz's gradients in one compile (chroma_cqt's is the CQT's, checked in test_cqt.py)
  g = jax.grad(lambda y: jnp.sum(f(y) ** 2) + jnp.sum(jd.tonnetz(chroma=f(y)) ** 2))(jnp.asarray(batch[0]))
  assert np.all(np.isfinite(np.asarray(g))) and float(jnp.abs(g).max()) > 0
  # one estimate per example, each librosa's for that example alone
  kw = dict(sr=SR, n_fft=512, hop_length=128)
  np.testing.assert_allclose(jd.estimate_tuning(batch, **kw), [librosa.estimate_tuning(y=r, **kw) for r in batch],
                             atol=1e-6)
  # tuning=None is traced for chroma_stft (estimate_tuning in JAX): under jit and vmap, each example with its own
  # estimate, as librosa's for that example alone
  est = lambda y: jd.chroma_stft(y, sr=SR, n_fft=512, hop_length=128)  # noqa: E731
  ref = np.stack([librosa.feature.chroma_stft(y=r, sr=SR, n_fft=512, hop_length=128) for r in batch])
  assert len({librosa.estimate_tuning(S=np.abs(librosa.stft(r, n_fft=512, hop_length=128)) ** 2, sr=SR)
              for r in batch}) == 2  # two different tunings
  np.testing.assert_allclose(jax.jit(jax.vmap(est))(jnp.asarray(batch)), ref, atol=2e-6)
  with jax.enable_x64(True):
    tiny = jnp.asarray(np.random.default_rng(0).standard_normal(256))
    check_grads(lambda y: jd.chroma_stft(y, sr=SR, tuning=0.0, n_fft=128, hop_length=64, norm=2), (tiny,), order=1,
                modes=("rev",))


def test_chroma_stft_estimated_in_groups(clips, monkeypatch):
  # tuning=None from y on CPU runs a lax.map over groups of whole signals (each its own estimate); a batch of 5
  # with groups of 4 signals is padded with a silent row and cut again, and equals librosa per signal
  batch = np.stack([clips[c][i * 2048:i * 2048 + 4096] for i, c in enumerate(CLIPS[:3] + CLIPS[:2])])
  kw = dict(sr=SR, n_fft=512, hop_length=128)
  monkeypatch.setattr("jaxdsp._core.chunking.CPU_CHUNK_BYTES", 4 * 512 * 4 * (1 + 4096 // 128))  # 4 signals per step
  ref = np.stack([librosa.feature.chroma_stft(y=r, **kw) for r in batch])
  np.testing.assert_allclose(jax.jit(lambda y: jd.chroma_stft(y, **kw))(batch), ref, atol=2e-6)


def test_bad_input():
  y = np.zeros(4096, np.float32)
  with pytest.raises(ValueError, match="n_chroma"):
    jd.chroma_stft(y, tuning=0.0, n_chroma=0)
  with pytest.raises(ValueError, match="norm"):
    jd.chroma_stft(y, tuning=0.0, norm=-1)
  with pytest.raises(TypeError, match="tuning"):
    jd.chroma_stft(y, tuning="flat")
  with pytest.raises(ValueError, match="tuning=None"):  # the hybrid CQT's pseudo part needs a concrete tuning
    jax.jit(lambda y: jd.chroma_cqt(y, cqt_mode="hybrid"))(y)
  with pytest.raises(ValueError, match="n_chroma"):
    jd.chroma_stft(y, n_chroma=2**40)
  with pytest.raises(ValueError, match="win_len_smooth"):
    jd.chroma_cens(y, tuning=0.0, win_len_smooth=2**40)
  with pytest.raises(TypeError, match="ref"):
    jd.piptrack(y, ref="8")
  with pytest.raises(ValueError, match="n_octaves"):
    jd.chroma_cqt(y, tuning=0.0, n_octaves=2**40)
  with pytest.raises(ValueError, match="bins_per_octave"):
    jd.chroma_cqt(y, tuning=0.0, bins_per_octave=20)
  with pytest.raises(ValueError, match="cqt_mode"):
    jd.chroma_cqt(y, tuning=0.0, cqt_mode="pseudo")
  with pytest.raises(ValueError, match="exactly one"):
    jd.chroma_cqt()
  with pytest.raises(ValueError, match="win_len_smooth"):
    jd.chroma_cens(y, tuning=0.0, win_len_smooth=0)
  with pytest.raises(ValueError, match="exactly one"):
    jd.tonnetz()
  with pytest.raises(ValueError, match="resolution"):
    jd.pitch_tuning([440.0], resolution=2.0)
  with pytest.raises(TypeError, match="y"):
    jd.piptrack(np.zeros(4096, np.int32))
  with pytest.raises(ValueError, match="n_fft"):
    jd.chroma_filterbank(sr=22050, n_fft=0)
