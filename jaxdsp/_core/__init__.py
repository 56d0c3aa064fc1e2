"""The feature core of jaxdsp (private): one STFT, one set of reducers, one registry, one pipeline.

Public modules (``spectral``, ``spectral_features``, ``mel``, ``temporal``, ``fused``, ``batch``,
``cli``) check their arguments and call the core. Code outside ``jaxdsp._core`` uses only the names
listed in ``__all__`` below; everything else inside may change without notice.

Layout inside: :mod:`~jaxdsp._core.framing` (padding rules, framing, frame reductions),
:mod:`~jaxdsp._core.chunking` (cache-sized chunks on CPU, whole batches on accelerators),
:mod:`~jaxdsp._core.stft` (windows, :class:`StftSpec`, the framed FFT, the ``y``-or-``S`` rule),
:mod:`~jaxdsp._core.filters` (mel scale, filterbank, DCT, the resampling filter),
:mod:`~jaxdsp._core.reducers` (each formula once, for both spectrum layouts),
:mod:`~jaxdsp._core.intervals` (the interval sets of the constant-Q transforms and their check),
:mod:`~jaxdsp._core.registry` (features, options and their checks),
:mod:`~jaxdsp._core.pipeline` (the fused pass and the in-place ``S`` path).
"""

from jaxdsp._core.chunking import chunk_frames_for
from jaxdsp._core.chunking import cpu_path
from jaxdsp._core.chunking import force_layout
from jaxdsp._core.chunking import map_frames
from jaxdsp._core.filters import chroma_np
from jaxdsp._core.filters import contrast_bands
from jaxdsp._core.reducers import chroma_reduce
from jaxdsp._core.reducers import contrast_finish
from jaxdsp._core.reducers import contrast_peaks
from jaxdsp._core.reducers import flux
from jaxdsp._core.reducers import p_normalize
from jaxdsp._core.reducers import poly_fit
from jaxdsp._core.filters import hz_to_mel
from jaxdsp._core.filters import mel_matrix
from jaxdsp._core.filters import mel_to_hz
from jaxdsp._core.filters import resample_table
from jaxdsp._core.filters import resample_table_too_large
from jaxdsp._core.framing import PAD_MODES
from jaxdsp._core.intervals import INTERVAL_SETS
from jaxdsp._core.intervals import octave_ratios
from jaxdsp._core.framing import check_framing
from jaxdsp._core.framing import frame_reduce
from jaxdsp._core.framing import frames
from jaxdsp._core.framing import overlap_add
from jaxdsp._core.framing import pad_widths
from jaxdsp._core.pipeline import feature
from jaxdsp._core.pipeline import features
from jaxdsp._core.pipeline import finish
from jaxdsp._core.pipeline import from_spectrogram
from jaxdsp._core.pipeline import needs_finish
from jaxdsp._core.pipeline import onset_delay
from jaxdsp._core.pipeline import run
from jaxdsp._core.pipeline import signal_spec
from jaxdsp._core.reducers import db
from jaxdsp._core.registry import DEFAULT_FEATURES
from jaxdsp._core.registry import FEATURE_NAMES
from jaxdsp._core.registry import OPTIONS
from jaxdsp._core.registry import REGISTRY
from jaxdsp._core.registry import SHARED_OPTIONS
from jaxdsp._core.registry import FRAMING_OPTIONS
from jaxdsp._core.registry import PER_FEATURE
from jaxdsp._core.registry import check_options
from jaxdsp._core.registry import feature_defaults
from jaxdsp._core.registry import mark_lengths
from jaxdsp._core.registry import option_help
from jaxdsp._core.registry import parse_text
from jaxdsp._core.registry import register_finish
from jaxdsp._core.registry import shared_default
from jaxdsp._core.registry import takes_lengths
from jaxdsp._core.registry import config
from jaxdsp._core.registry import feature_names
from jaxdsp._core.stft import WINDOWS
from jaxdsp._core.stft import find_stacklevel
from jaxdsp._core.stft import next_fast_len
from jaxdsp._core.stft import StftSpec
from jaxdsp._core.stft import window_array
from jaxdsp._core.stft import y_or_S

__all__ = (
    "chroma_np",
    "contrast_bands",
    "chroma_reduce",
    "contrast_finish",
    "contrast_peaks",
    "flux",
    "p_normalize",
    "poly_fit",
    "DEFAULT_FEATURES",
    "FEATURE_NAMES",
    "INTERVAL_SETS",
    "OPTIONS",
    "PAD_MODES",
    "REGISTRY",
    "SHARED_OPTIONS",
    "FRAMING_OPTIONS",
    "PER_FEATURE",
    "check_options",
    "feature_defaults",
    "mark_lengths",
    "option_help",
    "parse_text",
    "register_finish",
    "shared_default",
    "takes_lengths",
    "StftSpec",
    "WINDOWS",
    "check_framing",
    "config",
    "chunk_frames_for",
    "cpu_path",
    "db",
    "feature",
    "feature_names",
    "features",
    "find_stacklevel",
    "finish",
    "force_layout",
    "frame_reduce",
    "frames",
    "hz_to_mel",
    "from_spectrogram",
    "map_frames",
    "mel_matrix",
    "mel_to_hz",
    "resample_table",
    "resample_table_too_large",
    "needs_finish",
    "next_fast_len",
    "octave_ratios",
    "onset_delay",
    "overlap_add",
    "pad_widths",
    "run",
    "signal_spec",
    "window_array",
    "y_or_S",
)
