"""The expat scan of a workbook's XML parts (see :mod:`analytics.reading.xlsx`).

:class:`_PartScan` is fed a part's bytes in chunks and learns what the checks need:
relationships and sheet names, the farthest cell of a worksheet (every reference, in any
quoting or namespace prefix, and rows and cells without one placed as calamine places
them), the declared and real number of shared strings, and formula cells without a
saved result. It refuses document types and entities, and sheets or tables of texts
beyond the cell limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from xml.parsers import expat

from analytics.errors import InputError
from analytics.reading.xlsx_package import MAX_PARTS, SAVE_AGAIN, damaged

#: Formula cells without a saved result listed one by one; the rest are counted.
_MAX_FORMULA_ISSUES = 200


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
    sheet_data_at: int = -1  # where the last <sheetData> tag starts (a byte offset)
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

    def pause(self) -> None:
        """Stop calling back for elements and text: what is fed until :meth:`resume` is
        only checked for well-formedness (at C speed; see analytics.reading.xlsx_fast)."""
        parser = self._parser
        parser.StartElementHandler = parser.EndElementHandler = None
        parser.CharacterDataHandler = None

    def resume(self, next_row: int | None = None) -> None:
        """Call back again; ``next_row``: the 0-based row a row without ``r`` would now be
        (the last row seen in the paused part plus one), as the callbacks would have it."""
        if next_row is not None:
            self._row, self._column = next_row, 0
        self._parser.StartElementHandler = self._start
        self._parser.EndElementHandler = self._end
        self._parser.CharacterDataHandler = self._text

    def feed(self, chunk: bytes | memoryview, final: bool = False) -> None:
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
            self.sheet_data_at = self._parser.CurrentByteIndex
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
