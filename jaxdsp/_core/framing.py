"""Framing primitives of the core: padding widths, padding, framing, frame reductions, overlap-add.

The padding rules (``center``/``pad_mode``) are written once here and used by every framed feature;
:mod:`jaxdsp.framing` documents them for users. Arguments are assumed checked unless a function
says it checks them (``check_framing``).
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxdsp import _checks

PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")
# frame_reduce combines at most this many hop-sized block results per frame (beyond it, e.g.
# frame_length=2**24 with hop 512, the unrolled combination took minutes to trace).
_MAX_BLOCKS = 64


def pad_widths(n: int, frame_length: int, hop_length: int, center: bool, pad_mode: str) -> tuple[int, int]:
  if center:
    return frame_length // 2, frame_length // 2
  if pad_mode == "wrap":
    n_frames = -(-n // hop_length)
    return 0, max(0, (n_frames - 1) * hop_length + frame_length - n)
  return 0, 0


def check_framing(n: int, frame_length: Any, hop_length: Any, center: Any, pad_mode: Any,
                   length_name: str = "frame_length") -> tuple[int, int]:
  frame_length = _checks.size(frame_length, length_name)
  hop_length = _checks.size(hop_length, "hop_length")
  if not isinstance(center, (bool, np.bool_)):
    raise TypeError(f"center must be a bool, got {center!r}")
  _checks.choice(pad_mode, "pad_mode", PAD_MODES)
  left, right = pad_widths(n, frame_length, hop_length, bool(center), pad_mode)
  if n + left + right > _checks.INT32_MAX:  # checked before anything is allocated
    raise ValueError(f"{length_name}={frame_length} is too large: the padded signal would hold {n + left + right} "
                     "samples, more than JAX's int32 indexing allows (2**31 - 1)")
  if n + left + right < frame_length:
    raise ValueError(
        f"{length_name}={frame_length} is longer than the signal ({n} samples) with center=False: "
        f"use center=True, a shorter {length_name}, or pad the signal"
    )
  return frame_length, hop_length


def pad(y: jax.Array, left: int, right: int, pad_mode: str) -> jax.Array:
  if left == 0 and right == 0:
    return y
  widths = [(0, 0)] * (y.ndim - 1) + [(left, right)]
  return jnp.pad(y, widths, mode=pad_mode)


def frames(y: jax.Array, frame_length: int, hop_length: int, center: bool = False,
            pad_mode: str = "constant") -> jax.Array:
  """Pads per the module's rules and frames: ``(..., n) -> (..., n_frames, frame_length)``.

  Arguments are assumed checked. One gather with a static index matrix: on a whole, memory-bound
  batch on CPU it beats building the frames from shifted block slices
  (``jaxdsp._chunking.segment_frames``, which wins on cache-sized chunks).
  """
  left, right = pad_widths(y.shape[-1], frame_length, hop_length, center, pad_mode)
  y = pad(y, left, right, pad_mode)
  n_frames = 1 + (y.shape[-1] - frame_length) // hop_length
  return y[..., frame_index(n_frames, frame_length, hop_length)]


@functools.lru_cache(maxsize=64)
def frame_index(n_frames: int, frame_length: int, hop_length: int) -> np.ndarray:
  idx = np.arange(frame_length, dtype=np.int32)[None, :] + hop_length * np.arange(n_frames, dtype=np.int32)[:, None]
  idx.setflags(write=False)
  return idx


def frame_reduce(y: jax.Array, frame_length: int, hop_length: int, center: bool, pad_mode: str,
                  op: str) -> jax.Array:
  """Per-frame ``op`` (``"sum"`` or ``"max"``) of the padded signal's frames, never materialised.

  ``lax.reduce_window`` reduces hop-sized blocks and, when ``hop_length`` divides ``frame_length``,
  each frame combines its ``frame_length // hop_length`` block results (O(n) instead of
  O(n · frame_length / hop)); otherwise the window is the whole frame. On XLA:CPU this measured 7×
  faster than reducing a reshaped ``(..., blocks, hop)`` array. A sum's zero (``"constant"``)
  padding is reduce_window's own padding, so the signal is not copied. Arguments are assumed checked.
  """
  left, right = pad_widths(y.shape[-1], frame_length, hop_length, center, pad_mode)
  n_frames = 1 + (y.shape[-1] + left + right - frame_length) // hop_length
  # NumPy scalars keep the init concrete, so JAX picks its differentiable sum/max window primitives.
  if op == "sum":
    init, combine = np.zeros((), y.dtype), jax.lax.add
  else:
    init, combine = np.array(-np.inf, y.dtype), jax.lax.max
  if not (op == "sum" and pad_mode == "constant"):
    y, left = pad(y, left, right, pad_mode), 0
  r, rem = divmod(frame_length, hop_length)
  if r > _MAX_BLOCKS:  # combining that many block results would unroll r slices: reduce whole frames
    rem = 1
  window, n_out = (frame_length, n_frames) if rem else (hop_length, n_frames + r - 1)
  right = max(0, (n_out - 1) * hop_length + window - y.shape[-1] - left)
  lead = (1,) * (y.ndim - 1)
  out = jax.lax.reduce_window(y, init, combine, lead + (window,), lead + (hop_length,),
                              [(0, 0)] * (y.ndim - 1) + [(left, right)])[..., :n_out]
  if rem:
    return out
  frames = out[..., :n_frames]
  for j in range(1, r):
    frames = combine(frames, out[..., j : j + n_frames])
  return frames


def overlap_add(frames: jax.Array, hop_length: int) -> jax.Array:
  """Overlap-adds ``(..., n_frames, frame_length)`` into ``(..., frame_length + hop·(n_frames-1))``."""
  *batch, n_frames, frame_length = frames.shape
  n = frame_length + hop_length * (n_frames - 1)
  if frame_length % hop_length == 0:
    r = frame_length // hop_length
    blocks = frames.reshape(*batch, n_frames, r, hop_length)
    out = jnp.zeros((*batch, n_frames + r - 1, hop_length), frames.dtype)
    for j in range(r):
      out = out.at[..., j : j + n_frames, :].add(blocks[..., :, j, :])
    return out.reshape(*batch, n)
  idx = frame_index(n_frames, frame_length, hop_length).ravel()
  out = jnp.zeros((*batch, n), frames.dtype)
  return out.at[..., idx].add(frames.reshape(*batch, -1))
