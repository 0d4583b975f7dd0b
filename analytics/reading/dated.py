"""Dated results: a long table with a collection date per result and no time column.

This is what a hospital system exports: one row per result, with the test's name
(``HGB``, ``FERRITIN, SERUM``, ``% SATURATION``), the result, a unit, the collection
date and a patient ID. Each patient also needs a start date (day 0): a column of the
same sheet (``sirolimus start``, ``start date``, ``index date`` …, or the one named
with ``--anchor``), a column of another sheet with one row per patient, or a second
file of that shape. The results are placed on the days since the start and windowed
into time points (:mod:`analytics.reading.window_rules`, :mod:`analytics.reading.windows`).

:func:`read_dated` reads the rows (the same exclusions as the long layout: no
patient, no lab name, no value, summary rows) and keeps each result's date cell;
:func:`window_dated`, once the other sheets are merged, reads the dates (settling the
day/month order, see :mod:`analytics.reading.dates`), the start dates, and windows the
results. Every result row is either used at a time point or excluded with its reason.
Columns whose values differ between a patient's rows (a flag, a reference range, an
order number) are read as part of each result and left out, with a note, instead of
refusing the file.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping

import numpy as np
import pandas as pd

from analytics.errors import InputError, NeedsAnswer
from analytics.labs import LABS, Lab, canonical_lab, implausible
from analytics.reading.attribute_sheets import merge_sheet, sheet_role
from analytics.reading.attributes import cell_text
from analytics.reading.header_row import column_letter, find_header
from analytics.reading.headers import MAX_HEADER_CHARS, ColumnRole, role_text
from analytics.reading.long import _lab_value, _long_patients
from analytics.reading.patient_table import ANCHOR
from analytics.reading.result_days import result_days
from analytics.reading.state import ReadState, padded
from analytics.reading.summary_rows import summary_reason, summary_rows
from analytics.reading.upload import read_grid
from analytics.reading.window_rules import VisitWindows
from analytics.reading.windows import OUTCOMES, WindowedResults, assign_windows, reasons

__all__ = ["hospital_lab", "is_dated", "prepare_dated", "read_dated", "window_dated"]

#: Specimen and method words hospital systems add to a test's name (``FERRITIN, SERUM``).
_QUALIFIERS = frozenset(
    [
        "serum",
        "plasma",
        "blood",
        "whole",
        "venous",
        "ser",
        "plas",
        "bld",
        "level",
        "levels",
        "test",
        "result",
        "auto",
        "automated",
        "calculated",
        "calc",
        "measured",
        "quantitative",
        "quant",
    ]
)
_BRACKETS_RE = re.compile(r"[\(\[]([^\(\)\[\]]*)[\)\]]")
#: Headers of what hospital systems export with each result, never a patient attribute.
_PER_RESULT_HEADERS = frozenset(
    [
        "flag",
        "abnormal flag",
        "abnormal",
        "reference range",
        "ref range",
        "normal range",
        "range",
        "comment",
        "comments",
        "result comment",
        "status",
        "result status",
        "order",
        "order number",
        "order id",
        "accession",
        "accession number",
        "specimen",
        "specimen type",
        "specimen id",
        "sample id",
        "performing lab",
        "ordering provider",
        "ordered by",
        "encounter",
        "encounter id",
        "loinc",
        "test code",
        "method",
        "result time",
        "resulted",
    ]
)


def hospital_lab(name: str) -> Lab | None:
    """The catalogue's lab for a test name as hospital systems write it, or None.

    The name as it is, then without brackets and specimen words, then each bracketed
    part (``Hemoglobin (HGB)``).

    Examples
    --------
    >>> [hospital_lab(n).key for n in ("HGB", "FERRITIN, SERUM", "% SATURATION", "HEPCIDIN-25")]
    ['hgb', 'ferritin', 'tsat', 'hepcidin']
    >>> hospital_lab("Hemoglobin (Hgb)").key, hospital_lab("SODIUM") is None
    ('hgb', True)
    """
    spec = canonical_lab(name)
    if spec is not None or len(name) > MAX_HEADER_CHARS:
        return spec
    inner = _BRACKETS_RE.findall(name)
    outer = _BRACKETS_RE.sub(" ", name)
    words = re.split(r"[\s,;/]+", outer.lower())
    candidates = [" ".join(w for w in words if w and w not in _QUALIFIERS), *inner]
    for candidate in candidates:
        spec = canonical_lab(candidate) if candidate.strip() else None
        if spec is not None:
            return spec
    return None


def is_dated(roles: list[ColumnRole]) -> bool:
    """True for a long table with a collection-date column and no time column."""
    kinds = {r.role for r in roles}
    return bool(kinds & {"analyte", "value"}) and "date" in kinds and "time" not in kinds


def prepare_dated(
    state: ReadState,
    roles: list[ColumnRole],
    windows: VisitWindows | None,
    anchor_file: tuple[str, bytes] | None,
) -> tuple[list[ColumnRole], bool]:
    """The roles as the layout reads them, and whether the file holds dated results.

    A wide table, or a long one with a time column, reads date and start-date columns
    as ordinary attributes (a long table's collection dates are then left out, with a
    note); visit-window options for such a file are refused.
    """
    dated = is_dated(roles)
    kinds = {r.role for r in roles}
    if kinds & {"analyte", "value"} and not kinds & {"time", "date"}:
        raise InputError(
            "This looks like a long table (one row per lab value) but has no time column and "
            "no collection date column. Name the time column 'time' (months or tokens such as "
            "'2w'), or, for results with collection dates, name the date column 'collected' or "
            "'collection date'; or set it in the column mapping."
        )
    if dated:
        state.dated = True
        state.anchor_column = windows.anchor if windows is not None else ""
        return roles, True
    if windows is not None or anchor_file is not None:
        raise InputError(
            "Visit windows (--anchor, --times, --window-days, --baseline-days, --date-order, "
            "a start dates file) apply to dated results: a long table with a lab name, a "
            "value and a collection date column, and no time column. This file has "
            + ("a time column." if any(r.role == "time" for r in roles) else "no such columns.")
        )
    long_layout = any(r.role in ("analyte", "value") for r in roles)
    out = []
    for role in roles:
        if role.role == "date" and long_layout:
            state.note(
                "collection dates are not used: the time column gives the time points (to "
                "window the results by their dates instead, mark the time column 'ignore')",
                column=role.column,
                kind="dates_not_used",
            )
            role = ColumnRole(role.column, "ignore")
        elif role.role in ("date", "anchor"):
            role = ColumnRole(role.column, "attribute", source=role.source)
        out.append(role)
    return out, False


def with_anchor(overrides: Mapping[str, str], headers: list[str], windows: VisitWindows | None):
    """The column corrections plus ``--anchor COLUMN`` when it names a column of this sheet."""
    if windows is None or not windows.anchor or windows.anchor not in headers:
        return overrides
    return {**overrides, windows.anchor: overrides.get(windows.anchor, "anchor")}


# --------------------------------------------------------------------------- the rows


def read_dated(
    state: ReadState, roles: list[ColumnRole], data_rows: list[list[object]], first: int
) -> tuple[pd.DataFrame, pd.DataFrame, list[ColumnRole]]:
    """``(patients, results, roles)`` from the rows below the header.

    ``results`` has one row per result with a lab and a value: ``patient_id``,
    ``analyte``, ``name``, ``value``, ``censored``, ``unit``, ``row``, ``column``, and
    ``date`` (the date cell as read). The patients table holds the raw start-date
    cells in the column :data:`~analytics.reading.patient_table.ANCHOR`.
    """
    index = {r.role: i for i, r in enumerate(roles)}
    for needed, words in (("analyte", "lab name"), ("value", "result")):
        if needed not in index:
            raise InputError(
                f"This looks like a table of dated results but has no {words} column. Name it "
                f"'{'test' if needed == 'analyte' else 'result'}' or set it in the column mapping."
            )
    width = len(roles)
    id_index = index["patient_id"]
    ids = [cell_text(row[id_index]) if len(row) > id_index else "" for row in data_rows]
    summary = summary_rows(ids)
    records: list[tuple] = []
    attribute_rows: list[tuple[int, list[object]]] = []
    specs: dict[str, Lab | None] = {}
    for offset, row in enumerate(data_rows):
        number = first + offset
        state.n_rows_in += 1
        if not any(c is not None for c in row):
            state.exclude_empty(number)
            continue
        patient_id = ids[offset]
        if not patient_id:
            state.exclude(number, "no patient ID", kind="no_patient_id")
        elif summary[offset]:
            state.exclude(number, summary_reason(patient_id), kind="summary_row")
        else:
            cells = padded(row, width)
            attribute_rows.append((number, cells))
            record = _result(state, roles, index, cells, number, patient_id, specs)
            if record is not None:
                records.append(record)
    if not attribute_rows:
        raise InputError("The file has a header row but no data rows below it.")
    roles = _per_result_columns(state, roles, attribute_rows)
    _two_start_dates(state, roles, attribute_rows)
    patients = _long_patients(state, roles, attribute_rows)
    columns = ["patient_id", "analyte", "name", "value", "censored", "unit", "row", "column"]
    results = pd.DataFrame.from_records([r[:-1] for r in records], columns=columns)
    # the date cells as read, never converted by pandas (a column of dates would be)
    results["date"] = pd.Series([r[-1] for r in records], dtype=object)
    return patients, results, roles


def _result(
    state: ReadState,
    roles: list[ColumnRole],
    index: dict[str, int],
    cells: list[object],
    number: int,
    patient_id: str,
    specs: dict[str, Lab | None],
) -> tuple | None:
    """One row's result, or None when the row is excluded (no lab name, no value)."""
    lab_text = cell_text(cells[index["analyte"]])
    if not lab_text or len(lab_text) > MAX_HEADER_CHARS:
        reason = f"lab name of {len(lab_text):,} characters" if lab_text else "no lab name"
        state.exclude(number, reason, kind="no_lab_name")
        return None
    column = roles[index["value"]].column
    reading = _lab_value(state, cells[index["value"]], number, column)
    if reading is None:
        return None
    if lab_text not in specs:
        specs[lab_text] = hospital_lab(lab_text)
    spec = specs[lab_text]
    key = spec.key if spec else lab_text.strip().lower()
    name = spec.name if spec else lab_text.strip()
    unit = cell_text(cells[index["unit"]]) if "unit" in index else ""
    unit = unit or reading.unit or (spec.unit if spec else "")
    if reading.kind == "number":
        problem = implausible(key, unit, reading.value)
        if problem:
            state.warn(f"{problem}; check the unit", number, column, kind="implausible_value")
    censored = {"below": "<", "above": ">"}.get(reading.kind, "")
    date = cells[index["date"]]
    return (patient_id, key, name, reading.value, censored, unit, number, column, date)


def _per_result_columns(
    state: ReadState, roles: list[ColumnRole], attribute_rows: list[tuple[int, list[object]]]
) -> list[ColumnRole]:
    """The roles, with attribute columns that differ between a patient's rows ignored."""
    candidates = [i for i, r in enumerate(roles) if r.role == "attribute"]
    if not candidates:
        return roles
    id_index = next(i for i, r in enumerate(roles) if r.role == "patient_id")
    frame = pd.DataFrame(
        [[cells[id_index], *(cells[i] for i in candidates)] for _, cells in attribute_rows]
    ).map(lambda v: cell_text(v) or None)
    varying = frame.groupby(0, sort=False).nunique().max() > 1
    out = list(roles)
    for position, i in enumerate(candidates, start=1):
        named = role_text(roles[i].column) in _PER_RESULT_HEADERS
        if named or bool(varying.get(position, False)):
            state.note(
                "read as part of each result (its values "
                + ("describe each result" if named else "differ between a patient's results")
                + "), not kept as a patient attribute",
                column=roles[i].column,
                kind="per_result_column",
            )
            out[i] = ColumnRole(roles[i].column, "ignore")
    return out


def _two_start_dates(
    state: ReadState, roles: list[ColumnRole], attribute_rows: list[tuple[int, list[object]]]
) -> None:
    """A patient whose rows give different start dates has none: a warning names them,
    and their results are excluded for want of a start date (the rest of the file is read)."""
    index = next((i for i, r in enumerate(roles) if r.role == "anchor"), None)
    if index is None:
        return
    id_index = next(i for i, r in enumerate(roles) if r.role == "patient_id")
    seen: dict[str, set[str]] = {}
    for _, cells in attribute_rows:
        text = cell_text(cells[index])
        if text:
            seen.setdefault(cell_text(cells[id_index]), set()).add(text)
    differing = {patient: texts for patient, texts in seen.items() if len(texts) > 1}
    for patient, texts in differing.items():
        shown_texts = ", ".join(sorted(texts)[:3])
        state.warn(
            f"patient '{patient}' has different start dates ({shown_texts}): their results are "
            "not used until one is kept",
            column=roles[index].column,
            kind="start_date_conflict",
        )
    if differing:
        for _, cells in attribute_rows:
            if cell_text(cells[id_index]) in differing:
                cells[index] = None


# --------------------------------------------------------------------------- the windows


def window_dated(
    state: ReadState,
    patients: pd.DataFrame,
    results: pd.DataFrame,
    roles: list[ColumnRole],
    windows: VisitWindows,
    anchor_file: tuple[str, bytes] | None,
    first: int,
) -> tuple[pd.DataFrame, pd.DataFrame, WindowedResults]:
    """``(patients, labs, windowed)``: the results placed on days since the start and
    windowed into time points; every result row used or excluded with its reason.

    ``first`` is the row number of the results sheet's first data row.
    """
    if anchor_file is not None:
        patients = _merge_anchor_file(state, patients, anchor_file)
    anchor_column, anchor_where = _anchor_source(state, roles, anchor_file)
    date_column = next(r.column for r in roles if r.role == "date")
    anchors = patients[ANCHOR] if ANCHOR in patients else pd.Series(dtype=object)
    days = result_days(state, results, anchors, date_column, anchor_column, windows.date_order)
    rules = windows.rules()
    windowable = days.windowable
    group = results.groupby(["patient_id", "analyte"], sort=False).ngroup().to_numpy()
    assignment = assign_windows(
        group[windowable],
        days.day[windowable],
        days.seconds[windowable],
        results["row"].to_numpy()[windowable],
        rules,
    )
    outcome, time, reason = _record_outcomes(state, results, days, assignment, rules)
    if not (outcome == "used").any():
        _no_result_used(results, outcome, rules)
    labs = _labs(state, results, days, outcome, time)
    windowed = WindowedResults(
        windows=windows,
        rules=rules,
        date_column=date_column,
        anchor_column=anchor_column,
        anchor_where=anchor_where,
        anchor_file=anchor_file[0] if anchor_file is not None else "",
        date_order=days.order,
        order_note=days.order_note,
        results=_results_frame(results, days, time, outcome, reason),
        outcomes=_tally(state, outcome, first),
    )
    if windows.is_default_times:
        state.note(
            f"time points {windows.times_text()} months: the default, as no time points were "
            "given (set others on the Data page or with --times)",
            kind="default_time_points",
        )
    return patients.drop(columns=[ANCHOR], errors="ignore"), labs, windowed


def _results_frame(results, days, time, outcome, reason) -> pd.DataFrame:
    """Every result with its day since the start and what became of it."""
    return pd.DataFrame(
        {
            "patient_id": results["patient_id"].to_numpy(),
            "analyte": results["analyte"].to_numpy(),
            "day": np.where(days.day_known, days.day, np.nan),
            "value": results["value"].to_numpy(dtype=float),
            "censored": results["censored"].to_numpy(),
            "row": results["row"].to_numpy(),
            "time": time,
            "outcome": outcome,
            "reason": reason,
        }
    )


def _merge_anchor_file(
    state: ReadState, patients: pd.DataFrame, anchor_file: tuple[str, bytes]
) -> pd.DataFrame:
    """The patients with the start dates (and attributes) of a second file merged in."""
    name, data = anchor_file
    try:
        rows = read_grid(data, name).rows
        header_index = find_header(rows, {})
    except InputError as error:
        raise InputError(f"The start dates file '{name}' could not be read: {error}") from error
    headers = [
        cell_text(c) or f"column {column_letter(i)}" for i, c in enumerate(rows[header_index])
    ]
    roles = [sheet_role(state, h) for h in headers]
    kinds = {r.role for r in roles}
    if "patient_id" not in kinds or "anchor" not in kinds:
        wanted = state.anchor_column or "sirolimus start, start date or index date"
        raise InputError(
            f"The start dates file '{name}' needs a patient ID column and a start date column "
            f"({wanted}); its columns: {', '.join(headers)}. Name the start date column with "
            "--anchor COLUMN (on the Data page, pick it)."
        )
    return merge_sheet(state, name, rows, header_index, roles, patients)


def _anchor_source(
    state: ReadState, roles: list[ColumnRole], anchor_file: tuple[str, bytes] | None
) -> tuple[str, str]:
    """The start-date column and where it is (``""`` this sheet, ``sheet 'X'``, ``file 'Y'``)."""
    own = next((r.column for r in roles if r.role == "anchor"), None)
    file_name = anchor_file[0] if anchor_file is not None else None
    if own is not None:
        source = (own, "")
    elif state.anchor_sources:
        column, where = state.anchor_sources[0]
        source = (column, f"file '{where}'" if where == file_name else f"sheet '{where}'")
    else:
        source = None
    if source is None:
        if state.anchor_column:
            raise InputError(
                f"No start dates were found in a column '{state.anchor_column}': it is not a "
                "column of this sheet, nor of another sheet or file with one row per patient "
                "(patient ID and start date)."
            )
        raise NeedsAnswer(
            "The results have collection dates, but the file gives no start date per patient "
            "to count the days from. Give the date the drug started for each patient: a column "
            "of this sheet (e.g. 'sirolimus start'), a sheet with one row per patient (patient "
            "ID and start date), or a second file of that shape — on the Data page upload it "
            "under 'Start dates' or pick the column; on the command line --anchor COLUMN, and "
            "--anchor-file FILE for a second file.",
            "anchor",
        )
    return source


def _record_outcomes(state, results, days, assignment, rules):
    """Outcome, time point and reason per result; exclusions recorded in ``state``."""
    n = len(results)
    outcome = np.array(days.outcome, dtype=object)
    reason = list(days.reason)
    time = np.full(n, np.nan)
    windowable = np.flatnonzero(days.windowable)
    names = results["name"].to_numpy()[windowable]
    rows = results["row"].to_numpy()[windowable]
    texts = reasons(assignment, rules, days.day[windowable], rows, names)
    rule_times = np.array([rule.time for rule in rules])
    used = assignment.rule >= 0
    time[windowable[used]] = rule_times[assignment.rule[used]]
    outcome[windowable[used]] = "used"
    for position, i in enumerate(windowable):
        if not used[position]:
            outcome[i] = assignment.kind[position]
            reason[i] = texts[position]
    all_rows = results["row"].to_numpy()
    for i in np.flatnonzero(outcome != "used"):
        state.exclude(int(all_rows[i]), reason[i], kind=str(outcome[i]))
    state.n_rows_used += int(used.sum())
    state.excluded.sort(key=lambda e: (e.sheet != "", e.sheet, e.row))
    return outcome, time, reason


def _no_result_used(results: pd.DataFrame, outcome: np.ndarray, rules) -> None:
    """Refuse a file none of whose results fall in a window, saying what became of them."""
    counts = Counter(outcome.tolist())
    parts = [f"{n:,} {OUTCOMES.get(kind, kind)}" for kind, n in counts.most_common()]
    windows = "; ".join(rule.describe() for rule in rules)
    raise InputError(
        f"No result was used at a time point: of {len(results):,} results, "
        + ", ".join(parts)
        + f". The windows: {windows}. Check the start dates and the date order, or change "
        "the time points and windows."
    )


def _labs(state: ReadState, results: pd.DataFrame, days, outcome, time) -> pd.DataFrame:
    """The lab values used, with their day since the start (``day``)."""
    used = outcome == "used"
    labs = results.loc[used, ["patient_id", "analyte", "value", "censored", "unit", "row"]].copy()
    labs.insert(2, "time", time[used])
    labs["column"] = results.loc[used, "column"].to_numpy()
    labs["day"] = days.day[used]
    labs = labs.reset_index(drop=True)
    for key, name in results.loc[used, ["analyte", "name"]].drop_duplicates("analyte").to_numpy():
        state.lab_names.setdefault(key, (name, key in LABS))
    return labs.astype({"value": float, "time": float, "row": np.int64, "day": np.int64})


def _tally(state: ReadState, outcome: np.ndarray, first_row: int) -> tuple[tuple[str, int], ...]:
    """Every data row of the results sheet by what became of it: used first, then by count."""
    counts = Counter(
        e.kind for e in state.excluded if not e.sheet and e.row >= first_row and e.kind
    )
    used = int((outcome == "used").sum())
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return (("used", used), *ordered)
