"""Data-parallel training and extraction: ``fit`` over 4 host CPU devices (a subprocess with
``--xla_force_host_platform_device_count=4``) gives the one-device parameters to float32 round-off,
with the batch sharded over the ``"data"`` mesh axis and the state replicated, or sharded
(``shard_params``, FSDP-style, whose checkpoint resumes exactly); and two processes joined by
``jax.distributed.initialize`` on a localhost coordinator train as one process does and, in the same
run, ``jaxdsp.batch.extract`` a corpus into one directory: their manifests list every file once, with
the one-process features.
Each subprocess run serves several tests (module fixtures): importing JAX dominates its cost."""

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
import soundfile as sf

ROOT = pathlib.Path(__file__).resolve().parent.parent

_COMMON = textwrap.dedent("""
    import json, sys
    import jax, numpy as np
    EXTRACT_NAMES = ("rms", "melspectrogram", "zero_crossing_rate")
    EXTRACT_KW = dict(sr=8000, n_fft=256, hop_length=64, n_mels=16)
    from flax import nnx
    from jaxdsp import nn as jn
    from jaxdsp.nn import augment as A

    def data(n=70):
      r = np.random.default_rng(0)
      x = r.standard_normal((n, 6)).astype(np.float32)
      y = (x[:, 0] > 0).astype(np.int32) + 2 * (x[:, 1] > 0)
      return x, y.astype(np.int32)

    def train(devices, x, y, batch_size, epochs=2, shard_params=False, checkpoint_dir=None, model=None):
      model = model or jn.DeepNet(6, [16], 4, activation="relu", output_activation=None, dropout=0.2,
                                  rngs=nnx.Rngs(0))
      h = jn.fit(model, (x, y), (x, y) if jax.process_count() == 1 else None,
                 loss="cross_entropy", optimizer="adam", learning_rate=0.01, epochs=epochs,
                 batch_size=batch_size, shuffle=False, devices=devices, progress=False,
                 augment=A.RandomGain(min_db=-3.0, max_db=3.0), shard_params=shard_params,
                 checkpoint_dir=checkpoint_dir)
      leaves = jax.tree.leaves(nnx.state(model, nnx.Param))
      return h, leaves
""")

_FOUR = _COMMON + textwrap.dedent("""
    assert jax.device_count() == 4, jax.devices()
    x, y = data()
    # 70 = 4 * 16 + 6: four batches sharded 4 ways, the last (6 rows) replicated.
    h1, p1 = train(1, x, y, 16)
    h4, p4 = train(None, x, y, 16)
    # FSDP-style: every array of >= 8 elements split over the 4 devices (its largest dimension
    # that 4 divides), the 4-element bias replicated.
    hs, ps = train(None, x, y, 16, shard_params=8)
    # A sharded run checkpointed after epoch 1, resumed in a new model to epoch 2; then the checkpoint
    # restored into a plain (one-device) model alone.
    import tempfile
    from jaxdsp.nn import checkpoint as ck
    ckdir = tempfile.mkdtemp()
    train(None, x, y, 16, epochs=1, shard_params=8, checkpoint_dir=ckdir)
    fresh = lambda seed: jn.DeepNet(6, [16], 4, activation="relu", output_activation=None, dropout=0.2,
                                    rngs=nnx.Rngs(seed))
    hr, pr = train(None, x, y, 16, epochs=2, shard_params=8, checkpoint_dir=ckdir, model=fresh(5))
    alone = fresh(6)
    ck.restore_checkpoint(ckdir, alone)
    pa = jax.tree.leaves(nnx.state(alone, nnx.Param))
    diff = lambda pa, pb: max(float(np.max(np.abs(np.asarray(a) - np.asarray(b)))) for a, b in zip(pa, pb))
    print(json.dumps({
        "devices_of_params": len(p4[0].sharding.device_set),
        "replicated": all(a.sharding.is_fully_replicated for a in p4),
        "max_diff": diff(p1, p4), "sharded_diff": diff(p1, ps),
        "sharded": [[list(a.shape), list(a.addressable_shards[0].data.shape)] for a in ps],
        "resumed_diff": diff(ps, pr), "resumed_sharded": [list(a.addressable_shards[0].data.shape) for a in pr],
        "restored_diff": diff(ps, pa), "restored_devices": [len(a.sharding.device_set) for a in pa],
        "steps": ck.all_steps(ckdir), "resumed_epochs": hr["epoch"],
        "loss1": h1["loss"], "loss4": h4["loss"], "lossS": hs["loss"],
        "val1": h1["val_loss"], "val4": h4["val_loss"], "valS": hs["val_loss"],
        "moved": max(float(np.max(np.abs(np.asarray(a)))) for a in p1)}))
""")


def _run(code, env_extra, timeout=240):
  env = dict(os.environ, **env_extra)
  env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
  return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                        timeout=timeout, env=env, cwd=ROOT)


@pytest.fixture(scope="module")
def four_devices():
  r = _run(_FOUR, {"XLA_FLAGS": "--xla_force_host_platform_device_count=4",
                   "JAX_PLATFORMS": "cpu"})
  assert r.returncode == 0, r.stderr[-3000:]
  return json.loads(r.stdout.strip().splitlines()[-1])


def test_four_cpu_devices_equal_one_device(four_devices):
  out = four_devices
  assert out["devices_of_params"] == 4 and out["replicated"]  # the state lives replicated on the 4 devices
  assert out["max_diff"] < 1e-5, out
  np.testing.assert_allclose(out["loss4"], out["loss1"], rtol=1e-5)
  np.testing.assert_allclose(out["val4"], out["val1"], rtol=1e-5)
  assert out["loss1"][-1] < out["loss1"][0]


def test_sharded_parameters_equal_one_device(four_devices):
  """``fit(shard_params=8)`` on 4 devices: each device holds a quarter of every parameter (and
  optimizer-state) array of 8 elements or more, and training gives the one-device parameters."""
  out = four_devices
  # DeepNet(6, [16], 4): bias (16,), kernel (6, 16), bias (4,), kernel (16, 4).
  assert out["sharded"] == [[[16], [4]], [[6, 16], [6, 4]], [[4], [4]], [[16, 4], [4, 4]]], out["sharded"]
  assert out["sharded_diff"] < 1e-5, out
  np.testing.assert_allclose(out["lossS"], out["loss1"], rtol=1e-5)
  np.testing.assert_allclose(out["valS"], out["val1"], rtol=1e-5)


def test_sharded_checkpoint_resumes_exactly_and_restores_into_one_device(four_devices):
  """A ``shard_params`` run checkpointed after epoch 1 and resumed by a new model to epoch 2 ends where the
  uninterrupted sharded run ends (bit for bit), sharded again; the checkpoint also restores into a model on
  one device."""
  out = four_devices
  assert out["steps"] == [1, 2] and out["resumed_epochs"] == [1, 2], out  # the history is resumed too
  assert out["resumed_diff"] == 0.0, out
  assert out["resumed_sharded"] == [[4], [6, 4], [4], [4, 4]], out
  assert out["restored_diff"] == 0.0 and set(out["restored_devices"]) == {1}, out


def test_shard_params_is_checked():
  from flax import nnx

  from jaxdsp import nn as jn
  model = jn.DeepNet(2, [4], 1, rngs=nnx.Rngs(0))
  x = np.ones((8, 2), np.float32)
  for bad, error in (("yes", TypeError), (0, ValueError), (-3, ValueError)):
    with pytest.raises(error, match="shard_params"):
      jn.fit(model, (x, x[:, :1]), loss="mse", epochs=1, shard_params=bad, progress=False)


_PROCESS = _COMMON + textwrap.dedent("""
    pid, port = int(sys.argv[1]), sys.argv[2]
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(f"localhost:{port}", num_processes=2, process_id=pid)
    assert jax.process_count() == 2 and jax.device_count() == 2
    x, y = data(64)
    # Global batch k (16 rows) = process 0's rows 16k..16k+8, then process 1's 16k+8..16k+16.
    rows = np.concatenate([np.arange(16 * k + 8 * pid, 16 * k + 8 * pid + 8) for k in range(4)])
    h, p = train(None, x[rows], y[rows], 8)
    # Then both processes extract one corpus into one directory (each its share of the files).
    from jaxdsp import batch
    res = batch.extract(sys.argv[3], EXTRACT_NAMES, out=sys.argv[4], progress=False, **EXTRACT_KW)
    print(json.dumps({"params": [np.asarray(a.addressable_data(0)).tolist() for a in p],
                      "loss": h["loss"], "n_ok": res.n_ok, "n_computed": res.n_computed}))
""")

def _free_port():
  with socket.socket() as s:
    s.bind(("localhost", 0))
    return s.getsockname()[1]


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory):
  """One run of two processes joined by ``jax.distributed``: training, then extract of a corpus of
  7 tiny files into one directory."""
  corpus = tmp_path_factory.mktemp("corpus2p")
  rng = np.random.default_rng(7)
  for i in range(7):
    n = 800 + 300 * i
    y = 0.3 * np.sin(2 * np.pi * (250 + 90 * i) * np.arange(n) / 8000) + 0.05 * rng.standard_normal(n)
    sf.write(corpus / f"clip{i}.wav", y.astype(np.float32), 8000, subtype="FLOAT")
  out = tmp_path_factory.mktemp("extract2p") / "out"
  port = str(_free_port())
  env = dict(os.environ, JAX_PLATFORMS="cpu", XLA_FLAGS="")
  env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
  procs = [subprocess.Popen([sys.executable, "-c", _PROCESS, str(i), port, str(corpus), str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
           for i in range(2)]
  try:
    outs = [p.communicate(timeout=240) for p in procs]
  finally:
    for p in procs:
      if p.poll() is None:
        p.kill()
  for p, (_, err) in zip(procs, outs):
    assert p.returncode == 0, err[-3000:]
  return [json.loads(o.strip().splitlines()[-1]) for o, _ in outs], corpus, out


def test_two_processes_equal_one_process(two_processes):
  results, _, _ = two_processes
  ns = {}
  exec(_COMMON, ns)  # the one-process reference, here: one device, batches of 16
  h, p = ns["train"](1, *ns["data"](64), 16)
  ref = {"params": [np.asarray(a) for a in p], "loss": h["loss"]}
  for got in results:
    np.testing.assert_allclose(got["loss"], ref["loss"], rtol=1e-5)
    for a, b in zip(got["params"], ref["params"]):
      np.testing.assert_allclose(a, b, atol=1e-4)


def test_two_process_extract_lists_every_file_once(two_processes, tmp_path):
  """The two processes' manifests (``manifest-0.json``, ``manifest-1.json``) split the 7 files
  between them (every other file each), together list each exactly once, and their features equal
  a one-process run's."""
  from jaxdsp import batch
  results, corpus, out = two_processes
  ns = {}
  exec(_COMMON, ns)
  files = batch.list_files(corpus)
  assert sorted(os.listdir(out)) == sorted(
      [".lock-0", ".lock-1", "manifest-0.json", "manifest-1.json"]
      + [n for n in os.listdir(out) if n.startswith("shard-p")])
  listed = [set(json.loads((out / f"manifest-{i}.json").read_text())["files"]) for i in range(2)]
  assert listed[0] == set(files[0::2]) and listed[1] == set(files[1::2])
  assert [r["n_ok"] for r in results] == [r["n_computed"] for r in results] == [4, 3]
  one = batch.extract(corpus, ns["EXTRACT_NAMES"], out=tmp_path / "one", devices=1, progress=False,
                      **ns["EXTRACT_KW"])
  assert one.n_ok == 7
  want, got = batch.load_features(tmp_path / "one"), batch.load_features(out)
  assert list(got) == list(want) == files
  for path in files:
    for name in ns["EXTRACT_NAMES"]:
      np.testing.assert_allclose(got[path][name], want[path][name], rtol=1e-6,
                                 atol=1e-7 * float(np.abs(want[path][name]).max()), err_msg=name)
