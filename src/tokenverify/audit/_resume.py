"""``--resume``: the ids an earlier run already wrote, held compactly.

Ids of the form ``prefix:number`` (``path:line``, ``table:rowid``) are kept as runs of
consecutive numbers per prefix, so a million lines written in order cost a few bytes, not
a million strings; any other id is kept as is.
"""

from __future__ import annotations

import bisect
import os
from array import array
from collections.abc import Sequence

from ._sources import (
    DirectorySource,
    Source,
    SqliteSource,
    StdinSource,
    id_text,
    path_id,
    split_id_path,
    unescape_id,
)

__all__ = ["DoneIds", "SourceIds", "split_id"]


def split_id(source: str) -> tuple[str, int] | None:
    """``("a.jsonl", 12)`` for ``"a.jsonl:12"``; None when the id has no canonical number
    (``"a.json"``, ``"t:0"``, ``"t:007"``), so that joining back gives the same text."""
    prefix, colon, number = source.rpartition(":")
    if (
        colon
        and 0 < len(number) <= 15
        and number.isascii()
        and number.isdigit()
        and number[0] != "0"
    ):
        return prefix, int(number)
    return None


class _Runs:
    __slots__ = ("ends", "sorted", "starts")

    def __init__(self) -> None:
        self.starts = array("q")
        self.ends = array("q")
        self.sorted = True

    def add(self, number: int) -> None:
        if self.ends and number == self.ends[-1] + 1:
            self.ends[-1] = number
            return
        if self.ends and number <= self.ends[-1]:
            self.sorted = False
        self.starts.append(number)
        self.ends.append(number)

    def normalise(self) -> None:
        if self.sorted:
            return
        merged_starts, merged_ends = array("q"), array("q")
        for start, end in sorted(zip(self.starts, self.ends, strict=True)):
            if merged_ends and start <= merged_ends[-1] + 1:
                merged_ends[-1] = max(merged_ends[-1], end)
            else:
                merged_starts.append(start)
                merged_ends.append(end)
        self.starts, self.ends, self.sorted = merged_starts, merged_ends, True

    def __contains__(self, number: int) -> bool:
        index = bisect.bisect_right(self.starts, number) - 1
        return index >= 0 and number <= self.ends[index]


class DoneIds:
    """A set of source ids, for ``skip=`` in :meth:`Auditor.run`."""

    def __init__(self) -> None:
        self._runs: dict[str, _Runs] = {}
        self._plain: set[str] = set()
        self._count = 0
        self._ready = True

    def add(self, source: str) -> None:
        """Remember one id."""
        self._count += 1
        split = split_id(source)
        if split is None:
            self._plain.add(source)
            return
        runs = self._runs.get(split[0])
        if runs is None:
            runs = self._runs[split[0]] = _Runs()
        runs.add(split[1])
        self._ready = False

    def __contains__(self, source: object) -> bool:
        if not isinstance(source, str):
            return False
        if not self._ready:
            for runs in self._runs.values():
                runs.normalise()
            self._ready = True
        split = split_id(source)
        if split is None:
            return source in self._plain
        found = self._runs.get(split[0])
        return found is not None and split[1] in found

    def __len__(self) -> int:
        """How many ids were added (repeats included)."""
        return self._count

    def distinct(self) -> int:
        """How many different ids were added (fewer than ``len`` when one repeats)."""
        for runs in self._runs.values():
            runs.normalise()
        self._ready = True
        numbered = sum(
            end - start + 1
            for runs in self._runs.values()
            for start, end in zip(runs.starts, runs.ends, strict=True)
        )
        return numbered + len(self._plain)


class SourceIds:
    """Which source each id of an earlier run belongs to, in this run's spelling.

    An earlier run may have named a source ``./store.jsonl`` or ``/abs/store.jsonl``
    where this one says ``store.jsonl``: ids are mapped to this run's spelling through
    the resolved path, so one file is never audited twice under two ids. An id that
    none of the sources holds maps to None (the caller refuses it).
    """

    def __init__(self, sources: Sequence[Source]) -> None:
        self._exact: set[str] = set()  # id path parts of this run, as they are spelled
        self._folders: list[tuple[str, str]] = []  # (id prefix "dir/", real dir)
        self._files: dict[str, str] = {}  # real path -> this run's id path part
        self._real_folders: list[tuple[str, str]] = []  # (real dir, this run's id)
        self._cache: dict[str, str | None] = {}
        for source in sources:
            if isinstance(source, StdinSource):
                self._exact.add("stdin")
            elif isinstance(source, SqliteSource):
                self._exact.add(id_text(source.table))
            elif isinstance(source, DirectorySource):
                label = path_id(source.path)
                self._folders.append((label.rstrip("/") + "/", os.path.realpath(source.path)))
                self._real_folders.append((os.path.realpath(source.path), label))
            else:
                label = path_id(source.path)
                self._exact.add(label)
                self._files[os.path.realpath(source.path)] = label

    def __call__(self, source: str) -> str | None:
        """``source`` in this run's spelling, or None when no source holds it."""
        path, suffix = split_id_path(source)
        if path not in self._cache:
            self._cache[path] = self._resolve(path)
        resolved = self._cache[path]
        return None if resolved is None else resolved + suffix

    def _resolve(self, path: str) -> str | None:
        if path in self._exact or any(path.startswith(prefix) for prefix, _ in self._folders):
            return path
        try:
            real = os.path.realpath(os.fsencode(unescape_id(path)))
        except (ValueError, UnicodeError):
            return None
        name = os.fsdecode(real)
        if name in self._files:
            return self._files[name]
        for folder, label in self._real_folders:
            if os.path.commonpath([folder, name]) == folder and name != folder:
                inside = os.path.relpath(name, folder).split(os.sep)
                return "/".join([label.rstrip("/"), *(id_text(part) for part in inside)])
        return None
