"""jaxdsp.batch under faults: concurrent runs on one directory (a lock), kill -9 at several points
then resume (bit for bit a clean run), records that point at the wrong row, planted symlinks,
malformed manifests, shards outside the directory, long files in pieces under a memory budget,
and a batch that runs out of memory."""

import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time

import jax
import numpy as np
import pytest
import soundfile as sf

import jaxdsp as jd
from jaxdsp import batch
from jaxdsp import cli

SR = 8000
KW = dict(sr=SR, n_fft=256, hop_length=64, n_mels=24, n_mfcc=8)
NAMES = ("mfcc", "spectrogram", "zero_crossing_rate")
N_FILES = 3


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
  """Three clips of one length (so a resumed run computes the same batch shapes as a clean one:
  bit-for-bit comparable) and one extra clip."""
  root = tmp_path_factory.mktemp("faults")
  rng = np.random.default_rng(2024)
  for i in range(N_FILES + 1):
    y = 0.3 * np.sin(2 * np.pi * (300 + 200 * i) * np.arange(4000) / SR) + 0.05 * rng.standard_normal(4000)
    sf.write(root / ("extra.wav" if i == N_FILES else f"c{i}.wav"), y.astype(np.float32), SR, subtype="FLOAT")
  files = sorted(str(root / f"c{i}.wav") for i in range(N_FILES))
  return root, files, str(root / "extra.wav")


@pytest.fixture(scope="module")
def clean(corpus, tmp_path_factory):
  """A clean in-process run over the three clips, one file per batch and per shard."""
  _, files, extra = corpus
  out = tmp_path_factory.mktemp("clean") / "out"
  res = batch.extract(files + [extra], NAMES, out=out, batch_size=1, devices=1, progress=False, **KW)
  assert res.n_ok == N_FILES + 1
  return batch.load_features(out)


def _script(files, out, **kw):
  return textwrap.dedent(f"""
      from jaxdsp import batch
      batch._SHARD_FILES = 1
      batch.extract({files!r}, {NAMES!r}, out={str(out)!r}, batch_size=1, devices=1, progress=False,
                    **{dict(KW, **kw)!r})
  """)


def _env(fault):
  env = dict(os.environ, JAX_PLATFORMS="cpu", JAXDSP_BATCH_FAULT=fault)
  env.pop("JAX_NUM_CPU_DEVICES", None)
  env["XLA_FLAGS"] = " ".join(f for f in env.get("XLA_FLAGS", "").split() if "device_count" not in f)
  return env


def _shard_entries(out):
  return sorted(n for n in os.listdir(out) if n.startswith("shard-"))


def _assert_bitwise(got, want):
  assert sorted(got) == sorted(want)
  for path in want:
    for name in NAMES:
      np.testing.assert_array_equal(got[path][name], want[path][name], err_msg=f"{path}:{name}")


def test_kill_9_at_three_points_then_resume_equals_a_clean_run(corpus, clean, tmp_path, monkeypatch):
  """SIGKILL while the first shard is open, right after the first and after the second shard was
  renamed into place (before the manifest names them); each resumed run removes the orphans and
  equals the clean run bit for bit."""
  _, files, _ = corpus
  points = ("open:1:kill", "closed:1:kill", "closed:2:kill")
  procs = {}
  for k, point in enumerate(points):  # in parallel: one interpreter start for the three
    out = tmp_path / f"out{k}"
    procs[point] = out, subprocess.Popen([sys.executable, "-c", _script(files, out)], env=_env(point),
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
  monkeypatch.setattr(batch, "_SHARD_FILES", 1)
  want = {p: clean[p] for p in files}
  for point, (out, proc) in procs.items():
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == -9, (point, err[-3000:])
    listed = {r.get("shard") for r in batch.load_manifest(out)["files"].values()}
    left = [n for n in _shard_entries(out) if n not in listed]
    assert left, point  # the killed run left an open or an unrecorded shard behind
    res = batch.extract(files, NAMES, out=out, batch_size=1, devices=1, progress=False, **KW)
    assert (res.n_ok, res.n_failed) == (N_FILES, 0) and 0 < res.n_computed <= N_FILES
    listed = {r["shard"] for r in batch.load_manifest(out)["files"].values()}
    assert _shard_entries(out) == sorted(listed), point  # orphans removed, nothing else
    _assert_bitwise(batch.load_features(out), want)


def test_concurrent_runs_lock_the_directory(corpus, clean, tmp_path, capsys):
  """A run holding the directory (paused after its first shard, in another process): a second run
  fails at once with one line naming the directory, or with wait=True waits, then resumes; every
  file's features are right afterwards."""
  _, files, extra = corpus
  out, sync = tmp_path / "out", tmp_path / "sync"
  sync.mkdir()
  proc = subprocess.Popen([sys.executable, "-c", _script(files, out)], env=_env(f"closed:1:pause:{sync}"),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
  try:
    deadline = time.monotonic() + 300
    while not (sync / "paused").exists():
      assert proc.poll() is None, proc.stderr.read()[-3000:]
      assert time.monotonic() < deadline
      time.sleep(0.05)
    with pytest.raises(batch.OutputInUseError, match="in use by another jaxdsp extract run") as exc:
      batch.extract(files, NAMES, out=out, batch_size=1, progress=False, **KW)
    assert str(out) in str(exc.value) and f"pid {proc.pid}" in str(exc.value)
    assert cli.main(["extract", str(files[0]), "-o", str(out), "--no-progress"]) == 1
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("jaxdsp: error: out: ") and str(out) in lines[0]
    (sync / "resume").touch()
    # Every other file plus one the first run does not have: waits, then computes only the new one.
    res = batch.extract(files[::2] + [extra], NAMES, out=out, batch_size=1, devices=1, wait=True, progress=False,
                        **KW)
    assert proc.wait(timeout=300) == 0, proc.stderr.read()[-3000:]
  finally:
    if proc.poll() is None:
      proc.kill()
      proc.wait()
  assert (res.n_ok, res.n_computed) == (len(files[::2]) + 1, 1)
  _assert_bitwise(batch.load_features(out), clean)


def test_resume_verifies_records_and_repairs(corpus, clean, tmp_path):
  """Records that point at another file's row, a missing shard or a shard outside the directory are
  not trusted: load_features refuses them, and a rerun recomputes exactly those files."""
  _, files, extra = corpus
  out = tmp_path / "out"
  batch.extract(files + [extra], NAMES, out=out, batch_size=2, devices=1, progress=False, **KW)
  path = out / "manifest.json"
  good = json.loads(path.read_text())
  manifest = json.loads(path.read_text())
  recs = manifest["files"]
  a, b = files[0], files[1]
  recs[a]["index"], recs[b]["index"] = recs[b]["index"], recs[a]["index"]
  recs[a]["shard"], recs[b]["shard"] = recs[b]["shard"], recs[a]["shard"]
  path.write_text(json.dumps(manifest))
  with pytest.raises(ValueError, match="does not hold"):
    batch.load_features(out, paths=[a])
  res = batch.extract(files + [extra], NAMES, out=out, batch_size=2, devices=1, progress=False, **KW)
  assert res.n_computed == 2 and res.n_ok == N_FILES + 1
  _assert_bitwise(batch.load_features(out), clean)

  # A shard outside the directory (absolute, or escaping with ..) is refused by the reader.
  for shard in ("../x", str(tmp_path / "elsewhere"), "shard-p000-1/../../x"):
    bad = json.loads(json.dumps(good))
    bad["files"][extra]["shard"] = shard
    path.write_text(json.dumps(bad))
    with pytest.raises(ValueError, match="not a shard inside"):
      batch.load_features(out, paths=[extra])
  # Malformed JSON: the error names the file.
  path.write_text('{"format": "jaxdsp.batch/2", "files": {')
  with pytest.raises(ValueError, match="manifest.json.*malformed JSON"):
    batch.load_manifest(out)
  assert cli.main(["extract", str(extra), "-o", str(out), "--no-progress"]) == 1


def test_manifest_temp_file_never_follows_a_planted_symlink(corpus, tmp_path):
  _, files, _ = corpus
  out = tmp_path / "out"
  out.mkdir()
  victim = tmp_path / "victim.txt"
  victim.write_text("precious")
  for name in (f"manifest.json.tmp-{os.getpid()}", ".manifest.json.tmp"):
    os.symlink(victim, out / name)
  res = batch.extract(files[:1], ("rms",), out=out, batch_size=1, devices=1, progress=False, **KW)
  assert res.n_ok == 1 and victim.read_text() == "precious"
  assert json.loads((out / "manifest.json").read_text())["files"][files[0]]["status"] == "ok"
  assert not (out / "manifest.json").is_symlink()


def test_long_file_in_pieces_equals_whole_file_features(tmp_path):
  """A 5 s file under a budget of ~150 frames per batch is computed in pieces of whole frames
  (reflect padding, ZCR edge padding, the per-file top_db peaks of spectrogram_db and mfcc, and the
  onset strength's flux over frames, computed raw per piece and finished over the whole file), and
  equals jaxdsp.features on the whole file to float32 round-off."""
  rng = np.random.default_rng(5)
  t = np.arange(5 * SR) / SR
  y = 0.4 * np.sin(2 * np.pi * (200 + 300 * t) * t) * (1 + np.sin(2 * np.pi * 0.7 * t))
  y = (y + 0.02 * rng.standard_normal(t.size)).astype(np.float32)
  y[-1] = 0.6
  long = tmp_path / "long.wav"
  sf.write(long, y, SR, subtype="FLOAT")
  names = ("mfcc", "onset_strength", "spectrogram_db", "zero_crossing_rate")
  requests = tuple((n, jd._core.config(n, dict(sr=SR, n_mels=24, n_mfcc=8, zcr_pad_mode="constant")))
                   for n in names)
  spec = jd._core.StftSpec(256, 64, 256, False, "constant")
  per_frame = batch._bytes_per_frame(batch._piece_requests(requests)[0], spec, "hann", 128)
  res = batch.extract(long, names, out=tmp_path / "out", devices=1, memory_budget=150 * per_frame,
                      progress=False, pad_mode="reflect", **KW)
  assert res.n_ok == 1
  rec = batch.load_manifest(tmp_path / "out")["files"][str(long)]
  assert rec["n_frames"] == 626 and rec["pieces"] == 5
  got = batch.load_features(tmp_path / "out")[str(long)]
  opts = {k: v for k, v in KW.items() if k != "sr"}
  ref = jd.features(y, sr=SR, names=names, pad_mode="reflect", **opts)
  for name in names:
    want = np.asarray(ref[name])
    scale = float(np.max(np.abs(want)))
    np.testing.assert_allclose(got[name], want, rtol=1e-5, atol=1e-5 * scale, err_msg=name)


def test_batches_planned_by_the_memory_budget():
  """Rows halve (in multiples of the devices) as files get longer; a file too long for one row per
  device is alone, in pieces."""
  budget = batch._Budget(frame_rows=1024, n_dev=2, max_rows=16)
  assert [budget.rows(f) for f in (10, 64, 100, 256, 500)] == [16, 16, 8, 4, 2]
  assert not budget.is_long(500) and budget.is_long(600) and budget.piece_frames == 512
  frames = [10, 10, 10, 100, 100, 500, 3000]
  assert budget.plan(range(7), frames) == [([0, 1, 2, 3, 4], 8), ([5], 2), ([6], None)]


def test_out_of_memory_batch_is_recorded_and_the_cli_prints_one_line(corpus, tmp_path, monkeypatch, capsys):
  """A file out of memory in a batch of one and in pieces down to one frame each is recorded as
  failed (after halving its pieces 63 -> 1 frames: 6 tries), and the run goes on."""
  _, files, _ = corpus
  real_dispatch, real_long = batch._dispatch, batch._extract_long
  error = jax.errors.JaxRuntimeError("RESOURCE_EXHAUSTED: Out of memory while trying to allocate 5.7GB")
  tries = []

  def oom_for_first(decoded, *args):
    if any(d.path == files[0] for d in decoded):
      raise error
    return real_dispatch(decoded, *args)

  def long_oom_for_first(d, **kw):
    if d.path == files[0]:
      tries.append(kw["piece_frames"])
      raise error
    return real_long(d, **kw)

  monkeypatch.setattr(batch, "_dispatch", oom_for_first)
  monkeypatch.setattr(batch, "_extract_long", long_oom_for_first)
  res = batch.extract(files, ("rms",), out=tmp_path / "out", batch_size=1, devices=1, progress=False, **KW)
  assert (res.n_ok, res.n_failed) == (N_FILES - 1, 1)
  assert "RESOURCE_EXHAUSTED" in res.failures[files[0]] and "memory_budget" in res.failures[files[0]]
  assert tries == [31, 15, 7, 3, 1]

  def oom(*args, **kwargs):
    raise MemoryError("Unable to allocate 5.7 GiB")

  monkeypatch.setattr(batch, "extract", oom)
  assert cli.main(["extract", files[0], "-o", str(tmp_path / "o2"), "--no-progress"]) == 1
  lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
  assert len(lines) == 1 and lines[0].startswith("jaxdsp: error: out of memory") and "Traceback" not in lines[0]


def test_out_of_memory_batches_are_retried_in_halves_then_pieces(corpus, clean, tmp_path, monkeypatch):
  """A compute that runs out of memory above 1,500 samples per call (XLA's RESOURCE_EXHAUSTED for
  3 rows or more, a host MemoryError below): the batch of 4 files is retried as 2 + 2, then 1 + 1,
  then each file in pieces of 31 then 15 frames; every file is extracted, equal to a clean run."""
  _, files, extra = corpus
  real = batch._compute_fn
  calls = []

  def limited(*args, **kwargs):
    fn = real(*args, **kwargs)

    def call(x, *rest):
      ok = x.shape[0] * x.shape[1] <= 1500
      calls.append((x.shape[0], x.shape[1], ok))
      if not ok and x.shape[0] >= 3:
        raise jax.errors.JaxRuntimeError("RESOURCE_EXHAUSTED: Out of memory while trying to allocate 68.6KiB")
      if not ok:
        raise MemoryError("Unable to allocate 17 KiB")
      return fn(x, *rest)

    return call

  monkeypatch.setattr(batch, "_compute_fn", limited)
  out = tmp_path / "out"
  res = batch.extract(files + [extra], NAMES, out=out, batch_size=4, devices=1, progress=False, **KW)
  assert (res.n_ok, res.n_failed) == (N_FILES + 1, 0), res.failures
  rows = [r for r, _, _ in calls]
  assert rows[:3] == [4, 2, 1] and max(r for r, _, ok in calls if ok) == 1
  assert all(r * w <= 1500 for r, w, ok in calls if ok)
  assert {r["pieces"] for r in batch.load_manifest(out)["files"].values()} == {5}  # 63 frames by 15
  got = batch.load_features(out)
  assert sorted(got) == sorted(clean)
  for path in clean:
    for name in NAMES:
      want = clean[path][name]
      np.testing.assert_allclose(got[path][name], want, rtol=1e-5, atol=1e-5 * float(np.max(np.abs(want))),
                                 err_msg=name)


def test_lock_fallback_without_flock(corpus, clean, tmp_path, monkeypatch, capsys):
  """Where neither flock nor msvcrt exists (forced here): an exclusively created ``.lock-excl``
  holding ``pid@host``. Held by a live process, a run fails with one line naming the directory and
  the pid, or waits for its release; a lock left by a dead process is stale and taken over; the
  lock file is gone after a run."""
  monkeypatch.setattr(batch, "LOCK_KIND", "excl")
  monkeypatch.setattr(batch._DirLock, "POLL_SECONDS", 0.02)
  _, files, extra = corpus
  out = tmp_path / "out"
  out.mkdir()
  lock = out / ".lock-excl"
  kw = dict(batch_size=1, devices=1, progress=False, **KW)
  holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
  try:
    lock.write_text(f"{holder.pid}@{socket.gethostname()}\n")
    with pytest.raises(batch.OutputInUseError, match="in use by another jaxdsp extract run") as exc:
      batch.extract(files, NAMES, out=out, **kw)
    assert str(out) in str(exc.value) and f"pid {holder.pid}@" in str(exc.value)
    assert cli.main(["extract", str(files[0]), "-o", str(out), "--no-progress"]) == 1
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("jaxdsp: error: out: ") and str(out) in lines[0]
    assert lock.exists() and not (out / ".lock").exists() and not batch.load_manifest(out)["files"]
    timer = threading.Timer(0.3, lock.unlink)  # the holder finishes while the run waits
    timer.start()
    res = batch.extract(files[:1], NAMES, out=out, wait=True, **kw)
    timer.join()
    assert res.n_ok == 1 and not lock.exists()
  finally:
    holder.kill()
    holder.wait()
  lock.write_text(f"{holder.pid}@{socket.gethostname()}\n")  # left by a process that is gone: stale
  res = batch.extract(files, NAMES, out=out, **kw)
  assert (res.n_ok, res.n_computed) == (N_FILES, N_FILES - 1) and not lock.exists()
  _assert_bitwise(batch.load_features(out), {p: clean[p] for p in files})
