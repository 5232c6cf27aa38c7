"""Property: the strict JSON parse without its per-object hook decides as the hooked one.

``loads_object`` parses documents without a backslash with msgspec's decoder, checks
their depth on quotes and brackets alone, and proves the absence of duplicate member
names by counting ':' (see ``_json``). These run it and the hooked parse (the stdlib's
decoder with a hook per object, after the full depth check) on the same texts: objects
written from lists of pairs with repeated names at any depth, colons and brackets inside
names and values, non-ASCII, invalid UTF-8, control characters, numbers out of range or
of many digits, NaN, nesting around the limit, non-objects, truncations and escapes.
Both must return the same value (same types: ``repr`` tells 1 from 1.0 and -0.0 from
0.0) or refuse with the same message.
"""

from __future__ import annotations

import contextlib
import json
import sys

from hypothesis import given
from hypothesis import strategies as st

from strict_json_reference import hooked_loads, outcome
from tokenverify import _json

names = st.sampled_from(["a", "b", "a:b", ":", "Name", "é", "", " ", "[", "{}", '"'])
# Number spellings the two decoders must read alike (or both refuse).
digits = st.text(st.sampled_from("0123456789"), min_size=1, max_size=25)
numbers = st.one_of(
    st.builds(
        lambda sign, whole, fraction, exponent: f"{sign}{whole}{fraction}{exponent}",
        st.sampled_from(["", "-", "+"]),
        digits,
        st.one_of(st.just(""), digits.map(lambda d: "." + d), st.just(".")),
        st.one_of(
            st.just(""),
            st.builds(
                lambda e, s, d: f"{e}{s}{d}",
                st.sampled_from("eE"),
                st.sampled_from(["", "+", "-"]),
                digits,
            ),
        ),
    ),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["1e999", "-1e999", "NaN", "-Infinity", "1e-400", "4" * 4301, "5" * 4300]),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    numbers.map(lambda t: ("raw", t)),
    st.text(st.sampled_from(list('ab:{}[]é ,\\"\x00\x1f\x7f\u2028\U0001f600')), max_size=6),
    # Raw (unescaped) text: control characters and quotes as they stand.
    st.text(st.sampled_from(list('a:\t\n\x01[]{}"é')), max_size=4).map(lambda t: ("raw", f'"{t}"')),
)


def _write(value: object) -> str:
    if isinstance(value, tuple) and value[:1] == ("raw",):
        return str(value[1])
    if isinstance(value, tuple) and value[:1] == ("object",):
        members = [f"{json.dumps(n, ensure_ascii=False)}: {_write(v)}" for n, v in value[1]]
        return "{" + ", ".join(members) + "}"
    if isinstance(value, tuple) and value[:1] == ("nest",):
        depth: int = value[1]
        return "[" * depth + _write(value[2]) + "]" * depth
    if isinstance(value, list):
        return "[" + ",".join(_write(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.lists(st.tuples(names, inner), max_size=4).map(lambda pairs: ("object", pairs)),
        # Around the depth limit, with containers beside the nest or not.
        st.tuples(st.just("nest"), st.integers(25, 34), inner),
    ),
    max_leaves=12,
)
# Bytes that are not UTF-8 (or encode surrogates), to splice into a document.
bad_bytes = st.sampled_from([b"", b"", b"", b"\xff", b"\xed\xa0\x80", b"\xc0\x80", b"\x00", b"\t"])


@given(values, st.integers(0, 3), bad_bytes, st.integers(0, 400), st.sampled_from([0, 4]))
def test_unhooked_parse_decides_as_the_hooked_one(
    value: object, cut: int, splice: bytes, at: int, indent: int
) -> None:
    text = _write(value).encode("utf-8", "surrogatepass")
    if indent:
        # The AWS CLI's layout, where the value can be written back.
        with contextlib.suppress(ValueError, RecursionError, UnicodeEncodeError):
            text = json.dumps(json.loads(text), indent=indent, ensure_ascii=False).encode()
    if cut:
        text = text[:-cut]  # truncated documents must be refused alike too
    if splice:
        at = min(at, len(text))
        text = text[:at] + splice + text[at:]
    expected = outcome(hooked_loads, text)
    # The shortcut runs only once msgspec is loaded (never at launch): it is, here.
    assert "msgspec" in sys.modules
    assert outcome(_json.loads_object, text) == expected


def test_a_duplicate_name_is_still_refused_without_escapes() -> None:
    document = b'{"Users": {"Name": "a", "Name": "b"}, "x": "1:2"}'
    assert outcome(_json.loads_object, document) == ("refused", "duplicate member name 'Name'")
    assert _json._without_duplicates(document, document.count(b":")) is None
    # The AWS CLI's shape takes the shortcut.
    plain = b'{"a": "t:1", "b": [{"c": 1}]}'
    assert _json._without_duplicates(plain, plain.count(b":")) == {"a": "t:1", "b": [{"c": 1}]}


def _depth_outcome(check: object, data: bytes) -> str | None:
    try:
        check(data)  # type: ignore[operator]
    except ValueError as exc:
        return str(exc)
    return None


@given(st.text(st.sampled_from(list('[]{}"a:')), max_size=120), st.integers(0, 40))
def test_the_depth_check_on_quotes_and_brackets_decides_as_the_full_one(
    text: str, nest: int
) -> None:
    # Any text without a backslash, balanced or not, strings holding brackets or not.
    data = ("[" * nest + text + "]" * nest).encode()
    structure = data.translate(None, _json._NOT_STRUCTURE)
    assert _depth_outcome(_json._check_structure_depth, structure) == _depth_outcome(
        _json._check_depth, data
    )
