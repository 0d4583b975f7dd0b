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
_VALUE_RE = rf"^\s*(?P<op><=|>=|≤|≥|<|>)?\s*(?P<num>{_NUMBER})\s*$"
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
    n = len(values)
    kind = np.zeros(n, dtype=np.int8)
    value = np.full(n, np.nan)
    flagged: list[tuple[np.ndarray, ...]] = []
    if n == 0:
        return _finish(kind, value, flagged)
    types = _type_of(values)
    is_str = np.equal(types, str)
    is_number = np.equal(types, float) | np.equal(types, int)
    empty = pd.isna(values)  # None, NaN, NaT: empty, as classify_cell reads them
    left = _read_numbers(values, np.flatnonzero(is_number & ~empty), kind, value)
    strings = np.flatnonzero(is_str)
    if len(strings):
        texts_left = _read_texts(values, strings, decimal_comma, kind, value, flagged)
        _read_distinct(values, texts_left, decimal_comma, kind, value, flagged)
    # numbers too large to use, yes/no values, dates: rare, read one by one
    left = np.union1d(left, np.flatnonzero(~is_str & ~is_number & ~empty))
    if len(left):
        cells = values[left]
        readings = [classify_cell(cell, decimal_comma=decimal_comma) for cell in cells]
        texts = np.array([str(cell) for cell in cells], dtype=object)
        _put(left, readings, texts, np.arange(len(left)), kind, value, flagged)
    return _finish(kind, value, flagged)


def _read_numbers(
    values: np.ndarray, at: np.ndarray, kind: np.ndarray, value: np.ndarray
) -> np.ndarray:
    """Read the numbers at ``at``; return the positions of those too large to use."""
    if not len(at):
        return at
    try:
        floats = values[at].astype(float)
    except OverflowError:  # an integer beyond floating point: read them one by one
        return at
    good = np.abs(floats) <= _MAX_ABS  # False for infinity (NaN cells are not here)
    kind[at[good]] = NUMBER
    value[at[good]] = floats[good]
    return at[~good]


def _read_texts(
    values: np.ndarray,
    at: np.ndarray,
    decimal_comma: bool,
    kind: np.ndarray,
    value: np.ndarray,
    flagged: list[tuple[np.ndarray, ...]],
) -> np.ndarray:
    """Read the texts at ``at`` that are numbers, censored numbers, blanks or missing
    words; return the positions of the others."""
    try:
        texts = pa.array(values[at], type=pa.string())
    except (pa.ArrowException, UnicodeError):  # e.g. a lone surrogate: read them one by one
        return at
    found = pc.extract_regex(texts, _VALUE_RE)
    fast = pc.and_(pc.is_valid(found), pc.less_equal(pc.utf8_length(texts), _MAX_CHARS)).fill_null(
        False
    )
    number = pc.struct_field(found, "num")
    doubtful = _COMMA_AMBIGUOUS_RE if not decimal_comma else _DOT_THOUSANDS_RE
    fast = pc.and_not(fast, pc.match_substring_regex(number, doubtful).fill_null(False))
    fast = fast.to_numpy(zero_copy_only=False)
    hit = np.flatnonzero(fast)
    numbers = pc.cast(pc.replace_substring(number.take(hit), ",", "."), pa.float64())
    numbers = numbers.to_numpy(zero_copy_only=False)
    usable = np.abs(numbers) <= _MAX_ABS  # infinite or huge: left, for the message
    hit, numbers = hit[usable], numbers[usable]
    ops = pc.struct_field(found, "op").take(hit)
    below = pc.is_in(ops, value_set=_BELOW_OPS).to_numpy(zero_copy_only=False)
    plain = pc.equal(ops, "").to_numpy(zero_copy_only=False)
    codes = np.where(plain, NUMBER, np.where(below, BELOW, ABOVE)).astype(np.int8)
    kind[at[hit]] = codes
    value[at[hit]] = numbers
    censored = hit[~plain]
    # the rest: blanks, missing words, and what is left for classify_cell
    rest = np.flatnonzero(~fast)
    rest = np.union1d(rest, np.flatnonzero(fast)[~usable])
    trimmed = pc.utf8_trim(texts.take(rest), _ASCII_SPACE)
    blank = pc.equal(trimmed, "").to_numpy(zero_copy_only=False)
    missing = pc.is_in(pc.ascii_lower(trimmed), value_set=_MISSING)
    missing = missing.to_numpy(zero_copy_only=False) & ~blank
    words = rest[missing]
    kind[at[words]] = NOT_AVAILABLE
    noted = np.sort(np.concatenate([censored, words]))
    if len(noted):
        empty_texts = np.full(len(noted), "", dtype=object)
        flagged.append((at[noted], values[at[noted]], empty_texts, empty_texts, empty_texts))
    return at[rest[~blank & ~missing]]


def _read_distinct(
    values: np.ndarray,
    at: np.ndarray,
    decimal_comma: bool,
    kind: np.ndarray,
    value: np.ndarray,
    flagged: list[tuple[np.ndarray, ...]],
) -> None:
    """Read the texts at ``at`` with classify_cell, each distinct text once."""
    if not len(at):
        return
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


def _finish(
    kind: np.ndarray, value: np.ndarray, flagged: list[tuple[np.ndarray, ...]]
) -> CellColumn:
    if not flagged:
        none = np.zeros(0, dtype=object)
        return CellColumn(kind, value, np.zeros(0, dtype=np.int64), none, none, none, none)
    parts = [np.concatenate([part[i] for part in flagged]) for i in range(5)]
    order = np.argsort(parts[0], kind="stable")
    at, raw, unit, message, problem = (part[order] for part in parts)
    return CellColumn(kind, value, at.astype(np.int64), raw, unit, message, problem)
