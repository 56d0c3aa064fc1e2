"""Differentiable audio effects: gain, constant-power panning, a parametric EQ chain, a compressor with a
smooth gain computer, distortion, and a fractional delay.

Layout: ``(..., n_samples)`` in, the same out (``pan`` adds a channel axis: ``(..., 2, n_samples)``).
Every parameter may be a scalar or an array whose shape broadcasts against the signal's batch axes
(one setting per example), and is differentiable; ``sample_rate`` and mode strings are static.

References:
  D. Giannoulis, M. Massberg, J. D. Reiss, "Digital dynamic range compressor design — a tutorial and
  analysis", JAES 60(6), 2012 (the soft-knee gain computer and the branching smoother).
  C. J. Steinmetz et al., dasp-pytorch (differentiable effects); J. Engel et al., "DDSP", ICLR 2020.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from jaxdsp import _checks
from jaxdsp.biquads import equalizer_biquad_coeffs
from jaxdsp.filtering import sosfilt

__all__ = ["compressor", "compressor_gain_db", "delay", "distortion", "gain", "pan", "parametric_eq"]


def _param(value: Any, name: str, dtype, *, min_value: float | None = None, strict: bool = False) -> jax.Array:
  if isinstance(value, bool) or value is None:
    raise TypeError(f"{name} must be a real number or a floating array, got {value!r}")
  if not isinstance(value, (jax.Array, jax.core.Tracer)):
    arr = np.asarray(value)
    if arr.dtype.kind not in "fiu":
      raise TypeError(f"{name} must be a real number or a floating array, got {value!r}")
    if not np.all(np.isfinite(arr)):
      raise ValueError(f"{name} must be finite, got {value!r}")
    if min_value is not None and (np.any(arr <= min_value) if strict else np.any(arr < min_value)):
      raise ValueError(f"{name} must be {'>' if strict else '>='} {min_value}, got {value!r}")
  elif not jnp.issubdtype(value.dtype, jnp.floating):
    raise TypeError(f"{name} must be a floating array, got dtype {value.dtype}")
  return jnp.asarray(value, dtype=dtype)


def gain(x: ArrayLike, *, gain_db: ArrayLike) -> jax.Array:
  """Scales by a gain in decibels, ``y = x · 10^(gain_db / 20)``.

  Args:
    x: ``(..., n_samples)`` signal.
    gain_db: gain in dB, scalar or ``(...)`` broadcasting against the batch axes.

  Returns:
    ``(..., n_samples)``.

  Examples:
    >>> gain(jnp.ones(2), gain_db=20.0).tolist()
    [10.0, 10.0]

  Compare ``torchaudio.functional.gain``.
  """
  x = _checks.as_signal(x, "x")
  g = _param(gain_db, "gain_db", x.dtype)
  return x * (10.0 ** (g / 20.0))[..., None]


def pan(x: ArrayLike, *, pan: ArrayLike) -> jax.Array:
  """Constant-power (sin/cos) panning of a mono signal to stereo.

  ``θ = (pan + 1) π / 4``; ``left = cos θ · x``, ``right = sin θ · x``, so ``left² + right² = x²`` for
  every ``pan`` in [-1 (left), 1 (right)] and the centre is −3 dB on each side.

  Args:
    x: ``(..., n_samples)`` mono signal.
    pan: position in [-1, 1], scalar or ``(...)``.

  Returns:
    ``(..., 2, n_samples)`` (left, right).

  Raises:
    ValueError: a host ``pan`` outside [-1, 1].

  Examples:
    >>> np.round(np.asarray(pan(jnp.ones(1), pan=0.0), dtype=float), 4).tolist()
    [[0.7071], [0.7071]]
  """
  x = _checks.as_signal(x, "x")
  p = _param(pan, "pan", x.dtype)
  if not isinstance(pan, (jax.Array, jax.core.Tracer)) and np.any(np.abs(np.asarray(pan)) > 1):
    raise ValueError(f"pan must be in [-1, 1], got {pan!r}")
  theta = (p + 1.0) * (math.pi / 4)
  return jnp.stack([jnp.cos(theta)[..., None] * x, jnp.sin(theta)[..., None] * x], axis=-2)


def parametric_eq(x: ArrayLike, *, sample_rate: float, center_freqs: ArrayLike, gains_db: ArrayLike,
                  Q: ArrayLike = 0.707) -> jax.Array:
  """A chain of peaking-EQ biquads (torchaudio's ``equalizer_biquad``), run as second-order sections.

  Args:
    x: ``(..., n_samples)`` signal.
    sample_rate: sampling rate in Hz.
    center_freqs: ``(..., n_bands)`` band centres in Hz (below Nyquist).
    gains_db: ``(..., n_bands)`` band gains in dB.
    Q: ``(..., n_bands)`` or scalar quality factors.

  Returns:
    ``(..., n_samples)``.

  Examples:
    >>> y = parametric_eq(jnp.ones(8), sample_rate=8000, center_freqs=jnp.array([100., 1000.]),
    ...                   gains_db=jnp.array([0., 0.]))
    >>> y.round(4).tolist()   # 0 dB bands pass the signal unchanged
    [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
  """
  x = _checks.as_signal(x, "x")
  b, a = equalizer_biquad_coeffs(sample_rate=sample_rate, center_freq=center_freqs, gain=gains_db, Q=Q)
  sos = jnp.concatenate([b, a], axis=-1).astype(x.dtype)  # (..., n_bands, 6)
  if sos.ndim == 1:
    sos = sos[None]
  return sosfilt(x, sos=sos)


def compressor_gain_db(level_db: ArrayLike, *, threshold_db: ArrayLike = -20.0, ratio: ArrayLike = 4.0,
                       knee_db: ArrayLike = 6.0) -> jax.Array:
  """The compressor's static curve: gain (≤ 0 dB) applied at an input level, soft knee of width ``knee_db``.

  Giannoulis et al. (2012), eq. 4, with ``d = level_db - threshold_db`` and ``W = knee_db``:
  ``out = level`` for ``2d < -W``; ``level + (1/ratio - 1)(d + W/2)² / (2W)`` inside the knee;
  ``threshold + d / ratio`` above it. Returns ``out - level``. Continuous with a continuous first
  derivative in ``level``, so it is smooth enough to learn ``threshold_db``, ``ratio`` and ``knee_db``.

  Args:
    level_db: ``(...)`` input levels in dB.
    threshold_db: threshold in dB.
    ratio: compression ratio ≥ 1.
    knee_db: knee width in dB (> 0; use a small value for a hard knee).

  Returns:
    ``(...)`` gain in dB.

  Examples:
    >>> g = compressor_gain_db(jnp.array([-40., -20., 0.]), threshold_db=-20.0, ratio=4.0, knee_db=1e-3)
    >>> [round(float(v), 3) for v in g]
    [0.0, -0.0, -15.0]
  """
  level = _checks.as_signal(level_db, "level_db", min_ndim=0)
  t = _param(threshold_db, "threshold_db", level.dtype)
  r = _param(ratio, "ratio", level.dtype, min_value=1.0)
  w = _param(knee_db, "knee_db", level.dtype, min_value=0.0, strict=True)
  d = level - t
  slope = 1.0 / r - 1.0
  knee = slope * (d + w / 2) ** 2 / (2 * w)
  above = slope * d
  return jnp.where(2 * d < -w, 0.0, jnp.where(2 * d > w, above, knee))


def compressor(x: ArrayLike, *, sample_rate: float, threshold_db: ArrayLike = -20.0, ratio: ArrayLike = 4.0,
               knee_db: ArrayLike = 6.0, attack_ms: ArrayLike = 5.0, release_ms: ArrayLike = 50.0,
               makeup_db: ArrayLike = 0.0, eps: float = 1e-8) -> jax.Array:
  """Feed-forward dynamic range compressor with a smooth, differentiable gain computer.

  Per sample: level ``L = 20 log10(|x| + eps)``; static gain ``G = compressor_gain_db(L, ...)``
  (soft knee); smoothed gain ``g[n] = α g[n-1] + (1 - α) G[n]`` with ``α = α_attack`` while the
  gain falls (``G[n] < g[n-1]``) and ``α_release`` otherwise, ``α = exp(-1 / (τ · sample_rate))``
  (Giannoulis et al.'s branching one-pole smoother in the dB domain); output
  ``y = x · 10^((g + makeup_db) / 20)``. Differentiable in every parameter and the signal (the
  branch choice itself has zero gradient). The smoother is a nonlinear recursion (which coefficient
  applies depends on the previous output), so it has no associative or chunked form that is exact
  (compositions of its two-piece maps do not stay two-piece) and runs as a sequential ``lax.scan`` over
  time.

  Args:
    x: ``(..., n_samples)`` signal.
    sample_rate: sampling rate in Hz.
    threshold_db, ratio, knee_db: the static curve (see :func:`compressor_gain_db`).
    attack_ms, release_ms: smoother time constants in milliseconds (> 0).
    makeup_db: gain added after compression.
    eps: floor inside the logarithm (> 0).

  Returns:
    ``(..., n_samples)``.

  Examples:
    >>> y = compressor(jnp.ones(2000), sample_rate=8000, threshold_db=-20.0, ratio=4.0, knee_db=1e-3)
    >>> round(float(20 * jnp.log10(y[-1])), 2)   # 0 dB in, -20 + 20/4 = -15 dB out once settled
    -15.0
  """
  x = _checks.as_signal(x, "x")
  sr = _checks.sample_rate(sample_rate, "sample_rate")
  eps = _param(eps, "eps", x.dtype, min_value=0.0, strict=True)
  level = 20.0 * jnp.log10(jnp.abs(x) + eps)
  g_static = compressor_gain_db(level, threshold_db=_b(threshold_db), ratio=_b(ratio), knee_db=_b(knee_db))
  att = _param(attack_ms, "attack_ms", x.dtype, min_value=0.0, strict=True)
  rel = _param(release_ms, "release_ms", x.dtype, min_value=0.0, strict=True)
  a_att = jnp.exp(-1.0 / (att * 1e-3 * sr))
  a_rel = jnp.exp(-1.0 / (rel * 1e-3 * sr))
  g = _smooth_gain(g_static, a_att, a_rel)
  makeup = _param(makeup_db, "makeup_db", x.dtype)
  return x * 10.0 ** ((g + makeup[..., None]) / 20.0)


@jax.jit
def _smooth_gain(g_static: jax.Array, a_att: jax.Array, a_rel: jax.Array) -> jax.Array:
  """Giannoulis' branching one-pole smoother over the last axis (compiled once per shape)."""
  batch = g_static.shape[:-1]
  a_att = jnp.broadcast_to(a_att, batch)
  a_rel = jnp.broadcast_to(a_rel, batch)

  def step(g_prev, gs):
    alpha = jnp.where(gs < g_prev, a_att, a_rel)
    g = alpha * g_prev + (1.0 - alpha) * gs
    return g, g

  _, g = jax.lax.scan(step, jnp.zeros(batch, g_static.dtype), jnp.moveaxis(g_static, -1, 0))
  return jnp.moveaxis(g, 0, -1)


def _b(v: Any) -> Any:
  """A per-example parameter ``(...)`` made to broadcast against ``(..., n_samples)``."""
  if isinstance(v, (jax.Array, jax.core.Tracer, np.ndarray)) and np.ndim(v) > 0:
    return v[..., None]
  return v


def distortion(x: ArrayLike, *, drive_db: ArrayLike = 0.0, mode: str = "tanh") -> jax.Array:
  """Memoryless waveshaping: ``y = f(10^(drive_db/20) · x)``.

  ``mode="tanh"``: ``f(u) = tanh(u)``. ``mode="soft_clip"``: the cubic soft clipper
  ``f(u) = 1.5 (u - u³/3)`` for ``|u| ≤ 1`` and ``sign(u)`` beyond (continuous with a continuous
  slope; its gradient is zero in the clipped region, where the output is flat).

  Args:
    x: ``(..., n_samples)`` signal.
    drive_db: input gain in dB before the nonlinearity.
    mode: ``"tanh"`` or ``"soft_clip"``.

  Returns:
    ``(..., n_samples)`` in [-1, 1].

  Examples:
    >>> distortion(jnp.array([-2., 0., 0.5, 2.]), mode="soft_clip").round(4).tolist()
    [-1.0, 0.0, 0.6875, 1.0]
  """
  x = _checks.as_signal(x, "x")
  _checks.choice(mode, "mode", ("tanh", "soft_clip"))
  u = x * (10.0 ** (_param(drive_db, "drive_db", x.dtype) / 20.0))[..., None]
  if mode == "tanh":
    return jnp.tanh(u)
  uc = jnp.clip(u, -1.0, 1.0)
  return 1.5 * (uc - uc ** 3 / 3.0)


def delay(x: ArrayLike, *, delay_samples: ArrayLike, mode: str = "linear") -> jax.Array:
  """Fractional delay, differentiable in the delay time: ``y[n] = x[n - d]`` (zeros before the start).

  ``mode="linear"``: linear interpolation between the two nearest samples,
  ``y[n] = (1 - f) x[n - k] + f x[n - k - 1]`` with ``d = k + f``; its gradient in ``d`` is the local
  slope ``x[n-k-1] - x[n-k]`` (piecewise constant in ``d``). ``mode="fft"``: the band-limited delay
  ``Y(ω) = X(ω) e^{-iωd}`` on a zero-padded FFT (length ≥ ``n + ceil(max d)``, so no wrap-around for
  delays up to ``n_samples``), smooth in ``d``; exact for band-limited signals, with the sinc
  ringing of an ideal fractional delay otherwise.

  Args:
    x: ``(..., n_samples)`` signal.
    delay_samples: delay ``d ≥ 0`` in samples (may be fractional), scalar or ``(...)``.
    mode: ``"linear"`` or ``"fft"``.

  Returns:
    ``(..., n_samples)``.

  Raises:
    ValueError: a negative host ``delay_samples``, unknown ``mode``.

  Examples:
    >>> delay(jnp.array([1., 0., 0., 0.]), delay_samples=1.5).tolist()
    [0.0, 0.5, 0.5, 0.0]
  """
  x = _checks.as_signal(x, "x")
  _checks.choice(mode, "mode", ("linear", "fft"))
  d = _param(delay_samples, "delay_samples", x.dtype, min_value=0.0)
  n = x.shape[-1]
  if mode == "fft":
    nfft = 1 << int(math.ceil(math.log2(2 * n)))
    w = 2 * jnp.pi * jnp.fft.rfftfreq(nfft).astype(x.dtype)
    spec = jnp.fft.rfft(x, n=nfft) * jnp.exp(-1j * w * d[..., None])
    return jnp.fft.irfft(spec, n=nfft)[..., :n].astype(x.dtype)
  k = jnp.floor(d)
  f = (d - k)[..., None]
  idx = jnp.arange(n, dtype=x.dtype) - k[..., None]  # (..., n): the sample x[n - k]

  def take(i):
    valid = (i >= 0) & (i < n)
    ii = jnp.clip(i, 0, n - 1).astype(jnp.int32)
    xb = jnp.broadcast_to(x, jnp.broadcast_shapes(x.shape, ii.shape))
    return jnp.where(valid, jnp.take_along_axis(xb, jnp.broadcast_to(ii, xb.shape), axis=-1), 0.0)

  return (1.0 - f) * take(idx) + f * take(idx - 1.0)
