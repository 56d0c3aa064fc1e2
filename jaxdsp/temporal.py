"""Time-domain features: amplitude envelope, RMS, zero-crossing rate.

Layout: ``(..., n_samples) -> (..., n_frames)`` (librosa's singleton axis dropped). All framing goes
through the feature core's one framing (:mod:`jaxdsp._core`), so ``center``/``pad_mode`` mean the
same everywhere; the
course's own scheme (no centring, a frame at every hop, the last ones filled by wrapping) is
``center=False, pad_mode="wrap"``.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from jaxdsp import _checks
from jaxdsp import _core


def _framing(frame_length: Any, hop_length: Any, center: Any, pad_mode: Any) -> dict[str, Any]:
  return dict(n_fft=frame_length, hop_length=hop_length, center=center, pad_mode=pad_mode,
              length_name="frame_length")


def amplitude_envelope(y: ArrayLike, *, frame_length: int = 2048, hop_length: int = 512, center: bool = True,
                       pad_mode: str = "constant") -> jax.Array:
  """Amplitude envelope: the maximum sample of each frame, ``AE[t] = max_k y[t·hop + k]``.

  The course's definition (a signed maximum, not ``max |y|``). Its gradient flows only to the
  arg-max sample of each frame; for a smooth surrogate use a soft maximum
  (``jaxdsp.nn`` front-ends offer one).

  Args:
    y: ``(..., n_samples)`` signal.
    frame_length: samples per frame.
    hop_length: samples between frames.
    center: centre frames (librosa convention); ``center=False, pad_mode="wrap"`` is the course's
      scheme (``ceil(n / hop_length)`` frames from sample 0).
    pad_mode: see :mod:`jaxdsp.framing`.

  Returns:
    ``(..., n_frames)``.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.amplitude_envelope(jnp.array([0., 1., 0., -1., 2., 0.]), frame_length=2, hop_length=2,
    ...                       center=False).tolist()
    [1.0, 0.0, 2.0]

  References:
    V. Velardo, "Audio Signal Processing for Machine Learning", amplitude envelope chapter.
  """
  return _core.feature("amplitude_envelope", y, options={}, **_framing(frame_length, hop_length, center, pad_mode))


def rms(y: ArrayLike | None = None, *, S: ArrayLike | None = None, frame_length: int = 2048, hop_length: int = 512,
        center: bool = True, pad_mode: str = "constant") -> jax.Array:
  """Root-mean-square energy per frame, ``RMS[t] = sqrt(mean_k y[t·hop + k]²)``.

  From a spectrogram ``S`` (``n_freq == frame_length // 2 + 1``) it is computed by Parseval as
  librosa does: ``sqrt(2 Σ_f |S[f, t]|² / frame_length²)`` with the DC (and Nyquist for even
  ``frame_length``) bins halved. The square root has a zero, not infinite, gradient on silence.

  Args:
    y: ``(..., n_samples)`` signal, or ``None`` when ``S`` is given.
    S: ``(..., n_freq, n_frames)`` magnitude spectrogram (keyword).
    frame_length, hop_length, center, pad_mode: framing, see :func:`amplitude_envelope`.

  Returns:
    ``(..., n_frames)``.

  Examples:
    >>> import jaxdsp as jd
    >>> t = jnp.arange(22050) / 22050
    >>> round(float(jd.rms(jnp.sin(2 * jnp.pi * 441 * t), frame_length=2000, center=False)[0]), 4)  # 40 periods
    0.7071

  Compare ``librosa.feature.rms``.
  """
  _core.y_or_S(y, S)
  if S is not None:
    frame_length = _checks.positive_int(frame_length, "frame_length")
    n_freq = np.shape(S)[-2] if np.ndim(S) >= 2 else None
    if n_freq is not None and n_freq != frame_length // 2 + 1:
      raise ValueError(f"frame_length must be {2 * n_freq - 2} or {2 * n_freq - 1} for S with n_freq={n_freq}, "
                       f"got {frame_length}")
  return _core.feature("rms", y, S, options={}, **_framing(frame_length, hop_length, center, pad_mode))


def zero_crossing_rate(y: ArrayLike, *, frame_length: int = 2048, hop_length: int = 512, center: bool = True,
                       pad_mode: str = "edge", threshold: float = 1e-10) -> jax.Array:
  """Zero-crossing rate: the fraction of sample pairs in each frame whose signs differ.

  ``ZCR[t] = (1 / frame_length) Σ_{k=1}^{L-1} [sign(x[k]) ≠ sign(x[k-1])]`` over the frame's samples
  ``x``, with ``|x| <= threshold`` counted as 0 and 0 counted as positive (librosa's ``zero_pos``).

  The true gradient is zero almost everywhere (a count); for learning use
  :func:`zero_crossing_rate_smooth`.

  Args:
    y: ``(..., n_samples)`` signal.
    frame_length, hop_length, center: framing, see :func:`amplitude_envelope`.
    pad_mode: centre padding; ``"edge"`` as librosa hard-codes for ZCR.
    threshold: amplitudes at or below it count as zero.

  Returns:
    ``(..., n_frames)``.

  Examples:
    >>> import jaxdsp as jd
    >>> square = jnp.tile(jnp.array([1., 1., -1., -1.]), 256)   # period 4: 2 crossings / 4 samples
    >>> float(jd.zero_crossing_rate(square, frame_length=256, hop_length=256, center=False)[0])
    0.49609375

  Compare ``librosa.feature.zero_crossing_rate``.
  """
  return _core.feature("zero_crossing_rate", y, options={"zcr_threshold": threshold, "zcr_pad_mode": pad_mode},
                       aliases={"zcr_threshold": "threshold"}, **_framing(frame_length, hop_length, center, pad_mode))


_SOFT_SIGN_OFFSET = 5.0


def zero_crossing_rate_smooth(y: ArrayLike, *, frame_length: int = 2048, hop_length: int = 512, center: bool = True,
                              pad_mode: str = "edge", temperature: float = 1e-3) -> jax.Array:
  """A differentiable zero-crossing rate that tends to :func:`zero_crossing_rate` as ``temperature → 0``.

  Each sign is replaced by the soft sign ``s(x) = tanh(x / temperature + 5)`` (the offset makes an
  exact 0 count as positive, ``s(0) ≈ 0.9999``, as in the exact rate) and each crossing indicator by
  ``c = ½ (1 - s(x[k]) s(x[k-1])) · (1 - exp(-(x[k]² + x[k-1]²) / temperature²))``: ≈1 for a pair of
  opposite signs, ≈0 for a pair of equal signs, and exactly 0 for a pair of zeros (silence).
  Samples within a few ``temperature`` of 0 count fractionally; for ``temperature`` well below the
  smallest non-zero amplitude (3e-5 for 16-bit audio) it equals the exact rate to ~1e-4.

  Args:
    y: ``(..., n_samples)`` signal.
    frame_length, hop_length, center, pad_mode: as :func:`zero_crossing_rate`.
    temperature: amplitude scale of the soft sign, > 0.

  Returns:
    ``(..., n_frames)``; gradients are finite everywhere.

  Examples:
    >>> import jaxdsp as jd
    >>> square = jnp.tile(jnp.array([1., 1., -1., -1.]), 256)
    >>> round(float(jd.zero_crossing_rate_smooth(square, frame_length=256, hop_length=256,
    ...                                          center=False)[0]), 4)
    0.4961
  """
  temperature = _checks.positive_number(temperature, "temperature")
  frames = framed(y, frame_length=frame_length, hop_length=hop_length, center=center, pad_mode=pad_mode)
  s = jnp.tanh(frames / temperature + _SOFT_SIGN_OFFSET)
  a, b = frames[..., 1:], frames[..., :-1]
  gate = -jnp.expm1(-(a * a + b * b) / temperature**2)
  c = 0.5 * (1 - s[..., 1:] * s[..., :-1]) * gate
  return jnp.sum(c, axis=-1) / frames.shape[-1]


def framed(y: ArrayLike, *, frame_length: int, hop_length: int, center: bool = True,
           pad_mode: str = "constant") -> jax.Array:
  """The padded frames of ``y`` as every framed feature sees them, ``(..., n_frames, frame_length)``
  (frame-major, unlike :func:`jaxdsp.frame`): the input of a custom per-frame feature or a
  smooth surrogate.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.temporal.framed(jnp.arange(4.0), frame_length=2, hop_length=2).tolist()
    [[0.0, 0.0], [1.0, 2.0], [3.0, 0.0]]
  """
  y = _checks.as_signal(y)
  spec = _core.signal_spec(y, **_framing(frame_length, hop_length, center, pad_mode))
  return _core.frames(y, spec.n_fft, spec.hop_length, spec.center, spec.pad_mode)
