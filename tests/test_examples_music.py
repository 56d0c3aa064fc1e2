"""Smoke test: ``examples/music_analysis.py`` runs with its default arguments (the whole shipped clips), writes a non-blank figure, and its CQT,
chromagram and pyin f0 agree with librosa's (the CQT to 1e-4 of its peak, the chroma to 1e-4, the f0
to within one cent in median on frames both call voiced)."""

import pathlib

import matplotlib.image
import numpy as np

from example_runner import run_default


def test_music_analysis_example(tmp_path):
  result = run_default("music_analysis", tmp_path)
  path = pathlib.Path(result["figure"])
  assert path.is_file() and path.stat().st_size > 10_000
  pixels = matplotlib.image.imread(path)
  assert float(pixels[..., :3].std()) > 0.05
  for name in ("music", "speech"):
    assert result[f"{name}_cqt_vs_librosa"] <= 1e-4
    assert result[f"{name}_chroma_vs_librosa"] <= 1e-4
    assert result[f"{name}_f0_median_cents"] <= 1.0
    assert 0.2 < result[f"{name}_voiced"] <= 1.0
  assert np.isfinite(list(v for k, v in result.items() if k != "figure")).all()
