"""Plots of jaxdsp results (matplotlib, the optional ``[plot]`` extra).

Each function draws on ``ax`` (a new figure when None), labels its axes in physical units (seconds,
Hz) and returns the ``matplotlib.axes.Axes`` (its ``.figure`` is the figure). matplotlib is
imported on first use, so ``import jaxdsp`` never needs it.

Long inputs are decimated to the figure's pixels before drawing: at most
``COLUMNS_PER_PIXEL × figure width in pixels`` time columns (spectrogram and scalogram cells: the
maximum of each group of consecutive frames or samples; waveforms: the minimum and maximum of each
group, drawn as one line; feature curves: the mean of each group), computed block by block, so an
hour of audio draws in bounded memory and time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from jaxdsp import _checks


COLUMNS_PER_PIXEL = 2


def _max_columns(ax: Any) -> int:
  """Time columns worth drawing on ``ax``: ``COLUMNS_PER_PIXEL`` per pixel of its figure's width
  (``ax`` None: of a new figure, matplotlib's default size)."""
  if ax is None:
    import matplotlib  # pylint: disable=import-outside-toplevel
    width = matplotlib.rcParams["figure.figsize"][0] * matplotlib.rcParams["figure.dpi"]
  else:
    width = ax.figure.get_figwidth() * ax.figure.dpi
  return max(16, int(COLUMNS_PER_PIXEL * width))


def _groups(n: int, max_columns: int) -> tuple[int, int]:
  """``(k, columns)``: groups of ``k`` consecutive time steps, so that ``n`` steps make at most
  ``max_columns`` columns (the last group may be shorter)."""
  k = max(1, -(-n // max_columns))
  return k, -(-n // k)


def _pool(a: np.ndarray, k: int, reduce: Any = np.maximum, transform: Any = None,
          dtype: Any = np.float64) -> np.ndarray:
  """``reduce`` (a ufunc) over groups of ``k`` consecutive entries of the last axis of ``a``,
  after ``transform`` (e.g. ``np.abs``), block by block (about 4 M entries at a time)."""
  n = a.shape[-1]
  cols = -(-n // k)
  out = np.empty(a.shape[:-1] + (cols,), dtype=dtype)
  rows = max(1, int(np.prod(a.shape[:-1])))
  step = max(1, (1 << 22) // (rows * k))  # columns per block
  for c0 in range(0, cols, step):
    block = np.asarray(a[..., c0 * k:min((c0 + step) * k, n)])
    if transform is not None:
      block = transform(block)
    out[..., c0:c0 + -(-block.shape[-1] // k)] = reduce.reduceat(block, np.arange(0, block.shape[-1], k), axis=-1)
  return out


def _mean_pool(v: np.ndarray, k: int) -> np.ndarray:
  """Means over groups of ``k`` entries of the last axis (the last group may be shorter)."""
  n = v.shape[-1]
  sums = _pool(v, k, np.add)
  counts = np.minimum(k, n - np.arange(sums.shape[-1]) * k)
  return sums / counts


def _pyplot():
  """Imports ``matplotlib.pyplot`` lazily, with an install hint when it is missing."""
  try:
    import matplotlib.pyplot as plt
  except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError("jaxdsp.plot needs matplotlib: pip install 'jax-dsp[plot]' "
                      "(in a checkout: pip install -e \".[plot]\")") from e
  return plt


def _axes(ax: Any):
  if ax is None:
    _, ax = _pyplot().subplots()
  return ax


def _host(x: Any, name: str) -> np.ndarray:
  try:
    return np.asarray(x)
  except Exception as e:  # pragma: no cover - exotic input
    raise TypeError(f"{name} must be an array, got {type(x).__name__}") from e


def _edges(centres: np.ndarray, log: bool) -> np.ndarray:
  """Cell edges around sorted-or-not centres (geometric midpoints when ``log``)."""
  c = np.log(centres) if log else centres
  if c.size == 1:
    e = np.array([c[0] - 0.5, c[0] + 0.5]) if not log else np.array([c[0] - 0.05, c[0] + 0.05])
  else:
    mid = (c[1:] + c[:-1]) / 2
    e = np.concatenate([[c[0] - (mid[0] - c[0])], mid, [c[-1] + (c[-1] - mid[-1])]])
  return np.exp(e) if log else e


def scalogram(
    W: Any,
    *,
    sr: float,
    freqs: Any = None,
    scales: Any = None,
    wavelet: str = "cmor1.5-1.0",
    bandwidth: Any = None,
    center: Any = None,
    w0: Any = None,
    ax: Any = None,
    power: float = 1.0,
    db: bool = False,
    top_db: float | None = 80.0,
    coi: bool = False,
    cmap: str = "magma",
    colorbar: bool = True,
    title: str | None = None,
    **kwargs: Any,
):
  """Draws a scalogram ``|W|^power`` against time (s) and frequency (Hz, log axis).

  Args:
    W: ``(n_scales, n_samples)`` CWT (complex or real; leading singleton axes are dropped).
    sr: sample rate in Hz.
    freqs: ``(n_scales,)`` frequency of each row in Hz. Give exactly one of ``freqs``/``scales``.
    scales: ``(n_scales,)`` scales in samples, converted with ``scale_to_frequency`` and the
      wavelet arguments below.
    wavelet, bandwidth, center, w0: the wavelet used for ``W`` (for ``scales`` and ``coi``).
    ax: axes to draw on (default: a new figure).
    power: exponent of the magnitude (1: amplitude, 2: power).
    db: show ``10·log10`` of the power (``20·log10`` of the amplitude), ``top_db`` below the peak.
    top_db: dynamic range in dB when ``db`` (None: unlimited).
    coi: shade the cone of influence (``cone_of_influence``), where edge effects matter.
    cmap: matplotlib colormap.
    colorbar: add a colorbar.
    title: axes title.
    **kwargs: passed on to ``ax.pcolormesh``.

  Returns:
    The ``matplotlib.axes.Axes``.

  Raises:
    ValueError: ``W`` not 2-D, neither or both of ``freqs``/``scales``, lengths that disagree.
    ImportError: matplotlib is not installed.

  Examples:
    >>> import jaxdsp as jd, jax.numpy as jnp
    >>> y = jnp.sin(2 * jnp.pi * 440.0 * jnp.arange(8000) / 8000)
    >>> freqs = jd.cwt_frequencies(fmin=100.0, fmax=2000.0, n_scales=32)
    >>> ax = jd.plot.scalogram(jd.cwt(y, freqs=freqs, sr=8000), sr=8000, freqs=freqs)  # doctest: +SKIP
  """
  from jaxdsp import wavelets

  sr = _checks.sample_rate(sr)
  W = _host(W, "W")
  while W.ndim > 2 and W.shape[0] == 1:
    W = W[0]
  if W.ndim != 2:
    raise ValueError(f"W must be (n_scales, n_samples), got shape {W.shape}")
  if (freqs is None) == (scales is None):
    raise ValueError("give exactly one of freqs or scales")
  wargs = dict(wavelet=wavelet, bandwidth=bandwidth, center=center, w0=w0)
  if freqs is None:
    scales = np.atleast_1d(_host(scales, "scales")).astype(np.float64)
    freqs = np.asarray(wavelets.scale_to_frequency(scales, sr=sr, **wargs), dtype=np.float64)
  else:
    freqs = np.atleast_1d(_host(freqs, "freqs")).astype(np.float64)
  if freqs.shape != (W.shape[0],):
    raise ValueError(f"freqs/scales must have one value per row of W ({W.shape[0]}), got shape {freqs.shape}")
  if np.any(freqs <= 0):
    raise ValueError("freqs must be positive for a log-frequency axis")

  n = W.shape[1]
  k, cols = _groups(n, _max_columns(ax))
  S = _pool(W, k, np.maximum, np.abs) ** power  # |W| decimated to the figure's pixels
  label = "|W|" if power == 1 else f"|W|^{power:g}"
  if db:
    ref = max(S.max(), 1e-30)
    S = (20.0 / power if power else 10.0) * np.log10(np.maximum(S, 1e-30 * ref) / ref)
    if top_db is not None:
      S = np.maximum(S, -float(top_db))
    label = "dB"

  ax = _axes(ax)
  t_edges = np.append(np.arange(cols) * k, n) / sr
  order = np.argsort(freqs)
  f_edges = _edges(freqs[order], log=True)
  mesh = ax.pcolormesh(t_edges, f_edges, S[order], cmap=cmap, shading="flat", **kwargs)
  ax.set_yscale("log")
  ax.set_xlabel("Time (s)")
  ax.set_ylabel("Frequency (Hz)")
  ax.set_ylim(f_edges[0], f_edges[-1])
  if coi:
    half = np.asarray(
        wavelets.cone_of_influence(wavelets.frequency_to_scale(freqs[order], sr=sr, **wargs), **wargs)
    ) / sr
    t_max = n / sr
    ax.fill_betweenx(freqs[order], 0.0, np.minimum(half, t_max), color="white", alpha=0.3, lw=0)
    ax.fill_betweenx(freqs[order], np.maximum(t_max - half, 0.0), t_max, color="white", alpha=0.3, lw=0)
  if colorbar:
    ax.figure.colorbar(mesh, ax=ax, label=label)
  if title is not None:
    ax.set_title(title)
  return ax


# ---------------------------------------------------------------------------------------------
# Waveforms, per-frame features, spectrograms and training curves.


def _frame_times(n_frames: int, sr: float, hop_length: int) -> np.ndarray:
  """Centre time (s) of each frame, librosa's ``center=True`` convention (frame t at t·hop)."""
  return np.arange(n_frames) * hop_length / sr


def _lines(values: Any, name: str) -> np.ndarray:
  v = _host(values, name)
  while v.ndim > 1 and v.shape[0] == 1:
    v = v[0]
  if v.ndim not in (1, 2) or v.shape[-1] == 0:
    raise ValueError(f"{name} must be (n_frames,) or (n_curves, n_frames), got shape {v.shape}")
  return np.atleast_2d(v)


def _decimated_curves(v: np.ndarray, sr: float, hop_length: int, max_columns: int):
  """Frame times and per-frame curves ``(n_curves, n_frames)``, averaged over groups of frames
  when there are more frames than ``max_columns`` (each group drawn at its mean time)."""
  k, _ = _groups(v.shape[-1], max_columns)
  t = _frame_times(v.shape[-1], sr, hop_length)
  if k == 1:
    return t, v
  return _mean_pool(t, k), _mean_pool(v.astype(np.float64), k)


def envelope(values: Any, *, sr: float, hop_length: int = 512, ax: Any = None, label: Any = None,
             ylabel: str | None = None, title: str | None = None, **kwargs: Any):
  """Draws per-frame features (amplitude envelope, RMS, ZCR, centroid, ...) against time.

  Frame ``t`` is drawn at ``t · hop_length / sr`` seconds (frames centred on their hop, as with
  ``center=True``).

  Args:
    values: ``(n_frames,)`` or ``(n_curves, n_frames)``.
    sr: sample rate in Hz.
    hop_length: samples between frames.
    ax: axes to draw on (default: a new figure).
    label: legend label, or one per curve.
    ylabel: y-axis label.
    title: axes title.
    **kwargs: passed on to ``ax.plot``.

  Returns:
    The ``matplotlib.axes.Axes``.

  Raises:
    ValueError: ``values`` of rank > 2 (after dropping leading singleton axes) or empty.
    ImportError: matplotlib is not installed.

  Examples:
    >>> import jaxdsp as jd, jax.numpy as jnp
    >>> y = jnp.sin(jnp.arange(22050) * 0.05)
    >>> ax = jd.plot.envelope(jd.rms(y), sr=22050, label="RMS")  # doctest: +SKIP
  """
  sr = _checks.sample_rate(sr)
  hop_length = _checks.positive_int(hop_length, "hop_length")
  v = _lines(values, "values")
  labels = [label] * len(v) if label is None or isinstance(label, str) else list(label)
  if len(labels) != len(v):
    raise ValueError(f"label must be a string or one per curve ({len(v)}), got {len(labels)}")
  ax = _axes(ax)
  t, v = _decimated_curves(v, sr, hop_length, _max_columns(ax))
  for row, lab in zip(v, labels):
    ax.plot(t, row, label=lab, **kwargs)
  ax.set_xlabel("Time (s)")
  if ylabel is not None:
    ax.set_ylabel(ylabel)
  if any(lab is not None for lab in labels):
    ax.legend(loc="upper right", fontsize="small")
  if title is not None:
    ax.set_title(title)
  return ax


def waveform(y: Any, *, sr: float, ax: Any = None, envelope: Any = None, rms: Any = None,
             frame_length: int = 2048, hop_length: int = 512, color: str = "C0", alpha: float = 0.6,
             title: str | None = None, **kwargs: Any):
  """Draws a waveform against time, optionally with its amplitude envelope and RMS overlaid.

  Args:
    y: ``(n_samples,)`` signal (leading singleton axes are dropped).
    sr: sample rate in Hz.
    ax: axes to draw on (default: a new figure).
    envelope: ``True`` to overlay :func:`jaxdsp.amplitude_envelope` (``frame_length``,
      ``hop_length``), or a precomputed ``(n_frames,)`` envelope.
    rms: ``True`` to overlay :func:`jaxdsp.rms`, or a precomputed ``(n_frames,)`` RMS.
    frame_length, hop_length: framing of the overlays (their frames are drawn at ``t·hop/sr``).
    color, alpha: waveform line style.
    title: axes title.
    **kwargs: passed on to ``ax.plot`` for the waveform.

  Returns:
    The ``matplotlib.axes.Axes``.

  Raises:
    ValueError: ``y`` not 1-D or empty.
    ImportError: matplotlib is not installed.

  Examples:
    >>> import jaxdsp as jd
    >>> y, sr = jd.load(jd.example("speech"))
    >>> ax = jd.plot.waveform(y, sr=sr, envelope=True, rms=True)  # doctest: +SKIP
  """
  import jaxdsp  # pylint: disable=import-outside-toplevel

  sr = _checks.sample_rate(sr)
  x = _host(y, "y")
  while x.ndim > 1 and x.shape[0] == 1:
    x = x[0]
  if x.ndim != 1 or x.size == 0:
    raise ValueError(f"y must be a non-empty (n_samples,) signal, got shape {x.shape}")
  frame_length = _checks.positive_int(frame_length, "frame_length")
  hop_length = _checks.positive_int(hop_length, "hop_length")
  ax = _axes(ax)
  k, cols = _groups(x.size, max(1, _max_columns(ax) // 2))
  if k == 1:
    t_wave, y_wave = np.arange(x.size) / sr, x
  else:  # the minimum and maximum of each group of samples, one line through both
    t_wave = np.repeat(np.arange(cols) * k / sr, 2)
    y_wave = np.stack([_pool(x, k, np.minimum, dtype=x.dtype), _pool(x, k, np.maximum, dtype=x.dtype)], -1).reshape(-1)
  ax.plot(t_wave, y_wave, color=color, alpha=alpha, lw=0.6, label="waveform", **kwargs)
  overlays = []
  if envelope is not None and envelope is not False:
    ae = jaxdsp.amplitude_envelope(x, frame_length=frame_length, hop_length=hop_length) if envelope is True \
        else envelope
    overlays.append((ae, "amplitude envelope", "C3"))
  if rms is not None and rms is not False:
    r = jaxdsp.rms(x, frame_length=frame_length, hop_length=hop_length) if rms is True else rms
    overlays.append((r, "RMS", "C2"))
  for values, lab, c in overlays:
    t, v = _decimated_curves(_lines(values, lab), sr, hop_length, _max_columns(ax))
    ax.plot(t, v[0], color=c, lw=1.5, label=lab)
  ax.set_xlim(0, x.size / sr)
  ax.set_xlabel("Time (s)")
  ax.set_ylabel("Amplitude")
  if overlays:
    ax.legend(loc="upper right", fontsize="small")
  if title is not None:
    ax.set_title(title)
  return ax


SPECTROGRAM_AXES = ("linear", "log", "mel")
SPECTROGRAM_SCALES = ("amplitude", "power", "db")


def spectrogram(S: Any, *, sr: float, hop_length: int = 512, y_axis: str = "linear", scale: str = "amplitude",
                n_fft: int | None = None, fmin: float = 0.0, fmax: float | None = None, htk: bool = False,
                top_db: float | None = 80.0, ax: Any = None, cmap: str = "magma", colorbar: bool = True,
                title: str | None = None, **kwargs: Any):
  """Draws a spectrogram in dB against time (s) and frequency (Hz).

  Amplitude input is shown as ``20·log10(S / max S)``, power as ``10·log10(S / max S)`` (0 dB at
  the peak, ``top_db`` below it); ``scale="db"`` draws the values as they are.

  Args:
    S: ``(n_freq, n_frames)`` STFT magnitude/power (``y_axis`` ``"linear"`` or ``"log"``), or
      ``(n_mels, n_frames)`` mel spectrogram (``y_axis="mel"``). Complex input is taken as ``|S|``.
    sr: sample rate in Hz.
    hop_length: samples between frames; frame ``t`` is centred at ``t·hop_length/sr``.
    y_axis: ``"linear"`` or ``"log"`` frequency axis over the FFT bins, or ``"mel"`` (bands at the
      centres of :func:`jaxdsp.mel_filterbank` with ``fmin``/``fmax``/``htk``, on a mel-scaled axis).
    scale: what ``S`` holds: ``"amplitude"``, ``"power"`` or ``"db"``.
    n_fft: FFT size (default ``2·(n_freq - 1)``), for the bin frequencies.
    fmin, fmax, htk: mel band edges (``fmax`` default ``sr / 2``).
    top_db: dynamic range in dB (``None``: unlimited).
    ax: axes to draw on (default: a new figure).
    cmap: matplotlib colormap.
    colorbar: add a colorbar (in dB).
    title: axes title.
    **kwargs: passed on to ``ax.pcolormesh``.

  Returns:
    The ``matplotlib.axes.Axes``.

  Raises:
    ValueError: ``S`` not 2-D, an unknown ``y_axis``/``scale``, or an ``n_fft`` that does not
      give ``n_freq`` bins.
    ImportError: matplotlib is not installed.

  Examples:
    >>> import jaxdsp as jd
    >>> y, sr = jd.load(jd.example("music"))
    >>> ax = jd.plot.spectrogram(jd.spectrogram(y), sr=sr, y_axis="log")  # doctest: +SKIP

  Compare ``librosa.display.specshow``.
  """
  from jaxdsp import framing, mel  # pylint: disable=import-outside-toplevel

  sr = _checks.sample_rate(sr)
  hop_length = _checks.positive_int(hop_length, "hop_length")
  _checks.choice(y_axis, "y_axis", SPECTROGRAM_AXES)
  _checks.choice(scale, "scale", SPECTROGRAM_SCALES)
  S = _host(S, "S")
  while S.ndim > 2 and S.shape[0] == 1:
    S = S[0]
  if S.ndim != 2 or 0 in S.shape:
    raise ValueError(f"S must be a non-empty (n_freq, n_frames) array, got shape {S.shape}")
  if top_db is not None:
    top_db = _checks.positive_number(top_db, "top_db")
  n_frames = S.shape[-1]
  k, cols = _groups(n_frames, _max_columns(ax))
  # Decimated to the figure's pixels: the maximum of each group of frames (of |S|, or of the dB).
  S = _pool(S, k, np.maximum, np.abs if scale != "db" else None)
  if scale == "db":
    D = S
  else:
    factor = 20.0 if scale == "amplitude" else 10.0
    ref = max(S.max(), 1e-30)
    D = factor * np.log10(np.maximum(S, 1e-30 * ref) / ref)
  if top_db is not None:
    D = np.maximum(D, D.max() - top_db)

  n_rows = S.shape[0]
  if y_axis == "mel":
    fmax = sr / 2 if fmax is None else fmax
    m = np.linspace(mel.hz_to_mel(fmin, htk=htk), mel.hz_to_mel(fmax, htk=htk), n_rows + 2)
    m_edges = np.concatenate([[m[0]], (m[1:-2] + m[2:-1]) / 2, [m[-1]]])
    f_edges = np.asarray(mel.mel_to_hz(m_edges, htk=htk))
  else:
    n_fft = 2 * (n_rows - 1) if n_fft is None else _checks.positive_int(n_fft, "n_fft")
    if n_fft // 2 + 1 != n_rows:
      raise ValueError(f"n_fft must give {n_rows} bins (n_fft // 2 + 1), got n_fft={n_fft}")
    freqs = framing.fft_frequencies(sr=sr, n_fft=max(n_fft, 2))[:n_rows]
    if y_axis == "log":
      if n_rows < 2:
        raise ValueError("S needs at least 2 frequency bins for a log axis")
      D, freqs = D[1:], freqs[1:]  # DC has no place on a log axis
      f_edges = _edges(freqs, log=True)
    else:
      f_edges = _edges(freqs, log=False)
      f_edges[0] = max(f_edges[0], 0.0)
  t_edges = (np.append(np.arange(cols) * k, n_frames) - 0.5) * hop_length / sr
  t_edges[0] = max(t_edges[0], 0.0)

  ax = _axes(ax)
  mesh = ax.pcolormesh(t_edges, f_edges, D, cmap=cmap, shading="flat", **kwargs)
  if y_axis == "log":
    ax.set_yscale("log")
  elif y_axis == "mel":
    to_mel = lambda f: mel.hz_to_mel(np.maximum(f, 0.0), htk=htk)  # noqa: E731
    to_hz = lambda m: mel.mel_to_hz(np.maximum(m, 0.0), htk=htk)  # noqa: E731
    ax.set_yscale("function", functions=(to_mel, to_hz))
  ax.set_ylim(f_edges[0], f_edges[-1])
  ax.set_xlabel("Time (s)")
  ax.set_ylabel("Frequency (Hz)")
  if colorbar:
    ax.figure.colorbar(mesh, ax=ax, label="dB", format="%+.0f")
  if title is not None:
    ax.set_title(title)
  return ax


def history(hist: Any, *, metrics: Any = None, axes: Any = None, title: str | None = None):
  """Draws training curves (loss, accuracy, ...) against the epoch.

  Each metric family gets one axes, with its ``val_`` curve next to the training curve.

  Args:
    hist: a history dict as returned by :func:`jaxdsp.nn.fit` (lists per key, ``epoch``
      optional; ``None`` entries are skipped).
    metrics: families to draw, e.g. ``("loss", "accuracy")`` (default: every key with numbers,
      ``val_`` keys folded into their family).
    axes: one axes per family (default: a new figure with them side by side).
    title: figure title.

  Returns:
    A list of ``matplotlib.axes.Axes``, one per metric family.

  Raises:
    ValueError: no metric with values, an unknown metric, or a wrong number of axes.
    ImportError: matplotlib is not installed.

  Examples:
    >>> import jaxdsp as jd
    >>> axes = jd.plot.history({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]})  # doctest: +SKIP
  """
  if not isinstance(hist, dict):
    raise TypeError(f"hist must be a dict of lists (jaxdsp.nn.fit's history), got {type(hist).__name__}")

  def values(key):
    v = [(i, float(x)) for i, x in enumerate(hist.get(key) or []) if x is not None]
    return v

  skip = {"epoch", "time", "step"}
  if metrics is None:
    metrics = []
    for key in hist:
      family = key[4:] if key.startswith("val_") else key
      if family not in skip and family not in metrics and (values(key)):
        metrics.append(family)
  metrics = [metrics] if isinstance(metrics, str) else list(metrics)
  for m in metrics:
    if not values(m) and not values(f"val_{m}"):
      raise ValueError(f"metrics: {m!r} has no values in hist (keys: {sorted(hist)})")
  if not metrics:
    raise ValueError(f"hist holds no metric with values (keys: {sorted(hist)})")
  if axes is None:
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 3.5), squeeze=False,
                             layout="constrained")
    axes = list(axes[0])
  else:
    axes = list(np.atleast_1d(axes))
    if len(axes) != len(metrics):
      raise ValueError(f"axes must hold one axes per metric ({len(metrics)}), got {len(axes)}")
  epochs = hist.get("epoch")
  for ax, m in zip(axes, metrics):
    for key, style in ((m, "-o"), (f"val_{m}", "--s")):
      pts = values(key)
      if pts:
        x = [epochs[i] if epochs and len(epochs) > i else i + 1 for i, _ in pts]
        ax.plot(x, [v for _, v in pts], style, ms=3, label="validation" if key.startswith("val_") else "train")
    ax.set_xlabel("Epoch")
    ax.set_ylabel(m)
    ax.grid(alpha=0.3)
    ax.legend()
  if title is not None:
    axes[0].figure.suptitle(title)
  return axes
