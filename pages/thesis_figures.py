"""Thesis figures: the study's Figures 1–6 redrawn from the demo cohort."""

import streamlit as st

from analytics.output.commands import thesis_commands
from analytics.viz.thesis import thesis_figures
from ui.charts import show_chart
from ui.downloads import figure_buttons, figure_size_choice
from ui.shell import demo_dataset, page_view, parse_dataset
from ui.views import reproduce

view = page_view()

st.title("Thesis figures")
st.write(
    "The 2013 study's per-patient figures, redrawn from the demo cohort beside their published "
    "captions. As in the study, Figures 1–5 plot baseline − follow-up, so a fall in MCV or "
    "hemoglobin is a positive bar; the axis titles say so. The demo's lab values are synthetic "
    "(built to reproduce the published tables), so the bars show the published pattern, not "
    "the original patients' exact values. The sidebar filters do not apply here; use the "
    "Charts page for any subgroup."
)
figure_size_choice()
demo = demo_dataset()
cohort = parse_dataset(demo.data, demo.filename, None, (), True)
figures = thesis_figures(cohort)
for figure, caption in figures:
    st.subheader(caption)
    show_chart(figure.chart)
    figure_buttons(figure, f"thesis_{figure.filename_stem}")
    st.divider()
reproduce(view, lines=thesis_commands(cohort))
