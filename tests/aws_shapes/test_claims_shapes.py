"""The claim shapes AWS may sign, through every input form, and the refusals that must hold.

AWS documents neither the full claim set nor the shape of ``checkoutMetadata``: it may
be an object or a list of ``{name, value}`` / ``{Name, Value}`` pairs (the API's own
shape), and claims nobody has shown may appear beside the known ones. Each case is
minted by ``TestIssuer`` and handed to ``Verifier.verify`` as a boto3 dict, saved JSON
(text, bytes, file) and a bare token (text, bytes, file): every form must give the same
verdict and the same values.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

import tokenverify as tv
from conftest import FINGERPRINT
from tokenverify._policy import check_typ
from tokenverify.testing import TestIssuer

from .forms import RESPONSE_FORMS, TOKEN_FORMS, every_form

ISSUED_AT = 1_768_478_400  # 2026-01-15T12:00:00Z
NOW = ISSUED_AT + 60
NODE_ID = "i-0123456789abcdef0"
LICENSE_ARN = "arn:aws:license-manager::111122223333:license:l-0123456789abcdef0123456789abcdef"
MAC = "02:42:ac:11:00:02"
METADATA = {"Mac": MAC, "Hostname": "build-agent-07"}

#: The shapes ``checkoutMetadata`` may be signed in, each meaning METADATA.
METADATA_SHAPES: dict[str, Any] = {
    "object": dict(METADATA),
    "list-name-value": [{"name": name, "value": value} for name, value in METADATA.items()],
    "list-Name-Value": [{"Name": name, "Value": value} for name, value in METADATA.items()],
    "list-both-spellings": [
        {"name": "Mac", "value": MAC},
        {"Name": "Hostname", "Value": "build-agent-07"},
    ],
    # A name repeated with the value it already has says nothing new: one entry.
    "list-repeated-same-value": [
        {"Name": "Mac", "Value": MAC},
        {"Name": "Hostname", "Value": "build-agent-07"},
        {"Name": "Mac", "Value": MAC},
    ],
    # Members of a pair nobody has shown are tolerated, like unknown claims.
    "list-pair-with-extra-member": [
        {"Name": "Mac", "Value": MAC, "Type": "String"},
        {"Name": "Hostname", "Value": "build-agent-07"},
    ],
}

#: Signed metadata that no reading makes one mapping: refused as invalid_claims.
BROKEN_METADATA: dict[str, tuple[Any, str]] = {
    "name-with-two-values": (
        [{"Name": "Mac", "Value": MAC}, {"Name": "Mac", "Value": "02:42:ac:11:00:03"}],
        "twice",
    ),
    "name-with-two-values-lowercase": (
        [{"name": "Mac", "value": MAC}, {"name": "Mac", "value": "02:42:ac:11:00:03"}],
        "twice",
    ),
    "pair-without-value": ([{"Name": "Mac"}], "needs both a name and a value"),
    "pair-without-name": ([{"value": MAC}], "needs both a name and a value"),
    "pair-mixing-spellings": ([{"name": "Mac", "Value": MAC}], "mixes"),
    "pair-spelled-both-ways": (
        [{"name": "Mac", "value": MAC, "Name": "Mac", "Value": MAC}],
        "mixes",
    ),
    "value-a-number": ([{"Name": "Mac", "Value": 42}], "checkoutMetadata"),
    "pair-a-string": (["Mac=" + MAC], "checkoutMetadata"),
    "object-value-a-list": ({"Mac": [MAC]}, "checkoutMetadata"),
    "a-string": ("Mac=" + MAC, "checkoutMetadata"),
}

#: Claims nobody has documented, one per JSON shape: tolerated and kept as signed.
UNKNOWN_CLAIMS: dict[str, Any] = {
    "nestedObject": {"region": "us-east-1", "limits": {"burst": 10, "tags": ["a", "b"]}},
    "array": [1, "two", None, {"three": 3.0}, [True, False]],
    "integer": 7,
    "bigInteger": 123456789012345678901234567890,
    "negativeFloat": -0.25,
    "exponent": 1.5e300,
    "null": None,
    "true": True,
    "emptyObject": {},
    "emptyArray": [],
    "unicode": "Grüße \u202e",
    "issuer": "aws-license-manager",
    "jti": "2f4e0c0a-5b1e-4d93-9f38-1c1b2b8c9d0e",
}


@pytest.fixture(scope="module")
def issuer(ps384_issuer: TestIssuer) -> TestIssuer:
    return ps384_issuer


def borrow(issuer: TestIssuer, signed_metadata: Any = None, **overrides: Any) -> dict[str, Any]:
    """A CheckoutBorrowLicense response; the plaintext list beside the token is METADATA."""
    fields: dict[str, Any] = {
        "node_id": NODE_ID,
        "entitlements": [("Users", "10", "Count")],
        "issued_at": ISSUED_AT,
        "ttl": 86400,
        "license_arn": LICENSE_ARN,
        "checkout_metadata": METADATA,
        "borrow": True,
    }
    claims = dict(overrides.pop("claims", {}))
    if signed_metadata is not None:
        claims["checkoutMetadata"] = signed_metadata
    return issuer.checkout(**(fields | overrides), claims=claims)


def with_claims(issuer: TestIssuer, response: dict[str, Any], extra: dict[str, Any]) -> None:
    """Re-sign ``response``'s token with ``extra`` claims added (``None`` values included,
    which ``TestIssuer``'s overrides would read as "remove")."""
    payload = base64.urlsafe_b64decode(response["SignedToken"].split(".")[1] + "==")
    response["SignedToken"] = issuer.sign(json.loads(payload) | extra)


def verifier(issuer: TestIssuer, policy: tv.Policy | None = None) -> tv.Verifier:
    return tv.Verifier(issuer.registry(), policy)


def verified_everywhere(
    verifier_: tv.Verifier, response: dict[str, Any], tmp_path: Path
) -> list[tv.VerifiedCheckout]:
    """The checkout from each input form; each must verify."""
    checkouts = []
    for form, source in every_form(response, tmp_path):
        verdict = verifier_.check(source, now=NOW)
        assert verdict.ok, f"{form}: {verdict.reason}: {verdict.message}"
        assert verdict.checkout is not None
        checkouts.append(verdict.checkout)
    return checkouts


def refused_everywhere(
    verifier_: tv.Verifier,
    response: dict[str, Any],
    tmp_path: Path,
    reason: tv.Reason,
    forms: dict[str, Any] | None = None,
) -> list[str]:
    """The rejection message from each input form; each must be ``reason``."""
    messages = []
    for form, source in every_form(response, tmp_path, forms):
        with pytest.raises(tv.TokenRejected) as caught:
            verifier_.verify(source, now=NOW)
        assert caught.value.reason is reason, f"{form}: {caught.value}"
        assert verifier_.check(source, now=NOW).reason is reason
        messages.append(caught.value.description)
    return messages


def edited_payload(token: str, edit: Any) -> str:
    """``token`` with its payload changed by ``edit(claims)``, the signature kept."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    edit(claims)
    encoded = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{encoded}.{signature}"


# --- checkoutMetadata: every shape is one read-only mapping ---------------------------------


@pytest.mark.parametrize("shape", sorted(METADATA_SHAPES))
def test_metadata_in_every_shape_is_one_mapping(
    issuer: TestIssuer, tmp_path: Path, shape: str
) -> None:
    signed = METADATA_SHAPES[shape]
    response = borrow(issuer, signed)
    bound = verifier(issuer, tv.Policy(node_id=NODE_ID, checkout_metadata={"Mac": MAC}))
    for checkout in verified_everywhere(bound, response, tmp_path):
        metadata = checkout.checkout_metadata
        assert dict(metadata) == METADATA
        assert list(metadata) == ["Mac", "Hostname"]  # signed order, first occurrence
        with pytest.raises(TypeError):
            metadata["Mac"] = "00:00:00:00:00:00"  # type: ignore[index]
        # The raw claims keep what was signed, in the shape it was signed in.
        assert checkout.claims["checkoutMetadata"] == signed


@pytest.mark.parametrize("shape", sorted(METADATA_SHAPES))
def test_metadata_policy_refuses_another_value_in_every_shape(
    issuer: TestIssuer, tmp_path: Path, shape: str
) -> None:
    response = borrow(issuer, METADATA_SHAPES[shape])
    other_mac = verifier(issuer, tv.Policy(checkout_metadata={"Mac": "02:42:ac:11:00:03"}))
    for message in refused_everywhere(other_mac, response, tmp_path, tv.Reason.metadata_mismatch):
        assert f"'Mac' is {MAC!r}" in message
        assert "'02:42:ac:11:00:03'" in message


@pytest.mark.parametrize("case", sorted(BROKEN_METADATA))
def test_metadata_no_reading_makes_one_mapping_of_is_invalid_claims(
    issuer: TestIssuer, tmp_path: Path, case: str
) -> None:
    signed, says = BROKEN_METADATA[case]
    response = borrow(issuer, signed)
    for message in refused_everywhere(
        verifier(issuer), response, tmp_path, tv.Reason.invalid_claims
    ):
        assert says in message, message


@pytest.mark.parametrize("shape", sorted(METADATA_SHAPES))
def test_metadata_edited_under_the_signature_is_bad_signature(
    issuer: TestIssuer, tmp_path: Path, shape: str
) -> None:
    response = borrow(issuer, METADATA_SHAPES[shape])

    def other_mac(claims: dict[str, Any]) -> None:
        metadata = claims["checkoutMetadata"]
        if isinstance(metadata, dict):
            metadata["Mac"] = "02:42:ac:11:00:03"
        else:
            pair = metadata[0]
            pair["value" if "value" in pair else "Value"] = "02:42:ac:11:00:03"

    response["SignedToken"] = edited_payload(response["SignedToken"], other_mac)
    refused_everywhere(verifier(issuer), response, tmp_path, tv.Reason.bad_signature)


@pytest.mark.parametrize("shape", sorted(METADATA_SHAPES))
def test_plaintext_metadata_is_compared_with_the_signed_one_in_every_shape(
    issuer: TestIssuer, tmp_path: Path, shape: str
) -> None:
    response = borrow(issuer, METADATA_SHAPES[shape])
    response["CheckoutMetadata"] = [
        {"Name": "Mac", "Value": "02:42:ac:11:00:03"},
        {"Name": "Hostname", "Value": "build-agent-07"},
    ]
    messages = refused_everywhere(
        verifier(issuer), response, tmp_path, tv.Reason.envelope_mismatch, RESPONSE_FORMS
    )
    assert all("CheckoutMetadata" in message for message in messages)
    # The bare token carries no plaintext: the same checkout verifies with its signed values.
    for form, source in every_form(response, tmp_path, TOKEN_FORMS):
        checkout = verifier(issuer).verify(source, now=NOW)
        assert dict(checkout.checkout_metadata) == METADATA, form


def test_plaintext_list_agrees_with_a_signed_list_in_another_order(
    issuer: TestIssuer, tmp_path: Path
) -> None:
    response = borrow(issuer, METADATA_SHAPES["list-Name-Value"])
    response["CheckoutMetadata"].reverse()
    for checkout in verified_everywhere(verifier(issuer), response, tmp_path):
        assert dict(checkout.checkout_metadata) == METADATA


# --- unknown claims: any JSON shape, tolerated and kept ------------------------------------


def test_unknown_claims_of_every_json_shape_are_kept(issuer: TestIssuer, tmp_path: Path) -> None:
    response = borrow(issuer)
    with_claims(issuer, response, UNKNOWN_CLAIMS)
    policy = tv.Policy(
        key_fingerprint=FINGERPRINT,
        node_id=NODE_ID,
        license_arn=LICENSE_ARN,
        checkout_metadata=METADATA,
        requirements=[tv.Requirement("Users", unit="Count", minimum=10)],
    )
    for checkout in verified_everywhere(verifier(issuer, policy), response, tmp_path):
        for name, value in UNKNOWN_CLAIMS.items():
            assert name in checkout.claims
            assert checkout.claims[name] == value, name
            assert type(checkout.claims[name]) is type(value), name
        assert checkout.node_id == NODE_ID
        assert dict(checkout.checkout_metadata) == METADATA
        assert checkout.entitlement("Users") == tv.Entitlement("Users", "10", "Count")


@pytest.mark.parametrize("name", sorted(UNKNOWN_CLAIMS))
def test_each_unknown_claim_alone_is_tolerated(
    issuer: TestIssuer, tmp_path: Path, name: str
) -> None:
    response = borrow(issuer, METADATA_SHAPES["list-Name-Value"])
    with_claims(issuer, response, {name: UNKNOWN_CLAIMS[name]})
    for checkout in verified_everywhere(verifier(issuer), response, tmp_path):
        assert checkout.claims[name] == UNKNOWN_CLAIMS[name]
        assert dict(checkout.checkout_metadata) == METADATA


def test_unknown_claims_are_checked_as_json_too(issuer: TestIssuer) -> None:
    """Tolerated is not unread: an unknown claim that is not JSON still fails the payload."""
    token = issuer.sign(
        b'{"licenseArn":"a","licenseConsumptionToken":"t","issuedAt":"2026-01-15T12:00:00",'
        b'"expiration":"2026-01-16T12:00:00","note":NaN}'
    )
    with pytest.raises(tv.TokenRejected) as caught:
        verifier(issuer).verify(token, now=NOW)
    assert caught.value.reason is tv.Reason.invalid_claims


# --- a policy on a claim the token does not sign -------------------------------------------


def test_product_sku_on_a_token_without_one_suggests_the_license_arn(
    issuer: TestIssuer, tmp_path: Path
) -> None:
    response = borrow(issuer)  # AWS's sample signs no productSKU
    by_sku = verifier(issuer, tv.Policy(product_sku="prod-1234"))
    for message in refused_everywhere(by_sku, response, tmp_path, tv.Reason.product_mismatch):
        assert "this token does not sign productSKU" in message
        assert "AWS's sample signs no productSKU" in message
        assert "Policy(license_arn=...)" in message
        assert "check out again" not in message.replace("checking out again will not", "")
    # The suggestion works: the same token verifies when bound by its license ARN.
    verified_everywhere(verifier(issuer, tv.Policy(license_arn=LICENSE_ARN)), response, tmp_path)


def test_node_id_on_a_token_without_one_suggests_checking_out_with_node_id(
    issuer: TestIssuer, tmp_path: Path
) -> None:
    response = borrow(issuer, node_id=None)
    bound = verifier(issuer, tv.Policy(node_id=NODE_ID))
    for message in refused_everywhere(bound, response, tmp_path, tv.Reason.node_mismatch):
        assert "this token does not sign nodeId" in message
        assert f"check out with NodeId {NODE_ID!r}" in message


def test_metadata_policy_on_a_token_without_metadata_suggests_checking_out_with_it(
    issuer: TestIssuer, tmp_path: Path
) -> None:
    response = borrow(issuer, claims={"checkoutMetadata": None}, checkout_metadata=None)
    assert "checkoutMetadata" not in verifier(issuer).verify(response, now=NOW).claims
    bound = verifier(issuer, tv.Policy(checkout_metadata={"Mac": MAC}))
    for message in refused_everywhere(bound, response, tmp_path, tv.Reason.metadata_mismatch):
        assert "this token does not sign checkoutMetadata" in message
        assert f"CheckoutBorrowLicense and Metadata Name='Mac',Value={MAC!r}" in message


def test_metadata_policy_on_a_name_the_token_does_not_sign_names_what_it_signs(
    issuer: TestIssuer, tmp_path: Path
) -> None:
    response = borrow(issuer, METADATA_SHAPES["list-Name-Value"])
    bound = verifier(issuer, tv.Policy(checkout_metadata={"Mac": MAC, "Seat": "3"}))
    for message in refused_everywhere(bound, response, tmp_path, tv.Reason.metadata_mismatch):
        assert "does not sign 'Seat'" in message
        assert "'Mac', 'Hostname'" in message


def test_metadata_binding_is_exact(issuer: TestIssuer, tmp_path: Path) -> None:
    """Code point by code point, as every other binding: no case folding, no trimming."""
    response = borrow(issuer, METADATA_SHAPES["list-Name-Value"])
    for expected in ({"Mac": MAC.upper()}, {"mac": MAC}, {"Mac": MAC + " "}):
        bound = verifier(issuer, tv.Policy(checkout_metadata=expected))
        refused_everywhere(bound, response, tmp_path, tv.Reason.metadata_mismatch)


# --- the typ pin ----------------------------------------------------------------------------


@pytest.mark.parametrize("typ", ["JWT", "jwt", "application/jwt", "Application/JWT"])
def test_typ_pin_accepts_the_same_media_type_in_any_spelling(
    issuer: TestIssuer, tmp_path: Path, typ: str
) -> None:
    response = borrow(issuer, header={"typ": typ})
    verified_everywhere(verifier(issuer, tv.Policy(typ="JWT")), response, tmp_path)


@pytest.mark.parametrize("typ", ["JOSE", "application/jose", None])
def test_typ_pin_refuses_another_or_no_typ(
    issuer: TestIssuer, tmp_path: Path, typ: str | None
) -> None:
    response = borrow(issuer, header={"typ": typ})
    if typ is None:
        header = response["SignedToken"].split(".")[0]
        assert "typ" not in json.loads(base64.urlsafe_b64decode(header + "=="))
    pinned = verifier(issuer, tv.Policy(typ="JWT"))
    messages = refused_everywhere(pinned, response, tmp_path, tv.Reason.unsupported_header)
    assert all("'JWT'" in message for message in messages)
    # Without the pin the same token is genuine.
    verified_everywhere(verifier(issuer), response, tmp_path)


def test_typ_pin_of_an_unusual_typ_verifies_end_to_end(issuer: TestIssuer, tmp_path: Path) -> None:
    """A product whose issuer writes ``typ: JWS`` may pin exactly that (kid helper + pin)."""
    jws = borrow(issuer, header={"typ": "JWS"})
    verified_everywhere(verifier(issuer, tv.Policy(typ="JWS")), jws, tmp_path)
    jwt = borrow(issuer, header={"typ": "JWT"})
    (tmp_path / "jwt").mkdir()
    pinned = verifier(issuer, tv.Policy(typ="JWS"))
    refused_everywhere(pinned, jwt, tmp_path / "jwt", tv.Reason.unsupported_header)


@pytest.mark.parametrize(
    ("pinned", "typ", "same"),
    [
        ("JWS", "JWS", True),
        ("JWS", "jws", True),
        ("application/JWS", "jws", True),
        ("jws", "application/jws", True),
        ("JWS", "JWT", False),
        ("JWS", "application/jws+json", False),
        ("JWS", "text/jws", False),
        ("JWS", " JWS", False),
        # ASCII case rules only: str.lower() turns the Kelvin sign into 'k'.
        ("kid", "\u212aid", False),
        ("\u212aid", "\u212aid", True),
        ("\u212aid", "kid", False),
    ],
)
def test_typ_pin_compares_as_media_types(pinned: str, typ: str, same: bool) -> None:
    policy = tv.Policy(typ=pinned)
    if same:
        check_typ(policy, {"alg": "PS384", "typ": typ})
    else:
        with pytest.raises(tv.TokenRejected) as caught:
            check_typ(policy, {"alg": "PS384", "typ": typ})
        assert caught.value.reason is tv.Reason.unsupported_header


def test_typ_pin_is_judged_before_the_signature(
    issuer: TestIssuer, other_issuer: TestIssuer
) -> None:
    """A token of the wrong kind is refused as such, whoever signed it."""
    forged = other_issuer.checkout(header={"typ": "JOSE"})["SignedToken"]
    with pytest.raises(tv.TokenRejected) as caught:
        verifier(issuer, tv.Policy(typ="JWT")).verify(forged, now=NOW)
    assert caught.value.reason is tv.Reason.unsupported_header
