"""Train-step time of each learnable front-end against the fixed log-mel front-end, in one run.

Contenders (same batch of clips, 40 filters, 10 ms hop at 16 kHz):

* ``LogMel``: fixed log-mel (n_fft 512), the baseline;
* ``LearnableMel`` (trainable filterbank) and ``LearnableMel`` + trainable window;
* ``MorletFilterbank`` (log-Hz / log-Q Morlet filters, frequency domain);
* ``Leaf`` (Gabor filters, Gaussian pooling, PCEN).

Two timings per front-end, each the median of ``--repeats`` runs after a warm-up (compilation
excluded), blocking on the results; the contenders are timed round-robin, so that changes in
machine load hit them alike:

* ``frontend``: the front-end's forward + backward pass, the gradient of ``Σ out·g`` with respect
  to its parameters. The fixed log-mel has no parameters, so in a train step it costs its forward
  pass only: that is its entry (the strictest baseline), and ``fwd+bwd(x)`` (the gradient with
  respect to the input) is printed beside it for reference.
* ``train step``: one full ``jaxdsp.nn`` train step (forward, backward, Adam update) of the same
  ``CNN`` with that front-end.

The bar (issue 6): the Morlet and LEAF-style front-ends' forward+backward within 10× the fixed
log-mel's (the time-domain JAX LEAF in ``audax`` measured 2,500–3,600×).

    python benchmarks/bench_frontends.py             # 32 clips × 1 s
    python benchmarks/bench_frontends.py --quick     # 8 clips × 0.5 s, 3 repeats
"""

from __future__ import annotations

import argparse
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from jaxdsp import nn as jn
from jaxdsp.nn import train as _train

SR = 16000


def _timed(fn) -> float:
  t0 = time.perf_counter()
  jax.block_until_ready(fn())
  return time.perf_counter() - t0


def interleaved_medians(fns: dict, repeats: int) -> dict:
  """Median time of each callable; all are warmed up (compiled) first, then timed round-robin so
  that a change in machine load hits every contender alike."""
  for fn in fns.values():
    jax.block_until_ready(fn())
  times = {k: [] for k in fns}
  for _ in range(repeats):
    for k, fn in fns.items():
      times[k].append(_timed(fn))
  return {k: statistics.median(v) for k, v in times.items()}


def frontends(n_filters: int, hop: int) -> dict:
  return {
      "LogMel (fixed)": lambda: jn.LogMel(sr=SR, n_fft=512, hop_length=hop, n_mels=n_filters),
      "LearnableMel": lambda: jn.LearnableMel(sr=SR, n_fft=512, hop_length=hop, n_mels=n_filters),
      "LearnableMel+window": lambda: jn.LearnableMel(sr=SR, n_fft=512, hop_length=hop,
                                                     n_mels=n_filters, trainable_window=True),
      "MorletFilterbank": lambda: jn.MorletFilterbank(sr=SR, n_filters=n_filters, hop_length=hop),
      "Leaf": lambda: jn.Leaf(sr=SR, n_filters=n_filters, hop_length=hop),
  }


def frontend_fns(fe: nnx.Module, x: jax.Array) -> dict:
  """Callables for the front-end alone: ``fwd+bwd`` (gradient w.r.t. the parameters; forward
  only for a front-end without parameters) and, without parameters, ``grad_x``."""
  graphdef, params, rest = nnx.split(fe, nnx.Param, ...)
  g = jax.random.normal(jax.random.key(0), jax.eval_shape(lambda: fe(x)).shape, x.dtype)

  def out(p, x):
    return jnp.sum(nnx.merge(graphdef, p, rest)(x) * g)

  if jax.tree.leaves(params):
    main_fn = jax.jit(jax.grad(out))
    return {"frontend": lambda: main_fn(params, x)}
  fwd = jax.jit(out)
  grad_x = jax.jit(jax.grad(out, argnums=1))
  return {"frontend": lambda: fwd(params, x), "grad_x": lambda: grad_x(params, x)}


def train_step_fn(fe: nnx.Module, x: jax.Array, y: jax.Array):
  """One ``jaxdsp.nn`` train step (the jitted step ``fit`` runs) of a CNN on ``fe``."""
  model = jn.CNN((x.shape[-1],), 10, channels=(16, 32), padding=1, standardize=True, frontend=fe,
                 rngs=nnx.Rngs(0))
  opt = nnx.Optimizer(model, optax.adam(1e-3), wrt=nnx.Param)
  graphdef, state = nnx.split((model, opt))
  loss = jn.get_loss("cross_entropy")
  # no augmentation, one device (no placement)
  step = _train._step_fn(_train._train_step_impl, graphdef, loss, None, None)  # pylint: disable=protected-access
  key = jax.random.key(0)
  return lambda: step(state, x, y, key)[1]["loss"]


def main(argv=None) -> dict:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--quick", action="store_true", help="8 clips × 0.5 s, 2 repeats")
  parser.add_argument("--batch", type=int, default=32)
  parser.add_argument("--seconds", type=float, default=1.0)
  parser.add_argument("--n-filters", type=int, default=40)
  parser.add_argument("--hop", type=int, default=160)
  parser.add_argument("--repeats", type=int, default=11)
  args = parser.parse_args(argv)
  if args.quick:
    args.batch, args.seconds, args.repeats = 8, 0.5, 3
  rng = np.random.default_rng(12345)
  n = int(args.seconds * SR)
  x = jnp.asarray(rng.standard_normal((args.batch, n)).astype(np.float32) * 0.1)
  y = jnp.asarray(rng.integers(0, 10, args.batch).astype(np.int32))
  print(f"{jax.devices()[0].device_kind}: batch {args.batch} × {args.seconds} s at {SR} Hz, "
        f"{args.n_filters} filters, hop {args.hop}; median of {args.repeats}")
  fns = {}
  for name, make in frontends(args.n_filters, args.hop).items():
    for part, fn in frontend_fns(make(), x).items():
      fns[name, part] = fn
    fns[name, "train_step"] = train_step_fn(make(), x, y)
  med = interleaved_medians(fns, args.repeats)
  rows = {name: {"frontend_s": med[name, "frontend"], "frontend_grad_x_s": med.get((name, "grad_x")),
                 "train_step_s": med[name, "train_step"]} for name in frontends(1, 1)}
  base = rows["LogMel (fixed)"]
  print(f"{'front-end':<22}{'frontend (ms)':>15}{'× fixed':>9}{'train step (ms)':>17}{'× fixed':>9}")
  for name, r in rows.items():
    r["frontend_ratio"] = r["frontend_s"] / base["frontend_s"]
    r["train_step_ratio"] = r["train_step_s"] / base["train_step_s"]
    note = (f"   (fwd only; fwd+bwd(x) {1e3 * r['frontend_grad_x_s']:.1f} ms)"
            if r["frontend_grad_x_s"] is not None else "")
    print(f"{name:<22}{1e3 * r['frontend_s']:>15.2f}{r['frontend_ratio']:>9.2f}"
          f"{1e3 * r['train_step_s']:>17.2f}{r['train_step_ratio']:>9.2f}{note}")
  worst = max(rows["MorletFilterbank"]["frontend_ratio"], rows["Leaf"]["frontend_ratio"])
  print(f"bar: Morlet and LEAF-style front-end fwd+bwd ≤ 10× the fixed log-mel's forward: "
        f"{'met' if worst <= 10 else 'NOT met'} (worst {worst:.1f}×)")
  return rows


if __name__ == "__main__":
  main()
