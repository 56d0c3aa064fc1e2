"""Timing shared by the benchmark scripts (run as ``python benchmarks/bench_*.py``)."""

from __future__ import annotations

import os
import statistics
import sys
import time
from typing import Callable


def median_time(fn: Callable[[], object], repeats: int, *, warmup: bool = False) -> float:
  """Median wall time of ``repeats`` calls of ``fn`` (which must block on its result)."""
  if warmup:
    fn()  # compile / warm caches outside the timed calls
  times = []
  for _ in range(repeats):
    t0 = time.perf_counter()
    fn()
    times.append(time.perf_counter() - t0)
  return statistics.median(times)


HUGEPAGES_TUNABLE = "glibc.malloc.hugetlb=1"


def hugepages_on() -> bool:
  """Whether glibc's malloc asks for transparent huge pages (``GLIBC_TUNABLES`` holds
  ``glibc.malloc.hugetlb=1``): read by the dynamic loader, so only at process start."""
  return HUGEPAGES_TUNABLE in os.environ.get("GLIBC_TUNABLES", "").split(":")


def restart_with_hugepages() -> None:
  """Restarts this script (same interpreter and arguments) with ``glibc.malloc.hugetlb=1`` added to
  ``GLIBC_TUNABLES``, unless it is already set or this is not Linux."""
  if hugepages_on() or not sys.platform.startswith("linux"):
    return
  tunables = ":".join(filter(None, [os.environ.get("GLIBC_TUNABLES"), HUGEPAGES_TUNABLE]))
  os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "GLIBC_TUNABLES": tunables})


def minor_faults() -> int:
  """Minor page faults of this process so far (``getrusage``; 0 where it is not available)."""
  try:
    import resource  # pylint: disable=import-outside-toplevel  (POSIX only)
  except ImportError:
    return 0
  return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
