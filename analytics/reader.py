"""Turning the bytes of an uploaded file into a grid of cells.

CSV: the encoding (UTF-8 with or without BOM, UTF-16 with BOM, cp1252/latin-1),
the delimiter (``,`` ``;`` tab) and the decimal comma are sniffed. XLSX: read by
:mod:`analytics.xlsx` (every part of the zip is checked before python-calamine
sees it); the first *visible* worksheet is read unless another is asked for. Each
sheet's size is checked against the limits before its cells are turned into Python
objects, and the other visible sheets are read only when asked for
(:attr:`Grid.other_sheets` is a lazy mapping).

Every failure of the underlying readers becomes one :class:`~analytics.errors.InputError`
with a message a clinician can act on.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from .errors import InputError
from .limits import LIMITS

__all__ = ["CellIssue", "Grid", "LazySheets", "read_grid"]

_MB = 1024 * 1024

Rows = list[list[object]]


class LazySheets(Mapping[str, Rows]):
    """The other visible sheets of a workbook, read only when asked for.

    Iterating (``for name in sheets``, ``len``, ``in``) reads nothing. Looking a sheet
    up (``sheets[name]``, ``.items()``, ``.values()``) reads it, checks its size
    against the limits first, and keeps the rows for the next look-up. A sheet
    that is too large or cannot be read raises :class:`InputError` at that point.
    """

    def __init__(self, names: tuple[str, ...], read: Callable[[str, int | None], Rows]) -> None:
        self._names = names
        self._read = read
        self._cache: dict[str, Rows] = {}

    def __getitem__(self, name: str) -> Rows:
        if name not in self._names:
            raise KeyError(name)
        if name not in self._cache:
            self._cache[name] = self._read(name, None)
        return self._cache[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def head(self, name: str, nrows: int) -> Rows:
        """The sheet's first ``nrows`` rows (spreadsheet rows 1 to ``nrows``).

        Only the width is checked: a sheet too tall to read whole still shows its
        header rows.
        """
        if name not in self._names:
            raise KeyError(name)
        if name in self._cache:
            return self._cache[name][:nrows]
        return self._read(name, max(int(nrows), 1))

    def __repr__(self) -> str:
        return f"LazySheets({list(self._names)!r}, read={sorted(self._cache)!r})"


@dataclass(frozen=True)
class CellIssue:
    """Something the reader noticed in one row (and cell) of the file.

    ``row`` is the 1-based physical row (CSV line, spreadsheet row); ``column`` the
    0-based column index, or None for the whole row. ``kind`` is a short key
    (``"control_character"``, ``"undecodable_byte"``, ``"formula_without_value"`` ...)
    under which the loader counts issues of the same sort per column.
    """

    kind: str
    message: str
    row: int | None = None
    column: int | None = None
    severity: str = "warning"


@dataclass(frozen=True)
class Grid:
    """The cells of one sheet, as read, with how they were read.

    ``rows[i]`` is physical row ``i + 1`` (spreadsheet row, or CSV line). Cells are
    ``None``, ``str``, ``float``, ``int``, ``bool`` or dates (XLSX only).

    ``other_sheets`` maps the workbook's other visible sheets to their rows. From
    :func:`read_grid` it is a :class:`LazySheets`: a sheet is read (and size-checked)
    only when it is looked up, so iterate over the names and look up the sheets you
    need; :meth:`other_sheet_head` reads just the top rows.
    """

    rows: list[list[object]]
    kind: str  # "csv" or "xlsx"
    sheet: str = ""
    sheets: tuple[str, ...] = ()
    hidden_sheets: tuple[str, ...] = ()
    encoding: str = ""
    delimiter: str = ""
    decimal_comma: bool = False
    other_sheets: Mapping[str, Rows] = field(default_factory=dict)
    #: What the reader noticed, with physical row and column index (see :class:`CellIssue`).
    issues: tuple[CellIssue, ...] = ()
    #: CSV: ``{index: start}`` for each row that is a further physical line of a
    #: record (a quoted cell with line breaks) starting at row index ``start``; such
    #: rows are empty in :attr:`rows`, so ``rows[i]`` stays physical row ``i + 1``.
    continuation_rows: Mapping[int, int] = field(default_factory=dict)

    def other_sheet_head(self, name: str, nrows: int) -> Rows:
        """The first ``nrows`` rows of another sheet, without reading the rest.

        Raises
        ------
        KeyError
            No such sheet among :attr:`other_sheets`.
        InputError
            The sheet is too wide or cannot be read.
        """
        if isinstance(self.other_sheets, LazySheets):
            return self.other_sheets.head(name, nrows)
        return self.other_sheets[name][:nrows]

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
    from .xlsx import is_workbook, read_workbook  # xlsx.py builds on this module's Grid

    lowered = filename.lower()
    if is_workbook(data, filename):
        return read_workbook(data, filename, sheet)
    if lowered.endswith((".json", ".parquet", ".sav", ".dta")):
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


_LINE_BREAK_RE = re.compile("\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
_LINE_BLOCK_CHARS = 1 << 18


def _iter_lines(text: str, block: int = _LINE_BLOCK_CHARS) -> Iterator[str]:
    """The lines of ``text``, exactly as ``text.splitlines()``, a block at a time.

    A 50 MB file of short lines would otherwise become millions of strings before
    the row limit is checked: here a caller that stops early has split only a block
    of ``block`` characters or so beyond its last line.
    """
    return itertools.chain.from_iterable(_line_blocks(text, block))


def _line_blocks(text: str, block: int) -> Iterator[Iterator[str] | list[str]]:
    start, n = 0, len(text)
    while start < n:
        if n - start <= 2 * block:
            yield text[start:].splitlines()
            return
        # cut just after a "\n": it never starts a two-character break ("\r\n")
        cut = text.find("\n", start + block, start + 2 * block)
        if cut < 0:  # no "\n" near: old Mac "\r" line ends or one huge line
            yield _lines_one_by_one(text, start)
            return
        yield text[start : cut + 1].splitlines()
        start = cut + 1


def _lines_one_by_one(text: str, start: int) -> Iterator[str]:
    for match in _LINE_BREAK_RE.finditer(text, start):
        yield text[start : match.start()]
        start = match.end()
    if start < len(text):
        yield text[start:]


def _sniff_delimiter(text: str) -> str:
    lines = [line for line in itertools.islice(_iter_lines(text), 60) if line.strip()]
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
    lines = _iter_lines(text)
    first = next(lines, None)
    if first is not None:
        # a "sep=;" line (Excel's hint) is kept as an empty row 1, so row numbers still match
        lines = itertools.chain(["" if first.lower().startswith("sep=") else first], lines)
    max_rows = int(LIMITS["max_rows"].value)
    max_columns = int(LIMITS["max_columns"].value)
    rows: Rows = []
    try:
        # the limits are checked row by row: a huge file stops at the first row too many
        for row in csv.reader(lines, delimiter=delimiter, strict=False):
            if len(rows) >= max_rows:
                raise InputError(
                    f"The sheet has more than {max_rows:,} rows; at most {max_rows:,} are read."
                )
            if len(row) > max_columns:
                raise InputError(
                    f"The sheet has {len(row):,} columns (row {len(rows) + 1:,}); "
                    f"at most {max_columns:,} are read."
                )
            rows.append([cell if cell.strip() else None for cell in row])
    except csv.Error as error:  # e.g. a field larger than the csv module's limit
        raise InputError(f"The CSV file could not be read: {error}.") from error
    return Grid(
        rows=rows,
        kind="csv",
        encoding=encoding,
        delimiter=delimiter,
        decimal_comma=_sniff_decimal_comma(rows, delimiter),
    )
