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
#: All but what decides nesting and duplicates: quotes, brackets, colons and backslashes.
_NOT_STRUCTURE = bytes(c for c in range(256) if c not in b'"[]{}:\\')

_STRICT_DECODER = json.JSONDecoder(
    object_pairs_hook=_refuse_duplicates,
    parse_constant=_refuse_constant,
    parse_float=_finite_float,
)


def loads_object(data: bytes) -> dict[str, Any]:
    """Parse a JSON object strictly; raise ``ValueError`` saying what is wrong."""
    # Only once msgspec is loaded anyway (past a launch: see _claims_launch): importing it
    # for this would cost a launch more than it saves.
    if "msgspec" in sys.modules:
        structure = data.translate(None, _NOT_STRUCTURE)
        if 92 not in structure:  # no backslash (an int needle: a bytes one costs an exception)
            _check_structure_depth(structure)
            unhooked = _without_duplicates(data, structure.count(b":"))
            if unhooked is not None:
                return unhooked
            return _loads_hooked(data)  # says what is wrong (the depth is checked)
    _check_depth(data)
    return _loads_hooked(data)


def _without_duplicates(data: bytes, colons: int) -> dict[str, Any] | None:
    """The document parsed by msgspec's C decoder (no Python call per object or number),
    when it provably has no duplicate member names; None decides nothing (the hooked
    parse then does). ``data`` holds no backslash and ``colons`` ':'.

    Without a backslash no string holds an escape, so a ':' outside the strings ends a
    member name and every other ':' is string content, which msgspec writes back
    unchanged. A duplicate name keeps one member of two: the document written back then
    has fewer ':' than the text. Equal counts mean no duplicates. msgspec refuses all the
    stdlib's strict parse refuses here (NaN, 1e999, invalid UTF-8, control characters,
    ints of over 4300 digits) and reads the rest to the same values, both proven by
    ``tests/properties/test_prop_json_unhooked.py``; what it refuses, the hooked parse
    judges. Half the parse of a saved response (measured).
    """
    import msgspec  # loaded already: loads_object asks only then

    try:
        value = msgspec.json.decode(data)
        if type(value) is not dict:
            return None
        token = value.get("SignedToken")
        if type(token) is str and len(token) > 256 and ":" not in token:
            # A string without ':' adds none to the count: written without it (the same
            # members in the same order), the count is the same, for half the work.
            written = msgspec.json.encode({**value, "SignedToken": ""})
        else:
            written = msgspec.json.encode(value)
    except (ValueError, TypeError, OverflowError, RecursionError, msgspec.MsgspecError):
        return None  # the hooked parse says what is wrong
    if written.count(b":") != colons:
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


def _check_structure_depth(structure: bytes) -> None:
    """``_check_depth`` for a document without backslashes, given only its quotes,
    brackets and colons (``_NOT_STRUCTURE`` removed): one ``translate`` over the text,
    then work on a string a tenth its size. The same verdict, proven by
    ``tests/properties/test_prop_json_unhooked.py``."""
    if structure.count(b"[") + structure.count(b"{") <= MAX_DEPTH:
        return
    structure = structure.translate(None, b":")
    if structure.count(b'""') * 2 == structure.count(b'"'):
        # Every quote is in one of the '""' found left to right: the quotes pair up as
        # strings do (first with second, third with fourth...) and no string holds a
        # bracket, so every bracket left is outside the strings.
        _peel(structure.translate(None, b'"'))
        return
    # '""' is an empty string or the end of one string and the start of the next (nothing
    # but text between them): either way dropping it keeps every bracket inside or
    # outside the strings it was.
    structure = structure.replace(b'""', b"")
    if b'"' in structure:
        structure = b"".join(structure.split(b'"')[::2])
    _peel(structure)


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
    _peel(outside_strings.translate(None, _NOT_BRACKETS))


def _peel(brackets: bytes) -> None:
    """Refuse unless ``brackets`` (the brackets outside strings) nest at most
    ``MAX_DEPTH`` deep and balance."""
    for _ in range(MAX_DEPTH):
        peeled = brackets.replace(b"[]", b"").replace(b"{}", b"")
        if peeled == brackets:
            break
        brackets = peeled
    if brackets:
        raise ValueError(f"nesting is too deep (over {MAX_DEPTH} levels, or unbalanced)")


def _short(exc: Exception) -> str:
    return str(exc).split("\n", 1)[0][:160]
