"""Every relative link of the README names a file of the repository (and of the sdist).

No site is published yet, so the README links pages by their path in the repository and
shows that path as the link's text: on the package index, where relative links do not
resolve, the reader still sees where the page is. A page renamed under ``docs/`` without
its README link fails here (MkDocs' strict build checks the links between pages).
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINK = re.compile(r"(?<!!)\[(?P<text>[^\]]+)\]\((?P<target>[^)\s]+)\)")


def _relative_links() -> list[tuple[str, str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [
        (match["text"], match["target"].split("#", 1)[0])
        for match in LINK.finditer(text)
        if "://" not in match["target"] and not match["target"].startswith(("#", "mailto:"))
    ]


def test_the_readme_links_the_docs() -> None:
    targets = {target for _, target in _relative_links()}
    assert {"docs/getting-started.md", "SECURITY.md", "CHANGELOG.md"} <= targets


def test_every_relative_link_of_the_readme_names_a_file_that_exists() -> None:
    missing = [target for _, target in _relative_links() if not (ROOT / target).exists()]
    assert missing == [], f"README.md links to files that do not exist: {missing}"
