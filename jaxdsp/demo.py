"""The ``jaxdsp demo`` and ``jaxdsp analyze`` jobs: analyse audio, draw one figure, train a small CNN.

``run_demo(out)`` analyses the clips shipped in the package (speech, music, chirp): waveform with
amplitude envelope and RMS, zero-crossing rate, spectral centroid and bandwidth over a dB
spectrogram, and a Morlet scalogram, all in one PNG (``out/analysis.png``); prints a feature
summary table; then writes a small synthetic dataset in the UrbanSound8K layout
(``out/urbansound8k``), trains a small CNN on its log-mel spectrograms with a progress bar
(TensorBoard logs in ``out/runs``) and prints the accuracy on a held-out fold. Nothing is written
outside ``out``. ``analyze_file`` draws the same panels for one file.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from typing import Any, Sequence, TextIO

import numpy as np

N_FFT = 2048
HOP = 512
DEMO_CLIPS = ("speech", "music", "chirp")
# Signals longer than this get their scalogram segment by segment at a hop (bounded memory).
SCALOGRAM_SEGMENT = 1 << 18
# Bytes one computation of the features may take: longer signals go in pieces of whole frames
# (``jaxdsp.batch.feature_pieces``, as ``extract`` computes long files).
ANALYZE_MEMORY_BUDGET = 1 << 28
# The spectrogram kept for the figure: at most this many columns (the maximum over groups of frames),
# 2 per pixel of a 1000-pixel-wide panel; the plot decimates further to its own pixels.
SPECTROGRAM_COLUMNS = 2000


@dataclasses.dataclass
class Analysis:
  """Features of one clip, on the host (NumPy), as the figure and the table use them."""

  name: str
  y: np.ndarray
  sr: float
  features: dict[str, np.ndarray]
  scalogram: np.ndarray | None = None  # |W|, (n_scales, n_columns), time decimated for drawing
  scalogram_freqs: np.ndarray | None = None
  scalogram_sr: float | None = None
  spectrogram_group: int = 1  # frames per column of features["spectrogram"] (their maximum)
  piece_frames: int | None = None  # frames per piece when the features were computed in pieces
  n_pieces: int = 1


class _ColumnMax:
  """The maximum over groups of ``k`` consecutive columns (frames) of arrays that arrive piece by
  piece, in order, into ``columns`` preallocated columns: only a group's remainder is carried from
  one piece to the next, so the result equals pooling the whole array at once."""

  def __init__(self, k: int, n_frames: int):
    self.k, self.columns, self.done = k, -(-n_frames // k), 0
    self.out: np.ndarray | None = None
    self.carry: np.ndarray | None = None

  def add(self, part: np.ndarray) -> None:
    if self.out is None:
      self.out = np.empty(part.shape[:-1] + (self.columns,), part.dtype)
    if self.carry is not None and self.carry.shape[-1]:
      part = np.concatenate([self.carry, part], axis=-1)
    full = part.shape[-1] // self.k * self.k
    if full:
      g = full // self.k
      self.out[..., self.done:self.done + g] = part[..., :full].reshape(part.shape[:-1] + (g, self.k)).max(-1)
      self.done += g
    self.carry = part[..., full:].copy()

  def result(self) -> np.ndarray:
    if self.carry is not None and self.carry.shape[-1]:
      self.out[..., self.done] = self.carry.max(-1)
      self.done += 1
      self.carry = None
    assert self.done == self.columns, (self.done, self.columns)
    return self.out


def analyze(y: Any, sr: float, *, name: str = "", scalogram: bool = True, n_scales: int = 64,
            max_columns: int = 1000, memory_budget: int = ANALYZE_MEMORY_BUDGET,
            spectrogram_columns: int = SPECTROGRAM_COLUMNS) -> Analysis:
  """Computes the demo's features of one signal (one jitted ``features`` pass, one CWT), in
  bounded memory for long signals.

  A signal whose features take more than ``memory_budget`` bytes at once is computed in pieces of
  whole frames (:func:`jaxdsp.batch.feature_pieces`, as ``jaxdsp extract`` computes long files),
  each piece reduced as it comes: the per-frame curves are kept (4 bytes a frame each), the
  spectrogram only as the maximum over groups of frames (at most ``spectrogram_columns`` columns),
  so memory beyond the signal itself stays bounded. The result equals the whole-signal
  computation (the spectrogram pooled the same way) to float32 round-off.

  Args:
    y: ``(n_samples,)`` signal.
    sr: sample rate.
    name: label for the table and the figure.
    scalogram: also compute a complex-Morlet scalogram (``cmor1.5-1.0``) from 30 Hz (or lower
      for short signals) to 0.45·sr; over ``SCALOGRAM_SEGMENT`` samples it is computed segment by
      segment at a hop (:func:`segmented_scalogram`), so long files take bounded memory.
    n_scales: scalogram rows.
    max_columns: the scalogram's time axis is max-pooled (or, when segmented, sampled at a hop)
      down to at most this many columns.
    memory_budget: bytes one feature computation may take (see above).
    spectrogram_columns: the spectrogram's frames are max-pooled in groups down to at most this
      many columns (``Analysis.spectrogram_group`` frames each).

  Returns:
    An :class:`Analysis`.
  """
  import jaxdsp as jd  # pylint: disable=import-outside-toplevel
  from jaxdsp import batch  # pylint: disable=import-outside-toplevel

  y = np.asarray(y, dtype=np.float32)
  names = ("amplitude_envelope", "rms", "zero_crossing_rate", "spectral_centroid", "spectral_bandwidth",
           "spectral_rolloff", "spectrogram")
  n_fft = min(N_FFT, 1 << max(6, (y.size - 1).bit_length()))
  pieces = batch.feature_pieces(y, names, sr=sr, n_fft=n_fft, hop_length=n_fft // 4, memory_budget=memory_budget)
  group = max(1, -(-pieces.n_frames // spectrogram_columns))
  spec = _ColumnMax(group, pieces.n_frames)
  if pieces.n_pieces == 1:  # at once
    feats = {k: np.asarray(v) for k, v in jd.features(y, sr=sr, names=names, n_fft=n_fft,
                                                      hop_length=n_fft // 4).items()}
    spec.add(feats.pop("spectrogram"))
  else:  # piece by piece: the curves into their frames, the spectrogram pooled as it comes
    feats = {}
    for start, piece in pieces:
      spec.add(piece.pop("spectrogram"))
      for k, v in piece.items():
        if k not in feats:
          feats[k] = np.empty(v.shape[:-1] + (pieces.n_frames,), v.dtype)
        feats[k][..., start:start + v.shape[-1]] = v
  feats["spectrogram"] = spec.result()
  result = Analysis(name, y, float(sr), feats, spectrogram_group=group,
                    piece_frames=pieces.piece_frames if pieces.n_pieces > 1 else None, n_pieces=pieces.n_pieces)
  result.features["n_fft"] = np.asarray(n_fft)
  if scalogram and y.size > SCALOGRAM_SEGMENT:
    result.scalogram, result.scalogram_freqs, result.scalogram_sr = segmented_scalogram(
        y, sr, n_scales=n_scales, max_columns=max_columns)
  elif scalogram:
    fmin = max(30.0, 8.0 * sr / y.size)
    freqs = jd.cwt_frequencies(fmin=fmin, fmax=0.45 * sr, n_scales=n_scales)
    W = np.abs(np.asarray(jd.cwt(y, freqs=freqs, sr=sr, wavelet="cmor1.5-1.0")))
    k = max(1, -(-y.size // max_columns))
    n_cols = y.size // k
    if n_cols:
      W = W[:, :n_cols * k].reshape(n_scales, n_cols, k).max(axis=-1)
    result.scalogram, result.scalogram_freqs, result.scalogram_sr = W, freqs, sr / k
  return result


def segmented_scalogram(y: Any, sr: float, *, n_scales: int = 64, max_columns: int = 1000,
                        segment: int = SCALOGRAM_SEGMENT) -> tuple[np.ndarray, np.ndarray, float]:
  """The analysis figure's Morlet scalogram of a long signal in bounded memory: ``|W|`` at a hop
  of ``ceil(n / max_columns)`` samples (``jaxdsp.cwt(..., hop_length=, output="magnitude")``),
  computed over segments of about ``segment`` samples, each with a margin of ``8 · 1.25`` times the
  largest scale on both sides (the signal zero-padded past its ends, as the whole-signal CWT pads
  it), so each column equals the whole-signal CWT's to float32 round-off. Returns
  ``(|W| (n_scales, columns), freqs, column rate)``."""
  import jaxdsp as jd  # pylint: disable=import-outside-toplevel

  n = y.shape[-1]
  fmin = max(30.0, 8.0 * sr / n)
  freqs = jd.cwt_frequencies(fmin=fmin, fmax=0.45 * sr, n_scales=n_scales)
  hop = max(1, -(-n // max_columns))
  columns = -(-n // hop)
  max_scale = float(np.max(np.asarray(jd.frequency_to_scale(freqs, sr=sr, wavelet="cmor1.5-1.0"))))
  margin = -(-int(np.ceil(10.0 * max_scale)) // hop) * hop  # a multiple of the hop: columns stay aligned
  # Columns per segment: about ``segment`` samples, and at least 8 margins (the margins' extra work
  # stays under 25 % when the hop is long).
  per_segment = max(1, segment // hop, 8 * margin // hop)
  span = margin + per_segment * hop + margin
  W = np.empty((n_scales, columns), np.float32)
  for c0 in range(0, columns, per_segment):
    start = c0 * hop - margin
    piece = np.zeros(span, np.float32)
    lo, hi = max(start, 0), min(start + span, n)
    piece[lo - start:hi - start] = y[lo:hi]
    w = np.asarray(jd.cwt(piece, freqs=freqs, sr=sr, wavelet="cmor1.5-1.0", hop_length=hop, output="magnitude"))
    take = min(per_segment, columns - c0)
    W[:, c0:c0 + take] = w[:, margin // hop:margin // hop + take]
  return W, freqs, sr / hop


def summary_table(analyses: Sequence[Analysis]) -> str:
  """A plain-text table of each clip's duration, rate and mean features."""
  header = ("clip", "dur (s)", "sr (Hz)", "RMS (dBFS)", "ZCR", "centroid (Hz)", "bandwidth (Hz)",
            "rolloff (Hz)")
  rows = []
  for a in analyses:
    f = a.features
    rms_db = 20 * np.log10(max(float(np.sqrt(np.mean(f["rms"] ** 2))), 1e-10))
    rows.append((a.name, f"{a.y.size / a.sr:.2f}", f"{a.sr:g}", f"{rms_db:.1f}",
                 f"{float(np.mean(f['zero_crossing_rate'])):.4f}",
                 f"{float(np.mean(f['spectral_centroid'])):.0f}", f"{float(np.mean(f['spectral_bandwidth'])):.0f}",
                 f"{float(np.mean(f['spectral_rolloff'])):.0f}"))
  widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
  line = lambda cells: "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))
  return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def draw(analyses: Sequence[Analysis], path: str | os.PathLike, *, dpi: int = 100) -> str:
  """Draws every analysis as a column of panels into one PNG; returns its path.

  Rows: waveform with amplitude envelope and RMS; zero-crossing rate; dB spectrogram (log
  frequency) with the spectral centroid and centroid ± bandwidth; Morlet scalogram (if computed).
  """
  from jaxdsp import plot  # pylint: disable=import-outside-toplevel
  plot._pyplot()  # the install hint when matplotlib is missing
  from matplotlib.figure import Figure  # pylint: disable=import-outside-toplevel

  has_cwt = any(a.scalogram is not None for a in analyses)
  n_rows = 4 if has_cwt else 3
  fig = Figure(figsize=(5.2 * len(analyses), 2.6 * n_rows), layout="constrained")
  axes = np.asarray(fig.subplots(n_rows, len(analyses), squeeze=False))
  for col, a in enumerate(analyses):
    f = a.features
    hop = int(f["n_fft"]) // 4
    plot.waveform(a.y, sr=a.sr, envelope=f["amplitude_envelope"], rms=f["rms"], hop_length=hop,
                  ax=axes[0, col], title=f"{a.name}: waveform, envelope, RMS")
    plot.envelope(f["zero_crossing_rate"], sr=a.sr, hop_length=hop, ax=axes[1, col], color="C4",
                  ylabel="ZCR", title="zero-crossing rate")
    ax = plot.spectrogram(f["spectrogram"], sr=a.sr, hop_length=hop * a.spectrogram_group, y_axis="log",
                          ax=axes[2, col], title="dB spectrogram, centroid ± bandwidth")
    c, b = f["spectral_centroid"], f["spectral_bandwidth"]
    t = np.arange(c.size) * hop / a.sr
    ax.plot(t, c, color="white", lw=1.2, label="centroid")
    ax.plot(t, np.clip(c + b, 1, None), color="cyan", lw=0.8, ls="--", label="centroid ± bandwidth")
    ax.plot(t, np.clip(c - b, 1, None), color="cyan", lw=0.8, ls="--")
    ax.legend(loc="lower right", fontsize=7)
    if has_cwt:
      if a.scalogram is not None:
        plot.scalogram(a.scalogram, sr=a.scalogram_sr, freqs=a.scalogram_freqs, ax=axes[3, col], db=True,
                       top_db=60.0, title="Morlet scalogram (cmor1.5-1.0)")
      else:
        axes[3, col].set_axis_off()
  path = os.fspath(path)
  fig.savefig(path, dpi=dpi)
  return path


def analyze_file(path: str | os.PathLike, *, out: str | os.PathLike | None = None, sr: float | None = None,
                 scalogram: bool = True, stream: TextIO | None = None) -> str:
  """``jaxdsp analyze``: loads one file, draws its panels to ``out`` and prints its summary.

  Returns:
    The figure's path (default ``<file name>.png`` in the working directory).
  """
  import jaxdsp as jd  # pylint: disable=import-outside-toplevel

  stream = sys.stdout if stream is None else stream
  y, file_sr = jd.load(path, sr=sr)
  name = os.path.basename(os.fspath(path))
  a = analyze(y, file_sr, name=name, scalogram=scalogram)
  out = f"{os.path.splitext(name)[0]}.png" if out is None else os.fspath(out)
  if os.path.dirname(out):
    os.makedirs(os.path.dirname(out), exist_ok=True)
  draw([a], out)
  print(summary_table([a]), file=stream)
  print(f"figure: {out}", file=stream)
  return out


def train_cnn(root: str | os.PathLike, *, out: str | os.PathLike, epochs: int = 10, test_fold: int | None = None,
              sr: int = 16000, duration: float = 2.0, n_mels: int = 40, batch_size: int = 32,
              learning_rate: float = 1e-3, channels: Sequence[int] = (8, 16, 32), seed: int = 0,
              checkpoints: bool = True, tensorboard: bool = True, progress: bool = True,
              stream: TextIO | None = None) -> dict[str, Any]:
  """Trains a CNN on the log-mel spectrograms of an UrbanSound8K-layout folder (``jaxdsp train``).

  The fold ``test_fold`` (default: the last fold present) is held out for the final accuracy and
  the others train. TensorBoard logs go to ``out/runs`` and checkpoints to ``out/checkpoints``
  (a rerun with the same ``out`` resumes), the history to ``out/history.json``.

  Returns:
    ``{"history": ..., "test_accuracy": float, "test_loss": float, "n_train": int, "n_test": int}``.
  """
  import json  # pylint: disable=import-outside-toplevel

  from flax import nnx  # pylint: disable=import-outside-toplevel

  from jaxdsp import data, nn  # pylint: disable=import-outside-toplevel

  stream = sys.stdout if stream is None else stream
  out = os.path.abspath(os.fspath(out))
  common = dict(sr=sr, duration=duration, n_mels=n_mels, n_fft=1024, hop_length=512, batch_size=batch_size,
                seed=seed, cache=True)
  everything = data.UrbanSound8K(root, folds=None, shuffle=False, **common)
  folds = sorted(set(int(f) for f in everything.folds))
  if len(folds) < 2:
    raise ValueError(f"the dataset in {os.fspath(root)!r} needs at least 2 folds (one held out), got {folds}")
  test_fold = folds[-1] if test_fold is None else int(test_fold)
  if test_fold not in folds:
    raise ValueError(f"test_fold must be one of the folds {folds}, got {test_fold}")
  train = data.UrbanSound8K(root, folds=[f for f in folds if f != test_fold], shuffle=True, **common)
  test = data.UrbanSound8K(root, folds=[test_fold], shuffle=False, **common)
  os.makedirs(out, exist_ok=True)  # only once the dataset opened: a user error leaves nothing behind
  print(f"training on folds {[f for f in folds if f != test_fold]} ({len(train.files)} clips), "
        f"testing on fold {test_fold} ({len(test.files)} clips); features {train.feature_shape} log-mel",
        file=stream)
  model = nn.CNN(train.feature_shape, len(train.class_names), channels=tuple(channels), standardize=True,
                 rngs=nnx.Rngs(seed))
  hist = nn.fit(model, train, test, loss="cross_entropy", optimizer="adam", learning_rate=learning_rate,
                epochs=epochs, seed=seed, log_dir=os.path.join(out, "runs") if tensorboard else None,
                checkpoint_dir=os.path.join(out, "checkpoints") if checkpoints else None, progress=progress)
  result = nn.evaluate(model, test, loss="cross_entropy")
  with open(os.path.join(out, "history.json"), "w", encoding="utf-8") as f:
    json.dump(hist, f, indent=1, default=float)
  return {"history": hist, "test_accuracy": float(result["accuracy"]), "test_loss": float(result["loss"]),
          "n_train": len(train.files), "n_test": len(test.files)}


def run_demo(out: str | os.PathLike = "jaxdsp-demo", *, quick: bool = False, progress: bool = True,
             stream: TextIO | None = None) -> dict[str, Any]:
  """``jaxdsp demo``: analysis figure, feature table, then a small CNN on synthetic UrbanSound8K.

  Args:
    out: output directory (created); nothing is written outside it.
    quick: a smaller run (seconds instead of about a minute), for smoke tests.
    progress: show progress bars.
    stream: where the text goes (default stdout).

  Returns:
    ``{"figure": path, "dataset": path, "test_accuracy": float, "history": dict, "seconds": float}``.
  """
  import jax  # pylint: disable=import-outside-toplevel

  import jaxdsp as jd  # pylint: disable=import-outside-toplevel
  from jaxdsp import data  # pylint: disable=import-outside-toplevel

  stream = sys.stdout if stream is None else stream
  t0 = time.perf_counter()
  out = os.path.abspath(os.fspath(out))
  os.makedirs(out, exist_ok=True)
  say = lambda *a: print(*a, file=stream, flush=True)  # noqa: E731
  say(f"jaxdsp {jd.__version__} demo on {jax.devices()[0].platform} ({jax.device_count()} device(s)); "
      f"writing to {out}")

  clips = DEMO_CLIPS[1:] if quick else DEMO_CLIPS
  analyses = []
  for name in clips:
    y, sr = jd.load(jd.example(name), duration=1.0 if quick else None)
    analyses.append(analyze(y, sr, name=name, n_scales=24 if quick else 64, max_columns=300 if quick else 1000))
  figure = draw(analyses, os.path.join(out, "analysis.png"), dpi=50 if quick else 100)
  say(f"\n1. Analysis of the shipped clips (figure: {figure})\n")
  say(summary_table(analyses))

  if quick:
    sizes = dict(n_per_class=4, n_folds=2, duration=0.5)
    train_kw = dict(epochs=2, sr=8000, duration=0.5, n_mels=24, channels=(4, 8), batch_size=16)
  else:
    sizes = dict(n_per_class=30, n_folds=5, duration=1.5)
    train_kw = dict(epochs=12, sr=16000, duration=1.5, n_mels=40, channels=(8, 16, 32), batch_size=32)
  root = os.path.join(out, "urbansound8k")
  say(f"\n2. A synthetic UrbanSound8K-layout dataset ({10 * sizes['n_per_class']} clips, "
      f"{sizes['n_folds']} folds) in {root}")
  data.make_synthetic_urbansound(root, sample_rates=(16000, 22050), seed=0, **sizes)
  say("\n3. A small CNN on its log-mel spectrograms (held-out fold = test)")
  trained = train_cnn(root, out=os.path.join(out, "train"), checkpoints=False, tensorboard=not quick,
                      progress=progress, stream=stream, **train_kw)
  seconds = time.perf_counter() - t0
  say(f"\nheld-out accuracy: {trained['test_accuracy']:.1%} on {trained['n_test']} clips "
      f"(chance 10%); demo finished in {seconds:.0f} s")
  return {"figure": figure, "dataset": root, "test_accuracy": trained["test_accuracy"],
          "history": trained["history"], "seconds": seconds}
