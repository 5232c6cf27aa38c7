"""Writing audit results (table, json, jsonl, csv, html) and reading them back to resume.

Line formats (jsonl, csv) are written as whole lines: results are encoded into a buffer
and handed to the operating system a batch of complete lines at a time, so a process
killed between writes leaves a file of complete lines, a valid prefix of the audit in
source order. (Only a kill landing inside the kernel's copy of a batch can cut its last
line; :func:`read_results` drops such a torn tail before resuming.) Whole documents
(json, html) are written to a temporary file beside the output and renamed over it at
the end, so a reader never sees half of one.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Literal, Protocol

import msgspec

from .._errors import Reason
from ._record import AuditRecord
from ._summary import Summary

__all__ = [
    "CSV_COLUMNS",
    "FORMATS",
    "LINE_FORMATS",
    "Format",
    "OutputError",
    "ResultWriter",
    "format_window",
    "open_writer",
    "read_results",
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
_CSV_ESCAPES = re.compile(r"\\(.)")
_CSV_UNESCAPE = {"\\": "\\", "n": "\n", "r": "\r"}


class OutputError(ValueError):
    """The output cannot be written, or an existing one cannot be resumed."""


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
        sink = _LineSink(_open_lines(output, append=resume) if output else out, output is not None)
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

    A torn last line (no newline at the end) is cut off the file first: it is the one
    thing a kill at the wrong instant can leave. Anything else that does not read as a
    result is an :class:`OutputError`: resuming never writes over what it cannot read.
    """
    if format not in LINE_FORMATS:
        raise OutputError(f"--resume needs a line format (jsonl or csv), not {format}")
    try:
        _cut_torn_tail(path)
        handle = open(path, "rb")  # noqa: SIM115  (closed by the generators below)
    except FileNotFoundError:
        return iter(())
    except OSError as exc:
        raise OutputError(f"cannot read {path!r} to resume: {exc.strerror or exc}") from None
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


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Hold SIGINT back (POSIX, main thread) for the duration; it is delivered after."""
    block = getattr(signal, "pthread_sigmask", None)
    if block is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = block(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        block(signal.SIG_SETMASK, previous)


class _LineSink:
    """Batches whole lines; hands them over at 64 KiB or every half second."""

    def __init__(self, stream: BinaryIO, owned: bool) -> None:
        self.stream = stream
        self.owned = owned
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
        with _interrupts_deferred():
            while self.buffer:
                written = self.stream.write(self.buffer)
                del self.buffer[: len(self.buffer) if written is None else written]
            self.stream.flush()

    def close(self) -> None:
        self.flush()
        if self.owned:
            self.stream.close()


class _JsonlWriter:
    def __init__(self, sink: _LineSink) -> None:
        self.sink = sink

    def write(self, record: AuditRecord) -> None:
        self.sink.add(_ENCODER.encode(record) + b"\n")

    def flush(self) -> None:
        self.sink.flush()

    def finish(self, summary: Summary) -> None:
        self.sink.close()

    def abort(self) -> None:
        self.sink.close()


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
        text = _CSV_ESCAPES.sub(lambda m: _CSV_UNESCAPE.get(m.group(1), m.group(0)), text)
    return text


class _CsvWriter:
    def __init__(self, sink: _LineSink, *, header: bool) -> None:
        self.sink = sink
        self.text = io.StringIO()
        self.rows = csv.writer(self.text, lineterminator="\n")
        if header:
            self.rows.writerow(CSV_COLUMNS)
            self._move()

    def _move(self) -> None:
        self.sink.add(self.text.getvalue().encode("utf-8", "surrogatepass"))
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
        self.sink.close()


class _TableWriter:
    def __init__(self, sink: _LineSink, summary_text: Callable[[Summary], list[str]]) -> None:
        self.sink = sink
        self.summary_text = summary_text

    def write(self, record: AuditRecord) -> None:
        if record.ok:
            line = (
                f"VALID     {record.source}  node {record.node_id or '(none)'}  "
                f"until {record.expiration}  {record.license_arn}"
            )
        else:
            reason = record.reason.value if record.reason is not None else "unknown"
            line = f"REJECTED  {record.source}  {reason}: {_one_line(record.message)}"
        self.sink.add(line.encode("utf-8", "backslashreplace") + b"\n")

    def flush(self) -> None:
        self.sink.flush()

    def finish(self, summary: Summary) -> None:
        text = "\n".join(["", *self.summary_text(summary), ""])
        self.sink.add(text.encode("utf-8", "backslashreplace"))
        self.sink.close()

    def abort(self) -> None:
        self.sink.close()


def _one_line(text: str) -> str:
    return " ".join(text.split())


# -- whole documents -------------------------------------------------------------------


class _Document:
    """A document written at the end: atomically to a file, or to stdout."""

    def __init__(self, path: str | None, stdout: BinaryIO) -> None:
        self.path = path
        self.stdout = stdout
        if path is not None:
            folder = os.path.dirname(os.path.abspath(path))
            if not os.path.isdir(folder):
                raise OutputError(f"cannot write {path!r}: no folder {folder!r}")

    def write(self, parts: Iterator[bytes]) -> None:
        if self.path is None:
            for part in parts:
                self.stdout.write(part)
            self.stdout.flush()
            return
        target = Path(self.path)
        handle, temporary = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
        )
        try:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temporary, 0o666 & ~umask)
            with os.fdopen(handle, "wb") as stream:
                for part in parts:
                    stream.write(part)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


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


class _HtmlWriter:
    def __init__(self, document: _Document) -> None:
        self.document = document

    def write(self, record: AuditRecord) -> None:
        """Nothing to keep: the summary holds what the report shows."""

    def flush(self) -> None:
        """Nothing to flush: the report is written whole at the end."""

    def finish(self, summary: Summary) -> None:
        from ._html import render_html

        self.document.write(iter([render_html(summary).encode("utf-8")]))

    def abort(self) -> None:
        """Nothing was written."""


# -- reading back ------------------------------------------------------------------------


def _cut_torn_tail(path: str) -> None:
    with open(path, "rb+") as handle:
        size = handle.seek(0, os.SEEK_END)
        if size == 0:
            return
        handle.seek(size - 1)
        if handle.read(1) == b"\n":
            return
        end = size
        while end > 0:
            start = max(0, end - (1 << 16))
            handle.seek(start)
            block = handle.read(end - start)
            newline = block.rfind(b"\n")
            if newline >= 0:
                handle.truncate(start + newline + 1)
                return
            end = start
        handle.truncate(0)


def _read_jsonl(handle: BinaryIO, path: str) -> Iterator[AuditRecord]:
    with handle:
        for number, line in enumerate(handle, 1):
            try:
                yield _DECODER.decode(line)
            except msgspec.DecodeError as exc:
                raise OutputError(
                    f"{path!r} line {number} is not an audit result ({exc}); not resuming "
                    "over it: choose another --output, or drop --resume to start again"
                ) from None


def _read_csv(handle: BinaryIO, path: str) -> Iterator[AuditRecord]:
    with handle:
        text = io.TextIOWrapper(handle, encoding="utf-8", errors="surrogateescape", newline="")
        rows = csv.reader(text)
        header = next(rows, None)
        if header is None:
            return
        if tuple(header) != CSV_COLUMNS:
            raise OutputError(f"{path!r} is not a tokenverify audit CSV (its header differs)")
        for number, row in enumerate(rows, 2):
            try:
                yield _record_from_row(row)
            except (ValueError, msgspec.ValidationError) as exc:
                raise OutputError(
                    f"{path!r} line {number} is not an audit result ({exc}); not resuming"
                ) from None


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


def format_window(seconds: float) -> str:
    """``7 d``, ``36 h``, ``90 min``, ``45 s``: a window as people set it."""
    whole = int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if whole >= size and whole % size == 0:
            return f"{whole // size} {unit}"
    return f"{whole} s"


def summary_lines(summary: Summary, *, top: int = 5) -> list[str]:
    """The summary as a few lines for people (the table format's end; stderr otherwise)."""
    from ._summary_text import summary_lines as lines

    return lines(summary, top=top)


def _time(moment: object) -> str:
    # The library never imports the command line: its own spelling of an instant.
    if isinstance(moment, datetime):
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(moment)
