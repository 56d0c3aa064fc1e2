"""Constant-Q and variable-Q transforms: ``cqt``, ``vqt``, ``pseudo_cqt``, ``hybrid_cqt``, ``icqt``,
``griffinlim_cqt``, ``cqt_frequencies``, ``interval_frequencies`` (equal, Pythagorean and just-intonation
interval sets for ``vqt(intervals=...)``) and the filters (``wavelet_filterbank``, ``wavelet_lengths``).

Layout: signals ``(..., n_samples)`` with any leading batch axes; transforms ``(..., n_bins, n_frames)``
(librosa's layout, lowest frequency first). Every shape-determining argument (``sr``, ``hop_length``,
``fmin``, ``n_bins``, ``bins_per_octave``, ``tuning``, ``filter_scale``, ``norm``, ``sparsity``,
``window``) is a Python value: the filters are built in NumPy (float64, cached) and enter the traced
code as constants (on CPU, as arguments of the compiled recursion, so that a new ``tuning`` whose kernels
keep their shapes reuses it). ``tuning=None`` estimates the tuning from ``y``, one estimate per example
(:func:`jaxdsp.estimate_tuning`, librosa's estimate for that example alone; batch-invariant, unlike librosa's
pooled estimate of a multichannel signal). A single concrete signal gets the NumPy filters of its estimate;
a batch or a traced signal (``jit``, ``vmap``) gets its kernels built in JAX from each example's estimate
(the same construction, equal to the NumPy kernels to ~4e-6 of their peak) and librosa's recursion on every
backend, so ``tuning=None`` works under ``jit`` and ``vmap`` (no gradient flows into the estimate). The
filter layout (early decimation, each octave's FFT size) must then stay the same over the estimates' range
[-0.5, 0.5): where the longest filter crosses a power of two within it, a traced signal raises a
``ValueError`` naming ``tuning`` (pass a number) and a concrete batch is computed example by example.
``hybrid_cqt`` and ``pseudo_cqt`` estimate only from a concrete ``y``.
Every transform is linear in ``y`` (the magnitude ones up to the modulus), so all
of them are ``jit``-, ``vmap``- and ``grad``-able.

Two computations of the same transform, picked per backend by :func:`jaxdsp._core.cpu_path`:

* CPU, librosa's recursive form (Schörkhuber & Klapuri 2010): the top octave's filters are applied
  to frames of the signal (one matrix product with their time-domain kernels, the exact equivalent of
  librosa's sparse frequency-domain kernels times a rectangular-window STFT), then the signal is
  halved in rate and the next octave's filters (the same in units of the new rate) are applied, and
  so on. The rate is halved by :func:`jaxdsp.resample`, which follows soxr's "HQ" filter as librosa
  does, so the result matches ``librosa.cqt`` to float32 round-off (≤ 2e-5 of the peak on real
  audio). ``res_type="halfband"`` halves it with a 63-tap half-band filter instead (several times
  cheaper; flat where soxr's pass band ripples, so the lowest octave then differs from librosa's by up
  to ~0.5 % of the peak on music: librosa's own cascade of soxr filters is that far from the ideal).
* Accelerators, the one-kernel form (nnAudio's design): every octave's kernels, interpolated to the full
  rate (band-limited interpolation of librosa's per-octave kernels: the sums they compute are the
  same), in one ``(n_bins, N)`` matrix applied to the frames of the signal by one strided product, in
  chunks of frames so that memory stays bounded on long signals. Without decimation its lower octaves
  follow the ideal filter, like ``res_type="halfband"``.

Peak memory of ``cqt`` on a 10-minute signal on CPU (the default, 84 bins): 1.2 GB resident.

References:
  C. Schörkhuber and A. Klapuri, "Constant-Q transform toolbox for music processing", SMC 2010.
  J. C. Brown, "Calculation of a constant Q spectral transform", JASA 89(1), 1991.
  K. W. Cheuk et al., "nnAudio: An on-the-fly GPU audio to spectrogram conversion toolbox using 1D
  convolutional neural networks", IEEE Access 8, 2020.
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
from jaxdsp import _core
from jaxdsp import _ops

# The transforms (re-exported by ``jaxdsp``), then the pieces of the octave recursion that the learnable
# front-end ``jaxdsp.nn.LearnableCQT`` builds on: argument checks, the filter plan, the per-octave plan,
# the kernels as real matrices, and the recursion itself.
__all__ = ["cqt", "cqt_frequencies", "griffinlim_cqt", "hybrid_cqt", "icqt", "interval_frequencies", "pseudo_cqt",
           "vqt", "wavelet_filterbank", "wavelet_lengths",
           "check_common", "octave_plan", "plan", "real_kernel", "run_octaves", "vqt_of_length"]

# Equivalent noise bandwidths (in bins) of the windows, as librosa tabulates them.
_WINDOW_BANDWIDTHS = {"hann": 1.50018310546875, "hamming": 1.3629455320350348, "blackman": 1.7269681554262326,
                      "boxcar": 1.0, "rectangular": 1.0, "ones": 1.0}
_C1 = 32.70319566257483  # note_to_hz("C1")


# ---------------------------------------------------------------------------------------------
# Frequencies and filters (NumPy, float64, from static arguments).


def cqt_frequencies(n_bins: int, *, fmin: float, bins_per_octave: int = 12, tuning: float = 0.0) -> np.ndarray:
  """Centre frequencies of a constant-Q transform.

  ``f[k] = fmin · 2^(tuning / bins_per_octave) · 2^(k / bins_per_octave)``.

  Args:
    n_bins: number of bins (positive int).
    fmin: lowest frequency (Hz, > 0).
    bins_per_octave: bins per octave.
    tuning: tuning offset in fractions of a bin.

  Returns:
    ``(n_bins,)`` float64 NumPy array (a constant, like :func:`jaxdsp.fft_frequencies`).

  Examples:
    >>> import jaxdsp as jd
    >>> jd.cqt_frequencies(3, fmin=440.0).round(2).tolist()
    [440.0, 466.16, 493.88]

  Compare ``librosa.cqt_frequencies``.
  """
  n_bins = _checks.positive_int(n_bins, "n_bins")
  fmin = _checks.positive_number(fmin, "fmin")
  bins_per_octave = _checks.positive_int(bins_per_octave, "bins_per_octave")
  tuning = _checks.real_number(tuning, "tuning")
  return 2.0 ** (tuning / bins_per_octave) * fmin * 2.0 ** (np.arange(n_bins, dtype=float) / bins_per_octave)


_MAX_FILTER_LENGTH = 2**24  # samples: longer filters are refused before anything is built
# The interval sets and their one check live in the core (the feature registry checks ``intervals`` with it).
INTERVAL_SETS = _core.INTERVAL_SETS
octave_ratios = _core.octave_ratios


def interval_frequencies(n_bins: int, *, fmin: float, intervals: Any = "equal", bins_per_octave: int = 12,
                         tuning: float = 0.0, sort: bool = True) -> np.ndarray:
  """Frequencies of an interval set: one octave of ratios tiled over octaves above ``fmin``.

  ``f = fmin · 2^o · r`` for octaves ``o = 0, 1, ...`` and the ratios ``r`` of ``intervals`` (the first
  ``n_bins``), sorted when ``sort``. ``"equal"``: ``r_j = 2^((tuning + j) / bins_per_octave)``;
  ``"pythagorean"``: stacked just fifths ``3^k`` folded into the octave; ``"ji3"``, ``"ji5"``, ``"ji7"``:
  3-, 5- and 7-limit just intonation grown by Tenney's harmonic-crystal algorithm (as librosa); or an
  explicit 1-D array of distinct ratios in ``[1, 2)`` (``bins_per_octave`` is then its length).

  Args:
    n_bins: number of frequencies.
    fmin: lowest frequency (Hz).
    intervals: ``"equal"``, ``"pythagorean"``, ``"ji3"``, ``"ji5"``, ``"ji7"`` or an array of ratios.
    bins_per_octave: ratios per octave of a named set.
    tuning: tuning offset in fractions of a bin (``"equal"`` only, as librosa).
    sort: sort the frequencies (else octave by octave, each in the set's order).

  Returns:
    ``(n_bins,)`` float64 NumPy array.

  Raises:
    ValueError: unknown set name, ratios outside ``[1, 2)`` or repeated, bad sizes.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.interval_frequencies(8, fmin=55.0, intervals="ji5", bins_per_octave=7).round(2).tolist()
    [55.0, 61.87, 68.75, 73.33, 82.5, 91.67, 103.12, 110.0]

  Compare ``librosa.interval_frequencies``.
  """
  n_bins = _checks.positive_int(n_bins, "n_bins")
  fmin = _checks.positive_number(fmin, "fmin")
  bins_per_octave = _checks.positive_int(bins_per_octave, "bins_per_octave")
  tuning = _checks.real_number(tuning, "tuning")
  sort = _checks.flag(sort, "sort")
  ratios, bins_per_octave = octave_ratios(intervals, bins_per_octave, sort)
  if n_bins > 2**24:
    raise ValueError(f"n_bins must be at most 2**24, got {n_bins}")
  if ratios is None:
    ratios = 2.0 ** ((tuning + np.arange(bins_per_octave, dtype=float)) / bins_per_octave)
  return _ratio_frequencies(n_bins, fmin, tuple(np.asarray(ratios).tolist()), sort)


def _ratio_frequencies(n_bins: int, fmin: float, ratios: tuple, sort: bool = True) -> np.ndarray:
  n_octaves = -(-n_bins // len(ratios))
  out = np.multiply.outer(2.0 ** np.arange(n_octaves), np.asarray(ratios)).ravel()[:n_bins]
  return (np.sort(out) if sort else out) * fmin


def _relative_bandwidth(freqs: np.ndarray) -> np.ndarray:
  logf = np.log2(freqs)
  bpo = np.empty_like(freqs)
  bpo[0] = 1 / (logf[1] - logf[0])
  bpo[-1] = 1 / (logf[-1] - logf[-2])
  bpo[1:-1] = 2 / (logf[2:] - logf[:-2])
  return (2.0 ** (2 / bpo) - 1) / (2.0 ** (2 / bpo) + 1)


def _alpha(freqs: np.ndarray, bins_per_octave: int) -> np.ndarray:
  if len(freqs) == 1:
    r = 2 ** (1 / bins_per_octave)
    return np.atleast_1d((r**2 - 1) / (r**2 + 1))
  return _relative_bandwidth(freqs)


def wavelet_lengths(*, freqs: ArrayLike, sr: float = 22050, window: str = "hann", filter_scale: float = 1,
                    gamma: float | None = 0, alpha: ArrayLike | None = None) -> tuple[np.ndarray, float]:
  """Lengths (in samples) of the constant-/variable-Q filters and the highest frequency they reach.

  With the relative bandwidth ``α`` of each bin (from its neighbours' spacing), ``Q = filter_scale / α``
  and ``γ`` the bandwidth offset (``None``: ``α · 24.7 / 0.108``, the ERB scale):
  ``length[k] = Q[k] · sr / (f[k] + γ[k] / α[k])`` and
  ``cutoff = max_k f[k] · (1 + bw / (2 Q[k])) + γ[k] / 2`` with ``bw`` the window's noise bandwidth.

  Args:
    freqs: ``(n,)`` ascending positive centre frequencies (Hz).
    sr: sample rate.
    window: the filters' window name.
    filter_scale: filter length scale (> 0).
    gamma: bandwidth offset (Hz, ≥ 0) or ``None`` (ERB).
    alpha: ``(n,)`` relative bandwidths; default from ``freqs``.

  Returns:
    ``(lengths, cutoff)``: ``(n,)`` float64 lengths and the cutoff frequency in Hz.

  Examples:
    >>> import jaxdsp as jd
    >>> lengths, cutoff = jd.wavelet_lengths(freqs=jd.cqt_frequencies(24, fmin=110.0))
    >>> round(float(lengths[0]), 1), round(cutoff, 1)
    (3474.2, 433.3)

  Compare ``librosa.filters.wavelet_lengths``.
  """
  sr = _checks.sample_rate(sr, "sr")
  freqs = np.asarray(freqs, dtype=float)
  if freqs.ndim != 1 or freqs.size == 0:
    raise ValueError(f"freqs must be a non-empty 1-D array, got shape {freqs.shape}")
  if np.any(freqs <= 0) or not np.all(np.isfinite(freqs)):
    raise ValueError("freqs must be strictly positive and finite")
  if np.any(freqs[:-1] >= freqs[1:]):
    raise ValueError("freqs must be in strictly ascending order")
  filter_scale = _checks.positive_number(filter_scale, "filter_scale")
  _checks.choice(window, "window", tuple(_WINDOW_BANDWIDTHS))
  if alpha is None:
    if freqs.size < 2:
      raise ValueError("freqs needs 2 or more frequencies to derive alpha; pass alpha for one frequency")
    alpha = _relative_bandwidth(freqs)
  alpha = np.asarray(alpha, dtype=float)
  if gamma is None:
    gamma = alpha * 24.7 / 0.108
  else:
    gamma = _checks.positive_number(gamma, "gamma", allow_zero=True)
  Q = filter_scale / alpha
  cutoff = float(np.max(freqs * (1 + 0.5 * _WINDOW_BANDWIDTHS[window] / Q) + 0.5 * gamma))
  return Q * sr / (freqs + gamma / alpha), cutoff


def _normalize(x: np.ndarray, norm: float | None) -> np.ndarray:
  if norm is None:
    return x
  mag = np.abs(x)
  if norm == np.inf:
    length = mag.max()
  else:
    length = np.sum(mag**norm) ** (1.0 / norm)
  return x / length if length > np.finfo(float).tiny else x


def _wavelets(freqs: np.ndarray, lengths: np.ndarray, sr: float, window: str, norm: Any, pad_fft: bool) -> np.ndarray:
  filters = []
  for ilen, f in zip(lengths, freqs):
    t = np.arange(-ilen // 2, ilen // 2, dtype=float)
    sig = np.exp(1j * 2 * np.pi * f / sr * t) * _core.window_array(window, len(t))
    filters.append(_normalize(sig, norm))
  max_len = int(2.0 ** np.ceil(np.log2(max(lengths)))) if pad_fft else int(np.ceil(max(lengths)))
  out = np.zeros((len(filters), max_len), dtype=np.complex128)
  for i, sig in enumerate(filters):
    lpad = (max_len - len(sig)) // 2
    out[i, lpad : lpad + len(sig)] = sig
  return out


def wavelet_filterbank(*, freqs: ArrayLike, sr: float = 22050, window: str = "hann", filter_scale: float = 1,
                       norm: float | None = 1, gamma: float | None = 0, alpha: ArrayLike | None = None,
                       pad_fft: bool = True) -> tuple[np.ndarray, np.ndarray]:
  """The complex time-domain filters of a constant-/variable-Q transform.

  Filter ``k`` is ``exp(2πi · f[k] · n / sr) · w(n)`` for ``n`` in ``[-⌊L/2⌋, ⌊L/2⌋)`` with ``L`` its
  :func:`wavelet_lengths` length and ``w`` the periodic window of that many samples, normalised to unit
  ``norm``-norm, and centred in a common length (the next power of two when ``pad_fft``).

  Args:
    freqs, sr, window, filter_scale, gamma, alpha: as in :func:`wavelet_lengths`.
    norm: p-norm each filter is normalised to (1, 2, ``np.inf``) or ``None``.
    pad_fft: pad to a power of two (else to ``ceil(max(lengths))``).

  Returns:
    ``(filters, lengths)``: ``(n, max_len)`` complex128 and ``(n,)`` float64, both NumPy.

  Examples:
    >>> import jaxdsp as jd
    >>> filters, lengths = jd.wavelet_filterbank(freqs=jd.cqt_frequencies(12, fmin=440.0))
    >>> filters.shape, round(float(abs(filters[0]).sum()), 6)
    ((12, 1024), 1.0)

  Compare ``librosa.filters.wavelet``.
  """
  lengths, _ = wavelet_lengths(freqs=freqs, sr=sr, window=window, filter_scale=filter_scale, gamma=gamma, alpha=alpha)
  _checks.p_norm(norm)
  return _wavelets(np.asarray(freqs, dtype=float), lengths, float(sr), window, norm, bool(pad_fft)), lengths


def _sparsify_rows(x: np.ndarray, quantile: float) -> np.ndarray:
  """Zeroes the smallest entries of each row whose magnitudes sum to less than ``quantile`` of it."""
  if quantile == 0:
    return x
  mags = np.abs(x)
  norms = np.sum(mags, axis=1, keepdims=True)
  mag_sort = np.sort(mags, axis=1)
  cumulative = np.cumsum(mag_sort / norms, axis=1)
  idx = np.argmin(cumulative < quantile, axis=1)
  keep = mags >= mag_sort[np.arange(len(x)), idx][:, None]
  return np.where(keep, x, 0)


@functools.lru_cache(maxsize=128)
def _filter_fft(sr: float, freqs: tuple, lengths: tuple, norm: Any, sparsity: float, window: str,
                hop_length: int | None = None) -> tuple[np.ndarray, int]:
  """The sparsified frequency-domain basis ``(n, n_fft // 2 + 1)`` (librosa's ``__vqt_filter_fft``).

  The filters are rounded to complex64 (as librosa builds them) so that the sparsity threshold drops
  the same entries."""
  lengths = np.asarray(lengths)
  basis = _wavelets(np.asarray(freqs), lengths, sr, window, norm, True).astype(np.complex64)
  n_fft = basis.shape[1]
  if hop_length is not None and n_fft < 2.0 ** (1 + np.ceil(np.log2(hop_length))):
    n_fft = int(2.0 ** (1 + np.ceil(np.log2(hop_length))))
  basis = basis * (lengths[:, None] / float(n_fft)).astype(np.float32)
  fft_basis = np.fft.fft(basis.astype(np.complex128), n=n_fft, axis=1)[:, : n_fft // 2 + 1]
  fft_basis = _sparsify_rows(fft_basis, sparsity)
  fft_basis.setflags(write=False)
  return fft_basis, n_fft


# ---------------------------------------------------------------------------------------------
# Decimation by two.


RES_TYPES = (None, "soxr_hq", "halfband")


@functools.lru_cache(maxsize=None)
def _halfband(n_taps: int = 63, beta: float = 14.0) -> np.ndarray:
  """Kaiser-windowed half-band low-pass (cutoff at half the input Nyquist), unit DC gain."""
  n = np.arange(n_taps) - (n_taps - 1) // 2
  h = 0.5 * np.sinc(0.5 * n) * np.kaiser(n_taps, beta)
  h /= h.sum()
  h.setflags(write=False)
  return h


@functools.lru_cache(maxsize=None)
def _halfband_table(g_out: int = 64) -> tuple[np.ndarray, int]:
  """The half-band filter as a block-Toeplitz conv table (``jaxdsp.resample``'s layout): step ``q`` reads
  input blocks of ``2 · g_out`` samples from ``q · 2 · g_out - K`` and writes outputs ``q · g_out + r``."""
  h = _halfband()
  K = (len(h) - 1) // 2
  g_in = 2 * g_out
  n_blocks = -(-(g_in + 2 * K) // g_in)
  table = np.zeros((n_blocks * g_in, g_out))
  for r in range(g_out):
    table[2 * r : 2 * r + len(h), r] = h  # output r reads x[2r - K .. 2r + K]
  table.setflags(write=False)
  return table.reshape(n_blocks, g_in, g_out), K


def _decimate2(y: jax.Array, res_type: str | None = None) -> jax.Array:
  """``y`` at half its rate, times √2 (librosa's ``resample(..., scale=True)``), length ``ceil(n / 2)``,
  output sample ``j`` at input sample ``2j``: by :func:`jaxdsp.resample` (soxr's "HQ" design, librosa's
  default) or, for ``res_type="halfband"``, by a 63-tap half-band filter (flat to 1e-6 below 0.3 of the
  input Nyquist, ≥ 130 dB stop band above 0.7 of it: the band each octave's filters use)."""
  if res_type != "halfband":
    from jaxdsp.io import resample  # pylint: disable=import-outside-toplevel
    return resample(y, orig_sr=2, target_sr=1) * math.sqrt(2.0)
  table, K = _halfband_table()
  n_blocks, g_in, g_out = table.shape
  batch, n = y.shape[:-1], y.shape[-1]
  n_out = -(-n // 2)
  q = -(-n_out // g_out)  # conv steps of g_out outputs
  length = (q - 1 + n_blocks) * g_in
  x = jnp.pad(y.reshape(-1, n), ((0, 0), (K, length - n - K))).reshape(-1, q - 1 + n_blocks, g_in)
  out = jax.lax.conv_general_dilated(x, jnp.asarray(table, y.dtype), window_strides=(1,), padding="VALID",
                                     dimension_numbers=("NWC", "WIO", "NWC"), precision=jax.lax.Precision.HIGHEST)
  out = out.reshape(*batch, q * g_out)[..., :n_out]
  return out * math.sqrt(2.0)


# ---------------------------------------------------------------------------------------------
# The transforms.


def _time_kernel(basis: np.ndarray, n: int, d: int = 1) -> np.ndarray:
  """The time-domain kernels ``g[b, m] = Σ_f basis[b, f] · exp(-2πi f m / (d·n))``, ``m < d·n``, so that
  ``Σ_f basis[b, f] · rfft(x)[f] = Σ_m x[m] · g[b, m]`` for frames ``x`` of ``n`` samples (``d = 1``) or
  its band-limited interpolation to ``d`` times the rate."""
  f = np.arange(basis.shape[1])
  return basis @ np.exp(-2j * np.pi * np.outer(f, np.arange(d * n)) / (d * n))


def _frames_dot(x: jax.Array, K: jax.Array, n: int, hop: int) -> jax.Array:
  """``out[..., c, t] = Σ_m x[..., t·hop + m] · K[c, m]`` over the ``T = 1 + (len - n) // hop`` frames of
  ``x``, without materialising the frames: for ``hop >= n`` one reshape, for ``n <= 2 · hop`` two products of
  ``hop``-sample blocks summed shifted, else a strided convolution (faster than a gather of the frames
  on XLA:CPU)."""
  T = 1 + (x.shape[-1] - n) // hop
  mm = functools.partial(jnp.einsum, precision="highest")
  if n % hop == 0 and n // hop <= 2:
    r = n // hop
    blocks = x[..., : (T + r - 1) * hop].reshape(*x.shape[:-1], T + r - 1, hop)
    # (..., T + r - 1, r·C): frames-major products (plain matrix products on XLA:CPU), transposed at the end
    P = mm("...ti,ijc->...tjc", blocks, jnp.transpose(K.reshape(K.shape[0], r, hop), (2, 1, 0)))
    out = P[..., :T, 0, :]
    for j in range(1, r):
      out = out + P[..., j : j + T, j, :]
    return jnp.swapaxes(out, -1, -2)
  if hop >= n:
    x = jnp.pad(x[..., : T * hop], [(0, 0)] * (x.ndim - 1) + [(0, max(0, T * hop - x.shape[-1]))])
    return jnp.swapaxes(mm("...tn,nc->...tc", x.reshape(*x.shape[:-1], T, hop)[..., :n], K.T), -1, -2)
  lead = x.shape[:-1]
  out = jax.lax.conv_general_dilated(x.reshape(-1, 1, x.shape[-1]), K[:, None, :], (hop,), "VALID",
                                     precision=jax.lax.Precision.HIGHEST)
  return out[..., :T].reshape(*lead, K.shape[0], T)


def _kernel_response(y, Kri, hop_length, pad_mode):
  """``Σ_m frame_t[m] · K[b, m]`` for the centred frames of ``y``: ``(..., n) -> (..., n_bins, n_frames)``,
  one real matrix product per chunk of frames (``Kri``: ``(2 · n_bins, n)``, real parts over imaginary)."""
  n = Kri.shape[1]
  # Opaque to XLA's constant folding: the kernels (up to 2·n_bins × 65536 values) are constants of the
  # trace, and the layout transposes XLA derives from them were folded at compile time (6 s for chroma_cqt).
  (Kri,) = jax.lax.optimization_barrier((Kri.astype(y.dtype),))
  n_bins = Kri.shape[0] // 2

  def fn(segments):
    out = _frames_dot(segments, Kri, n, hop_length)
    return jax.lax.complex(out[..., :n_bins, :], out[..., n_bins:, :])

  chunk = max(1, (6 * 2**20) // (4 * n)) if _core.cpu_path() else max(1, (128 * 2**20) // n)
  return _core.map_frames(fn, y, n, hop_length, True, pad_mode, chunk_frames=chunk)


def check_common(sr, hop_length, fmin, n_bins, bins_per_octave, tuning, filter_scale, norm, sparsity, window,
                  scale, pad_mode) -> tuple:
  """Checks the options shared by the constant-Q transforms; returns them normalised (same order)."""
  sr = _checks.sample_rate(sr, "sr")
  hop_length = _checks.positive_int(hop_length, "hop_length")
  fmin = _C1 if fmin is None else _checks.positive_number(fmin, "fmin")
  n_bins = _checks.positive_int(n_bins, "n_bins")
  bins_per_octave = _checks.positive_int(bins_per_octave, "bins_per_octave")
  tuning = _checks.real_number(tuning, "tuning")
  filter_scale = _checks.positive_number(filter_scale, "filter_scale")
  norm = _checks.p_norm(norm)
  sparsity = _checks.real_number(sparsity, "sparsity")
  if not 0.0 <= sparsity < 1.0:
    raise ValueError(f"sparsity must be in [0, 1), got {sparsity!r}")
  _checks.choice(window, "window", tuple(_WINDOW_BANDWIDTHS))
  if not isinstance(scale, (bool, np.bool_)):
    raise TypeError(f"scale must be a bool, got {scale!r}")
  _checks.choice(pad_mode, "pad_mode", _core.PAD_MODES)
  _check_sizes(sr, hop_length, fmin, n_bins, bins_per_octave, tuning, filter_scale)
  return (sr, hop_length, fmin, n_bins, bins_per_octave, tuning, filter_scale, norm, sparsity, window, bool(scale),
          pad_mode)


def _check_sizes(sr, hop_length, fmin, n_bins, bins_per_octave, tuning, filter_scale) -> None:
  """Refuses, before any array is built, transforms whose top bin passes the Nyquist frequency by more than
  an octave or whose longest filter (the lowest bin's, ``filter_scale / α · sr / fmin`` samples with the
  equal-tempered ``α``) exceeds ``2**24`` samples, and hops above ``2**24``."""
  if hop_length > _MAX_FILTER_LENGTH:
    raise ValueError(f"hop_length must be at most 2**24, got {hop_length}")
  if (n_bins - 1 + tuning) / bins_per_octave + math.log2(fmin) > math.log2(sr):
    raise ValueError(f"n_bins={n_bins} bins of {bins_per_octave} per octave from fmin={fmin:g} Hz reach far above "
                     f"the Nyquist frequency {sr / 2:g} Hz: reduce n_bins")
  r = 2.0 ** (1.0 / bins_per_octave)
  alpha = (r**2 - 1) / (r**2 + 1)
  longest = filter_scale / alpha * sr / fmin if alpha > 0 else math.inf
  if longest > _MAX_FILTER_LENGTH:
    raise ValueError(f"the lowest filter would be {longest:.3g} samples long (above 2**24): reduce bins_per_octave "
                     f"(={bins_per_octave}) or filter_scale (={filter_scale:g}), or raise fmin (={fmin:g})")


def _complex_dtype(y: jax.Array, dtype: Any) -> str:
  if dtype is None:
    return jnp.dtype(jnp.result_type(y.dtype, jnp.complex64)).name
  try:
    dt = jnp.dtype(dtype)
  except TypeError as e:
    raise TypeError(f"dtype must be a complex dtype or None, got {dtype!r}") from e
  if not jnp.issubdtype(dt, jnp.complexfloating):
    raise TypeError(f"dtype must be a complex dtype or None, got {dtype!r}")
  return jnp.dtype(jnp.result_type(dt)).name  # complex128 only under x64


def _tuned(y: jax.Array, tuning: Any, sr: Any, bins_per_octave: Any) -> Any:
  """``tuning=None``: librosa's estimate from ``y`` (computed eagerly, so ``y`` must be concrete)."""
  if tuning is not None:
    return tuning
  if isinstance(y, jax.core.Tracer):
    raise ValueError("tuning=None estimates the tuning from y, which needs a concrete y: pass a number under jit")
  from jaxdsp.chroma import estimate_tuning  # pylint: disable=import-outside-toplevel
  return float(np.mean(np.asarray(estimate_tuning(y, sr=sr, bins_per_octave=bins_per_octave))))


def _response(y, basis, n_fft, hop_length, pad_mode, phase=True, window=None):
  """``basis @ STFT(y)`` per frame, ``(..., n) -> (..., n_bins, 1 + n // hop_length)``, over the basis'
  non-zero columns only; complex, or ``basis @ |STFT(y)|`` (real) for ``phase=False``."""
  nz = np.nonzero(np.any(basis != 0, axis=0))[0]
  lo, hi = (int(nz[0]), int(nz[-1]) + 1) if nz.size else (0, 1)
  real = y.dtype
  Br, Bi = jnp.asarray(basis[:, lo:hi].real, real), jnp.asarray(basis[:, lo:hi].imag, real)
  win = None if window is None else jnp.asarray(_core.window_array(window, n_fft), real)
  mm = functools.partial(jnp.einsum, "bf,...tf->...bt", precision="highest")

  def fn(segments):
    fr = _core.frames(segments, n_fft, hop_length)  # (c, t, n_fft)
    if win is not None:
      fr = fr * win
    D = jnp.fft.rfft(fr, axis=-1)[..., lo:hi]
    if not phase:
      return mm(Br, _ops.safe_sqrt(_ops.abs2(D)))
    return jax.lax.complex(mm(Br, D.real) - mm(Bi, D.imag), mm(Br, D.imag) + mm(Bi, D.real))

  if _core.cpu_path():
    chunk = max(1, (6 * 2**20) // (4 * n_fft))
  else:  # bounded so that long signals and large batches fit: about 512 MB of frames per step
    chunk = max(1, (128 * 2**20) // n_fft)
  return _core.map_frames(fn, y, n_fft, hop_length, True, pad_mode, chunk_frames=chunk)


def plan(sr, fmin, n_bins, bins_per_octave, tuning, filter_scale, window, gamma, check=True, ratios=None):
  """Centre frequencies, filter lengths per Hz of sample rate and the cutoff frequency (``ratios``: one
  octave of interval ratios, ``None`` for equal temperament)."""
  if ratios is None:
    freqs = cqt_frequencies(n_bins, fmin=fmin, bins_per_octave=bins_per_octave, tuning=tuning)
  else:  # librosa tunes fmin, then tiles the ratios
    freqs = _ratio_frequencies(n_bins, fmin * 2.0 ** (tuning / bins_per_octave), ratios)
  alpha = _alpha(freqs, bins_per_octave)
  gamma_arr = alpha * 24.7 / 0.108 if gamma is None else np.full(n_bins, float(gamma))
  Q = filter_scale / alpha
  cutoff = float(np.max(freqs * (1 + 0.5 * _WINDOW_BANDWIDTHS[window] / Q) + 0.5 * gamma_arr))
  if check and cutoff > sr / 2:
    raise ValueError(f"the filters reach {cutoff:.1f} Hz, above the Nyquist frequency {sr / 2} Hz: reduce n_bins "
                     f"(={n_bins}) or fmin (={fmin})")
  return freqs, Q / (freqs + gamma_arr / alpha), cutoff


def _basis(sr, freqs, per_hz, norm, sparsity, window, hop_length=None):
  return _filter_fft(float(sr), tuple(freqs.tolist()), tuple((per_hz * sr).tolist()), norm, float(sparsity), window,
                     hop_length)


def _early_downsample_count(nyquist: float, cutoff: float, hop_length: int, n_octaves: int) -> int:
  count1 = max(0, int(np.ceil(np.log2(nyquist / cutoff)) - 1) - 1)
  twos = (hop_length & -hop_length).bit_length() - 1
  return min(count1, max(0, twos - n_octaves + 1))


def octave_plan(sr, hop_length, freqs, per_hz, cutoff, bins_per_octave, norm, sparsity, window, scale):
  """The static plan of librosa's recursion: the early decimation count and, per octave from the top, the
  bins it fills, its time-domain kernels (every gain and, with ``scale``, the ``1/√L`` folded in), its
  hop and whether the signal is decimated after it."""
  count, sr_top, layout = _octave_layout(sr, hop_length, per_hz, cutoff, bins_per_octave)
  norm_len = np.sqrt(per_hz * sr_top) if scale else np.ones_like(per_hz)
  octaves = []
  for lo, hi, _, rate, hop, decimate in layout:
    basis, n_fft = _basis(rate, freqs[lo:hi], per_hz[lo:hi], norm, sparsity, window)
    K = _time_kernel(basis * np.sqrt(sr_top / rate), n_fft) / norm_len[lo:hi, None]
    octaves.append((lo, hi, K, hop, decimate))
  return count, octaves


def _cut(y: jax.Array, lengths: jax.Array | None) -> jax.Array:
  """``y`` with the samples of each row from ``lengths`` (``y.shape[:-1]``) on set to zero."""
  if lengths is None:
    return y
  return jnp.where(jnp.arange(y.shape[-1]) < lengths[..., None], y, jnp.zeros((), y.dtype))


def run_octaves(y, count, octaves, kernels, pad_mode, scale, res_type, lengths=None):
  """Applies the octaves' kernels (``kernels[i]``: real ``(2 · n_i, n_fft)``, real parts over imaginary
  parts) along librosa's recursion: ``(..., n) -> (..., n_bins, n_frames)`` complex.

  ``lengths`` (``y.shape[:-1]`` ints, traceable): each row holds a signal of that many samples followed by
  zeros; every decimated octave is then cut to ``ceil(length / 2)`` samples as librosa's recursion cuts the
  signal alone, so that each row's frames equal those of its signal alone."""
  if y.shape[-1] < 2**count:
    raise ValueError(f"y (length {y.shape[-1]}) is too short for a {len(octaves)}-octave CQT")
  y = _cut(y, lengths)
  if count and res_type != "halfband":  # one resampling by 2**count, as librosa's early downsampling
    from jaxdsp.io import resample  # pylint: disable=import-outside-toplevel
    y = resample(y, orig_sr=2**count, target_sr=1) * math.sqrt(2.0**count)
  for _ in range(count if res_type == "halfband" else 0):
    y = _decimate2(y, res_type)
  if count and lengths is not None:
    lengths = -(-lengths // 2**count)
    y = _cut(y, lengths)
  if count and not scale:
    y = y * math.sqrt(2.0**count)
  responses = []
  for (_, _, _, hop, decimate), Kri in zip(octaves, kernels):
    responses.append(_kernel_response(y, Kri, hop, pad_mode))
    if decimate:
      y = _decimate2(y, res_type)
      if lengths is not None:
        lengths = -(-lengths // 2)
        y = _cut(y, lengths)
  n_frames = min(r.shape[-1] for r in responses)
  return jnp.concatenate([r[..., :n_frames] for r in reversed(responses)], axis=-2)


def real_kernel(K: np.ndarray, dtype: Any) -> jax.Array:
  """Complex kernels ``(n, m)`` as one real ``(2n, m)`` matrix: real parts over imaginary parts."""
  return jnp.asarray(np.concatenate([K.real, K.imag]), dtype)


def _recursive(y, sr, hop_length, freqs, per_hz, cutoff, bins_per_octave, norm, sparsity, window, pad_mode, scale,
               res_type):
  """librosa's octave-by-octave computation (decimating by 2 between octaves)."""
  count, octaves = octave_plan(sr, hop_length, freqs, per_hz, cutoff, bins_per_octave, norm, sparsity, window, scale)
  kernels = [real_kernel(o[2], y.dtype) for o in octaves]
  return run_octaves(y, count, octaves, kernels, pad_mode, scale, res_type)


@functools.lru_cache(maxsize=16)
def _one_kernel_matrix(sr: float, hop_length: int, freqs: tuple, per_hz: tuple, bins_per_octave: int, norm: Any,
                       sparsity: float, window: str, cutoff: float, scale: bool) -> np.ndarray:
  """The time-domain kernels ``(n_bins, N)`` at the full rate that reproduce librosa's octave-wise CQT.

  librosa's octave ``k`` at rate ``sr / d`` computes ``Σ_f B_k[f] · rfft(frame)[f] = Σ_m frame[m] · g[m]``
  with ``g[m] = Σ_f B_k[f] · exp(-2πi f m / n_fft)``, band-limited to the octave's bins. Its band-limited
  interpolation to the full rate, over the central ``d · n_fft`` samples of a common frame of ``N``, gives
  the same sum (the product of two signals band-limited below half the decimated rate is summed exactly
  by either grid), once the decimations' √2 gains and the ``1 / d`` of the denser sum are applied.
  """
  freqs, per_hz = np.asarray(freqs), np.asarray(per_hz)
  n_bins = len(freqs)
  n_octaves = -(-n_bins // bins_per_octave)
  n_filters = min(bins_per_octave, n_bins)
  count = _early_downsample_count(sr / 2, cutoff, hop_length, n_octaves)
  my_sr, my_hop = sr / 2**count, hop_length // 2**count
  sr_top = my_sr
  gain = 1.0 if scale else math.sqrt(2.0**count)
  rows = []
  for i in range(n_octaves):
    hi = n_bins - n_filters * i
    lo = max(0, hi - n_filters)
    basis, n_fft = _basis(my_sr, freqs[lo:hi], per_hz[lo:hi], norm, sparsity, window)
    d = int(round(sr / my_sr))
    g = _time_kernel(basis * np.sqrt(sr_top / my_sr), n_fft, d)
    rows.append((lo, g * gain * math.sqrt(d) / d))
    if my_hop % 2 == 0:
      my_hop, my_sr = my_hop // 2, my_sr / 2
  n = max(g.shape[1] for _, g in rows)
  K = np.zeros((n_bins, n), dtype=np.complex128)
  for lo, g in rows:
    start = (n - g.shape[1]) // 2
    K[lo : lo + g.shape[0], start : start + g.shape[1]] = g
  K.setflags(write=False)
  return K


def _one_kernel(y, sr, hop_length, freqs, per_hz, cutoff, bins_per_octave, norm, sparsity, window, pad_mode, scale):
  """All filters at the full rate in one time-domain kernel matrix, applied to the frames of the signal in
  one product per chunk of frames (nnAudio's design; no FFT, no decimation)."""
  K = _one_kernel_matrix(float(sr), hop_length, tuple(freqs.tolist()), tuple(per_hz.tolist()), bins_per_octave, norm,
                         float(sparsity), window, cutoff, scale)
  V = _kernel_response(y, real_kernel(K, y.dtype), hop_length, pad_mode)
  if not scale:
    return V
  n_octaves = -(-len(freqs) // bins_per_octave)
  sr_top = sr / 2 ** _early_downsample_count(sr / 2, cutoff, hop_length, n_octaves)
  return V / jnp.asarray(np.sqrt(per_hz * sr_top)[:, None], V.real.dtype)


@functools.partial(jax.jit, static_argnames=("args", "gamma", "res_type", "cdt", "cpu", "ratios"))
def _vqt_jit(y, *, args, gamma, res_type, cdt, cpu, ratios=None):
  sr, hop_length, fmin, n_bins, bpo, tuning, filter_scale, norm, sparsity, window, scale, pad_mode = args
  freqs, per_hz, cutoff = plan(sr, fmin, n_bins, bpo, tuning, filter_scale, window, gamma, ratios=ratios)
  if cpu:
    V = _recursive(y, sr, hop_length, freqs, per_hz, cutoff, bpo, norm, sparsity, window, pad_mode, scale, res_type)
  else:
    V = _one_kernel(y, sr, hop_length, freqs, per_hz, cutoff, bpo, norm, sparsity, window, pad_mode, scale)
  return V.astype(cdt)


_TRANSFORM_ARGS = """    y: ``(..., n_samples)`` real signal.
    sr: sample rate (Hz).
    hop_length: frame hop. The octaves are decimated by 2 while it stays even (as in librosa).
    fmin: lowest frequency; default C1 ≈ 32.70 Hz.
    n_bins: number of bins.
    bins_per_octave: bins per octave.
    tuning: tuning offset in fractions of a bin; ``None`` estimates it from ``y`` with
      :func:`jaxdsp.estimate_tuning`, one estimate per example (``cqt`` and ``vqt``: also under ``jit`` and
      ``vmap``; ``pseudo_cqt`` and ``hybrid_cqt``: from a concrete ``y`` only, a batch's mean estimate).
    filter_scale: filter length scale.
    norm: normalisation of each filter (1, 2, ``np.inf`` or ``None``).
    sparsity: fraction of each frequency-domain kernel's mass dropped (``0`` keeps all).
    window: the filters' window (``"hann"``, ``"hamming"``, ``"blackman"``, ``"boxcar"``).
    scale: divide bin ``k`` by ``√L_k`` (librosa's ``scale=True``).
    pad_mode: centre padding of the frames (``"constant"``, ``"reflect"``, ...)."""


def vqt(y: ArrayLike, *, sr: float = 22050, hop_length: int = 512, fmin: float | None = None, n_bins: int = 84,
        intervals: str | ArrayLike = "equal", gamma: float | None = None, bins_per_octave: int = 12,
        tuning: float | None = 0.0, filter_scale: float = 1, norm: float | None = 1, sparsity: float = 0.01,
        window: str = "hann", scale: bool = True, pad_mode: str = "constant", res_type: str | None = None,
        dtype: Any = None) -> jax.Array:
  """Variable-Q transform: a constant-Q transform whose filters widen by ``gamma`` Hz at low frequencies.

  ``V[..., k, t] = Σ_n y[n + t·hop_length - L_k/2] · conj(a_k[n]) / √L_k`` (with ``scale``), ``a_k`` the
  :func:`wavelet_filterbank` filter of bin ``k`` (length ``L_k``, centre frequency from
  :func:`cqt_frequencies`), evaluated as librosa evaluates it: frequency-domain kernels sparsified to
  ``1 - sparsity`` of their mass (see the module docstring for the two computations). Linear in ``y``.

  Args:
{args}
    intervals: the spacing of the bins within each octave: ``"equal"`` (equal temperament),
      ``"pythagorean"``, ``"ji3"``, ``"ji5"``, ``"ji7"`` (just intonation), or a 1-D array of distinct ratios
      in ``[1, 2)`` (``bins_per_octave`` is then its length); see :func:`interval_frequencies`. ``tuning``
      shifts ``fmin`` for every set, as librosa.
    gamma: bandwidth offset in Hz; ``None`` follows the ERB scale (``α · 24.7 / 0.108``), ``0`` is the CQT.
    res_type: how the CPU computation halves the rate between octaves: ``None`` or ``"soxr_hq"`` (librosa's
      default) use :func:`jaxdsp.resample`, which follows soxr's "HQ" filter, so the result matches
      librosa's; ``"halfband"`` uses a 63-tap half-band filter, several times faster, which is flat where
      soxr's pass band ripples (the lowest octave then differs from librosa's by up to ~0.5 % of the
      peak on music: see ``tests/test_cqt.py``). Accelerators compute all octaves at the full rate
      (no decimation) and ignore it.
    dtype: complex output dtype; default complex64 (complex128 for float64 input under x64).

  Returns:
    ``(..., n_bins, 1 + n_samples // hop_length)`` complex.

  Raises:
    ValueError: bad sizes or choices, filters reaching above the Nyquist frequency (for ``tuning=None``, at
      any tuning in [-0.5, 0.5)), ``tuning=None`` where the filter layout changes within that range.
    TypeError: integer ``y``, a non-complex ``dtype``, a non-numeric ``tuning``.

  Examples:
    >>> import jaxdsp as jd
    >>> y = jnp.sin(2 * jnp.pi * 440.0 * jnp.arange(22050) / 22050)
    >>> V = jd.vqt(y, sr=22050, fmin=110.0, n_bins=48)
    >>> V.shape, int(jnp.abs(V[:, 20]).argmax())  # A4 is 24 semitones above A2
    ((48, 44), 24)

  Compare ``librosa.vqt``.

  References:
    C. Schörkhuber, A. Klapuri, N. Holighaus and M. Dörfler, "A Matlab toolbox for efficient perfect
    reconstruction time-frequency transforms with log-frequency resolution", AES 53rd Conference, 2014.
  """
  y = _checks.as_signal(y)
  bins_per_octave = _checks.positive_int(bins_per_octave, "bins_per_octave")
  ratios, bins_per_octave = octave_ratios(intervals, bins_per_octave)
  if gamma is not None:
    gamma = _checks.positive_number(gamma, "gamma", allow_zero=True)
  _checks.choice(res_type, "res_type", RES_TYPES)
  cdt = _complex_dtype(y, dtype)
  if tuning is None and (isinstance(y, jax.core.Tracer) or y.ndim > 1):
    # one estimate per example, the kernels built from it in JAX (traceable: jit, vmap)
    try:
      static = _tuning_layout(sr, hop_length, fmin, n_bins, bins_per_octave, filter_scale, norm, sparsity, window,
                              scale, pad_mode, gamma, ratios)
    except _LayoutChanges:
      if isinstance(y, jax.core.Tracer):
        raise
      # a concrete batch: example by example, each with the NumPy filters of its own estimate
      kw = dict(sr=sr, hop_length=hop_length, fmin=fmin, n_bins=n_bins, intervals=intervals, gamma=gamma,
                bins_per_octave=bins_per_octave, filter_scale=filter_scale, norm=norm, sparsity=sparsity,
                window=window, scale=scale, pad_mode=pad_mode, res_type=res_type, dtype=dtype)
      rows = [vqt(row, tuning=None, **kw) for row in y.reshape(-1, y.shape[-1])]
      return jnp.stack(rows).reshape(*y.shape[:-1], *rows[0].shape)
    from jaxdsp.chroma import estimate_tuning  # pylint: disable=import-outside-toplevel
    est = estimate_tuning(y, sr=static[0], bins_per_octave=bins_per_octave)
    return _vqt_tuned_jit(y, est, static=static, res_type=res_type, cdt=cdt)
  tuning = _tuned(y, tuning, sr, bins_per_octave)
  args = check_common(sr, hop_length, fmin, n_bins, bins_per_octave, tuning, filter_scale, norm, sparsity, window,
                       scale, pad_mode)
  plan(args[0], *args[2:7], args[9], gamma, ratios=ratios)  # the Nyquist check, before tracing
  if not _core.cpu_path():
    return _vqt_jit(y, args=args, gamma=gamma, res_type=res_type, cdt=cdt, cpu=False, ratios=ratios)
  # CPU: the octaves' kernels enter the compiled recursion as arguments, not constants (faster to compile,
  # and a new tuning with kernels of the same shapes reuses the compiled program).
  struct, kernels = _recursion(args, gamma, ratios, jnp.dtype(y.dtype).name)
  return _recursion_jit(y, kernels, struct=struct, res_type=res_type, cdt=cdt)


@functools.lru_cache(maxsize=32)
def _recursion(args, gamma, ratios, dtype):
  """The static structure of librosa's recursion for these settings and its real kernels (cached)."""
  sr, hop_length, fmin, n_bins, bpo, tuning, filter_scale, norm, sparsity, window, scale, pad_mode = args
  freqs, per_hz, cutoff = plan(sr, fmin, n_bins, bpo, tuning, filter_scale, window, gamma, ratios=ratios)
  count, octaves = octave_plan(sr, hop_length, freqs, per_hz, cutoff, bpo, norm, sparsity, window, scale)
  kernels = tuple(np.concatenate([o[2].real, o[2].imag]).astype(dtype) for o in octaves)  # NumPy: no device state
  for k in kernels:
    k.setflags(write=False)
  struct = (count, tuple((lo, hi, None, hop, dec) for lo, hi, _, hop, dec in octaves), pad_mode, scale)
  return struct, kernels


@functools.partial(jax.jit, static_argnames=("struct", "res_type", "cdt"))
def _recursion_jit(y, kernels, lengths=None, *, struct, res_type, cdt):
  count, octaves, pad_mode, scale = struct
  return run_octaves(y, count, octaves, kernels, pad_mode, scale, res_type, lengths).astype(cdt)


def vqt_of_length(y: jax.Array, lengths: jax.Array, *, sr: float, hop_length: int, fmin: float | None, n_bins: int,
                  bins_per_octave: int, intervals: Any = "equal", gamma: float | None = 0.0,
                  tuning: float = 0.0) -> jax.Array:
  """:func:`vqt` (librosa's other defaults, a numeric ``tuning``) of rows ``y`` ``(..., n)`` that each hold a
  signal of ``lengths[...]`` samples (traceable) followed by anything: each row's frames equal those of
  ``vqt`` of its signal alone, followed by more frames. The feature registry's constant-Q features use it
  on signals stitched from hop blocks (batch rows, pieces of long files), longer than the signal."""
  y = _checks.as_signal(y)
  bins_per_octave = _checks.positive_int(bins_per_octave, "bins_per_octave")
  ratios, bins_per_octave = octave_ratios(intervals, bins_per_octave)
  lengths = jnp.asarray(lengths, jnp.int32)
  args = check_common(sr, hop_length, fmin, n_bins, bins_per_octave, tuning, 1, 1, 0.01, "hann", True, "constant")
  plan(args[0], *args[2:7], args[9], gamma, ratios=ratios)
  cdt = _complex_dtype(y, None)
  if not _core.cpu_path():  # no decimation: the signal alone is the row cut at its length
    return _vqt_jit(_cut(y, lengths), args=args, gamma=gamma, res_type=None, cdt=cdt, cpu=False, ratios=ratios)
  struct, kernels = _recursion(args, gamma, ratios, jnp.dtype(y.dtype).name)
  return _recursion_jit(y, kernels, lengths, struct=struct, res_type=None, cdt=cdt)


# ---------------------------------------------------------------------------------------------
# tuning=None on a traced signal or a batch: librosa's recursion with kernels built in JAX from each example's
# estimate. estimate_tuning returns the left edges of its 0.01-wide histogram bins, -0.5 ... 0.49; the layout
# (early decimation, octaves, each octave's FFT size) must be the same at both ends of that range.

_TUNING_RANGE = (-0.5, 0.49)
# generalised cosine windows (periodic), a0 + a1·cos(2πn/M) + a2·cos(4πn/M): _core.window_np's formulas
_COSINE_WINDOWS = {"hann": (0.5, -0.5, 0.0), "hamming": (0.54, -0.46, 0.0), "blackman": (0.42, -0.5, 0.08),
                   "boxcar": (1.0, 0.0, 0.0), "rectangular": (1.0, 0.0, 0.0), "ones": (1.0, 0.0, 0.0)}


def _octave_layout(sr, hop_length, per_hz, cutoff, bins_per_octave):
  """:func:`octave_plan`'s structure without its kernels: the early decimation count, the top rate and per
  octave ``(lo, hi, n_fft, rate, hop, decimate)``."""
  n_bins = len(per_hz)
  n_octaves = -(-n_bins // bins_per_octave)
  n_filters = min(bins_per_octave, n_bins)
  count = _early_downsample_count(sr / 2, cutoff, hop_length, n_octaves)
  sr, hop_length = sr / 2**count, hop_length // 2**count
  sr_top, octaves = sr, []
  for i in range(n_octaves):
    hi = n_bins - n_filters * i
    lo = max(0, hi - n_filters)
    n_fft = int(2.0 ** np.ceil(np.log2(max(per_hz[lo:hi] * sr))))
    decimate = hop_length % 2 == 0
    octaves.append((lo, hi, n_fft, sr, hop_length, decimate and i < n_octaves - 1))
    if decimate:
      hop_length, sr = hop_length // 2, sr / 2
  return count, sr_top, tuple(octaves)


class _LayoutChanges(ValueError):
  """The filter layout changes within the tuning estimates' range (``tuning=None`` cannot be traced)."""


def _tuning_layout(sr, hop_length, fmin, n_bins, bins_per_octave, filter_scale, norm, sparsity, window, scale,
                   pad_mode, gamma, ratios) -> tuple:
  """The checked, static description of a transform whose tuning is estimated per example (hashable). Raises
  a ``ValueError`` naming ``tuning`` when the layout changes within the estimates' range."""
  layouts = []
  for tuning in _TUNING_RANGE:
    try:
      args = check_common(sr, hop_length, fmin, n_bins, bins_per_octave, tuning, filter_scale, norm, sparsity,
                          window, scale, pad_mode)
      _, per_hz, cutoff = plan(args[0], *args[2:7], args[9], gamma, ratios=ratios)
    except ValueError as e:
      if "must" in str(e):  # a bad argument, whatever the tuning
        raise
      raise ValueError(f"tuning=None: with a tuning of {tuning:+.2f} bin (the range estimate_tuning returns), {e}; "
                       "pass a number") from e
    layouts.append(_octave_layout(args[0], args[1], per_hz, cutoff, args[4]))
  if layouts[0] != layouts[1]:
    raise _LayoutChanges("tuning=None on a traced signal needs the same filter layout for every tuning in "
                     "[-0.5, 0.5) (here the early decimation or an octave's FFT size changes within it, as "
                     "librosa's does): pass a number, e.g. jaxdsp.estimate_tuning computed outside")
  sr, hop_length, fmin, n_bins, bpo, _, filter_scale, norm, sparsity, window, scale, pad_mode = args
  if ratios is None:
    base = fmin * 2.0 ** (np.arange(n_bins, dtype=float) / bpo)
  else:
    base = _ratio_frequencies(n_bins, fmin, ratios)
  alpha = _alpha(base, bpo)  # the relative bandwidths depend on the spacing only, not on the tuning
  gamma_arr = alpha * 24.7 / 0.108 if gamma is None else np.full(n_bins, float(gamma))
  return (sr, tuple(base.tolist()), bpo, tuple((filter_scale / alpha).tolist()), tuple((gamma_arr / alpha).tolist()),
          norm, sparsity, window, scale, pad_mode, layouts[0])


def _traced_kernels(tuning: jax.Array, static: tuple, dtype: Any) -> list[jax.Array]:
  """:func:`octave_plan`'s real kernels for one traced ``tuning`` (a scalar), built in JAX as
  :func:`_filter_fft` and :func:`_time_kernel` build them in NumPy: windowed complex exponentials of
  :func:`wavelet_lengths` samples centred in the octave's FFT size, normalised, scaled by ``L / n_fft``,
  transformed, sparsified row by row, and back to the time domain. The octaves of one FFT size are built
  together (every step is row by row)."""
  _, base, bpo, Q, g_over_a, norm, sparsity, window, scale, _, (_, sr_top, octaves) = static
  freqs = jnp.asarray(base, dtype) * 2.0 ** (tuning.astype(dtype) / bpo)
  per_hz = jnp.asarray(Q, dtype) / (freqs + jnp.asarray(g_over_a, dtype))
  a0, a1, a2 = _COSINE_WINDOWS[window]
  kernels = [None] * len(octaves)
  for n_fft in sorted({o[2] for o in octaves}):
    group = [i for i, o in enumerate(octaves) if o[2] == n_fft]
    rows = np.concatenate([np.arange(octaves[i][0], octaves[i][1]) for i in group])
    rate = np.concatenate([np.full(octaves[i][1] - octaves[i][0], octaves[i][3]) for i in group])[:, None]
    f, lengths = freqs[rows, None], per_hz[rows, None] * rate
    start = jnp.floor(-lengths / 2)  # np.arange(-L // 2, L // 2): M samples from start
    M = jnp.floor(lengths / 2) - start
    n = jnp.arange(n_fft, dtype=dtype) - jnp.floor((n_fft - M) / 2)
    x = 2 * np.pi * n / M
    w = jnp.where(M == 1, 1.0, a0 + a1 * jnp.cos(x) + a2 * jnp.cos(2 * x))
    w = jnp.where((n >= 0) & (n < M), w, 0.0)
    if norm is None:
      scale_w = 1.0
    elif norm == np.inf:
      scale_w = 1.0 / w.max(axis=-1, keepdims=True)
    else:
      scale_w = 1.0 / jnp.sum(w**norm, axis=-1, keepdims=True) ** (1.0 / norm)
    phase = 2 * np.pi * jnp.remainder(f / rate * (start + n), 1.0)
    amp = w * scale_w * lengths / n_fft
    basis = jnp.fft.fft(jax.lax.complex(amp * jnp.cos(phase), amp * jnp.sin(phase)), axis=-1)[:, : n_fft // 2 + 1]
    if sparsity > 0:  # _sparsify_rows
      mags = jnp.abs(basis)
      srt = jnp.sort(mags, axis=-1)
      cumulative = jnp.cumsum(srt / mags.sum(axis=-1, keepdims=True), axis=-1)
      idx = jnp.argmin(cumulative < sparsity, axis=-1)
      basis = jnp.where(mags >= jnp.take_along_axis(srt, idx[:, None], -1), basis, 0.0)
    K = jnp.fft.fft(basis, n=n_fft, axis=-1) * jnp.asarray(np.sqrt(sr_top / rate), dtype)  # _time_kernel
    if scale:
      K = K / jnp.sqrt(per_hz[rows, None] * sr_top)
    offset = 0
    for i in group:
      k = octaves[i][1] - octaves[i][0]
      kernels[i] = jnp.concatenate([K[offset : offset + k].real, K[offset : offset + k].imag]).astype(dtype)
      offset += k
  return kernels


@functools.partial(jax.jit, static_argnames=("static", "res_type", "cdt"))
def _vqt_tuned_jit(y, tuning, *, static, res_type, cdt):
  """``vqt`` of each example with its own tuning ``(...)``: librosa's recursion, kernels from the tuning."""
  count, _, octaves = static[-1]
  struct = tuple((lo, hi, None, hop, dec) for lo, hi, _, _, hop, dec in octaves)
  pad_mode, scale = static[9], static[8]

  def one(yi, ti):
    kernels = _traced_kernels(ti, static, yi.dtype)
    return run_octaves(yi, count, struct, kernels, pad_mode, scale, res_type)

  lead = y.shape[:-1]
  V = jax.vmap(one)(y.reshape(-1, y.shape[-1]), jax.lax.stop_gradient(tuning).reshape(-1))
  return V.reshape(*lead, *V.shape[1:]).astype(cdt)


def cqt(y: ArrayLike, *, sr: float = 22050, hop_length: int = 512, fmin: float | None = None, n_bins: int = 84,
        bins_per_octave: int = 12, tuning: float | None = 0.0, filter_scale: float = 1, norm: float | None = 1,
        sparsity: float = 0.01, window: str = "hann", scale: bool = True, pad_mode: str = "constant",
        res_type: str | None = None, dtype: Any = None) -> jax.Array:
  """Constant-Q transform: :func:`vqt` with ``gamma=0`` (every filter ``Q = filter_scale / α`` cycles long).

  ``C[..., k, t] = Σ_n y[n + t·hop_length - L_k/2] · conj(a_k[n]) / √L_k`` with ``a_k`` the windowed
  complex exponential at ``f[k] = fmin · 2^((k + tuning) / bins_per_octave)``, ``L_k = Q·sr / f[k]``
  samples long. Linear in ``y``, so ``grad`` flows through it (``jnp.abs(C)`` has a NaN gradient
  where ``C`` is exactly 0, e.g. on digital silence: square it or floor it first).

  Args:
{args}
    res_type: how the CPU computation halves the rate between octaves: ``None`` or ``"soxr_hq"`` (librosa's
      default) use :func:`jaxdsp.resample`, which follows soxr's "HQ" filter, so the result matches
      librosa's; ``"halfband"`` uses a 63-tap half-band filter, several times faster, which is flat where
      soxr's pass band ripples (the lowest octave then differs from librosa's by up to ~0.5 % of the
      peak on music: see ``tests/test_cqt.py``). Accelerators compute all octaves at the full rate
      (no decimation) and ignore it.
    dtype: complex output dtype; default complex64 (complex128 for float64 input under x64).

  Returns:
    ``(..., n_bins, 1 + n_samples // hop_length)`` complex.

  Raises:
    ValueError: bad sizes or choices, filters reaching above the Nyquist frequency (for ``tuning=None``, at
      any tuning in [-0.5, 0.5)), ``tuning=None`` where the filter layout changes within that range.
    TypeError: integer ``y``, a non-complex ``dtype``, a non-numeric ``tuning``.

  Examples:
    >>> import jaxdsp as jd
    >>> y = jnp.sin(2 * jnp.pi * 261.63 * jnp.arange(22050) / 22050)  # C4
    >>> C = jd.cqt(y, sr=22050)
    >>> C.shape, int(jnp.abs(C[:, 20]).argmax())  # C4 is three octaves above C1
    ((84, 44), 36)

  Compare ``librosa.cqt`` (matches it to float32 round-off; tolerances in ``tests/test_cqt.py``).

  References:
    C. Schörkhuber and A. Klapuri, "Constant-Q transform toolbox for music processing", SMC 2010.
  """
  return vqt(y, sr=sr, hop_length=hop_length, fmin=fmin, n_bins=n_bins, gamma=0.0, bins_per_octave=bins_per_octave,
             tuning=tuning, filter_scale=filter_scale, norm=norm, sparsity=sparsity, window=window, scale=scale,
             pad_mode=pad_mode, res_type=res_type, dtype=dtype)


@functools.partial(jax.jit, static_argnames=("args",))
def _pseudo_jit(y, *, args):
  sr, hop_length, fmin, n_bins, bpo, tuning, filter_scale, norm, sparsity, window, scale, pad_mode = args
  freqs, per_hz, _ = plan(sr, fmin, n_bins, bpo, tuning, filter_scale, window, 0.0, check=False)
  basis, n_fft = _basis(sr, freqs, per_hz, norm, sparsity, window, hop_length)
  C = _response(y, np.abs(basis), n_fft, hop_length, pad_mode, phase=False, window="hann")
  if scale:
    return C / math.sqrt(n_fft)
  return C * jnp.asarray(np.sqrt(per_hz * sr / n_fft)[:, None], C.dtype)


def pseudo_cqt(y: ArrayLike, *, sr: float = 22050, hop_length: int = 512, fmin: float | None = None,
               n_bins: int = 84, bins_per_octave: int = 12, tuning: float | None = 0.0, filter_scale: float = 1,
               norm: float | None = 1, sparsity: float = 0.01, window: str = "hann", scale: bool = True,
               pad_mode: str = "constant", dtype: Any = None) -> jax.Array:
  """Pseudo constant-Q transform: the magnitudes of the constant-Q kernels applied to one Hann-windowed
  STFT magnitude (fast, no decimation; exact for high bins whose filters fit in the STFT frame).

  ``C[..., k, t] = Σ_f |K[k, f]| · |STFT_hann(y)[f, t]| / √n_fft`` with ``K`` the full-rate
  frequency-domain kernels and ``n_fft`` their common power-of-two length (at least ``2 · hop_length``).

  Args:
{args}
    dtype: accepted for librosa compatibility; the result is real in ``y``'s dtype.

  Returns:
    ``(..., n_bins, 1 + n_samples // hop_length)`` real, non-negative.

  Raises:
    ValueError: bad sizes or choices, ``tuning=None`` under ``jit``.
    TypeError: integer ``y``.

  Examples:
    >>> import jaxdsp as jd
    >>> y = jnp.sin(2 * jnp.pi * 1760.0 * jnp.arange(22050) / 22050)
    >>> C = jd.pseudo_cqt(y, sr=22050, fmin=440.0, n_bins=36)
    >>> C.shape, int(C[:, 20].argmax())
    ((36, 44), 24)

  Compare ``librosa.pseudo_cqt``.
  """
  y = _checks.as_signal(y)
  del dtype
  tuning = _tuned(y, tuning, sr, bins_per_octave)
  args = check_common(sr, hop_length, fmin, n_bins, bins_per_octave, tuning, filter_scale, norm, sparsity, window,
                       scale, pad_mode)
  return _pseudo_jit(y, args=args)


def hybrid_cqt(y: ArrayLike, *, sr: float = 22050, hop_length: int = 512, fmin: float | None = None,
               n_bins: int = 84, bins_per_octave: int = 12, tuning: float | None = 0.0, filter_scale: float = 1,
               norm: float | None = 1, sparsity: float = 0.01, window: str = "hann", scale: bool = True,
               pad_mode: str = "constant", res_type: str | None = None, dtype: Any = None) -> jax.Array:
  """Hybrid constant-Q transform magnitude: :func:`pseudo_cqt` for the high bins whose filters are
  shorter than the STFT frame (``2^⌈log2 L_k⌉ < 2 · hop_length``), ``|cqt|`` for the rest.

  Args:
{args}
    res_type: as in :func:`cqt`.
    dtype: accepted for librosa compatibility; the result is real in ``y``'s dtype.

  Returns:
    ``(..., n_bins, 1 + n_samples // hop_length)`` real, non-negative (the modulus has a zero
    gradient where a coefficient is exactly zero).

  Raises:
    ValueError: bad sizes or choices, filters above the Nyquist frequency, ``tuning=None`` under ``jit``.
    TypeError: integer ``y``.

  Examples:
    >>> import jaxdsp as jd
    >>> y = jnp.sin(2 * jnp.pi * 440.0 * jnp.arange(22050) / 22050)
    >>> C = jd.hybrid_cqt(y, sr=22050, fmin=110.0, n_bins=60)
    >>> C.shape, int(C[:, 20].argmax())
    ((60, 44), 24)

  Compare ``librosa.hybrid_cqt``.
  """
  y = _checks.as_signal(y)
  del dtype
  tuning = _tuned(y, tuning, sr, bins_per_octave)
  args = check_common(sr, hop_length, fmin, n_bins, bins_per_octave, tuning, filter_scale, norm, sparsity, window,
                       scale, pad_mode)
  sr, hop_length, fmin, n_bins, bpo, tuning, filter_scale, norm, sparsity, window, scale, pad_mode = args
  freqs, per_hz, _ = plan(sr, fmin, n_bins, bpo, tuning, filter_scale, window, 0.0)
  pseudo = 2.0 ** np.ceil(np.log2(per_hz * sr)) < 2 * hop_length
  n_pseudo = int(pseudo.sum())
  n_full = n_bins - n_pseudo
  parts = []
  common = dict(sr=sr, hop_length=hop_length, bins_per_octave=bpo, filter_scale=filter_scale, norm=norm,
                sparsity=sparsity, window=window, scale=scale, pad_mode=pad_mode)
  if n_full > 0:
    C = cqt(y, fmin=fmin * 2.0 ** (tuning / bpo), n_bins=n_full, res_type=res_type, **common)
    parts.append(_ops.safe_sqrt(_ops.abs2(C)))
  if n_pseudo > 0:
    parts.append(pseudo_cqt(y, fmin=float(freqs[pseudo].min()), n_bins=n_pseudo, **common))
  n_frames = min(p.shape[-1] for p in parts)
  return jnp.concatenate([p[..., :n_frames] for p in parts], axis=-2)


vqt.__doc__ = vqt.__doc__.format(args=_TRANSFORM_ARGS)
cqt.__doc__ = cqt.__doc__.format(args=_TRANSFORM_ARGS)
pseudo_cqt.__doc__ = pseudo_cqt.__doc__.format(args=_TRANSFORM_ARGS)
hybrid_cqt.__doc__ = hybrid_cqt.__doc__.format(args=_TRANSFORM_ARGS)


# ---------------------------------------------------------------------------------------------
# Inverse.


def _icqt_core(C, *, args, length, res_type):
  """librosa's ``icqt``: per octave, the conjugate kernels weighted to invert the forward filters' power,
  an inverse STFT with a rectangular window, and an upsampling to the full rate; octaves summed."""
  from jaxdsp.io import resample  # pylint: disable=import-outside-toplevel
  from jaxdsp.spectral import istft  # pylint: disable=import-outside-toplevel
  del res_type  # upsampling always follows soxr's "HQ" design (jaxdsp.resample)
  sr, hop_length, fmin, bpo, tuning, filter_scale, norm, sparsity, window, scale = args
  n_bins = C.shape[-2]
  n_octaves = -(-n_bins // bpo)
  freqs, per_hz, _ = plan(sr, fmin, n_bins, bpo, tuning, filter_scale, window, 0.0, check=False)
  lengths = per_hz * sr
  if length is not None:
    C = C[..., : int(np.ceil((length + max(lengths)) / hop_length))]
  srs, hops = [sr], [hop_length]
  for _ in range(n_octaves - 1):
    if hops[0] % 2 == 0:
      srs.insert(0, srs[0] * 0.5)
      hops.insert(0, hops[0] // 2)
    else:
      srs.insert(0, srs[0])
      hops.insert(0, hops[0])
  real = C.real.dtype
  y = None
  for i, (my_sr, my_hop) in enumerate(zip(srs, hops)):
    n_filters = min(bpo, n_bins - bpo * i)
    sl = slice(bpo * i, bpo * i + n_filters)
    basis, n_fft = _basis(my_sr, freqs[sl], per_hz[sl], norm, sparsity, window)
    inv_basis = basis.conj().T  # (n_freq, n_filters)
    freq_power = 1 / np.sum(np.abs(inv_basis) ** 2, axis=0) * (n_fft / lengths[sl])
    weight = freq_power * (np.sqrt(lengths[sl]) if scale else 1.0)
    W = jnp.asarray((inv_basis * weight).astype(np.complex128), jnp.result_type(real, jnp.complex64))
    D = jnp.einsum("fc,...ct->...ft", W, C[..., sl, :], precision=jax.lax.Precision.HIGHEST)
    y_oct = istft(D, hop_length=my_hop, window="ones")
    y_oct = resample(y_oct, orig_sr=1, target_sr=int(sr // my_sr))
    if y is None:
      y = y_oct
    else:
      m = min(y.shape[-1], y_oct.shape[-1])
      y = y.at[..., :m].add(y_oct[..., :m])
  if length is not None:
    if y.shape[-1] >= length:
      y = y[..., :length]
    else:
      y = jnp.pad(y, [(0, 0)] * (y.ndim - 1) + [(0, length - y.shape[-1])])
  return y


_icqt_jit = jax.jit(_icqt_core, static_argnames=("args", "length", "res_type"))


def _inverse_args(sr, hop_length, fmin, bins_per_octave, tuning, filter_scale, norm, sparsity, window, scale):
  full = check_common(sr, hop_length, fmin, 1, bins_per_octave, tuning, filter_scale, norm, sparsity, window, scale,
                       "constant")
  sr, hop_length, fmin, _, bpo, tuning, filter_scale, norm, sparsity, window, scale, _ = full
  return (sr, hop_length, fmin, bpo, tuning, filter_scale, norm, sparsity, window, scale)


def _check_length(length: int | None, hop_length: int, n_frames: int) -> None:
  """An output ``length`` at most one hop past the frames of ``C`` (longer outputs would only be zeros)."""
  if length is not None and length > hop_length * (n_frames + 1):
    raise ValueError(f"length must be at most hop_length · (n_frames + 1) = {hop_length * (n_frames + 1)} for "
                     f"{n_frames} frames, got {length}")


def icqt(C: ArrayLike, *, sr: float = 22050, hop_length: int = 512, fmin: float | None = None,
         bins_per_octave: int = 12, tuning: float = 0.0, filter_scale: float = 1, norm: float | None = 1,
         sparsity: float = 0.01, window: str = "hann", scale: bool = True, length: int | None = None,
         res_type: str | None = None, dtype: Any = None) -> jax.Array:
  """Inverse constant-Q transform (librosa's approximate inverse of :func:`cqt`).

  Octave by octave: ``D = Σ_k conj(K[k, f]) · w_k · C[k, t]`` with ``w_k = √L_k (if scale) · n_fft /
  (L_k · Σ_f |K[k, f]|²)``, then an inverse STFT with a rectangular window at the octave's rate, an
  upsampling to ``sr`` (:func:`jaxdsp.resample`), and the octaves summed. Linear in ``C``.

  Args:
    C: ``(..., n_bins, n_frames)`` complex constant-Q transform.
    sr, hop_length, fmin, bins_per_octave, tuning, filter_scale, norm, sparsity, window, scale: the
      arguments ``C`` was computed with (see :func:`cqt`).
    length: output length in samples (cut or zero-padded), as librosa's ``length``; at most
      ``hop_length · (n_frames + 1)``.
    res_type: accepted for librosa compatibility (upsampling follows soxr's "HQ" design).
    dtype: accepted for librosa compatibility; the output is real in ``C``'s precision.

  Returns:
    ``(..., n_samples)`` real signal.

  Raises:
    ValueError: bad sizes or choices; ``C`` of rank below 2.

  Examples:
    >>> import jaxdsp as jd
    >>> y = jnp.sin(2 * jnp.pi * 440.0 * jnp.arange(22050) / 22050)
    >>> C = jd.cqt(y, sr=22050, fmin=110.0, n_bins=48)
    >>> y_hat = jd.icqt(C, sr=22050, fmin=110.0, length=22050)
    >>> y_hat.shape, bool(jnp.corrcoef(y[4096:-4096], y_hat[4096:-4096])[0, 1] > 0.9)
    ((22050,), True)

  Compare ``librosa.icqt``.
  """
  C = _checks.as_signal(C, "C", min_ndim=2, allow_complex=True)
  if not jnp.iscomplexobj(C):
    C = C.astype(jnp.result_type(C.dtype, jnp.complex64))
  del dtype
  _checks.choice(res_type, "res_type", RES_TYPES)
  if length is not None:
    length = _checks.positive_int(length, "length")
  args = _inverse_args(sr, hop_length, fmin, bins_per_octave, tuning, filter_scale, norm, sparsity, window, scale)
  _check_length(length, args[1], C.shape[-1])
  return _icqt_jit(C, args=args, length=length, res_type=res_type)


def griffinlim_cqt(C: ArrayLike, *, n_iter: int = 32, sr: float = 22050, hop_length: int = 512,
                   fmin: float | None = None, bins_per_octave: int = 12, tuning: float = 0.0, filter_scale: float = 1,
                   norm: float | None = 1, sparsity: float = 0.01, window: str = "hann", scale: bool = True,
                   pad_mode: str = "constant", res_type: str | None = None, dtype: Any = None,
                   length: int | None = None, momentum: float = 0.99, init: str | None = "random",
                   random_state: int | jax.Array | None = None) -> jax.Array:
  """Signal whose constant-Q magnitude approximates ``C``: fast Griffin-Lim (Perraudin et al. 2013)
  alternating :func:`icqt` and :func:`cqt`.

  ``x_n = icqt(C · a_n)``, ``R_n = cqt(x_n)``, ``a_{n+1} = phase(R_n - momentum/(1+momentum) · R_{n-1})``;
  returns ``icqt(C · a_N)``. Runs as one ``lax.fori_loop`` (compiled once); differentiable in ``C``.

  Args:
    C: ``(..., n_bins, n_frames)`` constant-Q magnitudes.
    n_iter: iterations.
    sr, hop_length, fmin, bins_per_octave, tuning, filter_scale, norm, sparsity, window, scale, pad_mode,
      res_type: as in :func:`cqt`.
    dtype: accepted for librosa compatibility.
    length: output length in samples (at most ``hop_length · (n_frames + 1)``).
    momentum: momentum of the fast Griffin-Lim, ≥ 0.
    init: ``"random"`` (uniform random phases) or ``None`` (zero phases).
    random_state: seed (int) or ``jax.random`` key for ``init="random"``; default seed 0 (librosa's
      NumPy generators give other phases, so random starts do not match librosa's).

  Returns:
    ``(..., n_samples)`` real signal.

  Raises:
    ValueError: ``momentum < 0``, unknown ``init``, bad sizes or choices.

  Examples:
    >>> import jaxdsp as jd
    >>> y = jnp.sin(2 * jnp.pi * 440.0 * jnp.arange(11025) / 22050)
    >>> C = jnp.abs(jd.cqt(y, sr=22050, fmin=110.0, n_bins=48))
    >>> jd.griffinlim_cqt(C, n_iter=2, sr=22050, fmin=110.0, length=11025).shape
    (11025,)

  Compare ``librosa.griffinlim_cqt``.

  References:
    D. Griffin and J. Lim, "Signal estimation from modified short-time Fourier transform", IEEE TASSP
    32(2), 1984; N. Perraudin, P. Balazs and P. Søndergaard, "A fast Griffin-Lim algorithm", WASPAA 2013.
  """
  C = _checks.as_signal(C, "C", min_ndim=2, allow_complex=True)
  if jnp.iscomplexobj(C):
    C = _ops.safe_abs(C)
  del dtype
  n_iter = _checks.nonnegative_int(n_iter, "n_iter")
  if n_iter > 100_000:
    raise ValueError(f"n_iter must be at most 100000, got {n_iter}")
  momentum = _checks.positive_number(momentum, "momentum", allow_zero=True)
  _checks.choice(init, "init", ("random", None))
  _checks.choice(res_type, "res_type", RES_TYPES)
  if length is not None:
    length = _checks.positive_int(length, "length")
  full = check_common(sr, hop_length, fmin, C.shape[-2], bins_per_octave, tuning, filter_scale, norm, sparsity,
                       window, scale, pad_mode)
  inv = _inverse_args(sr, hop_length, fmin, bins_per_octave, tuning, filter_scale, norm, sparsity, window, scale)
  _check_length(length, inv[1], C.shape[-1])
  if init == "random":
    key = random_state if isinstance(random_state, jax.Array) else jax.random.PRNGKey(
        0 if random_state is None else _checks.nonnegative_int(random_state, "random_state"))
    angles = jnp.exp(2j * jnp.pi * jax.random.uniform(key, C.shape, dtype=C.dtype))
  else:
    angles = jnp.ones(C.shape, jnp.result_type(C.dtype, jnp.complex64))
  return _griffinlim_jit(C, angles, n_iter=n_iter, momentum=momentum, full=full, inv=inv, length=length,
                         res_type=res_type, cpu=_core.cpu_path())


@functools.partial(jax.jit, static_argnames=("n_iter", "momentum", "full", "inv", "length", "res_type", "cpu"))
def _griffinlim_jit(C, angles, *, n_iter, momentum, full, inv, length, res_type, cpu):
  cdt = jnp.dtype(angles.dtype).name
  eps = jnp.finfo(C.dtype).tiny
  n_frames = C.shape[-1]

  def forward(x):
    R = _vqt_jit(x, args=full, gamma=0.0, res_type=res_type, cdt=cdt, cpu=cpu)
    if R.shape[-1] < n_frames:
      R = jnp.pad(R, [(0, 0)] * (R.ndim - 1) + [(0, n_frames - R.shape[-1])])
    return R[..., :n_frames]

  def body(_, state):
    angles, prev = state
    rebuilt = forward(_icqt_core(C * angles, args=inv, length=length, res_type=res_type))
    new = rebuilt - (momentum / (1 + momentum)) * prev
    return new / (jnp.abs(new) + eps), rebuilt

  angles, _ = jax.lax.fori_loop(0, n_iter, body, (angles, jnp.zeros_like(angles)))
  return _icqt_core(C * angles, args=inv, length=length, res_type=res_type)
