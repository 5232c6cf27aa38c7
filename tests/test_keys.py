"""KeyRegistry and key loading: every accepted source, pinning, refusals, kid lookup, key files.

The registry is the trust anchor, so each test checks the decision a broken implementation
would get wrong: the key that ends up registered (by RFC 7638 thumbprint), the algorithms
it is pinned to, and whether a token then verifies or is refused with the right reason.
"""

from __future__ import annotations

import base64
import codecs
import importlib
import importlib.util
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, rsa, x25519
from cryptography.x509.oid import NameOID
from hypothesis import given
from hypothesis import strategies as st

import tokenverify as tv
from tokenverify import _base64url
from tokenverify._keys import KMS_ALGORITHMS, KeySource, thumbprint
from tokenverify.formats._keys_file import KeyFile, json_schema
from tokenverify.testing import TestIssuer

FINGERPRINT = "aws:111122223333:Keys Test:issuer-fingerprint"
SECOND_FINGERPRINT = "aws:444455556666:Second Issuer:issuer-fingerprint"
ISSUED = datetime(2026, 1, 1, tzinfo=UTC)
KMS_KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
RSA_SIGNING_ALGORITHMS = [
    "RSASSA_PKCS1_V1_5_SHA_256",
    "RSASSA_PKCS1_V1_5_SHA_384",
    "RSASSA_PKCS1_V1_5_SHA_512",
    "RSASSA_PSS_SHA_256",
    "RSASSA_PSS_SHA_384",
    "RSASSA_PSS_SHA_512",
]

# RFC 7638 section 3.1: the example RSA key and its SHA-256 thumbprint.
RFC7638_N = (
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPeb"
    "WKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQ"
    "MicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2Nc"
    "Rwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
)
RFC7638_THUMBPRINT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


# --- helpers -------------------------------------------------------------------------------


def public_of(issuer: TestIssuer) -> Any:
    """The issuer's public key object (typed loosely: RSA, EC or Ed25519)."""
    return issuer.private_key.public_key()


def jwk_of(key: Any, **extra: str) -> dict[str, str]:
    """A public JWK built by hand from the key's numbers (RFC 7517/7518)."""
    members: dict[str, str]
    if isinstance(key, rsa.RSAPublicKey):
        numbers = key.public_numbers()
        members = {
            "kty": "RSA",
            "n": _base64url.encode(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
            "e": _base64url.encode(numbers.e.to_bytes(3, "big")),
        }
    elif isinstance(key, ec.EllipticCurvePublicKey):
        ec_numbers = key.public_numbers()
        size = (key.curve.key_size + 7) // 8
        crv = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}[key.curve.name]
        members = {
            "kty": "EC",
            "crv": crv,
            "x": _base64url.encode(ec_numbers.x.to_bytes(size, "big")),
            "y": _base64url.encode(ec_numbers.y.to_bytes(size, "big")),
        }
    else:
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        members = {"kty": "OKP", "crv": "Ed25519", "x": _base64url.encode(raw)}
    members.update(extra)
    return members


def spki_pem(key: Any) -> bytes:
    data: bytes = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return data


def spki_der(key: Any) -> bytes:
    data: bytes = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return data


def self_signed_certificate_pem(private_key: Any) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tokenverify test issuer")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private_key.public_key())
        .serial_number(1)
        .not_valid_before(datetime(2025, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2035, 1, 1, tzinfo=UTC))
        .sign(private_key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


def kms_output(key: Any, algorithms: list[str], key_spec: str = "RSA_4096") -> dict[str, Any]:
    """What ``aws kms get-public-key --output json`` prints."""
    return {
        "KeyId": KMS_KEY_ARN,
        "PublicKey": base64.b64encode(spki_der(key)).decode("ascii"),
        "CustomerMasterKeySpec": key_spec,
        "KeySpec": key_spec,
        "KeyUsage": "SIGN_VERIFY",
        "SigningAlgorithms": algorithms,
    }


def token(
    issuer: TestIssuer,
    *,
    issued_at: datetime = ISSUED,
    header: dict[str, Any] | None = None,
) -> str:
    signed: str = issuer.checkout(issued_at=issued_at, header=header)["SignedToken"]
    return signed


def verify(
    registry: tv.KeyRegistry,
    signed: str,
    *,
    fingerprint: str | None = FINGERPRINT,
    issued_at: datetime = ISSUED,
) -> tv.VerifiedCheckout:
    verifier = tv.Verifier(registry, tv.Policy(key_fingerprint=fingerprint))
    return verifier.verify(signed, now=issued_at + timedelta(minutes=5))


def rejection(action: Callable[[], object]) -> tv.TokenRejected:
    with pytest.raises(tv.TokenRejected) as caught:
        action()
    return caught.value


def rebound(source: TestIssuer, algorithm: str | None = None) -> TestIssuer:
    """A signer with ``source``'s key under this module's fingerprint (and maybe another alg)."""
    return TestIssuer(source.private_key, algorithm or source.algorithm, FINGERPRINT)


@pytest.fixture(scope="module")
def rsa_issuer_2048(ps256_issuer: TestIssuer) -> TestIssuer:
    """PS256 over RSA-2048, under this module's fingerprint."""
    return rebound(ps256_issuer, "PS256")


@pytest.fixture(scope="module")
def es256_issuer() -> TestIssuer:
    return TestIssuer.generate("ES256", fingerprint=FINGERPRINT)


@pytest.fixture(scope="module")
def es512_issuer() -> TestIssuer:
    return TestIssuer.generate("ES512", fingerprint=FINGERPRINT)


# --- every accepted source -----------------------------------------------------------------

KeyForm = Callable[[TestIssuer], bytes]

TEXT_FORMS: dict[str, KeyForm] = {
    "pem-spki-lf": lambda issuer: spki_pem(public_of(issuer)),
    "pem-spki-crlf": lambda issuer: spki_pem(public_of(issuer)).replace(b"\n", b"\r\n"),
    "pem-pkcs1": lambda issuer: public_of(issuer).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.PKCS1
    ),
    "pem-x509-certificate": lambda issuer: self_signed_certificate_pem(issuer.private_key),
    "jwk-json": lambda issuer: json.dumps(jwk_of(public_of(issuer))).encode(),
    "jwks-json": lambda issuer: json.dumps({"keys": [jwk_of(public_of(issuer))]}).encode(),
    "kms-get-public-key-json": lambda issuer: json.dumps(
        kms_output(public_of(issuer), RSA_SIGNING_ALGORITHMS, "RSA_2048"), indent=4
    ).encode(),
}
BINARY_FORMS: dict[str, KeyForm] = {"der-spki": lambda issuer: spki_der(public_of(issuer))}


def test_pkcs1_form_really_is_pkcs1(rsa_issuer_2048: TestIssuer) -> None:
    # Guards the parametrization below: the PKCS#1 case must not silently be SPKI.
    assert TEXT_FORMS["pem-pkcs1"](rsa_issuer_2048).startswith(b"-----BEGIN RSA PUBLIC KEY-----")
    assert b"\r\n" in TEXT_FORMS["pem-spki-crlf"](rsa_issuer_2048)


@pytest.mark.parametrize("form", sorted(TEXT_FORMS))
@pytest.mark.parametrize("as_type", ["str", "bytes", "path"])
def test_text_key_sources_register_the_issuer_key(
    form: str, as_type: str, rsa_issuer_2048: TestIssuer, tmp_path: Path
) -> None:
    data = TEXT_FORMS[form](rsa_issuer_2048)
    source: KeySource
    if as_type == "str":
        source = data.decode("ascii")
    elif as_type == "bytes":
        source = data
    else:
        source = tmp_path / f"issuer-key.{form}"
        source.write_bytes(data)
    registry = tv.KeyRegistry()
    (added,) = registry.add(FINGERPRINT, source, algorithms=["PS256"])
    assert added.thumbprint == thumbprint(public_of(rsa_issuer_2048))
    assert added.algorithms == frozenset({"PS256"})
    assert verify(registry, token(rsa_issuer_2048)).key_thumbprint == added.thumbprint


@pytest.mark.parametrize("form", sorted(BINARY_FORMS))
@pytest.mark.parametrize("as_path", [False, True])
def test_der_key_source_registers_the_issuer_key(
    form: str, as_path: bool, rsa_issuer_2048: TestIssuer, tmp_path: Path
) -> None:
    data = BINARY_FORMS[form](rsa_issuer_2048)
    source: KeySource = data
    if as_path:
        source = tmp_path / "issuer-key.der"
        source.write_bytes(data)
    registry = tv.KeyRegistry()
    (added,) = registry.add(FINGERPRINT, source, algorithms=["PS256"])
    assert added.thumbprint == thumbprint(public_of(rsa_issuer_2048))
    verify(registry, token(rsa_issuer_2048))


class _FsPath(os.PathLike[str]):
    """An os.PathLike that is not a pathlib.Path, as some frameworks hand out."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def __fspath__(self) -> str:
        return str(self._path)


def test_any_pathlike_is_read_as_a_key_file(rsa_issuer_2048: TestIssuer, tmp_path: Path) -> None:
    path = tmp_path / "issuer.pem"
    path.write_bytes(spki_pem(public_of(rsa_issuer_2048)))
    (added,) = tv.KeyRegistry().add(FINGERPRINT, _FsPath(path), algorithms=["PS256"])
    assert added.thumbprint == thumbprint(public_of(rsa_issuer_2048))


def test_jwk_dict_is_accepted(rsa_issuer_2048: TestIssuer) -> None:
    registry = tv.KeyRegistry()
    (added,) = registry.add(FINGERPRINT, jwk_of(public_of(rsa_issuer_2048), alg="PS256", kid="k-1"))
    # The JWK's alg pins the key without algorithms=[...]; its kid becomes the key id.
    assert added.algorithms == frozenset({"PS256"})
    assert added.key_id == "k-1"
    verify(registry, token(rsa_issuer_2048, header={"kid": "k-1"}), fingerprint=None)


def test_jwks_registers_every_key_with_its_kid(
    rsa_issuer_2048: TestIssuer, es384_issuer: TestIssuer
) -> None:
    jwks = {
        "keys": [
            jwk_of(public_of(rsa_issuer_2048), alg="PS256", kid="rsa-key"),
            jwk_of(public_of(es384_issuer), kid="ec-key"),
        ]
    }
    registry = tv.KeyRegistry()
    added = registry.add(FINGERPRINT, jwks)
    assert [(k.key_id, k.algorithms) for k in added] == [
        ("rsa-key", frozenset({"PS256"})),
        ("ec-key", frozenset({"ES384"})),
    ]
    assert len(registry) == 2
    verify(registry, token(rsa_issuer_2048, header={"kid": "rsa-key"}))
    verify(registry, token(rebound(es384_issuer), header={"kid": "ec-key"}))


@pytest.mark.parametrize(
    "fixture_name",
    ["rsa_issuer_2048", "es256_issuer", "es384_issuer", "es512_issuer", "eddsa_issuer"],
)
def test_cryptography_key_objects_are_accepted(
    fixture_name: str, request: pytest.FixtureRequest
) -> None:
    issuer = rebound(request.getfixturevalue(fixture_name))
    registry = tv.KeyRegistry()
    algorithms = [issuer.algorithm] if issuer.algorithm.startswith("PS") else None
    (added,) = registry.add(FINGERPRINT, public_of(issuer), algorithms=algorithms)
    assert added.algorithms == frozenset({issuer.algorithm})
    assert verify(registry, token(issuer)).algorithm == issuer.algorithm


# --- AWS KMS get-public-key ----------------------------------------------------------------


def test_kms_cli_json_text_pins_its_pss_signing_algorithms(ps384_issuer: TestIssuer) -> None:
    """KMS lists PKCS#1 v1.5 beside PSS for every RSA key; License Manager signs with PSS,
    so only the PSS members are pinned (issue 8, item 5)."""
    issuer = rebound(ps384_issuer)
    text = json.dumps(kms_output(public_of(issuer), RSA_SIGNING_ALGORITHMS), indent=4)
    registry = tv.KeyRegistry()
    (added,) = registry.add(FINGERPRINT, text)
    assert added.algorithms == frozenset({"PS256", "PS384", "PS512"})
    refused = rejection(lambda: verify(registry, token(rebound(issuer, "RS256"))))
    assert refused.reason is tv.Reason.unsupported_algorithm
    assert added.key_id == KMS_KEY_ARN
    assert added.description == "RSA-4096 key"
    assert verify(registry, token(issuer)).algorithm == "PS384"
    # The KMS KeyId works as a token kid.
    verify(registry, token(issuer, header={"kid": KMS_KEY_ARN}), fingerprint=None)


@pytest.mark.parametrize("form", ["json", "boto3-dict"])
def test_kms_pkcs1_is_pinned_only_when_asked(form: str, ps384_issuer: TestIssuer) -> None:
    issuer = rebound(ps384_issuer, "RS256")
    document = kms_output(public_of(issuer), RSA_SIGNING_ALGORITHMS)
    if form == "boto3-dict":
        document["PublicKey"] = spki_der(public_of(issuer))
    source = json.dumps(document) if form == "json" else document
    registry = tv.KeyRegistry()
    (added,) = registry.add(FINGERPRINT, source, algorithms=["RS256", "PS384"])
    assert added.algorithms == frozenset({"RS256", "PS384"})
    assert verify(registry, token(issuer)).algorithm == "RS256"


def test_kms_listing_only_pkcs1_pins_what_it_lists(rsa_issuer_2048: TestIssuer) -> None:
    names = ["RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_512"]
    (added,) = tv.KeyRegistry().add(FINGERPRINT, kms_output(public_of(rsa_issuer_2048), names))
    assert added.algorithms == frozenset({"RS256", "RS512"})


def test_kms_boto3_dict_with_der_bytes_is_accepted(ps384_issuer: TestIssuer) -> None:
    issuer = rebound(ps384_issuer)
    response = kms_output(public_of(issuer), ["RSASSA_PSS_SHA_384"])
    response["PublicKey"] = spki_der(public_of(issuer))  # boto3 returns the DER bytes
    response["ResponseMetadata"] = {"RequestId": "r-1", "HTTPStatusCode": 200}
    registry = tv.KeyRegistry()
    (added,) = registry.add(FINGERPRINT, response)
    assert added.algorithms == frozenset({"PS384"})
    assert added.thumbprint == thumbprint(public_of(issuer))
    verify(registry, token(issuer))


def test_kms_cli_json_file_is_accepted(ps384_issuer: TestIssuer, tmp_path: Path) -> None:
    issuer = rebound(ps384_issuer)
    path = tmp_path / "get-public-key.json"
    path.write_text(json.dumps(kms_output(public_of(issuer), RSA_SIGNING_ALGORITHMS)) + "\n")
    registry = tv.KeyRegistry()
    registry.add(FINGERPRINT, path, algorithms=["PS384"])
    verify(registry, token(issuer))


KMS_KEY_SPECS = {
    "rsa_issuer_2048": "RSA_2048",
    "es256_issuer": "ECC_NIST_P256",
    "es384_issuer": "ECC_NIST_P384",
    "es512_issuer": "ECC_NIST_P521",
    "eddsa_issuer": "ECC_NIST_EDWARDS25519",
}


@pytest.mark.parametrize(
    ("kms_name", "jws_name", "fixture_name"),
    [
        ("RSASSA_PSS_SHA_256", "PS256", "rsa_issuer_2048"),
        ("RSASSA_PSS_SHA_384", "PS384", "rsa_issuer_2048"),
        ("RSASSA_PSS_SHA_512", "PS512", "rsa_issuer_2048"),
        ("RSASSA_PKCS1_V1_5_SHA_256", "RS256", "rsa_issuer_2048"),
        ("RSASSA_PKCS1_V1_5_SHA_384", "RS384", "rsa_issuer_2048"),
        ("RSASSA_PKCS1_V1_5_SHA_512", "RS512", "rsa_issuer_2048"),
        ("ECDSA_SHA_256", "ES256", "es256_issuer"),
        ("ECDSA_SHA_384", "ES384", "es384_issuer"),
        ("ECDSA_SHA_512", "ES512", "es512_issuer"),
        ("ED25519_SHA_512", "EdDSA", "eddsa_issuer"),
    ],
)
def test_kms_signing_algorithm_maps_to_jws(
    kms_name: str, jws_name: str, fixture_name: str, request: pytest.FixtureRequest
) -> None:
    key_issuer: TestIssuer = request.getfixturevalue(fixture_name)
    # Unknown KMS names next to the known one are ignored, not an error.
    names = ["SM2DSA", kms_name, "ED25519_PHA_SHA_512"]
    key_spec = KMS_KEY_SPECS[fixture_name]
    (added,) = tv.KeyRegistry().add(FINGERPRINT, kms_output(public_of(key_issuer), names, key_spec))
    assert added.algorithms == frozenset({jws_name})
    assert KMS_ALGORITHMS[kms_name] == jws_name
    signer = rebound(key_issuer, jws_name)
    registry = tv.KeyRegistry()
    registry.add(FINGERPRINT, kms_output(public_of(key_issuer), [kms_name], key_spec))
    assert verify(registry, token(signer)).algorithm == jws_name


def test_kms_with_only_unknown_signing_algorithms_is_refused(rsa_issuer_2048: TestIssuer) -> None:
    document = kms_output(public_of(rsa_issuer_2048), ["SM2DSA", "ED25519_PHA_SHA_512"])
    with pytest.raises(tv.InvalidKey, match="JWS equivalent"):
        tv.KeyRegistry().add(FINGERPRINT, document)


def test_kms_algorithms_of_another_key_type_are_not_pinned(rsa_issuer_2048: TestIssuer) -> None:
    # ECDSA names listed for an RSA key cannot apply to it: only the RSA ones are kept.
    document = kms_output(public_of(rsa_issuer_2048), ["ECDSA_SHA_256", "RSASSA_PSS_SHA_256"])
    (added,) = tv.KeyRegistry().add(FINGERPRINT, document)
    assert added.algorithms == frozenset({"PS256"})


def test_kms_encryption_key_is_refused(rsa_issuer_2048: TestIssuer) -> None:
    document = kms_output(public_of(rsa_issuer_2048), RSA_SIGNING_ALGORITHMS)
    document["KeyUsage"] = "ENCRYPT_DECRYPT"
    with pytest.raises(tv.InvalidKey, match="SIGN_VERIFY"):
        tv.KeyRegistry().add(FINGERPRINT, document)


def test_kms_public_key_that_is_not_base64_is_refused(rsa_issuer_2048: TestIssuer) -> None:
    document = kms_output(public_of(rsa_issuer_2048), RSA_SIGNING_ALGORITHMS)
    document["PublicKey"] = "not base64 at all!"
    with pytest.raises(tv.InvalidKey, match="base64"):
        tv.KeyRegistry().add(FINGERPRINT, document)


# --- algorithms: narrowing, refusal, inference ---------------------------------------------


def test_algorithms_narrow_what_the_kms_source_names(ps384_issuer: TestIssuer) -> None:
    issuer = rebound(ps384_issuer)
    registry = tv.KeyRegistry()
    (added,) = registry.add(
        FINGERPRINT, kms_output(public_of(issuer), RSA_SIGNING_ALGORITHMS), algorithms=["PS384"]
    )
    assert added.algorithms == frozenset({"PS384"})
    verify(registry, token(issuer))
    # The same key signing PS256 is now refused: pinning happens per key.
    ps256 = rebound(issuer, "PS256")
    refused = rejection(lambda: verify(registry, token(ps256)))
    assert refused.reason is tv.Reason.unsupported_algorithm
    assert "PS384" in refused.description


def test_algorithms_outside_what_the_source_names_are_refused(rsa_issuer_2048: TestIssuer) -> None:
    document = kms_output(public_of(rsa_issuer_2048), ["RSASSA_PSS_SHA_384"])
    with pytest.raises(tv.InvalidKey, match="does not allow PS256"):
        tv.KeyRegistry().add(FINGERPRINT, document, algorithms=["PS256"])
    jwk = jwk_of(public_of(rsa_issuer_2048), alg="PS384")
    with pytest.raises(tv.InvalidKey, match="does not allow RS256"):
        tv.KeyRegistry().add(FINGERPRINT, jwk, algorithms=["PS384", "RS256"])


@pytest.mark.parametrize("algorithm", ["none", "HS256", "HS384", "HS512"])
def test_hmac_and_none_are_never_accepted(algorithm: str, rsa_issuer_2048: TestIssuer) -> None:
    with pytest.raises(tv.InvalidKey, match="never accepted"):
        tv.KeyRegistry().add(FINGERPRINT, public_of(rsa_issuer_2048), algorithms=[algorithm])


@pytest.mark.parametrize("algorithms", [["XS256"], ["ps384"], ["PS384", "RSA-OAEP"]])
def test_unknown_algorithm_names_are_refused(
    algorithms: list[str], rsa_issuer_2048: TestIssuer
) -> None:
    with pytest.raises(tv.InvalidKey, match="unknown algorithm"):
        tv.KeyRegistry().add(FINGERPRINT, public_of(rsa_issuer_2048), algorithms=algorithms)


def test_empty_algorithm_list_is_refused(rsa_issuer_2048: TestIssuer) -> None:
    with pytest.raises(tv.InvalidKey, match="at least one algorithm"):
        tv.KeyRegistry().add(FINGERPRINT, public_of(rsa_issuer_2048), algorithms=[])


def test_single_algorithm_string_is_one_algorithm(rsa_issuer_2048: TestIssuer) -> None:
    # A bare "PS256" must not be read as the characters P, S, 2, 5, 6.
    (added,) = tv.KeyRegistry().add(FINGERPRINT, public_of(rsa_issuer_2048), algorithms="PS256")
    assert added.algorithms == frozenset({"PS256"})


@pytest.mark.parametrize(
    ("fixture_name", "expected"),
    [
        ("es256_issuer", "ES256"),
        ("es384_issuer", "ES384"),
        ("es512_issuer", "ES512"),
        ("eddsa_issuer", "EdDSA"),
    ],
)
def test_ec_and_ed25519_algorithms_are_inferred(
    fixture_name: str, expected: str, request: pytest.FixtureRequest
) -> None:
    issuer: TestIssuer = request.getfixturevalue(fixture_name)
    for source in (public_of(issuer), spki_pem(public_of(issuer)), jwk_of(public_of(issuer))):
        (added,) = tv.KeyRegistry().add(FINGERPRINT, source)
        assert added.algorithms == frozenset({expected})


@pytest.mark.parametrize("form", ["object", "pem", "jwk"])
def test_rsa_without_algorithms_is_refused(form: str, rsa_issuer_2048: TestIssuer) -> None:
    key = public_of(rsa_issuer_2048)
    source = {"object": key, "pem": spki_pem(key), "jwk": jwk_of(key)}[form]
    registry = tv.KeyRegistry()
    with pytest.raises(tv.InvalidKey, match=r"algorithms=\["):
        registry.add(FINGERPRINT, source)
    assert len(registry) == 0


@pytest.mark.parametrize(
    ("fixture_name", "algorithm"),
    [
        ("es384_issuer", "ES256"),  # ES256 pinned on a P-384 key
        ("es384_issuer", "ES512"),
        ("es256_issuer", "ES384"),
        ("es384_issuer", "PS384"),
        ("rsa_issuer_2048", "ES256"),
        ("rsa_issuer_2048", "EdDSA"),
        ("eddsa_issuer", "ES256"),
        ("eddsa_issuer", "PS256"),
    ],
)
def test_algorithm_unfit_for_the_key_is_refused(
    fixture_name: str, algorithm: str, request: pytest.FixtureRequest
) -> None:
    issuer: TestIssuer = request.getfixturevalue(fixture_name)
    registry = tv.KeyRegistry()
    with pytest.raises(tv.InvalidKey, match=f"cannot verify {algorithm}"):
        registry.add(FINGERPRINT, public_of(issuer), algorithms=[algorithm])
    assert len(registry) == 0


# --- refusals: private, symmetric, weak ----------------------------------------------------


@pytest.mark.parametrize(
    "private_format",
    [serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL],
)
@pytest.mark.parametrize("fixture_name", ["rsa_issuer_2048", "es384_issuer"])
def test_private_key_pem_is_refused(
    private_format: serialization.PrivateFormat,
    fixture_name: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    issuer: TestIssuer = request.getfixturevalue(fixture_name)
    pem = issuer.private_key.private_bytes(
        serialization.Encoding.PEM, private_format, serialization.NoEncryption()
    )
    path = tmp_path / "private.pem"
    path.write_bytes(pem)
    for source in (pem, pem.decode("ascii"), path):
        with pytest.raises(tv.InvalidKey, match="private key"):
            tv.KeyRegistry().add(FINGERPRINT, source, algorithms=[issuer.algorithm])


def test_encrypted_private_key_pem_is_refused(es384_issuer: TestIssuer) -> None:
    pem = es384_issuer.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    )
    with pytest.raises(tv.InvalidKey, match="private key"):
        tv.KeyRegistry().add(FINGERPRINT, pem)


def test_private_key_der_is_refused(rsa_issuer_2048: TestIssuer) -> None:
    der = rsa_issuer_2048.private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(tv.InvalidKey):
        tv.KeyRegistry().add(FINGERPRINT, der, algorithms=["PS256"])


@pytest.mark.parametrize("fixture_name", ["rsa_issuer_2048", "es384_issuer", "eddsa_issuer"])
def test_private_key_object_is_refused(fixture_name: str, request: pytest.FixtureRequest) -> None:
    issuer: TestIssuer = request.getfixturevalue(fixture_name)
    with pytest.raises(tv.InvalidKey, match="private key"):
        tv.KeyRegistry().add(FINGERPRINT, issuer.private_key, algorithms=[issuer.algorithm])  # type: ignore[arg-type]


@pytest.mark.parametrize("member", ["d", "p", "q", "dp", "dq", "qi"])
def test_jwk_with_private_members_is_refused(member: str, rsa_issuer_2048: TestIssuer) -> None:
    jwk = jwk_of(public_of(rsa_issuer_2048), alg="PS256")
    jwk[member] = "AQAB"
    with pytest.raises(tv.InvalidKey, match="private members"):
        tv.KeyRegistry().add(FINGERPRINT, jwk)
    with pytest.raises(tv.InvalidKey, match="private members"):
        tv.KeyRegistry().add(FINGERPRINT, {"keys": [jwk]})


def test_real_private_ec_jwk_is_refused(es384_issuer: TestIssuer) -> None:
    key = es384_issuer.private_key
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    jwk = jwk_of(key.public_key())
    jwk["d"] = _base64url.encode(key.private_numbers().private_value.to_bytes(48, "big"))
    with pytest.raises(tv.InvalidKey, match="private members"):
        tv.KeyRegistry().add(FINGERPRINT, json.dumps(jwk))


@pytest.mark.parametrize(
    "document",
    [
        {"kty": "oct", "k": "c2VjcmV0", "alg": "HS256"},
        {"kty": "oct", "k": "c2VjcmV0"},
        {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]},
    ],
)
def test_symmetric_oct_jwk_is_refused(document: dict[str, Any]) -> None:
    with pytest.raises(tv.InvalidKey, match="oct"):
        tv.KeyRegistry().add(FINGERPRINT, document)


def test_jwk_for_encryption_is_refused(rsa_issuer_2048: TestIssuer) -> None:
    with pytest.raises(tv.InvalidKey, match="'use'"):
        tv.KeyRegistry().add(
            FINGERPRINT, jwk_of(public_of(rsa_issuer_2048), alg="PS256", use="enc")
        )


def test_weak_rsa_1024_is_refused_in_every_form() -> None:
    # The weakness is the point: registration must refuse it.
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()  # noqa: S505
    for source in (weak, spki_pem(weak), spki_der(weak), jwk_of(weak)):
        with pytest.raises(tv.InvalidKey, match="1024 bits"):
            tv.KeyRegistry().add(FINGERPRINT, source, algorithms=["PS256"])


def test_rsa_exponent_other_than_65537_is_refused(rsa_issuer_2048: TestIssuer) -> None:
    modulus = public_of(rsa_issuer_2048).public_numbers().n
    low_exponent = rsa.RSAPublicNumbers(3, modulus).public_key()
    for source in (low_exponent, spki_pem(low_exponent)):
        with pytest.raises(tv.InvalidKey, match="exponent 3"):
            tv.KeyRegistry().add(FINGERPRINT, source, algorithms=["PS256"])


def test_unsupported_curve_is_refused() -> None:
    secp256k1 = ec.generate_private_key(ec.SECP256K1()).public_key()
    for source in (secp256k1, spki_pem(secp256k1)):
        with pytest.raises(tv.InvalidKey, match="secp256k1"):
            tv.KeyRegistry().add(FINGERPRINT, source)


def test_off_curve_ec_jwk_is_refused(es256_issuer: TestIssuer) -> None:
    jwk = jwk_of(public_of(es256_issuer))
    y = int.from_bytes(_base64url.decode(jwk["y"].encode()), "big")
    jwk["y"] = _base64url.encode(((y + 1) % 2**256).to_bytes(32, "big"))
    with pytest.raises(tv.InvalidKey):
        tv.KeyRegistry().add(FINGERPRINT, jwk)


@pytest.mark.parametrize(
    "make_key",
    [
        lambda: ed448.Ed448PrivateKey.generate().public_key(),
        lambda: x25519.X25519PrivateKey.generate().public_key(),
    ],
    ids=["ed448", "x25519"],
)
def test_non_signature_or_unsupported_key_types_are_refused(make_key: Callable[[], Any]) -> None:
    key = make_key()
    for source in (key, spki_pem(key)):
        with pytest.raises(tv.InvalidKey):
            tv.KeyRegistry().add(FINGERPRINT, source, algorithms=["EdDSA"])


@pytest.mark.parametrize(
    "source",
    [b"", b"garbage", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "[]", "{}"],
)
def test_unparsable_sources_are_refused(source: str | bytes) -> None:
    with pytest.raises(tv.InvalidKey):
        tv.KeyRegistry().add(FINGERPRINT, source, algorithms=["PS256"])


def test_missing_key_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(tv.InvalidKey, match="cannot read key file"):
        tv.KeyRegistry().add(FINGERPRINT, tmp_path / "absent.pem", algorithms=["PS256"])


def test_a_bad_key_in_a_jwks_adds_nothing(rsa_issuer_2048: TestIssuer) -> None:
    jwks = {
        "keys": [
            jwk_of(public_of(rsa_issuer_2048), alg="PS256"),
            {"kty": "oct", "k": "c2VjcmV0"},
        ]
    }
    registry = tv.KeyRegistry()
    with pytest.raises(tv.InvalidKey, match="JWKS key 1"):
        registry.add(FINGERPRINT, jwks)
    assert len(registry) == 0
    assert (
        rejection(lambda: verify(registry, token(rsa_issuer_2048))).reason is tv.Reason.unknown_key
    )


@pytest.mark.parametrize(
    "fingerprint", ["", " aws:1:x:issuer-fingerprint", "aws:1:x\n", "a" * 257, "tab\there"]
)
def test_unprintable_or_padded_fingerprints_are_refused(
    fingerprint: str, rsa_issuer_2048: TestIssuer
) -> None:
    with pytest.raises(tv.InvalidKey, match="fingerprint"):
        tv.KeyRegistry().add(fingerprint, public_of(rsa_issuer_2048), algorithms=["PS256"])


# --- duplicates and rotation ---------------------------------------------------------------


def test_same_key_twice_under_one_fingerprint_is_refused(rsa_issuer_2048: TestIssuer) -> None:
    registry = tv.KeyRegistry()
    registry.add(FINGERPRINT, public_of(rsa_issuer_2048), algorithms=["PS256"])
    # Another encoding of the same key, other algorithms: still the same key.
    with pytest.raises(tv.InvalidKey, match="already registered"):
        registry.add(FINGERPRINT, spki_pem(public_of(rsa_issuer_2048)), algorithms=["PS384"])
    assert len(registry) == 1
    assert registry.keys(FINGERPRINT)[0].algorithms == frozenset({"PS256"})


def test_same_key_under_another_fingerprint_is_a_separate_entry(
    rsa_issuer_2048: TestIssuer,
) -> None:
    registry = tv.KeyRegistry()
    registry.add(FINGERPRINT, public_of(rsa_issuer_2048), algorithms=["PS256"])
    registry.add(SECOND_FINGERPRINT, public_of(rsa_issuer_2048), algorithms=["PS256"])
    assert registry.fingerprints() == (FINGERPRINT, SECOND_FINGERPRINT)


def test_jwks_listing_one_key_twice_is_refused(rsa_issuer_2048: TestIssuer) -> None:
    jwk = jwk_of(public_of(rsa_issuer_2048), alg="PS256")
    registry = tv.KeyRegistry()
    with pytest.raises(tv.InvalidKey, match="already registered"):
        registry.add(FINGERPRINT, {"keys": [jwk, dict(jwk)]})
    assert len(registry) == 0


def test_rotation_two_keys_under_one_fingerprint(
    rsa_issuer_2048: TestIssuer, other_issuer: TestIssuer
) -> None:
    old = rsa_issuer_2048
    new = TestIssuer(other_issuer.private_key, "PS384", FINGERPRINT)
    registry = tv.KeyRegistry()
    (old_key,) = registry.add(FINGERPRINT, public_of(old), algorithms=["PS256"], label="2025")
    (new_key,) = registry.add(FINGERPRINT, public_of(new), algorithms=["PS384"], label="2026")
    old_token, new_token = token(old), token(new)
    assert verify(registry, old_token).key_thumbprint == old_key.thumbprint
    assert verify(registry, new_token).key_thumbprint == new_key.thumbprint

    assert registry.remove(FINGERPRINT, old_key.thumbprint) == 1
    assert registry.keys(FINGERPRINT) == (new_key,)
    assert verify(registry, new_token).key_thumbprint == new_key.thumbprint
    # The old key is gone: its token no longer verifies, even naming its thumbprint as kid
    # (a kid that matches nothing falls back to the issuer's keys: the PS384 one).
    assert rejection(lambda: verify(registry, old_token)).reason is tv.Reason.unsupported_algorithm
    old_by_kid = token(old, header={"kid": old_key.thumbprint})
    refused = rejection(lambda: verify(registry, old_by_kid))
    assert refused.reason is tv.Reason.unsupported_algorithm
    assert old_key.thumbprint in refused.description


def test_rotation_same_algorithm_tries_each_key(
    rsa_issuer_2048: TestIssuer, other_issuer: TestIssuer
) -> None:
    first = TestIssuer(rsa_issuer_2048.private_key, "PS384", FINGERPRINT)
    second = TestIssuer(other_issuer.private_key, "PS384", FINGERPRINT)
    registry = tv.KeyRegistry()
    registry.add(FINGERPRINT, public_of(first), algorithms=["PS384"])
    registry.add(FINGERPRINT, public_of(second), algorithms=["PS384"])
    assert verify(registry, token(first)).key_thumbprint == thumbprint(public_of(first))
    assert verify(registry, token(second)).key_thumbprint == thumbprint(public_of(second))
    registry.remove(FINGERPRINT, thumbprint(public_of(second)))
    assert rejection(lambda: verify(registry, token(second))).reason is tv.Reason.bad_signature


def test_remove_without_thumbprint_forgets_the_fingerprint(
    rsa_issuer_2048: TestIssuer, other_issuer: TestIssuer, es384_issuer: TestIssuer
) -> None:
    registry = tv.KeyRegistry()
    registry.add(FINGERPRINT, public_of(rsa_issuer_2048), algorithms=["PS256"])
    registry.add(FINGERPRINT, public_of(other_issuer), algorithms=["PS384"])
    registry.add(SECOND_FINGERPRINT, public_of(es384_issuer))
    assert registry.remove(FINGERPRINT, "no-such-thumbprint") == 0
    assert len(registry) == 3
    assert registry.remove(FINGERPRINT) == 2
    assert registry.fingerprints() == (SECOND_FINGERPRINT,)
    refused = rejection(lambda: verify(registry, token(rsa_issuer_2048)))
    assert refused.reason is tv.Reason.unknown_key


# --- validity windows ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("issued_at", "valid"),
    [
        (datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC), False),
        (datetime(2026, 1, 1, tzinfo=UTC), True),  # bounds are inclusive
        (datetime(2026, 6, 1, 12, tzinfo=UTC), True),
        (datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC), True),
        (datetime(2027, 1, 1, tzinfo=UTC), False),
    ],
)
def test_validity_window_is_checked_against_issued_at(
    issued_at: datetime, valid: bool, rsa_issuer_2048: TestIssuer
) -> None:
    registry = tv.KeyRegistry()
    registry.add(
        FINGERPRINT,
        public_of(rsa_issuer_2048),
        algorithms=["PS256"],
        not_before="2026-01-01T00:00:00Z",
        not_after=datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC),
    )
    signed = token(rsa_issuer_2048, issued_at=issued_at)
    if valid:
        assert verify(registry, signed, issued_at=issued_at).issued_at == issued_at
    else:
        refused = rejection(lambda: verify(registry, signed, issued_at=issued_at))
        assert refused.reason is tv.Reason.key_not_valid


def test_rotation_with_windows_picks_the_key_of_the_time(
    rsa_issuer_2048: TestIssuer, other_issuer: TestIssuer
) -> None:
    old, new = rsa_issuer_2048, TestIssuer(other_issuer.private_key, "PS384", FINGERPRINT)
    switch = datetime(2026, 1, 1, tzinfo=UTC)
    registry = tv.KeyRegistry()
    registry.add(FINGERPRINT, public_of(old), algorithms=["PS256"], not_after=switch)
    registry.add(FINGERPRINT, public_of(new), algorithms=["PS384"], not_before=switch)
    before, after = switch - timedelta(days=1), switch + timedelta(days=1)
    verify(registry, token(old, issued_at=before), issued_at=before)
    verify(registry, token(new, issued_at=after), issued_at=after)
    late_old = token(old, issued_at=after)
    assert rejection(lambda: verify(registry, late_old, issued_at=after)).reason is (
        tv.Reason.key_not_valid
    )


def test_validity_window_backwards_is_refused(rsa_issuer_2048: TestIssuer) -> None:
    registry = tv.KeyRegistry()
    with pytest.raises(tv.InvalidKey, match="never be valid"):
        registry.add(
            FINGERPRINT,
            public_of(rsa_issuer_2048),
            algorithms=["PS256"],
            not_before="2027-01-01T00:00:00Z",
            not_after="2026-01-01T00:00:00Z",
        )
    assert len(registry) == 0


@pytest.mark.parametrize(
    "bound", [datetime(2026, 1, 1), "2026-01-01", "yesterday", "2026-01-01 00:00:00"]
)
def test_naive_or_unreadable_validity_bounds_are_refused(
    bound: datetime | str, rsa_issuer_2048: TestIssuer
) -> None:
    with pytest.raises(tv.InvalidKey, match="not_before"):
        tv.KeyRegistry().add(
            FINGERPRINT, public_of(rsa_issuer_2048), algorithms=["PS256"], not_before=bound
        )


# --- kid lookup ----------------------------------------------------------------------------


@pytest.fixture
def two_issuer_registry(rsa_issuer_2048: TestIssuer, es384_issuer: TestIssuer) -> tv.KeyRegistry:
    """FINGERPRINT -> the RSA key (key_id 'rsa-2026'); SECOND_FINGERPRINT -> the P-384 key."""
    registry = tv.KeyRegistry()
    registry.add(FINGERPRINT, public_of(rsa_issuer_2048), algorithms=["PS256"], key_id="rsa-2026")
    registry.add(SECOND_FINGERPRINT, public_of(es384_issuer))
    return registry


@pytest.mark.parametrize("kid_kind", ["fingerprint", "key_id", "thumbprint"])
@pytest.mark.parametrize("policy_fingerprint", [None, FINGERPRINT])
def test_kid_selects_the_key(
    kid_kind: str,
    policy_fingerprint: str | None,
    two_issuer_registry: tv.KeyRegistry,
    rsa_issuer_2048: TestIssuer,
) -> None:
    kid = {
        "fingerprint": FINGERPRINT,
        "key_id": "rsa-2026",
        "thumbprint": thumbprint(public_of(rsa_issuer_2048)),
    }[kid_kind]
    signed = token(rsa_issuer_2048, header={"kid": kid})
    checkout = verify(two_issuer_registry, signed, fingerprint=policy_fingerprint)
    assert checkout.key_fingerprint == FINGERPRINT
    assert checkout.header["kid"] == kid


def test_unknown_kid_falls_back_to_the_policy_issuers_keys(
    two_issuer_registry: tv.KeyRegistry, rsa_issuer_2048: TestIssuer
) -> None:
    # The right key sits under the policy's fingerprint; the kid names nothing known, so it
    # is a hint that did not help, and the policy issuer's keys are tried.
    signed = token(rsa_issuer_2048, header={"kid": "rsa-2027"})
    checkout = verify(two_issuer_registry, signed, fingerprint=FINGERPRINT)
    assert checkout.key_fingerprint == FINGERPRINT
    assert checkout.header["kid"] == "rsa-2027"
    # Without a policy, two issuers: the kid cannot say whose token it is.
    refused = rejection(lambda: verify(two_issuer_registry, signed, fingerprint=None))
    assert refused.reason is tv.Reason.unknown_key
    assert "rsa-2027" in refused.description
    assert "Policy(key_fingerprint=...)" in refused.description


def test_kid_of_another_fingerprint_than_the_policy_never_reaches_its_keys(
    two_issuer_registry: tv.KeyRegistry, es384_issuer: TestIssuer
) -> None:
    signer = TestIssuer(es384_issuer.private_key, "ES384", SECOND_FINGERPRINT)
    signed = token(signer, header={"kid": SECOND_FINGERPRINT})
    assert verify(two_issuer_registry, signed, fingerprint=None).key_fingerprint == (
        SECOND_FINGERPRINT
    )
    # The policy's issuer holds only a PS256 key: the ES384 token cannot be its.
    refused = rejection(lambda: verify(two_issuer_registry, signed, fingerprint=FINGERPRINT))
    assert refused.reason is tv.Reason.unsupported_algorithm
    assert FINGERPRINT in refused.description


@pytest.mark.parametrize(
    "near_miss",
    ["RSA-2026", "rsa-2026 ", "rsa\u20112026", FINGERPRINT.lower(), FINGERPRINT + "\x00"],
)
def test_kid_lookup_is_exact(
    near_miss: str, two_issuer_registry: tv.KeyRegistry, rsa_issuer_2048: TestIssuer
) -> None:
    # No expected issuer (several, no policy): a near miss matches nothing, so no key.
    signed = token(rsa_issuer_2048, header={"kid": near_miss})
    refused = rejection(lambda: verify(two_issuer_registry, signed, fingerprint=None))
    assert refused.reason is tv.Reason.unknown_key


def test_no_kid_and_several_fingerprints_needs_a_policy_fingerprint(
    two_issuer_registry: tv.KeyRegistry, rsa_issuer_2048: TestIssuer
) -> None:
    signed = token(rsa_issuer_2048)
    refused = rejection(lambda: verify(two_issuer_registry, signed, fingerprint=None))
    assert refused.reason is tv.Reason.unknown_key
    assert "Policy(key_fingerprint=...)" in refused.description
    assert verify(two_issuer_registry, signed, fingerprint=FINGERPRINT).key_fingerprint == (
        FINGERPRINT
    )


def test_no_kid_and_one_fingerprint_needs_no_policy(rsa_issuer_2048: TestIssuer) -> None:
    registry = tv.KeyRegistry()
    registry.add(FINGERPRINT, public_of(rsa_issuer_2048), algorithms=["PS256"])
    assert verify(registry, token(rsa_issuer_2048), fingerprint=None).key_fingerprint == FINGERPRINT


def test_policy_fingerprint_without_keys_is_unknown(rsa_issuer_2048: TestIssuer) -> None:
    registry = tv.KeyRegistry()
    registry.add(FINGERPRINT, public_of(rsa_issuer_2048), algorithms=["PS256"])
    signed = token(rsa_issuer_2048)
    refused = rejection(lambda: verify(registry, signed, fingerprint=SECOND_FINGERPRINT))
    assert refused.reason is tv.Reason.unknown_key
    assert SECOND_FINGERPRINT in refused.description


def test_empty_registry_says_so(rsa_issuer_2048: TestIssuer) -> None:
    refused = rejection(lambda: verify(tv.KeyRegistry(), token(rsa_issuer_2048), fingerprint=None))
    assert refused.reason is tv.Reason.unknown_key
    assert "empty" in refused.description


# --- RFC 7638 thumbprint -------------------------------------------------------------------


def test_thumbprint_matches_rfc7638_example() -> None:
    example = {"kty": "RSA", "n": RFC7638_N, "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"}
    (added,) = tv.KeyRegistry().add(FINGERPRINT, example)
    assert added.thumbprint == RFC7638_THUMBPRINT
    assert added.key_id == "2011-04-29"
    assert added.algorithms == frozenset({"RS256"})


def test_thumbprint_is_the_same_for_every_encoding(
    rsa_issuer_2048: TestIssuer, es384_issuer: TestIssuer, eddsa_issuer: TestIssuer
) -> None:
    for issuer in (rsa_issuer_2048, es384_issuer, eddsa_issuer):
        key = public_of(issuer)
        registered = {
            tv.KeyRegistry().add(FINGERPRINT, source, algorithms=[issuer.algorithm])[0].thumbprint
            for source in (key, spki_pem(key), spki_der(key), jwk_of(key))
        }
        assert len(registered) == 1
        assert len(registered.pop()) == 43  # SHA-256 in unpadded base64url


# --- save / load ---------------------------------------------------------------------------


@pytest.fixture
def mixed_registry(
    rsa_issuer_2048: TestIssuer, es384_issuer: TestIssuer, eddsa_issuer: TestIssuer
) -> tv.KeyRegistry:
    registry = tv.KeyRegistry()
    registry.add(
        FINGERPRINT,
        public_of(rsa_issuer_2048),
        algorithms=["PS256", "PS384"],
        not_before="2026-01-01T00:00:00Z",
        not_after="2027-01-01T00:00:00+02:00",
        label="KMS key of 2026",
        key_id=KMS_KEY_ARN,
    )
    registry.add(FINGERPRINT, public_of(eddsa_issuer))
    registry.add(SECOND_FINGERPRINT, public_of(es384_issuer), label="second issuer")
    return registry


def key_summary(registry: tv.KeyRegistry) -> list[tuple[Any, ...]]:
    return [
        (
            k.fingerprint,
            k.thumbprint,
            k.algorithms,
            k.not_before,
            k.not_after,
            k.label,
            k.key_id,
            k.description,
        )
        for k in registry
    ]


def test_save_load_round_trip_keeps_everything(
    mixed_registry: tv.KeyRegistry, rsa_issuer_2048: TestIssuer, tmp_path: Path
) -> None:
    path = tmp_path / "keys.json"
    mixed_registry.save(path)
    loaded = tv.KeyRegistry.load(path)
    assert key_summary(loaded) == key_summary(mixed_registry)
    first = loaded.keys(FINGERPRINT)[0]
    assert first.not_before == datetime(2026, 1, 1, tzinfo=UTC)
    assert first.not_after == datetime(2026, 12, 31, 22, tzinfo=UTC)
    # The loaded registry verifies (by KMS key id kid too) and keeps the window.
    issued = datetime(2026, 3, 1, tzinfo=UTC)
    verify(
        loaded,
        token(rsa_issuer_2048, issued_at=issued, header={"kid": KMS_KEY_ARN}),
        issued_at=issued,
    )
    late = datetime(2027, 3, 1, tzinfo=UTC)
    refused = rejection(
        lambda: verify(loaded, token(rsa_issuer_2048, issued_at=late), issued_at=late)
    )
    assert refused.reason is tv.Reason.key_not_valid
    # Saving the loaded registry gives the same file: nothing drifts across round trips.
    again = tmp_path / "again.json"
    loaded.save(again)
    assert again.read_bytes() == path.read_bytes()


def test_saved_file_holds_public_keys_only(mixed_registry: tv.KeyRegistry, tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    mixed_registry.save(str(path))  # a str path is fine for a keys file
    text = path.read_text()
    assert "PRIVATE" not in text
    document = json.loads(text)
    assert document["format"] == "tokenverify-keys"
    assert document["version"] == 1
    assert [entry["public_key"].splitlines()[0] for entry in document["keys"]] == [
        "-----BEGIN PUBLIC KEY-----"
    ] * 3


def edit_saved(
    registry: tv.KeyRegistry, path: Path, change: Callable[[dict[str, Any]], None]
) -> Path:
    registry.save(path)
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))
    return path


def _set_first(name: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        document["keys"][0][name] = value

    return change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_set_first("thumbprint", RFC7638_THUMBPRINT), "does not match its public key"),
        (_set_first("colour", "blue"), "colour"),
        (
            _set_first(
                "public_key", "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n"
            ),
            "key 0",
        ),
        (_set_first("public_key", "hello"), "key 0"),
        (_set_first("algorithms", ["HS256"]), "algorithms"),
        (_set_first("algorithms", ["ES256"]), "cannot verify ES256"),
        (_set_first("algorithms", []), "algorithms"),
        (_set_first("not_before", "2026-01-01T00:00:00"), "not_before"),
        (_set_first("not_before", "2028-01-01T00:00:00Z"), "never be valid"),
        (_set_first("fingerprint", ""), "fingerprint"),
        (lambda document: document.update(version=2), "version"),
        (lambda document: document.update(format="jwks"), "format"),
        (lambda document: document.update(extra=True), "extra"),
        (lambda document: document["keys"].append(document["keys"][0]), "already registered"),
    ],
)
def test_load_of_a_hand_edited_file_is_refused_clearly(
    change: Callable[[dict[str, Any]], None],
    message: str,
    mixed_registry: tv.KeyRegistry,
    tmp_path: Path,
) -> None:
    path = edit_saved(mixed_registry, tmp_path / "keys.json", change)
    with pytest.raises(tv.InvalidKey, match=message) as caught:
        tv.KeyRegistry.load(path)
    assert str(path) in str(caught.value)


def test_load_of_a_private_key_in_the_file_is_refused(
    mixed_registry: tv.KeyRegistry, rsa_issuer_2048: TestIssuer, tmp_path: Path
) -> None:
    path = edit_saved(
        mixed_registry,
        tmp_path / "keys.json",
        _set_first("public_key", rsa_issuer_2048.private_pem()),
    )
    with pytest.raises(tv.InvalidKey, match="private key"):
        tv.KeyRegistry.load(path)


@pytest.mark.parametrize("content", [None, b"", b"not json", b"[]", b'{"keys": 5}', b"\xff\xfe"])
def test_load_of_missing_or_unreadable_file_is_refused(
    content: bytes | None, tmp_path: Path
) -> None:
    path = tmp_path / "keys.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(tv.InvalidKey, match="keys file") as caught:
        tv.KeyRegistry.load(path)
    if content is None:
        assert "cannot read" in str(caught.value)


def test_load_of_a_file_without_thumbprints_still_works(
    mixed_registry: tv.KeyRegistry, tmp_path: Path
) -> None:
    # Hand-written files may leave the thumbprint out; it is then computed, not checked.
    def drop_thumbprints(document: dict[str, Any]) -> None:
        for entry in document["keys"]:
            del entry["thumbprint"]

    path = edit_saved(mixed_registry, tmp_path / "keys.json", drop_thumbprints)
    assert key_summary(tv.KeyRegistry.load(path)) == key_summary(mixed_registry)


def test_empty_registry_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    tv.KeyRegistry().save(path)
    assert len(tv.KeyRegistry.load(path)) == 0


# --- keys file JSON Schema -----------------------------------------------------------------


def _jsonschema_validator() -> Any | None:
    """jsonschema's validator for the keys file schema, or None when it is not installed."""
    if importlib.util.find_spec("jsonschema") is None:
        return None
    jsonschema = importlib.import_module("jsonschema")
    return jsonschema.Draft202012Validator(json_schema())


def test_json_schema_describes_the_keys_file() -> None:
    schema = json_schema()
    json.dumps(schema)  # a schema is plain JSON
    assert set(schema["properties"]) == {"format", "version", "keys"}
    assert schema["additionalProperties"] is False
    entry = schema["$defs"]["KeyFileEntry"]
    assert set(entry["required"]) == {"fingerprint", "public_key", "algorithms"}
    assert entry["additionalProperties"] is False
    algorithms = entry["properties"]["algorithms"]["items"]["enum"]
    assert set(algorithms) == {
        "PS256", "PS384", "PS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "EdDSA"
    }  # fmt: skip
    assert not {"none", "HS256", "HS384", "HS512"} & set(algorithms)


def test_json_schema_validates_a_saved_file(mixed_registry: tv.KeyRegistry, tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    mixed_registry.save(path)
    document = json.loads(path.read_text())
    validator = _jsonschema_validator()
    if validator is not None:
        validator.validate(document)
        bad = json.loads(path.read_text())
        bad["keys"][0]["algorithms"] = ["HS256"]
        assert not validator.is_valid(bad)
        bad = json.loads(path.read_text())
        bad["keys"][0]["colour"] = "blue"
        assert not validator.is_valid(bad)
    # Without jsonschema (not a dev dependency), the model behind the schema must take the
    # file and give it back unchanged.
    model = KeyFile.model_validate_json(path.read_bytes())
    assert model.model_dump(mode="json") == document


# --- every unusable key ends in InvalidKey (issue 8, item 7) -------------------------------

# Curves the installed cryptography cannot load at all: OpenSSL names them by OID and
# cryptography raises UnsupportedAlgorithm, which must never reach the caller. Generated
# with `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:sect571r1` (and SM2).
SECT571R1_PEM = """-----BEGIN PUBLIC KEY-----
MIGnMBAGByqGSM49AgEGBSuBBAAnA4GSAAQHOkhhlDHz9bWq/6yvoEjxZY6VlHXk
d9xPV+ZbpnAyVh4ZEg4EN34Ks1X9wxZNYuQ5AA3thBUJcgQgMWY5WShvl7m30apL
3E8DwP2UE0oDVBBJlYkigO1KzC0mZCKXEEe5utr75pMbO06W5B2XsAPyIlFooS99
e0IoHRhl5Um1gnnlamrUiiZyFbJrYmUyVtw=
-----END PUBLIC KEY-----
"""
SM2_PEM = """-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAEia3itzqzMcmOICZG7Z2yZiKmRm/8
lPbduou57c2mCbZZCLgIOYKiNnm0c9S0Qeb6Dj3z2pkA1vUeiqXtirUjLw==
-----END PUBLIC KEY-----
"""


def _pem_to_der(pem: str) -> bytes:
    body = "".join(line for line in pem.splitlines() if not line.startswith("-----"))
    return base64.b64decode(body)


@pytest.mark.parametrize(
    ("pem", "oid"),
    [(SECT571R1_PEM, "1.3.132.0.39"), (SM2_PEM, "1.2.156.10197.1.301")],
    ids=["sect571r1", "SM2"],
)
def test_key_on_a_curve_cryptography_cannot_load_is_invalid_key(
    pem: str, oid: str, tmp_path: Path
) -> None:
    der = _pem_to_der(pem)
    path = tmp_path / "key.der"
    path.write_bytes(der)
    kms = {"PublicKey": base64.b64encode(der).decode(), "SigningAlgorithms": ["SM2DSA"]}
    for source in (pem, pem.encode(), der, path, kms):
        with pytest.raises(tv.InvalidKey, match=oid) as caught:
            tv.KeyRegistry().add(FINGERPRINT, source)
        assert "P-256/384/521" in str(caught.value)


@pytest.mark.parametrize(
    "curve", [ec.SECP256K1(), ec.SECP192R1(), ec.BrainpoolP256R1()], ids=lambda c: c.name
)
def test_key_on_a_curve_we_do_not_verify_is_invalid_key(curve: ec.EllipticCurve) -> None:
    public = ec.generate_private_key(curve).public_key()
    for source in (public, spki_pem(public), spki_der(public)):
        with pytest.raises(tv.InvalidKey, match=curve.name):
            tv.KeyRegistry().add(FINGERPRINT, source, algorithms=["ES256"])


def _private_keys() -> list[object]:
    return [
        rsa.generate_private_key(65537, 2048),
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256K1()),  # private and on an unsupported curve
        ed448.Ed448PrivateKey.generate(),
    ]


@pytest.mark.parametrize(
    "source",
    [None, 42, 4.2, True, [], ["PEM"], {"a"}, (1, 2), object(), b"\x00garbage\xff", "", range(3)],
    ids=[
        "None",
        "int",
        "float",
        "bool",
        "empty-list",
        "list",
        "set",
        "tuple",
        "object",
        "garbage-bytes",
        "empty-str",
        "range",
    ],
)
def test_any_value_that_is_not_a_key_is_invalid_key(source: object) -> None:
    with pytest.raises(tv.InvalidKey):
        tv.KeyRegistry().add(FINGERPRINT, source)  # type: ignore[arg-type]


def test_private_key_objects_are_invalid_key() -> None:
    for private in _private_keys():
        with pytest.raises(tv.InvalidKey, match="private key"):
            tv.KeyRegistry().add(FINGERPRINT, private, algorithms=["ES256"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("argument", "value"),
    [
        ("algorithms", 42),
        ("algorithms", [1]),
        ("algorithms", {"PS256": True}),
        ("algorithms", []),
        ("not_before", 1700000000),
        ("not_after", ["2026-01-01"]),
        ("label", 7),
        ("key_id", b"kid"),
    ],
)
def test_arguments_of_the_wrong_type_are_invalid_key(
    argument: str, value: object, rsa_issuer_2048: TestIssuer
) -> None:
    arguments: dict[str, Any] = {"algorithms": ["PS256"], argument: value}
    registry = tv.KeyRegistry()
    with pytest.raises(tv.InvalidKey):
        registry.add(FINGERPRINT, public_of(rsa_issuer_2048), **arguments)
    assert len(registry) == 0


@pytest.mark.parametrize("path", [None, 0, 3, 4.2, b"keys.json", ["keys.json"], object()], ids=repr)
def test_keys_file_named_by_anything_but_a_path_is_invalid_key(path: object) -> None:
    # An int in particular: open() would read that file descriptor.
    with pytest.raises(tv.InvalidKey, match="str or path"):
        tv.KeyRegistry.load(path)  # type: ignore[arg-type]


def test_keys_file_of_garbage_is_invalid_key(tmp_path: Path) -> None:
    for content in (b"\x00\xff\xfe garbage", b"", b"[]", codecs.BOM_UTF16_LE + b"{\x00\x00\xd8"):
        path = tmp_path / "keys.json"
        path.write_bytes(content)
        with pytest.raises(tv.InvalidKey, match="keys file"):
            tv.KeyRegistry.load(path)


_KEY_MEMBERS = [
    "PublicKey", "SigningAlgorithms", "KeyUsage", "KeyId", "kty", "crv", "x", "y", "n", "e",
    "keys", "alg", "use", "key_ops", "kid", "format", "SignedToken", "d",
]  # fmt: skip
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=40)
    | st.binary(max_size=40)
    | st.sampled_from(["RSA", "EC", "OKP", "oct", "P-256", "Ed25519", "AQAB", "SIGN_VERIFY"])
)
_ANY_VALUE = st.recursive(
    _SCALARS
    | st.builds(object)
    | st.complex_numbers()
    | st.decimals()
    | st.datetimes()
    | st.frozensets(st.integers(), max_size=3),
    lambda children: (
        st.lists(children, max_size=4)
        | st.tuples(children, children)
        | st.dictionaries(st.sampled_from(_KEY_MEMBERS) | st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=12,
)


@given(
    fingerprint=st.just(FINGERPRINT) | _ANY_VALUE,
    key=_ANY_VALUE,
    algorithms=st.none() | st.just(["PS256"]) | _ANY_VALUE,
    not_before=st.none() | _ANY_VALUE,
    label=st.none() | _ANY_VALUE,
)
def test_registry_add_of_any_value_raises_only_invalid_key(
    fingerprint: Any, key: Any, algorithms: Any, not_before: Any, label: Any
) -> None:
    registry = tv.KeyRegistry()
    try:
        added = registry.add(
            fingerprint, key, algorithms=algorithms, not_before=not_before, label=label
        )
    except tv.InvalidKey as refusal:
        message = str(refusal)
        added = []
    else:  # only a genuine key can be added, and then it is pinned
        message = ""
        assert added
        assert all(entry.algorithms for entry in added)
    assert len(registry) == len(added)
    assert bool(message) != bool(added)
