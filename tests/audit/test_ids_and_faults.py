"""Ids that identify whatever file names hold; faults and corrupt sources that say what
happened and what to do, while the rest of the audit goes on."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokenverify.audit import SourceFault, iter_items, parse_sources, read_results
from tokenverify.audit._sources import path_id, split_id_path, unescape_id

from .conftest import SCRIPT, Run, run_tokenverify
from .support import Store


def _audit(store: Store, cwd: Path, *args: str | Path, input: bytes | None = None) -> Run:
    return run_tokenverify(
        "audit", *args, "--keys", store.keys, "--at", str(store.at), "--quiet", cwd=cwd,
        input=input,
    )  # fmt: skip


def _ids(output: Path) -> list[str]:
    return [json.loads(line)["source"] for line in output.read_text().splitlines()]


# -- ids -----------------------------------------------------------------------------------


def test_a_file_name_cannot_forge_the_id_of_a_line(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    lines = (store.root / "archive.jsonl").read_text().splitlines()
    (folder / "a.jsonl").write_text(f"{lines[0]}\n{lines[1]}\n")
    # A forger's file named like line 2 of a.jsonl, holding a forged checkout.
    shutil.copy(store.root / "saved" / "forged.json", folder / "a.jsonl:2")
    output = tmp_path / "audit.jsonl"
    assert _audit(store, tmp_path, "in", "--format", "jsonl", "-o", output).code == 1
    ids = _ids(output)
    assert ids == ["in/a.jsonl:1", "in/a.jsonl:2", "in/a.jsonl\\:2"]
    # Interrupted after the first two, the resume audits the forged file, not skips it.
    output.write_text("".join(output.read_text().splitlines(keepends=True)[:2]))
    resumed = _audit(store, tmp_path, "in", "--format", "jsonl", "-o", output, "--resume")
    assert resumed.code == 1, resumed
    records = [json.loads(line) for line in output.read_text().splitlines()]
    assert [r["source"] for r in records] == ids
    assert records[2]["reason"] == "bad_signature"


def test_ids_are_printable_and_map_back_to_the_file() -> None:
    names = ["a:b", "a\\:b", "new\nline", "caf\udce9", "\u202eevil", "tab\there", "plain.json"]
    ids = [path_id(name) for name in names]
    assert len(set(ids)) == len(ids)
    for name, source in zip(names, ids, strict=True):
        assert source.isprintable(), source
        source.encode("utf-8")  # valid UTF-8: no lone surrogate left
        assert split_id_path(source) == (source, "")
        assert split_id_path(source + ":12") == (source, ":12")
        assert unescape_id(source) == name
    assert path_id("./x//y/") == "x/y"
    assert path_id(b"caf\xe9") == "caf\\udce9"


@given(st.text(st.characters(codec="utf-8"), min_size=1) | st.binary(min_size=1).map(os.fsdecode))
def test_any_file_name_gets_a_printable_id_that_gives_it_back(name: str) -> None:
    name = name.replace("/", "_").replace("\x00", "_")
    source = path_id(name)
    assert source.isprintable()
    source.encode("utf-8")
    assert ":" not in source.replace("\\:", "")  # a bare ':' is the separator only
    assert split_id_path(f"{source}:7") == (source, ":7")
    assert os.fsencode(unescape_id(source)) == os.fsencode(name)


def test_a_table_and_a_file_that_would_share_ids_are_refused(store: Store, tmp_path: Path) -> None:
    database = tmp_path / "c.db"
    _sqlite_store(database, _tokens(store), 2)
    shutil.copy(store.root / "archive.jsonl", tmp_path / "checkouts")
    result = _audit(
        store, tmp_path, "sqlite:///c.db?table=checkouts&column=response", "checkouts",
        "--format", "jsonl",
    )  # fmt: skip
    assert result.code == 2, result
    assert "would give their items the same ids" in result.err


def test_a_file_name_that_is_not_utf8_audits_writes_csv_and_resumes(
    store: Store, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    name = os.fsdecode(b"caf\xe9-\x1b[31m.json")
    shutil.copy(store.root / "saved" / "valid-1.json", folder / name)
    shutil.copy(store.root / "saved" / "expired.json", folder / "z.json")
    output = tmp_path / "audit.csv"
    first = _audit(store, tmp_path, "in", "--format", "csv", "-o", output)
    assert first.code == 1, first
    text = output.read_bytes().decode("utf-8")  # strict: valid UTF-8
    assert len(list(csv.reader(io.StringIO(text)))) == 3
    expected = ["in/caf\\udce9-\\x1b[31m.json", "in/z.json"]
    assert [record.source for record in read_results(str(output), "csv")] == expected
    before = output.read_bytes()
    again = _audit(store, tmp_path, "in", "--format", "csv", "-o", output, "--resume")
    assert again.code == 1, again
    assert output.read_bytes() == before  # both ids read back as written: nothing repeated
    table = _audit(store, tmp_path, "in")
    assert "\x1b" not in table.out
    assert "VALID     in/caf\\udce9-\\x1b[31m.json  node" in table.out


def test_a_newline_in_a_file_name_cannot_add_a_row_to_the_table(
    store: Store, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(store.root / "saved" / "forged.json", folder / "x\nVALID     fake.json")
    result = _audit(store, tmp_path, "in")
    assert result.code == 1, result
    rows = [line for line in result.out.splitlines() if line.startswith(("VALID", "REJECTED"))]
    assert len(rows) == 1, result.out
    assert rows[0].startswith("REJECTED  in/x\\nVALID     fake.json  bad_signature")


# -- faults at the output --------------------------------------------------------------------


def test_a_full_disk_names_the_file_and_the_command_that_finishes(
    store: Store, tmp_path: Path
) -> None:
    shutil.copy(store.root / "archive.jsonl", tmp_path / "archive.jsonl")
    result = _audit(store, tmp_path, "archive.jsonl", "--format", "jsonl", "-o", "/dev/full")
    assert result.code == 2, result
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert "Traceback" not in result.err
    assert "cannot write '/dev/full': No space left on device" in lines[0]
    assert "are kept; finish with: tokenverify audit archive.jsonl" in lines[0]
    assert lines[0].endswith("--resume"), lines[0]


def test_an_unwritable_report_fails_before_the_first_token_is_read(
    store: Store, tmp_path: Path
) -> None:
    # stdin stays open: an audit that read its tokens first would wait here for ever.
    with subprocess.Popen(
        [
            str(SCRIPT), "audit", "-", "--keys", str(store.keys), "--format", "json",
            "-o", "/proc/audit.json", "--quiet",
        ],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path,
    ) as process:  # fmt: skip
        try:
            code = process.wait(timeout=60)
        finally:
            process.kill()
        assert process.stderr is not None
        err = process.stderr.read().decode()
    assert code == 2, err
    assert "cannot write '/proc/audit.json'" in err
    assert "nothing was audited" in err


def test_temporaries_of_a_killed_writer_are_removed_by_the_next(
    store: Store, tmp_path: Path
) -> None:
    shutil.copy(store.root / "archive.jsonl", tmp_path / "archive.jsonl")
    # A writer killed before its rename: its temporary is left, unlocked.
    with subprocess.Popen(
        [
            str(SCRIPT), "audit", "-", "--keys", str(store.keys), "--format", "json",
            "-o", "report.json", "--quiet",
        ],
        stdin=subprocess.PIPE, cwd=tmp_path,
    ) as killed:  # fmt: skip
        try:
            for _ in range(6000):
                if any(p.name.startswith(".report.json.") for p in tmp_path.iterdir()):
                    break
                time.sleep(0.01)
            else:
                pytest.fail("the writer made no temporary file")
        finally:
            killed.kill()
    left = [p for p in tmp_path.iterdir() if p.name.startswith(".report.json.")]
    assert len(left) == 1
    # One that a live writer holds (locked) must stay.
    with subprocess.Popen(
        [sys.executable, "-c", (
            "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_CREAT | os.O_WRONLY);"
            "fcntl.flock(fd, fcntl.LOCK_EX); print('locked', flush=True); sys.stdin.read()"
        ), str(tmp_path / ".report.json.live.tmp")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    ) as live:  # fmt: skip
        assert live.stdout is not None
        assert live.stdout.readline() == b"locked\n"
        try:
            result = _audit(
                store, tmp_path, "archive.jsonl", "--format", "json", "-o", "report.json"
            )
            assert result.code == 1, result
            names = sorted(p.name for p in tmp_path.iterdir())
            assert names == [".report.json.live.tmp", "archive.jsonl", "report.json"], names
        finally:
            live.kill()


# -- faults at the sources -------------------------------------------------------------------


def test_an_incomplete_last_line_is_a_source_problem_read_again_on_resume(
    store: Store, tmp_path: Path
) -> None:
    lines = (store.root / "archive.jsonl").read_text().splitlines()
    live = tmp_path / "live.jsonl"
    # A writer is appending: its last line is half a response.
    live.write_text(f"{lines[0]}\n{lines[1]}\n{lines[0][:40]}")
    output = tmp_path / "audit.jsonl"
    first = _audit(store, tmp_path, "live.jsonl", "--format", "jsonl", "-o", output)
    assert first.code == 2, first
    assert "source problem: live.jsonl:3: line 3 is incomplete" in first.err
    assert "finish with" not in first.err
    assert "once fixed, read them with: tokenverify audit live.jsonl" in first.err
    assert _ids(output) == ["live.jsonl:1", "live.jsonl:2"]
    with live.open("a") as handle:
        handle.write(lines[0][40:] + "\n")
    resumed = _audit(store, tmp_path, "live.jsonl", "--format", "jsonl", "-o", output, "--resume")
    assert resumed.code == 0, resumed
    assert _ids(output) == ["live.jsonl:1", "live.jsonl:2", "live.jsonl:3"]
    # A whole JSON value cannot grow into another: without its newline it is audited.
    (tmp_path / "whole.jsonl").write_text(f"{lines[0]}\n{lines[0]}")
    whole = _audit(store, tmp_path, "whole.jsonl", "--format", "jsonl")
    assert whole.code == 0, whole
    assert len(whole.out.splitlines()) == 2


def test_special_and_unreadable_files_are_listed_and_the_rest_audited(
    store: Store, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(store.root / "saved" / "valid-1.json", folder / "a.json")
    os.mkfifo(folder / "b.fifo")  # reading it would block the audit for ever
    (folder / "c.dev").symlink_to("/dev/zero")
    shutil.copy(store.root / "saved" / "valid-2.json", folder / "d.json")
    # /proc/self/mem opens but cannot be read at offset 0 (EIO): an unreadable file.
    output = tmp_path / "audit.jsonl"
    result = _audit(store, tmp_path, "in", "/proc/self/mem", "--format", "jsonl", "-o", output)
    assert result.code == 2, result
    assert "Traceback" not in result.err
    problems = [line for line in result.err.splitlines() if "source problem:" in line]
    assert problems == [
        "tokenverify: source problem: in/b.fifo: a FIFO, not a regular file: not read",
        "tokenverify: source problem: in/c.dev: a character device, not a regular file: not read",
        "tokenverify: source problem: /proc/self/mem: reading the file failed: Input/output error",
    ]
    assert _ids(output) == ["in/a.json", "in/d.json"]
    assert "2 source problems" not in result.err
    assert "3 source problems (listed above); everything else was audited" in result.err


def _sqlite_store(path: Path, tokens: list[str], rows: int) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE checkouts (response TEXT)")
        connection.executemany(
            "INSERT INTO checkouts VALUES (?)", [(tokens[n % len(tokens)],) for n in range(rows)]
        )
    connection.close()


def _tokens(store: Store) -> list[str]:
    return [
        (store.root / "saved" / name).read_text()
        for name in ("valid-1.json", "valid-2.json", "bare.jwt")
    ]


def test_a_corrupt_sqlite_page_is_a_source_problem(store: Store, tmp_path: Path) -> None:
    database = tmp_path / "c.db"
    _sqlite_store(database, _tokens(store), 400)
    data = bytearray(database.read_bytes())
    page = 4096
    assert len(data) > 60 * page
    middle = (len(data) // page // 2) * page
    data[middle : middle + page] = b"\xa5" * page  # one table page overwritten
    database.write_bytes(bytes(data))
    shutil.copy(store.root / "saved" / "valid-1.json", tmp_path / "after.json")
    output = tmp_path / "audit.jsonl"
    result = _audit(
        store, tmp_path, "sqlite:///c.db?table=checkouts&column=response", "after.json",
        "--format", "jsonl", "-o", output,
    )  # fmt: skip
    assert result.code == 2, result
    assert "internal error" not in result.err
    problem = [line for line in result.err.splitlines() if "source problem:" in line]
    assert len(problem) == 1, result.err
    assert problem[0].startswith("tokenverify: source problem: checkouts: reading 'c.db' stopped")
    assert "malformed" in problem[0]
    assert "PRAGMA integrity_check" in problem[0]
    ids = _ids(output)
    assert ids[-1] == "after.json"  # the audit went on with the next source
    assert 0 < len(ids) - 1 < 400


def test_a_corrupt_parquet_page_is_a_source_problem(store: Store, tmp_path: Path) -> None:
    pyarrow = pytest.importorskip("pyarrow")
    parquet = pytest.importorskip("pyarrow.parquet")
    tokens = _tokens(store)
    table = pyarrow.table({"response": [tokens[n % 3] + " " * n for n in range(600)]})
    path = tmp_path / "s.parquet"
    parquet.write_table(table, path, row_group_size=200, compression="snappy")
    metadata = parquet.ParquetFile(path).metadata
    second = metadata.row_group(1).column(0)
    data = bytearray(path.read_bytes())
    # The whole column chunk of the second row group, whatever its page layout (the test
    # issuer's ~4 KB tokens spread it over several pages).
    start = second.dictionary_page_offset or second.data_page_offset
    size = second.total_compressed_size
    data[start : start + size] = b"\xa5" * size
    path.write_bytes(bytes(data))
    shutil.copy(store.root / "saved" / "valid-1.json", tmp_path / "after.json")
    output = tmp_path / "audit.jsonl"
    result = _audit(
        store, tmp_path, "parquet:///s.parquet?column=response", "after.json",
        "--format", "jsonl", "-o", output,
    )  # fmt: skip
    assert result.code == 2, result
    assert "internal error" not in result.err
    problem = [line for line in result.err.splitlines() if "source problem:" in line]
    assert len(problem) == 1, result.err
    assert problem[0].startswith(
        "tokenverify: source problem: s.parquet: reading stopped after row 200"
    )
    ids = _ids(output)
    assert ids[:200] == [f"s.parquet:{n}" for n in range(1, 201)]
    assert ids[-1] == "after.json"


def test_a_hot_journal_is_refused_with_what_to_do(store: Store, tmp_path: Path) -> None:
    database = tmp_path / "c.db"
    _sqlite_store(database, _tokens(store), 300)
    # A writer killed in the middle of a transaction that has spilled to the file.
    writer = (
        "import os, signal, sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "c.execute('PRAGMA cache_size=2')\n"
        "c.execute('BEGIN')\n"
        "c.execute(\"UPDATE checkouts SET response = response || 'x'\")\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    subprocess.run([sys.executable, "-c", writer, str(database)], check=False)
    journal = tmp_path / "c.db-journal"
    assert journal.stat().st_size > 0
    before = (database.read_bytes(), journal.read_bytes())
    result = _audit(
        store, tmp_path, "sqlite:///c.db?table=checkouts&column=response", "--format", "jsonl"
    )
    assert result.code == 2, result
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert "'c.db' has a hot journal" in lines[0]
    assert "to roll it back" in lines[0]
    assert (database.read_bytes(), journal.read_bytes()) == before  # nothing rolled back


@pytest.mark.skipif(
    os.geteuid() == 0, reason="root writes in any folder: there is no read-only one to test"
)
def test_a_wal_database_in_a_read_only_folder(store: Store, tmp_path: Path) -> None:
    root = tmp_path
    try:
        clean, dirty = root / "clean", root / "dirty"
        for folder in (clean, dirty):
            folder.mkdir()
            _sqlite_store(folder / "c.db", _tokens(store), 10)
            with sqlite3.connect(folder / "c.db") as connection:
                connection.execute("PRAGMA journal_mode=WAL")
            connection.close()
        # dirty: a committed change still in the -wal file (the writer died before any
        # checkpoint); clean: everything checkpointed into the database.
        writer = (
            "import os, signal, sqlite3, sys\n"
            "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "c.execute('PRAGMA wal_autocheckpoint=0')\n"
            "c.execute('INSERT INTO checkouts SELECT response FROM checkouts')\n"
            "os.kill(os.getpid(), signal.SIGKILL)\n"
        )
        subprocess.run([sys.executable, "-c", writer, str(dirty / "c.db")], check=False)
        assert (dirty / "c.db-wal").stat().st_size > 0
        for folder in (clean, dirty):
            for path in folder.iterdir():
                path.chmod(0o644)
            folder.chmod(0o555)
        source = "sqlite:///c.db?table=checkouts&column=response"

        def audit(folder: Path) -> subprocess.CompletedProcess[bytes]:
            return subprocess.run(
                [str(SCRIPT), "audit", source, "--keys", str(store.keys),
                 "--format", "jsonl", "--quiet"],
                cwd=folder, capture_output=True, check=False, timeout=120,
            )  # fmt: skip

        done = audit(clean)
        assert done.returncode == 0, done
        assert len(done.stdout.splitlines()) == 10
        refused = audit(dirty)
        err = refused.stderr.decode()
        assert refused.returncode == 2, err
        assert len(err.splitlines()) == 1, err
        assert "WAL-mode database in a folder this process cannot write" in err
        assert "audit the copy" in err
    finally:
        for folder in root.iterdir():
            folder.chmod(0o755)


def test_a_folder_that_vanishes_during_the_audit_is_a_source_problem(
    store: Store, tmp_path: Path
) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        shutil.copy(store.root / "saved" / "valid-1.json", tmp_path / name / "x.json")
    sources = parse_sources([tmp_path / "a", tmp_path / "b"])  # both checked: they exist
    shutil.rmtree(tmp_path / "a")  # gone before it is read
    faults: list[SourceFault] = []
    items = list(iter_items(sources, on_fault=faults.append))
    assert [source for source, _ in items] == [f"{tmp_path}/b/x.json"]
    assert faults == [
        SourceFault(f"{tmp_path}/a", "cannot list the folder: No such file or directory")
    ]
