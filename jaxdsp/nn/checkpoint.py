"""Checkpoints with orbax: model and optimizer state + step + JSON metadata, verified on restore.

A checkpoint directory holds numbered checkpoints (``<dir>/<step>/``) managed by
``orbax.checkpoint.CheckpointManager`` (the newest ``max_to_keep`` are kept). Each stores the
model's ``nnx.state`` (parameters, every other variable: dropout RNG counters, batch statistics)
and, when given, the optimizer's (the optax state with its step count) as two separate items, so
that either the model alone or the model with its optimizer can be restored. A JSON metadata item
holds the user's metadata together with each item's structure (paths, shapes, dtypes) and a
SHA-256 checksum of its arrays: on restore a structure mismatch is reported in one line naming the
directory and what differs, before orbax reads anything, and the restored arrays are verified
against the checksum, so flipped bytes are detected instead of restored silently.

Any problem reading a checkpoint raises ``CheckpointError`` (a ``ValueError``) with a one-line
message naming the directory and the step; ``fit`` resumes from the newest intact step.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp
from flax import nnx

from jaxdsp import _checks

__all__ = ["CheckpointError", "latest_step", "restore_checkpoint", "save_checkpoint"]

_FORMAT = 2  # 1: one "state" item holding (model, optimizer); 2: "model" and "optimizer" items


class CheckpointError(ValueError):
  """A checkpoint cannot be used: unreadable, corrupt (checksum), or not the model's structure.

  Attributes:
    directory: the checkpoint directory.
    step: the checkpoint number (``None``: the directory as a whole).
    kind: ``"corrupt"`` (unreadable or failing its checksum) or ``"mismatch"`` (another
      model's or optimizer's structure).
  """

  def __init__(self, directory: Any, step: int | None, what: str, *, kind: str = "corrupt"):
    self.directory, self.step, self.kind = os.fspath(directory), step, kind
    where = f"checkpoint {self.directory!r}" + ("" if step is None else f" step {step}")
    super().__init__(" ".join(f"{where}: {what}".split()))


def _manager(directory: str | os.PathLike, max_to_keep: int | None = None,
             create: bool = True) -> ocp.CheckpointManager:
  directory = os.path.abspath(os.fspath(directory))
  options = ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=create)
  return ocp.CheckpointManager(directory, options=options)


def _path_str(path: Any) -> str:
  parts = []
  for k in path:
    for attr in ("key", "name", "idx"):
      if hasattr(k, attr):
        parts.append(str(getattr(k, attr)))
        break
    else:
      parts.append(str(k))
  return "/".join(parts)


def _host(x: Any) -> np.ndarray:
  if isinstance(x, jax.Array):
    if jnp.issubdtype(x.dtype, jax.dtypes.prng_key):
      x = jax.random.key_data(x)
    if not x.is_fully_addressable:  # replicated over processes: this process's copy
      x = x.addressable_data(0)
  return np.asarray(x)


def _structure(state: Any) -> dict[str, list]:
  """``{path: [shape, dtype]}`` of a state's array leaves."""
  out = {}
  for path, leaf in jax.tree_util.tree_flatten_with_path(state)[0]:
    out[_path_str(path)] = [list(np.shape(leaf)), str(leaf.dtype)]
  return out


def _checksum(state: Any) -> str:
  h = hashlib.sha256()
  for path, leaf in jax.tree_util.tree_flatten_with_path(state)[0]:
    a = np.ascontiguousarray(_host(leaf))
    h.update(f"{_path_str(path)}|{a.dtype}|{a.shape}|".encode())
    h.update(a.tobytes())
  return h.hexdigest()


def save_checkpoint(directory: str | os.PathLike, model: nnx.Module,
                    optimizer: nnx.Optimizer | None = None, *, step: int,
                    metadata: dict[str, Any] | None = None, max_to_keep: int | None = 3) -> str:
  """Saves ``model`` (and ``optimizer``) state as checkpoint ``step`` and waits until written.

  Args:
    directory: the checkpoint directory (created if missing).
    model: an ``nnx.Module``.
    optimizer: its ``nnx.Optimizer`` (optional).
    step: checkpoint number (e.g. the epoch or the optimizer step), a non-negative int.
    metadata: JSON-serialisable dict stored alongside (epoch, history, seed, ...).
    max_to_keep: how many of the newest checkpoints to keep (``None``: all).

  Returns:
    The path of the written checkpoint.

  Examples:
    >>> import tempfile
    >>> from flax import nnx
    >>> from jaxdsp.nn import DeepNet
    >>> d = tempfile.mkdtemp()
    >>> _ = save_checkpoint(d, DeepNet(2, [3], 1, rngs=nnx.Rngs(0)), step=1, metadata={"epoch": 1})
    >>> restore_checkpoint(d, DeepNet(2, [3], 1, rngs=nnx.Rngs(1)))
    {'epoch': 1, 'step': 1}
  """
  step = _checks.nonnegative_int(step, "step")
  items = {"model": nnx.state(model)}
  if optimizer is not None:
    items["optimizer"] = nnx.state(optimizer)
  info = {"format": _FORMAT, "user": dict(metadata or {}),
          "structure": {k: _structure(v) for k, v in items.items()},
          "checksum": {k: _checksum(v) for k, v in items.items()}}
  args = {k: ocp.args.StandardSave(v) for k, v in items.items()}
  with _manager(directory, max_to_keep) as mgr:
    if step in mgr.all_steps():  # e.g. a corrupt step that fit resumed before: replace it
      mgr.delete(step)
    mgr.save(step, args=ocp.args.Composite(metadata=ocp.args.JsonSave(info), **args), force=True)
    mgr.wait_until_finished()
    return os.path.join(os.fspath(mgr.directory), str(step))


def latest_step(directory: str | os.PathLike) -> int | None:
  """The newest checkpoint number in ``directory``, or ``None`` if there is none."""
  steps = all_steps(directory)
  return steps[-1] if steps else None


def all_steps(directory: str | os.PathLike) -> list[int]:
  """Every checkpoint number in ``directory``, ascending (empty if there is none)."""
  if not os.path.isdir(directory):
    return []
  with _manager(directory, create=False) as mgr:
    return sorted(int(s) for s in mgr.all_steps())


def _diff(directory: Any, step: int, item: str, saved: dict[str, list],
          wanted: dict[str, list]) -> None:
  """Raises ``CheckpointError`` naming what differs between two structures, if anything."""
  if saved == wanted:
    return
  missing = [p for p in wanted if p not in saved]
  extra = [p for p in saved if p not in wanted]
  changed = [p for p in wanted if p in saved and saved[p] != wanted[p]]
  parts = []
  if changed:
    p = changed[0]
    parts.append(f"{len(changed)} array(s) differ, e.g. {p}: saved shape {tuple(saved[p][0])} "
                 f"{saved[p][1]}, here {tuple(wanted[p][0])} {wanted[p][1]}")
  if missing:
    parts.append(f"{len(missing)} array(s) here are not in the checkpoint, e.g. {missing[0]}")
  if extra:
    parts.append(f"{len(extra)} saved array(s) are not here, e.g. {extra[0]}")
  raise CheckpointError(directory, step, f"the {item} does not match the saved one: "
                        + "; ".join(parts) + " (build it as when it was saved, or use another "
                        "directory)", kind="mismatch")


def _read(mgr: ocp.CheckpointManager, directory: Any, step: int, args: dict) -> Any:
  try:
    with warnings.catch_warnings():
      warnings.simplefilter("ignore")
      return mgr.restore(step, args=ocp.args.Composite(**args))
  except CheckpointError:
    raise
  except Exception as e:  # noqa: BLE001 - orbax/tensorstore/json errors become one line
    first = str(e).strip().splitlines()[0] if str(e).strip() else ""
    raise CheckpointError(directory, step, f"cannot be read ({type(e).__name__}: "
                          f"{first[:200]})") from e


def restore_checkpoint(directory: str | os.PathLike, model: nnx.Module,
                       optimizer: nnx.Optimizer | None = None, *,
                       step: int | None = None) -> dict[str, Any]:
  """Restores a checkpoint into ``model`` (and ``optimizer``) in place, verifying it.

  The model (and optimizer) must have the structure of the saved ones (build them as before, then
  restore); their current arrays serve as the target shapes and dtypes. The model alone can be
  restored from a checkpoint saved with an optimizer. Nothing is changed unless the whole restore
  succeeds.

  Args:
    directory: the checkpoint directory.
    model: the ``nnx.Module`` to fill.
    optimizer: its ``nnx.Optimizer``, if one was saved with it (``None``: the model alone).
    step: which checkpoint; ``None`` takes the newest.

  Returns:
    The stored metadata dict, with ``"step"`` set to the restored checkpoint number.

  Raises:
    FileNotFoundError: no checkpoint (or not that ``step``) in ``directory``.
    CheckpointError: (a ``ValueError``) the checkpoint is unreadable, fails its checksum, holds no
      optimizer state, or does not match the model's (optimizer's) structure; the one-line
      message names the directory, the step and what differs.

  Examples:
    >>> import tempfile, optax
    >>> from flax import nnx
    >>> from jaxdsp.nn import DeepNet
    >>> d, net = tempfile.mkdtemp(), DeepNet(2, [3], 1, rngs=nnx.Rngs(0))
    >>> _ = save_checkpoint(d, net, nnx.Optimizer(net, optax.adam(1e-3), wrt=nnx.Param), step=5)
    >>> restore_checkpoint(d, DeepNet(2, [3], 1, rngs=nnx.Rngs(1)))["step"]  # the model alone
    5
    >>> try:
    ...   restore_checkpoint(d, DeepNet(2, [4], 1, rngs=nnx.Rngs(1)))
    ... except CheckpointError as e:
    ...   print(type(e).__name__, e.kind)
    CheckpointError mismatch
  """
  if not os.path.isdir(directory):
    raise FileNotFoundError(f"directory holds no checkpoint: {os.fspath(directory)!r}")
  with _manager(directory, create=False) as mgr:
    steps = sorted(int(s) for s in mgr.all_steps())
    if step is None:
      step = steps[-1] if steps else None
    if step is None or step not in steps:
      raise FileNotFoundError(f"no checkpoint {'' if step is None else step} in "
                              f"{os.fspath(directory)!r} (found steps {steps})")
    info = _read(mgr, directory, step, {"metadata": ocp.args.JsonRestore()}).metadata
    if not isinstance(info, dict):
      raise CheckpointError(directory, step, "its metadata is not a JSON object")
    if info.get("format") != _FORMAT:
      return _restore_v1(mgr, directory, step, model, optimizer, info)
    targets = {"model": model}
    if optimizer is not None:
      if "optimizer" not in info.get("structure", {}):
        raise CheckpointError(directory, step, "holds no optimizer state (saved without an "
                              "optimizer); restore the model alone", kind="mismatch")
      targets["optimizer"] = optimizer
    states = {k: nnx.state(v) for k, v in targets.items()}
    for k, v in states.items():
      _diff(directory, step, k, info["structure"].get(k, {}), _structure(v))
    abstract = {k: ocp.args.StandardRestore(jax.tree.map(ocp.utils.to_shape_dtype_struct, v))
                for k, v in states.items()}
    restored = _read(mgr, directory, step, abstract)
  for k in targets:
    got = _checksum(restored[k])
    if got != info.get("checksum", {}).get(k):
      raise CheckpointError(directory, step, f"the {k} arrays fail their checksum (the data "
                            "changed after it was written: corrupt or tampered)")
  for k, target in targets.items():
    nnx.update(target, restored[k])
  metadata = dict(info.get("user") or {})
  metadata["step"] = int(step)
  return metadata


def _restore_v1(mgr: ocp.CheckpointManager, directory: Any, step: int, model: nnx.Module,
                optimizer: nnx.Optimizer | None, info: Any) -> dict[str, Any]:
  """Checkpoints of jaxdsp before format 2: one ``state`` item, no checksum."""
  if optimizer is None:
    raise CheckpointError(directory, step, "is in the old one-item format, which restores only "
                          "together with its optimizer; pass the optimizer", kind="mismatch")
  target = (model, optimizer)
  abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, nnx.state(target))
  restored = _read(mgr, directory, step, {"state": ocp.args.StandardRestore(abstract)})
  nnx.update(target, restored.state)
  metadata = dict(info or {})
  metadata["step"] = int(step)
  return metadata
