"""The ``tokenverify`` command. Imported only by the console script, never by the library."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="tokenverify", description="Verify AWS License Manager checkout tokens offline."
    )
    parser.add_argument("--version", action="version", version=f"tokenverify {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="mint a demo issuer and saved checkouts, then verify them as an app would"
    )
    demo.add_argument("--dir", type=Path, default=Path("scratch/demo"), help="where to write")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from ._demo import run_demo

        return run_demo(args.dir)
    parser.error(f"unknown command {args.command}")  # pragma: no cover - argparse exits first
    return 2


if __name__ == "__main__":
    sys.exit(main())
