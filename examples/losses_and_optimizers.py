"""Losses and optimizers (course chapter): L1, MSE, cross-entropy; SGD, momentum, Adam.

1. The losses on small examples, with the values PyTorch gives (``L1Loss``, ``MSELoss``,
   ``CrossEntropyLoss`` with class indices or probabilities, ``BCELoss``, ``BCEWithLogitsLoss``),
   when torch is installed.
2. A deep net learns ``a + b`` (the course's toy task) with L1 and with MSE, each under SGD,
   SGD with momentum and Adam; the table shows that every loss falls and which pair learns
   fastest, and a figure shows the curves.

    python examples/losses_and_optimizers.py --out out/losses_and_optimizers
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np
from flax import nnx

from jaxdsp import nn as jn

OPTIMIZERS = {
    "sgd": dict(optimizer="sgd", learning_rate=1.0),
    "sgd+momentum": dict(optimizer="sgd", learning_rate=0.3, momentum=0.9),
    "adam": dict(optimizer="adam", learning_rate=0.01),
}


def loss_examples() -> dict:
  """Each loss on one small example, with PyTorch's value where torch is installed."""
  rng = np.random.default_rng(12345)
  p, t = rng.standard_normal(6).astype(np.float32), rng.standard_normal(6).astype(np.float32)
  logits = rng.standard_normal((4, 3)).astype(np.float32)
  labels = np.array([0, 2, 1, 2])
  probs = np.array([0.9, 0.2, 0.6, 0.4], np.float32)
  targets = np.array([1.0, 0.0, 1.0, 1.0], np.float32)
  ours = {
      "l1": jn.l1_loss(p, t), "mse": jn.mse_loss(p, t),
      "cross_entropy": jn.cross_entropy(logits, labels),
      "cross_entropy_probs": jn.cross_entropy(logits, np.eye(3, dtype=np.float32)[labels] * 0.8
                                              + 0.2 / 3),
      "bce": jn.binary_cross_entropy(probs, targets),
      "bce_logits": jn.binary_cross_entropy(logits[:, 0], targets, from_logits=True),
  }
  out = {k: {"jaxdsp": float(v)} for k, v in ours.items()}
  try:
    import torch  # pylint: disable=import-outside-toplevel
  except ImportError:
    print("torch is not installed: PyTorch's values are not shown")
    return out
  T = torch.from_numpy
  theirs = {
      "l1": torch.nn.L1Loss()(T(p), T(t)), "mse": torch.nn.MSELoss()(T(p), T(t)),
      "cross_entropy": torch.nn.CrossEntropyLoss()(T(logits), T(labels)),
      "cross_entropy_probs": torch.nn.CrossEntropyLoss()(
          T(logits), T(np.eye(3, dtype=np.float32)[labels] * 0.8 + 0.2 / 3)),
      "bce": torch.nn.BCELoss()(T(probs), T(targets)),
      "bce_logits": torch.nn.BCEWithLogitsLoss()(T(logits[:, 0].copy()), T(targets)),
  }
  for k, v in theirs.items():
    out[k]["torch"] = float(v)
  return out


def main(argv=None) -> dict:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--out", default=os.path.join("out", "losses_and_optimizers"),
                      help="output directory")
  parser.add_argument("--quick", action="store_true",
                      help="fewer examples and epochs, no momentum run")
  args = parser.parse_args(argv)
  os.makedirs(args.out, exist_ok=True)

  result = {"losses": loss_examples()}
  print(f"{'loss':20s} {'jaxdsp':>10s} {'torch':>10s}")
  for name, v in result["losses"].items():
    torch_v = f"{v['torch']:10.6f}" if "torch" in v else "         -"
    print(f"{name:20s} {v['jaxdsp']:10.6f} {torch_v}")

  rng = np.random.default_rng(0)
  n = 256 if args.quick else 2000
  x = rng.uniform(0, 0.5, (n, 2)).astype(np.float32)
  train = (x, x.sum(axis=1, keepdims=True))
  epochs = 5 if args.quick else 30
  curves = {}
  print(f"\n{'loss':5s} {'optimizer':14s} {'first epoch':>12s} {'last epoch':>11s} "
        f"{'MSE after':>10s}")
  optimizers = ("sgd", "adam") if args.quick else tuple(OPTIMIZERS)
  for loss in ("l1", "mse"):
    for opt_name in optimizers:
      opt = OPTIMIZERS[opt_name]
      net = jn.DeepNet(2, [5, 5], 1, rngs=nnx.Rngs(0))
      tx = jn.make_optimizer(opt["optimizer"], opt["learning_rate"], momentum=opt.get("momentum"))
      h = jn.fit(net, train, loss=loss, optimizer=tx, epochs=epochs, batch_size=16,
                 progress=False)
      mse_after = jn.evaluate(net, train, loss="mse")["loss"]
      curves[f"{loss}/{opt_name}"] = h["loss"]
      print(f"{loss:5s} {opt_name:14s} {h['loss'][0]:12.5f} {h['loss'][-1]:11.5f} "
            f"{mse_after:10.6f}")
  result["curves"] = curves

  try:
    from matplotlib.figure import Figure  # pylint: disable=import-outside-toplevel
  except ImportError:
    print("matplotlib is not installed: no figure")
  else:
    fig = Figure(figsize=(9, 3.5), layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, loss in zip(axes, ("l1", "mse")):
      for opt_name in optimizers:
        ax.semilogy(np.arange(1, epochs + 1), curves[f"{loss}/{opt_name}"], label=opt_name)
      ax.set(title=f"{loss.upper()} loss, learning a + b", xlabel="epoch", ylabel="train loss")
      ax.legend()
    result["figure"] = os.path.join(args.out, "losses_and_optimizers.png")
    fig.savefig(result["figure"], dpi=100)
  with open(os.path.join(args.out, "losses_and_optimizers.json"), "w") as f:
    json.dump(result, f, indent=1)
  return result


if __name__ == "__main__":
  main()
