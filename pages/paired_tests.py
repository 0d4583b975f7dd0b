"""Paired tests: did a lab change between baseline and follow-up in these patients?"""

import streamlit as st

from analytics.analysis import timecourse_for
from analytics.errors import AnalysisError
from analytics.figures import FigureOptions
from analytics.outputs import commands
from ui import paired_view
from ui.selection import paired_or_stop
from ui.shell import page_view
from ui.views import reproduce

view = page_view()
cohort = view.filtered.cohort

st.title("Paired tests")
st.text(view.filtered.sentence)
settings, result = paired_or_stop(view)
selection = settings.selection
st.caption(
    "Change = follow-up − baseline, so a fall is negative. Only patients with both values "
    "count (complete pairs)."
)

st.header(f"{selection.name} at every time point")
try:
    course = timecourse_for(
        cohort,
        selection.analyte,
        baseline=selection.baseline,
        alpha=settings.alpha,
        confidence=settings.confidence,
        censored=view.censored_rule,
    )
    paired_view.study_table(course, selection)
except AnalysisError as error:
    course = None
    st.info(str(error))

st.header(f"Paired comparison, {selection.times_label}")
paired_view.paired_summary(result, selection)

robust, repeated, split = st.tabs(["Robustness", "All time points", "Subgroups"])
with robust:
    paired_view.robustness(result, selection, view.filtered.sentence)
with repeated:
    if course is not None and len(course.times) > 2:
        paired_view.repeated_times(course)
    else:
        st.write("This lab has only two time points here: the paired comparison is the test.")
with split:
    paired_view.subgroups(
        cohort, selection, view.filter.age_cutoff, view.censored_rule, settings.confidence
    )

reproduce(
    view,
    lines=commands(
        view.cohort,
        view.filter,
        selection=selection,
        options=FigureOptions(
            alpha=settings.alpha, confidence=settings.confidence, censored=view.censored_rule,
            age_cutoff=view.filter.age_cutoff,
        ),
    ),
)  # fmt: skip
