"""The audit's per-token shortcuts of issue 11's third pass, each beside the code it replaced.

Every shortcut here gives the same output as straightforward code by another route; the
replaced code is kept in this file as the reference, and each test runs both on
generated input (hypothesis) and asserts they agree exactly.

* ``iter_lines`` finds newlines with ``bytes.find`` (memchr) instead of ``bytes.split``:
  the same lines, numbers, cuts at the limit, byte-range stops and unterminated tails,
  whatever the block size, the head and the reader.
* ``iso_utc`` spells a UTC datetime field by field (the date from a bounded cache)
  instead of through ``isoformat()``: the same text for every instant, microsecond and
  offset, and the general path for anything that is not a plain UTC datetime.
* ``Summary.add`` parses a record's two instants once (they were parsed again for each
  lifecycle finding), reaches each tally directly and compares instead of calling
  ``min``/``max``: the same report, digest and samples as the code it replaced, on
  generated records (every reason, hostile text, odd instants, repeats, rows out of
  order).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import BinaryIO

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tokenverify as tv
from tokenverify.audit import AuditRecord, Summary, _record, _sources, _summary
from tokenverify.audit._findings import IN_GRACE, kind_of
from tokenverify.audit._record import iso_utc
from tokenverify.audit._sources import iter_lines


def _reference_iter_lines(
    handle: BinaryIO,
    limit: int,
    *,
    block_size: int,
    head: bytes = b"",
    first_number: int = 1,
    start_offset: int = 0,
    stop_offset: int | None = None,
    unterminated: list[tuple[int, bytes]] | None = None,
) -> Iterator[tuple[int, bytes]]:
    """``iter_lines`` as it was (split per block), with the block size as an argument."""
    number = first_number
    line_start = start_offset
    pending = b""
    pending_length = 0
    cap = limit + 1
    read = getattr(handle, "read1", handle.read)
    block = head
    while True:
        if not block:
            block = read(block_size)
            if not block:
                break
        *complete, rest = block.split(b"\n")
        for piece in complete:
            if pending_length:
                length = pending_length + len(piece)
                line = (pending + piece)[:cap] if len(pending) < cap else pending
                pending, pending_length = b"", 0
            else:
                length = len(piece)
                line = piece if length <= cap else piece[:cap]
            if stop_offset is not None and line_start >= stop_offset:
                return
            line_start += length + 1
            if line and not line.isspace():
                yield number, line
            number += 1
        if rest:
            if len(pending) < cap:
                pending = (pending + rest)[:cap]
            pending_length += len(rest)
        block = b""
    if stop_offset is not None and line_start >= stop_offset:
        return
    if pending and not pending.isspace():
        if unterminated is None:
            yield number, pending
        else:
            unterminated.append((number, pending))


class _ReadOnly:
    """A reader without ``read1`` (both versions fall back to ``read``), short reads."""

    def __init__(self, data: bytes, most: int) -> None:
        self._stream = io.BytesIO(data)
        self._most = most

    def read(self, size: int = -1) -> bytes:
        return self._stream.read(min(size, self._most) if size >= 0 else self._most)


# Lines of newlines, blanks of every ASCII whitespace byte, CR, NUL, non-ASCII and runs
# longer than the limit: every branch of both loops.
_PIECES = st.sampled_from(
    [b"\n", b"\n\n", b" ", b"\t", b"\r", b"\x0b\x0c", b"\x00", b"a", b"ab.c", b"\xff\xfe", b"x" * 9]
)
_DATA = st.lists(_PIECES, max_size=40).map(b"".join)


@settings(max_examples=400, deadline=None)
@given(
    data=_DATA,
    limit=st.integers(0, 12),
    block_size=st.integers(1, 17),
    head_cut=st.integers(0, 400),
    first_number=st.integers(1, 3),
    start_offset=st.integers(0, 5),
    stop=st.none() | st.integers(0, 400),
    collect_tail=st.booleans(),
    read_only=st.booleans(),
)
def test_iter_lines_finds_the_lines_split_found(
    data: bytes,
    limit: int,
    block_size: int,
    head_cut: int,
    first_number: int,
    start_offset: int,
    stop: int | None,
    collect_tail: bool,
    read_only: bool,
) -> None:
    head, rest = data[:head_cut], data[head_cut:]
    stop_offset = None if stop is None else start_offset + stop

    def reader() -> BinaryIO:
        return _ReadOnly(rest, block_size) if read_only else io.BytesIO(rest)  # type: ignore[return-value]

    tails: tuple[list[tuple[int, bytes]], list[tuple[int, bytes]]] = ([], [])
    expected = list(
        _reference_iter_lines(
            reader(), limit, block_size=block_size, head=head, first_number=first_number,
            start_offset=start_offset, stop_offset=stop_offset,
            unterminated=tails[0] if collect_tail else None,
        )
    )  # fmt: skip
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_sources, "_BLOCK", block_size)
        got = list(
            iter_lines(
                reader(), limit, head=head, first_number=first_number,
                start_offset=start_offset, stop_offset=stop_offset,
                unterminated=tails[1] if collect_tail else None,
            )
        )  # fmt: skip
    assert got == expected
    assert tails[1] == tails[0]


@settings(max_examples=100, deadline=None)
@given(
    lines=st.lists(st.binary(max_size=300), max_size=30),
    limit=st.integers(0, 400),
    ending=st.sampled_from([b"", b"\n", b"\r\n"]),
)
def test_iter_lines_on_arbitrary_bytes_at_the_real_block_size(
    lines: list[bytes], limit: int, ending: bytes
) -> None:
    data = b"\n".join(lines) + ending
    for collect_tail in (False, True):
        tails: tuple[list[tuple[int, bytes]], list[tuple[int, bytes]]] = ([], [])
        expected = list(
            _reference_iter_lines(
                io.BytesIO(data), limit, block_size=_sources._BLOCK,
                unterminated=tails[0] if collect_tail else None,
            )
        )  # fmt: skip
        got = list(
            iter_lines(io.BytesIO(data), limit, unterminated=tails[1] if collect_tail else None)
        )
        assert got == expected
        assert tails[1] == tails[0]


def _reference_iso_utc(moment: datetime) -> str:
    """``iso_utc`` as it was."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.isoformat()[:-6] + "Z"


class _Moment(datetime):
    """A datetime subclass (its own isoformat): never the field-by-field path."""

    def isoformat(self, sep: str = "T", timespec: str = "auto") -> str:
        return "subclass " + super().isoformat(sep, timespec)


_OFFSETS = st.builds(lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(-1439, 1439))
_UTC_MOMENTS = st.datetimes(timezones=st.just(UTC))


@settings(max_examples=1000, deadline=None)
@given(
    moment=_UTC_MOMENTS
    | st.datetimes(timezones=_OFFSETS | st.just(timezone(timedelta(0), "named zero"))),
    micro=st.sampled_from([None, 0, 1, 9, 10, 99_999, 100_000, 500_000, 999_999]),
)
def test_iso_utc_spells_what_isoformat_spelled(moment: datetime, micro: int | None) -> None:
    if micro is not None:
        moment = moment.replace(microsecond=micro)
    try:
        expected = _reference_iso_utc(moment)
    except OverflowError:  # an offset that takes it past year 9999 or before year 1
        with pytest.raises(OverflowError):
            iso_utc(moment)
        return
    assert iso_utc(moment) == expected
    assert iso_utc(moment) == expected  # the date prefix cached
    if moment.tzinfo is UTC:
        fold = moment.replace(fold=1)
        assert iso_utc(fold) == _reference_iso_utc(fold)
        odd = _Moment.fromtimestamp(0, UTC) + (moment - datetime(1970, 1, 1, tzinfo=UTC))
        assert type(odd) is _Moment
        assert iso_utc(odd) == _reference_iso_utc(odd)


def test_iso_utc_at_the_ends_of_time_and_when_its_cache_is_full(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ends = [
        datetime.min.replace(tzinfo=UTC),
        datetime.max.replace(tzinfo=UTC),
        datetime(999, 12, 31, 23, 59, 59, 999_999, UTC),
        datetime(1000, 1, 1, tzinfo=UTC),
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(2024, 2, 29, 12, 0, 0, 1, UTC),
    ]
    monkeypatch.setattr(_record, "_DAY_PREFIXES_KEPT", 2)
    for _ in range(3):
        for moment in ends:
            assert iso_utc(moment) == _reference_iso_utc(moment)
            assert len(_record._DAY_PREFIXES) <= 2
    assert iso_utc(datetime.max.replace(tzinfo=UTC)) == "9999-12-31T23:59:59.999999Z"
    assert iso_utc(datetime.min.replace(tzinfo=UTC)) == "0001-01-01T00:00:00Z"


# -- Summary.add ------------------------------------------------------------------------


class _ReferenceSpans(_summary._Spans):
    """``_Spans.add`` as it was."""

    def add(self, start: float, end: float) -> None:
        intervals = self.intervals
        if intervals:
            last_start, last_end = intervals[-1]
            if start <= last_end and end >= last_start:
                intervals[-1] = (min(start, last_start), max(end, last_end))
                return
        intervals.append((start, end))
        if len(intervals) > 2 * _summary._SPANS_PER_ROW:
            self.compact()


class _ReferencePair(_summary._Pair):
    """``_Pair`` as it was."""

    def __init__(self, issued: float, expires: float) -> None:
        super().__init__(issued, expires)
        self.spans = _ReferenceSpans()
        self.rejected_spans = _ReferenceSpans()

    def add(self, issued: float, expires: float, ok: bool) -> None:
        self.first_issued = min(self.first_issued, issued)
        self.last_expiration = max(self.last_expiration, expires)
        if ok:
            self.ok += 1
            self.spans.add(issued, expires)
        else:
            self.rejected += 1
            self.rejected_spans.add(issued, expires)


def _reference_epoch(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


class _ReferenceSummary(Summary):
    """``Summary.add`` and its finding helpers as they were."""

    def add(self, record: AuditRecord) -> None:
        self.total += 1
        self._results.update(_record.jsonl_line(record))
        ok = record.ok
        if ok:
            self.ok += 1
            self.by_reason["ok"] += 1
        else:
            self.rejected += 1
            reason = record.reason.value if record.reason is not None else "unknown"
            self.by_reason[reason] += 1
            if len(self.rejected_sample) < _summary._REJECTED_KEPT:
                self.rejected_sample.append(record)
            self._reference_finding(reason, record)
        fingerprint, license_arn = record.key_fingerprint, record.license_arn
        if fingerprint is None or license_arn is None:
            return
        column = 0 if ok else 1
        node_id = record.node_id
        for table, key in (
            (self._by_key, fingerprint),
            (self._by_license, license_arn),
            (self._by_node, node_id or ""),
        ):
            tally = table.get(key)
            if tally is None:
                tally = table[key] = [0, 0]
            tally[column] += 1
        issued = _reference_epoch(record.issued_at)
        expires = _reference_epoch(record.expiration)
        if issued is not None and expires is not None:
            pair = self._pairs.get((license_arn, node_id))
            if pair is None:
                pair = self._pairs[(license_arn, node_id)] = _ReferencePair(issued, expires)
            pair.add(issued, expires, ok)
            if ok and self.reference <= expires <= self._window_end:
                self._add_expiring(record, expires)
            if ok and self.checked_at != "issued" and expires < self.checked_at:
                self._reference_finding(IN_GRACE, record)
        token = record.license_consumption_token
        first_copy = token is None or self._add_consumption(token, record.source)
        if first_copy and issued is not None and expires is not None:
            self._add_usage(record, license_arn, issued, expires)

    def _reference_finding(self, reason: str, record: AuditRecord) -> None:
        kind = self._kinds[kind_of(reason)]
        kind.tokens += 1
        kind.by_reason[reason] += 1
        if record.license_arn is not None:
            kind.licenses.add(record.license_arn)
            kind.nodes.add(record.node_id or "")
        if kind is not self._kinds["lifecycle"]:
            if len(kind.findings) < _summary._FINDINGS_KEPT:
                kind.findings.append(record)
            return
        group = self._groups.get((reason, record.license_arn or ""))
        if group is None:
            group = self._groups[(reason, record.license_arn or "")] = _summary._Group()
        group.tokens += 1
        if len(group.nodes) < _summary._GROUP_NODES_SHOWN:
            group.nodes.add(record.node_id or "")
        expires = _reference_epoch(record.expiration)
        issued = _reference_epoch(record.issued_at)
        if expires is None or issued is None:
            return
        if self.checked_at == "issued":
            distance = expires - issued if reason == "not_yet_valid" else issued - expires
        elif reason == "not_yet_valid":
            distance = issued - self.checked_at
        else:
            distance = self.checked_at - expires
        group.nearest = min(group.nearest, distance)
        group.farthest = max(group.farthest, distance)


_T0 = 1_800_000_000
_INSTANT_TEXT = st.one_of(
    st.none(),
    # the audit's own spelling, whole seconds and with microseconds
    st.integers(_T0 - 40 * 86400, _T0 + 40 * 86400).map(
        lambda s: iso_utc(datetime.fromtimestamp(s, UTC))
    ),
    st.integers(_T0 - 86400, _T0 + 86400).map(
        lambda s: iso_utc(datetime.fromtimestamp(s + 0.25, UTC))
    ),
    # what a resumed file may hold: other offsets, a bare date, nonsense, an hour 24
    st.sampled_from(
        ["2027-01-15T08:00:00+05:30", "2027-01-15", "not a time", "", "2027-01-15T24:00:00Z",
         "2027-02-30T00:00:00Z", "2027-01-15T08:00:60Z", "\u0662\u0660\u0662\u0667-01-15T08:00:00Z"]
    ),
)  # fmt: skip
_TEXTS = st.text(
    st.characters(codec="utf-8") | st.sampled_from("\x00\x1b\u202e\u2028\ufeff:"), max_size=8
)
_FEW = st.sampled_from(["arn:a", "arn:b", "arn:\u202e"])
_SUMMARY_RECORDS = st.builds(
    AuditRecord,
    source=st.sampled_from(["s.jsonl:1", "s.jsonl:2", "t:0", "odd:007", "x.json"]) | _TEXTS,
    ok=st.booleans(),
    reason=st.none() | st.sampled_from(list(tv.Reason)),
    license_arn=st.none() | _FEW,
    node_id=st.none() | st.sampled_from(["", "node-1", "node-\u2066"]) | _TEXTS,
    key_fingerprint=st.none() | st.sampled_from(["fp-1", "fp-2"]),
    expiration=_INSTANT_TEXT,
    issued_at=_INSTANT_TEXT,
    license_consumption_token=st.none() | st.sampled_from(["c1", "c2", "c3"]) | _TEXTS,
    message=_TEXTS,
    entitlements=st.none()
    | st.lists(st.tuples(st.sampled_from(["Users", "Storage"]), st.none() | _TEXTS,
                         st.sampled_from(["Count", "None"])), max_size=3).map(tuple),
)  # fmt: skip


@st.composite
def _genuine_records(draw: st.DrawFn) -> AuditRecord:
    """Signed records whose instants parse: what fills timelines, spans and groups."""
    issued = _T0 + 3600 * draw(st.integers(-48, 48))
    expires = issued + draw(st.sampled_from([-3600, 0, 1800, 3600, 86400, 3 * 86400]))
    ok = draw(st.booleans())
    reason = None if ok else draw(st.sampled_from(list(tv.Reason)))
    return msgspec.structs.replace(
        draw(_SUMMARY_RECORDS),
        ok=ok,
        reason=reason,
        license_arn=draw(_FEW),
        node_id=draw(st.sampled_from([None, "node-1"])),
        key_fingerprint="fp-1",
        issued_at=iso_utc(datetime.fromtimestamp(issued, UTC)),
        expiration=iso_utc(datetime.fromtimestamp(expires, UTC)),
    )


@settings(max_examples=300, deadline=None)
@given(
    records=st.lists(_genuine_records() | _SUMMARY_RECORDS, max_size=40),
    checked_at=st.sampled_from(["issued", float(_T0), float(_T0 + 86400)]),
    spans_per_row=st.sampled_from([1, 2, _summary._SPANS_PER_ROW]),
)
def test_summary_add_reports_what_it_reported(
    records: list[AuditRecord], checked_at: float | str, spans_per_row: int
) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_summary, "_SPANS_PER_ROW", spans_per_row)  # merging, compacting
        ours = Summary(checked_at, reference=float(_T0))  # type: ignore[arg-type]
        theirs = _ReferenceSummary(checked_at, reference=float(_T0))  # type: ignore[arg-type]
        for record in records:
            ours.add(record)
            theirs.add(record)
        assert ours.results_sha256 == theirs.results_sha256
        assert ours.rejected_sample == theirs.rejected_sample
        assert ours.report().model_dump() == theirs.report().model_dump()
        for pair, reference in zip(ours._pairs.values(), theirs._pairs.values(), strict=True):
            assert pair.spans.intervals == reference.spans.intervals
            assert pair.rejected_spans.intervals == reference.rejected_spans.intervals
