"""jaxdsp._core chunking: the CPU path's cache-sized chunks equal the whole computation (values and gradients),
and the block-slice framing equals the gather."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxdsp as jd
from jaxdsp import _core
from jaxdsp._core import chunking as _chunking

Y = np.random.default_rng(12345).standard_normal(3001).astype(np.float32)


@pytest.mark.parametrize("frame_length,hop_length", [(16, 4), (10, 4), (12, 5), (40, 3)])
def test_segment_frames_equals_gather(frame_length, hop_length):
  # block slices for (16, 4), strided blocks for (10, 4) and (12, 5), the gather fallback for (40, 3)
  x = Y[:2 * 301].reshape(2, 301)
  np.testing.assert_array_equal(_chunking.segment_frames(x, frame_length, hop_length),
                                _core.frames(x, frame_length, hop_length))


def _chunk_fn(segments):
  """A chunk function like the STFT's: frames -> spectrum (frame axis last) and a per-frame sum."""
  frames = _chunking.segment_frames(segments, 64, 16)
  spectrum = jnp.abs(jnp.fft.rfft(frames * jnp.hanning(64), axis=-1))
  return {"S": jnp.swapaxes(spectrum, -1, -2), "energy": jnp.sum(frames * frames, axis=-1)}


@pytest.mark.parametrize("center,pad_mode", [(True, "constant"), (True, "reflect"), (False, "wrap"),
                                             (False, "constant")])
@pytest.mark.parametrize("rows,chunk_frames", [
    (14, 7),     # long signals cut into overlapping pieces of 7 frames, the last one short
    (14, 200),   # whole signals, 7-9 fit a step, 7 divide the batch: sliced from y without a copy
    (7, 104),    # whole signals, 4 fit a step, none of 4..2 divides 7: a padded batch of pieces
])
def test_map_frames_chunked_equals_whole(center, pad_mode, rows, chunk_frames):
  y = Y[:rows * 200].reshape(rows, 200)
  y = np.concatenate([y, y[:, ::-1]], axis=-1)[None]  # (1, rows, 400): a leading batch axis kept
  whole = _chunking.map_frames(_chunk_fn, y, 64, 16, center, pad_mode, chunk_frames=None)
  chunked = _chunking.map_frames(_chunk_fn, y, 64, 16, center, pad_mode, chunk_frames=chunk_frames)
  n_frames = jd.num_frames(400, frame_length=64, hop_length=16, center=center, pad_mode=pad_mode)
  assert whole["S"].shape == (1, rows, 33, n_frames) and whole["energy"].shape == (1, rows, n_frames)
  np.testing.assert_allclose(whole["energy"], (_core.frames(y, 64, 16, center, pad_mode) ** 2).sum(-1),
                             rtol=1e-5)
  for k in whole:
    np.testing.assert_allclose(chunked[k], whole[k], rtol=1e-5, atol=1e-5)


def test_map_frames_chunked_gradient_equals_whole():
  y = Y[:7 * 400].reshape(7, 400)
  loss = lambda chunk: lambda x: sum(jnp.sum(v) for v in _chunking.map_frames(
      _chunk_fn, x, 64, 16, True, "reflect", chunk_frames=chunk).values())
  g_whole = jax.grad(loss(None))(y)
  for chunk in (7, 60):
    np.testing.assert_allclose(jax.grad(loss(chunk))(y), g_whole, rtol=1e-4, atol=1e-4)
