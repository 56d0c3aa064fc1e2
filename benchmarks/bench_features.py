"""Feature extraction speed: jaxdsp vs librosa (and librosax, torch, a scipy FFT floor), in one run
on the same clips (default 256 × 4 s at 22.05 kHz). Three sections, chosen with ``--sections``:

``pipeline`` (n_fft ``--n-fft``, default 1024, hop ``--hop-length``, default 512): spectral
centroid, bandwidth, roll-off, RMS, ZCR and a 128-band mel spectrogram of the whole batch, as

* ``jd.features`` under ``jax.jit`` (one pass sharing one STFT);
* the per-function pipeline a librosa user would write, all in one ``jax.jit``: one
  ``jnp.abs(jd.stft(x))`` shared through ``S=`` by the spectral features and the mel spectrogram
  (``S**2``), RMS and ZCR from ``x``;
* librosa, the same six per clip in a loop (one STFT per clip, features from ``S=``, RMS and ZCR
  from ``y``), the baseline;
* the floor: ``scipy.fft.rfft`` (``--fft-workers`` threads) of the same windowed frames alone
  (framed and windowed before timing).

It prints each time, the per-function pipeline over ``features()``, librosa over each ("× faster")
and ``features()`` over the FFT floor.

``per_function`` (same n_fft and hop): each of stft, spectrogram, spectral centroid, bandwidth,
roll-off, flatness, melspectrogram, mfcc, rms and zero_crossing_rate from ``y`` (jaxdsp under
``jax.jit`` on the batch, librosa looped over clips); then those that accept a spectrogram from a
ready, device-resident one (the magnitude ``S = |stft|``; ``S**2`` for the mel spectrogram; the dB
mel spectrogram for mfcc), each next to ``jnp.sum(input, axis=-2)`` under ``jax.jit`` on the same
array, the cost of reading it once.

``existing`` (n_fft 2048, hop 512, 64 mel bands): the full feature set (STFT magnitude, centroid,
bandwidth, roll-off, RMS, ZCR, mel), contender by contender:

* jaxdsp: ``jd.features`` (one jitted pass sharing one STFT), whole batch at once.
* librosa: one STFT per clip, the spectral features from ``S=`` (librosa's own best practice), RMS
  and ZCR from ``y``, looped over clips (batched input would not reduce work in librosa).
* librosax: the JAX port, ``jit(vmap(...))`` over the batch, each feature as its own function (as its
  API offers), STFT magnitude passed as ``S`` where accepted.
* torch: ``torch.stft`` (CPU) of the batch alone, the STFT-only baseline; jaxdsp's ``stft`` alone is
  timed next to it.

Every time is the median of ``--repeats`` runs after a warm-up call (compilation excluded); jaxdsp
outputs are waited for with ``jax.block_until_ready``. In ``pipeline`` and ``per_function`` librosa
runs with ``--librosa-blas-threads`` BLAS threads (default 1: OpenBLAS's threads spin on librosa's
small per-clip matrix products, so one thread is librosa's fastest setting); ``existing`` times it
both with the default threads and with one.

    python benchmarks/bench_features.py                                  # 256 clips × 4 s, all sections
    python benchmarks/bench_features.py --quick                          # 16 clips × 1 s
    python benchmarks/bench_features.py --sections pipeline per_function
    python benchmarks/bench_features.py --hugepages                      # large buffers in huge pages

On CPU a large result or temporary is a fresh allocation on every call, and its first touch
page-faults every 4 KiB page: ``--hugepages`` restarts the script with glibc's malloc asking for
transparent huge pages, and the pipeline section prints the page faults per call
(``docs/performance.md``).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

import jaxdsp as jd
from _timing import hugepages_on, median_time, minor_faults, restart_with_hugepages

NAMES = ("spectrogram", "spectral_centroid", "spectral_bandwidth", "spectral_rolloff", "rms",
         "zero_crossing_rate", "melspectrogram")
PIPELINE_NAMES = ("spectral_centroid", "spectral_bandwidth", "spectral_rolloff", "rms", "zero_crossing_rate",
                  "melspectrogram")
SECTIONS = ("pipeline", "per_function", "existing")


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


def time_jit(fn: Callable, arg: jax.Array, repeats: int) -> float:
  """Median time of ``fn(arg)`` (a jitted function), waited for; the first (compiling) call is not timed."""
  return median_time(lambda: jax.block_until_ready(fn(arg)), repeats, warmup=True)


def librosa_threads(args: argparse.Namespace):
  """Context in which librosa is timed: ``--librosa-blas-threads`` BLAS threads (0: the default)."""
  if args.librosa_blas_threads <= 0:
    return contextlib.nullcontext()
  from threadpoolctl import threadpool_limits
  return threadpool_limits(args.librosa_blas_threads, user_api="blas")


def ms(t: float | None) -> str:
  if t is None:
    return "-"
  return f"{t * 1e3:.2f}" if t < 0.01 else f"{t * 1e3:.1f}"


def ratio(a: float | None, b: float | None) -> str:
  return "-" if a is None or b is None else f"{a / b:.2f}"


def print_table(title: str, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
  widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
  print(f"\n{title}")
  for r in [header, *rows]:
    print("  ".join([f"{r[0]:<{widths[0]}}"] + [f"{c:>{w}}" for c, w in zip(r[1:], widths[1:])]))


def faults_per_call(fn: Callable, arg) -> int:
  """Minor page faults of one (compiled) call: each first touch of a fresh page of its results and
  temporaries, which XLA:CPU allocates anew per call (docs/performance.md)."""
  before = minor_faults()
  jax.block_until_ready(fn(arg))
  return minor_faults() - before


def pipeline_section(args: argparse.Namespace, y: np.ndarray, y_dev: jax.Array) -> None:
  """jd.features vs the same six features per function in one jit vs librosa vs an rfft floor."""
  sr, n_fft, hop = args.sr, args.n_fft, args.hop_length
  run_features = jax.jit(lambda x: jd.features(x, sr=sr, n_fft=n_fft, hop_length=hop, names=PIPELINE_NAMES))

  @jax.jit
  def run_per_function(x):
    S = jnp.abs(jd.stft(x, n_fft=n_fft, hop_length=hop))
    return dict(spectral_centroid=jd.spectral_centroid(S=S, sr=sr),
                spectral_bandwidth=jd.spectral_bandwidth(S=S, sr=sr),
                spectral_rolloff=jd.spectral_rolloff(S=S, sr=sr),
                melspectrogram=jd.melspectrogram(S=S ** 2, sr=sr),
                rms=jd.rms(x, frame_length=n_fft, hop_length=hop),
                zero_crossing_rate=jd.zero_crossing_rate(x, frame_length=n_fft, hop_length=hop))

  times = {"jd.features (jit)": time_jit(run_features, y_dev, args.repeats),
           "per-function pipeline (one jit)": time_jit(run_per_function, y_dev, args.repeats)}

  if "librosa" not in args.skip:
    import librosa

    def run_librosa():
      for clip in y:
        S = np.abs(librosa.stft(clip, n_fft=n_fft, hop_length=hop))
        librosa.feature.spectral_centroid(S=S, sr=sr)
        librosa.feature.spectral_bandwidth(S=S, sr=sr)
        librosa.feature.spectral_rolloff(S=S, sr=sr)
        librosa.feature.melspectrogram(S=S ** 2, sr=sr)
        librosa.feature.rms(y=clip, frame_length=n_fft, hop_length=hop)
        librosa.feature.zero_crossing_rate(clip, frame_length=n_fft, hop_length=hop)
    with librosa_threads(args):
      times["librosa (loop)"] = median_time(run_librosa, args.repeats, warmup=True)

  # The floor: the FFTs alone. Frames of the centre-padded clips (as jd.stft frames them), windowed
  # and made contiguous before timing; only the rfft of the (clips, n_frames, n_fft) array is timed.
  import scipy.fft
  padded = np.pad(y, [(0, 0), (n_fft // 2, n_fft // 2)])
  n_frames = jd.num_frames(y.shape[-1], frame_length=n_fft, hop_length=hop)
  frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft, axis=-1)[:, ::hop][:, :n_frames]
  frames = np.ascontiguousarray(frames * np.asarray(jd.get_window("hann", n_fft)), dtype=np.float32)
  floor_name = f"scipy.fft.rfft floor (workers={args.fft_workers})"
  times[floor_name] = median_time(lambda: scipy.fft.rfft(frames, axis=-1, workers=args.fft_workers),
                                  args.repeats, warmup=True)

  base, per_fn = times["jd.features (jit)"], times["per-function pipeline (one jit)"]
  lib = times.get("librosa (loop)")
  print_table(f"pipeline: {len(PIPELINE_NAMES)} features, n_fft={n_fft}, hop={hop}, {frames.shape[1]} frames per clip",
              ("contender", "time (ms)", "× jd.features", "librosa / this"),
              [(name, ms(t), ratio(t, base), ratio(lib, t)) for name, t in times.items()])
  print(f"per-function pipeline / jd.features: {per_fn / base:.2f}")
  faults = {name: faults_per_call(fn, y_dev) for name, fn in [("jd.features", run_features),
                                                               ("per-function pipeline", run_per_function)]}
  print("minor page faults per call: " + ", ".join(f"{name} {n:,}" for name, n in faults.items()))
  if lib is not None:
    print(f"librosa / jd.features: {lib / base:.1f}× faster; librosa / per-function pipeline: {lib / per_fn:.1f}× faster")
  print(f"jd.features / rfft floor: {base / times[floor_name]:.2f}")


def per_function_section(args: argparse.Namespace, y: np.ndarray, y_dev: jax.Array) -> None:
  """Each feature function alone, from y and (where accepted) from a ready spectrogram."""
  sr, n_fft, hop = args.sr, args.n_fft, args.hop_length
  framing = dict(frame_length=n_fft, hop_length=hop)
  stft_args = dict(n_fft=n_fft, hop_length=hop)
  librosa = None if "librosa" in args.skip else importlib.import_module("librosa")

  def time_librosa(fn: Callable[[np.ndarray], object], inputs: np.ndarray) -> float | None:
    if librosa is None:
      return None
    with librosa_threads(args):
      return median_time(lambda: [fn(a) for a in inputs], args.repeats, warmup=True)

  # name: (jaxdsp from y, librosa on one clip)
  from_y = {
      "stft": (lambda x: jd.stft(x, **stft_args), lambda c: librosa.stft(c, **stft_args)),
      "spectrogram": (lambda x: jd.spectrogram(x, **stft_args), lambda c: np.abs(librosa.stft(c, **stft_args))),
      "spectral_centroid": (lambda x: jd.spectral_centroid(x, sr=sr, **stft_args),
                            lambda c: librosa.feature.spectral_centroid(y=c, sr=sr, **stft_args)),
      "spectral_bandwidth": (lambda x: jd.spectral_bandwidth(x, sr=sr, **stft_args),
                             lambda c: librosa.feature.spectral_bandwidth(y=c, sr=sr, **stft_args)),
      "spectral_rolloff": (lambda x: jd.spectral_rolloff(x, sr=sr, **stft_args),
                           lambda c: librosa.feature.spectral_rolloff(y=c, sr=sr, **stft_args)),
      "spectral_flatness": (lambda x: jd.spectral_flatness(x, **stft_args),
                            lambda c: librosa.feature.spectral_flatness(y=c, **stft_args)),
      "melspectrogram": (lambda x: jd.melspectrogram(x, sr=sr, **stft_args),
                         lambda c: librosa.feature.melspectrogram(y=c, sr=sr, **stft_args)),
      "mfcc": (lambda x: jd.mfcc(x, sr=sr, **stft_args), lambda c: librosa.feature.mfcc(y=c, sr=sr, **stft_args)),
      "rms": (lambda x: jd.rms(x, **framing), lambda c: librosa.feature.rms(y=c, **framing)),
      "zero_crossing_rate": (lambda x: jd.zero_crossing_rate(x, **framing),
                             lambda c: librosa.feature.zero_crossing_rate(c, **framing)),
  }
  rows = []
  for name, (jax_fn, librosa_fn) in from_y.items():
    t_jax = time_jit(jax.jit(jax_fn), y_dev, args.repeats)
    t_lib = time_librosa(librosa_fn, y)
    rows.append((name, ms(t_jax), ms(t_lib), ratio(t_lib, t_jax)))
  print_table(f"per function from y: n_fft={n_fft}, hop={hop}",
              ("from y", "jaxdsp ms", "librosa ms", "librosa/jaxdsp"), rows)

  # Ready, device-resident inputs, computed once: the magnitude S, the power S**2 and the dB mel.
  S = jax.block_until_ready(jnp.abs(jd.stft(y_dev, **stft_args)))
  P = jax.block_until_ready(S ** 2)
  M_db = jax.block_until_ready(jd.power_to_db(jd.melspectrogram(S=P, sr=sr)))
  inputs = {"S": S, "S**2": P, "mel dB": M_db}
  inputs_np = {k: np.asarray(v) for k, v in inputs.items()}
  read_once = jax.jit(lambda a: jnp.sum(a, axis=-2))
  floors = {k: time_jit(read_once, v, args.repeats) for k, v in inputs.items()}

  # name: (input, jaxdsp from it, librosa on one clip's slice of it)
  from_S = {
      "spectral_centroid": ("S", lambda s: jd.spectral_centroid(S=s, sr=sr),
                            lambda s: librosa.feature.spectral_centroid(S=s, sr=sr)),
      "spectral_bandwidth": ("S", lambda s: jd.spectral_bandwidth(S=s, sr=sr),
                             lambda s: librosa.feature.spectral_bandwidth(S=s, sr=sr)),
      "spectral_rolloff": ("S", lambda s: jd.spectral_rolloff(S=s, sr=sr),
                           lambda s: librosa.feature.spectral_rolloff(S=s, sr=sr)),
      "spectral_flatness": ("S", lambda s: jd.spectral_flatness(S=s), lambda s: librosa.feature.spectral_flatness(S=s)),
      "melspectrogram": ("S**2", lambda s: jd.melspectrogram(S=s, sr=sr),
                         lambda s: librosa.feature.melspectrogram(S=s, sr=sr)),
      "mfcc": ("mel dB", lambda s: jd.mfcc(S=s, sr=sr), lambda s: librosa.feature.mfcc(S=s, sr=sr)),
      "rms": ("S", lambda s: jd.rms(S=s, **framing), lambda s: librosa.feature.rms(S=s, **framing)),
  }
  rows = []
  for name, (key, jax_fn, librosa_fn) in from_S.items():
    t_jax = time_jit(jax.jit(jax_fn), inputs[key], args.repeats)
    t_lib = time_librosa(librosa_fn, inputs_np[key])
    rows.append((f"{name} (S={key})", ms(t_jax), ms(t_lib), ratio(t_lib, t_jax), ms(floors[key]),
                 ratio(t_jax, floors[key])))
  shapes = ", ".join(f"{k} {tuple(v.shape)}" for k, v in inputs.items())
  print_table(f"per function from a ready spectrogram ({shapes}); S.sum = jit(jnp.sum(input, axis=-2)) on the same array",
              ("from S", "jaxdsp ms", "librosa ms", "librosa/jaxdsp", "S.sum ms", "jaxdsp/S.sum"), rows)


def existing_section(args: argparse.Namespace, y: np.ndarray, y_dev: jax.Array) -> None:
  """The full feature set at n_fft 2048: jaxdsp vs librosa vs librosax vs torch.stft."""
  sr = args.sr
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
  print("\nexisting: full feature set, n_fft=2048, hop=512, 64 mel bands")
  print(f"{'contender':28s} {'time (s)':>10s} {'× jaxdsp features()':>20s}")
  for name, t in results.items():
    print(f"{name:28s} {t:10.3f} {t / base:20.2f}")
  if "torch.stft (complex)" in results:
    print(f"\njaxdsp stft / torch.stft time ratio: {results['jaxdsp stft (complex)'] / results['torch.stft (complex)']:.2f}"
          " (≤ 1 means jaxdsp's STFT is no slower)")
  librosa_best = min((t for k, t in results.items() if k.startswith("librosa (")), default=None)
  if librosa_best is not None:
    print(f"speed-up of jaxdsp features() over librosa's faster configuration: {librosa_best / base:.1f}×")


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--clips", type=int, default=256)
  parser.add_argument("--seconds", type=float, default=4.0)
  parser.add_argument("--sr", type=int, default=22050)
  parser.add_argument("--repeats", type=int, default=3)
  parser.add_argument("--quick", action="store_true", help="16 clips × 1 s")
  parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS),
                      help="sections to run (default: all)")
  parser.add_argument("--n-fft", type=int, default=1024, help="FFT size of the pipeline and per_function sections")
  parser.add_argument("--hop-length", type=int, default=512, help="hop of the pipeline and per_function sections")
  parser.add_argument("--fft-workers", type=int, default=2, help="scipy.fft workers of the pipeline's rfft floor")
  parser.add_argument("--librosa-blas-threads", type=int, default=1,
                      help="BLAS threads for librosa in pipeline and per_function (0: the library default)")
  parser.add_argument("--skip", nargs="*", default=[], help="contenders to skip: librosa librosax torch")
  parser.add_argument("--hugepages", action="store_true",
                      help="restart with GLIBC_TUNABLES=glibc.malloc.hugetlb=1 (Linux): large buffers then "
                           "fault in 2 MiB transparent huge pages (docs/performance.md)")
  args = parser.parse_args()
  if args.hugepages:
    restart_with_hugepages()
  if args.quick:
    args.clips, args.seconds, args.repeats = 16, 1.0, 2
  y = make_clips(args.clips, args.seconds, args.sr)
  y_dev = jax.block_until_ready(jax.device_put(y))
  print(f"{args.clips} clips × {args.seconds} s at {args.sr} Hz on {jax.devices()[0].platform} "
        f"({jax.device_count()} device(s)); median of {args.repeats}; malloc huge pages "
        f"{'on' if hugepages_on() else 'off'} (--hugepages)")
  if args.librosa_blas_threads > 0 and {"pipeline", "per_function"} & set(args.sections):
    print(f"librosa in pipeline and per_function: {args.librosa_blas_threads} BLAS thread(s)")
  sections = {"pipeline": pipeline_section, "per_function": per_function_section, "existing": existing_section}
  for name in SECTIONS:
    if name in args.sections:
      sections[name](args, y, y_dev)


if __name__ == "__main__":
  main()
