"""Root-mean-square energy (course chapter), with the course's comparison against librosa.

The course computes ``RMS[t] = sqrt(Σ y[t·512 : t·512 + 1024]² / 1024)`` in a Python loop and
plots it next to ``librosa.feature.rms``, whose frames are centred (``center=True``), so the two
curves are shifted by half a frame. jaxdsp gives both: ``jd.rms(y, center=False, pad_mode="wrap")``
is the course's loop and ``jd.rms(y)`` is librosa's.

    python examples/rms_energy.py --out out/rms_energy
"""

from __future__ import annotations

import argparse
import os

import numpy as np

import jaxdsp as jd

FRAME_SIZE = 1024
HOP_LENGTH = 512


def course_rms(signal: np.ndarray, frame_size: int, hop_length: int) -> np.ndarray:
  """The course's loop (frames cut short at the end)."""
  return np.array([np.sqrt(np.sum(signal[i:i + frame_size] ** 2) / frame_size)
                   for i in range(0, len(signal), hop_length)])


def main(argv=None) -> dict:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--out", default=os.path.join("out", "rms_energy"), help="output directory")
  parser.add_argument("--quick", action="store_true", help="1-second excerpts")
  args = parser.parse_args(argv)
  os.makedirs(args.out, exist_ok=True)
  from matplotlib.figure import Figure  # pylint: disable=import-outside-toplevel
  try:
    import librosa  # pylint: disable=import-outside-toplevel
  except ImportError:  # the comparison needs the [test] or [bench] extra
    librosa = None
    print("librosa is not installed: skipping the comparison (pip install librosa)")

  clips = ("music", "speech", "chirp")
  fig = Figure(figsize=(10, 2.6 * len(clips)), layout="constrained")
  axes = fig.subplots(len(clips), 1)
  result = {"vs_librosa": 0.0, "vs_course": 0.0}
  for ax, name in zip(axes, clips):
    y, sr = jd.load(jd.example(name), duration=1.0 if args.quick else None)
    y_np = np.asarray(y)
    centred = np.asarray(jd.rms(y, frame_length=FRAME_SIZE, hop_length=HOP_LENGTH))
    course_frames = np.asarray(jd.rms(y, frame_length=FRAME_SIZE, hop_length=HOP_LENGTH, center=False,
                                      pad_mode="wrap"))
    course = course_rms(y_np, FRAME_SIZE, HOP_LENGTH)
    full = (len(y_np) - FRAME_SIZE) // HOP_LENGTH + 1
    d_course = float(np.max(np.abs(course_frames[:full] - course[:full])))
    result["vs_course"] = max(result["vs_course"], d_course)
    line = f"{name:7s} jaxdsp vs course loop (full frames): {d_course:.1e}"
    jd.plot.waveform(y_np, sr=sr, ax=ax, title=f"{name}: RMS energy")
    t = np.arange(len(centred)) * HOP_LENGTH / sr
    ax.plot(t, centred, color="C3", lw=2, label="jaxdsp rms (centred)")
    ax.plot(np.arange(len(course)) * HOP_LENGTH / sr, course, color="C1", lw=1, ls=":",
            label="course loop (frame start)")
    if librosa is not None:
      ref = librosa.feature.rms(y=y_np, frame_length=FRAME_SIZE, hop_length=HOP_LENGTH)[0]
      d_lib = float(np.max(np.abs(centred - ref)) / np.max(np.abs(ref)))
      result["vs_librosa"] = max(result["vs_librosa"], d_lib)
      line += f"; jaxdsp vs librosa.feature.rms (relative): {d_lib:.1e}"
      ax.plot(t, ref, color="k", lw=1, ls="--", label="librosa.feature.rms")
    ax.legend(loc="upper right", fontsize="small")
    print(line)
  path = os.path.join(args.out, "rms_energy.png")
  fig.savefig(path, dpi=60 if args.quick else 100)
  print(f"figure: {path}")
  result["figure"] = path
  return result


if __name__ == "__main__":
  main()
