"""The audit never writes over what it reads, and ``--resume`` repairs only its own output.

Every case runs the real console script on real files and compares the bytes of every
source before and after: a refused audit leaves them exactly as they were.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

from tokenverify.audit import iter_items, parse_sources

from .conftest import Run, run_tokenverify
from .support import Store


def _audit(store: Store, cwd: Path, *args: str | Path) -> Run:
    return run_tokenverify(
        "audit", *args, "--keys", store.keys, "--at", str(store.at), "--quiet", cwd=cwd
    )


def _refused(result: Run, *named: str) -> None:
    assert result.code == 2, result
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert "Traceback" not in result.err, result.err
    assert "choose an --output outside the sources" in lines[0], lines[0]
    for name in named:
        assert name in lines[0], (name, lines[0])


def test_a_store_given_as_its_own_output_is_refused_untouched(store: Store, tmp_path: Path) -> None:
    shutil.copy(store.root / "archive.jsonl", tmp_path / "store.jsonl")
    before = (tmp_path / "store.jsonl").read_bytes()
    result = _audit(store, tmp_path, "store.jsonl", "--format", "jsonl", "-o", "store.jsonl")
    _refused(result, "'store.jsonl'")
    assert (tmp_path / "store.jsonl").read_bytes() == before
    # Another spelling, or a symlink to it, is the same file (device and inode).
    (tmp_path / "link.jsonl").symlink_to(tmp_path / "store.jsonl")
    for output in ("./store.jsonl", str(tmp_path / "store.jsonl"), "link.jsonl"):
        _refused(_audit(store, tmp_path, "store.jsonl", "--format", "csv", "-o", output), output)
    assert (tmp_path / "store.jsonl").read_bytes() == before


def test_a_sqlite_source_is_never_the_output(store: Store, tmp_path: Path) -> None:
    database = tmp_path / "c.db"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE checkouts (response TEXT)")
        token = (store.root / "saved" / "bare.jwt").read_text().strip()
        connection.execute("INSERT INTO checkouts VALUES (?)", (token,))
    connection.close()
    before = database.read_bytes()
    source = "sqlite:///c.db?table=checkouts&column=response"
    _refused(_audit(store, tmp_path, source, "--format", "jsonl", "-o", "c.db"), "'c.db'")
    assert database.read_bytes() == before
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT count(*) FROM checkouts").fetchone() == (1,)
    connection.close()


def test_a_json_report_over_a_checkout_file_is_refused(store: Store, tmp_path: Path) -> None:
    checkout = tmp_path / "one.json"
    shutil.copy(store.root / "saved" / "valid-1.json", checkout)
    before = checkout.read_bytes()
    _refused(_audit(store, tmp_path, "one.json", "--format", "json", "-o", "one.json"), "one.json")
    assert checkout.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.json"]  # no temporary left


def test_an_output_inside_an_audited_folder_is_refused(store: Store, tmp_path: Path) -> None:
    shutil.copytree(store.root, tmp_path / "store")
    result = _audit(store, tmp_path, "store", "--format", "jsonl", "-o", "store/audit.jsonl")
    _refused(result, "store/audit.jsonl", "inside the audited folder 'store'")
    assert not (tmp_path / "store" / "audit.jsonl").exists()
    # Read back as tokens by the next run is what this prevents; the library's walk also
    # skips a file it is told is the output.
    (tmp_path / "store" / "audit.jsonl").write_text('{"source": "x"}\n')
    items = iter_items(
        parse_sources([tmp_path / "store"]), exclude=[str(tmp_path / "store/audit.jsonl")]
    )
    assert not any("audit.jsonl" in source for source, _ in items)


def test_a_refused_resume_leaves_the_file_as_it_was(store: Store, tmp_path: Path) -> None:
    shutil.copy(store.root / "archive.jsonl", tmp_path / "archive.jsonl")
    # Not an audit result, and its last line has no newline: the torn-tail repair used
    # to cut it before the file was recognised.
    notes = tmp_path / "notes.jsonl"
    notes.write_bytes(b'{"meeting": "notes"}\nsecond line without a newline')
    before = notes.read_bytes()
    result = _audit(
        store, tmp_path, "archive.jsonl", "--format", "jsonl", "-o", "notes.jsonl", "--resume"
    )
    assert result.code == 2, result
    assert "not an audit result" in result.err, result
    assert "left as it is" in result.err
    assert notes.read_bytes() == before
    # A lone torn line that is not the start of a result: refused, untouched.
    notes.write_bytes(b"hello")
    result = _audit(
        store, tmp_path, "archive.jsonl", "--format", "jsonl", "-o", "notes.jsonl", "--resume"
    )
    assert result.code == 2, result
    assert notes.read_bytes() == b"hello", result
    # A CSV whose header is not ours, same.
    (tmp_path / "notes.csv").write_bytes(b"a,b\n1,2")
    result = _audit(
        store, tmp_path, "archive.jsonl", "--format", "csv", "-o", "notes.csv", "--resume"
    )
    assert result.code == 2, result
    assert (tmp_path / "notes.csv").read_bytes() == b"a,b\n1,2", result


def test_a_torn_tail_of_our_own_output_is_still_repaired(store: Store, tmp_path: Path) -> None:
    shutil.copy(store.root / "archive.jsonl", tmp_path / "archive.jsonl")
    output = tmp_path / "audit.jsonl"
    first = _audit(store, tmp_path, "archive.jsonl", "--format", "jsonl", "-o", output)
    assert first.code == 1, first
    whole = output.read_bytes()
    lines = whole.splitlines(keepends=True)
    output.write_bytes(b"".join(lines[:3]) + lines[3][:25])  # killed mid-line
    resumed = _audit(
        store, tmp_path, "archive.jsonl", "--format", "jsonl", "-o", output, "--resume"
    )
    assert resumed.code == 1, resumed
    assert output.read_bytes() == whole
    # Killed while writing the very first line: recognised by how every line starts.
    output.write_bytes(lines[0][:7])
    resumed = _audit(
        store, tmp_path, "archive.jsonl", "--format", "jsonl", "-o", output, "--resume"
    )
    assert resumed.code == 1, resumed
    assert output.read_bytes() == whole, resumed


def test_resume_refuses_inconsistent_records_and_foreign_ids(store: Store, tmp_path: Path) -> None:
    shutil.copy(store.root / "archive.jsonl", tmp_path / "archive.jsonl")
    output = tmp_path / "audit.jsonl"
    assert _audit(store, tmp_path, "archive.jsonl", "--format", "jsonl", "-o", output).code == 1
    genuine = [json.loads(line) for line in output.read_text().splitlines()]
    rejected = next(r for r in genuine if not r["ok"])

    def resumed_over(records: list[dict[str, object]]) -> Run:
        output.write_text("".join(json.dumps(r) + "\n" for r in records))
        before = output.read_bytes()
        result = _audit(
            store, tmp_path, "archive.jsonl", "--format", "jsonl", "-o", output, "--resume"
        )
        assert output.read_bytes() == before, "a refused output was modified"
        return result

    lying = dict(rejected, ok=True)  # ok true with a reason
    result = resumed_over([genuine[0], lying])
    assert result.code == 2, result
    assert "line 2 is not a consistent result" in result.err, result
    assert "ok is true with the reason" in result.err
    result = resumed_over([genuine[0], dict(rejected, ok=False, reason=None)])
    assert result.code == 2, result
    assert "ok is false with no reason" in result.err, result
    foreign = dict(genuine[0], source="elsewhere.jsonl:1")
    result = resumed_over([genuine[0], foreign])
    assert result.code == 2
    assert "'elsewhere.jsonl:1', which none of the sources" in result.err
    result = resumed_over([genuine[0], genuine[0]])
    assert result.code == 2, result
    assert "1 results twice under one id" in result.err, result


def test_one_file_under_two_spellings_is_one_source(store: Store, tmp_path: Path) -> None:
    shutil.copy(store.root / "archive.jsonl", tmp_path / "store.jsonl")
    output = tmp_path / "audit.jsonl"
    full = _audit(store, tmp_path, "store.jsonl", "--format", "jsonl", "-o", output)
    assert full.code == 1, full
    whole = output.read_bytes()
    count = len(whole.splitlines())
    output.write_bytes(b"".join(whole.splitlines(keepends=True)[:3]))
    for spelling in ("./store.jsonl", str(tmp_path / "store.jsonl"), "store.jsonl"):
        result = run_tokenverify(
            "audit", spelling, "--keys", store.keys, "--format", "jsonl", "-o", output,
            "--resume", "--at", str(store.at), cwd=tmp_path,
        )  # fmt: skip
        assert result.code == 1, result
        assert f"audited {count} tokens" in result.err, result.err  # not 3 + count
        ids = [json.loads(line)["source"] for line in output.read_text().splitlines()]
        assert len(ids) == len(set(ids)) == count
        assert all(source.startswith("store.jsonl:") for source in ids), ids
    # Given twice in one run, read once.
    twice = _audit(store, tmp_path, "store.jsonl", "./store.jsonl", "--format", "jsonl")
    assert len(twice.out.splitlines()) == count


def test_results_for_lines_a_source_no_longer_holds_are_reported(
    store: Store, tmp_path: Path
) -> None:
    shutil.copy(store.root / "archive.jsonl", tmp_path / "archive.jsonl")
    output = tmp_path / "audit.jsonl"
    assert _audit(store, tmp_path, "archive.jsonl", "--format", "jsonl", "-o", output).code == 1
    records = [json.loads(line) for line in output.read_text().splitlines()]
    phantom = dict(records[0], source="archive.jsonl:99")  # the file has 9 lines
    output.write_text("".join(json.dumps(r) + "\n" for r in [*records[:2], phantom]))
    result = _audit(store, tmp_path, "archive.jsonl", "--format", "jsonl", "-o", output, "--resume")
    assert result.code == 2, result
    assert "1 results in" in result.err
    assert "name items these sources do not hold" in result.err
