"""Audio losses: multi-resolution STFT (auraloss's definitions, defaults and options), mel-STFT, SI-SDR,
SNR, ESR and a distance on any jaxdsp feature.

The STFT losses take every option of ``auraloss.freq.STFTLoss`` by its name: ``w_sc``,
``w_log_mag``, ``w_lin_mag``, ``w_phs`` (phase), ``sample_rate``, ``scale`` (``"mel"``,
``"chroma"``), ``n_bins``, ``perceptual_weighting`` (its A-weighting FIR), ``scale_invariance``,
``eps``, ``output`` (``"loss"``/``"full"``), ``reduction`` and ``mag_distance``.

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
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from jaxdsp import _checks

__all__ = ["esr", "feature_loss", "mel_stft_loss", "multi_resolution_stft_loss", "si_sdr", "snr", "stft_loss"]

_REDUCTIONS = ("mean", "sum", "none")
_DISTANCES = ("l1", "l2")
_WINDOWS = ("hann", "hamming", "blackman", "bartlett", "kaiser", "boxcar")


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
  if window == "kaiser":  # torch.kaiser_window(win_length): periodic, beta = 12
    return np.kaiser(win_length + 1, 12.0)[:-1]
  return np.ones(win_length)


@functools.lru_cache(maxsize=16)
def _a_weighting_fir(sample_rate: float, n_taps: int = 101) -> np.ndarray:
  """auraloss's A-weighting pre-emphasis FIR (``auraloss.perceptual.FIRFilter(filter_type="aw")``).

  The analog A-weighting filter of IEC/CD 1672 (poles at 20.6, 107.7, 737.9 and 12194 Hz, +1.9997 dB
  at 1 kHz), mapped to ``sample_rate`` by the bilinear transform; its magnitude response on 512
  frequencies ``[0, sr/2)`` is fitted by a least-squares linear-phase FIR of ``n_taps`` taps
  (``scipy.signal.firls``; here in NumPy), as float32. Symmetric, so correlation = convolution.
  """
  fs = float(sample_rate)
  f1, f2, f3, f4, a1000 = 20.598997, 107.65265, 737.86223, 12194.217, 1.9997
  num = np.array([(2 * np.pi * f4) ** 2 * (10 ** (a1000 / 20)), 0, 0, 0, 0])
  den = np.polymul([1, 4 * np.pi * f4, (2 * np.pi * f4) ** 2], [1, 4 * np.pi * f1, (2 * np.pi * f1) ** 2])
  den = np.polymul(np.polymul(den, [1, 2 * np.pi * f3]), [1, 2 * np.pi * f2])
  # Bilinear transform s = 2·fs·(z - 1)/(z + 1) (scipy.signal.bilinear's form, split factor).
  fac = np.sqrt(2 * fs)
  zp1 = np.polynomial.Polynomial((1, 1)) / fac
  zm1 = np.polynomial.Polynomial((-1, 1)) * fac
  order = max(len(num), len(den)) - 1
  b = sum(c * zp1 ** (order - q) * zm1 ** q for q, c in enumerate(np.trim_zeros(num, "f")[::-1])).coef[::-1]
  a = sum(c * zp1 ** (order - q) * zm1 ** q for q, c in enumerate(den[::-1])).coef[::-1]
  b, a = b / a[0], a / a[0]
  # Its response on 512 frequencies (scipy.signal.freqz(b, a, worN=512, fs=fs)).
  w = np.linspace(0, fs / 2, 512, endpoint=False)
  zinv = np.exp(-2j * np.pi * w / fs)
  h = np.abs(np.polyval(b[::-1], zinv) / np.polyval(a[::-1], zinv))
  # Least-squares FIR on the 256 band pairs (w[2i], w[2i+1]) (scipy.signal.firls).
  bands = (w / (fs / 2)).reshape(-1, 2)
  desired = h.reshape(-1, 2)
  m_half = (n_taps - 1) // 2
  n = np.arange(n_taps)[:, None, None]
  q = np.diff(np.sinc(bands * n) * bands, axis=2)[:, :, 0].sum(axis=1)
  idx = np.arange(m_half + 1)
  big_q = q[np.abs(idx[:, None] - idx[None, :])] + q[idx[:, None] + idx[None, :]]
  n = n[:m_half + 1]
  slope = np.diff(desired, axis=1) / np.diff(bands, axis=1)
  offset = desired[:, [0]] - bands[:, [0]] * slope
  rhs = bands * (slope * bands + offset) * np.sinc(bands * n)
  rhs[0] -= slope * bands * bands / 2.0
  rhs[1:] += slope * np.cos(n[1:] * np.pi * bands) / (np.pi * n[1:]) ** 2
  rhs = np.diff(rhs, axis=2)[:, :, 0].sum(axis=1)
  coef = np.linalg.solve(big_q, rhs)
  return np.hstack((coef[:0:-1], 2 * coef[0], coef[1:])).astype(np.float32)


def _fir_same(y: jax.Array, taps: np.ndarray) -> jax.Array:
  """``torch.nn.functional.conv1d(y, taps, padding=len(taps) // 2)`` of ``(b, n)``: same length."""
  kernel = jnp.asarray(taps, y.dtype)[None, None, :]
  out = jax.lax.conv_general_dilated(y[:, None, :], kernel, (1,), [(len(taps) // 2, len(taps) // 2)],
                                     precision=jax.lax.Precision.HIGHEST)
  return out[:, 0, :]


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


def _spectrum(y: jax.Array, fft_size: int, hop_size: int, win_length: int, window: str,
              phase: bool = True) -> jax.Array:
  """``torch.stft`` of ``(b, n)`` as ``(b, n_frames, n_freq)`` (complex).

  ``center=True`` with reflect padding of ``fft_size // 2`` and the window zero-padded to
  ``fft_size`` in the middle (torch's defaults). Only the window's non-zero span is framed; the
  phase is referred back to the padded frame's start (a factor ``exp(-2πi·k·offset/fft_size)``,
  skipped when only the magnitude is needed: ``phase=False``).
  """
  pad = fft_size // 2
  y = jnp.pad(y, [(0, 0), (pad, pad)], mode="reflect")
  n_frames = 1 + (y.shape[-1] - fft_size) // hop_size
  offset = (fft_size - win_length) // 2
  frames = _frames(y, offset, win_length, hop_size, n_frames)
  spec = jnp.fft.rfft(frames * jnp.asarray(_window(window, win_length), y.dtype), n=fft_size)
  if offset and phase:
    k = np.arange(fft_size // 2 + 1)
    spec = spec * jnp.asarray(np.exp(-2j * np.pi * k * offset / fft_size), spec.dtype)
  return spec


def _angle(spec: jax.Array) -> jax.Array:
  """``angle(spec)`` in ``(-π, π]`` (0 at 0, as ``torch.angle``), with a finite (zero) gradient at 0.

  A bin of negative real part whose imaginary part is within ``1e-5·max|spec|`` of its frame (the
  last axis) gets exactly π: the first frame of a centred STFT (reflect padding makes it symmetric)
  is real, and rounding noise would otherwise throw its negative bins to π or -π at random
  (``torch.stft`` does, so auraloss's phase term is not reproducible there).
  """
  nonzero = (spec.real != 0) | (spec.imag != 0)
  angle = jnp.arctan2(jnp.where(nonzero, spec.imag, 0), jnp.where(nonzero, spec.real, 1))
  scale = jax.lax.stop_gradient(jnp.max(jnp.abs(spec), axis=-1, keepdims=True))
  cut = (spec.real < 0) & (jnp.abs(spec.imag) <= 1e-5 * scale)
  return jnp.where(nonzero, jnp.where(cut, jnp.pi, angle), 0)


def _stft_terms(x: jax.Array, y: jax.Array, *, fft_size: int, hop_size: int, win_length: int, window: str,
                eps: float, weights: tuple[float, float, float, float], distance: str, fb: np.ndarray | None,
                scale_invariance: bool, reduction: str) -> tuple[jax.Array, ...]:
  """One resolution's (sc, log_mag, lin_mag, phs) terms of flattened ``(b, n)`` inputs, reduced as
  ``reduction`` (a term whose weight is 0 is 0, as auraloss)."""
  w_sc, w_log_mag, w_lin_mag, w_phs = weights
  xs = _spectrum(x, fft_size, hop_size, win_length, window, bool(w_phs))
  ys = _spectrum(y, fft_size, hop_size, win_length, window, bool(w_phs))
  xm = jnp.sqrt(jnp.maximum(jnp.square(xs.real) + jnp.square(xs.imag), eps))
  ym = jnp.sqrt(jnp.maximum(jnp.square(ys.real) + jnp.square(ys.imag), eps))
  if fb is not None:
    fbt = jnp.asarray(fb.T, xm.dtype)
    xm = jnp.matmul(xm, fbt, precision=jax.lax.Precision.HIGHEST)
    ym = jnp.matmul(ym, fbt, precision=jax.lax.Precision.HIGHEST)
  if scale_invariance:  # the target scaled by the least-squares gain, per example
    alpha = jnp.sum(xm * ym, axis=(-2, -1)) / jnp.sum(jnp.square(ym), axis=(-2, -1))
    ym = ym * alpha[:, None, None]
  per_example = reduction == "none"
  zero = jnp.zeros(x.shape[:1] if per_example else (), x.dtype)
  dist = jnp.abs if distance == "l1" else jnp.square

  def average(d: jax.Array, total: bool) -> jax.Array:  # an elementwise distance, reduced
    if per_example:
      return jnp.mean(d, axis=tuple(range(1, d.ndim)))
    return jnp.sum(d) if total else jnp.mean(d)

  sc = log_mag = lin_mag = phs = zero
  if w_sc:
    num, den = jnp.sum(jnp.square(ym - xm), axis=(-2, -1)), jnp.sum(jnp.square(ym), axis=(-2, -1))
    sc = jnp.sqrt(num) / jnp.sqrt(den) if per_example else jnp.sqrt(jnp.sum(num)) / jnp.sqrt(jnp.sum(den))
  if w_log_mag:
    log_mag = average(dist(jnp.log(xm) - jnp.log(ym)), reduction == "sum")
  if w_lin_mag:
    lin_mag = average(dist(xm - ym), reduction == "sum")
  if w_phs:  # auraloss: mse_loss of the phases (a mean, whatever the reduction)
    phs = average(jnp.square(_angle(xs) - _angle(ys)), False)
  return sc, log_mag, lin_mag, phs


_FULL_TERMS = ("loss", "sc_mag_loss", "log_mag_loss", "lin_mag_loss", "phs_loss")


def _resolutions(fft_sizes: Any, hop_sizes: Any, win_lengths: Any, names: tuple[str, str, str] = (
    "fft_sizes", "hop_sizes", "win_lengths")) -> tuple[tuple[int, int, int], ...]:
  out = []
  for name, seq in zip(names, (fft_sizes, hop_sizes, win_lengths)):
    if isinstance(seq, (str, bytes)) or not isinstance(seq, Sequence) or not seq:
      raise ValueError(f"{name} must be a non-empty sequence of positive ints, got {seq!r}")
  if not len(fft_sizes) == len(hop_sizes) == len(win_lengths):
    raise ValueError(f"fft_sizes, hop_sizes and win_lengths must have the same length, got {len(fft_sizes)}, "
                     f"{len(hop_sizes)}, {len(win_lengths)}")
  suffix = "" if names[0] == "fft_size" else "[i]"
  for f, h, w in zip(fft_sizes, hop_sizes, win_lengths):
    f = _checks.positive_int(f, names[0] + suffix)
    h = _checks.positive_int(h, names[1] + suffix)
    w = _checks.positive_int(w, names[2] + suffix)
    if w > f:
      raise ValueError(f"{names[2]}{suffix} must be <= {names[0]}{suffix}, got win_length {w} > fft_size {f}")
    out.append((f, h, w))
  return tuple(out)


def _single(fft_size: Any, hop_size: Any, win_length: Any) -> tuple[tuple[int, int, int], ...]:
  return _resolutions((fft_size,), (hop_size,), (win_length,), ("fft_size", "hop_size", "win_length"))


def _spectral_loss(predictions: ArrayLike, targets: ArrayLike, resolutions: tuple[tuple[int, int, int], ...], *,
                   window: str, w_sc: Any, w_log_mag: Any, w_lin_mag: Any, w_phs: Any, eps: Any, mag_distance: Any,
                   scale: Any, sr: Any, sample_rate: Any, n_bins: Any, perceptual_weighting: Any,
                   scale_invariance: Any, output: Any, reduction: Any, sr_name: str = "sample_rate",
                   bins_name: str = "n_bins") -> Any:
  x, y = _pair(predictions, targets)
  if isinstance(window, str) and window.endswith("_window"):  # torch's names, as auraloss takes them
    window = window[:-len("_window")]
  _checks.choice(window, "window", _WINDOWS)
  weights = tuple(_weight(v, n) for v, n in ((w_sc, "w_sc"), (w_log_mag, "w_log_mag"), (w_lin_mag, "w_lin_mag"),
                                             (w_phs, "w_phs")))
  eps = _eps(eps)
  if weights[1] and eps == 0:
    raise ValueError("eps must be > 0 when w_log_mag > 0 (log of a zero magnitude)")
  if not isinstance(mag_distance, str):
    raise TypeError(f"mag_distance must be 'l1' or 'l2', got {mag_distance!r}")
  distance = _checks.choice(mag_distance.lower(), "mag_distance", _DISTANCES)
  _checks.choice(scale, "scale", (None, "mel", "chroma"))
  perceptual_weighting = _checks.flag(perceptual_weighting, "perceptual_weighting")
  scale_invariance = _checks.flag(scale_invariance, "scale_invariance")
  _checks.choice(output, "output", ("loss", "full"))
  _checks.choice(reduction, "reduction", _REDUCTIONS)
  if sr is not None and sample_rate is not None and sr != sample_rate:
    raise ValueError(f"sr and sample_rate name the same sample rate; got sr={sr!r}, sample_rate={sample_rate!r}")
  rate = sample_rate if sample_rate is not None else sr
  name = "sample_rate" if sample_rate is not None or sr is None else "sr"
  if scale is not None or perceptual_weighting:
    if rate is None:
      raise ValueError(f"{sr_name} must be given for scale={scale!r} / perceptual_weighting=True")
    rate = _checks.sample_rate(rate, name)
  else:
    rate = None if rate is None else _checks.sample_rate(rate, name)
  if scale is not None:
    n_bins = _checks.positive_int(n_bins, bins_name)
  for fft_size, _, _ in resolutions:
    if scale is not None and n_bins > fft_size:
      raise ValueError(f"{bins_name} must be <= fft_size {fft_size}, got {n_bins}")
    if x.shape[-1] <= fft_size // 2:
      raise ValueError(f"predictions and targets must be longer than fft_size // 2 = {fft_size // 2} samples "
                       f"(reflect padding), got {x.shape[-1]}")
  out = _spectral_core(x, y, resolutions, window=window, weights=weights, eps=eps, distance=distance, scale=scale,
                       sr=rate, n_bins=n_bins if scale is not None else None,
                       perceptual_weighting=perceptual_weighting, scale_invariance=scale_invariance,
                       reduction=reduction)
  return out if output == "full" else out[0]


@functools.lru_cache(maxsize=32)
def _filterbank(scale: str, sr: float, fft_size: int, n_bins: int) -> np.ndarray:
  from jaxdsp._core import chroma_np, mel_matrix  # pylint: disable=import-outside-toplevel
  if scale == "mel":  # librosa.filters.mel(sr=sr, n_fft=fft_size, n_mels=n_bins)
    return np.asarray(mel_matrix(sr=sr, n_fft=fft_size, n_mels=n_bins, fmin=0.0, fmax=None, htk=False,
                                 norm="slaney"))
  # librosa.filters.chroma(sr=sr, n_fft=fft_size, n_chroma=n_bins)
  return np.asarray(chroma_np(sr, fft_size, n_bins, 0.0, 5.0, 2, 2, True))


@functools.partial(jax.jit, static_argnums=(2,), static_argnames=(
    "window", "weights", "eps", "distance", "scale", "sr", "n_bins", "perceptual_weighting", "scale_invariance",
    "reduction"))
def _spectral_core(x: jax.Array, y: jax.Array, resolutions: tuple[tuple[int, int, int], ...], *, window: str,
                   weights: tuple[float, float, float, float], eps: float, distance: str, scale: str | None,
                   sr: float | None, n_bins: int | None, perceptual_weighting: bool, scale_invariance: bool,
                   reduction: str) -> tuple[jax.Array, ...]:
  lead = x.shape[:-1]
  x, y = x.reshape(-1, x.shape[-1]), y.reshape(-1, y.shape[-1])
  if perceptual_weighting:
    taps = _a_weighting_fir(sr)
    x, y = _fir_same(x, taps), _fir_same(y, taps)
  losses, terms = [], []
  for fft_size, hop_size, win_length in resolutions:
    fb = None if scale is None else _filterbank(scale, sr, fft_size, n_bins)
    t = _stft_terms(x, y, fft_size=fft_size, hop_size=hop_size, win_length=win_length, window=window, eps=eps,
                    weights=weights, distance=distance, fb=fb, scale_invariance=scale_invariance, reduction=reduction)
    losses.append(sum(w * v for w, v in zip(weights, t)))
    terms.append(t)
  shape = (lambda v: v.reshape(lead)) if reduction == "none" else (lambda v: v)
  loss = shape(sum(losses) / len(resolutions))
  if len(resolutions) == 1:
    return (loss,) + tuple(shape(v) for v in terms[0])
  return (loss,) + tuple(jnp.stack([shape(t[i]) for t in terms]) for i in range(4))


def stft_loss(predictions: ArrayLike, targets: ArrayLike, *, fft_size: int = 1024, hop_size: int = 256,
              win_length: int = 1024, window: str = "hann", w_sc: float = 1.0, w_log_mag: float = 1.0,
              w_lin_mag: float = 0.0, w_phs: float = 0.0, sample_rate: float | None = None, scale: str | None = None,
              n_bins: int | None = None, perceptual_weighting: bool = False, scale_invariance: bool = False,
              eps: float = 1e-8, output: str = "loss", reduction: str = "mean", mag_distance: str = "l1",
              sr: float | None = None) -> Any:
  """STFT loss: spectral convergence plus log-magnitude distance (auraloss's ``STFTLoss``, every option).

  With ``X = sqrt(max(|STFT(p)|², eps))``, ``Y`` the same for the targets (``torch.stft`` framing:
  centred, reflect padding, periodic window of ``win_length`` zero-padded to ``fft_size``)::

      loss = w_sc · ‖Y - X‖_F / ‖Y‖_F + w_log_mag · mean|log X - log Y| + w_lin_mag · mean|X - Y|
             + w_phs · mean((∠STFT(p) - ∠STFT(t))²)

  (``mag_distance="l2"`` squares the magnitude differences instead; the phase term is auraloss's
  plain squared difference of the angles, not wrapped). In order, as auraloss:
  ``perceptual_weighting`` first filters both signals by auraloss's 101-tap A-weighting FIR
  (least-squares fit of the IEC A-weighting curve at ``sample_rate``, same-length correlation);
  ``scale="mel"`` / ``"chroma"`` projects ``X`` and ``Y`` on ``librosa.filters.mel(sr=sample_rate,
  n_fft=fft_size, n_mels=n_bins)`` / ``librosa.filters.chroma(sr=sample_rate, n_fft=fft_size,
  n_chroma=n_bins)``; ``scale_invariance`` multiplies ``Y`` by ``α = Σ X·Y / Σ Y²`` (per example:
  auraloss computes the same ``α`` but can broadcast it only for one example); then the terms.

  Args:
    predictions: ``(..., n_samples)``, ``n_samples > fft_size // 2``.
    targets: same shape.
    fft_size: FFT size (static).
    hop_size: hop between frames.
    win_length: window length ``<= fft_size``.
    window: ``"hann"`` (default), ``"hamming"``, ``"blackman"``, ``"bartlett"``, ``"kaiser"``
      (β = 12) or ``"boxcar"``, periodic as torch's ``*_window`` functions; auraloss's names
      (``"hann_window"``, ...) are accepted.
    w_sc: weight of the spectral convergence term.
    w_log_mag: weight of the log-magnitude term.
    w_lin_mag: weight of the linear-magnitude term.
    w_phs: weight of the phase term (its gradient is 0 where a bin of the STFT is exactly 0).
    sample_rate: sample rate in Hz, needed by ``scale`` and ``perceptual_weighting``.
    scale: ``None``, ``"mel"`` or ``"chroma"``.
    n_bins: number of mel or chroma bands (``<= fft_size``), for ``scale``.
    perceptual_weighting: A-weight both signals first (needs ``sample_rate``).
    scale_invariance: compare with the optimally scaled targets.
    eps: floor of the squared magnitude (keeps the log and its gradient finite).
    output: ``"loss"`` (the loss) or ``"full"``: the tuple ``(loss, sc_mag_loss, log_mag_loss,
      lin_mag_loss, phs_loss)`` of the loss and the unweighted terms (a term of weight 0 is 0).
    reduction: ``"mean"`` (auraloss's value), ``"sum"`` (auraloss's ``reduction="sum"``: the
      magnitude distances summed; the phase term stays a mean, as auraloss) or ``"none"`` (per
      example, shape ``(...)``; auraloss returns the element-wise terms instead).
    mag_distance: ``"l1"`` or ``"l2"`` (any case, as auraloss's ``"L1"``) for the magnitude terms.
    sr: another name of ``sample_rate`` (jaxdsp's and librosa's).

  Returns:
    A scalar, or ``(...)`` for ``"none"``; a tuple of five for ``output="full"``.

  Raises:
    ValueError: shapes differ, signal not longer than ``fft_size // 2``, bad sizes, weights,
      window, distance, scale, output or reduction; ``scale``/``perceptual_weighting`` without a
      sample rate.
    TypeError: non-floating input, non-bool flags.

  Examples:
    >>> import jaxdsp as jd
    >>> t = jnp.arange(4096) / 16000
    >>> round(float(jd.stft_loss(jnp.sin(2 * jnp.pi * 440 * t), jnp.sin(2 * jnp.pi * 440 * t))), 6)
    0.0
    >>> p = jnp.sin(2 * jnp.pi * 440 * t)
    >>> round(float(jd.stft_loss(0.5 * p, p, scale_invariance=True, w_log_mag=0.0)), 4)
    0.0
    >>> [round(float(v), 2) for v in jd.stft_loss(0.5 * p, p, output="full")]
    [0.85, 0.5, 0.35, 0.0, 0.0]

  References:
    R. Yamamoto, E. Song, J.-M. Kim, "Parallel WaveGAN", ICASSP 2020; S. Arik et al., "Fast
    spectrogram inversion using multi-head convolutional neural networks", 2018; A. Wright,
    V. Välimäki, "Perceptual loss function for neural modelling of audio systems", ICASSP 2020.
    Compare ``auraloss.freq.STFTLoss``.
  """
  return _spectral_loss(predictions, targets, _single(fft_size, hop_size, win_length), window=window, w_sc=w_sc,
                        w_log_mag=w_log_mag, w_lin_mag=w_lin_mag, w_phs=w_phs, eps=eps, mag_distance=mag_distance,
                        scale=scale, sr=sr, sample_rate=sample_rate, n_bins=n_bins,
                        perceptual_weighting=perceptual_weighting, scale_invariance=scale_invariance, output=output,
                        reduction=reduction)


def multi_resolution_stft_loss(predictions: ArrayLike, targets: ArrayLike, *,
                               fft_sizes: Sequence[int] = (1024, 2048, 512),
                               hop_sizes: Sequence[int] = (120, 240, 50),
                               win_lengths: Sequence[int] = (600, 1200, 240), window: str = "hann",
                               w_sc: float = 1.0, w_log_mag: float = 1.0, w_lin_mag: float = 0.0,
                               w_phs: float = 0.0, sample_rate: float | None = None, scale: str | None = None,
                               n_bins: int | None = None, perceptual_weighting: bool = False,
                               scale_invariance: bool = False, eps: float = 1e-8, output: str = "loss",
                               reduction: str = "mean", mag_distance: str = "l1", sr: float | None = None) -> Any:
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
    window, w_sc, w_log_mag, w_lin_mag, w_phs, sample_rate, scale, n_bins, perceptual_weighting,
      scale_invariance, eps, reduction, mag_distance, sr: as ``stft_loss``.
    output: ``"loss"`` or ``"full"``: ``(loss, sc_mag_loss, log_mag_loss, lin_mag_loss,
      phs_loss)`` with each term stacked over the resolutions (shape ``(R,)``, or ``(R, ...)``
      for ``"none"``; auraloss returns lists).

  Returns:
    A scalar, or ``(...)`` for ``"none"``; a tuple of five for ``output="full"``.

  Raises:
    ValueError: as ``stft_loss``; resolution lists of different lengths.
    TypeError: non-floating input.

  Examples:
    >>> import jax
    >>> import jaxdsp as jd
    >>> p, t = jax.random.normal(jax.random.key(0), (2, 2, 4096))
    >>> round(float(jd.multi_resolution_stft_loss(p, t)), 2)
    1.4
    >>> jd.multi_resolution_stft_loss(p, t, output="full")[1].shape  # spectral convergence per resolution
    (3,)

  References:
    R. Yamamoto, E. Song, J.-M. Kim, "Parallel WaveGAN", ICASSP 2020; J. Engel et al., "DDSP",
    ICLR 2020 (multi-scale spectral loss). Compare ``auraloss.freq.MultiResolutionSTFTLoss``.
  """
  return _spectral_loss(predictions, targets, _resolutions(fft_sizes, hop_sizes, win_lengths), window=window,
                        w_sc=w_sc, w_log_mag=w_log_mag, w_lin_mag=w_lin_mag, w_phs=w_phs, eps=eps,
                        mag_distance=mag_distance, scale=scale, sr=sr, sample_rate=sample_rate, n_bins=n_bins,
                        perceptual_weighting=perceptual_weighting, scale_invariance=scale_invariance, output=output,
                        reduction=reduction)


def mel_stft_loss(predictions: ArrayLike, targets: ArrayLike, *, sr: float, fft_size: int = 1024,
                  hop_size: int = 256, win_length: int = 1024, window: str = "hann", n_mels: int = 128,
                  w_sc: float = 1.0, w_log_mag: float = 1.0, w_lin_mag: float = 0.0, w_phs: float = 0.0,
                  perceptual_weighting: bool = False, scale_invariance: bool = False, eps: float = 1e-8,
                  output: str = "loss", mag_distance: str = "l1", reduction: str = "mean") -> Any:
  """Mel-scale STFT loss (auraloss's ``MelSTFTLoss``): ``stft_loss`` on ``n_mels`` Slaney mel bands.

  ``stft_loss(p, t, scale="mel", sample_rate=sr, n_bins=n_mels, ...)``: the clamped magnitudes are
  projected on the filterbank of ``librosa.filters.mel(sr=sr, n_fft=fft_size, n_mels=n_mels)``
  before the terms.

  Args:
    predictions: ``(..., n_samples)``.
    targets: same shape.
    sr: sample rate in Hz (auraloss's ``sample_rate``).
    fft_size, hop_size, win_length, window: STFT settings (auraloss's defaults).
    n_mels: number of mel bands (``<= fft_size``).
    w_sc, w_log_mag, w_lin_mag, w_phs, perceptual_weighting, scale_invariance, eps, output,
      mag_distance, reduction: as ``stft_loss``.

  Returns:
    A scalar, or ``(...)`` for ``"none"``; a tuple of five for ``output="full"``.

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
  if n_mels is None:
    raise TypeError("n_mels must be a positive int, got None")
  return _spectral_loss(predictions, targets, _single(fft_size, hop_size, win_length), window=window, w_sc=w_sc,
                        w_log_mag=w_log_mag, w_lin_mag=w_lin_mag, w_phs=w_phs, eps=eps, mag_distance=mag_distance,
                        scale="mel", sr=sr, sample_rate=None, n_bins=_checks.positive_int(n_mels, "n_mels"),
                        perceptual_weighting=perceptual_weighting, scale_invariance=scale_invariance, output=output,
                        reduction=reduction, sr_name="sr", bins_name="n_mels")


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
    eps: stabiliser, > 0 (auraloss's default; a perfect estimate gives ``10·log10(1/eps)``-ish, finite).
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
  eps = _checks.positive_number(eps, "eps")  # > 0: a perfect estimate is then finite (not +inf dB)
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
    eps: stabiliser, > 0 (a perfect estimate gives a finite value).
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
  eps = _checks.positive_number(eps, "eps")  # > 0: a perfect estimate is then finite (not +inf dB)
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
