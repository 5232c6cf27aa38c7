"""``tokenverify node-id`` and ``--node-id auto``: one id, whether printed, sent or expected.

The command, ``checkout --node-id auto`` (what goes to AWS as NodeId) and ``verify
--node-id auto`` must all be ``tokenverify.node.machine_id(namespace)``, the value a
product's launch check computes. Run on this machine for real.
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

from tokenverify import node
from tokenverify.cli import _checkout as _cli_checkout
from tokenverify.testing import TestIssuer

from .support import RunCli, assert_one_line_error

NAMESPACE = "cli-test-product"
ARN = "arn:aws:license-manager::111122223333:license:l-0123456789abcdef0123456789abcdef"
IN_CONTAINER = any(os.path.exists(p) for p in ("/.dockerenv", "/run/.containerenv"))


@pytest.fixture(scope="module")
def this_machine() -> node.MachineId:
    try:
        return node.machine_identity(NAMESPACE)
    except node.MachineIdError as exc:
        pytest.skip(f"this machine has no machine identity: {exc}")


def test_node_id_prints_the_id_a_product_computes(
    run_cli: RunCli, this_machine: node.MachineId
) -> None:
    result = run_cli("node-id", "--namespace", NAMESPACE)
    assert result.code == 0, result
    assert result.out == f"{this_machine.id}\n"
    # A note on stderr only where a container runtime left its mark.
    assert ("looks like a container" in result.err) == IN_CONTAINER


def test_node_id_json_names_the_source(run_cli: RunCli, this_machine: node.MachineId) -> None:
    result = run_cli("node-id", "--namespace", NAMESPACE, "--json")
    assert result.code == 0, result
    assert result.json() == {
        "format": "tokenverify-node-id",
        "version": 1,
        "node_id": this_machine.id,
        "namespace": NAMESPACE,
        "source": this_machine.source,
    }


def test_node_id_differs_by_namespace(run_cli: RunCli, this_machine: node.MachineId) -> None:
    other = run_cli("node-id", "--namespace", "another-product")
    assert other.code == 0, other
    assert other.out.strip() != this_machine.id
    assert other.out.strip() == node.machine_id("another-product")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "--namespace"),
        (("--namespace", ""), "namespace must be 1 to 256 printable characters"),
        (("--namespace", " padded"), "without surrounding spaces"),
    ],
)
def test_node_id_usage_errors_are_one_line(
    args: tuple[str, ...], message: str, run_cli: RunCli
) -> None:
    result = run_cli("node-id", *args)
    assert_one_line_error(result)
    assert message in result.err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux sources")
def test_node_id_without_a_machine_identity_is_an_error(
    call_cli: RunCli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The command reads the default sources; point them at files that do not exist.
    missing = (node.MachineIdFile(str(tmp_path / "a")), node.DmiProductUuid(str(tmp_path / "b")))
    monkeypatch.setattr(node, "default_sources", lambda platform=None: missing)
    result = call_cli("node-id", "--namespace", NAMESPACE)
    assert_one_line_error(result)
    assert "cannot identify this machine" in result.err
    assert str(tmp_path / "a") in result.err


# --- verify --node-id auto --------------------------------------------------------------------


@pytest.fixture(scope="module")
def node_issuer() -> TestIssuer:
    return TestIssuer.generate("ES256", fingerprint="aws:111122223333:Node Cli:issuer-fp")


def test_verify_node_id_auto_expects_this_machine(
    run_cli: RunCli, node_issuer: TestIssuer, this_machine: node.MachineId, tmp_path: Path
) -> None:
    keys = tmp_path / "keys.json"
    node_issuer.registry().save(keys)
    mine = tmp_path / "mine.json"
    mine.write_text(json.dumps(node_issuer.checkout(node_id=this_machine.id)))
    ok = run_cli("verify", mine, "--keys", keys, "--node-id", "auto", "--namespace", NAMESPACE)
    assert ok.code == 0, ok
    assert f"node         {this_machine.id}" in ok.out
    other = tmp_path / "other.json"
    other.write_text(json.dumps(node_issuer.checkout(node_id=node.machine_id("another"))))
    refused = run_cli(
        "verify", other, "--keys", keys, "--node-id", "auto", "--namespace", NAMESPACE
    )
    assert refused.code == 1, refused
    assert "node_mismatch" in refused.err
    assert this_machine.id in refused.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--node-id", "auto"), "--node-id auto needs --namespace NAME"),
        (("--namespace", NAMESPACE), "--namespace goes with --node-id auto"),
        (("--node-id", "node-7", "--namespace", NAMESPACE), "--namespace goes with --node-id auto"),
    ],
)
def test_verify_namespace_and_auto_go_together(
    args: tuple[str, ...], message: str, run_cli: RunCli, keys_file: Path, tmp_path: Path
) -> None:
    checkout = tmp_path / "checkout.json"
    checkout.write_text("{}")
    result = run_cli("verify", checkout, "--keys", keys_file, *args)
    assert_one_line_error(result)
    assert message in result.err


# --- checkout --node-id auto --------------------------------------------------------------------


@pytest.fixture
def stubbed(aws_environment: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """A real boto3 client, stubbed; the command's client factory hands it out."""
    client = boto3.client("license-manager", region_name="us-east-1")
    monkeypatch.setattr(_cli_checkout, "license_manager_client", lambda region, profile: client)
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()


def _borrow_response(issuer: TestIssuer, node_id: str) -> dict[str, Any]:
    """A borrow response whose token meets the service model's 4096-character minimum."""
    flags = [(f"Feature-{n:03}", None, "None") for n in range(80)]
    response = issuer.checkout(
        node_id=node_id, entitlements=[("Users", "1", "Count"), *flags], license_arn=ARN,
        borrow=True,
    )  # fmt: skip
    assert len(response["SignedToken"]) >= 4096
    return response


def test_checkout_node_id_auto_sends_and_expects_this_machine(
    call_cli: RunCli,
    stubbed: Stubber,
    node_issuer: TestIssuer,
    this_machine: node.MachineId,
    tmp_path: Path,
) -> None:
    keys = tmp_path / "keys.json"
    node_issuer.registry().save(keys)
    response = _borrow_response(node_issuer, this_machine.id)
    stubbed.add_response(
        "checkout_borrow_license",
        response,
        {
            "LicenseArn": ARN,
            "Entitlements": [{"Name": "Users", "Unit": "Count", "Value": "1"}],
            "DigitalSignatureMethod": "JWT_PS384",
            "ClientToken": ANY,
            "NodeId": this_machine.id,  # what AWS is asked to bind: this machine's id
        },
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
        "auto",
        "--namespace",
        NAMESPACE,
        "--keys",
        keys,
        "--save",
        saved,
    )
    assert result.code == 0, result
    assert json.loads(saved.read_text())["NodeId"] == this_machine.id


def test_checkout_auto_verifies_against_this_machine_before_saving(
    call_cli: RunCli,
    stubbed: Stubber,
    node_issuer: TestIssuer,
    this_machine: node.MachineId,
    tmp_path: Path,
) -> None:
    keys = tmp_path / "keys.json"
    node_issuer.registry().save(keys)
    # AWS answers with a checkout bound to another node: refused, nothing saved.
    response = _borrow_response(node_issuer, "someone-else")
    stubbed.add_response("checkout_borrow_license", response, None)
    saved = tmp_path / "carry-in.json"
    result = call_cli(
        "checkout",
        "--borrow",
        "--license-arn",
        ARN,
        "--entitlement",
        "Name=Users,Unit=Count,Value=1",
        "--node-id",
        "auto",
        "--namespace",
        NAMESPACE,
        "--keys",
        keys,
        "--save",
        saved,
    )
    assert result.code == 1, result
    assert "node_mismatch" in result.err
    assert this_machine.id in result.err
    assert not saved.exists()


def test_checkout_namespace_without_auto_is_a_usage_error(
    call_cli: RunCli, stubbed: Stubber, tmp_path: Path
) -> None:
    result = call_cli(
        "checkout",
        "--borrow",
        "--license-arn",
        ARN,
        "--entitlement",
        "Name=Users,Unit=Count,Value=1",
        "--node-id",
        "node-7",
        "--namespace",
        NAMESPACE,
        "--save",
        tmp_path / "c.json",
    )
    assert_one_line_error(result)
    assert "--namespace goes with --node-id auto" in result.err


def test_node_id_is_documented_in_help(call_cli: RunCli) -> None:
    top = call_cli("--help").out
    assert "\n    node-id " in top
    assert "tokenverify node-id --namespace my-product" in top.split("examples:")[1]
    own = call_cli("node-id", "--help").out
    assert "tokenverify node-id --namespace my-product --json" in own.split("examples:")[1]
    for command in ("verify", "checkout", "audit"):
        assert "--namespace NAME" in call_cli(command, "--help").out
