"""Test-signal generators: pure tones, sine sweeps and click tracks.

Each returns a float32 ``jax.Array`` (float64 for traced float64 parameters under x64) ``(n_samples,)`` (``(..., n_samples)`` for a multichannel
click). The length is static (a Python int, from ``length`` or ``duration``). With Python-number
parameters the phase is computed on the host in float64 and rounded once (as librosa/scipy); with a
JAX array for ``frequency``/``phi`` (``tone``) or ``fmin``/``fmax`` (``chirp``) it is computed in
JAX and is differentiable in them (float32 phase: about ``2π·f·t·6e-8`` rad of round-off).
Names, arguments and results follow librosa 0.11.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from jaxdsp import _checks


def _traced(*values: Any) -> bool:
  return any(isinstance(v, jax.Array) or hasattr(v, "aval") for v in values)


def _dtype(*values: Any) -> Any:
  """float32, or float64 when a traced parameter is float64 (x64 enabled)."""
  floats = [v.dtype for v in values if _traced(v) and jnp.issubdtype(v.dtype, jnp.floating)]
  return jnp.result_type(jnp.float32, *floats)


def _length(sr: float, length: Any, duration: Any) -> int:
  if length is None:
    if duration is None:
      raise ValueError("either length or duration must be given")
    duration = _checks.positive_number(duration, "duration")
    if not math.isfinite(duration * sr) or duration * sr > _checks.INT32_MAX:
      raise ValueError(f"duration · sr must be at most 2**31 - 1 samples, got duration={duration!r}")
    return _checks.positive_int(int(duration * sr), "duration (duration · sr samples)")
  return _checks.size(length, "length")


def _frequency(value: Any, name: str) -> Any:
  if value is None:
    raise ValueError(f"{name} must be given")
  if _traced(value):
    return value
  if isinstance(value, np.ndarray) and value.ndim == 0:
    value = value.item()
  return _checks.positive_number(value, name)


def tone(frequency: ArrayLike, *, sr: float = 22050, length: int | None = None, duration: float | None = None,
         phi: ArrayLike | None = None) -> jax.Array:
  """A pure tone ``cos(2π·frequency·n / sr + phi)`` (a sine for the default ``phi = -π/2``).

  Args:
    frequency: frequency in Hz (a number, or a JAX scalar to differentiate through).
    sr: sample rate.
    length: number of samples (static), or
    duration: seconds (``int(duration · sr)`` samples).
    phi: phase offset in radians; default ``-π/2``.

  Returns:
    ``(length,)`` float32.

  Examples:
    >>> import jaxdsp as jd
    >>> [round(v, 3) for v in jd.tone(1000.0, sr=8000, length=4).tolist()]
    [0.0, 0.707, 1.0, 0.707]

  Compare ``librosa.tone``.
  """
  sr = _checks.sample_rate(sr)
  frequency = _frequency(frequency, "frequency")
  n = _length(sr, length, duration)
  phi = -np.pi * 0.5 if phi is None else phi
  if not _traced(phi):
    phi = _checks.real_number(phi.item() if isinstance(phi, np.ndarray) and phi.ndim == 0 else phi, "phi")
  if _traced(frequency, phi):
    dtype = _dtype(frequency, phi)
    t = jnp.arange(n, dtype=dtype) / sr
    return jnp.cos(2 * jnp.pi * frequency * t + phi).astype(dtype)
  phi = float(phi)
  return jnp.asarray(np.cos(2 * np.pi * frequency * np.arange(n) / sr + phi), jnp.float32)


def _chirp_phase(xp, t, f0, f1, t1, linear):
  if linear:
    return 2 * np.pi * (f0 * t + 0.5 * (f1 - f0) / t1 * t * t)
  beta = t1 / xp.log(f1 / f0)
  ratio = f1 / f0
  # f0 == f1 is a tone; the log sweep's formula has 0/0 there.
  same = ratio == 1
  safe_beta = xp.where(same, 1.0, beta)
  sweep = 2 * np.pi * safe_beta * f0 * (xp.power(ratio, t / t1) - 1.0)
  return xp.where(same, 2 * np.pi * f0 * t, sweep)


def chirp(*, fmin: ArrayLike, fmax: ArrayLike, sr: float = 22050, length: int | None = None,
          duration: float | None = None, linear: bool = False, phi: float | None = None) -> jax.Array:
  """A sine sweep from ``fmin`` to ``fmax``, exponential (default) or linear in frequency.

  ``cos(φ(t) + phi)`` with, for ``T`` the duration, ``φ(t) = 2π·fmin·T/ln(fmax/fmin)·((fmax/fmin)^(t/T) - 1)``
  (exponential) or ``2π·(fmin·t + (fmax - fmin)·t²/(2T))`` (linear): scipy's ``chirp``.

  Args:
    fmin, fmax: start and end frequencies in Hz (positive).
    sr: sample rate.
    length: number of samples (static), or
    duration: seconds.
    linear: linear instead of exponential sweep.
    phi: phase offset in radians; default ``-π/2`` (a sine).

  Returns:
    ``(n,)`` float32, ``n = int(duration · sr)`` (or ``length``).

  Examples:
    >>> import jaxdsp as jd
    >>> jd.chirp(fmin=110.0, fmax=880.0, sr=8000, duration=0.5).shape
    (4000,)

  Compare ``librosa.chirp`` (and ``scipy.signal.chirp``).
  """
  sr = _checks.sample_rate(sr)
  fmin, fmax = _frequency(fmin, "fmin"), _frequency(fmax, "fmax")
  n = _length(sr, length, duration)
  if length is not None:
    duration = length / sr
  n = int(duration * sr)  # librosa recomputes the count from the duration
  phi = -np.pi * 0.5 if phi is None else _checks.real_number(phi, "phi")
  if _traced(fmin, fmax):
    dtype = _dtype(fmin, fmax)
    t = jnp.arange(n, dtype=dtype) / sr
    return jnp.cos(_chirp_phase(jnp, t, fmin, fmax, duration, linear) + phi).astype(dtype)
  t = np.arange(n) / sr
  with np.errstate(divide="ignore", invalid="ignore"):  # fmin == fmax: the tone branch is taken
    phase = _chirp_phase(np, t, fmin, fmax, duration, linear)
  return jnp.asarray(np.cos(phase + phi), jnp.float32)


def clicks(*, times: ArrayLike | None = None, frames: ArrayLike | None = None, sr: float = 22050,
           hop_length: int = 512, click_freq: float = 1000.0, click_duration: float = 0.1,
           click: ArrayLike | None = None, length: int | None = None) -> jax.Array:
  """A click track: a click added at each of ``times`` (seconds) or ``frames``.

  The default click is a ``click_freq`` sine under an exponential decay from 1 to 2⁻¹⁰ over
  ``click_duration`` seconds. Click positions (and so the output length) are host values; the
  output is linear in a given ``click`` array and differentiable in it.

  Args:
    times: click times in seconds (host values), or
    frames: click frame indices (placed at ``frames · hop_length``).
    sr: sample rate.
    hop_length: samples per frame, for ``frames``.
    click_freq: frequency of the default click (Hz, > 0).
    click_duration: duration of the default click (s, > 0).
    click: ``(..., click_length)`` click waveform to use instead.
    length: output length; default ``max position + click length``. Clicks past it are cut.

  Returns:
    ``(..., length)`` float32.

  Examples:
    >>> import jaxdsp as jd
    >>> y = jd.clicks(times=[0.0, 0.5], sr=8000, length=8000)
    >>> y.shape, round(float(abs(y[4000:4100]).max()), 3)
    ((8000,), 0.983)

  Compare ``librosa.clicks``.
  """
  sr = _checks.sample_rate(sr)
  if times is None:
    if frames is None:
      raise ValueError("either times or frames must be given")
    hop_length = _checks.positive_int(hop_length, "hop_length")
    positions = (np.asarray(frames) * hop_length).astype(int)
  else:
    positions = (np.asarray(times) * sr).astype(int)
  positions = np.atleast_1d(positions).ravel()
  if np.any(positions < 0):
    raise ValueError(f"times and frames must be non-negative, got positions {positions[positions < 0][:3]}")
  if click is None:
    click_duration = _checks.positive_number(click_duration, "click_duration")
    click_freq = _checks.positive_number(click_freq, "click_freq")
    c = np.logspace(0, -10, num=int(sr * click_duration), base=2.0)
    c *= np.sin(2 * np.pi * click_freq / sr * np.arange(len(c)))
    click = jnp.asarray(c, jnp.float32)
  else:
    click = _checks.as_signal(click, "click")
  n_click = click.shape[-1]
  if length is None:
    if positions.size == 0:
      raise ValueError("length must be given when there are no clicks")
    length = _checks.size(int(positions.max()) + n_click, "the click track's length (last click + click length)")
  else:
    length = _checks.size(length, "length")
    positions = positions[positions < length]
  index = positions[:, None] + np.arange(n_click)  # (n_clicks, n_click)
  keep = index < length
  values = jnp.broadcast_to(click[..., None, :], click.shape[:-1] + index.shape)
  values = jnp.where(jnp.asarray(keep), values, 0)
  out = jnp.zeros(click.shape[:-1] + (length,), jnp.float32)
  return out.at[..., np.minimum(index, length - 1)].add(values.astype(jnp.float32))
