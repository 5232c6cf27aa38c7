"""``TestIssuer`` mints every shape AWS may emit, at the length AWS's model demands.

Each shape is minted, then decoded here by hand (not by tokenverify) and its exact
structure asserted; then verified (kid unknown to the registry, an ``x5c`` chain, any
``typ``, checkoutMetadata as a list: every shape the verifier accepts).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

import tokenverify as tv
from tokenverify.testing import (
    MIN_SIGNED_TOKEN_LENGTH,
    PADDING_CLAIM,
    MetadataShape,
    TestIssuer,
)

from .forms import every_form

FINGERPRINT = "aws:111122223333:Shapes:issuer-fingerprint"
KMS_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
#: AWS's sample payload, member for member and in its order.
AWS_SAMPLE_CLAIMS = [
    "licenseArn",
    "licenseConsumptionToken",
    "entitlementsAllowed",
    "nodeId",
    "issuedAt",
    "expiration",
]


@pytest.fixture(scope="module")
def rsa2048() -> TestIssuer:
    return TestIssuer.generate("PS384", FINGERPRINT, key_size=2048)


@pytest.fixture(scope="module")
def rsa4096(ps384_issuer: TestIssuer) -> TestIssuer:
    """AWS's sample key (shared with the rest of the suite: RSA-4096 keygen is slow)."""
    return TestIssuer(ps384_issuer.private_key, "PS384", FINGERPRINT)


@pytest.fixture(scope="module")
def es256() -> TestIssuer:
    return TestIssuer.generate("ES256", FINGERPRINT)


@pytest.fixture(scope="module")
def eddsa() -> TestIssuer:
    return TestIssuer.generate("EdDSA", FINGERPRINT)


def decode(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and payload, by hand: base64url and json, nothing of tokenverify."""
    header, payload, _ = token.split(".")
    decoded = [
        json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
        for part in (header, payload)
    ]
    return decoded[0], decoded[1]


def pem_registry(issuer: TestIssuer) -> tv.KeyRegistry:
    """A registry as AWS's sample builds it: the public PEM, pinned to PS384, no key id."""
    registry = tv.KeyRegistry()
    registry.add(FINGERPRINT, issuer.public_pem(), algorithms=[issuer.algorithm])
    return registry


# -- length -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["rsa2048", "rsa4096", "es256", "eddsa"])
@pytest.mark.parametrize("borrow", [False, True], ids=["checkout", "borrow"])
def test_default_tokens_reach_the_model_minimum_by_the_padding_claim_alone(
    request: pytest.FixtureRequest, name: str, borrow: bool
) -> None:
    issuer: TestIssuer = request.getfixturevalue(name)
    metadata = {"Mac": "02:42:ac:11:00:02"} if borrow else None
    response = issuer.checkout(node_id="node-7", borrow=borrow, checkout_metadata=metadata)
    token = response["SignedToken"]
    # At least the minimum, and no more than one over (base64 lengths skip 1 mod 4).
    assert MIN_SIGNED_TOKEN_LENGTH <= len(token) <= MIN_SIGNED_TOKEN_LENGTH + 1
    header, payload = decode(token)
    assert header == {"alg": issuer.algorithm, "typ": "JWT"}
    # AWS's documented payload, untouched, then the padding: last, test-only, all dots.
    expected = AWS_SAMPLE_CLAIMS + (["checkoutMetadata"] if borrow else []) + [PADDING_CLAIM]
    assert list(payload) == expected
    assert payload[PADDING_CLAIM]
    assert set(payload[PADDING_CLAIM]) == {"."}
    assert payload["nodeId"] == response["NodeId"] == "node-7"
    assert payload["licenseArn"] == response["LicenseArn"]


def test_padded_checkout_verifies_in_every_form_and_keeps_the_claim(
    rsa2048: TestIssuer, tmp_path: Path
) -> None:
    response = rsa2048.checkout(node_id="node-7", borrow=True, checkout_metadata={"Mac": "m-1"})
    verifier = tv.Verifier(pem_registry(rsa2048), tv.Policy(node_id="node-7"))
    for form, source in every_form(response, tmp_path):
        checkout = verifier.verify(source)
        assert checkout.node_id == "node-7", form
        assert dict(checkout.checkout_metadata) == {"Mac": "m-1"}, form
        assert set(checkout.claims[PADDING_CLAIM]) == {"."}, form


@pytest.mark.parametrize("minimum", [0, 1000, 4096, 4097, 4098, 4099, 5000, 20000])
def test_min_token_length_is_met_tightly_or_not_padded(eddsa: TestIssuer, minimum: int) -> None:
    exact = eddsa.checkout(min_token_length=0)["SignedToken"]
    token = eddsa.checkout(min_token_length=minimum)["SignedToken"]
    padded = PADDING_CLAIM in decode(token)[1]
    assert padded == (len(exact) < minimum)
    if padded:
        assert minimum <= len(token) <= minimum + 1
    else:
        assert len(token) == len(exact)
    tv.Verifier(eddsa.registry()).verify(token)


def test_a_token_long_by_its_claims_gets_no_padding(rsa2048: TestIssuer) -> None:
    entitlements = [(f"Feature-{n:03}", None, "None") for n in range(120)]
    token = rsa2048.checkout(entitlements=entitlements)["SignedToken"]
    assert len(token) > MIN_SIGNED_TOKEN_LENGTH
    assert PADDING_CLAIM not in decode(token)[1]


def test_claims_and_sign_stay_exact(rsa2048: TestIssuer) -> None:
    payload = rsa2048.claims()
    assert list(payload) == AWS_SAMPLE_CLAIMS
    assert decode(rsa2048.sign(payload))[1] == payload


# -- kid ----------------------------------------------------------------------------------


def test_kid_any_string_in_the_header(rsa2048: TestIssuer) -> None:
    token = rsa2048.checkout(kid=KMS_ARN)["SignedToken"]
    assert decode(token)[0] == {"alg": "PS384", "typ": "JWT", "kid": KMS_ARN}
    # The issuer's own kid is the default, and a per-token kid wins over it.
    named = TestIssuer(rsa2048.private_key, "PS384", FINGERPRINT, kid="issuer-kid")
    assert decode(named.checkout()["SignedToken"])[0]["kid"] == "issuer-kid"
    assert decode(named.checkout(kid=KMS_ARN)["SignedToken"])[0]["kid"] == KMS_ARN
    assert "kid" not in decode(named.checkout(header={"kid": None})["SignedToken"])[0]


def test_kid_the_registry_knows_verifies(rsa2048: TestIssuer) -> None:
    issuer = TestIssuer(rsa2048.private_key, "PS384", FINGERPRINT, kid=KMS_ARN)
    checkout = tv.Verifier(issuer.registry()).verify(issuer.checkout())
    assert checkout.header["kid"] == KMS_ARN


def test_kid_unknown_to_a_pem_registry_verifies(rsa2048: TestIssuer) -> None:
    tv.Verifier(pem_registry(rsa2048)).verify(rsa2048.checkout(kid=KMS_ARN))


# -- x5c ----------------------------------------------------------------------------------


@pytest.mark.parametrize("length", [1, 3])
def test_x5c_is_a_genuine_chain_of_the_issuer_key(rsa4096: TestIssuer, length: int) -> None:
    response = rsa4096.checkout(x5c=length)
    header, _ = decode(response["SignedToken"])
    assert list(header) == ["alg", "typ", "x5c"]
    chain = [
        x509.load_der_x509_certificate(base64.b64decode(c, validate=True)) for c in header["x5c"]
    ]
    assert len(chain) == length
    for certificate, issuer in zip(chain, [*chain[1:], chain[-1]], strict=True):
        assert certificate.public_key() == rsa4096.private_key.public_key()
        certificate.verify_directly_issued_by(issuer)  # raises if not
    assert chain[-1].subject == chain[-1].issuer
    assert len(response["SignedToken"]) >= MIN_SIGNED_TOKEN_LENGTH


def test_x5c_given_as_certificates_or_der_is_used_as_is(rsa2048: TestIssuer) -> None:
    chain = [c.public_bytes(serialization.Encoding.DER) for c in rsa2048.certificate_chain(2)]
    given: list[bytes | x509.Certificate] = [x509.load_der_x509_certificate(chain[0]), chain[1]]
    header, _ = decode(rsa2048.checkout(x5c=given)["SignedToken"])
    assert [base64.b64decode(c, validate=True) for c in header["x5c"]] == chain


def test_x5c_of_one_rsa4096_certificate_verifies(rsa4096: TestIssuer) -> None:
    checkout = tv.Verifier(rsa4096.registry()).verify(rsa4096.checkout(x5c=1))
    assert len(checkout.header["x5c"]) == 1


def test_x5c_chain_of_three_rsa4096_certificates_verifies(rsa4096: TestIssuer) -> None:
    tv.Verifier(rsa4096.registry()).verify(rsa4096.checkout(x5c=3))


# -- typ ----------------------------------------------------------------------------------


@pytest.mark.parametrize("typ", [None, "JWT", "JWS", "", "application/jose+json"])
def test_typ_is_any_string_or_absent(eddsa: TestIssuer, typ: str | None) -> None:
    header, _ = decode(eddsa.checkout(typ=typ)["SignedToken"])
    assert header == ({"alg": "EdDSA"} if typ is None else {"alg": "EdDSA", "typ": typ})


@pytest.mark.parametrize("typ", [None, "JWT", "jose"])
def test_typ_main_accepts_verifies(eddsa: TestIssuer, typ: str | None) -> None:
    tv.Verifier(eddsa.registry()).verify(eddsa.checkout(typ=typ))


def test_typ_jws_verifies(eddsa: TestIssuer) -> None:
    tv.Verifier(eddsa.registry()).verify(eddsa.checkout(typ="JWS"))


# -- checkoutMetadata -------------------------------------------------------------------

METADATA = {"Mac": "02:42:ac:11:00:02", "Hostname": "build-7"}
SIGNED_METADATA: dict[str, Any] = {
    "object": METADATA,
    "list": [{"name": "Mac", "value": METADATA["Mac"]}, {"name": "Hostname", "value": "build-7"}],
    "api-list": [
        {"Name": "Mac", "Value": METADATA["Mac"]},
        {"Name": "Hostname", "Value": "build-7"},
    ],
}


@pytest.mark.parametrize("shape", ["object", "list", "api-list"])
def test_metadata_is_signed_in_the_shape_asked_and_returned_as_the_api_list(
    es256: TestIssuer, shape: MetadataShape
) -> None:
    response = es256.checkout(borrow=True, checkout_metadata=METADATA, metadata_shape=shape)
    assert decode(response["SignedToken"])[1]["checkoutMetadata"] == SIGNED_METADATA[shape]
    assert response["CheckoutMetadata"] == SIGNED_METADATA["api-list"]


def test_metadata_pairs_may_repeat_a_name_only_in_a_list(es256: TestIssuer) -> None:
    pairs = [("Mac", "m-1"), ("Mac", "m-2")]
    payload = decode(es256.checkout(checkout_metadata=pairs, metadata_shape="list")["SignedToken"])[
        1
    ]
    assert payload["checkoutMetadata"] == [
        {"name": "Mac", "value": "m-1"},
        {"name": "Mac", "value": "m-2"},
    ]
    with pytest.raises(ValueError, match="cannot repeat"):
        es256.checkout(checkout_metadata=pairs)
    with pytest.raises(ValueError, match="metadata_shape"):
        es256.checkout(checkout_metadata=pairs, metadata_shape="tuple")  # type: ignore[arg-type]


def test_metadata_object_verifies(es256: TestIssuer) -> None:
    checkout = tv.Verifier(es256.registry()).verify(
        es256.checkout(borrow=True, checkout_metadata=METADATA)
    )
    assert dict(checkout.checkout_metadata) == METADATA


@pytest.mark.parametrize("shape", ["list", "api-list"])
def test_metadata_list_verifies(es256: TestIssuer, shape: MetadataShape) -> None:
    checkout = tv.Verifier(es256.registry()).verify(
        es256.checkout(borrow=True, checkout_metadata=METADATA, metadata_shape=shape)
    )
    assert dict(checkout.checkout_metadata) == METADATA


# -- extra claims -----------------------------------------------------------------------

EXTRA_CLAIMS: dict[str, Any] = {
    "licenseDetails": {"tier": "pro", "regions": ["eu-west-1", "us-east-1"], "trial": False},
    "seats": [1, 2.5, -3, 10**20, True, {"nested": [[]]}],
    "note": "ünïcode ✓",
    "empty": {},
}


def test_extra_claims_of_any_json_shape_are_signed_and_verify(es256: TestIssuer) -> None:
    response = es256.checkout(claims=EXTRA_CLAIMS)
    payload = decode(response["SignedToken"])[1]
    assert {name: payload[name] for name in EXTRA_CLAIMS} == EXTRA_CLAIMS
    assert list(payload)[: len(AWS_SAMPLE_CLAIMS)] == AWS_SAMPLE_CLAIMS
    checkout = tv.Verifier(es256.registry()).verify(response)
    assert {name: checkout.claims[name] for name in EXTRA_CLAIMS} == EXTRA_CLAIMS
