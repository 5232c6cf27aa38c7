"""``tokenverify keys add|list|show|remove|schema`` and reading ``--keys`` for the others.

``--keys`` names a tokenverify keys file (JSON, written by ``keys add``). ``verify`` and
``inspect`` also take a bare public key there (PEM, DER, JWK, JWKS or the JSON of ``aws
kms get-public-key``) together with ``--fingerprint``, for a one-off check.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .._errors import InvalidKey
from .._files import exclusive_lock, read_regular_file
from .._keys import RegisteredKey, explain_pins, key_type, load_key_source
from .._registry import KeyRegistry
from .._text import encoded_limit, to_utf8
from ._output import (
    CliError,
    Console,
    describe_os_error,
    format_time,
    os_error_reason,
    printable,
)

__all__ = [
    "add_key",
    "key_type",
    "list_keys",
    "load_trust",
    "print_keys_schema",
    "remove_keys",
    "show_keys",
]

_MAX_KEY_SOURCE = 1 << 20
_MAX_KEYS_FILE = 16 << 20  # as tokenverify._keyfile allows
_KEYS_FILE_MARK = b'"tokenverify-keys"'


def load_trust(path: str, fingerprint: str | None, algorithms: list[str] | None) -> KeyRegistry:
    """The registry ``--keys`` names: a keys file, or one bare key under ``--fingerprint``."""
    data = _read(path, "keys file", _MAX_KEYS_FILE)
    if _is_keys_file(data):
        if algorithms is not None:
            raise CliError("--algorithms applies to a bare public key, not to a keys file")
        return _load_keys_file(path, sniffed=True)
    if fingerprint is None:
        raise CliError(
            f"{path!r} is not a tokenverify keys file; to use a bare public key, "
            "also pass --fingerprint (and --algorithms for an RSA key)"
        )
    registry = KeyRegistry()
    try:
        registry.add(fingerprint, data, algorithms=algorithms)
    except InvalidKey as exc:
        raise CliError(f"{path}: {exc}") from None
    return registry


def add_key(args: argparse.Namespace, console: Console) -> int:
    """``keys add``: import a public key into the keys file, atomically."""
    with _keys_file_lock(Path(args.keys)):
        return _add_key_locked(args, console)


def _add_key_locked(args: argparse.Namespace, console: Console) -> int:
    keys_path = Path(args.keys)
    registry = _load_or_create(keys_path)
    source = _read(args.source, "key", _MAX_KEY_SOURCE)
    if _is_keys_file(source):
        raise CliError(f"{_name(args.source)} is a tokenverify keys file, not a public key")
    # Parse into a scratch registry first: an identical key already present is not an
    # error, a different registration of the same key is, and neither writes anything.
    staged = KeyRegistry()
    try:
        new_keys = staged.add(
            args.fingerprint,
            source,
            algorithms=args.algorithms,
            not_before=args.not_before,
            not_after=args.not_after,
            label=args.label,
            key_id=args.key_id,
        )
    except InvalidKey as exc:
        raise CliError(f"{_name(args.source)}: {exc}") from None
    # The source parses (staged.add did it): read what it names, to say why each pin.
    named = dict(_named(source))
    existing = {key.thumbprint: key for key in registry.keys(args.fingerprint)}
    fresh = []
    for key in new_keys:
        old = existing.get(key.thumbprint)
        if old is None:
            fresh.append(key)
        elif _registration(old) != _registration(key):
            raise CliError(
                f"key {key.thumbprint} is already registered for {args.fingerprint!r} "
                f"with {_describe_registration(old)}; not changed. To replace it: tokenverify "
                f"keys remove --keys {args.keys} --fingerprint '{args.fingerprint}' "
                f"--thumbprint={key.thumbprint}"
            )
    if not fresh:
        console.print(f"already registered in {keys_path}; nothing changed")
        return 0
    for key in fresh:
        registry.add(
            key.fingerprint,
            key.public_key,
            algorithms=key.algorithms,
            not_before=key.not_before,
            not_after=key.not_after,
            label=key.label,
            key_id=key.key_id,
        )
    _save(registry, keys_path)
    for key in fresh:
        why = explain_pins(key.algorithms, args.algorithms is not None, named.get(key.thumbprint))
        console.print(
            f"added {key_type(key)} key {key.thumbprint} for '{printable(key.fingerprint)}': "
            f"pinned {', '.join(sorted(key.algorithms))} ({why})"
        )
    console.print(f"{keys_path}: {len(registry)} key{'s' if len(registry) != 1 else ''}")
    return 0


def _named(source: bytes) -> list[tuple[str, frozenset[str] | None]]:
    from .._keys import thumbprint

    return [(thumbprint(key), names) for key, names, _ in load_key_source(source)]


def list_keys(args: argparse.Namespace, console: Console) -> int:
    """``keys list``: every key with its type, algorithms, validity and thumbprint."""
    registry = _load_keys_file(args.keys)
    if not len(registry):
        console.print(f"no keys in {printable(args.keys)}")
        return 0
    for index, key in enumerate(registry):
        if index:
            console.print()
        _print_key(key, console, pem=False)
    return 0


def show_keys(args: argparse.Namespace, console: Console) -> int:
    """``keys show``: the keys matching a thumbprint, fingerprint or key id, with PEM."""
    registry = _load_keys_file(args.keys)
    selector = args.selector
    matches = [key for key in registry if selector in (key.thumbprint, key.fingerprint, key.key_id)]
    if not matches:
        raise CliError(f"no key in {args.keys} has thumbprint, fingerprint or key id {selector!r}")
    for index, key in enumerate(matches):
        if index:
            console.print()
        _print_key(key, console, pem=True)
    return 0


def remove_keys(args: argparse.Namespace, console: Console) -> int:
    """``keys remove``: forget one key (or, with ``--all``, every key of a fingerprint)."""
    with _keys_file_lock(Path(args.keys)):
        return _remove_keys_locked(args, console)


def _remove_keys_locked(args: argparse.Namespace, console: Console) -> int:
    keys_path = Path(args.keys)
    registry = _load_keys_file(args.keys)
    held = registry.keys(args.fingerprint)
    if not held:
        raise CliError(f"no key for {args.fingerprint!r} in {args.keys}")
    if args.thumbprint is None and len(held) > 1 and not args.all:
        listed = ", ".join(key.thumbprint for key in held)
        raise CliError(
            f"{args.fingerprint!r} has {len(held)} keys ({listed}): pass --thumbprint=T, or --all"
        )
    removed = registry.remove(args.fingerprint, args.thumbprint)
    if not removed:
        raise CliError(f"{args.fingerprint!r} has no key with thumbprint {args.thumbprint!r}")
    _save(registry, keys_path)
    console.print(
        f"removed {removed} key{'s' if removed != 1 else ''} of {args.fingerprint!r}; "
        f"{printable(keys_path)}: {len(registry)} key{'s' if len(registry) != 1 else ''}"
    )
    return 0


def print_keys_schema(args: argparse.Namespace, console: Console) -> int:
    """``keys schema``: the keys file's JSON Schema."""
    from ..formats._keys_file import json_schema

    console.print(json.dumps(json_schema(), indent=2))
    return 0


def _print_key(key: RegisteredKey, console: Console, *, pem: bool) -> None:
    # Labels, key ids and fingerprints are whatever the keys file holds: printable().
    console.print(console.style(printable(key.fingerprint), "bold"))
    algorithms = printable(", ".join(sorted(key.algorithms)))
    console.print(f"  key         {key_type(key)} [{algorithms}]")
    console.print(f"  thumbprint  {printable(key.thumbprint)}")
    console.print(f"  valid       {_validity(key)}")
    if key.label:
        console.print(f"  label       {printable(key.label)}")
    if key.key_id:
        console.print(f"  key id      {printable(key.key_id)}")
    if pem:
        console.print(key.public_pem().rstrip("\n"))


def _validity(key: RegisteredKey) -> str:
    if key.not_before and key.not_after:
        return f"{format_time(key.not_before)} to {format_time(key.not_after)}"
    if key.not_before:
        return f"from {format_time(key.not_before)}"
    if key.not_after:
        return f"until {format_time(key.not_after)}"
    return "any time"


def _registration(key: RegisteredKey) -> tuple[object, ...]:
    return (key.algorithms, key.not_before, key.not_after, key.label, key.key_id)


def _describe_registration(key: RegisteredKey) -> str:
    parts = [f"algorithms {', '.join(sorted(key.algorithms))}", f"validity {_validity(key)}"]
    if key.label:
        parts.append(f"label {key.label!r}")
    if key.key_id:
        parts.append(f"key id {key.key_id!r}")
    return "; ".join(parts)


def _is_keys_file(data: bytes) -> bool:
    # A JSON object that names the keys file format (every file 'keys add' writes does).
    return data.lstrip()[:1] == b"{" and _KEYS_FILE_MARK in data


def _load_keys_file(path: str | os.PathLike[str], *, sniffed: bool = False) -> KeyRegistry:
    """Load a keys file; ``sniffed`` when the caller already saw it is one."""
    if not sniffed and not _is_keys_file(_read(os.fspath(path), "keys file", _MAX_KEYS_FILE)):
        raise CliError(
            f"{os.fspath(path)!r} is not a tokenverify keys file (make one with "
            "'tokenverify keys add KEY --keys FILE --fingerprint F')"
        )
    try:
        return KeyRegistry.load(path)
    except InvalidKey as exc:
        raise CliError(str(exc)) from None


def _load_or_create(path: Path) -> KeyRegistry:
    if not path.exists():
        if not path.parent.is_dir():
            raise CliError(f"cannot create keys file {str(path)!r}: no folder {str(path.parent)!r}")
        return KeyRegistry()
    data = _read(str(path), "keys file", _MAX_KEYS_FILE)
    if not _is_keys_file(data):
        raise CliError(
            f"{str(path)!r} exists and is not a tokenverify keys file; refusing to overwrite it"
        )
    return _load_keys_file(path, sniffed=True)


def _save(registry: KeyRegistry, path: Path) -> None:
    try:
        registry.save(path)
    except OSError as exc:
        raise CliError(
            f"cannot write keys file {str(path)!r} (left as it was): {os_error_reason(exc)}"
        ) from None


@contextmanager
def _keys_file_lock(path: Path) -> Iterator[None]:
    """Serialise read-modify-write of a keys file: two 'keys add' at once keep both keys.

    The lock is ``KEYS.lock`` beside the file (opened without following symlinks); only
    tokenverify's own writers take it, readers never wait.
    """
    if not path.parent.is_dir():
        raise CliError(f"cannot use keys file {str(path)!r}: no folder {str(path.parent)!r}")
    lock = path.with_name(path.name + ".lock")
    try:
        with exclusive_lock(lock):
            yield
    except OSError as exc:
        if exc.filename != str(lock):
            raise
        raise CliError(f"cannot lock keys file {str(path)!r}: {describe_os_error(exc)}") from None


def _read(path: str, what: str, limit: int) -> bytes:
    if path == "-":
        if sys.stdin is None or sys.stdin.isatty():
            raise CliError(f"no {what} on stdin: pipe one in, or pass a file name")
        data = sys.stdin.buffer.read(encoded_limit(limit) + 1)  # any encoding
    else:
        try:
            # A FIFO or device is refused, not read (it could block for ever); any
            # encoding's worth is read: the limit is judged on the decoded text.
            data = read_regular_file(path, encoded_limit(limit))
        except OSError as exc:
            raise CliError(f"cannot read {what} {path!r}: {os_error_reason(exc)}") from None
    if len(data) > encoded_limit(limit):
        raise CliError(f"{_name(path)} is over {limit >> 20} MiB; it is not a {what}")
    try:
        data = to_utf8(data)  # a file PowerShell wrote is UTF-16 with a BOM
    except ValueError as exc:
        raise CliError(f"{_name(path)}: {exc}") from None
    if len(data) > limit:
        raise CliError(f"{_name(path)} is over {limit >> 20} MiB; it is not a {what}")
    return data


def _name(path: str) -> str:
    return "stdin" if path == "-" else repr(path)
