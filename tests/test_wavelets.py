"""wavelets: Morlet CWT against a float64 brute-force sum and PyWavelets; known answers; transforms.

Tolerances held (relative to each scale's maximum |W|):
* exact mode vs the float64 sampled direct sum, scales above the aliasing bound: 5e-6 in float32,
  1e-12 in float64;
* ``compat="pywt"`` (float32) vs ``pywt.cwt`` (``method="conv"`` and ``"fft"``, run in float64 on
  the same float32 audio): 1e-5; vs ``pywt.cwt`` on the float32 input with ``method="fft"``: 2e-5
  (PyWavelets' own float32 round-off; its float32 ``conv`` differs from its float64 result by up
  to 1e-4 on speech, so it is not an oracle); float64 vs float64: 1e-12;
* ``normalization="l1"``: |W| at the matched scale = the tone's amplitude within 2 % (asserted: 0.2 %);
* chunked == unchunked to round-off (1e-6 of the maximum; gradients 1e-5); gradients == central
  finite differences (float64) to 1e-6.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import pywt

import jaxdsp as jd
from audio_corpus import load_clip

RNG = np.random.default_rng(12345)
SR = 22050
N = 2048


# ---------------------------------------------------------------------------------------------
# Oracles.


def _psi_np(name: str, t: np.ndarray, b: float = 0.0, c: float = 0.0) -> np.ndarray:
  """ψ(t) in float64 NumPy, written from the formulas (independent of jaxdsp.morlet)."""
  if name == "morl":
    return np.exp(-(t**2) / 2) * np.cos(5 * t)
  if name == "morlet":
    return np.pi**-0.25 * np.exp(1j * c * t) * np.exp(-(t**2) / 2)  # c = w0
  return (np.pi * b) ** -0.5 * np.exp(-(t**2) / b) * np.exp(2j * np.pi * c * t)


def _brute_force(x: np.ndarray, scales, name: str, b: float = 0.0, c: float = 0.0) -> np.ndarray:
  """W[s, n] = s^{-1/2} Σ_k x[k] conj(ψ((k - n) / s)), float64 direct sum."""
  n = x.shape[-1]
  lag = np.arange(n)[None, :] - np.arange(n)[:, None]  # [n, k] = k - n
  return np.stack([x @ np.conj(_psi_np(name, lag / s, b, c)).T / np.sqrt(s) for s in scales])


def _rel_err(a, ref) -> float:
  """max over scales of max|a - ref| / max|ref| (per-scale maximum)."""
  a, ref = np.asarray(a), np.asarray(ref)
  return float(np.max(np.abs(a - ref).max(-1) / np.abs(ref).max(-1)))


@pytest.fixture(scope="module")
def clips():
  out = {}
  for name in ("speech_22k", "music_22k", "chirp_22k"):
    y, _ = load_clip(name)
    start = y.size // 3
    out[name] = np.ascontiguousarray(y[start : start + 4096])
  return out


X64 = RNG.standard_normal(1024)
EXACT_SCALES = np.array([6.0, 11.3, 25.0, 61.7, 150.0])  # above the aliasing bound of each wavelet
EXACT_CASES = [
    ("morl", dict(wavelet="morl"), ("morl", 0.0, 0.0)),
    ("cmor1.5-1.0", dict(wavelet="cmor1.5-1.0"), ("cmor", 1.5, 1.0)),
    ("cmor kwargs", dict(wavelet="cmor", bandwidth=2.5, center=0.7), ("cmor", 2.5, 0.7)),
    ("morlet", dict(wavelet="morlet", w0=6.0), ("morlet", 0.0, 6.0)),
]


@pytest.fixture(scope="module")
def brute():
  return {label: _brute_force(X64, EXACT_SCALES, *ref) for label, _, ref in EXACT_CASES}


# ---------------------------------------------------------------------------------------------
# Exact mode.


@pytest.mark.parametrize("label,kwargs,ref", EXACT_CASES, ids=[c[0] for c in EXACT_CASES])
def test_exact_matches_float64_direct_sum(label, kwargs, ref, brute):
  with jax.enable_x64(True):
    W64 = jd.cwt(X64, EXACT_SCALES, **kwargs)
    assert W64.dtype == (jnp.float64 if label == "morl" else jnp.complex128)
    assert _rel_err(W64, brute[label]) < 1e-12
  W32 = jd.cwt(X64.astype(np.float32), EXACT_SCALES, **kwargs)
  assert W32.dtype == (jnp.float32 if label == "morl" else jnp.complex64)
  assert W32.shape == (EXACT_SCALES.size, X64.size)
  assert _rel_err(W32, brute[label]) < 5e-6


def test_exact_float64_long_signal_blocks_equal_whole_fft():
  """Overlap-save blocks (several per scale) == one FFT of the whole signal == the direct sum."""
  x = RNG.standard_normal(6000)
  scales = np.array([5.5, 12.0, 40.0, 700.0])
  with jax.enable_x64(True):
    W = jd.cwt(x, scales, wavelet="cmor1.5-1.0")  # blocks of 1k-2k points for the first three
    whole = jax.jit(lambda x, s: jd.cwt(x, s, wavelet="cmor1.5-1.0", max_scale=700.0))(x, scales)
    np.testing.assert_allclose(W, whole, atol=1e-12 * np.abs(whole).max(-1, keepdims=True).max())
    # the first 1500 outputs of scales ≤ 40 only see samples within 8σs of them
    ref = _brute_force(x[: 1500 + 8 * 40], scales[:3], "cmor", 1.5, 1.0)[:, :1500]
    assert _rel_err(W[:3, :1500], ref) < 1e-12


# ---------------------------------------------------------------------------------------------
# PyWavelets compatibility.

PYWT_WAVELETS = ["morl", "cmor1.5-1.0", "cmor2.5-0.7"]
PYWT_SCALES = np.geomspace(1.5, 300.0, 10)


@pytest.mark.parametrize("wavelet", PYWT_WAVELETS)
def test_compat_matches_pywt(wavelet, clips):
  for name, y in clips.items():
    W = np.asarray(jd.cwt(y, PYWT_SCALES, wavelet=wavelet, compat="pywt"))
    assert W.dtype == (np.float32 if wavelet == "morl" else np.complex64)
    for method in ("conv", "fft"):
      ref, _ = pywt.cwt(y.astype(np.float64), PYWT_SCALES, wavelet, method=method)
      assert _rel_err(W, ref) < 1e-5, (name, method)
    ref32, _ = pywt.cwt(y, PYWT_SCALES, wavelet, method="fft")
    assert _rel_err(W, ref32) < 2e-5, name


def test_compat_float64_matches_pywt_exactly(clips):
  y = clips["speech_22k"].astype(np.float64)[:2048]
  with jax.enable_x64(True):
    for wavelet in ("morl", "cmor2.5-0.7"):
      ref, _ = pywt.cwt(y, PYWT_SCALES, wavelet, method="conv")
      assert _rel_err(jd.cwt(y, PYWT_SCALES, wavelet=wavelet, compat="pywt"), ref) < 1e-12


def test_compat_kwargs_and_freqs_like_pywt(clips):
  y = clips["music_22k"][:2048]
  freqs = np.array([3000.0, 1000.0, 250.0])
  scales = pywt.frequency2scale("cmor1.5-1.0", freqs / SR, precision=12)
  ref, ref_f = pywt.cwt(y.astype(np.float64), scales, "cmor1.5-1.0", sampling_period=1 / SR)
  W = jd.cwt(y, freqs=freqs, sr=SR, wavelet="cmor", bandwidth=1.5, center=1.0, compat="pywt")
  assert _rel_err(W, ref) < 1e-5
  np.testing.assert_allclose(ref_f, freqs)


# ---------------------------------------------------------------------------------------------
# Known answers: tones.


def _tone(f: float, amp: float = 0.7, n: int = 2048, phase: float = 0.3) -> np.ndarray:
  return (amp * np.cos(2 * np.pi * f * np.arange(n) / SR + phase)).astype(np.float32)


TONES = (150.0, 440.0, 1500.0, 5000.0)


@pytest.mark.parametrize("wavelet", ["cmor1.5-1.0", "morlet", "morl"])
def test_tone_peaks_at_its_scale(wavelet):
  freqs = jd.cwt_frequencies(fmin=100.0, fmax=9000.0, voices_per_octave=12)
  scales = jd.frequency_to_scale(freqs, sr=SR, wavelet=wavelet)
  np.testing.assert_allclose(jd.scale_to_frequency(scales, sr=SR, wavelet=wavelet), freqs)
  tones = np.stack([_tone(f) for f in TONES])
  for norm in ("l2", "l1"):
    W = np.abs(np.asarray(jd.cwt(tones, scales, wavelet=wavelet, normalization=norm)))
    for i, f in enumerate(TONES):
      expected = np.argmin(np.abs(np.log(freqs / f)))
      col = W[i, :, 768:1280].max(-1)  # |W| envelope away from the edges
      assert abs(int(np.argmax(col)) - expected) <= 1, (f, norm)


@pytest.mark.parametrize("wavelet", ["cmor1.5-1.0", "cmor2.5-0.7", "morlet", "morl"])
def test_l1_magnitude_is_amplitude_at_every_scale(wavelet):
  freqs = jd.cwt_frequencies(fmin=100.0, fmax=10000.0, n_scales=16)
  scales = jd.frequency_to_scale(freqs, sr=SR, wavelet=wavelet)
  tones = np.stack([_tone(f, amp=0.7) for f in freqs])  # tone i matches scale i
  W = np.abs(np.asarray(jd.cwt(tones, scales, wavelet=wavelet, normalization="l1")))
  # |W| around the middle, over one period of the lowest tone (the real morl oscillates)
  mid = W[np.arange(16), np.arange(16), 1024 - 115 : 1024 + 115].max(-1)
  np.testing.assert_allclose(mid / 0.7, 1.0, atol=2e-3)  # the bar: 2 %


def test_morlet_matches_pywt_wavefun_and_unit_energy():
  for name in ("morl", "cmor1.5-1.0", "cmor2.5-0.7"):
    psi, t = pywt.ContinuousWavelet(name).wavefun(10)
    np.testing.assert_allclose(jd.morlet(t.astype(np.float32), wavelet=name), psi, atol=2e-6)
  t = np.linspace(-10, 10, 20001)
  energy = np.sum(np.abs(np.asarray(jd.morlet(t.astype(np.float32), wavelet="morlet"))) ** 2) * (t[1] - t[0])
  assert abs(energy - 1.0) < 1e-4
  s = 3.0  # s^{-1/2} ψ(t/s)
  np.testing.assert_allclose(jd.morlet(np.float32(1.5), wavelet="morl", scale=s),
                             _psi_np("morl", np.array(0.5)) / np.sqrt(s), rtol=1e-6)


# ---------------------------------------------------------------------------------------------
# Scales, frequencies, cone of influence.


def test_scale_frequency_closed_forms():
  s = np.array([1.0, 4.0, 100.0])
  np.testing.assert_allclose(jd.scale_to_frequency(s, sr=SR, wavelet="morl"), SR * 5 / (2 * np.pi * s))
  np.testing.assert_allclose(jd.scale_to_frequency(s, sr=SR, wavelet="cmor2-0.25"), SR * 0.25 / s)
  np.testing.assert_allclose(jd.scale_to_frequency(s, sr=SR, wavelet="morlet", w0=6.0), SR * 6 / (2 * np.pi * s))
  f = np.array([100.0, 1000.0])
  np.testing.assert_allclose(jd.scale_to_frequency(jd.frequency_to_scale(f, sr=SR, wavelet="morl"),
                                                   sr=SR, wavelet="morl"), f)
  assert isinstance(jd.scale_to_frequency(s, wavelet="morl"), np.ndarray)
  assert isinstance(jd.scale_to_frequency(jnp.asarray(s), wavelet="morl"), jax.Array)


@pytest.mark.parametrize("wavelet", ["morl", "cmor1.5-1.0", "cmor2.5-0.7"])
def test_scale_frequency_pywt_quantised(wavelet):
  s = np.array([2.0, 7.5, 64.0])
  np.testing.assert_allclose(jd.scale_to_frequency(s, wavelet=wavelet, compat="pywt"),
                             pywt.scale2frequency(wavelet, s, precision=12), rtol=1e-12)
  f = np.array([0.01, 0.2])
  np.testing.assert_allclose(jd.frequency_to_scale(f, wavelet=wavelet, compat="pywt"),
                             pywt.frequency2scale(wavelet, f, precision=12), rtol=1e-12)
  if wavelet == "morl":
    assert jd.scale_to_frequency(1.0, wavelet="morl", compat="pywt") == 0.8125


def test_cwt_frequencies():
  f = jd.cwt_frequencies(fmin=100.0, fmax=3200.0, voices_per_octave=4)
  assert f.size == 21 and f[0] == 3200.0 and np.isclose(f[-1], 100.0)
  np.testing.assert_allclose(f[:-1] / f[1:], 2 ** 0.25)
  g = jd.cwt_frequencies(fmin=50.0, fmax=5000.0, n_scales=7)
  np.testing.assert_allclose(g, np.geomspace(5000.0, 50.0, 7))
  with pytest.raises(ValueError, match="exactly one"):
    jd.cwt_frequencies(fmin=1.0, fmax=2.0)
  with pytest.raises(ValueError, match="fmin"):
    jd.cwt_frequencies(fmin=3.0, fmax=2.0, n_scales=3)
  with pytest.raises(ValueError, match="fmax"):
    jd.cwt_frequencies(fmin=3.0, fmax=20000.0, n_scales=3, sr=22050)


def test_fourier_period_factor_and_morlet_peak():
  assert jd.fourier_period_factor(6.0) == pytest.approx(4 * np.pi / (6 + np.sqrt(38)))
  assert round(jd.fourier_period_factor(), 3) == 1.033
  # Torrence & Compo: the L2 response to a sinusoid of period λ peaks at s = λ / factor.
  period = 40.0
  y = np.cos(2 * np.pi * np.arange(4096) / period).astype(np.float32)
  scales = np.linspace(30.0, 48.0, 181)
  col = np.abs(np.asarray(jd.cwt(y, scales, wavelet="morlet")))[:, 2048]
  assert abs(scales[np.argmax(col)] - period / jd.fourier_period_factor(6.0)) <= 0.1


def test_cone_of_influence_half_width_and_mask():
  np.testing.assert_allclose(jd.cone_of_influence([1.0, 10.0], wavelet="morlet"), np.sqrt(2) * np.array([1, 10.0]))
  np.testing.assert_allclose(jd.cone_of_influence([10.0], wavelet="cmor1.5-1.0"), np.sqrt(1.5) * 10.0)
  mask = jd.cone_of_influence([4.0, 50.0], n_samples=300, wavelet="morlet")
  assert mask.shape == (2, 300) and mask.dtype == bool
  assert mask[0].sum() == 2 * 6 and mask[1].sum() == 2 * 71
  np.testing.assert_array_equal(mask, mask[:, ::-1])
  m_f = jd.cone_of_influence(freqs=[1000.0], sr=SR, n_samples=100, wavelet="morl")
  assert m_f.shape == (1, 100)
  # The e-folding: wavelet power of a spike at the edge falls by e^2 at the half-width.
  s = 20.0
  spike = np.zeros(400, np.float32)
  spike[0] = 1.0
  p = np.abs(np.asarray(jd.cwt(spike, [s], wavelet="morlet")))[0] ** 2
  h = float(jd.cone_of_influence([s], wavelet="morlet")[0])
  assert p[int(round(h))] / p[0] == pytest.approx(np.exp(-2), rel=0.05)


# ---------------------------------------------------------------------------------------------
# Transforms: jit, vmap, batches, chunks, gradients.

Y = RNG.standard_normal(N).astype(np.float32)
SCALES = np.geomspace(3.0, 200.0, 12)


def test_jit_equals_eager_and_batches():
  eager = jd.cwt(Y, SCALES)
  jitted = jax.jit(lambda y: jd.cwt(y, SCALES))(Y)
  np.testing.assert_allclose(jitted, eager, atol=1e-6 * np.abs(eager).max())
  batch = np.stack([Y, 0.5 * Y[::-1], np.roll(Y, 100)]).reshape(3, 1, N)
  Wb = jd.cwt(batch, SCALES)
  assert Wb.shape == (3, 1, 12, N)
  looped = np.stack([np.asarray(jd.cwt(b[0], SCALES)) for b in batch])
  np.testing.assert_allclose(Wb[:, 0], looped, atol=1e-6 * np.abs(looped).max())
  np.testing.assert_allclose(jd.cwt(batch, SCALES, chunk_size=5), Wb, atol=1e-6 * np.abs(looped).max())
  vm = jax.vmap(lambda y: jd.cwt(y, SCALES, wavelet="morl"))(batch[:, 0])
  loop_morl = np.stack([np.asarray(jd.cwt(b[0], SCALES, wavelet="morl")) for b in batch])
  np.testing.assert_allclose(vm, loop_morl, atol=1e-6 * np.abs(loop_morl).max())


def test_traced_scales_and_parameters_under_jit():
  # max_scale = the largest scale: the same FFT size as the concrete plan, so even the scales below
  # the aliasing bound (whose results depend on the FFT size) agree.
  f = jax.jit(lambda y, s, b, c: jd.cwt(y, s, wavelet="cmor", bandwidth=b, center=c, max_scale=200.0))
  W = f(Y, jnp.asarray(SCALES, jnp.float32), 1.5, 1.0)
  ref = jd.cwt(Y, SCALES, wavelet="cmor1.5-1.0")
  np.testing.assert_allclose(W, ref, atol=2e-6 * np.abs(ref).max())
  per_scale = jd.cwt(Y, SCALES, wavelet="cmor", bandwidth=jnp.full(12, 1.5), center=jnp.full(12, 1.0))
  np.testing.assert_allclose(per_scale, ref, atol=2e-6 * np.abs(ref).max())
  with pytest.raises(ValueError, match="max_scale"):
    jax.jit(lambda y, s: jd.cwt(y, s))(Y, jnp.asarray(SCALES))


def test_chunked_equals_unchunked_and_loops_with_recomputing_backward():
  y = RNG.standard_normal(2048).astype(np.float32)
  scales = np.geomspace(6.0, 80.0, 8)  # runs of 4, 3 and 1 scales
  full = np.asarray(jd.cwt(y, scales))
  for chunk in (1, 3):  # 3: a last chunk that overlaps the one before
    np.testing.assert_allclose(jd.cwt(y, scales, chunk_size=chunk), full, atol=1e-6 * np.abs(full).max())

  def loss(y, chunk):
    W = jd.cwt(y, scales, chunk_size=chunk)
    return jnp.sum(W.real**2 + W.imag**2)

  grad = jax.jit(jax.grad(loss), static_argnums=1)  # eager, every primitive would compile apart
  g_full = grad(y, None)
  g_chunk = grad(y, 3)
  np.testing.assert_allclose(g_chunk, g_full, rtol=1e-5, atol=1e-5 * np.abs(g_full).max())
  text = str(jax.make_jaxpr(jax.grad(loss), static_argnums=1)(y, 3))
  assert "scan" in text and "custom_vjp" in text  # the chunk loop and its recomputing backward
  assert "scan" not in str(jax.make_jaxpr(loss, static_argnums=1)(y, None))
  # hop_length keeps every hop-th sample, chunked or not
  np.testing.assert_allclose(jd.cwt(y, scales, hop_length=3, chunk_size=3), full[:, ::3],
                             atol=1e-6 * np.abs(full).max())
  # forward mode works without chunks (reverse mode only with them)
  _, tangent = jax.jvp(lambda v: jd.cwt(v, scales), (y,), (y,))
  np.testing.assert_allclose(tangent, full, atol=1e-6 * np.abs(full).max())  # linear in y
  with pytest.raises(TypeError, match="custom_vjp"):
    jax.jvp(lambda v: jd.cwt(v, scales, chunk_size=3), (y,), (y,))


@pytest.mark.parametrize("wavelet,compat", [("cmor1.5-1.0", None), ("morl", None), ("cmor1.5-1.0", "pywt")])
def test_magnitude_and_power_outputs_taken_per_chunk(wavelet, compat):
  y = RNG.standard_normal(2048).astype(np.float32)
  scales = np.geomspace(6.0, 80.0, 8)
  W = np.asarray(jd.cwt(y, scales, wavelet=wavelet, compat=compat))
  for chunk in (None, 3):
    M = jd.cwt(y, scales, wavelet=wavelet, compat=compat, chunk_size=chunk, output="magnitude")
    P = jd.cwt(y, scales, wavelet=wavelet, compat=compat, chunk_size=chunk, output="power")
    assert M.dtype == P.dtype == np.float32 and M.shape == P.shape == W.shape
    np.testing.assert_allclose(M, np.abs(W), atol=1e-6 * np.abs(W).max())
    np.testing.assert_allclose(P, np.abs(W) ** 2, atol=1e-6 * np.abs(W).max() ** 2)
  # the power's gradient (through the chunk loop's recomputing backward) is that of |W|^2
  loss_w = lambda v: jnp.sum(jnp.abs(jd.cwt(v, scales, wavelet=wavelet, compat=compat)) ** 2)
  loss_p = lambda v: jnp.sum(jd.cwt(v, scales, wavelet=wavelet, compat=compat, chunk_size=3, output="power"))
  g_w, g_p = jax.jit(lambda v: (jax.grad(loss_w)(v), jax.grad(loss_p)(v)))(y)  # one program
  np.testing.assert_allclose(g_p, g_w, rtol=1e-4, atol=1e-5 * np.abs(g_w).max())
  # the magnitude's gradient stays finite where W = 0 (silence)
  g = jax.jit(jax.grad(lambda v: jnp.sum(jd.cwt(v, scales, wavelet=wavelet, compat=compat, output="magnitude"))))(
      np.zeros(2048, np.float32))
  assert np.all(np.isfinite(np.asarray(g)))


def test_gradients_match_finite_differences():
  with jax.enable_x64(True):
    x = jnp.asarray(RNG.standard_normal(1200))
    weight = jnp.linspace(0.0, 1.0, 1200)

    def loss(x, s, b, c, chunk=None):
      W = jd.cwt(x, s, wavelet="cmor", bandwidth=b, center=c, max_scale=60.0, chunk_size=chunk)
      return jnp.sum((W.real**2 + W.imag**2) * weight)

    s0 = jnp.asarray([6.0, 13.0, 40.0])
    args = (x, s0, 1.5, 1.0)
    grads = jax.jit(jax.grad(loss, argnums=(0, 1, 2, 3)))(*args)  # jitted: eager compiles every primitive apart
    assert all(np.all(np.isfinite(np.asarray(g))) for g in grads)
    grads_chunked = jax.jit(jax.grad(loss, argnums=(1, 2, 3)), static_argnums=4)(*args, 1)
    for g, gc in zip(grads[1:], grads_chunked):
      np.testing.assert_allclose(gc, g, rtol=1e-9)
    lj = jax.jit(loss)
    eps = 1e-6

    def fd(i, delta):
      plus = list(args)
      minus = list(args)
      plus[i] = args[i] + delta
      minus[i] = args[i] - delta
      return (lj(*plus) - lj(*minus)) / (2 * eps)

    np.testing.assert_allclose(grads[2], fd(2, eps), rtol=1e-6)  # bandwidth
    np.testing.assert_allclose(grads[3], fd(3, eps), rtol=1e-6)  # centre frequency
    np.testing.assert_allclose(grads[1][1], fd(1, jnp.asarray([0.0, eps, 0.0])), rtol=1e-6)  # one scale
    v = jnp.asarray(RNG.standard_normal(1200))
    np.testing.assert_allclose(jnp.vdot(grads[0], v), fd(0, eps * v), rtol=1e-6)  # the signal
    # w0 of the Torrence–Compo Morlet, and the real morl w.r.t. a scale
    f_w0 = jax.jit(jax.value_and_grad(lambda w: jnp.sum(jnp.abs(jd.cwt(x, s0, wavelet="morlet", w0=w)) ** 2)))
    np.testing.assert_allclose(f_w0(6.0)[1], (f_w0(6.0 + eps)[0] - f_w0(6.0 - eps)[0]) / (2 * eps), rtol=1e-6)


# ---------------------------------------------------------------------------------------------
# Bad input.


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(scales=[]), "scales must not be empty"),
        (dict(scales=[1.0, 0.0]), "scales must be positive"),
        (dict(scales=[-2.0]), "scales must be positive"),
        (dict(scales=[[1.0, 2.0]]), "scales must be 1-D"),
        (dict(), "exactly one of scales or freqs"),
        (dict(scales=[2.0], freqs=[100.0]), "exactly one of scales or freqs"),
        (dict(freqs=[100.0, 12000.0], sr=22050), "freqs must be at most the Nyquist"),
        (dict(freqs=[0.0], sr=22050), "freqs must be positive"),
        (dict(scales=[2.0], wavelet="mexh"), "wavelet must be one of"),
        (dict(scales=[2.0], wavelet="cmor1.5"), "cmorB-C"),
        (dict(scales=[2.0], wavelet="cmorx-1"), "cmorB-C"),
        (dict(scales=[2.0], wavelet="cmor1.5-1.0-2"), "cmorB-C"),
        (dict(scales=[2.0], wavelet="cmor-1-1"), "cmorB-C"),
        (dict(scales=[2.0], wavelet="cmor0-1"), "bandwidth B must be positive"),
        (dict(scales=[2.0], wavelet="cmor1.5-0"), "centre frequency C must be positive"),
        (dict(scales=[2.0], wavelet="cmor", bandwidth=0.0), "bandwidth must be a positive"),
        (dict(scales=[2.0], wavelet="cmor", center=-1.0), "center must be a positive"),
        (dict(scales=[2.0], wavelet="morlet", w0=0.0), "w0 must be a positive"),
        (dict(scales=[2.0], wavelet="cmor1.5-1.0", bandwidth=2.0), "already fixes B and C"),
        (dict(scales=[2.0], wavelet="morl", w0=5.0), "w0 does not apply"),
        (dict(scales=[2.0], normalization="l3"), "normalization must be one of"),
        (dict(scales=[2.0], compat="scipy"), "compat must be one of"),
        (dict(scales=[2.0], wavelet="morlet", compat="pywt"), "compat='pywt' needs a PyWavelets wavelet"),
        (dict(scales=[2.0], compat="pywt", normalization="l1"), "compat='pywt' supports only"),
        (dict(scales=[0.01], wavelet="morl", compat="pywt"), "PyWavelets refuses"),
        (dict(scales=[2.0], chunk_size=0), "chunk_size must be a positive int"),
        (dict(scales=[2.0], hop_length=0), "hop_length must be a positive int"),
        (dict(scales=[2.0], output="complex"), "output must be one of"),
        (dict(scales=[2.0], max_scale=-1.0), "max_scale must be a positive"),
        (dict(scales=[2.0, 3.0], wavelet="cmor", bandwidth=np.ones(3)), "one value per scale"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
  with pytest.raises(ValueError, match=match):
    jd.cwt(Y[:256], **kwargs)


def test_bad_signal_and_errors_under_jit():
  with pytest.raises(TypeError, match="y must be a floating-point"):
    jd.cwt(np.arange(10), [2.0])
  with pytest.raises(ValueError, match="y must not be empty"):
    jd.cwt(np.zeros(0, np.float32), [2.0])
  with pytest.raises(ValueError, match="wavelet must be one of"):
    jax.jit(lambda y: jd.cwt(y, [2.0], wavelet="haar"))(Y[:64])
  with pytest.raises(ValueError, match="compat='pywt' needs concrete"):
    jax.jit(lambda y, s: jd.cwt(y, s, compat="pywt", max_scale=4.0))(Y[:64], jnp.ones(2))
  with pytest.raises(ValueError, match="freqs must be at most the Nyquist"):
    jd.frequency_to_scale(20000.0, sr=22050)
  with pytest.raises(ValueError, match="scales must be positive"):
    jd.scale_to_frequency([0.0])
