"""report.md shows text from scenario and results files as text, never as HTML or links."""

import os
import re
import sys
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import markdown
import numpy as np
import pytest
import xarray as xr

from jdyn.scenarios.safe_markdown import escape, verbatim

TESTS = str(Path(__file__).parent)
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)

PAYLOADS = ['<script>alert(1)</script>', '<img src=x onerror="alert(2)">',
            '[click](javascript:alert(3))', '![pixel](http://tracker.example/p.png)',
            '</pre><script>alert(4)</script>', '```\n<b>fence</b>\n```',
            '\n[ref]: javascript:alert(5)\n', '&lt;already&gt; & <!-- comment -->',
            '<a href="javascript:alert(6)">x</a>', '| cell | <svg onload=alert(7)> |',
            '\\<script>alert(8)</script>', '<https://autolink.example>']
PAYLOAD = " ".join(PAYLOADS)


class Tags(HTMLParser):
    """Every tag and every href/src/on* attribute of rendered HTML."""

    def __init__(self):
        super().__init__()
        self.tags, self.links = set(), []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.links += [f"{k}={v}" for k, v in attrs if k in ("href", "src") or k.startswith("on")]


def render(md_text):
    parser = Tags()
    parser.feed(markdown.markdown(md_text, extensions=["tables", "fenced_code"]))
    return parser


@pytest.mark.parametrize("payload", PAYLOADS)
def test_escaped_text_renders_as_itself_and_nothing_else(payload):
    text = escape(payload)
    assert "<" not in text and ">" not in text
    html = render(f"Before {text} after.")
    assert html.tags <= {"p", "code"} and not html.links   # backticks may make code: inert
    if "`" not in payload:     # inside a code span an entity shows as written
        shown = re.sub(r"<[^>]+>", "", markdown.markdown(text))
        assert unescape(shown).split() == payload.split()


@pytest.mark.parametrize("payload", PAYLOADS)
def test_verbatim_blocks_cannot_be_left(payload):
    block = verbatim(f'name = "x"\ndescription = """{payload}"""', "toml")
    body = block.removeprefix('<pre><code class="language-toml">').removesuffix("</code></pre>")
    assert "<" not in body and ">" not in body
    html = render(f"Intro\n\n{block}\n\nOutro with *emphasis*")
    assert html.tags <= {"p", "pre", "code", "em"} and not html.links


@pytest.fixture(scope="module")
def payload_run(tmp_path_factory):
    """A run whose scenario description and every string the jobs return hold payloads,
    and its report."""
    from jdyn.report import build_report
    from jdyn.scenarios import loads, run
    root = tmp_path_factory.mktemp("payloads")
    text = (f'# {PAYLOADS[0]}\n[scenario]\nname = "payload"\ndescription = \'\'\'{PAYLOAD}\'\'\'\n'
            '[system]\nname = "henon"\n[observation]\nlength = 500\n'
            '[sweep]\nnoise = [0.0, 0.05]\nseed = [0, 1]\n')
    os.environ["JDYN_PAYLOAD"] = PAYLOAD
    try:
        run(loads(text), out_dir=root / "r", jobs=1, progress=False,
            job_fn="_fault_jobs:payload_job", reference_fn=False)
    finally:
        os.environ.pop("JDYN_PAYLOAD")
    build_report(root / "r")
    return root / "r"


def test_every_string_field_was_planted(payload_run):
    with xr.open_dataset(payload_run / "results.nc", engine="h5netcdf") as ds:
        strings = [n for n in ds.data_vars if ds[n].dtype.kind in "OSU"]
        planted = [n for n in strings
                   if any(PAYLOADS[0] in str(v) for v in np.ravel(ds[n].values))]
        assert set(strings) - {"job_id"} <= set(planted)
        assert PAYLOADS[0] in ds.attrs["scenario_description"]


def test_report_md_holds_no_raw_html_from_the_files(payload_run):
    md_text = (payload_run / "report.md").read_text(encoding="utf-8")
    assert PAYLOADS[0].replace("<", "&lt;").replace(">", "&gt;") in md_text
    ours = re.sub(r'<pre><code class="language-toml">|</code></pre>', "", md_text)
    assert "<" not in ours
    outside = re.sub(r"<pre><code.*?</code></pre>", "", md_text, flags=re.S)  # inert there
    assert not re.search(r"(?<!\\)\]\((javascript|http://tracker)", outside)
    html = render(md_text)
    assert not html.tags & {"script", "svg", "a", "b"}
    assert all(link.startswith("src=figures/") for link in html.links), html.links
