"""A generated store with a known mix of stored tokens, and what an audit must say of it.

Every entry records its id (relative to the store folder) and the reason expected at
the time of the audit and at issue time, so tests assert exact counts, not shapes.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tokenverify.testing import TestIssuer

FINGERPRINT = "aws:111122223333:Audit Test:issuer-fingerprint"
UNKNOWN_FINGERPRINT = "aws:999999999999:Nobody:issuer-fingerprint"
NODE = "node-7"
DAY = 86400.0
USERS = [("Users", "10", "Count")]


@dataclass(frozen=True)
class Expected:
    """One stored token: its id and the expected reason ('ok' when valid)."""

    source: str
    now: str
    issued: str
    genuine: bool
    node_id: str | None = None
    license_arn: str | None = None
    consumption_token: str | None = None
    expiring: bool = False


@dataclass
class Store:
    """The store folder, its keys file, and the expectations in source order."""

    root: Path
    keys: Path
    at: float
    entries: list[Expected] = field(default_factory=list)

    def ids(self) -> list[str]:
        return [entry.source for entry in self.entries]

    def reasons(self, *, at_issue: bool = False) -> Counter[str]:
        return Counter(entry.issued if at_issue else entry.now for entry in self.entries)


def _line(response: dict[str, Any]) -> str:
    return json.dumps(response, separators=(",", ":"))


def build_store(root: Path, issuer: TestIssuer, stranger: TestIssuer, nobody: TestIssuer) -> Store:
    """Write the mixed store under ``root`` (ids are relative to ``root``'s parent).

    ``issuer`` is trusted, ``stranger`` signs with the trusted fingerprint but an
    unregistered key (a forger), ``nobody`` names an unknown key in its ``kid`` (ES256:
    the trusted key is PS256 only).
    """
    now = float(int(time.time()))
    keys = root.parent / "keys.json"
    issuer.registry().save(keys)
    store = Store(root, keys, now)
    name = root.name
    saved = root / "saved"
    saved.mkdir(parents=True)

    def checkout(**fields: Any) -> dict[str, Any]:
        options: dict[str, Any] = {"node_id": NODE, "entitlements": USERS, "ttl": 30 * DAY}
        options.update(fields)
        return issuer.checkout(**options)

    def expect(
        source: str, response: dict[str, Any] | None, now_: str, issued: str, **extra: Any
    ) -> None:
        genuine = response is not None
        store.entries.append(
            Expected(
                f"{name}/{source}",
                now_,
                issued,
                genuine,
                node_id=response["NodeId"] if response is not None else None,
                license_arn=response["LicenseArn"] if response is not None else None,
                consumption_token=(
                    response["LicenseConsumptionToken"] if response is not None else None
                ),
                **extra,
            )
        )

    # archive.jsonl: JSON Lines, responses and bare tokens, blank and broken lines.
    first, second = checkout(), checkout()
    soon = checkout(ttl=2 * DAY)
    expired_bare = checkout(issued_at=now - 7200, ttl=3600)
    tampered_payload = checkout()
    header, payload, signature = tampered_payload["SignedToken"].split(".")
    flipped = payload[:10] + ("A" if payload[10] != "A" else "B") + payload[11:]
    archive_lines = [
        _line(first),  # 1
        second["SignedToken"],  # 2 (a bare token)
        "",  # 3 blank: skipped, still counted
        '{"SignedToken": ',  # 4 broken JSON
        expired_bare["SignedToken"],  # 5
        _line(first),  # 6 duplicate of line 1
        "not a token",  # 7
        f"{header}.{flipped}.{signature}",  # 8 payload edited after signing
        _line(soon),  # 9 expires within the 7-day window
    ]
    (root / "archive.jsonl").write_text("\n".join(archive_lines) + "\n")
    expect("archive.jsonl:1", first, "ok", "ok")
    expect("archive.jsonl:2", second, "ok", "ok")
    expect("archive.jsonl:4", None, "malformed", "malformed")
    expect("archive.jsonl:5", expired_bare, "expired", "ok")
    expect("archive.jsonl:6", first, "ok", "ok")
    expect("archive.jsonl:7", None, "malformed", "malformed")
    expect("archive.jsonl:8", None, "bad_signature", "bad_signature")
    expect("archive.jsonl:9", soon, "ok", "ok", expiring=True)

    # saved/: one pretty-printed response per file, a bare token, and junk.
    files: dict[str, tuple[dict[str, Any] | None, str, str, str | None]] = {}
    bare = checkout()
    files["bare.jwt"] = (bare, "ok", "ok", bare["SignedToken"] + "\n")
    expired = checkout(issued_at=now - 2 * DAY, ttl=DAY)
    files["expired.json"] = (expired, "expired", "ok", None)
    forged = stranger.checkout(node_id=NODE, entitlements=USERS, ttl=30 * DAY)
    files["forged.json"] = (None, "bad_signature", "bad_signature", json.dumps(forged, indent=2))
    # A token cut short is malformed; a file that is no token at all (notes, keys) is
    # skipped by audit.run and the CLI (tests/audit/test_report_inputs.py).
    files["garbled.jwt"] = (None, "malformed", "malformed", "eyJhbGciOiJQUzM4NCJ9.trunc\n")
    tampered = checkout()
    tampered["EntitlementsAllowed"][0]["Value"] = "1000"
    files["tampered.json"] = (tampered, "envelope_mismatch", "envelope_mismatch", None)
    unknown = nobody.checkout(node_id=NODE, entitlements=USERS, ttl=30 * DAY)
    # Its kid names nothing in the one-issuer keys file: a hint, so the trusted (PS256)
    # key is tried, and it is not pinned to the token's ES256.
    files["unknown-kid.json"] = (
        None,
        "unsupported_algorithm",
        "unsupported_algorithm",
        json.dumps(unknown, indent=2),
    )
    files["valid-1.json"] = (checkout(), "ok", "ok", None)
    borrowed = checkout(borrow=True, checkout_metadata={"Mac": "02:42:ac:11:00:02"})
    files["valid-2.json"] = (borrowed, "ok", "ok", None)
    wrong_node = checkout(node_id="node-8")
    files["wrong-node.json"] = (wrong_node, "node_mismatch", "node_mismatch", None)
    for file_name, (response, reason_now, reason_issued, text) in files.items():
        content = text if text is not None else json.dumps(response, indent=2)
        (saved / file_name).write_text(content)
        expect(f"saved/{file_name}", response, reason_now, reason_issued)
    (saved / ".hidden.json").write_text("skipped: names starting with a dot are not read")

    # tokens.txt: bare tokens one per line, without a .jsonl name (sniffed as lines).
    third, fourth = checkout(), checkout(node_id="node-9")
    (root / "tokens.txt").write_text(f"{third['SignedToken']}\n{fourth['SignedToken']}\n")
    expect("tokens.txt:1", third, "ok", "ok")
    expect("tokens.txt:2", fourth, "node_mismatch", "node_mismatch")
    return store


def write_big_jsonl(path: Path, store: Store, lines: int) -> list[Expected]:
    """``lines`` lines cycling through archive.jsonl's non-blank lines; the expectations
    in order (ids ``big.jsonl:N``)."""
    archive = (store.root / "archive.jsonl").read_text().splitlines()
    pattern = [(number, text) for number, text in enumerate(archive, 1) if text.strip()]
    by_id = {entry.source: entry for entry in store.entries}
    name = path.name
    expected: list[Expected] = []
    with path.open("w") as handle:
        for index in range(lines):
            number, text = pattern[index % len(pattern)]
            handle.write(text + "\n")
            entry = by_id[f"{store.root.name}/archive.jsonl:{number}"]
            expected.append(
                Expected(
                    f"{path.parent.name}/{name}:{index + 1}",
                    entry.now,
                    entry.issued,
                    entry.genuine,
                    entry.node_id,
                    entry.license_arn,
                    entry.consumption_token,
                    entry.expiring,
                )
            )
    return expected
