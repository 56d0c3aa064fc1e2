"""TensorBoard logging without TensorFlow: scalars, audio, spectrogram images, confusion matrices.

What the course did with ``torch.utils.tensorboard.SummaryWriter``, on ``tensorboardX`` (which
writes the same event files). Values may be Python numbers, NumPy or JAX arrays. View with
``tensorboard --logdir LOG_DIR``.
"""

from __future__ import annotations

import itertools
import os
from typing import Any, Mapping, Sequence

import numpy as np
from jax.typing import ArrayLike

from jaxdsp import _checks

__all__ = ["TensorBoardLogger", "confusion_matrix"]


def confusion_matrix(y_true: ArrayLike, y_pred: ArrayLike, *, n_classes: int) -> np.ndarray:
  """Counts ``C[i, j]`` = number of examples of true class ``i`` predicted as class ``j``.

  Args:
    y_true: integer labels ``(n,)``.
    y_pred: integer predictions ``(n,)``.
    n_classes: number of classes.

  Returns:
    ``(n_classes, n_classes)`` int64 counts, rows = true class (sklearn's convention).

  Raises:
    ValueError: shapes differ or a label lies outside ``[0, n_classes)``.

  Examples:
    >>> confusion_matrix([0, 1, 1], [0, 1, 0], n_classes=2).tolist()
    [[1, 0], [1, 1]]
  """
  n_classes = _checks.positive_int(n_classes, "n_classes")
  t = np.asarray(y_true).astype(np.int64).ravel()
  p = np.asarray(y_pred).astype(np.int64).ravel()
  if t.shape != p.shape:
    raise ValueError(f"y_pred must have the shape of y_true {np.shape(y_true)}, got "
                     f"{np.shape(y_pred)}")
  for name, v in (("y_true", t), ("y_pred", p)):
    if v.size and (v.min() < 0 or v.max() >= n_classes):
      raise ValueError(f"{name} must hold labels in [0, {n_classes}), got range "
                       f"[{v.min()}, {v.max()}]")
  return np.bincount(t * n_classes + p, minlength=n_classes * n_classes).reshape(
      n_classes, n_classes)


def _colormap(x: np.ndarray) -> np.ndarray:
  """``[0, 1]`` values ``(H, W)`` to RGB uint8 ``(H, W, 3)``: matplotlib's magma if installed,
  else grey."""
  try:
    from matplotlib import colormaps  # optional extra
    rgb = colormaps["magma"](x)[..., :3]
  except Exception:  # pragma: no cover - matplotlib missing
    rgb = np.repeat(x[..., None], 3, axis=-1)
  return np.round(255 * rgb).astype(np.uint8)


_WRITER_IDS = itertools.count()


class TensorBoardLogger:
  """Writes TensorBoard event files with ``tensorboardX.SummaryWriter``.

  Args:
    log_dir: directory for the event files (created if missing).
    flush_secs: how often pending events are written to disk.

  Examples:
    >>> import tempfile, numpy as np
    >>> with TensorBoardLogger(tempfile.mkdtemp()) as tb:
    ...   tb.scalar("train/loss", 0.5, step=1)
    ...   tb.audio("clip", np.zeros(800, np.float32), sr=8000, step=1)
  """

  def __init__(self, log_dir: str | os.PathLike, *, flush_secs: int = 10):
    from tensorboardX import SummaryWriter  # imported here: the writer spawns no thread until used
    self.log_dir = os.fspath(log_dir)
    # tensorboardX names files by the second and host only: two writers opened in the same second in
    # one directory would write the same file and the second would truncate the first.
    suffix = f".{os.getpid()}.{next(_WRITER_IDS)}"
    self.writer = SummaryWriter(logdir=self.log_dir, flush_secs=flush_secs, filename_suffix=suffix)

  # Scalars and distributions.

  def scalar(self, tag: str, value: Any, step: int) -> None:
    """Logs one number (a Python/NumPy/JAX scalar) at ``step``."""
    self.writer.add_scalar(tag, float(np.asarray(value)), global_step=int(step))

  def scalars(self, values: Mapping[str, Any], step: int, *, prefix: str = "") -> None:
    """Logs every scalar in ``values`` as ``prefix + key``; arrays with more than one element are
    logged as histograms, ``None`` values are skipped."""
    for key, value in values.items():
      if value is None:
        continue
      arr = np.asarray(value)
      if arr.size == 1:
        self.scalar(prefix + key, arr.reshape(()), step)
      elif arr.size > 1 and np.issubdtype(arr.dtype, np.number):
        self.histogram(prefix + key, arr, step)

  def histogram(self, tag: str, values: ArrayLike, step: int) -> None:
    """Logs the distribution of ``values`` (any shape)."""
    self.writer.add_histogram(tag, np.asarray(values, dtype=np.float64).ravel(),
                              global_step=int(step))

  # Media.

  def audio(self, tag: str, y: ArrayLike, *, sr: int, step: int) -> None:
    """Logs a mono clip ``(n_samples,)`` in [-1, 1] at sample rate ``sr`` (clipped to [-1, 1])."""
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1 or y.size == 0:
      raise ValueError(f"y must be a non-empty mono signal (n_samples,), got shape {y.shape}")
    sr = int(_checks.sample_rate(sr, "sr"))
    self.writer.add_audio(tag, np.clip(y, -1.0, 1.0), global_step=int(step), sample_rate=sr)

  def image(self, tag: str, image: ArrayLike, step: int) -> None:
    """Logs an image: ``(H, W)`` values in [0, 1] (coloured with a colormap) or RGB ``(H, W, 3)``
    uint8 / float in [0, 1]."""
    img = np.asarray(image)
    if img.ndim == 2:
      img = _colormap(np.clip(img.astype(np.float64), 0.0, 1.0))
    if img.ndim != 3 or img.shape[-1] != 3:
      raise ValueError(f"image must be (H, W) or (H, W, 3), got shape {img.shape}")
    self.writer.add_image(tag, img, global_step=int(step), dataformats="HWC")

  def spectrogram(self, tag: str, S: ArrayLike, step: int, *, top_db: float | None = 80.0) -> None:
    """Logs a spectrogram ``(n_freq, n_frames)`` (e.g. log-mel dB) as a colour image.

    Low frequencies are at the bottom; values are scaled from ``[max - top_db, max]`` to [0, 1]
    (from the min to the max when ``top_db`` is ``None``).
    """
    S = np.asarray(S, dtype=np.float64)
    if S.ndim != 2:
      raise ValueError(f"S must be (n_freq, n_frames), got shape {S.shape}")
    hi = float(np.max(S))
    lo = float(np.min(S)) if top_db is None else max(float(np.min(S)), hi - top_db)
    img = (S - lo) / (hi - lo) if hi > lo else np.zeros_like(S)
    self.image(tag, np.clip(img, 0.0, 1.0)[::-1], step)

  def confusion_matrix(self, tag: str, y_true: ArrayLike, y_pred: ArrayLike, step: int, *,
                       n_classes: int | None = None,
                       class_names: Sequence[str] | None = None) -> np.ndarray:
    """Logs the confusion matrix as an image (rows = true class, normalised per row, 16 px per
    cell) and as a Markdown table of counts (TensorBoard's Text tab).

    Returns:
      The ``(n_classes, n_classes)`` counts.
    """
    if n_classes is None:
      if class_names is None:
        raise ValueError("n_classes or class_names must be given")
      n_classes = len(class_names)
    cm = confusion_matrix(y_true, y_pred, n_classes=n_classes)
    rows = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    self.image(tag, np.kron(rows, np.ones((16, 16))), step)
    names = list(class_names) if class_names is not None else [str(i) for i in range(n_classes)]
    header = "| true \\ pred | " + " | ".join(names) + " |"
    lines = [header, "|" + "---|" * (n_classes + 1)]
    lines += [f"| {names[i]} | " + " | ".join(str(c) for c in cm[i]) + " |"
              for i in range(n_classes)]
    self.writer.add_text(tag + "/counts", "\n".join(lines), global_step=int(step))
    return cm

  # Housekeeping.

  def flush(self) -> None:
    self.writer.flush()

  def close(self) -> None:
    self.writer.close()

  def __enter__(self) -> TensorBoardLogger:
    return self

  def __exit__(self, *exc: Any) -> None:
    self.close()
