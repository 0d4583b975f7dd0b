"""The grid of cells every reader produces, and what a reader noticed in it.

A :class:`Grid` holds one sheet's cells by physical row (``rows[i]`` is row
``i + 1``), how the file was read, the other visible sheets of a workbook as a lazy
mapping (:class:`LazySheets`: a sheet is read and size-checked only when looked
up), and the reader's :class:`CellIssue` s, bounded per column and kind by
:class:`IssueBuffer`. :func:`analytics.reading.upload.read_grid` makes one from an
upload's bytes, through :mod:`analytics.reading.csv_text` or
:mod:`analytics.reading.xlsx`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from analytics.limits import LIMITS

__all__ = ["CellIssue", "Grid", "IssueBuffer", "LazySheets"]

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


class IssueBuffer:
    """The reader's issues, bounded: per (severity, kind, column) the first ``keep``.

    Used like a list (``append``); the issues beyond ``keep`` in a group are only
    counted, so a file with a control character in every cell stays small in memory.
    """

    def __init__(self, keep: int | None = None) -> None:
        self.keep = int(LIMITS["issues_kept_per_group"].value) if keep is None else keep
        self.kept: list[CellIssue] = []
        self._counts: dict[tuple[str, str, int | None], int] = {}

    def append(self, issue: CellIssue) -> None:
        key = (issue.severity, issue.kind, issue.column)
        n = self._counts.get(key, 0)
        self._counts[key] = n + 1
        if n < self.keep:
            self.kept.append(issue)

    def omitted(self) -> tuple[tuple[str, str, int | None, int], ...]:
        """(severity, kind, column, number not kept) for each group that overflowed."""
        return tuple((*key, n - self.keep) for key, n in self._counts.items() if n > self.keep)


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
    #: Issues counted but not kept: (severity, kind, column index, how many more).
    omitted_issues: tuple[tuple[str, str, int | None, int], ...] = ()
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
