"""Fixtures for the audit tests: cheap issuers (RSA-2048) and one generated store per session.

The store is built once (about 20 signatures) and only ever read; tests that write
(outputs, resumed runs, copies) write beside it in their own ``tmp_path``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tokenverify.testing import TestIssuer

from .support import FINGERPRINT, UNKNOWN_FINGERPRINT, Expected, Store, build_store, write_big_jsonl

SCRIPT = Path(sys.executable).with_name("tokenverify")


@pytest.fixture(scope="session")
def audit_issuer() -> TestIssuer:
    """The trusted issuer: PS256 over RSA-2048 (key size does not matter to an audit)."""
    return TestIssuer.generate("PS256", fingerprint=FINGERPRINT, key_size=2048)


@pytest.fixture(scope="session")
def store(tmp_path_factory: pytest.TempPathFactory, audit_issuer: TestIssuer) -> Store:
    """The mixed store at ``<tmp>/store``; ids are relative to ``<tmp>``."""
    stranger = TestIssuer.generate("PS256", fingerprint=FINGERPRINT, key_size=2048)
    nobody = TestIssuer.generate("ES256", fingerprint=UNKNOWN_FINGERPRINT, kid=UNKNOWN_FINGERPRINT)
    root = tmp_path_factory.mktemp("audit") / "store"
    return build_store(root, audit_issuer, stranger, nobody)


@dataclass(frozen=True)
class BigStore:
    """A JSON Lines file long enough for the process pool (and to be interrupted)."""

    path: Path
    expected: list[Expected]


@pytest.fixture(scope="session")
def big_store(store: Store) -> BigStore:
    """6,000 lines cycling through the archive's mix: enough to start the pool."""
    path = store.root.parent / "big" / "big.jsonl"
    path.parent.mkdir()
    return BigStore(path, write_big_jsonl(path, store, 6000))


@pytest.fixture(scope="session")
def huge_store(store: Store) -> BigStore:
    """20,000 lines: about a second of work on two workers, long enough to interrupt."""
    path = store.root.parent / "huge" / "huge.jsonl"
    path.parent.mkdir()
    return BigStore(path, write_big_jsonl(path, store, 20000))


@pytest.fixture
def in_store_parent(store: Store, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from the store's parent folder, so ids read ``store/...``."""
    monkeypatch.chdir(store.root.parent)
    return store.root.parent


@dataclass(frozen=True)
class Run:
    """What one run of ``tokenverify`` printed and returned."""

    code: int
    out: str
    err: str


def run_tokenverify(
    *args: str | Path, cwd: Path, input: bytes | None = None, env: dict[str, str] | None = None
) -> Run:
    """Run the installed console script (the real entry point) and wait for it."""
    environment = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    environment.update(env or {})
    completed = subprocess.run(
        [str(SCRIPT), *map(str, args)],
        input=input if input is not None else b"",
        capture_output=True,
        cwd=cwd,
        env=environment,
        timeout=120,
        check=False,
    )
    return Run(
        completed.returncode,
        completed.stdout.decode("utf-8", "replace"),
        completed.stderr.decode("utf-8", "replace"),
    )
