"""The trust anchors: issuer key fingerprints mapped to pinned public keys.

A fingerprint (``aws:111122223333:My Company:issuer-fingerprint``) may hold several keys
for rotation. Keys are parsed and checked once, when added; verifying looks them up by
exact string match and never parses key material again.

A token's ``kid`` is a hint, never a key source: it is looked up by exact match (issuer
fingerprint, key id, RFC 7638 thumbprint), and when it matches none of the expected
issuer's keys, that issuer's own keys are the candidates (at most
:data:`MAX_CANDIDATE_KEYS` are tried). A kid never selects a key of another issuer than
the expected one, and never names a file, URL or query.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import NamedTuple

from ._algorithms import check_key_strength
from ._errors import InvalidKey
from ._keys import KeySource, RegisteredKey, load_key_source, parse_validity, pin_algorithms

__all__ = ["MAX_CANDIDATE_KEYS", "KeyRegistry", "KeySelection"]

#: At most this many keys are tried for one token; more would let a token cost N verifies.
#: Whether the kid matched or not: an unmatched kid costs no more than a matched one.
MAX_CANDIDATE_KEYS = 8
_MAX_FINGERPRINT_LENGTH = 256
_SELECTIONS_KEPT = 64


class KeySelection(NamedTuple):
    """The keys to try for one token, and how they were found."""

    keys: tuple[RegisteredKey, ...]
    #: The issuer whose keys these are expected to be: the policy's fingerprint, or the
    #: registry's only one; None when neither says (several issuers, no policy).
    expected: str | None
    #: True when the token's kid matched these keys exactly; False when the kid matched
    #: none of the expected issuer's keys (or there was no kid) and they are its keys.
    by_kid: bool


class KeyRegistry:
    """Trusted public keys, by issuer key fingerprint.

    >>> registry = KeyRegistry()
    >>> registry.add("aws:111122223333:My Company:issuer-fingerprint", pem, algorithms=["PS384"])
    """

    def __init__(self) -> None:
        self._by_fingerprint: dict[str, list[RegisteredKey]] = {}
        # kid header values we recognise: a fingerprint, a JWK kid / KMS KeyId, a thumbprint.
        self._by_kid: dict[str, list[RegisteredKey]] = {}
        # select() by (kid, fingerprint): the same few pairs recur for every token of an
        # issuer. Emptied whenever a key is added or removed; bounded, since kids come
        # from tokens.
        self._selections: dict[tuple[str | None, str | None], KeySelection] = {}

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
        self._selections.clear()
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

        See :meth:`select`; this is its list of keys.
        """
        return list(self.select(kid, fingerprint).keys)

    def select(self, kid: str | None, fingerprint: str | None) -> KeySelection:
        """Choose the keys to try for a token with header ``kid``.

        The expected issuer is ``fingerprint`` (the policy's), or else the registry's only
        issuer. A kid that names keys of the expected issuer (or, when none is expected,
        of any issuer) selects those exactly. Otherwise, including when there is no kid,
        the expected issuer's keys are the candidates: each is trusted for that issuer
        and pinned to its algorithms, so the signature decides. With several issuers and
        no expected one, an unmatched kid selects nothing. The keys come in registration
        order; the signature check tries at most :data:`MAX_CANDIDATE_KEYS` of those
        pinned to the token's algorithm.
        """
        selection = self._selections.get((kid, fingerprint))
        if selection is None:
            selection = self._select(kid, fingerprint)
            if len(self._selections) >= _SELECTIONS_KEPT:
                self._selections.clear()
            self._selections[kid, fingerprint] = selection
        return selection

    def _select(self, kid: str | None, fingerprint: str | None) -> KeySelection:
        expected = fingerprint
        if expected is None and len(self._by_fingerprint) == 1:
            # One trusted issuer: no ambiguity about whose token this must be.
            expected = next(iter(self._by_fingerprint))
        if kid is not None:
            found = self._by_kid.get(kid, ())
            if expected is not None:
                found = [k for k in found if k.fingerprint == expected]
            if found:
                return KeySelection(tuple(found), expected, by_kid=True)
        if expected is None:
            return KeySelection((), None, by_kid=False)
        return KeySelection(tuple(self._by_fingerprint.get(expected, ())), expected, by_kid=False)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the registry as a keys file (JSON; schema: ``tokenverify keys schema``)."""
        # A delegate into the formats package, imported here only: the keys file model
        # (pydantic) stays off the launch path, and the core imports no formats at load.
        from .formats._keys_file import save_registry

        save_registry(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> KeyRegistry:
        """Read a keys file written by :meth:`save`; :class:`InvalidKey` if it is not valid."""
        # The stdlib reader, imported with the first keys file (a launch may read none).
        from ._keyfile import describe, read_entries

        where, entries = read_entries(path)
        registry = KeyRegistry()
        for index, entry in enumerate(entries):
            try:
                added = registry.add(
                    entry.fingerprint,
                    entry.public_key,
                    algorithms=entry.algorithms,
                    not_before=entry.not_before,
                    not_after=entry.not_after,
                    label=entry.label,
                    key_id=entry.key_id,
                )[0]
            except (InvalidKey, ValueError) as exc:
                raise InvalidKey(f"{where}: key {index}: {exc}") from None
            if len(registry) != index + 1:  # a JWKS in public_key: add took several keys
                raise InvalidKey(
                    f"{where}: key {index}: public_key holds several keys, not one PEM"
                )
            if entry.thumbprint is not None and entry.thumbprint != added.thumbprint:
                raise InvalidKey(
                    f"{where}: key {index}: thumbprint {describe(entry.thumbprint)} does not "
                    f"match its public key ({added.thumbprint}); the file was edited"
                )
        return registry

    def __iter__(self) -> Iterator[RegisteredKey]:
        for entries in self._by_fingerprint.values():
            yield from entries

    def __len__(self) -> int:
        return sum(len(entries) for entries in self._by_fingerprint.values())

    def __repr__(self) -> str:
        return f"<KeyRegistry {len(self._by_fingerprint)} fingerprints, {len(self)} keys>"

    def _insert(self, entry: RegisteredKey) -> None:
        self._selections.clear()
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
