"""The real app in headless Chromium: deep links, the Overview home page, upload, navigation,
filters, privacy.

One server is shared by the module (starting it costs seconds). The first test must
be the first visit to that server: it guards the legacy ``pages/`` trap (a first visit
deep-linked to a page on a fresh server runs the page file without the router).
If the tests run in another order, that test starts a fresh server of its own.
Every browser context records requests leaving the machine; the last test asserts
there were none.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from browser import ROOT, launch_browser, outside_requests, running_app, wait_for_app

from ui.shell import PAGES, PageSpec

try:
    from playwright.sync_api import Browser, Page, expect, sync_playwright
except ImportError:  # the `browser_needed` fixture skips (or fails under CI)
    Browser = Page = expect = sync_playwright = None

pytestmark = pytest.mark.browser

DEFAULT = next(spec for spec in PAGES if spec.default)
OTHERS = [spec for spec in PAGES if not spec.default]
DATA_PAGE = next(spec for spec in PAGES if spec.url_path == "data")
UPLOAD = ROOT / "data" / "sirolimus_demo.xlsx"
VIEWPORT = {"width": 1400, "height": 900}

OUTSIDE: list[str] = []  # requests that left the machine, across the whole module
SEEN = {"requests": 0}


@dataclass
class Server:
    url: str
    visited: bool = False


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def chromium(browser_needed: str) -> Iterator[Browser]:
    expect.set_options(timeout=15_000)  # the first script run imports pandas & co.
    with sync_playwright() as playwright:
        browser = launch_browser(playwright, browser_needed)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def server(browser_needed: str) -> Iterator[Server]:
    with running_app() as url:
        yield Server(url)


@pytest.fixture
def new_page(chromium: Browser) -> Iterator[Callable[[], Page]]:
    """Pages in fresh browser contexts (one Streamlit session each), recorded."""
    contexts = []

    def count(_request: object) -> None:
        SEEN["requests"] += 1

    def make() -> Page:
        context = chromium.new_context(viewport=VIEWPORT)
        outside_requests(context, into=OUTSIDE)
        context.on("request", count)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        return page

    yield make
    for context in contexts:
        context.close()


# --------------------------------------------------------------------------- helpers


def visit(page: Page, server: Server, url_path: str = "") -> None:
    server.visited = True
    page.goto(f"{server.url}/{url_path}")
    wait_for_app(page)


def sidebar(page: Page):
    return page.get_by_test_id("stSidebar")


def nav_link(page: Page, spec: PageSpec):
    nav = page.get_by_test_id("stSidebarNav")
    return nav.get_by_role("link", name=spec.title, exact=True)


def url_of(spec: PageSpec) -> re.Pattern[str]:
    path = "" if spec.default else re.escape(spec.url_path)
    return re.compile(rf"^http://127\.0\.0\.1:\d+/{path}/?(\?.*)?$")


def expect_page(page: Page, spec: PageSpec) -> None:
    """The page's own title, the shell around it, and no exception."""
    expect(page).to_have_url(url_of(spec))
    expect(page.get_by_test_id("stMain").locator("h1")).to_have_text(spec.title)
    expect(page.get_by_test_id("stException")).to_have_count(0)


def switch_to(page: Page, spec: PageSpec) -> None:
    """Go to a page through the sidebar link (same session, unlike page.goto)."""
    nav_link(page, spec).click()
    wait_for_app(page)
    expect_page(page, spec)


def tour_from(current: PageSpec) -> list[PageSpec]:
    """Every page once, starting after ``current`` and ending on it: each a real switch."""
    i = PAGES.index(current)
    return [*PAGES[i + 1 :], *PAGES[: i + 1]]


# --------------------------------------------------------------------------- tests


def test_first_visit_deep_link_gets_router_and_sidebar(
    server: Server, new_page: Callable[[], Page]
) -> None:
    """Must stay first: the first visit to a fresh server is a deep link to a page."""
    if not OTHERS:
        pytest.skip("only one page in ui.shell.PAGES: nothing to deep-link to")
    spec = OTHERS[0]
    page = new_page()
    if server.visited:  # run out of order: this check needs a server nobody visited
        with running_app() as url:
            visit(page, Server(url), spec.url_path)
            _check_deep_link(page, spec)
    else:
        visit(page, server, spec.url_path)
        _check_deep_link(page, spec)


def _check_deep_link(page: Page, spec: PageSpec) -> None:
    expect_page(page, spec)
    bar = sidebar(page)
    links = page.get_by_test_id("stSidebarNav").get_by_test_id("stSidebarNavLink")
    expect(links).to_have_text([p.title for p in PAGES])
    expect(bar.get_by_text("Filters", exact=True)).to_be_visible()
    expect(bar.get_by_text("Data in use", exact=True)).to_be_visible()


def test_opening_the_app_finds_the_overview(server: Server, new_page: Callable[[], Page]) -> None:
    """The home page answers the study's question on the demo: both labs, drawn."""
    page = new_page()
    visit(page, server)
    expect_page(page, DEFAULT)
    assert DEFAULT.title == "Overview"
    main = page.get_by_test_id("stMain")
    headings = main.locator("h3")
    expect(headings).to_have_text(
        ["MCV (fL), month 0 → month 2", "Hepcidin (ng/mL), month 0 → month 2"]
    )
    charts = main.get_by_test_id("stVegaLiteChart")
    expect(charts).to_have_count(4)  # per lab: the change per patient and the patient flow
    for i in range(4):
        expect(charts.nth(i).locator("canvas, svg").first).to_be_attached()
    expect(
        main.get_by_text("MCV fell on average from month 0 to month 2", exact=False)
    ).to_be_visible()
    expect(
        main.get_by_text("With 5 pairs no rank test can reach p < 0.05", exact=False)
    ).to_be_visible()
    link = main.get_by_role("link", name="Use your own file", exact=False)
    expect(link).to_be_visible()
    link.click()
    wait_for_app(page)
    expect_page(page, DATA_PAGE)


def test_upload_then_every_page_keeps_the_file(
    server: Server, new_page: Callable[[], Page]
) -> None:
    page = new_page()
    visit(page, server)
    expect_page(page, DEFAULT)
    bar = sidebar(page)
    expect(bar.get_by_text("Demo cohort", exact=False)).to_be_visible()

    switch_to(page, DATA_PAGE)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(UPLOAD)
    wait_for_app(page)
    expect(bar.get_by_text(UPLOAD.name, exact=True)).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)

    for spec in tour_from(DATA_PAGE):
        switch_to(page, spec)
        expect(bar.get_by_text(UPLOAD.name, exact=True)).to_be_visible()
        expect(bar.get_by_text("25 of 25 patients", exact=True)).to_be_visible()


def test_filter_persists_across_pages(server: Server, new_page: Callable[[], Page]) -> None:
    page = new_page()
    visit(page, server)
    bar = sidebar(page)
    expect(bar.get_by_text("25 of 25 patients", exact=True)).to_be_visible()

    sex = bar.get_by_role("combobox", name="Sex", exact=True)
    sex.click()
    page.get_by_role("option", name="Female", exact=True).click()
    wait_for_app(page)
    expect(bar.get_by_text("12 of 25 patients", exact=True)).to_be_visible()

    for spec in tour_from(DEFAULT):
        switch_to(page, spec)
        expect(bar.get_by_text("12 of 25 patients", exact=True)).to_be_visible()
        expect(bar.get_by_role("combobox", name="Sex", exact=True)).to_have_value("Female")


MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "svg": b"<svg", "pdf": b"%PDF"}
CHARTS_PAGE = next(spec for spec in PAGES if spec.url_path == "charts")


def test_every_chart_type_downloads(server: Server, new_page: Callable[[], Page]) -> None:
    """On the Charts page, one download per chart type (formats rotated) is a real file."""
    from analytics.viz.figures import CHARTS

    page = new_page()
    visit(page, server)
    switch_to(page, CHARTS_PAGE)
    # the page draws one chart at a time; ask for every chart
    page.locator(".st-key-chart_shown").get_by_text("Every chart", exact=True).click()
    formats = ("png", "svg", "pdf")
    for i, chart in enumerate(CHARTS):
        fmt = formats[i % 3]
        button = page.locator(f".st-key-dl_{chart}_{fmt} button")
        with page.expect_download(timeout=60_000) as info:
            button.click()
        download = info.value
        data = open(download.path(), "rb").read()  # noqa: SIM115 - playwright's temp file
        assert download.suggested_filename.endswith(f".{fmt}")
        assert download.suggested_filename.startswith("mcv_")
        head = data[:400].lstrip()
        assert MAGIC[fmt] in head, (chart, fmt, head[:40])
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_no_request_left_the_machine(server: Server, new_page: Callable[[], Page]) -> None:
    """Runs last: every request of the tests above went to 127.0.0.1 only."""
    if SEEN["requests"] == 0:  # run on its own: make some traffic to check
        page = new_page()
        visit(page, server)
        expect_page(page, DEFAULT)
    assert SEEN["requests"] > 0, "the request recorder saw nothing: it is not attached"
    assert not OUTSIDE, "requests left the machine:\n" + "\n".join(sorted(set(OUTSIDE)))
