"""``tokenverify inspect --unverified``: decodes with the library's parser, trusts nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tokenverify import _base64url
from tokenverify.formats._json_output import InspectReport
from tokenverify.testing import TestIssuer

from .support import FINGERPRINT, OTHER_FINGERPRINT, RunCli, assert_one_line_error, check_schema


def test_refuses_without_unverified(run_cli: RunCli, issuer: TestIssuer, tmp_path: Path) -> None:
    path = tmp_path / "checkout.json"
    path.write_text(json.dumps(issuer.checkout()))
    result = run_cli("inspect", path)
    assert_one_line_error(result)
    assert "--unverified" in result.err


def test_shows_header_payload_envelope_labelled_unverified(
    run_cli: RunCli, stranger: TestIssuer, keys_file: Path, tmp_path: Path
) -> None:
    # A forgery: inspect decodes it all the same, and says which key verify would try.
    response = stranger.checkout(node_id="node-7")
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(response))
    result = run_cli("inspect", path, "--unverified", "--keys", keys_file)
    assert result.code == 0, result
    lines = result.out.splitlines()
    assert lines[0].startswith("UNVERIFIED")
    assert "Do not trust it" in lines[0]
    assert '"alg": "PS384"' in result.out
    assert f'"licenseArn": "{response["LicenseArn"]}"' in result.out
    assert "envelope (unsigned plaintext around the token)" in result.out
    assert '"CheckoutType": "PROVISIONAL"' in result.out
    assert "ResponseMetadata" not in result.out
    assert "signature  256 bytes" in result.out
    assert "verify would try RSA-2048 key" in result.out
    assert f"of {FINGERPRINT!r}" in result.out
    assert "another key signed it" not in result.out  # same size: nothing to tell


def test_points_out_a_signature_of_the_wrong_size(
    call_cli: RunCli, keys_file: Path, tmp_path: Path
) -> None:
    big = TestIssuer.generate("PS384", fingerprint=FINGERPRINT, key_size=3072)
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(big.checkout()))
    result = call_cli("inspect", path, "--unverified", "--keys", keys_file)
    assert result.code == 0
    assert (
        "but its signatures are 256 bytes and this one is 384: another key signed it" in result.out
    )


def test_bare_token_on_stdin(run_cli: RunCli, issuer: TestIssuer) -> None:
    token = issuer.checkout()["SignedToken"]
    result = run_cli("inspect", "-", "--unverified", input=token.encode())
    assert result.code == 0, result
    assert "envelope" not in result.out
    assert "key  " not in result.out  # no --keys, no key line


def test_says_when_no_key_would_be_tried(
    call_cli: RunCli, issuer: TestIssuer, keys_file: Path, tmp_path: Path
) -> None:
    path = tmp_path / "checkout.json"
    path.write_text(json.dumps(issuer.checkout()))
    other = call_cli(
        "inspect", path, "--unverified", "--keys", keys_file, "--fingerprint", OTHER_FINGERPRINT
    )
    assert other.code == 0
    assert (
        f"no registered key would be tried: no trusted key for {OTHER_FINGERPRINT!r}" in other.out
    )
    rs256 = TestIssuer(issuer.private_key, "RS256", FINGERPRINT)
    path.write_text(json.dumps(rs256.checkout()))
    pinned = call_cli("inspect", path, "--unverified", "--keys", keys_file)
    assert "signed with RS256 but the matching keys are pinned to PS384" in pinned.out


def test_json_matches_its_schema(
    run_cli: RunCli, issuer: TestIssuer, keys_file: Path, tmp_path: Path
) -> None:
    path = tmp_path / "checkout.json"
    path.write_text(json.dumps(issuer.checkout(node_id="node-9", checkout_metadata={"Mac": "m"})))
    result = run_cli("inspect", path, "--unverified", "--keys", keys_file, "--json")
    assert result.code == 0
    document = result.json()
    schema = run_cli("schema", "inspect").json()
    assert schema == InspectReport.model_json_schema()
    check_schema(document, schema)
    assert document["verified"] is False
    assert document["payload"]["nodeId"] == "node-9"
    assert document["header"] == {"alg": "PS384", "typ": "JWT"}
    assert document["signature_bytes"] == 256
    assert document["envelope"]["NodeId"] == "node-9"
    assert [key["fingerprint"] for key in document["candidate_keys"]] == [FINGERPRINT]
    assert document["candidate_keys"][0]["key_type"] == "RSA-2048"


def test_payload_that_is_not_json_is_described(call_cli: RunCli, issuer: TestIssuer) -> None:
    token = issuer.sign(b"\xff not json")
    result = call_cli("inspect", "-", "--unverified", input=token.encode())
    assert result.code == 0
    assert "(not shown: " in result.out
    as_json = InspectReport.model_validate_json(
        call_cli("inspect", "-", "--unverified", "--json", input=token.encode()).out
    )
    assert as_json.payload is None
    assert as_json.payload_problem


@pytest.mark.parametrize(
    "content",
    [
        b"garbage",
        b"",
        b"a.b.c",
        _base64url.encode(b'{"alg":"none"}').encode()
        + b"."
        + _base64url.encode(b"{}").encode()
        + b".",
        _base64url.encode(b'{"alg":"HS256"}').encode() + b".e30.c2ln",
        b'{"NoSignedToken": 1}',
    ],
)
def test_undecodable_is_exit_1_one_line(call_cli: RunCli, content: bytes) -> None:
    for extra in ([], ["--json"]):
        result = call_cli("inspect", "-", "--unverified", *extra, input=content)
        assert result.code == 1
        assert result.out == ""
        assert len(result.err.splitlines()) == 1
        assert result.err.startswith("tokenverify: cannot decode stdin: ")
