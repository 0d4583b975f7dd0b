"""Everything a view produces — figures, tables, results, settings — built in one place.

The Charts page, the "Download all" bundle, the HTML report and the command-line
``figure``, ``report`` and ``export`` commands all call :func:`view_outputs`, so the
same file and settings give the same numbers and figures everywhere.
"""

from __future__ import annotations

import contextlib
import shlex
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from .analysis import (
    Selection,
    paired_for,
    prevalence_for,
    select,
    subgroups_for,
    thesis_table,
    timecourse_for,
)
from .characteristics import Characteristics, characteristics
from .cohort import Cohort
from .errors import AnalysisError
from .export import bundle_zip, settings_dict, settings_json, tables_xlsx
from .figure_base import Figure, FigureContext
from .figures import CHARTS, draw
from .filters import CohortFilter, FilteredCohort
from .labs import default_change
from .paired import PairedResult, leave_one_out
from .power import PowerResult, power_summary
from .report import html_report
from .settings import AnalysisSettings, ChartOptions
from .timecourse import TimecourseResult

__all__ = [
    "ViewOutputs",
    "all_labs_table",
    "commands",
    "power_command",
    "thesis_commands",
    "validate_command",
    "view_outputs",
]


@dataclass(frozen=True)
class ViewOutputs:
    """What one view shows: its results, its figures and its tables (by file stem).

    Examples
    --------
    >>> from analytics import load_cohort
    >>> cohort = load_cohort(b"id,MCV 0,MCV 2\\nA,80,79\\nB,82,80\\nC,85,83\\n", "mcv.csv")
    >>> view = view_outputs(cohort, CohortFilter(), analyte="mcv", charts=("change",))
    >>> view.paired.n_pairs, [figure.filename_stem for figure in view.figures]
    (3, ['mcv_change_0-2mo'])
    >>> view.analysis.alpha, view.options.split
    (0.05, 'sex')
    """

    cohort: Cohort
    filtered: FilteredCohort
    cohort_filter: CohortFilter
    analysis: AnalysisSettings
    options: ChartOptions
    selection: Selection | None = None
    paired: PairedResult | None = None
    timecourse: TimecourseResult | None = None
    power: PowerResult | None = None
    characteristics: Characteristics | None = None
    figures: tuple[Figure, ...] = ()
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    problems: tuple[str, ...] = ()

    def settings(self, generated_at: datetime | None = None) -> dict[str, Any]:
        figure_options = {**asdict(self.options), "age_cutoff": self.analysis.age_cutoff}
        return settings_dict(
            self.cohort,
            filtered=self.filtered,
            cohort_filter=self.cohort_filter,
            selection=self.selection,
            analysis=self.analysis,
            power=self.power,
            extra={"figure_options": figure_options},
            generated_at=generated_at,
        )

    def report_html(self, generated_at: datetime | None = None) -> bytes:
        """The self-contained HTML report of this view."""
        return html_report(
            self.cohort,
            self.filtered,
            settings=self.settings(generated_at),
            selection=self.selection,
            paired=self.paired,
            timecourse=self.timecourse,
            power=self.power,
            characteristics=self.characteristics,
            figures=[(f.title, f.chart) for f in self.figures],
            generated_at=generated_at,
        )

    def bundle(self, generated_at: datetime | None = None) -> bytes:
        """ZIP: every figure (PNG + SVG), every table (CSV + XLSX), settings, README."""
        readme = (
            "Sirolimus lab changes: downloads of one view.\n"
            f"Data: {self.cohort.source.filename} (SHA-256 {self.cohort.source.sha256}).\n"
            f"Patients: {self.filtered.sentence}.\n"
        )
        if self.selection is not None:
            readme += f"Lab and times: {self.selection.label()}.\n"
        for problem in self.problems:
            readme += f"Not drawn: {problem}\n"
        return bundle_zip(
            [(f.filename_stem, f.chart) for f in self.figures],
            self.tables,
            settings_json_bytes(self, generated_at),
            readme,
            generated_at=generated_at,
        )

    def workbook(self) -> bytes:
        """Every table of the view in one XLSX workbook, one sheet per table."""
        return tables_xlsx(self.tables)


def settings_json_bytes(outputs: ViewOutputs, generated_at: datetime | None = None) -> bytes:
    return settings_json(outputs.settings(generated_at))


def _pairs_table(cohort: Cohort, selection: Selection, censored: str) -> pd.DataFrame:
    matrix = cohort.lab_matrix(selection.analyte, censored)
    table = pd.DataFrame(
        {
            "patient": matrix.index,
            "baseline": matrix[selection.baseline].to_numpy(),
            "follow_up": matrix[selection.follow_up].to_numpy(),
        }
    )
    table["change"] = table["follow_up"] - table["baseline"]
    for column in ("sex", "age", "age_group", "cohort", "iron", "epo"):
        table[column] = cohort.patients[column].to_numpy()
    return table


def _paired(cohort: Cohort, selection: Selection, analysis: AnalysisSettings) -> PairedResult:
    return paired_for(
        cohort,
        selection,
        alpha=analysis.alpha,
        confidence=analysis.confidence,
        censored=analysis.censored,
    )


def _all_labs_row(cohort: Cohort, key: str, time: float, analysis: AnalysisSettings) -> dict:
    info = cohort.analytes[key]
    row: dict[str, Any] = {
        "lab": info.name,
        "unit": info.unit,
        "baseline": info.times[0],
        "follow_up": time,
    }
    try:
        result = _paired(cohort, select(cohort, key, info.times[0], time), analysis)
    except AnalysisError as error:
        return {**row, "note": str(error)}
    names = ("n_pairs", "baseline_mean", "follow_up_mean", "mean_change", "ci_low", "ci_high")
    names += ("t", "df", "p_two_sided", "cohen_dz", "wilcoxon_p")
    return {**row, **{name: getattr(result, name) for name in names}, "note": ""}


def all_labs_table(
    filtered: FilteredCohort, analysis: AnalysisSettings | None = None
) -> pd.DataFrame:
    """Every lab, every follow-up time against that lab's first time: one row each.

    Notes
    -----
    Complete pairs per comparison. Rows that cannot be computed (fewer than 2 pairs,
    identical changes) carry the reason in ``note``. Raw p-values, and Holm-adjusted
    p over the whole table (the family: every comparison listed).
    """
    from statsmodels.stats.multitest import multipletests

    analysis = analysis or AnalysisSettings()
    cohort = filtered.cohort
    rows = [
        _all_labs_row(cohort, key, time, analysis)
        for key, info in cohort.analytes.items()
        for time in info.times[1:]
    ]
    table = pd.DataFrame(rows)
    if "p_two_sided" in table:
        tested = table["p_two_sided"].notna()
        table["p_holm"] = None
        if tested.any():
            table.loc[tested, "p_holm"] = multipletests(
                table.loc[tested, "p_two_sided"].astype(float), method="holm"
            )[1]
        table["family"] = f"{int(tested.sum())} comparisons (every lab and time) — Holm"
    return table


def _cohort_tables(
    cohort: Cohort, subset: Cohort, analysis: AnalysisSettings
) -> tuple[Characteristics, dict[str, pd.DataFrame]]:
    """The characteristics, validation and prevalence tables every view has."""
    table_of_characteristics = characteristics(subset, analysis.age_cutoff)
    tables: dict[str, pd.DataFrame] = {
        "characteristics": table_of_characteristics.to_frame().reset_index(),
        "validation_issues": cohort.report.issues_frame(),
        "excluded_rows": cohort.report.excluded_frame(),
    }
    for kind in ("anemia", "microcytosis"):
        with contextlib.suppress(AnalysisError):  # a file without Hgb or MCV values
            tables[f"prevalence_{kind}"] = prevalence_for(
                subset,
                kind,
                analysis.thresholds,
                confidence=analysis.confidence,
                censored=analysis.censored,
            )
    return table_of_characteristics, tables


def _lab_tables(
    subset: Cohort,
    selection: Selection,
    paired: PairedResult,
    analysis: AnalysisSettings,
    split: str,
) -> tuple[TimecourseResult | None, dict[str, pd.DataFrame], list[str]]:
    """The tables of one lab: pairs, test, leave-one-out, every time, subgroups."""
    stem = selection.analyte
    tables = {
        f"{stem}_pairs": _pairs_table(subset, selection, analysis.censored),
        f"{stem}_paired_test": paired.to_frame(),
        f"{stem}_leave_one_out": leave_one_out(paired, alpha=analysis.alpha),
    }
    course, problems = None, []
    try:
        course = timecourse_for(
            subset,
            selection.analyte,
            baseline=selection.baseline,
            alpha=analysis.alpha,
            confidence=analysis.confidence,
            censored=analysis.censored,
        )
        tables[f"{stem}_by_time"] = thesis_table(course)
        tables[f"{stem}_repeated_tests"] = course.tests_frame()
        tables[f"{stem}_contrasts"] = course.contrasts_frame()
    except AnalysisError as error:
        problems.append(f"all time points: {error}")
    try:
        result = subgroups_for(
            subset,
            selection,
            split,
            age_cutoff=analysis.age_cutoff,
            confidence=analysis.confidence,
            censored=analysis.censored,
        )
        tables[f"{stem}_subgroups_{split}"] = result.to_frame()
        if result.pairwise:
            tables[f"{stem}_subgroup_contrasts"] = result.contrasts_frame()
    except AnalysisError as error:
        problems.append(f"subgroups: {error}")
    return course, tables, problems


def view_outputs(
    cohort: Cohort,
    cohort_filter: CohortFilter,
    *,
    analyte: str | None = None,
    baseline: str | float | None = None,
    follow_up: str | float | None = None,
    analysis: AnalysisSettings | None = None,
    options: ChartOptions | None = None,
    charts: tuple[str, ...] = CHARTS,
    delta: float | None = None,
) -> ViewOutputs:
    """Compute the results, figures and tables of one view.

    Without ``analyte``, the view is every lab and every follow-up time against
    baseline: a summary table, the characteristics and the validation report, no
    figures. Figures that cannot be drawn (e.g. too few pairs for a subgroup split)
    are left out and their reason listed in ``problems``.
    """
    analysis = analysis or AnalysisSettings()
    options = options or ChartOptions()
    filtered = cohort_filter.apply(cohort)
    subset = filtered.cohort
    table_of_characteristics, tables = _cohort_tables(cohort, subset, analysis)
    chosen = (cohort, filtered, cohort_filter, analysis, options)
    if analyte is None:
        tables["paired_all_labs"] = all_labs_table(filtered, analysis)
        return ViewOutputs(*chosen, characteristics=table_of_characteristics, tables=tables)
    selection = select(subset, analyte, baseline, follow_up)
    paired = _paired(subset, selection, analysis)
    course, lab_tables, problems = _lab_tables(subset, selection, paired, analysis, options.split)
    tables.update(lab_tables)
    worth = delta if delta is not None else default_change(selection.analyte, selection.unit)
    power = None
    if worth is not None and paired.sd_change > 0:
        power = power_summary(paired.n_pairs, paired.sd_change, worth, alpha=analysis.alpha)
        tables[f"{selection.analyte}_power"] = power.to_frame()
    figures = []
    for name in charts:
        context = FigureContext(filtered, selection, analysis, options, paired=paired)
        try:
            figures.append(draw(name, context))
        except AnalysisError as error:
            problems.append(f"{name}: {error}")
    return ViewOutputs(
        *chosen,
        selection=selection,
        paired=paired,
        timecourse=course,
        power=power,
        characteristics=table_of_characteristics,
        figures=tuple(figures),
        tables=tables,
        problems=tuple(problems),
    )


def _file_args(cohort: Cohort) -> list[str]:
    """The file, its sheet and the column corrections made by the user."""
    source = cohort.source
    words = [source.filename]
    if source.sheet and len(source.sheets) > 1:
        words += ["--sheet", source.sheet]
    for role in cohort.mapping:
        if role.source == "set by you":
            words += ["--map", f"{role.column}={role.as_role_string()}"]
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
    base = ["python", "-m", "analytics"]
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
    lines = [
        [*base, "paired", *files, *lab, *filters, *levels, "--json"],
        [*base, "timecourse", *files, *course, *filters, *levels, "--json"],
    ]
    if chart is not None:
        figure = ["--chart", chart, *view_options, "--format", "png", "-o", f"{chart}.png"]
        lines.append([*base, "figure", *files, *lab, *filters, *levels, *figure])
    for command, output in (("report", "report.html"), ("export", "bundle.zip")):
        lines.append([*base, command, *files, *lab, *filters, *levels, *view_options, "-o", output])
    return [shlex.join(line) for line in lines]


def thesis_commands(cohort: Cohort) -> list[str]:
    """Commands that redraw the study's Figures 1-6 from the demo file."""
    return [
        shlex.join(
            [
                "python",
                "-m",
                "analytics",
                "figure",
                f"data/{cohort.source.filename}",
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
    return shlex.join(
        ["python", "-m", "analytics", "power", *words, "--alpha", f"{alpha:g}", "--json"]
    )


def validate_command(cohort: Cohort) -> str:
    """The command that prints this file's validation report."""
    return shlex.join(["python", "-m", "analytics", "validate", *_file_args(cohort), "--json"])
