"""Morlet CWT speed: jaxdsp.cwt (exact and compat="pywt") vs pywt.cwt (conv, fft) vs ssqueezepy.

    python benchmarks/bench_cwt.py                  # 22050 x 64 and 220500 x 128 scales
    python benchmarks/bench_cwt.py --quick          # 4096 x 16 and 22050 x 32
    python benchmarks/bench_cwt.py --memory         # 10 min at 22.05 kHz x 128 scales: peak RSS,
                                                    # forward and gradient (one subprocess each)
    python benchmarks/bench_cwt.py --pywt-error     # PyWavelets' discretisation vs the definition

Every contender transforms the same float32 signal (music, tiled to length) at the same scales:
``cwt_frequencies(fmin=40, fmax=10000, n_scales)`` at 22.05 kHz, converted to scales with
PyWavelets' own ``frequency2scale`` (``jd.frequency_to_scale(..., compat="pywt")``). jaxdsp is
jitted once (warm-up excluded) and blocked on; each time is the median of ``--repeats`` runs,
taken round-robin over the contenders (``pywt`` ``method="conv"`` runs once on the large case). "its time / jaxdsp" > 1
means jaxdsp (exact mode) is faster. "peak MB" is the RSS growth during one call in a fresh
process per contender, after its compile/warm-up (sampled every 2 ms and from ``ru_maxrss``;
includes the output array: 64 x 22050 complex64 = 11 MB, 128 x 220500 = 226 MB). ssqueezepy has no real ``morl`` and no ``cmor``;
it runs its analytic Morlet with the same centre frequency (``mu`` = 5 or 2πC), L2 norm, zero
padding.
"""

from __future__ import annotations

import argparse
import math
import os
import pathlib
import statistics
import subprocess
import sys
import threading
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SR = 22050


# ---------------------------------------------------------------------------------------------
# Helpers.


class _PeakRSS:
  """Largest RSS growth (bytes) over a ``with`` block, sampled by a background thread."""

  def __init__(self, interval: float = 0.002):
    self._interval = interval
    self.peak = 0

  @staticmethod
  def _rss() -> int:
    with open("/proc/self/statm") as f:  # Linux; no psutil needed
      return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

  def __enter__(self):
    self._base = self._rss()
    self._stop = threading.Event()
    self._thread = threading.Thread(target=self._run, daemon=True)
    self._thread.start()
    return self

  def _run(self):
    while not self._stop.is_set():
      self.peak = max(self.peak, self._rss() - self._base)
      time.sleep(self._interval)

  def __exit__(self, *exc):
    self._stop.set()
    self._thread.join()
    self.peak = max(self.peak, self._rss() - self._base)


def _median_time(fn, repeats: int) -> float:
  times = []
  for _ in range(repeats):
    t0 = time.perf_counter()
    out = fn()
    times.append(time.perf_counter() - t0)
    del out
  return statistics.median(times)


def _peak_mb(n: int, n_scales: int, wavelet: str, index: int) -> float:
  """Peak RSS growth (MB) of one call of contender ``index``, in a fresh process (after its JIT
  compile / numba warm-up), so that no allocator cache from other contenders hides it."""
  cmd = [sys.executable, __file__, "--mem-child", f"{n},{n_scales},{wavelet},{index}"]
  proc = subprocess.run(cmd, capture_output=True, text=True)
  line = [ln for ln in proc.stdout.splitlines() if ln.startswith("PEAK")]
  return float(line[0].split()[1]) if line else float("nan")


def _mem_child(spec: str) -> None:
  import resource

  n, n_scales, wavelet, index = spec.split(",")
  n, n_scales, index = int(n), int(n_scales), int(index)
  x = _signal(n)
  scales = _scales(wavelet, n_scales)
  name, fn, _ = list(_contenders(x, scales, wavelet, large=False, aot=True))[index]
  before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
  with _PeakRSS() as mem:
    out = fn()
  after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
  del out
  print(f"PEAK {max(mem.peak, after - before) / 2**20:.1f} {name}")


def _signal(n: int) -> np.ndarray:
  import soundfile as sf

  path = ROOT / "jaxdsp" / "examples_audio" / "music.flac"
  try:
    y, _ = sf.read(path, dtype="float32", always_2d=True)
    y = y.mean(axis=1)
  except Exception:  # pragma: no cover - no example audio: seeded noise
    y = np.random.default_rng(12345).standard_normal(n).astype(np.float32) * 0.1
  reps = -(-n // y.size)
  return np.ascontiguousarray(np.tile(y, reps)[:n]).astype(np.float32)


def _scales(wavelet: str, n_scales: int) -> np.ndarray:
  import jaxdsp as jd

  freqs = jd.cwt_frequencies(fmin=40.0, fmax=10000.0, n_scales=n_scales)
  return jd.frequency_to_scale(freqs, sr=SR, wavelet=wavelet, compat="pywt")


# ---------------------------------------------------------------------------------------------
# Speed.


def _contenders(x: np.ndarray, scales: np.ndarray, wavelet: str, large: bool, aot: bool = False):
  """Yields ``(name, call, repeats or None)``. ``aot``: compile/warm up now, without running on x."""
  import jax
  import pywt

  import jaxdsp as jd

  xj = jax.device_put(x)

  def jitted(**kwargs):
    f = jax.jit(lambda v: jd.cwt(v, scales, wavelet=wavelet, **kwargs))
    if aot:
      f = f.lower(xj).compile()
    return lambda: jax.block_until_ready(f(xj))

  yield "jaxdsp exact", jitted(), None
  yield 'jaxdsp compat="pywt"', jitted(compat="pywt"), None
  yield 'pywt.cwt method="fft"', lambda: pywt.cwt(x, scales, wavelet, method="fft")[0], None
  yield 'pywt.cwt method="conv"', lambda: pywt.cwt(x, scales, wavelet, method="conv")[0], 1 if large else None
  try:
    import ssqueezepy  # noqa: F401
  except ImportError:
    return
  from ssqueezepy import Wavelet
  from ssqueezepy import cwt as ssq_cwt

  mu = 5.0 if wavelet == "morl" else 2 * math.pi * float(wavelet[4:].split("-")[1])
  wav = Wavelet(("morlet", {"mu": mu}))
  call = lambda v: ssq_cwt(v, wav, scales=scales.astype(np.float32), l1_norm=False, padtype="zero",
                           astensor=False)[0]
  if aot:
    call(x[:4096])  # numba compile
  yield "ssqueezepy.cwt (morlet)", lambda: call(x), None


def run_speed(cases, wavelets, repeats: int, memory: bool) -> None:
  """Times every contender on the same input; the repeats go round-robin over the contenders, so
  that a change in machine load hits all of them alike."""
  print(f"{'case':<24} {'contender':<26} {'time (s)':>9} {'its time / jaxdsp':>18} {'peak MB':>9}")
  for n, n_scales in cases:
    x = _signal(n)
    for wavelet in wavelets:
      scales = _scales(wavelet, n_scales)
      case = f"{n} x {n_scales} {wavelet}"
      contenders = list(_contenders(x, scales, wavelet, n >= 200_000))
      times = {name: [] for name, _, _ in contenders}
      for name, fn, reps in contenders:
        if reps is None:
          fn()  # warm-up (jit compile)
      for r in range(repeats):
        for name, fn, reps in contenders:
          if reps is None or r < reps:
            times[name].append(_median_time(fn, 1))
      base = statistics.median(times[contenders[0][0]])
      for index, (name, _, _) in enumerate(contenders):
        t = statistics.median(times[name])
        peak = _peak_mb(n, n_scales, wavelet, index) if memory else float("nan")
        print(f"{case:<24} {name:<26} {t:9.3f} {t / base:18.1f} {peak:9.0f}", flush=True)
      print()


# ---------------------------------------------------------------------------------------------
# Memory: 10 minutes at 22.05 kHz, 128 scales.


_MEMORY_CHILD = r"""
import resource, sys, time
import jax, jax.numpy as jnp, numpy as np
sys.path.insert(0, {root!r})
import jaxdsp as jd
n, n_scales, wavelet, mode, hop, output = {n}, {n_scales}, {wavelet!r}, {mode!r}, {hop}, {output!r}
freqs = jd.cwt_frequencies(fmin=40.0, fmax=10000.0, n_scales=n_scales)
x = jnp.asarray(np.random.default_rng(12345).standard_normal(n).astype(np.float32) * 0.1)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
cwt = lambda v: jd.cwt(v, freqs=freqs, sr={sr}, wavelet=wavelet, hop_length=hop, output=output)
if mode == "forward":
  f = jax.jit(cwt)
  shape = jax.eval_shape(cwt, x)
else:
  def loss(v):
    W = cwt(v)
    if output == "power":  # a loss nonlinear in the scalogram (log power), so its cotangent is held too
      return jnp.mean(jnp.log1p(W))
    return jnp.mean(W.real ** 2 + W.imag ** 2) if jnp.iscomplexobj(W) else jnp.mean(W ** 2)
  f = jax.jit(jax.grad(loss))
  shape = jax.eval_shape(cwt, x)
t0 = time.perf_counter()
out = jax.block_until_ready(f(x))
dt = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
gb = np.prod(shape.shape) * shape.dtype.itemsize / 2**30
print(f"RESULT {{peak:.2f}} {{base:.2f}} {{dt:.1f}} {{gb:.2f}}")
"""


def run_memory(minutes: float, n_scales: int, wavelets) -> None:
  n = int(round(minutes * 60 * SR))
  total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
  print(f"{minutes:g} min at {SR} Hz = {n} samples, {n_scales} scales (40 Hz - 10 kHz), float32 signal; "
        f"peak RSS (ru_maxrss) of a fresh process per row, JAX and compilation included; "
        f"machine RAM {total:.1f} GiB")
  print(f"{'wavelet':<14} {'output':<12} {'pass':<9} {'hop':>4} {'out (GiB)':>10} {'peak RSS (GiB)':>14} "
        f"{'time (s)':>9}")
  rows = (("forward", 1, "coefficients"), ("gradient", 1, "coefficients"), ("gradient", 2, "coefficients"),
          ("forward", 1, "power"), ("gradient", 1, "power"))
  for wavelet in wavelets:
    for mode, hop, output in rows:
      if wavelet == "morl" and (hop == 2 or output != "coefficients"):
        continue
      itemsize = 8 if wavelet != "morl" and output == "coefficients" else 4
      size = n * n_scales * itemsize / hop / 2**30
      label = f"{wavelet:<14} {output:<12} {mode:<9} {hop:>4}"
      # a gradient holds the CWT and its cotangent (XLA does not update in place): ~2x
      need = size * (2.1 if mode == "gradient" else 1.1) + 0.5
      if need > 0.9 * total:
        print(f"{label} {size:10.2f}   skipped: needs ~{need:.0f} GiB", flush=True)
        continue
      code = _MEMORY_CHILD.format(root=str(ROOT), n=n, n_scales=n_scales, wavelet=wavelet, mode=mode, sr=SR,
                                  hop=hop, output=output)
      proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
      line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")]
      if proc.returncode or not line:
        print(f"{label} failed (exit {proc.returncode}): {proc.stderr.strip()[-300:]}")
        continue
      peak, _, dt, gb = line[0].split()[1:]
      print(f"{label} {float(gb):10.2f} {float(peak):14.2f} {float(dt):9.1f}", flush=True)


# ---------------------------------------------------------------------------------------------
# PyWavelets' discretisation against the definition (the table in docs/wavelets.md).


def run_pywt_error(precisions=(12, 10)) -> None:
  from jaxdsp import _pywt_compat

  scales = (2, 3, 4, 5, 6, 8, 11, 16, 23, 32, 45, 64, 91, 128, 181, 256, 362, 512, 724, 1024)
  print("Response of pywt.cwt's filter at each scale vs the exact sampled wavelet (periodised Ψ):")
  print("  gain = |H_pywt| / |H_exact| − 1 at the wavelet's centre frequency (the droop);")
  print("  shift = PyWavelets' time offset in samples (from the phase at the centre frequency);")
  print("  leak = largest |H_pywt − H_exact| where |H_exact| < 1e-4 of its peak, in dB re the peak;")
  print("  err = max |W_pywt − W_exact| / max |W_exact| on a 40 Hz - 11 kHz chirp (time domain, %),")
  print("  err' = the same after shifting W_exact by PyWavelets' offset.")
  chirp = _chirp(16384)
  for wavelet, family, b, c in (("cmor1.5-1.0", "cmor", 1.5, 1.0), ("morl", "morl", 0.0, 0.0)):
    for precision in precisions:
      print(f"\n{wavelet}, precision={precision}")
      print("  scale   gain %   shift  leak dB   err %  err' %")
      for s in scales:
        gain, shift, leak, err, err_shifted = _filter_error(family, b, c, s, precision, chirp)
        print(f"{s:7g} {100 * gain:8.2f} {shift:7.2f} {leak:8.1f} {100 * err:7.2f} {100 * err_shifted:7.2f}")


def _chirp(n: int) -> np.ndarray:
  t = np.arange(n) / SR
  f0, f1 = 40.0, 11000.0
  k = (f1 / f0) ** (1.0 / t[-1])
  return np.sin(2 * np.pi * f0 * (k**t - 1) / np.log(k))


def _filter_error(family, b, c, s, precision, chirp):
  from jaxdsp import _pywt_compat

  ((g, off),) = _pywt_compat.filter_taps(family, b, c, np.array([float(s)]), precision, np.dtype(np.float64))
  size = 1 << max(15, int(math.ceil(math.log2(4 * g.size + chirp.size))))
  buf = np.zeros(size, complex)
  np.add.at(buf, (np.arange(g.size) - off) % size, g)
  h_pywt = np.fft.fft(buf)
  w = 2 * np.pi * np.fft.fftfreq(size)
  if family == "morl":
    psi_hat = lambda v: math.sqrt(math.pi / 2) * (np.exp(-((v - 5) ** 2) / 2) + np.exp(-((v + 5) ** 2) / 2))
    wc = 5.0
  else:
    psi_hat = lambda v: np.exp(-b * (v - 2 * np.pi * c) ** 2 / 4)
    wc = 2 * np.pi * c
  h_exact = sum(math.sqrt(s) * psi_hat(s * (w + 2 * np.pi * m)) for m in range(-4, 5))
  peak = np.abs(h_exact).max()
  k = np.argmin(np.abs(w - min(wc / s, np.pi)))
  gain = np.abs(h_pywt[k]) / np.abs(h_exact[k]) - 1
  shift = float(np.angle(h_pywt[k] / h_exact[k]) / w[k]) if w[k] else 0.0
  stop = np.abs(h_exact) < 1e-4 * peak
  leak = 20 * np.log10(np.abs(h_pywt - h_exact)[stop].max() / peak) if stop.any() else float("nan")
  X = np.fft.fft(chirp, size)
  w_pywt = np.fft.ifft(X * h_pywt)[: chirp.size]
  w_exact = np.fft.ifft(X * h_exact)[: chirp.size]
  w_shifted = np.fft.ifft(X * h_exact * np.exp(1j * w * shift))[: chirp.size]
  err = np.abs(w_pywt - w_exact).max() / np.abs(w_exact).max()
  err_shifted = np.abs(w_pywt - w_shifted).max() / np.abs(w_shifted).max()
  return gain, shift, leak, err, err_shifted


# ---------------------------------------------------------------------------------------------


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
  parser.add_argument("--repeats", type=int, default=5)
  parser.add_argument("--wavelets", default="morl,cmor1.5-1.0")
  parser.add_argument("--memory", action="store_true", help="peak RSS for 10 min x 128 scales")
  parser.add_argument("--minutes", type=float, default=10.0, help="signal length for --memory")
  parser.add_argument("--pywt-error", action="store_true", help="PyWavelets' discretisation error table")
  parser.add_argument("--no-peak", action="store_true", help="skip the per-contender peak-memory runs")
  parser.add_argument("--mem-child", help=argparse.SUPPRESS)
  args = parser.parse_args()
  if args.mem_child:
    _mem_child(args.mem_child)
    return
  wavelets = args.wavelets.split(",")
  if args.pywt_error:
    run_pywt_error()
    return
  if args.memory:
    run_memory(args.minutes, 128, wavelets)
    return
  import jax

  print(f"jax {jax.__version__} on {jax.devices()[0].platform}, {os.cpu_count()} CPUs")
  cases = [(4096, 16), (22050, 32)] if args.quick else [(22050, 64), (220500, 128)]
  run_speed(cases, wavelets, 2 if args.quick else args.repeats, not args.no_peak)


if __name__ == "__main__":
  main()
