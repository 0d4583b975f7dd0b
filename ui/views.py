"""The current view's outputs (figures, tables, results), cached per browser session."""

from __future__ import annotations

from dataclasses import fields

import streamlit as st

from analytics.analysis import Selection
from analytics.filters import CohortFilter
from analytics.output.commands import commands
from analytics.output.view import ViewOutputs, view_outputs
from analytics.settings import AnalysisSettings, ChartOptions
from analytics.stats.prevalence import Thresholds
from analytics.viz.figures import CHARTS
from ui.evidence_view import evidence_fields
from ui.selection import Settings
from ui.shell import Dataset, View, dataset_cohort
from ui.widgets import kept


def current_thresholds() -> Thresholds:
    """The thresholds last set on the Cohort page (defaults until edited)."""
    defaults = Thresholds()
    return Thresholds(
        **{
            f.name: float(kept(f"thr_{f.name}", getattr(defaults, f.name)))
            for f in fields(Thresholds)
        }
    )


def current_analysis(view: View, settings: Settings) -> AnalysisSettings:
    """The analysis settings of the page's widgets, the censored rule, cutoff and thresholds."""
    return AnalysisSettings(
        alpha=settings.alpha,
        confidence=settings.confidence,
        censored=view.censored_rule,
        age_cutoff=view.filter.age_cutoff,
        thresholds=current_thresholds(),
        **evidence_fields(settings.selection),
    )


@st.cache_data(scope="session", max_entries=16, show_spinner="Computing the figures…")
def _cached_outputs(
    dataset: Dataset,
    cohort_filter: CohortFilter,
    selection: Selection | None,
    analysis: AnalysisSettings,
    options: ChartOptions,
    charts: tuple[str, ...],
) -> ViewOutputs:
    """Streamlit hashes the frozen dataclasses' fields, so each is a key as it is."""
    cohort = dataset_cohort(dataset)
    return view_outputs(
        cohort,
        cohort_filter,
        analyte=selection.analyte if selection else None,
        baseline=selection.baseline if selection else None,
        follow_up=selection.follow_up if selection else None,
        analysis=analysis,
        options=options,
        charts=charts,
    )


def outputs_for(
    view: View,
    settings: Settings | None,
    analysis: AnalysisSettings,
    options: ChartOptions | None = None,
    charts: tuple[str, ...] = CHARTS,
) -> ViewOutputs:
    """Everything the view shows, computed once per settings in this session."""
    selection = settings.selection if settings else None
    return _cached_outputs(
        view.dataset, view.filter, selection, analysis, options or ChartOptions(), charts
    )


def full_view(
    view: View,
    settings: Settings,
    analysis: AnalysisSettings,
    options: ChartOptions | None = None,
) -> ViewOutputs:
    """The whole view (every result, figure and table) for the downloads, computed when a
    download is clicked: outside the page's run, so not through the session's caches."""
    selection = settings.selection
    return view_outputs(
        view.cohort,
        view.filter,
        analyte=selection.analyte,
        baseline=selection.baseline,
        follow_up=selection.follow_up,
        analysis=analysis,
        options=options or ChartOptions(),
    )


def reproduce(
    view: View,
    outputs: ViewOutputs | None = None,
    chart: str | None = None,
    *,
    lines: list[str] | None = None,
) -> None:
    """The exact commands that regenerate this page's numbers and figures."""
    if lines is None:
        lines = commands(
            view.cohort,
            view.filter,
            selection=outputs.selection if outputs else None,
            analysis=outputs.analysis if outputs else None,
            options=outputs.options if outputs else None,
            chart=chart,
        )
    with st.expander("Reproduce these results from the command line"):
        st.write(
            "Paste into a terminal in the dashboard's folder (the one with app.py) once "
            "`make run` has set it up; on Windows write `.venv\\Scripts\\python` for "
            "`.venv/bin/python`. An uploaded file is named as you uploaded it: put it in that "
            "folder or write its path. The same file and settings give the same numbers and "
            "figures."
        )
        st.code("\n".join(lines), language="bash")
