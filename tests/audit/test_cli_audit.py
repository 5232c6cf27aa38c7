"""``tokenverify audit`` through the real console script: exit codes, formats, stdin,
one-line errors, progress only on a terminal."""

from __future__ import annotations

import json
import os
import pty
import sqlite3
import subprocess
from pathlib import Path

import pytest

from cli.support import check_schema

from .conftest import SCRIPT, Run, run_tokenverify
from .support import NODE, Store


def _assert_one_line_error(result: Run, *fragments: str) -> None:
    assert result.code == 2, result
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("tokenverify"), lines[0]
    assert "Traceback" not in result.err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def test_jsonl_to_stdout_exit_1_and_summary_on_stderr(store: Store) -> None:
    result = run_tokenverify(
        "audit", "store", "--keys", store.keys, "--node-id", NODE, "--format", "jsonl",
        cwd=store.root.parent,
    )  # fmt: skip
    assert result.code == 1, result
    records = [json.loads(line) for line in result.out.splitlines()]
    assert [r["source"] for r in records] == store.ids()
    assert result.err.startswith(f"audited {len(store.entries)} tokens at ")
    assert "by reason    ok 8, malformed 3, unsupported_algorithm 1, bad_signature 2" in result.err


def test_all_valid_is_exit_0_and_quiet_is_silent(store: Store) -> None:
    result = run_tokenverify(
        "audit", "store/saved/valid-1.json", "store/saved/valid-2.json", "store/saved/bare.jwt",
        "--keys", store.keys, "--node-id", NODE, "--format", "csv", "--quiet",
        cwd=store.root.parent,
    )  # fmt: skip
    assert (result.code, result.err) == (0, "")
    assert result.out.splitlines()[0].startswith("source,ok,reason,license_arn,node_id")
    assert len(result.out.splitlines()) == 4


def test_json_output_matches_the_exported_schema(store: Store, tmp_path: Path) -> None:
    schema = run_tokenverify("schema", "audit", cwd=tmp_path)
    assert schema.code == 0, schema
    output = tmp_path / "audit.json"
    result = run_tokenverify(
        "audit", "store", "--keys", store.keys, "--node-id", NODE, "--at", "issued",
        "--format", "json", "--output", output, "--quiet",
        cwd=store.root.parent,
    )  # fmt: skip
    assert (result.code, result.out, result.err) == (1, "", "")
    document = json.loads(output.read_text())
    check_schema(document, json.loads(schema.out))
    assert document["summary"]["checked_at"] == "issued"
    assert document["summary"]["by_reason"]["ok"] == store.reasons(at_issue=True)["ok"]


def test_stdin_and_a_policy_file(store: Store, tmp_path: Path) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"node_id": "node-8"}))
    data = (store.root / "saved" / "wrong-node.json").read_text()
    result = run_tokenverify(
        "audit", "-", "--keys", store.keys, "--policy", policy, "--format", "jsonl", "-q",
        cwd=tmp_path, input=json.dumps(json.loads(data)).encode() + b"\n",
    )  # fmt: skip
    assert result.code == 0, result
    (record,) = [json.loads(line) for line in result.out.splitlines()]
    assert (record["source"], record["ok"], record["node_id"]) == ("stdin", True, "node-8")


def test_sqlite_source_by_url(store: Store, tmp_path: Path) -> None:
    database = tmp_path / "checkouts.db"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE checkouts (response TEXT)")
        for name in ("valid-1.json", "expired.json"):
            text = (store.root / "saved" / name).read_text()
            connection.execute("INSERT INTO checkouts VALUES (?)", (text,))
    connection.close()
    result = run_tokenverify(
        "audit", "sqlite:///checkouts.db?table=checkouts&column=response", "--keys", store.keys,
        "--format", "jsonl", "-q",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.code == 1, result
    assert [(r["source"], r["reason"]) for r in map(json.loads, result.out.splitlines())] == [
        ("checkouts:1", None),
        ("checkouts:2", "expired"),
    ]


@pytest.mark.parametrize(
    ("arguments", "fragments"),
    [
        (["store/absent"], ["cannot read 'store/absent'"]),
        (["sqlite:///x.db?table=t"], ["column=..."]),
        (["store", "--resume"], ["--resume", "--output"]),
        (["store", "--resume", "--output", "out.json", "--format", "json"], ["jsonl or csv"]),
        (["store", "--at", "yesterday"], ["argument --at"]),
        (["store", "--workers", "0"], ["argument --workers"]),
        (["store", "--format", "pdf"], ["argument --format"]),
        (["store", "--output", "no/such/folder/out.json", "--format", "json"], ["no folder"]),
    ],
)
def test_usage_and_source_errors_are_one_line_exit_2(
    store: Store, arguments: list[str], fragments: list[str]
) -> None:
    result = run_tokenverify("audit", *arguments, "--keys", store.keys, cwd=store.root.parent)
    _assert_one_line_error(result, *fragments)
    assert result.out == ""


def test_no_token_at_all_is_exit_2(store: Store, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "blank.jsonl").write_text("\n\n")
    result = run_tokenverify("audit", "empty", "--keys", store.keys, cwd=tmp_path)
    _assert_one_line_error(result, "no token found in empty")


def test_help_documents_sources_formats_and_exit_codes(store: Store) -> None:
    result = run_tokenverify("audit", "--help", cwd=store.root.parent)
    assert result.code == 0
    for fragment in (
        "sqlite:///DB?table=T&column=C",
        "now|issued|TIME",
        "--resume",
        "examples:",
        "tokenverify audit store/ --keys keys.json",
        "exit codes: 0 every token valid, 1 any rejected, 2",
    ):
        assert fragment in result.out, fragment


def _in_terminal(args: list[str], cwd: Path) -> tuple[int, str]:
    """Run with stderr on a pseudo-terminal (stdout to a file); what stderr showed."""
    controller, terminal = pty.openpty()
    environment = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    environment["TERM"] = "xterm-256color"
    try:
        process = subprocess.Popen(
            [str(SCRIPT), *args],
            stdout=subprocess.DEVNULL,
            stderr=terminal,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
            env=environment,
        )
        os.close(terminal)
        chunks = []
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        code = process.wait(timeout=60)
    finally:
        os.close(controller)
    return code, b"".join(chunks).decode("utf-8", "replace")


def test_progress_shows_on_a_terminal_only(store: Store) -> None:
    pytest.importorskip("rich")
    args = ["audit", "store", "--keys", str(store.keys), "--format", "jsonl", "--workers", "1"]
    code, shown = _in_terminal(args, store.root.parent)
    assert code == 1
    assert "checked" in shown
    assert "\x1b[" in shown
    assert "audited 19 tokens" in shown  # then the summary
    quiet_code, quiet = _in_terminal([*args, "--quiet"], store.root.parent)
    assert (quiet_code, quiet) == (1, "")
    piped = run_tokenverify(*args, cwd=store.root.parent)
    assert "\x1b[" not in piped.err
    assert "checked" not in piped.err
    assert piped.err.startswith("audited 19 tokens")
