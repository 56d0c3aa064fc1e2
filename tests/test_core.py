"""The feature core: one registry and one set of argument rules for the functions, features() and
extract; the S path read in place; the accelerator layouts (forced on CPU); light imports."""

import subprocess
import sys

import jax
import librosa
import numpy as np
import pytest

import jaxdsp as jd
from jaxdsp import _core
from audio_corpus import load_clip

SR = 22050
KW = dict(n_fft=1024, hop_length=256)


@pytest.fixture(scope="module")
def clip():
  y, sr = load_clip("music_22k")
  assert sr == SR
  return y[: SR]


def test_registry_lists_every_feature_of_features():
  assert jd.FEATURE_NAMES == tuple(sorted(_core.REGISTRY))
  assert set(jd.DEFAULT_FEATURES) <= set(jd.FEATURE_NAMES)
  for name, feature in _core.REGISTRY.items():
    assert feature.name == name
    assert set(feature.options) <= set(_core.OPTIONS), name
    # every feature the registry holds is computed by features() with its shape
  # the constant-Q features (whole-signal transforms) are tested in test_chroma_intervals.py
  names = tuple(n for n in jd.FEATURE_NAMES if n not in ("chroma_cens", "chroma_cqt", "chroma_vqt", "tonnetz"))
  out = jd.features(np.zeros(4096, np.float32), sr=SR, names=names, **KW, n_mels=32)
  assert set(out) == set(names)


@pytest.mark.parametrize("value,exc,fragment", [
    (np.float32(0.5), None, None),          # NumPy scalars are numbers
    (0.5, None, None),
    ("0.5", TypeError, "roll_percent must be a real number"),
    (1.5, ValueError, "roll_percent must be a number in (0, 1)"),
    (float("nan"), ValueError, "roll_percent must be a number in (0, 1)"),
])
def test_function_and_features_accept_and_refuse_the_same_values(clip, value, exc, fragment):
  calls = (lambda: jd.spectral_rolloff(clip, sr=SR, roll_percent=value, **KW),
           lambda: jd.features(clip, sr=SR, names=("spectral_rolloff",), roll_percent=value, **KW))
  if exc is None:
    one, fused = (np.asarray(c() if i == 0 else c()["spectral_rolloff"]) for i, c in enumerate(calls))
    np.testing.assert_array_equal(one, fused)
    return
  messages = []
  for call in calls:
    with pytest.raises(exc) as info:
      call()
    messages.append(str(info.value))
  assert messages[0] == messages[1] and fragment in messages[0]


def test_y_or_S_is_one_rule_with_one_message():
  S = np.ones((9, 3), np.float32)
  y = np.zeros(4096, np.float32)
  for fn in (jd.spectral_centroid, jd.spectral_bandwidth, jd.spectral_rolloff, jd.spectral_flatness,
             jd.melspectrogram, jd.mfcc, jd.rms):
    with pytest.raises(ValueError, match="one of y or S is required"):
      fn()
    with pytest.raises(ValueError, match="pass either y or S, not both"):
      fn(y, S=S)


@pytest.mark.parametrize("fn", [jd.spectral_centroid, jd.spectral_bandwidth, jd.spectral_rolloff,
                                jd.spectral_flatness])
def test_negative_S_is_refused(fn):
  """librosa refuses negative magnitudes; so does jaxdsp for host input (before: centroid -49612 Hz)."""
  with pytest.raises(ValueError, match="S must be non-negative"):
    fn(S=-np.ones((9, 3)))
  with pytest.raises(librosa.ParameterError):
    getattr(librosa.feature, fn.__name__)(S=-np.ones((9, 3)))


def test_power_to_db_ref_without_keepdims_is_per_example():
  """A callable ref without axis/keepdims is applied to each example: a batch of two gives each
  example's own dB (before: one reference over the whole batch, -20 and 0 dB)."""
  a = np.full((4, 3), 0.01, np.float32)
  b = np.ones((4, 3), np.float32)
  ref = lambda x: np.max(x)  # noqa: E731 - no axis=, no keepdims=
  batch = np.asarray(jd.power_to_db(np.stack([a, b]), ref=ref))
  np.testing.assert_allclose(batch[0], jd.power_to_db(a, ref=ref), atol=1e-5)
  np.testing.assert_allclose(batch[1], jd.power_to_db(b, ref=ref), atol=1e-5)
  np.testing.assert_allclose(batch, 0.0, atol=1e-5)
  np.testing.assert_allclose(batch[0], librosa.power_to_db(a, ref=np.max), atol=1e-5)
  # A JAX callable without keepdims runs under jit and vmap too.
  jref = lambda x: jax.numpy.max(x)  # noqa: E731
  jitted = jax.jit(lambda S: jd.power_to_db(S, ref=jref))(np.stack([a, b]))
  np.testing.assert_allclose(jitted, 0.0, atol=1e-5)
  with pytest.raises(ValueError, match="ref must reduce each example to a scalar"):
    jd.power_to_db(np.stack([a, b]), ref=lambda x: x[0])


def test_S_path_reads_S_in_place_and_matches_librosa(clip):
  S = np.abs(librosa.stft(clip, **KW))
  for name in ("spectral_centroid", "spectral_bandwidth", "spectral_rolloff"):
    got = np.asarray(getattr(jd, name)(S=S, sr=SR))
    want = getattr(librosa.feature, name)(S=S, sr=SR)[0]
    np.testing.assert_allclose(got, want, rtol=2e-4, atol=1e-2, err_msg=name)
  np.testing.assert_allclose(jd.spectral_flatness(S=S), librosa.feature.spectral_flatness(S=S)[0], atol=1e-5)
  np.testing.assert_allclose(jd.rms(S=S, frame_length=1024), librosa.feature.rms(S=S, frame_length=1024)[0],
                             rtol=1e-5)
  mel = librosa.feature.melspectrogram(S=S ** 2, sr=SR, n_mels=64)
  np.testing.assert_allclose(jd.melspectrogram(S=S ** 2, sr=SR, n_mels=64), mel, rtol=1e-4, atol=1e-6 * mel.max())
  # A batch of spectrograms equals each alone (the S path of a batch reads rows in place).
  batch = np.stack([S, S[:, ::-1].copy()])
  for fn in (jd.spectral_bandwidth, jd.spectral_flatness):
    got = np.asarray(fn(S=batch))
    np.testing.assert_allclose(got[1], fn(S=batch[1]), rtol=1e-5, atol=1e-3)


def test_S_path_sums_match_the_plain_formulas_on_extreme_input():
  # The S path's rewritten sums (flatness and RMS apart from shared expressions, bandwidth expanded,
  # rolloff's running sums unrolled or, past 128 blocks, a cumsum) against librosa and the plain
  # frequency-last formulas, on silence, amin-floored bins, an overflowing S², large and tiny values.
  rng = np.random.default_rng(0)
  S = np.abs(rng.standard_normal((33, 6))).astype(np.float32)
  S[:, 0] = 0
  S[:20, 1] = 1e-7
  S[3, 2] = 1e20
  S[:, 3] *= 1e15
  S[5:, 4] = 1e-30
  with np.errstate(all="ignore"):
    want = librosa.feature.spectral_flatness(S=S)[0]
  got = np.asarray(jd.spectral_flatness(S=S))
  np.testing.assert_allclose(got, want, rtol=1e-4, equal_nan=True)
  assert np.isnan(got[2]) and np.all(np.isfinite(np.delete(got, 2)))
  plain = _core.reducers.flatness(jax.numpy.asarray(S.T), 1e-10, 2.0, -1)  # one log of a shared P
  np.testing.assert_allclose(got, plain, rtol=1e-5, equal_nan=True)
  traced = jax.jit(lambda s: jd.spectral_flatness(S=s))(-jax.numpy.asarray(S))  # P = S² for negative S too
  np.testing.assert_allclose(traced, got, rtol=1e-6, equal_nan=True)
  finite = np.delete(S, 2, axis=1)
  for frame_length in (64, 65):  # the Nyquist bin weighted ½ for even frame lengths only
    np.testing.assert_allclose(jd.rms(S=finite, frame_length=frame_length),
                               librosa.feature.rms(S=finite, frame_length=frame_length)[0], rtol=1e-5)
  np.testing.assert_allclose(jd.rms(S=finite[:1], frame_length=1), librosa.feature.rms(S=finite[:1], frame_length=1)[0],
                             rtol=1e-6)
  centroid = np.full(finite.shape[1], 3000.0, np.float32)  # a given centre, unnormalised
  np.testing.assert_allclose(jd.spectral_bandwidth(S=finite[:, 1:], sr=SR, centroid=centroid[1:], norm=False),
                             librosa.feature.spectral_bandwidth(S=finite[:, 1:], sr=SR, centroid=centroid[None, 1:],
                                                                norm=False)[0], rtol=1e-5)
  wide = np.abs(rng.standard_normal((8193, 4))).astype(np.float32)  # 257 blocks of 32: the cumsum branch
  np.testing.assert_allclose(jd.spectral_rolloff(S=wide, sr=SR), librosa.feature.spectral_rolloff(S=wide, sr=SR)[0],
                             rtol=1e-6)  # the same bin (1.3 Hz apart), as float32


def test_S_path_in_chunks_of_spectra_equals_each_spectrogram_alone(monkeypatch):
  # A batch of spectra runs a few at a time on CPU (reducers.per_spectra): with 2 per chunk, a
  # batch of 6 (and of 2 × 3) equals each spectrogram alone, and librosa.
  rng = np.random.default_rng(1)
  S = np.abs(rng.standard_normal((2, 3, 65, 9))).astype(np.float32)
  S[0, 1, :, 2] = 0  # a silent frame (amin-floored)
  monkeypatch.setattr(_core.reducers, "_SPECTRA_CHUNK_BYTES", 2 * 65 * 9 * 4)
  jax.clear_caches()
  try:
    flat = np.asarray(jd.spectral_flatness(S=S))
  finally:
    monkeypatch.undo()
    jax.clear_caches()
  np.testing.assert_allclose(flat, jd.spectral_flatness(S=S), rtol=1e-6)  # the whole batch at once
  S_db = 20 * np.log10(S[..., :40, :] + 1e-3)  # a batch of "dB mel spectrograms" (40 bands): the batched DCT
  mfcc = np.asarray(jd.mfcc(S=S_db, n_mfcc=13))
  for i in range(2):
    for j in range(3):
      np.testing.assert_allclose(flat[i, j], librosa.feature.spectral_flatness(S=S[i, j])[0], rtol=1e-4)
      np.testing.assert_allclose(mfcc[i, j], librosa.feature.mfcc(S=S_db[i, j], n_mfcc=13), atol=2e-4)


# The feature, mel and spectral paths with the accelerator layouts (whole batches, dense mel
# products, plain sums), forced on this CPU: CI has no accelerator.
@pytest.fixture()
def accelerator_layout():
  with _core.force_layout(cpu=False):
    assert not _core.cpu_path()
    yield
  assert _core.cpu_path() == (jax.default_backend() == "cpu")


def test_accelerator_layout_matches_librosa(clip, accelerator_layout):
  y = np.stack([clip, clip[::-1] * 0.5])
  # the constant-Q features (whole-signal transforms) are tested in test_chroma_intervals.py
  names = tuple(n for n in jd.FEATURE_NAMES if n not in ("chroma_cens", "chroma_cqt", "chroma_vqt", "tonnetz"))
  out = jd.features(y, sr=SR, names=names, n_mels=64, **KW)
  for i, x in enumerate(y):
    S = np.abs(librosa.stft(x, **KW))
    np.testing.assert_allclose(out["spectrogram"][i], S, atol=2e-6 * S.max())
    mel = librosa.feature.melspectrogram(S=S ** 2, sr=SR, n_mels=64)
    np.testing.assert_allclose(out["melspectrogram"][i], mel, atol=2e-6 * mel.max())
    np.testing.assert_allclose(out["mfcc"][i], librosa.feature.mfcc(S=librosa.power_to_db(mel), n_mfcc=20),
                               atol=2e-3)
    np.testing.assert_allclose(out["spectral_centroid"][i], librosa.feature.spectral_centroid(S=S, sr=SR)[0],
                               rtol=1e-4)
    np.testing.assert_allclose(jd.spectral_bandwidth(S=S, sr=SR), librosa.feature.spectral_bandwidth(S=S, sr=SR)[0],
                               rtol=1e-3)
    np.testing.assert_allclose(jd.spectral_flatness(S=S), librosa.feature.spectral_flatness(S=S)[0], atol=1e-5)
    np.testing.assert_allclose(jd.melspectrogram(S=S ** 2, sr=SR, n_mels=64), mel, atol=2e-6 * mel.max())
    rolloff = librosa.feature.spectral_rolloff(S=S, sr=SR)[0]
    assert np.mean(np.asarray(out["spectral_rolloff"][i]) == rolloff) >= 0.99
    np.testing.assert_allclose(out["rms"][i], librosa.feature.rms(y=x, frame_length=1024, hop_length=256)[0],
                               atol=1e-6)
    np.testing.assert_allclose(out["zero_crossing_rate"][i],
                               librosa.feature.zero_crossing_rate(x, frame_length=1024, hop_length=256)[0],
                               atol=1e-7)


def test_import_loads_no_training_stack():
  code = ("import sys, jaxdsp as jd; heavy = [m for m in ('flax', 'optax', 'orbax', 'tensorboardX', 'matplotlib') "
          "if m in sys.modules]; assert not heavy, heavy; jd.nn; assert 'flax' in sys.modules; print('ok')")
  proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
  assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]


def test_cli_extract_takes_every_registry_option():
  """``jaxdsp extract`` derives its feature choices and option flags from the registry."""
  from jaxdsp import cli  # pylint: disable=import-outside-toplevel
  args = cli.build_parser().parse_args(["extract", "in", "-o", "out", "--features", "spectral_flatness",
                                        "--roll-percent", "0.5", "--n-mfcc", "13", "--htk"])
  assert args.features == ["spectral_flatness"]
  assert (args.roll_percent, args.n_mfcc, args.htk) == (0.5, 13, True)
  assert not hasattr(cli.build_parser().parse_args(["extract", "in", "-o", "out"]), "roll_percent")
  help_text = cli.build_parser()._subparsers._group_actions[0].choices["extract"].format_help()
  for name in _core.SHARED_OPTIONS:
    if name != "sr":
      assert "--" + name.replace("_", "-") in help_text, name


def test_library_code_imports_no_test_only_dependency():
  """The reference libraries (the ``test``/``bench`` extras) are never imported by library code: a
  fresh ``pip install jax-dsp`` has no scipy, librosa, PyWavelets, soxr or torch."""
  import ast  # pylint: disable=import-outside-toplevel
  import pathlib  # pylint: disable=import-outside-toplevel

  test_only = {"scipy", "librosa", "pywt", "soxr", "torch", "torchaudio", "auraloss"}
  found = []
  for path in sorted(pathlib.Path(jd.__file__).parent.rglob("*.py")):
    for node in ast.walk(ast.parse(path.read_text())):
      names = ([a.name for a in node.names] if isinstance(node, ast.Import)
               else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
      found += [f"{path.name}:{node.lineno} {n}" for n in names if n.split(".")[0] in test_only]
  assert not found, found
