"""Starting the app in AppTest, shared by the page tests. Not a test module."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

TIMEOUT = 60
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HOME = None
DATA_PAGE = "pages/data.py"


def started_app(page: str | None = DATA_PAGE) -> AppTest:
    """The app after its first run on the demo cohort, with no exception shown.

    The first run draws the home page (the Overview); ``page`` is then opened, by
    default the Data page, where uploads and column corrections start. Pass
    ``page=HOME`` to stay on the home page.
    """
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    if page is not None:
        at.switch_page(page).run()
        assert not at.exception, at.exception
    return at


def sidebar_text(at: AppTest) -> str:
    """Everything the sidebar shows, as one string."""
    return " ".join(str(getattr(el, "value", "")) for el in at.sidebar)


def open_section(at: AppTest, section: str) -> AppTest:
    """The Paired tests page with one of its sections shown (``robustness``, ``times``,
    ``subgroups``): each is computed only when chosen."""
    at.radio(key="pt_section").set_value(section).run()
    assert not at.exception, at.exception
    return at


def show_every_chart(at: AppTest) -> AppTest:
    """The Charts page with every chart drawn (it draws the one chosen otherwise)."""
    at.radio(key="chart_shown").set_value("all").run()
    assert not at.exception, at.exception
    return at
