"""Turning the bytes of an uploaded file into a grid of cells.

CSV: the encoding (UTF-8 with or without BOM, UTF-16 with BOM, cp1252/latin-1),
the delimiter (``,`` ``;`` tab) and the decimal comma are sniffed. XLSX: read with
python-calamine after the zip parts' declared sizes are checked (a "zip bomb" is
refused in well under a second); the first *visible* worksheet is read unless
another is asked for.

Every failure of the underlying readers becomes one :class:`~analytics.errors.InputError`
with a message a clinician can act on.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field

from .errors import InputError
from .limits import LIMITS

__all__ = ["Grid", "read_grid"]

_MB = 1024 * 1024


@dataclass(frozen=True)
class Grid:
    """The cells of one sheet, as read, with how they were read.

    ``rows[i]`` is spreadsheet row ``i + 1``. Cells are ``None``, ``str``, ``float``,
    ``int``, ``bool`` or dates (XLSX only).
    """

    rows: list[list[object]]
    kind: str  # "csv" or "xlsx"
    sheet: str = ""
    sheets: tuple[str, ...] = ()
    hidden_sheets: tuple[str, ...] = ()
    encoding: str = ""
    delimiter: str = ""
    decimal_comma: bool = False
    other_sheets: dict[str, list[list[object]]] = field(default_factory=dict)

    def describe(self) -> str:
        """How the file was read, in words."""
        if self.kind == "csv":
            names = {",": "comma", ";": "semicolon", "\t": "tab"}
            decimal = "decimal comma" if self.decimal_comma else "decimal point"
            return (
                f"CSV text, {self.encoding} encoding, "
                f"{names.get(self.delimiter, repr(self.delimiter))}-separated, {decimal}"
            )
        text = f"Excel workbook, sheet '{self.sheet}'"
        if self.hidden_sheets:
            text += f" (hidden sheets not read: {', '.join(self.hidden_sheets)})"
        return text


def read_grid(data: bytes, filename: str, sheet: str | None = None) -> Grid:
    """Read an uploaded CSV or XLSX file into a :class:`Grid`.

    Parameters
    ----------
    data
        The file's bytes (never written to disk).
    filename
        Used only for its extension (``.csv``, ``.tsv``, ``.txt``, ``.xlsx``, ``.xlsm``).
    sheet
        XLSX only: the sheet to read; default the first visible worksheet.

    Raises
    ------
    InputError
        Empty, too large, unreadable or unsupported files.
    """
    if not data:
        raise InputError("The file is empty.")
    max_mb = LIMITS["max_upload_mb"].value
    if len(data) > max_mb * _MB:
        raise InputError(f"The file is {len(data) / _MB:.0f} MB; files up to {max_mb:.0f} MB.")
    lowered = filename.lower()
    is_zip = data[:4] == b"PK\x03\x04"
    if lowered.endswith((".xlsx", ".xlsm")) or (is_zip and not lowered.endswith(".csv")):
        return _read_xlsx(data, sheet)
    if lowered.endswith(".xls") or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise InputError(
            "This is an old Excel (.xls) file. Open it in Excel and save it as .xlsx or CSV."
        )
    if lowered.endswith((".ods", ".numbers", ".json", ".parquet", ".sav", ".dta")):
        raise InputError("Unsupported file type: upload a CSV or an Excel .xlsx file.")
    return _read_csv(data)


# --------------------------------------------------------------------------- CSV


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "UTF-8 (with BOM)"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "UTF-16"
    if b"\x00" in data[:4096]:
        raise InputError("This does not look like a text (CSV) file: it contains binary data.")
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "Latin-1"


def _sniff_delimiter(text: str) -> str:
    lines = [line for line in text.splitlines()[:60] if line.strip()]
    if lines and lines[0].lower().startswith("sep=") and len(lines[0]) == 5:
        return lines[0][4]
    best, best_score = ",", -1
    for delimiter in (",", ";", "\t"):
        counts = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        multi = [c for c in counts if c > 1]
        if not multi:
            continue
        mode, agree = Counter(multi).most_common(1)[0]
        score = agree * 1000 + mode
        if score > best_score:
            best, best_score = delimiter, score
    return best


_DECIMAL_COMMA_RE = re.compile(r"^\s*[<>]?\s*[+-]?\d+,\d+\s*[^\d,;]*$")
_DECIMAL_POINT_RE = re.compile(r"^\s*[<>]?\s*[+-]?\d+\.\d+\s*[^\d,;]*$")


def _sniff_decimal_comma(rows: list[list[object]], delimiter: str) -> bool:
    if delimiter == ",":
        return False
    comma = point = 0
    for row in rows[:500]:
        for cell in row:
            if isinstance(cell, str):
                if _DECIMAL_COMMA_RE.match(cell):
                    comma += 1
                elif _DECIMAL_POINT_RE.match(cell):
                    point += 1
    return comma > point


def _read_csv(data: bytes) -> Grid:
    text, encoding = _decode(data)
    text = text.lstrip("\ufeff")
    delimiter = _sniff_delimiter(text)
    lines = text.splitlines()
    if lines and lines[0].lower().startswith("sep="):
        lines = ["", *lines[1:]]
    try:
        rows: list[list[object]] = [
            [cell if cell.strip() else None for cell in row]
            for row in csv.reader(lines, delimiter=delimiter, strict=False)
        ]
    except csv.Error as error:  # e.g. a field larger than the csv module's limit
        raise InputError(f"The CSV file could not be read: {error}.") from error
    _check_size(rows)
    return Grid(
        rows=rows,
        kind="csv",
        encoding=encoding,
        delimiter=delimiter,
        decimal_comma=_sniff_decimal_comma(rows, delimiter),
    )


def _check_size(rows: list[list[object]]) -> None:
    max_rows = int(LIMITS["max_rows"].value)
    max_columns = int(LIMITS["max_columns"].value)
    if len(rows) > max_rows:
        raise InputError(f"The sheet has {len(rows):,} rows; at most {max_rows:,} are read.")
    widest = max((len(row) for row in rows), default=0)
    if widest > max_columns:
        raise InputError(f"The sheet has {widest:,} columns; at most {max_columns:,} are read.")


# --------------------------------------------------------------------------- XLSX


def _check_zip(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile as error:
        raise InputError(
            "This is not a valid Excel (.xlsx) file: it could not be opened."
        ) from error
    limit_mb = LIMITS["max_xlsx_uncompressed_mb"].value
    max_ratio = LIMITS["max_xlsx_compression_ratio"].value
    total = sum(member.file_size for member in members)
    if total > limit_mb * _MB:
        raise InputError(
            f"The Excel file would expand to {total / _MB:,.0f} MB (limit {limit_mb:.0f} MB); "
            "it was not opened."
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > _MB and ratio > max_ratio:
            raise InputError(
                f"The Excel file has a part compressed {ratio:,.0f}-fold "
                f"({member.filename}); it looks malicious and was not opened."
            )
    if not any(m.filename.startswith("xl/") for m in members):
        raise InputError("This is not an Excel (.xlsx) workbook.")


def _read_xlsx(data: bytes, sheet: str | None) -> Grid:
    _check_zip(data)
    try:
        from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
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
        rows = [
            list(row) for row in workbook.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
        ]
        others = {
            name: [
                list(r) for r in workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
            ]
            for name in visible
            if name != sheet
        }
    except InputError:
        raise
    except Exception as error:  # calamine raises several types for damaged files
        raise InputError(
            f"The Excel file could not be read ({type(error).__name__}); "
            "open it in Excel, save it again as .xlsx, and retry."
        ) from error
    rows = [[None if (isinstance(c, str) and not c.strip()) else c for c in row] for row in rows]
    _check_size(rows)
    return Grid(
        rows=rows,
        kind="xlsx",
        sheet=sheet,
        sheets=tuple(visible),
        hidden_sheets=hidden,
        other_sheets=others,
    )
