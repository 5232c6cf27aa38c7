"""Sources: ids, sniffing, line limits, folders, stdin, SQLite (read-only) and Parquet."""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import sqlite3
from pathlib import Path

import pytest

import tokenverify as tv
from tokenverify.audit import (
    Auditor,
    SourceError,
    SourceProblem,
    iter_items,
    parse_source,
    parse_sources,
)
from tokenverify.audit._sources import SqliteSource, iter_lines

from .support import NODE, Store

LIMIT = 100


def _ids(*specs: str | Path, stdin: bytes | None = None) -> list[str]:
    stream = io.BytesIO(stdin) if stdin is not None else None
    return [source for source, _ in iter_items(parse_sources(specs), stdin=stream)]


def test_folder_order_hidden_files_and_repeats(store: Store, in_store_parent: Path) -> None:
    # A folder and a file inside it: the file is read once.
    ids = _ids("store", "store/saved/bare.jwt")
    assert ids == store.ids()
    assert not any(".hidden" in source for source in ids)


def test_one_document_per_file_unless_lines(tmp_path: Path) -> None:
    response = {"SignedToken": "a.b.c", "NodeId": "n"}
    (tmp_path / "pretty.json").write_text(json.dumps(response, indent=2))
    (tmp_path / "one-line.json").write_text(json.dumps(response) + "\n\n")
    (tmp_path / "two-lines.json").write_text(json.dumps(response) + "\n" + json.dumps(response))
    (tmp_path / "tokens.txt").write_text("a.b.c\n\nd.e.f\n")
    (tmp_path / "single.jsonl").write_text("a.b.c\n")
    (tmp_path / "crlf.ndjson").write_text("a.b.c\r\n\r\nd.e.f\r\n")
    assert _ids(tmp_path) == [
        f"{tmp_path}/crlf.ndjson:1",
        f"{tmp_path}/crlf.ndjson:3",
        f"{tmp_path}/one-line.json",
        f"{tmp_path}/pretty.json",
        f"{tmp_path}/single.jsonl:1",
        f"{tmp_path}/tokens.txt:1",
        f"{tmp_path}/tokens.txt:3",
        f"{tmp_path}/two-lines.json:1",
        f"{tmp_path}/two-lines.json:2",
    ]
    items = dict(iter_items(parse_sources([tmp_path / "crlf.ndjson"])))
    assert items[f"{tmp_path}/crlf.ndjson:1"] == b"a.b.c\r"  # the verifier strips the \r


def test_lines_over_the_limit_are_cut_and_the_next_line_still_read() -> None:
    long = b"x" * 5000
    data = b"short\n" + long + b"\n" + long + b"tail-without-newline"
    lines = list(iter_lines(io.BytesIO(data[10:]), LIMIT, head=data[:10]))
    assert [number for number, _ in lines] == [1, 2, 3]
    assert lines[0][1] == b"short"
    assert lines[1][1] == b"x" * (LIMIT + 1)
    assert lines[2][1] == b"x" * (LIMIT + 1)


def test_byte_ranges_read_every_line_once(tmp_path: Path) -> None:
    # How Dask partitions read: any split point, lines that start in [start, stop).
    data = b"one\n\nthree\nfour-is-longer\n\nsix"
    whole = list(iter_lines(io.BytesIO(data), LIMIT))
    assert whole == [(1, b"one"), (3, b"three"), (4, b"four-is-longer"), (6, b"six")]
    from tokenverify.audit._dask import _count_newlines, _read_range

    path = tmp_path / "lines.jsonl"
    path.write_bytes(data)
    for first_cut in range(len(data) + 1):
        for second_cut in range(first_cut, len(data) + 1):
            cuts = [0, first_cut, second_cut, len(data)]
            got: list[tuple[str, bytes]] = []
            before = 0
            for start, end in itertools.pairwise(cuts):
                got.extend(_read_range(str(path), start, end, before, LIMIT))  # type: ignore[arg-type]
                before += _count_newlines(str(path), start, end)
            assert got == [(f"{path}:{n}", line) for n, line in whole], cuts


def test_stdin_is_read_like_a_file() -> None:
    assert _ids("-", stdin=b"a.b.c\nd.e.f\n") == ["stdin:1", "stdin:2"]
    assert _ids("-", stdin=b'{\n  "SignedToken": "a.b.c"\n}\n') == ["stdin"]
    with pytest.raises(SourceError, match="only once"):
        parse_sources(["-", "-"])


def test_missing_and_unreadable_sources(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="cannot read"):
        parse_sources([tmp_path / "absent.jsonl"])
    with pytest.raises(SourceError, match="no source"):
        parse_sources([])


def _database(path: Path, rows: list[object]) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE checkouts (id INTEGER PRIMARY KEY, response)")
        connection.executemany("INSERT INTO checkouts (response) VALUES (?)", [(r,) for r in rows])
        connection.execute("CREATE VIEW v AS SELECT * FROM checkouts")
        connection.execute("CREATE TABLE norowid (k TEXT PRIMARY KEY, v) WITHOUT ROWID")
        connection.execute('CREATE TABLE "odd ""name" ("a column" TEXT)')
    connection.close()


def test_sqlite_rows_are_audited_by_table_and_rowid_without_writing(
    store: Store, tmp_path: Path
) -> None:
    valid = (store.root / "saved" / "valid-1.json").read_text()
    expired = (store.root / "saved" / "expired.json").read_bytes()
    database = tmp_path / "checkouts.db"
    _database(database, [valid, expired, None, 42, "not a token"])
    before = hashlib.sha256(database.read_bytes()).hexdigest()
    listing = sorted(p.name for p in tmp_path.iterdir())
    auditor = Auditor(store.keys, tv.Policy(node_id=NODE), at=store.at)
    url = f"sqlite:///{database}?table=checkouts&column=response"
    records = list(auditor.run([url], workers=1))
    assert [(r.source, r.reason.value if r.reason else "ok") for r in records] == [
        ("checkouts:1", "ok"),
        ("checkouts:2", "expired"),
        ("checkouts:3", "malformed"),
        ("checkouts:4", "malformed"),
        ("checkouts:5", "malformed"),
    ]
    assert "NULL" in records[2].message
    assert "int" in records[3].message
    # Read-only: not one byte changed, no journal or WAL file left beside it.
    assert hashlib.sha256(database.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == listing


def test_sqlite_urls_and_tables_are_checked_before_auditing(tmp_path: Path) -> None:
    database = tmp_path / "c.db"
    _database(database, ["x"])
    base = f"sqlite:///{database}"
    problems = {
        f"sqlite://host/{database}?table=checkouts&column=response": "three slashes",
        f"{base}?table=checkouts": "column",
        f"{base}?column=response": "table",
        f"{base}?table=checkouts&column=response&mode=rw": "unknown parameter",
        f"{base}?table=absent&column=response": "no table",
        f"{base}?table=checkouts&column=absent": "no column",
        f"{base}?table=v&column=response": "view",
        f"{base}?table=norowid&column=v": "WITHOUT ROWID",
        f"sqlite:///{tmp_path}/absent.db?table=t&column=c": "no SQLite database",
        f"sqlite:///{tmp_path}/../{tmp_path.name}/c.db?table=checkouts&column=response&table=x": (
            "exactly one"
        ),
    }
    for url, message in problems.items():
        with pytest.raises(SourceError, match=message):
            parse_source(url)
    (tmp_path / "not.db").write_text("plain text")
    with pytest.raises(SourceError, match="SQLite"):
        parse_source(f"sqlite:///{tmp_path}/not.db?table=t&column=c")
    # Odd identifiers are quoted, never spliced: the table "odd ""name" works.
    source = parse_source(f"{base}?table=odd%20%22name&column=a%20column")
    assert source == SqliteSource(str(database), 'odd "name', "a column")
    assert list(iter_items([source])) == []
    with pytest.raises(SourceError, match="collide"):
        parse_sources([f"{base}?table=checkouts&column=response"] * 2)


def test_relative_sqlite_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _database(tmp_path / "rel.db", ["a.b.c"])
    monkeypatch.chdir(tmp_path)
    items = list(iter_items(parse_sources(["sqlite:///rel.db?table=checkouts&column=response"])))
    assert items == [("checkouts:1", b"a.b.c")]


def test_parquet_rows(store: Store, tmp_path: Path) -> None:
    pyarrow = pytest.importorskip("pyarrow")
    parquet = pytest.importorskip("pyarrow.parquet")
    lines = (store.root / "archive.jsonl").read_text().splitlines()
    table = pyarrow.table({"response": [*lines, None], "n": list(range(len(lines) + 1))})
    path = tmp_path / "store.parquet"
    parquet.write_table(table, path, row_group_size=4)
    items = list(iter_items(parse_sources([f"parquet:///{path}?column=response"])))
    assert [source for source, _ in items] == [f"{path}:{n}" for n in range(1, len(lines) + 2)]
    assert items[0][1] == lines[0].encode()
    assert isinstance(items[-1][1], SourceProblem)
    with pytest.raises(SourceError, match="no column"):
        parse_source(f"parquet:///{path}?column=absent")


class _Trickle(io.RawIOBase):
    """A pipe that hands over seven bytes at a time."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        piece, self.data = self.data[:7], self.data[7:]
        buffer[: len(piece)] = piece
        return len(piece)


def test_a_slow_pipe_is_read_like_a_file() -> None:
    lines = b'{"SignedToken": "a.b.c", "NodeId": "n"}\n\nd.e.f\n'
    stream = io.BufferedReader(_Trickle(lines), buffer_size=8)
    items = list(iter_items(parse_sources(["-"]), stdin=stream))
    assert items == [("stdin:1", lines.split(b"\n")[0]), ("stdin:3", b"d.e.f")]
    pretty = b'{\n  "SignedToken": "a.b.c"\n}\n'
    stream = io.BufferedReader(_Trickle(pretty), buffer_size=8)
    assert list(iter_items(parse_sources(["-"]), stdin=stream)) == [("stdin", pretty)]
