"""Patient attributes from the workbook's other sheets.

A workbook may hold the lab values on one sheet and the patients (sex, age ...) on
another. :func:`merge_attribute_sheets` looks at each other sheet's first rows for a
header with a patient-ID column and attributes the cohort does not have yet (and no
lab columns), reads the sheet's patient rows and merges them into the patients table.
Every row of such a sheet is accounted for like a row of the main sheet.
"""

from __future__ import annotations

import pandas as pd

from analytics.cohort import STANDARD_ATTRIBUTES
from analytics.errors import InputError
from analytics.limits import LIMITS
from analytics.reading.attributes import cell_text
from analytics.reading.header_row import column_letter, find_header
from analytics.reading.headers import ColumnRole, recognise_header
from analytics.reading.patient_table import ANCHOR, patients_from_rows
from analytics.reading.state import ReadState, padded
from analytics.reading.summary_rows import summary_reason, summary_rows

__all__ = ["merge_attribute_sheets", "merge_sheet", "sheet_role"]


def merge_attribute_sheets(state: ReadState, patients: pd.DataFrame) -> pd.DataFrame:
    """``patients`` with the attributes found on the workbook's other sheets added."""
    known = {c for c in patients.columns if patients[c].notna().any()}
    search_rows = int(LIMITS["header_search_rows"].value)
    # the other sheets are read lazily: first only the rows where a header can be
    for name in state.grid.other_sheets:
        try:
            head = state.grid.other_sheet_head(name, search_rows)
        except InputError as error:
            state.warn(f"the sheet '{name}' was not read: {error}", kind="sheet_not_read")
            continue
        found = _attribute_header(state, head, known)
        if found is None:
            continue
        header_index, roles = found
        try:
            rows = state.grid.other_sheets[name]
        except InputError as error:
            state.warn(
                f"patient attributes on the sheet '{name}' were not read: {error}",
                kind="sheet_not_read",
            )
            continue
        patients = merge_sheet(state, name, rows, header_index, roles, patients)
    return patients


def sheet_role(state: ReadState, header: str) -> ColumnRole:
    """How a column of another sheet (or file) is read: a start date only for dated results."""
    role = recognise_header(header)
    if state.dated and (header == state.anchor_column or role.role == "anchor"):
        return ColumnRole(header, "anchor")
    if role.role in ("date", "anchor"):
        return ColumnRole(header, "attribute")
    return role


def _attribute_header(
    state: ReadState, head: list[list[object]], known: set[str]
) -> tuple[int, list[ColumnRole]] | None:
    """``(header index, roles)`` when the sheet's first rows head a table of new attributes
    (or of the start dates of dated results)."""
    if not head or not any(any(c is not None for c in r) for r in head):
        return None
    try:
        header_index = find_header(head, {})
    except InputError:
        return None
    headers = [
        cell_text(c) or f"column {column_letter(i)}" for i, c in enumerate(head[header_index])
    ]
    roles = [sheet_role(state, h) for h in headers]
    kinds = {r.role for r in roles}
    if "patient_id" not in kinds or kinds & {"lab", "analyte", "value"}:
        return None
    useful = [
        r
        for r in roles
        if (r.role in STANDARD_ATTRIBUTES and r.role not in known)
        or (r.role == "anchor" and ANCHOR not in known)
    ]
    if not useful:
        return None
    return header_index, roles


def merge_sheet(
    state: ReadState,
    name: str,
    rows: list[list[object]],
    header_index: int,
    roles: list[ColumnRole],
    patients: pd.DataFrame,
) -> pd.DataFrame:
    """Read the sheet's patient rows and merge their attributes into ``patients``."""
    kept, numbers = _sheet_rows(state, name, rows, header_index, roles)
    frame = pd.DataFrame(
        kept, columns=[r.column for r in roles], index=pd.Index(numbers), dtype=object
    )
    attributes = patients_from_rows(state, frame, roles)
    state.anchor_sources += [(r.column, name) for r in roles if r.role == "anchor"]
    state.note(
        f"patient attributes read from sheet '{name}' ({len(attributes)} patients)",
        kind="attributes_from_sheet",
    )
    merged = patients.combine_first(attributes) if len(patients) else attributes
    order = list(patients.index) + [p for p in attributes.index if p not in patients.index]
    missing = [p for p in attributes.index if p not in patients.index]
    if missing:
        state.note(
            f"{len(missing)} patients on sheet '{name}' have no lab values: "
            + ", ".join(missing[:10]),
            kind="patients_without_labs",
        )
    columns = list(patients.columns) + [c for c in merged.columns if c not in patients.columns]
    return merged.reindex(index=order, columns=columns)


def _sheet_rows(
    state: ReadState,
    name: str,
    rows: list[list[object]],
    header_index: int,
    roles: list[ColumnRole],
) -> tuple[list[list[object]], list[int]]:
    """The sheet's rows kept as patients (the first row of each) and their row numbers."""
    width = len(roles)
    id_index = next(i for i, r in enumerate(roles) if r.role == "patient_id")
    kept: list[list[object]] = []
    numbers: list[int] = []
    kept_ids: set[str] = set()
    ids = [cell_text(r[id_index]) if len(r) > id_index else "" for r in rows]
    summary = [False] * (header_index + 1) + summary_rows(ids[header_index + 1 :])
    for index in range(len(rows)):
        if index == header_index:
            continue
        number = index + 1
        state.n_rows_in += 1
        cells = padded(rows[index], width)
        if index < header_index:
            state.exclude(number, "above the header row", sheet=name, kind="above_header")
        elif not any(c is not None for c in cells):
            state.exclude(number, "empty row", sheet=name, kind="empty_row")
        elif not ids[index]:
            state.exclude(number, "no patient ID", sheet=name, kind="no_patient_id")
        elif summary[index]:
            state.exclude(number, summary_reason(ids[index]), sheet=name, kind="summary_row")
        elif ids[index] in kept_ids:
            state.exclude(
                number,
                "patient already listed above on this sheet",
                sheet=name,
                kind="duplicate_row",
            )
        else:
            kept_ids.add(ids[index])
            kept.append(cells)
            numbers.append(number)
            state.n_rows_used += 1
    return kept, numbers
