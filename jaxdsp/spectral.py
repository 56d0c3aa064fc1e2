"""The STFT family: ``stft``, ``istft``, ``spectrogram`` and dB scaling.

Layout: signals ``(..., n_samples)``; spectra ``(..., n_freq, n_frames)`` with
``n_freq = 1 + n_fft // 2`` (librosa's layout). Every STFT in jaxdsp is the one ``_stft_frames``
here, applied through :func:`jaxdsp._chunking.map_frames` (cache-sized chunks on CPU).
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from jaxdsp import _checks
from jaxdsp import _chunking
from jaxdsp import _ops
from jaxdsp import framing


# ---------------------------------------------------------------------------------------------
# STFT.


def _stft_args(n: int, n_fft: Any, hop_length: Any, win_length: Any, center: Any, pad_mode: Any):
  """Validates and fills in the STFT's static arguments (librosa's defaults)."""
  n_fft = _checks.positive_int(n_fft, "n_fft")
  win_length = n_fft if win_length is None else _checks.positive_int(win_length, "win_length")
  if win_length > n_fft:
    raise ValueError(f"win_length must be <= n_fft={n_fft}, got {win_length}")
  hop_length = win_length // 4 if hop_length is None else hop_length
  if hop_length == 0:
    raise ValueError(f"hop_length must be a positive int, got {hop_length} (win_length // 4)")
  framing._check_framing(n, n_fft, hop_length, center, pad_mode, length_name="n_fft")
  return n_fft, int(hop_length), win_length


def _window(window: Any, win_length: int, n_fft: int, dtype: Any = jnp.float32) -> jax.Array:
  """The analysis window padded to ``n_fft`` in ``dtype``: built in NumPy for names; arrays (which
  may be traced, e.g. learnable) pass through."""
  if isinstance(window, str):
    return jnp.asarray(framing._padded_window(window, win_length, n_fft), dtype=dtype)
  win = jnp.asarray(window, dtype=dtype)
  if win.shape != (win_length,):
    raise ValueError(f"window array must have shape ({win_length},), got {win.shape}")
  return framing.pad_center(win, size=n_fft)


def _stft_frames(segments: jax.Array, window: jax.Array, n_fft: int, hop_length: int) -> jax.Array:
  """The STFT of padded segments, ``(c, samples) -> (c, n_frames, n_freq)`` (frequency last)."""
  return jnp.fft.rfft(_chunking.segment_frames(segments, n_fft, hop_length) * window, axis=-1)


def _frequency_first(S: jax.Array) -> jax.Array:
  """``(c, t, F) -> (c, F, t)``: the public layout, frame axis last."""
  return jnp.swapaxes(S, -1, -2)


def _spectrum(y: jax.Array, window: jax.Array, *, n_fft: int, hop_length: int, center: bool, pad_mode: str,
              power: float | None) -> jax.Array:
  """``(..., n) -> (..., n_freq, n_frames)``: the complex STFT (``power=None``) or ``|STFT|**power``,
  computed in cache-sized chunks of frames (:func:`jaxdsp._chunking.map_frames`); arguments checked."""
  return _spectrum_reduce(y, window, (), reduce=_frequency_first, static=(), n_fft=n_fft, hop_length=hop_length,
                          center=center, pad_mode=pad_mode, power=power)


def stft(y: ArrayLike, *, n_fft: int = 2048, hop_length: int | None = None, win_length: int | None = None,
         window: Any = "hann", center: bool = True, pad_mode: str = "constant") -> jax.Array:
  """Short-time Fourier transform.

  ``D[..., f, t] = Σ_k w[k] · y_pad[..., t·hop_length + k] · exp(-2πi·f·k / n_fft)`` with ``w`` the
  (periodic) window zero-padded to ``n_fft`` and ``y_pad`` the signal padded by ``n_fft // 2`` on
  both sides when ``center`` (see :mod:`jaxdsp.framing` for the padding rules).

  Args:
    y: ``(..., n_samples)`` real signal.
    n_fft: FFT size (static).
    hop_length: hop between frames; default ``win_length // 4``.
    win_length: window length ``<= n_fft``; default ``n_fft``.
    window: window name (``"hann"``, ``"hamming"``, ``"blackman"``, ``"boxcar"``) or a
      ``(win_length,)`` array (may be traced, e.g. a learnable window).
    center: centre frames on ``t · hop_length``.
    pad_mode: padding mode for ``center`` (``"constant"`` by default, as librosa 0.11).

  Returns:
    ``(..., 1 + n_fft // 2, n_frames)`` complex64 (complex128 for float64 input under x64).

  Raises:
    ValueError: bad lengths, unknown window or pad mode, ``n_fft`` longer than the signal when
      ``center=False``, empty signal.
    TypeError: integer or complex input.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.stft(jnp.zeros(4096), n_fft=1024).shape
    (513, 17)

  Compare ``librosa.stft`` (matches it to float32 round-off).
  """
  y = _checks.as_signal(y)
  n_fft, hop_length, win_length = _stft_args(y.shape[-1], n_fft, hop_length, win_length, center, pad_mode)
  win = _window(window, win_length, n_fft, y.dtype)
  return _spectrum(y, win, n_fft=n_fft, hop_length=hop_length, center=bool(center), pad_mode=pad_mode, power=None)


@functools.partial(jax.jit, static_argnames=("n_fft", "hop_length", "center", "length"))
def _istft(D: jax.Array, window: jax.Array, *, n_fft: int, hop_length: int, center: bool, length: int) -> jax.Array:
  frames = jnp.fft.irfft(jnp.swapaxes(D, -1, -2), n=n_fft, axis=-1) * window
  y = framing._overlap_add(frames, hop_length)
  # librosa's window_sumsquare: the same overlap-add applied to the squared window.
  wss = framing._overlap_add(jnp.broadcast_to(window * window, frames.shape[-2:]), hop_length)
  tiny = jnp.finfo(y.dtype).tiny
  y = jnp.where(wss > tiny, y / jnp.where(wss > tiny, wss, 1), y)
  start = n_fft // 2 if center else 0
  y = y[..., start : start + length]
  if y.shape[-1] < length:
    y = jnp.pad(y, [(0, 0)] * (y.ndim - 1) + [(0, length - y.shape[-1])])
  return y


def istft(stft_matrix: ArrayLike, *, hop_length: int | None = None, win_length: int | None = None,
          n_fft: int | None = None, window: Any = "hann", center: bool = True,
          length: int | None = None) -> jax.Array:
  """Inverse STFT by weighted overlap-add (Griffin & Lim 1984, section 2).

  ``y[n] = Σ_t w[n - t·hop] · irfft(D[:, t])[n - t·hop] / Σ_t w²[n - t·hop]`` (where the
  denominator is non-zero), then the ``center`` padding is removed.

  Args:
    stft_matrix: ``(..., 1 + n_fft // 2, n_frames)`` complex STFT.
    hop_length: default ``win_length // 4``.
    win_length: default ``n_fft``.
    n_fft: default ``2 · (n_freq - 1)``.
    window: as in :func:`stft`.
    center: whether the frames were centred.
    length: if given, the output is cut or zero-padded to exactly ``length`` samples (perfect
      reconstruction of ``stft(y)`` with ``length=len(y)``).

  Returns:
    ``(..., length)`` real signal.

  Examples:
    >>> import jaxdsp as jd
    >>> y = jnp.sin(jnp.arange(4000) / 7.0)
    >>> bool(jnp.allclose(jd.istft(jd.stft(y, n_fft=512), length=4000), y, atol=1e-5))
    True

  Compare ``librosa.istft``.
  """
  D = jnp.asarray(stft_matrix)
  if D.ndim < 2:
    raise ValueError(f"stft_matrix must have shape (..., n_freq, n_frames), got {D.shape}")
  if not jnp.iscomplexobj(D):
    D = D.astype(jnp.result_type(D.dtype, jnp.complex64))
  n_fft = 2 * (D.shape[-2] - 1) if n_fft is None else _checks.positive_int(n_fft, "n_fft")
  if n_fft // 2 + 1 != D.shape[-2]:
    raise ValueError(f"n_fft={n_fft} does not match stft_matrix's n_freq={D.shape[-2]}")
  win_length = n_fft if win_length is None else _checks.positive_int(win_length, "win_length")
  if win_length > n_fft:
    raise ValueError(f"win_length must be <= n_fft={n_fft}, got {win_length}")
  hop_length = _checks.positive_int(win_length // 4 if hop_length is None else hop_length, "hop_length")
  n_frames = D.shape[-1]
  if length is not None:
    length = _checks.positive_int(length, "length")
    padded = length + 2 * (n_fft // 2) if center else length
    n_frames = min(n_frames, -(-padded // hop_length))
    D = D[..., :n_frames]
  else:
    length = n_fft + hop_length * (n_frames - 1) - (2 * (n_fft // 2) if center else 0)
  real = D.real.dtype
  win = _window(window, win_length, n_fft, real)
  return _istft(D, win, n_fft=n_fft, hop_length=hop_length, center=bool(center), length=length)


@functools.partial(jax.jit, static_argnames=("reduce", "static", "n_fft", "hop_length", "center", "pad_mode",
                                             "power"))
def _spectrum_reduce(y, window, args, *, reduce, static, n_fft, hop_length, center, pad_mode, power):
  """``reduce(|STFT|**power, *args, *static)`` chunk by chunk (frequency-last ``(c, t, F)`` chunks;
  the complex STFT itself for ``power=None``)."""
  def chunk(segments):
    S = _stft_frames(segments, window, n_fft, hop_length)
    if power is not None:
      S = _ops.safe_pow(_ops.abs2(S), power / 2)
    return reduce(S, *args, *static)
  return _chunking.map_frames(chunk, y, n_fft, hop_length, center, pad_mode)


def _spectrum_input(y, S, n_fft):
  """``(y, S, n_freq)``: exactly one of ``y`` and ``S``, checked and converted once (host input is
  scanned for NaN and moved to the device here only), and the number of frequency bins it gives."""
  if (y is None) == (S is None):
    raise ValueError("pass either y or S, not both" if S is not None else "one of y or S is required")
  if S is not None:
    S = _checks.as_signal(S, "S", min_ndim=2)
    return None, S, S.shape[-2]
  return _checks.as_signal(y), None, _checks.positive_int(n_fft, "n_fft") // 2 + 1


def _reduce_magnitude(y, S, reduce, args=(), static=(), *, n_fft, hop_length, win_length, window, center,
                      pad_mode, power):
  """``reduce(S_tf, *args, *static)`` with ``S_tf`` the frequency-last ``(..., n_frames, n_freq)``
  spectrum: ``|stft(y)|**power``, or the given ``S`` transposed.

  ``reduce`` (a module-level function: it is a static argument) treats frames independently and
  returns arrays with the frame axis last; ``args`` are arrays that do not depend on the frame (bin
  frequencies, a filterbank). From ``y`` the reduction runs chunk by chunk with the STFT
  (:func:`jaxdsp._chunking.map_frames`), so the whole spectrum is never held nor transposed.
  """
  y, S, _ = _spectrum_input(y, S, n_fft)
  if S is not None:
    return reduce(jnp.swapaxes(S, -1, -2), *args, *static)
  n_fft, hop_length, win_length = _stft_args(y.shape[-1], n_fft, hop_length, win_length, center, pad_mode)
  win = _window(window, win_length, n_fft, y.dtype)
  return _spectrum_reduce(y, win, tuple(args), reduce=reduce, static=tuple(static), n_fft=n_fft,
                          hop_length=hop_length, center=bool(center), pad_mode=pad_mode, power=power)


def _magnitude_tf(y, S, *, n_fft, hop_length, win_length, window, center, pad_mode, power):
  """``|stft(y)|**power`` in the internal frequency-last layout ``(..., n_frames, n_freq)``.

  A given spectrogram ``S`` (``(..., n_freq, n_frames)``, already magnitude/power) is transposed,
  as is one computed here, so reductions over frequency run along the contiguous axis.
  """
  if S is not None:
    if y is not None:
      raise ValueError("pass either y or S, not both")
    S = _checks.as_signal(S, "S", min_ndim=2)
    return jnp.swapaxes(S, -1, -2)
  if y is None:
    raise ValueError("one of y or S is required")
  y = _checks.as_signal(y)
  n_fft, hop_length, win_length = _stft_args(y.shape[-1], n_fft, hop_length, win_length, center, pad_mode)
  win = _window(window, win_length, n_fft, y.dtype)
  S = _spectrum(y, win, n_fft=n_fft, hop_length=hop_length, center=bool(center), pad_mode=pad_mode, power=power)
  return jnp.swapaxes(S, -1, -2)


def spectrogram(y: ArrayLike, *, n_fft: int = 2048, hop_length: int | None = None, win_length: int | None = None,
                window: Any = "hann", center: bool = True, pad_mode: str = "constant",
                power: float = 1.0) -> jax.Array:
  """Magnitude (``power=1``) or power (``power=2``) spectrogram, ``|stft(y)| ** power``.

  Unlike ``jnp.abs``, the magnitude has a finite (zero) gradient on silent bins.

  Args:
    y: ``(..., n_samples)`` signal.
    n_fft, hop_length, win_length, window, center, pad_mode: as in :func:`stft`.
    power: exponent, > 0.

  Returns:
    ``(..., 1 + n_fft // 2, n_frames)`` real.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.spectrogram(jnp.zeros(4096), n_fft=1024, power=2.0).shape
    (513, 17)

  Compare ``librosa.core.spectrum._spectrogram`` / ``torchaudio.transforms.Spectrogram``.
  """
  power = _checks.positive_number(power, "power")
  y = _checks.as_signal(y)
  n_fft, hop_length, win_length = _stft_args(y.shape[-1], n_fft, hop_length, win_length, center, pad_mode)
  win = _window(window, win_length, n_fft, y.dtype)
  return _spectrum(y, win, n_fft=n_fft, hop_length=hop_length, center=bool(center), pad_mode=pad_mode,
                   power=power)


# ---------------------------------------------------------------------------------------------
# Decibels.


def _reference(S: jax.Array, ref: Any) -> jax.Array:
  """``ref`` as an array broadcastable to ``S``; callables reduce over the last two axes."""
  if callable(ref):
    if ref in (np.max, np.amax, jnp.max, jnp.amax):
      ref = jnp.max
    axes = (-2, -1) if S.ndim >= 2 else (-1,)
    try:
      return ref(S, axis=axes, keepdims=True)
    except TypeError:
      return ref(S)
  return jnp.asarray(ref, dtype=S.dtype)


def power_to_db(S: ArrayLike, *, ref: Any = 1.0, amin: float = 1e-10, top_db: float | None = 80.0) -> jax.Array:
  """Power spectrogram to decibels.

  ``S_db = 10·log10(max(amin, S)) - 10·log10(max(amin, |ref|))``, then, if ``top_db`` is set,
  ``S_db = max(S_db, max(S_db) - top_db)`` where the maximum is taken per example over the last two
  axes (the last axis for 1-D input), so a batch gives the same result as each signal alone. For a
  single signal this equals librosa, whose maximum is global.

  Args:
    S: ``(..., n_freq, n_frames)`` non-negative power.
    ref: scalar/array reference, or a callable such as ``jnp.max`` (or ``np.max``) applied per
      example over the last two axes.
    amin: floor, > 0.
    top_db: dynamic range in dB below the per-example peak, or ``None``.

  Returns:
    Same shape as ``S``.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.power_to_db(jnp.array([1.0, 0.1, 1e-12])).tolist()
    [0.0, -10.0, -80.0]

  Compare ``librosa.power_to_db``.
  """
  S = _checks.as_signal(S, "S")
  amin = _checks.positive_number(amin, "amin")
  if top_db is not None:
    top_db = _checks.positive_number(top_db, "top_db", allow_zero=True)
  ref_value = jnp.abs(_reference(S, ref))
  log_spec = 10.0 * jnp.log10(jnp.maximum(amin, S)) - 10.0 * jnp.log10(jnp.maximum(amin, ref_value))
  if top_db is not None:
    axes = (-2, -1) if S.ndim >= 2 else (-1,)
    peak = jnp.max(log_spec, axis=axes, keepdims=True)
    log_spec = jnp.maximum(log_spec, peak - top_db)
  return log_spec


def amplitude_to_db(S: ArrayLike, *, ref: Any = 1.0, amin: float = 1e-5, top_db: float | None = 80.0) -> jax.Array:
  """Amplitude (magnitude) spectrogram to decibels: ``power_to_db(|S|², ref=|ref|², amin=amin²)``.

  Args:
    S: ``(..., n_freq, n_frames)`` magnitudes (complex input is taken in absolute value).
    ref: as in :func:`power_to_db`, in amplitude units.
    amin: floor in amplitude units, > 0.
    top_db: as in :func:`power_to_db` (per example).

  Returns:
    Same shape as ``S``: ``20·log10(max(amin, |S|) / |ref|)`` clipped to ``top_db``.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.amplitude_to_db(jnp.array([1.0, 0.1])).tolist()
    [0.0, -20.0]

  Compare ``librosa.amplitude_to_db``.
  """
  S = _checks.as_signal(S, "S", allow_complex=True)
  amin = _checks.positive_number(amin, "amin")
  power = _ops.abs2(S)
  if callable(ref):
    ref_power = _ops.abs2(_reference(_ops.safe_abs(S), ref))
  else:
    ref_power = _ops.abs2(jnp.asarray(ref, dtype=power.dtype))
  return power_to_db(power, ref=ref_power, amin=amin * amin, top_db=top_db)


def db_to_power(S_db: ArrayLike, *, ref: Any = 1.0) -> jax.Array:
  """Decibels to power: ``ref · 10^(S_db / 10)``. Compare ``librosa.db_to_power``.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.db_to_power(jnp.array([0.0, -10.0])).tolist()
    [1.0, 0.10000000149011612]
  """
  S_db = _checks.as_signal(S_db, "S_db")
  return jnp.asarray(ref, dtype=S_db.dtype) * jnp.power(10.0, 0.1 * S_db)


def db_to_amplitude(S_db: ArrayLike, *, ref: Any = 1.0) -> jax.Array:
  """Decibels to amplitude: ``ref · 10^(S_db / 20)``. Compare ``librosa.db_to_amplitude``.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.db_to_amplitude(jnp.array([0.0, -20.0])).tolist()
    [1.0, 0.10000000149011612]
  """
  S_db = _checks.as_signal(S_db, "S_db")
  return jnp.asarray(ref, dtype=S_db.dtype) * jnp.power(10.0, 0.05 * S_db)
