"""The HTML report's provenance header, findings by kind and usage charts."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from ..formats._audit_report import AuditSummary, KindSummary, UsageSeries
from ._html_parts import escape as _e
from ._html_parts import figure as _figure
from ._html_parts import id_cell, mathtext_safe, source_cell
from ._html_parts import svg as _svg
from ._html_parts import table as _table
from ._html_parts import when as _when
from ._summary_text import number

__all__ = ["findings_sections", "provenance_section", "usage_section"]

_TITLES = {
    "integrity": "Integrity: security events",
    "policy": "Policy: used where it does not belong",
    "lifecycle": "Lifecycle: outside its time",
}
_USAGE_COLOUR = "#1565c0"
_GRANT_COLOUR = "#c62828"
_CHARTS_SHOWN = 12


def provenance_section(report: AuditSummary) -> str:
    provenance = report.provenance
    if provenance is None:
        return ""
    keys = "<br>".join(
        f"<code>{_e(k.fingerprint)}</code> thumbprint <code>{_e(k.thumbprint)}</code>, "
        f"pinned to {_e(', '.join(k.algorithms))}"
        + (f", from {_e(_when(k.not_before))}" if k.not_before else "")
        + (f", until {_e(_when(k.not_after))}" if k.not_after else "")
        + (f" ({_e(k.label)})" if k.label else "")
        for k in provenance.keys
    )
    policy = "<br>".join(
        f"{_e(name)}: <code>{_e(json.dumps(value, ensure_ascii=False))}</code>"
        for name, value in provenance.policy.items()
        if value not in (None, [], {})
    )
    sources = "<br>".join(
        f"<code>{_e(s.source)}</code>: {s.items:,} items" for s in provenance.sources
    )
    revocations = "none"
    if provenance.revocations is not None:
        r = provenance.revocations
        revocations = f"<code>{_e(r.path)}</code>, {r.entries:,} entries, sha256 {_e(r.sha256)}"
    skipped = "none"
    if provenance.skipped_total:
        skipped = f"{provenance.skipped_total:,} files that are not checkouts: " + ", ".join(
            f"<code>{_e(item.source)}</code> ({_e(item.what)})" for item in provenance.skipped[:20]
        )
    rows = [
        ("tokenverify", _e(provenance.tokenverify)),
        ("made", _e(_when(provenance.created_at))),
        ("judged at", _e(_when(provenance.at))),
        ("policy", policy or "none"),
        ("trusted keys", keys),
        ("revocations", revocations),
        ("sources", sources),
        ("skipped", skipped),
        (
            "results",
            f"{provenance.results:,}, sha256 <code>{_e(provenance.results_sha256)}</code> "
            "(sha256sum of the --format jsonl output)",
        ),
    ]
    body = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in rows)
    return f'<section id="provenance"><h2>Provenance</h2><dl class="prov">{body}</dl></section>'


def findings_sections(report: AuditSummary) -> list[str]:
    return [_kind_section(kind) for kind in report.findings]


def _kind_section(kind: KindSummary) -> str:
    head = f'<section id="{kind.kind}" class="kind-{kind.kind}"><h2>{_TITLES[kind.kind]}</h2>'
    if not kind.tokens:
        return head + '<p class="note">None.</p></section>'
    reasons = ", ".join(f"{_e(name)} {count:,}" for name, count in kind.by_reason.items())
    summary = f"<p>{kind.tokens:,} tokens: {reasons}."
    if kind.licenses_count:
        summary += (
            f" Affected: {kind.licenses_count:,} licenses, {kind.nodes_count:,} nodes "
            f"({', '.join(_e(n or '(no node)') for n in kind.nodes[:10])})."
        )
    summary += "</p>"
    if kind.kind == "lifecycle":
        groups = "".join(
            f"<details><summary>{group.tokens:,} {_e(group.reason)}: "
            f"<code>{_e(group.license_arn)}</code>, {_e(group.description)}</summary>"
            f"<p>{group.nodes_count:,} nodes: "
            f"{', '.join(_e(n or '(no node)') for n in group.nodes)}</p></details>"
            for group in kind.groups
        )
        return head + summary + groups + "</section>"
    rows = [
        [
            source_cell(finding.source),
            f'<td class="bad nowrap">{_e(finding.reason)}</td>',
            f"<td>{_e(finding.message)}</td>",
            id_cell(finding.license_arn),
            f"<td>{_e(finding.node_id)}</td>",
        ]
        for finding in kind.findings
    ]
    table = _table(
        ["Source", "Reason", "Message", "License (signed)", "Node (signed)"],
        rows,
        f"{kind.kind}-table",
    )
    more = ""
    if kind.tokens > len(kind.findings):
        more = f'<p class="note">The first {len(kind.findings):,} of {kind.tokens:,}.</p>'
    return head + summary + table + more + "</section>"


def usage_section(report: AuditSummary) -> str:
    usage = report.usage
    head = '<section id="usage"><h2>Usage against the grant</h2>'
    if usage is None or not usage.series:
        return head + '<p class="note">No genuine checkout: nothing to measure.</p></section>'
    rows = [
        [
            f"<td><code>{_e(s.license_arn)}</code></td>",
            f"<td>{_e(s.entitlement)}</td>",
            f'<td class="n">{_e(number(s.peak))}</td>',
            f"<td>{_e(s.unit)}</td>",
            f'<td class="n">{_e(number(s.grant.max_count)) if s.grant else "-"}</td>',
            f'<td class="nowrap">{_e(_when(s.peak_at)) if s.peak_at else ""}</td>',
            f'<td class="n">{s.nodes_at_peak_count:,}</td>',
            f'<td class="n">{s.over_grant_periods:,}</td>',
        ]
        for s in usage.series
    ]
    table = _table(
        ["License", "Entitlement", "#peak", "unit", "#granted", "peak at", "#nodes", "#over"],
        rows,
        "usage-table",
    )
    over = ""
    if usage.over_grant:
        over_rows = [
            [
                f"<td>{_e(o.entitlement)}</td>",
                f'<td class="nowrap">{_e(_when(o.start))}</td>',
                f'<td class="nowrap">{_e(o.duration)}</td>',
                f'<td class="n">{_e(number(o.peak))}</td>',
                f'<td class="n">{_e(number(o.granted))}</td>',
                f"<td>{_e(', '.join(o.nodes_at_peak))}</td>",
            ]
            for o in usage.over_grant
        ]
        over = "<h3>Over the grant (over_grant)</h3>" + _table(
            ["Entitlement", "from", "for", "#peak", "#granted", "nodes at peak"],
            over_rows,
            "over-grant-table",
        )
    overlaps = ""
    if usage.node_overlaps:
        overlap_rows = [
            [
                f"<td><code>{_e(o.node_id or '(no node)')}</code></td>",
                f"<td><code>{_e(o.license_arn)}</code></td>",
                f'<td class="n">{o.overlapping:,}</td>',
                f'<td class="n">{o.most_at_once:,}</td>',
                f'<td class="nowrap">{_e(_when(o.first_at))}</td>',
            ]
            for o in usage.node_overlaps
        ]
        overlaps = (
            "<details><summary>"
            f"{len(usage.node_overlaps):,} nodes held two checkouts of one license at once"
            "</summary>"
            + _table(
                ["Node", "License", "#overlapping", "#most at once", "first"],
                overlap_rows,
                "overlap-table",
            )
            + "</details>"
        )
    duplicates = ""
    if usage.duplicate_consumption_tokens:
        duplicates = (
            f'<p class="note">{usage.duplicate_consumption_tokens:,} consumption tokens are '
            "stored more than once; each counts once.</p>"
        )
    charted = sorted(usage.series, key=lambda s: (s.grant is None, -s.peak))[:_CHARTS_SHOWN]
    charts = "".join(
        f'<figure class="usage-chart">{_usage_svg(s, i)}</figure>' for i, s in enumerate(charted)
    )
    return head + table + over + overlaps + duplicates + charts + "</section>"


def _usage_svg(series: UsageSeries, index: int) -> str:
    import matplotlib.dates

    dates: Any = matplotlib.dates
    figure = _figure(10.5, 2.4)
    axes = figure.add_subplot()
    times = [dates.date2num(moment) for moment, _ in series.points]
    levels = [level for _, level in series.points]
    axes.step(times, levels, where="post", color=_USAGE_COLOUR, linewidth=1.2, label="in use")
    axes.fill_between(times, levels, step="post", color=_USAGE_COLOUR, alpha=0.12)
    if series.grant is not None:
        axes.axhline(
            series.grant.max_count, color=_GRANT_COLOUR, linestyle="--", linewidth=1.2,
            label=f"granted {number(series.grant.max_count)}",
        )  # fmt: skip
    if series.peak_at is not None and isinstance(series.peak_at, datetime):
        axes.plot([dates.date2num(series.peak_at)], [series.peak], "o", color=_USAGE_COLOUR)
    locator = dates.AutoDateLocator()
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(dates.ConciseDateFormatter(locator))
    axes.set_ylim(bottom=0)
    axes.set_ylabel(mathtext_safe(series.unit), fontsize=8)
    axes.grid(axis="y", color="#e0e0e0", linewidth=0.6)
    axes.spines[["top", "right"]].set_visible(False)
    axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    license_id = series.license_arn.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    title = f"{series.entitlement} of {license_id}: peak {number(series.peak)}"
    axes.set_title(mathtext_safe(title), fontsize=10, loc="left")
    return _svg(figure, f"usage{index}")
