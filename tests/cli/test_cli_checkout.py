"""``tokenverify checkout`` and ``tokenverify.aws``, against botocore's Stubber.

The stubbed client is a real boto3 License Manager client: requests and responses are
validated against the service model botocore ships (SignedToken at least 4096
characters, IssuedAt as a string...). Dummy credentials, a region, no network.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from botocore.stub import ANY, Stubber  # type: ignore[import-untyped]

import tokenverify as tv
from tokenverify import aws
from tokenverify.cli import _checkout as _cli_checkout
from tokenverify.testing import MIN_SIGNED_TOKEN_LENGTH, TestIssuer

from .support import FINGERPRINT, NODE, RunCli, assert_one_line_error

ARN = "arn:aws:license-manager::111122223333:license:l-0123456789abcdef0123456789abcdef"
SKU = "prod-sku-1"


def _response(issuer: TestIssuer, *, borrow: bool, **overrides: Any) -> dict[str, Any]:
    """TestIssuer's own output, unpadded by us: it meets the model's 4096-character minimum."""
    fields: dict[str, Any] = {
        "node_id": NODE,
        "entitlements": [("Users", "1", "Count")],
        "license_arn": ARN,
        "borrow": borrow,
    }
    fields.update(overrides)
    return issuer.checkout(**fields)


@pytest.fixture
def client(aws_environment: None) -> Any:
    return boto3.client("license-manager", region_name="us-east-1")


@pytest.fixture
def stubber(client: Any) -> Iterator[Stubber]:
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()


def _checkout_request(**extra: Any) -> dict[str, Any]:
    return {
        "ProductSKU": SKU,
        "CheckoutType": "PROVISIONAL",
        "KeyFingerprint": FINGERPRINT,
        "Entitlements": [{"Name": "Users", "Unit": "Count", "Value": "1"}],
        "ClientToken": ANY,
        "NodeId": NODE,
        **extra,
    }


def _borrow_request(**extra: Any) -> dict[str, Any]:
    return {
        "LicenseArn": ARN,
        "Entitlements": [{"Name": "Users", "Unit": "Count", "Value": "1"}],
        "DigitalSignatureMethod": "JWT_PS384",
        "ClientToken": ANY,
        "NodeId": NODE,
        **extra,
    }


def test_stubber_accepts_test_issuer_output_and_refuses_it_unpadded(
    client: Any, issuer: TestIssuer
) -> None:
    """Pins the default: botocore validates SignedToken's minimum length on stubbed responses."""
    from botocore.exceptions import ParamValidationError  # type: ignore[import-untyped]

    with Stubber(client) as stub:
        for borrow in (False, True):
            response = issuer.checkout(borrow=borrow)
            assert len(response["SignedToken"]) >= MIN_SIGNED_TOKEN_LENGTH
            stub.add_response(_OPERATION[borrow], response)
        with pytest.raises(ParamValidationError, match="Invalid length for parameter SignedToken"):
            stub.add_response("checkout_license", issuer.checkout(min_token_length=0))


_OPERATION = {False: "checkout_license", True: "checkout_borrow_license"}


# -- the library helpers -------------------------------------------------------------------


def test_checkout_license_saves_a_file_that_verifies_offline(
    client: Any, stubber: Stubber, issuer: TestIssuer, tmp_path: Path
) -> None:
    response = _response(issuer, borrow=False)
    stubber.add_response("checkout_license", response, _checkout_request())
    saved = tmp_path / "checkout.json"
    returned = aws.checkout_license(
        client,
        product_sku=SKU,
        key_fingerprint=FINGERPRINT,
        entitlements=[("Users", "1", "Count")],
        node_id=NODE,
        verifier=tv.Verifier(issuer.registry(), tv.Policy(node_id=NODE)),
        save_to=saved,
    )
    assert returned == response
    assert json.loads(saved.read_text()) == response  # the full response, ResponseMetadata too
    # Offline, in another process's shoes: a fresh registry from the public key only.
    registry = tv.KeyRegistry()
    registry.add(FINGERPRINT, issuer.public_pem(), algorithms=["PS384"])
    checkout = tv.Verifier(registry, tv.Policy(node_id=NODE)).verify(saved)
    assert checkout.license_arn == ARN
    assert [p.name for p in tmp_path.iterdir()] == ["checkout.json"]  # no temp file left


def test_borrow_sends_jwt_ps384_and_metadata(
    client: Any, stubber: Stubber, issuer: TestIssuer, tmp_path: Path
) -> None:
    response = _response(issuer, borrow=True, checkout_metadata={"Mac": "02:42:ac:11:00:02"})
    stubber.add_response(
        "checkout_borrow_license",
        response,
        _borrow_request(
            CheckoutMetadata=[{"Name": "Mac", "Value": "02:42:ac:11:00:02"}], ClientToken="retry-1"
        ),
    )
    aws.checkout_borrow_license(
        client,
        license_arn=ARN,
        entitlements=[{"Name": "Users", "Value": "1", "Unit": "Count"}],
        node_id=NODE,
        checkout_metadata={"Mac": "02:42:ac:11:00:02"},
        client_token="retry-1",
        save_to=tmp_path / "borrow.json",
    )
    checkout = tv.Verifier(issuer.registry()).verify(tmp_path / "borrow.json")
    assert dict(checkout.checkout_metadata) == {"Mac": "02:42:ac:11:00:02"}


def test_a_rejected_response_is_not_saved(
    client: Any, stubber: Stubber, issuer: TestIssuer, stranger: TestIssuer, tmp_path: Path
) -> None:
    response = _response(stranger, borrow=True)
    stubber.add_response("checkout_borrow_license", response, _borrow_request())
    saved = tmp_path / "borrow.json"
    saved.write_text("previous checkout")
    with pytest.raises(tv.TokenRejected) as caught:
        aws.checkout_borrow_license(
            client,
            license_arn=ARN,
            entitlements=[("Users", "1", "Count")],
            node_id=NODE,
            verifier=tv.Verifier(issuer.registry()),
            save_to=saved,
        )
    assert caught.value.reason is tv.Reason.bad_signature
    assert response["LicenseConsumptionToken"] in caught.value.description
    assert "CheckInLicense" in caught.value.description
    assert saved.read_text() == "previous checkout"


def test_save_is_atomic_when_the_rename_fails(
    issuer: TestIssuer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved = tmp_path / "checkout.json"
    saved.write_text("previous checkout")

    def refuse(source: str, target: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="No space"):
        aws.save_checkout(issuer.checkout(), saved)
    assert saved.read_text() == "previous checkout"
    assert [p.name for p in tmp_path.iterdir()] == ["checkout.json"]


def test_aws_module_imports_no_boto3_by_itself(run_cli: RunCli) -> None:
    import subprocess

    code = "import sys, tokenverify.aws; print('boto3' in sys.modules, 'pydantic' in sys.modules)"
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, check=True, text=True
    )
    assert completed.stdout.split() == ["False", "False"]


# -- the command -----------------------------------------------------------------------------


@pytest.fixture
def stubbed_cli(client: Any, stubber: Stubber, monkeypatch: pytest.MonkeyPatch) -> Stubber:
    """The command's client factory hands out the stubbed client."""
    monkeypatch.setattr(_cli_checkout, "license_manager_client", lambda region, profile: client)
    return stubber


def test_cli_borrow_verifies_saves_and_the_file_verifies_offline(
    call_cli: RunCli,
    run_cli: RunCli,
    stubbed_cli: Stubber,
    issuer: TestIssuer,
    keys_file: Path,
    tmp_path: Path,
) -> None:
    response = _response(issuer, borrow=True, checkout_metadata={"Mac": "m-1"})
    stubbed_cli.add_response(
        "checkout_borrow_license",
        response,
        _borrow_request(CheckoutMetadata=[{"Name": "Mac", "Value": "m-1"}]),
    )
    saved = tmp_path / "carry-in.json"
    result = call_cli(
        "checkout",
        "--borrow",
        "--license-arn",
        ARN,
        "--entitlement",
        "Name=Users,Unit=Count,Value=1",
        "--node-id",
        NODE,
        "--metadata",
        "Mac=m-1",
        "--keys",
        keys_file,
        "--require",
        "Users>=1 Count",
        "--save",
        saved,
    )
    assert result.code == 0, result
    assert f"checked out {ARN} (CheckoutBorrowLicense)" in result.out
    assert f"verified  VALID with {keys_file}" in result.out
    assert f"saved     {saved}" in result.out
    assert json.loads(saved.read_text()) == response
    # At the air-gapped site: the real console script, offline.
    offline = run_cli(
        "verify", saved, "--keys", keys_file, "--node-id", NODE, "--require", "Users>=1 Count"
    )
    assert offline.code == 0, offline
    assert "metadata     Mac=m-1" in offline.out


def test_cli_checkout_license_without_keys_saves_unverified(
    call_cli: RunCli, stubbed_cli: Stubber, issuer: TestIssuer, tmp_path: Path
) -> None:
    response = _response(issuer, borrow=False)
    stubbed_cli.add_response(
        "checkout_license",
        response,
        _checkout_request(CheckoutType="PERPETUAL", Beneficiary="acme", ClientToken="t-1"),
    )
    saved = tmp_path / "checkout.json"
    result = call_cli(
        "checkout",
        "--sku",
        SKU,
        "--fingerprint",
        FINGERPRINT,
        "--entitlement",
        "Name=Users,Unit=Count,Value=1",
        "--node-id",
        NODE,
        "--checkout-type",
        "PERPETUAL",
        "--beneficiary",
        "acme",
        "--client-token",
        "t-1",
        "--save",
        saved,
    )
    assert result.code == 0, result
    assert "verified  no (pass --keys" in result.out
    assert json.loads(saved.read_text())["SignedToken"] == response["SignedToken"]


def test_cli_rejected_checkout_is_exit_1_and_not_saved(
    call_cli: RunCli, stubbed_cli: Stubber, issuer: TestIssuer, keys_file: Path, tmp_path: Path
) -> None:
    response = _response(issuer, borrow=True, node_id="node-8")
    stubbed_cli.add_response("checkout_borrow_license", response, _borrow_request())
    saved = tmp_path / "carry-in.json"
    result = call_cli(
        "checkout",
        "--borrow",
        "--license-arn",
        ARN,
        "--entitlement",
        "Name=Users,Unit=Count,Value=1",
        "--node-id",
        NODE,
        "--keys",
        keys_file,
        "--save",
        saved,
    )
    assert result.code == 1
    first, second = result.err.splitlines()
    assert first.startswith("REJECTED  CheckoutBorrowLicense response: node_mismatch: ")
    assert response["LicenseConsumptionToken"] in first
    assert second.startswith("remedy: ")
    assert not saved.exists()


def test_cli_service_error_is_exit_2_one_line(
    call_cli: RunCli, stubbed_cli: Stubber, tmp_path: Path
) -> None:
    stubbed_cli.add_client_error(
        "checkout_license",
        service_error_code="NoEntitlementsAllowedException",
        service_message="No entitlements are allowed for the requested quantity.",
        http_status_code=400,
    )
    result = call_cli(
        "checkout",
        "--sku",
        SKU,
        "--fingerprint",
        FINGERPRINT,
        "--entitlement",
        "Name=Users,Unit=Count,Value=1",
        "--save",
        tmp_path / "c.json",
    )
    assert_one_line_error(result)
    assert "CheckoutLicense failed" in result.err
    assert "NoEntitlementsAllowedException" in result.err
    assert not (tmp_path / "c.json").exists()


@pytest.mark.parametrize(
    ("flags", "problem"),
    [
        (["--borrow", "--entitlement", "Name=U,Unit=Count"], "--license-arn"),
        (
            ["--borrow", "--license-arn", ARN, "--sku", SKU, "--entitlement", "Name=U,Unit=Count"],
            "not --borrow",
        ),
        (["--fingerprint", FINGERPRINT, "--entitlement", "Name=U,Unit=Count"], "--sku"),
        (["--sku", SKU, "--fingerprint", FINGERPRINT], "--entitlement"),
        (
            [
                "--sku",
                SKU,
                "--fingerprint",
                FINGERPRINT,
                "--entitlement",
                "Name=U,Unit=Count",
                "--metadata",
                "a=b",
            ],
            "--borrow",
        ),
        (
            [
                "--sku",
                SKU,
                "--fingerprint",
                FINGERPRINT,
                "--entitlement",
                "Name=U,Unit=Count",
                "--checkout-type",
                "FOREVER",
            ],
            "argument --checkout-type",
        ),
        (
            [
                "--sku",
                SKU,
                "--fingerprint",
                FINGERPRINT,
                "--entitlement",
                "Name=U,Unit=Count",
                "--save",
                "{nofolder}",
            ],
            "no folder",
        ),
        (
            [
                "--sku",
                SKU,
                "--fingerprint",
                FINGERPRINT,
                "--entitlement",
                "Name=U,Unit=Count",
                "--keys",
                "{missing}",
            ],
            "cannot read",
        ),
    ],
)
def test_cli_bad_arguments_are_exit_2_before_any_call(
    call_cli: RunCli, stubbed_cli: Stubber, tmp_path: Path, flags: list[str], problem: str
) -> None:
    # No response is queued: a call to AWS would fail the stubber, not give this error.
    places = {
        "{nofolder}": str(tmp_path / "no" / "c.json"),
        "{missing}": str(tmp_path / "absent.json"),
    }
    arguments = [places.get(flag, flag) for flag in flags]
    if "--save" not in arguments:
        arguments += ["--save", str(tmp_path / "c.json")]
    result = call_cli("checkout", *arguments)
    assert_one_line_error(result)
    assert problem in result.err


def test_cli_without_boto3_says_which_extra(
    call_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)  # import boto3 -> ImportError
    result = call_cli(
        "checkout",
        "--sku",
        SKU,
        "--fingerprint",
        FINGERPRINT,
        "--entitlement",
        "Name=U,Unit=Count",
        "--save",
        tmp_path / "c.json",
    )
    assert_one_line_error(result)
    assert "pip install 'tokenverify[aws]'" in result.err


def _no_aws_environment(tmp_path: Path) -> dict[str, str]:
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    environment.update(
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    return environment


def test_cli_without_region_or_credentials_is_exit_2_without_network(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    environment = _no_aws_environment(tmp_path)
    args = (
        "checkout",
        "--sku",
        SKU,
        "--fingerprint",
        FINGERPRINT,
        "--entitlement",
        "Name=U,Unit=Count",
        "--save",
        tmp_path / "c.json",
    )
    no_region = run_cli(*args, env=environment)
    assert_one_line_error(no_region)
    assert "region" in no_region.err
    # With a region but no credentials, botocore refuses to sign: nothing is sent.
    no_credentials = run_cli(*args, "--region", "us-east-1", env=environment)
    assert_one_line_error(no_credentials)
    assert "CheckoutLicense failed: Unable to locate credentials" in no_credentials.err
    assert not (tmp_path / "c.json").exists()


def test_cli_checkout_output_escapes_what_the_response_and_names_carry(
    call_cli: RunCli, stubbed_cli: Stubber, issuer: TestIssuer, tmp_path: Path
) -> None:
    """Unverified (no --keys), the plaintext LicenseArn is whatever the response says."""
    response = _response(issuer, borrow=False, envelope={"LicenseArn": f"{ARN}\x1b]52;c;eA==\x07"})
    stubbed_cli.add_response("checkout_license", response, _checkout_request())
    saved = tmp_path / "out\r\u202e.json"
    result = call_cli(
        "checkout",
        "--sku",
        SKU,
        "--fingerprint",
        FINGERPRINT,
        "--entitlement",
        "Name=Users,Unit=Count,Value=1",
        "--node-id",
        NODE,
        "--save",
        saved,
    )
    assert result.code == 0, result
    lines = result.out.splitlines()
    assert all(line.isprintable() for line in lines), lines
    assert lines[0] == f"checked out {ARN}\\x1b]52;c;eA==\\x07 (CheckoutLicense)"
    assert f"  saved     {tmp_path}/out\\r\\u202e.json (the full response" in result.out
    assert saved.is_file()


def test_cli_checkout_on_a_full_disk_is_one_line_naming_the_file(
    call_cli: RunCli,
    stubbed_cli: Stubber,
    issuer: TestIssuer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import errno
    import os

    stubbed_cli.add_response(
        "checkout_license", _response(issuer, borrow=False), _checkout_request()
    )

    def disk_full(descriptor: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", disk_full)
    saved = tmp_path / "checkout.json"
    result = call_cli(
        "checkout",
        "--sku",
        SKU,
        "--fingerprint",
        FINGERPRINT,
        "--entitlement",
        "Name=Users,Unit=Count,Value=1",
        "--node-id",
        NODE,
        "--save",
        saved,
    )
    assert_one_line_error(result)
    assert f"checked out, but cannot save to {str(saved)!r}: No space left on device; " in (
        result.err
    )
    assert "free some space" in result.err
    assert list(tmp_path.iterdir()) == []
