"""Audit stored checkouts at scale: which are genuine, tampered, valid, bound where, signed
by which key, expiring when.

>>> from tokenverify import audit
>>> auditor = audit.Auditor("keys.json", tv.Policy(node_id="node-7"), at="issued")
>>> for record in auditor.run(["store/", "sqlite:///c.db?table=checkouts&column=response"]):
...     print(record.source, record.ok, record.reason)          # in source order
>>> summary = audit.run(["store/"], auditor, format="jsonl", output="audit.jsonl", resume=True)
>>> summary.report().by_reason                                   # {"ok": 980, "expired": 20}

Sources (see :func:`parse_source`): files and folders of saved responses or bare
tokens, JSON Lines, ``-`` (stdin), ``sqlite:///DB?table=T&column=C`` (read-only) and
``parquet:///FILE?column=C``. Every result carries a stable id (``path``,
``path:line``, ``table:rowid``). Work runs in worker processes (keys parsed once per
worker) with bounded memory; results come back in source order. On Dask
(``tokenverify[dask]``): :func:`audit_bag`, :func:`jsonl_bag`, :func:`parquet_bag`,
:func:`iter_records`.

Errors: :class:`SourceError` (a source cannot be used), :class:`OutputError` (the output
cannot be written or resumed, or it is one of the sources), :class:`WorkerCrashed` (a
worker process died; results written so far stand and ``resume`` continues). A bad
*token* is never an error: it is a record with ``ok=False`` and a
:class:`~tokenverify.Reason`. A part of a source that cannot be read (a corrupt page, an
unreadable file, a FIFO in a folder, an incomplete last line) is a :class:`SourceFault`
given to ``on_problem``: never written as a result, so ``resume`` reads it again.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, BinaryIO

import msgspec

from ._dask import audit_bag, iter_records, jsonl_bag, parquet_bag
from ._engine import At, Auditor, WorkerCrashed, default_workers
from ._grants import GRANT_SYNTAX, Grant, GrantError, grants_from, load_license, parse_grant
from ._inventory import Inventory
from ._output import (
    FORMATS,
    LINE_FORMATS,
    Format,
    OutputError,
    OutputFailed,
    ResultWriter,
    open_writer,
    read_results,
    summary_lines,
)
from ._overlap import check_output_apart
from ._provenance import ProvenanceSource, results_sha256
from ._record import CONTRACT_FIELDS, AuditRecord
from ._resume import DoneIds, SourceIds
from ._sources import (
    SOURCE_SYNTAX,
    Source,
    SourceError,
    SourceFault,
    SourceProblem,
    iter_items,
    parse_source,
    parse_sources,
)
from ._summary import DEFAULT_EXPIRING_WINDOW, Summary

if TYPE_CHECKING:
    from collections.abc import Iterator

    from ..formats._audit_report import AuditReport, AuditResult, AuditSummary

__all__ = [
    "CONTRACT_FIELDS",
    "DEFAULT_EXPIRING_WINDOW",
    "FORMATS",
    "GRANT_SYNTAX",
    "LINE_FORMATS",
    "SOURCE_SYNTAX",
    "At",
    "AuditRecord",
    "AuditReport",
    "AuditResult",
    "AuditSummary",
    "Auditor",
    "DoneIds",
    "Format",
    "Grant",
    "GrantError",
    "Inventory",
    "OutputError",
    "OutputFailed",
    "ResultWriter",
    "Source",
    "SourceError",
    "SourceFault",
    "SourceProblem",
    "Summary",
    "WorkerCrashed",
    "audit_bag",
    "default_workers",
    "grants_from",
    "iter_items",
    "iter_records",
    "json_schema",
    "jsonl_bag",
    "load_license",
    "open_writer",
    "parquet_bag",
    "parse_grant",
    "parse_source",
    "parse_sources",
    "read_results",
    "render_html",
    "results_sha256",
    "run",
    "summarize",
    "summary_lines",
]


def run(
    sources: Sequence[str | os.PathLike[str] | Source],
    auditor: Auditor,
    *,
    format: Format = "jsonl",
    output: str | None = None,
    resume: bool = False,
    workers: int | None = None,
    expiring_within: float = DEFAULT_EXPIRING_WINDOW,
    on_record: Callable[[AuditRecord], None] | None = None,
    stdout: BinaryIO | None = None,
    on_problem: Callable[[SourceFault], None] | None = None,
    grants: Sequence[Grant] = (),
    strict_sources: bool = False,
) -> Summary:
    """Audit ``sources`` into ``output`` (None: stdout) as ``format``; return the summary.

    With ``resume`` (jsonl or csv into a file), ids already in ``output`` are not audited
    again, their results count in the summary, and new results are appended. Everything
    is checked (sources, output, extras) before the first token is read. On
    ``KeyboardInterrupt`` or :class:`WorkerCrashed`, the complete lines written so far
    stay (a whole-document format writes nothing) and the exception propagates.

    ``output`` must not be a source, nor lie inside an audited folder (:class:`OutputError`
    before anything is written). With ``on_problem``, what cannot be read is reported
    there and not written (see :class:`SourceFault`); without it, it is a rejection.

    Whole files that are plainly not checkouts are skipped and listed in the summary's
    provenance (``strict_sources``: every file is a token). ``grants`` (see
    :func:`grants_from`) are what usage is compared with.
    """
    if format not in FORMATS:
        raise OutputError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")
    if resume and (output is None or format not in LINE_FORMATS):
        raise OutputError(
            "resuming needs an output file in a line format: --format jsonl or csv with --output"
        )
    if format == "html":
        from ._html import charts_available

        if not charts_available():
            raise OutputError(
                "the HTML report draws its charts with matplotlib: pip install 'tokenverify[audit]'"
            )
    parsed = parse_sources(sources)
    if output is not None:
        check_output_apart(output, parsed)
    summary = Summary(auditor.at, expiring_within=expiring_within, grants=grants)
    inventory = Inventory(strict=strict_sources, counts=[0] * len(parsed))
    revocations_file = getattr(auditor, "revocations_file", None)
    summary.provenance = ProvenanceSource(
        auditor,
        [os.fspath(s) if isinstance(s, str | os.PathLike) else repr(s) for s in sources],
        inventory,
        revocations_file[0] if revocations_file else None,
        revocations_file[1] if revocations_file else None,
    )
    done: _Hits | None = None
    if resume:
        assert output is not None
        done = _Hits(_read_done(output, format, parsed, summary))
    writer = open_writer(format, output, resume=resume, stdout=stdout)
    try:
        records = auditor.run(
            parsed,
            workers=workers,
            skip=done,
            on_fault=on_problem,
            exclude=() if output is None else (output,),
            inventory=inventory,
        )
        for record in records:
            writer.write(record)
            summary.add(record)
            if on_record is not None:
                on_record(record)
    except BaseException:
        writer.abort()
        raise
    writer.finish(summary)
    if done is not None and done.hits < done.ids.distinct():
        raise OutputError(
            f"{done.ids.distinct() - done.hits:,} results in {output!r} name items these "
            "sources do not hold (lines or rows no longer there?); they were counted in "
            "this summary: audit into a new --output to start again"
        )
    return summary


class _Hits:
    """The ids to skip, counting how many the sources actually held."""

    __slots__ = ("hits", "ids")

    def __init__(self, ids: DoneIds) -> None:
        self.ids = ids
        self.hits = 0

    def __contains__(self, source: object) -> bool:
        if source in self.ids:
            self.hits += 1
            return True
        return False


def _read_done(output: str, format: Format, sources: list[Source], summary: Summary) -> DoneIds:
    # Every result read back is checked: its id must belong to one of the sources (in
    # this run's spelling) and appear once; read_results checks the rest.
    done = DoneIds()
    spelled = SourceIds(sources)
    for read in read_results(output, format):
        record = read
        source = spelled(record.source)
        if source is None:
            raise OutputError(
                f"{output!r} holds a result for {record.source!r}, which none of the "
                "sources holds: it is not the output of an audit of these sources; not "
                "resuming over it (the file is left as it is): choose another --output"
            )
        if source != record.source:
            record = msgspec.structs.replace(record, source=source)
        done.add(source)
        summary.add(record)
    if done.distinct() < len(done):
        raise OutputError(
            f"{output!r} holds {len(done) - done.distinct():,} results twice under one id: "
            "not the output of one audit; not resuming over it: choose another --output"
        )
    return done


def summarize(
    records: Iterator[AuditRecord] | Sequence[AuditRecord],
    checked_at: float | str,
    *,
    expiring_within: float = DEFAULT_EXPIRING_WINDOW,
) -> Summary:
    """A :class:`Summary` of ``records`` (e.g. from :func:`iter_records` on Dask)."""
    summary = Summary(checked_at, expiring_within=expiring_within)  # type: ignore[arg-type]
    for record in records:
        summary.add(record)
    return summary


def render_html(summary: Summary, *, title: str = "tokenverify audit") -> str:
    """The self-contained HTML report of ``summary`` (needs the ``audit`` extra)."""
    from ._html import render_html as render

    return render(summary, title=title)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the ``json`` format (its results are the ``jsonl`` lines)."""
    from ..formats._audit_report import json_schema as schema

    return schema()


def __getattr__(name: str) -> Any:
    # The pydantic report models (and pydantic) load only when asked for.
    if name in ("AuditReport", "AuditResult", "AuditSummary"):
        from ..formats import _audit_report as _report

        return getattr(_report, name)
    raise AttributeError(f"module 'tokenverify.audit' has no attribute {name!r}")
