"""Clock rollback detection: a persisted high-water mark of trusted time.

A license check on a machine the licensee controls can be fooled by turning the clock
back until an expired checkout looks current. ``ClockGuard`` remembers the latest time it
has seen, from the wall clock and from signed ``issuedAt`` values (the issuer's clock,
which the licensee does not control), and refuses a wall clock earlier than that mark by
more than the policy's leeway.

What it proves: that this machine's clock has not gone back since the state file was
last written, and is not earlier than any checkout it verified was issued. What it cannot
prove: anything before the first run, or after the state file is deleted, restored from
a backup, or edited by someone with write access to it. A missing file starts a new mark
(``require_state=False``, the default) or is refused (``require_state=True``, for
products that create the state at installation); an unreadable or invalid file is always
refused, since damaging it is the obvious way to reset the mark.

Updates are atomic (temporary file, fsync, rename) and serialised across processes by
an exclusive lock on ``<path>.lock``. A state that cannot be locked or written refuses
verification too: a mark that can no longer rise would let the clock go back to it.
The lock file is opened without following symlinks (a link planted there is refused,
not followed to a file of the planter's choosing), and a state path that is a FIFO,
device or folder is refused before it is opened, so a check never blocks on it.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from . import _json
from ._errors import Reason, TokenRejected
from ._files import NotRegularFile, exclusive_lock, read_regular_file, write_atomically
from ._times import MAX_EPOCH

__all__ = ["ClockGuard"]

_FORMAT = "tokenverify-clock"
_MAX_STATE = 4096
_MEMBERS = frozenset(["format", "version", "high_water_mark"])


class ClockGuard:
    """Refuse verification when the wall clock is behind the time already seen."""

    __slots__ = ("path", "require_state")

    def __init__(self, path: str | os.PathLike[str], *, require_state: bool = False) -> None:
        self.path = Path(path)
        self.require_state = require_state

    def initialize(self, now: float | None = None) -> None:
        """Create the state now (at installation) if it does not exist yet."""
        mark = _checked_time(time.time() if now is None else now, "now")
        with self._locked():
            if not self.path.exists():
                self._write(mark)

    def high_water_mark(self) -> float | None:
        """The mark in epoch seconds, or None when no state exists yet."""
        with self._locked():
            return self._read()

    def observe(self, now: float, signed_time: float, leeway: float) -> bool:
        """Check ``now`` against the mark, then raise the mark to ``max(now, signed_time)``.

        Returns True when there was no state and this call started a new mark (the
        verifier's ``clock_mark_started`` warning), False when an existing mark was used.

        Raises ``TokenRejected(clock_rollback)`` without changing the state when ``now`` is
        more than ``leeway`` seconds behind the mark, or the state cannot be trusted, locked
        or written. ``ValueError`` if ``now`` or ``signed_time`` is not an instant in
        years 1970 to 9999 (such a mark could never be read back).
        """
        now = _checked_time(now, "now")
        signed_time = _checked_time(signed_time, "signed_time")
        try:
            with self._locked():
                mark = self._read()
                if mark is not None and now < mark - leeway:
                    raise TokenRejected(
                        Reason.clock_rollback,
                        f"this machine's clock reads {mark - now:.0f} s before the latest time "
                        f"already seen (state in {self.path}); set the clock right",
                    )
                newest = max(now, signed_time) if mark is None else max(mark, now, signed_time)
                if newest != mark:
                    self._write(newest)
                return mark is None
        except NotRegularFile as exc:
            raise _untrusted(Path(exc.filename), str(exc.strerror)) from None
        except OSError as exc:
            # Fail closed: a read-only or full disk would freeze the mark where a clock
            # turned back just past it goes unnoticed.
            raise _untrusted(self.path, f"cannot be locked or updated ({exc.strerror})") from None

    def _write(self, mark: float) -> None:
        document = {"format": _FORMAT, "version": 1, "high_water_mark": mark}
        write_atomically(self.path, json.dumps(document).encode("ascii") + b"\n")

    def _read(self) -> float | None:
        try:
            data = read_regular_file(self.path, _MAX_STATE)
        except FileNotFoundError:
            if self.require_state:
                raise _untrusted(self.path, "is missing") from None
            return None
        except OSError as exc:
            raise _untrusted(self.path, f"cannot be read ({exc.strerror})") from None
        if len(data) > _MAX_STATE:  # before parsing: the size bounds the nesting too
            raise _untrusted(self.path, "is not a valid clock state")
        try:
            # Strict JSON (UTF-8, no duplicate names, no NaN) and exactly our members.
            document = _json.loads_object(data)
        except ValueError:
            raise _untrusted(self.path, "is not a valid clock state") from None
        mark: object = document.get("high_water_mark")
        version: object = document.get("version")
        if not (
            document.keys() == _MEMBERS
            and document["format"] == _FORMAT
            and type(version) is int  # not true, not 1.0
            and version == 1
            and isinstance(mark, int | float)
            and not isinstance(mark, bool)
            and 0 <= mark < MAX_EPOCH  # also false for NaN (refused by the parser anyway)
        ):
            raise _untrusted(self.path, "is not a valid clock state")
        return float(mark)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with exclusive_lock(self.path.with_name(self.path.name + ".lock")):
            yield

    def __repr__(self) -> str:
        return f"<ClockGuard {str(self.path)!r}>"


def _checked_time(value: float, name: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 <= value < MAX_EPOCH
    ):
        raise ValueError(f"{name} must be epoch seconds in years 1970 to 9999, not {value!r}")
    return float(value)


def _untrusted(path: Path, problem: str) -> TokenRejected:
    return TokenRejected(
        Reason.clock_rollback,
        f"the clock state {path} {problem}, so a clock rollback cannot be ruled out; "
        "restore the file, or delete it to start a new mark (the vendor may require support)",
    )
