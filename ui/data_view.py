"""Sections of the Data page: choosing the data, correcting a failed upload, how it was read.

The Data page's own ``st.session_state`` keys are handled here and nowhere else:

``upload_id``
    The file id of the last upload read, so that a rerun does not read it again.
``upload_error``
    ``(file name, message)`` of the last upload that could not be used.
``failed_upload``, ``failed_columns``
    That upload (a :class:`~ui.shell.Dataset`) and its header's columns, for the
    column pickers that let the user say which column is what.
``upload_question``
    ``(question, column)`` when the upload needs an answer its data cannot give (the
    date order, a file of start dates; see :mod:`ui.windows_view`).
``fix_*``, ``col_*``
    The column pickers (:mod:`ui.column_editor`) of the failed upload and of the data
    in use.
``load_error``
    Set by :func:`ui.shell.load_current` when the data in use no longer reads; shown
    once, here.
"""

from __future__ import annotations

import shlex
from dataclasses import replace

import streamlit as st

from analytics import InputError
from analytics.cohort import Cohort, ValidationReport
from analytics.errors import NeedsAnswer
from analytics.limits import LIMITS
from analytics.reading.headers import ColumnRole, parse_role, recognise_header
from analytics.reading.isolation import header_columns_isolated
from ui import windows_view
from ui.column_editor import column_pickers
from ui.shell import Dataset, View, demo_dataset, escape_md, use_dataset
from ui.tables import excluded_table, issue_groups_table, issues_table, show_table

_FAILED_UPLOAD_KEYS = ("upload_error", "failed_upload", "failed_columns", "upload_question")

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
    _try_upload(Dataset(data, filename))


def _try_upload(dataset: Dataset) -> None:
    """Use ``dataset``, or keep it aside with why it failed (and what it asks)."""
    try:
        use_dataset(dataset)
    except InputError as error:
        _keep_failed(dataset, error)
        return
    _forget_failed_upload()
    st.rerun()


def _keep_failed(dataset: Dataset, error: InputError) -> None:
    """Keep an upload that could not be used, with why, its columns and what it asks."""
    st.session_state["upload_error"] = (dataset.filename, str(error))
    st.session_state["failed_upload"] = dataset
    st.session_state["failed_columns"] = header_columns_isolated(
        dataset.data, dataset.filename, dataset.sheet
    )
    st.session_state["upload_question"] = windows_view.question_of(error)


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
        question = st.session_state.get("upload_question")
        if failed is not None and question is not None:
            answered = windows_view.answer_question(failed, question)
            if answered is not None:
                _try_upload(answered)
                st.rerun()
        columns = st.session_state.get("failed_columns", []) if failed else []
        if columns:
            _correction_form(failed, columns)
    load_error()


def load_error() -> None:
    """Why the data in use no longer reads (the demo is shown instead), once."""
    if "load_error" in st.session_state:
        st.error(escape_md(st.session_state.pop("load_error")))


def _read_as(column: str, mapping: dict[str, str]) -> ColumnRole:
    """How the loader reads a column of a file that failed: the correction, else its header."""
    if column in mapping:
        try:
            return parse_role(column, mapping[column])
        except ValueError:
            pass
    return recognise_header(column)


def _correction_form(failed: Dataset, columns: list[str]) -> None:
    """Role pickers for the columns of the upload that failed; apply reads it again."""
    st.write(
        "Say what the columns hold — at least which one is the patient ID and which "
        "hold lab values — and read the file again."
    )
    earlier = dict(failed.mapping)
    changes = column_pickers(
        [_read_as(column, earlier) for column in columns],
        prefix="fix",
        identity=("failed", st.session_state.get("upload_id"), failed.filename, failed.sheet),
        apply_label="Read the file with these columns",
    )
    if changes is None:
        return
    mapping = tuple(sorted((earlier | changes).items()))
    corrected = replace(failed, mapping=mapping)
    try:
        use_dataset(corrected)
    except NeedsAnswer as error:  # e.g. now read as dated results: ask what the data cannot tell
        _keep_failed(corrected, error)
        st.rerun()
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
            # another sheet starts afresh: its columns, and windows only if it is dated
            fresh = replace(view.dataset, sheet=sheet, mapping=(), windows=None, anchor_file=None)
            _use_or_explain(fresh)


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
    """A role picker per column (and lab, time, unit for lab columns); apply rereads the file."""
    cohort, dataset = view.cohort, view.dataset
    flagged = {w.column for w in cohort.report.warnings if w.kind == "looks_like_role"}
    opened = not dataset.is_demo or bool(dataset.mapping) or bool(flagged)
    with st.expander(_columns_summary(cohort, len(flagged)), expanded=opened):
        changes = column_pickers(
            list(cohort.mapping),
            prefix="col",
            identity=(cohort.source.sha256, dataset.filename, dataset.sheet, dataset.mapping),
            times=sorted({t for info in cohort.analytes.values() for t in info.times}),
            flagged=flagged,
        )
    if dataset.mapping:
        _corrections_in_use(view)
    if changes is None:
        return
    if not changes:
        st.info("Nothing to apply: every column is already read as chosen.")
        return
    mapping = tuple(sorted((dict(dataset.mapping) | changes).items()))
    _use_or_explain(replace(dataset, mapping=mapping))


def _count(n: int, noun: str, plural: str | None = None) -> str:
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


_LONG_WORDS = {
    "analyte": "lab name",
    "time": "time",
    "value": "value",
    "unit": "unit",
    "date": "collection date",
    "anchor": "start date",
}


def _columns_summary(cohort: Cohort, n_flagged: int) -> str:
    """One line on the columns: how many hold what (no text from the file)."""
    roles = [r.role for r in cohort.mapping]
    parts = [f"{_count(len(roles), 'column')}: patient ID"]
    if roles.count("lab"):
        labs = _count(len(cohort.analytes), "lab")
        parts.append(f"{_count(roles.count('lab'), 'lab column')} ({labs})")
    long_roles = ("analyte", "time", "value", "unit", "date", "anchor")
    held = [_LONG_WORDS[r] for r in long_roles if r in roles]  # the long layout's columns
    if held:
        parts.append(", ".join(held))
    n_attributes = sum(r not in ("lab", "ignore", "patient_id", *long_roles) for r in roles)
    if n_attributes:
        parts.append(_count(n_attributes, "patient attribute"))
    if roles.count("ignore"):
        parts.append(f"{roles.count('ignore'):,} ignored")
    line = ", ".join(parts)
    if n_flagged:
        held = "looks" if n_flagged == 1 else "look"
        line += (
            f" — ⚠ {_count(n_flagged, 'column')} {held} like a role not given (see the warnings)"
        )
    return line


def _corrections_in_use(view: View) -> None:
    """The corrections applied, as the command line takes them, and a way to undo them."""
    dataset = view.dataset
    words: list[str] = []
    for column, role in dataset.mapping:
        words += ["--map", f"{column}={role}"]
    st.caption("Corrections in use (the same on the command line):")
    st.code(shlex.join(words), language=None, wrap_lines=True)
    if st.button("Undo every correction", key="col_undo"):
        _use_or_explain(replace(dataset, mapping=()))


# --------------------------------------------------------------------------- validation


def validation_report(report: ValidationReport) -> None:
    """Errors and warnings, one line per column and kind, then each issue."""
    if report.count("error"):
        st.error(
            f"{report.count('error'):,} errors: the file cannot be analysed until they are fixed."
        )
    elif report.count("warning"):
        st.warning(f"{_count(report.count('warning'), 'warning')}: check these cells in your file.")
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
