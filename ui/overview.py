"""The Overview page: the headline labs side by side, each with its per-patient change,
the paired result in a sentence and what so few patients can and cannot show.

Only what the page shows is computed (:func:`analytics.overview.lab_overview`: the
paired t-test, the detectable change and leave-one-out; the change chart and the
patient flow, shared with the Charts and Paired tests pages through :mod:`ui.parts`),
cached per file, filter, lab, times and settings in this session.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import streamlit as st

from analytics.analysis import Selection, select
from analytics.errors import AnalysisError
from analytics.filters import CohortFilter
from analytics.output.commands import commands
from analytics.overview import (
    LabOverview,
    default_labs,
    default_times,
    lab_overview,
    overview_labs,
)
from analytics.panel import panel_from_overview
from analytics.settings import AnalysisSettings
from analytics.viz.figure_base import patients_words
from ui import data_view
from ui.charts import show_spec
from ui.evidence_view import evidence_fields, show_panel
from ui.excluded import show_excluded
from ui.parts import Drawn, Failed, figure_part, pair_reasons_part, paired_result
from ui.selection import ALPHAS, CONFIDENCE_LEVELS
from ui.shell import DATASET_HASH, Dataset, View, dataset_cohort, escape_md, filtered_cohort
from ui.views import current_thresholds
from ui.widgets import kept, persistent_multiselect

__all__ = ["LabCard", "analysis_settings", "data_in_use", "lab_card", "pick_labs", "show_labs"]

DATA_PAGE = "pages/data.py"
DETAIL_PAGE = "pages/paired_tests.py"
LABS_KEY = "ov_labs"


@dataclass(frozen=True)
class LabCard:
    """What the overview shows for one lab (specs ready to draw)."""

    overview: LabOverview
    change: dict[str, Any] | None = None
    flow: dict[str, Any] | None = None
    reasons: tuple[tuple[str, str], ...] = ()
    chart_problem: str | None = None


def analysis_settings(view: View) -> AnalysisSettings:
    """The levels set on the Paired tests page (kept across pages) and the censored rule."""
    alpha = kept("sel_alpha", 0.05)
    confidence = kept("sel_confidence", 0.95)
    return AnalysisSettings(
        alpha=float(alpha if alpha in ALPHAS else 0.05),
        confidence=float(confidence if confidence in CONFIDENCE_LEVELS else 0.95),
        censored=view.censored_rule,
        age_cutoff=view.filter.age_cutoff,
        thresholds=current_thresholds(),
    )


@st.cache_resource(scope="session", max_entries=32, hash_funcs=DATASET_HASH, show_spinner=False)
def lab_card(
    dataset: Dataset,
    cohort_filter: CohortFilter,
    analyte: str,
    times: tuple[float, float] | None,
    analysis: AnalysisSettings,
) -> LabCard:
    """One lab's card, computed once per file, filter, lab, times and settings.

    ``times`` None takes :func:`analytics.overview.default_times`. The change chart and
    the patient flow are the Charts page's (default chart options), drawn once for both.
    """
    cohort = dataset_cohort(dataset)
    filtered = filtered_cohort(dataset, cohort_filter)
    baseline, follow_up = times if times is not None else (None, None)
    paired = None
    try:  # the paired result the charts read lends the card its panel
        if baseline is None or follow_up is None:
            baseline, follow_up = default_times(
                filtered.cohort, analyte, analysis.censored, whole=cohort
            )
        selection = select(filtered.cohort, analyte, baseline, follow_up)
        paired = paired_result(dataset, cohort_filter, selection, analysis)
    except AnalysisError:  # the overview says why in its own words
        pass
    overview = lab_overview(
        filtered.cohort,
        analyte,
        baseline=baseline,
        follow_up=follow_up,
        alpha=analysis.alpha,
        confidence=analysis.confidence,
        censored=analysis.censored,
        whole=cohort,
        settings=analysis,
        paired=paired,
    )
    if overview.summary is None and not overview.n_pairs and not overview.excluded:
        return LabCard(overview)  # no two time points with values: nothing to draw
    key = (dataset, cohort_filter, overview.selection, analysis)
    reasons = tuple(pair_reasons_part(*key).items())
    analysed = overview.n_pairs
    flow = _titled(
        figure_part(*key, "flow"), f"Patient flow: {analysed} of {cohort.n_patients} analysed"
    )
    change = figure_part(*key, "change")
    if isinstance(change, Failed):
        return LabCard(overview, None, flow, reasons, change.reason.removeprefix("change: "))
    return LabCard(
        overview,
        _titled(change, f"Each patient's change, n = {patients_words(analysed)}"),
        flow,
        reasons,
    )


def _titled(part: Drawn | Failed, title: str) -> dict[str, Any] | None:
    """The figure's spec with a shorter title: the card's heading names the lab and times."""
    if not isinstance(part, Drawn):
        return None
    return {**part.spec, "title": {**part.spec["title"], "text": title}}


# --------------------------------------------------------------------------- drawing


def data_in_use(view: View) -> None:
    """Which data the page shows, and the way to one's own file."""
    data_view.load_error()
    left, right = st.columns([3, 2])
    with left:
        if view.dataset.is_demo:
            st.markdown(
                f"**Data in use: the demo cohort** — {view.cohort.n_patients} renal-transplant "
                "patients of the 2013 study; the lab values are synthetic, built to reproduce "
                "its published tables."
            )
        else:
            st.markdown("**Data in use:**")
            st.text(f"{view.dataset.filename} — {view.cohort.n_patients} patients")
    with right:
        st.page_link(DATA_PAGE, label="Use your own file: upload it on the Data page →")


def pick_labs(view: View) -> list[str]:
    """The labs to show (kept across pages): MCV and hepcidin unless changed."""
    cohort = view.cohort
    return persistent_multiselect(
        "Labs shown",
        overview_labs(cohort),
        LABS_KEY,
        default=default_labs(cohort),
        format_func=lambda key: cohort.analytes[key].label(),
        help="Labs with values at two or more time points. Add or remove labs here.",
    )


def show_labs(view: View, labs: Sequence[str], analysis: AnalysisSettings) -> list[LabCard]:
    """The labs two by two, side by side; the cards drawn, for the reproduce block."""
    cards = []
    for start in range(0, len(labs), 2):
        columns = st.columns(2, gap="large")
        for analyte, column in zip(labs[start : start + 2], columns, strict=False):
            card = lab_card(
                view.dataset, view.filter, analyte, None, _for_lab(view, analyte, analysis)
            )
            with column:
                _show_card(view, card)
            cards.append(card)
    return cards


def _for_lab(view: View, analyte: str, analysis: AnalysisSettings) -> AnalysisSettings:
    """``analysis`` with the margin, prior scale and CVs set for this lab on the Paired
    tests page (its defaults when they were set for another lab)."""
    info = view.cohort.analytes[analyte]
    selection = Selection(info.key, info.name, info.unit, info.times[0], info.times[-1])
    return replace(analysis, **evidence_fields(selection, reset=False))


def _show_card(view: View, card: LabCard) -> None:
    overview = card.overview
    selection = overview.selection
    info = view.cohort.analytes[selection.analyte]
    if overview.summary is None and card.flow is None:
        st.subheader(escape_md(info.label()))
        st.info(escape_md(overview.problem or "No values to compare."))
        return
    st.subheader(escape_md(f"{info.label()}, {selection.times_label}"))
    if card.change is not None:
        show_spec(card.change)
    elif card.chart_problem:
        st.info(escape_md(card.chart_problem))
    st.markdown(escape_md(overview.sentence()))
    panel = panel_from_overview(overview)
    if panel is not None:
        st.markdown("**Did anything change?**")
        show_panel(panel, compact=True)
    caveats = overview.caveats()
    if caveats:
        box = st.warning if overview.is_fragile else st.info
        box(
            f"**What {overview.n_pairs} pairs can show**\n\n"
            + "\n".join(f"- {escape_md(line)}" for line in caveats)
        )
    show_excluded(overview.excluded, view.filtered.cohort.patients, dict(card.reasons))
    if card.flow is not None:
        show_spec(card.flow)
    if st.button(
        f"{selection.name}: every test, every time point →",
        key=f"ov_detail_{selection.analyte}",
        help="Opens the Paired tests page with this lab and these times.",
    ):
        _open_detail(selection.analyte, selection.baseline, selection.follow_up)


def _open_detail(analyte: str, baseline: float, follow_up: float) -> None:
    """The Paired tests page with this lab and times chosen (its widgets read these)."""
    for key, value in (
        ("sel_lab", analyte),
        (f"sel_t0_{analyte}", baseline),
        (f"sel_t1_{analyte}", follow_up),
    ):
        st.session_state[f"keep_{key}"] = value
        st.session_state.pop(key, None)
    st.switch_page(DETAIL_PAGE)


def overview_commands(view: View, cards: Sequence[LabCard], analysis: AnalysisSettings) -> list:
    """For each lab shown: the paired test and the change chart, on the command line."""
    lines: list[str] = []
    for card in cards:
        if card.overview.summary is None:
            continue
        shown = commands(
            view.cohort,
            view.filter,
            selection=card.overview.selection,
            analysis=_for_lab(view, card.overview.selection.analyte, analysis),
            chart="change",
        )
        lines += [shown[0], *(line for line in shown if "--chart" in line)]
    return lines
