"""``tokenverify demo`` / ``make demo``: mint a test issuer and a few saved checkouts, then
verify them the way a product would at launch, and print the verdicts."""

from __future__ import annotations

import json
import time
from pathlib import Path

from ._policy import Policy, Requirement
from ._registry import KeyRegistry
from ._verifier import Verifier

__all__ = ["run_demo"]

_FINGERPRINT = "aws:111122223333:Demo Vendor:issuer-fingerprint"


def run_demo(folder: Path) -> list[Path]:
    """Write the demo store into ``folder``, print one verdict per checkout, return their paths."""
    from .testing import TestIssuer

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
