"""``tokenverify mint``: test issuer keys (never overwritten) and AWS-shaped test checkouts."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

import tokenverify as tv
from tokenverify._times import parse_iso8601
from tokenverify.cli._mint import TEST_ISSUER_NOTE
from tokenverify.testing import MIN_SIGNED_TOKEN_LENGTH, PADDING_CLAIM, TestIssuer

from .support import FINGERPRINT, RunCli, assert_one_line_error


def test_fresh_workflow_new_key_add_mint_verify(run_cli: RunCli, tmp_path: Path) -> None:
    """What a vendor's pipeline does, start to finish, through the real console script."""
    key = tmp_path / "test-issuer.pem"
    created = run_cli("mint", "--new-key", key, "--key-size", "2048")
    assert created.code == 0, created
    assert "test issuer" in created.out
    assert "never ship" in created.err
    public = tmp_path / "test-issuer.pub.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert public.read_text().startswith("-----BEGIN PUBLIC KEY-----")

    keys = tmp_path / "keys.json"
    added = run_cli(
        "keys", "add", public, "--keys", keys, "--fingerprint", FINGERPRINT, "--algorithms", "PS384"
    )
    assert added.code == 0, added

    out = tmp_path / "checkout.json"
    minted = run_cli(
        "mint",
        "--issuer-key",
        key,
        "--fingerprint",
        FINGERPRINT,
        "--node-id",
        "node-7",
        "--entitlement",
        "Name=Users,Unit=Count,Value=25",
        "--entitlement",
        "Name=Pro,Unit=None",
        "--ttl",
        "2h",
        "--out",
        out,
    )
    assert minted.code == 0, minted
    assert f"to {out}" in minted.out
    assert TEST_ISSUER_NOTE in minted.err
    response = json.loads(out.read_text())
    assert response["TokenverifyTestIssuer"] == TEST_ISSUER_NOTE
    assert response["CheckoutType"] == "PROVISIONAL"
    assert response["LicenseArn"].startswith("arn:aws:license-manager::111122223333:license:l-")
    lifetime = parse_iso8601(response["Expiration"]) - parse_iso8601(response["IssuedAt"])
    assert lifetime.total_seconds() == 7200

    verified = run_cli(
        "verify",
        out,
        "--keys",
        keys,
        "--node-id",
        "node-7",
        "--require",
        "Users>=25 Count",
        "--require",
        "Pro",
    )
    assert verified.code == 0, verified
    assert "Users 25 Count, Pro" in verified.out


def test_new_key_never_overwrites(call_cli: RunCli, tmp_path: Path) -> None:
    key = tmp_path / "issuer.pem"
    key.write_text("precious")
    result = call_cli("mint", "--new-key", key, "--key-size", "2048")
    assert_one_line_error(result)
    assert "refusing to overwrite" in result.err
    assert key.read_text() == "precious"
    assert not (tmp_path / "issuer.pub.pem").exists()
    # Nor the public half: nothing is written if either exists.
    other = tmp_path / "other.pem"
    (tmp_path / "other.pub.pem").write_text("also precious")
    again = call_cli("mint", "--new-key", other, "--key-size", "2048")
    assert_one_line_error(again)
    assert not other.exists()
    assert (tmp_path / "other.pub.pem").read_text() == "also precious"


def test_new_ec_key_mints_es384_by_default(call_cli: RunCli, tmp_path: Path) -> None:
    key = tmp_path / "ec"
    assert call_cli("mint", "--new-key", key, "--alg", "ES384").code == 0
    assert (tmp_path / "ec.pub").exists()  # no .pem suffix: '.pub' is appended
    minted = call_cli("mint", "--issuer-key", key, "--fingerprint", FINGERPRINT)
    assert minted.code == 0, minted
    response = json.loads(minted.out)
    registry = tv.KeyRegistry()
    registry.add(FINGERPRINT, (tmp_path / "ec.pub").read_bytes())
    checkout = tv.Verifier(registry).verify(response)
    assert checkout.algorithm == "ES384"
    assert checkout.node_id is None  # no --node-id: not bound to a node
    assert checkout.entitlements == (tv.Entitlement("Users", "10", "Count"),)


def test_borrow_with_metadata_and_kid(
    call_cli: RunCli, issuer: TestIssuer, cli_files: Path
) -> None:
    minted = call_cli(
        "mint",
        "--issuer-key",
        cli_files / "issuer.pem",
        "--fingerprint",
        FINGERPRINT,
        "--borrow",
        "--metadata",
        "Mac=02:42:ac:11:00:02",
        "--metadata",
        "Host=a=b",
        "--kid",
        FINGERPRINT,
        "--license-arn",
        "arn:aws:license-manager::111122223333:license:l-0123",
    )
    assert minted.code == 0, minted
    response = json.loads(minted.out)
    assert "CheckoutType" not in response
    assert response["CheckoutMetadata"] == [
        {"Name": "Mac", "Value": "02:42:ac:11:00:02"},
        {"Name": "Host", "Value": "a=b"},
    ]
    checkout = tv.Verifier(issuer.registry()).verify(response)
    assert checkout.header["kid"] == FINGERPRINT
    assert dict(checkout.checkout_metadata) == {"Mac": "02:42:ac:11:00:02", "Host": "a=b"}
    assert checkout.license_arn == "arn:aws:license-manager::111122223333:license:l-0123"


def test_issued_at_in_the_past_mints_an_expired_checkout(
    call_cli: RunCli, cli_files: Path, keys_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "expired.json"
    minted = call_cli(
        "mint",
        "--issuer-key",
        cli_files / "issuer.pem",
        "--fingerprint",
        FINGERPRINT,
        "--issued-at",
        "2020-01-01T00:00:00Z",
        "--ttl",
        "60m",
        "--out",
        out,
    )
    assert minted.code == 0, minted
    response = json.loads(out.read_text())
    assert response["IssuedAt"] == "2020-01-01T00:00:00"
    assert response["Expiration"] == "2020-01-01T01:00:00"
    verified = call_cli("verify", out, "--keys", keys_file)
    assert verified.code == 1
    assert "expired" in verified.err
    assert call_cli("verify", out, "--keys", keys_file, "--at", "2020-01-01T00:30:00Z").code == 0


@pytest.mark.parametrize(
    ("flags", "problem"),
    [
        ([], "--issuer-key"),
        (["--issuer-key", "{missing}", "--fingerprint", FINGERPRINT], "cannot read issuer key"),
        (
            ["--issuer-key", "{public}", "--fingerprint", FINGERPRINT],
            "not an unencrypted PEM private key",
        ),
        (
            ["--issuer-key", "{encrypted}", "--fingerprint", FINGERPRINT],
            "not an unencrypted PEM private key",
        ),
        (
            ["--issuer-key", "{private}", "--fingerprint", FINGERPRINT, "--alg", "ES256"],
            "--alg ES256",
        ),
        (
            ["--issuer-key", "{private}", "--fingerprint", FINGERPRINT, "--alg", "HS256"],
            "argument --alg",
        ),
        (
            ["--issuer-key", "{private}", "--fingerprint", FINGERPRINT, "--ttl", "0"],
            "argument --ttl",
        ),
        (
            ["--issuer-key", "{private}", "--fingerprint", FINGERPRINT, "--ttl", "1w"],
            "argument --ttl",
        ),
        (
            [
                "--issuer-key",
                "{private}",
                "--fingerprint",
                FINGERPRINT,
                "--entitlement",
                "Name=Users",
            ],
            "Unit=",
        ),
        (
            [
                "--issuer-key",
                "{private}",
                "--fingerprint",
                FINGERPRINT,
                "--entitlement",
                "Name=U,Unit=Seats",
            ],
            "unknown unit",
        ),
        (
            [
                "--issuer-key",
                "{private}",
                "--fingerprint",
                FINGERPRINT,
                "--entitlement",
                "Name=U,Unit=Count,Max=3",
            ],
            "Name=NAME",
        ),
        (
            ["--issuer-key", "{private}", "--fingerprint", FINGERPRINT, "--metadata", "novalue"],
            "NAME=VALUE",
        ),
        (
            ["--issuer-key", "{private}", "--fingerprint", FINGERPRINT, "--out", "{nofolder}"],
            "cannot write",
        ),
    ],
)
def test_bad_mint_arguments_are_exit_2(
    call_cli: RunCli,
    issuer: TestIssuer,
    cli_files: Path,
    tmp_path: Path,
    flags: list[str],
    problem: str,
) -> None:
    from cryptography.hazmat.primitives import serialization

    encrypted = tmp_path / "encrypted.pem"
    encrypted.write_bytes(
        issuer.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    places = {
        "{missing}": str(tmp_path / "absent.pem"),
        "{public}": str(cli_files / "issuer.pub.pem"),
        "{encrypted}": str(encrypted),
        "{private}": str(cli_files / "issuer.pem"),
        "{nofolder}": str(tmp_path / "no" / "such" / "out.json"),
    }
    result = call_cli("mint", *[places.get(flag, flag) for flag in flags])
    assert_one_line_error(result)
    assert problem in result.err


def _decoded(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, payload, _ = token.split(".")
    return (
        json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))),
        json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))),
    )


def test_minted_tokens_reach_the_model_minimum_unless_told_not_to(
    call_cli: RunCli, issuer: TestIssuer, cli_files: Path
) -> None:
    key = ["--issuer-key", cli_files / "issuer.pem", "--fingerprint", FINGERPRINT]
    default = call_cli("mint", *key).json()
    _, payload = _decoded(default["SignedToken"])
    assert len(default["SignedToken"]) in (MIN_SIGNED_TOKEN_LENGTH, MIN_SIGNED_TOKEN_LENGTH + 1)
    assert set(payload[PADDING_CLAIM]) == {"."}
    tv.Verifier(issuer.registry()).verify(default)

    exact = call_cli("mint", *key, "--min-length", "0").json()
    assert PADDING_CLAIM not in _decoded(exact["SignedToken"])[1]
    assert len(exact["SignedToken"]) < 1500

    longer = call_cli("mint", *key, "--min-length", "6000").json()
    assert 6000 <= len(longer["SignedToken"]) <= 6001
    tv.Verifier(issuer.registry()).verify(longer)


def test_mint_shapes_header_and_claims(
    call_cli: RunCli, issuer: TestIssuer, cli_files: Path
) -> None:
    arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    minted = call_cli(
        "mint",
        "--issuer-key",
        cli_files / "issuer.pem",
        "--fingerprint",
        FINGERPRINT,
        "--kid",
        arn,
        "--x5c",
        "1",
        "--typ",
        "JWS",
        "--borrow",
        "--metadata",
        "Mac=m-1",
        "--metadata",
        "Mac=m-2",
        "--metadata-shape",
        "api-list",
        "--claim",
        'licenseDetails={"tier": "pro", "seats": [1, 2.5, null, true]}',
        "--claim",
        'productSKU="sku-1"',
        "--claim",
        "nodeId=null",
    )
    assert minted.code == 0, minted
    response = minted.json()
    header, payload = _decoded(response["SignedToken"])
    assert header["kid"] == arn
    assert header["typ"] == "JWS"
    (certificate,) = (x509.load_der_x509_certificate(base64.b64decode(c)) for c in header["x5c"])
    assert certificate.public_key() == issuer.private_key.public_key()
    assert payload["checkoutMetadata"] == [
        {"Name": "Mac", "Value": "m-1"},
        {"Name": "Mac", "Value": "m-2"},
    ]
    assert response["CheckoutMetadata"] == payload["checkoutMetadata"]
    assert payload["licenseDetails"] == {"tier": "pro", "seats": [1, 2.5, None, True]}
    assert payload["productSKU"] == "sku-1"
    assert "nodeId" not in payload
    assert "NodeId" not in response

    untyped = call_cli(
        "mint", "--issuer-key", cli_files / "issuer.pem", "--fingerprint", FINGERPRINT, "--no-typ"
    ).json()
    assert _decoded(untyped["SignedToken"])[0] == {"alg": "PS384"}
    tv.Verifier(issuer.registry()).verify(untyped)


@pytest.mark.parametrize(
    ("flags", "problem"),
    [
        (["--x5c", "9"], "from 0 to 8"),
        (["--x5c", "-1"], "argument --x5c"),
        (["--min-length", "70000"], "argument --min-length"),
        (["--min-length", "four"], "argument --min-length"),
        (["--claim", "novalue"], "NAME=JSON"),
        (["--claim", "sku=bare words"], "is not JSON"),
        (["--claim", "n=NaN"], "is not JSON"),
        (["--typ", "JWS", "--no-typ"], "not allowed with"),
        (["--metadata-shape", "tuple"], "argument --metadata-shape"),
        (["--metadata", "a=1", "--metadata", "a=2"], "given twice"),
    ],
)
def test_bad_shape_flags_are_exit_2(
    call_cli: RunCli, cli_files: Path, flags: list[str], problem: str
) -> None:
    result = call_cli(
        "mint", "--issuer-key", cli_files / "issuer.pem", "--fingerprint", FINGERPRINT, *flags
    )
    assert_one_line_error(result)
    assert problem in result.err
