"""Inversions: Griffin–Lim phase retrieval and the mel / MFCC inversions to spectra and audio.

Layout: spectra ``(..., n_freq, n_frames)``, mel ``(..., n_mels, n_frames)``, MFCC
``(..., n_mfcc, n_frames)``, audio ``(..., n_samples)``; any leading batch axes. The iterations run
in ``lax.fori_loop`` (static counts), so each function is jittable, vmappable and differentiable
in its input (through every iteration; the phase normalisation ``X / |X|`` has no gradient where
``X = 0``). Names, arguments and defaults follow librosa 0.11; the non-negative least squares of
``mel_to_stft`` is solved here by accelerated projected gradient (FISTA) from librosa's starting
point instead of scipy's L-BFGS-B (see :func:`mel_to_stft` for the agreement).
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from jaxdsp import _checks
from jaxdsp import _core
from jaxdsp import spectral as _spectral


def _random_phase(random_state: Any, shape: tuple[int, ...], dtype: Any) -> jax.Array:
  """``exp(2πi·u)``, ``u`` uniform in [0, 1): NumPy draws as librosa (``None``: fresh entropy, an int:
  ``RandomState(seed)``, a NumPy generator as given), or ``jax.random`` for a JAX PRNG key."""
  if isinstance(random_state, jax.Array) or hasattr(random_state, "aval"):
    if jnp.issubdtype(random_state.dtype, jax.dtypes.prng_key) or (
        random_state.dtype == jnp.uint32 and random_state.shape[-1:] == (2,)):
      u = jax.random.uniform(random_state, shape, dtype=dtype)
      return jnp.exp(2j * jnp.pi * u)
    raise TypeError(f"random_state must be None, an int, a NumPy generator or a JAX PRNG key, got {random_state!r}")
  if random_state is None:
    rng = np.random.default_rng()
  elif isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
    rng = np.random.RandomState(seed=int(random_state))
  elif isinstance(random_state, (np.random.RandomState, np.random.Generator)):
    rng = random_state
  else:
    raise TypeError(f"random_state must be None, an int, a NumPy generator or a JAX PRNG key, got {random_state!r}")
  return jnp.asarray(np.exp(2j * np.pi * rng.random(size=shape)))


def griffinlim(S: ArrayLike, *, n_iter: int = 32, hop_length: int | None = None, win_length: int | None = None,
               n_fft: int | None = None, window: Any = "hann", center: bool = True, dtype: Any = None,
               length: int | None = None, pad_mode: str = "constant", momentum: float = 0.99,
               init: str | None = "random", random_state: Any = None) -> jax.Array:
  """Signal from a magnitude spectrogram by (fast) Griffin–Lim phase retrieval.

  Starting from random (``init="random"``) or zero (``init=None``) phase ``X = S·e^{iφ}``, each of
  ``n_iter`` iterations sets ``R = stft(istft(X))``, ``A = R - momentum/(1 + momentum)·R_prev``
  (no momentum term on the first iteration) and ``X = S·A / (|A| + tiny)``; the result is
  ``istft(X)``. ``momentum = 0`` is the original Griffin–Lim; 0.99 (default) the fast variant.

  Args:
    S: ``(..., 1 + n_fft // 2, n_frames)`` non-negative magnitudes.
    n_iter: iterations, a non-negative int (static).
    hop_length, win_length, n_fft, window, center, pad_mode: STFT settings (``n_fft`` defaults to
      ``2·(n_freq - 1)``, ``hop_length`` to ``win_length // 4``).
    dtype: output float dtype (default: ``S``'s).
    length: output length in samples.
    momentum: >= 0 (values above 1 warn, as librosa).
    init: ``"random"`` or ``None``.
    random_state: for ``init="random"``: ``None``, an int (NumPy ``RandomState``, the phases
      librosa draws for the same seed), a NumPy generator, or a ``jax.random`` key (drawn on device).

  Returns:
    ``(..., n_samples)`` signal.

  Examples:
    >>> import jaxdsp as jd
    >>> y = jd.tone(440.0, sr=8000, length=4096)
    >>> y_hat = jd.griffinlim(abs(jd.stft(y, n_fft=512)), length=4096, random_state=0)
    >>> y_hat.shape, bool(jnp.abs(jd.stft(y_hat, n_fft=512)).max() > 100)
    ((4096,), True)

  References:
    D. Griffin and J. Lim, IEEE Trans. ASSP 32(2), 1984. N. Perraudin, P. Balazs and P. Søndergaard,
    "A fast Griffin-Lim algorithm", WASPAA 2013. Compare ``librosa.griffinlim``.
  """
  S = _checks.as_signal(S, "S", min_ndim=2)
  n_iter = _checks.count(n_iter, "n_iter")
  if isinstance(momentum, bool) or not isinstance(momentum, (int, float, np.integer, np.floating)):
    raise TypeError(f"momentum must be a real number, got {momentum!r}")
  if momentum < 0 or not np.isfinite(momentum):
    raise ValueError(f"momentum must be a finite number >= 0, got {momentum!r}")
  if momentum > 1:
    warnings.warn(f"Griffin-Lim with momentum={momentum} > 1 can be unstable", stacklevel=2)
  _checks.choice(init, "init", ("random", None))
  n_fft = 2 * (S.shape[-2] - 1) if n_fft is None else _checks.positive_int(n_fft, "n_fft")
  if n_fft // 2 + 1 != S.shape[-2]:
    raise ValueError(f"n_fft={n_fft} does not match S's {S.shape[-2]} frequency rows (1 + n_fft // 2)")
  if init == "random":
    phase = _random_phase(random_state, S.shape, S.dtype)
  else:
    phase = jnp.ones(S.shape)
  complex_dtype = jnp.result_type(S.dtype, jnp.complex64)
  angles = S * phase.astype(complex_dtype)
  stft_kw = dict(n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window, center=center)
  istft = functools.partial(_spectral.istft, length=length, **stft_kw)
  n_frames = S.shape[-1]

  def rebuild(X):
    R = _spectral.stft(istft(X), pad_mode=pad_mode, **stft_kw)
    return R[..., :n_frames] if R.shape[-1] >= n_frames else jnp.pad(
        R, [(0, 0)] * (R.ndim - 1) + [(0, n_frames - R.shape[-1])])

  eps = jnp.finfo(S.dtype).tiny
  c = momentum / (1 + momentum)

  def step(i, carry):
    X, prev = carry
    R = rebuild(X)
    A = R - jnp.where(i > 0, c, 0.0).astype(S.dtype) * prev
    return S * (A / (jnp.abs(A) + eps)), R

  if n_iter:
    angles, _ = jax.lax.fori_loop(0, n_iter, step, (angles, jnp.zeros_like(angles)))
  y = istft(angles)
  return y if dtype is None else y.astype(dtype)


def _idct_basis(n_mfcc: int, n_mels: int, norm: str | None) -> np.ndarray:
  """``(n_mels, n_mfcc)``: scipy's ``idct(type=2, n=n_mels, norm=norm)`` of ``n_mfcc`` coefficients."""
  k = np.arange(n_mfcc)[None, :]
  m = np.arange(n_mels)[:, None]
  cos = np.cos(np.pi * k * (2 * m + 1) / (2 * n_mels))
  if norm == "ortho":
    return cos * np.where(k == 0, np.sqrt(1.0 / n_mels), np.sqrt(2.0 / n_mels))
  return cos * np.where(k == 0, 1.0, 2.0) / (2 * n_mels)  # scipy's "backward" normalisation


def mfcc_to_mel(mfcc: ArrayLike, *, n_mels: int = 128, dct_type: int = 2, norm: str | None = "ortho",
                ref: float = 1.0, lifter: float = 0) -> jax.Array:
  """Mel power spectrogram from MFCCs: undo the liftering, inverse DCT-II to ``n_mels`` bands, then
  ``db_to_power(·, ref=ref)``.

  Linear up to the final exponential; differentiable. The cepstrum's truncation to ``n_mfcc``
  coefficients is not undone (the missing ones are taken as zero).

  Args:
    mfcc: ``(..., n_mfcc, n_frames)``.
    n_mels: number of mel bands to produce.
    dct_type: 2 (as :func:`jaxdsp.mfcc`).
    norm: ``"ortho"`` or ``None``, as used to compute the MFCCs.
    ref: the reference power of the dB scale.
    lifter: the liftering coefficient used (>= 0).

  Returns:
    ``(..., n_mels, n_frames)``.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.mfcc_to_mel(jnp.zeros((13, 4)), n_mels=40).shape
    (40, 4)

  Compare ``librosa.feature.inverse.mfcc_to_mel``.
  """
  mfcc = _checks.as_signal(mfcc, "mfcc", min_ndim=2)
  n_mels = _checks.size(n_mels, "n_mels")
  if n_mels * max(mfcc.shape[-2], mfcc.size // mfcc.shape[-2]) > _checks.INT32_MAX:
    raise ValueError(f"n_mels={n_mels} is too large for mfcc of shape {mfcc.shape}: the inverse DCT and the mel "
                     "spectrogram must hold fewer than 2**31 values (JAX indexes with int32)")
  if dct_type != 2:
    raise ValueError(f"dct_type must be 2 (DCT-II), got {dct_type!r}")
  _checks.choice(norm, "norm", ("ortho", None))
  lifter = _checks.positive_number(lifter, "lifter", allow_zero=True)
  n_mfcc = mfcc.shape[-2]
  if n_mfcc > n_mels:
    raise ValueError(f"n_mels must be >= the number of MFCCs ({n_mfcc}), got {n_mels}")
  basis = _idct_basis(n_mfcc, n_mels, norm)
  if lifter > 0:
    sine = 1 + lifter * 0.5 * np.sin(np.pi * np.arange(1, 1 + n_mfcc) / lifter)
    basis = basis / (sine + np.finfo(np.dtype(mfcc.dtype)).tiny)[None, :]
  logmel = jnp.einsum("mk,...kt->...mt", jnp.asarray(basis, mfcc.dtype), mfcc, precision=jax.lax.Precision.HIGHEST)
  return _spectral.db_to_power(logmel, ref=ref)


@functools.partial(jax.jit, static_argnames=("n_iter",))
def _nnls(A: jax.Array, At: jax.Array, pinv: jax.Array, B: jax.Array, step: float, *, n_iter: int) -> jax.Array:
  """``argmin_{x >= 0} ||A x - B||²`` per column by FISTA from ``max(pinv B, 0)``."""
  prec = jax.lax.Precision.HIGHEST
  mul = lambda M, X: jnp.einsum("ij,...jt->...it", M, X, precision=prec)  # noqa: E731
  x0 = jnp.maximum(mul(pinv, B), 0)
  AtB = mul(At, B)

  def body(i, carry):
    x, z, t = carry
    grad = mul(At, mul(A, z)) - AtB
    x_new = jnp.maximum(z - step * grad, 0)
    t_new = (1 + jnp.sqrt(1 + 4 * t * t)) / 2
    z_new = x_new + ((t - 1) / t_new) * (x_new - x)
    return x_new, z_new, t_new

  return jax.lax.fori_loop(0, n_iter, body, (x0, x0, jnp.asarray(1.0, B.dtype)))[0]


def _ops_root(X: jax.Array, power: float) -> jax.Array:
  """``X^(1/power)`` for ``X >= 0`` with a finite gradient at 0 (where it is taken as 0)."""
  positive = X > 0
  return jnp.where(positive, jnp.where(positive, X, 1) ** (1.0 / power), 0)


def mel_to_stft(M: ArrayLike, *, sr: float = 22050, n_fft: int = 2048, power: float = 2.0, nnls_iter: int = 200,
                **kwargs: Any) -> jax.Array:
  """Approximate magnitude spectrogram from a mel spectrogram: non-negative least squares, then
  the ``1/power`` root.

  Solves ``min_{X >= 0} ||mel_filterbank · X - M||²`` column by column with ``nnls_iter`` steps of
  accelerated projected gradient (FISTA, step ``1/σ_max(fb)²``) from librosa's starting point
  ``max(pinv(fb)·M, 0)``. The problem is under-determined (more bins than bands), so the minimiser
  is not unique, and scipy's L-BFGS-B, as librosa calls it, stops early: on 0.75 s of real speech
  and music (n_fft 1024, 64 mels) the 200 FISTA steps reach a least-squares objective 5·10⁴–10⁸
  times lower than librosa's, a result closer to the true ``|STFT|`` (relative Frobenius error 0.41
  vs 0.48 on speech, 0.37 vs 0.46 on music), and ``X`` within 28–32 % (relative Frobenius norm) of
  librosa's. Differentiable in ``M`` (through the iterations).

  Args:
    M: ``(..., n_mels, n_frames)`` mel spectrogram (``|STFT|^power`` mel).
    sr, n_fft: the STFT behind ``M``.
    power: the exponent ``M`` was computed with.
    nnls_iter: projected-gradient steps (static; not a librosa argument).
    **kwargs: the filterbank's ``fmin``, ``fmax``, ``htk``, ``norm`` (see :func:`jaxdsp.mel_filterbank`).

  Returns:
    ``(..., 1 + n_fft // 2, n_frames)`` non-negative magnitudes.

  Examples:
    >>> import jaxdsp as jd
    >>> jd.mel_to_stft(jnp.ones((32, 3)), sr=8000, n_fft=256).shape
    (129, 3)

  Compare ``librosa.feature.inverse.mel_to_stft``.
  """
  M = _checks.as_signal(M, "M", min_ndim=2)
  power = _checks.positive_number(power, "power")
  nnls_iter = _checks.count(nnls_iter, "nnls_iter")
  unknown = set(kwargs) - {"fmin", "fmax", "htk", "norm"}
  if unknown:
    raise TypeError(f"mel_to_stft got unexpected keyword arguments {sorted(unknown)} (filterbank: fmin, fmax, "
                    "htk, norm)")
  fb_kw = dict(dict(fmin=0.0, fmax=None, htk=False, norm="slaney"), **kwargs)
  fb = np.asarray(_core.mel_matrix(sr=sr, n_fft=n_fft, n_mels=M.shape[-2], **fb_kw), dtype=np.float64)
  step = 1.0 / np.linalg.norm(fb, 2) ** 2
  dtype = M.dtype
  X = _nnls(jnp.asarray(fb, dtype), jnp.asarray(fb.T, dtype), jnp.asarray(np.linalg.pinv(fb), dtype), M, step,
            n_iter=nnls_iter)
  return X if power == 1 else _ops_root(X, power)


def mel_to_audio(M: ArrayLike, *, sr: float = 22050, n_fft: int = 2048, hop_length: int | None = None,
                 win_length: int | None = None, window: Any = "hann", center: bool = True, pad_mode: str = "constant",
                 power: float = 2.0, n_iter: int = 32, length: int | None = None, dtype: Any = jnp.float32,
                 random_state: Any = None, nnls_iter: int = 200, **kwargs: Any) -> jax.Array:
  """Audio from a mel spectrogram: :func:`mel_to_stft` then :func:`griffinlim`.

  Args:
    M: ``(..., n_mels, n_frames)``.
    sr, n_fft, hop_length, win_length, window, center, pad_mode: the STFT behind ``M``.
    power: the exponent ``M`` was computed with.
    n_iter: Griffin–Lim iterations.
    length: output length.
    dtype: output dtype.
    random_state: Griffin–Lim's initial phase (see :func:`griffinlim`; not a librosa argument of
      this function, which always draws fresh phases).
    nnls_iter: see :func:`mel_to_stft`.
    **kwargs: the filterbank's ``fmin``, ``fmax``, ``htk``, ``norm``.

  Returns:
    ``(..., n_samples)``.

  Examples:
    >>> import jaxdsp as jd
    >>> M = jd.melspectrogram(jd.tone(440.0, sr=8000, length=2048), sr=8000, n_fft=256, n_mels=32)
    >>> jd.mel_to_audio(M, sr=8000, n_fft=256, n_iter=4, length=2048, random_state=0).shape
    (2048,)

  Compare ``librosa.feature.inverse.mel_to_audio``.
  """
  _checks.count(n_iter, "n_iter")  # before the NNLS solve
  stft = mel_to_stft(M, sr=sr, n_fft=n_fft, power=power, nnls_iter=nnls_iter, **kwargs)
  return griffinlim(stft, n_iter=n_iter, hop_length=hop_length, win_length=win_length, n_fft=n_fft, window=window,
                    center=center, dtype=dtype, length=length, pad_mode=pad_mode, random_state=random_state)


def mfcc_to_audio(mfcc: ArrayLike, *, n_mels: int = 128, dct_type: int = 2, norm: str | None = "ortho",
                  ref: float = 1.0, lifter: float = 0, **kwargs: Any) -> jax.Array:
  """Audio from MFCCs: :func:`mfcc_to_mel` then :func:`mel_to_audio` (``kwargs`` go there).

  Examples:
    >>> import jaxdsp as jd
    >>> C = jd.mfcc(jd.tone(440.0, sr=8000, length=2048), sr=8000, n_fft=256, n_mels=32, n_mfcc=13)
    >>> jd.mfcc_to_audio(C, n_mels=32, sr=8000, n_fft=256, hop_length=512, n_iter=4, random_state=0).shape
    (2048,)

  Compare ``librosa.feature.inverse.mfcc_to_audio``.
  """
  mel = mfcc_to_mel(mfcc, n_mels=n_mels, dct_type=dct_type, norm=norm, ref=ref, lifter=lifter)
  return mel_to_audio(mel, **kwargs)
