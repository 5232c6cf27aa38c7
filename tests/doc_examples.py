"""Every example in README.md and docs/ runs as a test: the documentation cannot drift.

A pytest plugin (loaded by the root ``conftest.py``) that hands README.md and every
``docs/**/*.md`` page to Sybil (https://sybil.readthedocs.io). In each document, in order:

``python`` blocks
    run with Sybil's own evaluator in one namespace per document, with the document's
    scratch folder (below) as the current directory and first on ``sys.path`` (as
    ``python`` started there). ``<!-- invisible-code-block: python
    ... -->`` holds setup a reader need not see; ``<!-- skip: next -->`` skips the next
    block, only where it cannot run offline. A block that raises fails, naming the exception
    and the page's lines it was raised from.

the launch example
    the ``python`` block right after a ``<!-- launch-example -->`` comment is the product's
    launch check. It runs as written, with what it says it expects to find: an exported
    ``trust_anchors`` module on the import path and a saved checkout bound to this
    machine, from a test issuer with the example's own ``ISSUER``. Only the ``CHECKOUT =
    Path("/etc/myapp/checkout.json")`` line is changed, to point into the scratch folder,
    and that line must be there. It must print exactly one line, ``licensed until ...``.
    ``tests/test_launch_example.py`` runs the same block against expiring, expired and
    foreign checkouts.

``console`` blocks (visible, or in ``<!-- invisible-code-block: console ... -->``)
    are transcripts. A line starting with ``$ `` is a command (a trailing `` \\`` continues
    it on the next line), run by ``bash -c`` in the document's scratch folder; ``cd`` and
    variables do not carry over to the next command, files do. The lines after it, up to
    the next command, are its expected output: stdout and stderr together, in the order a
    terminal shows them (one pipe, Python unbuffered); blank lines before the next command
    are ignored. ``# exit N`` as the last line states the exit code (otherwise 0 is
    expected). ``...`` alone on a line (indented or not) stands for any number of cut
    lines. Trailing spaces are ignored.

Scratch folder
    prepared once per session with ``tokenverify demo --dir scratch/demo`` (so
    ``scratch/demo/keys.json``, ``valid.json``, ``tampered-envelope.json``, ... exist, as
    after ``make demo`` in a clone), then copied afresh for each document. ``tokenverify``
    is the one installed beside the running Python, first on ``PATH``. Commands see
    ``HOME`` set to the scratch folder, ``NO_COLOR=1``, ``COLUMNS=80``, ``TZ=UTC`` and
    ``PYTHONUNBUFFERED=1``, and no standard input.

Placeholders
    What changes from run to run is normalised, in the documented output and the real
    output alike, before they are compared (see :data:`NORMALISERS`): so a page shows real
    values, and a mismatch beyond them fails with a diff of the two normalised texts.

    - an ISO 8601 instant, any precision, ``Z`` or an offset (``2026-12-01T08:54:16Z``,
      ``checked_at``'s microseconds): ``<time>``;
    - a human duration in d, h, min, s (``59 min left``, ``1 h 0 min``, ``3611 s``):
      ``<duration>``;
    - the random part of a license ARN (``l-`` and 32 hex digits): ``l-<id>``;
    - 64 hex digits (a SHA-256 such as ``results_sha256``, a node id): ``<sha256>``;
    - 43 base64url characters (an RFC 7638 thumbprint of a freshly made key):
      ``<thumbprint>``.

The same rules, for people, are in ``docs/contributing.md`` ("How examples are checked").
"""

from __future__ import annotations

import contextlib
import difflib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from sybil import Document, Example, Region, Sybil
from sybil.parsers.markdown import CodeBlockParser, PythonCodeBlockParser, SkipParser
from sybil.typing import Evaluator

ROOT = Path(__file__).resolve().parents[1]
#: The documents whose examples run: README.md and every Markdown page under docs/.
DOCS = "docs"
#: The key in a document's namespace for the runner's own state (never a reader's name).
STATE = "__doc_examples__"
#: A command's time limit; the slowest documented command takes about a second.
COMMAND_TIMEOUT = 120

#: (pattern, replacement), applied in order to every line of documented and real output.
NORMALISERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?"),
        "<time>",
    ),
    (re.compile(r"\b\d+ (?:d|h|min|s)\b(?: \d+ (?:h|min|s)\b)*"), "<duration>"),
    (re.compile(r"\bl-[0-9a-f]{32}\b"), "l-<id>"),
    (re.compile(r"(?<![0-9A-Za-z])[0-9a-f]{64}(?![0-9A-Za-z])"), "<sha256>"),
    (re.compile(r"(?<![0-9A-Za-z_-])[0-9A-Za-z_-]{43}(?![0-9A-Za-z_-])"), "<thumbprint>"),
)
_EXIT = re.compile(r"^# exit (\d+)$")
_ELLIPSIS = "..."


def normalise(line: str) -> str:
    """One line of output with what changes between runs replaced by its placeholder."""
    line = line.rstrip()
    for pattern, placeholder in NORMALISERS:
        line = pattern.sub(placeholder, line)
    return line


# --- transcripts ---------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """One ``$`` command of a transcript and what the page says it prints."""

    line: int  # in the document, 1-based
    command: str
    expected: tuple[str, ...]
    exit_code: int


def parse_transcript(text: str, first_line: int) -> list[Command]:
    """The commands of a ``console`` block whose first line is ``first_line`` of its page."""
    commands: list[Command] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines) and not lines[index].strip():
        index += 1
    if index < len(lines) and not lines[index].startswith("$ "):
        raise ValueError(
            f"line {first_line + index}: a console block starts with a '$ ' command, "
            f"not {lines[index]!r}"
        )
    while index < len(lines):
        line_no = first_line + index
        command = lines[index][2:]
        while command.endswith("\\") and index + 1 < len(lines):
            index += 1
            command = command[:-1] + "\n" + lines[index]
        index += 1
        output: list[str] = []
        while index < len(lines) and not lines[index].startswith("$ "):
            output.append(lines[index])
            index += 1
        while output and not output[-1].strip():
            output.pop()
        exit_code = 0
        if output and (stated := _EXIT.match(output[-1].strip())):
            exit_code = int(stated.group(1))
            output.pop()
            while output and not output[-1].strip():
                output.pop()
        commands.append(Command(line_no, command, tuple(output), exit_code))
    return commands


def output_matches(expected: Iterable[str], actual: Iterable[str]) -> bool:
    """Whether ``actual`` is ``expected`` line for line, normalised, ``...`` standing for
    any run of lines (none included)."""
    chunks: list[list[str]] = [[]]
    for line in expected:
        if line.strip() == _ELLIPSIS:
            chunks.append([])
        else:
            chunks[-1].append(normalise(line))
    real = [normalise(line) for line in actual]
    if len(chunks) == 1:
        return chunks[0] == real
    first, *middle, last = chunks
    if real[: len(first)] != first or len(real) < len(first) + len(last):
        return False
    end = len(real) - len(last)
    if real[end:] != last:
        return False
    position = len(first)
    for chunk in middle:  # leftmost match of each fixed run is never worse than a later one
        found = next(
            (
                start
                for start in range(position, end - len(chunk) + 1)
                if real[start : start + len(chunk)] == chunk
            ),
            None,
        )
        if found is None:
            return False
        position = found + len(chunk)
    return True


def mismatch_report(command: Command, actual: list[str], exit_code: int) -> str:
    """What a reader needs to fix the page: the command, the diff, the exit codes."""
    expected = [normalise(line) for line in command.expected]
    real = [normalise(line) for line in actual]
    diff = difflib.unified_diff(
        expected, real, "documented (normalised)", "actual (normalised)", lineterm=""
    )
    report = [f"line {command.line}: $ {command.command}"]
    if exit_code != command.exit_code:
        report.append(f"exit code {exit_code}, the page says {command.exit_code}")
    if not output_matches(command.expected, actual):
        report.append(
            "output differs (times, durations, license ids, SHA-256 and thumbprints are "
            "placeholders; '...' lines stand for cut lines):"
        )
        report.extend(diff)
        report.append("actual output, as printed:")
        report.extend(f"  {line}" for line in actual)
    return "\n".join(report)


def command_environment(folder: Path) -> dict[str, str]:
    """The environment a documented command runs in: this venv's ``tokenverify`` first on
    PATH, no colour, a fixed width, UTC, unbuffered Python, ``HOME`` in the scratch folder."""
    bin_dir = Path(sys.executable).parent
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    environment.update(
        PATH=f"{bin_dir}{os.pathsep}{environment.get('PATH', '')}",
        HOME=str(folder),
        NO_COLOR="1",
        COLUMNS="80",
        TZ="UTC",
        PYTHONUNBUFFERED="1",
        PYTHONIOENCODING="utf-8",
    )
    environment.pop("FORCE_COLOR", None)
    return environment


def run_command(command: str, folder: Path) -> tuple[list[str], int]:
    """Run one documented command as a reader's shell would; its combined output lines."""
    completed = subprocess.run(
        ["bash", "-c", command],
        cwd=folder,
        env=command_environment(folder),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    lines = completed.stdout.decode("utf-8", "backslashreplace").splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    return lines, completed.returncode


def check_transcript(text: str, first_line: int, folder: Path) -> str | None:
    """Run a transcript's commands in order; a report of the first that differs, or None."""
    for command in parse_transcript(text, first_line):
        actual, exit_code = run_command(command.command, folder)
        if exit_code != command.exit_code or not output_matches(command.expected, actual):
            return mismatch_report(command, actual, exit_code)
    return None


# --- the scratch folder ----------------------------------------------------------------


#: The demo's checkouts are valid for an hour: a session longer than this (a deep
#: hypothesis run) makes them again before a page uses them.
SCRATCH_LIFETIME = 1800.0


@dataclass
class Scratch:
    """The session's prepared folder, and a fresh copy of it for each document."""

    template: Path
    factory: pytest.TempPathFactory
    made: float

    @classmethod
    def prepare(cls, factory: pytest.TempPathFactory) -> Scratch:
        template = factory.mktemp("doc-examples")
        prepare_scratch(template)
        return cls(template, factory, time.monotonic())

    def for_document(self, path: str) -> Path:
        if time.monotonic() - self.made > SCRATCH_LIFETIME:
            fresh = Scratch.prepare(self.factory)
            self.template, self.made = fresh.template, fresh.made
        folder = self.factory.mktemp(f"doc-{Path(path).stem}")
        shutil.copytree(self.template, folder, dirs_exist_ok=True)
        return folder


def prepare_scratch(folder: Path) -> None:
    """What a clone holds after ``make demo``: the demo store in ``scratch/demo``."""
    tokenverify = Path(sys.executable).parent / "tokenverify"
    if not tokenverify.exists():
        raise RuntimeError(f"no {tokenverify}: install the project (make .venv/.installed)")
    output, exit_code = run_command("tokenverify demo --dir scratch/demo", folder)
    if exit_code != 0:
        raise RuntimeError("tokenverify demo failed:\n" + "\n".join(output))


@pytest.fixture(scope="session")
def doc_examples_scratch(tmp_path_factory: pytest.TempPathFactory) -> Scratch:
    """The scratch folder every document's examples start from (made once per session)."""
    return Scratch.prepare(tmp_path_factory)


def document_folder(example: Example) -> Path:
    """The example's document's own scratch folder, made when its first example runs."""
    state: dict[str, Any] = example.namespace.setdefault(STATE, {})
    if "folder" not in state:
        scratch = example.namespace["doc_examples_scratch"]
        assert isinstance(scratch, Scratch)
        state["folder"] = scratch.for_document(example.path)
    folder = state["folder"]
    assert isinstance(folder, Path)
    return folder


@contextlib.contextmanager
def working_directory(folder: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


# --- the launch example ----------------------------------------------------------------

LAUNCH_MARKER = re.compile(r"<!--\s*launch-example\b[^>]*-->\s*\Z")
CHECKOUT_LINE = re.compile(r'^CHECKOUT = Path\("(/etc/myapp/checkout\.json)"\)', re.MULTILINE)
ISSUER_LINE = re.compile(r'^ISSUER = "([^"]+)"', re.MULTILINE)
NAMESPACE_CALL = re.compile(r'machine_id\(namespace="([^"]+)"\)')
DAY = 86400


@dataclass(frozen=True)
class LaunchRun:
    """What the launch example did: the lines it printed, and how it stopped, if it did."""

    lines: list[str]
    stopped: SystemExit | None


def launch_fingerprint(code: str) -> str:
    found = ISSUER_LINE.search(code)
    assert found is not None, "the launch example names its ISSUER"
    return found.group(1)


def launch_namespace(code: str) -> str:
    found = NAMESPACE_CALL.search(code)
    assert found is not None, 'the launch example calls tv.node.machine_id(namespace="...")'
    return found.group(1)


@cache
def launch_issuer(fingerprint: str) -> Any:
    """A test issuer for the example's ISSUER (RSA-2048: quick to make, once per session)."""
    from tokenverify.testing import TestIssuer

    return TestIssuer.generate("PS384", fingerprint=fingerprint, key_size=2048)


@contextlib.contextmanager
def this_machine(namespace: str, folder: Path) -> Iterator[str]:
    """This machine's id for ``namespace``; a machine without one (a bare container) is given
    one in a file for the duration, as its image should have."""
    import tokenverify as tv

    try:
        yield tv.node.machine_id(namespace=namespace)
        return
    except tv.node.MachineIdError:
        pass
    machine_id = folder / "machine-id"
    machine_id.write_text("0123456789abcdef0123456789abcdef\n", encoding="ascii")
    sources = (tv.node.MachineIdFile(str(machine_id)),)
    original = tv.node.default_sources
    tv.node.default_sources = lambda platform=None: sources
    try:
        yield tv.node.machine_id(namespace=namespace)
    finally:
        tv.node.default_sources = original


def launch_checkout(code: str, node_id: str, *, ttl: float, age: float) -> dict[str, Any]:
    """A saved CheckoutLicense response from the example's issuer, issued ``age`` s ago."""
    response: dict[str, Any] = launch_issuer(launch_fingerprint(code)).checkout(
        node_id=node_id,
        entitlements=[("Users", "10", "Count")],
        ttl=ttl,
        issued_at=time.time() - age,
    )
    return response


def run_launch_example(
    code: str, folder: Path, response: Callable[[str], dict[str, Any]]
) -> LaunchRun:
    """Prepare what the example expects in ``folder`` (the exported trust module, and the
    checkout ``response(node_id)`` returns, saved as JSON), then execute it as ``__main__``."""
    from tokenverify._trust_export import export_module

    issuer = launch_issuer(launch_fingerprint(code))
    (folder / "trust_anchors.py").write_text(export_module(issuer.registry()), encoding="utf-8")
    checkout = folder / "checkout.json"
    here, count = CHECKOUT_LINE.subn(f"CHECKOUT = Path({str(checkout)!r})", code)
    assert count == 1, 'the launch example sets CHECKOUT = Path("/etc/myapp/checkout.json")'
    printed = io.StringIO()
    stopped: SystemExit | None = None
    sys.path.insert(0, str(folder))
    sys.modules.pop("trust_anchors", None)
    try:
        with this_machine(launch_namespace(code), folder) as node_id:
            checkout.write_text(json.dumps(response(node_id), indent=2), encoding="utf-8")
            with contextlib.redirect_stdout(printed):
                exec(compile(here, "launch example", "exec"), {"__name__": "__main__"})  # noqa: S102
    except SystemExit as exit_:
        stopped = exit_
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop("trust_anchors", None)
    return LaunchRun(printed.getvalue().splitlines(), stopped)


def evaluate_launch_example(example: Example) -> str | None:
    """The documented run: a checkout with a month left starts the product, saying until when."""
    code = str(example.parsed)
    # A folder of its own: what it prepares is not what the page's reader has made.
    folder = document_folder(example) / "launch-example"
    folder.mkdir(exist_ok=True)
    run = run_launch_example(
        code,
        folder,
        lambda node_id: launch_checkout(code, node_id, ttl=30 * DAY, age=60),
    )
    if run.stopped is not None:
        return f"the launch example stopped on a valid checkout: {run.stopped.code}"
    if len(run.lines) != 1 or not run.lines[0].startswith("licensed until "):
        return "the launch example printed, for a valid checkout:\n" + "\n".join(run.lines)
    return None


# --- Sybil -------------------------------------------------------------------------------


def in_document_folder(evaluator: Evaluator) -> Evaluator:
    """Sybil's own evaluation of a Python block (or doctest), in the document's scratch folder."""

    def evaluate(example: Example) -> str | None:
        __tracebackhide__ = True
        folder = document_folder(example)
        # As `python` started in that folder: its modules (an exported trust_anchors.py)
        # are importable.
        sys.path.insert(0, str(folder))
        try:
            with working_directory(folder):
                return evaluator(example)
        except (Exception, SystemExit) as error:
            return python_failure(example, error)
        finally:
            sys.path.remove(str(folder))

    return evaluate


def python_failure(example: Example, error: BaseException) -> str:
    """A block that raised, as a reader needs it: the exception, then the calls from the
    page's line down (pytest would print the whole page above the failing line)."""
    page = Path(example.path).name
    calls: list[str] = []
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename == example.path:
            calls.append(f"  {page}, line {frame.lineno}: {frame.line}")
        elif calls:
            calls.append(f"  {frame.filename}, line {frame.lineno}, in {frame.name}: {frame.line}")
    message = traceback.format_exception_only(error)[-1].rstrip()
    return "\n".join([f"the Python block raised {message}", *calls])


def evaluate_console(example: Example) -> str | None:
    """A transcript's commands, run in the document's scratch folder."""
    source_start = example.start + example.parsed.offset
    first_line = example.document.text.count("\n", 0, source_start) + 1
    return check_transcript(str(example.parsed), first_line, document_folder(example))


class ExamplePythonParser(PythonCodeBlockParser):
    """Python blocks, run in the scratch folder; the one right after the launch marker runs
    as the launch example."""

    def __call__(self, document: Document) -> Iterable[Region]:
        for region in super().__call__(document):
            before = document.text[max(0, region.start - 400) : region.start]
            if LAUNCH_MARKER.search(before):
                region.evaluator = evaluate_launch_example
            elif region.evaluator is not None:
                region.evaluator = in_document_folder(region.evaluator)
            yield region


class _Pages(Sybil):
    """Sybil over README.md and docs/**/*.md exactly (Sybil's own patterns match a path from
    its right end, so ``README.md`` would take fuzz/README.md too)."""

    def should_parse(self, path: Path) -> bool:
        try:
            relative = path.resolve().relative_to(ROOT)
        except ValueError:
            return False
        in_docs = relative.parts[0] == DOCS and relative.suffix == ".md"
        return relative.as_posix() == "README.md" or in_docs


def is_documentation(path: Path) -> bool:
    """Whether the runner runs the examples of the file at ``path``."""
    return examples_sybil().should_parse(path)


def examples_sybil() -> Sybil:
    """The runner's configuration (also what the runner's own tests parse pages with)."""
    return _Pages(
        parsers=[
            ExamplePythonParser(),
            CodeBlockParser(language="console", evaluator=evaluate_console),
            SkipParser(),
        ],
        path=str(ROOT),
        fixtures=["doc_examples_scratch"],
        teardown=_forget_document,
        name="docs",
    )


def _forget_document(namespace: dict[str, Any]) -> None:
    """After a document: forget its folder, and the modules its examples imported from it."""
    folder = namespace.pop(STATE, {}).get("folder")
    if folder is None:
        return
    for name, module in list(sys.modules.items()):
        origin = getattr(module, "__file__", None)
        if origin is not None and Path(origin).is_relative_to(folder):
            del sys.modules[name]


pytest_collect_file = examples_sybil().pytest()
