"""The STFT family: ``stft``, ``istft``, ``spectrogram`` and dB scaling.

Layout: signals ``(..., n_samples)``; spectra ``(..., n_freq, n_frames)`` with
``n_freq = 1 + n_fft // 2`` (librosa's layout). Every STFT in jaxdsp is the one of the feature core
(:mod:`jaxdsp._core`), which computes it in cache-sized chunks of frames on CPU.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from jaxdsp import _checks
from jaxdsp import _ops
from jaxdsp import _core


# ---------------------------------------------------------------------------------------------
# STFT.


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
    ValueError: bad lengths (also above 2**31 - 1, checked before allocating), unknown window or pad
      mode, ``n_fft`` longer than the signal when ``center=False``, empty signal, NaN/inf in a host
      signal or window array.
    TypeError: integer or complex input.

  Warns:
    UserWarning: ``n_fft`` longer than the signal with ``center=True`` (as librosa), once per call.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.stft(jnp.zeros(4096), n_fft=1024).shape
    (513, 17)

  Compare ``librosa.stft`` (matches it to float32 round-off).
  """
  return _core.feature("stft", y, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                       window=window, center=center, pad_mode=pad_mode, options={})


@functools.partial(jax.jit, static_argnames=("n_fft", "hop_length", "center", "length"))
def _istft(D: jax.Array, window: jax.Array, *, n_fft: int, hop_length: int, center: bool, length: int) -> jax.Array:
  frames = jnp.fft.irfft(jnp.swapaxes(D, -1, -2), n=n_fft, axis=-1) * window
  y = _core.overlap_add(frames, hop_length)
  # librosa's window_sumsquare: the same overlap-add applied to the squared window.
  wss = _core.overlap_add(jnp.broadcast_to(window * window, frames.shape[-2:]), hop_length)
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

  Raises:
    ValueError: rank below 2, NaN/inf in a host ``stft_matrix``, bad or mismatched lengths (also
      above 2**31 - 1).

  Returns:
    ``(..., length)`` real signal.

  Examples:
    >>> import jaxdsp as jd
    >>> y = jnp.sin(jnp.arange(4000) / 7.0)
    >>> bool(jnp.allclose(jd.istft(jd.stft(y, n_fft=512), length=4000), y, atol=1e-5))
    True

  Compare ``librosa.istft``.
  """
  if np.ndim(stft_matrix) < 2:
    raise ValueError(f"stft_matrix must have shape (..., n_freq, n_frames), got {np.shape(stft_matrix)}")
  D = _checks.as_signal(stft_matrix, "stft_matrix", min_ndim=2, allow_complex=True, allow_int=True)
  if not jnp.iscomplexobj(D):
    D = D.astype(jnp.result_type(D.dtype, jnp.complex64))
  if D.shape[-2] < 2 and n_fft is None:
    raise ValueError(f"stft_matrix must have at least 2 frequency bins to infer n_fft, got shape {D.shape}")
  n_fft = 2 * (D.shape[-2] - 1) if n_fft is None else _checks.size(n_fft, "n_fft")
  if n_fft // 2 + 1 != D.shape[-2]:
    raise ValueError(f"n_fft={n_fft} does not match stft_matrix's n_freq={D.shape[-2]}")
  win_length = n_fft if win_length is None else _checks.size(win_length, "win_length")
  if win_length > n_fft:
    raise ValueError(f"win_length must be <= n_fft={n_fft}, got {win_length}")
  hop_length = _checks.size(win_length // 4 if hop_length is None else hop_length, "hop_length")
  if not isinstance(center, (bool, np.bool_)):
    raise TypeError(f"center must be a bool, got {center!r}")
  n_frames = D.shape[-1]
  if length is not None:
    length = _checks.size(length, "length")
    padded = length + 2 * (n_fft // 2) if center else length
    n_frames = min(n_frames, -(-padded // hop_length))
    D = D[..., :n_frames]
  else:
    length = n_fft + hop_length * (n_frames - 1) - (2 * (n_fft // 2) if center else 0)
    if length <= 0:
      raise ValueError(f"stft_matrix has too few frames ({n_frames}) for a centred signal: pass length=")
  if n_fft + hop_length * (n_frames - 1) > _checks.INT32_MAX:
    raise ValueError(f"hop_length={hop_length} is too large: the output would exceed 2**31 - 1 samples")
  real = D.real.dtype
  win = _core.StftSpec(n_fft, hop_length, win_length, bool(center), "constant").window(window, real)
  return _istft(D, win, n_fft=n_fft, hop_length=hop_length, center=bool(center), length=length)


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
  return _core.feature("spectrogram", y, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                       window=window, center=center, pad_mode=pad_mode, options={"power": power})


# ---------------------------------------------------------------------------------------------
# Decibels.


def _db_input(S: Any, fn: str) -> jax.Array:
  """The input of a dB conversion: 0-d and integer input cast to float (as librosa's ``np.asarray``);
  complex input taken in magnitude with a warning (the phase is discarded, as librosa warns)."""
  S = _checks.as_signal(S, "S", min_ndim=0, allow_complex=True, allow_int=True)
  if jnp.iscomplexobj(S):
    warnings.warn(f"{fn} was called on complex input, so the phase is discarded: pass abs(S) (or abs(S)**2 to "
                  "power_to_db) to silence this warning", UserWarning, stacklevel=_core.find_stacklevel())
    S = _ops.safe_abs(S)
  return S


def _call_ref(ref: Callable, *args, **kwargs) -> Any:
  """``ref(*args, **kwargs)``; a failure other than the ``TypeError`` of unknown keywords names ``ref``."""
  try:
    return ref(*args, **kwargs)
  except TypeError:
    raise
  except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError):
    raise
  except Exception as e:  # pylint: disable=broad-except
    raise ValueError(f"ref={ref!r} failed on S: {type(e).__name__}: {e}") from e


def _ref_array(value: Any, ref: Any, dtype: Any) -> jax.Array:
  try:
    return jnp.asarray(value, dtype=dtype)
  except (TypeError, ValueError) as e:
    raise TypeError(f"ref must return a number or an array of numbers, got {type(value).__name__}") from e


def _per_example(S: jax.Array, ref: Callable, axes: tuple[int, ...]) -> jax.Array:
  """``ref`` applied to each example (the last ``len(axes)`` axes) of ``S``, shaped to broadcast
  against it: under ``vmap`` for JAX callables, example by example for host callables."""
  core = S.shape[len(S.shape) - len(axes):]
  flat = S.reshape((-1,) + core)
  try:
    values = jax.vmap(lambda x: _ref_array(_call_ref(ref, x), ref, S.dtype))(flat)
  except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError, TypeError) as e:
    if isinstance(S, jax.core.Tracer):
      raise TypeError(f"ref={ref!r} cannot be traced (under jit, vmap or grad): pass a JAX callable such "
                      "as jnp.max, or one accepting axis= and keepdims=") from e
    try:
      values = jnp.stack([_ref_array(_call_ref(ref, x), ref, S.dtype) for x in np.asarray(flat)])
    except TypeError as e2:
      raise TypeError(f"ref={ref!r} must reduce an example of S to a number: {e2}") from e2
  if values.shape != (flat.shape[0],):
    raise ValueError(f"ref must reduce each example to a scalar, got shape {values.shape[1:]} from "
                     f"an example of shape {core}")
  return values.astype(S.dtype).reshape(S.shape[: len(S.shape) - len(axes)] + (1,) * len(axes))


def _reference(S: jax.Array, ref: Any) -> jax.Array:
  """``ref`` as an array broadcastable to ``S``: a callable reduces each example (the last two
  axes, the last for 1-D input) to one value, an array or scalar is taken as is."""
  if not callable(ref):
    if isinstance(ref, (str, bytes)):
      raise TypeError(f"ref must be a number, an array or a callable, got {ref!r}")
    _checks.host_finite(ref, "ref")
    value = _ref_array(ref, ref, S.dtype)
    try:
      ok = jnp.broadcast_shapes(value.shape, S.shape) == S.shape
    except ValueError:
      ok = False
    if not ok:
      raise ValueError(f"ref must be a scalar or an array broadcastable to S's shape {S.shape}, got shape {value.shape}")
    return value
  if ref in (np.max, np.amax, jnp.max, jnp.amax):
    ref = jnp.max
  axes = (-2, -1) if S.ndim >= 2 else (-1,)
  try:
    value = _call_ref(ref, S, axis=axes, keepdims=True)
  except TypeError:  # no axis/keepdims: one call per example, never one over the whole batch
    return _per_example(S, ref, axes)
  value = _ref_array(value, ref, S.dtype)
  if value.shape != S.shape[: S.ndim - len(axes)] + (1,) * len(axes):
    raise ValueError(f"ref(S, axis={axes}, keepdims=True) must have shape "
                     f"{S.shape[: S.ndim - len(axes)] + (1,) * len(axes)}, got {value.shape}")
  return value


def power_to_db(S: ArrayLike, *, ref: Any = 1.0, amin: float = 1e-10, top_db: float | None = 80.0) -> jax.Array:
  """Power spectrogram to decibels.

  ``S_db = 10·log10(max(amin, S)) - 10·log10(max(amin, |ref|))``, then, if ``top_db`` is set,
  ``S_db = max(S_db, max(S_db) - top_db)`` where the maximum is taken per example over the last two
  axes (the last axis for 1-D input), so a batch gives the same result as each signal alone. For a
  single signal this equals librosa, whose maximum is global.

  Args:
    S: ``(..., n_freq, n_frames)`` non-negative power; also 1-D, 0-d (a number) and integer input
      (cast to float, as librosa). Complex input is taken in magnitude ``|S|`` with a
      ``UserWarning`` (the phase is discarded), as librosa.
    ref: scalar/array reference, or a callable such as ``jnp.max`` (or ``np.max``) applied per
      example over the last two axes: called as ``ref(S, axis=(-2, -1), keepdims=True)``, or, for a
      callable without those arguments, once per example (so a batch gives each example's own dB).
    amin: floor, > 0.
    top_db: dynamic range in dB below the per-example peak, or ``None``.

  Returns:
    Same shape as ``S``.

  Raises:
    ValueError: empty ``S``, NaN/inf in host ``S`` or ``ref``, ``amin <= 0``, ``top_db < 0``, a ``ref``
      that fails or does not reduce each example to one value, a ``ref`` array that does not
      broadcast to ``S``.
    TypeError: non-numeric ``S``; ``ref``, ``amin`` or ``top_db`` of the wrong type.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.power_to_db(jnp.array([1.0, 0.1, 1e-12])).round(4).tolist()
    [0.0, -10.0, -80.0]
    >>> round(float(jd.power_to_db(100)), 4)  # 0-d and integer input, as librosa
    20.0

  Compare ``librosa.power_to_db``.
  """
  S = _db_input(S, "power_to_db")
  amin = _checks.positive_number(amin, "amin")
  if top_db is not None:
    top_db = _checks.positive_number(top_db, "top_db", allow_zero=True)
  if S.ndim == 0:
    return power_to_db(S.reshape(1), ref=ref, amin=amin, top_db=top_db).reshape(())
  axes = (-2, -1) if S.ndim >= 2 else (-1,)
  return _db(S, jnp.abs(_reference(S, ref)), amin=amin, top_db=top_db, axes=axes)


@functools.partial(jax.jit, static_argnames=("amin", "top_db", "axes"))
def _db(S: jax.Array, ref: jax.Array, *, amin: float, top_db: float | None, axes: tuple[int, ...]) -> jax.Array:
  return _core.db(S, ref=ref, amin=amin, top_db=top_db, axes=axes)


def amplitude_to_db(S: ArrayLike, *, ref: Any = 1.0, amin: float = 1e-5, top_db: float | None = 80.0) -> jax.Array:
  """Amplitude (magnitude) spectrogram to decibels: ``power_to_db(|S|², ref=|ref|², amin=amin²)``.

  Args:
    S: ``(..., n_freq, n_frames)`` magnitudes; also 0-d and integer input. Complex input is taken
      in absolute value with a ``UserWarning`` (the phase is discarded), as librosa.
    ref: as in :func:`power_to_db`, in amplitude units.
    amin: floor in amplitude units, > 0.
    top_db: as in :func:`power_to_db` (per example).

  Returns:
    Same shape as ``S``: ``20·log10(max(amin, |S|) / |ref|)`` clipped to ``top_db``.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.amplitude_to_db(jnp.array([1.0, 0.1])).round(4).tolist()
    [0.0, -20.0]

  Compare ``librosa.amplitude_to_db``.
  """
  S = _db_input(S, "amplitude_to_db")
  amin = _checks.positive_number(amin, "amin")
  if S.ndim == 0:
    return amplitude_to_db(S.reshape(1), ref=ref, amin=amin, top_db=top_db).reshape(())
  power = _ops.abs2(S)
  ref_power = _ops.abs2(_reference(S, ref))
  return power_to_db(power, ref=ref_power, amin=amin * amin, top_db=top_db)


def db_to_power(S_db: ArrayLike, *, ref: Any = 1.0) -> jax.Array:
  """Decibels to power: ``ref · 10^(S_db / 10)``. Compare ``librosa.db_to_power``.

  ``S_db`` may be a number or an integer array (cast to float, as librosa).

  Examples:
    >>> import jaxdsp as jd
    >>> jd.db_to_power(jnp.array([0.0, -10.0])).tolist()
    [1.0, 0.10000000149011612]
  """
  S_db = _checks.as_signal(S_db, "S_db", min_ndim=0, allow_int=True)
  return _db_ref(ref, S_db) * jnp.power(10.0, 0.1 * S_db)


def db_to_amplitude(S_db: ArrayLike, *, ref: Any = 1.0) -> jax.Array:
  """Decibels to amplitude: ``ref · 10^(S_db / 20)``. Compare ``librosa.db_to_amplitude``.

  ``S_db`` may be a number or an integer array (cast to float, as librosa).

  Examples:
    >>> import jaxdsp as jd
    >>> jd.db_to_amplitude(jnp.array([0.0, -20.0])).tolist()
    [1.0, 0.10000000149011612]
  """
  S_db = _checks.as_signal(S_db, "S_db", min_ndim=0, allow_int=True)
  return _db_ref(ref, S_db) * jnp.power(10.0, 0.05 * S_db)


def _db_ref(ref: Any, S_db: jax.Array) -> jax.Array:
  if callable(ref) or isinstance(ref, (str, bytes)):
    raise TypeError(f"ref must be a number or an array, got {ref!r}")
  _checks.host_finite(ref, "ref")
  return _ref_array(ref, ref, S_db.dtype)
