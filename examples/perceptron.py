"""The artificial neuron (course chapter): a weighted sum, a sigmoid, then learning its weights.

1. The course's neuron: inputs (0.5, 0.3, 0.2), weights (0.4, 0.7, 0.2) -> sigmoid(0.45) = 0.61,
   computed with the course's NumPy formula and with ``jaxdsp.nn.Perceptron.from_weights``.
2. A perceptron learns logical AND and OR, and a line separating two clouds of points, with SGD
   and binary cross-entropy (from probabilities, as ``torch.nn.BCELoss``: each log clamped at
   -100, so loss and gradient stay finite when the sigmoid saturates at 0 or 1), trained by
   ``jaxdsp.nn.fit``. The defaults run in a few seconds.

    python examples/perceptron.py --out out/perceptron
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np
from flax import nnx

from jaxdsp import nn as jn


def course_neuron(inputs, weights):
  """The course's ``activate``: ``h = Σ x_i w_i``, then ``y = 1 / (1 + e^-h)``."""
  h = 0.0
  for x, w in zip(inputs, weights):
    h += x * w
  return 1.0 / (1.0 + np.exp(-h))


def train_logic(table: str, epochs: int) -> tuple[float, np.ndarray]:
  """Fits a perceptron to the truth table of AND or OR; returns accuracy and outputs."""
  x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
  y = (x.min(1) if table == "and" else x.max(1)).astype(np.float32)
  neuron = jn.Perceptron(2, rngs=nnx.Rngs(0))
  jn.fit(neuron, (x, y), loss="binary_cross_entropy", optimizer="sgd", learning_rate=5.0,
         epochs=epochs, batch_size=4, progress=False)
  out = np.asarray(neuron(x))
  return float(np.mean((out > 0.5) == (y > 0.5))), out


def main(argv=None) -> dict:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--out", default=os.path.join("out", "perceptron"), help="output directory")
  parser.add_argument("--quick", action="store_true",
                      help="accepted for compatibility: the defaults take a few seconds")
  args = parser.parse_args(argv)
  os.makedirs(args.out, exist_ok=True)

  # 1. The course's neuron, two ways.
  inputs, weights = [0.5, 0.3, 0.2], [0.4, 0.7, 0.2]
  ours = float(jn.Perceptron.from_weights(np.array(weights))(np.array(inputs, np.float32)))
  theirs = course_neuron(inputs, weights)
  print(f"course neuron: {theirs:.6f}   jaxdsp Perceptron: {ours:.6f}")
  result = {"neuron_course": theirs, "neuron_jaxdsp": ours, "neuron_diff": abs(ours - theirs)}

  # 2. Learning: AND, OR, and two Gaussian clouds.
  epochs = 100
  for table in ("and", "or"):
    acc, out = train_logic(table, epochs)
    print(f"{table.upper():3s}: outputs {np.round(out, 2)} -> accuracy {acc:.2f}")
    result[f"{table}_accuracy"] = acc

  rng = np.random.default_rng(12345)
  n = 200
  labels = rng.integers(0, 2, n).astype(np.float32)
  points = (rng.standard_normal((n, 2)) + 2.5 * (labels[:, None] - 0.5) * np.array([1, 1])
            ).astype(np.float32)
  neuron = jn.Perceptron(2, rngs=nnx.Rngs(0))
  history = jn.fit(neuron, (points, labels), loss="binary_cross_entropy", optimizer="sgd",
                   learning_rate=0.5, epochs=20, batch_size=16,
                   progress=False)
  acc = float(np.mean((np.asarray(neuron(points)) > 0.5) == (labels > 0.5)))
  w = np.asarray(neuron.linear.kernel[...])[:, 0]
  b = float(neuron.linear.bias[...][0])
  if not np.all(np.isfinite(history["loss"])):  # never silently: BCE is finite at p = 0 and 1
    raise FloatingPointError(f"clouds: non-finite loss {history['loss']}")
  print(f"clouds: loss {history['loss'][0]:.3f} -> {history['loss'][-1]:.3f}, accuracy {acc:.2f}, "
        f"boundary {w[0]:.2f}·x + {w[1]:.2f}·y + {b:.2f} = 0")
  result.update(clouds_accuracy=acc, clouds_loss=history["loss"])
  with open(os.path.join(args.out, "perceptron.json"), "w") as f:
    json.dump(result, f, indent=1)
  return result


if __name__ == "__main__":
  main()
