"""What ``--json`` prints: pydantic models with a stable, exported JSON Schema.

``tokenverify verify --json`` prints one :class:`VerifyReport` for a valid and for a
rejected checkout alike (``valid`` tells them apart, as does the exit code);
``tokenverify inspect --unverified --json`` prints one :class:`InspectReport`.
``tokenverify schema verify`` / ``schema inspect`` print their schemas. Fields are only
ever added, never renamed or retyped, within one ``version``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from .._errors import Reason
from .._keys import RegisteredKey, key_type
from .._result import VerifiedCheckout
from .._warnings import CheckoutWarning, WarningCode

__all__ = [
    "CheckoutReport",
    "EntitlementReport",
    "InspectReport",
    "KeyReport",
    "VerifyReport",
    "WarningReport",
    "inspect_schema",
    "verify_schema",
]


class EntitlementReport(BaseModel):
    """One signed entitlement."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    value: str | None = Field(description="The signed text; null for a unit-'None' flag.")
    unit: str


class CheckoutReport(BaseModel):
    """The signed contents of a verified checkout (the unsigned plaintext is never shown)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    license_arn: str
    license_consumption_token: str
    node_id: str | None
    product_sku: str | None
    checkout_type: str | None
    issued_at: AwareDatetime
    expiration: AwareDatetime
    seconds_left: float = Field(description="Expiration minus the time of the check.")
    entitlements: list[EntitlementReport]
    checkout_metadata: dict[str, str]
    algorithm: str = Field(description="The JWS alg the token was signed with.")
    key_fingerprint: str = Field(description="Issuer fingerprint of the key that verified it.")
    key_thumbprint: str = Field(description="RFC 7638 thumbprint of that key.")

    @classmethod
    def from_checkout(cls, checkout: VerifiedCheckout, checked_at: float) -> CheckoutReport:
        """The report of a :class:`VerifiedCheckout` checked at epoch ``checked_at``."""
        return cls(
            license_arn=checkout.license_arn,
            license_consumption_token=checkout.license_consumption_token,
            node_id=checkout.node_id,
            product_sku=checkout.product_sku,
            checkout_type=checkout.checkout_type,
            issued_at=checkout.issued_at,
            expiration=checkout.expiration,
            seconds_left=round(checkout.expiration.timestamp() - checked_at, 3),
            entitlements=[
                EntitlementReport(name=e.name, value=e.value, unit=e.unit)
                for e in checkout.entitlements
            ],
            checkout_metadata=dict(checkout.checkout_metadata),
            algorithm=checkout.algorithm,
            key_fingerprint=checkout.key_fingerprint,
            key_thumbprint=checkout.key_thumbprint,
        )


class WarningReport(BaseModel):
    """Something a valid checkout passed on less than it could have (see the README)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: WarningCode = Field(description="Stable code, e.g. 'in_grace' or 'node_not_checked'.")
    message: str = Field(description="What it means and what to do, for people.")
    seconds_left: float | None = Field(
        description="Seconds from the check to the deadline (grace end, expiry, key's "
        "not_after); negative once passed; null when no deadline is involved."
    )

    @classmethod
    def from_warning(cls, warning: CheckoutWarning) -> WarningReport:
        """The report of one library :class:`CheckoutWarning`."""
        left = warning.seconds_left
        return cls(
            code=warning.code,
            message=warning.message,
            seconds_left=None if left is None else round(left, 3),
        )


class VerifyReport(BaseModel):
    """The outcome of ``tokenverify verify --json``: valid, or rejected with a reason."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["tokenverify-verify"] = "tokenverify-verify"
    version: Literal[1] = 1
    source: str = Field(description="The file checked, or '-' for stdin.")
    valid: bool
    reason: Reason | None = Field(description="Why it was rejected; null when valid.")
    message: str = Field(description="'valid', or what was wrong.")
    remedy: str | None = Field(description="What to do about the rejection; null when valid.")
    checked_at: AwareDatetime = Field(description="The instant checked against (--at or now).")
    checkout: CheckoutReport | None = Field(description="Signed contents; null when rejected.")
    warnings: list[WarningReport] = Field(
        default_factory=list,
        description="Warnings about a valid checkout (always empty when rejected); with "
        "--strict-warnings any of them makes the exit code 1.",
    )


class KeyReport(BaseModel):
    """A registered key, as ``inspect`` reports the ones it would try."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fingerprint: str
    thumbprint: str
    key_type: str = Field(description="'RSA-4096', 'EC P-384' or 'Ed25519'.")
    algorithms: list[str]
    not_before: AwareDatetime | None
    not_after: AwareDatetime | None
    label: str | None
    key_id: str | None

    @classmethod
    def from_key(cls, key: RegisteredKey) -> KeyReport:
        """The report of one registered key."""
        return cls(
            fingerprint=key.fingerprint,
            thumbprint=key.thumbprint,
            key_type=key_type(key),
            algorithms=sorted(key.algorithms),
            not_before=key.not_before,
            not_after=key.not_after,
            label=key.label,
            key_id=key.key_id,
        )


class InspectReport(BaseModel):
    """``tokenverify inspect --unverified --json``: decoded, NOT verified, contents."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["tokenverify-inspect"] = "tokenverify-inspect"
    version: Literal[1] = 1
    verified: Literal[False] = Field(
        default=False, description="Always false: nothing here was checked. Never trust it."
    )
    source: str
    header: dict[str, Any] = Field(description="The JWS protected header.")
    payload: Any = Field(description="The payload as JSON, or null if it is not JSON.")
    payload_problem: str | None = Field(description="Why the payload is not shown as JSON.")
    signature_bytes: int
    envelope: dict[str, Any] | None = Field(
        description="Unsigned plaintext members of the response around the token, if any."
    )
    keys_checked: bool = Field(description="Whether --keys was given.")
    candidate_keys: list[KeyReport] = Field(
        description="Registered keys verify would try, in order (empty without --keys)."
    )
    key_note: str | None = Field(description="Why no key would be tried, when none would.")


def verify_schema() -> dict[str, Any]:
    """The JSON Schema of ``verify --json`` output."""
    return VerifyReport.model_json_schema()


def inspect_schema() -> dict[str, Any]:
    """The JSON Schema of ``inspect --unverified --json`` output."""
    return InspectReport.model_json_schema()


def checked_at_datetime(epoch: float) -> datetime:
    """An epoch instant as an aware UTC datetime."""
    from .._times import from_epoch

    return from_epoch(epoch)
