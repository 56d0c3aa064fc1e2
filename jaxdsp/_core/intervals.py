"""Interval sets of the constant-Q and variable-Q transforms (private core): equal temperament,
Pythagorean and p-limit just intonation, one octave of frequency ratios in ``[1, 2)``.

:func:`octave_ratios` is the one check of an ``intervals`` argument: :func:`jaxdsp.vqt`,
:func:`jaxdsp.interval_frequencies`, :func:`jaxdsp.chroma_vqt` and the feature registry's ``intervals``
option call it, so that they accept and refuse the same values with the same messages.

References:
  J. Tenney, "On 'Crystal Growth' in harmonic space (1993-1998)", Contemporary Music Review 27(1), 2008
  (the harmonic distance and the growth of p-limit interval sets, as librosa's ``plimit_intervals``).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from jaxdsp import _checks


INTERVAL_SETS = ("equal", "pythagorean", "ji3", "ji5", "ji7")


@functools.lru_cache(maxsize=32)
def _pythagorean(bins_per_octave: int) -> tuple[float, ...]:
  """Stacked just fifths ``3^k`` folded into one octave (librosa's ``pythagorean_intervals``), unsorted."""
  log_ratios = np.modf(np.arange(bins_per_octave) * np.log2(3))[0]
  return tuple(np.power(2.0, log_ratios).tolist())


def _harmonic_distance(logs: np.ndarray, a: tuple, b: tuple) -> float:
  """Tenney's harmonic distance ``log2(a·b / gcd(a, b)²)`` of two prime-exponent vectors (rounded to 1e-6)."""
  a, b = np.asarray(a), np.asarray(b)
  a_num, b_num = np.maximum(a, 0), np.maximum(b, 0)
  gcd = np.minimum(a_num, b_num) - np.maximum(a_num - a, b_num - b)
  return float(np.around(logs.dot(a + b - 2 * gcd), 6))


@functools.lru_cache(maxsize=32)
def _plimit(primes: tuple[int, ...], bins_per_octave: int) -> tuple[float, ...]:
  """p-limit just intervals by Tenney's "harmonic crystal growth" (librosa's ``plimit_intervals``): from the
  unison, repeatedly add the frontier point of least total harmonic distance to the chosen set (ties to
  the smaller ``Σ log2(p)·|e_p|``); folded into one octave, in growth order."""
  logs = np.log2(np.asarray(primes, dtype=float))
  seeds = []
  for i in range(len(primes)):
    for sign in (1, -1):
      seed = [0] * len(primes)
      seed[i] = sign
      seeds.append(tuple(seed))
  frontier, chosen, dist = list(seeds), [tuple([0] * len(primes))], {}
  while len(chosen) < bins_per_octave:
    score, best = np.inf, 0
    for f, point in enumerate(frontier):
      total = 0.0
      for s in chosen:
        if (s, point) not in dist:
          dist[s, point] = dist[point, s] = _harmonic_distance(logs, point, s)
        total += dist[s, point]
      if total < score or (np.isclose(total, score)
                           and logs.dot(np.abs(point)) < logs.dot(np.abs(frontier[best]))):
        score, best = total, f
    new = frontier.pop(best)
    chosen.append(new)
    for seed in seeds:
      cand = tuple(np.add(new, seed).tolist())
      if cand not in chosen and cand not in frontier:
        frontier.append(cand)
  log_ratios = np.modf(np.asarray(chosen, dtype=float).dot(logs))[0]
  log_ratios[log_ratios < 0] += 1
  return tuple(np.power(2.0, log_ratios).tolist())


def octave_ratios(intervals: Any, bins_per_octave: int, sort: bool = True) -> tuple[tuple[float, ...] | None, int]:
  """The checked ``intervals`` as one octave of frequency ratios in ``[1, 2)`` (``None`` for ``"equal"``;
  a named set ascending when ``sort``, an explicit one as given) and the bins per octave they give
  (``len(intervals)`` for an explicit set, as librosa)."""
  if isinstance(intervals, str):
    _checks.choice(intervals, "intervals", INTERVAL_SETS)
    if intervals == "equal":
      return None, bins_per_octave
    if bins_per_octave > 4096:
      raise ValueError(f"bins_per_octave must be at most 4096 for intervals={intervals!r}, got {bins_per_octave}")
    if intervals == "pythagorean":
      ratios = _pythagorean(bins_per_octave)
    else:
      ratios = _plimit({"ji3": (3,), "ji5": (3, 5), "ji7": (3, 5, 7)}[intervals], bins_per_octave)
    return (tuple(sorted(ratios)) if sort else ratios), bins_per_octave
  try:
    ratios = np.asarray(intervals, dtype=float)
  except (TypeError, ValueError) as e:
    raise TypeError(f"intervals must be one of {INTERVAL_SETS} or a 1-D array of ratios in [1, 2), "
                    f"got {intervals!r}") from e
  if ratios.ndim != 1 or ratios.size == 0:
    raise ValueError(f"intervals must be a non-empty 1-D array of ratios in [1, 2), got shape {ratios.shape}")
  if not np.all(np.isfinite(ratios)) or np.any(ratios < 1) or np.any(ratios >= 2):
    raise ValueError(f"intervals must hold ratios in [1, 2), got {ratios.tolist()}")
  if np.unique(ratios).size != ratios.size:
    raise ValueError(f"intervals must be distinct, got {ratios.tolist()}")
  return tuple(ratios.tolist()), int(ratios.size)
