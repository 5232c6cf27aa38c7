"""Strict times: AWS's ISO 8601 timestamps and JWT NumericDate, both as aware UTC.

``datetime.fromisoformat`` accepts week dates, basic format, spaces and more, so the one
spelling AWS's service model allows is matched by an explicit pattern:
``YYYY-MM-DDThh:mm:ss[.fraction][Z|+hh:mm|-hh:mm]``. No zone means UTC, as in AWS's own
examples. A fraction has 1 to 9 digits; beyond microseconds it is truncated (toward
the past).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

__all__ = ["MAX_EPOCH", "from_epoch", "parse_iso8601", "parse_numeric_date"]

_ISO8601 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]{1,9}))?(Z|[+-][0-9]{2}:[0-9]{2})?",
    re.ASCII,
)
#: 9999-12-31T23:59:59Z + 1 s: the first instant datetime cannot hold.
MAX_EPOCH = 253402300800
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_from_isoformat = datetime.fromisoformat


def parse_iso8601(text: object) -> datetime:
    """Parse AWS's timestamp spelling to an aware UTC datetime; ``ValueError`` otherwise."""
    if type(text) is str and len(text) == 19 and _ISO8601.fullmatch(text) is not None:
        # AWS's usual spelling, YYYY-MM-DDThh:mm:ss (19 characters: no fraction, no
        # zone), without reading the match's groups: what the path below does with it
        # (tests/properties/test_prop_times.py runs both). The C parser sees nothing it
        # could read loosely; the constructor inside it still refuses month 13, hour 24,
        # Feb 30 and leap seconds. (A pattern of its own would be faster by 0.3 µs a
        # call and cost every launch 0.4 ms to compile.)
        return _from_isoformat(text + "+00:00")
    return parse_by_pattern(text)


def parse_by_pattern(text: object) -> datetime:
    """:func:`parse_iso8601` without its shortcut: the pattern decides every spelling."""
    if not isinstance(text, str):
        raise ValueError(f"expected an ISO 8601 string, found {type(text).__name__}")
    match = _ISO8601.fullmatch(text)
    if match is None:
        raise ValueError(f"{text[:40]!r} is not YYYY-MM-DDThh:mm:ss[.fff][Z|+hh:mm]")
    fraction, zone = match.group(7, 8)
    if fraction is None and zone in (None, "Z"):
        # AWS's usual spelling; the pattern above already pinned it down, so the C parser
        # (4x faster than the general path below) sees nothing it could read loosely.
        # (Appending the zone costs 0.1 µs; .replace(tzinfo=UTC) costs 1 µs.)
        return datetime.fromisoformat(text[:19] + "+00:00")
    year, month, day, hour, minute, second = match.group(1, 2, 3, 4, 5, 6)
    micro = int(fraction[:6].ljust(6, "0")) if fraction else 0
    # The constructor refuses month 13, hour 24, Feb 30, year 0 and leap seconds.
    moment = datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second), micro, UTC
    )
    if zone and zone != "Z":
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        if hours > 23 or minutes > 59:
            raise ValueError(f"{text[:40]!r} has an impossible UTC offset")
        offset = timedelta(hours=hours, minutes=minutes)
        # Local time minus its offset is UTC; the result must stay within datetime's range.
        try:
            moment = moment - offset if zone[0] == "+" else moment + offset
        except OverflowError:
            raise ValueError(f"{text[:40]!r} is outside years 1 to 9999 in UTC") from None
    return moment


def parse_numeric_date(value: object) -> float:
    """Parse a JWT NumericDate (RFC 7519 section 2): finite seconds since the epoch."""
    # bool is an int subclass; true is not a time.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number of seconds, found {type(value).__name__}")
    if not 0 <= value < MAX_EPOCH:  # also false for NaN
        raise ValueError(f"{value!r} is outside years 1970 to 9999")
    return float(value)


def from_epoch(seconds: float) -> datetime:
    """Seconds since the epoch as an aware UTC datetime (exact for whole seconds)."""
    return _EPOCH + timedelta(seconds=seconds)
