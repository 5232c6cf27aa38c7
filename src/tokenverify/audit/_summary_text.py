"""The summary for people: provenance first, then integrity, policy, lifecycle, usage.

Every value a token or file carries goes through :func:`tokenverify._display.printable`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from .._display import printable
from ._findings import format_window, human_duration

if TYPE_CHECKING:
    from ..formats._audit_report import AuditSummary
    from ._summary import Summary

__all__ = ["number", "summary_lines"]

_TITLES = {
    "integrity": "integrity (security events)",
    "policy": "policy (used where it does not belong)",
    "lifecycle": "lifecycle (outside its time)",
}


def number(value: float) -> str:
    """``1,234`` or ``2.5``: a quantity as people read it."""
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.6g}"


def summary_lines(summary: Summary, *, top: int = 5) -> list[str]:
    """A few lines: what was audited, then each kind of finding, then usage."""
    report = summary.report()
    p = printable
    at = "at issue" if report.checked_at == "issued" else f"at {_time(report.checked_at)}"
    lines = [
        f"audited {report.total:,} tokens {at}: {report.ok:,} valid, {report.rejected:,} rejected"
    ]
    lines.extend(_provenance(report))
    lines.extend(_totals(report, top))
    for kind in report.findings:
        title = _TITLES[kind.kind]
        if not kind.tokens:
            lines.append(f"  {title}: none")
            continue
        reasons = ", ".join(f"{p(name)} {count:,}" for name, count in kind.by_reason.items())
        affected = ""
        if kind.licenses_count:
            affected = (
                f"; {_count(kind.licenses_count, 'license')}, {_count(kind.nodes_count, 'node')}"
            )
        lines.append(f"  {title}: {kind.tokens:,} ({reasons}{affected})")
        for finding in kind.findings[:top]:
            lines.append(f"      {p(finding.source)}  {p(finding.reason)}: {p(finding.message)}")
        if len(kind.findings) > top:
            lines.append(f"      ... and {kind.tokens - top:,} more")
        for group in kind.groups[:top]:
            lines.append(
                f"      {group.tokens:,} {p(group.reason)}  {p(group.license_arn)}: "
                f"{p(group.description)} ({_count(group.nodes_count, 'node')})"
            )
        if len(kind.groups) > top:
            lines.append(f"      ... and {len(kind.groups) - top:,} more groups")
    lines.extend(_usage(report, top))
    return lines


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def _totals(report: AuditSummary, top: int) -> list[str]:
    # The counts people already read: by reason, by key, duplicates, what expires next.
    p = printable
    reasons = ", ".join(f"{p(name)} {count:,}" for name, count in report.by_reason.items())
    lines = [f"  by reason    {reasons}"]
    keys = list(report.by_key_fingerprint.items())
    for index, (name, counts) in enumerate(keys[:top]):
        lines.append(
            f"  {'by key' if index == 0 else '':<12} {p(name)}  {counts.ok:,} valid, "
            f"{counts.rejected:,} rejected"
        )
    if report.duplicate_tokens:
        lines.append(
            f"  duplicates   {report.duplicate_tokens:,} consumption tokens appear more than once"
        )
    else:
        lines.append("  duplicates   none")
    expiring = report.expiring
    lines.append(
        f"  expiring     {expiring.count:,} valid tokens expire within "
        f"{format_window(expiring.window_seconds)} of {_time(expiring.reference)}"
    )
    return lines


def _provenance(report: AuditSummary) -> list[str]:
    provenance = report.provenance
    if provenance is None:
        return []
    p = printable
    keys = ", ".join(f"{p(k.fingerprint)} ({p(k.thumbprint)})" for k in provenance.keys)
    sources = ", ".join(
        f"{p(s.source)} ({_count(s.items, 'item')})" for s in provenance.sources[:3]
    )
    if len(provenance.sources) > 3:
        sources += f" and {len(provenance.sources) - 3:,} more"
    lines = [f"  keys         {keys}", f"  sources      {sources}"]
    if provenance.revocations is not None:
        revocations = provenance.revocations
        lines.append(
            f"  revocations  {p(revocations.path)} ({revocations.entries:,} entries, "
            f"sha256 {revocations.sha256})"
        )
    if provenance.skipped_total:
        shown = ", ".join(f"{p(item.source)} ({p(item.what)})" for item in provenance.skipped[:3])
        more = f" and {provenance.skipped_total - 3:,} more" if provenance.skipped_total > 3 else ""
        lines.append(f"  skipped      {provenance.skipped_total:,} not checkouts: {shown}{more}")
    lines.append(f"  results      sha256 {provenance.results_sha256}")
    return lines


def _usage(report: AuditSummary, top: int) -> list[str]:
    usage = report.usage
    if usage is None or not usage.series:
        return ["  usage: no genuine checkout"]
    p = printable
    lines = [f"  usage: {usage.checkouts:,} genuine checkouts"]
    shown = sorted(usage.series, key=lambda s: (s.grant is None, -s.over_grant_periods))[:top]
    for series in shown:
        grant = ""
        if series.grant is not None:
            grant = f" of {number(series.grant.max_count)} granted"
            if series.over_grant_periods:
                grant += (
                    f", OVER for {human_duration(series.over_grant_seconds)} in "
                    f"{series.over_grant_periods:,} periods"
                )
        when = f" at {_time(series.peak_at)}" if series.peak_at is not None else ""
        lines.append(
            f"      {p(series.entitlement)} of {p(series.license_arn)}: peak "
            f"{number(series.peak)} {p(series.unit)}{grant}{when} "
            f"({_count(series.nodes_at_peak_count, 'node')})"
        )
    if len(usage.series) > top:
        lines.append(f"      ... and {len(usage.series) - top:,} more series")
    for over in usage.over_grant[:top]:
        nodes = ", ".join(p(node) for node in over.nodes_at_peak[:3])
        lines.append(
            f"      over_grant {p(over.entitlement)}: {number(over.peak)} of "
            f"{number(over.granted)} {p(over.unit)} for {over.duration} from "
            f"{_time(over.start)} (nodes {nodes})"
        )
    if usage.node_overlaps:
        lines.append(
            f"      {len(usage.node_overlaps):,} nodes held two checkouts of one license at once"
        )
    if usage.duplicate_consumption_tokens:
        lines.append(
            f"      {usage.duplicate_consumption_tokens:,} consumption tokens stored more than "
            "once (counted once)"
        )
    return lines


def _time(moment: object) -> str:
    if isinstance(moment, datetime):
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(moment)
