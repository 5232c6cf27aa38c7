"""The README's launch example, run by the examples runner, on every kind of checkout.

``tests/doc_examples.py`` runs the block after the ``launch-example`` marker as written,
with a valid checkout, as part of the README's examples. Here the same block, found by the
same parse and prepared by the same code (an exported ``trust_anchors`` module and a saved
checkout bound to this machine; only ``CHECKOUT`` is pointed elsewhere), meets a checkout
close to expiry, one in grace, one past it and one of another machine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from doc_examples import (
    CHECKOUT_LINE,
    DAY,
    LaunchRun,
    evaluate_launch_example,
    examples_sybil,
    launch_checkout,
    run_launch_example,
)

README = Path(__file__).resolve().parents[1] / "README.md"
NAMESPACE = "my-product"


def launch_example() -> str:
    """The Python block the runner treats as README.md's launch example (exactly one)."""
    document = examples_sybil().parse(README)
    blocks = [e for e in document.examples() if e.region.evaluator is evaluate_launch_example]
    assert len(blocks) == 1, "README.md must mark exactly one launch example"
    return str(blocks[0].parsed)


def run(tmp_path: Path, *, ttl: float, age: float, node_id: str | None = None) -> LaunchRun:
    code = launch_example()

    def response(this_machine: str) -> dict[str, Any]:
        return launch_checkout(code, node_id or this_machine, ttl=ttl, age=age)

    return run_launch_example(code, tmp_path, response)


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


def test_a_valid_checkout_prints_when_it_is_licensed_until(tmp_path: Path) -> None:
    launched = run(tmp_path, ttl=30 * DAY, age=60)
    assert launched.stopped is None
    assert len(launched.lines) == 1  # no warning: a month left
    assert launched.lines[0].startswith("licensed until ")


def test_a_checkout_close_to_expiry_prints_a_warning_first(tmp_path: Path) -> None:
    launched = run(tmp_path, ttl=2 * DAY, age=60)
    assert launched.stopped is None
    assert len(launched.lines) >= 2
    assert launched.lines[-1].startswith("licensed until ")


def test_an_expired_checkout_within_grace_still_starts_with_a_warning(tmp_path: Path) -> None:
    launched = run(tmp_path, ttl=DAY, age=2 * DAY)  # expired a day ago
    assert launched.stopped is None
    assert len(launched.lines) >= 2
    assert launched.lines[-1].startswith("licensed until ")


def test_an_expired_checkout_past_grace_stops_the_product(tmp_path: Path) -> None:
    launched = run(tmp_path, ttl=DAY, age=5 * DAY)  # expired 4 days ago
    assert launched.stopped is not None
    assert str(launched.stopped.code).startswith("license check failed (expired): ")


def test_a_checkout_of_another_machine_stops_the_product(tmp_path: Path) -> None:
    launched = run(tmp_path, ttl=30 * DAY, age=60, node_id="f" * 64)
    assert launched.stopped is not None
    assert str(launched.stopped.code).startswith("license check failed (node_mismatch): ")
