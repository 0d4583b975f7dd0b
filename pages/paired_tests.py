"""Paired tests: did a lab change between baseline and follow-up in these patients?"""

import streamlit as st

from analytics.errors import AnalysisError
from analytics.settings import AnalysisSettings, ChartOptions
from ui import paired_view
from ui.downloads import view_buttons
from ui.guards import require_patients
from ui.selection import pick_selection
from ui.shell import escape_md, page_view
from ui.views import current_thresholds, outputs_for, reproduce
from ui.widgets import kept

view = page_view()
cohort = view.filtered.cohort

st.title("Paired tests")
st.text(view.filtered.sentence)
require_patients(view, "run the tests")
settings = pick_selection(cohort)
selection = settings.selection
analysis = AnalysisSettings(
    alpha=settings.alpha,
    confidence=settings.confidence,
    censored=view.censored_rule,
    age_cutoff=view.filter.age_cutoff,
    thresholds=current_thresholds(),
)
options = ChartOptions(split=kept("sel_split", "sex"))  # the Subgroups tab's, so downloads match
try:
    outputs = outputs_for(view, settings, analysis, options)
except AnalysisError as error:
    st.warning(escape_md(str(error)))
    st.stop()
course = outputs.timecourse
view_buttons(outputs)
st.caption(
    "Change = follow-up − baseline, so a fall is negative. Only patients with both values "
    "count (complete pairs)."
)

st.header(f"{escape_md(selection.name)} at every time point")
if course is not None:
    paired_view.study_table(outputs)
for problem in outputs.problems:
    if problem.startswith("all time points"):
        st.info(escape_md(problem))

st.header(f"Paired comparison, {selection.times_label}")
paired_view.paired_summary(outputs)

robust, repeated, split = st.tabs(["Robustness", "All time points", "Subgroups"])
with robust:
    paired_view.robustness(outputs)
with repeated:
    if course is not None and len(course.times) > 2:
        paired_view.repeated_times(outputs)
    else:
        st.write("This lab has only two time points here: the paired comparison is the test.")
with split:
    paired_view.subgroups(outputs)
reproduce(view, outputs)
