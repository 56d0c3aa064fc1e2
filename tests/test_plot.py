"""jaxdsp.plot: waveform, envelope, spectrogram, history render non-blank PNGs with physical axes;
bad input raises; the package imports without matplotlib."""

import os
import subprocess
import sys
import textwrap

import matplotlib

matplotlib.use("Agg")

import matplotlib.image  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import jaxdsp as jd  # noqa: E402
from jaxdsp import plot  # noqa: E402

SR = 8000


@pytest.fixture(scope="module")
def signal():
  t = np.arange(SR) / SR
  rng = np.random.default_rng(12345)
  y = 0.5 * np.sin(2 * np.pi * (200 + 800 * t) * t) * np.minimum(1, 4 * t) + 0.01 * rng.standard_normal(SR)
  return y.astype(np.float32)


@pytest.fixture(autouse=True)
def _close_figures():
  yield
  plt.close("all")


def _save(ax_or_fig, path):
  fig = getattr(ax_or_fig, "figure", ax_or_fig)
  fig.savefig(path, dpi=50)
  assert path.is_file() and path.stat().st_size > 5_000
  pixels = matplotlib.image.imread(path)[..., :3]
  assert float(pixels.std()) > 0.05, "blank image"
  return pixels


def test_waveform_with_envelope_and_rms(signal, tmp_path):
  ax = plot.waveform(signal, sr=SR, envelope=True, rms=True, frame_length=512, hop_length=128, title="w")
  lines = ax.get_lines()
  assert [line.get_label() for line in lines] == ["waveform", "amplitude envelope", "RMS"]
  t_env = lines[1].get_xdata()
  assert len(t_env) == jd.num_frames(SR, frame_length=512, hop_length=128)
  np.testing.assert_allclose(lines[1].get_ydata(), jd.amplitude_envelope(signal, frame_length=512, hop_length=128))
  np.testing.assert_allclose(t_env[1], 128 / SR)
  assert ax.get_xlim() == (0.0, 1.0) and ax.get_xlabel() == "Time (s)"
  _save(ax, tmp_path / "waveform.png")
  # Precomputed overlays are drawn as given.
  ax = plot.waveform(signal[None], sr=SR, rms=np.ones(5), hop_length=128)
  assert len(ax.get_lines()) == 2


@pytest.mark.parametrize("y_axis", ["linear", "log", "mel"])
def test_spectrogram_axes(signal, tmp_path, y_axis):
  if y_axis == "mel":
    S, scale = jd.melspectrogram(signal, sr=SR, n_fft=512, hop_length=128, n_mels=40), "power"
  else:
    S, scale = jd.spectrogram(signal, n_fft=512, hop_length=128), "amplitude"
  ax = plot.spectrogram(S, sr=SR, hop_length=128, y_axis=y_axis, scale=scale)
  assert ax.get_yscale() == {"linear": "linear", "log": "log", "mel": "function"}[y_axis]
  lo, hi = ax.get_ylim()
  assert hi == pytest.approx(SR / 2, rel=0.02) and lo >= 0
  assert ax.get_xlim()[1] == pytest.approx((S.shape[-1] - 0.5) * 128 / SR)
  assert ax.get_ylabel() == "Frequency (Hz)"
  mesh = ax.collections[0]
  values = np.asarray(mesh.get_array())
  assert values.max() == pytest.approx(0.0) and values.min() >= -80.0 - 1e-9  # dB re peak, top_db
  _save(ax, tmp_path / f"spec_{y_axis}.png")


def test_spectrogram_db_input_and_errors(signal):
  S = jd.spectrogram(signal, n_fft=512, hop_length=128)
  S_db = np.asarray(jd.amplitude_to_db(S))
  ax = plot.spectrogram(S_db, sr=SR, hop_length=128, scale="db", top_db=None)
  np.testing.assert_allclose(np.asarray(ax.collections[0].get_array()).reshape(S_db.shape), S_db, rtol=1e-6)
  with pytest.raises(ValueError, match="S must be"):
    plot.spectrogram(np.ones(10), sr=SR)
  with pytest.raises(ValueError, match="y_axis"):
    plot.spectrogram(S, sr=SR, y_axis="bark")
  with pytest.raises(ValueError, match="scale"):
    plot.spectrogram(S, sr=SR, scale="decibel")
  with pytest.raises(ValueError, match="n_fft"):
    plot.spectrogram(S, sr=SR, n_fft=1024)
  with pytest.raises(ValueError, match="sr"):
    plot.spectrogram(S, sr=-1)


def test_envelope_curves(signal, tmp_path):
  zcr = jd.zero_crossing_rate(signal, frame_length=512, hop_length=128)
  c = jd.spectral_centroid(signal, sr=SR, n_fft=512, hop_length=128)
  ax = plot.envelope(np.stack([c, c + 100]), sr=SR, hop_length=128, label=["centroid", "+100 Hz"], ylabel="Hz")
  assert [line.get_label() for line in ax.get_lines()] == ["centroid", "+100 Hz"]
  plot.envelope(zcr, sr=SR, hop_length=128, ax=ax.twinx(), color="C4")
  _save(ax, tmp_path / "envelope.png")
  with pytest.raises(ValueError, match="label"):
    plot.envelope(np.ones((2, 5)), sr=SR, label=["one"])
  with pytest.raises(ValueError, match="values"):
    plot.envelope(np.ones((2, 3, 5)), sr=SR)


def test_history(tmp_path):
  hist = {"epoch": [1, 2, 3], "loss": [2.0, 1.0, 0.5], "val_loss": [2.2, 1.3, 0.9],
          "accuracy": [0.2, 0.6, 0.9], "val_accuracy": [None, 0.5, 0.8], "time": [1.0, 1.0, 1.0]}
  axes = plot.history(hist, title="training")
  assert [ax.get_ylabel() for ax in axes] == ["loss", "accuracy"]
  assert [line.get_label() for line in axes[1].get_lines()] == ["train", "validation"]
  np.testing.assert_allclose(axes[1].get_lines()[1].get_xdata(), [2, 3])  # the None is skipped
  _save(axes[0], tmp_path / "history.png")
  fig, ax = plt.subplots()
  assert plot.history(hist, metrics="loss", axes=ax) == [ax]
  with pytest.raises(ValueError, match="metrics"):
    plot.history(hist, metrics=("f1",))
  with pytest.raises(ValueError, match="axes"):
    plot.history(hist, axes=[ax])
  with pytest.raises(TypeError, match="hist"):
    plot.history([1, 2])


def test_imports_without_matplotlib():
  script = textwrap.dedent("""
      import sys
      class Block:
          def find_spec(self, name, path=None, target=None):
              if name.split(".")[0] == "matplotlib":
                  raise ImportError("No module named 'matplotlib' (blocked)")
      sys.meta_path.insert(0, Block())
      import jaxdsp as jd
      assert "matplotlib" not in sys.modules
      try:
          jd.plot.waveform([0.0, 0.1], sr=8000)
      except ImportError as e:
          print(e)
  """)
  proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                        env=dict(os.environ, JAX_PLATFORMS="cpu"))
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert "pip install" in proc.stdout and "[plot]" in proc.stdout


def test_long_inputs_are_decimated_to_the_figure(tmp_path):
  """A long spectrogram, waveform and feature curve are drawn with at most COLUMNS_PER_PIXEL ×
  the figure's width columns; the spectrogram keeps each group's maximum, the waveform its extremes."""
  fig, axes = plt.subplots(3, 1, figsize=(4, 6), dpi=50)  # 200 pixels wide: at most 400 columns
  limit = plot.COLUMNS_PER_PIXEL * 200
  rng = np.random.default_rng(1)
  S = rng.random((33, 10_000)).astype(np.float32)
  S[5, 1234] = 50.0
  plot.spectrogram(S, sr=SR, hop_length=64, ax=axes[0], scale="power", top_db=None, colorbar=False)
  D = np.asarray(axes[0].collections[0].get_array()).reshape(33, -1)
  k = -(-10_000 // limit)
  assert D.shape[1] == -(-10_000 // k) <= limit
  ref = 10 * np.log10(np.maximum.reduceat(S.astype(np.float64), np.arange(0, 10_000, k), axis=1) / 50.0)
  np.testing.assert_allclose(D, ref, rtol=1e-12, atol=1e-9)
  assert D[5, 1234 // k] == 0.0
  x = (0.1 * rng.standard_normal(200_000)).astype(np.float32)
  x[123_457] = 0.9
  plot.waveform(x, sr=SR, ax=axes[1], rms=True)
  wave, rms = axes[1].get_lines()
  assert len(wave.get_ydata()) <= limit and len(rms.get_ydata()) <= limit
  assert wave.get_ydata().max() == np.float32(0.9) and wave.get_ydata().min() == x.min()
  assert axes[1].get_xlim() == (0.0, 200_000 / SR)
  curve = rng.random(5000)
  plot.envelope(curve, sr=SR, hop_length=64, ax=axes[2])
  line = axes[2].get_lines()[0]
  assert len(line.get_ydata()) <= limit
  np.testing.assert_allclose(line.get_ydata().mean(), curve.mean(), rtol=1e-2)
  _save(fig, tmp_path / "long.png")
