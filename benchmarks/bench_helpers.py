"""Feature helpers: jaxdsp vs librosa in one run: ``delta`` (of MFCC-like features),
``spectral_contrast`` (from a ready magnitude spectrogram), ``pcen`` (of a mel spectrogram) and
``chroma_stft`` (from the signal, librosa's defaults: ``tuning=None`` estimates each clip's tuning).

The inputs are a batch of clips (default 64 × 4 s at 22.05 kHz, i.e. 173 frames each): ``delta``
of ``(batch, 40, n_frames)`` features (width 9, order 1, ``mode="interp"``), ``spectral_contrast``
of ``(batch, 1025, n_frames)`` magnitudes, ``pcen`` of ``(batch, 128, n_frames)`` mel spectra,
``chroma_stft`` of the shipped speech and music clips (``bench_pitch_onset.make_batch``; also with
``tuning=0``). jaxdsp runs the whole batch under ``jax.jit`` (outputs waited for); librosa runs on
the same batch array (its functions take leading axes; not ``chroma_stft``, whose tuning estimate
would pool the clips) and looped clip by clip, each both with its default BLAS threads and with one
(``threadpoolctl``; on a loaded machine threaded BLAS calls slow down many times), and its fastest
of these is the reference. Each time is the median of ``--repeats`` runs after a warm-up call
(compilation excluded). Prints the times and librosa's best over jaxdsp ("× faster").

    python benchmarks/bench_helpers.py            # 64 clips × 4 s
    python benchmarks/bench_helpers.py --quick    # 8 clips × 1 s
"""

from __future__ import annotations

import argparse
import os
import sys

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _timing import median_time  # noqa: E402  pylint: disable=wrong-import-position
from bench_pitch_onset import make_batch  # noqa: E402  pylint: disable=wrong-import-position

import jaxdsp as jd  # noqa: E402  pylint: disable=wrong-import-position


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--batch", type=int, default=64)
  parser.add_argument("--seconds", type=float, default=4.0)
  parser.add_argument("--repeats", type=int, default=5)
  parser.add_argument("--quick", action="store_true", help="8 clips × 1 s, 3 repeats")
  args = parser.parse_args()
  if args.quick:
    args.batch, args.seconds, args.repeats = 8, 1.0, 3
  import librosa  # pylint: disable=import-outside-toplevel

  sr, hop = 22050, 512
  n_frames = 1 + int(args.seconds * sr) // hop
  rng = np.random.default_rng(0)
  feats = rng.standard_normal((args.batch, 40, n_frames)).cumsum(axis=-1).astype(np.float32)
  mag = (rng.gamma(0.5, 1.0, (args.batch, 1025, n_frames)) * np.geomspace(1, 1e-3, 1025)[:, None]).astype(np.float32)
  mel = (rng.gamma(0.5, 1.0, (args.batch, 128, n_frames)) * 2**20).astype(np.float32)
  clips = make_batch(args.batch, args.seconds, sr)
  print(f"jax {jax.__version__} on {jax.devices()[0].platform}; librosa {librosa.__version__}; "
        f"{args.batch} clips × {args.seconds:g} s ({n_frames} frames); median of {args.repeats}; "
        f"{os.cpu_count()} CPUs")

  cases = {
      "delta": (jax.jit(lambda x: jd.delta(x)), feats, lambda x: librosa.feature.delta(x)),
      "spectral_contrast": (jax.jit(lambda s: jd.spectral_contrast(S=s, sr=sr)), mag,
                            lambda s: librosa.feature.spectral_contrast(S=s, sr=sr)),
      "pcen": (jax.jit(lambda m: jd.pcen(m, sr=sr, hop_length=hop)), mel,
               lambda m: librosa.pcen(m, sr=sr, hop_length=hop)),
      "chroma_stft": (jax.jit(lambda y: jd.chroma_stft(y, sr=sr)), clips,
                      lambda y: librosa.feature.chroma_stft(y=y, sr=sr)),
      "chroma_stft tuning=0": (jax.jit(lambda y: jd.chroma_stft(y, sr=sr, tuning=0.0)), clips,
                               lambda y: librosa.feature.chroma_stft(y=y, sr=sr, tuning=0.0)),
  }
  loop_only = ("chroma_stft", "chroma_stft tuning=0")
  print(f"{'function':>20} {'jaxdsp (s)':>11} {'librosa batch (s)':>18} {'librosa loop (s)':>17} {'× faster':>9}")
  for name, (ours, x, ref) in cases.items():
    xj = jnp.asarray(x)
    t_ours = median_time(lambda: jax.block_until_ready(ours(xj)), args.repeats, warmup=True)
    t_batch = min(librosa_time(lambda: ref(x), args.repeats)) if name not in loop_only else float("nan")
    t_loop = min(librosa_time(lambda: [ref(row) for row in x], args.repeats))
    best = min(t_loop, t_batch) if name not in loop_only else t_loop
    print(f"{name:>20} {t_ours:11.4f} {t_batch:18.4f} {t_loop:17.4f} {best / t_ours:9.1f}")


def librosa_time(fn, repeats: int) -> tuple[float, float]:
  """Median times of ``fn`` with librosa's default BLAS threads and with one (when threadpoolctl is there)."""
  times = [median_time(fn, repeats, warmup=True)]
  try:
    from threadpoolctl import threadpool_limits  # pylint: disable=import-outside-toplevel
  except ImportError:
    return tuple(times)
  with threadpool_limits(1, user_api="blas"):
    times.append(median_time(fn, repeats, warmup=True))
  return tuple(times)


if __name__ == "__main__":
  main()
