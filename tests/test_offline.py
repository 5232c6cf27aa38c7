"""The offline guarantee: verifying never touches the network or starts a process.

A ``sys.addaudithook`` hook cannot be removed once installed, so each check runs in a
fresh interpreter. The hook is installed before ``import tokenverify`` and records (and
refuses, by raising) every audit event of the network, DNS and process families:
``socket.*`` (``socket.getaddrinfo``, ``socket.gethostbyname``, ``socket.connect``...),
``subprocess.Popen``, ``os.system``, ``os.exec*``, ``os.spawn*``, ``os.posix_spawn*``,
``os.fork*``, plus ``http.client.*``, ``urllib.Request``, ``ftplib.*``, ``smtplib.*``
and ``webbrowser.open``. Code under test could swallow the hook's exception, so the
events are also reported back and must be none.

Each phase also reports what it decided, so the test knows the work was really done:
every fixture through ``Verifier.verify`` as a path, bytes, text and dict (decisions
checked against fixtures/manifest.json), ``verify_compact``, ``KeyRegistry.load`` and
``add``, tokens whose headers point at embedded or remote keys, a Verifier with a
ClockGuard and a RevocationList, the CLI's verify command in-process
(``tokenverify.cli.main``), and ``tokenverify.audit`` (library and CLI in-process; and a
parallel audit, whose worker pool may use AF_UNIX sockets for its own IPC, the only
socket events allowed anywhere, and never a name lookup).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"

_HARNESS = textwrap.dedent(
    r"""
    import sys

    FORBIDDEN_PREFIXES = (
        "socket.", "subprocess.", "os.exec", "os.spawn", "os.posix_spawn",
        "http.client.", "ftplib.", "smtplib.", "nntplib.", "poplib.", "imaplib.", "telnetlib.",
    )
    FORBIDDEN = {"os.system", "os.startfile", "urllib.Request", "webbrowser.open", "pty.spawn"}
    NAME_LOOKUPS = ("socket.getaddrinfo", "socket.gethost", "socket.getnameinfo")
    # Phases allowed local IPC: AF_UNIX sockets of a worker pool (never a name lookup).
    LOCAL_IPC_PHASES = {"audit_parallel"}
    AF_UNIX = getattr(__import__("socket"), "AF_UNIX", None)
    phase = "import"
    events = []
    local_ipc = []

    def is_local_ipc(event, args):
        if phase not in LOCAL_IPC_PHASES or event.startswith(NAME_LOOKUPS):
            return False
        if event == "socket.__new__":
            return len(args) > 1 and args[1] == AF_UNIX
        return bool(args) and getattr(args[0], "family", None) == AF_UNIX

    def offline_only(event, args):
        if event in FORBIDDEN or event.startswith(FORBIDDEN_PREFIXES):
            if is_local_ipc(event, args):
                local_ipc.append([phase, event])
                return
            events.append([phase, event, repr(args)[:200]])
            raise RuntimeError(f"offline guarantee broken in {phase}: {event}")

    sys.addaudithook(offline_only)

    import contextlib, io, json, os, tempfile
    from datetime import datetime
    from pathlib import Path

    import tokenverify as tv

    fixtures = Path(sys.argv[1])
    phases = sys.argv[2].split(",")
    manifest = json.loads((fixtures / "manifest.json").read_text())
    keys_file = fixtures / manifest["keys_file"]
    report = {"events": events, "local_ipc": local_ipc, "done": {}}

    def policy_from(document):
        return tv.Policy(
            key_fingerprint=document.get("key_fingerprint"),
            node_id=document.get("node_id"),
            license_arn=document.get("license_arn"),
            product_sku=document.get("product_sku"),
            requirements=[
                tv.Requirement(r["name"], unit=r.get("unit"), minimum=r.get("minimum"))
                for r in document.get("requirements", [])
            ],
            leeway=document.get("leeway", 60),
        )

    def run(name, action):
        global phase
        phase = name
        try:
            report["done"][name] = action()
        except Exception as exc:
            report["done"][name] = f"raised {type(exc).__name__}: {exc}"
        phase = "between phases"

    def load_keys():
        registry = tv.KeyRegistry.load(keys_file)
        extra = tv.KeyRegistry()
        for pem in sorted((fixtures / "keys").glob("*.public.pem")):
            extra.add("aws:1:Offline:issuer-fingerprint", pem, algorithms=None
                      if "es384" in pem.name else ["PS256", "PS384"])
        return [len(registry), len(extra)]

    def verify_fixtures():
        registry = tv.KeyRegistry.load(keys_file)
        outcomes = []
        for entry in manifest["checkouts"]:
            verifier = tv.Verifier(registry, policy_from(entry["policy"]))
            path = fixtures / entry["file"]
            data = path.read_bytes()
            forms = [path, data, data.decode()]
            if data.lstrip().startswith(b"{"):
                forms.append(json.loads(data))
            for source in forms:
                verdict = verifier.check(source, now=datetime.fromisoformat(entry["now"]))
                got = "ok" if verdict.ok else verdict.reason.value
                outcomes.append([entry["file"], type(source).__name__, got, entry["expected"]])
        return outcomes

    def verify_compact():
        registry = tv.KeyRegistry.load(keys_file)
        token = (fixtures / "checkouts" / "bare-token.jwt").read_text().strip()
        header, payload = tv.verify_compact(token, registry, registry.fingerprints()[0])
        return [header["alg"], len(payload)]

    def remote_key_headers():
        issuer = tv.testing.TestIssuer.generate("EdDSA")
        registry = issuer.registry()
        decided = []
        for header in (
            {"jku": "http://127.0.0.1:9/jwks.json"},
            {"x5u": "https://keys.invalid/cert.pem"},
            {"kid": "https://keys.invalid/kid"},
            {"jwk": {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg"}},
        ):
            verdict = tv.Verifier(registry).check(issuer.checkout(header=header))
            decided.append("ok" if verdict.ok else verdict.reason.value)
        return decided

    def clock_and_revocations():
        issuer = tv.testing.TestIssuer.generate("EdDSA")
        folder = Path(tempfile.mkdtemp())
        revocations = folder / "revocations.json"
        revocations.write_text(json.dumps({"revoked": [{"license_arn": "arn:revoked"}]}))
        verifier = tv.Verifier(
            issuer.registry(),
            clock_guard=tv.ClockGuard(folder / "clock.json"),
            revocations=tv.RevocationList.load(revocations),
        )
        good = verifier.check(issuer.checkout())
        bad = verifier.check(issuer.checkout(license_arn="arn:revoked"))
        return ["ok" if good.ok else good.reason.value, bad.reason.value]

    def cli(*argv):
        from tokenverify import cli as _cli

        # Text streams over bytes, like the real ones: commands may write to .buffer.
        out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)
        err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = _cli.main([str(arg) for arg in argv])
        return [code, out.buffer.getvalue().decode(), err.buffer.getvalue().decode()]

    def cli_verify():
        fingerprint = manifest["checkouts"][0]["policy"]["key_fingerprint"]
        common = ["--keys", keys_file, "--fingerprint", fingerprint, "--at", "2026-01-01T00:30:00Z"]
        return [
            cli("verify", fixtures / "checkouts" / "valid.json", "--node-id", "node-7", *common),
            cli("verify", fixtures / "checkouts" / "wrong-key.json", "--json", *common),
        ]

    def audit_library():
        from tokenverify import audit

        fingerprint = manifest["checkouts"][0]["policy"]["key_fingerprint"]
        auditor = audit.Auditor(
            keys_file, tv.Policy(key_fingerprint=fingerprint), at="issued"
        )
        records = list(auditor.run([fixtures / "checkouts"], workers=1))
        return sorted([Path(r.source).name, r.ok] for r in records)

    def audit_cli():
        output = Path(tempfile.mkdtemp()) / "audit.jsonl"
        fingerprint = manifest["checkouts"][0]["policy"]["key_fingerprint"]
        result = cli(
            "audit", fixtures / "checkouts", "--keys", keys_file, "--fingerprint", fingerprint,
            "--at", "issued", "--workers", "1", "--format", "jsonl", "--output", output,
            "--quiet",
        )
        lines = output.read_text().splitlines() if output.exists() else []
        return [result[0], len(lines), result[2]]

    def audit_parallel():
        from tokenverify import audit

        fingerprint = manifest["checkouts"][0]["policy"]["key_fingerprint"]
        auditor = audit.Auditor(keys_file, tv.Policy(key_fingerprint=fingerprint), at="issued")
        token = (fixtures / "checkouts" / "bare-token.jwt").read_bytes()
        # Enough items for the worker pool to start (below a threshold it stays in-process).
        items = [(str(index), token) for index in range(1100)]
        records = list(auditor.run_items(items, workers=2))
        return [len(records), all(record.ok for record in records)]

    for name in phases:
        run(name, globals()[name])
    phase = "report"
    print(json.dumps(report))
    """
)


def run_offline(*phases: str) -> dict[str, Any]:
    """Run the phases in a fresh interpreter under the audit hook; return what they did."""
    done: dict[str, Any] = run_offline_report(*phases)["done"]
    return done


def run_offline_report(*phases: str) -> dict[str, Any]:
    """Run the phases in a fresh interpreter under the audit hook; return its report."""
    finished = subprocess.run(
        [sys.executable, "-c", _HARNESS, str(FIXTURES), ",".join(phases)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert finished.returncode == 0, finished.stderr
    report: dict[str, Any] = json.loads(finished.stdout.splitlines()[-1])
    assert report["events"] == [], report["events"]
    for name in phases:
        assert not str(report["done"][name]).startswith("raised"), report["done"][name]
    return report


def test_hook_catches_network_and_process_events() -> None:
    """The harness itself works: a deliberate connection attempt and process are caught."""
    harness = _HARNESS.replace(
        "for name in phases:",
        "def reach_out():\n"
        "    import socket\n"
        "    try:\n"
        "        socket.getaddrinfo('example.com', 443)\n"
        "    except RuntimeError:\n"
        "        pass\n"
        "    try:\n"
        "        socket.create_connection(('127.0.0.1', 9), timeout=0.1)\n"
        "    except (RuntimeError, OSError):\n"
        "        pass\n"
        "    import subprocess\n"
        "    try:\n"
        "        subprocess.run(['true'])\n"
        "    except RuntimeError:\n"
        "        pass\n"
        "    try:\n"
        "        os.system('true')\n"
        "    except RuntimeError:\n"
        "        pass\n"
        "    return 'reached'\n"
        "for name in phases:",
    )
    finished = subprocess.run(
        [sys.executable, "-c", harness, str(FIXTURES), "reach_out"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert finished.returncode == 0, finished.stderr
    report = json.loads(finished.stdout.splitlines()[-1])
    caught = {event for phase, event, _ in report["events"] if phase == "reach_out"}
    assert {"socket.getaddrinfo", "subprocess.Popen", "os.system"} <= caught, caught


def test_loading_keys_and_verifying_every_fixture_stay_offline() -> None:
    done = run_offline("load_keys", "verify_fixtures", "verify_compact")
    assert done["load_keys"] == [3, 4]
    outcomes = done["verify_fixtures"]
    # Every manifest entry in every input form (path, bytes, str and, for JSON, dict).
    assert len(outcomes) >= 4 * 11
    assert all(got == expected for _, _, got, expected in outcomes), outcomes
    assert done["verify_compact"][0] == "PS384"


def test_keys_named_in_token_headers_are_never_fetched() -> None:
    done = run_offline("remote_key_headers")
    # jku/x5u/jwk are ignored (verified with the registry key); a kid that is a URL is a
    # hint matching nothing: never fetched, the one issuer's registry key verifies.
    assert done["remote_key_headers"] == ["ok", "ok", "ok", "ok"]


def test_clock_guard_and_revocation_list_stay_offline() -> None:
    assert run_offline("clock_and_revocations")["clock_and_revocations"] == ["ok", "revoked"]


def test_cli_verify_in_process_stays_offline() -> None:
    valid, wrong_key = run_offline("cli_verify")["cli_verify"]
    assert valid[0] == 0, valid
    assert wrong_key[0] == 1, wrong_key
    assert '"reason": "bad_signature"' in wrong_key[1]


AUDIT_AVAILABLE = importlib.util.find_spec("tokenverify.audit") is not None


@pytest.mark.skipif(not AUDIT_AVAILABLE, reason="tokenverify.audit is not built yet")
def test_audit_library_and_cli_in_one_process_stay_offline() -> None:
    """Auditing with workers=1 (in this process); worker processes are local by design."""
    done = run_offline("audit_library", "audit_cli")
    names = {name for name, _ in done["audit_library"]}
    assert names == {path.name for path in (FIXTURES / "checkouts").iterdir()}
    code, lines, errors = done["audit_cli"]
    assert code == 1, errors  # some fixtures are rejected on purpose
    assert lines == len(names)


@pytest.mark.skipif(not AUDIT_AVAILABLE, reason="tokenverify.audit is not built yet")
def test_parallel_audit_uses_only_local_ipc() -> None:
    """Worker processes talk over AF_UNIX sockets (the forkserver); nothing else."""
    report = run_offline_report("audit_parallel")
    assert report["done"]["audit_parallel"] == [1100, True]
    # Whatever local IPC the pool used was AF_UNIX only (checked by the hook), never a lookup.
    assert all(phase == "audit_parallel" for phase, _ in report["local_ipc"])
