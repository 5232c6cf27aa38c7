"""The pytest plugin (``pytest_tokenverify``): registered, cheap, inert unless used.

Suites are run by pytest's own ``pytester``: in a subprocess where what a run imports
matters, in-process (quicker) otherwise.
"""

from __future__ import annotations

import re
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

# The guide "Testing your product" of the docs site holds the example (it left the README).
EXAMPLE_PAGE = Path(__file__).resolve().parents[1] / "docs" / "testing.md"
HEAVY = ("tokenverify", "cryptography", "boto3", "botocore", "msgspec")


def readme_example() -> str:
    """The python block after ``<!-- pytest-plugin-example -->`` in docs/testing.md."""
    text = EXAMPLE_PAGE.read_text(encoding="utf-8")
    match = re.search(r"<!-- pytest-plugin-example -->\n```python\n(.*?)\n```", text, re.S)
    assert match is not None, "docs/testing.md lost its pytest plugin example"
    return match.group(1)


def test_the_entry_point_names_the_plugin_module() -> None:
    (plugin,) = [e for e in entry_points(group="pytest11") if e.name == "tokenverify"]
    assert plugin.value == "pytest_tokenverify"
    module = plugin.load()
    fixtures = {name for name in dir(module) if name.startswith("tokenverify_")}
    assert fixtures == {
        "tokenverify_checkout",
        "tokenverify_issuer",
        "tokenverify_issuers",
        "tokenverify_keys_file",
        "tokenverify_registry",
    }


def test_loading_the_plugin_imports_nothing_heavy() -> None:
    code = (
        "import sys, pytest; before = set(sys.modules); import pytest_tokenverify; "
        f"print(sorted(m for m in set(sys.modules) - before if m.startswith({HEAVY!r})))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, check=True, text=True
    )
    assert completed.stdout.strip() == "[]"


def test_a_suite_not_using_the_fixtures_is_unaffected(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_tokenverify_plain=f"""
        import sys

        import pytest


        @pytest.fixture
        def value():
            return 41


        def test_uses_its_own_fixture(value, tmp_path):
            assert value + 1 == 42


        def test_nothing_heavy_was_imported():
            assert [m for m in sys.modules if m.startswith({HEAVY!r})] == []


        @pytest.mark.parametrize("n", [1, 2])
        def test_parametrized(n):
            assert n in (1, 2)


        def test_fails():
            assert False


        def test_report_the_plugin(pytestconfig):
            loaded = pytestconfig.pluginmanager.has_plugin("tokenverify")
            print(f"tokenverify plugin loaded: {{loaded}}")
        """
    )
    with_plugin = pytester.runpytest_subprocess("-q", "-s")
    without = pytester.runpytest_subprocess("-p", "no:tokenverify", "-q", "-s")
    with_plugin.assert_outcomes(passed=5, failed=1)
    without.assert_outcomes(passed=5, failed=1)
    # The plugin was loaded in the first run only.
    assert "tokenverify plugin loaded: True" in with_plugin.stdout.str()
    assert "tokenverify plugin loaded: False" in without.stdout.str()


def test_the_readme_example_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_tokenverify_readme_example=readme_example())
    result = pytester.runpytest("-q")
    result.assert_outcomes(passed=2)


def test_fixtures_verify_together_and_choose_algorithms(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_tokenverify_plugin_fixtures="""
        import pytest
        import tokenverify as tv
        from tokenverify.testing import PADDING_CLAIM


        def test_defaults(tokenverify_issuer, tokenverify_registry, tokenverify_checkout):
            assert tokenverify_issuer.algorithm == "PS384"
            assert tokenverify_issuer.private_key.key_size == 2048
            response = tokenverify_checkout(node_id="node-7", borrow=True)
            assert len(response["SignedToken"]) >= 4096
            checkout = tv.Verifier(tokenverify_registry, tv.Policy(node_id="node-7")).verify(
                response
            )
            assert PADDING_CLAIM in checkout.claims


        def test_keys_file(tokenverify_keys_file, tokenverify_checkout, tmp_path):
            assert tokenverify_keys_file.parent == tmp_path
            registry = tv.KeyRegistry.load(tokenverify_keys_file)
            tv.Verifier(registry).verify(tokenverify_checkout())


        def test_registry_is_fresh_per_test(tokenverify_registry, tokenverify_issuers):
            other = tokenverify_issuers("ES256", fingerprint="aws:1:Other:issuer-fingerprint")
            tokenverify_registry.add(other.fingerprint, other.public_pem())
            assert tokenverify_issuers("ES256", fingerprint=other.fingerprint) is other


        def test_registry_untouched_by_the_test_before(tokenverify_registry, tokenverify_issuer):
            assert len(tokenverify_registry) == 1


        @pytest.mark.parametrize("tokenverify_issuer", ["ES256", "EdDSA"], indirect=True)
        def test_indirect(tokenverify_issuer, tokenverify_registry, tokenverify_checkout):
            assert tokenverify_issuer.algorithm in ("ES256", "EdDSA")
            checkout = tv.Verifier(tokenverify_registry).verify(tokenverify_checkout())
            assert checkout.algorithm == tokenverify_issuer.algorithm


        def test_another_issuer_is_refused(tokenverify_registry, tokenverify_issuers):
            stranger = tokenverify_issuers("PS384", fingerprint="aws:2:S:issuer-fingerprint")
            verdict = tv.Verifier(tokenverify_registry).check(stranger.checkout())
            assert not verdict.ok
        """
    )
    result = pytester.runpytest("-q")
    result.assert_outcomes(passed=7)


def test_a_conftest_may_redefine_the_issuer(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest


        @pytest.fixture(scope="session")
        def tokenverify_issuer(tokenverify_issuers):
            return tokenverify_issuers("ES384")
        """
    )
    pytester.makepyfile(
        test_tokenverify_redefined="""
        import tokenverify as tv


        def test_es384(tokenverify_registry, tokenverify_checkout):
            checkout = tv.Verifier(tokenverify_registry).verify(tokenverify_checkout())
            assert checkout.algorithm == "ES384"
        """
    )
    pytester.runpytest("-q").assert_outcomes(passed=1)
