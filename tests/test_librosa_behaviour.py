"""Behaviour librosa's (and PyWavelets') users rely on (issue 17), size checks before allocation and
degenerate inputs (issue 13 items 8 and 9), and librosa's resampling options (issue 15 item 7).

Values are compared with librosa 0.11 / PyWavelets at the tolerances stated per test; warnings are
checked with ``pytest.warns``; errors are ``ValueError``/``TypeError`` naming the argument, raised
directly and under ``jax.jit`` (the checks run on the Python arguments, before anything is traced).
"""

import warnings

import jax
import jax.numpy as jnp
import librosa
import numpy as np
import pytest
import pywt

import jaxdsp as jd
from audio_corpus import load_clip

# JAX's warning when it reads a persistent-cache entry that another test process is still writing
# (it then compiles the program itself): not a warning of the code under test.
_CACHE_RACE = "Error reading persistent compilation cache entry"

_RNG = np.random.default_rng(17)
_S_INT = _RNG.integers(0, 50, size=(65, 12))  # an integer "spectrogram", n_fft = 128
_Y = (0.1 * _RNG.standard_normal(2048)).astype(np.float32)


def _quiet(fn, *args, **kwargs):
  with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    return fn(*args, **kwargs)


# ---------------------------------------------------------------------------------------------
# 1. 0-d and integer input where librosa takes it.


def test_unit_conversions_take_scalars_and_integers_like_librosa():
  for fn, arg in ((jd.power_to_db, 1), (jd.power_to_db, 7), (jd.amplitude_to_db, 3), (jd.db_to_power, -10),
                  (jd.db_to_amplitude, -20), (jd.power_to_db, np.arange(1, 10)), (jd.db_to_power, np.arange(-5, 5))):
    out = fn(arg)
    ref = getattr(librosa, fn.__name__)(arg)
    assert out.shape == np.shape(ref) and out.dtype == jnp.float32, fn.__name__
    np.testing.assert_allclose(out, ref, rtol=1e-6, atol=1e-5, err_msg=fn.__name__)


def test_frame_takes_integer_signals_like_librosa():
  out = jd.frame(np.arange(32), frame_length=8, hop_length=4)
  ref = librosa.util.frame(np.arange(32), frame_length=8, hop_length=4)
  np.testing.assert_array_equal(out, ref)  # exact: framing only slices
  assert jnp.issubdtype(out.dtype, jnp.integer)


def test_S_inputs_take_integer_spectrograms_like_librosa():
  # Cast to float32 (librosa casts to float64): agreement to float32 round-off.
  np.testing.assert_allclose(jd.spectral_flatness(S=_S_INT), librosa.feature.spectral_flatness(S=_S_INT)[0],
                             rtol=1e-5, atol=1e-7)
  np.testing.assert_allclose(jd.mfcc(S=_S_INT, n_mfcc=13), librosa.feature.mfcc(S=_S_INT, n_mfcc=13),
                             rtol=1e-4, atol=1e-3)
  # librosa's centroid of an integer S is all zeros (an integer normalisation): compare with float S.
  np.testing.assert_allclose(jd.spectral_centroid(S=_S_INT, sr=8000),
                             librosa.feature.spectral_centroid(S=_S_INT.astype(float), sr=8000)[0], rtol=1e-5)


def test_integer_audio_is_refused_with_a_message_saying_to_convert():
  for fn in (jd.stft, jd.rms, jd.melspectrogram):
    with pytest.raises(TypeError, match=r"y must be a floating-point array \(convert it"):
      fn(np.arange(4096, dtype=np.int16))


# ---------------------------------------------------------------------------------------------
# 2. Complex input to the dB conversions.


@pytest.mark.parametrize("name", ["power_to_db", "amplitude_to_db"])
def test_complex_input_to_db_warns_and_takes_the_magnitude_like_librosa(name):
  D = librosa.stft(_Y, n_fft=256)
  with pytest.warns(UserWarning, match="phase is discarded"):
    out = getattr(jd, name)(D)
  with pytest.warns(UserWarning):  # librosa warns too
    ref = getattr(librosa, name)(D)
  np.testing.assert_allclose(out, ref, atol=2e-3)  # dB, float32 logarithm


# ---------------------------------------------------------------------------------------------
# 3. Warnings where librosa warns, once per call.


def test_stft_warns_when_n_fft_is_longer_than_the_signal_like_librosa():
  y = _Y[:200]
  with pytest.warns(UserWarning, match="n_fft=512 is too large"):
    out = jd.stft(y, n_fft=512, hop_length=128)
  with pytest.warns(UserWarning):
    ref = librosa.stft(y, n_fft=512, hop_length=128)
  np.testing.assert_allclose(out, ref, atol=1e-5)
  with warnings.catch_warnings():
    warnings.simplefilter("error")
    warnings.filterwarnings("ignore", message=_CACHE_RACE)
    jd.stft(y, n_fft=128, hop_length=32)  # no warning when it fits
    jd.stft(y, n_fft=128, hop_length=32, center=False)


def test_mel_filterbank_warns_on_empty_filters_like_librosa():
  with pytest.warns(UserWarning, match="39 of the n_mels=256 mel filters are empty"):
    fb = jd.mel_filterbank(sr=22050, n_fft=512, n_mels=256)
  with pytest.warns(UserWarning, match="Empty filters"):
    ref = librosa.filters.mel(sr=22050, n_fft=512, n_mels=256)
  np.testing.assert_allclose(fb, ref, rtol=1e-5, atol=1e-8)
  assert int(np.sum(np.asarray(fb).max(axis=1) == 0)) == 39


def _warnings_of(fn, *args, **kwargs):
  with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    fn(*args, **kwargs)
  return [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


def test_features_and_the_single_functions_warn_once_per_call():
  y = np.stack([_Y[:300]] * 3)  # a batch: still one warning per call, not one per row or frame
  msgs = _warnings_of(jd.features, y, sr=22050, n_fft=512, hop_length=128, n_mels=256, n_mfcc=13,
                      names=("melspectrogram", "mfcc", "spectral_centroid", "rms"))
  assert sum("n_fft=512 is too large" in m for m in msgs) == 1, msgs
  assert sum("mel filters are empty" in m for m in msgs) == 1, msgs
  assert len(msgs) == 2, msgs
  msgs = _warnings_of(jd.melspectrogram, _Y, n_fft=512, hop_length=256, n_mels=256)
  assert len(msgs) == 1 and "39 of the n_mels=256" in msgs[0]
  msgs = _warnings_of(jd.melspectrogram, S=np.ones((257, 4), np.float32), n_mels=256)
  assert len(msgs) == 1 and "mel filters are empty" in msgs[0]


def test_warnings_point_at_the_callers_line():
  with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    jd.stft(_Y[:100], n_fft=256)
  assert caught and caught[0].filename == __file__


# ---------------------------------------------------------------------------------------------
# 4. Errors where librosa raises, before any tracing.

_S = np.abs(librosa.stft(_Y, n_fft=256)).astype(np.float32)

ERRORS = [
    (lambda x: jd.stft(x, pad_mode="mirror"), "y", ValueError, "pad_mode must be one of"),
    (lambda x: jd.power_to_db(x, ref=lambda S, axis=None, keepdims=False: jnp.ones(3)), "S", ValueError,
     r"ref\(S, axis=\(-2, -1\), keepdims=True\) must have shape"),
    (lambda x: jd.power_to_db(x, ref=lambda S: S[:2]), "S", ValueError, "ref must reduce each example to a scalar"),
    (lambda x: jd.amplitude_to_db(x, ref=lambda S: "loud"), "S", TypeError, "ref"),
    (lambda x: jd.power_to_db(x, ref=np.ones(5)), "S", ValueError, "ref must be a scalar or an array broadcastable"),
    (lambda x: jd.power_to_db(x, ref=np.nan), "S", ValueError, "ref contains non-finite values"),
    (lambda x: jd.power_to_db(x, top_db=jnp.max), "S", TypeError, "top_db must be a real number"),
    (lambda x: jd.amplitude_to_db(x, amin=lambda S: 1e-5), "S", TypeError, "amin must be a real number"),
    (lambda x: jd.power_to_db(x, amin=0.0), "S", ValueError, "amin must be a positive"),
    (lambda x: jd.spectral_centroid(x, S=_S), "y", ValueError, "pass either y or S, not both"),
    (lambda x: jd.spectral_rolloff(), None, ValueError, "one of y or S is required"),
    (lambda x: jd.spectral_bandwidth(S=x[0]), "S", ValueError, "S must have at least 2 dimension"),
    (lambda x: jd.spectral_flatness(S=x * (1 + 1j)), "S", TypeError, "S must be a real floating-point array"),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors_where_librosa_raises_directly_and_under_jit(i):
  call, arg, exc, msg = ERRORS[i]
  x = _Y if arg == "y" else _S
  with pytest.raises(exc, match=msg):
    call(x)
  if arg is not None:
    with pytest.raises(exc, match=msg):
      jax.jit(call)(jnp.asarray(x))


# ---------------------------------------------------------------------------------------------
# 5. Bare "cmor" with compat="pywt" is PyWavelets' cmor1.0-0.5.


def test_bare_cmor_follows_pywavelets_in_compat_mode():
  y, _ = load_clip("chirp_22k")
  y = y[:2048]
  scales = np.array([2.0, 8.0, 32.0])
  with pytest.warns(FutureWarning, match="cmor1.0-0.5"):
    W = jd.cwt(y, scales, wavelet="cmor", compat="pywt")
  with pytest.warns(FutureWarning):
    ref, _ = pywt.cwt(y.astype(np.float64), scales, "cmor")
  np.testing.assert_allclose(W, ref, atol=1e-5 * np.abs(ref).max())
  with pytest.warns(FutureWarning):
    f = jd.scale_to_frequency(8.0, wavelet="cmor", compat="pywt")
  assert f == pytest.approx(_quiet(pywt.scale2frequency, "cmor", 8.0))
  np.testing.assert_array_equal(W, jd.cwt(y, scales, wavelet="cmor1.0-0.5", compat="pywt"))


def test_cmor_default_mode_keeps_jaxdsp_default_and_names_work_in_both_modes():
  y = _Y[:1024]
  scales = np.array([4.0, 16.0])
  with warnings.catch_warnings():
    warnings.simplefilter("error")
    warnings.filterwarnings("ignore", message=_CACHE_RACE)
    np.testing.assert_array_equal(jd.cwt(y, scales, wavelet="cmor"), jd.cwt(y, scales, wavelet="cmor1.5-1.0"))
    W = jd.cwt(y, scales, wavelet="cmor1.5-1.0", compat="pywt")
    assert jd.scale_to_frequency(8.0, wavelet="cmor") == pytest.approx(1 / 8)
    assert jd.scale_to_frequency(8.0, wavelet="cmor", bandwidth=1.5, center=1.0, compat="pywt") == pytest.approx(
        pywt.scale2frequency("cmor1.5-1.0", 8.0))
  ref, _ = pywt.cwt(y.astype(np.float64), scales, "cmor1.5-1.0")
  np.testing.assert_allclose(W, ref, atol=1e-5 * np.abs(ref).max())


# ---------------------------------------------------------------------------------------------
# Issue 13 item 8: sizes checked against the signal and int32 before anything is allocated.


@pytest.mark.parametrize("call, msg", [
    (lambda: jd.stft(_Y, n_fft=2**40), "n_fft must be at most 2\\*\\*31 - 1"),
    (lambda: jd.stft(_Y, n_fft=2**31 - 2), "n_fft=2147483646 is too large: the padded signal"),
    (lambda: jd.frame(_Y, frame_length=16, hop_length=2**40), "hop_length must be at most 2\\*\\*31 - 1"),
    (lambda: jd.features(_Y, n_fft=2**40), "n_fft must be at most"),
    (lambda: jd.mel_filterbank(sr=22050, n_fft=2**28), "filterbank of"),
    (lambda: jd.istft(_S.astype(np.complex64), length=2**40), "length must be at most"),
    (lambda: jd.fft_frequencies(n_fft=2**40), "n_fft must be at most"),
    (lambda: jd.cwt_frequencies(fmin=1.0, fmax=2.0, n_scales=2**40), "n_scales must be at most"),
])
def test_huge_sizes_fail_fast_naming_the_argument(call, msg):
  with pytest.raises(ValueError, match=msg):
    call()


def test_rms_with_a_frame_far_longer_than_the_signal_runs_fast():
  y = _RNG.standard_normal(8192).astype(np.float32)
  out = jd.rms(y, frame_length=2**24)  # 74 s before (an unrolled combination of 32,768 blocks)
  # Every centred frame holds the whole signal and zeros: sqrt(sum(y²) / frame_length) (closed form).
  np.testing.assert_allclose(out, np.sqrt(np.sum(y.astype(np.float64) ** 2) / 2**24), rtol=1e-4)
  assert out.shape == (17,)


# ---------------------------------------------------------------------------------------------
# Issue 13 item 9: degenerate inputs refused instead of silent NaN or zeros.


@pytest.mark.parametrize("call, exc, msg", [
    (lambda: jd.morlet(np.arange(-8.0, 9.0), scale=0), ValueError, "scale must be a positive"),
    (lambda: jd.morlet(np.arange(-8.0, 9.0), scale=-2.0), ValueError, "scale must be a positive"),
    (lambda: jd.stft(_Y, n_fft=256, window=np.where(np.arange(256) == 3, np.nan, 1.0)), ValueError,
     "window contains non-finite values"),
    (lambda: jd.istft(np.where(_S == _S.max(), np.nan, _S).astype(np.complex64)), ValueError,
     "stft_matrix contains non-finite values"),
    (lambda: jd.time_to_frames([np.nan]), ValueError, "times contains non-finite values"),
    (lambda: jd.frames_to_time([np.inf]), ValueError, "frames contains non-finite values"),
    (lambda: jd.hz_to_mel([100.0, np.nan]), ValueError, "frequencies contains non-finite values"),
    (lambda: jd.mel_filterbank(sr=22050, n_fft=512, dtype=jnp.int32), TypeError, "dtype must be a floating dtype"),
    (lambda: jd.get_window("hann", 16, dtype=np.int16), TypeError, "dtype must be a floating dtype"),
    (lambda: jd.features(_Y, n_mfcc=-1, names=("rms",)), ValueError, "n_mfcc must be a positive int"),
])
def test_degenerate_inputs_raise_naming_the_argument(call, exc, msg):
  with pytest.raises(exc, match=msg):
    call()


def test_traced_scale_and_window_still_work():
  t = jnp.arange(-8.0, 9.0)
  f = jax.jit(lambda s: jd.morlet(t, wavelet="morl", scale=s))
  np.testing.assert_allclose(f(2.0), jd.morlet(t, wavelet="morl", scale=2.0), rtol=1e-6)
  g = jax.grad(lambda w: jnp.sum(jd.spectrogram(_Y[:512], n_fft=64, window=w)))(jnp.hanning(64))
  assert np.all(np.isfinite(g))


# ---------------------------------------------------------------------------------------------
# Issue 15 item 7: librosa.resample's fix, scale and axis.


@pytest.mark.parametrize("fix", [True, False])
@pytest.mark.parametrize("scale", [False, True])
def test_resample_fix_and_scale_match_librosa(fix, scale):
  y, sr = load_clip("speech_22k")
  y = y[: sr // 2 + 7]
  out = np.asarray(jd.resample(y, orig_sr=sr, target_sr=16000, fix=fix, scale=scale))
  ref = librosa.resample(y, orig_sr=sr, target_sr=16000, fix=fix, scale=scale, res_type="soxr_hq")
  assert out.shape == ref.shape
  # The filters differ (see jd.resample's docstring): SNR over the whole output, edges included.
  snr = 10 * np.log10(np.sum(ref.astype(np.float64) ** 2) / np.sum((out - ref).astype(np.float64) ** 2))
  assert snr > 60, snr
  if fix and len(out) > int(np.floor(len(y) * 16000 / sr + 0.5)):
    assert out[-1] == ref[-1] == 0  # fix_length's zero


def test_resample_axis_matches_librosa_and_the_last_axis():
  y, sr = load_clip("music_stereo_48k")  # (2, n)
  y = np.ascontiguousarray(y[:, :4801])
  out = np.asarray(jd.resample(y.T, orig_sr=sr, target_sr=16000, axis=0))
  ref = librosa.resample(y.T, orig_sr=sr, target_sr=16000, axis=0, res_type="soxr_hq")
  assert out.shape == ref.shape == (1601, 2)
  np.testing.assert_array_equal(out, np.asarray(jd.resample(y, orig_sr=sr, target_sr=16000)).T)
  jitted = jax.jit(lambda x: jd.resample(x, orig_sr=sr, target_sr=16000, axis=0, fix=False, scale=True))(y.T)
  np.testing.assert_allclose(jitted, jd.resample(y.T, orig_sr=sr, target_sr=16000, axis=0, fix=False, scale=True),
                             rtol=1e-6, atol=1e-7)
  snr = 10 * np.log10(np.sum(ref.astype(np.float64) ** 2) / np.sum((out - ref).astype(np.float64) ** 2))
  assert snr > 60, snr
  with pytest.raises(ValueError, match="axis must be an int"):
    jd.resample(y, orig_sr=sr, target_sr=16000, axis=2)
  with pytest.raises(TypeError, match="fix must be a bool"):
    jd.resample(y, orig_sr=sr, target_sr=16000, fix="yes")
