"""Fixtures for the command line tests: a cheap issuer, its keys file, and two ways to run.

``run_cli`` runs the installed ``tokenverify`` console script in a subprocess (the real
entry point, its real exit code and streams); ``call_cli`` runs ``main()`` in-process,
which is ten times quicker and lets a test swap the boto3 client for a stubbed one.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tokenverify.cli import main
from tokenverify.testing import TestIssuer

from .support import FINGERPRINT, SCRIPT, Result, RunCli


@pytest.fixture(scope="session")
def issuer() -> TestIssuer:
    """PS384 like AWS, on RSA-2048: key size does not matter to the command line."""
    return TestIssuer.generate("PS384", fingerprint=FINGERPRINT, key_size=2048)


@pytest.fixture(scope="session")
def stranger() -> TestIssuer:
    """Same fingerprint, a key nobody registered: a forger."""
    return TestIssuer.generate("PS384", fingerprint=FINGERPRINT, key_size=2048)


@pytest.fixture(scope="session")
def cli_files(tmp_path_factory: pytest.TempPathFactory, issuer: TestIssuer) -> Path:
    """A folder with the issuer's public key, a keys file trusting it, and a private key."""
    folder = tmp_path_factory.mktemp("cli")
    (folder / "issuer.pub.pem").write_text(issuer.public_pem())
    (folder / "issuer.pem").write_text(issuer.private_pem())
    issuer.registry().save(folder / "keys.json")
    return folder


@pytest.fixture
def keys_file(cli_files: Path) -> Path:
    return cli_files / "keys.json"


@pytest.fixture
def save_checkout(tmp_path: Path) -> Callable[[dict[str, Any], str], Path]:
    """Write a response as a saved checkout file and return its path."""

    def save(response: dict[str, Any], name: str = "checkout.json") -> Path:
        path = tmp_path / name
        path.write_text(json.dumps(response, indent=2))
        return path

    return save


@pytest.fixture
def run_cli() -> RunCli:
    """Run the installed console script: ``run_cli("verify", path, input=b"...")``."""

    def run(
        *args: str | Path, input: bytes | None = None, env: dict[str, str] | None = None
    ) -> Result:
        environment = dict(os.environ)
        environment.pop("NO_COLOR", None)  # tests that care set it themselves
        environment.update(env or {})
        completed = subprocess.run(
            [str(SCRIPT), *map(str, args)],
            input=input if input is not None else b"",
            capture_output=True,
            env=environment,
            timeout=60,
            check=False,
        )
        return Result(
            completed.returncode,
            completed.stdout.decode("utf-8"),
            completed.stderr.decode("utf-8"),
        )

    return run


@pytest.fixture
def call_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> RunCli:
    """Run ``main([...])`` in-process; ``input`` becomes stdin."""

    def call(*args: str | Path, input: bytes | None = None) -> Result:
        stdin = io.TextIOWrapper(io.BytesIO(input if input is not None else b""))
        monkeypatch.setattr(sys, "stdin", stdin)
        capsys.readouterr()
        code = main([str(arg) for arg in args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return call


@pytest.fixture
def aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Dummy credentials and a region; no config file, no instance metadata: no network."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "dummy-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
