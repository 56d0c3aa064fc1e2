"""Fundamental-frequency estimation: YIN, probabilistic YIN (pYIN) and a soft, differentiable YIN.

Layout: signals ``(..., n_samples)`` (any leading batch axes) to per-frame tracks ``(..., n_frames)``.
Frames are centred as librosa's (``frame_length // 2`` samples of padding each side by default).
``yin`` and ``pyin`` pick discrete candidates (troughs, the Viterbi path): their f0 is piecewise
smooth in the signal but the choices have zero gradient; :func:`yin_soft` replaces the choices
by a softmin and is differentiable everywhere.
"""

from __future__ import annotations

import functools
import math
import warnings
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from jaxdsp import _checks
from jaxdsp import _core

_LOG_EPS = float(np.log(np.finfo(np.float64).tiny))  # librosa's viterbi adds tiny(float64) before the log


def _check_params(y: Any, fmin: Any, fmax: Any, sr: Any, frame_length: Any, hop_length: Any, center: Any,
                  pad_mode: Any) -> tuple:
  """The checked arguments shared by the YIN family (librosa's ``__check_yin_params``)."""
  y = _checks.as_signal(y)
  sr = _checks.sample_rate(sr)
  if fmin is None or fmax is None:
    raise ValueError("both fmin and fmax must be given (Hz)")
  fmin = _checks.positive_number(fmin, "fmin")
  fmax = _checks.positive_number(fmax, "fmax")
  frame_length = _checks.positive_int(frame_length, "frame_length")
  hop_length = frame_length // 4 if hop_length is None else hop_length
  if fmax > sr / 2:
    raise ValueError(f"fmax must not exceed the Nyquist frequency {sr / 2}, got {fmax}")
  if fmin >= fmax:
    raise ValueError(f"fmin must be less than fmax={fmax}, got {fmin}")
  if sr / fmin >= frame_length - 1:
    raise ValueError(f"fmin={fmin:.3f} is too small for frame_length={frame_length} and sr={sr}: use fmin > "
                     f"{sr / (frame_length - 1):.3f} or frame_length >= {int(np.ceil(sr / fmin) + 1)}")
  if sr / fmin >= frame_length // 2:
    warnings.warn(f"With fmin={fmin:.3f}, sr={sr} and frame_length={frame_length}, less than two periods of fmin "
                  "fit into the frame, which can cause inaccurate pitch detection.", stacklevel=3)
  _checks.choice(pad_mode, "pad_mode", _core.PAD_MODES)
  frame_length, hop_length = _core.check_framing(y.shape[-1], frame_length, hop_length, bool(center), pad_mode)
  min_period = int(np.floor(sr / fmax))
  max_period = min(int(np.ceil(sr / fmin)), frame_length - 1)
  return y, sr, fmin, fmax, frame_length, hop_length, min_period, max_period


def _cmndf(y: jax.Array, frame_length: int, hop_length: int, center: bool, pad_mode: str, min_period: int,
           max_period: int) -> jax.Array:
  """librosa's cumulative mean normalised difference, ``(..., n_frames, n_lags)`` (lag last):
  ``d[k] = 2·(r[0] - r[k]) - Σ_{m<k} x[m]²`` and ``d'[k] = d[k] / mean(d[1..k])`` for
  ``k = min_period .. max_period``."""
  frames = _core.frames(y, frame_length, hop_length, center, pad_mode)  # (..., T, N)
  n_fft = _core.next_fast_len(frame_length + max_period)  # no circular wrap-around for lags <= max_period
  spec = jnp.fft.rfft(frames, n=n_fft, axis=-1)
  acf = jnp.fft.irfft(spec.real ** 2 + spec.imag ** 2, n=n_fft, axis=-1)[..., :max_period + 1]
  energy = jnp.cumsum(frames[..., :max_period] ** 2, axis=-1)
  d = 2 * (acf[..., :1] - acf[..., 1:]) - energy  # lags 1..max_period
  k = jnp.arange(1, max_period + 1, dtype=d.dtype)
  mean = jnp.cumsum(d, axis=-1) / k
  num = d[..., min_period - 1:]
  den = mean[..., min_period - 1:]
  return num / (den + jnp.finfo(d.dtype).tiny)


def _parabolic_shift(x: jax.Array) -> jax.Array:
  """Sub-sample shift of each lag's parabola through its neighbours (0 at the ends and where the
  shift would exceed one bin)."""
  left, mid, right = x[..., :-2], x[..., 1:-1], x[..., 2:]
  a = right + left - 2 * mid
  b = (right - left) / 2
  ok = jnp.abs(b) < jnp.abs(a)
  shift = jnp.where(ok, -b / jnp.where(ok, a, 1), 0)
  zero = jnp.zeros_like(x[..., :1])
  return jnp.concatenate([zero, shift, zero], axis=-1)


def _troughs(x: jax.Array) -> jax.Array:
  """librosa's ``localmin`` over the last axis with its YIN edge rules."""
  first = x[..., :1] < x[..., 1:2]
  mid = (x[..., 1:-1] < x[..., :-2]) & (x[..., 1:-1] <= x[..., 2:])
  last = x[..., -1:] < x[..., -2:-1]
  return jnp.concatenate([first, mid, last], axis=-1)


@functools.partial(jax.jit, static_argnames=("sr", "frame_length", "hop_length", "center", "pad_mode",
                                             "min_period", "max_period", "trough_threshold"))
def _yin(y, *, sr, frame_length, hop_length, center, pad_mode, min_period, max_period, trough_threshold):
  x = _cmndf(y, frame_length, hop_length, center, pad_mode, min_period, max_period)
  shifts = _parabolic_shift(x)
  below = _troughs(x) & (x < trough_threshold)
  idx = jnp.where(jnp.any(below, axis=-1), jnp.argmax(below, axis=-1), jnp.argmin(x, axis=-1))
  shift = jnp.take_along_axis(shifts, idx[..., None], axis=-1)[..., 0]
  return sr / (min_period + idx + shift)


def yin(y: ArrayLike, *, fmin: float, fmax: float, sr: float = 22050, frame_length: int = 2048,
        hop_length: int | None = None, trough_threshold: float = 0.1, center: bool = True,
        pad_mode: str = "constant") -> jax.Array:
  """Fundamental frequency by YIN (de Cheveigné & Kawahara 2002), as librosa computes it.

  Per frame: the cumulative mean normalised difference ``d'[τ]`` for periods
  ``τ ∈ [floor(sr / fmax), min(ceil(sr / fmin), frame_length - 1)]``; the first trough below
  ``trough_threshold`` (else the global minimum), refined by parabolic interpolation;
  ``f0 = sr / τ``.

  The estimate is differentiable in ``y`` through ``d'`` at the chosen lag; the choice of the lag is
  discrete (zero gradient). For a smooth surrogate see :func:`yin_soft`.

  Args:
    y: ``(..., n_samples)`` signal.
    fmin, fmax: search range (Hz); ``fmax <= sr / 2`` and ``sr / fmin < frame_length - 1``.
    sr: sample rate (Hz).
    frame_length: samples per frame (static).
    hop_length: hop between frames, default ``frame_length // 4``.
    trough_threshold: absolute threshold on ``d'``.
    center: centre the frames (pad ``frame_length // 2`` each side).
    pad_mode: padding for ``center``.

  Returns:
    ``(..., n_frames)`` f0 in Hz.

  Raises:
    ValueError: missing or inconsistent ``fmin``/``fmax``, bad lengths, empty ``y``.
    TypeError: integer ``y``.

  Examples:
    >>> import jaxdsp as jd
    >>> t = jnp.arange(4096) / 22050
    >>> f0 = jd.yin(jnp.sin(2 * jnp.pi * 220 * t), fmin=80, fmax=1000)
    >>> f0.shape, round(float(f0[4]))
    ((9,), 220)

  Compare ``librosa.yin`` (f0 within one cent on voiced frames of real recordings).

  References:
    A. de Cheveigné and H. Kawahara, "YIN, a fundamental frequency estimator for speech and music",
    JASA 111(4), 2002.
  """
  y, sr, fmin, fmax, frame_length, hop_length, min_period, max_period = _check_params(
      y, fmin, fmax, sr, frame_length, hop_length, center, pad_mode)
  trough_threshold = _checks.positive_number(trough_threshold, "trough_threshold", allow_zero=True)
  return _yin(y, sr=sr, frame_length=frame_length, hop_length=hop_length, center=bool(center), pad_mode=pad_mode,
              min_period=min_period, max_period=max_period, trough_threshold=trough_threshold)


@functools.partial(jax.jit, static_argnames=("sr", "frame_length", "hop_length", "center", "pad_mode",
                                             "min_period", "max_period"))
def _yin_soft(y, temperature, lag_penalty, *, sr, frame_length, hop_length, center, pad_mode, min_period,
              max_period):
  x = _cmndf(y, frame_length, hop_length, center, pad_mode, min_period, max_period)
  lags = jnp.arange(min_period, max_period + 1, dtype=x.dtype)
  w = jax.nn.softmax(-(x + lag_penalty * jnp.log2(lags / min_period)) / temperature, axis=-1)
  period = jnp.sum(w * lags, axis=-1)
  return sr / period


def yin_soft(y: ArrayLike, *, fmin: float, fmax: float, sr: float = 22050, frame_length: int = 2048,
             hop_length: int | None = None, temperature: float = 0.01, lag_penalty: float = 0.1,
             center: bool = True, pad_mode: str = "constant") -> jax.Array:
  """A soft, differentiable YIN: the period is the softmin-weighted mean lag of ``d'``.

  ``p[τ] = softmax(-(d'[τ] + lag_penalty·log2(τ / τ_min)) / temperature)`` over the lags of
  :func:`yin`, ``f0 = sr / Σ_τ p[τ]·τ``. Every step is smooth, so gradients flow to ``y`` (and to
  ``temperature``/``lag_penalty``) everywhere; use it as a training loss or a pitch-conditioning
  signal. It is not librosa's estimator: instead of YIN's "first trough below a threshold" it
  takes a soft minimum of ``d'`` with a penalty on longer lags (each octave down costs
  ``lag_penalty``), which favours the shortest of several near-equal troughs (the period rather
  than its multiples) as the threshold rule does. As ``temperature → 0`` it tends to the arg-min of
  the penalised ``d'`` without parabolic refinement; on clean periodic frames it agrees with
  :func:`yin` to about 1 %.

  Args:
    y: ``(..., n_samples)`` signal.
    fmin, fmax, sr, frame_length, hop_length, center, pad_mode: as in :func:`yin`.
    temperature: softmin temperature in units of ``d'`` (> 0; may be a traced scalar).
    lag_penalty: penalty per octave of lag in units of ``d'`` (>= 0; may be traced).

  Returns:
    ``(..., n_frames)`` f0 in Hz.

  Raises:
    ValueError: as :func:`yin`; non-positive Python ``temperature``.

  Examples:
    >>> import jaxdsp as jd
    >>> t = jnp.arange(4096) / 22050
    >>> f0 = jd.yin_soft(jnp.sin(2 * jnp.pi * 220 * t), fmin=80, fmax=1000)
    >>> abs(float(f0[4]) - 220.0) < 2.0
    True

  References:
    A. de Cheveigné and H. Kawahara, "YIN, a fundamental frequency estimator for speech and music",
    JASA 111(4), 2002.
  """
  y, sr, fmin, fmax, frame_length, hop_length, min_period, max_period = _check_params(
      y, fmin, fmax, sr, frame_length, hop_length, center, pad_mode)
  if isinstance(temperature, (int, float, np.integer, np.floating)):
    temperature = _checks.positive_number(temperature, "temperature")
  if isinstance(lag_penalty, (int, float, np.integer, np.floating)):
    lag_penalty = _checks.positive_number(lag_penalty, "lag_penalty", allow_zero=True)
  return _yin_soft(y, jnp.asarray(temperature, y.dtype), jnp.asarray(lag_penalty, y.dtype), sr=sr,
                   frame_length=frame_length, hop_length=hop_length,
                   center=bool(center), pad_mode=pad_mode, min_period=min_period, max_period=max_period)


# ---------------------------------------------------------------------------------------------
# pYIN.


def _beta_cdf(x: np.ndarray, a: float, b: float) -> np.ndarray:
  """The Beta(a, b) CDF on the host: exact binomial sums for integer parameters, else JAX's betainc."""
  if float(a).is_integer() and float(b).is_integer():
    n = int(a) + int(b) - 1
    return np.array([sum(math.comb(n, j) * v ** j * (1 - v) ** (n - j) for j in range(int(a), n + 1)) for v in x])
  return np.asarray(jax.scipy.special.betainc(float(a), float(b), jnp.asarray(x, jnp.float32)), dtype=np.float64)


def _triangle(width: int) -> np.ndarray:
  """``scipy.signal.windows.triang(width)``."""
  n = np.arange(1, (width + 1) // 2 + 1)
  if width % 2:
    w = 2 * n / (width + 1.0)
    return np.concatenate([w, w[-2::-1]])
  w = (2 * n - 1.0) / width
  return np.concatenate([w, w[::-1]])


@functools.lru_cache(maxsize=16)
def _local_band(n_bins: int, width: int) -> tuple[np.ndarray, np.ndarray, int]:
  """librosa's ``transition_local(n_bins, width, window="triangle")`` in band form: for target
  ``j`` and offset ``m``, ``log(A[j + m - h, j] + eps)`` (``-inf`` outside the states) and the source
  indices, ``h = width // 2``."""
  w = _triangle(width)
  if width > n_bins:
    raise ValueError(f"the pitch transition width ({width} bins) exceeds the {n_bins} pitch bins: lower "
                     "max_transition_rate or widen fmin..fmax")
  h = width // 2
  A = np.zeros((n_bins, n_bins))
  lpad = (n_bins - width) // 2
  padded = np.zeros(n_bins)
  padded[lpad:lpad + width] = w
  for i in range(n_bins):  # librosa: pad_center, roll, cut at the edges (wrap=False)
    row = np.roll(padded, n_bins // 2 + i + 1)
    row[min(n_bins, i + width // 2 + 1):] = 0
    row[:max(0, i - width // 2)] = 0
    A[i] = row
  A /= A.sum(axis=1, keepdims=True)
  src = np.arange(n_bins)[:, None] + np.arange(2 * h + 1)[None, :] - h  # (target, m) -> source
  valid = (src >= 0) & (src < n_bins)
  band = np.full(src.shape, -np.inf)
  band[valid] = np.log(A[src[valid], np.nonzero(valid)[0]] + np.finfo(np.float64).tiny)
  return band, np.clip(src, 0, n_bins - 1), h


def _pyin_observations(x, shifts, *, sr, min_period, fmin, n_bins, bins_per_semitone, thresholds, beta_probs,
                       boltzmann, no_trough_prob):
  """Observation probabilities ``(..., T, 2·n_bins)`` and voiced probability ``(..., T)`` from the
  YIN frames ``x`` ``(..., T, L)`` (the official pYIN's rule, as librosa)."""
  troughs = _troughs(x)
  dtype = x.dtype
  c = (1 - math.exp(-boltzmann))
  thr = jnp.asarray(thresholds[1:], dtype)
  beta = jnp.asarray(beta_probs, dtype)
  # n_j: troughs below each threshold (one fused compare-and-count over lags).
  n = jnp.sum(troughs[..., None] & (x[..., None] < thr), axis=-2).astype(dtype)  # (..., n_thr)
  scale = beta * c / jnp.where(n > 0, 1 - jnp.exp(-boltzmann * n), 1)
  # Over lags in order, each trough's rank among the troughs below each threshold is the count so far
  # (a scan over lags: no cumulative sum over a (frames, lags, thresholds) array).
  def step(count, inputs):
    t_k, x_k = inputs
    below = t_k[..., None] & (x_k[..., None] < thr)
    p = jnp.sum(jnp.where(below, scale * jnp.exp(-boltzmann * count), 0), axis=-1)
    return count + below.astype(dtype), p

  _, probs = jax.lax.scan(step, jnp.zeros(x.shape[:-1] + thr.shape, dtype),
                          (jnp.moveaxis(troughs, -1, 0), jnp.moveaxis(x, -1, 0)))
  probs = jnp.moveaxis(probs, 0, -1)
  # The global minimum among the troughs takes the mass of the thresholds below it.
  heights = jnp.where(troughs, x, jnp.inf)
  gmin = jnp.argmin(heights, axis=-1)
  hmin = jnp.min(heights, axis=-1)
  cum_beta = jnp.asarray(np.concatenate([[0.0], np.cumsum(beta_probs)]), dtype)
  n_le = jnp.sum(thr <= hmin[..., None], axis=-1)
  extra = jnp.where(jnp.any(troughs, axis=-1), no_trough_prob * cum_beta[n_le], 0)
  probs = probs + extra[..., None] * jax.nn.one_hot(gmin, x.shape[-1], dtype=dtype)
  # Candidates to pitch bins (0.1-semitone grid from fmin); bin n_bins is an overflow slot.
  period = min_period + jnp.arange(x.shape[-1], dtype=dtype) + shifts
  bins = 12 * bins_per_semitone * jnp.log2(sr / period / fmin)
  bins = jnp.clip(jnp.round(bins), 0, n_bins).astype(jnp.int32)
  batch = x.shape[:-1]
  flat_p, flat_b = probs.reshape(-1, x.shape[-1]), bins.reshape(-1, x.shape[-1])
  obs = jax.vmap(lambda p, b: jnp.zeros(n_bins + 1, dtype).at[b].add(p))(flat_p, flat_b)[:, :n_bins]
  obs = obs.reshape(*batch, n_bins)
  voiced = jnp.clip(jnp.sum(obs, axis=-1), 0, 1)
  unvoiced = jnp.broadcast_to(((1 - voiced) / n_bins)[..., None], obs.shape)
  return jnp.concatenate([obs, unvoiced], axis=-1), voiced


def _viterbi_pitch(log_obs, band, src, h, log_switch):
  """Viterbi decoding of the pYIN HMM (voiced/unvoiced blocks of ``n`` pitch bins, a banded local
  transition within each block, ``log_switch`` between them) under ``lax.scan`` over frames.

  ``log_obs``: ``(B, T, 2n)``. Returns the state path ``(B, T)``. The forward pass keeps only the
  (max-normalised) scores of every frame, computing band maxima as ``2h + 1`` shifted maxima; the
  backward pass recomputes each step's arg-max for the one state on the path. Off-band transitions
  keep librosa's ``log(tiny)`` weight exactly: the best of them is the global maximum plus that
  weight. Ties go to the lowest state index, as ``np.argmax`` in librosa.
  """
  B, T, S = log_obs.shape
  n = S // 2
  dtype = log_obs.dtype
  band = jnp.asarray(band, dtype)  # (n, 2h+1)
  src = jnp.asarray(src)
  log_switch = jnp.asarray(log_switch, dtype)
  init = log_obs[:, 0] + jnp.log(jnp.asarray(1.0 / S, dtype))
  neg = jnp.asarray(-jnp.inf, dtype)

  def best_in(delta):
    """max over sources of delta + log T into every state: (B, 2n)."""
    d = jnp.pad(delta.reshape(B, 2, n), ((0, 0), (0, 0), (h, h)), constant_values=neg)
    best = d[:, :, 0:n] + band[:, 0]
    for m in range(1, 2 * h + 1):
      best = jnp.maximum(best, d[:, :, m:m + n] + band[:, m])
    tot = best[:, :, None, :] + log_switch[None, :, :, None]  # (B, v, w, n)
    val = jnp.max(tot, axis=1).reshape(B, S)
    return jnp.maximum(val, (jnp.max(delta, axis=-1) + _LOG_EPS)[:, None])

  def forward(delta, lo):
    val = best_in(delta) + lo
    val = val - jnp.max(val, axis=-1, keepdims=True)
    return val, val

  first = init - jnp.max(init, axis=-1, keepdims=True)
  last, deltas = jax.lax.scan(forward, first, jnp.swapaxes(log_obs[:, 1:], 0, 1))
  history = jnp.concatenate([first[None], deltas[:-1]], axis=0)  # scores of frames 0 .. T-2
  rows = jnp.arange(B)

  def back(state, delta):
    w, j = state // n, state % n
    d = delta.reshape(B, 2, n)[rows[:, None, None], jnp.arange(2)[None, :, None], src[j][:, None, :]]
    cand = d + band[j][:, None, :] + log_switch[:, w].T[:, :, None]  # (B, v, m)
    flat = cand.reshape(B, -1)
    k = jnp.argmax(flat, axis=-1)
    v, m = k // (2 * h + 1), k % (2 * h + 1)
    prev = v * n + src[j, m]
    off = jnp.max(delta, axis=-1) + _LOG_EPS
    prev = jnp.where(off > flat[rows, k], jnp.argmax(delta, axis=-1), prev).astype(jnp.int32)
    return prev, prev

  tail = jnp.argmax(last, axis=-1).astype(jnp.int32)
  _, states = jax.lax.scan(back, tail, history, reverse=True)
  return jnp.concatenate([jnp.swapaxes(states, 0, 1), tail[:, None]], axis=1)


@functools.partial(jax.jit, static_argnames=("sr", "frame_length", "hop_length", "center", "pad_mode",
                                             "min_period", "max_period", "fmin", "n_bins", "bins_per_semitone",
                                             "n_thresholds", "beta_parameters", "boltzmann", "width", "fill"))
def _pyin(y, log_switch, no_trough_prob, fill_na, *, sr, frame_length, hop_length, center, pad_mode, min_period,
          max_period, fmin, n_bins, bins_per_semitone, n_thresholds, beta_parameters, boltzmann, width, fill):
  # log_switch, no_trough_prob and fill_na are traced: changing them does not recompile.
  x = _cmndf(y, frame_length, hop_length, center, pad_mode, min_period, max_period)
  shifts = _parabolic_shift(x)
  thresholds = np.linspace(0, 1, n_thresholds + 1)
  beta_probs = np.diff(_beta_cdf(thresholds, *beta_parameters))
  obs, voiced_prob = _pyin_observations(
      x, shifts, sr=sr, min_period=min_period, fmin=fmin, n_bins=n_bins, bins_per_semitone=bins_per_semitone,
      thresholds=thresholds, beta_probs=beta_probs, boltzmann=boltzmann, no_trough_prob=no_trough_prob)
  log_obs = jnp.where(obs > 0, jnp.log(jnp.where(obs > 0, obs, 1)), _LOG_EPS)
  band, src, h = _local_band(n_bins, width)
  batch = log_obs.shape[:-2]
  states = _viterbi_pitch(log_obs.reshape(-1, *log_obs.shape[-2:]), band, src, h, log_switch)
  states = states.reshape(*batch, states.shape[-1])
  freqs = jnp.asarray(fmin * 2 ** (np.arange(n_bins) / (12 * bins_per_semitone)), y.dtype)
  voiced_flag = states < n_bins
  f0 = freqs[states % n_bins]
  if fill:
    f0 = jnp.where(voiced_flag, f0, fill_na)
  return f0, voiced_flag, voiced_prob


def pyin(y: ArrayLike, *, fmin: float, fmax: float, sr: float = 22050, frame_length: int = 2048,
         hop_length: int | None = None, n_thresholds: int = 100, beta_parameters: tuple[float, float] = (2, 18),
         boltzmann_parameter: float = 2, resolution: float = 0.1, max_transition_rate: float = 35.92,
         switch_prob: float = 0.01, no_trough_prob: float = 0.01, fill_na: float | None = float("nan"),
         center: bool = True, pad_mode: str = "constant") -> tuple[jax.Array, jax.Array, jax.Array]:
  """Probabilistic YIN (Mauch & Dixon 2014) with Viterbi decoding, as librosa computes it.

  Per frame, each YIN trough gets the probability that it is the first trough below a threshold
  drawn from ``Beta(*beta_parameters)`` (Boltzmann prior over trough order); candidates map to a
  pitch grid of ``resolution`` semitones from ``fmin``; a hidden Markov model over
  voiced/unvoiced × pitch states (local triangular transitions of at most ``max_transition_rate``
  octaves per second, ``switch_prob`` between voicing states) is decoded by Viterbi. The per-frame
  work is vectorised over frames and examples; the Viterbi recursion and its backtracking run as
  ``lax.scan`` over frames, batched over every leading axis.

  Outputs are decisions (the decoded path): their gradient is zero. ``voiced_prob`` is
  differentiable in ``y`` where the trough set is fixed.

  Args:
    y: ``(..., n_samples)`` signal.
    fmin, fmax, sr, frame_length, hop_length, center, pad_mode: as in :func:`yin`.
    n_thresholds: number of thresholds of the Beta prior.
    beta_parameters: ``(a, b)`` of the threshold prior.
    boltzmann_parameter: shape of the trough-order prior.
    resolution: pitch-bin size in semitones (``0 < resolution < 1``).
    max_transition_rate: maximum pitch change (octaves per second).
    switch_prob: probability of switching between voiced and unvoiced.
    no_trough_prob: weight of the global minimum when no trough is below a threshold.
    fill_na: f0 of unvoiced frames (``None``: the decoded pitch). By default NaN, as librosa: f0 is NaN
      wherever ``voiced_flag`` is False (``voiced_flag`` and ``voiced_prob`` are always finite).

  Returns:
    ``(f0, voiced_flag, voiced_prob)``, each ``(..., n_frames)``.

  Raises:
    ValueError: as :func:`yin`; bad probabilities, resolution or counts.

  Examples:
    >>> import jaxdsp as jd
    >>> t = jnp.arange(8192) / 22050
    >>> f0, voiced, prob = jd.pyin(jnp.sin(2 * jnp.pi * 220 * t), fmin=110, fmax=880)
    >>> f0.shape, bool(voiced[8]), round(float(f0[8]))
    ((17,), True, 220)

  Compare ``librosa.pyin`` (f0 within one cent on frames both call voiced).

  References:
    M. Mauch and S. Dixon, "pYIN: A fundamental frequency estimator using probabilistic threshold
    distributions", ICASSP 2014.
  """
  y, sr, fmin, fmax, frame_length, hop_length, min_period, max_period = _check_params(
      y, fmin, fmax, sr, frame_length, hop_length, center, pad_mode)
  n_thresholds = _checks.size(n_thresholds, "n_thresholds")
  n_frames = y.size // hop_length + 1
  if n_thresholds * n_frames > _checks.INT32_MAX:  # the trough counts hold n_thresholds values per frame
    raise ValueError(f"n_thresholds={n_thresholds} is too large for {n_frames} frames: n_thresholds x frames must "
                     "stay below 2**31 (JAX indexes with int32); librosa's default is 100")
  try:
    a, b = (float(v) for v in beta_parameters)
  except (TypeError, ValueError) as e:
    raise ValueError(f"beta_parameters must be two positive numbers, got {beta_parameters!r}") from e
  _checks.positive_number(a, "beta_parameters[0]")
  _checks.positive_number(b, "beta_parameters[1]")
  boltzmann = _checks.positive_number(boltzmann_parameter, "boltzmann_parameter")
  resolution = _checks.positive_number(resolution, "resolution")
  if resolution >= 1:
    raise ValueError(f"resolution must be in (0, 1) semitones, got {resolution}")
  max_transition_rate = _checks.positive_number(max_transition_rate, "max_transition_rate")
  for name, p in (("switch_prob", switch_prob), ("no_trough_prob", no_trough_prob)):
    if _checks.positive_number(p, name, allow_zero=True) > 1:
      raise ValueError(f"{name} must be a probability in [0, 1], got {p}")
  if fill_na is not None:
    if isinstance(fill_na, bool) or not isinstance(fill_na, (int, float, np.integer, np.floating)):
      raise TypeError(f"fill_na must be a number (NaN by default) or None, got {fill_na!r}")
    fill_na = float(fill_na)
  bins_per_semitone = int(np.ceil(1.0 / resolution))
  n_bins = int(np.floor(12 * bins_per_semitone * np.log2(fmax / fmin))) + 1
  width = round(max_transition_rate * 12 * hop_length / sr) * bins_per_semitone + 1
  switch_prob = float(switch_prob)
  log_switch = np.log(np.array([[1 - switch_prob, switch_prob], [switch_prob, 1 - switch_prob]])
                      + np.finfo(np.float64).tiny)  # in float64 (librosa's), then cast to y's dtype
  return _pyin(y, jnp.asarray(log_switch, y.dtype), jnp.asarray(no_trough_prob, y.dtype),
               jnp.asarray(0.0 if fill_na is None else fill_na, y.dtype), sr=sr, frame_length=frame_length,
               hop_length=hop_length, center=bool(center), pad_mode=pad_mode, min_period=min_period,
               max_period=max_period, fmin=fmin, n_bins=n_bins, bins_per_semitone=bins_per_semitone,
               n_thresholds=n_thresholds, beta_parameters=(a, b), boltzmann=boltzmann, width=width,
               fill=fill_na is not None)
