"""The wide layout: one row per patient, one column per lab and time (``MCV 0``, ``Hb 2mo``).

:func:`read_wide` keeps one row per patient (excluding empty rows, summary rows,
rows with cells beyond the header and exact duplicates), reads the attribute
columns into the patients table and every lab column cell by cell into the labs
table, reporting each cell that is missing, censored, unreadable or implausible.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pyarrow as pa

from analytics.cohort import empty_labs
from analytics.errors import InputError
from analytics.labs import format_time, implausible, normalise_unit, plausible_range
from analytics.reading.attributes import cell_text, cell_texts
from analytics.reading.cell_columns import (
    ABOVE,
    BELOW,
    EMPTY,
    ERROR,
    INVALID,
    NOT_AVAILABLE,
    NUMBER,
    CellColumn,
    read_cells,
    read_table,
)
from analytics.reading.headers import ColumnRole
from analytics.reading.patient_table import patients_from_rows
from analytics.reading.state import ReadState, padded
from analytics.reading.summary_rows import summary_reason, summary_rows

__all__ = ["read_wide"]

_MAX_LISTED_ROWS = 12
#: Cells read at once beyond which pyarrow's pool hands back the memory it freed (for
#: fewer, it holds a few MB, and taking them again from the system costs more time)
RELEASE_AFTER_CELLS = 1_000_000


def read_wide(
    state: ReadState, roles: list[ColumnRole], data_rows: list[list[object]], first: int
) -> tuple[pd.DataFrame, pd.DataFrame, list[ColumnRole]]:
    """``(patients, labs, roles)`` from the rows below the header.

    ``first`` is the spreadsheet row number of ``data_rows[0]``. The roles come back
    with lab columns that hold no lab values read as attributes instead.
    """
    used_rows, used_numbers = _patient_rows(state, roles, data_rows, first)
    state.n_rows_used += len(used_rows)
    frame = pd.DataFrame(
        used_rows,
        columns=[r.column for r in roles],
        index=pd.Index(used_numbers, name="row"),
        dtype=object,
    )
    del used_rows
    readings = _read_lab_columns(state, roles, frame)
    roles = _demote_non_numeric_labs(state, roles, frame, readings)
    patients = patients_from_rows(state, frame, roles)
    labs = _wide_labs(state, roles, readings, frame.index.to_numpy(), patients.index)
    return patients, labs, roles


# --------------------------------------------------------------------------- rows


def _patient_rows(
    state: ReadState, roles: list[ColumnRole], data_rows: list[list[object]], first: int
) -> tuple[list[list[object]], list[int]]:
    """The rows kept as patients (padded to the header's width) and their row numbers."""
    width = len(roles)
    id_index = next(i for i, r in enumerate(roles) if r.role == "patient_id")
    id_column = roles[id_index].column
    used_rows: list[list[object]] = []
    used_numbers: list[int] = []
    first_seen: dict[str, tuple[int, list[object]]] = {}
    conflicts: list[str] = []
    ids = cell_texts([row[id_index] if len(row) > id_index else None for row in data_rows])
    summary = summary_rows(ids)
    state.n_rows_in += len(data_rows)
    for offset, row in enumerate(data_rows):
        number = first + offset
        length = len(row)
        # empty: list.count, no Python call per cell (and not needed with an ID there)
        if (length <= id_index or row[id_index] is None) and row.count(None) == length:
            state.exclude_empty(number)
            continue
        patient_id = ids[offset]
        if summary[offset]:
            state.exclude(number, summary_reason(patient_id), kind="summary_row")
            continue
        if length > width:
            extra = [c for c in row[width:] if c is not None]
            if extra:
                state.exclude(number, _extra_cells_reason(extra), kind="extra_cells")
                continue
        cells = row if length == width else padded(row, width)
        if not patient_id:
            state.exclude(number, f"no patient ID in column '{id_column}'", kind="no_patient_id")
            continue
        if patient_id in first_seen:
            conflict = _repeated_patient(state, roles, patient_id, number, cells, first_seen)
            if conflict:
                conflicts.append(conflict)
            continue
        first_seen[patient_id] = (number, cells)
        used_rows.append(cells)
        used_numbers.append(number)
    if conflicts:
        listed = "; ".join(conflicts[:5])
        more = f" and {len(conflicts) - 5} more" if len(conflicts) > 5 else ""
        raise InputError(
            f"Duplicate patient IDs with conflicting values: {listed}{more}. "
            "Keep one row per patient (or give the rows different IDs)."
        )
    if not used_rows:
        raise InputError("The file has a header row but no patient rows below it.")
    return used_rows, used_numbers


def _extra_cells_reason(extra: list[object]) -> str:
    shown = ", ".join(cell_text(c) for c in extra[:3])
    return (
        f"more cells than the header has columns (extra: {shown}); the cells may "
        "be shifted, for example by an unquoted decimal comma"
    )


def _repeated_patient(
    state: ReadState,
    roles: list[ColumnRole],
    patient_id: str,
    number: int,
    cells: list[object],
    first_seen: dict[str, tuple[int, list[object]]],
) -> str:
    """A second row of a patient: excluded if an exact duplicate, else the conflict."""
    earlier, earlier_cells = first_seen[patient_id]
    signature = [cell_text(c) for c in cells]
    earlier_signature = [cell_text(c) for c in earlier_cells]
    if earlier_signature == signature:
        state.exclude(
            number,
            f"exact duplicate of row {earlier} (patient {patient_id})",
            kind="duplicate_row",
        )
        return ""
    differing = [roles[i].column for i in range(len(roles)) if earlier_signature[i] != signature[i]]
    return (
        f"patient '{patient_id}' is in rows {earlier} and {number} with different "
        f"values (columns: {', '.join(differing[:4])})"
    )


# --------------------------------------------------------------------------- lab columns


def _read_lab_columns(
    state: ReadState, roles: list[ColumnRole], frame: pd.DataFrame
) -> dict[str, CellColumn]:
    """Every lab column's cells read at once (one pass over all of them, then split)."""
    columns = [r.column for r in roles if r.role == "lab"]
    if not columns:
        return {}
    n = len(frame)
    # the lab cells row by row in memory, taken from the frame's cells in one copy
    at = frame.columns.get_indexer(columns)
    table = np.take(frame.to_numpy(dtype=object), at, axis=1)
    read = read_table(table, decimal_comma=state.grid.decimal_comma)
    if table.size >= RELEASE_AFTER_CELLS:
        # pyarrow's memory pool keeps what it freed a while: handed back now, so that
        # the peak memory of the steps after is the data's (at 100,000 rows, tens of MB)
        pa.default_memory_pool().release_unused()
    return {column: read.part(i * n, (i + 1) * n) for i, column in enumerate(columns)}


def _demote_non_numeric_labs(
    state: ReadState,
    roles: list[ColumnRole],
    frame: pd.DataFrame,
    readings: dict[str, CellColumn],
) -> list[ColumnRole]:
    """The roles, with unknown lab columns that hold few values and repeated labs as attributes."""
    out = []
    seen: dict[tuple[str, float], str] = {}
    for role in roles:
        if role.role == "lab" and not role.known_lab and role.source != "set by you":
            # the share of values is judged with a decimal point, whatever the file
            kinds = (
                read_cells(frame[role.column].to_numpy(dtype=object)).kind
                if state.grid.decimal_comma
                else readings[role.column].kind
            )
            filled = int(np.count_nonzero(kinds != EMPTY))
            values = int(np.count_nonzero((kinds == NUMBER) | (kinds == BELOW) | (kinds == ABOVE)))
            if filled == 0 or values / filled < 0.5:
                role = ColumnRole(role.column, "attribute")
            else:
                state.note(
                    f"read as lab '{role.lab_name}' at {format_time(role.time or 0)}; "
                    "correct it in the column mapping if that is wrong",
                    column=role.column,
                    kind="lab_name_not_known",
                )
        if role.role == "lab":
            slot = (role.lab_key, float(role.time or 0.0))
            if slot in seen:
                state.warn(
                    f"{role.describe()} is also in column '{seen[slot]}'; this column was "
                    "kept as an attribute, not as lab values",
                    column=role.column,
                    kind="lab_column_repeated",
                )
                role = ColumnRole(role.column, "attribute")
            else:
                seen[slot] = role.column
        out.append(role)
    return out


def _wide_labs(
    state: ReadState,
    roles: list[ColumnRole],
    readings: dict[str, CellColumn],
    rows: np.ndarray,
    patient_ids: pd.Index,
) -> pd.DataFrame:
    """The labs table: one row per value of every lab column (``rows``: their row numbers)."""
    # gathered as arrays, made into one frame at the end: each text column is taken
    # from a few distinct texts (converting millions of cells one by one costs seconds)
    positions, values, censored = [], [], []
    per_column: list[tuple[str, float, str, str]] = []
    for role in roles:
        if role.role != "lab":
            continue
        read = readings[role.column]
        unit = _column_unit(state, role, read, rows)
        _report_cells(state, read, rows, role.column, role.lab_key, unit)
        kinds = read.kind
        keep = np.flatnonzero((kinds == NUMBER) | (kinds == BELOW) | (kinds == ABOVE))
        if not len(keep):
            continue
        kinds = kinds[keep]
        positions.append(keep.astype(np.int32))  # under max_rows: int32 is enough
        values.append(read.value[keep])
        censored.append((kinds == BELOW) * np.int8(1) + (kinds == ABOVE) * np.int8(2))
        per_column.append((role.lab_key, float(role.time or 0.0), unit, role.column))
        state.lab_names.setdefault(role.lab_key, (role.lab_name, role.known_lab))
    if not per_column:
        return empty_labs()
    which = np.repeat(np.arange(len(per_column), dtype=np.int32), [len(p) for p in positions])
    at = np.concatenate(positions)

    def texts(distinct: list[str], codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
        return pd.array(np.array(distinct, dtype=object), dtype="str").take(codes)

    return pd.DataFrame(
        {
            "patient_id": pd.array(patient_ids, dtype="str").take(at),
            "analyte": texts([c[0] for c in per_column], which),
            "time": np.array([c[1] for c in per_column], dtype=float)[which],
            "value": np.concatenate(values),
            "censored": texts(["", "<", ">"], np.concatenate(censored)),
            "unit": texts([c[2] for c in per_column], which),
            "row": rows[at].astype(np.int64),
            "column": texts([c[3] for c in per_column], which),
        }
    )


def _column_unit(state: ReadState, role: ColumnRole, read: CellColumn, rows: np.ndarray) -> str:
    """The column's unit: from its header, else the one most cells write."""
    written = read.unit != ""
    cell_units = read.unit[written]
    if not len(cell_units):
        return role.unit
    if not role.unit:
        unit = Counter(cell_units).most_common(1)[0][0]
        state.note(
            f"unit '{unit}' taken from the cells", column=role.column, kind="unit_from_cells"
        )
        return unit
    wanted = normalise_unit(role.unit)
    differs = {u: normalise_unit(u) != wanted for u in pd.unique(cell_units)}
    odd = np.array([differs[u] for u in cell_units], dtype=bool)
    odd_units, odd_rows = cell_units[odd], rows[read.at[written][odd]]
    state.issues.add_many(
        "warning",
        "unit_differs",
        role.column,
        odd_rows,
        lambda i: (
            f"the cell says '{odd_units[i]}' but the column's unit is '{role.unit}'; "
            "the value was kept as written, not converted"
        ),
    )
    return role.unit


# --------------------------------------------------------------------------- cell reports


def _report_cells(
    state: ReadState, read: CellColumn, rows: np.ndarray, column: str, analyte: str, unit: str
) -> None:
    """Report the column's unreadable, missing, censored and implausible cells.

    Only the flagged cells are looked at (``read.at``): plain numbers are never visited.
    """
    flagged = read.kind[read.at]
    where = rows[read.at]
    _report_unreadable(state, read, flagged, where, column)
    for code, label, issue_kind in (
        (NOT_AVAILABLE, "read as missing", "read_as_missing"),
        (BELOW, "kept as censored values below the detection limit", "censored_below"),
        (ABOVE, "kept as censored values above the measuring range", "censored_above"),
    ):
        at = np.flatnonzero(flagged == code)
        if len(at):
            _note_texts(state, read.raw[at], where[at], column, label, issue_kind)
    numbers = read.kind == NUMBER
    _report_implausible(state, read.value, numbers, rows, column, analyte, unit)


def _report_unreadable(
    state: ReadState, read: CellColumn, flagged: np.ndarray, where: np.ndarray, column: str
) -> None:
    """A warning for each cell that is a spreadsheet error or not a value."""
    unreadable = np.flatnonzero((flagged == ERROR) | (flagged == INVALID))
    if not len(unreadable):
        return
    codes, problems = pd.factorize(read.problem[unreadable])  # in the order first found
    messages = read.message[unreadable]
    for code, problem in enumerate(problems):
        at = np.flatnonzero(codes == code)
        state.issues.add_many(
            "warning",
            problem,
            column,
            where[unreadable[at]],
            lambda i, at=at: messages[at[i]],
        )


def _note_texts(
    state: ReadState,
    texts: np.ndarray,
    rows: np.ndarray,
    column: str,
    label: str,
    issue_kind: str,
) -> None:
    """One note per distinct text (at these rows), in the order of the texts.

    The texts are told apart by codes (each distinct text compared once), and only the
    notes kept whole are written; the others are counted.
    """
    codes, distinct = pd.factorize(texts)
    by_text = np.argsort(distinct, kind="stable")
    rank = np.empty(len(distinct), dtype=np.intp)
    rank[by_text] = np.arange(len(distinct))
    ranks = rank[codes]
    where = rows[np.argsort(ranks, kind="stable")]  # by text, rows in their order
    ends = np.cumsum(np.bincount(ranks, minlength=len(distinct)))
    kept = min(state.issues.room("note", issue_kind, column), len(distinct))
    for i in range(kept):
        start, end, raw = (int(ends[i - 1]) if i else 0), int(ends[i]), distinct[by_text[i]]
        if end - start == 1:
            state.note(f"'{raw}' {label}", int(where[start]), column, kind=issue_kind)
            continue
        listed = ", ".join(str(r) for r in where[start : min(end, start + _MAX_LISTED_ROWS)])
        more = end - start - _MAX_LISTED_ROWS
        listed += f" and {more} more" if more > 0 else ""
        state.note(f"'{raw}' {label} (rows {listed})", column=column, kind=issue_kind)
    state.issues.count_more("note", issue_kind, column, len(distinct) - kept)


def _report_implausible(
    state: ReadState,
    values: np.ndarray,
    numbers: np.ndarray,
    rows: np.ndarray,
    column: str,
    analyte: str,
    unit: str,
) -> None:
    """Warn of numbers outside the lab's plausible range, and of fractions for TSAT."""
    bounds = plausible_range(analyte, unit)
    if bounds is not None:
        outside = np.flatnonzero(numbers & ((values < bounds[0]) | (values > bounds[1])))
        state.issues.add_many(
            "warning",
            "implausible_value",
            column,
            rows[outside],
            lambda i: (
                f"{implausible(analyte, unit, float(values[outside[i]]))}; "
                "check the unit and the column"
            ),
        )
    if analyte == "tsat" and numbers.sum() >= 3 and (values[numbers] <= 1).all():
        state.warn(
            "every value is 1 or less: these look like fractions, not percentages "
            "(multiply by 100); values were not converted",
            column=column,
            kind="fractions_not_percentages",
        )
