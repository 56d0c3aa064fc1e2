"""Shared pytest setup: the tests folder on sys.path (for ``audio_corpus``), a headless matplotlib."""

import os
import pathlib
import sys

os.environ.setdefault("MPLBACKEND", "Agg")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
