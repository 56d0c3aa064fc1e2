"""Tests for jaxdsp.nn.frontends and jaxdsp.nn.pcen: learnable front-ends.

Tolerances: float64 finite differences (central, h = 1e-6 along a random direction per parameter
array, scaled to the array's mean magnitude) match ``jax.grad`` to 1e-6 relative; the Morlet
bank equals ``jd.cwt`` (``"cmor"``, L1) at its decimated samples to 1e-9 of the peak power in
float64; PCEN equals a float64 NumPy loop to
1e-12 (float64) / 1e-5 (float32); ``LogMel`` equals the log of ``jd.melspectrogram`` to 1e-5.
"""

from __future__ import annotations

import functools
import importlib.util
import math
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from compile_count import count_compiles
import jaxdsp as jd
from jaxdsp import nn as jn
from jaxdsp.nn import frontends as fe_mod

ROOT = pathlib.Path(__file__).resolve().parents[1]
SR = 8000


@pytest.fixture(scope="module")
def rng():
  return np.random.default_rng(12345)


def _apply(module, x):
  """``module(x)`` compiled as one program (eager op-by-op dispatch is slow)."""
  graphdef, state = nnx.split(module)
  return jax.jit(lambda s, x: nnx.merge(graphdef, s)(x))(state, jnp.asarray(x))


def _value_and_grads(module, x, fn=jnp.sum):
  """``fn(module(x))`` and its gradients w.r.t. the parameters and ``x``, jitted."""
  graphdef, params, rest = nnx.split(module, nnx.Param, ...)
  loss = lambda p, x: fn(nnx.merge(graphdef, p, rest)(x))
  return jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))(params, jnp.asarray(x))


# ---------------------------------------------------------------------------------------------
# Shapes, plumbing, known answers.


def test_frontends_plug_into_cnn():
  # CNN finds each front-end's output shape with jax.eval_shape; the whole model then traces
  # (built abstractly: nnx.eval_shape). A real fit() through a front-end: test_example_quick.
  stack = jn.FeatureStack([jn.LogMel(sr=SR, n_fft=256, hop_length=128, n_mels=5),
                           jn.SoftEnvelope(frame_length=256, hop_length=128), jn.SmoothZCR(
                               frame_length=256, hop_length=128)])
  for fe, n_feat in ((jn.MorletFilterbank(sr=SR, n_filters=6, hop_length=128), 6),
                     (jn.Leaf(sr=SR, n_filters=5, hop_length=128), 5),
                     (jn.LearnableMel(sr=SR, n_fft=256, hop_length=128, n_mels=7), 7),
                     (stack, 7)):
    model = nnx.eval_shape(lambda fe=fe: jn.CNN((2048,), 3, channels=(4,), padding=1,
                                                standardize=True, frontend=fe, rngs=nnx.Rngs(0)))
    assert model.feature_shape == (n_feat, 1 + 2048 // 128)
    graphdef, state = nnx.split(model)
    out = jax.eval_shape(lambda s, x: nnx.merge(graphdef, s)(x), state,
                         jax.ShapeDtypeStruct((2, 2048), jnp.float32))
    assert out.shape == (2, 3)


def test_finite_after_a_loud_sound():
  # FFT round-off around silence after a loud burst must not reach the log (was NaN).
  x = np.zeros((1, 4096), np.float32)
  x[0, :1024] = 100 * np.sin(2 * np.pi * 1000 * np.arange(1024) / SR)
  out = np.asarray(_apply(jn.MorletFilterbank(sr=SR, n_filters=8, hop_length=128), x))
  assert np.all(np.isfinite(out))


def test_batch_axes_batch_invariance_jit_vmap(rng):
  x = rng.standard_normal((2, 3, 2048)).astype(np.float32)
  fb = jn.MorletFilterbank(sr=SR, n_filters=6, hop_length=128)
  out = _apply(fb, x)
  assert out.shape == (2, 3, 6, 17) and out.dtype == jnp.float32
  # one signal alone == inside the batch; vmap == the batched call. (Eager == jit is not checked
  # here: the first eager call compiles every primitive, ~4 s on the shared 2-core machine.)
  np.testing.assert_allclose(np.asarray(_apply(fb, x[1, 2])), np.asarray(out[1, 2]), atol=1e-4)
  graphdef, state = nnx.split(fb)
  vm = jax.jit(jax.vmap(lambda s, x: nnx.merge(graphdef, s)(x), in_axes=(None, 0)))(state, x)
  np.testing.assert_allclose(np.asarray(vm), np.asarray(out), atol=1e-4)


def test_morlet_equals_cwt_at_decimated_samples(rng):
  with jax.enable_x64(True):
    n = 3000
    x = rng.standard_normal((2, n))
    fc, q = np.array([500.0, 1200.0, 3000.0]), np.array([4.0, 8.0, 20.0])
    sigma = fc / (q * fe_mod._HALF_POWER)
    grid = fe_mod._make_grid(n, 64, 4, n)
    resp = fe_mod._responses(grid, SR, jnp.asarray(fc), jnp.asarray(sigma), "peak")
    P = np.asarray(fe_mod._decimated_power(jnp.asarray(x), resp, grid))
    B = fc**2 / (2 * np.pi**2 * sigma**2)  # the "cmor" bandwidth of these filters
    W = jd.cwt(jnp.asarray(x), freqs=fc, sr=SR, wavelet="cmor", bandwidth=jnp.asarray(B),
               center=1.0, normalization="l1")
    ref = np.abs(np.asarray(W)) ** 2
    idx = np.arange(0, n, grid.M)
    np.testing.assert_allclose(P[..., : idx.size], ref[..., idx], atol=1e-9 * ref.max())


def test_morlet_unit_cosine_gives_zero_log_magnitude():
  # norm="peak": a unit cosine at a filter's centre has |W| = 1, so the pooled log-magnitude is 0.
  fb = jn.MorletFilterbank(sr=SR, init=[1000.0, 2500.0], q=[5.0, 10.0], hop_length=128)
  t = np.arange(4096) / SR
  x = np.stack([np.cos(2 * np.pi * f * t) for f in (1000.0, 2500.0)]).astype(np.float32)
  out = np.asarray(_apply(fb, x))
  for i in range(2):
    np.testing.assert_allclose(out[i, i, 8:-8], 0.0, atol=2e-3)
  np.testing.assert_allclose(np.asarray(fb.center_frequencies()), [1000.0, 2500.0], rtol=1e-6)
  np.testing.assert_allclose(np.asarray(fb.quality_factors()), [5.0, 10.0], rtol=1e-5)


def test_morlet_energy_norm_white_noise_power(rng):
  # norm="energy": white noise of variance s² gives mean power s² in every filter.
  fb = jn.MorletFilterbank(sr=SR, init=[300.0, 1000.0, 3000.0], q=[2.0, 8.0, 30.0],
                           hop_length=128, norm="energy")
  x = 0.5 * rng.standard_normal((4, 16384)).astype(np.float32)
  power = np.exp(2 * np.asarray(_apply(fb, x), np.float64)).mean(axis=(0, 2))
  np.testing.assert_allclose(power, 0.25, rtol=0.15)


def test_mel_grid_init_and_bounds():
  fb = jn.MorletFilterbank(sr=16000, n_filters=10, fmin=0.0)
  edges = jd.mel_to_hz(np.linspace(0.0, jd.hz_to_mel(8000.0), 12))
  np.testing.assert_allclose(np.asarray(fb.center_frequencies()), edges[1:-1], rtol=1e-5)
  # the smooth clip keeps any raw value inside (0, Nyquist) and above the bandwidth floor
  fb.log_center[...] = jnp.full((10,), 50.0)
  fb.log_q[...] = jnp.full((10,), 50.0)
  f = np.asarray(fb.center_frequencies())
  assert np.all(f < 8000.0) and np.all(f > 7900.0)
  assert np.all(np.asarray(fb.bandwidths()) >= 16.0 * 0.99)
  leaf = jn.Leaf(sr=16000, n_filters=10, fmin=0.0)
  np.testing.assert_allclose(np.asarray(leaf.center_frequencies()), edges[1:-1], rtol=1e-5)
  # LEAF's init: the Gabor's FWHM (amplitude) equals the mel triangle's
  fwhm = (edges[2:] - edges[:-2]) / 2
  np.testing.assert_allclose(np.asarray(leaf.bandwidths()) * math.sqrt(2), fwhm, rtol=1e-5)


def test_logmel_and_learnable_mel_match_melspectrogram(rng):
  x = rng.standard_normal((2, 4000)).astype(np.float32)
  ref = np.log(np.asarray(jd.melspectrogram(x, sr=SR, n_fft=256, hop_length=64, n_mels=20)))
  for fe in (jn.LogMel(sr=SR, n_fft=256, hop_length=64, n_mels=20),
             jn.LearnableMel(sr=SR, n_fft=256, hop_length=64, n_mels=20, trainable_window=True)):
    np.testing.assert_allclose(np.asarray(_apply(fe, x)), ref, atol=1e-5, rtol=1e-5)
  assert not jax.tree.leaves(nnx.state(jn.LogMel(sr=SR, n_mels=8), nnx.Param))


def test_pcen_matches_numpy_and_is_finite_on_silence(rng):
  E = rng.uniform(0, 2, (2, 3, 40)) ** 2
  kw = dict(alpha=0.8, delta=1.5, r=0.4, smooth=0.1, eps=1e-6)

  def ref(E):
    M = np.empty_like(E)
    M[..., 0] = E[..., 0]
    for t in range(1, E.shape[-1]):
      M[..., t] = (1 - kw["smooth"]) * M[..., t - 1] + kw["smooth"] * E[..., t]
    return (E / (kw["eps"] + M) ** kw["alpha"] + kw["delta"]) ** kw["r"] - kw["delta"] ** kw["r"]

  with jax.enable_x64(True):
    p64 = jn.PCEN(3, param_dtype=jnp.float64, **kw)
    np.testing.assert_allclose(np.asarray(_apply(p64, E)), ref(E), rtol=1e-12, atol=1e-12)
  np.testing.assert_allclose(np.asarray(_apply(jn.PCEN(3, **kw), E.astype(np.float32))), ref(E),
                             rtol=1e-5, atol=1e-5)
  pcen = jn.PCEN(3)
  silence = jnp.zeros((2, 3, 20))
  assert np.all(np.asarray(_apply(pcen, silence)) == 0.0)
  _, grads = _value_and_grads(pcen, silence)
  assert all(np.all(np.isfinite(np.asarray(v))) for v in jax.tree.leaves(grads))


def test_leaf_finite_on_silence():
  leaf = jn.Leaf(sr=SR, n_filters=4, hop_length=128)
  value, grads = _value_and_grads(leaf, jnp.zeros((2, 1024)), lambda o: jnp.sum(o + o**2))
  assert float(value) == 0.0  # PCEN of silence is exactly 0
  assert all(np.all(np.isfinite(np.asarray(v))) for v in jax.tree.leaves(grads))


def test_soft_envelope_and_smooth_zcr():
  y = np.sin(2 * np.pi * np.arange(4096) / 37.0).astype(np.float32) * np.linspace(0, 1, 4096,
                                                                                   dtype=np.float32)
  exact = np.asarray(jd.amplitude_envelope(y, frame_length=256, hop_length=128))
  sharp = jn.SoftEnvelope(frame_length=256, hop_length=128, temperature=1e-3)
  smooth = jn.SoftEnvelope(frame_length=256, hop_length=128, temperature=1e3, trainable=False)
  zcr = jn.SmoothZCR(frame_length=256, hop_length=128)
  stack = jn.FeatureStack([jn.LogMel(sr=SR, n_fft=256, hop_length=128, n_mels=6), sharp, smooth,
                           zcr])
  out = np.asarray(_apply(stack, y[None]))
  assert out.shape == (1, 9, 33)
  # τ → 0: the maximum, within τ·log(frame_length) below it
  np.testing.assert_allclose(out[0, 6], exact, atol=1e-3 * math.log(256) + 1e-5)
  # τ → ∞: the mean
  mean = np.pad(y, 128)[np.arange(33)[:, None] * 128 + np.arange(256)].mean(axis=-1)
  np.testing.assert_allclose(out[0, 7], mean, atol=1e-3)
  np.testing.assert_allclose(out[0, 8], np.asarray(
      jd.zero_crossing_rate_smooth(y, frame_length=256, hop_length=128)), atol=1e-6)


# ---------------------------------------------------------------------------------------------
# Gradients: finite and equal to float64 finite differences, every parameter.


def _check_grads(make, x, seed=0, h=1e-6, rtol=1e-6):
  with jax.enable_x64(True):
    module = make()
    graphdef, params, rest = nnx.split(module, nnx.Param, ...)
    x = jnp.asarray(x, jnp.float64)
    shape = jax.eval_shape(lambda p, x: nnx.merge(graphdef, p, rest)(x), params, x).shape
    g_out = jnp.asarray(np.random.default_rng(seed).standard_normal(shape))

    def loss(p):
      return jnp.sum(nnx.merge(graphdef, p, rest)(x) * g_out)

    grads = jax.jit(jax.grad(loss))(params)
    flat_p, treedef = jax.tree.flatten(params)
    flat_g = jax.tree.leaves(grads)
    assert flat_p, "module has no parameters"
    loss_jit = jax.jit(loss)
    rng = np.random.default_rng(seed + 1)
    for i, (p, g) in enumerate(zip(flat_p, flat_g)):
      assert p.dtype == jnp.float64
      assert np.all(np.isfinite(np.asarray(g)))
      scale = float(np.mean(np.abs(np.asarray(p)))) or 1.0  # a step on the parameter's scale
      v = jnp.asarray(scale * rng.standard_normal(p.shape))

      def shifted(eps, i=i, v=v):
        leaves = list(flat_p)
        leaves[i] = leaves[i] + eps * v
        return loss_jit(jax.tree.unflatten(treedef, leaves))

      fd = (shifted(h) - shifted(-h)) / (2 * h)
      an = jnp.vdot(g, v)
      np.testing.assert_allclose(float(an), float(fd), rtol=rtol, atol=1e-8 * abs(float(fd)) + 1e-9)
    return len(flat_p)


@pytest.fixture(scope="module")
def signal64(rng):
  t = np.arange(1024) / SR
  return (np.sin(2 * np.pi * 1200 * t) + 0.3 * rng.standard_normal((2, 1024)))


def test_grad_morlet(signal64):
  for norm in ("peak", "energy"):
    n = _check_grads(lambda: jn.MorletFilterbank(sr=SR, n_filters=4, fmin=300.0, fmax=3000.0,
                                                 init="log", hop_length=128, norm=norm,
                                                 param_dtype=jnp.float64), signal64)
    assert n == 2  # log_center, log_q


def test_grad_leaf(signal64):
  n = _check_grads(lambda: jn.Leaf(sr=SR, n_filters=3, fmin=200.0, hop_length=128,
                                   param_dtype=jnp.float64), signal64)
  assert n == 7  # centre, bandwidth, pool width; PCEN alpha, delta, r, smoothing


def test_grad_learnable_mel_and_window(signal64):
  n = _check_grads(lambda: jn.LearnableMel(sr=SR, n_fft=128, hop_length=64, n_mels=4,
                                           trainable_window=True, param_dtype=jnp.float64),
                   signal64)
  assert n == 2  # filters, window


def test_grad_soft_envelope_and_zcr(signal64):
  assert _check_grads(lambda: jn.SoftEnvelope(frame_length=128, hop_length=64, temperature=0.3,
                                              param_dtype=jnp.float64), signal64) == 1
  with jax.enable_x64(True):
    zcr = jn.SmoothZCR(frame_length=128, hop_length=64, temperature=0.5)
    x = jnp.asarray(signal64[0])
    v = jnp.asarray(np.random.default_rng(3).standard_normal(x.shape))
    loss = jax.jit(lambda x: jnp.sum(zcr(x) ** 2))
    g = jax.jit(jax.grad(loss))(x)
    assert np.all(np.isfinite(np.asarray(g)))
    fd = (loss(x + 1e-6 * v) - loss(x - 1e-6 * v)) / 2e-6
    np.testing.assert_allclose(float(jnp.vdot(g, v)), float(fd), rtol=1e-6)


# ---------------------------------------------------------------------------------------------
# A filter finds a tone an octave away.


@functools.partial(jax.jit, static_argnums=(0, 4))
def _descend(graphdef, params, rest, x, steps):
  """``steps`` Adam steps (cosine-decayed lr 0.05) on ``-mean(log-magnitude)``; final centre (Hz)."""
  tx = optax.adam(optax.cosine_decay_schedule(0.05, steps))

  def step(carry, _):
    p, s = carry
    g = jax.grad(lambda p: -jnp.mean(nnx.merge(graphdef, p, rest)(x)))(p)
    u, s = tx.update(g, s, p)
    return (optax.apply_updates(p, u), s), None

  (params, _), _ = jax.lax.scan(step, (params, tx.init(params)), None, length=steps)
  return nnx.merge(graphdef, params, rest).center_frequencies()[0]


def _find_tone(start_hz, tone_hz, q, steps=150, seed=0):
  rng = np.random.default_rng(seed)
  t = np.arange(2048) / SR
  x = np.sin(2 * np.pi * tone_hz * t + rng.uniform(0, 6)) + 0.2 * rng.standard_normal(t.size)
  # fixed ranges: every run has the same graph (one compilation for all)
  fb = jn.MorletFilterbank(sr=SR, init=[start_hz], q=q, hop_length=256, norm="energy",
                           freq_range=(100.0, 3990.0), min_bandwidth=8.0)
  graphdef, params, rest = nnx.split(fb, nnx.Param, ...)
  return float(_descend(graphdef, params, rest, jnp.asarray(x[None].astype(np.float32)), steps))


@pytest.mark.parametrize("start_hz,tone_hz", [(1000.0, 2000.0), (1600.0, 800.0)])
def test_filter_moves_an_octave_to_a_tone(start_hz, tone_hz):
  # Wide start (Q = 1) + unit-energy filters + log-Hz/log-Q under Adam: reaches the tone.
  assert abs(_find_tone(start_hz, tone_hz, q=1.0) / tone_hz - 1) < 5e-3
  # Started narrow (Q = 20), the tone is ~30 Gaussian widths away: no gradient reaches it.
  assert abs(_find_tone(start_hz, tone_hz, q=20.0) / tone_hz - 1) > 0.2


# ---------------------------------------------------------------------------------------------
# Training helpers and plumbing into CNN / fit.


class _Model(nnx.Module):
  """A front-end and a classifier layer, as in ``CNN(..., frontend=...)``."""

  def __init__(self):
    self.frontend = jn.MorletFilterbank(sr=SR, n_filters=4, hop_length=256)
    self.dense = nnx.Linear(4, 3, rngs=nnx.Rngs(0))


def test_frontend_optimizer_uses_its_own_learning_rate():
  model = _Model()
  tx = jn.frontend_optimizer(frontend_lr=0.5, backbone_lr=1e-3, optimizer="sgd")
  params = nnx.state(model, nnx.Param)
  grads = jax.tree.map(jnp.ones_like, params)
  updates, _ = tx.update(grads, tx.init(params), params)
  flat = {"/".join(str(getattr(k, "key", k)) for k in path[:2]): np.asarray(v)
          for path, v in jax.tree_util.tree_leaves_with_path(updates)}
  assert {k for k in flat if k.startswith("frontend")} == {"frontend/log_center", "frontend/log_q"}
  for k, v in flat.items():
    np.testing.assert_allclose(v, -0.5 if k.startswith("frontend") else -1e-3, rtol=1e-6)


def test_filter_movement():
  fb = jn.MorletFilterbank(sr=SR, init=[500.0, 1000.0], q=4.0, hop_length=128)
  m0 = jn.filter_movement(fb)
  np.testing.assert_allclose(m0["center_shift_hz"], 0.0, atol=1e-3)
  fb.log_center[...] = fb.log_center[...] + jnp.log(2.0)  # one octave up
  m = jn.filter_movement(fb)
  np.testing.assert_allclose(m["center_hz"], [1000.0, 2000.0], rtol=1e-3)
  # (the smooth clip into freq_range bends log-Hz by < 1e-3 this far from its bounds)
  np.testing.assert_allclose(m["center_shift_octaves"], 1.0, rtol=1e-3)
  np.testing.assert_allclose(m["bandwidth_ratio"], 2.0, rtol=1e-3)  # same Q, twice the Hz
  cb = jn.filter_movement_callback(frontend_attr="", per_filter=True)
  out = cb(1, fb, {})
  assert out["filters/center_shift_hz_max"] == pytest.approx(1000.0, rel=1e-3)
  assert out["filters/center_shift_hz"].shape == (2,)
  mel = jn.LearnableMel(sr=SR, n_fft=256, n_mels=5)
  np.testing.assert_allclose(jn.filter_movement(mel)["bandwidth_ratio"], 1.0, rtol=1e-6)


# ---------------------------------------------------------------------------------------------
# Errors.


def test_bad_arguments_raise():
  with pytest.raises(ValueError, match="hop_length"):
    jn.MorletFilterbank(sr=SR, hop_length=130, oversample=4)
  with pytest.raises(ValueError, match="norm"):
    jn.MorletFilterbank(sr=SR, norm="l2")
  with pytest.raises(ValueError, match="init"):
    jn.MorletFilterbank(sr=SR, init=[5000.0])
  with pytest.raises(ValueError, match="q"):
    jn.MorletFilterbank(sr=SR, init=[1000.0], q=-1.0)
  with pytest.raises(ValueError, match="freq_range"):
    jn.MorletFilterbank(sr=SR, freq_range=(10.0, 5000.0))
  with pytest.raises(ValueError, match="min_bandwidth"):
    jn.MorletFilterbank(sr=SR, init=[1000.0], q=100.0, min_bandwidth=20.0)
  with pytest.raises(ValueError, match="compression"):
    jn.Leaf(sr=SR, compression="cube")
  with pytest.raises(ValueError, match="smooth"):
    jn.PCEN(4, smooth=1.5)
  with pytest.raises(ValueError, match="E must have shape"):
    jn.PCEN(4)(jnp.ones((2, 3, 5)))
  with pytest.raises(TypeError, match="x must be a floating"):
    jn.MorletFilterbank(sr=SR, n_filters=2)(np.ones(512, np.int16))
  stack = jn.FeatureStack([jn.LogMel(sr=SR, n_fft=256, hop_length=64, n_mels=4),
                           jn.SmoothZCR(frame_length=256, hop_length=128)])
  with pytest.raises(ValueError, match="same number of frames"):
    jax.eval_shape(stack, jax.ShapeDtypeStruct((1024,), jnp.float32))
  with pytest.raises(ValueError, match="frontend_attr"):
    jn.frontend_optimizer(frontend_attr="")
  with pytest.raises(ValueError, match="frontend must have learnable filters"):
    jn.filter_movement(jn.SmoothZCR())


# ---------------------------------------------------------------------------------------------
# The example, quick mode.


def test_example_quick(tmp_path):
  # The example's quick mode: a tone-finding run and one epoch of fit() on a Morlet front-end
  # with frontend_optimizer and filter_movement_callback (the fit/CNN plumbing end to end).
  spec = importlib.util.spec_from_file_location("learnable_frontend",
                                                ROOT / "examples" / "learnable_frontend.py")
  mod = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(mod)
  summary = mod.main(["--quick", "--out", str(tmp_path)])
  assert (tmp_path / "learnable_frontend.png").exists()
  assert (tmp_path / "summary.json").exists()
  assert 0.0 <= summary["morlet"]["test_accuracy"] <= 1.0
  assert summary["morlet"]["center_shift_hz_mean"][-1] > 0.0  # logged by the callback
  wide = summary["tone"]["wide start (Q=1)"]["final_hz"]
  narrow = summary["tone"]["narrow start (Q=20)"]["final_hz"]
  assert abs(wide - 2000.0) < abs(narrow - 2000.0)


def test_eager_call_is_one_compiled_program(rng):
  """An eager call runs the whole forward pass as one program (op by op, Leaf compiled 139
  operations one by one), and gives the values of the call under the caller's jit."""
  x = jnp.asarray(rng.standard_normal((2, 3001)).astype(np.float32))  # a length no other test uses
  E = jnp.asarray(rng.random((2, 6, 11)).astype(np.float32))
  for module, arg in [(jn.Leaf(sr=SR, n_filters=6), x), (jn.MorletFilterbank(sr=SR, n_filters=6), x),
                      (jn.LearnableCQT(sr=SR, n_bins=12, fmin=200.0), x), (jn.PCEN(6), E),
                      (jn.LearnableMel(sr=SR, n_mels=6, n_fft=256, hop_length=64), x),
                      (jn.SoftEnvelope(frame_length=256, hop_length=64), x)]:
    with count_compiles() as compiles:
      eager = module(arg)
    assert len(compiles) == 1, (type(module).__name__, len(compiles))
    graphdef, state = nnx.split(module)
    jitted = jax.jit(lambda s, a: nnx.merge(graphdef, s)(a))(state, arg)
    np.testing.assert_allclose(eager, jitted, rtol=1e-6, atol=1e-6)
