"""Markdown that shows text from a scenario or results file as text.

A Markdown viewer that does not sanitise renders raw HTML (``<script>``, ``<img
onerror=...>``) and follows links (``[x](javascript:...)``, reference definitions).
:func:`escape` makes any string inert: ``&``, ``<`` and ``>`` become entities (no tag
or autolink can open) and ``[``, ``]`` and backslashes are backslash-escaped (no link
or image can form); line breaks become spaces, so a string cannot start a block of its
own. :func:`verbatim` shows a whole file (the scenario) exactly, in a block it cannot leave.
"""

from __future__ import annotations

import re

__all__ = ["escape", "verbatim"]

_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_SPECIAL = re.compile(r"[&<>\[\]\\\r\n]")


def _replace(match):
    char = match.group()
    if char in _ENTITIES:
        return _ENTITIES[char]
    return " " if char in "\r\n" else "\\" + char


def escape(text) -> str:
    """``text`` as inert inline Markdown (it renders as the same characters).

    Parameters
    ----------
    text : object
        Converted with ``str``.
    """
    return _SPECIAL.sub(_replace, str(text))


def verbatim(text, language="") -> str:
    """``text`` as a preformatted block of ``report.md``: an HTML ``<pre>`` block with
    the text escaped. CommonMark ends such a block only at ``</pre>``, which escaped text
    cannot contain, and decodes the entities, so the text shows exactly as it is, with
    no character of it able to open a tag or to end the block (a fenced block, by
    contrast, would leave a ``<`` of the text raw in the file)."""
    text = str(text).rstrip("\n")
    body = "".join(_ENTITIES.get(c, c) for c in text)
    attr = f' class="language-{language}"' if re.fullmatch(r"\w+", language) else ""
    return f"<pre><code{attr}>{body}\n</code></pre>"
