"""The HTML report rendered by a real browser: headless Chromium, offline.

Skipped (with the reason) where Chromium is not installed; ``.ci/run`` installs Debian's
``chromium`` when it can. The page is loaded from a file with every network feature of
the browser off; the checks are on what Chromium rendered: the DOM it built and the
pixels of its screenshot.
"""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

import tokenverify as tv
from tokenverify import audit
from tokenverify.audit import Auditor, Summary

from .support import NODE, Store

CHROMIUM = next(
    (
        found
        for name in ("chromium", "chromium-browser", "google-chrome")
        if (found := shutil.which(name))
    ),
    None,
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless Chromium not found: 'apt-get install chromium' (Debian) to render the "
    "HTML audit report in a browser",
)
pytest.importorskip("matplotlib")

# The report's colours: valid, rejected, genuine-but-rejected (see audit/_html.py).
OK_RGB = (0x2E, 0x7D, 0x32)
REJECTED_RGB = (0xC6, 0x28, 0x28)
GENUINE_REJECTED_RGB = (0xF9, 0xA8, 0x25)


def _chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    assert CHROMIUM is not None
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",  # CI runs as root
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--host-resolver-rules=MAP * ~NOTFOUND",  # nothing resolves: offline
            f"--user-data-dir={profile}",
            *args,
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )


class _Elements(HTMLParser):
    """Counts the elements under each element that has an id."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[tuple[str, str | None]] = []
        self.inside: dict[str, Counter[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for _, identifier in self.open:
            if identifier is not None:
                self.inside.setdefault(identifier, Counter())[tag] += 1
        if tag not in ("path", "rect", "use", "br", "img", "meta", "stop", "circle", "line"):
            self.open.append((tag, dict(attrs).get("id")))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index][0] == tag:
                del self.open[index:]
                break


@pytest.fixture(scope="module")
def report(store: Store, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Summary]:
    auditor = Auditor(store.keys, tv.Policy(node_id=NODE), at=store.at)
    summary = audit.summarize(auditor.run([store.root], workers=1), store.at)
    path = tmp_path_factory.mktemp("html") / "report.html"
    path.write_text(audit.render_html(summary), encoding="utf-8")
    return path, summary


def test_chromium_builds_both_charts_and_the_rejected_table(
    report: tuple[Path, Summary], tmp_path: Path
) -> None:
    path, summary = report
    done = _chromium(tmp_path / "profile", "--dump-dom", path.as_uri())
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    dom = _Elements()
    dom.feed(done.stdout.decode("utf-8"))
    reasons, timeline = dom.inside["reasons-chart"], dom.inside["timeline-chart"]
    assert reasons["svg"] == 1
    assert reasons["path"] > 20
    assert timeline["svg"] == 1
    assert timeline["path"] > 20
    table = dom.inside["rejected-table"]
    assert table["tr"] == summary.rejected + 1  # a header, then every rejected token
    assert "script" not in dom.inside.get("rejected", Counter())


def test_chromium_paints_the_charts(report: tuple[Path, Summary], tmp_path: Path) -> None:
    image = pytest.importorskip("PIL.Image")
    path, _ = report
    screenshot = tmp_path / "report.png"
    done = _chromium(
        tmp_path / "profile",
        "--hide-scrollbars",
        "--window-size=1200,2000",
        f"--screenshot={screenshot}",
        path.as_uri(),
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    colours = image.open(screenshot).convert("RGB").getcolors(maxcolors=1 << 24)
    pixels = {colour: count for count, colour in colours}

    def near(colour: tuple[int, int, int]) -> int:
        return sum(
            count
            for pixel, count in pixels.items()
            if all(abs(a - b) <= 6 for a, b in zip(pixel, colour, strict=True))
        )

    # Bars of valid and rejected tokens in the reasons chart, spans in the timeline: tens
    # of thousands of pixels. Without the charts the page has under a thousand of these
    # colours (the coloured totals and reason cells).
    assert near(OK_RGB) > 20_000
    assert near(REJECTED_RGB) > 5_000
    assert near(GENUINE_REJECTED_RGB) > 5_000
