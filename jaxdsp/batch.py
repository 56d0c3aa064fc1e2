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
    out/shard-p<P>-<K>/      one directory per run of consecutive batches of one length cell (up
                             to 256 files, 256 MiB or 2 s of work), written (and renamed into
                             place) before the manifest mentions it, holding one ``<name>.npy``
                             per feature and ``__paths__.npy``

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
and modification time are unchanged, and computes the rest. A run stopped by an exception or
Ctrl-C closes its open shard and writes its manifest on the way out, so only a hard kill loses
anything: its open shard (at most 2 s of work), whose files are simply computed again (a shard the
manifest does not mention is ignored; the next run removes its temporary directory).

Several hosts: after ``jax.distributed.initialize()``, each process takes every
``process_count()``-th file of the sorted file list, starting at its ``process_index()``, computes
it on its own local devices and writes its own manifest; ``load_features`` merges them.
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
import shutil
import threading
import time
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
_SHARD_RE = re.compile(r"^shard-p(\d+)-(\d+)(\.npz)?$")


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


def load_manifest(out: str | os.PathLike) -> dict[str, Any]:
  """Reads the manifest(s) of an :func:`extract` output directory, merged into one.

  Returns:
    ``{"format": ..., "config": {...}, "files": {path: record}}`` (see the module docstring); an
    empty ``files`` dict when ``out`` holds no manifest.
  """
  merged: dict[str, Any] = {"format": FORMAT, "config": None, "files": {}}
  for path in _manifest_paths(os.fspath(out)):
    with open(path, encoding="utf-8") as f:
      m = json.load(f)
    if m.get("format") not in _READABLE_FORMATS:
      raise ValueError(f"{path} is not a {FORMAT} manifest (format {m.get('format')!r})")
    merged["config"] = merged["config"] or m["config"]
    for name, rec in m["files"].items():
      if name not in merged["files"] or rec["status"] == "ok":
        merged["files"][name] = rec
  return merged


def _atomic_write(path: str, write) -> None:
  tmp = f"{path}.tmp-{os.getpid()}"
  with open(tmp, "wb") as f:
    write(f)
  os.replace(tmp, path)


def _write_manifest(path: str, manifest: dict[str, Any]) -> None:
  _atomic_write(path, lambda f: f.write(json.dumps(manifest, indent=1, sort_keys=True).encode("utf-8")))


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


def _edge_rows(x: jax.Array, lengths: jax.Array, left: int) -> jax.Array:
  """Rows holding a signal of ``lengths`` samples at ``left``, with their padding replaced by the
  first sample before and the last after (``"edge"`` padding, librosa's for the zero-crossing rate).
  """
  i = jnp.arange(x.shape[-1])
  first = x[:, left:left + 1]
  last = jnp.take_along_axis(x, jnp.maximum(left + lengths - 1, 0)[:, None], axis=-1)
  return jnp.where(i < left, first, jnp.where(i >= left + lengths[:, None], last, x))


def _compute(x, lengths, n_frames, *, requests, spec, window, zcr_left):
  """One batch: ``x`` (B, N) pre-padded rows (``center=False`` framing), ``lengths`` and
  ``n_frames`` (B,): the feature core's fused pass over the rows, with each row's ``top_db`` peak
  over its own frames. The zero-crossing rate frames the rows edge-padded instead (``_edge_rows``)
  when ``zcr_left`` is the centre padding. Row by row: each device can run it on its own rows
  (``_compute_fn``)."""
  zcr = [r for r in requests if r[0] == "zero_crossing_rate"]
  rest = tuple(r for r in requests if r[0] != "zero_crossing_rate")
  out = _core.run(x, rest, spec, window=window, n_valid=n_frames) if rest else {}
  if zcr:
    x_zcr = x if zcr_left is None else _edge_rows(x, lengths, zcr_left)
    out.update(_core.run(x_zcr, tuple(zcr), spec))
  return out


@functools.lru_cache(maxsize=16)
def _compute_fn(mesh: jax.sharding.Mesh, requests: tuple, spec: Any, window: str, zcr_left: int | None = None) -> Any:
  """``_compute`` jitted for ``mesh``: with several devices under ``shard_map``, so that each runs
  its own rows (the CPU path's chunk loop, ``jaxdsp._core.map_frames``, would otherwise be
  replicated over the devices after an all-gather of the batch)."""
  fn = functools.partial(_compute, requests=requests, spec=spec, window=window, zcr_left=zcr_left)
  if mesh.devices.size > 1:
    fn = jax.shard_map(fn, mesh=mesh, in_specs=(P("data"),) * 3, out_specs=P("data"))
  return jax.jit(fn)


def use_cpu_cores(*, n: int | None = None) -> int:
  """Has JAX expose ``n`` CPU devices, so that :func:`extract` runs one batch per core at a time.

  XLA:CPU runs one computation per device at a time, and a batch's FFTs on one thread, so with
  JAX's default single CPU device a 2-core machine leaves a core partly idle; with one device per
  core, :func:`extract` shards each batch over them (8 files per device); ``benchmarks/bench_batch.py``
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


def extract(inputs: Any, features: Sequence[str] = _core.DEFAULT_FEATURES, *, out: str | os.PathLike,
            sr: float = 22050, n_fft: int = 2048, hop_length: int = 512, center: bool = True,
            pad_mode: str = "constant", batch_size: int | None = None, devices: Any = None,
            num_workers: int | None = None,
            retry_failed: bool = False, progress: bool = True, **options: Any) -> ExtractResult:
  """Computes features for many audio files on every local device, writing them to ``out``.

  Files are decoded in background threads with :func:`jaxdsp.load` (mono, resampled to ``sr``),
  grouped into batches of similar length (padded to whole frames, one compiled length per cell
  of 8-16 cells per octave, each cell as long as its longest batch: a corpus of equal lengths is
  not padded at all), and each batch goes through one jitted :func:`jaxdsp.features` pass sharded
  over the devices. Results are streamed to disk batch by batch, into shards that each close
  after at most 256 files or 2 s, and then enter the manifest (format: see the module docstring).
  A file that cannot be decoded (missing, empty, corrupt, truncated, too short) is recorded as
  failed with its error and the run goes on. Running again into the same ``out`` resumes:
  finished files are skipped.

  Args:
    inputs: a directory (recursive), a glob pattern, a file, or a sequence of these.
    features: names from :data:`jaxdsp.FEATURE_NAMES`.
    out: output directory (created if needed).
    sr: sample rate every file is resampled to.
    n_fft, hop_length, center, pad_mode: framing, as in :func:`jaxdsp.features`.
    batch_size: files per batch, rounded up to a multiple of the number of devices. Default: 8
      per device on CPU (small batches stay in cache, which gave more throughput than batches of
      32 in ``benchmarks/bench_batch.py``), 64 per device on accelerators.
    devices: ``None`` (all local devices), a number of local devices, or a list of devices. On a
      CPU, :func:`use_cpu_cores` (before JAX starts) makes each core a device.
    num_workers: decoding threads (default ``min(8, os.cpu_count())``).
    retry_failed: recompute files an earlier run recorded as failed.
    progress: show a tqdm progress bar (files/s and audio-seconds/s) on stderr.
    **options: further options of :func:`jaxdsp.features` (``n_mels``, ``fmin``, ``fmax``,
      ``n_mfcc``, ``top_db``, ``roll_percent``, ...); ``window`` must be a name.

  Returns:
    An :class:`ExtractResult` (``n_ok``, ``n_failed``, ``failures``, ``out``, ...).

  Raises:
    FileNotFoundError: an input that does not exist (see :func:`list_files`).
    ValueError: a bad option, or an ``out`` that holds features computed with other settings.

  Examples:
    >>> import jaxdsp as jd
    >>> res = jd.batch.extract("corpus/", ("rms", "melspectrogram"), out="feats", n_mels=64)  # doctest: +SKIP
    >>> feats = jd.batch.load_features("feats")                                               # doctest: +SKIP
    >>> feats["/abs/corpus/a.wav"]["rms"].shape                                               # doctest: +SKIP
    (173,)
  """
  t_start = time.perf_counter()
  names = _core.feature_names(features, "features")
  unknown = set(options) - set(_FEATURE_OPTIONS)
  if unknown:
    raise TypeError(f"extract got unexpected options {sorted(unknown)}; allowed: {_FEATURE_OPTIONS}")
  if "window" in options and not isinstance(options["window"], str):
    raise ValueError(f"window must be a window name for extract, got {options['window']!r}")
  sr = _checks.sample_rate(sr)
  sr = int(sr) if sr == int(sr) else sr
  n_fft = _checks.positive_int(n_fft, "n_fft")
  hop_length = _checks.positive_int(hop_length, "hop_length")
  batch_size = _checks.positive_int(batch_size, "batch_size", allow_none=True)
  if not isinstance(center, (bool, np.bool_)):
    raise TypeError(f"center must be a bool, got {center!r}")
  center = bool(center)
  _checks.choice(pad_mode, "pad_mode", _core.PAD_MODES)
  num_workers = min(8, os.cpu_count() or 2) if num_workers is None else _checks.positive_int(num_workers, "num_workers")
  # Checks every option once (tracing only, no compilation) before any file is touched.
  jax.eval_shape(functools.partial(fused.features, sr=sr, names=names, n_fft=n_fft, hop_length=hop_length,
                                   center=center, pad_mode=pad_mode, **options),
                 jax.ShapeDtypeStruct((2 * n_fft,), jnp.float32))
  # The batch rows are padded on the host, so the device frames them uncentred.
  spec = _core.StftSpec(n_fft, hop_length, options.get("win_length") or n_fft, False, "constant")
  shared = {k: v for k, v in options.items() if k in _core.SHARED_OPTIONS}
  requests = tuple((name, _core.config(name, dict(shared, sr=sr, zcr_pad_mode="constant"))) for name in names)
  # librosa edge-pads for the zero-crossing rate when centring: the rows are re-padded on the device.
  zcr_left = n_fft // 2 if center and "zero_crossing_rate" in names else None
  config = {"features": list(names), "sr": sr, "n_fft": n_fft, "hop_length": hop_length, "center": center,
            "pad_mode": pad_mode, **{k: options[k] for k in sorted(options)}}

  out = os.path.abspath(os.fspath(out))
  files = list_files(inputs)
  pid, pcount = jax.process_index(), jax.process_count()
  files = files[pid::pcount]

  os.makedirs(out, exist_ok=True)
  previous = load_manifest(out)
  if previous["config"] is not None and previous["config"] != json.loads(json.dumps(config)):
    raise ValueError(f"out {out!r} holds features computed with other settings ({previous['config']}); "
                     f"use another out directory or remove it (now: {config})")
  manifest_path = os.path.join(out, _manifest_name(pid, pcount))
  manifest = {"format": FORMAT, "config": config, "files": {}}
  if os.path.exists(manifest_path):
    with open(manifest_path, encoding="utf-8") as f:
      manifest["files"] = json.load(f)["files"]

  def done(path: str) -> bool:
    rec = previous["files"].get(path)
    if rec is None or (rec["status"] == "failed" and retry_failed):
      return False
    return (rec.get("size"), rec.get("mtime_ns")) == _stat(path)

  todo = [p for p in files if not done(p)]
  for p in files:  # carry records made by other processes' manifests into this one
    if p not in todo and p not in manifest["files"]:
      manifest["files"][p] = previous["files"][p]

  mesh = _mesh(devices)
  n_dev = mesh.devices.size
  if batch_size is None:
    batch_size = n_dev * (8 if mesh.devices.flat[0].platform == "cpu" else 64)
  rows_per_batch = -(-batch_size // n_dev) * n_dev
  sharding = NamedSharding(mesh, P("data"))
  compute = _compute_fn(mesh, requests, spec, options.get("window", "hann"), zcr_left)
  prefix = f"shard-p{pid:03d}-"
  for n in os.listdir(out):  # the open shard of a killed run
    if n.startswith(prefix) and ".tmp-" in n:
      shutil.rmtree(os.path.join(out, n), ignore_errors=True)
  shard_seq = 1 + max([int(m.group(2)) for n in os.listdir(out) if (m := _SHARD_RE.match(n))
                       and int(m.group(1)) == pid] or [0])

  n_computed, audio_samples = 0, 0
  sink = _Writer(out, manifest, manifest_path, prefix, shard_seq)
  writer = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="jaxdsp-batch-writer")
  decoder = concurrent.futures.ThreadPoolExecutor(num_workers, thread_name_prefix="jaxdsp-batch-decode")
  pending_writes: list[concurrent.futures.Future] = []
  bar = _progress_bar(len(todo), progress)
  try:
    if todo:
      # Header probes in one loop: threads only traded the GIL (1,000 WAV headers: 0.045 s in one
      # loop, 0.13 s in two threads, 0.2 s with a future per file).
      lengths = [_probe(p, sr) for p in todo]
      order = sorted(range(len(todo)), key=lambda i: (lengths[i], todo[i]))
      batches = [[todo[i] for i in order[k:k + rows_per_batch]] for k in range(0, len(order), rows_per_batch)]
      longest = [max(lengths[i] for i in order[k:k + rows_per_batch]) for k in range(0, len(order), rows_per_batch)]
      plan = _plan_frames(_probe_frames(n, n_fft=n_fft, hop_length=hop_length, center=center, pad_mode=pad_mode)
                          for n in longest)
      decode = functools.partial(_decode, sr=sr, n_fft=n_fft, hop_length=hop_length, center=center,
                                 pad_mode=pad_mode)
      prefetch = 2
      futures = [[decoder.submit(decode, p) for p in b] for b in batches[:prefetch]]
      in_flight = None  # (dispatched device results, decoded files) of the previous batch
      for k in range(len(batches) + 1):
        current = None
        if k < len(batches):
          decoded = [f.result() for f in futures[k]]
          if k + prefetch < len(batches):
            futures.append([decoder.submit(decode, p) for p in batches[k + prefetch]])
          futures[k] = None
          current = _dispatch(decoded, rows_per_batch, sharding, compute, spec, pad_mode, plan)
        if in_flight is not None:
          results, decoded = in_flight
          pending_writes.append(writer.submit(sink.add, *_collect(results, decoded, sr)))
          while len(pending_writes) > 2:
            pending_writes.pop(0).result()
          n_computed += len(decoded)
          audio_samples += sum(d.length for d in decoded)
          bar.update(len(decoded))
          bar.set_postfix_str(f"{audio_samples / sr / max(time.perf_counter() - t_start, 1e-9):.3g} audio-s/s")
        in_flight = current
    for f in pending_writes:
      f.result()
  finally:
    bar.close()
    decoder.shutdown(wait=True, cancel_futures=True)
    writer.shutdown(wait=True)  # queued results are still written, even when interrupted
    sink.close()

  recs = {p: manifest["files"].get(p) for p in files}
  failures = {p: r["error"] for p, r in recs.items() if r is not None and r["status"] == "failed"}
  n_ok = sum(1 for r in recs.values() if r is not None and r["status"] == "ok")
  return ExtractResult(out=out, n_ok=n_ok, n_failed=len(failures), n_computed=n_computed, failures=failures,
                       seconds=time.perf_counter() - t_start, audio_seconds=audio_samples / sr)


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
  results = compute(*(jax.device_put(a, sharding) for a in (x, lengths, n_frames)))
  return results, decoded


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
    ok.append((d.path, {"status": "ok", "length": d.length, "n_frames": d.n_frames, "duration": d.length / sr,
                        "orig_sr": d.orig_sr, "size": size, "mtime_ns": mtime}))
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

  def add(self, arrays: dict[str, np.ndarray], ok: list[tuple[str, Any]], failed: dict[str, Any]) -> None:
    """One batch, as ``_collect`` returns it."""
    with self.lock:
      self.manifest["files"].update(failed)
    if ok:
      key = tuple((k, v.dtype.str, v.shape[1:]) for k, v in arrays.items())
      if self.shard is not None and self.shard.key != key:
        self._close_shard()
      if self.shard is None:
        self._open_shard(key)
      shard = self.shard
      try:
        for k, v in arrays.items():
          shard.streams[k].append(v)
      except BaseException:
        self._abort_shard()  # its streams may hold part of this batch
        raise
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
    name = f"{self.prefix}{self.seq:06d}"
    self.seq += 1
    tmp = os.path.join(self.out, f"{name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    streams = {k: _npy_stream.NpyStream(os.path.join(tmp, f"{k}.npy"), self.stage) for k, *_ in key}
    self.shard = _Shard(name=name, tmp=tmp, key=key, streams=streams, opened=time.monotonic())

  def _close_shard(self) -> None:
    shard, self.shard = self.shard, None
    try:
      for stream in shard.streams.values():
        stream.close()
      np.save(os.path.join(shard.tmp, "__paths__.npy"), np.array(shard.paths), allow_pickle=False)
      final = os.path.join(self.out, shard.name)
      shutil.rmtree(final, ignore_errors=True)  # a shard left by a run killed before its manifest entry
      os.replace(shard.tmp, final)
    except BaseException:
      self.shard = shard
      self._abort_shard()
      raise
    with self.lock:
      self.manifest["files"].update(shard.records)

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
    by_shard.setdefault(ok[p]["shard"], []).append(p)
  result: dict[str, dict[str, np.ndarray]] = {}
  for shard, shard_paths in by_shard.items():
    if shard.endswith(".npz"):  # format jaxdsp.batch/1
      with np.load(os.path.join(out, shard)) as data:
        for p in shard_paths:
          i = ok[p]["index"]
          result[p] = {n: data[f"{i}/{n}"] for n in names}
      continue
    arrays = {n: np.load(os.path.join(out, shard, f"{n}.npy"), mmap_mode="r") for n in names}
    for p in shard_paths:
      i, t = ok[p]["index"], ok[p]["n_frames"]
      result[p] = {n: np.array(a[i, ..., :t]) for n, a in arrays.items()}
  return {p: result[p] for p in wanted}
