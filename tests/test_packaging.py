"""What is released: the sdist ships the tests and all they read, the metadata says what
the project is, and LICENSE is the Apache License 2.0 the metadata names.

The sdist is built here as ``make test`` builds it, but without build isolation (the dev
extra brings setuptools and build), so that no test needs the network; ``make package``
builds both distributions isolated and runs ``twine check`` on them.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tarfile
import tomllib
from email.message import Message
from email.parser import HeaderParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Tracked, but not part of a release: the CI script and git's own settings.
NOT_SHIPPED = (".ci/", ".gitignore")
#: What the sdist build adds by itself.
GENERATED = ("PKG-INFO", "setup.cfg", "src/tokenverify.egg-info/")
#: Never shipped, wherever they appear.
JUNK = ("__pycache__/", ".pyc", ".hypothesis/", ".venv/", "scratch/", "fuzz/corpus/")
#: Left out of the copy the sdist is built from: git, the venv, stale build output, caches.
_NOT_COPIED = (".git", ".venv", "*.egg-info", "build", "dist", ".mypy_cache", ".ruff_cache")
#: SHA-256 of https://www.apache.org/licenses/LICENSE-2.0.txt, the text as published.
APACHE_2_0_SHA256 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"


@pytest.fixture(scope="module")
def sdist(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], Message]:
    """The sdist's file names (relative to its top folder) and its PKG-INFO."""
    pytest.importorskip("build", reason="the dev extra installs build")
    # From a copy without the egg-info that the editable install left: setuptools adds the
    # files its SOURCES.txt lists, so a file dropped from MANIFEST.in would seem shipped.
    tree = tmp_path_factory.mktemp("tree") / "tokenverify"
    shutil.copytree(ROOT, tree, ignore=shutil.ignore_patterns(*_NOT_COPIED), symlinks=True)
    out = tmp_path_factory.mktemp("dist")
    completed = subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--no-isolation", "--outdir", out, tree],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    (archive,) = out.glob("*.tar.gz")
    with tarfile.open(archive) as sdist:
        members = [m for m in sdist.getmembers() if m.isfile()]
        top = members[0].name.split("/")[0]
        names = sorted(m.name.removeprefix(f"{top}/") for m in members)
        info = sdist.extractfile(f"{top}/PKG-INFO")
        assert info is not None
        metadata = HeaderParser().parsestr(info.read().decode("utf-8"))
    return names, metadata


def _source_files() -> list[str]:
    """The project's files: what git tracks, or in an unpacked sdist what is there."""
    git = shutil.which("git")
    if git is not None and (ROOT / ".git").exists():
        listed = subprocess.run(
            [git, "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
        )
        return sorted(name for name in listed.stdout.decode().split("\0") if name)
    return sorted(
        path.relative_to(ROOT).as_posix()
        for path in ROOT.rglob("*")
        if path.is_file() and not _is(path.relative_to(ROOT).as_posix(), JUNK + GENERATED)
    )


def _is(name: str, kinds: tuple[str, ...]) -> bool:
    return any(
        name.startswith(kind) or f"/{kind}" in f"/{name}" or name.endswith(kind) for kind in kinds
    )


def test_sdist_ships_every_project_file_so_its_tests_run(
    sdist: tuple[list[str], Message],
) -> None:
    names, _ = sdist
    expected = [name for name in _source_files() if not _is(name, NOT_SHIPPED)]
    missing = sorted(set(expected) - set(names))
    assert missing == [], "not in the sdist (add them to MANIFEST.in): " + ", ".join(missing)
    for must in ("tests/conftest.py", "fixtures/keys.json", "LICENSE", "CHANGELOG.md"):
        assert must in names


def test_sdist_ships_no_ci_cache_or_scratch(sdist: tuple[list[str], Message]) -> None:
    names, _ = sdist
    extra = [n for n in names if _is(n, NOT_SHIPPED + JUNK)]
    assert extra == []


def test_metadata_names_the_license_and_its_file(sdist: tuple[list[str], Message]) -> None:
    _, metadata = sdist
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata.get_all("License-File") == ["LICENSE"]
    classifiers = metadata.get_all("Classifier") or []
    # PEP 639: the expression replaces license classifiers (setuptools refuses both).
    assert [c for c in classifiers if c.startswith("License ::")] == []
    assert "Typing :: Typed" in classifiers
    assert "Topic :: Security :: Cryptography" in classifiers


def test_python_classifiers_follow_requires_python(sdist: tuple[list[str], Message]) -> None:
    _, metadata = sdist
    assert metadata["Requires-Python"] == ">=3.11"
    versions = [
        c.rsplit(" :: ", 1)[1]
        for c in metadata.get_all("Classifier") or []
        if c.startswith("Programming Language :: Python :: 3.")
    ]
    assert versions == ["3.11", "3.12", "3.13"]
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert running in versions, f"the tests run on Python {running}, which no classifier names"


def test_license_is_the_apache_2_0_text_unmodified() -> None:
    text = (ROOT / "LICENSE").read_bytes()
    assert hashlib.sha256(text).hexdigest() == APACHE_2_0_SHA256
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "Apache-2.0"
    assert project["license-files"] == ["LICENSE"]


def test_changelog_keeps_a_changelog_with_the_released_version() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    headings = [line for line in changelog.splitlines() if line.startswith("## ")]
    assert headings[0] == "## [Unreleased]"
    assert any(h.startswith(f"## [{version}] - ") for h in headings), headings
    groups = {line for line in changelog.splitlines() if line.startswith("### ")}
    allowed = {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}
    assert {g.removeprefix("### ") for g in groups} <= allowed
