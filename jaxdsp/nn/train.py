"""Training with optax: optimizers, a jitted train step, evaluation and a ``fit`` loop.

The step is one ``jax.jit``-compiled function of ``nnx.split((model, optimizer))``'s state: inside
it the parameters are split from the other variables (dropout RNG counters, batch statistics) and
only they are differentiated (``nnx.merge(..., copy=True)`` inside ``jax.value_and_grad``), the
pattern that works for models with Dropout in both of Flax NNX's graph and tree modes. ``fit``
keeps that state functional between steps and writes it back into the model after each epoch.

Data for ``fit`` / ``evaluate`` is one of:

- a tuple ``(x, y)`` of two arrays with the same leading (example) axis: batched here, shuffled
  per epoch with ``seed`` (NumPy ``default_rng([seed, epoch])``);
- an object with a ``batches(*, epoch)`` method yielding ``(x, y)`` batches (e.g.
  ``jaxdsp.data.UrbanSound8K``, which shuffles with its own seed);
- any re-iterable of ``(x, y)`` batches (a list, a ``torch``-style loader).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time
import warnings
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from tqdm.auto import tqdm

from jaxdsp import _checks
from jaxdsp.nn import checkpoint as _ckpt
from jaxdsp.nn.losses import get_loss

__all__ = ["NonFiniteLossError", "evaluate", "fit", "label_params", "make_optimizer", "train_step"]

Callback = Callable[[int, nnx.Module, dict], "Mapping[str, Any] | None"]


# ---------------------------------------------------------------------------------------------
# Optimizers.


def _path_names(path: Sequence[Any]) -> tuple[str, ...]:
  names = []
  for k in path:
    if isinstance(k, jax.tree_util.GetAttrKey) and k.name == "value":
      continue  # the array inside an nnx.Variable
    for attr in ("key", "name", "idx"):
      if hasattr(k, attr):
        names.append(str(getattr(k, attr)))
        break
    else:
      names.append(str(k))
  return tuple(names)


def label_params(rule: Callable[[tuple[str, ...]], str] | Mapping[str, str], *,
                 default: str | None = None) -> Callable[[Any], Any]:
  """Builds ``param_labels`` for ``optax.multi_transform`` from each parameter's path.

  Args:
    rule: a callable ``path -> label`` where ``path`` is the parameter's attribute path as a
      tuple of strings (``("frontend", "center_freqs")``, ``("convs", "0", "kernel")``), or a
      mapping ``{prefix: label}``: a parameter whose ``"/"``-joined path starts with ``prefix``
      (``"frontend"``, ``"convs/0"``) gets that label (longest prefix wins).
    default: label for parameters no prefix matches (required with a mapping that does not cover
      every parameter).

  Returns:
    A function of the parameter pytree returning the matching pytree of labels.

  Examples:
    >>> import optax
    >>> labels = label_params({"frontend": "frontend"}, default="backbone")
    >>> tx = make_optimizer({"frontend": optax.adam(1e-4), "backbone": "adam"},
    ...                     learning_rate=1e-3, param_labels=labels)
  """
  if isinstance(rule, Mapping):
    prefixes = sorted(rule, key=len, reverse=True)

    def by_prefix(path: tuple[str, ...]) -> str:
      joined = "/".join(path)
      for p in prefixes:
        if joined == p or joined.startswith(p.rstrip("/") + "/"):
          return rule[p]
      if default is None:
        raise ValueError(f"parameter {joined!r} matches no prefix in {list(rule)} and no "
                         "default label was given")
      return default

    fn = by_prefix
  elif callable(rule):
    fn = rule
  else:
    raise TypeError(f"rule must be a callable or a mapping of prefixes to labels, got {rule!r}")
  return lambda params: jax.tree_util.tree_map_with_path(lambda p, _: fn(_path_names(p)), params)


_OPTIMIZERS = ("sgd", "adam", "adamw")


def make_optimizer(optimizer: Any = "adam", learning_rate: Any = None, *,
                   momentum: float | None = None, nesterov: bool = False,
                   weight_decay: float = 0.0, param_labels: Any = None,
                   **kwargs: Any) -> optax.GradientTransformation:
  """Returns an optax optimizer.

  Args:
    optimizer: ``"sgd"``, ``"adam"`` or ``"adamw"``; an ``optax.GradientTransformation``
      (returned as is); or a mapping ``{label: optimizer}`` of such (names use
      ``learning_rate``) combined with ``optax.multi_transform`` over ``param_labels``, for
      per-group optimizers (e.g. a slower learnable frontend).
    learning_rate: a positive float or an optax schedule; ``None`` means 1e-3.
    momentum: SGD momentum (``None`` or 0: plain SGD), as ``torch.optim.SGD``.
    nesterov: Nesterov momentum for SGD.
    weight_decay: for ``"sgd"``/``"adam"`` an L2 term ``wd·θ`` added to the gradient (PyTorch's
      coupled ``weight_decay``); for ``"adamw"`` the decoupled decay.
    param_labels: labels for a mapping ``optimizer``: anything ``optax.multi_transform``
      accepts (a pytree of labels or a function of the parameters), e.g. from ``label_params``.
    **kwargs: passed to the optax constructor (``b1``, ``b2``, ``eps``, ...).

  Returns:
    An ``optax.GradientTransformation``.

  Raises:
    ValueError: unknown name, a learning rate that is not positive and finite, hyperparameters
      given together with a ready transformation, or a mapping without ``param_labels``.
    TypeError: an ``nnx.Optimizer`` (pass its optax transformation), or a learning rate that is
      neither a number nor a schedule.

  Examples:
    >>> tx = make_optimizer("sgd", 0.1, momentum=0.9)
    >>> tx = make_optimizer("adam", 1e-3)

  Compare ``torch.optim.SGD`` / ``torch.optim.Adam``.
  """
  if isinstance(optimizer, nnx.Optimizer):
    raise TypeError("optimizer must be a name ('sgd', 'adam', 'adamw'), an optax "
                    "GradientTransformation (e.g. optax.adam(1e-3), optax.chain(...)) or a mapping "
                    "of those, got an nnx.Optimizer: pass its optax transformation instead (fit "
                    "builds the nnx.Optimizer itself)")
  if isinstance(optimizer, optax.GradientTransformation):
    if learning_rate is not None or momentum is not None or weight_decay or kwargs:
      raise ValueError("learning_rate, momentum, weight_decay and other options apply to named "
                       "optimizers only; configure the optax transformation itself")
    return optimizer
  if isinstance(optimizer, Mapping):
    if param_labels is None:
      raise ValueError("param_labels is required when optimizer is a mapping of groups")
    transforms = {label: make_optimizer(o, None if isinstance(o, optax.GradientTransformation)
                                        else learning_rate, momentum=momentum, nesterov=nesterov,
                                        weight_decay=weight_decay, **kwargs)
                  for label, o in optimizer.items()}
    return optax.multi_transform(transforms, param_labels)
  if not isinstance(optimizer, str):
    raise TypeError(f"optimizer must be a name {_OPTIMIZERS}, an optax GradientTransformation "
                    f"(e.g. optax.adam(1e-3)) or a mapping of those, got {type(optimizer).__name__}")
  name = _checks.choice(optimizer, "optimizer", _OPTIMIZERS)
  lr = 1e-3 if learning_rate is None else _learning_rate(learning_rate)
  weight_decay = _checks.positive_number(weight_decay, "weight_decay", allow_zero=True)
  args = (name, lr, momentum or None, bool(nesterov), weight_decay, tuple(sorted(kwargs.items())))
  try:
    return _named_optimizer(*args)  # the same object for the same arguments: jit cache hits
  except TypeError:  # unhashable options
    return _named_optimizer.__wrapped__(*args)


def _learning_rate(lr: Any) -> Any:
  """A positive finite number, or a schedule (a callable of the step), else an error."""
  if callable(lr):
    return lr
  if isinstance(lr, (jax.Array, np.ndarray)) and np.ndim(lr) == 0:
    lr = lr.item()
  if isinstance(lr, bool) or not isinstance(lr, (int, float, np.integer, np.floating)):
    raise TypeError(f"learning_rate must be a positive number or an optax schedule (a callable "
                    f"of the step), got {lr!r}")
  if not math.isfinite(lr) or lr <= 0:
    raise ValueError(f"learning_rate must be a positive finite number, got {lr!r}")
  return float(lr)


@functools.lru_cache(maxsize=64)
def _named_optimizer(name: str, lr: Any, momentum: float | None, nesterov: bool,
                     weight_decay: float, kwargs: tuple) -> optax.GradientTransformation:
  kwargs = dict(kwargs)
  if name == "sgd":
    tx = optax.sgd(lr, momentum=momentum, nesterov=nesterov, **kwargs)
  elif name == "adam":
    tx = optax.adam(lr, **kwargs)
  else:
    return optax.adamw(lr, weight_decay=weight_decay, **kwargs)
  if weight_decay:
    tx = optax.chain(optax.add_decayed_weights(weight_decay), tx)
  return tx


# ---------------------------------------------------------------------------------------------
# Steps.


def _metrics(outputs: jax.Array, y: jax.Array, loss: jax.Array) -> dict[str, jax.Array]:
  """Batch loss and, for class-index targets, the number of correct argmax predictions."""
  m = {"loss": loss}
  if outputs.ndim == y.ndim + 1 and jnp.issubdtype(y.dtype, jnp.integer):
    m["correct"] = jnp.sum(jnp.argmax(outputs, axis=-1) == y)
  return m


def _train_step_impl(graphdef: Any, loss_fn: Callable, augment: Callable | None, placement: Any,
                     state: Any, x: jax.Array, y: jax.Array,
                     key: jax.Array) -> tuple[Any, dict[str, jax.Array]]:
  model, optimizer = nnx.merge(graphdef, state)
  targets = y
  if augment is not None:  # keyed by the optimizer step: reproducible, and the same on resume
    x, targets = augment(jax.random.fold_in(key, optimizer.step[...]), x, y)
  gd, params, rest = nnx.split(model, nnx.Param, ...)

  def objective(params):
    m = nnx.merge(gd, params, rest, copy=True)
    outputs = m(x)
    return loss_fn(outputs, targets), (outputs, nnx.state(m, nnx.Not(nnx.Param)))

  (loss, (outputs, new_rest)), grads = jax.value_and_grad(objective, has_aux=True)(params)
  nnx.update(model, new_rest)
  optimizer.update(model, grads)
  new_state = nnx.state((model, optimizer))
  if placement is not None:  # data parallel: the state stays replicated, or sharded (``_StateSharding``)
    new_state = jax.lax.with_sharding_constraint(new_state, placement.tree(new_state))
  return new_state, _metrics(outputs, y, loss)


# XLA:CPU hands convolutions to YNNPACK by default; on the course's CNN its convolutions (the
# weight-gradient ones above all) made the train step 15-20 % slower than XLA's own (jaxlib 0.10,
# 2-core EPYC: 110 vs 130 ms per step at batch 32), while its dots and reductions are fast. So the
# steps are compiled with YNNPACK kept for those two only. The option is per compilation (nothing
# global changes) and ignored by other backends; an XLA that lacks it compiles without it.
_COMPILER_OPTIONS = {"xla_cpu_experimental_ynn_fusion_type":
                     "LIBRARY_FUSION_TYPE_REDUCE,LIBRARY_FUSION_TYPE_INDIVIDUAL_DOT"}


@functools.lru_cache(maxsize=64)
def _step_fn(fun: Callable, graphdef: Any, *static: Any) -> Callable:
  """``fun(graphdef, *static, state, *arrays)`` jitted as ``(state, *arrays) -> ...``.

  Cached per ``(graphdef, *static)`` (loss, augmentation, sharding): ``fit`` looks it up once and
  then calls it per batch without hashing the graph definition every step (as a static argument
  would), and later calls with the same model structure reuse its compilations. Compiled with
  ``_COMPILER_OPTIONS`` when XLA has them.
  """
  bound = functools.partial(fun, graphdef, *static)
  tuned = jax.jit(bound, compiler_options=_COMPILER_OPTIONS)
  plain = jax.jit(bound)
  current = [tuned]

  def step(*args):
    try:
      return current[0](*args)
    except Exception as e:  # noqa: BLE001 - only the unknown-option error is handled
      if current[0] is plain or not any(k in str(e) for k in _COMPILER_OPTIONS):
        raise
      current[0] = plain
      return plain(*args)

  return step


def _get_step(fun: Callable, graphdef: Any, *static: Any) -> Callable:
  """``_step_fn``, uncached when a static argument (e.g. an augmentation) is unhashable."""
  try:
    return _step_fn(fun, graphdef, *static)
  except TypeError:
    return _step_fn.__wrapped__(fun, graphdef, *static)


def _eval_step_impl(graphdef: Any, loss_fn: Callable, state: Any, x: jax.Array,
                    y: jax.Array) -> tuple[jax.Array, dict[str, jax.Array]]:
  outputs = nnx.merge(graphdef, state)(x)
  return outputs, _metrics(outputs, y, loss_fn(outputs, y))


def _mode(model: nnx.Module, *, training: bool) -> nnx.Module:
  """A view of ``model`` with Dropout / BatchNorm in training or inference mode."""
  return nnx.view(model, deterministic=not training, use_running_average=not training,
                  raise_if_not_found=False)


# ---------------------------------------------------------------------------------------------
# Devices: data parallelism over a "data" mesh axis.


# ``shard_params=True``: arrays of the parameters and optimizer state with at least this many
# elements are sharded over the "data" axis; smaller ones stay replicated.
SHARD_MIN_SIZE = 1 << 14


@dataclasses.dataclass(frozen=True)
class _StateSharding:
  """Where each array of the training state lives on ``mesh`` (hashable: a static argument of the
  jitted step). Replicated (``min_size`` None), or FSDP-style: an array with at least
  ``min_size`` elements is split over the ``"data"`` axis along its largest dimension that the
  device count divides (the first such, on ties); the others (and PRNG keys) stay replicated."""

  mesh: Any
  min_size: int | None = None

  def of(self, leaf: Any) -> Any:
    from jax.sharding import NamedSharding, PartitionSpec as P
    shape = tuple(np.shape(leaf))
    n = self.mesh.devices.size
    is_key = isinstance(leaf, jax.Array) and jnp.issubdtype(leaf.dtype, jax.dtypes.prng_key)
    if self.min_size is None or is_key or not shape or int(np.prod(shape)) < self.min_size:
      return NamedSharding(self.mesh, P())
    axes = [i for i, d in enumerate(shape) if d % n == 0]
    if not axes:
      return NamedSharding(self.mesh, P())
    axis = max(axes, key=lambda i: (shape[i], -i))
    return NamedSharding(self.mesh, P(*([None] * axis + ["data"])))

  def tree(self, state: Any) -> Any:
    return jax.tree.map(self.of, state)


def _shard_min_size(shard_params: Any) -> int | None:
  """``shard_params`` (False, True or a minimum size) as a minimum size, or None (replicated)."""
  if isinstance(shard_params, (bool, np.bool_)):
    return SHARD_MIN_SIZE if shard_params else None
  if isinstance(shard_params, (int, np.integer)):
    return _checks.positive_int(shard_params, "shard_params")
  raise TypeError(f"shard_params must be a bool or a minimum array size (int), got {shard_params!r}")


class _Placement:
  """Where a step's arrays go: one device (``mesh is None``), or a 1-D ``"data"`` mesh with the
  batch sharded over it and the state replicated, or with ``shard_params`` its large arrays sharded
  over the same axis (``_StateSharding``). With several processes (``jax.distributed.initialize()``),
  each process's batch is its own part of the global batch."""

  def __init__(self, devices: Any, shard_params: Any = False):
    min_size = _shard_min_size(shard_params)
    if devices is None:
      devs = jax.devices()
    elif isinstance(devices, (int, np.integer)) and not isinstance(devices, bool):
      n = _checks.positive_int(devices, "devices")
      if n > jax.device_count():
        raise ValueError(f"devices must be at most the {jax.device_count()} available, got {n}")
      devs = jax.devices()[:n]
    elif isinstance(devices, Sequence) and all(isinstance(d, jax.Device) for d in devices):
      devs = list(devices)
      if not devs:
        raise ValueError("devices must not be empty")
    else:
      raise TypeError(f"devices must be None, a number of devices or a list of jax.Device, got "
                      f"{devices!r}")
    self.n = len(devs)
    self.multiprocess = jax.process_count() > 1
    if self.n == 1 and not self.multiprocess:
      self.mesh = self.batch = self.replicated = self.sharding = None
      return
    from jax.sharding import AxisType, Mesh, NamedSharding, PartitionSpec as P
    self.mesh = Mesh(np.asarray(devs), ("data",), axis_types=(AxisType.Auto,))
    self.batch = NamedSharding(self.mesh, P("data"))
    self.replicated = NamedSharding(self.mesh, P())
    self.sharding = _StateSharding(self.mesh, min_size)

  def state(self, state: Any) -> Any:
    if self.mesh is None:
      return state
    if not self.multiprocess:
      return jax.device_put(state, self.sharding.tree(state))
    return jax.tree.map(self._global, state)  # the same values in every process

  def _global(self, leaf: Any) -> jax.Array:
    """A global array (replicated, or sharded by ``self.sharding``) from this process's copy of
    ``leaf``: every process holds the same values."""
    if isinstance(leaf, jax.Array) and jnp.issubdtype(leaf.dtype, jax.dtypes.prng_key):
      return jax.random.wrap_key_data(self._global(jax.random.key_data(leaf)),
                                      impl=jax.random.key_impl(leaf))
    a = np.asarray(leaf)
    return jax.make_array_from_callback(a.shape, self.sharding.of(a), lambda idx: a[idx])

  def arrays(self, *arrays: Any) -> tuple[jax.Array, ...]:
    if self.mesh is None:
      return tuple(jnp.asarray(a) for a in arrays)
    if self.multiprocess:
      return tuple(jax.make_array_from_process_local_data(self.batch, np.asarray(a))
                   for a in arrays)
    b = np.shape(arrays[0])[0] if np.ndim(arrays[0]) else 0
    sharding = self.batch if b and b % self.n == 0 else self.replicated  # uneven: replicated
    return tuple(jax.device_put(a, sharding) for a in arrays)


# ---------------------------------------------------------------------------------------------
# Host-side checks.


class _LabelCheck:
  """Checks integer class targets on the host against the model's number of outputs: labels
  outside ``[0, n_classes)`` would give NaN (or, for -1, silently the last class) on device."""

  def __init__(self, forward: Callable, state: Any):
    self.forward, self.state = forward, state
    self.n_classes: int | None = None
    self.checked = False

  def __call__(self, x: Any, y: Any, where: str) -> None:
    dtype = getattr(y, "dtype", None)
    if dtype is None or not np.issubdtype(np.dtype(dtype), np.integer):
      return
    if not self.checked:
      out = jax.eval_shape(self.forward, self.state, jax.ShapeDtypeStruct(
          np.shape(x), getattr(x, "dtype", np.float32)))
      self.state = None
      if len(out.shape) == np.ndim(y) + 1:
        self.n_classes = int(out.shape[-1])
      self.checked = True
    if self.n_classes is None:
      return
    host = np.asarray(y)
    if host.size and (host.min() < 0 or host.max() >= self.n_classes):
      bad = host[(host < 0) | (host >= self.n_classes)].ravel()[0]
      raise ValueError(f"{where}: labels must be class indices in [0, {self.n_classes}) (the "
                       f"model has {self.n_classes} outputs), got {int(bad)}")


class NonFiniteLossError(FloatingPointError, ValueError):
  """``fit`` stopped: a training loss was NaN or inf (a ``FloatingPointError`` and a
  ``ValueError``, so command lines print it as one line)."""


def _finite_or_raise(losses: Sequence[Any], *, epoch: int, step0: int) -> np.ndarray:
  values = np.asarray(jax.device_get(list(losses)), dtype=np.float64)
  bad = np.flatnonzero(~np.isfinite(values))
  if bad.size:
    raise NonFiniteLossError(
        f"fit: the training loss is {values[bad[0]]} at epoch {epoch} (step {step0 + bad[0] + 1});"
        f" training stopped before this epoch was kept: the model holds the parameters after "
        f"epoch {epoch - 1} and no checkpoint was written for epoch {epoch} (lower the learning "
        "rate, check the inputs for NaN/inf, or normalise them)")
  return values


@functools.lru_cache(maxsize=1)
def _default_key() -> jax.Array:
  return jax.random.key(0)


def train_step(model: nnx.Module, optimizer: nnx.Optimizer, x: Any, y: Any, *,
               loss: Any, augment: Callable | None = None, key: Any = None,
               devices: Any = None, shard_params: bool | int = False) -> dict[str, jax.Array]:
  """One jitted optimisation step on a batch; updates ``model`` and ``optimizer`` in place.

  ``loss(model(x), y)`` is differentiated with respect to the ``nnx.Param`` variables and the
  optimizer applies the update; dropout runs in training mode. On several devices the batch is
  sharded over them (when its size divides evenly) and the state replicated, or with
  ``shard_params`` its large arrays sharded over the devices (see :func:`fit`).

  Args:
    model: an ``nnx.Module``.
    optimizer: ``nnx.Optimizer(model, tx, wrt=nnx.Param)``.
    x: input batch.
    y: target batch.
    loss: a callable ``(outputs, targets) -> scalar`` or a name for ``get_loss``.
    augment: optional ``augment(key, x, y) -> (x, y)`` applied on the device before the forward
      pass (see ``jaxdsp.nn.augment``), keyed with ``fold_in(key, optimizer.step)``.
    key: ``jax.random.key`` for ``augment`` (default ``jax.random.key(0)``).
    devices: ``None`` (every device), a number of devices, or a list of ``jax.Device``.
    shard_params: shard the parameters and optimizer state over the devices instead of
      replicating them (see :func:`fit`).

  Returns:
    ``{"loss": scalar}`` plus ``"correct"`` (count of argmax hits) for integer class targets.

  Examples:
    >>> import jax.numpy as jnp, optax
    >>> from flax import nnx
    >>> from jaxdsp.nn import DeepNet
    >>> net = DeepNet(2, [4], 1, rngs=nnx.Rngs(0))
    >>> opt = nnx.Optimizer(net, optax.sgd(0.1), wrt=nnx.Param)
    >>> m = train_step(net, opt, jnp.ones((8, 2)), jnp.ones((8, 1)), loss="mse")
  """
  place = _Placement(devices, shard_params)
  graphdef, state = nnx.split((_mode(model, training=True), optimizer))
  key = _default_key() if key is None else key
  fn = _get_step(_train_step_impl, graphdef, get_loss(loss), augment, place.sharding)
  state, metrics = fn(place.state(state), *place.arrays(x, y), place.state(key))
  nnx.update((model, optimizer), state)
  return metrics


# ---------------------------------------------------------------------------------------------
# Data.


def _is_pair(data: Any) -> bool:
  return (isinstance(data, tuple) and len(data) == 2
          and all(isinstance(a, (np.ndarray, jax.Array)) for a in data))


def _check_data(data: Any, name: str) -> None:
  """A clear error for a pair of arrays that cannot be batched together."""
  if not _is_pair(data):
    return
  x, y = data
  if np.ndim(x) < 1 or np.ndim(y) < 1:
    raise ValueError(f"{name} must be (x, y) arrays with a leading example axis, got shapes "
                     f"{np.shape(x)} and {np.shape(y)}")
  if np.shape(x)[0] != np.shape(y)[0]:
    raise ValueError(f"{name}: x and y must hold the same number of examples (leading axis), got "
                     f"{np.shape(x)[0]} inputs {np.shape(x)} and {np.shape(y)[0]} targets "
                     f"{np.shape(y)}")
  if np.shape(x)[0] == 0:
    raise ValueError(f"{name} must hold at least one example, got shapes {np.shape(x)} and "
                     f"{np.shape(y)}")


def _batches(data: Any, *, epoch: int, batch_size: int, shuffle: bool,
             seed: int) -> Iterator[tuple[Any, Any]]:
  if _is_pair(data):
    x, y = data
    n = np.shape(x)[0]
    order = (np.random.default_rng([seed, epoch]).permutation(n) if shuffle else np.arange(n))
    for i in range(0, n, batch_size):
      idx = order[i:i + batch_size]
      yield x[idx], y[idx]
  elif hasattr(data, "batches"):
    yield from data.batches(epoch=epoch)
  elif isinstance(data, Iterable) and not isinstance(data, (str, bytes, tuple)):
    for batch in data:
      if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
        raise TypeError(f"each batch of an iterable must be a pair (x, y), got "
                        f"{type(batch).__name__}")
      yield batch
  elif isinstance(data, tuple) and all(isinstance(b, (tuple, list)) for b in data):
    yield from data  # a tuple of (x, y) batches
  else:
    raise TypeError("data must be a tuple (x, y) of arrays, an object with a batches(epoch=...) "
                    f"method, or an iterable of (x, y) batches, got {type(data).__name__}")


def _num_batches(data: Any, batch_size: int) -> int | None:
  if _is_pair(data):
    return math.ceil(np.shape(data[0])[0] / batch_size)
  if hasattr(data, "num_batches"):
    return int(data.num_batches)
  try:
    return len(data)
  except TypeError:
    return None


def evaluate(model: nnx.Module, data: Any, *, loss: Any, batch_size: int = 256,
             return_predictions: bool = False, devices: Any = None) -> dict[str, Any]:
  """Loss and accuracy of ``model`` over ``data`` in inference mode (dropout off), jitted.

  No augmentation is applied. On several devices each batch is sharded over them.

  Args:
    model: an ``nnx.Module``.
    data: ``(x, y)`` arrays, an object with ``batches(epoch=...)``, or an iterable of batches.
    loss: a callable ``(outputs, targets) -> scalar`` or a name for ``get_loss``.
    batch_size: batch size when ``data`` is a pair of arrays.
    return_predictions: also return the argmax ``predictions`` and the ``targets`` (NumPy).
    devices: ``None`` (every device), a number of devices, or a list of ``jax.Device``.

  Returns:
    ``{"loss": float, "accuracy": float | None, "n": int}``: the batch losses averaged with
    weights equal to batch sizes (the mean over examples for a ``"mean"``-reduced loss); the
    accuracy is the fraction of argmax hits for integer class targets, ``None`` otherwise.

  Raises:
    ValueError: ``data`` holds no batch, x and y of different lengths, or integer labels outside
      the model's classes.
  """
  batch_size = _checks.positive_int(batch_size, "batch_size")
  _check_data(data, "data")
  loss_fn = get_loss(loss)
  place = _Placement(devices)
  graphdef, state = nnx.split(_mode(model, training=False))
  state = place.state(state)
  check = _LabelCheck(lambda s, x: nnx.merge(graphdef, s)(x), state)
  total, correct, n, has_acc = 0.0, 0, 0, True
  preds, targets = [], []
  eval_step = _get_step(_eval_step_impl, graphdef, loss_fn)
  for x, y in _batches(data, epoch=0, batch_size=batch_size, shuffle=False, seed=0):
    check(x, y, "data")
    x, y = place.arrays(x, y)
    outputs, m = eval_step(state, x, y)
    b = int(y.shape[0]) if y.ndim else 1
    total += float(m["loss"]) * b
    n += b
    if "correct" in m:
      correct += int(m["correct"])
      if return_predictions:
        preds.append(np.asarray(jnp.argmax(outputs, axis=-1)))
        targets.append(np.asarray(y))
    else:
      has_acc = False
  if n == 0:
    raise ValueError("data must hold at least one batch, got none")
  result = {"loss": total / n, "accuracy": correct / n if has_acc else None, "n": n}
  if return_predictions:
    result["predictions"] = np.concatenate(preds) if preds else None
    result["targets"] = np.concatenate(targets) if targets else None
  return result


# ---------------------------------------------------------------------------------------------
# fit.


def fit(model: nnx.Module, train: Any, val: Any = None, *, loss: Any, optimizer: Any = "adam",
        epochs: int, learning_rate: Any = None, param_labels: Any = None, batch_size: int = 32,
        seed: int = 0, shuffle: bool = True, augment: Callable | None = None,
        devices: Any = None, shard_params: bool | int = False, log_dir: Any = None, checkpoint_dir: Any = None,
        max_to_keep: int | None = 3, callbacks: Sequence[Callback] = (),
        class_names: Sequence[str] | None = None, log_every: int = 10,
        progress: bool = True) -> dict[str, list]:
  """Trains ``model`` in place for ``epochs`` epochs; returns the history.

  Each epoch runs the jitted train step over ``train`` (shuffled per epoch from ``seed``), then
  evaluates on ``val``, calls the ``callbacks``, logs to TensorBoard and saves a checkpoint. With
  a ``checkpoint_dir`` that already holds checkpoints, training resumes after the newest intact
  one (model, optimizer state, step, history restored; a corrupt newer step is reported in a
  warning and skipped) and runs the remaining epochs up to ``epochs``; training 2 epochs at once
  or 1 + resume + 1 gives the same parameters. The same ``seed`` (and model initialisation) gives
  the same result on CPU.

  Data parallel: by default the steps run on every device (``jax.devices()``): each batch is
  sharded over a 1-D ``"data"`` mesh (when its size is a multiple of the device count; an uneven
  batch runs replicated), parameters and optimizer state are replicated and the compiler averages
  the gradients. One device changes nothing. After ``jax.distributed.initialize()`` each process
  passes its own part of the data; its batches are its slices of the global batch.

  Sharded state (``shard_params``, FSDP-style): each parameter and optimizer-state array with at
  least ``SHARD_MIN_SIZE`` elements (``shard_params=True``; an int sets the size) is split over
  the same ``"data"`` axis along its largest dimension that the device count divides, instead of
  being replicated, so each device holds a 1/n share; the compiler gathers a parameter where a step
  uses it and reduce-scatters its gradient. Smaller arrays, and arrays no dimension of which the
  device count divides, stay replicated. The result equals the replicated run to float32
  round-off. One device ignores it.

  Non-finite loss: if any batch's loss is NaN or inf, ``fit`` raises ``NonFiniteLossError`` at the
  end of that epoch, before the epoch is kept: the model keeps the previous epoch's parameters and
  no checkpoint is written for it (earlier checkpoints stay intact).

  Args:
    model: an ``nnx.Module`` (trained in place).
    train: training data: ``(x, y)`` arrays, an object with ``batches(epoch=...)``, or an
      iterable of ``(x, y)`` batches (see the module docstring).
    val: validation data of the same kinds, or ``None``.
    loss: a callable ``(outputs, targets) -> scalar`` or a name (``"cross_entropy"``, ``"mse"``,
      ``"l1"``, ``"binary_cross_entropy"``).
    optimizer: anything ``make_optimizer`` takes: a name, an optax ``GradientTransformation``, or
      a mapping ``{label: optimizer}`` for per-group optimizers together with ``param_labels``
      (not an ``nnx.Optimizer``: ``fit`` builds that itself).
    epochs: total number of epochs.
    learning_rate: for named optimizers: a positive number or an optax schedule (``None``: 1e-3).
    param_labels: labels for a mapping ``optimizer`` (e.g. ``label_params({"frontend":
      "frontend"}, default="backbone")``).
    batch_size: batch size when ``train``/``val`` are arrays.
    seed: shuffling seed for array data, and the seed of ``augment``'s key.
    shuffle: shuffle array data each epoch.
    augment: optional on-device augmentation ``augment(key, x, y) -> (x, y)`` run inside the
      jitted train step (never at evaluation), e.g. ``jaxdsp.nn.augment.chain(SpecAugment(...),
      Mixup(...))``; its key is ``fold_in(jax.random.key(seed), optimizer step)``, so a run is
      reproducible from ``seed`` and a resumed run draws what the straight run drew.
    devices: ``None`` (every device), a number of devices, or a list of ``jax.Device``.
    shard_params: ``False`` (replicated state), ``True`` (arrays of at least ``SHARD_MIN_SIZE``
      elements sharded over the devices) or a minimum size in elements (see above).
    log_dir: TensorBoard directory (``None``: no logging). Logged: ``train/loss`` every
      ``log_every`` steps and at the end of every epoch; per epoch ``epoch/loss``,
      ``epoch/accuracy``, ``epoch/val_loss``, ``epoch/val_accuracy``, every callback value under
      ``diagnostics/``, the validation confusion matrix (``val/confusion_matrix``, for class
      targets); and in the first epoch a few training inputs as spectrogram images (inputs
      ``(batch, n_freq, n_frames)``) or audio (inputs ``(batch, n_samples)`` with ``train.sr``
      set).
    checkpoint_dir: orbax checkpoint directory, saved after every epoch (``None``: none).
    max_to_keep: checkpoints kept.
    callbacks: functions ``callback(epoch, model, logs) -> dict | None`` called after each
      epoch (``epoch`` counts from 1, ``logs`` holds this epoch's metrics); returned scalars are
      added to the history and logged (arrays as histograms) — the hook for frontend
      diagnostics.
    class_names: names for the confusion matrix (default: ``val.class_names`` if present).
    log_every: steps between ``train/loss`` points and progress-bar updates.
    progress: show a tqdm progress bar.

  Returns:
    The history: a dict of lists, one entry per epoch: ``epoch``, ``loss``, ``accuracy``,
    ``val_loss``, ``val_accuracy`` (``None`` where not applicable), ``time`` (seconds), and any
    callback keys.

  Raises:
    ValueError: bad ``epochs``, ``batch_size``, ``log_every``, ``shard_params`` or ``learning_rate``; an empty
      ``train``; x and y of different lengths; integer labels outside the model's classes
      (checked on the host); a checkpoint directory holding another model's checkpoints
      (``jaxdsp.nn.CheckpointError``, one line naming the directory and what differs).
    TypeError: an ``nnx.Optimizer`` as ``optimizer`` (pass an optax transformation), or a
      ``shard_params`` that is neither a bool nor an int.
    NonFiniteLossError: (a ``FloatingPointError`` and ``ValueError``) a NaN or inf training
      loss (see above).

  Examples:
    >>> import numpy as np
    >>> from flax import nnx
    >>> from jaxdsp.nn import DeepNet
    >>> x = np.random.default_rng(0).uniform(0, 0.5, (256, 2)).astype(np.float32)
    >>> net = DeepNet(2, [5], 1, rngs=nnx.Rngs(0))
    >>> h = fit(net, (x, x.sum(1, keepdims=True)), loss="mse", optimizer="sgd",
    ...         learning_rate=1.0, epochs=3, progress=False)
    >>> h["loss"][-1] < h["loss"][0]
    True
  """
  epochs = _checks.nonnegative_int(epochs, "epochs")
  batch_size = _checks.positive_int(batch_size, "batch_size")
  log_every = _checks.positive_int(log_every, "log_every")
  _shard_min_size(shard_params)
  if augment is not None and not callable(augment):
    raise TypeError(f"augment must be a callable (key, x, y) -> (x, y), got {augment!r}")
  _check_data(train, "train")
  if val is not None:
    _check_data(val, "val")
  loss_fn = get_loss(loss)
  tx = make_optimizer(optimizer, learning_rate, param_labels=param_labels)
  place = _Placement(devices, shard_params)
  opt = nnx.Optimizer(model, tx, wrt=nnx.Param)
  if class_names is None:
    class_names = getattr(val, "class_names", None)

  history: dict[str, list] = {k: [] for k in
                              ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "time")}
  start = 0
  if checkpoint_dir is not None:
    meta = _resume(checkpoint_dir, model, opt)
    if meta is not None:
      start = int(meta.get("epoch", meta["step"]))
      history.update({k: list(v) for k, v in meta.get("history", {}).items()})

  logger = None
  if log_dir is not None:
    from jaxdsp.nn.logging import TensorBoardLogger
    logger = TensorBoardLogger(log_dir)

  graphdef, state = nnx.split((_mode(model, training=True), opt))
  train_step_fn = _get_step(_train_step_impl, graphdef, loss_fn, augment, place.sharding)
  state = place.state(state)
  key = place.state(jax.random.key(seed))
  check = _LabelCheck(lambda s, x: nnx.merge(graphdef, s)[0](x), state)
  global_step = int(opt.step[...])
  last_logged = None
  try:
    for epoch in range(start, epochs):
      t0 = time.perf_counter()
      n_batches = _num_batches(train, batch_size)
      bar = tqdm(total=n_batches, desc=f"epoch {epoch + 1}/{epochs}", disable=not progress,
                 leave=True, dynamic_ncols=True)
      epoch_state, step0 = state, global_step
      losses, sizes, corrects = [], [], []
      for i, (x, y) in enumerate(_batches(train, epoch=epoch, batch_size=batch_size,
                                          shuffle=shuffle, seed=seed)):
        check(x, y, "train")
        if logger is not None and epoch == 0 and i == 0:
          _log_inputs(logger, np.asarray(x), getattr(train, "sr", None))
        x, y = place.arrays(x, y)
        state, m = train_step_fn(state, x, y, key)
        global_step += 1
        losses.append(m["loss"])
        sizes.append(int(y.shape[0]) if y.ndim else 1)
        corrects.append(m.get("correct"))
        if global_step % log_every == 0:
          value = float(m["loss"])
          bar.set_postfix(loss=f"{value:.4f}")
          if logger is not None:
            logger.scalar("train/loss", value, global_step)
            last_logged = global_step
        bar.update(1)
      if not losses:
        bar.close()
        raise ValueError("train must hold at least one batch, got none")
      try:
        values = _finite_or_raise(losses, epoch=epoch + 1, step0=step0)
      except NonFiniteLossError:
        bar.close()
        nnx.update((model, opt), epoch_state)
        raise
      if logger is not None and last_logged != global_step:  # fewer than log_every steps
        logger.scalar("train/loss", float(values[-1]), global_step)
        last_logged = global_step
      nnx.update((model, opt), state)

      sizes_a = np.asarray(sizes, dtype=np.float64)
      logs: dict[str, Any] = {"epoch": epoch + 1,
                              "loss": float(np.dot(values, sizes_a) / sizes_a.sum())}
      logs["accuracy"] = (float(sum(int(c) for c in corrects) / sizes_a.sum())
                          if all(c is not None for c in corrects) else None)
      val_result = None
      if val is not None:
        val_result = evaluate(model, val, loss=loss_fn, batch_size=batch_size,
                              return_predictions=logger is not None, devices=devices)
        logs["val_loss"], logs["val_accuracy"] = val_result["loss"], val_result["accuracy"]
      else:
        logs["val_loss"] = logs["val_accuracy"] = None
      for cb in callbacks:
        extra = cb(epoch + 1, model, dict(logs))
        if extra:
          logs.update({f"{k}": _to_python(v) for k, v in extra.items()})
      logs["time"] = time.perf_counter() - t0

      n_prev = len(history["epoch"])
      for k, v in logs.items():
        history.setdefault(k, [None] * n_prev)
        history[k].append(v)
      for k in history:  # keys a callback stopped returning
        if len(history[k]) < len(history["epoch"]):
          history[k].append(None)

      bar.set_postfix({k: f"{logs[k]:.4f}" for k in ("loss", "accuracy", "val_loss",
                                                       "val_accuracy") if logs[k] is not None})
      bar.close()
      if logger is not None:
        std = {"loss", "accuracy", "val_loss", "val_accuracy", "time"}
        logger.scalars({k: logs[k] for k in std}, epoch + 1, prefix="epoch/")
        logger.scalars({k: v for k, v in logs.items() if k not in std | {"epoch"}}, epoch + 1,
                       prefix="diagnostics/")
        if val_result is not None and val_result.get("predictions") is not None:
          n_classes = (len(class_names) if class_names is not None
                       else int(max(val_result["targets"].max(), val_result["predictions"].max())
                                + 1))
          logger.confusion_matrix("val/confusion_matrix", val_result["targets"],
                                  val_result["predictions"], epoch + 1, n_classes=n_classes,
                                  class_names=class_names)
        logger.flush()
      if checkpoint_dir is not None:  # every process takes part (orbax coordinates them)
        _ckpt.save_checkpoint(checkpoint_dir, model, opt, step=epoch + 1,
                              metadata={"epoch": epoch + 1, "seed": seed,
                                        "history": _jsonable(history)},
                              max_to_keep=max_to_keep)
  finally:
    if logger is not None:
      logger.close()
  return history


def _resume(directory: Any, model: nnx.Module, opt: nnx.Optimizer) -> dict[str, Any] | None:
  """Restores the newest intact checkpoint of ``directory``; ``None`` if it holds none.

  A corrupt step is reported in a warning and the one before it tried; a checkpoint of another
  model (structure mismatch) is an error, not skipped.
  """
  steps = _ckpt.all_steps(directory)
  errors = []
  for step in reversed(steps):
    try:
      return _ckpt.restore_checkpoint(directory, model, opt, step=step)
    except _ckpt.CheckpointError as e:
      if e.kind == "mismatch":
        raise
      errors.append(str(e))
      warnings.warn(f"{e}; resuming from an earlier step", UserWarning, stacklevel=3)
  if steps:
    raise _ckpt.CheckpointError(directory, None, f"no intact checkpoint among steps {steps} "
                                f"(newest: {errors[0]})", kind="corrupt")
  return None



def _to_python(v: Any) -> Any:
  arr = np.asarray(v)
  if arr.size == 1 and np.issubdtype(arr.dtype, np.number):
    return arr.reshape(()).item()
  return arr


def _jsonable(history: dict[str, list]) -> dict[str, list]:
  """The history without array entries (histograms), for the checkpoint's JSON metadata."""
  out = {}
  for k, v in history.items():
    if all(x is None or isinstance(x, (int, float, str, bool)) for x in v):
      out[k] = list(v)
  return out


def _log_inputs(logger: Any, x: jax.Array, sr: Any, n: int = 3) -> None:
  """Logs the first ``n`` inputs of a batch: spectrogram images or audio clips."""
  x = np.asarray(x)
  if x.ndim == 4 and x.shape[1] == 1:
    x = x[:, 0]
  for i in range(min(n, x.shape[0])):
    if x.ndim == 3:
      logger.spectrogram(f"inputs/example_{i}", x[i], 0)
    elif x.ndim == 2 and sr is not None:
      peak = float(np.max(np.abs(x[i]))) or 1.0
      logger.audio(f"inputs/example_{i}", x[i] / max(peak, 1.0), sr=int(sr), step=0)
