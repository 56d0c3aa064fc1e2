"""Framing, padding, windows and the frame/time/frequency grids.

Layout: time is the last axis and any leading axes are batch axes. ``frame`` returns
``(..., frame_length, n_frames)`` like ``librosa.util.frame``; every framed feature in jaxdsp goes
through the feature core's one framing (``jaxdsp._core``: ``(..., n_frames, frame_length)``,
contiguous frames for the FFT), so the padding rules are written once.

Padding rules (``center``/``pad_mode``), shared by ``stft``, ``rms``, ``zero_crossing_rate``,
``amplitude_envelope`` and ``features``:

* ``center=True`` (librosa): the signal is padded by ``frame_length // 2`` on both sides with
  ``pad_mode`` (``"constant"``, ``"edge"``, ``"reflect"``, ``"symmetric"``, ``"wrap"``); frame ``t``
  is centred on sample ``t * hop_length``.
* ``center=False`` (librosa): no padding, only frames that fit entirely inside the signal.
* ``center=False, pad_mode="wrap"`` (the course's scheme): a frame starts at every sample
  ``0, hop, 2·hop, ... < n``, i.e. ``ceil(n / hop_length)`` frames, and the last ones are filled by
  wrapping around to the start of the signal.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from jaxdsp import _checks
from jaxdsp import _core

PAD_MODES = _core.PAD_MODES
WINDOWS = _core.WINDOWS


# ---------------------------------------------------------------------------------------------
# Windows.


def get_window(window: Any, win_length: int, *, fftbins: bool = True, dtype: Any = jnp.float32) -> jax.Array:
  """Returns a window of ``win_length`` samples.

  Args:
    window: ``"hann"``, ``"hamming"``, ``"blackman"`` or ``"boxcar"`` (aliases ``"rectangular"``,
      ``"ones"``), or an array of length ``win_length`` returned as is.
    win_length: number of samples.
    fftbins: ``True`` for a periodic window (scipy's ``fftbins=True``, librosa's STFT window),
      ``False`` for a symmetric one (``np.hanning``).
    dtype: output dtype.

  Returns:
    ``(win_length,)`` array.

  Raises:
    ValueError: unknown window name, non-positive ``win_length`` or a window array of the wrong
      length.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.get_window("hann", 4).tolist()
    [0.0, 0.5, 1.0, 0.5]

  Compare ``scipy.signal.get_window`` and ``librosa.filters.get_window``.
  """
  win_length = _checks.size(win_length, "win_length")
  dtype = _checks.float_dtype(dtype)
  return jnp.asarray(_core.window_array(window, win_length, fftbins), dtype=dtype)


def pad_center(data: ArrayLike, *, size: int, axis: int = -1) -> jax.Array:
  """Zero-pads ``data`` on both sides of ``axis`` to ``size`` (the extra sample goes right).

  Compare ``librosa.util.pad_center``.

  Args:
    data: array, any shape.
    size: target length along ``axis``, at least ``data.shape[axis]``.
    axis: the axis to pad.

  Returns:
    Array with ``shape[axis] == size``.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.pad_center(jnp.ones(2), size=4).tolist()
    [0.0, 1.0, 1.0, 0.0]
  """
  kind = np.dtype(data.dtype).kind if hasattr(data, "dtype") else np.asarray(data).dtype.kind
  if kind not in "biufc":
    raise TypeError(f"data must be a numeric array, got {data!r:.60}")
  _checks.host_finite(data, "data")
  data = jnp.asarray(data)
  if data.ndim == 0:
    raise ValueError(f"data must have at least 1 dimension, got shape {data.shape}")
  size = _checks.size(size, "size")
  if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or not -data.ndim <= axis < data.ndim:
    raise ValueError(f"axis must be an int in [-{data.ndim}, {data.ndim}) for data of shape {data.shape}, "
                     f"got {axis!r}")
  n = data.shape[axis]
  if size < n:
    raise ValueError(f"size must be at least data.shape[axis]={n}, got {size}")
  lpad = (size - n) // 2
  widths = [(0, 0)] * data.ndim
  widths[axis] = (lpad, size - n - lpad)
  return jnp.pad(data, widths)


# ---------------------------------------------------------------------------------------------
# Frame counting and grids (pure Python / NumPy: static).


def num_frames(n_samples: int, *, frame_length: int = 2048, hop_length: int = 512, center: bool = True,
               pad_mode: str = "constant") -> int:
  """Number of frames a signal of ``n_samples`` gives under the padding rules of this module.

  Args:
    n_samples: signal length.
    frame_length: frame (or ``n_fft``) length.
    hop_length: hop between frame starts.
    center: centre frames (librosa).
    pad_mode: padding mode; with ``center=False``, ``"wrap"`` selects the course's scheme.

  Returns:
    ``1 + (n_padded - frame_length) // hop_length`` (Python int).

  Raises:
    ValueError: when no frame fits (``center=False`` and ``frame_length > n_samples``).

  Examples:
    >>> import jaxdsp as jd
    >>> jd.num_frames(22050, frame_length=2048, hop_length=512)
    44
  """
  n_samples = _checks.size(n_samples, "n_samples")
  frame_length = _checks.size(frame_length, "frame_length")
  hop_length = _checks.size(hop_length, "hop_length")
  _checks.choice(pad_mode, "pad_mode", PAD_MODES)
  left, right = _core.pad_widths(n_samples, frame_length, hop_length, center, pad_mode)
  n_padded = n_samples + left + right
  if n_padded < frame_length:
    raise ValueError(
        f"frame_length={frame_length} is longer than the signal ({n_samples} samples) with "
        "center=False: use center=True, a shorter frame_length, or pad the signal"
    )
  return 1 + (n_padded - frame_length) // hop_length


def fft_frequencies(*, sr: float = 22050, n_fft: int = 2048) -> np.ndarray:
  """Centre frequencies of the ``1 + n_fft // 2`` rfft bins, in Hz (NumPy float64).

  Compare ``librosa.fft_frequencies``.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.fft_frequencies(sr=8, n_fft=4).tolist()
    [0.0, 2.0, 4.0]
  """
  sr = _checks.sample_rate(sr)
  n_fft = _checks.size(n_fft, "n_fft")
  return np.fft.rfftfreq(n_fft, 1.0 / sr)


def frames_to_samples(frames: ArrayLike, *, hop_length: int = 512, n_fft: int | None = None) -> np.ndarray:
  """Frame indices to sample indices: ``frames * hop_length (+ n_fft // 2)``.

  Compare ``librosa.frames_to_samples``.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.frames_to_samples([0, 1, 2], hop_length=512).tolist()
    [0, 512, 1024]
  """
  hop_length = _checks.size(hop_length, "hop_length")
  offset = 0 if n_fft is None else _checks.size(n_fft, "n_fft") // 2
  return (_index_input(frames, "frames") * hop_length + offset).astype(int)


def samples_to_frames(samples: ArrayLike, *, hop_length: int = 512, n_fft: int | None = None) -> np.ndarray:
  """Sample indices to frame indices: ``floor((samples - n_fft // 2) / hop_length)``.

  Compare ``librosa.samples_to_frames``.
  """
  hop_length = _checks.size(hop_length, "hop_length")
  offset = 0 if n_fft is None else _checks.size(n_fft, "n_fft") // 2
  return np.floor((_index_input(samples, "samples") - offset) // hop_length).astype(int)


def frames_to_time(frames: ArrayLike, *, sr: float = 22050, hop_length: int = 512,
                   n_fft: int | None = None) -> np.ndarray:
  """Frame indices to seconds: ``frames_to_samples(frames) / sr``.

  Compare ``librosa.frames_to_time``.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.frames_to_time([0, 43], sr=22050, hop_length=512).round(3).tolist()
    [0.0, 0.998]
  """
  sr = _checks.sample_rate(sr)
  return frames_to_samples(frames, hop_length=hop_length, n_fft=n_fft) / sr


def time_to_frames(times: ArrayLike, *, sr: float = 22050, hop_length: int = 512,
                   n_fft: int | None = None) -> np.ndarray:
  """Seconds to frame indices: ``samples_to_frames(floor(times * sr))``.

  Compare ``librosa.time_to_frames``.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.time_to_frames([0.0, 1.0], sr=22050, hop_length=512).tolist()
    [0, 43]
  """
  sr = _checks.sample_rate(sr)
  samples = (_index_input(times, "times") * sr).astype(int)
  return samples_to_frames(samples, hop_length=hop_length, n_fft=n_fft)


def _index_input(x: Any, name: str) -> np.ndarray:
  """Frame, sample or time values on the host: real and finite (a NaN would become a garbage index)."""
  if isinstance(x, jax.core.Tracer):
    raise TypeError(f"{name} must be concrete (host) values: these conversions return NumPy arrays")
  arr = np.asanyarray(x)
  if arr.dtype.kind not in "biuf":
    raise TypeError(f"{name} must be real numbers, got dtype {arr.dtype}")
  if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
    raise ValueError(f"{name} contains non-finite values (NaN or inf)")
  if np.any(np.abs(arr.astype(np.float64)) > 2.0**62):
    raise ValueError(f"{name} holds values too large to index samples (above 2**62)")
  return arr


# ---------------------------------------------------------------------------------------------
# Framing.


def _frame_input(y: Any) -> jax.Array:
  """``frame``'s input: any numeric array of rank >= 1 (integers keep their dtype, as
  ``librosa.util.frame``, which only slices); host floats are checked finite."""
  if not isinstance(y, jax.Array) and not hasattr(y, "aval"):
    arr = np.asarray(y)
    if arr.dtype.kind in "biu":
      if arr.ndim < 1:
        raise ValueError(f"y must have at least 1 dimension(s), got shape {arr.shape}")
      if arr.shape[-1] == 0:
        raise ValueError(f"y must not be empty, got shape {arr.shape}")
      return jnp.asarray(arr)
  elif jnp.issubdtype(y.dtype, jnp.integer) or y.dtype == jnp.bool_:
    if y.ndim < 1 or y.shape[-1] == 0:
      raise ValueError(f"y must be a non-empty array of rank >= 1, got shape {y.shape}")
    return y
  return _checks.as_signal(y, allow_complex=True)


def frame(y: ArrayLike, *, frame_length: int, hop_length: int) -> jax.Array:
  """Slices a signal into overlapping frames (no padding), librosa's layout.

  ``frames[..., k, t] = y[..., t * hop_length + k]``.

  Args:
    y: ``(..., n_samples)`` signal (real, complex or integer: integers keep their dtype, as librosa).
    frame_length: samples per frame (static int).
    hop_length: samples between frame starts (static int).

  Returns:
    ``(..., frame_length, n_frames)`` with ``n_frames = 1 + (n_samples - frame_length) // hop_length``.

  Raises:
    ValueError: non-positive lengths (or above 2**31 - 1), or ``frame_length`` longer than the signal.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.frame(jnp.arange(6.0), frame_length=4, hop_length=2).tolist()
    [[0.0, 2.0], [1.0, 3.0], [2.0, 4.0], [3.0, 5.0]]

  Compare ``librosa.util.frame``.
  """
  y = _frame_input(y)
  frame_length, hop_length = _core.check_framing(y.shape[-1], frame_length, hop_length, False, "constant")
  return jnp.swapaxes(_core.frames(y, frame_length, hop_length), -1, -2)


