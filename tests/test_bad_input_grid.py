"""Bad-input grid over every public DSP function of ``jd.__all__`` (issue 13, "Also build").

Each function is found by introspection (classes, modules, constants and file I/O are skipped), so a
function added to ``jd.__all__`` is picked up without editing this file: its valid call is built from
its signature (the first parameter's name says what the input is; ``_SMALL`` shrinks the sizes;
``_REQUIRED`` gives the few options without defaults). Each case is then

* the input (the first parameter, and ``S=`` where a function also takes a spectrogram) replaced by
  an empty array, a 0-d scalar, an integer, complex or string value, and host (NumPy) arrays holding
  NaN or inf;
* each int option set to 0, -1, 2**40, ``"8"`` or 2.5, each float option to 0, -1, NaN, inf or
  ``"8"`` (a value equal to the option's default is skipped: it is no bad input).

Each outcome is one of: a ``ValueError``/``TypeError`` whose message names the argument (``error``),
a result whose values are all finite (``finite``), or anything else (``other``: another exception, an
error not naming the argument, NaN/inf in the result, a result of more than ``_MAX_RESULT`` values,
more than ``_TIMEOUT_S`` seconds to trace, more than ``_RUN_TIMEOUT_S`` to compile and run a call).
The CI test runs one pytest test per module (so ``pytest -n`` spreads them): it checks that each
function's valid grid call works, then runs the grid and asserts that there is no ``other`` outside
``_KNOWN_OTHER``.

How a case is evaluated (the rule that keeps the grid both cheap and honest):

1. Where the function's valid call traces (``jax.eval_shape`` with the input abstract), the case is
   first *traced only* (``jax.eval_shape``, nothing compiled): the input's shape and dtype cases with
   the input abstract, the option cases with the valid input abstract and the bad option concrete.
   Argument checks look only at shapes, dtypes and Python values, so they fire at trace time exactly
   as in an eager call and as under ``jax.jit``; an exception there is the case's outcome.
2. A case that traces without error is *accepted*, and an accepted case must be executed: it is run
   eagerly (compiled) on the same tiny input and its values are checked for finiteness. The only
   exception is a result with no values at all (every output of size 0, known from the trace), which
   is finite by definition and is not executed.
3. NaN/inf inputs need values: they are always run eagerly, as host NumPy arrays (host data is where
   the library promises to look at values; a traced NaN is not scanned, which ``_checks`` documents).
   Their result counts as ``finite`` only if it is.
4. NaN/inf in a result is ``other``, in every case, except in the outputs ``_DOCUMENTED_NONFINITE``
   names, and only while the function's docstring holds the sentence it quotes (e.g. ``pyin``'s f0 is
   NaN on unvoiced frames, as librosa's): those outputs may hold NaN/inf, every other output of the
   same call must still be finite.
5. Functions whose valid call does not trace (host-side functions: string notes, file names, index
   lists) are called directly for every case.

``python tests/test_bad_input_grid.py [module ...]`` prints the counts and every ``other`` case.
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
_TIMEOUT_S = 10.0  # a trace taking longer hangs on a size it should have refused
_RUN_TIMEOUT_S = 60.0  # a call compiles: pyin's first compile takes 8 s on a loaded 2-core machine
_MAX_RESULT = 2**24  # a result of more values than this from a tiny input is a size check that is missing
_N = 256
_RNG = np.random.default_rng(0)
_SIGNAL = (0.1 * _RNG.standard_normal(_N)).astype(np.float32)
_SPEC = np.abs(_RNG.standard_normal((33, 8))).astype(np.float32)  # n_fft = 64

# Sizes that keep every valid call tiny, applied to whichever of these a function takes.
_SMALL = {"n_fft": 64, "frame_length": 64, "hop_length": 16, "n_mels": 8, "n_mfcc": 4}

# Options without a default (or whose default does not fit the tiny inputs), per function.
_PITCH = {"sr": 8000, "fmin": 200.0, "fmax": 1000.0}  # fmin above sr / frame_length: at least one period a frame
_CQT = {"sr": 8000, "fmin": 500.0, "hop_length": 16, "bins_per_octave": 12}
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
    "yin": _PITCH, "yin_soft": _PITCH, "pyin": _PITCH,
    "icqt": _CQT, "griffinlim_cqt": dict(_CQT, n_iter=2),
    "mel_to_audio": {"sr": 8000, "n_iter": 2}, "mel_to_stft": {"sr": 8000},
    "mfcc_to_audio": {"sr": 8000, "n_fft": 64, "hop_length": 16, "n_iter": 2},
    "harmonic_synth": {"amplitudes": np.full((3, 8), 0.3, np.float32), "n_samples": _N},
    "sinusoidal_synth": {"amplitudes": np.full((2, 4), 0.3, np.float32), "n_samples": _N},
    "wavetable_synth": {"wavetable": np.sin(2 * np.pi * np.arange(64) / 64).astype(np.float32), "n_samples": _N},
    "frequency_filter": {"magnitudes": np.ones((9, 4), np.float32)},
    "exp_decay_ir": {"gain": 0.5, "decay": 4.0},
    "time_varying_allpole": {"a": np.full((_N, 1), -0.5, np.float32)},
    "biquad": {"b0": 0.4, "b1": 0.3, "b2": 0.1, "a0": 1.25, "a1": -1.1, "a2": 0.4},
    "spectral_contrast": {"sr": 8000, "n_fft": 256, "fmin": 100.0, "n_bands": 3},
    "chirp": {"sr": 8000, "length": _N},
    "clicks": {"frames": np.array([0, 4, 8]), "length": _N},
    "tone": {"sr": 8000, "length": _N},
    "stft_loss": {"fft_size": 64, "hop_size": 16, "win_length": 64},
    "mel_stft_loss": {"fft_size": 64, "hop_size": 16, "win_length": 64, "sr": 8000},
    "multi_resolution_stft_loss": {"fft_sizes": (64, 32), "hop_sizes": (16, 8), "win_lengths": (64, 32)},
}
# Functions whose input is a keyword argument (the positional one is the alternative not exercised here).
_KEYWORD_INPUT = {"tonnetz": "chroma"}
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
    "frequency": (440.0, "scalar"),
    "D": ((_SPEC * np.exp(1j * _SPEC)).astype(np.complex64), "complex"),
    "C": ((_SPEC[:12] * np.exp(1j * _SPEC[:12])).astype(np.complex64), "complex"),
    "M": (_SPEC[:8], "array"),
    "mfcc": (_SPEC[:4] - 0.5, "array"),
    "chroma": (_SPEC[:12] / _SPEC[:12].max(0), "array"),
    "f0": (np.full(8, 220.0, np.float32), "array"),
    "magnitudes": (np.ones((9, 4), np.float32), "array"),
    "events": (np.array([3, 7]), "index"),
}
# Inputs whose valid value depends on the function rather than on the parameter's name.
_INPUT_OF_FUNCTION: dict[str, tuple[Any, str]] = {
    "sinusoidal_synth": (np.array([[440.0] * 4, [880.0] * 4], np.float32), "array"),
}
# Further positional arguments of the valid call.
_POSITIONAL_EXTRA = {"get_window": (16,), "perceptual_weighting": (np.linspace(10.0, 4000.0, 33),)}
# Required keyword-only options of functions not in _REQUIRED, by name (a function needing one that is
# missing here has no valid grid call: test_every_public_function_has_a_valid_grid_call names it).
_REQUIRED_BY_NAME: dict[str, Any] = {"fmin": 100.0, "fmax": 1000.0, "sr": 8000, "sample_rate": 8000, "size": _N + 8,
                                     "orig_sr": 8000, "target_sr": 4000, "frame_length": 16, "hop_length": 4,
                                     "n_fft": 64, "n_samples": _N, "rate": 1.25, "n_steps": 2.0, "order": 2,
                                     "key": jax.random.key(0), "delay_samples": 1.5, "gain_db": -6.0, "pan": 0.3,
                                     "central_freq": 1000.0, "cutoff_freq": 1000.0, "center_freq": 1000.0,
                                     "gain": 3.0, "b": np.array([0.5, 0.5]), "a": np.array([1.0, -0.2]),
                                     "h": np.full(4, 0.25), "sos": np.array([[1.0, 0.0, 0.0, 1.0, -0.5, 0.0]]),
                                     "ir": np.exp(-np.arange(32.0) / 4), "center_freqs": np.array([100.0, 1000.0]),
                                     "gains_db": np.array([3.0, -3.0]), "freqs": np.array([500.0, 1000.0]),
                                     "energy": np.array([1.0, 0.0, 2.0, 5.0, 3.0, 1.0, 4.0, 9.0])}

_INT_VALUES = (0, -1, 2**40, "8", 2.5)
_FLOAT_VALUES = (0.0, -1.0, math.nan, math.inf, "8")

# Cases that are still "other" (issue 13: the grid over every public function has no "other" case).
# Each entry is a label as ``run_grid`` prints it; the test fails if one of them stops being "other"
# (remove it then) or if a case outside this set is "other".
_KNOWN_OTHER: frozenset[str] = frozenset()


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


def module_of(name: str) -> str:
  return getattr(jd, name).__module__.rsplit(".", 1)[-1]


def grid_modules() -> list[str]:
  return sorted({module_of(n) for n in dsp_functions()})


def _params(fn) -> list[inspect.Parameter]:
  return list(inspect.signature(fn).parameters.values())


def _input_param(fn) -> inspect.Parameter | None:
  params = [p for p in _params(fn) if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
  return params[0] if params else None


def _input_of(param: inspect.Parameter) -> tuple[Any, str] | None:
  if param.name in _INPUTS:
    return _INPUTS[param.name]
  if str(param.annotation).startswith("str"):  # a name (a factory such as feature_loss)
    return None
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
  if name in _KEYWORD_INPUT:
    value, kind = _INPUTS[_KEYWORD_INPUT[name]]
    kwargs[_KEYWORD_INPUT[name]] = value
    return args, kwargs, [(_KEYWORD_INPUT[name], value, kind)]
  if first is not None and first.name not in kwargs and _input_of(first) is not None:
    value, kind = _INPUT_OF_FUNCTION.get(name) or _input_of(first)
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
  return arr.dtype.kind in "iubUS"  # integers, booleans, note names


def _names(msg: str, argname: str) -> bool:
  return re.search(rf"(?<![\w.]){re.escape(argname)}(?!\w)", msg) is not None


# Outputs documented to hold NaN/inf: function -> (the docstring's sentence, indices of those outputs).
_DOCUMENTED_NONFINITE: dict[str, tuple[str, tuple[int, ...]]] = {
    "pyin": ("f0 is NaN\n      wherever ``voiced_flag`` is False", (0,)),
}


def _nonfinite_outputs(name: str) -> tuple[int, ...]:
  """The outputs of ``jd.<name>`` that may hold NaN/inf (checked against its docstring)."""
  if name not in _DOCUMENTED_NONFINITE:
    return ()
  sentence, outputs = _DOCUMENTED_NONFINITE[name]
  assert sentence in (getattr(jd, name).__doc__ or ""), f"{name}'s docstring no longer documents its NaN outputs"
  return outputs


def _classify(thunk, argname: str, *, nonfinite_ok: tuple[int, ...] = (), traced: bool = False,
              timeout_s: float = _TIMEOUT_S) -> tuple[str, str]:
  """Runs ``thunk`` under a timeout; ``traced``: it returns ``jax.eval_shape``'s structs, and the
  outcome is ``"accepted"`` (to be executed) unless every output is empty."""
  old = signal.signal(signal.SIGALRM, _on_alarm)
  signal.setitimer(signal.ITIMER_REAL, timeout_s, 0.5)  # repeats: one alarm may land in a callback
  try:
    with warnings.catch_warnings():
      warnings.simplefilter("ignore")
      out = thunk()
      leaves = jax.tree.leaves(out)
      if traced:
        sizes = [math.prod(getattr(leaf, "shape", ())) for leaf in leaves]
        if sum(sizes) > _MAX_RESULT:
          return "other", f"a result of {sum(sizes)} values from a {_N}-sample input"
        return ("finite", "") if not any(sizes) else ("accepted", "")
      jax.block_until_ready([leaf for leaf in leaves if isinstance(leaf, jax.Array)])
      if nonfinite_ok and isinstance(out, tuple):
        out = tuple(v for i, v in enumerate(out) if i not in nonfinite_ok)
      finite = _finite(out)
  except _Timeout:
    return "other", f"no result in {timeout_s} s"
  except (ValueError, TypeError) as e:
    if _names(str(e), argname):
      return "error", ""
    return "other", f"{type(e).__name__} not naming {argname!r}: {str(e)[:160]}"
  except Exception as e:  # pylint: disable=broad-except
    return "other", f"{type(e).__name__}: {str(e)[:160]}"
  finally:
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, old)
  if finite:
    return "finite", ""
  return "other", "non-finite values in the result"


def _outcome(eager, argname: str, traced=None, *, nonfinite_ok: tuple[int, ...] = ()) -> tuple[str, str]:
  """Traces ``traced`` first (if given); runs ``eager`` only for a case the trace accepts."""
  if traced is not None:
    outcome = _classify(traced, argname, traced=True)
    if outcome[0] != "accepted":
      return outcome
  return _classify(eager, argname, nonfinite_ok=nonfinite_ok, timeout_s=_RUN_TIMEOUT_S)


def _input_cases(value: Any, kind: str) -> list[tuple[str, Any]]:
  if kind in ("array", "index", "complex"):
    arr = np.asarray(value)
    cases = [("empty", np.zeros(arr.shape[:-1] + (0,), arr.dtype)), ("0-d", arr.reshape(-1)[1].copy()),
             ("str", "abc")]
    if kind != "index":
      peak = np.abs(arr).max()  # integers of the valid values' magnitude (small ones scaled up to +-10)
      cases.append(("int", np.round(arr.real * (10 / peak if 0 < peak < 10 else 1)).astype(np.int32)))
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


def _caller(fn, args, kwargs, argname):
  """``x -> fn(...)`` with ``x`` in the place of the input ``argname`` (the first positional argument, or
  a keyword argument such as ``S=`` passed alone)."""
  if not _is_first(fn, argname):
    return lambda x, **kw: fn(**dict(kwargs, **{argname: x}, **kw))
  return lambda x, **kw: fn(x, *args[1:], **dict(kwargs, **kw))


def _abstract(value) -> jax.ShapeDtypeStruct:
  value = np.asarray(value)
  return jax.ShapeDtypeStruct(value.shape, jnp.asarray(value[()] if value.ndim == 0 else value[:0]).dtype)


def _traces(call, value) -> bool:
  try:
    with warnings.catch_warnings():
      warnings.simplefilter("ignore")
      jax.eval_shape(call, _abstract(value))
    return True
  except Exception:  # pylint: disable=broad-except
    return False


def run_grid(only: Any = None, verbose: bool = False) -> tuple[collections.Counter, list[str]]:
  """Counts of the outcomes and the ``other`` cases (``label: why``) of the functions in ``only``.

  JAX's traceback filtering is off meanwhile: it walks every frame's path for each of the hundreds of
  errors the grid raises (a tenth of the grid's time), and changes neither an error's type nor its message.
  """
  filtering = jax.config.jax_traceback_filtering
  jax.config.update("jax_traceback_filtering", "off")
  try:
    return _run_grid(only, verbose)
  finally:
    jax.config.update("jax_traceback_filtering", filtering)


def _run_grid(only: Any, verbose: bool) -> tuple[collections.Counter, list[str]]:
  counts: collections.Counter = collections.Counter()
  others: list[str] = []
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
    fn = getattr(jd, name)
    nonfinite_ok = _nonfinite_outputs(name)
    args, kwargs, inputs = base_call(name)
    first_traced = None  # the traced caller of the first input, for the option cases
    for i, (argname, value, kind) in enumerate(inputs):
      call = _caller(fn, args, kwargs, argname)
      traces = kind in ("array", "index", "complex") and _traces(call, value)
      if i == 0 and traces:
        first_traced = (call, value)
      for case, bad in _input_cases(value, kind):
        eager = lambda: call(bad)
        traced = None
        if traces and case in ("empty", "0-d", "int", "complex"):
          traced = lambda: jax.eval_shape(call, _abstract(bad))
        record(f"{name}({argname} {case})", _outcome(eager, argname, traced, nonfinite_ok=nonfinite_ok))
    for p in _params(fn):
      kind = _option_kind(p)
      if kind is None:
        continue
      for bad in _INT_VALUES if kind == "int" else _FLOAT_VALUES:
        if type(bad) is type(p.default) and bad == p.default:
          continue  # the option's default (e.g. tuning=0.0, norm=inf) is no bad input
        kw = dict(kwargs, **{p.name: bad})
        eager = lambda: fn(*args, **kw)
        traced = None
        if first_traced is not None:
          call, value = first_traced
          traced = lambda: jax.eval_shape(lambda x: call(x, **{p.name: bad}), _abstract(value))
        record(f"{name}({p.name}={bad!r})", _outcome(eager, p.name, traced, nonfinite_ok=nonfinite_ok))
  return counts, others


def _is_first(fn, name):
  first = _input_param(fn)
  return first is not None and first.name == name


def check_valid_calls(names) -> None:
  """Every function's valid grid call works: traced only (``jax.eval_shape``, nothing compiled) where the
  function traces; host functions run."""
  for name in names:
    fn = getattr(jd, name)
    args, kwargs, inputs = base_call(name)
    if inputs and inputs[0][2] in ("array", "complex") and _traces(_caller(fn, args, kwargs, inputs[0][0]),
                                                                   inputs[0][1]):
      continue
    outcome = _classify(lambda: fn(*args, **kwargs), "", timeout_s=60.0)
    assert outcome[0] == "finite", f"{name}: the grid's valid call fails ({outcome[1]}); add a _REQUIRED row"


def test_every_public_function_is_in_the_grid():
  assert len(dsp_functions()) > 150 and {module_of(n) for n in dsp_functions()} == set(grid_modules())


def test_known_other_cases_name_existing_functions():
  names = set(dsp_functions())
  for label in _KNOWN_OTHER:
    assert label.split("(")[0] in names, label


@pytest.mark.parametrize("module", grid_modules())
def test_bad_input_grid_has_only_clear_errors_or_finite_results(module):
  names = [n for n in dsp_functions() if module_of(n) == module]
  check_valid_calls(names)
  counts, others = run_grid(only=set(names))
  assert counts["error"] + counts["finite"] > 0
  labels = {o.split(": ", 1)[0] for o in others}
  fixed = {k for k in _KNOWN_OTHER if module_of(k.split("(")[0]) == module} - labels
  assert not fixed, f"no longer 'other' (remove them from _KNOWN_OTHER): {sorted(fixed)}"
  new = [o for o in others if o.split(": ", 1)[0] not in _KNOWN_OTHER]
  assert not new, f"{module}: {len(new)} of {sum(counts.values())} cases neither raise a clear error nor return " \
                  "finite values:\n" + "\n".join(new)


if __name__ == "__main__":
  import sys
  t0 = time.perf_counter()
  only = None
  if len(sys.argv) > 1:  # module names: only the functions defined there
    only = {n for n in dsp_functions() if module_of(n) in sys.argv[1:]}
  counts, others = run_grid(only=only, verbose=bool(os.environ.get("GRID_VERBOSE")))
  print("\n".join(others))
  per_module = collections.Counter(module_of(o.split("(")[0].removeprefix("jit ")) for o in others)
  print("other per module:", dict(sorted(per_module.items())))
  print(dict(counts), f"total {sum(counts.values())}", f"{time.perf_counter() - t0:.1f} s")
