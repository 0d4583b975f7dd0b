"""From an uploaded file to a :class:`~analytics.cohort.Cohort`, accounting for every row.

The loader finds the header row below any title rows, recognises each column
(:mod:`analytics.reading.headers`), reads every cell (:mod:`analytics.reading.cells`,
:mod:`analytics.reading.attributes`) and records each problem with its row and column.
Every input row is either used or listed as excluded with its reason:
``n_rows_in == n_rows_used + len(excluded)``. Summary rows under the data
(``Mean``, ``SD``, ``Total``, ``n``, ``p-value`` ... in the patient-ID column) are
excluded as such, never read as patients (see :func:`summary_rows`).

The steps, each in its own module, all record into one
:class:`~analytics.reading.state.ReadState`:

- :mod:`analytics.reading.header_row` finds the header row; this module names the columns
  and gives each its role;
- :mod:`analytics.reading.wide` reads one row per patient, or
  :mod:`analytics.reading.long` one row per lab value;
- :mod:`analytics.reading.attribute_sheets` adds patient attributes from other sheets;
- :mod:`analytics.reading.patient_table` reads the attribute cells of every layout and
  :mod:`analytics.reading.summary_rows` tells summary rows from patients.

Files that cannot be analysed at all (no ID column, no lab column, no data rows,
a duplicate patient with conflicting values, an unreadable file) raise one
:class:`~analytics.errors.InputError`. Nothing else escapes :func:`load_cohort`.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
from collections import Counter
from collections.abc import Iterator, Mapping

import pandas as pd
import pyarrow as pa

from analytics.cohort import (
    STANDARD_ATTRIBUTES,
    Cohort,
    LabInfo,
    SourceInfo,
    ValidationReport,
    lab_info,
)
from analytics.errors import InputError
from analytics.labs import normalise_unit
from analytics.reading.attribute_sheets import merge_attribute_sheets
from analytics.reading.attributes import cell_text
from analytics.reading.cells import shown
from analytics.reading.dated import prepare_dated, read_dated, window_dated, with_anchor
from analytics.reading.grid import Grid
from analytics.reading.header_row import column_letter, find_header
from analytics.reading.headers import (
    ATTRIBUTE_ROLES,
    LONG_ROLES,
    MAX_HEADER_CHARS,
    ColumnRole,
    parse_role,
    recognise_header,
)
from analytics.reading.identifiers import find_identifiers, looks_like_identifier
from analytics.reading.long import read_long
from analytics.reading.role_hints import warn_unassigned_roles
from analytics.reading.state import ReadState
from analytics.reading.summary_rows import summary_rows
from analytics.reading.upload import read_grid
from analytics.reading.wide import RELEASE_AFTER_CELLS, read_wide
from analytics.reading.window_rules import VisitWindows

__all__ = ["header_columns", "load_cohort", "parse_mapping", "summary_rows"]


def parse_mapping(items: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Turn ``["COLUMN=ROLE", ...]`` into a dict; the last ``=`` separates the role."""
    mapping: dict[str, str] = {}
    for item in items:
        column, sep, role = item.rpartition("=")
        if not sep or not column.strip():
            raise InputError(f"'{item}' is not a column correction; write COLUMN=ROLE.")
        mapping[column.strip()] = role.strip()
    return mapping


@contextlib.contextmanager
def _cycles_not_collected() -> Iterator[None]:
    """Python's cycle collector paused while a file is read: reading makes millions of
    objects (cells, rows) and no cycles, and at 100,000 patients the collector's passes
    over them cost a sixth of the time. Turned back on after (if it was on)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def load_cohort(
    data: bytes,
    filename: str,
    *,
    sheet: str | None = None,
    mapping: Mapping[str, str] | None = None,
    is_demo: bool = False,
    windows: VisitWindows | None = None,
    anchor_file: tuple[str, bytes] | None = None,
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
        :func:`analytics.reading.headers.parse_role`).
    is_demo
        Marks the bundled demo cohort (shown as such in the app).
    windows
        Dated results (a long table with collection dates): the visit windows, the
        start-date column and the date order (default :class:`VisitWindows`).
    anchor_file
        Dated results: ``(file name, bytes)`` of a second file with one row per
        patient holding the start dates.

    Returns
    -------
    Cohort

    Raises
    ------
    InputError
        When the file cannot be analysed; the message says what to change (a
        :class:`~analytics.errors.NeedsAnswer` when the user must say what the data
        cannot tell: the date order, where the start dates are).
    """
    try:
        with _cycles_not_collected():
            return _read_cohort(data, filename, sheet, mapping, is_demo, windows, anchor_file)
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
    windows: VisitWindows | None = None,
    anchor_file: tuple[str, bytes] | None = None,
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
    return _build(grid, dict(mapping or {}), source, windows, anchor_file)


def header_columns(data: bytes, filename: str, sheet: str | None = None) -> list[str]:
    """The column names of the file's header row (for correcting a file that failed),
    as the loader names them (``column C`` for a blank header, ``X (2)`` for a repeat).

    Returns an empty list when not even a header row can be found.
    """
    try:
        rows = read_grid(data, filename, sheet).rows
        header = rows[find_header(rows, {})]
    except Exception:  # the caller is already showing why the file failed
        return []
    return _column_names(header)[0]


# --------------------------------------------------------------------------- building


def _build(
    grid: Grid,
    overrides: Mapping[str, str],
    source: SourceInfo,
    windows: VisitWindows | None = None,
    anchor_file: tuple[str, bytes] | None = None,
) -> Cohort:
    """The cohort of the grid: header, roles, the layout's rows, other sheets, labs."""
    rows = grid.rows
    if not any(any(c is not None for c in row) for row in rows):
        raise InputError("The file has no data: every cell is empty.")
    state = ReadState(grid)
    header_index = find_header(rows, overrides)
    headers = _headers(state, rows[header_index], overrides)
    _reader_issues(state, headers)
    roles = _roles(state, headers, with_anchor(overrides, headers, windows))
    roles, dated = prepare_dated(state, roles, windows, anchor_file)
    _account_above_header(state, rows, header_index)
    data_rows = rows[header_index + 1 :]
    first_row_number = header_index + 2
    long_layout = any(r.role in ("analyte", "value") for r in roles)
    read_layout = read_dated if dated else read_long if long_layout else read_wide
    patients, labs, roles = read_layout(state, roles, data_rows, first_row_number)
    patients = merge_attribute_sheets(state, patients)
    windowed = None
    if dated:
        patients, labs, windowed = window_dated(
            state, patients, labs, roles, windows or VisitWindows(), anchor_file, first_row_number
        )
    identifiers = find_identifiers(roles, patients, state.issues)
    warn_unassigned_roles(state, roles, patients)
    analytes = _analytes(state, labs)
    if not analytes:
        raise InputError(
            "No lab values were found. Name lab columns like 'MCV 0', 'MCV (fL) 2 months' "
            "or 'Hb 2mo', or mark a column as a lab in the column mapping."
        )
    report = ValidationReport(
        n_rows_in=state.n_rows_in,
        n_rows_used=state.n_rows_used,
        excluded=tuple(state.excluded),
        issues=state.issues.issues(),
        header_row=header_index + 1,
        groups=state.issues.groups(),
    )
    layout = "dated long" if dated else "long" if long_layout else "wide"
    source = SourceInfo(**{**source.__dict__, "layout": layout})
    extras = tuple(c for c in patients.columns if c not in STANDARD_ATTRIBUTES)
    return Cohort(
        patients, labs, analytes, report, source, tuple(roles), extras, identifiers, windowed
    )


def _reader_issues(state: ReadState, headers: list[str]) -> None:
    """Record what the reader noticed, naming columns by their headers."""

    def name(index: int | None) -> str | None:
        if index is None:
            return None
        return headers[index] if index < len(headers) else f"column {column_letter(index)}"

    for found in state.grid.issues:
        state.issues.record(
            found.severity, found.kind, found.message, found.row, name(found.column)
        )
    for severity, kind, column, n in state.grid.omitted_issues:
        state.issues.count_more(severity, kind, name(column), n)


def _column_names(header_row: list[object]) -> tuple[list[str], list[tuple[str, str, str]]]:
    """The column names: each header's text, made unique, or ``column X`` where it has none.

    Also returns what was changed, as ``(kind, message, column)`` for a warning (the
    column ``""`` when the warning names none).
    """
    names: list[str] = []
    changes: list[tuple[str, str, str]] = []
    seen: Counter[str] = Counter()
    for index, cell in enumerate(header_row):
        text = cell_text(cell) or f"column {column_letter(index)}"
        if len(text) > MAX_HEADER_CHARS:
            name = f"column {column_letter(index)}"
            changes.append(
                (
                    "long_header",
                    f"the header of {name} is {len(text):,} characters long ('{shown(text)}'); "
                    f"a header has at most {MAX_HEADER_CHARS} characters, so the column is "
                    f"read as '{name}', an ordinary attribute",
                    name,
                )
            )
            text = name
        seen[text] += 1
        if seen[text] > 1:
            renamed = f"{text} ({seen[text]})"
            changes.append(
                (
                    "duplicate_header",
                    f"the header '{text}' appears more than once; read as '{renamed}'",
                    "",
                )
            )
            text = renamed
        names.append(text)
    return names, changes


def _headers(state: ReadState, header_row: list[object], overrides: Mapping[str, str]) -> list[str]:
    """The column names (see :func:`_column_names`), checked against the corrections."""
    headers, changes = _column_names(header_row)
    for kind, message, column in changes:
        state.warn(message, column=column or None, kind=kind)
    for column in overrides:
        if column not in headers:
            raise InputError(
                f"The column correction names '{column}', but the file has no such column. "
                f"Columns: {', '.join(headers)}."
            )
    return headers


def _roles(state: ReadState, headers: list[str], overrides: Mapping[str, str]) -> list[ColumnRole]:
    """Each column's role: as corrected in the mapping, else as recognised from its header."""
    roles: list[ColumnRole] = []
    taken: dict[str, str] = {}
    single = set(ATTRIBUTE_ROLES) | set(LONG_ROLES)
    read = [_read_role(header, overrides) for header in headers]
    preferred = _preferred_id(read)
    if preferred is not None:
        taken["patient_id"] = preferred
    for role in read:
        header = role.column
        if role.role in single and taken.get(role.role) != header:
            if role.role in taken:
                state.warn(
                    f"read as an ordinary attribute: '{taken[role.role]}' is already "
                    f"the {role.describe()} column",
                    column=header,
                    kind="role_already_taken",
                )
                role = ColumnRole(header, "attribute")
            else:
                taken[role.role] = header
        roles.append(role)
    if "patient_id" not in taken:
        raise InputError(
            "No patient ID column was found. Name one column 'patient_id' (or 'patient', "
            "'id', 'study id', 'MRN', 'record #'), or give one column the patient ID role "
            "(on the Data page with the column pickers; on the command line with "
            '--map "COLUMN=patient_id").'
        )
    return roles


def _read_role(header: str, overrides: Mapping[str, str]) -> ColumnRole:
    """The column's role as corrected in the mapping, else as recognised from its header."""
    if header in overrides:
        try:
            return parse_role(header, overrides[header])
        except ValueError as error:
            raise InputError(f"Column correction for '{header}': {error}") from error
    role = recognise_header(header)
    if header.startswith("column ") and role.role == "attribute":
        return ColumnRole(header, "attribute", source="no header")
    return role


def _preferred_id(roles: list[ColumnRole]) -> str | None:
    """The patient ID column among several candidates.

    One set by the user wins; then a study ID wins over a record number (``MRN``,
    ``hospital number``), which is kept as an ordinary attribute with a warning.
    """
    candidates = [r for r in roles if r.role == "patient_id"]
    if not candidates:
        return None
    ranked = sorted(
        candidates,
        key=lambda r: (r.source != "set by you", looks_like_identifier(r.column)),
    )
    return ranked[0].column


def _account_above_header(state: ReadState, rows: list[list[object]], header_index: int) -> None:
    """Exclude the rows above the header: titles, notes, empty rows."""
    for index in range(header_index):
        state.n_rows_in += 1
        if any(c is not None for c in rows[index]):
            text = " ".join(cell_text(c) for c in rows[index] if c is not None)[:80]
            state.exclude(
                index + 1, f"title or note above the header row: '{text}'", kind="above_header"
            )
        elif index in state.grid.continuation_rows:
            state.exclude_empty(index + 1)
        else:
            state.exclude(index + 1, "empty row above the header row", kind="above_header")


def _analytes(state: ReadState, labs: pd.DataFrame) -> dict[str, LabInfo]:
    """The labs present, with their unit and times; a warning for a lab in several units."""
    analytes: dict[str, LabInfo] = {}
    if labs.empty:
        return analytes
    if len(labs) >= RELEASE_AFTER_CELLS:
        # what pyarrow's memory pool still keeps of freed texts, handed back before grouping
        pa.default_memory_pool().release_unused()
    # the few distinct units and times of each lab, by groupby, not value by value
    times = labs.groupby("analyte", sort=False)["time"].unique()
    unit_counts: dict[str, Counter[str]] = {}
    for (key, unit), n in labs.groupby(["analyte", "unit"], sort=False).size().items():
        if unit:
            unit_counts.setdefault(str(key), Counter())[str(unit)] = int(n)
    for key, (name, known) in state.lab_names.items():
        units = unit_counts.get(key, Counter())
        normalised = {normalise_unit(u) for u in units}
        unit = units.most_common(1)[0][0] if units else ""
        if len(normalised) > 1:
            state.warn(
                f"{name} is given in several units "
                f"({', '.join(sorted(units))}); values are not converted, so compare "
                "like with like",
                kind="several_units",
            )
        analytes[key] = lab_info(key, name, unit, [float(t) for t in times[key]], known)
    return analytes
