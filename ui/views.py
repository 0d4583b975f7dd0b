"""The current view's outputs (figures, tables, results), cached per browser session."""

from __future__ import annotations

from dataclasses import asdict, fields

import streamlit as st

from analytics.figures import CHARTS, FigureOptions
from analytics.filters import CohortFilter
from analytics.outputs import ViewOutputs, commands, view_outputs
from analytics.prevalence import Thresholds
from ui.selection import Settings
from ui.shell import View, parse_dataset
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


@st.cache_data(scope="session", max_entries=16, show_spinner="Computing the figures…")
def _cached_outputs(
    data: bytes,
    filename: str,
    sheet: str | None,
    mapping: tuple[tuple[str, str], ...],
    is_demo: bool,
    filter_items: tuple[tuple[str, object], ...],
    analyte: str | None,
    baseline: float | None,
    follow_up: float | None,
    option_items: tuple[tuple[str, object], ...],
    threshold_items: tuple[tuple[str, float], ...],
    charts: tuple[str, ...],
) -> ViewOutputs:
    cohort = parse_dataset(data, filename, sheet, mapping, is_demo)
    options = FigureOptions(**dict(option_items), thresholds=Thresholds(**dict(threshold_items)))
    return view_outputs(
        cohort,
        CohortFilter(**dict(filter_items)),
        analyte=analyte,
        baseline=baseline,
        follow_up=follow_up,
        options=options,
        charts=charts,
    )


def outputs_for(
    view: View,
    settings: Settings | None,
    options: FigureOptions,
    charts: tuple[str, ...] = CHARTS,
) -> ViewOutputs:
    """Everything the view shows, computed once per settings in this session."""
    dataset = view.dataset
    option_items = tuple((k, v) for k, v in asdict(options).items() if k != "thresholds")
    selection = settings.selection if settings else None
    return _cached_outputs(
        dataset.data,
        dataset.filename,
        dataset.sheet,
        dataset.mapping,
        dataset.is_demo,
        tuple(view.filter.to_dict().items()),
        selection.analyte if selection else None,
        selection.baseline if selection else None,
        selection.follow_up if selection else None,
        option_items,
        tuple(asdict(options.thresholds).items()),
        charts,
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
            options=outputs.options if outputs else None,
            chart=chart,
        )
    with st.expander("Reproduce these results from the command line"):
        st.write(
            "Run in the dashboard's folder, with the same file. The same file and settings "
            "give the same numbers and figures."
        )
        st.code("\n".join(lines), language="bash")
