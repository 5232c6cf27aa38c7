"""Every ``tokenverify`` command shown in README.md and docs/ parses with today's parser.

The examples runner executes ``console`` transcripts; ``shell`` blocks are the commands a
page shows but cannot run here (a network, a machine's identity, a store the reader has).
They can still drift: a renamed flag or command would leave them wrong with nothing red.
So each ``tokenverify ...`` command in them (line continuations joined, pipes split,
comments and redirections dropped) is parsed by ``tokenverify.cli.build_parser()``, which
is what ``tokenverify`` runs.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest

from tokenverify.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]
FENCE = re.compile(r"^```(?:shell|sh|bash)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
REDIRECTIONS = {">", ">>", "<", "2>", "2>>", "&>"}
PROGRAMS = {"tokenverify", ".venv/bin/tokenverify"}


def shown_commands(text: str) -> list[list[str]]:
    """The arguments of every ``tokenverify`` command in the shell blocks of ``text``."""
    commands: list[list[str]] = []
    for block in FENCE.findall(text):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            for segment in _segments(words):
                if segment and segment[0] in PROGRAMS:
                    commands.append(segment[1:])
    return commands


def _segments(words: list[str]) -> list[list[str]]:
    segments: list[list[str]] = [[]]
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word in {"|", "&&", ";"}:
            segments.append([])
        elif word in REDIRECTIONS:
            skip = True
        elif not re.match(r"^\d?>", word):
            segments[-1].append(word)
    return segments


def _parse_error(arguments: list[str]) -> str | None:
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        try:
            build_parser().parse_args(arguments)
        except SystemExit as exit_:
            if exit_.code not in (0, None):
                return stderr.getvalue().strip().splitlines()[-1]
    return None


def _shown() -> list[tuple[str, list[str]]]:
    return [
        (f"{page.relative_to(ROOT)}: tokenverify {shlex.join(arguments)}", arguments)
        for page in PAGES
        for arguments in shown_commands(page.read_text(encoding="utf-8"))
    ]


def test_the_pages_show_commands_to_check() -> None:
    assert len(_shown()) >= 10


@pytest.mark.parametrize(("where", "arguments"), _shown(), ids=lambda value: str(value)[:80])
def test_a_command_shown_in_the_docs_parses(where: str, arguments: list[str]) -> None:
    error = _parse_error(arguments)
    assert error is None, f"{where}: {error}"


def test_the_reader_finds_commands_in_pipes_and_continuations_and_catches_a_bad_flag() -> None:
    text = (
        "```shell\n"
        "zcat old.jsonl.gz | tokenverify audit - --keys k.json --format csv > out.csv\n"
        "tokenverify verify c.json \\\n    --keys k.json  # a comment\n"
        "tokenverify verify c.json --no-such-flag\n"
        "```\n"
    )
    commands = shown_commands(text)
    assert commands == [
        ["audit", "-", "--keys", "k.json", "--format", "csv"],
        ["verify", "c.json", "--keys", "k.json"],
        ["verify", "c.json", "--no-such-flag"],
    ]
    assert [_parse_error(arguments) is None for arguments in commands] == [True, True, False]
