"""The patients table: one row per patient, with its attribute cells read.

The wide layout, the long layout and the attribute sheets all end here: given the
rows kept for the patients, :func:`patients_from_rows` reads each attribute column
(sex, age, age group, yes/no, text) and records every cell it could not read.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.cohort import STANDARD_ATTRIBUTES
from analytics.reading.attributes import (
    cell_texts,
    parse_age_group,
    parse_sex,
    parse_text,
    parse_yes_no,
    read_age,
)
from analytics.reading.headers import ColumnRole
from analytics.reading.state import ReadState

__all__ = ["ANCHOR", "patients_from_rows"]

#: The patients table's column of raw start-date cells (dated results), read by
#: analytics.reading.dated and removed before the cohort is built.
ANCHOR = "_anchor"


def _age_reading(raw: object) -> tuple[float | None, str, str]:
    """``(age, problem, kind)`` as the attribute parsers return them."""
    value, kind, problem = read_age(raw)
    return value, problem, kind


#: role -> parser of one cell, giving ``(value, problem, kind of problem)``
_PARSERS = {
    "sex": lambda raw: (*parse_sex(raw), "sex_not_recognised"),
    "age": _age_reading,
    "age_group": lambda raw: (*parse_age_group(raw), "age_group_not_recognised"),
    "iron": lambda raw: (*parse_yes_no(raw, "iron therapy"), "yes_no_not_recognised"),
    "epo": lambda raw: (*parse_yes_no(raw, "Epo"), "yes_no_not_recognised"),
}


def patients_from_rows(
    state: ReadState, frame: pd.DataFrame, roles: list[ColumnRole]
) -> pd.DataFrame:
    """One row per patient of ``frame`` (its raw cells), indexed by patient ID.

    The columns are the :data:`~analytics.cohort.STANDARD_ATTRIBUTES`, then the
    file's other attribute columns under their header text.
    """
    id_column = next(r.column for r in roles if r.role == "patient_id")
    ids = cell_texts(frame[id_column].to_numpy(dtype=object))
    index = pd.Index(ids, name="patient_id")
    columns: dict[str, pd.Series] = {
        name: pd.Series([None] * len(ids), index=index, dtype=object)
        for name in STANDARD_ATTRIBUTES
    }
    for role in roles:
        if role.role in STANDARD_ATTRIBUTES:
            parsed = _parse_attribute(state, role, frame[role.column]).to_numpy()
            columns[role.role] = pd.Series(parsed, index=index, dtype=object)
        elif role.role == "attribute":
            values = [parse_text(v) for v in frame[role.column]]
            columns[role.column] = pd.Series(values, index=index, dtype=object)
        elif role.role == "anchor":  # dates are read with the collection dates
            columns[ANCHOR] = pd.Series(list(frame[role.column]), index=index, dtype=object)
    patients = pd.DataFrame(columns, index=index)  # one frame, not one insert per column
    patients["age"] = pd.to_numeric(patients["age"], errors="coerce").astype(float)
    return patients


def _parse_attribute(state: ReadState, role: ColumnRole, cells: pd.Series) -> pd.Series:
    """Read one attribute column; a warning for each cell that is not recognised."""
    parser = _PARSERS.get(role.role)
    values = cells.to_numpy(dtype=object)
    codes, distinct = _distinct(values)
    if parser is None:
        texts = [parse_text(v) for v in distinct]
        if role.role == "cohort":  # as written; "CBT" and "cbt" are one cohort, first spelling
            first: dict[str, str] = {}
            # the first spelling in the column's order: the distinct cells are in that order
            texts = [first.setdefault(v.casefold(), v) if v else v for v in texts]
        return pd.Series(_take(texts, codes), index=cells.index, dtype=object)
    results = [parser(raw) for raw in distinct]
    problems: dict[str, list[int]] = {}
    for code, (_value, problem, kind) in enumerate(results):
        if problem:
            problems.setdefault(kind, []).append(code)
    rows = cells.index.to_numpy()
    for kind, bad in problems.items():
        at = np.flatnonzero(np.isin(codes, bad))  # in the column's order
        messages = [results[code][1] for code in codes[at]]
        state.issues.add_many("warning", kind, role.column, rows[at], messages.__getitem__)
    return pd.Series(_take([r[0] for r in results], codes), index=cells.index, dtype=object)


def _distinct(values: np.ndarray) -> tuple[np.ndarray, list[object]]:
    """Codes into the distinct cells, in the order they first appear.

    Cells are the same only when they have the same type too (``True`` and ``1`` read
    differently), so a column of several types is coded by (type, cell).
    """
    types = set(map(type, values))
    if len(types - {type(None)}) <= 1:
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
        return codes, list(uniques)
    keyed: dict[tuple[type, object], int] = {}
    codes = np.array([keyed.setdefault((type(v), v), len(keyed)) for v in values], dtype=np.intp)
    return codes, [v for _, v in keyed]


def _take(values: list[object], codes: np.ndarray) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out[codes]
