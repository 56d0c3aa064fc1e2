"""Tests for jaxdsp.nn.augment: mask statistics (torchaudio's draw), mixup's label mixing through the
loss, gain / shift / noise in closed form, determinism from a key or seed, jit == eager, and that
``fit(augment=...)`` never augments at evaluation."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from jaxdsp import nn as jn
from jaxdsp.nn import augment as A

KEY = jax.random.key(0)


def _intervals(mask_row):
  """Runs of True in a 1-D boolean array as (start, stop) pairs."""
  m = np.concatenate([[False], np.asarray(mask_row), [False]]).astype(int)
  d = np.diff(m)
  return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


def test_spec_augment_mask_statistics():
  rows, n_f, n_t, F, T = 4000, 40, 50, 10, 20
  x = jnp.ones((rows, n_f, n_t))
  y = np.asarray(A.spec_augment(KEY, x, freq_mask=F, time_mask=0, n_freq_masks=1,
                                n_time_masks=0, mask_value=0.0))
  masked = y[:, :, 0] == 0  # frequency masks span every frame
  assert np.all((y == 0) == masked[:, :, None])
  widths, centers = [], []
  for r in masked:
    runs = _intervals(r)
    assert len(runs) <= 1  # one contiguous mask
    for a, b in runs:
      widths.append(b - a)
      centers.append((a + b) / 2)
  w = np.asarray(widths + [0] * (rows - len(widths)))
  assert w.max() <= F - 1 or w.max() == F  # widths below F (floor of a draw in [0, F))
  assert abs(w.mean() - F / 2) < 0.25  # E[width] = F / 2 (torchaudio's uniform draw)
  assert abs(np.mean(centers) - n_f / 2) < 1.0  # placed uniformly
  yt = np.asarray(A.spec_augment(jax.random.key(1), x, freq_mask=0, time_mask=T, n_freq_masks=0,
                                 n_time_masks=2, mask_value=0.0))
  tmask = yt[:, 0, :] == 0
  assert np.all((yt == 0) == tmask[:, None, :])
  assert np.all([len(_intervals(r)) <= 2 for r in tmask])
  # Two independent masks: expected union ~ 2 * T/2 minus overlaps; at least one mask's mean.
  assert T / 2 < tmask.sum(1).mean() < T


def test_spec_augment_mean_value_warp_jit_and_grad():
  r = np.random.default_rng(0)
  x = jnp.asarray(r.standard_normal((3, 2, 16, 30)).astype(np.float32) * 10 - 40)
  y = A.spec_augment(KEY, x, freq_mask=6, time_mask=8)
  means = x.mean(axis=(-2, -1), keepdims=True)
  changed = np.asarray(y != x)
  np.testing.assert_allclose(np.asarray(y)[changed],
                             np.broadcast_to(np.asarray(means), x.shape)[changed], rtol=1e-6)
  np.testing.assert_array_equal(jax.jit(lambda k, v: A.spec_augment(k, v, freq_mask=6,
                                                                     time_mask=8))(KEY, x), y)
  np.testing.assert_array_equal(A.spec_augment(KEY, x, freq_mask=6, time_mask=8), y)  # same key
  assert not np.array_equal(A.spec_augment(jax.random.key(5), x, freq_mask=6, time_mask=8), y)
  # Gradient: 1 where kept, 0 where masked (with a constant mask value).
  g = jax.grad(lambda v: A.spec_augment(KEY, v, freq_mask=6, time_mask=8, mask_value=0.0).sum())(x)
  kept = np.asarray(A.spec_augment(KEY, x, freq_mask=6, time_mask=8, mask_value=0.0) == x)
  np.testing.assert_array_equal(np.asarray(g), kept.astype(np.float32))
  # Time warp: a ramp stays monotone with its ends fixed; W = 0 changes nothing.
  ramp = jnp.broadcast_to(jnp.arange(30.0), (5, 4, 30))
  w = np.asarray(A.spec_augment(KEY, ramp, freq_mask=0, time_mask=0, time_warp=5))
  assert np.all(np.diff(w, axis=-1) > 0)
  np.testing.assert_allclose(w[..., 0], 0, atol=1e-5)
  np.testing.assert_allclose(w[..., -1], 29, atol=1e-4)
  assert not np.allclose(w, np.asarray(ramp))
  np.testing.assert_array_equal(A.spec_augment(KEY, ramp, freq_mask=0, time_mask=0), ramp)


def test_mixup_mixes_labels_and_the_loss():
  n = 6
  x = jnp.eye(n)  # each input is its one-hot label, so x' must equal y'
  xm, ym = A.mixup(KEY, x, jnp.arange(n), n_classes=n, alpha=0.4)
  np.testing.assert_allclose(xm, ym, atol=1e-6)
  np.testing.assert_allclose(ym.sum(-1), 1, atol=1e-6)
  ym = np.asarray(ym)
  # y' = λ I + (1 - λ) P for a permutation matrix P: the diagonal is λ (1 where P fixes a row).
  diag = np.diag(ym)
  moved = ~np.isclose(diag, 1.0)
  assert moved.any()
  l = diag[moved][0]
  np.testing.assert_allclose(diag[moved], l, atol=1e-6)
  P = (ym - l * np.eye(n)) / (1 - l)
  np.testing.assert_allclose(P, np.round(P), atol=1e-5)
  np.testing.assert_array_equal(np.round(P).sum(0), 1)
  np.testing.assert_array_equal(np.round(P).sum(1), 1)
  partner = np.argmax(np.round(P), axis=1)
  # Through the loss: CE(z, y') = λ CE(z, y) + (1 - λ) CE(z, y[π]) (closed form).
  z = jnp.asarray(np.random.default_rng(1).standard_normal((n, n)).astype(np.float32))
  logp = np.asarray(jax.nn.log_softmax(z))
  ref = -(l * logp[np.arange(n), np.arange(n)] + (1 - l) * logp[np.arange(n), partner]).mean()
  np.testing.assert_allclose(jn.cross_entropy(z, jnp.asarray(ym)), ref, rtol=1e-5)
  # λ ~ Beta(α, α) in [0, 1], a new draw per key.
  other = np.asarray(A.mixup(jax.random.key(7), x, jnp.arange(n), n_classes=n, alpha=0.4)[1])
  assert 0 <= l <= 1 and not np.allclose(other, ym)
  probs = jnp.full((4, 3), 1 / 3)
  _, yp = A.mixup(KEY, jnp.ones((4, 2)), probs)  # floating targets mixed as they are
  np.testing.assert_allclose(yp, probs, atol=1e-6)


def test_gain_shift_and_noise_closed_forms():
  x = jnp.asarray(np.random.default_rng(2).standard_normal((64, 100)).astype(np.float32))
  g = np.asarray(A.random_gain(KEY, x, min_db=-6.0, max_db=6.0)) / np.asarray(x)
  ratio_db = 20 * np.log10(g[:, 0])
  np.testing.assert_allclose(g, g[:, :1] * np.ones_like(g), rtol=1e-5)  # one gain per example
  assert ratio_db.min() >= -6 - 1e-4 and ratio_db.max() <= 6 + 1e-4 and ratio_db.std() > 2
  db = A.random_gain(KEY, x, min_db=3.0, max_db=3.0, db_input=True)
  np.testing.assert_allclose(db, x + 3.0, atol=1e-5)
  ramp = jnp.broadcast_to(jnp.arange(10.0), (32, 10))
  rolled = np.asarray(A.time_shift(KEY, ramp, max_shift=3))
  shifts = (-rolled[:, 0]) % 10
  for row, s in zip(rolled, shifts):
    np.testing.assert_array_equal(row, np.roll(np.arange(10.0), int(s)))
  assert set(((shifts + 3) % 10 - 3).astype(int).tolist()) <= set(range(-3, 4))
  zeros = np.asarray(A.time_shift(KEY, ramp + 1, max_shift=3, mode="zeros"))
  for row, s in zip(zeros, ((shifts + 3) % 10 - 3).astype(int)):
    assert np.count_nonzero(row == 0) == abs(s)
  noisy = np.asarray(A.add_noise(KEY, x, snr_db=(10.0, 20.0)))
  snr = 10 * np.log10(np.mean(np.asarray(x) ** 2, 1) / np.mean((noisy - np.asarray(x)) ** 2, 1))
  assert snr.min() >= 10 - 1e-3 and snr.max() <= 20 + 1e-3 and snr.std() > 1
  silent = A.add_noise(KEY, jnp.zeros((2, 50)), snr_db=10.0)
  np.testing.assert_array_equal(silent, 0)
  # jit == eager for the keyed functions.
  f = jax.jit(lambda k, v: A.chain(A.RandomGain(), A.TimeShift(max_shift=5), A.AddNoise())(
      k, v, None)[0])
  np.testing.assert_allclose(f(KEY, x), A.chain(A.RandomGain(), A.TimeShift(max_shift=5),
                                                A.AddNoise())(KEY, x, None)[0], rtol=1e-5,
                             atol=1e-6)


@pytest.mark.parametrize("call,match", [
    (lambda: A.spec_augment(KEY, jnp.ones((2, 8, 10)), freq_mask=9), "freq_mask"),
    (lambda: A.spec_augment(KEY, jnp.ones((2, 8, 10)), time_mask=-1), "time_mask"),
    (lambda: A.spec_augment(KEY, jnp.ones((8, 10))), "x"),
    (lambda: A.spec_augment(KEY, jnp.ones((2, 8, 10)), time_mask=2, time_warp=5), "time_warp"),
    (lambda: A.spec_augment(KEY, jnp.ones((2, 8, 10)), time_mask=2, mask_value="zero"),
     "mask_value"),
    (lambda: A.spec_augment(0, jnp.ones((2, 8, 10))), "key"),
    (lambda: A.mixup(KEY, jnp.ones((3, 2)), jnp.arange(3)), "n_classes"),
    (lambda: A.mixup(KEY, jnp.ones((3, 2)), jnp.arange(4), n_classes=4), "y"),
    (lambda: A.mixup(KEY, jnp.ones((3, 2)), jnp.arange(3), n_classes=3, alpha=0), "alpha"),
    (lambda: A.random_gain(KEY, jnp.ones((2, 3)), min_db=3.0, max_db=1.0), "min_db"),
    (lambda: A.time_shift(KEY, jnp.ones((2, 3)), max_shift=3), "max_shift"),
    (lambda: A.time_shift(KEY, jnp.ones((2, 3)), max_shift=1, mode="wrap"), "mode"),
    (lambda: A.add_noise(KEY, jnp.ones((2, 3)), snr_db=(20.0, 10.0)), "snr_db"),
    (lambda: A.add_noise(KEY, jnp.ones((2, 3), jnp.int32)), "x"),
    (lambda: A.chain(A.SpecAugment(), 3), "steps"),
    (lambda: jn.fit(jn.DeepNet(2, [2], 1, rngs=nnx.Rngs(0)), (np.ones((4, 2), np.float32),
                    np.ones((4, 1), np.float32)), loss="mse", epochs=1, augment=3), "augment"),
])
def test_augment_bad_input(call, match):
  with pytest.raises((ValueError, TypeError), match=match):
    call()


def _blobs(n=96, d=6, k=3):
  r = np.random.default_rng(0)
  centers = r.standard_normal((k, d)) * 3
  y = r.integers(0, k, n)
  return (centers[y] + r.standard_normal((n, d))).astype(np.float32), y.astype(np.int32)


def _net():
  return jn.DeepNet(6, [8], 3, activation="relu", output_activation=None, rngs=nnx.Rngs(0))


def _params(model):
  return [np.asarray(v) for v in jax.tree.leaves(nnx.state(model, nnx.Param))]


def test_fit_augment_is_reproducible_and_never_applied_at_evaluation():
  x, y = _blobs()
  aug = A.chain(A.RandomGain(min_db=-3.0, max_db=3.0), A.Mixup(n_classes=3, alpha=0.4))
  runs = []
  for seed in (0, 0, 1):
    net = _net()
    h = jn.fit(net, (x, y), (x, y), loss="cross_entropy", optimizer="adam", learning_rate=0.01,
               epochs=2, seed=seed, augment=aug, progress=False)
    runs.append((_params(net), h))
  assert all(np.array_equal(a, b) for a, b in zip(runs[0][0], runs[1][0]))
  assert not all(np.array_equal(a, b) for a, b in zip(runs[0][0], runs[2][0]))
  # Evaluation: the clean loss of the trained model, computed here directly.
  net = _net()
  shift = lambda k, v, t: (v + 1e3, t)  # an augmentation no model could survive at evaluation
  h = jn.fit(net, (x, y), (x, y), loss="cross_entropy", epochs=1, augment=shift, progress=False)
  clean = float(jn.cross_entropy(net(x), y))
  np.testing.assert_allclose(h["val_loss"][-1], clean, rtol=1e-5)
  assert h["loss"][-1] > 10 * clean  # training did see the shifted inputs
  np.testing.assert_allclose(jn.evaluate(net, (x, y), loss="cross_entropy")["loss"], clean,
                             rtol=1e-5)
  # train_step takes the hook too, keyed by the optimizer step.
  net = _net()
  opt = nnx.Optimizer(net, optax.sgd(0.1), wrt=nnx.Param)
  m = jn.train_step(net, opt, x, y, loss="cross_entropy", augment=shift)
  assert float(m["loss"]) > 10 * float(jn.cross_entropy(_net()(x), y))
