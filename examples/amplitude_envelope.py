"""Amplitude envelope (course chapter): the course's Python loop vs ``jaxdsp.amplitude_envelope``.

The course computes the envelope as the maximum sample of frames of 1024 samples starting every
512 samples, ``AE[t] = max y[t·512 : t·512 + 1024]``. jaxdsp computes the same frames with
``center=False, pad_mode="wrap"`` (its last frames, which run past the end, wrap to the start
instead of being cut short), and librosa's centred frames with the default ``center=True``.

    python examples/amplitude_envelope.py --out out/amplitude_envelope
"""

from __future__ import annotations

import argparse
import os

import numpy as np

import jaxdsp as jd

FRAME_SIZE = 1024
HOP_LENGTH = 512


def course_amplitude_envelope(signal: np.ndarray, frame_size: int, hop_length: int) -> np.ndarray:
  """The course's loop, verbatim apart from names."""
  return np.array([max(signal[i:i + frame_size]) for i in range(0, len(signal), hop_length)])


def main(argv=None) -> dict:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--out", default=os.path.join("out", "amplitude_envelope"), help="output directory")
  parser.add_argument("--quick", action="store_true", help="1-second excerpts")
  args = parser.parse_args(argv)
  os.makedirs(args.out, exist_ok=True)
  from matplotlib.figure import Figure  # pylint: disable=import-outside-toplevel

  clips = ("music", "speech", "chirp")
  fig = Figure(figsize=(10, 2.6 * len(clips)), layout="constrained")
  axes = fig.subplots(len(clips), 1)
  worst = 0.0
  for ax, name in zip(axes, clips):
    y, sr = jd.load(jd.example(name), duration=1.0 if args.quick else None)
    course = course_amplitude_envelope(np.asarray(y), FRAME_SIZE, HOP_LENGTH)
    ae = np.asarray(jd.amplitude_envelope(y, frame_length=FRAME_SIZE, hop_length=HOP_LENGTH, center=False,
                                          pad_mode="wrap"))
    full = (len(y) - FRAME_SIZE) // HOP_LENGTH + 1  # frames that lie entirely inside the signal
    diff = float(np.max(np.abs(ae[:full] - course[:full])))
    worst = max(worst, diff)
    print(f"{name:7s} {len(course)} frames; max |jaxdsp - course loop| over the {full} full frames: {diff:.1e}")
    jd.plot.waveform(y, sr=sr, envelope=ae, hop_length=HOP_LENGTH, ax=ax, title=f"{name}: amplitude envelope")
  path = os.path.join(args.out, "amplitude_envelope.png")
  fig.savefig(path, dpi=60 if args.quick else 100)
  print(f"figure: {path}")
  return {"figure": path, "max_abs_diff": worst}


if __name__ == "__main__":
  main()
