"""The public namespace: every name in ``__all__`` imports, is sorted, and no public function takes
an option positionally (the signal is the only positional argument)."""

import inspect

import jaxdsp as jd

# The data is the one positional parameter (signal, spectrogram, path, ...); these few take more, as
# DESIGN.md writes them: get_window(window, win_length), save(path, y, sr), cwt(y, scales).
POSITIONAL = {"get_window": 2, "save": 3, "cwt": 2, "perceptual_weighting": 2, "fftconvolve": 2,
              # losses take (predictions, targets), the signature jaxdsp.nn.fit calls
              "esr": 2, "mel_stft_loss": 2, "multi_resolution_stft_loss": 2, "si_sdr": 2, "snr": 2, "stft_loss": 2}


def test_all_is_sorted_and_importable():
  assert list(jd.__all__) == sorted(jd.__all__)
  for name in jd.__all__:
    assert hasattr(jd, name), name


def test_options_are_keyword_only():
  for name in jd.__all__:
    obj = getattr(jd, name)
    if not inspect.isfunction(obj):
      continue
    params = inspect.signature(obj).parameters.values()
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    allowed = POSITIONAL.get(name, 1)
    assert len(positional) <= allowed, f"{name} takes options positionally: {positional}"


def test_no_public_name_hides_a_submodule():
  """``jaxdsp.<module>`` stays the module: a function named like its module (as ``features`` once was)
  would hide it from ``import jaxdsp.<module>`` users and from ``importlib``-free code."""
  import pkgutil

  modules = {info.name for info in pkgutil.iter_modules(jd.__path__)}
  assert not modules & set(jd.__all__) - {"batch", "data", "nn", "plot"}, sorted(modules & set(jd.__all__))
