"""Hostile inputs for the core verifier, generated from the classes of threats.md.

``cases(issuers)`` returns a list of :class:`HostileCase`: a stable id prefixed with the
threat class number (``"07-signature-standard-alphabet"``), the input handed to
``Verifier.verify``, the exact :class:`~tokenverify.Reason` it must be rejected with, and
the registry and policy it is checked against. ``controls(issuers)`` returns near misses
built with the same helpers that must verify, so a case can fail only for its hostile part.

Every payload-level case is signed by a trusted issuer: an unsigned one would only test
the signature check. Header-level cases are signed too, so that nothing but the header
can be the cause of the rejection. Class 5 (the accepted ECDSA high-S twin) and class 22
(weak keys, refused at registration) are not token rejections and live in
``test_threats.py``.

To add a case, add it to the generator of its class; ids must stay unique because they
are pytest ids.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from tokenverify import KeyRegistry, Policy, Reason, Requirement, Verifier
from tokenverify.testing import TestIssuer

__all__ = [
    "ATTACKER",
    "CONSUMPTION_TOKEN",
    "COORDINATE_SIZES",
    "DEFAULT_POLICY",
    "EC_HASHES",
    "ED25519_ORDER",
    "GENERATORS",
    "HEADER_SEGMENT_LIMIT",
    "HMAC_HASHES",
    "ISSUED_AT",
    "KMS_KEY_ARN",
    "LARGE_LIMIT",
    "LICENSE_ARN",
    "NODE_ID",
    "ORDERS",
    "PRODUCT_SKU",
    "SECOND",
    "TEN_MEGABYTES",
    "THIRD",
    "TRUSTED",
    "TTL",
    "TYP_STRINGS",
    "VERIFY_AT",
    "Control",
    "HostileCase",
    "Issuers",
    "b64",
    "cases",
    "claims",
    "controls",
    "deep_value",
    "ecdsa_raw",
    "embedded_key_headers",
    "header_for",
    "header_of_segment_length",
    "json_bytes",
    "padded_to",
    "parts",
    "public_key_encodings",
    "response",
    "rsa_token_with_url_characters",
    "segment",
    "set_unused_bits",
    "sign_segments",
    "signature_of",
    "signed",
    "signing_input",
    "to_standard_alphabet",
    "with_raw_member",
    "with_signature",
    "with_url_characters",
]

#: Every case is issued at 2026-01-15T12:00:00Z for one hour and verified a minute later,
#: so that only the hostile part of a case can make it fail.
ISSUED_AT = 1_768_478_400
TTL = 3600
VERIFY_AT = ISSUED_AT + 60
TRUSTED = "aws:111122223333:Test:issuer-fingerprint"
SECOND = "aws:222233334444:Second:issuer-fingerprint"
#: A second trusted RSA issuer (PS384 like TRUSTED): its key would verify its own tokens,
#: so a refusal of them under TRUSTED proves that a kid never reaches another issuer's key.
THIRD = "aws:333344445555:Third:issuer-fingerprint"
ATTACKER = "aws:999988887777:Attacker:issuer-fingerprint"
LICENSE_ARN = "arn:aws:license-manager::111122223333:license:l-0123456789abcdef0123456789abcdef"
#: A KMS key ARN as a kid: what an AWS header may carry, known to no registry built from a PEM.
KMS_KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
CONSUMPTION_TOKEN = "0cd7b2bc7c674573a669bea8f5b75f2d"
NODE_ID = "node-7"
PRODUCT_SKU = "prod-1234"
DEFAULT_POLICY = Policy()
#: Large enough to let a multi-megabyte case past the size check to the part it attacks.
LARGE_LIMIT = 4 << 20
#: The "huge input" of the issue: refused on its length before anything is decoded.
TEN_MEGABYTES = 10 << 20

# ECDSA group orders (SEC 2), written out here so the tests do not borrow them from src.
ORDERS = {
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
COORDINATE_SIZES = {"ES256": 32, "ES384": 48, "ES512": 66}
EC_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "ES256": hashes.SHA256,
    "ES384": hashes.SHA384,
    "ES512": hashes.SHA512,
}
#: The Ed25519 group order L (RFC 8032 section 5.1).
ED25519_ORDER = 2**252 + 27742317777372353535851937790883648493
_B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


class HostileCase(NamedTuple):
    """One hostile input and the exact reason it must be rejected with."""

    case_id: str
    source: object
    reason: Reason
    registry: KeyRegistry
    policy: Policy = DEFAULT_POLICY
    #: None: the verifier's default limit.
    max_token_size: int | None = None

    @property
    def threat(self) -> int:
        """The threat class number (threats.md) the case belongs to."""
        return int(self.case_id[:2])

    def verifier(self) -> Verifier:
        """The verifier the case must be rejected by."""
        if self.max_token_size is None:
            return Verifier(self.registry, self.policy)
        return Verifier(self.registry, self.policy, max_token_size=self.max_token_size)


class Issuers:
    """The keys cases are made with, and the registries that trust them.

    ``rsa`` (PS384 over RSA-2048: key size does not matter here) is the trusted issuer of
    most cases; ``attacker`` is never registered anywhere; ``third`` is a second trusted
    PS384 issuer, registered beside ``rsa`` in ``rsa_pair``.
    """

    def __init__(
        self,
        rsa: TestIssuer,
        attacker: TestIssuer,
        ecdsa: Mapping[str, TestIssuer],
        eddsa: TestIssuer,
        third: TestIssuer,
    ) -> None:
        self.rsa = rsa
        self.attacker = attacker
        self.ecdsa = dict(ecdsa)
        self.eddsa = eddsa
        self.third = third
        self.rsa_registry = rsa.registry()
        self.ecdsa_registries = {alg: issuer.registry() for alg, issuer in self.ecdsa.items()}
        self.eddsa_registry = eddsa.registry()
        # Two trusted issuers: a kid names one, and without a policy an unknown kid names
        # none (whose token would it be?).
        self.second = TestIssuer(self.ecdsa["ES384"].private_key, "ES384", SECOND)
        self.two_issuers = KeyRegistry()
        self.two_issuers.add(TRUSTED, rsa.private_key.public_key(), algorithms=["PS384"])
        self.two_issuers.add(SECOND, self.second.private_key.public_key(), algorithms=["ES384"])
        # Two trusted issuers of one algorithm: whichever key a kid names or fails to
        # name, only the expected issuer's keys may be tried.
        self.rsa_pair = KeyRegistry()
        self.rsa_pair.add(TRUSTED, rsa.private_key.public_key(), algorithms=["PS384"])
        self.rsa_pair.add(THIRD, third.private_key.public_key(), algorithms=["PS384"])

    @classmethod
    def generate(cls) -> Issuers:
        """Fresh keys: three RSA-2048 (about 0.3 s), three EC curves and Ed25519."""
        return cls(
            TestIssuer.generate("PS384", TRUSTED, key_size=2048),
            TestIssuer.generate("PS384", ATTACKER, key_size=2048),
            {alg: TestIssuer.generate(alg, TRUSTED) for alg in ("ES256", "ES384", "ES512")},
            TestIssuer.generate("EdDSA", TRUSTED),
            TestIssuer.generate("PS384", THIRD, key_size=2048),
        )


# --- building tokens byte by byte -----------------------------------------------------


def b64(data: bytes) -> str:
    """Unpadded base64url, by the stdlib rather than the code under test."""
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def json_bytes(value: object) -> bytes:
    """Compact UTF-8 JSON, as an issuer would write it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def with_raw_member(value: Mapping[str, Any], name: str, raw: bytes) -> bytes:
    """``value`` as JSON with member ``name`` spelled exactly as ``raw`` (any bytes)."""
    body = json_bytes({key: item for key, item in value.items() if key != name})
    return body[:-1] + b"," + json_bytes(name) + b":" + raw + b"}"


def header_for(issuer: TestIssuer, **members: Any) -> dict[str, Any]:
    """The header ``issuer`` writes, with ``members`` added or replaced."""
    return {"alg": issuer.algorithm, "typ": "JWT", **members}


def claims(issuer: TestIssuer, **overrides: Any) -> dict[str, Any]:
    """A deterministic AWS payload valid at :data:`VERIFY_AT`; a ``None`` override removes."""
    return issuer.claims(
        node_id=NODE_ID,
        entitlements=[("Users", "10", "Count")],
        ttl=TTL,
        issued_at=ISSUED_AT,
        license_arn=LICENSE_ARN,
        license_consumption_token=CONSUMPTION_TOKEN,
        overrides=overrides,
    )


def response(issuer: TestIssuer, **overrides: Any) -> dict[str, Any]:
    """A boto3 CheckoutLicense response around a token of :func:`claims`."""
    return issuer.checkout(
        node_id=NODE_ID,
        entitlements=[("Users", "10", "Count")],
        ttl=TTL,
        issued_at=ISSUED_AT,
        license_arn=LICENSE_ARN,
        license_consumption_token=CONSUMPTION_TOKEN,
        **overrides,
    )


def segment(value: Mapping[str, Any] | bytes) -> str:
    return b64(value if isinstance(value, bytes) else json_bytes(value))


def sign_segments(issuer: TestIssuer, header_segment: str, payload_segment: str) -> str:
    """A token over exactly these two segments (whatever they hold), signed by ``issuer``."""
    signing_input = f"{header_segment}.{payload_segment}"
    return f"{signing_input}.{b64(issuer.sign_bytes(signing_input.encode('ascii')))}"


def signed(
    issuer: TestIssuer,
    header: Mapping[str, Any] | bytes | None = None,
    payload: Mapping[str, Any] | bytes | None = None,
) -> str:
    """A token with this header and payload (JSON objects or raw bytes), signed by ``issuer``."""
    return sign_segments(
        issuer,
        segment(header_for(issuer) if header is None else header),
        segment(claims(issuer) if payload is None else payload),
    )


def parts(token: str) -> tuple[str, str, str]:
    header, payload, signature = token.split(".")
    return header, payload, signature


def signature_of(token: str) -> bytes:
    return base64.urlsafe_b64decode(parts(token)[2] + "==")


def with_signature(token: str, signature: bytes) -> str:
    header, payload, _ = parts(token)
    return f"{header}.{payload}.{b64(signature)}"


def signing_input(token: str) -> bytes:
    header, payload, _ = parts(token)
    return f"{header}.{payload}".encode("ascii")


def set_unused_bits(segment_text: str) -> str:
    """The same bytes to a lenient decoder: the last character's unused bits set."""
    assert len(segment_text) % 4 in (2, 3), "this segment has no unused bits"
    last = _B64_ALPHABET.index(segment_text[-1])
    assert last & 1 == 0
    return segment_text[:-1] + _B64_ALPHABET[last | 1]


def to_standard_alphabet(segment_text: str) -> str:
    """The same bytes to a lenient decoder, spelled with '+' and '/'."""
    assert "-" in segment_text or "_" in segment_text
    return segment_text.replace("-", "+").replace("_", "/")


def padded_to(value: Mapping[str, Any], remainder: int) -> bytes:
    """``value`` as JSON of a length whose remainder modulo 3 is ``remainder``.

    Whitespace after the opening brace is valid JSON; a length not divisible by 3 leaves
    unused bits (and '=' padding) at the end of the base64url segment.
    """
    body = json_bytes(value)
    spaces = (remainder - len(body)) % 3
    return b"{" + b" " * spaces + body[1:]


def with_url_characters(value: dict[str, Any], member: str) -> bytes:
    """``value`` as JSON whose base64url spelling contains both '-' and '_'."""
    for prefix in ("", "a", "aa"):
        data = json_bytes({**value, member: prefix + "???>>>"})
        if "-" in b64(data) and "_" in b64(data):
            return data
    raise AssertionError("no alignment put '-' and '_' into the segment")


def rsa_token_with_url_characters(issuer: TestIssuer) -> str:
    """A valid token whose (random PSS) signature segment contains '-' and '_'."""
    for _ in range(50):
        token = signed(issuer)
        if "-" in parts(token)[2] and "_" in parts(token)[2]:
            return token
    raise AssertionError("50 signatures without both '-' and '_'")


def ecdsa_raw(issuer: TestIssuer, data: bytes, hash_alg: hashes.HashAlgorithm, size: int) -> bytes:
    """Raw r || s of ``issuer``'s key over ``data`` with any hash (alg mismatches)."""
    key = issuer.private_key
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hash_alg)))
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


# --- the threat classes ---------------------------------------------------------------


def _t01_alg_none(keys: Issuers) -> Iterator[HostileCase]:
    spellings: dict[str, object] = {
        "none": "none",
        "None": "None",
        "NONE": "NONE",
        "nOnE": "nOnE",
        "none-trailing-space": "none ",
        "none-leading-space": " none",
        "none-nul": "none\x00",
        "empty": "",
        "null": None,
        "list-none": ["none"],
        "list-ps384": ["PS384"],
        "empty-list": [],
        "object": {"alg": "PS384"},
        "zero": 0,
        "false": False,
        "ps384-lowercase": "ps384",
        "ps384-trailing-space": "PS384 ",
        "ps384-fullwidth": "\uff30\uff33\uff13\uff18\uff14",
    }
    issuer, registry = keys.rsa, keys.rsa_registry
    payload = segment(claims(issuer))
    for name, alg in spellings.items():
        header = segment({"alg": alg, "typ": "JWT"})
        unsigned = f"{header}.{payload}"
        yield HostileCase(
            f"01-alg-{name}-empty-signature", unsigned + ".", Reason.malformed, registry
        )
        yield HostileCase(
            f"01-alg-{name}-junk-signature",
            unsigned + ".AAAA",
            Reason.unsupported_algorithm,
            registry,
        )
        # Even the trusted key's own signature over the input does not make the alg acceptable.
        yield HostileCase(
            f"01-alg-{name}-trusted-signature",
            sign_segments(issuer, header, payload),
            Reason.unsupported_algorithm,
            registry,
        )
    yield HostileCase("01-alg-missing", signed(issuer, {"typ": "JWT"}), Reason.malformed, registry)


def public_key_encodings(issuer: TestIssuer) -> dict[str, bytes]:
    """The trusted public key in every encoding a naive HMAC verifier might take as secret."""
    public = issuer.private_key.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    pem = public.public_bytes(serialization.Encoding.PEM, spki)
    numbers = public.public_numbers()
    jwk = {
        "kty": "RSA",
        "n": b64(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
        "e": b64(numbers.e.to_bytes(3, "big")),
    }
    return {
        "pem-lf": pem,
        "pem-crlf": pem.replace(b"\n", b"\r\n"),
        "pem-one-line": pem.replace(b"\n", b""),
        "pem-no-final-newline": pem.rstrip(b"\n"),
        "pem-body-only": b"".join(pem.splitlines()[1:-1]),
        "der": public.public_bytes(serialization.Encoding.DER, spki),
        "pkcs1-pem": public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.PKCS1
        ),
        "pkcs1-der": public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.PKCS1
        ),
        "openssh": public.public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        ),
        "jwk": json_bytes(jwk),
        "jwks": json_bytes({"keys": [jwk]}),
    }


HMAC_HASHES = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


def _t02_hmac_with_public_key(keys: Issuers) -> Iterator[HostileCase]:
    issuer = keys.rsa
    payload = segment(claims(issuer))
    for encoding, secret in public_key_encodings(issuer).items():
        for alg, digest in HMAC_HASHES.items():
            signing = f"{segment({'alg': alg, 'typ': 'JWT'})}.{payload}"
            # A real HMAC keyed with the public key: a naive verifier would accept it.
            mac = hmac.new(secret, signing.encode("ascii"), digest).digest()
            yield HostileCase(
                f"02-{alg}-keyed-with-{encoding}",
                f"{signing}.{b64(mac)}",
                Reason.unsupported_algorithm,
                keys.rsa_registry,
            )


def _t03_algorithm_key_mismatch(keys: Issuers) -> Iterator[HostileCase]:
    rsa_key = keys.rsa.private_key
    for alg in ("RS256", "RS384", "RS512", "PS256", "PS512"):
        # Genuinely signed by the trusted RSA key, but with an algorithm it is not pinned to.
        other_alg = TestIssuer(rsa_key, alg, TRUSTED)
        yield HostileCase(
            f"03-{alg}-against-ps384-only-key",
            signed(other_alg),
            Reason.unsupported_algorithm,
            keys.rsa_registry,
        )
    p384 = keys.ecdsa["ES384"]
    es384_registry = keys.ecdsa_registries["ES384"]
    for alg, digest in (("ES256", hashes.SHA256()), ("ES512", hashes.SHA512())):
        # OpenSSL would verify a P-384 key over SHA-256 happily; the alg must bind the curve.
        header = segment(header_for(p384, alg=alg))
        payload = segment(claims(p384))
        signature = ecdsa_raw(p384, f"{header}.{payload}".encode("ascii"), digest, 48)
        yield HostileCase(
            f"03-{alg}-with-p384-key",
            f"{header}.{payload}.{b64(signature)}",
            Reason.unsupported_algorithm,
            es384_registry,
        )
    header = segment(header_for(p384))
    payload = segment(claims(p384))
    signature = ecdsa_raw(p384, f"{header}.{payload}".encode("ascii"), hashes.SHA256(), 48)
    yield HostileCase(
        "03-ES384-header-over-sha256",
        f"{header}.{payload}.{b64(signature)}",
        Reason.bad_signature,
        es384_registry,
    )
    yield HostileCase(
        "03-ES256-token-against-p384-key",
        signed(keys.ecdsa["ES256"]),
        Reason.unsupported_algorithm,
        es384_registry,
    )
    yield HostileCase(
        "03-EdDSA-token-against-rsa-key",
        signed(keys.eddsa),
        Reason.unsupported_algorithm,
        keys.rsa_registry,
    )
    yield HostileCase(
        "03-ES384-token-against-rsa-key",
        signed(p384),
        Reason.unsupported_algorithm,
        keys.rsa_registry,
    )
    yield HostileCase(
        "03-PS384-token-against-ec-key",
        signed(keys.rsa),
        Reason.unsupported_algorithm,
        es384_registry,
    )
    yield HostileCase(
        "03-PS384-token-against-ed25519-key",
        signed(keys.rsa),
        Reason.unsupported_algorithm,
        keys.eddsa_registry,
    )


def _t04_psychic_ecdsa(keys: Issuers) -> Iterator[HostileCase]:
    for alg, order in ORDERS.items():
        issuer, registry, size = keys.ecdsa[alg], keys.ecdsa_registries[alg], COORDINATE_SIZES[alg]
        token = signed(issuer)
        genuine = signature_of(token)
        r, s = genuine[:size], genuine[size:]

        def raw(value: int, width: int = size) -> bytes:
            return value.to_bytes(width, "big")

        yield HostileCase(
            f"04-{alg}-r-s-zero",
            with_signature(token, bytes(2 * size)),
            Reason.bad_signature,
            registry,
        )
        yield HostileCase(
            f"04-{alg}-r-s-order",
            with_signature(token, raw(order) * 2),
            Reason.bad_signature,
            registry,
        )
        yield HostileCase(
            f"04-{alg}-all-ones",
            with_signature(token, b"\xff" * 2 * size),
            Reason.bad_signature,
            registry,
        )
        for label, value in (
            ("0", 0),
            ("1", 1),
            ("n-1", order - 1),
            ("n", order),
            ("n+1", order + 1),
        ):
            yield HostileCase(
                f"04-{alg}-r-{label}",
                with_signature(token, raw(value) + s),
                Reason.bad_signature,
                registry,
            )
            yield HostileCase(
                f"04-{alg}-s-{label}",
                with_signature(token, r + raw(value)),
                Reason.bad_signature,
                registry,
            )


def _t06_signature_length(keys: Issuers) -> Iterator[HostileCase]:
    for alg, issuer in keys.ecdsa.items():
        registry, size = keys.ecdsa_registries[alg], COORDINATE_SIZES[alg]
        token = signed(issuer)
        genuine = signature_of(token)
        key = issuer.private_key
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        der = key.sign(signing_input(token), ec.ECDSA(EC_HASHES[alg]()))
        padded = b"\x00" + genuine[:size] + b"\x00" + genuine[size:]
        r, s = genuine[:size], genuine[size:]
        for name, signature in (
            # r || 00 || s: the same integers to a check that reads s as "the rest", so only
            # an exact length test (not a minimum) refuses it.
            ("stretched-r-00-s", r + b"\x00" + s),
            ("stretched-r-0000-s", r + b"\x00\x00" + s),
            ("stretched-r-00-s-00", r + b"\x00" + s + b"\x00"),
            ("der", der),
            ("one-byte-short", genuine[:-1]),
            ("one-byte-long", genuine + b"\x00"),
            ("leading-zero", b"\x00" + genuine),
            ("coordinates-zero-padded", padded),
            ("r-only", genuine[:size]),
            ("doubled", genuine * 2),
            ("one-byte", genuine[:1]),
        ):
            yield HostileCase(
                f"06-{alg}-{name}", with_signature(token, signature), Reason.bad_signature, registry
            )
    token = signed(keys.rsa)
    genuine = signature_of(token)
    rsa_public = keys.rsa.private_key.public_key()
    assert isinstance(rsa_public, rsa.RSAPublicKey)
    for name, signature in (
        # A leading zero byte is the same integer: a verifier that converts first accepts it.
        ("leading-zero", b"\x00" + genuine),
        ("one-byte-short", genuine[1:]),
        ("last-byte-dropped", genuine[:-1]),
        ("trailing-zero", genuine + b"\x00"),
        ("doubled", genuine * 2),
        ("one-byte", genuine[:1]),
        ("all-zero", bytes(len(genuine))),
        ("modulus", rsa_public.public_numbers().n.to_bytes(256, "big")),
    ):
        yield HostileCase(
            f"06-RS-{name}",
            with_signature(token, signature),
            Reason.bad_signature,
            keys.rsa_registry,
        )
    yield HostileCase(
        "06-PS384-ecdsa-sized-signature",
        with_signature(token, genuine[:96]),
        Reason.bad_signature,
        keys.rsa_registry,
    )


def _t07_base64(keys: Issuers) -> Iterator[HostileCase]:
    issuer, registry = keys.rsa, keys.rsa_registry
    malformed = Reason.malformed

    def case(name: str, token: str, reason: Reason = malformed) -> HostileCase:
        return HostileCase(f"07-{name}", token, reason, registry)

    token = rsa_token_with_url_characters(issuer)
    header, payload, signature = parts(token)
    yield case(
        "signature-standard-alphabet", f"{header}.{payload}.{to_standard_alphabet(signature)}"
    )
    url_header = with_url_characters(header_for(issuer), "x")
    url_payload = with_url_characters(claims(issuer), "note")
    url_token = sign_segments(issuer, b64(url_header), b64(url_payload))
    h, p, s = parts(url_token)
    yield case("header-standard-alphabet", sign_segments(issuer, to_standard_alphabet(h), p))
    # Unsigned respelling of the payload breaks the signature; a signed one is still refused.
    yield case(
        "payload-standard-alphabet-unsigned",
        f"{h}.{to_standard_alphabet(p)}.{s}",
        Reason.bad_signature,
    )
    yield case(
        "payload-standard-alphabet-signed", sign_segments(issuer, h, to_standard_alphabet(p))
    )
    for char_name, char in (
        ("space", " "),
        ("newline", "\n"),
        ("crlf", "\r\n"),
        ("tab", "\t"),
        ("bang", "!"),
        ("star", "*"),
        ("percent-encoded-padding", "%3D"),
        ("nul", "\x00"),
    ):
        middle = len(signature) // 2
        yield case(
            f"signature-{char_name}",
            f"{header}.{payload}.{signature[:middle]}{char}{signature[middle:]}",
        )
        yield case(
            f"header-{char_name}", sign_segments(issuer, header[:8] + char + header[8:], payload)
        )
        yield case(
            f"payload-{char_name}-signed",
            sign_segments(issuer, header, payload[:8] + char + payload[8:]),
        )
    # A length of 4k+1 characters encodes no byte string.
    yield case("signature-length-4k+1", f"{header}.{payload}.{signature}AAA")
    truncated = signature[: len(signature) - (len(signature) - 1) % 4]
    yield case("signature-length-4k+1-truncated", f"{header}.{payload}.{truncated}")
    yield case(
        "header-length-4k+1",
        sign_segments(issuer, header + "A" * ((1 - len(header)) % 4 or 4), payload),
    )
    yield case(
        "payload-length-4k+1-signed",
        sign_segments(issuer, header, payload + "A" * ((1 - len(payload)) % 4 or 4)),
    )
    # Non-zero unused bits: '...Xk' and '...Xl' decode to the same bytes in lenient decoders.
    yield case("signature-unused-bits", f"{header}.{payload}.{set_unused_bits(signature)}")
    for remainder in (1, 2):
        odd_header = b64(padded_to(header_for(issuer), remainder))
        odd_payload = b64(padded_to(claims(issuer), remainder))
        yield case(
            f"header-unused-bits-{remainder}",
            sign_segments(issuer, set_unused_bits(odd_header), payload),
        )
        yield case(
            f"payload-unused-bits-{remainder}-signed",
            sign_segments(issuer, header, set_unused_bits(odd_payload)),
        )
        # Signed in its canonical spelling, sent in the other: the signing input differs.
        odd_signature = parts(sign_segments(issuer, header, odd_payload))[2]
        yield case(
            f"payload-unused-bits-{remainder}-unsigned",
            f"{header}.{set_unused_bits(odd_payload)}.{odd_signature}",
            Reason.bad_signature,
        )
    # Padding: only the canonical form (test_threats checks that it is accepted).
    assert len(signature) % 4 == 2  # RSA-2048: 256 bytes, canonical padding '=='
    for name, spelled in (
        ("one-of-two", signature + "="),
        ("three", signature + "==="),
        ("four", signature + "===="),
        ("inside", signature[:12] + "==" + signature[12:]),
        ("then-data", signature + "==AA"),
        ("only", "===="),
    ):
        yield case(f"signature-padding-{name}", f"{header}.{payload}.{spelled}")
    short_header = b64(padded_to(header_for(issuer), 1))  # 4k+2 characters: canonical '=='
    full_header = b64(padded_to(header_for(issuer), 0))  # 4k characters: no padding at all
    for name, spelled in (
        ("header-padding-one-of-two", short_header + "="),
        ("header-padding-three", short_header + "==="),
        ("header-padding-on-full-group", full_header + "===="),
        ("header-padding-single-on-full-group", full_header + "="),
    ):
        yield case(name, sign_segments(issuer, spelled, payload))


def embedded_key_headers(keys: Issuers) -> dict[str, dict[str, Any]]:
    attacker_key = keys.attacker.private_key
    assert isinstance(attacker_key, rsa.RSAPrivateKey)
    attacker_public = attacker_key.public_key()
    numbers = attacker_public.public_numbers()
    jwk = {
        "kty": "RSA",
        "n": b64(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
        "e": "AQAB",
    }
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "attacker")])
    start = datetime(2026, 1, 1, tzinfo=UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(attacker_public)
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=365))
        .sign(attacker_key, hashes.SHA256())
    )
    x5c = base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode("ascii")
    return {
        "jwk": {"jwk": jwk},
        "jku": {"jku": "https://attacker.example/.well-known/jwks.json"},
        "x5u": {"x5u": "https://attacker.example/cert.pem"},
        "x5c": {"x5c": [x5c]},
        "all": {"jwk": jwk, "jku": "https://attacker.example/jwks", "x5c": [x5c]},
    }


def _t08_embedded_keys(keys: Issuers) -> Iterator[HostileCase]:
    attacker, registry = keys.attacker, keys.rsa_registry
    pinned = Policy(key_fingerprint=TRUSTED)
    for name, members in embedded_key_headers(keys).items():
        # Signed by the attacker's key, which the header offers as the one to use.
        forged = signed(attacker, header_for(attacker, **members), claims(attacker))
        yield HostileCase(f"08-{name}-attacker-signed", forged, Reason.bad_signature, registry)
        yield HostileCase(
            f"08-{name}-attacker-signed-pinned-issuer",
            forged,
            Reason.bad_signature,
            registry,
            pinned,
        )
    attacker_thumbprint = next(iter(attacker.registry())).thumbprint
    with_kid = header_for(attacker, kid=attacker_thumbprint, **embedded_key_headers(keys)["jwk"])
    # The kid names the embedded key, which no registry holds: a hint that matches nothing,
    # so the expected issuer's own keys are tried, and the attacker's signature fails them.
    yield HostileCase(
        "08-jwk-and-its-kid-attacker-signed",
        signed(attacker, with_kid),
        Reason.bad_signature,
        registry,
    )
    yield HostileCase(
        "08-jwk-and-its-kid-attacker-signed-pinned-issuer",
        signed(attacker, with_kid),
        Reason.bad_signature,
        keys.two_issuers,
        pinned,
    )
    # Several issuers and no expected one: nothing to fall back to.
    yield HostileCase(
        "08-jwk-and-its-kid-attacker-signed-two-issuers",
        signed(attacker, with_kid),
        Reason.unknown_key,
        keys.two_issuers,
    )
    yield HostileCase(
        "08-kid-trusted-fingerprint-attacker-signed",
        signed(attacker, header_for(attacker, kid=TRUSTED)),
        Reason.bad_signature,
        registry,
    )
    secret = b"attacker chosen secret"
    oct_header = segment({"alg": "HS256", "jwk": {"kty": "oct", "k": b64(secret)}})
    payload = segment(claims(attacker))
    mac = hmac.new(secret, f"{oct_header}.{payload}".encode("ascii"), hashlib.sha256).digest()
    yield HostileCase(
        "08-jwk-oct-hs256",
        f"{oct_header}.{payload}.{b64(mac)}",
        Reason.unsupported_algorithm,
        registry,
    )


def _t09_kid_injection(keys: Issuers) -> Iterator[HostileCase]:
    issuer, registry = keys.rsa, keys.two_issuers

    def with_kid(kid: object) -> str:
        return signed(issuer, {"alg": "PS384", "typ": "JWT", "kid": kid})

    unknown = {
        "path-traversal": "../../../../etc/passwd",
        "absolute-path": "/dev/null",
        "windows-path": "..\\..\\keys\\trusted.pem",
        "sql": "' OR '1'='1",
        "sql-drop": "x'; DROP TABLE keys;--",
        "nosql-string": '{"$ne": null}',
        "url": "https://attacker.example/key.pem",
        "glob": "*",
        "regex": ".*",
        "nul-suffix": TRUSTED + "\x00",
        "nul-prefix": "\x00" + TRUSTED,
        "nul-only": "\x00",
        "cyrillic-a": TRUSTED.replace("aws", "\u0430ws"),
        "fullwidth-colon": TRUSTED.replace(":", "\uff1a"),
        "zwj": TRUSTED + "\u200d",
        "trailing-space": TRUSTED + " ",
        "uppercase": TRUSTED.upper(),
        "prefix": TRUSTED[:-1],
        "ansi-escape": "\x1b[31mred",
        "newline": "k\nid",
        "longest-allowed": "k" * 256,
    }
    attacker = keys.attacker
    for name, kid in unknown.items():
        # Several issuers, no policy: an unknown kid says nothing about whose token it is.
        yield HostileCase(f"09-kid-{name}", with_kid(kid), Reason.unknown_key, registry)
        # One issuer: the kid is a hint that matches nothing, the issuer's own key is tried,
        # and it refuses a forgery whatever the kid says.
        forged = signed(attacker, {"alg": "PS384", "typ": "JWT", "kid": kid})
        yield HostileCase(
            f"09-kid-{name}-attacker-signed-one-issuer",
            forged,
            Reason.bad_signature,
            keys.rsa_registry,
        )
    not_a_kid: dict[str, object] = {
        "empty": "",
        "too-long": "k" * 257,
        "int": 1,
        "zero": 0,
        "float": 1.5,
        "true": True,
        "false": False,
        "list": [TRUSTED],
        "empty-list": [],
        "object": {"$ne": None},
    }
    for name, value in not_a_kid.items():
        yield HostileCase(f"09-kid-{name}", with_kid(value), Reason.malformed, registry)
    # kid "null" is not absent: a kid that is not a string is malformed.
    yield HostileCase("09-kid-null", with_kid(None), Reason.malformed, registry)
    yield HostileCase("09-kid-null-one-issuer", with_kid(None), Reason.malformed, keys.rsa_registry)
    huge = with_kid("k" * 100_000)
    yield HostileCase("09-kid-100kb", huge, Reason.too_large, registry)
    yield HostileCase(
        "09-kid-100kb-large-limit", huge, Reason.malformed, registry, max_token_size=LARGE_LIMIT
    )
    # The kid names another trusted issuer: that issuer's key is tried, never the signer's.
    second_key = next(iter(keys.second.registry())).thumbprint
    yield HostileCase(
        "09-kid-other-issuer", with_kid(SECOND), Reason.unsupported_algorithm, registry
    )
    yield HostileCase(
        "09-kid-other-thumbprint", with_kid(second_key), Reason.unsupported_algorithm, registry
    )
    # Policy pins another issuer: the kid names the signer's (trusted) key, but only the
    # pinned issuer's keys are candidates, and they are ES384 keys: refused on the alg.
    yield HostileCase(
        "09-kid-outside-pinned-issuer",
        with_kid(TRUSTED),
        Reason.unsupported_algorithm,
        registry,
        Policy(key_fingerprint=SECOND),
    )
    yield from _kid_of_another_issuer(keys)


def _kid_of_another_issuer(keys: Issuers) -> Iterator[HostileCase]:
    """Tokens of THIRD, a trusted PS384 issuer, judged where TRUSTED is expected.

    THIRD's key would verify every one of them, so bad_signature proves it was never
    tried: the fallback reaches only the expected issuer's keys, whatever the kid says.
    """
    third, registry = keys.third, keys.rsa_pair
    expect_trusted = Policy(key_fingerprint=TRUSTED)
    trusted_thumbprint = next(iter(keys.rsa_registry)).thumbprint
    third_thumbprint = next(iter(third.registry())).thumbprint
    kids: dict[str, str | None] = {
        "unknown": "arn:aws:kms:us-east-1:333344445555:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "third-fingerprint": THIRD,
        "third-thumbprint": third_thumbprint,
        "trusted-fingerprint": TRUSTED,
        "trusted-thumbprint": trusted_thumbprint,
        "absent": None,
    }
    for name, kid in kids.items():
        header = header_for(third) if kid is None else header_for(third, kid=kid)
        yield HostileCase(
            f"09-third-issuer-kid-{name}-expecting-trusted",
            signed(third, header, claims(third)),
            Reason.bad_signature,
            registry,
            expect_trusted,
        )
    # No expected issuer: an unknown kid (or none) cannot choose between the two.
    for name in ("unknown", "absent"):
        kid = kids[name]
        header = header_for(third) if kid is None else header_for(third, kid=kid)
        yield HostileCase(
            f"09-third-issuer-kid-{name}-no-policy",
            signed(third, header, claims(third)),
            Reason.unknown_key,
            registry,
        )


def _header_cases(
    keys: Issuers, threat: int, members: Iterable[tuple[str, dict[str, Any]]], reason: Reason
) -> Iterator[HostileCase]:
    issuer = keys.rsa
    for name, extra in members:
        token = signed(issuer, header_for(issuer, **extra))
        yield HostileCase(f"{threat:02d}-{name}", token, reason, keys.rsa_registry)


def _t10_crit(keys: Issuers) -> Iterator[HostileCase]:
    forms: list[tuple[str, dict[str, Any]]] = [
        ("crit-exp", {"crit": ["exp"]}),
        ("crit-b64", {"crit": ["b64"], "b64": True}),
        ("crit-empty-list", {"crit": []}),
        ("crit-string", {"crit": "exp"}),
        ("crit-object", {"crit": {}}),
        ("crit-null", {"crit": None}),
        ("crit-number", {"crit": 1}),
        ("crit-crit", {"crit": ["crit"]}),
        ("crit-unknown-present", {"crit": ["x-custom"], "x-custom": 1}),
        ("crit-many", {"crit": [f"x{i}" for i in range(100)]}),
    ]
    yield from _header_cases(keys, 10, forms, Reason.unsupported_header)


def _t11_unencoded_payload(keys: Issuers) -> Iterator[HostileCase]:
    forms: list[tuple[str, dict[str, Any]]] = [
        ("b64-false", {"b64": False}),
        ("b64-false-crit", {"b64": False, "crit": ["b64"]}),
        ("b64-true", {"b64": True}),
        ("b64-string-false", {"b64": "false"}),
        ("b64-zero", {"b64": 0}),
        ("b64-null", {"b64": None}),
    ]
    yield from _header_cases(keys, 11, forms, Reason.unsupported_header)
    # RFC 7797 signs the raw payload: the signing input carries the JSON itself.
    issuer = keys.rsa
    header = segment({"alg": "PS384", "b64": False, "crit": ["b64"]})
    raw_payload = json_bytes(claims(issuer)).decode("utf-8")
    signature = issuer.sign_bytes(f"{header}.{raw_payload}".encode())
    yield HostileCase(
        "11-b64-false-detached", f"{header}..{b64(signature)}", Reason.malformed, keys.rsa_registry
    )


def _t12_duplicate_members(keys: Issuers) -> Iterator[HostileCase]:
    issuer = keys.rsa
    headers = {
        "alg-none-then-ps384": b'{"alg":"none","alg":"PS384"}',
        "alg-ps384-then-none": b'{"alg":"PS384","alg":"none"}',
        "alg-same-twice": b'{"alg":"PS384","alg":"PS384"}',
        "alg-escaped-twin": b'{"alg":"PS384","\\u0061lg":"none"}',
        "kid-twice": b'{"alg":"PS384","kid":"a","kid":"b"}',
        "typ-twice": b'{"alg":"PS384","typ":"JWT","typ":"JWT"}',
        "crit-twice": b'{"alg":"PS384","crit":["x"],"crit":[]}',
        "nested-object": b'{"alg":"PS384","x":{"a":1,"a":2}}',
    }
    for name, header in headers.items():
        yield HostileCase(
            f"12-header-{name}", signed(issuer, header), Reason.malformed, keys.rsa_registry
        )
    # A saved response naming two SignedTokens: which one would the product have read?
    forged, genuine = signed(keys.attacker), signed(issuer)
    twice = f'{{"SignedToken":"{forged}","SignedToken":"{genuine}"}}'
    yield HostileCase("12-response-signed-token-twice", twice, Reason.malformed, keys.rsa_registry)
    node_twice = f'{{"SignedToken":"{genuine}","NodeId":"node-1","NodeId":"{NODE_ID}"}}'
    yield HostileCase(
        "12-response-node-id-twice", node_twice.encode(), Reason.malformed, keys.rsa_registry
    )


def _t13_nesting(keys: Issuers) -> Iterator[HostileCase]:
    issuer, registry = keys.rsa, keys.rsa_registry
    for depth in (1_400, 100_000):
        nested = b"[" * depth + b"]" * depth
        header = with_raw_member(header_for(issuer), "x", nested)
        token = signed(issuer, header)
        limit = None if len(token) <= 64 * 1024 else LARGE_LIMIT
        yield HostileCase(
            f"13-header-arrays-{depth}", token, Reason.malformed, registry, max_token_size=limit
        )
        payload = with_raw_member(claims(issuer), "x", nested)
        token = signed(issuer, None, payload)
        limit = None if len(token) <= 64 * 1024 else LARGE_LIMIT
        yield HostileCase(
            f"13-payload-arrays-{depth}",
            token,
            Reason.invalid_claims,
            registry,
            max_token_size=limit,
        )
    # 17 containers, each a real one: the object, x5c, and 15 arrays inside it.
    many = header_for(issuer, x5c=[[] for _ in range(15)])
    yield HostileCase("13-header-17-containers", signed(issuer, many), Reason.malformed, registry)
    objects = b'{"a":' * 1_100 + b"1" + b"}" * 1_100
    yield HostileCase(
        "13-payload-objects-1100",
        signed(issuer, None, with_raw_member(claims(issuer), "x", objects)),
        Reason.invalid_claims,
        registry,
    )
    yield HostileCase(
        "13-payload-bare-arrays",
        signed(issuer, None, b"[" * 5_000 + b"]" * 5_000),
        Reason.invalid_claims,
        registry,
    )
    yield HostileCase(
        "13-header-100000-default-limit",
        signed(issuer, with_raw_member(header_for(issuer), "x", b"[" * 100_000 + b"]" * 100_000)),
        Reason.too_large,
        registry,
    )
    yield from _nested_responses(keys)


def deep_value(depth: int, kind: str) -> Any:
    """A Python value nested ``depth`` levels (built in a loop: no recursion here)."""
    value: Any = "x"
    for _ in range(depth):
        value = [value] if kind == "list" else {"a": value}
    return value


def _nested_responses(keys: Issuers) -> Iterator[HostileCase]:
    """Nesting in the unsigned response around a genuine token, through every input form.

    The response is not signed, so anyone can nest it: as JSON text (up to the document
    limit, 4 x 64 KiB + 64 KiB) it must be refused as malformed by the parser, and as a
    dict (built by the caller, no parser involved) every member tokenverify reads must
    be refused for its type, never walked.
    """
    issuer, registry = keys.rsa, keys.rsa_registry
    genuine = response(issuer, checkout_metadata={"Mac": "ABCDEFGHI"})
    text = json.dumps(genuine)
    for depth in (5_000, 150_000):  # 150,000 pairs of brackets: 300 KB, within the limit
        arrays = text[:-1] + ',"Vendor":' + "[" * depth + "]" * depth + "}"
        yield HostileCase(f"13-response-json-arrays-{depth}", arrays, Reason.malformed, registry)
        yield HostileCase(
            f"13-response-json-bytes-arrays-{depth}", arrays.encode(), Reason.malformed, registry
        )
    objects = text[:-1] + ',"Vendor":' + '{"a":' * 20_000 + "1" + "}" * 20_000 + "}"
    yield HostileCase("13-response-json-objects-20000", objects, Reason.malformed, registry)
    nested_token = '{"SignedToken":' + "[" * 20_000 + '"x"' + "]" * 20_000 + "}"
    yield HostileCase(
        "13-response-json-nested-signed-token", nested_token, Reason.malformed, registry
    )
    bare_brackets = "[" * 150_000  # an object that opens arrays and never closes them
    yield HostileCase(
        "13-json-text-unclosed-arrays", "{" + bare_brackets, Reason.malformed, registry
    )
    for member, reason in (
        ("SignedToken", Reason.malformed),
        ("IssuedAt", Reason.envelope_mismatch),
        ("Expiration", Reason.envelope_mismatch),
        ("EntitlementsAllowed", Reason.envelope_mismatch),
        ("CheckoutMetadata", Reason.envelope_mismatch),
    ):
        for kind in ("list", "dict"):
            yield HostileCase(
                f"13-response-dict-{member}-{kind}-100000",
                {**genuine, member: deep_value(100_000, kind)},
                reason,
                registry,
            )


def _t14_huge(keys: Issuers) -> Iterator[HostileCase]:
    issuer, registry = keys.rsa, keys.rsa_registry
    token = signed(issuer)
    header, _, signature = parts(token)
    megabytes = "A" * (3 << 20)
    yield HostileCase("14-three-megabytes-of-A", megabytes, Reason.too_large, registry)
    yield HostileCase(
        "14-token-shaped-3mb", f"{header}.{megabytes}.{signature}", Reason.too_large, registry
    )
    yield HostileCase(
        "14-token-shaped-3mb-bytes",
        f"{header}.{megabytes}.{signature}".encode(),
        Reason.too_large,
        registry,
    )
    yield HostileCase("14-dots-3mb", "." * (3 << 20), Reason.too_large, registry)
    # A header just over its limit (4k+1 characters spell nothing), inside the token limit.
    over = header_of_segment_length(issuer, HEADER_SEGMENT_LIMIT + 2)
    yield HostileCase(
        "14-header-one-over-its-limit",
        sign_segments(issuer, over, segment(claims(issuer))),
        Reason.malformed,
        registry,
    )
    yield HostileCase(
        "14-header-over-its-limit-attacker-signed",
        sign_segments(keys.attacker, over, segment(claims(issuer))),
        Reason.malformed,
        registry,
    )
    big_signed = signed(issuer, None, claims(issuer, note="x" * (2 << 20)))
    yield HostileCase("14-signed-2mb-payload", big_signed, Reason.too_large, registry)
    big_response = response(issuer)
    big_response["SignedToken"] = big_signed
    yield HostileCase("14-response-with-2mb-token", big_response, Reason.too_large, registry)
    yield HostileCase("14-response-json-2mb", json.dumps(big_response), Reason.too_large, registry)
    yield HostileCase(
        "14-response-json-padded-with-whitespace",
        json.dumps(response(issuer)) + " " * (3 << 20),
        Reason.too_large,
        registry,
    )
    # Ten megabytes in every form a caller can hand over: refused on length alone.
    ten = f"{header}.{'A' * TEN_MEGABYTES}.{signature}"
    yield HostileCase("14-ten-megabytes-str", ten, Reason.too_large, registry)
    yield HostileCase("14-ten-megabytes-bytes", ten.encode(), Reason.too_large, registry)
    yield HostileCase(
        "14-ten-megabytes-bytearray", bytearray(ten.encode()), Reason.too_large, registry
    )
    yield HostileCase(
        "14-ten-megabytes-memoryview", memoryview(ten.encode()), Reason.too_large, registry
    )
    yield HostileCase(
        "14-ten-megabytes-non-ascii", "\u00e9" * TEN_MEGABYTES, Reason.too_large, registry
    )
    yield HostileCase(
        "14-ten-megabytes-response-dict",
        {**response(issuer), "SignedToken": ten},
        Reason.too_large,
        registry,
    )
    yield HostileCase(
        "14-ten-megabytes-response-json",
        json.dumps({**response(issuer), "SignedToken": ten}),
        Reason.too_large,
        registry,
    )
    yield HostileCase(
        "14-ten-megabytes-of-whitespace-around-a-token",
        " " * TEN_MEGABYTES + token,
        Reason.too_large,
        registry,
    )
    # The limit is configurable: one character over it is too large.
    yield HostileCase(
        "14-one-over-custom-limit", token, Reason.too_large, registry, max_token_size=len(token) - 1
    )
    yield HostileCase("14-tiny-limit", token, Reason.too_large, registry, max_token_size=16)


#: The header segment limit (characters) the cases are built around, written out here
#: rather than borrowed from src: a chain of a few RSA-4096 certificates must fit.
HEADER_SEGMENT_LIMIT = 16 * 1024


def header_of_segment_length(issuer: TestIssuer, length: int) -> str:
    """A header segment of exactly ``length`` characters (not 4k+1): the issuer's header
    with an x5c of certificate-sized base64 strings (never read: any content will do)."""
    assert length % 4 != 1, "no byte string has a base64url spelling of 4k+1 characters"
    wanted = length * 3 // 4  # JSON bytes whose unpadded base64url has ``length`` characters
    blobs = [base64.b64encode(bytes([n]) * 1400).decode("ascii") for n in range(3)]
    base = len(json_bytes(header_for(issuer, x5c=[*blobs, ""])))
    encoded = segment(header_for(issuer, x5c=[*blobs, "A" * (wanted - base)]))
    assert len(encoded) == length, (len(encoded), length)
    return encoded


def _t15_jwe_and_zip(keys: Issuers) -> Iterator[HostileCase]:
    issuer, registry = keys.rsa, keys.rsa_registry
    jwe_header = segment({"alg": "RSA-OAEP", "enc": "A256GCM"})
    jwe = f"{jwe_header}.{b64(bytes(256))}.{b64(bytes(12))}.{b64(b'ciphertext')}.{b64(bytes(16))}"
    yield HostileCase("15-jwe-compact", jwe, Reason.malformed, registry)
    yield HostileCase(
        "15-jwe-empty-key",
        f"{jwe_header}..{b64(bytes(12))}.{b64(b'c')}.{b64(bytes(16))}",
        Reason.malformed,
        registry,
    )
    yield HostileCase("15-five-junk-segments", "a.b.c.d.e", Reason.malformed, registry)
    for name, extra in (
        ("enc", {"enc": "A256GCM"}),
        ("enc-null", {"enc": None}),
        ("zip-def", {"zip": "DEF"}),
        ("zip-empty", {"zip": ""}),
        ("zip-and-enc", {"zip": "DEF", "enc": "A128CBC-HS256"}),
    ):
        yield HostileCase(
            f"15-{name}",
            signed(issuer, header_for(issuer, **extra)),
            Reason.unsupported_header,
            registry,
        )
    # A deflate bomb behind zip: refused on the header, never inflated.
    bomb = zlib.compress(b" " * (8 << 20), 9)
    yield HostileCase(
        "15-zip-deflate-bomb",
        signed(issuer, header_for(issuer, zip="DEF"), bomb),
        Reason.unsupported_header,
        registry,
    )
    for alg in (
        "RSA-OAEP",
        "RSA-OAEP-256",
        "RSA1_5",
        "dir",
        "A256KW",
        "ECDH-ES",
        "PBES2-HS256+A128KW",
    ):
        yield HostileCase(
            f"15-alg-{alg}",
            signed(issuer, header_for(issuer, alg=alg)),
            Reason.unsupported_algorithm,
            registry,
        )


def _t16_structure(keys: Issuers) -> Iterator[HostileCase]:
    issuer, registry = keys.rsa, keys.rsa_registry
    token = signed(issuer)
    header, payload, signature = parts(token)
    flattened = {"protected": header, "payload": payload, "signature": signature}
    general = {"payload": payload, "signatures": [{"protected": header, "signature": signature}]}
    structures: dict[str, object] = {
        "empty-string": "",
        "whitespace-only": "  \n ",
        "one-segment": header,
        "two-segments": f"{header}.{payload}",
        "four-segments": f"{token}.{signature}",
        "six-segments": f"{token}.{token}",
        "trailing-dot": token + ".",
        "leading-dot": "." + token,
        "double-dot": f"{header}..{payload}.{signature}",
        "dots-only": "..",
        "empty-header": f".{payload}.{signature}",
        "empty-payload": sign_segments(issuer, header, ""),
        "empty-signature": f"{header}.{payload}.",
        "json-flattened-text": json.dumps(flattened),
        "json-general-text": json.dumps(general),
        "json-flattened-dict": flattened,
        "json-general-bytes": json.dumps(general).encode(),
        "signedtoken-is-json-serialization": {"SignedToken": flattened},
        "signedtoken-is-number": {"SignedToken": 42},
        "signedtoken-missing": {"LicenseArn": LICENSE_ARN},
        "non-ascii-token": token[:10] + "é" + token[10:],
        "non-ascii-response-token": {"SignedToken": token + "é"},
        "nul-inside": token[:10] + "\x00" + token[10:],
        "int": 42,
        "none": None,
        "list": [token],
        "bytes-of-junk": bytes(range(256)),
        "header-not-json": sign_segments(issuer, b64(b"not json"), payload),
        "header-json-array": signed(issuer, b'["alg","PS384"]'),
        "header-json-string": signed(issuer, b'"PS384"'),
        "header-json-null": signed(issuer, b"null"),
        "header-empty-json": signed(issuer, b""),
        "header-trailing-garbage": signed(issuer, json_bytes(header_for(issuer)) + b"x"),
        "header-two-objects": signed(issuer, json_bytes(header_for(issuer)) * 2),
    }
    for name, source in structures.items():
        yield HostileCase(f"16-{name}", source, Reason.malformed, registry)
    for name, raw_payload in {
        "payload-not-json": b"not json",
        "payload-array": json_bytes([claims(issuer)]),
        "payload-string": b'"claims"',
        "payload-null": b"null",
        "payload-number": b"1",
        "payload-empty-object": b"{}",
        "payload-trailing-garbage": json_bytes(claims(issuer)) + b"x",
    }.items():
        yield HostileCase(
            f"16-{name}", signed(issuer, None, raw_payload), Reason.invalid_claims, registry
        )


#: typ values any string of which is accepted (RFC 7515 4.1.9: informational); see controls.
TYP_STRINGS = {
    "jwe": "JWE",
    "jws": "JWS",
    "at-jwt": "at+jwt",
    "jose-json": "JOSE+JSON",
    "empty": "",
    "padded": " JWT",
    "trailing-space": "JWT ",
}


def _t17_typ_cty(keys: Issuers) -> Iterator[HostileCase]:
    # A typ that is not a string is no typ at all.
    not_strings: list[tuple[str, dict[str, Any]]] = [
        ("typ-number", {"typ": 1}),
        ("typ-list", {"typ": ["JWT"]}),
        ("typ-object", {"typ": {}}),
        ("typ-true", {"typ": True}),
        ("typ-null", {"typ": None}),
    ]
    yield from _header_cases(keys, 17, not_strings, Reason.malformed)
    forms: list[tuple[str, dict[str, Any]]] = [
        ("cty-jwt", {"cty": "JWT"}),
        ("cty-json", {"cty": "json"}),
        ("cty-empty", {"cty": ""}),
        ("cty-null", {"cty": None}),
        # A typ of any value does not excuse a cty.
        ("cty-with-typ-jws", {"cty": "JWT", "typ": "JWS"}),
    ]
    yield from _header_cases(keys, 17, forms, Reason.unsupported_header)


def _without(value: Mapping[str, Any], *names: str) -> dict[str, Any]:
    return {key: item for key, item in value.items() if key not in names}


def _t18_numbers(keys: Issuers) -> Iterator[HostileCase]:
    issuer, registry = keys.rsa, keys.rsa_registry
    base = claims(issuer)
    bad_numbers = {
        "nan": b"NaN",
        "negative-nan": b"-NaN",
        "infinity": b"Infinity",
        "negative-infinity": b"-Infinity",
        "1e400": b"1e400",
        "negative-1e400": b"-1e400",
        "true": b"true",
        "false": b"false",
        "5000-digits": b"9" * 5000,
        "numeric-string": f'"{ISSUED_AT + TTL}"'.encode(),
        "1e20": b"1e20",
        "negative": b"-1",
        "max-epoch": b"253402300800",
        "list": f"[{ISSUED_AT + TTL}]".encode(),
        "object": f'{{"$numberLong":"{ISSUED_AT + TTL}"}}'.encode(),
        "hex": b"0x696A3850",
        "leading-zero": f"0{ISSUED_AT + TTL}".encode(),
        "leading-plus": f"+{ISSUED_AT + TTL}".encode(),
    }
    for name, raw in bad_numbers.items():
        exp_only = with_raw_member(_without(base, "expiration"), "exp", raw)
        yield HostileCase(
            f"18-exp-{name}", signed(issuer, None, exp_only), Reason.invalid_claims, registry
        )
        iat_only = with_raw_member(_without(base, "issuedAt"), "iat", raw)
        yield HostileCase(
            f"18-iat-{name}", signed(issuer, None, iat_only), Reason.invalid_claims, registry
        )
        nbf = with_raw_member(base, "nbf", raw)
        if name != "negative":  # nbf -1 ... is simply in the past
            yield HostileCase(
                f"18-nbf-{name}", signed(issuer, None, nbf), Reason.invalid_claims, registry
            )
    for name, raw in (
        ("negative-zero", b"-0"),
        ("negative-zero-float", b"-0.0"),
        ("zero", b"0"),
        ("null", b"null"),
    ):
        # 1970 (or nothing) as the expiry: before issuedAt, or missing altogether.
        exp_only = with_raw_member(_without(base, "expiration"), "exp", raw)
        yield HostileCase(
            f"18-exp-{name}", signed(issuer, None, exp_only), Reason.invalid_claims, registry
        )
    # Both spellings present and disagreeing.
    for name, extra in (("iat", {"iat": ISSUED_AT + 5}), ("exp", {"exp": ISSUED_AT + TTL + 5})):
        yield HostileCase(
            f"18-{name}-disagrees-with-iso",
            signed(issuer, None, {**base, **extra}),
            Reason.invalid_claims,
            registry,
        )
    for name, raw in (
        ("number", b"10"),
        ("float", b"10.0"),
        ("true", b"true"),
        ("1e400", b"1e400"),
        ("nan", b"NaN"),
        ("list", b'["10"]'),
    ):
        entitlement = b'[{"name":"Users","value":' + raw + b',"unit":"Count"}]'
        payload = with_raw_member(base, "entitlementsAllowed", entitlement)
        yield HostileCase(
            f"18-entitlement-value-{name}",
            signed(issuer, None, payload),
            Reason.invalid_claims,
            registry,
        )


def _t19_encoding(keys: Issuers) -> Iterator[HostileCase]:
    issuer, registry = keys.rsa, keys.rsa_registry
    header_json = json_bytes(header_for(issuer))
    payload_json = json_bytes(claims(issuer))
    strings = {
        "invalid-utf8": b'"node-\xff"',
        "truncated-utf8": b'"node-\xe2\x82"',
        "overlong-utf8": b'"node-\xc0\xae"',
        "latin1": b'"n\xf6de-7"',
        "cesu-surrogate": b'"node-\xed\xa0\x80"',
        "raw-nul": b'"node\x00-7"',
        "raw-newline": b'"node\n7"',
    }
    for name, raw in strings.items():
        yield HostileCase(
            f"19-header-{name}",
            signed(issuer, with_raw_member(header_for(issuer), "x", raw)),
            Reason.malformed,
            registry,
        )
        yield HostileCase(
            f"19-payload-{name}",
            signed(issuer, None, with_raw_member(claims(issuer), "nodeId", raw)),
            Reason.invalid_claims,
            registry,
        )
    for name, raw in (
        ("escaped-lone-high-surrogate", b'"\\ud800"'),
        ("escaped-lone-low-surrogate", b'"\\udc00x"'),
    ):
        yield HostileCase(
            f"19-header-{name}",
            signed(issuer, with_raw_member(header_for(issuer), "x", raw)),
            Reason.malformed,
            registry,
        )
        yield HostileCase(
            f"19-payload-{name}",
            signed(issuer, None, with_raw_member(claims(issuer), "nodeId", raw)),
            Reason.invalid_claims,
            registry,
        )
    header_text, payload_text = header_json.decode(), payload_json.decode()
    encodings: dict[str, Callable[[str], bytes]] = {
        "bom": lambda text: b"\xef\xbb\xbf" + text.encode("utf-8"),
        "utf16": lambda text: text.encode("utf-16"),
        "utf16-le": lambda text: text.encode("utf-16-le"),
        "utf16-be": lambda text: text.encode("utf-16-be"),
        "utf32": lambda text: text.encode("utf-32"),
    }
    for name, encode in encodings.items():
        yield HostileCase(
            f"19-header-{name}", signed(issuer, encode(header_text)), Reason.malformed, registry
        )
        yield HostileCase(
            f"19-payload-{name}",
            signed(issuer, None, encode(payload_text)),
            Reason.invalid_claims,
            registry,
        )


def _t20_confusables(keys: Issuers) -> Iterator[HostileCase]:
    issuer, registry = keys.rsa, keys.rsa_registry
    node_policy = Policy(node_id=NODE_ID)
    node_ids = {
        "cyrillic-o": "n\u043ede-7",
        "fullwidth-digit": "node-\uff17",
        "fullwidth-letters": "\uff4e\uff4f\uff44\uff45-7",
        "arabic-indic-digit": "node-\u0667",
        "superscript-digit": "node-\u2077",
        "zwj": "node-7\u200d",
        "zero-width-space": "node\u200b-7",
        "bom-prefix": "\ufeffnode-7",
        "trailing-space": "node-7 ",
        "leading-space": " node-7",
        "trailing-newline": "node-7\n",
        "nul-suffix": "node-7\x00",
        "capitalised": "Node-7",
        "uppercase": "NODE-7",
        "unicode-hyphen": "node\u20107",
        "minus-sign": "node\u22127",
        "zero-padded": "node-07",
        "combining-mark": "node-7\u0301",
        "empty": "",
    }
    for name, node_id in node_ids.items():
        token = signed(issuer, None, claims(issuer, nodeId=node_id))
        yield HostileCase(f"20-node-{name}", token, Reason.node_mismatch, registry, node_policy)
    # NFC vs NFD: the same text to a normalizing comparison, not to ours.
    nfc_policy = Policy(node_id="caf\u00e9")
    yield HostileCase(
        "20-node-nfd-vs-nfc",
        signed(issuer, None, claims(issuer, nodeId="cafe\u0301")),
        Reason.node_mismatch,
        registry,
        nfc_policy,
    )
    yield HostileCase(
        "20-node-absent",
        signed(issuer, None, claims(issuer, nodeId=None)),
        Reason.node_mismatch,
        registry,
        node_policy,
    )
    yield HostileCase(
        "20-node-number",
        signed(issuer, None, claims(issuer, nodeId=7)),
        Reason.invalid_claims,
        registry,
        node_policy,
    )
    license_policy = Policy(license_arn=LICENSE_ARN)
    for name, arn in {
        "cyrillic-a": LICENSE_ARN.replace("arn", "\u0430rn", 1),
        "uppercase": LICENSE_ARN.upper(),
        "trailing-space": LICENSE_ARN + " ",
        "fullwidth-digit": LICENSE_ARN.replace("1", "\uff11", 1),
    }.items():
        token = signed(issuer, None, claims(issuer, licenseArn=arn))
        yield HostileCase(
            f"20-license-{name}", token, Reason.license_mismatch, registry, license_policy
        )
    sku_policy = Policy(product_sku=PRODUCT_SKU)
    for name, sku in {
        "cyrillic-o": PRODUCT_SKU.replace("o", "\u043e"),
        "uppercase": PRODUCT_SKU.upper(),
        "zwj": PRODUCT_SKU + "\u200d",
    }.items():
        token = signed(issuer, None, claims(issuer, productSKU=sku))
        yield HostileCase(
            f"20-product-{name}", token, Reason.product_mismatch, registry, sku_policy
        )
    yield HostileCase(
        "20-product-absent", signed(issuer), Reason.product_mismatch, registry, sku_policy
    )
    users = Policy(requirements=[Requirement("Users", unit="Count", minimum=5)])
    for name, entitlement_name in {
        "cyrillic-e": "Us\u0435rs",
        "lowercase": "users",
        "trailing-space": "Users ",
        "zwj": "Users\u200d",
    }.items():
        token = signed(
            issuer,
            None,
            claims(
                issuer,
                entitlementsAllowed=[{"name": entitlement_name, "value": "10", "unit": "Count"}],
            ),
        )
        yield HostileCase(
            f"20-entitlement-name-{name}", token, Reason.entitlement_missing, registry, users
        )
    # Quantities: never int() or Decimal() of arbitrary text (int() reads Arabic-Indic digits).
    for name, value in {
        "arabic-indic": "\u0661\u0660",
        "fullwidth": "\uff11\uff10",
        "leading-space": " 10",
        "trailing-space": "10 ",
        "underscore": "1_0",
        "plus": "+10",
        "minus": "-10",
        "exponent": "1e3",
        "infinity": "Infinity",
        "nan": "NaN",
        "hex": "0x10",
        "trailing-dot": "10.",
        "leading-dot": ".5",
        "empty": "",
        "two-dots": "1.0.0",
        "41-digits": "1" * 41,
    }.items():
        token = signed(
            issuer,
            None,
            claims(
                issuer, entitlementsAllowed=[{"name": "Users", "value": value, "unit": "Count"}]
            ),
        )
        yield HostileCase(
            f"20-entitlement-value-{name}", token, Reason.invalid_claims, registry, users
        )
    for name, unit in {
        "lowercase": "count",
        "kibibytes": "Kibibytes",
        "cyrillic": "C\u043eunt",
        "empty": "",
    }.items():
        token = signed(
            issuer,
            None,
            claims(issuer, entitlementsAllowed=[{"name": "Users", "value": "10", "unit": unit}]),
        )
        yield HostileCase(
            f"20-entitlement-unit-{name}", token, Reason.invalid_claims, registry, users
        )


def _t21_times(keys: Issuers) -> Iterator[HostileCase]:
    issuer, registry = keys.rsa, keys.rsa_registry
    expirations: dict[str, object] = {
        "numeric-string": str(ISSUED_AT + TTL),
        "number": ISSUED_AT + TTL,
        "negative-string": "-1",
        "year-10000": "10000-01-01T00:00:00",
        "year-plus-10000": "+10000-01-01T00:00:00",
        "1e20-string": "1e20",
        "1e20-number": 1e20,
        "year-0000": "0000-01-01T00:00:00",
        "week-date": "2026-W03-4T13:00:00",
        "ordinal-date": "2026-015T13:00:00",
        "basic-format": "20260115T130000",
        "basic-format-zulu": "20260115T130000Z",
        "space-separator": "2026-01-15 13:00:00",
        "leading-space": " 2026-01-15T13:00:00",
        "trailing-space": "2026-01-15T13:00:00 ",
        "trailing-newline": "2026-01-15T13:00:00\n",
        "hour-24": "2026-01-15T24:00:00",
        "leap-second": "2026-01-15T23:59:60",
        "february-30": "2026-02-30T13:00:00",
        "month-13": "2026-13-01T13:00:00",
        "date-only": "2026-01-15",
        "no-seconds": "2026-01-15T13:00",
        "ten-fraction-digits": "2026-01-15T13:00:00.0000000000",
        "empty-fraction": "2026-01-15T13:00:00.Z",
        "comma-fraction": "2026-01-15T13:00:00,5",
        "basic-offset": "2026-01-15T13:00:00+0100",
        "hour-only-offset": "2026-01-15T13:00:00+01",
        "offset-24-hours": "2026-01-15T13:00:00+24:00",
        "offset-60-minutes": "2026-01-15T13:00:00+01:60",
        "lowercase-t": "2026-01-15t13:00:00",
        "lowercase-z": "2026-01-15T13:00:00z",
        "space-before-zone": "2026-01-15T13:00:00 Z",
        "fullwidth-digits": "\uff12\uff10\uff12\uff16-01-15T13:00:00",
        "arabic-indic-digits": "\u0662\u0660\u0662\u0666-01-15T13:00:00",
        "overflows-in-utc": "9999-12-31T23:59:59-01:00",
        "http-date": "Thu, 15 Jan 2026 13:00:00 GMT",
        "empty": "",
        "list": ["2026-01-15T13:00:00"],
        "true": True,
    }
    for name, value in expirations.items():
        token = signed(issuer, None, claims(issuer, expiration=value))
        yield HostileCase(f"21-expiration-{name}", token, Reason.invalid_claims, registry)
    for name, value in {
        "week-date": "2026-W03-4T12:00:00",
        "numeric-string": str(ISSUED_AT),
        "basic-format": "20260115T120000",
        "space-separator": "2026-01-15 12:00:00",
        "hour-24": "2026-01-14T24:00:00",
    }.items():
        token = signed(issuer, None, claims(issuer, issuedAt=value))
        yield HostileCase(f"21-issued-at-{name}", token, Reason.invalid_claims, registry)
    yield HostileCase(
        "21-issued-at-missing",
        signed(issuer, None, claims(issuer, issuedAt=None)),
        Reason.invalid_claims,
        registry,
    )
    yield HostileCase(
        "21-expiration-missing",
        signed(issuer, None, claims(issuer, expiration=None)),
        Reason.invalid_claims,
        registry,
    )
    after = claims(issuer, issuedAt="2026-01-15T13:00:01", expiration="2026-01-15T13:00:00")
    yield HostileCase(
        "21-issued-after-expiration", signed(issuer, None, after), Reason.invalid_claims, registry
    )
    # The same instant in two zones is fine; one second past it is not.
    zoned = claims(issuer, issuedAt="2026-01-15T13:00:01+01:00", expiration="2026-01-15T12:00:00Z")
    yield HostileCase(
        "21-issued-after-expiration-zoned",
        signed(issuer, None, zoned),
        Reason.invalid_claims,
        registry,
    )


def _t23_pss_salt(keys: Issuers) -> Iterator[HostileCase]:
    issuer, registry = keys.rsa, keys.rsa_registry
    key = issuer.private_key
    assert isinstance(key, rsa.RSAPrivateKey)
    header, payload = segment(header_for(issuer)), segment(claims(issuer))
    data = f"{header}.{payload}".encode("ascii")
    sha384 = hashes.SHA384()
    paddings: dict[str, tuple[padding.AsymmetricPadding, hashes.HashAlgorithm]] = {
        "salt-0": (padding.PSS(padding.MGF1(sha384), 0), sha384),
        "salt-max": (padding.PSS(padding.MGF1(sha384), padding.PSS.MAX_LENGTH), sha384),
        "salt-32": (padding.PSS(padding.MGF1(sha384), 32), sha384),
        "salt-47": (padding.PSS(padding.MGF1(sha384), 47), sha384),
        "salt-49": (padding.PSS(padding.MGF1(sha384), 49), sha384),
        "salt-64": (padding.PSS(padding.MGF1(sha384), 64), sha384),
        "mgf1-sha256": (padding.PSS(padding.MGF1(hashes.SHA256()), 48), sha384),
        "mgf1-sha512": (padding.PSS(padding.MGF1(hashes.SHA512()), 48), sha384),
        "hash-sha256": (padding.PSS(padding.MGF1(hashes.SHA256()), 48), hashes.SHA256()),
        "pkcs1v15": (padding.PKCS1v15(), sha384),
    }
    for name, (pad, digest) in paddings.items():
        signature = key.sign(data, pad, digest)
        yield HostileCase(
            f"23-PS384-{name}",
            f"{header}.{payload}.{b64(signature)}",
            Reason.bad_signature,
            registry,
        )


def _t24_ed25519(keys: Issuers) -> Iterator[HostileCase]:
    issuer, registry = keys.eddsa, keys.eddsa_registry
    token = signed(issuer)
    genuine = signature_of(token)
    r, s = genuine[:32], int.from_bytes(genuine[32:], "little")
    for name, signature in (
        # S + L verifies in implementations that skip the S < L check (malleability).
        ("s-plus-l", r + (s + ED25519_ORDER).to_bytes(32, "little")),
        ("s-equals-l", r + ED25519_ORDER.to_bytes(32, "little")),
        ("s-all-ones", r + b"\xff" * 32),
        ("63-bytes", genuine[:63]),
        ("65-bytes", genuine + b"\x00"),
        ("64-zero-bytes", bytes(64)),
        ("128-bytes", genuine * 2),
    ):
        yield HostileCase(
            f"24-ed25519-{name}", with_signature(token, signature), Reason.bad_signature, registry
        )
    ed448_key = ed448.Ed448PrivateKey.generate()
    header, payload = segment(header_for(issuer)), segment(claims(issuer))
    ed448_signature = ed448_key.sign(f"{header}.{payload}".encode("ascii"))
    yield HostileCase(
        "24-ed448-signature",
        f"{header}.{payload}.{b64(ed448_signature)}",
        Reason.bad_signature,
        registry,
    )


class Control(NamedTuple):
    """A near miss of the hostile cases that must verify: proof that their setup is sound."""

    case_id: str
    source: object
    registry: KeyRegistry
    policy: Policy = DEFAULT_POLICY


def controls(keys: Issuers) -> list[Control]:
    """Valid inputs built with the same helpers as the hostile cases, one change short."""
    issuer, registry = keys.rsa, keys.rsa_registry
    base = claims(issuer)
    strict = Policy(
        node_id=NODE_ID,
        license_arn=LICENSE_ARN,
        requirements=[Requirement("Users", unit="Count", minimum=5)],
    )
    thumbprint = next(iter(registry)).thumbprint
    url_header = with_url_characters(header_for(issuer), "x")
    url_payload = with_url_characters(base, "note")
    numeric_exp = with_raw_member(
        _without(base, "expiration"), "exp", str(ISSUED_AT + TTL).encode()
    )
    numeric_iat = with_raw_member(_without(base, "issuedAt"), "iat", str(ISSUED_AT).encode())
    same_instant = {
        **base,
        "issuedAt": "2026-01-15T13:00:00+01:00",
        "expiration": "2026-01-15T12:00:00Z",
    }

    def payload(**members: Any) -> str:
        return signed(issuer, None, {**base, **members})

    def header(**members: Any) -> str:
        return signed(issuer, header_for(issuer, **members))

    found = [
        Control(f"issuer-{alg}", signed(ecdsa), keys.ecdsa_registries[alg], strict)
        for alg, ecdsa in keys.ecdsa.items()
    ]
    found += [
        Control("issuer-PS384", signed(issuer), registry, strict),
        Control("issuer-EdDSA", signed(keys.eddsa), keys.eddsa_registry, strict),
        Control("response", response(issuer), registry, strict),
        Control("kid-fingerprint", header(kid=TRUSTED), keys.two_issuers),
        Control("kid-thumbprint", header(kid=thumbprint), keys.two_issuers),
        Control(
            "kid-second-issuer",
            signed(keys.second, header_for(keys.second, kid=SECOND)),
            keys.two_issuers,
        ),
        # A kid is a hint: matching nothing, it falls back to the expected issuer's keys.
        Control("kid-kms-key-arn-one-issuer", header(kid=KMS_KEY_ARN), registry),
        Control("kid-kms-key-id-one-issuer", header(kid=KMS_KEY_ARN.rsplit("/", 1)[1]), registry),
        Control(
            "kid-unknown-pinned-issuer",
            header(kid="unknown"),
            keys.two_issuers,
            Policy(key_fingerprint=TRUSTED),
        ),
        Control(
            "kid-third-issuer-pinned-third",
            signed(keys.third, header_for(keys.third, kid=KMS_KEY_ARN), claims(keys.third)),
            keys.rsa_pair,
            Policy(key_fingerprint=THIRD),
        ),
        Control("kid-trusted-thumbprint-pair", header(kid=thumbprint), keys.rsa_pair),
        Control("no-typ", signed(issuer, {"alg": "PS384"}), registry),
        Control("typ-lowercase", header(typ="jwt"), registry),
        Control("typ-media-type", header(typ="application/jwt"), registry),
        *(Control(f"typ-{name}", header(typ=typ), registry) for name, typ in TYP_STRINGS.items()),
        Control("extra-header-members", header(x=[[{"a": 1}]], jku_note="ignored"), registry),
        Control(
            "x5c-x5t-members",
            header(x5c=[b64(bytes(1400))] * 3, x5t=b64(bytes(20)), **{"x5t#S256": b64(bytes(32))}),
            registry,
        ),
        Control(
            "header-at-its-limit",
            sign_segments(
                issuer, header_of_segment_length(issuer, HEADER_SEGMENT_LIMIT), segment(base)
            ),
            registry,
        ),
        # Brackets inside strings are not containers.
        Control("brackets-in-header-strings", header(note="[{" * 40, x="]}" * 40), registry),
        Control(
            "url-characters", sign_segments(issuer, b64(url_header), b64(url_payload)), registry
        ),
        Control("exp-numeric", signed(issuer, None, numeric_exp), registry),
        Control("iat-numeric", signed(issuer, None, numeric_iat), registry),
        Control("iso-and-numeric-agree", payload(iat=ISSUED_AT, exp=ISSUED_AT + TTL), registry),
        Control("nbf-past", payload(nbf=ISSUED_AT), registry),
        Control("expiration-zoned", payload(expiration="2026-01-15T14:00:00+01:00"), registry),
        Control(
            "expiration-fraction", payload(expiration="2026-01-15T13:00:00.123456789Z"), registry
        ),
        Control("expiration-year-9999", payload(expiration="9999-12-31T23:59:59Z"), registry),
        Control("issued-at-expiration-zoned", signed(issuer, None, same_instant), registry),
        Control(
            "extra-claims",
            payload(x=[[1.5, None, True]], productSKU=PRODUCT_SKU),
            registry,
            Policy(product_sku=PRODUCT_SKU),
        ),
    ]
    for remainder in (1, 2):
        found.append(
            Control(
                f"json-length-remainder-{remainder}",
                sign_segments(
                    issuer,
                    b64(padded_to(header_for(issuer), remainder)),
                    b64(padded_to(base, remainder)),
                ),
                registry,
            )
        )
    return found


GENERATORS: tuple[Callable[[Issuers], Iterator[HostileCase]], ...] = (
    _t01_alg_none,
    _t02_hmac_with_public_key,
    _t03_algorithm_key_mismatch,
    _t04_psychic_ecdsa,
    _t06_signature_length,
    _t07_base64,
    _t08_embedded_keys,
    _t09_kid_injection,
    _t10_crit,
    _t11_unencoded_payload,
    _t12_duplicate_members,
    _t13_nesting,
    _t14_huge,
    _t15_jwe_and_zip,
    _t16_structure,
    _t17_typ_cty,
    _t18_numbers,
    _t19_encoding,
    _t20_confusables,
    _t21_times,
    _t23_pss_salt,
    _t24_ed25519,
)


def cases(issuers: Issuers) -> list[HostileCase]:
    """Every hostile case, in threat class order; raises if two share an id."""
    generated = [case for generate in GENERATORS for case in generate(issuers)]
    counts = Counter(case.case_id for case in generated)
    duplicates = [case_id for case_id, count in counts.items() if count > 1]
    if duplicates:
        raise AssertionError(f"duplicate hostile case ids: {sorted(duplicates)}")
    return generated
