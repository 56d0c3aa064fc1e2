"""``python -m jaxdsp``: the ``jaxdsp`` command line (see :mod:`jaxdsp.cli`)."""

import sys

from jaxdsp.cli import main

if __name__ == "__main__":
  sys.exit(main())
