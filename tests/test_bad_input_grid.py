"""Bad-input grid over every public DSP function of ``jd.__all__`` (issue 13, "Also build").

Each function is found by introspection (classes, modules, constants and file I/O are skipped), so a
function added to ``jd.__all__`` is picked up without editing this file: its valid call is built from
its signature (the first parameter's name says what the input is; ``_SMALL`` shrinks the sizes;
``_REQUIRED`` gives the few options without defaults). Each case is then

* the input (the first parameter, and ``S=`` where a function also takes a spectrogram) replaced by
  an empty array, a 0-d scalar, an integer, complex or string value, and arrays holding NaN or inf;
* each int option set to 0, -1, 2**40, ``"8"`` or 2.5, each float option to 0, -1, NaN, inf or
  ``"8"``;

called directly and, for the input's shape and dtype cases, under ``jax.jit`` (traced with
``jax.eval_shape``: the checks must fire at trace time, so nothing is compiled). Each outcome is one
of: a ``ValueError``/``TypeError`` whose message names the argument (``error``), a result whose
values are all finite (``finite``), or anything else (``other``: another exception, an error not
naming the argument, NaN/inf in the result, more than ``_TIMEOUT_S`` seconds). The test asserts that
there is no ``other``.

``python tests/test_bad_input_grid.py`` prints the counts and every ``other`` case.
"""

from __future__ import annotations

import collections
import inspect
import math
import os
import re
import signal
import time
import warnings
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxdsp as jd

_NOT_DSP = {"load", "save", "example"}  # file I/O: tests/test_io.py covers their bad input
_TIMEOUT_S = 5.0
_N = 256
_RNG = np.random.default_rng(0)
_SIGNAL = (0.1 * _RNG.standard_normal(_N)).astype(np.float32)
_SPEC = np.abs(_RNG.standard_normal((33, 8))).astype(np.float32)  # n_fft = 64

# Sizes that keep every valid call tiny, applied to whichever of these a function takes.
_SMALL = {"n_fft": 64, "frame_length": 64, "hop_length": 16, "n_mels": 8, "n_mfcc": 4}

# Options without a default (or whose default does not fit the tiny inputs), per function.
_REQUIRED: dict[str, dict[str, Any]] = {
    "frame": {"frame_length": 16, "hop_length": 4},
    "mel_filterbank": {"sr": 8000, "n_fft": 64, "n_mels": 8},
    "resample": {"orig_sr": 8000, "target_sr": 4000},
    "pad_center": {"size": _N + 8},
    "cwt": {"scales": [2.0, 4.0]},
    "cwt_frequencies": {"fmin": 100.0, "fmax": 1000.0, "n_scales": 4, "sr": 8000.0},
    "frequency_to_scale": {"sr": 8000.0},
    "cone_of_influence": {"n_samples": _N},
    "features": {"names": ("rms", "spectral_centroid")},  # a small program: one compile per case
}

# The input, by the first parameter's name: (valid value, kind). Kinds: "array" (floating),
# "index" (integer arrays are valid), "int", "scalar", "name".
_INPUTS: dict[str, tuple[Any, str]] = {
    "y": (_SIGNAL, "array"),
    "S": (_SPEC, "array"),
    "S_db": (-80.0 * _SPEC / _SPEC.max(), "array"),
    "stft_matrix": ((_SPEC * np.exp(1j * _SPEC)).astype(np.complex64), "complex"),
    "data": (_SIGNAL, "array"),
    "t": (np.arange(-16.0, 17.0, dtype=np.float32), "array"),
    "frequencies": (np.array([100.0, 1000.0, 4000.0]), "array"),
    "mels": (np.array([1.0, 10.0, 30.0]), "array"),
    "freqs": (np.array([100.0, 1000.0]), "array"),
    "scales": (np.array([2.0, 4.0, 8.0]), "array"),
    "times": (np.array([0.0, 0.5, 1.0]), "array"),
    "frames": (np.array([0, 1, 2]), "index"),
    "samples": (np.array([0, 512, 1024]), "index"),
    "n_samples": (1000, "int"),
    "window": ("hann", "name"),
    "w0": (6.0, "scalar"),
}
_POSITIONAL_EXTRA = {"get_window": (16,)}  # further positional arguments of the valid call
# Required keyword-only options of functions not in _REQUIRED, by name (a function needing one that is
# missing here has no valid grid call: test_every_core_function_has_a_valid_grid_call names it).
_REQUIRED_BY_NAME: dict[str, Any] = {"fmin": 100.0, "fmax": 1000.0, "sr": 8000, "sample_rate": 8000, "size": _N + 8,
                                     "orig_sr": 8000, "target_sr": 4000, "frame_length": 16, "hop_length": 4,
                                     "n_fft": 64, "n_samples": _N}
# The modules of the DSP core, checked in full (values included) by the default test; every other
# public function runs in the full grid (JAXDSP_FULL_GRID=1).
CORE_MODULES = ("jaxdsp.spectral", "jaxdsp.spectral_features", "jaxdsp.mel", "jaxdsp.framing", "jaxdsp.temporal",
                "jaxdsp.wavelets", "jaxdsp.io", "jaxdsp.fused", "jaxdsp._core.filters", "jaxdsp._core.stft")

_INT_VALUES = (0, -1, 2**40, "8", 2.5)
_FLOAT_VALUES = (0.0, -1.0, math.nan, math.inf, "8")


class _Timeout(Exception):
  pass


def _on_alarm(signum, frame):
  raise _Timeout()


def dsp_functions() -> list[str]:
  names = []
  for name in jd.__all__:
    if name in _NOT_DSP or name in getattr(jd, "_LAZY", ()):
      continue
    obj = getattr(jd, name)
    if inspect.isclass(obj) or inspect.ismodule(obj) or not callable(obj):
      continue
    first = _input_param(obj)
    if first is not None and first.default is first.empty and _input_of(first) is None:
      continue  # not a DSP function of an array (e.g. a factory taking a name)
    names.append(name)
  return names


def _params(fn) -> list[inspect.Parameter]:
  return list(inspect.signature(fn).parameters.values())


def _input_param(fn) -> inspect.Parameter | None:
  params = [p for p in _params(fn) if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
  return params[0] if params else None


def _input_of(param: inspect.Parameter) -> tuple[Any, str] | None:
  if param.name in _INPUTS:
    return _INPUTS[param.name]
  if "ArrayLike" in str(param.annotation) or "Array" in str(param.annotation):  # a new signal-like input
    return _SIGNAL, "array"
  return None


def base_call(name: str) -> tuple[tuple, dict[str, Any], list[tuple[str, Any, str]]]:
  """``(args, kwargs, inputs)`` of a valid call of ``jd.<name>``; ``inputs`` lists the replaceable
  inputs as ``(argument name, valid value, kind)``."""
  fn = getattr(jd, name)
  params = {p.name: p for p in _params(fn)}
  kwargs = {k: v for k, v in _SMALL.items() if k in params}
  for p in params.values():
    if p.kind == p.KEYWORD_ONLY and p.default is p.empty and p.name in _REQUIRED_BY_NAME:
      kwargs[p.name] = _REQUIRED_BY_NAME[p.name]
  kwargs.update(_REQUIRED.get(name, {}))
  inputs, args = [], ()
  first = _input_param(fn)
  if first is not None and first.name not in kwargs and _input_of(first) is not None:
    value, kind = _input_of(first)
    inputs.append((first.name, value, kind))
    extra = _POSITIONAL_EXTRA.get(name, ())
    if not extra:  # further required positional arrays (targets, a filter, frequencies): valid ones
      for p in [p for p in params.values() if p.kind == p.POSITIONAL_OR_KEYWORD][1:]:
        if p.default is p.empty:
          extra += ((_input_of(p) or (_SIGNAL, "array"))[0],)
    args = (value,) + extra
  if "S" in params and (first is None or first.name != "S"):
    inputs.append(("S", _SPEC, "array"))
  return args, kwargs, inputs


def _option_kind(param: inspect.Parameter) -> str | None:
  if param.kind != param.KEYWORD_ONLY:
    return None
  ann = str(param.annotation)
  default = param.default
  if isinstance(default, bool) or "bool" in ann or "str" in ann or "Sequence" in ann:
    return None
  if "float" in ann or isinstance(default, float):
    return "float"
  if re.search(r"\bint\b", ann) or isinstance(default, int):
    return "int"
  return None


def _finite(out: Any) -> bool:
  if isinstance(out, dict):
    return all(_finite(v) for v in out.values())
  if isinstance(out, (tuple, list)):
    return all(_finite(v) for v in out)
  if out is None or isinstance(out, str):
    return True
  arr = np.asarray(out)
  if arr.dtype.kind in "fc":
    return bool(np.all(np.isfinite(arr)))
  return arr.dtype.kind in "iub"


def _names(msg: str, argname: str) -> bool:
  return re.search(rf"(?<![\w.]){re.escape(argname)}(?!\w)", msg) is not None


def _outcome(thunk, argname: str) -> tuple[str, str]:
  old = signal.signal(signal.SIGALRM, _on_alarm)
  signal.setitimer(signal.ITIMER_REAL, _TIMEOUT_S, 0.5)  # repeats: one alarm may land in a callback
  try:
    with warnings.catch_warnings():
      warnings.simplefilter("ignore")
      out = thunk()
      if not isinstance(out, jax.ShapeDtypeStruct) and not (isinstance(out, dict) and any(
          isinstance(v, jax.ShapeDtypeStruct) for v in out.values())):
        jax.block_until_ready(out) if isinstance(out, jax.Array) else None
        finite = _finite(out)
      else:
        finite = True
  except _Timeout:
    return "other", f"no result in {_TIMEOUT_S} s"
  except (ValueError, TypeError) as e:
    if _names(str(e), argname):
      return "error", ""
    return "other", f"{type(e).__name__} not naming {argname!r}: {str(e)[:160]}"
  except Exception as e:  # pylint: disable=broad-except
    return "other", f"{type(e).__name__}: {str(e)[:160]}"
  finally:
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, old)
  return ("finite", "") if finite else ("other", "non-finite values in the result")


def _input_cases(value: Any, kind: str) -> list[tuple[str, Any]]:
  if kind in ("array", "index", "complex"):
    arr = np.asarray(value)
    cases = [("empty", np.zeros(arr.shape[:-1] + (0,), arr.dtype)), ("0-d", arr.reshape(-1)[1].copy()),
             ("str", "abc")]
    if kind != "index":
      cases.append(("int", np.round(10 * arr.real / max(1.0, np.abs(arr).max())).astype(np.int32)))
    if kind != "complex":
      cases.append(("complex", arr.astype(np.complex64)))
    for bad in (math.nan, math.inf):
      x = arr.astype(np.complex64 if kind == "complex" else np.float64 if kind == "index" else arr.dtype)
      x.reshape(-1)[1] = bad
      cases.append(("nan" if math.isnan(bad) else "inf", x))
    return cases
  if kind == "int":
    return [(f"={v!r}", v) for v in _INT_VALUES]
  if kind == "scalar":
    return [(f"={v!r}", v) for v in _FLOAT_VALUES + (1j,)]
  if kind == "name":
    return [("=''", ""), ("=5", 5)]
  raise AssertionError(kind)


def _caller(fn, args, kwargs, argname, s_only):
  """``x -> fn(...)`` with ``x`` in the place of the input ``argname``."""
  if s_only:
    return lambda x: fn(**dict(kwargs, S=x))
  return lambda x: fn(x, *args[1:], **kwargs)


def _traces(call, value) -> bool:
  try:
    with warnings.catch_warnings():
      warnings.simplefilter("ignore")
      jax.eval_shape(call, jnp.asarray(value))
    return True
  except Exception:  # pylint: disable=broad-except
    return False


def run_grid(verbose: bool = False, only: Any = None) -> tuple[collections.Counter, list[str]]:
  counts: collections.Counter = collections.Counter()
  others: list[str] = []
  t_start = time.perf_counter()

  last = [time.perf_counter()]

  def record(label, outcome):
    now = time.perf_counter()
    if verbose and now - last[0] > 0.25:
      print(f"  slow {now - last[0]:.2f} s {label} {outcome[0]}", flush=True)
    last[0] = now
    counts[outcome[0]] += 1
    if outcome[0] == "other":
      others.append(f"{label}: {outcome[1]}")

  for name in dsp_functions():
    if only is not None and name not in only:
      continue
    if verbose:
      print(name, f"{time.perf_counter() - t_start:.1f}", flush=True)
    fn = getattr(jd, name)
    args, kwargs, inputs = base_call(name)
    for argname, value, kind in inputs:
      s_only = argname == "S" and not _is_first(fn, "S")
      call = _caller(fn, args, kwargs, argname, s_only)
      jit_ok = kind in ("array", "index", "complex") and _traces(call, value)
      for case, bad in _input_cases(value, kind):
        record(f"{name}({argname} {case})", _outcome(lambda: call(bad), argname))
        if jit_ok and case in ("empty", "0-d", "int", "complex"):
          record(f"jit {name}({argname} {case})", _outcome(lambda: jax.eval_shape(call, jnp.asarray(bad)), argname))
    for p in _params(fn):
      kind = _option_kind(p)
      if kind is None:
        continue
      for bad in _INT_VALUES if kind == "int" else _FLOAT_VALUES:
        kw = dict(kwargs, **{p.name: bad})
        record(f"{name}({p.name}={bad!r})", _outcome(lambda: fn(*args, **kw), p.name))
  return counts, others


def _is_first(fn, name):
  first = _input_param(fn)
  return first is not None and first.name == name


def core_functions() -> list[str]:
  return [n for n in dsp_functions() if getattr(jd, n).__module__ in CORE_MODULES]


_FULL = bool(os.environ.get("JAXDSP_FULL_GRID"))


def test_every_core_function_has_a_valid_grid_call():
  # Traced only (jax.eval_shape, nothing compiled) where the function traces; NumPy functions run.
  for name in dsp_functions() if _FULL else core_functions():
    fn = getattr(jd, name)
    args, kwargs, inputs = base_call(name)
    if inputs and inputs[0][2] in ("array", "complex") and _traces(_caller(fn, args, kwargs, inputs[0][0], False),
                                                                   inputs[0][1]):
      continue
    outcome = _outcome(lambda: fn(*args, **kwargs), "")
    assert outcome[0] == "finite", f"{name}: the grid's valid call fails ({outcome[1]}); add a _REQUIRED row"


def test_bad_input_grid_of_the_dsp_core_has_only_clear_errors_or_finite_results():
  counts, others = run_grid(only=set(core_functions()))
  assert counts["error"] > 500 and counts["finite"] > 50
  assert not others, f"{len(others)} of {sum(counts.values())} cases neither raise a clear error nor return " \
                     "finite values:\n" + "\n".join(others)


@pytest.mark.skipif(not _FULL, reason="the grid over every public function takes minutes: JAXDSP_FULL_GRID=1")
def test_bad_input_grid_of_every_public_function():
  counts, others = run_grid()
  assert not others, f"{len(others)} of {sum(counts.values())} cases neither raise a clear error nor return " \
                     "finite values:\n" + "\n".join(others)


if __name__ == "__main__":
  import sys
  t0 = time.perf_counter()
  only = None
  if len(sys.argv) > 1:  # module names: only the functions defined there
    only = {n for n in dsp_functions() if getattr(jd, n).__module__.rsplit(".", 1)[-1] in sys.argv[1:]}
  counts, others = run_grid(verbose=bool(os.environ.get("GRID_VERBOSE")), only=only)
  print("\n".join(others))
  print(dict(counts), f"total {sum(counts.values())}", f"{time.perf_counter() - t0:.1f} s")
