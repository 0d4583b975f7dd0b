"""Data: choose the demo cohort or upload a file; see how it was read."""

import streamlit as st

from analytics.cohort import CENSORED_RULES
from analytics.output.commands import validate_command
from ui import data_view, identifiers_view, windows_view
from ui.shell import page_view
from ui.tables import patients_table, show_table
from ui.views import reproduce
from ui.widgets import persistent_selectbox

view = page_view()
cohort = view.cohort

st.title("Data")
st.write(
    "Open the demo cohort or upload your own spreadsheet (CSV or Excel .xlsx; wide layout "
    "with one row per patient, or long layout with one row per lab value). The file stays "
    "in this browser session's memory and is never saved."
)
data_view.choose_data(view)
data_view.read_errors()

if cohort.source.is_demo:
    st.info(
        "**Demo cohort.** Patient attributes are those published in the 2013 study "
        "(Tables 1 and 4); the lab values are **synthetic**, built so that the published "
        "summary tables (means, SDs, paired p-values) come out at their printed precision."
    )

st.subheader("How the file was read")
data_view.how_read(view)
data_view.row_counts(cohort)
windows_view.visit_windows(view)

st.subheader("Patient labels")
identifiers_view.patient_labels(view)

st.subheader("Columns")
st.write(
    "What each column was read as. To correct one, pick what it holds — for a lab column "
    "also the lab, the time point and the unit — and apply: the file is read again."
)
data_view.column_roles(view)

st.subheader("Validation report")
data_view.validation_report(cohort.report)

st.subheader("Excluded rows")
data_view.excluded_rows(cohort.report)

if cohort.n_censored():
    st.subheader("Values beyond a detection limit")
    persistent_selectbox(
        "How censored values (e.g. <5) enter analyses",
        list(CENSORED_RULES),
        "censored_choice",
        default="limit",
        format_func=lambda key: CENSORED_RULES[key],
    )

st.subheader("Patients")
patients = patients_table(cohort)
show_table(patients, hide_index=False, download=("patients", patients.reset_index()))

reproduce(view, lines=[validate_command(cohort)])
