"""Property: the strict JSON parse without its per-object hook decides as the hooked one.

``loads_object`` parses documents without a backslash with the C scanner alone, and
proves the absence of duplicate member names by counting ':' (see ``_json``). These run
it and the hooked parse on the same texts: objects written from lists of pairs with
repeated names at any depth, colons inside names and values, non-ASCII, numbers out of
range, NaN, non-objects, truncations and escapes. Both must return the same value or
refuse with the same message.
"""

from __future__ import annotations

import json
import sys

from hypothesis import given
from hypothesis import strategies as st

from tokenverify import _json

names = st.sampled_from(["a", "b", "a:b", ":", "Name", "é", "", " "])
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.sampled_from(["1.5", "1e999", "NaN", "-Infinity", "1e-400"]).map(lambda t: ("raw", t)),
    st.text(st.sampled_from(list('ab:{}[]é ,\\"')), max_size=6),
)


def _write(value: object) -> str:
    if isinstance(value, tuple) and value[:1] == ("raw",):
        return str(value[1])
    if isinstance(value, tuple) and value[:1] == ("object",):
        return "{" + ", ".join(f"{json.dumps(n)}: {_write(v)}" for n, v in value[1]) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_write(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.lists(st.tuples(names, inner), max_size=4).map(lambda pairs: ("object", pairs)),
    ),
    max_leaves=12,
)


def _hooked(data: bytes) -> object:
    """``loads_object`` as it was: the depth check, then the parse with the hook."""
    _json._check_depth(data)
    return _json._loads_hooked(data)


def _outcome(parse: object, data: bytes) -> object:
    try:
        return ("value", parse(data))  # type: ignore[operator]
    except ValueError as exc:
        return ("refused", str(exc))


@given(values, st.integers(0, 3))
def test_unhooked_parse_decides_as_the_hooked_one(value: object, cut: int) -> None:
    text = _write(value).encode("utf-8")
    if cut:
        text = text[:-cut]  # truncated documents must be refused alike too
    expected = _outcome(_hooked, text)
    # The shortcut runs only once msgspec is loaded (never at launch): it is, here.
    assert "msgspec" in sys.modules
    assert _outcome(_json.loads_object, text) == expected


def test_a_duplicate_name_is_still_refused_without_escapes() -> None:
    document = b'{"Users": {"Name": "a", "Name": "b"}, "x": "1:2"}'
    assert _outcome(_json.loads_object, document) == ("refused", "duplicate member name 'Name'")
    assert _json._without_duplicates(document) is None
    # The AWS CLI's shape takes the shortcut.
    assert _json._without_duplicates(b'{"a": "t:1", "b": [{"c": 1}]}') == {
        "a": "t:1",
        "b": [{"c": 1}],
    }
