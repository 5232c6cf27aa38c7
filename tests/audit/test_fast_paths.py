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
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import BinaryIO

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokenverify.audit import _record, _sources
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
