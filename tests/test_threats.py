"""The threat catalogue (threats.md, classes 1-24) against the core.

Every case of ``hostile.cases()`` must end in ``TokenRejected`` with its exact reason,
from ``verify`` and as a ``Verdict`` from ``check``, and never in another exception.
Near misses (``hostile.controls()``) must verify, so that a case fails only for its
hostile part. The classes that are not token rejections are tested here directly:
the accepted ECDSA high-S twin (5), weak keys at registration (22), and the properties
behind 7, 8, 12, 14 and 23 (canonical padding accepted, embedded keys never fetched,
payload duplicates resolved one documented way, size checked before decoding, why
``PSS.AUTO`` must not be used).

Every text case is also handed in as bytes, bytearray, memoryview, a file and (tokens)
inside a response dict and its JSON, and must be refused alike; a 10 MB input is refused
before any decoding on every path; nesting that no parser bounds (a caller's response
dict, key JSON) is checked too.
"""

from __future__ import annotations

import hmac
import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa, x25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

import hostile
import tokenverify as tv
from hostile import NODE_ID, TRUSTED, VERIFY_AT, HostileCase
from tokenverify.testing import TestIssuer

ISSUERS = hostile.Issuers.generate()
CASES = hostile.cases(ISSUERS)
CONTROLS = hostile.controls(ISSUERS)

# Reasons decided before the payload is read: verify_compact must agree with Verifier.
SIGNATURE_LAYER = frozenset(
    [
        tv.Reason.malformed,
        tv.Reason.too_large,
        tv.Reason.unsupported_algorithm,
        tv.Reason.unsupported_header,
        tv.Reason.unknown_key,
        tv.Reason.bad_signature,
    ]
)
#: A rejection message is one line a person reads: bounded, whatever the token holds.
MAX_MESSAGE_LENGTH = 400


def _params(cases: list[HostileCase]) -> list[object]:
    return [
        pytest.param(
            case,
            id=case.case_id,
        )
        for case in cases
    ]


def _is_document(source: str | bytes) -> bool:
    head = source.lstrip()[:1]
    return head in ("{", b"{")


def _rejection(verifier: tv.Verifier, source: object) -> tv.TokenRejected:
    with pytest.raises(tv.TokenRejected) as caught:
        verifier.verify(source, now=VERIFY_AT)
    return caught.value


@pytest.mark.parametrize("case", _params(CASES))
def test_hostile_input_is_rejected_with_its_reason(case: HostileCase) -> None:
    verifier = case.verifier()
    rejection = _rejection(verifier, case.source)
    assert rejection.reason is case.reason, rejection.description
    description = rejection.description
    assert 0 < len(description) <= MAX_MESSAGE_LENGTH
    # Hostile text is quoted with repr(): no raw control characters reach a log line.
    assert description.isprintable(), description
    assert str(rejection) == f"{case.reason.value}: {description}"
    assert verifier.check(case.source, now=VERIFY_AT) == tv.Verdict(
        False, case.reason, description, None
    )


@pytest.mark.parametrize(
    "case",
    _params(
        [
            case
            for case in CASES
            if case.reason in SIGNATURE_LAYER
            and isinstance(case.source, str | bytes)
            # A saved response is a document, not a compact token: only Verifier reads it.
            and not _is_document(case.source)
        ]
    ),
)
def test_verify_compact_rejects_signature_layer_cases_alike(case: HostileCase) -> None:
    limit = {} if case.max_token_size is None else {"max_token_size": case.max_token_size}
    assert isinstance(case.source, str | bytes)
    with pytest.raises(tv.TokenRejected) as caught:
        tv.verify_compact(case.source, case.registry, case.policy.key_fingerprint, **limit)
    assert caught.value.reason is case.reason, caught.value.description


@pytest.mark.parametrize("control", CONTROLS, ids=[control.case_id for control in CONTROLS])
def test_near_miss_of_the_hostile_cases_verifies(control: hostile.Control) -> None:
    checkout = tv.Verifier(control.registry, control.policy).verify(control.source, now=VERIFY_AT)
    assert checkout.license_arn == hostile.LICENSE_ARN
    assert checkout.license_consumption_token == hostile.CONSUMPTION_TOKEN


def test_every_core_threat_class_has_hostile_cases() -> None:
    # 5 (high-S twin, accepted) and 22 (weak keys, refused at registration) are tested below.
    assert {case.threat for case in CASES} == set(range(1, 25)) - {5, 22}
    assert len({case.case_id for case in CASES}) == len(CASES)


# --- 2: HMAC keyed with the public key ------------------------------------------------


def test_hmac_secrets_are_real_encodings_of_the_trusted_key() -> None:
    """The forged HS256/384/512 tokens use the very bytes a naive verifier would be given."""
    public = ISSUERS.rsa.private_key.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    encodings = hostile.public_key_encodings(ISSUERS.rsa)
    loaded: dict[str, Any] = {
        "pem-lf": serialization.load_pem_public_key(encodings["pem-lf"]),
        "pem-crlf": serialization.load_pem_public_key(encodings["pem-crlf"]),
        "der": serialization.load_der_public_key(encodings["der"]),
        "pkcs1-pem": serialization.load_pem_public_key(encodings["pkcs1-pem"]),
        "openssh": serialization.load_ssh_public_key(encodings["openssh"]),
    }
    for name, key in loaded.items():
        assert key.public_numbers() == public.public_numbers(), name
    for name in ("jwk", "jwks"):
        (registered,) = tv.KeyRegistry().add(TRUSTED, encodings[name], algorithms=["PS384"])
        assert registered.thumbprint == next(iter(ISSUERS.rsa_registry)).thumbprint
    # And the forgery is a correct HMAC: only the algorithm check stands in its way.
    case = next(c for c in CASES if c.case_id == "02-HS256-keyed-with-pem-lf")
    assert isinstance(case.source, str)
    expected = hmac.new(encodings["pem-lf"], hostile.signing_input(case.source), "sha256").digest()
    assert hostile.signature_of(case.source) == expected


# --- 5: ECDSA high-S twin -------------------------------------------------------------


@pytest.mark.parametrize("alg", ["ES256", "ES384", "ES512"])
def test_ecdsa_high_s_twin_is_accepted_and_identical_in_its_claims(alg: str) -> None:
    """(r, n - s) verifies in OpenSSL, and so in tokenverify: we do not enforce low-S.

    Two different token strings thus carry one checkout, which is why revocation and
    replay must key on the claims (licenseConsumptionToken, licenseArn), never on the
    token's bytes. This also proves hostile.ORDERS right: the twin verifies only with
    the true group order.
    """
    issuer, size, order = ISSUERS.ecdsa[alg], hostile.COORDINATE_SIZES[alg], hostile.ORDERS[alg]
    token = hostile.signed(issuer)
    genuine = hostile.signature_of(token)
    r, s = int.from_bytes(genuine[:size], "big"), int.from_bytes(genuine[size:], "big")
    twin = hostile.with_signature(
        token, r.to_bytes(size, "big") + (order - s).to_bytes(size, "big")
    )
    assert twin != token
    public = issuer.private_key.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    public.verify(
        encode_dss_signature(r, order - s),
        hostile.signing_input(token),
        ec.ECDSA(hostile.EC_HASHES[alg]()),
    )
    verifier = tv.Verifier(ISSUERS.ecdsa_registries[alg])
    original, accepted_twin = (
        verifier.verify(token, now=VERIFY_AT),
        verifier.verify(twin, now=VERIFY_AT),
    )
    assert accepted_twin == original
    assert accepted_twin.license_consumption_token == original.license_consumption_token
    assert accepted_twin.license_arn == original.license_arn


@pytest.mark.parametrize(
    "alg",
    [
        "ES256",
        "ES384",
        "ES512",
    ],
)
def test_ecdsa_range_precheck_uses_the_true_group_order(alg: str) -> None:
    """The psychic-signature guard (0 < r, s < n) needs the right n for each curve.

    OpenSSL refuses out-of-range r and s anyway, so no hostile token shows the difference:
    this compares the private constant with SEC 2 (checked by the high-S test above).
    """
    from tokenverify import _algorithms

    assert _algorithms._ECDSA[alg][3] == hostile.ORDERS[alg]


# --- 7: canonical '=' padding ---------------------------------------------------------


def _pad(segment_text: str) -> str:
    return segment_text + "=" * (-len(segment_text) % 4)


@pytest.mark.parametrize("remainder", [1, 2])
def test_canonical_padding_is_accepted_on_every_segment(remainder: int) -> None:
    issuer = ISSUERS.rsa
    header = _pad(hostile.b64(hostile.padded_to(hostile.header_for(issuer), remainder)))
    payload = _pad(hostile.b64(hostile.padded_to(hostile.claims(issuer), remainder)))
    assert header.endswith("=")
    assert payload.endswith("=")
    # AWS services that pad sign the padded segments.
    token = hostile.sign_segments(issuer, header, payload)
    padded = f"{token.rsplit('.', 1)[0]}.{_pad(hostile.parts(token)[2])}"
    assert padded.endswith("==")  # RSA-2048: 256 bytes
    checkout = tv.Verifier(ISSUERS.rsa_registry).verify(padded, now=VERIFY_AT)
    assert checkout.node_id == NODE_ID
    header_out, payload_out = tv.verify_compact(padded, ISSUERS.rsa_registry)
    assert header_out["alg"] == "PS384"
    assert json.loads(payload_out)["nodeId"] == NODE_ID


def test_padding_only_the_signature_segment_is_accepted() -> None:
    token = hostile.signed(ISSUERS.rsa)
    header, payload, signature = hostile.parts(token)
    checkout = tv.Verifier(ISSUERS.rsa_registry).verify(
        f"{header}.{payload}.{_pad(signature)}", now=VERIFY_AT
    )
    assert checkout.algorithm == "PS384"


# --- 8: embedded keys -----------------------------------------------------------------


def test_embedded_keys_are_never_used_nor_fetched(monkeypatch: pytest.MonkeyPatch) -> None:
    """A trusted token carrying jwk/jku/x5u/x5c verifies with the registry's key alone."""

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("tokenverify tried to reach the network")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    issuer, registry = ISSUERS.rsa, ISSUERS.rsa_registry
    trusted_thumbprint = next(iter(registry)).thumbprint
    for name, members in hostile.embedded_key_headers(ISSUERS).items():
        token = hostile.signed(issuer, hostile.header_for(issuer, **members))
        checkout = tv.Verifier(registry).verify(token, now=VERIFY_AT)
        assert checkout.key_thumbprint == trusted_thumbprint, name
        assert checkout.key_fingerprint == TRUSTED


# --- 12: duplicate members in the signed payload --------------------------------------


@pytest.mark.parametrize(
    "extra_claim", [b"", b',"vendorClaim":1'], ids=["known-claims", "extra-claim"]
)
def test_duplicate_payload_members_resolve_to_the_last_everywhere(extra_claim: bytes) -> None:
    """RFC 7519 last-wins inside the signed payload (the issuer chose those bytes).

    The typed claims and the raw ``claims`` mapping must agree, or a product reading
    one would see another value than the policy checked.
    """
    issuer = ISSUERS.rsa
    body = hostile.json_bytes(hostile.claims(issuer, nodeId="node-1"))
    payload = body[:-1] + f',"nodeId":"{NODE_ID}"'.encode() + extra_claim + b"}"
    token = hostile.signed(issuer, None, payload)
    checkout = tv.Verifier(ISSUERS.rsa_registry, tv.Policy(node_id=NODE_ID)).verify(
        token, now=VERIFY_AT
    )
    assert checkout.node_id == NODE_ID
    assert checkout.claims["nodeId"] == NODE_ID
    first = tv.Verifier(ISSUERS.rsa_registry, tv.Policy(node_id="node-1"))
    assert _rejection(first, token).reason is tv.Reason.node_mismatch


# --- 14: size before decoding ---------------------------------------------------------


def test_oversized_token_is_refused_before_anything_is_decoded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tokenverify import _base64url, _json

    decoded: list[str] = []
    real_loads_object = _json.loads_object

    def spy_decode(segment: bytes) -> bytes:
        decoded.append("base64url")
        raise AssertionError("decoded a segment of a token over the size limit")

    def spy_loads_object(data: bytes) -> dict[str, Any]:
        decoded.append("json")
        return real_loads_object(data)

    monkeypatch.setattr(_base64url, "decode", spy_decode)
    monkeypatch.setattr(_json, "loads_object", spy_loads_object)
    token = hostile.signed(ISSUERS.rsa)
    header, _, signature = hostile.parts(token)
    huge = f"{header}.{'A' * (70 * 1024)}.{signature}"
    verifier = tv.Verifier(ISSUERS.rsa_registry)
    for source in (huge, huge.encode(), {"SignedToken": huge}):
        assert _rejection(verifier, source).reason is tv.Reason.too_large
    with pytest.raises(tv.TokenRejected) as caught:
        tv.verify_compact(huge, ISSUERS.rsa_registry)
    assert caught.value.reason is tv.Reason.too_large
    assert decoded == []
    # A saved response may exceed the token limit (plaintext beside the token), so its JSON
    # is read; the token inside is still measured before any of it is decoded.
    assert _rejection(verifier, json.dumps({"SignedToken": huge})).reason is tv.Reason.too_large
    assert decoded == ["json"]


def test_size_limit_is_configurable_and_inclusive() -> None:
    token = hostile.signed(ISSUERS.rsa)
    at_limit = tv.Verifier(ISSUERS.rsa_registry, max_token_size=len(token))
    assert at_limit.verify(token, now=VERIFY_AT).node_id == NODE_ID
    below = tv.Verifier(ISSUERS.rsa_registry, max_token_size=len(token) - 1)
    rejection = _rejection(below, token)
    assert rejection.reason is tv.Reason.too_large
    assert "max_token_size" in rejection.description
    tv.verify_compact(token, ISSUERS.rsa_registry, max_token_size=len(token))
    with pytest.raises(tv.TokenRejected) as caught:
        tv.verify_compact(token, ISSUERS.rsa_registry, max_token_size=len(token) - 1)
    assert caught.value.reason is tv.Reason.too_large


def test_huge_file_is_refused_as_too_large(tmp_path: Path) -> None:
    path = tmp_path / "checkout.json"
    path.write_bytes(b" " * (3 << 20) + hostile.signed(ISSUERS.rsa).encode())
    assert _rejection(tv.Verifier(ISSUERS.rsa_registry), path).reason is tv.Reason.too_large


# --- 22 (and 24): weak or unfit keys at registration ----------------------------------


def _rsa_public(bits: int = 2048, exponent: int = 65537) -> rsa.RSAPublicKey:
    return rsa.generate_private_key(exponent, bits).public_key()


def _with_exponent(exponent: int) -> rsa.RSAPublicKey:
    # Registration checks e itself; the modulus need not match any private key.
    modulus = ISSUERS.rsa.private_key.public_key().public_numbers().n  # type: ignore[union-attr]
    return rsa.RSAPublicNumbers(exponent, modulus).public_key()


def _pem(key: Any) -> bytes:
    return bytes(
        key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def _der(key: Any) -> bytes:
    return bytes(
        key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def _rsa_jwk(key: rsa.RSAPublicKey) -> dict[str, str]:
    numbers = key.public_numbers()
    return {
        "kty": "RSA",
        "n": hostile.b64(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
        "e": hostile.b64(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")),
    }


def _p256_jwk(y_delta: int = 0, size: int = 32) -> dict[str, str]:
    numbers = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": hostile.b64(numbers.x.to_bytes(size, "big")),
        "y": hostile.b64((numbers.y + y_delta).to_bytes(size, "big")),
    }


def _kms(der: bytes, key_spec: str = "RSA_2048", usage: str = "SIGN_VERIFY") -> dict[str, Any]:
    import base64

    return {
        "KeyId": "arn:aws:kms:us-east-1:111122223333:key/0000",
        "PublicKey": base64.b64encode(der).decode(),
        "KeySpec": key_spec,
        "KeyUsage": usage,
        "SigningAlgorithms": ["RSASSA_PSS_SHA_384"],
    }


def _ec_public(curve: ec.EllipticCurve) -> ec.EllipticCurvePublicKey:
    return ec.generate_private_key(curve).public_key()


# (id, key source factory, algorithms, what the refusal must name): InvalidKey, nothing added.
WEAK_KEYS: list[tuple[str, Callable[[], object], list[str] | None, str]] = [
    ("rsa-1024-object", lambda: _rsa_public(1024), ["PS384"], "1024 bits"),
    ("rsa-1024-pem", lambda: _pem(_rsa_public(1024)), ["PS384"], "1024 bits"),
    ("rsa-1024-der", lambda: _der(_rsa_public(1024)), ["PS384"], "1024 bits"),
    ("rsa-1024-jwk", lambda: _rsa_jwk(_rsa_public(1024)), ["PS384"], "1024 bits"),
    ("rsa-1024-kms-json", lambda: _kms(_der(_rsa_public(1024)), "RSA_1024"), None, "1024 bits"),
    ("rsa-2047", lambda: _rsa_public(2047), ["PS384"], "2047 bits"),
    ("rsa-e-3", lambda: _with_exponent(3), ["PS384"], "exponent 3 "),
    ("rsa-e-3-pem", lambda: _pem(_with_exponent(3)), ["PS384"], "exponent 3 "),
    ("rsa-e-65539", lambda: _with_exponent(65539), ["PS384"], "exponent 65539"),
    ("rsa-e-2-32-plus-1", lambda: _with_exponent(2**32 + 1), ["PS384"], "exponent 4294967297"),
    ("ec-secp256k1", lambda: _ec_public(ec.SECP256K1()), ["ES256"], "secp256k1 refused"),
    ("ec-secp256k1-pem", lambda: _pem(_ec_public(ec.SECP256K1())), ["ES256"], "secp256k1 refused"),
    ("ec-secp256k1-unpinned", lambda: _ec_public(ec.SECP256K1()), None, "secp256k1 refused"),
    ("ec-secp224r1", lambda: _ec_public(ec.SECP224R1()), ["ES256"], "secp224r1 refused"),
    (
        "ec-brainpool-p384",
        lambda: _pem(_ec_public(ec.BrainpoolP384R1())),
        ["ES384"],
        "brainpoolP384r1 refused",
    ),
    ("ec-jwk-off-curve", lambda: _p256_jwk(y_delta=1), None, "not on the curve"),
    ("ec-jwk-long-coordinates", lambda: _p256_jwk(size=33), None, "32 bytes"),
    ("ec-jwk-secp256k1", lambda: {**_p256_jwk(), "crv": "secp256k1"}, None, "'secp256k1'"),
    ("ed448-object", lambda: ed448.Ed448PrivateKey.generate().public_key(), ["EdDSA"], "Ed448"),
    ("ed448-pem", lambda: _pem(ed448.Ed448PrivateKey.generate().public_key()), ["EdDSA"], "Ed448"),
    (
        "ed448-jwk",
        lambda: {"kty": "OKP", "crv": "Ed448", "x": hostile.b64(bytes(57))},
        ["EdDSA"],
        "Ed448",
    ),
    ("x25519-object", lambda: x25519.X25519PrivateKey.generate().public_key(), None, "X25519"),
    ("x25519-pem", lambda: _pem(x25519.X25519PrivateKey.generate().public_key()), None, "X25519"),
    # Refused for being DSA at any size; 1024 bits keeps key generation fast.
    ("dsa-pem", lambda: _pem(dsa.generate_private_key(1024).public_key()), None, "DSA"),  # noqa: S505
    ("p384-pinned-es256", lambda: _ec_public(ec.SECP384R1()), ["ES256"], "cannot verify ES256"),
    ("p256-pinned-es384", lambda: _ec_public(ec.SECP256R1()), ["ES384"], "cannot verify ES384"),
    ("rsa-pinned-es256", _rsa_public, ["ES256"], "cannot verify ES256"),
    ("rsa-pinned-eddsa", _rsa_public, ["EdDSA"], "cannot verify EdDSA"),
    (
        "ed25519-pinned-ps384",
        lambda: ed25519.Ed25519PrivateKey.generate().public_key(),
        ["PS384"],
        "cannot verify PS384",
    ),
    ("rsa-pinned-hs256", _rsa_public, ["HS256"], "never accepted"),
    ("rsa-pinned-none", _rsa_public, ["none"], "never accepted"),
    ("rsa-pinned-lowercase", _rsa_public, ["ps384"], "unknown algorithm 'ps384'"),
    ("rsa-pinned-nothing", _rsa_public, [], "at least one algorithm"),
    ("rsa-unpinned", _rsa_public, None, "pass algorithms"),
    ("jwk-oct", lambda: {"kty": "oct", "k": hostile.b64(b"secret")}, ["PS384"], "oct"),
    ("jwk-private-rsa", lambda: {**_rsa_jwk(_rsa_public()), "d": "AQAB"}, ["PS384"], "private"),
    ("jwk-alg-hs256", lambda: {**_rsa_jwk(_rsa_public()), "alg": "HS256"}, None, "HS256"),
    ("private-key-object", lambda: rsa.generate_private_key(65537, 2048), ["PS384"], "private"),
    ("private-key-pem", ISSUERS.rsa.private_pem, ["PS384"], "private"),
    (
        "kms-encrypt-decrypt",
        lambda: _kms(_der(_rsa_public()), usage="ENCRYPT_DECRYPT"),
        None,
        "ENCRYPT_DECRYPT",
    ),
]


@pytest.mark.parametrize(
    ("make_source", "algorithms", "names"),
    [
        pytest.param(
            make,
            algorithms,
            names,
            id=name,
        )
        for name, make, algorithms, names in WEAK_KEYS
    ],
)
def test_weak_or_unfit_key_is_refused_at_registration(
    make_source: Callable[[], object], algorithms: list[str] | None, names: str
) -> None:
    registry = tv.KeyRegistry()
    with pytest.raises(tv.InvalidKey) as caught:
        registry.add(TRUSTED, make_source(), algorithms=algorithms)  # type: ignore[arg-type]
    assert names in str(caught.value)
    assert len(registry) == 0


def test_minimum_rsa_key_is_accepted() -> None:
    # The boundary of the weak-key refusals: 2048 bits and e = 65537.
    (key,) = tv.KeyRegistry().add(TRUSTED, _rsa_public(2048), algorithms=["PS384"])
    assert key.algorithms == frozenset(["PS384"])


# --- 23: PSS salt length --------------------------------------------------------------


@pytest.mark.parametrize("salt", [0, padding.PSS.MAX_LENGTH], ids=["salt-0", "salt-max"])
def test_pss_auto_would_accept_the_salts_we_refuse(salt: int) -> None:
    """Why the salt is pinned: cryptography's PSS.AUTO verifies salt 0 and max salt.

    The matching hostile cases (23-PS384-salt-*) show tokenverify refusing the same
    signatures as bad_signature.
    """
    key = ISSUERS.rsa.private_key
    assert isinstance(key, rsa.RSAPrivateKey)
    data = b"signing input"
    signature = key.sign(data, padding.PSS(padding.MGF1(hashes.SHA384()), salt), hashes.SHA384())
    auto = padding.PSS(padding.MGF1(hashes.SHA384()), padding.PSS.AUTO)
    key.public_key().verify(signature, data, auto, hashes.SHA384())
    pinned = padding.PSS(padding.MGF1(hashes.SHA384()), 48)
    with pytest.raises(InvalidSignature):
        key.public_key().verify(signature, data, pinned, hashes.SHA384())


#: The 23-PS384-salt-* cases and the salt each is signed with (max: RSA-2048, SHA-384).
_SALTS_NAMED = {
    "salt-0": 0,
    "salt-max": 256 - 48 - 2,
    "salt-32": 32,
    "salt-47": 47,
    "salt-49": 49,
    "salt-64": 64,
}


@pytest.mark.parametrize(
    "case",
    _params([c for c in CASES if c.case_id.startswith("23-")]),
)
def test_off_standard_pss_salt_is_named_never_accepted(case: HostileCase) -> None:
    """Still bad_signature, but a salt the key does verify with is named (moto's KMS signs
    with the maximum), instead of sending the vendor after a tampering bug. Other PSS
    variants (another MGF or hash, PKCS#1 v1.5) are plain bad signatures."""
    rejection = _rejection(case.verifier(), case.source)
    assert rejection.reason is tv.Reason.bad_signature
    salt = _SALTS_NAMED.get(case.case_id.removeprefix("23-PS384-"))
    if salt is None:
        assert "altered or signed by another key" in rejection.description
        assert "salt" not in rejection.description
    else:
        assert f"salt of {salt} bytes" in rejection.description
        assert "hash length, 384 bits = 48 bytes" in rejection.description


# --- 1 and 2 at registration time -----------------------------------------------------


def test_issuer_reusing_the_trusted_key_for_another_alg_is_not_trusted_for_it() -> None:
    """Pinning is per key: a PS256 token from the PS384-pinned key is refused."""
    ps256 = TestIssuer(ISSUERS.rsa.private_key, "PS256", TRUSTED)
    token = ps256.sign(hostile.claims(ps256))
    rejection = _rejection(tv.Verifier(ISSUERS.rsa_registry), token)
    assert rejection.reason is tv.Reason.unsupported_algorithm
    assert "PS384" in rejection.description
    both = ISSUERS.rsa.registry(algorithms=["PS256", "PS384"])
    assert tv.Verifier(both).verify(token, now=VERIFY_AT).algorithm == "PS256"


# --- every input path: bare token, bytes, response dict, response JSON, file ----------


def _input_forms(source: str | bytes, folder: Path) -> dict[str, object]:
    """The same input as each kind of source ``Verifier.verify`` takes."""
    data = source.encode("utf-8", "surrogatepass") if isinstance(source, str) else source
    path = folder / "input"
    path.write_bytes(data)
    forms: dict[str, object] = {
        "bytes": data,
        "bytearray": bytearray(data),
        "memoryview": memoryview(data),
        "file": path,
    }
    if isinstance(source, str):
        forms["str"] = source
    if not _is_document(source):
        forms["response-dict"] = {"SignedToken": source}
        if isinstance(source, str):
            text = json.dumps({"SignedToken": source})
            forms["response-json-text"] = text
            forms["response-json-bytes"] = text.encode()
    return forms


TEXT_CASES = [case for case in CASES if isinstance(case.source, str | bytes)]


def _every_path_params() -> list[object]:
    return [
        pytest.param(
            case,
            id=case.case_id,
        )
        for case in TEXT_CASES
    ]


@pytest.mark.parametrize("case", _every_path_params())
def test_hostile_input_is_rejected_alike_through_every_input_path(
    case: HostileCase, tmp_path: Path
) -> None:
    """A token (or saved response) is refused for the same reason however it is handed in."""
    assert isinstance(case.source, str | bytes)
    verifier = case.verifier()
    for form, source in _input_forms(case.source, tmp_path).items():
        rejection = _rejection(verifier, source)
        assert rejection.reason is case.reason, f"{form}: {rejection.description}"


def test_ten_megabytes_are_refused_before_decoding_through_every_input_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Length is checked first: no base64, JSON or payload decoding of a 10 MB input."""
    from tokenverify import _base64url, _claims, _json

    decoded: list[str] = []

    def refuse(name: str) -> Callable[..., Any]:
        def spy(*args: object, **kwargs: object) -> Any:
            decoded.append(name)
            raise AssertionError(f"{name} decoded part of a 10 MB input")

        return spy

    monkeypatch.setattr(_base64url, "decode", refuse("base64url"))
    monkeypatch.setattr(_json, "loads_object", refuse("json"))
    monkeypatch.setattr(json, "loads", refuse("json.loads"))
    for decoder in ("_DECODE_KNOWN", "_DECODE_LENIENT", "_DECODE_ANY"):
        monkeypatch.setattr(_claims, decoder, refuse(f"payload {decoder}"))
    header, _, signature = hostile.parts(hostile.signed(ISSUERS.rsa))
    ten = f"{header}.{'A' * hostile.TEN_MEGABYTES}.{signature}"
    sources = _input_forms(ten, tmp_path)
    sources["document-of-whitespace"] = " " * hostile.TEN_MEGABYTES + "{}"
    sources["non-ascii-text"] = "\u00e9" * hostile.TEN_MEGABYTES
    verifier = tv.Verifier(ISSUERS.rsa_registry)
    for form, source in sources.items():
        assert _rejection(verifier, source).reason is tv.Reason.too_large, form
    for token in (ten, ten.encode()):
        with pytest.raises(tv.TokenRejected) as caught:
            tv.verify_compact(token, ISSUERS.rsa_registry)
        assert caught.value.reason is tv.Reason.too_large
    assert decoded == []


@pytest.mark.parametrize(
    "padding",
    [" " * hostile.TEN_MEGABYTES, "\n" * hostile.TEN_MEGABYTES],
    ids=["spaces", "newlines"],
)
def test_ten_megabyte_signed_token_in_a_response_dict_is_too_large(padding: str) -> None:
    """The bare-token and JSON paths refuse this input on length; the dict path must too."""
    token = hostile.signed(ISSUERS.rsa)
    response = {**hostile.response(ISSUERS.rsa), "SignedToken": padding + token}
    assert _rejection(tv.Verifier(ISSUERS.rsa_registry), response).reason is tv.Reason.too_large


# --- 13: nesting that no parser bounds ------------------------------------------------

# The plaintext string members the hostile tokens also sign (so they are compared).
_STRING_MEMBERS = ("LicenseArn", "LicenseConsumptionToken", "NodeId")


@pytest.mark.parametrize("member", _STRING_MEMBERS)
def test_deeply_nested_plaintext_string_member_of_a_response_dict_is_a_mismatch(
    member: str,
) -> None:
    """A caller's dict is never parsed, so no parser bounds its depth."""
    response = hostile.response(ISSUERS.rsa)
    response[member] = hostile.deep_value(100_000, "list")
    rejection = _rejection(tv.Verifier(ISSUERS.rsa_registry), response)
    assert rejection.reason is tv.Reason.envelope_mismatch


_DEEP_RESPONSE_UNDER_HIGH_RECURSION_LIMIT = """
import json, sys
sys.setrecursionlimit(1_000_000)  # what some applications do; the C stack stays 8 MB
import tokenverify as tv
from tokenverify.testing import TestIssuer
issuer = TestIssuer.generate("EdDSA")
text = json.dumps(issuer.checkout())
deep = text[:-1] + ',"Vendor":' + "[" * 150_000 + "]" * 150_000 + "}"
try:
    tv.Verifier(issuer.registry()).verify(deep)
except tv.TokenRejected as rejection:
    print(rejection.reason.value)
"""


def test_deep_response_json_is_refused_even_with_a_raised_recursion_limit() -> None:
    import subprocess
    import sys

    finished = subprocess.run(
        [sys.executable, "-c", _DEEP_RESPONSE_UNDER_HIGH_RECURSION_LIMIT],
        capture_output=True,
        text=True,
        check=False,
    )
    assert finished.returncode == 0, f"exit {finished.returncode}: {finished.stderr[-300:]}"
    assert finished.stdout.strip() == "malformed"


@pytest.mark.parametrize("form", ["str", "bytes"])
def test_deeply_nested_key_json_is_an_invalid_key(form: str) -> None:
    document = '{"kty": "RSA", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    source = document if form == "str" else document.encode()
    with pytest.raises(tv.InvalidKey):
        tv.KeyRegistry().add(TRUSTED, source, algorithms=["PS384"])


def test_deeply_nested_keys_and_revocations_files_are_refused(tmp_path: Path) -> None:
    nested = "[" * 100_000 + "]" * 100_000
    keys = tmp_path / "keys.json"
    keys.write_text('{"format": "tokenverify-keys", "x": ' + nested + "}")
    with pytest.raises(tv.InvalidKey):
        tv.KeyRegistry.load(keys)
    revocations = tmp_path / "revocations.json"
    revocations.write_text('{"revoked": [], "x": ' + nested + "}")
    with pytest.raises(ValueError, match="nesting is too deep"):
        tv.RevocationList.load(revocations)
