"""Every core DSP function under jax.jit, jax.vmap and jax.grad.

For each function: jit == eager (float32, 1e-5 relative); vmap over a batch == a Python loop (and
== the batched call, the functions being batch-polymorphic); the gradient of a weighted sum of the
output is finite, also on silence; for smooth functions it matches central finite differences in
float64 (directional derivative, 1e-6 relative).

Compiles are what these tests cost, so each check compiles once: the jitted function of one signal
serves the jit check and the loop of the vmap check (one cache per function), the vmapped and the
batched calls are one program, the gradient on a signal and on silence one program, and the
gradient and the two losses of the finite difference one program (``value_and_grad``). Eager
(op-by-op) calls compile every primitive apart: about 3x the cost of one jitted program here.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxdsp as jd

SR = 8000
N = 1024
KW = dict(n_fft=256, hop_length=64)
FR = dict(frame_length=256, hop_length=64)

# name -> (function of the signal, smooth?)  "smooth" = differentiable almost everywhere with a
# gradient equal to finite differences at a generic point.
CASES = {
    "frame": (lambda y: jd.frame(y, frame_length=128, hop_length=64), True),
    "stft": (lambda y: jd.stft(y, **KW), True),
    "istft": (lambda y: jd.istft(jd.stft(y, **KW), hop_length=64, length=N), True),
    "spectrogram": (lambda y: jd.spectrogram(y, **KW), True),
    "power_spectrogram": (lambda y: jd.spectrogram(y, power=2.0, **KW), True),
    "amplitude_to_db": (lambda y: jd.amplitude_to_db(jd.spectrogram(y, **KW), top_db=None), True),
    "power_to_db": (lambda y: jd.power_to_db(jd.spectrogram(y, power=2.0, **KW), ref=jnp.max), True),
    "db_to_power": (lambda y: jd.db_to_power(y), True),
    "db_to_amplitude": (lambda y: jd.db_to_amplitude(y), True),
    "rms": (lambda y: jd.rms(y, **FR), True),
    "amplitude_envelope": (lambda y: jd.amplitude_envelope(y, **FR), True),
    "zero_crossing_rate": (lambda y: jd.zero_crossing_rate(y, **FR), False),
    "zero_crossing_rate_smooth": (lambda y: jd.zero_crossing_rate_smooth(y, temperature=0.3, **FR), True),
    "spectral_centroid": (lambda y: jd.spectral_centroid(y, sr=SR, **KW), True),
    "spectral_bandwidth": (lambda y: jd.spectral_bandwidth(y, sr=SR, **KW), True),
    "spectral_rolloff": (lambda y: jd.spectral_rolloff(y, sr=SR, **KW), False),
    "spectral_flatness": (lambda y: jd.spectral_flatness(y, **KW), True),
    "melspectrogram": (lambda y: jd.melspectrogram(y, sr=SR, n_mels=20, **KW), True),
    "mfcc": (lambda y: jd.mfcc(y, sr=SR, n_mels=20, n_mfcc=8, top_db=None, **KW), True),
    # spectral_contrast's default bands (200 Hz · 2^5) do not fit below 4 kHz: every other feature.
    # (nor the constant-Q ones, whose 7 octaves from C1 pass 4 kHz: tested in test_chroma_intervals.py)
    "features": (lambda y: jd.features(y, sr=SR, names=tuple(
        n for n in jd.FEATURE_NAMES
        if n not in ("spectral_contrast", "chroma_cens", "chroma_cqt", "chroma_vqt", "tonnetz")),
                                       n_mels=20, n_mfcc=8, **KW), True),
    "pad_center": (lambda y: jd.pad_center(y, size=N + 10), True),
    "resample": (lambda y: jd.resample(y, orig_sr=SR, target_sr=6000), True),
}


def _signal(shape, seed=12345, dtype=np.float32):
  rng = np.random.default_rng(seed)
  t = np.arange(shape[-1]) / SR
  tone = 0.5 * np.sin(2 * np.pi * 440 * t + rng.uniform(0, 6, size=shape[:-1] + (1,)))
  return (tone + 0.1 * rng.standard_normal(shape)).astype(dtype)


def _leaves(out):
  leaves = jax.tree_util.tree_leaves(out)
  return [jnp.stack([x.real, x.imag]) if jnp.iscomplexobj(x) else x for x in leaves]


def _loss(fn, weights_seed=0):
  def loss(y):
    total = 0.0
    for i, x in enumerate(_leaves(fn(y))):
      w = jax.random.normal(jax.random.key(weights_seed + i), x.shape, x.dtype)
      total = total + jnp.sum(w * jnp.where(jnp.isfinite(x), x, 0))
    return total
  return loss


def _assert_close(a, b, rtol):
  for x, z in zip(_leaves(a), _leaves(b)):
    x, z = np.asarray(x), np.asarray(z)
    assert x.shape == z.shape
    np.testing.assert_allclose(x, z, rtol=rtol, atol=rtol * max(np.max(np.abs(z)), 1e-6))


@functools.cache
def _jitted(name):
  """``jax.jit`` of the function, one per name, so that its compiled shapes serve several tests."""
  return jax.jit(CASES[name][0])


@pytest.mark.parametrize("name", list(CASES))
def test_jit_equals_eager(name):
  fn, _ = CASES[name]
  y = _signal((N,))
  _assert_close(_jitted(name)(y), fn(y), 1e-5)


@pytest.mark.parametrize("name", list(CASES))
def test_vmap_equals_loop_and_batched_call(name):
  fn, _ = CASES[name]
  yb = _signal((3, N))
  out, batched = jax.jit(lambda yb: (jax.vmap(fn)(yb), fn(yb)))(yb)  # one program for both
  for i in range(3):
    _assert_close(jax.tree_util.tree_map(lambda x: x[i], out), _jitted(name)(yb[i]), 1e-5)
  _assert_close(batched, out, 1e-5)  # any leading batch axes


@pytest.mark.parametrize("name", list(CASES))
def test_grad_finite_also_on_silence(name):
  fn, _ = CASES[name]
  grad = jax.jit(jax.grad(_loss(fn)))
  for y in (_signal((N,)), np.zeros(N, np.float32)):
    g = grad(jnp.asarray(y))
    assert g.shape == y.shape and bool(jnp.all(jnp.isfinite(g))), name


@pytest.mark.parametrize("name", [n for n, (_, smooth) in CASES.items() if smooth])
def test_grad_matches_finite_differences_float64(name):
  fn, _ = CASES[name]
  with jax.enable_x64(True):
    y = jnp.asarray(_signal((N,), dtype=np.float64))
    v = jnp.asarray(np.random.default_rng(7).standard_normal(N))
    value_and_grad = jax.jit(jax.value_and_grad(_loss(fn)))  # one program: the gradient and both losses
    _, g = value_and_grad(y)
    assert g.dtype == jnp.float64
    eps = 1e-6
    fd = (value_and_grad(y + eps * v)[0] - value_and_grad(y - eps * v)[0]) / (2 * eps)
    np.testing.assert_allclose(float(jnp.vdot(g, v)), float(fd), rtol=1e-6, atol=1e-6 * float(jnp.linalg.norm(g)))


def test_zero_gradient_features_say_so():
  """ZCR and roll-off are piecewise constant: their true gradient is zero, and it is."""
  y = jnp.asarray(_signal((N,)))
  for name in ["zero_crossing_rate", "spectral_rolloff"]:
    g = jax.jit(jax.grad(_loss(CASES[name][0])))(y)
    assert float(jnp.max(jnp.abs(g))) == 0.0


def test_learnable_window_gets_a_gradient():
  y = jnp.asarray(_signal((N,)))
  g = jax.grad(lambda w: jnp.sum(jd.spectrogram(y, n_fft=256, hop_length=64, window=w)))(jnp.hanning(256))
  assert g.shape == (256,) and bool(jnp.all(jnp.isfinite(g))) and float(jnp.max(jnp.abs(g))) > 0


def test_float64_in_float64_out_under_x64():
  with jax.enable_x64(True):
    y = _signal((N,), dtype=np.float64)
    assert jd.stft(y, **KW).dtype == jnp.complex128
    assert jd.melspectrogram(y, sr=SR, n_mels=20, **KW).dtype == jnp.float64
  assert jd.stft(_signal((N,)), **KW).dtype == jnp.complex64
