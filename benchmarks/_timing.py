"""Timing shared by the benchmark scripts (run as ``python benchmarks/bench_*.py``)."""

from __future__ import annotations

import statistics
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
