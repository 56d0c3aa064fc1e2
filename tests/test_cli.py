"""The jaxdsp command line: --help everywhere, analyze / extract / demo / train, one-line errors."""

import json
import os
import subprocess
import sys

import matplotlib.image
import jax
import numpy as np
import pytest
import soundfile as sf

from audio_corpus import load_clip

import jaxdsp as jd
from jaxdsp import batch
from jaxdsp import demo
from jaxdsp import cli

COMMANDS = ("demo", "analyze", "extract", "train")


def _one_line_error(err):
  lines = [line for line in err.splitlines() if line.strip()]
  assert len(lines) == 1 and lines[0].startswith("jaxdsp: error: "), err
  assert "Traceback" not in err
  return lines[0]


def _assert_png(path):
  assert os.path.isfile(path) and os.path.getsize(path) > 10_000
  assert float(matplotlib.image.imread(path)[..., :3].std()) > 0.05


def test_module_entry_point_help():
  proc = subprocess.run([sys.executable, "-m", "jaxdsp", "--help"], capture_output=True, text=True, timeout=120,
                        env=dict(os.environ, JAX_PLATFORMS="cpu"))
  assert proc.returncode == 0, proc.stderr
  assert all(c in proc.stdout for c in COMMANDS) and proc.stdout.startswith("usage: jaxdsp")


@pytest.mark.parametrize("command", COMMANDS)
def test_help_for_every_command(command, capsys):
  with pytest.raises(SystemExit) as exc:
    cli.main([command, "--help"])
  assert exc.value.code == 0
  out = capsys.readouterr().out
  assert out.startswith(f"usage: jaxdsp {command}") and "--help" in out


def test_usage_errors_are_one_line(capsys):
  with pytest.raises(SystemExit) as exc:
    cli.main(["extract"])
  assert exc.value.code == 2
  assert "required" in _one_line_error(capsys.readouterr().err)
  with pytest.raises(SystemExit) as exc:
    cli.main(["extract", "x", "-o", "y", "--batch-size", "0"])
  assert exc.value.code == 2
  assert "positive integer" in _one_line_error(capsys.readouterr().err)
  with pytest.raises(SystemExit) as exc:
    cli.main(["transmogrify"])
  assert exc.value.code == 2
  _one_line_error(capsys.readouterr().err)
  assert cli.main([]) == 2  # no command: the help, on stdout
  assert "usage: jaxdsp" in capsys.readouterr().out
  assert cli.main(["--version"]) == 0
  assert capsys.readouterr().out.strip() == f"jaxdsp {jd.__version__}"


def test_user_errors_are_one_line(tmp_path, monkeypatch, capsys):
  monkeypatch.chdir(tmp_path)
  assert cli.main(["analyze", str(tmp_path / "missing.wav")]) == 1
  assert "not found" in _one_line_error(capsys.readouterr().err)
  (tmp_path / "garbage.wav").write_bytes(b"not audio at all")
  assert cli.main(["analyze", str(tmp_path / "garbage.wav")]) == 1
  assert "garbage.wav" in _one_line_error(capsys.readouterr().err)
  assert cli.main(["extract", str(tmp_path / "nothing-here"), "-o", str(tmp_path / "o")]) == 1
  assert "no such file" in _one_line_error(capsys.readouterr().err)
  assert cli.main(["train", str(tmp_path)]) == 1
  assert "UrbanSound8K.csv" in _one_line_error(capsys.readouterr().err)
  assert sorted(os.listdir(tmp_path)) == ["garbage.wav"]  # the failed commands wrote nothing


def test_analyze_writes_figure(tmp_path, capsys):
  fig = tmp_path / "figs" / "speech.png"
  assert cli.main(["analyze", jd.example("speech"), "-o", str(fig)]) == 0
  out = capsys.readouterr().out
  assert "speech.wav" in out and "centroid (Hz)" in out and str(fig) in out
  _assert_png(fig)


def test_extract_command(tmp_path, capsys):
  rng = np.random.default_rng(12345)
  src = tmp_path / "src"
  src.mkdir()
  for i, n in enumerate((4000, 6000, 9000)):
    sf.write(src / f"c{i}.wav", (0.2 * rng.standard_normal(n)).astype(np.float32), 8000, subtype="FLOAT")
  (src / "broken.wav").write_bytes(b"RIFF")
  out = tmp_path / "feats"
  argv = ["extract", str(src), "-o", str(out), "--features", "rms", "melspectrogram", "--sr", "8000",
          "--n-fft", "256", "--hop-length", "64", "--n-mels", "16", "--batch-size", "2", "--no-progress"]
  assert cli.main(argv) == 0
  text = capsys.readouterr().out
  assert "3 files ok, 1 failed" in text and "broken.wav" in text
  manifest = json.loads((out / "manifest.json").read_text())
  assert manifest["config"]["features"] == ["melspectrogram", "rms"] and manifest["config"]["n_mels"] == 16
  feats = batch.load_features(out)
  y, _ = jd.load(src / "c1.wav")
  np.testing.assert_allclose(feats[str(src / "c1.wav")]["rms"], jd.rms(y, frame_length=256, hop_length=64),
                             rtol=1e-5, atol=1e-7)
  assert cli.main(argv) == 0  # resumed: nothing left to compute
  assert "0 computed now" in capsys.readouterr().out


def test_demo_quick_then_train(tmp_path, monkeypatch, capsys):
  cwd = tmp_path / "cwd"
  cwd.mkdir()
  monkeypatch.chdir(cwd)
  out = tmp_path / "demo"
  assert cli.main(["demo", "--quick", "--out", str(out), "--no-progress"]) == 0
  text = capsys.readouterr().out
  assert "centroid (Hz)" in text and "held-out accuracy" in text
  _assert_png(out / "analysis.png")
  assert list(out.glob("*.png")) == [out / "analysis.png"]  # one figure
  assert (out / "urbansound8k" / "metadata" / "UrbanSound8K.csv").is_file()
  assert os.listdir(cwd) == []  # nothing written outside --out

  # `jaxdsp train` on the demo's dataset (the quick demo's model and shapes).
  train_out = tmp_path / "train"
  argv = ["train", str(out / "urbansound8k"), "--epochs", "1", "--out", str(train_out), "--sr", "8000",
          "--duration", "0.5", "--n-mels", "24", "--channels", "4", "8", "--batch-size", "16", "--no-progress"]
  assert cli.main(argv) == 0
  assert "test accuracy" in capsys.readouterr().out
  history = json.loads((train_out / "history.json").read_text())
  assert len(history["loss"]) == 1 and np.isfinite(history["loss"][0])
  assert any((train_out / "checkpoints").iterdir()) and (train_out / "runs").is_dir()


def test_analyze_too_short_file_is_one_line(tmp_path, monkeypatch, capsys):
  monkeypatch.chdir(tmp_path)
  sf.write(tmp_path / "one.wav", np.array([0.5], np.float32), 44100, subtype="FLOAT")
  assert cli.main(["analyze", str(tmp_path / "one.wav")]) == 1
  line = _one_line_error(capsys.readouterr().err)
  assert "one.wav: 1 sample at 44100 Hz is too short to analyze" in line
  assert sorted(os.listdir(tmp_path)) == ["one.wav"]


def test_analyze_long_file_is_decimated_to_the_figure(tmp_path, monkeypatch, capsys):
  """60 s (at 2 kHz): the scalogram is computed segment by segment at a hop, and every drawn array
  (mesh cells, line points) is bounded by the figure's pixels, not the signal's length."""
  import matplotlib.axes

  sr, n = 2000, 60 * 2000
  t = np.arange(n) / sr
  y = 0.3 * np.sin(2 * np.pi * (100 + 10 * t) * t) + 0.01 * np.random.default_rng(3).standard_normal(n)
  sf.write(tmp_path / "long.wav", y.astype(np.float32), sr, subtype="PCM_16")
  monkeypatch.setattr(demo, "SCALOGRAM_SEGMENT", 1 << 15)  # 4 segments
  sizes = []
  for method in ("pcolormesh", "plot"):
    real = getattr(matplotlib.axes.Axes, method)

    def spy(self, *args, _real=real, **kwargs):
      result = _real(self, *args, **kwargs)
      arrays = [np.asarray(a) for a in args if np.ndim(a) >= 1]
      width = self.figure.get_figwidth() * self.figure.dpi
      sizes.append((max(a.shape[-1] for a in arrays), width))
      return result

    monkeypatch.setattr(matplotlib.axes.Axes, method, spy)
  fig = tmp_path / "long.png"
  assert cli.main(["analyze", str(tmp_path / "long.wav"), "-o", str(fig)]) == 0
  assert "long.wav" in capsys.readouterr().out
  _assert_png(fig)
  assert len(sizes) >= 6
  assert all(columns <= 2 * width + 1 for columns, width in sizes), sizes


def test_long_scalogram_segments_equal_the_whole_transform():
  """Segments with margins: the rows above the wavelet's aliasing bound (scale > 5.2 samples for
  cmor1.5-1.0) equal the whole-signal CWT at the same hop to float32 round-off; below it the CWT
  itself depends on its padding (jaxdsp.cwt's docstring)."""
  sr, n = 4000, 16000
  rng = np.random.default_rng(0)
  t = np.arange(n) / sr
  y = (np.sin(2 * np.pi * (100 + 200 * t) * t) + 0.1 * rng.standard_normal(n)).astype(np.float32)
  W, freqs, rate = demo.segmented_scalogram(y, sr, n_scales=12, max_columns=200, segment=4000)
  hop = -(-n // 200)
  assert W.shape == (12, 200) and rate == sr / hop
  ref = np.asarray(jd.cwt(y, freqs=freqs, sr=sr, wavelet="cmor1.5-1.0", hop_length=hop, output="magnitude"))
  exact = np.asarray(jd.frequency_to_scale(freqs, sr=sr, wavelet="cmor1.5-1.0")) > 5.2
  assert exact.sum() >= 9
  np.testing.assert_allclose(W[exact], ref[exact], rtol=0, atol=1e-5 * float(ref.max()))
  np.testing.assert_allclose(W[~exact], ref[~exact], rtol=0, atol=0.05 * float(ref.max()))


def test_extract_wait_and_memory_budget_flags(tmp_path, monkeypatch):
  seen = {}
  monkeypatch.setattr(batch, "extract", lambda *a, **kw: seen.update(kw) or (_ for _ in ()).throw(ValueError("x")))
  assert cli.main(["extract", str(tmp_path), "-o", str(tmp_path / "o"), "--wait", "--memory-budget", "1000"]) == 1
  assert seen["wait"] is True and seen["memory_budget"] == 1000


def test_analyze_features_in_pieces_equal_the_whole_signal_and_follow_the_budget():
  """``demo.analyze`` over a memory budget of ~36 frames: the features come in pieces of whole
  frames (``batch.feature_pieces``, as extract computes long files) and equal the whole-signal
  computation exactly (float32); the spectrogram kept is max-pooled by groups of frames. The piece
  size follows the budget (half the budget, half the piece) and not the signal's length."""
  y, sr = load_clip("music_22k")  # 3 s: 130 frames at n_fft 2048, hop 512
  budget = 300_000
  whole = demo.analyze(y, sr, scalogram=False, spectrogram_columns=1000)
  parts = demo.analyze(y, sr, scalogram=False, spectrogram_columns=1000, memory_budget=budget)
  assert (whole.n_pieces, whole.piece_frames) == (1, None) and parts.n_pieces >= 3
  assert whole.spectrogram_group == parts.spectrogram_group == 1
  assert sorted(parts.features) == sorted(whole.features)
  ref = jd.features(y, sr=sr, names=("rms", "spectrogram", "zero_crossing_rate"), n_fft=2048, hop_length=512)
  for k in ("rms", "spectrogram", "zero_crossing_rate"):
    np.testing.assert_allclose(whole.features[k], np.asarray(ref[k]), rtol=0, atol=0, err_msg=k)
  for k, v in whole.features.items():
    np.testing.assert_allclose(parts.features[k], v, rtol=1e-6, atol=1e-6 * float(np.max(np.abs(v))), err_msg=k)
  # The spectrogram for the figure: the maximum over groups of frames, equal in pieces and at once.
  pooled = demo.analyze(y, sr, scalogram=False, spectrogram_columns=20, memory_budget=budget)
  S = whole.features["spectrogram"]
  k = pooled.spectrogram_group
  assert k == 7 and pooled.features["spectrogram"].shape == (1025, 19)
  want = np.stack([S[:, i:i + k].max(axis=1) for i in range(0, S.shape[1], k)], axis=1)
  np.testing.assert_array_equal(pooled.features["spectrogram"], want)
  # The piece size follows the budget, not the length (no computation: the plan only).
  names = ("amplitude_envelope", "rms", "zero_crossing_rate", "spectral_centroid", "spectral_bandwidth",
           "spectral_rolloff", "spectrogram")
  settings = batch._settings(names, sr=sr, n_fft=2048, hop_length=512, center=True, pad_mode="constant",
                             memory_budget=budget, options={}, who="test")
  per_frame = batch._bytes_per_frame(settings.requests, settings.spec, "hann", settings.zcr_left)
  n_dev = len(jax.local_devices())
  assert parts.piece_frames == budget // per_frame // n_dev and parts.piece_frames * per_frame * n_dev <= budget
  for length, b in ((y.size * 40, budget), (y.size * 40, budget // 2), (y.size * 400, budget // 2)):
    plan = batch.feature_pieces(np.zeros(length, np.float32), names, sr=sr, hop_length=512, memory_budget=b)
    assert plan.piece_frames == b // per_frame // n_dev
    assert plan.n_pieces == -(-plan.n_frames // plan.piece_frames)


def test_feature_pieces_equal_features_and_check_their_arguments():
  y, sr = load_clip("speech_22k")
  names = ("melspectrogram", "spectral_rolloff", "zero_crossing_rate")
  plan = batch.feature_pieces(y, names, sr=sr, n_fft=1024, hop_length=256, pad_mode="reflect", n_mels=32,
                              memory_budget=60_000, devices=1)
  ref = jd.features(y, sr=sr, names=names, n_fft=1024, hop_length=256, pad_mode="reflect", n_mels=32)
  got = {k: [] for k in names}
  starts = []
  for start, piece in plan:
    starts.append(start)
    for k, v in piece.items():
      got[k].append(v)
  assert starts == list(range(0, plan.n_frames, plan.piece_frames)) and len(starts) == plan.n_pieces >= 3
  for k in names:
    want = np.asarray(ref[k])
    np.testing.assert_allclose(np.concatenate(got[k], axis=-1), want, rtol=1e-5, atol=1e-6 * float(np.abs(want).max()),
                               err_msg=k)
  with pytest.raises(ValueError, match="features: .*onset_strength.*finishing step"):
    batch.feature_pieces(y, ("rms", "onset_strength"), sr=sr)
  with pytest.raises(ValueError, match="y must be a 1-D float signal"):
    batch.feature_pieces(np.stack([y, y]), ("rms",), sr=sr)
  with pytest.raises(ValueError, match="y has 10 samples"):
    batch.feature_pieces(np.zeros(10, np.float32), ("rms",), sr=sr, center=False)
  with pytest.raises(TypeError, match="feature_pieces got unexpected options"):
    batch.feature_pieces(y, ("rms",), sr=sr, bogus=1)
  with pytest.raises(ValueError, match="memory_budget"):
    batch.feature_pieces(y, ("rms",), sr=sr, memory_budget=0)
