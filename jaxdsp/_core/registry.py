"""The feature registry: each feature's name, what it reduces, its options and their defaults.

A :class:`Feature` says what it needs (``needs``: the signal, or one of the spectra of the fused
STFT pass: the complex STFT, its magnitude, power, ``|STFT|^power``, the mel spectrogram), how it
reduces that per chunk of frames (``reduce``), what runs once the chunks are reassembled
(``finish``: dB scaling and the cepstrum, whose ``top_db`` peak is per example), and which options
it reads with their defaults. :data:`OPTIONS` holds each option's one check, so that
:func:`jaxdsp.features`, the single functions, :func:`jaxdsp.batch.extract` and the CLI accept and
refuse the same values with the same message.

Adding a feature is one :data:`REGISTRY` entry plus its reducer (in :mod:`jaxdsp._core.reducers`);
``features()``, ``batch.extract`` and ``jaxdsp extract`` derive their names and options from here.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable

import jax.numpy as jnp
import numpy as np

from jaxdsp import _checks
from jaxdsp._core import filters
from jaxdsp._core import intervals
from jaxdsp._core import reducers


# ---------------------------------------------------------------------------------------------
# Options: one check each.


def _number_or_none(check: Callable) -> Callable:
  return lambda value, name: None if value is None else check(value, name)


def _fraction(value: Any, name: str) -> float:
  """A real number strictly between 0 and 1 (Python or NumPy scalar)."""
  if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
    raise TypeError(f"{name} must be a real number in (0, 1), got {value!r}")
  if not (math.isfinite(value) and 0.0 < value < 1.0):
    raise ValueError(f"{name} must be a number in (0, 1), got {value!r}")
  return float(value)


def _mel_norm(value: Any, name: str) -> Any:
  if value is None or value == "slaney":
    return value
  if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
    raise ValueError(f"{name} must be 'slaney', a number or None, got {value!r}")
  return float(value)


@dataclasses.dataclass(frozen=True)
class Option:
  """A feature option: its default and its one check (``check(value, name)`` returns the value
  normalised to a hashable Python scalar or raises ``ValueError``/``TypeError`` naming ``name``)."""

  default: Any
  check: Callable[[Any, str], Any]
  doc: str


OPTIONS: dict[str, Option] = {
    "sr": Option(22050, _checks.sample_rate, "sample rate (Hz)"),
    "power": Option(2.0, _checks.positive_number, "exponent of the magnitude"),
    "n_mels": Option(128, _checks.positive_int, "number of mel bands"),
    "fmin": Option(0.0, lambda v, n: _checks.positive_number(v, n, allow_zero=True), "lowest mel edge (Hz)"),
    "fmax": Option(None, _number_or_none(_checks.positive_number), "highest mel edge (Hz), default sr / 2"),
    "htk": Option(False, _checks.flag, "HTK mel scale instead of Slaney's"),
    "mel_norm": Option("slaney", _mel_norm, "mel filter normalisation: 'slaney', a p-norm or None"),
    "n_mfcc": Option(20, _checks.positive_int, "number of MFCCs"),
    "lifter": Option(0.0, lambda v, n: _checks.positive_number(v, n, allow_zero=True), "cepstral liftering"),
    "dct_norm": Option("ortho", lambda v, n: _checks.choice(v, n, ("ortho", None)), "DCT normalisation"),
    "top_db": Option(80.0, _number_or_none(lambda v, n: _checks.positive_number(v, n, allow_zero=True)),
                     "dB range below each example's peak, or None"),
    "amin": Option(1e-10, _checks.positive_number, "floor before the logarithm"),
    "roll_percent": Option(0.85, _fraction, "roll-off fraction, in (0, 1)"),
    "p": Option(2.0, _checks.positive_number, "bandwidth order, > 0"),
    "norm": Option(True, _checks.flag, "bandwidth: normalise each frame's spectrum to sum 1"),
    "zcr_threshold": Option(1e-10, lambda v, n: _checks.positive_number(v, n, allow_zero=True),
                            "amplitudes at or below it count as zero in the zero-crossing rate"),
    "zcr_pad_mode": Option("edge", lambda v, n: v, "centre padding of the zero-crossing rate"),
    "onset_delay": Option(2, _checks.nonnegative_int,
                          "onset strength: centring delay in frames (features() and extract: n_fft // (2 * hop_length) when centred)"),
}


# ---------------------------------------------------------------------------------------------
# Features. ``reduce(ctx, cfg)`` reads a spectra context (``jaxdsp._core.pipeline.Spectra``: the
# spectra of one chunk, or a given spectrogram) or, for ``needs == "signal"``, ``(y, spec, cfg)``.


@dataclasses.dataclass(frozen=True)
class Feature:
  """One registered feature.

  Attributes:
    name: the public name (also the function's name where jaxdsp has one).
    needs: ``"signal"`` (framed from the signal, outside the STFT pass), ``"complex"``,
      ``"magnitude"``, ``"power"``, ``"spectrum"`` (``|STFT|^power``) or ``"mel"``.
    reduce: the per-chunk reduction, frame axis last.
    options: option name -> this feature's default (names of :data:`OPTIONS`).
    finish: applied to the reassembled result, ``finish(x, cfg, n_valid)``.
    from_S: how a given spectrogram ``S`` is read: ``"magnitude"``, ``"spectrum"`` (already raised to
      ``power``) or ``None`` (no ``S`` input); or a function ``(S, cfg, n_fft) -> result`` (``n_fft``:
      the FFT size ``S`` came from).
    doc: one line for listings.
  """

  name: str
  needs: str
  reduce: Callable
  options: dict[str, Any]
  finish: Callable | None = None
  from_S: str | Callable | None = None
  doc: str = ""


def _rms_signal(y, spec, cfg):
  return reducers.rms(y, spec.n_fft, spec.hop_length, spec.center, spec.pad_mode)


def _rms_from_S(S, cfg, frame_length):
  return reducers.rms_of_spectrum(S, frame_length, -2)


def _envelope(y, spec, cfg):
  return reducers.envelope(y, spec.n_fft, spec.hop_length, spec.center, spec.pad_mode)


def _zcr(y, spec, cfg):
  return reducers.zcr(y, spec.n_fft, spec.hop_length, spec.center, cfg["zcr_pad_mode"], cfg["zcr_threshold"])


def _db_finish(x, cfg, n_valid):
  return reducers.db(x, amin=cfg["amin"], top_db=cfg["top_db"], n_valid=n_valid)


def _mfcc_finish(M, cfg, n_valid):
  if n_valid is not None:  # frames past a row's end hold padding: they enter neither the peak nor the DCT
    M = reducers.mask_frames(M, n_valid, 0.0)
  return _cepstrum(reducers.db(M, amin=1e-10, top_db=cfg["top_db"], n_valid=n_valid), cfg)


def _cepstrum(S_db, cfg, n_fft=None):
  del n_fft  # the mel spectrogram has no FFT size
  return reducers.cepstrum(S_db, cfg["n_mfcc"], cfg["lifter"], cfg["dct_norm"])


_MEL = {"sr": 22050, "power": 2.0, "n_mels": 128, "fmin": 0.0, "fmax": None, "htk": False, "mel_norm": "slaney"}
_FREQ = {"sr": 22050}

_ENTRIES = (
    Feature("amplitude_envelope", "signal", _envelope, {}, doc="maximum sample of each frame"),
    Feature("rms", "signal", _rms_signal, {}, from_S=_rms_from_S, doc="root-mean-square of each frame"),
    Feature("zero_crossing_rate", "signal", _zcr, {"zcr_threshold": 1e-10, "zcr_pad_mode": "edge"},
            doc="fraction of sign changes per frame"),
    Feature("stft", "complex", lambda ctx, cfg: reducers.to_public(ctx.complex, ctx.axis), {},
            doc="complex STFT"),
    Feature("spectrogram", "spectrum", lambda ctx, cfg: reducers.to_public(ctx.pow(cfg["power"]), ctx.axis),
            {"power": 1.0}, doc="magnitude spectrogram |STFT|^power"),
    Feature("spectrogram_db", "power", lambda ctx, cfg: reducers.to_public(ctx.power, ctx.axis),
            {"amin": 1e-10, "top_db": 80.0}, finish=_db_finish, doc="spectrogram in dB (per-example top_db)"),
    Feature("spectral_centroid", "magnitude", lambda ctx, cfg: ctx.centroid(cfg), dict(_FREQ),
            from_S="magnitude", doc="magnitude-weighted mean frequency"),
    Feature("spectral_bandwidth", "magnitude",
            lambda ctx, cfg: reducers.bandwidth(ctx.magnitude, ctx.freq(cfg), ctx.centroid(cfg), cfg["p"],
                                                cfg["norm"], ctx.axis),
            dict(_FREQ, p=2.0, norm=True), from_S="magnitude", doc="p-th order spread around the centroid"),
    Feature("spectral_rolloff", "magnitude",
            lambda ctx, cfg: reducers.rolloff(ctx.magnitude, ctx.freq(cfg), cfg["roll_percent"], ctx.axis),
            dict(_FREQ, roll_percent=0.85), from_S="magnitude", doc="frequency below roll_percent of the energy"),
    Feature("spectral_flatness", "magnitude",
            lambda ctx, cfg: reducers.flatness(ctx.magnitude, cfg["amin"], cfg["power"], ctx.axis),
            {"amin": 1e-10, "power": 2.0}, from_S="magnitude", doc="geometric over arithmetic mean of power"),
    Feature("melspectrogram", "mel", lambda ctx, cfg: ctx.mel(cfg), dict(_MEL), from_S="spectrum",
            doc="mel spectrogram of |STFT|^power"),
    Feature("mfcc", "mel", lambda ctx, cfg: ctx.mel(cfg),
            dict(_MEL, n_mfcc=20, lifter=0.0, dct_norm="ortho", top_db=80.0), finish=_mfcc_finish,
            from_S=_cepstrum, doc="DCT-II of the dB mel spectrogram"),
)


def _onset_finish(M, cfg, n_valid):
  S = reducers.db(M, amin=1e-10, top_db=80.0, n_valid=n_valid)
  return reducers.flux(S, lag=1, max_size=1, ref=None, aggregate="mean", channels=None, delay=cfg["onset_delay"],
                       detrend=False, truncate=True)[..., 0, :]


_ENTRIES += (
    Feature("onset_strength", "mel",
            lambda ctx, cfg: ctx.mel(dict(cfg, power=2.0)),
            dict(_MEL, onset_delay=2), finish=_onset_finish,
            doc="spectral flux of the dB mel spectrogram (librosa's onset_strength)"),
)


# --- constant-Q and chroma ---


def _chroma_bins(value: Any, name: str) -> int:
  value = _checks.positive_int(value, name)
  if value > 4096:
    raise ValueError(f"{name} must be at most 4096, got {value}")
  return value



OPTIONS.update({
    "n_chroma": Option(12, _chroma_bins, "number of chroma bins (at most 4096)"),
    "tuning": Option(0.0, _checks.real_number, "chroma: tuning offset in fractions of a chroma bin"),
    "chroma_norm": Option(math.inf, _checks.p_norm, "chroma: per-frame p-norm (inf: the maximum) or None"),
    "ctroct": Option(5.0, _checks.real_number, "chroma filterbank: centre octave of the octave weighting"),
    "octwidth": Option(2.0, _number_or_none(_checks.positive_number), "chroma filterbank: octave width, or None"),
    "base_c": Option(True, _checks.flag, "chroma filterbank: start at C (else A)"),
})
_ENTRIES += (
    Feature("chroma_stft", "power", lambda ctx, cfg: reducers.chroma_reduce(ctx.power, ctx.axis, cfg, ctx.n_fft),
            {"sr": 22050, "n_chroma": 12, "tuning": 0.0, "chroma_norm": math.inf, "ctroct": 5.0, "octwidth": 2.0,
             "base_c": True},
            from_S=lambda S, cfg, n_fft: reducers.chroma_reduce(S, -2, cfg, n_fft),
            doc="chromagram of the power spectrogram (librosa's chroma_stft, tuning 0 unless given)"),
)


def _signal_blocks(y, spec, cfg):
  """The constant-Q features' per-frame values before their finish: the ``hop_length`` samples frame ``t``
  starts (``y[t·hop : (t+1)·hop]`` with ``center``; shifted by ``n_fft // 2`` without, so that the constant-Q
  frame is centred where the STFT frame is), zero past the end, and below them one row holding how many of
  them belong to the signal: ``(..., hop_length + 1, n_frames)``. Stitched over the pieces of a long file
  they are the signal and its length, whose constant-Q transform the finish computes as the function
  computes it of the signal alone (:func:`mark_lengths` sets the counts of rows padded past their signal)."""
  del cfg
  if spec.pad_mode != "constant":
    raise ValueError(f"the constant-Q features (chroma_cqt, chroma_vqt, chroma_cens, tonnetz) need "
                     f"pad_mode='constant' (their filters read zeros past the signal's ends, as jaxdsp.cqt does), "
                     f"got pad_mode={spec.pad_mode!r}")
  hop, n = spec.hop_length, y.shape[-1]
  if hop > spec.n_fft - spec.n_fft // 2:  # a piece of a long file holds n_fft + (frames - 1) · hop samples
    raise ValueError(f"the constant-Q features need hop_length <= n_fft - n_fft // 2 = "
                     f"{spec.n_fft - spec.n_fft // 2}, got hop_length={hop}")
  off = _block_offset(spec)
  n_frames = 1 + n // hop if spec.center else 1 + (n - spec.n_fft) // hop
  end = off + n_frames * hop
  y = jnp.pad(y, [(0, 0)] * (y.ndim - 1) + [(0, max(0, end - n))])[..., off:end]
  blocks = jnp.swapaxes(y.reshape(*y.shape[:-1], n_frames, hop), -1, -2)
  counts = np.clip(n - off - hop * np.arange(n_frames), 0, hop)
  counts = jnp.broadcast_to(jnp.asarray(counts, blocks.dtype), (*blocks.shape[:-2], 1, n_frames))
  return jnp.concatenate([blocks, counts], axis=-2)


def _block_offset(spec) -> int:
  return 0 if spec.center else spec.n_fft // 2


def takes_lengths(name: str) -> bool:
  """Whether feature ``name`` reads its signal's length from its raw values (the constant-Q features):
  rows padded past their signal (batch rows) need :func:`mark_lengths` before its finish."""
  return REGISTRY[name].reduce is _signal_blocks


def mark_lengths(raw, spec, row_start, lengths, n_valid):
  """The raw values ``(..., hop_length + 1, n_frames)`` of a constant-Q feature of rows framed with ``spec``
  whose sample ``j`` is sample ``row_start + j`` of a signal of ``lengths`` samples, of which the first
  ``n_valid`` frames belong to it (``row_start``, ``lengths``, ``n_valid``: ``raw.shape[:-2]``, traceable;
  ``row_start`` is negative where a row begins with padding), with the counts of the samples of each block
  that belong to the signal set as :func:`_signal_blocks` sets them for the signal alone (none in the frames
  past ``n_valid``: without ``center``, the samples after the last frame's block are not the feature's)."""
  hop, n_frames = raw.shape[-2] - 1, raw.shape[-1]
  t = jnp.arange(n_frames)
  start = jnp.asarray(row_start)[..., None] + _block_offset(spec) + hop * t
  counts = jnp.clip(jnp.asarray(lengths)[..., None] - start, 0, hop)
  counts = jnp.where(t < jnp.asarray(n_valid)[..., None], counts, 0).astype(raw.dtype)
  return jnp.concatenate([raw[..., :hop, :], counts[..., None, :]], axis=-2)


def _n_octaves(value: Any, name: str) -> int:
  value = _checks.positive_int(value, name)
  if value > 64:
    raise ValueError(f"{name} must be at most 64, got {value}")
  return value


def _win_len_smooth(value: Any, name: str) -> int:
  value = _checks.positive_int(value, name)
  if value > 2**16:
    raise ValueError(f"{name} must be at most 65536 frames, got {value}")
  return value


def _intervals(value: Any, name: str) -> Any:
  """An interval set: a name of ``INTERVAL_SETS`` or distinct ratios in [1, 2), as a tuple (checked by the
  function ``vqt`` and ``chroma_vqt`` use, so that the messages are theirs)."""
  ratios, _ = intervals.octave_ratios(value, 12, sort=False)
  return value if isinstance(value, str) else ratios


# The finishing steps of the constant-Q features compute the transform (``jaxdsp.constantq``, ``jaxdsp.chroma``):
# the public module that holds it provides them when it is imported (``register_finish``), so that the core
# imports no public module.
_FINISH: dict[str, Callable] = {}


def register_finish(name: str, fn: Callable) -> None:
  """Provides the finishing step ``fn(raw, cfg) -> result`` of the constant-Q feature ``name`` (called by
  :mod:`jaxdsp.chroma` when it is imported, which ``import jaxdsp`` does)."""
  _FINISH[name] = fn


def _cq_finish(name):
  def finish(raw, cfg, n_valid):
    del n_valid  # the raw values carry each row's length in samples
    if name not in _FINISH:
      raise RuntimeError(f"the finishing step of {name} is provided by jaxdsp.chroma: import jaxdsp first")
    return _FINISH[name](raw, cfg)
  return finish


_CQ = {"sr": 22050, "n_chroma": 12, "tuning": 0.0, "chroma_norm": math.inf, "cqt_fmin": None, "n_octaves": 7,
       "bins_per_octave": 36, "chroma_threshold": 0.0}
OPTIONS.update({
    "cqt_fmin": Option(None, _number_or_none(_checks.positive_number), "constant-Q: lowest frequency, default C1"),
    "n_octaves": Option(7, _n_octaves, "constant-Q: number of octaves (at most 64)"),
    "bins_per_octave": Option(36, _checks.positive_int, "constant-Q: bins per octave (a multiple of n_chroma)"),
    "chroma_threshold": Option(0.0, lambda v, n: _checks.positive_number(v, n, allow_zero=True),
                               "constant-Q chroma: values below it set to 0"),
    "win_len_smooth": Option(41, _number_or_none(_win_len_smooth), "CENS: smoothing length in frames (at most 65536), "
                             "or None"),
    "intervals": Option("equal", _intervals, "variable-Q chroma: 'equal', 'pythagorean', 'ji3', 'ji5', 'ji7' or a "
                        "sequence of distinct ratios in [1, 2) (bins_per_octave is then its length)"),
    "gamma": Option(0.0, _number_or_none(lambda v, n: _checks.positive_number(v, n, allow_zero=True)),
                    "variable-Q chroma: bandwidth offset in Hz (0: constant-Q; None: ERB)"),
})
_ENTRIES += (
    Feature("chroma_cqt", "signal", _signal_blocks, dict(_CQ), finish=_cq_finish("chroma_cqt"),
            doc="constant-Q chromagram (librosa's chroma_cqt, tuning 0 unless given)"),
    Feature("chroma_cens", "signal", _signal_blocks, dict(_CQ, chroma_norm=2.0, win_len_smooth=41),
            finish=_cq_finish("chroma_cens"), doc="chroma energy normalised statistics (librosa's chroma_cens)"),
    Feature("tonnetz", "signal", _signal_blocks, dict(_CQ), finish=_cq_finish("tonnetz"),
            doc="tonal centroids of the constant-Q chroma (librosa's tonnetz)"),
    Feature("chroma_vqt", "signal", _signal_blocks,
            {"sr": 22050, "chroma_norm": math.inf, "cqt_fmin": None, "n_octaves": 7, "bins_per_octave": 12,
             "chroma_threshold": 0.0, "intervals": "equal", "gamma": 0.0},
            finish=_cq_finish("chroma_vqt"),
            doc="variable-Q chromagram of an interval set (librosa's chroma_vqt, intervals='equal' unless given)"),
)
# --- end constant-Q and chroma ---
# --- helpers and conversions ---
def _contrast_bands(cfg, n_fft):
  freq = np.fft.rfftfreq(n_fft, 1.0 / cfg["sr"])
  return filters.contrast_bands(freq, cfg["sr"], cfg["contrast_fmin"], cfg["n_bands"], cfg["quantile"])


def _contrast(ctx, cfg):
  return reducers.contrast_peaks(ctx.magnitude, _contrast_bands(cfg, ctx.n_fft), ctx.axis)


def _contrast_from_S(S, cfg, n_fft):
  return reducers.contrast_finish(reducers.contrast_peaks(S, _contrast_bands(cfg, n_fft), -2), cfg["linear"])


def _poly(S, axis, cfg, n_fft):
  return reducers.poly_fit(S, np.fft.rfftfreq(n_fft, 1.0 / cfg["sr"]), cfg["poly_order"], axis)


def _contrast_check(cfg):
  if cfg["contrast_fmin"] * 2.0 ** (cfg["n_bands"] - 1) >= 0.5 * cfg["sr"]:
    raise ValueError(f"fmin · 2^(n_bands - 1) must be below the Nyquist frequency sr / 2 = {0.5 * cfg['sr']:g} "
                     f"(reduce fmin={cfg['contrast_fmin']:g} or n_bands={cfg['n_bands']})")


OPTIONS.update({
    "contrast_fmin": Option(200.0, _checks.positive_number, "spectral contrast: upper edge of the first band (Hz)"),
    "n_bands": Option(6, _checks.positive_int, "spectral contrast: number of octave bands"),
    "quantile": Option(0.02, _fraction, "spectral contrast: fraction of a band's bins for its peak and valley"),
    "linear": Option(False, _checks.flag, "spectral contrast: peak - valley instead of their dB difference"),
    "poly_order": Option(1, _checks.nonnegative_int, "poly_features: polynomial degree"),
})
_ENTRIES += (
    Feature("spectral_contrast", "magnitude", _contrast,
            {"sr": 22050, "contrast_fmin": 200.0, "n_bands": 6, "quantile": 0.02, "linear": False},
            finish=lambda pv, cfg, n_valid: reducers.contrast_finish(pv, cfg["linear"], n_valid),
            from_S=_contrast_from_S, doc="octave-band peak minus valley, in dB (librosa's spectral_contrast)"),
    Feature("poly_features", "magnitude", lambda ctx, cfg: _poly(ctx.magnitude, ctx.axis, cfg, ctx.n_fft),
            {"sr": 22050, "poly_order": 1}, from_S=lambda S, cfg, n_fft: _poly(S, -2, cfg, n_fft),
            doc="coefficients of a polynomial fitted to each frame's magnitude spectrum"),
)
# --- end helpers and conversions ---

REGISTRY: dict[str, Feature] = {f.name: f for f in _ENTRIES}
FEATURE_NAMES: tuple[str, ...] = tuple(sorted(REGISTRY))
DEFAULT_FEATURES: tuple[str, ...] = ("spectrogram", "rms", "zero_crossing_rate", "spectral_centroid",
                                     "spectral_bandwidth", "spectral_rolloff", "melspectrogram")
# The options of features(), batch.extract and ``jaxdsp extract``: every option of the registry but those that
# the framing decides (the zero-crossing rate's centre padding follows ``center`` and ``pad_mode``).
FRAMING_OPTIONS: tuple[str, ...] = ("zcr_pad_mode",)
SHARED_OPTIONS: tuple[str, ...] = tuple(k for k in OPTIONS if k not in FRAMING_OPTIONS)


class _PerFeature:
  """The default of an option that features read with different defaults: each feature's own."""

  def __repr__(self) -> str:
    return "PER_FEATURE"


# An option's value meaning "each requested feature's own default" (the same as leaving the option out).
PER_FEATURE = _PerFeature()


def feature_defaults(option: str) -> dict[str, Any]:
  """The features that read ``option``, each with its default (registry order)."""
  return {f.name: f.options[option] for f in _ENTRIES if option in f.options}


def shared_default(option: str) -> Any:
  """The default of ``option`` where every feature reading it has the same one, else :data:`PER_FEATURE`."""
  defaults = list(feature_defaults(option).values())
  if not defaults:
    return OPTIONS[option].default
  first = defaults[0]
  same = all(type(d) is type(first) and (d == first or d is first) for d in defaults)  # noqa: E721
  return first if same else PER_FEATURE


def check_options(options: dict[str, Any], who: str) -> dict[str, Any]:
  """``options`` (keyword arguments of :func:`jaxdsp.features` and :func:`jaxdsp.batch.extract`) checked
  against the registry: an unknown name is a ``TypeError`` naming ``who`` and the known ones, each value goes
  through its option's one check (also for options the requested features do not read). Options given as
  :data:`PER_FEATURE` are dropped (each feature takes its own default)."""
  unknown = sorted(set(options) - set(SHARED_OPTIONS))
  if unknown:
    raise TypeError(f"{who} got unexpected options {unknown}; the feature options are {sorted(SHARED_OPTIONS)}")
  given = {k: v for k, v in options.items() if v is not PER_FEATURE}
  for key, value in given.items():
    OPTIONS[key].check(value, key)
  return given


def option_help(option: str) -> str:
  """One line for listings (docstrings, ``--help``): what ``option`` is, its default(s) and who reads it."""
  defaults = feature_defaults(option)
  shared = shared_default(option)
  if shared is PER_FEATURE:
    by_value: dict[str, list[str]] = {}
    for name, d in defaults.items():
      by_value.setdefault(_show(d), []).append(name)
    default = "; ".join(f"{v} for {', '.join(names)}" for v, names in by_value.items())
  else:
    default = _show(shared)
  readers = ", ".join(defaults) or "none"
  return f"{OPTIONS[option].doc} (default: {default}; read by {readers})"


def _show(value: Any) -> str:
  return "inf" if isinstance(value, float) and math.isinf(value) else repr(value)


def parse_text(text: str) -> Any:
  """An option's value from command-line text: ``none``, ``true``/``false``, an int, a float (``inf``), a
  comma-separated sequence of these, or the text itself (a name); the option's check then judges it."""
  low = text.strip().lower()
  if low == "none":
    return None
  if low in ("true", "false"):
    return low == "true"
  if "," in text:
    return tuple(parse_text(t) for t in text.split(",") if t.strip())
  for kind in (int, float):
    try:
      return kind(text)
    except ValueError:
      pass
  return text


def feature_names(names: Any, argname: str = "names") -> tuple[str, ...]:
  """``names`` (a name or a sequence of them) checked, deduplicated and sorted."""
  if isinstance(names, str):
    names = (names,)
  try:
    names = tuple(sorted(set(names)))
  except TypeError as e:
    raise TypeError(f"{argname} must be a feature name or a sequence of names, got {names!r}") from e
  if not names:
    raise ValueError(f"{argname} must name at least one feature")
  for name in names:
    _checks.choice(name, argname, FEATURE_NAMES)
  return names


def config(name: str, given: dict[str, Any], aliases: dict[str, str] | None = None) -> tuple:
  """The checked options of feature ``name`` as a sorted, hashable tuple (a static argument).

  ``given`` maps option names to values (missing ones take the feature's defaults); ``aliases``
  maps an option to the argument name a public function calls it (for the error messages).
  """
  feature = REGISTRY[name]
  aliases = aliases or {}
  cfg = {}
  for key, default in feature.options.items():
    value = given.get(key, default)
    cfg[key] = OPTIONS[key].check(value, aliases.get(key, key))
  _check_together(cfg)
  return tuple(sorted(cfg.items()))


def _check_together(cfg: dict[str, Any]) -> None:
  if "n_mels" in cfg:
    filters.mel_args(cfg["sr"], 2, cfg["n_mels"], cfg["fmin"], cfg["fmax"], cfg["htk"], cfg["mel_norm"])
  if "n_mfcc" in cfg and cfg["n_mfcc"] > cfg["n_mels"]:
    raise ValueError(f"n_mfcc must be <= n_mels={cfg['n_mels']}, got {cfg['n_mfcc']}")
  if "n_bands" in cfg:
    _contrast_check(cfg)
  if "n_chroma" in cfg and "bins_per_octave" in cfg and cfg["bins_per_octave"] % cfg["n_chroma"]:
    raise ValueError(f"bins_per_octave={cfg['bins_per_octave']} must be an integer multiple of "
                     f"n_chroma={cfg['n_chroma']}")
