"""The parts of a view, each computed when a page shows it and cached on its own.

A page asks for the parts it draws: the paired comparison without its resampling
(:func:`paired_part`), the sign-flip test and the bootstrap when the robustness checks
are shown (:func:`resampled_part`), every time point (:func:`course_part`, the mixed
model only when asked), the subgroups of one split (:func:`subgroup_part`) and each
figure (:func:`figure_part`, with its finished Vega-Lite spec). Each part is cached per
browser session, keyed by the file, the filter, the lab and times and the settings it
depends on — a figure by the chart options it reads — so the Overview, Paired tests,
Power and Charts pages share them, and a figure whose inputs did not change is not
drawn again.

The cached objects are handed out as they are (no copy per rerun); nothing that
receives them changes them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pandas as pd
import streamlit as st

from analytics.analysis import Selection, paired_for, subgroups_for, timecourse_for
from analytics.errors import AnalysisError
from analytics.filters import CohortFilter, FilteredCohort
from analytics.flow import pair_reasons
from analytics.output.paragraphs import paragraphs
from analytics.output.view import ViewOutputs, course_tables, pair_tables, subgroup_tables
from analytics.settings import AnalysisSettings, ChartOptions
from analytics.stats.paired import PairedResult
from analytics.stats.resampling import with_resampling
from analytics.stats.subgroups import SubgroupResult
from analytics.stats.timecourse import TimecourseResult
from analytics.viz.figure_base import Figure, FigureContext
from analytics.viz.figures import draw
from analytics.viz.thesis import thesis_figures, thesis_gaps
from ui.charts import chart_spec
from ui.shell import DATASET_HASH, Dataset, dataset_cohort, filtered_cohort

__all__ = [
    "CHART_OPTIONS",
    "Drawn",
    "Failed",
    "course_part",
    "figure_part",
    "pair_reasons_part",
    "paired_part",
    "paired_result",
    "paragraphs_part",
    "resampled_part",
    "subgroup_part",
    "thesis_gaps_part",
    "thesis_part",
    "view_of",
]

#: The chart options each chart reads; the others do not change it (a test checks).
CHART_OPTIONS: dict[str, tuple[str, ...]] = {
    "change": ("color_by", "sort", "flip", "band"),
    "before-after": (),
    "trajectory": ("complete_cases",),
    "estimation": (),
    "mean-difference": ("flip",),
    "qq": (),
    "forest": ("split", "flip"),
    "power": ("band", "observed_power"),
    "flow": (),
}

_SESSION = {"scope": "session", "show_spinner": False}


_HASH = DATASET_HASH


@dataclass(frozen=True)
class Failed:
    """A part that could not be computed, and why (shown in its place)."""

    reason: str


@dataclass(frozen=True)
class Pair:
    """The paired comparison and its tables (pairs, test, leave-one-out, evidence)."""

    paired: PairedResult
    tables: dict[str, pd.DataFrame]


@dataclass(frozen=True)
class Drawn:
    """A figure and its finished spec, ready for :func:`ui.charts.show_spec`."""

    figure: Figure
    spec: dict[str, Any]


def _subset(dataset: Dataset, cohort_filter: CohortFilter) -> FilteredCohort:
    return filtered_cohort(dataset, cohort_filter)


@st.cache_resource(max_entries=32, hash_funcs=_HASH, **_SESSION)
def paired_result(
    dataset: Dataset,
    cohort_filter: CohortFilter,
    selection: Selection,
    analysis: AnalysisSettings,
) -> PairedResult:
    """The paired comparison without the sign-flip test and the bootstrap (what the
    figures, the Overview's cards and the Power page read)."""
    subset = _subset(dataset, cohort_filter).cohort
    return paired_for(subset, selection, analysis, resampling=False)


@st.cache_resource(max_entries=32, hash_funcs=_HASH, **_SESSION)
def paired_part(
    dataset: Dataset,
    cohort_filter: CohortFilter,
    selection: Selection,
    analysis: AnalysisSettings,
) -> Pair:
    """:func:`paired_result` with the tables the Paired tests page shows (test,
    leave-one-out, evidence; the pairs table is the downloads')."""
    subset = _subset(dataset, cohort_filter).cohort
    paired = paired_result(dataset, cohort_filter, selection, analysis)
    return Pair(paired, pair_tables(subset, selection, paired, analysis, with_pairs=False))


@st.cache_resource(
    scope="session",
    max_entries=32,
    hash_funcs=_HASH,
    show_spinner="Computing the sign-flip test and the bootstrap…",
)
def resampled_part(
    dataset: Dataset,
    cohort_filter: CohortFilter,
    selection: Selection,
    analysis: AnalysisSettings,
) -> Pair:
    """The paired comparison with its sign-flip test and bootstrap interval."""
    core = paired_part(dataset, cohort_filter, selection, analysis)
    paired = with_resampling(core.paired)
    tables = {**core.tables, f"{selection.analyte}_paired_test": paired.to_frame()}
    return Pair(paired, tables)


@st.cache_resource(max_entries=32, hash_funcs=_HASH, **_SESSION)
def course_part(
    dataset: Dataset,
    cohort_filter: CohortFilter,
    selection: Selection,
    analysis: AnalysisSettings,
    mixed: bool = False,
) -> tuple[TimecourseResult, dict[str, pd.DataFrame]] | Failed:
    """Every time point of the lab against the baseline (with the mixed model if asked)."""
    subset = _subset(dataset, cohort_filter).cohort
    try:
        course = timecourse_for(
            subset, selection.analyte, baseline=selection.baseline, analysis=analysis, mixed=mixed
        )
    except AnalysisError as error:
        return Failed(f"all time points: {error}")
    return course, course_tables(course, selection.analyte)


@st.cache_resource(max_entries=32, hash_funcs=_HASH, **_SESSION)
def subgroup_part(
    dataset: Dataset,
    cohort_filter: CohortFilter,
    selection: Selection,
    analysis: AnalysisSettings,
    split: str,
) -> tuple[SubgroupResult, dict[str, pd.DataFrame]] | Failed:
    """The change compared between the subgroups of ``split``."""
    subset = _subset(dataset, cohort_filter).cohort
    try:
        result = subgroups_for(subset, selection, split, analysis)
    except AnalysisError as error:
        return Failed(f"subgroups: {error}")
    return result, subgroup_tables(result, selection.analyte, split)


@st.cache_resource(max_entries=32, hash_funcs=_HASH, **_SESSION)
def pair_reasons_part(
    dataset: Dataset,
    cohort_filter: CohortFilter,
    selection: Selection,
    analysis: AnalysisSettings,
) -> dict[str, str]:
    """Why each patient is not in the comparison (see :func:`analytics.flow.pair_reasons`)."""
    subset = _subset(dataset, cohort_filter).cohort
    return pair_reasons(subset, selection, analysis.censored)


def figure_part(
    dataset: Dataset,
    cohort_filter: CohortFilter,
    selection: Selection,
    analysis: AnalysisSettings,
    name: str,
    options: ChartOptions | None = None,
) -> Drawn | Failed:
    """Chart ``name``, drawn once per the inputs it reads (see :data:`CHART_OPTIONS`)."""
    options = options or ChartOptions()
    read = {key: getattr(options, key) for key in CHART_OPTIONS.get(name, ())}
    own = replace(ChartOptions(), **read) if name in CHART_OPTIONS else options
    return _figure(dataset, cohort_filter, selection, analysis, name, own)


@st.cache_resource(max_entries=96, hash_funcs=_HASH, **_SESSION)
def _figure(
    dataset: Dataset,
    cohort_filter: CohortFilter,
    selection: Selection,
    analysis: AnalysisSettings,
    name: str,
    options: ChartOptions,
) -> Drawn | Failed:
    filtered = _subset(dataset, cohort_filter)
    try:
        paired = paired_result(dataset, cohort_filter, selection, analysis)
    except AnalysisError:  # no pairs to test: the flow is still drawn, the rest says why
        paired = None
    context = FigureContext(filtered, selection, analysis, options, paired=paired)
    try:
        figure = draw(name, context)
    except AnalysisError as error:
        return Failed(f"{name}: {error}")
    return Drawn(figure, chart_spec(figure.chart))


@st.cache_resource(scope="session", max_entries=2, hash_funcs=_HASH, show_spinner=False)
def thesis_part(dataset: Dataset) -> tuple[tuple[Drawn, str], ...] | Failed:
    """The study's figures with their captions (the filters do not apply to them)."""
    try:
        figures = thesis_figures(dataset_cohort(dataset))
    except AnalysisError as error:  # e.g. a study file without a single complete pair
        return Failed(str(error))
    return tuple((Drawn(figure, chart_spec(figure.chart)), caption) for figure, caption in figures)


@st.cache_resource(scope="session", max_entries=2, hash_funcs=_HASH, show_spinner=False)
def thesis_gaps_part(dataset: Dataset) -> tuple[str, ...]:
    """What the file lacks to redraw the study's figures (none for the demo cohort)."""
    return () if dataset.is_demo else tuple(thesis_gaps(dataset_cohort(dataset)))


@st.cache_resource(max_entries=32, hash_funcs=_HASH, **_SESSION)
def paragraphs_part(
    dataset: Dataset,
    cohort_filter: CohortFilter,
    selection: Selection,
    analysis: AnalysisSettings,
) -> tuple[str, str] | None:
    """The Results and Methods paragraphs (they read no resampled number)."""
    key = (dataset, cohort_filter, selection, analysis)
    return paragraphs(view_of(*key, pair=paired_part(*key), course=course_part(*key)))


def view_of(
    dataset: Dataset,
    cohort_filter: CohortFilter,
    selection: Selection,
    analysis: AnalysisSettings,
    *,
    pair: Pair,
    course: tuple[TimecourseResult, dict[str, pd.DataFrame]] | Failed | None = None,
    subgroups: tuple[SubgroupResult, dict[str, pd.DataFrame]] | Failed | None = None,
    figures: tuple[Drawn | Failed, ...] = (),
    options: ChartOptions | None = None,
) -> ViewOutputs:
    """The parts a page computed, as one :class:`ViewOutputs` for its sections.

    It holds only those parts: the downloads compute the whole view when clicked.
    """
    tables = dict(pair.tables)
    problems = []
    for part in (course, subgroups):
        if isinstance(part, Failed):
            problems.append(part.reason)
        elif part is not None:
            tables.update(part[1])
    problems += [part.reason for part in figures if isinstance(part, Failed)]
    return ViewOutputs(
        dataset_cohort(dataset),
        _subset(dataset, cohort_filter),
        cohort_filter,
        analysis,
        options or ChartOptions(),
        selection=selection,
        paired=pair.paired,
        timecourse=course[0] if isinstance(course, tuple) else None,
        subgroups=subgroups[0] if isinstance(subgroups, tuple) else None,
        figures=tuple(part.figure for part in figures if isinstance(part, Drawn)),
        tables=tables,
        problems=tuple(problems),
    )
