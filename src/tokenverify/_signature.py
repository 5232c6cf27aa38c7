"""Choose the trusted key for a parsed token and check its signature.

The key comes from the registry only (never from ``jwk``, ``jku``, ``x5u`` or ``x5c``
headers) and must be pinned to the token's ``alg``. The ``kid`` is a hint: when it names
none of the expected issuer's keys, that issuer's keys are tried (see
:meth:`KeyRegistry.select`), so the signature decides, never the kid.
"""

from __future__ import annotations

from typing import Any

from ._algorithms import pss_salt_found
from ._errors import OFF_STANDARD_SALT, Reason, TokenRejected
from ._keys import RegisteredKey
from ._registry import MAX_CANDIDATE_KEYS, KeyRegistry, KeySelection
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
    Raises :class:`TokenRejected` (``malformed`` for a ``token`` that is not text or bytes).
    """
    parsed = parse_compact(token, max_token_size)
    check_signature(parsed, registry, key_fingerprint)
    return dict(parsed.header), decode_segment(parsed.payload_segment, "payload")


def check_signature(
    parsed: CompactToken, registry: KeyRegistry, key_fingerprint: str | None
) -> RegisteredKey:
    """The registered key whose signature ``parsed`` carries; ``TokenRejected`` otherwise."""
    selection = registry.select(parsed.kid, key_fingerprint)
    keys = selection.keys
    if not keys:
        raise TokenRejected(Reason.unknown_key, _no_key(parsed.kid, selection, registry))
    algorithm = parsed.algorithm
    tried: list[RegisteredKey] = []
    for key in keys:
        check = key.check(algorithm)
        if check is None:
            continue
        if check(parsed.signature, parsed.signing_input):
            return key
        tried.append(key)
        if len(tried) == MAX_CANDIDATE_KEYS:
            break
    issuer = keys[0].fingerprint
    if not tried:
        pinned = sorted({alg for key in keys for alg in key.algorithms})
        raise TokenRejected(
            Reason.unsupported_algorithm,
            f"token is signed with {algorithm} but the trusted keys of {issuer!r}"
            f"{_kid_note(parsed.kid, selection)} are pinned to {', '.join(pinned)}",
        )
    raise TokenRejected(Reason.bad_signature, _bad_signature(parsed, selection, tried))


def _bad_signature(
    parsed: CompactToken, selection: KeySelection, tried: list[RegisteredKey]
) -> str:
    issuer = tried[0].fingerprint
    # Only now, on a failure, is another PSS salt tried: to explain, never to accept.
    algorithm = parsed.algorithm
    for key in tried:
        salt = pss_salt_found(algorithm, key.public_key, parsed.signature, parsed.signing_input)
        if salt is not None:
            return (
                f"a trusted key of {issuer!r} {OFF_STANDARD_SALT} of {salt} bytes, but JWS "
                f"{algorithm} and AWS KMS use the hash length, "
                f"{algorithm[2:]} bits = {int(algorithm[2:]) // 8} bytes (RFC 7518 3.5). Not "
                "altered: its signer breaks JWS, as moto's KMS mock does (maximum salt)"
            )
    pinned = sum(1 for key in selection.keys if key.check(parsed.algorithm) is not None)
    more = f" (the first {len(tried)} of {pinned})" if pinned > len(tried) else ""
    return (
        f"signature does not verify with the {len(tried)} trusted key(s){more} of {issuer!r}"
        f"{_kid_note(parsed.kid, selection)}: the token was altered or signed by another key"
    )


def _kid_note(kid: str | None, selection: KeySelection) -> str:
    if kid is None or selection.by_kid:
        return ""
    # The kid matched nothing of the expected issuer, so all its keys were candidates.
    return f" (its kid {kid[:100]!r} names none of them)"


def _no_key(kid: str | None, selection: KeySelection, registry: KeyRegistry) -> str:
    expected = selection.expected
    if expected is not None:
        return f"no trusted key for {expected!r}; add the issuer's public key to the registry"
    if not registry.fingerprints():
        return "the key registry is empty; add the issuer's public key"
    if kid is not None:
        return (
            f"no trusted key matches the token's kid {kid[:100]!r} and the registry trusts "
            "several issuers: set Policy(key_fingerprint=...) to say whose token this must "
            "be, and that issuer's keys are tried"
        )
    return (
        "the token has no kid and the registry trusts several issuers: "
        "set Policy(key_fingerprint=...) to say whose token this must be"
    )
