"""``tokenverify demo`` / ``make demo``: mint a test issuer and a few saved checkouts, then
verify them the way a product would at launch, and print the verdicts."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .. import audit
from .._policy import Policy, Requirement
from .._registry import KeyRegistry
from .._verifier import Verifier
from ..formats._policy_file import load_policy_file
from ._output import Console, printable

__all__ = ["demo", "run_demo"]

_FINGERPRINT = "aws:111122223333:Demo Vendor:issuer-fingerprint"


def run_demo(folder: Path) -> list[Path]:
    """Write the demo store into ``folder``, print one verdict per checkout, return their paths."""
    from ..testing import TestIssuer

    folder.mkdir(parents=True, exist_ok=True)
    print(f"Demo issuer: PS384 over RSA-4096 (AWS's sample setup), fingerprint {_FINGERPRINT!r}")
    issuer = TestIssuer.generate("PS384", fingerprint=_FINGERPRINT)
    (folder / "issuer-public.pem").write_text(issuer.public_pem())
    now = time.time()
    users = [("Users", "10", "Count"), ("Storage", "500", "Gigabytes")]
    checkouts = {
        "valid.json": issuer.checkout(node_id="node-7", entitlements=users),
        "borrowed.json": issuer.checkout(
            node_id="node-7",
            entitlements=users,
            borrow=True,
            ttl=86400,
            checkout_metadata={"Mac": "02:42:ac:11:00:02"},
        ),
        "expired.json": issuer.checkout(node_id="node-7", entitlements=users, issued_at=now - 7200),
        "wrong-node.json": issuer.checkout(node_id="node-8", entitlements=users),
        "too-few-users.json": issuer.checkout(
            node_id="node-7", entitlements=[("Users", "2", "Count")]
        ),
    }
    tampered = issuer.checkout(node_id="node-7", entitlements=users)
    tampered["EntitlementsAllowed"][0]["Value"] = "1000"  # edit the unsigned plaintext
    checkouts["tampered-envelope.json"] = tampered
    stranger = TestIssuer.generate("PS384", fingerprint=_FINGERPRINT, key_size=2048)
    checkouts["forged-key.json"] = stranger.checkout(node_id="node-7", entitlements=users)
    for name, response in checkouts.items():
        (folder / name).write_text(json.dumps(response, indent=2))
    print(f"Wrote {len(checkouts)} saved checkouts to {folder}/\n")

    # What a product does at launch: trust the shipped public key, verify the saved file.
    registry = KeyRegistry()
    registry.add(_FINGERPRINT, (folder / "issuer-public.pem").read_bytes(), algorithms=["PS384"])
    policy = Policy(
        key_fingerprint=_FINGERPRINT,
        node_id="node-7",
        requirements=[Requirement("Users", unit="Count", minimum=5)],
    )
    verifier = Verifier(registry, policy)
    print(f"Policy: node node-7, issuer {_FINGERPRINT!r}, Users >= 5 Count\n")
    for name in checkouts:
        verdict = verifier.check(folder / name)
        if verdict.checkout is not None:
            left = verdict.checkout.expiration.timestamp() - time.time()
            print(
                f"  {name:24} VALID     {len(verdict.checkout.entitlements)} entitlements, "
                f"{left / 60:.0f} min left"
            )
        else:
            print(f"  {name:24} REJECTED  {verdict.reason}: {verdict.message}")
    return [folder / name for name in checkouts]


def demo(args: argparse.Namespace, console: Console) -> int:
    """``tokenverify demo``: the demo store, a keys file and a policy file, then an audit."""
    checkouts = run_demo(args.dir)
    # Leave a keys file and a policy file beside the checkouts, so that every command
    # can be tried on them straight away.
    registry = KeyRegistry()
    registry.add(
        _FINGERPRINT,
        (args.dir / "issuer-public.pem").read_bytes(),
        algorithms=["PS384"],
        label="tokenverify demo issuer (test key)",
    )
    registry.save(args.dir / "keys.json")
    policy = {
        "key_fingerprint": _FINGERPRINT,
        "node_id": "node-7",
        "requirements": [{"name": "Users", "unit": "Count", "minimum": 5}],
    }
    (args.dir / "policy.json").write_text(json.dumps(policy, indent=2) + "\n")
    folder = printable(args.dir)
    keys, policy_file = f"--keys {folder}/keys.json", f"--policy {folder}/policy.json"
    console.print(f"\nAlso wrote {folder}/keys.json and {folder}/policy.json. Try:")
    console.print(f"  tokenverify verify {folder}/valid.json {keys} {policy_file}")
    console.print(f"  tokenverify verify {folder}/expired.json {keys} {policy_file}")
    console.print(f"  tokenverify inspect {folder}/forged-key.json --unverified {keys}")
    console.print(f"  tokenverify keys list {keys}")
    return _audit_demo(checkouts, registry, policy_file=args.dir / "policy.json", console=console)


def _audit_demo(
    checkouts: list[Path], registry: KeyRegistry, *, policy_file: Path, console: Console
) -> int:
    """What an auditor does with a store of saved checkouts: the demo's, at issue time."""
    policy = load_policy_file(policy_file).to_policy()
    console.print(
        "\nAn auditor asks: which of these were genuine and valid when issued? "
        "(tokenverify audit ... --at issued)\n"
    )
    sys.stdout.flush()
    audit.run(checkouts, audit.Auditor(registry, policy, at="issued"), format="table", workers=1)
    return 0
