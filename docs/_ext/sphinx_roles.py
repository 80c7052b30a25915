"""Griffe extension: render the Sphinx roles used in jdyn's docstrings as mkdocs links.

jdyn's docstrings follow numpydoc and cross-reference with Sphinx roles
(``:func:`~jdyn.analysis.correlation_dim```), which read well in ``help()`` and in
IDEs. mkdocstrings does not know the roles, so each is rewritten before parsing into
an autorefs link (``[correlation_dim][jdyn.analysis.correlation_dim]``), which the
strict build then checks: a reference to an object that is not documented fails it.
References into private modules (``jdyn.analysis._qr``) become plain code.
"""

from __future__ import annotations

import re

import griffe

_ROLE = re.compile(r":(?:func|class|meth|attr|mod|data|exc|obj):`(~?)([^`<>]+?)(?:\s*<([^`>]+)>)?`")


def _link(match: re.Match) -> str:
    short, text, target = match.groups()
    path = (target or text).strip().lstrip("~").rstrip("()")
    if target:
        label = text.strip()
    elif short:
        label = path.rsplit(".", 1)[-1]
    else:
        label = path
    if any(part.startswith("_") for part in path.split(".")) or not path.startswith("jdyn"):
        return f"`{label}`"
    return f"[`{label}`][{path}]"


def convert(text: str) -> str:
    """Replace every Sphinx cross-reference role in ``text`` by an autorefs link."""
    return _ROLE.sub(_link, text)


class SphinxRoles(griffe.Extension):
    """Rewrite Sphinx roles in every docstring that griffe loads."""

    def on_instance(self, *, node, obj, agent, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = convert(obj.docstring.value)
