"""Progress on stderr while an audit runs: rich's live display, only for a person.

Shown only when stderr is a terminal and ``--quiet`` is not given, and only when rich
(the ``audit`` extra) is installed; a pipe or a log file never receives control codes.
``NO_COLOR`` is honoured by rich itself.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from ._record import AuditRecord

__all__ = ["Progress", "open_progress"]

_REFRESH_SECONDS = 0.1


class Progress:
    """Counts records and refreshes the display at most ten times a second."""

    def __init__(self, stream: TextIO, description: str) -> None:
        from rich.console import Console
        from rich.progress import Progress as RichProgress
        from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

        self._display: Any = RichProgress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TextColumn("[bold]{task.completed:,}[/] checked"),
            TextColumn("[green]{task.fields[ok]:,} valid"),
            TextColumn("[red]{task.fields[rejected]:,} rejected"),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            console=Console(file=stream),
            transient=True,
        )
        self._task = self._display.add_task(description, total=None, ok=0, rejected=0, rate="")
        self._display.start()
        self._started = time.monotonic()
        self._shown = self._started
        self.ok = 0
        self.rejected = 0

    def advance(self, record: AuditRecord) -> None:
        """Count one record."""
        if record.ok:
            self.ok += 1
        else:
            self.rejected += 1
        now = time.monotonic()
        if now - self._shown >= _REFRESH_SECONDS:
            self._shown = now
            self._show(now)

    def _show(self, now: float) -> None:
        done = self.ok + self.rejected
        rate = done / max(now - self._started, 1e-9)
        self._display.update(
            self._task, completed=done, ok=self.ok, rejected=self.rejected, rate=f"{rate:,.0f}/s"
        )

    def close(self) -> None:
        """Remove the display (it is transient: the summary follows it)."""
        self._show(time.monotonic())
        self._display.stop()


def open_progress(
    *, quiet: bool, stream: TextIO | None = None, description: str = "auditing"
) -> Progress | None:
    """A progress display on ``stream`` (stderr) if a person is watching, else None."""
    stream = stream if stream is not None else sys.stderr
    if quiet or stream is None:
        return None
    isatty = getattr(stream, "isatty", None)
    if not (isatty and isatty()):
        return None
    try:
        return Progress(stream, description)
    except ImportError:  # no rich: no progress, and no complaint about it
        return None
