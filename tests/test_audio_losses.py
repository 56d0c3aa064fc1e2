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


REFS = _references()


def test_losses_equal_auraloss():
  for name, (module, fn, sign) in REFS.items():
    ref = module(_torch(P), _torch(T)).item()  # auraloss flattens (batch, channels) as jaxdsp does
    got = sign * float(fn(P, T))
    assert got == pytest.approx(ref, rel=RTOL, abs=1e-6), (name, got, ref)


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
  assert float(jd.stft_loss(0.5 * noise, noise, w_sc=0.0)) == pytest.approx(np.log(2), rel=1e-5)
  assert float(jd.stft_loss(0.5 * noise, noise, w_log_mag=0.0)) == pytest.approx(0.5, rel=1e-5)


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


SMALL = dict(fft_sizes=(64, 128, 32), hop_sizes=(16, 32, 8), win_lengths=(48, 96, 32))
LOSSES = {
    "mrstft": lambda p, t: jd.multi_resolution_stft_loss(p, t, **SMALL),
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
  x = rng.standard_normal((8, 2048)).astype(np.float32)
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
    jd.stft_loss(p, p, window="kaiser")
  with pytest.raises(ValueError, match="same length"):
    jd.multi_resolution_stft_loss(p, p, fft_sizes=(512,), hop_sizes=(128, 64), win_lengths=(512,))
  with pytest.raises(ValueError, match="win_lengths"):
    jd.stft_loss(p, p, fft_size=256, win_length=512)
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
