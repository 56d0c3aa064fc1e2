"""Smoke test: ``examples/ddsp_fit.py`` with its default arguments recovers the known synthesiser.

Bounds held (measured, from f0 51 cents sharp, a 1/k distribution, a pass-through filter, reverb gain
0.01 and decay 30): the multi-resolution STFT loss falls at least 5x (9.8x); f0 within 25 cents over
the voiced frames (10.0); the harmonic distribution of harmonics 1-4 within 3 dB (1.6) and the
filter's magnitude response over 220-1200 Hz within 3 dB (1.6); what is heard of every audible
harmonic (distribution times the filter at k·f0) within 9 dB (5.7: a slow spectral tilt between the
two on the upper harmonics); the reverb's gain within 10 % (0.0493 vs 0.05) and decay within 5 %
(12.09 vs 12)."""

import pathlib

import numpy as np
import pytest

from example_runner import run_example

pytest.importorskip("optax")


def test_ddsp_fit_recovers_f0_distribution_filter_and_reverb(tmp_path):
  result = run_example("ddsp_fit", tmp_path)
  assert np.isfinite(result["loss_after"])
  assert result["loss_before"] / result["loss_after"] >= 5.0, (result["loss_before"], result["loss_after"])
  assert result["f0_max_cents"] <= 25.0, result["f0_max_cents"]
  assert result["distribution_max_db"] <= 3.0, result["distribution_max_db"]
  assert result["fir_max_db"] <= 3.0, result["fir_max_db"]
  assert result["heard_max_db"] <= 9.0, result["heard_max_db"]
  assert result["reverb_gain_error"] <= 0.10, result["reverb_gain"]
  assert result["reverb_decay_error"] <= 0.05, result["reverb_decay"]
  assert len(result["losses"]) == 101  # 100 steps and the final loss
  if "figure" in result:  # matplotlib installed
    assert pathlib.Path(result["figure"]).stat().st_size > 10_000
