"""framing: frame, pad_center, windows, grids and the padding rules, against librosa/scipy/NumPy."""

import librosa
import numpy as np
import pytest
import scipy.signal

import jaxdsp as jd
from jaxdsp import _core

RNG = np.random.default_rng(12345)
Y = RNG.standard_normal(3001).astype(np.float32)


@pytest.mark.parametrize("frame_length,hop_length", [(256, 64), (256, 100), (1, 1), (3001, 7)])
def test_frame_matches_librosa(frame_length, hop_length):
  np.testing.assert_array_equal(
      jd.frame(Y, frame_length=frame_length, hop_length=hop_length),
      librosa.util.frame(Y, frame_length=frame_length, hop_length=hop_length),
  )


def test_frame_batched_and_complex():
  y = RNG.standard_normal((2, 3, 500)) + 1j * RNG.standard_normal((2, 3, 500))
  out = jd.frame(y.astype(np.complex64), frame_length=64, hop_length=32)
  np.testing.assert_allclose(out, librosa.util.frame(y, frame_length=64, hop_length=32), atol=1e-6)


@pytest.mark.parametrize("window", ["hann", "hamming", "blackman", "boxcar"])
@pytest.mark.parametrize("fftbins", [True, False])
@pytest.mark.parametrize("n", [1, 2, 7, 512])
def test_windows_match_scipy(window, fftbins, n):
  np.testing.assert_allclose(jd.get_window(window, n, fftbins=fftbins),
                             scipy.signal.get_window(window, n, fftbins=fftbins), atol=1e-7)


def test_symmetric_hann_is_numpy_hanning():
  np.testing.assert_allclose(jd.get_window("hann", 100, fftbins=False), np.hanning(100), atol=1e-7)


def test_pad_center_matches_librosa():
  x = np.arange(5.0)
  np.testing.assert_array_equal(jd.pad_center(x, size=10), librosa.util.pad_center(x, size=10))
  x2 = RNG.standard_normal((3, 4))
  np.testing.assert_allclose(jd.pad_center(x2, size=9, axis=0), librosa.util.pad_center(x2, size=9, axis=0),
                             atol=1e-6)


def test_grids_match_librosa():
  np.testing.assert_allclose(jd.fft_frequencies(sr=22050, n_fft=2048), librosa.fft_frequencies(sr=22050, n_fft=2048))
  frames = np.arange(50)
  np.testing.assert_allclose(jd.frames_to_time(frames, sr=16000, hop_length=160),
                             librosa.frames_to_time(frames, sr=16000, hop_length=160))
  np.testing.assert_array_equal(jd.frames_to_samples(frames, hop_length=256, n_fft=1024),
                                librosa.frames_to_samples(frames, hop_length=256, n_fft=1024))
  times = np.linspace(0, 3, 31)
  np.testing.assert_array_equal(jd.time_to_frames(times, sr=22050, hop_length=512),
                                librosa.time_to_frames(times, sr=22050, hop_length=512))
  samples = np.arange(0, 5000, 37)
  np.testing.assert_array_equal(jd.samples_to_frames(samples, hop_length=128, n_fft=512),
                                librosa.samples_to_frames(samples, hop_length=128, n_fft=512))


@pytest.mark.parametrize("n", [1000, 2048, 22050])
@pytest.mark.parametrize("center", [True, False])
def test_num_frames_agrees_with_stft(n, center):
  if n < 1024 and not center:
    with pytest.raises(ValueError, match="frame_length"):
      jd.num_frames(n, frame_length=1024, hop_length=256, center=center)
    return
  assert jd.num_frames(n, frame_length=1024, hop_length=256, center=center) == \
      librosa.stft(np.zeros(n, np.float32), n_fft=1024, hop_length=256, center=center).shape[-1]


def test_course_scheme_is_center_false_wrap():
  # The course frames at every hop from sample 0 (range(0, len, hop)), the tail filled by wrapping.
  n, L, H = 1000, 256, 128
  assert jd.num_frames(n, frame_length=L, hop_length=H, center=False, pad_mode="wrap") == len(range(0, n, H))
  yp = np.pad(Y[:n], (0, L), mode="wrap")
  expected = np.stack([yp[i:i + L] for i in range(0, n, H)])
  frames = _core.frames(np.asarray(Y[:n]), L, H, False, "wrap")
  np.testing.assert_array_equal(frames, expected)


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric", "wrap"])
def test_center_padding_modes_match_numpy(mode):
  frames = _core.frames(Y[:300], 64, 16, True, mode)
  expected = librosa.util.frame(np.pad(Y[:300], 32, mode=mode), frame_length=64, hop_length=16).T
  np.testing.assert_array_equal(frames, expected)


def test_frame_reduce_equals_frames_reduce():
  for L, H in [(256, 64), (250, 60)]:
    for center, mode in [(True, "constant"), (True, "reflect"), (False, "constant"), (False, "wrap")]:
      frames = _core.frames(Y, L, H, center, mode)
      np.testing.assert_allclose(_core.frame_reduce(Y, L, H, center, mode, "sum"), frames.sum(-1),
                                 rtol=1e-5, atol=1e-4)
      np.testing.assert_array_equal(_core.frame_reduce(Y, L, H, center, mode, "max"), frames.max(-1))


def test_overlap_add_inverts_framing_of_ones():
  for L, H in [(64, 16), (64, 24)]:
    frames = np.ones((2, 10, L), np.float32)
    out = _core.overlap_add(frames, H)
    count = np.zeros(L + H * 9)
    for t in range(10):
      count[t * H:t * H + L] += 1
    np.testing.assert_array_equal(out, np.broadcast_to(count, (2, count.size)))
