"""A trainable constant-Q front-end: :class:`LearnableCQT`.

Layout: ``(..., n_samples) -> (..., n_bins, 1 + n_samples // hop_length)`` (lowest bin first).

The computation is :func:`jaxdsp.cqt`'s octave recursion on CPU (top octave at the full rate, the
signal decimated by 2 between octaves by a fixed half-band filter, ``res_type="halfband"``), with each
octave's complex time-domain kernels ``(bins_per_octave, n_fft)`` held as trainable parameters
(nnAudio's trainable CQT, here per octave: ``2 · n_bins · n_fft`` parameters, 43 k for 84 bins, instead
of one full-rate kernel of 16 k taps per bin). At initialisation it equals ``jd.cqt(y, ...,
res_type="halfband")``.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx
from jax.typing import ArrayLike

from jaxdsp import _checks
from jaxdsp import _ops
from jaxdsp import constantq
from jaxdsp.nn.compiled import compiled_method


class LearnableCQT(nnx.Module):
  """Constant-Q transform whose per-octave kernels are trained.

  ``C[..., k, t] = Σ_m y_o[t · hop_o + m - n_o/2] · K_o[k, m]`` with ``y_o`` the signal decimated to
  octave ``o``'s rate and ``K_o`` its kernels, initialised to the constant-Q kernels (windowed complex
  exponentials, librosa's normalisation and sparsity). The output is ``½ · log(|C|² + amin²)``
  (``≈ log |C|``; finite gradients at silence) or, with ``log=False``, the magnitude ``|C|``
  (its gradient is zero where a coefficient is exactly zero).

  Trainable (``nnx.Param``): ``kernels``, one ``(2 · n_o, n_fft_o)`` array per octave (real parts over
  imaginary parts).

  Args:
    sr: sample rate.
    hop_length: frame hop; divisible by ``2^(n_octaves - 1)`` keeps every octave decimated.
    fmin: lowest frequency (default C1 ≈ 32.70 Hz).
    n_bins, bins_per_octave, tuning, filter_scale, norm, sparsity, window: as in :func:`jaxdsp.cqt`.
    log: return the log magnitude (default) or the magnitude.
    amin: floor in the log.
    param_dtype: parameter dtype.

  Examples:
    >>> import jax.numpy as jnp
    >>> from jaxdsp.nn import LearnableCQT
    >>> m = LearnableCQT(sr=16000, fmin=110.0, n_bins=36, hop_length=256)
    >>> m(jnp.zeros((2, 8000))).shape
    (2, 36, 32)

  Compare ``jd.cqt`` (fixed kernels); nnAudio's ``CQT1992v2(trainable=True)``.

  References:
    K. W. Cheuk et al., "nnAudio: An on-the-fly GPU audio to spectrogram conversion toolbox using 1D
    convolutional neural networks", IEEE Access 8, 2020.
  """

  def __init__(self, *, sr: float = 22050, hop_length: int = 512, fmin: float | None = None, n_bins: int = 84,
               bins_per_octave: int = 12, tuning: float = 0.0, filter_scale: float = 1, norm: float | None = 1,
               sparsity: float = 0.01, window: str = "hann", log: bool = True, amin: float = 1e-5,
               param_dtype: Any = jnp.float32):
    args = constantq.check_common(sr, hop_length, fmin, n_bins, bins_per_octave, tuning, filter_scale, norm,
                              sparsity, window, True, "constant")
    sr, hop_length, fmin, n_bins, bpo, tuning, filter_scale, norm, sparsity, window, _, _ = args
    freqs, per_hz, cutoff = constantq.plan(sr, fmin, n_bins, bpo, tuning, filter_scale, window, 0.0)
    self.count, octaves = constantq.octave_plan(sr, hop_length, freqs, per_hz, cutoff, bpo, norm, sparsity, window, True)
    self.octaves = tuple((lo, hi, hop, dec) for lo, hi, _, hop, dec in octaves)
    self.kernels = nnx.List([nnx.Param(constantq.real_kernel(o[2], param_dtype)) for o in octaves])
    if not isinstance(log, bool):
      raise TypeError(f"log must be a bool, got {log!r}")
    self.log = log
    self.amin = _checks.positive_number(amin, "amin")
    self.sr, self.hop_length, self.n_bins = sr, hop_length, n_bins
    self.freqs = tuple(freqs.tolist())

  def center_frequencies(self) -> jax.Array:
    """The initial centre frequencies ``(n_bins,)`` in Hz (from :func:`jaxdsp.cqt_frequencies`)."""
    return jnp.asarray(self.freqs)

  def transform(self, x: ArrayLike) -> jax.Array:
    """The complex transform ``(..., n_bins, n_frames)`` with the current kernels."""
    return self._transform(_checks.as_signal(x, "x"))

  @compiled_method
  def _transform(self, x: jax.Array) -> jax.Array:
    octaves = tuple((lo, hi, None, hop, dec) for lo, hi, hop, dec in self.octaves)
    kernels = [k[...] for k in self.kernels]
    return constantq.run_octaves(x, self.count, octaves, kernels, "constant", True, "halfband")

  def __call__(self, x: ArrayLike) -> jax.Array:
    return self._forward(_checks.as_signal(x, "x"))

  @compiled_method
  def _forward(self, x: jax.Array) -> jax.Array:
    P = _ops.abs2(self._transform(x))
    if self.log:
      return 0.5 * jnp.log(P + self.amin**2)
    return _ops.safe_sqrt(P)
