"""Morlet wavelets and the continuous wavelet transform (CWT).

Layout: time is the last axis and any leading axes are batch axes; a scalogram is
``(..., n_scales, n_samples)``. Scales are in samples (``scale=1`` is the mother wavelet sampled at
the sample rate), as in PyWavelets; ``sr`` only converts between scales and frequencies in Hz.

Wavelets (``wavelet=``):

* ``"morl"`` — PyWavelets' real Morlet, ψ(t) = e^{-t²/2} cos(5t),
  Ψ(ω) = √(π/2)·[e^{-(ω-5)²/2} + e^{-(ω+5)²/2}]; real CWT.
* ``"cmorB-C"`` (e.g. ``"cmor1.5-1.0"``), or ``"cmor"`` with ``bandwidth=B, center=C`` — PyWavelets'
  complex Morlet, ψ(t) = (πB)^{-1/2} e^{-t²/B} e^{i2πCt}, Ψ(ω) = e^{-B(ω-2πC)²/4}; complex CWT.
  A bare ``"cmor"`` means B = 1.5, C = 1.0 by default; with ``compat="pywt"`` it means PyWavelets'
  B = 1.0, C = 0.5 (with PyWavelets' ``FutureWarning``; write ``"cmorB-C"`` to avoid both).
* ``"morlet"`` with ``w0=`` (default 6) — the unit-energy Morlet of Torrence & Compo (1998),
  ψ(t) = π^{-1/4} e^{iω0t} e^{-t²/2}, Ψ(ω) = π^{-1/4}√(2π)·e^{-(ω-ω0)²/2}; complex CWT.

``bandwidth``, ``center``, ``w0`` and the scales may be traced arrays (learnable filterbanks); the
number of scales is static (it is a shape).

The transform (L2 form, as PyWavelets and Torrence & Compo), with Ψ the Fourier transform of ψ and
ω_k the DFT frequencies of the zero-padded signal::

    W[s, n] = s^{-1/2} Σ_k y[k] ψ*((k - n) / s) = √s · IDFT{ Y[k] · Ψ*(s·ω_k) }[n]

``cwt`` evaluates the right-hand side exactly (the analytic Ψ on the DFT grid, no discretised
filter), so it equals the sampled direct sum at every scale above the aliasing bound. With
``compat="pywt"`` it instead rebuilds PyWavelets' own discretised filters (see
``docs/wavelets.md`` for how far those are from the definition).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
import warnings
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.typing import ArrayLike

from jaxdsp import _checks
from jaxdsp import _ops
from jaxdsp import _pywt_compat
from jaxdsp import _core

WAVELETS = ("morl", "cmorB-C", "cmor", "morlet")
NORMALIZATIONS = ("l2", "l1")
OUTPUTS = ("coefficients", "magnitude", "power")
# Applied to each chunk of coefficients, so the full coefficient array is never held.
_OUTPUT_FN = {"coefficients": lambda z: z, "magnitude": _ops.safe_abs, "power": _ops.abs2}
COMPAT = (None, "pywt")
_MAX_SCALES = 1 << 20  # cwt_frequencies refuses grids of more scales (a scalogram row each)
_MAX_PRECISION = 24  # PyWavelets' wavelet grid has 2**precision points (its default: 12)

# Zeros appended to the signal: PAD_SIGMAS envelope standard deviations of the largest scale, so
# the circular convolution wraps only where the wavelet is below e^{-PAD_SIGMAS²/2} ≈ 1e-14.
PAD_SIGMAS = 8.0
# Largest (batch × scales × FFT bins) block processed at once; above it the scales are chunked.
_CHUNK_ELEMENTS = 1 << 18
_CMOR_RE = re.compile(r"^cmor(?P<b>\d+(?:\.\d*)?|\.\d+)-(?P<c>\d+(?:\.\d*)?|\.\d+)$")
_TC_AMP = math.pi**-0.25 * math.sqrt(2.0 * math.pi)  # peak of the Torrence–Compo Ψ


# ---------------------------------------------------------------------------------------------
# Wavelet specification.


@dataclasses.dataclass(frozen=True)
class _Wavelet:
  """A parsed wavelet: ``morl`` or a Gaussian complex Morlet ``amp·e^{-B(ω-2πC)²/4}``."""

  name: str  # as the user wrote it, for messages
  family: str  # "morl", "cmor" or "morlet"
  bandwidth: Any = None  # B (float or array); "morlet": 2
  center: Any = None  # C (float or array); "morlet": w0 / 2π
  amp: float = 1.0  # peak of Ψ

  @property
  def is_complex(self) -> bool:
    return self.family != "morl"

  @property
  def concrete(self) -> bool:
    return self.family == "morl" or (_is_concrete(self.bandwidth) and _is_concrete(self.center))


def _is_concrete(x: Any) -> bool:
  if isinstance(x, jax.core.Tracer):
    return False
  return True


def _param(value: Any, name: str) -> Any:
  """Checks a wavelet parameter: a positive finite number, or an array (maybe traced)."""
  if isinstance(value, (jax.Array, np.ndarray)) or hasattr(value, "aval"):
    if np.ndim(value) > 1:
      raise ValueError(f"{name} must be a scalar or a 1-D array (one value per scale), got shape {np.shape(value)}")
    if not jnp.issubdtype(value.dtype, jnp.floating) and not jnp.issubdtype(value.dtype, jnp.integer):
      raise TypeError(f"{name} must be real, got dtype {value.dtype}")
    if _is_concrete(value):
      host = np.asarray(value, dtype=np.float64)
      if host.size == 0 or not np.all(np.isfinite(host)) or np.any(host <= 0):
        raise ValueError(f"{name} must be positive and finite, got {host}")
      if isinstance(value, np.ndarray):
        return host if host.ndim else float(host)
    return value
  return _checks.positive_number(value, name)


def _parse_wavelet(wavelet: Any, bandwidth: Any, center: Any, w0: Any, compat: str | None = None) -> _Wavelet:
  if not isinstance(wavelet, str):
    raise TypeError(f"wavelet must be a name like 'morl', 'cmor1.5-1.0' or 'morlet', got {wavelet!r}")
  name = wavelet
  if name == "morl":
    for value, arg in ((bandwidth, "bandwidth"), (center, "center"), (w0, "w0")):
      if value is not None:
        raise ValueError(f"{arg} does not apply to wavelet 'morl' (its centre is fixed at 5 rad/sample), got {arg}={value!r}")
    return _Wavelet(name, "morl")
  if name == "morlet":
    for value, arg in ((bandwidth, "bandwidth"), (center, "center")):
      if value is not None:
        raise ValueError(f"{arg} does not apply to wavelet 'morlet' (use w0=), got {arg}={value!r}")
    w0 = 6.0 if w0 is None else _param(w0, "w0")
    return _Wavelet(name, "morlet", bandwidth=2.0, center=w0 / (2.0 * math.pi) if isinstance(w0, float)
                    else w0 / (2.0 * np.pi), amp=_TC_AMP)
  if name.startswith("cmor"):
    if w0 is not None:
      raise ValueError(f"w0 does not apply to wavelet {name!r} (use bandwidth= and center=), got w0={w0!r}")
    if name == "cmor":
      if compat == "pywt" and bandwidth is None and center is None:
        # PyWavelets' bare "cmor" is cmor1.0-0.5 (deprecated there, with this FutureWarning).
        warnings.warn("wavelet 'cmor' without parameters means 'cmor1.0-0.5' in PyWavelets (compat='pywt'), "
                      "'cmor1.5-1.0' in jaxdsp's default mode: write 'cmorB-C', e.g. 'cmor1.5-1.0'",
                      FutureWarning, stacklevel=_core.find_stacklevel())
        return _Wavelet(name, "cmor", bandwidth=1.0, center=0.5)
      b = 1.5 if bandwidth is None else _param(bandwidth, "bandwidth")
      c = 1.0 if center is None else _param(center, "center")
      return _Wavelet(name, "cmor", bandwidth=b, center=c)
    match = _CMOR_RE.match(name)
    if match is None:
      raise ValueError(
          f"wavelet must be 'cmorB-C' with positive numbers B (bandwidth) and C (centre frequency), "
          f"e.g. 'cmor1.5-1.0', got {name!r}"
      )
    if bandwidth is not None or center is not None:
      raise ValueError(
          f"wavelet {name!r} already fixes B and C; pass wavelet='cmor' to give bandwidth= and center="
      )
    b, c = float(match["b"]), float(match["c"])
    if b <= 0:
      raise ValueError(f"wavelet {name!r}: the bandwidth B must be positive, got {b}")
    if c <= 0:
      raise ValueError(f"wavelet {name!r}: the centre frequency C must be positive, got {c}")
    return _Wavelet(name, "cmor", bandwidth=b, center=c)
  raise ValueError(f"wavelet must be one of {WAVELETS} (e.g. 'cmor1.5-1.0'), got {name!r}")


def _omega_c(spec: _Wavelet) -> Any:
  """Centre (peak) angular frequency of Ψ, in rad per unit time at scale 1."""
  if spec.family == "morl":
    return 5.0
  return 2.0 * np.pi * spec.center


def _sigma(spec: _Wavelet) -> float:
  """Standard deviation of the envelope |ψ(t)| (as a Gaussian in t) at scale 1; static."""
  if spec.family == "cmor" and not isinstance(spec.bandwidth, jax.core.Tracer):
    return float(np.sqrt(np.max(np.asarray(spec.bandwidth)) / 2.0))
  return 1.0  # morl, morlet; a traced cmor bandwidth is assumed ≤ 2 (documented in ``cwt``)


def _aliasing_bound(spec: _Wavelet, eps: float = 1e-16) -> Any:
  """Smallest scale whose Ψ(s·ω) has fallen below ``eps`` of its peak at Nyquist (ω = π).

  ``"morl"``: (5 + √(2 ln(1/eps))) / π; ``"cmorB-C"``: 2C + √(4 ln(1/eps) / B) / π;
  ``"morlet"``: (ω0 + √(2 ln(1/eps))) / π. For eps = 1e-16: 4.3 (morl), 5.2 (cmor1.5-1.0), 4.6
  (ω0 = 6). Per scale when the parameters are arrays; None when they are traced.
  """
  log_eps = math.log(1.0 / eps)
  if spec.family == "morl":
    return (5.0 + math.sqrt(2.0 * log_eps)) / math.pi
  if not spec.concrete:
    return None
  b = np.asarray(spec.bandwidth, dtype=np.float64)
  c = np.asarray(spec.center, dtype=np.float64)
  return 2.0 * c + np.sqrt(4.0 * log_eps / b) / math.pi


def psi_hat(family: str, amp: float, w: jax.Array, bandwidth: Any = None, center: Any = None) -> jax.Array:
  """Ψ(ω) (real for all three families)."""
  if family == "morl":
    return math.sqrt(math.pi / 2) * (jnp.exp(-0.5 * (w - 5.0) ** 2) + jnp.exp(-0.5 * (w + 5.0) ** 2))
  return amp * jnp.exp(-0.25 * bandwidth * (w - 2.0 * np.pi * center) ** 2)


# ---------------------------------------------------------------------------------------------
# The wavelet itself.


def morlet(
    t: ArrayLike,
    *,
    wavelet: str = "cmor1.5-1.0",
    bandwidth: Any = None,
    center: Any = None,
    w0: Any = None,
    scale: Any = 1.0,
) -> jax.Array:
  """Samples a Morlet wavelet, ``s^{-1/2}·ψ(t / s)``, at times ``t`` (in samples).

  ``cwt`` correlates the signal with exactly this function:
  ``W[s, n] = Σ_k y[k]·conj(morlet(k - n, scale=s))`` (above the aliasing bound).

  Args:
    t: times in samples (any shape).
    wavelet: ``"morl"`` (real, ψ = e^{-t²/2} cos 5t), ``"cmorB-C"`` / ``"cmor"`` (complex,
      ψ = (πB)^{-1/2} e^{-t²/B} e^{i2πCt}) or ``"morlet"`` (Torrence & Compo,
      ψ = π^{-1/4} e^{iω0t} e^{-t²/2}).
    bandwidth, center: B and C of ``"cmor"`` (defaults 1.5 and 1.0); may be traced.
    w0: ω0 of ``"morlet"`` (default 6.0); may be traced.
    scale: the scale ``s`` in samples, positive (scalar, may be traced).

  Returns:
    Array of ``t``'s shape: real for ``"morl"``, complex otherwise.

  Raises:
    ValueError: unknown or malformed wavelet name, non-positive parameter or ``scale``, NaN/inf in
      host ``t``.

  Examples:
    >>> import jaxdsp as jd, jax.numpy as jnp
    >>> psi = jd.morlet(jnp.arange(-64, 65), wavelet="cmor1.5-1.0", scale=8.0)
    >>> psi.shape, psi.dtype
    ((129,), dtype('complex64'))

  Compare ``pywt.ContinuousWavelet(name).wavefun()``.
  """
  spec = _parse_wavelet(wavelet, bandwidth, center, w0)
  scale = _param(scale, "scale")
  kind = np.dtype(t.dtype).kind if hasattr(t, "dtype") else np.asarray(t).dtype.kind
  if kind not in "biuf":
    raise TypeError(f"t must be real times (in samples), got {t!r:.60}")
  _checks.host_finite(t, "t")
  t = jnp.asarray(t)
  if not jnp.issubdtype(t.dtype, jnp.floating):
    t = t.astype(jnp.result_type(float))
  return _morlet(t, jnp.asarray(scale, dtype=t.dtype), spec.bandwidth, spec.center, family=spec.family, amp=spec.amp)


@functools.partial(jax.jit, static_argnames=("family", "amp"))
def _morlet(t: jax.Array, s: jax.Array, b: Any, c: Any, *, family: str, amp: float) -> jax.Array:
  u = t / s
  if family == "morl":
    return jnp.exp(-0.5 * u**2) * jnp.cos(5.0 * u) / jnp.sqrt(s)
  env = amp / jnp.sqrt(jnp.pi * b) * jnp.exp(-(u**2) / b)
  return env * jnp.exp(1j * (2.0 * jnp.pi * c) * u) / jnp.sqrt(s)


# ---------------------------------------------------------------------------------------------
# Scales and frequencies.


def _any_jax(*xs: Any) -> bool:
  return any(isinstance(x, jax.Array) or hasattr(x, "aval") for x in xs)


def _center_frequency(spec: _Wavelet, compat: str | None, precision: int) -> Any:
  """Peak frequency of ψ at scale 1, in cycles per sample."""
  if compat == "pywt":
    if spec.family == "morlet":
      raise ValueError("compat='pywt' needs a PyWavelets wavelet ('morl' or 'cmorB-C'), got 'morlet'")
    if not spec.concrete or np.ndim(spec.bandwidth) or np.ndim(spec.center):
      raise ValueError("compat='pywt' needs concrete scalar bandwidth and center (not traced arrays)")
    return _pywt_compat.central_frequency(spec.family, spec.bandwidth, spec.center, precision)
  return _omega_c(spec) / (2.0 * np.pi)


def _compat_arg(compat: Any, precision: Any) -> tuple[str | None, int]:
  _checks.choice(compat, "compat", COMPAT)
  precision = _checks.positive_int(precision, "precision")
  if precision > _MAX_PRECISION:
    raise ValueError(f"precision must be at most {_MAX_PRECISION} (a grid of 2**precision points), got {precision}")
  return compat, precision


def scale_to_frequency(
    scales: ArrayLike,
    *,
    sr: float = 1.0,
    wavelet: str = "cmor1.5-1.0",
    bandwidth: Any = None,
    center: Any = None,
    w0: Any = None,
    compat: str | None = None,
    precision: int = 12,
) -> Any:
  """Frequency (Hz) of the spectral peak of the wavelet at each scale: ``f = sr·ω_c / (2π·s)``.

  ω_c is 5 for ``"morl"``, 2πC for ``"cmorB-C"`` and ω0 for ``"morlet"``. With ``compat="pywt"``
  it returns PyWavelets' ``scale2frequency(wavelet, s, precision) * sr`` instead, whose centre
  frequency is quantised to multiples of 1/16 cycle (0.8125 for ``"morl"`` instead of
  5/2π ≈ 0.7958).

  Args:
    scales: scales in samples, any shape.
    sr: sample rate in Hz (1.0 gives cycles per sample).
    wavelet, bandwidth, center, w0: the wavelet, as in ``cwt``.
    compat: ``None`` (exact) or ``"pywt"``.
    precision: PyWavelets' ``precision`` (only with ``compat="pywt"``).

  Returns:
    Frequencies in Hz, the shape of ``scales``: a NumPy float64 array for host input, a
    ``jax.Array`` when ``scales`` or a wavelet parameter is a JAX array (differentiable).

  Raises:
    ValueError: non-positive scales (host input), bad wavelet, ``compat="pywt"`` with
      ``"morlet"``.

  Examples:
    >>> import jaxdsp as jd
    >>> float(jd.scale_to_frequency(10.0, sr=22050, wavelet="cmor1.5-1.0"))
    2205.0

  Compare ``pywt.scale2frequency``.
  """
  sr = _checks.sample_rate(sr)
  compat, precision = _compat_arg(compat, precision)
  spec = _parse_wavelet(wavelet, bandwidth, center, w0, compat)
  fc = _center_frequency(spec, compat, precision)
  if _any_jax(scales, spec.bandwidth, spec.center):
    return sr * fc / jnp.asarray(scales)
  s = _host_positive(scales, "scales")
  return sr * np.asarray(fc, dtype=np.float64) / s


def frequency_to_scale(
    freqs: ArrayLike,
    *,
    sr: float = 1.0,
    wavelet: str = "cmor1.5-1.0",
    bandwidth: Any = None,
    center: Any = None,
    w0: Any = None,
    compat: str | None = None,
    precision: int = 12,
) -> Any:
  """Scale (in samples) whose wavelet peaks at each frequency: ``s = sr·ω_c / (2π·f)``.

  The inverse of ``scale_to_frequency`` (same arguments, same ``compat`` rule).

  Args:
    freqs: frequencies in Hz, any shape; at most the Nyquist frequency ``sr / 2``.
    sr: sample rate in Hz.
    wavelet, bandwidth, center, w0: the wavelet, as in ``cwt``.
    compat: ``None`` (exact) or ``"pywt"`` (PyWavelets' quantised centre frequency, as
      ``pywt.frequency2scale(wavelet, freqs / sr, precision)``).
    precision: PyWavelets' ``precision`` (only with ``compat="pywt"``).

  Returns:
    Scales, the shape of ``freqs``: NumPy float64 for host input, ``jax.Array`` for JAX input.

  Raises:
    ValueError: non-positive frequencies or frequencies above ``sr / 2`` (host input).

  Examples:
    >>> import jaxdsp as jd
    >>> float(jd.frequency_to_scale(2205.0, sr=22050, wavelet="cmor1.5-1.0"))
    10.0

  Compare ``pywt.frequency2scale``.
  """
  sr = _checks.sample_rate(sr)
  compat, precision = _compat_arg(compat, precision)
  spec = _parse_wavelet(wavelet, bandwidth, center, w0, compat)
  fc = _center_frequency(spec, compat, precision)
  if _any_jax(freqs, spec.bandwidth, spec.center):
    return sr * fc / jnp.asarray(freqs)
  f = _host_freqs(freqs, sr)
  return sr * np.asarray(fc, dtype=np.float64) / f


def cwt_frequencies(
    *,
    fmin: float,
    fmax: float,
    n_scales: int | None = None,
    voices_per_octave: int | None = None,
    sr: float | None = None,
) -> np.ndarray:
  """Geometrically spaced CWT frequencies from ``fmax`` down to ``fmin``.

  Decreasing frequencies, so that the matching scales (``frequency_to_scale``) increase, as
  PyWavelets and Torrence & Compo order them. Give exactly one of ``n_scales`` (both ends
  included, ``geomspace(fmax, fmin, n_scales)``) or ``voices_per_octave`` (``fmax·2^{-k/v}`` for
  every ``k`` that stays ≥ ``fmin``).

  Args:
    fmin, fmax: lowest and highest frequency in Hz, ``0 < fmin <= fmax``.
    n_scales: number of frequencies.
    voices_per_octave: frequencies per octave.
    sr: sample rate; when given, ``fmax`` must be at most ``sr / 2``.

  Returns:
    ``(n_scales,)`` NumPy float64 array.

  Raises:
    ValueError: bad range, neither or both of ``n_scales`` / ``voices_per_octave``.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.cwt_frequencies(fmin=250.0, fmax=1000.0, voices_per_octave=2).tolist()
    [1000.0, 707.1067811865476, 500.0, 353.5533905932738, 250.0]
  """
  fmin = _checks.positive_number(fmin, "fmin")
  fmax = _checks.positive_number(fmax, "fmax")
  if fmin > fmax:
    raise ValueError(f"fmin must be <= fmax, got fmin={fmin}, fmax={fmax}")
  if sr is not None:
    sr = _checks.sample_rate(sr)
    if fmax > sr / 2:
      raise ValueError(f"fmax must be at most the Nyquist frequency sr/2={sr / 2}, got {fmax}")
  if (n_scales is None) == (voices_per_octave is None):
    raise ValueError("give exactly one of n_scales or voices_per_octave")
  if n_scales is not None:
    n_scales = _checks.positive_int(n_scales, "n_scales")
    if n_scales > _MAX_SCALES:
      raise ValueError(f"n_scales must be at most {_MAX_SCALES}, got {n_scales}")
    if n_scales == 1:
      return np.array([fmax])
    return np.geomspace(fmax, fmin, n_scales)
  v = _checks.positive_int(voices_per_octave, "voices_per_octave")
  n = int(math.floor(v * math.log2(fmax / fmin) + 1e-9)) + 1
  if n > _MAX_SCALES:
    raise ValueError(f"voices_per_octave={v} gives {n} scales over fmin..fmax, more than {_MAX_SCALES}")
  return fmax * 2.0 ** (-np.arange(n) / v)


def fourier_period_factor(w0: float = 6.0) -> float:
  """Torrence & Compo's Fourier period per unit scale of the Morlet wavelet, 4π / (ω0 + √(2 + ω0²)).

  A ``"morlet"`` wavelet at scale ``s`` responds most to a sinusoid of period ``λ = factor·s``
  (the maximum of the L2-normalised response, 1.033·s for ω0 = 6). This differs slightly from
  ``1 / scale_to_frequency`` (the peak of Ψ, 2π·s/ω0 = 1.047·s), which ignores the √s
  normalisation.

  Args:
    w0: ω0 of the Morlet wavelet (positive, Python number).

  Returns:
    The factor (float).

  Examples:
    >>> import jaxdsp as jd
    >>> round(jd.fourier_period_factor(6.0), 4)
    1.033

  References:
    Torrence, C. and Compo, G. P. (1998). A practical guide to wavelet analysis. Bull. Amer.
    Meteor. Soc., 79, 61–78. Table 1.
  """
  w0 = _checks.positive_number(w0, "w0")
  return 4.0 * math.pi / (w0 + math.sqrt(2.0 + w0 * w0))


def cone_of_influence(
    scales: ArrayLike | None = None,
    *,
    freqs: ArrayLike | None = None,
    sr: float = 1.0,
    n_samples: int | None = None,
    wavelet: str = "cmor1.5-1.0",
    bandwidth: Any = None,
    center: Any = None,
    w0: Any = None,
) -> Any:
  """Cone of influence: where edge effects reach the CWT.

  Torrence & Compo's e-folding time, the distance from an edge at which the wavelet power of an
  edge discontinuity has fallen by e²: ``√2·σ·s`` samples, with σ the standard deviation of the
  Gaussian envelope e^{-t²/(2σ²)} of ψ (σ = 1 for ``"morl"`` and ``"morlet"``, σ = √(B/2) for
  ``"cmorB-C"``), so ``√2·s`` for the Morlet of Torrence & Compo.

  Args:
    scales: ``(n_scales,)`` scales in samples (or give ``freqs``).
    freqs: ``(n_scales,)`` frequencies in Hz, converted with ``frequency_to_scale``.
    sr: sample rate for ``freqs``.
    n_samples: if given, return a mask instead of the half-widths.
    wavelet, bandwidth, center, w0: the wavelet, as in ``cwt``.

  Returns:
    Without ``n_samples``: the half-width per scale in samples, ``(n_scales,)``. With it: a boolean
    mask ``(n_scales, n_samples)``, True where a coefficient lies within the half-width of either
    end of the signal (inside the cone, edge effects matter). NumPy for host input, ``jax.Array``
    for JAX input.

  Raises:
    ValueError: neither or both of ``scales`` / ``freqs``, non-positive scales.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.cone_of_influence([1.0, 10.0], wavelet="cmor2.0-1.0").round(3).tolist()
    [1.414, 14.142]

  References:
    Torrence, C. and Compo, G. P. (1998). A practical guide to wavelet analysis. Section 3g.
  """
  spec = _parse_wavelet(wavelet, bandwidth, center, w0)
  scales = _scales_from(scales, freqs, sr, wavelet, bandwidth, center, w0, None, 12)
  if spec.family == "cmor":
    sigma = (jnp if _any_jax(spec.bandwidth) else np).sqrt(spec.bandwidth / 2.0)
  else:
    sigma = 1.0
  xp = jnp if _any_jax(scales, sigma) else np
  half = math.sqrt(2.0) * sigma * xp.asarray(scales)
  if n_samples is None:
    return half
  n_samples = _checks.size(n_samples, "n_samples")
  n = xp.arange(n_samples)
  dist = xp.minimum(n, n_samples - 1 - n)
  return dist[None, :] < half[:, None]


# ---------------------------------------------------------------------------------------------
# Argument handling.


def _host_positive(x: Any, name: str) -> np.ndarray:
  try:
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
      raise TypeError(arr.dtype)
    arr = arr.astype(np.float64)
  except (TypeError, ValueError) as e:
    raise TypeError(f"{name} must be positive real numbers, got {x!r:.60}") from e
  if arr.size == 0:
    raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
  if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
    raise ValueError(f"{name} must be positive and finite, got {arr}")
  return arr


def _host_freqs(f: Any, sr: float) -> np.ndarray:
  f = _host_positive(f, "freqs")
  if np.any(f > sr / 2):
    raise ValueError(f"freqs must be at most the Nyquist frequency sr/2={sr / 2:g} Hz, got max {f.max():g}")
  return f


def _scales_from(scales, freqs, sr, wavelet, bandwidth, center, w0, compat, precision) -> Any:
  """The scales (1-D), from ``scales`` or from ``freqs``; NumPy when concrete."""
  if (scales is None) == (freqs is None):
    raise ValueError("give exactly one of scales or freqs")
  if scales is None:
    if np.ndim(freqs) > 1:
      raise ValueError(f"freqs must be 1-D, got shape {np.shape(freqs)}")
    if not isinstance(freqs, jax.core.Tracer):
      freqs = np.asarray(freqs, dtype=np.float64)
    scales = frequency_to_scale(
        jnp.atleast_1d(freqs) if _any_jax(freqs) else np.atleast_1d(freqs),
        sr=sr, wavelet=wavelet, bandwidth=bandwidth, center=center, w0=w0, compat=compat,
        precision=precision,
    )
    if isinstance(scales, jax.Array) and not isinstance(scales, jax.core.Tracer):
      scales = np.asarray(scales, dtype=np.float64)
  if np.ndim(scales) > 1:
    raise ValueError(f"scales must be 1-D, got shape {np.shape(scales)}")
  if isinstance(scales, jax.core.Tracer):
    if scales.ndim == 0:
      scales = scales[None]
    if scales.shape[0] == 0:
      raise ValueError(f"scales must not be empty, got shape {scales.shape}")
    return scales
  if isinstance(scales, jax.Array):
    if not jnp.issubdtype(scales.dtype, jnp.floating) and not jnp.issubdtype(scales.dtype, jnp.integer):
      raise TypeError(f"scales must be real, got dtype {scales.dtype}")
    arr = np.asarray(scales)
  else:
    try:
      arr = np.asarray(scales)
    except Exception as e:  # pragma: no cover
      raise TypeError(f"scales must be an array of positive numbers, got {type(scales).__name__}") from e
    if arr.dtype.kind not in "fiu":
      raise TypeError(f"scales must be an array of positive real numbers, got dtype {arr.dtype}")
  arr = np.atleast_1d(arr)
  _host_positive(arr, "scales")
  return arr


# ---------------------------------------------------------------------------------------------
# The transform.
#
# Every scale is a linear filter whose impulse response lies within ±D samples (D = 8σ·s for the
# analytic wavelets, PyWavelets' tap span in compat mode). Filtering by one FFT of the whole padded
# signal costs ~12 ns per point on a CPU once the transform leaves the cache, against 2.4–4 ns for
# FFTs of up to 32k points (XLA's CPU FFT is single-threaded). So each scale is filtered by
# overlap-save: blocks of B ≥ 4·D points (hop H = B − 2D, B chosen by ``_block_size``), one FFT of
# the blocks per block size, one batched inverse FFT of the blocks per scale. Blocks and the
# whole-signal FFT compute the same linear convolution when the response fits in the ±D margin, so
# results do not depend on the plan beyond round-off (except below the aliasing bound, see
# ``_plan``). Scales are grouped into contiguous runs sharing a block size.

# CPU cost of a complex FFT in ns per point, by length (measured with XLA on a 2-core x86 CPU;
# only the ranking matters). Lengths above the table cost ~12 ns per point.
_FFT_NS_PER_POINT = {256: 2.6, 512: 2.4, 1024: 2.35, 2048: 2.9, 4096: 3.6, 8192: 3.6, 16384: 3.7,
                     32768: 4.0, 65536: 5.3}
_WHOLE_NS_PER_POINT = 12.0


def _block_size(d: int, n: int) -> int | None:
  """Overlap-save block length for a response of half-width ``d``, or None for one whole block.

  Minimises the cost per output sample, ``block / (block − 2d) × ns_per_point(block)``, over the
  powers of two with ``block ≥ 4d``, against one FFT of the whole padded signal.
  """
  whole = _core.next_fast_len(n + 2 * d)
  best, best_cost = None, _WHOLE_NS_PER_POINT * whole / n
  for block, ns in _FFT_NS_PER_POINT.items():
    if block >= 4 * d and block < whole:
      cost = ns * block / (block - 2 * d)
      if cost < best_cost:
        best, best_cost = block, cost
  return best


def _plan(half_widths: list[int], n: int, wide: Any = None) -> list[tuple[int, int, int, int]]:
  """Splits the scales into contiguous runs sharing a block length: ``(start, stop, D, B)``.

  ``wide[i]`` True gives scale ``i`` the margin of the largest scale: for scales below the aliasing
  bound, whose Ψ is cut off at Nyquist and whose response therefore has slowly decaying sinc tails,
  the result then depends only on that margin (as the definition's padding by the largest scale),
  not on the scale's own block plan; their blocks match those of a traced plan with
  ``max_scale`` = the largest scale.
  """
  runs = []
  d_max = max(half_widths)
  for i, d in enumerate(half_widths):
    if wide is not None and wide[i]:
      d = d_max
    key = _block_size(d, n)
    if runs and runs[-1][2] == key:
      runs[-1][1] = i + 1
      runs[-1][3] = max(runs[-1][3], d)
    else:
      runs.append([i, i + 1, key, d])
  plan = []
  for start, stop, key, d in runs:
    block = key if key is not None else _core.next_fast_len(n + 2 * d)
    plan.append((start, stop, d, block))
  return plan


def _blocks(x: jax.Array, n: int, d: int, block: int) -> jax.Array:
  """Overlapping blocks ``(b, n_blocks, block)``: block ``j`` holds samples ``[jH − d, jH − d + block)``
  of the zero-padded signal, ``H = block − 2d`` (reshapes and one concatenate: cheap to transpose)."""
  b = x.shape[0]
  hop = block - 2 * d
  nb = -(-n // hop)
  if nb == 1:
    return jnp.pad(x, ((0, 0), (d, block - d - n)))[:, None, :]
  total = (nb + 1) * hop + d
  xp = jnp.pad(x, ((0, 0), (d, total - d - n)))
  core = xp[:, d : d + nb * hop].reshape(b, nb, hop)
  left = xp[:, : nb * hop].reshape(b, nb, hop)[..., :d]
  right = xp[:, hop + d : hop + d + nb * hop].reshape(b, nb, hop)[..., :d]
  return jnp.concatenate([left, core, right], axis=-1)


def _chunked_runs(runs, spectra, args, out_shape, out_dtype):
  """The rows of every run, ``chunk`` scales at a time, written in place into one output.

  Args:
    runs: per run, ``(fn, start, rows, chunk)``: ``fn(spectrum, *chunk_args)`` gives the
      ``(b, c, n)`` rows of ``c`` scales; the run fills output rows ``[start, start + rows)``.
    spectra: per run, its block spectrum (differentiable input).
    args: per run, a tuple of per-scale arrays with ``rows`` leading entries (differentiable).
    out_shape, out_dtype: the output ``(b, n_scales, n)``.

  Forward: one ``lax.fori_loop`` per run, each step computing one chunk and writing it with
  ``dynamic_update_slice`` into the output carried through all loops (one output buffer, one
  chunk of work space). The last chunk of a run starts at ``rows − chunk`` (it overlaps the one
  before when ``chunk`` does not divide ``rows``; the overlapped rows are recomputed identically).

  Backward (``jax.custom_vjp``): the same loops run again, each step recomputing its chunk under
  ``jax.vjp`` (rematerialisation, as ``jax.checkpoint`` would) and pulling back its slice of the
  output cotangent, read from the closed-over cotangent rather than carried: differentiating the
  forward loop directly would carry, and copy, the whole output cotangent at every step (measured
  4× slower), and a ``lax.map`` with stacked outputs needs the runs concatenated (2-3× the
  output's memory). Consequence: reverse mode only (``jax.grad``/``vjp``); ``jax.jvp`` of a
  chunked transform raises.
  """

  def step_start(i, rows, chunk):
    return jnp.minimum(i * chunk, rows - chunk)

  @jax.custom_vjp
  def run_all(spectra, args):
    out = jnp.zeros(out_shape, out_dtype)
    for (fn, start, rows, chunk), spec, a in zip(runs, spectra, args):

      def step(i, out, fn=fn, start=start, rows=rows, chunk=chunk, spec=spec, a=a):
        k = step_start(i, rows, chunk)
        part = fn(spec, *[lax.dynamic_slice_in_dim(v, k, chunk, axis=0) for v in a])
        return lax.dynamic_update_slice_in_dim(out, part, start + k, axis=1)

      out = lax.fori_loop(0, -(-rows // chunk), step, out)
    return out

  def fwd(spectra, args):
    return run_all(spectra, args), (spectra, args)

  def bwd(res, ct):
    spectra, args = res
    d_spectra, d_args = [], []
    for (fn, start, rows, chunk), spec, a in zip(runs, spectra, args):

      def step(i, carry, fn=fn, start=start, rows=rows, chunk=chunk, spec=spec, a=a):
        d_spec, d_a = carry
        k = step_start(i, rows, chunk)
        chunk_args = [lax.dynamic_slice_in_dim(v, k, chunk, axis=0) for v in a]
        ct_part = lax.dynamic_slice_in_dim(ct, start + k, chunk, axis=1)
        fresh = jnp.arange(chunk) >= i * chunk - k  # rows not already pulled back by step i - 1
        ct_part = jnp.where(fresh[None, :, None], ct_part, jnp.zeros((), ct_part.dtype))
        _, pullback = jax.vjp(fn, spec, *chunk_args)
        g_spec, *g_args = pullback(ct_part)
        d_a = tuple(lax.dynamic_update_slice_in_dim(d, lax.dynamic_slice_in_dim(d, k, chunk, axis=0) + g, k, axis=0)
                    for d, g in zip(d_a, g_args))
        return d_spec + g_spec, d_a

      init = (jnp.zeros_like(spec), tuple(jnp.zeros_like(v) for v in a))
      d_spec, d_a = lax.fori_loop(0, -(-rows // chunk), step, init)
      d_spectra.append(d_spec)
      d_args.append(d_a)
    return tuple(d_spectra), tuple(d_args)

  run_all.defvjp(fwd, bwd)
  return run_all(tuple(spectra), tuple(tuple(a) for a in args))


def _filter_bank_transform(x, n, plan, groups, is_complex, out_dtype, chunk_size, hop_length=1,
                           output="coefficients"):
  """Applies per-scale filters given on FFT grids, by overlap-save.

  Args:
    x: ``(b, n)`` real signal.
    n: number of samples.
    plan: ``_plan`` output.
    groups: for each run, ``(filters, args)``: ``filters(block, *chunk_args)`` returns the
      ``(c, n_bins)`` frequency responses (``n_bins = block`` for complex filters, ``block//2 + 1``
      for real ones) of the run's scales in ``chunk_args`` (per-scale arrays, leading axis).
    is_complex: complex filters (``fft``/``ifft``) or real ones (``rfft``/``irfft``).
    out_dtype: output dtype.
    chunk_size: scales per chunk, or None for automatic.
    hop_length: keep every ``hop_length``-th output sample.
    output: ``"coefficients"``, or ``"magnitude"``/``"power"`` taken chunk by chunk.

  Returns:
    ``(b, n_scales, ceil(n / hop_length))``.
  """
  b = x.shape[0]
  n_scales = plan[-1][1]
  spectra = {}
  runs, run_spectra, run_args = [], [], []
  for (start, stop, d, block), (filters, args) in zip(plan, groups):
    if (d, block) not in spectra:
      frames = _blocks(x, n, d, block)
      spectra[d, block] = jnp.fft.fft(frames, axis=-1) if is_complex else jnp.fft.rfft(frames, axis=-1)
    spec = spectra[d, block]
    nb, n_bins, hop = spec.shape[1], spec.shape[2], block - 2 * d

    def fn(spec, *chunk_args, filters=filters, block=block, d=d, nb=nb, hop=hop):
      resp = filters(block, *chunk_args)
      z = spec[:, None, :, :] * resp[None, :, None, :]
      z = jnp.fft.ifft(z, axis=-1) if is_complex else jnp.fft.irfft(z, n=block, axis=-1)
      return _OUTPUT_FN[output](z[..., d : d + hop].reshape(b, resp.shape[0], nb * hop)[..., :n:hop_length])

    rows = stop - start
    chunk = chunk_size or max(1, _CHUNK_ELEMENTS // (b * nb * n_bins))
    runs.append((fn, start, rows, min(chunk, rows)))
    run_spectra.append(spec)
    run_args.append(args)

  if all(chunk >= rows for _, _, rows, chunk in runs):
    parts = [fn(spec, *args) for (fn, _, _, _), spec, args in zip(runs, run_spectra, run_args)]
    return parts[0] if len(parts) == 1 else jnp.concatenate(parts, axis=1)
  if output != "coefficients":
    out_dtype = jnp.zeros((), out_dtype).real.dtype
  return _chunked_runs(runs, run_spectra, run_args, (b, n_scales, -(-n // hop_length)), out_dtype)


def cwt(
    y: ArrayLike,
    scales: ArrayLike | None = None,
    *,
    freqs: ArrayLike | None = None,
    sr: float = 1.0,
    wavelet: str = "cmor1.5-1.0",
    bandwidth: Any = None,
    center: Any = None,
    w0: Any = None,
    normalization: str = "l2",
    compat: str | None = None,
    precision: int = 12,
    chunk_size: int | None = None,
    max_scale: float | None = None,
    hop_length: int = 1,
    output: str = "coefficients",
) -> jax.Array:
  """Continuous wavelet transform with a Morlet wavelet, by FFT.

  ``W[s, n] = √s · IDFT{ Y[k] · Ψ*(s·ω_k) }[n]`` (``normalization="l2"``, as PyWavelets and
  Torrence & Compo), i.e. ``s^{-1/2} Σ_k y[k] ψ*((k - n)/s)``, with the signal zero-padded by at
  least ``8·σ·s`` samples (σ ≥ 1 the envelope width of ψ) so nothing wraps around. The filters are
  the closed-form Ψ built in the graph from the scales and wavelet parameters (differentiable in
  both). Each scale is applied by overlap-save: FFT blocks sized to the scale (256 to 64k points,
  margins of 8σs), which keeps every FFT in cache (≈3× faster per point on a CPU than one FFT of
  the whole signal) and gives the same result to round-off; ``irfft`` for the real ``"morl"``.

  Modes:

  * default (exact): the analytic Ψ on the DFT grid. Equals the float64 sampled direct sum to
    ≈1e-12 (float64) / ≈5e-6 (float32) of each scale's maximum at scales above the aliasing bound,
    where Ψ(s·π) < 1e-16: s > (5 + 8.6)/π ≈ 4.3 for ``"morl"``, s > 2C + 8.6/(π√(B/2)) for
    ``"cmorB-C"`` (5.2 for ``cmor1.5-1.0``). Below it the wavelet's passband is cut off at Nyquist
    (the CWT of the band-limited signal, whose response has slowly decaying sinc tails); those
    scales (Ψ(s·π) > 1e-8 for float32 input) get the margin of the largest scale, as the
    definition's padding, and their values depend on it: changing the largest scale from 100 to
    400 moves ``cmor1.5-1.0`` results by 0.6 % at s = 2.2 (a 10 kHz wavelet at 22.05 kHz),
    2e-4 at s = 3, 3e-7 at s = 4.
  * ``compat="pywt"``: PyWavelets' own discretised filters (ψ integrated on a ``2**precision``
    grid, looked up per scale, differenced, trimmed), applied by FFT: equals
    ``pywt.cwt(y, scales, wavelet, method="conv" or "fft", precision=precision)`` to ≈5e-6 of each
    scale's maximum in float32 (PyWavelets' own float32 path is less accurate than that) and to
    1e-12 in float64. Concrete scales and parameters only. PyWavelets' discretisation is not the
    CWT's definition (``docs/wavelets.md``, measured): its output lags by half a sample; its gain
    at the centre frequency droops at small scales (``cmor1.5-1.0``: −36 % at s = 2, −10 % at 4,
    −2.5 % at 8, −0.6 % at 16; ``morl``: −29 %, −6 %, −1.6 %, −0.4 %); and its lookup table makes
    a "zipper" of spurious response at scales that are not powers of two, growing with the scale
    (precision 12: −38 dB at s = 11, −24 dB at 91, −13 dB at 181, −4 dB at 512; precision 10
    reaches those levels at 4× smaller scales). Use the default mode unless you need PyWavelets'
    numbers.

  ``normalization="l1"`` replaces ``√s·Ψ*(s·ω)`` by ``Ψ*(s·ω) / Ψ(ω_c)`` for ``"morl"`` and
  ``2·Ψ*(s·ω) / Ψ(ω_c)`` for the analytic complex wavelets (which see only a sinusoid's positive
  frequency), so a sinusoid of amplitude A at the matched scale gives |W| = A (the envelope of the
  real ``"morl"`` result): a scalogram in signal amplitude.

  Memory and gradients: the output, ``batch × n_scales × n_samples``, plus one chunk of FFT work
  space. When the work exceeds 2**18 FFT points the scales run in chunks of ``chunk_size`` in one
  ``lax.fori_loop`` per block size, writing their rows in place; the backward pass is a custom VJP
  that runs the same loops, recomputing each chunk (as ``jax.checkpoint`` would) and reading its
  slice of the output cotangent, so a gradient needs no more than the CWT and its cotangent.
  Chunked transforms support reverse mode only (``jax.grad``, ``jax.vjp``; ``jax.jvp`` raises);
  short ones support both. Measured peaks, 10 min at 22.05 kHz, 128 scales, fresh process: ``morl``
  forward 7.1 GiB, gradient 13.4 GiB; ``cmor1.5-1.0`` forward 13.8 GiB, gradient with
  ``hop_length=2`` 13.7 GiB, ``output="power"`` forward 7.5 GiB and gradient (of a log-power loss,
  full resolution) 14.3 GiB. The full-resolution gradient through the complex coefficients needs
  ≈ 27 GiB: a gradient of any nonlinear loss of W holds W and its cotangent (12.6 GiB each) at once.

  Args:
    y: real signal ``(..., n_samples)``.
    scales: ``(n_scales,)`` positive scales in samples (may be traced; then pass ``max_scale``).
      Give exactly one of ``scales`` and ``freqs``.
    freqs: ``(n_scales,)`` frequencies in Hz (≤ ``sr / 2``), converted with
      ``frequency_to_scale`` (with ``compat="pywt"``: PyWavelets' quantised centre frequency).
    sr: sample rate in Hz (used only to convert ``freqs``).
    wavelet: ``"morl"``, ``"cmorB-C"`` (e.g. ``"cmor1.5-1.0"``), ``"cmor"`` (with ``bandwidth``
      and ``center``) or ``"morlet"`` (with ``w0``). See the module docstring for the formulas.
    bandwidth: B of ``"cmor"`` (default 1.5); scalar or ``(n_scales,)``, may be traced. The
      margins of a traced bandwidth are sized for B ≤ 2: a larger B has its tails cut at relative
      level e^{-64/B} (1e-7 at B = 4).
    center: C of ``"cmor"`` (default 1.0); scalar or ``(n_scales,)``, may be traced.
    w0: ω0 of ``"morlet"`` (default 6.0); scalar or ``(n_scales,)``, may be traced.
    normalization: ``"l2"`` (default) or ``"l1"`` (amplitude-preserving).
    compat: ``None`` (exact) or ``"pywt"``.
    precision: PyWavelets' ``precision`` for ``compat="pywt"`` (its default, 12).
    chunk_size: scales per loop step (static int). Default: as many as fit in 2**18 FFT points
      (one scale at a time for signals above ~200k samples; no loop when every run fits).
    max_scale: static upper bound of the scales, required when they are traced: it sizes the FFT
      blocks and margins (one plan for all scales). Ignored for concrete scales.
    hop_length: keep every ``hop_length``-th time step, ``W[..., ::hop_length]`` (static int;
      the work is the same, the output and its gradient shrink).
    output: ``"coefficients"`` (W), ``"magnitude"`` (``|W|``, zero gradient where W = 0) or
      ``"power"`` (``|W|²``, the scalogram). Magnitude and power are taken chunk by chunk inside
      the transform, so the complex W is never held whole: half the memory of W for a complex
      wavelet, forward and backward.

  Returns:
    ``(..., n_scales, ceil(n_samples / hop_length))``: complex for ``"cmor"``/``"morlet"``, real
    for ``"morl"`` and for ``output="magnitude"``/``"power"``.
    float32/complex64, or float64/complex128 for float64 input with x64 enabled.

  Raises:
    ValueError: neither or both of ``scales``/``freqs``; empty or non-positive scales;
      frequencies above Nyquist; unknown or malformed wavelet name; B, C or ω0 ≤ 0; traced scales
      without ``max_scale``; ``compat="pywt"`` with traced values, ``"morlet"`` or ``"l1"``.
    TypeError: non-float signal.

  Examples:
    >>> import jax.numpy as jnp, jaxdsp as jd
    >>> sr = 8000
    >>> y = jnp.sin(2 * jnp.pi * 440.0 * jnp.arange(4000) / sr)
    >>> freqs = jd.cwt_frequencies(fmin=110.0, fmax=1760.0, voices_per_octave=8)  # 440 Hz on the grid
    >>> W = jd.cwt(y, freqs=freqs, sr=sr, normalization="l1")
    >>> W.shape, W.dtype
    ((33, 4000), dtype('complex64'))
    >>> round(float(abs(W[16, 2000])), 3)  # the amplitude of the tone
    1.0

  Compare ``pywt.cwt`` (``compat="pywt"``) and ``ssqueezepy.cwt``.

  References:
    Torrence, C. and Compo, G. P. (1998). A practical guide to wavelet analysis. Bull. Amer.
    Meteor. Soc., 79, 61–78.
  """
  y = _checks.as_signal(y, "y")
  _checks.choice(normalization, "normalization", NORMALIZATIONS)
  compat, precision = _compat_arg(compat, precision)
  spec = _parse_wavelet(wavelet, bandwidth, center, w0, compat)
  sr = _checks.sample_rate(sr)
  scales = _scales_from(scales, freqs, sr, wavelet, bandwidth, center, w0, compat, precision)
  n_scales = int(scales.shape[0])
  chunk_size = _checks.positive_int(chunk_size, "chunk_size", allow_none=True)
  hop_length = _checks.positive_int(hop_length, "hop_length")
  _checks.choice(output, "output", OUTPUTS)
  traced = isinstance(scales, jax.core.Tracer)
  if traced:
    if max_scale is None:
      raise ValueError("scales are traced: pass a static max_scale= (an upper bound of the scales) to set the padding")
    s_max = _checks.positive_number(max_scale, "max_scale")
  else:
    s_max = float(np.max(scales))
    if max_scale is not None:
      s_max = max(s_max, _checks.positive_number(max_scale, "max_scale"))

  if spec.is_complex:
    names = ("bandwidth", "center") if spec.family == "cmor" else ("w0", "w0")
    for p, arg in zip((spec.bandwidth, spec.center), names):
      if np.ndim(p) == 1 and np.shape(p)[0] != n_scales:
        raise ValueError(f"{arg} must be a scalar or have one value per scale ({n_scales}), got shape {np.shape(p)}")

  real_dtype = y.dtype
  cplx_dtype = jnp.result_type(real_dtype, jnp.complex64)
  out_dtype = cplx_dtype if spec.is_complex else real_dtype
  batch_shape, n = y.shape[:-1], y.shape[-1]
  x = y.reshape((-1, n))

  if compat == "pywt":
    if normalization != "l2":
      raise ValueError("compat='pywt' supports only normalization='l2' (PyWavelets' definition)")
    if traced or not spec.concrete or np.ndim(spec.bandwidth) or np.ndim(spec.center):
      raise ValueError("compat='pywt' needs concrete scales and scalar wavelet parameters (not traced)")
    if spec.family == "morlet":
      raise ValueError("compat='pywt' needs a PyWavelets wavelet ('morl' or 'cmorB-C'), got 'morlet'")
    taps = _pywt_compat.filter_taps(
        spec.family, spec.bandwidth, spec.center, np.asarray(scales), precision, np.dtype(real_dtype)
    )
    plan = tuple(_plan([max(off, g.size - off) for g, off in taps], n))
    rows, shifts = zip(*(_pywt_compat.align(taps[a:z], np.dtype(out_dtype)) for a, z, _, _ in plan))
    out = _compat_core(x, tuple(jnp.asarray(r) for r in rows), plan=plan, shifts=tuple(shifts),
                       is_complex=spec.is_complex, chunk_size=chunk_size, hop_length=hop_length, output=output)
    return out.reshape(batch_shape + out.shape[-2:])

  sigma = max(1.0, _sigma(spec))
  if traced:  # one run, sized for the largest scale
    (_, _, d, block), = _plan([int(math.ceil(PAD_SIGMAS * sigma * s_max))], n)
    plan = ((0, n_scales, d, block),)
  else:
    # below it Ψ is cut off at Nyquist: those scales get the largest scale's margin (see ``_plan``)
    bound = _aliasing_bound(spec, 1e-16 if real_dtype == jnp.float64 else 1e-8)
    scales_np = np.asarray(scales, dtype=np.float64)
    wide = None if bound is None else scales_np < np.broadcast_to(bound, scales_np.shape)
    plan = tuple(_plan([int(math.ceil(PAD_SIGMAS * sigma * v)) for v in scales_np], n, wide))
  s = jnp.asarray(scales, dtype=real_dtype)
  if spec.is_complex:
    bw, c = (jnp.broadcast_to(jnp.asarray(p, dtype=real_dtype), (n_scales,)) for p in (spec.bandwidth, spec.center))
  else:
    bw = c = jnp.zeros((n_scales,), real_dtype)
  out = _exact_core(x, s, bw, c, family=spec.family, amp=spec.amp, l1=normalization == "l1",
                    plan=plan, chunk_size=chunk_size, hop_length=hop_length, output=output)
  return out.reshape(batch_shape + out.shape[-2:])


@functools.partial(jax.jit, static_argnames=("family", "amp", "l1", "plan", "chunk_size", "hop_length", "output"))
def _exact_core(x, s, bw, c, *, family, amp, l1, plan, chunk_size, hop_length, output):
  """The analytic-Ψ transform of ``x (b, n)`` for per-scale ``s``, ``bw``, ``c``; static plan."""
  is_complex = family != "morl"
  real_dtype = x.dtype
  peak = math.sqrt(math.pi / 2) * (1.0 + math.exp(-50.0)) if family == "morl" else amp
  gain = (2.0 if is_complex else 1.0) / peak

  def filters(block, s, bw, c):
    k = jnp.fft.fftfreq(block, d=1.0 / block) if is_complex else jnp.arange(block // 2 + 1)
    w = (2.0 * np.pi / block) * k.astype(real_dtype)
    resp = psi_hat(family, amp, s[:, None] * w, bw[:, None], c[:, None])
    return resp * (gain if l1 else jnp.sqrt(s)[:, None])

  groups = [(filters, (s[a:z], bw[a:z], c[a:z])) for a, z, _, _ in plan]
  out_dtype = jnp.result_type(real_dtype, jnp.complex64) if is_complex else real_dtype
  return _filter_bank_transform(x, x.shape[-1], plan, groups, is_complex, out_dtype, chunk_size, hop_length,
                                output)


@functools.partial(jax.jit, static_argnames=("plan", "shifts", "is_complex", "chunk_size", "hop_length", "output"))
def _compat_core(x, rows, *, plan, shifts, is_complex, chunk_size, hop_length, output):
  """PyWavelets' taps (``rows[g]``: run ``g``'s taps aligned on ``shifts[g]``) applied to ``x``."""
  groups = []
  for t, shift in zip(rows, shifts):

    def filters(block, t, shift=shift):
      t = jnp.roll(jnp.pad(t, ((0, 0), (0, block - t.shape[1]))), -shift, axis=-1)
      return jnp.fft.fft(t, axis=-1) if is_complex else jnp.fft.rfft(t, axis=-1)

    groups.append((filters, (t,)))
  return _filter_bank_transform(x, x.shape[-1], plan, groups, is_complex, rows[0].dtype, chunk_size,
                                hop_length, output)
