"""The policy file (``tokenverify verify --policy policy.json``): a :class:`Policy` as JSON.

Field names are ``Policy``'s own, so the file reads like the Python it stands for::

    {
      "key_fingerprint": "aws:111122223333:My Company:issuer-fingerprint",
      "node_id": "node-7",
      "checkout_metadata": {"Mac": "02:42:ac:11:00:02"},
      "requirements": [{"name": "Users", "unit": "Count", "minimum": 5}],
      "leeway": 60,
      "grace": 259200,
      "warn_before": 604800
    }

Imported only by the command line (and callers who want it); pydantic stays off the
library's launch path.
"""

from __future__ import annotations

import os
import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
)

from .. import _json
from .._files import read_regular_file
from .._policy import MAX_GRACE, Policy, Requirement

__all__ = ["PolicyFile", "RequirementEntry", "json_schema", "load_policy_file"]

_MAX_POLICY_FILE = 1 << 20

#: The 27 values of the service model's EntitlementDataUnit.
Unit = Literal[
    "Count",
    "None",
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
]
_DECIMAL_PATTERN = r"^[0-9]{1,40}(\.[0-9]{1,40})?$"
_DECIMAL_TEXT = re.compile(_DECIMAL_PATTERN, re.ASCII)


def _plain_decimal(value: object) -> object:
    # Decimal() alone would take "1e3", "1_000" and Arabic-Indic digits from a string.
    if isinstance(value, str) and _DECIMAL_TEXT.fullmatch(value) is None:
        raise ValueError(f"{value[:40]!r} is not a decimal number such as 5 or 1.5")
    return value


# A JSON number, or a decimal string when exactness matters ("1.5" rather than 1.5).
Minimum = Annotated[
    Decimal,
    BeforeValidator(_plain_decimal),
    Field(ge=0, allow_inf_nan=False),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0},
                {"type": "string", "pattern": _DECIMAL_PATTERN},
            ]
        }
    ),
]


class RequirementEntry(BaseModel):
    """An entitlement the product needs: present, in a compatible unit, at least ``minimum``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, description="Entitlement name, matched exactly, e.g. 'Users'.")
    unit: Unit | None = Field(
        None, description="Compare in this unit (1500 Megabytes meets 1.5 Gigabytes)."
    )
    minimum: Minimum | None = Field(
        None, description="Least quantity needed: a number, or a decimal string such as '1.5'."
    )

    def to_requirement(self) -> Requirement:
        """The library's :class:`Requirement`."""
        return Requirement(self.name, unit=self.unit, minimum=self.minimum)


class PolicyFile(BaseModel):
    """What a valid checkout must satisfy; a field left out (or null) is not checked."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    schema_: str | None = Field(
        None, alias="$schema", description="Optional: where editors find this file's schema."
    )
    key_fingerprint: str | None = Field(
        None,
        min_length=1,
        description="Issuer fingerprint, e.g. 'aws:111122223333:My Company:issuer-fingerprint'.",
    )
    node_id: str | None = Field(None, description="The NodeId the checkout must be bound to.")
    license_arn: str | None = Field(None, description="The license the checkout must come from.")
    product_sku: str | None = Field(
        None, description="The productSKU the token must carry (a token without one is refused)."
    )
    checkout_metadata: dict[Annotated[str, Field(min_length=1)], str] | None = Field(
        None,
        min_length=1,
        description=(
            "checkoutMetadata the token must sign, name -> value (e.g. {'Mac': "
            "'02:42:ac:11:00:02'}); other signed names are allowed."
        ),
    )
    typ: str | None = Field(
        None,
        min_length=1,
        description="The JWS header typ the token must carry (e.g. 'JWT'); any if left out.",
    )
    requirements: list[RequirementEntry] = Field(
        default_factory=list, description="Entitlements the product needs."
    )
    leeway: float = Field(
        60,
        ge=0,
        le=86400,
        allow_inf_nan=False,
        strict=True,  # true is not a number of seconds
        description="Seconds of clock skew tolerated.",
    )
    grace: float = Field(
        0,
        ge=0,
        le=MAX_GRACE,
        allow_inf_nan=False,
        strict=True,
        description=(
            "Seconds an expired checkout stays valid past expiration + leeway, with an "
            "in_grace warning (0: none; at most 366 days)."
        ),
    )
    warn_before: float = Field(
        0,
        ge=0,
        le=MAX_GRACE,
        allow_inf_nan=False,
        strict=True,
        description=(
            "Seconds before expiration (or the key's not_after) from which a valid checkout "
            "carries an expires_soon (key_expires_soon) warning (0: off)."
        ),
    )

    def to_policy(self, **overrides: Any) -> Policy:
        """The library's :class:`Policy`; ``overrides`` (not None) replace file fields."""
        fields: dict[str, Any] = {
            "key_fingerprint": self.key_fingerprint,
            "node_id": self.node_id,
            "license_arn": self.license_arn,
            "product_sku": self.product_sku,
            "requirements": [entry.to_requirement() for entry in self.requirements],
            "leeway": self.leeway,
            "checkout_metadata": self.checkout_metadata,
            "typ": self.typ,
            "grace": self.grace,
            "warn_before": self.warn_before,
        }
        fields.update({name: value for name, value in overrides.items() if value is not None})
        return Policy(**fields)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the policy file."""
    return PolicyFile.model_json_schema(by_alias=True)


def load_policy_file(path: str | os.PathLike[str]) -> PolicyFile:
    """Read and check a policy file; ``ValueError`` names the first problem on one line."""
    from .._sniff import looks_like
    from .._text import encoded_limit, to_utf8

    name = os.fspath(path)
    try:
        # Never blocks on a FIFO; any encoding's worth: the limit is judged on the decoded text.
        data = read_regular_file(path, encoded_limit(_MAX_POLICY_FILE))
    except OSError as exc:
        raise ValueError(f"cannot read policy file {name!r}: {exc.strerror or exc}") from None
    if len(data) > encoded_limit(_MAX_POLICY_FILE):
        raise ValueError(f"policy file {name!r} is over 1 MiB")
    try:
        data = to_utf8(data)
    except ValueError as exc:
        raise ValueError(f"policy file {name!r}: {exc}") from None
    if len(data) > _MAX_POLICY_FILE:
        raise ValueError(f"policy file {name!r} is over 1 MiB")
    data = data.strip()
    kind = "a checkout" if b'"SignedToken"' in data else looks_like(data)
    if kind is not None and "policy" not in kind:
        raise ValueError(f"{name!r} is not a policy file: it looks like {kind}")
    try:
        # Strict JSON first (UTF-8, no NaN, bounded nesting, and no duplicate member
        # names: pydantic alone would let the last of two "node_id"s win).
        _json.loads_object(data)
    except ValueError as exc:
        raise ValueError(f"policy file {name!r}: (top level): {exc}") from None
    try:
        return PolicyFile.model_validate_json(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        message = " ".join(str(first["msg"]).split())
        if len(message) > 160:
            message = message[:157] + "..."
        more = exc.error_count() - 1
        extra = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        raise ValueError(f"policy file {name!r}: {where}: {message}{extra}") from None
