"""The keys file: a registry saved as JSON, and read back without pydantic.

``KeyRegistry.load`` can sit on a product's launch path, so reading uses only what a
launch imports anyway: the bytes are decoded by their byte order mark
(:func:`tokenverify._text.to_utf8`), parsed by the strict JSON parser (duplicate member
names, NaN and deep nesting refused: :mod:`tokenverify._json`), and checked by hand
against the rules of the pydantic model that saving and ``tokenverify keys schema`` use
(:mod:`tokenverify.formats._keys_file`, imported only by them: this module never imports
it). ``tests/test_keyfile.py``
feeds a corpus of valid and invalid files to both and asserts the same decision.
:meth:`KeyRegistry.load` then adds every key through :meth:`KeyRegistry.add`, and a
recorded thumbprint must match.

The rules: an object with ``format`` ("tokenverify-keys"), ``version`` (1) and ``keys``, all
optional, nothing else; each key an object with ``fingerprint`` (1 to 256 characters),
``public_key`` and ``algorithms`` (a non-empty list of JWS names) required, ``not_before``,
``not_after`` (RFC 3339 times with a zone), ``label``, ``key_id`` and ``thumbprint``
(strings) optional or null, nothing else.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final, NamedTuple

from ._errors import InvalidKey
from ._json import loads_object
from ._text import encoded_limit, to_utf8

__all__ = [
    "ALGORITHMS",
    "FORMAT",
    "VERSION",
    "Entry",
    "describe",
    "parse_time",
    "read_entries",
    "read_keys_file",
    "validate_document",
]

FORMAT: Final = "tokenverify-keys"
VERSION: Final = 1
#: The JWS names a keys file may pin (the model's ``Literal`` spells the same ones).
ALGORITHMS: Final = (
    "PS256", "PS384", "PS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "EdDSA"
)  # fmt: skip
_MAX_KEYS_FILE = 16 << 20
_KEYS_FILE_MARK = b'"tokenverify-keys"'
_MAX_FINGERPRINT = 256
_DOCUMENT_FIELDS = ("format", "version", "keys")
_ENTRY_FIELDS = (
    "fingerprint",
    "public_key",
    "algorithms",
    "not_before",
    "not_after",
    "label",
    "key_id",
    "thumbprint",
)
# RFC 3339 with an explicit zone, as 'save' writes it; fromisoformat then checks ranges.
# Compiled on first use: most keys files hold no validity window.
_TIME = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})"
)


class Entry(NamedTuple):
    """One key of a keys file, checked for shape (the key itself is checked by ``add``)."""

    # A NamedTuple, not a dataclass: @dataclass costs ~2 ms at import, and KeyRegistry.load
    # may be on a product's launch path (measured, README).

    fingerprint: str
    public_key: str
    algorithms: tuple[str, ...]
    not_before: datetime | None = None
    not_after: datetime | None = None
    label: str | None = None
    key_id: str | None = None
    thumbprint: str | None = None


def parse_time(text: str) -> datetime:
    """A keys file time: ``YYYY-MM-DDThh:mm:ss[.ffffff]`` and ``Z`` or ``±hh:mm``."""
    if re.fullmatch(_TIME, text, re.ASCII) is None:  # re caches the compiled pattern
        raise ValueError(
            f"{describe(text)} is not a date-time with a zone, such as '2026-01-01T00:00:00Z'"
        )
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{describe(text)} is not a valid date-time") from None


def validate_document(document: Mapping[str, Any]) -> list[Entry]:
    """The entries of a parsed keys file; ``ValueError`` naming the entry and field."""
    _refuse_unknown(document, _DOCUMENT_FIELDS, "")
    if "format" in document and document["format"] != FORMAT:
        raise ValueError(f"format: must be {FORMAT!r}, found {describe(document['format'])}")
    if "version" in document:
        version = document["version"]
        if type(version) is not int or version != VERSION:  # true == 1 in Python, not here
            raise ValueError(f"version: must be {VERSION}, found {describe(version)}")
    keys = document.get("keys", [])
    if not isinstance(keys, list):
        raise ValueError(f"keys: must be a list of keys, found {describe(keys)}")
    return [_entry(item, f"key {index}") for index, item in enumerate(keys)]


def read_entries(path: str | os.PathLike[str]) -> tuple[str, list[Entry]]:
    """Read and check a keys file: ``"keys file 'NAME'"`` and its entries, in order.

    ``InvalidKey`` names the first problem. :meth:`KeyRegistry.load` adds the entries.
    """
    text = read_keys_file(path)
    where = f"keys file {os.fspath(path)!r}"  # read_keys_file checked that path is one
    try:
        document = loads_object(text)
    except ValueError as exc:
        raise InvalidKey(f"{where}: not strict JSON: {exc}") from None
    try:
        entries = validate_document(document)
    except ValueError as exc:
        raise InvalidKey(f"{where}: {exc}") from None
    return where, entries


def read_keys_file(path: object) -> bytes:
    """The keys file's text as UTF-8, decoded by BOM; ``InvalidKey`` if it cannot be one."""
    from ._files import read_regular_file

    if not isinstance(path, str | os.PathLike):
        # open() would take an int for a file descriptor: never guess what a value means.
        raise InvalidKey(f"a keys file is named by a str or path, not a {type(path).__name__}")
    try:
        name = repr(os.fspath(path))
        # Never blocks on a FIFO; any encoding's worth: the limit is judged on the decoded text.
        data = read_regular_file(path, encoded_limit(_MAX_KEYS_FILE))
    except OSError as exc:
        raise InvalidKey(f"cannot read keys file {name}: {exc.strerror or exc}") from None
    except (TypeError, ValueError) as exc:  # an odd PathLike, a NUL in the name
        raise InvalidKey(f"cannot read keys file: {exc}") from None
    if len(data) > encoded_limit(_MAX_KEYS_FILE):
        raise InvalidKey(f"keys file {name} is over 16 MiB")
    try:
        data = to_utf8(data)
    except ValueError as exc:
        raise InvalidKey(f"keys file {name}: {exc}") from None
    if len(data) > _MAX_KEYS_FILE:
        raise InvalidKey(f"keys file {name} is over 16 MiB")
    stripped = data.strip()
    if _KEYS_FILE_MARK not in stripped:
        from ._sniff import looks_like  # error paths only: off the launch path

        kind = "a checkout" if b'"SignedToken"' in stripped else looks_like(stripped)
        if kind is not None:
            raise InvalidKey(
                f"{name} is not a tokenverify keys file: it looks like {kind} (make one with "
                "'tokenverify keys add KEY --keys FILE --fingerprint F')"
            )
    return data


def _entry(item: object, where: str) -> Entry:
    if not isinstance(item, dict):
        raise ValueError(f"{where}: must be an object, found {describe(item)}")
    _refuse_unknown(item, _ENTRY_FIELDS, f"{where}: ")
    for name in ("fingerprint", "public_key", "algorithms"):
        if name not in item:
            raise ValueError(f"{where}: {name}: required")
    fingerprint = _required_string(item, "fingerprint", where)
    if not 0 < len(fingerprint) <= _MAX_FINGERPRINT:
        raise ValueError(f"{where}: fingerprint: must be 1 to 256 characters")
    public_key = _required_string(item, "public_key", where)
    algorithms = item["algorithms"]
    if not isinstance(algorithms, list) or not algorithms:
        raise ValueError(
            f'{where}: algorithms: must be a non-empty list such as ["PS384"], '
            f"found {describe(algorithms)}"
        )
    for position, algorithm in enumerate(algorithms):
        if not isinstance(algorithm, str) or algorithm not in ALGORITHMS:
            raise ValueError(
                f"{where}: algorithms[{position}]: {describe(algorithm)} is not one of "
                f"{', '.join(ALGORITHMS)}"
            )
    return Entry(
        fingerprint=fingerprint,
        public_key=public_key,
        algorithms=tuple(algorithms),
        not_before=_time(item, "not_before", where),
        not_after=_time(item, "not_after", where),
        label=_optional_string(item, "label", where),
        key_id=_optional_string(item, "key_id", where),
        thumbprint=_optional_string(item, "thumbprint", where),
    )


def _required_string(item: Mapping[str, Any], name: str, where: str) -> str:
    value = item[name]
    if not isinstance(value, str):
        raise ValueError(f"{where}: {name}: must be a string, found {describe(value)}")
    return value


def _optional_string(item: Mapping[str, Any], name: str, where: str) -> str | None:
    value = item.get(name)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{where}: {name}: must be a string or null, found {describe(value)}")
    return value


def _time(item: Mapping[str, Any], name: str, where: str) -> datetime | None:
    value = item.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(
            f"{where}: {name}: must be a date-time string such as '2026-01-01T00:00:00Z', "
            f"found {describe(value)}"
        )
    try:
        return parse_time(value)
    except ValueError as exc:
        raise ValueError(f"{where}: {name}: {exc}") from None


def _refuse_unknown(item: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
    for name in item:
        if name not in allowed:
            raise ValueError(
                f"{where}unknown field {describe(name)} (allowed: {', '.join(allowed)})"
            )


def describe(value: object) -> str:
    """A JSON value as an error message names it: short, and escaped by repr."""
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:40] + "...")
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {value!r:.20}"
    return "an object" if isinstance(value, dict) else "a list"
