"""Benchmark: how long a newcomer waits for the first pages, on a freshly started server.

    python scripts/benchmark_first_paint.py [--runs N] [--check]

Each run starts ``streamlit run app.py`` as ``make run`` does (an installed venv, a
fresh server process), opens ``/`` in headless Chromium and measures:

- **server ready**: from starting the server process until it answers its health check;
- **home page drawn**: from then until the home page's script run is over and every
  chart it shows is painted (Vega-Lite's canvas or SVG present); on the way, when its
  title showed and when its script run ended;
- **first detail page**: from a click on "Paired tests" in the sidebar until that page
  is drawn the same way (the demo cohort, first visit in this session).

"From launch" is server ready + home page drawn: what ``make run`` makes a user wait.
The median of the runs is printed (figures for the README's Speed section); with
``--check`` the exit status is 1 when it misses the budget (home page within 5 s of
launch, a detail page within 2 s).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from browser import (  # noqa: E402  (tests/browser.py, found through sys.path)
    APP_IDLE,
    find_chromium,
    launch_browser,
    outside_requests,
    running_server,
)

#: Budgets the issue sets: the home page within 5 s of launch, a detail page within 2 s.
HOME_BUDGET_S = 5.0
DETAIL_BUDGET_S = 2.0
DETAIL_TITLE = "Paired tests"

#: True once the script run is over and every chart on the page has painted.
DRAWN_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    const charts = [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')];
    return charts.every((chart) => chart.querySelector('canvas, svg'));
}"""


def _wait_drawn(page, title: str, timeout_ms: float = 60_000) -> tuple[float, float]:
    """Until the page titled ``title`` has finished its run and painted its charts.

    Returns the moments (``time.perf_counter``) its title appeared and its run ended.
    """
    heading = page.get_by_test_id("stMain").locator("h1", has_text=title)
    heading.first.wait_for(state="visible", timeout=timeout_ms)
    titled = time.perf_counter()
    page.wait_for_selector(APP_IDLE, state="attached", timeout=timeout_ms)
    ran = time.perf_counter()
    page.wait_for_function(DRAWN_JS, timeout=timeout_ms, polling=20)
    return titled, ran


def one_run(playwright, chromium: str, home_title: str) -> dict[str, float]:
    """Seconds to server ready, home page drawn and first detail page drawn."""
    browser = launch_browser(playwright, chromium)
    try:
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        outside = outside_requests(context)
        page = context.new_page()
        started = time.perf_counter()
        with running_server() as (url, _process):
            ready = time.perf_counter()
            page.goto(url + "/")
            titled, ran = _wait_drawn(page, home_title)
            home = time.perf_counter()
            nav = page.get_by_test_id("stSidebarNav")
            clicked = time.perf_counter()
            nav.get_by_role("link", name=DETAIL_TITLE, exact=True).click()
            page.wait_for_timeout(50)  # let the click start the rerun before polling
            _wait_drawn(page, DETAIL_TITLE)
            detail = time.perf_counter()
            if page.get_by_test_id("stException").count():
                raise RuntimeError("a page showed an exception")
        if outside:
            raise RuntimeError("requests left the machine: " + ", ".join(outside))
        return {
            "server ready": ready - started,
            "home title shown": titled - ready,
            "home run over": ran - ready,
            "home page drawn": home - ready,
            "from launch": home - started,
            "first detail page": detail - clicked,
        }
    finally:
        browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="fresh servers to time (median)")
    parser.add_argument("--check", action="store_true", help="exit 1 when over the budget")
    args = parser.parse_args(argv)
    chromium = find_chromium()
    if chromium is None:
        print("No Chromium found: run scripts/ensure_chromium.sh or set CHROMIUM.")
        return 1
    from playwright.sync_api import sync_playwright

    from ui.shell import PAGES

    home_title = next(spec.title for spec in PAGES if spec.default)
    runs = []
    with sync_playwright() as playwright:
        for number in range(1, args.runs + 1):
            timing = one_run(playwright, chromium, home_title)
            runs.append(timing)
            print(f"run {number}: " + ", ".join(f"{k} {v:.2f} s" for k, v in timing.items()))
    median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    print(f"median of {len(runs)} fresh servers ({home_title} is the home page):")
    for key, value in median.items():
        print(f"  {key:<19} {value:5.2f} s")
    within = median["from launch"] < HOME_BUDGET_S and median["first detail page"] < DETAIL_BUDGET_S
    print(
        f"budget (home < {HOME_BUDGET_S:g} s from launch, detail page < {DETAIL_BUDGET_S:g} s): "
        + ("met" if within else "NOT met")
    )
    return 1 if args.check and not within else 0


if __name__ == "__main__":
    sys.exit(main())
