"""``tokenverify.cli.main``: parse, dispatch to the command's handler, report its failure.

A thin dispatcher: the parser is :func:`tokenverify.cli.build_parser`, each command's
handler is in its own module, imported only when that command runs. Exit codes: 0 valid
(or done), 1 rejected, 2 usage or configuration error, 130 interrupted. Every error is one
line on stderr, with every non-printable character escaped (``_display.printable``);
``--debug`` adds the traceback.
An ``OSError`` that reaches here (full disk, read-only folder, permission, vanished
file) is one line naming the file and what to do. Ctrl-C is caught from the first line
of :func:`main` on, through the lazy imports, to the last flush.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Sequence

from ._args import Handler
from ._output import CliError, Console, StreamError, describe_os_error, one_line

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    previous = _catch_interrupts()
    try:
        return _main(argv)
    except KeyboardInterrupt:
        # Anywhere: parsing, a lazy import, a blocked read, a lock wait, an error line.
        _interrupted()
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _catch_interrupts() -> signal.Handlers | Callable[..., object] | int | None:
    """Ctrl-C raises KeyboardInterrupt once; a second one while we wind down just exits."""
    if threading.current_thread() is not threading.main_thread():
        return None  # main() called from a thread of a host program: leave its signals
    previous = signal.getsignal(signal.SIGINT)
    if previous is signal.SIG_IGN or previous is None:
        return None  # started with Ctrl-C ignored (nohup, a background job): keep it so
    main_pid = os.getpid()

    def first(signum: int, frame: object) -> None:
        if os.getpid() == main_pid:  # not in a forked worker: its parent winds it down
            signal.signal(signal.SIGINT, second)
        raise KeyboardInterrupt

    def second(signum: int, frame: object) -> None:
        if os.getpid() != main_pid:
            raise KeyboardInterrupt
        _interrupted()
        os._exit(130)

    signal.signal(signal.SIGINT, first)
    return previous


def _interrupted() -> None:
    try:
        sys.stderr.write("tokenverify: interrupted\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass  # stderr is gone too: the exit code still says it


def _main(argv: Sequence[str] | None) -> int:
    from ._parser import build_parser  # after main's first line: Ctrl-C is caught

    parser = build_parser()
    try:
        args, unknown = parser.parse_known_args(argv)
        if unknown:
            # Reported by the command's own parser, so the hint names its --help.
            command_parser: argparse.ArgumentParser = getattr(args, "command_parser", parser)
            command_parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    except SystemExit as exit_:  # --help, --version, usage errors
        return exit_.code if isinstance(exit_.code, int) else 0 if exit_.code is None else 2
    console = Console(args.color)
    handler: Handler = args.handler
    try:
        code = handler(args, console)
    except CliError as exc:
        if args.debug:
            traceback.print_exc()
        console.error(f"tokenverify: error: {one_line(exc.message)}")
        return exc.exit_code
    except BrokenPipeError:
        _silence_stdout()
        return 141
    except OSError as exc:
        if args.debug:
            traceback.print_exc()
        stream = exc.stream if isinstance(exc, StreamError) else None
        if stream is not None:
            _silence_stdout()
        console.error(f"tokenverify: error: {one_line(describe_os_error(exc, what=stream))}")
        return 2
    except Exception as exc:
        if args.debug:
            traceback.print_exc()
        hint = "" if args.debug else " (run with --debug for the traceback)"
        console.error(
            f"tokenverify: internal error: {type(exc).__name__}: {one_line(str(exc))}{hint}"
        )
        return 2
    return _flushed(code, console)


def _flushed(code: int, console: Console) -> int:
    """Flush stdout here, where a failure can still be reported (not at interpreter exit)."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
        return 141
    except OSError as exc:
        _silence_stdout()
        reason = describe_os_error(exc, what="standard output")
        console.error(f"tokenverify: error: {one_line(reason)}")
        return 2
    return code


def _silence_stdout() -> None:
    # The reader went away (| head) or the disk is full: let nobody flush into it again.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
