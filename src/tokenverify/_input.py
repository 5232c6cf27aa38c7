"""Whatever the caller holds, find the token (and the plaintext envelope around it).

Accepted: a boto3 CheckoutLicense / CheckoutBorrowLicense response dict, the same saved
as JSON text or bytes, a bare compact token (str or bytes; surrounding whitespace is
stripped), or an ``os.PathLike`` naming a file that holds either. A plain ``str`` is
never taken for a path: a token and a file name must not be confusable.

Bytes and files are decoded once, here, by their byte order mark (UTF-8 with or without
BOM, UTF-16/32 with BOM, as Windows PowerShell writes them); CRLF line ends are only
whitespace. The size limit is judged on the decoded text. The token itself stays strict
ASCII. Input that is plainly not a checkout (a PEM, a keys file, an HTML page, ``aws ...
--output text``) is refused with a message naming what it looks like.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, NamedTuple

from . import _json
from ._errors import Reason, TokenRejected
from ._text import encoded_limit, to_utf8

__all__ = ["CheckoutSource", "TokenInput", "read_input"]

CheckoutSource = Mapping[str, Any] | str | bytes | bytearray | memoryview | os.PathLike[str]
_WHITESPACE = b" \t\r\n"
# First bytes of the UTF-8, -16 and -32 BOMs; an int set: 10x cheaper than a bytes search.
_MAY_START_A_BOM = frozenset(b"\xef\xff\xfe\x00")
# What TokenInput(...) runs, without its Python-level __new__ (a verify builds one).
_new_input = tuple.__new__


class TokenInput(NamedTuple):
    """The compact token, and the response it came in when there was one."""

    token: bytes
    envelope: Mapping[str, Any] | None


def read_input(source: object, max_size: int) -> TokenInput:
    """Normalise ``source``; anything unreadable becomes ``TokenRejected``.

    ``max_size`` bounds the token; a response or file may be four times that plus 64 KiB
    (plaintext entitlements repeat the signed ones).
    """
    kind = type(source)
    if kind is bytes:  # the common cases first: ABC checks cost more than this
        return _from_bytes(source, max_size)  # type: ignore[arg-type]
    if kind is dict:  # a boto3 response: isinstance(..., Mapping) costs an ABC check
        return _from_response(source, max_size)  # type: ignore[arg-type]
    if kind is str:
        text: str = source  # type: ignore[assignment]
        # A bare token, found as _from_text would find it without its calls: "ey" first
        # (no BOM), ASCII, no tab or newline (nothing to sniff), within _document_limit.
        if text.startswith("ey") and len(text) <= _document_limit(max_size):
            try:
                data = text.encode("ascii")
            except UnicodeEncodeError:
                pass  # _from_text says what it is
            else:
                if 9 not in data and 10 not in data:
                    return _new_input(TokenInput, (data.strip(_WHITESPACE), None))
        return _from_text(source, max_size)  # type: ignore[arg-type]
    if isinstance(source, Mapping):
        return _from_response(source, max_size)
    if isinstance(source, os.PathLike):
        # Read enough for the decoded size to be judged whatever the encoding.
        limit = _document_limit(max_size)
        data = _decoded(_read_file(source, encoded_limit(limit)), os.fspath(source))
        if len(data) > limit:
            raise TokenRejected(
                Reason.too_large,
                f"{os.fspath(source)!r} is over {limit} characters; it is not a checkout",
            )
        return _from_bytes(data, max_size)
    if isinstance(source, str):
        return _from_text(source, max_size)
    if isinstance(source, bytes | bytearray | memoryview):
        return _from_bytes(bytes(source), max_size)
    raise TokenRejected(
        Reason.malformed,
        f"cannot verify a {type(source).__name__}: pass a checkout response (dict, JSON "
        "text or bytes), a compact token, or a path",
    )


def _from_text(source: str, max_size: int) -> TokenInput:
    if len(source) > _document_limit(max_size):
        raise _too_large(len(source), max_size)
    if source[:1] == "\ufeff":  # a file read as UTF-8 without "-sig" keeps its BOM
        source = source[1:]
    try:
        return _from_bytes(source.encode("ascii"), max_size)
    except UnicodeEncodeError:
        # Only a JSON document may legitimately hold non-ASCII (in plaintext fields).
        return _from_bytes(source.encode("utf-8", "surrogatepass"), max_size)


def _document_limit(max_size: int) -> int:
    return 4 * max_size + 65536


def _from_bytes(data: bytes, max_size: int) -> TokenInput:
    limit = _document_limit(max_size)
    size = len(data)
    # Plain UTF-8 within the limit (every token) skips decoding without a call.
    if size > limit or (size and data[0] in _MAY_START_A_BOM):
        if size > encoded_limit(limit):  # too big in any encoding: do not decode it
            raise _too_large(size, max_size)
        data = _decoded(data)
        if len(data) > limit:
            raise _too_large(len(data), max_size)
    data = data.strip(_WHITESPACE)
    if data[:1] != b"{":
        # A compact JWS header is base64url of '{"...', so a token starts "ey" and holds no
        # whitespace; only other input pays for the sniffing.
        if data[:2] != b"ey" or 9 in data or 10 in data:  # tab, newline: int lookup is memchr
            _refuse_if_not_a_checkout(data)
        return _new_input(TokenInput, (data, None))
    try:
        document = _json.loads_object(data)
    except ValueError as exc:
        _refuse_if_not_a_checkout(data)
        raise TokenRejected(Reason.malformed, f"response JSON is not valid: {exc}") from None
    if "SignedToken" not in document:
        _refuse_if_not_a_checkout(data)
    return _from_response(document, max_size)


def _decoded(data: bytes, name: str | None = None) -> bytes:
    try:
        return to_utf8(data)  # returns plain UTF-8 itself, uncopied: the common case
    except ValueError as exc:
        where = f"{name!r}: " if name is not None else ""
        raise TokenRejected(Reason.malformed, f"{where}{exc}") from None


def _refuse_if_not_a_checkout(data: bytes) -> None:
    from ._sniff import looks_like  # error paths only: off the launch path

    kind = looks_like(data)
    if kind is not None:
        # Some descriptions already say what to save instead; the others get the hint.
        hint = "" if ";" in kind else "; pass the saved CheckoutLicense response or its SignedToken"
        raise TokenRejected(Reason.malformed, f"this is not a checkout: it looks like {kind}{hint}")


def _from_response(response: Mapping[str, Any], max_size: int) -> TokenInput:
    token = response.get("SignedToken")
    if isinstance(token, str | bytes) and len(token) > max_size:
        # Measured before it is encoded or stripped: nothing is copied for a huge one.
        raise TokenRejected(
            Reason.too_large,
            f"SignedToken is {len(token)} characters, over the {max_size} limit",
        )
    if token is None:
        kind = _mapping_kind(response)
        if kind is not None:
            raise TokenRejected(Reason.malformed, f"this is not a checkout: it looks like {kind}")
        raise TokenRejected(
            Reason.malformed,
            "no SignedToken in this response; save the whole CheckoutLicense or "
            "CheckoutBorrowLicense response, or pass the token itself",
        )
    if isinstance(token, str):
        try:
            token_bytes = token.encode("ascii")
        except UnicodeEncodeError:
            raise TokenRejected(
                Reason.malformed, "SignedToken contains non-ASCII characters"
            ) from None
    elif isinstance(token, bytes):
        token_bytes = token
    else:
        raise TokenRejected(
            Reason.malformed, f"SignedToken is a {type(token).__name__}, not a string"
        )
    return _new_input(TokenInput, (token_bytes.strip(_WHITESPACE), response))


def _mapping_kind(document: Mapping[str, Any]) -> str | None:
    # The dicts boto3 and our own files give that are not checkouts, named as looks_like does.
    if "SigningAlgorithms" in document or "PublicKey" in document:
        return "the response of KMS GetPublicKey (a public key)"
    if document.get("format") == "tokenverify-keys":
        return "a tokenverify keys file"
    if "kty" in document or "keys" in document:
        return "a JWK or JWKS (a public key)"
    return None


def _read_file(path: os.PathLike[str], limit: int) -> bytes:
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise TokenRejected(
            Reason.malformed, f"cannot read {os.fspath(path)!r}: {exc.strerror or exc}"
        ) from None
    if len(data) > limit:
        raise TokenRejected(
            Reason.too_large,
            f"{os.fspath(path)!r} is over {limit} bytes in any encoding; it is not a checkout",
        )
    return data


def _too_large(size: int, max_size: int) -> TokenRejected:
    return TokenRejected(
        Reason.too_large,
        f"input is {size} bytes, over the limit for a token of at most {max_size} characters",
    )
