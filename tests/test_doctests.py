"""The docstring examples of every ``jaxdsp`` module run as written, one pytest case per docstring.

Each module's examples see that module's globals (doctest's default) plus ``jnp``, ``np`` and
``jax``, so an example may use ``jnp`` without importing it. Examples marked
``# doctest: +SKIP`` (those that read files or draw figures, say) are skipped by doctest itself.
"""

import copy
import doctest
import importlib
import importlib.util
import pkgutil
import traceback

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxdsp

EXTRAGLOBS = {"jnp": jnp, "np": np, "jax": jax}
OPTIONFLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
# Modules whose examples need an optional extra (imported lazily, so the module itself imports).
NEEDS = {"jaxdsp.plot": ("matplotlib",)}
# Third-party packages outside the core dependencies: a module whose import fails for want of one
# of these is skipped rather than failed.
OPTIONAL_EXTRAS = {"matplotlib", "librosa", "pywt", "scipy", "soxr", "torch", "tensorboard"}
MIN_EXAMPLES = 50


def _missing(packages):
  return [p for p in packages if importlib.util.find_spec(p) is None]


def _modules():
  """``(name, module or None, skip reason or None, import error or None)`` for every module."""
  names = [jaxdsp.__name__] + [
      info.name for info in pkgutil.walk_packages(jaxdsp.__path__, prefix=jaxdsp.__name__ + ".")]
  for name in sorted(names):
    if name.endswith(".__main__"):
      continue  # the command-line entry point: no docstring examples, and importing it is moot
    missing = _missing(NEEDS.get(name, ()))
    if missing:
      yield name, None, f"needs {', '.join(missing)}", None
      continue
    try:
      module = importlib.import_module(name)
    except ModuleNotFoundError as e:
      if (e.name or "").split(".")[0] in OPTIONAL_EXTRAS:
        yield name, None, f"needs {e.name}", None
      else:
        yield name, None, None, traceback.format_exc()
      continue
    except Exception:  # pylint: disable=broad-except
      yield name, None, None, traceback.format_exc()
      continue
    yield name, module, None, None


def _collect():
  finder = doctest.DocTestFinder(exclude_empty=True)
  params = []
  for name, module, skip, error in _modules():
    if skip is not None:
      params.append(pytest.param(None, id=name, marks=pytest.mark.skip(reason=skip)))
    elif error is not None:
      params.append(pytest.param(error, id=f"{name} (import)"))
    else:
      tests = finder.find(module, name, extraglobs=EXTRAGLOBS)  # globs: a copy of the module's
      params += [pytest.param(t, id=t.name) for t in sorted(tests, key=lambda t: t.name) if t.examples]
  return params


CASES = _collect()


@pytest.mark.parametrize("test", CASES)
def test_docstring_examples(test):
  if isinstance(test, str):
    pytest.fail(f"import failed:\n{test}", pytrace=False)
  test = copy.copy(test)
  test.globs = test.globs.copy()  # a rerun of the case starts from the module's globals again
  runner = doctest.DocTestRunner(optionflags=OPTIONFLAGS)
  report = []
  results = runner.run(test, out=report.append, clear_globs=True)
  assert results.attempted == sum(not ex.options.get(doctest.SKIP, False) for ex in test.examples)
  assert results.failed == 0, "".join(report)


def test_examples_are_collected():
  """Guards against a collector that silently finds nothing."""
  tests = [p.values[0] for p in CASES if isinstance(p.values[0], doctest.DocTest)]
  n_examples = sum(len(t.examples) for t in tests)
  assert n_examples >= MIN_EXAMPLES, f"only {n_examples} docstring examples in {len(tests)} docstrings"
  modules = {t.name.split(".")[1] for t in tests if t.name.count(".") >= 1}
  assert {"nn", "data"} <= modules, sorted(modules)
