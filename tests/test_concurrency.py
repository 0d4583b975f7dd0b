"""Several browser sessions on one server at once, one of them uploading a hostile file.

Each session uploads its own cohort and visits every page; none may see another's
file or patient count, none may show an exception, and the hostile upload is refused
on its own Data page while the others carry on. ``scripts/load_test.py`` runs the same
with 20 sessions and prints the figures given in the README.
"""

from __future__ import annotations

import pytest
from browser import running_server
from sessions import run_sessions

from ui.shell import PAGES

pytestmark = pytest.mark.browser

SESSIONS = 5


def test_sessions_at_once_each_see_only_their_own_file(browser_needed: str) -> None:
    with running_server() as (url, process):
        run = run_sessions(url, SESSIONS, hostile=True, leader_pid=process.pid)
        assert process.poll() is None, "the server died"
    assert run.errors == []
    assert len(run.results) == SESSIONS + 1
    tours = [r for r in run.results if r.name != "hostile.xlsx"]
    assert all(r.pages == len(PAGES) for r in tours), [(r.name, r.pages) for r in tours]
    assert run.outside == []
    assert run.peak_server_mb > 0
