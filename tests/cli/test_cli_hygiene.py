"""The command as a whole: --version, --help examples, NO_COLOR, --debug, one-line errors,
and what it must not import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import tokenverify as tv
from tokenverify.cli import _verify as _cli_verify
from tokenverify.testing import TestIssuer

from .support import FINGERPRINT, RunCli, assert_one_line_error, on_terminal

COMMANDS = [
    ["verify"],
    ["inspect"],
    ["keys"],
    ["keys", "add"],
    ["keys", "list"],
    ["keys", "show"],
    ["keys", "remove"],
    ["keys", "schema"],
    ["mint"],
    ["checkout"],
    ["schema"],
    ["demo"],
]


def test_version(run_cli: RunCli) -> None:
    result = run_cli("--version")
    assert result.code == 0
    assert result.out.strip() == f"tokenverify {tv.__version__}"


def test_python_dash_m_runs_the_same_command() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "tokenverify", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0
    assert completed.stdout.strip() == f"tokenverify {tv.__version__}"


def test_top_level_help_lists_every_command_with_examples(run_cli: RunCli) -> None:
    result = run_cli("--help")
    assert result.code == 0
    for command in ("verify", "inspect", "keys", "mint", "checkout", "schema", "demo"):
        assert f"\n    {command} " in result.out
        assert f"tokenverify {command}" in result.out.split("examples:")[1]
    assert "exit codes: 0 valid" in result.out
    assert "NO_COLOR" in result.out


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_help_has_an_example(call_cli: RunCli, command: list[str]) -> None:
    result = call_cli(*command, "--help")
    assert result.code == 0
    assert "example" in result.out
    # An example line that runs this very command.
    examples = result.out.split("example", 1)[1]
    assert f"tokenverify {' '.join(command)}" in examples


def test_verify_help_documents_require_syntax(call_cli: RunCli) -> None:
    out = call_cli("verify", "--help").out
    assert "NAME[>=MIN][ UNIT]" in out
    assert "'Users>=5 Count'" in out
    assert "epoch seconds" in out


def test_no_command_is_one_line_exit_2(run_cli: RunCli) -> None:
    result = run_cli()
    assert_one_line_error(result)
    assert "COMMAND" in result.err
    unknown = run_cli("frobnicate")
    assert_one_line_error(unknown)
    assert "invalid choice" in unknown.err


def test_unknown_option_names_the_subcommand_help(call_cli: RunCli) -> None:
    result = call_cli("keys", "list", "--keys", "k.json", "--bogus")
    assert_one_line_error(result)
    assert "see 'tokenverify keys list --help'" in result.err


def _run_in_terminal(args: list[str], env: dict[str, str]) -> str:
    """Run the script with stdout and stderr on a pseudo-terminal; return what it printed."""
    return on_terminal(args, env).decode("utf-8", "replace")


def test_colour_on_a_terminal_unless_no_color(
    issuer: TestIssuer, keys_file: Path, tmp_path: Path
) -> None:
    checkout = tmp_path / "checkout.json"
    checkout.write_text(json.dumps(issuer.checkout()))
    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM")}
    args = ["verify", str(checkout), "--keys", str(keys_file)]
    coloured = _run_in_terminal(args, environment)
    assert "\x1b[32mVALID\x1b[0m" in coloured
    plain = _run_in_terminal(args, {**environment, "NO_COLOR": "1"})
    assert "VALID" in plain
    assert "\x1b[" not in plain
    # An empty NO_COLOR does not count (no-color.org); --color never always does.
    assert "\x1b[32m" in _run_in_terminal(args, {**environment, "NO_COLOR": ""})
    assert "\x1b[" not in _run_in_terminal([*args, "--color", "never"], environment)


def test_color_always_in_a_pipe(
    run_cli: RunCli, issuer: TestIssuer, keys_file: Path, tmp_path: Path
) -> None:
    checkout = tmp_path / "checkout.json"
    checkout.write_text(json.dumps(issuer.checkout(node_id="node-1")))
    rejected = run_cli(
        "verify", checkout, "--keys", keys_file, "--node-id", "node-2", "--color", "always"
    )
    assert rejected.code == 1
    assert rejected.err.startswith("\x1b[31mREJECTED\x1b[0m")


def test_internal_error_is_one_line_and_debug_shows_the_traceback(
    call_cli: RunCli, keys_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> int:
        raise RuntimeError("simulated bug\nsecond line")

    monkeypatch.setattr(_cli_verify, "verify", broken)
    quiet = call_cli("verify", "x.json", "--keys", keys_file)
    assert_one_line_error(quiet)
    assert "internal error: RuntimeError: simulated bug second line (run with --debug" in quiet.err
    for position in (["--debug", "verify", "x.json"], ["verify", "x.json", "--debug"]):
        loud = call_cli(*position, "--keys", keys_file)
        assert loud.code == 2
        assert "Traceback (most recent call last)" in loud.err
        assert loud.err.rstrip().splitlines()[-1].startswith("tokenverify: internal error")


def test_debug_shows_the_traceback_of_a_usage_error_too(call_cli: RunCli, tmp_path: Path) -> None:
    result = call_cli("--debug", "keys", "list", "--keys", tmp_path / "absent.json")
    assert result.code == 2
    assert "Traceback" in result.err
    assert (
        result.err.rstrip().splitlines()[-1].startswith("tokenverify: error: cannot read keys file")
    )


def test_interrupt_is_exit_130(
    call_cli: RunCli, keys_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(_cli_verify, "verify", interrupted)
    result = call_cli("verify", "x.json", "--keys", keys_file)
    assert result.code == 130
    assert "Traceback" not in result.err


def _modules_after(code: str) -> list[str]:
    watched = ("argparse", "pydantic", "boto3", "botocore", "tokenverify.cli")
    probe = (
        f"{code}\nimport sys\n"
        f"print('modules:', ' '.join(sorted(m for m in {watched!r} if m in sys.modules)))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    return completed.stdout.splitlines()[-1].split()


def test_the_library_never_imports_the_cli() -> None:
    assert _modules_after("import tokenverify") == ["modules:"]
    assert _modules_after("import tokenverify.aws") == ["modules:"]


def test_human_verify_with_a_bare_key_imports_no_pydantic(
    issuer: TestIssuer, cli_files: Path, tmp_path: Path
) -> None:
    checkout = tmp_path / "checkout.json"
    checkout.write_text(json.dumps(issuer.checkout()))
    run = (
        "from tokenverify.cli import main\n"
        f"code = main(['verify', {str(checkout)!r}, "
        f"'--keys', {str(cli_files / 'issuer.pub.pem')!r}, "
        f"'--fingerprint', {FINGERPRINT!r}, '--algorithms', 'PS384'])\n"
        "assert code == 0, code"
    )
    assert _modules_after(run) == ["modules:", "argparse", "tokenverify.cli"]


def test_demo_leaves_an_environment_every_command_works_in(
    run_cli: RunCli, call_cli: RunCli, tmp_path: Path
) -> None:
    folder = tmp_path / "demo"
    demo = run_cli("demo", "--dir", folder)
    assert demo.code == 0, demo
    assert "valid.json               VALID" in demo.out
    assert f"tokenverify verify {folder}/valid.json --keys {folder}/keys.json" in demo.out
    # ...and ends with an audit of the store, judged at issue time.
    assert "audited 7 tokens at issue: 3 valid, 4 rejected" in demo.out
    keys, policy = folder / "keys.json", folder / "policy.json"
    # The commands it suggests, in-process (quicker; the script itself ran above).
    valid = call_cli("verify", folder / "valid.json", "--keys", keys, "--policy", policy)
    assert valid.code == 0, valid
    for name, reason in [
        ("expired.json", "expired"),
        ("wrong-node.json", "node_mismatch"),
        ("too-few-users.json", "entitlement_insufficient"),
        ("tampered-envelope.json", "envelope_mismatch"),
        ("forged-key.json", "bad_signature"),
    ]:
        rejected = call_cli("verify", folder / name, "--keys", keys, "--policy", policy)
        assert rejected.code == 1, (name, rejected)
        assert f": {reason}: " in rejected.err.splitlines()[0]
    assert call_cli("inspect", folder / "forged-key.json", "--unverified", "--keys", keys).code == 0
    listing = call_cli("keys", "list", "--keys", keys)
    assert "RSA-4096 [PS384]" in listing.out
