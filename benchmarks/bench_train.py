"""Time per training step of the course's CNN: jaxdsp (Flax NNX + optax) vs PyTorch, one run.

The model is the course's sound classifier: 4 blocks of Conv2d(3×3, padding 2) → ReLU →
MaxPool(2) with 16/32/64/128 channels, then Flatten → Linear(→ 10), on log-mel input
``(batch, 1, 64, 173)`` (4 s at 22050 Hz, hop 512); one step is forward + cross-entropy +
backward + Adam update. Both contenders get the same inputs and initial weights; JAX is warmed
up (compiled) first and every timing blocks on the result. Reported: the median (and the
minimum) over ``--repeats`` of the mean time of ``--steps`` consecutive steps. Rows: the jitted
step ``fit`` runs, the public ``train_step`` (which also splits/updates the nnx objects per
call), optionally ``conv="lax"`` (XLA's own convolution gradients), the jitted step data-parallel
over 1 and 2 host CPU devices (``--xla_force_host_platform_device_count=2``: the batch sharded over
a ``"data"`` mesh, parameters replicated, as ``fit(devices=...)`` runs it), and PyTorch.

On a machine shared with other jobs wall-clock times swing by 2-10× (PyTorch's thread pool
suffers most); ``--single-thread`` gives each contender one thread and times process CPU time,
a comparison that holds up under load.

  python benchmarks/bench_train.py                    # batch 32, 1×64×173, all cores
  python benchmarks/bench_train.py --single-thread    # one thread each, CPU time
  python benchmarks/bench_train.py --quick            # small sizes (smoke test)
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

CLOCK = time.perf_counter  # wall clock; --single-thread switches to process CPU time


def _time(fn, *, steps, repeats):
  """(median, min) over ``repeats`` of the mean time per step of ``steps`` consecutive steps."""
  times = []
  for _ in range(repeats):
    t0 = CLOCK()
    fn(steps)
    times.append((CLOCK() - t0) / steps)
  return statistics.median(times), min(times)


def bench_jax(model, x, y, *, steps, repeats, public_api=False, devices=1):
  """fit's path: the jitted functional step on split state (``public_api``: ``jn.train_step``,
  which also splits and updates the nnx objects every call), on ``devices`` CPU devices."""
  import jax
  import jax.numpy as jnp
  import numpy as np
  from flax import nnx
  from jaxdsp import nn as jn
  tx = jn.make_optimizer("adam", 1e-3)
  opt = nnx.Optimizer(model, tx, wrt=nnx.Param)
  loss = jn.get_loss("cross_entropy")
  x, y = jnp.asarray(x), jnp.asarray(y)
  if public_api:
    def run(n):
      for _ in range(n):
        m = jn.train_step(model, opt, x, y, loss=loss)
      jax.block_until_ready(m["loss"])
  else:
    from jaxdsp.nn.train import _Placement, _step_fn, _train_step_impl  # what fit runs
    place = _Placement(devices)
    graphdef, state = nnx.split((model, opt))
    step = _step_fn(_train_step_impl, graphdef, loss, None, place.sharding)
    box = [place.state(state)]
    x, y = place.arrays(np.asarray(x), np.asarray(y))
    key = place.state(jax.random.key(0))

    def run(n):
      s = box[0]
      for _ in range(n):
        s, m = step(s, x, y, key)
      jax.block_until_ready(m["loss"])
      box[0] = s
  run(1)  # compile
  return _time(run, steps=steps, repeats=repeats)


def bench_torch(weights, x, y, *, channels, steps, repeats, threads):
  import numpy as np
  import torch
  torch.set_num_threads(threads)
  kernels, biases, dense_w, dense_b = weights
  layers, c_in = [], 1
  for k, b in zip(kernels, biases):
    conv = torch.nn.Conv2d(c_in, k.shape[3], kernel_size=3, stride=1, padding=2)
    conv.weight.data = torch.tensor(k.transpose(3, 2, 0, 1).copy())
    conv.bias.data = torch.tensor(b)
    layers += [conv, torch.nn.ReLU(), torch.nn.MaxPool2d(kernel_size=2)]
    c_in = k.shape[3]
  linear = torch.nn.Linear(dense_w.shape[0], dense_w.shape[1])
  linear.weight.data = torch.tensor(dense_w.T.copy())
  linear.bias.data = torch.tensor(dense_b)
  net = torch.nn.Sequential(*layers, torch.nn.Flatten(), linear)
  opt = torch.optim.Adam(net.parameters(), lr=1e-3)
  loss_fn = torch.nn.CrossEntropyLoss()
  tx, ty = torch.from_numpy(x[:, None]), torch.from_numpy(y.astype(np.int64))

  def run(n):
    for _ in range(n):
      opt.zero_grad()
      loss = loss_fn(net(tx), ty)
      loss.backward()
      opt.step()

  run(1)
  return _time(run, steps=steps, repeats=repeats), torch.__version__


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--batch", type=int, default=32)
  parser.add_argument("--n-mels", type=int, default=64)
  parser.add_argument("--n-frames", type=int, default=173)
  parser.add_argument("--steps", type=int, default=5, help="steps per timed repeat")
  parser.add_argument("--repeats", type=int, default=5)
  parser.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                      help="PyTorch intra-op threads (default: all cores, as XLA uses)")
  parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
  parser.add_argument("--no-torch", action="store_true")
  parser.add_argument("--with-lax", action="store_true",
                      help="also time conv='lax' (XLA's own convolution gradients: ~10x slower)")
  parser.add_argument("--no-devices", action="store_true",
                      help="skip the 1 vs 2 CPU device rows (which split the host into 2 devices)")
  parser.add_argument("--single-thread", action="store_true",
                      help="one thread each (XLA and torch), timed in process CPU time: a "
                      "comparison that holds up on a machine shared with other jobs")
  args = parser.parse_args(argv)
  global CLOCK
  if args.single_thread:
    if "jax" in __import__("sys").modules:
      raise SystemExit("--single-thread must be set before jax is imported (run as a script)")
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                               " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
    args.threads = 1
    CLOCK = time.process_time
  if not args.no_devices:
    if "jax" in __import__("sys").modules:
      raise SystemExit("the device rows need XLA_FLAGS set before jax is imported (run as a script)")
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                               + " --xla_force_host_platform_device_count=2")
  import jax
  import numpy as np
  from flax import nnx
  from jaxdsp import nn as jn

  if args.quick:
    args.batch, args.n_mels, args.n_frames, args.steps, args.repeats = 4, 16, 24, 2, 2
  channels = (16, 32, 64, 128)

  rng = np.random.default_rng(12345)
  shape = (args.n_mels, args.n_frames)
  x = rng.standard_normal((args.batch, *shape)).astype(np.float32)
  y = rng.integers(0, 10, args.batch).astype(np.int32)
  model = jn.CNN(shape, 10, channels=channels, rngs=nnx.Rngs(0))
  weights = ([np.asarray(c.kernel[...]) for c in model.convs],
             [np.asarray(c.bias[...]) for c in model.convs],
             np.asarray(model.dense.kernel[...]), np.asarray(model.dense.bias[...]))

  rows = []
  for conv in ("auto", "lax") if args.with_lax else ("auto",):
    m = jn.CNN.from_weights(shape, *weights, conv=conv)
    t = bench_jax(m, x, y, steps=args.steps if conv == "auto" else 1,
                  repeats=args.repeats if conv == "auto" else 2)
    rows.append((f"jaxdsp CNN (conv={conv!r}), fit's jitted step", t))
  if not args.no_devices and args.batch % 2 == 0:
    for k in (1, 2):
      m = jn.CNN.from_weights(shape, *weights)
      rows.append((f"jaxdsp CNN, fit's step on {k} CPU device{'s' if k > 1 else ''}",
                   bench_jax(m, x, y, steps=args.steps, repeats=args.repeats, devices=k)))
  m = jn.CNN.from_weights(shape, *weights)
  rows.append(("jaxdsp CNN, public train_step()", bench_jax(m, x, y, steps=args.steps,
                                                              repeats=args.repeats,
                                                              public_api=True)))
  if not args.no_torch:
    try:
      t, version = bench_torch(weights, x, y, channels=channels, steps=args.steps,
                               repeats=args.repeats, threads=args.threads)
      rows.append((f"PyTorch {version} ({args.threads} threads)", t))
    except ImportError:
      print("torch not installed: PyTorch row skipped")

  clock = "process CPU time, 1 thread each" if args.single_thread else "wall clock"
  print(f"\nCNN train step, batch {args.batch}, input 1x{args.n_mels}x{args.n_frames}, Adam, "
        f"cross-entropy; jax {jax.__version__} on {jax.default_backend()} "
        f"({os.cpu_count()} CPU cores visible, {jax.device_count()} jax devices); {clock}")
  ref = rows[0][1][0]
  torch_t = rows[-1][1] if rows[-1][0].startswith("PyTorch") else None
  print(f"{'contender':48s} {'median ms':>10s} {'min ms':>8s} {'vs jaxdsp':>10s} {'vs torch':>9s}")
  for name, (med, best) in rows:
    vs_torch = f"{med / torch_t[0]:8.2f}x" if torch_t else "       -"
    print(f"{name:48s} {med * 1e3:10.1f} {best * 1e3:8.1f} {med / ref:9.2f}x {vs_torch}")
  if torch_t:
    print(f"\njaxdsp / PyTorch time per step: {ref / torch_t[0]:.2f} (medians), "
          f"{rows[0][1][1] / torch_t[1]:.2f} (minima); bar: <= 1.0")


if __name__ == "__main__":
  main()
