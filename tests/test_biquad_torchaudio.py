"""Biquad designs and ``lfilter`` against ``torchaudio.functional`` itself, run on the same inputs.

Skipped unless torchaudio imports. It is not in the ``test`` extra and cannot be (it pins its own
multi-GB torch, and no torchaudio wheel loads beside the torch the extra installs); CI checks the
designs against the cookbook formulas and scipy in ``tests/test_biquad.py``. To run this file, use a
side environment with torch 2.9.1 and torchaudio 2.9 (see ``benchmarks/bench_ddsp_filters.py``)::

    PYTHONPATH=$PWD /tmp/tavenv/bin/python -m pytest tests/test_biquad_torchaudio.py -q

Every jaxdsp biquad with a torchaudio counterpart (lowpass, highpass, bandpass with both
``const_skirt_gain`` values, bandreject, allpass, equalizer, bass, treble and the raw ``biquad``),
at sample rates 44100 and 16000 and several frequency / Q / gain settings, filters the same clips
(music at 44.1 kHz, speech at 16 kHz; peak 0.2 so that torchaudio's clamp to [-1, 1] never acts, which
the test checks). Tolerances held, relative to the output's peak:

* float64: 1e-10 (measured ≤ 3.2e-13, the 60 Hz Q 5 equalizer at 44.1 kHz): both libraries evaluate
  the same cookbook formulas, so a difference in any design term would show here at once.
* float32: within 4 × torchaudio's own float32 error (its output against the float64 design filtered
  in float64), floored at 2e-6 (a few float32 ulps of the peak); measured at most 1.8 × (the same
  equalizer). Lightly damped low-frequency designs err up to 1e-4 in both libraries (torchaudio
  1.2e-4, jaxdsp 1.3e-4 on the 100 Hz lowpass at 44.1 kHz): the float32 coefficients themselves are
  rounded (``a1 ≈ -2``), and each library rounds its sin/cos a little differently.

``lfilter`` (Butterworth and Chebyshev orders 1–6, a numerator longer than the denominator padded
for torchaudio, per-row filters with torchaudio's ``batching=True``) is compared the same way, and
its gradients with respect to ``x``, ``b`` and ``a`` against torch's autograd in float64 (1e-9 of the
peak; measured 6e-13, 3e-13, 1.4e-11).
"""

import importlib
import importlib.util
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.signal as ss

import jaxdsp as jd
from audio_corpus import load_clip

if importlib.util.find_spec("torchaudio") is None:  # skip before importing torch (seconds) in CI
  pytest.skip("torchaudio is not installed", allow_module_level=True)
try:
  import torch
  taf = importlib.import_module("torchaudio.functional")
except (ImportError, OSError) as err:  # a torchaudio built for another torch fails to load its library (OSError)
  pytest.skip(f"torchaudio does not import: {err}", allow_module_level=True)
BIQUAD = importlib.import_module("jaxdsp.biquads")

N = 16384
PEAK = 0.2  # input peak: outputs (gains up to +12 dB, a const-skirt bandpass of Q 2) stay inside [-1, 1]
TOL64 = 1e-10
FLOOR32 = 2e-6

# (design, parameters): one torchaudio call and the matching jaxdsp call per entry, at both rates
DESIGNS = [
    ("lowpass", {"cutoff_freq": 100.0, "Q": 0.707}), ("lowpass", {"cutoff_freq": 1000.0, "Q": 2.0}),
    ("lowpass", {"cutoff_freq": 6000.0, "Q": 0.5}),
    ("highpass", {"cutoff_freq": 50.0, "Q": 0.707}), ("highpass", {"cutoff_freq": 2000.0, "Q": 1.5}),
    ("bandpass", {"central_freq": 200.0, "Q": 0.707}), ("bandpass", {"central_freq": 3000.0, "Q": 4.0}),
    ("bandpass", {"central_freq": 200.0, "Q": 0.707, "const_skirt_gain": True}),
    ("bandpass", {"central_freq": 1500.0, "Q": 2.0, "const_skirt_gain": True}),
    ("bandreject", {"central_freq": 60.0, "Q": 5.0}), ("bandreject", {"central_freq": 2500.0, "Q": 0.707}),
    ("allpass", {"central_freq": 80.0, "Q": 0.707}), ("allpass", {"central_freq": 4000.0, "Q": 3.0}),
    ("equalizer", {"center_freq": 60.0, "gain": 6.0, "Q": 5.0}),
    ("equalizer", {"center_freq": 1000.0, "gain": -9.0, "Q": 2.0}),
    ("equalizer", {"center_freq": 5000.0, "gain": 12.0, "Q": 0.707}),
    ("bass", {"gain": 8.0}), ("bass", {"gain": -6.0, "central_freq": 300.0, "Q": 1.0}),
    ("treble", {"gain": -5.0}), ("treble", {"gain": 6.0, "central_freq": 5000.0, "Q": 0.5}),
    ("biquad", {"b0": 0.4, "b1": 0.3, "b2": 0.1, "a0": 1.25, "a1": -1.1, "a2": 0.4}),
]
RATES = {44100: "music_44k", 16000: "speech_16k"}


@pytest.fixture(scope="module")
def clips():
  out = {}
  for sr, name in RATES.items():
    y, clip_sr = load_clip(name)
    assert clip_sr == sr
    y = np.stack([y[:N], y[-N:]]) if y.shape[-1] >= 2 * N else np.stack([y[:N], y[:N][::-1]])
    out[sr] = (PEAK * y / np.abs(y).max()).astype(np.float32)
  return out


def _jd_design(name, sr, x, params):
  if name == "biquad":
    return BIQUAD.biquad(x, **params)
  return getattr(jd, f"{name}_biquad")(x, sample_rate=sr, **params)


def _ta_design(name, sr, x, params):
  xt = torch.from_numpy(np.array(x))
  if name == "biquad":
    return taf.biquad(xt, **params).numpy()
  return getattr(taf, f"{name}_biquad")(xt, sr, **params).numpy()


def _cookbook64(name, sr, params):
  """The design in float64, (b, a) normalised, straight from the cookbook (torchaudio's formulas)."""
  if name == "biquad":
    c = np.array([params[k] for k in ("b0", "b1", "b2", "a0", "a1", "a2")])
    return c[:3] / c[3], c[3:] / c[3]
  f = params.get("cutoff_freq", params.get("central_freq", params.get("center_freq")))
  if f is None:
    f = 100.0 if name == "bass" else 3000.0
  Q = params.get("Q", 0.707)
  w0 = 2 * math.pi * f / sr
  cw, sw = math.cos(w0), math.sin(w0)
  alpha = sw / 2 / Q
  A = 10 ** (params.get("gain", 0.0) / 40)
  s = 2 * math.sqrt(A) * alpha
  c = {
      "lowpass": [(1 - cw) / 2, 1 - cw, (1 - cw) / 2, 1 + alpha, -2 * cw, 1 - alpha],
      "highpass": [(1 + cw) / 2, -(1 + cw), (1 + cw) / 2, 1 + alpha, -2 * cw, 1 - alpha],
      "bandpass": [sw / 2 if params.get("const_skirt_gain") else alpha, 0.0,
                   -(sw / 2 if params.get("const_skirt_gain") else alpha), 1 + alpha, -2 * cw, 1 - alpha],
      "bandreject": [1.0, -2 * cw, 1.0, 1 + alpha, -2 * cw, 1 - alpha],
      "allpass": [1 - alpha, -2 * cw, 1 + alpha, 1 + alpha, -2 * cw, 1 - alpha],
      "equalizer": [1 + alpha * A, -2 * cw, 1 - alpha * A, 1 + alpha / A, -2 * cw, 1 - alpha / A],
      "bass": [A * ((A + 1) - (A - 1) * cw + s), 2 * A * ((A - 1) - (A + 1) * cw), A * ((A + 1) - (A - 1) * cw - s),
               (A + 1) + (A - 1) * cw + s, -2 * ((A - 1) + (A + 1) * cw), (A + 1) + (A - 1) * cw - s],
      "treble": [A * ((A + 1) + (A - 1) * cw + s), -2 * A * ((A - 1) + (A + 1) * cw),
                 A * ((A + 1) + (A - 1) * cw - s), (A + 1) - (A - 1) * cw + s, 2 * ((A - 1) - (A + 1) * cw),
                 (A + 1) - (A - 1) * cw - s],
  }[name]
  c = np.array(c)
  return c[:3] / c[3], c[3:] / c[3]


def _label(name, sr, params):
  return f"{name}@{sr}:" + ",".join(f"{k}={v}" for k, v in params.items())


@pytest.fixture(scope="module")
def design_errors(clips):
  """Per design and rate: (jaxdsp vs torchaudio float32, torchaudio float32 vs exact, same in float64), / peak."""
  errors = {}
  for sr, x in clips.items():
    for name, params in DESIGNS:
      b64, a64 = _cookbook64(name, sr, params)
      exact = ss.lfilter(b64, a64, x.astype(np.float64))
      peak = np.abs(exact).max()
      ta32 = _ta_design(name, sr, x, params)
      assert np.abs(ta32).max() < 1.0, "torchaudio's clamp would act: lower PEAK"
      jd32 = np.asarray(_jd_design(name, sr, x, params))
      assert jd32.dtype == np.float32
      with jax.enable_x64(True):
        jd64 = np.asarray(_jd_design(name, sr, x.astype(np.float64), params))
      assert jd64.dtype == np.float64
      ta64 = _ta_design(name, sr, x.astype(np.float64), params)
      errors[_label(name, sr, params)] = (np.abs(jd32 - ta32).max() / peak, np.abs(ta32 - exact).max() / peak,
                                          np.abs(jd64 - ta64).max() / peak)
  return errors


def test_biquad_designs_match_torchaudio_float64(design_errors):
  for label, (_, _, err64) in design_errors.items():
    assert err64 <= TOL64, (label, err64)


def test_biquad_designs_match_torchaudio_float32(design_errors):
  assert len(design_errors) == 2 * len(DESIGNS)
  for label, (err32, ta_err32, _) in design_errors.items():
    assert err32 <= max(4 * ta_err32, FLOOR32), (label, err32, ta_err32)


def test_every_torchaudio_counterpart_is_compared():
  ours = {n[:-len("_biquad")] for n in BIQUAD.__all__ if n.endswith("_biquad")} | {"biquad"}
  assert ours == {name for name, _ in DESIGNS}, ours ^ {name for name, _ in DESIGNS}
  assert all(hasattr(taf, n if n == "biquad" else f"{n}_biquad") for n in ours)


LFILTERS = {
    "butter1": ss.butter(1, 0.05), "butter2": ss.butter(2, 0.01), "cheby1_3": ss.cheby1(3, 1, 0.2),
    "butter4": ss.butter(4, 0.1), "cheby1_6": ss.cheby1(6, 0.5, 0.3),
    "fir4_iir2": (np.array([0.2, 0.3, 0.1, -0.1]), np.array([1.0, -0.5, 0.2])),
}


def _same_length(b, a):
  n = max(len(b), len(a))  # torchaudio wants len(a) == len(b)
  return np.pad(b, (0, n - len(b))), np.pad(a, (0, n - len(a)))


def test_lfilter_matches_torchaudio(clips):
  x = np.concatenate([clips[44100], clips[16000]])  # (4, N)
  for name, (b, a) in LFILTERS.items():
    b, a = _same_length(np.asarray(b, np.float64), np.asarray(a, np.float64))
    exact = ss.lfilter(b, a, x.astype(np.float64))
    peak = np.abs(exact).max()
    b32, a32 = b.astype(np.float32), a.astype(np.float32)
    ta32 = taf.lfilter(torch.from_numpy(x), torch.from_numpy(a32), torch.from_numpy(b32), clamp=False).numpy()
    ta_err = np.abs(ta32 - exact).max() / peak
    err32 = np.abs(np.asarray(jd.lfilter(x, b=b32, a=a32)) - ta32).max() / peak
    assert err32 <= max(4 * ta_err, FLOOR32), (name, err32, ta_err)
    with jax.enable_x64(True):
      jd64 = np.asarray(jd.lfilter(x.astype(np.float64), b=b, a=a))
    ta64 = taf.lfilter(torch.from_numpy(x.astype(np.float64)), torch.from_numpy(a), torch.from_numpy(b),
                       clamp=False).numpy()
    assert np.abs(jd64 - ta64).max() / peak <= TOL64, name


def test_lfilter_per_row_filters_and_gradients_match_torchaudio(clips):
  """One biquad per row (torchaudio's 2-D coefficients with ``batching=True``); gradients in float64."""
  x = np.concatenate([clips[44100], clips[16000]])[:, :4096].astype(np.float64)  # (4, 4096)
  ba = [_cookbook64(name, 44100, params) for name, params in
        [("lowpass", {"cutoff_freq": 500.0, "Q": 0.707}), ("equalizer", {"center_freq": 60.0, "gain": 6.0, "Q": 5.0}),
         ("highpass", {"cutoff_freq": 3000.0, "Q": 1.0}), ("allpass", {"central_freq": 200.0, "Q": 2.0})]]
  b = np.stack([c[0] for c in ba])
  a = np.stack([c[1] for c in ba])
  w = np.random.default_rng(12345).standard_normal(x.shape)
  xt, at, bt = (torch.from_numpy(c.copy()).requires_grad_() for c in (x, a, b))
  yt = taf.lfilter(xt, at, bt, clamp=False, batching=True)
  (yt * torch.from_numpy(w)).sum().backward()
  with jax.enable_x64(True):
    loss = lambda x, b, a: jnp.sum(jd.lfilter(x, b=b, a=a) * w)
    y = np.asarray(jd.lfilter(x, b=b, a=a))
    gx, gb, ga = jax.grad(loss, argnums=(0, 1, 2))(jnp.asarray(x), jnp.asarray(b), jnp.asarray(a))
  ref = yt.detach().numpy()
  assert np.abs(y - ref).max() <= TOL64 * np.abs(ref).max()
  for ours, theirs, name in ((gx, xt.grad, "x"), (gb, bt.grad, "b"), (ga, at.grad, "a")):
    theirs = theirs.numpy()
    assert np.abs(np.asarray(ours) - theirs).max() <= 1e-9 * np.abs(theirs).max(), name
