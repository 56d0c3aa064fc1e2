"""Multi-resolution STFT loss, forward + backward: jaxdsp vs auraloss (CPU torch), in one run.

Both compute ``MultiResolutionSTFTLoss`` with auraloss's defaults (FFT sizes 1024/2048/512, hops
120/240/50, windows 600/1200/240, Hann, spectral convergence + log-magnitude L1) on the same random
batch (default ``[8, 44100]``) and its gradient with respect to the predictions:

* jaxdsp: ``jax.jit(jax.value_and_grad(jd.multi_resolution_stft_loss))`` (compilation excluded by a
  warm-up call; results waited for with ``jax.block_until_ready``);
* auraloss: ``loss = MultiResolutionSTFTLoss()(x, y); loss.backward()`` with ``torch.set_num_threads``
  (``--threads``, default 2), inputs ``(batch, 1, n)`` as auraloss takes them.

Forward alone is timed too. Every time is the median of ``--repeats`` runs after a warm-up; the
script prints both times, auraloss/jaxdsp ("× faster", > 1 favours jaxdsp) and the two loss values.

    python benchmarks/bench_ddsp_losses.py                 # [8, 44100]
    python benchmarks/bench_ddsp_losses.py --batch 32 --n 16000
"""

from __future__ import annotations

import argparse

import jax
import numpy as np

import jaxdsp as jd
from _timing import median_time


def main(argv=None) -> dict:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--batch", type=int, default=8)
  parser.add_argument("--n", type=int, default=44100, help="samples per example")
  parser.add_argument("--repeats", type=int, default=5)
  parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
  args = parser.parse_args(argv)

  rng = np.random.default_rng(0)
  x = rng.standard_normal((args.batch, args.n)).astype(np.float32)
  y = rng.standard_normal((args.batch, args.n)).astype(np.float32)
  xj, yj = jax.device_put(x), jax.device_put(y)
  fwd = jax.jit(jd.multi_resolution_stft_loss)
  fwd_bwd = jax.jit(jax.value_and_grad(jd.multi_resolution_stft_loss))
  jax_fwd = median_time(lambda: jax.block_until_ready(fwd(xj, yj)), args.repeats, warmup=True)
  jax_both = median_time(lambda: jax.block_until_ready(fwd_bwd(xj, yj)), args.repeats, warmup=True)
  result = {"jaxdsp_fwd": jax_fwd, "jaxdsp_fwd_bwd": jax_both, "jaxdsp_loss": float(fwd(xj, yj))}
  print(f"multi-resolution STFT loss on [{args.batch}, {args.n}] (auraloss defaults), median of {args.repeats}")
  print(f"  jaxdsp   forward {jax_fwd * 1e3:8.1f} ms   forward+backward {jax_both * 1e3:8.1f} ms")
  try:
    import auraloss  # pylint: disable=import-outside-toplevel
    import torch  # pylint: disable=import-outside-toplevel
  except ImportError:
    print("  auraloss/torch not installed: no comparison (pip install torch auraloss)")
    return result
  torch.set_num_threads(args.threads)
  loss_fn = auraloss.freq.MultiResolutionSTFTLoss()
  xt = torch.from_numpy(x[:, None].copy()).requires_grad_(True)
  yt = torch.from_numpy(y[:, None].copy())

  def torch_fwd():
    with torch.no_grad():
      return loss_fn(xt, yt).item()

  def torch_both():
    xt.grad = None
    loss = loss_fn(xt, yt)
    loss.backward()
    return loss.item()

  t_fwd = median_time(torch_fwd, args.repeats, warmup=True)
  t_both = median_time(torch_both, args.repeats, warmup=True)
  result.update(auraloss_fwd=t_fwd, auraloss_fwd_bwd=t_both, auraloss_loss=torch_fwd())
  print(f"  auraloss forward {t_fwd * 1e3:8.1f} ms   forward+backward {t_both * 1e3:8.1f} ms   "
        f"(torch {torch.__version__}, {args.threads} threads)")
  print(f"  auraloss / jaxdsp: forward {t_fwd / jax_fwd:.2f}x, forward+backward {t_both / jax_both:.2f}x faster")
  print(f"  loss values: jaxdsp {result['jaxdsp_loss']:.6f}, auraloss {result['auraloss_loss']:.6f}")
  return result


if __name__ == "__main__":
  main()
