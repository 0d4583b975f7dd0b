"""Reading one spreadsheet cell of a lab column.

Clinicians' spreadsheets hold more than numbers: ``<5`` (below the assay's
detection limit), ``N/A``, ``#DIV/0!``, decimal commas, units inside cells.
:func:`classify_cell` turns any cell into a :class:`CellReading` that says what it
was read as, so nothing is blanked silently. :func:`classify_column` does the same
for a whole column (vectorised in :mod:`analytics.reading.cell_columns`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time

import numpy as np
import pandas as pd

from analytics.limits import LIMITS

__all__ = [
    "MISSING_TOKENS",
    "SPREADSHEET_ERRORS",
    "CellReading",
    "classify_cell",
    "classify_column",
]

#: Cell texts read as "not available" (case-insensitive, surrounding spaces ignored).
MISSING_TOKENS = frozenset(
    {"n/a", "na", "n.a.", "-", "--", "—", "–", ".", "none", "null", "missing", "not done"}
)
#: Cell texts that mean "not detected / not done"; read as missing with a warning.
AMBIGUOUS_MISSING = frozenset({"nd", "n.d.", "not detected"})
#: Excel's error values; read as missing with a warning.
SPREADSHEET_ERRORS = frozenset(
    {
        "#div/0!",
        "#n/a",
        "#value!",
        "#ref!",
        "#name?",
        "#num!",
        "#null!",
        "#spill!",
        "#calc!",
        "#getting_data",
    }
)

# Every regular expression here runs only on cells of at most ``max_value_chars``
# characters (longer cells are reported before any is tried), and each is anchored
# with no nested repetition, so a hostile cell cannot make the loader hang.
_MAX_CHARS = int(LIMITS["max_value_chars"].value)
_MAX_ABS = float(LIMITS["max_abs_value"].value)
_SHOWN_CHARS = 40

_NUMBER = r"[+-]?(?:\d+(?:[.,]\d+)?|[.,]\d+)(?:[eE][+-]?\d+)?"
_CELL_RE = re.compile(
    rf"^(?P<op><=|>=|≤|≥|<|>)?\s*(?P<num>{_NUMBER})\s*(?P<unit>[^\d\s][^\d]*?)?$",
)
# A dot that may be a thousands separator: 1-3 digits (no leading zero), a dot,
# exactly 3 digits, nothing else (``1.234``; not ``0.123``, ``12.5``, ``1234.567``).
_DOT_THOUSANDS = r"[+-]?[1-9]\d{0,2}\.\d{3}"
_DOT_THOUSANDS_RE = re.compile(rf"^{_DOT_THOUSANDS}$")
_UNIT_RE = re.compile(r"^(?:%|[a-zA-Zµμ]+(?:/[a-zA-Zµμ]+)?(?:\s*%)?)$")
#: Cell texts that name a number that is not finite: never a lab value.
NON_FINITE_TOKENS = frozenset(
    f"{sign}{word}" for sign in ("", "+", "-") for word in ("inf", "infinity", "nan")
)


def shown(text: str) -> str:
    """A cell's text as quoted in a message: at most 40 characters, then ``…``."""
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "…"


def magnitude_problem(value: float, seen: str) -> tuple[str, str]:
    """``(kind, message)`` when ``value`` is not finite or too large to use, else ``("", "")``.

    ``seen`` is what the cell held, as quoted in the message (``"'1e309'"``).
    """
    if math.isnan(value):
        return "non_finite", f"{seen} is not a number (NaN); left blank"
    if math.isinf(value):
        return "non_finite", f"{seen} is infinite (too large to be a number); left blank"
    if abs(value) > _MAX_ABS:
        return "too_large", (
            f"{seen} is larger than {_MAX_ABS:.0e} in size: too large to be a lab value; left blank"
        )
    return "", ""


@dataclass(frozen=True)
class CellReading:
    """What one cell was read as.

    Attributes
    ----------
    kind
        ``"number"``, ``"below"`` (censored: below a limit), ``"above"`` (censored:
        above a limit), ``"empty"``, ``"not_available"`` (``N/A`` and the like),
        ``"error"`` (a spreadsheet error such as ``#DIV/0!``, or ``ND``) or
        ``"invalid"`` (text that is not a value).
    value
        The number, or for censored cells the limit; ``nan`` otherwise.
    unit
        A unit written inside the cell (``"11.7 g/dL"``), else ``""``.
    message
        For ``error`` and ``invalid`` cells, what a clinician should know.
    problem
        For ``error`` and ``invalid`` cells, a short key naming the sort of problem
        (``"not_a_number"``, ``"non_finite"``, ``"too_large"``, ``"long_text"``,
        ``"ambiguous_separator"``, ``"spreadsheet_error"``, ``"not_detected"``,
        ``"yes_no"``, ``"date"``), under which the report counts such cells per column.
    """

    kind: str
    value: float = math.nan
    unit: str = ""
    message: str = ""
    problem: str = ""

    @property
    def is_value(self) -> bool:
        """True for a number or a censored value (both enter analyses)."""
        return self.kind in ("number", "below", "above")


_EMPTY = CellReading("empty")


def _to_float(text: str, decimal_comma: bool) -> tuple[float, str]:
    """Convert a matched number; return (value, problem) with problem "" when fine."""
    if "," in text:
        head, _, tail = text.partition(",")
        if not decimal_comma and len(tail) == 3 and head.lstrip("+-").isdigit():
            return math.nan, (
                "could be a thousands separator or a decimal comma; "
                "write the number without the comma"
            )
        text = text.replace(",", ".")
    elif decimal_comma and _DOT_THOUSANDS_RE.match(text):
        head, _, tail = text.partition(".")
        return math.nan, (
            "could be a thousands separator or a decimal point in a file that writes "
            f"decimals with a comma; write {head}{tail} or {head},{tail}"
        )
    return float(text), ""


def classify_cell(raw: object, *, decimal_comma: bool = False) -> CellReading:
    """Classify one cell of a lab column.

    Parameters
    ----------
    raw
        The cell as read: ``None``, a number (from XLSX) or a string.
    decimal_comma
        True when the file as a whole writes decimals with a comma (a ``;`` or
        tab-separated CSV with values such as ``11,7``).

        When False (decimal point), ``11,7`` is still read as 11.7, but a comma
        followed by exactly 3 digits after whole digits (``1,234``) is reported as
        ambiguous: it could be a thousands separator.

        When True (decimal comma), ``1,234`` is read as 1.234. A dot is read as a
        decimal point too (``12.5``, ``0.125``, ``1234.567``, ``1.5e3``), except where
        it could be a thousands separator: 1 to 3 digits not starting with 0, a dot,
        then exactly 3 digits (``1.234``, ``-12.500``, ``<1.234``). Such a cell is
        reported as ambiguous (kind ``"invalid"``, with a message), never read
        silently as either 1.234 or 1234.

    Numbers that are not finite (``1e309``, ``inf``, ``nan`` as text, an infinite
    number from a spreadsheet) or larger than ``max_abs_value`` in size, and texts
    longer than ``max_value_chars``, are ``"invalid"`` with a message saying what
    the cell held.

    Returns
    -------
    CellReading
    """
    if raw is None:
        return _EMPTY
    if isinstance(raw, str):
        return _classify_text(raw, decimal_comma)
    if isinstance(raw, bool):
        return CellReading(
            "invalid", message=f"'{raw}' is a yes/no value, not a lab value", problem="yes_no"
        )
    if isinstance(raw, (int, float, np.integer, np.floating)):
        return _classify_number(raw)
    if isinstance(raw, (datetime, date, time, pd.Timestamp)):
        return CellReading(
            "invalid", message=f"'{raw}' is a date or time, not a lab value", problem="date"
        )
    return _classify_text(str(raw), decimal_comma)


def _classify_number(raw: int | float | np.integer | np.floating) -> CellReading:
    """A number as a spreadsheet stored it: a value, or invalid when not finite or too large."""
    try:
        value = float(raw)
    except OverflowError:  # an integer beyond the range of floating-point numbers
        value = math.inf
    if math.isnan(value):
        return _EMPTY
    seen = "an infinite number" if math.isinf(value) else f"the number {value:g}"
    problem, message = magnitude_problem(value, seen)
    if problem:
        return CellReading("invalid", message=message, problem=problem)
    return CellReading("number", value)


def _classify_text(raw: str, decimal_comma: bool) -> CellReading:
    """A cell's text: a missing-value word, a spreadsheet error, or a number with its unit."""
    text = raw.strip().replace("\u00a0", " ")
    if not text:
        return _EMPTY
    if len(text) > _MAX_CHARS:  # never a number: no pattern is tried on it
        return CellReading(
            "invalid",
            message=(
                f"a text of {len(text):,} characters ('{shown(text)}') is not a lab value; "
                "left blank"
            ),
            problem="long_text",
        )
    return _classify_word(text) or _classify_number_text(text, decimal_comma)


def _classify_word(text: str) -> CellReading | None:
    """The reading of a word that is not a number (``N/A``, ``#DIV/0!``, ``ND``, ``inf``)."""
    lowered = text.lower()
    if lowered in MISSING_TOKENS:
        return CellReading("not_available")
    if lowered in NON_FINITE_TOKENS:
        kind, message = magnitude_problem(float(lowered), f"'{text}'")
        return CellReading("invalid", message=message, problem=kind)
    if lowered in SPREADSHEET_ERRORS:
        return CellReading(
            "error",
            message=f"spreadsheet error '{text}' (a formula failed); read as missing",
            problem="spreadsheet_error",
        )
    if lowered in AMBIGUOUS_MISSING:
        return CellReading(
            "error",
            message=(
                f"'{text}' read as missing; if it means 'not detected', "
                "enter it as <limit (e.g. <5) so it is kept as a censored value"
            ),
            problem="not_detected",
        )
    return None


def _classify_number_text(text: str, decimal_comma: bool) -> CellReading:
    """A number written as text, perhaps with ``<``/``>`` and a unit (``<5``, ``11,7 g/dL``)."""
    unreadable = CellReading(
        "invalid",
        message=f"could not read '{text}' as a number; left blank",
        problem="not_a_number",
    )
    match = _CELL_RE.match(text)
    if match is None:
        return unreadable
    unit = (match.group("unit") or "").strip()
    if unit and not _UNIT_RE.match(unit):
        return unreadable
    value, problem = _to_float(match.group("num"), decimal_comma)
    if problem:
        return CellReading("invalid", message=f"'{text}' {problem}", problem="ambiguous_separator")
    kind, message = magnitude_problem(value, f"'{text}'")
    if kind:
        return CellReading("invalid", message=message, problem=kind)
    op = match.group("op")
    if op in ("<", "<=", "≤"):
        return CellReading("below", value, unit)
    if op in (">", ">=", "≥"):
        return CellReading("above", value, unit)
    return CellReading("number", value, unit)


def classify_column(cells: pd.Series, *, decimal_comma: bool = False) -> pd.DataFrame:
    """Classify every cell of a column: :func:`classify_cell` on each cell, read
    column-wise (see :func:`analytics.reading.cell_columns.read_cells`).

    Parameters
    ----------
    cells
        The raw cells (object dtype), indexed by spreadsheet row number.
    decimal_comma
        See :func:`classify_cell`.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``cells``, with columns ``kind``, ``value``, ``unit``,
        ``message``, ``problem`` and ``raw`` (the cell as text, for reports; ``""``
        for plain numbers and empty cells).
    """
    from analytics.reading.cell_columns import read_cells  # it builds on this module

    readings = read_cells(cells.to_numpy(dtype=object), decimal_comma=decimal_comma)
    return readings.frame(cells.index)
