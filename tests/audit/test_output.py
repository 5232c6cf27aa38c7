"""Every output format parsed back, the output contract, resuming, and the HTML's hygiene."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import msgspec
import pytest

import tokenverify as tv
from cli.support import check_schema
from tokenverify import audit
from tokenverify.audit import Auditor, AuditRecord, OutputError, Summary

from .support import NODE, Store

POLICY = tv.Policy(node_id=NODE)


def _run(
    store: Store, format: audit.Format, output: Path | None = None, **options: object
) -> tuple[Summary, bytes]:
    auditor = Auditor(store.keys, POLICY, at=store.at)
    stdout = io.BytesIO()
    summary = audit.run(
        ["store"],
        auditor,
        format=format,
        output=str(output) if output else None,
        workers=1,
        stdout=stdout,
        **options,  # type: ignore[arg-type]
    )
    return summary, stdout.getvalue()


def _reference(store: Store) -> list[AuditRecord]:
    return list(Auditor(store.keys, POLICY, at=store.at).run(["store"], workers=1))


def test_jsonl_lines_follow_the_contract(store: Store, in_store_parent: Path) -> None:
    _, data = _run(store, "jsonl")
    schema = audit.json_schema()
    lines = data.decode().splitlines()
    assert len(lines) == len(store.entries)
    for line, expected in zip(lines, store.entries, strict=True):
        value = json.loads(line)  # one JSON object, nothing else on the line
        assert list(value)[: len(audit.CONTRACT_FIELDS)] == list(audit.CONTRACT_FIELDS)
        assert value["source"] == expected.source
        assert value["ok"] is (expected.now == "ok")
        assert value["reason"] == (None if expected.now == "ok" else expected.now)
        if value["expiration"] is not None:
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", value["expiration"])
        check_schema(value, {"$ref": "#/$defs/AuditResult"}, schema)
    assert [msgspec.json.decode(line, type=AuditRecord) for line in lines] == _reference(store)


def test_json_is_summary_and_results_and_matches_its_schema(
    store: Store, in_store_parent: Path
) -> None:
    _, data = _run(store, "json")
    document = json.loads(data)
    assert list(document) == ["summary", "results"]
    check_schema(document, audit.json_schema())
    report = audit.AuditReport.model_validate(document)
    assert report.summary.by_reason["ok"] == store.reasons()["ok"]
    assert sum(report.summary.by_reason.values()) == len(report.results) == len(store.entries)
    assert [r.source for r in report.results] == store.ids()
    assert report.summary.format == "tokenverify-audit"


def test_csv_reads_back_to_the_same_records(store: Store, in_store_parent: Path) -> None:
    _, data = _run(store, "csv")
    rows = list(csv.DictReader(io.StringIO(data.decode())))
    assert [row["source"] for row in rows] == store.ids()
    assert {row["ok"] for row in rows} == {"true", "false"}
    path = in_store_parent / "out.csv"
    path.write_bytes(data)
    assert list(audit.read_results(str(path), "csv")) == _reference(store)
    path.unlink()


def test_csv_escapes_are_reversible_and_defuse_formulas(tmp_path: Path) -> None:
    tricky = [
        '=HYPERLINK("http://x")',
        "+1",
        "-2",
        "@cmd",
        "'quoted",
        "line\nbreak",
        "back\\slash\\n",
        "tab\tinside",
        "\ttab first",
        'plain, with comma "and quotes"',
    ]
    records = [
        AuditRecord(source, False, tv.Reason.malformed, None, source, None, None, message=source)
        for source in tricky
    ]
    path = tmp_path / "tricky.csv"
    writer = audit.open_writer("csv", str(path))
    for record in records:
        writer.write(record)
    writer.finish(Summary(0.0))
    text = path.read_text()
    assert len(text.splitlines()) == len(records) + 1  # one line per row, always
    for row in list(csv.reader(io.StringIO(text)))[1:]:
        assert not row[0].startswith(("=", "+", "-", "@", "\t")), row[0]
    assert list(audit.read_results(str(path), "csv")) == records


def test_table_lists_every_token_then_the_summary(store: Store, in_store_parent: Path) -> None:
    _, data = _run(store, "table")
    text = data.decode()
    rows = [line for line in text.splitlines() if line.startswith(("VALID", "REJECTED"))]
    assert len(rows) == len(store.entries)
    assert rows[0].startswith("VALID     store/archive.jsonl:1  node node-7")
    assert "REJECTED  store/saved/tampered.json  envelope_mismatch:" in text
    assert f"audited {len(store.entries)} tokens at " in text
    assert "by reason    ok 8, malformed 3," in text
    assert "duplicates   1 consumption tokens appear more than once" in text


def _but_when_made(report: audit.AuditSummary) -> dict[str, object]:
    dumped = report.model_dump()
    assert dumped["provenance"].pop("created_at") is not None
    return dumped


def test_resume_appends_only_what_is_missing(store: Store, in_store_parent: Path) -> None:
    output = in_store_parent / "resume.jsonl"
    full, _ = _run(store, "jsonl", output)
    lines = output.read_bytes().splitlines(keepends=True)
    # What a kill leaves: seven whole lines, then half of the eighth.
    output.write_bytes(b"".join(lines[:7]) + lines[7][:40])
    resumed, _ = _run(store, "jsonl", output, resume=True)
    assert output.read_bytes() == b"".join(lines)
    # The same report but for when each was made (the provenance's created_at).
    assert _but_when_made(resumed.report()) == _but_when_made(full.report())
    # Nothing left to do: nothing appended, same summary.
    again, _ = _run(store, "jsonl", output, resume=True)
    assert output.read_bytes() == b"".join(lines)
    assert again.report().total == len(store.entries)
    output.unlink()


def test_resume_refuses_what_it_cannot_read(store: Store, in_store_parent: Path) -> None:
    output = in_store_parent / "garbage.jsonl"
    output.write_text('{"source": "x", "ok": true}\nnot json\n{"also": "bad"}\n')
    with pytest.raises(OutputError, match="line 1 is not an audit result"):
        _run(store, "jsonl", output, resume=True)
    assert output.read_text().startswith('{"source": "x"')  # untouched
    with pytest.raises(OutputError, match="line format"):
        _run(store, "json", output, resume=True)
    csv_output = in_store_parent / "other.csv"
    csv_output.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(OutputError, match="header differs"):
        _run(store, "csv", csv_output, resume=True)
    output.unlink()
    csv_output.unlink()


def test_whole_documents_are_replaced_atomically(store: Store, in_store_parent: Path) -> None:
    output = in_store_parent / "report.json"
    output.write_text("old report")

    class Boom(Exception):
        pass

    def explode(record: AuditRecord) -> None:
        if record.source.endswith("saved/expired.json"):
            raise Boom

    with pytest.raises(Boom):
        _run(store, "json", output, on_record=explode)
    assert output.read_text() == "old report"  # an interrupted audit leaves it whole
    assert sorted(p.name for p in in_store_parent.iterdir() if "report.json" in p.name) == [
        "report.json"
    ]
    _run(store, "json", output)
    assert json.loads(output.read_text())["summary"]["total"] == len(store.entries)
    output.unlink()


def test_html_is_self_contained_and_escapes_the_store(store: Store, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    hostile = '<img src=x onerror="alert(1)">.json'
    records = [
        AuditRecord(hostile, False, tv.Reason.malformed, None, None, None, None, message="<b>"),
        *list(Auditor(store.keys, POLICY, at=store.at).run([store.root], workers=1)),
    ]
    summary = audit.summarize(records, store.at).report()
    page = audit.render_html(audit.summarize(records, store.at))
    assert hostile not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;.json" in page
    assert "<b>" not in page.split("<body>", 1)[1].replace("<b class=", "")
    assert "Content-Security-Policy" in page
    assert "default-src 'none'" in page
    assert "<script" not in page
    assert "<link" not in page
    assert "@import" not in page
    # Nothing to fetch: every src/href is a fragment, and http(s) appears only in XML
    # namespace declarations.
    assert re.findall(r'\b(?:src|href)="(?!#)', page) == []
    assert set(re.findall(r'"(https?://[^"]+)"', page)) <= {
        "http://www.w3.org/2000/svg",
        "http://www.w3.org/1999/xlink",
    }
    # The reasons and timeline charts, and one usage chart per license and entitlement.
    assert summary.usage is not None
    assert summary.usage.series
    assert page.count("<svg") == 2 + len(summary.usage.series)
    assert page.count('<figure class="usage-chart">') == len(summary.usage.series)
    assert 'id="reasons-chart"' in page
    assert 'id="timeline-chart"' in page
    # The same audit gives the same page (no dates, fixed SVG ids).
    assert audit.render_html(audit.summarize(records, store.at)) == page


def test_html_needs_its_extra(
    store: Store, in_store_parent: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tokenverify.audit import _html

    monkeypatch.setattr(_html, "charts_available", lambda: False)
    with pytest.raises(OutputError, match=r"tokenverify\[audit\]"):
        _run(store, "html")
