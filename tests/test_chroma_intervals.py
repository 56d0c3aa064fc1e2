"""Interval sets (``vqt(intervals=...)``, ``interval_frequencies``), ``chroma_vqt``, and the constant-Q
features of the registry (``chroma_cqt``, ``chroma_cens``, ``tonnetz`` in ``jd.features`` and
``jd.batch.extract``), against librosa 0.11.

Tolerances held (float32, clips cropped):

* ``interval_frequencies``: equal to librosa's to 1e-12 (relative) for every named set and an explicit one,
  sorted or not.
* ``vqt`` with ``"pythagorean"``, ``"ji5"``, ``"ji7"`` and an explicit set: ≤ 1e-4 of the peak (measured
  ≤ 5e-5; librosa's recursion, as for ``"equal"``).
* ``chroma_vqt``: ≤ 1e-3 absolute on frames holding ≥ 1e-2 of the peak frame's energy (measured ≤ 1.4e-5 of
  the peak on music and speech), ≤ 1e-4 of the peak before the normalisation.
* ``jd.features`` / ``batch.extract``: the constant-Q features equal the direct function on every frame to
  float32 round-off (≤ 2e-6 absolute; measured ≤ 2.4e-7): whole file, batch rows padded past their signal,
  pieces of a long file (each row's octaves are cut at its signal's length, as the function cuts them).
"""

import jax
import jax.numpy as jnp
import librosa
import numpy as np
import pytest
import soundfile as sf

import jaxdsp as jd
from jaxdsp import batch
from audio_corpus import load_clip

SR = 22050


@pytest.fixture(scope="module")
def clips():
  return {name: np.ascontiguousarray(load_clip(name)[0][:SR]) for name in ("music_22k", "speech_22k")}


def test_interval_frequencies_match_librosa():
  for intervals in ("equal", "pythagorean", "ji3", "ji5", "ji7", [1.0, 4 / 3, 3 / 2]):
    for bpo in (7, 12, 24):
      for sort in (True, False):
        kw = dict(fmin=55.0, intervals=intervals, bins_per_octave=bpo, sort=sort)
        np.testing.assert_allclose(jd.interval_frequencies(50, **kw), librosa.interval_frequencies(50, **kw),
                                   rtol=1e-12, err_msg=f"{intervals} {bpo} {sort}")
  kw = dict(fmin=110.0, intervals="equal", tuning=0.3)
  np.testing.assert_allclose(jd.interval_frequencies(20, **kw), librosa.interval_frequencies(20, **kw), rtol=1e-12)


def _rel(ours, ref):
  return np.abs(np.asarray(ours) - ref).max() / np.abs(ref).max()


def test_vqt_intervals_match_librosa(clips):
  y = clips["music_22k"][: SR // 2]
  # (ji5 in test_chroma_vqt_matches_librosa); tuning shifts fmin for every set, as librosa's
  for intervals, kw in (("pythagorean", dict(n_bins=24)), ("ji7", dict(bins_per_octave=24, n_bins=48, tuning=0.2)),
                        ([1.0, 1.25, 1.5], dict(n_bins=9, gamma=0.0))):
    kw = dict(dict(sr=SR, fmin=220.0, intervals=intervals), **kw)
    ref = librosa.vqt(y, **kw)
    ours = jd.vqt(y, **kw)
    assert ours.shape == ref.shape and _rel(ours, ref) <= 1e-4, intervals


def _energetic(raw, frac=1e-2):
  e = raw.sum(axis=0)
  return e >= frac * e.max()


@pytest.mark.parametrize("clip", ["music_22k", "speech_22k"])
def test_chroma_vqt_matches_librosa(clips, clip):
  y = clips[clip]
  raw_ref = librosa.feature.chroma_vqt(y=y, sr=SR, intervals="ji5", norm=None)
  raw = np.asarray(jd.chroma_vqt(y, sr=SR, intervals="ji5", norm=None))
  assert raw.shape == raw_ref.shape and _rel(raw, raw_ref) <= 1e-4
  mask = _energetic(raw_ref)
  ref = librosa.feature.chroma_vqt(y=y, sr=SR, intervals="ji5")
  np.testing.assert_allclose(np.asarray(jd.chroma_vqt(y, sr=SR, intervals="ji5"))[:, mask], ref[:, mask], atol=1e-3)
  # from a given V (complex taken in modulus), with an explicit interval set, threshold and a p-norm
  ratios = [1.0, 9 / 8, 5 / 4, 4 / 3, 3 / 2, 5 / 3, 15 / 8]
  V = librosa.vqt(y, sr=SR, intervals=ratios, n_bins=35, bins_per_octave=7)
  kw = dict(sr=SR, intervals=ratios, threshold=0.01, norm=2, n_octaves=5)
  np.testing.assert_allclose(jd.chroma_vqt(V=V, **kw), librosa.feature.chroma_vqt(V=np.abs(V), **kw), atol=1e-5)


def test_chroma_vqt_transforms_and_bad_input(clips):
  y = clips["music_22k"][:2048]
  kw = dict(sr=SR, intervals="pythagorean", fmin=880.0, n_octaves=1, norm=2)
  f = lambda x: jd.chroma_vqt(x, **kw)  # noqa: E731
  batch_ = np.stack([y, clips["speech_22k"][:2048]])
  loop = np.stack([np.asarray(f(r)) for r in batch_])
  # jit, vmap and grad in one compile: the vmapped chroma comes back as the loss's auxiliary output
  loss = lambda x: (jnp.sum(f(x) ** 2), f(x))  # noqa: E731
  (_, chroma), g = jax.jit(jax.vmap(jax.value_and_grad(loss, has_aux=True)))(jnp.asarray(batch_))
  np.testing.assert_allclose(chroma, loop, atol=1e-5)
  assert np.all(np.isfinite(np.asarray(g))) and float(jnp.abs(g).max()) > 0
  with pytest.raises(ValueError, match="intervals"):
    jd.chroma_vqt(y, intervals="ji11")
  with pytest.raises(ValueError, match="intervals"):
    jd.vqt(y, intervals=[1.0, 2.5])
  with pytest.raises(ValueError, match="intervals"):
    jd.vqt(y, intervals=[1.0, 1.5, 1.5])
  with pytest.raises(TypeError, match="intervals"):
    jd.interval_frequencies(4, fmin=55.0, intervals=["a"])
  with pytest.raises(ValueError, match="exactly one"):
    jd.chroma_vqt()
  with pytest.raises(ValueError, match="n_octaves"):
    jd.chroma_vqt(y, n_octaves=0)
  with pytest.raises(ValueError, match="n_bins"):
    jd.vqt(y, n_bins=2**40)
  with pytest.raises(ValueError, match="bins_per_octave"):
    jd.vqt(y, bins_per_octave=2**40)


CQ_NAMES = ("chroma_cens", "chroma_cqt", "tonnetz")


def test_constant_q_features_in_the_registry(clips, tmp_path):
  y = clips["music_22k"]
  out = jd.features(y, sr=SR, names=CQ_NAMES + ("rms",))  # one pass: rms from the STFT pass, the others from y
  direct = {"chroma_cqt": jd.chroma_cqt(y, sr=SR, tuning=0.0), "chroma_cens": jd.chroma_cens(y, sr=SR, tuning=0.0),
            "tonnetz": jd.tonnetz(y, sr=SR, tuning=0.0)}
  for name in CQ_NAMES:
    got, want = np.asarray(out[name]), np.asarray(direct[name])
    assert got.shape == want.shape == (want.shape[0], out["rms"].shape[-1]), name
    # every frame, the last ones too: each decimated octave is cut at the signal's length as the function cuts it
    np.testing.assert_allclose(got, want, atol=2e-6, rtol=0, err_msg=name)
  with pytest.raises(ValueError, match="pad_mode"):
    jd.features(y, sr=SR, names=("chroma_cqt",), pad_mode="reflect")
  with pytest.raises(ValueError, match="hop_length"):
    jd.features(y, sr=SR, names=("tonnetz",), n_fft=512, hop_length=512)
  # jaxdsp extract: a 3 s file in pieces and the 1 s clip in a batch (zero rows past its end) equal the function
  # of each file alone (the pieces' raw values, the signal's hop blocks and their sample counts, are stitched
  # and finished over the file)
  long_y = np.concatenate([y, clips["speech_22k"], y[::-1]])
  sf.write(tmp_path / "long.wav", long_y, SR, subtype="FLOAT")
  sf.write(tmp_path / "clip.wav", y, SR, subtype="FLOAT")
  names = ("rms", "tonnetz")
  requests = tuple((n, jd._core.config(n, dict(sr=SR))) for n in names)
  spec = jd._core.StftSpec(2048, 512, 2048, False, "constant")
  per_frame = batch._bytes_per_frame(batch._piece_requests(requests)[0], spec, "hann", None)
  res = batch.extract(tmp_path, names, out=tmp_path / "out", sr=SR, devices=1, memory_budget=60 * per_frame,
                      progress=False)
  assert res.n_ok == 2
  assert batch.load_manifest(tmp_path / "out")["files"][str(tmp_path / "long.wav")]["pieces"] >= 2
  got = batch.load_features(tmp_path / "out")
  for path, signal in ((tmp_path / "long.wav", long_y), (tmp_path / "clip.wav", y)):
    ref = np.asarray(jd.tonnetz(signal, sr=SR, tuning=0.0))
    np.testing.assert_allclose(np.asarray(got[str(path)]["tonnetz"]).reshape(ref.shape), ref, atol=2e-6, rtol=0,
                               err_msg=path.name)


def test_chroma_vqt_in_the_registry(clips):
  """chroma_vqt through the core's feature pass (jd.features, batch.extract) with an interval set: the direct
  function of the signal followed by zeros, and the same checks and messages as the function."""
  y = clips["music_22k"]
  out = jd._core.features(y, ("chroma_vqt", "rms"), dict(sr=SR, intervals="ji5"), n_fft=2048, hop_length=512)
  got, want = np.asarray(out["chroma_vqt"]), np.asarray(jd.chroma_vqt(y, sr=SR, intervals="ji5"))
  assert got.shape == want.shape == (12, out["rms"].shape[-1])
  np.testing.assert_allclose(got, want, atol=2e-6, rtol=0)
  assert dict(jd._core.config("chroma_vqt", {"intervals": [1.0, 1.5]}))["intervals"] == (1.0, 1.5)
  alias = {"norm": "chroma_norm", "threshold": "chroma_threshold", "fmin": "cqt_fmin"}
  for bad in (dict(intervals="ji11"), dict(intervals=[1.0, 2.5]), dict(intervals=["a"]), dict(n_octaves=65),
              dict(gamma=-1.0), dict(threshold=-1.0), dict(fmin=0.0)):
    errors = []
    for call in (lambda: jd.chroma_vqt(y[:4096], **bad),
                 lambda: jd._core.config("chroma_vqt", {alias.get(k, k): v for k, v in bad.items()})):
      with pytest.raises((TypeError, ValueError)) as e:
        call()
      errors.append((type(e.value), str(e.value).replace("chroma_threshold", "threshold").replace("cqt_fmin", "fmin")))
    assert errors[0] == errors[1], bad
