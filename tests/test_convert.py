"""Conversions (``jaxdsp.convert``) against librosa 0.11.

Tolerances: host (NumPy float64) results equal librosa's to 1e-12 relative (same formulas); note
names are identical strings for every MIDI number 0–127 in all 42 single-accidental major/minor keys;
float32 JAX weightings are within 2e-4 dB of librosa's float64 values (measured ≤ 7.1e-5 dB) and
``hz_to_midi`` within 2e-5 semitones (float32 log2) and ``midi_to_hz`` within 1e-5 relative.
"""

import jax
import jax.numpy as jnp
import librosa
import numpy as np
import pytest

import jaxdsp as jd
from audio_corpus import load_clip

KEYS = [f"{t}{a}:{s}" for t in "ABCDEFG" for a in ("", "#", "b") for s in ("maj", "min")]


def test_grids_match_librosa():
  for kw in (dict(), dict(fmin=30.0, fmax=8000.0), dict(fmin=0.0, fmax=4000.0, htk=True)):
    np.testing.assert_allclose(jd.mel_frequencies(40, **kw), librosa.mel_frequencies(40, **kw), rtol=1e-12)
  X = np.zeros((3, 17))
  for kw in (dict(), dict(hop_length=256, n_fft=1024)):
    np.testing.assert_array_equal(jd.samples_like(X, **kw), librosa.samples_like(X, **kw))
    np.testing.assert_array_equal(jd.samples_like(17, **kw), librosa.samples_like(17, **kw))
    np.testing.assert_allclose(jd.times_like(X, sr=16000, **kw), librosa.times_like(X, sr=16000, **kw), rtol=1e-12)
    np.testing.assert_allclose(jd.times_like(X, axis=0, **kw), librosa.times_like(X, axis=0, **kw), rtol=1e-12)
  t = np.array([0.0, 0.1, 1.37, 2.5])
  np.testing.assert_array_equal(jd.time_to_samples(t, sr=22050), librosa.time_to_samples(t, sr=22050))
  np.testing.assert_allclose(jd.samples_to_time([0, 100, 22051], sr=8000),
                             librosa.samples_to_time([0, 100, 22051], sr=8000), rtol=1e-12)
  # a times grid that matches an STFT of a real clip
  y, sr = load_clip("speech_16k")
  S = librosa.stft(y, n_fft=512, hop_length=160)
  np.testing.assert_allclose(jd.times_like(S, sr=sr, hop_length=160), librosa.times_like(S, sr=sr, hop_length=160))


def test_notes_match_librosa():
  midi = np.arange(128.0)
  for key in KEYS:
    for unicode in (True, False):
      assert jd.midi_to_note(midi, key=key, unicode=unicode).tolist() == list(
          librosa.midi_to_note(midi, key=key, unicode=unicode)), key
  frac = np.array([60.0, 61.26, 69.49, 70.5, 21.0])
  for kw in (dict(cents=True), dict(octave=False), dict(cents=True, unicode=False, key="Eb:min")):
    assert jd.midi_to_note(frac, **kw).tolist() == list(librosa.midi_to_note(frac, **kw))
  assert jd.midi_to_note(69) == librosa.midi_to_note(69) == "A4"
  freqs = [27.5, 261.63, 440.0, 1046.5, 4186.0]
  assert jd.hz_to_note(freqs).tolist() == list(librosa.hz_to_note(freqs))
  names = ["C4", "A#3", "Gb2", "B♭5", "E𝄪1", "Dbb4", "C♯3-20", "A4+15", "c", "G!2"]
  np.testing.assert_array_equal(jd.note_to_midi(names), librosa.note_to_midi(names))
  np.testing.assert_allclose(jd.note_to_midi(names, round_midi=False), librosa.note_to_midi(names, round_midi=False))
  assert jd.note_to_midi("A4") == 69
  np.testing.assert_allclose(jd.note_to_hz(names), librosa.note_to_hz(names), rtol=1e-12)


def test_midi_hz_and_weightings_match_librosa():
  f = np.geomspace(10.0, 20000.0, 257)
  np.testing.assert_allclose(jd.hz_to_midi(f), librosa.hz_to_midi(f), rtol=1e-12)
  m = np.linspace(0, 127, 99)
  np.testing.assert_allclose(jd.midi_to_hz(m), librosa.midi_to_hz(m), rtol=1e-12)
  np.testing.assert_allclose(jd.hz_to_midi(jnp.asarray(f, jnp.float32)), librosa.hz_to_midi(f), atol=2e-5)
  np.testing.assert_allclose(jd.midi_to_hz(jnp.asarray(m, jnp.float32)), librosa.midi_to_hz(m), rtol=1e-5)
  grid = np.concatenate([[0.0], f])
  with np.errstate(divide="ignore"):
    for kind in "ABCDZ":
      for min_db in (-80.0, None, -20.0):
        ref = librosa.frequency_weighting(grid, kind=kind, min_db=min_db)
        np.testing.assert_allclose(jd.frequency_weighting(grid, kind=kind, min_db=min_db), ref, rtol=1e-12)
      if kind != "Z":
        fn = getattr(jd, f"{kind}_weighting")
        np.testing.assert_allclose(fn(grid), getattr(librosa, f"{kind}_weighting")(grid), rtol=1e-12)
        np.testing.assert_allclose(fn(jnp.asarray(f, jnp.float32)), getattr(librosa, f"{kind}_weighting")(f),
                                   atol=2e-4)


def test_perceptual_weighting_matches_librosa():
  y, sr = load_clip("music_22k")
  S = np.abs(librosa.stft(y[:8192], n_fft=1024)) ** 2
  freqs = librosa.fft_frequencies(sr=sr, n_fft=1024)
  for kw in (dict(), dict(kind="C", ref=np.max), dict(kind="D", top_db=None)):
    ours = jd.perceptual_weighting(S, freqs, **kw)
    ref = librosa.perceptual_weighting(S, freqs, **kw)
    np.testing.assert_allclose(ours, ref, atol=2e-3)  # dB of float32 power (measured ≤ 4e-4)


@pytest.mark.parametrize("transform", ["jit", "vmap", "grad"])
def test_transformations(transform):
  f = jnp.asarray([55.0, 440.0, 3000.0], jnp.float32)
  S = jnp.asarray(np.random.default_rng(0).uniform(0.1, 1.0, (2, 5, 4)), jnp.float32)
  freqs = np.array([0.0, 100.0, 1000.0, 4000.0, 8000.0])
  if transform == "jit":
    np.testing.assert_allclose(jax.jit(jd.hz_to_midi)(f), jd.hz_to_midi(f), rtol=1e-6)
    np.testing.assert_allclose(jax.jit(jd.A_weighting)(f), jd.A_weighting(f), atol=1e-4)
    np.testing.assert_allclose(jax.jit(lambda s: jd.perceptual_weighting(s, freqs))(S),
                               jd.perceptual_weighting(S, freqs), atol=1e-5)
  elif transform == "vmap":
    out = jax.vmap(lambda s: jd.perceptual_weighting(s, freqs))(S)
    loop = jnp.stack([jd.perceptual_weighting(s, freqs) for s in S])
    np.testing.assert_allclose(out, loop, atol=1e-5)
    np.testing.assert_allclose(jax.vmap(jd.midi_to_hz)(f[:, None]), jd.midi_to_hz(f)[:, None], rtol=1e-6)
  else:
    # d midi / d f = 12 / (f ln 2); d hz / d midi = hz · ln 2 / 12
    g = jax.grad(lambda x: jd.hz_to_midi(x).sum())(f)
    np.testing.assert_allclose(g, 12.0 / (f * np.log(2.0)), rtol=1e-5)
    g = jax.grad(lambda x: jd.midi_to_hz(x).sum())(jnp.asarray([57.0, 69.0]))
    np.testing.assert_allclose(g, np.array([220.0, 440.0]) * np.log(2.0) / 12.0, rtol=1e-5)
    with jax.enable_x64(True):
      from jax.test_util import check_grads  # pylint: disable=import-outside-toplevel
      x = jnp.asarray([90.0, 900.0, 9000.0], jnp.float64)
      for fn in (jd.A_weighting, jd.B_weighting, jd.C_weighting, jd.D_weighting):
        check_grads(fn, (x,), order=1, modes=("rev",))
    g = jax.grad(lambda s: jd.perceptual_weighting(s, freqs, top_db=None).sum())(S)
    np.testing.assert_allclose(g, 10.0 / (np.log(10.0) * S), rtol=1e-4)


def test_bad_input():
  with pytest.raises(ValueError, match="n_mels"):
    jd.mel_frequencies(0)
  with pytest.raises(ValueError, match="fmax"):
    jd.mel_frequencies(10, fmax=-1.0)
  with pytest.raises(ValueError, match="sr"):
    jd.times_like(10, sr=0)
  with pytest.raises(ValueError, match="X"):
    jd.samples_like(-3)
  with pytest.raises(ValueError, match="note"):
    jd.note_to_midi("H4")
  with pytest.raises(ValueError, match="key"):
    jd.midi_to_note(60, key="C:dorian")
  with pytest.raises(ValueError, match="cents"):
    jd.midi_to_note(60, cents=True, octave=False)
  with pytest.raises(ValueError, match="frequencies"):
    jd.hz_to_note([0.0])
  with pytest.raises(ValueError, match="kind"):
    jd.frequency_weighting([100.0], kind="X")
  with pytest.raises(TypeError, match="min_db"):
    jd.A_weighting([100.0], min_db="low")
  with pytest.raises(ValueError, match="frequencies"):
    jd.perceptual_weighting(np.ones((4, 3), np.float32), np.ones(5))
  with pytest.raises(ValueError, match="S"):
    jax.jit(lambda s: jd.perceptual_weighting(s, np.ones(4)))(jnp.ones(4))


def test_conversions_refuse_strings_complex_and_host_nan_naming_the_argument():
  """Issue 13's grid: these once failed inside NumPy/JAX with messages naming nothing, or returned NaN."""
  nan = np.array([100.0, np.nan])
  for fn, name in ((jd.hz_to_midi, "frequencies"), (jd.A_weighting, "frequencies"), (jd.midi_to_hz, "notes"),
                   (jd.midi_to_note, "midi"), (jd.hz_to_note, "frequencies")):
    with pytest.raises(TypeError, match=name):
      fn("abc")
    with pytest.raises(ValueError, match=name):
      fn(nan)
  with pytest.raises(TypeError, match="frequencies"):
    jd.frequency_weighting(np.array([1j]), kind="C")
  with pytest.raises(ValueError, match="samples"):
    jd.samples_to_time(np.array([0.0, np.inf]))
  with pytest.raises(TypeError, match="times"):
    jd.time_to_samples("abc")
  with pytest.raises(ValueError, match="frequencies"):  # a host function: device NaN is read back and refused
    jd.hz_to_note(jnp.array([440.0, jnp.nan]))
  for bad in (np.nan, np.inf, "8"):
    with pytest.raises(TypeError, match="min_db"):
      jd.B_weighting([100.0], min_db=bad)
  # JAX arrays are not scanned (documented): NaN in, NaN out; 0 Hz is -inf MIDI, as librosa.
  assert np.isnan(jd.hz_to_midi(jnp.array([jnp.nan]))).all()
  with np.errstate(divide="ignore"):
    assert jd.hz_to_midi(np.array([0, 440])).tolist() == librosa.hz_to_midi(np.array([0, 440])).tolist()
