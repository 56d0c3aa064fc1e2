"""Tests for jaxdsp.data: the synthetic UrbanSound8K layout, the reader, and CNN training on it."""

from __future__ import annotations

import csv
import os
import re
import shutil

import jax.numpy as jnp
import numpy as np
import optax
import pytest
import soundfile as sf
from flax import nnx

import jaxdsp
from jaxdsp import data as jdata
from jaxdsp import nn as jn

# Small and fast: 1-second clips written at 8-16 kHz, read at 8 kHz.
SR = 8000
DUR = 1.0
READ = dict(sr=SR, duration=DUR, n_mels=32, n_fft=256, hop_length=128)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
  return jdata.make_synthetic_urbansound(tmp_path_factory.mktemp("us8k"), n_per_class=20,
                                         duration=DUR, sample_rates=(8000, 11025, 16000),
                                         seed=0)


def _rows(root):
  with open(root / "metadata" / "UrbanSound8K.csv", newline="") as f:
    return list(csv.DictReader(f))


def test_synthetic_layout_matches_urbansound8k(root):
  with open(root / "metadata" / "UrbanSound8K.csv", newline="") as f:
    header = next(csv.reader(f))
  assert header == ["slice_file_name", "fsID", "start", "end", "salience", "fold", "classID",
                    "class"]
  rows = _rows(root)
  assert len(rows) == 200
  srs, channels, lengths, subtypes = set(), set(), [], set()
  for r in rows:
    assert jdata.CLASS_NAMES[int(r["classID"])] == r["class"]
    assert re.fullmatch(rf"{r['fsID']}-{r['classID']}-\d+-\d+\.wav", r["slice_file_name"])
    info = sf.info(str(root / "audio" / f"fold{r['fold']}" / r["slice_file_name"]))
    srs.add(info.samplerate)
    channels.add(info.channels)
    subtypes.add(info.subtype)
    lengths.append(info.duration)
    np.testing.assert_allclose(float(r["end"]) - float(r["start"]), info.duration, atol=1e-5)
  assert srs == {8000, 11025, 16000} and channels == {1, 2} and len(subtypes) >= 2
  assert min(lengths) < 0.95 * DUR and max(lengths) == pytest.approx(DUR, abs=1e-3)
  assert sorted({int(r["fold"]) for r in rows}) == list(range(1, 11))
  assert all(sum(int(r["fold"]) == k and int(r["classID"]) == c for r in rows) == 2
             for k in range(1, 11) for c in range(10))


def test_synthetic_is_seeded(tmp_path):
  a = jdata.make_synthetic_urbansound(tmp_path / "a", n_per_class=1, n_folds=1, duration=0.2,
                                      seed=4)
  b = jdata.make_synthetic_urbansound(tmp_path / "b", n_per_class=1, n_folds=1, duration=0.2,
                                      seed=4)
  assert _rows(a) == _rows(b)
  name = _rows(a)[0]["slice_file_name"]
  np.testing.assert_array_equal(sf.read(a / "audio" / "fold1" / name)[0],
                                sf.read(b / "audio" / "fold1" / name)[0])


def test_batches_shapes_labels_and_seeded_shuffle(root):
  ds = jdata.UrbanSound8K(root, folds=[1, 2], batch_size=8, seed=3, **READ)
  assert ds.num_examples == 40 and ds.num_batches == 5
  assert ds.feature_shape == (32, 63)
  xs, ys = zip(*ds.batches(epoch=0))
  assert [x.shape for x in xs] == [(8, 32, 63)] * 5
  assert all(y.dtype == np.int32 for y in ys)
  np.testing.assert_array_equal(np.sort(np.concatenate(ys)), np.sort(ds.labels))
  np.testing.assert_array_equal(ds.order(0), jdata.UrbanSound8K(root, folds=[1, 2], seed=3,
                                                                **READ).order(0))
  assert not np.array_equal(ds.order(0), ds.order(1))
  np.testing.assert_array_equal(np.concatenate(ys), ds.labels[ds.order(0)])


def test_logmel_features_equal_jaxdsp_per_clip(root):
  ds = jdata.UrbanSound8K(root, folds=[3], batch_size=4, shuffle=False, **READ)
  x, _ = next(iter(ds))
  for i in range(2):
    y, _ = jaxdsp.load(ds.files[i], sr=SR, duration=DUR)
    y = jnp.pad(y[:ds.n_samples], (0, ds.n_samples - min(y.shape[0], ds.n_samples)))
    ref = jaxdsp.power_to_db(jaxdsp.melspectrogram(y, sr=SR, n_fft=256, hop_length=128,
                                                   n_mels=32))
    np.testing.assert_allclose(x[i], ref, atol=1e-3)


def test_waveform_feature_pads_short_clips_and_mixes_to_mono(root):
  ds = jdata.UrbanSound8K(root, folds=[1, 2, 3], feature="waveform", batch_size=4, **READ)
  durations = np.array([sf.info(str(f)).duration for f in ds.files])
  i = int(np.argmin(durations))
  y = ds.audio(i)
  assert y.shape == (SR,)
  n_real = int(np.ceil(durations[i] * SR))
  assert np.all(y[n_real + 1:] == 0) and np.any(y[:n_real] != 0)
  stereo = next(k for k, f in enumerate(ds.files) if sf.info(str(f)).channels == 2)
  raw, file_sr = sf.read(str(ds.files[stereo]), dtype="float32")
  mono = jaxdsp.resample(raw.mean(axis=1), orig_sr=file_sr, target_sr=SR)[:SR]
  np.testing.assert_allclose(ds.audio(stereo)[:mono.shape[0]], mono, atol=1e-4)
  x, _ = next(iter(ds))
  assert x.shape == (4, SR)
  wrap = jdata.UrbanSound8K(root, folds=[1, 2, 3], feature="waveform", pad_mode="wrap", **READ)
  clip = np.asarray(jaxdsp.load(ds.files[i], sr=SR, duration=DUR)[0])
  np.testing.assert_array_equal(wrap.audio(i), np.resize(clip, SR))  # repeated to fill 1 s
  np.testing.assert_array_equal(y, np.pad(clip, (0, SR - clip.size)))  # zeros


def test_callable_feature(root):
  rms = lambda y: jnp.sqrt(jnp.mean(y.reshape(-1, 800) ** 2, axis=-1))
  ds = jdata.UrbanSound8K(root, folds=[4], feature=rms, batch_size=5, **READ)
  assert ds.feature_shape == (10,)
  x, y = next(iter(ds))
  assert x.shape == (5, 10) and np.all(np.asarray(x) >= 0)


def test_missing_and_corrupt_files_are_reported_and_skipped(tmp_path):
  root = jdata.make_synthetic_urbansound(tmp_path / "bad", n_per_class=1, n_folds=1,
                                         duration=0.5, sample_rates=(8000,), seed=1)
  names = [r["slice_file_name"] for r in _rows(root)]
  folder = root / "audio" / "fold1"
  (folder / names[0]).unlink()  # missing
  (folder / names[1]).write_bytes(b"this is not a wav file" * 10)  # unreadable header
  data = (folder / names[2]).read_bytes()
  (folder / names[2]).write_bytes(data[:len(data) // 2])  # truncated: header promises more
  with pytest.warns(UserWarning, match=re.escape(names[0])) as record:
    ds = jdata.UrbanSound8K(root, sr=8000, duration=0.5, n_fft=256, hop_length=128, n_mels=16,
                            batch_size=4)
  assert names[1] in str(record[0].message)
  with pytest.warns(UserWarning, match=re.escape(names[2])):
    labels = np.concatenate([y for _, y in ds.batches(epoch=0)])
  assert len(labels) == 7
  skipped = dict(ds.skipped)
  assert set(skipped) == set(names[:3])
  assert skipped[names[0]] == "missing"
  assert ds.num_examples == 7 and ds.num_batches == 2 and len(ds) == 8  # files opened
  assert len(np.concatenate([y for _, y in ds.batches(epoch=1)])) == 7  # no second warning


def test_reader_bad_input(tmp_path, root):
  with pytest.raises(FileNotFoundError, match="UrbanSound8K.csv"):
    jdata.UrbanSound8K(tmp_path)
  with pytest.raises(ValueError, match="folds"):
    jdata.UrbanSound8K(root, folds=[11], **READ)
  with pytest.raises(ValueError, match="feature"):
    jdata.UrbanSound8K(root, feature="mfcc2", **READ)
  with pytest.raises(ValueError, match="batch_size"):
    jdata.UrbanSound8K(root, batch_size=0, **READ)
  other = tmp_path / "cols"
  shutil.copytree(root / "metadata", other / "metadata")
  (other / "metadata" / "UrbanSound8K.csv").write_text("slice_file_name,fold\nx.wav,1\n")
  with pytest.raises(ValueError, match="columns"):
    jdata.UrbanSound8K(other)
  with pytest.raises(ValueError, match="n_per_class"):
    jdata.make_synthetic_urbansound(tmp_path / "x", n_per_class=0)


def test_cnn_adam_cross_entropy_reaches_90_percent_on_held_out_folds(root):
  """The issue's bar, scaled down: train on folds 1-8 straight from the reader (background
  decoding, features cached after the first epoch), test on the held-out folds 9-10."""
  read = dict(READ, pad_mode="wrap", cache=True)
  train = jdata.UrbanSound8K(root, folds=range(1, 9), batch_size=32, seed=0, **read)
  test = jdata.UrbanSound8K(root, folds=[9, 10], batch_size=40, shuffle=False, **read)
  model = jn.CNN(train.feature_shape, 10, channels=(8, 16, 32), rngs=nnx.Rngs(0))  # defaults
  epochs = 15
  schedule = optax.cosine_decay_schedule(3e-3, epochs * train.num_batches)
  history = jn.fit(model, train, test, loss="cross_entropy", optimizer="adam",
                   learning_rate=schedule, epochs=epochs, progress=False)
  result = jn.evaluate(model, test, loss="cross_entropy")
  assert result["n"] == 40
  assert result["accuracy"] >= 0.9, history["val_accuracy"]
  assert history["loss"][-1] < history["loss"][0]


# ---------------------------------------------------------------------------------------------
# Issue 14 / 13: a Dataset-like reader, confined and non-UTF-8 names, the CNN's defaults.


def test_dataset_len_getitem_transform_and_batches_of_one_kind(root):
  ds = jdata.UrbanSound8K(root, folds=[5], batch_size=8, shuffle=False, **READ)
  assert len(ds) == 20 and ds.num_batches == 3
  x, y = next(iter(ds))
  assert type(x) is np.ndarray and type(y) is np.ndarray  # noqa: E721 - the same kind
  assert x.dtype == np.float32 and y.dtype == np.int32
  f0, label0 = ds[0]
  assert isinstance(f0, np.ndarray) and isinstance(label0, int)
  np.testing.assert_allclose(f0, x[0], atol=1e-4)
  assert label0 == y[0] and ds[-1][1] == ds.labels[-1]
  with pytest.raises(IndexError, match="index"):
    ds[20]
  with pytest.raises(TypeError, match="index"):
    ds["0"]
  scaled = jdata.UrbanSound8K(root, folds=[5], batch_size=8, shuffle=False,
                              transform=lambda f: f[:, :10] / 10.0, **READ)
  np.testing.assert_allclose(scaled[0][0], f0[:, :10] / 10.0, atol=1e-5)
  xs, _ = next(iter(scaled))
  assert xs.shape == (8, 32, 10)
  with pytest.raises(TypeError, match="transform"):
    jdata.UrbanSound8K(root, folds=[5], transform=3, **READ)


def test_csv_names_non_utf8_load_and_paths_outside_the_root_are_refused(tmp_path):
  root = jdata.make_synthetic_urbansound(tmp_path / "names", n_per_class=1, n_folds=1,
                                         duration=0.25, sample_rates=(8000,), seed=2)
  rows = _rows(root)
  folder = root / "audio" / "fold1"
  odd = os.fsdecode(b"bad\xffname.wav")
  (folder / rows[0]["slice_file_name"]).rename(folder / odd)
  rows[0]["slice_file_name"] = odd
  outside = tmp_path / "secret.wav"
  shutil.copy(folder / rows[1]["slice_file_name"], outside)
  shutil.copy(folder / rows[2]["slice_file_name"], root / "audio" / "up.wav")
  rows[1]["slice_file_name"] = str(outside)  # absolute
  rows[2]["slice_file_name"] = "../up.wav"  # relative, leaving the fold folder
  with open(root / "metadata" / "UrbanSound8K.csv", "w", newline="", encoding="utf-8",
            errors="surrogateescape") as f:
    writer = csv.DictWriter(f, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
  with pytest.warns(UserWarning, match="outside the dataset root"):
    ds = jdata.UrbanSound8K(root, sr=8000, duration=0.25, n_fft=256, hop_length=128, n_mels=16,
                            batch_size=4, shuffle=False)
  assert dict(ds.skipped).keys() == {str(outside), "../up.wav"}
  assert len(ds) == 8 and ds.names[0] == odd
  x, label = ds[0]
  assert np.all(np.isfinite(x)) and label == int(rows[0]["classID"])


def test_synthesize_bad_input():
  with pytest.raises(ValueError, match="sr"):
    jdata.synthesize(0, sr=0, n_samples=100)
  with pytest.raises(ValueError, match="n_samples"):
    jdata.synthesize(0, sr=8000, n_samples=0)
  with pytest.raises(TypeError, match="class_id"):
    jdata.synthesize(1.5, sr=8000, n_samples=100)
  with pytest.raises(ValueError, match="snr_db"):
    jdata.synthesize(0, sr=8000, n_samples=100, snr_db=float("nan"))


@pytest.fixture(scope="module")
def logmel_arrays(root):
  read = dict(READ, pad_mode="wrap")
  return (jdata.UrbanSound8K(root, folds=range(1, 9), **read).arrays(),
          jdata.UrbanSound8K(root, folds=[9, 10], **read).arrays())


def test_cnn_defaults_learn_with_sgd_on_logmel_of_any_scale(logmel_arrays):
  """The CNN's default input standardisation: SGD (lr 0.05) leaves chance (0.1) on dB-valued
  log-mel input, here scaled by 10 and shifted by -200 dB (without it, on the dB values alone,
  SGD stays at 0.1 and Adam reaches 0.35 in 3 epochs). Adam with the defaults: the 90 % test
  below."""
  (x, y), (xt, yt) = logmel_arrays
  model = jn.CNN(x.shape[1:], 10, channels=(8, 16), rngs=nnx.Rngs(0))
  h = jn.fit(model, (x * 10 - 200, y), (xt * 10 - 200, yt), loss="cross_entropy",
             optimizer="sgd", learning_rate=0.05, epochs=3, progress=False)
  assert np.all(np.isfinite(h["loss"])) and h["loss"][-1] < h["loss"][0]
  assert h["val_accuracy"][-1] >= 0.5, h
