"""Strict JSON for untrusted documents: UTF-8 only, no NaN or Infinity, no duplicate names.

Used for JWS headers (parsed once per distinct header, then cached) and for response
envelopes, where parsers disagreeing on which duplicate wins would let an attacker show
one value to us and another to the product. The signed payload is decoded in
``_claims`` instead, typed in one pass.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

__all__ = ["loads_object"]


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"number {text[:20]} is out of range")
    return value


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        names = [name for name, _ in pairs]
        duplicate = next(name for name in names if names.count(name) > 1)
        # Parsers disagree on which duplicate wins, so the member means nothing.
        raise ValueError(f"duplicate member name {duplicate[:40]!r}")
    return obj


#: No genuine header or response nests beyond a handful of levels.
MAX_DEPTH = 32
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")

_STRICT_DECODER = json.JSONDecoder(
    object_pairs_hook=_refuse_duplicates,
    parse_constant=_refuse_constant,
    parse_float=_finite_float,
)


# The same decoder without the per-object hook: the C scanner alone builds every dict.
_UNHOOKED_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float)


def loads_object(data: bytes) -> dict[str, Any]:
    """Parse a JSON object strictly; raise ``ValueError`` saying what is wrong."""
    _check_depth(data)
    # Only once msgspec is loaded anyway (past a launch: see _claims_launch): importing it
    # for this would cost a launch more than it saves.
    if b"\\" not in data and "msgspec" in sys.modules:
        unhooked = _without_duplicates(data)
        if unhooked is not None:
            return unhooked
    return _loads_hooked(data)


def _without_duplicates(data: bytes) -> dict[str, Any] | None:
    """The document parsed without a Python call per object, when it provably has no
    duplicate member names; None decides nothing (the hooked parse then does).

    Without a backslash no string holds an escape, so a ':' outside the strings ends a
    member name and every other ':' is string content, which msgspec writes back
    unchanged. A duplicate name keeps one member of two: the document written back then
    has fewer ':' than the text. Equal counts mean no duplicates, and then the hook
    would have built these very dicts. A third of the parse of a saved response (measured).
    """
    import msgspec  # loaded already: loads_object asks only then

    try:
        value = _UNHOOKED_DECODER.decode(data.decode("utf-8"))
        written = msgspec.json.encode(value)
    except (ValueError, TypeError, OverflowError, RecursionError, msgspec.MsgspecError):
        return None  # the hooked parse says what is wrong
    if not isinstance(value, dict) or written.count(b":") != data.count(b":"):
        return None
    return value


def _loads_hooked(data: bytes) -> dict[str, Any]:
    try:
        text = data.decode("utf-8")  # strict: invalid UTF-8 and encoded surrogates fail
        value = _STRICT_DECODER.decode(text)
    except RecursionError:
        raise ValueError("nesting is too deep") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, the hooks' refusals
        raise ValueError(_short(exc)) from None
    if not isinstance(value, dict):
        raise ValueError(f"expected a JSON object, found {type(value).__name__}")
    if b"\\u" in data:
        # The stdlib decodes an escaped lone surrogate ("\ud800") into a str that no UTF-8
        # writer can print; only documents with escapes can hold one, so only they pay.
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("a string holds an unpaired surrogate escape") from None
    return value


def _check_depth(data: bytes) -> None:
    """Refuse nesting deeper than ``MAX_DEPTH`` before the recursive parser sees it.

    Catching RecursionError is not enough: an application that raised the recursion
    limit lets the C parser overflow the stack. Documents with few containers pass after
    two ``count`` calls; others (a response with 45 entitlements has about 50) are reduced
    to the brackets outside strings and peeled one level per round, all in C: about 25 µs
    for such a response.
    """
    if data.count(b"[") + data.count(b"{") <= MAX_DEPTH:
        return
    if b"\\" in data:
        data = re.sub(rb"\\.", b"", data, flags=re.DOTALL)  # escapes, so \" ends nothing
    outside_strings = b"".join(data.split(b'"')[::2])
    brackets = outside_strings.translate(None, _NOT_BRACKETS)
    for _ in range(MAX_DEPTH):
        peeled = brackets.replace(b"[]", b"").replace(b"{}", b"")
        if peeled == brackets:
            break
        brackets = peeled
    if brackets:
        raise ValueError(f"nesting is too deep (over {MAX_DEPTH} levels, or unbalanced)")


def _short(exc: Exception) -> str:
    return str(exc).split("\n", 1)[0][:160]
