"""The summary of an audit, accumulated one record at a time in bounded memory.

Counts by reason, key fingerprint, license and node; licenseConsumptionTokens carried
by more than one stored token; valid tokens expiring within a window; a validity
timeline per license and node. Memory grows with the distinct keys, licenses, nodes and
license/node pairs, and by about 40 bytes per distinct consumption token, never with the
tokens themselves: the lists a report shows are capped (the 1000 first rejections, the
100 most repeated duplicates, the 100 soonest expiries, 24 merged spans per timeline row).
"""

from __future__ import annotations

import hashlib
import heapq
from array import array
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from .._errors import Reason
from .._times import from_epoch
from ._findings import IN_GRACE, KINDS, Kind, human_duration, kind_of
from ._record import AuditRecord, jsonl_line
from ._resume import split_id

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ..formats._audit_report import (
        AuditSummary,
        Counts,
        KindSummary,
        Span,
        TimelineRow,
        UsageReport,
    )
    from ._grants import Grant
    from ._provenance import ProvenanceSource
    from ._usage import Usage

__all__ = ["DEFAULT_EXPIRING_WINDOW", "Summary"]

DEFAULT_EXPIRING_WINDOW = 7 * 86400.0
_REJECTED_KEPT = 1000
_DUPLICATES_SHOWN = 100
_SOURCES_PER_DUPLICATE = 10
_SOONEST_SHOWN = 100
_TIMELINE_ROWS = 50
_SPANS_PER_ROW = 24
_FINDINGS_KEPT = 1000
_AFFECTED_SHOWN = 50
_GROUP_NODES_SHOWN = 20
# Source ids are packed into one int: (prefix number << 42) | line or rowid (1 to 4e12).
_NUMBER_BITS = 42
_NUMBER_MASK = (1 << _NUMBER_BITS) - 1


class _Spans:
    """A union of intervals kept to at most ``_SPANS_PER_ROW`` by closing the smallest gaps."""

    __slots__ = ("intervals",)

    def __init__(self) -> None:
        self.intervals: list[tuple[float, float]] = []

    def add(self, start: float, end: float) -> None:
        intervals = self.intervals
        if intervals:
            # A store read in time order extends its last span: merge at once, so that a
            # row holds a few spans, not a list of every checkout.
            last_start, last_end = intervals[-1]
            if start <= last_end and end >= last_start:
                # Comparisons, not min() and max() (a builtin call each); and nothing to
                # do for a checkout inside the span (a copy stored twice, a renewal).
                if start < last_start or end > last_end:
                    intervals[-1] = (
                        start if start < last_start else last_start,
                        end if end > last_end else last_end,
                    )
                return
        intervals.append((start, end))
        if len(intervals) > 2 * _SPANS_PER_ROW:
            self.compact()

    def compact(self) -> list[tuple[float, float]]:
        merged: list[tuple[float, float]] = []
        for start, end in sorted(self.intervals):
            if merged and start <= merged[-1][1]:
                if end > merged[-1][1]:
                    merged[-1] = (merged[-1][0], end)
            else:
                merged.append((start, end))
        while len(merged) > _SPANS_PER_ROW:
            gap = min(range(len(merged) - 1), key=lambda i: merged[i + 1][0] - merged[i][1])
            merged[gap : gap + 2] = [(merged[gap][0], merged[gap + 1][1])]
        self.intervals = merged
        return merged


class _FirstSeen:
    """Consumption-token hash -> packed first source id: an open-addressing table in two
    flat arrays (16 bytes a slot, at most half full), a third of what a dict costs."""

    __slots__ = ("count", "keys", "mask", "values")

    def __init__(self, capacity: int = 1 << 12) -> None:
        self.keys = array("Q", bytes(8 * capacity))
        self.values = array("Q", bytes(8 * capacity))
        self.mask = capacity - 1
        self.count = 0

    def first(self, key: int, make: Callable[[str], int], source: str) -> int | None:
        """The value stored for ``key``; or store ``make(source)`` and return None."""
        key = (key & 0xFFFF_FFFF_FFFF_FFFF) or 1  # 0 marks an empty slot
        keys, mask = self.keys, self.mask
        slot = key & mask
        while True:
            found = keys[slot]
            if found == key:
                return self.values[slot]
            if found == 0:
                keys[slot] = key
                self.values[slot] = make(source)
                self.count += 1
                if 2 * self.count > mask:
                    self._grow()
                return None
            slot = (slot + 1) & mask

    def _grow(self) -> None:
        old_keys, old_values = self.keys, self.values
        capacity = 2 * (self.mask + 1)
        self.keys = array("Q", bytes(8 * capacity))
        self.values = array("Q", bytes(8 * capacity))
        self.mask = capacity - 1
        keys, values, mask = self.keys, self.values, self.mask
        for key, value in zip(old_keys, old_values, strict=True):
            if key:
                slot = key & mask
                while keys[slot]:
                    slot = (slot + 1) & mask
                keys[slot] = key
                values[slot] = value


class _Pair:
    __slots__ = ("first_issued", "last_expiration", "ok", "rejected", "rejected_spans", "spans")

    def __init__(self, issued: float, expires: float) -> None:
        self.ok = 0
        self.rejected = 0
        self.first_issued = issued
        self.last_expiration = expires
        self.spans = _Spans()
        self.rejected_spans = _Spans()

    def add(self, issued: float, expires: float, ok: bool) -> None:
        # Comparisons, not min() and max(): a builtin call each, once per token.
        if issued < self.first_issued:  # noqa: PLR1730
            self.first_issued = issued
        if expires > self.last_expiration:  # noqa: PLR1730
            self.last_expiration = expires
        if ok:
            self.ok += 1
            self.spans.add(issued, expires)
        else:
            self.rejected += 1
            self.rejected_spans.add(issued, expires)


class _Kind:
    """Counts of one kind of finding and what it touched."""

    __slots__ = ("by_reason", "findings", "licenses", "nodes", "tokens")

    def __init__(self) -> None:
        self.tokens = 0
        self.by_reason: Counter[str] = Counter()
        self.licenses: set[str] = set()
        self.nodes: set[str] = set()
        self.findings: list[AuditRecord] = []


class _Group:
    """Lifecycle tokens of one reason and license."""

    __slots__ = ("farthest", "nearest", "nodes", "tokens")

    def __init__(self) -> None:
        self.tokens = 0
        self.nodes: set[str] = set()
        self.nearest = float("inf")
        self.farthest = 0.0


class Summary:
    """Accumulates :class:`AuditRecord` objects; :meth:`report` gives the summary.

    ``checked_at`` is the auditor's instant (epoch seconds) or ``"issued"``;
    ``expiring_within`` (seconds) sets the window of the expiring list, which starts at
    ``checked_at`` (or at ``reference``, by default the wall clock for ``"issued"``).

    Only genuine tokens (whose signature verified) count by key, license and node, and
    only their consumption tokens are compared for duplicates: anyone can type an
    unsigned license ARN.
    """

    def __init__(
        self,
        checked_at: float | Literal["issued"],
        *,
        expiring_within: float = DEFAULT_EXPIRING_WINDOW,
        reference: float | None = None,
        grants: Iterable[Grant] = (),
    ) -> None:
        import time

        self.checked_at = checked_at
        self.expiring_within = float(expiring_within)
        if reference is None:
            reference = time.time() if checked_at == "issued" else float(checked_at)
        self.reference = reference
        self._window_end = reference + self.expiring_within
        self.total = 0
        self.ok = 0
        self.rejected = 0
        self.by_reason: Counter[str] = Counter()
        #: The first rejected records, in source order (what the HTML table lists).
        self.rejected_sample: list[AuditRecord] = []
        # [valid, rejected] per key fingerprint, license and node.
        self._by_key: dict[str, list[int]] = {}
        self._by_license: dict[str, list[int]] = {}
        self._by_node: dict[str, list[int]] = {}
        self._pairs: dict[tuple[str, str | None], _Pair] = {}
        # Duplicates: the first source of every consumption token, packed small; the ids
        # of repeated ones in full.
        self._first_seen = _FirstSeen()
        self._prefixes: dict[str, int] = {}
        self._prefix_names: list[str] = []
        self._repeated: dict[str, list[str]] = {}
        self._repeat_counts: Counter[str] = Counter()
        self._expiring = 0
        self._soonest: list[tuple[float, int, AuditRecord]] = []  # max-heap by -expiry
        self._kinds: dict[Kind, _Kind] = {kind: _Kind() for kind in KINDS}
        self._groups: dict[tuple[str, str], _Group] = {}
        self._results = hashlib.sha256()
        self._grants = tuple(grants)
        self._usage: Usage | None = None
        #: Set by :func:`tokenverify.audit.run`: where the results came from.
        self.provenance: ProvenanceSource | None = None

    def add(self, record: AuditRecord) -> None:
        """Count one record."""
        # The parent process runs this once per token while workers verify, so it limits
        # how far workers scale: plain dict and list operations, each table reached once.
        self.total += 1
        self._results.update(jsonl_line(record))  # the --format jsonl line, byte for byte
        issued = _epoch(record.issued_at)  # once here, for every use below
        expires = _epoch(record.expiration)
        ok = record.ok
        if ok:
            self.ok += 1
            self.by_reason["ok"] += 1
        else:
            self.rejected += 1
            reason = record.reason.value if record.reason is not None else "unknown"
            self.by_reason[reason] += 1
            if len(self.rejected_sample) < _REJECTED_KEPT:
                self.rejected_sample.append(record)
            self._add_finding(reason, record, issued, expires)
        fingerprint, license_arn = record.key_fingerprint, record.license_arn
        if fingerprint is None or license_arn is None:
            return
        column = 0 if ok else 1
        node_id = record.node_id
        tally = self._by_key.get(fingerprint)
        if tally is None:
            tally = self._by_key[fingerprint] = [0, 0]
        tally[column] += 1
        tally = self._by_license.get(license_arn)
        if tally is None:
            tally = self._by_license[license_arn] = [0, 0]
        tally[column] += 1
        node_key = node_id or ""
        tally = self._by_node.get(node_key)
        if tally is None:
            tally = self._by_node[node_key] = [0, 0]
        tally[column] += 1
        if issued is not None and expires is not None:
            pair = self._pairs.get((license_arn, node_id))
            if pair is None:
                pair = self._pairs[(license_arn, node_id)] = _Pair(issued, expires)
            pair.add(issued, expires, ok)
            if ok:
                if self.reference <= expires <= self._window_end:
                    self._add_expiring(record, expires)
                if self.checked_at != "issued" and expires < self.checked_at:
                    # valid only thanks to the leeway or grace
                    self._add_finding(IN_GRACE, record, issued, expires)
        token = record.license_consumption_token
        first_copy = token is None or self._add_consumption(token, record.source)
        if first_copy and issued is not None and expires is not None:
            self._add_usage(record, license_arn, issued, expires)

    def report(self) -> AuditSummary:
        """The summary so far, as the pydantic model ``--format json`` writes."""
        from ..formats._audit_report import AuditSummary, Duplicate, Expiring, ExpiringToken

        by_reason = {"ok": self.by_reason["ok"]}
        for reason in Reason:
            if self.by_reason[reason.value]:
                by_reason[reason.value] = self.by_reason[reason.value]
        if self.by_reason["unknown"]:
            by_reason["unknown"] = self.by_reason["unknown"]
        duplicates = [
            Duplicate(license_consumption_token=token, count=count, sources=self._repeated[token])
            for token, count in self._repeat_counts.most_common(_DUPLICATES_SHOWN)
        ]
        soonest = sorted(((-key, seq, record) for key, seq, record in self._soonest))
        return AuditSummary(
            checked_at="issued" if self.checked_at == "issued" else from_epoch(self.checked_at),
            total=self.total,
            ok=self.ok,
            rejected=self.rejected,
            by_reason=by_reason,
            by_key_fingerprint=_counts(self._by_key),
            by_license_arn=_counts(self._by_license),
            by_node_id=_counts(self._by_node),
            duplicates=duplicates,
            duplicate_tokens=len(self._repeat_counts),
            expiring=Expiring(
                window_seconds=self.expiring_within,
                reference=from_epoch(self.reference),
                count=self._expiring,
                soonest=[
                    ExpiringToken(
                        source=record.source,
                        license_arn=record.license_arn or "",
                        node_id=record.node_id,
                        expiration=from_epoch(expires),
                    )
                    for expires, _, record in soonest
                ],
            ),
            timeline=self._timeline(),
            timeline_rows=len(self._pairs),
            findings=self._findings(),
            usage=self._usage_report(),
            provenance=(
                self.provenance.build(self.total, self.results_sha256)
                if self.provenance is not None
                else None
            ),
        )

    # -- parts -------------------------------------------------------------------------

    def _add_expiring(self, record: AuditRecord, expires: float) -> None:
        self._expiring += 1
        entry = (-expires, self._expiring, record)
        if len(self._soonest) < _SOONEST_SHOWN:
            heapq.heappush(self._soonest, entry)
        elif expires < -self._soonest[0][0]:
            heapq.heapreplace(self._soonest, entry)

    def _add_finding(
        self, reason: str, record: AuditRecord, issued: float | None, expires: float | None
    ) -> None:
        # issued and expires: the record's instants as epoch seconds, parsed once by add.
        kind = self._kinds[kind_of(reason)]
        kind.tokens += 1
        kind.by_reason[reason] += 1
        if record.license_arn is not None:
            kind.licenses.add(record.license_arn)
            kind.nodes.add(record.node_id or "")
        if kind is not self._kinds["lifecycle"]:
            if len(kind.findings) < _FINDINGS_KEPT:
                kind.findings.append(record)
            return
        group = self._groups.get((reason, record.license_arn or ""))
        if group is None:
            group = self._groups[(reason, record.license_arn or "")] = _Group()
        group.tokens += 1
        if len(group.nodes) < _GROUP_NODES_SHOWN:
            group.nodes.add(record.node_id or "")
        distance = self._distance(reason, issued, expires)
        if distance is not None:
            group.nearest = min(group.nearest, distance)
            group.farthest = max(group.farthest, distance)

    def _distance(self, reason: str, issued: float | None, expires: float | None) -> float | None:
        # How far outside its time the token was, seen from the audit's instant.
        if expires is None or issued is None:
            return None
        if self.checked_at == "issued":
            return expires - issued if reason == "not_yet_valid" else issued - expires
        if reason == "not_yet_valid":
            return issued - self.checked_at
        return self.checked_at - expires

    def _add_usage(
        self, record: AuditRecord, license_arn: str, issued: float, expires: float
    ) -> None:
        usage = self._usage
        if usage is None:
            from ._usage import Usage

            usage = self._usage = Usage(self._grants, unpack=self._unpack)
        usage.add(
            license_arn, record.node_id, issued, expires, record.entitlements or (),
            self._pack(record.source),
        )  # fmt: skip

    @property
    def results_sha256(self) -> str:
        """SHA-256 (hex) of every result so far, each as its jsonl line with its newline."""
        return self._results.hexdigest()

    def _add_consumption(self, token: str, source: str) -> bool:
        # A 64-bit hash stands for the token in the first-seen table (a collision between
        # two of a million tokens has odds of 1 in 3e7, and would show as a duplicate).
        # True for the first copy of a token.
        first = self._first_seen.first(hash(token), self._pack, source)
        if first is None:
            return True
        sources = self._repeated.get(token)
        if sources is None:
            sources = self._repeated[token] = [self._unpack(first)]
            self._repeat_counts[token] = 1
        self._repeat_counts[token] += 1
        if len(sources) < _SOURCES_PER_DUPLICATE:
            sources.append(source)
        return False

    def _pack(self, source: str) -> int:
        split = split_id(source)
        if split is not None and split[1] <= _NUMBER_MASK:
            return (self._prefix(split[0]) << _NUMBER_BITS) | split[1]
        return self._prefix(source) << _NUMBER_BITS

    def _prefix(self, prefix: str) -> int:
        index = self._prefixes.get(prefix)
        if index is None:
            index = self._prefixes[prefix] = len(self._prefix_names)
            self._prefix_names.append(prefix)
        return index

    def _unpack(self, packed: int) -> str:
        prefix = self._prefix_names[packed >> _NUMBER_BITS]
        number = packed & _NUMBER_MASK
        return prefix if number == 0 else f"{prefix}:{number}"

    def _findings(self) -> list[KindSummary]:
        from ..formats._audit_report import Finding, KindSummary, LifecycleGroup

        kinds = []
        for name, kind in self._kinds.items():
            groups = []
            if name == "lifecycle":
                for (reason, license_arn), group in sorted(
                    self._groups.items(), key=lambda item: (-item[1].tokens, item[0])
                ):
                    nearest = group.nearest if group.nearest != float("inf") else 0.0
                    groups.append(
                        LifecycleGroup(
                            reason=reason,
                            license_arn=license_arn,
                            tokens=group.tokens,
                            nodes=sorted(group.nodes),
                            nodes_count=len(group.nodes),
                            nearest_seconds=nearest,
                            farthest_seconds=group.farthest,
                            description=self._describe(reason, nearest, group.farthest),
                        )
                    )
            kinds.append(
                KindSummary(
                    kind=name,
                    tokens=kind.tokens,
                    by_reason=dict(kind.by_reason.most_common()),
                    licenses=sorted(kind.licenses)[:_AFFECTED_SHOWN],
                    licenses_count=len(kind.licenses),
                    nodes=sorted(kind.nodes)[:_AFFECTED_SHOWN],
                    nodes_count=len(kind.nodes),
                    findings=[
                        Finding(
                            source=record.source,
                            reason=record.reason.value if record.reason else "unknown",
                            message=record.message,
                            license_arn=record.license_arn,
                            node_id=record.node_id,
                        )
                        for record in kind.findings
                    ],
                    groups=groups,
                )
            )
        return kinds

    def _describe(self, reason: str, nearest: float, farthest: float) -> str:
        span = human_duration(nearest)
        if human_duration(farthest) != span:
            span = f"{span} to {human_duration(farthest)}"
        if self.checked_at == "issued":
            relation = "after it was issued" if reason != "not_yet_valid" else "before issue"
            verb = {"expired": "expired", "not_yet_valid": "valid from"}.get(reason, "expired")
            return f"{verb} {span} {relation}"
        if reason == "not_yet_valid":
            return f"valid only {span} after the audit"
        if reason == IN_GRACE:
            return f"valid, but expired {span} before the audit (within the leeway or grace)"
        return f"expired {span} before the audit"

    def _usage_report(self) -> UsageReport:
        from ._usage_report import usage_report

        return usage_report(self._usage, len(self._repeat_counts))

    def _timeline(self) -> list[TimelineRow]:
        from ..formats._audit_report import TimelineRow

        latest = heapq.nlargest(
            _TIMELINE_ROWS, self._pairs.items(), key=lambda item: item[1].last_expiration
        )
        latest.sort(key=lambda item: (item[0][0], item[0][1] or ""))
        return [
            TimelineRow(
                license_arn=license_arn,
                node_id=node_id,
                ok=pair.ok,
                rejected=pair.rejected,
                first_issued_at=from_epoch(pair.first_issued),
                last_expiration=from_epoch(pair.last_expiration),
                valid_spans=_spans(pair.spans),
                rejected_spans=_spans(pair.rejected_spans),
            )
            for (license_arn, node_id), pair in latest
        ]


def _counts(table: dict[str, list[int]]) -> dict[str, Counts]:
    from ..formats._audit_report import Counts

    ordered = sorted(table.items(), key=lambda item: (-(item[1][0] + item[1][1]), item[0]))
    return {key: Counts(ok=ok, rejected=rejected) for key, (ok, rejected) in ordered}


def _spans(spans: _Spans) -> list[Span]:
    from ..formats._audit_report import Span

    return [Span(start=from_epoch(a), end=from_epoch(b)) for a, b in spans.compact()]


def _epoch(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None
