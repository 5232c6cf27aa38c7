"""Files people carry in (issue 8, item 4) and KMS keys pinned to PSS (item 5).

A saved response, a bare token, a KMS key, a keys, policy or revocations file reaches us
in whatever encoding the user's shell wrote: each is decoded once, by BOM, at the edge,
and the size limit is judged on the decoded text. A document that is not what was asked
for is named as what it looks like, never reported as a JSON or base64 error.
"""

from __future__ import annotations

import base64
import codecs
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import given
from hypothesis import strategies as st

import tokenverify as tv
from tokenverify.formats._policy_file import load_policy_file
from tokenverify.testing import TestIssuer

from .forms import ALL_FORMS, ENCODINGS, encode, every_form

ISSUED = datetime(2026, 1, 1, tzinfo=UTC)
NOW = ISSUED + timedelta(minutes=10)
NODE = "node-7"
KMS_KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
RSA_SIGNING_ALGORITHMS = [
    "RSASSA_PKCS1_V1_5_SHA_256",
    "RSASSA_PKCS1_V1_5_SHA_384",
    "RSASSA_PKCS1_V1_5_SHA_512",
    "RSASSA_PSS_SHA_256",
    "RSASSA_PSS_SHA_384",
    "RSASSA_PSS_SHA_512",
]


@pytest.fixture(scope="module")
def issuer(ps256_issuer: TestIssuer) -> TestIssuer:
    return ps256_issuer


@pytest.fixture(scope="module")
def verifier(issuer: TestIssuer) -> tv.Verifier:
    return tv.Verifier(
        issuer.registry(), tv.Policy(key_fingerprint=issuer.fingerprint, node_id=NODE)
    )


@pytest.fixture(scope="module")
def response(issuer: TestIssuer) -> dict[str, Any]:
    return issuer.checkout(
        node_id=NODE,
        issued_at=ISSUED,
        entitlements=[("Users", "10", "Count")],
        # Non-ASCII plaintext: the encodings must round-trip it, not just ASCII.
        envelope={"NodeId": NODE, "Note": "nœud 東京"},
    )


def kms_document(issuer: TestIssuer) -> dict[str, Any]:
    """What ``aws kms get-public-key --output json`` prints for an RSA signing key."""
    der = issuer.private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {
        "KeyId": KMS_KEY_ARN,
        "PublicKey": base64.b64encode(der).decode("ascii"),
        "CustomerMasterKeySpec": "RSA_2048",
        "KeySpec": "RSA_2048",
        "KeyUsage": "SIGN_VERIFY",
        "SigningAlgorithms": RSA_SIGNING_ALGORITHMS,
    }


def rejection(verifier: tv.Verifier, source: object) -> tv.TokenRejected:
    with pytest.raises(tv.TokenRejected) as caught:
        verifier.verify(source, now=NOW)
    return caught.value


# --- saved responses and tokens in every encoding ------------------------------------------


def test_every_form_gives_the_same_checkout(
    verifier: tv.Verifier, response: dict[str, Any], tmp_path: Path
) -> None:
    expected = verifier.verify(response, now=NOW)
    assert len(ALL_FORMS) >= 20  # the encoded forms are part of ALL_FORMS
    for name, source in every_form(response, tmp_path):
        checkout = verifier.verify(source, now=NOW)
        assert checkout.claims == expected.claims, name
        assert checkout.node_id == NODE, name


def test_powershell_redirect_of_a_token_is_utf16_with_bom_and_crlf(
    verifier: tv.Verifier, response: dict[str, Any], tmp_path: Path
) -> None:
    # `$r.SignedToken > token.txt` in Windows PowerShell 5.1 writes exactly this.
    path = tmp_path / "token.txt"
    path.write_bytes(codecs.BOM_UTF16_LE + (response["SignedToken"] + "\r\n").encode("utf-16-le"))
    assert verifier.verify(path, now=NOW).node_id == NODE


def test_size_limit_is_judged_on_the_decoded_text(
    issuer: TestIssuer, response: dict[str, Any], tmp_path: Path
) -> None:
    small = tv.Verifier(issuer.registry(), max_token_size=8192)
    limit = 4 * 8192 + 65536  # the document limit for that token size (test tokens are ~4 KB)
    text = json.dumps(response)
    padded = text + " " * (limit - len(text))
    utf32 = codecs.BOM_UTF32_LE + padded.encode("utf-32-le")
    assert len(utf32) > limit  # over the limit as bytes, at it as text
    path = tmp_path / "checkout.json"
    path.write_bytes(utf32)
    assert small.verify(path, now=NOW).node_id == NODE
    assert small.verify(utf32, now=NOW).node_id == NODE
    over = codecs.BOM_UTF32_LE + (padded + " ").encode("utf-32-le")
    path.write_bytes(over)
    for source in (path, over):
        assert rejection(small, source).reason is tv.Reason.too_large


def test_the_token_itself_stays_ascii_whatever_the_encoding(
    verifier: tv.Verifier, response: dict[str, Any]
) -> None:
    token = response["SignedToken"]
    tampered = token[:20] + "é" + token[21:]
    for encoding in ENCODINGS:
        assert rejection(verifier, encode(tampered, encoding)).reason is tv.Reason.malformed
        inside = json.dumps({**response, "SignedToken": tampered})
        refused = rejection(verifier, encode(inside, encoding))
        assert "non-ASCII" in refused.description


def test_broken_text_after_a_bom_names_the_encoding(verifier: tv.Verifier) -> None:
    refused = rejection(verifier, codecs.BOM_UTF16_LE + b"{\x00\x00\xd8")
    assert refused.reason is tv.Reason.malformed
    assert "UTF-16-LE" in refused.description


# --- a file that is not a checkout says what it looks like ---------------------------------

AWS_TEXT_OUTPUT = (
    "PROVISIONAL\t2026-01-01T01:00:00Z\t2026-01-01T00:00:00Z\t"
    "arn:aws:license-manager::111122223333:license:l-1\tnode-7\t"
    "eyJhbGciOiJQUzI1NiJ9.eyJub2RlSWQiOiJub2RlLTcifQ.c2lnbmF0dXJl\n"
    "ENTITLEMENTSALLOWED\tUsers\tCount\t10\n"
)


def not_checkouts(issuer: TestIssuer, tmp_path: Path) -> dict[str, tuple[str, str]]:
    """name -> (document text, a word the refusal must contain)."""
    keys_file = tmp_path / "keys.json"
    issuer.registry().save(keys_file)
    return {
        "keys-file": (keys_file.read_text(), "keys file"),
        "pem": (issuer.public_pem(), "PEM"),
        "aws-output-text": (AWS_TEXT_OUTPUT, "--output json"),
        "html": ("<!DOCTYPE html><html><body>Access denied</body></html>", "HTML"),
        "kms-json": (json.dumps(kms_document(issuer), indent=4), "kms get-public-key"),
        "jwk": (json.dumps({"kty": "RSA", "n": "AQAB", "e": "AQAB"}), "JWK"),
        "policy": (json.dumps({"node_id": "n", "requirements": []}), "policy file"),
        "revocations": (
            json.dumps({"format": "tokenverify-revocations", "revoked": []}),
            "revocation",
        ),
    }


@pytest.mark.parametrize("encoding", ["utf8", "utf16le_bom_crlf", "utf8_bom"])
@pytest.mark.parametrize(
    "kind",
    ["keys-file", "pem", "aws-output-text", "html", "kms-json", "jwk", "policy", "revocations"],
)
def test_a_document_that_is_not_a_checkout_is_named(
    kind: str, encoding: str, issuer: TestIssuer, verifier: tv.Verifier, tmp_path: Path
) -> None:
    text, word = not_checkouts(issuer, tmp_path)[kind]
    path = tmp_path / "given.json"
    data = encode(text, encoding)
    path.write_bytes(data)
    for source in (data, path, text):
        refused = rejection(verifier, source)
        assert refused.reason is tv.Reason.malformed
        assert "not a checkout" in refused.description
        assert word.lower() in refused.description.lower(), refused.description
        assert "canonical" not in refused.description


def test_boto3_kms_response_given_to_verify_is_named(
    issuer: TestIssuer, verifier: tv.Verifier
) -> None:
    refused = rejection(verifier, kms_document(issuer))
    assert "not a checkout" in refused.description
    assert "GetPublicKey" in refused.description


def test_a_json_without_signed_token_of_no_known_kind_asks_for_the_response(
    verifier: tv.Verifier,
) -> None:
    refused = rejection(verifier, b'{"Something": 1}')
    assert "no SignedToken" in refused.description


# --- keys in every encoding; a checkout given as a key -------------------------------------


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_kms_json_in_every_encoding_loads_pinned_to_pss(
    encoding: str, issuer: TestIssuer, response: dict[str, Any], tmp_path: Path
) -> None:
    data = encode(json.dumps(kms_document(issuer), indent=4), encoding)
    path = tmp_path / "kms.json"
    path.write_bytes(data)
    for source in (data, path):
        registry = tv.KeyRegistry()
        (added,) = registry.add(issuer.fingerprint, source)
        assert added.algorithms == frozenset({"PS256", "PS384", "PS512"})
        assert added.key_id == KMS_KEY_ARN
        checkout = tv.Verifier(registry).verify(response, now=NOW)
        assert checkout.algorithm == "PS256"


@pytest.mark.parametrize("encoding", ["utf8_bom", "utf16le_bom_crlf", "utf32be_bom"])
def test_pem_in_a_bom_encoding_loads(encoding: str, issuer: TestIssuer) -> None:
    (added,) = tv.KeyRegistry().add(
        issuer.fingerprint, encode(issuer.public_pem(), encoding), algorithms=["PS256"]
    )
    assert added.public_pem() == issuer.public_pem()


def test_a_str_key_with_a_leading_bom_character_loads(issuer: TestIssuer) -> None:
    text = "\ufeff" + json.dumps(kms_document(issuer))
    (added,) = tv.KeyRegistry().add(issuer.fingerprint, text)
    assert added.key_id == KMS_KEY_ARN


def test_a_checkout_given_as_a_key_says_so(
    issuer: TestIssuer, response: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "checkout.json"
    path.write_text(json.dumps(response))
    for source in (
        response,
        json.dumps(response),
        path,
        encode(json.dumps(response), "utf16le_bom_crlf"),
    ):
        with pytest.raises(tv.InvalidKey, match="this is a checkout"):
            tv.KeyRegistry().add(issuer.fingerprint, source)
    with pytest.raises(tv.InvalidKey, match="checkout token, not a public key"):
        tv.KeyRegistry().add(issuer.fingerprint, response["SignedToken"])


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("<html><body>Sign in</body></html>", "HTML"),
        (json.dumps({"node_id": "n", "requirements": []}), "policy file"),
        ("RSA_2048\tSIGN_VERIFY\tarn:aws:kms:us-east-1:1:key/k\tMIIBIjANBg\n", "--output json"),
    ],
    ids=["html", "policy", "kms-output-text"],
)
def test_a_document_that_is_not_a_key_is_named(text: str, word: str, issuer: TestIssuer) -> None:
    with pytest.raises(tv.InvalidKey, match=word):
        tv.KeyRegistry().add(issuer.fingerprint, text)


def test_a_keys_file_given_as_a_key_says_load_it(issuer: TestIssuer, tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    issuer.registry().save(path)
    with pytest.raises(tv.InvalidKey, match="keys file, not a public key"):
        tv.KeyRegistry().add(issuer.fingerprint, path)


@pytest.mark.parametrize("encoding", ["utf8_bom", "utf16le_bom_crlf", "utf32le_bom", "crlf"])
def test_keys_file_in_a_bom_encoding_loads(
    encoding: str, issuer: TestIssuer, response: dict[str, Any], tmp_path: Path
) -> None:
    plain = tmp_path / "keys.json"
    issuer.registry().save(plain)
    path = tmp_path / "keys-encoded.json"
    path.write_bytes(encode(plain.read_text(), encoding))
    registry = tv.KeyRegistry.load(path)
    assert [k.thumbprint for k in registry] == [k.thumbprint for k in tv.KeyRegistry.load(plain)]
    assert tv.Verifier(registry).verify(response, now=NOW).node_id == NODE


@pytest.mark.parametrize(
    ("kind", "word"), [("checkout", "a checkout"), ("kms", "kms get-public-key")]
)
def test_keys_file_that_is_another_document_is_named(
    kind: str, word: str, issuer: TestIssuer, response: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(response if kind == "checkout" else kms_document(issuer)))
    with pytest.raises(tv.InvalidKey, match="not a tokenverify keys file") as caught:
        tv.KeyRegistry.load(path)
    assert word in str(caught.value)


# --- policy and revocations files ----------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf8_bom", "utf16le_bom_crlf", "utf16be_bom", "crlf"])
def test_policy_file_in_a_bom_encoding_loads(encoding: str, tmp_path: Path) -> None:
    document = {"node_id": "nœud-7", "requirements": [{"name": "Users", "minimum": 5}]}
    path = tmp_path / "policy.json"
    path.write_bytes(encode(json.dumps(document, indent=2), encoding))
    policy = load_policy_file(path).to_policy()
    assert policy.node_id == "nœud-7"
    assert [r.name for r in policy.requirements] == ["Users"]


def test_policy_file_that_is_a_checkout_is_named(response: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(response))
    with pytest.raises(ValueError, match="not a policy file: it looks like a checkout"):
        load_policy_file(path)


def test_revocations_file_that_is_a_keys_file_is_named(issuer: TestIssuer, tmp_path: Path) -> None:
    path = tmp_path / "revocations.json"
    issuer.registry().save(path)
    with pytest.raises(ValueError, match="keys file"):
        tv.RevocationList.load(path)


# --- property: the encoding never changes the verdict --------------------------------------


@given(
    encoding=st.sampled_from(sorted(ENCODINGS)),
    indent=st.sampled_from([None, 2, 4]),
    leading=st.sampled_from(["", " ", "\r\n", "\n\n"]),
    as_path=st.booleans(),
    at=st.sampled_from([NOW, ISSUED + timedelta(hours=2)]),  # valid, then expired
)
def test_random_encodings_of_a_saved_response_give_the_same_verdict(
    encoding: str,
    indent: int | None,
    leading: str,
    as_path: bool,
    at: datetime,
    verifier: tv.Verifier,
    response: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    expected = verifier.check(response, now=at)
    data = encode(leading + json.dumps(response, indent=indent), encoding)
    source: object = data
    if as_path:
        source = tmp_path_factory.mktemp("enc") / "checkout.json"
        source.write_bytes(data)
    verdict = verifier.check(source, now=at)
    assert (verdict.ok, verdict.reason) == (expected.ok, expected.reason)
    if expected.checkout is not None:
        assert verdict.checkout is not None
        assert verdict.checkout.claims == expected.checkout.claims
