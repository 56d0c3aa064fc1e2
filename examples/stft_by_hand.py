"""The short-time Fourier transform by hand (NumPy) vs ``jaxdsp.stft``, and the spectrograms.

By hand: pad the signal by ``n_fft // 2`` zeros on both sides (librosa's ``center=True``), cut
frames of ``n_fft`` samples every ``hop_length``, multiply by a periodic Hann window, and take the
DFT of each frame (``np.fft.rfft``; the first frame also with the DFT matrix
``e^{-2πi·k·n / N}``, the course's definition). Then the course's spectrogram figures: power in
dB on a linear and a log frequency axis, and a mel spectrogram.

    python examples/stft_by_hand.py --out out/stft_by_hand
"""

from __future__ import annotations

import argparse
import os

import numpy as np

import jaxdsp as jd

N_FFT = 2048
HOP_LENGTH = 512


def stft_by_hand(y: np.ndarray, n_fft: int, hop_length: int) -> np.ndarray:
  """``(1 + n_fft // 2, n_frames)`` complex STFT, librosa's conventions, in plain NumPy."""
  padded = np.pad(y, n_fft // 2)
  n_frames = 1 + (len(padded) - n_fft) // hop_length
  window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)  # periodic Hann
  frames = np.stack([padded[t * hop_length:t * hop_length + n_fft] for t in range(n_frames)])
  return np.fft.rfft(frames * window, axis=-1).T


def dft_by_definition(x: np.ndarray) -> np.ndarray:
  """``X[k] = Σ_n x[n]·e^{-2πi·k·n/N}`` for ``k = 0 .. N/2`` (a matrix product)."""
  n = np.arange(len(x))
  k = np.arange(len(x) // 2 + 1)[:, None]
  return np.exp(-2j * np.pi * k * n / len(x)) @ x


def main(argv=None) -> dict:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--out", default=os.path.join("out", "stft_by_hand"), help="output directory")
  parser.add_argument("--quick", action="store_true", help="a 1-second excerpt")
  args = parser.parse_args(argv)
  os.makedirs(args.out, exist_ok=True)
  from matplotlib.figure import Figure  # pylint: disable=import-outside-toplevel

  y, sr = jd.load(jd.example("music"), duration=1.0 if args.quick else None)
  y_np = np.asarray(y, dtype=np.float64)
  by_hand = stft_by_hand(y_np, N_FFT, HOP_LENGTH)
  ours = np.asarray(jd.stft(y, n_fft=N_FFT, hop_length=HOP_LENGTH))
  scale = np.max(np.abs(by_hand))
  diff = float(np.max(np.abs(ours - by_hand)) / scale)
  window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)
  frame0 = np.pad(y_np, N_FFT // 2)[:N_FFT] * window
  diff_dft = float(np.max(np.abs(dft_by_definition(frame0) - by_hand[:, 0])) / scale)
  print(f"STFT {ours.shape}: max |jaxdsp.stft - by hand| / max |STFT| = {diff:.1e} (float32 vs float64)")
  print(f"frame 0: DFT by definition vs np.fft.rfft: {diff_dft:.1e}")

  power = np.abs(ours) ** 2
  fig = Figure(figsize=(10, 9), layout="constrained")
  ax_lin, ax_log, ax_mel = fig.subplots(3, 1)
  jd.plot.spectrogram(power, sr=sr, hop_length=HOP_LENGTH, scale="power", ax=ax_lin,
                      title="power spectrogram (dB), linear frequency")
  jd.plot.spectrogram(power, sr=sr, hop_length=HOP_LENGTH, scale="power", y_axis="log", ax=ax_log,
                      title="log frequency")
  mel = jd.melspectrogram(y, sr=sr, n_fft=N_FFT, hop_length=HOP_LENGTH, n_mels=90)
  jd.plot.spectrogram(mel, sr=sr, hop_length=HOP_LENGTH, scale="power", y_axis="mel", ax=ax_mel,
                      title="mel spectrogram (90 bands)")
  path = os.path.join(args.out, "stft_by_hand.png")
  fig.savefig(path, dpi=60 if args.quick else 100)
  print(f"figure: {path}")
  return {"figure": path, "max_rel_diff": diff, "dft_rel_diff": diff_dft}


if __name__ == "__main__":
  main()
