"""Usage against the grant: how much of each entitlement was held at once, and when.

Every genuine checkout (its signature verified, whatever else was wrong with it) held
its signed entitlement values from ``issuedAt`` until ``expiration``: the interval is
half-open, ``[issuedAt, expiration)``, so a checkout renewed the second the previous one
ends is not counted twice. For each license ARN and entitlement name (and unit family),
the concurrent consumption is the sum of the values of the checkouts holding it; its
peak, when it was reached and which nodes held it then are reported, and every period
above the grant is an ``over_grant`` finding with its duration and peak.

Values follow the core's unit families (:mod:`tokenverify._units`): "2 Terabytes" and
"500 Gigabytes" add up; Count, Percent, None and Count/Second each only with themselves.
An entitlement without a value (a feature flag) counts 1 per checkout. A consumption
token stored twice counts once (its first copy). Also found here: a node holding two
overlapping checkouts of one license.

The analysis is a sweep over the sorted interval endpoints: O(n log n) time, and memory
of about 32 bytes per checkout (times, node, entitlement profile and packed source id in
flat arrays; distinct entitlement lists are interned, and entitlements whose values are
the same on every checkout share one sweep).
"""

from __future__ import annotations

import itertools
import math
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from .._units import _SCALE as _UNIT_SCALE
from .._units import UNITS
from ._grants import Grant

__all__ = ["DEFAULT_POINTS", "Overlap", "Period", "SeriesResult", "Sweep", "Usage", "sweep"]

#: Points kept in a series; beyond them the series is the maximum per equal time bucket.
DEFAULT_POINTS = 2000
_PERIODS_SHOWN = 100
_NODES_SHOWN = 20
_OVERLAP_EXAMPLES = 3
# Sums of floats: two levels closer than this (relative) are equal.
_TOLERANCE = 1e-9
# Up to this many intervals, sweeps and overlaps run in plain Python (see _small_sweep).
_SMALL = 256


class Period(NamedTuple):
    """A stretch of time above the grant."""

    start: float
    end: float
    peak: float
    peak_at: float


@dataclass
class Sweep:
    """The concurrent level of a set of weighted half-open intervals.

    ``points`` are ``(time, level)`` steps: the level holds from each time until the
    next; the last is always 0. With ``exact`` False there were more than ``max_points``
    changes and each point is the highest level within an equal slice of time.
    """

    peak: float = 0.0
    peak_at: float | None = None
    points: list[tuple[float, float]] = field(default_factory=list)
    exact: bool = True
    bucket_seconds: float = 0.0
    periods: list[Period] = field(default_factory=list)
    periods_total: int = 0
    seconds_over: float = 0.0


def sweep(
    starts: Sequence[float] | Any,
    ends: Sequence[float] | Any,
    values: Sequence[float] | Any,
    *,
    limit: float | None = None,
    max_points: int = DEFAULT_POINTS,
) -> Sweep:
    """Sweep ``[starts[i], ends[i])`` weighted by ``values[i]`` (non-negative; sequences
    or numpy arrays).

    ``limit``: report the periods where the level exceeds it. At one instant every
    release comes before every new hold. Vectorised (numpy): sorting the endpoints is
    the O(n log n) part, everything else is a pass over them.
    """
    n = len(starts)
    if n == 0:
        return Sweep()
    if n <= _SMALL and 2 * n <= max_points:
        return _small_sweep(starts, ends, values, limit)
    import numpy as np

    result = Sweep()
    begin = np.asarray(starts, dtype=np.float64)
    finish = np.asarray(ends, dtype=np.float64)
    weight = np.asarray(values, dtype=np.float64)
    times = np.concatenate((finish, begin))
    order = np.argsort(times, kind="stable")  # stable: releases (first half) come first
    moments = times[order]
    levels = np.cumsum(np.concatenate((-weight, weight))[order])
    # The level after the last event of each distinct instant holds until the next one.
    last = np.append(np.flatnonzero(moments[1:] != moments[:-1]), 2 * n - 1)
    step_t, step_l = moments[last], levels[last]
    scale = float(weight.max()) or 1.0
    step_l[np.abs(step_l) <= _TOLERANCE * scale] = 0.0  # float sums of equal holds/releases
    top = int(np.argmax(step_l))
    result.peak = float(step_l[top])
    result.peak_at = float(step_t[top]) if result.peak > 0 else None
    if limit is not None:
        above = step_l > limit + _TOLERANCE * max(1.0, abs(limit))
        edges = np.diff(above.astype(np.int8), prepend=np.int8(0))
        opened, closed = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        result.periods_total = len(opened)
        result.seconds_over = float((step_t[closed] - step_t[opened]).sum())
        for low, high in zip(opened[:_PERIODS_SHOWN], closed[:_PERIODS_SHOWN], strict=False):
            inside = int(low + np.argmax(step_l[low:high]))
            result.periods.append(
                Period(
                    float(step_t[low]),
                    float(step_t[high]),
                    float(step_l[inside]),
                    float(step_t[inside]),
                )
            )
    changed = np.append(True, step_l[1:] != step_l[:-1])
    step_t, step_l = step_t[changed], step_l[changed]
    if len(step_t) <= max_points:
        result.points = list(zip(step_t.tolist(), step_l.tolist(), strict=True))
        return result
    # Too many changes to draw: the highest level within each of max_points slices.
    first, last_time = float(step_t[0]), float(step_t[-1])
    width = (last_time - first) / max_points
    bucket_starts = first + width * np.arange(max_points)
    low = np.searchsorted(step_t, bucket_starts, side="right") - 1
    high = np.searchsorted(step_t, bucket_starts + width, side="left")
    highest = np.maximum(np.maximum.reduceat(step_l, low), step_l[high - 1])
    keep = np.append(True, highest[1:] != highest[:-1])
    points = list(zip(bucket_starts[keep].tolist(), highest[keep].tolist(), strict=True))
    if points[-1][1] != 0.0:
        points.append((last_time, 0.0))
    result.points = points
    result.exact = False
    result.bucket_seconds = width
    return result


def _small_sweep(
    starts: Sequence[float] | Any,
    ends: Sequence[float] | Any,
    values: Sequence[float] | Any,
    limit: float | None,
) -> Sweep:
    # The same sweep in plain Python: for a few hundred intervals numpy's per-call cost
    # is most of the time (a store of many small licenses has thousands of these).
    starts, ends, values = list(starts), list(ends), [float(v) for v in values]
    events = sorted(
        [(end, 0, -value) for end, value in zip(ends, values, strict=True)]
        + [(start, 1, value) for start, value in zip(starts, values, strict=True)]
    )  # at one instant, releases (0) before holds (1)
    scale = max(values) or 1.0
    steps: list[tuple[float, float]] = []
    level, index, count = 0.0, 0, len(events)
    while index < count:
        moment = events[index][0]
        while index < count and events[index][0] == moment:
            level += events[index][2]
            index += 1
        if abs(level) <= _TOLERANCE * scale:
            level = 0.0
        steps.append((moment, level))
    result = Sweep()
    top = max(range(len(steps)), key=lambda i: (steps[i][1], -i))
    result.peak = steps[top][1]
    result.peak_at = steps[top][0] if result.peak > 0 else None
    if limit is not None:
        threshold = limit + _TOLERANCE * max(1.0, abs(limit))
        opened: int | None = None
        for position, (moment, level) in enumerate(steps):
            if level > threshold and opened is None:
                opened = position
            elif level <= threshold and opened is not None:
                inside = max(range(opened, position), key=lambda i: (steps[i][1], -i))
                result.periods_total += 1
                result.seconds_over += moment - steps[opened][0]
                if len(result.periods) < _PERIODS_SHOWN:
                    result.periods.append(
                        Period(steps[opened][0], moment, steps[inside][1], steps[inside][0])
                    )
                opened = None
    points = [steps[0]]
    points += [step for before, step in itertools.pairwise(steps) if step[1] != before[1]]
    result.points = points
    return result


def _tidy(value: float) -> float:
    # 5e11 bytes x 335 in Gigabytes is 167500.00000000003 in floats: 12 digits suffice.
    return float(f"{value:.12g}")


def _scaled(result: Sweep, factor: float) -> Sweep:
    if factor == 1.0:
        return result
    if len(result.points) <= _SMALL:
        points = [(moment, _tidy(level * factor)) for moment, level in result.points]
    else:
        import numpy as np

        levels = np.fromiter((level for _, level in result.points), dtype=np.float64) * factor
        top = float(np.abs(levels).max())
        if top > 0:
            levels = np.round(levels, 12 - math.ceil(math.log10(top)))
        points = list(zip([m for m, _ in result.points], levels.tolist(), strict=True))
    return Sweep(
        peak=_tidy(result.peak * factor),
        peak_at=result.peak_at,
        points=points,
        exact=result.exact,
        bucket_seconds=result.bucket_seconds,
        periods=[Period(p.start, p.end, _tidy(p.peak * factor), p.peak_at) for p in result.periods],
        periods_total=result.periods_total,
        seconds_over=result.seconds_over,
    )


class Overlap(NamedTuple):
    """One node holding more than one checkout of one license at a time."""

    license_arn: str
    node_id: str | None
    overlapping: int  # checkouts issued while another of the license was held on the node
    most_at_once: int
    first_at: float
    examples: list[tuple[str, str]]  # (held, issued beside it) source ids


@dataclass
class SeriesResult:
    """The usage of one entitlement of one license, in ``unit`` (the grant's if any)."""

    license_arn: str
    entitlement: str
    unit: str
    checkouts: int
    sweep: Sweep
    grant: Grant | None
    grant_value: float | None
    note: str
    nodes_at_peak: list[str]
    nodes_at_peak_count: int
    period_nodes: list[list[str]]


class _Entry(NamedTuple):
    name: str
    family: str
    unit: str
    base: float  # in the family's smallest unit


class _Planned(NamedTuple):
    """How one entitlement of a license is swept and shown."""

    name: str
    unit: str
    grant: Grant | None
    note: str
    sweep_key: tuple[tuple[float, ...], float | None]  # normalised amounts, limit
    factor: float  # from the normalised sweep to ``unit``
    grant_value: float | None
    carriers: tuple[int, ...]  # profiles that carry it
    holding: tuple[int, ...] | None  # those with a positive amount (None: all)


class _Overlapping:
    __slots__ = ("count", "examples", "first_at", "most")

    def __init__(self, first_at: float) -> None:
        self.count = 0
        self.most = 1
        self.first_at = first_at
        self.examples: list[tuple[str, str]] = []


class _License:
    __slots__ = ("ends", "nodes", "profiles", "sources", "starts")

    def __init__(self) -> None:
        self.starts = array("d")
        self.ends = array("d")
        self.nodes = array("q")  # int64, read by numpy as such
        self.profiles = array("q")
        self.sources = array("Q")


class Usage:
    """Collects the intervals of genuine checkouts; :meth:`analyse` sweeps them.

    ``unpack`` turns the packed source ids given to :meth:`add` back into ids.
    """

    def __init__(self, grants: Iterable[Grant] = (), *, unpack: Callable[[int], str] = str) -> None:
        self.grants = {(g.license_arn, g.entitlement): g for g in grants}
        self._license_grants: dict[str, dict[str, Grant]] = {}
        for grant in self.grants.values():
            self._license_grants.setdefault(grant.license_arn, {})[grant.entitlement] = grant
        self._plans: dict[object, list[_Planned]] = {}
        self._unpack = unpack
        self._licenses: dict[str, _License] = {}
        self._profile_index: dict[object, int] = {}
        self._profiles: list[tuple[_Entry, ...]] = []
        self._node_index: dict[str | None, int] = {}
        self._node_names: list[str | None] = []
        self.checkouts = 0

    def add(
        self,
        license_arn: str,
        node_id: str | None,
        issued: float,
        expires: float,
        entitlements: Sequence[tuple[str, str | None, str]],
        source: int,
    ) -> None:
        """One genuine checkout (``issued`` <= ``expires``, epoch seconds)."""
        if not expires >= issued:  # the core refuses these; NaN too
            return
        held = self._licenses.get(license_arn)
        if held is None:
            held = self._licenses[license_arn] = _License()
        key = entitlements if isinstance(entitlements, tuple) else tuple(entitlements)
        profile = self._profile_index.get(key)
        if profile is None:
            profile = self._profile_index[key] = len(self._profiles)
            self._profiles.append(_parse_profile(key))
        node = self._node_index.get(node_id)
        if node is None:
            node = self._node_index[node_id] = len(self._node_names)
            self._node_names.append(node_id)
        held.starts.append(issued)
        held.ends.append(expires)
        held.nodes.append(node)
        held.profiles.append(profile)
        held.sources.append(source)
        self.checkouts += 1

    def analyse(
        self, *, max_points: int = DEFAULT_POINTS
    ) -> tuple[list[SeriesResult], list[Overlap]]:
        """Every series (by license, then entitlement) and every node overlap."""
        series: list[SeriesResult] = []
        overlaps: list[Overlap] = []
        for license_arn in sorted(self._licenses):
            held = self._licenses[license_arn]
            overlaps.extend(self._overlaps(license_arn, held))
            series.extend(self._license_series(license_arn, held, max_points))
        return series, overlaps

    # -- parts -------------------------------------------------------------------------

    def _overlaps(self, license_arn: str, held: _License) -> list[Overlap]:
        if len(held.starts) <= _SMALL:
            return self._small_overlaps(license_arn, held)
        import numpy as np

        starts = np.frombuffer(held.starts, dtype=np.float64)
        ends = np.frombuffer(held.ends, dtype=np.float64)
        nodes = np.frombuffer(held.nodes, dtype=np.int64)
        holding = ends > starts  # an empty interval holds nothing
        rows = np.flatnonzero(holding)
        rows = rows[np.lexsort((starts[rows], nodes[rows]))]  # by node, then issuedAt
        if len(rows) < 2:
            return []
        # Exact running maximum of the ends within each node: ends as ranks, offset by node.
        _, end_rank = np.unique(ends[rows], return_inverse=True)
        span = int(end_rank.max()) + 1
        keyed = nodes[rows].astype(np.int64) * span + end_rank
        running = np.maximum.accumulate(keyed)
        same_node = nodes[rows][1:] == nodes[rows][:-1]
        before = running[:-1] - nodes[rows][1:].astype(np.int64) * span  # rank, if same node
        start_rank = np.searchsorted(np.unique(ends[rows]), starts[rows][1:], side="right")
        overlapping = same_node & (before >= start_rank)
        found = np.flatnonzero(overlapping) + 1  # positions in rows
        results: list[Overlap] = []
        names = self._node_names
        by_node = nodes[rows]
        for node in np.unique(by_node[found])[:_PERIODS_SHOWN]:
            low = int(np.searchsorted(by_node, node, side="left"))
            high = int(np.searchsorted(by_node, node, side="right"))
            mine = rows[low:high]
            here = found[(found >= low) & (found < high)]
            examples: list[tuple[str, str]] = []
            for position in here[:_OVERLAP_EXAMPLES]:
                checkout = int(rows[position])
                earlier = rows[low:position]
                other = int(earlier[np.argmax(ends[earlier] > starts[checkout])])
                examples.append(
                    (self._unpack(held.sources[other]), self._unpack(held.sources[checkout]))
                )
            most = sweep(starts[mine], ends[mine], np.ones(len(mine)), max_points=1).peak
            results.append(
                Overlap(
                    license_arn,
                    names[int(node)],
                    len(here),
                    int(most),
                    float(starts[rows[here[0]]]),
                    examples,
                )
            )
        return results

    def _small_overlaps(self, license_arn: str, held: _License) -> list[Overlap]:
        # The same as _overlaps, in plain Python, for a few hundred checkouts.
        starts, ends, nodes = held.starts, held.ends, held.nodes
        rows = sorted((nodes[i], starts[i], i) for i in range(len(starts)) if ends[i] > starts[i])
        by_node: dict[int, list[int]] = {}
        for node, _, checkout in rows:
            by_node.setdefault(node, []).append(checkout)
        results: list[Overlap] = []
        names = self._node_names
        for node in sorted(by_node, key=lambda n: names[n] or ""):
            mine = by_node[node]
            overlapping: list[tuple[int, int]] = []  # (earlier holder, checkout)
            latest = -math.inf
            for position, checkout in enumerate(mine):
                if position and starts[checkout] < latest:
                    other = next(o for o in mine[:position] if ends[o] > starts[checkout])
                    overlapping.append((other, checkout))
                latest = max(latest, ends[checkout])
            if not overlapping:
                continue
            most = _small_sweep(
                [starts[c] for c in mine], [ends[c] for c in mine], [1.0] * len(mine), None
            ).peak
            results.append(
                Overlap(
                    license_arn,
                    names[node],
                    len(overlapping),
                    int(most),
                    float(starts[overlapping[0][1]]),
                    [
                        (self._unpack(held.sources[o]), self._unpack(held.sources[c]))
                        for o, c in overlapping[:_OVERLAP_EXAMPLES]
                    ],
                )
            )
            if len(results) == _PERIODS_SHOWN:
                break
        return results

    def _plan(self, license_arn: str, order: tuple[int, ...]) -> list[_Planned]:
        # What to sweep for a license whose checkouts carry the profiles ``order``: the
        # same for every license with those profiles and grants, so it is made once.
        grants = self._license_grants.get(license_arn, {})
        key = (order, tuple(sorted(grants.items())))
        plan = self._plans.get(key)
        if plan is not None:
            return plan
        profiles = self._profiles
        # (name, family) -> {profile: amount}, and the first unit seen. Per profile, the
        # first entry of a name counts, as the core's entitlement() does.
        amounts: dict[tuple[str, str], dict[int, float]] = {}
        units: dict[tuple[str, str], str] = {}
        for profile in order:
            for entry in profiles[profile]:
                column = amounts.setdefault((entry.name, entry.family), {})
                if profile not in column:
                    column[profile] = entry.base
                    units.setdefault((entry.name, entry.family), entry.unit)
        plan = []
        for (name, family), column in sorted(amounts.items()):
            first_unit = units[(name, family)]
            grant = grants.get(name)
            note, unit, limit = "", first_unit, None
            if grant is not None:
                grant_unit = grant.unit or first_unit
                if _UNIT_SCALE[grant_unit][0] != family:
                    note = (
                        f"granted in {grant_unit}, checked out in {first_unit}: "
                        "they cannot be compared"
                    )
                    grant = None
                else:
                    unit = grant_unit
                    limit = float(grant.max_count.scaleb(_UNIT_SCALE[grant_unit][1]))
            factor = next((v for p in order if (v := column.get(p, 0.0)) > 0), 1.0)
            # Entitlements whose amounts are proportional on every checkout share a sweep.
            normal = tuple(column.get(p, 0.0) / factor for p in order)
            holding = tuple(p for p in order if column.get(p, 0.0) > 0)
            to_unit = 10.0 ** -_UNIT_SCALE[unit][1]
            plan.append(
                _Planned(
                    name,
                    unit,
                    grant,
                    note,
                    (normal, None if limit is None else limit / factor),
                    factor * to_unit,
                    None if limit is None else _tidy(limit * to_unit),
                    tuple(column),
                    None if len(holding) == len(order) else holding,
                )
            )
        self._plans[key] = plan
        return plan

    def _license_series(
        self, license_arn: str, held: _License, max_points: int
    ) -> list[SeriesResult]:
        import numpy as np

        profile_of = np.frombuffer(held.profiles, dtype=np.int64)
        found, counts = np.unique(profile_of, return_counts=True)
        used = dict(zip(found.tolist(), counts.tolist(), strict=True))
        order = tuple(sorted(used))
        sweeps: dict[tuple[tuple[float, ...], float | None], Sweep] = {}
        scaled: dict[tuple[int, float], Sweep] = {}
        holders: dict[tuple[tuple[int, ...] | None, float | None], list[str]] = {}
        results: list[SeriesResult] = []
        for planned in self._plan(license_arn, order):
            base = sweeps.get(planned.sweep_key)
            if base is None:
                normal, limit = planned.sweep_key
                weights = np.zeros(len(self._profiles))
                weights[list(order)] = normal
                base = sweeps[planned.sweep_key] = sweep(
                    held.starts, held.ends, weights[profile_of], limit=limit,
                    max_points=max_points,
                )  # fmt: skip
            result = scaled.get((id(base), planned.factor))
            if result is None:
                result = scaled[(id(base), planned.factor)] = _scaled(base, planned.factor)
            peak_nodes = holders.get((planned.holding, result.peak_at))
            if peak_nodes is None:
                peak_nodes = sorted(self._nodes_at(held, planned.holding, result.peak_at))
                holders[(planned.holding, result.peak_at)] = peak_nodes
            results.append(
                SeriesResult(
                    license_arn,
                    planned.name,
                    planned.unit,
                    sum(used[p] for p in planned.carriers),
                    result,
                    planned.grant,
                    planned.grant_value,
                    planned.note,
                    peak_nodes[:_NODES_SHOWN],
                    len(peak_nodes),
                    [
                        sorted(self._nodes_at(held, planned.holding, p.peak_at))[:_NODES_SHOWN]
                        for p in result.periods
                    ],
                )
            )
        return results

    def _nodes_at(
        self, held: _License, holding: tuple[int, ...] | None, moment: float | None
    ) -> set[str]:
        # The nodes of the checkouts (of the profiles in ``holding``; None: all) holding
        # some at ``moment``.
        import numpy as np

        if moment is None:
            return set()
        starts = np.frombuffer(held.starts, dtype=np.float64)
        ends = np.frombuffer(held.ends, dtype=np.float64)
        nodes = np.frombuffer(held.nodes, dtype=np.int64)
        mask = (starts <= moment) & (ends > moment)
        if holding is not None:
            mask &= np.isin(np.frombuffer(held.profiles, dtype=np.int64), holding)
        names = self._node_names
        return {names[node] or "(no node)" for node in np.unique(nodes[mask]).tolist()}


def _parse_profile(entitlements: tuple[tuple[str, str | None, str], ...]) -> tuple[_Entry, ...]:
    entries: list[_Entry] = []
    for item in entitlements:
        try:
            name, value, unit = item
        except (TypeError, ValueError):
            continue
        if not isinstance(name, str) or unit not in UNITS:
            continue
        family, exponent = _UNIT_SCALE[unit]
        if value is None:
            base = 1.0  # a feature flag: one per checkout
        else:
            try:
                base = float(Decimal(value).scaleb(exponent))
            except (InvalidOperation, TypeError, ValueError):
                continue
            if not math.isfinite(base) or base < 0:
                continue
        entries.append(_Entry(name, family, unit, base))
    return tuple(entries)
