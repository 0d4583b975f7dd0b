"""Data: choose the demo cohort or upload a file; see how it was read."""

import streamlit as st

from analytics import InputError, parse_mapping
from analytics.cohort import CENSORED_RULES
from analytics.isolation import header_columns_isolated
from analytics.limits import LIMITS
from analytics.outputs import validate_command
from ui.shell import Dataset, demo_dataset, escape_md, page_view, use_dataset
from ui.tables import (
    excluded_table,
    issue_groups_table,
    issues_table,
    mapping_table,
    patients_table,
    show_table,
)
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

left, right = st.columns([1, 2])
with left:
    if st.button("Open the demo cohort", key="open_demo", disabled=view.dataset.is_demo):
        use_dataset(demo_dataset())
        for key in ("upload_error", "failed_upload", "failed_columns"):
            st.session_state.pop(key, None)
        st.rerun()
with right:
    upload = st.file_uploader(
        "Upload a cohort file",
        type=["csv", "tsv", "txt", "xlsx", "xlsm"],
        key="upload",
        help=f"Up to {LIMITS['max_upload_mb'].value:.0f} MB. Title rows above the header, "
        "'<5', 'N/A', decimal commas and units in cells are handled.",
    )
    if upload is not None and st.session_state.get("upload_id") != upload.file_id:
        st.session_state["upload_id"] = upload.file_id
        try:
            use_dataset(Dataset(upload.getvalue(), upload.name))
            st.session_state.pop("upload_error", None)
            st.rerun()
        except InputError as error:
            st.session_state["upload_error"] = (upload.name, str(error))
            st.session_state["failed_upload"] = Dataset(upload.getvalue(), upload.name)
            st.session_state["failed_columns"] = header_columns_isolated(
                upload.getvalue(), upload.name
            )

if "upload_error" in st.session_state:
    name, message = st.session_state["upload_error"]
    st.error(f"**{escape_md(name)} could not be used.** {escape_md(message)}")
    st.caption("Still showing the data in use before this upload.")
    failed = st.session_state.get("failed_upload")
    columns = st.session_state.get("failed_columns", []) if failed else []
    if columns:
        st.write(
            "Tell the dashboard what the columns are, one per line as COLUMN=ROLE, "
            "e.g. `Subj=patient_id` or `MCV start=lab:mcv:0`. The file's columns:"
        )
        st.text(", ".join(columns))
        corrections = st.text_area("Column corrections", key="retry_mapping")
        if st.button("Retry with these corrections", key="retry_upload"):
            try:
                lines = [line for line in corrections.splitlines() if line.strip()]
                mapping = tuple(sorted(parse_mapping(lines).items()))
                use_dataset(Dataset(failed.data, failed.filename, mapping=mapping))
                for key in ("upload_error", "failed_upload", "failed_columns"):
                    st.session_state.pop(key, None)
                st.rerun()
            except InputError as error:
                st.error(escape_md(str(error)))
if "load_error" in st.session_state:
    st.error(escape_md(st.session_state.pop("load_error")))

source = cohort.source
report = cohort.report
if source.is_demo:
    st.info(
        "**Demo cohort.** Patient attributes are those published in the 2013 study "
        "(Tables 1 and 4); the lab values are **synthetic**, built so that the published "
        "summary tables (means, SDs, paired p-values) come out at their printed precision."
    )

st.subheader("How the file was read")
st.text(
    f"{source.filename}\n{source.how_read}; {source.layout} layout; header in row "
    f"{report.header_row}\nSHA-256 {source.sha256}"
)
if len(source.sheets) > 1:
    sheet = st.selectbox(
        "Sheet",
        list(source.sheets),
        index=list(source.sheets).index(source.sheet),
        key="sheet_choice",
    )
    if sheet != source.sheet:
        try:
            use_dataset(Dataset(view.dataset.data, view.dataset.filename, sheet))
            st.rerun()
        except InputError as error:
            st.error(escape_md(str(error)))

metrics = st.columns(5)
metrics[0].metric("Patients", cohort.n_patients)
metrics[1].metric("Rows read", report.n_rows_in)
metrics[2].metric("Rows used", report.n_rows_used)
metrics[3].metric("Rows excluded", len(report.excluded))
metrics[4].metric("Warnings", f"{report.count('warning'):,}")
st.caption(
    f"Every row is accounted for: {report.n_rows_in} rows read = {report.n_rows_used} used "
    f"+ {len(report.excluded)} excluded (listed below with the reason)."
)

st.subheader("Columns")
st.write("What each column was recognised as. To correct one, type its role and apply.")
edited = st.data_editor(
    mapping_table(cohort),
    key="mapping_editor",
    hide_index=True,
    disabled=["column", "read as"],
    width="stretch",
    height="content" if len(cohort.mapping) <= 60 else "auto",
)
st.caption(
    "Type one of: patient_id, sex, age, age_group, cohort, iron, epo, reason_for_sirolimus, "
    "immunosuppressants, reason_for_transplant, attribute (kept as is) or ignore. For a lab "
    "column, type lab:NAME:TIME — lab:mcv:2 is MCV at month 2, lab:hgb:2w is hemoglobin at "
    "2 weeks; add :UNIT to set the unit (lab:hgb:2:g/L). One row per lab value instead: "
    "analyte, time, value, unit."
)
if st.button("Apply column corrections", key="apply_mapping"):
    current = {r.column: r.as_role_string() for r in cohort.mapping}
    changes = {
        row["column"]: row["role"].strip()
        for _, row in edited.iterrows()
        if row["role"].strip() and row["role"].strip() != current.get(row["column"])
    }
    mapping = dict(view.dataset.mapping) | changes
    try:
        use_dataset(
            Dataset(
                view.dataset.data,
                view.dataset.filename,
                view.dataset.sheet,
                tuple(sorted(mapping.items())),
                view.dataset.is_demo,
            )
        )
        st.rerun()
    except InputError as error:
        st.error(escape_md(str(error)))

st.subheader("Validation report")
if report.count("error"):
    st.error(f"{report.count('error'):,} errors: the file cannot be analysed until they are fixed.")
elif report.count("warning"):
    st.warning(f"{report.count('warning'):,} warnings: check these cells in your file.")
else:
    st.success("No errors or warnings.")
if report.issues:
    show_table(
        issue_groups_table(report),
        download=("validation_summary", report.issue_groups_frame()),
    )
    st.caption(
        "One line per column and kind of problem: how many were found, the first rows and "
        "the first message. Notes record how special cells (N/A, <5, ...) were read; "
        "nothing to fix."
    )
    kept = int(LIMITS["issues_kept_per_group"].value)
    with st.expander(
        f"Each issue, located by row and column ({len(report.issues):,} listed; of each line "
        f"above the first {kept})"
    ):
        show_table(issues_table(report), download=("validation_report", report.issues_frame()))

st.subheader("Excluded rows")
if report.excluded:
    show_table(excluded_table(report), download=("excluded_rows", report.excluded_frame()))
else:
    st.write("No row was excluded.")

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
