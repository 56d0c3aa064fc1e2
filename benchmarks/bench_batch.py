"""Batch feature extraction from disk: ``jaxdsp.batch.extract`` vs a librosa loop and a librosa pool.

Writes ``--n-files`` clips of ``--seconds`` s (22.05 kHz, 16-bit WAV) to a temporary directory,
then times, in one run on the same files:

* ``jaxdsp.batch.extract``: decode threads + one jitted, device-sharded ``features`` pass per batch,
  every feature written to .npy shards with a manifest (JIT warmed up first on other files), with
  one JAX CPU device per core (``jaxdsp.batch.use_cpu_cores``, as ``jaxdsp extract`` does), and
  again in a subprocess with JAX's default single CPU device;
* a librosa loop: ``librosa.load`` then STFT magnitude (computed once and shared through ``S=``),
  spectral centroid, bandwidth, roll-off, 64-band mel, RMS, ZCR, kept in memory (not written: this
  favours librosa), with one BLAS thread (librosa's fastest setting on this machine);
* the same librosa function over a ``multiprocessing`` pool of ``--workers`` processes;
* a "naive" librosa loop as the course writes it: every feature called on ``y`` (each spectral
  feature recomputes its own STFT).

Feature set: STFT magnitude (n_fft 2048, hop 512), centroid, bandwidth, rolloff, RMS, ZCR, 64-band
mel power spectrogram. Prints files/s, audio-seconds/s and the ratio of jaxdsp to each contender.

  python benchmarks/bench_batch.py                 # 1,000 files x 4 s
  python benchmarks/bench_batch.py --quick         # 40 files
  python benchmarks/bench_batch.py --long-minutes 10   # one long file: memory budgets vs librosa

``--long-minutes M`` times one M-minute file instead, each contender in a fresh interpreter (so its
peak resident memory is its own): ``extract`` with the default ``memory_budget`` (1 GiB), with
64 MiB (the file computed in pieces) and the librosa function, printing wall and CPU time and peak
memory side by side.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import statistics
import tempfile
import time

import numpy as np
import soundfile as sf

SR = 22050
N_FFT = 2048
HOP = 512
N_MELS = 64
NAMES = ("spectrogram", "spectral_centroid", "spectral_bandwidth", "spectral_rolloff", "rms",
         "zero_crossing_rate", "melspectrogram")


def write_corpus(root: str, n_files: int, seconds: float, seed: int = 12345) -> list[str]:
  """Tones with vibrato, noise and silence gaps, as 16-bit WAV (one RNG, deterministic)."""
  rng = np.random.default_rng(seed)
  n = int(seconds * SR)
  t = np.arange(n) / SR
  paths = []
  for i in range(n_files):
    f0 = rng.uniform(80, 2000)
    y = 0.3 * np.sin(2 * np.pi * f0 * t + 3 * np.sin(2 * np.pi * rng.uniform(1, 8) * t))
    y += rng.uniform(0.001, 0.1) * rng.standard_normal(n)
    y *= (np.sin(2 * np.pi * rng.uniform(0.2, 2) * t) > -0.5)
    path = os.path.join(root, f"{i // 100:03d}", f"clip{i:05d}.wav")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    sf.write(path, y.astype(np.float32), SR, subtype="PCM_16")
    paths.append(path)
  return paths


def librosa_features(path: str) -> dict[str, np.ndarray]:
  import librosa  # pylint: disable=import-outside-toplevel
  y, sr = librosa.load(path, sr=SR)
  S = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP))
  return {
      "spectrogram": S,
      "spectral_centroid": librosa.feature.spectral_centroid(S=S, sr=sr, n_fft=N_FFT, hop_length=HOP)[0],
      "spectral_bandwidth": librosa.feature.spectral_bandwidth(S=S, sr=sr, n_fft=N_FFT, hop_length=HOP)[0],
      "spectral_rolloff": librosa.feature.spectral_rolloff(S=S, sr=sr, n_fft=N_FFT, hop_length=HOP)[0],
      "melspectrogram": librosa.feature.melspectrogram(S=S**2, sr=sr, n_fft=N_FFT, n_mels=N_MELS),
      "rms": librosa.feature.rms(y=y, frame_length=N_FFT, hop_length=HOP)[0],
      "zero_crossing_rate": librosa.feature.zero_crossing_rate(y, frame_length=N_FFT, hop_length=HOP)[0],
  }


def librosa_features_naive(path: str) -> dict[str, np.ndarray]:
  import librosa  # pylint: disable=import-outside-toplevel
  y, sr = librosa.load(path, sr=SR)
  kw = dict(sr=sr, n_fft=N_FFT, hop_length=HOP)
  return {
      "spectrogram": np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP)),
      "spectral_centroid": librosa.feature.spectral_centroid(y=y, **kw)[0],
      "spectral_bandwidth": librosa.feature.spectral_bandwidth(y=y, **kw)[0],
      "spectral_rolloff": librosa.feature.spectral_rolloff(y=y, **kw)[0],
      "melspectrogram": librosa.feature.melspectrogram(y=y, n_mels=N_MELS, **kw),
      "rms": librosa.feature.rms(y=y, frame_length=N_FFT, hop_length=HOP)[0],
      "zero_crossing_rate": librosa.feature.zero_crossing_rate(y, frame_length=N_FFT, hop_length=HOP)[0],
  }


def _librosa_summary(path: str) -> float:
  """Pool worker: computes everything, returns a scalar (no large pickles back)."""
  return float(librosa_features(path)["spectral_centroid"].mean())


def run_jaxdsp(root: str, out: str, batch_size: int | None) -> int:
  from jaxdsp import batch  # pylint: disable=import-outside-toplevel
  res = batch.extract(root, NAMES, out=out, sr=SR, n_fft=N_FFT, hop_length=HOP, n_mels=N_MELS,
                      batch_size=batch_size, progress=False)
  if res.n_failed:
    raise RuntimeError(f"jaxdsp extract failed on {res.n_failed} files: {res.failures}")
  return res.n_ok


_ONE_DEVICE = """
import json, os, sys, time
import jax
from jaxdsp import batch
corpus, warm, out, batch_size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]) or None
kw = dict(sr={sr}, n_fft={n_fft}, hop_length={hop}, n_mels={n_mels}, batch_size=batch_size, progress=False)
batch.extract(warm, {names!r}, out=out + "-warm", **kw)
t, c = time.perf_counter(), time.process_time()
res = batch.extract(corpus, {names!r}, out=out, **kw)
print(json.dumps([time.perf_counter() - t, time.process_time() - c, res.n_ok, jax.device_count()]))
"""


def run_jaxdsp_one_device(root: str, warm: str, out: str, batch_size: int | None) -> tuple[float, float]:
  """``extract`` in a fresh interpreter with JAX's default single CPU device (warmed up there first):
  (wall seconds, CPU seconds)."""
  import json  # pylint: disable=import-outside-toplevel
  import subprocess  # pylint: disable=import-outside-toplevel
  import sys  # pylint: disable=import-outside-toplevel
  script = _ONE_DEVICE.format(sr=SR, n_fft=N_FFT, hop=HOP, n_mels=N_MELS, names=NAMES)
  env = {k: v for k, v in os.environ.items() if k != "JAX_NUM_CPU_DEVICES"}
  proc = subprocess.run([sys.executable, "-c", script, root, warm, out, str(batch_size or 0)], env=env,
                        capture_output=True, text=True, check=True)
  wall, cpu, n_ok, n_dev = json.loads(proc.stdout.strip().splitlines()[-1])
  if n_dev != 1 or n_ok == 0:
    raise RuntimeError(f"one-device extract ran on {n_dev} devices and computed {n_ok} files")
  return wall, cpu


def run_librosa_loop(paths: list[str], fn=librosa_features) -> int:
  with _one_blas_thread():
    centroids = [float(fn(p)["spectral_centroid"].mean()) for p in paths]
  return len(centroids)


def _one_blas_thread():
  """librosa's fastest setting here: OpenBLAS's default 2 threads spin on the small mel matmul
  (measured 2.5-3x slower per file on this 2-core machine)."""
  try:
    import threadpoolctl  # pylint: disable=import-outside-toplevel
    return threadpoolctl.threadpool_limits(1, user_api="blas")
  except ImportError:  # pragma: no cover
    import contextlib  # pylint: disable=import-outside-toplevel
    return contextlib.nullcontext()


def _librosa_timed(path: str) -> float:
  """Pool worker: CPU seconds spent on one file."""
  t = time.process_time()
  _librosa_summary(path)
  return time.process_time() - t


def run_librosa_pool(paths: list[str], workers: int) -> tuple[float, float]:
  """Returns (wall seconds, CPU seconds summed over the workers)."""
  ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: no forked JAX state
  blas_vars = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
  saved = {v: os.environ.get(v) for v in blas_vars}
  os.environ.update({v: "1" for v in blas_vars})  # one BLAS thread per worker (inherited at spawn)
  try:
    with ctx.Pool(workers) as pool:
      pool.map(_librosa_summary, paths[:workers])  # start the workers and import librosa (untimed)
      t = time.perf_counter()
      cpu = sum(pool.map(_librosa_timed, paths, chunksize=8))
      return time.perf_counter() - t, cpu
  finally:
    for v, value in saved.items():
      if value is None:
        os.environ.pop(v, None)
      else:
        os.environ[v] = value


def timed(fn, *args) -> tuple[float, float]:
  """(wall seconds, CPU seconds of this process, all threads) of ``fn(*args)``."""
  t, c = time.perf_counter(), time.process_time()
  fn(*args)
  return time.perf_counter() - t, time.process_time() - c


def check_parity(paths: list[str], out: str) -> float:
  """Largest relative difference between jaxdsp's extracted features and librosa's, over a few files."""
  from jaxdsp import batch  # pylint: disable=import-outside-toplevel
  feats = batch.load_features(out, paths=paths)
  worst = 0.0
  for p in paths:
    ref = librosa_features(p)
    for name in NAMES:
      a, b = ref[name], feats[os.path.abspath(p)][name]
      worst = max(worst, float(np.max(np.abs(a - b)) / (np.max(np.abs(a)) + 1e-12)))
  return worst


_LONG = """
import json, resource, sys, time
kind, path, out, budget = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
t, c = time.perf_counter(), time.process_time()
if kind == "jaxdsp":
  from jaxdsp import batch
  batch.use_cpu_cores()
  res = batch.extract(path, {names!r}, out=out, sr={sr}, n_fft={n_fft}, hop_length={hop}, n_mels={n_mels},
                      memory_budget=budget, progress=False)
  assert res.n_ok == 1, res.failures
  pieces = next(iter(batch.load_manifest(out)["files"].values())).get("pieces", 1)
else:
  sys.path.insert(0, {bench_dir!r})
  import bench_batch
  with bench_batch._one_blas_thread():
    bench_batch.librosa_features(path)
  pieces = 1
print(json.dumps([time.perf_counter() - t, time.process_time() - c,
                  resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, pieces]))
"""


def main_long(minutes: float) -> None:
  """One long file: extract under two memory budgets and librosa, each in a fresh interpreter."""
  import json  # pylint: disable=import-outside-toplevel
  import subprocess  # pylint: disable=import-outside-toplevel
  import sys  # pylint: disable=import-outside-toplevel
  tmp = tempfile.mkdtemp(prefix="jaxdsp-bench-long-")
  try:
    n = int(minutes * 60 * SR)
    t = np.arange(n) / SR
    y = 0.3 * np.sin(2 * np.pi * 440 * t + 3 * np.sin(2 * np.pi * 0.5 * t))
    y += 0.01 * np.random.default_rng(0).standard_normal(n)
    path = os.path.join(tmp, "long.wav")
    sf.write(path, y.astype(np.float32), SR, subtype="PCM_16")
    del t, y
    script = _LONG.format(names=NAMES, sr=SR, n_fft=N_FFT, hop=HOP, n_mels=N_MELS,
                          bench_dir=os.path.dirname(os.path.abspath(__file__)))
    rows = {}
    for name, kind, budget in (("jaxdsp extract, 1 GiB budget", "jaxdsp", 1 << 30),
                               ("jaxdsp extract, 64 MiB budget", "jaxdsp", 64 << 20),
                               ("librosa", "librosa", 0)):
      out = os.path.join(tmp, f"out-{budget}")
      proc = subprocess.run([sys.executable, "-c", script, kind, path, out, str(budget)], capture_output=True,
                            text=True, check=True)
      rows[name] = json.loads(proc.stdout.strip().splitlines()[-1])
      shutil.rmtree(out, ignore_errors=True)
  finally:
    shutil.rmtree(tmp, ignore_errors=True)
  print(f"one {minutes:g}-minute file at {SR} Hz, features: {', '.join(NAMES)}; each in a fresh interpreter "
        f"(imports and compilation included); {os.cpu_count()} CPUs, 1-min load average {os.getloadavg()[0]:.1f}")
  ref = rows["librosa"]
  print(f"{'contender':31s} {'wall (s)':>9s} {'CPU (s)':>8s} {'peak RSS (MiB)':>15s} {'pieces':>7s} "
        f"{'wall vs librosa':>16s}")
  for name, (wall, cpu, rss, pieces) in rows.items():
    print(f"{name:31s} {wall:9.2f} {cpu:8.2f} {rss:15.0f} {pieces:7d} {ref[0] / wall:15.2f}x")


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--n-files", type=int, default=1000)
  parser.add_argument("--seconds", type=float, default=4.0)
  parser.add_argument("--batch-size", type=int, default=None, help="default: extract's (8 per CPU device)")
  parser.add_argument("--workers", type=int, default=2, help="librosa multiprocessing pool size")
  parser.add_argument("--repeats", type=int, default=1, help="timed runs of each contender (median)")
  parser.add_argument("--quick", action="store_true", help="40 files (smoke run)")
  parser.add_argument("--skip-naive", action="store_true", help="skip the naive (course-style) librosa loop")
  parser.add_argument("--cpu-devices", type=int, default=None,
                      help="JAX CPU devices for extract (default: one per core, at most 8, as `jaxdsp extract`)")
  parser.add_argument("--skip-one-device", action="store_true",
                      help="skip extract with JAX's default single CPU device (a subprocess)")
  parser.add_argument("--long-minutes", type=float, default=None,
                      help="time one file this long instead (memory budgets vs librosa)")
  args = parser.parse_args()
  if args.long_minutes:
    main_long(args.long_minutes)
    return
  if args.quick:
    args.n_files = min(args.n_files, 40)

  import jax  # pylint: disable=import-outside-toplevel
  from jaxdsp import batch  # pylint: disable=import-outside-toplevel
  n_cpu = batch.use_cpu_cores(n=args.cpu_devices)  # before JAX starts
  tmp = tempfile.mkdtemp(prefix="jaxdsp-bench-batch-")
  try:
    corpus = os.path.join(tmp, "corpus")
    t = time.perf_counter()
    paths = write_corpus(corpus, args.n_files, args.seconds)
    warm = write_corpus(os.path.join(tmp, "warm"), args.batch_size or 64, args.seconds, seed=1)
    print(f"wrote {args.n_files} files x {args.seconds:g} s in {time.perf_counter() - t:.1f} s; "
          f"devices: {jax.devices()}")

    run_jaxdsp(os.path.join(tmp, "warm"), os.path.join(tmp, "out-warm"), args.batch_size)  # JIT warm-up
    librosa_features(warm[0])  # imports and caches (mel filterbank) for librosa
    librosa_features_naive(warm[0])
    pool_name = f"librosa pool ({args.workers} procs)"
    ref = "jaxdsp extract" if jax.default_backend() != "cpu" else f"jaxdsp extract, {n_cpu} CPU dev"
    one = "jaxdsp extract, 1 CPU dev"
    names = ([ref] + ([] if args.skip_one_device or jax.default_backend() != "cpu" or n_cpu == 1 else [one])
             + ["librosa loop", pool_name] + ([] if args.skip_naive else ["librosa loop, naive"]))
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in names}
    loads = [os.getloadavg()[0]]
    for r in range(args.repeats):
      out = os.path.join(tmp, f"out-{r}")
      times[ref].append(timed(run_jaxdsp, corpus, out, args.batch_size))
      if r == 0:
        worst = check_parity(paths[:3], out)
      shutil.rmtree(out)
      if one in times:
        times[one].append(run_jaxdsp_one_device(corpus, os.path.join(tmp, "warm"), out, args.batch_size))
        shutil.rmtree(out)
        shutil.rmtree(out + "-warm")
      times["librosa loop"].append(timed(run_librosa_loop, paths))
      times[pool_name].append(run_librosa_pool(paths, args.workers))
      if not args.skip_naive:
        times["librosa loop, naive"].append(timed(run_librosa_loop, paths, librosa_features_naive))
      loads.append(os.getloadavg()[0])
  finally:
    shutil.rmtree(tmp, ignore_errors=True)

  audio = args.n_files * args.seconds
  med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in times.items()}
  ref_wall, ref_cpu = med[ref]
  print(f"\n{args.n_files} files x {args.seconds:g} s, features: {', '.join(NAMES)} (n_mels={N_MELS}); "
        f"median of {args.repeats} run(s); {os.cpu_count()} CPUs, 1-min load average "
        f"{min(loads):.1f}-{max(loads):.1f} during the runs")
  print(f"{'contender':27s} {'wall (s)':>9s} {'files/s':>8s} {'audio-s/s':>10s} {'jaxdsp speed-up':>16s}"
        f" {'CPU ms/file':>12s} {'CPU ratio':>10s}")
  for name, (wall, cpu) in med.items():
    print(f"{name:27s} {wall:9.2f} {args.n_files / wall:8.1f} {audio / wall:10.0f} {wall / ref_wall:15.2f}x"
          f" {1e3 * cpu / args.n_files:12.2f} {cpu / ref_cpu:9.2f}x")
  print("(speed-up: wall-clock ratio, the bar; CPU ratio: CPU time per file relative to jaxdsp, which is "
        "less sensitive to other load on the machine; jaxdsp writes every feature to disk, librosa keeps "
        "them in memory)")
  print(f"\nparity with librosa on 3 files: max relative difference {worst:.1e}")


if __name__ == "__main__":
  main()
