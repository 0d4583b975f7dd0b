"""The shell commands that regenerate what a page shows (its "Reproduce" expander).

Each command is the CLI spelled out with the page's file, column corrections,
filters, lab, times, levels and chart options, so that running it gives the same
numbers, figures and files (a test runs them and compares the bytes). They are
written to be pasted into a terminal in the dashboard's folder after ``make run``:
the interpreter is the project's own (``.venv/bin/python``; on Windows
``.venv\\Scripts\\python``), and the demo file is named by its path there
(``data/sirolimus_demo.csv``); an uploaded file by its name, as the user has it.
"""

from __future__ import annotations

import shlex

from analytics.analysis import Selection
from analytics.cohort import Cohort
from analytics.filters import CohortFilter
from analytics.settings import AnalysisSettings, ChartOptions

__all__ = [
    "ANALYTICS",
    "DEMO_FOLDER",
    "PYTHON",
    "commands",
    "power_command",
    "thesis_commands",
    "validate_command",
]

#: The project's interpreter, as ``make run`` installs it (relative to its folder).
PYTHON = ".venv/bin/python"
#: The command line, as a shown command starts.
ANALYTICS = (PYTHON, "-m", "analytics")
#: Where the demo files are, in the dashboard's folder.
DEMO_FOLDER = "data"


def _file_args(cohort: Cohort) -> list[str]:
    """The file, its sheet, the column corrections made by the user, the pseudonymisation,
    and for dated results the start dates and the visit windows."""
    source = cohort.source
    words = [f"{DEMO_FOLDER}/{source.filename}" if source.is_demo else source.filename]
    if source.sheet and len(source.sheets) > 1:
        words += ["--sheet", source.sheet]
    for role in cohort.mapping:
        if role.source == "set by you":
            words += ["--map", f"{role.column}={role.as_role_string()}"]
    mode = cohort.identifiers.mode
    if mode and mode != "auto":
        words += ["--pseudonymise", mode]
    if cohort.windowed is not None:  # dated results: the start dates and every window rule
        words += cohort.windowed.args()
    return words


def commands(
    cohort: Cohort,
    cohort_filter: CohortFilter,
    *,
    selection: Selection | None = None,
    analysis: AnalysisSettings | None = None,
    options: ChartOptions | None = None,
    chart: str | None = None,
) -> list[str]:
    """The shell commands that regenerate a view's numbers, figure and report."""
    analysis = analysis or AnalysisSettings()
    options = options or ChartOptions()
    base = list(ANALYTICS)
    common = [*_file_args(cohort), *cohort_filter.args()]
    levels = analysis.args()
    view_options = [*options.args(), *analysis.threshold_args()]
    if selection is None:
        return [
            shlex.join([*base, "cohort", *common, "--json"]),
            shlex.join([*base, "export", *common, *levels, *view_options, "-o", "results.xlsx"]),
        ]
    baseline, follow_up = f"{selection.baseline:g}", f"{selection.follow_up:g}"
    lab = ["--analyte", selection.analyte, "--baseline", baseline, "--follow-up", follow_up]
    files, filters = _file_args(cohort), cohort_filter.args()
    course = ["--analyte", selection.analyte, "--baseline", baseline]
    evidence = analysis.evidence_args()  # one lab's margin, prior and CVs
    lines = [
        [*base, "paired", *files, *lab, *filters, *levels, *evidence, "--json"],
        [*base, "timecourse", *files, *course, *filters, *levels, "--json"],
    ]
    if chart is not None:
        figure = ["--chart", chart, *view_options, "--format", "png", "-o", f"{chart}.png"]
        lines.append([*base, "figure", *files, *lab, *filters, *levels, *evidence, *figure])
    for command, output in (("report", "report.html"), ("export", "bundle.zip")):
        words = [*files, *lab, *filters, *levels, *evidence, *view_options, "-o", output]
        lines.append([*base, command, *words])
    return [shlex.join(line) for line in lines]


def thesis_commands(cohort: Cohort) -> list[str]:
    """Commands that redraw the study's Figures 1-6 from the demo file (or the file in use)."""
    source = cohort.source
    path = f"{DEMO_FOLDER}/{source.filename}" if source.is_demo else source.filename
    return [
        shlex.join(
            [
                *ANALYTICS,
                "figure",
                path,
                "--thesis",
                str(number),
                "-o",
                f"thesis_figure_{number}.png",
            ]
        )
        for number in range(1, 7)
    ]


def power_command(n: int, sd_change: float, delta: float, alpha: float) -> str:
    """The command that reproduces a power panel."""
    words = ["--n", str(n), "--sd-change", f"{sd_change:.6g}", "--delta", f"{delta:g}"]
    return shlex.join([*ANALYTICS, "power", *words, "--alpha", f"{alpha:g}", "--json"])


def validate_command(cohort: Cohort) -> str:
    """The command that prints this file's validation report."""
    return shlex.join([*ANALYTICS, "validate", *_file_args(cohort), "--json"])
