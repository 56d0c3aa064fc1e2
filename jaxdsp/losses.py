"""Audio losses: multi-resolution STFT (auraloss's definitions and defaults), mel-STFT, SI-SDR, SNR,
ESR and a distance on any jaxdsp feature.

Each loss takes ``(predictions, targets)`` of the same shape ``(..., n_samples)`` (time last, any
leading batch axes; both positional, like the ``jaxdsp.nn`` losses, so ``jaxdsp.nn.fit(loss=...)``
takes them directly) and a keyword ``reduction``: ``"mean"`` (default), ``"sum"`` or ``"none"``
(one value per example, shape ``(...)``, each the example's loss computed alone). All are pure
functions: ``jax.jit``, ``jax.vmap`` and ``jax.grad`` work on them.

``"mean"`` and ``"sum"`` reproduce ``auraloss`` (0.4) with the leading axes flattened into its
batch: in particular its spectral convergence ``‖|Y| - |X|‖_F / ‖|Y|‖_F`` is one ratio over the
whole batch, so for a batch ``"mean"`` is not exactly the mean of ``"none"`` (they agree for one
example). ``si_sdr`` and ``snr`` are the metrics in dB (higher is better); auraloss's
``SISDRLoss``/``SNRLoss`` return their negatives, so train on ``lambda p, t: -jd.si_sdr(p, t)``.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from jaxdsp import _checks

__all__ = ["esr", "feature_loss", "mel_stft_loss", "multi_resolution_stft_loss", "si_sdr", "snr", "stft_loss"]

_REDUCTIONS = ("mean", "sum", "none")
_DISTANCES = ("l1", "l2")
_WINDOWS = ("hann", "hamming", "blackman", "bartlett", "boxcar")


# ---------------------------------------------------------------------------------------------
# Shared checks.


def _pair(predictions: ArrayLike, targets: ArrayLike) -> tuple[jax.Array, jax.Array]:
  p = _checks.as_signal(predictions, "predictions")
  t = _checks.as_signal(targets, "targets")
  if p.shape != t.shape:
    raise ValueError(f"targets must have the shape of predictions {p.shape}, got {t.shape}")
  dtype = jnp.result_type(p.dtype, t.dtype)
  return p.astype(dtype), t.astype(dtype)


def _reduce(x: jax.Array, reduction: str) -> jax.Array:
  if reduction == "mean":
    return jnp.mean(x)
  if reduction == "sum":
    return jnp.sum(x)
  return x


def _eps(eps: Any) -> float:
  return _checks.positive_number(eps, "eps", allow_zero=True)


def _weight(value: Any, name: str) -> float:
  return _checks.positive_number(value, name, allow_zero=True)


# ---------------------------------------------------------------------------------------------
# STFT losses.


@functools.lru_cache(maxsize=64)
def _window(window: str, win_length: int) -> np.ndarray:
  """Periodic window of ``win_length`` samples (torch's ``*_window(win_length)``)."""
  n = np.arange(win_length)
  if window == "hann":
    return 0.5 - 0.5 * np.cos(2 * np.pi * n / win_length)
  if window == "hamming":
    return 0.54 - 0.46 * np.cos(2 * np.pi * n / win_length)
  if window == "blackman":
    return 0.42 - 0.5 * np.cos(2 * np.pi * n / win_length) + 0.08 * np.cos(4 * np.pi * n / win_length)
  if window == "bartlett":
    return 1 - np.abs(2 * n / win_length - 1)
  return np.ones(win_length)


def _frames(y: jax.Array, start: int, length: int, hop: int, n_frames: int) -> jax.Array:
  """``y[:, start + t·hop : start + t·hop + length]`` for ``t < n_frames`` as ``(b, n_frames, length)``.

  Built from ``ceil(length / hop)`` shifted views of the signal cut in hop-sized blocks (slices
  and one concatenation, whose gradient is a few pads and adds — no gather/scatter).
  """
  q = -(-length // hop)
  n_blocks = n_frames + q - 1
  y = y[:, start:start + n_blocks * hop]
  y = jnp.pad(y, [(0, 0), (0, n_blocks * hop - y.shape[-1])])
  blocks = y.reshape(y.shape[0], n_blocks, hop)
  return jnp.concatenate([blocks[:, j:j + n_frames] for j in range(q)], axis=-1)[..., :length]


def _magnitude(y: jax.Array, fft_size: int, hop_size: int, win_length: int, window: str, eps: float) -> jax.Array:
  """``sqrt(max(|STFT|², eps))`` of ``(b, n)`` as ``(b, n_frames, n_freq)`` with ``torch.stft``'s framing.

  ``center=True`` with reflect padding of ``fft_size // 2`` and the window zero-padded to
  ``fft_size`` in the middle (torch's defaults). Only the window's non-zero span is framed: a frame
  starting ``(fft_size - win_length) // 2`` samples later has the same magnitude spectrum.
  """
  pad = fft_size // 2
  y = jnp.pad(y, [(0, 0), (pad, pad)], mode="reflect")
  n_frames = 1 + (y.shape[-1] - fft_size) // hop_size
  frames = _frames(y, (fft_size - win_length) // 2, win_length, hop_size, n_frames)
  spec = jnp.fft.rfft(frames * jnp.asarray(_window(window, win_length), y.dtype), n=fft_size)
  power = jnp.square(spec.real) + jnp.square(spec.imag)
  return jnp.sqrt(jnp.maximum(power, eps))


def _stft_terms(x: jax.Array, y: jax.Array, *, fft_size: int, hop_size: int, win_length: int, window: str,
                eps: float, w_sc: float, w_log_mag: float, w_lin_mag: float, distance: str,
                fb: np.ndarray | None, reduction: str) -> jax.Array:
  """One resolution's loss for flattened ``(b, n)`` inputs, reduced as ``reduction``."""
  xm = _magnitude(x, fft_size, hop_size, win_length, window, eps)
  ym = _magnitude(y, fft_size, hop_size, win_length, window, eps)
  if fb is not None:
    fbt = jnp.asarray(fb.T, xm.dtype)
    xm = jnp.matmul(xm, fbt, precision=jax.lax.Precision.HIGHEST)
    ym = jnp.matmul(ym, fbt, precision=jax.lax.Precision.HIGHEST)
  count = xm.shape[-1] * xm.shape[-2]
  dist = jnp.abs if distance == "l1" else jnp.square
  per = {}
  if w_sc:
    per["sc"] = (jnp.sum(jnp.square(ym - xm), axis=(-2, -1)), jnp.sum(jnp.square(ym), axis=(-2, -1)))
  if w_log_mag:
    per["log"] = jnp.sum(dist(jnp.log(xm) - jnp.log(ym)), axis=(-2, -1))
  if w_lin_mag:
    per["lin"] = jnp.sum(dist(xm - ym), axis=(-2, -1))
  total = jnp.zeros(x.shape[:1] if reduction == "none" else (), x.dtype)
  if reduction == "none":
    if w_sc:
      total += w_sc * jnp.sqrt(per["sc"][0]) / jnp.sqrt(per["sc"][1])
    for key, w in (("log", w_log_mag), ("lin", w_lin_mag)):
      if w:
        total += w * per[key] / count
    return total
  if w_sc:
    total += w_sc * jnp.sqrt(jnp.sum(per["sc"][0])) / jnp.sqrt(jnp.sum(per["sc"][1]))
  denom = count * x.shape[0] if reduction == "mean" else 1
  for key, w in (("log", w_log_mag), ("lin", w_lin_mag)):
    if w:
      total += w * jnp.sum(per[key]) / denom
  return total


def _resolutions(fft_sizes: Any, hop_sizes: Any, win_lengths: Any) -> tuple[tuple[int, int, int], ...]:
  out = []
  for name, seq in (("fft_sizes", fft_sizes), ("hop_sizes", hop_sizes), ("win_lengths", win_lengths)):
    if isinstance(seq, (str, bytes)) or not isinstance(seq, Sequence) or not seq:
      raise ValueError(f"{name} must be a non-empty sequence of positive ints, got {seq!r}")
  if not len(fft_sizes) == len(hop_sizes) == len(win_lengths):
    raise ValueError(f"fft_sizes, hop_sizes and win_lengths must have the same length, got {len(fft_sizes)}, "
                     f"{len(hop_sizes)}, {len(win_lengths)}")
  for f, h, w in zip(fft_sizes, hop_sizes, win_lengths):
    f = _checks.positive_int(f, "fft_sizes[i]")
    h = _checks.positive_int(h, "hop_sizes[i]")
    w = _checks.positive_int(w, "win_lengths[i]")
    if w > f:
      raise ValueError(f"win_lengths[i] must be <= fft_sizes[i], got win_length {w} > fft_size {f}")
    out.append((f, h, w))
  return tuple(out)


def _spectral_loss(predictions: ArrayLike, targets: ArrayLike, resolutions: tuple[tuple[int, int, int], ...], *,
                   window: str, w_sc: Any, w_log_mag: Any, w_lin_mag: Any, eps: Any, mag_distance: str,
                   scale: str | None, sr: Any, n_bins: Any, reduction: str) -> jax.Array:
  x, y = _pair(predictions, targets)
  _checks.choice(window, "window", _WINDOWS)
  w_sc, w_log_mag, w_lin_mag = (_weight(v, n) for v, n in ((w_sc, "w_sc"), (w_log_mag, "w_log_mag"),
                                                           (w_lin_mag, "w_lin_mag")))
  eps = _eps(eps)
  if w_log_mag and eps == 0:
    raise ValueError("eps must be > 0 when w_log_mag > 0 (log of a zero magnitude)")
  distance = _checks.choice(str(mag_distance).lower(), "mag_distance", _DISTANCES)
  _checks.choice(scale, "scale", (None, "mel"))
  _checks.choice(reduction, "reduction", _REDUCTIONS)
  if scale == "mel":
    sr = _checks.sample_rate(sr)
    n_bins = _checks.positive_int(n_bins, "n_bins")
  for fft_size, _, _ in resolutions:
    if x.shape[-1] <= fft_size // 2:
      raise ValueError(f"the signals must be longer than fft_size // 2 = {fft_size // 2} samples (reflect "
                       f"padding), got {x.shape[-1]}")
    if scale == "mel" and n_bins > fft_size:
      raise ValueError(f"n_bins must be <= fft_size {fft_size}, got {n_bins}")
  return _spectral_core(x, y, resolutions, window=window, w_sc=w_sc, w_log_mag=w_log_mag, w_lin_mag=w_lin_mag,
                        eps=eps, distance=distance, scale=scale, sr=sr, n_bins=n_bins, reduction=reduction)


@functools.partial(jax.jit, static_argnums=(2,), static_argnames=("window", "w_sc", "w_log_mag", "w_lin_mag", "eps",
                                                                   "distance", "scale", "sr", "n_bins", "reduction"))
def _spectral_core(x: jax.Array, y: jax.Array, resolutions: tuple[tuple[int, int, int], ...], *, window: str,
                   w_sc: float, w_log_mag: float, w_lin_mag: float, eps: float, distance: str, scale: str | None,
                   sr: float | None, n_bins: int | None, reduction: str) -> jax.Array:
  lead = x.shape[:-1]
  x, y = x.reshape(-1, x.shape[-1]), y.reshape(-1, y.shape[-1])
  total = 0.0
  for fft_size, hop_size, win_length in resolutions:
    fb = None
    if scale == "mel":
      from jaxdsp._core import mel_matrix  # pylint: disable=import-outside-toplevel
      fb = np.asarray(mel_matrix(sr=sr, n_fft=fft_size, n_mels=n_bins, fmin=0.0, fmax=None, htk=False,
                                 norm="slaney"))
    total = total + _stft_terms(x, y, fft_size=fft_size, hop_size=hop_size, win_length=win_length, window=window,
                                eps=eps, w_sc=w_sc, w_log_mag=w_log_mag, w_lin_mag=w_lin_mag, distance=distance,
                                fb=fb, reduction=reduction)
  total = total / len(resolutions)
  return total.reshape(lead) if reduction == "none" else total


def stft_loss(predictions: ArrayLike, targets: ArrayLike, *, fft_size: int = 1024, hop_size: int = 256,
              win_length: int = 1024, window: str = "hann", w_sc: float = 1.0, w_log_mag: float = 1.0,
              w_lin_mag: float = 0.0, eps: float = 1e-8, mag_distance: str = "l1", scale: str | None = None,
              sr: float | None = None, n_bins: int | None = None, reduction: str = "mean") -> jax.Array:
  """STFT loss: spectral convergence plus log-magnitude distance (auraloss's ``STFTLoss``).

  With ``X = sqrt(max(|STFT(p)|², eps))``, ``Y`` the same for the targets (``torch.stft`` framing:
  centred, reflect padding, periodic window of ``win_length`` zero-padded to ``fft_size``)::

      loss = w_sc · ‖Y - X‖_F / ‖Y‖_F + w_log_mag · mean|log X - log Y| + w_lin_mag · mean|X - Y|

  (``mag_distance="l2"`` squares the differences instead). With ``scale="mel"`` the magnitudes
  are first projected on ``n_bins`` Slaney mel filters (``librosa.filters.mel(sr=sr,
  n_fft=fft_size, n_mels=n_bins)``, as auraloss).

  Args:
    predictions: ``(..., n_samples)``, ``n_samples > fft_size // 2``.
    targets: same shape.
    fft_size: FFT size (static).
    hop_size: hop between frames.
    win_length: window length ``<= fft_size``.
    window: ``"hann"`` (default), ``"hamming"``, ``"blackman"``, ``"bartlett"`` or ``"boxcar"``
      (periodic, as torch's ``*_window`` functions).
    w_sc: weight of the spectral convergence term.
    w_log_mag: weight of the log-magnitude term.
    w_lin_mag: weight of the linear-magnitude term.
    eps: floor of the squared magnitude (keeps the log and its gradient finite).
    mag_distance: ``"l1"`` or ``"l2"`` for the magnitude terms.
    scale: ``None`` or ``"mel"``.
    sr: sample rate, for ``scale="mel"``.
    n_bins: number of mel bands, for ``scale="mel"``.
    reduction: ``"mean"`` (auraloss's value), ``"sum"`` (auraloss's ``reduction="sum"``: the
      magnitude distances summed) or ``"none"`` (per example, shape ``(...)``).

  Returns:
    A scalar, or ``(...)`` for ``"none"``.

  Raises:
    ValueError: shapes differ, signal not longer than ``fft_size // 2``, bad sizes, weights,
      window, distance, scale or reduction.
    TypeError: non-floating input.

  Examples:
    >>> import jaxdsp as jd
    >>> t = jnp.arange(4096) / 16000
    >>> round(float(jd.stft_loss(jnp.sin(2 * jnp.pi * 440 * t), jnp.sin(2 * jnp.pi * 440 * t))), 6)
    0.0

  References:
    R. Yamamoto, E. Song, J.-M. Kim, "Parallel WaveGAN", ICASSP 2020; S. Arik et al., "Fast
    spectrogram inversion using multi-head convolutional neural networks", 2018.
    Compare ``auraloss.freq.STFTLoss``.
  """
  res = _resolutions((fft_size,), (hop_size,), (win_length,))
  return _spectral_loss(predictions, targets, res, window=window, w_sc=w_sc, w_log_mag=w_log_mag,
                        w_lin_mag=w_lin_mag, eps=eps, mag_distance=mag_distance, scale=scale, sr=sr, n_bins=n_bins,
                        reduction=reduction)


def multi_resolution_stft_loss(predictions: ArrayLike, targets: ArrayLike, *,
                               fft_sizes: Sequence[int] = (1024, 2048, 512),
                               hop_sizes: Sequence[int] = (120, 240, 50),
                               win_lengths: Sequence[int] = (600, 1200, 240), window: str = "hann",
                               w_sc: float = 1.0, w_log_mag: float = 1.0, w_lin_mag: float = 0.0,
                               eps: float = 1e-8, mag_distance: str = "l1", scale: str | None = None,
                               sr: float | None = None, n_bins: int | None = None,
                               reduction: str = "mean") -> jax.Array:
  """Multi-resolution STFT loss: the mean of ``stft_loss`` over several resolutions (auraloss's defaults).

  ``loss = (1/R) Σ_r stft_loss(p, t, fft_size=fft_sizes[r], hop_size=hop_sizes[r],
  win_length=win_lengths[r], ...)``; every other argument as ``stft_loss``. Defaults are
  ``auraloss.freq.MultiResolutionSTFTLoss``'s: FFT sizes (1024, 2048, 512), hops (120, 240, 50),
  windows (600, 1200, 240), Hann, ``w_sc = w_log_mag = 1``, ``eps = 1e-8``. Usable directly as
  ``jaxdsp.nn.fit(..., loss=jd.multi_resolution_stft_loss)``.

  Args:
    predictions: ``(..., n_samples)``, ``n_samples > max(fft_sizes) // 2``.
    targets: same shape.
    fft_sizes, hop_sizes, win_lengths: one entry per resolution (same lengths).
    window, w_sc, w_log_mag, w_lin_mag, eps, mag_distance, scale, sr, n_bins, reduction: as
      ``stft_loss``.

  Returns:
    A scalar, or ``(...)`` for ``"none"``.

  Raises:
    ValueError: as ``stft_loss``; resolution lists of different lengths.
    TypeError: non-floating input.

  Examples:
    >>> import jax
    >>> import jaxdsp as jd
    >>> p, t = jax.random.normal(jax.random.key(0), (2, 2, 4096))
    >>> round(float(jd.multi_resolution_stft_loss(p, t)), 2)
    1.4

  References:
    R. Yamamoto, E. Song, J.-M. Kim, "Parallel WaveGAN", ICASSP 2020; J. Engel et al., "DDSP",
    ICLR 2020 (multi-scale spectral loss). Compare ``auraloss.freq.MultiResolutionSTFTLoss``.
  """
  res = _resolutions(fft_sizes, hop_sizes, win_lengths)
  return _spectral_loss(predictions, targets, res, window=window, w_sc=w_sc, w_log_mag=w_log_mag,
                        w_lin_mag=w_lin_mag, eps=eps, mag_distance=mag_distance, scale=scale, sr=sr, n_bins=n_bins,
                        reduction=reduction)


def mel_stft_loss(predictions: ArrayLike, targets: ArrayLike, *, sr: float, fft_size: int = 1024,
                  hop_size: int = 256, win_length: int = 1024, window: str = "hann", n_mels: int = 128,
                  w_sc: float = 1.0, w_log_mag: float = 1.0, w_lin_mag: float = 0.0, eps: float = 1e-8,
                  mag_distance: str = "l1", reduction: str = "mean") -> jax.Array:
  """Mel-scale STFT loss (auraloss's ``MelSTFTLoss``): ``stft_loss`` on ``n_mels`` Slaney mel bands.

  The clamped magnitudes ``X``, ``Y`` of ``stft_loss`` are projected on the filterbank of
  ``librosa.filters.mel(sr=sr, n_fft=fft_size, n_mels=n_mels)`` before the spectral-convergence
  and log-magnitude terms.

  Args:
    predictions: ``(..., n_samples)``.
    targets: same shape.
    sr: sample rate in Hz.
    fft_size, hop_size, win_length, window: STFT settings (auraloss's defaults).
    n_mels: number of mel bands (``<= fft_size``).
    w_sc, w_log_mag, w_lin_mag, eps, mag_distance, reduction: as ``stft_loss``.

  Returns:
    A scalar, or ``(...)`` for ``"none"``.

  Raises:
    ValueError: as ``stft_loss``; bad ``sr`` or ``n_mels``.
    TypeError: non-floating input.

  Examples:
    >>> import jax
    >>> import jaxdsp as jd
    >>> p, t = jax.random.normal(jax.random.key(0), (2, 4096))
    >>> float(jd.mel_stft_loss(p, t, sr=16000, n_mels=64)) > 0
    True

  Compare ``auraloss.freq.MelSTFTLoss``.
  """
  res = _resolutions((fft_size,), (hop_size,), (win_length,))
  return _spectral_loss(predictions, targets, res, window=window, w_sc=w_sc, w_log_mag=w_log_mag,
                        w_lin_mag=w_lin_mag, eps=eps, mag_distance=mag_distance, scale="mel", sr=sr, n_bins=n_mels,
                        reduction=reduction)


# ---------------------------------------------------------------------------------------------
# Waveform losses and metrics.


def _zero_mean(p: jax.Array, t: jax.Array, zero_mean: bool) -> tuple[jax.Array, jax.Array]:
  if not isinstance(zero_mean, bool):
    raise TypeError(f"zero_mean must be a bool, got {zero_mean!r}")
  if zero_mean:
    p = p - jnp.mean(p, axis=-1, keepdims=True)
    t = t - jnp.mean(t, axis=-1, keepdims=True)
  return p, t


def si_sdr(predictions: ArrayLike, targets: ArrayLike, *, zero_mean: bool = True, eps: float = 1e-8,
           reduction: str = "mean") -> jax.Array:
  """Scale-invariant signal-to-distortion ratio in dB (higher is better).

  ``α = <p, t> / (‖t‖² + eps)``, ``s = α·t``, ``SI-SDR = 10·log10(‖s‖² / (‖p - s‖² + eps) + eps)``
  per example (after removing each signal's mean when ``zero_mean``).

  Args:
    predictions: ``(..., n_samples)`` estimate.
    targets: same shape, reference.
    zero_mean: remove the DC offset of both first.
    eps: stabiliser (auraloss's default).
    reduction: ``"mean"`` over examples, ``"sum"`` or ``"none"`` (shape ``(...)``).

  Returns:
    dB, a scalar or ``(...)``. ``auraloss.time.SISDRLoss`` returns the negative; as a loss use
    ``-si_sdr``.

  Raises:
    ValueError: shapes differ, bad ``eps`` or ``reduction``.
    TypeError: non-floating input, non-bool ``zero_mean``.

  Examples:
    >>> import jaxdsp as jd
    >>> t = jnp.sin(jnp.arange(1000) / 10.0)
    >>> round(float(jd.si_sdr(0.5 * t + 0.01 * jnp.cos(jnp.arange(1000) / 3.0), t)), 1)
    34.0

  References:
    J. Le Roux, S. Wisdom, H. Erdogan, J. R. Hershey, "SDR — half-baked or well done?", ICASSP
    2019. Compare ``auraloss.time.SISDRLoss`` (negated).
  """
  p, t = _pair(predictions, targets)
  eps = _eps(eps)
  _checks.choice(reduction, "reduction", _REDUCTIONS)
  p, t = _zero_mean(p, t, zero_mean)
  alpha = jnp.sum(p * t, axis=-1) / (jnp.sum(t * t, axis=-1) + eps)
  s = alpha[..., None] * t
  value = 10 * jnp.log10(jnp.sum(s * s, axis=-1) / (jnp.sum(jnp.square(p - s), axis=-1) + eps) + eps)
  return _reduce(value, reduction)


def snr(predictions: ArrayLike, targets: ArrayLike, *, zero_mean: bool = True, eps: float = 1e-8,
        reduction: str = "mean") -> jax.Array:
  """Signal-to-noise ratio in dB (higher is better): ``10·log10(‖t‖² / (‖t - p‖² + eps) + eps)``.

  Per example, after removing each signal's mean when ``zero_mean``.

  Args:
    predictions: ``(..., n_samples)`` estimate.
    targets: same shape, reference.
    zero_mean: remove the DC offset of both first.
    eps: stabiliser.
    reduction: ``"mean"`` over examples, ``"sum"`` or ``"none"``.

  Returns:
    dB, a scalar or ``(...)``. ``auraloss.time.SNRLoss`` returns the negative.

  Raises:
    ValueError: shapes differ, bad ``eps`` or ``reduction``.
    TypeError: non-floating input, non-bool ``zero_mean``.

  Examples:
    >>> import jaxdsp as jd
    >>> round(float(jd.snr(jnp.array([1.0, -1.0]) * 1.1, jnp.array([1.0, -1.0]))), 2)
    20.0

  Compare ``auraloss.time.SNRLoss`` (negated).
  """
  p, t = _pair(predictions, targets)
  eps = _eps(eps)
  _checks.choice(reduction, "reduction", _REDUCTIONS)
  p, t = _zero_mean(p, t, zero_mean)
  value = 10 * jnp.log10(jnp.sum(t * t, axis=-1) / (jnp.sum(jnp.square(p - t), axis=-1) + eps) + eps)
  return _reduce(value, reduction)


def esr(predictions: ArrayLike, targets: ArrayLike, *, eps: float = 1e-8, reduction: str = "mean") -> jax.Array:
  """Error-to-signal ratio: ``‖t - p‖² / (‖t‖² + eps)`` per example (a loss: lower is better).

  Args:
    predictions: ``(..., n_samples)``.
    targets: same shape.
    eps: stabiliser.
    reduction: ``"mean"`` over examples, ``"sum"`` or ``"none"``.

  Returns:
    A scalar or ``(...)``.

  Raises:
    ValueError: shapes differ, bad ``eps`` or ``reduction``.
    TypeError: non-floating input.

  Examples:
    >>> import jaxdsp as jd
    >>> round(float(jd.esr(jnp.array([0.9, -0.9]), jnp.array([1.0, -1.0]))), 4)
    0.01

  References:
    A. Wright, V. Välimäki, "Perceptual loss function for neural modelling of audio systems",
    ICASSP 2020. Compare ``auraloss.time.ESRLoss``.
  """
  p, t = _pair(predictions, targets)
  eps = _eps(eps)
  _checks.choice(reduction, "reduction", _REDUCTIONS)
  value = jnp.sum(jnp.square(t - p), axis=-1) / (jnp.sum(t * t, axis=-1) + eps)
  return _reduce(value, reduction)


# ---------------------------------------------------------------------------------------------
# Feature distances.


def feature_loss(name: str | Callable[..., jax.Array], *, distance: str = "l1", reduction: str = "mean",
                 **options: Any) -> Callable[[jax.Array, jax.Array], jax.Array]:
  """Builds a loss that compares a jaxdsp feature of the predictions and of the targets.

  ``loss(p, t) = reduce(d(F(p), F(t)))`` with ``d`` the element-wise ``|a - b|`` (``"l1"``) or
  ``(a - b)²`` (``"l2"``; for complex features such as ``"stft"`` the modulus of the difference),
  reduced over every element (``"mean"``, ``"sum"``) or over everything but the leading axes of
  the signal (``"none"``: one value per example, the mean). ``F`` is ``jd.features(y,
  names=(name,), **options)[name]`` for a name of ``jd.FEATURE_NAMES`` (``"mfcc"``,
  ``"melspectrogram"``, ``"spectral_centroid"``, ...), or ``name(y, **options)`` for a callable.

  Args:
    name: a feature name in ``jd.FEATURE_NAMES`` or a function ``(y, **options) -> array``.
    distance: ``"l1"`` or ``"l2"``.
    reduction: ``"mean"``, ``"sum"`` or ``"none"``.
    **options: keyword arguments of the feature (``sr``, ``n_fft``, ``n_mfcc``, ...).

  Returns:
    A function ``loss(predictions, targets)`` (jit-, vmap- and grad-able) for ``jaxdsp.nn.fit``.
    Its gradient is the feature's (zero almost everywhere for piecewise-constant features such as
    the zero-crossing rate).

  Raises:
    ValueError: an unknown name, distance or reduction (when building); the feature's own errors
      (when called).

  Examples:
    >>> import jax
    >>> import jaxdsp as jd
    >>> mfcc_l1 = jd.feature_loss("mfcc", sr=16000, n_mfcc=13)
    >>> p, t = jax.random.normal(jax.random.key(0), (2, 4096))
    >>> float(mfcc_l1(p, t)) > 0, float(mfcc_l1(t, t))
    (True, 0.0)
  """
  from jaxdsp.fused import FEATURE_NAMES, features  # pylint: disable=import-outside-toplevel
  if callable(name):
    fn = lambda y: name(y, **options)
  else:
    _checks.choice(name, "name", FEATURE_NAMES)
    fn = lambda y: features(y, names=(name,), **options)[name]
  _checks.choice(distance, "distance", _DISTANCES)
  _checks.choice(reduction, "reduction", _REDUCTIONS)

  def loss(predictions: ArrayLike, targets: ArrayLike) -> jax.Array:
    p, t = _pair(predictions, targets)
    diff = fn(p) - fn(t)
    d = jnp.abs(diff) if distance == "l1" else jnp.square(jnp.abs(diff))
    if reduction == "none":
      lead = p.ndim - 1
      return jnp.mean(d.reshape(d.shape[:lead] + (-1,)), axis=-1)
    return _reduce(d, reduction)

  loss.__name__ = f"feature_loss_{getattr(name, '__name__', name)}"
  return loss
