"""Constant-Q and chroma speed: jaxdsp vs librosa (and nnAudio when installed), in one run on the same
clips (default 256 × 4 s of the shipped music example at 22.05 kHz, each clip from another offset).

* ``cqt`` (84 bins from C1, hop 512): ``jd.cqt`` under ``jax.jit`` on the whole batch, with librosa's
  ``res_type`` (``jd.resample`` between octaves: librosa's numbers) and with ``res_type="halfband"``
  (a 63-tap decimator); on accelerators the one-kernel form. librosa ``cqt`` looped over clips.
  nnAudio's ``CQT2010v2`` on the torch CPU when it imports, else "not installed".
* ``chroma_stft`` (n_fft 2048, hop 512, ``tuning=0``): ``jd.chroma_stft`` under ``jax.jit`` on one device,
  and sharded over one CPU device per core (``jaxdsp.batch.use_cpu_cores``, ``jax.shard_map``: XLA:CPU runs the small
  kernels of the chunked CPU layout on one thread, so one device leaves the second core partly idle), vs librosa looped over clips; and
  ``tuning=None`` (each example's own estimate) under ``jax.jit`` vs librosa's ``chroma_stft`` and ``cqt``
  with ``tuning=None``.
* ``--memory``: peak resident memory of ``jd.cqt`` on one 10-minute signal (in a subprocess).

Every time is the median of ``--repeats`` runs after a warm-up call (compilation excluded). librosa is
timed on the first ``--librosa-clips`` clips (default 32) with one BLAS thread and scaled to the batch
(its cost is linear in the clips); the ratio printed is librosa's time over jaxdsp's.

    python benchmarks/bench_cqt.py              # 256 clips × 4 s
    python benchmarks/bench_cqt.py --quick      # 16 clips × 1 s
    python benchmarks/bench_cqt.py --memory     # also the 10-minute peak memory
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys

import jax
import numpy as np
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec

import jaxdsp as jd
from jaxdsp import batch
from _timing import median_time


def make_clips(n: int, seconds: float, sr: int) -> np.ndarray:
  y, _ = jd.load(jd.example("music"), sr=sr)
  y = np.asarray(y)
  length = int(seconds * sr)
  reps = -(-(length + n * 997) // len(y))
  long = np.tile(y, reps)
  return np.stack([long[i * 997 : i * 997 + length] for i in range(n)]).astype(np.float32)


def blas_one_thread():
  try:
    from threadpoolctl import threadpool_limits  # pylint: disable=import-outside-toplevel
  except ImportError:
    return contextlib.nullcontext()
  return threadpool_limits(1, user_api="blas")


def _memory_child(minutes: float) -> None:
  import resource  # pylint: disable=import-outside-toplevel
  sr = 22050
  y = np.random.default_rng(0).standard_normal(int(minutes * 60 * sr)).astype(np.float32) * 0.1
  base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
  C = jax.block_until_ready(jd.cqt(y, sr=sr))
  peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
  print(f"cqt of {minutes:g} min: output {C.shape}, peak RSS {peak / 2**20:.2f} GB "
        f"(before the call {base / 2**20:.2f} GB)")


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--clips", type=int, default=256)
  parser.add_argument("--seconds", type=float, default=4.0)
  parser.add_argument("--repeats", type=int, default=3)
  parser.add_argument("--librosa-clips", type=int, default=32)
  parser.add_argument("--quick", action="store_true", help="16 clips × 1 s")
  parser.add_argument("--memory", action="store_true", help="peak memory of cqt on a 10-minute signal")
  parser.add_argument("--memory-child", type=float, default=None, help=argparse.SUPPRESS)
  args = parser.parse_args()
  if args.memory_child is not None:
    _memory_child(args.memory_child)
    return
  if args.quick:
    args.clips, args.seconds, args.repeats, args.librosa_clips = 16, 1.0, 2, 8
  n_dev = batch.use_cpu_cores()  # before any computation (only the sharded chroma row uses the extra devices)
  sr = 22050
  y = make_clips(args.clips, args.seconds, sr)
  y_dev = jax.block_until_ready(jax.device_put(y))
  n_lib = min(args.librosa_clips, args.clips)
  print(f"{args.clips} clips × {args.seconds} s at {sr} Hz on {jax.devices()[0].platform}; median of "
        f"{args.repeats}; librosa timed on {n_lib} clips and scaled to {args.clips}")
  import librosa  # pylint: disable=import-outside-toplevel

  rows = []

  def librosa_time(fn):
    with blas_one_thread():
      t = median_time(lambda: [fn(c) for c in y[:n_lib]], args.repeats, warmup=True)
    return t * args.clips / n_lib

  t_lib = librosa_time(lambda c: librosa.cqt(c, sr=sr))
  for label, kw in (("jd.cqt (res_type=None: librosa's numbers)", {}),
                    ("jd.cqt (res_type='halfband')", {"res_type": "halfband"})):
    f = jax.jit(lambda x, kw=kw: jd.cqt(x, sr=sr, **kw))
    t = median_time(lambda: jax.block_until_ready(f(y_dev)), args.repeats, warmup=True)
    rows.append((label, t, t_lib))
  rows.append(("librosa.cqt (loop)", t_lib, t_lib))
  try:
    import torch  # pylint: disable=import-outside-toplevel
    from nnAudio import features as nn_features  # pylint: disable=import-outside-toplevel
    layer = nn_features.CQT2010v2(sr=sr, hop_length=512, fmin=32.70, n_bins=84, verbose=False)
    yt = torch.from_numpy(y)
    with torch.no_grad():
      t = median_time(lambda: layer(yt), args.repeats, warmup=True)
    rows.append(("nnAudio CQT2010v2 (torch CPU)", t, t_lib))
  except ImportError:
    rows.append(("nnAudio", None, None))

  t_lib = librosa_time(lambda c: librosa.feature.chroma_stft(y=c, sr=sr, tuning=0.0))
  chroma = lambda x: jd.chroma_stft(x, sr=sr, tuning=0.0)  # noqa: E731
  t = median_time(lambda: jax.block_until_ready(jax.jit(chroma)(y_dev)), args.repeats, warmup=True)
  rows.append(("jd.chroma_stft (1 device)", t, t_lib))
  if jax.default_backend() == "cpu" and n_dev > 1 and args.clips % n_dev == 0:
    mesh = jax.make_mesh((n_dev,), ("data",), axis_types=(jax.sharding.AxisType.Auto,))
    y_sh = jax.device_put(y, NamedSharding(mesh, PartitionSpec("data")))
    f = jax.jit(jax.shard_map(chroma, mesh=mesh, in_specs=PartitionSpec("data"), out_specs=PartitionSpec("data")))
    t = median_time(lambda: jax.block_until_ready(f(y_sh)), args.repeats, warmup=True)
    rows.append((f"jd.chroma_stft ({n_dev} CPU devices, shard_map)", t, t_lib))
  rows.append(("librosa.feature.chroma_stft (loop)", t_lib, t_lib))
  t_lib = librosa_time(lambda c: librosa.feature.chroma_stft(y=c, sr=sr))
  f = jax.jit(lambda x: jd.chroma_stft(x, sr=sr))
  t = median_time(lambda: jax.block_until_ready(f(y_dev)), args.repeats, warmup=True)
  rows.append(("jd.chroma_stft (tuning=None, per example)", t, t_lib))
  rows.append(("librosa.feature.chroma_stft (tuning=None, loop)", t_lib, t_lib))
  t_lib = librosa_time(lambda c: librosa.cqt(c, sr=sr, tuning=None))
  f = jax.jit(lambda x: jd.cqt(x, sr=sr, tuning=None))
  t = median_time(lambda: jax.block_until_ready(f(y_dev)), args.repeats, warmup=True)
  rows.append(("jd.cqt (tuning=None, per example, under jit)", t, t_lib))
  rows.append(("librosa.cqt (tuning=None, loop)", t_lib, t_lib))

  width = max(len(r[0]) for r in rows)
  print(f"\n{'':<{width}}  {'seconds':>8}  {'librosa / this':>14}")
  for label, t, ref in rows:
    if t is None:
      print(f"{label:<{width}}  {'not installed':>8}")
    else:
      print(f"{label:<{width}}  {t:8.3f}  {ref / t:14.2f}")

  if args.memory:
    out = subprocess.run([sys.executable, __file__, "--memory-child", "10"], capture_output=True, text=True,
                         check=False)
    print("\n" + (out.stdout.strip() or out.stderr.strip()[-2000:]))


if __name__ == "__main__":
  main()
