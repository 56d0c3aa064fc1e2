"""jaxdsp._npy_stream: a .npy written block by block equals np.save of the whole array, through
O_DIRECT and through the page cache, across staging-buffer boundaries and refused direct I/O."""

import errno
import os

import numpy as np
import pytest

from jaxdsp import _npy_stream


def _blocks(rng, sizes, inner=(3, 7), dtype=np.float32):
  return [rng.standard_normal((n, *inner)).astype(dtype) for n in sizes]


@pytest.fixture(name="stage")
def _stage():
  stage = _npy_stream.Stage(2 * _npy_stream.ALIGN)  # small: blocks cross the stage many times
  yield stage
  stage.close()


@pytest.mark.parametrize("direct_min_bytes", [0, 1 << 40], ids=["o_direct", "page_cache"])
def test_streamed_file_is_the_saved_array(tmp_path, stage, monkeypatch, direct_min_bytes):
  monkeypatch.setattr(_npy_stream, "DIRECT_MIN_BYTES", direct_min_bytes)
  rng = np.random.default_rng(12345)
  blocks = _blocks(rng, (5, 0, 1, 64, 13))  # 84 B rows: every block ends off the 4096-byte grid
  path = tmp_path / "a.npy"
  stream = _npy_stream.NpyStream(str(path), stage)
  for b in blocks:
    stream.append(b)
  stream.close()
  want = np.concatenate(blocks)
  got = np.load(path)
  assert got.dtype == want.dtype and got.shape == want.shape
  np.testing.assert_array_equal(got, want)
  mapped = np.load(path, mmap_mode="r")
  np.testing.assert_array_equal(mapped, want)
  assert os.path.getsize(path) == _npy_stream.HEADER_BYTES + want.nbytes
  if direct_min_bytes == 0 and hasattr(os, "O_DIRECT"):
    assert stream.direct or not _o_direct_supported(tmp_path)


def _o_direct_supported(directory):
  try:
    fd = os.open(directory / "probe", os.O_WRONLY | os.O_CREAT | os.O_DIRECT, 0o644)
  except OSError:
    return False
  os.close(fd)
  return True


def test_non_contiguous_and_other_dtypes(tmp_path, stage, monkeypatch):
  monkeypatch.setattr(_npy_stream, "DIRECT_MIN_BYTES", 0)
  rng = np.random.default_rng(0)
  base = rng.standard_normal((6, 10, 9))
  blocks = [base[:3, ::2, :], base[3:, ::2, :]]  # strided views
  stream = _npy_stream.NpyStream(str(tmp_path / "b.npy"), stage)
  for b in blocks:
    stream.append(b)
  stream.close()
  np.testing.assert_array_equal(np.load(tmp_path / "b.npy"), base[:, ::2, :])
  ints = _npy_stream.NpyStream(str(tmp_path / "i.npy"), stage)
  ints.append(np.arange(5, dtype=np.int32))
  ints.close()
  np.testing.assert_array_equal(np.load(tmp_path / "i.npy"), np.arange(5, dtype=np.int32))


def test_refused_direct_io_falls_back_to_the_page_cache(tmp_path, stage, monkeypatch):
  """O_DIRECT refused at open (e.g. tmpfs, FUSE) or at the first write: same file."""
  monkeypatch.setattr(_npy_stream, "DIRECT_MIN_BYTES", 0)
  rng = np.random.default_rng(1)
  blocks = _blocks(rng, (40, 40, 3))
  want = np.concatenate(blocks)
  real_open, real_pwrite = os.open, os.pwrite

  def open_refusing_direct(path, flags, *args):
    if flags & getattr(os, "O_DIRECT", 0):
      raise OSError(errno.EINVAL, "O_DIRECT refused")
    return real_open(path, flags, *args)

  monkeypatch.setattr(os, "open", open_refusing_direct)
  s = _npy_stream.NpyStream(str(tmp_path / "c.npy"), stage)
  for b in blocks:
    s.append(b)
  s.close()
  assert not s.direct
  np.testing.assert_array_equal(np.load(tmp_path / "c.npy"), want)
  monkeypatch.setattr(os, "open", real_open)

  if not hasattr(os, "O_DIRECT") or not _o_direct_supported(tmp_path):
    return
  calls = {"n": 0}

  def pwrite_refusing_once(fd, data, offset):
    calls["n"] += 1
    if calls["n"] == 2:  # after one block went out directly
      raise OSError(errno.EINVAL, "alignment refused")
    return real_pwrite(fd, data, offset)

  monkeypatch.setattr(os, "pwrite", pwrite_refusing_once)
  s = _npy_stream.NpyStream(str(tmp_path / "d.npy"), stage)
  for b in blocks:
    s.append(b)
  s.close()
  assert calls["n"] > 2 and not s.direct
  np.testing.assert_array_equal(np.load(tmp_path / "d.npy"), want)


def test_bad_blocks_raise(tmp_path, stage):
  s = _npy_stream.NpyStream(str(tmp_path / "e.npy"), stage)
  with pytest.raises(ValueError, match="nothing was appended"):
    s.close()
  s = _npy_stream.NpyStream(str(tmp_path / "f.npy"), stage)
  s.append(np.zeros((2, 3), np.float32))
  with pytest.raises(ValueError, match="differs"):
    s.append(np.zeros((2, 4), np.float32))
  with pytest.raises(ValueError, match="differs"):
    s.append(np.zeros((2, 3), np.float64))
  s.close()
  np.testing.assert_array_equal(np.load(tmp_path / "f.npy"), np.zeros((2, 3), np.float32))


def test_header_is_npy_1_0_and_page_sized():
  h = _npy_stream.header(np.dtype("<f4"), (3, 1025, 173))
  assert len(h) == _npy_stream.HEADER_BYTES and h.startswith(b"\x93NUMPY\x01\x00") and h.endswith(b"\n")
  with pytest.raises(ValueError, match="does not fit"):
    _npy_stream.header(np.dtype("<f4"), tuple(range(1, 2000)))
