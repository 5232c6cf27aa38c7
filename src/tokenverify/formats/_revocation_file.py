"""The revocations file, validated by a pydantic model (imported only when one is loaded)."""

from __future__ import annotations

import os
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .._files import read_regular_file
from .._revocation import Revocation, RevocationList, check_identifier

__all__ = ["RevocationEntry", "RevocationFile", "json_schema", "load_revocations"]

_MAX_FILE = 64 << 20


class RevocationEntry(BaseModel):
    """One revoked license, checkout or key; every identifier given must match."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    license_arn: str | None = Field(None, min_length=1, description="licenseArn to refuse.")
    license_consumption_token: str | None = Field(
        None, min_length=1, description="licenseConsumptionToken (one checkout) to refuse."
    )
    key_fingerprint: str | None = Field(
        None, min_length=1, description="Refuse every token signed by this issuer's keys."
    )
    key_thumbprint: str | None = Field(
        None, min_length=1, description="Refuse every token signed by this key (RFC 7638)."
    )
    reason: str | None = Field(None, description="Shown in the rejection message.")
    revoked_at: str | None = Field(None, description="When, for people; not interpreted.")

    @field_validator(
        "license_arn", "license_consumption_token", "key_fingerprint", "key_thumbprint"
    )
    @classmethod
    def _could_match(cls, value: str | None, info: ValidationInfo) -> str | None:
        # A padded, spaced or mistyped identifier would never match: refuse it.
        check_identifier(str(info.field_name), value)
        return value

    @model_validator(mode="after")
    def _names_something(self) -> RevocationEntry:
        if not (
            self.license_arn
            or self.license_consumption_token
            or self.key_fingerprint
            or self.key_thumbprint
        ):
            raise ValueError(
                "an entry must name a license_arn, license_consumption_token, "
                "key_fingerprint or key_thumbprint"
            )
        return self


class RevocationFile(BaseModel):
    """A tokenverify revocations file."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    format: Literal["tokenverify-revocations"] = "tokenverify-revocations"
    version: Literal[1] = 1
    revoked: list[RevocationEntry] = Field(default_factory=list)

    @field_validator("version", mode="before")
    @classmethod
    def _integer_version(cls, value: object) -> object:
        # Literal[1] alone lets true and 1.0 through (they compare equal to 1).
        if type(value) is not int:
            raise ValueError("version must be the integer 1")
        return value


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the revocations file."""
    return RevocationFile.model_json_schema()


def load_revocations(path: str | os.PathLike[str]) -> RevocationList:
    """Read a revocations file strictly; ``ValueError`` names the first problem."""
    from .._json import loads_object
    from .._sniff import looks_like
    from .._text import encoded_limit, to_utf8

    name = os.fspath(path)
    try:
        # Never blocks on a FIFO; any encoding's worth: the limit is judged on the decoded text.
        data = read_regular_file(path, encoded_limit(_MAX_FILE))
    except OSError as exc:
        raise ValueError(f"cannot read revocations file {name!r}: {exc.strerror}") from None
    if len(data) > encoded_limit(_MAX_FILE):
        raise ValueError(f"revocations file {name!r} is over 64 MiB")
    try:
        data = to_utf8(data)
    except ValueError as exc:
        raise ValueError(f"revocations file {name!r}: {exc}") from None
    if len(data) > _MAX_FILE:
        raise ValueError(f"revocations file {name!r} is over 64 MiB")
    data = data.strip()
    if b'"tokenverify-revocations"' not in data:
        kind = "a checkout" if b'"SignedToken"' in data else looks_like(data)
        if kind is not None:
            raise ValueError(
                f"{name!r} is not a tokenverify revocations file (format "
                f"'tokenverify-revocations'): it looks like {kind}"
            )
    try:
        document = loads_object(data)  # strict JSON first: duplicate names are refused
        parsed = RevocationFile.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise ValueError(f"revocations file {name!r}: {where}: {first['msg']}") from None
    except ValueError as exc:
        raise ValueError(f"revocations file {name!r}: {exc}") from None
    return RevocationList(Revocation(**entry.model_dump()) for entry in parsed.revoked)
