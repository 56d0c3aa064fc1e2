"""Shared pytest setup: the tests folder on sys.path (for ``audio_corpus``), a headless matplotlib, a
persistent XLA compilation cache shared by all test processes, and a numba cache of each test process's own.

XLA compiles are about three quarters of the suite's CPU time (about 6,800 programs, 0.13 s each). JAX's
persistent compilation cache (``jaxdsp._compile_cache``, in ``$XDG_CACHE_HOME/jaxdsp-tests/xla``) lets a
program compiled by one xdist worker or CLI subprocess be loaded by the others, and a contributor's next
run load what this one compiled: the suite took 583 s with an empty cache and 171 s with a warm one (2
cores). A program's entry is keyed by its HLO, the jax and jaxlib versions and the compile options, so an
edit recompiles exactly the programs it changed. Delete the directory to start cold; a
``JAX_COMPILATION_CACHE_DIR`` set by the user is kept.

librosa compiles its numba functions with ``cache=True`` into its installed ``__pycache__``. Several test
processes writing that cache at once left an entry that crashed a later call with a segmentation fault
(librosa 0.11, numba 0.68). So each test process holds a cache directory of its own: a persistent one per
test process under ``$XDG_CACHE_HOME/jaxdsp-tests`` (the first of eight slots it can lock for its lifetime, so
concurrent processes and runs never share one), or, where none is free or writable, a fresh temporary one.
A cold cache costs about 25 s of CPU per process (librosa's onset, beat and STFT helpers); a warm one 3 s.

The files holding the longest tests run first (``_FIRST``), so that the xdist workers end on short tests.
No XLA flag is set: ``--xla_backend_optimization_level=0`` halves compile time but its code gave NaN
gradients and a 1.8e-4 jit/eager mismatch (tests/test_transforms.py: power_to_db, zero_crossing_rate_smooth),
and ``=2`` saved 8% of the suite's CPU time while test_wavelets ran 1.8x slower; the tests compile as
users do (a cached program is the same executable).
"""

import atexit
import fcntl
import os
import pathlib
import shutil
import sys
import tempfile

os.environ.setdefault("MPLBACKEND", "Agg")

from jaxdsp import _compile_cache  # noqa: E402  (after MPLBACKEND)

# The suite's caches: numba's (one slot per process) and XLA's (shared).
_ROOT = pathlib.Path(os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache") / "jaxdsp-tests"


def _numba_cache_dir() -> str:
  """This process's own numba cache: the first persistent slot it can lock, else a fresh directory."""
  for slot in range(8):  # the controller and each xdist worker take one (the worker id is not set yet here)
    try:
      path = _ROOT / f"numba-{slot}"
      path.mkdir(parents=True, exist_ok=True)
      lock = open(path / ".lock", "w")  # pylint: disable=consider-using-with  (held until the process exits)
      fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # locked by another test process, or no writable home
      continue
    _LOCKS.append(lock)
    return str(path)
  path = tempfile.mkdtemp(prefix="jaxdsp-tests-numba-")
  atexit.register(shutil.rmtree, path, ignore_errors=True)
  return path


_LOCKS: list = []
# Chosen here unless the user set it; a directory chosen by a parent test process (the xdist controller,
# whose environment the workers inherit) is not this process's own.
_INHERITED = os.environ.get("JAXDSP_TESTS_NUMBA_PID", str(os.getpid())) != str(os.getpid())
if _INHERITED or "NUMBA_CACHE_DIR" not in os.environ:
  os.environ["NUMBA_CACHE_DIR"] = _numba_cache_dir()
  os.environ["JAXDSP_TESTS_NUMBA_PID"] = str(os.getpid())
# Enabled in the controller and exported: the xdist workers and the processes tests start (CLI,
# examples) inherit it, and a worker's own call then keeps the inherited directory.
_compile_cache.enable(_ROOT / "xla", export=True)
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

# The files holding the suite's longest tests (from a ``--durations`` run), longest first: they start
# first, so that the two xdist workers (``-n 2``) end together on short tests rather than one waiting
# for the other's 20-30 s test. Every other file keeps its place after them; tests inside a file keep
# their order (module-scoped fixtures are built once per worker).
_FIRST = ("test_filtering.py", "test_transforms.py", "test_examples_music.py", "test_rhythm.py",
          "test_signal_utils.py", "test_nn_parallel.py", "test_examples_ddsp.py", "test_bad_input_grid.py",
          "test_effects.py", "test_frontends.py", "test_cli.py", "test_docs_build.py", "test_batch_faults.py",
          "test_biquad.py", "test_hpss.py", "test_cqt.py", "test_examples_nn.py", "test_inverse.py",
          "test_nn_augment.py", "test_doctests.py", "test_features.py", "test_examples_dsp.py")


def pytest_collection_modifyitems(config, items):
  rank = {name: i for i, name in enumerate(_FIRST)}
  items.sort(key=lambda item: rank.get(item.path.name, len(_FIRST)))  # stable: the rest keep their order
