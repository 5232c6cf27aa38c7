"""The audit never writes over what it reads: the output is checked against every source.

``tokenverify audit store.jsonl -o store.jsonl`` would truncate the store before reading
it (the store may be the only archive of those checkouts). Before the first byte is
written, the output is compared with every source by device and inode (symlinks and
other spellings resolved), and by place: an output inside an audited folder would be
read back as tokens by the next run. (``cat`` refuses the same: "input file is output
file".)
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from ._output import OutputError
from ._sources import DirectorySource, FileSource, ParquetSource, Source, SqliteSource, StdinSource

__all__ = ["check_output_apart"]

#: The files SQLite keeps beside a database, all part of it.
_SQLITE_SIDE_FILES = ("", "-journal", "-wal", "-shm")


def check_output_apart(output: str, sources: Sequence[Source]) -> None:
    """Raise :class:`OutputError` (naming both) when ``output`` is, or would be read as,
    one of ``sources``."""
    target = _identity(output)
    real_output = os.path.realpath(output)
    for source in sources:
        if isinstance(source, DirectorySource):
            folder = os.path.realpath(source.path)
            if os.path.commonpath([folder, real_output]) == folder:
                _refuse(output, f"lies inside the audited folder {source.path!r}", "folder")
            continue
        if target is None:
            continue  # a new file cannot be an existing source
        if isinstance(source, StdinSource):
            if _stdin_identity() == target:
                _refuse(output, "is the file on standard input", "source")
            continue
        if isinstance(source, SqliteSource):
            paths = [source.database + side for side in _SQLITE_SIDE_FILES]
        elif isinstance(source, FileSource | ParquetSource):
            paths = [source.path]
        else:  # pragma: no cover - every kind is above
            continue
        for path in paths:
            if _identity(path) == target:
                _refuse(output, f"is the source {path!r}", "source")


def _refuse(output: str, what: str, kind: str) -> None:
    raise OutputError(
        f"the output {output!r} {what}: writing it would destroy the {kind} "
        "being audited; choose an --output outside the sources"
    )


def _identity(path: str) -> tuple[int, int] | None:
    try:
        status = os.stat(path)  # follows symlinks: a link to a source is that source
    except OSError:
        return None
    return status.st_dev, status.st_ino


def _stdin_identity() -> tuple[int, int] | None:
    try:
        status = os.fstat(sys.stdin.fileno())
    except (OSError, ValueError, AttributeError):
        return None
    return status.st_dev, status.st_ino
