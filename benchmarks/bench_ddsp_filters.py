"""lfilter speed: jaxdsp forward and forward+backward vs scipy.signal.lfilter (forward) and
torchaudio.functional.lfilter (forward and backward, when torch and torchaudio are importable), in one
run on the same float32 batches: [32, 4096] and [32, 441000] (10 s at 44.1 kHz), a biquad by default
(``--order`` for a Butterworth of another order).

* jaxdsp: ``jax.jit(lambda x, b, a: jd.lfilter(x, b=b, a=a))``; backward is
  ``jax.jit(jax.grad(loss, argnums=(0, 1, 2)))`` of ``sum(y * w)`` (gradients for the signal and both
  coefficient vectors), timed as forward+backward.
* scipy: ``scipy.signal.lfilter(b, a, x)`` on the float32 batch. scipy has no gradient; its
  "fwd+adj" column is the least a hand-written scipy backward costs: the forward call plus the adjoint
  filter on the time-reversed cotangent (a second ``lfilter``), coefficient correlations not counted.
* jaxdsp forward mode: ``jax.jvp`` with tangents for ``x``, ``b`` and ``a`` (primal and tangent output).
* torchaudio: ``lfilter(x, a, b, clamp=False)`` forward, and ``loss.backward()`` with ``x``, ``a``,
  ``b`` requiring grad (``torch.set_num_threads(--torch-threads)``, default 1 as in PR #3831, which
  reports 2.6 ms forward and 6.6 ms backward at [32, 4096] on one thread).

torchaudio has no CPU wheel for torch 2.13 (its newest, 2.11, fails to load its library against torch
2.13), so where it is missing scipy is the bar. Each time is the median of ``--repeats`` calls after a warm-up (compilation excluded). Ratios are
jaxdsp's time over the other's (< 1: jaxdsp faster).

    python benchmarks/bench_ddsp_filters.py            # both shapes
    python benchmarks/bench_ddsp_filters.py --quick    # [32, 4096] only
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import numpy as np
import scipy.signal as ss

import jaxdsp as jd
from _timing import median_time


def _torch():
  try:
    import torch  # pylint: disable=import-outside-toplevel
    import torchaudio.functional as taf  # pylint: disable=import-outside-toplevel
    return torch, taf
  except Exception:  # pylint: disable=broad-except
    return None, None


def main():
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--order", type=int, default=2)
  parser.add_argument("--repeats", type=int, default=5)
  parser.add_argument("--torch-threads", type=int, default=1)
  parser.add_argument("--quick", action="store_true")
  args = parser.parse_args()
  shapes = [(32, 4096)] if args.quick else [(32, 4096), (32, 441000)]
  b, a = (c.astype(np.float32) for c in ss.butter(args.order, 0.1))
  torch, taf = _torch()
  if torch is not None:
    torch.set_num_threads(args.torch_threads)
  rng = np.random.default_rng(0)
  fwd = jax.jit(lambda x, b, a: jd.lfilter(x, b=b, a=a))
  print(f"lfilter, Butterworth order {args.order}, float32, {jax.devices()[0].platform}; median of {args.repeats}")
  for shape in shapes:
    x = rng.standard_normal(shape).astype(np.float32)
    w = jnp.asarray(rng.standard_normal(shape).astype(np.float32))
    xj, bj, aj = jnp.asarray(x), jnp.asarray(b), jnp.asarray(a)
    bwd = jax.jit(jax.grad(lambda x, b, a, w: jnp.sum(jd.lfilter(x, b=b, a=a) * w), argnums=(0, 1, 2)))
    t_fwd = median_time(lambda: fwd(xj, bj, aj).block_until_ready(), args.repeats, warmup=True)
    t_bwd = median_time(lambda: jax.block_until_ready(bwd(xj, bj, aj, w)), args.repeats, warmup=True)
    jvp = jax.jit(lambda x, b, a: jax.jvp(lambda x, b, a: jd.lfilter(x, b=b, a=a), (x, b, a), (x, b, a)))
    t_jvp = median_time(lambda: jax.block_until_ready(jvp(xj, bj, aj)), args.repeats, warmup=True)
    t_sp = median_time(lambda: ss.lfilter(b, a, x), args.repeats, warmup=True)
    wn = np.asarray(w)
    t_spa = median_time(lambda: (ss.lfilter(b, a, x), ss.lfilter(b, a, wn[:, ::-1])), args.repeats, warmup=True)
    print(f"[{shape[0]}, {shape[1]}]  jaxdsp fwd {t_fwd * 1e3:8.2f} ms   fwd+bwd {t_bwd * 1e3:8.2f} ms   "
          f"jvp {t_jvp * 1e3:8.2f} ms   scipy fwd {t_sp * 1e3:8.2f} ms   fwd+adj {t_spa * 1e3:8.2f} ms   "
          f"jaxdsp/scipy fwd {t_fwd / t_sp:5.2f}x   fwd+bwd {t_bwd / t_spa:5.2f}x")
    if torch is None:
      print("  torchaudio: not installed (PR #3831 reports 2.6 ms fwd, 6.6 ms bwd at [32, 4096], one thread)")
      continue
    xt = torch.from_numpy(x)
    at, bt = torch.from_numpy(a), torch.from_numpy(b)
    t_tf = median_time(lambda: taf.lfilter(xt, at, bt, clamp=False), args.repeats, warmup=True)
    wt = torch.from_numpy(np.asarray(w))

    def torch_fb():
      xg, ag, bg = xt.clone().requires_grad_(), at.clone().requires_grad_(), bt.clone().requires_grad_()
      (taf.lfilter(xg, ag, bg, clamp=False) * wt).sum().backward()

    t_tb = median_time(torch_fb, args.repeats, warmup=True)
    print(f"  torchaudio fwd {t_tf * 1e3:8.2f} ms   fwd+bwd {t_tb * 1e3:8.2f} ms   "
          f"jaxdsp/torchaudio fwd {t_fwd / t_tf:5.2f}x   fwd+bwd {t_bwd / t_tb:5.2f}x")


if __name__ == "__main__":
  main()
