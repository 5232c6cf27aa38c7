"""The examples runner (tests/doc_examples.py) fails when a page and the program disagree.

Each test writes a small Markdown page, parses it with the runner's own configuration and
evaluates its examples in order, as pytest does for README.md and docs/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sybil.example import SybilFailure

from doc_examples import (
    ROOT,
    Scratch,
    examples_sybil,
    is_documentation,
    normalise,
    output_matches,
    parse_transcript,
)

FENCE = "```"


def run_page(tmp_path: Path, scratch: Scratch, text: str) -> None:
    """Evaluate every example of ``text`` in order, as the runner does for a page."""
    page = tmp_path / "page.md"
    page.write_text(text, encoding="utf-8")
    document = examples_sybil().parse(page)
    examples = list(document.examples())
    assert examples, "the page has examples"
    for example in examples:
        example.namespace["doc_examples_scratch"] = scratch
        example.evaluate()


def console(*lines: str) -> str:
    return "\n".join([f"{FENCE}console", *lines, FENCE, ""])


def python(*lines: str) -> str:
    return "\n".join([f"{FENCE}python", *lines, FENCE, ""])


def test_a_true_transcript_passes_with_its_variable_values_as_documented(
    tmp_path: Path, doc_examples_scratch: Scratch
) -> None:
    run_page(
        tmp_path,
        doc_examples_scratch,
        console(
            "$ tokenverify verify scratch/demo/valid.json --keys scratch/demo/keys.json"
            " --node-id node-7",
            "VALID  scratch/demo/valid.json",
            "  license      arn:aws:license-manager::111122223333:license:"
            "l-cf4f07b597796aeb5e5bc959c7fcf4d7",
            "  node         node-7",
            "  entitlements Users 10 Count, Storage 500 Gigabytes",
            "  issuer       aws:111122223333:Demo Vendor:issuer-fingerprint (PS384)",
            "  issued       2020-01-01T00:00:00Z",
            "  valid until  2020-01-01T01:00:00Z (59 min left)",
            "",
            "$ tokenverify keys list --keys scratch/demo/keys.json",
            "aws:111122223333:Demo Vendor:issuer-fingerprint",
            "  key         RSA-4096 [PS384]",
            "  thumbprint  6V5nwTsLB13puj3OrSisNL5nBXpfL4dGu9SFYvDHi1c",
            "...",
        ),
    )


def test_a_transcript_that_differs_from_the_real_output_fails_with_a_diff(
    tmp_path: Path, doc_examples_scratch: Scratch
) -> None:
    page = console(
        "$ tokenverify verify scratch/demo/valid.json --keys scratch/demo/keys.json"
        " --node-id node-7",
        "VALID  scratch/demo/valid.json",
        "  license      arn:aws:license-manager::111122223333:license:l-0",
        "...",
    )
    with pytest.raises(SybilFailure) as failed:
        run_page(tmp_path, doc_examples_scratch, page)
    report = failed.value.result
    assert report.startswith("line 2: $ tokenverify verify scratch/demo/valid.json")
    assert "-  license      arn:aws:license-manager::111122223333:license:l-0" in report
    assert "+  license      arn:aws:license-manager::111122223333:license:l-<id>" in report
    assert "exit code" not in report  # the exit code was right


def test_a_wrong_exit_code_fails_even_when_the_output_matches(
    tmp_path: Path, doc_examples_scratch: Scratch
) -> None:
    lines = [
        "$ tokenverify verify scratch/demo/tampered-envelope.json --keys scratch/demo/keys.json",
        "REJECTED  scratch/demo/tampered-envelope.json: envelope_mismatch: ...",
        "...",
    ]
    page = console(*lines[:1], "...")  # no '# exit 1': 0 is expected
    with pytest.raises(SybilFailure) as failed:
        run_page(tmp_path, doc_examples_scratch, page)
    assert "exit code 1, the page says 0" in failed.value.result
    assert "output differs" not in failed.value.result
    run_page(tmp_path, doc_examples_scratch, console(*lines[:1], "...", "# exit 1"))


def test_stderr_is_part_of_the_output_in_terminal_order(
    tmp_path: Path, doc_examples_scratch: Scratch
) -> None:
    run_page(
        tmp_path,
        doc_examples_scratch,
        console(
            "$ tokenverify inspect scratch/demo/valid.json",
            "tokenverify: error: inspect shows a token's contents without checking them: add"
            " --unverified to confirm, or use 'tokenverify verify' to check it",
            "# exit 2",
            "$ echo out; echo err >&2; echo out again",
            "out",
            "err",
            "out again",
        ),
    )


def test_files_carry_over_between_commands_and_blocks_of_a_page(
    tmp_path: Path, doc_examples_scratch: Scratch
) -> None:
    run_page(
        tmp_path,
        doc_examples_scratch,
        console("$ echo kept > note.txt", "$ cat note.txt", "kept")
        + python("from pathlib import Path", "assert Path('note.txt').read_text() == 'kept\\n'")
        + "<!-- invisible-code-block: console\n$ test -f note.txt && echo still\nstill\n-->\n",
    )


def test_each_page_starts_from_a_fresh_copy_of_the_scratch_folder(
    tmp_path: Path, doc_examples_scratch: Scratch
) -> None:
    run_page(tmp_path, doc_examples_scratch, console("$ touch left-behind"))
    run_page(tmp_path, doc_examples_scratch, console("$ test ! -e left-behind"))


def test_a_python_block_that_raises_fails_and_blocks_share_one_namespace(
    tmp_path: Path, doc_examples_scratch: Scratch
) -> None:
    page = python("import tokenverify as tv", "answer = 42") + python(
        "assert answer == 42",
        "tv.KeyRegistry.load('no-such-keys.json')",
    )
    with pytest.raises(SybilFailure) as failed:
        run_page(tmp_path, doc_examples_scratch, page)
    report = failed.value.result.splitlines()
    assert report[0].startswith("the Python block raised tokenverify")  # not the assert
    assert "no-such-keys.json" in report[0]
    assert report[1] == "  page.md, line 7: tv.KeyRegistry.load('no-such-keys.json')"


def test_skip_next_skips_only_the_next_block(tmp_path: Path, doc_examples_scratch: Scratch) -> None:
    skipped = "<!-- skip: next -->\n" + python("raise RuntimeError('needs the network')")
    run_page(tmp_path, doc_examples_scratch, skipped + python("assert True"))
    with pytest.raises(SybilFailure, match="raised RuntimeError: after"):
        run_page(tmp_path, doc_examples_scratch, skipped + python("raise RuntimeError('after')"))


def test_a_launch_example_that_does_not_start_the_product_fails(
    tmp_path: Path, doc_examples_scratch: Scratch
) -> None:
    launch = Path(ROOT / "README.md").read_text(encoding="utf-8")
    start = launch.index("<!-- launch-example")
    block = launch[start : launch.index(f"\n{FENCE}\n", start) + len(FENCE) + 2]
    run_page(tmp_path, doc_examples_scratch, block)  # as written, it starts
    mine = 'tv.node.machine_id(namespace="my-product")'
    broken = block.replace(mine, f"{mine}[::-1]")  # another machine's id
    assert broken != block
    with pytest.raises(SybilFailure, match=r"stopped on a valid checkout: .*node_mismatch"):
        run_page(tmp_path, doc_examples_scratch, broken)


def test_a_console_block_must_start_with_a_command() -> None:
    with pytest.raises(ValueError, match="starts with a '\\$ ' command"):
        parse_transcript("tokenverify --help\n", 10)


def test_transcripts_parse_into_commands_outputs_and_exit_codes() -> None:
    commands = parse_transcript(
        "$ tokenverify a \\\n    --flag\nout 1\n\n# exit 2\n\n$ b\n$ c\nlast\n", 7
    )
    assert [(c.line, c.command, c.expected, c.exit_code) for c in commands] == [
        (7, "tokenverify a \n    --flag", ("out 1",), 2),
        (13, "b", (), 0),
        (14, "c", ("last",), 0),
    ]


@pytest.mark.parametrize(
    ("documented", "actual"),
    [
        ("issued 2026-11-26T11:39:48Z", "issued 2027-01-02T03:04:05Z"),
        ('"checked_at": "2026-11-26T11:39:50.005084Z"', '"checked_at": "2026-12-01T00:00:00.1Z"'),
        ("expired at 2026-12-01T08:54:16+00:00", "expired at 2026-12-02T09:00:00+00:00"),
        ("(expired 1 h 0 min ago, in grace)", "(expired 59 min ago, in grace)"),
        ("(3611 s ago)", "(3600 s ago)"),
        ("(23 h 59 min left)", "(1 d 2 h left)"),
        (
            "license:l-cf4f07b597796aeb5e5bc959c7fcf4d7",
            "license:l-423137d0171dbd2a5df13d68696183fc",
        ),
        ("key 6V5nwTsLB13puj3OrSisNL5nBXpfL4dGu9SFYvDHi1c [PS384]", f"key {'a_-' * 14}b [PS384]"),
        (
            "sha256 bc8bb06a63c51cd7b21b81f8d4116917d64bf21fbb835f3218acce9eec7b5744",
            "sha256 " + "0" * 64,
        ),
        ("trailing spaces   ", "trailing spaces"),
    ],
)
def test_placeholders_absorb_what_changes_between_runs(documented: str, actual: str) -> None:
    assert normalise(documented) == normalise(actual)


@pytest.mark.parametrize(
    ("documented", "actual"),
    [
        ("VALID  scratch/demo/valid.json", "REJECTED  scratch/demo/valid.json"),
        ("entitlements Users 10 Count", "entitlements Users 11 Count"),
        ("license:l-cf4f07b5", "license:l-cf4f07b6"),  # not an AWS id: compared as written
        ("key RSA-4096", "key RSA-2048"),
        ("thumbprint " + "a" * 43, "thumbprint " + "a" * 42),
        ("within 7 d of", "within 7 days of"),
    ],
)
def test_placeholders_absorb_nothing_else(documented: str, actual: str) -> None:
    assert normalise(documented) != normalise(actual)


@pytest.mark.parametrize(
    ("expected", "actual", "matches"),
    [
        (["a", "...", "d"], ["a", "b", "c", "d"], True),
        (["a", "...", "d"], ["a", "d"], True),  # '...' may stand for no line
        (["a", "  ...", "d"], ["a", "b", "d"], True),  # indented, as inside JSON
        (["a", "..."], ["a", "b"], True),
        (["...", "b"], ["a", "b"], True),
        (["a", "...", "c", "...", "e"], ["a", "b", "c", "d", "e"], True),
        (["a", "...", "d"], ["a", "b", "c"], False),  # the last line is anchored
        (["b", "..."], ["a", "b"], False),  # so is the first
        (["a", "b"], ["a", "b", "c"], False),  # no '...': every line counts
        (["a", "...", "c", "...", "c"], ["a", "c"], False),  # one 'c' cannot be both
        (["a", "...", "b", "c"], ["a", "b", "x", "c"], False),
    ],
)
def test_ellipsis_lines_stand_for_cut_lines_and_nothing_else(
    expected: list[str], actual: list[str], matches: bool
) -> None:
    assert output_matches(expected, actual) is matches


@pytest.mark.parametrize(
    ("relative", "runs"),
    [
        ("README.md", True),
        ("docs/cli.md", True),
        ("docs/guides/testing.md", True),
        ("fuzz/README.md", False),
        ("fixtures/README.md", False),
        ("SECURITY.md", False),
        ("docs/audit-report.png", False),
    ],
)
def test_the_runner_runs_readme_and_the_docs_pages_only(relative: str, runs: bool) -> None:
    assert is_documentation(ROOT / relative) is runs
