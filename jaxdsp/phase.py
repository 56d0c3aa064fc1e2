"""Phase vocoder effects: ``phase_vocoder``, ``time_stretch`` and ``pitch_shift``.

Layout: STFTs ``(..., n_freq, n_frames)``; signals ``(..., n_samples)``. The phase accumulation of
the vocoder is a cumulative sum over the output frames (no Python loop), so everything runs under
``jit``/``vmap`` and is differentiable in the input (through magnitudes and phase differences;
the phase wrap ``round(·/2π)`` is piecewise constant). ``rate`` and ``n_steps`` set output shapes:
they are static Python numbers.
"""

from __future__ import annotations

import fractions
import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from jaxdsp import _checks
from jaxdsp import _core
from jaxdsp import _ops


def _angle(z: jax.Array) -> jax.Array:
  """``jnp.angle`` with a zero (not NaN) gradient at ``z = 0`` (its value there is 0, as NumPy's)."""
  ok = _ops.abs2(z) > jnp.finfo(z.real.dtype).tiny
  return jnp.where(ok, jnp.arctan2(jnp.where(ok, z.imag, 0), jnp.where(ok, z.real, 1)), 0)


@functools.partial(jax.jit, static_argnames=("rate", "hop_length", "n_fft"))
def _phase_vocoder(D, *, rate, hop_length, n_fft):
  n_frames = D.shape[-1]
  steps = np.arange(0, n_frames, rate, dtype=np.float64)
  idx = steps.astype(np.int64)
  alpha = jnp.asarray(np.mod(steps, 1.0), D.real.dtype)
  # phi_advance reduced mod 2π in float64 on the host: only the phase modulo 2π matters.
  phi = np.mod(hop_length * 2 * np.pi * np.arange(D.shape[-2]) / n_fft, 2 * np.pi)
  phi_advance = jnp.asarray(phi, D.real.dtype)[:, None]
  Dp = jnp.pad(D, [(0, 0)] * (D.ndim - 1) + [(0, 2)])
  c0, c1 = Dp[..., idx], Dp[..., idx + 1]
  mag = (1.0 - alpha) * _ops.safe_abs(c0) + alpha * _ops.safe_abs(c1)
  dphase = _angle(c1) - _angle(c0) - phi_advance
  dphase = dphase - 2.0 * np.pi * jnp.round(dphase / (2.0 * np.pi))
  step = phi_advance + dphase
  acc = jnp.cumsum(step, axis=-1) - step  # exclusive: phase before each output frame's own advance
  phase = _angle(D[..., :1]) + acc
  return (mag * jnp.cos(phase) + 1j * (mag * jnp.sin(phase))).astype(D.dtype)


def _rate(rate: Any) -> float:
  return _checks.positive_number(rate, "rate")


def phase_vocoder(D: ArrayLike, *, rate: float, hop_length: int | None = None,
                  n_fft: int | None = None) -> jax.Array:
  """Time-stretches an STFT by ``rate`` with a phase vocoder (Flanagan & Golden 1966; Ellis 2002).

  Output frame ``t`` reads the input at ``s = t·rate``: its magnitude is interpolated linearly
  between frames ``⌊s⌋`` and ``⌊s⌋ + 1``, its phase is the accumulated
  ``φ[t] = ∠D[:, 0] + Σ_{u<t} (ω·hop + princarg(∠D[:, ⌊s_u⌋+1] - ∠D[:, ⌊s_u⌋] - ω·hop))``.

  Args:
    D: ``(..., n_freq, n_frames)`` complex STFT.
    rate: speed-up factor (> 1 faster, < 1 slower), a static Python number.
    hop_length: hop of ``D``, default ``n_fft // 4``.
    n_fft: FFT size of ``D``, default ``2·(n_freq - 1)``.

  Returns:
    ``(..., n_freq, ceil(n_frames / rate))`` complex.

  Raises:
    ValueError: non-positive ``rate``, ``D`` of rank < 2.

  Examples:
    >>> import jaxdsp as jd
    >>> D = jd.stft(jnp.sin(jnp.arange(8192) / 5.0), n_fft=512)
    >>> jd.phase_vocoder(D, rate=2.0).shape
    (257, 33)

  Compare ``librosa.phase_vocoder`` (librosa accumulates the phase in float32 without reducing it
  modulo 2π; results agree to a phase error growing with the frame index).

  References:
    J. L. Flanagan and R. M. Golden, "Phase vocoder", Bell System Technical Journal, 1966.
    D. P. W. Ellis, "A phase vocoder in Matlab", 2002, http://www.ee.columbia.edu/~dpwe/resources/matlab/pvoc/.
  """
  D = _checks.as_signal(D, "D", min_ndim=2, allow_complex=True)
  if not jnp.iscomplexobj(D):
    D = D.astype(jnp.result_type(D.dtype, jnp.complex64))
  rate = _rate(rate)
  n_fft = 2 * (D.shape[-2] - 1) if n_fft is None else _checks.positive_int(n_fft, "n_fft")
  hop_length = n_fft // 4 if hop_length is None else _checks.positive_int(hop_length, "hop_length")
  return _phase_vocoder(D, rate=rate, hop_length=hop_length, n_fft=n_fft)


def time_stretch(y: ArrayLike, *, rate: float, n_fft: int = 2048, hop_length: int | None = None,
                 win_length: int | None = None, window: Any = "hann", center: bool = True,
                 pad_mode: str = "constant") -> jax.Array:
  """Changes the speed of a signal by ``rate`` without changing its pitch (STFT, phase vocoder, ISTFT).

  Args:
    y: ``(..., n_samples)`` signal.
    rate: speed-up factor (static Python number > 0).
    n_fft, hop_length, win_length, window, center, pad_mode: STFT settings.

  Returns:
    ``(..., round(n_samples / rate))``.

  Raises:
    ValueError: non-positive ``rate`` and the STFT's checks.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.time_stretch(jnp.sin(jnp.arange(8192) / 5.0), rate=2.0, n_fft=512).shape
    (4096,)

  Compare ``librosa.effects.time_stretch``.
  """
  from jaxdsp.spectral import istft, stft  # pylint: disable=import-outside-toplevel
  y = _checks.as_signal(y)
  rate = _rate(rate)
  D = stft(y, n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window, center=center,
           pad_mode=pad_mode)
  D = phase_vocoder(D, rate=rate, hop_length=hop_length, n_fft=n_fft)
  return istft(D, n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window, center=center,
               length=int(round(y.shape[-1] / rate)))


def pitch_shift(y: ArrayLike, *, sr: float, n_steps: float, bins_per_octave: int = 12, n_fft: int = 2048,
                hop_length: int | None = None, win_length: int | None = None, window: Any = "hann",
                center: bool = True, pad_mode: str = "constant", max_denominator: int = 1000) -> jax.Array:
  """Shifts the pitch by ``n_steps`` steps of ``1/bins_per_octave`` octave, keeping the duration.

  :func:`time_stretch` by ``rate = 2^(-n_steps / bins_per_octave)``, then :func:`jaxdsp.resample` by
  ``rate`` (so the duration is restored and the pitch scaled by ``1/rate``), cut or padded to the
  input length. ``jd.resample`` needs a rational ratio: ``rate`` is approximated by the nearest
  fraction with denominator ≤ ``max_denominator`` (at 1000, ≤ 1e-6 relative: well below a cent).

  Args:
    y: ``(..., n_samples)`` signal.
    sr: sample rate (Hz).
    n_steps: shift in steps (may be fractional; static).
    bins_per_octave: steps per octave.
    n_fft, hop_length, win_length, window, center, pad_mode: STFT settings of the stretch.
    max_denominator: bound on the resampling ratio's terms.

  Returns:
    ``(..., n_samples)``.

  Raises:
    ValueError: bad ``sr``, ``n_steps``, ``bins_per_octave`` and the STFT's checks.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.pitch_shift(jnp.sin(jnp.arange(8192) / 5.0), sr=22050, n_steps=4, n_fft=512).shape
    (8192,)

  Compare ``librosa.effects.pitch_shift`` (its default resampler is soxr's "HQ", whose
  specification ``jd.resample`` follows).
  """
  from jaxdsp.io import resample  # pylint: disable=import-outside-toplevel
  y = _checks.as_signal(y)
  _checks.sample_rate(sr)
  bins_per_octave = _checks.positive_int(bins_per_octave, "bins_per_octave")
  if isinstance(n_steps, bool) or not isinstance(n_steps, (int, float, np.integer, np.floating)) \
      or not np.isfinite(n_steps):
    raise ValueError(f"n_steps must be a finite number, got {n_steps!r}")
  max_denominator = _checks.positive_int(max_denominator, "max_denominator")
  rate = 2.0 ** (-float(n_steps) / bins_per_octave)
  ratio = fractions.Fraction(rate).limit_denominator(max_denominator)
  if _core.resample_table_too_large(ratio.numerator, ratio.denominator):
    raise ValueError(f"max_denominator={max_denominator} gives the resampling ratio {ratio}, whose filter table is "
                     "too large for jd.resample: use at most a few thousand (1000 is below a cent)")
  stretched = time_stretch(y, rate=rate, n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window,
                           center=center, pad_mode=pad_mode)
  shifted = resample(stretched, orig_sr=ratio.denominator, target_sr=ratio.numerator)
  n = y.shape[-1]
  if shifted.shape[-1] >= n:
    return shifted[..., :n]
  return jnp.pad(shifted, [(0, 0)] * (shifted.ndim - 1) + [(0, n - shifted.shape[-1])])
