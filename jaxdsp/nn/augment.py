"""On-device data augmentation: jittable, keyed, batched; for ``fit(..., augment=...)``.

Each function takes a ``jax.random`` key and a batch and draws its randomness per example (mixup:
per batch) from that key only, so the same key gives the same result and the work runs on the
device inside the jitted training step, scaling with the batch at no host cost:

- ``spec_augment``: SpecAugment's frequency and time masks (and optional time warp) on
  spectrogram-like features ``(batch, ..., n_freq, n_frames)``;
- ``mixup``: convex combinations of example pairs and of their labels (one-hot), so the loss
  sees the mixed labels (``cross_entropy`` accepts class probabilities);
- ``random_gain``, ``time_shift``, ``add_noise``: gain in dB, circular or zero-filled shifts
  along time, white noise at a signal-to-noise ratio.

The classes ``SpecAugment``, ``Mixup``, ``RandomGain``, ``TimeShift``, ``AddNoise`` hold the
options and are callables ``aug(key, x, y) -> (x, y)``, the form ``fit`` takes; ``chain(...)``
applies several in turn with independent keys. ``fit`` keys them with
``fold_in(jax.random.key(seed), step)``: a run is reproducible from its seed; evaluation never
augments.

References:
  D. S. Park et al., "SpecAugment: A Simple Data Augmentation Method for Automatic Speech
  Recognition", Interspeech 2019. H. Zhang et al., "mixup: Beyond Empirical Risk
  Minimization", ICLR 2018. torchaudio.transforms.FrequencyMasking / TimeMasking (mask widths).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any, Callable

import jax
import jax.numpy as jnp

from jaxdsp import _checks

__all__ = ["AddNoise", "Mixup", "RandomGain", "SpecAugment", "TimeShift", "add_noise", "chain",
           "mixup", "random_gain", "spec_augment", "time_shift"]


def _key(key: Any) -> jax.Array:
  if isinstance(key, (int,)) or not hasattr(key, "dtype"):
    raise TypeError(f"key must be a jax.random key (jax.random.key(seed)), got {key!r}")
  return key


def _batch(x: Any, name: str, min_ndim: int) -> jax.Array:
  x = jnp.asarray(x)
  if not jnp.issubdtype(x.dtype, jnp.floating):
    raise TypeError(f"{name} must be floating point, got dtype {x.dtype}")
  if x.ndim < min_ndim:
    raise ValueError(f"{name} must have at least {min_ndim} dimensions (batch first), got shape "
                     f"{x.shape}")
  return x


def _masks(key: jax.Array, n_rows: int, size: int, width: float, count: int) -> jax.Array:
  """``(n_rows, size)`` booleans: per row the union of ``count`` masks, each
  ``[floor(s), floor(s + w))`` with ``w ~ U[0, width)``, ``s ~ U[0, size - w)`` (torchaudio's
  draw)."""
  if count == 0 or width == 0:
    return jnp.zeros((n_rows, size), bool)
  kw, ks = jax.random.split(key)
  w = jax.random.uniform(kw, (n_rows, count)) * width
  s = jax.random.uniform(ks, (n_rows, count)) * (size - w)
  lo, hi = jnp.floor(s), jnp.floor(s + w)
  i = jnp.arange(size)
  return jnp.any((i >= lo[..., None]) & (i < hi[..., None]), axis=1)


def _time_warp(key: jax.Array, x: jax.Array, w_max: int) -> jax.Array:
  """Per row of ``(rows, n_freq, n_frames)``: the frame ``c ~ U[W, T - W)`` moves to ``c + w``,
  ``w ~ U[-W, W]``, the two sides stretched linearly (linear interpolation along time)."""
  rows, _, t = x.shape
  kc, kw = jax.random.split(key)
  c = jax.random.uniform(kc, (rows, 1), minval=w_max, maxval=t - 1 - w_max)
  w = jax.random.uniform(kw, (rows, 1), minval=-w_max, maxval=w_max)
  dst = jnp.arange(t, dtype=x.dtype)[None, :]
  end = t - 1.0
  src = jnp.where(dst < c + w, dst * c / (c + w), c + (dst - c - w) * (end - c) / (end - c - w))
  src = jnp.clip(src, 0, end)
  i0 = jnp.clip(jnp.floor(src).astype(jnp.int32), 0, t - 2)
  frac = (src - i0)[:, None, :]
  g = lambda idx: jnp.take_along_axis(x, jnp.broadcast_to(idx[:, None, :], x.shape), axis=-1)
  return (1 - frac) * g(i0) + frac * g(i0 + 1)


def spec_augment(key: Any, x: Any, *, freq_mask: int = 8, time_mask: int = 16,
                 n_freq_masks: int = 2, n_time_masks: int = 2, time_warp: int = 0,
                 mask_value: Any = "mean") -> jax.Array:
  """SpecAugment: random frequency and time masks (and an optional time warp) per example.

  Each of ``n_freq_masks`` masks covers bins ``[floor(f0), floor(f0 + f))`` with
  ``f ~ U[0, freq_mask)`` and ``f0 ~ U[0, n_freq - f)`` (torchaudio's ``FrequencyMasking``
  draw, so a mask covers ``freq_mask / 2`` bins on average); time masks likewise with
  ``time_mask`` over frames. Masked entries become ``mask_value``.

  Args:
    key: a ``jax.random`` key.
    x: features ``(batch, ..., n_freq, n_frames)`` (log-mel in dB, or any spectrogram).
    freq_mask: largest frequency-mask width ``F`` (bins, 0 disables).
    time_mask: largest time-mask width ``T`` (frames, 0 disables).
    n_freq_masks: frequency masks per example.
    n_time_masks: time masks per example.
    time_warp: largest warp distance ``W`` in frames (0: no warp, the default); needs
      ``n_frames > 2·W + 1``.
    mask_value: ``"mean"`` (each example's mean, SpecAugment's choice; 0 after normalisation) or
      a number.

  Returns:
    Array of ``x``'s shape and dtype. Gradient: masked entries get zero gradient.

  Raises:
    ValueError: negative widths or counts, masks wider than the axis, a too large ``time_warp``,
      or ``x`` with fewer than 3 dimensions.

  Examples:
    >>> import jax, jax.numpy as jnp
    >>> x = jnp.ones((2, 16, 20))
    >>> y = spec_augment(jax.random.key(0), x, freq_mask=4, time_mask=5, mask_value=0.0)
    >>> y.shape, bool(jnp.all((y == 0) | (y == 1)))
    ((2, 16, 20), True)
  """
  key = _key(key)
  x = _batch(x, "x", 3)
  n_f, n_t = x.shape[-2:]
  freq_mask = _checks.nonnegative_int(freq_mask, "freq_mask")
  time_mask = _checks.nonnegative_int(time_mask, "time_mask")
  n_freq_masks = _checks.nonnegative_int(n_freq_masks, "n_freq_masks")
  n_time_masks = _checks.nonnegative_int(n_time_masks, "n_time_masks")
  time_warp = _checks.nonnegative_int(time_warp, "time_warp")
  if freq_mask > n_f:
    raise ValueError(f"freq_mask must be at most n_freq = {n_f}, got {freq_mask}")
  if time_mask > n_t:
    raise ValueError(f"time_mask must be at most n_frames = {n_t}, got {time_mask}")
  if time_warp and n_t <= 2 * time_warp + 1:
    raise ValueError(f"time_warp must be < (n_frames - 1) / 2 = {(n_t - 1) / 2}, got {time_warp}")
  if not (isinstance(mask_value, str) and mask_value == "mean"):
    if isinstance(mask_value, str):
      raise ValueError(f"mask_value must be 'mean' or a number, got {mask_value!r}")
    mask_value = float(mask_value)
  return _spec_augment(key, x, freq_mask, time_mask, n_freq_masks, n_time_masks, time_warp,
                       mask_value)


@functools.partial(jax.jit, static_argnums=(2, 3, 4, 5, 6, 7))
def _spec_augment(key, x, freq_mask, time_mask, n_freq_masks, n_time_masks, time_warp,
                  mask_value):
  n_f, n_t = x.shape[-2:]
  shape = x.shape
  flat = x.reshape(-1, n_f, n_t)
  rows = flat.shape[0]
  kw, kf, kt = jax.random.split(key, 3)
  if time_warp:
    flat = _time_warp(kw, flat, time_warp)
  fm = _masks(kf, rows, n_f, freq_mask, n_freq_masks)
  tm = _masks(kt, rows, n_t, time_mask, n_time_masks)
  mask = fm[:, :, None] | tm[:, None, :]
  value = (jnp.mean(flat, axis=(1, 2), keepdims=True) if isinstance(mask_value, str)
           else jnp.asarray(mask_value, flat.dtype))
  return jnp.where(mask, value, flat).astype(x.dtype).reshape(shape)


def mixup(key: Any, x: Any, y: Any, *, alpha: float = 0.2,
          n_classes: int | None = None) -> tuple[jax.Array, jax.Array]:
  """mixup: ``x' = λ·x + (1 - λ)·x[π]``, ``y' = λ·onehot(y) + (1 - λ)·onehot(y[π])``.

  One ``λ ~ Beta(alpha, alpha)`` per batch and one random permutation ``π`` of the batch (the
  paper's implementation). The mixed labels are class probabilities, which ``cross_entropy``
  takes (the loss of the mixed labels is ``λ·CE(y) + (1 - λ)·CE(y[π])``).

  Args:
    key: a ``jax.random`` key.
    x: inputs ``(batch, ...)``.
    y: integer labels ``(batch,)`` (then ``n_classes`` is required) or floating targets
      ``(batch, n_classes)`` (one-hot or probabilities).
    alpha: the Beta distribution's parameter (> 0).
    n_classes: number of classes for integer labels.

  Returns:
    ``(x', y')``: ``x``'s shape; ``y'`` floating ``(batch, n_classes)``.

  Raises:
    ValueError: a bad ``alpha``, or integer labels without ``n_classes``, or batch sizes that
      differ.

  Examples:
    >>> import jax, jax.numpy as jnp
    >>> xm, ym = mixup(jax.random.key(0), jnp.eye(4), jnp.arange(4), n_classes=4)
    >>> ym.shape, bool(jnp.allclose(ym.sum(-1), 1)), bool(jnp.allclose(xm, ym))
    ((4, 4), True, True)
  """
  key = _key(key)
  x = _batch(x, "x", 1)
  y = jnp.asarray(y)
  alpha = _checks.positive_number(alpha, "alpha")
  if y.ndim < 1 or y.shape[0] != x.shape[0]:
    raise ValueError(f"y must have x's batch size {x.shape[0]} first, got shape {y.shape}")
  if jnp.issubdtype(y.dtype, jnp.integer):
    if n_classes is None:
      raise ValueError("n_classes is required with integer labels")
    n_classes = _checks.positive_int(n_classes, "n_classes")
  elif jnp.issubdtype(y.dtype, jnp.floating):
    n_classes = None
  else:
    raise TypeError(f"y must be integer labels or floating targets, got dtype {y.dtype}")
  return _mixup(key, x, y, alpha, n_classes)


@functools.partial(jax.jit, static_argnums=(3, 4))
def _mixup(key, x, y, alpha, n_classes):
  if n_classes is not None:
    y = jax.nn.one_hot(y, n_classes, dtype=x.dtype)
  kl, kp = jax.random.split(key)
  lam = jax.random.beta(kl, alpha, alpha).astype(x.dtype)
  perm = jax.random.permutation(kp, x.shape[0])
  return lam * x + (1 - lam) * x[perm], (lam * y + (1 - lam) * y[perm]).astype(y.dtype)


def random_gain(key: Any, x: Any, *, min_db: float = -6.0, max_db: float = 6.0,
                db_input: bool = False) -> jax.Array:
  """A random gain ``g ~ U[min_db, max_db]`` dB per example.

  Args:
    key: a ``jax.random`` key.
    x: ``(batch, ...)``: waveforms (multiplied by ``10^(g/20)``) or, with ``db_input=True``,
      features in dB (``g`` added: a gain of ``g`` dB shifts ``power_to_db`` by ``g``).
    min_db: lowest gain in dB.
    max_db: highest gain in dB.
    db_input: whether ``x`` is in dB.

  Returns:
    Array of ``x``'s shape.

  Raises:
    ValueError: ``min_db > max_db`` or non-finite bounds.

  Examples:
    >>> import jax, jax.numpy as jnp
    >>> y = random_gain(jax.random.key(0), jnp.ones((3, 8)), min_db=6.0, max_db=6.0)
    >>> round(float(y[0, 0]), 4)  # 10 ** (6 / 20)
    1.9953
  """
  key = _key(key)
  x = _batch(x, "x", 1)
  lo, hi = _finite(min_db, "min_db"), _finite(max_db, "max_db")
  if lo > hi:
    raise ValueError(f"min_db must be <= max_db, got min_db={min_db}, max_db={max_db}")
  if not isinstance(db_input, bool):
    raise TypeError(f"db_input must be a bool, got {db_input!r}")
  return _random_gain(key, x, lo, hi, db_input)


@functools.partial(jax.jit, static_argnums=(2, 3, 4))
def _random_gain(key, x, lo, hi, db_input):
  g = jax.random.uniform(key, (x.shape[0],) + (1,) * (x.ndim - 1), x.dtype, lo, hi)
  return x + g if db_input else x * 10 ** (g / 20)


def _finite(v: Any, name: str) -> float:
  if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
    raise ValueError(f"{name} must be a finite number, got {v!r}")
  return float(v)


def time_shift(key: Any, x: Any, *, max_shift: int, mode: str = "roll") -> jax.Array:
  """Shifts each example along its last (time) axis by ``s ~ U{-max_shift, ..., max_shift}``.

  Args:
    key: a ``jax.random`` key.
    x: ``(batch, ..., n)`` (waveforms or features, time last).
    max_shift: largest shift in samples (frames).
    mode: ``"roll"`` (circular) or ``"zeros"`` (vacated samples are 0).

  Returns:
    Array of ``x``'s shape: ``out[..., t] = x[..., t - s]``.

  Raises:
    ValueError: negative ``max_shift`` or one not below ``n``; unknown ``mode``.

  Examples:
    >>> import jax, jax.numpy as jnp
    >>> y = time_shift(jax.random.key(1), jnp.arange(6.0)[None], max_shift=2)
    >>> sorted(y[0].tolist()) == list(range(6))
    True
  """
  key = _key(key)
  x = _batch(x, "x", 2)
  n = x.shape[-1]
  max_shift = _checks.nonnegative_int(max_shift, "max_shift")
  if max_shift >= n:
    raise ValueError(f"max_shift must be below the axis length {n}, got {max_shift}")
  _checks.choice(mode, "mode", ("roll", "zeros"))
  return _time_shift(key, x, max_shift, mode)


@functools.partial(jax.jit, static_argnums=(2, 3))
def _time_shift(key, x, max_shift, mode):
  n = x.shape[-1]
  s = jax.random.randint(key, (x.shape[0],), -max_shift, max_shift + 1)
  s = s.reshape((-1,) + (1,) * (x.ndim - 1))
  t = jnp.arange(n)
  src = t - s
  out = jnp.take_along_axis(x, jnp.broadcast_to(jnp.mod(src, n), x.shape), axis=-1)
  if mode == "zeros":
    out = jnp.where((src >= 0) & (src < n), out, 0)
  return out


def add_noise(key: Any, x: Any, *, snr_db: Any = (10.0, 30.0)) -> jax.Array:
  """Adds white Gaussian noise at a signal-to-noise ratio ``snr ~ U[lo, hi]`` dB per example.

  The noise is scaled so that ``mean(x²) / mean(noise²) = 10^(snr/10)`` per example (over all
  its non-batch axes); a silent example gets no noise.

  Args:
    key: a ``jax.random`` key.
    x: waveforms ``(batch, ...)``.
    snr_db: a number or a ``(lo, hi)`` range in dB.

  Returns:
    Array of ``x``'s shape.

  Raises:
    ValueError: a bad ``snr_db``.

  Examples:
    >>> import jax, jax.numpy as jnp
    >>> x = jnp.sin(jnp.arange(8000.0))[None]
    >>> y = add_noise(jax.random.key(0), x, snr_db=20.0)
    >>> round(float(10 * jnp.log10(jnp.mean(x ** 2) / jnp.mean((y - x) ** 2))), 1)
    20.0
  """
  key = _key(key)
  x = _batch(x, "x", 1)
  if isinstance(snr_db, (tuple, list)):
    if len(snr_db) != 2:
      raise ValueError(f"snr_db must be a number or a (lo, hi) pair, got {snr_db!r}")
    lo, hi = _finite(snr_db[0], "snr_db"), _finite(snr_db[1], "snr_db")
    if lo > hi:
      raise ValueError(f"snr_db must be (lo, hi) with lo <= hi, got {snr_db!r}")
  else:
    lo = hi = _finite(snr_db, "snr_db")
  return _add_noise(key, x, lo, hi)


@functools.partial(jax.jit, static_argnums=(2, 3))
def _add_noise(key, x, lo, hi):
  ks, kn = jax.random.split(key)
  axes = tuple(range(1, x.ndim))
  snr = jax.random.uniform(ks, (x.shape[0],) + (1,) * (x.ndim - 1), x.dtype, lo, hi)
  noise = jax.random.normal(kn, x.shape, x.dtype)
  p_noise = jnp.mean(noise ** 2, axis=axes, keepdims=True)
  p_x = jnp.mean(x ** 2, axis=axes, keepdims=True)
  return x + noise * jnp.sqrt(p_x / (p_noise * 10 ** (snr / 10)))


# ---------------------------------------------------------------------------------------------
# Callables for fit(..., augment=...).


@dataclasses.dataclass(frozen=True)
class SpecAugment:
  """``spec_augment`` as ``aug(key, x, y) -> (x', y)``; fields as its options."""
  freq_mask: int = 8
  time_mask: int = 16
  n_freq_masks: int = 2
  n_time_masks: int = 2
  time_warp: int = 0
  mask_value: Any = "mean"

  def __call__(self, key, x, y):
    return spec_augment(key, x, **dataclasses.asdict(self)), y


@dataclasses.dataclass(frozen=True)
class Mixup:
  """``mixup`` as ``aug(key, x, y) -> (x', y')`` (mixed labels are probabilities)."""
  n_classes: int | None = None
  alpha: float = 0.2

  def __call__(self, key, x, y):
    return mixup(key, x, y, alpha=self.alpha, n_classes=self.n_classes)


@dataclasses.dataclass(frozen=True)
class RandomGain:
  """``random_gain`` as ``aug(key, x, y) -> (x', y)``."""
  min_db: float = -6.0
  max_db: float = 6.0
  db_input: bool = False

  def __call__(self, key, x, y):
    return random_gain(key, x, **dataclasses.asdict(self)), y


@dataclasses.dataclass(frozen=True)
class TimeShift:
  """``time_shift`` as ``aug(key, x, y) -> (x', y)``."""
  max_shift: int = 0
  mode: str = "roll"

  def __call__(self, key, x, y):
    return time_shift(key, x, **dataclasses.asdict(self)), y


@dataclasses.dataclass(frozen=True)
class AddNoise:
  """``add_noise`` as ``aug(key, x, y) -> (x', y)``."""
  snr_db: Any = (10.0, 30.0)

  def __call__(self, key, x, y):
    return add_noise(key, x, snr_db=self.snr_db), y


@dataclasses.dataclass(frozen=True)
class _Chain:
  steps: tuple

  def __call__(self, key, x, y):
    for k, step in zip(jax.random.split(key, len(self.steps)), self.steps):
      x, y = step(k, x, y)
    return x, y


def chain(*steps: Callable) -> Callable:
  """Applies augmentations ``aug(key, x, y) -> (x, y)`` in turn, each with its own key.

  Returns:
    A callable ``(key, x, y) -> (x, y)`` for ``fit(..., augment=...)`` (hashable when the steps
    are, so the jitted step is reused).

  Raises:
    TypeError: a step that is not callable.

  Examples:
    >>> import jax, jax.numpy as jnp
    >>> aug = chain(SpecAugment(freq_mask=2, time_mask=2), Mixup(n_classes=3))
    >>> x, y = aug(jax.random.key(0), jnp.ones((4, 8, 10)), jnp.array([0, 1, 2, 0]))
    >>> x.shape, y.shape
    ((4, 8, 10), (4, 3))
  """
  for s in steps:
    if not callable(s):
      raise TypeError(f"steps must be callables (key, x, y) -> (x, y), got {s!r}")
  return _Chain(tuple(steps))
