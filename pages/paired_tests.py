"""Paired tests: did a lab change between baseline and follow-up in these patients?"""

import streamlit as st

from analytics.errors import AnalysisError
from analytics.settings import ChartOptions
from ui import evidence_view, mixed_view, paired_view
from ui.downloads import view_buttons
from ui.parts import (
    course_part,
    figure_part,
    paired_part,
    paragraphs_part,
    resampled_part,
    view_of,
)
from ui.selection import selection_page
from ui.shell import escape_md
from ui.views import current_analysis, full_view, reproduce
from ui.widgets import kept

view, settings = selection_page("Paired tests", "run the tests")
selection = settings.selection
analysis = current_analysis(view, settings)
options = ChartOptions(split=kept("sel_split", "sex"))  # the Subgroups section's, as downloads
key = (view.dataset, view.filter, selection, analysis)
shown = kept(paired_view.SECTION_KEY, None)  # the section chosen, drawn further down
try:  # with the robustness checks open, every number of the page comes with them
    pair = resampled_part(*key) if shown == "robustness" else paired_part(*key)
except AnalysisError as error:
    st.warning(escape_md(str(error)))
    st.stop()
flow = figure_part(*key, "flow")
outputs = view_of(*key, pair=pair, course=course_part(*key), figures=(flow,), options=options)
view_buttons(lambda: full_view(view, settings, analysis, options), stem=selection.analyte)
st.caption(
    "Change = follow-up − baseline, so a fall is negative. Only patients with both values "
    "count (complete pairs)."
)

st.header(f"{escape_md(selection.name)} at every time point")
if outputs.timecourse is not None:
    paired_view.study_table(outputs)
for problem in outputs.problems:
    if problem.startswith("all time points"):
        st.info(escape_md(problem))

st.header(f"Paired comparison, {selection.times_label}")
paired_view.paired_summary(outputs, flow)
st.subheader("Did anything change?")
evidence_view.paired_panel(outputs)

section = paired_view.section_choice()
if section == "robustness":
    paired_view.robustness(key)
elif section == "times":
    shown = view_of(*key, pair=pair, course=course_part(*key, mixed=True))
    course = shown.timecourse
    if course is not None and len(course.times) > 2:
        paired_view.repeated_times(shown)
        mixed_view.mixed_model(shown)
    else:
        st.write("This lab has only two time points here: the paired comparison is the test.")
elif section == "subgroups":
    paired_view.subgroups(key, pair)
st.header("Written as a paper would")
evidence_view.paper_paragraphs(outputs, paragraphs_part(*key))
reproduce(view, outputs)
