"""Learnable audio front-ends as Flax NNX modules: raw audio in, a time-frequency map out.

Layout: every front-end maps ``(..., n_samples)`` (time last, any leading batch axes) to
``(..., n_features, n_frames)``, so it plugs into ``jaxdsp.nn.CNN(..., frontend=...)`` and
``jaxdsp.nn.fit``. The per-frame feature layers (``SoftEnvelope``, ``SmoothZCR``) give
``(..., n_frames)`` like their ``jaxdsp`` functions; ``FeatureStack`` stacks any of these into
``(..., n_features, n_frames)``. With ``hop_length`` the frames are centred on
``t·hop_length``, ``n_frames = 1 + n_samples // hop_length`` (librosa's ``center=True`` count).

Front-ends:

* ``MorletFilterbank``: complex Morlet (Gabor) filters applied in the frequency domain, centre
  frequencies and Q factors trained in log units; a pooled log-magnitude scalogram.
* ``Leaf``: the LEAF recipe (Zeghidour et al., 2021): Gabor filters initialised on the mel scale,
  learnable Gaussian low-pass pooling per filter, learnable PCEN (``jaxdsp.nn.PCEN``).
* ``LearnableMel`` / ``LogMel``: the mel filterbank on an STFT, trainable (optionally with a
  trainable window) or fixed (the baseline).
* ``SoftEnvelope``, ``SmoothZCR``: differentiable classic features as layers.

Against filters that do not move (the known failure of SincNet / nnAudio / LEAF filters):
parameters live in log units (log-Hz, log-Q, log-bandwidth), so an Adam step is a fixed fraction
of an octave whatever the frequency; bounds are kept by smooth clipping in log space rather than
by a clamp (no dead zone); ``frontend_optimizer`` gives the front-end its own learning rate; and
``filter_movement`` / ``filter_movement_callback`` report how far each filter went, for ``fit`` to
log.

How the Gabor filterbanks are computed (``MorletFilterbank``, ``Leaf``): the signal, zero-padded
to ``N`` samples, is transformed once with ``rfft``; each filter's response is the complex Morlet
``Ψ`` of :mod:`jaxdsp.wavelets` (``"cmor"``, the closed form evaluated on the DFT grid, so centre
and bandwidth are differentiable), restricted to positive frequencies (an analytic filter). The
pooled energy needs ``|W|²`` only every ``M = hop_length / oversample`` samples, and those samples
are exact without computing the others: ``W[mM] = IDFT_K(Σ_j X[r + jK]·Ψ[r + jK]) / M`` with
``K = N / M`` (the spectrum folded into ``K`` bins, then one short inverse FFT). So a filter costs
a fold (a batched matrix product over the ``M/2`` folds) and one ``K``-point inverse FFT instead
of a full-length one; the pooling over each frame is a circular correlation of the ``K`` samples
of ``|W|²`` by FFT, kept every ``oversample``-th sample. ``benchmarks/bench_frontends.py`` times
its forward and backward passes against a fixed log-mel spectrogram and a time-domain LEAF.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any, Callable, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from jax.typing import ArrayLike

from jaxdsp import _checks
from jaxdsp import _core
from jaxdsp import _ops
from jaxdsp import framing
from jaxdsp import mel as _mel
from jaxdsp import spectral
from jaxdsp import temporal
from jaxdsp import wavelets
from jaxdsp.nn.compiled import compiled_method
from jaxdsp.nn.pcen import PCEN
from jaxdsp.nn.train import label_params
from jaxdsp.nn.train import make_optimizer

__all__ = [
    "FeatureStack",
    "Leaf",
    "LearnableMel",
    "LogMel",
    "MorletFilterbank",
    "SmoothZCR",
    "SoftEnvelope",
    "filter_movement",
    "filter_movement_callback",
    "frontend_optimizer",
]

# Half-power (-3 dB) bandwidth of a Gaussian response e^{-(f-fc)²/(2σ²)}: 2·√(ln 2)·σ.
_HALF_POWER = 2.0 * math.sqrt(math.log(2.0))
# Sharpness (per natural-log unit) of the smooth clipping that keeps parameters in their ranges.
_SHARPNESS = 10.0
# Zeros appended before the FFT: this many time-domain standard deviations of the longest filter
# the bandwidth floor allows (amplitude e^{-8} ≈ 3e-4 at the wrap-around), at most one clip.
_PAD_SIGMAS = 4.0


class FilterInit(nnx.Variable):
  """A front-end's initial filter values (Hz), kept for ``filter_movement``; never trained."""


class Constant(nnx.Variable):
  """A fixed (non-trainable) array of a front-end, e.g. the filterbank of ``LogMel``."""


# ---------------------------------------------------------------------------------------------
# Bounded log-domain parameters.


def _softclip(theta: jax.Array, lo: float, hi: float) -> jax.Array:
  """Smoothly clips ``theta`` into ``(lo, hi)``: a soft maximum with ``lo`` then a soft minimum
  with ``hi`` (softplus with sharpness ``_SHARPNESS``). Slope ≈ 1 inside, → 0 only at the bounds."""
  k = _SHARPNESS
  a = lo + jax.nn.softplus(k * (theta - lo)) / k
  return hi - jax.nn.softplus(k * (hi - a)) / k


def _softfloor(theta: jax.Array, lo: float) -> jax.Array:
  """A smooth maximum of ``theta`` and ``lo`` (the lower half of ``_softclip``)."""
  return lo + jax.nn.softplus(_SHARPNESS * (theta - lo)) / _SHARPNESS


def _softplus_inv(z: np.ndarray) -> np.ndarray:
  """``log(e^z - 1)``, stable for large ``z``."""
  return z + np.log(-np.expm1(-z))


def _softclip_inverse(y: np.ndarray, lo: float, hi: float, name: str) -> np.ndarray:
  """The raw parameter whose ``_softclip`` is ``y`` (NumPy float64), so initial values are exact."""
  y = np.asarray(y, dtype=np.float64)
  if np.any(y <= lo) or np.any(y >= hi):
    raise ValueError(f"{name} must lie strictly inside its range ({math.exp(lo):.6g}, "
                     f"{math.exp(hi):.6g}), got {np.exp(y)}")
  k = _SHARPNESS
  a = hi - _softplus_inv(k * (hi - y)) / k
  return lo + _softplus_inv(k * (a - lo)) / k


def _range(value: Any, name: str) -> tuple[float, float]:
  if not isinstance(value, (tuple, list)) or len(value) != 2:
    raise ValueError(f"{name} must be a pair (low, high), got {value!r}")
  lo = _checks.positive_number(value[0], f"{name}[0]")
  hi = _checks.positive_number(value[1], f"{name}[1]")
  if lo >= hi:
    raise ValueError(f"{name} must be increasing (low < high), got {value!r}")
  return lo, hi


# ---------------------------------------------------------------------------------------------
# The frequency-domain Gabor/Morlet bank, evaluated at decimated times.


@dataclasses.dataclass(frozen=True)
class _Grid:
  """Static sizes: ``N = M·K`` FFT length, ``M`` decimation, ``r`` samples per hop, frames."""

  n: int
  hop: int
  r: int
  M: int
  K: int
  n_blocks: int  # folds of K bins covering the N/2 positive-frequency bins
  n_frames: int

  @property
  def N(self) -> int:
    return self.M * self.K


@functools.lru_cache(maxsize=64)
def _make_grid(n: int, hop: int, oversample: int, pad: int) -> _Grid:
  M = hop // oversample
  K = _core.next_fast_len(-(-(n + pad) // M))
  n_blocks = -(-(M * K // 2) // K)
  return _Grid(n=n, hop=hop, r=oversample, M=M, K=K, n_blocks=n_blocks, n_frames=1 + n // hop)


def _bin_freqs(grid: _Grid, sr: float) -> tuple[np.ndarray, np.ndarray]:
  """Frequencies (Hz) of the folded positive-frequency bins ``(n_blocks·K,)`` and their mask
  (bins at or above Nyquist are zero: the filters are analytic)."""
  k = np.arange(grid.n_blocks * grid.K)
  return k * (sr / grid.N), (k < grid.N // 2)


def _responses(grid: _Grid, sr: float, centers: jax.Array, sigmas: jax.Array, norm: str) -> jax.Array:
  """Frequency responses ``(F, n_blocks, K)`` of analytic Morlet filters centred at ``centers``
  (Hz) with Gaussian standard deviations ``sigmas`` (Hz).

  The ``"cmor"`` wavelet of :mod:`jaxdsp.wavelets` at scale ``s = sr / f_c`` with centre ``C = 1``
  and bandwidth ``B = f_c² / (2π²σ²)``: ``Ψ(s·ω) = exp(-(f - f_c)² / (2σ²))``.
  """
  dtype = centers.dtype
  f, mask = _bin_freqs(grid, sr)
  w = jnp.asarray(2.0 * np.pi * f / sr, dtype=dtype)
  s = sr / centers
  B = centers**2 / (2.0 * np.pi**2 * sigmas**2)
  psi_hat = wavelets.psi_hat
  resp = psi_hat("cmor", 1.0, s[:, None] * w[None, :], B[:, None], 1.0)
  resp = resp * jnp.asarray(mask, dtype=dtype)
  if norm == "peak":
    gain = jnp.asarray(2.0, dtype)  # a unit cosine at f_c comes out with |W| = 1
  else:  # "energy": white noise of variance σ² comes out with mean power σ² in every filter
    gain = jnp.sqrt(grid.N / jnp.sum(resp * resp, axis=-1, keepdims=True))
  return (resp * gain).reshape(-1, grid.n_blocks, grid.K)


def _decimated_power(x: jax.Array, resp: jax.Array, grid: _Grid) -> jax.Array:
  """``|W[b, f, m·M]|²`` for ``x (B, n)``, responses ``(F, n_blocks, K)``: ``(B, F, K)``.

  ``W = IDFT_N(X·Ψ)`` sampled every ``M`` samples equals ``IDFT_K`` of the spectrum folded into
  ``K`` bins, divided by ``M`` (exact, no approximation). The fold is one batched matrix product
  over the ``K`` bins (contracting the ``n_blocks`` folds), real and imaginary parts stacked.
  """
  b = x.shape[0]
  X = jnp.fft.rfft(x, n=grid.N, axis=-1)[..., : grid.N // 2]
  X = jnp.pad(X, ((0, 0), (0, grid.n_blocks * grid.K - grid.N // 2)))
  X = X.reshape(b, grid.n_blocks, grid.K)
  Xri = jnp.concatenate([X.real, X.imag], axis=0).transpose(2, 0, 1)  # (K, 2B, n_blocks)
  Z = jax.lax.dot_general(Xri, resp.transpose(2, 1, 0).astype(Xri.dtype),
                          (((2,), (1,)), ((0,), (0,))))  # (K, 2B, F)
  Z = Z.transpose(1, 2, 0)
  W = jnp.fft.ifft(jax.lax.complex(Z[:b], Z[b:]), axis=-1)
  return _ops.abs2(W) * (1.0 / grid.M**2)


def _pool(P: jax.Array, weights: jax.Array, grid: _Grid, half: int) -> jax.Array:
  """Weighted pooling ``(B, F, K) -> (B, F, n_frames)``: frame ``t`` is
  ``Σ_{|j| ≤ half} weights[j]·P[(t·r + j) mod K]`` (circular: before sample 0 lies the zero
  padding at the end). ``weights`` is ``(2·half+1,)`` or per filter ``(F, 2·half+1)``.

  A circular correlation by FFT (``rfft``/``irfft`` over the ``K`` samples), kept every ``r``-th
  sample: cheaper forward and backward than a gather or shifted slices. FFT round-off leaves
  values of order 1e-7 × the loudest sample where the energy is 0 (silence after a loud sound),
  sometimes negative; they are clipped at 0 (the exact result is ≥ 0), so a log or PCEN of the
  result stays finite.
  """
  K, taps = grid.K, 2 * half + 1
  h = jnp.concatenate([weights[..., half:], jnp.zeros(weights.shape[:-1] + (K - taps,), weights.dtype),
                       weights[..., :half]], axis=-1)
  Y = jnp.fft.rfft(P, axis=-1) * jnp.conj(jnp.fft.rfft(h, axis=-1))
  return jnp.maximum(jnp.fft.irfft(Y, n=K, axis=-1)[..., : grid.r * grid.n_frames : grid.r], 0)


def _mel_grid(fmin: float, fmax: float, n: int) -> np.ndarray:
  """The ``n + 2`` mel-spaced edges of ``mel_filterbank`` (Slaney scale), float64 Hz."""
  return _mel.mel_to_hz(np.linspace(_mel.hz_to_mel(float(fmin)), _mel.hz_to_mel(float(fmax)), n + 2))


def _as_signal(x: ArrayLike) -> tuple[jax.Array, tuple[int, ...]]:
  x = _checks.as_signal(x, "x")
  return x.reshape(-1, x.shape[-1]), x.shape[:-1]


class _GaborBank(nnx.Module):
  """Shared machinery of ``MorletFilterbank`` and ``Leaf`` (not public)."""

  sr: float
  hop_length: int
  oversample: int
  n_filters: int

  def _setup_grid_args(self, sr, hop_length, oversample):
    self.sr = _checks.sample_rate(sr)
    self.hop_length = _checks.positive_int(hop_length, "hop_length")
    self.oversample = _checks.positive_int(oversample, "oversample")
    if self.hop_length % self.oversample:
      raise ValueError(f"hop_length must be a multiple of oversample={self.oversample}, got "
                       f"{self.hop_length}")

  def _setup_centers(self, centers: np.ndarray, freq_range: Any, param_dtype: Any):
    nyq = self.sr / 2.0
    if freq_range is None:
      freq_range = (float(np.min(centers)) / 4.0, 0.999 * nyq)
    lo, hi = _range(freq_range, "freq_range")
    if hi > nyq:
      raise ValueError(f"freq_range must stay below Nyquist ({nyq}), got {freq_range!r}")
    self._log_f = (math.log(lo), math.log(hi))
    theta = _softclip_inverse(np.log(centers), *self._log_f, "the initial centre frequencies")
    self.log_center = nnx.Param(jnp.asarray(theta, dtype=param_dtype))
    self.initial_center_hz = FilterInit(jnp.asarray(centers, dtype=param_dtype))
    self.n_filters = int(centers.size)

  def center_frequencies(self) -> jax.Array:
    """Centre frequencies ``(n_filters,)`` in Hz, inside ``freq_range``."""
    return jnp.exp(_softclip(self.log_center[...], *self._log_f))

  def bandwidths(self) -> jax.Array:
    """Half-power (-3 dB) bandwidths ``(n_filters,)`` in Hz."""
    raise NotImplementedError

  def _sigmas(self) -> jax.Array:
    return self.bandwidths() / _HALF_POWER

  def _pad(self, n: int, min_sigma_hz: float, pool_extent: int) -> int:
    sigma_t = self.sr / (2.0 * math.pi * min_sigma_hz)
    return max(min(n, int(math.ceil(_PAD_SIGMAS * sigma_t))), pool_extent)

  def _power(self, x: jax.Array, norm: str, min_sigma_hz: float, pool_half: int):
    grid = _make_grid(x.shape[-1], self.hop_length, self.oversample,
                      self._pad(x.shape[-1], min_sigma_hz,
                                pool_half * (self.hop_length // self.oversample)))
    dtype = jnp.result_type(x.dtype, self.log_center[...].dtype)
    resp = _responses(grid, self.sr, self.center_frequencies().astype(dtype),
                      self._sigmas().astype(dtype), norm)
    return _decimated_power(x.astype(dtype), resp, grid), grid


_NORMS = ("peak", "energy")


class MorletFilterbank(_GaborBank):
  """A learnable complex Morlet filterbank: pooled log-magnitude scalogram of raw audio.

  Filter ``i`` has the analytic Gaussian frequency response
  ``Ψ_i(f) = g_i·exp(-(f - f_i)² / (2σ_i²))`` for ``0 ≤ f < sr/2`` (0 elsewhere), with
  ``σ_i = f_i / (Q_i·2√ln2)`` (so ``f_i / Q_i`` is the half-power bandwidth): the ``"cmor"``
  wavelet of :func:`jaxdsp.cwt` at the scale that centres it on ``f_i``, on positive frequencies.
  ``W_i = IDFT(FFT(y)·Ψ_i)`` is its complex output (``jd.cwt(..., normalization="l1")`` up to the
  negative-frequency tail, which is below 2^{-2Q²}). The output is

  ``S[i, t] = ½·log(Σ_j h[j]·|W_i[t·hop_length + j·M]|² + amin²)``

  with ``h`` a Hann window spanning ±``hop_length`` sampled every ``M = hop_length/oversample``
  samples (overlapping frames share every sample: a partition of unity), i.e. the log-magnitude
  of the energy pooled over each frame. Only the decimated samples are computed (see the module
  docstring), so the cost is close to a log-mel spectrogram's.

  Trainable parameters (``nnx.Param``, one per filter), in log units so that an Adam step moves a
  filter by a fixed fraction of an octave at any frequency (parameters kept in Hz barely move:
  1600 → 1597 Hz in 300 steps at lr 0.01):

  * ``log_center``: ``log f_i = softclip(log_center, log freq_range)``, a smooth clip into
    ``freq_range ⊂ (0, Nyquist)`` (slope ≈ 1 inside the range: plain log-Hz).
  * ``log_q``: ``log Q_i = softclip(log_q, log q_range)``; the bandwidth ``f_i / Q_i`` is then
    floored smoothly at ``min_bandwidth``.

  Args:
    sr: sample rate in Hz.
    n_filters: number of filters (ignored when ``init`` is an array).
    fmin, fmax: the initial grid. ``init="mel"``: the peaks of ``jd.mel_filterbank(fmin=fmin,
      fmax=fmax)`` (``fmax`` default ``sr / 2``); ``init="log"``: ``geomspace(fmin, fmax)``
      (``fmax`` default ``0.45·sr``).
    init: ``"mel"``, ``"log"``, or an array of initial centre frequencies in Hz.
    q: initial Q factor(s) (scalar or per filter). ``None``: the half-power bandwidth equals the
      local grid spacing (neighbours cross at -3 dB), Q kept 25 % inside ``q_range``; a single
      filter gets Q = 2.
    hop_length: samples between output frames.
    oversample: |W|² samples per hop entering the pooling (``hop_length`` must be a multiple).
    norm: ``"peak"`` (default: a unit-amplitude cosine at ``f_i`` gives ``|W_i| = 1``) or
      ``"energy"`` (unit-energy filters: white noise of variance σ² gives mean power σ² in every
      filter, whatever its bandwidth; maximising the output energy then favours narrow filters
      on a tone, the matched-filter criterion).
    amin: floor of the magnitude inside the log (static).
    freq_range: ``(low, high)`` bounds of the centre frequencies, ``high ≤ sr / 2``; default
      ``(min(initial) / 4, 0.999·sr / 2)``.
    q_range: ``(low, high)`` bounds of Q, default ``(0.5, 200)``.
    min_bandwidth: smooth floor of the half-power bandwidth in Hz (default ``sr / 1000``). It
      bounds the filters' duration, hence the zero padding: the FFT covers the clip plus 4 time
      standard deviations of the longest filter it allows (at most one clip length), so the
      circular wrap-around is below e^{-8} of the filter's peak.
    param_dtype: dtype of the parameters (the computation runs in the promoted dtype of the
      input and the parameters).

  Shapes: ``(..., n_samples) -> (..., n_filters, 1 + n_samples // hop_length)``.

  Examples:
    >>> import jax.numpy as jnp
    >>> fb = MorletFilterbank(sr=16000, n_filters=8, hop_length=160)
    >>> fb(jnp.zeros((2, 16000))).shape
    (2, 8, 101)
    >>> one = MorletFilterbank(sr=8000, init=[1000.0], q=4.0)
    >>> round(float(one.center_frequencies()[0]), 2), round(float(one.bandwidths()[0]), 2)
    (1000.0, 250.0)

  Why filters move here (the tone test in ``tests/test_frontends.py``, and part 1 of
  ``examples/learnable_frontend.py``): the gradient of a Gaussian filter's energy with respect to
  its centre vanishes a few bandwidths away from the energy (the issue measured 3.7e-3 at one
  bandwidth, 5.5e-14 at ten; below Adam's ε, or under any noise, the filter stops). What makes a
  filter started an octave away from a tone in noise reach it:

  1. log-Hz and log-Q parameters: Adam then moves in fractions of an octave, not in Hz;
  2. a wide start (Q ≈ 1, so the tone lies within one or two Gaussian widths of the filter);
  3. ``norm="energy"``: with unit-energy filters the noise energy does not depend on the
     bandwidth while a tone's energy grows ∝ Q as the filter narrows on it. So once the filter
     nears the tone, the same energy objective sharpens it (Q went from 1 to 12–130): the
     coarse-to-fine schedule comes out of the gradient itself;
  4. a decaying step size (cosine) to finish the centring.

  With these, 30 runs (targets an octave above and below, 400 Hz–3 kHz, two noise levels, three
  seeds) all ended within 0.15 % of the tone in 200 Adam steps. Started at Q = 4 or Q = 20 (the
  tone 7 to 30 widths away) none found it: the filter settles on a nearby noise peak. With
  ``norm="peak"`` the noise energy grows with the bandwidth, so the objective widens filters
  towards ``q_range``'s low end: they find the tone but stay wide.

  References:
    N. Zeghidour et al., "LEAF: A learnable frontend for audio classification", ICLR 2021 (Gabor
    filters). M. Ravanelli, Y. Bengio, "Speaker recognition from raw waveform with SincNet", 2018.
    Torrence & Compo (1998) for the Morlet wavelet.
  """

  def __init__(self, *, sr: float, n_filters: int = 40, fmin: float = 60.0,
               fmax: float | None = None, init: Any = "mel", q: Any = None,
               hop_length: int = 160, oversample: int = 4, norm: str = "peak",
               amin: float = 1e-5, freq_range: Any = None, q_range: Any = (0.5, 200.0),
               min_bandwidth: float | None = None, param_dtype: Any = jnp.float32):
    self._setup_grid_args(sr, hop_length, oversample)
    self.norm = _checks.choice(norm, "norm", _NORMS)
    self.amin = _checks.positive_number(amin, "amin")
    centers = _initial_centers(init, n_filters, fmin, fmax, self.sr)
    self._setup_centers(centers, freq_range, param_dtype)
    lo, hi = _range(q_range, "q_range")
    self._log_q = (math.log(lo), math.log(hi))
    if q is None:  # clipped well inside q_range
      q0 = np.full(centers.shape, 2.0) if centers.size == 1 else centers / _spacing(centers)
      q0 = np.clip(q0, 1.25 * lo, hi / 1.25)
    else:
      q0 = np.broadcast_to(np.asarray(q, dtype=np.float64), centers.shape)
      if np.any(~np.isfinite(q0)) or np.any(q0 <= 0):
        raise ValueError(f"q must be positive, got {q!r}")
    self.log_q = nnx.Param(jnp.asarray(_softclip_inverse(np.log(q0), *self._log_q, "q"),
                                       dtype=param_dtype))
    bw0 = centers / q0
    min_bw = (self.sr / 1000.0 if min_bandwidth is None
              else _checks.positive_number(min_bandwidth, "min_bandwidth"))
    if np.any(bw0 <= min_bw):
      raise ValueError(f"min_bandwidth must be below every initial bandwidth (min "
                       f"{bw0.min():.6g} Hz), got {min_bw}")
    self._log_min_bw = math.log(min_bw)
    self.initial_bandwidth_hz = FilterInit(jnp.asarray(bw0, dtype=param_dtype))
    self._min_sigma = min_bw / _HALF_POWER
    r = self.oversample  # Hann taps on [-r, r]: overlapping frames sum to 1 at every sample
    self._window = tuple(float(v) for v in 0.5 * (1 + np.cos(np.pi * np.arange(-r, r + 1) / r)) / r)

  def bandwidths(self) -> jax.Array:
    """Half-power (-3 dB) bandwidths ``(n_filters,)`` in Hz: ``f_i / Q_i``, floored smoothly at
    ``min_bandwidth``."""
    log_bw = (_softclip(self.log_center[...], *self._log_f)
              - _softclip(self.log_q[...], *self._log_q))
    return jnp.exp(_softfloor(log_bw, self._log_min_bw))

  def quality_factors(self) -> jax.Array:
    """Q factors ``(n_filters,)``: centre frequency over half-power bandwidth."""
    return self.center_frequencies() / self.bandwidths()

  def __call__(self, x: ArrayLike) -> jax.Array:
    return self._forward(_checks.as_signal(x, "x"))

  @compiled_method
  def _forward(self, x: jax.Array) -> jax.Array:
    x, batch_shape = _as_signal(x)
    P, grid = self._power(x, self.norm, self._min_sigma, self.oversample)
    pooled = _pool(P, jnp.asarray(self._window, P.dtype), grid, self.oversample)
    out = 0.5 * jnp.log(pooled + self.amin**2)
    return out.reshape(batch_shape + out.shape[1:])


class Leaf(_GaborBank):
  """A LEAF-style learnable front-end: Gabor filters, Gaussian low-pass pooling, PCEN.

  1. Gabor filterbank: analytic filters ``Ψ_i(f) = 2·exp(-(f - f_i)² / (2σ_i²))`` (the complex
     Morlet of ``MorletFilterbank``, peak-normalised), initialised as LEAF does from the mel
     filterbank: ``f_i`` the peak of mel triangle ``i``, ``σ_i`` matching its full width at half
     maximum. Trained: ``log_center`` (log-Hz, smooth-clipped into ``freq_range``) and
     ``log_bandwidth`` (log of the half-power bandwidth ``2√ln2·σ_i`` in Hz, into
     ``bandwidth_range``). LEAF keeps these in linear units with clamps; log units are what let
     them move (see ``MorletFilterbank``).
  2. Squared modulus and learnable Gaussian low-pass pooling per filter:
     ``E[i, t] = Σ_j h_i[j]·|W_i[t·hop_length + j·M]|²`` with
     ``h_i[j] ∝ exp(-(j·M)² / (2·(τ_i·hop_length)²))`` on ``|j·M| ≤ 3·hop_length``, normalised to
     sum 1 (LEAF's window is not normalised; here PCEN sees energies on the input's scale).
     Trained: ``log_pool_width`` (``log τ_i``, τ in hops, smooth-clipped into
     ``[1/(2·oversample), 1]``; initial ``pool_width``).
  3. Compression: ``PCEN`` with per-channel learnable α, δ, r and smoothing s (sPCEN), finite
     on silence; or ``compression="log"``: ``½·log(E + amin²)``.

  Args:
    sr: sample rate in Hz.
    n_filters: number of filters.
    fmin, fmax: mel range of the initialisation (``fmax`` default ``sr / 2``).
    hop_length: samples between frames (LEAF: 160 at 16 kHz).
    oversample: |W|² samples per hop entering the pooling.
    pool_width: initial Gaussian pooling width in hops (LEAF's 0.4 of a 25 ms half-window is
      0.5 hop at 10 ms hops).
    compression: ``"pcen"`` (default) or ``"log"``.
    pcen_kwargs: extra arguments for ``PCEN`` (``alpha``, ``delta``, ``r``, ``smooth``, ``eps``).
    amin: floor for ``compression="log"``.
    freq_range: bounds of the centre frequencies, default ``(lowest peak / 4, 0.999·sr / 2)``.
    bandwidth_range: bounds of the half-power bandwidths in Hz, default ``(sr / 1000, sr / 2)``
      (the lower bound sets the zero padding, see ``MorletFilterbank``).
    param_dtype: parameter dtype.

  Shapes: ``(..., n_samples) -> (..., n_filters, 1 + n_samples // hop_length)``.

  Examples:
    >>> import jax.numpy as jnp
    >>> leaf = Leaf(sr=16000, n_filters=8)
    >>> leaf(jnp.zeros((2, 8000))).shape       # silence: finite (exactly 0 after PCEN)
    (2, 8, 51)

  References:
    N. Zeghidour, O. Teboul, F. de Chaumont Quitry, M. Tagliasacchi, "LEAF: A learnable frontend
    for audio classification", ICLR 2021. The measured weakness of its filters: arXiv 2404.06702.
  """

  def __init__(self, *, sr: float, n_filters: int = 40, fmin: float = 60.0,
               fmax: float | None = None, hop_length: int = 160, oversample: int = 4,
               pool_width: float = 0.5, compression: str = "pcen",
               pcen_kwargs: Mapping[str, Any] | None = None, amin: float = 1e-5,
               freq_range: Any = None, bandwidth_range: Any = None,
               param_dtype: Any = jnp.float32):
    self._setup_grid_args(sr, hop_length, oversample)
    n_filters = _checks.positive_int(n_filters, "n_filters")
    fmax = self.sr / 2.0 if fmax is None else _checks.positive_number(fmax, "fmax")
    fmin = _checks.positive_number(fmin, "fmin", allow_zero=True)
    if not fmin < fmax <= self.sr / 2.0:
      raise ValueError(f"fmax must be in (fmin, sr/2]=({fmin}, {self.sr / 2}], got {fmax}")
    edges = _mel_grid(fmin, fmax, n_filters)
    centers = edges[1:-1]
    fwhm = (edges[2:] - edges[:-2]) / 2.0  # the triangle's width at half its peak
    sigma = fwhm / (2.0 * math.sqrt(2.0 * math.log(2.0)))
    self._setup_centers(centers, freq_range, param_dtype)
    if bandwidth_range is None:
      bandwidth_range = (self.sr / 1000.0, self.sr / 2.0)
    lo, hi = _range(bandwidth_range, "bandwidth_range")
    self._log_bw = (math.log(lo), math.log(hi))
    bw0 = _HALF_POWER * sigma
    self.log_bandwidth = nnx.Param(jnp.asarray(
        _softclip_inverse(np.log(bw0), *self._log_bw, "the initial bandwidths"), dtype=param_dtype))
    self.initial_bandwidth_hz = FilterInit(jnp.asarray(bw0, dtype=param_dtype))
    self._min_sigma = lo / _HALF_POWER
    pool_width = _checks.positive_number(pool_width, "pool_width")
    self._log_tau = (math.log(0.5 / self.oversample), 0.0)
    self.log_pool_width = nnx.Param(jnp.full(
        (n_filters,), _softclip_inverse(np.log(pool_width), *self._log_tau, "pool_width"),
        dtype=param_dtype))
    self.compression = _checks.choice(compression, "compression", ("pcen", "log"))
    self.amin = _checks.positive_number(amin, "amin")
    self.pcen = (PCEN(n_filters, param_dtype=param_dtype, **dict(pcen_kwargs or {}))
                 if compression == "pcen" else None)

  def bandwidths(self) -> jax.Array:
    """Half-power (-3 dB) bandwidths ``(n_filters,)`` in Hz."""
    return jnp.exp(_softclip(self.log_bandwidth[...], *self._log_bw))

  def pool_widths(self) -> jax.Array:
    """Gaussian pooling widths ``(n_filters,)`` in hops."""
    return jnp.exp(_softclip(self.log_pool_width[...], *self._log_tau))

  def __call__(self, x: ArrayLike) -> jax.Array:
    return self._forward(_checks.as_signal(x, "x"))

  @compiled_method
  def _forward(self, x: jax.Array) -> jax.Array:
    x, batch_shape = _as_signal(x)
    half = 3 * self.oversample
    P, grid = self._power(x, "peak", self._min_sigma, half)
    j = jnp.arange(-half, half + 1, dtype=P.dtype) / self.oversample  # offsets in hops
    tau = self.pool_widths().astype(P.dtype)
    h = jnp.exp(-0.5 * (j[None, :] / tau[:, None]) ** 2)
    E = _pool(P, h / jnp.sum(h, axis=-1, keepdims=True), grid, half)
    out = self.pcen(E) if self.pcen is not None else 0.5 * jnp.log(E + self.amin**2)
    return out.reshape(batch_shape + out.shape[1:])


def _initial_centers(init: Any, n_filters: Any, fmin: Any, fmax: Any, sr: float) -> np.ndarray:
  nyq = sr / 2.0
  if isinstance(init, str):
    _checks.choice(init, "init", ("mel", "log"))
    n = _checks.positive_int(n_filters, "n_filters")
    fmin = _checks.positive_number(fmin, "fmin", allow_zero=init == "mel")
    default = nyq if init == "mel" else 0.9 * nyq
    fmax = default if fmax is None else _checks.positive_number(fmax, "fmax")
    if not fmin < fmax <= nyq:
      raise ValueError(f"fmax must be in (fmin, sr/2]=({fmin}, {nyq}], got {fmax}")
    if init == "mel":
      return _mel_grid(fmin, fmax, n)[1:-1]
    return np.geomspace(fmin, fmax, n) if n > 1 else np.array([np.sqrt(fmin * fmax)])
  centers = np.asarray(init, dtype=np.float64).reshape(-1)
  if centers.size == 0 or np.any(~np.isfinite(centers)) or np.any(centers <= 0) \
      or np.any(centers >= nyq):
    raise ValueError(f"init must be 'mel', 'log' or centre frequencies in (0, sr/2={nyq}), got "
                     f"{init!r}")
  return centers


def _spacing(centers: np.ndarray) -> np.ndarray:
  """Local spacing of a sorted grid (one-sided at the ends), in Hz."""
  order = np.argsort(centers)
  spacing = np.empty_like(centers)
  spacing[order] = np.gradient(centers[order])
  return np.maximum(spacing, 1e-3 * centers)


# ---------------------------------------------------------------------------------------------
# Mel filterbank front-ends.


class LearnableMel(nnx.Module):
  """A log-mel spectrogram whose filterbank (and optionally window) is trained.

  ``S = |stft(y, window=w)|²`` (``jd.spectrogram``), ``E = F·S`` with ``F`` ``(n_mels, n_freq)``
  initialised to ``jd.mel_filterbank``, and the output ``½·log(E² + amin²)`` (``≈ log E`` for
  ``E ≫ amin``; smooth and finite for every sign of ``E``, so every entry of ``F`` — the zeros
  outside each triangle included — gets a gradient and may turn negative).

  Trainable (``nnx.Param``): ``filters`` ``(n_mels, 1 + n_fft // 2)`` (when
  ``trainable_filters``) and ``window`` ``(win_length,)`` initialised to the named window (when
  ``trainable_window``; passed to ``jd.stft(window=array)``). With both off it is the fixed
  log-mel front-end (``LogMel``).

  For ``filter_movement``, each filter's centre is the centroid of ``F[i]²`` over the FFT
  frequencies and its bandwidth the half-power bandwidth of the Gaussian with the same spread
  (``2√(2 ln 2)`` times the standard deviation of ``F[i]²``).

  Args:
    sr: sample rate.
    n_fft, hop_length, win_length: STFT sizes (``hop_length`` default ``n_fft // 4``).
    n_mels, fmin, fmax, htk, norm: as in ``jd.mel_filterbank``.
    window: initial window name.
    trainable_filters: train the filterbank matrix.
    trainable_window: train the window.
    amin: power floor in the log (static), 1e-10 as ``jd.power_to_db``.
    param_dtype: parameter dtype.

  Shapes: ``(..., n_samples) -> (..., n_mels, 1 + n_samples // hop_length)``.

  Examples:
    >>> import jax.numpy as jnp
    >>> m = LearnableMel(sr=16000, n_fft=512, hop_length=160, n_mels=40)
    >>> m(jnp.zeros((2, 16000))).shape
    (2, 40, 101)

  Compare ``jd.melspectrogram`` followed by ``jd.power_to_db`` (here in natural-log units, no
  ``top_db``); nnAudio's trainable ``MelSpectrogram``.
  """

  def __init__(self, *, sr: float, n_fft: int = 512, hop_length: int | None = None,
               win_length: int | None = None, n_mels: int = 40, fmin: float = 0.0,
               fmax: float | None = None, htk: bool = False, norm: Any = "slaney",
               window: str = "hann", trainable_filters: bool = True,
               trainable_window: bool = False, amin: float = 1e-10,
               param_dtype: Any = jnp.float32):
    self.sr = _checks.sample_rate(sr)
    self.n_fft = _checks.positive_int(n_fft, "n_fft")
    self.win_length = (self.n_fft if win_length is None
                       else _checks.positive_int(win_length, "win_length"))
    if self.win_length > self.n_fft:
      raise ValueError(f"win_length must be <= n_fft={self.n_fft}, got {self.win_length}")
    self.hop_length = (self.n_fft // 4 if hop_length is None
                       else _checks.positive_int(hop_length, "hop_length"))
    self.amin = _checks.positive_number(amin, "amin")
    fb = _mel.mel_filterbank(sr=self.sr, n_fft=self.n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax,
                             htk=htk, norm=norm, dtype=param_dtype)
    self.filters = (nnx.Param if trainable_filters else Constant)(fb)
    win = framing.get_window(window, self.win_length, dtype=param_dtype)
    self.window = nnx.Param(win) if trainable_window else None
    self._window_name = window
    c0, b0 = self._moments(np.asarray(fb, dtype=np.float64), np)
    self.initial_center_hz = FilterInit(jnp.asarray(c0, dtype=param_dtype))
    self.initial_bandwidth_hz = FilterInit(jnp.asarray(b0, dtype=param_dtype))

  def _moments(self, fb: Any, xp: Any = jnp) -> tuple[Any, Any]:
    """Centroid and equivalent-Gaussian half-power bandwidth of each row's ``fb²``."""
    w = fb * fb
    total = xp.sum(w, axis=-1)
    total = xp.where(total > 0, total, 1)
    f = xp.asarray(framing.fft_frequencies(sr=self.sr, n_fft=self.n_fft), dtype=fb.dtype)
    c = xp.sum(w * f, axis=-1) / total
    var = xp.sum(w * (f[None, :] - c[:, None]) ** 2, axis=-1) / total
    sd = np.sqrt(var) if xp is np else _ops.safe_sqrt(var)
    return c, 2.0 * math.sqrt(2.0 * math.log(2.0)) * sd

  def center_frequencies(self) -> jax.Array:
    """Centroids ``(n_mels,)`` of the squared filters, in Hz."""
    return self._moments(self.filters[...])[0]

  def bandwidths(self) -> jax.Array:
    """Equivalent-Gaussian half-power bandwidths ``(n_mels,)`` in Hz."""
    return self._moments(self.filters[...])[1]

  def __call__(self, x: ArrayLike) -> jax.Array:
    return self._forward(_checks.as_signal(x, "x"))

  @compiled_method
  def _forward(self, x: jax.Array) -> jax.Array:
    fb = self.filters[...]
    dtype = jnp.result_type(x.dtype, fb.dtype)
    window = self._window_name if self.window is None else self.window[...].astype(dtype)
    S = spectral.spectrogram(x.astype(dtype), n_fft=self.n_fft, hop_length=self.hop_length,
                             win_length=self.win_length, window=window, power=2.0)
    E = jnp.einsum("mf,...ft->...mt", fb.astype(dtype), S)
    return 0.5 * jnp.log(E * E + self.amin**2)


class LogMel(LearnableMel):
  """The fixed log-mel front-end: ``LearnableMel`` with nothing trainable (the baseline).

  ``½·log(E² + amin²)`` of ``E = mel_filterbank · |stft(y)|²`` (≈ ``log E``), computed in the
  model's graph so that it can be compared with learnable front-ends at the same cost.

  Args:
    sr, n_fft, hop_length, win_length, n_mels, fmin, fmax, htk, norm, window, amin,
    param_dtype: as in ``LearnableMel``.

  Examples:
    >>> import jax.numpy as jnp
    >>> LogMel(sr=16000, n_mels=40, hop_length=160)(jnp.zeros((1, 8000))).shape
    (1, 40, 51)
  """

  def __init__(self, *, sr: float, n_fft: int = 512, hop_length: int | None = None,
               win_length: int | None = None, n_mels: int = 40, fmin: float = 0.0,
               fmax: float | None = None, htk: bool = False, norm: Any = "slaney",
               window: str = "hann", amin: float = 1e-10, param_dtype: Any = jnp.float32):
    super().__init__(sr=sr, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                     n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk, norm=norm, window=window,
                     trainable_filters=False, trainable_window=False, amin=amin,
                     param_dtype=param_dtype)


# ---------------------------------------------------------------------------------------------
# Classic features as differentiable layers.


class SoftEnvelope(nnx.Module):
  """Amplitude envelope through a soft maximum: ``τ·log(mean_k exp(y[t·hop + k] / τ))``.

  The log-mean-exp of each frame at temperature ``τ``: it tends to the frame's maximum
  (``jd.amplitude_envelope``, whose gradient reaches only the arg-max sample) as ``τ → 0`` —
  within ``τ·log(frame_length)`` below it — and to the frame's mean as ``τ → ∞``; the gradient
  is a softmax over the frame's samples. ``τ = exp(log_temperature)`` is trainable (an
  ``nnx.Param``) when ``trainable``.

  Args:
    frame_length, hop_length, center, pad_mode: framing, as ``jd.amplitude_envelope``.
    temperature: initial τ (in signal amplitude units), > 0.
    trainable: learn τ.
    param_dtype: parameter dtype.

  Shapes: ``(..., n_samples) -> (..., n_frames)``.

  Examples:
    >>> import jax.numpy as jnp
    >>> env = SoftEnvelope(frame_length=4, hop_length=4, center=False, temperature=1e-3)
    >>> [round(v, 2) for v in env(jnp.array([0., 1., 0., -1., 2., 0., 0., 0.])).tolist()]
    [1.0, 2.0]
  """

  def __init__(self, *, frame_length: int = 2048, hop_length: int = 512, center: bool = True,
               pad_mode: str = "constant", temperature: float = 0.01, trainable: bool = True,
               param_dtype: Any = jnp.float32):
    self.frame_length = _checks.positive_int(frame_length, "frame_length")
    self.hop_length = _checks.positive_int(hop_length, "hop_length")
    self.center = bool(center)
    self.pad_mode = pad_mode
    t = math.log(_checks.positive_number(temperature, "temperature"))
    self.log_temperature = (nnx.Param if trainable else Constant)(jnp.asarray(t, param_dtype))

  def __call__(self, y: ArrayLike) -> jax.Array:
    return self._forward(_checks.as_signal(y, "y"))

  @compiled_method
  def _forward(self, y: jax.Array) -> jax.Array:
    frames = temporal.framed(y, frame_length=self.frame_length, hop_length=self.hop_length, center=self.center,
                             pad_mode=self.pad_mode)
    tau = jnp.exp(self.log_temperature[...]).astype(jnp.result_type(frames.dtype,
                                                                    self.log_temperature[...].dtype))
    frames = frames.astype(tau.dtype)
    return tau * (jax.nn.logsumexp(frames / tau, axis=-1) - math.log(self.frame_length))


class SmoothZCR(nnx.Module):
  """The differentiable zero-crossing rate ``jd.zero_crossing_rate_smooth`` as a layer.

  No trainable parameters (``temperature`` is static in ``jd.zero_crossing_rate_smooth``); its
  gradient with respect to the input is finite everywhere, so it can sit after a learnable
  stage or be stacked with other front-ends (``FeatureStack``).

  Args:
    frame_length, hop_length, center, pad_mode, temperature: as
      ``jd.zero_crossing_rate_smooth``.

  Shapes: ``(..., n_samples) -> (..., n_frames)``.

  Examples:
    >>> import jax.numpy as jnp
    >>> square = jnp.tile(jnp.array([1., 1., -1., -1.]), 64)
    >>> round(float(SmoothZCR(frame_length=256, hop_length=256, center=False)(square)[0]), 3)
    0.496
  """

  def __init__(self, *, frame_length: int = 2048, hop_length: int = 512, center: bool = True,
               pad_mode: str = "edge", temperature: float = 1e-3):
    self.frame_length = _checks.positive_int(frame_length, "frame_length")
    self.hop_length = _checks.positive_int(hop_length, "hop_length")
    self.center = bool(center)
    self.pad_mode = pad_mode
    self.temperature = _checks.positive_number(temperature, "temperature")

  def __call__(self, y: ArrayLike) -> jax.Array:
    return temporal.zero_crossing_rate_smooth(
        y, frame_length=self.frame_length, hop_length=self.hop_length, center=self.center,
        pad_mode=self.pad_mode, temperature=self.temperature)


class FeatureStack(nnx.Module):
  """Stacks front-ends along the feature axis: ``(..., n_samples) -> (..., Σ n_features, n_frames)``.

  Per-frame features ``(..., n_frames)`` count as one feature row. Every member must give the
  same number of frames (same ``hop_length`` and centring).

  Args:
    frontends: the modules, in order.

  Examples:
    >>> import jax.numpy as jnp
    >>> stack = FeatureStack([LogMel(sr=16000, n_mels=8, hop_length=128),
    ...                       SoftEnvelope(frame_length=512, hop_length=128),
    ...                       SmoothZCR(frame_length=512, hop_length=128)])
    >>> stack(jnp.zeros((2, 4096))).shape
    (2, 10, 33)
  """

  def __init__(self, frontends: Sequence[nnx.Module]):
    frontends = list(frontends)
    if not frontends:
      raise ValueError("frontends must hold at least one module, got none")
    self.frontends = nnx.List(frontends)

  def __call__(self, x: ArrayLike) -> jax.Array:
    x = _checks.as_signal(x, "x")
    outs = []
    for fe in self.frontends:
      o = fe(x)
      outs.append(o[..., None, :] if o.ndim == x.ndim else o)
    frames = {o.shape[-1] for o in outs}
    if len(frames) != 1:
      raise ValueError(f"frontends must give the same number of frames, got "
                       f"{[o.shape[-1] for o in outs]}")
    dtype = jnp.result_type(*outs)
    return jnp.concatenate([o.astype(dtype) for o in outs], axis=-2)


# ---------------------------------------------------------------------------------------------
# Training helpers: per-group learning rates, filter movement.


def frontend_optimizer(*, frontend_lr: Any = 1e-2, backbone_lr: Any = 1e-3,
                       optimizer: Any = "adam", frontend_attr: str = "frontend",
                       **kwargs: Any) -> optax.GradientTransformation:
  """An optimizer with its own learning rate for the front-end (``optax.multi_transform``).

  Parameters under ``model.<frontend_attr>`` (e.g. ``CNN(..., frontend=...)``) get
  ``optimizer`` at ``frontend_lr``; all others at ``backbone_lr``. Front-end parameters in log
  units (log-Hz, log-Q) want a larger step than the classifier's weights: with Adam,
  ``frontend_lr = 0.01`` moves a filter up to 1 % in frequency per step.

  Args:
    frontend_lr: learning rate (or optax schedule) of the front-end.
    backbone_lr: learning rate (or schedule) of everything else.
    optimizer: ``"adam"``, ``"sgd"`` or ``"adamw"`` (see ``jaxdsp.nn.make_optimizer``).
    frontend_attr: attribute path prefix of the front-end in the model (``"frontend"``).
    **kwargs: passed to ``make_optimizer`` for both groups (``momentum``, ``b1``, ...).

  Returns:
    An ``optax.GradientTransformation`` to pass as ``fit(..., optimizer=...)`` or to
    ``nnx.Optimizer(model, tx, wrt=nnx.Param)``.

  Examples:
    >>> tx = frontend_optimizer(frontend_lr=0.02, backbone_lr=1e-3)
  """
  if not isinstance(frontend_attr, str) or not frontend_attr:
    raise ValueError(f"frontend_attr must be a non-empty attribute path, got {frontend_attr!r}")
  labels = label_params({frontend_attr: "frontend"}, default="backbone")
  return make_optimizer({"frontend": make_optimizer(optimizer, frontend_lr, **kwargs),
                         "backbone": make_optimizer(optimizer, backbone_lr, **kwargs)},
                        param_labels=labels)


def _filter_modules(frontend: nnx.Module) -> list[nnx.Module]:
  if isinstance(frontend, FeatureStack):
    return [m for fe in frontend.frontends for m in _filter_modules(fe)]
  if hasattr(frontend, "center_frequencies") and hasattr(frontend, "initial_center_hz"):
    return [frontend]
  return []


def filter_movement(frontend: nnx.Module) -> dict[str, np.ndarray]:
  """How far each filter of a front-end moved from its initialisation.

  Works for ``MorletFilterbank``, ``Leaf``, ``LearnableMel`` (centroids) and a ``FeatureStack``
  of them (filters concatenated in order).

  Args:
    frontend: the front-end module (e.g. ``model.frontend``).

  Returns:
    NumPy float64 arrays ``(n_filters,)``: ``center_hz``, ``initial_center_hz``,
    ``center_shift_hz`` (signed), ``center_shift_octaves`` (``log2(f / f0)``), ``bandwidth_hz``,
    ``initial_bandwidth_hz``, ``bandwidth_shift_hz`` (signed), ``bandwidth_ratio``
    (``bw / bw0``). Bandwidths are half-power (-3 dB) bandwidths in Hz.

  Raises:
    ValueError: the module has no filters.

  Examples:
    >>> fb = MorletFilterbank(sr=16000, n_filters=4)
    >>> bool(abs(filter_movement(fb)["center_shift_hz"]).max() < 0.01)   # not trained yet
    True
  """
  mods = _filter_modules(frontend)
  if not mods:
    raise ValueError(f"frontend must have learnable filters (MorletFilterbank, Leaf, "
                     f"LearnableMel or a FeatureStack of them), got {type(frontend).__name__}")

  def cat(fn):
    return np.concatenate([np.asarray(fn(m), dtype=np.float64).reshape(-1) for m in mods])

  c = cat(lambda m: m.center_frequencies())
  c0 = cat(lambda m: m.initial_center_hz[...])
  b = cat(lambda m: m.bandwidths())
  b0 = cat(lambda m: m.initial_bandwidth_hz[...])
  with np.errstate(divide="ignore", invalid="ignore"):
    return {"center_hz": c, "initial_center_hz": c0, "center_shift_hz": c - c0,
            "center_shift_octaves": np.log2(c / c0), "bandwidth_hz": b,
            "initial_bandwidth_hz": b0, "bandwidth_shift_hz": b - b0,
            "bandwidth_ratio": b / b0}


def filter_movement_callback(*, frontend_attr: str = "frontend", per_filter: bool = False,
                             prefix: str = "filters/") -> Callable[[int, nnx.Module, dict], dict]:
  """A ``fit`` callback that reports filter movement after each epoch.

  Args:
    frontend_attr: attribute of the model holding the front-end (``None`` or ``""``: the model
      itself is the front-end).
    per_filter: also return the per-filter ``center_shift_hz`` and ``bandwidth_ratio`` arrays
      (``fit`` logs arrays as TensorBoard histograms).
    prefix: prefix of the returned keys.

  Returns:
    ``callback(epoch, model, logs) -> dict`` with ``{prefix}center_shift_hz_mean`` /
    ``_max`` (of ``|Δf|``), ``{prefix}center_shift_octaves_mean`` (mean ``|log2(f/f0)|``),
    ``{prefix}bandwidth_shift_hz_mean`` (mean ``|Δbw|``) and
    ``{prefix}bandwidth_log2_ratio_mean`` (mean ``|log2(bw/bw0)|``); ``fit`` adds them to the
    history and logs them under ``diagnostics/``.

  Examples:
    >>> cb = filter_movement_callback()
    >>> # fit(model, train, val, loss="cross_entropy", epochs=5, callbacks=[cb])
  """

  def callback(epoch: int, model: nnx.Module, logs: dict) -> dict:
    del epoch, logs
    fe = getattr(model, frontend_attr) if frontend_attr else model
    m = filter_movement(fe)
    out = {f"{prefix}center_shift_hz_mean": float(np.mean(np.abs(m["center_shift_hz"]))),
           f"{prefix}center_shift_hz_max": float(np.max(np.abs(m["center_shift_hz"]))),
           f"{prefix}center_shift_octaves_mean": float(np.mean(np.abs(m["center_shift_octaves"]))),
           f"{prefix}bandwidth_shift_hz_mean": float(np.mean(np.abs(m["bandwidth_shift_hz"]))),
           f"{prefix}bandwidth_log2_ratio_mean":
               float(np.mean(np.abs(np.log2(m["bandwidth_ratio"]))))}
    if per_filter:
      out[f"{prefix}center_shift_hz"] = m["center_shift_hz"]
      out[f"{prefix}bandwidth_ratio"] = m["bandwidth_ratio"]
    return out

  return callback
