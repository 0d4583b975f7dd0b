"""A fast check of the two large XML parts of a workbook: a worksheet's cells and its texts.

The expat scan of :mod:`analytics.reading.xlsx_xml` calls back into Python for every
element (about 1.5 µs a cell). Here what the callbacks read from the cells (the
farthest cell, the formula cells without a saved result) is read over the bytes with
numpy, each check one pass in C, and expat calls back only for what lies around the
cells (the declaration, ``<dimension>``, the sheet's settings) or around the texts (the
declared counts), so a document type is still refused.

The cells must still be well-formed XML. Where they follow the grammar spreadsheet
programs write (:func:`_regular_grammar`: rows and cells with their references first,
known attributes, one value or inline text a cell, no formula, no control character or
character number in the text, UTF-8), one RE2 pass over their bytes shows it and expat
does not read them; otherwise expat reads them with its callbacks switched off, at C
speed.

That is exact where the cells are written regularly, as Excel, LibreOffice and
libraries write them: ``<row r="4" ...>``, ``<c r="B4" t="s">``, ``<v>12</v>``,
``</c>``. Whatever is not (an element the check does not know among the cells, such as
a namespace prefix, rich text or a comment; a ``<`` not closed by a ``>`` before the
next one; a cell or row without its reference first, or in single quotes, in lower
case, with a leading zero or a fourth column letter; another attribute whose name ends
in ``r``; cells that do not nest in rows, or a value or formula holding a tag; a sheet
beyond the cell limit; a table of texts with more entries than cells or a prefixed
entry) goes through the full expat scan instead. The fast path only ever *accepts*:
every refusal, and its message, is the expat scan's.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from analytics.errors import InputError

__all__ = ["fast_scan"]

#: Bytes of cells checked, and fed to expat, at once (bounded memory for any sheet).
_BLOCK = 1 << 23
_PAD = 160

_SST_START_RE = re.compile(rb"\s*<sst(?:\s[^<>]*)?>")

_LT, _GT, _SLASH, _QUOTE, _EQUALS = 60, 62, 47, 34, 61


def fast_scan(
    content: bytearray, make_scan: Callable[[], Any], max_cells: int, max_formulas: int
) -> Any | None:
    """The scan of a worksheet or shared-strings part, or None for the full expat scan.

    ``make_scan`` makes an empty expat scan of this part; ``max_formulas`` is how many
    formula cells without a value are listed one by one.
    """
    start = content.find(b"<sheetData>")
    if start >= 0:
        return _worksheet(content, start, make_scan, max_cells, max_formulas)
    if content.find(b"<sst") >= 0:
        return _shared_strings(content, make_scan, max_cells)
    return None


def _expat(
    make_scan: Callable[[], Any],
    content: bytearray,
    begin: int,
    close: int,
    next_row: int | None = None,
    sheet: bool = False,
    skip: bool = False,
) -> Any:
    """The expat scan of the whole part, calling back only outside ``begin:close``
    (``sheet``: the cells of a worksheet, after its ``<sheetData>`` tag; ``skip``: not
    reading those bytes at all, for cells in the regular grammar).

    None when it refuses (the full scan then says why, as it would have).
    """
    scan = make_scan()
    view = memoryview(content)
    try:
        scan.feed(view[:begin])
        if sheet and scan.sheet_data_at != begin - len(b"<sheetData>"):
            return None  # the cells are not where expat read the tag (in a comment, say)
        if not skip:
            scan.pause()
            for at in range(begin, close, _BLOCK):
                scan.feed(view[at : min(at + _BLOCK, close)])
        scan.resume(next_row)
        scan.feed(view[close:], final=True)
    except InputError:
        return None
    finally:
        del view
    return scan


def _worksheet(
    content: bytearray,
    start: int,
    make_scan: Callable[[], Any],
    max_cells: int,
    max_formulas: int,
) -> Any | None:
    """A worksheet: its cells checked here, the whole part by expat."""
    begin = start + len(b"<sheetData>")
    close = content.rfind(b"</sheetData>")
    if close < begin or content.find(b"<sheetData", 0, start) >= 0:
        return None  # (a second sheetData among the cells is an unknown tag below)
    regular = _regular(content, begin, close)
    cells = _Cells(max_formulas, regular)
    view = memoryview(content)
    at = begin
    try:
        while at < close:
            # blocks end after a row, so that no cell is cut in two
            stop = close
            if close - at > _BLOCK:
                stop = content.find(b"</row>", at + _BLOCK, close) + len(b"</row>")
                if stop < len(b"</row>"):
                    return None
            if not cells.check(np.frombuffer(view[at:stop], dtype=np.uint8)):
                return None
            at = stop
    finally:
        del view
    scan = _expat(make_scan, content, begin, close, cells.last_row, sheet=True, skip=regular)
    if scan is None:
        return None
    far_row = max(scan.far_row, cells.far_row)
    far_column = max(scan.far_column, cells.far_column)
    if far_row * max(far_column, 1) > max_cells:
        return None  # refused by the full scan, naming the cell where it first goes too far
    scan.far_row, scan.far_column = far_row, far_column
    scan.formula_cells = cells.formulas[:max_formulas]
    scan.n_formula_cells = cells.n_formulas
    return scan


# ---- the cells as spreadsheet programs write them: their grammar checked by RE2

_SPACE = r"[ \t\r\n]*"
#: the references every XML parser knows (no character numbers: they may name none)
_ENTITY = r"&(?:lt|gt|amp|quot|apos);"
#: text: printable ASCII or a byte of a multi-byte character (checked as UTF-8 apart),
#: without "<" or "]" (so no "]]>"), "&" only in those references
_TEXT = rf"(?:[\t\n\r\x20-\x25\x27-\x3b\x3d-\x5c\x5e-\x7e\x80-\xff]|{_ENTITY})*"
#: an attribute value: the same without '"', with "]"
_QUOTED = rf'"(?:[\t\n\r\x20\x21\x23-\x25\x27-\x3b\x3d-\x7e\x80-\xff]|{_ENTITY})*"'
#: an attribute name other than r or a prefixed r (x:r)
_NAME = r"(?:[A-Za-z_][\w.-]*:)?(?:[A-Za-qs-z_][\w.-]*|r[\w.-]+)"


def _regular_grammar() -> str:
    """Rows, each with its reference first; in them cells with a reference of 1 to 3
    capital letters and a row, their other attributes among s, t, cm, vm, ph in that
    order (so none twice); in a cell at most one value or inline text, no formula."""
    space, text = _SPACE, _TEXT
    cell_attributes = "".join(f"(?: {name}={_QUOTED})?" for name in ("s", "t", "cm", "vm", "ph"))
    inline = (
        f'<is>{space}<t(?: xml:space="preserve")?{space}(?:/>|>{text}</t{space}>)'
        f"{space}</is{space}>"
    )
    value = f"(?:<v{space}(?:/>|>{text}</v{space}>)|{inline})"
    cell = (
        f'<c r="[A-Z]{{1,3}}[1-9][0-9]*"{cell_attributes}{space}'
        f"(?:/>|>{space}(?:{value}{space})?</c{space}>)"
    )
    row = (
        f'<row r="[1-9][0-9]*"(?: {_NAME}={_QUOTED})*{space}'
        f"(?:/>|>{space}(?:{cell}{space})*</row{space}>)"
    )
    return rf"\A{space}(?:{row}{space})*\z"


_REGULAR = _regular_grammar()
#: a row's other attributes (in the grammar, "<" is only ever a tag's, '"' a value's)
_ROW_TAG_RE = re.compile(rb'<row r="[0-9]+"((?: [^ ="]+="[^"]*")*)')
_ATTRIBUTE_RE = re.compile(rb' ([^ =]+)="[^"]*"')
_ENCODING_RE = re.compile(rb"""\A(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding\s*=\s*["']([^"']*)""")
#: the bytes of U+FFFE and U+FFFF, which are not characters in XML
_NOT_CHARACTERS = (b"\xef\xbf\xbe", b"\xef\xbf\xbf")


def _regular(content: bytearray, begin: int, close: int) -> bool:
    """Whether the cells ``begin:close`` are in :func:`_regular_grammar` (RE2, a single
    linear pass, its text read byte by byte) and so well-formed XML: no row has an
    attribute twice, and their text is UTF-8 in a part encoded so."""
    offsets = pa.py_buffer(np.array([begin, close], dtype=np.int64))
    cells = pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(content)])
    if not pc.match_substring_regex(cells, pattern=_REGULAR)[0].as_py():
        return False
    for others in set(_ROW_TAG_RE.findall(content, begin, close)):
        names = _ATTRIBUTE_RE.findall(others)
        if len(set(names)) != len(names):
            return False  # an attribute twice (expat refuses it)
    block = np.frombuffer(memoryview(content)[begin:close], dtype=np.uint8)
    ascii_only = not len(block) or int(block.max()) < 0x80
    del block
    return ascii_only or _utf8(content, begin, close)


def _utf8(content: bytearray, begin: int, close: int) -> bool:
    """Whether the bytes ``begin:close`` are characters of a part encoded as UTF-8."""
    declared = _ENCODING_RE.match(content)
    if declared is not None and declared.group(1).lower() not in (b"utf-8", b"utf8"):
        return False
    if any(content.find(text, begin, close) >= 0 for text in _NOT_CHARACTERS):
        return False
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(content)
    try:
        for at in range(begin, close, _BLOCK):
            decoder.decode(view[at : min(at + _BLOCK, close)], final=at + _BLOCK >= close)
    except UnicodeDecodeError:
        return False
    finally:
        del view
    return True


def _shared_strings(content: bytearray, make_scan: Callable[[], Any], max_cells: int) -> Any | None:
    """The table of texts: its declared counts by the expat scan, its entries counted here."""
    prologue = content.find(b"?>") + 2 if content.startswith(b"<?xml") else 0
    root = _SST_START_RE.match(content, prologue) if prologue != 1 else None
    close = content.rfind(b"</sst>")
    if root is None or close < root.end() or content.find(b"<sst", root.end()) >= 0:
        return None
    # every entry calamine reads starts "<si" (none prefixed): at most that many
    inside = (root.end(), close)
    if content.find(b":si", *inside) >= 0 or content.count(b"<si", *inside) > max_cells:
        return None
    return _expat(make_scan, content, *inside)


def _is(array: np.ndarray, *values: int) -> np.ndarray:
    out = array == values[0]
    for value in values[1:]:
        out |= array == value
    return out


class _Cells:
    """The cells of a worksheet, checked block by block (each block whole rows).

    The part is well-formed (expat reads it all); what is checked here is that the
    references can be read as expat's callbacks read them.
    """

    def __init__(self, max_formulas: int, regular: bool = False) -> None:
        self.max_formulas = max_formulas
        self.regular = regular  # in the regular grammar (see _regular): its tags known
        self.far_row = 0
        self.far_column = 0
        self.last_row = 0  # the reference of the last row
        #: (row, 0-based column) of the first formula cells without a value, and how many
        self.formulas: list[tuple[int, int]] = []
        self.n_formulas = 0

    def check(self, block: np.ndarray) -> bool:
        """Check one block of the cells; False when the full expat scan must decide."""
        if self.regular:
            return self._check_regular(block)
        lt = np.flatnonzero(block == _LT)
        gt = np.flatnonzero(block == _GT)
        if len(lt) != len(gt):
            return False
        if not len(lt):
            return True
        if not (lt < gt).all() or not (gt[:-1] < lt[1:]).all():
            return False  # a "<" inside a tag, or a ">" outside one
        padded = np.zeros(len(block) + _PAD, dtype=np.uint8)
        padded[: len(block)] = block
        words = _words(padded)
        kinds = _tag_kinds(words, lt)
        if kinds is None:
            return False
        cells = _References(words, lt[kinds == _ROW], lt[kinds == _CELL])
        if not cells.ok or not _only_leading_r(block, lt, gt, kinds):
            return False
        self._farther(cells)
        if (kinds == _FORMULA).any():
            return self._formulas(block, kinds, lt, gt, cells)
        return True

    def _check_regular(self, block: np.ndarray) -> bool:
        """:meth:`check` for cells in the regular grammar: every tag is a row's, a
        cell's or inside a cell (told apart by its first letter), no formula."""
        lt = np.flatnonzero(block == _LT)
        if not len(lt):
            return True
        padded = np.zeros(len(block) + _PAD, dtype=np.uint8)
        padded[: len(block)] = block
        first = padded[lt + 1]
        row_at, cell_at = lt[first == ord("r")], lt[first == ord("c")]
        cells = _References(_words(padded), row_at, cell_at, regular=True)
        if not cells.ok:
            return False
        self._farther(cells)
        return True

    def _farther(self, cells: _References) -> None:
        far_row, far_column = cells.farthest()
        self.far_row = max(self.far_row, far_row)
        self.far_column = max(self.far_column, far_column)
        last = cells.last_row()
        if last is not None:
            self.last_row = last

    def _formulas(
        self,
        block: np.ndarray,
        kinds: np.ndarray,
        lt: np.ndarray,
        gt: np.ndarray,
        cells: _References,
    ) -> bool:
        """The formula cells without a saved value (text in <v>, or <is>) of a block.

        Every <v>, <f>, <is> must then lie inside a cell, one cell open at a time (as
        in every file written by a spreadsheet program), so that each is the cell's.
        """
        empty = block[gt - 1] == _SLASH  # <c r="A1"/>, <v/>
        opens = ((kinds == _CELL) & ~empty).astype(np.int32)
        depth = np.cumsum(opens - (kinds == _CELL_END), dtype=np.int32)
        inner = kinds >= _VALUE
        if depth.min() < 0 or depth.max() > 1 or ((depth != 1) & inner).any():
            return False
        if ((depth - opens)[kinds == _CELL] != 0).any():
            return False  # a cell inside a cell (as <c r="B1"/> would be)
        # and a <v> or <f> holds only text: its end tag comes next (as expat's callbacks
        # read it, text in an <f> inside a <v> would be the value)
        opened = np.flatnonzero(((kinds == _VALUE) | (kinds == _FORMULA)) & ~empty)
        if len(opened) and opened[-1] + 1 >= len(lt):
            return False
        ends = lt[opened + 1]
        if not ((block[ends + 1] == _SLASH) & (block[ends + 2] == block[lt[opened] + 1])).all():
            return False
        cell = np.cumsum(kinds == _CELL, dtype=np.int32) - 1  # the cell each tag is in
        text_after = np.r_[lt[1:] > gt[:-1] + 1, False]
        valued = ((kinds == _VALUE) & ~empty & text_after) | (kinds == _INLINE)
        formula = cell[kinds == _FORMULA]  # ascending: the distinct ones by their steps
        formula = formula[np.r_[True, formula[1:] != formula[:-1]]] if len(formula) else formula
        missing = formula[~np.isin(formula, cell[valued])]
        room = max(self.max_formulas - len(self.formulas), 0)
        listed = missing[:room]
        rows, columns = cells.row_numbers(listed), cells.columns(listed)
        self.formulas += [(int(r), int(c) - 1) for r, c in zip(rows, columns, strict=True)]
        self.n_formulas += len(missing)
        return True


# tag kinds, in an order where everything from _VALUE on lies inside a cell
_OTHER, _ROW, _ROW_END, _CELL, _CELL_END = 0, 1, 2, 3, 4
_VALUE, _FORMULA, _INLINE, _INNER = 5, 6, 7, 8
_IS_END = 9  # </is>, once checked an _INNER

_R = ord("r")
#: bytes that may follow an attribute name: "=" or whitespace
_AFTER_NAME = np.zeros(256, dtype=bool)
_AFTER_NAME[[_EQUALS, 32, 9, 10, 13]] = True


def _word(text: bytes) -> np.uint64:
    return np.uint64(int.from_bytes(text, "little"))


#: The first byte of a tag's name (after "<") -> its row in _KINDS (0: no tag known here).
_FIRST = np.zeros(256, dtype=np.intp)
for _i, _letter in enumerate("cvfitr/", start=1):
    _FIRST[ord(_letter)] = _i


def _kinds_table() -> np.ndarray:
    """The kind of a tag by its first three bytes after "<"; cells, rows and some end
    tags are settled by their next bytes in _tag_kinds."""
    table = np.zeros(len("cvfitr/") + 1 << 16, dtype=np.int8)

    def put(text: str, kind: int, third: str = "") -> None:
        """``text``: the first two bytes; ``third``: the third ("" for any). The table is
        indexed by the first (as in _FIRST), the third, then the second byte."""
        start = _FIRST[ord(text[0])] << 16 | ord(text[1])
        if third:
            for byte in third:
                table[start | ord(byte) << 8] = kind
        else:
            table[start : start + (1 << 16) : 256] = kind

    for end in ">/ ":
        put("v" + end, _VALUE)
        put("f" + end, _FORMULA)
        put("t" + end, _INNER)
        put("r" + end, _INNER)
    put("c ", _CELL, "r")  # <c r
    put("ro", _ROW, "w")  # <row
    put("is", _INLINE, ">/ ")
    put("/c", _CELL_END, ">")
    put("/r", _ROW_END, "o")  # </row ...
    for name in "vftr":
        put("/" + name, _INNER, ">")
    put("/i", _IS_END, "s")  # </is ...
    return table


_KINDS = _kinds_table()
_U8 = np.uint64(8)
_BYTE = np.uint64(0xFF)


def _words(padded: np.ndarray) -> np.ndarray:
    """The 8 bytes from every position of ``padded`` as one little-endian integer (a view)."""
    return np.ndarray((len(padded) - 7,), dtype="<u8", buffer=padded, strides=(1,))


def _tag_kinds(words: np.ndarray, lt: np.ndarray) -> np.ndarray | None:
    """The kind of each tag from its first bytes; None if any is not one known here."""
    heads = words[lt]
    first = _FIRST[((heads >> _U8) & _BYTE).astype(np.intp)]
    key = first << 16 | ((heads >> np.uint64(16)) & np.uint64(0xFFFF)).astype(np.intp)
    kinds = _KINDS[key]
    if (kinds == _OTHER).any():
        return None
    # the bytes that settle a tag the first three did not: <c r=" </row> </is> <row r="
    rest = {
        _CELL: (b'<c r="', 6),
        _ROW: (b'<row r="', 8),
        _ROW_END: (b"</row>", 6),
    }
    for kind, (text, length) in rest.items():
        at = kinds == kind
        mask = np.uint64((1 << 8 * length) - 1)
        if ((heads[at] & mask) != _word(text)).any():
            return None
    ends = np.flatnonzero(kinds == _IS_END)
    if len(ends):
        if ((heads[ends] & np.uint64(0xFFFFFFFFFF)) != _word(b"</is>")).any():
            return None
        kinds[ends] = _INNER
    return kinds


def _digits(words: np.ndarray, at: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The digits at each of ``at``, as (length, big-endian number of the digit bytes,
    the 8 bytes there), or None unless every one is 1 to 7 digits, not starting with 0,
    then a quote."""
    raw = words[at]
    bytes_ = raw.view(np.uint8).reshape(-1, 8)
    is_digit = (bytes_ >= 48) & (bytes_ <= 57)
    length = np.argmin(is_digit, axis=1)  # the first byte that is not a digit (<= 7)
    after = np.take_along_axis(bytes_, length[:, None], axis=1)[:, 0]
    first = bytes_[:, 0]
    if (after != _QUOTE).any() or (first < 49).any() or (first > 57).any():
        return None
    # only the digits, as one big-endian number: compared like the numbers they write
    kept = raw & ((np.uint64(1) << (np.uint64(8) * length.astype(np.uint64))) - np.uint64(1))
    digits = kept.byteswap() >> (np.uint64(8) * (np.uint64(8) - length.astype(np.uint64)))
    return length, digits, raw


def _largest(length: np.ndarray, digits: np.ndarray) -> int:
    """The largest of the numbers given as (length, big-endian digit bytes)."""
    longest = int(length.max())
    top = int(digits[length == longest].max())
    return int(top.to_bytes(longest, "big").decode("ascii"))


def _value(length: np.ndarray, digits: np.ndarray) -> np.ndarray:
    """The numbers themselves (for the few cells that need them)."""
    out = np.zeros(len(length), dtype=np.int64)
    for i, (n, d) in enumerate(zip(length.tolist(), digits.tolist(), strict=True)):
        out[i] = int(int(d).to_bytes(n, "big").decode("ascii"))
    return out


class _References:
    """The cells' and rows' references, checked; the farthest row and column.

    Each cell's row is checked to be its row's (the same digits, then a quote), so the
    rows' references give the farthest row; each row's number is read only on demand.
    """

    def __init__(
        self, words: np.ndarray, row_at: np.ndarray, cell_at: np.ndarray, regular: bool = False
    ) -> None:
        """``row_at``, ``cell_at``: where the tags ``<row`` and ``<c`` start; ``regular``:
        in the regular grammar (1 to 3 letters in every cell, every cell in a row)."""
        self.ok = False
        rows = _digits(words, row_at + 8) if len(row_at) else None
        if (len(row_at) or len(cell_at)) and rows is None:
            return
        self.rows = rows
        self.n = len(cell_at)
        if not self.n:
            self.ok = True
            return
        letters = words[cell_at + 6].view(np.uint8).reshape(-1, 8)[:, :4]
        upper = (letters >= 65) & (letters <= 90)
        if not regular and (not upper[:, 0].all() or upper.all(axis=1).any()):
            return  # no column letter, or a fourth
        count = 1 + upper[:, 1].astype(np.intp) + (upper[:, 1] & upper[:, 2])
        row = np.searchsorted(row_at, cell_at) - 1  # the row each cell is in
        if not regular and row.min() < 0:
            return  # a cell before any row
        length, _, word = rows
        mask = (np.uint64(1) << (np.uint64(8) * (length.astype(np.uint64) + np.uint64(1)))) - 1
        mask = mask[row]
        if ((words[cell_at + 6 + count] & mask) != (word[row] & mask)).any():
            return  # a cell whose row is not its row's
        self.ok, self._letters, self._count, self._row = True, letters, count, row

    def columns(self, which: np.ndarray | slice = slice(None)) -> np.ndarray:
        letters, count = self._letters[which].astype(np.int64) - 64, self._count[which]
        column = letters[:, 0]
        column = np.where(count >= 2, column * 26 + letters[:, 1], column)
        return np.where(count >= 3, column * 26 + letters[:, 2], column)

    def row_numbers(self, which: np.ndarray) -> np.ndarray:
        length, digits, _ = self.rows
        row = self._row[which]
        return _value(length[row], digits[row])

    def farthest(self) -> tuple[int, int]:
        """(row, column) of the farthest row and cell (each the largest on its own)."""
        row = _largest(*self.rows[:2]) if self.rows is not None else 0
        if not self.n:
            return row, 0
        widest = self._count == self._count.max()
        return row, int(self.columns(widest).max())

    def last_row(self) -> int | None:
        """The number of the last row (None without rows)."""
        if self.rows is None:
            return None
        length, digits, _ = self.rows
        return int(_value(length[-1:], digits[-1:])[0])


def _only_leading_r(block: np.ndarray, lt: np.ndarray, gt: np.ndarray, kinds: np.ndarray) -> bool:
    """No cell or row has an attribute ending in ``r`` besides its leading ``r``
    (``x:r``, a second ``r``): every other "r" before "=" or a space is outside them."""
    found = np.flatnonzero(block == _R)
    found = found[_AFTER_NAME[block[np.minimum(found + 1, len(block) - 1)]]]
    leading = (kinds == _CELL) | (kinds == _ROW)
    if len(found) == int(np.count_nonzero(leading)):
        return True  # just the leading ones (_tag_kinds found each at its place)
    tag = np.maximum(np.searchsorted(lt, found, side="right") - 1, 0)
    inside = (lt[tag] < found) & (found < gt[tag]) & leading[tag]
    offset = np.where(kinds[tag] == _CELL, 3, 5)
    return not (inside & (found != lt[tag] + offset)).any()
