"""Benchmark: how long a page takes to redraw after a sidebar filter changes.

    python scripts/benchmark_interaction.py [--patients N] [--no-browser]

Server side (Streamlit's AppTest, the page's whole script run): each page is opened on
the demo cohort and on a generated cohort of N patients (default 10,000, the cohort of
``benchmark_loader.py``), in a fresh browser session; then the sidebar filters change,
one click at a time, to values not chosen before in that session (sex, then age group,
then iron therapy, then back to all sexes), and each rerun is timed. The median per
page is printed beside the budget: 100 ms on the demo, 250 ms at 10,000 patients.

In a real browser (headless Chromium, the demo on a freshly started server): the
Paired tests and Charts pages, a click on a sidebar filter's new value until the page
has finished its run and painted its charts; budget 400 ms. Nothing is asserted: the
figures go in the README's Speed section.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "scripts")]

import streamlit as st  # noqa: E402
from benchmark_loader import make_rows, to_csv  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from ui.shell import PAGES, Dataset  # noqa: E402

DEMO_BUDGET_MS = 100
LARGE_BUDGET_MS = 250
BROWSER_BUDGET_MS = 400

#: The sidebar clicks, in order: (filter label, menu choice); each gives a new filter.
CLICKS = (
    ("Sex", "Female"),
    ("Age group", "Adult"),
    ("Iron therapy", "Not on iron therapy"),
    ("Sex", "All"),
)
BROWSER_PAGES = ("Overview", "Paired tests", "Charts")


def _selectbox(at: AppTest, label: str):
    return next(box for box in at.sidebar.selectbox if box.label == label)


def _clicks(at: AppTest) -> list[tuple[str, str]]:
    """The clicks of :data:`CLICKS` this cohort's sidebar offers."""
    labels = {box.label: box.options for box in at.sidebar.selectbox}
    return [(label, value) for label, value in CLICKS if value in labels.get(label, ())]


def page_timings(page: str, dataset: Dataset | None) -> list[float]:
    """Milliseconds of each rerun of ``page`` after a filter change, in a fresh session."""
    # AppTest gives every instance the same session id: empty the session caches, so
    # the page starts as in a new browser session
    st.cache_resource.clear()
    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    if dataset is not None:
        at.session_state["dataset"] = dataset
    at.run()
    at.switch_page(page).run()
    if at.exception:
        raise SystemExit(f"{page}: {at.exception}")
    timings = []
    for label, value in _clicks(at):
        _selectbox(at, label).select(value)
        start = time.perf_counter()
        at.run()
        timings.append((time.perf_counter() - start) * 1000)
        if at.exception:
            raise SystemExit(f"{page} after {label} = {value}: {at.exception}")
    return timings


def server_side(name: str, dataset: Dataset | None, budget: float) -> None:
    print(f"\nFilter change → page rerun (AppTest, server side), {name}; budget {budget:.0f} ms")
    print(f"  {'page':<16} {'median':>8} {'slowest':>8}  each click (ms)")
    for spec in PAGES:
        if spec.path == "pages/data.py":
            continue  # the Data page shows the file, not the filtered patients
        timings = page_timings(spec.path, dataset)
        median = statistics.median(timings)
        verdict = "within budget" if median <= budget else "OVER BUDGET"
        each = ", ".join(f"{t:.0f}" for t in timings)
        print(f"  {spec.title:<16} {median:>6.0f} ms {max(timings):>5.0f} ms  {each}  {verdict}")


#: Records each change of the app's script state, so a run that starts and ends between
#: two polls is still seen.
WATCH_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    window.__states = [];
    new MutationObserver(() => window.__states.push(app.getAttribute('data-test-script-state')))
        .observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""
#: True once a run started after WATCH_JS has ended and every chart has painted.
SETTLED_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!window.__states.includes('running')) return false;
    if (app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    const charts = [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')];
    return charts.every((chart) => chart.querySelector('canvas, svg'));
}"""


def _click_to_settled(page, label: str, value: str) -> float:
    """Milliseconds from a click on ``value`` of the sidebar's ``label`` menu until the
    page's run is over and its charts are painted."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    menu = page.get_by_test_id("stSidebar").get_by_role("combobox", name=label, exact=True)
    option = page.get_by_role("option", name=value, exact=True)
    for _attempt in range(5):  # a menu clicked while the sidebar redraws may not open
        menu.click()
        try:
            option.wait_for(timeout=2_000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    page.evaluate(WATCH_JS)
    start = time.perf_counter()
    option.click()
    page.wait_for_function(SETTLED_JS, timeout=60_000, polling="raf")
    return (time.perf_counter() - start) * 1000


def browser_timings() -> None:
    from browser import APP_IDLE, find_chromium, launch_browser, running_server
    from playwright.sync_api import sync_playwright

    chromium = find_chromium()
    if chromium is None:
        print("\nBrowser: no Chromium found (set CHROMIUM=/path/to/chromium); not measured.")
        return
    print(f"\nFilter click → page settled (headless Chromium, demo); budget {BROWSER_BUDGET_MS} ms")
    with sync_playwright() as playwright, running_server() as (url, _process):
        browser = launch_browser(playwright, chromium)
        try:
            for spec in PAGES:
                if spec.title not in BROWSER_PAGES:
                    continue
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                page = context.new_page()  # a new browser session: no filter seen yet
                page.goto(f"{url}/" if spec.default else f"{url}/{spec.url_path}")
                page.get_by_test_id("stMain").locator("h1", has_text=spec.title).wait_for()
                page.wait_for_selector(APP_IDLE, state="attached", timeout=60_000)
                timings = [_click_to_settled(page, label, value) for label, value in CLICKS]
                median = statistics.median(timings)
                verdict = "within budget" if median <= BROWSER_BUDGET_MS else "OVER BUDGET"
                each = ", ".join(f"{t:.0f}" for t in timings)
                print(f"  {spec.title:<16} {median:>6.0f} ms  {each}  {verdict}")
                context.close()
        finally:
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--only-demo", action="store_true", help="skip the large cohort")
    parser.add_argument("--only-browser", action="store_true", help="only the browser timing")
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # Shapiro-Wilk warns above 5,000 values
    if not args.only_browser:
        server_side("demo cohort (25 patients)", None, DEMO_BUDGET_MS)
    if not (args.only_demo or args.only_browser):
        large = Dataset(to_csv(make_rows(args.patients)), "benchmark.csv")
        server_side(f"generated cohort ({args.patients:,} patients)", large, LARGE_BUDGET_MS)
    if not args.no_browser:
        browser_timings()


if __name__ == "__main__":
    main()
