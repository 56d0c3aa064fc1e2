"""Bad input raises a ValueError/TypeError that names the argument, directly and under jit."""

import jax
import numpy as np
import pytest

import jaxdsp as jd

Y = np.random.default_rng(12345).standard_normal(2048).astype(np.float32)

BAD_CALLS = [
    # (call, exception, message fragment naming the argument)
    (lambda: jd.stft(np.zeros(0, np.float32)), ValueError, "y must not be empty"),
    (lambda: jd.stft(np.float32(1.0)), ValueError, "y must have at least 1 dimension"),
    (lambda: jd.rms(np.zeros((2, 0), np.float32)), ValueError, "y must not be empty"),
    (lambda: jd.stft(Y, n_fft=4096, center=False), ValueError, "n_fft=4096 is longer than the signal"),
    (lambda: jd.rms(Y[:100], frame_length=2048, center=False), ValueError, "frame_length=2048 is longer"),
    (lambda: jd.stft(Y, hop_length=0), ValueError, "hop_length must be a positive int"),
    (lambda: jd.rms(Y, hop_length=-3), ValueError, "hop_length must be a positive int"),
    (lambda: jd.frame(Y, frame_length=16, hop_length=2.5), ValueError, "hop_length must be a positive int"),
    (lambda: jd.stft(Y, n_fft=256, win_length=512), ValueError, "win_length must be <= n_fft"),
    (lambda: jd.stft(Y, n_fft=0), ValueError, "n_fft must be a positive int"),
    (lambda: jd.spectral_centroid(Y, sr=0), ValueError, "sr must be a positive finite number"),
    (lambda: jd.spectral_centroid(Y, sr=-22050), ValueError, "sr must be a positive finite number"),
    (lambda: jd.melspectrogram(Y, sr=float("nan")), ValueError, "sr must be a positive finite number"),
    (lambda: jd.melspectrogram(Y, sr=float("inf")), ValueError, "sr must be a positive finite number"),
    (lambda: jd.features(Y, sr="22050"), TypeError, "sr must be a positive finite number"),
    (lambda: jd.stft(Y, window="hanning-ish"), ValueError, "window must be one of"),
    (lambda: jd.get_window("kaiser", 16), ValueError, "window must be one of"),
    (lambda: jd.stft(Y, window=np.ones(100)), ValueError, "window array must have shape"),
    (lambda: jd.stft(Y, pad_mode="mirror"), ValueError, "pad_mode must be one of"),
    (lambda: jd.stft(np.where(np.arange(2048) == 5, np.nan, Y).astype(np.float32)), ValueError,
     "y contains non-finite values"),
    (lambda: jd.rms(np.full(4096, np.inf, np.float32)), ValueError, "y contains non-finite values"),
    (lambda: jd.stft(np.arange(4096, dtype=np.int16)), TypeError, "y must be a floating-point array"),
    (lambda: jd.rms(np.ones(4096, bool)), TypeError, "y must be a floating-point array"),
    (lambda: jd.stft(Y + 1j * Y), TypeError, "y must be a real floating-point array"),
    (lambda: jd.spectral_bandwidth(Y, p=0), ValueError, "p must be a positive"),
    (lambda: jd.spectral_rolloff(Y, roll_percent=1.5), ValueError, "roll_percent must be a number in (0, 1)"),
    (lambda: jd.power_to_db(np.ones((4, 4), np.float32), amin=0.0), ValueError, "amin must be a positive"),
    (lambda: jd.power_to_db(np.ones((4, 4), np.float32), top_db=-1.0), ValueError, "top_db must be a non-negative"),
    (lambda: jd.mel_filterbank(sr=16000, n_fft=512, fmax=9000.0), ValueError, "fmax must be in"),
    (lambda: jd.mel_filterbank(sr=16000, n_fft=512, norm="max"), ValueError, "norm must be 'slaney'"),
    (lambda: jd.mel_filterbank(sr=16000, n_fft=512, n_mels=0), ValueError, "n_mels must be a positive int"),
    (lambda: jd.mfcc(Y, n_mels=10, n_mfcc=20), ValueError, "n_mfcc must be <= n_mels"),
    (lambda: jd.mfcc(Y, dct_type=3), ValueError, "dct_type must be 2"),
    (lambda: jd.rms(S=np.ones((100, 5), np.float32), frame_length=2048), ValueError, "frame_length must be 198 or 199"),
    (lambda: jd.rms(), ValueError, "one of y or S is required"),
    (lambda: jd.spectral_centroid(), ValueError, "one of y or S is required"),
    (lambda: jd.spectral_centroid(Y, S=np.ones((1025, 5), np.float32)), ValueError, "pass either y or S"),
    (lambda: jd.istft(np.ones(10, np.complex64)), ValueError, "stft_matrix must have shape"),
    (lambda: jd.istft(np.ones((513, 4), np.complex64), n_fft=512), ValueError, "does not match stft_matrix"),
    (lambda: jd.features(Y, names=("rms", "loudness")), ValueError, "names must be one of"),
    (lambda: jd.stft(Y, center="yes"), TypeError, "center must be a bool"),
    (lambda: jd.zero_crossing_rate_smooth(Y, temperature=0.0), ValueError, "temperature must be a positive"),
    (lambda: jd.num_frames(0), ValueError, "n_samples must be a positive int"),
]


@pytest.mark.parametrize("i", range(len(BAD_CALLS)))
def test_bad_input_raises_naming_the_argument(i):
  call, exc, fragment = BAD_CALLS[i]
  with pytest.raises(exc) as info:
    call()
  assert fragment in str(info.value)


def test_errors_fire_at_trace_time_under_jit():
  with pytest.raises(ValueError, match="hop_length must be a positive int"):
    jax.jit(lambda y: jd.rms(y, hop_length=0))(Y)
  with pytest.raises(ValueError, match="n_fft=4096 is longer than the signal"):
    jax.jit(lambda y: jd.stft(y, n_fft=4096, center=False))(Y)
  with pytest.raises(TypeError, match="y must be a floating-point array"):
    jax.jit(jd.spectral_flatness)(np.arange(4096, dtype=np.int32))


def test_short_clip_with_centring_works():
  """A clip shorter than one frame is fine when centred (librosa warns and pads)."""
  short = Y[:1000]
  assert jd.stft(short).shape == (1025, 2)
  assert jd.rms(short).shape == (2,)
