"""Every option of the feature registry through ``jd.features``, ``jaxdsp.batch.extract`` and ``jaxdsp extract``,
with the constant-Q features (``chroma_cqt``, ``chroma_cens``, ``chroma_vqt``, ``tonnetz``) equal to their
functions.

Tolerances held (float32, music clip): the constant-Q features through ``features()`` and through the CLI
(batch rows padded past their signal) equal the direct functions on every frame to 2e-6 absolute (measured
≤ 2.4e-7; the values are ≤ 1). A bad option value gets the same exception and message from the function, from
``features()`` and from the CLI.
"""

import ast
import inspect
import pathlib

import numpy as np
import pytest
import soundfile as sf

import jaxdsp as jd
from jaxdsp import batch
from jaxdsp import cli
from jaxdsp import fused
from audio_corpus import load_clip

SR = 22050
CQ = ("chroma_cens", "chroma_cqt", "chroma_vqt", "tonnetz")


def _direct(y):
  """The functions the registry's constant-Q features equal (6 octaves: cheaper; the registry's tuning 0)."""
  return {"chroma_cqt": jd.chroma_cqt(y, sr=SR, tuning=0.0, n_octaves=6),
          "chroma_cens": jd.chroma_cens(y, sr=SR, tuning=0.0, n_octaves=6),
          "chroma_vqt": jd.chroma_vqt(y, sr=SR, n_octaves=6),
          "tonnetz": jd.tonnetz(y, sr=SR, tuning=0.0, n_octaves=6)}


@pytest.fixture(scope="module")
def music():
  y = np.ascontiguousarray(load_clip("music_22k")[0][: 3 * SR // 4])
  return y, _direct(y)


def test_features_take_every_registry_option(music):
  sig = inspect.signature(jd.features)
  for name in jd._core.SHARED_OPTIONS:
    assert sig.parameters[name].kind is inspect.Parameter.KEYWORD_ONLY, name
    assert f"    {name}: " in jd.features.__doc__, name
  # options whose features disagree on the default show PER_FEATURE; the others their one default
  assert sig.parameters["bins_per_octave"].default is fused.PER_FEATURE
  assert sig.parameters["chroma_norm"].default is fused.PER_FEATURE
  assert sig.parameters["n_octaves"].default == 7
  with pytest.raises(TypeError, match="unexpected options.*'bogus'"):
    jd.features(music[0], names=("rms",), bogus=1)


def test_constant_q_features_equal_their_functions_with_per_feature_defaults(music):
  y, direct = music
  out = jd.features(y, sr=SR, names=CQ, n_octaves=6)  # bins_per_octave left out: 36 for chroma_cqt, 12 for vqt
  for name in CQ:
    assert out[name].shape == direct[name].shape, name
    np.testing.assert_allclose(out[name], direct[name], atol=2e-6, rtol=0, err_msg=name)
  assert out["chroma_vqt"].shape[0] == 12
  # without centring: the first frames of the function of the signal from n_fft // 2 to the last frame's block
  got = jd.features(y, sr=SR, names=("chroma_cens",), n_octaves=6, center=False)["chroma_cens"]
  T = 1 + (len(y) - 2048) // 512
  want = jd.chroma_cens(y[1024:1024 + T * 512], sr=SR, tuning=0.0, n_octaves=6)[:, :T]
  assert got.shape == want.shape
  np.testing.assert_allclose(got, want, atol=2e-6, rtol=0)
  # PER_FEATURE given explicitly is the same as leaving the option out (also at the top level)
  assert jd.PER_FEATURE is fused.PER_FEATURE
  same = jd.features(y, sr=SR, names=("chroma_vqt",), n_octaves=6, bins_per_octave=jd.PER_FEATURE)
  np.testing.assert_array_equal(same["chroma_vqt"], out["chroma_vqt"])
  # given, the option applies to every requested feature that reads it
  got = jd.features(y, sr=SR, names=("chroma_vqt",), n_octaves=6, bins_per_octave=24)["chroma_vqt"]
  want = jd.chroma_vqt(y, sr=SR, n_octaves=6, bins_per_octave=24)
  assert got.shape == want.shape == (24, out["chroma_vqt"].shape[-1])
  np.testing.assert_allclose(got, want, atol=2e-6, rtol=0)


def test_cli_extract_constant_q_features_equal_their_functions(music, tmp_path):
  """``jaxdsp extract`` (through ``batch.extract``) with registry option flags: two files of different lengths in
  one batch (the shorter row padded past its signal) equal the functions of each file alone."""
  y, direct = music
  short = np.ascontiguousarray(y[: 3 * SR // 5][::-1])
  sf.write(tmp_path / "a.wav", y, SR, subtype="FLOAT")
  sf.write(tmp_path / "b.wav", short, SR, subtype="FLOAT")
  rc = cli.main(["extract", str(tmp_path), "-o", str(tmp_path / "out"), "--features", *CQ, "--n-octaves", "6",
                 "--chroma-threshold", "0", "--no-progress"])
  assert rc == 0
  manifest = batch.load_manifest(tmp_path / "out")
  assert manifest["config"]["n_octaves"] == 6 and "bins_per_octave" not in manifest["config"]
  got = batch.load_features(tmp_path / "out")
  for path, ref in ((tmp_path / "a.wav", direct), (tmp_path / "b.wav", _direct(short))):
    for name in CQ:
      np.testing.assert_allclose(np.asarray(got[str(path)][name]).reshape(ref[name].shape), ref[name], atol=2e-6,
                                 rtol=0, err_msg=f"{path.name} {name}")


@pytest.mark.parametrize("bad, function", [
    (dict(n_octaves=65), "chroma_cqt"),
    (dict(bins_per_octave=20), "chroma_cqt"),
    (dict(n_chroma=0), "chroma_cqt"),
    (dict(win_len_smooth=0), "chroma_cens"),
    (dict(win_len_smooth=2**17), "chroma_cens"),
    (dict(n_chroma=5000), "chroma_cqt"),
    (dict(intervals="ji11"), "chroma_vqt"),
    (dict(gamma=-1.0), "chroma_vqt"),
])
def test_a_bad_option_gets_the_functions_message(bad, function, capsys, tmp_path):
  y = np.zeros(4096, np.float32)
  errors = []
  for call in (lambda: getattr(jd, function)(y, tuning=0.0, **bad) if function != "chroma_vqt"
               else jd.chroma_vqt(y, **bad),
               lambda: jd.features(y, names=(function,), **bad)):
    with pytest.raises((TypeError, ValueError)) as e:
      call()
    errors.append((type(e.value), str(e.value)))
  assert errors[0] == errors[1], bad
  (key, value), = bad.items()
  sf.write(tmp_path / "a.wav", y, SR, subtype="FLOAT")
  capsys.readouterr()
  assert cli.main(["extract", str(tmp_path / "a.wav"), "-o", str(tmp_path / "out"), "--features", function,
                   "--" + key.replace("_", "-"), str(value), "--no-progress"]) == 1
  assert errors[0][1] in capsys.readouterr().err


def test_the_core_imports_no_public_module():
  """``jaxdsp._core`` imports only itself and the private helpers (``_checks``, ``_ops``): the constant-Q
  features' finishing steps are provided by ``jaxdsp.chroma`` (``register_finish``), the interval sets live in
  ``jaxdsp._core.intervals``."""
  found = []
  for path in sorted((pathlib.Path(jd.__file__).parent / "_core").glob("*.py")):
    for node in ast.walk(ast.parse(path.read_text())):
      if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("jaxdsp"):
        names = [node.module + "." + a.name for a in node.names]
      elif isinstance(node, ast.Import):
        names = [a.name for a in node.names]
      else:
        continue
      allowed = ("jaxdsp._core", "jaxdsp._checks", "jaxdsp._ops")
      found += [f"{path.name}:{node.lineno} {n}" for n in names if n.startswith("jaxdsp") and not n.startswith(allowed)]
  assert not found, found


def test_cli_flags_come_from_the_registry():
  """Every feature option is a flag with the registry's help; values are parsed for the registry's check."""
  parser = cli.build_parser()
  args = parser.parse_args(["extract", "in", "-o", "out", "--intervals", "1,1.5", "--chroma-norm", "inf",
                            "--gamma", "none", "--no-base-c", "--bins-per-octave", "24", "--cqt-fmin", "55.5"])
  assert (args.intervals, args.chroma_norm, args.gamma, args.base_c) == ((1, 1.5), float("inf"), None, False)
  assert (args.bins_per_octave, args.cqt_fmin) == (24, 55.5)
  assert not hasattr(parser.parse_args(["extract", "in", "-o", "out"]), "bins_per_octave")
  help_text = " ".join(parser._subparsers._group_actions[0].choices["extract"].format_help().split())
  assert "--bins-per-octave" in help_text and "36 for chroma_cqt, chroma_cens, tonnetz; 12 for chroma_vqt" in help_text
