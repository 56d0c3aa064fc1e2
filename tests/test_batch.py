"""jaxdsp.batch: extract over files and devices equals a per-file features loop; failures, resume,
multi-process shares, the output format."""

import json
import os
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest
import soundfile as sf

import jaxdsp as jd
from jaxdsp import batch

SR = 8000
KW = dict(sr=SR, n_fft=256, hop_length=64, n_mels=24, n_mfcc=8)


def _fits_8k(name):
  """Whether a feature's default settings fit these 8 kHz files: spectral contrast's octave bands
  (200 Hz · 2^5) and the constant-Q features' 7 octaves from C1 do not fit below the 4 kHz Nyquist
  frequency (librosa refuses them too); every other feature does."""
  opts = {k: v for k, v in KW.items() if k != "sr"}
  try:
    jax.eval_shape(lambda y: jd.features(y, sr=SR, names=(name,), **opts), jax.ShapeDtypeStruct((4096,), np.float32))
    return True
  except ValueError as e:
    assert "Nyquist" in str(e) or "fmax" in str(e) or "bands" in str(e), (name, e)
    return False


# Every feature, including the per-example dB ones and ZCR's edge padding, that fits 8 kHz.
NAMES = tuple(n for n in jd.FEATURE_NAMES if _fits_8k(n))
assert "spectrogram_db" in NAMES and "zero_crossing_rate" in NAMES and "onset_strength" in NAMES
# Lengths across two batches of 4; the last sample is non-zero so that edge padding matters.
LENGTHS = (100, 700, 3000, 5000)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
  root = tmp_path_factory.mktemp("corpus")
  rng = np.random.default_rng(12345)
  t = np.arange(max(LENGTHS)) / SR
  for i, n in enumerate(LENGTHS):
    y = 0.3 * np.sin(2 * np.pi * (200 + 150 * i) * t[:n]) + 0.05 * rng.standard_normal(n)
    y[-1] = 0.7
    sub = root / ("a" if i % 2 else "b")
    sub.mkdir(exist_ok=True)
    sf.write(sub / f"clip{i}.wav", y.astype(np.float32), SR, subtype="FLOAT")
  # Another rate (resampled on load) and a stereo file (averaged).
  sf.write(root / "rate16k.flac", (0.2 * rng.standard_normal(6000)).astype(np.float32), 16000)
  sf.write(root / "stereo.wav", (0.2 * rng.standard_normal((2500, 2))).astype(np.float32), SR, subtype="FLOAT")
  (root / "corrupt.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk")
  (root / "empty.wav").write_bytes(b"")
  (root / "notes.txt").write_text("not audio: ignored when a directory is scanned")
  return root


@pytest.fixture(scope="module")
def extracted(corpus, tmp_path_factory):
  out = tmp_path_factory.mktemp("feats") / "out"
  res = batch.extract(corpus, NAMES, out=out, batch_size=4, devices=1, progress=False, **KW)
  return res, out


def _reference(path):
  y, _ = jd.load(path, sr=SR)
  opts = {k: v for k, v in KW.items() if k != "sr"}
  return {k: np.asarray(v) for k, v in jd.features(y, sr=SR, names=NAMES, **opts).items()}


def _assert_same(a, b, name, *, resampled_input_differs=False):
  """Equal to float32 round-off: 1e-5 relative and 1e-6 of the peak.

  ``resampled_input_differs``: in another process (4 CPU devices) XLA's resampling convolution
  rounds differently (1 ulp), and near-zero bins (above the resampler's cutoff) amplify that in
  the log-domain features: the flatness (a geometric mean) to ~1e-4 relative, dB values to ~0.01 dB.
  """
  assert a.shape == b.shape, (name, a.shape, b.shape)
  scale = max(float(np.max(np.abs(b))), 1e-6)
  rtol, atol = 1e-5, 1e-6 * scale
  if resampled_input_differs and "flatness" in name:
    rtol = 3e-4
  if resampled_input_differs and name.endswith("_db"):
    atol = 0.02
  np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=name)


def test_extract_equals_per_file_features(corpus, extracted):
  res, out = extracted
  assert res.n_ok == len(LENGTHS) + 2 and res.n_computed == len(LENGTHS) + 4
  feats = batch.load_features(out)
  assert len(feats) == res.n_ok
  for path, got in feats.items():
    ref = _reference(path)
    assert set(got) == set(NAMES)
    for name in NAMES:
      _assert_same(got[name], ref[name], f"{os.path.basename(path)}:{name}")


def test_padding_shares_batches_across_lengths(extracted):
  """Files of different lengths were computed in one padded batch (and still equal the loop)."""
  _, out = extracted
  files = batch.load_manifest(out)["files"]
  by_shard = {}
  for rec in files.values():
    if rec["status"] == "ok":
      by_shard.setdefault(rec["shard"], set()).add(rec["length"])
  assert max(len(lengths) for lengths in by_shard.values()) >= 3
  for path, rec in files.items():
    if rec["status"] == "ok":
      assert rec["n_frames"] == jd.num_frames(rec["length"], frame_length=256, hop_length=64)
      assert rec["duration"] == pytest.approx(rec["length"] / SR)


def test_batch_widths_follow_the_corpus_lengths():
  """A cell computes the largest frame count of its batches (no padding for equal lengths), and
  cells stay 8-16 per octave of frame counts."""
  assert batch._plan_frames([173, 173, 173]) == {batch._bucket(173): 173}
  assert batch._bucket(173) == 176 and batch._bucket(40) == 40 and batch._bucket(1000) == 1024
  plan = batch._plan_frames([100, 97, 150, 0, 3])
  assert plan == {batch._bucket(100): 100, batch._bucket(150): 150, batch._bucket(3): 3}
  frames = np.arange(1, 5000)
  cells = {batch._bucket(int(f)) for f in frames}
  assert all(batch._bucket(int(f)) >= f for f in frames)
  assert np.max([batch._bucket(int(f)) / f for f in frames if f >= 32]) <= 1 + 1 / 8
  assert len({c for c in cells if 1024 <= c < 2048}) <= 16


def test_headers_shorter_than_the_audio_fall_back_to_the_grid(corpus, extracted, tmp_path, monkeypatch):
  """Widths planned from headers that understate the length: the batch widens to its grid cell
  and every feature still equals the per-file loop."""
  _, out_full = extracted
  monkeypatch.setattr(batch, "_probe", lambda path, sr: 1)
  out = tmp_path / "out"
  res = batch.extract(corpus, ("spectrogram", "zero_crossing_rate"), out=out, batch_size=4, devices=1,
                      progress=False, **KW)
  assert res.n_ok == len(LENGTHS) + 2
  full, got = batch.load_features(out_full), batch.load_features(out)
  for path in full:
    for name in ("spectrogram", "zero_crossing_rate"):
      _assert_same(got[path][name], full[path][name], name)


def test_batches_of_one_width_stream_into_shared_shards(tmp_path, monkeypatch):
  """Consecutive batches of one length cell share a shard (closed at _SHARD_FILES), written through
  O_DIRECT where the file system allows it; every file (16-bit PCM, whose integers are scaled
  straight into the batch rows) reads back as the per-file loop computes it. A temporary shard left
  by a killed run is removed."""
  root = tmp_path / "same"
  root.mkdir()
  rng = np.random.default_rng(7)
  for i in range(10):
    sf.write(root / f"c{i}.wav", (0.2 * rng.standard_normal(3000)).astype(np.float32), SR, subtype="PCM_16")
  out = tmp_path / "out"
  stale = out / "shard-p000-000042.tmp-99999"
  stale.mkdir(parents=True)
  monkeypatch.setattr(batch, "_SHARD_FILES", 4)
  monkeypatch.setattr(batch, "_SHARD_SECONDS", 1e9)  # not closed by time on a slow machine
  monkeypatch.setattr(batch._npy_stream, "DIRECT_MIN_BYTES", 0)
  names = ("spectrogram", "rms", "zero_crossing_rate")  # 16-bit PCM: scaled into the rows (and ZCR's edge rows)
  res = batch.extract(root, names, out=out, batch_size=2, devices=1, progress=False, **KW)
  assert res.n_ok == 10 and not stale.exists()
  files = batch.load_manifest(out)["files"]
  shards = sorted({r["shard"] for r in files.values()})
  assert len(shards) == 3  # 4 + 4 + 2 files
  for shard in shards:
    paths = list(np.load(out / shard / "__paths__.npy"))
    assert [files[p]["index"] for p in paths] == list(range(len(paths)))
    assert np.load(out / shard / "rms.npy").shape[0] == len(paths)
  got = batch.load_features(out)
  for path in got:
    ref = _reference(path)
    for name in names:
      _assert_same(got[path][name], ref[name], f"{os.path.basename(path)}:{name}")


@pytest.mark.parametrize("framing_kw", [dict(pad_mode="reflect"), dict(center=False)])
def test_other_padding_equals_per_file_features(corpus, tmp_path, framing_kw):
  """Reflect-padded rows (ZCR re-padded with edges on the device) and uncentred frames: each file
  still equals features() on it alone."""
  names = ("zero_crossing_rate", "rms", "spectral_centroid")
  res = batch.extract(corpus, names, out=tmp_path / "out", batch_size=4, devices=1, progress=False,
                      **KW, **framing_kw)
  assert res.n_ok >= len(LENGTHS)
  opts = {k: v for k, v in KW.items() if k != "sr"}
  for path, got in batch.load_features(tmp_path / "out").items():
    y, _ = jd.load(path, sr=SR)
    ref = jd.features(y, sr=SR, names=names, **opts, **framing_kw)
    for name in names:
      _assert_same(got[name], np.asarray(ref[name]), f"{os.path.basename(path)}:{name}")


def test_corrupt_and_empty_files_are_recorded_and_skipped(extracted):
  res, out = extracted
  assert res.n_failed == 2
  failed = {os.path.basename(p): e for p, e in res.failures.items()}
  assert set(failed) == {"corrupt.wav", "empty.wav"}
  assert "empty" in failed["empty.wav"] and "corrupt.wav" in failed["corrupt.wav"]
  manifest = json.loads((out / "manifest.json").read_text())
  assert manifest["format"] == batch.FORMAT
  statuses = {os.path.basename(p): r["status"] for p, r in manifest["files"].items()}
  assert statuses["corrupt.wav"] == "failed" and statuses["clip0.wav"] == "ok"
  assert "notes.txt" not in statuses


def test_shards_are_memory_mappable_npy_and_format_1_still_reads(extracted, tmp_path):
  _, out = extracted
  manifest = json.loads((out / "manifest.json").read_text())
  path, rec = next((p, r) for p, r in sorted(manifest["files"].items()) if r["status"] == "ok")
  shard = out / rec["shard"]
  spec = np.load(shard / "spectrogram.npy", mmap_mode="r")  # (files, n_freq, frames of its cell)
  assert spec.ndim == 3 and spec.shape[1] == KW["n_fft"] // 2 + 1 and spec.shape[2] >= rec["n_frames"]
  assert np.load(shard / "__paths__.npy")[rec["index"]] == path
  feats = batch.load_features(out)[path]
  np.testing.assert_array_equal(feats["spectrogram"], spec[rec["index"], :, :rec["n_frames"]])
  # An output directory of format jaxdsp.batch/1 (one npz per shard, keys "<i>/<name>") reads the same.
  old = tmp_path / "old"
  old.mkdir()
  np.savez(old / "shard-p000-000001.npz", **{f"0/{k}": v for k, v in feats.items()})
  files = {path: dict(rec, shard="shard-p000-000001.npz", index=0)}
  (old / "manifest.json").write_text(json.dumps({"format": "jaxdsp.batch/1", "config": manifest["config"],
                                                 "files": files}))
  back = batch.load_features(old)[path]
  for k, v in feats.items():
    np.testing.assert_array_equal(back[k], v)


def test_four_devices_equal_one_device(corpus, extracted, tmp_path):
  """Sharded over 4 fake CPU devices (a subprocess) == one device, file by file."""
  _, out1 = extracted
  out4 = tmp_path / "out4"
  script = textwrap.dedent(f"""
      import jax
      from jaxdsp import batch
      assert jax.local_device_count() == 4, jax.devices()
      res = batch.extract({str(corpus)!r}, {NAMES!r}, out={str(out4)!r}, batch_size=4, progress=False,
                          **{KW!r})
      print(res.n_ok, res.n_failed)
      # Each device runs the CPU chunk loop on its own rows: no all-gather of the batch.
      import numpy as np
      from jax.sharding import NamedSharding, PartitionSpec as P
      mesh = batch._mesh(None)
      rows = NamedSharding(mesh, P("data"))
      x = jax.ShapeDtypeStruct((8, 2**20), np.float32, sharding=rows)  # long rows: chunked
      n = jax.ShapeDtypeStruct((8,), np.int32, sharding=rows)
      from jaxdsp import _core
      requests = (("spectrogram", _core.config("spectrogram", dict())),)
      spec = _core.StftSpec(256, 64, 256, False, "constant")
      hlo = batch._compute_fn(mesh, requests, spec, "hann").lower(x, n, n, n).compile().as_text()
      print("while" in hlo, "all-gather" in hlo)
  """)
  env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
  proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert proc.stdout.split() == [str(len(LENGTHS) + 2), "2", "True", "False"]
  one, four = batch.load_features(out1), batch.load_features(out4)
  assert sorted(one) == sorted(four)
  for path in one:
    for name in NAMES:
      _assert_same(four[path][name], one[path][name], f"{os.path.basename(path)}:{name}",
                   resampled_input_differs=path.endswith("rate16k.flac"))


def test_second_run_computes_nothing(corpus, extracted):
  res, out = extracted
  again = batch.extract(corpus, NAMES, out=out, batch_size=4, progress=False, **KW)
  assert again.n_computed == 0
  assert (again.n_ok, again.n_failed) == (res.n_ok, res.n_failed)


def test_interrupted_run_resumes(corpus, extracted, tmp_path, monkeypatch):
  _, out_full = extracted
  out = tmp_path / "out"
  calls = {"n": 0}
  real = batch._Writer.add

  def crash_on_second(self, *args):
    calls["n"] += 1
    if calls["n"] == 2:
      raise KeyboardInterrupt("simulated interruption")
    real(self, *args)

  monkeypatch.setattr(batch._Writer, "add", crash_on_second)
  with pytest.raises(KeyboardInterrupt):
    batch.extract(corpus, NAMES, out=out, batch_size=4, progress=False, **KW)
  monkeypatch.setattr(batch._Writer, "add", real)
  recorded = batch.load_manifest(out)["files"]  # the first batch (ok and failed files) only
  done_before = {p for p, r in recorded.items() if r["status"] == "ok"}
  assert 0 < len(done_before) < len(LENGTHS) + 2
  res = batch.extract(corpus, NAMES, out=out, batch_size=4, progress=False, **KW)
  assert res.n_ok == len(LENGTHS) + 2
  assert res.n_computed == len(LENGTHS) + 4 - len(recorded)  # finished files were not recomputed
  full, resumed = batch.load_features(out_full), batch.load_features(out)
  for path in full:
    for name in ("spectrogram", "zero_crossing_rate", "mfcc"):
      _assert_same(resumed[path][name], full[path][name], name)

  # A file whose manifest entry is lost is computed again, alone.
  manifest_path = out / "manifest.json"
  manifest = json.loads(manifest_path.read_text())
  lost = sorted(done_before)[0]
  del manifest["files"][lost]
  manifest_path.write_text(json.dumps(manifest))
  res = batch.extract(corpus, NAMES, out=out, batch_size=4, progress=False, **KW)
  assert res.n_computed == 1 and res.n_ok == len(LENGTHS) + 2
  _assert_same(batch.load_features(out, paths=[lost])[lost]["rms"], full[lost]["rms"], "rms")


def test_process_shares_and_merged_reader(corpus, extracted, tmp_path, monkeypatch):
  """With 2 JAX processes each takes every other file and writes its own manifest."""
  _, out_full = extracted
  out = tmp_path / "out"
  names = ("rms", "spectral_centroid")
  files = batch.list_files(corpus)
  monkeypatch.setattr(jax, "process_count", lambda: 2)
  for index in (0, 1):
    monkeypatch.setattr(jax, "process_index", lambda index=index: index)
    res = batch.extract(corpus, names, out=out, batch_size=4, progress=False, **KW)
    assert res.n_ok + res.n_failed == len(files[index::2])
  assert (out / "manifest-0.json").exists() and (out / "manifest-1.json").exists()
  merged = batch.load_features(out)
  full = batch.load_features(out_full, names=names)
  assert sorted(merged) == sorted(full)
  for path in full:
    _assert_same(merged[path]["rms"], full[path]["rms"], "rms")


def test_inputs_glob_list_and_errors(corpus, extracted, tmp_path):
  files = batch.list_files(corpus)
  assert len(files) == len(LENGTHS) + 4 and all(os.path.isabs(p) for p in files)
  assert batch.list_files(str(corpus / "**" / "clip*.wav")) == [p for p in files if "clip" in p]
  assert batch.list_files([files[1], files[0], files[1]]) == sorted(files[:2])
  with pytest.raises(FileNotFoundError, match="no such file"):
    batch.list_files(corpus / "missing")
  with pytest.raises(FileNotFoundError, match="matches no file"):
    batch.list_files(str(corpus / "*.mp3"))
  (tmp_path / "no_audio").mkdir()
  with pytest.raises(FileNotFoundError, match="no audio files"):
    batch.list_files(tmp_path / "no_audio")
  with pytest.raises(ValueError, match="features"):
    batch.extract(corpus, ("rms", "loudness"), out=tmp_path / "x", progress=False)
  with pytest.raises(ValueError, match="batch_size"):
    batch.extract(corpus, ("rms",), out=tmp_path / "x", batch_size=0, progress=False)
  with pytest.raises(TypeError, match="unexpected options"):
    batch.extract(corpus, ("rms",), out=tmp_path / "x", nfft=256, progress=False)
  _, out = extracted
  with pytest.raises(ValueError, match="other settings"):
    batch.extract(corpus, NAMES, out=out, **dict(KW, hop_length=32), progress=False)
  with pytest.raises(FileNotFoundError, match="manifest"):
    batch.load_features(tmp_path / "nothing")


def test_use_cpu_cores_before_jax_starts_and_after():
  """Fresh interpreters: the default exposes the cores (at most 8), a count chosen by the user is
  kept, and once JAX runs the call says so."""
  script = textwrap.dedent("""
      import os, sys, jax
      from jaxdsp import batch
      if sys.argv[1] == "late":
        jax.devices()
        try:
          batch.use_cpu_cores()
        except RuntimeError:
          print("started")
      else:
        print(batch.use_cpu_cores(), len(jax.devices("cpu")), min(os.cpu_count(), 8))
  """)
  env = dict(os.environ, JAX_PLATFORMS="cpu")
  env.pop("JAX_NUM_CPU_DEVICES", None)
  env["XLA_FLAGS"] = " ".join(f for f in env.get("XLA_FLAGS", "").split() if "device_count" not in f)

  def run(mode, **extra):
    proc = subprocess.run([sys.executable, "-c", script, mode], env=dict(env, **extra), capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.split()

  n, devices, cores = run("fresh")
  assert n == devices == cores
  assert run("fresh", JAX_NUM_CPU_DEVICES="3")[:2] == ["3", "3"]
  assert run("late") == ["started"]


def test_extract_warns_once_per_call(tmp_path):
  """librosa's warnings, once per extract call (not per file): files shorter than n_fft, and a mel
  filterbank with empty filters (n_mels=256 at n_fft=256)."""
  import warnings  # pylint: disable=import-outside-toplevel

  for i, n in enumerate((100, 150, 4000)):
    sf.write(tmp_path / f"f{i}.wav", np.full(n, 0.1, np.float32), SR, subtype="FLOAT")
  with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    res = batch.extract(tmp_path, ("melspectrogram",), out=tmp_path / "out", devices=1, progress=False,
                        **dict(KW, n_mels=256))
  assert res.n_ok == 3
  messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
  short = [m for m in messages if "longer than 2 file(s)" in m]
  empty = [m for m in messages if "empty" in m.lower()]
  assert len(short) == 1 and len(empty) == 1, messages
