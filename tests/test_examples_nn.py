"""Smoke test: each neural-network course-chapter example runs (in a temporary directory) and
what it prints holds: formulas agree, losses fall, logs and checkpoints appear. The perceptron and
CNN examples run with their DEFAULT arguments (which take seconds), the others with ``--quick``."""

import glob
import os

import numpy as np

from example_runner import run_default
from example_runner import run_example


def test_perceptron_example(tmp_path):
  r = run_default("perceptron", tmp_path)
  assert r["neuron_diff"] < 1e-6 and abs(r["neuron_course"] - 0.610639) < 1e-6
  assert r["and_accuracy"] == 1.0 and r["or_accuracy"] == 1.0
  assert np.all(np.isfinite(r["clouds_loss"]))
  assert r["clouds_loss"][-1] < r["clouds_loss"][0] and r["clouds_accuracy"] > 0.9


def test_shallow_and_deep_nets_example(tmp_path):
  r = run_example("shallow_and_deep_nets", tmp_path)
  assert r["forward_max_abs_diff"] < 1e-6
  for name in ("shallow", "deep"):
    assert r[name]["loss"][-1] < r[name]["loss"][0]
  assert (tmp_path / "shallow_and_deep_nets.json").is_file()


def test_losses_and_optimizers_example(tmp_path):
  r = run_example("losses_and_optimizers", tmp_path)
  for v in r["losses"].values():
    if "torch" in v:
      np.testing.assert_allclose(v["jaxdsp"], v["torch"], rtol=1e-5)
  for curve in r["curves"].values():
    assert curve[-1] < curve[0]
  assert os.path.getsize(r["figure"]) > 10_000


def test_cnn_urbansound_example(tmp_path):
  r = run_default("cnn_urbansound", tmp_path)
  h = r["history"]
  assert len(h["loss"]) == 8 and np.all(np.isfinite(h["loss"])) and h["loss"][-1] < h["loss"][0]
  assert np.isfinite(r["test_loss"]) and r["test_accuracy"] > 0.3  # chance: 0.1
  assert r["skipped"] == []
  assert glob.glob(os.path.join(r["log_dir"], "events.out.tfevents.*"))
  assert sorted(os.listdir(tmp_path / "checkpoints")) == ["7", "8"]
  assert np.sum(r["confusion_matrix"]) == r["n_test"] == 20


def test_augmentation_example(tmp_path):
  r = run_default("augmentation", tmp_path)
  assert len(r["plain"]) == len(r["augmented"]) == 1
  assert r["plain_accuracy"] > 0.3 and r["augmented_accuracy"] > 0.3  # chance: 0.1
  assert (tmp_path / "augmentation.json").is_file()
