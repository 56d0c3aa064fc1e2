"""Rhythm: autocorrelation and Fourier tempograms, global tempo and dynamic-programming beat tracking.

Layout: onset envelopes ``(..., n_frames)``; tempograms ``(..., win_length, n_frames)`` (lag or
tempo bins, then frames, as librosa); tempo ``(...)`` (or ``(..., n_frames)`` without aggregation).
Tempograms are smooth in the envelope (differentiable); the tempo (an arg-max over lags) and the
beat positions (a dynamic programme's path) are discrete: their gradient is zero.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from jaxdsp import _checks
from jaxdsp import _core
from jaxdsp import onset as _onset
from jaxdsp.framing import get_window


def _envelope(y: Any, onset_envelope: Any, sr: float, hop_length: int, aggregate: str = "mean") -> jax.Array:
  if onset_envelope is None:
    if y is None:
      raise ValueError("one of y or onset_envelope is required")
    return _onset.onset_strength(y, sr=sr, hop_length=hop_length, aggregate=aggregate)
  if y is not None:
    raise ValueError("pass either y or onset_envelope, not both")
  return _checks.as_signal(onset_envelope, "onset_envelope")


def tempo_frequencies(n_bins: int, *, hop_length: int = 512, sr: float = 22050) -> np.ndarray:
  """The tempo (BPM) of each lag bin of an autocorrelation tempogram: ``60·sr / (hop_length·k)``,
  ``inf`` at lag 0.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.tempo_frequencies(4, sr=22050).round(1).tolist()
    [inf, 2584.0, 1292.0, 861.3]

  Compare ``librosa.tempo_frequencies``.
  """
  n_bins = _checks.positive_int(n_bins, "n_bins")
  hop_length = _checks.positive_int(hop_length, "hop_length")
  sr = _checks.sample_rate(sr)
  bpm = np.full(n_bins, np.inf)
  bpm[1:] = 60.0 * sr / (hop_length * np.arange(1.0, n_bins))
  return bpm


@functools.partial(jax.jit, static_argnames=("win_length", "center", "norm"))
def _tempogram(env, window, *, win_length, center, norm):
  n = env.shape[-1]
  if center:
    p = win_length // 2
    ramp = np.arange(p, dtype=np.float64) / p if p else np.zeros(0)
    left = env[..., :1] * jnp.asarray(ramp, env.dtype)  # numpy's linear_ramp to 0
    right = env[..., -1:] * jnp.asarray(ramp[::-1], env.dtype)
    env = jnp.concatenate([left, env, right], axis=-1)
  frames = _core.frames(env, win_length, 1)  # (..., n_frames, win_length)
  if center:
    frames = frames[..., :n, :]
  frames = frames * window
  n_fft = 1 << (2 * win_length - 1).bit_length()
  spec = jnp.fft.rfft(frames, n=n_fft, axis=-1)
  ac = jnp.fft.irfft(spec.real ** 2 + spec.imag ** 2, n=n_fft, axis=-1)[..., :win_length]
  ac = jnp.swapaxes(ac, -1, -2)  # (..., win_length, n_frames)
  if norm is None:
    return ac
  mag = jnp.abs(ac)
  length = jnp.max(mag, axis=-2, keepdims=True) if norm == np.inf else \
      jnp.sum(mag ** norm, axis=-2, keepdims=True) ** (1.0 / norm)
  return ac / jnp.where(length < jnp.finfo(ac.dtype).tiny, 1, length)


def _norm(norm: Any) -> Any:
  if norm is None or norm == np.inf:
    return norm
  return _checks.positive_number(norm, "norm")


def tempogram(y: ArrayLike | None = None, *, sr: float = 22050, onset_envelope: ArrayLike | None = None,
              hop_length: int = 512, win_length: int = 384, center: bool = True, window: Any = "hann",
              norm: float | None = np.inf) -> jax.Array:
  """Autocorrelation tempogram: the windowed autocorrelation of the onset envelope around each frame.

  ``tg[k, t] = Σ_m w[m]·o[t + m - W/2]·w[m + k]·o[t + m + k - W/2]`` with ``o`` the onset strength
  (ramped linearly to zero over ``W/2`` frames at both ends when ``center``), ``W = win_length``,
  then each frame normalised (``norm``: ``inf`` the maximum, a p-norm, or ``None``).

  Args:
    y: ``(..., n_samples)`` signal, or ``None`` with ``onset_envelope``.
    sr: sample rate (Hz).
    onset_envelope: ``(..., n_frames)`` onset strength (default :func:`onset_strength` of ``y``).
    hop_length: hop of the envelope (samples).
    win_length: autocorrelation window (frames).
    center: centre the windows on the frames.
    window: window name or ``(win_length,)`` array.
    norm: per-frame normalisation over lags.

  Returns:
    ``(..., win_length, n_frames)``.

  Raises:
    ValueError: neither or both of ``y`` and ``onset_envelope``, bad ``win_length``/``norm``, an
      envelope shorter than ``win_length`` with ``center=False``.

  Examples:
    >>> import jaxdsp as jd
    >>> env = jnp.tile(jnp.array([1.0, 0, 0, 0]), 32)
    >>> tg = jd.tempogram(onset_envelope=env, win_length=16)
    >>> tg.shape, int(tg[1:, 64].argmax()) + 1
    ((16, 128), 4)

  Compare ``librosa.feature.tempogram``.

  References:
    P. Grosche, M. Müller and F. Kurth, "Cyclic tempogram", ICASSP 2010.
  """
  win_length = _checks.size(win_length, "win_length")
  hop_length = _checks.size(hop_length, "hop_length")
  sr = _checks.sample_rate(sr)
  norm = _norm(norm)
  env = _envelope(y, onset_envelope, sr, hop_length)
  if not center and env.shape[-1] < win_length:
    raise ValueError(f"win_length={win_length} exceeds the onset envelope's {env.shape[-1]} frames (center=False)")
  win = window if not isinstance(window, str) else get_window(window, win_length, fftbins=True, dtype=env.dtype)
  win = jnp.asarray(win, env.dtype)
  if win.shape != (win_length,):
    raise ValueError(f"window must have shape ({win_length},), got {win.shape}")
  return _tempogram(env, win, win_length=win_length, center=_checks.flag(center, "center"), norm=norm)


def fourier_tempogram(y: ArrayLike | None = None, *, sr: float = 22050, onset_envelope: ArrayLike | None = None,
                      hop_length: int = 512, win_length: int = 384, center: bool = True,
                      window: Any = "hann") -> jax.Array:
  """Fourier tempogram: the STFT of the onset envelope (``n_fft = win_length``, hop 1).

  Args:
    y, sr, onset_envelope, hop_length, win_length, center, window: as in :func:`tempogram`.

  Returns:
    ``(..., win_length // 2 + 1, n_frames)`` complex; bin ``k`` is ``60·k·sr / (hop_length·win_length)``
    BPM.

  Raises:
    ValueError: as :func:`tempogram`.

  Examples:
    >>> import jaxdsp as jd
    >>> env = jnp.tile(jnp.array([1.0, 0, 0, 0]), 32)
    >>> ft = jd.fourier_tempogram(onset_envelope=env, win_length=16)
    >>> ft.shape, int(abs(ft[1:, 64]).argmax()) + 1
    ((9, 129), 4)

  Compare ``librosa.feature.fourier_tempogram``.
  """
  from jaxdsp.spectral import stft  # pylint: disable=import-outside-toplevel
  win_length = _checks.size(win_length, "win_length")
  hop_length = _checks.size(hop_length, "hop_length")
  env = _envelope(y, onset_envelope, _checks.sample_rate(sr), hop_length)
  return stft(env, n_fft=win_length, hop_length=1, center=center, window=window)


def fourier_tempo_frequencies(*, sr: float = 22050, win_length: int = 384, hop_length: int = 512) -> np.ndarray:
  """The tempo (BPM) of each bin of a Fourier tempogram: ``60·k·sr / (hop_length·win_length)``.

  Returns:
    ``(win_length // 2 + 1,)`` host NumPy float64 array.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.fourier_tempo_frequencies(win_length=8).round(1).tolist()
    [0.0, 323.0, 646.0, 969.0, 1292.0]

  Compare ``librosa.fourier_tempo_frequencies``.
  """
  sr = _checks.sample_rate(sr)
  win_length = _checks.size(win_length, "win_length")
  hop_length = _checks.size(hop_length, "hop_length")
  return np.fft.rfftfreq(win_length, d=1.0 / (sr * 60.0 / hop_length))


def _optional_bpm(value: Any, name: str) -> float | None:
  return None if value is None else _checks.positive_number(value, name)


def _istft_hop1(D: jax.Array, window: np.ndarray, length: int) -> jax.Array:
  """librosa's ``istft(D, hop_length=1, n_fft=len(window), length=length)`` (centred): the overlap-add
  runs as a ``fori_loop`` over the window's samples (one shifted add each), not unrolled."""
  L = window.shape[0]
  frames = jnp.fft.irfft(D, n=L, axis=-2) * jnp.asarray(window, D.real.dtype)[:, None]  # (..., L, n_frames)
  n_frames = frames.shape[-1]

  def add(j, out):
    row = jax.lax.dynamic_index_in_dim(frames, j, axis=-2, keepdims=False)
    cur = jax.lax.dynamic_slice_in_dim(out, j, n_frames, axis=-1)
    return jax.lax.dynamic_update_slice_in_dim(out, cur + row, j, axis=-1)

  y = jax.lax.fori_loop(0, L, add, jnp.zeros(frames.shape[:-2] + (L + n_frames - 1,), frames.dtype))
  start = L // 2
  y = y[..., start:start + length]
  wss = np.convolve(window.astype(np.float64) ** 2, np.ones(n_frames))[start:start + length]
  wss = np.pad(wss, (0, length - wss.shape[0]))
  ok = wss > np.finfo(np.float32).tiny
  y = jnp.pad(y, [(0, 0)] * (y.ndim - 1) + [(0, length - y.shape[-1])])
  return y / jnp.asarray(np.where(ok, wss, 1.0), y.dtype)


@functools.partial(jax.jit, static_argnames=("win_length",))
def _plp(env, weight, logprior, *, win_length):
  from jaxdsp.spectral import stft  # pylint: disable=import-outside-toplevel
  n = env.shape[-1]
  ft = stft(env, n_fft=win_length, hop_length=1, center=True, window="hann") * weight[:, None]
  re, im = jnp.real(ft), jnp.imag(ft)
  sq = re ** 2 + im ** 2
  mag = jnp.where(sq > 0, jnp.sqrt(jnp.where(sq > 0, sq, 1)), 0)  # |ft| with a finite gradient at 0
  score = jnp.log1p(1e6 * mag) + logprior[:, None]
  keep = ~(score < jnp.max(score, axis=-2, keepdims=True))  # the peak bin(s) of each frame
  re, im, mag = jnp.where(keep, re, 0), jnp.where(keep, im, 0), jnp.where(keep, mag, 0)
  # librosa divides by |ftgram.max(axis=-2)|: NumPy's complex maximum, lexicographic (real part first),
  # over the zeroed bins and the peak; so a peak with a negative real part is divided by 0 + sqrt(tiny).
  top_re = jnp.max(re, axis=-2, keepdims=True)
  top_im = jnp.max(jnp.where(re == top_re, im, -jnp.inf), axis=-2, keepdims=True)
  top_sq = top_re ** 2 + top_im ** 2
  top = jnp.where(top_sq > 0, jnp.sqrt(jnp.where(top_sq > 0, top_sq, 1)), 0)
  scale = 1.0 / (jnp.sqrt(jnp.finfo(env.dtype).tiny) + top)
  window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(win_length) / win_length)  # periodic Hann (stft's window)
  pulse = _istft_hop1(jax.lax.complex(re * scale, im * scale), window, n)
  pulse = jnp.maximum(pulse, 0)
  peak = jnp.max(pulse, axis=-1, keepdims=True)
  return pulse / jnp.where(peak < jnp.finfo(pulse.dtype).tiny, 1, peak)


def plp(y: ArrayLike | None = None, *, sr: float = 22050, onset_envelope: ArrayLike | None = None,
        hop_length: int = 512, win_length: int = 384, tempo_min: float | None = 30,
        tempo_max: float | None = 300, prior: Any = None) -> jax.Array:
  """Predominant local pulse (Grosche & Müller): a pulse curve whose peaks are the likely beats.

  The Fourier tempogram of the onset envelope (median-aggregated :func:`onset_strength` of ``y``)
  is restricted to ``[tempo_min, tempo_max]`` BPM; in each frame only the strongest tempo bin
  (``log(1 + 10⁶·|F|)`` plus ``prior``'s log-probability) is kept and normalised as librosa does
  (by the magnitude of NumPy's complex maximum over the bins, which is lexicographic: a peak with a
  negative real part is divided by ``sqrt(tiny)`` instead, and then dominates the sum); the inverse
  STFT (hop 1) overlaps these windowed sinusoids, the negative half-waves are cut and each example
  is scaled to a maximum of 1.

  Differentiable in the envelope (and so in ``y``): the selected bin is piecewise constant, the
  kept coefficient's phase and magnitude carry the gradient; ``max(0, ·)`` and the final scaling
  have the usual kinks. librosa's version is not differentiable.

  Args:
    y: ``(..., n_samples)`` signal, or ``None`` with ``onset_envelope``.
    sr: sample rate (Hz).
    onset_envelope: ``(..., n_frames)`` onset strength.
    hop_length: hop of the envelope (samples).
    win_length: Fourier tempogram window (frames).
    tempo_min, tempo_max: tempo range in BPM (``None``: open).
    prior: a prior over tempo (a callable of a NumPy array of BPM giving log-probabilities, or an
      object with ``logpdf`` such as ``scipy.stats.lognorm(...)``), evaluated on the host.

  Returns:
    ``(..., n_frames)`` pulse in ``[0, 1]``.

  Raises:
    ValueError: neither or both of ``y`` and ``onset_envelope``, non-positive sizes or tempi,
      ``tempo_max <= tempo_min``, a failing ``prior``.
    TypeError: a ``prior`` that is neither callable nor has ``logpdf``, non-floating input.

  Examples:
    >>> import jaxdsp as jd
    >>> env = jnp.tile(jnp.array([1.0] + [0.0] * 21), 20)   # 117.4 BPM at 22.05 kHz, hop 512
    >>> pulse = np.asarray(jd.plp(onset_envelope=env, tempo_max=150))
    >>> peaks = np.flatnonzero((pulse[1:-1] > pulse[:-2]) & (pulse[1:-1] >= pulse[2:])) + 1
    >>> pulse.shape, sorted(set(np.diff(peaks).tolist()))   # one pulse per beat (22 frames)
    ((440,), [22, 23])

  Compare ``librosa.beat.plp``.

  References:
    P. Grosche and M. Müller, "Extracting predominant local pulse information from music
    recordings", IEEE Trans. Audio, Speech, and Language Processing 19(6), 2011.
  """
  sr = _checks.sample_rate(sr)
  hop_length = _checks.size(hop_length, "hop_length")
  win_length = _checks.size(win_length, "win_length")
  tempo_min = _optional_bpm(tempo_min, "tempo_min")
  tempo_max = _optional_bpm(tempo_max, "tempo_max")
  if tempo_min is not None and tempo_max is not None and tempo_max <= tempo_min:
    raise ValueError(f"tempo_max={tempo_max} must be larger than tempo_min={tempo_min}")
  prior = _check_prior(prior)
  env = _envelope(y, onset_envelope, sr, hop_length, aggregate="median")
  freqs = fourier_tempo_frequencies(sr=sr, win_length=win_length, hop_length=hop_length)
  weight = np.ones_like(freqs)
  if tempo_min is not None:
    weight[freqs < tempo_min] = 0
  if tempo_max is not None:
    weight[freqs > tempo_max] = 0
  logprior = np.zeros_like(freqs) if prior is None else _prior_logpdf(prior, freqs)
  return _plp(env, jnp.asarray(weight, env.dtype), jnp.asarray(logprior, env.dtype), win_length=win_length)


def _check_prior(prior: Any) -> Any:
  """``None``, a callable of BPM giving log-probabilities, or an object with ``logpdf`` (a frozen
  ``scipy.stats`` distribution); returns the function to call (or ``None``)."""
  if prior is None:
    return None
  logpdf = getattr(prior, "logpdf", None)
  if callable(logpdf):
    return logpdf
  if callable(prior):
    return prior
  raise TypeError(f"prior must be None, a callable giving the log-probability of a tempo (BPM) or an object with a "
                  f"logpdf method (e.g. scipy.stats.uniform(30, 300)), got {prior!r}")


def _prior_logpdf(logpdf: Any, bpms: np.ndarray) -> np.ndarray:
  """The prior's log-probabilities of ``bpms`` (host float64; NaN read as ``-inf``)."""
  with np.errstate(all="ignore"):
    try:
      out = np.asarray(logpdf(bpms), dtype=np.float64)
    except Exception as e:  # pylint: disable=broad-except
      raise ValueError(f"prior could not be evaluated on the tempi (a NumPy array of BPM): {e}") from e
  if out.shape != bpms.shape:
    try:
      out = np.broadcast_to(out, bpms.shape)
    except ValueError as e:
      raise ValueError(f"prior must return one log-probability per tempo {bpms.shape}, got shape {out.shape}") from e
  return np.where(np.isnan(out), -np.inf, out)


def _tempo_logprior(bpms: np.ndarray, start_bpm: float, std_bpm: float, max_tempo: float | None,
                    prior: Any = None) -> np.ndarray:
  if prior is not None:
    logprior = np.array(_prior_logpdf(prior, bpms))
  else:
    with np.errstate(divide="ignore", invalid="ignore"):
      logprior = -0.5 * ((np.log2(bpms) - np.log2(start_bpm)) / std_bpm) ** 2
  if max_tempo is not None:
    logprior[:int(np.argmax(bpms < max_tempo))] = -np.inf
  return logprior


@functools.partial(jax.jit, static_argnames=("aggregate",))
def _tempo_from_tg(tg, logprior, bpms, *, aggregate):
  if aggregate is not None:
    tg = jnp.mean(tg, axis=-1, keepdims=True) if aggregate == "mean" else jnp.median(tg, axis=-1, keepdims=True)
  best = jnp.argmax(jnp.log1p(1e6 * tg) + logprior[:, None], axis=-2)
  out = bpms[best]
  return out[..., 0] if aggregate is not None else out


def tempo(y: ArrayLike | None = None, *, sr: float = 22050, onset_envelope: ArrayLike | None = None,
          tg: ArrayLike | None = None, hop_length: int = 512, start_bpm: float = 120, std_bpm: float = 1.0,
          ac_size: float = 8.0, max_tempo: float | None = 320.0, aggregate: Any = "mean",
          prior: Any = None) -> jax.Array:
  """Global (or per-frame) tempo: the tempogram lag maximising ``log(1 + 10⁶·tg) + log-prior``.

  The prior is a log-normal around ``start_bpm`` (``std_bpm`` octaves) unless ``prior`` is given;
  tempi at or above ``max_tempo`` are excluded. The tempogram is averaged over time first
  (``aggregate``), giving one tempo per example.

  Args:
    y: ``(..., n_samples)`` signal, or ``None``.
    sr: sample rate (Hz).
    onset_envelope: ``(..., n_frames)`` onset strength.
    tg: ``(..., n_lags, n_frames)`` precomputed tempogram (instead of ``y``/``onset_envelope``).
    hop_length: hop of the envelope (samples).
    start_bpm: centre of the prior (BPM).
    std_bpm: width of the prior (octaves).
    ac_size: autocorrelation window (seconds).
    max_tempo: upper limit (BPM) or ``None``.
    aggregate: ``"mean"``, ``"median"`` (or their NumPy functions) over frames, or ``None`` for a
      tempo per frame.
    prior: a prior over tempo instead of the log-normal: a callable mapping a NumPy array of BPM to
      log-probabilities, or an object with a ``logpdf`` method (a frozen ``scipy.stats``
      distribution such as ``scipy.stats.uniform(30, 300)``, as librosa takes; scipy is not needed
      otherwise). Evaluated once on the host on the lag tempi (lag 0 is ``inf`` BPM; NaN results
      count as ``-inf``), so it works under ``jit``; ``start_bpm`` and ``std_bpm`` are then unused.

  Returns:
    ``(...)`` BPM, or ``(..., n_frames)`` with ``aggregate=None``.

  Raises:
    ValueError: non-positive ``start_bpm``/``std_bpm``/``ac_size``, no input, a ``prior`` that fails
      on the tempi or returns the wrong shape.
    TypeError: a ``prior`` that is neither callable nor has ``logpdf``.

  Examples:
    >>> import jaxdsp as jd
    >>> env = jnp.tile(jnp.array([1.0] + [0.0] * 21), 40)   # one onset every 22 frames
    >>> round(float(jd.tempo(onset_envelope=env, sr=22050, hop_length=512)), 1)
    117.5

  Compare ``librosa.feature.tempo`` (librosa returns a trailing singleton axis).
  """
  sr = _checks.sample_rate(sr)
  hop_length = _checks.positive_int(hop_length, "hop_length")
  start_bpm = _checks.positive_number(start_bpm, "start_bpm")
  std_bpm = _checks.positive_number(std_bpm, "std_bpm")
  if max_tempo is not None:
    max_tempo = _checks.positive_number(max_tempo, "max_tempo")
  aggregate = None if aggregate is None else _onset._aggregate_name(aggregate)
  prior = _check_prior(prior)
  if tg is None:
    win_length = int(np.floor(_checks.positive_number(ac_size, "ac_size") * sr / hop_length))
    if win_length > _checks.INT32_MAX:
      raise ValueError(f"ac_size={ac_size} is too long: {win_length} frames exceed 2**31 - 1")
    tg = tempogram(y, sr=sr, onset_envelope=onset_envelope, hop_length=hop_length, win_length=max(1, win_length))
  else:
    tg = _checks.as_signal(tg, "tg", min_ndim=2)
  bpms = tempo_frequencies(tg.shape[-2], hop_length=hop_length, sr=sr)
  logprior = _tempo_logprior(bpms, start_bpm, std_bpm, max_tempo, prior)
  return _tempo_from_tg(tg, jnp.asarray(logprior, tg.dtype), jnp.asarray(bpms, tg.dtype), aggregate=aggregate)


# ---------------------------------------------------------------------------------------------
# Beat tracking (Ellis 2007).


def _beat_track_1d(env, bpm, *, fps, tightness, trim, max_fpb):
  """One example: ``env`` ``(T,)``, ``bpm`` scalar; returns the beat mask ``(T,)``."""
  T = env.shape[-1]
  dtype = env.dtype
  fpb = jnp.round(fps * 60.0 / bpm)
  norm = jnp.std(env, ddof=1) if T > 1 else jnp.asarray(0, dtype)
  onsets = env / (norm + jnp.finfo(dtype).tiny)
  # Local score: the envelope convolved with a Gaussian of ±fpb frames (σ = fpb / 32).
  d = jnp.arange(-max_fpb, max_fpb + 1, dtype=dtype)
  window = jnp.where(jnp.abs(d) <= fpb, jnp.exp(-0.5 * (d * 32.0 / fpb) ** 2), 0)
  # librosa's local-score loop never reads the envelope's first frame; neither do we.
  onsets = onsets.at[0].set(0)
  full = jnp.convolve(onsets, window, mode="full", precision=jax.lax.Precision.HIGHEST)
  localscore = full[max_fpb:max_fpb + T]  # numpy's "same" for a kernel of 2·fpb + 1 taps
  # Dynamic programme over a ring of the last D cumulative scores.
  D = 2 * max_fpb + 1
  score_thresh = 0.01 * jnp.max(localscore)
  dist = jnp.arange(1, D + 1, dtype=dtype)  # distance i - loc of ring slot D - k
  lo = jnp.round(fpb / 2)
  penalty = tightness * (jnp.log(dist) - jnp.log(fpb)) ** 2
  in_range = (dist >= lo) & (dist <= 2 * fpb)

  def step(carry, inputs):
    ring, first_beat = carry  # ring[k] = cumscore[i - 1 - k] (most recent first)
    i, score_i = inputs
    valid = in_range & (dist <= i)  # loc = i - dist >= 0
    cand = jnp.where(valid, ring - penalty, -jnp.inf)
    k = jnp.argmax(cand)  # first maximum in increasing distance, as librosa's search order
    found = valid[k]
    cum = jnp.where(found, score_i + cand[k], score_i)
    loc = jnp.where(found, i - k - 1, -1)
    start = first_beat & (score_i < score_thresh)
    link = jnp.where(start, -1, loc)
    ring = jnp.concatenate([cum[None], ring[:-1]])
    return (ring, first_beat & start), (cum, link.astype(jnp.int32))

  init = (jnp.full((D,), -jnp.inf, dtype), jnp.asarray(True))
  _, (cumscore, backlink) = jax.lax.scan(step, init, (jnp.arange(T), localscore))
  # Last beat: the last local maximum of the cumulative score above half their median.
  lmax = jnp.concatenate([jnp.zeros(1, bool), (cumscore[1:-1] > cumscore[:-2]) & (cumscore[1:-1] >= cumscore[2:]),
                          cumscore[-1:] > cumscore[-2:-1]]) if T > 1 else jnp.zeros(T, bool)
  med = jnp.nanmedian(jnp.where(lmax, cumscore, jnp.nan))
  ok = lmax & (cumscore >= 0.5 * med)
  tail = jnp.where(jnp.any(ok), T - 1 - jnp.argmax(ok[::-1]), T - 1)

  def back(nxt, inputs):
    i, link = inputs
    hit = i == nxt
    return jnp.where(hit, link, nxt), hit

  _, beats = jax.lax.scan(back, tail.astype(jnp.int32), (jnp.arange(T, dtype=jnp.int32), backlink), reverse=True)
  # Trim weak leading/trailing beats: threshold half the RMS of the Hann-smoothed beat scores.
  if trim:
    nb = jnp.sum(beats)
    order = jnp.argsort(~beats, stable=True)
    compact = jnp.where(jnp.arange(T) < nb, localscore[order], 0)
    smooth = jnp.convolve(compact, jnp.asarray([0.0, 0.5, 1.0, 0.5, 0.0], dtype), mode="full")[2:T + 2]
    count = jnp.minimum(T, nb + 2)
    threshold = 0.5 * jnp.sqrt(jnp.sum(smooth ** 2) / count)
  else:
    threshold = jnp.asarray(0, dtype)
  above = localscore > threshold
  keep = (jnp.cumsum(above) > 0) & (jnp.cumsum(above[::-1])[::-1] > 0)
  return beats & keep


@functools.partial(jax.jit, static_argnames=("fps", "tightness", "trim", "max_fpb"))
def _beat_masks(env, bpm, *, fps, tightness, trim, max_fpb):
  flat_env = env.reshape(-1, env.shape[-1])
  flat_bpm = jnp.broadcast_to(bpm, env.shape[:-1]).reshape(-1)
  beats = jax.vmap(functools.partial(_beat_track_1d, fps=fps, tightness=tightness, trim=trim, max_fpb=max_fpb))(
      flat_env, flat_bpm)
  beats = beats & jnp.any(flat_env != 0, axis=-1, keepdims=True)
  return beats.reshape(env.shape)


def beat_track(y: ArrayLike | None = None, *, sr: float = 22050, onset_envelope: ArrayLike | None = None,
               hop_length: int = 512, start_bpm: float = 120.0, tightness: float = 100, trim: bool = True,
               bpm: Any = None, units: str = "frames", sparse: bool = True,
               prior: Any = None) -> tuple[Any, Any]:
  """Dynamic-programming beat tracker (Ellis 2007), as librosa's.

  The onset envelope (median-aggregated :func:`onset_strength` of ``y``) is normalised by its
  standard deviation and smoothed by a Gaussian of the beat period; a dynamic programme
  (``lax.scan`` over frames, ``C[i] = s[i] + max_{loc} C[loc] - tightness·log²((i - loc)/P)`` over
  ``loc ∈ [i - 2P, i - P/2]``) finds the best beat sequence of period ``P = round(60·fps / bpm)``,
  backtracked from the last strong local maximum; weak beats at both ends are trimmed.

  ``sparse=True`` (default) returns host NumPy beat positions (concrete input, a 1-D envelope), as
  librosa. ``sparse=False`` returns ``(tempo (...), beats (..., n_frames) bool)`` and works under
  ``jit``/``vmap`` on batches. Beat positions are discrete: their gradient is zero (and so is the
  tempo's, an arg-max).

  Args:
    y: ``(..., n_samples)`` signal, or ``None`` with ``onset_envelope``.
    sr: sample rate (Hz).
    onset_envelope: ``(..., n_frames)`` onset strength.
    hop_length: hop of the envelope (samples).
    start_bpm: prior centre of :func:`tempo`.
    tightness: how strictly beats follow the tempo (> 0).
    trim: trim weak leading and trailing beats.
    bpm: a known tempo (a number, or one per example ``(...)``) instead of :func:`tempo`.
    units: ``"frames"``, ``"samples"`` or ``"time"`` (sparse only).
    sparse: host positions or a boolean mask.
    prior: a prior over tempo for :func:`tempo` (a callable of BPM giving log-probabilities, or an
      object with ``logpdf`` such as ``scipy.stats.uniform(30, 300)``); unused with ``bpm``.

  Returns:
    ``(tempo, beats)``.

  Raises:
    ValueError: no input, non-positive ``start_bpm``/``tightness``/``bpm``, bad ``units``,
      ``sparse=True`` with a batch or under ``jit``.
    TypeError: a ``prior`` that is neither callable nor has ``logpdf``.

  Examples:
    >>> import jaxdsp as jd
    >>> env = jnp.tile(jnp.array([1.0] + [0.0] * 21), 20)   # 117.4 BPM at 22.05 kHz, hop 512
    >>> bpm, beats = jd.beat_track(onset_envelope=env)
    >>> round(float(bpm), 1), beats[:4].tolist()
    (117.5, [22, 44, 66, 88])

  Compare ``librosa.beat.beat_track`` (a per-frame ``bpm`` is not supported).

  References:
    D. P. W. Ellis, "Beat tracking by dynamic programming", J. New Music Research 36(1), 2007.
  """
  sr = _checks.sample_rate(sr)
  hop_length = _checks.positive_int(hop_length, "hop_length")
  tightness = _checks.positive_number(tightness, "tightness")
  start_bpm = _checks.positive_number(start_bpm, "start_bpm")
  prior = _check_prior(prior)
  trim = _checks.flag(trim, "trim")
  sparse = _checks.flag(sparse, "sparse")
  _checks.choice(units, "units", ("frames", "samples", "time"))
  env = _envelope(y, onset_envelope, sr, hop_length, aggregate="median")
  if sparse:
    if env.ndim != 1:
      raise ValueError(f"sparse=True needs a 1-D onset envelope (use sparse=False for batches), got shape "
                       f"{env.shape}")
    if isinstance(env, jax.core.Tracer):
      raise ValueError("sparse=True returns host positions and cannot run under jit; use sparse=False")
  fps = sr / hop_length
  if bpm is None:
    bpm = tempo(onset_envelope=env, sr=sr, hop_length=hop_length, start_bpm=start_bpm, prior=prior)
    max_fpb = int(np.floor(8.0 * sr / hop_length)) - 1  # the longest lag of tempo()'s tempogram
  else:
    if isinstance(bpm, (int, float, np.integer, np.floating)):
      bpm = _checks.positive_number(bpm, "bpm")
      max_fpb = int(np.round(fps * 60.0 / bpm))
    else:
      bpm_host = np.asarray(bpm) if not isinstance(bpm, jax.core.Tracer) else None
      if bpm_host is not None and (bpm_host.size == 0 or np.any(bpm_host <= 0)):
        raise ValueError(f"bpm must be positive, got {bpm!r}")
      max_fpb = int(np.round(fps * 60.0 / bpm_host.min())) if bpm_host is not None else \
          int(np.floor(8.0 * sr / hop_length)) - 1
    bpm = jnp.asarray(bpm, env.dtype)
    if bpm.shape not in ((), env.shape[:-1]):
      raise ValueError(f"bpm must be a number or one per example {env.shape[:-1]}, got shape {bpm.shape}")
  # One static bound for the Gaussian and the DP ring: the longest period tempo() can return (shapes, and
  # so compilations, are shared between estimated and given tempi at one sr and hop).
  max_fpb = max(1, max_fpb, int(np.floor(8.0 * sr / hop_length)) - 1)
  beats = _beat_masks(env, jnp.asarray(bpm, env.dtype), fps=fps, tightness=tightness, trim=bool(trim),
                      max_fpb=max_fpb)
  bpm = jnp.where(jnp.any(env != 0, axis=-1), bpm, 0)
  if not sparse:
    return bpm, beats
  positions = np.flatnonzero(np.asarray(beats))
  if units == "samples":
    positions = positions * hop_length
  elif units == "time":
    positions = positions * (hop_length / sr)
  return float(bpm), positions
