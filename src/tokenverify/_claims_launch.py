"""The payload decoder a launch check uses: the standard library's JSON, no msgspec import.

``_claims`` decodes with msgspec, whose import (it pulls in typing_extensions, uuid,
platform and msgspec.inspect) costs more in a fresh process than the whole signature
check, to save tens of microseconds per token. A product that verifies one checkout at
start pays the import and never earns it back. So :func:`parse_claims` decodes here, with
``json`` (which the launch path imports anyway), until msgspec is imported (by anything:
the audit, a test, the product itself) or this process has decoded :data:`LIGHT_PAYLOADS`
payloads, when the import is repaid.

This path only ever accepts, and only payloads it is sure ``_claims`` accepts with the
same values: strict JSON (no duplicate names, NaN, lone surrogate escapes or deep
nesting), every known claim of exactly the type ``_claims`` declares, times that parse,
metadata that folds. Anything else, valid or not, is handed to ``_claims``, so every
rejection and its message come from one decoder. ``tests/test_claims_launch.py`` holds
the two to the same verdict and values on the hostile suite and, through a fixture in
``tests/conftest.py``, on every token the test suite verifies.
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from ._json import loads_object
from ._times import from_epoch, parse_iso8601, parse_numeric_date

if TYPE_CHECKING:
    from collections.abc import Callable

    from ._claims import Claims

__all__ = ["LIGHT_PAYLOADS", "LaunchClaims", "decode_light", "parse_claims"]

#: Payloads decoded here before msgspec is imported. This path costs ~200 µs more than
#: msgspec's for a 45-entitlement payload and ~35 µs more for a 3-entitlement one (strict
#: json with its hooks, then the checks in Python; measured): 32 of the large kind cost
#: about half of msgspec's ~11 ms import, so a long-running verifier soon moves over.
LIGHT_PAYLOADS = 32
_light_left = LIGHT_PAYLOADS
_parse_typed: Callable[[bytes], Claims] | None = None

# The AWS units (_units.UNITS, _claims.Unit): spelled out so this module imports neither.
_UNITS = frozenset(
    [
        "Count", "None", "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes",
        "Megabytes", "Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits",
        "Terabits", "Percent", "Bytes/Second", "Kilobytes/Second", "Megabytes/Second",
        "Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second",
        "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second",
    ]
)  # fmt: skip
_STRING_CLAIMS = (
    "licenseArn",
    "licenseConsumptionToken",
    "nodeId",
    "issuedAt",
    "expiration",
    "productSKU",
    "checkoutType",
    "keyFingerprint",
    "beneficiary",
)
_NUMERIC_CLAIMS = ("iat", "exp", "nbf")
_KNOWN_CLAIMS = frozenset(
    [*_STRING_CLAIMS, *_NUMERIC_CLAIMS, "entitlementsAllowed", "checkoutMetadata"]
)
_ENTITLEMENT_MEMBERS = frozenset(["name", "unit", "value"])
_PAIR_MEMBERS = ("name", "value", "Name", "Value")
_SPELLING_TOLERANCE = 1.0  # as _claims: NumericDate drops the fraction an ISO time may have


class _Unsure(Exception):
    """This path cannot vouch for the payload; ``_claims`` decides."""


# Plain classes with slots, not NamedTuples: each NamedTuple costs ~0.25 ms to create, and
# this module is imported by every launch.
class LaunchEntitlement:
    """An ``entitlementsAllowed`` entry, as ``_claims.SignedEntitlement`` reads."""

    __slots__ = ("name", "unit", "value")

    def __init__(self, name: str, unit: str, value: str | None) -> None:
        self.name = name
        self.unit = unit
        self.value = value


class LaunchPair:
    """A ``checkoutMetadata`` list entry, as ``_claims._MetadataPair`` reads."""

    __slots__ = ("Name", "Value", "name", "value")

    def __init__(
        self, name: str | None, value: str | None, Name: str | None, Value: str | None
    ) -> None:
        self.name = name
        self.value = value
        self.Name = Name  # the signed member's spelling
        self.Value = Value


class LaunchPayload:
    """The known claims, under the attribute names of ``_claims._SignedPayload``."""

    __slots__ = (
        "beneficiary",
        "checkoutMetadata",
        "checkoutType",
        "entitlementsAllowed",
        "exp",
        "expiration",
        "iat",
        "issuedAt",
        "keyFingerprint",
        "licenseArn",
        "licenseConsumptionToken",
        "nbf",
        "nodeId",
        "productSKU",
    )

    licenseArn: str | None
    licenseConsumptionToken: str | None
    entitlementsAllowed: tuple[LaunchEntitlement, ...] | None
    nodeId: str | None
    issuedAt: str | None
    expiration: str | None
    checkoutMetadata: dict[str, str] | tuple[LaunchPair, ...] | None
    productSKU: str | None
    checkoutType: str | None
    keyFingerprint: str | None
    beneficiary: str | None
    iat: int | float | None
    exp: int | float | None
    nbf: int | float | None


class LaunchClaims:
    """``_claims.Claims`` with the same fields, views and ``raw()``, built without msgspec."""

    __slots__ = (
        "decoded",
        "expiration",
        "expiration_epoch",
        "issued_at",
        "issued_at_epoch",
        "metadata",
        "not_before_epoch",
        "payload",
        "signed",
    )

    def __init__(
        self,
        signed: LaunchPayload,
        issued_at: datetime,
        expiration: datetime,
        issued_at_epoch: float,
        expiration_epoch: float,
        not_before_epoch: float | None,
        payload: bytes,
        decoded: dict[str, Any] | None,
        metadata: dict[str, str] | None,
    ) -> None:
        self.signed = signed
        self.issued_at = issued_at
        self.expiration = expiration
        self.issued_at_epoch = issued_at_epoch
        self.expiration_epoch = expiration_epoch
        self.not_before_epoch = not_before_epoch
        self.payload = payload
        self.decoded = decoded
        self.metadata = metadata

    @property
    def license_arn(self) -> str:
        """``licenseArn`` (checked present)."""
        return self.signed.licenseArn  # type: ignore[return-value]

    @property
    def license_consumption_token(self) -> str:
        """``licenseConsumptionToken`` (checked present)."""
        return self.signed.licenseConsumptionToken  # type: ignore[return-value]

    @property
    def node_id(self) -> str | None:
        """``nodeId``."""
        return self.signed.nodeId

    @property
    def entitlements(self) -> tuple[LaunchEntitlement, ...] | None:
        """``entitlementsAllowed``; None when the token has no such claim."""
        return self.signed.entitlementsAllowed

    @property
    def checkout_metadata(self) -> dict[str, str] | None:
        """``checkoutMetadata`` as name -> value; None when the token has no such claim."""
        return self.metadata

    @property
    def product_sku(self) -> str | None:
        """``productSKU``."""
        return self.signed.productSKU

    @property
    def checkout_type(self) -> str | None:
        """``checkoutType``."""
        return self.signed.checkoutType

    @property
    def key_fingerprint(self) -> str | None:
        """``keyFingerprint``: the issuer the token says signed it."""
        return self.signed.keyFingerprint

    def raw(self) -> dict[str, Any]:
        """The whole decoded payload (a new dict on each call)."""
        # Cannot fail: decode_light parsed these bytes with the same parser.
        return loads_object(self.payload)


def parse_claims(payload: bytes) -> Claims:
    """Decode and check the verified payload: here while that is cheaper, else ``_claims``.

    Same contract as ``_claims.parse_claims``: ``TokenRejected(invalid_claims)`` if wrong.
    """
    # One counter per process; threads racing on it only move the switch by a payload.
    global _light_left, _parse_typed  # noqa: PLW0603
    if _parse_typed is not None:
        return _parse_typed(payload)  # _claims is imported: this path is never taken again
    modules = sys.modules
    if _light_left > 0 and "msgspec" not in modules and "tokenverify._claims" not in modules:
        _light_left -= 1
        claims = decode_light(payload)
        if claims is not None:
            # Duck-typed: the same fields, views and raw() as Claims (tests prove the values).
            return cast("Claims", claims)
    from ._claims import parse_claims as parse_typed

    # Once _claims is imported the test above is false for good: skip it (and the
    # import statement, a microsecond) from now on.
    _parse_typed = parse_typed
    return parse_typed(payload)


def decode_light(payload: bytes) -> LaunchClaims | None:
    """The claims when this path is sure of them, else None (``_claims`` must decide)."""
    try:
        return _decode(payload)
    except (_Unsure, ValueError, RecursionError):
        return None


def _decode(payload: bytes) -> LaunchClaims:
    document = loads_object(payload)  # strict: duplicates, NaN, surrogates, depth refused
    signed = LaunchPayload()
    setattr_ = object.__setattr__
    unknown = False
    for name in _STRING_CLAIMS:
        value = document.get(name)
        if value is not None and type(value) is not str:
            raise _Unsure
        setattr_(signed, name, value)
    for name in _NUMERIC_CLAIMS:
        value = document.get(name)
        if value is not None and type(value) is not int and type(value) is not float:
            raise _Unsure  # a bool is not a NumericDate
        setattr_(signed, name, value)
    entitlements = document.get("entitlementsAllowed")
    if entitlements is not None:
        entitlements, extra = _entitlements(entitlements)
        unknown = unknown or extra
    setattr_(signed, "entitlementsAllowed", entitlements)
    metadata: dict[str, str] | None = None
    raw_metadata = document.get("checkoutMetadata")
    if raw_metadata is not None:
        raw_metadata, metadata, extra = _metadata(raw_metadata)
        unknown = unknown or extra
    setattr_(signed, "checkoutMetadata", raw_metadata)
    if not unknown:
        unknown = any(name not in _KNOWN_CLAIMS for name in document)
    if signed.licenseArn is None or signed.licenseConsumptionToken is None:
        raise _Unsure
    issued_at, issued_epoch = _instant(signed.issuedAt, signed.iat)
    expiration, expiration_epoch = _instant(signed.expiration, signed.exp)
    if issued_epoch > expiration_epoch:
        raise _Unsure
    not_before = None if signed.nbf is None else parse_numeric_date(signed.nbf)
    return LaunchClaims(
        signed,
        issued_at,
        expiration,
        issued_epoch,
        expiration_epoch,
        not_before,
        payload,
        document if unknown else None,
        metadata,
    )


def _entitlements(value: object) -> tuple[tuple[LaunchEntitlement, ...], bool]:
    if type(value) is not list:
        raise _Unsure
    entitlements = []
    unknown = False
    for item in value:
        if type(item) is not dict:
            raise _Unsure
        name, unit, amount = item.get("name"), item.get("unit"), item.get("value")
        if type(name) is not str or type(unit) is not str or unit not in _UNITS:
            raise _Unsure
        if amount is not None and type(amount) is not str:
            raise _Unsure
        if len(item) > 3 or not item.keys() <= _ENTITLEMENT_MEMBERS:
            unknown = True
        entitlements.append(LaunchEntitlement(name, unit, amount))
    return tuple(entitlements), unknown


def _metadata(
    value: object,
) -> tuple[dict[str, str] | tuple[LaunchPair, ...], dict[str, str], bool]:
    if type(value) is dict:
        if not all(type(item) is str for item in value.values()):
            raise _Unsure
        copy = dict(value)
        return copy, copy, False
    if type(value) is not list:
        raise _Unsure
    pairs = []
    mapping: dict[str, str] = {}
    unknown = False
    for item in value:
        if type(item) is not dict:
            raise _Unsure
        members = [item.get(member) for member in _PAIR_MEMBERS]
        if any(member is not None and type(member) is not str for member in members):
            raise _Unsure
        if any(member not in _PAIR_MEMBERS for member in item):
            unknown = True
        pair = LaunchPair(*members)
        lower = pair.name is not None or pair.value is not None
        if lower and (pair.Name is not None or pair.Value is not None):
            raise _Unsure
        name, text = (pair.name, pair.value) if lower else (pair.Name, pair.Value)
        if name is None or text is None or mapping.setdefault(name, text) != text:
            raise _Unsure
        pairs.append(pair)
    return tuple(pairs), mapping, unknown


def _instant(iso: str | None, numeric: int | float | None) -> tuple[datetime, float]:
    if iso is not None:
        moment = parse_iso8601(iso)
        epoch = moment.timestamp()
        if numeric is not None and abs(parse_numeric_date(numeric) - epoch) >= _SPELLING_TOLERANCE:
            raise _Unsure
        return moment, epoch
    if numeric is None:
        raise _Unsure
    epoch = parse_numeric_date(numeric)
    return from_epoch(epoch), epoch
