"""The trust anchors: issuer key fingerprints mapped to pinned public keys.

A fingerprint (``aws:111122223333:My Company:issuer-fingerprint``) may hold several keys
for rotation. Keys are parsed and checked once, when added; verifying looks them up by
exact string match and never parses key material again.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from datetime import datetime

from ._algorithms import check_key_strength
from ._errors import InvalidKey
from ._keys import KeySource, RegisteredKey, load_key_source, parse_validity, pin_algorithms

__all__ = ["MAX_CANDIDATE_KEYS", "KeyRegistry"]

#: At most this many keys are tried for one token; more would let a token cost N verifies.
MAX_CANDIDATE_KEYS = 8
_MAX_FINGERPRINT_LENGTH = 256


class KeyRegistry:
    """Trusted public keys, by issuer key fingerprint.

    >>> registry = KeyRegistry()
    >>> registry.add("aws:111122223333:My Company:issuer-fingerprint", pem, algorithms=["PS384"])
    """

    def __init__(self) -> None:
        self._by_fingerprint: dict[str, list[RegisteredKey]] = {}
        # kid header values we recognise: a fingerprint, a JWK kid / KMS KeyId, a thumbprint.
        self._by_kid: dict[str, list[RegisteredKey]] = {}

    def add(
        self,
        fingerprint: str,
        key: KeySource,
        *,
        algorithms: Iterable[str] | None = None,
        not_before: datetime | str | None = None,
        not_after: datetime | str | None = None,
        label: str | None = None,
        key_id: str | None = None,
    ) -> list[RegisteredKey]:
        """Trust ``key`` (every key of a JWKS) for tokens of issuer ``fingerprint``.

        ``algorithms`` pins what the key may verify; it may be left out when the source
        names them (a JWK ``alg``, KMS ``SigningAlgorithms``) or the key admits only one
        (an EC curve, Ed25519). Raises :class:`InvalidKey` and adds nothing on any problem.
        """
        _check_fingerprint(fingerprint)
        start = parse_validity(not_before, "not_before")
        end = parse_validity(not_after, "not_after")
        added: list[RegisteredKey] = []
        for public_key, named, source_key_id in load_key_source(key):
            check_key_strength(public_key)  # before pinning, so a bad curve is named as such
            entry = RegisteredKey(
                fingerprint,
                public_key,
                pin_algorithms(public_key, algorithms, named),
                not_before=start,
                not_after=end,
                label=label,
                key_id=key_id or source_key_id,
            )
            existing = (*self._by_fingerprint.get(fingerprint, ()), *added)  # a JWKS may repeat one
            if any(k.thumbprint == entry.thumbprint for k in existing):
                raise InvalidKey(
                    f"key {entry.thumbprint} is already registered for {fingerprint!r}; "
                    "remove it first to change its algorithms or validity"
                )
            added.append(entry)
        for entry in added:
            self._insert(entry)
        return added

    def remove(self, fingerprint: str, thumbprint: str | None = None) -> int:
        """Forget the keys of ``fingerprint`` (only the one with ``thumbprint`` if given)."""

        def removing(key: RegisteredKey) -> bool:
            return key.fingerprint == fingerprint and thumbprint in (None, key.thumbprint)

        entries = [k for k in self if not removing(k)]  # registration order is kept
        removed = len(self) - len(entries)
        self._by_fingerprint.clear()
        self._by_kid.clear()
        for entry in entries:
            self._insert(entry)
        return removed

    def keys(self, fingerprint: str | None = None) -> tuple[RegisteredKey, ...]:
        """The registered keys, all of them or those of one fingerprint."""
        if fingerprint is not None:
            return tuple(self._by_fingerprint.get(fingerprint, ()))
        return tuple(self)

    def fingerprints(self) -> tuple[str, ...]:
        """The issuer fingerprints that have at least one key."""
        return tuple(self._by_fingerprint)

    def candidates(self, kid: str | None, fingerprint: str | None) -> list[RegisteredKey]:
        """The keys to try for a token with header ``kid`` under an expected ``fingerprint``.

        An unknown kid yields nothing rather than falling back to other keys.
        """
        if kid is not None:
            found = self._by_kid.get(kid, [])
            if fingerprint is not None:
                found = [k for k in found if k.fingerprint == fingerprint]
            return found
        if fingerprint is not None:
            return self._by_fingerprint.get(fingerprint, [])
        if len(self._by_fingerprint) == 1:
            # One trusted issuer: no ambiguity about whose token this must be.
            return next(iter(self._by_fingerprint.values()))
        return []

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the registry as a keys file (JSON; schema: ``tokenverify.keyfile``)."""
        from ._keyfile import save_registry  # pydantic stays off the launch path

        save_registry(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> KeyRegistry:
        """Read a keys file written by :meth:`save`; :class:`InvalidKey` if it is not valid."""
        from ._keyfile import load_registry

        return load_registry(path)

    def __iter__(self) -> Iterator[RegisteredKey]:
        for entries in self._by_fingerprint.values():
            yield from entries

    def __len__(self) -> int:
        return sum(len(entries) for entries in self._by_fingerprint.values())

    def __repr__(self) -> str:
        return f"<KeyRegistry {len(self._by_fingerprint)} fingerprints, {len(self)} keys>"

    def _insert(self, entry: RegisteredKey) -> None:
        self._by_fingerprint.setdefault(entry.fingerprint, []).append(entry)
        for name in {entry.fingerprint, entry.key_id, entry.thumbprint}:
            if name:
                self._by_kid.setdefault(name, []).append(entry)


def _check_fingerprint(fingerprint: object) -> None:
    if (
        not isinstance(fingerprint, str)
        or not 0 < len(fingerprint) <= _MAX_FINGERPRINT_LENGTH
        or not fingerprint.isprintable()
        or fingerprint != fingerprint.strip()
    ):
        raise InvalidKey(
            "a key fingerprint is a printable string of 1 to 256 characters without surrounding "
            "spaces, such as 'aws:111122223333:My Company:issuer-fingerprint'"
        )
