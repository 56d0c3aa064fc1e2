"""The course's networks as Flax NNX modules: perceptron, shallow net, deep net and a CNN.

Layout: dense models map ``(..., in_features) -> (..., out_features)`` (``Perceptron`` gives
``(...,)``); ``CNN`` maps log-mel spectrograms ``(batch, n_mels, n_frames)`` (time last, as every
jaxdsp feature; ``(batch, 1, n_mels, n_frames)`` is accepted too) or, with a ``frontend``, raw
audio ``(batch, n_samples)`` to logits ``(batch, n_classes)``.

Every model takes ``*, rngs: nnx.Rngs`` and has a ``from_weights`` classmethod that builds it from
given arrays, after which it computes exactly the course's NumPy formulas (dense kernels are
``(in, out)``, so a layer is ``x @ W + b``; conv kernels are ``(kh, kw, in, out)``).
"""

from __future__ import annotations

import functools
import math
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from jax import lax
from jax.typing import ArrayLike

from jaxdsp import _checks
from jaxdsp.nn.compiled import compiled_method

__all__ = ["CNN", "DeepNet", "Perceptron", "ShallowNet", "count_params"]

_ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "relu": jax.nn.relu,
    "tanh": jnp.tanh,
    "sigmoid": jax.nn.sigmoid,
    "gelu": jax.nn.gelu,
    "elu": jax.nn.elu,
    "leaky_relu": jax.nn.leaky_relu,
}


def _activation(activation: Any, name: str = "activation") -> Callable[[jax.Array], jax.Array]:
  if callable(activation):
    return activation
  return _ACTIVATIONS[_checks.choice(activation, name, tuple(_ACTIVATIONS))]


def _lecun_normal(key: jax.Array, shape: Sequence[int], dtype: Any = jnp.float32) -> jax.Array:
  """Flax's default kernel initializer (``nnx.initializers.lecun_normal()``), bit for bit, compiled
  once per size class rather than once per layer shape.

  ``N(0, 1/fan_in)`` truncated to two standard deviations, ``fan_in = prod(shape[:-1])`` (inputs ×
  receptive field; the last axis is the outputs). Drawing a truncated normal compiles a
  random-number program per output shape, slow to compile on CPU, so building a model of a few
  layers compiled one per layer. This draws the standard truncated normal as a flat vector of
  ``2**16`` values or, for larger kernels, of the next power of two, and keeps the first
  ``prod(shape)`` values: JAX's partitionable threefry (the default) makes the value at each flat
  index independent of the total size, so the kernel equals flax's. (The course's CNN then
  compiles two such programs instead of five; other key types draw the shape itself.)

  Args:
    key: a PRNG key.
    shape: the kernel shape, at least 1-D.
    dtype: a floating dtype.

  Returns:
    ``shape`` array of ``dtype``.

  Examples:
    >>> import jax, numpy as np
    >>> from flax import nnx
    >>> k = jax.random.key(0)
    >>> np.array_equal(_lecun_normal(k, (3, 3, 16, 32)), nnx.initializers.lecun_normal()(k, (3, 3, 16, 32)))
    True

  Compare ``jax.nn.initializers.lecun_normal``.
  """
  shape = tuple(int(s) for s in shape)
  size = math.prod(shape)
  if not (jax.config.jax_threefry_partitionable and str(jax.random.key_impl(key)) == "threefry2x32"):
    # the values would depend on the drawn size: draw the shape itself
    return nnx.initializers.lecun_normal()(key, shape, dtype)
  variance = jnp.array(1.0 / (size // shape[-1]), dtype=dtype)
  stddev = jnp.sqrt(variance) / jnp.array(.87962566103423978, dtype)
  flat = jax.random.truncated_normal(key, -2, 2, (1 << max(16, (size - 1).bit_length()),), dtype)
  return flat[:size].reshape(shape) * stddev


def count_params(model: nnx.Module) -> int:
  """Number of trainable scalars (``nnx.Param`` entries) in ``model``.

  Raises:
    TypeError: ``model`` is not an ``nnx.Module``.

  Examples:
    >>> from flax import nnx
    >>> count_params(ShallowNet(2, 5, 1, rngs=nnx.Rngs(0)))  # (2·5 + 5) + (5·1 + 1)
    21
  """
  if not isinstance(model, nnx.Module):
    raise TypeError(f"model must be an nnx.Module, got {type(model).__name__}")
  leaves = jax.tree.leaves(nnx.state(model, nnx.Param))
  return int(sum(math.prod(x.shape) for x in leaves))  # shapes: works on nnx.eval_shape models


def _set(var: nnx.Variable, value: ArrayLike, name: str) -> None:
  value = jnp.asarray(value, dtype=var[...].dtype)
  if value.shape != var[...].shape:
    raise ValueError(f"{name} must have shape {var[...].shape}, got {value.shape}")
  var[...] = value


# ---------------------------------------------------------------------------------------------
# Dense networks.


class DeepNet(nnx.Module):
  """A multilayer perceptron: ``a_0 = x``, ``a_{l+1} = σ_l(a_l @ W_l + b_l)``.

  The course's ``MLP``: every layer, the output layer included, applies ``activation`` (a sigmoid
  by default, so outputs lie in (0, 1)); pass ``output_activation=None`` for raw outputs (logits,
  unbounded regression).

  Args:
    in_features: input size.
    hidden: sizes of the hidden layers (may be empty).
    out_features: output size.
    activation: hidden-layer nonlinearity: a callable or ``"sigmoid"``, ``"relu"``, ``"tanh"``,
      ``"gelu"``, ``"elu"``, ``"leaky_relu"``.
    output_activation: output nonlinearity; ``"same"`` (default) reuses ``activation``, ``None``
      means identity.
    dropout: dropout rate applied after each hidden activation while training (0 disables).
    rngs: ``nnx.Rngs`` for the initial weights (and the dropout stream).

  Shapes: ``(..., in_features) -> (..., out_features)``.

  Examples:
    >>> import jax.numpy as jnp
    >>> from flax import nnx
    >>> net = DeepNet(3, [5, 4], 2, rngs=nnx.Rngs(0))
    >>> net(jnp.ones((7, 3))).shape
    (7, 2)
  """

  def __init__(self, in_features: int, hidden: Sequence[int], out_features: int, *,
               activation: Any = jax.nn.sigmoid, output_activation: Any = "same",
               dropout: float = 0.0, rngs: nnx.Rngs):
    in_features = _checks.positive_int(in_features, "in_features")
    out_features = _checks.positive_int(out_features, "out_features")
    if isinstance(hidden, (int, np.integer)):
      raise TypeError(f"hidden must be a sequence of layer sizes, got {hidden!r} (use [{hidden}])")
    hidden = [_checks.positive_int(h, "hidden") for h in hidden]
    dropout = _checks.positive_number(dropout, "dropout", allow_zero=True)
    if dropout >= 1:
      raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    sizes = [in_features, *hidden, out_features]
    self.layers = nnx.List([nnx.Linear(a, b, kernel_init=_lecun_normal, rngs=rngs)
                            for a, b in zip(sizes[:-1], sizes[1:])])
    self.activation = _activation(activation)
    if isinstance(output_activation, str) and output_activation == "same":
      self.output_activation = self.activation
    elif output_activation is None:
      self.output_activation = None
    else:
      self.output_activation = _activation(output_activation, "output_activation")
    self.dropout = nnx.Dropout(dropout, rngs=rngs) if dropout > 0 else None

  def __call__(self, x: ArrayLike) -> jax.Array:
    x = jnp.asarray(x)
    n_in = self.layers[0].in_features
    if x.ndim < 1 or x.shape[-1] != n_in:
      raise ValueError(f"x must have shape (..., {n_in}), got {x.shape}")
    # One compiled program, eager calls included; dropout advances the module's RNG state, which
    # a compiled read-only call would drop, so with dropout the layers run as written.
    return self._forward(x) if self.dropout is not None else self._compiled_forward(x)

  def _forward(self, x: jax.Array) -> jax.Array:
    for i, layer in enumerate(self.layers):
      x = layer(x)
      if i < len(self.layers) - 1:
        x = self.activation(x)
        if self.dropout is not None:
          x = self.dropout(x)
      elif self.output_activation is not None:
        x = self.output_activation(x)
    return x

  _compiled_forward = compiled_method(_forward)

  @classmethod
  def from_weights(cls, weights: Sequence[ArrayLike], biases: Sequence[ArrayLike] | None = None,
                   **kwargs: Any) -> DeepNet:
    """Builds the network from the course's weight matrices.

    Args:
      weights: ``L`` matrices, ``W_l`` of shape ``(size_l, size_{l+1})`` (so a layer is
        ``a @ W_l``, as the course's ``np.dot(activations, w)``).
      biases: ``L`` vectors ``(size_{l+1},)``; ``None`` means zeros (the course's MLP has none).
      **kwargs: ``activation``, ``output_activation``, ``dropout`` as in the constructor.

    Returns:
      A ``DeepNet`` whose forward pass is ``σ(...σ(σ(x @ W_0 + b_0) @ W_1 + b_1)...)``.
    """
    weights = [np.asarray(w) for w in weights]
    if not weights or any(w.ndim != 2 for w in weights):
      raise ValueError(f"weights must be a non-empty list of 2-D matrices, got shapes "
                       f"{[w.shape for w in weights]}")
    for a, b in zip(weights[:-1], weights[1:]):
      if a.shape[1] != b.shape[0]:
        raise ValueError(f"weights must chain (W_l.shape[1] == W_(l+1).shape[0]), got shapes "
                         f"{[w.shape for w in weights]}")
    hidden = [w.shape[1] for w in weights[:-1]]
    net = cls(weights[0].shape[0], hidden, weights[-1].shape[1], rngs=nnx.Rngs(0), **kwargs)
    _load_dense(net.layers, weights, biases)
    return net


def _load_dense(layers: Sequence[nnx.Linear], weights: Sequence[ArrayLike],
                biases: Sequence[ArrayLike] | None) -> None:
  if biases is not None and len(biases) != len(weights):
    raise ValueError(f"biases must hold one vector per weight matrix ({len(weights)}), "
                     f"got {len(biases)}")
  for i, layer in enumerate(layers):
    _set(layer.kernel, weights[i], f"weights[{i}]")
    _set(layer.bias, np.zeros(layer.out_features) if biases is None else biases[i],
         f"biases[{i}]")


class ShallowNet(DeepNet):
  """One hidden layer: ``sigmoid(sigmoid(x @ W1 + b1) @ W2 + b2)``.

  Args:
    in_features: input size.
    hidden: hidden-layer size (an int).
    out_features: output size.
    activation, output_activation, dropout: as in ``DeepNet``.
    rngs: ``nnx.Rngs`` for the initial weights.

  Shapes: ``(..., in_features) -> (..., out_features)``.

  Examples:
    >>> import jax.numpy as jnp
    >>> from flax import nnx
    >>> ShallowNet(2, 5, 1, rngs=nnx.Rngs(0))(jnp.ones((4, 2))).shape
    (4, 1)
  """

  def __init__(self, in_features: int, hidden: int, out_features: int, *,
               activation: Any = jax.nn.sigmoid, output_activation: Any = "same",
               dropout: float = 0.0, rngs: nnx.Rngs):
    super().__init__(in_features, [_checks.positive_int(hidden, "hidden")], out_features,
                     activation=activation, output_activation=output_activation,
                     dropout=dropout, rngs=rngs)

  @classmethod
  def from_weights(cls, weights: Sequence[ArrayLike], biases: Sequence[ArrayLike] | None = None,
                   **kwargs: Any) -> ShallowNet:
    """Builds the net from ``weights = [W1 (in, hidden), W2 (hidden, out)]`` and optional
    ``biases = [b1, b2]`` (zeros when ``None``); see ``DeepNet.from_weights``."""
    if len(weights) != 2:
      raise ValueError(f"weights must hold 2 matrices for a ShallowNet, got {len(weights)}")
    w1, w2 = np.asarray(weights[0]), np.asarray(weights[1])
    net = cls(w1.shape[0], w1.shape[1], w2.shape[-1], rngs=nnx.Rngs(0), **kwargs)
    _load_dense(net.layers, [w1, w2], biases)
    return net


class Perceptron(nnx.Module):
  """The course's artificial neuron: ``y = sigmoid(Σ_i x_i·w_i + b)``.

  Args:
    in_features: number of inputs.
    rngs: ``nnx.Rngs`` for the initial weights.

  Shapes: ``(..., in_features) -> (...)`` (one output per example).

  Examples:
    >>> import numpy as np
    >>> p = Perceptron.from_weights(np.array([0.4, 0.7, 0.2]))
    >>> round(float(p(np.array([0.5, 0.3, 0.2]))), 4)  # sigmoid(0.45)
    0.6106
  """

  def __init__(self, in_features: int, *, rngs: nnx.Rngs):
    self.linear = nnx.Linear(_checks.positive_int(in_features, "in_features"), 1, kernel_init=_lecun_normal,
                             rngs=rngs)

  def __call__(self, x: ArrayLike) -> jax.Array:
    x = jnp.asarray(x)
    n_in = self.linear.in_features
    if x.ndim < 1 or x.shape[-1] != n_in:
      raise ValueError(f"x must have shape (..., {n_in}), got {x.shape}")
    return jax.nn.sigmoid(self.linear(x))[..., 0]

  @classmethod
  def from_weights(cls, weights: ArrayLike, bias: ArrayLike = 0.0) -> Perceptron:
    """Builds the neuron from ``weights`` ``(in_features,)`` and a scalar ``bias``."""
    w = np.asarray(weights)
    if w.ndim != 1 or w.size == 0:
      raise ValueError(f"weights must be a non-empty vector (in_features,), got shape {w.shape}")
    p = cls(w.size, rngs=nnx.Rngs(0))
    _set(p.linear.kernel, w[:, None], "weights")
    _set(p.linear.bias, np.reshape(bias, (1,)), "bias")
    return p


# ---------------------------------------------------------------------------------------------
# CNN.


def _plain_2d(lhs, window_strides, padding, lhs_dilation, rhs_dilation, dimension_numbers,
              feature_group_count) -> bool:
  return (lhs.ndim == 4 and tuple(window_strides) == (1, 1) and feature_group_count == 1
          and all(d in (None, 1) or tuple(d) == (1, 1) for d in (lhs_dilation, rhs_dilation))
          and not isinstance(padding, str)
          and (dimension_numbers is None or tuple(dimension_numbers.lhs_spec) == (0, 3, 1, 2)
               and tuple(dimension_numbers.rhs_spec) == (3, 2, 0, 1)
               and tuple(dimension_numbers.out_spec) == (0, 3, 1, 2)))


_NHWC = ("NHWC", "HWIO", "NHWC")


def _pad_hw(x: jax.Array, padding: tuple, *, channels_first: bool = False) -> jax.Array:
  """Zero-pads (or, for negative entries, crops) the two spatial axes."""
  (t, b), (l, r) = padding
  cfg = ([(0, 0, 0), (0, 0, 0), (t, b, 0), (l, r, 0)] if channels_first
         else [(0, 0, 0), (t, b, 0), (l, r, 0), (0, 0, 0)])
  return lax.pad(x, jnp.zeros((), x.dtype), cfg)


def _xla_conv(x: jax.Array, k: jax.Array, padding: Any) -> jax.Array:
  """Stride-1 NHWC/HWIO convolution. An unpadded one gets one zero row on top whose output row
  is dropped again: the same values, but XLA:CPU then runs it with its fast (Eigen) kernel
  instead of the 3-7× slower fused one it picks for unpadded convolutions."""
  if isinstance(padding, str) and padding == "VALID":
    padding = ((0, 0), (0, 0))
  if all(p == 0 for pair in padding for p in pair):
    y = lax.conv_general_dilated(x, k, (1, 1), ((1, 0), (0, 0)), dimension_numbers=_NHWC)
    return y[:, 1:]
  return lax.conv_general_dilated(x, k, (1, 1), padding, dimension_numbers=_NHWC)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2,))
def _conv_nhwc(x: jax.Array, k: jax.Array, padding: tuple) -> jax.Array:
  kh, kw, cin, _ = k.shape
  if cin == 1:  # one input channel: kh·kw shifted, scaled copies, one fused elementwise loop
    xp = _pad_hw(x, padding)
    ho, wo = xp.shape[1] - kh + 1, xp.shape[2] - kw + 1
    return sum(xp[:, i:i + ho, j:j + wo, :] * k[i, j, 0] for i in range(kh) for j in range(kw))
  return _xla_conv(x, k, padding)


def _conv_nhwc_fwd(x, k, padding):
  return _conv_nhwc(x, k, padding), (x, k)


def _conv_nhwc_bwd(padding, res, g):
  """Both gradients as forward convolutions in the plain NHWC/HWIO layout (``_xla_conv``), which
  XLA:CPU runs fast, instead of the transposed convolutions autodiff emits (10-50× slower)."""
  x, k = res
  kh, kw = k.shape[:2]
  (t, b), (l, r) = padding
  # dx: g correlated with the flipped kernel, input and output channels swapped.
  k_flip = jnp.flip(k, (0, 1)).transpose(0, 1, 3, 2)
  dx = _xla_conv(g, k_flip, ((kh - 1 - t, kh - 1 - b), (kw - 1 - l, kw - 1 - r)))
  # dk[i, j, c, o] = sum_{n,h,w} x_pad[n, h + i, w + j, c] g[n, h, w, o]: a VALID convolution with
  # the channels as the batch, the batch as the contracted feature and g as the kernel.
  dk = _xla_conv(_pad_hw(x, padding).transpose(3, 1, 2, 0), g.transpose(1, 2, 0, 3),
                 "VALID").transpose(1, 2, 0, 3)
  return dx.astype(x.dtype), dk.astype(k.dtype)


_conv_nhwc.defvjp(_conv_nhwc_fwd, _conv_nhwc_bwd)


def _fast_vjp_conv(lhs, rhs, window_strides, padding, lhs_dilation=None, rhs_dilation=None,
                   dimension_numbers=None, feature_group_count=1, precision=None, **kwargs):
  """``lax.conv_general_dilated`` with a custom gradient for the plain 2-D case.

  The forward pass is XLA's convolution (for one input channel, the sum of ``kh·kw`` shifted,
  scaled copies of the input, one fused loop); the backward pass computes the input and kernel
  gradients as two forward convolutions (see ``_conv_nhwc_bwd``). The same values up to float
  round-off, several times faster on CPU (the course's CNN trains 10× faster than with
  ``lax``'s own gradients). Anything else (strides, dilation, groups, a precision, an output
  dtype or sharding) falls back to ``lax.conv_general_dilated``.
  """
  if not _plain_2d(lhs, window_strides, padding, lhs_dilation, rhs_dilation, dimension_numbers,
                   feature_group_count) or precision is not None or any(
                       v is not None for v in kwargs.values()):
    return lax.conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation=lhs_dilation,
                                    rhs_dilation=rhs_dilation, dimension_numbers=dimension_numbers,
                                    feature_group_count=feature_group_count, precision=precision,
                                    **kwargs)
  return _conv_nhwc(lhs, rhs, tuple(tuple(int(v) for v in p) for p in padding))


def _auto_conv(*args, **kwargs):
  """``_fast_vjp_conv`` on CPU, XLA's convolution and its autodiff on GPU/TPU (cuDNN's
  transposed convolutions are fast); decided at trace time."""
  fn = _fast_vjp_conv if jax.default_backend() == "cpu" else lax.conv_general_dilated
  return fn(*args, **kwargs)


_CONV_FNS = {"auto": _auto_conv, "fast_vjp": _fast_vjp_conv, "lax": lax.conv_general_dilated}


@functools.partial(jax.custom_vjp, nondiff_argnums=(1,))
def _max_pool2d(x: jax.Array, size: int) -> jax.Array:
  n, h, w, c = x.shape
  ho, wo = h // size, w // size
  return x[:, :ho * size, :wo * size, :].reshape(n, ho, size, wo, size, c).max(axis=(2, 4))


def _max_pool2d_fwd(x, size):
  y = _max_pool2d(x, size)
  return y, (x, y)


def _max_pool2d_bwd(size, res, g):
  """Routes each output's gradient to the maximal element(s) of its window: one compare and
  select (autodiff of the reduction also counts ties, 2-3× slower on CPU). Ties, where this
  differs, have probability zero for continuous inputs; after a ReLU they sit where its
  gradient is zero."""
  x, y = res
  n, h, w, c = x.shape
  ho, wo = y.shape[1], y.shape[2]
  windows = x[:, :ho * size, :wo * size, :].reshape(n, ho, size, wo, size, c)
  hit = windows == y[:, :, None, :, None, :]
  dx = jnp.where(hit, g[:, :, None, :, None, :], 0).reshape(n, ho * size, wo * size, c)
  return (jnp.pad(dx, ((0, 0), (0, h - ho * size), (0, w - wo * size), (0, 0))).astype(x.dtype),)


_max_pool2d.defvjp(_max_pool2d_fwd, _max_pool2d_bwd)


def _pool2d(x: jax.Array, size: int, kind: str) -> jax.Array:
  """Non-overlapping ``size × size`` pooling over axes 1, 2 of NHWC (floors odd sizes, as
  ``torch.nn.MaxPool2d(size)``): a reshape and a reduction, cheaper than ``reduce_window``."""
  if kind == "max":
    return _max_pool2d(x, size)
  n, h, w, c = x.shape
  ho, wo = h // size, w // size
  return x[:, :ho * size, :wo * size, :].reshape(n, ho, size, wo, size, c).mean(axis=(2, 4))


class CNN(nnx.Module):
  """The course's sound classifier: conv → activation → pool blocks, then a linear layer.

  Block ``i``: ``Conv2d(c_{i-1} → c_i, kernel_size, stride 1, zero padding)``, ``activation``,
  ``pool_size × pool_size`` max or average pooling (odd sizes floored). The last block's
  ``(channels, height, width)`` map is flattened in that (PyTorch) order and fed to a linear
  layer giving ``n_classes`` logits; its size is computed from ``input_shape``. Defaults are the
  course's: 4 blocks of 16/32/64/128 channels, 3×3 kernels, padding 2, 2×2 max pooling, ReLU.
  The model returns logits; ``jax.nn.softmax`` gives probabilities (the course put a softmax in
  the model and then a cross-entropy loss that applies another; here the loss takes logits).

  Args:
    input_shape: shape of one input example. Without a frontend: ``(n_mels, n_frames)`` of the
      log-mel spectrogram. With a frontend: ``(n_samples,)`` of the raw audio.
    n_classes: number of classes (logits).
    channels: output channels of each conv block.
    kernel_size: conv kernel size (square).
    padding: zero padding on each side of both axes.
    pool_size: pooling window and stride (square).
    pooling: ``"max"`` or ``"avg"``.
    activation: ``"relu"``, ``"tanh"``, ``"sigmoid"`` (or another name from ``DeepNet``, or a
      callable).
    dropout: dropout rate before the linear layer while training (0 disables).
    standardize: scale each example's features to zero mean and unit variance over
      ``(n_features, n_frames)`` before the first block (stateless, batch-invariant). On by
      default: log-mel input in dB (values around -80..+40, any offset or scale) then trains with
      SGD as well as Adam; without it the first layers see inputs of size ~50, the initial loss
      is in the hundreds and SGD stays at chance. ``False`` gives the course's model exactly (as
      ``from_weights`` does unless told otherwise).
    frontend: optional ``nnx.Module`` mapping raw audio ``(batch, n_samples)`` to features
      ``(batch, n_features, n_frames)``; its output shape is found with ``jax.eval_shape``.
    conv: how the convolutions run; all compute the same cross-correlation (to float round-off):
      ``"auto"`` (``"fast_vjp"`` on CPU, ``"lax"`` elsewhere), ``"fast_vjp"`` (XLA's
      convolution with a custom gradient made of two forward convolutions: XLA:CPU's own
      convolution gradients are 10-50× slower), ``"lax"`` (``lax.conv_general_dilated`` and its
      autodiff).
    rngs: ``nnx.Rngs`` for the initial weights (and the dropout stream).

  Shapes: ``(batch, n_mels, n_frames)`` or ``(batch, 1, n_mels, n_frames)`` (or, with a frontend,
  ``(batch, n_samples)``) ``-> (batch, n_classes)``.

  Raises:
    ValueError: a bad argument, or an input so small that a block's output would be empty.

  Examples:
    >>> import jax.numpy as jnp
    >>> from flax import nnx
    >>> cnn = CNN((64, 44), 10, rngs=nnx.Rngs(0))
    >>> cnn.flat_features  # 128 channels × 5 × 4, as the course's nn.Linear(128 * 5 * 4, 10)
    2560
    >>> cnn(jnp.zeros((2, 64, 44))).shape
    (2, 10)
  """

  def __init__(self, input_shape: Sequence[int], n_classes: int, *,
               channels: Sequence[int] = (16, 32, 64, 128), kernel_size: int = 3,
               padding: int = 2, pool_size: int = 2, pooling: str = "max",
               activation: Any = "relu", dropout: float = 0.0, standardize: bool = True,
               frontend: nnx.Module | None = None, conv: str = "auto", rngs: nnx.Rngs):
    input_shape = tuple(_checks.positive_int(s, "input_shape") for s in input_shape)
    n_classes = _checks.positive_int(n_classes, "n_classes")
    channels = tuple(_checks.positive_int(c, "channels") for c in channels)
    kernel_size = _checks.positive_int(kernel_size, "kernel_size")
    padding = _checks.nonnegative_int(padding, "padding")
    pool_size = _checks.positive_int(pool_size, "pool_size")
    self.pooling = _checks.choice(pooling, "pooling", ("max", "avg"))
    self.conv_impl = _checks.choice(conv, "conv", tuple(_CONV_FNS))
    self.activation = _activation(activation)
    dropout = _checks.positive_number(dropout, "dropout", allow_zero=True)
    if dropout >= 1:
      raise ValueError(f"dropout must be in [0, 1), got {dropout}")

    if not isinstance(standardize, bool):
      raise TypeError(f"standardize must be a bool, got {standardize!r}")
    self.standardize = standardize
    self.frontend = frontend
    if frontend is not None:
      if len(input_shape) != 1:
        raise ValueError(f"input_shape must be (n_samples,) when a frontend is given, got "
                         f"{input_shape}")
      graphdef, state = nnx.split(frontend)
      out = jax.eval_shape(lambda s, x: nnx.merge(graphdef, s)(x), state,
                           jax.ShapeDtypeStruct((1, *input_shape), jnp.float32))
      if len(out.shape) != 3:
        raise ValueError(f"frontend must map (batch, n_samples) to (batch, n_features, n_frames), "
                         f"got output shape {out.shape}")
      feature_shape = tuple(out.shape[1:])
    else:
      if len(input_shape) != 2:
        raise ValueError(f"input_shape must be (n_mels, n_frames), got {input_shape}")
      feature_shape = input_shape
    self.input_shape = input_shape
    self.feature_shape = feature_shape
    self.pool_size = pool_size

    h, w = feature_shape
    convs = []
    c_in = 1
    for i, c in enumerate(channels):
      h, w = h + 2 * padding - kernel_size + 1, w + 2 * padding - kernel_size + 1
      h, w = h // pool_size, w // pool_size
      if h < 1 or w < 1:
        raise ValueError(f"input_shape {input_shape} is too small for {len(channels)} blocks: "
                         f"block {i} output would be empty")
      convs.append(nnx.Conv(c_in, c, (kernel_size, kernel_size), padding=padding,
                            conv_general_dilated=_CONV_FNS[self.conv_impl], kernel_init=_lecun_normal,
                            rngs=rngs))
      c_in = c
    self.convs = nnx.List(convs)
    self.output_map_shape = (c_in, h, w)
    self.flat_features = c_in * h * w
    self.dropout = nnx.Dropout(dropout, rngs=rngs) if dropout > 0 else None
    self.dense = nnx.Linear(self.flat_features, n_classes, kernel_init=_lecun_normal, rngs=rngs)

  def features(self, x: ArrayLike) -> jax.Array:
    """The model's input features: the frontend's output, or ``x`` itself (channel axis dropped).

    Returns:
      ``(batch, n_features, n_frames)``.
    """
    x = jnp.asarray(x)
    if self.frontend is not None:
      if x.ndim != 2 or x.shape[1:] != self.input_shape:
        raise ValueError(f"x must have shape (batch, {self.input_shape[0]}), got {x.shape}")
      return self.frontend(x)
    if x.ndim == 4 and x.shape[1] == 1:
      x = x[:, 0]
    if x.ndim != 3 or x.shape[1:] != self.input_shape:
      raise ValueError(f"x must have shape (batch, {self.input_shape[0]}, {self.input_shape[1]}) "
                       f"or (batch, 1, ...), got {x.shape}")
    return x

  def __call__(self, x: ArrayLike) -> jax.Array:
    x = self.features(x)
    # As DeepNet: one compiled program for the layers unless dropout advances the RNG state. The
    # frontend (any module, maybe with state of its own) runs in features(), outside it.
    return self._head(x) if self.dropout is not None else self._compiled_head(x)

  def _head(self, x: jax.Array) -> jax.Array:
    if self.standardize:
      mean = jnp.mean(x, axis=(-2, -1), keepdims=True)
      x = (x - mean) * lax.rsqrt(jnp.var(x, axis=(-2, -1), keepdims=True) + 1e-5)
    x = x[..., None]  # NHWC with one channel
    for conv in self.convs:
      x = _pool2d(self.activation(conv(x)), self.pool_size, self.pooling)
    x = jnp.transpose(x, (0, 3, 1, 2)).reshape(x.shape[0], -1)  # flatten as (C, H, W)
    if self.dropout is not None:
      x = self.dropout(x)
    return self.dense(x)

  _compiled_head = compiled_method(_head)

  @classmethod
  def from_weights(cls, input_shape: Sequence[int], conv_kernels: Sequence[ArrayLike],
                   conv_biases: Sequence[ArrayLike], dense_kernel: ArrayLike,
                   dense_bias: ArrayLike, **kwargs: Any) -> CNN:
    """Builds a CNN from given weights; channels, kernel size and ``n_classes`` come from them.

    Args:
      input_shape: as in the constructor.
      conv_kernels: one ``(kh, kw, c_in, c_out)`` array per block (a PyTorch ``Conv2d.weight``
        ``(c_out, c_in, kh, kw)`` becomes ``w.transpose(2, 3, 1, 0)``).
      conv_biases: one ``(c_out,)`` vector per block.
      dense_kernel: ``(C·H·W, n_classes)``, rows in ``(C, H, W)`` flattening order (PyTorch's
        ``Linear.weight.T``).
      dense_bias: ``(n_classes,)``.
      **kwargs: other constructor arguments (``padding``, ``pooling``, ``activation``, ...);
        ``standardize`` is ``False`` unless given, so the model computes the course's network.
    """
    kwargs.setdefault("standardize", False)
    kernels = [np.asarray(k) for k in conv_kernels]
    if not kernels or any(k.ndim != 4 or k.shape[0] != k.shape[1] for k in kernels):
      raise ValueError(f"conv_kernels must be square (k, k, c_in, c_out) arrays, got shapes "
                       f"{[k.shape for k in kernels]}")
    dense_kernel = np.asarray(dense_kernel)
    if dense_kernel.ndim != 2:
      raise ValueError(f"dense_kernel must be (flat_features, n_classes), got {dense_kernel.shape}")
    model = cls(input_shape, dense_kernel.shape[1], channels=[k.shape[3] for k in kernels],
                kernel_size=kernels[0].shape[0], rngs=nnx.Rngs(0), **kwargs)
    if len(conv_biases) != len(kernels):
      raise ValueError(f"conv_biases must hold one vector per kernel ({len(kernels)}), got "
                       f"{len(conv_biases)}")
    for i, (conv, k, b) in enumerate(zip(model.convs, kernels, conv_biases)):
      _set(conv.kernel, k, f"conv_kernels[{i}]")
      _set(conv.bias, b, f"conv_biases[{i}]")
    _set(model.dense.kernel, dense_kernel, "dense_kernel")
    _set(model.dense.bias, dense_bias, "dense_bias")
    return model
