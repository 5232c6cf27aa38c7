"""The library audits the known mix exactly: ids, reasons, signed fields, summary counts."""

from __future__ import annotations

import pickle
from collections import Counter
from pathlib import Path

import pytest

import tokenverify as tv
from tokenverify import audit
from tokenverify.audit import Auditor, AuditRecord, DoneIds

from .conftest import BigStore
from .support import FINGERPRINT, NODE, Store

POLICY = tv.Policy(node_id=NODE)


def _audit(store: Store, *, at: audit.At | None = None, **options: object) -> list[AuditRecord]:
    auditor = Auditor(store.keys, POLICY, at=at if at is not None else store.at)
    return list(auditor.run(["store"], **options))  # type: ignore[arg-type]


def test_every_token_of_the_mix_gets_its_id_and_reason(store: Store, in_store_parent: Path) -> None:
    records = _audit(store, workers=1)
    assert [r.source for r in records] == store.ids()
    assert [r.reason.value if r.reason else "ok" for r in records] == [e.now for e in store.entries]
    assert all(r.ok == (r.reason is None) for r in records)


def test_signed_fields_are_reported_for_genuine_tokens_only(
    store: Store, in_store_parent: Path
) -> None:
    for record, expected in zip(_audit(store, workers=1), store.entries, strict=True):
        assert record.genuine == expected.genuine, record
        if expected.genuine:
            # Valid and rejected-but-genuine (expired, wrong node, edited envelope) alike.
            assert record.key_fingerprint == FINGERPRINT
            assert (record.license_arn, record.node_id) == (expected.license_arn, expected.node_id)
            assert record.license_consumption_token == expected.consumption_token
            assert record.expiration is not None
            assert record.expiration.endswith("Z")
            assert record.issued_at is not None
            assert record.issued_at < record.expiration
        else:
            assert (record.license_arn, record.node_id, record.expiration) == (None, None, None)
        assert record.message  # always says why (or "valid")


def test_summary_counts_are_exact(store: Store, in_store_parent: Path) -> None:
    summary = audit.summarize(_audit(store, workers=1), store.at)
    report = summary.report()
    expected = store.reasons()
    assert report.total == len(store.entries) == 19
    assert report.by_reason == {
        "ok": expected["ok"],
        **{reason.value: expected[reason.value] for reason in tv.Reason if expected[reason.value]},
    }
    assert report.by_reason == {
        "ok": 8,
        "malformed": 3,
        "unsupported_algorithm": 1,
        "bad_signature": 2,
        "expired": 2,
        "node_mismatch": 2,
        "envelope_mismatch": 1,
    }
    assert (report.ok, report.rejected) == (8, 11)
    genuine = [e for e in store.entries if e.genuine]
    assert report.by_key_fingerprint[FINGERPRINT].ok == 8
    assert report.by_key_fingerprint[FINGERPRINT].rejected == len(genuine) - 8 == 5
    assert set(report.by_key_fingerprint) == {FINGERPRINT}
    nodes = Counter(e.node_id for e in genuine)
    assert {n: c.ok + c.rejected for n, c in report.by_node_id.items()} == nodes
    assert report.by_node_id["node-8"].rejected == 1
    licenses = Counter(e.license_arn for e in genuine)
    assert {a: c.ok + c.rejected for a, c in report.by_license_arn.items()} == licenses
    # archive.jsonl:1 and :6 are the same checkout.
    assert report.duplicate_tokens == 1
    (duplicate,) = report.duplicates
    assert duplicate.count == 2
    assert duplicate.sources == ["store/archive.jsonl:1", "store/archive.jsonl:6"]
    first = store.entries[0]
    assert duplicate.license_consumption_token == first.consumption_token
    # Only archive.jsonl:9 is valid and expires within seven days.
    assert report.expiring.count == 1
    assert [t.source for t in report.expiring.soonest] == ["store/archive.jsonl:9"]
    assert report.timeline_rows == len({(e.license_arn, e.node_id) for e in genuine})
    assert [r.source for r in summary.rejected_sample] == [
        e.source for e in store.entries if e.now != "ok"
    ]


def test_at_issue_judges_expiry_at_issuedat_and_everything_else_as_usual(
    store: Store, in_store_parent: Path
) -> None:
    records = _audit(store, at="issued", workers=1)
    assert Counter(r.reason.value if r.reason else "ok" for r in records) == store.reasons(
        at_issue=True
    )
    # The two expired checkouts were valid when issued; forgeries and edits stay rejected.
    assert store.reasons(at_issue=True)["ok"] == store.reasons()["ok"] + 2
    assert audit.summarize(records, "issued").report().checked_at == "issued"


def test_a_given_instant_in_the_past(store: Store, in_store_parent: Path) -> None:
    # Three hours ago, the checkout that expired an hour ago was still valid, and the one
    # issued two hours ago was not yet issued (beyond the 60 s leeway).
    records = {r.source: r for r in _audit(store, at=store.at - 3 * 3600, workers=1)}
    assert records["store/archive.jsonl:5"].reason is tv.Reason.not_yet_valid
    assert records["store/saved/expired.json"].reason is tv.Reason.expired
    assert records["store/archive.jsonl:1"].reason is tv.Reason.not_yet_valid


def test_two_workers_give_exactly_the_records_of_one(
    store: Store, big_store: BigStore, in_store_parent: Path
) -> None:
    auditor = Auditor(store.keys, POLICY, at=store.at)
    sources = [str(big_store.path.relative_to(in_store_parent))]
    parallel = list(auditor.run(sources, workers=2, chunk_size=97))
    serial = list(auditor.run(sources, workers=1))
    assert parallel == serial
    assert [r.source for r in parallel] == [e.source for e in big_store.expected]
    assert [r.reason.value if r.reason else "ok" for r in parallel] == [
        e.now for e in big_store.expected
    ]


def test_skip_leaves_out_exactly_the_ids_done(store: Store, in_store_parent: Path) -> None:
    done = DoneIds()
    for source in store.ids()[::2]:
        done.add(source)
    auditor = Auditor(store.keys, POLICY, at=store.at)
    remaining = [r.source for r in auditor.run(["store"], workers=1, skip=done)]
    assert remaining == store.ids()[1::2]


def test_done_ids_hold_runs_and_plain_ids() -> None:
    done = DoneIds()
    for number in [*range(1, 1001), *range(5000, 4000, -1)]:
        done.add(f"a.jsonl:{number}")
    for source in ("a.json", "t:0", "t:007", "x:y:3", "stdin"):
        done.add(source)
    assert len(done) == 2005
    assert all(f"a.jsonl:{n}" in done for n in (1, 500, 1000, 4001, 4500, 5000))
    assert all(f"a.jsonl:{n}" not in done for n in (0, 1001, 4000, 5001))
    assert "a.jsonl:01" not in done  # not canonical: a different id
    assert all(s in done for s in ("a.json", "t:0", "t:007", "x:y:3", "stdin"))
    assert "t:7" not in done
    assert "b.jsonl:1" not in done
    assert "x:y:4" not in done


def test_check_one_payload_of_any_shape_never_raises(store: Store) -> None:
    auditor = Auditor(store.keys, POLICY, at=store.at)
    hostile: list[object] = [
        b"",
        b"\x00\xff" * 1000,
        "é" * 10,
        b"{" * 100_000,
        b"a.b.c",
        {"SignedToken": 5},
        12345,
        b"x" * 1_000_000,
    ]
    for payload in hostile:
        record = auditor.check("hostile", payload)
        assert not record.ok, payload
        assert record.reason is not None, payload
        assert record.source == "hostile"


def test_auditor_pickles_as_plain_data_and_verifies_the_same(
    store: Store, in_store_parent: Path
) -> None:
    auditor = Auditor(store.keys, POLICY, at=store.at)
    clone = pickle.loads(pickle.dumps(auditor))  # noqa: S301  (our own bytes)  # noqa: S301  (our own bytes)
    assert clone.at == auditor.at
    text = (store.root / "saved" / "valid-1.json").read_bytes()
    assert clone.check("x", text) == auditor.check("x", text)
    assert clone.check("x", text).ok


def test_auditor_refuses_a_naive_instant_and_nonsense(store: Store) -> None:
    from datetime import datetime

    with pytest.raises(ValueError, match="timezone-aware"):
        Auditor(store.keys, at=datetime(2026, 1, 1))
    with pytest.raises(TypeError):
        Auditor(store.keys, at=float("nan"))
    with pytest.raises(ValueError, match="workers"):
        Auditor(store.keys).run_items([], workers=0)


def test_policy_pickles() -> None:
    policy = tv.Policy(node_id="n", requirements=[tv.Requirement("Users", minimum=5)])
    assert pickle.loads(pickle.dumps(policy)) == policy  # noqa: S301  (our own bytes)


def test_importing_the_audit_loads_no_cli_and_no_extra() -> None:
    import subprocess
    import sys

    watched = (
        "tokenverify.cli",
        "tokenverify.cli._output",
        "pydantic",
        "dask",
        "matplotlib",
        "rich",
    )
    probe = (
        "import sys, tokenverify.audit\n"
        f"print(' '.join(m for m in {watched!r} if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
