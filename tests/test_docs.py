"""The documentation site builds with warnings as errors, covers the API, and its examples run."""

import importlib
import importlib.util
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md") if "_ext" not in p.parts)
PACKAGES = ["layers", "models", "objectives", "training", "systems", "analysis", "estimators",
            "pipeline", "scenarios", "report", "datafile", "control", "noise_reduction"]
MODULES = ["jprop", "gradcheck", "embedding", "baselines"]


def _roles():
    spec = importlib.util.spec_from_file_location("sphinx_roles", DOCS / "_ext" / "sphinx_roles.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    pytest.importorskip("mkdocs", reason="the docs extra is not installed")
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-5000:]
    return out


def test_site_builds_strict(site):
    assert (site / "index.html").is_file()
    assert (site / "api" / "analysis" / "index.html").is_file()


def _public_names():
    for name in PACKAGES:
        module = importlib.import_module(f"jdyn.{name}")
        yield name, [f"jdyn.{name}.{member}" for member in module.__all__]
    for name in MODULES:
        module = importlib.import_module(f"jdyn.{name}")
        public = getattr(module, "__all__", None) or [
            m for m, v in vars(module).items()
            if not m.startswith("_") and callable(v) and getattr(v, "__module__", "") == module.__name__]
        yield name, [f"jdyn.{name}.{member}" for member in public]


def test_api_reference_covers_every_public_name(site):
    html = "".join(p.read_text(encoding="utf-8") for p in (site / "api").rglob("*.html"))
    missing = [path for _, paths in _public_names() for path in paths if f'id="{path}"' not in html]
    assert not missing, f"not in the API reference: {missing}"


def test_every_page_is_in_the_navigation():
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    orphans = [str(p.relative_to(DOCS)) for p in PAGES if str(p.relative_to(DOCS)) not in nav]
    assert not orphans


def test_every_image_a_page_uses_exists():
    for page in PAGES:
        for target in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", page.read_text(encoding="utf-8")):
            assert (page.parent / target).resolve().is_file(), f"{page.name}: {target}"


@pytest.mark.parametrize("text, expected", [
    (":func:`~jdyn.analysis.correlation_dim`", "[`correlation_dim`][jdyn.analysis.correlation_dim]"),
    (":class:`jdyn.models.MLP`", "[`jdyn.models.MLP`][jdyn.models.MLP]"),
    (":meth:`~jdyn.models.Sequential.jacobian()`", "[`jacobian`][jdyn.models.Sequential.jacobian]"),
    (":func:`the fit <jdyn.training.train>`", "[`the fit`][jdyn.training.train]"),
    (":func:`train`", "`train`"),
    (":class:`~jdyn.analysis._qr.TangentFrames`", "`TangentFrames`"),
    (":mod:`numpy.linalg`", "`numpy.linalg`"),
    ("plain ``code`` stays", "plain ``code`` stays"),
])
def test_sphinx_roles_become_links(text, expected):
    pytest.importorskip("griffe")
    assert _roles().convert(text) == expected


def _examples():
    for page in PAGES:
        blocks = re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.S)
        if blocks:
            yield pytest.param(page, blocks, id=str(page.relative_to(DOCS)))


#: pages whose examples need an optional extra: page -> the package it needs
NEEDS = {"catalogue.md": "dysts"}


@pytest.mark.parametrize("page, blocks", list(_examples()))
def test_page_examples_run(page, blocks, tmp_path, monkeypatch):
    """A page's ``python`` blocks run in order in one namespace, in a scratch directory."""
    needed = NEEDS.get(str(page.relative_to(DOCS)))
    if needed:
        pytest.importorskip(needed, reason=f"the page's examples need {needed} (an extra)")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace = {"__name__": "docs_example"}
    for code in blocks:
        exec(compile(code, str(page), "exec"), namespace)


def test_scenario_format_page_is_the_schema():
    """docs/scenario-format.md carries the table the loader validates against, verbatim."""
    from jdyn.scenarios.schema import markdown_table
    assert markdown_table() in (DOCS / "scenario-format.md").read_text(encoding="utf-8")
