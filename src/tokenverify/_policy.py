"""What a product demands of a checkout: issuer, node, license, product, metadata,
entitlements, time, and (if pinned) the header typ."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import timedelta
from operator import attrgetter
from types import MappingProxyType
from typing import TYPE_CHECKING, NoReturn

from ._errors import Reason, TokenRejected
from ._units import UNITS, compatible, convert, parse_quantity

if TYPE_CHECKING:
    from decimal import Decimal

    from ._claims import Claims, SignedEntitlement  # msgspec stays off the launch path

__all__ = ["Policy", "Requirement", "check_policy", "check_typ"]

_NAME = attrgetter("name")
#: The digits a quantity may have before its point (as _units.parse_quantity reads it).
_MAX_DIGITS = 40
_RENEW = (
    "check out again (CheckoutLicense or CheckoutBorrowLicense) for a fresh token; "
    "ExtendLicenseConsumption does not renew the signed expiry"
)


class Requirement:
    """An entitlement the product needs: present, in a compatible unit, at least ``minimum``.

    ``Requirement("Users", unit="Count", minimum=5)``; ``Requirement("Storage",
    unit="Gigabytes", minimum="1.5")`` is met by ``1500 Megabytes``. ``minimum`` takes an
    int, a ``Decimal`` or a decimal string (floats are refused: 0.1 is not exact).
    """

    __slots__ = ("_decimal_minimum", "_whole_minimum", "name", "unit")

    name: str
    unit: str | None
    # A whole-number minimum is kept as an int and compared as one with whole quantities
    # in its own unit (what a launch check meets): the decimal module costs ~2 ms to import.
    _whole_minimum: int | None
    _decimal_minimum: Decimal | None

    def __init__(
        self, name: str, unit: str | None = None, minimum: int | str | Decimal | None = None
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError("a requirement needs an entitlement name")
        if unit is not None and unit not in UNITS:
            raise ValueError(f"unknown unit {unit!r}; AWS units are {', '.join(sorted(UNITS))}")
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "unit", unit)
        whole = minimum if type(minimum) is int and minimum >= 0 else None
        object.__setattr__(self, "_whole_minimum", whole)
        decimal = None if minimum is None or whole is not None else _decimal(minimum)
        object.__setattr__(self, "_decimal_minimum", decimal)

    @property
    def minimum(self) -> Decimal | None:
        """The least quantity that meets the requirement, as a ``Decimal``; None: any."""
        if self._whole_minimum is not None:
            from decimal import Decimal

            return Decimal(self._whole_minimum)
        return self._decimal_minimum

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Requirement is immutable")

    def __reduce__(self) -> tuple[type[Requirement], tuple[str, str | None, Decimal | None]]:
        # Immutable, so pickle must go through the constructor (process pools pass policies).
        return (Requirement, (self.name, self.unit, self.minimum))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Requirement):
            return NotImplemented
        return (self.name, self.unit, self.minimum) == (other.name, other.unit, other.minimum)

    def __hash__(self) -> int:
        return hash((self.name, self.unit, self.minimum))

    def __repr__(self) -> str:
        return f"Requirement({self.name!r}, unit={self.unit!r}, minimum={self.minimum!r})"

    def describe(self) -> str:
        """``Users >= 5 Count`` or ``Users``."""
        if self.minimum is None:
            return self.name if self.unit is None else f"{self.name} in {self.unit}"
        return f"{self.name} >= {self.minimum}{'' if self.unit is None else ' ' + self.unit}"


#: Policy's fields in constructor order: slots, pickling, equality, hash and repr all
#: follow this one list, so a new field is one entry here and one in ``__init__``.
_POLICY_FIELDS = (
    "key_fingerprint",
    "node_id",
    "license_arn",
    "product_sku",
    "requirements",
    "leeway",
    "checkout_metadata",
    "typ",
    "grace",
    "warn_before",
)
#: The longest grace or warning a policy may set: a year (and a day), in seconds.
MAX_GRACE = 366 * 86400.0


class Policy:
    """What a valid checkout must satisfy; every ``None`` field is not checked.

    ``leeway`` (seconds) absorbs clock skew at both ends of the validity window.
    ``checkout_metadata`` (``{"Mac": "02:42:ac:11:00:02"}``) binds a borrowed checkout to
    metadata: each name must be signed with exactly that value (other signed names are
    allowed). ``typ`` pins the JWS header ``typ`` (compared as RFC 7515 says media types
    compare: ASCII case-insensitively, ``application/`` implied), for products that want
    to refuse any other kind of token signed by the same key.

    ``grace`` (a ``timedelta`` or seconds, default 0) keeps an expired checkout valid
    until ``expiration + leeway + grace``, with an ``in_grace`` warning saying how long
    is left; after that it is ``expired``. Every checkout token has an expiration (one
    without is refused as ``invalid_claims`` when its claims are read), so a grace always
    counts from a signed instant. ``warn_before`` (default 0, off) adds an
    ``expires_soon`` warning from ``expiration - warn_before`` on, and a
    ``key_expires_soon`` warning when the trusted key's ``not_after`` is that close.
    Both are stored as float seconds, 0 to 366 days.
    """

    __slots__ = _POLICY_FIELDS

    key_fingerprint: str | None
    node_id: str | None
    license_arn: str | None
    product_sku: str | None
    requirements: tuple[Requirement, ...]
    leeway: float
    checkout_metadata: Mapping[str, str] | None
    typ: str | None
    grace: float
    warn_before: float

    def __init__(
        self,
        key_fingerprint: str | None = None,
        node_id: str | None = None,
        license_arn: str | None = None,
        product_sku: str | None = None,
        requirements: Iterable[Requirement] = (),
        leeway: float = 60,
        *,
        checkout_metadata: Mapping[str, str] | None = None,
        typ: str | None = None,
        grace: timedelta | float = 0,
        warn_before: timedelta | float = 0,
    ) -> None:
        for name, value in (
            ("key_fingerprint", key_fingerprint),
            ("node_id", node_id),
            ("license_arn", license_arn),
            ("product_sku", product_sku),
        ):
            _check_text(name, value)
            object.__setattr__(self, name, value)
        needs = tuple(requirements)
        if not all(isinstance(r, Requirement) for r in needs):
            raise TypeError("Policy requirements must be Requirement objects")
        if (
            isinstance(leeway, bool)
            or not isinstance(leeway, int | float)
            or not 0 <= leeway <= 86400
        ):
            raise ValueError("Policy leeway is a number of seconds from 0 to 86400")
        _check_text("typ", typ)
        object.__setattr__(self, "requirements", needs)
        object.__setattr__(self, "leeway", float(leeway))
        object.__setattr__(self, "checkout_metadata", _metadata(checkout_metadata))
        object.__setattr__(self, "typ", typ)
        object.__setattr__(self, "grace", _seconds("grace", grace))
        object.__setattr__(self, "warn_before", _seconds("warn_before", warn_before))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Policy is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Policy is immutable")

    def _arguments(self) -> dict[str, object]:
        """The constructor's keyword arguments that rebuild this policy."""
        arguments = {name: getattr(self, name) for name in _POLICY_FIELDS}
        if self.checkout_metadata is not None:
            arguments["checkout_metadata"] = dict(self.checkout_metadata)  # a proxy won't pickle
        return arguments

    def __reduce__(self) -> tuple[Callable[[dict[str, object]], Policy], tuple[object, ...]]:
        # Immutable, so pickle goes through the constructor (process pools pass policies).
        return (_rebuild_policy, (self._arguments(),))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Policy):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in _POLICY_FIELDS)

    def __hash__(self) -> int:
        metadata = self.checkout_metadata
        values = [getattr(self, n) for n in _POLICY_FIELDS]
        values[_POLICY_FIELDS.index("checkout_metadata")] = (
            None if metadata is None else frozenset(metadata.items())
        )
        return hash(tuple(values))

    def __repr__(self) -> str:
        arguments = self._arguments()
        fields = ", ".join(f"{n}={arguments[n]!r}" for n in _POLICY_FIELDS)
        return f"Policy({fields})"


def _rebuild_policy(arguments: dict[str, object]) -> Policy:
    return Policy(**arguments)  # type: ignore[arg-type]


def _check_text(name: str, value: object) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        raise TypeError(f"Policy {name} must be a string or None")
    if not value:
        # An unset environment variable, most likely: refusing every token says nothing.
        raise ValueError(f"Policy {name} is empty; pass None to leave it unchecked")


def _seconds(name: str, value: object) -> float:
    """A grace or warning period as float seconds: a timedelta or a number, 0 to 366 days."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        raise TypeError(f"Policy {name} is a timedelta or a number of seconds, not {value!r}")
    if not math.isfinite(seconds) or not 0 <= seconds <= MAX_GRACE:
        raise ValueError(
            f"Policy {name} must be from 0 to 366 days (0 to {MAX_GRACE:.0f} s), not {value!r}"
        )
    return seconds


def _metadata(value: object) -> Mapping[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise TypeError("Policy checkout_metadata must be a mapping of name to value, or None")
    if not value:
        raise ValueError("Policy checkout_metadata is empty: name at least one entry, or pass None")
    copy: dict[str, str] = {}
    for name, expected in value.items():
        if not isinstance(name, str) or not isinstance(expected, str):
            raise TypeError("Policy checkout_metadata names and values must be strings")
        if not name:
            raise ValueError("Policy checkout_metadata has an empty name")
        copy[name] = expected
    return MappingProxyType(copy)


def check_typ(policy: Policy, header: Mapping[str, object]) -> None:
    """Raise ``TokenRejected(unsupported_header)`` unless the header's typ is the pinned one."""
    pinned = policy.typ
    if pinned is None:
        return
    typ = header.get("typ")
    if not isinstance(typ, str):
        raise TokenRejected(
            Reason.unsupported_header,
            f"the token's header has no typ; this product pins typ {pinned[:40]!r}",
        )
    if _media_type(typ) != _media_type(pinned):
        raise TokenRejected(
            Reason.unsupported_header,
            f"header typ is {typ[:40]!r}, this product pins {pinned[:40]!r}: another kind "
            "of token signed by a trusted key",
        )


def _media_type(typ: str) -> str:
    # RFC 7515 4.1.9: "application/" is implied when typ has no '/', and media types are
    # case-insensitive (RFC 2045) - in ASCII only: str.lower() would fold the Kelvin sign.
    if not typ.isascii():
        return typ
    typ = typ.lower()
    return typ if "/" in typ else "application/" + typ


def check_policy(policy: Policy, claims: Claims, now: float) -> None:
    """Raise ``TokenRejected`` for the first demand of ``policy`` the claims do not meet."""
    leeway = policy.leeway
    if claims.issued_at_epoch - leeway > now:
        raise TokenRejected(
            Reason.not_yet_valid,
            f"issued at {claims.issued_at.isoformat()}, {claims.issued_at_epoch - now:.0f} s in "
            "the future: check this machine's clock",
        )
    if claims.not_before_epoch is not None and claims.not_before_epoch - leeway > now:
        raise TokenRejected(
            Reason.not_yet_valid,
            f"not valid before nbf {claims.not_before_epoch:.0f}: check this machine's clock",
        )
    if now > claims.expiration_epoch + leeway:
        _check_grace(policy, claims, now)
    # Code point by code point: no case folding, no Unicode normalization, no trimming.
    signed = claims.signed
    if policy.node_id is not None and signed.nodeId != policy.node_id:
        _mismatch(policy.node_id, signed.nodeId, "nodeId", Reason.node_mismatch)
    if policy.license_arn is not None and signed.licenseArn != policy.license_arn:
        _mismatch(policy.license_arn, signed.licenseArn, "licenseArn", Reason.license_mismatch)
    if policy.product_sku is not None and signed.productSKU != policy.product_sku:
        _mismatch(policy.product_sku, signed.productSKU, "productSKU", Reason.product_mismatch)
    if policy.checkout_metadata is not None:
        _check_metadata(policy.checkout_metadata, claims.metadata)
    for requirement in policy.requirements:
        _check_requirement(requirement, claims)


def _check_grace(policy: Policy, claims: Claims, now: float) -> None:
    """Past ``expiration + leeway``: return if the policy's grace still covers ``now``."""
    grace = policy.grace
    # leeway + grace first: one rounding of the bound, as for expiration + leeway alone.
    if grace and now <= claims.expiration_epoch + (policy.leeway + grace):
        return
    ran_out = f"; its {grace:.0f} s of grace ran out too" if grace else ""
    raise TokenRejected(
        Reason.expired,
        f"expired at {claims.expiration.isoformat()} "
        f"({now - claims.expiration_epoch:.0f} s ago){ran_out}; " + _RENEW,
    )


#: What to bind instead when the token does not sign the claim a policy names.
_UNSIGNED = {
    "nodeId": (
        "check out with NodeId {expected!r} (CheckoutLicense or CheckoutBorrowLicense "
        "NodeId) to bind the checkout to this machine"
    ),
    "productSKU": (
        "bind by license ARN instead (Policy(license_arn=...), --license-arn); "
        "AWS's sample signs no productSKU, and checking out again will not add one"
    ),
}


def _mismatch(expected: str, actual: str | None, claim: str, reason: Reason) -> NoReturn:
    if actual is None:
        # The claim's own reason, not invalid_claims: the token is sound, it just does not
        # bind what this policy asks, and "check out again" would not make it.
        advice = _UNSIGNED.get(claim, "bind by a claim it signs").format(expected=expected[:80])
        raise TokenRejected(
            reason,
            f"this token does not sign {claim} (the policy expects {expected[:80]!r}): {advice}",
        )
    raise TokenRejected(
        reason, f"token's {claim} is {actual[:80]!r}, this product expects {expected[:80]!r}"
    )


def _check_metadata(expected: Mapping[str, str], signed: dict[str, str] | None) -> None:
    if signed is None:
        raise TokenRejected(
            Reason.metadata_mismatch,
            "this token does not sign checkoutMetadata: check out with CheckoutBorrowLicense "
            f"and Metadata {_pairs(expected)} to bind the checkout to it",
        )
    for name, value in expected.items():
        actual = signed.get(name)
        if actual is None:
            names = ", ".join(repr(n[:40]) for n in list(signed)[:8]) or "no names"
            raise TokenRejected(
                Reason.metadata_mismatch,
                f"this token's checkoutMetadata does not sign {name[:80]!r} (it signs {names}): "
                f"check out with CheckoutBorrowLicense and Metadata {_pairs({name: value})}",
            )
        if actual != value:
            raise TokenRejected(
                Reason.metadata_mismatch,
                f"token's checkoutMetadata {name[:80]!r} is {actual[:80]!r}, this product "
                f"expects {value[:80]!r}",
            )


def _pairs(metadata: Mapping[str, str]) -> str:
    shown = [f"Name={name[:40]!r},Value={value[:40]!r}" for name, value in metadata.items()]
    return " ".join(shown[:4]) + (" ..." if len(shown) > 4 else "")


def _check_requirement(requirement: Requirement, claims: Claims) -> None:
    if not _first_meets_whole(requirement, claims.entitlements or ()):
        _check_requirement_fully(requirement, claims)


def _first_meets_whole(requirement: Requirement, entitlements: Sequence[SignedEntitlement]) -> bool:
    """True when the first entitlement of the required name meets a whole-number minimum
    in the required unit as plain digits: then the full check would return at it (it is
    the first the full check keeps, and the first ``_meets_whole`` reads). False decides
    nothing. Most products need one entitlement, usually early in the list: this finds
    it without reading every name (tests/properties/test_prop_token_fast_paths.py)."""
    whole = requirement._whole_minimum
    if whole is None:
        return False
    name = requirement.name
    for entitlement in entitlements:
        if entitlement.name == name:
            value = entitlement.value
            unit = requirement.unit
            return (
                value is not None
                and (unit is None or entitlement.unit == unit)
                and len(value) <= _MAX_DIGITS
                and value.isascii()
                and value.isdigit()
                and int(value) >= whole
            )
    return False


def _check_requirement_fully(requirement: Requirement, claims: Claims) -> None:
    entitlements = claims.entitlements or ()
    # attrgetter over 45 entitlements runs in C: half the cost of a comprehension (measured).
    names = list(map(_NAME, entitlements))
    if names.count(requirement.name) == 1:
        named = [entitlements[names.index(requirement.name)]]
    else:
        named = [e for e in entitlements if e.name == requirement.name]
    if not named:
        raise TokenRejected(
            Reason.entitlement_missing,
            f"the checkout grants no entitlement {requirement.name!r}; check out with it",
        )
    if requirement.unit is not None:
        named = [e for e in named if compatible(e.unit, requirement.unit)]
        if not named:
            raise TokenRejected(
                Reason.entitlement_missing,
                f"entitlement {requirement.name!r} is granted only in units that cannot be "
                f"compared with {requirement.unit}",
            )
    whole = requirement._whole_minimum
    if whole is not None and _meets_whole(named, requirement.unit, whole):
        return
    minimum = requirement.minimum
    if minimum is None:
        return
    best: Decimal | None = None
    for entitlement in named:
        if entitlement.value is None:
            continue
        try:
            quantity = parse_quantity(entitlement.value)
        except ValueError as exc:
            raise TokenRejected(
                Reason.invalid_claims, f"entitlement {requirement.name!r}: {exc}"
            ) from None
        if requirement.unit is not None:
            quantity = convert(quantity, entitlement.unit, requirement.unit)
        if quantity >= minimum:
            return
        best = quantity if best is None else max(best, quantity)
    granted = "no quantity" if best is None else f"{best.normalize():f}"
    raise TokenRejected(
        Reason.entitlement_insufficient,
        f"entitlement {requirement.name!r} grants {granted}; "
        f"this product needs {requirement.describe()}",
    )


def _meets_whole(entitlements: list[SignedEntitlement], unit: str | None, whole: int) -> bool:
    """True when, read in signed order as the Decimal path reads them, an entitlement meets
    ``whole`` before anything the Decimal path must judge (a fraction, a conversion, a value
    that is not a quantity): then both paths say the same, and decimal is not imported."""
    for entitlement in entitlements:
        value = entitlement.value
        if value is None:
            continue
        plain = len(value) <= _MAX_DIGITS and value.isascii() and value.isdigit()
        if not plain or (unit is not None and entitlement.unit != unit):
            return False
        if int(value) >= whole:
            return True
    return False


def _decimal(value: int | str | Decimal) -> Decimal:
    from decimal import Decimal, InvalidOperation

    if isinstance(value, bool | float):
        raise TypeError("minimum must be an int, str or Decimal (floats are not exact)")
    try:
        quantity = value if isinstance(value, Decimal) else Decimal(value)
    except (InvalidOperation, TypeError):
        raise ValueError(f"minimum {value!r} is not a decimal number") from None
    if not quantity.is_finite() or quantity < 0:
        raise ValueError(f"minimum {value!r} must be a finite number of at least 0")
    return quantity
