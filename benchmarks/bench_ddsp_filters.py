"""lfilter speed: jaxdsp forward and forward+backward vs torchaudio.functional.lfilter (forward and
backward) and scipy.signal.lfilter (forward), in one run on the same float32 batches: [32, 4096] and
[32, 441000] (10 s at 44.1 kHz), a biquad by default (``--order`` for a Butterworth of another order).

* jaxdsp: ``jax.jit(lambda x, b, a: jd.lfilter(x, b=b, a=a))``; backward is
  ``jax.jit(jax.grad(loss, argnums=(0, 1, 2)))`` of ``sum(y * w)`` (gradients for the signal and both
  coefficient vectors), timed as forward+backward. XLA uses every core unless ``--one-core``, which
  pins the whole process (jaxdsp, torch and scipy alike) to one CPU with ``os.sched_setaffinity``.
* jaxdsp forward mode: ``jax.jvp`` with tangents for ``x``, ``b`` and ``a`` (primal and tangent output).
* torchaudio: ``lfilter(x, a, b, clamp=False)`` forward, and ``loss.backward()`` of the same loss with
  ``x``, ``a``, ``b`` requiring grad, on ``torch.set_num_threads(--torch-threads)`` threads (default 1,
  as in torchaudio PR #3831, which reports 2.6 ms forward and 6.6 ms backward at [32, 4096] on one
  thread). The script also prints how far jaxdsp's output and gradients are from torchaudio's (relative
  to their peaks), so a wrong comparison shows.
* scipy: ``scipy.signal.lfilter(b, a, x)`` on the float32 batch. scipy has no gradient; its
  "fwd+adj" column is the least a hand-written scipy backward costs: the forward call plus the adjoint
  filter on the time-reversed cotangent (a second ``lfilter``), coefficient correlations not counted.

torchaudio is not in the ``[bench]`` extra: no torchaudio wheel loads beside the torch (2.13) that the
test extra installs. Measure it from a side virtual environment holding torch 2.9.1 and torchaudio 2.9
(a CUDA build, several GB, that runs on CPU), with jaxdsp taken from the checkout::

    python3 -m venv /tmp/tavenv
    /tmp/tavenv/bin/pip install torch==2.9.1 'torchaudio==2.9.*' jax jaxlib flax optax chex \\
        orbax-checkpoint soundfile tensorboardX tqdm scipy pytest
    PYTHONPATH=$PWD /tmp/tavenv/bin/python benchmarks/bench_ddsp_filters.py --torch-threads 1

Without torchaudio only scipy is compared. The timed calls are interleaved (each contender in turn,
``--repeats`` rounds; in each round an untimed call, which also compiles in round 1, then the timed one),
so a change of machine load hits all of them alike; the script prints each contender's median and
minimum over the rounds (on a busy machine the minimum is the least disturbed) and jaxdsp's time over
the other's for both (< 1: jaxdsp faster). The 1-minute load average is printed before and after.

    python benchmarks/bench_ddsp_filters.py            # both shapes
    python benchmarks/bench_ddsp_filters.py --quick    # [32, 4096] only

Measured 2026-12-06 (2-core host at load 6-8, shared with other jobs; jax 0.10.2, torch 2.9.1, torchaudio
2.9.1, torchaudio on one thread), jaxdsp's time over torchaudio's, median (min) of 9 rounds:

=============== ============== ============== ============== ==============
run             fwd [32,4096]  f+b [32,4096]  fwd [32,441k]  f+b [32,441k]
=============== ============== ============== ============== ==============
jaxdsp 2 cores  0.19 (0.36)    0.53 (0.40)    0.48 (0.34)    0.45 (0.43)
``--one-core``  0.44 (0.28)    0.42 (0.17)    0.40 (0.37)    0.38 (0.33)
=============== ============== ============== ============== ==============

torchaudio on 2 threads is slower on this busy host (96 ms forward at [32, 4096] against 6.6 ms on
one). Against float64, jaxdsp's float32 gradient for ``a`` errs 1e-7 of its peak, torchaudio's 9e-5;
outputs agree to 7.5e-7. jaxdsp's forward takes 1.1-3.3× scipy's (which has no gradient).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time


def _torch():
  try:
    import torch  # pylint: disable=import-outside-toplevel
    import torchaudio.functional as taf  # pylint: disable=import-outside-toplevel
    return torch, taf
  except Exception:  # pylint: disable=broad-except  (a torchaudio built for another torch raises OSError)
    return None, None


def _interleaved(fns: dict, repeats: int) -> tuple[dict, dict]:
  """Median and minimum wall time of each ``fns[name]()`` (which must block on its result) over ``repeats`` rounds.

  Each round calls every contender twice in a row and times the second call: the first (untimed) one
  compiles (round 1) and wakes XLA's worker threads, which after another library's call would otherwise
  wait for the scheduler on a busy machine (measured up to 4x on a loaded 2-core host).
  """
  times = {name: [] for name in fns}
  for _ in range(repeats):
    for name, fn in fns.items():
      fn()
      t0 = time.perf_counter()
      fn()
      times[name].append(time.perf_counter() - t0)
  return ({name: statistics.median(t) for name, t in times.items()}, {name: min(t) for name, t in times.items()})


def _rel(x, ref) -> float:
  import numpy as np  # pylint: disable=import-outside-toplevel
  x, ref = np.asarray(x, np.float64), np.asarray(ref, np.float64)
  return float(np.abs(x - ref).max() / np.abs(ref).max())


def main():
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--order", type=int, default=2)
  parser.add_argument("--repeats", type=int, default=7)
  parser.add_argument("--torch-threads", type=int, default=1)
  parser.add_argument("--one-core", action="store_true", help="pin the process to one CPU (all contenders)")
  parser.add_argument("--quick", action="store_true")
  args = parser.parse_args()
  if args.one_core:  # before jax starts its thread pools
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

  import jax  # pylint: disable=import-outside-toplevel
  import jax.numpy as jnp  # pylint: disable=import-outside-toplevel
  import numpy as np  # pylint: disable=import-outside-toplevel
  import scipy  # pylint: disable=import-outside-toplevel
  import scipy.signal as ss  # pylint: disable=import-outside-toplevel

  import jaxdsp as jd  # pylint: disable=import-outside-toplevel

  shapes = [(32, 4096)] if args.quick else [(32, 4096), (32, 441000)]
  b, a = (c.astype(np.float32) for c in ss.butter(args.order, 0.1))
  torch, taf = _torch()
  versions = f"jax {jax.__version__}, scipy {scipy.__version__}"
  if torch is not None:
    import torchaudio  # pylint: disable=import-outside-toplevel
    torch.set_num_threads(args.torch_threads)
    versions += f", torch {torch.__version__}, torchaudio {torchaudio.__version__} ({args.torch_threads} thread(s))"
  rng = np.random.default_rng(0)
  fwd = jax.jit(lambda x, b, a: jd.lfilter(x, b=b, a=a))
  bwd = jax.jit(jax.grad(lambda x, b, a, w: jnp.sum(jd.lfilter(x, b=b, a=a) * w), argnums=(0, 1, 2)))
  jvp = jax.jit(lambda x, b, a: jax.jvp(lambda x, b, a: jd.lfilter(x, b=b, a=a), (x, b, a), (x, b, a)))
  print(f"lfilter, Butterworth order {args.order}, float32, {jax.devices()[0].platform} "
        f"({len(os.sched_getaffinity(0))} CPU(s)); {versions}; "
        f"{args.repeats} interleaved rounds; load {os.getloadavg()[0]:.1f}")
  for shape in shapes:
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal(shape).astype(np.float32)
    xj, bj, aj, wj = jnp.asarray(x), jnp.asarray(b), jnp.asarray(a), jnp.asarray(w)
    fns = {
        "jaxdsp fwd": lambda: fwd(xj, bj, aj).block_until_ready(),
        "jaxdsp fwd+bwd": lambda: jax.block_until_ready(bwd(xj, bj, aj, wj)),
        "jaxdsp jvp": lambda: jax.block_until_ready(jvp(xj, bj, aj)),
        "scipy fwd": lambda: ss.lfilter(b, a, x),
        "scipy fwd+adj": lambda: (ss.lfilter(b, a, x), ss.lfilter(b, a, w[:, ::-1])),
    }
    if torch is not None:
      xt, at, bt, wt = (torch.from_numpy(np.array(c)) for c in (x, a, b, w))

      def torch_fb():
        xg, ag, bg = xt.clone().requires_grad_(), at.clone().requires_grad_(), bt.clone().requires_grad_()
        (taf.lfilter(xg, ag, bg, clamp=False) * wt).sum().backward()
        return xg.grad, ag.grad, bg.grad

      fns["torchaudio fwd"] = lambda: taf.lfilter(xt, at, bt, clamp=False)
      fns["torchaudio fwd+bwd"] = torch_fb
    med, low = _interleaved(fns, args.repeats)
    print(f"[{shape[0]}, {shape[1]}]  ms, median (min):  " + "   ".join(
        f"{name} {med[name] * 1e3:.2f} ({low[name] * 1e3:.2f})" for name in fns))
    others = [("scipy", "scipy fwd", "scipy fwd+adj")]
    if torch is not None:
      others.insert(0, ("torchaudio", "torchaudio fwd", "torchaudio fwd+bwd"))
    for label, f_name, b_name in others:
      print(f"  jaxdsp/{label}, median (min): fwd {med['jaxdsp fwd'] / med[f_name]:5.2f}x "
            f"({low['jaxdsp fwd'] / low[f_name]:5.2f}x)   fwd+bwd {med['jaxdsp fwd+bwd'] / med[b_name]:5.2f}x "
            f"({low['jaxdsp fwd+bwd'] / low[b_name]:5.2f}x)")
    if torch is None:
      print("  torchaudio: not importable (see the docstring for the side environment; PR #3831 reports "
            "2.6 ms fwd, 6.6 ms bwd at [32, 4096], one thread)")
      continue
    gx, gb, ga = bwd(xj, bj, aj, wj)
    tgx, tga, tgb = torch_fb()
    print(f"  jaxdsp vs torchaudio (max |diff| / peak): y {_rel(fwd(xj, bj, aj), fns['torchaudio fwd']()):.1e}"
          f"   dx {_rel(gx, tgx):.1e}   da {_rel(ga, tga):.1e}   db {_rel(gb, tgb):.1e}")
  print(f"load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
  main()
