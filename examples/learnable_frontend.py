"""Learnable front-ends: filters that move to where the information is.

1. One learnable Morlet filter, started an octave below a tone in noise, finds it by gradient
   descent on its output energy (log-Hz / log-Q parameters, a wide start, unit-energy filters);
   started narrow, the same filter stays put (its gradient vanishes away from the tone).
2. A task where the fixed mel resolution is poor: four classes of steady tones 60 Hz apart near
   4.9 kHz (all between the same two mel filters) under a band-noise masker. The same small CNN
   is trained by ``jaxdsp.nn.fit`` on a fixed log-mel front-end and on a learnable
   ``MorletFilterbank`` (its own learning rate via ``frontend_optimizer``; filter movement logged
   every epoch by ``filter_movement_callback``), and tested on held-out clips.
3. A figure: the filters near the tones before and after training, and the energy-descent path.

    python examples/learnable_frontend.py --out out/learnable_frontend
    python examples/learnable_frontend.py --out /tmp/learnable_frontend --quick

``experiments/learnable_vs_mel.py`` runs the comparison over several seeds (and LEAF).
"""

from __future__ import annotations

import argparse
import functools
import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from jaxdsp import nn as jn

SR = 16000
CLASS_FREQS = (4800.0, 4860.0, 4920.0, 4980.0)


# ---------------------------------------------------------------------------------------------
# 1. One filter finds a tone.


def find_tone(*, start_hz: float, tone_hz: float, q: float, sr: int = 8000, n: int = 4096,
              steps: int = 200, noise: float = 0.1, seed: int = 0) -> dict:
  """Adam (lr 0.05, cosine-decayed) on ``-mean(log-magnitude)`` of one ``norm="energy"`` Morlet
  filter started at ``start_hz`` with Q ``q``, for a tone at ``tone_hz`` in white noise.

  Returns the centre frequency and Q after each step.
  """
  rng = np.random.default_rng(seed)
  t = np.arange(n) / sr
  x = np.sin(2 * np.pi * tone_hz * t + rng.uniform(0, 2 * np.pi)) + noise * rng.standard_normal(n)
  # fixed ranges, so that every run has the same graph (compiled once)
  fb = jn.MorletFilterbank(sr=sr, init=[start_hz], q=q, hop_length=256, norm="energy",
                           freq_range=(sr / 80, 0.499 * sr), min_bandwidth=sr / 1000)
  graphdef, params, rest = nnx.split(fb, nnx.Param, ...)
  f, q_path = _descend(graphdef, params, rest, jnp.asarray(x[None].astype(np.float32)), steps)
  return {"center_hz": np.asarray(f).tolist(), "q": np.asarray(q_path).tolist()}


@functools.partial(jax.jit, static_argnums=(0, 4))
def _descend(graphdef, params, rest, x, steps):
  tx = optax.adam(optax.cosine_decay_schedule(0.05, steps))

  def loss(p):
    return -jnp.mean(nnx.merge(graphdef, p, rest)(x))

  def step(carry, _):
    p, s = carry
    u, s = tx.update(jax.grad(loss)(p), s, p)
    p = optax.apply_updates(p, u)
    m = nnx.merge(graphdef, p, rest)
    return (p, s), (m.center_frequencies()[0], m.quality_factors()[0])

  _, path = jax.lax.scan(step, (params, tx.init(params)), None, length=steps)
  return path


# ---------------------------------------------------------------------------------------------
# 2. Close tones: the task.


def _band_noise(rng, n, sr, lo, hi):
  spec = np.fft.rfft(rng.standard_normal(n))
  f = np.fft.rfftfreq(n, 1 / sr)
  spec *= (f >= lo) & (f <= hi)
  y = np.fft.irfft(spec, n)
  return y / (np.sqrt(np.mean(y**2)) + 1e-12)


def make_close_tones(n_examples: int, seed: int, *, sr: int = SR, duration: float = 0.25,
                     masker_db: tuple[float, float] = (-3.0, 6.0),
                     jitter: float = 5.0) -> tuple[np.ndarray, np.ndarray]:
  """``(x (n, n_samples) float32, y (n,) int32)``: class ``k`` is a tone at
  ``CLASS_FREQS[k] ± jitter`` Hz.

  Each clip: the tone at RMS ``10^U(-1, 0)``; a masker of band noise (centre U(4.4, 5.4) kHz,
  width U(200, 600) Hz) ``U(masker_db)`` dB relative to the tone; a harmonic distractor (f0
  100–400 Hz, partials below 2 kHz) 0–10 dB above it; white noise 40 dB below it; 10 ms fades.
  """
  rng = np.random.default_rng(seed)
  n = int(round(duration * sr))
  t = np.arange(n) / sr
  fade = np.minimum(1.0, np.minimum(np.arange(n), np.arange(n)[::-1]) / (0.01 * sr))
  x = np.empty((n_examples, n), np.float32)
  y = rng.integers(0, len(CLASS_FREQS), n_examples).astype(np.int32)
  for i in range(n_examples):
    f = CLASS_FREQS[y[i]] + rng.uniform(-jitter, jitter)
    rms = 10 ** rng.uniform(-1.0, 0.0)
    tone = np.sqrt(2) * rms * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))
    c, w = rng.uniform(4400, 5400), rng.uniform(200, 600)
    masker = _band_noise(rng, n, sr, c - w / 2, c + w / 2) * rms * 10 ** (rng.uniform(*masker_db) / 20)
    f0 = rng.uniform(100, 400)
    distractor = sum(0.7**k * np.sin(2 * np.pi * (k + 1) * f0 * t + rng.uniform(0, 2 * np.pi))
                     for k in range(int(2000 // f0)))
    distractor *= rms * 10 ** (rng.uniform(0, 10) / 20) / (np.sqrt(np.mean(distractor**2)) + 1e-12)
    white = rng.standard_normal(n) * rms * 1e-2
    x[i] = (fade * (tone + masker + distractor + white)).astype(np.float32)
  return x, y


def make_model(frontend: str, n_samples: int, seed: int, *, n_filters: int = 40,
               hop: int = 128) -> jn.CNN:
  """The same small CNN on a ``"logmel"``, ``"morlet"``, ``"leaf"`` or ``"learnable_mel"``
  front-end with ``n_filters`` filters on the mel grid up to Nyquist."""
  if frontend == "logmel":
    fe = jn.LogMel(sr=SR, n_fft=512, hop_length=hop, n_mels=n_filters)
  elif frontend == "learnable_mel":
    fe = jn.LearnableMel(sr=SR, n_fft=512, hop_length=hop, n_mels=n_filters)
  elif frontend == "morlet":
    fe = jn.MorletFilterbank(sr=SR, n_filters=n_filters, fmin=0.0, hop_length=hop)
  elif frontend == "leaf":
    fe = jn.Leaf(sr=SR, n_filters=n_filters, fmin=0.0, hop_length=hop)
  else:
    raise ValueError(f"frontend must be 'logmel', 'learnable_mel', 'morlet' or 'leaf', got {frontend!r}")
  return jn.CNN((n_samples,), len(CLASS_FREQS), channels=(8, 16), padding=1, standardize=True,
                frontend=fe, rngs=nnx.Rngs(seed))


def train(frontend: str, train_data, val_data, *, epochs: int, seed: int = 0,
          batch_size: int = 32, lr: float = 2e-3, frontend_lr: float = 2e-2):
  """Trains ``make_model(frontend)`` with ``fit``; learnable front-ends get ``frontend_lr``
  (cosine-decayed) through ``frontend_optimizer`` and a ``filter_movement_callback``."""
  model = make_model(frontend, train_data[0].shape[1], seed)
  if frontend == "logmel":
    tx, callbacks = jn.make_optimizer("adam", lr), []
  else:
    steps = epochs * -(-len(train_data[0]) // batch_size)
    tx = jn.frontend_optimizer(frontend_lr=optax.cosine_decay_schedule(frontend_lr, steps),
                               backbone_lr=lr)
    callbacks = [jn.filter_movement_callback()]
  history = jn.fit(model, train_data, val_data, loss="cross_entropy", optimizer=tx,
                   epochs=epochs, batch_size=batch_size, seed=seed, callbacks=callbacks,
                   progress=False)
  return model, history


# ---------------------------------------------------------------------------------------------
# 3. Figure.


def _response_db(fe, freqs: np.ndarray) -> np.ndarray:
  """Filter magnitude responses (dB, peak 0) at ``freqs`` from centres and bandwidths."""
  c = np.asarray(fe.center_frequencies(), dtype=np.float64)
  sigma = np.asarray(fe.bandwidths(), dtype=np.float64) / (2 * np.sqrt(np.log(2)))
  return 20 * np.log10(np.exp(-0.5 * ((freqs[None] - c[:, None]) / sigma[:, None]) ** 2) + 1e-12)


def plot(path: str, tone_runs: dict, initial_fe, trained_fe, dpi: int) -> None:
  from matplotlib.figure import Figure  # pylint: disable=import-outside-toplevel

  fig = Figure(figsize=(11, 4.2), layout="constrained")
  ax1, ax2 = fig.subplots(1, 2)
  for label, run in tone_runs.items():
    ax1.plot(run["center_hz"], label=label)
  ax1.axhline(2000.0, color="k", lw=0.8, ls="--", label="tone")
  ax1.set(xlabel="step", ylabel="centre frequency (Hz)", yscale="log",
          title="one Morlet filter vs a 2 kHz tone in noise")
  ax1.legend(fontsize=8)
  freqs = np.linspace(4000, 6000, 2001)
  near = np.abs(np.asarray(initial_fe.center_frequencies()) - 4900) < 1000
  for rows, style, label in ((_response_db(initial_fe, freqs)[near], ":", "initial (mel grid)"),
                             (_response_db(trained_fe, freqs)[near], "-", "learned")):
    for i, r in enumerate(rows):
      ax2.plot(freqs, r, style, color=f"C{i}", label=label if i == 0 else None)
  for f in CLASS_FREQS:
    ax2.axvline(f, color="k", lw=0.6, alpha=0.5)
  ax2.set(xlabel="frequency (Hz)", ylabel="response (dB)", ylim=(-30, 3),
          title="Morlet filters near the class tones (black lines)")
  ax2.legend(fontsize=8)
  fig.savefig(path, dpi=dpi)


def main(argv=None) -> dict:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--out", default=os.path.join("out", "learnable_frontend"), help="output directory")
  parser.add_argument("--quick", action="store_true",
                      help="smoke run: fewer steps, 64 clips, 1 epoch, learnable front-end only")
  parser.add_argument("--epochs", type=int, default=20)
  args = parser.parse_args(argv)
  os.makedirs(args.out, exist_ok=True)
  quick = args.quick
  summary: dict = {}

  steps = 100 if quick else 200
  tone_runs = {"wide start (Q=1)": find_tone(start_hz=1000.0, tone_hz=2000.0, q=1.0, steps=steps),
               "narrow start (Q=20)": find_tone(start_hz=1000.0, tone_hz=2000.0, q=20.0, steps=steps)}
  for label, run in tone_runs.items():
    print(f"tone at 2000 Hz, filter from 1000 Hz, {label}: ends at {run['center_hz'][-1]:.1f} Hz, "
          f"Q {run['q'][-1]:.1f}")
  summary["tone"] = {k: {"final_hz": v["center_hz"][-1], "final_q": v["q"][-1]}
                     for k, v in tone_runs.items()}

  # quick: a smoke run of the learnable path only (one epoch on a few clips)
  n_train, n_test, epochs = (64, 64, 1) if quick else (1024, 1024, args.epochs)
  train_data, val_data = make_close_tones(n_train, 1), make_close_tones(n_test // 2, 2)
  test_data = make_close_tones(n_test, 3)
  models = {}
  for frontend in (("morlet",) if quick else ("logmel", "morlet")):
    model, history = train(frontend, train_data, val_data, epochs=epochs)
    acc = jn.evaluate(model, test_data, loss="cross_entropy")["accuracy"]
    models[frontend] = model
    summary[frontend] = {"test_accuracy": acc, "val_accuracy": history["val_accuracy"],
                         "loss": history["loss"]}
    line = f"{frontend:>7} + CNN, {epochs} epochs: held-out accuracy {acc:.3f}"
    if "filters/center_shift_hz_mean" in history:
      shifts = history["filters/center_shift_hz_mean"]
      summary[frontend]["center_shift_hz_mean"] = shifts
      line += f"; mean filter shift per epoch (Hz): {', '.join(f'{v:.0f}' for v in shifts)}"
    print(line)

  m = jn.filter_movement(models["morlet"].frontend)
  near = np.abs(m["initial_center_hz"] - np.mean(CLASS_FREQS)) < 1000
  for c0, c, b0, b in zip(m["initial_center_hz"][near], m["center_hz"][near],
                          m["initial_bandwidth_hz"][near], m["bandwidth_hz"][near]):
    print(f"  filter {c0:7.1f} Hz -> {c:7.1f} Hz, bandwidth {b0:6.1f} -> {b:6.1f} Hz")
  summary["morlet_filters_near_tones"] = [
      {"initial_hz": float(a), "hz": float(b), "initial_bw_hz": float(c), "bw_hz": float(d)}
      for a, b, c, d in zip(m["initial_center_hz"][near], m["center_hz"][near],
                            m["initial_bandwidth_hz"][near], m["bandwidth_hz"][near])]

  initial = make_model("morlet", train_data[0].shape[1], 0).frontend
  path = os.path.join(args.out, "learnable_frontend.png")
  plot(path, tone_runs, initial, models["morlet"].frontend, dpi=60 if quick else 100)
  with open(os.path.join(args.out, "summary.json"), "w") as f:
    json.dump(summary, f, indent=2)
  print(f"wrote {path} and summary.json")
  summary["figure"] = path
  return summary


if __name__ == "__main__":
  main()
