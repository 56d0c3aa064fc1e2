"""Smoke test: each DSP course-chapter example runs (``--quick``) and writes a non-blank figure;
the comparisons it prints hold."""

import pathlib

import numpy as np
import pytest

from example_runner import run_example


def _assert_figure(path):
  import matplotlib.image
  path = pathlib.Path(path)
  assert path.is_file() and path.stat().st_size > 10_000
  pixels = matplotlib.image.imread(path)
  assert pixels.ndim == 3 and float(pixels[..., :3].std()) > 0.05  # not a blank canvas


# (example, result key, bound): the agreement each chapter checks.
CASES = [
    ("amplitude_envelope", "max_abs_diff", 0.0),  # a maximum: exact
    ("rms_energy", "vs_librosa", 1e-5),
    ("rms_energy", "vs_course", 1e-6),
    ("zero_crossing_rate", "max_abs_diff", 0.0),  # counts: exact
    ("spectral_centroid_bandwidth", "max_rel_diff", 1e-3),
    ("stft_by_hand", "max_rel_diff", 1e-6),
    ("wavelet_transform", "chirp_vs_pywt", 1e-3),  # of the peak, PyWavelets' discretised filters
]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
  cache = {}

  def get(name):
    if name not in cache:
      cache[name] = run_example(name, tmp_path_factory.mktemp(name))
    return cache[name]

  return get


@pytest.mark.parametrize("name,key,bound", CASES, ids=[f"{n}-{k}" for n, k, _ in CASES])
def test_example_runs_and_agrees(results, name, key, bound):
  result = results(name)
  _assert_figure(result["figure"])
  assert pathlib.Path(result["figure"]).parent.name.startswith(name)
  assert np.isfinite(result[key]) and result[key] <= bound, (name, key, result[key])
