"""No hostile byte reaches a terminal: what a token, keys file or file name carries is
escaped in every human view, on a real pseudo-terminal, colour on or off.

Signed free text (nodeId, checkoutMetadata, entitlement names) is chosen by licensees,
labels and key ids by whoever wrote the keys file; printed raw, a CR repaints the row of
a VALID result, OSC 52 writes the clipboard and bidi overrides reorder what is read.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tokenverify as tv
from tokenverify._display import unescape
from tokenverify.cli import _keys as _cli_keys
from tokenverify.cli import _verify as _cli_verify
from tokenverify.cli._output import Console
from tokenverify.testing import TestIssuer

from .support import FINGERPRINT, SCRIPT, on_terminal

NODE = "node-7\rVALID"  # a CR repaints the row: "VALIDnode-7" would read "VALID"
OSC52 = "\x1b]52;c;cm0gLXJmIH4K\x07"  # writes the clipboard on terminals that allow it
BIDI = "Users\u202etnuoC 0001"  # RLO: reads as "Users1000 Count"
SGR = re.compile(r"\x1b\[[0-9;]*m")


def _run_in_terminal(args: list[str | Path], *, colour: bool = False) -> str:
    """Run the script with stdout and stderr on a pseudo-terminal; return what reached it."""
    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM")}
    if not colour:
        environment["NO_COLOR"] = "1"
    # The terminal turns each newline into CR LF (onlcr): those CRs are the terminal's.
    return on_terminal(args, environment).decode("utf-8").replace("\r\n", "\n")


def _assert_nothing_drives_the_terminal(screen: str, *, colour: bool = False) -> None:
    text = SGR.sub("", screen) if colour else screen
    raw = sorted({c for line in text.split("\n") for c in line if not c.isprintable()})
    assert raw == [], f"raw control characters reached the terminal: {raw!r}\n{screen!r}"


@pytest.fixture
def hostile_checkout(issuer: TestIssuer, tmp_path: Path) -> Path:
    path = tmp_path / "hostile.json"
    response = issuer.checkout(
        node_id=NODE,
        entitlements=[(BIDI, "10", "Count"), ("Users", "5", "Count")],
        checkout_metadata={"Mac": OSC52, "line\u2028sep": "c1\x9b31m"},
    )
    path.write_text(json.dumps(response))
    return path


@pytest.mark.parametrize("colour", [False, True], ids=["NO_COLOR", "colour"])
def test_verify_on_a_terminal_escapes_signed_free_text(
    hostile_checkout: Path, keys_file: Path, colour: bool
) -> None:
    screen = _run_in_terminal(["verify", hostile_checkout, "--keys", keys_file], colour=colour)
    _assert_nothing_drives_the_terminal(screen, colour=colour)
    plain = SGR.sub("", screen)
    assert plain.startswith("VALID  ")
    assert "  node         node-7\\rVALID\n" in plain
    assert "Mac=\\x1b]52;c;cm0gLXJmIH4K\\x07" in plain
    assert "Users\\u202etnuoC 0001 10 Count" in plain
    assert "line\\u2028sep=c1\\x9b31m" in plain


def test_a_rejection_on_a_terminal_escapes_the_file_name_and_message(
    hostile_checkout: Path, keys_file: Path, tmp_path: Path
) -> None:
    named = tmp_path / "a\x1b]0;owned\x07.json"
    named.write_bytes(hostile_checkout.read_bytes())
    screen = _run_in_terminal(["verify", named, "--keys", keys_file, "--node-id", "node-8"])
    _assert_nothing_drives_the_terminal(screen)
    assert screen.startswith("REJECTED  ")
    assert "a\\x1b]0;owned\\x07.json: node_mismatch" in screen


def test_inspect_on_a_terminal_escapes_header_payload_and_envelope(
    issuer: TestIssuer, tmp_path: Path, keys_file: Path
) -> None:
    path = tmp_path / "hostile.json"
    response = issuer.checkout(
        node_id=NODE,
        entitlements=[(BIDI, "10", "Count")],
        checkout_metadata={"Mac": OSC52},
        header={"kid": "k\x9b2J"},
        envelope={"Note": "\u2028\x7f"},
    )
    path.write_text(json.dumps(response))
    screen = _run_in_terminal(["inspect", path, "--unverified", "--keys", keys_file])
    _assert_nothing_drives_the_terminal(screen)
    assert screen.startswith("UNVERIFIED")
    # The JSON's own escapes are doubled, so unescape() gives back the JSON text.
    assert '"nodeId": "node-7\\\\rVALID"' in screen
    assert '"kid": "k\\x9b2J"' in screen
    assert '"Note": "\\u2028\\x7f"' in screen
    line = next(line for line in screen.split("\n") if '"nodeId"' in line)
    assert json.loads("{" + unescape(line).strip().rstrip(",") + "}") == {"nodeId": NODE}


@pytest.mark.parametrize("colour", [False, True], ids=["NO_COLOR", "colour"])
def test_keys_list_and_show_on_a_terminal_escape_labels_and_key_ids(
    cli_files: Path, tmp_path: Path, colour: bool
) -> None:
    keys = tmp_path / "keys.json"
    label = "KMS key of 2026\nVALID  forged row"
    fingerprint = FINGERPRINT  # fingerprints must be printable to be registered at all
    added = subprocess.run(
        [
            str(SCRIPT),
            "keys",
            "add",
            str(cli_files / "issuer.pub.pem"),
            "--keys",
            str(keys),
            "--fingerprint",
            fingerprint,
            "--algorithms",
            "PS384",
            "--label",
            label,
            "--key-id",
            "kid\x1b[2J",
        ],
        capture_output=True,
        check=False,
    )
    assert added.returncode == 0, added.stderr
    listing = _run_in_terminal(["keys", "list", "--keys", keys], colour=colour)
    shown = _run_in_terminal(["keys", "show", "kid\x1b[2J", "--keys", keys], colour=colour)
    for screen in (listing, shown):
        _assert_nothing_drives_the_terminal(screen, colour=colour)
        plain = SGR.sub("", screen)
        assert "  label       KMS key of 2026\\nVALID  forged row\n" in plain
        assert "  key id      kid\\x1b[2J\n" in plain
        assert plain.startswith(f"{FINGERPRINT}\n")
        assert "\nVALID" not in plain
    assert "-----BEGIN PUBLIC KEY-----" in shown


def test_error_lines_escape_what_they_quote(keys_file: Path, tmp_path: Path) -> None:
    missing = tmp_path / "gone\x1b]52;c;eA==\x07.json"
    screen = _run_in_terminal(["verify", missing, "--keys", keys_file])
    _assert_nothing_drives_the_terminal(screen)
    assert screen.startswith("tokenverify: error: cannot read ")
    unknown = _run_in_terminal(["keys", "list", "--keys", keys_file, "--\x1b[31mred"])
    _assert_nothing_drives_the_terminal(unknown)
    assert "\\x1b[31mred" in unknown


def test_json_output_stays_exact(hostile_checkout: Path, keys_file: Path) -> None:
    done = subprocess.run(
        [str(SCRIPT), "verify", str(hostile_checkout), "--keys", str(keys_file), "--json"],
        capture_output=True,
        check=True,
    )
    checkout = json.loads(done.stdout)["checkout"]
    assert checkout["node_id"] == NODE
    assert checkout["checkout_metadata"]["Mac"] == OSC52
    assert checkout["entitlements"][0]["name"] == BIDI


# --- the property: any text, only printable characters, and recoverable -----------------

# Text a token or keys file may carry: every code point but lone surrogates (which no
# UTF-8 document can hold), weighted towards controls, bidi and separators.
_HOSTILE = "\x00\x07\x08\t\n\r\x1b\x7f\x85\x9b\\\u200b\u200d\u202a\u202e\u2066\u2069\u2028\u2029"
_hostile_characters = st.sampled_from([*_HOSTILE, "\ufeff", "\U000e0001", "\u00a0", "\u3000"])
_any_text = st.text(
    st.one_of(_hostile_characters, st.characters(exclude_categories=["Cs"])),
    min_size=1,
    max_size=24,
)


def _lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().split("\n")


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(node=_any_text, name=_any_text, key=_any_text, value=_any_text)
def test_verify_view_prints_only_printable_text_and_the_original_is_recoverable(
    eddsa_issuer: TestIssuer, node: str, name: str, key: str, value: str
) -> None:
    response = eddsa_issuer.checkout(
        node_id=node,
        entitlements=[(name, "5", "Count")],
        checkout_metadata={key: value},
    )
    verdict = tv.Verifier(eddsa_issuer.registry()).check(response)
    assert verdict.checkout is not None, verdict.message
    out = io.StringIO()
    _cli_verify._print_valid(
        "checkout.json",
        verdict.checkout,
        verdict.checkout.expiration.timestamp() - 60,
        Console("never", out=out, err=io.StringIO()),
    )
    lines = _lines(out)
    assert all(line.isprintable() for line in lines), lines
    rows = {line[2:15].strip(): line[15:] for line in lines if line.startswith("  ")}
    assert unescape(rows["node"]) == node
    assert unescape(rows["entitlements"]) == f"{name} 5 Count"
    assert unescape(rows["metadata"]) == f"{key}={value}"


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(label=_any_text, key_id=_any_text)
def test_key_view_prints_only_printable_text_and_the_original_is_recoverable(
    eddsa_issuer: TestIssuer, label: str, key_id: str
) -> None:
    # Fingerprints must be printable to be registered; labels and key ids may hold anything.
    registry = tv.KeyRegistry()
    (key,) = registry.add(
        FINGERPRINT, eddsa_issuer.private_key.public_key(), label=label, key_id=key_id
    )
    out = io.StringIO()
    _cli_keys._print_key(key, Console("never", out=out, err=io.StringIO()), pem=True)
    lines = _lines(out)
    assert all(line.isprintable() for line in lines), lines
    assert lines[0] == FINGERPRINT
    rows = {line[2:14].strip(): line[14:] for line in lines if line.startswith("  ")}
    assert unescape(rows["label"]) == label
    assert unescape(rows["key id"]) == key_id


def test_a_rejection_message_holding_raw_controls_is_escaped() -> None:
    """Library messages quote values with repr(); the line escapes whatever is left."""
    err = io.StringIO()
    message = "Object contains unknown field `\x1b]52;c;eA==\x07`\n\u202eforged"
    _cli_verify._print_rejected(
        "c.json", tv.Reason.invalid_claims, message, Console("never", out=io.StringIO(), err=err)
    )
    first, remedy = err.getvalue().splitlines()
    assert first.isprintable()
    assert remedy.isprintable()
    assert first == (
        "REJECTED  c.json: invalid_claims: Object contains unknown field "
        "`\\x1b]52;c;eA==\\x07` \\u202eforged"
    )
