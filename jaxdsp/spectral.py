"""The STFT family: ``stft``, ``istft``, ``spectrogram`` and dB scaling.

Layout: signals ``(..., n_samples)``; spectra ``(..., n_freq, n_frames)`` with
``n_freq = 1 + n_fft // 2`` (librosa's layout). Every STFT in jaxdsp is the one of the feature core
(:mod:`jaxdsp._core`), which computes it in cache-sized chunks of frames on CPU.
"""

from __future__ import annotations

import functools
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
    ValueError: bad lengths, unknown window or pad mode, ``n_fft`` longer than the signal when
      ``center=False``, empty signal.
    TypeError: integer or complex input.

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


def _per_example(S: jax.Array, ref: Callable, axes: tuple[int, ...]) -> jax.Array:
  """``ref`` applied to each example (the last ``len(axes)`` axes) of ``S``, shaped to broadcast
  against it: under ``vmap`` for JAX callables, example by example for host callables."""
  core = S.shape[len(S.shape) - len(axes):]
  flat = S.reshape((-1,) + core)
  try:
    values = jax.vmap(lambda x: jnp.asarray(ref(x)))(flat)
  except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError) as e:
    if isinstance(S, jax.core.Tracer):
      raise TypeError(f"ref={ref!r} cannot be traced (under jit, vmap or grad): pass a JAX callable such "
                      "as jnp.max, or one accepting axis= and keepdims=") from e
    values = jnp.stack([jnp.asarray(ref(x)) for x in np.asarray(flat)])
  if values.shape != (flat.shape[0],):
    raise ValueError(f"ref must reduce each example to a scalar, got shape {values.shape[1:]} from "
                     f"an example of shape {core}")
  return values.astype(S.dtype).reshape(S.shape[: len(S.shape) - len(axes)] + (1,) * len(axes))


def _reference(S: jax.Array, ref: Any) -> jax.Array:
  """``ref`` as an array broadcastable to ``S``: a callable reduces each example (the last two
  axes, the last for 1-D input) to one value, an array or scalar is taken as is."""
  if not callable(ref):
    return jnp.asarray(ref, dtype=S.dtype)
  if ref in (np.max, np.amax, jnp.max, jnp.amax):
    ref = jnp.max
  axes = (-2, -1) if S.ndim >= 2 else (-1,)
  try:
    value = ref(S, axis=axes, keepdims=True)
  except TypeError:  # no axis/keepdims: one call per example, never one over the whole batch
    return _per_example(S, ref, axes)
  value = jnp.asarray(value, dtype=S.dtype)
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
    S: ``(..., n_freq, n_frames)`` non-negative power.
    ref: scalar/array reference, or a callable such as ``jnp.max`` (or ``np.max``) applied per
      example over the last two axes: called as ``ref(S, axis=(-2, -1), keepdims=True)``, or, for a
      callable without those arguments, once per example (so a batch gives each example's own dB).
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
  axes = (-2, -1) if S.ndim >= 2 else (-1,)
  return _core.db(S, ref=jnp.abs(_reference(S, ref)), amin=amin, top_db=top_db, axes=axes)


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
