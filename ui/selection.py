"""The lab and time points picked for analysis, shared by the analysis pages.

The widgets keep their values across pages, so the Power page follows the lab and
times chosen on the Paired tests page and back.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from analytics.analysis import Selection, select
from analytics.cohort import Cohort
from analytics.errors import AnalysisError
from analytics.labs import format_time
from analytics.stats.paired import PairedResult
from ui.guards import require_patients
from ui.shell import View, escape_md, page_view
from ui.widgets import persistent_selectbox

CONFIDENCE_LEVELS = (0.90, 0.95, 0.99)
ALPHAS = (0.01, 0.05, 0.10)


@dataclass(frozen=True)
class Settings:
    selection: Selection
    alpha: float
    confidence: float


def _default_lab(cohort: Cohort) -> str:
    return "mcv" if "mcv" in cohort.analytes else next(iter(cohort.analytes))


def pick_selection(cohort: Cohort, *, with_levels: bool = True) -> Settings:
    """Lab, baseline, follow-up (and alpha, confidence level) in one row of widgets."""
    analytes = cohort.analytes
    columns = st.columns([2, 1, 1, 1, 1] if with_levels else [2, 1, 1])
    lab = persistent_selectbox(
        "Lab",
        list(analytes),
        "sel_lab",
        default=_default_lab(cohort),
        format_func=lambda key: analytes[key].label(),
        container=columns[0],
    )
    times = list(analytes[lab].times)
    baseline = persistent_selectbox(
        "Baseline",
        times,
        f"sel_t0_{lab}",
        default=times[0],
        format_func=format_time,
        container=columns[1],
    )
    later = [t for t in times if t != baseline] or times
    default_follow_up = 2.0 if 2.0 in later else later[-1]
    follow_up = persistent_selectbox(
        "Follow-up",
        later,
        f"sel_t1_{lab}",
        default=default_follow_up,
        format_func=format_time,
        container=columns[2],
    )
    alpha, confidence = 0.05, 0.95
    if with_levels:
        alpha = persistent_selectbox(
            "Significance level (alpha)",
            list(ALPHAS),
            "sel_alpha",
            default=0.05,
            container=columns[3],
        )
        confidence = persistent_selectbox(
            "Confidence level",
            list(CONFIDENCE_LEVELS),
            "sel_confidence",
            default=0.95,
            format_func=lambda level: f"{level:.0%}",
            container=columns[4],
        )
    return Settings(select(cohort, lab, baseline, follow_up), float(alpha), float(confidence))


def selection_page(title: str, doing: str) -> tuple[View, Settings]:
    """The page's view, title, filter sentence and lab/time widgets (stops without patients)."""
    view = page_view()
    st.title(title)
    st.text(view.filtered.sentence)
    require_patients(view, doing)
    return view, pick_selection(view.filtered.cohort)


def paired_or_stop(view: View) -> tuple[Settings, PairedResult]:
    """The lab/time widgets and the paired result; stops the page with a message if none.

    The result is the Paired tests page's (cached, without the resampling parts).
    """
    from ui.parts import paired_result
    from ui.views import current_analysis

    require_patients(view, "run the tests")
    settings = pick_selection(view.filtered.cohort)
    try:
        analysis = current_analysis(view, settings)
        result = paired_result(view.dataset, view.filter, settings.selection, analysis)
    except AnalysisError as error:
        st.warning(escape_md(str(error)))
        st.stop()
    return settings, result
