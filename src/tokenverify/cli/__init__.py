"""The ``tokenverify`` command line. Imported by the console script, never by the library.

:func:`main` runs it; :func:`build_parser` builds its whole argparse tree (the docs render
the CLI reference from it). Each command's handler is a module of its own, imported only
when that command runs. Exit codes: 0 valid (or done), 1 rejected, 2 usage or
configuration error, 130 interrupted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._main import main

if TYPE_CHECKING:
    import argparse

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The ``tokenverify`` parser: every command, flag, help text and example.

    Each command's handler is the ``handler`` default of its subparser, imported only
    when it runs. The argparse tree is imported here, on the first call, not with the
    package: :func:`main` catches Ctrl-C from its first line, and building the parser
    comes after that line.
    """
    from ._parser import build_parser as build

    return build()
