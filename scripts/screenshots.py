"""Full-page screenshots of every page, for the README and for reviewing pages.

    python scripts/screenshots.py OUTDIR

Starts the app on a free local port, opens the default page (demo cohort) in headless
Chromium at 1400x900, then goes to every page in ``ui.shell.PAGES`` through the
sidebar links (one session) and saves ``OUTDIR/<url_path>.png``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import streamlit.logger  # noqa: E402
from browser import (  # noqa: E402  (tests/browser.py, found through sys.path)
    find_chromium,
    launch_browser,
    outside_requests,
    running_app,
    wait_for_app,
)

# Importing the app's modules outside `streamlit run` warns "No runtime found": expected.
streamlit.logger.get_logger("streamlit.runtime.caching.cache_data_api").setLevel("ERROR")

from ui.shell import PAGES, PageSpec  # noqa: E402

WIDTH, HEIGHT = 1400, 900

# Streamlit scrolls inside its own containers, not the document: measure the tallest
# one so that the viewport can be made tall enough for a true full-page capture.
CONTENT_HEIGHT_JS = """() => Math.max(
    document.documentElement.scrollHeight,
    ...['stMain', 'stAppViewContainer', 'stSidebarContent', 'stSidebarUserContent']
        .map((id) => document.querySelector(`[data-testid="${id}"]`))
        .filter(Boolean)
        .map((el) => el.scrollHeight)
)"""


def file_name(spec: PageSpec) -> str:
    return f"{spec.url_path or 'home'}.png"


def capture(page, path: Path) -> None:
    """Full-page PNG: grow the viewport to the content's height, shoot, restore."""
    height = HEIGHT
    for _ in range(3):  # the layout can change with the viewport (100vh containers)
        needed = max(HEIGHT, int(page.evaluate(CONTENT_HEIGHT_JS)))
        if needed <= height:
            break
        height = needed
        page.set_viewport_size({"width": WIDTH, "height": height})
        page.wait_for_timeout(300)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path, help="folder for the PNG files")
    args = parser.parse_args(argv)
    chromium = find_chromium()
    if chromium is None:
        print("No Chromium found: run scripts/ensure_chromium.sh or set CHROMIUM.")
        return 1
    from playwright.sync_api import expect, sync_playwright

    args.outdir.mkdir(parents=True, exist_ok=True)
    default = next(spec for spec in PAGES if spec.default)
    with running_app() as url, sync_playwright() as playwright:
        browser = launch_browser(playwright, chromium)
        try:
            context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
            outside = outside_requests(context)
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.goto(url + "/")
            wait_for_app(page)
            i = PAGES.index(default)
            for spec in [*PAGES[i:], *PAGES[:i]]:  # default page first, then the others
                if spec is not default:
                    nav = page.get_by_test_id("stSidebarNav")
                    nav.get_by_role("link", name=spec.title, exact=True).click()
                    wait_for_app(page)
                heading = page.get_by_test_id("stMain").locator("h1")
                expect(heading).to_have_text(spec.title, timeout=30_000)
                wait_for_app(page)
                path = args.outdir / file_name(spec)
                capture(page, path)
                print(path)
                if page.get_by_test_id("stException").count():
                    print(f"  WARNING: {spec.title} shows an exception", file=sys.stderr)
            if outside:
                print("WARNING: requests left the machine:", *outside, sep="\n  ", file=sys.stderr)
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
