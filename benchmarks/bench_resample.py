"""Resampling speed: jaxdsp.resample vs soxr HQ vs librosa.resample vs scipy resample_poly.

    python benchmarks/bench_resample.py                 # 64 clips x 4 s, 44.1 kHz -> 22.05 kHz
    python benchmarks/bench_resample.py --quick         # 4 clips x 1 s
    python benchmarks/bench_resample.py --orig-sr 48000 --target-sr 16000

Every contender resamples the same float32 batch ``(clips, seconds·orig_sr)`` in one process.
jaxdsp is jitted once (warm-up excluded) and blocked on; each time is the median of ``--repeats``
runs. "its time / jaxdsp" > 1 means jaxdsp is faster. The last column is each result's agreement
with soxr HQ (librosa's default resampler): the SNR of the spectrum below
0.8 × the target Nyquist (see DESIGN.md), over the whole batch.
"""

from __future__ import annotations

import argparse
import functools
import math

import jax
import numpy as np

from _timing import median_time


def _banded_snr(ref: np.ndarray, est: np.ndarray, sr: float) -> float:
  n = min(ref.shape[-1], est.shape[-1])
  R = np.fft.rfft(ref[..., :n].astype(np.float64), axis=-1)
  E = np.fft.rfft(est[..., :n].astype(np.float64), axis=-1)
  band = np.fft.rfftfreq(n, 1.0 / sr) < 0.4 * sr
  noise = np.sum(np.abs(R[..., band] - E[..., band]) ** 2)
  return float(10 * np.log10(np.sum(np.abs(R[..., band]) ** 2) / noise)) if noise else math.inf


def _signals(clips: int, n: int, sr: int) -> np.ndarray:
  """Band-limited test audio: seeded noise shaped like music (1/f) plus a few tones."""
  rng = np.random.default_rng(12345)
  spec = np.fft.rfft(rng.standard_normal((clips, n)), axis=-1)
  f = np.fft.rfftfreq(n, 1.0 / sr)
  spec /= np.sqrt(np.maximum(f, 50.0))
  y = np.fft.irfft(spec, n=n, axis=-1)
  t = np.arange(n) / sr
  y += 0.3 * np.sin(2 * np.pi * rng.uniform(100, 4000, (clips, 1)) * t)
  return (0.5 * y / np.max(np.abs(y), axis=-1, keepdims=True)).astype(np.float32)


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--clips", type=int, default=64)
  parser.add_argument("--seconds", type=float, default=4.0)
  parser.add_argument("--orig-sr", type=int, default=44100)
  parser.add_argument("--target-sr", type=int, default=22050)
  parser.add_argument("--repeats", type=int, default=5)
  parser.add_argument("--quick", action="store_true", help="4 clips x 1 s, 2 repeats")
  args = parser.parse_args()
  if args.quick:
    args.clips, args.seconds, args.repeats = 4, 1.0, 2

  import jaxdsp as jd  # pylint: disable=g-import-not-at-top

  o, t = args.orig_sr, args.target_sr
  n = int(args.seconds * o)
  y = _signals(args.clips, n, o)
  print(f"{args.clips} clips x {args.seconds:g} s, {o} Hz -> {t} Hz, float32, "
        f"jax {jax.__version__} on {jax.devices()[0].platform}, median of {args.repeats}")

  contenders = {}
  y_dev = jax.device_put(y)
  jd_fn = jax.jit(functools.partial(jd.resample, orig_sr=o, target_sr=t))
  jax.block_until_ready(jd_fn(y_dev))  # compile
  contenders["jaxdsp.resample (jit)"] = lambda: jax.block_until_ready(jd_fn(y_dev))

  try:
    import soxr  # pylint: disable=g-import-not-at-top
    y_frames = np.ascontiguousarray(y.T)  # soxr takes (frames, channels)
    contenders["soxr HQ (all clips as channels)"] = (
        lambda: soxr.resample(y_frames, o, t, quality="HQ").T)
    contenders["soxr HQ (loop over clips)"] = (
        lambda: np.stack([soxr.resample(c, o, t, quality="HQ") for c in y]))
  except ImportError:
    print("soxr not installed: skipped")
  try:
    import librosa  # pylint: disable=g-import-not-at-top
    contenders["librosa.resample (soxr_hq)"] = (
        lambda: librosa.resample(y, orig_sr=o, target_sr=t))
  except ImportError:
    print("librosa not installed: skipped")
  try:
    import scipy.signal  # pylint: disable=g-import-not-at-top
    g = math.gcd(o, t)
    contenders["scipy.signal.resample_poly"] = (
        lambda: scipy.signal.resample_poly(y, t // g, o // g, axis=-1))
  except ImportError:
    print("scipy not installed: skipped")

  results, times = {}, {}
  for name, fn in contenders.items():
    results[name] = np.asarray(fn())  # also a warm-up
    times[name] = median_time(fn, args.repeats)
  ref = results.get("librosa.resample (soxr_hq)")
  if ref is None:
    ref = results.get("soxr HQ (loop over clips)")
  ours = times["jaxdsp.resample (jit)"]
  print(f"{'contender':34s} {'time (s)':>9s} {'its time / jaxdsp':>18s} {'SNR vs soxr HQ':>15s}")
  for name, sec in times.items():
    snr = "n/a" if ref is None else _banded_snr(ref, results[name], t)
    snr = snr if isinstance(snr, str) else ("reference" if snr == math.inf else f"{snr:.1f} dB")
    print(f"{name:34s} {sec:9.4f} {sec / ours:17.2f}x {snr:>15s}")


if __name__ == "__main__":
  main()
