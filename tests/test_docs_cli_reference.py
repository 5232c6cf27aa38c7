"""The site's command-line reference is generated from the parser and drops nothing.

``docs/hooks/tokenverify_docs.py`` renders the reference when ``make docs`` builds the
site; these tests walk the parser themselves and require every command, every argument
and its help, and every epilog in the rendered page, in that command's own section.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import re
import sys
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType

import pytest

HOOK = Path(__file__).resolve().parents[1] / "docs" / "hooks" / "tokenverify_docs.py"


@pytest.fixture(scope="module")
def hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tokenverify_docs", HOOK)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("tokenverify_docs", module)
    spec.loader.exec_module(module)
    return module


def _build_parser() -> argparse.ArgumentParser:
    """The parser of the module the ``tokenverify`` console script runs (wherever it lives)."""
    (script,) = entry_points(group="console_scripts", name="tokenverify")
    module = importlib.import_module(script.module)
    parser: argparse.ArgumentParser = module.build_parser()
    return parser


def _walk(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ("tokenverify",)
) -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    found = [(path, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _walk(sub, (*path, name))
    return found


def _sections(reference: str) -> dict[str, str]:
    """The reference cut at its command headings: command name -> that section's text."""
    heading = re.compile(r"^#{2,4} (tokenverify[^{\n]*?) \{", re.MULTILINE)
    marks = list(heading.finditer(reference))
    return {
        mark[1]: reference[mark.end() : marks[i + 1].start() if i + 1 < len(marks) else None]
        for i, mark in enumerate(marks)
    }


def _html(text: str) -> str:
    import html

    return html.escape(" ".join(text.split()))


def test_every_command_has_its_own_section(hook: ModuleType) -> None:
    commands = [" ".join(path) for path, _ in _walk(_build_parser())]
    sections = _sections(hook.cli_reference())
    assert len(commands) > 15  # the commands and their subcommands (keys add, keys export...)
    assert list(sections) == commands


def test_every_argument_is_listed_with_its_help_in_its_command_section(
    hook: ModuleType,
) -> None:
    sections = _sections(hook.cli_reference())
    checked = 0
    for path, command in _walk(_build_parser()):
        section = sections[" ".join(path)]
        assert _html(command.format_usage().strip().split("\n")[0]) in _html(section)
        listed = {
            word
            for label in re.findall(r"<tr><td><code>(.*?)</code></td>", section)
            for word in label.replace(",", " ").split()
        }
        formatter = command._get_formatter()
        for action in command._actions:
            if isinstance(action, argparse._SubParsersAction) or action.help == argparse.SUPPRESS:
                continue
            for option in action.option_strings or [str(action.metavar or action.dest)]:
                assert _html(option) in listed, (path, option)
            if action.help:
                assert _html(formatter._expand_help(action)) in section, (path, action.dest)
            checked += 1
    assert checked > 100


def test_every_epilog_is_shown_whole(hook: ModuleType) -> None:
    sections = _sections(hook.cli_reference())
    for path, command in _walk(_build_parser()):
        if command.epilog:
            assert command.epilog.strip("\n") in sections[" ".join(path)], path


def test_the_generator_reads_the_parser_tokenverify_runs(hook: ModuleType) -> None:
    names = [path for path, _, _ in hook.commands(hook.parser())]
    assert names == [path for path, _ in _walk(_build_parser())]


def test_root_files_links_point_into_the_site(hook: ModuleType) -> None:
    text = (
        "[a](docs/CONFORMANCE.md#x) [b](tests/test_threats.py) [c](https://example.org/) "
        "[d](#top) [e](README.md) ![f](docs/audit-report.png)"
    )
    assert hook.relink(text) == (
        "[a](CONFORMANCE.md#x) b (`tests/test_threats.py`) [c](https://example.org/) "
        "[d](#top) [e](index.md) ![f](docs/audit-report.png)"
    )
    root = HOOK.parents[2]
    for name in hook.INCLUDED:
        assert hook.included(name) == hook.relink((root / name).read_text(encoding="utf-8"))
