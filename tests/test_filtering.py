"""lfilter, lfilter_zi, sosfilt, filtfilt, fftconvolve, fir_filter and time_varying_allpole against
scipy.signal on the clips in tests/data.

Tolerances held: float32 ``lfilter`` within 4 × scipy's own float32 error (scipy run on float32
coefficients and data, both measured against scipy in float64), floored at 1e-6 of the peak (measured:
orders 1–4 at 1e-7–4e-6, the same as scipy's float32; order 8 within 1.6× of it); float64 within
1e-10 of the peak (measured ≤ 3e-12); zi/zf, sosfilt, filtfilt, lfilter_zi to 1e-12 in float64;
time_varying_allpole within 4 × the sequential float32 recursion's error.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.signal as ss
from jax.test_util import check_grads

import jaxdsp as jd
from audio_corpus import load_clip

N = 11025  # 0.5 s at 22.05 kHz


@pytest.fixture(scope="module")
def clips():
  return np.stack([load_clip(c)[0][:N] for c in ("speech_22k", "music_22k", "chirp_22k")]).astype(np.float32)


DESIGNS = {
    "butter1": ss.butter(1, 0.1), "butter2": ss.butter(2, 0.15), "cheby1_3": ss.cheby1(3, 1, 0.25),
    "butter4": ss.butter(4, 0.2), "cheby1_6": ss.cheby1(6, 0.5, 0.3), "butter8": ss.butter(8, 0.15),
    "cheby1_8": ss.cheby1(8, 1, 0.3), "fir5_iir2": (np.array([0.2, 0.3, 0.1, -0.1, 0.05]), np.array([1.0, -0.5, 0.2])),
}


def _pad9(c):
  return np.pad(c, (0, 9 - len(c)))  # all designs share one compiled shape (zeros change nothing)


def test_lfilter_matches_scipy_float32_and_float64(clips):
  for name, (b, a) in DESIGNS.items():
    ref = ss.lfilter(b, a, clips.astype(np.float64))
    peak = np.abs(ref).max()
    scipy32 = np.abs(ss.lfilter(b.astype(np.float32), a.astype(np.float32), clips) - ref).max() / peak
    ours32 = np.asarray(jd.lfilter(clips, b=_pad9(b).astype(np.float32), a=_pad9(a).astype(np.float32)))
    err32 = np.abs(ours32 - ref).max() / peak
    assert err32 <= max(4 * scipy32, 1e-6), (name, err32, scipy32)
    with jax.enable_x64(True):
      ours64 = np.asarray(jd.lfilter(clips.astype(np.float64), b=_pad9(b), a=_pad9(a)))
    assert ours64.dtype == np.float64
    np.testing.assert_allclose(ours64, ref, rtol=0, atol=1e-10 * peak, err_msg=name)


def test_lfilter_low_frequency_biquads_match_scipy(clips):
  """Lightly damped, slowly decaying filters (poles at 0.9993 of the unit circle) stay at scipy's float32 error."""
  sr = 44100
  for f, q, g in [(50.0, 5.0, 6.0), (30.0, 20.0, -12.0)]:
    with jax.enable_x64(True):
      b, a = (np.asarray(c) for c in jd.equalizer_biquad_coeffs(sample_rate=sr, center_freq=f, gain=g, Q=q))
    ref = ss.lfilter(b, a, clips.astype(np.float64))
    peak = np.abs(ref).max()
    scipy32 = np.abs(ss.lfilter(b.astype(np.float32), a.astype(np.float32), clips) - ref).max() / peak
    ours32 = np.abs(np.asarray(jd.lfilter(clips, b=b.astype(np.float32), a=a.astype(np.float32))) - ref).max() / peak
    assert ours32 <= max(4 * scipy32, 1e-6), (f, ours32, scipy32)


@pytest.mark.parametrize("length", [5, 300])
def test_zi_zf_match_scipy(clips, length):
  b, a = ss.butter(3, 0.2)
  b, a = 2 * b, 2 * a  # a[0] != 1: normalised like scipy
  zi = np.random.default_rng(12345).standard_normal((3, 3))
  with jax.enable_x64(True):
    y, zf = jd.lfilter(clips[:, :length].astype(np.float64), b=b, a=a, zi=zi)
    y_ref, zf_ref = ss.lfilter(b, a, clips[:, :length].astype(np.float64), zi=zi)
    np.testing.assert_allclose(y, y_ref, atol=1e-12)
    np.testing.assert_allclose(zf, zf_ref, atol=1e-12)
    # axis=0 with the state on axis 0, and a longer numerator than denominator
    zi4 = np.concatenate([zi, zi[:, :1]], axis=1)
    y0, zf0 = jd.lfilter(clips[:, :length].T.astype(np.float64), b=np.r_[b, 0.3], a=a, zi=zi4.T, axis=0)
    y0_ref, zf0_ref = ss.lfilter(np.r_[b, 0.3], a, clips[:, :length].T.astype(np.float64), zi=zi4.T, axis=0)
    np.testing.assert_allclose(y0, y0_ref, atol=1e-12)
    np.testing.assert_allclose(zf0, zf0_ref, atol=1e-12)


def test_sosfilt_filtfilt_lfilter_zi_match_scipy(clips):
  x = clips.astype(np.float64)
  sos = ss.butter(8, 0.05, output="sos")  # ill-conditioned as one transfer function, fine as sections
  b, a = ss.cheby1(4, 1, 0.2)
  zi = np.random.default_rng(0).standard_normal((sos.shape[0], 3, 2))
  with jax.enable_x64(True):
    np.testing.assert_allclose(jd.sosfilt(x, sos=sos), ss.sosfilt(sos, x), atol=1e-12)
    y, zf = jd.sosfilt(x, sos=sos, zi=zi)
    y_ref, zf_ref = ss.sosfilt(sos, x, zi=zi)
    np.testing.assert_allclose(y, y_ref, atol=1e-12)
    np.testing.assert_allclose(zf, zf_ref, atol=1e-12)
    np.testing.assert_allclose(jd.lfilter_zi(b=b, a=a), ss.lfilter_zi(b, a), atol=1e-12)
    for kw in [dict(), dict(padtype="even"), dict(padtype="constant")]:  # one compiled shape
      np.testing.assert_allclose(jd.filtfilt(x, b=b, a=a, **kw), ss.filtfilt(b, a, x, **kw), atol=1e-11)
  y32 = np.asarray(jd.sosfilt(clips, sos=sos.astype(np.float32)))
  ref = ss.sosfilt(sos, x)
  assert np.abs(y32 - ref).max() <= 1e-5 * np.abs(ref).max()


def test_fftconvolve_and_fir_filter_match_scipy(clips):
  h = np.random.default_rng(1).standard_normal(200).astype(np.float32) * 0.1
  for mode in ("full", "same", "valid"):
    np.testing.assert_allclose(jd.fftconvolve(clips, h, mode=mode),
                               ss.fftconvolve(clips, h[None], mode=mode, axes=-1), atol=2e-6)
  np.testing.assert_allclose(jd.fftconvolve(h, clips[0], mode="valid"), ss.fftconvolve(h, clips[0], mode="valid"),
                             atol=2e-6)
  for taps in (h[:7], h):  # shifted sums, and FFT for long filters
    np.testing.assert_allclose(jd.fir_filter(clips, h=taps), ss.lfilter(taps, [1.0], clips), atol=2e-6)


def _tv_reference(x, a):
  y = np.zeros_like(x)
  for n in range(x.shape[-1]):
    acc = x[..., n].copy()
    for k in range(1, a.shape[-1] + 1):
      if n - k >= 0:
        acc -= a[..., n, k - 1] * y[..., n - k]
    y[..., n] = acc
  return y


def test_time_varying_allpole(clips):
  rng = np.random.default_rng(2)
  x = clips[:, :400].astype(np.float64)
  # slowly moving stable resonator: poles at radius 0.95, angle sweeping
  theta = np.linspace(0.1, 1.0, 400)
  a = np.stack([-2 * 0.95 * np.cos(theta), np.full(400, 0.95 ** 2)], axis=-1) + 0.01 * rng.standard_normal((3, 400, 2))
  with jax.enable_x64(True):
    np.testing.assert_allclose(jd.time_varying_allpole(x, a=a), _tv_reference(x, a), atol=1e-12)
    b_, a_ = ss.butter(2, 0.2)
    const = np.broadcast_to(a_[1:] , (400, 2))
    np.testing.assert_allclose(jd.time_varying_allpole(x, a=const), ss.lfilter([1.0], a_, x), atol=1e-12)
  # float32: the chunked scan (12 blocks per row here) is as accurate as the sequential float32 recursion
  ref = _tv_reference(x, a)
  seq32 = np.abs(_tv_reference(x.astype(np.float32), a.astype(np.float32)) - ref).max()
  ours32 = np.abs(np.asarray(jd.time_varying_allpole(x.astype(np.float32), a=a.astype(np.float32))) - ref).max()
  assert ours32 <= max(4 * seq32, 1e-6 * np.abs(ref).max()), (ours32, seq32)


def test_jit_vmap_batched_coefficients_and_gradients(clips):
  b, a = (c.astype(np.float32) for c in ss.butter(4, 0.2))
  x = jnp.asarray(clips[:, :2000])
  eager = jd.lfilter(x, b=b, a=a)
  vm = jax.jit(jax.vmap(lambda row, b, a: jd.lfilter(row, b=b, a=a), in_axes=(0, None, None)))(x, b, a)
  # jit∘vmap == loop, to float32 round-off (the block layout, hence the rounding, depends on the batch size)
  np.testing.assert_allclose(vm, np.stack([jd.lfilter(row, b=b, a=a) for row in x]), rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(vm, eager, rtol=1e-5, atol=1e-6)
  # one filter per example (batched, differentiable coefficients) == a loop
  bs = np.stack([ss.butter(2, f)[0] for f in (0.1, 0.2, 0.3)]).astype(np.float32)
  as_ = np.stack([ss.butter(2, f)[1] for f in (0.1, 0.2, 0.3)]).astype(np.float32)
  np.testing.assert_allclose(jd.lfilter(x, b=bs, a=as_),
                             np.stack([ss.lfilter(bs[i], as_[i], clips[i, :2000]) for i in range(3)]), atol=1e-5)
  # gradients vs finite differences (float64, small)
  with jax.enable_x64(True):
    xs = jnp.asarray(clips[:2, :256], jnp.float64)
    b64, a64 = (jnp.asarray(c) for c in ss.cheby1(3, 1, 0.3))
    zi = jnp.asarray([[0.1, -0.2, 0.05]] * 2)
    w = jnp.asarray(np.random.default_rng(3).standard_normal((2, 256)))
    # both modes (custom_linear_solve): reverse by transposition, forward through the tangent filter
    # jitted: each check's evaluations share one compiled program (eager, every primitive compiles apart)
    check_grads(jax.jit(lambda x, b, a, z: jd.lfilter(x, b=b, a=a, zi=z)[0] * w), (xs, b64, a64, zi), order=1,
                modes=("rev", "fwd"))
    check_grads(jax.jit(lambda x, h: jd.fftconvolve(x, h)), (xs, xs[0, :31]), order=1, modes=("rev",))
    atv = jnp.broadcast_to(jnp.asarray([-0.9, 0.4]), (2, 256, 2))
    check_grads(jax.jit(lambda x, a: jd.time_varying_allpole(x, a=a)), (xs, atv), order=1, modes=("rev", "fwd"))
    # forward and reverse Jacobians agree (the coefficients of a filter on a 256-sample clip): one program
    loss = lambda a: jd.lfilter(xs[0], b=b64, a=a)[::16]
    jf, jr = jax.jit(lambda a: (jax.jacfwd(loss)(a), jax.jacrev(loss)(a)))(a64)
    np.testing.assert_allclose(jf, jr, rtol=1e-10, atol=1e-12)
    # grad under jit and vmap of a filter-fitting loss: finite
    g = jax.jit(jax.grad(lambda a: jnp.sum(jax.vmap(lambda r: jd.lfilter(r, b=b64, a=a))(xs) ** 2)))(a64)
    assert np.all(np.isfinite(g))


def _dot_precisions(jaxpr):
  """The ``precision`` of every ``dot_general`` in a jaxpr, nested jaxprs (jit, scan, linear solves) included."""
  out = []
  for eqn in jaxpr.eqns:
    if eqn.primitive.name == "dot_general":
      out.append(eqn.params["precision"])
    for value in eqn.params.values():
      for sub in value if isinstance(value, (tuple, list)) else (value,):
        sub = getattr(sub, "jaxpr", sub)
        if hasattr(sub, "eqns"):
          out += _dot_precisions(sub)
  return out


def test_block_matmuls_ask_for_float32_precision():
  """GPUs (TF32) and TPUs (bfloat16) round float32 matmul inputs at JAX's default precision; emulating that
  rounding, a 50 Hz peaking biquad at 44.1 kHz errs 1.6e2 × its peak (TF32) or NaN (bfloat16). Every block
  matmul of the forward pass, the forward-mode tangent and the gradient (shared and per-row filters) asks
  for ``Precision.HIGHEST`` (the same computation as the default on CPU, so the other tests hold)."""
  x, b, a = jnp.ones((2, 300)), jnp.array([0.2, 0.3, 0.1]), jnp.array([1.0, -0.5, 0.2])
  loss = lambda x, b, a: jnp.sum(jd.lfilter(x, b=b, a=a) ** 2)
  jaxprs = [jax.make_jaxpr(jax.grad(loss, argnums=(0, 1, 2)))(x, b, a),
            jax.make_jaxpr(jax.grad(loss, argnums=(0, 1, 2)))(x, jnp.stack([b, b]), jnp.stack([a, a])),
            jax.make_jaxpr(lambda a: jax.jvp(lambda a: jd.lfilter(x, b=b, a=a), (a,), (a,)))(a)]
  for jaxpr in jaxprs:
    precisions = _dot_precisions(jaxpr.jaxpr)
    assert len(precisions) >= 10  # forward, refinement and adjoint solves all found
    assert all(p == (jax.lax.Precision.HIGHEST,) * 2 for p in precisions), precisions


def test_bad_input():
  x = np.zeros(64, np.float32)
  with pytest.raises(ValueError, match="a\\[0\\]"):
    jd.lfilter(x, b=[1.0], a=[0.0, 1.0])
  with pytest.raises(ValueError, match="zi"):
    jd.lfilter(x, b=[1.0, 0.5], a=[1.0, -0.5, 0.1], zi=np.zeros(3))
  with pytest.raises(ValueError, match="x contains non-finite"):
    jd.lfilter(np.array([0.0, np.nan], np.float32), b=[1.0], a=[1.0])
  with pytest.raises(ValueError, match="b contains non-finite"):
    jd.lfilter(x, b=[np.inf], a=[1.0])
  with pytest.raises(TypeError, match="x must be a floating"):
    jd.lfilter(np.zeros(4, np.int16), b=[1.0], a=[1.0])
  with pytest.raises(ValueError, match="axis"):
    jd.lfilter(x, b=[1.0], a=[1.0], axis=2)
  with pytest.raises(ValueError, match="b's leading"):
    jd.lfilter(np.zeros((3, 64), np.float32), b=np.ones((2, 2)), a=[1.0])
  with pytest.raises(ValueError, match="sos must have shape"):
    jd.sosfilt(x, sos=np.ones((2, 5)))
  with pytest.raises(ValueError, match="zi must have shape"):
    jd.sosfilt(x, sos=np.ones((2, 6)), zi=np.zeros((3, 2)))
  with pytest.raises(ValueError, match="padlen"):
    jd.filtfilt(x[:5], b=[1.0, 0.5], a=[1.0, -0.5])
  with pytest.raises(ValueError, match="padtype"):
    jd.filtfilt(x, b=[1.0, 0.5], a=[1.0, -0.5], padtype="zero")
  with pytest.raises(ValueError, match="mode"):
    jd.fftconvolve(x, x, mode="circular")
  with pytest.raises(ValueError, match="a must have shape"):
    jd.time_varying_allpole(x, a=np.zeros((10, 2)))
  with pytest.raises(ValueError, match="must not be empty"):
    jd.fir_filter(x, h=np.zeros(0, np.float32))
  # checks run at trace time, under jit too
  with pytest.raises(ValueError, match="zi"):
    jax.jit(lambda x: jd.lfilter(x, b=jnp.ones(2), a=jnp.ones(3), zi=jnp.zeros(1)))(x)
  # concrete coefficient arrays closed over by a jitted function are checked, not refused
  b, a = jnp.asarray([0.5, 0.5]), jnp.asarray([1.0, -0.5])
  sos = jnp.concatenate([b, jnp.zeros(1), a, jnp.zeros(1)])[None]
  y = jax.jit(lambda x: jd.lfilter(x, b=b, a=a))(x + 1)
  np.testing.assert_allclose(y, ss.lfilter([0.5, 0.5], [1.0, -0.5], x + 1), rtol=1e-6)
  sos0 = sos.at[0, 3].set(0.0)
  with pytest.raises(ValueError, match="sos\\[..., 3\\]"):
    jax.jit(lambda x: jd.sosfilt(x, sos=sos0))(x)
