"""``tokenverify audit``: verify a store of saved checkouts, in parallel, into a report.

The command is :func:`tokenverify.audit.run` with trust and policy from flags, progress
on stderr for a person, and the CLI's exit codes: 0 every token valid, 1 any rejected,
2 a usage or source error (and when no token was found at all, or a source could not be
read in full: each such problem is listed, the rest is audited), 130 interrupted.
A fault (disk full, read-only, a vanished folder) is one line naming the file, what was
kept, and the command that finishes the job. Every value printed goes through
:func:`~tokenverify._display.printable`.
This module is imported when the parser is built: only the handler loads the audit.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from typing import TYPE_CHECKING

from .._display import printable
from ._args import Parser, add_policy, add_trust, command, lazy, parse_duration, parse_time
from ._output import CliError, Console

if TYPE_CHECKING:
    from ..audit import SourceFault

__all__ = ["add_audit_command", "audit"]

_AUDIT_EPILOG = """\
SOURCE is a saved response or bare token, a JSON Lines file (one per line; .jsonl, or
any file whose first line stands alone), a folder (read recursively), '-' for stdin,
sqlite:///DB?table=T&column=C (opened read-only; sqlite:////abs/path.db) or
parquet:///FILE?column=C (needs pyarrow). Ids: path, path:line, table:rowid.
--at: now (the default: one instant for the whole audit), issued (was each checkout
valid when it was issued: expiry judged at its own issuedAt), or a TIME
(YYYY-MM-DDThh:mm:ss[Z] or epoch seconds). --keys and the policy flags are those of
'tokenverify verify'.
--format: table (default, for people), jsonl (one result per line: source, ok, reason,
license_arn, node_id, key_fingerprint, expiration, ...), csv, json ({"summary": ...,
"results": [...]}; schema: 'tokenverify schema audit'), html (a self-contained report
with charts: pip install 'tokenverify[audit]').
--grant LICENSE_ARN:NAME=QUANTITY[ UNIT] and --license FILE (saved 'aws license-manager
get-license' JSON; its entitlements' MaxCount and Overage) are what usage is compared
with: the report shows, per license and entitlement, the most held at once, when, on
which nodes, and every period above the grant (over_grant).
--revocations FILE applies a revocation list, as 'verify' does. Files in a folder that
are plainly not checkouts (PEM, keys, policy or revocation files, notes) are skipped and
listed in the report; --strict-sources counts every file as a token.
--resume (jsonl or csv with --output) skips the ids already in FILE and appends the rest;
lines are written whole, so an audit killed at any moment leaves a valid prefix. FILE is
checked first (every line a consistent result for these sources) and left as it is if
refused. The output may not be a source or lie inside an audited folder.
What cannot be read (an unreadable file, a FIFO or device in a folder, a corrupt SQLite
or Parquet page, a last line with no newline yet) is listed as a source problem and not
written as a result: --resume reads it again.
Progress shows on stderr when it is a terminal (pip install 'tokenverify[audit]').

examples:
  tokenverify audit store/ --keys keys.json --node-id node-7
  tokenverify audit archive.jsonl --keys keys.json --at issued --format jsonl \\
      --output audit.jsonl --resume
  tokenverify audit 'sqlite:///checkouts.db?table=checkouts&column=response' \\
      --keys keys.json --format html --output audit.html
  zcat old.jsonl.gz | tokenverify audit - --keys keys.json --format csv --quiet > audit.csv

exit codes: 0 every token valid, 1 any rejected, 2 usage or source error (or no token
found, or a source problem: the rest was audited), 130 interrupted (results written so
far stand: rerun with --resume)."""

_FORMATS = ["table", "json", "jsonl", "csv", "html"]
_MAX_WORKERS = 512


def parse_at(text: str) -> str | float:
    """``--at``: ``now``, ``issued`` or a TIME."""
    if text in ("now", "issued"):
        return text
    return parse_time(text)


def parse_workers(text: str) -> int:
    """``--workers``: processes, 1 to 512."""
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= _MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"{text[:20]!r} is not a number of processes (1 to 512)")
    return int(text)


def add_audit_command(commands: argparse._SubParsersAction[Parser]) -> None:
    """Register ``audit`` with the main parser (called by :func:`tokenverify.cli.build_parser`)."""
    audit = command(
        commands,
        "audit",
        "audit stored checkouts: files, folders, JSON Lines, stdin, SQLite",
        _AUDIT_EPILOG,
    )
    audit.add_argument("sources", nargs="+", metavar="SOURCE", help="where the tokens are")
    add_trust(audit, required=True)
    add_policy(audit)
    audit.add_argument(
        "--at",
        type=parse_at,
        default="now",
        metavar="now|issued|TIME",
        help="judge at this instant (default now)",
    )
    audit.add_argument(
        "--workers",
        type=parse_workers,
        metavar="N",
        help="worker processes (default: one per CPU)",
    )
    audit.add_argument("--format", choices=_FORMATS, default="table", help="default table")
    audit.add_argument(
        "--output", "-o", metavar="FILE", help="write here instead of stdout (json/html atomically)"
    )
    audit.add_argument(
        "--resume", action="store_true", help="skip ids already in --output (jsonl, csv)"
    )
    audit.add_argument(
        "--expiring-within",
        type=parse_duration,
        default=7 * 86400.0,
        metavar="DURATION",
        help="window of the 'expiring' summary, e.g. 7d (default) or 12h",
    )
    audit.add_argument(
        "--quiet", "-q", action="store_true", help="no progress and no summary on stderr"
    )
    _add_report_flags(audit)
    audit.set_defaults(handler=lazy("_audit", "audit"))


def _add_report_flags(audit: argparse.ArgumentParser) -> None:
    # What the report compares with and where it may look: issue 10's flags, together.
    audit.add_argument(
        "--grant",
        action="append",
        default=[],
        metavar="ARN:NAME=QTY",
        help="granted amount, e.g. 'arn:...:license:l-1:Users=10' (repeatable)",
    )
    audit.add_argument(
        "--license",
        action="append",
        default=[],
        metavar="FILE",
        help="saved 'aws license-manager get-license' JSON: its MaxCount grants (repeatable)",
    )
    audit.add_argument(
        "--revocations", metavar="FILE", help="revocation list to apply (tokenverify format)"
    )
    audit.add_argument(
        "--strict-sources",
        action="store_true",
        help="every file is a token (default: files that are not checkouts are skipped)",
    )


def _report_inputs(args: argparse.Namespace) -> tuple[list[object], object]:
    """The grants and revocation list, checked before any token is read (exit 2)."""
    from ..audit._grants import GrantError, grants_from

    try:
        grants: list[object] = list(grants_from(args.grant, args.license))
    except GrantError as exc:
        raise CliError(str(exc)) from None
    revocations: object = None
    if args.revocations is not None:
        from .._revocation import RevocationList

        try:
            revocations = RevocationList.load(args.revocations)
        except (OSError, ValueError) as exc:
            raise CliError(f"--revocations {args.revocations!r}: {exc}") from None
    return grants, revocations


def audit(args: argparse.Namespace, console: Console) -> int:
    """Audit every source; 0 all valid, 1 any rejected, 2 no token or a source error."""
    from .. import audit as library
    from ..audit._progress import open_progress
    from ._keys import load_trust
    from ._verify import build_policy

    if args.resume and (args.output is None or args.format not in library.LINE_FORMATS):
        raise CliError(
            "--resume appends to an output file: use it with --output FILE and --format "
            "jsonl or csv"
        )
    if "-" in args.sources and (sys.stdin is None or sys.stdin.isatty()):
        raise CliError("no input on stdin: pipe checkouts into 'tokenverify audit -'")
    registry = load_trust(args.keys, args.fingerprint, args.algorithms)
    policy = build_policy(args)
    grants, revocations = _report_inputs(args)
    auditor = library.Auditor(registry, policy, at=args.at, revocations=revocations)  # type: ignore[arg-type]
    if revocations is not None:
        from .._files import file_sha256

        auditor.revocations_file = (args.revocations, file_sha256(args.revocations))
    problems = _Problems()
    progress = open_progress(quiet=args.quiet)
    try:
        try:
            summary = library.run(
                args.sources,
                auditor,
                format=args.format,
                output=args.output,
                resume=args.resume,
                workers=args.workers,
                expiring_within=args.expiring_within,
                on_record=progress.advance if progress is not None else None,
                on_problem=problems.add,
                grants=grants,  # type: ignore[arg-type]
                strict_sources=args.strict_sources,
            )
        finally:
            if progress is not None:
                progress.close()  # before any message, so the display does not cover it
    except library.OutputFailed as exc:
        problems.show(console)
        raise CliError(f"{exc}; {_kept(args)}") from None
    except (library.SourceError, library.OutputError) as exc:
        raise CliError(str(exc)) from None
    except library.WorkerCrashed as exc:
        raise CliError(f"{exc}; {_kept(args)}") from None
    except KeyboardInterrupt:
        console.error(f"tokenverify: interrupted; {_kept(args)}")
        return 130
    except OSError as exc:  # reading stdin, or anything else at the edge
        where = f" {printable(exc.filename)!r}" if exc.filename else ""
        raise CliError(
            f"cannot read or write{where}: {exc.strerror or exc}; {_kept(args)}"
        ) from None
    problems.show(console)
    if summary.total == 0 and not problems.count:
        raise CliError(f"no token found in {', '.join(printable(s) for s in args.sources)}")
    if not args.quiet and args.format != "table":
        for line in library.summary_lines(summary):
            console.error(line)
    if problems.count:
        console.error(
            f"tokenverify: error: {problems.count:,} source problem"
            f"{'s' if problems.count > 1 else ''} (listed above); everything else was audited; "
            f"{_kept(args, finished=True)}"
        )
        return 2
    return 1 if summary.rejected else 0


class _Problems:
    """Source problems as they are reported: counted, the first few kept to be listed."""

    SHOWN = 20

    def __init__(self) -> None:
        self.count = 0
        self.first: list[SourceFault] = []

    def add(self, fault: SourceFault) -> None:
        self.count += 1
        if len(self.first) < self.SHOWN:
            self.first.append(fault)

    def show(self, console: Console) -> None:
        for fault in self.first:
            console.error(
                f"tokenverify: source problem: {printable(fault.source)}: "
                f"{printable(fault.message)}"
            )
        if self.count > len(self.first):
            console.error(f"tokenverify: ... and {self.count - len(self.first):,} more")
        self.first.clear()


def _kept(args: argparse.Namespace, *, finished: bool = False) -> str:
    if args.format in ("json", "html"):
        if finished:
            return f"the {args.format} report covers what could be read"
        return (
            f"nothing written ({args.format} is written whole at the end; "
            "--format jsonl --output FILE --resume can be resumed)"
        )
    if args.output is None:
        if finished:
            return "fix them and audit again"
        return "results so far went to stdout; use --output FILE to be able to resume"
    what = "once fixed, read them with" if finished else "finish with"
    return (
        f"{_results_in(args.output, args.format):,} results in {printable(args.output)} "
        f"are kept; {what}: {_resume_command(args)}"
    )


def _resume_command(args: argparse.Namespace) -> str:
    """This command line with --resume, as a person would type it again."""
    argv = sys.argv[1:]
    if "audit" not in argv or args.output is None:
        return "the same command with --resume"
    if "--resume" not in argv:
        argv = [*argv, "--resume"]
    return printable(shlex.join(["tokenverify", *argv]))


def _results_in(path: str, format: str) -> int:
    # Count the complete lines actually on disk: the one number a resume relies on.
    lines = 0
    if not os.path.isfile(path):  # /dev/full, a FIFO: nothing to count, nothing to resume
        return 0
    try:
        with open(path, "rb") as handle:
            while block := handle.read(1 << 20):
                lines += block.count(b"\n")
    except OSError:
        return 0
    return max(lines - 1, 0) if format == "csv" else lines
