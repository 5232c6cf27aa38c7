"""The HTML report's building blocks: escaped text and cells, tables, and charts as SVG.

Shared by the report's page (:mod:`._html`) and its sections (:mod:`._html_findings`).
Every value goes through :func:`tokenverify._display.printable` before it is escaped.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

__all__ = ["escape", "figure", "id_cell", "mathtext_safe", "source_cell", "svg", "table", "when"]


_SVG_PROLOGUE = re.compile(r"\A.*?(?=<svg\b)", re.DOTALL)


# matplotlib's RDF block names creativecommons.org and purl.org: nothing a page needs.
_SVG_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.DOTALL)


# matplotlib repeats each text as a comment: the drawn paths are enough.
_SVG_COMMENT = re.compile(r"<!--.*?-->\s*", re.DOTALL)


def escape(value: object) -> str:
    from .._display import printable

    return html.escape("" if value is None else printable(value), quote=True)


_BREAK_AFTER = re.compile(r"(?<=[/\\:])")


def _segments(value: object) -> str:
    # Each piece between separators stays whole ('archive-2026-11.jsonl' never breaks at
    # its hyphens); a line may break only after a '/', '\\' or ':'.
    pieces = _BREAK_AFTER.split("" if value is None else str(value))
    return "<wbr>".join(f"<span>{escape(piece)}</span>" for piece in pieces if piece)


def source_cell(value: object) -> str:
    """An id, escaped, breakable only after its path separators and colons."""
    return f'<td class="src"><code>{_segments(value)}</code></td>'


def id_cell(value: object) -> str:
    """A signed identifier (an ARN), breakable only after its colons and slashes."""
    return f'<td class="id">{_segments(value)}</td>'


def mathtext_safe(label: str) -> str:
    """A chart label shown as written: escaped by printable, and '$' (which would start
    matplotlib's mathtext, and abort the report on ``$\\undefined$``) made literal."""
    from .._display import printable

    return printable(label).replace("$", r"\$")


def when(moment: datetime | str) -> str:
    if isinstance(moment, datetime):
        return moment.strftime("%Y-%m-%d %H:%M:%SZ")
    return "at issue (each token at its own issuedAt)"


def figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=96, layout="constrained")


def svg(figure: Any, salt: str) -> str:
    import matplotlib

    buffer = io.StringIO()
    # Fixed salt and no date: the same audit gives the same file, and the ids of two
    # charts on one page never collide. Text becomes paths: no font to load.
    with matplotlib.rc_context({"svg.hashsalt": salt, "svg.fonttype": "path"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    svg = _SVG_PROLOGUE.sub("", buffer.getvalue(), count=1)
    return _SVG_COMMENT.sub("", _SVG_METADATA.sub("", svg, count=1))


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], table_id: str = "") -> str:
    identifier = f' id="{table_id}"' if table_id else ""
    head = "".join(
        f'<th class="n">{escape(name[1:])}</th>'
        if name.startswith("#")
        else f"<th>{escape(name)}</th>"
        for name in headers
    )
    body = "\n".join("<tr>" + "".join(cells) + "</tr>" for cells in rows)
    return f"<table{identifier}><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>"
