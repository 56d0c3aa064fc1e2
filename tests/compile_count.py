"""Counting the programs JAX obtains (compiles, or loads from the persistent compilation cache).

    from compile_count import count_compiles
    with count_compiles() as compiles:
      f(x)
    assert len(compiles) == 1
"""

import contextlib

import jax

_ACTIVE: list = []  # the lists of the open count_compiles() blocks


def _listener(event, _duration, **_):
  # One event per program obtained: compiled, or read from the suite's persistent compilation cache.
  if event == "/jax/core/compile/backend_compile_duration":
    for events in _ACTIVE:
      events.append(event)


jax.monitoring.register_event_duration_secs_listener(_listener)


@contextlib.contextmanager
def count_compiles():
  """A list that gets one entry per program JAX obtains inside the ``with`` block."""
  events: list = []
  _ACTIVE.append(events)
  try:
    yield events
  finally:
    _ACTIVE.remove(events)
