"""amplitude_envelope, rms, zero_crossing_rate(_smooth) against librosa, the course's formulas and
analytic answers. Tolerances held (float32): RMS within 1e-6 absolute (measured ≤ 2e-7); ZCR exact
(counts); envelope exact."""

import librosa
import numpy as np
import pytest

import jaxdsp as jd
from audio_corpus import CLIPS, load_clip

MONO = [n for n in CLIPS if "stereo" not in n]
FRAMINGS = [dict(), dict(frame_length=512, hop_length=128), dict(frame_length=1024, hop_length=300, center=False)]


@pytest.mark.parametrize("clip", MONO)
def test_rms_and_zcr_match_librosa_on_every_clip(clip):
  y, _ = load_clip(clip)
  for kw in FRAMINGS:
    if not kw.get("center", True) and len(y) < kw["frame_length"]:
      continue
    np.testing.assert_allclose(jd.rms(y, **kw), librosa.feature.rms(y=y, **kw)[0], atol=1e-6)
    np.testing.assert_allclose(jd.zero_crossing_rate(y, **kw), librosa.feature.zero_crossing_rate(y, **kw)[0],
                               atol=1e-7)


def test_rms_pad_modes_and_multichannel():
  y, _ = load_clip("music_stereo_48k")
  for mode in ["constant", "reflect", "edge"]:
    np.testing.assert_allclose(jd.rms(y, pad_mode=mode), librosa.feature.rms(y=y, pad_mode=mode)[:, 0], atol=1e-6)
  np.testing.assert_allclose(jd.zero_crossing_rate(y), librosa.feature.zero_crossing_rate(y)[:, 0], atol=1e-7)


@pytest.mark.parametrize("n_fft", [2048, 2047])
def test_rms_from_spectrogram_matches_librosa(n_fft):
  y, _ = load_clip("speech_22k")
  S = np.abs(librosa.stft(y, n_fft=n_fft))
  np.testing.assert_allclose(jd.rms(S=S, frame_length=n_fft), librosa.feature.rms(S=S, frame_length=n_fft)[0],
                             rtol=1e-5, atol=1e-7)


def test_course_formulas():
  """The course's list comprehensions, with the tail wrapped (center=False, pad_mode="wrap")."""
  y, _ = load_clip("music_22k")
  L, H = 1024, 512
  yp = np.pad(y, (0, L), mode="wrap")
  ae = np.array([yp[i:i + L].max() for i in range(0, len(y), H)])
  rms = np.array([np.sqrt(np.sum(yp[i:i + L] ** 2) / L) for i in range(0, len(y), H)])
  kw = dict(frame_length=L, hop_length=H, center=False, pad_mode="wrap")
  np.testing.assert_array_equal(jd.amplitude_envelope(y, **kw), ae)
  np.testing.assert_allclose(jd.rms(y, **kw), rms, atol=1e-6)


def test_envelope_centred_is_framewise_max():
  y, _ = load_clip("speech_16k")
  frames = librosa.util.frame(np.pad(y, 256), frame_length=512, hop_length=128)
  np.testing.assert_array_equal(jd.amplitude_envelope(y, frame_length=512, hop_length=128), frames.max(axis=0))


def test_analytic_answers():
  sr = 16000
  t = np.arange(sr) / sr
  sine = np.sin(2 * np.pi * 400 * t).astype(np.float32)  # 40 samples per period
  np.testing.assert_allclose(jd.rms(sine, frame_length=800, hop_length=400, center=False), 1 / np.sqrt(2),
                             rtol=1e-4)
  period = 16
  square = np.where((np.arange(sr) % period) < period // 2, 1.0, -1.0).astype(np.float32)
  zcr = np.asarray(jd.zero_crossing_rate(square, frame_length=1024, hop_length=512, center=False))
  np.testing.assert_allclose(zcr, (2 / period) * (1023 / 1024), atol=1 / 1024)  # 2 crossings per period
  assert np.all(np.asarray(jd.zero_crossing_rate(np.zeros(4096, np.float32))) == 0)


@pytest.mark.parametrize("clip", ["speech_22k", "music_22k", "chirp_22k"])
def test_smooth_zcr_tends_to_exact(clip):
  y, _ = load_clip(clip)
  exact = np.asarray(jd.zero_crossing_rate(y, frame_length=1024, hop_length=512))
  errs = [np.abs(np.asarray(jd.zero_crossing_rate_smooth(y, frame_length=1024, hop_length=512, temperature=t))
                 - exact).max() for t in (1e-1, 1e-3, 1e-6, 1e-9)]
  assert errs[3] <= errs[2] <= errs[1] <= errs[0] + 1e-9
  assert errs[3] <= 1e-4 * 1023 / 1024 + 1e-6  # each pair within 1e-4 of its exact 0/1


def test_smooth_zcr_is_zero_on_silence():
  assert float(np.max(jd.zero_crossing_rate_smooth(np.zeros(4096, np.float32)))) == 0.0
