"""Load test: 20 browser sessions on one server at once, plus one hostile upload.

Each session uploads its own cohort file and visits every page (see
``tests/sessions.py``); prints per-session times, errors, and the server's peak
resident memory (the server and its file readers). Figures are in the README.

    .venv/bin/python scripts/load_test.py [--sessions 20] [--no-hostile]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from browser import running_server  # noqa: E402
from sessions import run_sessions  # noqa: E402

from ui.shell import PAGES  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--no-hostile", action="store_true")
    args = parser.parse_args()
    with running_server() as (url, process):
        run = run_sessions(url, args.sessions, hostile=not args.no_hostile, leader_pid=process.pid)
        alive = process.poll() is None
    tours = [r for r in run.results if r.name != "hostile.xlsx"]
    times = sorted(r.seconds for r in tours)
    print(f"sessions: {len(tours)} (+ hostile upload: {not args.no_hostile})")
    print(f"pages visited: {sum(r.pages for r in tours)} of {len(PAGES) * len(tours)}")
    print(
        f"session time: median {statistics.median(times):.1f} s, "
        f"slowest {times[-1]:.1f} s; whole run {run.seconds:.1f} s"
    )
    for r in run.results:
        if r.name == "hostile.xlsx":
            print(f"hostile upload refused after {r.seconds:.1f} s")
    print(f"server peak resident memory (server + readers): {run.peak_server_mb:,.0f} MB")
    print(f"server alive at the end: {alive}")
    print(f"requests that left the machine: {len(run.outside)}")
    print(f"errors: {len(run.errors)}")
    for error in run.errors:
        print("  " + error)
    return 0 if alive and not run.errors and not run.outside else 1


if __name__ == "__main__":
    sys.exit(main())
