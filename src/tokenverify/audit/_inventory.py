"""What the sources held: items per source, and the files skipped as not checkouts.

Folders of saved checkouts hold other things too: the keys file, a policy, a PEM, a
revocation list, notes. A whole file that is plainly not a checkout (what
:func:`tokenverify._sniff.looks_like` names, or anything with neither a ``SignedToken``
nor a compact token in it) is skipped and listed, not counted as a malformed token.
With ``strict`` (``--strict-sources``) everything is a token again. Lines of a JSON
Lines file, database rows and Parquet cells are never skipped: a store says what they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .._sniff import looks_like

__all__ = ["SKIPPED_KEPT", "Inventory", "not_a_checkout"]

#: Skipped files listed by name (all are counted).
SKIPPED_KEPT = 1000
_TOKEN_START = re.compile(rb"\A[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.|\AeyJ")


@dataclass
class Inventory:
    """Filled in as the sources are read: ``counts[i]`` items of source ``i`` (skipped
    files included), ``skipped`` the first skipped ``(id, what it is)``."""

    strict: bool = False
    counts: list[int] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    skipped_total: int = 0

    def skip(self, name: str, what: str) -> None:
        self.skipped_total += 1
        if len(self.skipped) < SKIPPED_KEPT:
            self.skipped.append((name, what))


def not_a_checkout(data: bytes) -> str | None:
    """What a whole file is when it plainly is not a checkout; None when it may be one."""
    from .._text import to_utf8

    try:
        text = to_utf8(data).strip()
    except ValueError:
        return None  # a broken encoding: let the verifier say so, as a malformed token
    if not text:
        return "an empty file"
    kind = looks_like(text)
    if kind is not None:
        return kind
    if b'"SignedToken"' in text or _TOKEN_START.match(text):
        return None
    if text[:1] in (b"{", b"["):
        return "JSON with no SignedToken"
    return "no SignedToken and no token in it"
