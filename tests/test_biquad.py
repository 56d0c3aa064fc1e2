"""RBJ biquad designs against the Audio EQ Cookbook formulas written out here in NumPy (float64), in
the form torchaudio's ``functional/filtering.py`` uses, and the apply forms against
``scipy.signal.lfilter`` with those coefficients on real clips. This is the CI check: torchaudio
itself is not in the test extra (no wheel loads beside its torch); ``tests/test_biquad_torchaudio.py``
compares against it when it imports (a side environment, see that file).

Tolerances held: coefficients 1e-12 (float64) and 1e-6 (float32); filtered clips within 1e-5 of the
peak in float32 against scipy running the same (float32-rounded) coefficients in float64; responses at
the design frequency within 1e-9 dB (float64).
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.signal as ss
from jax.test_util import check_grads

import jaxdsp as jd
from audio_corpus import load_clip

SR = 22050


def _cookbook(kind, f, Q=0.707, gain=0.0, skirt=False):
  """The cookbook's (b0, b1, b2, a0, a1, a2), normalised by a0."""
  w0 = 2 * math.pi * f / SR
  cw, sw = math.cos(w0), math.sin(w0)
  alpha = sw / (2 * Q)
  A = 10 ** (gain / 40)
  if kind == "lowpass":
    c = [(1 - cw) / 2, 1 - cw, (1 - cw) / 2, 1 + alpha, -2 * cw, 1 - alpha]
  elif kind == "highpass":
    c = [(1 + cw) / 2, -(1 + cw), (1 + cw) / 2, 1 + alpha, -2 * cw, 1 - alpha]
  elif kind == "bandpass":
    g = Q * alpha if skirt else alpha  # BPF constant skirt: b0 = sin(w0)/2 = Q·alpha; 0 dB peak: b0 = alpha
    c = [g, 0.0, -g, 1 + alpha, -2 * cw, 1 - alpha]
  elif kind == "bandreject":
    c = [1.0, -2 * cw, 1.0, 1 + alpha, -2 * cw, 1 - alpha]
  elif kind == "allpass":
    c = [1 - alpha, -2 * cw, 1 + alpha, 1 + alpha, -2 * cw, 1 - alpha]
  elif kind == "equalizer":
    c = [1 + alpha * A, -2 * cw, 1 - alpha * A, 1 + alpha / A, -2 * cw, 1 - alpha / A]
  elif kind == "bass":  # lowShelf
    s = 2 * math.sqrt(A) * alpha
    c = [A * ((A + 1) - (A - 1) * cw + s), 2 * A * ((A - 1) - (A + 1) * cw), A * ((A + 1) - (A - 1) * cw - s),
         (A + 1) + (A - 1) * cw + s, -2 * ((A - 1) + (A + 1) * cw), (A + 1) + (A - 1) * cw - s]
  elif kind == "treble":  # highShelf
    s = 2 * math.sqrt(A) * alpha
    c = [A * ((A + 1) + (A - 1) * cw + s), -2 * A * ((A - 1) + (A + 1) * cw), A * ((A + 1) + (A - 1) * cw - s),
         (A + 1) - (A - 1) * cw + s, 2 * ((A - 1) - (A + 1) * cw), (A + 1) - (A - 1) * cw - s]
  c = np.array(c)
  return c[:3] / c[3], c[3:] / c[3]


def _ours(kind, f, Q=0.707, gain=0.0, skirt=False):
  if kind in ("lowpass", "highpass"):
    return getattr(jd, f"{kind}_biquad_coeffs")(sample_rate=SR, cutoff_freq=f, Q=Q)
  if kind == "bandpass":
    return jd.bandpass_biquad_coeffs(sample_rate=SR, central_freq=f, Q=Q, const_skirt_gain=skirt)
  if kind in ("bandreject", "allpass"):
    return getattr(jd, f"{kind}_biquad_coeffs")(sample_rate=SR, central_freq=f, Q=Q)
  if kind == "equalizer":
    return jd.equalizer_biquad_coeffs(sample_rate=SR, center_freq=f, gain=gain, Q=Q)
  return getattr(jd, f"{kind}_biquad_coeffs")(sample_rate=SR, gain=gain, central_freq=f, Q=Q)


CASES = [("lowpass", {}), ("highpass", {}), ("bandpass", {}), ("bandpass", {"skirt": True}), ("bandreject", {}),
         ("allpass", {}), ("equalizer", {"gain": 6.0}), ("equalizer", {"gain": -9.0}), ("bass", {"gain": 8.0}),
         ("treble", {"gain": -5.0})]


@pytest.mark.parametrize("kind,kw", CASES)
def test_coefficients_match_cookbook(kind, kw):
  for f, Q in [(40.0, 0.707), (1000.0, 2.0), (8000.0, 0.5)]:
    b_ref, a_ref = _cookbook(kind, f, Q, **kw)
    with jax.enable_x64(True):
      b, a = _ours(kind, f, Q, **kw)
      np.testing.assert_allclose(b, b_ref, atol=1e-12)
      np.testing.assert_allclose(a, a_ref, atol=1e-12)
    b32, a32 = _ours(kind, f, Q, **kw)
    assert b32.dtype == jnp.float32
    np.testing.assert_allclose(b32, b_ref, atol=1e-6 * max(1, np.abs(b_ref).max()))
    np.testing.assert_allclose(a32, a_ref, atol=1e-6 * max(1, np.abs(a_ref).max()))


def test_frequency_responses_at_design_points():
  with jax.enable_x64(True):
    def resp(ba, f):
      w, h = ss.freqz(np.asarray(ba[0]), np.asarray(ba[1]), worN=[f], fs=SR)
      return 20 * np.log10(np.abs(h[0]))
    assert abs(resp(jd.lowpass_biquad_coeffs(sample_rate=SR, cutoff_freq=1000.0, Q=1 / math.sqrt(2)), 1000.0) + 3.0103) < 1e-3
    assert abs(resp(jd.equalizer_biquad_coeffs(sample_rate=SR, center_freq=1000.0, gain=6.0), 1000.0) - 6.0) < 1e-9
    assert abs(resp(jd.bandpass_biquad_coeffs(sample_rate=SR, central_freq=500.0, Q=3.0), 500.0)) < 1e-9
    assert abs(resp(jd.bandpass_biquad_coeffs(sample_rate=SR, central_freq=500.0, Q=3.0, const_skirt_gain=True),
                    500.0) - 20 * math.log10(3.0)) < 1e-9  # peak gain Q
    assert abs(resp(jd.allpass_biquad_coeffs(sample_rate=SR, central_freq=500.0), 3000.0)) < 1e-9
    assert abs(resp(jd.bass_biquad_coeffs(sample_rate=SR, gain=8.0), 1.0) - 8.0) < 1e-3
    assert abs(resp(jd.treble_biquad_coeffs(sample_rate=SR, gain=-5.0), SR / 2 - 1) + 5.0) < 1e-3


def test_apply_forms_match_scipy_batched_jit_grad():
  y = load_clip("music_22k")[0][:8192]
  x = np.stack([y, load_clip("speech_22k")[0][:8192]]).astype(np.float32)
  applied = {
      "lowpass": jd.lowpass_biquad(x, sample_rate=SR, cutoff_freq=2000.0),
      "highpass": jd.highpass_biquad(x, sample_rate=SR, cutoff_freq=300.0, Q=1.0),
      "bandpass": jd.bandpass_biquad(x, sample_rate=SR, central_freq=1000.0, Q=2.0),
      "bandreject": jd.bandreject_biquad(x, sample_rate=SR, central_freq=1000.0),
      "allpass": jd.allpass_biquad(x, sample_rate=SR, central_freq=1000.0),
      "equalizer": jd.equalizer_biquad(x, sample_rate=SR, center_freq=1000.0, gain=6.0, Q=2.0),
      "bass": jd.bass_biquad(x, sample_rate=SR, gain=6.0),
      "treble": jd.treble_biquad(x, sample_rate=SR, gain=-6.0),
  }
  params = {"lowpass": (2000.0, 0.707, 0), "highpass": (300.0, 1.0, 0), "bandpass": (1000.0, 2.0, 0),
            "bandreject": (1000.0, 0.707, 0), "allpass": (1000.0, 0.707, 0), "equalizer": (1000.0, 2.0, 6.0),
            "bass": (100.0, 0.707, 6.0), "treble": (3000.0, 0.707, -6.0)}
  for kind, out in applied.items():
    f, Q, g = params[kind]
    # the float32 design (checked against the cookbook above), run by scipy in float64
    b, a = (np.asarray(c, np.float64) for c in _ours(kind, f, Q, gain=g))
    np.testing.assert_allclose(b, _cookbook(kind, f, Q, gain=g)[0], rtol=1e-5, atol=1e-7)
    ref = ss.lfilter(b, a, x.astype(np.float64))
    # float32 round-off: 1e-5 of the peak, or 4 × scipy's own float32 run where that is larger (the
    # 100 Hz bass shelf's poles sit at 0.983 of the unit circle: scipy float32 errs 1.8e-5 there)
    scipy32 = np.abs(ss.lfilter(b.astype(np.float32), a.astype(np.float32), x) - ref).max()
    np.testing.assert_allclose(out, ref, atol=max(1e-5 * np.abs(ref).max(), 4 * scipy32), err_msg=kind)
  # one cutoff per example (batched parameters) == each alone; jit; gradient in the cutoff vs finite differences
  cut = jnp.array([500.0, 3000.0])
  fn = jax.jit(lambda x, c: jd.lowpass_biquad(x, sample_rate=SR, cutoff_freq=c))
  batched = fn(jnp.asarray(x), cut)
  for i in range(2):
    np.testing.assert_allclose(batched[i], jd.lowpass_biquad(x[i], sample_rate=SR, cutoff_freq=float(cut[i])),
                               atol=1e-5)
  with jax.enable_x64(True):
    xs = jnp.asarray(x[:, :256], jnp.float64)
    check_grads(lambda c, q, g: jd.equalizer_biquad(xs, sample_rate=SR, center_freq=c, gain=g, Q=q),
                (jnp.array([800.0, 1200.0]), jnp.array([1.0, 2.0]), jnp.array([3.0, -3.0])), order=1,
                modes=("rev",), eps=1e-3)


def test_bad_input():
  with pytest.raises(ValueError, match="cutoff_freq"):
    jd.lowpass_biquad_coeffs(sample_rate=SR, cutoff_freq=SR / 2)
  with pytest.raises(ValueError, match="cutoff_freq"):
    jd.lowpass_biquad_coeffs(sample_rate=SR, cutoff_freq=-1.0)
  with pytest.raises(ValueError, match="Q"):
    jd.highpass_biquad_coeffs(sample_rate=SR, cutoff_freq=100.0, Q=0.0)
  with pytest.raises(ValueError, match="sample_rate"):
    jd.allpass_biquad_coeffs(sample_rate=-1, central_freq=100.0)
  with pytest.raises(TypeError, match="gain"):
    jd.bass_biquad_coeffs(sample_rate=SR, gain=None)
  with pytest.raises(TypeError, match="const_skirt_gain"):
    jd.bandpass_biquad_coeffs(sample_rate=SR, central_freq=100.0, const_skirt_gain="yes")
  with pytest.raises(TypeError, match="x must be a floating"):
    jd.lowpass_biquad(np.zeros(8, np.int32), sample_rate=SR, cutoff_freq=100.0)
  with pytest.raises(ValueError, match="center_freq"):
    jax.jit(lambda x: jd.equalizer_biquad(x, sample_rate=SR, center_freq=np.inf, gain=1.0))(jnp.zeros(8))
