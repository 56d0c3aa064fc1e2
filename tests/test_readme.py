"""The README's tour runs as written."""

import pathlib
import re

import numpy as np

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"


def test_readme_tour_runs():
  blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
  assert blocks, "README has no python block"
  scope = {}
  exec(compile(blocks[0], "README.md", "exec"), scope)  # noqa: S102 - our own documentation
  assert scope["S_db"].shape[0] == 1025 and scope["mel"].shape[0] == 64
  assert set(scope["feats"]) == {"rms", "spectral_centroid", "mfcc"}
  assert np.all(np.isfinite(np.asarray(scope["grad"])))
  assert scope["W"].shape == (64, scope["sr"]) and scope["P"].shape == (64, scope["y"].shape[-1])
  half = scope["sr"] // 2  # W is of the first second only: compare away from its end
  np.testing.assert_allclose(scope["P"][:, :half], np.abs(np.asarray(scope["W"][:, :half])) ** 2, rtol=1e-3,
                             atol=1e-5 * float(np.max(scope["P"])))
