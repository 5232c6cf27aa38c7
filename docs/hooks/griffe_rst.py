"""Griffe extension: the docstrings' reStructuredText idioms as the Markdown the site renders.

tokenverify's docstrings are read in terminals (``help()``) and by editors, and use the
few reST idioms those show well: ````code````, ``:class:`Name``` roles, ``>>>`` examples and
``::`` literal blocks. mkdocstrings renders Markdown, where a ``>>>`` line is a nested
quote, so the API reference converts each idiom when the docstring is loaded; the source
keeps its own spelling.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:class|meth|func|attr|mod|exc|data|obj|const):`~?([^`]+)`")
_DOUBLE_BACKTICKS = re.compile(r"``([^`]+)``")


def markdown(text: str) -> str:
    """One docstring's text, converted."""
    text = _ROLE.sub(r"`\1`", text)
    text = _DOUBLE_BACKTICKS.sub(r"`\1`", text)
    lines = text.split("\n")
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.lstrip().startswith(">>>"):
            block = []
            while index < len(lines) and lines[index].strip():
                block.append(lines[index])
                index += 1
            out += ["```pycon", *textwrap.dedent("\n".join(block)).split("\n"), "```"]
            continue
        if line.rstrip().endswith("::") and not line.lstrip().startswith("```"):
            stripped = line.rstrip()[:-2].rstrip()
            if stripped:
                out.append(stripped + ":")
            index += 1
            while index < len(lines) and not lines[index].strip():
                index += 1
            block = []
            indent = len(line) - len(line.lstrip())
            while index < len(lines) and (
                not lines[index].strip() or len(lines[index]) - len(lines[index].lstrip()) > indent
            ):
                block.append(lines[index])
                index += 1
            while block and not block[-1].strip():
                block.pop()
            out += ["", "```python", *textwrap.dedent("\n".join(block)).split("\n"), "```", ""]
            continue
        out.append(line)
        index += 1
    return "\n".join(out)


class RestructuredTextIdioms(griffe.Extension):
    """Convert each loaded object's docstring (see the module docstring)."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = markdown(obj.docstring.value)
