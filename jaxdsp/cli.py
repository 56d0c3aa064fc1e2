"""The ``jaxdsp`` command line (also ``python -m jaxdsp``).

Subcommands::

    jaxdsp demo [--out DIR] [--quick]          analyse the shipped clips, one figure, train a small CNN
    jaxdsp analyze FILE [-o fig.png] [--sr SR]  one file: figure and feature summary
    jaxdsp extract INPUT... -o OUT [--features NAME ...] [--sr SR] [--memory-budget B] [--wait] ...
                                                features of many files on every device (resumable)
    jaxdsp train DATA_ROOT [--epochs N] [--out DIR] ...
                                                a CNN on an UrbanSound8K-layout folder

Each run loads the programs that earlier runs compiled from JAX's persistent compilation cache
(``$XDG_CACHE_HOME/jaxdsp/xla``, else ``~/.cache/jaxdsp/xla``; halved when it passes 1 GiB), so
only the first run of a command on a machine compiles them all. ``--no-compile-cache`` turns it
off; ``JAX_COMPILATION_CACHE_DIR`` moves it.

A user error (missing file, bad option, unreadable audio, missing matplotlib) prints one line,
``jaxdsp: error: ...``, on stderr and exits with status 1 (2 for a command-line usage error, 130
when interrupted). Set ``JAXDSP_DEBUG=1`` to get the full traceback instead.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

PROG = "jaxdsp"


class _Parser(argparse.ArgumentParser):
  """argparse with one-line usage errors (``jaxdsp: error: ...``, exit status 2)."""

  def error(self, message: str):  # noqa: D401 - argparse's hook
    hint = f" (see '{self.prog} --help')"
    self.exit(2, f"{PROG}: error: {message}{hint}\n")


def _positive_int(text: str) -> int:
  try:
    value = int(text)
  except ValueError:
    raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
  if value <= 0:
    raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
  return value


def _positive_float(text: str) -> float:
  try:
    value = float(text)
  except ValueError:
    raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
  if not value > 0 or value == float("inf"):
    raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
  return value


def build_parser() -> argparse.ArgumentParser:
  """The ``jaxdsp`` argument parser (subcommands ``demo``, ``analyze``, ``extract``, ``train``)."""
  parser = _Parser(prog=PROG, description="jaxdsp: differentiable audio DSP and audio deep learning in JAX.")
  parser.add_argument("--version", action="store_true", help="print the version and exit")
  parser.add_argument("--no-compile-cache", action="store_true",
                      help="compile every program anew (default: load the programs earlier runs compiled, "
                           "kept in $XDG_CACHE_HOME/jaxdsp/xla or ~/.cache/jaxdsp/xla)")
  sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

  p = sub.add_parser("demo", help="analyse the shipped audio, write one figure, train a small CNN",
                     description="Analyses the audio shipped in the package (waveform, amplitude envelope, RMS, "
                     "ZCR, spectral centroid/bandwidth over a dB spectrogram, Morlet scalogram), writes "
                     "one PNG figure and prints a feature table, then trains a small CNN on a synthetic "
                     "UrbanSound8K-style dataset and prints its held-out accuracy. Everything is written "
                     "under --out.")
  p.add_argument("--out", default="jaxdsp-demo", metavar="DIR", help="output directory (default: %(default)s)")
  p.add_argument("--quick", action="store_true", help="a smaller, faster run (smoke test)")
  p.add_argument("--no-progress", action="store_true", help="no progress bars")

  p = sub.add_parser("analyze", help="analyse one audio file: figure and feature summary",
                     description="Loads FILE, draws its waveform with amplitude envelope and RMS, ZCR, dB "
                     "spectrogram with spectral centroid/bandwidth and Morlet scalogram into one PNG, and "
                     "prints a feature summary.")
  p.add_argument("file", metavar="FILE", help="audio file (WAV, FLAC, OGG, ...)")
  p.add_argument("-o", "--output", metavar="FIG", help="figure path (default: <FILE name>.png here)")
  p.add_argument("--sr", type=_positive_float, help="resample to this rate first (default: the file's)")
  p.add_argument("--no-scalogram", action="store_true", help="skip the Morlet scalogram")

  from jaxdsp._core.registry import DEFAULT_FEATURES, FEATURE_NAMES  # light: no computation at import

  p = sub.add_parser("extract", help="features of many files on every local device, resumable",
                     description="Computes features of every audio file under INPUT (directories are searched "
                     "recursively; globs and files work too) in batches sharded over all local devices, "
                     "and writes .npy shards and manifest.json to OUT. Rerunning resumes: finished files are "
                     "skipped. Unreadable files are recorded in the manifest and skipped. Every feature option "
                     "of jaxdsp.features is a flag (values: a number, inf, none, a name, or comma-separated "
                     "ratios for --intervals); one left out takes each feature's own default.")
  p.add_argument("inputs", nargs="+", metavar="INPUT", help="directory, glob pattern or file")
  p.add_argument("-o", "--out", required=True, metavar="OUT", help="output directory")
  p.add_argument("--features", nargs="+", default=list(DEFAULT_FEATURES), choices=FEATURE_NAMES, metavar="NAME",
                 help=f"features to compute (default: {' '.join(DEFAULT_FEATURES)}; choices: "
                 f"{' '.join(FEATURE_NAMES)})")
  p.add_argument("--sr", type=_positive_float, default=22050, help="sample rate (default: %(default)s)")
  p.add_argument("--n-fft", type=_positive_int, default=2048, help="FFT size (default: %(default)s)")
  p.add_argument("--hop-length", type=_positive_int, default=512, help="hop (default: %(default)s)")
  _feature_option_flags(p)
  p.add_argument("--batch-size", type=_positive_int,
                 help="files per batch (default: 8 per device on CPU, 64 per device on GPU/TPU)")
  p.add_argument("--devices", type=_positive_int, help="number of local devices (default: all)")
  p.add_argument("--workers", type=_positive_int, help="decoding threads")
  p.add_argument("--memory-budget", type=_positive_int, metavar="BYTES",
                 help="bytes one batch may take; files too long for it are computed in pieces "
                 "(default: 1073741824)")
  p.add_argument("--wait", action="store_true",
                 help="if another extract run is writing OUT, wait for it (default: fail at once)")
  p.add_argument("--retry-failed", action="store_true", help="retry files an earlier run recorded as failed")
  p.add_argument("--no-progress", action="store_true", help="no progress bar")

  p = sub.add_parser("train", help="train a CNN on an UrbanSound8K-layout folder",
                     description="Trains the course's CNN on log-mel spectrograms of DATA_ROOT (holding "
                     "metadata/UrbanSound8K.csv and audio/foldN/), holding out one fold for testing. "
                     "TensorBoard logs, checkpoints (a rerun resumes) and history.json go to --out.")
  p.add_argument("data_root", metavar="DATA_ROOT", help="dataset directory")
  p.add_argument("--epochs", type=_positive_int, default=10, help="epochs (default: %(default)s)")
  p.add_argument("--out", default="jaxdsp-train", metavar="DIR", help="output directory (default: %(default)s)")
  p.add_argument("--test-fold", type=_positive_int, help="fold held out for testing (default: the last)")
  p.add_argument("--sr", type=_positive_int, default=22050, help="sample rate (default: %(default)s)")
  p.add_argument("--duration", type=_positive_float, default=4.0, help="clip length in s (default: %(default)s)")
  p.add_argument("--n-mels", type=_positive_int, default=64, help="mel bands (default: %(default)s)")
  p.add_argument("--batch-size", type=_positive_int, default=32, help="batch size (default: %(default)s)")
  p.add_argument("--learning-rate", type=_positive_float, default=1e-3, help="Adam step (default: %(default)s)")
  p.add_argument("--channels", type=_positive_int, nargs="+", default=[16, 32, 64, 128],
                 help="conv channels per block (default: %(default)s, the course's)")
  p.add_argument("--no-progress", action="store_true", help="no progress bar")
  return parser


def _feature_option_names() -> tuple[str, ...]:
  from jaxdsp._core.registry import SHARED_OPTIONS  # pylint: disable=import-outside-toplevel
  return tuple(name for name in SHARED_OPTIONS if name != "sr")


def _feature_option_flags(parser: argparse.ArgumentParser) -> None:
  """One flag per feature option of the registry (``--n-mels``, ``--roll-percent``, ``--bins-per-octave``,
  ...), its help and default(s) from the registry: ``--htk``/``--no-htk`` for a flag, else a value (``none``,
  a number, ``inf``, a name, or comma-separated ratios for ``--intervals``) that the registry's check of
  the option judges, with the function's messages. An option left out takes each feature's own default
  and is not recorded in the manifest's settings."""
  from jaxdsp._core import registry  # pylint: disable=import-outside-toplevel
  for name in _feature_option_names():
    flag = "--" + name.replace("_", "-")
    help_text = registry.option_help(name).replace("%", "%%")
    if isinstance(registry.OPTIONS[name].default, bool):
      parser.add_argument(flag, dest=name, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS,
                          help=help_text)
    else:
      default = registry.OPTIONS[name].default
      metavar = "INT" if isinstance(default, int) else "NUMBER" if isinstance(default, float) else "VALUE"
      parser.add_argument(flag, dest=name, type=registry.parse_text, default=argparse.SUPPRESS, metavar=metavar,
                          help=help_text)


def _demo(args) -> int:
  from jaxdsp import demo  # pylint: disable=import-outside-toplevel
  demo.run_demo(args.out, quick=args.quick, progress=not args.no_progress)
  return 0


# ``jaxdsp analyze``: the shortest signal it analyses (one frame of the smallest FFT it takes).
ANALYZE_MIN_SAMPLES = 64


def _analyze(args) -> int:
  import numpy as np  # pylint: disable=import-outside-toplevel

  import jaxdsp as jd  # pylint: disable=import-outside-toplevel
  from jaxdsp import demo  # pylint: disable=import-outside-toplevel

  y, sr = jd.load(args.file, sr=args.sr)
  y = np.asarray(y, dtype=np.float32)
  name = os.path.basename(os.fspath(args.file))
  if y.size < ANALYZE_MIN_SAMPLES:
    raise ValueError(f"{args.file}: {y.size} sample{'s' * (y.size != 1)} at {sr:g} Hz is too short to analyze "
                     f"(at least {ANALYZE_MIN_SAMPLES} samples)")
  a = demo.analyze(y, sr, name=name, scalogram=not args.no_scalogram)
  out = f"{os.path.splitext(name)[0]}.png" if args.output is None else os.fspath(args.output)
  if os.path.dirname(out):
    os.makedirs(os.path.dirname(out), exist_ok=True)
  demo.draw([a], out)
  print(demo.summary_table([a]))
  print(f"figure: {out}")
  return 0


def _extract(args) -> int:
  from jaxdsp import batch  # pylint: disable=import-outside-toplevel
  try:
    batch.use_cpu_cores()  # one device per core: one batch per core at a time on CPU
  except RuntimeError:
    pass  # JAX is already running (main() called from Python): its devices stay as they are
  sr = int(args.sr) if args.sr == int(args.sr) else args.sr
  options = {name: getattr(args, name) for name in _feature_option_names() if hasattr(args, name)}
  res = batch.extract(args.inputs, tuple(args.features), out=args.out, sr=sr, n_fft=args.n_fft,
                      hop_length=args.hop_length, batch_size=args.batch_size, devices=args.devices,
                      num_workers=args.workers, retry_failed=args.retry_failed, progress=not args.no_progress,
                      wait=args.wait, **options, **({} if args.memory_budget is None else
                                                    {"memory_budget": args.memory_budget}))
  print(f"{res.n_ok} files ok, {res.n_failed} failed, {res.n_computed} computed now "
        f"({res.audio_seconds:.0f} s of audio in {res.seconds:.1f} s); features in {res.out}")
  for path, error in sorted(res.failures.items())[:10]:
    print(f"  failed: {path}: {error}")
  if res.n_failed > 10:
    print(f"  ... and {res.n_failed - 10} more (see {os.path.join(res.out, 'manifest.json')})")
  return 0


def _train(args) -> int:
  from jaxdsp import demo  # pylint: disable=import-outside-toplevel
  result = demo.train_cnn(args.data_root, out=args.out, epochs=args.epochs, test_fold=args.test_fold, sr=args.sr,
                          duration=args.duration, n_mels=args.n_mels, batch_size=args.batch_size,
                          learning_rate=args.learning_rate, channels=args.channels,
                          progress=not args.no_progress)
  print(f"test accuracy {result['test_accuracy']:.1%} (loss {result['test_loss']:.4f}) on {result['n_test']} "
        f"clips; logs, checkpoints and history.json in {os.path.abspath(args.out)}")
  return 0


_COMMANDS = {"demo": _demo, "analyze": _analyze, "extract": _extract, "train": _train}


def main(argv: Sequence[str] | None = None) -> int:
  """Runs the ``jaxdsp`` command line; returns the exit status."""
  parser = build_parser()
  args = parser.parse_args(argv)
  if args.version:
    from jaxdsp import __version__  # pylint: disable=import-outside-toplevel
    print(f"{PROG} {__version__}")
    return 0
  if args.command is None:
    parser.print_help()
    return 2
  if not args.no_compile_cache:
    from jaxdsp import _compile_cache  # pylint: disable=import-outside-toplevel

    _compile_cache.enable()
  try:
    return _COMMANDS[args.command](args)
  except KeyboardInterrupt:
    print(f"{PROG}: interrupted", file=sys.stderr)
    return 130
  except (OSError, ValueError, TypeError, KeyError, ImportError) as e:
    if os.environ.get("JAXDSP_DEBUG"):
      raise
    message = " ".join(str(e).split()) or type(e).__name__
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 1
  except BaseException as e:  # pylint: disable=broad-except
    # Out of memory (host MemoryError, XLA's RESOURCE_EXHAUSTED) or another XLA runtime failure:
    # one line, not a traceback.
    if not _is_runtime_error(e) or os.environ.get("JAXDSP_DEBUG"):
      raise
    first = (str(e).strip().splitlines() or [type(e).__name__])[0][:300]
    kind = "out of memory" if isinstance(e, MemoryError) or "RESOURCE_EXHAUSTED" in first else "XLA runtime error"
    hint = " (extract: a smaller --memory-budget)" if args.command == "extract" else ""
    print(f"{PROG}: error: {kind}: {first}{hint}", file=sys.stderr)
    return 1


def _is_runtime_error(e: BaseException) -> bool:
  """A host MemoryError or JAX's runtime error (``XlaRuntimeError``), without importing JAX."""
  if isinstance(e, MemoryError):
    return True
  jax = sys.modules.get("jax")
  runtime = getattr(getattr(jax, "errors", None), "JaxRuntimeError", None)
  return runtime is not None and isinstance(e, runtime)


if __name__ == "__main__":  # pragma: no cover
  sys.exit(main())
