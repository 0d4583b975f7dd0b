"""Thesis figures: the study's Figures 1–6 redrawn from the demo cohort or a study file."""

import streamlit as st

from analytics.output.commands import thesis_commands
from ui.charts import show_spec
from ui.downloads import figure_buttons, figure_size_choice
from ui.parts import Failed, thesis_gaps_part, thesis_part
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
gaps = thesis_gaps_part(view.dataset)
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
figures = thesis_part(view.dataset)  # drawn once per file
if isinstance(figures, Failed):
    st.warning(escape_md(figures.reason))
    st.stop()
for drawn, caption in figures:
    st.subheader(caption)
    show_spec(drawn.spec)
    figure_buttons(drawn.figure, f"thesis_{drawn.figure.filename_stem}")
    st.divider()
reproduce(view, lines=thesis_commands(cohort))
