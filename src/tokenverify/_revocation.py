"""Offline revocation: licenses, checkouts or issuer keys a vendor has withdrawn.

Revocations name claims or keys, never raw token bytes: an ECDSA signature has a second
valid form (r, n - s), so the same checkout can arrive as different bytes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import NamedTuple

from ._claims import Claims
from ._errors import Reason, TokenRejected
from ._keys import RegisteredKey

__all__ = ["Revocation", "RevocationList", "check_identifier"]

_IDENTIFIERS = ("license_arn", "license_consumption_token", "key_fingerprint", "key_thumbprint")
# RFC 7638 SHA-256 thumbprint as tokenverify prints it: 32 bytes, unpadded base64url.
_THUMBPRINT = re.compile(r"[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]", re.ASCII)


def check_identifier(name: str, value: object) -> None:
    """Refuse an identifier that could never match, so a revocation is never silently void.

    ``ValueError`` for an empty string, surrounding whitespace or a malformed thumbprint;
    ``TypeError`` for anything but a string (None means "not named").
    """
    if value is None:
        return
    if not isinstance(value, str):
        raise TypeError(f"revocation {name} must be a string, not {type(value).__name__}")
    if not value or value != value.strip():
        raise ValueError(f"revocation {name} {value!r} is empty or has surrounding whitespace")
    if name == "key_thumbprint" and not _THUMBPRINT.fullmatch(value):
        raise ValueError(
            f"revocation key_thumbprint {value[:60]!r} is not an RFC 7638 SHA-256 thumbprint "
            "(43 base64url characters, as 'tokenverify keys list' prints it)"
        )


class Revocation(NamedTuple):
    """One revoked thing. Every identifier given must match (most entries give one)."""

    license_arn: str | None = None
    license_consumption_token: str | None = None
    key_fingerprint: str | None = None
    key_thumbprint: str | None = None
    reason: str | None = None
    revoked_at: str | None = None

    def matches(self, claims: Claims, key: RegisteredKey) -> bool:
        """Whether this entry revokes a checkout with these claims, signed by ``key``."""
        return (
            (self.license_arn is None or self.license_arn == claims.license_arn)
            and (
                self.license_consumption_token is None
                or self.license_consumption_token == claims.license_consumption_token
            )
            and (self.key_fingerprint is None or self.key_fingerprint == key.fingerprint)
            and (self.key_thumbprint is None or self.key_thumbprint == key.thumbprint)
        )


class RevocationList:
    """Revoked licenses, checkouts and keys, checked after the signature.

    >>> revocations = RevocationList.load("revocations.json")
    >>> Verifier(registry, policy, revocations=revocations)
    """

    __slots__ = ("_by_identifier", "_combined", "entries")

    def __init__(self, entries: Iterable[Revocation] = ()) -> None:
        self.entries = tuple(entries)
        # Entries naming one identifier (nearly all) are found by a dict lookup.
        self._by_identifier: dict[tuple[str, str], Revocation] = {}
        self._combined: list[Revocation] = []
        for entry in self.entries:
            if not isinstance(entry, Revocation):
                raise TypeError("RevocationList holds Revocation entries")
            for name in _IDENTIFIERS:
                check_identifier(name, getattr(entry, name))
            named = [
                (name, getattr(entry, name))
                for name in _IDENTIFIERS
                if getattr(entry, name) is not None
            ]
            if not named:
                raise ValueError(f"revocation {entry} names no license, checkout or key")
            if len(named) == 1:
                self._by_identifier.setdefault(named[0], entry)
            else:
                self._combined.append(entry)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> RevocationList:
        """Read a revocations file (JSON; schema: ``tokenverify.formats._revocation_file``).

        Strict: unknown fields, duplicate names, entries naming nothing and unreadable
        files all raise ``ValueError`` naming the problem. Imports pydantic.
        """
        # A delegate into the formats package, imported here only: the file's model is
        # pydantic, which stays off the launch path; the core imports no formats at load.
        from .formats._revocation_file import load_revocations

        return load_revocations(path)

    def check(self, claims: Claims, key: RegisteredKey) -> None:
        """Raise ``TokenRejected(revoked)`` if any entry revokes this checkout."""
        if not self.entries:
            return
        lookup = self._by_identifier.get
        entry = (
            lookup(("license_consumption_token", claims.license_consumption_token))
            or lookup(("license_arn", claims.license_arn))
            or lookup(("key_thumbprint", key.thumbprint))
            or lookup(("key_fingerprint", key.fingerprint))
            or next((e for e in self._combined if e.matches(claims, key)), None)
        )
        if entry is not None:
            what = ", ".join(
                f"{name} {getattr(entry, name)!r}" for name in _IDENTIFIERS if getattr(entry, name)
            )
            why = f" ({entry.reason})" if entry.reason else ""
            when = f" on {entry.revoked_at}" if entry.revoked_at else ""
            raise TokenRejected(
                Reason.revoked,
                f"the vendor revoked {what}{when}{why}; "
                "check out a new license or contact the vendor",
            )

    def __len__(self) -> int:
        return len(self.entries)

    def __repr__(self) -> str:
        return f"<RevocationList {len(self.entries)} entries>"
