"""The long layout: one row per lab value, with lab, time and value columns.

:func:`read_long` reads each row as one lab value of one patient (excluding rows
without a patient, a lab name, a readable time or a value, summary rows and
repeated values), and gathers the patients' attributes from all their rows, which
must agree.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from analytics.cohort import STANDARD_ATTRIBUTES, empty_labs
from analytics.errors import InputError
from analytics.labs import canonical_lab, format_time, implausible, parse_time
from analytics.limits import LIMITS
from analytics.reading.attributes import cell_text
from analytics.reading.cell_columns import read_cells
from analytics.reading.cells import CellReading, classify_cell, shown
from analytics.reading.headers import MAX_HEADER_CHARS, ColumnRole
from analytics.reading.patient_table import patients_from_rows
from analytics.reading.state import ReadState, padded
from analytics.reading.summary_rows import summary_reason, summary_rows

__all__ = ["read_long"]

_MAX_ABS = float(LIMITS["max_abs_value"].value)

#: (patient, lab key, time) -> (row, value, censored) of the value read there first
_Seen = dict[tuple[str, str, float], tuple[int, float, str]]


def read_long(
    state: ReadState, roles: list[ColumnRole], data_rows: list[list[object]], first: int
) -> tuple[pd.DataFrame, pd.DataFrame, list[ColumnRole]]:
    """``(patients, labs, roles)`` from the rows below the header.

    ``first`` is the spreadsheet row number of ``data_rows[0]``.
    """
    index = _column_index(roles)
    width = len(roles)
    records: list[dict[str, object]] = []
    attribute_rows: list[tuple[int, list[object]]] = []
    seen: _Seen = {}
    conflicts: list[str] = []
    id_index = index["patient_id"]
    ids = [cell_text(row[id_index]) if len(row) > id_index else "" for row in data_rows]
    summary = summary_rows(ids)
    readings = _value_readings(state, data_rows, index["value"])
    for offset, row in enumerate(data_rows):
        number = first + offset
        state.n_rows_in += 1
        cells = padded(row, width)
        if not any(c is not None for c in row):
            state.exclude_empty(number)
            continue
        patient_id = ids[offset]
        if not patient_id:
            state.exclude(number, "no patient ID", kind="no_patient_id")
            continue
        if summary[offset]:
            state.exclude(number, summary_reason(patient_id), kind="summary_row")
            continue
        attribute_rows.append((number, cells))
        record = _lab_record(
            state, roles, index, cells, number, patient_id, seen, conflicts, readings[offset]
        )
        if record is not None:
            records.append(record)
            state.n_rows_used += 1
    if conflicts:
        raise InputError(
            "The same lab value is given twice with different results: "
            + "; ".join(conflicts[:5])
            + ". Keep one row per patient, lab and time."
        )
    if not attribute_rows:
        raise InputError("The file has a header row but no data rows below it.")
    labs = pd.DataFrame(records) if records else empty_labs()
    patients = _long_patients(state, roles, attribute_rows)
    return patients, labs, roles


def _column_index(roles: list[ColumnRole]) -> dict[str, int]:
    """role -> column index; the lab, value and time columns must all be there."""
    index = {r.role: i for i, r in enumerate(roles)}
    for needed, words in (("analyte", "lab"), ("value", "value"), ("time", "time")):
        if needed not in index:
            raise InputError(
                f"This looks like a long table (one row per lab value) but has no {words} "
                f"column. Name it '{words}' or set it in the column mapping."
            )
    return index


def _value_readings(
    state: ReadState, data_rows: list[list[object]], value_index: int
) -> list[CellReading]:
    """Every row's value cell read at once (as a wide file's lab columns are)."""
    cells = np.fromiter(
        (row[value_index] if len(row) > value_index else None for row in data_rows),
        dtype=object,
        count=len(data_rows),
    )
    return read_cells(cells, decimal_comma=state.grid.decimal_comma).readings()


#: lab names (at most MAX_HEADER_CHARS) and times as written, each read once: the same
#: few are in every row
_canonical_lab = functools.lru_cache(maxsize=4096)(canonical_lab)
_short_time = functools.lru_cache(maxsize=4096)(parse_time)


def _parse_time(token: str) -> tuple[float, str] | None:
    return _short_time(token) if len(token) <= 64 else parse_time(token)


# --------------------------------------------------------------------------- one row


def _lab_record(
    state: ReadState,
    roles: list[ColumnRole],
    index: dict[str, int],
    cells: list[object],
    number: int,
    patient_id: str,
    seen: _Seen,
    conflicts: list[str],
    value: CellReading | None = None,
) -> dict[str, object] | None:
    """The lab value of one row, or None when the row is excluded or in conflict
    (``value``: the value cell's reading, when read already)."""
    lab_text = cell_text(cells[index["analyte"]])
    if not lab_text or len(lab_text) > MAX_HEADER_CHARS:
        reason = f"lab name of {len(lab_text):,} characters" if lab_text else "no lab name"
        state.exclude(number, reason, kind="no_lab_name")
        return None
    time = _lab_time(state, cells[index["time"]], number)
    if time is None:
        return None
    column = roles[index["value"]].column
    reading = _lab_value(state, cells[index["value"]], number, column, value)
    if reading is None:
        return None
    spec = _canonical_lab(lab_text)
    key = spec.key if spec else lab_text.strip().lower()
    unit = cell_text(cells[index["unit"]]) if "unit" in index else ""
    unit = unit or reading.unit or (spec.unit if spec else "")
    censored = {"below": "<", "above": ">"}.get(reading.kind, "")
    slot = (patient_id, key, time)
    if slot in seen:
        earlier, earlier_value, earlier_censored = seen[slot]
        if earlier_value == reading.value and earlier_censored == censored:
            state.exclude(number, f"same lab value as row {earlier}", kind="duplicate_row")
            return None
        conflicts.append(
            f"patient '{patient_id}', {lab_text} at {format_time(time)}: "
            f"rows {earlier} and {number} differ"
        )
        return None
    seen[slot] = (number, reading.value, censored)
    if reading.kind == "number":
        problem = implausible(key, unit, reading.value)
        if problem:
            state.warn(f"{problem}; check the unit", number, column, kind="implausible_value")
    state.lab_names.setdefault(key, (spec.name if spec else lab_text.strip(), spec is not None))
    return {
        "patient_id": patient_id,
        "analyte": key,
        "time": time,
        "value": reading.value,
        "censored": censored,
        "unit": unit,
        "row": number,
        "column": column,
    }


def _lab_time(state: ReadState, raw_time: object, number: int) -> float | None:
    """The row's time in months, or None (the row excluded) when it is not recognised."""
    parsed = (
        (float(raw_time), "")
        if isinstance(raw_time, (int, float)) and not isinstance(raw_time, bool)
        else _parse_time(cell_text(raw_time))
    )
    if parsed is None or not abs(parsed[0]) <= _MAX_ABS:  # also NaN and infinity
        state.exclude(
            number,
            f"time '{shown(cell_text(raw_time))}' not recognised",
            kind="time_not_recognised",
        )
        return None
    return parsed[0]


def _lab_value(
    state: ReadState, raw: object, number: int, column: str, reading: CellReading | None = None
) -> CellReading | None:
    """The row's value (a number or censored), or None (the row excluded) when there is none
    (``reading``: ``raw`` read already)."""
    if reading is None:
        reading = classify_cell(raw, decimal_comma=state.grid.decimal_comma)
    if reading.is_value:
        return reading
    if reading.kind in ("error", "invalid"):
        state.warn(reading.message, number, column, kind=reading.problem)
        state.exclude(
            number,
            f"lab value not readable: {reading.message}",
            kind="lab_value_not_readable",
        )
    else:
        state.exclude(number, "no lab value (empty or N/A)", kind="no_lab_value")
    return None


# --------------------------------------------------------------------------- patients


def _long_patients(
    state: ReadState, roles: list[ColumnRole], attribute_rows: list[tuple[int, list[object]]]
) -> pd.DataFrame:
    """One row per patient: each attribute's first non-empty value over the patient's rows."""
    frame = pd.DataFrame(
        [cells for _, cells in attribute_rows],
        columns=[r.column for r in roles],
        index=pd.Index([n for n, _ in attribute_rows], name="row"),
        dtype=object,
    )
    id_column = next(r.column for r in roles if r.role == "patient_id")
    frame["_id"] = [cell_text(v) for v in frame[id_column]]
    first_rows = frame.groupby("_id", sort=False).head(1)
    conflicts = _attribute_conflicts(frame, roles)
    if conflicts:
        raise InputError(
            "A patient's attributes differ between rows: " + "; ".join(conflicts[:5]) + "."
        )
    # the first non-empty value per patient and column
    filled = frame.replace({None: np.nan}).groupby("_id", sort=False).first()
    filled = filled.reindex(first_rows["_id"]).astype(object)
    filled = filled.where(pd.notna(filled), None)
    filled.index = pd.Index(first_rows.index, name="row")
    filled[id_column] = first_rows["_id"].to_numpy()
    return patients_from_rows(state, filled, roles)


def _attribute_conflicts(frame: pd.DataFrame, roles: list[ColumnRole]) -> list[str]:
    """Each patient and attribute column with different values in different rows."""
    attribute_roles = [
        r for r in roles if r.role in STANDARD_ATTRIBUTES or r.role in ("attribute",)
    ]
    conflicts = []
    for role in attribute_roles:
        texts = frame[role.column].map(cell_text)
        for patient_id, values in texts.groupby(frame["_id"], sort=False):
            distinct = {v for v in values if v}
            if len(distinct) > 1:
                conflicts.append(
                    f"patient '{patient_id}' has different {role.describe()} values "
                    f"({', '.join(sorted(distinct)[:3])}) in column '{role.column}'"
                )
    return conflicts
