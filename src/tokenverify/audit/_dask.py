"""Audits across a Dask cluster (``pip install 'tokenverify[dask]'``), same results as local.

Each partition is verified by :func:`check_items`, the function the local process pool
runs, with a verifier cached per worker process (keys parsed once per process). JSON
Lines stores are split into byte ranges; line numbers (hence ids) come from a first pass
in which every range counts its newlines on the cluster, so a partition never has to
read what comes before it. Parquet stores are split by row group.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any

from ._engine import Auditor, check_items
from ._record import AuditRecord
from ._sources import Item, iter_lines, parquet_row_groups, parquet_row_items, path_id

__all__ = ["audit_bag", "iter_records", "jsonl_bag", "parquet_bag"]

DEFAULT_BLOCKSIZE = 64 << 20
_COUNT_BLOCK = 1 << 22


def _dask() -> Any:
    try:
        import dask
        import dask.bag
    except ImportError:
        raise ImportError("the Dask path needs dask: pip install 'tokenverify[dask]'") from None
    return dask


def audit_bag(auditor: Auditor, bag: Any) -> Any:
    """A Dask bag of :class:`AuditRecord`, one per ``(id, payload)`` item of ``bag``."""
    _dask()
    return bag.map_partitions(_audit_partition, auditor)


def jsonl_bag(
    paths: Sequence[str | os.PathLike[str]],
    *,
    blocksize: int = DEFAULT_BLOCKSIZE,
    max_token_size: int | None = None,
) -> Any:
    """A Dask bag of ``(path:line, bytes)`` items from JSON Lines files, ``blocksize``
    bytes per partition, with the ids the local path gives."""
    dask = _dask()
    from dask.delayed import delayed

    from .._input import _document_limit
    from .._token import DEFAULT_MAX_TOKEN_SIZE

    if blocksize < 1:
        raise ValueError("blocksize must be at least 1 byte")
    limit = _document_limit(max_token_size or DEFAULT_MAX_TOKEN_SIZE)
    # Workers read by absolute path (their working folder may differ); ids keep the
    # path as given, as the local path does.
    ranges: list[tuple[str, str, int, int]] = []
    for label in [os.fspath(path) for path in paths]:
        absolute = os.path.abspath(label)
        size = os.path.getsize(absolute)
        ranges.extend(
            (label, absolute, start, min(size, start + blocksize))
            for start in range(0, size, blocksize)
        )
    counts = dask.compute(*[delayed(_count_newlines)(*part[1:]) for part in ranges])
    partitions = []
    before = 0
    for index, ((label, absolute, start, end), count) in enumerate(
        zip(ranges, counts, strict=True)
    ):
        if index == 0 or ranges[index - 1][0] != label:
            before = 0
        partitions.append(delayed(_read_range)(absolute, start, end, before, limit, path_id(label)))
        before += count
    return dask.bag.from_delayed(partitions)


def parquet_bag(
    path: str | os.PathLike[str], column: str, *, max_token_size: int | None = None
) -> Any:
    """A Dask bag of ``(path:row, bytes)`` items, one partition per Parquet row group."""
    dask = _dask()
    from dask.delayed import delayed

    from .._input import _document_limit
    from .._token import DEFAULT_MAX_TOKEN_SIZE

    limit = _document_limit(max_token_size or DEFAULT_MAX_TOKEN_SIZE)
    name = os.fspath(path)
    absolute = os.path.abspath(name)
    partitions = []
    first_row = 1
    for group, rows in enumerate(parquet_row_groups(absolute)):
        partitions.append(
            delayed(parquet_row_items)(absolute, column, group, first_row, limit, path_id(name))
        )
        first_row += rows
    return dask.bag.from_delayed(partitions)


def iter_records(bag: Any, *, window: int = 8) -> Iterator[AuditRecord]:
    """The records of a bag in partition order, computing ``window`` partitions at a time
    (the client holds no more than that)."""
    dask = _dask()
    parts = bag.to_delayed()
    for start in range(0, len(parts), window):
        for records in dask.compute(*parts[start : start + window]):
            yield from records


def _audit_partition(items: Sequence[Item], auditor: Auditor) -> list[AuditRecord]:
    return check_items(auditor._trust, items)


def _count_newlines(path: str, start: int, end: int) -> int:
    count = 0
    with open(path, "rb") as handle:
        handle.seek(start)
        left = end - start
        while left > 0:
            block = handle.read(min(_COUNT_BLOCK, left))
            if not block:
                break
            count += block.count(b"\n")
            left -= len(block)
    return count


def _read_range(
    path: str, start: int, end: int, newlines_before: int, limit: int, label: str | None = None
) -> list[Item]:
    """Items of the lines that start in ``[start, end)``; ``newlines_before`` is how many
    newlines precede ``start`` (the first pass counted them). Ids read ``label:line``."""
    label = path if label is None else label
    with open(path, "rb") as handle:
        first_number = newlines_before + 1
        if start > 0:
            handle.seek(start - 1)
            if handle.read(1) != b"\n":
                # The line under `start` began in the range before: skip to its end.
                position = start
                while True:
                    block = handle.read(1 << 16)
                    if not block:
                        return []
                    newline = block.find(b"\n")
                    if newline >= 0:
                        start = position + newline + 1
                        break
                    position += len(block)
                if start >= end:
                    return []
                first_number += 1
                handle.seek(start)
        return [
            (f"{label}:{number}", line)
            for number, line in iter_lines(
                handle, limit, first_number=first_number, start_offset=start, stop_offset=end
            )
        ]
