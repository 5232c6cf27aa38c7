"""The keys file as pydantic models: what ``KeyRegistry.save`` writes, ``keys schema`` prints.

Loading does not use these models (pydantic costs about 110 ms to import, more than a
whole launch check): :mod:`tokenverify._keyfile` checks the same rules by hand, and
``tests/test_keyfile.py`` feeds both the same corpus of files to prove they agree. A rule
changed here must be changed there. Times go through the one parser both share,
:func:`tokenverify._keyfile.parse_time`.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from .._files import write_atomically
from .._keyfile import FORMAT, VERSION, parse_time

if TYPE_CHECKING:
    from collections.abc import Iterable

    from .._keys import RegisteredKey

__all__ = ["KeyFile", "KeyFileEntry", "json_schema", "save_registry", "to_key_file"]

# Literal needs the names spelled out; tests/test_keyfile.py checks they are ALGORITHMS.
Algorithm = Literal[
    "PS256", "PS384", "PS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "EdDSA"
]


def _time(value: object) -> object:
    # A string is read by the loader's own parser; anything else but a datetime is refused
    # here (pydantic would otherwise take epoch numbers and other spellings).
    if value is None or isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        # ValueError, not TypeError: pydantic reports only the former as a validation error.
        raise ValueError("must be a date-time string such as '2026-01-01T00:00:00Z'")
    return parse_time(value)


def _exact_int(value: object) -> object:
    # Literal[1] takes true and 1.0 even in strict mode (they equal 1 in Python); the
    # version of a file format is the integer, as the loader requires.
    if type(value) is not int:
        raise ValueError("must be the integer 1")
    return value


Time = Annotated[AwareDatetime | None, BeforeValidator(_time)]
Version = Annotated[Literal[1], BeforeValidator(_exact_int)]


class KeyFileEntry(BaseModel):
    """One trusted public key."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    fingerprint: str = Field(
        min_length=1,
        max_length=256,
        description="Issuer key fingerprint: 'aws:111122223333:My Company:issuer-fingerprint'.",
    )
    public_key: str = Field(description="The public key as an SPKI PEM block.")
    algorithms: list[Algorithm] = Field(
        min_length=1, description="JWS algorithms this key may verify."
    )
    not_before: Time = Field(None, description="Key not valid for tokens issued before.")
    not_after: Time = Field(None, description="Key not valid for tokens issued after.")
    label: str | None = Field(None, description="A note for people, e.g. 'KMS key of 2026'.")
    key_id: str | None = Field(
        None, description="KMS KeyId or JWK kid; matched against a token's kid."
    )
    thumbprint: str | None = Field(
        None, description="RFC 7638 SHA-256 thumbprint; checked against public_key on load."
    )


class KeyFile(BaseModel):
    """A tokenverify keys file."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    format: Literal["tokenverify-keys"] = FORMAT
    version: Version = VERSION
    keys: list[KeyFileEntry] = Field(default_factory=list)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the keys file."""
    return KeyFile.model_json_schema()


def to_key_file(registry: Iterable[RegisteredKey]) -> KeyFile:
    """The keys file model of a registry (its keys, in order)."""
    return KeyFile(
        keys=[
            KeyFileEntry(
                fingerprint=key.fingerprint,
                public_key=key.public_pem(),
                algorithms=sorted(key.algorithms),  # type: ignore[arg-type]
                not_before=key.not_before,
                not_after=key.not_after,
                label=key.label,
                key_id=key.key_id,
                thumbprint=key.thumbprint,
            )
            for key in registry
        ]
    )


def save_registry(registry: Iterable[RegisteredKey], path: str | os.PathLike[str]) -> None:
    """Write atomically: a reader sees the old file or the new one, never half of one."""
    text = json.dumps(to_key_file(registry).model_dump(mode="json"), indent=2) + "\n"
    write_atomically(Path(path), text.encode("utf-8"))
