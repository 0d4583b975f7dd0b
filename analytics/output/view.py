"""Everything a view produces — figures, tables, results, settings — built in one place.

The Charts page, the "Download all" bundle, the HTML report and the command-line
``figure``, ``report`` and ``export`` commands all call :func:`view_outputs`, so the
same file and settings give the same numbers and figures everywhere.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from analytics.analysis import (
    Selection,
    paired_for,
    prevalence_for,
    select,
    subgroups_for,
    thesis_table,
    timecourse_for,
)
from analytics.cohort import Cohort
from analytics.errors import AnalysisError, LabNotFoundError
from analytics.filters import CohortFilter, FilteredCohort
from analytics.labs import default_change
from analytics.output.evidence_tables import evidence_tables, with_rcv_columns
from analytics.output.figure_files import DEFAULT_PPI, PNG_WIDTHS_PX
from analytics.output.files import bundle_zip, settings_dict, settings_json, tables_xlsx
from analytics.output.paragraphs import paragraphs
from analytics.output.report import html_report
from analytics.output.report_labs import (
    RULE,
    LabSection,
    labs_report,
    most_paired_follow_up,
)
from analytics.settings import AnalysisSettings, ChartOptions
from analytics.stats.characteristics import Characteristics, characteristics
from analytics.stats.common import holm_adjust
from analytics.stats.paired import PairedResult, leave_one_out
from analytics.stats.power import PowerResult, power_summary
from analytics.stats.subgroups import SubgroupResult
from analytics.stats.timecourse import TimecourseResult
from analytics.viz.figure_base import Figure, FigureContext
from analytics.viz.figure_data import censored_cells, censored_flag
from analytics.viz.figures import CHARTS, draw

__all__ = [
    "LAB_REPORT_CHARTS",
    "ViewOutputs",
    "all_labs_table",
    "course_tables",
    "pair_tables",
    "subgroup_tables",
    "view_outputs",
]

#: The figures of each lab in the report of every lab: the per-patient change, the
#: paired values and the course over every time point (the one-lab report has all).
LAB_REPORT_CHARTS = ("change", "before-after", "trajectory")


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
    subgroups: SubgroupResult | None = None
    power: PowerResult | None = None
    characteristics: Characteristics | None = None
    figures: tuple[Figure, ...] = ()
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    problems: tuple[str, ...] = ()
    left_out: tuple[str, ...] = ()

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
        """The self-contained HTML report of this view; without a lab, of every lab."""
        if self.selection is None:
            return self._labs_report(generated_at)
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
            paragraphs=paragraphs(self),
        )

    def lab_sections(
        self, charts: tuple[str, ...] = LAB_REPORT_CHARTS
    ) -> tuple[list[LabSection], list[str]]:
        """Each lab with two or more time points against baseline (see
        :data:`~analytics.output.report_labs.RULE`), and what could not be compared."""
        sections: list[LabSection] = []
        left_out: list[str] = []
        for key, info in self.filtered.cohort.analytes.items():
            if len(info.times) < 2:
                left_out.append(f"{info.label()}: one time point only, nothing to compare.")
                continue
            try:
                section, problems = self._lab_section(key, charts)
            except AnalysisError as error:
                left_out.append(f"{info.label()}: not compared — {error}")
                continue
            sections.append(section)
            left_out += [f"{info.name}, not drawn: {problem}" for problem in problems]
        return sections, left_out

    def _lab_section(self, key: str, charts: tuple[str, ...]) -> tuple[LabSection, list[str]]:
        """One lab's primary comparison, its time points and its figures."""
        subset, analysis = self.filtered.cohort, self.analysis
        follow_up = most_paired_follow_up(subset, key, analysis.censored)
        selection = select(subset, key, subset.analytes[key].times[0], follow_up)
        paired = _paired(subset, selection, analysis)
        problems, course = [], None
        try:
            course = timecourse_for(subset, key, baseline=selection.baseline, analysis=analysis)
        except AnalysisError as error:
            problems.append(f"all time points: {error}")
        context = FigureContext(self.filtered, selection, analysis, self.options, paired=paired)
        figures = []
        for name in charts:
            try:
                figures.append(draw(name, context))
            except AnalysisError as error:
                problems.append(f"{name}: {error}")
        drawn = tuple((figure.title, figure.chart) for figure in figures)
        stems = tuple(figure.filename_stem for figure in figures)
        return LabSection(selection, paired, course, drawn, stems), problems

    def _labs_report(self, generated_at: datetime | None) -> bytes:
        sections, left_out = self.lab_sections()
        return labs_report(
            self.cohort,
            self.filtered,
            settings=self.settings(generated_at),
            sections=sections,
            characteristics=self.characteristics,
            generated_at=generated_at,
            not_included=[*self.left_out, *left_out],
        )

    def bundle(
        self,
        generated_at: datetime | None = None,
        *,
        width_px: int = PNG_WIDTHS_PX[0],
        ppi: float = DEFAULT_PPI,
    ) -> bytes:
        """ZIP: every figure (PNG + SVG, all ``width_px`` wide at ``ppi``), every table
        (CSV + XLSX), settings, README. Without a lab: the figures of every lab's
        primary comparison, as the report of every lab has them."""
        readme = (
            "Sirolimus lab changes: downloads of one view.\n"
            f"Data: {self.cohort.source.filename} (SHA-256 {self.cohort.source.sha256}).\n"
            f"Patients: {self.filtered.sentence}.\n"
        )
        figures = [(f.filename_stem, f.chart) for f in self.figures]
        left_out = list(self.left_out)
        if self.selection is not None:
            readme += f"Lab and times: {self.selection.label()}.\n"
        else:
            sections, not_compared = self.lab_sections()
            readme += f"{RULE}\n"
            for section in sections:
                charts = (chart for _, chart in section.figures)
                figures += list(zip(section.stems, charts, strict=True))
            left_out += not_compared
        for problem in self.problems:
            readme += f"Not drawn: {problem}\n"
        for item in left_out:
            readme += f"Not included: {item}\n"
        return bundle_zip(
            figures,
            self.tables,
            settings_json_bytes(self, generated_at),
            readme,
            generated_at=generated_at,
            width_px=width_px,
            ppi=ppi,
            texts=_paragraph_files(self),
        )

    def workbook(self) -> bytes:
        """Every table of the view in one XLSX workbook, one sheet per table."""
        return tables_xlsx(self.tables)


def _paragraph_files(outputs: ViewOutputs) -> dict[str, str]:
    """``results.txt`` and ``methods.txt`` of a view with a lab (none without one)."""
    written = paragraphs(outputs)
    return {} if written is None else {"results.txt": written[0], "methods.txt": written[1]}


def settings_json_bytes(outputs: ViewOutputs, generated_at: datetime | None = None) -> bytes:
    return settings_json(outputs.settings(generated_at))


def _pairs_table(cohort: Cohort, selection: Selection, censored: str) -> pd.DataFrame:
    """Each patient's two values as entered under the rule ``censored``, the change,
    ``censored`` (which times held a value beyond a detection limit, as in the file:
    ``month 0 <5``; blank when none) and the attributes."""
    matrix = cohort.lab_matrix(selection.analyte, censored)
    marks = censored_cells(cohort, selection.analyte)
    table = pd.DataFrame(
        {
            "patient": matrix.index,
            "baseline": matrix[selection.baseline].to_numpy(),
            "follow_up": matrix[selection.follow_up].to_numpy(),
        }
    )
    table["change"] = table["follow_up"] - table["baseline"]
    times = (selection.baseline, selection.follow_up)
    table["censored"] = [
        censored_flag([(t, marks.get((str(patient), t), "")) for t in times])
        for patient in matrix.index
    ]
    for column in ("sex", "age", "age_group", "cohort", "iron", "epo"):
        table[column] = cohort.patients[column].to_numpy()
    return table


def _paired(cohort: Cohort, selection: Selection, analysis: AnalysisSettings) -> PairedResult:
    return paired_for(cohort, selection, analysis)


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
            table.loc[tested, "p_holm"] = holm_adjust(
                table.loc[tested, "p_two_sided"].to_numpy(dtype=float)
            )
        table["family"] = f"{int(tested.sum())} comparisons (every lab and time) — Holm"
    return table


def _cohort_tables(
    cohort: Cohort, subset: Cohort, analysis: AnalysisSettings
) -> tuple[Characteristics, dict[str, pd.DataFrame], tuple[str, ...]]:
    """The characteristics, validation and prevalence tables every view has.

    Also what was left out and why: a prevalence that could not be computed (e.g. a
    unit that cannot be converted) is named; a file without the lab is not.
    """
    table_of_characteristics = characteristics(subset, analysis.age_cutoff)
    tables: dict[str, pd.DataFrame] = {
        "characteristics": table_of_characteristics.to_frame().reset_index(),
        "validation_issues": cohort.report.issues_frame(),
        "excluded_rows": cohort.report.excluded_frame(),
    }
    left_out = []
    for kind in ("anemia", "microcytosis"):
        try:
            tables[f"prevalence_{kind}"] = prevalence_for(subset, kind, analysis)
        except LabNotFoundError:  # a file without Hgb or MCV values: nothing to leave out
            pass
        except AnalysisError as error:  # e.g. a unit that cannot be converted
            left_out.append(f"Prevalence of {kind}: not computed — {error}")
    return table_of_characteristics, tables, tuple(left_out)


def pair_tables(
    subset: Cohort,
    selection: Selection,
    paired: PairedResult,
    analysis: AnalysisSettings,
    *,
    with_pairs: bool = True,
) -> dict[str, pd.DataFrame]:
    """The tables of one paired comparison: pairs (unless ``with_pairs`` is False: a
    page that does not show them), test, leave-one-out, evidence."""
    stem = selection.analyte
    pairs = {}
    if with_pairs:
        table = _pairs_table(subset, selection, analysis.censored)
        pairs[f"{stem}_pairs"] = with_rcv_columns(table, paired)
    return {
        **pairs,
        f"{stem}_paired_test": paired.to_frame(),
        f"{stem}_leave_one_out": leave_one_out(paired, alpha=analysis.alpha),
        **evidence_tables(selection, paired),
    }


def course_tables(course: TimecourseResult, stem: str) -> dict[str, pd.DataFrame]:
    """The tables of a lab's every time point (the mixed model's when it was fitted)."""
    tables = {
        f"{stem}_by_time": thesis_table(course),
        f"{stem}_repeated_tests": course.tests_frame(),
        f"{stem}_contrasts": course.contrasts_frame(),
    }
    mixed = course.mixed_model
    if mixed is not None and len(course.times) > 2:
        tables[f"{stem}_mixed_model"] = mixed.summary_frame()
        if mixed.fitted:
            tables[f"{stem}_mixed_model_by_time"] = mixed.to_frame()
    return tables


def subgroup_tables(result: SubgroupResult, stem: str, split: str) -> dict[str, pd.DataFrame]:
    """The tables of the change compared between the subgroups of ``split``."""
    tables = {f"{stem}_subgroups_{split}": result.to_frame()}
    if result.pairwise:
        tables[f"{stem}_subgroup_contrasts"] = result.contrasts_frame()
    return tables


def _lab_tables(
    subset: Cohort,
    selection: Selection,
    paired: PairedResult,
    analysis: AnalysisSettings,
    split: str,
) -> tuple[TimecourseResult | None, SubgroupResult | None, dict[str, pd.DataFrame], list[str]]:
    """The tables of one lab: pairs, test, leave-one-out, every time, subgroups."""
    stem = selection.analyte
    tables = pair_tables(subset, selection, paired, analysis)
    course, split_result, problems = None, None, []
    try:
        course = timecourse_for(
            subset, selection.analyte, baseline=selection.baseline, analysis=analysis
        )
        tables.update(course_tables(course, stem))
    except AnalysisError as error:
        problems.append(f"all time points: {error}")
    try:
        split_result = subgroups_for(subset, selection, split, analysis)
        tables.update(subgroup_tables(split_result, stem, split))
    except AnalysisError as error:
        problems.append(f"subgroups: {error}")
    return course, split_result, tables, problems


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
    table_of_characteristics, tables, left_out = _cohort_tables(cohort, subset, analysis)
    chosen = (cohort, filtered, cohort_filter, analysis, options)
    if analyte is None:
        tables["paired_all_labs"] = all_labs_table(filtered, analysis)
        return ViewOutputs(
            *chosen, characteristics=table_of_characteristics, tables=tables, left_out=left_out
        )
    selection = select(subset, analyte, baseline, follow_up)
    paired = _paired(subset, selection, analysis)
    course, split, lab_tables, problems = _lab_tables(
        subset, selection, paired, analysis, options.split
    )
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
        subgroups=split,
        power=power,
        characteristics=table_of_characteristics,
        figures=tuple(figures),
        tables=tables,
        problems=tuple(problems),
        left_out=tuple(left_out),
    )
