"""Generated stores for the audit benchmark: AWS-shaped checkouts from two test issuers.

Issue 4's mixes: PS384 over RSA-4096 (scenario A of ``_tokens``: a ~4 KB borrow token
with 45 entitlements) and PS256 over RSA-2048 (scenario B: a ~1 KB checkout token). Each
issuer names itself in the token's ``kid`` so one keys file trusts both. Signing is the
slow part (RSA-4096: ~5 ms a token), so a store is a few hundred or thousand distinct
signed lines repeated to the size wanted; every repeat is verified in full all the same.
Tokens are minted with ``min_token_length=0`` (no test padding claim): the stores keep
the sizes their baselines were measured on.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import tokenverify as tv
from _tokens import NODE_ID, scenario_a_entitlements
from tokenverify.testing import TestIssuer

__all__ = ["FINGERPRINT_A", "FINGERPRINT_B", "Issuers", "distinct_lines", "write_store"]

FINGERPRINT_A = "aws:111122223333:Benchmark Vendor:issuer-fingerprint"
FINGERPRINT_B = "aws:111122223333:Benchmark Vendor B:issuer-fingerprint"
THIRTY_DAYS = 30 * 86400
B_ENTITLEMENTS: list[tuple[str, str | None, str]] = [
    ("Users", "250", "Count"),
    ("Storage", "500", "Gigabytes"),
    ("Feature.Reporting", None, "None"),
]


@dataclass(frozen=True)
class Issuers:
    """The two benchmark issuers and a keys file trusting both."""

    a: TestIssuer
    b: TestIssuer
    keys: Path

    @classmethod
    def create(cls, folder: Path) -> Issuers:
        a = TestIssuer.generate(
            "PS384", fingerprint=FINGERPRINT_A, key_size=4096, kid=FINGERPRINT_A
        )
        b = TestIssuer.generate(
            "PS256", fingerprint=FINGERPRINT_B, key_size=2048, kid=FINGERPRINT_B
        )
        registry = tv.KeyRegistry()
        for issuer in (a, b):
            registry.add(
                issuer.fingerprint,
                issuer.public_pem(),
                algorithms=[issuer.algorithm],
                key_id=issuer.kid,
            )
        keys = folder / "keys.json"
        registry.save(keys)
        return cls(a, b, keys)

    def response(self, scenario: str) -> dict[str, object]:
        """One fresh signed response of scenario ``"A"`` or ``"B"``, valid for 30 days."""
        if scenario == "A":
            return self.a.checkout(
                min_token_length=0,
                node_id=NODE_ID,
                entitlements=scenario_a_entitlements(),
                ttl=THIRTY_DAYS,
                borrow=True,
                checkout_metadata={"Mac": "0A:1B:2C:3D:4E:5F", "Hostname": "build-agent-07"},
            )
        return self.b.checkout(
            min_token_length=0,
            node_id=NODE_ID,
            entitlements=B_ENTITLEMENTS,
            ttl=THIRTY_DAYS,
            checkout_metadata={"Mac": "0A:1B:2C:3D:4E:5F"},
        )


def distinct_lines(
    issuers: Issuers, scenarios: Sequence[str], count: int, *, bare: bool
) -> list[str]:
    """``count`` distinct signed lines cycling through ``scenarios`` (``"A"``, ``"B"``):
    saved responses as one-line JSON, or (``bare``) the compact tokens alone."""
    lines = []
    for scenario in itertools.islice(itertools.cycle(scenarios), count):
        response = issuers.response(scenario)
        token = response["SignedToken"]
        assert isinstance(token, str)
        lines.append(token if bare else json.dumps(response, separators=(",", ":")))
    return lines


def write_store(path: Path, lines: Iterable[str], total: int) -> int:
    """Write ``total`` lines cycling through ``lines``; the file's size in bytes."""
    pattern = [line.encode("ascii") + b"\n" for line in lines]
    with path.open("wb") as handle:
        full, rest = divmod(total, len(pattern))
        block = b"".join(pattern)
        for _ in range(full):
            handle.write(block)
        handle.write(b"".join(pattern[:rest]))
    return path.stat().st_size


def write_history_store(folder: Path, *, seed: int = 7) -> None:
    """Three weeks of checkouts by three licenses on six nodes, with a few things wrong
    (an edited response, forgeries, a broken line, repeats): the README's report.

    Writes ``folder/keys.json`` and ``folder/checkouts/`` (a JSON Lines archive and two
    saved responses).
    """
    import random
    import time

    chance = random.Random(seed)  # a reproducible history, not a secret
    store = folder / "checkouts"
    store.mkdir(parents=True, exist_ok=True)
    fingerprint = "aws:111122223333:Demo Vendor:issuer-fingerprint"
    issuer = TestIssuer.generate("PS384", fingerprint=fingerprint, key_size=2048)
    forger = TestIssuer.generate("PS384", fingerprint=fingerprint, key_size=2048)
    issuer.registry().save(folder / "keys.json")
    now = float(int(time.time()))
    licenses = {
        name: f"arn:aws:license-manager::111122223333:license:l-{name}"
        for name in ("analytics-pro", "storage-plus", "support")
    }
    nodes = ["build-01", "build-02", "ci-runner-3", "edge-lon-1", "edge-nyc-2", "lab-7"]
    lines: list[str] = []
    for license_index, arn in enumerate(licenses.values()):
        for node_index, node in enumerate(nodes):
            if (license_index + node_index) % 3 == 2:
                continue  # not every node uses every license
            moment = now - 20 * 86400 + chance.randint(0, 5) * 86400
            stop = now - chance.choice([0, 0, 0, 3, 6]) * 86400
            while moment < stop:
                response = issuer.checkout(
                    min_token_length=0,
                    node_id=node,
                    license_arn=arn,
                    entitlements=[("Users", "10", "Count")],
                    ttl=chance.choice([26, 30, 50]) * 3600,
                    issued_at=moment,
                )
                lines.append(json.dumps(response, separators=(",", ":")))
                moment += chance.choice([24, 24, 48]) * 3600
    chance.shuffle(lines)
    lines.insert(5, lines[3])  # the same checkout stored twice
    lines.insert(40, lines[39])
    edited = json.loads(lines[10])
    edited["EntitlementsAllowed"][0]["Value"] = "1000"
    lines[10] = json.dumps(edited, separators=(",", ":"))
    lines.insert(20, '{"SignedToken": "eyJhbGciOiJQUzM4NCJ9.e30')
    forged = forger.checkout(
        min_token_length=0, node_id="build-01", license_arn=licenses["analytics-pro"], ttl=86400
    )
    lines.insert(30, json.dumps(forged, separators=(",", ":")))
    (store / "archive-2026-11.jsonl").write_text("\n".join(lines) + "\n")
    borrowed = issuer.checkout(
        min_token_length=0,
        node_id="edge-lon-1",
        license_arn=licenses["storage-plus"],
        entitlements=[("Users", "10", "Count")],
        ttl=5 * 86400,
        borrow=True,
        checkout_metadata={"Mac": "02:42:ac:11:00:02"},
    )
    (store / "edge-lon-1.json").write_text(json.dumps(borrowed, indent=2))
    stolen = forger.checkout(
        min_token_length=0, node_id="lab-7", license_arn=licenses["support"], ttl=30 * 86400
    )
    (store / "lab-7.json").write_text(json.dumps(stolen, indent=2))


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Write the README's example audit store.")
    parser.add_argument("--history", type=Path, required=True, metavar="FOLDER")
    write_history_store(parser.parse_args().history)
