"""The API reference (``docs/build_api.py``, pdoc) builds, and documents every public name."""

import importlib.util
import pathlib
import re

import pytest

import jaxdsp as jd

pytest.importorskip("pdoc")

BUILD_API = pathlib.Path(__file__).resolve().parent.parent / "docs" / "build_api.py"


def _load_build_api():
  spec = importlib.util.spec_from_file_location("build_api", BUILD_API)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


@pytest.fixture(scope="module")
def api_dir(tmp_path_factory):
  out = tmp_path_factory.mktemp("api")
  assert _load_build_api().main(["-o", str(out)]) == 0
  return out


def test_index_and_package_page(api_dir):
  assert (api_dir / "index.html").is_file()
  assert (api_dir / "jaxdsp.html").is_file()
  for sub in ("nn", "data", "batch", "plot"):
    assert (api_dir / "jaxdsp" / f"{sub}.html").is_file(), sub


def test_private_modules_are_not_documented(api_dir):
  pages = [p.relative_to(api_dir).as_posix() for p in api_dir.rglob("*.html")]
  assert not [p for p in pages if re.search(r"(^|/)_", p)], pages


def test_every_public_name_is_on_the_package_page(api_dir):
  html = (api_dir / "jaxdsp.html").read_text(encoding="utf-8")
  ids = set(re.findall(r'\bid="([^"]+)"', html))
  missing = []
  for name in jd.__all__:
    if name in ids:
      continue
    # A submodule is listed as a link to its own page rather than documented in place.
    if f'href="jaxdsp/{name}.html"' in html and (api_dir / "jaxdsp" / f"{name}.html").is_file():
      continue
    missing.append(name)
  assert not missing, f"not on jaxdsp.html: {missing}"


def test_google_sections_are_rendered(api_dir):
  html = (api_dir / "jaxdsp.html").read_text(encoding="utf-8")
  assert "Arguments:" in html and "Returns:" in html  # "Args:"/"Returns:" parsed as Google style
