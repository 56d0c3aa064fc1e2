"""Feature dynamics: Savitzky–Golay deltas and time-delay stacking.

Layout: features are ``(..., n_features, n_frames)`` (time last, any leading axes); ``delta`` works
along ``axis`` (default -1). The Savitzky–Golay coefficients, including the polynomial edge fits of
``mode="interp"``, are built in NumPy float64 from the static ``width``/``order``; the filter is a
sum of ``width`` shifted slices, linear in the data and therefore differentiable. Names, arguments
and results follow librosa 0.11 (``delta`` is ``scipy.signal.savgol_filter`` with
``polyorder = deriv = order``).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from jaxdsp import _checks

_MODES = ("interp", "mirror", "constant", "nearest", "wrap")
_PAD = {"mirror": "reflect", "constant": "constant", "nearest": "edge", "wrap": "wrap"}


@functools.lru_cache(maxsize=64)
def _savgol(width: int, polyorder: int, deriv: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """``(centre, left, right)``: the centre weights (``y[n] = Σ_k w[k]·x[n + k - half]``) and the
  ``(half, width)`` edge maps of ``mode="interp"`` (derivative of the polynomial fitted to the first
  / last ``width`` samples, evaluated at the first / last ``half`` positions)."""
  half = width // 2
  powers = np.arange(polyorder + 1)

  def derivative_rows(positions):
    # d^deriv/dx^deriv of x^p at the positions: p!/(p - deriv)! · x^(p - deriv)
    rows = np.zeros((len(positions), polyorder + 1))
    for p in powers[powers >= deriv]:
      rows[:, p] = math.factorial(p) / math.factorial(p - deriv) * positions.astype(float) ** (p - deriv)
    return rows

  k = np.arange(width) - half
  centre = (derivative_rows(np.zeros(1)) @ np.linalg.pinv(k[:, None].astype(float) ** powers))[0]
  grid = np.arange(width).astype(float)
  fit = np.linalg.pinv(grid[:, None] ** powers)
  left = derivative_rows(np.arange(half)) @ fit
  right = derivative_rows(np.arange(width - half, width)) @ fit
  return centre, left, right


def delta(data: ArrayLike, *, width: int = 9, order: int = 1, axis: int = -1, mode: str = "interp",
          **kwargs: Any) -> jax.Array:
  """Delta features: the ``order``-th derivative of a local Savitzky–Golay polynomial fit.

  ``delta[n] = Σ_k w[k] · data[n + k - width // 2]`` along ``axis``, ``w`` the least-squares
  derivative weights of a degree-``polyorder`` polynomial (``polyorder = order`` unless given) over
  ``width`` points. Edges: ``"interp"`` (default) fits the polynomial to the first/last ``width``
  points; ``"mirror"``, ``"constant"`` (``cval``, default 0), ``"nearest"`` and ``"wrap"`` pad the
  data (scipy.ndimage's modes). Linear in ``data``: exact gradients.

  Args:
    data: ``(..., n_frames)`` features (any shape; frames along ``axis``).
    width: odd window length >= 3 (static); with ``"interp"`` at most ``data.shape[axis]``.
    order: derivative order, a positive int.
    axis: the frame axis.
    mode: edge mode, see above.
    **kwargs: ``polyorder`` (int >= order, < width) and ``cval`` (``"constant"`` fill), as scipy.

  Returns:
    ``data``'s shape.

  Raises:
    ValueError: bad ``width``/``order``/``mode``/``axis``/``polyorder``, empty or non-finite host ``data``.
    TypeError: non-floating ``data`` (integers: convert first), unknown keyword arguments.

  Examples:
    >>> import jaxdsp as jd
    >>> [round(v, 3) for v in jd.delta(jnp.arange(10.0) ** 2, width=5, order=1).tolist()[:5]]
    [4.0, 4.0, 4.0, 6.0, 8.0]

  Compare ``librosa.feature.delta``.
  """
  data = _checks.as_signal(data, "data", min_ndim=0)  # floating, finite (host input), non-empty
  if data.ndim == 0:
    data = data[None]
  if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width < 3 or width % 2 != 1:
    raise ValueError(f"width must be an odd int >= 3, got {width!r}")
  if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 1:
    raise ValueError(f"order must be a positive int, got {order!r}")
  mode = _checks.choice(mode, "mode", _MODES)
  if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or not -data.ndim <= axis < data.ndim:
    raise ValueError(f"axis must be an int in [-{data.ndim}, {data.ndim}), got {axis!r}")
  kwargs.pop("deriv", None)
  polyorder = kwargs.pop("polyorder", order)
  cval = kwargs.pop("cval", 0.0)
  if kwargs:
    raise TypeError(f"delta got unexpected keyword arguments {sorted(kwargs)} (allowed: polyorder, cval)")
  if isinstance(polyorder, bool) or not isinstance(polyorder, (int, np.integer)) or not order <= polyorder < width:
    raise ValueError(f"polyorder must be an int with order <= polyorder < width, got {polyorder!r}")
  n = data.shape[axis]
  if mode == "interp" and width > n:
    raise ValueError(f"width={width} must not exceed data.shape[axis]={n} when mode='interp'")
  centre, left, right = _savgol(int(width), int(polyorder), int(order))
  x = jnp.moveaxis(data, axis, -1)
  half = width // 2
  w = centre.astype(np.dtype(x.dtype))
  taps = [k for k in range(width) if w[k] != 0]
  if mode == "interp":
    # The centred stencil over the frames it fits (shifted slices of x, one fused pass), zero-padded to
    # n and the polynomial edge fits written over the first/last `half` frames in place: 2.5x faster on
    # XLA:CPU than summing over a padded copy and concatenating the edges (benchmarks/bench_helpers.py).
    m = n - 2 * half
    mid = sum(float(w[k]) * x[..., k:k + m] for k in taps) if taps else jnp.zeros_like(x[..., :m])
    prec = jax.lax.Precision.HIGHEST
    head = jnp.einsum("hw,...w->...h", jnp.asarray(left, x.dtype), x[..., :width], precision=prec)
    tail = jnp.einsum("hw,...w->...h", jnp.asarray(right, x.dtype), x[..., n - width:], precision=prec)
    out = jnp.pad(mid, [(0, 0)] * (x.ndim - 1) + [(half, half)])
    out = out.at[..., :half].set(head).at[..., n - half:].set(tail)
  else:
    extra = {"constant_values": cval} if mode == "constant" else {}
    padded = jnp.pad(x, [(0, 0)] * (x.ndim - 1) + [(half, half)], mode=_PAD[mode], **extra)
    out = sum(float(w[k]) * padded[..., k:k + n] for k in taps) if taps else jnp.zeros_like(x)
  return jnp.moveaxis(out.astype(x.dtype), -1, axis)


def stack_memory(data: ArrayLike, *, n_steps: int = 2, delay: int = 1, **kwargs: Any) -> jax.Array:
  """Time-delay embedding: stacks ``n_steps`` copies of ``data``, each delayed ``delay`` more frames.

  ``out[..., s·d + i, t] = data[..., i, t - s·delay]`` for ``s < n_steps`` (``d`` features), frames
  before the start (after the end, for negative ``delay``) taken from ``jnp.pad`` with ``kwargs``
  (``mode="constant"``, zeros, by default). Linear: exact gradients.

  Args:
    data: ``(..., n_features, n_frames)``; a 1-D ``(n_frames,)`` input is one feature.
    n_steps: number of copies, a positive int.
    delay: frames between copies, a non-zero int (negative: look ahead).
    **kwargs: passed to ``jnp.pad`` (e.g. ``mode="edge"``).

  Returns:
    ``(..., n_features · n_steps, n_frames)``.

  Raises:
    ValueError: bad ``n_steps``/``delay`` (or an output or padding beyond 2**31 - 1 elements), empty or
      non-finite host ``data``.
    TypeError: non-numeric ``data``.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.stack_memory(jnp.arange(4.0), n_steps=2).tolist()
    [[0.0, 1.0, 2.0, 3.0], [0.0, 0.0, 1.0, 2.0]]

  Compare ``librosa.feature.stack_memory``.
  """
  data = _checks.as_signal(data, "data", min_ndim=0, allow_int=True, allow_complex=True)
  if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 1:
    raise ValueError(f"n_steps must be a positive int, got {n_steps!r}")
  if isinstance(delay, bool) or not isinstance(delay, (int, np.integer)) or delay == 0:
    raise ValueError(f"delay must be a non-zero int, got {delay!r}")
  if data.ndim < 2:
    data = jnp.atleast_2d(data)
  t = data.shape[-1]
  if t < 1:
    raise ValueError(f"data must have at least one frame, got shape {data.shape}")
  if data.size // t * max(n_steps * t, t + (n_steps - 1) * abs(delay)) > _checks.INT32_MAX:
    raise ValueError(f"n_steps={n_steps} and delay={delay} are too large: the output or its padding would exceed "
                     f"2**31 - 1 elements (JAX indexes with int32)")
  kwargs.setdefault("mode", "constant")
  shift = (n_steps - 1) * abs(delay)
  widths = [(0, 0)] * (data.ndim - 1) + [(shift, 0) if delay > 0 else (0, shift)]
  padded = jnp.pad(data, widths, **kwargs)
  steps = []
  for step in range(n_steps):
    if delay > 0:
      start = (n_steps - 1 - step) * delay
    else:
      start = step * -delay
    steps.append(padded[..., start:start + t])
  return jnp.concatenate(steps, axis=-2)
