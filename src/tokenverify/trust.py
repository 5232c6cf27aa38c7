"""Trust anchors compiled into a product: what ``tokenverify keys export --python`` writes.

A keys file is read from disk at every start and is only as trustworthy as the permissions
on it. An exported module is Python source: it ships inside the product, is covered by the
product's code signing like every other module, and builds its registry without reading a
file or importing pydantic::

    import tokenverify as tv
    import trust_anchors        # tokenverify keys export --keys keys.json --python trust_anchors.py

    verifier = tv.Verifier(trust_anchors.registry(), policy)

Each :class:`TrustAnchor` holds what :meth:`KeyRegistry.add` takes, plus two checks:
``thumbprint`` (RFC 7638, of ``public_key``) and ``seal`` (SHA-256 of every other field, as
exported). :func:`build_registry` adds each anchor through ``KeyRegistry.add``, so a weak
key, ``none``/HMAC or an algorithm the key cannot do are refused exactly as there, then
refuses an anchor whose key does not match its thumbprint or whose fields (a widened pin,
a longer validity window) do not match its seal. The module is regenerated from the keys
file, never edited. The seal catches edits by hand or by a careless tool; it is not a
signature (anyone can recompute it), which is why the module must be inside the signed
product.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import FrozenInstanceError  # imported by cryptography anyway

from cryptography.hazmat.primitives import hashes

from . import _base64url
from ._errors import InvalidKey
from ._registry import KeyRegistry

__all__ = ["TrustAnchor", "build_registry", "seal"]

_SEAL_FORMAT = "tokenverify-trust-anchor/1"


_FIELDS = (
    "fingerprint",
    "public_key",
    "algorithms",
    "not_before",
    "not_after",
    "label",
    "key_id",
    "thumbprint",
    "seal",
)


class TrustAnchor:
    """One trusted public key as an exported module records it: immutable, keywords only.

    ``not_before``/``not_after`` are ISO 8601 times (``2026-01-01T00:00:00Z``) or None.
    """

    # A plain class, not a dataclass: @dataclass costs about 2 ms at import, on the launch
    # path of every product that ships an exported module (measured, README).
    __slots__ = _FIELDS

    fingerprint: str
    public_key: str
    algorithms: tuple[str, ...]
    not_before: str | None
    not_after: str | None
    label: str | None
    key_id: str | None
    thumbprint: str
    seal: str

    def __init__(
        self,
        *,
        fingerprint: str,
        public_key: str,
        algorithms: tuple[str, ...],
        not_before: str | None = None,
        not_after: str | None = None,
        label: str | None = None,
        key_id: str | None = None,
        thumbprint: str,
        seal: str,
    ) -> None:
        values = (
            fingerprint,
            public_key,
            algorithms,
            not_before,
            not_after,
            label,
            key_id,
            thumbprint,
            seal,
        )
        for name, value in zip(_FIELDS, values, strict=True):
            object.__setattr__(self, name, value)

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in _FIELDS)

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TrustAnchor):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in _FIELDS)
        return f"TrustAnchor({fields})"


def seal(
    *,
    fingerprint: str,
    public_key: str,
    algorithms: tuple[str, ...],
    not_before: str | None,
    not_after: str | None,
    label: str | None,
    key_id: str | None,
    thumbprint: str,
) -> str:
    """The SHA-256 (base64url) of an anchor's fields, in one canonical JSON spelling."""
    fields = [
        _SEAL_FORMAT,
        fingerprint,
        public_key,
        list(algorithms),
        not_before,
        not_after,
        label,
        key_id,
        thumbprint,
    ]
    canonical = json.dumps(fields, ensure_ascii=True, separators=(",", ":")).encode("ascii")
    # cryptography's SHA-256, not hashlib: hashlib loads a second libcrypto at launch (3 ms).
    digest = hashes.Hash(hashes.SHA256())
    digest.update(canonical)
    return _base64url.encode(digest.finalize())


def build_registry(anchors: Iterable[TrustAnchor]) -> KeyRegistry:
    """A new registry of ``anchors``; :class:`InvalidKey` names the first one refused."""
    registry = KeyRegistry()
    for index, anchor in enumerate(anchors):
        where = f"trust anchor {index}"
        if not isinstance(anchor, TrustAnchor):
            raise InvalidKey(f"{where} is a {type(anchor).__name__}, not a TrustAnchor")
        where = f"{where} ({anchor.fingerprint!r:.80})"
        _check_types(anchor, where)
        try:
            added = registry.add(
                anchor.fingerprint,
                anchor.public_key,
                algorithms=anchor.algorithms,
                not_before=anchor.not_before,
                not_after=anchor.not_after,
                label=anchor.label,
                key_id=anchor.key_id,
            )
        except (InvalidKey, ValueError) as exc:
            raise InvalidKey(f"{where}: {exc}") from None
        if len(added) != 1:
            raise InvalidKey(f"{where}: public_key holds {len(added)} keys, not one PEM")
        if added[0].thumbprint != anchor.thumbprint:
            raise InvalidKey(
                f"{where}: public_key does not match thumbprint {anchor.thumbprint} (it is "
                f"{added[0].thumbprint}): the module was edited; export it again"
            )
        expected = seal(
            fingerprint=anchor.fingerprint,
            public_key=anchor.public_key,
            algorithms=anchor.algorithms,
            not_before=anchor.not_before,
            not_after=anchor.not_after,
            label=anchor.label,
            key_id=anchor.key_id,
            thumbprint=anchor.thumbprint,
        )
        if anchor.seal != expected:
            raise InvalidKey(
                f"{where}: its fields do not match its seal (algorithms, validity, label or "
                "key id were changed): the module was edited; export it again"
            )
    return registry


def _check_types(anchor: TrustAnchor, where: str) -> None:
    # What a hand edit could put there; add() checks the rest (fingerprint, key, times).
    if not isinstance(anchor.algorithms, tuple) or not all(
        isinstance(name, str) for name in anchor.algorithms
    ):
        raise InvalidKey(f"{where}: algorithms must be a tuple of names, such as ('PS384',)")
    for name in ("public_key", "thumbprint", "seal"):
        if not isinstance(getattr(anchor, name), str):
            raise InvalidKey(f"{where}: {name} must be a str")
    for name in ("not_before", "not_after", "label", "key_id"):
        value = getattr(anchor, name)
        if value is not None and not isinstance(value, str):
            raise InvalidKey(f"{where}: {name} must be a str or None")
