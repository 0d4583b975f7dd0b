"""Shared test setup. Keep it light: everything here runs for every test session."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `pytest` as well as `python -m pytest` finds the app
    sys.path.insert(0, str(ROOT))


def in_ci() -> bool:
    """CI=true (any value but empty/0/false/no): missing tools fail instead of skip."""
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


@pytest.fixture(scope="session")
def browser_needed() -> str:
    """Path of headless Chromium for the browser tests.

    Without Chromium (or the Playwright package) the test is skipped with a loud
    reason, except under CI, where it fails: CI must never skip the browser tests.
    """
    from browser import INSTALL_HINT, find_chromium  # tests/browser.py, imported lazily

    problems = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problems.append(
            "the Playwright package is missing (`.venv/bin/pip install -r requirements-test.txt`)"
        )
    chromium = find_chromium()
    if chromium is None:
        problems.append(f"no Chromium found. {INSTALL_HINT}")
    if problems:
        message = (
            "BROWSER TESTS NOT RUN: "
            + "; ".join(problems)
            + " (`bash scripts/ensure_chromium.sh` installs Chromium on Debian as root.)"
        )
        if in_ci():
            pytest.fail(message + " CI is set, so this is a failure, not a skip.")
        pytest.skip(message)
    return chromium


@pytest.fixture
def within_10_seconds():
    """Fail, instead of hanging, a test that runs longer than 10 s.

    For inputs that would stall a reader whose work is not linear in the input's
    length (e.g. a quadratic regular expression on a long cell).
    """
    if not hasattr(signal, "SIGALRM"):  # pragma: no cover - Windows
        pytest.skip("needs SIGALRM")

    def too_slow(signum, frame):
        raise TimeoutError("more than 10 s: is the work quadratic in this input?")

    previous = signal.signal(signal.SIGALRM, too_slow)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)
