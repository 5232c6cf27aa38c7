"""What a product demands of a checkout: issuer, node, license, product, entitlements, time."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from operator import attrgetter
from typing import NoReturn

from ._claims import Claims
from ._errors import Reason, TokenRejected
from ._units import UNITS, compatible, convert, parse_quantity

__all__ = ["Policy", "Requirement", "check_policy"]

_NAME = attrgetter("name")
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

    __slots__ = ("minimum", "name", "unit")

    name: str
    unit: str | None
    minimum: Decimal | None

    def __init__(
        self, name: str, unit: str | None = None, minimum: int | str | Decimal | None = None
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError("a requirement needs an entitlement name")
        if unit is not None and unit not in UNITS:
            raise ValueError(f"unknown unit {unit!r}; AWS units are {', '.join(sorted(UNITS))}")
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "unit", unit)
        object.__setattr__(self, "minimum", None if minimum is None else _decimal(minimum))

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


class Policy:
    """What a valid checkout must satisfy; every ``None`` field is not checked.

    ``leeway`` (seconds) absorbs clock skew at both ends of the validity window.
    """

    __slots__ = (
        "key_fingerprint",
        "leeway",
        "license_arn",
        "node_id",
        "product_sku",
        "requirements",
    )

    key_fingerprint: str | None
    node_id: str | None
    license_arn: str | None
    product_sku: str | None
    requirements: tuple[Requirement, ...]
    leeway: float

    def __init__(
        self,
        key_fingerprint: str | None = None,
        node_id: str | None = None,
        license_arn: str | None = None,
        product_sku: str | None = None,
        requirements: Iterable[Requirement] = (),
        leeway: float = 60,
    ) -> None:
        for name, value in (
            ("key_fingerprint", key_fingerprint),
            ("node_id", node_id),
            ("license_arn", license_arn),
            ("product_sku", product_sku),
        ):
            if value is not None and not isinstance(value, str):
                raise TypeError(f"Policy {name} must be a string or None")
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
        object.__setattr__(self, "requirements", needs)
        object.__setattr__(self, "leeway", float(leeway))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Policy is immutable")

    def __reduce__(self) -> tuple[type[Policy], tuple[object, ...]]:
        return (
            Policy,
            (
                self.key_fingerprint,
                self.node_id,
                self.license_arn,
                self.product_sku,
                self.requirements,
                self.leeway,
            ),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Policy):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self.__slots__)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, n) for n in self.__slots__))

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__)
        return f"Policy({fields})"


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
        raise TokenRejected(
            Reason.expired,
            f"expired at {claims.expiration.isoformat()} "
            f"({now - claims.expiration_epoch:.0f} s ago); " + _RENEW,
        )
    # Code point by code point: no case folding, no Unicode normalization, no trimming.
    signed = claims.signed
    if policy.node_id is not None and signed.nodeId != policy.node_id:
        _mismatch(policy.node_id, signed.nodeId, "nodeId", Reason.node_mismatch)
    if policy.license_arn is not None and signed.licenseArn != policy.license_arn:
        _mismatch(policy.license_arn, signed.licenseArn, "licenseArn", Reason.license_mismatch)
    if policy.product_sku is not None and signed.productSKU != policy.product_sku:
        _mismatch(policy.product_sku, signed.productSKU, "productSKU", Reason.product_mismatch)
    for requirement in policy.requirements:
        _check_requirement(requirement, claims)


def _mismatch(expected: str, actual: str | None, claim: str, reason: Reason) -> NoReturn:
    if actual is None:
        raise TokenRejected(
            Reason.invalid_claims,
            f"the policy requires {claim} {expected!r} but the token carries no {claim}",
        )
    raise TokenRejected(
        reason, f"token's {claim} is {actual[:80]!r}, this product expects {expected[:80]!r}"
    )


def _check_requirement(requirement: Requirement, claims: Claims) -> None:
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


def _decimal(value: int | str | Decimal) -> Decimal:
    if isinstance(value, bool | float):
        raise TypeError("minimum must be an int, str or Decimal (floats are not exact)")
    try:
        quantity = value if isinstance(value, Decimal) else Decimal(value)
    except (InvalidOperation, TypeError):
        raise ValueError(f"minimum {value!r} is not a decimal number") from None
    if not quantity.is_finite() or quantity < 0:
        raise ValueError(f"minimum {value!r} must be a finite number of at least 0")
    return quantity
