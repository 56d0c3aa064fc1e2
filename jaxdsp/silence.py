"""Silence: trimming leading/trailing silence and splitting a signal into non-silent intervals.

A frame is non-silent when its RMS is within ``top_db`` dB of the reference (the loudest frame by
default). The frame decisions are computed on the device (:func:`nonsilent_frames` works under
``jit``/``vmap``); the interval boundaries depend on the data, so :func:`trim` and :func:`split`
return host NumPy indices and need concrete input (not under ``jit`` or ``grad``). Their gradient
is not defined; to differentiate through a trim, find the interval first and slice inside the loss:
``start, end = jd.trim(y)[1]`` then ``loss(y[..., start:end])``.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from jaxdsp import _checks
from jaxdsp.temporal import rms

_JNP = {np.max: jnp.max, np.amax: jnp.max, np.min: jnp.min, np.amin: jnp.min, np.mean: jnp.mean,
        np.median: jnp.median}


def _reducer(fn: Any, name: str) -> Callable:
  if not callable(fn):
    raise TypeError(f"{name} must be a callable such as np.max, got {fn!r}")
  return _JNP.get(fn, fn)


def nonsilent_frames(y: ArrayLike, *, top_db: float = 60, ref: float | Callable = np.max, frame_length: int = 2048,
                     hop_length: int = 512, aggregate: Callable = np.max) -> jax.Array:
  """Per-frame non-silence: ``20·log10(rms[t] / ref) > -top_db`` (amplitudes floored at 1e-5).

  Args:
    y: ``(n_samples,)`` or ``(channels..., n_samples)`` signal; channels are combined with ``aggregate``
      over their dB values (all leading axes, as librosa).
    top_db: threshold below the reference (dB).
    ref: reference amplitude, or a callable of the RMS array (default ``np.max``: the loudest frame).
    frame_length, hop_length: RMS framing (centred, zero padding).
    aggregate: reduction of the channels' dB values (``np.max`` by default).

  Returns:
    ``(n_frames,)`` bool.

  Raises:
    ValueError: bad lengths, negative ``top_db``, empty ``y``.
    TypeError: non-callable ``aggregate``, integer ``y``.

  Examples:
    >>> import jaxdsp as jd
    >>> y = jnp.concatenate([jnp.zeros(4096), jnp.ones(4096), jnp.zeros(4096)])
    >>> jd.nonsilent_frames(y, frame_length=1024, hop_length=1024).astype(int).tolist()
    [0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0]
  """
  y = _checks.as_signal(y)
  top_db = _checks.positive_number(top_db, "top_db", allow_zero=True)
  aggregate = _reducer(aggregate, "aggregate")
  mse = rms(y, frame_length=frame_length, hop_length=hop_length)
  ref_value = _reducer(ref, "ref")(mse) if callable(ref) else _checks.positive_number(ref, "ref", allow_zero=True)
  db = 20.0 * jnp.log10(jnp.maximum(1e-5, mse)) - 20.0 * jnp.log10(jnp.maximum(1e-5, ref_value))
  if db.ndim > 1:
    db = aggregate(db, axis=tuple(range(db.ndim - 1)))
  return db > -top_db


def trim(y: ArrayLike, *, top_db: float = 60, ref: float | Callable = np.max, frame_length: int = 2048,
         hop_length: int = 512, aggregate: Callable = np.max) -> tuple[jax.Array, np.ndarray]:
  """Trims leading and trailing silence (see :func:`nonsilent_frames`).

  Runs on the host boundary: the frame mask is computed on the device, the interval
  ``[start, end)`` in samples is a host NumPy array (concrete input only, not under ``jit``).

  Args:
    y: ``(..., n_samples)`` signal.
    top_db, ref, frame_length, hop_length, aggregate: see :func:`nonsilent_frames`.

  Returns:
    ``(y[..., start:end], np.array([start, end]))``; ``start = end = 0`` when all is silent.

  Raises:
    ValueError: as :func:`nonsilent_frames`; traced ``y``.

  Examples:
    >>> import jaxdsp as jd
    >>> y = jnp.concatenate([jnp.zeros(4096), jnp.ones(4096), jnp.zeros(4096)])
    >>> yt, idx = jd.trim(y, frame_length=1024, hop_length=1024)
    >>> yt.shape, idx.tolist()
    ((5120,), [4096, 9216])

  Compare ``librosa.effects.trim`` (equal intervals).
  """
  y = _host_ready(y)
  mask = np.asarray(nonsilent_frames(y, top_db=top_db, ref=ref, frame_length=frame_length, hop_length=hop_length,
                                     aggregate=aggregate))
  nonzero = np.flatnonzero(mask)
  if nonzero.size:
    start = int(nonzero[0] * hop_length)
    end = min(y.shape[-1], int((nonzero[-1] + 1) * hop_length))
  else:
    start, end = 0, 0
  return y[..., start:end], np.asarray([start, end])


def split(y: ArrayLike, *, top_db: float = 60, ref: float | Callable = np.max, frame_length: int = 2048,
          hop_length: int = 512, aggregate: Callable = np.max) -> np.ndarray:
  """Splits a signal into non-silent intervals (see :func:`nonsilent_frames`), on the host.

  Args:
    y: ``(..., n_samples)`` signal (concrete, not traced).
    top_db, ref, frame_length, hop_length, aggregate: see :func:`nonsilent_frames`.

  Returns:
    ``(n_intervals, 2)`` NumPy int array of ``[start, end)`` sample indices.

  Raises:
    ValueError: as :func:`nonsilent_frames`; traced ``y``.

  Examples:
    >>> import jaxdsp as jd
    >>> y = jnp.concatenate([jnp.ones(4096), jnp.zeros(8192), jnp.ones(4096)])
    >>> jd.split(y, frame_length=1024, hop_length=1024).tolist()
    [[0, 5120], [12288, 16384]]

  Compare ``librosa.effects.split`` (equal intervals).
  """
  y = _host_ready(y)
  non_silent = np.asarray(nonsilent_frames(y, top_db=top_db, ref=ref, frame_length=frame_length,
                                           hop_length=hop_length, aggregate=aggregate)).astype(int)
  edges = [np.flatnonzero(np.diff(non_silent)) + 1]
  if non_silent[0]:
    edges.insert(0, np.array([0]))
  if non_silent[-1]:
    edges.append(np.array([len(non_silent)]))
  edges = np.minimum(np.concatenate(edges) * hop_length, y.shape[-1])
  return edges.reshape((-1, 2)).astype(int)


def _host_ready(y: Any) -> jax.Array:
  if isinstance(y, jax.core.Tracer):
    raise ValueError("y must be concrete: trim and split return host indices and cannot run under jit or grad "
                     "(use nonsilent_frames there, or slice y with the indices found beforehand)")
  return _checks.as_signal(y)
