"""Properties of strict timestamps: exactly ``YYYY-MM-DDThh:mm:ss[.fraction][Z|+hh:mm|-hh:mm]``.

``tokenverify._times.parse_iso8601`` must read every such string (no zone meaning UTC)
to the instant it names, and refuse everything else with ``ValueError`` only. The
reference here checks the grammar character by character, without a regex, and lets
``datetime`` judge the calendar. Fractions of 1 to 9 digits are accepted (truncated to
microseconds), as the module documents.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tokenverify import _times

DIGITS = frozenset("0123456789")
#: Positions of the fixed part: d is an ASCII digit, anything else is itself.
LAYOUT = "dddd-dd-ddTdd:dd:dd"
MAX_FRACTION_DIGITS = 9


def reference_parse(text: str) -> datetime | None:
    """The instant ``text`` names in the strict grammar, or None if it names none."""
    head, rest = text[: len(LAYOUT)], text[len(LAYOUT) :]
    if len(head) != len(LAYOUT):
        return None
    for char, kind in zip(head, LAYOUT, strict=True):
        if char not in (DIGITS if kind == "d" else {kind}):
            return None
    fraction = ""
    if rest.startswith("."):
        end = 1
        while end < len(rest) and rest[end] in DIGITS:
            end += 1
        fraction, rest = rest[1:end], rest[end:]
        if not 1 <= len(fraction) <= MAX_FRACTION_DIGITS:
            return None
    if rest in ("", "Z"):
        minutes = 0
    elif (
        len(rest) == 6
        and rest[0] in "+-"
        and {rest[1], rest[2], rest[4], rest[5]} <= DIGITS
        and rest[3] == ":"
        and int(rest[1:3]) <= 23
        and int(rest[4:6]) <= 59
    ):
        minutes = (int(rest[1:3]) * 60 + int(rest[4:6])) * (1 if rest[0] == "+" else -1)
    else:
        return None
    year, month, day = int(head[0:4]), int(head[5:7]), int(head[8:10])
    hour, minute, second = int(head[11:13]), int(head[14:16]), int(head[17:19])
    micro = int(fraction[:6].ljust(6, "0")) if fraction else 0
    zone = timezone(timedelta(minutes=minutes))
    try:
        local = datetime(year, month, day, hour, minute, second, micro, tzinfo=zone)
        return local.astimezone(UTC)
    except (ValueError, OverflowError):  # not a calendar date, or outside years 1..9999 in UTC
        return None


def spell(moment: datetime, zone: timezone | None, fraction: str) -> str:
    """``moment`` in AWS's spelling, local to ``zone`` (None: no designator, UTC)."""
    local = moment.astimezone(zone or UTC)
    text = (
        f"{local.year:04d}-{local.month:02d}-{local.day:02d}"
        f"T{local.hour:02d}:{local.minute:02d}:{local.second:02d}{fraction}"
    )
    if zone is None:
        return text
    offset = local.utcoffset()
    assert offset is not None
    minutes = int(offset.total_seconds()) // 60
    if minutes == 0 and zone.tzname(None) == "Z":
        return text + "Z"
    sign = "-" if minutes < 0 else "+"
    return f"{text}{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


moments = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
)
zones = (
    st.none()
    | st.just(timezone(timedelta(0), "Z"))
    | st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(
        lambda minutes: timezone(timedelta(minutes=minutes))
    )
)
extra_digits = st.text(st.sampled_from("0123456789"), max_size=MAX_FRACTION_DIGITS - 6)


@st.composite
def valid_spellings(draw: st.DrawFn) -> tuple[str, datetime]:
    """A valid string and the instant it names (extra fraction digits are truncated)."""
    moment = draw(moments)
    if moment.microsecond == 0 and draw(st.booleans()):
        fraction = ""
    else:
        fraction = f".{moment.microsecond:06d}{draw(extra_digits)}"
        if draw(st.booleans()):  # shortest spelling: trailing zeros dropped (keep one digit)
            fraction = fraction.rstrip("0") if fraction.rstrip("0") != "." else ".0"
    return spell(moment, draw(zones), fraction), moment


@given(valid_spellings())
@example(("2021-04-13T05:35:47", datetime(2021, 4, 13, 5, 35, 47, tzinfo=UTC)))
@example(
    ("2021-04-13T05:35:47.999999999-23:59", datetime(2021, 4, 14, 5, 34, 47, 999999, tzinfo=UTC))
)
@example(("0001-01-01T00:00:00Z", datetime(1, 1, 1, tzinfo=UTC)))
@example(
    ("9999-12-31T23:59:59.999999+00:00", datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC))
)
def test_valid_spellings_round_trip(case: tuple[str, datetime]) -> None:
    text, moment = case
    parsed = _times.parse_iso8601(text)
    assert parsed == moment
    assert parsed.utcoffset() == timedelta(0)
    assert reference_parse(text) == moment


NEAR_MISS_CHARACTERS = "0123456789-:T.Z+tz W,/\u0661\uff10\u200d\n"


def near_miss(text: str, how: str, position: int, char: str) -> str:
    index = position % (len(text) + 1)
    if how == "delete":
        return text[:index] + text[index + 1 :]
    if how == "insert":
        return text[:index] + char + text[index:]
    if how == "replace":
        return text[:index] + char + text[index + 1 :]
    if how == "truncate":
        return text[:index]
    if how == "swapcase":
        return text.swapcase()
    return char + text if position % 2 else text + char  # "surround"


near_misses = st.builds(
    near_miss,
    valid_spellings().map(lambda case: case[0]),
    st.sampled_from(("delete", "insert", "replace", "truncate", "swapcase", "surround")),
    st.integers(0, 40),
    st.sampled_from(NEAR_MISS_CHARACTERS),
)


@given(near_misses | st.text(max_size=40))
@example("2021-04-13T24:00:00")
@example("2021-02-29T00:00:00")
@example("2021-04-13T05:35:60")
@example("0000-01-01T00:00:00")
@example("0001-01-01T00:00:00+00:01")
@example("9999-12-31T23:59:59-00:01")
@example("2021-04-13T05:35:47+24:00")
@example("2021-04-13T05:35:47+01:60")
@example("2021-04-13T05:35:47.")
@example("2021-04-13T05:35:47.1234567890")
@example("\u0662\u0660\u0662\u0661-04-13T05:35:47")
def test_parse_agrees_with_the_grammar(text: str) -> None:
    expected = reference_parse(text)
    if expected is None:
        # Any message will do: the property is that nothing but ValueError escapes.
        with pytest.raises(ValueError):  # noqa: PT011
            _times.parse_iso8601(text)
    else:
        assert _times.parse_iso8601(text) == expected


@given(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.binary(max_size=30)
    | st.lists(st.text())
)
def test_non_strings_are_refused_with_value_error(value: object) -> None:
    with pytest.raises(ValueError, match="expected an ISO 8601 string"):
        _times.parse_iso8601(value)


@pytest.mark.parametrize(
    "text",
    [
        "2021-04-13 05:35:47",  # space for T
        "2021-04-13t05:35:47",  # lowercase t
        "20210413T053547",  # basic format
        "2021-W15-2T05:35:47",  # week date
        "2021-04-13T05:35",  # no seconds
        "2021-04-13",  # no time
        "2021-04-13T05:35:47+0100",  # offset without colon
        "2021-04-13T05:35:47+01",  # offset without minutes
        "2021-04-13T05:35:47.123+01:00:30",  # offset with seconds
        "2021-04-13T05:35:47,123",  # comma fraction
    ],
)
def test_strings_fromisoformat_accepts_are_refused(text: str) -> None:
    """The differential that motivates the strict pattern (threats.md item 21)."""
    assert datetime.fromisoformat(text) is not None
    assert reference_parse(text) is None
    with pytest.raises(ValueError, match="is not YYYY-MM-DDThh:mm:ss"):
        _times.parse_iso8601(text)


def outcome(parse: object, text: str) -> tuple[str, object]:
    """What a parser makes of ``text``: its value, or its error's message."""
    assert callable(parse)
    try:
        return "value", parse(text)
    except ValueError as exc:
        return "error", str(exc)


nineteen_characters = st.text(st.sampled_from(NEAR_MISS_CHARACTERS), min_size=19, max_size=19)
seconds_spellings = moments.map(lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%S"))
# A seconds spelling with one character replaced: still 19 characters, the shortcut's case.
one_replaced = st.builds(
    lambda text, position, char: text[:position] + char + text[position + 1 :],
    seconds_spellings,
    st.integers(0, 18),
    st.sampled_from(NEAR_MISS_CHARACTERS),
)


@given(seconds_spellings | one_replaced | nineteen_characters | near_misses)
@example("2021-W15-2T05:35:47")  # a week date is 19 characters too
@example("2021-04-13 05:35:47")
@example("20210413T053547.123")
@example("2021-04-13T24:00:00")
@example("\u0662\u0660\u0662\u0661-04-13T05:35:47")
@example("+202-04-13T05:35:47")
def test_the_seconds_shortcut_returns_what_the_pattern_returns(text: str) -> None:
    """``parse_iso8601`` reads AWS's 19-character spelling by a pattern without optional
    groups; on every text it gives the general path's value, or that path's own error."""
    assert outcome(_times.parse_iso8601, text) == outcome(_times.parse_by_pattern, text)
