"""Reading whole lab columns at once: :func:`read_cells`, the vectorised twin of
:func:`~analytics.reading.cells.classify_cell`.

A lab column is mostly plain numbers; the few other cells (``<5``, ``N/A``, ``#DIV/0!``,
``11.7 g/dL``, ``1e309`` ...) are what a clinician must be told about. So the column is
read in passes over all its cells at once, each a numpy or pyarrow (RE2: linear time)
operation, and only the cells that are not plain are kept with their text:

1. numbers from a spreadsheet: converted in one numpy cast, checked against
   ``max_abs_value``;
2. texts that are a number, perhaps after ``<``, ``>``, ``<=``, ``>=``, ``≤``, ``≥``
   (``12.5``, ``-3e2``, ``11,7``, ``<5``): one pattern extracts the sign and the
   number, one cast reads them all;
3. texts that are a missing-value word (``N/A``, ``-``, ``none`` ...): one look-up;
4. everything else (spreadsheet errors, units inside cells, words, ambiguous
   separators, numbers too large to use, long texts, yes/no values, dates): each
   *distinct* cell read once by :func:`~analytics.reading.cells.classify_cell`, whose
   message and kind of problem it keeps.

The passes only ever take a cell they read exactly as ``classify_cell`` does; a cell
they are not sure of falls through to step 4. So every cell gets the same kind, value,
unit, message and problem as ``classify_cell`` gives it (``tests/test_loader.py`` and
``tests/test_big_files.py`` compare the two).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analytics.limits import LIMITS
from analytics.reading.cells import MISSING_TOKENS, CellReading, classify_cell

__all__ = [
    "ABOVE",
    "BELOW",
    "EMPTY",
    "ERROR",
    "INVALID",
    "KINDS",
    "NOT_AVAILABLE",
    "NUMBER",
    "CellColumn",
    "read_cells",
    "read_table",
]

#: The kinds of :class:`~analytics.reading.cells.CellReading`, by their small code.
KINDS = ("empty", "number", "below", "above", "not_available", "error", "invalid")
EMPTY, NUMBER, BELOW, ABOVE, NOT_AVAILABLE, ERROR, INVALID = range(7)
_CODE = {name: np.int8(code) for code, name in enumerate(KINDS)}

_MAX_CHARS = int(LIMITS["max_value_chars"].value)
_MAX_ABS = float(LIMITS["max_abs_value"].value)

# RE2 (pyarrow): ``\s`` is ASCII whitespace only, ``\d`` ASCII digits only, so a cell
# with any other space or digit falls through to classify_cell. The number is the
# grammar of classify_cell's own pattern.
_NUMBER = r"[+-]?(?:\d+(?:[.,]\d+)?|[.,]\d+)(?:[eE][+-]?\d+)?"
_PLAIN_RE = rf"^\s*{_NUMBER}\s*$"
_CENSORED_RE = rf"^\s*(?P<op><=|>=|≤|≥|<|>)\s*(?P<num>{_NUMBER})\s*$"
#: what every text _CENSORED_RE matches starts with
_SIGN_RE = r"^\s*[<>≤≥]"
# Numbers classify_cell reads with a message (see cells._to_float), left to it: in a
# file that writes decimals with a point, digits, a comma and exactly 3 more characters
# (``1,234``: a thousands separator?) ...
_COMMA_AMBIGUOUS_RE = r"^[+-]?\d+,.{3}$"
# ... and in a file that writes decimals with a comma, a dot that may be a thousands
# separator (``1.234``).
_DOT_THOUSANDS_RE = r"^[+-]?[1-9]\d{0,2}\.\d{3}$"
_ASCII_SPACE = " \t\n\r\f\v"
_MISSING = pa.array(sorted(MISSING_TOKENS), type=pa.string())
_BELOW_OPS = pa.array(["<", "<=", "≤"], type=pa.string())

_type_of = np.frompyfunc(type, 1, 1)
#: cells by type: empty, texts, numbers, others (yes/no values, dates ...)
_NONE_TYPE, _STR_TYPE, _NUMBER_TYPE, _OTHER_TYPE = range(4)
_TYPE_GROUPS = {type(None): _NONE_TYPE, str: _STR_TYPE, float: _NUMBER_TYPE, int: _NUMBER_TYPE}


@dataclass(frozen=True)
class CellColumn:
    """The readings of a column: a kind code and a value per cell, the rest per flagged cell.

    Attributes
    ----------
    kind
        ``int8`` per cell: an index into :data:`KINDS`.
    value
        The number (for censored cells the limit) per cell; NaN for the others.
    at
        The positions of the *flagged* cells, ascending: every cell that is neither
        empty nor a plain number without a unit.
    raw, unit, message, problem
        For each flagged cell: its text as written, the unit written in it (``""``),
        and for unreadable cells the message and kind of problem (``""`` otherwise).
    """

    kind: np.ndarray
    value: np.ndarray
    at: np.ndarray
    raw: np.ndarray
    unit: np.ndarray
    message: np.ndarray
    problem: np.ndarray

    def __len__(self) -> int:
        return len(self.kind)

    def part(self, start: int, stop: int) -> CellColumn:
        """The readings of cells ``start`` to ``stop`` (positions renumbered from 0)."""
        low, high = np.searchsorted(self.at, [start, stop])
        return CellColumn(
            self.kind[start:stop],
            self.value[start:stop],
            self.at[low:high] - start,
            *(field[low:high] for field in (self.raw, self.unit, self.message, self.problem)),
        )

    def readings(self) -> list[CellReading]:
        """Every cell's :class:`~analytics.reading.cells.CellReading`, as
        :func:`~analytics.reading.cells.classify_cell` gives it (cells read alike and
        not flagged share one)."""
        kinds, values = self.kind.tolist(), self.value.tolist()
        shared: dict[tuple[int, object], CellReading] = {}
        out = []
        for kind, value in zip(kinds, values, strict=True):
            # one key for every NaN; 0.0 and -0.0 apart
            key = (kind, None if value != value else value if value else repr(value))
            reading = shared.get(key)
            if reading is None:
                reading = shared[key] = CellReading(KINDS[kind], value)
            out.append(reading)
        for i, at in enumerate(self.at.tolist()):
            out[at] = CellReading(
                KINDS[kinds[at]], values[at], self.unit[i], self.message[i], self.problem[i]
            )
        return out

    def frame(self, index: pd.Index) -> pd.DataFrame:
        """As :func:`~analytics.reading.cells.classify_column` returns it: one row per cell."""
        n = len(self.kind)
        columns = {"kind": np.array(KINDS, dtype=object)[self.kind], "value": self.value}
        for name in ("unit", "message", "problem", "raw"):
            column = np.full(n, "", dtype=object)
            column[self.at] = getattr(self, name)
            columns[name] = column
        return pd.DataFrame(
            {name: pd.Series(column, index=index, copy=False) for name, column in columns.items()}
        )


def read_cells(values: np.ndarray, *, decimal_comma: bool = False) -> CellColumn:
    """Read every cell of ``values`` (a 1-D object array of raw cells) as a lab value.

    Each cell gets what :func:`~analytics.reading.cells.classify_cell` gives it (see
    the module's description); ``decimal_comma`` as there.
    """
    return _finish(*_read(values, decimal_comma))


def read_table(cells: np.ndarray, *, decimal_comma: bool = False) -> CellColumn:
    """Read a table of raw cells (a 2-D object array, one row per spreadsheet row) as
    lab values, column after column: what ``read_cells(cells.ravel(order="F"))`` gives.

    The cells are visited row by row, the order in which a reader made them: at
    100,000 rows a column's cells lie far apart in memory, and reading them column by
    column is several times slower. Each cell's reading depends on that cell alone.
    """
    n, width = cells.shape
    kind, value, flagged = _read(np.ascontiguousarray(cells).ravel(), decimal_comma)
    # column after column (each copy replacing the row-wise one: no more memory at once)
    kind = kind.reshape(n, width).T.ravel()
    value = value.reshape(n, width).T.ravel()
    return _finish(kind, value, flagged, width=width)


_Flagged = list[tuple[np.ndarray, ...]]


def _read(values: np.ndarray, decimal_comma: bool) -> tuple[np.ndarray, np.ndarray, _Flagged]:
    """Each cell's kind and value, and the flagged cells in parts (see :func:`_finish`)."""
    n = len(values)
    kind = np.zeros(n, dtype=np.int8)
    value = np.full(n, np.nan)
    flagged: list[tuple[np.ndarray, ...]] = []
    if n == 0:
        return kind, value, flagged
    try:  # a column of texts and blanks, as every column of a CSV file: no type checks
        texts = pa.array(values, type=pa.string())
    except (pa.ArrowException, UnicodeError):
        texts = None
    if texts is not None:
        left = _read_texts(values, texts, np.arange(n), decimal_comma, kind, value, flagged)
        _read_distinct(values, left, decimal_comma, kind, value, flagged, texts.take(left))
        return kind, value, flagged
    # each cell's type, told apart by codes (a comparison for each of the few types)
    codes, types = pd.factorize(_type_of(values))
    group = np.array([_TYPE_GROUPS.get(t, _OTHER_TYPE) for t in types], dtype=np.int8)[codes]
    is_str, is_number, others = group == _STR_TYPE, group == _NUMBER_TYPE, group == _OTHER_TYPE
    left = _read_numbers(values, np.flatnonzero(is_number), kind, value)
    strings = np.flatnonzero(is_str)
    if len(strings):
        try:
            texts = pa.array(values[strings], type=pa.string())
        except (pa.ArrowException, UnicodeError):  # e.g. a lone surrogate
            texts = None
        if texts is not None:
            left_texts = _read_texts(values, texts, strings, decimal_comma, kind, value, flagged)
            strings, texts = strings[left_texts], texts.take(left_texts)
        _read_distinct(values, strings, decimal_comma, kind, value, flagged, texts)
    if others.any():  # yes/no values, dates ...; NaT and other "not available"s are empty
        at = np.flatnonzero(others)
        left = _union(left, at[~pd.isna(values[at]).astype(bool)])
    # numbers too large to use and cells of other types: rare, read one by one
    if len(left):
        cells = values[left]
        readings = [classify_cell(cell, decimal_comma=decimal_comma) for cell in cells]
        texts_left = np.array([str(cell) for cell in cells], dtype=object)
        _put(left, readings, texts_left, np.arange(len(left)), kind, value, flagged)
    return kind, value, flagged


def _read_numbers(
    values: np.ndarray, at: np.ndarray, kind: np.ndarray, value: np.ndarray
) -> np.ndarray:
    """Read the numbers at ``at`` (NaN is an empty cell); return the positions of those
    too large to use."""
    if not len(at):
        return at
    try:  # (fromiter: float() of each cell, as astype does, in half the time)
        floats = np.fromiter(values[at], dtype=float, count=len(at))
    except OverflowError:  # an integer beyond floating point: read them one by one
        return at
    good = np.abs(floats) <= _MAX_ABS  # False for infinity and NaN
    kind[at[good]] = NUMBER
    value[at[good]] = floats[good]
    return at[~good & ~np.isnan(floats)]


def _union(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The sorted distinct positions of both (``np.union1d``, by sorting: numpy's hashed
    unique takes seconds for a million positions)."""
    both = np.sort(np.concatenate([first, second]))
    return both[np.r_[True, both[1:] != both[:-1]]] if len(both) else both


def _mask(array: pa.Array) -> np.ndarray:
    """A boolean pyarrow array as numpy, null as False."""
    return array.fill_null(False).to_numpy(zero_copy_only=False)


def _numbers(numbers: pa.Array, decimal_comma: bool) -> tuple[np.ndarray, np.ndarray]:
    """The values of number texts (``12.5``, ``11,7``, ``-3e2``), and which are usable:
    not too large, and not a separator classify_cell would ask about."""
    separator, pattern = (".", _DOT_THOUSANDS_RE) if decimal_comma else (",", _COMMA_AMBIGUOUS_RE)
    doubtful = np.zeros(len(numbers), dtype=bool)
    with_separator = np.flatnonzero(_mask(pc.match_substring(numbers, separator)))
    if len(with_separator):
        found = pc.match_substring_regex(numbers.take(with_separator), pattern)
        doubtful[with_separator] = _mask(found)
    floats = pc.cast(pc.replace_substring(numbers, ",", "."), pa.float64())
    floats = floats.to_numpy(zero_copy_only=False)
    return floats, ~doubtful & (np.abs(floats) <= _MAX_ABS)


def _read_texts(
    values: np.ndarray,
    texts: pa.Array,
    at: np.ndarray,
    decimal_comma: bool,
    kind: np.ndarray,
    value: np.ndarray,
    flagged: list[tuple[np.ndarray, ...]],
) -> np.ndarray:
    """Read the texts (``texts``: the cells at ``at``, None for a blank cell) that are
    numbers, censored numbers, blanks or missing words; return where the others are
    among the texts."""
    short = pc.less_equal(pc.utf8_length(texts), _MAX_CHARS)
    plain = _mask(pc.and_(short, pc.match_substring_regex(texts, _PLAIN_RE)))
    hit = np.flatnonzero(plain)
    numbers, usable = _numbers(pc.utf8_trim(texts.take(hit), _ASCII_SPACE), decimal_comma)
    kind[at[hit[usable]]] = NUMBER
    value[at[hit[usable]]] = numbers[usable]
    rest = np.flatnonzero(~plain & _mask(texts.is_valid()))
    rest = _union(rest, hit[~usable])
    # censored values: few, so the pattern that extracts the sign runs on them alone
    # (on the texts that start with a sign)
    rest_texts = texts.take(rest)
    signed = np.flatnonzero(_mask(pc.match_substring_regex(rest_texts, _SIGN_RE)))
    found = pc.extract_regex(rest_texts.take(signed), _CENSORED_RE)
    matched = np.flatnonzero(_mask(pc.and_(pc.is_valid(found), short.take(rest[signed]))))
    censored = signed[matched]
    limits, usable = _numbers(pc.struct_field(found, "num").take(matched), decimal_comma)
    ops = pc.struct_field(found, "op").take(matched[usable])
    below = _mask(pc.is_in(ops, value_set=_BELOW_OPS))
    kind[at[rest[censored[usable]]]] = np.where(below, BELOW, ABOVE).astype(np.int8)
    value[at[rest[censored[usable]]]] = limits[usable]
    noted = [rest[censored[usable]]]
    others = np.ones(len(rest), dtype=bool)
    others[censored[usable]] = False
    # blanks and missing words (``N/A``, ``-`` ...) among the others
    trimmed = pc.utf8_trim(rest_texts, _ASCII_SPACE)
    blank = _mask(pc.equal(trimmed, ""))
    missing = _mask(pc.is_in(pc.ascii_lower(trimmed), value_set=_MISSING)) & ~blank & others
    kind[at[rest[missing]]] = NOT_AVAILABLE
    noted.append(rest[missing])
    noted_at = at[np.sort(np.concatenate(noted))]
    if len(noted_at):
        empty_texts = np.full(len(noted_at), "", dtype=object)
        flagged.append((noted_at, values[noted_at], empty_texts, empty_texts, empty_texts))
    return rest[others & ~blank & ~missing]


def _read_distinct(
    values: np.ndarray,
    at: np.ndarray,
    decimal_comma: bool,
    kind: np.ndarray,
    value: np.ndarray,
    flagged: list[tuple[np.ndarray, ...]],
    texts: pa.Array | pa.ChunkedArray | None = None,
) -> None:
    """Read the texts at ``at`` with classify_cell, each distinct text once (``texts``:
    those cells as pyarrow has them, told apart there, if it could take them)."""
    if not len(at):
        return
    if isinstance(texts, pa.Array):  # (not chunked: one dictionary)
        encoded = texts.dictionary_encode()
        codes = encoded.indices.to_numpy(zero_copy_only=False)
        texts = np.array(encoded.dictionary.to_pylist(), dtype=object)
    else:
        codes, uniques = pd.factorize(values[at])
        texts = np.array([str(u) for u in uniques], dtype=object)
    readings = [classify_cell(text, decimal_comma=decimal_comma) for text in texts]
    _put(at, readings, texts, codes, kind, value, flagged)


def _put(
    at: np.ndarray,
    readings: list[CellReading],
    texts: np.ndarray,
    codes: np.ndarray,
    kind: np.ndarray,
    value: np.ndarray,
    flagged: list[tuple[np.ndarray, ...]],
) -> None:
    """Set the cells at ``at`` to ``readings[codes]``, flagged with ``texts[codes]``."""
    kind[at] = np.array([_CODE[r.kind] for r in readings], dtype=np.int8)[codes]
    value[at] = np.array([r.value for r in readings], dtype=float)[codes]

    def column(items: list[str]) -> np.ndarray:
        return np.array(items, dtype=object)[codes]

    flagged.append(
        (
            at,
            texts[codes],
            column([r.unit for r in readings]),
            column([r.message for r in readings]),
            column([r.problem for r in readings]),
        )
    )


def _finish(kind: np.ndarray, value: np.ndarray, flagged: _Flagged, width: int = 0) -> CellColumn:
    """The readings, the flagged cells (given in parts, each ascending) in the order of
    their positions. ``width``: the cells are a table of that many columns, read row by
    row, whose flagged cells are then put column after column."""
    n = len(kind) // width if width else len(kind)
    if not flagged:
        none = np.zeros(0, dtype=object)
        return CellColumn(kind, value, np.zeros(0, dtype=np.int64), none, none, none, none)
    parts = [np.concatenate([part[i] for part in flagged]) for i in range(5)]
    order = np.argsort(parts[0], kind="stable")
    at = parts[0][order].astype(np.int64)
    if width:  # column after column, rows ascending in each (a radix sort of the columns)
        row, column = np.divmod(at, width)
        by_column = np.argsort(
            column.astype(np.int16 if width < 1 << 15 else np.int64), kind="stable"
        )
        order, at = order[by_column], column[by_column] * n + row[by_column]
    raw, unit, message, problem = (part[order] for part in parts[1:])
    return CellColumn(kind, value, at, raw, unit, message, problem)
