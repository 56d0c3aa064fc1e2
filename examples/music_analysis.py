"""Constant-Q transform, chromagram and pitch track of the shipped music and speech clips.

For each clip: ``jd.cqt`` (84 bins from C1, in dB), ``jd.chroma_cqt`` with the tuning estimated by
``jd.estimate_tuning``, and the fundamental frequency by ``jd.pyin`` drawn over the CQT. When librosa
is installed, the CQT and chromagram are compared with ``librosa.cqt`` / ``librosa.feature.chroma_cqt``
and the f0 with ``librosa.pyin`` (median difference in cents on frames both call voiced).

    python examples/music_analysis.py --out out/music_analysis
"""

from __future__ import annotations

import argparse
import os

import numpy as np

import jaxdsp as jd

SR = 22050
PITCH_RANGE = {"music": (65.0, 1000.0), "speech": (65.0, 400.0)}


def main(argv=None) -> dict:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--out", default=os.path.join("out", "music_analysis"), help="output directory")
  parser.add_argument("--quick", action="store_true", help="1-second excerpts")
  args = parser.parse_args(argv)
  os.makedirs(args.out, exist_ok=True)
  from matplotlib.figure import Figure  # pylint: disable=import-outside-toplevel
  try:
    import librosa  # pylint: disable=import-outside-toplevel
  except ImportError:
    librosa = None
    print("librosa is not installed: skipping the comparisons")

  duration = 1.0 if args.quick else None
  fig = Figure(figsize=(12, 8), layout="constrained")
  axes = fig.subplots(2, 2)
  result = {}
  for col, name in enumerate(("music", "speech")):
    y, _ = jd.load(jd.example(name), sr=SR, duration=duration)
    y = np.asarray(y)
    tuning = float(jd.estimate_tuning(y, sr=SR))  # in fractions of a semitone (the CQT's bins)
    tuning36 = float(jd.estimate_tuning(y, sr=SR, bins_per_octave=36))  # the chroma's 36-bin CQT
    C = np.asarray(jd.cqt(y, sr=SR, tuning=tuning))
    C_db = np.asarray(jd.amplitude_to_db(np.abs(C), ref=float(np.abs(C).max())))
    chroma = np.asarray(jd.chroma_cqt(y, sr=SR, tuning=tuning36))
    fmin, fmax = PITCH_RANGE[name]
    f0, voiced, _ = jd.pyin(y, sr=SR, fmin=fmin, fmax=fmax)
    f0, voiced = np.asarray(f0), np.asarray(voiced)
    line = f"{name}: {len(y) / SR:.1f} s, tuning {tuning:+.2f} bins, CQT {C.shape}, voiced {voiced.mean():.0%}"
    if librosa is not None:
      assert tuning == librosa.estimate_tuning(y=y, sr=SR) or abs(tuning - librosa.estimate_tuning(y=y, sr=SR)) < 1e-6
      ref = librosa.cqt(y, sr=SR, tuning=tuning)
      result[f"{name}_cqt_vs_librosa"] = float(np.abs(C - ref).max() / np.abs(ref).max())
      ref_chroma = librosa.feature.chroma_cqt(y=y, sr=SR, norm=None)  # librosa estimates its tuning itself
      ours = np.asarray(jd.chroma_cqt(y, sr=SR, tuning=tuning36, norm=None))
      result[f"{name}_chroma_vs_librosa"] = float(np.abs(ours - ref_chroma).max() / ref_chroma.max())
      f0_ref, voiced_ref, _ = librosa.pyin(y, sr=SR, fmin=fmin, fmax=fmax)
      both = voiced & voiced_ref & np.isfinite(f0) & np.isfinite(f0_ref)
      cents = 1200 * np.abs(np.log2(f0[both] / f0_ref[both])) if both.any() else np.zeros(1)
      result[f"{name}_f0_median_cents"] = float(np.median(cents))
      line += (f"; vs librosa: CQT {result[f'{name}_cqt_vs_librosa']:.1e} of the peak, chroma "
               f"{result[f'{name}_chroma_vs_librosa']:.1e}, f0 median {result[f'{name}_f0_median_cents']:.2f} cents")
    print(line)
    result[f"{name}_voiced"] = float(voiced.mean())

    times = jd.frames_to_time(np.arange(C.shape[-1]), sr=SR, hop_length=512)
    freqs = jd.cqt_frequencies(C.shape[0], fmin=32.70319566257483, tuning=tuning)
    ax = axes[0, col]
    ax.pcolormesh(times, freqs, C_db, shading="nearest", cmap="magma", vmin=-80, vmax=0)
    ax.set_yscale("log", base=2)
    ax.plot(jd.frames_to_time(np.arange(len(f0)), sr=SR, hop_length=512), np.where(voiced, f0, np.nan),
            color="cyan", lw=1.5, label="pyin f0")
    ax.set(title=f"{name}: constant-Q (dB) and pyin f0", xlabel="time (s)", ylabel="Hz")
    ax.legend(loc="upper right")
    ax = axes[1, col]
    ax.imshow(chroma, origin="lower", aspect="auto", cmap="viridis",
              extent=(0, times[-1] if len(times) > 1 else 1.0, -0.5, 11.5))
    ax.set_yticks(range(12), ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"])
    ax.set(title=f"{name}: chroma (CQT)", xlabel="time (s)")
  path = os.path.join(args.out, "music_analysis.png")
  fig.savefig(path, dpi=60 if args.quick else 100)
  print(f"figure: {path}")
  result["figure"] = path
  return result


if __name__ == "__main__":
  main()
