"""``tokenverify completion bash|zsh|fish``: scripts made from the parser, run in real shells.

bash is driven through its completion function (COMP_WORDS, COMP_CWORD, as bash fills
them, ':' and '=' split off); zsh through a real interactive zsh on a pseudo-terminal,
pressing TAB; fish through ``complete -C``. zsh and fish are skipped, saying so, where
they are not installed (.ci/run installs them).
"""

from __future__ import annotations

import argparse
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tokenverify.cli import build_parser as _build_parser
from tokenverify.cli._completion import SHELLS, completion_script, describe

from .support import RunCli, assert_one_line_error

BASH = shutil.which("bash")
ZSH = shutil.which("zsh")
FISH = shutil.which("fish")
needs_bash = pytest.mark.skipif(BASH is None, reason="bash is not installed")
needs_zsh = pytest.mark.skipif(ZSH is None, reason="zsh is not installed: apt-get install zsh")
needs_fish = pytest.mark.skipif(FISH is None, reason="fish is not installed: apt-get install fish")


@pytest.fixture(scope="module")
def parser() -> argparse.ArgumentParser:
    return _build_parser()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A working folder with files (one with a space in its name) and a subfolder."""
    (tmp_path / "keys.json").write_text("{}")
    (tmp_path / "my checkout.json").write_text("{}")
    (tmp_path / "store").mkdir()
    return tmp_path


def _script(parser: argparse.ArgumentParser, shell: str, folder: Path) -> Path:
    path = folder.parent / f"completion.{shell}"
    path.write_text(completion_script(parser, shell))
    return path


# --- the command -----------------------------------------------------------------------


@pytest.mark.parametrize("shell", SHELLS)
def test_the_command_prints_the_script_of_its_own_parser(
    run_cli: RunCli, parser: argparse.ArgumentParser, shell: str
) -> None:
    result = run_cli("completion", shell)
    assert result.code == 0, result
    assert result.err == ""
    assert result.out == completion_script(parser, shell)


def test_an_unknown_shell_is_a_usage_error(call_cli: RunCli) -> None:
    result = call_cli("completion", "tcsh")
    assert_one_line_error(result)
    assert "bash" in result.err
    assert "fish" in result.err


def test_completion_is_not_imported_to_run_a_command() -> None:
    code = (
        "import sys; from tokenverify.cli import main; main(['schema', 'keys']); "
        "sys.exit('tokenverify.cli._completion' in sys.modules)"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode == 0, completed.stderr


# --- what the parser says an argument completes to --------------------------------------


def test_values_are_completed_by_what_the_argument_expects(
    parser: argparse.ArgumentParser,
) -> None:
    commands = {" ".join(command.path): command for command in describe(parser).walk()}

    def option(path: str, flag: str) -> tuple[str, tuple[str, ...]]:
        (found,) = [o for o in commands[path].options if flag in o.flags]
        return found.values.kind, found.values.choices

    assert option("", "--color") == ("choices", ("auto", "always", "never"))
    assert option("verify", "--keys") == ("file", ())
    assert option("verify", "--policy") == ("file", ())  # metavar policy.json
    assert option("mint", "--issuer-key") == ("file", ())  # metavar KEY.pem
    assert option("audit", "-o") == ("file", ())
    assert option("demo", "--dir") == ("dir", ())  # type=Path, named a folder
    assert option("verify", "--fingerprint") == ("none", ())
    assert option("verify", "--at") == ("none", ())
    verify_source, *_ = commands["verify"].positionals
    assert (verify_source.values.kind, verify_source.optional) == ("file", True)
    audit_sources, *_ = commands["audit"].positionals
    assert (audit_sources.values.kind, audit_sources.many) == ("file", True)
    assert commands["schema"].positionals[0].values.choices == (
        "keys",
        "policy",
        "verify",
        "inspect",
        "audit",
    )


def test_a_name_that_is_not_a_plain_word_is_refused() -> None:
    hostile = argparse.ArgumentParser(prog="tokenverify")
    hostile.add_argument("--mode", choices=["a b", "$(reboot)"])
    for shell in SHELLS:
        with pytest.raises(ValueError, match="not a plain word"):
            completion_script(hostile, shell)


# --- bash -------------------------------------------------------------------------------


def _bash_complete(script: Path, folder: Path, *words: str) -> list[str]:
    """COMPREPLY for ``tokenverify WORDS...``, the last word being the one completed."""
    assert BASH is not None
    driver = (
        f'source "{script}"; COMP_WORDS=(tokenverify "$@"); '
        "COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); _tokenverify; "
        'printf "%s\\n" "${COMPREPLY[@]}"'
    )
    completed = subprocess.run(
        [BASH, "--norc", "--noprofile", "-c", driver, "bash", *words],
        capture_output=True,
        text=True,
        cwd=folder,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""
    return sorted(line for line in completed.stdout.splitlines() if line)


@needs_bash
def test_bash_script_is_valid_bash(parser: argparse.ArgumentParser, folder: Path) -> None:
    assert BASH is not None
    script = _script(parser, "bash", folder)
    completed = subprocess.run(
        [BASH, "-n", str(script)], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr


@needs_bash
@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["ve"], ["verify"]),
        (["keys", "a"], ["add"]),
        (["keys", ""], ["add", "export", "list", "remove", "schema", "show"]),
        (["verify", "--ke"], ["--keys"]),
        (["--color", ""], ["always", "auto", "never"]),
        (["schema", ""], ["audit", "inspect", "keys", "policy", "verify"]),
        (["completion", ""], ["bash", "fish", "zsh"]),
        (["verify", "--keys", ""], ["keys.json", "my checkout.json", "store"]),
        (["verify", "--keys", "k"], ["keys.json"]),
        # --keys=k: bash makes '=' a word of its own
        (["verify", "--keys", "=", "k"], ["keys.json"]),
        (["verify", "--keys", "="], ["keys.json", "my checkout.json", "store"]),
        (["verify", ""], ["keys.json", "my checkout.json", "store"]),
        (["demo", "--dir", ""], ["store"]),
        (["audit", "-o", "my"], ["my checkout.json"]),
        (["verify", "--fingerprint", ""], []),
        (["keys", "show", ""], []),
        # an option's value is not a positional, nor a subcommand
        (["--debug", "--color", "never", "keys", "l"], ["list"]),
        (["verify", "--node-id", "keys", "--no"], ["--node-id"]),
        # aws:1:x unquoted: bash splits it at each ':'
        (["verify", "--fingerprint", "aws", ":", "1", ":", "x", "--js"], ["--json"]),
        (["keys", "add", "--not-before", ""], []),  # a time: no file names
        (["keys", "add", "--label", "x", ""], ["keys.json", "my checkout.json", "store"]),
    ],
)
def test_bash_completes_commands_flags_and_values(
    parser: argparse.ArgumentParser, folder: Path, words: list[str], expected: list[str]
) -> None:
    script = _script(parser, "bash", folder)
    assert _bash_complete(script, folder, *words) == expected


@needs_bash
def test_bash_offers_every_subcommand_and_flag_of_the_parser(
    parser: argparse.ArgumentParser, folder: Path
) -> None:
    script = _script(parser, "bash", folder)

    def check(current: argparse.ArgumentParser, path: list[str]) -> None:
        flags = sorted(f for a in current._actions for f in a.option_strings if f[1] == "-")
        assert _bash_complete(script, folder, *path, "--") == flags, path
        for action in current._actions:
            if isinstance(action, argparse._SubParsersAction):
                assert _bash_complete(script, folder, *path, "") == sorted(action.choices)
                for name, sub in action.choices.items():
                    check(sub, [*path, name])

    check(parser, [])


# --- zsh --------------------------------------------------------------------------------


def _zsh_complete(script: Path, folder: Path, lines: list[str]) -> list[list[str]]:
    """Type each line into an interactive zsh, press TAB, and collect what it offered."""
    assert ZSH is not None
    functions = folder.parent / "zsh-functions"
    functions.mkdir(exist_ok=True)
    shutil.copy(script, functions / "_tokenverify")
    setup = [
        "PS1='' PROMPT='' RPROMPT='' LISTMAX=100000",
        f"fpath=({functions} $fpath); autoload -U compinit; compinit -u -D",
        # Print every match added, one a line, then add it as usual.
        'compadd () { builtin compadd -O __hits "$@"; print -rl -- "@hit ${^__hits[@]}";'
        ' builtin compadd "$@" }',
        "tokenverify () { : }",
        # Says when the line editor has the terminal: keys typed before that would meet
        # the terminal's own line editing (where TAB is a character and Ctrl-U erases).
        'zle-line-init () { print -n "@zle""-ready" }; zle -N zle-line-init',
    ]
    controller, terminal = pty.openpty()
    environment = {**os.environ, "TERM": "dumb", "HOME": str(folder.parent)}
    process = subprocess.Popen(
        [ZSH, "-f", "-i"], stdin=terminal, stdout=terminal, stderr=terminal, cwd=folder,
        env=environment,
    )  # fmt: skip
    os.close(terminal)
    output = bytearray()
    started = 0

    def wait_for(pattern: bytes, start: int) -> int:
        """Read until ``pattern`` appears after ``start``; return where it ends."""
        deadline = time.monotonic() + 60
        while (found := output.find(pattern, start)) < 0:
            assert time.monotonic() < deadline, f"zsh did not answer: {bytes(output[-2000:])!r}"
            ready, _, _ = select.select([controller], [], [], 1)
            if ready:
                output.extend(os.read(controller, 65536))
        return found + len(pattern)

    try:
        os.write(controller, "".join(f"{line}\n" for line in setup).encode())
        os.write(controller, b"print -r -- @set''up\n")
        started = wait_for(b"\n@setup", 0)  # what zsh echoed of the set-up ends here
        position = wait_for(b"@zle-ready", started)
        for index, line in enumerate(lines):
            # TAB completes; Ctrl-U drops the line; the marker closes this line's matches.
            os.write(controller, f"{line}\t\x15print -r -- @done''{index}\n".encode())
            position = wait_for(b"@zle-ready", wait_for(f"\n@done{index}".encode(), position))
    finally:
        process.kill()
        process.wait(timeout=60)
        os.close(controller)
    text = output[started:].decode(errors="replace")
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)
    results: list[list[str]] = []
    hits: set[str] = set()
    # A match may be printed on the row of the line being edited: look for it anywhere.
    for found in re.finditer(r"@hit ([^\n]*)|\n@done\d+\n", text.replace("\r", "")):
        if found[1] is not None:
            hits.add(found[1])
        else:
            results.append(sorted(hits))
            hits = set()
    return results


@needs_zsh
def test_zsh_script_is_valid_zsh(parser: argparse.ArgumentParser, folder: Path) -> None:
    assert ZSH is not None
    script = _script(parser, "zsh", folder)
    completed = subprocess.run(
        [ZSH, "-n", str(script)], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr


@needs_zsh
def test_zsh_completes_commands_flags_and_values(
    parser: argparse.ArgumentParser, folder: Path
) -> None:
    script = _script(parser, "zsh", folder)
    results = _zsh_complete(
        script,
        folder,
        [
            "tokenverify ve",
            "tokenverify keys a",
            "tokenverify verify --ke",
            "tokenverify --color ",
            "tokenverify audit --format j",
            "tokenverify verify --keys k",
            "tokenverify demo --dir ",
        ],
    )
    assert results == [
        ["verify"],
        ["add"],
        ["--keys"],
        ["always", "auto", "never"],
        ["json", "jsonl"],
        ["keys.json"],
        ["store"],
    ]


# --- fish -------------------------------------------------------------------------------


def _fish_complete(script: Path, folder: Path, line: str) -> list[str]:
    assert FISH is not None
    completed = subprocess.run(
        [FISH, "--no-config", "-c", f"source {script}; complete -C $argv[1]", line],
        capture_output=True,
        text=True,
        cwd=folder,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return sorted(row.split("\t")[0] for row in completed.stdout.splitlines())


@needs_fish
def test_fish_script_is_valid_fish(parser: argparse.ArgumentParser, folder: Path) -> None:
    assert FISH is not None
    script = _script(parser, "fish", folder)
    completed = subprocess.run(
        [FISH, "--no-execute", str(script)], capture_output=True, check=False
    )
    assert completed.returncode == 0, completed.stderr


@needs_fish
@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("tokenverify ve", ["verify"]),
        ("tokenverify keys a", ["add"]),
        ("tokenverify keys schema --d", ["--debug"]),
        ("tokenverify verify --ke", ["--keys"]),
        ("tokenverify --color ", ["always", "auto", "never"]),
        ("tokenverify schema ", ["audit", "inspect", "keys", "policy", "verify"]),
        ("tokenverify verify --keys k", ["keys.json"]),
        ("tokenverify verify my", ["my checkout.json"]),
        ("tokenverify demo --dir ", ["store/"]),
        ("tokenverify verify --fingerprint ", []),
        ("tokenverify --color never keys l", ["list"]),
    ],
)
def test_fish_completes_commands_flags_and_values(
    parser: argparse.ArgumentParser, folder: Path, line: str, expected: list[str]
) -> None:
    script = _script(parser, "fish", folder)
    assert _fish_complete(script, folder, line) == expected
