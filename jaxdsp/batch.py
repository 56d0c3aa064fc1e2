"""Feature extraction over many files and every local device: ``extract`` and ``load_features``.

``extract(inputs, features, out=...)`` decodes the files in background threads (``jaxdsp.load``,
resampled to ``sr``), groups them into batches of similar length, computes each batch in one
jitted :func:`jaxdsp.features` pass sharded over the local devices (``jax.sharding``: a 1-D
``Mesh`` named ``"data"``, ``NamedSharding(mesh, P("data"))``), and writes the results as they come.

Padding never reaches a feature. Each file is centre-padded on its own, on the host, exactly as
``features`` would pad it alone (``pad_mode``; for the zero-crossing rate the device replaces that
padding with ``"edge"`` padding, as librosa pads), then zero-filled to the batch length, and the
batch is framed with ``center=False``. So the first ``num_frames(length, frame_length=n_fft,
hop_length=..., center=..., pad_mode=...)`` frames of every row see exactly the samples they would
see for the file alone, and only those frames are kept. Features that normalise over a whole
example (``spectrogram_db`` and ``mfcc`` with ``top_db``) take their peak over the kept frames only
(a lengths mask). Every kept value equals ``jaxdsp.features`` on the file alone, up to float32
round-off.

Output format (``out`` is a directory)::

    out/manifest.json        one per process; "manifest-<process_index>.json" when several JAX
                             processes run (jax.distributed); rewritten atomically as shards are
                             written (at most every max(1 s, 20 × its write time)) and at the end
    out/shard-p<P>-<R>-<K>/  one directory per run of consecutive batches of one length cell (up
                             to 256 files, 256 MiB or 2 s of work), or per file too long for a
                             batch, written (and renamed into place) before the manifest mentions
                             it, holding one ``<name>.npy`` per feature and ``__paths__.npy``;
                             ``<R>``: 8 hex digits drawn per run, so runs never share a name
    out/.lock                the advisory lock of the running ``extract`` (".lock-<process_index>"
                             with several processes): ``flock`` on POSIX, ``msvcrt.locking`` on
                             Windows, elsewhere the file ``.lock-excl`` created exclusively, holding
                             ``pid@host`` (taken over once that pid no longer runs)

``manifest.json``::

    {"format": "jaxdsp.batch/2",
     "config": {"features": [...], "sr": 22050, "n_fft": 2048, "hop_length": 512, "center": true,
                "pad_mode": "constant", ...every option passed to ``features``...},
     "files": {"/abs/path/a.wav": {"status": "ok", "shard": "shard-p000-000003", "index": 5,
                                   "length": 88200, "n_frames": 173, "duration": 4.0,
                                   "orig_sr": 44100, "size": 352844, "mtime_ns": ...},
               "/abs/path/bad.wav": {"status": "failed", "error": "AudioFileError: ...",
                                     "size": 0, "mtime_ns": ...}}}

In a shard, ``<name>.npy`` holds its files' features, ``(files, ..., frames)``: the features of
the file at ``index`` i are ``array[i, ..., :n_frames]``, with the shapes of :func:`jaxdsp.features`
for one signal (``(n_frames,)``, ``(n_freq, n_frames)``, ...); the frames past a file's own
``n_frames`` (up to the length of its cell, see ``_plan_frames``) are padding. ``__paths__.npy``
lists the shard's files in index order. The arrays are plain ``.npy`` files (an npz, a zip, spends
most of its time on checksums), streamed batch by batch; their data starts at byte 4096, so
``np.load(..., mmap_mode="r")`` maps them page-aligned. Large ones are written with ``O_DIRECT``
where the system allows it, past the page cache (``jaxdsp._npy_stream``). ``length`` counts
samples at ``sr``; ``duration = length / sr``. Directories written with format ``jaxdsp.batch/1``
(one ``.npz`` per shard, keys ``"<i>/<name>"``) are still read.

Resuming: a second ``extract`` into the same ``out`` with the same settings skips every file the
manifests already list as done (``"ok"``, or ``"failed"`` unless ``retry_failed=True``) whose size
and modification time are unchanged and whose row checks out (its shard exists and its
``__paths__`` lists the file at its index, with the frames recorded), and computes the rest. A run
stopped by an exception or Ctrl-C closes its open shard and writes its manifest on the way out, so
only a hard kill loses anything: its open shard (at most 2 s of work) and the shards closed since
the manifest was last written, whose files are simply computed again; the next run, holding the
lock, removes the shards no manifest mentions. Two runs never write one directory at once: the
second fails with :class:`OutputInUseError` naming it, or waits (``wait=True``).

Several hosts: after ``jax.distributed.initialize()``, each process takes every
``process_count()``-th file of the sorted file list, starting at its ``process_index()``, computes
it on its own local devices and writes its own manifest; ``load_features`` merges them.

One long signal already in memory: ``feature_pieces(y, features, sr=...)`` gives its features in
pieces of whole frames within a memory budget, computed as ``extract`` computes a file too long
for its budget (``jaxdsp analyze`` reduces them piece by piece for its figure).
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import fractions
import functools
import glob
import json
import math
import os
import re
import secrets
import shutil
import signal
import tempfile
import threading
import time
import types
import warnings
from typing import Any, Iterable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import soundfile as sf
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from jaxdsp import _checks
from jaxdsp import _core
from jaxdsp import _npy_stream
from jaxdsp import framing
from jaxdsp import fused
from jaxdsp import io

FORMAT = "jaxdsp.batch/2"
_READABLE_FORMATS = ("jaxdsp.batch/1", FORMAT)  # /1: one npz per shard
AUDIO_EXTENSIONS = (".aif", ".aifc", ".aiff", ".au", ".caf", ".flac", ".mp3", ".oga", ".ogg", ".opus",
                    ".rf64", ".snd", ".w64", ".wav")
# Options passed through to ``jaxdsp.features`` (besides sr, n_fft, hop_length, center, pad_mode).
# ``jaxdsp.features`` the module (the package attribute of that name is the function).
# Options of extract beyond the framing: the STFT window and the registry's shared feature options.
_FEATURE_OPTIONS = ("win_length", "window") + tuple(o for o in _core.SHARED_OPTIONS if o != "sr")
# Shard names: ``shard-p<process>-<run id>-<seq>`` (format /2, a run id per run) or the older
# ``shard-p<process>-<seq>`` (with ``.npz``: format /1). Manifests may name nothing else.
_SHARD_RE = re.compile(r"^shard-p(\d+)-(?:([0-9a-f]{8})-)?(\d+)(\.npz)?$")
DEFAULT_MEMORY_BUDGET = 1 << 30  # bytes per batch (extract's ``memory_budget``)


class OutputInUseError(OSError):
  """Another :func:`extract` run holds the lock of the output directory (see ``wait``)."""


@dataclasses.dataclass
class ExtractResult:
  """Summary of an :func:`extract` run (this process's share of the files).

  Attributes:
    out: the output directory.
    n_ok: files whose features are in ``out`` (computed now or by an earlier run).
    n_failed: files recorded as failed.
    n_computed: files decoded and computed by this run (successes and new failures).
    failures: path -> error message, for every failed file.
    seconds: wall-clock time of this run.
    audio_seconds: seconds of audio computed by this run.
  """

  out: str
  n_ok: int
  n_failed: int
  n_computed: int
  failures: dict[str, str]
  seconds: float
  audio_seconds: float


# ---------------------------------------------------------------------------------------------
# Inputs and manifests.


def list_files(inputs: Any) -> list[str]:
  """Expands ``inputs`` into a sorted list of absolute file paths without duplicates.

  Args:
    inputs: a directory (searched recursively for audio extensions, see ``AUDIO_EXTENSIONS``), a
      glob pattern (``"data/**/*.wav"``, recursive), a single file, or a sequence of these.

  Returns:
    Sorted absolute paths.

  Raises:
    FileNotFoundError: an input that is neither an existing path nor a glob pattern, a pattern
      that matches nothing, or no audio file at all.
  """
  if isinstance(inputs, (str, os.PathLike)):
    inputs = [inputs]
  paths = set()
  for item in inputs:
    item = os.fspath(item)
    if os.path.isdir(item):
      for root, _, names in os.walk(item):
        paths.update(os.path.join(root, n) for n in names if n.lower().endswith(AUDIO_EXTENSIONS))
    elif os.path.exists(item):
      paths.add(item)
    elif glob.has_magic(item):
      matches = [m for m in glob.glob(item, recursive=True) if os.path.isfile(m)]
      if not matches:
        raise FileNotFoundError(f"inputs: the pattern {item!r} matches no file")
      paths.update(matches)
    else:
      raise FileNotFoundError(f"inputs: no such file or directory: {item!r}")
  if not paths:
    raise FileNotFoundError(f"inputs: no audio files ({', '.join(AUDIO_EXTENSIONS)}) in {inputs!r}")
  return sorted({os.path.abspath(p) for p in paths})


def _manifest_name(process_index: int, process_count: int) -> str:
  return "manifest.json" if process_count == 1 else f"manifest-{process_index}.json"


def _manifest_paths(out: str) -> list[str]:
  if not os.path.isdir(out):
    return []
  names = sorted(n for n in os.listdir(out) if re.fullmatch(r"manifest(-\d+)?\.json", n))
  return [os.path.join(out, n) for n in names]


def _read_manifest(path: str) -> dict[str, Any]:
  """One manifest file, checked: a ValueError naming the file when it is not one."""
  try:
    with open(path, encoding="utf-8") as f:
      m = json.load(f)
  except (json.JSONDecodeError, UnicodeDecodeError) as e:
    raise ValueError(f"{path} is not a valid jaxdsp.batch manifest (malformed JSON: {e}); remove it, "
                     f"or the whole output directory, to recompute") from e
  if not isinstance(m, dict) or m.get("format") not in _READABLE_FORMATS:
    fmt = m.get("format") if isinstance(m, dict) else None
    raise ValueError(f"{path} is not a {FORMAT} manifest (format {fmt!r})")
  if not isinstance(m.get("files"), dict) or not all(isinstance(r, dict) and "status" in r
                                                     for r in m["files"].values()):
    raise ValueError(f"{path} is not a valid {FORMAT} manifest (its \"files\" are not records)")
  return m


def load_manifest(out: str | os.PathLike) -> dict[str, Any]:
  """Reads the manifest(s) of an :func:`extract` output directory, merged into one.

  Args:
    out: the output directory of :func:`extract`.

  Returns:
    ``{"format": ..., "config": {...}, "files": {path: record}}`` (see the module docstring); an
    empty ``files`` dict when ``out`` holds no manifest.

  Raises:
    ValueError: a manifest that is not valid JSON or not a jaxdsp.batch manifest (the message
      names the file).

  Examples:
    >>> import tempfile
    >>> from jaxdsp import batch
    >>> batch.load_manifest(tempfile.mkdtemp())["files"]
    {}
  """
  merged: dict[str, Any] = {"format": FORMAT, "config": None, "files": {}}
  for path in _manifest_paths(os.fspath(out)):
    m = _read_manifest(path)
    merged["config"] = merged["config"] or m.get("config")
    for name, rec in m["files"].items():
      if name not in merged["files"] or rec["status"] == "ok":
        merged["files"][name] = rec
  return merged


def _atomic_write(path: str, data: bytes) -> None:
  """Writes ``data`` to a new temporary file created exclusively next to ``path`` (``mkstemp``:
  ``O_EXCL``, never following a planted link), then renames it over ``path``."""
  directory, base = os.path.split(path)
  fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{base}.", suffix=".tmp")
  try:
    with os.fdopen(fd, "wb") as f:
      os.fchmod(f.fileno(), 0o644)
      f.write(data)
    os.replace(tmp, path)
  except BaseException:
    try:
      os.unlink(tmp)
    except OSError:
      pass
    raise


def _write_manifest(path: str, manifest: dict[str, Any]) -> None:
  _atomic_write(path, json.dumps(manifest, indent=1, sort_keys=True).encode("utf-8"))


def _valid_shard(shard: Any) -> bool:
  """Whether a manifest's ``shard`` is a plain shard name inside the output directory (never an
  absolute path, a ``..`` or a separator)."""
  return isinstance(shard, str) and _SHARD_RE.fullmatch(shard) is not None


def _lock_path(out: str, process_index: int, process_count: int) -> str:
  return os.path.join(out, ".lock" if process_count == 1 else f".lock-{process_index}")


# Which lock _DirLock takes: None picks the best the system has ("flock" on POSIX, "msvcrt" on
# Windows, else "excl"); tests set "excl" to exercise the portable fallback.
LOCK_KIND: str | None = None


def _lock_kind() -> str:
  if LOCK_KIND is not None:
    return LOCK_KIND
  try:
    import fcntl  # pylint: disable=import-outside-toplevel,unused-import  # POSIX
    return "flock"
  except ImportError:  # pragma: no cover - Windows
    pass
  try:  # pragma: no cover - Windows
    import msvcrt  # pylint: disable=import-outside-toplevel,unused-import
    return "msvcrt"
  except ImportError:  # pragma: no cover
    return "excl"


def _pid_alive(pid: int) -> bool:
  """Whether process ``pid`` runs on this machine (a pid we may not signal counts as running)."""
  if pid <= 0:
    return False
  if os.name == "nt":  # pragma: no cover - Windows: os.kill(pid, 0) would terminate the process
    import ctypes  # pylint: disable=import-outside-toplevel
    handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
      return False
    code = ctypes.c_ulong()
    ctypes.windll.kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
    ctypes.windll.kernel32.CloseHandle(handle)
    return code.value == 259  # STILL_ACTIVE
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return False
  except PermissionError:
    return True
  return True


class _DirLock:
  """An advisory lock on a lock file in the output directory, held for a whole run: a second run
  on the same directory (and process index) fails at once with :class:`OutputInUseError`, or
  waits for the first to finish (``wait``). The lock file keeps the holder's pid for the message.

  Three kinds (``_lock_kind``): ``fcntl.flock`` on POSIX; ``msvcrt.locking`` on Windows (both
  released by the system when the holder dies); elsewhere an exclusively created lock file
  (``O_CREAT | O_EXCL``, ``<path>-excl``) holding ``pid@host``, removed on release, and taken over
  when its pid no longer runs on this host (a stale lock of a killed run).
  """

  POLL_SECONDS = 0.2

  def __init__(self, path: str, out: str, wait: bool):
    self.fd, self.excl_path, self.out = None, None, out
    kind = _lock_kind()
    if kind == "excl":
      self._excl(path + "-excl", wait)
      return
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, 0o644)
    try:
      if kind == "flock":
        import fcntl  # pylint: disable=import-outside-toplevel  # POSIX only
        try:
          fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
          if not wait:
            self._in_use(os.pread(fd, 64, 0).decode("ascii", "replace"))
          fcntl.flock(fd, fcntl.LOCK_EX)
      else:  # pragma: no cover - Windows
        import msvcrt  # pylint: disable=import-outside-toplevel
        os.lseek(fd, 1 << 20, os.SEEK_SET)  # lock a byte past the pid, which stays readable
        while True:
          try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            break
          except OSError:
            if not wait:
              os.lseek(fd, 0, os.SEEK_SET)
              self._in_use(os.read(fd, 64).decode("ascii", "replace"))
            time.sleep(self.POLL_SECONDS)
      os.ftruncate(fd, 0)
      os.lseek(fd, 0, os.SEEK_SET)
      os.write(fd, f"{os.getpid()}\n".encode("ascii"))
    except BaseException:
      os.close(fd)
      raise
    self.fd = fd

  def _in_use(self, holder: str) -> None:
    pid = holder.strip().split("@")[0]
    holder = f" (pid {holder.strip()})" if pid.isdigit() else ""
    raise OutputInUseError(f"out: {self.out!r} is in use by another jaxdsp extract run{holder}; wait for it to "
                           f"finish, or pass wait=True (jaxdsp extract --wait)") from None

  def _excl(self, path: str, wait: bool) -> None:
    import socket  # pylint: disable=import-outside-toplevel
    me = f"{os.getpid()}@{socket.gethostname()}"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    while True:
      try:
        fd = os.open(path, flags, 0o644)
      except FileExistsError:
        try:
          with open(path, encoding="ascii", errors="replace") as f:
            holder = f.read(128).strip()
        except FileNotFoundError:
          continue  # released meanwhile
        pid, _, host = holder.partition("@")
        # A lock file whose pid is dead on this host is stale (a killed run): removed and taken.
        # An empty one may be a run between creating and writing it: stale only when old.
        stale = (pid.isdigit() and host == socket.gethostname() and not _pid_alive(int(pid))) or (
            not holder and time.time() - _mtime(path) > 10.0)
        if stale:
          try:
            os.unlink(path)
          except FileNotFoundError:
            pass
          continue
        if not wait:
          self._in_use(holder)
        time.sleep(self.POLL_SECONDS)
        continue
      try:
        os.write(fd, f"{me}\n".encode("ascii"))
      finally:
        os.close(fd)
      self.excl_path = path
      return

  def release(self) -> None:
    if self.fd is not None:
      os.close(self.fd)  # closing the last descriptor releases the flock / msvcrt lock
      self.fd = None
    if self.excl_path is not None:
      try:
        os.unlink(self.excl_path)
      except FileNotFoundError:
        pass
      self.excl_path = None


def _mtime(path: str) -> float:
  try:
    return os.stat(path).st_mtime
  except OSError:
    return time.time()


def _remove_orphans(out: str, process_index: int, manifest_name: str) -> None:
  """Removes this process's shards (and temporary shards and manifest files) that no manifest
  mentions: the leftovers of killed runs. Only called under the directory lock, so no live run
  owns them."""
  referenced = set()
  for path in _manifest_paths(out):
    try:
      referenced.update(r.get("shard") for r in _read_manifest(path)["files"].values())
    except (OSError, ValueError):
      return  # an unreadable manifest: keep everything, it may name any shard
  prefix = f"shard-p{process_index:03d}-"
  for name in os.listdir(out):
    full = os.path.join(out, name)
    if name.startswith(prefix) and name not in referenced:
      if os.path.isdir(full) and not os.path.islink(full):
        shutil.rmtree(full, ignore_errors=True)
      else:
        try:
          os.unlink(full)
        except OSError:
          pass
    elif name.startswith(f".{manifest_name}.") and name.endswith(".tmp"):
      try:
        os.unlink(full)
      except OSError:
        pass


def _verify(out: str, records: dict[str, Any], names: Sequence[str]) -> set[str]:
  """The paths among ``records`` (``"ok"`` ones) whose row cannot be trusted: a shard name that is
  not a plain shard, a missing or unreadable shard, an index outside it, a row that lists another
  path, or an array without the frames the record claims. Reads only headers and ``__paths__``."""
  by_shard: dict[Any, list[str]] = {}
  for p, rec in records.items():
    if rec.get("status") == "ok":
      by_shard.setdefault(rec.get("shard"), []).append(p)
  bad = set()
  for shard, paths in by_shard.items():
    if not _valid_shard(shard):
      bad.update(paths)
      continue
    full = os.path.join(out, shard)
    try:
      if shard.endswith(".npz"):
        with np.load(full) as z:
          keys = set(z.files)
        for p in paths:
          i = records[p].get("index")
          if not all(f"{i}/{n}" in keys for n in names):
            bad.add(p)
        continue
      listed = np.load(os.path.join(full, "__paths__.npy"), allow_pickle=False)
      shapes = [np.load(os.path.join(full, f"{n}.npy"), mmap_mode="r").shape for n in names]
    except (OSError, ValueError, EOFError):
      bad.update(paths)
      continue
    for p in paths:
      i, t = records[p].get("index"), records[p].get("n_frames")
      if not (isinstance(i, int) and isinstance(t, int) and 0 <= i < len(listed) and str(listed[i]) == p
              and all(len(s) >= 2 and s[0] > i and s[-1] >= t for s in shapes)):
        bad.add(p)
  return bad


def _stat(path: str) -> tuple[int, int]:
  try:
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns
  except OSError:
    return -1, -1


# ---------------------------------------------------------------------------------------------
# Decoding and the batched computation.


def _bucket(n_frames: int) -> int:
  """Rounds a frame count up to a grid with 8-16 sizes per octave (at most 1/8 padding): the cell
  of a batch. Batches of one cell share one compiled shape."""
  grid = max(4, 1 << max(0, n_frames.bit_length() - 4))
  return -(-n_frames // grid) * grid


def _plan_frames(frames: Iterable[int]) -> dict[int, int]:
  """Frames computed for each cell: the largest frame count among the batches that fall in it
  (``frames``: each batch's, from the file headers), so a corpus of equal lengths pads nothing."""
  plan: dict[int, int] = {}
  for f in frames:
    if f > 0:
      cell = _bucket(f)
      plan[cell] = max(plan.get(cell, 0), f)
  return plan


def _probe_frames(length: int, *, n_fft: int, hop_length: int, center: bool, pad_mode: str) -> int:
  """Frames of a file of ``length`` samples (0 when it has none)."""
  try:
    return framing.num_frames(length, frame_length=n_fft, hop_length=hop_length, center=center, pad_mode=pad_mode)
  except ValueError:
    return 0


def _probe(path: str, sr: float) -> int:
  """Length in samples at ``sr`` from the file header (0 when the header cannot be read)."""
  try:
    info = sf.info(path)
    n = int(info.frames)
    if info.samplerate != sr:
      ratio = fractions.Fraction(sr) / fractions.Fraction(info.samplerate)
      n = -(-n * ratio.numerator // ratio.denominator)
    return max(n, 0)
  except Exception:  # noqa: BLE001 - the decoder reports the real error
    return 0


@dataclasses.dataclass
class _Decoded:
  path: str
  y: np.ndarray | None = None  # (length,) at sr: float32, or int16 PCM to be scaled by 1 / 32768
  left: int = 0  # centre padding of the file alone (jaxdsp._core.pad_widths)
  right: int = 0
  n_frames: int = 0
  orig_sr: int = 0
  error: str | None = None
  stat: tuple[int, int] = (-1, -1)  # (size, mtime_ns) when decoded

  @property
  def length(self) -> int:
    return 0 if self.y is None else self.y.shape[-1]


def _decode(path: str, *, sr: float, n_fft: int, hop_length: int, center: bool, pad_mode: str) -> _Decoded:
  stat = _stat(path)
  try:
    y, orig_sr = io.read_host(path, mono=True, offset=0.0, duration=None, dtype=np.float32, pcm16_raw=True)
    if orig_sr != sr:
      y = np.asarray(io.resample_grid(jnp.asarray(_as_float(y)), orig_sr=float(orig_sr), target_sr=float(sr)))
    n = y.shape[-1]
    left, right = _core.pad_widths(n, n_fft, hop_length, center, pad_mode)
    if n + left + right < n_fft:
      raise ValueError(f"the file is shorter ({n} samples at sr={sr:g}) than n_fft={n_fft} with center=False")
    n_frames = framing.num_frames(n, frame_length=n_fft, hop_length=hop_length, center=center, pad_mode=pad_mode)
    return _Decoded(path, y, left, right, n_frames, int(orig_sr), stat=stat)
  except Exception as e:  # noqa: BLE001 - any per-file failure is recorded, the run goes on
    return _Decoded(path, error=f"{type(e).__name__}: {e}", stat=stat)


def _as_float(y: np.ndarray) -> np.ndarray:
  """A decoded signal as float32 (int16 PCM scaled by 1 / 32768, exactly as libsndfile does)."""
  return y * np.float32(1 / 32768) if y.dtype == np.int16 else y


def _fill(row: np.ndarray, d: _Decoded, mode: str) -> None:
  """Writes ``d.y`` padded as ``features`` pads it alone (``mode``) into the zeroed float32 ``row``
  (int16 PCM scaled on the way); samples past ``row``'s end (after the last frame) are not needed
  and dropped."""
  n, left, right, width = d.length, d.left, d.right, row.shape[-1]
  scale = np.float32(1 / 32768 if d.y.dtype == np.int16 else 1)
  if mode in ("constant", "edge"):
    m = min(n, max(0, width - left))
    np.multiply(d.y[:m], scale, out=row[left:left + m])
    if mode == "edge":
      row[:left] = d.y[0] * scale
      row[left + n:left + n + right] = d.y[-1] * scale
  else:
    padded = np.pad(d.y, (left, right), mode=mode)[:width]
    np.multiply(padded, scale, out=row[:padded.shape[-1]])


def _fill_piece(row: np.ndarray, d: _Decoded, head: np.ndarray, tail: np.ndarray, offset: int) -> None:
  """Writes samples ``[offset, offset + len(row))`` of the padded file (``head``, the signal,
  ``tail``: the centre padding of the file alone) into the zeroed float32 ``row`` (int16 PCM scaled
  on the way): one piece of a file too long for a batch."""
  scale = np.float32(1 / 32768 if d.y.dtype == np.int16 else 1)
  width = row.shape[-1]
  for start, seg in ((0, head), (d.left, d.y), (d.left + d.length, tail)):
    a, b = max(offset, start), min(offset + width, start + seg.shape[-1])
    if a < b:
      np.multiply(seg[a - start:b - start], scale, out=row[a - offset:b - offset])


def _edge_rows(x: jax.Array, lengths: jax.Array, left: int, offsets: jax.Array) -> jax.Array:
  """Rows holding a signal of ``lengths`` samples at ``left - offsets`` (a piece of a long file
  starts ``offsets`` samples into its padded signal), with their padding replaced by the first
  sample before and the last after (``"edge"`` padding, librosa's for the zero-crossing rate).
  """
  i = jnp.arange(x.shape[-1])
  start = (left - offsets)[:, None]
  end = start + lengths[:, None]
  first = jnp.take_along_axis(x, jnp.clip(start, 0, x.shape[-1] - 1), axis=-1)
  last = jnp.take_along_axis(x, jnp.clip(end - 1, 0, x.shape[-1] - 1), axis=-1)
  return jnp.where(i < start, first, jnp.where(i >= end, last, x))


def _compute(x, lengths, n_frames, offsets, *, requests, spec, window, zcr_left, raw=frozenset(), cq_left=0):
  """One batch: ``x`` (B, N) pre-padded rows (``center=False`` framing), ``lengths``, ``n_frames``
  and ``offsets`` (B,) (``offsets``: where a row starts in its file's padded signal, 0 but for the
  pieces of long files): the feature core's fused pass over the rows, with each row's ``top_db``
  peak over its own frames. The zero-crossing rate frames the rows edge-padded instead
  (``_edge_rows``) when ``zcr_left`` is the centre padding. Row by row: each device can run it on
  its own rows (``_compute_fn``). Features in ``raw`` come before their finishing step (the
  pieces of a long file, finished over the whole file). ``cq_left``: the centre padding before each
  file's signal, for the constant-Q features' signal lengths (``jaxdsp._core.mark_lengths``)."""
  zcr = [r for r in requests if r[0] == "zero_crossing_rate"]
  cq = tuple(r for r in requests if _core.takes_lengths(r[0]))
  rest = tuple(r for r in requests if r[0] != "zero_crossing_rate" and r not in cq)
  out = _core.run(x, rest, spec, window=window, n_valid=n_frames, raw=raw) if rest else {}
  if zcr:
    x_zcr = x if zcr_left is None else _edge_rows(x, lengths, zcr_left, offsets)
    out.update(_core.run(x_zcr, tuple(zcr), spec))
  if cq:  # the constant-Q features read each row's signal length (rows run past it): raw, marked, finished
    values = _core.run(x, cq, spec, raw=frozenset(name for name, _ in cq))
    for name, cfg in cq:
      v = _core.mark_lengths(values[name], spec, offsets - cq_left, lengths, n_frames)
      out[name] = v if name in raw else _core.finish(v, name=name, cfg=cfg)
  return out


@functools.lru_cache(maxsize=16)
def _compute_fn(mesh: jax.sharding.Mesh, requests: tuple, spec: Any, window: str, zcr_left: int | None = None,
                raw: frozenset = frozenset(), cq_left: int = 0) -> Any:
  """``_compute`` jitted for ``mesh``: with several devices under ``shard_map``, so that each runs
  its own rows (the CPU path's chunk loop, ``jaxdsp._core.map_frames``, would otherwise be
  replicated over the devices after an all-gather of the batch)."""
  fn = functools.partial(_compute, requests=requests, spec=spec, window=window, zcr_left=zcr_left, raw=raw,
                         cq_left=cq_left)
  if mesh.devices.size > 1:
    fn = jax.shard_map(fn, mesh=mesh, in_specs=(P("data"),) * 4, out_specs=P("data"))
  return jax.jit(fn)


def use_cpu_cores(*, n: int | None = None) -> int:
  """Has JAX expose ``n`` CPU devices, so that :func:`extract` runs one batch per core at a time.

  XLA:CPU runs one computation per device at a time, and it runs the small kernels of the CPU
  layout's cache-sized steps on one thread (large kernels it splits over the cores), so with JAX's
  default single CPU device a 2-core machine leaves a core partly idle; with one device per core,
  :func:`extract` shards each batch over them (8 files per device); ``benchmarks/bench_batch.py``
  compares both settings side by side. The ``jaxdsp extract`` command calls this.

  Call it right after ``import jax``, before any computation: it sets ``jax_num_cpu_devices``
  (the same as the ``JAX_NUM_CPU_DEVICES`` environment variable). A count already chosen that way,
  or with ``--xla_force_host_platform_device_count`` in ``XLA_FLAGS``, is kept.

  Args:
    n: number of CPU devices; default ``min(os.cpu_count(), 8)``.

  Returns:
    The number of CPU devices JAX will expose.

  Raises:
    RuntimeError: JAX has already started its backends (their devices cannot change any more).

  Examples:
    >>> import jax
    >>> from jaxdsp import batch
    >>> batch.use_cpu_cores()                                                  # doctest: +SKIP
    2
  """
  chosen = jax.config.jax_num_cpu_devices
  if chosen != -1:
    return int(chosen)
  forced = re.search(r"--xla_force_host_platform_device_count=(\d+)", os.environ.get("XLA_FLAGS", ""))
  if forced:
    return int(forced.group(1))
  n = min(os.cpu_count() or 1, 8) if n is None else _checks.positive_int(n, "n")
  jax.config.update("jax_num_cpu_devices", n)  # RuntimeError once a backend is running
  return n


def _mesh(devices: Any) -> jax.sharding.Mesh:
  local = jax.local_devices()
  if devices is None:
    devs = local
  elif isinstance(devices, (int, np.integer)) and not isinstance(devices, bool):
    if not 1 <= devices <= len(local):
      raise ValueError(f"devices must be between 1 and the {len(local)} local devices, got {devices}")
    devs = local[:devices]
  else:
    devs = list(devices)
    if not devs or not all(isinstance(d, jax.Device) for d in devs):
      raise ValueError(f"devices must be None, an int or a sequence of jax devices, got {devices!r}")
  return jax.make_mesh((len(devs),), ("data",), axis_types=(jax.sharding.AxisType.Auto,), devices=devs)


# ---------------------------------------------------------------------------------------------
# The driver.


def _settings(features: Any, *, sr: Any, n_fft: Any, hop_length: Any, center: Any, pad_mode: Any,
              memory_budget: Any, options: dict[str, Any], who: str) -> Any:
  """Checks the settings of :func:`extract` or :func:`feature_pieces` (before any file or signal is
  touched; the options by tracing ``features`` once, without compiling) and derives the feature
  core's requests for whole batches and for pieces (``_piece_requests``)."""
  names = _core.feature_names(features, "features")
  unknown = set(options) - set(_FEATURE_OPTIONS)
  if unknown:
    raise TypeError(f"{who} got unexpected options {sorted(unknown)}; allowed: {_FEATURE_OPTIONS}")
  options = {k: v for k, v in options.items() if v is not _core.PER_FEATURE}
  if "window" in options and not isinstance(options["window"], str):
    raise ValueError(f"window must be a window name for {who}, got {options['window']!r}")
  sr = _checks.sample_rate(sr)
  sr = int(sr) if sr == int(sr) else sr
  n_fft = _checks.positive_int(n_fft, "n_fft")
  hop_length = _checks.positive_int(hop_length, "hop_length")
  memory_budget = _checks.positive_int(memory_budget, "memory_budget")
  if not isinstance(center, (bool, np.bool_)):
    raise TypeError(f"center must be a bool, got {center!r}")
  center = bool(center)
  _checks.choice(pad_mode, "pad_mode", _core.PAD_MODES)
  jax.eval_shape(functools.partial(fused.features, sr=sr, names=names, n_fft=n_fft, hop_length=hop_length,
                                   center=center, pad_mode=pad_mode, **options),
                 jax.ShapeDtypeStruct((2 * n_fft,), jnp.float32))
  # The rows are padded on the host, so the device frames them uncentred.
  spec = _core.StftSpec(n_fft, hop_length, options.get("win_length") or n_fft, False, "constant")
  shared = _core.check_options({k: v for k, v in options.items() if k in _core.SHARED_OPTIONS}, who)
  shared.setdefault("onset_delay", _core.onset_delay(n_fft, hop_length, center))
  requests = tuple((name, _core.config(name, dict(shared, sr=sr, zcr_pad_mode="constant"))) for name in names)
  piece_requests, finish, raw = _piece_requests(requests)
  return types.SimpleNamespace(
      names=names, sr=sr, n_fft=n_fft, hop_length=hop_length, center=center, pad_mode=pad_mode,
      memory_budget=memory_budget, spec=spec, requests=requests, piece_requests=piece_requests, finish=finish,
      raw=raw, window=options.get("window", "hann"), options=options,
      # librosa edge-pads for the zero-crossing rate when centring: the rows are re-padded on the device.
      zcr_left=n_fft // 2 if center and "zero_crossing_rate" in names else None,
      cq_left=n_fft // 2 if center else 0)


def extract(inputs: Any, features: Sequence[str] = _core.DEFAULT_FEATURES, *, out: str | os.PathLike,
            sr: float = 22050, n_fft: int = 2048, hop_length: int = 512, center: bool = True,
            pad_mode: str = "constant", batch_size: int | None = None, devices: Any = None,
            num_workers: int | None = None, memory_budget: int = DEFAULT_MEMORY_BUDGET, wait: bool = False,
            retry_failed: bool = False, progress: bool = True, **options: Any) -> ExtractResult:
  """Computes features for many audio files on every local device, writing them to ``out``.

  Files are decoded in background threads with :func:`jaxdsp.load` (mono, resampled to ``sr``),
  grouped into batches of similar length (padded to whole frames, one compiled length per cell
  of 8-16 cells per octave, each cell as long as its longest batch: a corpus of equal lengths is
  not padded at all), and each batch goes through one jitted :func:`jaxdsp.features` pass sharded
  over the devices. Batches are planned by ``memory_budget``: a batch of long files holds fewer
  rows, and a file too long for the budget on its own is computed alone, in pieces of whole frames
  that overlap by the frame context (``n_fft - hop_length`` samples), so its features equal those
  of the whole file (the ``top_db`` peak of ``spectrogram_db`` and ``mfcc`` is taken over the whole
  file afterwards). Results are streamed to disk batch by batch, into shards that each close after
  at most 256 files or 2 s, and then enter the manifest (format: see the module docstring). A file
  that cannot be decoded (missing, empty, corrupt, truncated, too short) is recorded as failed with
  its error and the run goes on. A batch that runs out of memory (a host ``MemoryError`` or XLA's
  ``RESOURCE_EXHAUSTED``) is computed again in halves, down to one file per batch, then that file in
  pieces of halving size (equal features); only a file still out of memory in pieces of one frame,
  or one whose batch fails otherwise, is recorded as failed. Running again into the same
  ``out`` resumes: finished files whose shard rows check out are skipped.

  One run at a time per output directory: a run holds an advisory lock (``fcntl.flock`` on
  ``out/.lock``; ``msvcrt.locking`` on Windows; elsewhere an exclusively created ``out/.lock-excl``
  holding ``pid@host``, taken over when that pid is dead) from start to end; a second run fails at
  once with :class:`OutputInUseError`
  naming the directory, or with ``wait=True`` waits for the first to finish and then resumes.
  Holding the lock, a run removes the shards that no manifest mentions (left by killed runs).

  Args:
    inputs: a directory (recursive), a glob pattern, a file, or a sequence of these.
    features: names from :data:`jaxdsp.FEATURE_NAMES`.
    out: output directory (created if needed).
    sr: sample rate every file is resampled to.
    n_fft, hop_length, center, pad_mode: framing, as in :func:`jaxdsp.features`.
    batch_size: files per batch, rounded up to a multiple of the number of devices (an upper bound:
      ``memory_budget`` may allow fewer). Default: 8 per device on CPU (small batches stay in
      cache, which gave more throughput than batches of 32 in ``benchmarks/bench_batch.py``), 64
      per device on accelerators.
    devices: ``None`` (all local devices), a number of local devices, or a list of devices. On a
      CPU, :func:`use_cpu_cores` (before JAX starts) makes each core a device.
    num_workers: decoding threads (default ``min(8, os.cpu_count())``).
    memory_budget: bytes one batch may take, estimated per frame from its input row, its outputs
      (on the device and on the host) and, on accelerators, the STFT's working arrays. Default
      ``DEFAULT_MEMORY_BUDGET`` (1 GiB). Decoding holds each file whole on the host besides.
    wait: when another run holds ``out``, wait for it instead of failing.
    retry_failed: recompute files an earlier run recorded as failed.
    progress: show a tqdm progress bar (files/s and audio-seconds/s) on stderr.
    **options: ``win_length``, ``window`` (a name) and every feature option of :func:`jaxdsp.features`
      (the registry's: ``n_mels``, ``n_mfcc``, ``top_db``, ``roll_percent``, ``bins_per_octave``,
      ``n_octaves``, ``intervals``, ...), checked as there; one left out takes each feature's own default
      and is not recorded in the manifest.

  Returns:
    An :class:`ExtractResult` (``n_ok``, ``n_failed``, ``failures``, ``out``, ...).

  Raises:
    FileNotFoundError: an input that does not exist (see :func:`list_files`).
    OutputInUseError: another run holds ``out`` (and ``wait`` is false).
    ValueError: a bad option, or an ``out`` that holds features computed with other settings.

  Examples:
    >>> import jaxdsp as jd
    >>> res = jd.batch.extract("corpus/", ("rms", "melspectrogram"), out="feats", n_mels=64)  # doctest: +SKIP
    >>> feats = jd.batch.load_features("feats")                                               # doctest: +SKIP
    >>> feats["/abs/corpus/a.wav"]["rms"].shape                                               # doctest: +SKIP
    (173,)
  """
  t_start = time.perf_counter()
  st = _settings(features, sr=sr, n_fft=n_fft, hop_length=hop_length, center=center, pad_mode=pad_mode,
                 memory_budget=memory_budget, options=options, who="extract")
  names, sr, n_fft, hop_length, center, memory_budget = st.names, st.sr, st.n_fft, st.hop_length, st.center, \
      st.memory_budget
  spec, requests, piece_requests, finish, raw = st.spec, st.requests, st.piece_requests, st.finish, st.raw
  zcr_left, window = st.zcr_left, st.window
  batch_size = _checks.positive_int(batch_size, "batch_size", allow_none=True)
  if not isinstance(wait, (bool, np.bool_)):
    raise TypeError(f"wait must be a bool, got {wait!r}")
  wait = bool(wait)
  num_workers = min(8, os.cpu_count() or 2) if num_workers is None else _checks.positive_int(num_workers, "num_workers")
  config = {"features": list(names), "sr": sr, "n_fft": n_fft, "hop_length": hop_length, "center": center,
            "pad_mode": pad_mode, **{k: st.options[k] for k in sorted(st.options)}}

  out = os.path.abspath(os.fspath(out))
  files = list_files(inputs)
  pid, pcount = jax.process_index(), jax.process_count()
  files = files[pid::pcount]
  mesh = _mesh(devices)
  os.makedirs(out, exist_ok=True)
  lock = _DirLock(_lock_path(out, pid, pcount), out, wait)
  shorter: list[str] = []  # files shorter than n_fft (librosa warns for each; extract once per call)
  try:
    previous = load_manifest(out)
    if previous["config"] is not None and previous["config"] != json.loads(json.dumps(config)):
      raise ValueError(f"out {out!r} holds features computed with other settings ({previous['config']}); "
                       f"use another out directory or remove it (now: {config})")
    manifest_name = _manifest_name(pid, pcount)
    manifest_path = os.path.join(out, manifest_name)
    manifest = {"format": FORMAT, "config": config, "files": {}}
    if os.path.exists(manifest_path):
      manifest["files"] = _read_manifest(manifest_path)["files"]
    _remove_orphans(out, pid, manifest_name)
    # A resume trusts only the records whose rows check out; the others are computed again.
    for p in _verify(out, {p: previous["files"][p] for p in files if p in previous["files"]}, names):
      previous["files"].pop(p, None)
      manifest["files"].pop(p, None)

    def done(path: str) -> bool:
      rec = previous["files"].get(path)
      if rec is None or (rec["status"] == "failed" and retry_failed):
        return False
      return (rec.get("size"), rec.get("mtime_ns")) == _stat(path)

    todo = [p for p in files if not done(p)]
    for p in files:  # carry records made by other processes' manifests into this one
      if p not in todo and p not in manifest["files"]:
        manifest["files"][p] = previous["files"][p]

    n_dev = mesh.devices.size
    if batch_size is None:
      batch_size = n_dev * (8 if mesh.devices.flat[0].platform == "cpu" else 64)
    rows_per_batch = -(-batch_size // n_dev) * n_dev
    sharding = NamedSharding(mesh, P("data"))
    compute = _compute_fn(mesh, requests, spec, window, zcr_left, cq_left=st.cq_left)
    per_frame = max(_bytes_per_frame(r, spec, window, zcr_left) for r in (requests, piece_requests))
    frame_rows = max(1, memory_budget // per_frame)  # frames × rows one batch may hold
    budget = _Budget(frame_rows, n_dev, rows_per_batch)

    n_computed, audio_samples = 0, 0
    run_id = secrets.token_hex(4)
    sink = _Writer(out, manifest, manifest_path, f"shard-p{pid:03d}-{run_id}-", 1)
    writer = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="jaxdsp-batch-writer")
    decoder = concurrent.futures.ThreadPoolExecutor(num_workers, thread_name_prefix="jaxdsp-batch-decode")
    pending_writes: list[concurrent.futures.Future] = []
    bar = _progress_bar(len(todo), progress)
    in_flight = None  # (dispatched device results or the exception, decoded files) of the previous batch

    def counted(decoded: list[_Decoded]) -> None:
      nonlocal n_computed, audio_samples
      n_computed += len(decoded)
      audio_samples += sum(d.length for d in decoded)
      shorter.extend(d.path for d in decoded if d.error is None and center and d.length < n_fft)
      bar.update(len(decoded))
      bar.set_postfix_str(f"{audio_samples / sr / max(time.perf_counter() - t_start, 1e-9):.3g} audio-s/s")

    def drain() -> None:
      """Collects the batch in flight and queues its writing."""
      nonlocal in_flight
      if in_flight is None:
        return
      (results, decoded), in_flight = in_flight, None
      try:
        if isinstance(results, BaseException):
          raise results
        collected = _collect(results, decoded, sr)
      except _RUNTIME_ERRORS as e:
        if not _out_of_memory(e):
          collected = {}, [], _failed_batch(decoded, e, memory_budget)
        else:  # again in halves (then in pieces); the decoding failures are recorded as they are
          collected = {}, [], _failed_batch([d for d in decoded if d.error is not None], e, memory_budget)
          pending_writes.append(writer.submit(sink.add, *collected))
          retry_smaller([d for d in decoded if d.error is None])
          collected = None
      if collected is not None:
        pending_writes.append(writer.submit(sink.add, *collected))
      while len(pending_writes) > 2:
        pending_writes.pop(0).result()
      counted(decoded)

    def wait_writes() -> None:
      for f in pending_writes:
        f.result()
      pending_writes.clear()

    def retry_smaller(good: list[_Decoded]) -> None:
      """A batch that ran out of memory, computed again in halves (synchronously), each half halved
      again while it runs out of memory, down to one file per batch, then that file in pieces."""
      if not good:
        return
      if len(good) == 1:
        wait_writes()
        long_file(good[0], max(1, good[0].n_frames // 2))
        return
      half = len(good) // 2
      for part in (good[:half], good[half:]):
        try:
          collected = _collect(*_dispatch(part, -(-len(part) // n_dev) * n_dev, sharding, compute, spec,
                                           pad_mode, plan), sr)
        except _RUNTIME_ERRORS as e:
          if _out_of_memory(e):
            retry_smaller(part)
            continue
          collected = {}, [], _failed_batch(part, e, memory_budget)
        pending_writes.append(writer.submit(sink.add, *collected))

    def long_file(d: _Decoded, piece_frames: int) -> None:
      """One file in pieces of ``piece_frames``, halved while they run out of memory; recorded as
      failed after one frame per piece ran out of memory, or after another runtime error."""
      while True:
        try:
          _extract_long(d, sink=sink, piece_frames=piece_frames, n_dev=n_dev, mesh=mesh, sharding=sharding,
                        spec=spec, window=window, zcr_left=zcr_left, requests=piece_requests, finish=finish,
                        raw=raw, names=names, pad_mode=pad_mode, sr=sr, cq_left=st.cq_left)
          return
        except _RUNTIME_ERRORS as e:
          if _out_of_memory(e) and piece_frames > 1:
            piece_frames = max(1, piece_frames // 2)
            continue
          sink.add({}, [], _failed_batch([d], e, memory_budget))
          return

    try:
      if todo:
        # Header probes in one loop: threads only traded the GIL (1,000 WAV headers: 0.045 s in one
        # loop, 0.13 s in two threads, 0.2 s with a future per file).
        lengths = [_probe(p, sr) for p in todo]
        frames = [_probe_frames(n, n_fft=n_fft, hop_length=hop_length, center=center, pad_mode=pad_mode)
                  for n in lengths]
        order = sorted(range(len(todo)), key=lambda i: (lengths[i], todo[i]))
        items = budget.plan(order, frames)  # [(file indices, rows)]; rows None: a long file, in pieces
        plan = _plan_frames(max(frames[i] for i in idx) for idx, rows in items if rows is not None)
        decode = functools.partial(_decode, sr=sr, n_fft=n_fft, hop_length=hop_length, center=center,
                                   pad_mode=pad_mode)
        prefetch = 2
        futures = [[decoder.submit(decode, todo[i]) for i in idx] for idx, _ in items[:prefetch]]
        for k, (_, rows) in enumerate(items):
          decoded = [f.result() for f in futures[k]]
          if k + prefetch < len(items):
            futures.append([decoder.submit(decode, todo[i]) for i in items[k + prefetch][0]])
          futures[k] = None
          long = [d for d in decoded if d.error is None and budget.is_long(d.n_frames)]
          short = [d for d in decoded if d.error is not None or not budget.is_long(d.n_frames)]
          current = None
          if short:
            try:
              current = _dispatch(short, rows or n_dev, sharding, compute, spec, pad_mode, plan)
            except _RUNTIME_ERRORS as e:
              current = e, short
          drain()
          in_flight = current
          for d in long:  # alone, in pieces, after everything queued before it is written
            drain()
            wait_writes()
            long_file(d, budget.piece_frames)
            counted([d])
            d.y = None
        drain()
      for f in pending_writes:
        f.result()
    finally:
      bar.close()
      decoder.shutdown(wait=True, cancel_futures=True)
      writer.shutdown(wait=True)  # queued results are still written, even when interrupted
      sink.close()
  finally:
    lock.release()

  if shorter:
    warnings.warn(f"n_fft={n_fft} is longer than {len(shorter)} file(s) (e.g. {shorter[0]!r}): their frames are "
                  "mostly padding (center=True)", UserWarning, stacklevel=2)
  recs = {p: manifest["files"].get(p) for p in files}
  failures = {p: r["error"] for p, r in recs.items() if r is not None and r["status"] == "failed"}
  n_ok = sum(1 for r in recs.values() if r is not None and r["status"] == "ok")
  return ExtractResult(out=out, n_ok=n_ok, n_failed=len(failures), n_computed=n_computed, failures=failures,
                       seconds=time.perf_counter() - t_start, audio_seconds=audio_samples / sr)


@dataclasses.dataclass
class FeaturePieces:
  """The features of one long signal, piece by piece (:func:`feature_pieces`): iterate for
  ``(first frame, {name: array (..., frames of the piece)})`` in order.

  Attributes:
    n_frames: frames of the whole signal (as :func:`jaxdsp.features` gives them).
    piece_frames: frames per piece (the last piece may hold fewer), from the memory budget.
    n_pieces: number of pieces.
  """

  n_frames: int
  piece_frames: int
  n_pieces: int
  _iterate: Any = dataclasses.field(repr=False)

  def __iter__(self):
    return self._iterate()


def feature_pieces(y: Any, features: Sequence[str] = _core.DEFAULT_FEATURES, *, sr: float = 22050,
                   n_fft: int = 2048, hop_length: int = 512, center: bool = True, pad_mode: str = "constant",
                   memory_budget: int = DEFAULT_MEMORY_BUDGET, devices: Any = None,
                   **options: Any) -> FeaturePieces:
  """Features of one signal in bounded memory: pieces of whole frames, as :func:`extract` computes
  a file too long for its memory budget.

  Each piece holds ``piece_frames`` frames of the padded signal (overlapping by ``n_fft -
  hop_length`` samples), sized so that one computation (a piece per device) stays within
  ``memory_budget``, so each piece's values equal the same frames of :func:`jaxdsp.features` on
  the whole signal (float32 round-off). The caller consumes a piece at a time (e.g. decimates it
  for a plot), so memory does not grow with the signal beyond the signal itself. Features that need
  a whole-signal finishing step (``spectrogram_db`` and ``mfcc`` with ``top_db``, onset strength,
  spectral contrast, ...) cannot be returned piece by piece: use :func:`extract`, which finishes
  them over the whole file.

  Args:
    y: ``(n_samples,)`` float signal (host or device; it is read on the host).
    features: names from :data:`jaxdsp.FEATURE_NAMES` without a whole-signal finishing step.
    sr: sample rate of ``y``.
    n_fft, hop_length, center, pad_mode: framing, as in :func:`jaxdsp.features`.
    memory_budget: bytes one computation (``n_devices`` pieces) may take, estimated as
      :func:`extract` does.
    devices: ``None`` (all local devices), a number of local devices, or a list of devices.
    **options: ``win_length``, ``window`` and the feature options of :func:`jaxdsp.features` (``n_mels``,
      ``roll_percent``, ``bins_per_octave``, ...).

  Returns:
    A :class:`FeaturePieces`: iterate it for ``(first frame, {name: (..., frames)})``.

  Raises:
    ValueError: a bad option, a signal without a frame, or a feature that needs a finishing step.
    TypeError: an unknown option or a non-bool ``center``.

  Examples:
    >>> import numpy as np
    >>> from jaxdsp import batch
    >>> y = np.sin(np.arange(22050, dtype=np.float32) / 10)
    >>> pieces = batch.feature_pieces(y, ("rms",), memory_budget=40_000, devices=1)
    >>> pieces.n_frames, pieces.piece_frames, pieces.n_pieces
    (44, 19, 3)
    >>> [(start, v["rms"].shape) for start, v in pieces]
    [(0, (19,)), (19, (19,)), (38, (6,))]
  """
  st = _settings(features, sr=sr, n_fft=n_fft, hop_length=hop_length, center=center, pad_mode=pad_mode,
                 memory_budget=memory_budget, options=options, who="feature_pieces")
  if st.finish or st.raw:
    raise ValueError(f"features: {sorted(set(st.finish) | set(st.raw))} need a finishing step over the whole "
                     "signal and cannot be returned piece by piece (use jaxdsp.batch.extract)")
  y = np.asarray(y)
  if y.ndim != 1 or not np.issubdtype(y.dtype, np.floating):
    raise ValueError(f"y must be a 1-D float signal, got shape {y.shape} and dtype {y.dtype}")
  y = y.astype(np.float32, copy=False)
  n = y.shape[-1]
  left, right = _core.pad_widths(n, st.n_fft, st.hop_length, st.center, st.pad_mode)
  if n + left + right < st.n_fft:
    raise ValueError(f"y has {n} samples: fewer than n_fft={st.n_fft} with center=False (no frame)")
  n_frames = framing.num_frames(n, frame_length=st.n_fft, hop_length=st.hop_length, center=st.center,
                                pad_mode=st.pad_mode)
  mesh = _mesh(devices)
  n_dev = mesh.devices.size
  per_frame = _bytes_per_frame(st.requests, st.spec, st.window, st.zcr_left)
  frames = min(n_frames, _Budget(max(1, st.memory_budget // per_frame), n_dev, n_dev).piece_frames)
  d = _Decoded("", y, left, right, n_frames, int(st.sr))

  def iterate():
    compute = _compute_fn(mesh, st.requests, st.spec, st.window, st.zcr_left, cq_left=st.cq_left)
    yield from _pieces(d, piece_frames=frames, n_dev=n_dev, spec=st.spec, compute=compute,
                       sharding=NamedSharding(mesh, P("data")), pad_mode=st.pad_mode)

  return FeaturePieces(n_frames=n_frames, piece_frames=frames, n_pieces=-(-n_frames // frames), _iterate=iterate)


# Errors of one batch's computation (the device or the host out of memory, an XLA failure): a batch
# out of memory is computed again in halves, down to one file, then that file in pieces of halving
# size; other errors (and one frame per piece still out of memory) record the batch's files as
# failed, and the run goes on.
_RUNTIME_ERRORS = (MemoryError, jax.errors.JaxRuntimeError)


def _out_of_memory(error: BaseException) -> bool:
  """A host ``MemoryError`` or XLA's ``RESOURCE_EXHAUSTED`` (device or host memory)."""
  return isinstance(error, MemoryError) or "RESOURCE_EXHAUSTED" in str(error)


def _failed_batch(decoded: list[_Decoded], error: BaseException, memory_budget: int) -> dict[str, Any]:
  first = (str(error).strip().splitlines() or [""])[0][:300]
  hint = f" (memory_budget={memory_budget} bytes: a smaller one gives smaller batches; rerun with retry_failed)"
  records = {}
  for d in decoded:
    size, mtime = d.stat
    records[d.path] = {"status": "failed", "size": size, "mtime_ns": mtime,
                       "error": d.error or f"{type(error).__name__}: {first}{hint}"}
  return records


def _bytes_per_frame(requests: tuple, spec: Any, window: str, zcr_left: int | None) -> int:
  """Estimated bytes one frame of one batch row takes: its input samples, its outputs twice (on the
  device and on the host) and, on accelerators (whole batches, no chunks), the frames and spectra
  of the STFT. Output sizes from ``jax.eval_shape`` (no computation)."""
  t = 16
  fn = functools.partial(_compute, requests=requests, spec=spec, window=window, zcr_left=zcr_left)
  i32 = jax.ShapeDtypeStruct((1,), jnp.int32)
  shapes = jax.eval_shape(fn, jax.ShapeDtypeStruct((1, spec.n_fft + (t - 1) * spec.hop_length), jnp.float32),
                          i32, i32, i32)
  out = sum(math.prod(s.shape) * s.dtype.itemsize for s in jax.tree.leaves(shapes)) // t
  work = 0 if _core.cpu_path() else 4 * spec.n_fft + 16 * (spec.n_fft // 2 + 1)
  return 4 * spec.hop_length + 2 * out + work


@dataclasses.dataclass
class _Budget:
  """Batch rows and long files under a memory budget of ``frame_rows`` frames × rows per batch."""

  frame_rows: int
  n_dev: int
  max_rows: int

  def rows(self, frames: int) -> int:
    """Rows of a batch whose longest file has ``frames`` frames: ``max_rows`` halved (in multiples of
    the device count) until the batch fits, at least one row per device."""
    cell, r = _bucket(max(frames, 1)), self.max_rows
    while r > self.n_dev and r * cell > self.frame_rows:
      r = max(self.n_dev, -(-(r // 2) // self.n_dev) * self.n_dev)
    return r

  def is_long(self, frames: int) -> bool:
    """A file too long for a batch of one row per device: computed alone, in pieces."""
    return self.n_dev * _bucket(max(frames, 1)) > self.frame_rows

  @property
  def piece_frames(self) -> int:
    return max(1, self.frame_rows // self.n_dev)

  def plan(self, order: Sequence[int], frames: Sequence[int]) -> list[tuple[list[int], int | None]]:
    """Batches of file indices in ``order`` (by length), each with its rows; a long file alone with
    rows ``None``."""
    items, cur = [], []
    for i in order:
      if self.is_long(frames[i]):
        if cur:
          items.append((cur, self.rows(frames[cur[-1]])))
          cur = []
        items.append(([i], None))
        continue
      if cur and len(cur) + 1 > self.rows(frames[i]):
        items.append((cur, self.rows(frames[cur[-1]])))
        cur = []
      cur.append(i)
    if cur:
      items.append((cur, self.rows(frames[cur[-1]])))
    return items


def _piece_requests(requests: tuple) -> tuple[tuple, dict[str, Any], frozenset]:
  """The requests for the pieces of a long file, what finishes them over the whole file, and which
  features the pieces compute raw: the ``top_db`` clipping of ``spectrogram_db`` (``finish[name]``:
  its ``top_db``) and ``mfcc`` from the whole file's mel spectrogram (``finish["mfcc"]``: its
  config), chunk by chunk, whose per-example ``top_db`` peaks the pieces cannot know; every other
  feature with a finishing step in the registry (onset strength's flux over frames, spectral
  contrast's dB peaks, ...) is computed raw per piece (its per-frame values, stitched) and finished
  over the whole file at once (``raw``)."""
  pieces, finish, raw = {}, {}, set()
  for name, cfg in requests:
    c = dict(cfg)
    if name not in ("spectrogram_db", "mfcc") and _core.needs_finish(name):
      raw.add(name)
      pieces[name] = cfg
    elif name in ("spectrogram_db", "mfcc") and c.get("top_db") is not None:
      finish[name] = c["top_db"] if name == "spectrogram_db" else cfg
      if name == "spectrogram_db":
        pieces[name] = tuple(sorted(dict(c, top_db=None).items()))
      else:
        mel = _core.config("melspectrogram", c)
        if pieces.get("melspectrogram", mel) != mel:
          raise ValueError("mfcc and melspectrogram with different mel settings cannot be split into pieces")
        pieces["melspectrogram"] = mel
    else:
      if name == "melspectrogram" and pieces.get(name, cfg) != cfg:
        raise ValueError("mfcc and melspectrogram with different mel settings cannot be split into pieces")
      pieces[name] = cfg
  return tuple(sorted(pieces.items())), finish, frozenset(raw)


def _pieces(d: _Decoded, *, piece_frames: int, n_dev: int, spec, compute, sharding, pad_mode: str):
  """The pieces of one file (``d``, decoded): ``piece_frames`` whole frames each (overlapping by
  ``n_fft - hop_length`` samples of the padded signal), ``n_dev`` pieces per computation (one per
  device). Yields ``(first frame, {name: (..., frames of the piece)})`` in order, on the host; the
  rows are filled on the host as ``_fill`` pads the whole file. The feature core's ``raw`` features
  come raw (``compute``), for a finishing step over the whole file."""
  P, hop, T = piece_frames, spec.hop_length, d.n_frames
  width = spec.n_fft + (P - 1) * hop
  if pad_mode == "constant":
    head, tail = np.zeros(d.left, d.y.dtype), np.zeros(d.right, d.y.dtype)
  else:
    padded = np.pad(d.y, (d.left, d.right), mode=pad_mode)
    head, tail = padded[:d.left].copy(), padded[d.left + d.length:].copy()
    del padded
  n_pieces = -(-T // P)
  for j0 in range(0, n_pieces, n_dev):
    pieces = range(j0, min(j0 + n_dev, n_pieces))
    x = _aligned_zeros((n_dev, width))
    lengths = np.full((n_dev,), d.length, np.int32)
    kept, offsets = np.zeros((n_dev,), np.int32), np.zeros((n_dev,), np.int32)
    for r, j in enumerate(pieces):
      offsets[r], kept[r] = j * P * hop, min(P, T - j * P)
      _fill_piece(x[r], d, head, tail, int(offsets[r]))
    res = compute(*(jax.device_put(a, sharding) for a in (x, lengths, kept, offsets)))
    res = {k: np.asarray(v) for k, v in res.items()}
    for r, j in enumerate(pieces):
      yield j * P, {k: v[r, ..., :kept[r]] for k, v in res.items()}


def _extract_long(d: _Decoded, *, sink, piece_frames: int, n_dev: int, mesh, sharding, spec, window, zcr_left,
                  requests, finish, raw, names, pad_mode, sr, cq_left=0) -> None:
  """One file too long for a batch: its pieces (``_pieces``: ``piece_frames`` whole frames,
  ``n_dev`` per batch), each written into its frames of the file's arrays (memory-mapped in a shard
  of its own); then the per-file ``top_db`` finishes and the ``raw`` features' finishing steps,
  chunk by chunk. Device and host batches stay within the budget. A failed computation removes the
  shard and raises (the caller retries in smaller pieces or records the failure)."""
  P, T = piece_frames, d.n_frames
  name, tmp = sink.open_single()
  try:
    compute = _compute_fn(mesh, requests, spec, window, zcr_left, raw, cq_left)
    arrays: dict[str, np.ndarray] = {}
    raw_parts: dict[str, np.ndarray] = {}  # raw per-frame values of the ``raw`` features, memory-mapped
    peaks = {k: -np.inf for k in finish if k != "mfcc"}
    mel = None  # the whole file's mel spectrogram for mfcc, (n_mels, T), memory-mapped
    try:
      for start, piece in _pieces(d, piece_frames=P, n_dev=n_dev, spec=spec, compute=compute, sharding=sharding,
                                  pad_mode=pad_mode):
        for k, part in piece.items():
          cols = slice(start, start + part.shape[-1])
          if k in raw:
            if k not in raw_parts:
              raw_parts[k] = _npy_memmap(os.path.join(tmp, f"__raw_{k}__.tmp"), part.dtype, part.shape[:-1] + (T,))
            raw_parts[k][..., cols] = part
          elif k in names:
            if k not in arrays:
              arrays[k] = _npy_memmap(os.path.join(tmp, f"{k}.npy"), part.dtype, (1, *part.shape[:-1], T))
            arrays[k][0, ..., cols] = part
            if k in peaks and part.size:
              peaks[k] = max(peaks[k], float(part.max()))
          if k == "melspectrogram" and "mfcc" in finish:
            if mel is None:
              mel = _npy_memmap(os.path.join(tmp, "__mel__.tmp"), part.dtype, part.shape[:-1] + (T,))
            mel[..., cols] = part
      for k, peak in peaks.items():  # the top_db clipping over the whole file, as features() does
        floor = np.float32(peak) - finish[k]
        for c in range(0, T, P):
          np.maximum(arrays[k][..., c:c + P], floor, out=arrays[k][..., c:c + P])
      if mel is not None:
        cfg = finish["mfcc"]
        top_db = dict(cfg)["top_db"]
        peak = None
        for c in range(0, T, P):
          m = _core.db(jnp.asarray(_padded_cols(mel[..., c:c + P], P)), amin=1e-10, top_db=None)
          cut = min(P, T - c)
          p = jnp.max(m[..., :cut])
          peak = p if peak is None else jnp.maximum(peak, p)
        for c in range(0, T, P):
          m = _core.db(jnp.asarray(_padded_cols(mel[..., c:c + P], P)), amin=1e-10, top_db=None)
          mf = np.asarray(_core.from_spectrogram("mfcc", jnp.maximum(m, peak - top_db), cfg))
          if "mfcc" not in arrays:
            arrays["mfcc"] = _npy_memmap(os.path.join(tmp, "mfcc.npy"), mf.dtype, (1, *mf.shape[:-1], T))
          arrays["mfcc"][0, ..., c:c + P] = mf[..., :min(P, T - c)]
      for k, part in raw_parts.items():  # finished over the whole file (the output's size, not the signal's)
        v = np.asarray(_core.finish(jnp.asarray(part), name=k, cfg=dict(requests)[k]))
        arrays[k] = _npy_memmap(os.path.join(tmp, f"{k}.npy"), v.dtype, (1, *v.shape))
        arrays[k][0] = v
      for a in arrays.values():
        a.flush()
    finally:
      arrays.clear()
      mel = None
      for k in list(raw_parts):
        raw_parts.pop(k)
        if os.path.exists(os.path.join(tmp, f"__raw_{k}__.tmp")):
          os.unlink(os.path.join(tmp, f"__raw_{k}__.tmp"))
      if os.path.exists(os.path.join(tmp, "__mel__.tmp")):
        os.unlink(os.path.join(tmp, "__mel__.tmp"))
  except BaseException:
    sink.abort_single(tmp)
    raise
  sink.commit_single(name, tmp, d.path, dict(_record(d, sr), pieces=-(-T // P)))


def _padded_cols(a: np.ndarray, n: int) -> np.ndarray:
  """``a`` (..., t ≤ n) zero-padded to ``n`` columns (one compiled shape for every chunk)."""
  if a.shape[-1] == n:
    return np.asarray(a)
  return np.concatenate([a, np.zeros(a.shape[:-1] + (n - a.shape[-1],), a.dtype)], axis=-1)


def _npy_memmap(path: str, dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
  """A new ``.npy`` file of ``shape`` (data at byte 4096, as the streamed shards), memory-mapped."""
  with open(path, "xb") as f:
    f.write(_npy_stream.header(dtype, shape))
    f.truncate(_npy_stream.HEADER_BYTES + math.prod(shape) * np.dtype(dtype).itemsize)
  return np.memmap(path, dtype=dtype, mode="r+", offset=_npy_stream.HEADER_BYTES, shape=shape)


def _fault_hook(event: str, count: int) -> None:
  """Test-only fault injection (``tests/test_batch_faults.py``), inert unless the environment sets
  ``JAXDSP_BATCH_FAULT="<event>:<n>:kill"`` (the process SIGKILLs itself at the n-th ``event``:
  ``"open"``, a shard opened and its first batch written; ``"closed"``, a shard renamed into place
  before the manifest is rewritten; ``"flushed"``, the manifest rewritten) or
  ``"<event>:<n>:pause:<dir>"`` (creates ``<dir>/paused``, then waits up to 120 s for
  ``<dir>/resume``)."""
  spec = os.environ.get("JAXDSP_BATCH_FAULT")
  if not spec:
    return
  ev, n, action, *rest = spec.split(":", 3)
  if ev != event or int(n) != count:
    return
  if action == "kill":
    os.kill(os.getpid(), signal.SIGKILL)
  elif action == "pause":
    with open(os.path.join(rest[0], "paused"), "w", encoding="utf-8"):
      pass
    deadline = time.monotonic() + 120
    while not os.path.exists(os.path.join(rest[0], "resume")) and time.monotonic() < deadline:
      time.sleep(0.02)


def _progress_bar(total: int, enabled: bool):
  from tqdm.auto import tqdm  # pylint: disable=import-outside-toplevel
  return tqdm(total=total, unit="file", disable=not enabled, desc="extract", dynamic_ncols=True)


def _aligned_zeros(shape: tuple[int, ...]) -> np.ndarray:
  """float32 zeros at a 64-byte aligned address: ``jax.device_put`` on CPU then uses the memory in
  place instead of copying it (0.07 vs 0.25-0.7 ms for a batch of 8 × 4 s). The batch is never
  written again after it is put on the device."""
  n = math.prod(shape)
  raw = np.zeros(n + 16, np.float32)
  start = (-raw.ctypes.data % 64) // 4
  return raw[start:start + n].reshape(shape)


def _dispatch(decoded: list[_Decoded], rows: int, sharding, compute, spec, pad_mode, plan):
  """Assembles one padded batch on the host and dispatches its computation (asynchronously).
  Its rows hold whole frames, as many as ``plan`` gives the batch's cell (see ``_plan_frames``)."""
  good = [d for d in decoded if d.error is None]
  if not good:
    return None, decoded
  needed = max(d.n_frames for d in good)
  frames = plan.get(_bucket(needed), 0)
  if frames < needed:  # a file longer than its header said
    frames = _bucket(needed)
  width = spec.n_fft + (frames - 1) * spec.hop_length
  x = _aligned_zeros((rows, width))
  lengths, n_frames = np.zeros((rows,), np.int32), np.zeros((rows,), np.int32)
  for i, d in enumerate(good):
    _fill(x[i], d, pad_mode)
    lengths[i], n_frames[i] = d.length, d.n_frames
  offsets = np.zeros((rows,), np.int32)
  results = compute(*(jax.device_put(a, sharding) for a in (x, lengths, n_frames, offsets)))
  return results, decoded


def _record(d: _Decoded, sr: float) -> dict[str, Any]:
  size, mtime = d.stat
  return {"status": "ok", "length": d.length, "n_frames": d.n_frames, "duration": d.length / sr,
          "orig_sr": d.orig_sr, "size": size, "mtime_ns": mtime}


def _collect(results, decoded: list[_Decoded], sr: float):
  """Moves one batch's results to the host (zero-copy on CPU), cut to the rows of its files, and
  builds its records: ``(arrays, ok, failed)`` with ``ok`` the ``(path, record)`` pairs of the rows
  in order (the decoded files fill the batch's first rows in order, ``_dispatch``)."""
  ok, failed = [], {}
  for d in decoded:
    size, mtime = d.stat
    if d.error is not None:
      failed[d.path] = {"status": "failed", "error": d.error, "size": size, "mtime_ns": mtime}
      continue
    ok.append((d.path, _record(d, sr)))
  if not ok:
    return {}, ok, failed
  return {k: np.asarray(v)[:len(ok)] for k, v in results.items()}, ok, failed


# A shard closes at this many files, bytes or seconds open, whichever comes first: a hard kill
# loses at most the open shard, whose files the next run computes again.
_SHARD_FILES = 256
_SHARD_BYTES = 256 << 20
_SHARD_SECONDS = 2.0


@dataclasses.dataclass
class _Shard:
  name: str
  tmp: str
  key: tuple
  streams: dict[str, _npy_stream.NpyStream]
  opened: float
  paths: list[str] = dataclasses.field(default_factory=list)
  records: dict[str, Any] = dataclasses.field(default_factory=dict)
  nbytes: int = 0


class _Writer:
  """Streams batches into shards and keeps the manifest on disk (used from one writer thread,
  then ``close``).

  Consecutive batches whose arrays agree past the first axis (the same length cell of
  ``_plan_frames``) share a shard: each of its ``<name>.npy`` grows batch by batch
  (``jaxdsp._npy_stream``) in a temporary directory, renamed into place when the shard closes;
  only then do its files enter the manifest, so the manifest never points to a missing shard.
  Fewer, larger shards keep file creation cheap (on ext4 it slows down sharply after many recent
  deletions). Rewriting the whole manifest after every shard would cost O(files²) over a large
  corpus, so it is rewritten at most every ``max(1 s, 20 × its last write time)`` (≤ 5 % of the
  time) and always by ``close``, also after an error or Ctrl-C.
  """

  def __init__(self, out: str, manifest: dict[str, Any], manifest_path: str, prefix: str, seq: int):
    self.out, self.manifest, self.manifest_path = out, manifest, manifest_path
    self.prefix, self.seq = prefix, seq
    self.last_write, self.write_cost = -math.inf, 0.0
    self.lock = threading.Lock()
    self.stage = _npy_stream.Stage()
    self.shard: _Shard | None = None
    self.events: dict[str, int] = {}

  def _event(self, name: str) -> None:
    self.events[name] = self.events.get(name, 0) + 1
    _fault_hook(name, self.events[name])

  def _next_name(self) -> str:
    with self.lock:
      name = f"{self.prefix}{self.seq:06d}"
      self.seq += 1
    return name

  def add(self, arrays: dict[str, np.ndarray], ok: list[tuple[str, Any]], failed: dict[str, Any]) -> None:
    """One batch, as ``_collect`` returns it."""
    with self.lock:
      self.manifest["files"].update(failed)
    if ok:
      key = tuple((k, v.dtype.str, v.shape[1:]) for k, v in arrays.items())
      if self.shard is not None and self.shard.key != key:
        self._close_shard()
      opened = self.shard is None
      if opened:
        self._open_shard(key)
      shard = self.shard
      try:
        for k, v in arrays.items():
          shard.streams[k].append(v)
      except BaseException:
        self._abort_shard()  # its streams may hold part of this batch
        raise
      if opened:
        self._event("open")
      for path, rec in ok:
        shard.records[path] = dict(rec, shard=shard.name, index=len(shard.paths))
        shard.paths.append(path)
      shard.nbytes += sum(v.nbytes for v in arrays.values())
      if (len(shard.paths) >= _SHARD_FILES or shard.nbytes >= _SHARD_BYTES
          or time.monotonic() - shard.opened >= _SHARD_SECONDS):
        self._close_shard()
    if time.monotonic() - self.last_write >= max(1.0, 20 * self.write_cost):
      self.flush()

  def _open_shard(self, key: tuple) -> None:
    name = self._next_name()
    tmp = os.path.join(self.out, f"{name}.tmp-{os.getpid()}")
    os.mkdir(tmp)  # a new name of this run: never another run's directory
    streams = {k: _npy_stream.NpyStream(os.path.join(tmp, f"{k}.npy"), self.stage) for k, *_ in key}
    self.shard = _Shard(name=name, tmp=tmp, key=key, streams=streams, opened=time.monotonic())

  def _close_shard(self) -> None:
    shard, self.shard = self.shard, None
    try:
      for stream in shard.streams.values():
        stream.close()
      np.save(os.path.join(shard.tmp, "__paths__.npy"), np.array(shard.paths), allow_pickle=False)
      os.rename(shard.tmp, os.path.join(self.out, shard.name))
    except BaseException:
      self.shard = shard
      self._abort_shard()
      raise
    with self.lock:
      self.manifest["files"].update(shard.records)
    self._event("closed")

  def open_single(self) -> tuple[str, str]:
    """A shard for one long file (``_extract_long``): its name and temporary directory."""
    name = self._next_name()
    tmp = os.path.join(self.out, f"{name}.tmp-{os.getpid()}")
    os.mkdir(tmp)
    return name, tmp

  def commit_single(self, name: str, tmp: str, path: str, record: dict[str, Any]) -> None:
    """Renames a long file's shard into place, then records it (called while no batch is queued)."""
    try:
      np.save(os.path.join(tmp, "__paths__.npy"), np.array([path]), allow_pickle=False)
      os.rename(tmp, os.path.join(self.out, name))
    except BaseException:
      self.abort_single(tmp)
      raise
    with self.lock:
      self.manifest["files"][path] = dict(record, shard=name, index=0)
    self._event("closed")
    if time.monotonic() - self.last_write >= max(1.0, 20 * self.write_cost):
      self.flush()

  @staticmethod
  def abort_single(tmp: str) -> None:
    shutil.rmtree(tmp, ignore_errors=True)

  def _abort_shard(self) -> None:
    shard, self.shard = self.shard, None
    for stream in shard.streams.values():
      stream.abort()
    shutil.rmtree(shard.tmp, ignore_errors=True)

  def flush(self) -> None:
    with self.lock:
      t = time.monotonic()
      _write_manifest(self.manifest_path, self.manifest)
      self.last_write, self.write_cost = time.monotonic(), time.monotonic() - t
    self._event("flushed")

  def close(self) -> None:
    """Closes the open shard and writes the manifest (the end of a run, or its interruption)."""
    try:
      if self.shard is not None:
        self._close_shard()
    finally:
      self.flush()
      self.stage.close()


# ---------------------------------------------------------------------------------------------
# Reading back.


def load_features(out: str | os.PathLike, *, names: Iterable[str] | None = None,
                  paths: Iterable[str] | None = None) -> dict[str, dict[str, np.ndarray]]:
  """Reads the features an :func:`extract` run wrote to ``out``.

  Every row read is checked against its shard's ``__paths__``; a manifest may name only shards
  inside ``out`` (a plain shard name: never an absolute path or ``..``).

  Args:
    out: the output directory of :func:`extract`.
    names: features to read (default: all that were extracted).
    paths: files to read (default: every file recorded as ``"ok"``).

  Returns:
    ``{path: {feature name: array}}`` in sorted path order; arrays have the shapes
    :func:`jaxdsp.features` gives for one signal.

  Raises:
    FileNotFoundError: ``out`` holds no manifest.
    KeyError: a requested path that is not recorded as ``"ok"``.
    ValueError: a malformed manifest, a record naming a shard outside ``out``, or a row that
      belongs to another file (a damaged directory: rerun :func:`extract` to repair it).

  Examples:
    >>> from jaxdsp import batch
    >>> feats = batch.load_features("feats")                     # doctest: +SKIP
  """
  out = os.fspath(out)
  manifest = load_manifest(out)
  if manifest["config"] is None:
    raise FileNotFoundError(f"out: no jaxdsp.batch manifest in {out!r}")
  ok = {p: r for p, r in manifest["files"].items() if r["status"] == "ok"}
  wanted = sorted(ok) if paths is None else [os.path.abspath(os.fspath(p)) for p in paths]
  for p in wanted:
    if p not in ok:
      raise KeyError(f"paths: {p!r} has no features in {out!r}")
  names = manifest["config"]["features"] if names is None else list(names)
  by_shard: dict[str, list[str]] = {}
  for p in wanted:
    shard = ok[p].get("shard")
    if not _valid_shard(shard):
      raise ValueError(f"the manifest of {out!r} gives {p!r} the shard {shard!r}, which is not a shard "
                       f"inside the directory (refused)")
    if not isinstance(ok[p].get("index"), int) or ok[p]["index"] < 0:
      raise ValueError(f"the manifest of {out!r} gives {p!r} a bad row index {ok[p].get('index')!r}")
    by_shard.setdefault(shard, []).append(p)
  result: dict[str, dict[str, np.ndarray]] = {}
  for shard, shard_paths in by_shard.items():
    if shard.endswith(".npz"):  # format jaxdsp.batch/1
      with np.load(os.path.join(out, shard)) as data:
        for p in shard_paths:
          i = ok[p]["index"]
          result[p] = {n: data[f"{i}/{n}"] for n in names}
      continue
    listed = np.load(os.path.join(out, shard, "__paths__.npy"), allow_pickle=False)
    arrays = {n: np.load(os.path.join(out, shard, f"{n}.npy"), mmap_mode="r") for n in names}
    for p in shard_paths:
      i, t = ok[p]["index"], ok[p]["n_frames"]
      if i >= len(listed) or str(listed[i]) != p:
        raise ValueError(f"{os.path.join(out, shard)}: row {i} does not hold {p!r} (a damaged output "
                         f"directory; run extract on it again to recompute the file)")
      result[p] = {n: np.array(a[i, ..., :t]) for n, a in arrays.items()}
  return {p: result[p] for p in wanted}
