"""Checkpoints with orbax: model + optimizer state + step (+ JSON metadata), and resuming.

A checkpoint directory holds numbered checkpoints (``<dir>/<step>/``) managed by
``orbax.checkpoint.CheckpointManager`` (the newest ``max_to_keep`` are kept). Each stores
``nnx.state((model, optimizer))`` — parameters, every other variable (dropout RNG counters, batch
statistics) and the optax state with its step count — plus a JSON dict of metadata.
"""

from __future__ import annotations

import os
from typing import Any

import jax
import orbax.checkpoint as ocp
from flax import nnx

from jaxdsp import _checks

__all__ = ["latest_step", "restore_checkpoint", "save_checkpoint"]


def _manager(directory: str | os.PathLike, max_to_keep: int | None = None,
             create: bool = True) -> ocp.CheckpointManager:
  directory = os.path.abspath(os.fspath(directory))
  options = ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=create)
  return ocp.CheckpointManager(directory, options=options)


def _targets(model: nnx.Module, optimizer: nnx.Optimizer | None) -> Any:
  return model if optimizer is None else (model, optimizer)


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
  """
  step = _checks.nonnegative_int(step, "step")
  state = nnx.state(_targets(model, optimizer))
  with _manager(directory, max_to_keep) as mgr:
    mgr.save(step, args=ocp.args.Composite(state=ocp.args.StandardSave(state),
                                            metadata=ocp.args.JsonSave(dict(metadata or {}))),
             force=True)
    mgr.wait_until_finished()
    return os.path.join(os.fspath(mgr.directory), str(step))


def latest_step(directory: str | os.PathLike) -> int | None:
  """The newest checkpoint number in ``directory``, or ``None`` if there is none."""
  if not os.path.isdir(directory):
    return None
  with _manager(directory, create=False) as mgr:
    return mgr.latest_step()


def restore_checkpoint(directory: str | os.PathLike, model: nnx.Module,
                       optimizer: nnx.Optimizer | None = None, *,
                       step: int | None = None) -> dict[str, Any]:
  """Restores a checkpoint into ``model`` (and ``optimizer``) in place.

  The model and optimizer must have the structure of the saved ones (build them as before, then
  restore). Their current arrays serve as the target shapes and dtypes.

  Args:
    directory: the checkpoint directory.
    model: the ``nnx.Module`` to fill.
    optimizer: its ``nnx.Optimizer``, if one was saved with it.
    step: which checkpoint; ``None`` takes the newest.

  Returns:
    The stored metadata dict, with ``"step"`` set to the restored checkpoint number.

  Raises:
    FileNotFoundError: no checkpoint (or not that ``step``) in ``directory``.
  """
  target = _targets(model, optimizer)
  if not os.path.isdir(directory):
    raise FileNotFoundError(f"directory holds no checkpoint: {os.fspath(directory)!r}")
  with _manager(directory, create=False) as mgr:
    steps = mgr.all_steps()
    if step is None:
      step = mgr.latest_step()
    if step is None or step not in steps:
      raise FileNotFoundError(f"no checkpoint {'' if step is None else step} in "
                              f"{os.fspath(directory)!r} (found steps {sorted(steps)})")
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, nnx.state(target))
    restored = mgr.restore(step, args=ocp.args.Composite(
        state=ocp.args.StandardRestore(abstract), metadata=ocp.args.JsonRestore()))
  nnx.update(target, restored.state)
  metadata = dict(restored.metadata or {})
  metadata["step"] = int(step)
  return metadata
