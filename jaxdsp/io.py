"""Audio I/O (``load``, ``save``), a differentiable resampler (``resample``) and shipped examples.

Layout: time is the last axis. ``load(..., mono=False)`` returns ``(channels, n_samples)``
(librosa's layout) and ``save`` takes the same; a mono file is always ``(n_samples,)``.
``resample`` accepts any leading batch axes, ``(..., n) -> (..., ceil(n * target_sr / orig_sr))``.

Reading and writing go through ``soundfile`` (libsndfile: WAV 16/24/32-bit/float, FLAC, OGG Vorbis,
AIFF, ...). ``load`` either returns the whole requested excerpt or raises ``AudioFileError`` (an
``OSError``) whose message names the file: missing, unreadable, empty, truncated or corrupt files
and non-finite samples never come back half-loaded.

``resample`` is a band-limited windowed-sinc (Kaiser) polyphase resampler written in JAX, so it
runs under ``jit``, ``vmap`` and ``grad`` and on any device; ``load(sr=...)`` uses it.
"""

from __future__ import annotations

import fractions
import functools
import importlib.resources
import math
import os
import re
import stat
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import soundfile as sf
from jax import lax
from jax.typing import ArrayLike

from jaxdsp import _checks
from jaxdsp import _core

__all__ = ["AudioFileError", "example", "load", "read_host", "resample", "resample_grid", "save"]


class AudioFileError(OSError):
  """An audio file is missing, unreadable, empty, truncated, corrupt or holds non-finite samples.

  The message names the file; ``filename`` holds it too.
  """

  def __init__(self, message: str, filename: Any = None):
    super().__init__(message)
    self.filename = filename

  def __str__(self) -> str:  # OSError's own __str__ would drop the message when filename is set.
    return self.args[0]


class _AudioFileNotFoundError(AudioFileError, FileNotFoundError):
  """A missing audio file: both an ``AudioFileError`` and a ``FileNotFoundError``."""


# ---------------------------------------------------------------------------------------------
# Examples shipped in the package.

_EXAMPLES = {
    "speech": "speech.wav",  # espeak-ng, "Differentiable audio signal processing in JAX.", 16 kHz
    "music": "music.flac",  # additive-synthesis melody over chords, 22.05 kHz, 4 s
    "chirp": "chirp.flac",  # log chirp 60 Hz -> 10 kHz, 22.05 kHz, 2 s
}


def example(name: str) -> str:
  """Returns the path of a short audio clip shipped inside the package (no download).

  Args:
    name: one of ``"speech"`` (espeak-ng sentence, 16 kHz, 3 s), ``"music"`` (synthesised piano-like
      melody over chords, 22.05 kHz, 4 s), ``"chirp"`` (log sine sweep 60 Hz → 10 kHz, 22.05 kHz,
      2 s). All mono.

  Returns:
    The file path as a string, ready for ``load``.

  Raises:
    ValueError: unknown ``name`` (the message lists the known names).

  Examples:
    >>> import jaxdsp as jd
    >>> y, sr = jd.load(jd.example("speech"))
    >>> sr
    16000

  Compare ``librosa.example`` (which downloads its clips).
  """
  if not isinstance(name, str) or name not in _EXAMPLES:
    raise ValueError(f"name must be one of {tuple(sorted(_EXAMPLES))}, got {name!r}")
  path = importlib.resources.files("jaxdsp") / "examples_audio" / _EXAMPLES[name]
  return str(path)


# ---------------------------------------------------------------------------------------------
# Loading.

# Lines of libsndfile's header log where a declared chunk size exceeds what the file holds, e.g.
# "data : 90448 (should be 45202)" for a WAV cut short.
_SIZE_LINE = re.compile(
    r"^\s*(RIFF|RIFX|RF64|riff|FORM|data|SSND)\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)
_PLACEHOLDER_SIZE = 0x7FFF0000  # streaming writers put 0x7FFFFFFF / 0xFFFFFFFF in unknown sizes


def _declared_beyond_end(info: str) -> bool:
  for _, declared, actual in _SIZE_LINE.findall(info):
    declared, actual = int(declared), int(actual)
    if actual + 1 < declared < _PLACEHOLDER_SIZE:  # +1: a missing RIFF pad byte loses nothing
      return True
  return False


def _ogg_truncated(path: str) -> bool:
  """True when the last Ogg page is cut short or is not flagged end-of-stream."""
  size = os.path.getsize(path)
  with open(path, "rb") as f:
    f.seek(max(0, size - 131072))
    tail = f.read()
  pos = len(tail)
  for _ in range(8):  # the last page starts at one of the last few capture patterns
    pos = tail.rfind(b"OggS", 0, pos)
    if pos < 0 or pos + 27 > len(tail):
      return True
    n_seg = tail[pos + 26]
    seg = tail[pos + 27:pos + 27 + n_seg]
    if len(seg) == n_seg and pos + 27 + n_seg + sum(seg) == len(tail):
      return not tail[pos + 5] & 0x04
  return True


def _name(path: Any) -> str:
  if isinstance(path, (str, os.PathLike)):
    return os.fspath(path)
  return str(getattr(path, "name", repr(path)))


def load(
    path: Any,
    *,
    sr: float | None = None,
    mono: bool = True,
    offset: float = 0.0,
    duration: float | None = None,
    dtype: Any = np.float32,
) -> tuple[jax.Array, float]:
  """Loads an audio file as a floating-point ``jax.Array``, optionally resampled.

  Reads with ``soundfile`` (every format libsndfile reads: WAV PCM 16/24/32-bit and float, FLAC,
  OGG Vorbis, AIFF, ...). Integer PCM is scaled to [-1, 1). Only the requested excerpt is read:
  ``offset`` and ``duration`` become the frame range ``[round(offset·sr), round(offset·sr) +
  round(duration·sr))`` at the file's native rate, as in librosa. A ``duration`` past the end of
  the file returns what is there.

  Args:
    path: file path (``str`` or ``os.PathLike``; names that are not UTF-8, e.g.
      ``os.fsdecode(b"bad\\xffname.wav")``, work) or an open binary file object.
    sr: target sample rate; ``None`` keeps the file's native rate. Resampling uses ``resample``.
    mono: average the channels into one. ``False`` keeps them as a leading axis,
      ``(channels, n_samples)``; a one-channel file is ``(n_samples,)`` either way.
    offset: start time in seconds (≥ 0).
    duration: length in seconds (> 0) or ``None`` for the rest of the file.
    dtype: floating dtype of the result (``np.float32``; ``np.float64`` needs x64 enabled).

  Returns:
    ``(y, sr)``: ``y`` of shape ``(n_samples,)`` or ``(channels, n_samples)``, and the sample rate
    (the file's as an ``int`` when ``sr`` is ``None``, else ``sr``).

  Raises:
    AudioFileError: (an ``OSError``; its message names the file) the file is missing (also a
      ``FileNotFoundError``), not audio, empty (0 frames), truncated or corrupt, or holds NaN/inf
      samples.
    ValueError: bad ``sr``, ``offset``, ``duration``, ``dtype``, or an ``offset`` past the end.

  Examples:
    >>> import jaxdsp as jd
    >>> y, sr = jd.load(jd.example("music"), sr=16000, duration=1.0)
    >>> y.shape, sr
    ((16000,), 16000)

  Compare ``librosa.load`` (whose default resamples to 22050 Hz; here ``sr=None`` is the default).
  """
  if sr is not None:
    _checks.sample_rate(sr, "sr")
  if not isinstance(mono, (bool, np.bool_)):
    raise TypeError(f"mono must be a bool, got {mono!r}")
  offset = _checks.positive_number(offset, "offset", allow_zero=True)
  if duration is not None:
    duration = _checks.positive_number(duration, "duration")
  if not (isinstance(dtype, (type, np.dtype, str)) and np.issubdtype(np.dtype(dtype), np.floating)):
    raise ValueError(f"dtype must be a floating dtype (np.float32 or np.float64), got {dtype!r}")
  y, native_sr = read_host(path, mono=mono, offset=offset, duration=duration, dtype=dtype)
  y = jnp.asarray(y, dtype=dtype)
  if sr is None or sr == native_sr:
    return y, (int(native_sr) if sr is None else sr)
  return resample_grid(y, orig_sr=float(native_sr), target_sr=float(sr)), sr


def read_host(path: Any, *, mono: bool, offset: float, duration: float | None, dtype: Any,
          pcm16_raw: bool = False) -> tuple[np.ndarray, int]:
  """The decoding and checks of :func:`load` on the host, at the file's rate: ``(y, native_sr)``
  with ``y`` a C-contiguous NumPy array (``jaxdsp.batch`` uses it without a device round trip).
  With ``pcm16_raw``, a one-channel 16-bit PCM file comes back as its int16 samples (``y / 32768``
  is the float signal, exactly), which ``jaxdsp.batch`` scales straight into its batch rows."""
  read_dtype = "float64" if np.dtype(dtype) == np.float64 else "float32"
  name = _name(path)

  if isinstance(path, (str, os.PathLike)):
    try:
      st = os.stat(path)  # one call: each also hands the GIL over (jaxdsp.batch decodes in threads)
    except (FileNotFoundError, NotADirectoryError):
      raise _AudioFileNotFoundError(f"audio file not found: {name!r}", name) from None
    except OSError:
      st = None  # unreadable: soundfile says why below
    if st is not None and stat.S_ISREG(st.st_mode) and st.st_size == 0:
      raise AudioFileError(f"audio file {name!r} is empty (0 bytes)", name)
  try:
    # Bytes for a path: libsndfile takes the file system's bytes, so names that are not UTF-8
    # (os.fsdecode(b"bad\xffname.wav") holds a lone surrogate) open as they are.
    with sf.SoundFile(os.fsencode(path) if isinstance(path, (str, os.PathLike)) else path) as f:
      native_sr, n_total, fmt = f.samplerate, f.frames, f.format
      if n_total <= 0:
        raise AudioFileError(
            f"audio file {name!r} holds no audio frames (empty or header only)", name)
      is_path = isinstance(path, (str, os.PathLike))
      if _declared_beyond_end(f.extra_info) or (
          fmt == "OGG" and is_path and _ogg_truncated(os.fspath(path))):
        raise AudioFileError(f"audio file {name!r} is truncated (its header promises more data "
                             "than the file holds)", name)
      start = int(np.round(native_sr * offset))
      want = n_total - start
      if duration is not None:
        want = min(want, max(1, int(np.round(native_sr * duration))))
      data = None
      pcm16 = f.subtype == "PCM_16"
      if start < n_total:
        if start:
          f.seek(start)
        if pcm16:
          # libsndfile converts 16-bit PCM to float as x / 32768; reading the integers and scaling
          # them here gives the same values (a power-of-two scale is exact) for a third of the CPU.
          data = f.read(frames=want, dtype="int16", always_2d=True)
          if not (pcm16_raw and data.shape[1] == 1):
            data = data.astype(read_dtype)
            data *= np.asarray(1.0 / 32768, read_dtype)
        else:
          data = f.read(frames=want, dtype=read_dtype, always_2d=True)
  except AudioFileError:
    raise
  except (sf.SoundFileError, RuntimeError, OSError, EOFError, ValueError) as e:
    raise AudioFileError(f"could not read audio file {name!r}: {e}", name) from e
  if data is None:
    raise ValueError(f"offset must lie inside the file ({n_total / native_sr:.3f} s long), got "
                     f"offset={offset} for {name!r}")
  if data.shape[0] != want:
    raise AudioFileError(f"audio file {name!r} is truncated or corrupt: read {data.shape[0]} of "
                         f"{want} frames", name)
  if not pcm16 and not np.all(np.isfinite(data)):
    raise AudioFileError(f"audio file {name!r} holds non-finite samples (NaN or inf)", name)

  y = data.T  # (channels, n)
  if mono or y.shape[0] == 1:
    y = y[0] if y.shape[0] == 1 else np.mean(y, axis=0, dtype=y.dtype)
  return np.ascontiguousarray(y), int(native_sr)


def resample_grid(y: jax.Array, *, orig_sr: float, target_sr: float) -> jax.Array:
  """``resample`` for ``load``: zero-pads the length up to a coarse grid so that files of many
  lengths share a few compiled shapes (trailing zeros do not change the kept outputs)."""
  n = y.shape[-1]
  # At most 1/8 extra length and 8-16 shapes per octave of lengths.
  grid = max(4096, 1 << max(0, n.bit_length() - 4))
  n_pad = -(-n // grid) * grid
  ratio = fractions.Fraction(target_sr) / fractions.Fraction(orig_sr)
  n_out = -(-n * ratio.numerator // ratio.denominator)
  y = jnp.pad(y, [(0, 0)] * (y.ndim - 1) + [(0, n_pad - n)])
  return resample(y, orig_sr=orig_sr, target_sr=target_sr)[..., :n_out]


# ---------------------------------------------------------------------------------------------
# Saving.


def save(path: Any, y: ArrayLike, sr: int, *, subtype: str | None = None, format: str | None = None
         ) -> None:
  """Writes audio with ``soundfile``.

  Args:
    path: output path (``str`` / ``os.PathLike``; the extension picks the format unless ``format``
      is given) or an open binary file object (then ``format`` is required).
    y: samples in [-1, 1], ``(n_samples,)`` mono or ``(channels, n_samples)`` (channels first, as
      ``load(..., mono=False)`` returns them). Integer-PCM subtypes clip values outside [-1, 1].
    sr: sample rate, a positive int (file headers store an integer rate).
    subtype: libsndfile subtype such as ``"PCM_16"``, ``"PCM_24"``, ``"PCM_32"``, ``"FLOAT"``,
      ``"VORBIS"``; ``None`` uses soundfile's default for the format (WAV → ``"PCM_16"``).
    format: libsndfile container such as ``"WAV"``, ``"FLAC"``, ``"OGG"``; ``None`` infers it from
      the extension.

  Raises:
    ValueError: ``y`` empty, of rank > 2 or with NaN/inf samples; ``sr`` not a positive integer;
      unknown ``subtype``/``format`` for the file.
    TypeError: ``y`` not floating point.
    AudioFileError: the file cannot be written (message names the file).

  Examples:
    >>> import jaxdsp as jd, jax.numpy as jnp, os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "tone.wav")
    >>> jd.save(p, 0.5 * jnp.sin(jnp.arange(8000) * 0.1), 8000, subtype="FLOAT")
    >>> jd.load(p)[0].shape
    (8000,)

  Compare ``soundfile.write`` (which takes ``(n_samples, channels)``).
  """
  y = _checks.as_signal(y, "y")
  if y.ndim > 2:
    raise ValueError(f"y must be (n_samples,) or (channels, n_samples), got shape {y.shape}")
  if isinstance(sr, bool) or not isinstance(sr, (int, float, np.integer, np.floating)) or (
      not math.isfinite(sr) or sr <= 0 or int(sr) != sr):
    raise ValueError(f"sr must be a positive integer sample rate, got {sr!r}")
  data = np.asarray(y)
  if not np.all(np.isfinite(data)):
    raise ValueError("y contains non-finite values (NaN or inf)")
  data = data.T if data.ndim == 2 else data
  name = _name(path)
  if subtype is not None:
    fmt = format or (os.path.splitext(name)[1][1:] or "")
    if not sf.check_format(fmt.upper() or "WAV", subtype):
      allowed = tuple(sf.available_subtypes(fmt.upper() or "WAV"))
      raise ValueError(
          f"subtype must be one of {allowed} for format {fmt or 'WAV'!r}, got {subtype!r}")
  try:
    sf.write(os.fsencode(path) if isinstance(path, (str, os.PathLike)) else path, data, int(sr), subtype=subtype,
             format=format)
  except TypeError as e:  # soundfile: unknown format for an extension-less or odd name
    raise ValueError(f"format could not be determined for {name!r} ({e}); pass format=") from e
  except (sf.SoundFileError, RuntimeError, OSError) as e:
    raise AudioFileError(f"could not write audio file {name!r}: {e}", name) from e


# ---------------------------------------------------------------------------------------------
# Resampling.

def _ratio(orig_sr: float, target_sr: float) -> tuple[int, int]:
  r = fractions.Fraction(target_sr) / fractions.Fraction(orig_sr)
  return r.numerator, r.denominator


@functools.partial(jax.jit, static_argnames=("L", "M"))
def _resample_core(y: jax.Array, *, L: int, M: int) -> jax.Array:
  table, K, gL, gM = _core.resample_table(L, M)
  n_blocks = table.shape[0]
  batch, n = y.shape[:-1], y.shape[-1]
  n_out = -(-n * L // M)
  q = -(-n_out // gL)  # conv steps
  length = (q - 1 + n_blocks) * gM
  x = y.reshape(-1, n)
  x = jnp.pad(x, ((0, 0), (K, length - n - K)))
  x = x.reshape(x.shape[0], q - 1 + n_blocks, gM)  # (N, W, C)
  out = lax.conv_general_dilated(
      x, jnp.asarray(table, dtype=y.dtype), window_strides=(1,), padding="VALID",
      dimension_numbers=("NWC", "WIO", "NWC"), precision=lax.Precision.HIGHEST)  # (N, q, gL)
  return out.reshape(*batch, q * gL)[..., :n_out]


def resample(y: ArrayLike, *, orig_sr: float, target_sr: float, fix: bool = True, scale: bool = False,
             axis: int = -1) -> jax.Array:
  r"""Resamples along the last axis with a band-limited Kaiser-windowed-sinc polyphase filter.

  With ``L/M = target_sr/orig_sr`` in lowest terms, output sample ``j`` sits at input time
  ``t_j = j·M/L`` (sample 0 stays at time 0, as in soxr and librosa) and is

    ``y_out[j] = Σ_i y[i]·f_c·sinc(f_c·(t_j - i))·I0(β·√(1 - ((t_j - i)/T)²))/I0(β)``

  with the signal taken as zero outside ``[0, n)``. The filter follows soxr's "HQ" specification:
  pass band to 0.9136 and stop band from 1.0 of the lower of the two Nyquist frequencies, hence
  the cutoff ``f_c = 0.9568·min(1, L/M)`` (in units of the input Nyquist), Kaiser ``β = 13.59``
  for 132 dB stop-band attenuation, and 200 taps at the lower rate (``T = 100·max(1, M/L)`` input
  samples). The ``L`` phase filters are tabulated in NumPy from the (static) rates and applied by
  one ``lax.conv_general_dilated`` over blocks of the input, so it is linear, ``jit``/``vmap``/
  ``grad``-able, and runs on any device in the input's float dtype.

  Measured agreement with ``soxr.resample(..., quality="HQ")`` (SNR of the spectrum below 0.8 ×
  the target Nyquist, float32, speech / music from ``tests/data``): 44.1k→22.05k 132 / 131 dB,
  48k→22.05k 106 / 118 dB, 22.05k→16k 93 / 100 dB, 16k→22.05k 83 / 94 dB, 8k→16k 108 / 97 dB
  (scipy's ``resample_poly``: 44–64 dB). For upsampling that band reaches past the old Nyquist
  into both filters' transition bands; below 0.8 × the lower Nyquist they agree to ≥ 109 dB.

  Args:
    y: signal, ``(..., n_samples)``, any leading batch axes (or time on ``axis``), floating point.
    orig_sr: input sample rate (a Python number, static under ``jit``).
    target_sr: output sample rate (a Python number). ``orig_sr/target_sr`` must reduce to a ratio
      of moderate integers (e.g. 44100/48000 = 147/160); the phase table holds ``L·(M + 200·
      max(1, M/L))`` coefficients and is refused above 2²⁴.
    fix: ``True`` (librosa's default): exactly ``ceil(n_samples · target_sr / orig_sr)`` samples,
      the resampler's own ``round(n_samples · target_sr / orig_sr)`` (halves up, soxr's) followed
      by a zero where the two differ (librosa's ``fix_length``); ``False``: the resampler's own
      length, as ``librosa.resample(..., fix=False)``.
    scale: divide by ``sqrt(target_sr / orig_sr)`` so that the energy is about the same
      (librosa's ``scale=True``).
    axis: the time axis (librosa's ``axis``; default the last).

  Returns:
    ``(..., n_out)`` with ``n_out`` as ``fix`` says, time on ``axis``; ``y`` itself (as a
    ``jax.Array``) when ``orig_sr == target_sr``.

  Raises:
    ValueError: empty ``y``, NaN samples in a host array, non-positive or non-finite rates, or a
      ratio too fine to tabulate.
    TypeError: integer ``y``; rates that are not Python numbers (e.g. traced values).

  Examples:
    >>> import jax.numpy as jnp, jaxdsp as jd
    >>> jd.resample(jnp.ones(44100), orig_sr=44100, target_sr=22050).shape
    (22050,)

  Compare ``librosa.resample(y, orig_sr=..., target_sr=..., res_type="soxr_hq")`` and
  ``soxr.resample``.

  References:
    J. F. Kaiser, "Nonrecursive digital filter design using the I0-sinh window function", 1974.
    J. O. Smith, "Digital Audio Resampling Home Page", https://ccrma.stanford.edu/~jos/resample/.
  """
  y = _checks.as_signal(y, "y")
  orig_sr = _checks.sample_rate(orig_sr, "orig_sr")
  target_sr = _checks.sample_rate(target_sr, "target_sr")
  if not isinstance(fix, (bool, np.bool_)):
    raise TypeError(f"fix must be a bool, got {fix!r}")
  if not isinstance(scale, (bool, np.bool_)):
    raise TypeError(f"scale must be a bool, got {scale!r}")
  if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or not -y.ndim <= axis < y.ndim:
    raise ValueError(f"axis must be an int in [-{y.ndim}, {y.ndim}) for y of shape {y.shape}, got {axis!r}")
  if orig_sr == target_sr:
    return y
  if axis % y.ndim != y.ndim - 1:
    y = jnp.moveaxis(y, axis, -1)
    return jnp.moveaxis(resample(y, orig_sr=orig_sr, target_sr=target_sr, fix=fix, scale=scale), -1, axis)
  if y.shape[-1] == 0 or y.shape[-1] > _checks.INT32_MAX:
    raise ValueError(f"y must hold 1 to 2**31 - 1 samples along axis {axis}, got shape {y.shape}")
  L, M = _ratio(orig_sr, target_sr)
  if _core.resample_table_too_large(L, M):
    raise ValueError(
        f"target_sr/orig_sr must reduce to a ratio of moderate integers, got {target_sr:g}/"
        f"{orig_sr:g} = {L}/{M} (a {L}-phase filter table is too large; round the rates)")
  out = _resample_core(y, L=L, M=M)
  n_own = (2 * y.shape[-1] * L + M) // (2 * M)  # the resampler's own length, round(n·L/M) (soxr's)
  out = out[..., :n_own]
  if fix and out.shape[-1] < -(-y.shape[-1] * L // M):  # librosa's fix_length: zeros up to ceil(n·L/M)
    out = jnp.pad(out, [(0, 0)] * (out.ndim - 1) + [(0, 1)])
  if scale:
    out = out / jnp.sqrt(jnp.asarray(L / M, out.dtype))
  return out
