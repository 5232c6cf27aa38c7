"""MkDocs hook: the pages made at build time, so that they cannot drift from their sources.

- ``cli.md``: the command-line reference, rendered from the parser ``tokenverify`` runs
  (every command and subcommand: usage, description, each argument with its help, the
  epilog's examples).
- ``security.md`` and ``changelog.md``: ``SECURITY.md`` and ``CHANGELOG.md`` from the
  repository root, included rather than copied, with their relative links rewritten to
  the site's pages (a link to a file the site does not hold becomes its text).

A hook rather than mkdocs-gen-files: MkDocs 1.6 adds generated files itself
(``File.generated``), so this needs no plugin, and the strict build checks the generated
pages' links as it checks the written ones. ``tests/test_docs_cli_reference.py`` imports
this module to hold the reference to the parser.
"""

from __future__ import annotations

import argparse
import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.files import Files

ROOT = Path(__file__).resolve().parents[2]

#: Root files shown as pages of the site: repository path -> page.
INCLUDED = {"SECURITY.md": "security.md", "CHANGELOG.md": "changelog.md"}

#: Where a root file's relative link to another repository file goes on the site.
LINK_TARGETS = {
    "README.md": "index.md",
    "SECURITY.md": "security.md",
    "CHANGELOG.md": "changelog.md",
    "docs/CONFORMANCE.md": "CONFORMANCE.md",
    "docs/DIFFERENTIAL.md": "DIFFERENTIAL.md",
}

_LINK = re.compile(r"(?<!!)\[(?P<text>[^\]]+)\]\((?P<target>[^)\s]+)\)")


def parser() -> argparse.ArgumentParser:
    """The parser ``tokenverify`` runs: the one place this generator gets it from."""
    from tokenverify.cli import build_parser

    return build_parser()


def commands(
    root: argparse.ArgumentParser, path: tuple[str, ...] = ("tokenverify",)
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser, str]]:
    """Every command in parser order, depth first: (name path, its parser, its summary)."""
    yield path, root, ""
    for action in root._actions:
        if isinstance(action, argparse._SubParsersAction):
            summaries = {choice.dest: choice.help or "" for choice in action._choices_actions}
            for name, sub in action.choices.items():
                for inner_path, inner, summary in commands(sub, (*path, name)):
                    yield inner_path, inner, summary or summaries.get(name, "")


def arguments(command: argparse.ArgumentParser) -> list[argparse.Action]:
    """The arguments a command documents: all but a subcommand choice and hidden ones."""
    return [
        action
        for action in command._actions
        if not isinstance(action, argparse._SubParsersAction) and action.help != argparse.SUPPRESS
    ]


def cli_reference() -> str:
    """The Markdown of the command-line reference page."""
    root = parser()
    lines = [
        "# Command-line reference",
        "",
        "Generated from `tokenverify`'s own parser when the site is built, so every",
        "command, argument and example here is the one `tokenverify COMMAND --help` prints.",
        "For the exit codes, the colour and debug switches and worked transcripts, see",
        "[Command line](command-line.md).",
        "",
    ]
    for path, command, summary in commands(root):
        lines += _command_section(path, command, summary)
    return "\n".join(lines) + "\n"


def _command_section(
    path: tuple[str, ...], command: argparse.ArgumentParser, summary: str
) -> list[str]:
    name = " ".join(path)
    level = "#" * min(len(path) + 1, 4)
    out = [f'{level} {name} {{ #{_anchor(path)} data-toc-label="{html.escape(name)}" }}', ""]
    out += ["```text", command.format_usage().strip(), "```", ""]
    if command.description or summary:
        out += [f"<p>{_inline(command.description or summary)}</p>", ""]
    formatter = command._get_formatter()
    rows = []
    for action in arguments(command):
        label = ", ".join(action.option_strings) or str(action.metavar or action.dest)
        if action.option_strings and action.nargs != 0:
            label += " " + formatter._format_args(action, action.dest.upper())
        help_text = formatter._expand_help(action) if action.help else ""
        if action.choices is not None and "{" not in label:
            choices = ", ".join(str(choice) for choice in action.choices)
            if choices not in help_text:
                help_text += f" (one of: {choices})"
        rows.append(
            f"<tr><td><code>{html.escape(label)}</code></td><td>{_inline(help_text)}</td></tr>"
        )
    if rows:
        out += [_table(("argument", "what it does"), rows), ""]
    rows = []
    for action in command._actions:
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                link = f"#{_anchor((*path, choice.dest))}"
                rows.append(
                    f'<tr><td><a href="{link}"><code>{html.escape(choice.dest)}</code></a></td>'
                    f"<td>{_inline(choice.help or '')}</td></tr>"
                )
    if rows:
        out += [_table(("command", "what it does"), rows), ""]
    if command.epilog:
        out += ["```text", command.epilog.strip("\n"), "```", ""]
    return out


def _table(headings: tuple[str, str], rows: list[str]) -> str:
    head = "".join(f"<th>{heading}</th>" for heading in headings)
    return "\n".join(
        ["<table>", f"<thead><tr>{head}</tr></thead>", "<tbody>", *rows, "</tbody>", "</table>"]
    )


def _anchor(path: tuple[str, ...]) -> str:
    return "-".join(path[1:]) or "tokenverify"


def _inline(text: str) -> str:
    """Help text as HTML: escaped, with `code` spans kept as code."""
    escaped = html.escape(" ".join(text.split()))
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)


def included(repository_path: str) -> str:
    """A root file's Markdown with its relative links pointing into the site."""
    return relink((ROOT / repository_path).read_text(encoding="utf-8"))


def relink(text: str) -> str:
    """Markdown written at the repository root, its relative links pointing into the site."""

    def relink_one(match: re.Match[str]) -> str:
        target = match["target"]
        if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            return match[0]
        file, _, fragment = target.partition("#")
        page = LINK_TARGETS.get(file.removeprefix("./"))
        if page is None:  # a source file: there is no project URL to link to yet
            return f"{match['text']} (`{file}`)"
        return f"[{match['text']}]({page}{'#' + fragment if fragment else ''})"

    return _LINK.sub(relink_one, text)


def on_files(files: Files, config: MkDocsConfig, **_: Any) -> Files:
    """Add the generated pages to the build."""
    from mkdocs.structure.files import File

    files.append(File.generated(config, "cli.md", content=cli_reference()))
    for repository_path, page in INCLUDED.items():
        files.append(File.generated(config, page, content=included(repository_path)))
    return files
