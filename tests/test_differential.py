"""Differential testing: signature-level decisions against PyJWT and joserfc.

A generated corpus of valid and mutated compact tokens, for every algorithm tokenverify
verifies (PS256/384/512, RS256/384/512, ES256/384/512, EdDSA), goes through three
verifiers, each holding the same single public key and pinned to the token's algorithm:

- tokenverify: ``tv.verify_compact(token, registry)``;
- PyJWT: ``jwt.api_jws.PyJWS().decode_complete(token, key, algorithms=[alg])``;
- joserfc: ``joserfc.jws.deserialize_compact(token, key, registry=JWSRegistry(algorithms=[alg]))``.

A decision is accept (with the header and payload returned) or reject. Every case must
give the same decision (and, when accepted, the same header and payload) in all three,
except where ``DELIBERATE`` says otherwise: that one dict lists every mutation on which
tokenverify deliberately decides differently, the libraries it differs from, and why.
The tests assert that the list is exact: an unlisted disagreement fails, and so does a
listed one that no longer happens.

The corpus: valid tokens (AWS-shaped claims, binary and empty-object payloads, a kid,
re-spelled headers, the ECDSA high-S twin), seeded single-bit flips in every segment,
segment swaps and structural damage, header tweaks signed by the genuine key (typ, cty,
crit, b64, zip, kid, duplicate members, NaN, UTF-16, BOM, surrogates, embedded keys),
re-encodings of each segment (padding, unused bits, standard alphabet, junk, whitespace,
both unsigned and re-signed), and signature forgeries (psychic ECDSA, DER, S + L, PSS
salts, stripped or added zero bytes, HMAC keyed with the public key, alg none).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey, RSAKey

import tokenverify as tv
from tokenverify.testing import TestIssuer

FINGERPRINT = "aws:111122223333:Differential:issuer-fingerprint"
KMS_KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
RSA_ALGORITHMS = ("PS256", "PS384", "PS512", "RS256", "RS384", "RS512")
EC_ALGORITHMS = ("ES256", "ES384", "ES512")
ALGORITHMS = (*RSA_ALGORITHMS, *EC_ALGORITHMS, "EdDSA")
LIBRARIES = ("pyjwt", "joserfc")
# ECDSA group orders (SEC 2) and the Ed25519 group order L (RFC 8032 5.1).
EC_ORDERS = {
    "ES256": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    "ES384": int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
        "C7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973",
        16,
    ),
    "ES512": int(
        "01FF"
        + "FFFFFFFF" * 7
        + "FFFFFFFA51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409",
        16,
    ),
}
EC_SIZES = {"ES256": 32, "ES384": 48, "ES512": 66}
ED25519_ORDER = 2**252 + 27742317777372353535851937790883648493
HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "256": hashes.SHA256,
    "384": hashes.SHA384,
    "512": hashes.SHA512,
}
#: Seeded single-bit flips per segment and algorithm.
BIT_FLIPS_PER_SEGMENT = 6
DOC = Path(__file__).resolve().parents[1] / "docs" / "DIFFERENTIAL.md"


class Deviation(NamedTuple):
    """Where tokenverify decides differently from a library, on purpose."""

    #: The libraries whose decision differs (the others agree with tokenverify).
    libraries: frozenset[str]
    #: tokenverify's decision: the Reason value it rejects with, or "accept".
    ours: str
    why: str


def _deviation(libraries: str, ours: str, why: str) -> Deviation:
    return Deviation(frozenset(libraries.split()), ours, why)


_PADDING = (
    "More lenient than joserfc, on purpose: some AWS services emit '=' padding "
    "(threats.md 7), so its one canonical form is accepted, as PyJWT does; joserfc refuses "
    "any '='. Non-canonical padding, excess '=' and unused bits are refused by all three."
)
_EXTENSION = (
    "tokenverify implements no JWS extension, so a header naming one is refused whatever "
    "its value (threats.md 10, 11, 15; RFC 7515 4.1.11)."
)
_DUPLICATE = (
    "Duplicate member names are refused (threats.md 12, RFC 8725 3.2 via RFC 7515 5.2 step "
    "4): PyJWT and joserfc use json.loads, where the last one wins, so another parser in "
    "the same product could read the first ('none')."
)

_HEADER_SIZE = (
    "joserfc caps the header segment at 512 bytes; tokenverify at 16 KiB (room for an x5c "
    "chain of a few RSA-4096 certificates, which AWS may send) and 16 objects or arrays, "
    "which bounds the work as well. Neither the jku nor the x5c is ever used."
)

#: Every mutation on which tokenverify and a library decide differently, and why.
#: Keys are mutation names (a case id is "<alg>/<mutation>"). Exact: the tests fail on a
#: disagreement missing here, and on an entry here that no case shows.
DELIBERATE: dict[str, Deviation] = {
    # --- deliberately stricter --------------------------------------------------------
    "cty-jwt": _deviation(
        "pyjwt joserfc",
        "unsupported_header",
        "Any cty is refused (threats.md 17): cty JWT announces a nested token as the "
        "payload, which a checkout never is.",
    ),
    "crit-empty": _deviation(
        "joserfc",
        "unsupported_header",
        "RFC 7515 4.1.11: producers MUST NOT use the empty list for crit; PyJWT refuses it "
        "too. " + _EXTENSION,
    ),
    "b64-true-critical": _deviation("pyjwt joserfc", "unsupported_header", _EXTENSION),
    "b64-false-unencoded-payload": _deviation(
        "joserfc",
        "unsupported_header",
        "RFC 7797 unencoded payloads change what is signed; joserfc implements them, "
        "tokenverify refuses b64 in any form (threats.md 11). PyJWT refuses an attached "
        "unencoded payload. " + _EXTENSION,
    ),
    "zip-def": _deviation(
        "pyjwt",
        "unsupported_header",
        "zip belongs to JWE and must never be inflated (threats.md 15, CVE-2024-33664); "
        "PyJWT ignores it, joserfc refuses it as an unregistered JWS member.",
    ),
    "enc-present": _deviation(
        "pyjwt",
        "unsupported_header",
        "enc marks a JWE (threats.md 15); PyJWT ignores it, joserfc refuses it as an "
        "unregistered JWS member.",
    ),
    "duplicate-alg-none-first": _deviation("pyjwt joserfc", "malformed", _DUPLICATE),
    "duplicate-typ": _deviation("pyjwt joserfc", "malformed", _DUPLICATE),
    "nan-member": _deviation(
        "pyjwt",
        "malformed",
        "NaN is not JSON (RFC 8259 6, threats.md 18); json.loads accepts it. joserfc "
        "refuses this header too, for its unregistered member name.",
    ),
    "header-utf16": _deviation(
        "pyjwt joserfc",
        "malformed",
        "The header is UTF-8 JSON (RFC 7515 5.2 step 3); json.loads on bytes silently "
        "decodes UTF-16 (threats.md 19).",
    ),
    "header-utf8-bom": _deviation(
        "pyjwt joserfc",
        "malformed",
        "A byte order mark is not part of JSON text (RFC 8259 8.1); json.loads on bytes "
        "skips it (threats.md 19).",
    ),
    "kid-lone-surrogate": _deviation(
        "pyjwt joserfc",
        "malformed",
        "An escaped lone surrogate is a string no UTF-8 writer can print; refused "
        "(threats.md 19), where json.loads makes a str of it.",
    ),
    "resigned-empty-payload": _deviation(
        "pyjwt joserfc",
        "malformed",
        "Every empty segment is refused: an empty payload segment is a detached payload "
        "(RFC 7515 appendix F), unsupported, and no checkout is empty. RFC 7515 allows an "
        "empty payload; see the open question in docs/CONFORMANCE.md.",
    ),
    "pss-leading-zero-byte-stripped": _deviation(
        "pyjwt joserfc",
        "bad_signature",
        "An RSA signature is exactly the modulus length (RFC 8017 8.1.2 step 1, threats.md "
        "6). OpenSSL's PSS verification left-pads a short one, so both libraries accept a "
        "second spelling of the same signature: a token-bytes malleability. PKCS#1 v1.5 "
        "(pkcs1-leading-zero-byte-stripped) is refused by all three.",
    ),
    # --- deliberately more lenient ----------------------------------------------------
    "signature-canonical-padding": _deviation("joserfc", "accept", _PADDING),
    "resigned-header-canonical-padding": _deviation("joserfc", "accept", _PADDING),
    "resigned-payload-canonical-padding": _deviation("joserfc", "accept", _PADDING),
    "unknown-member": _deviation(
        "joserfc",
        "accept",
        "RFC 7515 4: header members that are not understood MUST be ignored; joserfc's "
        "default registry refuses unregistered names. PyJWT ignores them, as we do.",
    ),
    "long-jku": _deviation("joserfc", "accept", _HEADER_SIZE),
    "valid-x5c-certificate-chain": _deviation("joserfc", "accept", _HEADER_SIZE),
}


# --- keys and the three verifiers ----------------------------------------------------


class Signer(NamedTuple):
    """One algorithm's signing key and the three verifiers' views of its public key."""

    alg: str
    issuer: TestIssuer
    public_key: Any
    registry: tv.KeyRegistry
    joserfc_key: Any


def _signers() -> dict[str, Signer]:
    # One RSA-2048 key serves the six RSA algorithms (size does not matter here); each
    # verifier still pins it to one algorithm per signer.
    rsa_key = rsa.generate_private_key(65537, 2048)
    private: dict[str, Any] = dict.fromkeys(RSA_ALGORITHMS, rsa_key)
    private.update(
        ES256=ec.generate_private_key(ec.SECP256R1()),
        ES384=ec.generate_private_key(ec.SECP384R1()),
        ES512=ec.generate_private_key(ec.SECP521R1()),
        EdDSA=ed25519.Ed25519PrivateKey.generate(),
    )
    signers = {}
    for alg, key in private.items():
        public = key.public_key()
        pem = public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        registry = tv.KeyRegistry()
        registry.add(FINGERPRINT, public, algorithms=[alg])
        key_type = RSAKey if alg in RSA_ALGORITHMS else ECKey if alg in EC_ORDERS else OKPKey
        signers[alg] = Signer(
            alg, TestIssuer(key, alg, FINGERPRINT), public, registry, key_type.import_key(pem)
        )
    return signers


class Decision(NamedTuple):
    """What one verifier made of a token."""

    accepted: bool
    #: The Reason value (tokenverify) or exception name (libraries) of a rejection.
    detail: str
    header: dict[str, Any] | None = None
    payload: bytes | None = None


def decide_tokenverify(token: str, signer: Signer) -> Decision:
    """tokenverify's decision: ``verify_compact`` with the key pinned to the algorithm."""
    try:
        header, payload = tv.verify_compact(token, signer.registry)
    except tv.TokenRejected as rejection:
        return Decision(False, rejection.reason.value)
    return Decision(True, "accept", header, payload)


def decide_pyjwt(token: str, signer: Signer) -> Decision:
    """PyJWT's decision, algorithms pinned; any exception is a rejection."""
    try:
        decoded = jwt.api_jws.PyJWS().decode_complete(
            token, signer.public_key, algorithms=[signer.alg]
        )
    except Exception as exc:  # a library's crash is a refusal too, named by its type
        return Decision(False, type(exc).__name__)
    return Decision(True, "accept", decoded["header"], decoded["payload"])


def decide_joserfc(token: str, signer: Signer) -> Decision:
    """joserfc's decision with a registry allowing only the algorithm."""
    registry = jws.JWSRegistry(algorithms=[signer.alg])
    try:
        # joserfc warns on EdDSA ("deprecated via RFC 9864"); the warning is not a decision.
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            signature = jws.deserialize_compact(token, signer.joserfc_key, registry=registry)
    except (JoseError, ValueError, TypeError) as exc:
        return Decision(False, type(exc).__name__)
    return Decision(True, "accept", dict(signature.headers()), signature.payload)


DECIDERS: dict[str, Callable[[str, Signer], Decision]] = {
    "pyjwt": decide_pyjwt,
    "joserfc": decide_joserfc,
}


def same_decision(ours: Decision, theirs: Decision) -> bool:
    """Same accept/reject, and when both accept, the same header and payload."""
    if ours.accepted != theirs.accepted:
        return False
    return not ours.accepted or (ours.header, ours.payload) == (theirs.header, theirs.payload)


# --- building tokens -----------------------------------------------------------------


def b64(data: bytes) -> str:
    """Unpadded base64url by the stdlib, not by the code under test."""
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def compact_json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode("utf-8")


def sign_segments(signer: Signer, header_segment: str, payload_segment: str) -> str:
    """Sign the exact signing input given, however the segments are spelled."""
    signing_input = f"{header_segment}.{payload_segment}"
    return f"{signing_input}.{b64(signer.issuer.sign_bytes(signing_input.encode('latin-1')))}"


def sign(signer: Signer, header: bytes | None = None, payload: bytes | None = None) -> str:
    """A token over raw header and payload JSON bytes (defaults: the genuine ones)."""
    header = compact_json({"alg": signer.alg, "typ": "JWT"}) if header is None else header
    payload = checkout_payload() if payload is None else payload
    return sign_segments(signer, b64(header), b64(payload))


def checkout_payload(nonce: int = 0) -> bytes:
    """AWS's sample payload shape (what the signature layer carries in practice)."""
    return compact_json(
        {
            "licenseArn": "arn:aws:license-manager::111122223333:license:l-0123456789abcdef",
            "licenseConsumptionToken": f"0cd7b2bc7c674573a669bea8f5b7{nonce:04x}",
            "entitlementsAllowed": [{"name": "Users", "value": "10", "unit": "Count"}],
            "nodeId": "node-7",
            "issuedAt": "2026-01-15T12:00:00",
            "expiration": "2026-01-15T13:00:00",
        }
    )


def parts(token: str) -> list[str]:
    return token.split(".")


def signature_of(token: str) -> bytes:
    text = parts(token)[2]
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def with_signature(token: str, signature: bytes) -> str:
    header, payload, _ = parts(token)
    return f"{header}.{payload}.{b64(signature)}"


def unused_bits(length: int) -> int:
    """How many low bits of the last character of ``length`` encoded bytes are unused."""
    return {0: 0, 1: 4, 2: 2}[length % 3]


def with_unused_bit_set(segment_text: str) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(segment_text[-1])
    return segment_text[:-1] + alphabet[last | 1]


def padded(segment_text: str) -> str:
    return segment_text + "=" * (-len(segment_text) % 4)


def nonce_where(signer: Signer, wanted: Callable[[str], bool]) -> str:
    """A genuine token (varying a nonce in its payload) for which ``wanted`` holds."""
    for nonce in range(1, 4096):
        token = sign(signer, payload=checkout_payload(nonce))
        if wanted(token):
            return token
    raise AssertionError("no nonce gave a token with the wanted property")


def payload_where(wanted: Callable[[str], bool]) -> bytes:
    """A JSON payload whose base64url spelling has the wanted property."""
    for nonce in range(1, 4096):
        payload = compact_json({"note": f"{nonce}~~~?>>>"})
        if wanted(b64(payload)):
            return payload
    raise AssertionError("no payload with the wanted spelling")


class Case(NamedTuple):
    """One corpus token, the signer whose verifiers judge it, and its mutation's name."""

    alg: str
    mutation: str
    token: str

    @property
    def case_id(self) -> str:
        return f"{self.alg}/{self.mutation}"


def _valid(signer: Signer) -> Iterator[tuple[str, str]]:
    alg = signer.alg
    yield "valid-checkout", sign(signer)
    yield "valid-no-typ", sign(signer, compact_json({"alg": alg}))
    yield "valid-kid-fingerprint", sign(signer, compact_json({"alg": alg, "kid": FINGERPRINT}))
    # Since issue 8 a kid is a hint (an unknown one falls back to the one trusted issuer's
    # key) and typ is informational: these were deliberate refusals before.
    yield "valid-kid-unknown", sign(signer, compact_json({"alg": alg, "kid": "no-such-key"}))
    yield (
        "valid-kid-path-traversal",
        sign(signer, compact_json({"alg": alg, "kid": "../../../../etc/passwd"})),
    )
    yield "valid-kid-kms-key-arn", sign(signer, compact_json({"alg": alg, "kid": KMS_KEY_ARN}))
    yield "valid-typ-jwe", sign(signer, compact_json({"alg": alg, "typ": "JWE"}))
    yield "valid-typ-jws", sign(signer, compact_json({"alg": alg, "typ": "JWS"}))
    chain = [base64.b64encode(bytes([n]) * 1400).decode("ascii") for n in range(3)]
    yield (
        "valid-x5c-certificate-chain",
        sign(signer, compact_json({"alg": alg, "kid": KMS_KEY_ARN, "x5c": chain})),
    )
    yield (
        "valid-header-whitespace",
        sign(signer, f'{{\n  "alg" : "{alg}" ,\t"typ":"JWT"\n}}'.encode()),
    )
    escaped = "".join(f"\\u{ord(c):04x}" for c in alg)
    yield "valid-header-escaped-alg", sign(signer, f'{{"alg":"{escaped}"}}'.encode())
    yield "valid-empty-object-payload", sign(signer, payload=b"{}")
    yield "valid-binary-payload", sign(signer, payload=bytes(range(256)))
    yield (
        "valid-embedded-jwk-ignored",
        sign(
            signer,
            compact_json(
                {"alg": alg, "jwk": {"kty": "OKP", "crv": "Ed25519", "x": b64(bytes(32))}}
            ),
        ),
    )
    yield (
        "valid-jku-ignored",
        sign(signer, compact_json({"alg": alg, "jku": "https://attacker.example/jwks.json"})),
    )
    if alg in EC_ORDERS:
        # (r, n - s) verifies in OpenSSL and every library: JWS does not forbid high S.
        token, size = sign(signer), EC_SIZES[alg]
        signature = signature_of(token)
        r, s = int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
        twin = r.to_bytes(size, "big") + (EC_ORDERS[alg] - s).to_bytes(size, "big")
        yield "valid-ecdsa-high-s-twin", with_signature(token, twin)


def _bit_flips(signer: Signer, rng: random.Random) -> Iterator[tuple[str, str]]:
    token = sign(signer)
    header, payload, signature = parts(token)
    offsets = {"header": 0, "payload": len(header) + 1, "signature": len(header) + len(payload) + 2}
    # The signature's last character can carry unused bits: flipped on purpose below.
    lengths = {"header": len(header), "payload": len(payload), "signature": len(signature) - 1}
    for name in ("header", "payload", "signature"):
        positions = rng.sample(range(lengths[name]), BIT_FLIPS_PER_SEGMENT)
        for index, offset in enumerate(positions):
            position = offsets[name] + offset
            bit = 1 << rng.randrange(8)
            flipped = chr(ord(token[position]) ^ bit)
            yield (
                f"bit-flip-{name}-{index}",
                token[:position] + flipped + token[position + 1 :],
            )


def _structure(signer: Signer, other: Signer) -> Iterator[tuple[str, str]]:
    token = sign(signer)
    header, payload, signature = parts(token)
    second = sign(signer, payload=checkout_payload(99))
    yield "swap-header-payload", f"{payload}.{header}.{signature}"
    yield "segments-reversed", f"{signature}.{payload}.{header}"
    yield "signature-of-another-token", f"{header}.{payload}.{parts(second)[2]}"
    yield "payload-of-another-token", f"{header}.{parts(second)[1]}.{signature}"
    yield "header-of-another-algorithm", f"{parts(sign(other))[0]}.{payload}.{signature}"
    yield "two-segments", f"{header}.{payload}"
    yield "four-segments", f"{token}.{signature}"
    yield "trailing-dot", f"{token}."
    yield "empty-signature", f"{header}.{payload}."
    yield "detached-payload", f"{header}..{signature}"
    yield "leading-space", f" {token}"
    yield "signature-truncated", token[:-1]
    yield "signature-extra-zero-byte", with_signature(token, signature_of(token) + b"\x00")
    yield "signature-zero-byte-prepended", with_signature(token, b"\x00" + signature_of(token))
    yield "signature-all-zero", with_signature(token, bytes(len(signature_of(token))))
    last_bits = unused_bits(len(signature_of(token)))
    if last_bits:
        yield "signature-unused-bits-set", f"{header}.{payload}.{with_unused_bit_set(signature)}"
        yield "signature-canonical-padding", f"{token}{'=' * (-len(signature) % 4)}"
    # A used bit of the last character changes the signature's last byte.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    used = alphabet[alphabet.index(signature[-1]) ^ (1 << last_bits)]
    yield "signature-last-byte-changed", f"{header}.{payload}.{signature[:-1]}{used}"
    yield "signature-excess-padding", f"{token}{'=' * (-len(signature) % 4 + 4)}"
    yield "signature-junk-character", f"{header}.{payload}.{signature[:10]}!{signature[10:]}"
    yield "signature-inner-newline", f"{header}.{payload}.{signature[:20]}\n{signature[20:]}"
    yield "signature-inner-space", f"{header}.{payload}.{signature[:20]} {signature[20:]}"
    yield "signature-trailing-newline", f"{token}\n"
    yield "signature-trailing-crlf", f"{token}\r\n"
    dashed = nonce_where(signer, lambda t: "-" in parts(t)[2] or "_" in parts(t)[2])
    standard = parts(dashed)[2].replace("-", "+").replace("_", "/")
    yield "signature-standard-alphabet", f"{dashed.rsplit('.', 1)[0]}.{standard}"


def _forger(alg: str, attacker: TestIssuer) -> TestIssuer:
    """An untrusted key of the algorithm's own type: only the key is wrong."""
    key: Any = attacker.private_key
    if alg in EC_ORDERS:
        curves: dict[str, ec.EllipticCurve] = {
            "ES256": ec.SECP256R1(),
            "ES384": ec.SECP384R1(),
            "ES512": ec.SECP521R1(),
        }
        key = ec.generate_private_key(curves[alg])
    elif alg == "EdDSA":
        key = ed25519.Ed25519PrivateKey.generate()
    return TestIssuer(key, alg, FINGERPRINT)


def _header_tweaks(signer: Signer, attacker: TestIssuer) -> Iterator[tuple[str, str]]:
    alg = signer.alg

    def header(**members: Any) -> bytes:
        return compact_json({"alg": alg, **members})

    yield "alg-none-unsigned", f"{b64(compact_json({'alg': 'none'}))}.{b64(checkout_payload())}."
    yield "alg-none-junk-signature", sign(signer, compact_json({"alg": "none"}))
    yield "alg-lowercase", sign(signer, compact_json({"alg": alg.lower()}))
    yield "alg-missing", sign(signer, compact_json({"typ": "JWT"}))
    yield "alg-null", sign(signer, compact_json({"alg": None}))
    yield "header-json-array", sign(signer, compact_json([{"alg": alg}]))
    # The public key as an HMAC secret: what PyJWT CVE-2022-29217 let through.
    pem = signer.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    hmac_input = f"{b64(compact_json({'alg': 'HS256'}))}.{b64(checkout_payload())}"
    forged = hmac.new(pem, hmac_input.encode(), hashlib.sha256).digest()
    yield "hs256-keyed-with-public-pem", f"{hmac_input}.{b64(forged)}"
    sibling = {"PS": "RS", "RS": "PS", "ES": "PS", "Ed": "PS"}[alg[:2]] + "384"
    relabelled = sign(signer).split(".")
    yield "alg-relabelled", f"{b64(header(alg=sibling))}.{relabelled[1]}.{relabelled[2]}"
    attacker_header = compact_json(
        {"alg": attacker.algorithm, "jwk": {"kty": "RSA", "n": "AQAB", "e": "AQAB"}}
    )
    attacker_input = f"{b64(attacker_header)}.{b64(checkout_payload())}"
    yield (
        "attacker-signed-embedded-jwk",
        f"{attacker_input}.{b64(attacker.sign_bytes(attacker_input.encode()))}",
    )
    yield "cty-jwt", sign(signer, header(cty="JWT"))
    yield "crit-exp", sign(signer, header(crit=["exp"], exp=1))
    yield "crit-empty", sign(signer, header(crit=[]))
    yield "b64-true-critical", sign(signer, header(b64=True, crit=["b64"]))
    raw_payload = b'{"nodeId":"node-7"}'
    unencoded_header = b64(header(b64=False, crit=["b64"]))
    unencoded_input = f"{unencoded_header}.{raw_payload.decode()}".encode()
    yield (
        "b64-false-unencoded-payload",
        f"{unencoded_header}.{raw_payload.decode()}.{b64(signer.issuer.sign_bytes(unencoded_input))}",
    )
    yield "zip-def", sign(signer, header(zip="DEF"))
    yield "enc-present", sign(signer, header(enc="A256GCM"))
    yield "kid-number", sign(signer, header(kid=7))
    # A kid is a hint: with one trusted key, an unknown kid does not save a forgery.
    forger = _forger(alg, attacker)
    forged_input = f"{b64(header(kid=KMS_KEY_ARN))}.{b64(checkout_payload())}"
    forged = forger.sign_bytes(forged_input.encode("ascii"))
    yield "attacker-signed-unknown-kid", f"{forged_input}.{b64(forged)}"
    yield "unknown-member", sign(signer, header(vendor=1))
    yield "long-jku", sign(signer, header(jku="https://example.com/" + "a" * 600))
    yield "duplicate-alg-none-first", sign(signer, f'{{"alg":"none","alg":"{alg}"}}'.encode())
    yield "duplicate-alg-none-last", sign(signer, f'{{"alg":"{alg}","alg":"none"}}'.encode())
    yield "duplicate-typ", sign(signer, f'{{"alg":"{alg}","typ":"JWT","typ":"JWT"}}'.encode())
    yield "nan-member", sign(signer, f'{{"alg":"{alg}","vendor":NaN}}'.encode())
    yield "kid-lone-surrogate", sign(signer, f'{{"alg":"{alg}","kid":"\\ud800"}}'.encode())
    yield "header-utf16", sign(signer, json.dumps({"alg": alg}).encode("utf-16-le"))
    yield "header-utf8-bom", sign(signer, b"\xef\xbb\xbf" + header())
    yield "header-invalid-utf8", sign(signer, f'{{"alg":"{alg}","kid":"\xff"}}'.encode("latin-1"))


def _re_encodings(signer: Signer) -> Iterator[tuple[str, str]]:
    """Segments spelled oddly and signed that way: only the spelling is wrong."""
    header = compact_json({"alg": signer.alg, "typ": "JWT"})
    # Pad JSON so its base64url has unused bits: one byte beyond a multiple of three.
    spaced_header = header[:-1] + b" " * ((1 - len(header)) % 3) + b"}"
    payload = checkout_payload()
    spaced_payload = payload[:-1] + b" " * ((1 - len(payload)) % 3) + b"}"
    h, p = b64(spaced_header), b64(spaced_payload)
    yield "resigned-header-canonical-padding", sign_segments(signer, padded(h), p)
    yield "resigned-payload-canonical-padding", sign_segments(signer, h, padded(p))
    yield "resigned-header-unused-bits-set", sign_segments(signer, with_unused_bit_set(h), p)
    yield "resigned-payload-unused-bits-set", sign_segments(signer, h, with_unused_bit_set(p))
    yield "resigned-payload-excess-padding", sign_segments(signer, h, padded(p) + "====")
    dashed = payload_where(lambda text: "-" in text and "_" in text)
    standard = b64(dashed).replace("-", "+").replace("_", "/")
    yield "resigned-payload-standard-alphabet", sign_segments(signer, h, standard)
    yield "resigned-payload-inner-newline", sign_segments(signer, h, f"{p[:8]}\n{p[8:]}")
    yield "resigned-empty-payload", sign_segments(signer, h, "")


def _forgeries(signer: Signer) -> Iterator[tuple[str, str]]:
    alg, key = signer.alg, signer.issuer.private_key
    token = sign(signer)
    signing_input = token.rsplit(".", 1)[0].encode()
    if alg in EC_ORDERS:
        size, order = EC_SIZES[alg], EC_ORDERS[alg]
        yield "ecdsa-psychic-zero", with_signature(token, bytes(2 * size))
        yield "ecdsa-r-s-equal-n", with_signature(token, order.to_bytes(size, "big") * 2)
        genuine = signature_of(token)
        r, s = int.from_bytes(genuine[:size], "big"), int.from_bytes(genuine[size:], "big")
        yield (
            "ecdsa-s-plus-n",
            with_signature(
                token, r.to_bytes(size, "big") + (s + order).to_bytes(size + 1, "big")[-size:]
            ),
        )
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        der = key.sign(signing_input, ec.ECDSA(HASHES[alg[2:]]()))
        yield "ecdsa-der-signature", with_signature(token, der)
        yield "ecdsa-r-and-s-swapped", with_signature(token, genuine[size:] + genuine[:size])
    elif alg == "EdDSA":
        genuine = signature_of(token)
        s = int.from_bytes(genuine[32:], "little")
        yield (
            "ed25519-s-plus-l",
            with_signature(token, genuine[:32] + (s + ED25519_ORDER).to_bytes(32, "little")),
        )
        yield "ed25519-63-bytes", with_signature(token, genuine[:63])
    else:
        assert isinstance(key, rsa.RSAPrivateKey)
        digest = HASHES[alg[2:]]()
        if alg.startswith("PS"):
            for name, salt in (("pss-salt-zero", 0), ("pss-salt-max", padding.PSS.MAX_LENGTH)):
                wrong = key.sign(signing_input, padding.PSS(padding.MGF1(digest), salt), digest)
                yield name, with_signature(token, wrong)
            yield (
                "pkcs1-signature-for-pss",
                with_signature(token, key.sign(signing_input, padding.PKCS1v15(), digest)),
            )
        else:
            pss = padding.PSS(padding.MGF1(digest), digest.digest_size)
            yield (
                "pss-signature-for-pkcs1",
                with_signature(token, key.sign(signing_input, pss, digest)),
            )
        # About one signature in 256 starts with a zero byte; dropping it keeps the
        # integer, so only a length check refuses the short spelling.
        leading = nonce_where(signer, lambda t: signature_of(t)[0] == 0)
        scheme = "pss" if alg.startswith("PS") else "pkcs1"
        yield (
            f"{scheme}-leading-zero-byte-stripped",
            with_signature(leading, signature_of(leading)[1:]),
        )


def build_corpus(signers: dict[str, Signer], seed: int = 20260115) -> list[Case]:
    """The whole corpus, in a fixed order with unique ids."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible corpus, not a secret
    attacker = TestIssuer.generate("PS256", key_size=2048)
    cases: list[Case] = []
    for alg in ALGORITHMS:
        signer = signers[alg]
        other = signers["ES256" if alg != "ES256" else "PS256"]
        for generate in (
            _valid(signer),
            _bit_flips(signer, rng),
            _structure(signer, other),
            _header_tweaks(signer, attacker),
            _re_encodings(signer),
            _forgeries(signer),
        ):
            cases.extend(Case(alg, mutation, token) for mutation, token in generate)
    ids = Counter(case.case_id for case in cases)
    assert max(ids.values()) == 1, [case_id for case_id, n in ids.items() if n > 1]
    return cases


SIGNERS = _signers()
CORPUS = build_corpus(SIGNERS)


# --- the tests -----------------------------------------------------------------------


def _lenient(mutation: str) -> bool:
    deviation = DELIBERATE.get(mutation)
    return deviation is not None and deviation.ours == "accept"


@pytest.mark.parametrize("case", [pytest.param(case, id=case.case_id) for case in CORPUS])
def test_decision_agrees_with_pyjwt_and_joserfc_except_where_deliberate(case: Case) -> None:
    signer = SIGNERS[case.alg]
    ours = decide_tokenverify(case.token, signer)
    # The corpus is what it says: genuine tokens verify, every mutation is refused
    # (except the listed places where tokenverify is more lenient than a library).
    assert ours.accepted == (case.mutation.startswith("valid-") or _lenient(case.mutation)), (
        ours.detail
    )
    deviation = DELIBERATE.get(case.mutation)
    for library, decide in DECIDERS.items():
        theirs = decide(case.token, signer)
        if deviation is not None and library in deviation.libraries:
            assert ours.detail == deviation.ours
            assert theirs.accepted != ours.accepted, (
                f"{library} now decides like tokenverify ({theirs.detail}): "
                f"remove {library} from DELIBERATE[{case.mutation!r}]"
            )
        else:
            assert same_decision(ours, theirs), (
                f"{library}: {theirs.detail}, tokenverify: {ours.detail}; fix the bug or "
                "list the mutation in DELIBERATE with its reason"
            )


def test_every_deliberate_deviation_is_exercised_on_every_algorithm_it_applies_to() -> None:
    """With the per-case test, this makes DELIBERATE exact: nothing listed is stale."""
    mutations = Counter(case.mutation for case in CORPUS)
    assert set(DELIBERATE) <= set(mutations)
    for mutation, deviation in DELIBERATE.items():
        assert deviation.libraries <= set(LIBRARIES), mutation
        assert deviation.ours == "accept" or deviation.ours in set(tv.Reason), mutation
        assert len(deviation.why) > 40, mutation


def test_corpus_covers_every_algorithm_with_every_kind_of_mutation() -> None:
    by_algorithm = Counter(case.alg for case in CORPUS)
    assert set(by_algorithm) == set(ALGORITHMS)
    assert min(by_algorithm.values()) >= 80
    kinds = Counter(case.mutation.split("-", 1)[0] for case in CORPUS)
    for kind in ("valid", "bit", "signature", "resigned", "alg", "kid", "duplicate", "header"):
        assert kinds[kind] >= len(ALGORITHMS), kind
    for alg in ALGORITHMS:
        flips = [c for c in CORPUS if c.alg == alg and c.mutation.startswith("bit-flip-")]
        assert len(flips) == 3 * BIT_FLIPS_PER_SEGMENT
        assert len({c.token for c in flips}) == len(flips)


class Tally(NamedTuple):
    """The numbers docs/DIFFERENTIAL.md reports."""

    tokens: int
    comparisons: int
    agreements: int
    #: mutation -> number of (token, library) disagreements
    disagreements: dict[str, int]


def tally() -> Tally:
    """Run the whole corpus through the three verifiers and count."""
    agreements, disagreements = 0, Counter[str]()
    for case in CORPUS:
        signer = SIGNERS[case.alg]
        ours = decide_tokenverify(case.token, signer)
        for decide in DECIDERS.values():
            if same_decision(ours, decide(case.token, signer)):
                agreements += 1
            else:
                disagreements[case.mutation] += 1
    return Tally(len(CORPUS), len(CORPUS) * len(DECIDERS), agreements, dict(disagreements))


def deviation_rows(counts: dict[str, int]) -> list[str]:
    """The deviation table's rows, as docs/DIFFERENTIAL.md must show them."""
    return [
        f"| `{mutation}` | {', '.join(sorted(deviation.libraries))} | {deviation.ours} "
        f"| {counts.get(mutation, 0)} |"
        for mutation, deviation in DELIBERATE.items()
    ]


def test_docs_report_the_numbers_of_this_corpus() -> None:
    numbers = tally()
    assert set(numbers.disagreements) == set(DELIBERATE)
    text = DOC.read_text(encoding="utf-8")
    disagreeing = sum(numbers.disagreements.values())
    summary = (
        f"{numbers.tokens} tokens, {numbers.comparisons} comparisons: "
        f"{numbers.agreements} agree, {disagreeing} disagree"
    )
    assert summary in text, summary
    for row in deviation_rows(numbers.disagreements):
        assert row in text, row


if __name__ == "__main__":  # pragma: no cover - prints the numbers for docs/DIFFERENTIAL.md
    counted = tally()
    print(
        f"{counted.tokens} tokens, {counted.comparisons} comparisons: {counted.agreements} "
        f"agree, {sum(counted.disagreements.values())} disagree"
    )
    print("\n".join(deviation_rows(counted.disagreements)))
