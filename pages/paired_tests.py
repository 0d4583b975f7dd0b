"""Paired tests: did a lab change between baseline and follow-up in these patients?"""

import streamlit as st

from analytics.errors import AnalysisError
from analytics.settings import ChartOptions
from ui import evidence_view, mixed_view, paired_view
from ui.downloads import view_buttons
from ui.selection import selection_page
from ui.shell import escape_md
from ui.views import current_analysis, outputs_for, reproduce
from ui.widgets import kept

view, settings = selection_page("Paired tests", "run the tests")
selection = settings.selection
analysis = current_analysis(view, settings)
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
st.subheader("Did anything change?")
evidence_view.paired_panel(outputs)

robust, repeated, split = st.tabs(["Robustness", "All time points", "Subgroups"])
with robust:
    paired_view.robustness(outputs)
with repeated:
    if course is not None and len(course.times) > 2:
        paired_view.repeated_times(outputs)
        mixed_view.mixed_model(outputs)
    else:
        st.write("This lab has only two time points here: the paired comparison is the test.")
with split:
    paired_view.subgroups(outputs)
st.header("Written as a paper would")
evidence_view.paper_paragraphs(outputs)
reproduce(view, outputs)
