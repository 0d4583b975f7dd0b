"""The Data page for dated results: the visit windows, their editor, the timeline.

Shown when the file in use holds dated results (a long table with collection dates,
see :mod:`analytics.reading.dated`): the windows' rules, number inputs to change
them (Apply reads the file again), the result rows by what became of them, a
timeline chart per lab (a row per patient), and the values used with their day since
the start. For an upload that cannot be read until the user says something the data
cannot tell, :func:`answer_question` asks: the date order, or where the start dates
are (a second file).

Widget keys: ``win_times``, ``win_window_days``, ``win_baseline_days``,
``win_date_order``, ``win_apply``, ``win_lab``, ``win_patients``; for the questions
``ask_date_order``, ``ask_apply`` and ``anchor_upload`` (``anchor_upload_id``: the
start dates file last tried). ``win_for`` remembers which file and windows the
editor's values were set from.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from analytics import InputError
from analytics.errors import AnalysisError, NeedsAnswer
from analytics.reading.dates import DATE_ORDERS
from analytics.reading.window_rules import VisitWindows, parse_times
from analytics.viz.timeline import timeline_chart
from ui.charts import show_chart
from ui.shell import Dataset, View, escape_md, use_dataset
from ui.tables import show_table

__all__ = ["answer_question", "visit_windows"]

#: Patients per timeline chart.
TIMELINE_PATIENTS = 30
_ORDER_CHOICES = {"": "as the file shows (settled from the dates)", **DATE_ORDERS}


def visit_windows(view: View) -> None:
    """The windows, their editor, the result rows by outcome, the timeline, the values used."""
    windowed = view.cohort.windowed
    if windowed is None:
        return
    st.subheader("Visit windows")
    st.write(
        "The results are dated. Each is placed on the days since its patient's start date "
        f"({escape_md(windowed.anchor_text())}; day 0 is the start day), and each time point "
        "takes one value by its window. A result is used for one time point only."
    )
    show_table(windowed.rules_frame())
    note = windowed.order_note
    notes = [note[:1].upper() + note[1:]] if note else []
    if windowed.windows.is_default_times:
        notes.append("Time points 0, 2 and 6 months are the default: none were given.")
    for note in notes:
        st.caption(escape_md(note))
    _editor(view)
    _outcomes(view)
    _timeline(view)
    _values_used(view)


def _editor(view: View) -> None:
    """Number inputs for the windows; Apply reads the file again with them."""
    windows = view.dataset.windows or view.cohort.windowed.windows
    identity = (view.cohort.source.sha256, view.dataset.filename, windows)
    # set from the windows in use for a new file or windows, and after another page was
    # shown (Streamlit forgets the values of widgets not drawn)
    if st.session_state.get("win_for") != identity or "win_times" not in st.session_state:
        st.session_state["win_for"] = identity
        st.session_state["win_times"] = windows.times_text()
        st.session_state["win_window_days"] = windows.window_days
        st.session_state["win_baseline_days"] = windows.baseline_days
        st.session_state["win_date_order"] = windows.date_order
    with st.expander("Change the windows", expanded=False):
        left, middle, right = st.columns(3)
        left.text_input(
            "Time points (months; 2w for 2 weeks)",
            key="win_times",
            help="e.g. 0, 2, 6 for the retrospective design or 0, 2w, 1, 2 for the prospective",
        )
        middle.number_input(
            "Follow-up window: ± days", min_value=0, max_value=366, step=1, key="win_window_days"
        )
        right.number_input(
            "Baseline: days before the start",
            min_value=0,
            max_value=366,
            step=1,
            key="win_baseline_days",
        )
        st.selectbox(
            "Dates such as 05/01/2023 are",
            list(_ORDER_CHOICES),
            format_func=_ORDER_CHOICES.__getitem__,
            key="win_date_order",
        )
        if st.button("Apply the windows", key="win_apply"):
            _apply(view.dataset, windows)


def _apply(dataset: Dataset, windows: VisitWindows) -> None:
    try:
        chosen = replace(
            windows,
            times=parse_times(st.session_state["win_times"]),
            window_days=int(st.session_state["win_window_days"]),
            baseline_days=int(st.session_state["win_baseline_days"]),
            date_order=st.session_state["win_date_order"],
        )
        use_dataset(replace(dataset, windows=chosen))
    except (InputError, AnalysisError) as error:
        st.error(escape_md(str(error)))
        return
    st.rerun()


def _outcomes(view: View) -> None:
    windowed = view.cohort.windowed
    used, total = windowed.n_used, windowed.n_rows
    metrics = st.columns(3)
    metrics[0].metric("Result rows", f"{total:,}")
    metrics[1].metric("Used at a time point", f"{used:,}")
    metrics[2].metric("Not used", f"{total - used:,}")
    show_table(windowed.outcomes_frame())
    st.caption(
        "Every result row is used at a time point or not used with its reason (the reasons "
        "row by row are under Excluded rows)."
    )


def _timeline(view: View) -> None:
    cohort, windowed = view.cohort, view.cohort.windowed
    labs = [key for key in cohort.analytes if (windowed.results["analyte"] == key).any()]
    if not labs:
        return
    st.markdown("**Timeline**")
    left, right = st.columns(2)
    lab = left.selectbox(
        "Lab", labs, format_func=lambda key: cohort.analytes[key].label(), key="win_lab"
    )
    patients = [str(p) for p in cohort.patients.index]
    pages = [
        patients[i : i + TIMELINE_PATIENTS] for i in range(0, len(patients), TIMELINE_PATIENTS)
    ]
    page = 0
    if len(pages) > 1:
        page = right.selectbox(
            "Patients",
            range(len(pages)),
            format_func=lambda i: f"{pages[i][0]} … {pages[i][-1]} ({len(pages[i])})",
            key="win_patients",
        )
    try:
        chart = timeline_chart(windowed, lab, cohort.analytes[lab].name, pages[page])
    except AnalysisError as error:
        st.info(escape_md(str(error)))
        return
    show_chart(chart)


def _values_used(view: View) -> None:
    cohort = view.cohort
    names = {key: info.name for key, info in cohort.analytes.items()}
    values = cohort.windowed.values_frame(names)
    with st.expander(f"The values used, with their day since the start ({len(values):,})"):
        show_table(values, download=("values_used", values))


# --------------------------------------------------------------------------- questions


def answer_question(failed: Dataset, question: tuple[str, str]) -> Dataset | None:
    """Ask what the upload's data cannot tell; the upload with the answer, once given."""
    kind, column = question
    if kind == "date_order":
        where = f" in column '{column}'" if column else ""
        st.selectbox(
            f"How are the dates{escape_md(where)} written?",
            list(DATE_ORDERS),
            format_func=DATE_ORDERS.__getitem__,
            key="ask_date_order",
        )
        if st.button("Read the file with this date order", key="ask_apply"):
            windows = failed.windows or VisitWindows()
            order = st.session_state["ask_date_order"]
            return replace(failed, windows=replace(windows, date_order=order))
        return None
    if kind == "anchor":
        upload = st.file_uploader(
            "Start dates: a second file with one row per patient (patient ID and the date "
            "the drug started)",
            type=["csv", "tsv", "txt", "xlsx", "xlsm"],
            key="anchor_upload",
        )
        st.caption("Or pick the column of the start dates below and read the file again.")
        if upload is not None and st.session_state.get("anchor_upload_id") != upload.file_id:
            st.session_state["anchor_upload_id"] = upload.file_id  # tried once, not each rerun
            return replace(failed, anchor_file=(upload.name, upload.getvalue()))
    return None


def question_of(error: InputError) -> tuple[str, str] | None:
    """``(question, column)`` of an error that asks the user something, else None."""
    if isinstance(error, NeedsAnswer):
        return error.question, error.column
    return None
