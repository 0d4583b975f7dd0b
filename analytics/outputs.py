"""Everything a view produces — figures, tables, results, settings — built in one place.

The Charts page, the "Download all" bundle, the HTML report and the command-line
``figure``, ``report`` and ``export`` commands all call :func:`view_outputs`, so the
same file and settings give the same numbers and figures everywhere.
"""

from __future__ import annotations

import shlex
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from .analysis import (
    Selection,
    default_delta,
    paired_for,
    prevalence_for,
    select,
    subgroups_for,
    thesis_table,
    timecourse_for,
)
from .characteristics import Characteristics, characteristics
from .cohort import Cohort
from .errors import AnalysisError, LabNotFoundError
from .export import bundle_zip, settings_dict, settings_json, tables_xlsx
from .figures import CHARTS, Figure, FigureOptions, make_figure
from .filters import CohortFilter, FilteredCohort
from .paired import PairedResult, leave_one_out
from .power import PowerResult, power_summary
from .prevalence import Thresholds
from .report import html_report
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
    """What one view shows: its results, its figures and its tables (by file stem)."""

    cohort: Cohort
    filtered: FilteredCohort
    cohort_filter: CohortFilter
    options: FigureOptions
    selection: Selection | None = None
    paired: PairedResult | None = None
    timecourse: TimecourseResult | None = None
    power: PowerResult | None = None
    characteristics: Characteristics | None = None
    figures: tuple[Figure, ...] = ()
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    problems: tuple[str, ...] = ()
    left_out: tuple[str, ...] = ()

    def settings(self, generated_at: datetime | None = None) -> dict[str, Any]:
        return settings_dict(
            self.cohort,
            filtered=self.filtered,
            cohort_filter=self.cohort_filter,
            selection=self.selection,
            alpha=self.options.alpha,
            confidence=self.options.confidence,
            censored=self.options.censored,
            thresholds=self.options.thresholds,
            power=self.power,
            extra={"figure_options": _options_dict(self.options)},
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
            not_included=[*self.left_out, *(f"Not drawn: {p}" for p in self.problems)],
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
        for item in self.left_out:
            readme += f"Not included: {item}\n"
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


def _options_dict(options: FigureOptions) -> dict[str, Any]:
    return {
        "color_by": options.color_by,
        "sort": options.sort,
        "flip": options.flip,
        "band": options.band,
        "split": options.split,
        "age_cutoff": options.age_cutoff,
    }


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


def all_labs_table(
    filtered: FilteredCohort,
    *,
    alpha: float = 0.05,
    confidence: float = 0.95,
    censored: str = "limit",
) -> pd.DataFrame:
    """Every lab, every follow-up time against that lab's first time: one row each.

    Notes
    -----
    Complete pairs per comparison. Rows that cannot be computed (fewer than 2 pairs,
    identical changes) carry the reason in ``note``. Raw p-values, and Holm-adjusted
    p over the whole table (the family: every comparison listed).
    """
    from statsmodels.stats.multitest import multipletests

    rows = []
    cohort = filtered.cohort
    for key, info in cohort.analytes.items():
        for time in info.times[1:]:
            row: dict[str, Any] = {
                "lab": info.name, "unit": info.unit, "baseline": info.times[0], "follow_up": time,
            }  # fmt: skip
            try:
                selection = select(cohort, key, info.times[0], time)
                result = paired_for(
                    cohort, selection, alpha=alpha, confidence=confidence, censored=censored
                )
            except AnalysisError as error:
                row["note"] = str(error)
                rows.append(row)
                continue
            row.update(
                n_pairs=result.n_pairs,
                baseline_mean=result.baseline_mean,
                follow_up_mean=result.follow_up_mean,
                mean_change=result.mean_change,
                ci_low=result.ci_low,
                ci_high=result.ci_high,
                t=result.t,
                df=result.df,
                p_two_sided=result.p_two_sided,
                cohen_dz=result.cohen_dz,
                wilcoxon_p=result.wilcoxon_p,
                note="",
            )
            rows.append(row)
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


def view_outputs(
    cohort: Cohort,
    cohort_filter: CohortFilter,
    *,
    analyte: str | None = None,
    baseline: str | float | None = None,
    follow_up: str | float | None = None,
    options: FigureOptions | None = None,
    charts: tuple[str, ...] = CHARTS,
    delta: float | None = None,
) -> ViewOutputs:
    """Compute the results, figures and tables of one view.

    Without ``analyte``, the view is every lab and every follow-up time against
    baseline: a summary table, the characteristics and the validation report, no
    figures. Figures that cannot be drawn (e.g. too few pairs for a subgroup split)
    are left out and their reason listed in ``problems``.
    """
    options = options or FigureOptions()
    filtered = cohort_filter.apply(cohort)
    subset = filtered.cohort
    table_of_characteristics = characteristics(subset, options.age_cutoff)
    tables: dict[str, pd.DataFrame] = {
        "characteristics": table_of_characteristics.to_frame().reset_index(),
        "validation_issues": cohort.report.issues_frame(),
        "excluded_rows": cohort.report.excluded_frame(),
    }
    left_out = []
    for kind in ("anemia", "microcytosis"):
        try:
            tables[f"prevalence_{kind}"] = prevalence_for(
                subset, kind, options.thresholds, confidence=options.confidence,
                censored=options.censored,
            )  # fmt: skip
        except LabNotFoundError:  # a file without Hgb or MCV values: nothing to leave out
            pass
        except AnalysisError as error:  # e.g. a unit that cannot be converted
            left_out.append(f"Prevalence of {kind}: not computed — {error}")
    if analyte is None:
        tables["paired_all_labs"] = all_labs_table(
            filtered, alpha=options.alpha, confidence=options.confidence,
            censored=options.censored,
        )  # fmt: skip
        return ViewOutputs(
            cohort, filtered, cohort_filter, options,
            characteristics=table_of_characteristics, tables=tables, left_out=tuple(left_out),
        )  # fmt: skip
    selection = select(subset, analyte, baseline, follow_up)
    paired = paired_for(
        subset, selection, alpha=options.alpha, confidence=options.confidence,
        censored=options.censored,
    )  # fmt: skip
    stem = f"{selection.analyte}"
    tables[f"{stem}_pairs"] = _pairs_table(subset, selection, options.censored)
    tables[f"{stem}_paired_test"] = paired.to_frame()
    tables[f"{stem}_leave_one_out"] = leave_one_out(paired, alpha=options.alpha)
    course = None
    problems = []
    try:
        course = timecourse_for(
            subset, selection.analyte, baseline=selection.baseline, alpha=options.alpha,
            confidence=options.confidence, censored=options.censored,
        )  # fmt: skip
        tables[f"{stem}_by_time"] = thesis_table(course)
        tables[f"{stem}_repeated_tests"] = course.tests_frame()
        tables[f"{stem}_contrasts"] = course.contrasts_frame()
    except AnalysisError as error:
        problems.append(f"all time points: {error}")
    try:
        split = subgroups_for(
            subset, selection, options.split, age_cutoff=options.age_cutoff,
            confidence=options.confidence, censored=options.censored,
        )  # fmt: skip
        tables[f"{stem}_subgroups_{options.split}"] = split.to_frame()
        if split.pairwise:
            tables[f"{stem}_subgroup_contrasts"] = split.contrasts_frame()
    except AnalysisError as error:
        problems.append(f"subgroups: {error}")
    worth = delta if delta is not None else default_delta(selection.analyte, selection.unit)
    power = None
    if worth is not None and paired.sd_change > 0:
        power = power_summary(paired.n_pairs, paired.sd_change, worth, alpha=options.alpha)
        tables[f"{stem}_power"] = power.to_frame()
    figures = []
    for name in charts:
        try:
            figures.append(make_figure(name, filtered, selection, options, paired=paired))
        except AnalysisError as error:
            problems.append(f"{name}: {error}")
    return ViewOutputs(
        cohort,
        filtered,
        cohort_filter,
        options,
        selection=selection,
        paired=paired,
        timecourse=course,
        power=power,
        characteristics=table_of_characteristics,
        figures=tuple(figures),
        tables=tables,
        problems=tuple(problems),
        left_out=tuple(left_out),
    )


def _filter_args(cohort_filter: CohortFilter) -> list[str]:
    args: list[str] = []
    if cohort_filter.cohort is not None:
        args += ["--cohort", cohort_filter.cohort]
    if cohort_filter.age_group is not None:
        args += ["--age-group", cohort_filter.age_group]
    if cohort_filter.age_cutoff != 18:
        args += ["--age-cutoff", f"{cohort_filter.age_cutoff:g}"]
    if cohort_filter.sex is not None:
        args += ["--sex", cohort_filter.sex]
    for name in ("iron", "epo"):
        value = getattr(cohort_filter, name)
        if value is not None:
            args += [f"--{name}", "yes" if value else "no"]
    return args


def commands(
    cohort: Cohort,
    cohort_filter: CohortFilter,
    *,
    selection: Selection | None = None,
    options: FigureOptions | None = None,
    chart: str | None = None,
) -> list[str]:
    """The shell commands that regenerate a view's numbers, figure and report."""
    options = options or FigureOptions()
    source = cohort.source
    base = ["python", "-m", "analytics"]
    file_args = [source.filename]
    if source.sheet and len(source.sheets) > 1:
        file_args += ["--sheet", source.sheet]
    for role in cohort.mapping:
        if role.source == "set by you":
            file_args += ["--map", f"{role.column}={role.as_role_string()}"]
    filters = _filter_args(cohort_filter)
    levels = []
    if options.alpha != 0.05:
        levels += ["--alpha", f"{options.alpha:g}"]
    if options.confidence != 0.95:
        levels += ["--confidence", f"{options.confidence:g}"]
    if options.censored != "limit":
        levels += ["--censored", options.censored]
    view_options = []
    if options.color_by:
        view_options += ["--color-by", options.color_by]
    if options.sort:
        view_options += ["--sort"]
    if options.flip:
        view_options += ["--flip"]
    if options.band:
        view_options += ["--band", f"{options.band:g}"]
    if options.split != "sex":
        view_options += ["--split", options.split]
    defaults = Thresholds()
    for name, value in asdict(options.thresholds).items():
        if value != getattr(defaults, name):
            view_options += ["--threshold", f"{name}={value:g}"]
    lines = []
    if selection is not None:
        lab = [
            "--analyte", selection.analyte, "--baseline", f"{selection.baseline:g}",
            "--follow-up", f"{selection.follow_up:g}",
        ]  # fmt: skip
        lines.append([*base, "paired", *file_args, *lab, *filters, *levels, "--json"])
        lines.append(
            [*base, "timecourse", *file_args, "--analyte", selection.analyte,
             "--baseline", f"{selection.baseline:g}", *filters, *levels, "--json"]
        )  # fmt: skip
        if chart is not None:
            figure = ["--chart", chart, *view_options, "--format", "png", "-o", f"{chart}.png"]
            lines.append([*base, "figure", *file_args, *lab, *filters, *levels, *figure])
        for command, output in (("report", "report.html"), ("export", "bundle.zip")):
            lines.append(
                [*base, command, *file_args, *lab, *filters, *levels, *view_options, "-o", output]
            )
    else:
        lines.append([*base, "cohort", *file_args, *filters, "--json"])
        lines.append(
            [*base, "export", *file_args, *filters, *levels, *view_options, "-o", "results.xlsx"]
        )
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
    return shlex.join(
        ["python", "-m", "analytics", "power", "--n", str(n), "--sd-change", f"{sd_change:.6g}",
         "--delta", f"{delta:g}", "--alpha", f"{alpha:g}", "--json"]
    )  # fmt: skip


def validate_command(cohort: Cohort) -> str:
    """The command that prints this file's validation report."""
    words = ["python", "-m", "analytics", "validate", cohort.source.filename]
    if cohort.source.sheet and len(cohort.source.sheets) > 1:
        words += ["--sheet", cohort.source.sheet]
    for role in cohort.mapping:
        if role.source == "set by you":
            words += ["--map", f"{role.column}={role.as_role_string()}"]
    return shlex.join([*words, "--json"])
