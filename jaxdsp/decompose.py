"""Harmonic-percussive source separation by median filtering (Fitzgerald 2010).

Layout: spectrograms ``(..., n_freq, n_frames)``; signals ``(..., n_samples)``. The median filters
run on the device (a sort over the ``kernel_size`` shifted copies of the spectrogram), so
:func:`hpss`, :func:`harmonic` and :func:`percussive` work under ``jit``/``vmap``/``grad``. A median
passes the gradient to the selected element of each window (piecewise linear); the soft masks are
smooth where the spectrogram is non-zero.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from jaxdsp import _checks
from jaxdsp import _ops


def _median_filter(S: jax.Array, size: int, axis: int) -> jax.Array:
  """``scipy.ndimage.median_filter`` along one axis, mode ``"reflect"`` (for even sizes the upper
  median, scipy's rank ``size // 2``)."""
  if size == 1:
    return S
  n = S.shape[axis]
  left, right = size // 2, size - size // 2 - 1
  idx = np.arange(-left, n + right)
  for _ in range(4):  # reflect (d c b a | a b c d | d c b a), repeated for windows longer than the axis
    idx = np.where(idx < 0, -idx - 1, idx)
    idx = np.where(idx >= n, 2 * n - idx - 1, idx)
  P = jnp.take(S, jnp.asarray(np.clip(idx, 0, n - 1)), axis=axis)
  stack = jnp.stack([jax.lax.slice_in_dim(P, k, k + n, axis=axis) for k in range(size)], axis=-1)
  return jnp.sort(stack, axis=-1)[..., size // 2]


def _softmask(X: jax.Array, X_ref: jax.Array, power: float, split_zeros: bool) -> jax.Array:
  """librosa's ``util.softmask``: ``X^p / (X^p + X_ref^p)`` (scaled by their maximum)."""
  Z = jnp.maximum(X, X_ref)
  bad = Z < jnp.finfo(X.dtype).tiny
  Z = jnp.where(bad, 1, Z)
  if np.isinf(power):
    return (X > X_ref).astype(X.dtype)
  mask = (X / Z) ** power
  ref_mask = (X_ref / Z) ** power
  mask = mask / jnp.where(bad, 1, mask + ref_mask)
  return jnp.where(bad, 0.5 if split_zeros else 0.0, mask)


@functools.partial(jax.jit, static_argnames=("win_harm", "win_perc", "power", "mask", "margin_harm", "margin_perc"))
def _hpss(S, *, win_harm, win_perc, power, mask, margin_harm, margin_perc):
  mag = _ops.safe_abs(S) if jnp.iscomplexobj(S) else S
  harm = _median_filter(mag, win_harm, -1)
  perc = _median_filter(mag, win_perc, -2)
  split_zeros = margin_harm == 1 and margin_perc == 1
  mask_harm = _softmask(harm, perc * margin_harm, power, split_zeros)
  mask_perc = _softmask(perc, harm * margin_perc, power, split_zeros)
  if mask:
    return mask_harm, mask_perc
  return S * mask_harm, S * mask_perc


def _pair(value: Any, name: str, check) -> tuple:
  if isinstance(value, (tuple, list)):
    if len(value) != 2:
      raise ValueError(f"{name} must be a number or a pair (harmonic, percussive), got {value!r}")
    return check(value[0], f"{name}[0]"), check(value[1], f"{name}[1]")
  v = check(value, name)
  return v, v


def _margin(value: Any, name: str) -> float:
  value = _checks.positive_number(value, name)
  if value < 1:
    raise ValueError(f"{name} must be >= 1 (typically 1 to 10), got {value}")
  return value


def hpss(S: ArrayLike, *, kernel_size: int | tuple[int, int] = 31, power: float = 2.0, mask: bool = False,
         margin: float | tuple[float, float] = 1.0) -> tuple[jax.Array, jax.Array]:
  """Splits a spectrogram into harmonic and percussive parts by median-filtering soft masks.

  ``H = median_time(|S|)`` (``kernel_size[0]`` frames) and ``P = median_freq(|S|)``
  (``kernel_size[1]`` bins), both with reflected edges; ``M_H = H^p / (H^p + (margin_H·P)^p)``,
  ``M_P = P^p / (P^p + (margin_P·H)^p)``; returns ``(S·M_H, S·M_P)`` (complex ``S`` keeps its phase).
  With ``margin > 1`` the two parts no longer sum to ``S`` (a residual is left).

  Args:
    S: ``(..., n_freq, n_frames)`` complex STFT or magnitude spectrogram.
    kernel_size: median filter sizes ``(harmonic, percussive)`` or one for both.
    power: soft-mask exponent (> 0; ``inf`` gives binary masks).
    mask: return the masks instead of the parts.
    margin: separation margins ``(harmonic, percussive)`` or one for both, each >= 1.

  Returns:
    ``(harmonic, percussive)``, each like ``S`` (or the real masks).

  Raises:
    ValueError: bad kernel sizes, margins or power; ``S`` of rank < 2.

  Examples:
    >>> import jaxdsp as jd
    >>> S = jnp.zeros((64, 40)).at[10, :].set(1.0).at[:, 20].set(1.0)  # a tone and a click
    >>> H, P = jd.hpss(S, kernel_size=7)
    >>> round(float(H[10, 5]), 2), round(float(P[30, 20]), 2)
    (1.0, 1.0)

  Compare ``librosa.decompose.hpss``.

  References:
    D. Fitzgerald, "Harmonic/percussive separation using median filtering", DAFx 2010.
    J. Driedger, M. Müller and S. Disch, "Extending harmonic-percussive separation of audio signals", ISMIR 2014.
  """
  S = _checks.as_signal(S, "S", min_ndim=2, allow_complex=True)
  win_harm, win_perc = _pair(kernel_size, "kernel_size", _checks.size)
  if max(win_harm, win_perc) * S.size > _checks.INT32_MAX:  # the median filter stacks kernel_size shifted copies
    raise ValueError(f"kernel_size={kernel_size!r} is too large for S of shape {S.shape}: the median filter holds "
                     f"kernel_size x S.size values, which must stay below 2**31 (JAX indexes with int32)")
  margin_harm, margin_perc = _pair(margin, "margin", _margin)
  if isinstance(power, bool) or not isinstance(power, (int, float, np.integer, np.floating)) or not power > 0:
    raise ValueError(f"power must be a positive number (or inf), got {power!r}")
  return _hpss(S, win_harm=win_harm, win_perc=win_perc, power=float(power), mask=bool(mask),
               margin_harm=margin_harm, margin_perc=margin_perc)


def _split(y: Any, part: int, kernel_size, power, margin, n_fft, hop_length, win_length, window, center, pad_mode):
  from jaxdsp.spectral import istft, stft  # pylint: disable=import-outside-toplevel
  y = _checks.as_signal(y)
  _pair(kernel_size, "kernel_size", _checks.size)  # before the STFT is computed
  D = stft(y, n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window, center=center,
           pad_mode=pad_mode)
  D_part = hpss(D, kernel_size=kernel_size, power=power, margin=margin)[part]
  return istft(D_part, n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window, center=center,
               length=y.shape[-1])


def harmonic(y: ArrayLike, *, kernel_size: int | tuple[int, int] = 31, power: float = 2.0,
             margin: float | tuple[float, float] = 1.0, n_fft: int = 2048, hop_length: int | None = None,
             win_length: int | None = None, window: Any = "hann", center: bool = True,
             pad_mode: str = "constant") -> jax.Array:
  """The harmonic part of a signal: ``istft`` of the harmonic part of :func:`hpss` of its STFT.

  Args:
    y: ``(..., n_samples)`` signal.
    kernel_size, power, margin: see :func:`hpss`.
    n_fft, hop_length, win_length, window, center, pad_mode: STFT (and inverse) settings.

  Returns:
    ``(..., n_samples)``.

  Raises:
    ValueError: see :func:`hpss` and :func:`jaxdsp.stft`.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.harmonic(jnp.zeros(4096), n_fft=512).shape
    (4096,)

  Compare ``librosa.effects.harmonic``.
  """
  return _split(y, 0, kernel_size, power, margin, n_fft, hop_length, win_length, window, center, pad_mode)


def percussive(y: ArrayLike, *, kernel_size: int | tuple[int, int] = 31, power: float = 2.0,
               margin: float | tuple[float, float] = 1.0, n_fft: int = 2048, hop_length: int | None = None,
               win_length: int | None = None, window: Any = "hann", center: bool = True,
               pad_mode: str = "constant") -> jax.Array:
  """The percussive part of a signal: ``istft`` of the percussive part of :func:`hpss` of its STFT.

  Args:
    y: ``(..., n_samples)`` signal.
    kernel_size, power, margin: see :func:`hpss`.
    n_fft, hop_length, win_length, window, center, pad_mode: STFT (and inverse) settings.

  Returns:
    ``(..., n_samples)``.

  Raises:
    ValueError: see :func:`hpss` and :func:`jaxdsp.stft`.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.percussive(jnp.zeros(4096), n_fft=512).shape
    (4096,)

  Compare ``librosa.effects.percussive``.
  """
  return _split(y, 1, kernel_size, power, margin, n_fft, hop_length, win_length, window, center, pad_mode)
