"""Zero-crossing rate (course chapter): ``jaxdsp.zero_crossing_rate`` vs librosa, voice vs noise.

As in the course: the ZCR of each clip (here the count per frame, ``ZCR · frame_length``), then a
voice against white noise of the same length, where noise crosses zero far more often. Also shows
``zero_crossing_rate_smooth``, the differentiable surrogate.

    python examples/zero_crossing_rate.py --out out/zero_crossing_rate
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
  parser.add_argument("--out", default=os.path.join("out", "zero_crossing_rate"), help="output directory")
  parser.add_argument("--quick", action="store_true", help="1-second excerpts")
  args = parser.parse_args(argv)
  os.makedirs(args.out, exist_ok=True)
  from matplotlib.figure import Figure  # pylint: disable=import-outside-toplevel
  try:
    import librosa  # pylint: disable=import-outside-toplevel
  except ImportError:
    librosa = None
    print("librosa is not installed: skipping the comparison (pip install librosa)")

  duration = 1.0 if args.quick else None
  fig = Figure(figsize=(10, 7), layout="constrained")
  ax_clips, ax_noise = fig.subplots(2, 1)
  worst = 0.0
  signals = {}
  for name in ("music", "speech", "chirp"):
    y, sr = jd.load(jd.example(name), sr=22050, duration=duration)
    signals[name] = y
    zcr = np.asarray(jd.zero_crossing_rate(y, frame_length=FRAME_SIZE, hop_length=HOP_LENGTH))
    if librosa is not None:
      ref = librosa.feature.zero_crossing_rate(np.asarray(y), frame_length=FRAME_SIZE, hop_length=HOP_LENGTH)[0]
      diff = float(np.max(np.abs(zcr - ref)))
      worst = max(worst, diff)
      print(f"{name:7s} mean ZCR {zcr.mean():.4f}; max |jaxdsp - librosa| = {diff:.1e}")
    jd.plot.envelope(zcr * FRAME_SIZE, sr=sr, hop_length=HOP_LENGTH, ax=ax_clips, label=name,
                     ylabel="crossings per frame", title="zero crossings per 1024-sample frame")

  voice = signals["speech"]
  noise = np.random.default_rng(12345).uniform(-0.5, 0.5, voice.shape[-1]).astype(np.float32)
  for label, y in (("voice", voice), ("white noise", noise)):
    z = np.asarray(jd.zero_crossing_rate(y, frame_length=FRAME_SIZE, hop_length=HOP_LENGTH))
    zs = np.asarray(jd.zero_crossing_rate_smooth(y, frame_length=FRAME_SIZE, hop_length=HOP_LENGTH,
                                                 temperature=1e-3))
    jd.plot.envelope(np.stack([z, zs]), sr=22050, hop_length=HOP_LENGTH, ax=ax_noise,
                     label=[f"{label}", f"{label} (smooth surrogate)"], ylabel="ZCR",
                     title="voice vs noise")
    print(f"{label:11s} mean ZCR {z.mean():.3f} (smooth surrogate {zs.mean():.3f})")
  path = os.path.join(args.out, "zero_crossing_rate.png")
  fig.savefig(path, dpi=60 if args.quick else 100)
  print(f"figure: {path}")
  return {"figure": path, "max_abs_diff": worst}


if __name__ == "__main__":
  main()
