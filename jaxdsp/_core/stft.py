"""The STFT of the core: windows, the checked STFT settings (:class:`StftSpec`), the framed FFT,
and the one resolver of "``y`` or ``S``".

Layout: the framed FFT returns chunks frequency last ``(c, n_frames, n_freq)``; public spectra are
``(..., n_freq, n_frames)``.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import warnings
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxdsp import _checks
from jaxdsp._core import chunking
from jaxdsp._core import framing

def find_stacklevel() -> int:
  """The ``stacklevel`` pointing a warning at the first frame outside the jaxdsp package (and JAX)."""
  import inspect  # pylint: disable=import-outside-toplevel
  pkg = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  frame, level = inspect.currentframe(), 0
  while frame is not None:
    fname = frame.f_code.co_filename
    if not (fname.startswith(pkg) or f"{os.sep}jax{os.sep}" in fname or f"{os.sep}jaxlib{os.sep}" in fname):
      break
    frame, level = frame.f_back, level + 1
  return max(level, 1)


WINDOWS = ("hann", "hamming", "blackman", "boxcar", "rectangular", "ones")


@functools.lru_cache(maxsize=64)
def window_np(window: str, win_length: int, fftbins: bool) -> np.ndarray:
  n = win_length
  if window in ("boxcar", "rectangular", "ones"):
    return np.ones(n)
  if n == 1:
    return np.ones(1)
  # Periodic windows (fftbins=True) are the first n points of a symmetric window of n + 1.
  m = n + 1 if fftbins else n
  k = np.arange(n)
  x = 2.0 * np.pi * k / (m - 1)
  if window == "hann":
    return 0.5 - 0.5 * np.cos(x)
  if window == "hamming":
    return 0.54 - 0.46 * np.cos(x)
  if window == "blackman":
    return 0.42 - 0.5 * np.cos(x) + 0.08 * np.cos(2.0 * x)
  raise AssertionError(window)  # unreachable: checked by the caller


def window_array(window: Any, win_length: int, fftbins: bool = True) -> np.ndarray:
  """NumPy (float64) window, built from static arguments; arrays pass through."""
  if isinstance(window, str):
    _checks.choice(window, "window", WINDOWS)
    return window_np(window, win_length, fftbins)
  if isinstance(window, tuple) or callable(window):
    raise ValueError(f"window must be one of {WINDOWS} or an array, got {window!r}")
  try:
    arr = np.asarray(window, dtype=np.float64)
  except (TypeError, ValueError) as e:
    raise TypeError(f"window must be one of {WINDOWS} or a real array, got {window!r}") from e
  if arr.shape != (win_length,):
    raise ValueError(f"window array must have shape ({win_length},), got {arr.shape}")
  if not np.all(np.isfinite(arr)):
    raise ValueError("window contains non-finite values (NaN or inf)")
  return arr


def padded_window(window: Any, win_length: int, n_fft: int) -> np.ndarray:
  win = window_array(window, win_length, True)
  lpad = (n_fft - win_length) // 2
  return np.pad(win, (lpad, n_fft - win_length - lpad))



@dataclasses.dataclass(frozen=True)
class StftSpec:
  """Checked, static STFT (or framing) settings: hashable, so a static argument of ``jit``.

  Time-domain features frame with ``frame_length = n_fft`` and the same hop, centring and padding.
  """

  n_fft: int
  hop_length: int
  win_length: int
  center: bool
  pad_mode: str

  @classmethod
  def checked(cls, n: int, *, n_fft: Any, hop_length: Any = None, win_length: Any = None, center: Any = True,
              pad_mode: Any = "constant", length_name: str = "n_fft") -> "StftSpec":
    """Validates the arguments for a signal of ``n`` samples and fills in librosa's defaults
    (``win_length = n_fft``, ``hop_length = win_length // 4``)."""
    n_fft = _checks.size(n_fft, length_name)
    win_length = n_fft if win_length is None else _checks.size(win_length, "win_length")
    if win_length > n_fft:
      raise ValueError(f"win_length must be <= {length_name}={n_fft}, got {win_length}")
    if hop_length is None:
      hop_length = win_length // 4
      if hop_length == 0:
        raise ValueError(f"hop_length must be a positive int, got {hop_length} (win_length // 4)")
    n_fft, hop_length = framing.check_framing(n, n_fft, hop_length, center, pad_mode, length_name=length_name)
    if length_name == "n_fft" and center and n_fft > n:  # librosa.stft warns alike
      warnings.warn(f"n_fft={n_fft} is too large for the input signal of length {n} (center=True pads it "
                    "with mostly padding)", UserWarning, stacklevel=find_stacklevel())
    return cls(n_fft, hop_length, win_length, bool(center), pad_mode)

  def window(self, window: Any, dtype: Any) -> jax.Array:
    """The analysis window padded to ``n_fft`` in ``dtype``: built in NumPy for names; arrays
    (which may be traced, e.g. learnable) pass through."""
    if isinstance(window, str):
      return jnp.asarray(padded_window(window, self.win_length, self.n_fft), dtype=dtype)
    if isinstance(window, tuple) or callable(window):
      raise ValueError(f"window must be one of {WINDOWS} or an array, got {window!r}")
    _checks.host_finite(window, "window")
    try:
      win = jnp.asarray(window, dtype=dtype)
    except (TypeError, ValueError) as e:
      raise TypeError(f"window must be one of {WINDOWS} or a real array, got {window!r}") from e
    if win.shape != (self.win_length,):
      raise ValueError(f"window array must have shape ({self.win_length},), got {win.shape}")
    left = (self.n_fft - self.win_length) // 2
    return jnp.pad(win, (left, self.n_fft - self.win_length - left))

  @property
  def n_freq(self) -> int:
    return self.n_fft // 2 + 1


def stft_frames(segments: jax.Array, window: jax.Array, n_fft: int, hop_length: int) -> jax.Array:
  """The STFT of padded segments, ``(c, samples) -> (c, n_frames, n_freq)`` (frequency last)."""
  return jnp.fft.rfft(chunking.segment_frames(segments, n_fft, hop_length) * window, axis=-1)


def y_or_S(y: Any, S: Any) -> None:
  """The one rule for functions that take a signal or a spectrogram: exactly one of them."""
  if y is not None and S is not None:
    raise ValueError("pass either y or S, not both")
  if y is None and S is None:
    raise ValueError("one of y or S is required")


def spectrum(S: Any, *, name: str = "S", allow_complex: bool = False, nonnegative: bool = True) -> jax.Array:
  """A given spectrogram ``(..., n_freq, n_frames)`` checked: rank >= 2, finite and (for magnitudes
  and powers, ``nonnegative``) without negative entries when it is host data. Traced or device
  input is not scanned: negative entries there give the formulas' values (documented)."""
  host = isinstance(S, (np.ndarray, list, tuple, np.generic))
  S = _checks.as_signal(S, name, min_ndim=2, allow_complex=allow_complex, allow_int=True)
  if host and nonnegative and not jnp.iscomplexobj(S) and np.any(np.asarray(S) < 0):
    raise ValueError(f"{name} must be non-negative (a magnitude or power spectrogram), got a minimum of "
                     f"{np.asarray(S).min()!r}")
  return S


def next_fast_len(n: int) -> int:
  """The smallest ``m >= n`` whose prime factors are 2, 3 and 5 (a size XLA's FFT handles fast)."""
  best = 1 << max(0, (n - 1).bit_length())
  p5 = 1
  while p5 < best:
    p35 = p5
    while p35 < best:
      m = p35
      while m < n:
        m *= 2
      best = min(best, m)
      p35 *= 3
    p5 *= 5
  return best
