"""Starting the app in AppTest, shared by the page tests. Not a test module."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

TIMEOUT = 60
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def started_app() -> AppTest:
    """The app after its first run on the demo cohort, with no exception shown."""
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    return at


def sidebar_text(at: AppTest) -> str:
    """Everything the sidebar shows, as one string."""
    return " ".join(str(getattr(el, "value", "")) for el in at.sidebar)
