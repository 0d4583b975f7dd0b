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
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .attributes import (
    _text,
    parse_age_group,
    parse_sex,
    parse_text,
    parse_yes_no,
    read_age,
)
from .cohort import (
    STANDARD_ATTRIBUTES,
    Cohort,
    ExcludedRow,
    IssueLog,
    LabInfo,
    SourceInfo,
    ValidationReport,
    empty_labs,
    lab_info,
)
from .columns import (
    ATTRIBUTE_ROLES,
    LONG_ROLES,
    MAX_HEADER_CHARS,
    ColumnRole,
    looks_like_identifier,
    parse_role,
    recognise_header,
)
from .errors import InputError
from .labs import (
    canonical_lab,
    format_time,
    implausible,
    normalise_unit,
    parse_time,
    plausible_range,
)
from .limits import LIMITS
from .reader import Grid, read_grid
from .tokens import classify_cell, classify_column, shown

__all__ = ["header_columns", "load_cohort", "parse_mapping", "summary_rows"]

_VALUE_KINDS = ("number", "below", "above")
_MAX_ABS = float(LIMITS["max_abs_value"].value)
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


def _age_reading(raw: object) -> tuple[float | None, str, str]:
    """``(age, problem, kind)`` as the attribute parsers return them."""
    value, kind, problem = read_age(raw)
    return value, problem, kind


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
    names = [_text(c) for c in header]
    return [
        name if name and len(name) <= MAX_HEADER_CHARS else f"column {_column_letter(i)}"
        for i, name in enumerate(names)
    ]


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
    issues: IssueLog = field(default_factory=IssueLog)
    excluded: list[ExcludedRow] = field(default_factory=list)
    n_rows_in: int = 0
    n_rows_used: int = 0
    #: lab key -> (name, known lab), in the order the labs first appear
    lab_names: dict[str, tuple[str, bool]] = field(default_factory=dict)

    # ---- small helpers
    def warn(
        self, message: str, row: int | None = None, column: str | None = None, *, kind: str
    ) -> None:
        self.issues.record("warning", kind, message, row, column)

    def note(
        self, message: str, row: int | None = None, column: str | None = None, *, kind: str
    ) -> None:
        self.issues.record("note", kind, message, row, column)

    def exclude(self, row: int, reason: str, sheet: str = "", *, kind: str) -> None:
        self.excluded.append(ExcludedRow(row, reason, sheet, kind))

    def exclude_empty(self, row: int) -> None:
        """Exclude an empty row: blank, or a further line of a multi-line cell."""
        start = self.grid.continuation_rows.get(row - 1)
        if start is None:
            self.exclude(row, "empty row", kind="empty_row")
        else:
            self.exclude(
                row,
                f"a further line of the cell with line breaks that starts in row {start + 1}",
                kind="continuation_row",
            )

    def reader_issues(self, headers: list[str]) -> None:
        """Record what the reader noticed, naming columns by their headers."""

        def name(index: int | None) -> str | None:
            if index is None:
                return None
            return headers[index] if index < len(headers) else f"column {_column_letter(index)}"

        for found in self.grid.issues:
            self.issues.record(
                found.severity, found.kind, found.message, found.row, name(found.column)
            )
        for severity, kind, column, n in self.grid.omitted_issues:
            self.issues.count_more(severity, kind, name(column), n)

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
        if not analytes:
            raise InputError(
                "No lab values were found. Name lab columns like 'MCV 0', 'MCV (fL) 2 months' "
                "or 'Hb 2mo', or mark a column as a lab in the column mapping."
            )
        report = ValidationReport(
            n_rows_in=self.n_rows_in,
            n_rows_used=self.n_rows_used,
            excluded=tuple(self.excluded),
            issues=self.issues.issues(),
            header_row=header_index + 1,
            groups=self.issues.groups(),
        )
        source = SourceInfo(**{**self.source.__dict__, "layout": "long" if long_layout else "wide"})
        extras = tuple(c for c in patients.columns if c not in STANDARD_ATTRIBUTES)
        return Cohort(patients, labs, analytes, report, source, tuple(roles), extras)

    def _headers(self, header_row: list[object]) -> list[str]:
        headers: list[str] = []
        seen: Counter[str] = Counter()
        for index, cell in enumerate(header_row):
            text = _text(cell) or f"column {_column_letter(index)}"
            if len(text) > MAX_HEADER_CHARS:
                name = f"column {_column_letter(index)}"
                self.warn(
                    f"the header of {name} is {len(text):,} characters long ('{shown(text)}'); "
                    f"a header has at most {MAX_HEADER_CHARS} characters, so the column is "
                    f"read as '{name}', an ordinary attribute",
                    column=name,
                    kind="long_header",
                )
                text = name
            seen[text] += 1
            if seen[text] > 1:
                renamed = f"{text} ({seen[text]})"
                self.warn(
                    f"the header '{text}' appears more than once; read as '{renamed}'",
                    kind="duplicate_header",
                )
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
                        kind="role_already_taken",
                    )
                    role = ColumnRole(header, "attribute")
                else:
                    taken[role.role] = header
            if looks_like_identifier(header):
                self.warn(
                    "this column looks like a direct identifier (name, record number, birth "
                    "date, address or phone); this tool is meant for de-identified data",
                    column=header,
                    kind="identifier_column",
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
                self.exclude(
                    index + 1, f"title or note above the header row: '{text}'", kind="above_header"
                )
            elif index in self.grid.continuation_rows:
                self.exclude_empty(index + 1)
            else:
                self.exclude(index + 1, "empty row above the header row", kind="above_header")

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
                self.exclude_empty(number)
                continue
            patient_id = ids[offset]
            if summary[offset]:
                self.exclude(number, _summary_reason(patient_id), kind="summary_row")
                continue
            extra = [c for c in row[width:] if c is not None]
            if extra:
                shown = ", ".join(_text(c) for c in extra[:3])
                self.exclude(
                    number,
                    f"more cells than the header has columns (extra: {shown}); the cells may "
                    "be shifted, for example by an unquoted decimal comma",
                    kind="extra_cells",
                )
                continue
            cells = list(row[:width]) + [None] * (width - min(len(row), width))
            if not patient_id:
                self.exclude(number, f"no patient ID in column '{id_column}'", kind="no_patient_id")
                continue
            if patient_id in first_seen:
                earlier, earlier_cells = first_seen[patient_id]
                signature = [_text(c) for c in cells]
                earlier_signature = [_text(c) for c in earlier_cells]
                if earlier_signature == signature:
                    self.exclude(
                        number,
                        f"exact duplicate of row {earlier} (patient {patient_id})",
                        kind="duplicate_row",
                    )
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
                        kind="lab_name_not_known",
                    )
            if role.role == "lab":
                slot = (role.lab_key, float(role.time or 0.0))
                if slot in seen:
                    self.warn(
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

    def _patients_from_rows(self, frame: pd.DataFrame, roles: list[ColumnRole]) -> pd.DataFrame:
        id_column = next(r.column for r in roles if r.role == "patient_id")
        ids = [_text(v) for v in frame[id_column]]
        index = pd.Index(ids, name="patient_id")
        columns: dict[str, pd.Series] = {
            name: pd.Series([None] * len(ids), index=index, dtype=object)
            for name in STANDARD_ATTRIBUTES
        }
        for role in roles:
            if role.role in STANDARD_ATTRIBUTES:
                parsed = self._parse_attribute(role, frame[role.column]).to_numpy()
                columns[role.role] = pd.Series(parsed, index=index, dtype=object)
            elif role.role == "attribute":
                values = [parse_text(v) for v in frame[role.column]]
                columns[role.column] = pd.Series(values, index=index, dtype=object)
        patients = pd.DataFrame(columns, index=index)  # one frame, not one insert per column
        patients["age"] = pd.to_numeric(patients["age"], errors="coerce").astype(float)
        return patients

    def _parse_attribute(self, role: ColumnRole, cells: pd.Series) -> pd.Series:
        parsers = {
            "sex": lambda raw: (*parse_sex(raw), "sex_not_recognised"),
            "age": lambda raw: _age_reading(raw),
            "age_group": lambda raw: (*parse_age_group(raw), "age_group_not_recognised"),
            "iron": lambda raw: (*parse_yes_no(raw, "iron therapy"), "yes_no_not_recognised"),
            "epo": lambda raw: (*parse_yes_no(raw, "Epo"), "yes_no_not_recognised"),
        }
        parser = parsers.get(role.role)
        if parser is None:
            values = [parse_text(v) for v in cells]
            if role.role == "cohort":
                values = [v.lower() if v else v for v in values]
            return pd.Series(values, index=cells.index, dtype=object)
        # each distinct cell is parsed once (type and value: True and 1 read differently)
        parsed: dict[tuple[type, object], tuple[object, str, str]] = {}
        values = []
        problems: dict[str, tuple[list[int], list[str]]] = {}
        for row, raw in cells.items():
            key = (type(raw), raw)
            result = parsed.get(key)
            if result is None:
                result = parsed[key] = parser(raw)
            value, problem, kind = result
            if problem:
                rows, messages = problems.setdefault(kind, ([], []))
                rows.append(int(row))
                messages.append(problem)
            values.append(value)
        for kind, (rows, messages) in problems.items():
            self.issues.add_many("warning", kind, role.column, rows, messages.__getitem__)
        return pd.Series(values, index=cells.index, dtype=object)

    def _wide_labs(
        self, frame: pd.DataFrame, roles: list[ColumnRole], patient_ids: pd.Index
    ) -> pd.DataFrame:
        # gathered as arrays, made into one frame at the end: each text column is taken
        # from a few distinct texts (converting millions of cells one by one costs seconds)
        positions, values, censored, rows = [], [], [], []
        per_column: list[tuple[str, float, str, str]] = []
        for role in roles:
            if role.role != "lab":
                continue
            readings = classify_column(frame[role.column], decimal_comma=self.grid.decimal_comma)
            unit = self._column_unit(role, readings)
            self._report_cells(readings, role.column, role.lab_key, unit)
            kinds = readings["kind"].to_numpy()
            keep = np.flatnonzero((kinds == "number") | (kinds == "below") | (kinds == "above"))
            if not len(keep):
                continue
            kinds = kinds[keep]
            positions.append(keep.astype(np.int32))  # under max_rows: int32 is enough
            values.append(readings["value"].to_numpy()[keep])
            censored.append((kinds == "below") * np.int8(1) + (kinds == "above") * np.int8(2))
            rows.append(readings.index.to_numpy()[keep].astype(np.int64))
            per_column.append((role.lab_key, float(role.time or 0.0), unit, role.column))
            self.lab_names.setdefault(role.lab_key, (role.lab_name, role.known_lab))
        if not per_column:
            return empty_labs()
        which = np.repeat(np.arange(len(per_column), dtype=np.int32), [len(p) for p in positions])

        def texts(distinct: list[str], codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
            return pd.array(np.array(distinct, dtype=object), dtype="str").take(codes)

        return pd.DataFrame(
            {
                "patient_id": texts(list(patient_ids), np.concatenate(positions)),
                "analyte": texts([c[0] for c in per_column], which),
                "time": np.array([c[1] for c in per_column], dtype=float)[which],
                "value": np.concatenate(values),
                "censored": texts(["", "<", ">"], np.concatenate(censored)),
                "unit": texts([c[2] for c in per_column], which),
                "row": np.concatenate(rows),
                "column": texts([c[3] for c in per_column], which),
            }
        )

    def _column_unit(self, role: ColumnRole, readings: pd.DataFrame) -> str:
        cell_units = readings["unit"]
        cell_units = cell_units[cell_units.to_numpy() != ""]
        if cell_units.empty:
            return role.unit
        if not role.unit:
            unit = Counter(cell_units).most_common(1)[0][0]
            self.note(
                f"unit '{unit}' taken from the cells", column=role.column, kind="unit_from_cells"
            )
            return unit
        wanted = normalise_unit(role.unit)
        differs = {u: normalise_unit(u) != wanted for u in pd.unique(cell_units.to_numpy())}
        odd = cell_units[cell_units.map(differs).to_numpy(dtype=bool)]
        self.issues.add_many(
            "warning",
            "unit_differs",
            role.column,
            odd.index.to_numpy(),
            lambda i: (
                f"the cell says '{odd.iloc[i]}' but the column's unit is '{role.unit}'; "
                "the value was kept as written, not converted"
            ),
        )
        return role.unit

    def _report_cells(self, readings: pd.DataFrame, column: str, analyte: str, unit: str) -> None:
        kinds = readings["kind"].to_numpy()
        rows = readings.index.to_numpy()
        unreadable = np.flatnonzero((kinds == "error") | (kinds == "invalid"))
        if len(unreadable):
            problems = readings["problem"].to_numpy()[unreadable]
            messages = readings["message"].to_numpy()[unreadable]
            for problem in pd.unique(problems):
                at = np.flatnonzero(problems == problem)
                self.issues.add_many(
                    "warning",
                    problem,
                    column,
                    rows[unreadable[at]],
                    lambda i, at=at: messages[at[i]],
                )
        for kind, label, issue_kind in (
            ("not_available", "read as missing", "read_as_missing"),
            ("below", "kept as censored values below the detection limit", "censored_below"),
            ("above", "kept as censored values above the measuring range", "censored_above"),
        ):
            at = np.flatnonzero(kinds == kind)
            if not len(at):
                continue
            # one note per distinct text, in the order of the texts
            texts = readings["raw"].to_numpy()[at]
            order = np.argsort(texts, kind="stable")
            texts, where = texts[order], rows[at][order]
            starts = np.flatnonzero(np.r_[True, texts[1:] != texts[:-1]])
            ends = np.r_[starts[1:], len(texts)]
            for start, end in zip(starts, ends, strict=True):
                raw = texts[start]
                if end - start == 1:
                    self.note(f"'{raw}' {label}", int(where[start]), column, kind=issue_kind)
                    continue
                listed = ", ".join(
                    str(r) for r in where[start : min(end, start + _MAX_LISTED_ROWS)]
                )
                more = end - start - _MAX_LISTED_ROWS
                listed += f" and {more} more" if more > 0 else ""
                self.note(f"'{raw}' {label} (rows {listed})", column=column, kind=issue_kind)
        numbers = kinds == "number"
        values = readings["value"].to_numpy()
        bounds = plausible_range(analyte, unit)
        if bounds is not None:
            outside = np.flatnonzero(numbers & ((values < bounds[0]) | (values > bounds[1])))
            self.issues.add_many(
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
            self.warn(
                "every value is 1 or less: these look like fractions, not percentages "
                "(multiply by 100); values were not converted",
                column=column,
                kind="fractions_not_percentages",
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
                self.exclude_empty(number)
                continue
            patient_id = ids[offset]
            if not patient_id:
                self.exclude(number, "no patient ID", kind="no_patient_id")
                continue
            if summary[offset]:
                self.exclude(number, _summary_reason(patient_id), kind="summary_row")
                continue
            attribute_rows.append((number, cells))
            lab_text = _text(cells[index["analyte"]])
            if not lab_text or len(lab_text) > MAX_HEADER_CHARS:
                reason = f"lab name of {len(lab_text):,} characters" if lab_text else "no lab name"
                self.exclude(number, reason, kind="no_lab_name")
                continue
            raw_time = cells[index["time"]]
            parsed = (
                (float(raw_time), "")
                if isinstance(raw_time, (int, float)) and not isinstance(raw_time, bool)
                else parse_time(_text(raw_time))
            )
            if parsed is None or not abs(parsed[0]) <= _MAX_ABS:  # also NaN and infinity
                self.exclude(
                    number,
                    f"time '{shown(_text(raw_time))}' not recognised",
                    kind="time_not_recognised",
                )
                continue
            reading = classify_cell(cells[index["value"]], decimal_comma=self.grid.decimal_comma)
            column = roles[index["value"]].column
            if not reading.is_value:
                if reading.kind in ("error", "invalid"):
                    self.warn(reading.message, number, column, kind=reading.problem)
                    self.exclude(
                        number,
                        f"lab value not readable: {reading.message}",
                        kind="lab_value_not_readable",
                    )
                else:
                    self.exclude(number, "no lab value (empty or N/A)", kind="no_lab_value")
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
                    self.exclude(number, f"same lab value as row {earlier}", kind="duplicate_row")
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
                    self.warn(
                        f"{problem}; check the unit", number, column, kind="implausible_value"
                    )
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
                }
            )
            self.lab_names.setdefault(
                key, (spec.name if spec else lab_text.strip(), spec is not None)
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
                self.warn(f"the sheet '{name}' was not read: {error}", kind="sheet_not_read")
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
                self.warn(
                    f"patient attributes on the sheet '{name}' were not read: {error}",
                    kind="sheet_not_read",
                )
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
                self.exclude(number, "above the header row", sheet=name, kind="above_header")
            elif not any(c is not None for c in cells):
                self.exclude(number, "empty row", sheet=name, kind="empty_row")
            elif not ids[index]:
                self.exclude(number, "no patient ID", sheet=name, kind="no_patient_id")
            elif summary[index]:
                self.exclude(number, _summary_reason(ids[index]), sheet=name, kind="summary_row")
            elif ids[index] in kept_ids:
                self.exclude(
                    number,
                    "patient already listed above on this sheet",
                    sheet=name,
                    kind="duplicate_row",
                )
            else:
                kept_ids.add(ids[index])
                kept.append(cells)
                numbers.append(number)
                self.n_rows_used += 1
        frame = pd.DataFrame(
            kept, columns=[r.column for r in roles], index=pd.Index(numbers), dtype=object
        )
        attributes = self._patients_from_rows(frame, roles)
        self.note(
            f"patient attributes read from sheet '{name}' ({len(attributes)} patients)",
            kind="attributes_from_sheet",
        )
        merged = patients.combine_first(attributes) if len(patients) else attributes
        order = list(patients.index) + [p for p in attributes.index if p not in patients.index]
        missing = [p for p in attributes.index if p not in patients.index]
        if missing:
            self.note(
                f"{len(missing)} patients on sheet '{name}' have no lab values: "
                + ", ".join(missing[:10]),
                kind="patients_without_labs",
            )
        columns = list(patients.columns) + [c for c in merged.columns if c not in patients.columns]
        return merged.reindex(index=order, columns=columns)

    # ---- labs
    def _analytes(self, labs: pd.DataFrame) -> dict[str, LabInfo]:
        analytes: dict[str, LabInfo] = {}
        if labs.empty:
            return analytes
        # the few distinct units and times of each lab, by groupby, not value by value
        times = labs.groupby("analyte", sort=False)["time"].unique()
        unit_counts: dict[str, Counter[str]] = {}
        for (key, unit), n in labs.groupby(["analyte", "unit"], sort=False).size().items():
            if unit:
                unit_counts.setdefault(str(key), Counter())[str(unit)] = int(n)
        for key, (name, known) in self.lab_names.items():
            units = unit_counts.get(key, Counter())
            normalised = {normalise_unit(u) for u in units}
            unit = units.most_common(1)[0][0] if units else ""
            if len(normalised) > 1:
                self.warn(
                    f"{name} is given in several units "
                    f"({', '.join(sorted(units))}); values are not converted, so compare "
                    "like with like",
                    kind="several_units",
                )
            analytes[key] = lab_info(key, name, unit, [float(t) for t in times[key]], known)
        return analytes
