"""A CNN sound classifier on UrbanSound8K (course chapter), end to end on jaxdsp.

The course's pipeline, rebuilt: a dataset reader over the UrbanSound8K layout (mixed sample
rates, stereo, short clips), log-mel features (64 mels, n_fft 1024, hop 512 at 22050 Hz: 64×173
per 4-second clip), the course's CNN (4 conv/ReLU/max-pool blocks, 16-128 channels), Adam and
cross-entropy, TensorBoard logs (scalars, audio clips, spectrogram images, a confusion matrix) and
orbax checkpoints. The real dataset cannot be downloaded here, so ``--data`` defaults to a
synthetic stand-in written in exactly its layout by ``jaxdsp.data.make_synthetic_urbansound``;
point ``--data`` at a real UrbanSound8K folder to train on it.

Folds 1-8 train, folds 9-10 are held out for testing (never seen in training). On the synthetic
data the held-out accuracy exceeds 90 % after about a CPU-minute of training.

    python examples/cnn_urbansound.py --out out/cnn_urbansound
    tensorboard --logdir out/cnn_urbansound/runs
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import optax
from flax import nnx

import jaxdsp as jd
from jaxdsp import data as jdata
from jaxdsp import nn as jn


def main(argv=None) -> dict:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--out", default=os.path.join("out", "cnn_urbansound"),
                      help="output directory (TensorBoard runs, checkpoints, results)")
  parser.add_argument("--data", default=None, help="UrbanSound8K folder (default: synthetic)")
  parser.add_argument("--epochs", type=int, default=15)
  parser.add_argument("--n-per-class", type=int, default=20, help="synthetic clips per class")
  parser.add_argument("--quick", action="store_true",
                      help="tiny: 1-second clips at 8 kHz, a small CNN, 2 epochs (smoke test)")
  args = parser.parse_args(argv)
  os.makedirs(args.out, exist_ok=True)
  t_start = time.perf_counter()

  if args.quick:
    read = dict(sr=8000, duration=1.0, n_mels=32, n_fft=256, hop_length=128)
    synth = dict(n_per_class=3, duration=1.0, sample_rates=(8000, 11025, 16000))
    channels, epochs, train_folds, test_folds = (4, 8), 2, [1, 2], [3]
    synth["n_folds"] = 3
  else:
    read = dict(sr=22050, duration=4.0, n_mels=64, n_fft=1024, hop_length=512)
    synth = dict(n_per_class=args.n_per_class, duration=4.0)
    channels, epochs, train_folds, test_folds = (16, 32, 64, 128), args.epochs, list(
        range(1, 9)), [9, 10]

  root = args.data
  if root is None:
    root = os.path.join(args.out, "synthetic_urbansound8k")
    if not os.path.exists(os.path.join(root, "metadata", "UrbanSound8K.csv")):
      print(f"writing a synthetic UrbanSound8K to {root} ...")
      jdata.make_synthetic_urbansound(root, seed=0, **synth)
  # "wrap" padding repeats short clips to 4 s, so zero padding is no cue to a short clip's class.
  train = jdata.UrbanSound8K(root, folds=train_folds, batch_size=32, seed=0, pad_mode="wrap",
                             cache=True, **read)
  test = jdata.UrbanSound8K(root, folds=test_folds, batch_size=32, shuffle=False,
                            pad_mode="wrap", cache=True, **read)
  print(train)
  print(test)

  model = jn.CNN(train.feature_shape, len(train.class_names), channels=channels,
                 standardize=True, rngs=nnx.Rngs(0))
  print(f"CNN: input {train.feature_shape}, {jn.count_params(model):,} parameters")
  schedule = optax.cosine_decay_schedule(3e-3, epochs * len(train))

  # A few raw clips and their log-mels in TensorBoard, next to what fit logs.
  log_dir = os.path.join(args.out, "runs", time.strftime("%Y%m%d-%H%M%S"))
  with jn.TensorBoardLogger(log_dir) as tb:
    for i in range(3):
      y = train.audio(i)
      label = train.class_names[train.labels[i]]
      tb.audio(f"clips/{i}_{label}", y / max(1.0, float(np.max(np.abs(y)))), sr=train.sr, step=0)
      S = jd.power_to_db(jd.melspectrogram(y, sr=train.sr, n_fft=read["n_fft"],
                                           hop_length=read["hop_length"], n_mels=read["n_mels"]))
      tb.spectrogram(f"clips/{i}_{label}_logmel", S, step=0)

  t_fit = time.perf_counter()
  history = jn.fit(model, train, test, loss="cross_entropy", optimizer="adam",
                   learning_rate=schedule, epochs=epochs, log_dir=log_dir,
                   checkpoint_dir=os.path.join(args.out, "checkpoints"), max_to_keep=2,
                   progress=not args.quick)
  fit_seconds = time.perf_counter() - t_fit
  ev = jn.evaluate(model, test, loss="cross_entropy", return_predictions=True)
  cm = jn.confusion_matrix(ev["targets"], ev["predictions"], n_classes=len(train.class_names))
  print(f"\nheld-out folds {test_folds}: accuracy {ev['accuracy']:.3f} on {ev['n']} clips "
        f"(train accuracy {history['accuracy'][-1]:.3f}); training {fit_seconds:.1f} s, "
        f"total {time.perf_counter() - t_start:.1f} s")
  print("confusion matrix (rows: true class):")
  for name, row in zip(train.class_names, cm):
    print(f"  {name:17s} {' '.join(f'{c:2d}' for c in row)}")
  print(f"TensorBoard: tensorboard --logdir {os.path.join(args.out, 'runs')}")
  result = {"test_accuracy": ev["accuracy"], "history": history, "fit_seconds": fit_seconds,
            "confusion_matrix": cm.tolist(), "log_dir": log_dir,
            "skipped": train.skipped + test.skipped}
  with open(os.path.join(args.out, "cnn_urbansound.json"), "w") as f:
    json.dump(result, f, indent=1, default=str)
  return result


if __name__ == "__main__":
  main()
