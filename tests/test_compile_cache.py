"""The persistent compilation cache of the command line and the test suite (``jaxdsp._compile_cache``)."""

import os
import subprocess
import sys

import numpy as np
import soundfile as sf

from jaxdsp import _compile_cache

_JAX_CACHE_VARS = ("JAX_COMPILATION_CACHE_DIR", "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS",
                   "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES")


def _files(path, sizes_and_ages):
  for i, (size, age) in enumerate(sizes_and_ages):
    f = path / f"entry{i}"
    f.write_bytes(b"x" * size)
    os.utime(f, (1e9 - age, 1e9 - age))


def test_prune_removes_the_older_half_only_over_the_budget(tmp_path):
  _files(tmp_path, [(300, 4), (300, 1), (300, 3), (300, 2)])  # entry0 oldest, then entry2
  _compile_cache.prune(tmp_path, max_bytes=1200)  # at the budget: kept
  assert len(list(tmp_path.iterdir())) == 4
  _compile_cache.prune(tmp_path, max_bytes=1199)
  assert sorted(p.name for p in tmp_path.iterdir()) == ["entry1", "entry3"]


def test_enable_keeps_a_directory_the_user_set_and_gives_up_on_an_unusable_one(tmp_path, monkeypatch):
  monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", str(tmp_path / "mine"))
  assert _compile_cache.enable(tmp_path / "other") == str(tmp_path / "mine")
  assert not (tmp_path / "other").exists()
  monkeypatch.delenv("JAX_COMPILATION_CACHE_DIR")
  (tmp_path / "file").write_text("")
  assert _compile_cache.enable(tmp_path / "file" / "xla") is None  # cannot be created: compile as usual


def test_default_dir_follows_xdg_cache_home(tmp_path, monkeypatch):
  monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
  assert _compile_cache.default_dir() == tmp_path / "jaxdsp" / "xla"


def test_cli_runs_fill_the_cache_unless_turned_off(tmp_path):
  wav = tmp_path / "tone.wav"
  sf.write(wav, (0.5 * np.sin(2 * np.pi * 440 * np.arange(11025) / 22050)).astype(np.float32), 22050)
  env = {k: v for k, v in os.environ.items() if k not in _JAX_CACHE_VARS}

  def run(home, *args):
    return subprocess.run([sys.executable, "-m", "jaxdsp", *args], capture_output=True, text=True, timeout=300,
                          env={**env, "XDG_CACHE_HOME": str(tmp_path / home)}, cwd=tmp_path, check=False)

  proc = run("on", "analyze", str(wav), "-o", str(tmp_path / "fig.png"), "--no-scalogram")
  assert proc.returncode == 0, proc.stderr
  assert len(list((tmp_path / "on" / "jaxdsp" / "xla").iterdir())) > 0
  proc = run("off", "--no-compile-cache", "analyze", str(tmp_path / "missing.wav"))
  assert proc.returncode == 1 and "missing.wav" in proc.stderr
  assert not (tmp_path / "off" / "jaxdsp").exists()
