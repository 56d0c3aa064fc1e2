"""Differentiable synthesis (DDSP): oscillators, filtered noise, reverb and control upsampling.

Layout: controls are frame-rate ``(..., n_frames)`` (per-oscillator ones ``(..., n_oscillators,
n_frames)``, filter magnitudes ``(..., n_bands, n_frames)``, the spectrogram layout) and are
upsampled to audio rate ``(..., n_samples)`` inside each synthesiser; time is the last axis and
leading axes are batch axes (broadcast between the arguments). Every function is a pure function of
its arrays: it works under ``jax.jit`` (``n_samples``, ``sr`` and method names are static),
``jax.vmap`` and ``jax.grad`` (with respect to frequencies, amplitudes, magnitudes, impulse
responses and wavetables).

Phase is accumulated in cycles modulo 1 by an associative scan whose every partial sum is wrapped
to ``[0, 1)``, so float32 phase stays accurate to about ``2·log2(n)·6e-8`` cycles however long the
sound (a plain float32 ``cumsum`` of radians drifts by whole degrees after a few seconds).

References:
  J. Engel, L. Hantrakul, C. Gu, A. Roberts, "DDSP: Differentiable Digital Signal Processing",
  ICLR 2020 (and its library ``ddsp.core`` / ``ddsp.synths`` / ``ddsp.effects``).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from jaxdsp import _checks
from jaxdsp.filtering import fftconvolve

__all__ = ["exp_decay_ir", "filtered_noise", "frequency_filter", "harmonic_synth", "reverb",
           "sinusoidal_synth", "upsample", "wavetable_synth"]

_UPSAMPLE_METHODS = ("linear", "window")


# ---------------------------------------------------------------------------------------------
# Helpers.


def _wrap(x: jax.Array) -> jax.Array:
  """``x mod 1`` in ``[0, 1)`` with derivative 1."""
  return x - jnp.floor(x)


def _phase_cycles(increments: jax.Array, initial: Any = 0.0) -> jax.Array:
  """Exclusive cumulative sum of ``increments`` (cycles per sample) modulo 1, along the last axis.

  ``phase[n] = (initial + Σ_{m<n} increments[m]) mod 1``. An associative scan of addition modulo 1:
  every partial sum stays in ``[0, 1)``, so the float32 error grows with ``log2(n)``, not ``n``.
  The derivative (the wrap's is 1) is the plain exclusive cumulative sum of the tangents, a linear
  map whose transpose is cheap.
  """
  initial = jnp.broadcast_to(jnp.asarray(initial, increments.dtype), increments.shape[:-1] + (1,))
  return _phase_scan(increments, initial)


@jax.custom_jvp
def _phase_scan(increments: jax.Array, initial: jax.Array) -> jax.Array:
  inc = _wrap(increments)
  inclusive = jax.lax.associative_scan(lambda a, b: _wrap(a + b), inc, axis=-1)
  exclusive = jnp.concatenate([jnp.zeros_like(inclusive[..., :1]), inclusive[..., :-1]], axis=-1)
  return _wrap(exclusive + initial)


@_phase_scan.defjvp
def _phase_scan_jvp(primals, tangents):
  d_inc, d_init = tangents
  cum = jnp.cumsum(d_inc, axis=-1)
  d_phase = jnp.concatenate([jnp.zeros_like(cum[..., :1]), cum[..., :-1]], axis=-1) + d_init
  return _phase_scan(*primals), d_phase


def _n_samples(n_samples: Any, n_frames: int) -> int:
  if n_samples is None:
    return n_frames
  return _checks.size(n_samples, "n_samples")


def _to_audio_rate(x: jax.Array, n_samples: int, method: str | None, name: str) -> jax.Array:
  """``x`` upsampled to ``n_samples`` (``method=None``: only check that it can be)."""
  if x.shape[-1] == n_samples:
    return x
  if x.shape[-1] > n_samples:
    raise ValueError(f"{name} has {x.shape[-1]} frames, more than n_samples={n_samples}")
  if method is None:
    return x
  return upsample(x, n_samples=n_samples, method=method)


def _frames(x: jax.Array, name: str, other: int) -> None:
  if x.shape[-1] != other:
    raise ValueError(f"{name} must have {other} frames (the last axis of f0/frequencies), got shape {x.shape}")


# ---------------------------------------------------------------------------------------------
# Upsampling of frame-rate controls.


def upsample(x: ArrayLike, *, n_samples: int, method: str = "linear", add_endpoint: bool = True) -> jax.Array:
  """Upsamples frame-rate controls ``(..., n_frames)`` to ``(..., n_samples)``.

  ``method="linear"``: linear interpolation. With ``add_endpoint=True`` (DDSP's default) frame
  ``f`` sits at sample ``f · n_samples / n_frames`` and the last frame is held to the end
  (``tf.compat.v1.image.resize`` with ``align_corners=False``, as ``ddsp.core.resample``); with
  ``add_endpoint=False`` the first and last frames land exactly on the first and last samples
  (``align_corners=True``).

  ``method="window"``: DDSP's ``upsample_with_windows``: overlapping Hann windows of length
  ``2·hop`` (``hop = n_samples / n_intervals``) cross-fade neighbouring frames,
  ``out[c·hop + t] = x[c]·cos²(πt / 2hop) + x[c+1]·sin²(πt / 2hop)`` — smooth amplitude
  envelopes. ``n_samples`` must be a multiple of the number of intervals (``n_frames`` with
  ``add_endpoint``, which repeats the last frame; else ``n_frames - 1``).

  Args:
    x: ``(..., n_frames)`` controls.
    n_samples: output length (static), ``>= n_frames``.
    method: ``"linear"`` or ``"window"``.
    add_endpoint: hold the last frame for one more interval (see above).

  Returns:
    ``(..., n_samples)``, the dtype of ``x``. Both methods start exactly at ``x[..., 0]``; linear
    with ``add_endpoint=False`` and window with ``add_endpoint=True`` end exactly at ``x[..., -1]``.

  Raises:
    ValueError: bad ``n_samples`` or ``method``, ``n_samples < n_frames``, or a window
      upsampling whose hop is not an integer.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.upsample(jnp.array([0.0, 1.0]), n_samples=4).tolist()
    [0.0, 0.5, 1.0, 1.0]
    >>> jd.upsample(jnp.array([0.0, 1.0]), n_samples=4, method="window").tolist()
    [0.0, 0.5, 1.0, 1.0]

  References:
    ``ddsp.core.resample`` and ``ddsp.core.upsample_with_windows`` (Engel et al., 2020).
  """
  x = _checks.as_signal(x, "x")
  n = _checks.size(n_samples, "n_samples")
  _checks.choice(method, "method", _UPSAMPLE_METHODS)
  if not isinstance(add_endpoint, bool):
    raise TypeError(f"add_endpoint must be a bool, got {add_endpoint!r}")
  n_frames = x.shape[-1]
  if n < n_frames:
    raise ValueError(f"n_samples must be >= the number of frames {n_frames}, got {n}")
  if method == "window":
    if add_endpoint:
      x = jnp.concatenate([x, x[..., -1:]], axis=-1)
    n_intervals = x.shape[-1] - 1
    if n_intervals < 1 or n % n_intervals:
      raise ValueError(f"method='window' needs n_samples divisible by the number of intervals {n_intervals}, "
                       f"got n_samples={n}")
    hop = n // n_intervals
    t = np.arange(hop) / (2 * hop)
    rise = jnp.asarray(np.sin(np.pi * t) ** 2, x.dtype)  # Hann window w[t]; w[hop + t] = 1 - w[t]
    out = x[..., :-1, None] + rise * (x[..., 1:, None] - x[..., :-1, None])  # exact for constant x
    return out.reshape(*x.shape[:-1], n)
  if add_endpoint:
    pos = np.arange(n) * (n_frames / n)
  else:
    pos = np.arange(n) * ((n_frames - 1) / max(n - 1, 1))
  lo = np.minimum(np.floor(pos).astype(np.int32), n_frames - 1)
  hi = np.minimum(lo + 1, n_frames - 1)
  w = jnp.asarray(pos - lo, x.dtype)
  x_lo = jnp.take(x, lo, axis=-1)
  return x_lo + w * (jnp.take(x, hi, axis=-1) - x_lo)


# ---------------------------------------------------------------------------------------------
# Oscillators.


def _oscillators(phase: jax.Array, freqs: jax.Array, amps: jax.Array, sr: float) -> jax.Array:
  """``Σ_k amps[k]·sin(2π·phase[k])`` with oscillators at or above Nyquist silenced."""
  amps = jnp.where(jnp.abs(freqs) < sr / 2, amps, 0)
  return jnp.sum(amps * jnp.sin(2 * jnp.pi * phase), axis=-2)


def harmonic_synth(f0: ArrayLike, *, amplitudes: ArrayLike, sr: float, n_samples: int | None = None,
                   upsample_method: str = "window", initial_phase: float = 0.0) -> jax.Array:
  """Harmonic oscillator bank: ``y[n] = Σ_k A_k[n] · sin(2π·k·φ[n])``, ``k = 1..n_harmonics``.

  ``φ[n] = initial_phase/2π + Σ_{m<n} f0[m]/sr`` (cycles, mod 1; see the module docstring), so a
  constant ``f0`` gives exactly ``Σ_k A_k sin(2π k f0 n / sr + k·initial_phase)``. Harmonics at or
  above Nyquist (``k·f0[n] >= sr/2``) are silenced sample by sample (no aliasing; their amplitude's
  gradient is zero there, as in DDSP's ``remove_above_nyquist``). Frame-rate controls are upsampled:
  ``f0`` linearly, ``amplitudes`` with ``upsample_method``.

  Args:
    f0: ``(..., n_frames)`` fundamental frequency in Hz.
    amplitudes: ``(..., n_harmonics, n_frames)`` amplitude of each harmonic (linear, not
      normalised; DDSP's ``amplitude · harmonic_distribution``).
    sr: sample rate in Hz.
    n_samples: output length (static); default ``n_frames`` (controls already at audio rate).
    upsample_method: ``"window"`` (DDSP's overlapping Hann windows) or ``"linear"`` for the
      amplitudes (see ``upsample``).
    initial_phase: phase of the fundamental at sample 0, in radians.

  Returns:
    ``(..., n_samples)`` audio (leading axes of ``f0`` and ``amplitudes`` broadcast).

  Raises:
    ValueError: mismatched frame counts, bad ``sr``/``n_samples``/``upsample_method``.
    TypeError: non-floating input.

  Examples:
    >>> import jaxdsp as jd
    >>> y = jd.harmonic_synth(jnp.full(4, 440.0), amplitudes=jnp.ones((3, 4)), sr=16000, n_samples=1600)
    >>> y.shape
    (1600,)

  References:
    Engel et al., "DDSP", ICLR 2020; ``ddsp.core.harmonic_synthesis``.
  """
  f0 = _checks.as_signal(f0, "f0")
  amplitudes = _checks.as_signal(amplitudes, "amplitudes", min_ndim=2)
  sr = _checks.sample_rate(sr)
  _checks.choice(upsample_method, "upsample_method", _UPSAMPLE_METHODS)
  _checks.real_number(initial_phase, "initial_phase")
  _frames(amplitudes, "amplitudes", f0.shape[-1])
  n = _n_samples(n_samples, f0.shape[-1])
  _to_audio_rate(f0, n, None, "f0")
  return _harmonic(f0, amplitudes, initial_phase / (2 * math.pi), sr=sr, n=n, method=upsample_method)


@functools.partial(jax.jit, static_argnames=("sr", "n", "method"))
def _harmonic(f0: jax.Array, amplitudes: jax.Array, phase0: float, *, sr: float, n: int, method: str) -> jax.Array:
  f0_audio = _to_audio_rate(f0, n, "linear", "f0")
  amps = _to_audio_rate(amplitudes, n, method, "amplitudes")
  phase = _phase_cycles(f0_audio / sr, phase0)
  k = jnp.arange(1, amplitudes.shape[-2] + 1, dtype=phase.dtype)[:, None]
  harmonic_phase = _wrap(k * phase[..., None, :])
  return _oscillators(harmonic_phase, k * f0_audio[..., None, :], amps, sr)


def sinusoidal_synth(frequencies: ArrayLike, *, amplitudes: ArrayLike, sr: float, n_samples: int | None = None,
                     upsample_method: str = "window", initial_phases: ArrayLike = 0.0) -> jax.Array:
  """Additive synthesis of free sinusoids: ``y[n] = Σ_k A_k[n] · sin(2π·φ_k[n])``.

  ``φ_k[n] = initial_phases_k/2π + Σ_{m<n} f_k[m]/sr`` (cycles, mod 1). Sinusoids at or above
  Nyquist are silenced. Frame-rate frequencies are upsampled linearly, amplitudes with
  ``upsample_method``.

  Args:
    frequencies: ``(..., n_sines, n_frames)`` in Hz.
    amplitudes: ``(..., n_sines, n_frames)``.
    sr: sample rate in Hz.
    n_samples: output length (static); default ``n_frames``.
    upsample_method: ``"window"`` or ``"linear"`` for the amplitudes.
    initial_phases: radians, broadcastable to ``(..., n_sines)``.

  Returns:
    ``(..., n_samples)``.

  Raises:
    ValueError: mismatched frame counts, bad ``sr``/``n_samples``/``upsample_method``, NaN/inf in
      host ``initial_phases``.
    TypeError: non-floating input, non-numeric ``initial_phases``.

  Examples:
    >>> import jaxdsp as jd
    >>> y = jd.sinusoidal_synth(jnp.array([[4000.0]]), amplitudes=jnp.ones((1, 1)), sr=16000, n_samples=4)
    >>> [round(v, 4) + 0.0 for v in y.tolist()]
    [0.0, 1.0, 0.0, -1.0]

  References:
    ``ddsp.core.oscillator_bank``; R. McAulay, T. Quatieri, "Speech analysis/synthesis based on a
    sinusoidal representation", IEEE TASSP 1986.
  """
  frequencies = _checks.as_signal(frequencies, "frequencies", min_ndim=2)
  amplitudes = _checks.as_signal(amplitudes, "amplitudes", min_ndim=2)
  sr = _checks.sample_rate(sr)
  _checks.choice(upsample_method, "upsample_method", _UPSAMPLE_METHODS)
  _frames(amplitudes, "amplitudes", frequencies.shape[-1])
  if amplitudes.shape[-2] != frequencies.shape[-2]:
    raise ValueError(f"amplitudes must have {frequencies.shape[-2]} sines (axis -2 of frequencies), got shape "
                     f"{amplitudes.shape}")
  n = _n_samples(n_samples, frequencies.shape[-1])
  _to_audio_rate(frequencies, n, None, "frequencies")
  _checks.numbers(initial_phases, "initial_phases")  # real numbers, finite where on the host
  phi0 = jnp.asarray(initial_phases, frequencies.dtype)[..., None] / (2 * jnp.pi)
  return _sinusoidal(frequencies, amplitudes, phi0, sr=sr, n=n, method=upsample_method)


@functools.partial(jax.jit, static_argnames=("sr", "n", "method"))
def _sinusoidal(frequencies: jax.Array, amplitudes: jax.Array, phi0: jax.Array, *, sr: float, n: int,
                method: str) -> jax.Array:
  freqs = _to_audio_rate(frequencies, n, "linear", "frequencies")
  amps = _to_audio_rate(amplitudes, n, method, "amplitudes")
  return _oscillators(_phase_cycles(freqs / sr, phi0), freqs, amps, sr)


def wavetable_synth(f0: ArrayLike, *, wavetable: ArrayLike | None = None, sr: float,
                    amplitudes: ArrayLike | None = None, n_samples: int | None = None, upsample_method: str = "window",
                    initial_phase: float = 0.0, wavetables: ArrayLike | None = None) -> jax.Array:
  """Wavetable oscillator: one period ``w[0..T)`` read at phase ``φ[n]``, linearly interpolated.

  ``y[n] = A[n] · ((1 - α)·w_n[i] + α·w_n[(i + 1) mod T])`` with ``i + α = T·φ[n]`` and
  ``φ[n] = initial_phase/2π + Σ_{m<n} f0[m]/sr`` (cycles, mod 1). With ``wavetable`` the table
  ``w_n = wavetable`` is fixed; with ``wavetables`` (one table per frame, DDSP's time-varying
  ``wavetables``) ``w_n`` is the frames' tables linearly interpolated to sample ``n`` (as
  ``upsample(..., method="linear")`` of each table entry; only the two neighbouring frames are
  read, no ``(n_samples, T)`` table is built). Differentiable with respect to the table(s), the
  amplitudes and ``f0`` (through the interpolation). There is no band-limiting: a table with
  harmonics above ``sr / (2·f0)`` aliases (use a band-limited table or ``harmonic_synth``).

  Args:
    f0: ``(..., n_frames)`` frequency in Hz.
    wavetable: ``(..., table_size)`` one period (``table_size >= 2``); give this or ``wavetables``.
    sr: sample rate in Hz.
    amplitudes: ``(..., n_frames)`` amplitude; default 1.
    n_samples: output length (static); default ``n_frames``.
    upsample_method: ``"window"`` or ``"linear"`` for the amplitudes.
    initial_phase: radians.
    wavetables: ``(..., n_frames, table_size)`` one period per frame (frame-rate, like ``f0``).

  Returns:
    ``(..., n_samples)``.

  Raises:
    ValueError: mismatched frames, a table shorter than 2, neither or both of ``wavetable`` and
      ``wavetables``, bad ``sr``/``n_samples``.
    TypeError: non-floating input.

  Examples:
    >>> import jaxdsp as jd
    >>> table = jnp.sin(2 * jnp.pi * jnp.arange(64) / 64)
    >>> y = jd.wavetable_synth(jnp.full(2, 4000.0), wavetable=table, sr=16000, n_samples=4)
    >>> [round(v, 4) + 0.0 for v in y.tolist()]
    [0.0, 1.0, 0.0, -1.0]
    >>> tables = jnp.stack([table, -table])  # two frames: a sine turning into its negative
    >>> y = jd.wavetable_synth(jnp.full(2, 4000.0), wavetables=tables, sr=16000, n_samples=4)
    >>> [round(v, 4) + 0.0 for v in y.tolist()]
    [0.0, 0.0, 0.0, 1.0]

  References:
    ``ddsp.core.wavetable_synthesis``; Engel et al., "DDSP", ICLR 2020.
  """
  f0 = _checks.as_signal(f0, "f0")
  sr = _checks.sample_rate(sr)
  _checks.choice(upsample_method, "upsample_method", _UPSAMPLE_METHODS)
  _checks.real_number(initial_phase, "initial_phase")
  n = _n_samples(n_samples, f0.shape[-1])
  _to_audio_rate(f0, n, None, "f0")
  if (wavetable is None) == (wavetables is None):
    raise ValueError("give one of wavetable (one table) and wavetables (a table per frame), "
                     f"got {'both' if wavetable is not None else 'neither'}")
  if wavetable is not None:
    table = _checks.as_signal(wavetable, "wavetable")
    name = "wavetable"
  else:
    table = _checks.as_signal(wavetables, "wavetables", min_ndim=2)
    name = "wavetables"
    if table.shape[-2] != f0.shape[-1]:
      raise ValueError(f"wavetables must have {f0.shape[-1]} frames (axis -2, the last axis of f0), got shape "
                       f"{table.shape}")
  if table.shape[-1] < 2:
    raise ValueError(f"{name} must hold at least 2 samples, got shape {table.shape}")
  if amplitudes is not None:
    amplitudes = _checks.as_signal(amplitudes, "amplitudes")
    _frames(amplitudes, "amplitudes", f0.shape[-1])
  return _wavetable(f0, table, amplitudes, initial_phase / (2 * math.pi), sr=sr, n=n, method=upsample_method,
                    per_frame=wavetables is not None)


@functools.partial(jax.jit, static_argnames=("sr", "n", "method", "per_frame"))
def _wavetable(f0: jax.Array, table: jax.Array, amplitudes: jax.Array | None, phase0: float, *, sr: float, n: int,
               method: str, per_frame: bool) -> jax.Array:
  size = table.shape[-1]
  f0_audio = _to_audio_rate(f0, n, "linear", "f0")
  pos = _phase_cycles(f0_audio / sr, phase0) * size
  i0 = jnp.floor(jax.lax.stop_gradient(pos))
  alpha = pos - i0
  i0 = i0.astype(jnp.int32) % size
  i1 = (i0 + 1) % size
  if per_frame:  # the frames' tables as one row: frame f's entry i at f·size + i
    n_frames = table.shape[-2]
    frame = np.arange(n) * (n_frames / n)  # upsample(method="linear")'s positions, the last frame held
    f_lo = np.minimum(np.floor(frame).astype(np.int32), n_frames - 1)
    f_hi = np.minimum(f_lo + 1, n_frames - 1)
    beta = jnp.asarray(frame - f_lo, table.dtype)
    table = table.reshape(table.shape[:-2] + (n_frames * size,))
    rows = ((jnp.asarray(f_lo * size), 1 - beta), (jnp.asarray(f_hi * size), beta))
  else:
    rows = ((0, None),)
  batch = jnp.broadcast_shapes(table.shape[:-1], pos.shape[:-1])
  table = jnp.broadcast_to(table, batch + table.shape[-1:])
  i0, i1, alpha = (jnp.broadcast_to(a, batch + (n,)) for a in (i0, i1, alpha))
  y = 0.0
  for offset, weight in rows:
    read = (jnp.take_along_axis(table, i0 + offset, axis=-1) * (1 - alpha)
            + jnp.take_along_axis(table, i1 + offset, axis=-1) * alpha)
    y = y + (read if weight is None else weight * read)
  if amplitudes is not None:
    y = y * _to_audio_rate(amplitudes, n, method, "amplitudes")
  return y


# ---------------------------------------------------------------------------------------------
# Time-varying FIR filtering by frequency sampling, filtered noise.


def frequency_filter(x: ArrayLike, *, magnitudes: ArrayLike, window_size: int | None = None) -> jax.Array:
  """Time-varying linear-phase FIR filter designed per frame by frequency sampling (DDSP).

  For each frame ``t`` the zero-phase impulse response ``h_t = irfft(magnitudes[:, t])`` (length
  ``N = 2·(n_bands - 1)``) is windowed by a periodic Hann window of ``window_size`` samples centred
  on time 0 and made causal (delay ``window_size // 2``). The signal is cut into ``n_frames``
  consecutive blocks of ``ceil(n_samples / n_frames)`` samples; block ``t`` is convolved (FFT) with
  ``h_t`` and the blocks are overlap-added; the result is advanced by the FIR's delay and cropped to
  ``n_samples``, so a constant flat response (all ones) returns ``x``.

  Args:
    x: ``(..., n_samples)`` signal.
    magnitudes: ``(..., n_bands, n_frames)`` real, non-negative magnitude response at
      ``n_bands`` linearly spaced frequencies from 0 to Nyquist (``n_bands >= 2``), per frame.
    window_size: FIR length (static), ``<= 2·(n_bands - 1)``; default ``2·(n_bands - 1)``.

  Returns:
    ``(..., n_samples)`` (leading axes broadcast).

  Raises:
    ValueError: ``n_bands < 2``, more frames than samples, bad ``window_size``.
    TypeError: non-floating input.

  Examples:
    >>> import jaxdsp as jd
    >>> x = jnp.zeros(64).at[10].set(1.0)
    >>> y = jd.frequency_filter(x, magnitudes=jnp.ones((9, 4)))
    >>> int(jnp.argmax(y)), round(float(y.max()), 4)
    (10, 1.0)

  References:
    ``ddsp.core.frequency_filter`` / ``frequency_impulse_response`` / ``fft_convolve``.
  """
  x = _checks.as_signal(x, "x")
  mags = _checks.as_signal(magnitudes, "magnitudes", min_ndim=2)
  n_bands, n_frames = mags.shape[-2:]
  if n_bands < 2:
    raise ValueError(f"magnitudes must have at least 2 bands (axis -2), got shape {mags.shape}")
  n_ir = 2 * (n_bands - 1)
  size = n_ir if window_size is None else _checks.positive_int(window_size, "window_size")
  if size > n_ir:
    raise ValueError(f"window_size must be <= 2·(n_bands - 1) = {n_ir}, got {size}")
  n = x.shape[-1]
  if n_frames > n:
    raise ValueError(f"magnitudes has {n_frames} frames, more than the {n} samples of x")
  return _frequency_filter(x, mags, size=size)


@functools.partial(jax.jit, static_argnames=("size",))
def _frequency_filter(x: jax.Array, mags: jax.Array, *, size: int) -> jax.Array:
  n_bands, n_frames = mags.shape[-2:]
  n_ir = 2 * (n_bands - 1)
  n = x.shape[-1]
  dtype = jnp.result_type(x.dtype, mags.dtype)
  # Per-frame causal, windowed FIR (..., n_frames, size).
  h0 = jnp.fft.irfft(jnp.swapaxes(mags, -1, -2).astype(dtype), n=n_ir, axis=-1)
  window = jnp.asarray(0.5 - 0.5 * np.cos(2 * np.pi * np.arange(size) / size), dtype)
  h = jnp.roll(h0, size // 2, axis=-1)[..., :size] * window
  # Blocks of the signal (..., n_frames, block).
  block = -(-n // n_frames)
  batch = jnp.broadcast_shapes(x.shape[:-1], mags.shape[:-2])
  x = jnp.broadcast_to(x, batch + (n,))
  x = jnp.pad(x, [(0, 0)] * len(batch) + [(0, n_frames * block - n)]).reshape(batch + (n_frames, block))
  seg = block + size - 1
  n_fft = 1 << (seg - 1).bit_length()
  y = jnp.fft.irfft(jnp.fft.rfft(x, n_fft) * jnp.fft.rfft(h, n_fft), n_fft)[..., :seg]
  # Overlap-add with hop ``block``: split each segment into c blocks and shift them by whole blocks.
  c = -(-seg // block)
  y = jnp.pad(y, [(0, 0)] * (y.ndim - 1) + [(0, c * block - seg)]).reshape(batch + (n_frames, c, block))
  pad = [(0, 0)] * len(batch)
  out = sum(jnp.pad(y[..., j, :], pad + [(j, c - 1 - j), (0, 0)]) for j in range(c))
  out = out.reshape(batch + ((n_frames + c - 1) * block,))
  delay = size // 2
  return out[..., delay:delay + n]


def filtered_noise(magnitudes: ArrayLike, *, n_samples: int, key: jax.Array,
                   window_size: int | None = None) -> jax.Array:
  """Uniform white noise in ``[-1, 1)`` shaped by time-varying magnitude responses (DDSP's ``FilteredNoise``).

  ``frequency_filter(u, magnitudes=magnitudes, window_size=window_size)`` with ``u`` drawn from
  ``key``; a noise band of magnitude 1 over ``[f1, f2]`` has power spectral density ``1/3 / (sr/2)``
  there (the variance of ``u`` is 1/3) and a window-limited transition outside.

  Args:
    magnitudes: ``(..., n_bands, n_frames)`` magnitude responses from 0 Hz to Nyquist.
    n_samples: output length (static).
    key: a ``jax.random`` key (the same key gives the same noise).
    window_size: FIR length, see ``frequency_filter``.

  Returns:
    ``(..., n_samples)``.

  Raises:
    ValueError: as ``frequency_filter``; bad ``n_samples``.

  Examples:
    >>> import jax
    >>> import jaxdsp as jd
    >>> jd.filtered_noise(jnp.ones((65, 10)), n_samples=1000, key=jax.random.key(0)).shape
    (1000,)

  References:
    ``ddsp.synths.FilteredNoise`` (Engel et al., 2020).
  """
  mags = _checks.as_signal(magnitudes, "magnitudes", min_ndim=2)
  n = _checks.size(n_samples, "n_samples")
  noise = jax.random.uniform(key, mags.shape[:-2] + (n,), mags.dtype, -1.0, 1.0)
  return frequency_filter(noise, magnitudes=mags, window_size=window_size)


# ---------------------------------------------------------------------------------------------
# Reverb.


def exp_decay_ir(*, gain: ArrayLike, decay: ArrayLike, n_samples: int, key: jax.Array) -> jax.Array:
  """Exponentially decaying noise impulse response: ``h[n] = gain · exp(-decay · n / n_samples) · u[n]``.

  ``u`` is uniform noise in ``[-1, 1)`` drawn from ``key`` (fixed for a fixed key, so ``gain`` and
  ``decay`` can be learned). DDSP's ``ExpDecayReverb`` is this with ``gain = exp_sigmoid(g)`` and
  ``decay = 2 + exp(d)`` over its ``reverb_length``; the energy falls by 60 dB after
  ``n_samples · 3·ln(10) / decay`` samples.

  Args:
    gain: ``(...)`` linear gain.
    decay: ``(...)`` decay rate per IR length (``> 0`` for a decaying IR).
    n_samples: IR length (static).
    key: ``jax.random`` key for the noise.

  Returns:
    ``(..., n_samples)``, leading axes of ``gain`` and ``decay`` broadcast.

  Raises:
    ValueError: bad ``n_samples``.

  Examples:
    >>> import jax
    >>> import jaxdsp as jd
    >>> jd.exp_decay_ir(gain=0.5, decay=4.0, n_samples=8000, key=jax.random.key(0)).shape
    (8000,)

  References:
    ``ddsp.effects.ExpDecayReverb`` (Engel et al., 2020).
  """
  n = _checks.size(n_samples, "n_samples")
  gain = jnp.asarray(gain, jnp.result_type(gain, float))
  decay = jnp.asarray(decay, jnp.result_type(decay, float))
  for name, v in (("gain", gain), ("decay", decay)):
    if not jnp.issubdtype(v.dtype, jnp.floating):
      raise TypeError(f"{name} must be floating point, got dtype {v.dtype}")
  dtype = jnp.result_type(gain.dtype, decay.dtype)
  t = jnp.arange(n, dtype=dtype) / n
  noise = jax.random.uniform(key, (n,), dtype, -1.0, 1.0)
  return gain[..., None] * jnp.exp(-decay[..., None] * t) * noise


def reverb(x: ArrayLike, *, ir: ArrayLike, mode: str = "same") -> jax.Array:
  """Convolution reverb with a (learnable) impulse response: ``y[n] = Σ_k ir[k] · x[n - k]``.

  An FFT convolution (``jaxdsp.fftconvolve``); ``mode="same"`` keeps the first ``n_samples``
  samples (causal, no delay compensation: ``reverb`` of a unit impulse is the IR), ``"full"`` the
  whole tail (``n_samples + n_ir - 1``). Differentiable with respect to both ``x`` and ``ir`` — a
  free IR array, or one from ``exp_decay_ir``. For DDSP's dry/wet form, put the dry gain in
  ``ir[0]``.

  Args:
    x: ``(..., n_samples)`` signal.
    ir: ``(..., n_ir)`` impulse response (leading axes broadcast with ``x``).
    mode: ``"same"`` or ``"full"``.

  Returns:
    ``(..., n_samples)`` or ``(..., n_samples + n_ir - 1)``.

  Raises:
    ValueError: bad ``mode``.
    TypeError: non-floating input.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.reverb(jnp.array([1.0, 0.0, 0.0, 0.0]), ir=jnp.array([0.5, 0.25])).round(4).tolist()
    [0.5, 0.25, 0.0, 0.0]

  References:
    ``ddsp.effects.Reverb``; J. O. Smith, "Physical Audio Signal Processing" (convolution reverb).
  """
  x = _checks.as_signal(x, "x")
  ir = _checks.as_signal(ir, "ir")
  _checks.choice(mode, "mode", ("same", "full"))
  y = fftconvolve(x, ir, mode="full")
  return y[..., :x.shape[-1]] if mode == "same" else y
