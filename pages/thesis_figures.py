"""Thesis figures: the study's Figures 1–6 redrawn from the demo cohort or a study file."""

import streamlit as st

from analytics.errors import AnalysisError
from analytics.output.commands import thesis_commands
from analytics.viz.thesis import thesis_figures, thesis_gaps
from ui.charts import show_chart
from ui.downloads import figure_buttons, figure_size_choice
from ui.shell import escape_md, page_view
from ui.views import reproduce

view = page_view()
cohort = view.cohort

st.title("Thesis figures")
source = (
    "the demo cohort. The demo's lab values are synthetic (built to reproduce the published "
    "tables), so the bars show the published pattern, not the original patients' exact values."
    if view.dataset.is_demo
    else "the file in use, which has the study's cohorts, labs and time points."
)
gaps = [] if view.dataset.is_demo else thesis_gaps(cohort)
if gaps:
    st.write(
        "The 2013 study's per-patient figures are redrawn only from the demo cohort or from a "
        "file with the study's cohorts (retrospective and prospective), labs (MCV, hemoglobin, "
        "hepcidin) and time points."
    )
    st.warning(
        "The file in use cannot redraw them, so no figure is drawn. It lacks:\n\n"
        + "\n".join(f"- {escape_md(gap)}" for gap in gaps)
    )
    st.info("Open the demo cohort on the Data page to see the study's figures.")
    st.stop()
st.write(
    f"The 2013 study's per-patient figures beside their published captions, redrawn from "
    f"{source} As in the study, Figures 1–5 plot baseline − follow-up, so a fall in MCV or "
    "hemoglobin is a positive bar; the axis titles say so. The sidebar filters do not apply "
    "here; use the Charts page for any subgroup."
)
figure_size_choice()
try:
    figures = thesis_figures(cohort)
except AnalysisError as error:  # e.g. a study file without a single complete pair
    st.warning(escape_md(str(error)))
    st.stop()
for figure, caption in figures:
    st.subheader(caption)
    show_chart(figure.chart)
    figure_buttons(figure, f"thesis_{figure.filename_stem}")
    st.divider()
reproduce(view, lines=thesis_commands(cohort))
