"""Spectral shape descriptors: centroid, bandwidth, roll-off, flatness.

Layout: each takes a signal ``y`` ``(..., n_samples)`` or a magnitude spectrogram ``S``
``(..., n_freq, n_frames)`` (keyword) and returns ``(..., n_frames)``. The spectrogram comes from the
one STFT in :mod:`jaxdsp.spectral`; arguments and defaults follow librosa 0.11.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from jaxdsp import _checks
from jaxdsp import _ops
from jaxdsp import framing
from jaxdsp import spectral


def _reduce(y, S, sr, n_fft, hop_length, win_length, window, center, pad_mode, freq, reduce, static=()):
  """``reduce(S_tf, freq, *static)`` of the magnitude spectrum ``S_tf`` (frequency last): chunk by
  chunk with the STFT when ``freq`` has one value per bin (the default), else on the whole spectrum
  with the per-frame ``freq`` ``(n_freq, n_frames)``. ``reduce=None`` returns ``(S_tf, freq)``."""
  sr = _checks.sample_rate(sr)
  y, S, n_freq = spectral._spectrum_input(y, S, n_fft)
  dtype = (y if S is None else S).dtype
  if freq is None:  # librosa: the given n_fft for y, 2 (n_freq - 1) for S
    freq = framing.fft_frequencies(sr=sr, n_fft=n_fft if S is None else 2 * (n_freq - 1))
  freq = jnp.asarray(freq, dtype=dtype)
  stft_args = dict(n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window, center=center,
                   pad_mode=pad_mode, power=1.0)
  if freq.ndim == 1:
    if freq.shape[0] != n_freq:
      raise ValueError(f"freq must have {n_freq} entries (one per frequency bin), got {freq.shape[0]}")
    if reduce is not None:
      return spectral._reduce_magnitude(y, S, reduce, (freq,), static, **stft_args)
  else:
    freq = jnp.swapaxes(freq, -1, -2)
  S_tf = spectral._magnitude_tf(y, S, **stft_args)
  return (S_tf, freq) if reduce is None else reduce(S_tf, freq, *static)


# The private helpers below work in the frequency-last layout: S is (..., n_frames, n_freq).


@jax.jit
def _centroid(S: jax.Array, freq: jax.Array) -> jax.Array:
  if freq.ndim == 1:
    # Both sums as one (n_freq, 2) matrix product: on XLA:CPU the element-wise form broadcast freq
    # over the whole spectrum and reduced it twice (a 1,384-frame batch of all features: 11.4 ->
    # 9.6 ms on one core). HIGHEST keeps float32 sums where accelerators would round to TF32/bf16.
    sums = jnp.einsum("...f,fk->...k", S, jnp.stack([jnp.ones_like(freq), freq], axis=-1),
                      precision=jax.lax.Precision.HIGHEST)
    total, weighted = sums[..., 0], sums[..., 1]
  else:
    total, weighted = jnp.sum(S, axis=-1), jnp.sum(freq * S, axis=-1)
  return weighted / jnp.where(total < jnp.finfo(S.dtype).tiny, 1, total)


def _bandwidth_around_centroid(S: jax.Array, freq: jax.Array, p: float, norm: bool) -> jax.Array:
  return _bandwidth(S, freq, _centroid(S, freq), p, norm)


@functools.partial(jax.jit, static_argnames=("p", "norm"))
def _bandwidth(S: jax.Array, freq: jax.Array, centroid: jax.Array, p: float, norm: bool) -> jax.Array:
  deviation = _ops.safe_pow(jnp.abs(freq - centroid[..., None]), p)
  moment = jnp.sum(S * deviation, axis=-1)
  if norm:
    total = jnp.sum(S, axis=-1)
    moment = moment / jnp.where(total < jnp.finfo(S.dtype).tiny, 1, total)
  return _ops.safe_pow(moment, 1.0 / p)


def _rolloff_block(n_freq: int) -> int:
  """Bins per block of ``_rolloff``: a divisor of ``n_freq`` in [16, 64], the nearest to 32 (the
  blocks are then a reshape, not a padded copy: 1025 bins -> 41 blocks of 25), else 32."""
  divisors = [b for b in range(16, 65) if n_freq % b == 0]
  return min(divisors, key=lambda b: (abs(b - 32), b)) if divisors else 32


@functools.partial(jax.jit, static_argnames=("roll_percent",))
def _rolloff(S: jax.Array, freq: jax.Array, roll_percent: float) -> jax.Array:
  """Index of the first bin whose cumulative sum reaches the threshold, found coarse-to-fine.

  A full ``cumsum`` over 1025 bins is slow on XLA:CPU (it dominated ``features()``), so the
  cumulative sum runs over blocks of about 32 bins (``_rolloff_block``), then within the one block
  that crosses the threshold.
  Since ``S >= 0`` the cumulative sum is monotone and the first bin reaching the threshold is the
  number of bins below it.
  """
  n_freq = S.shape[-1]
  B = _rolloff_block(n_freq)
  n_blocks = -(-n_freq // B)
  blocks = jnp.pad(S, [(0, 0)] * (S.ndim - 1) + [(0, n_blocks * B - n_freq)]).reshape(*S.shape[:-1], n_blocks, B)
  block_cum = jnp.cumsum(jnp.sum(blocks, axis=-1), axis=-1)               # (..., n_blocks)
  threshold = roll_percent * block_cum[..., -1:]
  k = jnp.minimum(jnp.sum(block_cum < threshold, axis=-1), n_blocks - 1)   # block holding the crossing
  before = jnp.where(k > 0, jnp.take_along_axis(block_cum, jnp.maximum(k - 1, 0)[..., None], axis=-1)[..., 0], 0)
  inside = jnp.take_along_axis(blocks, k[..., None, None], axis=-2)[..., 0, :]
  cum = before[..., None] + jnp.cumsum(inside, axis=-1)
  j = jnp.minimum(jnp.sum(cum < threshold, axis=-1), B - 1)
  idx = jnp.minimum(k * B + j, n_freq - 1)
  if freq.ndim == 1:
    return jnp.take(freq, idx)
  return jnp.take_along_axis(jnp.broadcast_to(freq, S.shape), idx[..., None], axis=-1)[..., 0]


def _flatness_of(S: jax.Array, freq: jax.Array, amin: float, power: float) -> jax.Array:
  del freq  # flatness does not weigh the bins
  return _flatness(S, amin, power)


@functools.partial(jax.jit, static_argnames=("amin", "power"))
def _flatness(S: jax.Array, amin: float, power: float) -> jax.Array:
  S_thresh = jnp.maximum(amin, _ops.safe_pow(S, power))
  gmean = jnp.exp(jnp.mean(jnp.log(S_thresh), axis=-1))
  return gmean / jnp.mean(S_thresh, axis=-1)


def spectral_centroid(y: ArrayLike | None = None, *, sr: float = 22050, S: ArrayLike | None = None, n_fft: int = 2048,
                      hop_length: int = 512, freq: ArrayLike | None = None, win_length: int | None = None,
                      window: Any = "hann", center: bool = True, pad_mode: str = "constant") -> jax.Array:
  """Spectral centroid, the magnitude-weighted mean frequency of each frame.

  ``centroid[t] = Σ_f freq[f] · S[f, t] / Σ_j S[j, t]`` (0 for silent frames).

  Args:
    y: ``(..., n_samples)`` signal, or ``None`` with ``S``.
    sr: sample rate in Hz.
    S: ``(..., n_freq, n_frames)`` magnitude spectrogram (keyword).
    n_fft, hop_length, win_length, window, center, pad_mode: STFT arguments (see :func:`jaxdsp.stft`).
    freq: ``(n_freq,)`` bin frequencies; default ``fft_frequencies(sr, n_fft)``.

  Returns:
    ``(..., n_frames)`` in Hz.

  Examples:
    >>> import jaxdsp as jd
    >>> t = jnp.arange(8192) / 8000.0
    >>> float(jd.spectral_centroid(jnp.sin(2 * jnp.pi * 1000.0 * t), sr=8000, n_fft=512)[8]) // 10
    100.0

  References:
    A. Klapuri and M. Davy (eds.), "Signal Processing Methods for Music Transcription", 2007.
    Compare ``librosa.feature.spectral_centroid``.
  """
  return _reduce(y, S, sr, n_fft, hop_length, win_length, window, center, pad_mode, freq, _centroid)


def spectral_bandwidth(y: ArrayLike | None = None, *, sr: float = 22050, S: ArrayLike | None = None,
                       n_fft: int = 2048, hop_length: int = 512, win_length: int | None = None,
                       window: Any = "hann", center: bool = True, pad_mode: str = "constant",
                       freq: ArrayLike | None = None, centroid: ArrayLike | None = None, norm: bool = True,
                       p: float = 2.0) -> jax.Array:
  """p-th order spectral bandwidth around the centroid.

  ``bandwidth[t] = (Σ_f S'[f, t] · |freq[f] - centroid[t]|^p)^(1/p)`` with ``S'`` the spectrum
  normalised to sum 1 per frame when ``norm``.

  Precision: for a near-pure tone the far bins carry only FFT round-off, weighted by
  ``|f - centroid|^p``; a float32 FFT (here, torch) leaves a ~3e-9 floor where librosa's float64 FFT
  leaves ~1e-16, so narrow-band frames can differ from librosa by several percent in float32 (12 %
  measured on a pure sweep). Pass float64 audio with x64 enabled for those.

  Args:
    y, sr, S, n_fft, hop_length, win_length, window, center, pad_mode, freq: as
      :func:`spectral_centroid`.
    centroid: ``(..., n_frames)`` precomputed centroid; computed when ``None``.
    norm: normalise each frame's spectrum to sum 1.
    p: order, > 0.

  Returns:
    ``(..., n_frames)`` in Hz.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.spectral_bandwidth(jnp.zeros(4096), sr=8000, n_fft=512).shape
    (33,)

  References:
    Klapuri & Davy (2007). Compare ``librosa.feature.spectral_bandwidth``.
  """
  p = _checks.positive_number(p, "p")
  if centroid is None:
    return _reduce(y, S, sr, n_fft, hop_length, win_length, window, center, pad_mode, freq,
                   _bandwidth_around_centroid, (p, bool(norm)))
  S_tf, freq = _reduce(y, S, sr, n_fft, hop_length, win_length, window, center, pad_mode, freq, None)
  return _bandwidth(S_tf, freq, jnp.asarray(centroid, S_tf.dtype), p, bool(norm))  # a given centroid


def spectral_rolloff(y: ArrayLike | None = None, *, sr: float = 22050, S: ArrayLike | None = None, n_fft: int = 2048,
                     hop_length: int = 512, win_length: int | None = None, window: Any = "hann",
                     center: bool = True, pad_mode: str = "constant", freq: ArrayLike | None = None,
                     roll_percent: float = 0.85) -> jax.Array:
  """Roll-off frequency: the lowest bin frequency below which ``roll_percent`` of the energy lies.

  ``rolloff[t] = min { freq[f] : Σ_{j<=f} S[j, t] >= roll_percent · Σ_j S[j, t] }``.
  Piecewise constant in ``S``: its gradient is zero almost everywhere.

  Args:
    y, sr, S, n_fft, hop_length, win_length, window, center, pad_mode, freq: as
      :func:`spectral_centroid`.
    roll_percent: fraction in (0, 1).

  Returns:
    ``(..., n_frames)`` in Hz.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.spectral_rolloff(jnp.zeros(4096), sr=8000, n_fft=512).shape
    (33,)

  Compare ``librosa.feature.spectral_rolloff``.
  """
  if not isinstance(roll_percent, (int, float)) or not 0.0 < roll_percent < 1.0:
    raise ValueError(f"roll_percent must be a number in (0, 1), got {roll_percent!r}")
  return _reduce(y, S, sr, n_fft, hop_length, win_length, window, center, pad_mode, freq, _rolloff,
                 (float(roll_percent),))


def spectral_flatness(y: ArrayLike | None = None, *, S: ArrayLike | None = None, n_fft: int = 2048,
                      hop_length: int = 512, win_length: int | None = None, window: Any = "hann",
                      center: bool = True, pad_mode: str = "constant", amin: float = 1e-10,
                      power: float = 2.0) -> jax.Array:
  """Spectral flatness (Wiener entropy): geometric over arithmetic mean of the power spectrum.

  ``flatness[t] = exp(mean_f log P[f, t]) / mean_f P[f, t]`` with ``P = max(amin, S^power)``; 1 for
  white noise, near 0 for a tone.

  Args:
    y: ``(..., n_samples)`` signal, or ``None`` with ``S``.
    S: ``(..., n_freq, n_frames)`` magnitude spectrogram (keyword).
    n_fft, hop_length, win_length, window, center, pad_mode: STFT arguments.
    amin: floor, > 0.
    power: exponent applied to the magnitude, > 0.

  Returns:
    ``(..., n_frames)`` in [0, 1].

  Examples:
    >>> import jaxdsp as jd
    >>> float(jd.spectral_flatness(jnp.zeros(4096), n_fft=512)[0])
    1.0

  References:
    S. Dubnov, "Generalization of spectral flatness measure for non-Gaussian linear processes",
    IEEE Signal Processing Letters, 2004. Compare ``librosa.feature.spectral_flatness``.
  """
  amin = _checks.positive_number(amin, "amin")
  power = _checks.positive_number(power, "power")
  return _reduce(y, S, 22050, n_fft, hop_length, win_length, window, center, pad_mode, None, _flatness_of,
                 (amin, power))
