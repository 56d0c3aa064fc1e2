"""Datasets: the UrbanSound8K layout (reader and a synthetic stand-in) and batching.

``UrbanSound8K(root, folds=..., sr=22050, duration=4.0, feature="logmel")`` yields
``(features, labels)`` batches, features ``(batch, n_mels, n_frames)``; pass it (or
``ds.arrays()``) to ``jaxdsp.nn.fit``. ``make_synthetic_urbansound(root)`` writes a small dataset in
exactly the real layout.
"""

from jaxdsp.data.synthetic import CLASS_NAMES
from jaxdsp.data.synthetic import make_synthetic_urbansound
from jaxdsp.data.synthetic import synthesize
from jaxdsp.data.urbansound import UrbanSound8K

__all__ = [
    "CLASS_NAMES",
    "UrbanSound8K",
    "make_synthetic_urbansound",
    "synthesize",
]
