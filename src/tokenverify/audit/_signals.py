"""Ctrl-C held back while something must not be cut in half: :func:`sigint_held`."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

__all__ = ["sigint_held"]


@contextlib.contextmanager
def sigint_held() -> Iterator[None]:
    """Hold SIGINT back (POSIX, main thread) for the duration; it is delivered after.

    Elsewhere (Windows, a thread of a host program) this does nothing: the signal mask
    is the process's, and only the main thread may change it.
    """
    block = getattr(signal, "pthread_sigmask", None)
    if block is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = block(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        block(signal.SIG_SETMASK, previous)
