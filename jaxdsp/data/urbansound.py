"""UrbanSound8K reader: metadata, background decoding, batched jaxdsp features.

Reads the real dataset's layout (``<root>/metadata/UrbanSound8K.csv``,
``<root>/audio/fold<k>/<slice_file_name>``; mixed sample rates, mono and stereo, clips shorter
than 4 s) or the synthetic one from ``make_synthetic_urbansound``. Each clip is decoded with
``jaxdsp.load`` (mixed down to mono, resampled to ``sr``), trimmed or padded (zeros or
repetition) to ``duration``, and the batch's features are computed in one ``jax.jit(jax.vmap(...))`` call.

Batches are ``(features, labels)``, both NumPy arrays: features float32 ``(batch, n_mels,
n_frames)`` for ``"logmel"`` and ``"mel"``, ``(batch, n_samples)`` for ``"waveform"`` (for
learnable frontends); labels int32 ``(batch,)`` class IDs. Like a ``torch.utils.data.Dataset``,
``len(ds)`` is the number of examples and ``ds[i]`` one ``(features, label)`` pair, with an
optional per-example ``transform``.

File names from the CSV are confined to ``<root>/audio/fold<k>/``: a name holding a path
separator, ``..`` or an absolute path is refused (reported and skipped like a missing file). The
CSV is read as UTF-8 with undecodable bytes kept (``surrogateescape``), so a file whose name is
not valid UTF-8 still loads.
"""

from __future__ import annotations

import collections
import concurrent.futures
import csv
import os
import pathlib
import threading
import warnings
from typing import Any, Callable, Iterator, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import soundfile as sf

import jaxdsp
from jaxdsp import _checks
from jaxdsp.data.synthetic import CLASS_NAMES
from jaxdsp.data.synthetic import CSV_COLUMNS

__all__ = ["UrbanSound8K"]

_FEATURES = ("logmel", "mel", "waveform")


def _outside(name: str) -> str | None:
  """Why a CSV file name would leave its fold folder, or ``None`` if it is a plain name."""
  if (not name or os.path.isabs(name) or "/" in name or "\\" in name or os.sep in name
      or (os.altsep and os.altsep in name) or name in (".", "..")):
    return "outside the dataset root (a file name must be a plain name, not a path)"
  return None


class UrbanSound8K:
  """Batches of features and labels from an UrbanSound8K-layout folder.

  Files listed in the CSV that are missing, whose header cannot be read, or whose name points
  outside the dataset (``../``, an absolute path) are found when the dataset is opened; files that fail to decode later (truncated, corrupt data) are found when
  first read. Either way each is reported by name in a ``UserWarning``, recorded in
  ``skipped`` as ``(slice_file_name, reason)``, and left out — never silently.

  Args:
    root: dataset directory (holding ``metadata/`` and ``audio/``).
    folds: fold number(s) to use (1..10); ``None`` for all. Hold one out for testing, as the
      dataset's authors ask.
    sr: target sample rate in Hz.
    duration: clip length in seconds; longer clips are trimmed, shorter ones padded at the end.
    pad_mode: ``"constant"`` (zeros, the course's choice) or ``"wrap"`` (the clip repeated until
      it fills ``duration``; then the padding carries no cue to a clip's length, which helps
      small training sets).
    feature: ``"logmel"`` (``power_to_db(melspectrogram(y))``, dB re 1, 80 dB floor per clip),
      ``"mel"`` (power), ``"waveform"`` (the padded audio itself), or a callable mapping one clip
      ``(n_samples,)`` to a feature array (it is wrapped in ``jax.jit(jax.vmap(...))``).
    n_mels: mel bands.
    n_fft: FFT size.
    hop_length: hop in samples.
    batch_size: examples per batch.
    shuffle: shuffle the order every epoch (from ``np.random.default_rng([seed, epoch])``).
    seed: shuffling seed.
    drop_last: drop a final incomplete batch.
    num_workers: decoding threads.
    prefetch: batches decoded ahead of the one being consumed.
    cache: keep every clip's features in memory after its first read (later epochs skip
      decoding).
    transform: optional callable applied on the host to each example's features (a float32 NumPy
      array of ``feature_shape``) in ``ds[i]`` and in every batch (after the cache), returning an
      array of one common shape; e.g. a normalisation. For random augmentation prefer the
      on-device ``fit(..., augment=...)``.
    **feature_kwargs: extra keyword arguments for ``melspectrogram`` (``fmin``, ``fmax``, ...).

  Attributes:
    class_names: the 10 class names, index = ``classID``.
    files: paths of the usable clips; ``labels`` their class IDs (int32); ``folds`` their folds.
    skipped: ``[(slice_file_name, reason), ...]`` of the clips left out.
    feature_shape: shape of one example's features (before ``transform``).
    num_batches: batches per epoch.

  Raises:
    FileNotFoundError: no ``metadata/UrbanSound8K.csv`` under ``root``.
    ValueError: bad arguments, a CSV without the dataset's columns, or no usable clip.

  Examples:
    >>> import tempfile, jaxdsp as jd
    >>> root = jd.data.make_synthetic_urbansound(tempfile.mkdtemp(), n_per_class=2,
    ...                                          n_folds=2, duration=1.0)
    >>> ds = jd.data.UrbanSound8K(root, folds=[1], duration=1.0, batch_size=4)
    >>> x, y = next(iter(ds))
    >>> x.shape, y.shape, type(x).__name__, type(y).__name__
    ((4, 64, 44), (4,), 'ndarray', 'ndarray')
    >>> len(ds), ds[0][0].shape
    (10, (64, 44))
  """

  def __init__(self, root: str | os.PathLike, *, folds: int | Sequence[int] | None = None,
               sr: int = 22050, duration: float = 4.0, pad_mode: str = "constant",
               feature: str | Callable = "logmel",
               n_mels: int = 64, n_fft: int = 1024, hop_length: int = 512, batch_size: int = 32,
               shuffle: bool = True, seed: int = 0, drop_last: bool = False,
               num_workers: int = 4, prefetch: int = 2, cache: bool = False,
               transform: Callable[[np.ndarray], Any] | None = None, **feature_kwargs: Any):
    self.root = pathlib.Path(root)
    self.sr = int(_checks.sample_rate(sr, "sr"))
    self.duration = _checks.positive_number(duration, "duration")
    self.n_samples = int(round(self.duration * self.sr))
    self.pad_mode = _checks.choice(pad_mode, "pad_mode", ("constant", "wrap"))
    self.n_mels = _checks.positive_int(n_mels, "n_mels")
    self.n_fft = _checks.positive_int(n_fft, "n_fft")
    self.hop_length = _checks.positive_int(hop_length, "hop_length")
    self.batch_size = _checks.positive_int(batch_size, "batch_size")
    self.num_workers = _checks.positive_int(num_workers, "num_workers")
    self.prefetch = _checks.nonnegative_int(prefetch, "prefetch")
    self.shuffle, self.seed, self.drop_last, self.cache = bool(shuffle), int(seed), bool(
        drop_last), bool(cache)
    if not callable(feature):
      _checks.choice(feature, "feature", _FEATURES)
    self.feature = feature
    if transform is not None and not callable(transform):
      raise TypeError(f"transform must be a callable of one example's features, got {transform!r}")
    self.transform = transform
    self.feature_kwargs = feature_kwargs
    self.class_names = CLASS_NAMES
    self.skipped: list[tuple[str, str]] = []
    self._epoch = 0
    self._lock = threading.Lock()
    self._cache: dict[int, np.ndarray] = {}
    self._bad: set[int] = set()

    csv_path = self.root / "metadata" / "UrbanSound8K.csv"
    if not csv_path.is_file():
      raise FileNotFoundError(f"root must hold metadata/UrbanSound8K.csv, not found: {csv_path}")
    with open(csv_path, newline="", encoding="utf-8", errors="surrogateescape") as f:
      reader = csv.DictReader(f)
      missing_cols = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
      if missing_cols:
        raise ValueError(f"{csv_path} must have the columns {list(CSV_COLUMNS)}, missing "
                         f"{missing_cols}")
      rows = list(reader)
    all_folds = sorted({int(r["fold"]) for r in rows})
    if folds is None:
      wanted = set(all_folds)
    else:
      wanted = {folds} if isinstance(folds, (int, np.integer)) else set(folds)
      bad = [k for k in wanted if k not in all_folds]
      if bad:
        raise ValueError(f"folds must be among {all_folds}, got {sorted(wanted)}")

    files, labels, fold_of, names = [], [], [], []
    for r in rows:
      fold = int(r["fold"])
      if fold not in wanted:
        continue
      name = r["slice_file_name"]
      path = self.root / "audio" / f"fold{fold}" / name
      reason = _outside(name) or self._check_file(path)
      if reason is not None:
        self.skipped.append((name, reason))
        continue
      files.append(path)
      labels.append(int(r["classID"]))
      fold_of.append(fold)
      names.append(name)
    if self.skipped:
      listed = ", ".join(f"{n} ({why})" for n, why in self.skipped[:10])
      more = f" and {len(self.skipped) - 10} more" if len(self.skipped) > 10 else ""
      warnings.warn(f"UrbanSound8K: skipping {len(self.skipped)} file(s) listed in the CSV: "
                    f"{listed}{more}", UserWarning, stacklevel=2)
    if not files:
      raise ValueError(f"no usable clip in {self.root} for folds {sorted(wanted)}")
    self.files = files
    self.names = names
    self.labels = np.asarray(labels, dtype=np.int32)
    self.folds = np.asarray(fold_of, dtype=np.int32)
    self._feature_fn = jax.jit(jax.vmap(self._one_feature))
    self.feature_shape = tuple(jax.eval_shape(
        self._one_feature, jax.ShapeDtypeStruct((self.n_samples,), jnp.float32)).shape)

  # ------------------------------------------------------------------------------------------
  # Files.

  @staticmethod
  def _check_file(path: pathlib.Path) -> str | None:
    if not path.is_file():
      return "missing"
    try:
      with open(path, "rb") as f:  # an open file: names that are not valid UTF-8 work too
        info = sf.info(f)
    except Exception as e:  # libsndfile refuses the header
      return f"unreadable: {e}"
    if info.frames <= 0:
      return "empty"
    return None

  def audio(self, index: int) -> np.ndarray:
    """Clip ``index`` decoded, mono, resampled to ``sr``, trimmed or padded: ``(n_samples,)``.

    Raises:
      jaxdsp.AudioFileError: the file cannot be decoded (its name is in the message).
    """
    with open(self.files[index], "rb") as f:  # any file name, valid UTF-8 or not
      y, _ = jaxdsp.load(f, sr=self.sr, mono=True, duration=self.duration)
    y = np.asarray(y, dtype=np.float32)[:self.n_samples]
    return np.pad(y, (0, self.n_samples - y.shape[0]), mode=self.pad_mode)

  def _decode(self, index: int) -> np.ndarray | None:
    try:
      return self.audio(index)
    except Exception as e:  # noqa: BLE001 - reported by name and skipped, never silent
      with self._lock:
        if index not in self._bad:
          self._bad.add(index)
          self.skipped.append((self.names[index], f"decode failed: {e}"))
          warnings.warn(f"UrbanSound8K: skipping {self.names[index]} ({self.files[index]}): {e}",
                        UserWarning, stacklevel=3)
      return None

  # ------------------------------------------------------------------------------------------
  # Features.

  def _one_feature(self, y: jax.Array) -> jax.Array:
    if callable(self.feature):
      return self.feature(y)
    if self.feature == "waveform":
      return y
    S = jaxdsp.melspectrogram(y, sr=self.sr, n_fft=self.n_fft, hop_length=self.hop_length,
                              n_mels=self.n_mels, **self.feature_kwargs)
    return jaxdsp.power_to_db(S) if self.feature == "logmel" else S

  def _transformed(self, features: np.ndarray) -> np.ndarray:
    return features if self.transform is None else np.asarray(self.transform(features))

  def __getitem__(self, index: int) -> tuple[np.ndarray, int]:
    """Example ``index`` (in CSV order): ``(features, label)``, features after ``transform``.

    Raises:
      IndexError: ``index`` out of range.
      TypeError: a non-integer index.
      jaxdsp.AudioFileError: the clip cannot be decoded.
    """
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
      raise TypeError(f"index must be an int, got {type(index).__name__}")
    n = len(self.files)
    if not -n <= index < n:
      raise IndexError(f"index must be in [-{n}, {n}), got {index}")
    index = int(index) % n
    if index in self._cache:
      f = self._cache[index]
    else:
      f = self._features(self.audio(index)[None])[0]
      if self.cache:
        self._cache[index] = f
    return self._transformed(f), int(self.labels[index])

  def _features(self, audio: np.ndarray) -> np.ndarray:
    """Features of a batch of clips, padded to ``batch_size`` so one compiled shape serves all."""
    b = audio.shape[0]
    if b < self.batch_size:
      audio = np.concatenate([audio, np.zeros((self.batch_size - b, self.n_samples), np.float32)])
    return np.asarray(self._feature_fn(jnp.asarray(audio)))[:b]

  # ------------------------------------------------------------------------------------------
  # Batches.

  def order(self, epoch: int) -> np.ndarray:
    """Example indices in the order epoch ``epoch`` visits them (known-bad clips left out)."""
    idx = np.arange(len(self.files))
    if self.shuffle:
      idx = np.random.default_rng([self.seed, int(epoch)]).permutation(idx)
    return np.asarray([i for i in idx if i not in self._bad], dtype=np.int64)

  def batches(self, *, epoch: int | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yields ``(features, labels)`` for one epoch, decoding ahead in background threads.

    Args:
      epoch: epoch number for the shuffle (``None``: the next one of this object's counter).
    """
    if epoch is None:
      epoch = self._epoch
      self._epoch += 1
    order = self.order(epoch)
    chunks = [order[i:i + self.batch_size] for i in range(0, len(order), self.batch_size)]
    if self.drop_last and chunks and len(chunks[-1]) < self.batch_size:
      chunks = chunks[:-1]
    with concurrent.futures.ThreadPoolExecutor(self.num_workers) as pool:
      pending: collections.deque = collections.deque()

      def submit(chunk):
        pending.append((chunk, [None if i in self._cache else pool.submit(self._decode, i)
                                for i in chunk]))

      it = iter(chunks)
      for chunk in it:
        submit(chunk)
        if len(pending) > self.prefetch:
          break
      while pending:
        chunk, futures = pending.popleft()
        nxt = next(it, None)
        if nxt is not None:
          submit(nxt)
        feats, todo, todo_pos = [None] * len(chunk), [], []
        for k, (i, fut) in enumerate(zip(chunk, futures)):
          if fut is None:
            feats[k] = self._cache[i]
          else:
            y = fut.result()
            if y is not None:
              todo.append(y)
              todo_pos.append(k)
        if todo:
          computed = self._features(np.stack(todo))
          for k, f in zip(todo_pos, computed):
            feats[k] = f
            if self.cache:
              self._cache[int(chunk[k])] = f
        keep = [k for k in range(len(chunk)) if feats[k] is not None]
        if not keep:
          continue
        x = np.stack([self._transformed(feats[k]) for k in keep])
        yield x, self.labels[chunk[keep]]

  def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    return self.batches()

  def __len__(self) -> int:
    """Number of examples (``len(self.files)``), as a ``torch.utils.data.Dataset``."""
    return len(self.files)

  @property
  def num_batches(self) -> int:
    """Batches per epoch (clips found undecodable so far left out)."""
    n = len(self.files) - len(self._bad)
    return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

  @property
  def num_examples(self) -> int:
    return len(self.files) - len(self._bad)

  def arrays(self) -> tuple[np.ndarray, np.ndarray]:
    """All usable examples at once, in CSV order: ``(features (n, *feature_shape), labels (n,))``.

    Convenient for small datasets: pass the pair to ``jaxdsp.nn.fit`` to train on arrays.
    """
    shuffle, self.shuffle = self.shuffle, False
    try:
      xs, ys = zip(*[(np.asarray(x), y) for x, y in self.batches(epoch=0)])
    finally:
      self.shuffle = shuffle
    return np.concatenate(xs), np.concatenate(ys)

  def __repr__(self) -> str:
    return (f"UrbanSound8K(root={os.fspath(self.root)!r}, examples={self.num_examples}, "
            f"folds={sorted(set(self.folds.tolist()))}, sr={self.sr}, duration={self.duration}, "
            f"feature={self.feature if isinstance(self.feature, str) else 'callable'}, "
            f"feature_shape={self.feature_shape}, skipped={len(self.skipped)})")
