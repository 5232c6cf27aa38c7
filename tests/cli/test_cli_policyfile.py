"""The policy file: Policy's own fields as JSON, an exported schema, flags override it."""

from __future__ import annotations

import inspect
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import tokenverify as tv
from tokenverify._units import UNITS
from tokenverify.formats._policy_file import (
    PolicyFile,
    RequirementEntry,
    json_schema,
    load_policy_file,
)
from tokenverify.testing import TestIssuer

from .support import (
    FINGERPRINT,
    NODE,
    OTHER_FINGERPRINT,
    RunCli,
    assert_one_line_error,
    check_schema,
)

GOOD = {
    "key_fingerprint": FINGERPRINT,
    "node_id": NODE,
    "license_arn": None,
    "product_sku": None,
    "requirements": [
        {"name": "Users", "unit": "Count", "minimum": 5},
        {"name": "Storage", "unit": "Gigabytes", "minimum": "0.5"},
        {"name": "Pro"},
    ],
    "leeway": 30,
}


def _write(folder: Path, document: Any, name: str = "policy.json") -> Path:
    path = folder / name
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


def test_fields_are_policy_own() -> None:
    policy_fields = set(inspect.signature(tv.Policy).parameters)
    file_fields = {name for name in PolicyFile.model_fields if name != "schema_"}
    assert file_fields == policy_fields
    requirement_fields = set(inspect.signature(tv.Requirement).parameters)
    assert set(RequirementEntry.model_fields) == requirement_fields


def test_units_are_the_service_models() -> None:
    schema = json_schema()
    units = schema["$defs"]["RequirementEntry"]["properties"]["unit"]["anyOf"][0]["enum"]
    assert sorted(units) == sorted(UNITS)
    assert len(units) == 27


def test_file_becomes_the_library_policy(tmp_path: Path) -> None:
    policy = load_policy_file(_write(tmp_path, GOOD)).to_policy()
    assert policy == tv.Policy(
        key_fingerprint=FINGERPRINT,
        node_id=NODE,
        requirements=[
            tv.Requirement("Users", unit="Count", minimum=5),
            tv.Requirement("Storage", unit="Gigabytes", minimum="0.5"),
            tv.Requirement("Pro"),
        ],
        leeway=30,
    )
    assert policy.requirements[1].minimum == Decimal("0.5")


def test_schema_from_the_command_and_a_good_file_conforms(run_cli: RunCli) -> None:
    result = run_cli("schema", "policy")
    assert result.code == 0
    schema = result.json()
    assert schema == json_schema()
    check_schema({"$schema": "./policy.schema.json", **GOOD}, schema)
    with pytest.raises(AssertionError):
        check_schema({**GOOD, "nodeId": "camelCase is not a field"}, schema)


def test_verify_with_policy_and_overriding_flags(
    call_cli: RunCli, issuer: TestIssuer, keys_file: Path, tmp_path: Path
) -> None:
    checkout = tmp_path / "checkout.json"
    checkout.write_text(
        json.dumps(issuer.checkout(node_id=NODE, entitlements=[("Users", "10", "Count")]))
    )
    wrong_node = _write(
        tmp_path, {"node_id": "node-8", "requirements": [{"name": "Users", "minimum": 50}]}
    )
    refused = call_cli("verify", checkout, "--keys", keys_file, "--policy", wrong_node)
    assert refused.code == 1
    assert "node_mismatch" in refused.err
    # --node-id overrides the file's node; the file's requirement still applies...
    still = call_cli(
        "verify", checkout, "--keys", keys_file, "--policy", wrong_node, "--node-id", NODE
    )
    assert still.code == 1
    assert "entitlement_insufficient" in still.err
    # ...until --require replaces the file's requirements.
    both = call_cli(
        "verify",
        checkout,
        "--keys",
        keys_file,
        "--policy",
        wrong_node,
        "--node-id",
        NODE,
        "--require",
        "Users>=10",
    )
    assert both.code == 0, both
    # --fingerprint overrides key_fingerprint too.
    issuer_file = _write(tmp_path, {"key_fingerprint": FINGERPRINT}, "issuer.json")
    assert call_cli("verify", checkout, "--keys", keys_file, "--policy", issuer_file).code == 0
    other = call_cli(
        "verify",
        checkout,
        "--keys",
        keys_file,
        "--policy",
        issuer_file,
        "--fingerprint",
        OTHER_FINGERPRINT,
    )
    assert other.code == 1
    assert "unknown_key" in other.err


def test_leeway_from_file_and_flag(
    call_cli: RunCli, issuer: TestIssuer, keys_file: Path, tmp_path: Path
) -> None:
    checkout = tmp_path / "checkout.json"
    checkout.write_text(json.dumps(issuer.checkout(issued_at=1_700_000_000, ttl=60)))
    at = str(1_700_000_000 + 60 + 120)  # two minutes after expiry
    generous = _write(tmp_path, {"leeway": 300})
    assert (
        call_cli("verify", checkout, "--keys", keys_file, "--at", at, "--policy", generous).code
        == 0
    )
    assert (
        call_cli(
            "verify",
            checkout,
            "--keys",
            keys_file,
            "--at",
            at,
            "--policy",
            generous,
            "--leeway",
            "0",
        ).code
        == 1
    )
    assert call_cli("verify", checkout, "--keys", keys_file, "--at", at).code == 1  # default 60 s


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        (None, "cannot read policy file"),
        ("{not json", "(top level)"),
        ("[]", "(top level)"),
        ({"nodeId": "node-7"}, "nodeId"),
        ({"node_id": 7}, "node_id"),
        ({"leeway": -1}, "leeway"),
        ({"leeway": 90000}, "leeway"),
        ({"leeway": True}, "leeway"),
        ({"key_fingerprint": ""}, "key_fingerprint"),
        ({"requirements": [{"name": ""}]}, "requirements.0.name"),
        ({"requirements": [{"name": "Users", "unit": "Seats"}]}, "requirements.0.unit"),
        ({"requirements": [{"name": "Users", "minimum": -5}]}, "requirements.0.minimum"),
        ({"requirements": [{"name": "Users", "minimum": "1e3"}]}, "requirements.0.minimum"),
        (
            {"requirements": [{"name": "Users", "minimum": "\u0661\u0662"}]},
            "requirements.0.minimum",
        ),
        ({"requirements": [{"name": "Users", "minimum": True}]}, "requirements.0.minimum"),
        ({"requirements": [{"name": "Users", "max": 5}]}, "requirements.0.max"),
        ({"requirements": "Users>=5"}, "requirements"),
    ],
)
def test_invalid_policy_file_is_exit_2_on_one_line(
    call_cli: RunCli,
    issuer: TestIssuer,
    keys_file: Path,
    tmp_path: Path,
    document: Any,
    problem: str,
) -> None:
    checkout = tmp_path / "checkout.json"
    checkout.write_text(json.dumps(issuer.checkout()))
    policy = tmp_path / "missing.json" if document is None else _write(tmp_path, document)
    result = call_cli("verify", checkout, "--keys", keys_file, "--policy", policy)
    assert_one_line_error(result)
    assert problem in result.err
    assert str(policy) in result.err


def test_leeway_json_number_forms(tmp_path: Path) -> None:
    assert load_policy_file(_write(tmp_path, '{"leeway": 1.5}')).to_policy().leeway == 1.5
    with pytest.raises(ValueError, match="leeway"):
        load_policy_file(_write(tmp_path, '{"leeway": NaN}'))


def test_policy_file_binds_metadata_and_typ_and_flags_override_them(
    call_cli: RunCli, issuer: TestIssuer, keys_file: Path, tmp_path: Path
) -> None:
    mac = "02:42:ac:11:00:02"
    checkout = tmp_path / "checkout.json"
    checkout.write_text(json.dumps(issuer.checkout(borrow=True, checkout_metadata={"Mac": mac})))
    policy_path = _write(tmp_path, {"checkout_metadata": {"Mac": "other"}, "typ": "JOSE"})
    assert load_policy_file(policy_path).to_policy() == tv.Policy(
        checkout_metadata={"Mac": "other"}, typ="JOSE"
    )
    refused = call_cli("verify", checkout, "--keys", keys_file, "--policy", policy_path)
    assert refused.code == 1
    assert "unsupported_header" in refused.err
    # --typ replaces the file's typ; its metadata still applies...
    typ = ["--policy", policy_path, "--typ", "JWT"]
    still = call_cli("verify", checkout, "--keys", keys_file, *typ)
    assert still.code == 1
    assert "metadata_mismatch" in still.err
    # ...until --metadata replaces the file's metadata (the whole mapping).
    both = call_cli("verify", checkout, "--keys", keys_file, *typ, "--metadata", f"Mac={mac}")
    assert both.code == 0, both


@pytest.mark.parametrize(
    "document",
    [
        {"checkout_metadata": {}},
        {"checkout_metadata": {"": "x"}},
        {"checkout_metadata": {"Mac": 1}},
        {"typ": ""},
    ],
)
def test_policy_file_metadata_and_typ_are_checked(
    call_cli: RunCli, keys_file: Path, tmp_path: Path, document: dict[str, Any]
) -> None:
    result = call_cli(
        "verify", tmp_path / "x.json", "--keys", keys_file, "--policy", _write(tmp_path, document)
    )
    assert_one_line_error(result)
    assert "policy file" in result.err


@pytest.mark.parametrize(
    ("text", "duplicate"),
    [
        # Pydantic alone keeps the last: node-8 would be required, a reviewer reads node-7.
        ('{"node_id": "node-7", "node_id": "node-8"}', "node_id"),
        ('{"requirements": [{"name": "Users", "name": "Admins"}]}', "name"),
        ('{"leeway": 0, "leeway": 86400}', "leeway"),
    ],
)
def test_duplicate_member_names_are_refused(
    call_cli: RunCli,
    issuer: TestIssuer,
    keys_file: Path,
    tmp_path: Path,
    text: str,
    duplicate: str,
) -> None:
    policy = _write(tmp_path, text)
    with pytest.raises(ValueError, match=f"duplicate member name '{duplicate}'"):
        load_policy_file(policy)
    checkout = tmp_path / "checkout.json"
    checkout.write_text(json.dumps(issuer.checkout()))
    result = call_cli("verify", checkout, "--keys", keys_file, "--policy", policy)
    assert_one_line_error(result)
    assert f"duplicate member name '{duplicate}'" in result.err
    assert str(policy) in result.err


def test_a_fifo_as_policy_file_is_refused_not_read(
    call_cli: RunCli, issuer: TestIssuer, keys_file: Path, tmp_path: Path
) -> None:
    import os

    fifo = tmp_path / "policy.json"
    os.mkfifo(fifo)  # nobody writes it: a reader that opened it would block for ever
    checkout = tmp_path / "checkout.json"
    checkout.write_text(json.dumps(issuer.checkout()))
    result = call_cli("verify", checkout, "--keys", keys_file, "--policy", fifo)
    assert_one_line_error(result)
    assert "is a FIFO (named pipe), not a regular file" in result.err
