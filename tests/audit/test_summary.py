"""The summary on synthetic records: duplicates found exactly, capped lists, the window."""

from __future__ import annotations

import random

import tokenverify as tv
from tokenverify.audit import AuditRecord, Summary
from tokenverify.audit._summary import _SPANS_PER_ROW

ARN = "arn:aws:license-manager::111122223333:license:l-0123"
FINGERPRINT = "aws:111122223333:Vendor:issuer-fingerprint"
T0 = 1_800_000_000.0


def _iso(epoch: float) -> str:
    from tokenverify._times import from_epoch
    from tokenverify.audit._record import iso_utc

    return iso_utc(from_epoch(epoch))


def _record(
    source: str,
    token: str,
    *,
    ok: bool = True,
    node: str | None = "node-1",
    issued: float = T0,
    expires: float = T0 + 3600,
    license_arn: str = ARN,
) -> AuditRecord:
    return AuditRecord(
        source,
        ok,
        None if ok else tv.Reason.expired,
        license_arn,
        node,
        FINGERPRINT,
        _iso(expires),
        _iso(issued),
        token,
        "valid" if ok else "expired",
    )


def test_duplicates_name_their_first_source_whatever_its_shape() -> None:
    summary = Summary(T0)
    for number in range(1, 20_001):  # enough to make the first-seen table grow a few times
        summary.add(_record(f"big.jsonl:{number}", f"token-{number}"))
    summary.add(_record("saved/one.json", "token-5"))
    summary.add(_record("checkouts:0", "token-5"))
    summary.add(_record("odd:name:007", "token-7"))
    summary.add(_record("stdin", "only-twice"))
    summary.add(_record("stdin:1", "only-twice"))
    report = summary.report()
    assert report.duplicate_tokens == 3
    by_token = {d.license_consumption_token: d for d in report.duplicates}
    assert by_token["token-5"].count == 3
    assert by_token["token-5"].sources == ["big.jsonl:5", "saved/one.json", "checkouts:0"]
    assert by_token["token-7"].sources == ["big.jsonl:7", "odd:name:007"]
    assert by_token["only-twice"].sources == ["stdin", "stdin:1"]
    assert report.duplicates[0].license_consumption_token == "token-5"  # most repeated first


def test_duplicate_sources_are_capped_but_counted() -> None:
    summary = Summary(T0)
    for number in range(1, 51):
        summary.add(_record(f"a.jsonl:{number}", "same"))
    (duplicate,) = summary.report().duplicates
    assert duplicate.count == 50
    assert duplicate.sources == [f"a.jsonl:{n}" for n in range(1, 11)]


def test_timeline_spans_stay_few_and_cover_every_checkout() -> None:
    summary = Summary(T0)
    intervals = [(T0 + 10_000 * n, T0 + 10_000 * n + 3600) for n in range(1000)]
    random.Random(4).shuffle(intervals)  # noqa: S311  (an order, not a secret)
    for index, (start, end) in enumerate(intervals):
        summary.add(_record(f"s:{index + 1}", f"t{index}", issued=start, expires=end))
    (row,) = summary.report().timeline
    spans = [(span.start.timestamp(), span.end.timestamp()) for span in row.valid_spans]
    assert len(spans) <= _SPANS_PER_ROW
    assert spans == sorted(spans)
    assert spans[0][0] == T0
    assert spans[-1][1] == T0 + 10_000 * 999 + 3600
    for start, end in intervals:
        assert any(a <= start and end <= b for a, b in spans)
    assert (row.ok, row.rejected) == (1000, 0)


def test_consecutive_checkouts_merge_into_one_span() -> None:
    summary = Summary(T0)
    for hour in range(500):  # hourly checkouts of 90 minutes: one unbroken span
        start = T0 + 3600 * hour
        summary.add(_record(f"s:{hour + 1}", f"t{hour}", issued=start, expires=start + 5400))
    (row,) = summary.report().timeline
    assert [(s.start.timestamp(), s.end.timestamp()) for s in row.valid_spans] == [
        (T0, T0 + 3600 * 499 + 5400)
    ]


def test_expiring_window_is_inclusive_and_counts_valid_tokens_only() -> None:
    window = 7 * 86400
    summary = Summary(T0, expiring_within=window)
    summary.add(_record("at-the-edge", "a", expires=T0 + window))
    summary.add(_record("one-second-late", "b", expires=T0 + window + 1))
    summary.add(_record("already-gone", "c", expires=T0 - 1))
    summary.add(_record("rejected", "d", ok=False, expires=T0 + 60))
    for number in range(150):
        summary.add(_record(f"soon:{number + 1}", f"s{number}", expires=T0 + 1000 + number))
    expiring = summary.report().expiring
    assert expiring.count == 151
    assert len(expiring.soonest) == 100
    assert [t.source for t in expiring.soonest[:2]] == ["soon:1", "soon:2"]
    assert expiring.soonest[-1].source == "soon:100"


def test_issued_audits_count_expiries_from_the_wall_clock() -> None:
    summary = Summary("issued", reference=T0)
    summary.add(_record("x", "a", expires=T0 + 60))
    report = summary.report()
    assert report.checked_at == "issued"
    assert report.expiring.count == 1
    assert report.expiring.reference.timestamp() == T0


def test_counts_by_node_license_key_and_the_rejected_sample() -> None:
    summary = Summary(T0)
    for number in range(1500):
        summary.add(
            _record(
                f"r:{number + 1}",
                f"r{number}",
                ok=False,
                node=None if number % 2 else "node-2",
                license_arn=f"{ARN}-{number % 3}",
            )
        )
    summary.add(AuditRecord("forged", False, tv.Reason.bad_signature, None, None, None, None))
    report = summary.report()
    assert report.by_node_id == {
        "": report.by_node_id[""],
        "node-2": report.by_node_id["node-2"],
    }
    assert (report.by_node_id[""].rejected, report.by_node_id["node-2"].rejected) == (750, 750)
    assert {arn: c.rejected for arn, c in report.by_license_arn.items()} == {
        f"{ARN}-0": 500,
        f"{ARN}-1": 500,
        f"{ARN}-2": 500,
    }
    assert report.by_key_fingerprint[FINGERPRINT].rejected == 1500  # the forgery is not
    assert report.by_reason == {"ok": 0, "bad_signature": 1, "expired": 1500}
    assert len(summary.rejected_sample) == 1000
    assert summary.rejected_sample[0].source == "r:1"


def _rejected(source: str, reason: tv.Reason, *, genuine: bool = True) -> AuditRecord:
    if not genuine:
        return AuditRecord(source, False, reason, None, None, None, None, message=reason.value)
    return AuditRecord(
        source, False, reason, ARN, "node-2", FINGERPRINT, _iso(T0 - 86400 * 6.9),
        _iso(T0 - 86400 * 7), source, reason.value, (("Users", "1", "Count"),),
    )  # fmt: skip


def test_findings_come_integrity_then_policy_then_lifecycle_everywhere() -> None:
    import pytest

    from tokenverify.audit import summary_lines

    summary = Summary(T0)
    # Added lifecycle first, integrity last: the order shown is the kinds', not arrival.
    for number in range(30):
        summary.add(_rejected(f"old.jsonl:{number + 1}", tv.Reason.expired))
    summary.add(_rejected("wrong-node.json", tv.Reason.node_mismatch))
    summary.add(_rejected("forged.json", tv.Reason.bad_signature, genuine=False))
    report = summary.report()
    assert [kind.kind for kind in report.findings] == ["integrity", "policy", "lifecycle"]
    integrity, policy, lifecycle = report.findings
    assert integrity.by_reason == {"bad_signature": 1}
    assert [f.source for f in integrity.findings] == ["forged.json"]
    assert policy.by_reason == {"node_mismatch": 1}
    assert (policy.licenses, policy.nodes) == ([ARN], ["node-2"])
    # 30 expired tokens of one license are one group, with a human duration.
    (group,) = lifecycle.groups
    assert (group.reason, group.license_arn, group.tokens) == ("expired", ARN, 30)
    assert group.description == "expired 6 d 21 h before the audit"
    lines = "\n".join(summary_lines(summary))
    positions = [lines.index(word) for word in ("integrity", "policy", "lifecycle", "usage")]
    assert positions == sorted(positions)
    pytest.importorskip("matplotlib")
    from tokenverify.audit import render_html

    page = render_html(summary)
    sections = [page.index(f'<section id="{name}"') for name in ("integrity", "policy")]
    sections.append(page.index('<section id="lifecycle"'))
    sections.append(page.index('<section id="usage"'))
    assert sections == sorted(sections)
    assert page.count("<details>") >= 1
    assert "30 expired" in page


def test_a_node_id_that_is_mathtext_is_drawn_as_text() -> None:
    import pytest

    pytest.importorskip("matplotlib")
    from tokenverify.audit import render_html

    summary = Summary(T0)
    hostile = r"$\undefined$"  # matplotlib would parse it as mathtext and raise
    summary.add(_record("a.json", "t-1", node=hostile))
    summary.add(_record("b.json", "t-2", node="node\u202e-1", ok=False))
    page = render_html(summary)
    assert "\\u202e" in page  # escaped by printable: no bidi override reaches the page
    assert "\u202e" not in page


def test_a_token_valid_only_thanks_to_the_leeway_is_in_grace() -> None:
    summary = Summary(T0 + 3630)  # 30 s after it expired: within the 60 s leeway
    summary.add(_record("late.json", "t-late", issued=T0, expires=T0 + 3600))
    summary.add(_record("fine.json", "t-fine", issued=T0, expires=T0 + 7200))
    lifecycle = summary.report().findings[2]
    assert lifecycle.by_reason == {"in_grace": 1}
    (group,) = lifecycle.groups
    assert (
        group.description == "valid, but expired 30 s before the audit (within the leeway or grace)"
    )
    assert summary.ok == 2  # still valid: a finding, not a rejection
