"""Display tables built from analytics results (labels only; no computation here)."""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from analytics.cohort import Cohort, ValidationReport
from analytics.labs import format_time
from analytics.output.headers import human_headers


def issues_table(report: ValidationReport) -> pd.DataFrame:
    order = {"error": 0, "warning": 1, "note": 2}
    frame = report.issues_frame()
    frame["row"] = frame["row"].map(lambda row: "" if pd.isna(row) else str(row))
    return frame.sort_values("severity", key=lambda s: s.map(order), kind="stable")


def issue_groups_table(report: ValidationReport) -> pd.DataFrame:
    """One line per severity, column and kind of problem: count, first rows, an example."""
    frame = report.issue_groups_frame()
    frame["count"] = frame["count"].map(lambda n: f"{n:,}")
    frame["kind"] = frame["kind"].str.replace("_", " ", regex=False)  # "control character"
    return frame.rename(columns={"example": "example (first of them)"})


def excluded_table(report: ValidationReport) -> pd.DataFrame:
    frame = report.excluded_frame().astype({"row": str})
    if not (frame["sheet"] != "").any():
        frame = frame.drop(columns="sheet")
    return frame


def patients_table(cohort: Cohort) -> pd.DataFrame:
    """One row per patient: attributes, then each lab value as LAB at TIME."""
    patients = cohort.patients.copy()
    patients = patients.dropna(axis=1, how="all")
    for column in ("iron", "epo"):
        if column in patients:
            patients[column] = patients[column].map({True: "yes", False: "no"})
    labels = {
        "sex": "sex",
        "age": "age (y)",
        "age_group": "age group",
        "iron": "iron therapy",
        "epo": "Epo",
        "reason_for_sirolimus": "reason for sirolimus",
        "immunosuppressants": "other immunosuppressants",
        "reason_for_transplant": "reason for transplant",
    }
    patients = patients.rename(columns=labels)
    for key, info in cohort.analytes.items():
        matrix = cohort.lab_matrix(key)
        censored = cohort.labs[(cohort.labs["analyte"] == key) & (cohort.labs["censored"] != "")]
        for time in matrix.columns:
            column = matrix[time]
            marks = censored[censored["time"] == time].set_index("patient_id")["censored"]
            if not marks.empty:  # keep '<5' visible instead of a bare 5
                column = column.map(lambda v: "" if pd.isna(v) else f"{v:g}").astype(object)
                for patient_id, mark in marks.items():
                    column[patient_id] = f"{mark}{column[patient_id]}"
            patients[f"{info.name} {format_time(time)}"] = column
    return patients.assign(censored=_censored_column(cohort, patients.index))


def _censored_column(cohort: Cohort, index: pd.Index) -> list[str]:
    """Per patient, the values beyond a detection limit (``Hepcidin month 0 <5``), or ""."""
    labs = cohort.labs[cohort.labs["censored"] != ""]
    words: dict[str, list[str]] = {}
    for pid, key, time, mark, value in zip(
        labs["patient_id"], labs["analyte"], labs["time"], labs["censored"], labs["value"],
        strict=True,
    ):  # fmt: skip
        words.setdefault(str(pid), []).append(
            f"{cohort.analytes[key].name} {format_time(time)} {mark}{value:g}"
        )
    return ["; ".join(words.get(str(pid), [])) for pid in index]


#: Tables up to this many rows are shown whole; longer ones scroll.
FULL_HEIGHT_ROWS = 60


def _is_missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def _number_text(value: object) -> str:
    return "" if _is_missing(value) else f"{float(value):.12g}"  # type: ignore[arg-type]


def blanks_blank(frame: pd.DataFrame) -> pd.DataFrame:
    """The table with every missing cell empty (a grid draws a missing cell "None").

    Text columns get empty text; a number column with gaps is shown as text (up to 12
    significant digits) with the gaps empty; complete number columns stay numbers.
    """
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if not series.isna().any():
            continue
        if pd.api.types.is_bool_dtype(series):
            continue
        if pd.api.types.is_numeric_dtype(series):
            out[column] = series.map(_number_text).astype(object)
        else:
            out[column] = series.map(lambda v: "" if _is_missing(v) else v).astype(object)
    return out


_ALIGN_SAMPLE = 2_000
_NUMBER_TEXT = re.compile(r"(?:[<>≤≥]\s*)?[−+-]?\d[\d,]*(?:\.\d+)?(?:e[−+-]?\d+)?(?:\s*%)?")


def _numbers_as_text(series: pd.Series) -> bool:
    """A text column holding numbers only ("79.5", "<5", "−2.44", "< 0.0001", "—"),
    judged on its first :data:`_ALIGN_SAMPLE` rows."""
    if series.dtype != object and str(series.dtype) not in ("str", "string"):
        return False
    sample = series.head(_ALIGN_SAMPLE)
    texts = [str(v).strip() for v in sample if isinstance(v, str)]
    if len(texts) != len(sample):
        return False
    shown = [t for t in texts if t not in ("", "—")]
    return bool(shown) and all(_NUMBER_TEXT.fullmatch(t) for t in shown)


def _right_aligned(frame: pd.DataFrame) -> dict[str, object]:
    """Column settings that right-align numbers written as text, as numbers are."""
    return {
        str(column): st.column_config.Column(alignment="right")
        for column in frame.columns
        if _numbers_as_text(frame[column])
    }


def show_table(
    frame: pd.DataFrame,
    *,
    hide_index: bool = True,
    download: tuple[str, pd.DataFrame] | None = None,
    **kwargs: object,
) -> None:
    """A read-only table, shown whole when short (so it prints and screenshots whole).

    ``download=(stem, table)`` adds CSV and XLSX buttons for ``table`` (the unrounded
    numbers behind the displayed ``frame``). Headers are shown in words and missing
    cells blank.
    """
    frame = blanks_blank(human_headers(frame, keys=False))
    height = "content" if len(frame) <= FULL_HEIGHT_ROWS else "auto"
    config = {**_right_aligned(frame), **dict(kwargs.pop("column_config", None) or {})}
    st.dataframe(
        frame,
        hide_index=hide_index,
        width="stretch",
        height=height,
        column_config=config or None,
        **kwargs,
    )
    if download is not None:
        from ui.downloads import table_buttons

        stem, table = download
        table_buttons(table, stem, stem)
