"""Cohort: characteristics of the filtered patients and the lab values available."""

import streamlit as st

from analytics.output.commands import commands
from analytics.settings import AnalysisSettings
from analytics.stats.characteristics import characteristics
from ui import prevalence_view
from ui.guards import require_patients
from ui.shell import page_view
from ui.tables import show_table
from ui.views import reproduce

view = page_view()
filtered = view.filtered

st.title("Cohort")
st.text(filtered.sentence)
if view.cohort.source.is_demo:
    st.caption("Demo cohort: attributes as published (Tables 1 and 4); lab values synthetic.")

require_patients(view, "see the cohort")

st.subheader("Patient characteristics")
table = characteristics(filtered.cohort, view.filter.age_cutoff)
show_table(
    table.to_frame(),
    hide_index=False,
    download=("characteristics", table.to_frame().reset_index()),
    column_config={"_index": st.column_config.TextColumn("characteristic", width="large")},
)
st.caption(
    "Age as mean ± SD (sample SD) and range, over patients with a recorded age. "
    "Age group from the file where given, otherwise age below "
    f"{view.filter.age_cutoff:g} years counts as pediatric. Percentages of all patients "
    "in the column."
)

st.subheader("Lab values available")
counts = filtered.cohort.value_counts_by_time()
if counts.empty:
    st.write("No lab values for these patients.")
else:
    show_table(counts, hide_index=False, download=("lab_value_counts", counts.reset_index()))
    st.caption("Number of patients with a value, per lab and time point.")

st.subheader("Anemia and microcytosis at each time point")
thresholds = prevalence_view.threshold_editor()
for kind in ("anemia", "microcytosis"):
    prevalence_view.prevalence_section(filtered.cohort, kind, thresholds, view.censored_rule)

reproduce(
    view,
    lines=commands(
        view.cohort,
        view.filter,
        analysis=AnalysisSettings(
            censored=view.censored_rule, thresholds=thresholds, age_cutoff=view.filter.age_cutoff
        ),
    ),
)
