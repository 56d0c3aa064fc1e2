"""On-device augmentation: the same CNN trained with and without augmentation.

A small training set (the synthetic UrbanSound8K stand-in, 1-second clips read at 8 kHz, one fold:
2 clips per class) is where a CNN overfits, and where augmentation should help most. The CNN is
trained twice from the same initial weights and data order: once plainly, once with
``fit(..., augment=chain(SpecAugment(...), RandomGain(...), TimeShift(...)))`` (``--mixup`` adds
mixup), whose masks, gains and shifts run inside the jitted training step on the device, keyed
from the seed. Evaluation never augments. The script prints both held-out accuracies (folds 2-4,
never seen in training) and writes them to ``augmentation.json``. On so small a set one run's
difference is noisy: ``--seeds 3`` averages over initialisations.

    python examples/augmentation.py --out out/augmentation
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
from flax import nnx

from jaxdsp import data as jdata
from jaxdsp import nn as jn
from jaxdsp.nn import augment as A


def main(argv=None) -> dict:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--out", default=os.path.join("out", "augmentation"), help="output directory")
  parser.add_argument("--epochs", type=int, default=30)
  parser.add_argument("--mixup", action="store_true", help="add mixup (alpha 0.2)")
  parser.add_argument("--n-per-class", type=int, default=8, help="synthetic clips per class")
  parser.add_argument("--seeds", type=int, default=1, help="initialisations to average over")
  parser.add_argument("--quick", action="store_true", help="accepted for compatibility: the "
                      "defaults take seconds")
  args = parser.parse_args(argv)
  os.makedirs(args.out, exist_ok=True)
  t0 = time.perf_counter()

  root = os.path.join(args.out, "synthetic_urbansound8k")
  if not os.path.exists(os.path.join(root, "metadata", "UrbanSound8K.csv")):
    jdata.make_synthetic_urbansound(root, n_per_class=args.n_per_class, n_folds=4, duration=1.0,
                                    sample_rates=(8000, 11025, 16000), seed=0)
  read = dict(sr=8000, duration=1.0, n_mels=32, n_fft=256, hop_length=128, pad_mode="wrap")
  x, y = jdata.UrbanSound8K(root, folds=[1], **read).arrays()
  xt, yt = jdata.UrbanSound8K(root, folds=[2, 3, 4], **read).arrays()
  print(f"train {x.shape[0]} clips, held out {xt.shape[0]}; log-mel {x.shape[1:]}")

  steps = [A.SpecAugment(freq_mask=6, time_mask=12, n_freq_masks=2, n_time_masks=2),
           A.RandomGain(min_db=-10.0, max_db=10.0, db_input=True),  # log-mel is in dB
           A.TimeShift(max_shift=20)]
  if args.mixup:
    steps.append(A.Mixup(n_classes=10, alpha=0.2))
  augment = A.chain(*steps)
  result: dict = {"plain": [], "augmented": []}
  for seed in range(args.seeds):
    for name, aug in (("plain", None), ("augmented", augment)):
      model = jn.CNN(x.shape[1:], 10, channels=(8, 16), rngs=nnx.Rngs(seed))
      jn.fit(model, (x, y), loss="cross_entropy", optimizer="adam", learning_rate=3e-3,
             epochs=args.epochs, batch_size=10, seed=seed, augment=aug, progress=False)
      acc = jn.evaluate(model, (xt, yt), loss="cross_entropy")["accuracy"]
      result[name].append(acc)
      print(f"seed {seed}: {name:9s} held-out accuracy {acc:.3f}")
  for name in ("plain", "augmented"):
    result[f"{name}_accuracy"] = float(np.mean(result[name]))
  print(f"held-out accuracy: without augmentation {result['plain_accuracy']:.3f}, with "
        f"augmentation {result['augmented_accuracy']:.3f} ({time.perf_counter() - t0:.1f} s)")
  with open(os.path.join(args.out, "augmentation.json"), "w") as f:
    json.dump(result, f, indent=1)
  return result


if __name__ == "__main__":
  main()
