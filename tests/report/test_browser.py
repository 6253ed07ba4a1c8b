"""The HTML report in a real headless Chromium (Debian's, driven by Playwright): the classifier
demo, a language-model audit and a label-only audit. Each page must fit 1300 px without
horizontal scrolling, every plot must have labelled axes (read from the SVG itself), the page
must print to A4 without overflowing the paper, and the screenshots are written for a reader
(``MIAUDIT_SCREENSHOTS=DIR`` keeps them; docs/images holds the committed ones)."""

from __future__ import annotations

import base64
import os
import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import playwright.sync_api as playwright
import pytest

from miaudit import audit
from miaudit.demo.classifier import CLASS_NAMES, SUBJECTS, demo_setup
from miaudit.targets.harden import harden

# never skipped: a skipped browser test proves nothing. The README's test command runs
# .ci/services, which installs Debian's chromium.
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    raise RuntimeError("the report's browser test needs Chromium: run `bash .ci/services` first")

WIDTH = 1300
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory, tiny_lm: Any) -> dict[str, Path]:
    """The three reports, written as a user would get them (the language model's on 80 of the
    tiny LM's members and 80 non-members: the page's layout, not the numbers, is tested)."""
    out = tmp_path_factory.mktemp("reports")
    target, members, nonmembers = demo_setup(0)
    common = {"class_names": list(CLASS_NAMES), "subjects": SUBJECTS, "seed": 0}
    results = {
        "classifier": audit(target, members, nonmembers, **common),
        "label-only": audit(harden(target, "label-only"), members, nonmembers, **common),
    }
    lm, lm_members, lm_nonmembers, _ = tiny_lm
    results["language-model"] = audit(lm, lm_members[:80], lm_nonmembers[:80], seed=0)
    paths = {}
    for name, result in results.items():
        folder = out / name
        result.write(folder, ["html"])
        paths[name] = folder / "report.html"
    return paths


def _svgs(page_html: str) -> list[ET.Element]:
    found = re.findall(r'src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', page_html)
    return [ET.fromstring(base64.b64decode(data)) for data in found]


def _text(node: ET.Element) -> str:
    return "".join(node.itertext()).strip()


def _check_axes(svg: ET.Element) -> int:
    """Every plotting area of the figure has a non-empty x and y label; returns how many."""
    areas = [g for g in svg.iter(f"{SVG}g") if re.fullmatch(r"axes_\d+", g.get("id", ""))]
    assert areas, "no axes in the figure"
    for area in areas:
        ids = {g.get("id", ""): g for g in area.iter(f"{SVG}g")}
        x = [g for i, g in ids.items() if i.startswith("x-label-")]
        y = [g for i, g in ids.items() if i.startswith("y-label-")]
        assert x and _text(x[0]), f"{area.get('id')}: no x-axis label"
        assert y and _text(y[0]), f"{area.get('id')}: no y-axis label"
    return len(areas)


@pytest.mark.parametrize("name", ["classifier", "label-only", "language-model"])
def test_the_report_reads_at_1300_px_and_prints_on_a4(
    browser: Any, reports: dict[str, Path], name: str, tmp_path: Path
) -> None:
    path = reports[name]
    html = path.read_text(encoding="utf-8")
    page = browser.new_page(viewport={"width": WIDTH, "height": 900})
    page.goto(path.as_uri())
    # no horizontal overflow: nothing on the page is wider than the window
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right"
        f" > {WIDTH} + 1).map(e => e.tagName + '.' + e.className).slice(0, 5)"
    )
    assert wide == [], wide
    # the first screen says it in words, and the next step, before any table
    summary = page.inner_text("#summary")
    assert "What to do next" in summary and len(summary) > 150
    # plots: at least the ROC curves, each with labelled axes
    svgs = _svgs(html)
    assert svgs and sum(_check_axes(svg) for svg in svgs) >= 1
    if name == "language-model":
        assert "By class" not in html and page.locator(".snippet").count() >= 1
    else:
        assert "benign" in html or "malignant" in html  # class names from the data
    keep = Path(os.environ.get("MIAUDIT_SCREENSHOTS", tmp_path))
    keep.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(keep / f"report-{name}.png"), full_page=True)
    # A4: printed with the print stylesheet, nothing wider than the paper
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 700, "height": 1000})  # A4 less margins, at 96 dpi
    assert page.evaluate("document.documentElement.scrollWidth") <= 700
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= 2
    if name == "classifier":
        (keep / "report-classifier.pdf").write_bytes(pdf)
    page.close()
