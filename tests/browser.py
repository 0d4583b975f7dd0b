"""Drive the real app in headless Chromium: start the server, launch the browser, wait.

Used by ``tests/test_browser.py`` and ``scripts/screenshots.py``. Not a test module.

Playwright cannot download browsers here: the Chromium of the operating system is
launched through ``executable_path`` (see :func:`find_chromium`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent

CHROMIUM_CANDIDATES = (
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
)
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
INSTALL_HINT = (
    "Install Chromium (Debian/Ubuntu: `apt-get install -y chromium`, macOS: "
    "`brew install --cask chromium`) or point CHROMIUM=/path/to/chromium at one."
)
APP_IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
IGNORED_SCHEMES = frozenset({"data", "blob", "about", "chrome-extension", "chrome"})
STARTUP_TIMEOUT_S = 60.0


# --------------------------------------------------------------------------- browser


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome executable, or None: $CHROMIUM first, then usual places."""
    for candidate in (os.environ.get("CHROMIUM", ""), *CHROMIUM_CANDIDATES):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def launch_browser(playwright: Any, executable: str | None = None) -> Any:
    """Headless Chromium with flags that work as root and without network."""
    executable = executable or find_chromium()
    if executable is None:
        raise RuntimeError(f"No Chromium found. {INSTALL_HINT}")
    return playwright.chromium.launch(
        executable_path=executable, headless=True, args=list(CHROMIUM_ARGS)
    )


def wait_for_app(page: Any, timeout_ms: float = 30_000, settle_ms: int = 250) -> None:
    """Wait until the script run is over, and still over after a short settle.

    Right after a click or an upload the app may not have started its rerun yet, so
    one idle state is not enough: wait for idle, settle, and wait for idle again.
    """
    page.wait_for_selector(APP_IDLE, state="attached", timeout=timeout_ms)
    page.wait_for_timeout(settle_ms)
    page.wait_for_selector(APP_IDLE, state="attached", timeout=timeout_ms)


def is_outside(url: str) -> bool:
    """True when ``url`` goes to a host other than this machine's loopback."""
    parts = urlsplit(url)
    if parts.scheme.lower() in IGNORED_SCHEMES:
        return False
    return (parts.hostname or "").lower() not in LOCAL_HOSTS


def outside_requests(target: Any, into: list[str] | None = None) -> list[str]:
    """Record every request (and WebSocket) that leaves the machine.

    ``target`` is a Playwright ``Page`` or ``BrowserContext`` (a context also covers
    pop-ups and every page opened in it: attach before opening pages). Returns the
    list that fills up as the browser works; pass ``into`` to share one list.
    """
    found: list[str] = [] if into is None else into

    def on_request(request: Any) -> None:
        if is_outside(request.url):
            found.append(f"{request.method} {request.url}")

    def on_websocket(websocket: Any) -> None:
        if is_outside(websocket.url):
            found.append(f"WEBSOCKET {websocket.url}")

    target.on("request", on_request)
    if hasattr(target, "new_page"):  # a BrowserContext: WebSockets are per page
        target.on("page", lambda page: page.on("websocket", on_websocket))
    else:
        target.on("websocket", on_websocket)
    return found


# --------------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as answer:
            return answer.read().strip() == b"ok"
    except (OSError, urllib.error.URLError):
        return False


def _stop(process: subprocess.Popen) -> None:
    """Terminate the server and everything it started (its own process group)."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    # Children left behind in the group after the leader exited.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


@contextlib.contextmanager
def running_app(port: int | None = None, timeout_s: float = STARTUP_TIMEOUT_S) -> Iterator[str]:
    """Start ``streamlit run app.py`` on a free local port; yield its base URL."""
    with running_server(port, timeout_s) as (url, _process):
        yield url


@contextlib.contextmanager
def running_server(
    port: int | None = None, timeout_s: float = STARTUP_TIMEOUT_S
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Start ``streamlit run app.py``; yield its base URL and the server process.

    The server leads its own process group, so the group holds it and every child
    process it starts (the file readers among them).
    """
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with tempfile.TemporaryFile(mode="w+", prefix="streamlit-", suffix=".log") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: killed as a whole on exit
        )

        def server_log() -> str:
            log.flush()
            log.seek(0)
            return log.read()

        try:
            deadline = time.monotonic() + timeout_s
            while not _healthy(url):
                if process.poll() is not None:
                    raise RuntimeError(
                        f"Streamlit exited with code {process.returncode} before answering "
                        f"on {url}.\n--- server log ---\n{server_log()}"
                    )
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"Streamlit did not answer {url}/_stcore/health within "
                        f"{timeout_s:.0f} s.\n--- server log ---\n{server_log()}"
                    )
                time.sleep(0.2)
            yield url, process
        finally:
            _stop(process)
