"""Each dated result's day since its patient's start date, or why it has none.

:func:`result_days` reads the collection dates and the start dates together (one
day/month order for the file, see :mod:`analytics.reading.dates`), and gives every
result its day (the start day is day 0), its time of day, and, for a result that
cannot be windowed, the reason: no collection date, a date that cannot be read, no
start date for the patient, or the same result given twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.reading.dates import read_dates, settle_order
from analytics.reading.state import ReadState

__all__ = ["ResultDays", "result_days"]


@dataclass(frozen=True)
class ResultDays:
    """Per result: ``day`` since the start and ``seconds`` (time of day, -1 if none);
    ``day_known`` where both dates were read; ``windowable`` for the results that go to
    the windows; ``outcome`` (the kind of exclusion, ``""`` for a windowable result) and
    ``reason``. ``order`` and ``order_note``: the day/month order and how it was settled."""

    day: np.ndarray
    seconds: np.ndarray
    day_known: np.ndarray
    windowable: np.ndarray
    outcome: list[str]
    reason: list[str]
    order: str
    order_note: str


def result_days(
    state: ReadState,
    results: pd.DataFrame,
    anchors: pd.Series,
    date_column: str,
    anchor_column: str,
    chosen_order: str = "",
) -> ResultDays:
    """The days of ``results`` (see :func:`analytics.reading.dated.read_dated`) since the
    start dates ``anchors`` (raw cells, indexed by patient ID)."""
    anchors = anchors[[value is not None and value == value for value in anchors]]
    order, note, (date_tokens, anchor_tokens) = settle_order(
        [
            (date_column, results["row"].to_numpy(), results["date"].to_numpy()),
            (anchor_column, [f"patient '{p}'" for p in anchors.index], anchors.to_numpy()),
        ],
        chosen_order,
    )
    dates = read_dates(date_tokens, order)
    starts = read_dates(anchor_tokens, order)
    start_day = _start_days(state, anchors.index, starts, anchor_column)
    n = len(results)
    outcome, reason = [""] * n, [""] * n
    rows = results["row"].to_numpy()
    bad = [i for i, problem in enumerate(dates.problem) if problem]
    state.issues.add_many(
        "warning",
        "date_not_recognised",
        date_column,
        rows[bad],
        lambda i: f"collection date not readable: {dates.problem[bad[i]]}",
    )
    for i in bad:
        outcome[i] = "date_not_recognised"
        reason[i] = f"collection date not readable: {dates.problem[i]}"
    for i in np.flatnonzero(dates.empty):
        outcome[i], reason[i] = "no_collection_date", "no collection date"
    patient_start = results["patient_id"].map(start_day).to_numpy(dtype=float)
    _no_start(state, results, patient_start, outcome, reason, anchor_column)
    known = (dates.day >= 0) & ~np.isnan(patient_start)
    day = np.where(known, dates.day - np.nan_to_num(patient_start).astype(np.int64), 0)
    _duplicates(results, day, dates.seconds, known, outcome, reason)
    windowable = np.array([not kind for kind in outcome], dtype=bool) & known
    return ResultDays(day, dates.seconds, known, windowable, outcome, reason, order, note)


def _start_days(state: ReadState, patients: pd.Index, starts, anchor_column: str) -> pd.Series:
    """Each patient's start as an ordinal day; a warning for a start date that is not one."""
    for patient, problem in zip(patients, starts.problem, strict=True):
        if problem:
            state.warn(
                f"the start date of patient '{patient}' is not readable: {problem}",
                column=anchor_column,
                kind="start_date_not_readable",
            )
    day = pd.Series(starts.day, index=patients, dtype=np.int64)
    return day[day >= 0].astype(float)


def _no_start(
    state: ReadState,
    results: pd.DataFrame,
    patient_start: np.ndarray,
    outcome: list[str],
    reason: list[str],
    anchor_column: str,
) -> None:
    """Results of patients without a start date: excluded, one warning per patient."""
    missing = np.isnan(patient_start)
    if not missing.any():
        return
    ids = results["patient_id"].to_numpy()
    for i in np.flatnonzero(missing):
        if not outcome[i]:
            outcome[i] = "no_start_date"
            reason[i] = f"no start date for patient '{ids[i]}'"
    for patient, n in pd.Series(ids[missing]).value_counts(sort=False).items():
        state.warn(
            f"patient '{patient}' has no start date: "
            f"{n} {'result is' if n == 1 else 'results are'} not used",
            column=anchor_column,
            kind="no_start_date",
        )


def _duplicates(
    results: pd.DataFrame,
    day: np.ndarray,
    seconds: np.ndarray,
    known: np.ndarray,
    outcome: list[str],
    reason: list[str],
) -> None:
    """The same result (patient, lab, day, time, value) given again: excluded as such."""
    keyed = pd.DataFrame(
        {
            "patient_id": results["patient_id"].to_numpy(),
            "analyte": results["analyte"].to_numpy(),
            "day": day,
            "seconds": seconds,
            "value": results["value"].to_numpy(dtype=float),
            "censored": results["censored"].to_numpy(),
            "row": results["row"].to_numpy(),
        }
    )[known]
    keys = ["patient_id", "analyte", "day", "seconds", "value", "censored"]
    repeated = keyed.duplicated(keys, keep="first")
    if not repeated.any():
        return
    first_row = keyed.groupby(keys, sort=False)["row"].transform("first")
    for position in np.flatnonzero(repeated.to_numpy()):
        i = keyed.index[position]
        if not outcome[i]:
            outcome[i] = "duplicate_row"
            reason[i] = f"same lab value as row {first_row.iloc[position]}"
