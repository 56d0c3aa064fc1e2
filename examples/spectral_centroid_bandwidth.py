"""Spectral centroid and bandwidth (course chapter): ``jaxdsp`` vs ``librosa.feature``.

``centroid[t] = Σ_k f_k·|S[k, t]| / Σ_k |S[k, t]|`` and
``bandwidth[t] = (Σ_k |S[k, t]|·(f_k - centroid[t])² / Σ_k |S[k, t]|)^½``, with the course's
``n_fft=1024, hop_length=512``; both are computed in one jitted ``jd.features`` pass sharing one STFT.

    python examples/spectral_centroid_bandwidth.py --out out/spectral_centroid_bandwidth
"""

from __future__ import annotations

import argparse
import os

import numpy as np

import jaxdsp as jd

FRAME_SIZE = 1024
HOP_LENGTH = 512


def main(argv=None) -> dict:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--out", default=os.path.join("out", "spectral_centroid_bandwidth"),
                      help="output directory")
  parser.add_argument("--quick", action="store_true", help="1-second excerpts")
  args = parser.parse_args(argv)
  os.makedirs(args.out, exist_ok=True)
  from matplotlib.figure import Figure  # pylint: disable=import-outside-toplevel
  try:
    import librosa  # pylint: disable=import-outside-toplevel
  except ImportError:
    librosa = None
    print("librosa is not installed: skipping the comparison (pip install librosa)")

  clips = ("music", "speech", "chirp")
  fig = Figure(figsize=(10, 6), layout="constrained")
  ax_c, ax_b = fig.subplots(2, 1)
  worst = 0.0
  for name in clips:
    y, sr = jd.load(jd.example(name), sr=22050, duration=1.0 if args.quick else None)
    out = jd.features(y, sr=sr, names=("spectral_centroid", "spectral_bandwidth"), n_fft=FRAME_SIZE,
                      hop_length=HOP_LENGTH)
    c, b = np.asarray(out["spectral_centroid"]), np.asarray(out["spectral_bandwidth"])
    line = f"{name:7s} mean centroid {c.mean():7.1f} Hz, bandwidth {b.mean():7.1f} Hz"
    if librosa is not None:
      y_np = np.asarray(y)
      rc = librosa.feature.spectral_centroid(y=y_np, sr=sr, n_fft=FRAME_SIZE, hop_length=HOP_LENGTH)[0]
      rb = librosa.feature.spectral_bandwidth(y=y_np, sr=sr, n_fft=FRAME_SIZE, hop_length=HOP_LENGTH)[0]
      dc = float(np.max(np.abs(c - rc) / np.maximum(rc, 1.0)))
      db = float(np.max(np.abs(b - rb) / np.maximum(rb, 1.0)))
      worst = max(worst, dc, db)
      line += f"; max relative difference to librosa: centroid {dc:.1e}, bandwidth {db:.1e}"
    print(line)
    jd.plot.envelope(c, sr=sr, hop_length=HOP_LENGTH, ax=ax_c, label=name, ylabel="Hz", title="spectral centroid")
    jd.plot.envelope(b, sr=sr, hop_length=HOP_LENGTH, ax=ax_b, label=name, ylabel="Hz", title="spectral bandwidth")
  path = os.path.join(args.out, "spectral_centroid_bandwidth.png")
  fig.savefig(path, dpi=60 if args.quick else 100)
  print(f"figure: {path}")
  return {"figure": path, "max_rel_diff": worst}


if __name__ == "__main__":
  main()
