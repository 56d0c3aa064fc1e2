"""Tests for jaxdsp.nn losses, optimizers, train_step / evaluate / fit, checkpoints, TensorBoard."""

from __future__ import annotations

import glob
import os

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx
from jax.test_util import check_grads

from jaxdsp import nn as jn

try:
  import torch
except ImportError:  # pragma: no cover - torch is a bench/test extra
  torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch not installed")


@pytest.fixture(scope="module")
def rng():
  return np.random.default_rng(12345)


def _params(model):
  return [np.asarray(x) for x in jax.tree.leaves(nnx.state(model, nnx.Param))]


# ---------------------------------------------------------------------------------------------
# Losses: NumPy float64 formulas (tol 1e-6) and torch (tol 1e-5).


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_l1_and_mse_formulas(rng, reduction):
  p = rng.standard_normal((4, 3)).astype(np.float32)
  t = rng.standard_normal((4, 3)).astype(np.float32)
  red = {"mean": np.mean, "sum": np.sum, "none": lambda a: a}[reduction]
  np.testing.assert_allclose(jn.l1_loss(p, t, reduction=reduction), red(np.abs(p - t)), rtol=1e-6)
  np.testing.assert_allclose(jn.mse_loss(p, t, reduction=reduction), red((p - t) ** 2), rtol=1e-6)
  if torch is not None:
    tp, tt = torch.from_numpy(p), torch.from_numpy(t)
    np.testing.assert_allclose(jn.l1_loss(p, t, reduction=reduction),
                               torch.nn.L1Loss(reduction=reduction)(tp, tt).numpy(), rtol=1e-5)
    np.testing.assert_allclose(jn.mse_loss(p, t, reduction=reduction),
                               torch.nn.MSELoss(reduction=reduction)(tp, tt).numpy(), rtol=1e-5)


def _np_log_softmax(z):
  z = z.astype(np.float64)
  z = z - z.max(-1, keepdims=True)
  return z - np.log(np.exp(z).sum(-1, keepdims=True))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_integer_one_hot_and_probabilities(rng, reduction):
  z = rng.standard_normal((6, 5)).astype(np.float32) * 3
  labels = rng.integers(0, 5, 6)
  probs = rng.dirichlet(np.ones(5), 6).astype(np.float32)
  red = {"mean": np.mean, "sum": np.sum, "none": lambda a: a}[reduction]
  ref_int = red(-_np_log_softmax(z)[np.arange(6), labels])
  np.testing.assert_allclose(jn.cross_entropy(z, labels, reduction=reduction), ref_int, rtol=1e-5)
  one_hot = np.eye(5, dtype=np.float32)[labels]
  np.testing.assert_allclose(jn.cross_entropy(z, one_hot, reduction=reduction), ref_int, rtol=1e-5)
  ref_p = red(-(probs * _np_log_softmax(z)).sum(-1))
  np.testing.assert_allclose(jn.cross_entropy(z, probs, reduction=reduction), ref_p, rtol=1e-5)
  if torch is not None:
    for target, ours in ((torch.from_numpy(labels), labels), (torch.from_numpy(probs), probs)):
      for eps in (0.0, 0.1):
        ref = torch.nn.CrossEntropyLoss(reduction=reduction, label_smoothing=eps)(
            torch.from_numpy(z), target).numpy()
        got = jn.cross_entropy(z, ours, reduction=reduction, label_smoothing=eps)
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)


def test_binary_cross_entropy_probabilities_and_logits(rng):
  z = rng.standard_normal(8).astype(np.float32) * 4
  t = rng.integers(0, 2, 8).astype(np.float32)
  p = 1 / (1 + np.exp(-z.astype(np.float64)))
  ref = np.mean(-(t * np.log(p) + (1 - t) * np.log(1 - p)))
  np.testing.assert_allclose(jn.binary_cross_entropy(z, t, from_logits=True), ref, rtol=1e-5)
  np.testing.assert_allclose(jn.binary_cross_entropy(p.astype(np.float32), t), ref, rtol=1e-5)
  # Saturated probabilities: each log is clamped at -100, as torch.nn.BCELoss.
  sat = jn.binary_cross_entropy(np.array([0.0, 1.0], np.float32), np.array([1.0, 0.0], np.float32),
                                reduction="none")
  np.testing.assert_allclose(sat, [100.0, 100.0])
  if torch is not None:
    pt = torch.from_numpy(p.astype(np.float32))
    np.testing.assert_allclose(jn.binary_cross_entropy(p.astype(np.float32), t, reduction="sum"),
                               torch.nn.BCELoss(reduction="sum")(pt, torch.from_numpy(t)).numpy(),
                               rtol=1e-5)
    np.testing.assert_allclose(
        jn.binary_cross_entropy(z, t, from_logits=True),
        torch.nn.BCEWithLogitsLoss()(torch.from_numpy(z), torch.from_numpy(t)).numpy(), rtol=1e-5)


def test_losses_jit_and_grad(rng):
  p = jnp.asarray(rng.standard_normal((4, 3)).astype(np.float32))
  t = jnp.asarray(rng.standard_normal((4, 3)).astype(np.float32))
  np.testing.assert_allclose(jax.jit(jn.mse_loss)(p, t), jn.mse_loss(p, t), rtol=1e-6)
  np.testing.assert_allclose(jax.grad(jn.mse_loss)(p, t), 2 * (p - t) / p.size, rtol=1e-5)
  g = jax.grad(jn.cross_entropy)(p, jnp.array([0, 1, 2, 0]))
  np.testing.assert_allclose(g, (jax.nn.softmax(p) - jax.nn.one_hot([0, 1, 2, 0], 3)) / 4,
                             atol=1e-6)


@pytest.mark.parametrize("call,match", [
    (lambda: jn.l1_loss(np.ones(3), np.ones(4)), "targets"),
    (lambda: jn.mse_loss(np.ones(3), np.ones(3), reduction="avg"), "reduction"),
    (lambda: jn.cross_entropy(np.ones((2, 3)), np.array([0, 1, 2])), "labels"),
    (lambda: jn.cross_entropy(np.ones((2, 3)), np.ones((2, 4))), "labels"),
    (lambda: jn.cross_entropy(np.ones((2, 3)), np.array([0, 1]), label_smoothing=1.5),
     "label_smoothing"),
    (lambda: jn.binary_cross_entropy(np.ones(3), np.ones(3), from_logits="yes"), "from_logits"),
    (lambda: jn.get_loss("hinge"), "loss"),
])
def test_loss_bad_input(call, match):
  with pytest.raises((ValueError, TypeError), match=match):
    call()


# ---------------------------------------------------------------------------------------------
# Optimizers.


def _torch_steps(opt_name, w0, grads_fn, n, **kw):
  w = torch.tensor(w0, requires_grad=True)
  opt = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}[opt_name]([w], **kw)
  for _ in range(n):
    opt.zero_grad()
    w.grad = torch.tensor(grads_fn(w.detach().numpy()))
    opt.step()
  return w.detach().numpy()


def _optax_steps(tx, w0, grads_fn, n):
  w = jnp.asarray(w0)
  state = tx.init(w)
  for _ in range(n):
    updates, state = tx.update(jnp.asarray(grads_fn(np.asarray(w))), state, w)
    w = optax.apply_updates(w, updates)
  return np.asarray(w)


@needs_torch
@pytest.mark.parametrize("name,kw,torch_kw", [
    ("sgd", {"learning_rate": 0.1}, {"lr": 0.1}),
    ("sgd", {"learning_rate": 0.1, "momentum": 0.9, "weight_decay": 0.01},
     {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01}),
    ("adam", {"learning_rate": 0.01}, {"lr": 0.01}),
    ("adam", {"learning_rate": 0.01, "weight_decay": 0.1}, {"lr": 0.01, "weight_decay": 0.1}),
])
def test_make_optimizer_matches_torch(name, kw, torch_kw):
  w0 = np.array([1.0, -2.0, 0.5], np.float32)
  grads = lambda w: (2 * w * np.array([1.0, 3.0, 0.5], np.float32)).astype(np.float32)
  ours = _optax_steps(jn.make_optimizer(name, **kw), w0, grads, 5)
  ref = _torch_steps(name, w0, grads, 5, **torch_kw)
  np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-6)


def test_make_optimizer_accepts_transformations_and_groups():
  tx = optax.sgd(0.5)
  assert jn.make_optimizer(tx) is tx
  with pytest.raises(ValueError, match="named optimizers"):
    jn.make_optimizer(tx, 0.1)
  with pytest.raises(ValueError, match="optimizer"):
    jn.make_optimizer("lbfgs2")
  with pytest.raises(ValueError, match="param_labels"):
    jn.make_optimizer({"a": "sgd"})


def test_per_group_optimizer_with_label_params(rng):
  model = jn.DeepNet(2, [4], 1, rngs=nnx.Rngs(0))
  labels = jn.label_params({"layers/0": "frozen"}, default="train")
  tx = jn.make_optimizer({"frozen": optax.set_to_zero(), "train": "sgd"}, 0.5,
                         param_labels=labels)
  opt = nnx.Optimizer(model, tx, wrt=nnx.Param)
  before = nnx.state(model, nnx.Param)
  first = np.asarray(model.layers[0].kernel[...])
  last = np.asarray(model.layers[1].kernel[...])
  x = rng.uniform(size=(16, 2)).astype(np.float32)
  jn.train_step(model, opt, x, x.sum(1, keepdims=True), loss="mse")
  np.testing.assert_array_equal(model.layers[0].kernel[...], first)
  assert not np.array_equal(model.layers[1].kernel[...], last)
  assert before is not None
  with pytest.raises(ValueError, match="matches no prefix"):
    jn.label_params({"frontend": "f"})(nnx.state(model, nnx.Param))


# ---------------------------------------------------------------------------------------------
# Training: the course's regression toy task (learn a + b), train_step, evaluate, fit.


@pytest.fixture(scope="module")
def sum_task():
  r = np.random.default_rng(12345)
  x = r.uniform(0, 0.5, (256, 2)).astype(np.float32)
  return x, x.sum(1, keepdims=True)


@pytest.mark.parametrize("loss", ["mse", "l1"])
@pytest.mark.parametrize("optimizer,lr", [("sgd", 1.0), ("adam", 0.01)])
def test_deep_net_regression_loss_decreases(sum_task, loss, optimizer, lr):
  net = jn.DeepNet(2, [5], 1, rngs=nnx.Rngs(0))
  before = jn.evaluate(net, sum_task, loss=loss)["loss"]
  h = jn.fit(net, sum_task, loss=loss, optimizer=optimizer, learning_rate=lr, epochs=6,
             batch_size=16, progress=False)
  after = jn.evaluate(net, sum_task, loss=loss)["loss"]
  assert h["loss"][-1] < h["loss"][0]
  assert after < before
  assert h["accuracy"] == [None] * 6  # regression: no accuracy


def test_train_step_with_dropout_in_graph_and_tree_mode(sum_task):
  x, y = sum_task
  results = []
  for graph_mode in (True, False):
    with nnx.set_graph_mode(graph_mode):
      net = jn.DeepNet(2, [5], 1, dropout=0.2, rngs=nnx.Rngs(0))
      opt = nnx.Optimizer(net, optax.adam(0.01), wrt=nnx.Param)
      losses = [float(jn.train_step(net, opt, x, y, loss="mse")["loss"]) for _ in range(30)]
      assert losses[-1] < losses[0]
      assert int(opt.step[...]) == 30
      results.append(_params(net))
  for a, b in zip(*results):
    np.testing.assert_array_equal(a, b)


def _blobs(seed=0, n=240, d=6, k=3):
  r = np.random.default_rng(seed)
  centers = r.standard_normal((k, d)) * 3
  y = r.integers(0, k, n)
  x = (centers[y] + r.standard_normal((n, d))).astype(np.float32)
  return x, y.astype(np.int32)


def test_fit_classification_history_and_evaluate():
  x, y = _blobs()
  train, val = (x[:200], y[:200]), (x[200:], y[200:])
  net = jn.DeepNet(6, [16], 3, activation="relu", output_activation=None, rngs=nnx.Rngs(0))
  h = jn.fit(net, train, val, loss="cross_entropy", optimizer="adam", learning_rate=0.05,
             epochs=4, batch_size=32, progress=False)
  assert h["epoch"] == [1, 2, 3, 4]
  assert set(h) >= {"loss", "accuracy", "val_loss", "val_accuracy", "time"}
  assert h["val_accuracy"][-1] >= 0.9
  ev = jn.evaluate(net, val, loss="cross_entropy", batch_size=7, return_predictions=True)
  assert ev["n"] == 40 and abs(ev["accuracy"] - h["val_accuracy"][-1]) < 1e-9
  assert np.mean(ev["predictions"] == ev["targets"]) == ev["accuracy"]
  # an iterable of batches works too
  batches = [(x[i:i + 50], y[i:i + 50]) for i in range(0, 200, 50)]
  h2 = jn.fit(net, batches, loss="cross_entropy", epochs=1, progress=False)
  assert len(h2["loss"]) == 1
  with pytest.raises(ValueError, match="epochs"):
    jn.fit(net, train, loss="cross_entropy", epochs=-1)


def _dropout_net(seed=0):
  return jn.DeepNet(6, [16], 3, activation="relu", output_activation=None, dropout=0.3,
                    rngs=nnx.Rngs(seed))


def test_fit_is_deterministic_for_a_seed():
  x, y = _blobs()
  runs = []
  for seed in (0, 0, 1):
    net = _dropout_net()
    jn.fit(net, (x, y), loss="cross_entropy", optimizer="adam", learning_rate=0.01, epochs=2,
           seed=seed, progress=False)
    runs.append(_params(net))
  assert all(np.array_equal(a, b) for a, b in zip(runs[0], runs[1]))
  assert not all(np.array_equal(a, b) for a, b in zip(runs[0], runs[2]))


def test_checkpoint_resume_equals_straight_training(tmp_path):
  x, y = _blobs()
  kw = dict(loss="cross_entropy", optimizer="adam", learning_rate=0.01, batch_size=32, seed=3,
            progress=False)
  straight = _dropout_net()
  h_straight = jn.fit(straight, (x, y), epochs=2, **kw)

  ckpt = tmp_path / "ckpt"
  first = _dropout_net()
  jn.fit(first, (x, y), epochs=1, checkpoint_dir=ckpt, **kw)
  assert jn.latest_step(ckpt) == 1
  resumed = _dropout_net()  # fresh model; fit restores model + optimizer + step, then 1 more
  h_resumed = jn.fit(resumed, (x, y), epochs=2, checkpoint_dir=ckpt, **kw)
  assert jn.latest_step(ckpt) == 2
  for a, b in zip(_params(straight), _params(resumed)):
    np.testing.assert_array_equal(a, b)
  assert h_resumed["epoch"] == [1, 2]
  np.testing.assert_allclose(h_resumed["loss"], h_straight["loss"], rtol=1e-12)


def test_save_and_restore_checkpoint_functions(tmp_path):
  net = _dropout_net()
  opt = nnx.Optimizer(net, optax.adam(1e-3), wrt=nnx.Param)
  x, y = _blobs(n=32)
  jn.train_step(net, opt, x, y, loss="cross_entropy")
  jn.save_checkpoint(tmp_path, net, opt, step=7, metadata={"note": "hi"})
  other = _dropout_net(seed=5)
  other_opt = nnx.Optimizer(other, optax.adam(1e-3), wrt=nnx.Param)
  meta = jn.restore_checkpoint(tmp_path, other, other_opt)
  assert meta == {"note": "hi", "step": 7}
  assert int(other_opt.step[...]) == 1
  for a, b in zip(_params(net), _params(other)):
    np.testing.assert_array_equal(a, b)
  with pytest.raises(FileNotFoundError, match="no checkpoint"):
    jn.restore_checkpoint(tmp_path, other, other_opt, step=3)
  with pytest.raises(FileNotFoundError):
    jn.restore_checkpoint(tmp_path / "nowhere", other)


# ---------------------------------------------------------------------------------------------
# TensorBoard.


def _read_events(log_dir):
  from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
  tags = {"scalars": set(), "images": set(), "audio": set(), "histograms": set(), "tensors": set()}
  for path in glob.glob(os.path.join(log_dir, "**", "events.out.tfevents.*"), recursive=True):
    acc = EventAccumulator(path, size_guidance={"scalars": 0, "images": 0, "audio": 0})
    acc.Reload()
    for kind in tags:
      tags[kind] |= set(acc.Tags().get(kind, []))
  return tags


def test_tensorboard_events_read_back(tmp_path, rng):
  log_dir = str(tmp_path / "tb")
  x = rng.standard_normal((40, 8, 6)).astype(np.float32)  # (batch, n_freq, n_frames) inputs
  y = (x.mean(axis=(1, 2)) > 0).astype(np.int32)
  model = jn.CNN((8, 6), 2, channels=(4,), rngs=nnx.Rngs(0))
  diag = lambda epoch, m, logs: {"kernel_norm": float(jnp.linalg.norm(m.convs[0].kernel[...])),
                                 "kernel_values": np.asarray(m.convs[0].kernel[...])}
  h = jn.fit(model, (x, y), (x, y), loss="cross_entropy", epochs=2, batch_size=8, log_dir=log_dir,
             log_every=2, callbacks=[diag], class_names=["neg", "pos"], progress=False)
  assert len(h["kernel_norm"]) == 2
  with jn.TensorBoardLogger(log_dir) as tb:
    tb.audio("clips/tone", 0.5 * np.sin(np.arange(4000) / 8000 * 2 * np.pi * 440), sr=8000, step=0)
    tb.spectrogram("clips/spec", rng.standard_normal((8, 6)), step=0)
  tags = _read_events(log_dir)
  assert {"train/loss", "epoch/loss", "epoch/accuracy", "epoch/val_loss", "epoch/val_accuracy",
          "diagnostics/kernel_norm"} <= tags["scalars"]
  assert {"inputs/example_0", "val/confusion_matrix", "clips/spec"} <= tags["images"]
  assert "clips/tone" in tags["audio"]
  assert "diagnostics/kernel_values" in tags["histograms"]


def test_confusion_matrix():
  cm = jn.confusion_matrix([0, 1, 2, 2, 1], [0, 2, 2, 2, 1], n_classes=3)
  np.testing.assert_array_equal(cm, [[1, 0, 0], [0, 1, 1], [0, 0, 2]])
  with pytest.raises(ValueError, match="y_pred"):
    jn.confusion_matrix([0, 1], [0, 3], n_classes=3)


def test_two_loggers_in_one_second_keep_both_files(tmp_path):
  """tensorboardX names event files by second and host: a second writer must not truncate the first."""
  log_dir = str(tmp_path / "tb")
  for tag in ("first/loss", "second/loss"):
    with jn.TensorBoardLogger(log_dir) as tb:
      tb.scalar(tag, 1.0, step=0)
  assert {"first/loss", "second/loss"} <= _read_events(log_dir)["scalars"]


def test_steps_fall_back_when_xla_lacks_the_compiler_options(monkeypatch):
  from jaxdsp.nn import train as train_mod
  monkeypatch.setattr(train_mod, "_COMPILER_OPTIONS", {"xla_no_such_option_for_jaxdsp": "1"})
  train_mod._step_fn.cache_clear()
  try:
    net = jn.DeepNet(2, [3], 1, rngs=nnx.Rngs(0))
    opt = nnx.Optimizer(net, optax.sgd(0.1), wrt=nnx.Param)
    x, y = np.ones((4, 2), np.float32), np.zeros((4, 1), np.float32)
    first = float(jn.train_step(net, opt, x, y, loss="mse")["loss"])
    second = float(jn.train_step(net, opt, x, y, loss="mse")["loss"])
    assert np.isfinite(first) and second < first
  finally:
    train_mod._step_fn.cache_clear()


# ---------------------------------------------------------------------------------------------
# Issue 14 / 13 defects: BCE at saturation, clear errors, NaN, labels, logging, checkpoints.


def test_binary_cross_entropy_gradient_at_saturation_equals_torch():
  """torch clamps each log at -100 and its backward is (p - t) / max(p (1 - p), 1e-12): loss 0
  and gradient [0, 0] at p == t in {0, 1}; elsewhere the closed form (p - t) / (p (1 - p)) / n."""
  t = jnp.array([1.0, 0.0])
  loss, g = jax.value_and_grad(jn.binary_cross_entropy)(jnp.array([1.0, 0.0]), t)
  assert float(loss) == 0.0
  np.testing.assert_array_equal(g, [0.0, 0.0])
  # Wrong and saturated: loss 100 each (clamped log), gradient (p - t) / 1e-12 / 2.
  loss, g = jax.value_and_grad(jn.binary_cross_entropy)(jnp.array([0.0, 1.0]), t)
  np.testing.assert_allclose(loss, 100.0)
  np.testing.assert_allclose(g, [-0.5e12, 0.5e12], rtol=1e-6)
  p = np.array([0.2, 0.7, 0.999], np.float32)
  tt = np.array([1.0, 0.0, 1.0], np.float32)
  ref = (p.astype(np.float64) - tt) / (p * (1.0 - p.astype(np.float64))) / 3
  g = jax.jit(jax.grad(jn.binary_cross_entropy))(jnp.asarray(p), jnp.asarray(tt))
  np.testing.assert_allclose(g, ref, rtol=1e-4)
  check_grads(lambda q: jn.binary_cross_entropy(q, jnp.asarray(tt)),
                            (jnp.array([0.3, 0.6, 0.4]),), order=1, modes=("rev",), atol=1e-2,
                            rtol=1e-2)
  with pytest.raises(ValueError, match="inputs must be probabilities"):
    jn.binary_cross_entropy(np.array([1.5, 0.5], np.float32), np.array([1.0, 0.0], np.float32))
  with pytest.raises(ValueError, match="inputs"):
    jn.binary_cross_entropy(np.array([np.nan], np.float32), np.array([1.0], np.float32))


def test_fit_bad_arguments_give_clear_errors(sum_task):
  x, y = sum_task
  net = jn.DeepNet(2, [3], 1, rngs=nnx.Rngs(0))
  with pytest.raises(ValueError, match=r"same number of examples.*256.*255"):
    jn.fit(net, (x, y[:-1]), loss="mse", epochs=1, progress=False)
  with pytest.raises(ValueError, match=r"val: x and y"):
    jn.fit(net, (x, y), (x, y[:3]), loss="mse", epochs=1, progress=False)
  with pytest.raises(TypeError, match=r"optax GradientTransformation.*nnx.Optimizer"):
    jn.fit(net, (x, y), loss="mse", epochs=1, progress=False,
           optimizer=nnx.Optimizer(net, optax.sgd(0.1), wrt=nnx.Param))
  with pytest.raises(ValueError, match="learning_rate"):
    jn.fit(net, (x, y), loss="mse", epochs=1, learning_rate=-0.1, progress=False)
  with pytest.raises(TypeError, match="learning_rate"):
    jn.make_optimizer("sgd", "0.1")
  with pytest.raises(ValueError, match="learning_rate"):
    jn.make_optimizer("adam", float("nan"))
  with pytest.raises(TypeError, match="model must be an nnx.Module"):
    jn.count_params(42)


def test_fit_checks_class_labels_on_the_host():
  x, y = _blobs(n=48)
  net = jn.DeepNet(6, [4], 3, activation="relu", output_activation=None, rngs=nnx.Rngs(0))
  for bad in (3, -1):
    labels = y.copy()
    labels[5] = bad
    with pytest.raises(ValueError, match=rf"labels must be class indices in \[0, 3\).*got {bad}"):
      jn.fit(net, (x, labels), loss="cross_entropy", epochs=1, progress=False)
    with pytest.raises(ValueError, match="labels"):
      jn.evaluate(net, (x, labels), loss="cross_entropy")


def test_nan_loss_stops_fit_before_a_checkpoint(tmp_path):
  x, y = _blobs(n=64)
  net = jn.DeepNet(6, [8], 3, activation="relu", output_activation=None, rngs=nnx.Rngs(0))
  ckpt = tmp_path / "ckpt"
  jn.fit(net, (x, y), loss="cross_entropy", optimizer="sgd", learning_rate=0.01, epochs=1,
         checkpoint_dir=ckpt, progress=False)
  good = _params(net)
  x_bad = x.copy()
  x_bad[3, 0] = np.nan
  with pytest.raises(jn.NonFiniteLossError, match=r"loss is nan at epoch 2.*no checkpoint"):
    jn.fit(net, (x_bad, y), loss="cross_entropy", optimizer="sgd", learning_rate=0.01, epochs=3,
           checkpoint_dir=ckpt, progress=False)
  assert jn.latest_step(ckpt) == 1
  for a, b in zip(good, _params(net)):  # the model keeps the last finite epoch
    np.testing.assert_array_equal(a, b)
  assert issubclass(jn.NonFiniteLossError, ValueError)  # the CLI prints ValueErrors in one line


def test_train_loss_scalar_with_fewer_batches_than_log_every(tmp_path):
  x, y = _blobs(n=64)
  net = jn.DeepNet(6, [4], 3, activation="relu", output_activation=None, rngs=nnx.Rngs(0))
  log_dir = str(tmp_path / "tb")
  jn.fit(net, (x, y), loss="cross_entropy", epochs=2, batch_size=32, log_dir=log_dir,
         progress=False)  # 2 batches per epoch, log_every=10
  from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
  steps = []
  for path in glob.glob(os.path.join(log_dir, "events.out.tfevents.*")):
    acc = EventAccumulator(path, size_guidance={"scalars": 0})
    acc.Reload()
    if "train/loss" in acc.Tags()["scalars"]:
      steps += [e.step for e in acc.Scalars("train/loss")]
  assert sorted(steps) == [2, 4]


@pytest.fixture(scope="module")
def saved_with_optimizer(tmp_path_factory):
  d = tmp_path_factory.mktemp("ckpt_opt")
  net = _dropout_net()
  opt = nnx.Optimizer(net, optax.adam(1e-3), wrt=nnx.Param)
  x, y = _blobs(n=32)
  jn.train_step(net, opt, x, y, loss="cross_entropy")
  jn.save_checkpoint(d, net, opt, step=1, metadata={"epoch": 1})
  jn.train_step(net, opt, x, y, loss="cross_entropy")
  jn.save_checkpoint(d, net, opt, step=2, metadata={"epoch": 2})
  return d, _params(net)


def test_restore_model_alone_and_with_optimizer(saved_with_optimizer):
  d, params = saved_with_optimizer
  alone = _dropout_net(seed=9)
  assert jn.restore_checkpoint(d, alone) == {"epoch": 2, "step": 2}
  for a, b in zip(params, _params(alone)):
    np.testing.assert_array_equal(a, b)
  both = _dropout_net(seed=9)
  opt = nnx.Optimizer(both, optax.adam(1e-3), wrt=nnx.Param)
  jn.restore_checkpoint(d, both, opt)
  assert int(opt.step[...]) == 2
  for a, b in zip(params, _params(both)):
    np.testing.assert_array_equal(a, b)


def test_restore_mismatch_is_one_line_naming_directory_and_difference(saved_with_optimizer):
  d, _ = saved_with_optimizer
  other = jn.DeepNet(6, [17], 3, activation="relu", output_activation=None, dropout=0.3,
                     rngs=nnx.Rngs(0))
  before = _params(other)
  with pytest.raises(jn.CheckpointError) as info:
    jn.restore_checkpoint(d, other)
  msg = str(info.value)
  assert "\n" not in msg and len(msg) < 400 and str(d) in msg and "step 2" in msg
  assert "(16,)" in msg and "(17,)" in msg and info.value.kind == "mismatch"
  for a, b in zip(before, _params(other)):  # nothing half-restored
    np.testing.assert_array_equal(a, b)
  net = _dropout_net()
  with pytest.raises(jn.CheckpointError, match="optimizer does not match"):
    jn.restore_checkpoint(d, net, nnx.Optimizer(net, optax.sgd(0.1, momentum=0.9), wrt=nnx.Param))
  with pytest.raises(ValueError, match=r"does not match"):  # fit: the same one line
    jn.fit(other, _blobs(n=32), loss="cross_entropy", epochs=3, checkpoint_dir=d, progress=False)


def _copy_ckpt(src, dst):
  import shutil
  shutil.copytree(src, dst)
  return dst


def test_corrupt_latest_checkpoint_error_and_fit_falls_back(saved_with_optimizer, tmp_path):
  src, _ = saved_with_optimizer
  # Broken metadata JSON in step 2: a one-line error naming directory and step.
  d = _copy_ckpt(src, tmp_path / "json")
  (d / "2" / "metadata" / "metadata").write_text('{"format": 2, "us')
  with pytest.raises(jn.CheckpointError) as info:
    jn.restore_checkpoint(d, _dropout_net())
  msg = str(info.value)
  assert "\n" not in msg and str(d) in msg and "step 2" in msg and info.value.kind == "corrupt"
  # fit resumes from step 1 (with a warning naming step 2) and trains on to epoch 3.
  net = _dropout_net()
  with pytest.warns(UserWarning, match="step 2"):
    h = jn.fit(net, _blobs(n=32), loss="cross_entropy", optimizer="adam", learning_rate=1e-3,
               epochs=3, checkpoint_dir=d, progress=False)
  assert h["epoch"] == [2, 3] and jn.latest_step(d) == 3  # resumed after epoch 1
  jn.restore_checkpoint(d, _dropout_net(), step=2)  # the corrupt step was rewritten


def test_checkpoint_checksum_detects_changed_array_data(saved_with_optimizer, tmp_path):
  src, _ = saved_with_optimizer
  d = _copy_ckpt(src, tmp_path / "flip")
  import shutil
  # Step 2's model arrays replaced by step 1's (valid orbax data, different values).
  shutil.rmtree(d / "2" / "model")
  shutil.copytree(d / "1" / "model", d / "2" / "model")
  with pytest.raises(jn.CheckpointError, match=r"step 2: the model arrays fail their checksum"):
    jn.restore_checkpoint(d, _dropout_net())
  # Flipped bytes in the stored data: detected (by the storage layer or the checksum).
  d2 = _copy_ckpt(src, tmp_path / "bytes")
  for f in glob.glob(str(d2 / "2" / "model" / "**" / "d" / "*"), recursive=True):
    data = bytearray(open(f, "rb").read())
    data[len(data) // 2] ^= 0xFF
    open(f, "wb").write(bytes(data))
  with pytest.raises(jn.CheckpointError, match="step 2"):
    jn.restore_checkpoint(d2, _dropout_net())
