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
USAGE_RGB = (0x15, 0x65, 0xC0)
USAGE_FILL_RGB = (227, 236, 247)  # USAGE_RGB at alpha 0.12 on white


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
    # A grant below what the store holds: usage charts with a grant line, over_grant rows.
    licensed = next(entry.license_arn for entry in store.entries if entry.license_arn)
    grant = audit.parse_grant(f"{licensed}:Users=1")
    path = tmp_path_factory.mktemp("html") / "report.html"
    summary = audit.run(
        [store.root], auditor, format="html", output=str(path), workers=1, grants=[grant]
    )
    return path, summary


def test_chromium_builds_the_charts_and_the_findings_tables(
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
    found = summary.report()
    integrity, policy, lifecycle = found.findings
    # A header, then every integrity and policy finding; lifecycle as collapsed groups.
    assert dom.inside["integrity-table"]["tr"] == integrity.tokens + 1
    assert dom.inside["policy-table"]["tr"] == policy.tokens + 1
    assert dom.inside["lifecycle"]["details"] == len(lifecycle.groups)
    assert found.usage is not None
    assert dom.inside["usage"]["figure"] >= 1
    assert dom.inside["usage"]["svg"] == dom.inside["usage"]["figure"]
    assert dom.inside["over-grant-table"]["tr"] > 1
    for section in ("integrity", "policy", "lifecycle", "usage", "provenance"):
        assert "script" not in dom.inside.get(section, Counter())


def test_chromium_paints_the_charts(report: tuple[Path, Summary], tmp_path: Path) -> None:
    image = pytest.importorskip("PIL.Image")
    path, _ = report
    screenshot = tmp_path / "report.png"
    done = _chromium(
        tmp_path / "profile",
        "--hide-scrollbars",
        "--window-size=1200,8000",  # the charts follow the findings and usage sections
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


# Measures the report inside a 1280 px frame and writes the facts into this page, which
# --dump-dom then prints. The report's own CSP forbids scripts: this harness reads it from
# outside, as a person's browser lays it out.
_HARNESS = """<!DOCTYPE html><html><body style="margin:0">
<iframe id="frame" src="report.html" style="width:1280px;height:900px;border:0"></iframe>
<pre id="facts"></pre>
<script>
document.getElementById("frame").addEventListener("load", () => {
  const page = document.getElementById("frame").contentDocument;
  const facts = {scrollWidth: page.documentElement.scrollWidth,
                 clientWidth: page.documentElement.clientWidth, narrow: [], columns: 0,
                 charts: page.querySelectorAll("figure svg").length};
  for (const table of page.querySelectorAll("table")) {
    const headers = [...table.querySelectorAll("thead th")];
    headers.forEach((th, column) => {
      facts.columns += 1;
      const text = th.firstChild;
      let widest = 0;
      if (text) {
        let start = 0;
        for (const word of text.textContent.split(" ")) {
          const range = page.createRange();
          range.setStart(text, start);
          range.setEnd(text, start + word.length);
          widest = Math.max(widest, range.getBoundingClientRect().width);
          start += word.length + 1;
        }
      }
      for (const row of table.querySelectorAll("tr")) {
        const cell = row.children[column];
        if (!cell) continue;
        const style = page.defaultView.getComputedStyle(cell);
        const inner = cell.getBoundingClientRect().width
          - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
        if (inner + 0.5 < widest) {
          facts.narrow.push([table.id, th.textContent, inner, widest]);
        }
      }
    });
  }
  // Ids and ARNs wrap only at their separators: no piece between two is itself broken.
  facts.segments = 0; facts.broken = [];
  for (const piece of page.querySelectorAll("td.src span, td.id span")) {
    facts.segments += 1;
    if (piece.getClientRects().length > 1) facts.broken.push(piece.textContent);
  }
  document.getElementById("facts").textContent = JSON.stringify(facts);
});
</script></body></html>
"""


def test_layout_at_1280_px_every_column_fits_its_header_and_nothing_scrolls(
    report: tuple[Path, Summary], tmp_path: Path
) -> None:
    import json
    import re

    path, _ = report
    harness = path.parent / "harness.html"
    harness.write_text(_HARNESS, encoding="utf-8")
    done = _chromium(
        tmp_path / "profile",
        "--allow-file-access-from-files",
        "--window-size=1300,1000",
        "--virtual-time-budget=10000",
        "--dump-dom",
        harness.as_uri(),
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    found = re.search(r'<pre id="facts">(.*?)</pre>', done.stdout.decode("utf-8"), re.DOTALL)
    assert found is not None, "the harness measured nothing"
    assert found.group(1), "the harness measured nothing"
    facts = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert facts["columns"] > 20  # the tables were there to measure
    assert facts["narrow"] == []  # no cell narrower than its header's longest word
    assert facts["scrollWidth"] <= facts["clientWidth"]  # no horizontal scroll at 1280 px
    assert facts["charts"] >= 3  # reasons, timeline and at least one usage chart
    assert facts["segments"] > 50
    assert facts["broken"] == []  # e.g. 'archive-2026-11.jsonl' is never cut at a hyphen


def test_screenshot_at_1280_px_shows_usage_and_grant_lines_inside_the_page(
    report: tuple[Path, Summary], tmp_path: Path
) -> None:
    image = pytest.importorskip("PIL.Image")
    path, _ = report
    screenshot = tmp_path / "report.png"
    done = _chromium(
        tmp_path / "profile",
        "--hide-scrollbars",
        "--window-size=1280,6000",
        f"--screenshot={screenshot}",
        path.as_uri(),
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    picture = image.open(screenshot).convert("RGB")
    assert picture.width == 1280
    colours = {colour: count for count, colour in picture.getcolors(maxcolors=1 << 24)}

    def near(wanted: tuple[int, int, int]) -> int:
        return sum(
            count
            for pixel, count in colours.items()
            if all(abs(a - b) <= 6 for a, b in zip(pixel, wanted, strict=True))
        )

    # The usage charts: step lines, and the light fill under them (none elsewhere).
    assert near(USAGE_RGB) > 300
    assert near(USAGE_FILL_RGB) > 20_000
    assert near(REJECTED_RGB) > 1_000  # grant lines, rejected bars, integrity headings
    # Nothing painted in the right margin: no table or chart runs off the page.
    margin = picture.crop((1280 - 24, 0, 1280, picture.height)).getcolors(maxcolors=1 << 24)
    assert {colour for _, colour in margin} == {(255, 255, 255)}
