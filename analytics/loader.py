"""From an uploaded file to a :class:`~analytics.cohort.Cohort`, accounting for every row.

The loader finds the header row below any title rows, recognises each column
(:mod:`analytics.columns`), reads every cell (:mod:`analytics.tokens`,
:mod:`analytics.attributes`) and records each problem with its row and column.
Every input row is either used or listed as excluded with its reason:
``n_rows_in == n_rows_used + len(excluded)``. Summary rows under the data
(``Mean``, ``SD``, ``Total``, ``n``, ``p-value`` ... in the patient-ID column) are
excluded as such, never read as patients (see :func:`summary_rows`).

Files that cannot be analysed at all (no ID column, no lab column, no data rows,
a duplicate patient with conflicting values, an unreadable file) raise one
:class:`~analytics.errors.InputError`. Nothing else escapes :func:`load_cohort`.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .attributes import (
    _text,
    implausible,
    normalise_unit,
    parse_age,
    parse_age_group,
    parse_sex,
    parse_text,
    parse_yes_no,
    plausible_range,
)
from .cohort import (
    STANDARD_ATTRIBUTES,
    Cohort,
    ExcludedRow,
    Issue,
    LabInfo,
    SourceInfo,
    ValidationReport,
    empty_labs,
    lab_info,
)
from .columns import (
    ATTRIBUTE_ROLES,
    LONG_ROLES,
    ColumnRole,
    canonical_lab,
    format_time,
    looks_like_identifier,
    parse_role,
    parse_time,
    recognise_header,
)
from .errors import InputError
from .limits import LIMITS
from .reader import Grid, read_grid
from .tokens import classify_cell, classify_column

__all__ = ["header_columns", "load_cohort", "parse_mapping", "summary_rows"]

_VALUE_KINDS = ("number", "below", "above")
_MAX_LISTED_ROWS = 12

# Labels of summary rows in the patient-ID column (compared in lower case, without a
# trailing colon). "Strong" labels are never patient IDs; "weak" ones (``n``, ``p``,
# ``SD``, ``SE`` ...) could be a patient's letter or initials, so they count as summary
# rows only next to another summary row or below the last patient (see summary_rows).
_SUMMARY_STRONG = frozenset(
    {
        "mean",
        "means",
        "average",
        "avg",
        "avg.",
        "median",
        "total",
        "totals",
        "grand total",
        "subtotal",
        "sum",
        "count",
        "stdev",
        "st dev",
        "st. dev.",
        "std dev",
        "std. dev",
        "std. dev.",
        "std deviation",
        "standard deviation",
        "standard error",
        "s.d.",
        "s.e.",
        "s.e.m.",
        "minimum",
        "maximum",
        "range",
        "iqr",
        "p-value",
        "p value",
        "pvalue",
        "p-val",
        "p val",
    }
)
_SUMMARY_WEAK = frozenset({"n", "p", "sd", "se", "sem", "std", "min", "max"})
_SUMMARY_WORDS = _SUMMARY_STRONG | _SUMMARY_WEAK
_SUMMARY_SPLIT_RE = re.compile(r"\s*(?:±|\+/-|\+-|/|\(|\)|,|–|-)\s*")
_SUMMARY_COUNT_RE = re.compile(r"^n\s*[=:]\s*\d+$")


def _summary_label(text: str) -> str:
    """``"strong"``, ``"weak"`` or ``""``: is this ID-column text a summary label?"""
    if not text or len(text) > 40 or not text[0].isalpha():  # fast: most IDs
        return ""
    label = text.lower().rstrip(":").strip()
    if label in _SUMMARY_STRONG:
        return "strong"
    if label in _SUMMARY_WEAK:
        return "weak"
    if label[0] == "n" and _SUMMARY_COUNT_RE.match(label):  # "n = 93"
        return "strong"
    if label.isalnum():
        return ""
    parts = [part for part in _SUMMARY_SPLIT_RE.split(label) if part]
    if len(parts) > 1 and all(part in _SUMMARY_WORDS for part in parts):  # "Mean ± SD"
        return "strong"
    return ""


def summary_rows(ids: list[str]) -> list[bool]:
    """Which rows are summary rows (``Mean``, ``SD``, ``Total`` ...), not patients.

    Parameters
    ----------
    ids
        The text of each data row's patient-ID cell, top to bottom (``""`` if empty).

    Returns
    -------
    list of bool
        True for a summary row. A label such as ``Mean``, ``Average``, ``Median``,
        ``Total``, ``Sum``, ``p-value`` or ``Mean ± SD`` (any case, optional trailing
        colon) always is one. A short label that could also be a patient's letter or
        initials (``n``, ``N``, ``p``, ``SD``, ``SE``, ``SEM``, ``Min``, ``Max``) is one
        when no patient row follows it or when the nearest row above or below with a
        different ID is itself a summary row; so patients ``M``, ``N``, ``O`` stay
        patients, while ``Mean`` / ``SD`` / ``n`` under the data do not.
    """
    kinds = [_summary_label(text) for text in ids]
    flags = [kind == "strong" for kind in kinds]
    if "weak" not in kinds:
        return flags
    n = len(ids)
    last_patient = max((i for i in range(n) if ids[i] and not kinds[i]), default=-1)

    def neighbour(i: int, step: int) -> str:
        j = i + step
        while 0 <= j < n and (not ids[j] or ids[j] == ids[i]):
            j += step
        return kinds[j] if 0 <= j < n else ""

    for i, kind in enumerate(kinds):
        if kind == "weak":
            flags[i] = i > last_patient or bool(neighbour(i, -1) or neighbour(i, 1))
    return flags


def _summary_reason(patient_id: str) -> str:
    return f"summary row ('{patient_id}'), not a patient"


def parse_mapping(items: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Turn ``["COLUMN=ROLE", ...]`` into a dict; the last ``=`` separates the role."""
    mapping: dict[str, str] = {}
    for item in items:
        column, sep, role = item.rpartition("=")
        if not sep or not column.strip():
            raise InputError(f"'{item}' is not a column correction; write COLUMN=ROLE.")
        mapping[column.strip()] = role.strip()
    return mapping


def load_cohort(
    data: bytes,
    filename: str,
    *,
    sheet: str | None = None,
    mapping: Mapping[str, str] | None = None,
    is_demo: bool = False,
) -> Cohort:
    """Read a cohort spreadsheet.

    Parameters
    ----------
    data
        The file's bytes (kept in memory only).
    filename
        The file's name; its extension picks CSV or XLSX.
    sheet
        XLSX: the sheet to read (default: the first visible worksheet).
    mapping
        Corrections of the recognised columns, ``{header: role}`` (see
        :func:`analytics.columns.parse_role`).
    is_demo
        Marks the bundled demo cohort (shown as such in the app).

    Returns
    -------
    Cohort

    Raises
    ------
    InputError
        When the file cannot be analysed; the message says what to change.
    """
    try:
        return _read_cohort(data, filename, sheet, mapping, is_demo)
    except InputError:
        raise
    except (MemoryError, RecursionError) as error:
        raise InputError("The file is too large or too deeply nested to read.") from error
    except Exception as error:  # one boundary: no reader exception reaches the user
        raise InputError(
            f"The file could not be read ({type(error).__name__}: {error}). "
            "Check that it is a CSV or .xlsx table with one header row."
        ) from error


def _read_cohort(
    data: bytes,
    filename: str,
    sheet: str | None,
    mapping: Mapping[str, str] | None,
    is_demo: bool,
) -> Cohort:
    """:func:`load_cohort` without its last-resort boundary (tests look behind it)."""
    grid = read_grid(data, filename, sheet)
    source = SourceInfo(
        filename=filename,
        sha256=hashlib.sha256(data).hexdigest(),
        how_read=grid.describe(),
        layout="",
        sheet=grid.sheet,
        sheets=grid.sheets,
        is_demo=is_demo,
    )
    return _Builder(grid, dict(mapping or {}), source).build()


def header_columns(data: bytes, filename: str, sheet: str | None = None) -> list[str]:
    """The column names of the file's header row (for correcting a file that failed).

    Returns an empty list when not even a header row can be found.
    """
    try:
        rows = read_grid(data, filename, sheet).rows
        header = rows[_find_header(rows, {})]
    except Exception:  # the caller is already showing why the file failed
        return []
    return [_text(c) or f"column {_column_letter(i)}" for i, c in enumerate(header)]


# --------------------------------------------------------------------------- header


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _header_score(row: list[object], overrides: Mapping[str, str]) -> int:
    score = 0
    for cell in row:
        if isinstance(cell, str) and cell.strip():
            if cell.strip() in overrides:
                score += 1
                continue
            role = recognise_header(cell)
            if role.role not in ("attribute", "ignore") and (role.role != "lab" or role.known_lab):
                score += 1
    return score


def _find_header(rows: list[list[object]], overrides: Mapping[str, str]) -> int:
    limit = int(LIMITS["header_search_rows"].value)
    best, best_score = -1, 0
    for index, row in enumerate(rows[:limit]):
        non_empty = sum(1 for c in row if c is not None and str(c).strip())
        if non_empty < 2:
            continue
        score = _header_score(row, overrides)
        if score > best_score:
            best, best_score = index, score
    if best >= 0:
        return best
    for index, row in enumerate(rows[:limit]):
        if sum(1 for c in row if isinstance(c, str) and c.strip()) >= 2:
            return index
    raise InputError(
        "No header row was found: the first rows hold no column names. "
        "Put one row of column names (patient ID, sex, age, lab columns) above the data."
    )


# --------------------------------------------------------------------------- builder


@dataclass
class _Builder:
    grid: Grid
    overrides: dict[str, str]
    source: SourceInfo
    issues: list[Issue] = field(default_factory=list)
    excluded: list[ExcludedRow] = field(default_factory=list)
    n_rows_in: int = 0
    n_rows_used: int = 0

    # ---- small helpers
    def warn(self, message: str, row: int | None = None, column: str | None = None) -> None:
        self.issues.append(Issue("warning", message, row, column))

    def note(self, message: str, row: int | None = None, column: str | None = None) -> None:
        self.issues.append(Issue("note", message, row, column))

    def exclude(self, row: int, reason: str, sheet: str = "") -> None:
        self.excluded.append(ExcludedRow(row, reason, sheet))

    def empty_row_reason(self, row: int) -> str:
        """Why an empty row is excluded: blank, or a further line of a multi-line cell."""
        start = self.grid.continuation_rows.get(row - 1)
        if start is None:
            return "empty row"
        return f"a further line of the cell with line breaks that starts in row {start + 1}"

    def reader_issues(self, headers: list[str]) -> None:
        """Record what the reader noticed, naming columns by their headers."""
        for found in self.grid.issues:
            column = None
            if found.column is not None:
                column = (
                    headers[found.column]
                    if found.column < len(headers)
                    else f"column {_column_letter(found.column)}"
                )
            self.issues.append(
                Issue(found.severity, found.message, found.row, column, kind=found.kind)
            )

    # ---- steps
    def build(self) -> Cohort:
        rows = self.grid.rows
        if not any(any(c is not None for c in row) for row in rows):
            raise InputError("The file has no data: every cell is empty.")
        header_index = _find_header(rows, self.overrides)
        headers = self._headers(rows[header_index])
        self.reader_issues(headers)
        roles = self._roles(headers)
        self._account_above_header(rows, header_index)
        data_rows = rows[header_index + 1 :]
        first_row_number = header_index + 2
        long_layout = any(r.role in ("analyte", "value") for r in roles)
        if long_layout:
            patients, labs, roles = self._long(roles, data_rows, first_row_number)
        else:
            patients, labs, roles = self._wide(roles, data_rows, first_row_number)
        patients = self._merge_attribute_sheets(patients)
        analytes = self._analytes(labs)
        labs = labs.drop(columns=["_name", "_known"], errors="ignore")
        if not analytes:
            raise InputError(
                "No lab values were found. Name lab columns like 'MCV 0', 'MCV (fL) 2 months' "
                "or 'Hb 2mo', or mark a column as a lab in the column mapping."
            )
        report = ValidationReport(
            n_rows_in=self.n_rows_in,
            n_rows_used=self.n_rows_used,
            excluded=tuple(self.excluded),
            issues=tuple(self.issues),
            header_row=header_index + 1,
        )
        source = SourceInfo(**{**self.source.__dict__, "layout": "long" if long_layout else "wide"})
        extras = tuple(c for c in patients.columns if c not in STANDARD_ATTRIBUTES)
        return Cohort(patients, labs, analytes, report, source, tuple(roles), extras)

    def _headers(self, header_row: list[object]) -> list[str]:
        headers: list[str] = []
        seen: Counter[str] = Counter()
        for index, cell in enumerate(header_row):
            text = _text(cell) or f"column {_column_letter(index)}"
            seen[text] += 1
            if seen[text] > 1:
                renamed = f"{text} ({seen[text]})"
                self.warn(f"the header '{text}' appears more than once; read as '{renamed}'")
                text = renamed
            headers.append(text)
        for column in self.overrides:
            if column not in headers:
                raise InputError(
                    f"The column correction names '{column}', but the file has no such column. "
                    f"Columns: {', '.join(headers)}."
                )
        return headers

    def _roles(self, headers: list[str]) -> list[ColumnRole]:
        roles: list[ColumnRole] = []
        taken: dict[str, str] = {}
        single = set(ATTRIBUTE_ROLES) | set(LONG_ROLES)
        for header in headers:
            if header in self.overrides:
                try:
                    role = parse_role(header, self.overrides[header])
                except ValueError as error:
                    raise InputError(f"Column correction for '{header}': {error}") from error
            else:
                role = recognise_header(header)
                if header.startswith("column ") and role.role == "attribute":
                    role = ColumnRole(header, "attribute", source="no header")
            if role.role in single:
                if role.role in taken:
                    self.warn(
                        f"read as an ordinary attribute: '{taken[role.role]}' is already "
                        f"the {role.describe()} column",
                        column=header,
                    )
                    role = ColumnRole(header, "attribute")
                else:
                    taken[role.role] = header
            if looks_like_identifier(header):
                self.warn(
                    "this column looks like a direct identifier (name, record number, birth "
                    "date, address or phone); this tool is meant for de-identified data",
                    column=header,
                )
            roles.append(role)
        if "patient_id" not in taken:
            raise InputError(
                "No patient ID column was found. Name one column 'patient_id' (or 'patient', "
                "'id', 'subject', 'study id'), or mark it as patient_id in the column mapping."
            )
        return roles

    def _account_above_header(self, rows: list[list[object]], header_index: int) -> None:
        for index in range(header_index):
            self.n_rows_in += 1
            if any(c is not None for c in rows[index]):
                text = " ".join(_text(c) for c in rows[index] if c is not None)[:80]
                self.exclude(index + 1, f"title or note above the header row: '{text}'")
            elif index in self.grid.continuation_rows:
                self.exclude(index + 1, self.empty_row_reason(index + 1))
            else:
                self.exclude(index + 1, "empty row above the header row")

    # ---- wide layout
    def _wide(
        self, roles: list[ColumnRole], data_rows: list[list[object]], first: int
    ) -> tuple[pd.DataFrame, pd.DataFrame, list[ColumnRole]]:
        width = len(roles)
        id_index = next(i for i, r in enumerate(roles) if r.role == "patient_id")
        id_column = roles[id_index].column
        used_rows: list[list[object]] = []
        used_numbers: list[int] = []
        first_seen: dict[str, tuple[int, list[object]]] = {}
        conflicts: list[str] = []
        ids = [_text(row[id_index]) if len(row) > id_index else "" for row in data_rows]
        summary = summary_rows(ids)
        for offset, row in enumerate(data_rows):
            number = first + offset
            self.n_rows_in += 1
            if not any(c is not None for c in row):
                self.exclude(number, self.empty_row_reason(number))
                continue
            patient_id = ids[offset]
            if summary[offset]:
                self.exclude(number, _summary_reason(patient_id))
                continue
            extra = [c for c in row[width:] if c is not None]
            if extra:
                shown = ", ".join(_text(c) for c in extra[:3])
                self.exclude(
                    number,
                    f"more cells than the header has columns (extra: {shown}); the cells may "
                    "be shifted, for example by an unquoted decimal comma",
                )
                continue
            cells = list(row[:width]) + [None] * (width - min(len(row), width))
            if not patient_id:
                self.exclude(number, f"no patient ID in column '{id_column}'")
                continue
            if patient_id in first_seen:
                earlier, earlier_cells = first_seen[patient_id]
                signature = [_text(c) for c in cells]
                earlier_signature = [_text(c) for c in earlier_cells]
                if earlier_signature == signature:
                    self.exclude(number, f"exact duplicate of row {earlier} (patient {patient_id})")
                    continue
                differing = [
                    roles[i].column for i in range(width) if earlier_signature[i] != signature[i]
                ]
                conflicts.append(
                    f"patient '{patient_id}' is in rows {earlier} and {number} with different "
                    f"values (columns: {', '.join(differing[:4])})"
                )
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
        self.n_rows_used += len(used_rows)
        frame = pd.DataFrame(
            used_rows,
            columns=[r.column for r in roles],
            index=pd.Index(used_numbers, name="row"),
            dtype=object,
        )
        roles = self._demote_non_numeric_labs(roles, frame)
        patients = self._patients_from_rows(frame, roles)
        labs = self._wide_labs(frame, roles, patients.index)
        return patients, labs, roles

    def _demote_non_numeric_labs(
        self, roles: list[ColumnRole], frame: pd.DataFrame
    ) -> list[ColumnRole]:
        out = []
        seen: dict[tuple[str, float], str] = {}
        for role in roles:
            if role.role == "lab" and not role.known_lab and role.source != "set by you":
                readings = classify_column(frame[role.column])
                filled = readings["kind"] != "empty"
                share = (readings["kind"].isin(_VALUE_KINDS) & filled).sum() / max(filled.sum(), 1)
                if filled.sum() == 0 or share < 0.5:
                    role = ColumnRole(role.column, "attribute")
                else:
                    self.note(
                        f"read as lab '{role.lab_name}' at {format_time(role.time or 0)}; "
                        "correct it in the column mapping if that is wrong",
                        column=role.column,
                    )
            if role.role == "lab":
                slot = (role.lab_key, float(role.time or 0.0))
                if slot in seen:
                    self.warn(
                        f"{role.describe()} is also in column '{seen[slot]}'; this column was "
                        "kept as an attribute, not as lab values",
                        column=role.column,
                    )
                    role = ColumnRole(role.column, "attribute")
                else:
                    seen[slot] = role.column
            out.append(role)
        return out

    def _patients_from_rows(self, frame: pd.DataFrame, roles: list[ColumnRole]) -> pd.DataFrame:
        id_column = next(r.column for r in roles if r.role == "patient_id")
        ids = [_text(v) for v in frame[id_column]]
        patients = pd.DataFrame(index=pd.Index(ids, name="patient_id"))
        for name in STANDARD_ATTRIBUTES:
            patients[name] = pd.Series([None] * len(ids), index=patients.index, dtype=object)
        for role in roles:
            if role.role in STANDARD_ATTRIBUTES:
                patients[role.role] = self._parse_attribute(role, frame[role.column]).to_numpy()
            elif role.role == "attribute":
                values = [parse_text(v) for v in frame[role.column]]
                patients[role.column] = pd.Series(values, index=patients.index, dtype=object)
        patients["age"] = pd.to_numeric(patients["age"], errors="coerce").astype(float)
        return patients

    def _parse_attribute(self, role: ColumnRole, cells: pd.Series) -> pd.Series:
        parsers = {
            "sex": parse_sex,
            "age": parse_age,
            "age_group": parse_age_group,
            "iron": lambda raw: parse_yes_no(raw, "iron therapy"),
            "epo": lambda raw: parse_yes_no(raw, "Epo"),
        }
        parser = parsers.get(role.role)
        if parser is None:
            values = [parse_text(v) for v in cells]
            if role.role == "cohort":
                values = [v.lower() if v else v for v in values]
            return pd.Series(values, index=cells.index, dtype=object)
        values = []
        for row, raw in cells.items():
            value, problem = parser(raw)
            if problem:
                self.warn(problem, int(row), role.column)
            values.append(value)
        return pd.Series(values, index=cells.index, dtype=object)

    def _wide_labs(
        self, frame: pd.DataFrame, roles: list[ColumnRole], patient_ids: pd.Index
    ) -> pd.DataFrame:
        pieces = []
        ids = np.asarray(patient_ids, dtype=object)
        for role in roles:
            if role.role != "lab":
                continue
            readings = classify_column(frame[role.column], decimal_comma=self.grid.decimal_comma)
            unit = self._column_unit(role, readings)
            self._report_cells(readings, role.column, role.lab_key, unit)
            keep = readings["kind"].isin(_VALUE_KINDS).to_numpy()
            if not keep.any():
                continue
            kinds = readings["kind"].to_numpy()[keep]
            pieces.append(
                pd.DataFrame(
                    {
                        "patient_id": ids[keep],
                        "analyte": role.lab_key,
                        "time": float(role.time or 0.0),
                        "value": readings["value"].to_numpy()[keep],
                        "censored": np.select([kinds == "below", kinds == "above"], ["<", ">"], ""),
                        "unit": unit,
                        "row": readings.index.to_numpy()[keep].astype(np.int64),
                        "column": role.column,
                        "_name": role.lab_name,
                        "_known": role.known_lab,
                    }
                )
            )
        if not pieces:
            return empty_labs().assign(_name=pd.Series(dtype=object), _known=pd.Series(dtype=bool))
        return pd.concat(pieces, ignore_index=True)

    def _column_unit(self, role: ColumnRole, readings: pd.DataFrame) -> str:
        cell_units = readings.loc[readings["unit"] != "", "unit"]
        if cell_units.empty:
            return role.unit
        if not role.unit:
            unit = Counter(cell_units).most_common(1)[0][0]
            self.note(f"unit '{unit}' taken from the cells", column=role.column)
            return unit
        for row, unit in cell_units.items():
            if normalise_unit(unit) != normalise_unit(role.unit):
                self.warn(
                    f"the cell says '{unit}' but the column's unit is '{role.unit}'; "
                    "the value was kept as written, not converted",
                    int(row),
                    role.column,
                )
        return role.unit

    def _report_cells(self, readings: pd.DataFrame, column: str, analyte: str, unit: str) -> None:
        for row, reading in readings[readings["kind"].isin(["error", "invalid"])].iterrows():
            self.warn(reading["message"], int(row), column)
        for kind, label in (
            ("not_available", "read as missing"),
            ("below", "kept as censored values below the detection limit"),
            ("above", "kept as censored values above the measuring range"),
        ):
            rows = readings[readings["kind"] == kind]
            if rows.empty:
                continue
            for raw, group in rows.groupby("raw", sort=True):
                if len(group) == 1:
                    self.note(f"'{raw}' {label}", int(group.index[0]), column)
                    continue
                listed = ", ".join(str(r) for r in group.index[:_MAX_LISTED_ROWS])
                more = len(group) - _MAX_LISTED_ROWS
                listed += f" and {more} more" if more > 0 else ""
                self.note(f"'{raw}' {label} (rows {listed})", column=column)
        values = readings[readings["kind"] == "number"]
        bounds = plausible_range(analyte, unit)
        if bounds is not None:
            outside = values[(values["value"] < bounds[0]) | (values["value"] > bounds[1])]
            for row, value in outside["value"].items():
                problem = implausible(analyte, unit, float(value))
                self.warn(f"{problem}; check the unit and the column", int(row), column)
        if analyte == "tsat" and len(values) >= 3 and (values["value"] <= 1).all():
            self.warn(
                "every value is 1 or less: these look like fractions, not percentages "
                "(multiply by 100); values were not converted",
                column=column,
            )

    # ---- long layout
    def _long(
        self, roles: list[ColumnRole], data_rows: list[list[object]], first: int
    ) -> tuple[pd.DataFrame, pd.DataFrame, list[ColumnRole]]:
        index = {r.role: i for i, r in enumerate(roles)}
        for needed, words in (("analyte", "lab"), ("value", "value"), ("time", "time")):
            if needed not in index:
                raise InputError(
                    f"This looks like a long table (one row per lab value) but has no {words} "
                    f"column. Name it '{words}' or set it in the column mapping."
                )
        width = len(roles)
        records: list[dict[str, object]] = []
        attribute_rows: list[tuple[int, list[object]]] = []
        seen: dict[tuple[str, str, float], tuple[int, float, str]] = {}
        conflicts: list[str] = []
        id_index = index["patient_id"]
        ids = [_text(row[id_index]) if len(row) > id_index else "" for row in data_rows]
        summary = summary_rows(ids)
        for offset, row in enumerate(data_rows):
            number = first + offset
            self.n_rows_in += 1
            cells = list(row[:width]) + [None] * (width - min(len(row), width))
            if not any(c is not None for c in row):
                self.exclude(number, self.empty_row_reason(number))
                continue
            patient_id = ids[offset]
            if not patient_id:
                self.exclude(number, "no patient ID")
                continue
            if summary[offset]:
                self.exclude(number, _summary_reason(patient_id))
                continue
            attribute_rows.append((number, cells))
            lab_text = _text(cells[index["analyte"]])
            if not lab_text:
                self.exclude(number, "no lab name")
                continue
            raw_time = cells[index["time"]]
            parsed = (
                (float(raw_time), "")
                if isinstance(raw_time, (int, float)) and not isinstance(raw_time, bool)
                else parse_time(_text(raw_time))
            )
            if parsed is None or math.isnan(parsed[0]):
                self.exclude(number, f"time '{_text(raw_time)}' not recognised")
                continue
            reading = classify_cell(cells[index["value"]], decimal_comma=self.grid.decimal_comma)
            column = roles[index["value"]].column
            if not reading.is_value:
                if reading.kind in ("error", "invalid"):
                    self.warn(reading.message, number, column)
                    self.exclude(number, f"lab value not readable: {reading.message}")
                else:
                    self.exclude(number, "no lab value (empty or N/A)")
                continue
            spec = canonical_lab(lab_text)
            key = spec.key if spec else lab_text.strip().lower()
            unit = _text(cells[index["unit"]]) if "unit" in index else ""
            unit = unit or reading.unit or (spec.unit if spec else "")
            censored = {"below": "<", "above": ">"}.get(reading.kind, "")
            slot = (patient_id, key, parsed[0])
            if slot in seen:
                earlier, earlier_value, earlier_censored = seen[slot]
                if earlier_value == reading.value and earlier_censored == censored:
                    self.exclude(number, f"same lab value as row {earlier}")
                    continue
                conflicts.append(
                    f"patient '{patient_id}', {lab_text} at {format_time(parsed[0])}: "
                    f"rows {earlier} and {number} differ"
                )
                continue
            seen[slot] = (number, reading.value, censored)
            if reading.kind == "number":
                problem = implausible(key, unit, reading.value)
                if problem:
                    self.warn(f"{problem}; check the unit", number, column)
            records.append(
                {
                    "patient_id": patient_id,
                    "analyte": key,
                    "time": parsed[0],
                    "value": reading.value,
                    "censored": censored,
                    "unit": unit,
                    "row": number,
                    "column": column,
                    "_name": spec.name if spec else lab_text.strip(),
                    "_known": spec is not None,
                }
            )
            self.n_rows_used += 1
        if conflicts:
            raise InputError(
                "The same lab value is given twice with different results: "
                + "; ".join(conflicts[:5])
                + ". Keep one row per patient, lab and time."
            )
        if not attribute_rows:
            raise InputError("The file has a header row but no data rows below it.")
        labs = pd.DataFrame(records) if records else empty_labs()
        patients = self._long_patients(roles, attribute_rows)
        return patients, labs, roles

    def _long_patients(
        self, roles: list[ColumnRole], attribute_rows: list[tuple[int, list[object]]]
    ) -> pd.DataFrame:
        frame = pd.DataFrame(
            [cells for _, cells in attribute_rows],
            columns=[r.column for r in roles],
            index=pd.Index([n for n, _ in attribute_rows], name="row"),
            dtype=object,
        )
        attribute_roles = [
            r for r in roles if r.role in STANDARD_ATTRIBUTES or r.role in ("attribute",)
        ]
        id_column = next(r.column for r in roles if r.role == "patient_id")
        frame["_id"] = [_text(v) for v in frame[id_column]]
        first_rows = frame.groupby("_id", sort=False).head(1)
        conflicts = []
        for role in attribute_roles:
            texts = frame[role.column].map(_text)
            for patient_id, values in texts.groupby(frame["_id"], sort=False):
                distinct = {v for v in values if v}
                if len(distinct) > 1:
                    conflicts.append(
                        f"patient '{patient_id}' has different {role.describe()} values "
                        f"({', '.join(sorted(distinct)[:3])}) in column '{role.column}'"
                    )
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
        return self._patients_from_rows(filled, roles)

    # ---- attribute sheets (long layout or wide labs plus a patients sheet)
    def _merge_attribute_sheets(self, patients: pd.DataFrame) -> pd.DataFrame:
        known = {c for c in patients.columns if patients[c].notna().any()}
        search_rows = int(LIMITS["header_search_rows"].value)
        # the other sheets are read lazily: first only the rows where a header can be
        for name in self.grid.other_sheets:
            try:
                head = self.grid.other_sheet_head(name, search_rows)
            except InputError as error:
                self.warn(f"the sheet '{name}' was not read: {error}")
                continue
            if not head or not any(any(c is not None for c in r) for r in head):
                continue
            try:
                header_index = _find_header(head, {})
            except InputError:
                continue
            headers = [
                _text(c) or f"column {_column_letter(i)}" for i, c in enumerate(head[header_index])
            ]
            roles = [recognise_header(h) for h in headers]
            kinds = {r.role for r in roles}
            if "patient_id" not in kinds or kinds & {"lab", "analyte", "value"}:
                continue
            useful = [r for r in roles if r.role in STANDARD_ATTRIBUTES and r.role not in known]
            if not useful:
                continue
            try:
                rows = self.grid.other_sheets[name]
            except InputError as error:
                self.warn(f"patient attributes on the sheet '{name}' were not read: {error}")
                continue
            patients = self._merge_sheet(name, rows, header_index, roles, patients)
        return patients

    def _merge_sheet(
        self,
        name: str,
        rows: list[list[object]],
        header_index: int,
        roles: list[ColumnRole],
        patients: pd.DataFrame,
    ) -> pd.DataFrame:
        width = len(roles)
        id_index = next(i for i, r in enumerate(roles) if r.role == "patient_id")
        kept: list[list[object]] = []
        numbers: list[int] = []
        kept_ids: set[str] = set()
        ids = [_text(r[id_index]) if len(r) > id_index else "" for r in rows]
        summary = [False] * (header_index + 1) + summary_rows(ids[header_index + 1 :])
        for index in range(len(rows)):
            if index == header_index:
                continue
            number = index + 1
            self.n_rows_in += 1
            cells = list(rows[index][:width]) + [None] * (width - min(len(rows[index]), width))
            if index < header_index:
                self.exclude(number, "above the header row", sheet=name)
            elif not any(c is not None for c in cells):
                self.exclude(number, "empty row", sheet=name)
            elif not ids[index]:
                self.exclude(number, "no patient ID", sheet=name)
            elif summary[index]:
                self.exclude(number, _summary_reason(ids[index]), sheet=name)
            elif ids[index] in kept_ids:
                self.exclude(number, "patient already listed above on this sheet", sheet=name)
            else:
                kept_ids.add(ids[index])
                kept.append(cells)
                numbers.append(number)
                self.n_rows_used += 1
        frame = pd.DataFrame(
            kept, columns=[r.column for r in roles], index=pd.Index(numbers), dtype=object
        )
        attributes = self._patients_from_rows(frame, roles)
        self.note(f"patient attributes read from sheet '{name}' ({len(attributes)} patients)")
        merged = patients.combine_first(attributes) if len(patients) else attributes
        order = list(patients.index) + [p for p in attributes.index if p not in patients.index]
        missing = [p for p in attributes.index if p not in patients.index]
        if missing:
            self.note(
                f"{len(missing)} patients on sheet '{name}' have no lab values: "
                + ", ".join(missing[:10])
            )
        columns = list(patients.columns) + [c for c in merged.columns if c not in patients.columns]
        return merged.reindex(index=order, columns=columns)

    # ---- labs
    def _analytes(self, labs: pd.DataFrame) -> dict[str, LabInfo]:
        analytes: dict[str, LabInfo] = {}
        if labs.empty:
            return analytes
        for key, rows in labs.groupby("analyte", sort=False):
            units = Counter(u for u in rows["unit"] if u)
            normalised = {normalise_unit(u) for u in units}
            unit = units.most_common(1)[0][0] if units else ""
            if len(normalised) > 1:
                self.warn(
                    f"{rows['_name'].iloc[0]} is given in several units "
                    f"({', '.join(sorted(units))}); values are not converted, so compare "
                    "like with like",
                )
            analytes[str(key)] = lab_info(
                str(key),
                str(rows["_name"].iloc[0]),
                unit,
                [float(t) for t in rows["time"]],
                bool(rows["_known"].iloc[0]),
            )
        return analytes
