"""From one neuron to networks (course chapter): forward propagation, then learning to add.

1. Forward propagation through the course's ``MLP(3, [3, 5], 2)`` (sigmoid everywhere, no biases)
   with the course's NumPy loop and with ``jaxdsp.nn.DeepNet.from_weights``: the same numbers.
2. The course's training task: learn ``a + b`` for ``a, b`` in [0, 0.5) with mean squared error
   and SGD (the course wrote backpropagation by hand; here ``jax.grad`` does it inside
   ``jaxdsp.nn.fit``). A ``ShallowNet`` and a ``DeepNet`` are trained on the same data and
   asked 0.3 + 0.1.

    python examples/shallow_and_deep_nets.py --out out/shallow_and_deep_nets
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np
from flax import nnx

from jaxdsp import nn as jn


def course_forward_propagate(inputs: np.ndarray, weights: list[np.ndarray]) -> np.ndarray:
  """The course's ``MLP.forward_propagate``: ``activations = sigmoid(activations @ w)``."""
  activations = inputs
  for w in weights:
    net_inputs = np.dot(activations, w)
    activations = 1.0 / (1.0 + np.exp(-net_inputs))
  return activations


def sum_dataset(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
  """The course's data: pairs in [0, 0.5) and their sums (so targets stay inside (0, 1))."""
  rng = np.random.default_rng(seed)
  x = rng.uniform(0, 0.5, (n, 2)).astype(np.float32)
  return x, x.sum(axis=1, keepdims=True)


def main(argv=None) -> dict:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--out", default=os.path.join("out", "shallow_and_deep_nets"),
                      help="output directory")
  parser.add_argument("--quick", action="store_true", help="fewer examples and epochs")
  args = parser.parse_args(argv)
  os.makedirs(args.out, exist_ok=True)

  # 1. Forward propagation.
  rng = np.random.default_rng(12345)
  weights = [rng.random((3, 3)), rng.random((3, 5)), rng.random((5, 2))]
  inputs = rng.random(3)
  course = course_forward_propagate(inputs, weights)
  net = jn.DeepNet.from_weights(weights)
  ours = np.asarray(net(inputs.astype(np.float32)))
  print(f"MLP(3, [3, 5], 2) course: {np.round(course, 6)}  jaxdsp: {np.round(ours, 6)}")
  result = {"forward_max_abs_diff": float(np.max(np.abs(ours - course)))}

  # 2. Learning to add.
  train = sum_dataset(256 if args.quick else 1000, seed=0)
  test = sum_dataset(200, seed=1)
  epochs = 10 if args.quick else 50
  models = {"shallow": jn.ShallowNet(2, 5, 1, rngs=nnx.Rngs(0)),
            "deep": jn.DeepNet(2, [5, 5], 1, rngs=nnx.Rngs(0))}
  query = np.array([[0.3, 0.1]], np.float32)
  for name, model in models.items():
    history = jn.fit(model, train, loss="mse", optimizer="sgd", learning_rate=1.0,
                     epochs=epochs, batch_size=16, progress=False)
    test_mse = jn.evaluate(model, test, loss="mse")["loss"]
    answer = float(np.asarray(model(query))[0, 0])
    print(f"{name:8s} ({jn.count_params(model):2d} parameters): train MSE "
          f"{history['loss'][0]:.4f} -> {history['loss'][-1]:.5f}, test MSE {test_mse:.5f}, "
          f"0.3 + 0.1 = {answer:.3f}")
    result[name] = {"loss": history["loss"], "test_mse": test_mse, "answer": answer,
                    "parameters": jn.count_params(model)}
  with open(os.path.join(args.out, "shallow_and_deep_nets.json"), "w") as f:
    json.dump(result, f, indent=1)
  return result


if __name__ == "__main__":
  main()
