"""PyWavelets' discretised Morlet CWT filters, rebuilt in NumPy (private helper of ``wavelets``).

``pywt.cwt`` (PyWavelets 1.9, ``pywt/_cwt.py``) does not sample the wavelet at each scale. It
samples ψ once on a fixed grid of ``2**precision`` points over ``[-8, 8]`` (``wavefun``), takes
the running sum (``integrate_wavelet``: ``cumsum(ψ)·step``), and for each scale ``s`` looks the
integral up at the indices ``j = floor(arange(16·s + 1) / (s·step))``, reverses it, convolves the
signal with it and differentiates the result::

    coef = -sqrt(s) · diff(convolve(x, conj(int_psi)[j][::-1]))

then trims ``floor(d)`` samples from the front and ``ceil(d)`` from the back, ``d = (L - 2) / 2``
with ``L = len(j)`` (``method="conv"`` and ``method="fft"`` trim alike in 1.9; they differ only
by float rounding). Folding the difference into the taps makes each scale one linear filter,
``g = -sqrt(s)·diff([0, h, 0])``, applied at offset ``1 + floor(d)``; this module returns those
taps for every scale, aligned on a common offset so that one FFT convolution serves all scales.

Everything here runs on concrete NumPy values at trace time; nothing is traced.
"""

from __future__ import annotations

import math

import numpy as np

GRID_LOWER = -8.0
GRID_UPPER = 8.0


def wavefun(family: str, bandwidth: float, center: float, precision: int) -> tuple[np.ndarray, np.ndarray]:
  """ψ on PyWavelets' grid, as ``ContinuousWavelet(name).wavefun(precision)`` returns it."""
  x = np.linspace(GRID_LOWER, GRID_UPPER, 2**precision)
  # PyWavelets keeps B and C in C ``float`` fields: 0.7 becomes 0.699999988.
  bandwidth = float(np.float32(bandwidth))
  center = float(np.float32(center))
  if family == "morl":
    psi = np.exp(-(x**2) / 2) * np.cos(5 * x)
  else:
    psi = (
        1.0
        / np.sqrt(np.pi * bandwidth)
        * np.exp(-(x**2) / bandwidth)
        * np.exp(2j * np.pi * center * x)
    )
  return psi, x


def central_frequency(family: str, bandwidth: float, center: float, precision: int) -> float:
  """PyWavelets' ``central_frequency``: the FFT peak of ψ on its grid, quantised to 1/16."""
  psi, x = wavefun(family, bandwidth, center, precision)
  domain = float(x[-1] - x[0])
  index = int(np.argmax(np.abs(np.fft.fft(psi)[1:]))) + 2
  if index > len(psi) / 2:
    index = len(psi) - index + 2
  return 1.0 / (domain / (index - 1))


def filter_taps(
    family: str,
    bandwidth: float,
    center: float,
    scales: np.ndarray,
    precision: int,
    dtype: np.dtype,
) -> list[tuple[np.ndarray, int]]:
  """Per-scale taps of ``pywt.cwt``.

  Args:
    family: ``"morl"`` or ``"cmor"``.
    bandwidth, center: ``cmor``'s B and C (ignored for ``morl``).
    scales: concrete scales, shape ``(n_scales,)``.
    precision: PyWavelets' ``precision`` (grid of ``2**precision`` points).
    dtype: real dtype of the data (float32 or float64); PyWavelets casts its grid and integrated
      wavelet to it before the lookup, which can move a lookup index by one.

  Returns:
    A list of ``(g, offset)`` per scale: taps ``g`` (float64 for ``morl``, complex128 otherwise)
    and the int ``offset`` such that ``pywt.cwt(x)[i, n] == full_convolution(x, g)[n + offset]``,
    i.e. ``W[n] = Σ_k x[k]·g[n - k + offset]``.

  Raises:
    ValueError: a scale so small that PyWavelets itself refuses it.
  """
  psi, x = wavefun(family, bandwidth, center, precision)
  int_psi = np.cumsum(psi) * (x[1] - x[0])
  if np.iscomplexobj(int_psi):
    int_psi = np.conj(int_psi)
    int_psi = int_psi.astype(np.result_type(dtype, np.complex64))
  else:
    int_psi = int_psi.astype(dtype)
  x = x.astype(dtype)
  step = x[1] - x[0]
  extent = x[-1] - x[0]
  out = []
  for scale in np.asarray(scales):
    j = (np.arange(scale * extent + 1) / (scale * step)).astype(int)
    j = j[j < int_psi.size]
    h = int_psi[j][::-1].astype(np.complex128 if np.iscomplexobj(int_psi) else np.float64)
    if h.size < 2:
      raise ValueError(
          f"scales must be at least {1.0 / 16:g} for compat='pywt' (PyWavelets refuses smaller "
          f"scales), got {scale:g}"
      )
    g = -math.sqrt(scale) * np.diff(np.concatenate([[0.0], h, [0.0]]))
    out.append((g, 1 + (h.size - 2) // 2))
  return out


def align(taps: list[tuple[np.ndarray, int]], dtype: np.dtype) -> tuple[np.ndarray, int]:
  """Stacks taps on a common offset: ``(rows, shift)`` with ``rows[i, shift + d] == g_i[d + off_i]``."""
  shift = max(off for _, off in taps)
  width = max(shift - off + g.size for g, off in taps)
  rows = np.zeros((len(taps), width), dtype=dtype)
  for i, (g, off) in enumerate(taps):
    rows[i, shift - off : shift - off + g.size] = g
  return rows, shift
