"""What a document that is not a checkout looks like, so a refusal can say so.

A user who hands us the wrong file (the text output of an ``aws`` command, a PEM, a keys
file, an HTML error page) deserves a message that names what they gave, not a JSON or
base64 error. The audit uses the same answer to skip such files in a folder of checkouts.
"""

from __future__ import annotations

import re

__all__ = ["looks_like"]

_TOKEN_SHAPE = re.compile(rb"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_HTML = re.compile(rb"\A\s*<(?:!doctype\s+html|html|head|body|\?xml)", re.IGNORECASE)
# Member names that say which kind of JSON document this is (checked as '"name"').
_JSON_KINDS = (
    (b'"tokenverify-keys"', "a tokenverify keys file ('tokenverify keys add' writes it)"),
    (b'"tokenverify-revocations"', "a tokenverify revocation list"),
    (b'"SigningAlgorithms"', "the JSON of 'aws kms get-public-key' (a public key)"),
    (b'"kty"', "a JWK or JWKS (a public key)"),
    (b'"requirements"', "a tokenverify policy file"),
    (b'"LicenseArn"', "an AWS license document (such as 'aws license-manager get-license')"),
)


def looks_like(data: bytes) -> str | None:
    """A short description of what ``data`` (UTF-8, stripped) is when it is plainly not a
    checkout response or token; None when it may be one."""
    head = data[:4096]
    if head.startswith(b"-----BEGIN"):
        return "a PEM block (a key or certificate)"
    if _HTML.match(head):
        return "an HTML or XML page (perhaps an error page saved instead of the response)"
    if head.startswith(b"{"):
        if b'"SignedToken"' in data:
            return None
        for marker, kind in _JSON_KINDS:
            if marker in data:
                return kind
        return None
    if b"\t" in head and _TOKEN_SHAPE.search(data):
        return (
            "the text output of an aws command (--output text); save the response with "
            "--output json, or the token alone with --query SignedToken --output text"
        )
    return None
