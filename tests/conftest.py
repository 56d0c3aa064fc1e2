"""Shared pytest setup: the tests folder on sys.path (for ``audio_corpus``), a headless matplotlib, and a
numba cache of each test process's own.

librosa compiles its numba functions with ``cache=True`` into its installed ``__pycache__``. Two xdist
workers compiling the same function at once left a cache entry that crashed a later call with a segmentation
fault (librosa 0.11, numba 0.68): each process gets its own cache directory, created fresh per run.
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
