"""Runs an ``examples/<name>.py`` script's ``main`` in-process (shared by the example smoke tests)."""

import importlib.util
import pathlib

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def _main(name):
  spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.main


def run_example(name, out, *extra):
  """Imports ``examples/<name>.py`` and returns ``main(["--out", out, "--quick", *extra])``."""
  return _main(name)(["--out", str(out), "--quick", *extra])


def run_default(name, out):
  """``examples/<name>.py``'s ``main(["--out", out])``: every other argument at its default."""
  return _main(name)(["--out", str(out)])
