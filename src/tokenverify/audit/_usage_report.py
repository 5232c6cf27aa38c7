"""The usage analysis as report models (pydantic, loaded only with the report)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._times import from_epoch
from ..formats._audit_report import GrantInfo, NodeOverlap, OverGrant, UsageReport, UsageSeries
from ._findings import human_duration

if TYPE_CHECKING:
    from ._usage import Usage

__all__ = ["SERIES_SHOWN", "usage_report"]

#: Series a report holds (each up to 2,000 points); every over_grant period is kept.
SERIES_SHOWN = 200


def usage_report(usage: Usage | None, duplicates: int) -> UsageReport:
    """Sweep ``usage`` (None: no genuine checkout) into a :class:`UsageReport`."""
    if usage is None:
        return UsageReport(
            checkouts=0,
            series=[],
            series_total=0,
            over_grant=[],
            node_overlaps=[],
            duplicate_consumption_tokens=duplicates,
        )
    results, overlaps = usage.analyse()
    shown = sorted(
        range(len(results)),
        key=lambda i: (results[i].grant is None, -results[i].checkouts, i),
    )[:SERIES_SHOWN]
    series: list[UsageSeries] = []
    over: list[OverGrant] = []
    for result in [results[i] for i in sorted(shown)]:
        sweep, grant = result.sweep, result.grant
        info = None
        if grant is not None and result.grant_value is not None:
            info = GrantInfo(
                max_count=result.grant_value,
                unit=result.unit,
                overage=grant.overage,
                allow_check_in=grant.allow_check_in,
                origin=grant.origin,
            )
            for period, nodes in zip(sweep.periods, result.period_nodes, strict=True):
                over.append(
                    OverGrant(
                        license_arn=result.license_arn,
                        entitlement=result.entitlement,
                        unit=result.unit,
                        start=from_epoch(period.start),
                        end=from_epoch(period.end),
                        duration_seconds=period.end - period.start,
                        duration=human_duration(period.end - period.start),
                        peak=period.peak,
                        peak_at=from_epoch(period.peak_at),
                        granted=result.grant_value,
                        overage_allowed=grant.overage,
                        nodes_at_peak=nodes,
                    )
                )
        series.append(
            UsageSeries(
                license_arn=result.license_arn,
                entitlement=result.entitlement,
                unit=result.unit,
                checkouts=result.checkouts,
                peak=sweep.peak,
                peak_at=from_epoch(sweep.peak_at) if sweep.peak_at is not None else None,
                nodes_at_peak=result.nodes_at_peak,
                nodes_at_peak_count=result.nodes_at_peak_count,
                grant=info,
                note=result.note,
                exact=sweep.exact,
                bucket_seconds=sweep.bucket_seconds,
                points=[(from_epoch(moment), level) for moment, level in sweep.points],
                over_grant_periods=sweep.periods_total,
                over_grant_seconds=sweep.seconds_over,
            )
        )
    return UsageReport(
        checkouts=usage.checkouts,
        series=series,
        series_total=len(results),
        over_grant=over,
        node_overlaps=[
            NodeOverlap(
                license_arn=overlap.license_arn,
                node_id=overlap.node_id,
                overlapping=overlap.overlapping,
                most_at_once=overlap.most_at_once,
                first_at=from_epoch(overlap.first_at),
                examples=overlap.examples,
            )
            for overlap in overlaps
        ],
        duplicate_consumption_tokens=duplicates,
    )
