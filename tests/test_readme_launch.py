"""The README's launch example runs as written.

The block after the ``launch-example`` marker is executed with what the README says it
expects to find: an exported ``trust_anchors`` module on the import path and a saved
checkout at ``CHECKOUT``, both prepared here from a test issuer with the README's
``ISSUER`` fingerprint and bound to this machine's id. The only change made to the code is
where ``CHECKOUT`` points (the test cannot write ``/etc``), and that line must be there.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import tokenverify as tv
from tokenverify._trust_export import export_module
from tokenverify.testing import TestIssuer

README = Path(__file__).resolve().parents[1] / "README.md"
MARKER = "<!-- launch-example:"
CHECKOUT_LINE = re.compile(r'^CHECKOUT = Path\("(/etc/myapp/checkout\.json)"\)', re.MULTILINE)
NAMESPACE = "my-product"
DAY = 86400


def launch_example() -> str:
    """The Python block that follows the marker in README.md."""
    text = README.read_text(encoding="utf-8")
    assert text.count(MARKER) == 1, "README.md must mark exactly one launch example"
    after = text[text.index(MARKER) :]
    block = re.search(r"```python\n(.*?)```", after, re.DOTALL)
    assert block is not None, "no ```python block after the launch-example marker"
    return block.group(1)


def test_readme_marks_the_launch_example_with_what_issue_9_asks_it_to_show() -> None:
    code = launch_example()
    for shown in (
        "import trust_anchors",
        "trust_anchors.registry()",
        f'tv.node.machine_id(namespace="{NAMESPACE}")',
        "grace=timedelta(days=3)",
        "warn_before=timedelta(days=7)",
        "for warning in verdict.warnings:",
        "print(warning.message)",
    ):
        assert shown in code
    assert CHECKOUT_LINE.search(code) is not None
    compile(code, "README.md", "exec")  # valid Python before it is run below


@pytest.fixture(scope="module")
def issuer() -> TestIssuer:
    fingerprint = re.search(r'^ISSUER = "([^"]+)"', launch_example(), re.MULTILINE)
    assert fingerprint is not None, "the example names its ISSUER"
    return TestIssuer.generate("PS384", fingerprint=fingerprint.group(1), key_size=2048)


@pytest.fixture
def node_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """This machine's id for the README's namespace; a machine without one (a bare container)
    is given one in a file, as its image should have."""
    try:
        return tv.node.machine_id(namespace=NAMESPACE)
    except tv.node.MachineIdError:
        machine_id = tmp_path / "machine-id"
        machine_id.write_text("0123456789abcdef0123456789abcdef\n", encoding="ascii")
        sources = (tv.node.MachineIdFile(str(machine_id)),)
        monkeypatch.setattr(tv.node, "default_sources", lambda: sources)
        return tv.node.machine_id(namespace=NAMESPACE)


def run_example(
    folder: Path, issuer: TestIssuer, response: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Prepare what the example expects, then execute it as ``__main__`` would."""
    (folder / "trust_anchors.py").write_text(export_module(issuer.registry()), encoding="utf-8")
    checkout = folder / "checkout.json"
    checkout.write_text(json.dumps(response, indent=2), encoding="utf-8")
    code = launch_example()
    here, count = CHECKOUT_LINE.subn(f"CHECKOUT = Path({str(checkout)!r})", code)
    assert count == 1
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.delitem(sys.modules, "trust_anchors", raising=False)
    try:
        exec(compile(here, "README.md", "exec"), {"__name__": "__main__"})  # noqa: S102
    finally:
        sys.modules.pop("trust_anchors", None)


def _checkout(issuer: TestIssuer, node_id: str, *, ttl: float, age: float) -> dict[str, Any]:
    return issuer.checkout(
        node_id=node_id,
        entitlements=[("Users", "10", "Count")],
        ttl=ttl,
        issued_at=time.time() - age,
    )


def test_a_valid_checkout_prints_when_it_is_licensed_until(
    tmp_path: Path,
    issuer: TestIssuer,
    node_id: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run_example(tmp_path, issuer, _checkout(issuer, node_id, ttl=30 * DAY, age=60), monkeypatch)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1  # no warning: a month left
    assert lines[0].startswith("licensed until ")


def test_a_checkout_close_to_expiry_prints_a_warning_first(
    tmp_path: Path,
    issuer: TestIssuer,
    node_id: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run_example(tmp_path, issuer, _checkout(issuer, node_id, ttl=2 * DAY, age=60), monkeypatch)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) >= 2
    assert lines[-1].startswith("licensed until ")


def test_an_expired_checkout_within_grace_still_starts_with_a_warning(
    tmp_path: Path,
    issuer: TestIssuer,
    node_id: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    response = _checkout(issuer, node_id, ttl=DAY, age=2 * DAY)  # expired a day ago
    run_example(tmp_path, issuer, response, monkeypatch)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) >= 2
    assert lines[-1].startswith("licensed until ")


def test_an_expired_checkout_past_grace_stops_the_product(
    tmp_path: Path, issuer: TestIssuer, node_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    response = _checkout(issuer, node_id, ttl=DAY, age=5 * DAY)  # expired 4 days ago
    with pytest.raises(SystemExit) as stopped:
        run_example(tmp_path, issuer, response, monkeypatch)
    assert str(stopped.value.code).startswith("license check failed (expired): ")


def test_a_checkout_of_another_machine_stops_the_product(
    tmp_path: Path, issuer: TestIssuer, node_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    response = _checkout(issuer, "f" * 64, ttl=30 * DAY, age=60)
    with pytest.raises(SystemExit) as stopped:
        run_example(tmp_path, issuer, response, monkeypatch)
    assert str(stopped.value.code).startswith("license check failed (node_mismatch): ")
