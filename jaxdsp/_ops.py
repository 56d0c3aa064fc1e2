"""Numerically safe elementwise helpers: finite values AND finite gradients at zero.

``jnp.sqrt``, ``x ** (1/p)`` and ``abs`` of a complex number have infinite or NaN derivatives at 0,
which silent frames hit. The double-``where`` pattern keeps the forward value exact and the
gradient 0 there (JAX FAQ, "gradients contain NaN where using where").
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


@jax.custom_jvp
def safe_sqrt(x: jax.Array) -> jax.Array:
  """``sqrt(x)`` for ``x >= 0`` with gradient 0 (not inf) at ``x == 0``.

  A ``custom_jvp`` rather than the double-``where``: the forward pass is one plain ``sqrt`` (it
  runs on every bin of every spectrogram), only the derivative is guarded.
  """
  return jnp.sqrt(x)


@safe_sqrt.defjvp
def _safe_sqrt_jvp(primals, tangents):
  (x,), (t,) = primals, tangents
  y = jnp.sqrt(x)
  pos = x > 0
  return y, jnp.where(pos, t / (2 * jnp.where(pos, y, 1)), 0)


def safe_pow(x: jax.Array, p: float) -> jax.Array:
  """``x ** p`` for ``x >= 0`` and ``0 < p``, with a finite gradient at ``x == 0``."""
  if p == 1:
    return x
  if p == 2:
    return x * x
  if p == 0.5:
    return safe_sqrt(x)
  pos = x > 0
  return jnp.where(pos, jnp.where(pos, x, 1) ** p, 0)


def abs2(z: jax.Array) -> jax.Array:
  """``|z|**2`` without a square root (smooth everywhere)."""
  if jnp.iscomplexobj(z):
    return z.real * z.real + z.imag * z.imag
  return z * z


def safe_abs(z: jax.Array) -> jax.Array:
  """``|z|`` for real or complex ``z`` with gradient 0 at ``z == 0``."""
  if jnp.iscomplexobj(z):
    return safe_sqrt(abs2(z))
  return jnp.abs(z)


def normalize_l1(S: jax.Array, axis: int = -1) -> jax.Array:
  """``S / sum(|S|, axis)``; columns whose sum is below ``tiny`` are left unscaled (librosa's
  ``util.normalize(norm=1, threshold=None)``, which maps silent frames to 0 instead of NaN)."""
  length = jnp.sum(jnp.abs(S), axis=axis, keepdims=True)
  tiny = jnp.finfo(S.dtype).tiny
  return S / jnp.where(length < tiny, 1, length)
