"""The layout's rules (docs/architecture.md), held over the source's own imports.

The imports are read from the text of ``src/tokenverify`` (``tests/architecture.py``):
module level, ``if TYPE_CHECKING:`` and function-level (lazy) imports alike. The rules:

1. no import circles, of any kind, but for the lazy imports listed in :data:`ALLOWED`,
   each with its reason (and none listed that the source no longer makes);
2. the core (the modules directly in ``tokenverify/`` but ``__main__``) imports neither
   ``cli``, ``formats``, ``audit`` nor pydantic, not even lazily, but for :data:`ALLOWED`;
3. ``formats`` imports neither ``cli`` nor ``audit``;
4. only ``formats`` imports pydantic;
5. ``audit`` imports no ``cli``.

Each rule is also run on a small tree that breaks it, so a checker that stopped seeing
would fail here rather than pass everything. What a launch imports at run time
(``import tokenverify`` and a verify) is held in ``tests/test_launch_path.py``.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from architecture import Import, circles, forbidden, imports_of, stale_allowances

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "tokenverify"
CLI, FORMATS, AUDIT = f"{PACKAGE}.cli", f"{PACKAGE}.formats", f"{PACKAGE}.audit"
#: The public modules that stand outside the core on purpose: ``python -m tokenverify``
#: is the command line.
OUTER = (CLI, FORMATS, AUDIT, f"{PACKAGE}.__main__")

#: The only imports that may close a circle or reach from the core into ``formats``:
#: lazy delegates, run when a user writes or reads a file of that format, never at launch.
ALLOWED: dict[tuple[str, str], str] = {
    (f"{PACKAGE}._registry", f"{FORMATS}._keys_file"): (
        "KeyRegistry.save writes a keys file through its pydantic model; loading reads it "
        "by hand (_keyfile), so a launch never imports pydantic"
    ),
    (f"{PACKAGE}._revocation", f"{FORMATS}._revocation_file"): (
        "RevocationList.load validates the file with its pydantic model, which itself "
        "builds the core's RevocationList"
    ),
}


@pytest.fixture(scope="module")
def source() -> list[Import]:
    return imports_of(SRC, PACKAGE)


def _core_breaches(imports: list[Import]) -> list[Import]:
    return forbidden(
        imports, PACKAGE, [CLI, FORMATS, AUDIT, "pydantic"], allowed=ALLOWED, outside=OUTER
    )


def test_the_reader_sees_every_kind_of_import(source: list[Import]) -> None:
    # Known imports of each kind: a reader that lost one would pass every rule below.
    seen = {(item.importer, item.imported, item.kind) for item in source}
    assert (f"{PACKAGE}._verifier", f"{PACKAGE}._signature", "module") in seen
    assert (f"{PACKAGE}._errors", f"{PACKAGE}._result", "typing") in seen
    assert (f"{PACKAGE}._registry", f"{FORMATS}._keys_file", "lazy") in seen
    assert (f"{CLI}._schema", f"{FORMATS}._policy_file", "module") in seen  # from .. import x
    assert (f"{FORMATS}._policy_file", "pydantic", "module") in seen


def test_no_import_circles(source: list[Import]) -> None:
    assert circles(source, ALLOWED) == []


def test_every_allowed_import_is_still_made_lazily(source: list[Import]) -> None:
    assert stale_allowances(source, ALLOWED) == []


def test_every_allowed_import_closes_a_circle_or_is_a_core_delegate(source: list[Import]) -> None:
    # An entry that does neither is permission nobody needs: take it off the list.
    for pair, reason in ALLOWED.items():
        rest = {other: why for other, why in ALLOWED.items() if other != pair}
        assert reason
        assert circles(source, rest) or forbidden(
            source, PACKAGE, [FORMATS], allowed=rest, outside=OUTER
        ), pair


def test_the_core_imports_no_cli_formats_audit_or_pydantic(source: list[Import]) -> None:
    assert [str(item) for item in _core_breaches(source)] == []


def test_formats_import_neither_the_cli_nor_the_audit(source: list[Import]) -> None:
    assert [str(item) for item in forbidden(source, FORMATS, [CLI, AUDIT])] == []


def test_only_formats_import_pydantic(source: list[Import]) -> None:
    found = forbidden(source, PACKAGE, ["pydantic"], outside=[FORMATS])
    assert [str(item) for item in found] == []


def test_the_audit_imports_no_cli(source: list[Import]) -> None:
    assert [str(item) for item in forbidden(source, AUDIT, [CLI])] == []


# -- the checker, on trees that break each rule ------------------------------------------


def _tree(root: Path, files: dict[str, str]) -> list[Import]:
    for name, text in files.items():
        path = root / PACKAGE / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    for folder in {(root / PACKAGE / name).parent for name in files}:
        (folder / "__init__.py").touch()
    return imports_of(root, PACKAGE)


def test_a_module_level_circle_is_found(tmp_path: Path) -> None:
    imports = _tree(
        tmp_path,
        {
            "_a.py": "from ._b import B\n",
            "_b.py": "from . import _c\n",
            "_c.py": "import tokenverify._a\n",
        },
    )
    assert circles(imports, {}) == [[f"{PACKAGE}._a", f"{PACKAGE}._b", f"{PACKAGE}._c"]]


def test_a_type_only_circle_is_found(tmp_path: Path) -> None:
    imports = _tree(
        tmp_path,
        {
            "_a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ._b import B\n",
            "_b.py": "from ._a import A\n",
        },
    )
    kinds = [(item.imported, item.kind) for item in imports if item.importer == f"{PACKAGE}._a"]
    assert kinds == [("typing", "module"), (f"{PACKAGE}._b", "typing")]
    assert circles(imports, {}) == [[f"{PACKAGE}._a", f"{PACKAGE}._b"]]


def test_a_lazy_import_closing_a_circle_is_found_unless_allowed(tmp_path: Path) -> None:
    imports = _tree(
        tmp_path,
        {
            "_a.py": "from ._b import B\n",
            "_b.py": "class B:\n    def load(self):\n        from ._a import A\n",
        },
    )
    pair = (f"{PACKAGE}._b", f"{PACKAGE}._a")
    assert [item.kind for item in imports if (item.importer, item.imported) == pair] == ["lazy"]
    assert circles(imports, {}) == [[f"{PACKAGE}._a", f"{PACKAGE}._b"]]
    assert circles(imports, {pair: "a delegate"}) == []
    assert stale_allowances(imports, {pair: "a delegate"}) == []
    assert stale_allowances(imports, {(f"{PACKAGE}._a", f"{PACKAGE}._b"): "not lazy"}) != []


def test_the_core_reaching_outwards_is_found(tmp_path: Path) -> None:
    imports = _tree(
        tmp_path,
        {
            "_core.py": (
                "def save():\n    from .formats._keys_file import save\n"
                "def show():\n    from .cli import _output\n"
                "def report():\n    from . import audit\n"
                "def model():\n    import pydantic\n"
            ),
            "formats/_keys_file.py": "import pydantic\n",
            "cli/_output.py": "from ..formats import _keys_file\n",
            "audit/_engine.py": "",
            "__main__.py": "from .cli import main\n",
        },
    )
    found = {(item.importer, item.imported) for item in _core_breaches(imports)}
    assert found == {
        (f"{PACKAGE}._core", f"{FORMATS}._keys_file"),
        (f"{PACKAGE}._core", f"{CLI}._output"),
        (f"{PACKAGE}._core", AUDIT),
        (f"{PACKAGE}._core", "pydantic"),
    }
    allowed = {(f"{PACKAGE}._core", f"{FORMATS}._keys_file"): "a delegate"}
    assert (f"{PACKAGE}._core", f"{FORMATS}._keys_file") not in {
        (item.importer, item.imported)
        for item in forbidden(imports, PACKAGE, [FORMATS], allowed=allowed, outside=OUTER)
    }


def test_formats_reaching_the_cli_or_audit_and_pydantic_elsewhere_are_found(
    tmp_path: Path,
) -> None:
    imports = _tree(
        tmp_path,
        {
            "formats/_report.py": "from ..audit import _engine\nfrom ..cli._keys import key_type\n",
            "audit/_engine.py": "from pydantic import BaseModel\nfrom ..cli import _output\n",
            "cli/_keys.py": "",
            "cli/_output.py": "",
        },
    )
    assert {(i.importer, i.imported) for i in forbidden(imports, FORMATS, [CLI, AUDIT])} == {
        (f"{FORMATS}._report", f"{AUDIT}._engine"),
        (f"{FORMATS}._report", f"{CLI}._keys"),
    }
    assert [i.importer for i in forbidden(imports, PACKAGE, ["pydantic"], outside=[FORMATS])] == [
        f"{AUDIT}._engine"
    ]
    assert [i.imported for i in forbidden(imports, AUDIT, [CLI])] == [f"{CLI}._output"]
