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
3. The same chunks are fed to expat (linear time): no part may declare a DTD or
   entities; every worksheet's farthest cell (from ``<dimension>``, ``<row r>`` and
   ``<c r>``, in any quoting or namespace prefix, and counting rows and cells
   without ``r`` as calamine does) must stay within the cell limit, because calamine
   allocates the whole rectangle; and no shared-string table may declare more
   entries than the cell limit, because calamine reserves memory for them up front.
4. calamine then reads a clean copy of the archive rebuilt from the parts just
   checked (the same compressed bytes, fresh headers), so it sees only consistent,
   bounded parts.

Formula cells saved without a result (calamine reads them as empty) are reported
as :class:`~analytics.reading.grid.CellIssue` of kind ``"formula_without_value"``.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from xml.parsers import expat

from analytics.errors import InputError
from analytics.limits import LIMITS
from analytics.reading.grid import CellIssue, Grid, LazySheets, Rows
from analytics.reading.xlsx_package import (
    MAX_PARTS,
    SAVE_AGAIN,
    PartTotal,
    check_declared_sizes,
    damaged,
    is_workbook,
    normalise_name,
    open_zip,
    rebuild,
    refuse_non_xlsx_zip,
    refuse_other_formats,
    stream_member,
)

__all__ = ["is_workbook", "read_workbook"]

_MB = 1024 * 1024

#: Formula cells without a saved result listed one by one; the rest are counted.
_MAX_FORMULA_ISSUES = 200

_FORMULA_WITHOUT_VALUE = (
    "formula without a saved result, read as empty: open the file in Excel, let it "
    "calculate, and save it again"
)


# --------------------------------------------------------------------------- XML parts


_LOCAL_NAMES: dict[str, str] = {}


def _local(name: str) -> str:
    """``"x:row"`` -> ``"row"`` (element and attribute names compared without prefix)."""
    local = _LOCAL_NAMES.get(name)
    if local is None:
        local = name.rpartition(":")[2]
        if len(_LOCAL_NAMES) < 4096:  # the names an ordinary workbook uses, kept
            _LOCAL_NAMES[name] = local
    return local


_REF_RE = re.compile(r"([A-Za-z]*)([0-9]+)")
_COLUMN_NUMBERS: dict[str, int] = {}


def _parse_ref(value: str) -> tuple[int, int] | None:
    """``"XFD1048576"`` -> ``(1048576, 16384)`` (1-based; column 0 when absent).

    The grammar is calamine's: letters of either case, then digits. None when the
    value does not parse (calamine then refuses the sheet itself). Matched on the
    attribute's value only, never on the XML.
    """
    match = _REF_RE.fullmatch(value)
    if match is None:
        return None
    letters, row = match.group(1), int(match.group(2))
    column = _COLUMN_NUMBERS.get(letters)
    if column is None:
        column = 0
        for letter in letters.upper():
            column = column * 26 + (ord(letter) - 64)
        if len(letters) <= 3:
            _COLUMN_NUMBERS[letters] = column
    return (row, column) if row >= 1 else None


def _declared_count(value: str) -> int:
    """A count attribute as calamine might read it (0 when there is no number)."""
    digits = value.strip().lstrip("+")
    end = 0
    while end < len(digits) and digits[end].isascii() and digits[end].isdigit():
        end += 1
    if end > 15:
        return 10**15
    return int(digits[:end]) if end else 0


def _column_letters(number: int) -> str:
    letters = ""
    while number > 0 and len(letters) < 8:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


@dataclass
class _PartScan:
    """Everything learnt from one XML part, fed in chunks to expat.

    Rows and cells are placed as calamine places them: a ``<row>`` or ``<c>`` without
    ``r`` continues from the previous one (calamine reads only the unprefixed ``r``);
    the extent also counts any prefixed ``r``, to be safe.
    """

    name: str
    sheet_label: str
    max_cells: int
    #: Relationship targets (``.rels`` parts): ``{id: (type, target)}``.
    relationships: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: Worksheets named in a workbook part: ``[(name, relationship id)]``.
    sheets: list[tuple[str, str]] = field(default_factory=list)
    has_sheet_data: bool = False
    far_row: int = 0
    far_column: int = 0
    formula_cells: list[tuple[int, int]] = field(default_factory=list)
    n_formula_cells: int = 0
    _row: int = 0  # 0-based, as calamine counts
    _column: int = 0
    _cell: tuple[int, int] | None = None
    _cell_formula: bool = False
    _cell_value: bool = False
    _in_value: bool = False
    _in_strings: bool = False
    _n_strings: int = 0

    def __post_init__(self) -> None:
        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartDoctypeDeclHandler = self._doctype
        parser.EntityDeclHandler = self._entity
        parser.ExternalEntityRefHandler = self._external
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._text
        self._parser = parser

    def feed(self, chunk: bytes, final: bool = False) -> None:
        try:
            self._parser.Parse(chunk, final)
        except expat.ExpatError as error:
            raise damaged(
                f"its part {self.name} is not well-formed XML (line {error.lineno:,})"
            ) from error
        except LookupError as error:  # <?xml encoding="..."?> names an unknown encoding
            raise damaged(
                f"its part {self.name} declares a text encoding Excel never writes"
            ) from error

    # ---- refusals
    def _doctype(self, *_: object) -> None:
        raise InputError(
            f"The Excel file's part {self.name} declares a document type (DTD), which Excel "
            f"never writes; it may be malicious and was not opened. {SAVE_AGAIN}"
        )

    def _entity(self, *_: object) -> None:
        self._doctype()

    def _external(self, *_: object) -> int:
        self._doctype()
        return 0

    def _too_far(self, row: int, column: int) -> None:
        self.far_row = max(self.far_row, row)
        self.far_column = max(self.far_column, column)
        if self.far_row * max(self.far_column, 1) > self.max_cells:
            letters = _column_letters(self.far_column)
            raise InputError(
                f"The sheet {self.sheet_label} has cells out to row {self.far_row:,}, column "
                f"{self.far_column:,} ({letters}): more than the {self.max_cells:,} cells read "
                "from one sheet. Delete stray cells far from the data (select the empty rows "
                "and columns after the table and delete them) and save again."
            )

    def _too_many_strings(self, count: int, what: str) -> None:
        if count > self.max_cells:
            raise InputError(
                f"The workbook's table of texts ({self.name}) {what} {count:,} entries: more "
                f"than the {self.max_cells:,} cells read from one sheet. It may be damaged or "
                f"malicious and was not opened. {SAVE_AGAIN}"
            )

    # ---- elements (the cell path first: it runs for every cell of every sheet)
    def _start(self, name: str, attributes: dict[str, str]) -> None:
        local = _LOCAL_NAMES.get(name) or _local(name)
        if local == "c":
            if self.has_sheet_data:
                self._cell_start(attributes)
        elif local == "v":
            if self._cell is not None:
                self._in_value = True
        elif local == "row":
            if self.has_sheet_data:
                self._row_start(attributes)
        elif local == "f":
            if self._cell is not None:
                self._cell_formula = True
        elif local == "is":
            if self._cell is not None:
                self._cell_value = True
        else:
            self._other_start(local, attributes)

    def _prefixed_r(self, attributes: dict[str, str], is_cell: bool) -> None:
        """A prefixed ``r`` (``x:r``) is ignored by calamine, but counted in the extent."""
        for key, value in attributes.items():
            if key[-2:] == ":r":
                ref = _parse_ref(value)
                if ref is not None:
                    self._too_far(ref[0], ref[1] if is_cell else 0)

    def _row_start(self, attributes: dict[str, str]) -> None:
        exact = attributes.get("r")
        if exact is not None:
            ref = _parse_ref(exact)
            if ref is not None:
                self._row = ref[0] - 1
        if len(attributes) > 1 or exact is None:
            self._prefixed_r(attributes, False)
        if self._row >= self.far_row:
            self._too_far(self._row + 1, 0)

    def _cell_start(self, attributes: dict[str, str]) -> None:
        exact = attributes.get("r")
        ref = _parse_ref(exact) if exact is not None else None
        if len(attributes) > 1 or exact is None:
            self._prefixed_r(attributes, True)
        if ref is not None and ref[1] >= 1:
            row, column = ref[0] - 1, ref[1] - 1
            self._column = column
        else:
            row, column = self._row, self._column
        if row >= self.far_row or column >= self.far_column:
            self._too_far(row + 1, column + 1)
        self._cell = (row + 1, column)
        self._cell_formula = self._cell_value = self._in_value = False

    def _other_start(self, local: str, attributes: dict[str, str]) -> None:
        if local == "sheetData":
            self.has_sheet_data = True
        elif local == "dimension":
            for key, value in attributes.items():
                if _local(key) == "ref":
                    for part in value.split(":"):
                        ref = _parse_ref(part)
                        if ref is not None:
                            self._too_far(*ref)
        elif local == "sst":
            self._in_strings = True
            for key, value in attributes.items():
                if _local(key) in ("count", "uniqueCount"):
                    self._too_many_strings(_declared_count(value), "declares")
        elif local == "si" and self._in_strings:
            self._n_strings += 1
            self._too_many_strings(self._n_strings, "holds at least")
        elif local == "Relationship":
            get = {_local(k): v for k, v in attributes.items()}.get
            if len(self.relationships) < MAX_PARTS:
                self.relationships[get("Id", "")] = (get("Type", ""), get("Target", ""))
        elif local == "sheet" and len(self.sheets) < MAX_PARTS:
            sheet_name = attributes.get("name", "")
            rel_id = next((v for k, v in attributes.items() if _local(k) == "id"), "")
            self.sheets.append((sheet_name, rel_id))

    def _text(self, text: str) -> None:
        if self._in_value and text:
            self._cell_value = True

    def _end(self, name: str) -> None:
        local = _LOCAL_NAMES.get(name) or _local(name)
        if local == "v":
            self._in_value = False
        elif local == "c" and self._cell is not None:
            if self._cell_formula and not self._cell_value:
                self.n_formula_cells += 1
                if len(self.formula_cells) < _MAX_FORMULA_ISSUES:
                    self.formula_cells.append(self._cell)
            self._cell = None
            self._column += 1
        elif local == "row" and self.has_sheet_data:
            self._row += 1
            self._column = 0


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


def _check_parts(data: bytes, members: list[zipfile.ZipInfo]) -> _Checked:
    """Inflate and check every part (see the module's description); rebuild the archive."""
    max_cells = int(LIMITS["max_cells"].value)
    total = PartTotal(int(LIMITS["max_xlsx_uncompressed_mb"].value * _MB))
    by_name = {normalise_name(m.filename): m for m in members}
    labels: dict[str, str] = {}
    scans: dict[str, _PartScan] = {}

    def scan_xml(member: zipfile.ZipInfo) -> _PartScan:
        name = normalise_name(member.filename)
        label = labels.get(name, f"in part {member.filename}")
        part = _PartScan(member.filename, label, max_cells)
        for chunk in stream_member(data, member, total):
            part.feed(chunk)
        part.feed(b"", final=True)
        scans[name] = part
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
        clean=rebuild(data, members),
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
    return [[None if (isinstance(c, str) and not c.strip()) else c for c in row] for row in raw]


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
