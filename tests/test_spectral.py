"""STFT, ISTFT, spectrogram and dB scaling against librosa 0.11 on the committed test audio.

Tolerances held (float32): STFT within 2e-6 × max|D| per clip (measured ≤ 3e-7); spectrogram the
same; dB within 2e-3 dB (measured ≤ 1e-5 dB where above the top_db floor); ISTFT reconstruction
within 1e-5 × max|y|.
"""

import librosa
import numpy as np
import pytest

import jaxdsp as jd
from audio_corpus import CLIPS, load_clip

# (n_fft, hop_length, win_length, center, pad_mode, window)
CONFIGS = {
    "default": dict(n_fft=2048, hop_length=512),
    "small_reflect": dict(n_fft=512, hop_length=128, pad_mode="reflect"),
    "uncentred_hamming": dict(n_fft=1024, hop_length=256, center=False, window="hamming"),
    "speech_25ms": dict(n_fft=512, hop_length=160, win_length=400),
}
MONO = [n for n in CLIPS if "stereo" not in n]


def _rel(a, b):
  return float(np.max(np.abs(np.asarray(a) - b)) / max(np.max(np.abs(b)), 1e-30))


@pytest.mark.parametrize("clip", MONO)
def test_stft_default_matches_librosa_on_every_clip(clip):
  y, _ = load_clip(clip)
  ref = librosa.stft(y)
  out = jd.stft(y)
  assert out.shape == ref.shape and out.dtype == np.complex64
  assert np.max(np.abs(np.asarray(out) - ref)) <= 2e-6 * max(np.max(np.abs(ref)), 1e-6)


@pytest.mark.parametrize("config", list(CONFIGS))
@pytest.mark.parametrize("clip", ["speech_16k", "music_44k", "chirp_22k"])
def test_stft_configs_match_librosa(clip, config):
  y, _ = load_clip(clip)
  kw = CONFIGS[config]
  assert _rel(jd.stft(y, **kw), librosa.stft(y, **kw)) < 2e-6


def test_stft_multichannel_matches_librosa():
  y, _ = load_clip("music_stereo_48k")
  assert y.ndim == 2
  assert _rel(jd.stft(y, n_fft=1024, hop_length=256), librosa.stft(y, n_fft=1024, hop_length=256)) < 2e-6


def test_stft_of_sinusoid_peaks_at_its_bin():
  sr, n_fft, k = 8000, 512, 37
  t = np.arange(8000) / sr
  y = np.sin(2 * np.pi * (k * sr / n_fft) * t).astype(np.float32)
  S = np.abs(np.asarray(jd.stft(y, n_fft=n_fft, hop_length=128)))
  assert np.all(np.argmax(S[:, 2:-2], axis=0) == k)
  # A periodic Hann window has coherent gain 1/2: peak magnitude = n_fft / 4 for a unit sine.
  np.testing.assert_allclose(S[k, 4:-4], n_fft / 4, rtol=1e-4)


@pytest.mark.parametrize("config", ["default", "small_reflect", "uncentred_hamming", "speech_25ms"])
def test_istft_matches_librosa_and_reconstructs(config):
  y, _ = load_clip("speech_16k")
  kw = CONFIGS[config]
  D = librosa.stft(y, **kw)
  inv = {k: v for k, v in kw.items() if k != "pad_mode"}
  out = np.asarray(jd.istft(D, length=len(y), **inv))
  ref = librosa.istft(D, length=len(y), **inv)
  tol = 1e-5 * np.max(np.abs(y)) + 1e-6
  if kw.get("center", True):  # centred frames cover every sample: perfect reconstruction
    np.testing.assert_allclose(out, y, atol=tol)
    np.testing.assert_allclose(out, ref, atol=tol)
  else:  # uncentred: the first/last samples are divided by a near-zero window sum in both
    edge = kw["n_fft"]
    np.testing.assert_allclose(out[edge:-edge], ref[edge:-edge], atol=tol)
    np.testing.assert_allclose(out[edge:-edge], y[edge:-edge], atol=tol)
  full, full_ref = np.asarray(jd.istft(D, **inv)), librosa.istft(D, **inv)
  assert full.shape == full_ref.shape


def test_istft_roundtrip_of_own_stft_batched():
  y = np.random.default_rng(12345).standard_normal((3, 5000)).astype(np.float32)
  out = jd.istft(jd.stft(y, n_fft=512, hop_length=128), hop_length=128, length=5000)
  np.testing.assert_allclose(out, y, atol=2e-5)


@pytest.mark.parametrize("power", [1.0, 2.0])
def test_spectrogram_matches_abs_stft(power):
  y, _ = load_clip("music_22k")
  ref = np.abs(librosa.stft(y, n_fft=1024, hop_length=256)) ** power
  assert _rel(jd.spectrogram(y, n_fft=1024, hop_length=256, power=power), ref) < 4e-6


@pytest.mark.parametrize("clip", ["speech_22k", "music_22k", "silence_22k", "noise_burst_22k"])
def test_db_matches_librosa(clip):
  y, _ = load_clip(clip)
  S = np.abs(librosa.stft(y, n_fft=1024, hop_length=256))
  for kw in [dict(), dict(ref=np.max), dict(ref=0.5, top_db=None), dict(amin=1e-3, top_db=40.0)]:
    np.testing.assert_allclose(jd.amplitude_to_db(S, **kw), librosa.amplitude_to_db(S, **kw), atol=2e-3)
    kwp = {k: (v ** 2 if k in ("ref", "amin") and not callable(v) else v) for k, v in kw.items()}
    np.testing.assert_allclose(jd.power_to_db(S ** 2, **kwp), librosa.power_to_db(S ** 2, **kwp), atol=2e-3)


def test_db_inverses():
  x = np.linspace(-80, 10, 50).astype(np.float32)
  np.testing.assert_allclose(jd.db_to_power(x, ref=2.0), librosa.db_to_power(x, ref=2.0), rtol=1e-5)
  np.testing.assert_allclose(jd.db_to_amplitude(x, ref=2.0), librosa.db_to_amplitude(x, ref=2.0), rtol=1e-5)
  S = np.abs(np.random.default_rng(12345).standard_normal((20, 30))).astype(np.float32) + 0.01
  np.testing.assert_allclose(jd.db_to_amplitude(jd.amplitude_to_db(S, top_db=None)), S, rtol=1e-5)


def test_top_db_is_per_example_in_a_batch():
  y1, _ = load_clip("speech_22k")
  y2 = 1e-3 * y1  # 60 dB quieter: librosa's global max would clip it differently in a batch
  S = np.abs(librosa.stft(np.stack([y1, y2]), n_fft=1024))
  batched = np.asarray(jd.amplitude_to_db(S, ref=np.max))
  for i in range(2):
    np.testing.assert_allclose(batched[i], librosa.amplitude_to_db(S[i], ref=np.max), atol=2e-3)
    np.testing.assert_allclose(batched[i], np.asarray(jd.amplitude_to_db(S[i], ref=np.max)), atol=1e-5)
