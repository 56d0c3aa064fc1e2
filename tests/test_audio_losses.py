"""Audio losses (jaxdsp.losses) against auraloss 0.4 on CPU torch, and as losses for ``jaxdsp.nn.fit``.

Tolerance held: 1e-5 relative to auraloss (measured ≤ 1e-6) for the multi-resolution (default,
hamming/L2/linear, mel), single and mel STFT losses, SI-SDR, SNR and ESR, on a batch of speech vs
music, noisy speech vs speech (0.37 s of the clips) and noise pairs; ``reduction="none"`` equals
auraloss on each example alone. Gradients: directional derivative equals a float32 central
difference to 1 % (256 samples).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxdsp as jd
from audio_corpus import load_clip

auraloss = pytest.importorskip("auraloss")
torch = pytest.importorskip("torch")
torch.set_num_threads(2)

RTOL = 1e-5
N = 8192


def _batch():
  """Rows: speech vs music, noisy speech vs speech (0.37 s of the clips), random vs correlated noise."""
  speech, _ = load_clip("speech_22k")
  music, _ = load_clip("music_22k")
  speech, music = speech[4096:4096 + N], music[:N]
  rng = np.random.default_rng(12345)
  noisy = speech + 0.01 * rng.standard_normal(N)
  a = rng.standard_normal(N)
  b = 0.5 * a + rng.standard_normal(N)
  return np.stack([speech, noisy, a]).astype(np.float32), np.stack([music, speech, b]).astype(np.float32)


P, T = _batch()


def _torch(x):
  x = np.array(x)  # a writable copy
  return torch.from_numpy(x.reshape((-1, 1, x.shape[-1])) if x.ndim < 3 else x)


# (auraloss module, jaxdsp function, sign): auraloss's SI-SDR and SNR are the negated metrics.
def _references():
  sr = 22050
  return {
      "mrstft": (auraloss.freq.MultiResolutionSTFTLoss(), jd.multi_resolution_stft_loss, 1),
      "mrstft_sum": (auraloss.freq.MultiResolutionSTFTLoss(reduction="sum"),
                     lambda p, t: jd.multi_resolution_stft_loss(p, t, reduction="sum"), 1),
      "mrstft_l2_lin_hamming": (
          auraloss.freq.MultiResolutionSTFTLoss(fft_sizes=[512, 256], hop_sizes=[128, 64], win_lengths=[400, 256],
                                                window="hamming_window", w_lin_mag=0.5, mag_distance="L2"),
          lambda p, t: jd.multi_resolution_stft_loss(p, t, fft_sizes=(512, 256), hop_sizes=(128, 64),
                                                     win_lengths=(400, 256), window="hamming", w_lin_mag=0.5,
                                                     mag_distance="l2"), 1),
      "stft": (auraloss.freq.STFTLoss(), jd.stft_loss, 1),
      "mel": (auraloss.freq.MelSTFTLoss(sr, n_mels=128), lambda p, t: jd.mel_stft_loss(p, t, sr=sr), 1),
      "mr_mel": (auraloss.freq.MultiResolutionSTFTLoss(scale="mel", n_bins=64, sample_rate=sr),
                 lambda p, t: jd.multi_resolution_stft_loss(p, t, scale="mel", n_bins=64, sr=sr), 1),
      "si_sdr": (auraloss.time.SISDRLoss(), jd.si_sdr, -1),
      "snr": (auraloss.time.SNRLoss(), jd.snr, -1),
      "esr": (auraloss.time.ESRLoss(), jd.esr, 1),
  }


def test_losses_equal_auraloss():
  for name, (module, fn, sign) in _references().items():  # built here, not at import (in every xdist worker)
    ref = module(_torch(P), _torch(T)).item()  # auraloss flattens (batch, channels) as jaxdsp does
    got = sign * float(fn(P, T))
    assert got == pytest.approx(ref, rel=RTOL, abs=1e-6), (name, got, ref)


# auraloss's options, on a crop of the batch (2 rows, 4096 samples, one 512-point resolution).
OPT = dict(fft_size=512, hop_size=128, win_length=400)
P2, T2 = P[:2, :4096], T[:2, :4096]
# The phase term on the noise pair: on the speech and music rows low-level bins near the negative
# real axis fall on either side of ±π by float32 rounding (measured 4.6e-4 relative there).
PN, TN = P[1:, :4096], T[1:, :4096]  # noisy speech vs speech; noise


class _SnappedSTFTLoss(auraloss.freq.STFTLoss):
  """auraloss's STFTLoss whose phase puts the bins on the negative real axis (within 1e-5 of their
  frame's largest magnitude: rounding noise) at π, as jaxdsp does; torch.stft's rounding throws them
  to π or -π at random (the first frame of a centred STFT is real)."""

  def stft(self, x):
    mag, _ = super().stft(x)
    s = torch.stft(x, self.fft_size, self.hop_size, self.win_length, self.window, return_complex=True)
    phase = torch.angle(s)
    cut = (s.real < 0) & (s.imag.abs() <= 1e-5 * s.abs().amax(-2, keepdim=True))
    return mag, torch.where(cut, torch.full_like(phase, np.pi), phase)


def _chroma_stft_loss(sr, n_bins, **kw):
  """auraloss 0.4's STFTLoss(scale="chroma") fails to build (its NumPy filterbank is not registered as a
  tensor); the same module with librosa's chroma filterbank as a tensor."""
  librosa = pytest.importorskip("librosa")
  module = auraloss.freq.STFTLoss(scale="mel", sample_rate=sr, n_bins=n_bins, **kw)
  module.scale = "chroma"
  module.fb = torch.tensor(librosa.filters.chroma(sr=sr, n_fft=kw["fft_size"], n_chroma=n_bins))
  return module


def _option_references():
  sr = 22050
  return {  # name: (auraloss module, jaxdsp keyword arguments, rows)
      "w_phs": (_SnappedSTFTLoss(**OPT, w_phs=0.5), dict(OPT, w_phs=0.5), -1),
      "w_phs_only_sum": (_SnappedSTFTLoss(**OPT, w_sc=0.0, w_log_mag=0.0, w_phs=1.0, reduction="sum"),
                         dict(OPT, w_sc=0.0, w_log_mag=0.0, w_phs=1.0, reduction="sum"), -1),
      "perceptual_weighting": (auraloss.freq.STFTLoss(**OPT, perceptual_weighting=True, sample_rate=sr),
                               dict(OPT, perceptual_weighting=True, sample_rate=sr), 2),
      "scale_invariance": (auraloss.freq.STFTLoss(**OPT, scale_invariance=True), dict(OPT, scale_invariance=True),
                           1),  # auraloss broadcasts its per-example gain only for one example
      "chroma": (_chroma_stft_loss(sr, 12, **OPT), dict(OPT, scale="chroma", sample_rate=sr, n_bins=12), 2),
      "kaiser_eps": (auraloss.freq.STFTLoss(**OPT, window="kaiser_window", eps=1e-4),
                     dict(OPT, window="kaiser_window", eps=1e-4), 2),
  }


def test_auraloss_options_equal_auraloss():
  for name, (module, kwargs, rows) in _option_references().items():
    p, t = (PN[1:], TN[1:]) if rows == -1 else (P2[:rows], T2[:rows])  # -1: the noise pair
    ref = module(_torch(p), _torch(t)).item()
    got = float(jd.stft_loss(p, t, **kwargs))
    assert got == pytest.approx(ref, rel=RTOL), (name, got, ref)
  # output="full": the loss and the unweighted terms, per resolution (auraloss: lists).
  kw = dict(fft_sizes=[512, 256], hop_sizes=[128, 64], win_lengths=[400, 256], w_lin_mag=0.5, w_phs=0.1)
  module = auraloss.freq.MultiResolutionSTFTLoss(**kw, output="full")
  module.stft_losses = torch.nn.ModuleList(
      [_SnappedSTFTLoss(f, h, w, w_lin_mag=0.5, w_phs=0.1, output="full") for f, h, w in zip(*list(kw.values())[:3])])
  ref = module(_torch(PN[1:]), _torch(TN[1:]))  # the noise pair
  kw_jd = {k: tuple(v) if isinstance(v, list) else v for k, v in kw.items()}
  got = jd.multi_resolution_stft_loss(PN[1:], TN[1:], **kw_jd, output="full")
  assert float(got[0]) == pytest.approx(ref[0].item(), rel=RTOL)
  for term_ref, term in zip(ref[1:], got[1:]):
    assert term.shape == (2,)
    np.testing.assert_allclose(term, [v.item() for v in term_ref], rtol=RTOL)


def test_reduction_none_is_auraloss_per_example():
  mr = jd.multi_resolution_stft_loss(P, T, reduction="none")
  sisdr = jd.si_sdr(P, T, reduction="none")
  assert mr.shape == sisdr.shape == (3,)
  module = auraloss.freq.MultiResolutionSTFTLoss()
  for i in range(3):
    p, t = _torch(P[i]), _torch(T[i])
    assert float(mr[i]) == pytest.approx(module(p, t).item(), rel=RTOL), i
    assert -float(sisdr[i]) == pytest.approx(auraloss.time.SISDRLoss()(p, t).item(), rel=RTOL), i
  np.testing.assert_allclose(jd.si_sdr(P, T, reduction="sum"), np.sum(sisdr), rtol=1e-6)


def test_closed_forms():
  t = np.sin(np.arange(2048) / 7.0).astype(np.float32)
  assert float(jd.multi_resolution_stft_loss(t, t)) == pytest.approx(0.0, abs=1e-6)
  # Scaling by 0.5: SI-SDR is scale-invariant (high), SNR = 10·log10(1/0.25) = 6.02 dB, ESR = 0.25.
  assert float(jd.si_sdr(0.5 * t, t)) > 60
  assert float(jd.snr(0.5 * t, t)) == pytest.approx(10 * np.log10(4), rel=1e-4)
  assert float(jd.esr(0.5 * t, t)) == pytest.approx(0.25, rel=1e-5)
  # The log-magnitude term of a gain g is |log g| in every bin (noise: no bin under the eps floor),
  # the spectral convergence term |1 - g|.
  noise = np.random.default_rng(0).standard_normal(4096).astype(np.float32)
  # (one compile: output="full" returns both unweighted terms)
  loss, sc, log_mag, lin_mag, phs = jd.stft_loss(0.5 * noise, noise, output="full")
  assert float(log_mag) == pytest.approx(np.log(2), rel=1e-5)
  assert float(sc) == pytest.approx(0.5, rel=1e-5)
  assert float(loss) == pytest.approx(0.5 + np.log(2), rel=1e-5) and float(lin_mag) == float(phs) == 0.0
  # The phase term: 0 for equal signals, and a finite gradient, silence (angle of an exact 0) included.
  phase = lambda p, t: jd.stft_loss(p, t, fft_size=64, hop_size=16, win_length=64, w_sc=0.0, w_log_mag=0.0,
                                    w_phs=1.0)
  assert float(phase(noise[:256], noise[:256])) == 0.0
  for p in (noise[:256], np.zeros(256, np.float32)):
    assert np.all(np.isfinite(jax.jit(jax.grad(phase))(p, noise[:256])))


def test_feature_loss_mfcc_equals_librosa_distance():
  librosa = pytest.importorskip("librosa")
  p, t = P[0], T[0]
  loss = jd.feature_loss("mfcc", sr=22050, n_mfcc=13)
  ref = np.mean(np.abs(librosa.feature.mfcc(y=p, sr=22050, n_mfcc=13) - librosa.feature.mfcc(y=t, sr=22050, n_mfcc=13)))
  assert float(loss(p, t)) == pytest.approx(ref, rel=1e-3)
  assert float(loss(t, t)) == 0.0
  # A callable feature, reduction "none" per example, L2.
  rms_l2 = jd.feature_loss(jd.rms, distance="l2", reduction="none", frame_length=512, hop_length=256)
  a, b = P, T
  ref = np.mean((librosa.feature.rms(y=a, frame_length=512, hop_length=256)
                 - librosa.feature.rms(y=b, frame_length=512, hop_length=256)) ** 2, axis=(-2, -1))
  assert ref.shape == (3,)
  np.testing.assert_allclose(rms_l2(a, b), ref, rtol=1e-4)


SMALL = dict(fft_sizes=(64, 32), hop_sizes=(16, 8), win_lengths=(48, 32))
LOSSES = {
    # With auraloss's options in the same compiled check (the phase term jumps by 2π where a bin
    # crosses the negative real axis: not finite-difference checked, its gradient is checked finite in
    # test_closed_forms; L2: scale invariance brings many magnitudes close, where L1 has kinks).
    "mrstft": lambda p, t: (jd.multi_resolution_stft_loss(p, t, **SMALL)
                            + jd.stft_loss(p, t, fft_size=64, hop_size=16, win_length=48, w_lin_mag=0.5,
                                           mag_distance="l2", perceptual_weighting=True, sample_rate=8000,
                                           scale_invariance=True)),
    "mel": lambda p, t: jd.mel_stft_loss(p, t, sr=8000, fft_size=128, hop_size=32, win_length=128, n_mels=16),
    "si_sdr": jd.si_sdr,
    "snr": jd.snr,
    "esr": jd.esr,
    "mfcc": jd.feature_loss("mfcc", sr=8000, n_fft=128, hop_length=32, n_mels=16, n_mfcc=8),
}


@pytest.mark.parametrize("name", list(LOSSES))
def test_jit_vmap_grad(name):
  fn = LOSSES[name]
  rng = np.random.default_rng(0)
  p, t = (rng.standard_normal((2, 256)) * 0.5).astype(np.float32), rng.standard_normal((2, 256)).astype(np.float32)
  direction = rng.standard_normal(p.shape).astype(np.float32)
  eps = 1e-3

  @jax.jit
  def everything(p, t, d):
    fd = (fn(p + eps * d, t) - fn(p - eps * d, t)) / (2 * eps)
    return fn(p, t), jax.vmap(fn)(p, t), fn(p[1], t[1]), jax.grad(fn)(p, t), fd

  value, per_example, second, grad, fd = everything(p, t, direction)
  assert float(value) == pytest.approx(float(fn(p, t)), rel=1e-5)  # jit == called directly
  np.testing.assert_allclose(per_example[1], second, rtol=1e-5)  # vmap == loop
  assert np.all(np.isfinite(grad)) and np.any(grad != 0)
  # The gradient's directional derivative equals the central finite difference (float32).
  analytic = float(np.sum(np.asarray(grad, np.float64) * direction))
  assert abs(analytic - float(fd)) <= 1e-2 * abs(analytic) + 1e-4, (analytic, float(fd))


def test_usable_with_fit():
  from flax import nnx

  class Gain(nnx.Module):
    def __init__(self):
      self.g = nnx.Param(jnp.asarray(0.2))

    def __call__(self, x):
      return self.g[...] * x

  rng = np.random.default_rng(1)
  x = rng.standard_normal((8, 1024)).astype(np.float32)
  model = Gain()
  loss = lambda p, t: jd.multi_resolution_stft_loss(p, t, **SMALL)
  import optax
  hist = jd.nn.fit(model, (x, 0.8 * x), loss=loss, optimizer="adam", learning_rate=optax.linear_schedule(0.06, 0.0, 30),
                   epochs=30, batch_size=8, progress=False)
  assert hist["loss"][-1] < 0.2 * hist["loss"][0]
  assert abs(float(model.g[...]) - 0.8) < 0.05


def test_bad_input_names_the_argument():
  p = np.zeros((2, 4096), np.float32)
  with pytest.raises(ValueError, match="targets"):
    jd.multi_resolution_stft_loss(p, p[:1])
  with pytest.raises(ValueError, match="reduction"):
    jd.multi_resolution_stft_loss(p, p, reduction="max")
  with pytest.raises(ValueError, match="window"):
    jd.stft_loss(p, p, window="tukey")
  with pytest.raises(ValueError, match="same length"):
    jd.multi_resolution_stft_loss(p, p, fft_sizes=(512,), hop_sizes=(128, 64), win_lengths=(512,))
  with pytest.raises(ValueError, match="win_length"):
    jd.stft_loss(p, p, fft_size=256, win_length=512)
  with pytest.raises(ValueError, match="win_lengths"):
    jd.multi_resolution_stft_loss(p, p, fft_sizes=(256,), hop_sizes=(64,), win_lengths=(512,))
  with pytest.raises(ValueError, match="sample_rate"):
    jd.stft_loss(p, p, perceptual_weighting=True)
  with pytest.raises(TypeError, match="perceptual_weighting"):
    jd.stft_loss(p, p, perceptual_weighting=1, sample_rate=16000)
  with pytest.raises(TypeError, match="scale_invariance"):
    jd.stft_loss(p, p, scale_invariance="yes")
  with pytest.raises(ValueError, match="output"):
    jd.stft_loss(p, p, output="terms")
  with pytest.raises(ValueError, match="scale"):
    jd.stft_loss(p, p, scale="bark", sample_rate=16000, n_bins=8)
  with pytest.raises(ValueError, match="w_phs"):
    jd.stft_loss(p, p, w_phs=-1.0)
  with pytest.raises(ValueError, match="sample_rate"):
    jd.stft_loss(p, p, scale="mel", n_bins=8, sr=16000, sample_rate=22050)
  with pytest.raises(ValueError, match="n_mels"):
    jd.mel_stft_loss(p, p, sr=16000, n_mels=2000)
  with pytest.raises(ValueError, match="eps"):
    jd.snr(p, p, eps=0.0)
  with pytest.raises(ValueError, match="longer than fft_size"):
    jd.stft_loss(p[:, :400], p[:, :400])
  with pytest.raises(ValueError, match="mag_distance"):
    jd.stft_loss(p, p, mag_distance="l3")
  with pytest.raises(ValueError, match="n_bins"):
    jd.stft_loss(p, p, scale="mel", sr=16000)
  with pytest.raises(TypeError, match="predictions"):
    jd.esr(np.zeros(10, np.int32), np.zeros(10, np.float32))
  with pytest.raises(ValueError, match="eps"):
    jd.si_sdr(p, p, eps=-1.0)
  with pytest.raises(ValueError, match="name"):
    jd.feature_loss("not_a_feature")
  with pytest.raises(ValueError, match="distance"):
    jd.feature_loss("mfcc", distance="cosine")
  with pytest.raises(ValueError, match="targets"):  # checks run at trace time: same error under jit
    jax.jit(jd.multi_resolution_stft_loss)(p, p[:1])
