"""The usage sweep against a brute-force reference, and the usage analysis on records."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

import tokenverify as tv
from tokenverify.audit import AuditRecord, Summary
from tokenverify.audit._grants import Grant
from tokenverify.audit._usage import Usage, sweep

ARN = "arn:aws:license-manager::111122223333:license:l-0123"
FINGERPRINT = "aws:111122223333:Vendor:issuer-fingerprint"
T0 = 1_800_000_000.0

intervals = st.lists(
    st.tuples(st.integers(0, 60), st.integers(0, 25), st.sampled_from([0.0, 0.5, 1.0, 2.0, 10.0])),
    min_size=1,
    max_size=40,
)


def _level(triples: list[tuple[float, float, float]], moment: float) -> float:
    # The definition: the checkouts whose half-open [issuedAt, expiration) holds moment.
    return sum(value for start, end, value in triples if start <= moment < end)


def _step_at(points: list[tuple[float, float]], moment: float) -> float:
    level = 0.0
    for time, value in points:
        if time <= moment:
            level = value
    return level


@settings(max_examples=300, deadline=None)
@given(intervals, st.integers(0, 12))
def test_sweep_matches_brute_force(raw: list[tuple[int, int, float]], limit: int) -> None:
    triples = [(float(s), float(s + length), value) for s, length, value in raw]
    starts, ends, values = zip(*triples, strict=True)
    result = sweep(starts, ends, values, limit=float(limit))
    moments = sorted({t for s, e, _ in triples for t in (s, e)})
    levels = {moment: _level(triples, moment) for moment in moments}
    peak = max(levels.values())
    assert abs(result.peak - peak) < 1e-9
    if peak > 0:
        assert result.peak_at is not None
        assert abs(levels[result.peak_at] - peak) < 1e-9
        assert all(levels[m] < peak - 1e-9 for m in moments if m < result.peak_at)  # first
    assert result.exact
    for moment in moments:
        assert abs(_step_at(result.points, moment) - levels[moment]) < 1e-9
    # Periods above the limit: exactly the maximal runs of instants above it.
    runs: list[tuple[float, float]] = []
    for index, moment in enumerate(moments):
        if levels[moment] > limit:
            if runs and runs[-1][1] == moment:
                runs[-1] = (runs[-1][0], moments[index + 1])
            else:
                runs.append((moment, moments[index + 1]))
    assert [(p.start, p.end) for p in result.periods] == runs
    assert result.periods_total == len(runs)
    assert abs(result.seconds_over - sum(b - a for a, b in runs)) < 1e-9
    for period in result.periods:
        inside = [levels[m] for m in moments if period.start <= m < period.end]
        assert abs(period.peak - max(inside)) < 1e-9


@settings(max_examples=100, deadline=None)
@given(intervals, st.integers(2, 9))
def test_downsampled_series_keeps_the_peak(raw: list[tuple[int, int, float]], points: int) -> None:
    triples = [(float(s), float(s + length), value) for s, length, value in raw]
    starts, ends, values = zip(*triples, strict=True)
    result = sweep(starts, ends, values, max_points=points)
    exact = sweep(starts, ends, values)
    assert abs(result.peak - exact.peak) < 1e-9
    if not result.exact:
        # Every bucket shows the highest level within it: never below the true level.
        assert abs(max(level for _, level in result.points) - exact.peak) < 1e-9
        for moment, level in exact.points:
            assert _step_at(result.points, moment) >= level - 1e-9 or moment == max(ends)
        assert result.points[-1][1] == 0.0


def test_a_renewal_at_the_second_of_expiry_is_not_counted_twice() -> None:
    result = sweep([0.0, 10.0], [10.0, 20.0], [5.0, 5.0], limit=5.0)
    assert result.peak == 5.0
    assert result.periods == []


def _record(
    source: str,
    node: str,
    issued: float,
    expires: float,
    entitlements: tuple[tuple[str, str | None, str], ...],
    *,
    token: str | None = None,
    ok: bool = True,
) -> AuditRecord:
    from tokenverify._times import from_epoch
    from tokenverify.audit._record import iso_utc

    return AuditRecord(
        source,
        ok,
        None if ok else tv.Reason.expired,
        ARN,
        node,
        FINGERPRINT,
        iso_utc(from_epoch(expires)),
        iso_utc(from_epoch(issued)),
        token or source,
        "valid" if ok else "expired",
        entitlements,
    )


def test_usage_adds_units_of_one_family_and_reports_over_grant_with_nodes() -> None:
    grant = Grant(ARN, "Storage", Decimal(1), "Terabytes", False, True, "--grant")
    summary = Summary(T0 + 10 * 3600, grants=[grant])
    summary.add(_record("a", "node-1", T0, T0 + 3600, (("Storage", "500", "Gigabytes"),)))
    summary.add(_record("b", "node-2", T0 + 600, T0 + 1800, (("Storage", "0.75", "Terabytes"),)))
    # Expired by the audit's instant, still genuine: its interval counts all the same.
    summary.add(
        _record("c", "node-3", T0 + 900, T0 + 1200, (("Storage", "1", "Gigabytes"),), ok=False)
    )
    usage = summary.report().usage
    assert usage is not None
    (series,) = usage.series
    assert (series.entitlement, series.unit, series.checkouts) == ("Storage", "Terabytes", 3)
    assert series.peak == 1.251
    assert series.peak_at is not None
    assert series.peak_at.timestamp() == T0 + 900
    assert series.nodes_at_peak == ["node-1", "node-2", "node-3"]
    (over,) = usage.over_grant
    assert (over.start.timestamp(), over.end.timestamp()) == (T0 + 600, T0 + 1800)
    assert over.duration == "20 min"
    assert over.peak == 1.251
    assert over.granted == 1.0


def test_a_grant_in_another_unit_family_is_not_compared() -> None:
    grant = Grant(ARN, "Users", Decimal(10), "Gigabytes", False, None, "--grant")
    summary = Summary(T0, grants=[grant])
    summary.add(_record("a", "node-1", T0, T0 + 3600, (("Users", "50", "Count"),)))
    usage = summary.report().usage
    assert usage is not None
    (series,) = usage.series
    assert series.grant is None
    assert "cannot be compared" in series.note
    assert usage.over_grant == []


def test_feature_flags_count_one_per_checkout_and_copies_count_once() -> None:
    summary = Summary(T0)
    flag = (("Feature.Reporting", None, "None"),)
    summary.add(_record("x.jsonl:1", "node-1", T0, T0 + 100, flag, token="t1"))
    summary.add(_record("x.jsonl:2", "node-2", T0, T0 + 100, flag, token="t2"))
    summary.add(_record("x.jsonl:3", "node-2", T0, T0 + 100, flag, token="t2"))  # a copy
    usage = summary.report().usage
    assert usage is not None
    assert usage.series[0].peak == 2
    assert usage.checkouts == 2
    assert usage.duplicate_consumption_tokens == 1


def test_a_node_holding_two_checkouts_of_one_license() -> None:
    usage = Usage(unpack=lambda packed: f"id-{packed}")
    users = (("Users", "1", "Count"),)
    usage.add(ARN, "node-1", 0.0, 100.0, users, 1)
    usage.add(ARN, "node-1", 100.0, 200.0, users, 2)  # back to back: no overlap
    usage.add(ARN, "node-2", 0.0, 100.0, users, 3)
    usage.add(ARN, "node-2", 50.0, 150.0, users, 4)
    usage.add(ARN, "node-2", 60.0, 70.0, users, 5)
    _, overlaps = usage.analyse()
    (overlap,) = overlaps
    assert overlap.node_id == "node-2"
    assert (overlap.overlapping, overlap.most_at_once, overlap.first_at) == (2, 3, 50.0)
    assert overlap.examples[0] == ("id-3", "id-4")
