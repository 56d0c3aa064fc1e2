"""Synthesis (jaxdsp.synth) against closed forms and NumPy/SciPy references.

Tolerances held (float32): oscillators with exactly representable increments (f/sr = 1/32) equal the
closed-form sum of sines to 1e-5; a 440 Hz tone's spectral peak is at 440 Hz and its amplitude 1
within 2e-3 (leakage-free 1 s window); a 200->800 Hz glide equals the float64 cumulative sum to 2e-3
after 1 s (float32 rounding of f/sr itself); harmonics at or above Nyquist leave no energy
(< 1e-10 of the total outside the kept harmonics); a noise band holds > 97 % of the filtered noise's
energy; a time-invariant ``frequency_filter`` equals ``np.convolve`` with the independently designed
FIR to 1e-6; reverb of an impulse is the IR to 1e-6. Gradients finite, and their directional
derivative equals a float32 central difference to 1 % on tiny inputs (64 samples, 4 frames).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.signal

import jaxdsp as jd

SR = 16000


def _closed_form(freqs, amps, n, sr=SR):
  t = np.arange(n)
  return sum(a * np.sin(2 * np.pi * f * t / sr) for f, a in zip(freqs, amps))


# ---------------------------------------------------------------------------------------------
# Oscillators against closed forms.


def _harmonic(f0, harmonic_amps, method="window"):
  """One compiled shape for every harmonic test: 8 frames, 20 harmonics, 1 s at 16 kHz."""
  amps = np.zeros((20, 8), np.float32)
  amps[:len(harmonic_amps)] = np.asarray(harmonic_amps, np.float32)[:, None]
  return np.asarray(jd.harmonic_synth(np.asarray(f0, np.float32), amplitudes=amps, sr=SR, n_samples=SR,
                                      upsample_method=method))


def test_harmonic_synth_equals_the_sum_of_harmonics_below_nyquist():
  # f0/sr = 1/32 exactly; harmonic 16 lands on Nyquist and 17..20 above it: all silenced.
  k = np.arange(1, 21)
  y = _harmonic(np.full(8, 500.0), 1.0 / k)
  ref = _closed_form(500.0 * k[:15], 1.0 / k[:15], SR)
  np.testing.assert_allclose(y, ref, atol=1e-5)
  # No energy anywhere but at the kept harmonics (aliases of 8.5-10 kHz would land at 6-7.5 kHz).
  power = np.abs(np.fft.rfft(y)) ** 2  # 1 Hz bins
  kept = np.zeros_like(power, bool)
  kept[500 * k[:15]] = True
  assert power[~kept].sum() < 1e-10 * power.sum()


def test_harmonic_synth_frequency_and_amplitude_of_a_tone():
  y = _harmonic(np.full(8, 440.0), [0.8])
  spec = np.abs(np.fft.rfft(y)) * 2 / len(y)  # 1 Hz bins, 440 cycles in the window: no leakage
  assert int(np.argmax(spec)) == 440
  assert abs(spec[440] - 0.8) < 2e-3
  crossings = np.sum(np.signbit(y[1:]) != np.signbit(y[:-1]))
  assert abs(crossings - 2 * 440) <= 1


def test_harmonic_synth_glide_follows_the_float64_phase():
  f0 = np.linspace(200.0, 800.0, 8)
  y = _harmonic(f0, [1 / 3] * 3)
  f0_audio = np.interp(np.arange(SR) * 8 / SR, np.arange(8), f0)  # frame f at f·n/8, the last held
  phase = np.concatenate([[0.0], np.cumsum(f0_audio / SR)[:-1]])
  ref = sum(np.sin(2 * np.pi * k * phase) / 3 for k in (1, 2, 3))
  np.testing.assert_allclose(y, ref, atol=2e-3)


def test_sinusoidal_synth_two_sines_and_initial_phase():
  freqs = np.array([[1000.0] * 4, [3000.0] * 4], np.float32)  # f/sr = 1/16, 3/16: exact
  amps = np.array([[0.5] * 4, [0.25] * 4], np.float32)
  y = jd.sinusoidal_synth(freqs, amplitudes=amps, sr=SR, n_samples=4000, initial_phases=np.array([0.0, np.pi / 2]))
  t = np.arange(4000)
  ref = 0.5 * np.sin(2 * np.pi * 1000 * t / SR) + 0.25 * np.cos(2 * np.pi * 3000 * t / SR)
  # XLA rounds 3000/16000 to 0.18750001 (a division by reciprocal): 4e-5 cycles after 4000 samples.
  np.testing.assert_allclose(y, ref, atol=2e-4)


def test_wavetable_synth_reads_a_sine_table():
  table = np.sin(2 * np.pi * np.arange(2048) / 2048).astype(np.float32)
  amps = np.full(4, 0.5, np.float32)
  y = jd.wavetable_synth(np.full(4, 500.0, np.float32), wavetable=table, amplitudes=amps, sr=SR, n_samples=8000)
  np.testing.assert_allclose(y, 0.5 * np.sin(2 * np.pi * 500 * np.arange(8000) / SR), atol=1e-5)
  # A square table gives a square wave of the right period.
  square = np.where(np.arange(64) < 32, 1.0, -1.0).astype(np.float32)
  y = np.asarray(jd.wavetable_synth(np.full(2, 250.0, np.float32), wavetable=square, sr=SR, n_samples=SR))
  assert np.sum(np.signbit(y[1:]) != np.signbit(y[:-1])) in (499, 500, 501)


def test_wavetable_synth_time_varying_tables():
  # f0/sr = 1/32 and 64-entry tables: every read lands on table entries 2·n mod 64 (no interpolation).
  n, frames = 1024, 8
  sine = np.sin(2 * np.pi * np.arange(64) / 64).astype(np.float32)
  square = np.where(np.arange(64) < 32, 1.0, -1.0).astype(np.float32)
  f0 = np.full(frames, SR / 32, np.float32)
  # A constant table per frame equals the fixed table.
  const = jd.wavetable_synth(f0, wavetables=np.tile(sine, (frames, 1)), sr=SR, n_samples=n)
  np.testing.assert_allclose(const, jd.wavetable_synth(f0, wavetable=sine, sr=SR, n_samples=n), atol=1e-6)
  # A linear crossfade sine -> square over the frames: y = (1 - c[n])·sin + c[n]·square, with c[n] the
  # frame index interpolated linearly (frame f at sample f·n/frames, the last frame held).
  c = np.linspace(0, 1, frames)
  tables = ((1 - c)[:, None] * sine + c[:, None] * square).astype(np.float32)
  y = jd.wavetable_synth(f0, wavetables=tables, sr=SR, n_samples=n)
  c_n = np.interp(np.arange(n) * frames / n, np.arange(frames), c)
  idx = (2 * np.arange(n)) % 64
  np.testing.assert_allclose(y, (1 - c_n) * sine[idx] + c_n * square[idx], atol=1e-5)


# ---------------------------------------------------------------------------------------------
# Upsampling.


def test_upsample_linear_and_window_endpoints():
  x = np.array([[1.0, 3.0, -2.0, 5.0]], np.float32)
  # add_endpoint=False: np.interp with the first/last frames on the first/last samples.
  y = jd.upsample(x, n_samples=13, add_endpoint=False)
  np.testing.assert_allclose(y[0], np.interp(np.linspace(0, 3, 13), np.arange(4), x[0]), atol=1e-6)
  # add_endpoint=True: frame f at sample f·n/n_frames, the last frame held.
  y = np.asarray(jd.upsample(x, n_samples=16))
  np.testing.assert_allclose(y[0, ::4], x[0], atol=1e-6)
  np.testing.assert_allclose(y[0, 12:], 5.0)
  np.testing.assert_allclose(y[0, 1:4], [1.5, 2.0, 2.5], atol=1e-6)
  # Hann windows: start at x[0], end at x[-1], pass each frame and stay between neighbours.
  y = np.asarray(jd.upsample(x, n_samples=16, method="window"))
  assert y[0, 0] == x[0, 0] and y[0, -1] == x[0, -1]
  np.testing.assert_allclose(y[0, ::4], x[0], atol=1e-6)
  np.testing.assert_allclose(y[0, 2], 2.0, atol=1e-6)  # half-way: the mean of the neighbours
  # Without the endpoint: 3 intervals of 5 samples, the last one rising towards x[-1].
  y = np.asarray(jd.upsample(x, n_samples=15, method="window", add_endpoint=False))
  np.testing.assert_allclose(y[0, ::5], x[0, :3], atol=1e-6)
  assert x[0, 2] < y[0, 11] < y[0, 14] < x[0, 3]


# ---------------------------------------------------------------------------------------------
# Filtered noise.


def test_filtered_noise_energy_is_in_the_requested_band():
  n_bands, n_frames = 129, 50
  f = np.linspace(0, SR / 2, n_bands)
  mags = np.zeros((n_bands, n_frames), np.float32)
  mags[(f >= 2000) & (f <= 4000)] = 1.0
  y = np.asarray(jd.filtered_noise(mags, n_samples=SR, key=jax.random.key(0)))
  freqs, psd = scipy.signal.welch(y, fs=SR, nperseg=1024)
  band = (freqs >= 1900) & (freqs <= 4100)
  assert psd[band].sum() > 0.97 * psd.sum()
  # Uniform noise has variance 1/3: a unit-magnitude band has PSD (1/3) / (sr/2).
  inside = (freqs >= 2200) & (freqs <= 3800)
  assert abs(psd[inside].mean() / ((1 / 3) / (SR / 2)) - 1) < 0.1


def test_frequency_filter_time_invariant_equals_convolution():
  rng = np.random.default_rng(12345)
  x = rng.standard_normal(3000).astype(np.float32)
  n_bands, size = 33, 31
  mag = (1.0 / (1.0 + (np.arange(n_bands) / 6.0) ** 2)).astype(np.float32)  # a low-pass response
  y = jd.frequency_filter(x, magnitudes=np.repeat(mag[:, None], 7, axis=1), window_size=size)
  # The FIR designed in NumPy: zero-phase irfft, Hann window centred at 0, delay size // 2.
  h0 = np.fft.irfft(mag.astype(np.float64))
  idx = (np.arange(size) - size // 2) % len(h0)
  h = h0[idx] * (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(size) / size))
  ref = np.convolve(x, h)[size // 2: size // 2 + len(x)]
  np.testing.assert_allclose(y, ref, atol=1e-6)
  # Flat magnitudes pass the signal through.
  np.testing.assert_allclose(jd.frequency_filter(x, magnitudes=np.ones((17, 5), np.float32)), x, atol=1e-6)


# ---------------------------------------------------------------------------------------------
# Reverb.


def test_reverb_of_an_impulse_is_the_ir_and_exp_decay_envelope():
  ir = jd.exp_decay_ir(gain=0.5, decay=6.0, n_samples=4000, key=jax.random.key(1))
  ir2 = jd.exp_decay_ir(gain=1.0, decay=0.0, n_samples=4000, key=jax.random.key(1))  # the raw noise
  t = np.arange(4000) / 4000
  np.testing.assert_allclose(ir, 0.5 * np.exp(-6.0 * t) * np.asarray(ir2), rtol=1e-5, atol=1e-7)
  assert np.all(np.abs(ir2) <= 1) and np.std(ir2) > 0.5  # uniform in [-1, 1): std 0.577
  x = np.zeros(6000, np.float32)
  x[0] = 1.0
  y = jd.reverb(x, ir=ir)
  np.testing.assert_allclose(y[:4000], ir, atol=1e-6)
  np.testing.assert_allclose(y[4000:], 0.0, atol=1e-6)
  full = jd.reverb(x[:100], ir=ir, mode="full")
  assert full.shape == (4099,)
  np.testing.assert_allclose(full[:4000], ir, atol=1e-6)


# ---------------------------------------------------------------------------------------------
# jit, vmap, grad (finite differences in float64 on tiny inputs).

N, F = 64, 4  # samples, frames


def _cases():
  key = jax.random.key(3)
  return {
      "harmonic_f0": (lambda f0, a: jd.harmonic_synth(f0, amplitudes=a, sr=8000, n_samples=N),
                      lambda r: (300 + 200 * r.random(F), 0.1 + r.random((3, F)))),
      "sinusoidal": (lambda f, a: jd.sinusoidal_synth(f, amplitudes=a, sr=8000, n_samples=N, upsample_method="linear"),
                     lambda r: (500 + 1000 * r.random((2, F)), 0.1 + r.random((2, F)))),
      "wavetable": (lambda f0, w: jd.wavetable_synth(f0, wavetable=w, sr=8000, n_samples=N),
                    lambda r: (300 + 200 * r.random(F), r.standard_normal(16))),
      "wavetables": (lambda f0, w: jd.wavetable_synth(f0, wavetables=w, sr=8000, n_samples=N),
                     lambda r: (300 + 200 * r.random(F), r.standard_normal((F, 3)) @ _SMOOTH)),
      "frequency_filter": (lambda x, m: jd.frequency_filter(x, magnitudes=m),
                           lambda r: (r.standard_normal(N), 0.1 + r.random((9, F)))),
      "filtered_noise": (lambda m: jd.filtered_noise(m, n_samples=N, key=key), lambda r: (0.1 + r.random((9, F)),)),
      "reverb": (lambda x, h: jd.reverb(x, ir=h), lambda r: (r.standard_normal(N), r.standard_normal(16))),
      "exp_decay_ir": (lambda g, d: jd.exp_decay_ir(gain=g, decay=d, n_samples=N, key=key),
                       lambda r: (np.asarray(0.7), np.asarray(3.0))),
      "upsample_window": (lambda x: jd.upsample(x, n_samples=N, method="window"), lambda r: (r.standard_normal(F),)),
      "upsample_linear": (lambda x: jd.upsample(x, n_samples=N), lambda r: (r.standard_normal(F),)),
  }


# Smooth per-frame tables (3 harmonics on 64 entries).
_SMOOTH = np.sin(2 * np.pi * np.outer(np.arange(1, 4), np.arange(64)) / 64)
CASES = _cases()


@pytest.mark.parametrize("name", list(CASES))
def test_jit_vmap_grad(name):
  fn, make = CASES[name]
  args = [np.asarray(a, np.float32) for a in make(np.random.default_rng(0))]
  other = [np.asarray(a, np.float32) for a in make(np.random.default_rng(1))]
  rng = np.random.default_rng(2)
  # A random direction, scaled to each argument (f0 in Hz, amplitudes ~1), for a central difference.
  direction = [(rng.standard_normal(a.shape) * (np.abs(a).mean() + 0.1)).astype(np.float32) for a in args]
  if name == "wavetables":
    # Per-frame tables: the tables' direction only. The f0 path is the fixed table's (FD-checked in
    # "wavetable"); here a float32 difference in f0 is ~4 % off (the reads of the per-frame tables
    # cancel), while a float64 difference converges to the gradient.
    direction[0] = np.zeros_like(direction[0])
  eps = 1e-3
  eager = np.asarray(fn(*args))  # called directly
  weights = rng.standard_normal(eager.shape).astype(np.float32)
  objective = lambda *a: jnp.sum(fn(*a) * weights)
  argnums = tuple(range(len(args)))

  @jax.jit
  def everything(args, other, direction):
    batch = [jnp.stack([a, b]) for a, b in zip(args, other)]
    grads = jax.grad(objective, argnums=argnums)(*args)
    plus = objective(*[a + eps * d for a, d in zip(args, direction)])
    minus = objective(*[a - eps * d for a, d in zip(args, direction)])
    return fn(*args), jax.vmap(fn)(*batch), fn(*other), grads, (plus - minus) / (2 * eps)

  jitted, vm, loop1, grads, fd = everything(args, other, direction)
  np.testing.assert_allclose(jitted, eager, rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(vm[0], eager, rtol=1e-5, atol=1e-5)  # vmap == loop
  np.testing.assert_allclose(vm[1], loop1, rtol=1e-5, atol=1e-5)
  assert all(np.all(np.isfinite(g)) and np.any(g != 0) for g in grads)
  # The gradient's directional derivative equals the central finite difference (float32).
  analytic = sum(float(np.sum(np.asarray(g, np.float64) * d)) for g, d in zip(grads, direction))
  assert abs(analytic - float(fd)) <= 1e-2 * abs(analytic) + 1e-3, (analytic, float(fd))


# ---------------------------------------------------------------------------------------------
# Bad input.


def test_bad_input_names_the_argument():
  f0, amps = np.full(4, 440.0, np.float32), np.ones((2, 4), np.float32)
  with pytest.raises(ValueError, match="amplitudes"):
    jd.harmonic_synth(f0, amplitudes=np.ones((2, 5), np.float32), sr=SR, n_samples=400)
  with pytest.raises(ValueError, match="amplitudes"):
    jd.harmonic_synth(f0, amplitudes=np.ones(4, np.float32), sr=SR)
  with pytest.raises(ValueError, match="sr"):
    jd.harmonic_synth(f0, amplitudes=amps, sr=-1.0)
  with pytest.raises(ValueError, match="n_samples"):
    jd.harmonic_synth(f0, amplitudes=amps, sr=SR, n_samples=0)
  with pytest.raises(ValueError, match="upsample_method"):
    jd.harmonic_synth(f0, amplitudes=amps, sr=SR, n_samples=400, upsample_method="cubic")
  with pytest.raises(TypeError, match="f0"):
    jd.harmonic_synth(np.full(4, 440), amplitudes=amps, sr=SR)
  with pytest.raises(TypeError, match="initial_phase"):
    jd.harmonic_synth(f0, amplitudes=amps, sr=SR, initial_phase=np.zeros(3))
  with pytest.raises(ValueError, match="n_samples"):
    jd.upsample(f0, n_samples=3)
  with pytest.raises(ValueError, match="n_samples divisible"):
    jd.upsample(f0, n_samples=10, method="window")
  with pytest.raises(ValueError, match="method"):
    jd.upsample(f0, n_samples=8, method="cubic")
  with pytest.raises(ValueError, match="sines"):
    jd.sinusoidal_synth(np.ones((2, 4), np.float32), amplitudes=np.ones((3, 4), np.float32), sr=SR)
  with pytest.raises(ValueError, match="wavetable"):
    jd.wavetable_synth(f0, wavetable=np.ones(1, np.float32), sr=SR)
  with pytest.raises(ValueError, match="wavetables"):
    jd.wavetable_synth(f0, wavetables=np.ones((3, 8), np.float32), sr=SR)  # 3 frames, f0 has 4
  with pytest.raises(ValueError, match="wavetables"):
    jd.wavetable_synth(f0, wavetable=np.ones(8, np.float32), wavetables=np.ones((4, 8), np.float32), sr=SR)
  with pytest.raises(ValueError, match="wavetable"):
    jd.wavetable_synth(f0, sr=SR)
  with pytest.raises(ValueError, match="window_size"):
    jd.frequency_filter(np.zeros(100, np.float32), magnitudes=np.ones((9, 4), np.float32), window_size=17)
  with pytest.raises(ValueError, match="bands"):
    jd.frequency_filter(np.zeros(100, np.float32), magnitudes=np.ones((1, 4), np.float32))
  with pytest.raises(ValueError, match="frames"):
    jd.frequency_filter(np.zeros(3, np.float32), magnitudes=np.ones((9, 4), np.float32))
  with pytest.raises(ValueError, match="mode"):
    jd.reverb(np.zeros(10, np.float32), ir=np.ones(3, np.float32), mode="valid")
  with pytest.raises(TypeError, match="ir"):
    jd.reverb(np.zeros(10, np.float32), ir=np.ones(3, np.int32))
  with pytest.raises(ValueError, match="n_samples"):
    jd.exp_decay_ir(gain=1.0, decay=1.0, n_samples=-5, key=jax.random.key(0))
  with pytest.raises(ValueError, match="n_samples"):  # past int32: refused before allocating
    jd.harmonic_synth(f0, amplitudes=amps, sr=SR, n_samples=2**40)
  with pytest.raises(ValueError, match="n_samples"):
    jd.filtered_noise(np.ones((9, 4), np.float32), n_samples=2**40, key=jax.random.key(0))
  with pytest.raises(ValueError, match="initial_phases"):
    jd.sinusoidal_synth(amps * 440, amplitudes=amps, sr=SR, initial_phases=np.array([0.0, np.nan]))
  # Checks run at trace time: the same errors under jit.
  with pytest.raises(ValueError, match="amplitudes"):
    jax.jit(lambda f: jd.harmonic_synth(f, amplitudes=np.ones((2, 5), np.float32), sr=SR))(f0)
