"""Reading an uploaded Excel workbook without trusting it.

An .xlsx file is a zip archive of XML parts. Before python-calamine sees a byte of
it, every part is checked (steps 1, 2 and 4 by :mod:`analytics.reading.xlsx_package`, step 3
here):

1. What the file is: a password-protected workbook, an old .xls, an OpenDocument
   (.ods) or Apple Numbers file, a zip that holds no workbook, a truncated zip ...
   each gets its own message.
2. The zip's declared sizes (refuses an honest "zip bomb" at once), then every part
   is inflated for real, in bounded chunks, whatever its headers claim: the real
   total, size, compression ratio and checksum of each part are checked as they
   stream, so a part that lies about its size is stopped a megabyte past its claim.
3. The parts are scanned with expat (linear time): no part may declare a DTD or
   entities; every worksheet's farthest cell (from ``<dimension>``, ``<row r>`` and
   ``<c r>``, in any quoting or namespace prefix, and counting rows and cells
   without ``r`` as calamine does) must stay within the cell limit, because calamine
   allocates the whole rectangle; and no shared-string table may declare more
   entries than the cell limit, because calamine reserves memory for them up front.
   The cells of a worksheet and the entries of the texts are checked over the bytes
   by :mod:`analytics.reading.xlsx_fast` where they are written regularly (as
   Excel, LibreOffice and libraries write them), with the same outcome; any other
   part, and any irregular one, goes through expat.
4. calamine then reads a clean copy of the archive rebuilt from the parts just
   checked (fresh headers; the XML parts as the very bytes checked, stored, up to
   :data:`~analytics.reading.xlsx_package.STORED_BUDGET`, so that calamine does not
   inflate them again; the others as the same compressed bytes), so it sees only
   consistent, bounded parts.

Formula cells saved without a result (calamine reads them as empty) are reported
as :class:`~analytics.reading.grid.CellIssue` of kind ``"formula_without_value"``.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from analytics.errors import InputError
from analytics.limits import LIMITS
from analytics.reading.grid import CellIssue, Grid, LazySheets, Rows
from analytics.reading.xlsx_fast import fast_scan
from analytics.reading.xlsx_package import (
    OUT_CHUNK,
    SAVE_AGAIN,
    InflatedParts,
    PartTotal,
    check_declared_sizes,
    is_workbook,
    normalise_name,
    open_zip,
    rebuild,
    refuse_non_xlsx_zip,
    refuse_other_formats,
    stream_member,
)
from analytics.reading.xlsx_xml import (
    _MAX_FORMULA_ISSUES,
    _declared_count,  # noqa: F401 (the tests look it up here)
    _parse_ref,  # noqa: F401 (the tests look it up here)
    _PartScan,
)

__all__ = ["is_workbook", "read_workbook"]

_MB = 1024 * 1024

_FORMULA_WITHOUT_VALUE = (
    "formula without a saved result, read as empty: open the file in Excel, let it "
    "calculate, and save it again"
)


def _feed(part: _PartScan, content: bytearray) -> None:
    for start in range(0, len(content), OUT_CHUNK):
        part.feed(bytes(content[start : start + OUT_CHUNK]))


#: Relationship types (last segment) of the parts calamine reads as XML.
_XML_RELATIONSHIPS = {
    "worksheet",
    "chartsheet",
    "dialogsheet",
    "xlMacrosheet",
    "xlIntlMacrosheet",
    "sharedStrings",
    "styles",
}


def _is_xml_name(name: str) -> bool:
    return name.endswith((".xml", ".rels", ".vml"))


@dataclass
class _Checked:
    """What the checks of a workbook's parts found, for reading it afterwards."""

    clean: bytes
    #: normalised part name -> formula cells without a value (1-based row, 0-based column)
    formula_cells: dict[str, list[tuple[int, int]]]
    formula_counts: dict[str, int]
    #: sheet name -> normalised part name, resolved as calamine resolves it
    sheet_parts: dict[str, str]


def _office_directory(relationships: dict[str, tuple[str, str]]) -> str:
    """The folder of the workbook part (``"xl/"``), from the package relationships."""
    for rel_type, target in relationships.values():
        if rel_type.endswith("/relationships/officeDocument"):
            folder = target[: target.rfind("/") + 1] if "/" in target else ""
            return folder.removeprefix("/")
    return "xl/"


def _target_path(folder: str, target: str) -> str:
    return normalise_name(target[1:] if target.startswith("/") else folder + target)


def _sheet_parts(
    folder: str, sheets: list[tuple[str, str]], workbook_rels: dict[str, tuple[str, str]]
) -> dict[str, str]:
    """Sheet name -> its part's normalised name, resolved as calamine resolves it."""
    parts: dict[str, str] = {}
    for sheet_name, rel_id in sheets:
        if rel_id in workbook_rels:
            parts.setdefault(sheet_name, _target_path(folder, workbook_rels[rel_id][1]))
    return parts


def _locate_sheets(
    by_name: dict[str, zipfile.ZipInfo],
    scan_xml: Callable[[zipfile.ZipInfo], _PartScan],
    done: set[str],
) -> tuple[str, dict[str, tuple[str, str]], list[tuple[str, str]]]:
    """Scan the parts that say where the sheets are: the workbook's folder, its
    relationships and its sheets (name, relationship id)."""
    folder = "xl/"
    package = by_name.get("_rels/.rels")
    if package is not None:
        folder = _office_directory(scan_xml(package).relationships)
    workbook_rels: dict[str, tuple[str, str]] = {}
    rels = by_name.get(normalise_name(f"{folder}_rels/workbook.xml.rels"))
    if rels is not None and normalise_name(rels.filename) not in done:
        workbook_rels = scan_xml(rels).relationships
    sheets: list[tuple[str, str]] = []
    workbook = by_name.get(normalise_name(f"{folder}workbook.xml"))
    if workbook is not None and normalise_name(workbook.filename) not in done:
        sheets = scan_xml(workbook).sheets
    return folder, workbook_rels, sheets


def _inflated(data: bytes, member: zipfile.ZipInfo, total: PartTotal, part: _PartScan) -> bytearray:
    """The part's bytes, inflated in bounded chunks; when it breaks off, what its XML
    said before that is fed to ``part`` first, so those messages come before the error."""
    content = bytearray()
    try:
        for chunk in stream_member(data, member, total):
            content += chunk
    except InputError:
        _feed(part, content)
        raise
    return content


def _check_parts(data: bytes, members: list[zipfile.ZipInfo]) -> _Checked:
    """Inflate and check every part (see the module's description); rebuild the archive."""
    max_cells = int(LIMITS["max_cells"].value)
    total = PartTotal(int(LIMITS["max_xlsx_uncompressed_mb"].value * _MB))
    by_name = {normalise_name(m.filename): m for m in members}
    labels: dict[str, str] = {}
    scans: dict[str, _PartScan] = {}
    inflated = InflatedParts()

    def scan_xml(member: zipfile.ZipInfo) -> _PartScan:
        name = normalise_name(member.filename)
        label = labels.get(name, f"in part {member.filename}")

        def fresh() -> _PartScan:
            return _PartScan(member.filename, label, max_cells)

        part = fresh()
        content = _inflated(data, member, total, part)
        inflated.keep(member.filename, content)
        # a worksheet's cells and the texts by numpy where they are regular (xlsx_fast)
        found = fast_scan(content, fresh, max_cells, _MAX_FORMULA_ISSUES)
        if found is None:
            _feed(part, content)
            part.feed(b"", final=True)
        scans[name] = part = found or part
        done.add(name)
        return part

    def scan_other(member: zipfile.ZipInfo) -> None:
        for _ in stream_member(data, member, total):
            pass
        done.add(normalise_name(member.filename))

    # the parts that say where the sheets are come first, so that the messages
    # about the other parts can name the sheet
    done: set[str] = set()
    folder, workbook_rels, sheets = _locate_sheets(by_name, scan_xml, done)
    # parts calamine parses as XML whatever their name: sheets, texts and styles
    xml_targets = {
        _target_path(folder, target)
        for rel_type, target in workbook_rels.values()
        if rel_type.rpartition("/")[2] in _XML_RELATIONSHIPS
    }
    sheet_parts = _sheet_parts(folder, sheets, workbook_rels)
    for sheet_name, path in sheet_parts.items():
        labels.setdefault(path, f"'{sheet_name}'")
    for member in members:
        name = normalise_name(member.filename)
        if name in done:
            continue
        if _is_xml_name(name) or name in xml_targets:
            scan_xml(member)
        else:
            scan_other(member)
    return _Checked(
        clean=rebuild(data, members, inflated),
        formula_cells={n: s.formula_cells for n, s in scans.items() if s.formula_cells},
        formula_counts={n: s.n_formula_cells for n, s in scans.items() if s.n_formula_cells},
        sheet_parts=sheet_parts,
    )


# --------------------------------------------------------------------------- reading


def _unreadable(error: BaseException) -> InputError:
    # what calamine says (an XML or zip error in Rust's words) means nothing to a
    # clinician; it stays on the exception chain for whoever debugs
    return InputError(
        "The Excel file could not be read: it is damaged, or written in a way this "
        f"reader does not follow. {SAVE_AGAIN}"
    )


@contextmanager
def _calamine_errors() -> Iterator[None]:
    """Turn whatever calamine raises for a damaged file into one :class:`InputError`."""
    try:
        yield
    except InputError:
        raise
    except Exception as error:  # calamine raises several types for damaged files
        raise _unreadable(error) from error
    except BaseException as error:
        # a Rust panic inside calamine surfaces as pyo3's PanicException, which
        # derives from BaseException and would pass every ``except Exception``
        if type(error).__name__ == "PanicException":
            raise _unreadable(error) from error
        raise


def _grid_size(sheet: Any) -> tuple[int, int]:
    """Rows and columns of the grid ``to_python(skip_empty_area=False)`` returns.

    calamine's ``height`` and ``width`` count only the used area, from the first to
    the last non-empty cell, and ``total_height``/``total_width`` are the 0-based
    index of the last row/column (one less than a count; 0 both for one cell in A1
    and for an empty sheet). The grid read here keeps the empty rows above and the
    empty columns left of the data, so that ``rows[i]`` is spreadsheet row ``i + 1``:
    it has ``end + 1`` rows and columns. A single cell in row 1,048,576 has a height
    of 1 but makes a grid of 1,048,576 rows.
    """
    end = sheet.end
    if end is None:
        return 0, 0
    return int(end[0]) + 1, int(end[1]) + 1


def _check_sheet_size(name: str, n_rows: int, n_columns: int) -> None:
    max_rows = int(LIMITS["max_rows"].value)
    max_columns = int(LIMITS["max_columns"].value)
    if n_rows > max_rows:
        raise InputError(
            f"The sheet '{name}' has {n_rows:,} rows (counting from row 1); "
            f"at most {max_rows:,} are read."
        )
    if n_columns > max_columns:
        raise InputError(
            f"The sheet '{name}' has {n_columns:,} columns (counting from column A); "
            f"at most {max_columns:,} are read."
        )


def _sheet_rows(workbook: Any, name: str, nrows: int | None = None) -> Rows:
    """Read one sheet (or its first ``nrows`` rows), checking its size first."""
    with _calamine_errors():
        sheet = workbook.get_sheet_by_name(name)
        n_rows, n_columns = _grid_size(sheet)
        # checked before to_python: the Python objects cost far more than calamine's cells
        _check_sheet_size(name, n_rows if nrows is None else min(n_rows, nrows), n_columns)
        raw = sheet.to_python(skip_empty_area=False, nrows=nrows)
    # (calamine makes plain str, float, int, bool and dates: no subclasses)
    return [[None if (type(c) is str and not c.strip()) else c for c in row] for row in raw]


def _formula_issues(checked: _Checked, sheet: str) -> tuple[CellIssue, ...]:
    part = checked.sheet_parts.get(sheet, "")
    cells = checked.formula_cells.get(part, [])
    issues = [
        CellIssue("formula_without_value", _FORMULA_WITHOUT_VALUE, row, column)
        for row, column in cells
    ]
    rest = checked.formula_counts.get(part, 0) - len(cells)
    if rest > 0:
        issues.append(
            CellIssue(
                "formula_without_value",
                f"{rest:,} more formula cells without a saved result, read as empty (not "
                "listed one by one): open the file in Excel, let it calculate, and save it again",
            )
        )
    return tuple(issues)


def read_workbook(data: bytes, filename: str, sheet: str | None = None) -> Grid:
    """Check an uploaded workbook's every part, then read one sheet with calamine.

    Raises
    ------
    InputError
        A file that is not an .xlsx/.xlsm workbook, is damaged, protected with a
        password, too large when expanded, or would make calamine exhaust memory.
    """
    refuse_other_formats(data, filename.lower())
    members = open_zip(data)
    refuse_non_xlsx_zip(members, data)
    check_declared_sizes(members)
    checked = _check_parts(data, members)
    with _calamine_errors():
        from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

        workbook = CalamineWorkbook.from_filelike(io.BytesIO(checked.clean))
        metadata = list(workbook.sheets_metadata)
        worksheets = [m for m in metadata if m.typ == SheetTypeEnum.WorkSheet]
        visible = [m.name for m in worksheets if m.visible == SheetVisibleEnum.Visible]
        hidden = tuple(m.name for m in worksheets if m.visible != SheetVisibleEnum.Visible)
    if sheet is None:
        if not visible:
            raise InputError("The workbook has no visible worksheet.")
        sheet = visible[0]
    elif sheet not in [m.name for m in worksheets]:
        names = ", ".join(visible) or "none"
        raise InputError(f"There is no sheet '{sheet}' in the workbook (sheets: {names}).")
    rows = _sheet_rows(workbook, sheet)
    others = LazySheets(
        tuple(name for name in visible if name != sheet),
        lambda name, nrows: _sheet_rows(workbook, name, nrows),
    )
    return Grid(
        rows=rows,
        kind="xlsx",
        sheet=sheet,
        sheets=tuple(visible),
        hidden_sheets=hidden,
        other_sheets=others,
        issues=_formula_issues(checked, sheet),
    )
