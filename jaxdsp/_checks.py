"""Trace-time argument checks shared by every public function.

Each helper raises a ``ValueError`` (bad value, shape or choice) or a ``TypeError`` (bad dtype)
whose message names the argument and says what was expected and what came in. They look only at
Python values, shapes and dtypes, so they run once at trace time and never under ``jit``'s hood.
Sample values (NaN, inf) are checked only for host data (NumPy arrays, lists), where the check is
free; device arrays are never pulled back to the host.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

import jax
import jax.numpy as jnp
import numpy as np


INT32_MAX = 2**31 - 1  # JAX indexes arrays with int32: no length, hop or padded size may exceed it


def as_signal(y: Any, name: str = "y", *, min_ndim: int = 1, allow_complex: bool = False,
              allow_int: bool = False) -> jax.Array:
  """Returns ``y`` as a floating ``jax.Array`` after checking dtype, rank, size and finiteness.

  Integer and boolean input is refused for audio (librosa's ``valid_audio`` refuses it too: scale PCM
  to [-1, 1] first); with ``allow_int`` (spectrograms, dB values: librosa casts them) it is cast to
  the default float dtype. float16/bfloat16/float32 stay as they are computed in float32; float64
  stays float64 only when x64 is enabled (JAX's own rule).
  """
  host = isinstance(y, (np.ndarray, list, tuple, float, int, np.generic))
  if isinstance(y, jax.Array) or hasattr(y, "aval"):
    dtype = y.dtype
  else:
    try:
      y = np.asarray(y)
    except Exception as e:  # pragma: no cover - exotic inputs
      raise TypeError(f"{name} must be an array of floats, got {type(y).__name__}") from e
    dtype = y.dtype
  if jnp.issubdtype(dtype, jnp.complexfloating):
    if not allow_complex:
      raise TypeError(f"{name} must be a real floating-point array, got dtype {dtype}")
  elif allow_int and (jnp.issubdtype(dtype, jnp.integer) or dtype == np.bool_):
    y = jnp.asarray(y).astype(jnp.result_type(float))
    dtype = y.dtype
  elif not jnp.issubdtype(dtype, jnp.floating):
    raise TypeError(
        f"{name} must be a floating-point array (convert it: scale integer PCM to [-1, 1] first), got dtype {dtype}"
    )
  if np.ndim(y) < min_ndim:
    raise ValueError(f"{name} must have at least {min_ndim} dimension(s), got shape {np.shape(y)}")
  if np.ndim(y) and np.shape(y)[-1] == 0:
    raise ValueError(f"{name} must not be empty, got shape {np.shape(y)}")
  if host:
    arr = np.asarray(y)
    if not np.all(np.isfinite(arr)):
      raise ValueError(f"{name} contains non-finite values (NaN or inf)")
  y = jnp.asarray(y)
  if y.dtype in (jnp.float16, jnp.bfloat16):
    y = y.astype(jnp.float32)
  return y


def positive_int(value: Any, name: str, *, allow_none: bool = False) -> int | None:
  """Checks that ``value`` is a positive Python int (static under jit)."""
  if value is None and allow_none:
    return None
  if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
    raise ValueError(f"{name} must be a positive int, got {value!r}")
  return int(value)


def size(value: Any, name: str, *, allow_none: bool = False) -> int | None:
  """A positive int that fits JAX's int32 indexing (a length, hop or count of samples)."""
  value = positive_int(value, name, allow_none=allow_none)
  if value is not None and value > INT32_MAX:
    raise ValueError(f"{name} must be at most 2**31 - 1 (JAX indexes with int32), got {value}")
  return value


def host_finite(x: Any, name: str) -> None:
  """Refuses NaN/inf in host data (NumPy arrays, lists, Python numbers); device and traced arrays
  are not scanned (that would pull them to the host)."""
  if isinstance(x, (jax.Array, jax.core.Tracer)) or hasattr(x, "aval"):
    return
  try:
    arr = np.asarray(x)
  except Exception:  # pylint: disable=broad-except
    return
  if arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
    raise ValueError(f"{name} contains non-finite values (NaN or inf)")


def numbers(x: Any, name: str, *, allow_complex: bool = False) -> None:
  """Refuses anything but numbers (bool, int or float; complex with ``allow_complex``) in ``x``, and NaN/inf
  in host data: the check of functions that take numbers of any dtype (frequencies, indices, a
  ``fix_length`` input) and keep their NumPy-or-JAX type, so they cannot use :func:`as_signal`."""
  if isinstance(x, (jax.Array, jax.core.Tracer)) or hasattr(x, "aval"):
    dtype = x.dtype
  else:
    try:
      dtype = np.asarray(x).dtype
    except Exception as e:  # pylint: disable=broad-except  # ragged lists and other non-arrays
      raise TypeError(f"{name} must be an array of numbers, got {type(x).__name__}") from e
  ok = dtype == np.bool_ or jnp.issubdtype(dtype, jnp.integer) or jnp.issubdtype(dtype, jnp.floating)
  if not ok and not (allow_complex and jnp.issubdtype(dtype, jnp.complexfloating)):
    kind = "numbers" if allow_complex else "real numbers"
    raise TypeError(f"{name} must hold {kind}, got dtype {dtype}")
  host_finite(x, name)


def count(value: Any, name: str) -> int:
  """A non-negative int that fits JAX's int32 (an iteration count, a loop bound)."""
  value = nonnegative_int(value, name)
  if value > INT32_MAX:
    raise ValueError(f"{name} must be at most 2**31 - 1 (JAX counts with int32), got {value}")
  return value


def float_dtype(dtype: Any, name: str = "dtype") -> Any:
  """A floating dtype (``jnp.float32``, ``np.float64``, ...): integer dtypes would round filters and
  windows to zeros."""
  try:
    ok = jnp.issubdtype(np.dtype(dtype), jnp.floating)
  except TypeError:
    ok = False
  if not ok:
    raise TypeError(f"{name} must be a floating dtype such as jnp.float32, got {dtype!r}")
  return dtype


def nonnegative_int(value: Any, name: str) -> int:
  if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
    raise ValueError(f"{name} must be a non-negative int, got {value!r}")
  return int(value)


def sample_rate(sr: Any, name: str = "sr") -> float:
  """Checks a sample rate: a positive, finite Python number."""
  if isinstance(sr, bool) or not isinstance(sr, (int, float, np.integer, np.floating)):
    raise TypeError(f"{name} must be a positive finite number (a Python scalar), got {sr!r}")
  if not math.isfinite(sr) or sr <= 0:
    raise ValueError(f"{name} must be a positive finite number, got {sr!r}")
  return float(sr)


def positive_number(value: Any, name: str, *, allow_zero: bool = False) -> float:
  if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
    raise TypeError(f"{name} must be a real number, got {value!r}")
  ok = value >= 0 if allow_zero else value > 0
  if not math.isfinite(value) or not ok:
    bound = "non-negative" if allow_zero else "positive"
    raise ValueError(f"{name} must be a {bound} finite number, got {value!r}")
  return float(value)


def real_number(value: Any, name: str) -> float:
  """A finite real Python (or NumPy) scalar, as a float."""
  if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not math.isfinite(value):
    raise TypeError(f"{name} must be a finite real number (a Python scalar), got {value!r}")
  return float(value)


def p_norm(value: Any, name: str = "norm") -> float | None:
  """A p-norm order (a positive number; ``np.inf`` for the maximum) or ``None``."""
  if value is None:
    return None
  if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not value > 0:
    raise ValueError(f"{name} must be a positive number (1, 2, np.inf) or None, got {value!r}")
  return float(value)


def flag(value: Any, name: str) -> bool:
  """A bool (Python or NumPy)."""
  if not isinstance(value, (bool, np.bool_)):
    raise TypeError(f"{name} must be a bool, got {value!r}")
  return bool(value)


def choice(value: Any, name: str, allowed: Iterable[Any]) -> Any:
  allowed = tuple(allowed)
  if value not in allowed:
    raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
  return value


def ndim_at_least(x: jax.Array, n: int, name: str) -> None:
  if x.ndim < n:
    raise ValueError(f"{name} must have at least {n} dimensions, got shape {x.shape}")
