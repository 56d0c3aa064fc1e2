"""Execution of the registry: the fused pass from a signal, and the reduction of a given spectrogram.

:func:`run` computes any set of registered features of ``y`` in one jitted pass: the time-domain
ones from the signal, the spectral ones chunk by chunk with one STFT (cache-sized chunks on CPU,
the whole batch on accelerators: :mod:`jaxdsp._core.chunking`), sharing every intermediate (power,
magnitude, mel, centroid) between features, then the per-example steps (dB, cepstrum).
:func:`from_spectrogram` reduces a user's spectrogram in the layout it has (frequency axis -2).
Every public feature function, :func:`jaxdsp.features` and :func:`jaxdsp.batch.extract` call these.
"""

from __future__ import annotations

import functools
from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jaxdsp import _checks
from jaxdsp import _ops
from jaxdsp._core import chunking
from jaxdsp._core import filters
from jaxdsp._core import reducers
from jaxdsp._core import stft as _stft
from jaxdsp._core.registry import REGISTRY
from jaxdsp._core.registry import config


class Spectra:
  """The spectra of one chunk (from its complex STFT ``D``) or of a given spectrogram, computed
  on first use and shared by the features of one pass.

  ``axis`` is the frequency axis (-1: the pipeline's frequency-last chunks; -2: the public layout).
  ``n_fft`` gives the bin frequencies. ``arrays`` holds user arrays (e.g. ``freq``).
  """

  def __init__(self, *, axis: int, n_fft: int, arrays: dict, D: jax.Array | None = None,
               given: jax.Array | None = None, given_kind: str | None = None):
    self.axis, self.n_fft, self.arrays = axis, n_fft, arrays
    self._D, self._given, self._kind = D, given, given_kind
    self._cache: dict = {}

  def _cached(self, key, fn):
    if key not in self._cache:
      self._cache[key] = fn()
    return self._cache[key]

  @property
  def complex(self) -> jax.Array:
    return self._D

  @property
  def power(self) -> jax.Array:
    if self._D is None:
      return self._cached("power", lambda: _ops.abs2(self._given))
    return self._cached("power", lambda: _ops.abs2(self._D))

  @property
  def magnitude(self) -> jax.Array:
    if self._D is None and self._kind == "magnitude":
      return self._given
    return self._cached("magnitude", lambda: _ops.safe_sqrt(self.power))

  def pow(self, p: float) -> jax.Array:
    """``|STFT|^p`` (a given ``"spectrum"`` is already raised to its power)."""
    if self._D is None and self._kind == "spectrum":
      return self._given
    if p == 1:
      return self.magnitude
    if p == 2:
      return self.power
    return self._cached(("pow", p), lambda: _ops.safe_pow(self.power, p / 2))

  def freq(self, cfg: dict) -> jax.Array:
    """The bin frequencies: the user's ``freq`` or ``fft_frequencies(sr, n_fft)`` (a constant)."""
    if "freq" in self.arrays:
      return self.arrays["freq"]
    dtype = (self._D.real if self._D is not None else self._given).dtype
    return jnp.asarray(np.fft.rfftfreq(self.n_fft, 1.0 / cfg["sr"]), dtype=dtype)

  def centroid(self, cfg: dict) -> jax.Array:
    """The spectral centroid (the user's ``centroid`` array when given)."""
    if "centroid" in self.arrays:
      return self.arrays["centroid"]
    return self._cached(("centroid", cfg["sr"]), lambda: reducers.centroid(self.magnitude, self.freq(cfg), self.axis))

  def mel(self, cfg: dict) -> jax.Array:
    args = filters.mel_args(cfg["sr"], self.n_fft, cfg["n_mels"], cfg["fmin"], cfg["fmax"], cfg["htk"],
                            cfg["mel_norm"])
    S = self.pow(cfg["power"])
    fb = jnp.asarray(filters.mel_np(*args), dtype=S.dtype)
    return self._cached(("mel", args, cfg["power"]), lambda: reducers.mel(S, fb, filters.bands(*args), self.axis))


Requests = tuple  # ((name, cfg_items), ...): static


@functools.partial(jax.jit, static_argnames=("requests", "spec", "raw"))
def _run(y, window, arrays, n_valid, *, requests, spec, raw):
  features = [(REGISTRY[name], dict(cfg)) for name, cfg in requests]
  out = {}
  for f, cfg in features:
    if f.needs == "signal":
      v = f.reduce(y, spec, cfg)
      out[f.name] = v if f.finish is None or f.name in raw else f.finish(v, cfg, n_valid)
  spectral = [(f, cfg) for f, cfg in features if f.needs != "signal"]
  if spectral:
    def chunk(segments):
      ctx = Spectra(axis=-1, n_fft=spec.n_fft, arrays=arrays,
                    D=_stft.stft_frames(segments, window, spec.n_fft, spec.hop_length))
      return {f.name: f.reduce(ctx, cfg) for f, cfg in spectral}

    res = chunking.map_frames(chunk, y, spec.n_fft, spec.hop_length, spec.center, spec.pad_mode)
    for f, cfg in spectral:
      out[f.name] = res[f.name] if f.finish is None or f.name in raw else f.finish(res[f.name], cfg, n_valid)
  return out


def run(y: jax.Array, requests: Requests, spec: _stft.StftSpec, *, window: Any = "hann",
        arrays: dict | None = None, n_valid: jax.Array | None = None, raw: frozenset = frozenset()
        ) -> dict[str, jax.Array]:
  """The features of ``requests`` (``((name, config(name, ...)), ...)``) of the checked signal ``y``
  in one jitted pass; ``n_valid`` (``(batch,)``) limits the per-example ``top_db`` peaks to each
  row's first frames (batch rows padded beyond their signal). Features named in ``raw`` are returned
  before their ``finish`` step (per-frame values that can be computed piece by piece and stitched;
  :func:`finish` then completes them over the whole signal)."""
  spectral = any(REGISTRY[name].needs != "signal" for name, _ in requests)
  window = spec.window(window, y.dtype) if spectral else None
  return _run(y, window, arrays or {}, n_valid, requests=tuple(sorted(requests)), spec=spec, raw=frozenset(raw))


def needs_finish(name: str) -> bool:
  """Whether feature ``name`` has a whole-signal finishing step (dB peaks, flux over frames, ...)."""
  return REGISTRY[name].finish is not None


@functools.partial(jax.jit, static_argnames=("name", "cfg"))
def finish(x: jax.Array, *, name: str, cfg: tuple) -> jax.Array:
  """The finishing step of feature ``name`` over the whole of its raw per-frame values ``x`` (as
  :func:`run` returns them with ``raw``), as one example."""
  f = REGISTRY[name]
  return x if f.finish is None else f.finish(x, dict(cfg), None)


@functools.partial(jax.jit, static_argnames=("name", "cfg", "n_fft"))
def _from_spectrogram(S, arrays, *, name, cfg, n_fft):
  f = REGISTRY[name]
  cfg = dict(cfg)
  if callable(f.from_S):
    return f.from_S(S, cfg, n_fft)
  ctx = Spectra(axis=-2, n_fft=n_fft, arrays=arrays, given=S, given_kind=f.from_S)
  return f.reduce(ctx, cfg)


def from_spectrogram(name: str, S: jax.Array, cfg: tuple, *, n_fft: int | None = None,
                     arrays: dict | None = None) -> jax.Array:
  """Feature ``name`` of the checked spectrogram ``S`` ``(..., n_freq, n_frames)``, read in place.
  ``n_fft`` (the FFT size behind ``S``) defaults to ``2 · (n_freq - 1)``, librosa's rule."""
  n_fft = 2 * (S.shape[-2] - 1) if n_fft is None else n_fft
  return _from_spectrogram(S, arrays or {}, name=name, cfg=cfg, n_fft=n_fft)


def signal_spec(y: jax.Array, *, n_fft: Any, hop_length: Any, win_length: Any = None, center: Any = True,
                pad_mode: Any = "constant", length_name: str = "n_fft") -> _stft.StftSpec:
  """The checked STFT (or framing) settings for ``y``."""
  return _stft.StftSpec.checked(y.shape[-1], n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                                center=center, pad_mode=pad_mode, length_name=length_name)


def feature(name: str, y: Any = None, S: Any = None, *, options: dict[str, Any], aliases: dict[str, str] | None = None,
            freq: Any = None, centroid: Any = None, **stft: Any) -> jax.Array:
  """One registered feature, as a public function computes it: from ``y`` through the fused pass,
  or from a given ``S`` in place. ``stft`` holds the STFT arguments (``n_fft``, ``hop_length``,
  ``win_length``, ``window``, ``center``, ``pad_mode``; ``length_name``: what the public function
  calls ``n_fft``, e.g. ``"frame_length"``); ``freq`` optional bin frequencies
  (``(n_freq,)`` or ``(n_freq, n_frames)``), ``centroid`` an optional ``(..., n_frames)`` centroid."""
  f = REGISTRY[name]
  _stft.y_or_S(y, S)
  cfg = config(name, options, aliases)
  if S is not None:
    # Magnitudes must be non-negative (librosa refuses negative S for the spectral shape features).
    S = _stft.spectrum(S, allow_complex=(name == "rms"), nonnegative=(f.from_S == "magnitude"))
    n_fft = stft.get("n_fft") if name == "rms" else None
    if f.from_S == "spectrum":  # a mel spectrogram of S: its filterbank's n_fft is 2 (n_freq - 1)
      warn_settings(((name, cfg),), 2 * (S.shape[-2] - 1))
    return from_spectrogram(name, S, cfg, n_fft=n_fft, arrays=_user_arrays(freq, centroid, S.shape[-2], S.dtype))
  y = _checks.as_signal(y)
  window = stft.get("window", "hann")
  spec = signal_spec(y, **{k: v for k, v in stft.items() if k != "window"})
  warn_settings(((name, cfg),), spec.n_fft)
  arrays = _user_arrays(freq, centroid, spec.n_freq, y.dtype)
  if centroid is not None or (freq is not None and arrays["freq"].ndim == 2):
    # Arrays over all frames cannot follow the chunks: reduce the magnitude spectrogram in place.
    S = run(y, (("spectrogram", config("spectrogram", {"power": 1.0})),), spec, window=window)["spectrogram"]
    return from_spectrogram(name, S, cfg, n_fft=spec.n_fft, arrays=arrays)
  return run(y, ((name, cfg),), spec, window=window, arrays=arrays)[name]


def _user_arrays(freq: Any, centroid: Any, n_freq: int, dtype: Any) -> dict[str, jax.Array]:
  arrays = {}
  if freq is not None:
    freq = jnp.asarray(freq, dtype=dtype)
    if freq.ndim not in (1, 2) or freq.shape[0] != n_freq:
      raise ValueError(f"freq must have {n_freq} entries (one per frequency bin) along its first axis, "
                       f"got shape {freq.shape}")
    arrays["freq"] = freq
  if centroid is not None:
    arrays["centroid"] = jnp.asarray(centroid, dtype=dtype)
  return arrays


def features(y: Any, names: Sequence[str], options: dict[str, Any], **stft: Any) -> dict[str, jax.Array]:
  """The checked request of :func:`jaxdsp.features`: every feature of ``names`` with the shared
  ``options`` (time-domain features frame with ``frame_length = n_fft``; the zero-crossing rate
  keeps librosa's ``"edge"`` centre padding)."""
  y = _checks.as_signal(y)
  window = stft.get("window", "hann")
  spec = signal_spec(y, **{k: v for k, v in stft.items() if k != "window"})
  signal_names = [n for n in names if REGISTRY[n].needs == "signal"]
  if spec.win_length != spec.n_fft and signal_names:
    raise ValueError(f"time-domain features ({', '.join(signal_names)}) need win_length == n_fft "
                     "(they use frame_length = n_fft)")
  options = dict(options, zcr_pad_mode="edge" if spec.center else spec.pad_mode)
  options.setdefault("onset_delay", onset_delay(spec.n_fft, spec.hop_length, spec.center))
  requests = tuple((name, config(name, options)) for name in names)
  warn_settings(requests, spec.n_fft)
  return run(y, requests, spec, window=window)


def onset_delay(n_fft: int, hop_length: int, center: bool) -> int:
  """The onset strength's centring delay in frames (librosa's ``n_fft // (2 · hop_length)`` when
  ``center``), which the registry's ``onset_delay`` option takes from the STFT settings by default."""
  return n_fft // (2 * hop_length) if center else 0


def warn_settings(requests: Requests, n_fft: int) -> None:
  """The warnings of a request's settings (librosa's): empty mel filters, once per call, at
  argument-check time (outside any trace). ``n_fft > n_samples`` warns in ``StftSpec.checked``."""
  seen = set()
  for _, cfg in requests:
    c = dict(cfg)
    if "n_mels" in c:
      args = filters.mel_args(c["sr"], n_fft, c["n_mels"], c["fmin"], c["fmax"], c["htk"], c["mel_norm"])
      if args not in seen:
        seen.add(args)
        filters.warn_empty_filters(args)
