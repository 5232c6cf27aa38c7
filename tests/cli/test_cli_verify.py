"""``tokenverify verify``: exit codes, stdin, reasons with remedies, --json, --at, policy."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import tokenverify as tv
from tokenverify.cli._output import REMEDIES
from tokenverify.formats._json_output import VerifyReport
from tokenverify.testing import TestIssuer

from .support import (
    ENTITLEMENTS,
    FINGERPRINT,
    NODE,
    OTHER_FINGERPRINT,
    RunCli,
    assert_one_line_error,
    check_schema,
)

SaveCheckout = Callable[..., Path]


def _checkout(issuer: TestIssuer, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {"node_id": NODE, "entitlements": ENTITLEMENTS}
    fields.update(overrides)
    return issuer.checkout(**fields)


# -- exit code 0 ------------------------------------------------------------------------


def test_valid_checkout_prints_summary_and_exits_0(
    run_cli: RunCli, issuer: TestIssuer, keys_file: Path, save_checkout: SaveCheckout
) -> None:
    response = _checkout(issuer, ttl=7200)
    path = save_checkout(response)
    result = run_cli(
        "verify", path, "--keys", keys_file, "--node-id", NODE, "--require", "Users>=5 Count"
    )
    assert result.code == 0, result
    assert result.err == ""
    lines = result.out.splitlines()
    assert lines[0] == f"VALID  {path}"
    assert response["LicenseArn"] in result.out
    assert f"node         {NODE}" in result.out
    assert "Users 10 Count, Storage 500 Gigabytes" in result.out
    assert f"{FINGERPRINT} (PS384)" in result.out
    assert "h 59 min left" in result.out or "2 h 0 min left" in result.out
    assert "\x1b[" not in result.out  # not a terminal: no colour


def test_bare_token_and_response_on_stdin(
    run_cli: RunCli, issuer: TestIssuer, keys_file: Path
) -> None:
    response = _checkout(issuer)
    by_dash = run_cli("verify", "-", "--keys", keys_file, input=json.dumps(response).encode())
    assert by_dash.code == 0, by_dash
    assert by_dash.out.startswith("VALID  stdin")
    # No FILE at all means stdin too; a bare token with a trailing newline, as `echo` gives.
    bare = run_cli("verify", "--keys", keys_file, input=response["SignedToken"].encode() + b"\n")
    assert bare.code == 0, bare
    assert response["LicenseArn"] in bare.out


def test_bare_public_key_as_keys_with_fingerprint(
    call_cli: RunCli, issuer: TestIssuer, cli_files: Path, save_checkout: SaveCheckout
) -> None:
    path = save_checkout(_checkout(issuer))
    pem = cli_files / "issuer.pub.pem"
    ok = call_cli(
        "verify", path, "--keys", pem, "--fingerprint", FINGERPRINT, "--algorithms", "PS384"
    )
    assert ok.code == 0, ok
    # The same key pinned to another algorithm refuses the PS384 token.
    pinned = call_cli(
        "verify", path, "--keys", pem, "--fingerprint", FINGERPRINT, "--algorithms", "PS256"
    )
    assert pinned.code == 1
    assert "unsupported_algorithm" in pinned.err


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ([], "not a tokenverify keys file"),  # a bare key needs --fingerprint
        (["--fingerprint", FINGERPRINT], "several algorithms"),  # RSA needs --algorithms
        (["--fingerprint", FINGERPRINT, "--algorithms", "HS256"], "never accepted"),
        (["--fingerprint", " padded ", "--algorithms", "PS384"], "fingerprint"),
    ],
)
def test_bare_public_key_misconfigured_is_exit_2(
    call_cli: RunCli,
    issuer: TestIssuer,
    cli_files: Path,
    save_checkout: SaveCheckout,
    extra: list[str],
    problem: str,
) -> None:
    path = save_checkout(_checkout(issuer))
    result = call_cli("verify", path, "--keys", cli_files / "issuer.pub.pem", *extra)
    assert_one_line_error(result)
    assert problem in result.err


# -- exit code 1: every reason the command line can meet, with its remedy ----------------


def test_every_reason_has_a_remedy() -> None:
    assert set(REMEDIES) == set(tv.Reason)
    assert all(text and "\n" not in text for text in REMEDIES.values())
    assert (
        "ExtendLicenseConsumption does not renew the signed expiry" in REMEDIES[tv.Reason.expired]
    )
    assert "re-run CheckoutLicense" in REMEDIES[tv.Reason.expired]


def test_expired_is_exit_1_with_remedy_on_stderr(
    run_cli: RunCli, issuer: TestIssuer, keys_file: Path, save_checkout: SaveCheckout
) -> None:
    path = save_checkout(_checkout(issuer, issued_at=time.time() - 7200))
    result = run_cli("verify", path, "--keys", keys_file)
    assert result.code == 1
    assert result.out == ""
    first, second = result.err.splitlines()
    assert first.startswith(f"REJECTED  {path}: expired: expired at ")
    assert second == (
        "remedy: re-run CheckoutLicense (or CheckoutBorrowLicense); "
        "ExtendLicenseConsumption does not renew the signed expiry"
    )


def _rejections(issuer: TestIssuer, stranger: TestIssuer) -> dict[str, tuple[Any, list[str]]]:
    """reason -> (saved content, extra flags) that makes verify reject for that reason."""
    now = time.time()
    tampered = _checkout(issuer)
    tampered["EntitlementsAllowed"][0]["Value"] = "1000"
    rs256 = TestIssuer(issuer.private_key, "RS256", FINGERPRINT)
    return {
        "expired": (_checkout(issuer, issued_at=now - 7200), []),
        "not_yet_valid": (_checkout(issuer, issued_at=now + 3600), []),
        "node_mismatch": (_checkout(issuer), ["--node-id", "node-8"]),
        "license_mismatch": (
            _checkout(issuer),
            ["--license-arn", "arn:aws:license-manager::1:license:l-x"],
        ),
        "product_mismatch": (_checkout(issuer, claims={"productSKU": "sku-a"}), ["--sku", "sku-b"]),
        "metadata_mismatch": (
            _checkout(issuer, borrow=True, checkout_metadata={"Mac": "02:42:ac:11:00:02"}),
            ["--metadata", "Mac=02:42:ac:11:00:03"],
        ),
        "entitlement_missing": (_checkout(issuer), ["--require", "Seats"]),
        "entitlement_insufficient": (_checkout(issuer), ["--require", "Users>=11 Count"]),
        "envelope_mismatch": (tampered, []),
        "bad_signature": (_checkout(stranger), []),
        "unknown_key": (_checkout(issuer), ["--fingerprint", OTHER_FINGERPRINT]),
        "unsupported_algorithm": (_checkout(rs256), []),
        "unsupported_header": (_checkout(issuer, header={"crit": ["exp"]}), []),
        "invalid_claims": (
            _checkout(issuer, claims={"licenseArn": 5}, envelope={"LicenseArn": None}),
            [],
        ),
        "malformed": (b"this is not a token", []),
        "too_large": (b"A" * 400_000, []),
    }


@pytest.mark.parametrize(
    "reason",
    [
        "expired",
        "not_yet_valid",
        "node_mismatch",
        "license_mismatch",
        "product_mismatch",
        "metadata_mismatch",
        "entitlement_missing",
        "entitlement_insufficient",
        "envelope_mismatch",
        "bad_signature",
        "unknown_key",
        "unsupported_algorithm",
        "unsupported_header",
        "invalid_claims",
        "malformed",
        "too_large",
    ],
)
def test_each_rejection_is_exit_1_reason_and_remedy(
    call_cli: RunCli,
    issuer: TestIssuer,
    stranger: TestIssuer,
    keys_file: Path,
    tmp_path: Path,
    reason: str,
) -> None:
    content, flags = _rejections(issuer, stranger)[reason]
    path = tmp_path / "checkout.json"
    path.write_bytes(content if isinstance(content, bytes) else json.dumps(content).encode())
    result = call_cli("verify", path, "--keys", keys_file, *flags)
    assert result.code == 1, result
    assert result.out == ""
    first, second = result.err.splitlines()
    assert first.startswith(f"REJECTED  {path}: {reason}: ")
    assert second == f"remedy: {REMEDIES[tv.Reason(reason)]}"


def test_key_outside_its_validity_is_key_not_valid(
    call_cli: RunCli, issuer: TestIssuer, tmp_path: Path, save_checkout: SaveCheckout
) -> None:
    registry = tv.KeyRegistry()
    registry.add(
        FINGERPRINT, issuer.public_pem(), algorithms=["PS384"], not_after="2020-01-01T00:00:00Z"
    )
    registry.save(tmp_path / "retired.json")
    result = call_cli(
        "verify", save_checkout(_checkout(issuer)), "--keys", tmp_path / "retired.json"
    )
    assert result.code == 1
    assert "key_not_valid" in result.err
    assert "remedy: " in result.err


# -- exit code 2: configuration and usage --------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "problem"),
    [
        (["--at", "yesterday"], "argument --at"),
        (["--at", "2026-13-01T00:00:00Z"], "argument --at"),
        (["--at", "2026-01-01 00:00:00"], "argument --at"),
        (["--at", "-5"], "argument --at"),
        (["--leeway", "-1"], "argument --leeway"),
        (["--leeway", "1e3"], "argument --leeway"),
        (["--leeway", "90000"], "argument --leeway"),
        (["--require", "Users>="], "argument --require"),
        (["--require", ">=5"], "argument --require"),
        (["--require", "Users>=5 Parsecs"], "unknown unit"),
        (["--require", "Users>=1e3"], "argument --require"),
        (["--require", "Users>=\u0665"], "argument --require"),  # Arabic-Indic five
        (["--require", "Users>=5 Count extra"], "argument --require"),
        (["--unknown-flag"], "unrecognized arguments"),
        (["--node"], "unrecognized arguments"),  # no abbreviations of --node-id
        (["--metadata", "Mac"], "argument --metadata"),
        (["--metadata", "=02:42:ac:11:00:02"], "argument --metadata"),
        (["--typ"], "argument --typ"),
    ],
)
def test_bad_flags_are_exit_2_on_one_line(
    call_cli: RunCli,
    issuer: TestIssuer,
    keys_file: Path,
    save_checkout: SaveCheckout,
    flags: list[str],
    problem: str,
) -> None:
    path = save_checkout(_checkout(issuer))
    result = call_cli("verify", path, "--keys", keys_file, *flags)
    assert_one_line_error(result)
    assert problem in result.err
    assert "tokenverify verify --help" in result.err


def test_missing_keys_flag_is_exit_2(run_cli: RunCli, tmp_path: Path) -> None:
    result = run_cli("verify", tmp_path / "x.json")
    assert_one_line_error(result)
    assert "--keys" in result.err


@pytest.mark.parametrize("which", ["missing", "folder"])
def test_unreadable_input_is_exit_2(
    call_cli: RunCli, keys_file: Path, tmp_path: Path, which: str
) -> None:
    target = tmp_path / "nope.json" if which == "missing" else tmp_path
    result = call_cli("verify", target, "--keys", keys_file)
    assert_one_line_error(result)
    assert "cannot read" in result.err


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "cannot read"),
        (b'{"format": "tokenverify-keys", "version": 2, "keys": []}', "version"),
        (
            b'{"format": "tokenverify-keys", "keys": [{"fingerprint": "x"}]}',
            "key 0: public_key: required",
        ),
        (b'{"format": "tokenverify-keys", "keys": [', "keys file"),
        (b"\x00\x01garbage", "not a tokenverify keys file"),
    ],
)
def test_bad_keys_file_is_exit_2(
    call_cli: RunCli,
    issuer: TestIssuer,
    tmp_path: Path,
    save_checkout: SaveCheckout,
    content: bytes | None,
    problem: str,
) -> None:
    keys = tmp_path / "keys.json"
    if content is not None:
        keys.write_bytes(content)
    result = call_cli("verify", save_checkout(_checkout(issuer)), "--keys", keys)
    assert_one_line_error(result)
    assert problem in result.err


def test_edited_keys_file_is_refused(
    call_cli: RunCli,
    issuer: TestIssuer,
    keys_file: Path,
    tmp_path: Path,
    save_checkout: SaveCheckout,
) -> None:
    document = json.loads(keys_file.read_text())
    document["keys"][0]["thumbprint"] = "A" * 43
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(document))
    result = call_cli("verify", save_checkout(_checkout(issuer)), "--keys", edited)
    assert_one_line_error(result)
    assert "does not match its public key" in result.err


# -- malformed input of every kind: exit 1 with a reason, never a traceback ---------------


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"   \n",
        b"a.b",
        b"a.b.c.d.e",
        b"eyJhbGciOiJub25lIn0.e30.",
        b"eyJhbGciOiJub25lIn0.e30.c2ln",
        b"[1, 2, 3]",
        b"{",
        b'{"SignedToken": 5}',
        b'{"SignedToken": "a.b.c", "SignedToken": "d.e.f"}',
        b'{"NoToken": true}',
        b"\xff\xfe{\x00}\x00",
        b"\xef\xbb\xbf{}",
        b"[" * 100_000,
        bytes(range(256)),
    ],
    ids=lambda value: repr(value[:24]),
)
def test_malformed_input_is_exit_1_never_a_traceback(
    call_cli: RunCli, keys_file: Path, tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "input"
    path.write_bytes(content)
    result = call_cli("verify", path, "--keys", keys_file)
    assert result.code == 1, result
    assert "Traceback" not in result.err
    first, second = result.err.splitlines()
    assert first.startswith("REJECTED  ")
    assert second.startswith("remedy: ")


# -- --at and --leeway ---------------------------------------------------------------------


def test_at_checks_as_of_another_time(
    call_cli: RunCli, issuer: TestIssuer, keys_file: Path, save_checkout: SaveCheckout
) -> None:
    issued = 1_700_000_000  # 2023-11-14T22:13:20Z
    path = save_checkout(_checkout(issuer, issued_at=issued, ttl=3600))
    assert call_cli("verify", path, "--keys", keys_file).code == 1  # long expired today
    assert call_cli("verify", path, "--keys", keys_file, "--at", str(issued + 60)).code == 0
    inside = call_cli("verify", path, "--keys", keys_file, "--at", "2023-11-14T22:43:20Z")
    assert inside.code == 0, inside
    assert "(30 min left)" in inside.out
    # Zone-less means UTC, like AWS's own timestamps; +01:00 shifts by an hour.
    assert call_cli("verify", path, "--keys", keys_file, "--at", "2023-11-14T22:43:20").code == 0
    late = call_cli("verify", path, "--keys", keys_file, "--at", "2023-11-14T23:43:20-01:00")
    assert late.code == 1
    assert "expired" in late.err


def test_leeway_absorbs_skew_and_can_be_removed(
    call_cli: RunCli, issuer: TestIssuer, keys_file: Path, save_checkout: SaveCheckout
) -> None:
    issued = 1_700_000_000
    path = save_checkout(_checkout(issuer, issued_at=issued, ttl=3600))
    at = str(issued + 3600 + 30)  # 30 s after expiry
    within = call_cli("verify", path, "--keys", keys_file, "--at", at)
    assert within.code == 0, within
    assert "expired 30 s ago, within the leeway" in within.out
    strict = call_cli("verify", path, "--keys", keys_file, "--at", at, "--leeway", "0")
    assert strict.code == 1
    assert "expired" in strict.err


# -- --require ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("requirement", "code"),
    [
        ("Users", 0),
        ("Users>=10", 0),
        ("Users>=10 Count", 0),
        ("Users >= 10  Count", 0),
        ("Users>=10.5 Count", 1),
        ("Storage>=0.5 Terabytes", 0),  # 500 Gigabytes
        ("Storage>=500000 Megabytes", 0),
        ("Storage>=0.6 Terabytes", 1),
        ("Storage Gigabytes", 0),
        ("Storage Count", 1),  # granted in bytes only
        ("users", 1),  # names match exactly
    ],
)
def test_require_syntax(
    call_cli: RunCli,
    issuer: TestIssuer,
    keys_file: Path,
    save_checkout: SaveCheckout,
    requirement: str,
    code: int,
) -> None:
    path = save_checkout(_checkout(issuer))
    result = call_cli("verify", path, "--keys", keys_file, "--require", requirement)
    assert result.code == code, result


def test_require_names_may_hold_spaces_and_repeat(
    call_cli: RunCli, issuer: TestIssuer, keys_file: Path, save_checkout: SaveCheckout
) -> None:
    path = save_checkout(
        _checkout(issuer, entitlements=[("Premium Support", None, "None"), ("Users", "3", "Count")])
    )
    both = call_cli(
        "verify", path, "--keys", keys_file, "--require", "Premium Support", "--require", "Users>=3"
    )
    assert both.code == 0, both
    assert "Premium Support, Users 3 Count" in both.out
    flag = call_cli("verify", path, "--keys", keys_file, "--require", "Premium Support None")
    assert flag.code == 0, flag
    second_fails = call_cli(
        "verify", path, "--keys", keys_file, "--require", "Premium Support", "--require", "Users>=4"
    )
    assert second_fails.code == 1
    assert "entitlement_insufficient" in second_fails.err


# -- --json ---------------------------------------------------------------------------------


def test_json_round_trips_through_the_exported_schema(
    run_cli: RunCli,
    issuer: TestIssuer,
    keys_file: Path,
    save_checkout: SaveCheckout,
) -> None:
    schema = run_cli("schema", "verify").json()
    assert schema == VerifyReport.model_json_schema()
    valid_path = save_checkout(_checkout(issuer, checkout_metadata={"Mac": "02:42"}), "valid.json")
    valid = run_cli("verify", valid_path, "--keys", keys_file, "--json")
    assert valid.code == 0
    assert valid.err == ""
    document = valid.json()
    check_schema(document, schema)
    assert VerifyReport.model_validate_json(valid.out).model_dump(mode="json") == document
    assert document["valid"] is True
    assert document["reason"] is None
    assert document["checkout"]["node_id"] == NODE
    assert document["checkout"]["checkout_metadata"] == {"Mac": "02:42"}
    assert document["checkout"]["entitlements"][0] == {
        "name": "Users",
        "value": "10",
        "unit": "Count",
    }
    assert 3500 < document["checkout"]["seconds_left"] <= 3600

    rejected_path = save_checkout(_checkout(issuer), "rejected.json")
    rejected = run_cli("verify", rejected_path, "--keys", keys_file, "--json", "--node-id", "other")
    assert rejected.code == 1
    assert rejected.err == ""  # the object says it all
    document = rejected.json()
    check_schema(document, schema)
    assert document["valid"] is False
    assert document["reason"] == "node_mismatch"
    assert document["remedy"] == REMEDIES[tv.Reason.node_mismatch]
    assert document["checkout"] is None


def test_json_checked_at_follows_at(
    call_cli: RunCli, issuer: TestIssuer, keys_file: Path, save_checkout: SaveCheckout
) -> None:
    path = save_checkout(_checkout(issuer, issued_at=1_700_000_000, ttl=600))
    result = call_cli("verify", path, "--keys", keys_file, "--json", "--at", "1700000300")
    report = VerifyReport.model_validate_json(result.out)
    assert report.valid
    assert report.checked_at.timestamp() == 1_700_000_300
    assert report.checkout is not None
    assert report.checkout.seconds_left == 300


def test_schema_of_rejection_reasons_lists_every_reason() -> None:
    schema = VerifyReport.model_json_schema()
    reasons = schema["$defs"]["Reason"]["enum"]
    assert sorted(reasons) == sorted(reason.value for reason in tv.Reason)


# -- --metadata and --typ ------------------------------------------------------------------

MAC = "02:42:ac:11:00:02"


def test_metadata_and_typ_flags_bind_the_checkout(
    call_cli: RunCli, issuer: TestIssuer, keys_file: Path, save_checkout: SaveCheckout
) -> None:
    # Signed as the API's own list shape; the plaintext list beside it agrees.
    metadata = {"Mac": MAC, "Hostname": "build-07"}
    response = _checkout(
        issuer,
        borrow=True,
        checkout_metadata=metadata,
        claims={"checkoutMetadata": [{"Name": n, "Value": v} for n, v in metadata.items()]},
    )
    path = save_checkout(response)
    ok = call_cli(
        "verify", path, "--keys", keys_file, "--metadata", f"Mac={MAC}",
        "--metadata", "Hostname=build-07", "--typ", "jwt",
    )  # fmt: skip
    assert ok.code == 0, ok
    assert f"metadata     Mac={MAC}, Hostname=build-07" in ok.out
    wrong_typ = call_cli("verify", path, "--keys", keys_file, "--typ", "JOSE")
    assert wrong_typ.code == 1
    assert "unsupported_header: header typ is 'JWT', this product pins 'JOSE'" in wrong_typ.err
    missing = call_cli("verify", path, "--keys", keys_file, "--metadata", "Seat=3", "--json")
    assert missing.code == 1
    report = missing.json()
    assert report["valid"] is False
    assert report["reason"] == "metadata_mismatch"
    assert "does not sign 'Seat'" in report["message"]
    assert report["remedy"] == REMEDIES[tv.Reason.metadata_mismatch]
    VerifyReport.model_validate(report)


def test_metadata_flag_repeating_a_name_with_two_values_is_exit_2(
    call_cli: RunCli, issuer: TestIssuer, keys_file: Path, save_checkout: SaveCheckout
) -> None:
    path = save_checkout(_checkout(issuer, borrow=True, checkout_metadata={"Mac": MAC}))
    twice = call_cli(
        "verify", path, "--keys", keys_file, "--metadata", f"Mac={MAC}", "--metadata", "Mac=x"
    )
    assert_one_line_error(twice)
    assert "--metadata names 'Mac' twice" in twice.err
    same = call_cli(
        "verify", path, "--keys", keys_file, "--metadata", f"Mac={MAC}", "--metadata", f"Mac={MAC}"
    )
    assert same.code == 0, same
    empty_typ = call_cli("verify", path, "--keys", keys_file, "--typ", "")
    assert_one_line_error(empty_typ)
    assert "typ is empty" in empty_typ.err


def test_product_flag_on_a_token_without_a_sku_suggests_license_arn(
    call_cli: RunCli, issuer: TestIssuer, keys_file: Path, save_checkout: SaveCheckout
) -> None:
    response = _checkout(issuer)
    result = call_cli("verify", save_checkout(response), "--keys", keys_file, "--sku", "sku-a")
    assert result.code == 1
    assert "product_mismatch: this token does not sign productSKU" in result.err
    assert "--license-arn" in result.err
    bound = call_cli(
        "verify", save_checkout(response), "--keys", keys_file, "--license-arn",
        response["LicenseArn"],
    )  # fmt: skip
    assert bound.code == 0, bound


def test_an_off_standard_pss_salt_gets_its_own_remedy(
    call_cli: RunCli, issuer: TestIssuer, keys_file: Path, tmp_path: Path
) -> None:
    """A signer bug (moto's maximum salt) is not sent after a tampering bug that is not there."""
    import base64

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    token = issuer.checkout()["SignedToken"]
    signing_input = token.rsplit(".", 1)[0].encode("ascii")
    key = issuer.private_key
    assert isinstance(key, rsa.RSAPrivateKey)
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=padding.PSS.MAX_LENGTH)
    signature = base64.urlsafe_b64encode(key.sign(signing_input, pss, hashes.SHA384()))
    path = tmp_path / "moto.jwt"
    path.write_bytes(signing_input + b"." + signature.rstrip(b"="))
    result = call_cli("verify", path, "--keys", keys_file)
    assert result.code == 1
    assert "bad_signature" in result.err
    assert "non-standard RSASSA-PSS salt" in result.err
    assert REMEDIES[tv.Reason.bad_signature] not in result.err  # "do not edit the saved file"
    as_json = call_cli("verify", path, "--keys", keys_file, "--json")
    assert "non-standard RSASSA-PSS salt" in json.loads(as_json.out)["remedy"]
    # An edited token keeps the tampering remedy.
    edited = tmp_path / "edited.jwt"
    edited.write_text(token[:-8] + ("A" if token[-8] != "A" else "B") + token[-7:])
    plain = call_cli("verify", edited, "--keys", keys_file)
    assert REMEDIES[tv.Reason.bad_signature] in plain.err
