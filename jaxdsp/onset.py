"""Onset detection: spectral-flux onset strength, peak picking and backtracking.

Layout: signals ``(..., n_samples)``; onset envelopes ``(..., n_frames)`` (one per example; the
multi-band envelope is ``(..., n_channels, n_frames)``). The onset strength is a smooth function
of the signal (differentiable, unlike librosa's); the detected onsets are discrete events:
:func:`onset_detect` returns frame indices on the host, or, inside ``jit`` (``sparse=False``), a
fixed-size boolean mask over the frames, whose gradient is zero.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from jaxdsp import _checks
from jaxdsp import _core

_AGGREGATES = ("mean", "median")


def _aggregate_name(aggregate: Any, name: str = "aggregate") -> str:
  """``"mean"``/``"median"`` or the NumPy/JAX functions of those names."""
  if aggregate is None:
    return "mean"
  for fn_name in _AGGREGATES:
    if aggregate is getattr(np, fn_name) or aggregate is getattr(jnp, fn_name) or aggregate == fn_name:
      return fn_name
  raise ValueError(f"{name} must be 'mean', 'median' (or np.mean / np.median), got {aggregate!r}")


def _channel_slices(channels: Any, n_bins: int) -> tuple | None:
  """librosa's ``util.sync`` index rule (``pad=False``): bin boundaries or slices, static."""
  if channels is None:
    return None
  channels = list(channels)
  if channels and all(isinstance(c, slice) for c in channels):
    return tuple((c.start, c.stop, c.step) for c in channels)  # hashable (a static argument)
  if not channels or not all(isinstance(c, (int, np.integer)) and not isinstance(c, bool) for c in channels):
    raise ValueError(f"channels must be a non-empty sequence of bin indices or of slices, got {channels!r}")
  idx = np.unique(np.clip(np.asarray(channels), 0, n_bins))
  if np.any(np.asarray(channels) < 0):
    raise ValueError(f"channels must hold non-negative bin indices, got {channels!r}")
  return tuple((int(a), int(b), None) for a, b in zip(idx, idx[1:]))


def onset_strength_multi(y: ArrayLike | None = None, *, sr: float = 22050, S: ArrayLike | None = None,
                         n_fft: int = 2048, hop_length: int = 512, lag: int = 1, max_size: int = 1,
                         ref: ArrayLike | None = None, detrend: bool = False, center: bool = True,
                         aggregate: Any = "mean", channels: Sequence[Any] | None = None, n_mels: int = 128,
                         fmin: float = 0.0, fmax: float | None = None, window: Any = "hann",
                         pad_mode: str = "constant", feature: Callable[..., Any] | None = None,
                         feature_kwargs: dict[str, Any] | None = None) -> jax.Array:
  """Spectral-flux onset strength per channel (groups of mel bands).

  ``env[c, t] = agg_{f ∈ c} max(0, S[f, t] - ref[f, t - lag])`` with ``S`` the dB mel spectrogram
  (``power_to_db`` of the power mel spectrogram, ``top_db=80`` below each example's peak; or of
  ``|feature(y)|`` for another ``feature``) and
  ``ref`` ``S`` itself or its maximum filter over ``max_size`` bins (Böck & Widmer's
  vibrato suppression); the result is delayed by ``lag`` frames plus, when ``center``, the
  ``n_fft // (2 · hop_length)`` frames of the STFT's centring, and cut to the spectrogram's length.

  Args:
    y: ``(..., n_samples)`` signal, or ``None`` with ``S``.
    sr: sample rate (Hz).
    S: ``(..., n_bins, n_frames)`` log-power spectrogram used as is (keyword).
    n_fft, hop_length, window, pad_mode: STFT of ``y``; ``n_fft`` and ``hop_length`` also set the
      centring delay for a given ``S``.
    lag: time lag of the difference (frames, ≥ 1).
    max_size: size of the maximum filter over frequency for the reference (1: none).
    ref: ``(..., n_bins, n_frames)`` reference spectrogram instead of ``S``.
    detrend: remove the DC component with the filter ``(1 - z⁻¹) / (1 - 0.99 z⁻¹)``.
    center: compensate the centring delay (see above).
    aggregate: ``"mean"`` (default) or ``"median"`` over the bins of a channel.
    channels: bin boundaries (``[0, 32, 64, 128]``) or slices; ``None`` means all bins in one channel.
    n_mels, fmin, fmax: mel filterbank (``fmax`` defaults to ``sr / 2``); window, pad_mode: its STFT.
      Used by the default feature only.
    feature: the spectrogram function instead of the mel spectrogram (librosa's ``feature``), called
      as ``feature(y=y, sr=sr, n_fft=n_fft, hop_length=hop_length, **feature_kwargs)`` and returning
      ``(..., n_bins, n_frames)``; its magnitude goes through ``power_to_db`` (e.g.
      ``jd.chroma_stft``, ``jd.melspectrogram``, or any JAX function of that form; it must be
      traceable for ``jit``/``grad``).
    feature_kwargs: further keyword arguments of ``feature`` (librosa's ``**kwargs``).

  Returns:
    ``(..., n_channels, n_frames)``.

  Raises:
    ValueError: non-positive ``lag``/``max_size``, bad ``aggregate``/``channels``, ``ref`` of another
      shape than ``S``, ``feature_kwargs`` without ``feature``, and the STFT's own checks.
    TypeError: a ``feature`` that is not callable, ``feature_kwargs`` not a dict.

  Examples:
    >>> import jaxdsp as jd
    >>> y = jnp.zeros(22050).at[11025].set(1.0)
    >>> jd.onset_strength_multi(y, channels=[0, 64, 128]).shape
    (2, 44)

  Compare ``librosa.onset.onset_strength_multi``.

  References:
    S. Böck and G. Widmer, "Maximum filter vibrato suppression for onset detection", DAFx 2013.
  """
  lag = _checks.positive_int(lag, "lag")
  max_size = _checks.positive_int(max_size, "max_size")
  n_fft = _checks.positive_int(n_fft, "n_fft")
  hop_length = _checks.positive_int(hop_length, "hop_length")
  aggregate = _aggregate_name(aggregate)
  detrend = _checks.flag(detrend, "detrend")
  center = _checks.flag(center, "center")
  delay = n_fft // (2 * hop_length) if center else 0
  feature, feature_kwargs = _feature(feature, feature_kwargs)
  _core.y_or_S(y, S)
  if S is None and feature is not None:
    y = _checks.as_signal(y)
    S = jnp.abs(jnp.asarray(feature(y=y, sr=sr, n_fft=n_fft, hop_length=hop_length, **feature_kwargs)))
    if S.ndim < 2 or not jnp.issubdtype(S.dtype, jnp.floating):
      raise ValueError(f"feature must return a (..., n_bins, n_frames) floating array, got shape {S.shape} and "
                       f"dtype {S.dtype}")
    S = _core.db(S, amin=1e-10, top_db=80.0)
  elif S is None:
    y = _checks.as_signal(y)
    S = _core.feature("melspectrogram", y, n_fft=n_fft, hop_length=hop_length, window=window, center=center,
                      pad_mode=pad_mode, options=dict(sr=sr, power=2.0, n_mels=n_mels, fmin=fmin, fmax=fmax))
    S = _core.db(S, amin=1e-10, top_db=80.0)
  else:
    S = _checks.as_signal(S, "S", min_ndim=2)
  if ref is not None:
    ref = _checks.as_signal(ref, "ref", min_ndim=2)
    if ref.shape != S.shape:
      raise ValueError(f"ref must have the shape of the spectrogram {S.shape}, got {ref.shape}")
  if S.shape[-1] <= lag:
    raise ValueError(f"lag must be smaller than the number of frames {S.shape[-1]}, got {lag}")
  return _flux_jit(S, ref, lag=lag, max_size=max_size, aggregate=aggregate,
                   channels=_channel_slices(channels, S.shape[-2]), delay=delay, detrend=detrend, truncate=center)


def _feature(feature: Any, feature_kwargs: Any) -> tuple[Any, dict]:
  if feature is not None and not callable(feature):
    raise TypeError(f"feature must be a callable spectrogram function (e.g. jd.chroma_stft) or None, got {feature!r}")
  if feature_kwargs is not None and not isinstance(feature_kwargs, dict):
    raise TypeError(f"feature_kwargs must be a dict of keyword arguments, got {type(feature_kwargs).__name__}")
  if feature is None and feature_kwargs:
    raise ValueError("feature_kwargs needs a feature (the default mel spectrogram takes n_mels, fmin, fmax, window "
                     "and pad_mode)")
  return feature, dict(feature_kwargs or {})


@functools.partial(jax.jit, static_argnames=("lag", "max_size", "aggregate", "channels", "delay", "detrend",
                                             "truncate"))
def _flux_jit(S, ref, **kw):
  return _core.flux(S, ref=ref, **kw)


def onset_strength(y: ArrayLike | None = None, *, sr: float = 22050, S: ArrayLike | None = None,
                   n_fft: int = 2048, hop_length: int = 512, lag: int = 1, max_size: int = 1,
                   ref: ArrayLike | None = None, detrend: bool = False, center: bool = True,
                   aggregate: Any = "mean", n_mels: int = 128, fmin: float = 0.0, fmax: float | None = None,
                   window: Any = "hann", pad_mode: str = "constant", feature: Callable[..., Any] | None = None,
                   feature_kwargs: dict[str, Any] | None = None) -> jax.Array:
  """Spectral-flux onset strength envelope (one channel of :func:`onset_strength_multi`).

  ``env[t] = mean_f max(0, S[f, t] - ref[f, t - lag])`` over the dB mel spectrogram, delayed and
  cut as in :func:`onset_strength_multi`. Computed from ``y`` through the feature core, so it is also
  ``jd.features(names=("onset_strength",))`` and ``jaxdsp extract --features onset_strength``
  (those use the defaults ``lag=1``, ``max_size=1``, no detrending and the mean; the centring delay
  ``n_fft // (2 · hop_length)`` follows their STFT settings).

  Differentiable in ``y`` (the ``max(0, ·)`` and the ``top_db`` clip have zero gradient where they
  are active; librosa's version is not differentiable at all).

  Args:
    y: ``(..., n_samples)`` signal, or ``None`` with ``S``.
    sr, S, n_fft, hop_length, lag, max_size, ref, detrend, center, aggregate, n_mels, fmin, fmax,
      window, pad_mode, feature, feature_kwargs: see :func:`onset_strength_multi` (e.g.
      ``feature=jd.chroma_stft`` for a chroma flux, as librosa's ``feature``).

  Returns:
    ``(..., n_frames)``.

  Raises:
    ValueError: see :func:`onset_strength_multi`.

  Examples:
    >>> import jaxdsp as jd
    >>> y = jnp.zeros(22050).at[11025].set(1.0)
    >>> env = jd.onset_strength(y)
    >>> env.shape, int(env.argmax())
    ((44,), 22)

  Compare ``librosa.onset.onset_strength`` (matches it to float32 round-off of the dB values).

  References:
    S. Böck and G. Widmer, "Maximum filter vibrato suppression for onset detection", DAFx 2013.
  """
  if S is None and y is not None and ref is None and feature is None and not feature_kwargs and not detrend \
      and lag == 1 and max_size == 1 and _aggregate_name(aggregate) == "mean" and center is True:
    # The registered feature: one fused pass (the mel, its dB and the flux), as in features().
    delay = _checks.positive_int(n_fft, "n_fft") // (2 * _checks.positive_int(hop_length, "hop_length"))
    return _core.feature("onset_strength", y, n_fft=n_fft, hop_length=hop_length, window=window, center=center,
                         pad_mode=pad_mode, options=dict(sr=sr, n_mels=n_mels, fmin=fmin, fmax=fmax,
                                                         onset_delay=delay))
  return onset_strength_multi(y, sr=sr, S=S, n_fft=n_fft, hop_length=hop_length, lag=lag, max_size=max_size,
                              ref=ref, detrend=detrend, center=center, aggregate=aggregate, n_mels=n_mels,
                              fmin=fmin, fmax=fmax, window=window, pad_mode=pad_mode, feature=feature,
                              feature_kwargs=feature_kwargs)[..., 0, :]


# ---------------------------------------------------------------------------------------------
# Peak picking.


def _peak_pick_mask(x: jax.Array, pre_max: int, post_max: int, pre_avg: int, post_avg: int, delta: float,
                    wait: int) -> jax.Array:
  """librosa's ``util.peak_pick`` as a boolean mask over the last axis (a ``lax.scan`` for ``wait``)."""
  n = x.shape[-1]
  neg = jnp.asarray(-jnp.inf, x.dtype)
  # Windowed max over [t - pre_max, t + post_max) and mean over [t - pre_avg, t + post_avg), both
  # clipped to the signal.
  xp = jnp.pad(x, [(0, 0)] * (x.ndim - 1) + [(pre_max, post_max)], constant_values=neg)
  mx = functools.reduce(jnp.maximum, [xp[..., k:k + n] for k in range(pre_max + post_max)])
  cs = jnp.cumsum(jnp.pad(x, [(0, 0)] * (x.ndim - 1) + [(1, 0)]), axis=-1)
  t = np.arange(n)
  lo, hi = np.maximum(0, t - pre_avg), np.minimum(n, t + post_avg)
  avg = (cs[..., hi] - cs[..., lo]) / (hi - lo).astype(np.float32)
  # Frame 0: x[0] >= max(x[:post_max]) (librosa's special case; the general rule says the same).
  candidate = (x == mx) & (x >= avg + delta)

  def step(blocked_until, inputs):
    i, c = inputs
    peak = c & (i >= blocked_until)
    return jnp.where(peak, i + wait + 1, blocked_until), peak

  c = jnp.moveaxis(candidate, -1, 0)
  _, peaks = jax.lax.scan(step, jnp.zeros(c.shape[1:], jnp.int32), (jnp.arange(n), c))
  return jnp.moveaxis(peaks, 0, -1)


def _window_frames(value: Any, name: str, *, positive: bool) -> int:
  if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not np.isfinite(value):
    raise ValueError(f"{name} must be a finite number of frames, got {value!r}")
  if value < 0 or (positive and value <= 0):
    raise ValueError(f"{name} must be {'positive' if positive else 'non-negative'}, got {value!r}")
  return int(np.ceil(value))


def onset_detect(y: ArrayLike | None = None, *, sr: float = 22050, onset_envelope: ArrayLike | None = None,
                 hop_length: int = 512, backtrack: bool = False, energy: ArrayLike | None = None,
                 units: str = "frames", normalize: bool = True, sparse: bool = True,
                 pre_max: float | None = None, post_max: float | None = None, pre_avg: float | None = None,
                 post_avg: float | None = None, delta: float = 0.07, wait: float | None = None) -> Any:
  """Onset events: peaks of the (normalised) onset strength envelope (librosa's ``peak_pick``).

  Frame ``t`` is an onset when ``env[t] = max(env[t - pre_max : t + post_max])``,
  ``env[t] >= mean(env[t - pre_avg : t + post_avg]) + delta`` and no onset was picked in the
  ``wait`` frames before it (a ``lax.scan``). Windows default to 30 ms (max), 100 ms (mean) and 30 ms
  (wait) at ``sr / hop_length`` frames per second.

  Two forms: ``sparse=True`` (default) returns the onset positions as a host NumPy array (frame
  indices, samples or seconds per ``units``), as librosa; it needs concrete input (not under
  ``jit``) and a 1-D envelope. ``sparse=False`` returns a ``(..., n_frames)`` boolean mask, works
  under ``jit``/``vmap`` and on any batch. Events are discrete: their gradient is zero.

  Args:
    y: ``(..., n_samples)`` signal, or ``None`` with ``onset_envelope``.
    sr: sample rate (Hz).
    onset_envelope: ``(..., n_frames)`` onset strength (default: :func:`onset_strength` of ``y``).
    hop_length: hop of the envelope (samples).
    backtrack: move each onset back to the preceding local minimum of ``energy`` (sparse only).
    energy: ``(n_frames,)`` function to backtrack on (default: the envelope).
    units: ``"frames"``, ``"samples"`` or ``"time"`` (sparse only).
    normalize: rescale the envelope to ``[0, 1]`` first (per example).
    sparse: indices on the host (``True``) or a boolean mask (``False``).
    pre_max, post_max, pre_avg, post_avg, delta, wait: peak-picking windows (frames, rounded up)
      and threshold.

  Returns:
    ``(n_onsets,)`` NumPy array (sparse) or ``(..., n_frames)`` boolean ``jax.Array``.

  Raises:
    ValueError: neither ``y`` nor ``onset_envelope``, bad windows or ``units``, ``sparse=True`` with a
      batch or under ``jit``, ``backtrack`` with ``sparse=False``.

  Examples:
    >>> import jaxdsp as jd
    >>> env = jnp.array([0., 1., 0., 0., 0., 0., 0., 0., 3., 0., 0., 0.])
    >>> jd.onset_detect(onset_envelope=env, sr=100, hop_length=10).tolist()
    [1, 8]
    >>> jd.onset_detect(onset_envelope=env, sr=100, hop_length=10, sparse=False).astype(int).tolist()
    [0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]

  Compare ``librosa.onset.onset_detect`` and ``librosa.util.peak_pick``.
  """
  sr = _checks.sample_rate(sr)
  hop_length = _checks.positive_int(hop_length, "hop_length")
  _checks.choice(units, "units", ("frames", "samples", "time"))
  if onset_envelope is None:
    if y is None:
      raise ValueError("one of y or onset_envelope is required")
    onset_envelope = onset_strength(y, sr=sr, hop_length=hop_length)
  env = _checks.as_signal(onset_envelope, "onset_envelope")
  fps = sr / hop_length
  pre_max = _window_frames(0.03 * sr // hop_length if pre_max is None else pre_max, "pre_max", positive=False)
  post_max = _window_frames(0.0 * sr // hop_length + 1 if post_max is None else post_max, "post_max", positive=True)
  pre_avg = _window_frames(0.10 * sr // hop_length if pre_avg is None else pre_avg, "pre_avg", positive=False)
  post_avg = _window_frames(0.10 * sr // hop_length + 1 if post_avg is None else post_avg, "post_avg",
                            positive=True)
  wait = _window_frames(0.03 * sr // hop_length if wait is None else wait, "wait", positive=False)
  delta = _checks.positive_number(delta, "delta", allow_zero=True)
  del fps
  if sparse:
    if env.ndim != 1:
      raise ValueError(f"sparse=True needs a 1-D onset envelope (use sparse=False for batches), got shape "
                       f"{env.shape}")
    if isinstance(env, jax.core.Tracer):
      raise ValueError("sparse=True returns host indices and cannot run under jit; use sparse=False")
  elif backtrack:
    raise ValueError("backtrack is only supported with sparse=True")
  mask = _detect_mask(env, normalize=bool(normalize), pre_max=pre_max, post_max=post_max, pre_avg=pre_avg,
                      post_avg=post_avg, delta=delta, wait=wait)
  if not sparse:
    return mask
  onsets = np.flatnonzero(np.asarray(mask))
  if backtrack:
    onsets = onset_backtrack(onsets, energy=env if energy is None else energy)
  if units == "samples":
    return onsets * hop_length
  if units == "time":
    return onsets * (hop_length / sr)
  return onsets


@functools.partial(jax.jit, static_argnames=("normalize", "pre_max", "post_max", "pre_avg", "post_avg", "delta",
                                             "wait"))
def _detect_mask(env, *, normalize, pre_max, post_max, pre_avg, post_avg, delta, wait):
  if normalize:
    env = env - env.min(axis=-1, keepdims=True)
    env = env / (env.max(axis=-1, keepdims=True) + jnp.finfo(env.dtype).tiny)
  valid = jnp.any(env != 0, axis=-1, keepdims=True) & jnp.all(jnp.isfinite(env), axis=-1, keepdims=True)
  return _peak_pick_mask(env, pre_max, post_max, pre_avg, post_avg, delta, wait) & valid


def onset_backtrack(events: ArrayLike, *, energy: ArrayLike) -> np.ndarray:
  """Moves each onset event back to the nearest preceding local minimum of ``energy`` (host).

  Local minima are the frames ``t`` with ``energy[t] <= energy[t - 1]`` and ``energy[t] < energy[t + 1]``,
  plus frame 0; each event goes to the last minimum at or before it.

  Args:
    events: ``(n_events,)`` onset frame indices.
    energy: ``(n_frames,)`` energy function (e.g. RMS or the onset envelope).

  Returns:
    ``(n_events,)`` NumPy int array.

  Raises:
    ValueError: ``energy`` not 1-D, negative, non-finite or out-of-range events.
    TypeError: non-numeric ``events``.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.onset_backtrack(np.array([3, 7]), energy=np.array([1., 0., 2., 5., 3., 1., 4., 9.])).tolist()
    [1, 5]

  Compare ``librosa.onset.onset_backtrack`` (``energy`` is keyword-only here).
  """
  energy = np.asarray(energy)
  if energy.ndim != 1:
    raise ValueError(f"energy must be 1-D (n_frames,), got shape {energy.shape}")
  events = np.asarray(events)
  if events.dtype.kind not in "iuf":
    raise TypeError(f"events must be an array of frame indices (integers), got dtype {events.dtype}")
  if not np.all(np.isfinite(events)):
    raise ValueError("events contains non-finite values (NaN or inf)")
  if events.size and (events.min() < 0 or events.max() >= energy.shape[0]):
    raise ValueError(f"events must be frame indices in [0, {energy.shape[0]}), got {events.tolist()}")
  minima = np.flatnonzero((energy[1:-1] <= energy[:-2]) & (energy[1:-1] < energy[2:])) + 1
  minima = np.unique(np.concatenate([[0], minima])).astype(int)
  pos = np.searchsorted(minima, events, side="right") - 1
  return minima[np.maximum(pos, 0)]
