"""Property: ``read_input``'s shortcut for a bare str token decides as ``_from_text``.

``read_input`` takes a str that starts "ey", is ASCII, holds no tab or newline and is
within the document limit straight to its token; every other str goes through
``_from_text`` (BOM, size, sniffing, JSON). Both run here on generated text: tokens with
whitespace around or inside, control characters, non-ASCII, a BOM, JSON, sizes at the
limit. Same token and envelope, or the same refusal.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tokenverify import TokenRejected, _input

pieces = st.sampled_from(
    [
        "ey",
        "eyJhbGciOiJQUzI1NiJ9",
        ".",
        "QUJD",
        " ",
        "\t",
        "\n",
        "\r",
        "\ufeff",
        "é",
        "\x00",
        "{",
        "}",
    ]
)


def _outcome(read: object, source: str, max_size: int) -> object:
    try:
        return ("input", read(source, max_size))  # type: ignore[operator]
    except TokenRejected as rejection:
        return ("refused", rejection.reason, rejection.description)


@given(st.lists(pieces, max_size=12).map("".join), st.integers(0, 3), st.integers(-2, 2))
def test_a_str_token_is_read_as_from_text_reads_it(text: str, max_size: int, slack: int) -> None:
    for source in (text, "ey" + text):
        assert _outcome(_input.read_input, source, max_size) == _outcome(
            _input._from_text, source, max_size
        )
    # At the document limit (4 * max_size + 65536 characters), one side or the other.
    limit = 4 * max_size + 65536
    long = ("eyJ" + "A" * limit)[: limit + slack] + text[:2]
    assert _outcome(_input.read_input, long, max_size) == _outcome(
        _input._from_text, long, max_size
    )
