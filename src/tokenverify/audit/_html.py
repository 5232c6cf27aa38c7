"""The HTML audit report: one self-contained file that opens in an air-gapped browser.

Charts are drawn by matplotlib (``pip install 'tokenverify[audit]'``) as SVG and inlined;
there is no script, no font, no stylesheet and no image to fetch, and a Content Security
Policy forbids the page to load anything at all. Every value from the audited store (ids,
messages, node ids) is escaped: a hostile file name stays text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .. import __version__
from ..formats._audit_report import AuditSummary, TimelineRow
from ._html_parts import (
    escape as _e,
)
from ._html_parts import (
    figure as _figure,
)
from ._html_parts import (
    id_cell,
    mathtext_safe,
    source_cell,
)
from ._html_parts import (
    svg as _svg,
)
from ._html_parts import (
    table as _table,
)
from ._html_parts import (
    when as _when,
)
from ._summary import Summary

__all__ = ["charts_available", "render_html"]

_OK_COLOUR = "#2e7d32"
_REJECTED_COLOUR = "#c62828"
_GENUINE_REJECTED_COLOUR = "#f9a825"
_NOW_COLOUR = "#1565c0"
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 1100px; color: #1b1b1b; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: .2em; } h2 { margin-top: 1.8em; font-size: 1.2em; }
.totals { font-size: 1.1em; } .ok { color: #2e7d32; } .bad { color: #c62828; }
table { border-collapse: collapse; width: 100%; font-size: 12.5px; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid #ddd;
         vertical-align: top; overflow-wrap: anywhere; }
th { background: #f3f3f3; white-space: nowrap; }
td.n, th.n { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.nowrap { white-space: nowrap; overflow-wrap: normal; }
td.src { overflow-wrap: normal; word-break: normal; min-width: 16em; }
td.id { overflow-wrap: normal; word-break: normal; min-width: 12em; }
td.src span, td.id span { white-space: nowrap; }
figure { margin: 0; } figure svg { max-width: 100%; height: auto; }
.note { color: #666; } code { font-size: 12px; }
dl.prov { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; }
dl.prov dt { font-weight: 600; } dl.prov dd { margin: 0; overflow-wrap: anywhere; }
details { margin: .3em 0; } summary { cursor: pointer; }
.kind-integrity h2 { color: #c62828; } .kind-policy h2 { color: #ef6c00; }
@media print {
  body { margin: 0; max-width: none; font-size: 11px; }
  details > * { display: block; } details:not([open]) > :not(summary) { display: block; }
  figure, table, tr { break-inside: avoid; } h2 { break-after: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""


def charts_available() -> bool:
    """Whether matplotlib (the ``audit`` extra) is installed."""
    import importlib.util

    return importlib.util.find_spec("matplotlib") is not None


def render_html(summary: Summary, *, title: str = "tokenverify audit") -> str:
    """The report of ``summary`` as one HTML document (a str)."""
    from ._html_findings import findings_sections, provenance_section, usage_section

    report = summary.report()
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        _totals(report),
        provenance_section(report),
        *findings_sections(report),
        usage_section(report),
        '<section id="reasons"><h2>Reasons</h2>',
        f'<figure id="reasons-chart">{_reasons_svg(report)}</figure></section>',
        '<section id="timeline"><h2>Validity timeline (issuedAt to expiration, per license '
        "and node)</h2>",
        _timeline_section(report),
        "</section>",
        '<section id="keys"><h2>By key, license and node</h2>',
        _counts_table("Key fingerprint", report.by_key_fingerprint),
        _counts_table("License ARN", report.by_license_arn),
        _counts_table("Node", report.by_node_id),
        "</section>",
        '<section id="duplicates"><h2>Duplicated consumption tokens</h2>',
        _duplicates(report),
        "</section>",
        '<section id="expiring"><h2>Expiring soon</h2>',
        _expiring(report),
        "</section>",
        f'<footer class="note"><p>tokenverify {_e(__version__)}. Signed values only: '
        "license, node and key are shown for tokens whose signature verified.</p></footer>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _short_time(text: str | None) -> str:
    # "2026-11-19T14:15:55Z" -> "2026-11-19 14:15Z": the table's narrowest column.
    if text is None or len(text) < 16:
        return text or ""
    return f"{text[:10]} {text[11:16]}Z"


def _totals(report: AuditSummary) -> str:
    return (
        f'<p class="totals">{report.total:,} tokens checked {_e(_when(report.checked_at))}: '
        f'<b class="ok">{report.ok:,} valid</b>, '
        f'<b class="bad">{report.rejected:,} rejected</b>.</p>'
    )


# -- charts ------------------------------------------------------------------------------


def _reasons_svg(report: AuditSummary) -> str:
    names = list(report.by_reason)
    counts = [report.by_reason[name] for name in names]
    figure = _figure(8.5, 0.45 * len(names) + 1.1)
    axes = figure.add_subplot()
    colours = [_OK_COLOUR if name == "ok" else _REJECTED_COLOUR for name in names]
    bars = axes.barh(names, counts, color=colours)
    axes.invert_yaxis()
    axes.bar_label(bars, labels=[f"{count:,}" for count in counts], padding=3, fontsize=9)
    axes.set_xlabel("tokens")
    axes.set_xlim(0, max([*counts, 1]) * 1.15)
    axes.spines[["top", "right"]].set_visible(False)
    axes.set_title(f"{report.total:,} tokens by outcome", fontsize=11, loc="left")
    return _svg(figure, "reasons")


def _timeline_section(report: AuditSummary) -> str:
    if not report.timeline:
        return '<p class="note">No token\'s signature verified: nothing to draw.</p>'
    note = ""
    if report.timeline_rows > len(report.timeline):
        note = (
            f'<p class="note">The {len(report.timeline)} license/node pairs with the latest '
            f"expirations, of {report.timeline_rows:,}.</p>"
        )
    return f'<figure id="timeline-chart">{_timeline_svg(report)}</figure>{note}'


def _label(row: TimelineRow) -> str:
    license_id = row.license_arn.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    if len(license_id) > 18:
        license_id = license_id[:16] + "…"
    node = row.node_id if row.node_id is not None else "(no node)"
    if len(node) > 22:
        node = node[:20] + "…"
    return mathtext_safe(f"{node} · {license_id}")


def _timeline_svg(report: AuditSummary) -> str:
    import matplotlib.dates
    from matplotlib.artist import Artist
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    dates: Any = matplotlib.dates  # partly untyped

    rows = report.timeline
    figure = _figure(10.5, 0.34 * len(rows) + 1.6)
    axes = figure.add_subplot()
    for index, row in enumerate(rows):
        for spans, colour in (
            (row.rejected_spans, _GENUINE_REJECTED_COLOUR),
            (row.valid_spans, _OK_COLOUR),
        ):
            ranges = [
                (dates.date2num(span.start), dates.date2num(span.end) - dates.date2num(span.start))
                for span in spans
            ]
            axes.broken_barh(ranges, (index - 0.35, 0.7), facecolors=colour)
    moment = report.checked_at if isinstance(report.checked_at, datetime) else None
    if moment is not None:
        axes.axvline(dates.date2num(moment), color=_NOW_COLOUR, linestyle="--", linewidth=1.2)
    axes.set_yticks(range(len(rows)), [_label(row) for row in rows], fontsize=8)
    axes.set_ylim(len(rows) - 0.5, -0.5)
    locator = dates.AutoDateLocator()
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(dates.ConciseDateFormatter(locator))
    axes.grid(axis="x", color="#e0e0e0", linewidth=0.6)
    axes.set_axisbelow(True)
    axes.spines[["top", "right"]].set_visible(False)
    legend: list[Artist] = [
        Patch(color=_OK_COLOUR, label="valid"),
        Patch(color=_GENUINE_REJECTED_COLOUR, label="genuine, rejected"),
    ]
    if moment is not None:
        legend.append(Line2D([], [], color=_NOW_COLOUR, linestyle="--", label="checked at"))
    axes.legend(handles=legend, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    axes.set_title("issuedAt → expiration (UTC)", fontsize=11, loc="left")
    return _svg(figure, "timeline")


# -- tables ------------------------------------------------------------------------------


def _counts_table(label: str, table: dict[str, Any], top: int = 25) -> str:
    rows = [
        [
            f"<td><code>{_e(name or '(no node)')}</code></td>",
            f'<td class="n">{counts.ok:,}</td>',
            f'<td class="n">{counts.rejected:,}</td>',
        ]
        for name, counts in list(table.items())[:top]
    ]
    more = f'<p class="note">{len(table) - top:,} more not shown.</p>' if len(table) > top else ""
    return _table([label, "#valid", "#rejected"], rows) + more


def _duplicates(report: AuditSummary) -> str:
    if not report.duplicates:
        return '<p class="note">No licenseConsumptionToken appears twice.</p>'
    rows = [
        [
            f"<td><code>{_e(duplicate.license_consumption_token)}</code></td>",
            f'<td class="n">{duplicate.count:,}</td>',
            f"<td>{_e(', '.join(duplicate.sources))}</td>",
        ]
        for duplicate in report.duplicates
    ]
    return f"<p>{report.duplicate_tokens:,} consumption tokens appear more than once.</p>" + _table(
        ["licenseConsumptionToken", "#copies", "first sources"], rows, "duplicates-table"
    )


def _expiring(report: AuditSummary) -> str:
    from ._findings import format_window

    expiring = report.expiring
    head = (
        f"<p>{expiring.count:,} valid tokens expire within "
        f"{_e(format_window(expiring.window_seconds))} of {_e(_when(expiring.reference))}.</p>"
    )
    if not expiring.soonest:
        return head
    rows = [
        [
            f'<td class="nowrap">{_e(_when(token.expiration))}</td>',
            source_cell(token.source),
            f"<td>{_e(token.node_id)}</td>",
            id_cell(token.license_arn),
        ]
        for token in expiring.soonest
    ]
    return head + _table(["Expires", "Source", "Node", "License"], rows, "expiring-table")
