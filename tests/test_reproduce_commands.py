"""The "Reproduce" boxes' commands run as shown: pasted into a shell in the project folder.

Each command is taken from the page as drawn, and run by bash in the repository root
(where ``make run`` puts ``.venv``), not called in this process: a command that only
works inside an activated virtual environment, or names a file that is not there,
fails here. Only ``-o`` is pointed at a temporary folder, so the tests write nothing
into the checkout.
"""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path

import pytest
from app_session import started_app

from analytics.output.commands import ANALYTICS

ROOT = Path(__file__).resolve().parent.parent


def _shown_lines(page: str) -> list[str]:
    at = started_app()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return [line for line in at.code[-1].value.splitlines() if line.strip()]


def _run(line: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    words = shlex.split(line)
    assert words[:3] == list(ANALYTICS) == [".venv/bin/python", "-m", "analytics"]
    if "-o" in words:
        at = words.index("-o") + 1
        words[at] = str(tmp_path / Path(words[at]).name)
    return subprocess.run(
        ["bash", "-c", shlex.join(words)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize(
    "page", ["pages/charts.py", "pages/data.py", "pages/cohort.py", "pages/power.py"]
)
def test_every_shown_command_runs_in_the_project_folder(page, tmp_path):
    lines = _shown_lines(page)
    assert lines
    for line in lines:
        done = _run(line, tmp_path)
        assert done.returncode == 0, (line, done.stderr)
        if line.endswith("--json"):
            assert json.loads(done.stdout)  # the JSON the page's numbers came from
        else:
            assert done.stdout.startswith("wrote "), (line, done.stdout)
    written = {p.name for p in tmp_path.iterdir()}
    expected = {
        "pages/charts.py": {"change.png", "report.html", "bundle.zip"},
        "pages/cohort.py": {"results.xlsx"},
    }
    assert written == expected.get(page, set())


def test_thesis_figure_command_names_the_demo_by_its_path(tmp_path):
    line = _shown_lines("pages/thesis_figures.py")[0]
    assert " figure data/sirolimus_demo.csv --thesis 1 " in line
    done = _run(line, tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "thesis_figure_1.png").read_bytes().startswith(b"\x89PNG")
