"""Full feature set, jaxdsp vs librosa vs librosax vs torch, in one run on the same clips.

Feature set: STFT magnitude, spectral centroid, bandwidth, rolloff, RMS, ZCR and a 64-band mel
spectrogram (n_fft=2048, hop=512, centred), on a batch of clips (default 256 × 4 s at 22.05 kHz).

* jaxdsp: ``jd.features`` (one jitted pass sharing one STFT), whole batch at once.
* librosa: one STFT per clip, the spectral features from ``S=`` (librosa's own best practice), RMS
  and ZCR from ``y``, looped over clips (batched input would not reduce work in librosa).
* librosax: the JAX port, ``jit(vmap(...))`` over the batch, each feature as its own function (as its
  API offers), STFT magnitude passed as ``S`` where accepted.
* torch: ``torch.stft`` (CPU) of the batch alone, the STFT-only baseline; jaxdsp's ``stft`` alone is
  timed next to it.

Prints the median of ``--repeats`` runs after a warm-up (compilation excluded) and ratios.

    python benchmarks/bench_features.py            # 256 clips × 4 s
    python benchmarks/bench_features.py --quick    # 16 clips × 1 s
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import numpy as np

import jaxdsp as jd
from _timing import median_time

NAMES = ("spectrogram", "spectral_centroid", "spectral_bandwidth", "spectral_rolloff", "rms",
         "zero_crossing_rate", "melspectrogram")


def make_clips(n_clips: int, seconds: float, sr: int) -> np.ndarray:
  """Music/speech-like test clips: harmonic notes with vibrato and envelopes, plus noise bursts."""
  rng = np.random.default_rng(12345)
  n = int(seconds * sr)
  t = np.arange(n) / sr
  clips = np.empty((n_clips, n), np.float32)
  for i in range(n_clips):
    f0 = rng.uniform(80, 800)
    vib = 1 + 0.01 * np.sin(2 * np.pi * rng.uniform(3, 7) * t)
    phase = 2 * np.pi * np.cumsum(f0 * vib) / sr
    x = sum(np.sin(k * phase) / k for k in range(1, 8))
    env = np.clip(np.sin(np.pi * (t * rng.uniform(0.5, 3)) % np.pi), 0, 1)
    burst = (rng.standard_normal(n) * (rng.uniform(size=n // 512 + 1) < 0.1).repeat(512)[:n]) * 0.3
    clips[i] = (0.3 * x * env + burst).astype(np.float32)
  return clips


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--clips", type=int, default=256)
  parser.add_argument("--seconds", type=float, default=4.0)
  parser.add_argument("--sr", type=int, default=22050)
  parser.add_argument("--repeats", type=int, default=3)
  parser.add_argument("--quick", action="store_true", help="16 clips × 1 s")
  parser.add_argument("--skip", nargs="*", default=[], help="contenders to skip: librosa librosax torch")
  args = parser.parse_args()
  if args.quick:
    args.clips, args.seconds, args.repeats = 16, 1.0, 2
  sr = args.sr
  y = make_clips(args.clips, args.seconds, sr)
  y_dev = jax.device_put(y)
  print(f"{args.clips} clips × {args.seconds} s at {sr} Hz on {jax.devices()[0].platform} "
        f"({jax.device_count()} device(s)); median of {args.repeats}")
  results: dict[str, float] = {}

  results["jaxdsp features()"] = median_time(
      lambda: jax.block_until_ready(jd.features(y_dev, sr=sr, names=NAMES, n_mels=64)), args.repeats, warmup=True)
  results["jaxdsp stft (complex)"] = median_time(lambda: jax.block_until_ready(jd.stft(y_dev)), args.repeats, warmup=True)

  if "librosa" not in args.skip:
    import librosa

    def run_librosa():
      for clip in y:
        S = np.abs(librosa.stft(clip))
        librosa.feature.spectral_centroid(S=S, sr=sr)
        librosa.feature.spectral_bandwidth(S=S, sr=sr)
        librosa.feature.spectral_rolloff(S=S, sr=sr)
        librosa.feature.rms(y=clip)
        librosa.feature.zero_crossing_rate(clip)
        librosa.feature.melspectrogram(S=S ** 2, sr=sr, n_mels=64)
    results["librosa (loop)"] = median_time(run_librosa, max(1, args.repeats - 1), warmup=True)
    try:  # OpenBLAS's 2 threads spin on librosa's small mel matmul: one thread is librosa's best
      from threadpoolctl import threadpool_limits
      with threadpool_limits(1):
        results["librosa (loop, 1 BLAS thread)"] = median_time(run_librosa, max(1, args.repeats - 1), warmup=True)
    except ImportError:
      pass

  if "librosax" not in args.skip:
    try:
      import librosax
      import librosax.feature as lf

      def one_clip(x):
        S = jnp.abs(librosax.stft(x, n_fft=2048, hop_length=512))
        return (S, lf.spectral_centroid(S=S, sr=sr), lf.spectral_bandwidth(S=S, sr=sr),
                lf.spectral_rolloff(S=S, sr=sr), lf.rms(y=x), lf.zero_crossing_rate(x),
                lf.melspectrogram(S=S ** 2, sr=sr, n_mels=64))
      run_librosax = jax.jit(jax.vmap(one_clip))  # its spectral features broadcast over one clip only
      results["librosax (jit)"] = median_time(lambda: jax.block_until_ready(run_librosax(y_dev)), args.repeats, warmup=True)
    except Exception as e:  # an optional peer: report, don't fail
      print(f"librosax skipped: {type(e).__name__}: {e}")

  if "torch" not in args.skip:
    try:
      import torch
      yt = torch.from_numpy(y)
      win = torch.hann_window(2048)
      results["torch.stft (complex)"] = median_time(
          lambda: torch.stft(yt, 2048, 512, window=win, center=True, pad_mode="constant", return_complex=True),
          args.repeats, warmup=True)
    except ImportError:
      print("torch not installed: skipped")

  base = results["jaxdsp features()"]
  print(f"\n{'contender':28s} {'time (s)':>10s} {'× jaxdsp features()':>20s}")
  for name, t in results.items():
    print(f"{name:28s} {t:10.3f} {t / base:20.2f}")
  if "torch.stft (complex)" in results:
    print(f"\njaxdsp stft / torch.stft time ratio: {results['jaxdsp stft (complex)'] / results['torch.stft (complex)']:.2f}"
          " (≤ 1 means jaxdsp's STFT is no slower)")
  librosa_best = min((t for k, t in results.items() if k.startswith("librosa (")), default=None)
  if librosa_best is not None:
    print(f"speed-up of jaxdsp features() over librosa's faster configuration: {librosa_best / base:.1f}×")


if __name__ == "__main__":
  main()
