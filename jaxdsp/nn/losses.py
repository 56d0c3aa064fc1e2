"""Loss functions with PyTorch's semantics, built on optax.

Each loss takes ``(predictions, targets)`` and a keyword ``reduction``: ``"mean"`` (default, the
mean over every element, or over examples for the cross-entropies), ``"sum"``, or ``"none"`` (the
unreduced, per-element / per-example values). These are the semantics of ``torch.nn.L1Loss``,
``MSELoss``, ``CrossEntropyLoss``, ``BCELoss`` and ``BCEWithLogitsLoss``. The class axis is the
LAST axis (``(..., n_classes)``), Flax's convention, where PyTorch's is axis 1.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.typing import ArrayLike

from jaxdsp import _checks

__all__ = ["binary_cross_entropy", "cross_entropy", "get_loss", "l1_loss", "mse_loss"]

_REDUCTIONS = ("mean", "sum", "none")


def _reduce(x: jax.Array, reduction: str) -> jax.Array:
  _checks.choice(reduction, "reduction", _REDUCTIONS)
  if reduction == "mean":
    return jnp.mean(x)
  if reduction == "sum":
    return jnp.sum(x)
  return x


def _same_shape(predictions: ArrayLike, targets: ArrayLike) -> tuple[jax.Array, jax.Array]:
  predictions, targets = jnp.asarray(predictions), jnp.asarray(targets)
  if predictions.shape != targets.shape:
    raise ValueError(f"targets must have the shape of predictions {predictions.shape}, got "
                     f"{targets.shape}")
  if not jnp.issubdtype(predictions.dtype, jnp.floating):
    raise TypeError(f"predictions must be floating point, got dtype {predictions.dtype}")
  return predictions, targets.astype(predictions.dtype)


def l1_loss(predictions: ArrayLike, targets: ArrayLike, *, reduction: str = "mean") -> jax.Array:
  """Mean (or summed) absolute error, ``|p - t|``.

  optax has no L1 loss; this is ``jnp.abs(p - t)`` reduced.

  Args:
    predictions: any shape.
    targets: same shape as ``predictions``.
    reduction: ``"mean"`` over all elements, ``"sum"``, or ``"none"``.

  Returns:
    A scalar (or ``predictions.shape`` for ``"none"``).

  Raises:
    ValueError: shapes differ, or an unknown ``reduction``.

  Examples:
    >>> float(l1_loss([1.0, 2.0], [0.0, 0.0]))
    1.5

  Compare ``torch.nn.L1Loss(reduction=...)``.
  """
  p, t = _same_shape(predictions, targets)
  return _reduce(jnp.abs(p - t), reduction)


def mse_loss(predictions: ArrayLike, targets: ArrayLike, *, reduction: str = "mean") -> jax.Array:
  """Mean (or summed) squared error, ``(p - t)²``.

  ``optax.squared_error`` reduced (not ``optax.l2_loss``, which is half of it).

  Args:
    predictions: any shape.
    targets: same shape as ``predictions``.
    reduction: ``"mean"`` over all elements, ``"sum"``, or ``"none"``.

  Returns:
    A scalar (or ``predictions.shape`` for ``"none"``).

  Raises:
    ValueError: shapes differ, or an unknown ``reduction``.

  Examples:
    >>> float(mse_loss([1.0, 2.0], [0.0, 0.0]))
    2.5

  Compare ``torch.nn.MSELoss(reduction=...)``.
  """
  p, t = _same_shape(predictions, targets)
  return _reduce(optax.squared_error(p, t), reduction)


def cross_entropy(logits: ArrayLike, labels: ArrayLike, *, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> jax.Array:
  """Softmax cross-entropy from logits: ``-Σ_c t_c · log_softmax(z)_c`` per example.

  Integer ``labels`` are class indices (``optax.softmax_cross_entropy_with_integer_labels``);
  floating ``labels`` of the logits' shape are one-hot vectors or class probabilities
  (``optax.softmax_cross_entropy``).

  Args:
    logits: unnormalised scores, ``(..., n_classes)``.
    labels: integer class indices ``(...)`` in ``[0, n_classes)``, or floating targets
      ``(..., n_classes)`` (each row summing to 1).
    reduction: ``"mean"`` over examples, ``"sum"``, or ``"none"`` (shape ``(...)``).
    label_smoothing: ``ε`` in ``[0, 1)``: the targets become ``(1 - ε)·t + ε/n_classes`` (as
      ``torch.nn.CrossEntropyLoss(label_smoothing=ε)``).

  Returns:
    A scalar (or ``(...)`` for ``"none"``).

  Raises:
    ValueError: mismatched shapes, bad ``reduction`` or ``label_smoothing``.
    TypeError: non-floating logits, or labels neither integer nor floating.

  Examples:
    >>> import jax.numpy as jnp
    >>> round(float(cross_entropy(jnp.zeros((2, 4)), jnp.array([0, 3]))), 4)  # log 4
    1.3863

  Compare ``torch.nn.CrossEntropyLoss(reduction=..., label_smoothing=...)`` (with the class axis
  last instead of at axis 1).
  """
  logits, labels = jnp.asarray(logits), jnp.asarray(labels)
  if not jnp.issubdtype(logits.dtype, jnp.floating):
    raise TypeError(f"logits must be floating point, got dtype {logits.dtype}")
  if logits.ndim < 1:
    raise ValueError(f"logits must have shape (..., n_classes), got {logits.shape}")
  eps = _checks.positive_number(label_smoothing, "label_smoothing", allow_zero=True)
  if eps >= 1:
    raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}")
  n_classes = logits.shape[-1]
  if jnp.issubdtype(labels.dtype, jnp.integer):
    if labels.shape != logits.shape[:-1]:
      raise ValueError(f"integer labels must have shape {logits.shape[:-1]} (logits without the "
                       f"class axis), got {labels.shape}")
    if eps == 0:
      per_example = optax.softmax_cross_entropy_with_integer_labels(logits, labels)
      return _reduce(per_example, reduction)
    labels = jax.nn.one_hot(labels, n_classes, dtype=logits.dtype)
  elif jnp.issubdtype(labels.dtype, jnp.floating):
    if labels.shape != logits.shape:
      raise ValueError(f"floating labels (one-hot or probabilities) must have the logits' shape "
                       f"{logits.shape}, got {labels.shape}")
    labels = labels.astype(logits.dtype)
  else:
    raise TypeError(f"labels must be integer class indices or floating probabilities, got dtype "
                    f"{labels.dtype}")
  if eps:
    labels = optax.smooth_labels(labels, eps)
  return _reduce(optax.softmax_cross_entropy(logits, labels), reduction)


def binary_cross_entropy(inputs: ArrayLike, targets: ArrayLike, *, from_logits: bool = False,
                         reduction: str = "mean") -> jax.Array:
  """Binary cross-entropy, ``-[t·log p + (1 - t)·log(1 - p)]`` per element.

  With ``from_logits=False`` (default) ``inputs`` are probabilities ``p`` in [0, 1] (a sigmoid
  output such as ``Perceptron``'s) and each log is clamped at -100, exactly as
  ``torch.nn.BCELoss``, and so is its gradient, ``(p - t) / max(p·(1 - p), 1e-12)``: finite at
  ``p = 0`` and ``p = 1`` (zero where ``p == t``). Probabilities outside [0, 1] are refused for host
  and concrete arrays (torch raises too); inside ``jit`` they cannot be checked and give NaN. With ``from_logits=True`` ``inputs`` are logits ``z`` with
  ``p = sigmoid(z)``, computed stably by ``optax.sigmoid_binary_cross_entropy`` (as
  ``torch.nn.BCEWithLogitsLoss``); prefer it for training.

  Args:
    inputs: probabilities or logits, any shape.
    targets: same shape, values in [0, 1].
    from_logits: whether ``inputs`` are logits.
    reduction: ``"mean"`` over all elements, ``"sum"``, or ``"none"``.

  Returns:
    A scalar (or ``inputs.shape`` for ``"none"``).

  Raises:
    ValueError: shapes differ, an unknown ``reduction``, or (``from_logits=False``, concrete
      input) a probability outside [0, 1] or NaN.

  Examples:
    >>> round(float(binary_cross_entropy([0.5, 0.5], [1.0, 0.0])), 4)  # log 2
    0.6931
    >>> import jax, jax.numpy as jnp
    >>> jax.grad(binary_cross_entropy)(jnp.array([1.0, 0.0]), jnp.array([1.0, 0.0]))
    Array([0., 0.], dtype=float32)

  Compare ``torch.nn.BCELoss`` / ``torch.nn.BCEWithLogitsLoss``.
  """
  x, t = _same_shape(inputs, targets)
  if not isinstance(from_logits, bool):
    raise TypeError(f"from_logits must be a bool, got {from_logits!r}")
  if from_logits:
    per_element = optax.sigmoid_binary_cross_entropy(x, t)
  else:
    if not isinstance(x, jax.core.Tracer):
      host = np.asarray(x)
      bad = ~((host >= 0) & (host <= 1))
      if bad.any():
        raise ValueError(f"inputs must be probabilities in [0, 1] (from_logits=False), got "
                         f"{float(host[bad].ravel()[0])} at {int(bad.sum())} element(s); pass "
                         "from_logits=True for logits")
    per_element = _bce_probabilities(x, t)
  return _reduce(per_element, reduction)


@jax.custom_vjp
def _bce_probabilities(p: jax.Array, t: jax.Array) -> jax.Array:
  """``-[t·max(log p, -100) + (1 - t)·max(log(1 - p), -100)]``, torch's ``BCELoss`` forward."""
  log_p = jnp.maximum(jnp.log(p), -100.0)
  log_1mp = jnp.maximum(jnp.log1p(-p), -100.0)
  return -(t * log_p + (1 - t) * log_1mp)


def _bce_fwd(p, t):
  return _bce_probabilities(p, t), (p, t)


def _bce_bwd(res, g):
  """torch's ``binary_cross_entropy_backward``: ``∂/∂p = (p - t) / max(p·(1 - p), 1e-12)``, finite
  at ``p = 0`` and ``p = 1`` (0 where ``p == t``); ``∂/∂t = log(1 - p) - log p`` (clamped logs)."""
  p, t = res
  dp = g * (p - t) / jnp.maximum(p * (1 - p), 1e-12)
  dt = g * (jnp.maximum(jnp.log1p(-p), -100.0) - jnp.maximum(jnp.log(p), -100.0))
  return dp.astype(p.dtype), dt.astype(t.dtype)


_bce_probabilities.defvjp(_bce_fwd, _bce_bwd)


_LOSSES: dict[str, Callable[..., jax.Array]] = {
    "l1": l1_loss,
    "mse": mse_loss,
    "cross_entropy": cross_entropy,
    "binary_cross_entropy": binary_cross_entropy,
}


def get_loss(loss: Any) -> Callable[[jax.Array, jax.Array], jax.Array]:
  """Returns a loss callable: ``loss`` itself if callable, else the loss of that name.

  Args:
    loss: a callable ``(predictions, targets) -> scalar`` or one of ``"l1"``, ``"mse"``,
      ``"cross_entropy"``, ``"binary_cross_entropy"`` (from probabilities).

  Raises:
    ValueError: an unknown name.
  """
  if callable(loss):
    return loss
  return _LOSSES[_checks.choice(loss, "loss", tuple(_LOSSES))]
