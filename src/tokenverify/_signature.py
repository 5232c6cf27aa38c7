"""Choose the trusted key for a parsed token and check its signature.

The key comes from the registry only (never from ``jwk``, ``jku``, ``x5u`` or ``x5c``
headers) and must be pinned to the token's ``alg``.
"""

from __future__ import annotations

from typing import Any

from ._errors import Reason, TokenRejected
from ._keys import RegisteredKey
from ._registry import MAX_CANDIDATE_KEYS, KeyRegistry
from ._token import DEFAULT_MAX_TOKEN_SIZE, CompactToken, decode_segment, parse_compact

__all__ = ["check_signature", "verify_compact"]


def verify_compact(
    token: str | bytes,
    registry: KeyRegistry,
    key_fingerprint: str | None = None,
    *,
    max_token_size: int = DEFAULT_MAX_TOKEN_SIZE,
) -> tuple[dict[str, Any], bytes]:
    """Check a compact JWS's signature only; return its header and payload bytes.

    Nothing in the payload is checked: no times, node or entitlements. Use
    :class:`Verifier` for checkout tokens; this is for other JWS and for conformance.
    Raises :class:`TokenRejected`.
    """
    parsed = parse_compact(token, max_token_size)
    check_signature(parsed, registry, key_fingerprint)
    return dict(parsed.header), decode_segment(parsed.payload_segment, "payload")


def check_signature(
    parsed: CompactToken, registry: KeyRegistry, key_fingerprint: str | None
) -> RegisteredKey:
    """The registered key whose signature ``parsed`` carries; ``TokenRejected`` otherwise."""
    keys = registry.candidates(parsed.kid, key_fingerprint)
    if not keys:
        raise TokenRejected(Reason.unknown_key, _no_key(parsed.kid, key_fingerprint, registry))
    algorithm = parsed.algorithm
    tried = 0
    for key in keys:
        check = key.check(algorithm)
        if check is None:
            continue
        if check(parsed.signature, parsed.signing_input):
            return key
        tried += 1
        if tried == MAX_CANDIDATE_KEYS:
            break
    if tried == 0:
        pinned = sorted({alg for key in keys for alg in key.algorithms})
        raise TokenRejected(
            Reason.unsupported_algorithm,
            f"token is signed with {algorithm} but the trusted keys of "
            f"{keys[0].fingerprint!r} are pinned to {', '.join(pinned)}",
        )
    raise TokenRejected(
        Reason.bad_signature,
        f"signature does not verify with the {tried} trusted key(s) of {keys[0].fingerprint!r}: "
        "the token was altered or signed by another key",
    )


def _no_key(kid: str | None, fingerprint: str | None, registry: KeyRegistry) -> str:
    if kid is not None:
        where = f" for {fingerprint!r}" if fingerprint else ""
        return (
            f"no trusted key{where} matches the token's kid {kid[:80]!r}; "
            "add the issuer's public key"
        )
    if fingerprint is not None:
        return f"no trusted key for {fingerprint!r}; add the issuer's public key to the registry"
    if not registry.fingerprints():
        return "the key registry is empty; add the issuer's public key"
    return (
        "the token has no kid and the registry trusts several issuers: "
        "set Policy(key_fingerprint=...) to say whose token this must be"
    )
