"""Data-parallel training: ``fit`` over 4 host CPU devices (a subprocess with
``--xla_force_host_platform_device_count=4``) gives the one-device parameters to float32 round-off,
with the batch sharded over the ``"data"`` mesh axis and the state replicated; and two processes
joined by ``jax.distributed.initialize`` on a localhost coordinator train as one process does."""

from __future__ import annotations

import json
import os
import pathlib
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent

_COMMON = textwrap.dedent("""
    import json, sys
    import jax, numpy as np
    from flax import nnx
    from jaxdsp import nn as jn
    from jaxdsp.nn import augment as A

    def data(n=70):
      r = np.random.default_rng(0)
      x = r.standard_normal((n, 6)).astype(np.float32)
      y = (x[:, 0] > 0).astype(np.int32) + 2 * (x[:, 1] > 0)
      return x, y.astype(np.int32)

    def train(devices, x, y, batch_size, epochs=2):
      model = jn.DeepNet(6, [16], 4, activation="relu", output_activation=None, dropout=0.2,
                         rngs=nnx.Rngs(0))
      h = jn.fit(model, (x, y), (x, y) if jax.process_count() == 1 else None,
                 loss="cross_entropy", optimizer="adam", learning_rate=0.01, epochs=epochs,
                 batch_size=batch_size, shuffle=False, devices=devices, progress=False,
                 augment=A.RandomGain(min_db=-3.0, max_db=3.0))
      leaves = jax.tree.leaves(nnx.state(model, nnx.Param))
      return h, leaves
""")

_FOUR = _COMMON + textwrap.dedent("""
    assert jax.device_count() == 4, jax.devices()
    x, y = data()
    # 70 = 4 * 16 + 6: four batches sharded 4 ways, the last (6 rows) replicated.
    h1, p1 = train(1, x, y, 16)
    h4, p4 = train(None, x, y, 16)
    print(json.dumps({
        "devices_of_params": len(p4[0].sharding.device_set),
        "max_diff": max(float(np.max(np.abs(np.asarray(a) - np.asarray(b)))) for a, b in zip(p1, p4)),
        "loss1": h1["loss"], "loss4": h4["loss"], "val1": h1["val_loss"], "val4": h4["val_loss"],
        "moved": max(float(np.max(np.abs(np.asarray(a)))) for a in p1)}))
""")


def _run(code, env_extra, timeout=240):
  env = dict(os.environ, **env_extra)
  env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
  return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                        timeout=timeout, env=env, cwd=ROOT)


def test_four_cpu_devices_equal_one_device():
  r = _run(_FOUR, {"XLA_FLAGS": "--xla_force_host_platform_device_count=4",
                   "JAX_PLATFORMS": "cpu"})
  assert r.returncode == 0, r.stderr[-3000:]
  out = json.loads(r.stdout.strip().splitlines()[-1])
  assert out["devices_of_params"] == 4  # the state lives replicated on the 4 devices
  assert out["max_diff"] < 1e-5, out
  np.testing.assert_allclose(out["loss4"], out["loss1"], rtol=1e-5)
  np.testing.assert_allclose(out["val4"], out["val1"], rtol=1e-5)
  assert out["loss1"][-1] < out["loss1"][0]


_PROCESS = _COMMON + textwrap.dedent("""
    pid, port = int(sys.argv[1]), sys.argv[2]
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(f"localhost:{port}", num_processes=2, process_id=pid)
    assert jax.process_count() == 2 and jax.device_count() == 2
    x, y = data(64)
    # Global batch k (16 rows) = process 0's rows 16k..16k+8, then process 1's 16k+8..16k+16.
    rows = np.concatenate([np.arange(16 * k + 8 * pid, 16 * k + 8 * pid + 8) for k in range(4)])
    h, p = train(None, x[rows], y[rows], 8)
    print(json.dumps({"params": [np.asarray(a.addressable_data(0)).tolist() for a in p],
                      "loss": h["loss"]}))
""")

def _free_port():
  with socket.socket() as s:
    s.bind(("localhost", 0))
    return s.getsockname()[1]


def test_two_processes_equal_one_process():
  port = str(_free_port())
  env = dict(os.environ, JAX_PLATFORMS="cpu", XLA_FLAGS="")
  env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
  procs = [subprocess.Popen([sys.executable, "-c", _PROCESS, str(i), port], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
           for i in range(2)]
  try:
    outs = [p.communicate(timeout=240) for p in procs]
  finally:
    for p in procs:
      if p.poll() is None:
        p.kill()
  for p, (_, err) in zip(procs, outs):
    assert p.returncode == 0, err[-3000:]
  ns = {}
  exec(_COMMON, ns)  # the one-process reference, here: one device, batches of 16
  h, p = ns["train"](1, *ns["data"](64), 16)
  ref = {"params": [np.asarray(a) for a in p], "loss": h["loss"]}
  for _, (out, _) in zip(procs, outs):
    got = json.loads(out.strip().splitlines()[-1])
    np.testing.assert_allclose(got["loss"], ref["loss"], rtol=1e-5)
    for a, b in zip(got["params"], ref["params"]):
      np.testing.assert_allclose(a, b, atol=1e-4)
