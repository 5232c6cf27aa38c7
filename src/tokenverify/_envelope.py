"""The unsigned plaintext beside a SignedToken must say what the token signs.

A CheckoutLicense response carries ``LicenseArn``, ``NodeId``, ``EntitlementsAllowed``...
next to the token, unsigned. Code that reads them trusts whoever edited the file, so
each one the token also signs is compared, and the result exposes only signed values.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from itertools import repeat
from operator import attrgetter, itemgetter
from typing import TYPE_CHECKING, Any

from ._errors import Reason, TokenRejected
from ._times import parse_iso8601

if TYPE_CHECKING:
    # msgspec stays off the launch path (see _claims_launch)
    from ._claims import Claims, SignedEntitlement

__all__ = ["check_envelope"]

# Plaintext member -> Claims field holding the signed value.
_STRING_FIELDS = (
    ("LicenseArn", "license_arn"),
    ("LicenseConsumptionToken", "license_consumption_token"),
    ("NodeId", "node_id"),
    ("CheckoutType", "checkout_type"),
    ("ProductSKU", "product_sku"),
)
# Plaintext member -> (Claims field holding the signed instant, signed payload spelling).
_TIME_FIELDS = (
    ("IssuedAt", "issued_at_epoch", "issuedAt"),
    ("Expiration", "expiration_epoch", "expiration"),
)
_PLAIN_TRIPLE = itemgetter("Name", "Value", "Unit")
_SIGNED_TRIPLE = attrgetter("name", "value", "unit")
# (plaintext member, signed getter, types a plaintext value may have to count as equal)
_IN_ORDER = (
    ("Name", attrgetter("name"), {str}),
    ("Unit", attrgetter("unit"), {str}),
    ("Value", attrgetter("value"), {str, type(None)}),
)


def check_envelope(envelope: Mapping[str, Any], claims: Claims) -> None:
    """Raise ``TokenRejected(envelope_mismatch)`` if plaintext and signed values differ."""
    for member, field in _STRING_FIELDS:
        plain = envelope.get(member)
        signed = getattr(claims, field)
        if plain is not None and signed is not None and plain != signed:
            raise _mismatch(member, f"{_preview(plain)}, signed {_preview(signed)}")
    signed_payload = claims.signed
    for member, field, spelling in _TIME_FIELDS:
        plain = envelope.get(member)
        # The very text the token signs (AWS writes both from one clock) names the signed
        # instant: parsing it again could only give the same answer.
        if plain is not None and not (
            type(plain) is str and plain == getattr(signed_payload, spelling)
        ):
            instant = _instant(member, plain)
            if instant != getattr(claims, field):
                raise _mismatch(member, f"{_preview(plain)}, which is not the signed instant")
    plain_entitlements = envelope.get("EntitlementsAllowed")
    signed_entitlements = claims.entitlements
    if (
        plain_entitlements is not None
        and signed_entitlements is not None
        and not _equal_in_order(plain_entitlements, signed_entitlements)
    ):
        signed = set(map(_SIGNED_TRIPLE, signed_entitlements))
        if _entitlement_set(plain_entitlements) != signed:
            raise _mismatch(
                "EntitlementsAllowed", "a different set of entitlements than the token signs"
            )
    plain_metadata = envelope.get("CheckoutMetadata")
    if (
        plain_metadata is not None
        and claims.checkout_metadata is not None
        and _metadata_object(plain_metadata) != claims.checkout_metadata
    ):
        raise _mismatch("CheckoutMetadata", "different metadata than the token signs")


def _instant(member: str, value: object) -> float:
    if isinstance(value, datetime):
        # boto3 may hand back datetimes; a naive one is UTC, like a zone-less string.
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    try:
        return parse_iso8601(value).timestamp()
    except ValueError as exc:
        raise _mismatch(member, f"unreadable: {exc}") from None


def _equal_in_order(plain: object, signed: tuple[SignedEntitlement, ...]) -> bool:
    """True when the plaintext list repeats the signed one entry by entry: then the sets
    agree, and building them (tuples, hashes) is skipped. False decides nothing.

    Only plain ``dict`` items and ``str`` (or absent) values qualify, whose equality and
    hashing are the built-ins' own, so the answer is the set comparison's. All in C maps:
    a Python loop over 45 entitlements costs more than the sets it saves.
    """
    if type(plain) is not list or len(plain) != len(signed):
        return False
    if plain and set(map(type, plain)) != {dict}:
        return False
    for member, signed_getter, types in _IN_ORDER:
        values = list(map(dict.get, plain, repeat(member)))
        # Types first: a caller's own objects never have their __eq__ run by a shortcut.
        if not set(map(type, values)) <= types or values != list(map(signed_getter, signed)):
            return False
    return True


def _entitlement_set(value: object) -> set[tuple[object, object, object]] | None:
    if not isinstance(value, list):
        return None
    try:
        # itemgetter in C: 4x faster than a Python loop over 45 entitlements (measured).
        return set(map(_PLAIN_TRIPLE, value))
    except (KeyError, TypeError):
        pass  # a Value-less entitlement, a non-object item or unhashable junk: go slowly
    if not all(isinstance(item, Mapping) for item in value):
        return None
    try:
        return {(item.get("Name"), item.get("Value"), item.get("Unit")) for item in value}
    except TypeError:
        return None


def _metadata_object(value: object) -> dict[str, str] | None:
    """The plaintext ``[{Name, Value}]`` list as a mapping, folded as the signed list is:
    a name repeated with one value is one entry, with two values it cannot agree."""
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        return None
    metadata: dict[str, str] = {}
    for item in value:
        name, plain = item.get("Name"), item.get("Value")
        # Signed names and values are strings: anything else cannot agree (and comparing
        # a caller's nested lists could recurse without bound).
        if not isinstance(name, str) or not isinstance(plain, str):
            return None
        if metadata.setdefault(name, plain) != plain:
            return None
    return metadata


def _preview(value: object) -> str:
    if not isinstance(value, str):
        # repr() of a caller's deeply nested list would recurse without bound.
        return f"a {type(value).__name__}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _mismatch(member: str, detail: str) -> TokenRejected:
    return TokenRejected(
        Reason.envelope_mismatch,
        f"plaintext {member} is {detail}: the response was altered after checkout; "
        "trust only the signed token",
    )
