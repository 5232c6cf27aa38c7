"""AWS shapes of the JWS header and key choice, through every input form.

AWS documents neither the SignedToken's header nor its kid. A registry built from a PEM
(as AWS's sample does) knows no KMS key ARN, so the kid is a hint: an unmatched one falls
back to the expected issuer's own keys. Headers may carry an x5c chain and any typ. The
refusals that must hold beside them: another issuer's key under an unknown kid, a header
over its limit, a non-standard PSS salt (named, never accepted), non-token input.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

import tokenverify as tv
from aws_shapes.forms import every_form
from conftest import FINGERPRINT, OTHER_FINGERPRINT
from tokenverify._keys import RegisteredKey
from tokenverify._registry import MAX_CANDIDATE_KEYS
from tokenverify._token import DEFAULT_MAX_TOKEN_SIZE, parse_compact
from tokenverify.testing import TestIssuer

ISSUED = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
NOW = ISSUED + timedelta(minutes=1)
NODE_ID = "node-7"
LICENSE_ARN = "arn:aws:license-manager::111122223333:license:l-0123456789abcdef0123456789abcdef"
KMS_KEY_ID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
KMS_KEY_ARN = f"arn:aws:kms:us-east-1:111122223333:key/{KMS_KEY_ID}"
#: The old header limit: an x5c chain of RSA-4096 certificates was refused beyond it.
OLD_HEADER_LIMIT = 4096
HEADER_LIMIT = 16 * 1024


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def checkout(issuer: TestIssuer, header: dict[str, Any] | None = None) -> dict[str, Any]:
    """A boto3 CheckoutLicense response signed by ``issuer`` with ``header`` members."""
    return issuer.checkout(
        node_id=NODE_ID, issued_at=ISSUED, license_arn=LICENSE_ARN, header=header
    )


def with_token(response: dict[str, Any], token: str) -> dict[str, Any]:
    return {**response, "SignedToken": token}


def pem_registry(*issuers: TestIssuer) -> tv.KeyRegistry:
    """Built as AWS's sample does: from each issuer's public key PEM, no key id."""
    registry = tv.KeyRegistry()
    for issuer in issuers:
        registry.add(issuer.fingerprint, issuer.public_pem(), algorithms=[issuer.algorithm])
    return registry


def verify_every_form(
    verifier: tv.Verifier, response: dict[str, Any], tmp_path: Path
) -> Iterator[tuple[str, tv.VerifiedCheckout]]:
    for form, source in every_form(response, tmp_path):
        yield form, verifier.verify(source, now=NOW)


def refusals_in_every_form(
    verifier: tv.Verifier, response: dict[str, Any], tmp_path: Path
) -> Iterator[tuple[str, tv.TokenRejected]]:
    for form, source in every_form(response, tmp_path):
        with pytest.raises(tv.TokenRejected) as caught:
            verifier.verify(source, now=NOW)
        yield form, caught.value


# --- 1. kid is a hint, never a key source ---------------------------------------------

UNKNOWN_KIDS = {
    "kms-key-arn": KMS_KEY_ARN,
    "kms-key-id": KMS_KEY_ID,
    "kms-alias-arn": "arn:aws:kms:us-east-1:111122223333:alias/license-signing",
    "license-manager-arn": LICENSE_ARN,
    "random": "b3f1c0de9a7e4d2f8c6b5a4938271605",
}


@pytest.mark.parametrize("kid", list(UNKNOWN_KIDS.values()), ids=list(UNKNOWN_KIDS))
@pytest.mark.parametrize("pinned", [False, True], ids=["registry-issuer", "policy-issuer"])
def test_unknown_kid_verifies_against_a_registry_built_from_a_pem(
    ps384_issuer: TestIssuer, kid: str, pinned: bool, tmp_path: Path
) -> None:
    registry = pem_registry(ps384_issuer)
    policy = tv.Policy(node_id=NODE_ID, key_fingerprint=FINGERPRINT if pinned else None)
    response = checkout(ps384_issuer, {"kid": kid})
    expected_thumbprint = next(iter(registry)).thumbprint
    for form, result in verify_every_form(tv.Verifier(registry, policy), response, tmp_path):
        assert result.header["kid"] == kid, form
        assert result.key_fingerprint == FINGERPRINT, form
        assert result.key_thumbprint == expected_thumbprint, form
        assert result.license_arn == LICENSE_ARN, form
        assert result.node_id == NODE_ID, form


def test_known_kid_still_selects_exactly(ps384_issuer: TestIssuer, tmp_path: Path) -> None:
    """A KMS KeyId registered with the key is matched exactly, before any fallback."""
    registry = tv.KeyRegistry()
    registry.add(FINGERPRINT, ps384_issuer.public_pem(), algorithms=["PS384"], key_id=KMS_KEY_ARN)
    selection = registry.select(KMS_KEY_ARN, None)
    assert selection.by_kid
    assert selection.keys == tuple(registry)
    assert not registry.select(KMS_KEY_ID, None).by_kid  # a hint that matched nothing
    response = checkout(ps384_issuer, {"kid": KMS_KEY_ARN})
    for form, result in verify_every_form(tv.Verifier(registry), response, tmp_path):
        assert result.header["kid"] == KMS_KEY_ARN, form


@pytest.fixture(scope="module")
def two_rsa_issuers(ps384_issuer: TestIssuer, other_issuer: TestIssuer) -> tv.KeyRegistry:
    """Two trusted PS384 issuers: each key verifies its own tokens."""
    return pem_registry(ps384_issuer, other_issuer)


@pytest.mark.parametrize(
    "kid",
    [KMS_KEY_ARN, OTHER_FINGERPRINT, FINGERPRINT, None],
    ids=["unknown", "other-fingerprint", "expected-fingerprint", "absent"],
)
def test_another_issuers_key_is_never_tried_for_the_expected_issuer(
    two_rsa_issuers: tv.KeyRegistry,
    other_issuer: TestIssuer,
    kid: str | None,
    tmp_path: Path,
) -> None:
    """bad_signature: only the expected issuer's keys are tried, and they fail.

    The token is genuine for OTHER_FINGERPRINT (it verifies under a policy naming it), so
    the refusal under FINGERPRINT proves the other issuer's key was never a candidate,
    whether the kid names nothing, names the other issuer, or names the expected one.
    """
    response = checkout(other_issuer, None if kid is None else {"kid": kid})
    genuine = tv.Verifier(two_rsa_issuers, tv.Policy(key_fingerprint=OTHER_FINGERPRINT))
    assert genuine.verify(response, now=NOW).key_fingerprint == OTHER_FINGERPRINT
    expecting = tv.Verifier(two_rsa_issuers, tv.Policy(key_fingerprint=FINGERPRINT))
    for form, rejection in refusals_in_every_form(expecting, response, tmp_path):
        assert rejection.reason is tv.Reason.bad_signature, form
        assert "1 trusted key(s)" in rejection.description
        assert f"trusted key(s) of {FINGERPRINT!r}" in rejection.description
        if kid in (KMS_KEY_ARN, OTHER_FINGERPRINT):  # say that the kid did not help
            assert f"its kid {kid!r} names none of them" in rejection.description


def test_unknown_kid_with_several_issuers_and_no_policy_is_an_unknown_key(
    two_rsa_issuers: tv.KeyRegistry, other_issuer: TestIssuer, tmp_path: Path
) -> None:
    """unknown_key: nothing says whose token it is, so no key is tried at all."""
    response = checkout(other_issuer, {"kid": KMS_KEY_ARN})
    for form, rejection in refusals_in_every_form(tv.Verifier(two_rsa_issuers), response, tmp_path):
        assert rejection.reason is tv.Reason.unknown_key, form
        assert "Policy(key_fingerprint=...)" in rejection.description
        assert KMS_KEY_ARN in rejection.description


def test_unknown_kid_of_an_untrusted_issuer_is_a_bad_signature(
    ps384_issuer: TestIssuer, other_issuer: TestIssuer, tmp_path: Path
) -> None:
    """One trusted issuer: its key is tried (the kid matched nothing) and refuses the
    other key's signature. Neither the kid nor the registry's contents let it through."""
    response = checkout(other_issuer, {"kid": KMS_KEY_ARN})
    for form, rejection in refusals_in_every_form(
        tv.Verifier(pem_registry(ps384_issuer)), response, tmp_path
    ):
        assert rejection.reason is tv.Reason.bad_signature, form


def _count_signature_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real_check = RegisteredKey.check

    def counting(key: RegisteredKey, algorithm: str) -> Any:
        check = real_check(key, algorithm)
        if check is None:
            return None

        def counted(signature: bytes, signing_input: bytes) -> bool:
            calls.append(key.thumbprint)
            return bool(check(signature, signing_input))

        return counted

    monkeypatch.setattr(RegisteredKey, "check", counting)
    return calls


def test_fallback_is_bounded_and_exact_match_comes_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nine ES256 keys under one issuer: an unmatched kid costs at most eight checks."""
    issuers = [
        TestIssuer(ec.generate_private_key(ec.SECP256R1()), "ES256", FINGERPRINT)
        for _ in range(MAX_CANDIDATE_KEYS + 1)
    ]
    registry = tv.KeyRegistry()
    for number, issuer in enumerate(issuers):
        registry.add(FINGERPRINT, issuer.private_key.public_key(), key_id=f"key-{number}")
    verifier = tv.Verifier(registry)
    calls = _count_signature_checks(monkeypatch)

    eighth = checkout(issuers[7], {"kid": KMS_KEY_ARN})
    assert verifier.verify(eighth, now=NOW).key_thumbprint == registry.keys()[7].thumbprint
    assert len(calls) == 8

    calls.clear()
    ninth = checkout(issuers[8], {"kid": KMS_KEY_ARN})
    with pytest.raises(tv.TokenRejected) as caught:
        verifier.verify(ninth, now=NOW)
    assert caught.value.reason is tv.Reason.bad_signature
    assert "the first 8 of 9" in caught.value.description
    assert len(calls) == MAX_CANDIDATE_KEYS

    calls.clear()  # the same key named by its key id: one check, found exactly
    named = checkout(issuers[8], {"kid": "key-8"})
    assert verifier.verify(named, now=NOW).key_thumbprint == registry.keys()[8].thumbprint
    assert calls == [registry.keys()[8].thumbprint]


def test_select_never_returns_a_key_of_another_issuer_than_the_expected(
    two_rsa_issuers: tv.KeyRegistry,
) -> None:
    other_thumbprint = two_rsa_issuers.keys(OTHER_FINGERPRINT)[0].thumbprint
    for kid in (None, KMS_KEY_ARN, OTHER_FINGERPRINT, other_thumbprint, FINGERPRINT):
        selection = two_rsa_issuers.select(kid, FINGERPRINT)
        assert selection.expected == FINGERPRINT
        assert {key.fingerprint for key in selection.keys} == {FINGERPRINT}, kid
    assert two_rsa_issuers.select(KMS_KEY_ARN, None).keys == ()
    assert two_rsa_issuers.select(other_thumbprint, None).keys == two_rsa_issuers.keys(
        OTHER_FINGERPRINT
    )


# --- 2. header members and size --------------------------------------------------------


@pytest.fixture(scope="module")
def certificate_chain(ps384_issuer: TestIssuer) -> list[str]:
    """Three RSA-4096 certificates (leaf, intermediate, root) as x5c spells them."""
    key = ps384_issuer.private_key
    assert isinstance(key, rsa.RSAPrivateKey)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    chain = []
    for number, name in enumerate(("License signing", "Intermediate CA", "Root CA")):
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Vendor"),
                x509.NameAttribute(NameOID.COMMON_NAME, name),
            ]
        )
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(1000 + number)
            .not_valid_before(start)
            .not_valid_after(start + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=number > 0, path_length=None), critical=True)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .sign(key, hashes.SHA384())
        )
        der = certificate.public_bytes(serialization.Encoding.DER)
        chain.append(base64.b64encode(der).decode("ascii"))
    return chain


def test_x5c_chain_of_rsa_4096_certificates_is_kept_and_never_read(
    ps384_issuer: TestIssuer, certificate_chain: list[str], tmp_path: Path
) -> None:
    leaf = base64.b64decode(certificate_chain[0])
    header = {
        "kid": KMS_KEY_ARN,
        "x5c": certificate_chain,
        "x5t": b64url(hashlib.sha1(leaf).digest()),  # noqa: S324 - x5t is SHA-1 by definition
        "x5t#S256": b64url(hashlib.sha256(leaf).digest()),
        "vendor-extension": {"anything": [1, "two", None]},
    }
    response = checkout(ps384_issuer, header)
    segment = response["SignedToken"].split(".")[0]
    assert OLD_HEADER_LIMIT < len(segment) <= HEADER_LIMIT
    for form, result in verify_every_form(
        tv.Verifier(pem_registry(ps384_issuer)), response, tmp_path
    ):
        assert list(result.header["x5c"]) == certificate_chain, form
        assert result.header["x5t#S256"] == header["x5t#S256"], form
        assert result.header["vendor-extension"] == header["vendor-extension"], form


def test_x5c_naming_the_signers_own_key_does_not_make_it_trusted(
    ps384_issuer: TestIssuer, other_issuer: TestIssuer, tmp_path: Path
) -> None:
    key = other_issuer.private_key
    assert isinstance(key, rsa.RSAPrivateKey)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "License signing")])
    start = datetime(2026, 1, 1, tzinfo=UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    x5c = [base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()]
    response = checkout(other_issuer, {"x5c": x5c, "kid": KMS_KEY_ARN})
    for form, rejection in refusals_in_every_form(
        tv.Verifier(pem_registry(ps384_issuer)), response, tmp_path
    ):
        assert rejection.reason is tv.Reason.bad_signature, form


def test_changing_a_verified_header_does_not_change_the_next_one(
    ps384_issuer: TestIssuer, certificate_chain: list[str]
) -> None:
    """Parsed headers are cached; nested members are handed out as each token's own."""
    response = checkout(ps384_issuer, {"x5c": list(certificate_chain)})
    verifier = tv.Verifier(pem_registry(ps384_issuer))
    first = verifier.verify(response, now=NOW)
    first.header["x5c"].append("injected")
    first.header["x5c"][0] = "replaced"
    second = verifier.verify(response, now=NOW)
    assert list(second.header["x5c"]) == certificate_chain
    header, _ = tv.verify_compact(response["SignedToken"], pem_registry(ps384_issuer))
    assert header["x5c"] == certificate_chain


def test_header_over_its_limit_is_malformed(ps384_issuer: TestIssuer, tmp_path: Path) -> None:
    filler = "A" * (HEADER_LIMIT * 3 // 4)
    response = checkout(ps384_issuer, {"x5c": [filler]})
    assert len(response["SignedToken"].split(".")[0]) > HEADER_LIMIT
    assert len(response["SignedToken"]) < DEFAULT_MAX_TOKEN_SIZE
    for form, rejection in refusals_in_every_form(
        tv.Verifier(pem_registry(ps384_issuer)), response, tmp_path
    ):
        assert rejection.reason is tv.Reason.malformed, form
        assert f"over the {HEADER_LIMIT} limit" in rejection.description


@pytest.mark.parametrize(
    "typ", ["JWS", "JOSE+JSON", "at+jwt", "", "urn:aws:license-manager:checkout", "JWT"]
)
def test_any_string_typ_is_accepted(ps384_issuer: TestIssuer, typ: str, tmp_path: Path) -> None:
    response = checkout(ps384_issuer, {"typ": typ})
    for form, result in verify_every_form(
        tv.Verifier(pem_registry(ps384_issuer)), response, tmp_path
    ):
        assert result.header["typ"] == typ, form


@pytest.mark.parametrize("typ", [1, ["JWT"], {"typ": "JWT"}, True, None])
def test_a_typ_that_is_not_a_string_is_malformed(
    ps384_issuer: TestIssuer, typ: object, tmp_path: Path
) -> None:
    response = checkout(ps384_issuer, {"typ": typ} if typ is not None else {})
    if typ is None:  # an explicit null (TestIssuer's None removes a member)
        payload = response["SignedToken"].split(".")[1]
        header = b'{"alg":"PS384","typ":null}'
        signing_input = f"{b64url(header)}.{payload}"
        token = f"{signing_input}.{b64url(ps384_issuer.sign_bytes(signing_input.encode()))}"
        response = with_token(response, token)
    for form, rejection in refusals_in_every_form(
        tv.Verifier(pem_registry(ps384_issuer)), response, tmp_path
    ):
        assert rejection.reason is tv.Reason.malformed, form
        assert "typ" in rejection.description


# --- 3. off-standard PSS salts: diagnosed, never accepted ------------------------------


def _resigned_with_salt(issuer: TestIssuer, token: str, salt: Any) -> str:
    """``token`` re-signed with PSS over SHA-384 and this salt (an int or PSS.MAX_LENGTH)."""
    key = issuer.private_key
    assert isinstance(key, rsa.RSAPrivateKey)
    signing_input = token.rsplit(".", 1)[0]
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=salt)
    signature = key.sign(signing_input.encode("ascii"), pss, hashes.SHA384())
    return f"{signing_input}.{b64url(signature)}"


@pytest.mark.parametrize(
    ("salt", "named"),
    [(padding.PSS.MAX_LENGTH, 4096 // 8 - 48 - 2), (0, 0), (32, 32), (64, 64)],
    ids=["max-like-moto", "zero", "sha256-length", "sha512-length"],
)
def test_non_standard_pss_salt_is_refused_and_named(
    ps384_issuer: TestIssuer, salt: Any, named: int, tmp_path: Path
) -> None:
    response = checkout(ps384_issuer)
    response = with_token(
        response, _resigned_with_salt(ps384_issuer, response["SignedToken"], salt)
    )
    for form, rejection in refusals_in_every_form(
        tv.Verifier(pem_registry(ps384_issuer)), response, tmp_path
    ):
        assert rejection.reason is tv.Reason.bad_signature, form
        description = rejection.description
        assert f"salt of {named} bytes" in description
        assert "48 bytes" in description
        assert "moto" in description
        assert "altered or signed by another key" not in description
        assert len(description) <= 400


def test_an_altered_token_is_still_called_altered(ps384_issuer: TestIssuer, tmp_path: Path) -> None:
    """The salt diagnosis must not excuse a real edit, even of a max-salt signature."""
    response = checkout(ps384_issuer)
    max_salt = _resigned_with_salt(ps384_issuer, response["SignedToken"], padding.PSS.MAX_LENGTH)
    header, payload, signature = max_salt.split(".")
    edited = base64.urlsafe_b64decode(payload + "==").replace(b"node-7", b"node-8")
    response = with_token(response, f"{header}.{b64url(edited)}.{signature}")
    response["NodeId"] = "node-8"
    for form, rejection in refusals_in_every_form(
        tv.Verifier(pem_registry(ps384_issuer)), response, tmp_path
    ):
        assert rejection.reason is tv.Reason.bad_signature, form
        assert "altered or signed by another key" in rejection.description
        assert "salt" not in rejection.description


# --- 4. what is not a token ------------------------------------------------------------

NOT_TOKENS: dict[str, object] = {
    "none": None,
    "int": 7,
    "float": 1.5,
    "bool": True,
    "list": ["a.b.c"],
    "dict": {"SignedToken": "a.b.c"},
    "object": object(),
}


@pytest.mark.parametrize("value", list(NOT_TOKENS.values()), ids=list(NOT_TOKENS))
def test_verify_compact_and_parse_compact_refuse_what_is_not_a_token(
    ps384_issuer: TestIssuer, value: object
) -> None:
    registry = pem_registry(ps384_issuer)
    for call in (
        lambda: tv.verify_compact(value, registry),  # type: ignore[arg-type]
        lambda: parse_compact(value),  # type: ignore[arg-type]
    ):
        with pytest.raises(tv.TokenRejected) as caught:
            call()
        assert caught.value.reason is tv.Reason.malformed
        assert type(value).__name__ in caught.value.description or value is None
        assert "text or bytes" in caught.value.description


@pytest.mark.parametrize("kind", [bytearray, memoryview])
def test_verify_compact_takes_bytes_like_tokens(ps384_issuer: TestIssuer, kind: type) -> None:
    token = checkout(ps384_issuer)["SignedToken"]
    header, payload = tv.verify_compact(kind(token.encode("ascii")), pem_registry(ps384_issuer))
    assert header["alg"] == "PS384"
    assert b'"nodeId":"node-7"' in payload
