"""Effects against closed forms: gain, the constant-power pan law, tanh and the cubic soft clipper, the
delay of an impulse (integer and fractional) and of a band-limited tone, the compressor's static curve
(Giannoulis et al. 2012, eq. 4) and its branching smoother (a NumPy loop), and the parametric EQ
against scipy's sosfilt of the cookbook peaking sections. Tolerances: 1e-6 (float32) unless stated.
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

SR = 8000


@pytest.fixture(scope="module")
def clip():
  return load_clip("speech_8k")[0][:4000].astype(np.float32)


def test_gain_pan_distortion_closed_forms(clip):
  np.testing.assert_allclose(jd.gain(clip, gain_db=-6.0), clip * 10 ** (-6 / 20), rtol=1e-6)
  two = np.stack([clip, clip])
  np.testing.assert_allclose(jd.gain(two, gain_db=np.array([0.0, 20.0])), two * np.array([[1.0], [10.0]]), rtol=1e-6)
  for p in (-1.0, -0.3, 0.0, 0.5, 1.0):
    lr = np.asarray(jd.pan(clip, pan=p))
    th = (p + 1) * math.pi / 4
    np.testing.assert_allclose(lr, np.stack([math.cos(th) * clip, math.sin(th) * clip]), atol=1e-6)
    np.testing.assert_allclose((lr ** 2).sum(0), clip ** 2, atol=1e-6)  # constant power
  u = np.linspace(-3, 3, 601).astype(np.float32)
  np.testing.assert_allclose(jd.distortion(u, mode="tanh", drive_db=6.0), np.tanh(u * 10 ** (6 / 20)), atol=1e-6)
  ref = np.where(np.abs(u) <= 1, 1.5 * (u - u ** 3 / 3), np.sign(u))
  np.testing.assert_allclose(jd.distortion(u, mode="soft_clip"), ref, atol=1e-6)


def test_delay_impulse_and_tone():
  imp = np.zeros(64, np.float32)
  imp[3] = 1.0
  out = np.asarray(jd.delay(imp, delay_samples=5.0))
  assert out[8] == 1.0 and np.abs(out).sum() == 1.0
  out = np.asarray(jd.delay(imp, delay_samples=np.array([2.25, 0.0])))
  np.testing.assert_allclose(out[0, 5:7], [0.75, 0.25], atol=1e-7)
  np.testing.assert_allclose(out[1], imp)
  # band-limited delay of a tone: a phase shift, away from the edges
  n = np.arange(1024)
  tone = np.sin(2 * np.pi * 0.05 * n).astype(np.float32)
  fd = np.asarray(jd.delay(tone, delay_samples=7.3, mode="fft"))
  np.testing.assert_allclose(fd[200:800], np.sin(2 * np.pi * 0.05 * (n[200:800] - 7.3)), atol=2e-3)
  lin = np.asarray(jd.delay(tone, delay_samples=7.3))
  np.testing.assert_allclose(lin[200:800], np.sin(2 * np.pi * 0.05 * (n[200:800] - 7.3)), atol=2e-2)


def _static(level, t, r, w):
  d = level - t
  return np.where(2 * d < -w, 0.0, np.where(2 * d > w, (1 / r - 1) * d, (1 / r - 1) * (d + w / 2) ** 2 / (2 * w)))


def test_compressor_static_curve_and_smoother(clip):
  level = np.linspace(-60, 6, 331).astype(np.float32)
  for t, r, w in [(-20.0, 4.0, 6.0), (-30.0, 10.0, 1e-3), (-10.0, 2.0, 12.0)]:
    np.testing.assert_allclose(jd.compressor_gain_db(level, threshold_db=t, ratio=r, knee_db=w),
                               _static(level.astype(np.float64), t, r, w), atol=2e-5)
  # the full compressor vs a NumPy loop of Giannoulis' branching smoother
  x = clip * 4
  t, r, w, att, rel, mk = -25.0, 5.0, 6.0, 2.0, 40.0, 3.0
  lvl = 20 * np.log10(np.abs(x.astype(np.float64)) + 1e-8)
  gs = _static(lvl, t, r, w)
  aa, ar = math.exp(-1 / (att * 1e-3 * SR)), math.exp(-1 / (rel * 1e-3 * SR))
  g = np.zeros_like(gs)
  prev = 0.0
  for i, v in enumerate(gs):
    al = aa if v < prev else ar
    prev = al * prev + (1 - al) * v
    g[i] = prev
  ref = x * 10 ** ((g + mk) / 20)
  out = jd.compressor(x, sample_rate=SR, threshold_db=t, ratio=r, knee_db=w, attack_ms=att, release_ms=rel,
                      makeup_db=mk)
  np.testing.assert_allclose(out, ref, atol=2e-5 * np.abs(ref).max())


def test_parametric_eq_matches_scipy(clip):
  freqs, gains, qs = np.array([200.0, 1000.0, 3000.0]), np.array([4.0, -6.0, 2.0]), np.array([0.7, 2.0, 1.0])
  sos = []
  for f, g, q in zip(freqs, gains, qs):
    w0 = 2 * math.pi * f / SR
    A, al = 10 ** (g / 40), math.sin(w0) / (2 * q)
    sec = np.array([1 + al * A, -2 * math.cos(w0), 1 - al * A, 1 + al / A, -2 * math.cos(w0), 1 - al / A])
    sos.append(sec / sec[3])
  ref = ss.sosfilt(np.array(sos), clip.astype(np.float64))
  out = jd.parametric_eq(clip, sample_rate=SR, center_freqs=freqs, gains_db=gains, Q=qs)
  np.testing.assert_allclose(out, ref, atol=1e-5 * np.abs(ref).max())


def test_jit_vmap_grad(clip):
  x = jnp.asarray(np.stack([clip[:256], clip[256:512]]))

  def chain(x, p):
    y = jd.gain(x, gain_db=p[0])
    y = jd.parametric_eq(y, sample_rate=SR, center_freqs=jnp.array([500.0, 2000.0]), gains_db=p[1:3])
    y = jd.compressor(y, sample_rate=SR, threshold_db=p[3], ratio=p[4], knee_db=6.0, attack_ms=1.0, release_ms=20.0)
    y = jd.distortion(y, drive_db=p[5])
    y = jd.delay(y, delay_samples=p[6])
    return jd.pan(y, pan=p[7])

  p = jnp.array([3.0, 2.0, -3.0, -30.0, 3.0, 2.0, 3.4, 0.2])
  jc = jax.jit(chain)
  looped = np.stack([jc(x[i], p) for i in range(2)])
  np.testing.assert_allclose(jax.jit(jax.vmap(chain, in_axes=(0, None)))(x, p), looped, atol=1e-5)  # vmap == loop
  np.testing.assert_allclose(jc(x, p), looped, atol=1e-5)  # batched == one at a time
  g = jax.jit(jax.grad(lambda p: jnp.sum(chain(x, p) ** 2)))(p)
  assert np.all(np.isfinite(g)) and np.all(g != 0)
  with jax.enable_x64(True):
    xs = jnp.asarray(x[:, :128], jnp.float64)
    # jitted: each check's evaluations share one compiled program (eager, every primitive compiles apart)
    check_grads(jax.jit(lambda x, gd, dr: jd.distortion(jd.gain(x, gain_db=gd), drive_db=dr)),
                (xs, jnp.array(2.0), jnp.array(1.0)), order=1, modes=("rev",))
    check_grads(jax.jit(lambda l, t, r, w: jd.compressor_gain_db(l, threshold_db=t, ratio=r, knee_db=w)),
                (jnp.linspace(-50.0, 0.0, 40) + 0.123, jnp.array(-20.0), jnp.array(4.0), jnp.array(6.0)), order=1,
                modes=("rev",))
    check_grads(jax.jit(lambda d: jd.delay(xs, delay_samples=d, mode="fft")), (jnp.array(2.3),), order=1,
                modes=("rev",))
    check_grads(jax.jit(lambda d: jd.delay(xs, delay_samples=d)), (jnp.array(2.3),), order=1, modes=("rev",),
                eps=1e-4)


def test_bad_input(clip):
  with pytest.raises(ValueError, match="pan"):
    jd.pan(clip, pan=1.5)
  with pytest.raises(ValueError, match="mode"):
    jd.distortion(clip, mode="fuzz")
  with pytest.raises(ValueError, match="delay_samples"):
    jd.delay(clip, delay_samples=-1.0)
  with pytest.raises(ValueError, match="ratio"):
    jd.compressor(clip, sample_rate=SR, ratio=0.5)
  with pytest.raises(ValueError, match="attack_ms"):
    jd.compressor(clip, sample_rate=SR, attack_ms=0.0)
  with pytest.raises(ValueError, match="knee_db"):
    jd.compressor_gain_db(np.zeros(3, np.float32), knee_db=0.0)
  with pytest.raises(TypeError, match="gain_db"):
    jd.gain(clip, gain_db="loud")
  with pytest.raises(ValueError, match="center_freq"):
    jd.parametric_eq(clip, sample_rate=SR, center_freqs=np.array([5000.0]), gains_db=np.array([1.0]))
  with pytest.raises(ValueError, match="sample_rate"):
    jax.jit(lambda x: jd.compressor(x, sample_rate=0))(jnp.asarray(clip))
