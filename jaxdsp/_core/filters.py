"""Filters of the core, built in NumPy (float64) from static arguments: the mel scale, the mel
filterbank with its banded-product plan, the DCT-II basis of the cepstrum, and the polyphase table of
the resampler."""

from __future__ import annotations

import functools
import math
import warnings
from typing import Any

import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from jaxdsp import _checks

# Slaney's Auditory Toolbox scale: linear below 1 kHz (200/3 Hz per mel), logarithmic above.
_F_SP = 200.0 / 3
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOGSTEP = math.log(6.4) / 27.0


def xp_of(x):
  return np if isinstance(x, (np.ndarray, float, int, np.generic, list, tuple, str, bytes)) else jnp


def _scale_input(x: Any, name: str) -> np.ndarray:
  """Host input of the mel-scale conversions: real and finite, as float64."""
  arr = np.asarray(x)
  if arr.dtype.kind not in "biuf":
    raise TypeError(f"{name} must be real numbers, got {x!r:.60}")
  arr = arr.astype(float)
  if not np.all(np.isfinite(arr)):
    raise ValueError(f"{name} contains non-finite values (NaN or inf)")
  return arr


def hz_to_mel(frequencies: ArrayLike, *, htk: bool = False) -> Any:
  """Hz to mels: Slaney's scale (default) or HTK's ``2595·log10(1 + f/700)``.

  Slaney: ``m = f / (200/3)`` below 1 kHz, ``15 + log(f / 1000) / (log(6.4) / 27)`` above.
  NumPy in, NumPy out (float64); JAX in, JAX out (differentiable).

  Examples:
    >>> import jaxdsp as jd
    >>> round(float(jd.hz_to_mel(1000.0)), 6), round(float(jd.hz_to_mel(1000.0, htk=True)), 3)
    (15.0, 999.986)

  Compare ``librosa.hz_to_mel``.
  """
  xp = xp_of(frequencies)
  f = _scale_input(frequencies, "frequencies") if xp is np else jnp.asarray(frequencies)
  if htk:
    return 2595.0 * xp.log10(1.0 + f / 700.0)
  log_region = f >= _MIN_LOG_HZ
  safe = xp.where(log_region, f, _MIN_LOG_HZ)
  return xp.where(log_region, _MIN_LOG_MEL + xp.log(safe / _MIN_LOG_HZ) / _LOGSTEP, f / _F_SP)


def mel_to_hz(mels: ArrayLike, *, htk: bool = False) -> Any:
  """Mels to Hz, the inverse of :func:`hz_to_mel`.

  Examples:
    >>> import jaxdsp as jd
    >>> round(float(jd.mel_to_hz(15.0)), 6)
    1000.0

  Compare ``librosa.mel_to_hz``.
  """
  xp = xp_of(mels)
  m = _scale_input(mels, "mels") if xp is np else jnp.asarray(mels)
  if htk:
    return 700.0 * (10.0 ** (m / 2595.0) - 1.0)
  log_region = m >= _MIN_LOG_MEL
  safe = xp.where(log_region, m, _MIN_LOG_MEL)
  return xp.where(log_region, _MIN_LOG_HZ * xp.exp(_LOGSTEP * (safe - _MIN_LOG_MEL)), _F_SP * m)


@functools.lru_cache(maxsize=64)
def mel_np(sr: float, n_fft: int, n_mels: int, fmin: float, fmax: float, htk: bool, norm: Any) -> np.ndarray:
  fftfreqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
  mel_f = mel_to_hz(np.linspace(hz_to_mel(fmin, htk=htk), hz_to_mel(fmax, htk=htk), n_mels + 2), htk=htk)
  fdiff = np.diff(mel_f)
  ramps = np.subtract.outer(mel_f, fftfreqs)
  lower = -ramps[:-2] / fdiff[:-1, None]
  upper = ramps[2:] / fdiff[1:, None]
  weights = np.maximum(0.0, np.minimum(lower, upper))
  if norm == "slaney":
    weights *= (2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels]))[:, None]
  elif norm is not None:
    lengths = np.linalg.norm(weights, ord=norm, axis=-1, keepdims=True)
    weights = weights / np.where(lengths < np.finfo(float).tiny, 1.0, lengths)
  weights.setflags(write=False)
  return weights


def mel_matrix(*, sr, n_fft, n_mels, fmin, fmax, htk, norm) -> np.ndarray:
  """The checked mel filterbank ``(n_mels, 1 + n_fft // 2)`` in float64 (read-only, cached); warns
  when filters are empty (:func:`warn_empty_filters`)."""
  args = mel_args(sr, n_fft, n_mels, fmin, fmax, htk, norm)
  warn_empty_filters(args)
  return mel_np(*args)


@functools.lru_cache(maxsize=64)
def empty_filters(*mel_args) -> int:
  """How many filters of the bank are all zero (no FFT bin falls inside them), or 0 when librosa would
  not warn (its rule: an all-zero filter whose lower edge is above 0 Hz)."""
  weights = mel_np(*mel_args)
  sr, n_fft, n_mels, fmin, fmax, htk, _ = mel_args
  lower = mel_to_hz(np.linspace(hz_to_mel(fmin, htk=htk), hz_to_mel(fmax, htk=htk), n_mels + 2), htk=htk)[:-2]
  empty = ~(weights.max(axis=1) > 0)
  return int(np.sum(empty)) if np.any((lower != 0) & empty) else 0


def warn_empty_filters(mel_args: tuple) -> None:
  """A ``UserWarning`` (as ``librosa.filters.mel`` gives) when the bank of ``mel_args`` has empty filters.
  Called once per public call, at argument-check time (never inside a trace)."""
  n_empty = empty_filters(*mel_args)
  if n_empty:
    from jaxdsp._core.stft import find_stacklevel  # pylint: disable=import-outside-toplevel
    sr, n_fft, n_mels = mel_args[:3]
    warnings.warn(f"{n_empty} of the n_mels={n_mels} mel filters are empty (no FFT bin of n_fft={n_fft} at sr={sr:g} "
                  "falls inside them): they give all-zero bands; raise n_fft (or sr and fmax) or lower n_mels",
                  UserWarning, stacklevel=find_stacklevel())


def mel_args(sr, n_fft, n_mels, fmin, fmax, htk, norm) -> tuple:
  """:func:`mel_filterbank`'s arguments checked and normalised (the key of ``mel_np``)."""
  sr = _checks.sample_rate(sr)
  n_fft = _checks.size(n_fft, "n_fft")
  n_mels = _checks.size(n_mels, "n_mels")
  if n_mels * (n_fft // 2 + 1) > _MAX_FILTERBANK:
    raise ValueError(f"n_mels={n_mels} and n_fft={n_fft} give a filterbank of {n_mels * (n_fft // 2 + 1)} entries, "
                     f"more than {_MAX_FILTERBANK} (2**28): lower n_fft or n_mels")
  fmin = _checks.positive_number(fmin, "fmin", allow_zero=True)
  fmax = sr / 2.0 if fmax is None else _checks.positive_number(fmax, "fmax")
  if fmax > sr / 2.0 + 1e-9 or fmin >= fmax:
    raise ValueError(f"fmax must be in (fmin, sr/2]=({fmin}, {sr / 2}], got {fmax}")
  if norm is not None and norm != "slaney" and (isinstance(norm, bool) or not isinstance(norm, (int, float))):
    raise ValueError(f"norm must be 'slaney', a number or None, got {norm!r}")
  if isinstance(norm, (int, float)) and not (norm > 0 or norm == -np.inf) and norm != np.inf:
    raise ValueError(f"norm must be 'slaney', a positive number (p-norm), inf or None, got {norm!r}")
  return sr, n_fft, n_mels, fmin, float(fmax), bool(htk), norm


_MAX_FILTERBANK = 1 << 28  # entries (2 GiB in float64): the largest filterbank built on the host

# Cost of one more group of the banded mel product, in multiply-adds per frame (band × bin): on
# XLA:CPU, 64 bands over 1025 bins in 7 groups (8,758 of the 65,600 products) took 0.83 ms per
# 1,384 frames against 1.70 ms dense; 15 groups (4,618) 1.12 ms, 4 groups (14,653) 0.96 ms.
_GROUP_COST = 1024


@functools.lru_cache(maxsize=64)
def bands(*mel_args) -> tuple[tuple[int, int, int, int], ...]:
  """Groups ``(m0, m1, f0, f1)`` of consecutive filters: rows ``m0:m1`` of the filterbank are zero
  outside bins ``f0:f1``. Chosen to minimise ``Σ (m1 - m0)(f1 - f0) + _GROUP_COST`` per group
  (dynamic programming over the split points); a triangular filter is nonzero over a few bins, so
  the banded product does a fraction of the dense one's work."""
  nonzero = mel_np(*mel_args) != 0
  n_mels = nonzero.shape[0]
  lo = [int(np.argmax(r)) if r.any() else nonzero.shape[1] for r in nonzero]
  hi = [int(len(r) - np.argmax(r[::-1])) if r.any() else 0 for r in nonzero]

  def span(i, j):
    f0, f1 = min(lo[i:j]), max(hi[i:j])
    return (f0, f1) if f1 > f0 else (0, 0)

  best, split = [0] + [math.inf] * n_mels, [0] * (n_mels + 1)
  for j in range(1, n_mels + 1):
    f0, f1 = math.inf, 0
    for i in range(j - 1, -1, -1):  # the group i:j, its bin range grown one filter at a time
      f0, f1 = min(f0, lo[i]), max(f1, hi[i])
      cost = best[i] + (j - i) * max(0, f1 - f0) + _GROUP_COST
      if cost < best[j]:
        best[j], split[j] = cost, i
  groups, j = [], n_mels
  while j:
    groups.append((split[j], j, *span(split[j], j)))
    j = split[j]
  return tuple(groups[::-1])


@functools.lru_cache(maxsize=32)
def dct_np(n_mfcc: int, n_mels: int, norm: str | None) -> np.ndarray:
  """DCT-II matrix ``(n_mfcc, n_mels)``, scipy's ``dct(type=2, norm=norm)`` as a matrix product."""
  k = np.arange(n_mfcc)[:, None]
  n = np.arange(n_mels)[None, :]
  basis = 2.0 * np.cos(np.pi * k * (2 * n + 1) / (2 * n_mels))
  if norm == "ortho":
    basis *= np.sqrt(1.0 / (2 * n_mels))
    basis[0] /= np.sqrt(2.0)
  return basis


# ---------------------------------------------------------------------------------------------
# Band plans and filterbanks of the registry's other features (spectral contrast, chroma).


def contrast_bands(freq: np.ndarray, sr: float, fmin: float, n_bands: int, quantile: float) -> tuple:
  """librosa's octave bands: ``((bin indices, n_quantile), ...)``, ``n_bands + 1`` entries (static)."""
  freq = np.asarray(freq, dtype=float)
  octa = np.zeros(n_bands + 2)
  octa[1:] = fmin * (2.0 ** np.arange(0, n_bands + 1))
  if np.any(octa[:-1] >= 0.5 * sr):
    raise ValueError(f"fmin · 2^(n_bands - 1) must be below the Nyquist frequency sr / 2 = {0.5 * sr:g} "
                     f"(reduce fmin={fmin:g} or n_bands={n_bands})")
  bands = []
  for k, (f_low, f_high) in enumerate(zip(octa[:-1], octa[1:])):
    current = (freq >= f_low) & (freq <= f_high)
    idx = np.flatnonzero(current)
    if idx.size == 0:
      raise ValueError(f"spectral contrast band {k} ({f_low:g}–{f_high:g} Hz) holds no frequency bin; "
                       "use a larger n_fft or a higher fmin")
    if k > 0:
      current[idx[0] - 1] = True
    if k == n_bands:
      current[idx[-1] + 1:] = True
    sub = np.flatnonzero(current)
    if k < n_bands:
      sub = sub[:-1]
    n_q = int(max(np.rint(quantile * np.sum(current)), 1))
    bands.append((tuple(int(i) for i in sub), n_q))
  return tuple(bands)


def _hz_to_octs(f: np.ndarray, tuning: float, bins_per_octave: int) -> np.ndarray:
  return np.log2(f / (440.0 * 2.0 ** (tuning / bins_per_octave) / 16))


def normalize_np(x: np.ndarray, norm: float | None, axis: int) -> np.ndarray:
  if norm is None:
    return x
  mag = np.abs(x)
  length = mag.max(axis=axis, keepdims=True) if norm == np.inf else np.sum(mag**norm, axis=axis, keepdims=True) ** (
      1.0 / norm)
  return x / np.where(length < np.finfo(x.dtype).tiny, 1.0, length)


@functools.lru_cache(maxsize=32)
def chroma_np(sr: float, n_fft: int, n_chroma: int, tuning: float, ctroct: float, octwidth: float | None,
               norm: float | None, base_c: bool) -> np.ndarray:
  frequencies = np.linspace(0, sr, n_fft, endpoint=False)[1:]
  frqbins = n_chroma * _hz_to_octs(frequencies, tuning, n_chroma)
  # A "bin" for DC, 1.5 octaves below the first bin.
  frqbins = np.concatenate(([frqbins[0] - 1.5 * n_chroma], frqbins))
  binwidthbins = np.concatenate((np.maximum(frqbins[1:] - frqbins[:-1], 1.0), [1]))
  D = np.subtract.outer(frqbins, np.arange(0, n_chroma, dtype="d")).T
  n_chroma2 = np.round(float(n_chroma) / 2)
  D = np.remainder(D + n_chroma2 + 10 * n_chroma, n_chroma) - n_chroma2
  wts = np.exp(-0.5 * (2 * D / np.tile(binwidthbins, (n_chroma, 1))) ** 2)
  wts = normalize_np(wts, norm, axis=0)
  if octwidth is not None:
    wts *= np.tile(np.exp(-0.5 * (((frqbins / n_chroma - ctroct) / octwidth) ** 2)), (n_chroma, 1))
  if base_c:
    wts = np.roll(wts, -3 * (n_chroma // 12), axis=0)
  out = np.ascontiguousarray(wts[:, : int(1 + n_fft / 2)], dtype=np.float32)
  out.setflags(write=False)
  return out


# ---------------------------------------------------------------------------------------------
# Resampling filter (jaxdsp.io.resample applies it; jaxdsp.phase.pitch_shift checks its size).

# Filter design (soxr "HQ"'s specification): pass band up to 0.9136 of the lower Nyquist
# frequency (libsoxr: 1 - 0.05 / TO_3dB(20 bits · 6.02 dB)), stop band from 1.0, 132 dB stop-band
# attenuation. A Kaiser-windowed sinc with its -6 dB cutoff in the middle of the transition band.
_PASS = 1.0 - 0.05 / ((1.6e-6 * 120.41 - 7.5e-4) * 120.41 + 0.646)  # 0.91363...
_STOP = 1.0
_ATTEN_DB = 132.0
_BETA = 0.1102 * (_ATTEN_DB - 8.7)  # Kaiser (1974): 13.588
# Kaiser's length estimate: 200 taps at the lower of the two rates.
_TAPS_LOW = math.ceil((_ATTEN_DB - 8.0) / (2.285 * math.pi * (_STOP - _PASS)))
_RESAMPLE_MAX_COEFFS = 1 << 24  # refuse rate ratios whose polyphase table would exceed 64 MB in float32
_RESAMPLE_BLOCK = 128  # input samples per conv step for small ratios (keeps the conv a wide matmul)


def resample_table_too_large(L: int, M: int) -> bool:
  """Whether the polyphase table of up-by-``L``, down-by-``M`` exceeds ``_RESAMPLE_MAX_COEFFS`` coefficients."""
  return L * (M + 2 * 0.5 * _TAPS_LOW * max(1.0, M / L)) > _RESAMPLE_MAX_COEFFS


@functools.lru_cache(maxsize=8)
def resample_table(L: int, M: int) -> tuple[np.ndarray, int, int, int]:
  """Polyphase table for up-by-L, down-by-M, grouped ``g`` ratios per conv step.

  Output ``j`` sits at input time ``t_j = j·M/L`` and equals ``Σ_i y[i]·h(t_j - i)`` with
  ``h(t) = f_c·sinc(f_c·t)·kaiser(t / T)``. Outputs ``j = q·gL + r`` (``r < gL``) read input
  samples ``q·gM - K + p``, ``0 ≤ p < width``; ``table[p // gM, p % gM, r]`` is their weight.

  Returns:
    ``(table (n_blocks, gM, gL) float64, K, gL, gM)``.
  """
  fc = 0.5 * (_PASS + _STOP) * min(1.0, L / M)  # cutoff in units of the input Nyquist
  half = 0.5 * _TAPS_LOW * max(1.0, M / L)  # window half-width T in input samples
  K = math.ceil(half)
  g = max(1, min(_RESAMPLE_BLOCK // M, 512 // L))
  gL, gM = g * L, g * M
  width = gM + 2 * K
  n_blocks = -(-width // gM)
  table = np.zeros((n_blocks * gM, gL))
  k = np.arange(2 * K + 1)
  for r in range(gL):
    base, frac = divmod(r * M, L)  # t_j = q·gM + base + frac/L
    d = frac / L + K - k  # t_j - (input sample)
    w = np.i0(_BETA * np.sqrt(np.clip(1.0 - (d / half) ** 2, 0.0, None))) / np.i0(_BETA)
    table[base:base + 2 * K + 1, r] = np.where(np.abs(d) <= half, fc * np.sinc(fc * d) * w, 0.0)
  return table.reshape(n_blocks, gM, gL), K, gL, gM
