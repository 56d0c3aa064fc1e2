"""Chroma and tonal features: ``chroma_stft``, ``chroma_cqt``, ``chroma_vqt``, ``chroma_cens``, ``tonnetz``, the chroma
filterbank (``chroma_filterbank``, librosa's ``filters.chroma``), and tuning: ``piptrack``,
``pitch_tuning``, ``estimate_tuning``.

Layout: signals ``(..., n_samples)``; chromagrams ``(..., n_chroma, n_frames)``; tonnetz
``(..., 6, n_frames)``; ``piptrack`` returns two ``(..., n_freq, n_frames)`` arrays; tunings are
``(...)`` (one per example: batch-invariant, unlike librosa, which pools the channels of a
multichannel signal into one estimate). Filterbanks are NumPy constants built from static arguments.

``tuning=None`` (librosa's default for the chroma functions) estimates the tuning from the signal, one
estimate per example (batch-invariant; librosa pools a multichannel signal's channels into one). For
``chroma_stft`` the estimate (:func:`estimate_tuning`, in JAX) and the filterbank, a smooth function of the
tuning built in JAX, are traced: ``tuning=None`` works under ``jit`` and ``vmap``. So it does for the
constant-Q ones (``chroma_cqt``, ``chroma_cens``, ``tonnetz``, through :func:`jaxdsp.cqt`), whose kernels are
then built in JAX from each example's estimate (see :mod:`jaxdsp.constantq`); with ``cqt_mode="hybrid"`` the
pseudo-CQT part needs a concrete signal (a ``ValueError`` naming ``tuning`` under ``jit``; pass a number).

``chroma_stft`` is a feature of the registry: ``jd.features(names=("chroma_stft", ...))`` and
``jaxdsp extract --features chroma_stft`` compute it in the shared STFT pass (there with
``tuning=0``, ``n_chroma=12`` and the ∞-norm unless given). So are ``chroma_cqt``, ``chroma_cens``,
``tonnetz`` (with librosa's defaults and ``tuning=0``) and ``chroma_vqt`` (``intervals="equal"`` unless given:
the registry options ``intervals`` and ``gamma``, checked as the function checks them), all with
``pad_mode="constant"`` only, computed from the signal rather than the STFT: their per-frame values before
the finishing step are the signal's hop blocks
(frame ``t`` holds ``y[t·hop : (t+1)·hop]``; shifted by ``n_fft // 2`` with ``center=False``), which the
pieces of a long file stitch back into the signal, with a row counting each block's samples of the signal;
the finish computes their constant-Q transform with each decimated octave cut at the signal's length, as
the function (and librosa) cuts it: ``features()``, batch rows padded past their signal and the pieces of a
long file equal the direct function on every frame to float32 round-off (``tests/test_chroma_intervals.py``).
With ``center=False`` they are the first ``n_frames`` frames of the function's of
``y[n_fft // 2 : n_fft // 2 + n_frames · hop_length]``.
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


# ---------------------------------------------------------------------------------------------
# Filterbanks (NumPy).


def _tuning_value(tuning: Any, name: str = "tuning") -> float:
  if isinstance(tuning, bool) or not isinstance(tuning, (int, float, np.integer, np.floating)) or not math.isfinite(
      tuning):
    raise TypeError(f"{name} must be a finite real number (a Python scalar) or None, got {tuning!r}")
  return float(tuning)


def chroma_filterbank(*, sr: float, n_fft: int, n_chroma: int = 12, tuning: float = 0.0, ctroct: float = 5.0,
                      octwidth: float | None = 2, norm: float | None = 2, base_c: bool = True) -> np.ndarray:
  """The chroma filterbank: Gaussian bumps around each pitch class, one per FFT bin.

  Bin ``f`` at ``n_chroma · log2(f / (A440/16))`` chroma units gets weight
  ``exp(-½ (2·d / w_f)²)`` for chroma ``c``, with ``d`` the wrapped distance from ``c`` and ``w_f`` the
  bin's width in chroma units (at least 1); columns normalised to unit ``norm``; then weighted by a
  Gaussian of ``octwidth`` octaves around octave ``ctroct``; rows rolled to start at C (``base_c``).

  Args:
    sr: sample rate.
    n_fft: FFT size.
    n_chroma: number of chroma bins.
    tuning: tuning offset in fractions of a chroma bin.
    ctroct, octwidth: centre (octaves above A0/16·... as librosa) and width of the octave weighting;
      ``octwidth=None`` weights all octaves equally.
    norm: normalisation of each column.
    base_c: start the chroma at C (else at A).

  Returns:
    ``(n_chroma, 1 + n_fft // 2)`` float32 NumPy array.

  Examples:
    >>> import jaxdsp as jd
    >>> fb = jd.chroma_filterbank(sr=22050, n_fft=2048)
    >>> fb.shape, int(fb[:, 41].argmax())  # bin 41 ≈ 441.5 Hz, an A (chroma 9 from C)
    ((12, 1025), 9)

  Compare ``librosa.filters.chroma``.
  """
  sr = _checks.sample_rate(sr, "sr")
  n_fft = _checks.positive_int(n_fft, "n_fft")
  if n_fft > 2**24:
    raise ValueError(f"n_fft must be at most 2**24, got {n_fft}")
  n_chroma = _checks.positive_int(n_chroma, "n_chroma")
  if n_chroma > 2**12:
    raise ValueError(f"n_chroma must be at most 4096, got {n_chroma}")
  tuning = _tuning_value(tuning)
  ctroct = _tuning_value(ctroct, "ctroct")
  if octwidth is not None:
    octwidth = _checks.positive_number(octwidth, "octwidth")
  norm = _checks.p_norm(norm)
  if not isinstance(base_c, (bool, np.bool_)):
    raise TypeError(f"base_c must be a bool, got {base_c!r}")
  return _core.chroma_np(sr, n_fft, n_chroma, tuning, ctroct, octwidth, norm, bool(base_c))


@functools.lru_cache(maxsize=32)
def _cq_to_chroma(n_input: int, bins_per_octave: int, n_chroma: int, fmin: float, window: tuple | None,
                  base_c: bool = True) -> np.ndarray:
  n_merge = bins_per_octave // n_chroma
  cq_to_ch = np.repeat(np.eye(n_chroma), n_merge, axis=1)
  cq_to_ch = np.roll(cq_to_ch, -int(n_merge // 2), axis=1)
  n_octaves = int(np.ceil(float(n_input) / bins_per_octave))
  cq_to_ch = np.tile(cq_to_ch, n_octaves)[:, :n_input]
  midi_0 = np.mod(12 * (np.log2(fmin) - np.log2(440.0)) + 69, 12)
  roll = midi_0 if base_c else midi_0 - 9
  roll = int(np.round(roll * (n_chroma / 12.0)))
  cq_to_ch = np.roll(cq_to_ch, roll, axis=0).astype(np.float32)
  if window is not None:
    w = np.asarray(window, dtype=np.float32)
    cq_to_ch = np.stack([np.convolve(row, w, mode="full")[(len(w) - 1) // 2 : (len(w) - 1) // 2 + n_input]
                         for row in cq_to_ch]).astype(np.float32)
  cq_to_ch.setflags(write=False)
  return cq_to_ch


# ---------------------------------------------------------------------------------------------
# Chromagrams.


def chroma_stft(y: ArrayLike | None = None, *, sr: float = 22050, S: ArrayLike | None = None,
                norm: float | None = np.inf, n_fft: int = 2048, hop_length: int = 512, win_length: int | None = None,
                window: Any = "hann", center: bool = True, pad_mode: str = "constant", tuning: float | None = None,
                n_chroma: int = 12, ctroct: float = 5.0, octwidth: float | None = 2, base_c: bool = True) -> jax.Array:
  """Chromagram from a power spectrogram: the :func:`chroma_filterbank` applied to ``|STFT|²``.

  ``chroma[..., c, t] = Σ_f W[c, f] · S[..., f, t]``, then each frame normalised to unit ``norm``
  (frames of zero energy stay zero).

  Args:
    y: ``(..., n_samples)`` signal, or ``None`` with ``S``.
    sr: sample rate.
    S: ``(..., 1 + n_fft // 2, n_frames)`` power spectrogram (keyword; ``n_fft`` is taken from it).
    norm: per-frame normalisation (``np.inf``: the maximum; a p-norm; ``None``).
    n_fft, hop_length, win_length, window, center, pad_mode: STFT arguments (see :func:`jaxdsp.stft`).
    tuning: tuning offset in fractions of a chroma bin; ``None`` estimates it per example with
      :func:`estimate_tuning` from the power spectrogram (traceable: works under ``jit`` and ``vmap``; the
      estimate is piecewise constant, so no gradient flows through it).
    n_chroma: chroma bins per octave.
    ctroct, octwidth, base_c: the filterbank's octave weighting and first chroma (see
      :func:`chroma_filterbank`).

  Returns:
    ``(..., n_chroma, n_frames)``.

  Raises:
    ValueError: both or neither of ``y`` and ``S``; bad sizes or choices.
    TypeError: integer input, non-numeric ``tuning``.

  Examples:
    >>> import jaxdsp as jd
    >>> y = jnp.sin(2 * jnp.pi * 440.0 * jnp.arange(22050) / 22050)
    >>> c = jd.chroma_stft(y, sr=22050, tuning=0.0)
    >>> c.shape, int(c[:, 10].argmax())  # A
    ((12, 44), 9)

  Compare ``librosa.feature.chroma_stft``.

  References:
    D. Ellis, "Chroma feature analysis and synthesis", 2007 (the filterbank); M. Müller, "Fundamentals
    of Music Processing", Springer 2015, ch. 3.
  """
  _core.y_or_S(y, S)
  if tuning is None:
    options = {"sr": sr, "n_chroma": n_chroma, "tuning": 0.0, "chroma_norm": norm, "ctroct": ctroct,
               "octwidth": octwidth, "base_c": base_c}
    cfg = dict(_core.config("chroma_stft", options, {"chroma_norm": "norm"}))  # the checks, before tracing
    del cfg["tuning"], cfg["n_chroma"]
    stft = dict(n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window, center=center,
                pad_mode=pad_mode)
    if S is None:  # librosa estimates from the power spectrogram, read by piptrack as a magnitude
      y = _checks.as_signal(y)
      spec = _core.signal_spec(y, **{k: v for k, v in stft.items() if k != "window"})
      n_frames = 1 + (y.shape[-1] + sum(_core.pad_widths(y.shape[-1], spec.n_fft, spec.hop_length, spec.center,
                                                          spec.pad_mode)) - spec.n_fft) // spec.hop_length
      chunk = _core.chunk_frames_for(spec.n_fft, y.dtype)  # the core's cache-sized chunk (None: accelerators)
      group = 0 if chunk is None else chunk // n_frames
      if group >= 1:
        return _chroma_estimated(y, group, stft, n_chroma, cfg)
      P = _power_spectrogram(y, stft)
    else:
      P = _checks.as_signal(S, "S", min_ndim=2)
    est = estimate_tuning(S=P, sr=sr, bins_per_octave=n_chroma)
    return _chroma_traced(P, est, n_fft=2 * (P.shape[-2] - 1), n_chroma=n_chroma, **cfg)
  options = {"sr": sr, "n_chroma": n_chroma, "tuning": tuning, "chroma_norm": norm, "ctroct": ctroct,
             "octwidth": octwidth, "base_c": base_c}
  return _core.feature("chroma_stft", y, S, n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window,
                       center=center, pad_mode=pad_mode, options=options, aliases={"chroma_norm": "norm"})


def _power_spectrogram(y: jax.Array, stft: dict) -> jax.Array:
  from jaxdsp.spectral import spectrogram  # pylint: disable=import-outside-toplevel
  return spectrogram(y, power=2.0, **stft)


def _chroma_estimated(y: jax.Array, group: int, stft: dict, n_chroma: int, cfg: dict) -> jax.Array:
  """``chroma_stft`` with ``tuning=None`` of signals ``y`` ``(..., n_samples)`` on CPU, ``group`` whole
  signals (about the core's chunk of STFT frames) per ``lax.map`` step (each step its signals' power spectrogram, tuning estimates and chroma, in
  cache: the same numbers as the whole-batch path, 1.3x faster, ``benchmarks/bench_helpers.py``). A batch
  that no group size near ``group`` divides is padded with silent rows, dropped again."""
  lead, n = y.shape[:-1], y.shape[-1]
  rows = y.reshape(-1, n)
  n_rows = rows.shape[0]

  def one(yg):
    P = _power_spectrogram(yg, stft)
    est = estimate_tuning(S=P, sr=cfg["sr"], bins_per_octave=n_chroma)
    return _chroma_traced(P, est, n_fft=2 * (P.shape[-2] - 1), n_chroma=n_chroma, **cfg)

  if n_rows <= group:
    return one(rows).reshape(*lead, n_chroma, -1)
  size = next((g for g in range(group, (group - 1) // 2, -1) if n_rows % g == 0), group)
  n_steps = -(-n_rows // size)
  rows = jnp.pad(rows, ((0, n_steps * size - n_rows), (0, 0)))
  out = jax.lax.map(one, rows.reshape(n_steps, size, n))
  return out.reshape(n_steps * size, *out.shape[2:])[:n_rows].reshape(*lead, n_chroma, -1)


@functools.lru_cache(maxsize=16)
def _chroma_parts(sr: float, n_fft: int, n_chroma: int, ctroct: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """The tuning-free parts of :func:`chroma_filterbank` (float64): each (chroma, bin) distance in ``[0, n)``
  before the tuning shift, each bin's width in chroma units, and each bin's octave offset from ``ctroct``."""
  frequencies = np.linspace(0, sr, n_fft, endpoint=False)[1:]
  frqbins = n_chroma * np.log2(frequencies / (440.0 / 16))
  frqbins = np.concatenate(([frqbins[0] - 1.5 * n_chroma], frqbins))
  width = np.concatenate((np.maximum(frqbins[1:] - frqbins[:-1], 1.0), [1]))
  n2 = np.round(float(n_chroma) / 2)
  D0 = np.remainder(np.subtract.outer(frqbins, np.arange(n_chroma, dtype=float)).T + n2 + 10 * n_chroma, n_chroma)
  k = 1 + n_fft // 2
  return D0[:, :k], width[:k], frqbins[:k] / n_chroma - ctroct


@functools.partial(jax.jit, static_argnames=("n_fft", "sr", "n_chroma", "chroma_norm", "ctroct", "octwidth", "base_c"))
def _chroma_traced(P, tuning, *, n_fft, sr, n_chroma, chroma_norm, ctroct, octwidth, base_c):
  """``chroma_stft`` of the power spectrogram ``P`` ``(..., n_freq, n_frames)`` with one (possibly traced)
  tuning per example ``(...)``: the filterbank of :func:`chroma_filterbank` built in JAX, a smooth function
  of the tuning (its distances shift by ``-tuning`` modulo ``n_chroma``, its octave weights by
  ``-tuning / n_chroma``)."""
  D0, width, octs = _chroma_parts(float(sr), n_fft, n_chroma, float(ctroct))
  dt = P.dtype
  t = jnp.asarray(tuning, dt)[..., None, None]
  n2 = float(np.round(n_chroma / 2))
  D = jnp.remainder(jnp.asarray(D0, dt) - t, n_chroma) - n2
  wts = jnp.exp(-0.5 * (2 * D / jnp.asarray(width, dt)) ** 2)
  wts = wts / jnp.sqrt(jnp.sum(wts**2, axis=-2, keepdims=True))
  if octwidth is not None:
    wts = wts * jnp.exp(-0.5 * ((jnp.asarray(octs, dt) - t / n_chroma) / octwidth) ** 2)
  if base_c:
    wts = jnp.roll(wts, -3 * (n_chroma // 12), axis=-2)
  raw = jnp.einsum("...cf,...ft->...ct", wts, P, precision=jax.lax.Precision.HIGHEST)
  return _core.p_normalize(raw, chroma_norm, -2)


def _option(key: str, value: Any, name: str) -> Any:
  """``value`` through the feature registry's one check of option ``key`` (so that ``jd.features`` and
  ``jaxdsp extract`` accept and refuse what the function does, with the same message), named ``name``."""
  return _core.OPTIONS[key].check(value, name)


def _check_chroma_cqt(sr, hop_length, fmin, norm, threshold, n_chroma, n_octaves, bins_per_octave, cqt_mode, window):
  n_chroma = _option("n_chroma", n_chroma, "n_chroma")
  n_octaves = _option("n_octaves", n_octaves, "n_octaves")
  bins_per_octave = n_chroma if bins_per_octave is None else _option("bins_per_octave", bins_per_octave,
                                                                     "bins_per_octave")
  if bins_per_octave % n_chroma:
    raise ValueError(f"bins_per_octave={bins_per_octave} must be an integer multiple of n_chroma={n_chroma}")
  _checks.choice(cqt_mode, "cqt_mode", ("full", "hybrid"))
  norm = _option("chroma_norm", norm, "norm")
  if threshold is not None:
    threshold = _option("chroma_threshold", threshold, "threshold")
  if window is not None:
    window = tuple(np.asarray(window, dtype=float).ravel().tolist())
  fmin = _option("cqt_fmin", fmin, "fmin")
  fmin = 32.70319566257483 if fmin is None else fmin
  return fmin, norm, threshold, n_chroma, n_octaves, bins_per_octave, window


def chroma_cqt(y: ArrayLike | None = None, *, sr: float = 22050, C: ArrayLike | None = None, hop_length: int = 512,
               fmin: float | None = None, norm: float | None = np.inf, threshold: float = 0.0,
               tuning: float | None = None, n_chroma: int = 12, n_octaves: int = 7, window: ArrayLike | None = None,
               bins_per_octave: int | None = 36, cqt_mode: str = "full") -> jax.Array:
  """Constant-Q chromagram: ``|cqt|`` folded onto ``n_chroma`` pitch classes.

  ``chroma[..., c, t] = Σ_k M[c, k] · |C[..., k, t]|`` with ``M`` summing the ``bins_per_octave /
  n_chroma`` CQT bins around each pitch class of every octave (optionally smoothed across bins by
  ``window``); values below ``threshold`` set to 0; frames normalised to unit ``norm``.

  Args:
    y: ``(..., n_samples)`` signal, or ``None`` with ``C``.
    sr: sample rate.
    C: ``(..., n_bins, n_frames)`` constant-Q magnitudes (keyword).
    hop_length: CQT hop.
    fmin: lowest CQT frequency (default C1).
    norm: per-frame normalisation.
    threshold: floor below which chroma energy is zeroed (its gradient there is zero).
    tuning: tuning of the CQT in fractions of a bin; ``None`` estimates it per example (under ``jit`` and
      ``vmap`` too, but for ``cqt_mode="hybrid"``).
    n_chroma: chroma bins.
    n_octaves: octaves of the CQT.
    window: optional 1-D window convolved across the CQT bins of each chroma row.
    bins_per_octave: CQT bins per octave (a multiple of ``n_chroma``); ``None`` means ``n_chroma``.
    cqt_mode: ``"full"`` (:func:`jaxdsp.cqt`) or ``"hybrid"`` (:func:`jaxdsp.hybrid_cqt`).

  Returns:
    ``(..., n_chroma, n_frames)``.

  Raises:
    ValueError: both or neither of ``y`` and ``C``; ``bins_per_octave`` not a multiple of ``n_chroma``;
      bad choices; ``tuning=None`` with ``cqt_mode="hybrid"`` under ``jit``.

  Examples:
    >>> import jaxdsp as jd
    >>> y = jnp.sin(2 * jnp.pi * 261.63 * jnp.arange(22050) / 22050)
    >>> c = jd.chroma_cqt(y, sr=22050, tuning=0.0)
    >>> c.shape, int(c[:, 20].argmax())  # C
    ((12, 44), 0)

  Compare ``librosa.feature.chroma_cqt``.
  """
  fmin, norm, threshold, n_chroma, n_octaves, bins_per_octave, window = _check_chroma_cqt(
      sr, hop_length, fmin, norm, threshold, n_chroma, n_octaves, bins_per_octave, cqt_mode, window)
  if (y is None) == (C is None):
    raise ValueError("give exactly one of y (a signal) and C (constant-Q magnitudes)")
  if C is None:
    from jaxdsp.constantq import cqt, hybrid_cqt  # pylint: disable=import-outside-toplevel
    fn = cqt if cqt_mode == "full" else hybrid_cqt
    C = fn(y, sr=sr, hop_length=hop_length, fmin=fmin, n_bins=n_octaves * bins_per_octave,
           bins_per_octave=bins_per_octave, tuning=tuning)
    C = _ops.safe_sqrt(_ops.abs2(C)) if jnp.iscomplexobj(C) else C
  else:
    C = _checks.as_signal(C, "C", min_ndim=2, allow_complex=True)
    C = _ops.safe_sqrt(_ops.abs2(C)) if jnp.iscomplexobj(C) else C
  M = _cq_to_chroma(C.shape[-2], bins_per_octave, n_chroma, fmin, window)
  return _chroma_of_cqt(C, M, threshold, norm)


@functools.partial(jax.jit, static_argnames=("threshold", "norm"))
def _chroma_of_cqt(C, M, threshold, norm):
  chroma = jnp.einsum("cf,...ft->...ct", jnp.asarray(M, C.dtype), C, precision=jax.lax.Precision.HIGHEST)
  if threshold is not None:
    chroma = jnp.where(chroma < threshold, 0.0, chroma)
  return _core.p_normalize(chroma, norm, -2)


def chroma_vqt(y: ArrayLike | None = None, *, sr: float = 22050, V: ArrayLike | None = None, hop_length: int = 512,
               fmin: float | None = None, intervals: str | ArrayLike = "equal", norm: float | None = np.inf,
               threshold: float = 0.0, n_octaves: int = 7, bins_per_octave: int = 12,
               gamma: float | None = 0) -> jax.Array:
  """Variable-Q chromagram: ``|vqt|`` (with an interval set) folded onto its ``bins_per_octave`` pitch classes.

  ``chroma[..., c, t] = Σ_k M[c, k] · |V[..., k, t]|`` with ``M`` adding bin ``c`` of every octave
  (librosa's ``cq_to_chroma`` with ``n_chroma = bins_per_octave``, rolled so that the first row is the
  pitch class of C for the equal-tempered ``fmin``); values below ``threshold`` set to 0; frames normalised
  to unit ``norm``. The VQT uses ``tuning=0`` (librosa's ``chroma_vqt`` estimates none).

  Args:
    y: ``(..., n_samples)`` signal, or ``None`` with ``V``.
    sr: sample rate.
    V: ``(..., n_bins, n_frames)`` variable-Q magnitudes (keyword; complex values are taken in modulus).
    hop_length: VQT hop.
    fmin: lowest VQT frequency (default C1).
    intervals: ``"equal"``, ``"pythagorean"``, ``"ji3"``, ``"ji5"``, ``"ji7"`` or a 1-D array of ratios in
      ``[1, 2)`` (``bins_per_octave`` is then its length); see :func:`jaxdsp.interval_frequencies`. librosa
      requires it; the default here is ``"equal"``.
    norm: per-frame normalisation.
    threshold: floor below which chroma energy is zeroed (its gradient there is zero).
    n_octaves: octaves of the VQT.
    bins_per_octave: VQT bins per octave, also the number of chroma bins.
    gamma: the VQT's bandwidth offset (``0``: constant-Q; ``None``: ERB).

  Returns:
    ``(..., bins_per_octave, n_frames)``.

  Raises:
    ValueError: both or neither of ``y`` and ``V``; bad sizes or interval sets.

  Examples:
    >>> import jaxdsp as jd
    >>> y = jnp.sin(2 * jnp.pi * 392.0 * jnp.arange(22050) / 22050)  # G4: a just fifth above C
    >>> c = jd.chroma_vqt(y, sr=22050, intervals="ji5", n_octaves=6)
    >>> c.shape, int(c[:, 20].argmax())
    ((12, 44), 7)

  Compare ``librosa.feature.chroma_vqt``.
  """
  from jaxdsp import constantq  # pylint: disable=import-outside-toplevel
  bins_per_octave = _option("bins_per_octave", bins_per_octave, "bins_per_octave")
  ratios, bins_per_octave = _core.octave_ratios(intervals, bins_per_octave)
  n_octaves = _option("n_octaves", n_octaves, "n_octaves")
  norm = _option("chroma_norm", norm, "norm")
  if threshold is not None:
    threshold = _option("chroma_threshold", threshold, "threshold")
  fmin = _option("cqt_fmin", fmin, "fmin")
  fmin = 32.70319566257483 if fmin is None else fmin
  if (y is None) == (V is None):
    raise ValueError("give exactly one of y (a signal) and V (variable-Q magnitudes)")
  if V is None:
    V = constantq.vqt(y, sr=sr, hop_length=hop_length, fmin=fmin, intervals=intervals if ratios is None else ratios,
                      n_bins=n_octaves * bins_per_octave, bins_per_octave=bins_per_octave, gamma=gamma)
  else:
    V = _checks.as_signal(V, "V", min_ndim=2, allow_complex=True)
  V = _ops.safe_sqrt(_ops.abs2(V)) if jnp.iscomplexobj(V) else V
  M = _cq_to_chroma(V.shape[-2], bins_per_octave, bins_per_octave, fmin, None)
  return _chroma_of_cqt(V, M, threshold, norm)


def chroma_cens(y: ArrayLike | None = None, *, sr: float = 22050, C: ArrayLike | None = None, hop_length: int = 512,
                fmin: float | None = None, tuning: float | None = None, n_chroma: int = 12, n_octaves: int = 7,
                bins_per_octave: int = 36, cqt_mode: str = "full", window: ArrayLike | None = None,
                norm: float | None = 2, win_len_smooth: int | None = 41, smoothing_window: str = "hann") -> jax.Array:
  """Chroma Energy Normalized Statistics (CENS): L1-normalised :func:`chroma_cqt`, quantised by the
  thresholds 0.4, 0.2, 0.1, 0.05 (a quarter each), smoothed over ``win_len_smooth`` frames and
  normalised to unit ``norm``.

  The quantisation is a step function: its gradient is zero almost everywhere (CENS is a
  descriptor, not a training target).

  Args:
    y, sr, C, hop_length, fmin, tuning, n_chroma, n_octaves, bins_per_octave, cqt_mode, window: as in
      :func:`chroma_cqt`.
    norm: final per-frame normalisation.
    win_len_smooth: smoothing length in frames (``None``: no smoothing).
    smoothing_window: the smoothing window's name (a symmetric window of ``win_len_smooth + 2`` points).

  Returns:
    ``(..., n_chroma, n_frames)``.

  Raises:
    ValueError: as :func:`chroma_cqt`; ``win_len_smooth`` not a positive int or ``None``.

  Examples:
    >>> import jaxdsp as jd
    >>> y = jnp.sin(2 * jnp.pi * 261.63 * jnp.arange(22050) / 22050)
    >>> c = jd.chroma_cens(y, sr=22050, tuning=0.0)
    >>> c.shape, int(c[:, 20].argmax())
    ((12, 44), 0)

  Compare ``librosa.feature.chroma_cens``.

  References:
    M. Müller, F. Kurth and M. Clausen, "Audio matching via chroma-based statistical features",
    ISMIR 2005.
  """
  win_len_smooth = _option("win_len_smooth", win_len_smooth, "win_len_smooth")
  norm = _option("chroma_norm", norm, "norm")
  chroma = chroma_cqt(y, sr=sr, C=C, hop_length=hop_length, fmin=fmin, tuning=tuning, norm=None, n_chroma=n_chroma,
                      n_octaves=n_octaves, cqt_mode=cqt_mode, window=window, bins_per_octave=bins_per_octave)
  return _cens(chroma, _cens_window(win_len_smooth, smoothing_window), norm)


def _cens_window(win_len_smooth: int | None, smoothing_window: str) -> tuple | None:
  """The CENS smoothing window (``win_len_smooth + 2`` symmetric points, unit sum), or ``None``."""
  if not win_len_smooth:
    return None
  win = _core.window_array(smoothing_window, win_len_smooth + 2, False)
  return tuple((win / win.sum()).tolist())


@functools.partial(jax.jit, static_argnames=("win", "norm"))
def _cens(chroma, win, norm, frames=None):
  """CENS of ``chroma``; ``frames`` (``(..., n_frames)`` bools) marks the frames of the signal, the others
  enter the smoothing as zeros (as frames past the end do)."""
  chroma = _core.p_normalize(chroma, 1.0, -2)
  quant = sum(0.25 * (chroma > step).astype(chroma.dtype) for step in (0.4, 0.2, 0.1, 0.05))
  if frames is not None:
    quant = jnp.where(frames[..., None, :], quant, 0.0)
  if win is not None:
    w = np.asarray(win)
    n = len(w)
    padded = jnp.pad(quant, [(0, 0)] * (quant.ndim - 1) + [((n - 1) // 2, n // 2)])
    # scipy.ndimage.convolve with mode="constant": out[t] = Σ_j w[j] · x[t + n//2 - j], a correlation of the
    # padded rows with the reversed window
    rows = padded.reshape(-1, 1, padded.shape[-1])
    out = jax.lax.conv_general_dilated(rows, jnp.asarray(w[::-1].copy(), quant.dtype)[None, None, :], (1,), "VALID",
                                       precision=jax.lax.Precision.HIGHEST)
    quant = out.reshape(quant.shape)
  return _core.p_normalize(quant, norm, -2)


def tonnetz(y: ArrayLike | None = None, *, sr: float = 22050, chroma: ArrayLike | None = None,
            **kwargs: Any) -> jax.Array:
  """Tonal centroid features (tonnetz): the L1-normalised chroma projected onto the circles of fifths,
  minor thirds and major thirds.

  ``T[..., p, t] = Σ_c φ[p, c] · chroma[..., c, t] / Σ_c |chroma[..., c, t]|`` with
  ``φ = (r·sin, r·cos)`` pairs at angles ``7π/6 · c``, ``3π/2 · c``, ``2π/3 · c`` (radii 1, 1, 0.5).

  Args:
    y: ``(..., n_samples)`` signal, or ``None`` with ``chroma``.
    sr: sample rate.
    chroma: ``(..., n_chroma, n_frames)`` chromagram (keyword); default :func:`chroma_cqt` of ``y``.
    **kwargs: passed to :func:`chroma_cqt` (e.g. ``tuning=0.0``).

  Returns:
    ``(..., 6, n_frames)``.

  Raises:
    ValueError: both or neither of ``y`` and ``chroma``.

  Examples:
    >>> import jaxdsp as jd
    >>> y = jnp.sin(2 * jnp.pi * 261.63 * jnp.arange(22050) / 22050)
    >>> jd.tonnetz(y, sr=22050, tuning=0.0).shape
    (6, 44)

  Compare ``librosa.feature.tonnetz``.

  References:
    C. Harte, M. Sandler and M. Gasser, "Detecting harmonic change in musical audio", ACM MM 2006.
  """
  if (y is None) == (chroma is None):
    raise ValueError("give exactly one of y (a signal) and chroma (a chromagram)")
  if chroma is None:
    chroma = chroma_cqt(y, sr=sr, **kwargs)
  else:
    chroma = _checks.as_signal(chroma, "chroma", min_ndim=2)
  return _tonnetz(chroma, _tonnetz_phi(chroma.shape[-2]))


def _tonnetz_phi(n: int) -> np.ndarray:
  """The ``(6, n)`` tonnetz projection: ``(r·sin, r·cos)`` pairs of the circles of fifths and thirds."""
  dim_map = np.linspace(0, 12, num=n, endpoint=False)
  scale = np.asarray([7.0 / 6, 7.0 / 6, 3.0 / 2, 3.0 / 2, 2.0 / 3, 2.0 / 3])
  V = np.multiply.outer(scale, dim_map)
  V[::2] -= 0.5
  R = np.array([1, 1, 1, 1, 0.5, 0.5])
  return R[:, np.newaxis] * np.cos(np.pi * V)


@jax.jit
def _tonnetz(chroma, phi):
  return jnp.einsum("pc,...ci->...pi", phi.astype(chroma.dtype), _core.p_normalize(chroma, 1.0, -2),
                    precision=jax.lax.Precision.HIGHEST)


def _registry_finish(name: str):
  """The finishing step of the registry's constant-Q feature ``name`` (``jd.features``, ``jaxdsp extract``):
  from the raw values ``(..., hop_length + 1, n_frames)`` (the signal's hop blocks over the count of each
  block's samples that belong to it: ``jaxdsp._core.registry``), the public function of the signal alone,
  its first ``n_frames`` frames. Each row's transform is cut at its signal's length as the function's is
  (:func:`jaxdsp.constantq.vqt_of_length`), so the two agree to float32 round-off."""
  def finish(raw: jax.Array, cfg: dict) -> jax.Array:
    from jaxdsp import constantq  # pylint: disable=import-outside-toplevel  (constantq imports this module)
    hop, n_frames = raw.shape[-2] - 1, raw.shape[-1]
    lengths = jnp.sum(raw[..., hop, :].astype(jnp.int32), axis=-1)
    y = jnp.swapaxes(raw[..., :hop, :], -1, -2).reshape(*raw.shape[:-2], -1)
    fmin = 32.70319566257483 if cfg["cqt_fmin"] is None else cfg["cqt_fmin"]
    kw = dict(sr=cfg["sr"], hop_length=hop, fmin=fmin)
    if name == "chroma_vqt":
      ratios, bpo = _core.octave_ratios(cfg["intervals"], cfg["bins_per_octave"])
      V = constantq.vqt_of_length(y, lengths, n_bins=cfg["n_octaves"] * bpo, bins_per_octave=bpo, gamma=cfg["gamma"],
                                  intervals=cfg["intervals"] if ratios is None else ratios, **kw)
      M = _cq_to_chroma(V.shape[-2], bpo, bpo, fmin, None)
      return _chroma_of_cqt(_ops.safe_sqrt(_ops.abs2(V)), M, cfg["chroma_threshold"], cfg["chroma_norm"])[..., :n_frames]
    bpo = cfg["bins_per_octave"]
    C = constantq.vqt_of_length(y, lengths, n_bins=cfg["n_octaves"] * bpo, bins_per_octave=bpo, gamma=0.0,
                                tuning=cfg["tuning"], **kw)[..., :n_frames + 1]
    C = _ops.safe_sqrt(_ops.abs2(C))
    M = _cq_to_chroma(C.shape[-2], bpo, cfg["n_chroma"], fmin, None)
    if name == "chroma_cens":  # chroma_cens: chroma_cqt's default threshold, no norm, then CENS smoothed over
      # the frames the function has, 1 + length // hop (n_frames with center, one more without)
      frames = jnp.arange(C.shape[-1]) < (1 + lengths // hop)[..., None]
      out = _cens(_chroma_of_cqt(C, M, 0.0, None), _cens_window(cfg["win_len_smooth"], "hann"), cfg["chroma_norm"],
                  frames)
    else:
      out = _chroma_of_cqt(C, M, cfg["chroma_threshold"], cfg["chroma_norm"])
      if name == "tonnetz":
        out = _tonnetz(out, _tonnetz_phi(out.shape[-2]))
    return out[..., :n_frames]
  return finish


for _name in ("chroma_cqt", "chroma_cens", "chroma_vqt", "tonnetz"):
  _core.register_finish(_name, _registry_finish(_name))
del _name


# ---------------------------------------------------------------------------------------------
# Pitch tracking and tuning.


def piptrack(y: ArrayLike | None = None, *, sr: float = 22050, S: ArrayLike | None = None, n_fft: int | None = 2048,
             hop_length: int | None = None, fmin: float = 150.0, fmax: float = 4000.0, threshold: float = 0.1,
             win_length: int | None = None, window: Any = "hann", center: bool = True, pad_mode: str = "constant",
             ref: float | None = None) -> tuple[jax.Array, jax.Array]:
  """Pitch tracking on thresholded parabolically-interpolated STFT peaks.

  For each local maximum ``f`` (over frequency) of the magnitude ``S`` between ``fmin`` and ``fmax`` and
  above ``threshold · max_f S[:, t]`` (or above ``|ref|`` when given), with ``a = S[f+1] + S[f-1] -
  2S[f]`` and ``b = (S[f+1] - S[f-1]) / 2`` the shift ``δ = -b / a`` (0 when ``|b| >= |a|``):
  ``pitch = (f + δ) · sr / n_fft`` and ``mag = S[f] + ½ · δ · ∂S/∂f``; zero elsewhere.

  The peak picking is a comparison: ``pitches`` is piecewise differentiable in ``y`` and ``mags``
  follows ``S`` on the picked bins (no gradient through which bins are picked).

  Args:
    y: ``(..., n_samples)`` signal, or ``None`` with ``S``.
    sr: sample rate.
    S: ``(..., n_freq, n_frames)`` magnitude spectrogram (keyword).
    n_fft, hop_length, win_length, window, center, pad_mode: STFT arguments (``hop_length`` defaults to
      ``win_length // 4``).
    fmin, fmax: frequency range searched (Hz).
    threshold: relative threshold on each frame's maximum.
    ref: absolute threshold instead (``None``: relative).

  Returns:
    ``(pitches, mags)``, both ``(..., n_freq, n_frames)``.

  Examples:
    >>> import jaxdsp as jd
    >>> y = jnp.sin(2 * jnp.pi * 440.0 * jnp.arange(22050) / 22050)
    >>> p, m = jd.piptrack(y, sr=22050)
    >>> round(float(p[:, 20][m[:, 20].argmax()]), 0)
    440.0

  Compare ``librosa.piptrack``.
  """
  S, kw = _piptrack_input(y, sr=sr, S=S, n_fft=n_fft, hop_length=hop_length, fmin=fmin, fmax=fmax,
                          threshold=threshold, win_length=win_length, window=window, center=center, pad_mode=pad_mode,
                          ref=ref)
  return _piptrack(S, **kw)


def _piptrack_input(y: Any = None, *, sr: Any = 22050, S: Any = None, n_fft: Any = 2048, hop_length: Any = None,
                    fmin: Any = 150.0, fmax: Any = 4000.0, threshold: Any = 0.1, win_length: Any = None,
                    window: Any = "hann", center: Any = True, pad_mode: Any = "constant",
                    ref: Any = None) -> tuple[jax.Array, dict]:
  """:func:`piptrack`'s checked arguments: the magnitudes it reads and the static options of :func:`_piptrack`."""
  _core.y_or_S(y, S)
  sr = _checks.sample_rate(sr, "sr")
  fmin = _checks.positive_number(fmin, "fmin", allow_zero=True)
  fmax = _checks.positive_number(fmax, "fmax")
  threshold = _checks.positive_number(threshold, "threshold", allow_zero=True)
  if ref is not None:
    if isinstance(ref, bool) or not isinstance(ref, (int, float, np.integer, np.floating)):
      raise TypeError(f"ref must be a real number or None, got {ref!r}")
    ref = _checks.positive_number(abs(ref), "ref", allow_zero=True)
  if S is None:
    n_fft = _checks.positive_int(n_fft, "n_fft")
    win = n_fft if win_length is None else win_length
    if hop_length is None:
      hop_length = int(_checks.positive_int(win, "win_length") // 4)
    from jaxdsp.spectral import spectrogram  # pylint: disable=import-outside-toplevel
    S = spectrogram(y, n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window, center=center,
                    pad_mode=pad_mode, power=1.0)
  else:
    S = _checks.as_signal(S, "S", min_ndim=2, allow_complex=True)
    S = _ops.safe_sqrt(_ops.abs2(S)) if jnp.iscomplexobj(S) else jnp.abs(S)
    n_fft = 2 * (S.shape[-2] - 1)
  return S, dict(sr=sr, n_fft=n_fft, fmin=fmin, fmax=min(fmax, sr / 2), threshold=threshold, ref=ref)


@functools.partial(jax.jit, static_argnames=("sr", "n_fft", "fmin", "fmax", "threshold", "ref", "rows"))
def _piptrack(S, *, sr, n_fft, fmin, fmax, threshold, ref, rows=None):
  """``rows=(r0, r1)``: only bins ``r0 <= f < r1`` are returned (each frame's threshold still from all of
  them); ``r0 - 1`` and ``r1`` must lie outside the searched bins or the spectrum."""
  n = S.shape[-2]
  ref_value = threshold * S.max(axis=-2, keepdims=True) if ref is None else ref
  r0, r1 = (0, n) if rows is None else rows
  lo, hi = max(r0 - 1, 0), min(r1 + 1, n)  # the neighbours the peaks' tests read
  searched = _piptrack_bins(n, n_fft, sr, fmin, fmax)[lo:hi]
  S = S[..., lo:hi, :]
  n_all, n = n, hi - lo
  # np.gradient along frequency: central differences inside, one-sided at the ends.
  avg = jnp.concatenate([S[..., 1:2, :] - S[..., 0:1, :], (S[..., 2:, :] - S[..., :-2, :]) / 2,
                         S[..., -1:, :] - S[..., -2:-1, :]], axis=-2) if n > 1 else jnp.zeros_like(S)
  up, down = S[..., 2:, :], S[..., :-2, :]
  mid = S[..., 1:-1, :]
  a = up + down - 2 * mid
  b = (up - down) / 2
  ok = jnp.abs(b) < jnp.abs(a)
  shift_in = jnp.where(ok, -b / jnp.where(ok, a, 1.0), 0.0)
  zero = jnp.zeros_like(S[..., :1, :])
  shift = jnp.concatenate([zero, shift_in, zero], axis=-2)
  dskew = 0.5 * avg * shift
  freq_mask = jnp.asarray(searched[:, None])
  x = S * (S > ref_value)
  # librosa's localmax: x[f] > x[f-1] and x[f] >= x[f+1] inside; the first bin never, the last if > its neighbour.
  inner = (x[..., 1:-1, :] > x[..., :-2, :]) & (x[..., 1:-1, :] >= x[..., 2:, :])
  last = x[..., -1:, :] > x[..., -2:-1, :]
  if hi < n_all:  # the slice's last bin is not the spectrum's: a neighbour only (never searched)
    last = jnp.zeros_like(last)
  lmax = jnp.concatenate([jnp.zeros_like(last), inner, last], axis=-2)
  pick = freq_mask & lmax
  idx = jnp.arange(lo, hi, dtype=S.dtype)[:, None]
  pitches = jnp.where(pick, (idx + shift) * (float(sr) / n_fft), 0.0)
  mags = jnp.where(pick, S + dskew, 0.0)
  return pitches[..., r0 - lo : r1 - lo, :], mags[..., r0 - lo : r1 - lo, :]


def pitch_tuning(frequencies: ArrayLike, *, resolution: float = 0.01, bins_per_octave: int = 12,
                 weights: ArrayLike | None = None) -> jax.Array:
  """Tuning offset (in fractions of a bin) that best fits a set of frequencies: the most populated
  ``resolution``-wide bin of their deviations from equal temperament.

  ``r = bins_per_octave · log2(f / (A440/16)) mod 1`` (in ``[-0.5, 0.5)``), histogrammed over
  ``[-0.5, 0.5]`` in ``ceil(1 / resolution)`` bins (NumPy's ``histogram`` rule); the left edge of the
  fullest bin is returned. Non-positive frequencies are ignored (0 when none is left).

  The histogram's mode is piecewise constant in the frequencies: its gradient is zero.

  Args:
    frequencies: ``(..., n)`` frequencies in Hz (the last axis is pooled; leading axes are a batch).
    resolution: histogram bin width, in (0, 1).
    bins_per_octave: bins per octave.
    weights: optional ``(..., n)`` non-negative weights (a frequency with weight 0 is left out).

  Returns:
    ``(...)`` tuning estimates.

  Examples:
    >>> import jaxdsp as jd
    >>> round(float(jd.pitch_tuning(jnp.asarray([440.0 * 2 ** (0.256 / 12)] * 3))), 2)
    0.25

  Compare ``librosa.pitch_tuning``.
  """
  f = _checks.as_signal(frequencies, "frequencies")
  resolution = _checks.positive_number(resolution, "resolution")
  if resolution >= 1:
    raise ValueError(f"resolution must be in (0, 1), got {resolution}")
  bins_per_octave = _checks.positive_int(bins_per_octave, "bins_per_octave")
  w = jnp.ones_like(f) if weights is None else jnp.broadcast_to(jnp.asarray(weights, f.dtype), f.shape)
  return _pitch_tuning(f, w, resolution=resolution, bins_per_octave=bins_per_octave)


@functools.partial(jax.jit, static_argnames=("resolution", "bins_per_octave"))
def _pitch_tuning(f, w, *, resolution, bins_per_octave):
  valid = (f > 0) & (w > 0)
  safe = jnp.where(valid, f, 440.0)
  residual = jnp.mod(float(bins_per_octave) * jnp.log2(safe / jnp.asarray(440.0 / 16, f.dtype)), 1.0)
  residual = jnp.where(residual >= 0.5, residual - 1.0, residual)
  n_bins = int(np.ceil(1.0 / resolution))
  edges = np.linspace(-0.5, 0.5, n_bins + 1)
  # the bin of each residual, edges[k] <= r < edges[k + 1] (np.histogram's rule; the last bin holds 0.5 too): the
  # scaled guess is off by at most one, corrected against the edges (cheaper to compile than a searchsorted)
  e = jnp.asarray(edges, residual.dtype)
  k = jnp.clip(jnp.floor((residual + 0.5) * n_bins).astype(jnp.int32), 0, n_bins - 1)
  k = jnp.where(residual < e[k], k - 1, jnp.where(residual >= e[k + 1], k + 1, k))
  which = jnp.clip(k, 0, n_bins - 1)
  # the histogram as a scatter-add per example (cheaper to compile and run than a one-hot sum)
  lead = which.shape[:-1]
  rows = jax.vmap(lambda i, v: jnp.zeros(n_bins, jnp.int32).at[i].add(v))(
      which.reshape(-1, which.shape[-1]), valid.reshape(-1, valid.shape[-1]).astype(jnp.int32))
  counts = rows.reshape(*lead, n_bins)
  best = jnp.asarray(edges[:-1], f.dtype)[jnp.argmax(counts, axis=-1)]
  return jax.lax.stop_gradient(jnp.where(valid.any(axis=-1), best, 0.0))


def estimate_tuning(y: ArrayLike | None = None, *, sr: float = 22050, S: ArrayLike | None = None,
                    n_fft: int | None = 2048, resolution: float = 0.01, bins_per_octave: int = 12,
                    **kwargs: Any) -> jax.Array:
  """Tuning offset of a signal (in fractions of a bin), from its :func:`piptrack` peaks.

  The peaks whose magnitude reaches the median of all peaks' magnitudes (per example) enter
  :func:`pitch_tuning`.

  Args:
    y: ``(..., n_samples)`` signal, or ``None`` with ``S``.
    sr: sample rate.
    S: ``(..., n_freq, n_frames)`` magnitude spectrogram (keyword).
    n_fft: FFT size.
    resolution: tuning resolution in fractions of a bin.
    bins_per_octave: bins per octave.
    **kwargs: passed to :func:`piptrack` (``hop_length``, ``fmin``, ``fmax``, ``threshold``, ...).

  Returns:
    ``(...)`` one estimate per example (librosa pools a multichannel signal's channels into one).
    Piecewise constant: zero gradient.

  Examples:
    >>> import jaxdsp as jd
    >>> y = jnp.sin(2 * jnp.pi * 440.0 * 2 ** (0.3 / 12) * jnp.arange(22050) / 22050)
    >>> round(float(jd.estimate_tuning(y, sr=22050)), 2)  # piptrack's parabolic peaks: a cent high
    0.31

  Compare ``librosa.estimate_tuning``.
  """
  mag, pip = _piptrack_input(y, sr=sr, S=S, n_fft=n_fft, **kwargs)
  resolution = _checks.positive_number(resolution, "resolution")
  bins_per_octave = _checks.positive_int(bins_per_octave, "bins_per_octave")
  # only the bins piptrack searches can hold a peak: the others are left out of the median's passes
  nz = np.nonzero(_piptrack_bins(mag.shape[-2], pip["n_fft"], pip["sr"], pip["fmin"], pip["fmax"]))[0]
  rows = (int(nz[0]), int(nz[-1]) + 1) if nz.size else (0, 1)
  return _estimate_of_S(mag, pip=tuple(sorted(pip.items())), resolution=resolution, bins_per_octave=bins_per_octave,
                        rows=rows)


@functools.partial(jax.jit, static_argnames=("pip", "resolution", "bins_per_octave", "rows"))
def _estimate_of_S(S, *, pip, resolution, bins_per_octave, rows):
  """:func:`estimate_tuning` of the magnitudes ``S`` ``(..., n_freq, n_frames)``: :func:`piptrack` then the
  estimate, on CPU a few examples at a time (their peaks stay in cache for the median's bisection)."""
  lead = S.shape[:-2]
  S = S.reshape(-1, *S.shape[-2:])
  one = lambda s: _estimate(*_piptrack(s, **dict(pip), rows=rows), resolution=resolution,  # noqa: E731
                            bins_per_octave=bins_per_octave)
  per = max(1, (2 * 2**20) // (4 * S.shape[-2] * S.shape[-1]))  # about 2 MB of magnitudes per step
  if not _core.cpu_path() or S.shape[0] <= per:
    return one(S).reshape(lead)
  n_steps = -(-S.shape[0] // per)
  padded = jnp.pad(S, ((0, n_steps * per - S.shape[0]), (0, 0), (0, 0)))
  out = jax.lax.map(one, padded.reshape(n_steps, per, *S.shape[1:]))
  return out.reshape(-1)[: S.shape[0]].reshape(lead)


def _piptrack_bins(n: int, n_fft: int, sr: float, fmin: float, fmax: float) -> np.ndarray:
  """Which of the ``n`` bins :func:`piptrack` searches (``fmin <= f < fmax``)."""
  fft_freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)[:n] if n_fft // 2 + 1 == n else np.linspace(0, sr / 2, n)
  return (fmin <= fft_freqs) & (fft_freqs < fmax)


def _kth_smallest(x: jax.Array, k: jax.Array) -> jax.Array:
  """The ``k``-th smallest (0-based) of each row of the float32 ``x`` ``(..., n)``, ``k`` ``(...)``: a
  bisection over the order-preserving unsigned keys of the float bit patterns (32 counting passes)."""
  bits = jax.lax.bitcast_convert_type(x.astype(jnp.float32), jnp.uint32)
  key = jnp.where(bits >> 31 == 1, ~bits, bits | jnp.uint32(0x80000000))  # negative floats reversed, below

  def step(_, bounds):
    lo, hi = bounds  # the answer's key lies in [lo, hi]
    mid = lo + (hi - lo) // 2
    enough = jnp.sum(key <= mid[..., None], axis=-1) > k
    return jnp.where(enough, lo, mid + 1), jnp.where(enough, mid, hi)

  lo = jnp.zeros(k.shape, jnp.uint32)
  lo, _ = jax.lax.fori_loop(0, 32, step, (lo, jnp.full(k.shape, 0xFFFFFFFF, jnp.uint32)))
  bits = jnp.where(lo >> 31 == 1, lo & jnp.uint32(0x7FFFFFFF), ~lo)
  return jax.lax.bitcast_convert_type(bits, jnp.float32).astype(x.dtype)


@functools.partial(jax.jit, static_argnames=("resolution", "bins_per_octave"))
def _estimate(pitch, mag, *, resolution, bins_per_octave):
  flat_p = pitch.reshape(*pitch.shape[:-2], -1)
  flat_m = mag.reshape(*mag.shape[:-2], -1)
  mask = flat_p > 0
  # np.median of the picked magnitudes (the others pushed to +inf): the mean of the middle pair, the lower
  # found by a bisection over the values' bit patterns, the upper the next value when it is not a tie (exact;
  # ~10x faster than sorting them on XLA:CPU).
  count = mask.sum(axis=-1)
  vals = jnp.where(mask, flat_m, jnp.inf)
  k_hi = jnp.clip(count // 2, 0, flat_m.shape[-1] - 1)
  lo = _kth_smallest(vals, jnp.clip((count - 1) // 2, 0, flat_m.shape[-1] - 1))
  tied = jnp.sum(vals <= lo[..., None], axis=-1) > k_hi
  hi = jnp.where(tied, lo, jnp.min(jnp.where(vals > lo[..., None], vals, jnp.inf), axis=-1))
  thr = jnp.where(count > 0, (lo + hi) / 2, 0.0)[..., None]
  keep = (flat_m >= thr) & mask
  return _pitch_tuning(flat_p, keep.astype(flat_p.dtype), resolution=resolution, bins_per_octave=bins_per_octave)
