"""Unit conversions: mel centre frequencies, frame/sample/time grids, notes, MIDI and Hz, and the
A/B/C/D frequency weightings.

Conventions: the numeric conversions follow :func:`jaxdsp.hz_to_mel`: NumPy (or Python) in, NumPy
out in float64 (as librosa); a JAX array in, a JAX array out (so ``hz_to_midi``, ``midi_to_hz`` and
the weightings can be jitted, vmapped and differentiated). Grids (``mel_frequencies``,
``times_like``, ``samples_like``, ``time_to_samples``, ``samples_to_time``) are host NumPy
functions of static sizes. The note-name functions (``hz_to_note``, ``midi_to_note``,
``note_to_midi``, ``note_to_hz``) produce or parse strings and are therefore host NumPy functions:
they do not run under ``jit``. Names, arguments and results follow librosa 0.11.

Inputs must hold numbers (bool, int or float): strings and complex values raise ``TypeError`` naming
the argument, and host input (NumPy, lists, Python numbers) holding NaN or inf raises ``ValueError``,
as :func:`jaxdsp.hz_to_mel`; JAX arrays are not scanned (NaN in, NaN out).
"""

from __future__ import annotations

import re
from typing import Any

import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from jaxdsp import _checks
from jaxdsp import spectral as _spectral
from jaxdsp.framing import frames_to_samples
from jaxdsp.mel import hz_to_mel
from jaxdsp.mel import mel_to_hz


def _xp(x: Any):
  """NumPy for host input (arrays, Python scalars, lists), ``jax.numpy`` for JAX arrays and tracers."""
  return np if isinstance(x, (np.ndarray, float, int, np.generic, list, tuple)) else jnp


def _as_float(x: Any, name: str):
  _checks.numbers(x, name)
  xp = _xp(x)
  if xp is np:
    return np.asarray(x, dtype=float)
  x = jnp.asarray(x)
  return x if jnp.issubdtype(x.dtype, jnp.floating) else x.astype(jnp.float32)


# ---------------------------------------------------------------------------------------------
# Grids.


def mel_frequencies(n_mels: int = 128, *, fmin: float = 0.0, fmax: float = 11025.0, htk: bool = False) -> np.ndarray:
  """Centre frequencies of ``n_mels`` bands evenly spaced on the mel scale between ``fmin`` and ``fmax``.

  ``mel_to_hz(linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels))`` (Slaney's scale, or HTK's with
  ``htk=True``). Host NumPy float64.

  Args:
    n_mels: number of frequencies, a positive int.
    fmin, fmax: limits in Hz.
    htk: HTK's mel formula instead of Slaney's.

  Returns:
    ``(n_mels,)`` frequencies in Hz.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.mel_frequencies(5, fmax=8000.0).round(1).tolist()
    [0.0, 754.1, 1688.9, 3675.8, 8000.0]

  Compare ``librosa.mel_frequencies``.
  """
  n_mels = _checks.positive_int(n_mels, "n_mels")
  fmin = _checks.positive_number(fmin, "fmin", allow_zero=True)
  fmax = _checks.positive_number(fmax, "fmax", allow_zero=True)
  mels = np.linspace(hz_to_mel(fmin, htk=htk), hz_to_mel(fmax, htk=htk), n_mels)
  return np.asarray(mel_to_hz(mels, htk=htk))


def _n_of(X: Any, axis: int, name: str = "X") -> int:
  if np.isscalar(X) and not isinstance(X, (str, bytes)):
    if isinstance(X, bool) or not isinstance(X, (int, np.integer)) or X < 0:
      raise ValueError(f"{name} must be an array or a non-negative int (a number of frames), got {X!r}")
    return int(X)
  shape = np.shape(X)
  if not shape:
    raise ValueError(f"{name} must be an array or a non-negative int, got {X!r}")
  if not -len(shape) <= axis < len(shape):
    raise ValueError(f"axis must index {name}'s {len(shape)} dimensions, got {axis}")
  return shape[axis]


def samples_like(X: Any, *, hop_length: int = 512, n_fft: int | None = None, axis: int = -1) -> np.ndarray:
  """Sample indices of the frames of ``X``: ``arange(X.shape[axis]) · hop_length (+ n_fft // 2)``.

  Args:
    X: a feature array (its frame count is ``X.shape[axis]``) or a number of frames (int).
    hop_length: samples between frames.
    n_fft: when given, add ``n_fft // 2`` (the frame centre of an uncentred STFT).
    axis: the frame axis of ``X``.

  Returns:
    ``(n_frames,)`` int sample indices (host NumPy).

  Examples:
    >>> import jaxdsp as jd
    >>> jd.samples_like(3, hop_length=256).tolist()
    [0, 256, 512]

  Compare ``librosa.samples_like``.
  """
  return frames_to_samples(np.arange(_n_of(X, axis)), hop_length=hop_length, n_fft=n_fft)


def times_like(X: Any, *, sr: float = 22050, hop_length: int = 512, n_fft: int | None = None,
               axis: int = -1) -> np.ndarray:
  """Times in seconds of the frames of ``X``: ``samples_like(X) / sr``.

  Args:
    X: a feature array (frames along ``axis``) or a number of frames (int).
    sr: sample rate in Hz.
    hop_length, n_fft, axis: as :func:`samples_like`.

  Returns:
    ``(n_frames,)`` float64 times (host NumPy).

  Examples:
    >>> import jaxdsp as jd
    >>> jd.times_like(jnp.zeros((20, 3)), sr=22050, hop_length=512).round(4).tolist()
    [0.0, 0.0232, 0.0464]

  Compare ``librosa.times_like``.
  """
  sr = _checks.sample_rate(sr)
  return samples_like(X, hop_length=hop_length, n_fft=n_fft, axis=axis) / sr


def time_to_samples(times: ArrayLike, *, sr: float = 22050) -> np.ndarray:
  """Seconds to sample indices: ``int(times · sr)`` (truncation toward zero, as librosa).

  Examples:
    >>> import jaxdsp as jd
    >>> jd.time_to_samples([0.0, 0.5, 1.0], sr=22050).tolist()
    [0, 11025, 22050]

  Compare ``librosa.time_to_samples``.
  """
  sr = _checks.sample_rate(sr)
  _checks.numbers(times, "times")
  return (np.asanyarray(times) * sr).astype(int)


def samples_to_time(samples: ArrayLike, *, sr: float = 22050) -> np.ndarray:
  """Sample indices to seconds: ``samples / sr``.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.samples_to_time([0, 11025, 22050], sr=22050).tolist()
    [0.0, 0.5, 1.0]

  Compare ``librosa.samples_to_time``.
  """
  sr = _checks.sample_rate(sr)
  _checks.numbers(samples, "samples")
  return np.asanyarray(samples) / sr


# ---------------------------------------------------------------------------------------------
# MIDI and Hz.


def hz_to_midi(frequencies: ArrayLike) -> Any:
  """Hz to (fractional) MIDI note numbers: ``12 · (log2(f) - log2(440)) + 69``.

  NumPy in, NumPy out (float64); JAX in, JAX out (differentiable for ``f > 0``). ``f = 0`` gives
  ``-inf`` (as librosa); host NaN/inf is refused.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.hz_to_midi([440.0, 261.6255653]).round(3).tolist()
    [69.0, 60.0]

  Compare ``librosa.hz_to_midi``.
  """
  f = _as_float(frequencies, "frequencies")
  xp = _xp(frequencies)
  return 12.0 * (xp.log2(f) - np.log2(440.0)) + 69.0


def midi_to_hz(notes: ArrayLike) -> Any:
  """MIDI note numbers to Hz: ``440 · 2^((notes - 69) / 12)``.

  NumPy in, NumPy out (float64); JAX in, JAX out (differentiable).

  Examples:
    >>> import jaxdsp as jd
    >>> jd.midi_to_hz([69, 57]).tolist()
    [440.0, 220.0]

  Compare ``librosa.midi_to_hz``.
  """
  m = _as_float(notes, "notes")
  return 440.0 * (2.0 ** ((m - 69.0) / 12.0))


# ---------------------------------------------------------------------------------------------
# Note names (host functions: strings).

_NOTE_RE = re.compile(r"^(?P<note>[A-Ga-g])(?P<accidental>[#♯𝄪b!♭𝄫♮n]*)(?P<octave>[+-]?\d+)?"
                      r"(?P<cents>[+-]\d+)?$")
_KEY_RE = re.compile(r"^(?P<tonic>[A-Ga-g])(?P<accidental>[#♯b!♭]?):(?P<scale>(maj|min)(or)?)$")
_PITCH = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_ACC = {"#": 1, "": 0, "b": -1, "!": -1, "♯": 1, "𝄪": 2, "♭": -1, "𝄫": -2, "♮": 0, "n": 0}
_ASCII = str.maketrans({"♯": "#", "𝄪": "##", "♭": "b", "𝄫": "bb", "♮": "n"})


def _key_notes(key: str, unicode: bool) -> list[str]:
  """The 12 pitch-class names of ``key`` (``"C:maj"``, ``"F#:min"``, ``"Bb:major"``, ...), librosa's
  spelling: sharps or flats by the key signature, with E♯/B♯/... and C♭/F♭/... beyond six."""
  if not isinstance(key, str) or not (m := _KEY_RE.match(key)):
    raise ValueError(f"key must be a tonic with at most one accidental and ':maj' or ':min' (e.g. 'C:maj', "
                     f"'F#:min'), got {key!r}")
  tonic, offset = m.group("tonic").upper(), _ACC[m.group("accidental")]
  shift = 0 if m.group("scale").startswith("maj") else 9
  tonic_number = ((_PITCH[tonic] + offset) * 7 + shift) % 12
  use_sharps = offset > 0 or (offset == 0 and tonic_number < 6)
  sharp = ["C", "C♯", "D", "D♯", "E", "F", "F♯", "G", "G♯", "A", "A♯", "B"]
  flat = ["C", "D♭", "D", "E♭", "E", "F", "G♭", "G", "A♭", "A", "B♭", "B"]
  if use_sharps:
    n_sharps = 12 if (tonic_number == 0 and tonic == "B") else tonic_number
    fixes = [(5, "E♯"), (0, "B♯"), (7, "F𝄪"), (2, "C𝄪"), (9, "G𝄪"), (4, "D𝄪"), (11, "A𝄪")]
    for index, name in fixes[: max(0, n_sharps - 5)]:
      sharp[index] = name
    notes = sharp
  else:
    n_flats = (12 - tonic_number) % 12
    fixes = [(11, "C♭"), (4, "F♭"), (9, "B𝄫"), (2, "E𝄫"), (7, "A𝄫"), (0, "D𝄫")]
    for index, name in fixes[: max(0, n_flats - 5)]:
      flat[index] = name
    notes = flat
  return notes if unicode else [n.translate(_ASCII) for n in notes]


def midi_to_note(midi: ArrayLike, *, octave: bool = True, cents: bool = False, key: str = "C:maj",
                 unicode: bool = True) -> Any:
  """MIDI note numbers to note names (``69 -> "A4"``). Host function (strings; not jittable).

  Args:
    midi: a number or an array of them (JAX arrays are read back to the host).
    octave: append the octave number.
    cents: append the deviation from the nearest note in cents (``"A4+5"``); needs ``octave``.
    key: the key whose spelling is used: a tonic with at most one accidental and ``":maj"`` or
      ``":min"`` (librosa also accepts modes and multiple accidentals; those are not supported here).
    unicode: ``♯``/``♭`` (``True``) or ``#``/``b``.

  Returns:
    a ``str`` for a scalar, else a NumPy array of ``str`` of ``midi``'s shape.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.midi_to_note([60, 61.26, 70], key="F:maj", unicode=False, cents=True).tolist()
    ['C4+0', 'Db4+26', 'Bb4+0']

  Compare ``librosa.midi_to_note``.
  """
  if cents and not octave:
    raise ValueError("cents=True needs octave=True (cents cannot be encoded without the octave)")
  names = _key_notes(key, unicode)
  _checks.numbers(midi, "midi")
  values = np.asarray(midi, dtype=float)
  if not np.all(np.isfinite(values)):
    raise ValueError("midi must be finite")

  def one(m: float) -> str:
    num = int(np.round(m))
    note = names[num % 12]
    if octave:
      note = f"{note}{int(num / 12) - 1:0d}"
    if cents:
      note = f"{note}{int(100 * np.around(m - num, 2)):+02d}"
    return note

  if values.ndim == 0:
    return one(float(values))
  return np.vectorize(one, otypes=[object])(values).astype(str)


def hz_to_note(frequencies: ArrayLike, **kwargs: Any) -> Any:
  """Hz to note names: ``midi_to_note(hz_to_midi(frequencies), **kwargs)``. Host function.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.hz_to_note([440.0, 32.7]).tolist()
    ['A4', 'C1']

  Compare ``librosa.hz_to_note``.
  """
  _checks.numbers(frequencies, "frequencies")
  f = np.asarray(frequencies, dtype=float)  # JAX arrays are read back here (a host function)
  if not np.all(np.isfinite(f)) or np.any(f <= 0):
    raise ValueError(f"frequencies must be positive and finite, got values in [{np.min(f)}, {np.max(f)}]")
  return midi_to_note(hz_to_midi(f), **kwargs)


def note_to_midi(note: Any, *, round_midi: bool = True) -> Any:
  """Note names to MIDI numbers (``"A4" -> 69``, ``"C♯3-20" -> 48.8`` with ``round_midi=False``).
  Host function.

  Args:
    note: a name (letter, accidentals ``#♯𝄪b!♭𝄫♮``, optional octave, optional cents ``+NN``/``-NN``;
      no octave means octave 0) or an iterable of names.
    round_midi: round to the nearest integer.

  Returns:
    an ``int``/``float`` for a name, a NumPy array for an iterable.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.note_to_midi(["C4", "A#3", "Gb2"]).tolist()
    [60, 58, 42]

  Compare ``librosa.note_to_midi``.
  """
  if not isinstance(note, str):
    try:
      return np.array([note_to_midi(n, round_midi=round_midi) for n in note])
    except TypeError as e:
      raise TypeError(f"note must be a note name or an iterable of names, got {note!r}") from e
  m = _NOTE_RE.match(note)
  if not m:
    raise ValueError(f"note must be a note name such as 'C4', 'A#3' or 'Eb2+15', got {note!r}")
  offset = sum(_ACC[a] for a in m.group("accidental"))
  octave = int(m.group("octave") or 0)
  cents = int(m.group("cents")) * 1e-2 if m.group("cents") else 0
  value = 12 * (octave + 1) + _PITCH[m.group("note").upper()] + offset + cents
  return int(np.round(value)) if round_midi else value


def note_to_hz(note: Any, **kwargs: Any) -> Any:
  """Note names to Hz: ``midi_to_hz(note_to_midi(note, **kwargs))``. Host function.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.note_to_hz(["A4", "A5"]).tolist()
    [440.0, 880.0]

  Compare ``librosa.note_to_hz``.
  """
  return midi_to_hz(note_to_midi(note, **kwargs))


# ---------------------------------------------------------------------------------------------
# Frequency weightings (IEC 61672 A, B, C; ISO 226-era D).


def _weight(frequencies: ArrayLike, min_db: float | None, formula) -> Any:
  if min_db is not None:
    min_db = _checks.real_number(min_db, "min_db")
  xp = _xp(frequencies)
  f_sq = _as_float(frequencies, "frequencies") ** 2.0
  with np.errstate(divide="ignore"):  # f = 0 gives -inf before the floor, as librosa
    w = formula(xp, f_sq)
  return w if min_db is None else xp.maximum(min_db, w)


def A_weighting(frequencies: ArrayLike, *, min_db: float | None = -80.0) -> Any:  # pylint: disable=invalid-name
  """A-weighting in dB (IEC 61672): ``2 + 20·log10(c0² f⁴ / ((f² + c0²)(f² + c1²)√(f² + c2²)√(f² + c3²)))``
  with ``c = (12194.217, 20.598997, 107.65265, 737.86223)``, floored at ``min_db`` (``None``: no floor).

  NumPy in, NumPy out; JAX in, JAX out (differentiable where above ``min_db``; ``f = 0`` gives
  ``-inf`` before the floor, so its gradient is not finite there).

  Examples:
    >>> import jaxdsp as jd
    >>> jd.A_weighting([100.0, 10000.0]).round(2).tolist()
    [-19.14, -2.49]

  Compare ``librosa.A_weighting``.
  """
  c = np.array([12194.217, 20.598997, 107.65265, 737.86223]) ** 2.0
  return _weight(frequencies, min_db, lambda xp, f: 2.0 + 20.0 * (
      np.log10(c[0]) + 2 * xp.log10(f) - xp.log10(f + c[0]) - xp.log10(f + c[1]) - 0.5 * xp.log10(f + c[2])
      - 0.5 * xp.log10(f + c[3])))


def B_weighting(frequencies: ArrayLike, *, min_db: float | None = -80.0) -> Any:  # pylint: disable=invalid-name
  """B-weighting in dB: ``0.17 + 20·log10(c0² f³ / ((f² + c0²)(f² + c1²)√(f² + c2²)))`` with
  ``c = (12194.217, 20.598997, 158.48932)``, floored at ``min_db``.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.B_weighting([100.0, 10000.0]).round(2).tolist()
    [-5.65, -4.3]

  Compare ``librosa.B_weighting``.
  """
  c = np.array([12194.217, 20.598997, 158.48932]) ** 2.0
  return _weight(frequencies, min_db, lambda xp, f: 0.17 + 20.0 * (
      np.log10(c[0]) + 1.5 * xp.log10(f) - xp.log10(f + c[0]) - xp.log10(f + c[1]) - 0.5 * xp.log10(f + c[2])))


def C_weighting(frequencies: ArrayLike, *, min_db: float | None = -80.0) -> Any:  # pylint: disable=invalid-name
  """C-weighting in dB: ``0.062 + 20·log10(c0² f² / ((f² + c0²)(f² + c1²)))`` with
  ``c = (12194.217, 20.598997)``, floored at ``min_db``.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.C_weighting([100.0, 10000.0]).round(2).tolist()
    [-0.3, -4.41]

  Compare ``librosa.C_weighting``.
  """
  c = np.array([12194.217, 20.598997]) ** 2.0
  return _weight(frequencies, min_db, lambda xp, f: 0.062 + 20.0 * (
      np.log10(c[0]) + xp.log10(f) - xp.log10(f + c[0]) - xp.log10(f + c[1])))


def D_weighting(frequencies: ArrayLike, *, min_db: float | None = -80.0) -> Any:  # pylint: disable=invalid-name
  """D-weighting in dB (IEC 537), librosa's formula, floored at ``min_db``.

  ``20·(½log10 f² - log10 c0 + ½(log10((c1 - f²)² + c2 f²) - log10((c3 - f²)² + c4 f²)
  - log10(c5 + f²) - log10(c6 + f²)))`` with ``c = (8.3046305e-3, 1018.7, 1039.6, 3136.5, 3424,
  282.7, 1160)²``.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.D_weighting([100.0, 10000.0]).round(2).tolist()
    [-7.2, 3.44]

  Compare ``librosa.D_weighting``.
  """
  c = np.array([8.3046305e-3, 1018.7, 1039.6, 3136.5, 3424, 282.7, 1160]) ** 2.0
  return _weight(frequencies, min_db, lambda xp, f: 20.0 * (
      0.5 * xp.log10(f) - np.log10(c[0]) + 0.5 * (
          xp.log10((c[1] - f) ** 2 + c[2] * f) - xp.log10((c[3] - f) ** 2 + c[4] * f)
          - xp.log10(c[5] + f) - xp.log10(c[6] + f))))


_WEIGHTINGS = {"A": A_weighting, "B": B_weighting, "C": C_weighting, "D": D_weighting}


def _z_weighting(frequencies: ArrayLike, *, min_db: float | None = None) -> Any:
  if min_db is not None:
    min_db = _checks.real_number(min_db, "min_db")
  xp = _xp(frequencies)
  w = xp.zeros_like(_as_float(frequencies, "frequencies"))
  return w if min_db is None else xp.maximum(min_db, w)


def frequency_weighting(frequencies: ArrayLike, *, kind: str = "A", **kwargs: Any) -> Any:
  """The ``kind`` weighting (``"A"``, ``"B"``, ``"C"``, ``"D"``, or ``"Z"``: zero) in dB.

  Args:
    frequencies: frequencies in Hz.
    kind: weighting name (case-insensitive).
    **kwargs: ``min_db`` (see :func:`A_weighting`).

  Examples:
    >>> import jaxdsp as jd
    >>> jd.frequency_weighting([100.0], kind="c").round(2).tolist()
    [-0.3]

  Compare ``librosa.frequency_weighting``.
  """
  key = kind.upper() if isinstance(kind, str) else kind
  fn = dict(_WEIGHTINGS, Z=_z_weighting).get(key)
  if fn is None:
    raise ValueError(f"kind must be one of ('A', 'B', 'C', 'D', 'Z'), got {kind!r}")
  return fn(frequencies, **kwargs)


def perceptual_weighting(S: ArrayLike, frequencies: ArrayLike, *, kind: str = "A", **kwargs: Any) -> Any:
  """Perceptually weighted dB spectrogram: ``frequency_weighting(frequencies)[:, None] + power_to_db(S)``.

  Args:
    S: ``(..., n_freq, n_frames)`` power spectrogram.
    frequencies: ``(n_freq,)`` centre frequencies of ``S``'s rows in Hz.
    kind: weighting, see :func:`frequency_weighting` (with its default ``min_db=-80``).
    **kwargs: passed to :func:`jaxdsp.power_to_db` (``ref``, ``amin``, ``top_db``); ``top_db`` is
      relative to each example's own peak (librosa: the whole array's).

  Returns:
    ``(..., n_freq, n_frames)`` in dB (a JAX array; differentiable in ``S`` like ``power_to_db``).

  Examples:
    >>> import jaxdsp as jd
    >>> S = jnp.ones((3, 2))
    >>> np.asarray(jd.perceptual_weighting(S, jd.fft_frequencies(sr=8000, n_fft=4)), float).round(2).tolist()
    [[-80.0, -80.0], [1.2, 1.2], [0.96, 0.96]]

  Compare ``librosa.perceptual_weighting``.
  """
  S = _checks.as_signal(S, "S", min_ndim=2)
  f = np.asarray(frequencies) if not hasattr(frequencies, "aval") else frequencies
  if np.ndim(f) != 1 or np.shape(f)[0] != S.shape[-2]:
    raise ValueError(f"frequencies must have shape ({S.shape[-2]},) (one per row of S), got {np.shape(f)}")
  offset = jnp.asarray(frequency_weighting(f, kind=kind), dtype=S.dtype)[:, None]
  return offset + _spectral.power_to_db(S, **kwargs)
