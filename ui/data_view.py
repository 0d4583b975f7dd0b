"""Sections of the Data page: choosing the data, correcting a failed upload, how it was read.

The Data page's own ``st.session_state`` keys are handled here and nowhere else:

``upload_id``
    The file id of the last upload read, so that a rerun does not read it again.
``upload_error``
    ``(file name, message)`` of the last upload that could not be used.
``failed_upload``, ``failed_columns``
    That upload (a :class:`~ui.shell.Dataset`) and its header's columns, for the
    correction form.
``retry_mapping``
    The correction form's text (the widget's key).
``load_error``
    Set by :func:`ui.shell.load_current` when the data in use no longer reads; shown
    once, here.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics import InputError, parse_mapping
from analytics.cohort import Cohort, ValidationReport
from analytics.limits import LIMITS
from analytics.reading.isolation import header_columns_isolated
from ui.shell import Dataset, View, demo_dataset, escape_md, use_dataset
from ui.tables import excluded_table, issue_groups_table, issues_table, mapping_table, show_table

_FAILED_UPLOAD_KEYS = ("upload_error", "failed_upload", "failed_columns")

ROLE_HELP = (
    "Type one of: patient_id, sex, age, age_group, cohort, iron, epo, reason_for_sirolimus, "
    "immunosuppressants, reason_for_transplant, attribute (kept as is) or ignore. For a lab "
    "column, type lab:NAME:TIME — lab:mcv:2 is MCV at month 2, lab:hgb:2w is hemoglobin at "
    "2 weeks; add :UNIT to set the unit (lab:hgb:2:g/L). One row per lab value instead: "
    "analyte, time, value, unit."
)


# --------------------------------------------------------------------------- choosing the data


def choose_data(view: View) -> None:
    """The demo button and the file uploader, side by side."""
    left, right = st.columns([1, 2])
    with left:
        if st.button("Open the demo cohort", key="open_demo", disabled=view.dataset.is_demo):
            use_dataset(demo_dataset())
            _forget_failed_upload()
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
            _use_upload(upload.getvalue(), upload.name)


def _use_upload(data: bytes, filename: str) -> None:
    """Make the upload the data in use, or keep it aside for the correction form."""
    try:
        use_dataset(Dataset(data, filename))
    except InputError as error:
        st.session_state["upload_error"] = (filename, str(error))
        st.session_state["failed_upload"] = Dataset(data, filename)
        st.session_state["failed_columns"] = header_columns_isolated(data, filename)
        return
    _forget_failed_upload()
    st.rerun()


def _forget_failed_upload() -> None:
    for key in _FAILED_UPLOAD_KEYS:
        st.session_state.pop(key, None)


# --------------------------------------------------------------------------- failed upload


def read_errors() -> None:
    """Why the last upload, or the data in use, could not be read; a way to fix an upload."""
    if "upload_error" in st.session_state:
        name, message = st.session_state["upload_error"]
        st.error(f"**{escape_md(name)} could not be used.** {escape_md(message)}")
        st.caption("Still showing the data in use before this upload.")
        failed = st.session_state.get("failed_upload")
        columns = st.session_state.get("failed_columns", []) if failed else []
        if columns:
            _correction_form(failed, columns)
    load_error()


def load_error() -> None:
    """Why the data in use no longer reads (the demo is shown instead), once."""
    if "load_error" in st.session_state:
        st.error(escape_md(st.session_state.pop("load_error")))


def _correction_form(failed: Dataset, columns: list[str]) -> None:
    st.write(
        "Tell the dashboard what the columns are, one per line as COLUMN=ROLE, "
        "e.g. `Subj=patient_id` or `MCV start=lab:mcv:0`. The file's columns:"
    )
    st.text(", ".join(columns))
    corrections = st.text_area("Column corrections", key="retry_mapping")
    if not st.button("Retry with these corrections", key="retry_upload"):
        return
    try:
        lines = [line for line in corrections.splitlines() if line.strip()]
        mapping = tuple(sorted(parse_mapping(lines).items()))
        use_dataset(Dataset(failed.data, failed.filename, mapping=mapping))
    except InputError as error:
        st.error(escape_md(str(error)))
        return
    _forget_failed_upload()
    st.rerun()


# --------------------------------------------------------------------------- how it was read


def how_read(view: View) -> None:
    """File, reader, layout, header row and checksum; the sheet choice for a workbook."""
    source, report = view.cohort.source, view.cohort.report
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
            _use_or_explain(Dataset(view.dataset.data, view.dataset.filename, sheet))


def _use_or_explain(dataset: Dataset) -> None:
    """Make ``dataset`` the data in use and rerun, or say why it cannot be used."""
    try:
        use_dataset(dataset)
    except InputError as error:
        st.error(escape_md(str(error)))
        return
    st.rerun()


def row_counts(cohort: Cohort) -> None:
    """Patients, rows read, used and excluded, and warnings: every row accounted for."""
    report = cohort.report
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


def column_roles(view: View) -> None:
    """What each column was read as, editable; applying the edits rereads the file."""
    cohort = view.cohort
    edited = st.data_editor(
        mapping_table(cohort),
        key="mapping_editor",
        hide_index=True,
        disabled=["column", "read as"],
        width="stretch",
        height="content" if len(cohort.mapping) <= 60 else "auto",
    )
    st.caption(ROLE_HELP)
    if st.button("Apply column corrections", key="apply_mapping"):
        dataset = view.dataset
        mapping = dict(dataset.mapping) | _role_changes(cohort, edited)
        _use_or_explain(
            Dataset(
                dataset.data,
                dataset.filename,
                dataset.sheet,
                tuple(sorted(mapping.items())),
                dataset.is_demo,
            )
        )


def _role_changes(cohort: Cohort, edited: pd.DataFrame) -> dict[str, str]:
    """The roles typed in the editor that differ from how the column was read."""
    current = {r.column: r.as_role_string() for r in cohort.mapping}
    return {
        row["column"]: row["role"].strip()
        for _, row in edited.iterrows()
        if row["role"].strip() and row["role"].strip() != current.get(row["column"])
    }


# --------------------------------------------------------------------------- validation


def validation_report(report: ValidationReport) -> None:
    """Errors and warnings, one line per column and kind, then each issue."""
    if report.count("error"):
        st.error(
            f"{report.count('error'):,} errors: the file cannot be analysed until they are fixed."
        )
    elif report.count("warning"):
        st.warning(f"{report.count('warning'):,} warnings: check these cells in your file.")
    else:
        st.success("No errors or warnings.")
    if not report.issues:
        return
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


def excluded_rows(report: ValidationReport) -> None:
    if report.excluded:
        show_table(excluded_table(report), download=("excluded_rows", report.excluded_frame()))
    else:
        st.write("No row was excluded.")
