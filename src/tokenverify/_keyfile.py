"""The keys file: a registry saved as JSON, validated by a pydantic model on load.

Imported lazily by ``KeyRegistry.save``/``load`` and the CLI, never by ``import
tokenverify``: pydantic costs about 110 ms to import, more than a whole launch check.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from ._errors import InvalidKey
from ._files import write_atomically
from ._sniff import looks_like
from ._text import encoded_limit, to_utf8

if TYPE_CHECKING:
    from ._registry import KeyRegistry

__all__ = ["KeyFile", "KeyFileEntry", "json_schema", "load_registry", "save_registry"]

_MAX_KEYS_FILE = 16 << 20
_KEYS_FILE_MARK = b'"tokenverify-keys"'


class KeyFileEntry(BaseModel):
    """One trusted public key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fingerprint: str = Field(
        min_length=1,
        max_length=256,
        description="Issuer key fingerprint: 'aws:111122223333:My Company:issuer-fingerprint'.",
    )
    public_key: str = Field(description="The public key as an SPKI PEM block.")
    algorithms: list[
        Literal[
            "PS256", "PS384", "PS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "EdDSA"
        ]
    ] = Field(min_length=1, description="JWS algorithms this key may verify.")
    not_before: AwareDatetime | None = Field(
        None, description="Key not valid for tokens issued before."
    )
    not_after: AwareDatetime | None = Field(
        None, description="Key not valid for tokens issued after."
    )
    label: str | None = Field(None, description="A note for people, e.g. 'KMS key of 2026'.")
    key_id: str | None = Field(
        None, description="KMS KeyId or JWK kid; matched against a token's kid."
    )
    thumbprint: str | None = Field(
        None, description="RFC 7638 SHA-256 thumbprint; checked against public_key on load."
    )


class KeyFile(BaseModel):
    """A tokenverify keys file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["tokenverify-keys"] = "tokenverify-keys"
    version: Literal[1] = 1
    keys: list[KeyFileEntry] = Field(default_factory=list)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the keys file."""
    return KeyFile.model_json_schema()


def load_registry(path: str | os.PathLike[str]) -> KeyRegistry:
    """Read and check a keys file; ``InvalidKey`` names the first problem."""
    from ._registry import KeyRegistry

    data = read_keys_file(path)
    try:
        document = KeyFile.model_validate_json(data, strict=False)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise InvalidKey(f"keys file {os.fspath(path)!r}: {where}: {first['msg']}") from None
    registry = KeyRegistry()
    for index, entry in enumerate(document.keys):
        try:
            (added,) = registry.add(
                entry.fingerprint,
                entry.public_key,
                algorithms=entry.algorithms,
                not_before=entry.not_before,
                not_after=entry.not_after,
                label=entry.label,
                key_id=entry.key_id,
            )
        except (InvalidKey, ValueError) as exc:
            raise InvalidKey(f"keys file {os.fspath(path)!r}: key {index}: {exc}") from None
        if entry.thumbprint is not None and entry.thumbprint != added.thumbprint:
            raise InvalidKey(
                f"keys file {os.fspath(path)!r}: key {index}: thumbprint {entry.thumbprint} "
                f"does not match its public key ({added.thumbprint}); the file was edited"
            )
    return registry


def read_keys_file(path: object) -> bytes:
    """The keys file's text as UTF-8, decoded by BOM; ``InvalidKey`` if it cannot be one."""
    if not isinstance(path, str | os.PathLike):
        # open() would take an int for a file descriptor: never guess what a value means.
        raise InvalidKey(f"a keys file is named by a str or path, not a {type(path).__name__}")
    try:
        name = repr(os.fspath(path))
        with open(path, "rb") as handle:
            # Any encoding's worth: the limit is judged on the decoded text.
            data = handle.read(encoded_limit(_MAX_KEYS_FILE) + 1)
    except OSError as exc:
        raise InvalidKey(f"cannot read keys file {name}: {exc.strerror or exc}") from None
    except (TypeError, ValueError) as exc:  # an odd PathLike, a NUL in the name
        raise InvalidKey(f"cannot read keys file: {exc}") from None
    if len(data) > encoded_limit(_MAX_KEYS_FILE):
        raise InvalidKey(f"keys file {name} is over 16 MiB")
    try:
        data = to_utf8(data)
    except ValueError as exc:
        raise InvalidKey(f"keys file {name}: {exc}") from None
    if len(data) > _MAX_KEYS_FILE:
        raise InvalidKey(f"keys file {name} is over 16 MiB")
    stripped = data.strip()
    if _KEYS_FILE_MARK not in stripped:
        kind = "a checkout" if b'"SignedToken"' in stripped else looks_like(stripped)
        if kind is not None:
            raise InvalidKey(
                f"{name} is not a tokenverify keys file: it looks like {kind} (make one with "
                "'tokenverify keys add KEY --keys FILE --fingerprint F')"
            )
    return data


def to_key_file(registry: KeyRegistry) -> KeyFile:
    """The keys file model of a registry."""
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


def save_registry(registry: KeyRegistry, path: str | os.PathLike[str]) -> None:
    """Write atomically: a reader sees the old file or the new one, never half of one."""
    text = json.dumps(to_key_file(registry).model_dump(mode="json"), indent=2) + "\n"
    write_atomically(Path(path), text.encode("utf-8"))
