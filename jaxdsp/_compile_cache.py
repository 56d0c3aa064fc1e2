"""A persistent XLA compilation cache for processes that jaxdsp starts: the ``jaxdsp`` command line,
and the test suite.

Each new process compiles its programs again: for ``jaxdsp analyze FILE`` that is about a quarter of
its time, for ``jaxdsp demo`` over a third. JAX's persistent compilation cache keeps every compiled program on disk. Each entry is keyed
by the program's HLO, the jax and jaxlib versions and the compile options, and a later process
loads the entry instead of compiling. See JAX's "Persistent compilation cache" guide. The library
itself (``import jaxdsp``) never turns the cache on: that is the application's choice
(``jax.config.update("jax_compilation_cache_dir", ...)``).

JAX writes an entry in place. A process that reads an entry while another process is still writing
it fails to decompress it, and compiles the program itself with a warning. The directory is
pruned when a process enables it: over ``max_bytes``, the older half of the entries (by the time
they were written) is removed.
"""

from __future__ import annotations

import os
import pathlib

__all__ = ["DEFAULT_MAX_BYTES", "default_dir", "prune", "enable"]

DEFAULT_MAX_BYTES = 1 << 30


def default_dir(name: str = "xla") -> pathlib.Path:
  """``$XDG_CACHE_HOME/jaxdsp/<name>`` (``~/.cache/jaxdsp/<name>`` when ``XDG_CACHE_HOME`` is unset)."""
  root = os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache"
  return pathlib.Path(root) / "jaxdsp" / name


def prune(path: os.PathLike | str, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
  """Removes the older half of the files in ``path`` (by modification time) if they hold more than
  ``max_bytes`` in all. A file that another process removed first is skipped.

  Raises:
    OSError: ``path`` cannot be listed.
  """
  entries = []
  for entry in pathlib.Path(path).iterdir():
    try:
      stat = entry.stat()
    except FileNotFoundError:
      continue
    entries.append((stat.st_mtime, stat.st_size, entry))
  entries.sort()
  if sum(size for _, size, _ in entries) > max_bytes:
    for _, _, entry in entries[: len(entries) // 2]:
      entry.unlink(missing_ok=True)


# Every program is cached, however short its compile (JAX's default skips those under 1 s; most of
# jaxdsp's take about 0.1 s) or small its entry.
_SETTINGS = {"jax_compilation_cache_dir": None, "jax_persistent_cache_min_compile_time_secs": 0.0,
             "jax_persistent_cache_min_entry_size_bytes": -1}


def enable(path: os.PathLike | str | None = None, *, max_bytes: int = DEFAULT_MAX_BYTES,
           export: bool = False) -> str | None:
  """Turns on JAX's persistent compilation cache in ``path`` (default :func:`default_dir`) for this
  process, for every program.

  Call it before the process compiles anything. A ``JAX_COMPILATION_CACHE_DIR`` already in the
  environment wins: JAX then uses that directory, and nothing is changed.

  Args:
    path: the cache directory, created if missing.
    max_bytes: the size over which :func:`prune` halves the directory.
    export: also set the settings as environment variables, so that the processes this one starts
      use the same cache.

  Returns:
    The directory in use, or ``None`` where ``path`` cannot be created or listed (the process then
    compiles as usual).
  """
  if os.environ.get("JAX_COMPILATION_CACHE_DIR"):
    return os.environ["JAX_COMPILATION_CACHE_DIR"]
  path = pathlib.Path(path) if path is not None else default_dir()
  try:
    path.mkdir(parents=True, exist_ok=True)
    prune(path, max_bytes)
  except OSError:
    return None
  import jax  # pylint: disable=import-outside-toplevel

  settings = {**_SETTINGS, "jax_compilation_cache_dir": str(path)}
  for name, value in settings.items():
    jax.config.update(name, value)
    if export:
      os.environ[name.upper()] = str(value)
  return str(path)
