"""Writing audit results (table, json, jsonl, csv, html) and reading them back to resume.

Line formats (jsonl, csv) are written as whole lines: results are encoded into a buffer
and handed to the operating system a batch of complete lines at a time, so a process
killed between writes leaves a file of complete lines, a valid prefix of the audit in
source order. (Only a kill landing inside the kernel's copy of a batch can cut its last
line; :func:`read_results` drops such a torn tail before resuming, once it has
recognised the file as an audit result: a file it refuses is never modified.) Whole
documents (json, html) are written to a temporary file beside the output, created (and
so checked writable) before the first token is read and renamed over it at the end, so
a reader never sees half of one. The temporary file is locked while in use: one left
by a killed writer is removed by the next writer of the same output.

A failed write (disk full, read-only, permission, the folder gone) is an
:class:`OutputError` naming the file; the complete lines already written stay.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import io
import os
import re
import secrets
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Literal, Protocol

import msgspec

from .._display import printable
from .._errors import Reason
from ._record import AuditRecord, inconsistency, jsonl_line
from ._signals import sigint_held
from ._summary import Summary

__all__ = [
    "CSV_COLUMNS",
    "FORMATS",
    "LINE_FORMATS",
    "Format",
    "OutputError",
    "OutputFailed",
    "ResultWriter",
    "open_writer",
    "read_results",
    "shown_id",
    "summary_lines",
]

Format = Literal["table", "json", "jsonl", "csv", "html"]
FORMATS: tuple[Format, ...] = ("table", "json", "jsonl", "csv", "html")
#: Formats that can be appended to, hence resumed.
LINE_FORMATS: tuple[Format, ...] = ("jsonl", "csv")
CSV_COLUMNS = tuple(AuditRecord.__struct_fields__)
_FLUSH_BYTES = 1 << 16
_FLUSH_SECONDS = 0.5
_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder(AuditRecord)
# Spreadsheets run cells starting with these as formulas (CSV injection); a leading '
# is added on writing and removed on reading, as is any leading ' (to stay reversible).
_FORMULA_START = ("=", "+", "-", "@", "\t", "'")
_CSV_ESCAPES = re.compile(r"\\(u[0-9a-f]{4}|.)")
_CSV_UNESCAPE = {"\\": "\\", "n": "\n", "r": "\r"}
#: How every jsonl line and the csv header begin: what a torn tail must be the start of.
_JSONL_START = b'{"source":'
_CSV_HEADER = (",".join(AuditRecord.__struct_fields__) + "\n").encode()


class OutputError(ValueError):
    """The output cannot be written, or an existing one cannot be resumed."""


class OutputFailed(OutputError):
    """Writing failed once the audit had begun (disk full, read-only, folder gone...):
    the complete lines written before stay."""


class ResultWriter(Protocol):
    """Where results go: one record at a time, then the summary."""

    def write(self, record: AuditRecord) -> None:
        """Take one result (written now, or kept for the end)."""

    def flush(self) -> None:
        """Hand every complete line written so far to the operating system."""

    def finish(self, summary: Summary) -> None:
        """Write what comes last (the summary; the whole document) and close."""

    def abort(self) -> None:
        """Stop early: keep the complete lines written, drop any unfinished document."""


def open_writer(
    format: Format,
    output: str | None,
    *,
    resume: bool = False,
    summary_text: Callable[[Summary], list[str]] | None = None,
    stdout: BinaryIO | None = None,
) -> ResultWriter:
    """A writer of ``format`` into the file ``output`` (None: stdout).

    With ``resume``, line formats append to ``output`` (which :func:`read_results` has
    read and repaired); without it, an existing ``output`` is replaced.
    ``summary_text`` renders the table format's closing summary.
    """
    out = stdout if stdout is not None else sys.stdout.buffer
    if format in LINE_FORMATS or format == "table":
        stream = _open_lines(output, append=resume) if output else out
        sink = _LineSink(stream, output is not None, output or "stdout")
        if format == "jsonl":
            return _JsonlWriter(sink)
        if format == "csv":
            return _CsvWriter(sink, header=not (resume and sink.position > 0))
        return _TableWriter(sink, summary_text or summary_lines)
    document = _Document(output, out)
    if format == "json":
        return _JsonWriter(document)
    return _HtmlWriter(document)


def read_results(path: str, format: Format) -> Iterator[AuditRecord]:
    """The results an earlier run wrote to ``path`` (jsonl or csv), in order.

    Every complete line must read as a consistent result (``ok`` exactly when there is no
    reason), or :class:`OutputError`: resuming never writes over what it cannot read.
    Only then, when the iterator is exhausted, is a torn last line (no newline at the
    end: the one thing a kill at the wrong instant can leave) cut off the file, and only
    if the file was recognised as an audit result. A file refused is left as it was.
    """
    if format not in LINE_FORMATS:
        raise OutputError(f"--resume needs a line format (jsonl or csv), not {format}")
    try:
        # Non-blocking: a FIFO planted at the output's name must not hang the audit.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return iter(())
    except OSError as exc:
        raise OutputError(f"cannot read {path!r} to resume: {exc.strerror or exc}") from None
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise OutputError(f"{path!r} is not a regular file: it cannot hold results to resume")
    os.set_blocking(descriptor, True)
    handle = open(descriptor, "rb")  # noqa: SIM115  (closed by the generators below)
    if format == "jsonl":
        return _read_jsonl(handle, path)
    return _read_csv(handle, path)


# -- line formats ----------------------------------------------------------------------


def _open_lines(path: str, *, append: bool) -> BinaryIO:
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    try:
        descriptor = os.open(path, flags, 0o666)
    except OSError as exc:
        raise OutputError(f"cannot write {path!r}: {exc.strerror or exc}") from None
    # Unbuffered: each flush below is one write of whole lines, nothing held in between.
    return open(descriptor, "wb", buffering=0)


class _LineSink:
    """Batches whole lines; hands them over at 64 KiB or every half second."""

    def __init__(self, stream: BinaryIO, owned: bool, name: str) -> None:
        self.stream = stream
        self.owned = owned
        self.name = name
        self.failed = False
        self.buffer = bytearray()
        self.last_flush = time.monotonic()
        try:
            self.position = stream.seek(0, os.SEEK_END) if owned else 0
        except OSError:
            self.position = 0

    def add(self, line: bytes) -> None:
        self.buffer += line
        if len(self.buffer) >= _FLUSH_BYTES or time.monotonic() - self.last_flush > _FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        self.last_flush = time.monotonic()
        if not self.buffer:
            return
        # Ctrl-C waits until the bytes written are also struck off the buffer: were it to
        # land in between, the flush after it would write those lines a second time.
        with sigint_held():
            try:
                while self.buffer:
                    written = self.stream.write(self.buffer)
                    del self.buffer[: len(self.buffer) if written is None else written]
                self.stream.flush()
            except BrokenPipeError:
                raise  # the reader left (| head): the CLI's own exit, not a fault
            except OSError as exc:
                self.failed = True
                raise OutputFailed(f"cannot write {self.name!r}: {exc.strerror or exc}") from None

    def close(self) -> None:
        if not self.failed:
            self.flush()
        if self.owned:
            with contextlib.suppress(OSError):  # a failed write was reported already
                self.stream.close()

    def abort(self) -> None:
        """Close keeping what was written; a second failure is not reported twice."""
        try:
            self.close()
        except OutputError:
            if not self.failed:
                raise


class _JsonlWriter:
    def __init__(self, sink: _LineSink) -> None:
        self.sink = sink

    def write(self, record: AuditRecord) -> None:
        self.sink.add(jsonl_line(record))

    def flush(self) -> None:
        self.sink.flush()

    def finish(self, summary: Summary) -> None:
        self.sink.close()

    def abort(self) -> None:
        self.sink.abort()


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, tuple):  # entitlements: one JSON array in one cell
        value = _ENCODER.encode(value).decode()
    text = str(value.value) if isinstance(value, Reason) else str(value)
    if "\\" in text or "\n" in text or "\r" in text:
        # One line per row, always: a torn tail is then always a torn last line.
        text = text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
    if text.startswith(_FORMULA_START):
        text = "'" + text
    return text


def _csv_value(text: str) -> str:
    if text.startswith("'"):
        text = text[1:]
    if "\\" in text:
        text = _CSV_ESCAPES.sub(_csv_unescape, text)
    return text


def _csv_unescape(match: re.Match[str]) -> str:
    escape = match.group(1)
    if len(escape) == 5:  # u + four hex digits: a lone surrogate, see _CsvWriter._move
        return chr(int(escape[1:], 16))
    return _CSV_UNESCAPE.get(escape, match.group(0))


class _CsvWriter:
    def __init__(self, sink: _LineSink, *, header: bool) -> None:
        self.sink = sink
        self.text = io.StringIO()
        self.rows = csv.writer(self.text, lineterminator="\n")
        if header:
            self.rows.writerow(CSV_COLUMNS)
            self._move()

    def _move(self) -> None:
        # backslashreplace: a lone surrogate becomes \\udcXX (backslashes in the text are
        # doubled already), so the file is valid UTF-8 and reads back to the same text.
        self.sink.add(self.text.getvalue().encode("utf-8", "backslashreplace"))
        self.text.seek(0)
        self.text.truncate()

    def write(self, record: AuditRecord) -> None:
        self.rows.writerow([_csv_cell(getattr(record, name)) for name in CSV_COLUMNS])
        self._move()

    def flush(self) -> None:
        self.sink.flush()

    def finish(self, summary: Summary) -> None:
        self.sink.close()

    def abort(self) -> None:
        self.sink.abort()


class _TableWriter:
    def __init__(self, sink: _LineSink, summary_text: Callable[[Summary], list[str]]) -> None:
        self.sink = sink
        self.summary_text = summary_text

    def write(self, record: AuditRecord) -> None:
        # Every value through printable: a file name or a signed nodeId holding a newline
        # or an escape sequence must not forge a row or drive the terminal.
        if record.ok:
            line = (
                f"VALID     {shown_id(record.source)}  node "
                f"{printable(record.node_id) if record.node_id else '(none)'}  "
                f"until {printable(record.expiration)}  {printable(record.license_arn)}"
            )
        else:
            reason = record.reason.value if record.reason is not None else "unknown"
            line = (
                f"REJECTED  {shown_id(record.source)}  {reason}: "
                f"{printable(_one_line(record.message))}"
            )
        self.sink.add(line.encode("utf-8", "backslashreplace") + b"\n")

    def flush(self) -> None:
        self.sink.flush()

    def finish(self, summary: Summary) -> None:
        text = "\n".join(["", *self.summary_text(summary), ""])
        self.sink.add(text.encode("utf-8", "backslashreplace"))
        self.sink.close()

    def abort(self) -> None:
        self.sink.abort()


def shown_id(source: str) -> str:
    """A source id as people see it: as it is when printable (the ids sources give always
    are: their file names are escaped already, see :mod:`._sources`), so the table shows
    the id the jsonl and csv hold; escaped by :func:`printable` otherwise (an id a library
    caller made up)."""
    return source if source.isprintable() else printable(source)


def _one_line(text: str) -> str:
    return " ".join(text.split())


# -- whole documents -------------------------------------------------------------------


class _Document:
    """A document written at the end: atomically to a file, or to stdout.

    The temporary file beside the output is created now, so an output that cannot be
    written fails before the first token is read, not after the whole audit.
    """

    def __init__(self, path: str | None, stdout: BinaryIO) -> None:
        self.path = path
        self.stdout = stdout
        self.temporary: str | None = None
        self.descriptor = -1
        if path is not None:
            folder = os.path.dirname(os.path.abspath(path))
            if not os.path.isdir(folder):
                raise OutputError(f"cannot write {path!r}: no folder {folder!r}")
            self._create(Path(path))

    def _create(self, target: Path) -> None:
        prefix = f".{target.name}."
        _remove_stale_temporaries(target.parent, prefix)
        temporary = target.parent / f"{prefix}{secrets.token_hex(6)}.tmp"
        try:
            # 0o666 less the umask, as any new file gets (mkstemp's 0o600 would turn a
            # shared report private); never following a link planted at the name.
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
            descriptor = os.open(temporary, flags, 0o666)
        except OSError as exc:
            raise OutputError(
                f"cannot write {os.fspath(target)!r} (a temporary file beside it cannot be "
                f"created: {exc.strerror or exc}); nothing was audited"
            ) from None
        # Locked while it is ours: a writer killed before the rename leaves it unlocked.
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with contextlib.suppress(OSError):
            mode = stat.S_IMODE(os.stat(target).st_mode)
            os.fchmod(descriptor, mode)  # a rewrite keeps the report's mode
        self.temporary, self.descriptor = os.fspath(temporary), descriptor

    def write(self, parts: Iterator[bytes]) -> None:
        if self.path is None:
            for part in parts:
                self.stdout.write(part)
            self.stdout.flush()
            return
        assert self.temporary is not None
        try:
            with os.fdopen(self.descriptor, "wb") as stream:
                self.descriptor = -1
                for part in parts:
                    stream.write(part)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(self.temporary, self.path)
            self.temporary = None
        except OSError as exc:
            self.discard()
            raise OutputFailed(
                f"cannot write {self.path!r}: {exc.strerror or exc} (the audit is complete "
                "but its report was not written; nothing else was changed)"
            ) from None
        except BaseException:
            self.discard()
            raise

    def discard(self) -> None:
        """Remove the temporary file (an interrupted or failed audit writes nothing)."""
        if self.descriptor >= 0:
            os.close(self.descriptor)
            self.descriptor = -1
        if self.temporary is not None:
            Path(self.temporary).unlink(missing_ok=True)
            self.temporary = None


def _remove_stale_temporaries(folder: Path, prefix: str) -> None:
    """Remove the temporaries of writers of this output that died before renaming."""
    try:
        names = [n for n in os.listdir(folder) if n.startswith(prefix) and n.endswith(".tmp")]
    except OSError:
        return
    for name in names:
        path = folder / name
        try:
            descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                continue
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # a live writer holds it
            if os.stat(path, follow_symlinks=False).st_ino == os.fstat(descriptor).st_ino:
                path.unlink()
        except OSError:
            continue
        finally:
            os.close(descriptor)


class _JsonWriter:
    """Results are spooled to a temporary file (bounded memory), then written after the
    summary: ``{"summary": {...}, "results": [...]}``."""

    def __init__(self, document: _Document) -> None:
        self.document = document
        self.spool = tempfile.TemporaryFile()  # noqa: SIM115  (closed in finish/abort)
        self.count = 0

    def write(self, record: AuditRecord) -> None:
        self.spool.write((b",\n" if self.count else b"\n") + _ENCODER.encode(record))
        self.count += 1

    def flush(self) -> None:
        """Nothing to flush: the document is written whole at the end."""

    def finish(self, summary: Summary) -> None:
        summary_json = summary.report().model_dump_json()

        def parts() -> Iterator[bytes]:
            yield b'{"summary": ' + summary_json.encode("utf-8") + b',\n"results": ['
            self.spool.seek(0)
            while block := self.spool.read(1 << 20):
                yield block
            yield b"\n]}\n"

        try:
            self.document.write(parts())
        finally:
            self.spool.close()

    def abort(self) -> None:
        self.spool.close()
        self.document.discard()


class _HtmlWriter:
    def __init__(self, document: _Document) -> None:
        self.document = document

    def write(self, record: AuditRecord) -> None:
        """Nothing to keep: the summary holds what the report shows."""

    def flush(self) -> None:
        """Nothing to flush: the report is written whole at the end."""

    def finish(self, summary: Summary) -> None:
        from ._html import render_html

        try:
            page = render_html(summary).encode("utf-8")
        except BaseException:
            self.document.discard()
            raise
        self.document.write(iter([page]))

    def abort(self) -> None:
        """Nothing was written (the temporary file goes)."""
        self.document.discard()


# -- reading back ------------------------------------------------------------------------


_NOT_RESUMING = "not resuming over it (the file is left as it is): choose another --output"


def _cut_torn_tail(path: str, complete: int, tail: bytes, start: bytes) -> None:
    """Cut ``tail`` (the bytes after the last newline, at offset ``complete``), but only
    from a file recognised as an audit result: it has complete results, or the tail is
    the start of one."""
    if not tail:
        return
    if complete == 0 and not (start.startswith(tail) or tail.startswith(start)):
        raise OutputError(
            f"{path!r} is not an audit result (its only line does not start like one); "
            + _NOT_RESUMING
        )
    try:
        with open(path, "rb+") as handle:
            handle.truncate(complete)
    except OSError as exc:
        raise OutputError(
            f"cannot repair {path!r} (its last line was cut by a kill): {exc.strerror or exc}"
        ) from None


def _checked(record: AuditRecord, path: str, number: int) -> AuditRecord:
    problem = inconsistency(record)
    if problem is not None:
        raise OutputError(
            f"{path!r} line {number} is not a consistent result ({problem}); " + _NOT_RESUMING
        )
    return record


def _read_jsonl(handle: BinaryIO, path: str) -> Iterator[AuditRecord]:
    complete = 0
    tail = b""
    with handle:
        for number, line in enumerate(handle, 1):
            if not line.endswith(b"\n"):
                tail = line
                break
            try:
                record = _DECODER.decode(line)
            except msgspec.DecodeError as exc:
                raise OutputError(
                    f"{path!r} line {number} is not an audit result ({exc}); {_NOT_RESUMING}, "
                    "or drop --resume to start again"
                ) from None
            yield _checked(record, path, number)
            complete += len(line)
    _cut_torn_tail(path, complete, tail, _JSONL_START)


def _read_csv(handle: BinaryIO, path: str) -> Iterator[AuditRecord]:
    with handle:
        data = handle.read(len(_CSV_HEADER))
        if not data:
            return
        if data != _CSV_HEADER:
            if b"\n" not in data and _CSV_HEADER.startswith(data) and not handle.read(1):
                _cut_torn_tail(path, 0, data, _CSV_HEADER)  # killed writing the header
                return
            raise OutputError(
                f"{path!r} is not a tokenverify audit CSV (its header differs); {_NOT_RESUMING}"
            )
        complete = len(_CSV_HEADER)
        tail = b""
        for number, raw in enumerate(handle, 2):
            if not raw.endswith(b"\n"):
                tail = raw
                break
            # Cells never hold a newline (it is written \\n), so one line is one row.
            row = next(csv.reader([raw.decode("utf-8", "surrogateescape")]), [])
            try:
                record = _record_from_row(row)
            except (ValueError, msgspec.ValidationError) as exc:
                raise OutputError(
                    f"{path!r} line {number} is not an audit result ({exc}); {_NOT_RESUMING}"
                ) from None
            yield _checked(record, path, number)
            complete += len(raw)
    _cut_torn_tail(path, complete, tail, b"")


def _record_from_row(row: list[str]) -> AuditRecord:
    if len(row) != len(CSV_COLUMNS):
        raise ValueError(f"{len(row)} columns, not {len(CSV_COLUMNS)}")
    values: dict[str, object] = {
        name: (_csv_value(cell) if cell else None)
        for name, cell in zip(CSV_COLUMNS, row, strict=True)
    }
    if values["ok"] not in ("true", "false"):
        raise ValueError("ok is neither true nor false")
    values["ok"] = values["ok"] == "true"
    values["message"] = values["message"] or ""
    entitlements = values.get("entitlements")
    if isinstance(entitlements, str):
        values["entitlements"] = msgspec.json.decode(entitlements)
    return msgspec.convert(values, AuditRecord)


# -- the human summary -----------------------------------------------------------------


def summary_lines(summary: Summary, *, top: int = 5) -> list[str]:
    """The summary as a few lines for people (the table format's end; stderr otherwise)."""
    from ._summary_text import summary_lines as lines

    return lines(summary, top=top)


def _time(moment: object) -> str:
    # The library never imports the command line: its own spelling of an instant.
    if isinstance(moment, datetime):
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(moment)
