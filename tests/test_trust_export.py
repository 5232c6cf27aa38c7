"""Exported trust anchors: a module that rebuilds the registry, checked as KeyRegistry.add is.

Each test imports a module written by the exporter (from a temporary folder, as a product
would import its own), so what is tested is the generated source itself: that it rebuilds
the same registry, refuses the edits a person could make by hand, reads no file and
imports no pydantic, is the same bytes for the same keys, and passes ruff and mypy.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

import tokenverify as tv
from tokenverify._trust_export import HEADER, export_module
from tokenverify.testing import TestIssuer
from tokenverify.trust import TrustAnchor, build_registry, seal

FINGERPRINT = "aws:111122223333:Export Test:issuer-fingerprint"
OTHER = "aws:444455556666:Other 'Quoted' \"Vendor\":issuer-fingerprint"
ISSUED = datetime(2026, 6, 1, tzinfo=UTC)
RUFF = Path(sys.executable).with_name("ruff")
JANUARY = 'not_before="2026-01-01T00:00:00Z"'


@pytest.fixture(scope="module")
def rsa_issuer() -> TestIssuer:
    return TestIssuer.generate("PS384", fingerprint=FINGERPRINT, key_size=2048)


@pytest.fixture(scope="module")
def ec_issuer() -> TestIssuer:
    return TestIssuer.generate("ES384", fingerprint=OTHER)


@pytest.fixture(scope="module")
def registry(rsa_issuer: TestIssuer, ec_issuer: TestIssuer) -> tv.KeyRegistry:
    """Every field in use, and labels that are hard to write as Python literals."""
    trusted = tv.KeyRegistry()
    trusted.add(
        FINGERPRINT,
        rsa_issuer.public_pem(),
        algorithms=["PS384", "PS256"],
        not_before=datetime(2026, 1, 1, tzinfo=UTC),
        not_after="2026-12-31T23:59:59.123456+01:00",
        label='KMS key of 2026 \u2014 "primary", it\'s \\ here \u202e\U0001f511 ' + "x" * 70,
        key_id="arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    )
    trusted.add(OTHER, ec_issuer.public_pem(), label="line one\nline two\t\x1b[31m")
    return trusted


def write_module(folder: Path, text: str, name: str = "trust_anchors") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.py"
    path.write_text(text, encoding="ascii")
    return path


def import_module(path: Path) -> ModuleType:
    """Import a generated file as the product would, under a name of its own."""
    name = f"exported_{abs(hash(path))}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def summary(registry: tv.KeyRegistry) -> list[tuple[object, ...]]:
    return [
        (k.fingerprint, k.thumbprint, k.algorithms, k.not_before, k.not_after, k.label, k.key_id)
        for k in registry
    ]


def exported(registry: tv.KeyRegistry, folder: Path) -> ModuleType:
    return import_module(write_module(folder, export_module(registry)))


# --- the module rebuilds the registry ---------------------------------------------------------


def test_the_module_rebuilds_the_registry_and_it_verifies(
    registry: tv.KeyRegistry, rsa_issuer: TestIssuer, ec_issuer: TestIssuer, tmp_path: Path
) -> None:
    module = exported(registry, tmp_path)
    rebuilt = module.registry()
    assert isinstance(rebuilt, tv.KeyRegistry)
    assert summary(rebuilt) == summary(registry)
    assert module.registry() is not rebuilt  # a new registry each call: nobody shares state
    for issuer in (rsa_issuer, ec_issuer):
        response = issuer.checkout(node_id="n", issued_at=ISSUED, ttl=3600)
        policy = tv.Policy(key_fingerprint=issuer.fingerprint, node_id="n")
        checkout = tv.Verifier(rebuilt, policy).verify(response, now=ISSUED)
        assert checkout.key_fingerprint == issuer.fingerprint
    # The RSA key keeps its window and its pins: issued after not_after, or signed with an
    # algorithm it is not pinned to, a token is refused.
    late = datetime(2027, 1, 1, tzinfo=UTC)
    rsa_policy = tv.Policy(key_fingerprint=FINGERPRINT)
    verdict = tv.Verifier(rebuilt, rsa_policy).check(rsa_issuer.checkout(issued_at=late), now=late)
    assert verdict.reason is tv.Reason.key_not_valid
    rs256 = TestIssuer(rsa_issuer.private_key, "RS256", FINGERPRINT)
    verdict = tv.Verifier(rebuilt, rsa_policy).check(rs256.checkout(issued_at=ISSUED), now=ISSUED)
    assert verdict.reason is tv.Reason.unsupported_algorithm


def test_the_same_keys_give_the_same_bytes(registry: tv.KeyRegistry, tmp_path: Path) -> None:
    text = export_module(registry)
    assert export_module(registry) == text
    # Through a keys file and back, and through the module and back: still the same.
    registry.save(tmp_path / "keys.json")
    assert export_module(tv.KeyRegistry.load(tmp_path / "keys.json")) == text
    assert export_module(exported(registry, tmp_path / "m").registry()) == text
    assert text.isascii()
    assert text.splitlines()[0] == HEADER


def test_the_header_says_what_the_file_is_and_how_to_ship_it(registry: tv.KeyRegistry) -> None:
    head = "\n".join(export_module(registry, module_name="anchors").splitlines()[:16])
    assert "tokenverify keys export" in head
    assert "inside the signed product" in head
    assert "Do not edit" in head
    assert "anchors.registry()" in head
    assert "2 keys of 2 issuer fingerprints" in head


def test_an_empty_registry_or_a_bad_module_name_is_refused(registry: tv.KeyRegistry) -> None:
    with pytest.raises(ValueError, match="no keys"):
        export_module(tv.KeyRegistry())
    with pytest.raises(ValueError, match="module name"):
        export_module(registry, module_name="trust-anchors")


def test_building_reads_no_file_and_imports_no_pydantic(
    registry: tv.KeyRegistry, tmp_path: Path
) -> None:
    write_module(tmp_path, export_module(registry))
    code = f"""
import sys
sys.path.insert(0, {str(tmp_path)!r})
import trust_anchors
opened = []
sys.addaudithook(lambda event, args: opened.append(str(args[0])) if event == "open" else None)
registry = trust_anchors.registry()
# The first build may import the rest of cryptography's backend: code, never data.
code = [name for name in opened if not name.endswith((".py", ".pyc", ".so"))]
opened.clear()
again = trust_anchors.registry()
heavy = sorted(m for m in sys.modules if m.split(".")[0] == "pydantic" or m in (
    "tokenverify._keyfile", "tokenverify.formats._keys_file", "hashlib"))
print(len(registry), len(again), code, opened, heavy)
"""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert out.stdout.strip() == "2 2 [] [] []"
    imported = {line.rsplit("|", 1)[-1].strip() for line in out.stderr.splitlines()}
    assert "trust_anchors" in imported
    assert "tokenverify.trust" in imported
    assert "pydantic" not in imported


# --- hand edits are refused -------------------------------------------------------------------


def weak_rsa_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()  # noqa: S505
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def python_string(text: str) -> str:
    return "(" + "".join(f"{line!r}\n" for line in text.splitlines(keepends=True)) + ")"


Edit = Callable[[str, tv.KeyRegistry], str]


def replace_first(old: str, new: str) -> Edit:
    def edit(text: str, registry: tv.KeyRegistry) -> str:
        assert old in text
        return text.replace(old, new, 1)

    return edit


def swap_pem(new_pem: Callable[[], str], *, also_thumbprint: bool) -> Edit:
    """Replace the first anchor's public_key (and, if asked, its thumbprint to match)."""

    def edit(text: str, registry: tv.KeyRegistry) -> str:
        start = text.index("public_key=(")
        end = text.index("),\n", start) + 3
        pem = new_pem()
        text = text[:start] + f"public_key={python_string(pem)},\n" + text[end:]
        if also_thumbprint:
            scratch = tv.KeyRegistry()
            (key,) = scratch.add("f", pem, algorithms=["PS384"])
            old = next(iter(registry)).thumbprint
            text = text.replace(f'thumbprint="{old}"', f'thumbprint="{key.thumbprint}"', 1)
        return text

    return edit


def other_rsa_pem() -> str:
    return TestIssuer.generate("PS384", key_size=2048).public_pem()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (swap_pem(weak_rsa_pem, also_thumbprint=False), "1024"),
        (swap_pem(other_rsa_pem, also_thumbprint=False), "does not match thumbprint"),
        (swap_pem(other_rsa_pem, also_thumbprint=True), "do not match its seal"),
        (replace_first('("PS256", "PS384")', '("PS256", "PS384", "RS256")'), "seal"),
        (replace_first('("PS256", "PS384")', '("PS384", "HS256")'), "HS256 is never accepted"),
        (replace_first('("PS256", "PS384")', '("PS384", "ES256")'), "cannot verify ES256"),
        (replace_first('("PS256", "PS384")', '("PS256",)'), "seal"),  # narrowed: still edited
        (replace_first('not_after="2026-12-31T22:59:59.123456Z"', "not_after=None"), "seal"),
        (replace_first(JANUARY, JANUARY.replace("2026", "2020")), "seal"),
        (replace_first(JANUARY, JANUARY.replace("2026-01", "2027-13")), "not_before"),
        (replace_first("key_id=", 'key_id="kid-2" or '), "seal"),
        (replace_first('fingerprint="aws:1111', 'fingerprint="aws:9999'), "seal"),
        (replace_first('fingerprint="aws:1111', 'fingerprint=" aws:1111'), "fingerprint"),
        (replace_first("algorithms=(", "algorithms=list(("), "algorithms must be a tuple"),
    ],
)
def test_a_hand_edited_module_is_refused(
    edit: Edit, message: str, registry: tv.KeyRegistry, tmp_path: Path
) -> None:
    text = export_module(registry)
    changed = edit(text, registry)
    if "list((" in changed:  # close the extra parenthesis of the list(...) edit
        changed = re.sub(r"(algorithms=list\(\([^)]*\))", r"\1)", changed, count=1)
    assert changed != text
    module = import_module(write_module(tmp_path, changed))
    with pytest.raises(tv.InvalidKey, match=message) as caught:
        module.registry()
    assert str(caught.value).startswith("trust anchor 0 (")


def test_build_registry_checks_what_it_is_given(registry: tv.KeyRegistry) -> None:
    key = next(iter(registry))
    fields = {
        "fingerprint": key.fingerprint,
        "public_key": key.public_pem(),
        "algorithms": tuple(sorted(key.algorithms)),
        "not_before": None,
        "not_after": None,
        "label": None,
        "key_id": None,
        "thumbprint": key.thumbprint,
    }
    anchor = TrustAnchor(**fields, seal=seal(**fields))  # type: ignore[arg-type]
    (rebuilt,) = build_registry([anchor])
    assert rebuilt.thumbprint == key.thumbprint
    with pytest.raises(tv.InvalidKey, match="trust anchor 1 is a dict, not a TrustAnchor"):
        build_registry([anchor, fields])  # type: ignore[list-item]
    # The same key twice is refused as KeyRegistry.add refuses it.
    with pytest.raises(tv.InvalidKey, match="already registered"):
        build_registry([anchor, anchor])
    with pytest.raises(tv.InvalidKey, match="label must be a str or None"):
        build_registry([TrustAnchor(**{**fields, "label": 5}, seal="x")])  # type: ignore[arg-type]


# --- it passes the product's own linters ------------------------------------------------------


@pytest.mark.skipif(not RUFF.exists(), reason="ruff is a dev dependency")
def test_the_module_is_ruff_clean_and_ruff_formatted(
    registry: tv.KeyRegistry, tmp_path: Path
) -> None:
    long_label = tv.KeyRegistry()
    pem = TestIssuer.generate("EdDSA").public_pem()
    long_label.add("f" * 256, pem, label="word " * 60, key_id="k" * 120)
    for index, source in enumerate((registry, long_label)):
        path = write_module(tmp_path / f"package{index}", export_module(source))
        (path.parent / "__init__.py").write_text("")  # where a product keeps its modules
        # As a product with ruff's defaults (line length 88) would check it, every rule on
        # but docstring conventions and copyright notices, which are each product's own.
        lint = subprocess.run(
            [str(RUFF), "check", "--isolated", "--select", "ALL", "--ignore", "D,CPY", path],
            capture_output=True,
            text=True,
            check=False,
        )
        assert lint.returncode == 0, lint.stdout
        formatted = subprocess.run(
            [str(RUFF), "format", "--isolated", "--check", "--diff", path],
            capture_output=True,
            text=True,
            check=False,
        )
        assert formatted.returncode == 0, formatted.stdout + formatted.stderr
        assert max(len(line) for line in path.read_text().splitlines()) <= 88


@pytest.mark.skipif(shutil.which("mypy", path=str(RUFF.parent)) is None, reason="dev dependency")
def test_the_module_is_mypy_strict_clean(registry: tv.KeyRegistry, tmp_path: Path) -> None:
    path = write_module(tmp_path / "product", export_module(registry))
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\nstrict = True\n")
    checked = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(config),
            "--cache-dir",
            str(tmp_path / "cache"),
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        timeout=300,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Success: no issues found in 1 source file" in checked.stdout
