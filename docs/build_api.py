"""Builds the HTML API reference of ``jaxdsp`` from its (Google-style) docstrings with pdoc.

    python docs/build_api.py                 # into docs/_build/api
    python docs/build_api.py -o /tmp/api     # elsewhere

Documents ``jaxdsp`` and its public submodules; private modules (a leading underscore) are left
out. Open ``index.html`` (or ``jaxdsp.html``) in the output folder. Exits non-zero on failure.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import re
import sys
import traceback
import warnings

DEFAULT_OUT = pathlib.Path(__file__).resolve().parent / "_build" / "api"
MODULES = ("jaxdsp", "jaxdsp.nn", "jaxdsp.data", "jaxdsp.batch", "jaxdsp.plot")
# pdoc also walks each module's submodules (those named in its ``__all__``, a module that shares
# its name with a re-exported function included): its "!regex" spec keeps exactly MODULES, so
# private modules and the implementation modules behind the flat namespace get no pages.
ONLY = "!(?!(?:" + "|".join(re.escape(m) for m in MODULES) + ")$)"


def build(out_dir: str | os.PathLike = DEFAULT_OUT) -> pathlib.Path:
  """Writes the reference into ``out_dir`` and returns the path of the ``jaxdsp`` page."""
  os.environ.setdefault("MPLBACKEND", "Agg")
  import pdoc  # pylint: disable=import-outside-toplevel
  import pdoc.render  # pylint: disable=import-outside-toplevel

  out_dir = pathlib.Path(out_dir)
  pdoc.render.configure(docformat="google", footer_text="jaxdsp API reference")
  with warnings.catch_warnings():
    # Each of MODULES is also a submodule of the first: pdoc warns of the repeat, and keeps one page.
    warnings.filterwarnings("ignore", message="The module specification", category=UserWarning)
    pdoc.pdoc(*MODULES, ONLY, output_directory=out_dir)
  page = out_dir / "jaxdsp.html"
  if not page.is_file():
    raise RuntimeError(f"pdoc wrote no {page}")
  return page


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("-o", "--out", default=str(DEFAULT_OUT), help=f"output folder (default {DEFAULT_OUT})")
  args = parser.parse_args(argv)
  try:
    page = build(args.out)
  except Exception:  # pylint: disable=broad-except
    traceback.print_exc()
    print("API reference build failed", file=sys.stderr)
    return 1
  print(f"API reference: {page}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
