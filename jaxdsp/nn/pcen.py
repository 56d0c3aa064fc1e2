"""Per-channel energy normalisation (PCEN) with learnable parameters, as a Flax NNX layer.

Layout: filterbank energies ``(..., n_channels, n_frames)`` (time last, as every jaxdsp feature)
in, the same shape out.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx
from jax import lax
from jax.typing import ArrayLike

from jaxdsp import _checks
from jaxdsp.nn.compiled import compiled_method

__all__ = ["PCEN"]


def _smooth(E: jax.Array, s: jax.Array) -> jax.Array:
  """First-order IIR smoother along the last axis, ``M[t] = (1 - s)·M[t-1] + s·E[t]``, ``M[0] = E[0]``.

  A parallel (associative) scan of the linear recurrence, ``O(T log T)`` work, differentiable in
  ``E`` and in the per-channel ``s`` (``(n_channels,)``, broadcast against axis -2).
  """
  a = jnp.broadcast_to((1.0 - s)[:, None], E.shape)
  b = s[:, None] * E
  b = b.at[..., 0].set(E[..., 0])

  def combine(left, right):
    a1, b1 = left
    a2, b2 = right
    return a1 * a2, a2 * b1 + b2

  _, M = lax.associative_scan(combine, (a, b), axis=E.ndim - 1)
  return M


class PCEN(nnx.Module):
  """Per-channel energy normalisation with trainable ``α``, ``δ``, ``r`` and smoothing ``s``.

  ``M[c, t] = (1 - s_c)·M[c, t-1] + s_c·E[c, t]`` (``M[c, 0] = E[c, 0]``), then

  ``PCEN[c, t] = (E[c, t] / (ε + M[c, t])^α_c + δ_c)^r_c - δ_c^r_c``.

  Every parameter is stored in an unconstrained form that keeps it valid: ``α = exp(log_alpha)``,
  ``δ = exp(log_delta)``, ``r = exp(log_r)``, ``s = sigmoid(smooth_logit)``, one value per channel
  (the "sPCEN" of LEAF, which learns the smoothing per channel too). The powers are computed as
  ``exp(p·log(·))`` of arguments bounded away from 0 (``ε + M ≥ ε``, ``x + δ ≥ δ > 0``), so the
  output and its gradients with respect to the input and every parameter stay finite on silence
  (``E = 0`` gives exactly 0 with finite gradients).

  Args:
    n_channels: number of channels (filters), axis -2 of the input.
    alpha: initial gain-normalisation exponent α (LEAF: 0.96).
    delta: initial bias δ (LEAF: 2.0).
    r: initial root exponent r (LEAF: 0.5, i.e. a square root).
    smooth: initial smoothing coefficient s in (0, 1) (LEAF: 0.04).
    eps: the floor ε added to ``M`` (static; LEAF uses 1e-12 for its own input scale, 1e-6
      suits energies of signals in [-1, 1]).
    trainable: learn the parameters (``nnx.Param``); ``False`` stores them as constants.
    param_dtype: dtype of the parameters.

  Shapes: ``(..., n_channels, n_frames) -> (..., n_channels, n_frames)``.

  Examples:
    >>> import jax.numpy as jnp
    >>> pcen = PCEN(3)
    >>> pcen(jnp.zeros((2, 3, 10))).shape     # silence stays finite (exactly 0)
    (2, 3, 10)

  References:
    Y. Wang, P. Getreuer, T. Hughes, R. F. Lyon, R. A. Saurous, "Trainable frontend for robust
    and far-field keyword spotting", ICASSP 2017. N. Zeghidour, O. Teboul, F. de Chaumont Quitry,
    M. Tagliasacchi, "LEAF: A learnable frontend for audio classification", ICLR 2021.
    Compare ``librosa.pcen`` (fixed parameters, scipy's ``lfilter`` smoother).
  """

  def __init__(self, n_channels: int, *, alpha: float = 0.96, delta: float = 2.0, r: float = 0.5,
               smooth: float = 0.04, eps: float = 1e-6, trainable: bool = True,
               param_dtype: Any = jnp.float32):
    n_channels = _checks.positive_int(n_channels, "n_channels")
    alpha = _checks.positive_number(alpha, "alpha")
    delta = _checks.positive_number(delta, "delta")
    r = _checks.positive_number(r, "r")
    smooth = _checks.positive_number(smooth, "smooth")
    if smooth >= 1:
      raise ValueError(f"smooth must be in (0, 1), got {smooth}")
    self.eps = _checks.positive_number(eps, "eps")
    self.n_channels = n_channels
    kind = nnx.Param if trainable else nnx.Variable

    def full(v):
      return kind(jnp.full((n_channels,), v, dtype=param_dtype))

    self.log_alpha = full(math.log(alpha))
    self.log_delta = full(math.log(delta))
    self.log_r = full(math.log(r))
    self.smooth_logit = full(math.log(smooth / (1.0 - smooth)))

  def parameters(self) -> dict[str, jax.Array]:
    """The constrained parameters ``{"alpha", "delta", "r", "smooth"}``, each ``(n_channels,)``."""
    return {"alpha": jnp.exp(self.log_alpha[...]), "delta": jnp.exp(self.log_delta[...]),
            "r": jnp.exp(self.log_r[...]), "smooth": jax.nn.sigmoid(self.smooth_logit[...])}

  def __call__(self, E: ArrayLike) -> jax.Array:
    E = _checks.as_signal(E, "E", min_ndim=2)
    if E.shape[-2] != self.n_channels:
      raise ValueError(f"E must have shape (..., {self.n_channels}, n_frames), got {E.shape}")
    return self._forward(E)

  @compiled_method
  def _forward(self, E: jax.Array) -> jax.Array:
    dtype = jnp.result_type(E.dtype, self.log_alpha[...].dtype)
    E = E.astype(dtype)
    p = {k: v.astype(dtype)[:, None] for k, v in self.parameters().items()}
    M = _smooth(E, p["smooth"][:, 0])
    gain = jnp.exp(-p["alpha"] * jnp.log(self.eps + M))
    log_delta = jnp.log(p["delta"])
    return jnp.exp(p["r"] * jnp.log(E * gain + p["delta"])) - jnp.exp(p["r"] * log_delta)

