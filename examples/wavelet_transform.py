"""The continuous wavelet transform with a Morlet wavelet: ``jaxdsp.cwt`` vs PyWavelets.

Scalograms of the chirp (a log sweep: the ridge is a straight line on a log-frequency axis) and
of the music clip, with complex Morlet ``cmor1.5-1.0``. ``jd.cwt(..., compat="pywt")`` rebuilds
PyWavelets' own discretised filters and matches ``pywt.cwt``; the default evaluates the wavelet
exactly in the Fourier domain.

    python examples/wavelet_transform.py --out out/wavelet_transform
"""

from __future__ import annotations

import argparse
import os

import numpy as np

import jaxdsp as jd

WAVELET = "cmor1.5-1.0"


def main(argv=None) -> dict:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--out", default=os.path.join("out", "wavelet_transform"), help="output directory")
  parser.add_argument("--quick", action="store_true", help="short excerpts, fewer scales")
  args = parser.parse_args(argv)
  os.makedirs(args.out, exist_ok=True)
  from matplotlib.figure import Figure  # pylint: disable=import-outside-toplevel
  try:
    import pywt  # pylint: disable=import-outside-toplevel
  except ImportError:
    pywt = None
    print("PyWavelets is not installed: skipping the comparison (pip install PyWavelets)")

  sr = 8000
  n_scales = 24 if args.quick else 64
  duration = 0.5 if args.quick else 2.0
  freqs = jd.cwt_frequencies(fmin=40.0, fmax=0.45 * sr, n_scales=n_scales)
  scales = jd.frequency_to_scale(freqs, sr=sr, wavelet=WAVELET)
  fig = Figure(figsize=(10, 6.5), layout="constrained")
  axes = fig.subplots(2, 1)
  result = {}
  for ax, name in zip(axes, ("chirp", "music")):
    y, _ = jd.load(jd.example(name), sr=sr, duration=duration)
    W = np.asarray(jd.cwt(y, freqs=freqs, sr=sr, wavelet=WAVELET))
    line = f"{name}: scalogram {W.shape}"
    if pywt is not None:
      ours = np.asarray(jd.cwt(y, scales, wavelet=WAVELET, compat="pywt"))
      ref, _ = pywt.cwt(np.asarray(y, dtype=np.float64), scales, WAVELET, sampling_period=1 / sr, method="fft")
      rel = float(np.max(np.abs(ours - ref)) / np.max(np.abs(ref)))
      result[f"{name}_vs_pywt"] = rel
      line += f"; compat='pywt' vs pywt.cwt: max difference {rel:.1e} of the peak"
    print(line)
    k = max(1, W.shape[-1] // 800)  # time-decimate (max-pool) for drawing
    Wd = np.abs(W[:, :W.shape[-1] // k * k]).reshape(n_scales, -1, k).max(-1)
    jd.plot.scalogram(Wd, sr=sr / k, freqs=freqs, ax=ax, db=True, top_db=60.0, coi=False,
                      title=f"{name}: Morlet scalogram ({WAVELET})")
  path = os.path.join(args.out, "wavelet_transform.png")
  fig.savefig(path, dpi=60 if args.quick else 100)
  print(f"figure: {path}")
  result["figure"] = path
  return result


if __name__ == "__main__":
  main()
