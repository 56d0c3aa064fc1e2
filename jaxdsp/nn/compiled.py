"""One compiled program for a module's forward pass, eager calls included.

An eager call of a JAX function dispatches each of its operations on its own, and each operation
compiles the first time it meets a new shape. For a front-end of a hundred operations (``Leaf``)
that is many times the compile time of its whole forward pass as one program, on CPU most of all.
:func:`compiled_method` runs a module's forward pass as one ``jax.jit`` program however it is
called; inside a caller's ``jit``, ``grad`` or ``vmap`` the nested program is traced into the
caller's as any jitted function is.
"""

from __future__ import annotations

import functools
from typing import Callable

import jax
from flax import nnx

__all__ = ["compiled_method"]


def compiled_method(method: Callable) -> Callable:
  """Decorates a module method ``method(self, *arrays)`` so that it runs as one compiled program.

  The method must not change the module's variables (a forward pass). Its arguments must be arrays
  already checked: checks that read host values or raise on bad shapes stay in the public method,
  outside the compiled one. The module is split into its static structure (part of the program's
  key) and its variables (the program's inputs, so gradients flow to them), and merged again
  inside the program; the caller's module is only read.

  Args:
    method: an ``nnx.Module`` method taking arrays and returning a pytree of arrays.

  Returns:
    The method, compiled with ``jax.jit``.

  Examples:
    >>> import jax, jax.numpy as jnp
    >>> from flax import nnx
    >>> class Scale(nnx.Module):
    ...   def __init__(self):
    ...     self.w = nnx.Param(jnp.array(2.0))
    ...   @compiled_method
    ...   def __call__(self, x):
    ...     return self.w[...] * x
    >>> m = Scale()
    >>> m(jnp.ones(3)).tolist()
    [2.0, 2.0, 2.0]
    >>> float(nnx.grad(lambda m: m(jnp.ones(3)).sum())(m).w[...])
    3.0
  """
  @functools.partial(jax.jit, static_argnums=0)
  def run(graphdef, state, *args):
    return method(nnx.merge(graphdef, state), *args)

  @functools.wraps(method)
  def call(self, *args):
    graphdef, state = nnx.split(self)
    return run(graphdef, state, *args)

  return call
