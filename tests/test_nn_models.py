"""Tests for jaxdsp.nn.models: the course's formulas, shapes, parameter counts, frontend plumbing."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from compile_count import count_compiles

from jaxdsp import nn as jn


def _sigmoid(x):
  return 1.0 / (1.0 + np.exp(-x))


def _jit_apply(model, x):
  """``model(x)`` compiled as one program (eager op-by-op dispatch is slow for a CNN)."""
  graphdef, state = nnx.split(model)
  return jax.jit(lambda s, x: nnx.merge(graphdef, s)(x))(state, jnp.asarray(x))


def _out_shape(model, shape):
  graphdef, state = nnx.split(model)
  return jax.eval_shape(lambda s, x: nnx.merge(graphdef, s)(x), state,
                        jax.ShapeDtypeStruct(shape, jnp.float32)).shape


@pytest.fixture(scope="module")
def rng():
  return np.random.default_rng(12345)


# ---------------------------------------------------------------------------------------------
# Dense models: the course's NumPy formulas (float64 references, float32 model: tol 1e-6).


def test_perceptron_course_example():
  # The course's neuron: inputs [.5, .3, .2], weights [.4, .7, .2] -> sigmoid(0.45).
  p = jn.Perceptron.from_weights(np.array([0.4, 0.7, 0.2]))
  out = p(np.array([0.5, 0.3, 0.2], np.float32))
  assert out.shape == ()
  np.testing.assert_allclose(float(out), _sigmoid(0.45), rtol=1e-6)


def test_perceptron_formula_batch(rng):
  w, b = rng.standard_normal(5), 0.3
  x = rng.standard_normal((7, 5)).astype(np.float32)
  p = jn.Perceptron.from_weights(w, b)
  np.testing.assert_allclose(np.asarray(p(x)), _sigmoid(x.astype(np.float64) @ w + b), atol=1e-6)
  assert jn.count_params(p) == 6


def test_shallow_net_formula(rng):
  w1, b1 = rng.standard_normal((4, 6)), rng.standard_normal(6)
  w2, b2 = rng.standard_normal((6, 3)), rng.standard_normal(3)
  x = rng.standard_normal((5, 4)).astype(np.float32)
  net = jn.ShallowNet.from_weights([w1, w2], [b1, b2])
  ref = _sigmoid(_sigmoid(x @ w1 + b1) @ w2 + b2)
  np.testing.assert_allclose(np.asarray(net(x)), ref, atol=1e-6)
  assert jn.count_params(net) == 4 * 6 + 6 + 6 * 3 + 3


def test_deep_net_course_mlp_forward_propagation(rng):
  # The course's MLP(3, [3, 5], 2): no biases, sigmoid after every layer.
  weights = [rng.random((3, 3)), rng.random((3, 5)), rng.random((5, 2))]
  x = rng.random((4, 3)).astype(np.float32)
  activations = x.astype(np.float64)
  for w in weights:
    activations = _sigmoid(np.dot(activations, w))
  net = jn.DeepNet.from_weights(weights)
  np.testing.assert_allclose(np.asarray(net(x)), activations, atol=1e-6)
  assert jn.count_params(net) == (9 + 3) + (15 + 5) + (10 + 2)


def test_deep_net_activations_and_raw_output(rng):
  weights = [rng.standard_normal((2, 4)), rng.standard_normal((4, 1))]
  x = rng.standard_normal((3, 2)).astype(np.float32)
  net = jn.DeepNet.from_weights(weights, activation="tanh", output_activation=None)
  np.testing.assert_allclose(np.asarray(net(x)), np.tanh(x @ weights[0]) @ weights[1], atol=1e-6)
  relu = jn.DeepNet.from_weights(weights, activation="relu", output_activation="sigmoid")
  ref = _sigmoid(np.maximum(x @ weights[0], 0) @ weights[1])
  np.testing.assert_allclose(np.asarray(relu(x)), ref, atol=1e-6)


def test_dense_shapes_and_jit():
  net = jn.DeepNet(3, [5, 4], 2, rngs=nnx.Rngs(0))
  x = jnp.ones((2, 6, 3))
  assert net(x).shape == (2, 6, 2)
  graphdef, state = nnx.split(net)
  jitted = jax.jit(lambda s, x: nnx.merge(graphdef, s)(x))
  np.testing.assert_allclose(jitted(state, x), net(x), atol=1e-6)
  assert jn.ShallowNet(2, 5, 1, rngs=nnx.Rngs(0))(jnp.ones((4, 2))).shape == (4, 1)
  assert jn.Perceptron(3, rngs=nnx.Rngs(0))(jnp.ones((4, 3))).shape == (4,)


def test_dropout_is_off_in_eval_view():
  net = jn.DeepNet(3, [5, 4], 2, dropout=0.5, rngs=nnx.Rngs(0))
  x = jnp.ones((4, 3))
  assert not np.allclose(net(x), net(x))  # training mode: a fresh mask each call
  ev = nnx.view(net, deterministic=True)
  np.testing.assert_array_equal(ev(x), ev(x))


def test_eager_call_is_one_compiled_program(rng):
  """Without dropout an eager call runs the layers as one program (op by op, the course CNN's first
  call took 1.3-1.5 s), with the values of the call under the caller's jit; with dropout each call
  still draws a fresh mask."""
  x = jnp.asarray(rng.standard_normal((3, 16, 13)).astype(np.float32))  # a shape no other test uses
  for model, arg in [(jn.CNN((16, 13), 4, channels=(4, 8), rngs=nnx.Rngs(0)), x),
                     (jn.DeepNet(13, [7, 5], 3, rngs=nnx.Rngs(0)), x[0])]:
    with count_compiles() as compiles:
      eager = model(arg)
    assert len(compiles) == 1, (type(model).__name__, len(compiles))
    graphdef, state = nnx.split(model)
    np.testing.assert_allclose(eager, jax.jit(lambda s, a: nnx.merge(graphdef, s)(a))(state, arg), atol=1e-6)
  dropped = jn.CNN((16, 13), 4, channels=(4,), dropout=0.5, rngs=nnx.Rngs(0))
  assert not np.allclose(dropped(x), dropped(x))


def test_same_seed_same_init():
  a = jn.CNN((16, 12), 3, channels=(4,), rngs=nnx.Rngs(7))
  b = jn.CNN((16, 12), 3, channels=(4,), rngs=nnx.Rngs(7))
  chex_leaves = zip(jax.tree.leaves(nnx.state(a, nnx.Param)), jax.tree.leaves(nnx.state(b, nnx.Param)))
  assert all(np.array_equal(u, v) for u, v in chex_leaves)


def test_parameters_equal_flax_default_layers():
  """Every model's parameters equal those of flax's default-initialised layers built from the same
  ``Rngs`` in the same order (the models draw their kernels in size classes, which compiles fewer
  random-number programs but must not change a value)."""
  def params(*modules):
    return [np.asarray(v) for m in modules for v in jax.tree.leaves(nnx.state(m, nnx.Param))]

  def assert_same(model, reference):
    ours, ref = params(model), params(*reference)
    assert [a.shape for a in ours] == [b.shape for b in ref]
    for a, b in zip(ours, ref):
      np.testing.assert_array_equal(a, b)

  # 3 → 5 and 5 → 300: 15 and 1,500 values of one 2**16 draw; 300 → 300: 90,000 of a 2**17 draw;
  # 300 → 1: a column
  rngs = nnx.Rngs(3)
  assert_same(jn.DeepNet(3, [5, 300, 300], 1, rngs=nnx.Rngs(3)),
              [nnx.Linear(a, b, rngs=rngs) for a, b in ((3, 5), (5, 300), (300, 300), (300, 1))])
  assert_same(jn.Perceptron(7, rngs=nnx.Rngs(4)), [nnx.Linear(7, 1, rngs=nnx.Rngs(4))])
  cnn = jn.CNN((16, 12), 3, channels=(4, 6), rngs=nnx.Rngs(5))
  rngs = nnx.Rngs(5)
  assert_same(cnn, [nnx.Conv(1, 4, (3, 3), padding=2, rngs=rngs), nnx.Conv(4, 6, (3, 3), padding=2, rngs=rngs),
                    nnx.Linear(cnn.flat_features, 3, rngs=rngs)])


@pytest.mark.parametrize("call,match", [
    (lambda: jn.DeepNet(3, 4, 2, rngs=nnx.Rngs(0)), "hidden"),
    (lambda: jn.DeepNet(0, [4], 2, rngs=nnx.Rngs(0)), "in_features"),
    (lambda: jn.DeepNet(3, [4], 2, activation="swishy", rngs=nnx.Rngs(0)), "activation"),
    (lambda: jn.DeepNet(3, [4], 2, dropout=1.0, rngs=nnx.Rngs(0)), "dropout"),
    (lambda: jn.Perceptron.from_weights(np.ones((2, 2))), "weights"),
    (lambda: jn.DeepNet.from_weights([np.ones((2, 3)), np.ones((4, 1))]), "weights"),
    (lambda: jn.DeepNet.from_weights([np.ones((2, 3))], [np.ones(4)]), "biases"),
    (lambda: jn.DeepNet(3, [4], 2, rngs=nnx.Rngs(0))(jnp.ones((2, 5))), "x must"),
])
def test_dense_bad_input(call, match):
  with pytest.raises((ValueError, TypeError), match=match):
    call()


# ---------------------------------------------------------------------------------------------
# CNN.


def _np_conv(x, k, b, pad):
  """Cross-correlation, NCHW input (n, c_in, h, w), kernel (kh, kw, c_in, c_out), float64."""
  x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
  kh, kw, _, cout = k.shape
  ho, wo = x.shape[2] - kh + 1, x.shape[3] - kw + 1
  out = np.zeros((x.shape[0], cout, ho, wo))
  for i in range(kh):
    for j in range(kw):
      out += np.einsum("nchw,co->nohw", x[:, :, i:i + ho, j:j + wo], k[i, j])
  return out + b[None, :, None, None]


def _np_pool(x, size, kind):
  n, c, h, w = x.shape
  x = x[:, :, :h // size * size, :w // size * size].reshape(n, c, h // size, size, w // size, size)
  return x.max(axis=(3, 5)) if kind == "max" else x.mean(axis=(3, 5))


def _np_cnn(x, kernels, biases, dense_w, dense_b, *, pad, act, pool):
  a = x[:, None].astype(np.float64)
  for k, b in zip(kernels, biases):
    a = _np_pool(act(_np_conv(a, k, b, pad)), 2, pool)
  return a.reshape(a.shape[0], -1) @ dense_w + dense_b


def _random_cnn_weights(rng, input_shape, channels, n_classes, pad=2, k=3):
  kernels, biases, c_in = [], [], 1
  h, w = input_shape
  for c in channels:
    kernels.append(rng.standard_normal((k, k, c_in, c)) / np.sqrt(k * k * c_in))
    biases.append(0.1 * rng.standard_normal(c))
    h, w = (h + 2 * pad - k + 1) // 2, (w + 2 * pad - k + 1) // 2
    c_in = c
  dense_w = rng.standard_normal((c_in * h * w, n_classes)) / np.sqrt(c_in * h * w)
  return kernels, biases, dense_w, 0.1 * rng.standard_normal(n_classes)


@pytest.mark.parametrize("pooling,activation,act", [
    ("max", "relu", lambda z: np.maximum(z, 0)),
    ("avg", "tanh", np.tanh),
    ("max", "sigmoid", _sigmoid),
])
def test_cnn_matches_numpy_formula(rng, pooling, activation, act):
  shape = (13, 11)  # odd sizes: pooling floors
  kernels, biases, dw, db = _random_cnn_weights(rng, shape, (3, 4), 5)
  x = rng.standard_normal((2, *shape)).astype(np.float32)
  ref = _np_cnn(x, kernels, biases, dw, db, pad=2, act=act, pool=pooling)
  for conv in ("fast_vjp", "lax"):
    model = jn.CNN.from_weights(shape, kernels, biases, dw, db, pooling=pooling,
                                activation=activation, conv=conv)
    np.testing.assert_allclose(np.asarray(_jit_apply(model, x)), ref, atol=2e-5, rtol=1e-5)


def test_fast_vjp_conv_and_max_pool_gradients_equal_autodiff(rng):
  # The CPU fast path's custom gradients (conv and max-pool) against plain lax autodiff.
  shape = (13, 11)
  kernels, biases, dw, db = _random_cnn_weights(rng, shape, (2, 3), 4)  # 1 -> 2 -> 3 channels
  x = jnp.asarray(rng.standard_normal((2, *shape)).astype(np.float32))
  grads = []
  for conv in ("fast_vjp", "lax"):
    model = jn.CNN.from_weights(shape, kernels, biases, dw, db, conv=conv)
    graphdef, params = nnx.split(model)
    f = lambda p: jnp.sum(jnp.sin(nnx.merge(graphdef, p)(x)))
    grads.append(jax.tree.leaves(jax.jit(jax.grad(f))(params)))
  for a, b in zip(*grads):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_cnn_course_shapes_and_parameter_count():
  # The course's CNN on 64 x 44 log-mels: Linear(128 * 5 * 4, 10), 122,762 parameters.
  model = nnx.eval_shape(lambda: jn.CNN((64, 44), 10, rngs=nnx.Rngs(0)))  # no init compute
  assert model.output_map_shape == (128, 5, 4)
  assert model.flat_features == 2560
  assert jn.count_params(model) == 160 + 4640 + 18496 + 73856 + 25610 == 122762
  assert _out_shape(model, (3, 64, 44)) == (3, 10)
  assert _out_shape(model, (3, 1, 64, 44)) == (3, 10)  # (batch, 1, n_mels, n_frames) accepted
  big = nnx.eval_shape(lambda: jn.CNN((64, 173), 10, rngs=nnx.Rngs(0)))
  assert big.output_map_shape == (128, 5, 12)
  assert _out_shape(big, (2, 64, 173)) == (2, 10)


def test_cnn_matches_torch_course_model(rng):
  torch = pytest.importorskip("torch")
  shape = (20, 24)
  kernels, biases, dw, db = _random_cnn_weights(rng, shape, (16, 32, 64, 128), 10)
  blocks = []
  for c_in, k, b in zip([1, 16, 32, 64], kernels, biases):
    conv = torch.nn.Conv2d(c_in, k.shape[3], kernel_size=3, stride=1, padding=2)
    conv.weight.data = torch.tensor(k.transpose(3, 2, 0, 1), dtype=torch.float32)
    conv.bias.data = torch.tensor(b, dtype=torch.float32)
    blocks += [conv, torch.nn.ReLU(), torch.nn.MaxPool2d(kernel_size=2)]
  linear = torch.nn.Linear(dw.shape[0], 10)
  linear.weight.data = torch.tensor(dw.T, dtype=torch.float32)
  linear.bias.data = torch.tensor(db, dtype=torch.float32)
  net = torch.nn.Sequential(*blocks, torch.nn.Flatten(), linear)
  x = rng.standard_normal((2, *shape)).astype(np.float32)
  with torch.no_grad():
    ref = net(torch.from_numpy(x)[:, None]).numpy()
  model = jn.CNN.from_weights(shape, kernels, biases, dw, db)
  np.testing.assert_allclose(np.asarray(_jit_apply(model, x)), ref, atol=1e-4, rtol=1e-4)


def test_cnn_jit_batch_invariance_and_grad(rng):
  model = jn.CNN((16, 12), 4, channels=(4,), rngs=nnx.Rngs(0))
  x = jnp.asarray(rng.standard_normal((3, 16, 12)).astype(np.float32))
  graphdef, state = nnx.split(model)
  f = jax.jit(lambda s, x: nnx.merge(graphdef, s)(x))
  full = f(state, x)
  np.testing.assert_allclose(full, model(x), atol=1e-5)  # jit == eager
  np.testing.assert_allclose(f(state, x[1:2])[0], full[1], atol=1e-5)
  grads = jax.jit(jax.grad(lambda s: jnp.sum(nnx.merge(graphdef, s)(x) ** 2)))(state)
  assert all(np.all(np.isfinite(g)) for g in jax.tree.leaves(grads))


def test_cnn_standardize_is_per_example(rng):
  model = jn.CNN((16, 12), 4, channels=(4,), standardize=True, rngs=nnx.Rngs(0))
  x = jnp.asarray(rng.standard_normal((2, 16, 12)).astype(np.float32))
  out = _jit_apply(model, jnp.concatenate([x, 10 * x - 40]))
  np.testing.assert_allclose(out[2:], out[:2], atol=1e-4)


class _FrameFrontend(nnx.Module):
  """Toy learnable frontend: frames (hop 16, length 32) times a learned (32, 8) matrix."""

  def __init__(self, *, rngs):
    self.filters = nnx.Param(jax.random.normal(rngs.params(), (32, 8)) * 0.1)

  def __call__(self, y):
    n = (y.shape[-1] - 32) // 16 + 1
    idx = 16 * np.arange(n)[:, None] + np.arange(32)
    frames = y[:, idx]  # (batch, n_frames, 32)
    return jnp.log1p(jnp.abs(frames @ self.filters[...])).transpose(0, 2, 1)


def test_cnn_with_frontend_shapes_and_gradients(rng):
  model = jn.CNN((400,), 3, channels=(4, 8), frontend=_FrameFrontend(rngs=nnx.Rngs(1)),
                 rngs=nnx.Rngs(0))
  assert model.feature_shape == (8, 24)
  y = jnp.asarray(rng.standard_normal((2, 400)).astype(np.float32))
  assert _out_shape(model, (2, 400)) == (2, 3)
  graphdef, params, rest = nnx.split(model, nnx.Param, ...)
  grads = jax.jit(jax.grad(lambda p: jnp.sum(nnx.merge(graphdef, p, rest)(y))))(params)
  g = grads["frontend"]["filters"][...]
  assert g.shape == (32, 8) and np.all(np.isfinite(g)) and np.any(g != 0)


@pytest.mark.parametrize("call,match", [
    (lambda: jn.CNN((64,), 10, rngs=nnx.Rngs(0)), "input_shape"),
    (lambda: jn.CNN((64, 44), 10, pooling="median", rngs=nnx.Rngs(0)), "pooling"),
    (lambda: jn.CNN((64, 44), 10, activation="swish2", rngs=nnx.Rngs(0)), "activation"),
    (lambda: jn.CNN((64, 44), 10, conv="fft", rngs=nnx.Rngs(0)), "conv"),
    (lambda: jn.CNN((4, 4), 10, padding=0, rngs=nnx.Rngs(0)), "too small"),
    (lambda: jn.CNN((64, 44), 0, rngs=nnx.Rngs(0)), "n_classes"),
    # built abstractly (nnx.eval_shape: no random initialisation to compile); the input check comes first
    (lambda: nnx.eval_shape(lambda: jn.CNN((16, 12), 10, channels=(4,), rngs=nnx.Rngs(0)))(
        jnp.zeros((2, 12, 16))), "x must"),
    (lambda: jn.CNN.from_weights((8, 8), [np.ones((3, 2, 1, 4))], [np.ones(4)],
                                 np.ones((80, 2)), np.ones(2)), "conv_kernels"),
])
def test_cnn_bad_input(call, match):
  with pytest.raises((ValueError, TypeError), match=match):
    call()
