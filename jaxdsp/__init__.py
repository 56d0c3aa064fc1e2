"""jaxdsp: differentiable audio signal processing and audio deep learning in JAX.

Conventions (every public DSP function): the signal is positional and every option keyword-only;
time is the last axis and any leading axes are batch axes; per-frame features are
``(..., n_frames)``, spectra ``(..., n_freq, n_frames)``, scalograms ``(..., n_scales, n_samples)``.
Names and defaults follow librosa 0.11.

>>> import jaxdsp as jd
>>> y, sr = jd.load(jd.example("speech"))          # doctest: +SKIP
>>> S_db = jd.amplitude_to_db(abs(jd.stft(y)))     # doctest: +SKIP
"""

# --- framing (core) ---
from jaxdsp.framing import fft_frequencies
from jaxdsp.framing import frame
from jaxdsp.framing import frames_to_samples
from jaxdsp.framing import frames_to_time
from jaxdsp.framing import get_window
from jaxdsp.framing import num_frames
from jaxdsp.framing import pad_center
from jaxdsp.framing import samples_to_frames
from jaxdsp.framing import time_to_frames
# --- end framing ---

# --- core DSP ---
from jaxdsp.fused import DEFAULT_FEATURES
from jaxdsp.fused import FEATURE_NAMES
from jaxdsp.fused import PER_FEATURE
from jaxdsp.fused import features
from jaxdsp.mel import hz_to_mel
from jaxdsp.mel import mel_filterbank
from jaxdsp.mel import mel_to_hz
from jaxdsp.mel import melspectrogram
from jaxdsp.mel import mfcc
from jaxdsp.spectral import amplitude_to_db
from jaxdsp.spectral import db_to_amplitude
from jaxdsp.spectral import db_to_power
from jaxdsp.spectral import istft
from jaxdsp.spectral import power_to_db
from jaxdsp.spectral import spectrogram
from jaxdsp.spectral import stft
from jaxdsp.spectral_features import spectral_bandwidth
from jaxdsp.spectral_features import spectral_centroid
from jaxdsp.spectral_features import spectral_flatness
from jaxdsp.spectral_features import spectral_rolloff
from jaxdsp.temporal import amplitude_envelope
from jaxdsp.temporal import rms
from jaxdsp.temporal import zero_crossing_rate
from jaxdsp.temporal import zero_crossing_rate_smooth
# --- end core DSP ---

# --- io ---
from jaxdsp.io import AudioFileError
from jaxdsp.io import example
from jaxdsp.io import load
from jaxdsp.io import resample
from jaxdsp.io import save
# --- end io ---

# --- wavelets ---
from jaxdsp.wavelets import cone_of_influence
from jaxdsp.wavelets import cwt
from jaxdsp.wavelets import cwt_frequencies
from jaxdsp.wavelets import fourier_period_factor
from jaxdsp.wavelets import frequency_to_scale
from jaxdsp.wavelets import morlet
from jaxdsp.wavelets import scale_to_frequency
# --- end wavelets ---

# --- helpers and conversions ---
from jaxdsp.convert import A_weighting
from jaxdsp.convert import B_weighting
from jaxdsp.convert import C_weighting
from jaxdsp.convert import D_weighting
from jaxdsp.convert import frequency_weighting
from jaxdsp.convert import hz_to_midi
from jaxdsp.convert import hz_to_note
from jaxdsp.convert import mel_frequencies
from jaxdsp.convert import midi_to_hz
from jaxdsp.convert import midi_to_note
from jaxdsp.convert import note_to_hz
from jaxdsp.convert import note_to_midi
from jaxdsp.convert import perceptual_weighting
from jaxdsp.convert import samples_like
from jaxdsp.convert import samples_to_time
from jaxdsp.convert import time_to_samples
from jaxdsp.convert import times_like
from jaxdsp.deltas import delta
from jaxdsp.deltas import stack_memory
from jaxdsp.generators import chirp
from jaxdsp.generators import clicks
from jaxdsp.generators import tone
from jaxdsp.inverse import griffinlim
from jaxdsp.inverse import mel_to_audio
from jaxdsp.inverse import mel_to_stft
from jaxdsp.inverse import mfcc_to_audio
from jaxdsp.inverse import mfcc_to_mel
from jaxdsp.energy_norm import pcen
from jaxdsp.signal_utils import autocorrelate
from jaxdsp.signal_utils import deemphasis
from jaxdsp.signal_utils import fix_length
from jaxdsp.signal_utils import lpc
from jaxdsp.signal_utils import magphase
from jaxdsp.signal_utils import mu_compress
from jaxdsp.signal_utils import mu_expand
from jaxdsp.signal_utils import normalize
from jaxdsp.signal_utils import preemphasis
from jaxdsp.signal_utils import to_mono
from jaxdsp.signal_utils import zero_crossings
from jaxdsp.spectral_shape import poly_features
from jaxdsp.spectral_shape import spectral_contrast
# --- end helpers and conversions ---

# --- onset, rhythm, pitch ---
from jaxdsp.decompose import harmonic
from jaxdsp.decompose import hpss
from jaxdsp.decompose import percussive
from jaxdsp.onset import onset_backtrack
from jaxdsp.onset import onset_detect
from jaxdsp.onset import onset_strength
from jaxdsp.onset import onset_strength_multi
from jaxdsp.phase import phase_vocoder
from jaxdsp.phase import pitch_shift
from jaxdsp.phase import time_stretch
from jaxdsp.pitch import pyin
from jaxdsp.pitch import yin
from jaxdsp.pitch import yin_soft
from jaxdsp.rhythm import beat_track
from jaxdsp.rhythm import fourier_tempo_frequencies
from jaxdsp.rhythm import fourier_tempogram
from jaxdsp.rhythm import plp
from jaxdsp.rhythm import tempo
from jaxdsp.rhythm import tempo_frequencies
from jaxdsp.rhythm import tempogram
from jaxdsp.silence import nonsilent_frames
from jaxdsp.silence import split
from jaxdsp.silence import trim
# --- end onset, rhythm, pitch ---

# --- synthesis and losses ---
from jaxdsp.losses import esr
from jaxdsp.losses import feature_loss
from jaxdsp.losses import mel_stft_loss
from jaxdsp.losses import multi_resolution_stft_loss
from jaxdsp.losses import si_sdr
from jaxdsp.losses import snr
from jaxdsp.losses import stft_loss
from jaxdsp.synth import exp_decay_ir
from jaxdsp.synth import filtered_noise
from jaxdsp.synth import frequency_filter
from jaxdsp.synth import harmonic_synth
from jaxdsp.synth import reverb
from jaxdsp.synth import sinusoidal_synth
from jaxdsp.synth import upsample
from jaxdsp.synth import wavetable_synth
# --- end synthesis and losses ---

# --- constant-Q and chroma ---
from jaxdsp.chroma import chroma_cens
from jaxdsp.chroma import chroma_cqt
from jaxdsp.chroma import chroma_filterbank
from jaxdsp.chroma import chroma_stft
from jaxdsp.chroma import chroma_vqt
from jaxdsp.chroma import estimate_tuning
from jaxdsp.chroma import piptrack
from jaxdsp.chroma import pitch_tuning
from jaxdsp.chroma import tonnetz
from jaxdsp.constantq import cqt
from jaxdsp.constantq import cqt_frequencies
from jaxdsp.constantq import griffinlim_cqt
from jaxdsp.constantq import hybrid_cqt
from jaxdsp.constantq import icqt
from jaxdsp.constantq import interval_frequencies
from jaxdsp.constantq import pseudo_cqt
from jaxdsp.constantq import vqt
from jaxdsp.constantq import wavelet_filterbank
from jaxdsp.constantq import wavelet_lengths
# --- end constant-Q and chroma ---

# --- filters and effects ---
from jaxdsp.biquads import allpass_biquad
from jaxdsp.biquads import allpass_biquad_coeffs
from jaxdsp.biquads import bandpass_biquad
from jaxdsp.biquads import bandpass_biquad_coeffs
from jaxdsp.biquads import bandreject_biquad
from jaxdsp.biquads import bandreject_biquad_coeffs
from jaxdsp.biquads import bass_biquad
from jaxdsp.biquads import bass_biquad_coeffs
from jaxdsp.biquads import biquad
from jaxdsp.biquads import equalizer_biquad
from jaxdsp.biquads import equalizer_biquad_coeffs
from jaxdsp.biquads import highpass_biquad
from jaxdsp.biquads import highpass_biquad_coeffs
from jaxdsp.biquads import lowpass_biquad
from jaxdsp.biquads import lowpass_biquad_coeffs
from jaxdsp.biquads import treble_biquad
from jaxdsp.biquads import treble_biquad_coeffs
from jaxdsp.effects import compressor
from jaxdsp.effects import compressor_gain_db
from jaxdsp.effects import delay
from jaxdsp.effects import distortion
from jaxdsp.effects import gain
from jaxdsp.effects import pan
from jaxdsp.effects import parametric_eq
from jaxdsp.filtering import fftconvolve
from jaxdsp.filtering import filtfilt
from jaxdsp.filtering import fir_filter
from jaxdsp.filtering import lfilter
from jaxdsp.filtering import lfilter_zi
from jaxdsp.filtering import sosfilt
from jaxdsp.filtering import time_varying_allpole
# --- end filters and effects ---

# --- subpackages loaded on first use ---
# ``import jaxdsp`` loads the DSP core only; ``jd.nn``/``jd.data`` (flax, optax, orbax, tensorboardX),
# ``jd.batch`` and ``jd.plot`` (matplotlib) are imported when first touched.
_LAZY = ("batch", "data", "nn", "plot")


def __getattr__(name: str):
  if name in _LAZY:
    import importlib  # pylint: disable=import-outside-toplevel
    module = importlib.import_module(f"jaxdsp.{name}")
    globals()[name] = module
    return module
  raise AttributeError(f"module 'jaxdsp' has no attribute {name!r}")


def __dir__():
  return sorted(set(globals()) | set(_LAZY))
# --- end subpackages ---

__version__ = "0.1.0"

__all__ = (
    "A_weighting",
    "AudioFileError",
    "B_weighting",
    "C_weighting",
    "DEFAULT_FEATURES",
    "D_weighting",
    "FEATURE_NAMES",
    "PER_FEATURE",
    "allpass_biquad",
    "allpass_biquad_coeffs",
    "amplitude_envelope",
    "amplitude_to_db",
    "autocorrelate",
    "bandpass_biquad",
    "bandpass_biquad_coeffs",
    "bandreject_biquad",
    "bandreject_biquad_coeffs",
    "bass_biquad",
    "bass_biquad_coeffs",
    "batch",
    "beat_track",
    "biquad",
    "chirp",
    "chroma_cens",
    "chroma_cqt",
    "chroma_filterbank",
    "chroma_stft",
    "chroma_vqt",
    "clicks",
    "compressor",
    "compressor_gain_db",
    "cone_of_influence",
    "cqt",
    "cqt_frequencies",
    "cwt",
    "cwt_frequencies",
    "data",
    "db_to_amplitude",
    "db_to_power",
    "deemphasis",
    "delay",
    "delta",
    "distortion",
    "equalizer_biquad",
    "equalizer_biquad_coeffs",
    "esr",
    "estimate_tuning",
    "example",
    "exp_decay_ir",
    "feature_loss",
    "features",
    "fft_frequencies",
    "fftconvolve",
    "filtered_noise",
    "filtfilt",
    "fir_filter",
    "fix_length",
    "fourier_period_factor",
    "fourier_tempo_frequencies",
    "fourier_tempogram",
    "frame",
    "frames_to_samples",
    "frames_to_time",
    "frequency_filter",
    "frequency_to_scale",
    "frequency_weighting",
    "gain",
    "get_window",
    "griffinlim",
    "griffinlim_cqt",
    "harmonic",
    "harmonic_synth",
    "highpass_biquad",
    "highpass_biquad_coeffs",
    "hpss",
    "hybrid_cqt",
    "hz_to_mel",
    "hz_to_midi",
    "hz_to_note",
    "icqt",
    "interval_frequencies",
    "istft",
    "lfilter",
    "lfilter_zi",
    "load",
    "lowpass_biquad",
    "lowpass_biquad_coeffs",
    "lpc",
    "magphase",
    "mel_filterbank",
    "mel_frequencies",
    "mel_stft_loss",
    "mel_to_audio",
    "mel_to_hz",
    "mel_to_stft",
    "melspectrogram",
    "mfcc",
    "mfcc_to_audio",
    "mfcc_to_mel",
    "midi_to_hz",
    "midi_to_note",
    "morlet",
    "mu_compress",
    "mu_expand",
    "multi_resolution_stft_loss",
    "nn",
    "nonsilent_frames",
    "normalize",
    "note_to_hz",
    "note_to_midi",
    "num_frames",
    "onset_backtrack",
    "onset_detect",
    "onset_strength",
    "onset_strength_multi",
    "pad_center",
    "pan",
    "parametric_eq",
    "pcen",
    "perceptual_weighting",
    "percussive",
    "phase_vocoder",
    "piptrack",
    "pitch_shift",
    "pitch_tuning",
    "plot",
    "plp",
    "poly_features",
    "power_to_db",
    "preemphasis",
    "pseudo_cqt",
    "pyin",
    "resample",
    "reverb",
    "rms",
    "samples_like",
    "samples_to_frames",
    "samples_to_time",
    "save",
    "scale_to_frequency",
    "si_sdr",
    "sinusoidal_synth",
    "snr",
    "sosfilt",
    "spectral_bandwidth",
    "spectral_centroid",
    "spectral_contrast",
    "spectral_flatness",
    "spectral_rolloff",
    "spectrogram",
    "split",
    "stack_memory",
    "stft",
    "stft_loss",
    "tempo",
    "tempo_frequencies",
    "tempogram",
    "time_stretch",
    "time_to_frames",
    "time_to_samples",
    "time_varying_allpole",
    "times_like",
    "to_mono",
    "tone",
    "tonnetz",
    "treble_biquad",
    "treble_biquad_coeffs",
    "trim",
    "upsample",
    "vqt",
    "wavelet_filterbank",
    "wavelet_lengths",
    "wavetable_synth",
    "yin",
    "yin_soft",
    "zero_crossing_rate",
    "zero_crossing_rate_smooth",
    "zero_crossings",
)
