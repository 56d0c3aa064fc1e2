"""Shared pytest setup: the tests folder on sys.path (for ``audio_corpus``), a headless matplotlib, and a
numba cache of each test process's own.

librosa compiles its numba functions with ``cache=True`` into its installed ``__pycache__``. Two xdist
workers compiling the same function at once left a cache entry that crashed a later call with a segmentation
fault (librosa 0.11, numba 0.68): each process gets its own cache directory, created fresh per run.

The files holding the longest tests run first (``_FIRST``), so that the xdist workers end on short tests.
No XLA flag is set: ``--xla_backend_optimization_level=0`` halves compile time but its code gave NaN
gradients and a 1.8e-4 jit/eager mismatch (tests/test_transforms.py: power_to_db, zero_crossing_rate_smooth),
and ``=2`` saved 8% of the suite's CPU time while test_wavelets ran 1.8x slower; the tests compile as
users do.
"""

import atexit
import os
import pathlib
import shutil
import sys
import tempfile

os.environ.setdefault("MPLBACKEND", "Agg")
if "NUMBA_CACHE_DIR" not in os.environ:
  _NUMBA_CACHE = tempfile.mkdtemp(prefix=f"jaxdsp-tests-numba-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-")
  os.environ["NUMBA_CACHE_DIR"] = _NUMBA_CACHE
  atexit.register(shutil.rmtree, _NUMBA_CACHE, ignore_errors=True)
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
