"""Property: the strict parse of a saved response decides as the hooked one when its
duplicate proof writes the document back without the SignedToken's text
(``_json._without_duplicates``), and the depth check on empty strings alone decides as
the full one (``_json._check_structure_depth``).

Responses are generated with a long SignedToken (a token, or text holding ':', brackets,
a backslash or a quote), the name "SignedToken" repeated at the top or nested, written
as a value, followed by something other than a string, duplicate names at every depth,
nesting around the limit, non-ASCII and invalid bytes, in the AWS CLI's layout or
compact. Both parses must return the same value or refuse with the same message.
"""

from __future__ import annotations

import contextlib
import json

from hypothesis import given
from hypothesis import strategies as st

from strict_json_reference import hooked_loads, outcome
from tokenverify import _json

TOKEN = "eyJhbGciOiJQUzM4NCJ9." + "QUJD" * 120 + ".c2ln"
tokens = st.one_of(
    st.just(TOKEN),
    st.builds(
        lambda at, extra: TOKEN[:at] + extra + TOKEN[at:],
        st.integers(0, len(TOKEN)),
        st.sampled_from([":", "[", "]", "{", "}", "\\", '"', "é", "\x01", "a:b[c"]),
    ),
    st.just("short"),
    st.integers(0, 10),
    st.just([TOKEN]),
)
names = st.sampled_from(["SignedToken", "Name", "Value", "a:b", "x"])
leaves = st.one_of(st.text(st.sampled_from(list("a:[]{} é")), max_size=5), st.integers(), st.none())
values = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.lists(st.tuples(names, inner), max_size=3),  # an object as pairs: names may repeat
        st.tuples(st.just("nest"), st.integers(28, 34), inner),
    ),
    max_leaves=8,
)


def _is_member(item: object) -> bool:
    return isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)


def _write(value: object) -> str:
    if isinstance(value, tuple) and value[:1] == ("nest",):
        depth: int = value[1]
        return "[" * depth + _write(value[2]) + "]" * depth
    if value and isinstance(value, list) and all(_is_member(item) for item in value):
        return "{" + ", ".join(f"{json.dumps(n)}: {_write(v)}" for n, v in value) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_write(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _response(
    token: object, before: list[tuple[str, object]], after: list[tuple[str, object]]
) -> str:
    members = [*before, ("SignedToken", ("raw", json.dumps(token, ensure_ascii=False))), *after]
    written = []
    for name, value in members:
        text = value[1] if isinstance(value, tuple) and value[:1] == ("raw",) else _write(value)
        written.append(f"{json.dumps(name)}: {text}")
    return "{" + ", ".join(written) + "}"


members = st.lists(st.tuples(names, values), max_size=4)


@given(
    tokens,
    members,
    members,
    st.sampled_from([0, 4]),
    st.sampled_from([b"", b"", b"\xff", b"\x00"]),
    st.integers(0, 2000),
    st.booleans(),
)
def test_a_response_parses_alike_with_its_token_left_out(
    token: object,
    before: list[tuple[str, object]],
    after: list[tuple[str, object]],
    indent: int,
    splice: bytes,
    at: int,
    raw_token: bool,
) -> None:
    text = _response(token, before, after)
    if raw_token and isinstance(token, str):
        # The token written unescaped, as it stands (quotes, backslashes and all).
        text = text.replace(json.dumps(token, ensure_ascii=False), f'"{token}"', 1)
    data = text.encode("utf-8", "surrogatepass")
    if indent:
        with contextlib.suppress(ValueError, RecursionError):
            data = json.dumps(json.loads(data), indent=indent, ensure_ascii=False).encode()
    if splice:
        at = min(at, len(data))
        data = data[:at] + splice + data[at:]
    assert outcome(_json.loads_object, data) == outcome(hooked_loads, data)


@given(
    st.text(st.sampled_from(list('[]{}"a:')), max_size=60), st.integers(0, 40), st.integers(0, 60)
)
def test_the_depth_check_decides_alike_on_many_empty_strings(
    text: str, nest: int, empties: int
) -> None:
    # Enough containers for the check to look at the strings, most of them empty.
    data = ("[" * nest + '{"":"",' * empties + text + "}" * empties + "]" * nest).encode()
    structure = data.translate(None, _json._NOT_STRUCTURE)
    decided = outcome(_json._check_structure_depth, structure)
    assert decided == outcome(_json._check_depth, data)


def test_the_token_is_written_back_only_when_it_holds_no_colon() -> None:
    plain = json.dumps({"a": "1:2", "SignedToken": TOKEN, "b": [{"c": ":"}]}, indent=4).encode()
    colons = plain.count(b":")
    # The shortcut proves this one (the token left out of the write-back) ...
    assert _json._without_duplicates(plain, colons) == json.loads(plain)
    for kept in ":[]{}":
        token = TOKEN[:100] + kept + TOKEN[100:]
        document = json.dumps({"SignedToken": token, "x": "1:2"}).encode()
        # ... and one whose token holds a ':' (written back whole).
        assert _json._without_duplicates(document, document.count(b":")) == json.loads(document)
        assert _json.loads_object(document)["SignedToken"] == token
    # A duplicate SignedToken is refused whichever of the two holds the colon.
    for first, last in ((TOKEN, TOKEN), ("a:" + TOKEN, TOKEN), (TOKEN, "a:" + TOKEN)):
        twice = f'{{"SignedToken": "{first}", "SignedToken": "{last}"}}'.encode()
        assert _json._without_duplicates(twice, twice.count(b":")) is None
        assert outcome(_json.loads_object, twice) == (
            "refused",
            "duplicate member name 'SignedToken'",
        )
