"""plot.scalogram: axes in seconds and Hz (log), the tone's row is the brightest, bad input."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import jaxdsp as jd  # noqa: E402
from jaxdsp import plot  # noqa: E402

SR = 8000
N = 2000
FREQS = jd.cwt_frequencies(fmin=100.0, fmax=3000.0, n_scales=24)


@pytest.fixture(scope="module")
def W():
  y = np.sin(2 * np.pi * 440.0 * np.arange(N) / SR).astype(np.float32)
  return np.asarray(jd.cwt(y, freqs=FREQS, sr=SR, normalization="l1"))


def test_scalogram_axes_and_data(W):
  ax = plot.scalogram(W, sr=SR, freqs=FREQS, title="tone")
  assert ax.get_yscale() == "log"
  assert "Hz" in ax.get_ylabel() and "s" in ax.get_xlabel()
  assert ax.get_title() == "tone"
  lo, hi = ax.get_ylim()
  assert lo < FREQS.min() < FREQS.max() < hi
  assert ax.get_xlim()[1] == pytest.approx(N / SR)
  mesh = ax.collections[0]
  data = np.asarray(mesh.get_array()).reshape(len(FREQS), -1)  # rows sorted by rising frequency
  assert data.shape[1] <= plot.COLUMNS_PER_PIXEL * 640  # decimated to a default figure's 640 pixels
  f_sorted = np.sort(FREQS)
  assert abs(f_sorted[np.argmax(data[:, data.shape[1] // 2])] - 440.0) / 440.0 < 0.2
  assert len(ax.figure.axes) == 2  # the colorbar
  plt.close(ax.figure)


def test_scalogram_from_scales_db_coi_and_given_axes(W):
  fig, ax = plt.subplots()
  scales = jd.frequency_to_scale(FREQS, sr=SR)
  out = plot.scalogram(W[None], sr=SR, scales=scales, ax=ax, db=True, coi=True, colorbar=False)
  assert out is ax and len(fig.axes) == 1
  data = np.asarray(ax.collections[0].get_array())
  assert data.max() == pytest.approx(0.0) and data.min() >= -80.0
  assert len(ax.collections) == 3  # mesh + two cone shades
  plt.close(fig)


def test_scalogram_bad_input(W):
  with pytest.raises(ValueError, match="exactly one of freqs or scales"):
    plot.scalogram(W, sr=SR)
  with pytest.raises(ValueError, match="one value per row"):
    plot.scalogram(W, sr=SR, freqs=FREQS[:-1])
  with pytest.raises(ValueError, match="W must be"):
    plot.scalogram(W[0], sr=SR, freqs=FREQS)
  with pytest.raises(ValueError, match="sr must be"):
    plot.scalogram(W, sr=0.0, freqs=FREQS)
  plt.close("all")
