"""The framed reducers of the core: one implementation of each formula, for both layouts.

A spectral reducer takes a spectrum with its frequency axis at ``axis``: ``-2`` for the public
layout ``(..., n_freq, n_frames)`` (a spectrogram ``S`` given by the user, read as it is, without a
transpose) or ``-1`` for the frequency-last chunks of the fused STFT pipeline
(``(c, n_frames, n_freq)``). Either way it returns the frame axis last. Time-domain reducers take
the signal. Arguments are assumed checked (see :mod:`jaxdsp._core.registry`).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from jaxdsp import _ops
from jaxdsp._core import chunking
from jaxdsp._core import filters
from jaxdsp._core import framing


def _per_bin(v: jax.Array, axis: int) -> jax.Array:
  """A ``(n_freq,)`` vector (or a ``(n_freq, n_frames)`` grid) broadcastable against the spectrum."""
  return v[:, None] if axis == -2 and v.ndim == 1 else v


def _per_frame(v: jax.Array, axis: int) -> jax.Array:
  """A ``(..., n_frames)`` per-frame value broadcastable against the spectrum."""
  return jnp.expand_dims(v, axis)


def freq_sum(x: jax.Array, axis: int) -> jax.Array:
  """``jnp.sum(x, axis)`` of an expression over the frequency axis.

  On the CPU layout, a sum over axis -2 (the public layout, frames minor) of an expression of more
  than one or two element-wise operations takes XLA:CPU's slow reduction loop (``(S * S * f).sum(-2)``
  about 9× the time of ``S.sum(-2)``); pairwise sums of halves, element-wise fusions, cost about
  5× ``S.sum(-2)`` whatever the expression. Elsewhere (frequency last, accelerators) a plain sum."""
  if axis != -2 or not chunking.cpu_path():
    return jnp.sum(x, axis=axis)
  n, extra = x.shape[axis], None
  while n > 1:
    half = n // 2
    if n % 2:
      last = jax.lax.slice_in_dim(x, n - 1, n, axis=axis)
      extra = last if extra is None else extra + last
    x = jax.lax.slice_in_dim(x, 0, half, axis=axis) + jax.lax.slice_in_dim(x, half, 2 * half, axis=axis)
    n = half
  return jnp.squeeze(x if extra is None else x + extra, axis)


def bin_sums(S: jax.Array, vectors: list, axis: int) -> list:
  """``[Σ_f v[f] · S[..., f, t] for v in vectors]`` (per-bin vectors ``(n_freq,)``), each
  ``(..., n_frames)``.

  In the public layout on CPU (``axis == -2``) all the sums come from one batched matrix product
  ``(k × n_freq) · (n_freq × n_frames)`` per spectrogram, which reads ``S`` once, where separate
  element-wise reductions read it once per sum (about 1.8× faster for the bandwidth's three sums).
  HIGHEST keeps float32 sums.
  """
  if axis != -2 or not chunking.cpu_path():
    return [jnp.sum(S * _per_bin(v, axis), axis=axis) for v in vectors]
  rows = per_spectrogram_product(jnp.stack(vectors).astype(S.dtype), S)
  return [rows[..., i, :] for i in range(len(vectors))]


def per_spectrogram_product(M: jax.Array, S: jax.Array) -> jax.Array:
  """``M · S[i]`` for every spectrogram ``S[i]`` of ``S`` ``(..., n, t)``, ``M`` ``(k, n)``: ``(..., k, t)``.

  One batched product with ``M`` broadcast over the batch, contracting ``n`` where it lies: an
  einsum transposed the batch in and out (2.3× slower on XLA:CPU), a ``lax.map`` over the
  spectrograms measured ~10 % slower. HIGHEST keeps float32 sums (no TF32).
  """
  flat = S.reshape((-1,) + S.shape[-2:])
  rows = jax.lax.dot_general(jnp.broadcast_to(M, flat.shape[:1] + M.shape), flat,
                             (((2,), (1,)), ((0,), (0,))), precision=jax.lax.Precision.HIGHEST)
  return rows.reshape(S.shape[:-2] + rows.shape[-2:])


def _safe_divide(num: jax.Array, total: jax.Array) -> jax.Array:
  return num / jnp.where(total < jnp.finfo(total.dtype).tiny, 1, total)


# ---------------------------------------------------------------------------------------------
# Spectral shape.


def centroid(S: jax.Array, freq: jax.Array, axis: int) -> jax.Array:
  """``Σ_f freq[f] · S[f, t] / Σ_f S[f, t]`` (0 for silent frames).

  Frequency last (the pipeline's chunks), both sums run as one ``(n_freq, 2)`` matrix product: on
  XLA:CPU the element-wise form broadcast ``freq`` over the chunk and reduced it twice. HIGHEST
  keeps float32 sums where accelerators would round to TF32/bf16. In the public layout both sums
  come from :func:`bin_sums` (one batched product per spectrogram on CPU).
  """
  if axis == -1 and freq.ndim == 1:
    ones_freq = jnp.stack([jnp.ones_like(freq), freq], axis=-1)
    sums = jnp.einsum("...f,fk->...k", S, ones_freq, precision=jax.lax.Precision.HIGHEST)
    return _safe_divide(sums[..., 1], sums[..., 0])
  if freq.ndim == 1:
    total, first = bin_sums(S, [jnp.ones_like(freq), freq], axis)
    return _safe_divide(first, total)
  return _safe_divide(jnp.sum(S * _per_bin(freq, axis), axis=axis), jnp.sum(S, axis=axis))


def bandwidth(S: jax.Array, freq: jax.Array, centre: jax.Array, p: float, norm: bool, axis: int) -> jax.Array:
  """``(Σ_f S'[f, t] · |freq[f] - centre[t]|^p)^(1/p)``, ``S'`` normalised to sum 1 per frame when
  ``norm``.

  In the public layout with ``p == 2`` the moment is expanded,
  ``Σ S (f - c)² = Σ f²S - 2c Σ fS + c² Σ S``: three sums of ``S`` against per-bin constants, all
  from one read of ``S`` (:func:`bin_sums`), where ``(f - c[t])²`` broadcast over frames measured
  4× slower. The expansion cancels when the bandwidth is far below the centroid: measured ≤ 5e-6
  relative to librosa on speech, music and noise, 7e-3 on a pure chirp (float32; the
  frequency-last pipeline and accelerators keep the direct form).
  """
  if axis == -2 and p == 2.0 and chunking.cpu_path():
    if freq.ndim == 1:
      total, first, second = bin_sums(S, [jnp.ones_like(freq), freq, freq * freq], axis)
    else:
      f = _per_bin(freq, axis)
      total, first, second = jnp.sum(S, axis=axis), jnp.sum(S * f, axis=axis), jnp.sum(S * (f * f), axis=axis)
    moment = jnp.maximum(second - 2 * centre * first + centre * centre * total, 0)
    if norm:
      moment = _safe_divide(moment, total)
    return _ops.safe_sqrt(moment)
  deviation = _ops.safe_pow(jnp.abs(_per_bin(freq, axis) - _per_frame(centre, axis)), p)
  moment = freq_sum(S * deviation, axis)
  if norm:
    moment = _safe_divide(moment, jnp.sum(S, axis=axis))
  return _ops.safe_pow(moment, 1.0 / p)


def rolloff_block(n_freq: int) -> int:
  """Bins per block of :func:`rolloff`: a divisor of ``n_freq`` in [16, 64], the nearest to 32 (the
  blocks are then a reshape, not a padded copy: 1025 bins -> 41 blocks of 25), else 32."""
  divisors = [b for b in range(16, 65) if n_freq % b == 0]
  return min(divisors, key=lambda b: (abs(b - 32), b)) if divisors else 32


def _prefix_count(x: jax.Array, start: jax.Array, threshold: jax.Array, axis: int):
  """For a short ``axis`` (unrolled): how many of the running sums ``start + x_0 + ... + x_i`` are
  below ``threshold``, and the final sum. One element-wise fusion over the other axes, where
  ``jnp.cumsum`` ran as a quadratic reduce-window on XLA:CPU."""
  acc, count = start, 0
  for i in range(x.shape[axis]):
    acc = acc + jax.lax.index_in_dim(x, i, axis, keepdims=False)
    count = count + (acc < threshold).astype(jnp.int32)
  return count, acc


def _prefix_sum_before(x: jax.Array, k: jax.Array, axis: int) -> jax.Array:
  """``x_0 + ... + x_(k-1)`` along a short ``axis`` (unrolled, summed in the order of
  :func:`_prefix_count`, so it equals that running sum bit for bit)."""
  acc = jnp.zeros_like(jax.lax.index_in_dim(x, 0, axis, keepdims=False))
  for i in range(x.shape[axis]):
    acc = jnp.where(i < k, acc + jax.lax.index_in_dim(x, i, axis, keepdims=False), acc)
  return acc


_UNROLLED_BLOCKS = 128  # longer block axes take jnp.cumsum


def rolloff(S: jax.Array, freq: jax.Array, roll_percent: float, axis: int) -> jax.Array:
  """The lowest bin frequency at which the cumulative sum of ``S`` reaches ``roll_percent`` of the
  frame's total, found coarse-to-fine.

  A full ``cumsum`` over 1025 bins is slow on XLA:CPU, so the cumulative sum runs over blocks of
  about 32 bins (:func:`rolloff_block`), then within the one block that crosses the threshold.
  Since ``S >= 0`` the cumulative sum is monotone and the first bin reaching the threshold is the
  number of bins below it. Both running sums are unrolled sequential sums (:func:`_prefix_count`).
  """
  n_freq = S.shape[axis]
  B = rolloff_block(n_freq)
  n_blocks = -(-n_freq // B)
  widths = [(0, 0)] * S.ndim
  widths[axis] = (0, n_blocks * B - n_freq)
  padded = jnp.pad(S, widths)
  if axis == -1:  # (..., t, blocks, B)
    blocks = padded.reshape(*S.shape[:-1], n_blocks, B)
  else:           # (..., blocks, B, t)
    blocks = padded.reshape(*S.shape[:-2], n_blocks, B, S.shape[-1])
  inner = axis                     # the within-block axis of `blocks`
  block_sums = jnp.sum(blocks, axis=inner)                                 # blocks at `axis`
  if n_blocks <= _UNROLLED_BLOCKS:
    zero = jnp.zeros_like(jax.lax.index_in_dim(block_sums, 0, axis, keepdims=False))
    _, total = _prefix_count(block_sums, zero, zero, axis)
    threshold = roll_percent * total
    count, _ = _prefix_count(block_sums, zero, threshold, axis)
    k = jnp.minimum(count, n_blocks - 1)                                   # (..., t): crossing block
    before = _prefix_sum_before(block_sums, k, axis)
  else:
    block_cum = jnp.cumsum(block_sums, axis=axis)
    threshold = roll_percent * jax.lax.index_in_dim(block_cum, n_blocks - 1, axis=axis, keepdims=False)
    k = jnp.minimum(jnp.sum(block_cum < _per_frame(threshold, axis), axis=axis), n_blocks - 1)
    prev = _per_frame(jnp.maximum(k - 1, 0), axis)
    before = jnp.where(k > 0, jnp.squeeze(jnp.take_along_axis(block_cum, prev, axis=axis), axis), 0)
  block_axis = axis - 1
  inside = jnp.take_along_axis(blocks, jnp.expand_dims(_per_frame(k, axis), block_axis), axis=block_axis)
  inside = jnp.squeeze(inside, block_axis)                                # (..., B) at `axis`
  count, _ = _prefix_count(inside, before, threshold, axis)
  j = jnp.minimum(count, B - 1)
  idx = jnp.minimum(k * B + j, n_freq - 1)
  if freq.ndim == 1:
    return jnp.take(freq, idx)
  grid = jnp.broadcast_to(freq, S.shape)  # per-frame frequencies (public layout only)
  return jnp.squeeze(jnp.take_along_axis(grid, _per_frame(idx, axis), axis=axis), axis)


def _apart(*xs):
  """``xs`` unchanged, but opaque to XLA's common-subexpression elimination
  (``lax.optimization_barrier``): an expression of the result is not merged with the same
  expression of ``xs``. On XLA:CPU a reduction over axis -2 of an element-wise expression of ``S``
  runs as one read of ``S`` only while no other computation uses that expression; a shared one is
  written out in full and read back (2-5× slower)."""
  return jax.lax.optimization_barrier(xs)


_SPECTRA_CHUNK_BYTES = 3 * 2**20  # spectra per lax.map step of the S-path reducers: about L2-sized


def per_spectra(fn, S: jax.Array) -> jax.Array:
  """``fn`` (``(c, n_freq, n_frames) -> (c, ..., n_frames)``, spectra independent) over a batch
  of spectra in the public layout, a few whole spectra per ``lax.map`` step on the CPU layout.

  On XLA:CPU a reduction over axis -2 of an element-wise expression (anything but ``S`` itself,
  ``S * S`` or ``S`` times a per-bin vector) has its expression written out and read back: from
  DRAM for a whole batch, from cache for a chunk of about 3 MB (``spectral_flatness`` of
  256 × 513 × 173: 3.5× faster in chunks of 8). A batch that gives no chunk of at least 2 spectra
  (a divisor of the batch size), and accelerators, take ``fn`` whole."""
  lead = S.shape[:-2]
  rows = int(np.prod(lead))
  per = max(1, _SPECTRA_CHUNK_BYTES // max(1, S.shape[-2] * S.shape[-1] * S.dtype.itemsize))
  chunk = max((c for c in range(1, min(per, rows) + 1) if rows % c == 0), default=1)
  if not chunking.cpu_path() or chunk < 2 or chunk == rows:
    return fn(S)
  out = jax.lax.map(fn, S.reshape((rows // chunk, chunk) + S.shape[-2:]))
  return out.reshape(lead + out.shape[2:])


def flatness(S: jax.Array, amin: float, power: float, axis: int) -> jax.Array:
  """``exp(mean_f log P) / mean_f P`` with ``P = max(amin, S^power)``.

  In the public layout on CPU a batch runs a few spectra at a time (:func:`per_spectra`): the
  logarithms of a whole batch were written to memory and read back (31× the time of
  ``S.sum(-2)``)."""
  n = S.shape[axis]

  def reduce(S):
    P = jnp.maximum(amin, _ops.safe_pow(S, power))
    return jnp.exp(jnp.sum(jnp.log(P), axis=axis) / n) / (jnp.sum(P, axis=axis) / n)

  return per_spectra(reduce, S) if axis == -2 else reduce(S)


def rms_of_spectrum(S: jax.Array, frame_length: int, axis: int) -> jax.Array:
  """RMS by Parseval, as librosa: ``sqrt(2 Σ_f w[f] |S[f, t]|² / frame_length²)`` with the DC (and,
  for even ``frame_length``, the Nyquist) bin weighted ½."""
  if axis == -2:
    # Σ |S|² minus half the end bins, the ends computed apart: the sum is then one plain read of S
    # (a per-bin weight broadcast over frames measured 5× slower on XLA:CPU).
    (ends,) = _apart(S[..., :: max(1, S.shape[-2] - 1), :])  # rows 0 and n_freq - 1
    ends = _ops.abs2(ends)
    half = ends[..., 0, :] + (ends[..., -1, :] if frame_length % 2 == 0 and S.shape[-2] > 1 else 0)
    energy = jnp.sum(_ops.abs2(S), axis=-2) - 0.5 * half
    return _ops.safe_sqrt(jnp.maximum(2 * energy, 0) / frame_length**2)
  x = _ops.abs2(S)
  weights = np.ones(S.shape[axis])
  weights[0] = 0.5
  if frame_length % 2 == 0:
    weights[-1] = 0.5
  power = 2 * freq_sum(x * _per_bin(jnp.asarray(weights, x.dtype), axis), axis) / frame_length**2
  return _ops.safe_sqrt(power)


def to_public(S: jax.Array, axis: int) -> jax.Array:
  """A spectrum in the public layout ``(..., n_freq, n_frames)``."""
  return jnp.swapaxes(S, -1, -2) if axis == -1 else S


# ---------------------------------------------------------------------------------------------
# Mel, decibels, cepstrum.


def mel(S: jax.Array, fb: jax.Array, bands: tuple, axis: int) -> jax.Array:
  """``fb · S`` -> ``(..., n_mels, n_frames)``.

  With ``bands`` (:func:`jaxdsp._core.filters.bands` of ``fb``) on the CPU layout, each group of
  filters multiplies only the bins where it is nonzero (the same sums; 2× faster for 64 filters of
  1025 bins). Accelerators, whose matrix units favour one dense product, take it dense. HIGHEST
  keeps float32 sums (no TF32)."""
  fb = fb.astype(S.dtype)
  product = functools.partial(jnp.einsum, "...tf,mf->...mt" if axis == -1 else "...ft,mf->...mt",
                              precision=jax.lax.Precision.HIGHEST)
  if not (bands and chunking.cpu_path()):
    return product(S, fb)
  if axis == -2 and S.ndim > 2:
    # One spectrogram per lax.map step: each group is then a plain matrix product (filters × bins)
    # · (bins × frames), where the batched product over a non-minor bin axis needed transposes
    # (about 2× slower on XLA:CPU).
    rows = jax.lax.map(lambda s: mel(s, fb, bands, axis), S.reshape((-1,) + S.shape[-2:]))
    return rows.reshape(S.shape[:-2] + rows.shape[-2:])
  take = lambda f0, f1: jax.lax.slice_in_dim(S, f0, f1, axis=axis)  # noqa: E731
  return jnp.concatenate([product(take(f0, f1), fb[m0:m1, f0:f1]) for m0, m1, f0, f1 in bands], axis=-2)


def db(S: jax.Array, *, amin: float, top_db: float | None, ref: jax.Array | float = 1.0, axes=(-2, -1),
       n_valid: jax.Array | None = None) -> jax.Array:
  """``10 log10(max(amin, S)) - 10 log10(max(amin, ref))`` clipped to ``top_db`` below each
  example's peak over ``axes``; with ``n_valid`` (``(batch,)`` frame counts) the peak is taken over
  each row's first ``n_valid`` frames only."""
  log_spec = 10.0 * jnp.log10(jnp.maximum(amin, S)) - 10.0 * jnp.log10(jnp.maximum(amin, ref))
  if top_db is None:
    return log_spec
  masked = log_spec if n_valid is None else mask_frames(log_spec, n_valid, -jnp.inf)
  peak = jnp.max(masked, axis=axes, keepdims=True)
  return jnp.maximum(log_spec, peak - top_db)


def mask_frames(x: jax.Array, n_valid: jax.Array, fill: float) -> jax.Array:
  """``x`` (B, ..., T) with the frames at or beyond each row's ``n_valid`` set to ``fill``."""
  keep = jnp.arange(x.shape[-1]) < n_valid.reshape((-1,) + (1,) * (x.ndim - 1))
  return jnp.where(keep, x, jnp.asarray(fill, x.dtype))


def cepstrum(S_db: jax.Array, n_mfcc: int, lifter: float, norm: str | None = "ortho") -> jax.Array:
  """DCT-II over the mel axis (-2) of a dB mel spectrogram, first ``n_mfcc`` coefficients, each
  scaled by ``1 + (lifter / 2)·sin(π(k + 1) / lifter)`` when ``lifter > 0``."""
  basis = filters.dct_np(n_mfcc, S_db.shape[-2], norm)
  if lifter > 0:
    basis = basis * (1 + (lifter / 2) * np.sin(np.pi * np.arange(1, n_mfcc + 1) / lifter))[:, None]
  basis = jnp.asarray(basis, S_db.dtype)
  if S_db.ndim > 2 and chunking.cpu_path():
    return per_spectrogram_product(basis, S_db)  # (n_mfcc × n_mels) · (n_mels × n_frames) per spectrogram
  return jnp.einsum("km,...mt->...kt", basis, S_db)


# ---------------------------------------------------------------------------------------------
# Time domain: whole signals (their framing is framing.frame_reduce or the chunked ZCR).


def envelope(y: jax.Array, frame_length: int, hop_length: int, center: bool, pad_mode: str) -> jax.Array:
  """``max_k y[t·hop + k]`` per frame."""
  return framing.frame_reduce(y, frame_length, hop_length, center, pad_mode, "max")


def rms(y: jax.Array, frame_length: int, hop_length: int, center: bool, pad_mode: str) -> jax.Array:
  """``sqrt(mean_k y[t·hop + k]²)`` per frame."""
  energy = framing.frame_reduce(y * y, frame_length, hop_length, center, pad_mode, "sum")
  return _ops.safe_sqrt(energy / frame_length)


def signs(x: jax.Array, threshold: float) -> jax.Array:
  """``signbit`` after zeroing ``|x| <= threshold`` (librosa's ``zero_pos=True``)."""
  return jnp.where(jnp.abs(x) <= threshold, False, jnp.signbit(x))


def _zcr_segments(segments: jax.Array, frame_length: int, hop_length: int, threshold: float) -> jax.Array:
  """ZCR of the frames of padded segments: crossings between consecutive samples, summed per frame
  by block sums (the pair straddling a frame start belongs to the previous frame only)."""
  s = signs(segments, threshold)
  c = jnp.concatenate([jnp.zeros_like(s[..., :1]), s[..., 1:] != s[..., :-1]], axis=-1).astype(segments.dtype)
  count = framing.frame_reduce(c, frame_length, hop_length, False, "constant", "sum")
  starts = c[..., : (count.shape[-1] - 1) * hop_length + 1 : hop_length]
  return (count - starts) / frame_length


def zcr(y: jax.Array, frame_length: int, hop_length: int, center: bool, pad_mode: str,
        threshold: float) -> jax.Array:
  """The fraction of sample pairs in each frame whose signs differ.

  Chunked only when the signal is padded. O(n) work: chunks pay off by keeping the padded copy in
  cache, but on XLA:CPU the block reduction of an unpadded chunk, a slice of the loop-invariant
  signal, ran 10× slower than on the whole batch.
  """
  padded = any(framing.pad_widths(y.shape[-1], frame_length, hop_length, center, pad_mode))
  return chunking.map_frames(lambda seg: _zcr_segments(seg, frame_length, hop_length, threshold), y,
                             frame_length, hop_length, center, pad_mode, chunk_frames=-1 if padded else None)


# ---------------------------------------------------------------------------------------------
# Spectral contrast, polynomial fits, onset flux, chroma.


def _top_means_rows(x: jax.Array, k: int) -> tuple[jax.Array, jax.Array]:
  """Means of the ``k`` largest and of the ``k`` smallest of ``x`` ``(..., n, n_frames)`` along
  axis -2, by insertion into sorted lists (exact, ties included; differentiable through max/min).

  One ``fori_loop`` step per bin: with ``top`` the descending list (``top[-1] = +inf``), a value
  ``v`` enters as ``top'[j] = max(top[j], min(top[j - 1], v))`` — every entry from two old ones, so
  the whole ``(2, k, ..., n_frames)`` state (peaks, and valleys on ``-x``) is one element-wise pass
  with the frames as contiguous lanes, read in place (no transpose). On CPU it beats ``top_k`` on the
  transposed band, whose transpose alone costs as much as the insertion (``benchmarks/bench_helpers.py``)."""
  lanes = x.shape[:-2] + x.shape[-1:]
  sign = jnp.asarray([1, -1], x.dtype).reshape((2, 1) + (1,) * len(lanes))
  cap = jnp.full((2, 1) + lanes, jnp.inf, x.dtype)

  def insert(i, top):
    v = sign * jax.lax.dynamic_index_in_dim(x, i, axis=-2, keepdims=False)[None, None]
    return jnp.maximum(top, jnp.minimum(jnp.concatenate([cap, top[:, :-1]], axis=1), v))

  top = jax.lax.fori_loop(0, x.shape[-2], insert, jnp.full((2, k) + lanes, -jnp.inf, x.dtype))
  means = jnp.mean(top, axis=1)
  return means[0], -means[1]


_CONTRAST_CHUNK = 8  # spectra per step of the insertion's lax.map (its state stays cache-sized)


def contrast_peaks(S: jax.Array, bands: tuple, axis: int) -> jax.Array:
  """``(..., 2, n_bands + 1, n_frames)``: each band's mean of its ``n_q`` largest (peak, row 0) and
  smallest (valley, row 1) magnitudes per frame (differentiable): sorted-list insertion over the
  band's bins with the frames as lanes (:func:`_top_means_rows`), in a ``lax.map`` over chunks of up
  to 8 spectra (faster than the whole batch at once). Frequency-last chunks of the fused pipeline
  are transposed first (they are cache-sized). Timings: ``benchmarks/bench_helpers.py``."""
  for k, (indices, _) in enumerate(bands):
    if not indices:  # librosa returns NaN here (the mean of an empty band)
      raise ValueError(f"spectral contrast band {k} holds no frequency bin of S ({S.shape[axis]} bins): use a larger "
                       "n_fft or a higher fmin")
  if axis == -1:
    S, axis = jnp.swapaxes(S, -1, -2), -2
  lead = S.shape[:-2]
  rows = int(np.prod(lead))
  chunk = max(c for c in range(1, _CONTRAST_CHUNK + 1) if rows % c == 0)
  if rows > chunk:
    out = jax.lax.map(lambda s: _contrast_peaks(s, bands), S.reshape((rows // chunk, chunk) + S.shape[-2:]))
    return out.reshape(lead + out.shape[-3:])
  return _contrast_peaks(S, bands)


def _contrast_peaks(S: jax.Array, bands: tuple) -> jax.Array:
  """:func:`contrast_peaks` of ``(..., n_freq, n_frames)``."""
  peaks, valleys = [], []
  for indices, n_q in bands:
    lo, hi = indices[0], indices[-1] + 1
    if indices == tuple(range(lo, hi)):
      sub = jax.lax.slice_in_dim(S, lo, hi, axis=-2)
    else:  # user frequencies out of order
      sub = jnp.take(S, jnp.asarray(indices), axis=-2)
    if n_q == 1:  # the low bands: a plain maximum and minimum
      peaks.append(jnp.max(sub, axis=-2))
      valleys.append(jnp.min(sub, axis=-2))
    else:
      peak, valley = _top_means_rows(sub, n_q)
      peaks.append(peak)
      valleys.append(valley)
  return jnp.stack([jnp.stack(peaks, axis=-2), jnp.stack(valleys, axis=-2)], axis=-3)


def contrast_finish(pv: jax.Array, linear: bool, n_valid: jax.Array | None = None) -> jax.Array:
  """Peak minus valley, linear or in dB (``power_to_db`` with ``top_db=80`` below each example's own
  peak of each of the two arrays, librosa's defaults)."""
  peak, valley = pv[..., 0, :, :], pv[..., 1, :, :]
  if linear:
    return peak - valley
  return (db(peak, amin=1e-10, top_db=80.0, n_valid=n_valid)
          - db(valley, amin=1e-10, top_db=80.0, n_valid=n_valid))


@functools.lru_cache(maxsize=32)
def _poly_pinv(freq: tuple, order: int) -> np.ndarray:
  """``(order + 1, n_freq)`` least-squares map of ``np.polyfit(freq, ·, order)`` (columns scaled as
  polyfit does, float64)."""
  x = np.asarray(freq, dtype=float)
  lhs = np.vander(x, order + 1)
  scale = np.sqrt((lhs * lhs).sum(axis=0))
  scale[scale == 0] = 1
  return np.linalg.pinv(lhs / scale) / scale[:, None]


def poly_fit(S: jax.Array, freq: np.ndarray, order: int, axis: int) -> jax.Array:
  """``(..., order + 1, n_frames)`` polynomial coefficients (highest power first) of each frame."""
  P = jnp.asarray(_poly_pinv(tuple(np.asarray(freq, dtype=float).tolist()), order), S.dtype)
  spec = "kf,...tf->...kt" if axis == -1 else "kf,...ft->...kt"
  return jnp.einsum(spec, P, S, precision=jax.lax.Precision.HIGHEST)


def _max_filter_freq(S: jax.Array, size: int) -> jax.Array:
  """``scipy.ndimage.maximum_filter1d(S, size, axis=-2)`` (mode ``"reflect"``)."""
  left, right = size // 2, size - size // 2 - 1
  n = S.shape[-2]
  if size >= 2 * n:  # every window covers all (reflected) bins: the maximum over frequency
    return jnp.broadcast_to(jnp.max(S, axis=-2, keepdims=True), S.shape)
  idx = np.arange(-left, n + right)
  idx = np.where(idx < 0, -idx - 1, idx)
  idx = np.where(idx >= n, 2 * n - idx - 1, idx)
  idx = np.clip(idx, 0, n - 1)  # sizes beyond 2·n reflect again; clipping is what scipy does for n == 1
  P = S[..., idx, :]
  out = P[..., 0:n, :]
  for k in range(1, size):
    out = jnp.maximum(out, P[..., k:k + n, :])
  return out


def _detrend(x: jax.Array) -> jax.Array:
  """``scipy.signal.lfilter([1, -1], [1, -0.99], x, axis=-1)``."""
  d = jnp.concatenate([x[..., :1], x[..., 1:] - x[..., :-1]], axis=-1)

  def step(carry, v):
    carry = v + 0.99 * carry
    return carry, carry

  _, out = jax.lax.scan(step, jnp.zeros_like(d[..., 0]), jnp.moveaxis(d, -1, 0))
  return jnp.moveaxis(out, 0, -1)


def flux(S: jax.Array, *, lag: int, max_size: int, ref: jax.Array | None, aggregate: str,
         channels: tuple | None, delay: int, detrend: bool, truncate: bool) -> jax.Array:
  """The spectral flux of a (log-)spectrogram ``S`` ``(..., n_bins, n_frames)``:
  ``max(0, S[:, t] - ref[:, t - lag])`` aggregated over bins (or channels), delayed by
  ``lag + delay`` frames; ``(..., n_channels, n_frames)``. ``channels``: ``(start, stop, step)``
  triples or ``None``. Arguments are assumed checked."""
  if ref is None:
    ref = S if max_size == 1 else _max_filter_freq(S, max_size)
  env = jnp.maximum(0.0, S[..., lag:] - ref[..., :-lag])
  reduce = jnp.mean if aggregate == "mean" else jnp.median
  if channels is None:
    env = reduce(env, axis=-2, keepdims=True)
  else:
    env = jnp.stack([reduce(env[..., slice(*sl), :], axis=-2) for sl in channels], axis=-2)
  env = jnp.pad(env, [(0, 0)] * (env.ndim - 1) + [(lag + delay, 0)])
  if detrend:
    env = _detrend(env)
  if truncate:
    env = env[..., :S.shape[-1]]
  return env


def p_normalize(x: jax.Array, norm: float | None, axis: int) -> jax.Array:
  """librosa's ``util.normalize`` (``fill=None``): slices below the dtype's tiny keep their values."""
  if norm is None:
    return x
  mag = jnp.abs(x)
  if norm == np.inf:
    length = mag.max(axis=axis, keepdims=True)
  else:
    length = _ops.safe_pow(jnp.sum(_ops.safe_pow(mag, norm), axis=axis, keepdims=True), 1.0 / norm)
  tiny = jnp.finfo(x.dtype).tiny
  return x / jnp.where(length < tiny, 1.0, length)


def chroma_reduce(S: jax.Array, axis: int, cfg: dict, n_fft: int) -> jax.Array:
  """The chroma of a power spectrum with frequency axis ``axis`` (-1: the core's chunks, -2: the public
  layout) -> ``(..., n_chroma, n_frames)`` (the registry's reducer of ``chroma_stft``)."""
  fb = jnp.asarray(filters.chroma_np(float(cfg["sr"]), n_fft, cfg["n_chroma"], cfg["tuning"], cfg["ctroct"],
                              cfg["octwidth"], 2.0, cfg["base_c"]), S.dtype)
  if axis == -1:  # frames × bins times bins × chroma: a plain matrix product, normalised, then transposed
    raw = jnp.einsum("...tf,cf->...tc", S, fb, precision=jax.lax.Precision.HIGHEST)
    return jnp.swapaxes(p_normalize(raw, cfg["chroma_norm"], -1), -1, -2)
  raw = jnp.einsum("...ft,cf->...ct", S, fb, precision=jax.lax.Precision.HIGHEST)
  return p_normalize(raw, cfg["chroma_norm"], -2)
