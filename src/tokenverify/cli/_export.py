"""``tokenverify keys export --python FILE``: the keys file as a module to ship signed.

The module (see :mod:`tokenverify.trust`) replaces reading a keys file at launch. An
existing file is never replaced unless ``--force`` is given, and even then only if it is
an earlier export: no flag makes this command overwrite a keys file or other source.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from .._display import printable
from .._errors import InvalidKey
from .._registry import KeyRegistry
from ._output import CliError, Console

__all__ = ["export_keys"]

_DEFAULT_MODULE = "trust_anchors"


def export_keys(args: argparse.Namespace, console: Console) -> int:
    """Write (or print, with ``-``) the trust anchors module of ``--keys``; 0 when done."""
    from .._trust_export import export_module

    registry = _load(args.keys)
    if not len(registry):
        raise CliError(f"{printable(args.keys)} holds no keys: there is nothing to export")
    to_stdout = args.python == "-"
    target = None if to_stdout else Path(args.python)
    stem = _DEFAULT_MODULE if target is None else target.stem
    module_name = stem if stem.isidentifier() else _DEFAULT_MODULE
    text = export_module(registry, module_name=module_name)
    if target is None:
        console.out.write(text)
        console.out.flush()
        return 0
    _check_target(target, Path(args.keys), force=args.force)
    from .._files import write_atomically

    try:
        write_atomically(target, text.encode("ascii"))
    except OSError as exc:
        raise CliError(f"cannot write {printable(args.python)}: {exc.strerror or exc}") from None
    keys = len(registry)
    issuers = len(registry.fingerprints())
    console.print(
        f"wrote {keys} key{'s' if keys != 1 else ''} of {issuers} issuer"
        f"{'s' if issuers != 1 else ''} to {printable(args.python)}"
    )
    console.print(
        f"next: ship it inside the signed product and build the registry with "
        f"{module_name}.registry()"
    )
    if module_name != stem:
        console.error(
            f"note: {printable(target.name)} is not an importable module name; "
            "rename it (e.g. trust_anchors.py)"
        )
    return 0


def _load(path: str) -> KeyRegistry:
    try:
        return KeyRegistry.load(path)
    except InvalidKey as exc:
        raise CliError(str(exc)) from None


def _check_target(target: Path, keys: Path, *, force: bool) -> None:
    shown = printable(str(target))
    if not target.parent.is_dir():
        raise CliError(f"cannot write {shown}: no folder {printable(str(target.parent))}")
    exists = target.exists() or target.is_symlink()
    if target.exists() and keys.exists() and os.path.samefile(target, keys):
        raise CliError(f"{shown} is the keys file itself; write the module elsewhere")
    if not exists:
        return
    if not force:
        raise CliError(f"{shown} already exists; refusing to overwrite it (--force replaces it)")
    if not _is_export(target):
        raise CliError(
            f"{shown} exists and is not a module written by 'tokenverify keys export'; "
            "refusing to overwrite it, even with --force"
        )


def _is_export(path: Path) -> bool:
    from .._trust_export import HEADER

    try:
        with open(path, "rb") as handle:
            first = handle.readline(len(HEADER) + 2)
    except OSError:
        return False
    return first.rstrip(b"\r\n") == HEADER.encode("ascii")
