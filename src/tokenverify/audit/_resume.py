"""``--resume``: the ids an earlier run already wrote, held compactly.

Ids of the form ``prefix:number`` (``path:line``, ``table:rowid``) are kept as runs of
consecutive numbers per prefix, so a million lines written in order cost a few bytes, not
a million strings; any other id is kept as is.
"""

from __future__ import annotations

import bisect
from array import array

__all__ = ["DoneIds", "split_id"]


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
