"""Where stored tokens come from, each with a stable id, streamed with bounded memory.

Sources, and the ids their tokens get:

- a file holding one saved response or bare token: ``path``;
- a JSON Lines file, one response or token per line: ``path:line`` (1-based; blank
  lines are skipped but counted). A file is read as lines when its name ends in
  ``.jsonl``/``.ndjson``, or when its first line is a whole JSON value or a compact token
  and more lines follow; otherwise it is one document (a pretty-printed response);
- a folder: every regular file under it, recursively, in path order (names starting
  with ``.`` and symlinked folders are skipped);
- ``-``: stdin, read like a file (``stdin`` or ``stdin:line``);
- ``sqlite:///checkouts.db?table=T&column=C``: one token per row, ``T:rowid``; opened
  read-only (``sqlite:////abs/path.db`` for an absolute path);
- ``parquet:///store.parquet?column=C``: one token per row, ``path:row`` (1-based;
  needs pyarrow).

Ids identify: the path part of an id is the path as given (``./`` and repeated slashes
dropped) with every ``\\`` doubled, every ``:`` written ``\\:`` and every character that
is not printable escaped as :func:`tokenverify._display.printable` does; bytes of a file
name that are not UTF-8 appear as ``\\udcHH`` (Python's surrogate escape of the byte).
So ``a.jsonl:2`` is line 2 of ``a.jsonl``, never a file named ``a.jsonl:2`` (whose id
is ``a.jsonl\\:2``), ids are printable, valid UTF-8, and map back to the file.

Nothing is ever written to a source. Lines and documents are bounded by the verifier's
own size limit: a longer one is cut just past it (and rejected as ``too_large``), the
rest skipped without being held in memory.

What cannot be read (a file that cannot be opened, a folder that cannot be listed, a
FIFO or device inside a folder, a corrupt SQLite or Parquet page, the last line of a
JSON Lines file that has no newline yet) is a :class:`SourceFault` handed to
``on_fault``: not a verdict on any token, so it is not written as a result and
``--resume`` reads it again. Without ``on_fault`` it becomes a ``malformed`` rejection.
"""

from __future__ import annotations

import os
import re
import sqlite3
import stat
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO, NamedTuple
from urllib.parse import parse_qs, quote, unquote, urlsplit

import msgspec

from .._display import printable
from .._errors import Reason
from .._input import _document_limit
from .._token import DEFAULT_MAX_TOKEN_SIZE

if TYPE_CHECKING:
    from ._inventory import Inventory

__all__ = [
    "LINE_SUFFIXES",
    "SOURCE_SYNTAX",
    "DirectorySource",
    "FileSource",
    "Item",
    "ParquetSource",
    "Source",
    "SourceError",
    "SourceFault",
    "SourceProblem",
    "SqliteSource",
    "StdinSource",
    "id_text",
    "iter_items",
    "iter_lines",
    "parse_source",
    "parse_sources",
    "path_id",
    "split_id_path",
    "unescape_id",
]

SOURCE_SYNTAX = (
    "a file, a folder, '-' (stdin), sqlite:///DB?table=T&column=C or parquet:///FILE?column=C"
)
#: File names read as JSON Lines whatever their first line looks like.
LINE_SUFFIXES = (".jsonl", ".ndjson", ".jsonlines")
_BLOCK = 1 << 20
_NO_STOP = float("inf")  # a stop offset no line reaches
_COMPACT_TOKEN = re.compile(rb"[A-Za-z0-9_=-]+\.[A-Za-z0-9_=-]+\.[A-Za-z0-9_=-]*")
_IDENTIFIER_LIMIT = 128
_DECODE_JSON = msgspec.json.Decoder().decode


class SourceError(ValueError):
    """A source cannot be used: missing, unreadable, not a database, no such table..."""


class SourceProblem(NamedTuple):
    """Stands in for a token that could not be read at all (it becomes a rejection)."""

    reason: Reason
    message: str


class SourceFault(NamedTuple):
    """A source, or part of one, that could not be read: not a verdict on any token.

    ``source`` is the id of what was not read (a file, a folder, ``table``, ``path:line``).
    """

    source: str
    message: str


#: What a source yields: a stable id and the stored bytes (or why there are none).
Item = tuple[str, bytes | SourceProblem]
#: Where faults go (the CLI lists them; ``None``: they become rejections).
FaultHandler = Callable[[SourceFault], None]

_ID_ESCAPE = re.compile(r"\\(?:x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8}|[\\nrt:])")
_ID_SHORT = {"\\\\": "\\", "\\n": "\n", "\\r": "\r", "\\t": "\t", "\\:": ":"}


def id_text(text: str) -> str:
    """``text`` as it appears in an id: printable, ``\\`` doubled and ``:`` escaped."""
    escaped = printable(text)
    return escaped.replace(":", "\\:") if ":" in escaped else escaped


def path_id(path: str | bytes | os.PathLike[str]) -> str:
    """The id of a file path (a document's whole id; a line's id before ``:line``)."""
    return id_text(_tidy(os.fsdecode(path)))


def unescape_id(text: str) -> str:
    """The original text of :func:`id_text` (file names: pass it to ``os.fsencode``)."""
    if "\\" not in text:
        return text

    def original(match: re.Match[str]) -> str:
        escape = match.group()
        return _ID_SHORT.get(escape) or chr(int(escape[2:], 16))

    return _ID_ESCAPE.sub(original, text)


def split_id_path(source: str) -> tuple[str, str]:
    """``(path part, suffix)`` of an id: ``("a\\:b.jsonl", ":3")``, ``("a.json", "")``.
    The separator is the last ``:`` not escaped (file names never hold a bare one)."""
    index = source.rfind(":")
    while index > 0:
        backslashes = len(source[:index]) - len(source[:index].rstrip("\\"))
        if backslashes % 2 == 0:
            return source[:index], source[index:]
        index = source.rfind(":", 0, index)
    return source, ""


def _tidy(path: str) -> str:
    # One spelling per path without changing what it names: "." parts and repeated or
    # trailing slashes go; ".." stays (after a symlink it is not the parent).
    if "/." not in path and "//" not in path and not path.startswith("./") and path[-1:] != "/":
        return path
    parts = [part for part in path.split("/") if part not in ("", ".")]
    tidy = ("/" if path.startswith("/") else "") + "/".join(parts)
    return tidy or ("/" if path.startswith("/") else ".")


class _Faults:
    """Reports faults to ``on_fault``, or turns them into rejections when there is none."""

    __slots__ = ("on_fault",)

    def __init__(self, on_fault: FaultHandler | None) -> None:
        self.on_fault = on_fault

    def __call__(self, source: str, message: str) -> Item | None:
        if self.on_fault is None:
            return source, SourceProblem(Reason.malformed, message)
        self.on_fault(SourceFault(source, message))
        return None


@dataclass(frozen=True)
class FileSource:
    """A file given by name (a saved response, a bare token, or JSON Lines)."""

    path: str


@dataclass(frozen=True)
class DirectorySource:
    """A folder, read recursively."""

    path: str


@dataclass(frozen=True)
class StdinSource:
    """Standard input, read like a file."""


@dataclass(frozen=True)
class SqliteSource:
    """One column of one SQLite table, one token per row, opened read-only."""

    database: str
    table: str
    column: str


@dataclass(frozen=True)
class ParquetSource:
    """One column of a Parquet file, one token per row."""

    path: str
    column: str


Source = FileSource | DirectorySource | StdinSource | SqliteSource | ParquetSource
_SOURCE_TYPES = (FileSource, DirectorySource, StdinSource, SqliteSource, ParquetSource)


def parse_sources(specs: Iterable[str | os.PathLike[str] | Source]) -> list[Source]:
    """Check every source before anything is audited; :class:`SourceError` names the first
    problem. SQLite ids (``table:rowid``) must not collide, so a table may appear once."""
    sources = [spec if isinstance(spec, _SOURCE_TYPES) else parse_source(spec) for spec in specs]
    if not sources:
        raise SourceError(f"no source given: pass {SOURCE_SYNTAX}")
    if sum(isinstance(s, StdinSource) for s in sources) > 1:
        raise SourceError("'-' (stdin) can be given only once")
    tables = [s.table for s in sources if isinstance(s, SqliteSource)]
    repeated = sorted({t for t in tables if tables.count(t) > 1})
    if repeated:
        raise SourceError(
            f"table {repeated[0]!r} is named by two SQLite sources; their ids "
            "(table:rowid) would collide"
        )
    _check_prefixes_apart(sources)
    return sources


def _check_prefixes_apart(sources: Sequence[Source]) -> None:
    # Ids are "prefix:number": a table named like a file given by name (or like a path
    # inside a given folder, or "stdin") would give two items one id.
    tables = {id_text(s.table): s.table for s in sources if isinstance(s, SqliteSource)}
    if not tables:
        return
    for source in sources:
        if isinstance(source, SqliteSource):
            continue
        if isinstance(source, StdinSource):
            clash = "stdin" if "stdin" in tables else None
        elif isinstance(source, DirectorySource):
            folder = path_id(source.path).rstrip("/") + "/"
            clash = next((t for t in tables if t.startswith(folder)), None)
        else:
            label = path_id(source.path)
            clash = label if label in tables else None
        if clash is not None:
            raise SourceError(
                f"the SQLite table {tables[clash]!r} and the source "
                f"{'-' if isinstance(source, StdinSource) else source.path!r} would give "
                "their items the same ids; audit them in two runs"
            )


def parse_source(spec: str | os.PathLike[str]) -> Source:
    """One source from its spelling; checks that it exists and (SQLite) that the table
    and column do."""
    text = os.fspath(spec)
    if text == "-":
        return StdinSource()
    if text.startswith("sqlite:"):
        return _parse_sqlite(text)
    if text.startswith("parquet:"):
        return _parse_parquet(text)
    try:
        mode = os.stat(text).st_mode
    except OSError as exc:
        raise SourceError(f"cannot read {text!r}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(mode):
        return DirectorySource(text)
    return FileSource(text)  # a regular file, or a pipe such as <(zcat old.jsonl.gz)


def iter_items(
    sources: Sequence[Source],
    *,
    max_token_size: int = DEFAULT_MAX_TOKEN_SIZE,
    stdin: BinaryIO | None = None,
    on_fault: FaultHandler | None = None,
    exclude: Iterable[str] = (),
    inventory: Inventory | None = None,
) -> Iterator[Item]:
    """Every stored token of ``sources``, in order, as ``(id, bytes)``.

    A file seen twice (a folder and a file inside it, or two spellings of one path) is
    read once; files in ``exclude`` (the audit's own output) are never read. What cannot
    be read goes to ``on_fault`` (see the module docstring). With an ``inventory``, items
    are counted per source and (unless ``inventory.strict``) whole files that are plainly
    not checkouts are skipped and listed there.
    """
    if inventory is not None:
        yield from _take_stock(
            _iter_items(sources, max_token_size, stdin, on_fault, exclude), inventory
        )
        return
    for _, (name, payload) in _iter_items(sources, max_token_size, stdin, on_fault, exclude):
        yield name, bytes(payload) if type(payload) is _Document else payload


def _iter_items(
    sources: Sequence[Source],
    max_token_size: int,
    stdin: BinaryIO | None,
    on_fault: FaultHandler | None,
    exclude: Iterable[str],
) -> Iterator[tuple[int, Item]]:
    # (source index, item); whole documents as _Document, so they can be told from lines.
    limit = _document_limit(max_token_size)
    seen: set[str] = {os.path.realpath(path) for path in exclude}
    faults = _Faults(on_fault)
    for index, source in enumerate(sources):
        if isinstance(source, FileSource):
            if _first_visit(source.path, seen):
                for item in _file_items(source.path, path_id(source.path), limit, faults):
                    yield index, item
        elif isinstance(source, DirectorySource):
            for path, label, fault in _walk(source.path, path_id(source.path), faults):
                if fault is not None:
                    yield index, fault
                elif _first_visit(path, seen):
                    for item in _file_items(path, label, limit, faults):
                        yield index, item
        elif isinstance(source, StdinSource):
            stream = stdin if stdin is not None else sys.stdin.buffer
            for item in _stream_items(stream, "stdin", limit, by_name=False):
                yield index, item
        elif isinstance(source, SqliteSource):
            for item in _sqlite_items(source, limit, faults):
                yield index, item
        else:
            for item in _parquet_items(source, limit, faults):
                yield index, item


class _Document(bytes):
    """A whole file's bytes (not one line of a JSON Lines file)."""

    __slots__ = ()


def iter_lines(
    handle: BinaryIO,
    limit: int,
    *,
    head: bytes = b"",
    first_number: int = 1,
    start_offset: int = 0,
    stop_offset: int | None = None,
    unterminated: list[tuple[int, bytes]] | None = None,
) -> Iterator[tuple[int, bytes]]:
    """``(line number, line)`` for every non-blank line of ``head`` + ``handle``.

    A line longer than ``limit`` bytes is cut to ``limit + 1`` (enough for the verifier
    to reject it as too large) and its rest is skipped unread into memory. With
    ``stop_offset``, stops before the first line starting at or after that byte offset
    (``start_offset`` being the offset of ``head``'s first byte): how a Dask partition
    reads its byte range. With ``unterminated``, a last line with no newline after it
    is appended there instead of being yielded.
    """
    number = first_number
    line_start = start_offset  # absolute offset of the first byte of the current line
    stop = _NO_STOP if stop_offset is None else stop_offset
    # The current line's start, held up to limit + 1 bytes (its rest is only counted).
    pending = b""
    pending_length = 0  # its true length so far
    cap = limit + 1
    read = getattr(handle, "read1", handle.read)
    block = head
    while True:
        if not block:
            block = read(_BLOCK)
            if not block:
                break
        # find() per line, not split(): find looks for the newline with memchr, where
        # split compares byte by byte (5 instructions a byte, 21,000 for a 4 KB token,
        # counted under callgrind); a find() per line costs a few hundred. The parent
        # process reads every line of a store, so this is on the audit's serial path.
        find = block.find
        start = 0
        end = find(b"\n")
        while end >= 0:
            if pending_length:
                length = pending_length + end - start
                if len(pending) < cap:
                    line = pending + block[start : min(end, start + cap - len(pending))]
                else:
                    line = pending
                pending, pending_length = b"", 0
            else:
                length = end - start
                line = block[start:end] if length <= cap else block[start : start + cap]
            if line_start >= stop:
                return
            line_start += length + 1
            if line and not line.isspace():
                yield number, line
            number += 1
            start = end + 1
            end = find(b"\n", start)
        if start < len(block):
            if len(pending) < cap:
                pending += block[start : start + cap - len(pending)]
            pending_length += len(block) - start
        block = b""
    if line_start >= stop:
        return
    if pending and not pending.isspace():
        if unterminated is None:
            yield number, pending
        else:
            unterminated.append((number, pending))


def _last_line(source: str, number: int, line: bytes, limit: int, faults: _Faults) -> Item | None:
    # A last line with no newline may be one a writer is still appending. A whole JSON
    # value cannot be the start of a longer one, so it is audited; anything else (a
    # half-written response, a token that may yet grow) is a fault, read again on resume.
    if len(line) <= limit:
        try:
            _DECODE_JSON(line)
        except msgspec.DecodeError:
            pass
        else:
            return source, line
    return faults(
        source,
        f"line {number} is incomplete (no newline at the end of the file: is it still "
        "being written?); not audited: --resume reads it again once it is complete",
    )


def _first_visit(path: str, seen: set[str]) -> bool:
    real = os.path.realpath(path)
    if real in seen:
        return False
    seen.add(real)
    return True


_SPECIAL_FILES = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _walk(folder: str, label: str, faults: _Faults) -> Iterator[tuple[str, str, Item | None]]:
    """``(path, id, None)`` for every regular file under ``folder``; ``(path, id, item)``
    where a fault was reported (``item`` is its rejection when faults are records)."""
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError as exc:
        # Unreadable, or gone since it was checked: the rest of the audit goes on.
        fault = faults(label, f"cannot list the folder: {exc.strerror or exc}")
        if fault is not None:
            yield folder, label, fault
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = os.path.join(folder, entry.name)
        entry_label = (
            f"{label}/{id_text(entry.name)}" if label != "/" else f"/{id_text(entry.name)}"
        )
        try:
            if entry.is_dir(follow_symlinks=False):
                yield from _walk(path, entry_label, faults)
            elif entry.is_file():
                yield path, entry_label, None
            elif not entry.is_symlink() or os.path.exists(path):
                kind = _special_kind(os.stat(path).st_mode)
                if kind is not None:
                    fault = faults(entry_label, f"{kind}, not a regular file: not read")
                    if fault is not None:
                        yield path, entry_label, fault
        except OSError:
            continue  # vanished while listed


def _special_kind(mode: int) -> str | None:
    for test, kind in _SPECIAL_FILES:
        if test(mode):
            return kind
    return None


def _file_items(path: str, label: str, limit: int, faults: _Faults) -> Iterator[Item]:
    try:
        handle = open(path, "rb")  # noqa: SIM115  (closed below; the generator may pause)
    except OSError as exc:
        fault = faults(label, f"cannot read the file: {exc.strerror or exc}")
        if fault is not None:
            yield fault
        return
    with handle:
        try:
            yield from _stream_items(
                handle, label, limit, by_name=path.endswith(LINE_SUFFIXES), faults=faults
            )
        except OSError as exc:
            # A read error mid-file: what was read stands; the rest is a fault.
            fault = faults(label, f"reading the file failed: {exc.strerror or exc}")
            if fault is not None:
                yield (f"{label}:error", fault[1])


def _read_head(handle: BinaryIO) -> bytes:
    # Enough to tell lines from a document: past the first line, or everything there is.
    # read1 returns what a pipe has now, so `tail -f log | tokenverify audit -` flows.
    read = getattr(handle, "read1", handle.read)
    head = b""
    while len(head) < _BLOCK:
        chunk = read(_BLOCK - len(head))
        if not chunk:
            break
        head += chunk
        text = head.lstrip()
        newline = text.find(b"\n")
        if newline >= 0 and text[newline:].strip():
            break
    return head


def _stream_items(
    handle: BinaryIO, label: str, limit: int, *, by_name: bool, faults: _Faults | None = None
) -> Iterator[Item]:
    head = _read_head(handle)
    if by_name or _looks_like_lines(head):
        if faults is None:  # stdin: nothing to re-read later, its last line is as it is
            for number, line in iter_lines(handle, limit, head=head):
                yield f"{label}:{number}", line
            return
        unterminated: list[tuple[int, bytes]] = []
        for number, line in iter_lines(handle, limit, head=head, unterminated=unterminated):
            yield f"{label}:{number}", line
        for number, line in unterminated:
            item = _last_line(f"{label}:{number}", number, line, limit, faults)
            if item is not None:
                yield item
        return
    document = head
    if len(document) <= limit:
        document += handle.read(limit + 1 - len(document))
    yield label, _Document(document[: limit + 1])


def _looks_like_lines(head: bytes) -> bool:
    # JSON Lines when the first non-blank line stands on its own (a whole JSON value or
    # a compact token) and another non-blank line follows it.
    text = head.lstrip()
    newline = text.find(b"\n")
    if newline < 0 or not text[newline:].strip():
        return False
    first = text[:newline].strip()
    if _COMPACT_TOKEN.fullmatch(first):
        return True
    if first[:1] not in (b"{", b"["):
        return False
    try:
        _DECODE_JSON(first)
    except msgspec.DecodeError:
        return False
    return True


# -- SQLite ------------------------------------------------------------------------------


def _parse_sqlite(spec: str) -> SqliteSource:
    path, query = _split_url(spec, "sqlite", "sqlite:///checkouts.db?table=T&column=C")
    table = _query_value(spec, query, "table")
    column = _query_value(spec, query, "column")
    extra = sorted(set(query) - {"table", "column"})
    if extra:
        raise SourceError(f"{spec!r}: unknown parameter {extra[0]!r} (only table and column)")
    source = SqliteSource(path, table, column)
    with _connect(source) as connection:
        kind = connection.execute(
            "SELECT type FROM sqlite_master WHERE name = ? AND type IN ('table', 'view')",
            (table,),
        ).fetchone()
        if kind is None:
            raise SourceError(f"{spec!r}: no table {table!r} in {path!r}")
        if kind[0] != "table":
            raise SourceError(f"{spec!r}: {table!r} is a view; ids need a table's rowid")
        columns = [row[1] for row in connection.execute(f"PRAGMA table_info({_quoted(table)})")]
        if column not in columns:
            raise SourceError(
                f"{spec!r}: table {table!r} has no column {column!r} (it has "
                f"{', '.join(columns[:20])})"
            )
        try:
            probe = f"SELECT rowid FROM {_quoted(table)} LIMIT 1"  # noqa: S608  (quoted)
            connection.execute(probe).fetchall()
        except sqlite3.OperationalError:
            raise SourceError(
                f"{spec!r}: table {table!r} has no rowid (WITHOUT ROWID); ids need one"
            ) from None
    return source


def _connect(source: SqliteSource) -> sqlite3.Connection:
    database = source.database
    if not os.path.isfile(database):
        raise SourceError(f"no SQLite database at {database!r}")
    # mode=ro: SQLite itself refuses every write; the database is never modified.
    path = quote(os.path.abspath(database))
    try:
        return _open_sqlite(f"file:{path}?mode=ro")
    except sqlite3.Error as exc:
        journal = f"{database}-journal"
        if _size(journal) > 0:
            # A hot journal: a writer died mid-transaction. Reading past it would show
            # half a transaction; rolling it back is a write, which we never do.
            raise SourceError(
                f"{database!r} has a hot journal ({journal!r}: a writer stopped in the "
                "middle of a transaction; tokenverify never writes to a source): open it "
                f"once read-write to roll it back (sqlite3 {database!r} 'PRAGMA "
                "quick_check'), then audit again"
            ) from None
        if _is_wal(database) and not os.access(os.path.dirname(os.path.abspath(database)), os.W_OK):
            if _size(f"{database}-wal") <= 0:
                # Every committed change is in the file itself: immutable=1 reads it
                # without the -shm file a read-only folder cannot hold.
                try:
                    return _open_sqlite(f"file:{path}?mode=ro&immutable=1")
                except sqlite3.Error:
                    pass
            raise SourceError(
                f"{database!r} is a WAL-mode database in a folder this process cannot "
                "write (SQLite needs its -shm file beside it, even to read): copy the "
                "database with its -wal file to a writable folder and audit the copy"
            ) from None
        raise SourceError(f"cannot open {database!r} as SQLite: {exc}") from None


def _open_sqlite(uri: str) -> sqlite3.Connection:
    connection = sqlite3.connect(uri, uri=True, isolation_level=None)
    try:
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except BaseException:
        connection.close()
        raise
    return connection


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return -1


def _is_wal(database: str) -> bool:
    # Bytes 18 and 19 of the header are the file format versions: 2 means WAL.
    try:
        with open(database, "rb") as handle:
            header = handle.read(20)
    except OSError:
        return False
    return header[:16] == b"SQLite format 3\x00" and header[18:20] == b"\x02\x02"


def _sqlite_items(source: SqliteSource, limit: int, faults: _Faults) -> Iterator[Item]:
    prefix = f"{id_text(source.table)}:"
    try:
        connection = _connect(source)
    except SourceError as exc:  # gone or changed since it was checked
        fault = faults(prefix[:-1], str(exc))
        if fault is not None:
            yield fault
        return
    rowid = None
    try:
        # Identifiers cannot be bound as parameters; _quoted makes each one a single
        # quoted name, whatever it contains.
        column, table = _quoted(source.column), _quoted(source.table)
        query = f"SELECT rowid, {column} FROM {table} ORDER BY rowid"  # noqa: S608
        cursor = connection.execute(query)
        for rowid, value in cursor:
            yield prefix + str(rowid), _cell_payload(value, source.column, limit)
    except sqlite3.Error as exc:
        # A corrupt page: the rows before it stand, the rest is one fault.
        where = "before its first row" if rowid is None else f"after rowid {rowid}"
        fault = faults(
            prefix[:-1],
            f"reading {source.database!r} stopped {where}: {exc} (check it with sqlite3 "
            f"{source.database!r} 'PRAGMA integrity_check')",
        )
        if fault is not None:
            yield fault
    finally:
        connection.close()


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


# -- Parquet -----------------------------------------------------------------------------


def _parse_parquet(spec: str) -> ParquetSource:
    path, query = _split_url(spec, "parquet", "parquet:///store.parquet?column=C")
    column = _query_value(spec, query, "column")
    extra = sorted(set(query) - {"column"})
    if extra:
        raise SourceError(f"{spec!r}: unknown parameter {extra[0]!r} (only column)")
    schema = _parquet_file(path).schema_arrow
    if column not in schema.names:
        raise SourceError(f"{spec!r}: no column {column!r} (it has {', '.join(schema.names[:20])})")
    return ParquetSource(path, column)


def _parquet_file(path: str):  # type: ignore[no-untyped-def]  # pyarrow is untyped
    try:
        import pyarrow.parquet as pq  # type: ignore[import-untyped]
    except ImportError:
        raise SourceError(
            "reading Parquet needs pyarrow: pip install 'tokenverify[dask]' (or pyarrow)"
        ) from None
    try:
        return pq.ParquetFile(path)
    except (OSError, ValueError) as exc:
        raise SourceError(f"cannot read {path!r} as Parquet: {exc}") from None


def _parquet_items(source: ParquetSource, limit: int, faults: _Faults) -> Iterator[Item]:
    label = path_id(source.path)
    row = 0
    try:
        parquet = _parquet_file(source.path)
        # One row group at a time: a corrupt page then costs only its own group's rows.
        for group in range(parquet.num_row_groups):
            batches = parquet.iter_batches(
                columns=[source.column], batch_size=4096, row_groups=[group]
            )
            for batch in batches:
                for value in batch.column(0).to_pylist():
                    row += 1
                    yield f"{label}:{row}", _cell_payload(value, source.column, limit)
    except (SourceError, OSError, ValueError) as exc:  # pyarrow's errors are among these
        # A corrupt page: the rows before it stand, the rest is one fault.
        fault = faults(label, f"reading stopped after row {row}: {_one_line(str(exc))}")
        if fault is not None:
            yield fault


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]


def parquet_row_items(
    path: str, column: str, row_group: int, first_row: int, limit: int, label: str | None = None
) -> list[Item]:
    """The items of one Parquet row group (a Dask partition), ids as the local path gives
    (``label:row``, the label being the path as the user gave it)."""
    label = path_id(path) if label is None else label
    table = _parquet_file(path).read_row_group(row_group, columns=[column])
    return [
        (f"{label}:{first_row + offset}", _cell_payload(value, column, limit))
        for offset, value in enumerate(table.column(0).to_pylist())
    ]


def parquet_row_groups(path: str) -> list[int]:
    """Rows per row group of a Parquet file."""
    metadata = _parquet_file(path).metadata
    return [metadata.row_group(index).num_rows for index in range(metadata.num_row_groups)]


# -- shared ------------------------------------------------------------------------------


def _cell_payload(value: object, column: str, limit: int) -> bytes | SourceProblem:
    if isinstance(value, bytes):
        return value[: limit + 1]
    if isinstance(value, str):
        return value[: limit + 1].encode("utf-8", "surrogatepass")
    if value is None:
        return SourceProblem(Reason.malformed, f"column {column!r} is NULL in this row")
    return SourceProblem(
        Reason.malformed,
        f"column {column!r} holds a {type(value).__name__}, not a checkout or token",
    )


def _split_url(spec: str, scheme: str, example: str) -> tuple[str, dict[str, list[str]]]:
    parts = urlsplit(spec)
    if parts.scheme != scheme or parts.netloc or not parts.path.startswith("/"):
        raise SourceError(f"{spec!r} is not of the form {example} (three slashes)")
    path = unquote(parts.path[1:])  # sqlite:///rel.db -> rel.db; sqlite:////abs -> /abs
    if not path:
        raise SourceError(f"{spec!r} names no file; use {example}")
    try:
        query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        raise SourceError(f"{spec!r}: cannot read its parameters; use {example}") from None
    return path, query


def _query_value(spec: str, query: dict[str, list[str]], name: str) -> str:
    values = query.get(name, [])
    if len(values) != 1 or not values[0] or len(values[0]) > _IDENTIFIER_LIMIT:
        raise SourceError(f"{spec!r} needs exactly one non-empty {name}=... parameter")
    return values[0]


def _take_stock(items: Iterator[tuple[int, Item]], inventory: Inventory) -> Iterator[Item]:
    """The items of ``items`` (source index, item), counted into ``inventory``."""
    from ._inventory import not_a_checkout  # only an audit that lists what it skips

    counts = inventory.counts
    for index, (name, payload) in items:
        while len(counts) <= index:
            counts.append(0)
        counts[index] += 1
        if type(payload) is _Document:
            if not inventory.strict:
                what = not_a_checkout(payload)
                if what is not None:
                    inventory.skip(name, what)
                    continue
            yield name, bytes(payload)
            continue
        yield name, payload
