"""Pitch and onset speed: jaxdsp vs librosa, side by side in one run (default 64 clips × 4 s at
22.05 kHz, built from the shipped speech and music clips with a little noise).

Rows: ``pyin`` (fmin 65.4 Hz, fmax 2093 Hz, librosa's defaults otherwise), ``yin`` (same range) and
``onset_strength`` (librosa's defaults; librosa timed with its default BLAS threads and with one, the
faster counted), also with the batch split over one CPU device per core (``jd.batch.use_cpu_cores``,
``jax.shard_map``). jaxdsp runs the whole batch in one jitted call (compilation excluded: a warm-up call
first); librosa loops over the clips (its functions take one clip at a time
for pyin's Viterbi; batched input does not reduce its work). librosa's pyin is slow (about 0.1 s per
second of audio), so by default it is timed on ``--librosa-clips`` clips (8) and its time per clip is
scaled to the batch, which the output says; ``--librosa-clips 0`` times it on every clip.

    python benchmarks/bench_pitch_onset.py                 # 64 × 4 s
    python benchmarks/bench_pitch_onset.py --quick         # 8 × 1 s
"""

from __future__ import annotations

import argparse
import pathlib

import jax
import librosa
import numpy as np
import soundfile as sf

import jaxdsp as jd
from _timing import median_time

DATA = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data"


def make_batch(n_clips: int, seconds: float, sr: int = 22050) -> np.ndarray:
  rng = np.random.default_rng(12345)
  sources = [sf.read(DATA / name, dtype="float32")[0] for name in ("speech_22k.wav", "music_22k.wav")]
  n = int(seconds * sr)
  out = np.empty((n_clips, n), np.float32)
  for i in range(n_clips):
    src = sources[i % 2]
    start = rng.integers(0, len(src))
    out[i] = np.resize(np.roll(src, -start), n) + 1e-3 * rng.standard_normal(n).astype(np.float32)
  return out


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--clips", type=int, default=64)
  parser.add_argument("--seconds", type=float, default=4.0)
  parser.add_argument("--repeats", type=int, default=3)
  parser.add_argument("--librosa-clips", type=int, default=8, help="clips librosa's pyin is timed on (0: all)")
  parser.add_argument("--quick", action="store_true", help="8 clips × 1 s")
  args = parser.parse_args()
  if args.quick:
    args.clips, args.seconds, args.repeats = 8, 1.0, 1
  sr, fmin, fmax = 22050, 65.4, 2093.0
  n_dev = jd.batch.use_cpu_cores()  # before any computation; only the sharded onset row uses the extra devices
  x = make_batch(args.clips, args.seconds, sr)
  xd = jax.device_put(x)
  print(f"batch: {args.clips} clips × {args.seconds:g} s at {sr} Hz; jax {jax.__version__} on "
        f"{jax.devices()[0].platform}; median of {args.repeats}")

  rows = []
  # pyin
  jd_pyin = lambda: jax.block_until_ready(jd.pyin(xd, fmin=fmin, fmax=fmax, sr=sr))
  t_jd = median_time(jd_pyin, args.repeats, warmup=True)
  k = args.clips if args.librosa_clips <= 0 else min(args.librosa_clips, args.clips)
  librosa.pyin(x[0, :sr // 2], fmin=fmin, fmax=fmax, sr=sr)  # warm-up: numba compiles librosa's kernels
  t_lr = median_time(lambda: [librosa.pyin(c, fmin=fmin, fmax=fmax, sr=sr) for c in x[:k]], 1, warmup=False)
  t_lr *= args.clips / k
  rows.append(("pyin", t_jd, t_lr, "" if k == args.clips else f"(librosa timed on {k} clips, scaled)"))
  # yin
  t_jd = median_time(lambda: jax.block_until_ready(jd.yin(xd, fmin=fmin, fmax=fmax, sr=sr)), args.repeats,
                     warmup=True)
  t_lr = median_time(lambda: [librosa.yin(c, fmin=fmin, fmax=fmax, sr=sr) for c in x], args.repeats, warmup=True)
  rows.append(("yin", t_jd, t_lr, ""))
  # onset strength
  t_jd = median_time(lambda: jax.block_until_ready(jd.onset_strength(xd, sr=sr)), args.repeats, warmup=True)
  t_lr = median_time(lambda: [librosa.onset.onset_strength(y=c, sr=sr) for c in x], args.repeats, warmup=True)
  try:  # its mel product is a BLAS call: with one thread too (on a loaded machine threaded BLAS slows down)
    from threadpoolctl import threadpool_limits  # pylint: disable=import-outside-toplevel
    with threadpool_limits(1, user_api="blas"):
      t_lr = min(t_lr, median_time(lambda: [librosa.onset.onset_strength(y=c, sr=sr) for c in x], args.repeats,
                                   warmup=True))
  except ImportError:
    pass
  rows.append(("onset_strength", t_jd, t_lr, "(librosa: the faster of its default BLAS threads and one)"))
  if jax.default_backend() == "cpu" and n_dev > 1 and args.clips % n_dev == 0:
    # One CPU device per core, the batch split over them: XLA:CPU runs the small kernels of the chunked
    # CPU layout on one thread, so one device leaves the second core partly idle.
    from jax.sharding import NamedSharding, PartitionSpec  # pylint: disable=import-outside-toplevel
    mesh = jax.make_mesh((n_dev,), ("data",), axis_types=(jax.sharding.AxisType.Auto,))
    x_sh = jax.device_put(x, NamedSharding(mesh, PartitionSpec("data")))
    onset = jax.jit(jax.shard_map(lambda c: jd.onset_strength(c, sr=sr), mesh=mesh, in_specs=PartitionSpec("data"),
                                  out_specs=PartitionSpec("data")))
    t_sh = median_time(lambda: jax.block_until_ready(onset(x_sh)), args.repeats, warmup=True)
    rows.append(("onset_strength", t_sh, t_lr, f"({n_dev} CPU devices, shard_map: jd.batch.use_cpu_cores)"))

  print(f"{'function':<16}{'jaxdsp (s)':>12}{'librosa (s)':>13}{'× faster':>10}")
  for name, a, b, note in rows:
    print(f"{name:<16}{a:>12.3f}{b:>13.3f}{b / a:>10.1f}  {note}")


if __name__ == "__main__":
  main()
