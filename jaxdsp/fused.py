"""All framed features in one jitted pass that shares one framing and one STFT.

The features and their options come from the feature registry (``jaxdsp._core.registry``): a
feature or option registered there is available here, in :func:`jaxdsp.batch.extract` and in
``jaxdsp extract`` without further edits (this signature and docstring list the options from it).

``features(y, sr=..., names=(...))`` returns a dict of the requested features with the shapes of
the individual functions: per-frame features ``(..., n_frames)``, spectra ``(..., n_freq, n_frames)``,
mel ``(..., n_mels, n_frames)``, MFCC ``(..., n_mfcc, n_frames)``. Every feature equals the
corresponding public function called with the same arguments (``frame_length = n_fft`` for the
time-domain ones), so the tests compare the two.
"""

from __future__ import annotations

import inspect
from typing import Any, Sequence

import jax
from jax.typing import ArrayLike

from jaxdsp import _core

FEATURE_NAMES = _core.FEATURE_NAMES
DEFAULT_FEATURES = _core.DEFAULT_FEATURES
# The value of an option that means "each requested feature's own default" (as leaving it out).
PER_FEATURE = _core.PER_FEATURE


def features(y: ArrayLike, *, sr: float = 22050, names: Sequence[str] = DEFAULT_FEATURES, n_fft: int = 2048,
             hop_length: int = 512, win_length: int | None = None, window: Any = "hann", center: bool = True,
             pad_mode: str = "constant", **options: Any) -> dict[str, jax.Array]:
  """Computes several features in one jitted pass sharing one framing and one STFT.

  Available names: :data:`jaxdsp.FEATURE_NAMES`: ``"stft"`` (complex), ``"spectrogram"``
  (``|STFT|^power``), ``"spectrogram_db"`` (per-example ``top_db``), ``"melspectrogram"``, ``"mfcc"``,
  the spectral shape features, ``"rms"``, ``"zero_crossing_rate"``, ``"amplitude_envelope"``,
  ``"onset_strength"``, ``"chroma_stft"``, the constant-Q ones (``"chroma_cqt"``, ``"chroma_vqt"``,
  ``"chroma_cens"``, ``"tonnetz"``), ``"spectral_contrast"``, ``"poly_features"``. Each equals the
  function of the same name called with these arguments (tolerances in ``tests/test_features.py``);
  time-domain features use ``frame_length = n_fft`` (ZCR keeps librosa's ``"edge"`` centre padding).
  The constant-Q features need ``pad_mode="constant"``; with ``center=False`` they are the first ``n_frames``
  frames of the function's of ``y[n_fft // 2 : n_fft // 2 + n_frames · hop_length]`` (frames centred where
  the STFT's are).

  Args:
    y: ``(..., n_samples)`` signal.
    sr: sample rate (Hz).
    names: features to compute.
    n_fft, hop_length, win_length, window, center, pad_mode: framing/STFT arguments, shared.
    **options: the feature options of the registry, listed below (also in ``inspect.signature``), each
      checked as the functions check it (an unknown name is a ``TypeError``). An option left out (or given
      as ``jd.PER_FEATURE``) takes each requested feature's own default, e.g. ``bins_per_octave``: 36 for
      ``chroma_cqt``, 12 for ``chroma_vqt``. Where the function calls an option differently, the
      registry's name says which feature family it belongs to (``chroma_norm`` is ``chroma_cqt``'s
      ``norm``, ``cqt_fmin`` its ``fmin``, ``chroma_threshold`` its ``threshold``, ``contrast_fmin``
      ``spectral_contrast``'s ``fmin``, ``poly_order`` ``poly_features``' ``order``).
{options}

  Returns:
    dict name -> array.

  Raises:
    TypeError: an unknown option; an option of the wrong type.
    ValueError: a bad option value or name, framing the features cannot use.

  Examples:
    >>> import jaxdsp as jd
    >>> out = jd.features(jnp.zeros((2, 8192)), sr=16000, names=("rms", "spectral_centroid"))
    >>> {k: v.shape for k, v in out.items()}
    {'rms': (2, 17), 'spectral_centroid': (2, 17)}
    >>> jd.features(jnp.zeros(8192), names=("mfcc",), n_mels=40, n_mfcc=13)["mfcc"].shape
    (13, 17)
  """
  names = _core.feature_names(names)
  options = _core.check_options(dict(options, sr=sr), "features()")
  return _core.features(y, names, options, n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window,
                        center=center, pad_mode=pad_mode)


def _option_lines() -> str:
  return "\n".join(f"    {name}: {_core.option_help(name)}." for name in _core.SHARED_OPTIONS if name != "sr")


def _signature() -> inspect.Signature:
  """``features``' signature with every registry option as a keyword-only parameter (for ``help`` and IDEs)."""
  sig = inspect.signature(features)
  params = [p for p in sig.parameters.values() if p.kind is not p.VAR_KEYWORD]
  params += [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=_core.shared_default(name))
             for name in _core.SHARED_OPTIONS if name != "sr"]
  return sig.replace(parameters=params)


features.__doc__ = features.__doc__.replace("{options}", _option_lines())
features.__signature__ = _signature()
