"""Reading one spreadsheet cell of a lab column.

Clinicians' spreadsheets hold more than numbers: ``<5`` (below the assay's
detection limit), ``N/A``, ``#DIV/0!``, decimal commas, units inside cells.
:func:`classify_cell` turns any cell into a :class:`CellReading` that says what it
was read as, so nothing is blanked silently. :func:`classify_column` does the same
for a whole column, with a fast path for columns of plain numbers.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time

import numpy as np
import pandas as pd

__all__ = [
    "MISSING_TOKENS",
    "SPREADSHEET_ERRORS",
    "CellReading",
    "classify_cell",
    "classify_column",
]

#: Cell texts read as "not available" (case-insensitive, surrounding spaces ignored).
MISSING_TOKENS = frozenset(
    {"n/a", "na", "n.a.", "-", "--", "—", "–", ".", "none", "null", "nan", "missing", "not done"}
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

_NUMBER = r"[+-]?(?:\d+(?:[.,]\d+)?|[.,]\d+)(?:[eE][+-]?\d+)?"
_CELL_RE = re.compile(
    rf"^(?P<op><=|>=|≤|≥|<|>)?\s*(?P<num>{_NUMBER})\s*(?P<unit>[^\d\s][^\d]*?)?$",
)
_PLAIN_NUMBER_RE = r"^\s*[+-]?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?\s*$"
# A dot that may be a thousands separator: 1-3 digits (no leading zero), a dot,
# exactly 3 digits, nothing else (``1.234``; not ``0.123``, ``12.5``, ``1234.567``).
_DOT_THOUSANDS = r"[+-]?[1-9]\d{0,2}\.\d{3}"
_DOT_THOUSANDS_RE = re.compile(rf"^{_DOT_THOUSANDS}$")
# In a decimal-comma file the fast path leaves such cells to classify_cell.
_PLAIN_NUMBER_DECIMAL_COMMA_RE = rf"^(?!\s*{_DOT_THOUSANDS}\s*$)" + _PLAIN_NUMBER_RE[1:]
_UNIT_RE = re.compile(r"^(?:%|[a-zA-Zµμ]+(?:/[a-zA-Zµμ]+)?(?:\s*%)?)$")


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
    """

    kind: str
    value: float = math.nan
    unit: str = ""
    message: str = ""

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

    Returns
    -------
    CellReading
    """
    if raw is None:
        return _EMPTY
    if isinstance(raw, bool):
        return CellReading("invalid", message=f"'{raw}' is a yes/no value, not a lab value")
    if isinstance(raw, (int, float, np.integer, np.floating)):
        value = float(raw)
        if math.isnan(value):
            return _EMPTY
        if math.isinf(value):
            return CellReading("invalid", message="infinite value")
        return CellReading("number", value)
    if isinstance(raw, (datetime, date, time, pd.Timestamp)):
        return CellReading("invalid", message=f"'{raw}' is a date or time, not a lab value")
    text = str(raw).strip().replace("\u00a0", " ")
    if not text:
        return _EMPTY
    lowered = text.lower()
    if lowered in MISSING_TOKENS:
        return CellReading("not_available")
    if lowered in SPREADSHEET_ERRORS:
        return CellReading(
            "error", message=f"spreadsheet error '{text}' (a formula failed); read as missing"
        )
    if lowered in AMBIGUOUS_MISSING:
        return CellReading(
            "error",
            message=(
                f"'{text}' read as missing; if it means 'not detected', "
                "enter it as <limit (e.g. <5) so it is kept as a censored value"
            ),
        )
    match = _CELL_RE.match(text)
    if match is None:
        return CellReading("invalid", message=f"could not read '{text}' as a number; left blank")
    unit = (match.group("unit") or "").strip()
    if unit and not _UNIT_RE.match(unit):
        return CellReading("invalid", message=f"could not read '{text}' as a number; left blank")
    value, problem = _to_float(match.group("num"), decimal_comma)
    if problem:
        return CellReading("invalid", message=f"'{text}' {problem}")
    op = match.group("op")
    if op in ("<", "<=", "≤"):
        return CellReading("below", value, unit)
    if op in (">", ">=", "≥"):
        return CellReading("above", value, unit)
    return CellReading("number", value, unit)


def classify_column(cells: pd.Series, *, decimal_comma: bool = False) -> pd.DataFrame:
    """Classify every cell of a column.

    Plain numbers take a vectorised path; only the remaining cells are read one
    by one, so a 10,000-row column of numbers costs milliseconds. The result is
    the same as :func:`classify_cell` on every cell: with ``decimal_comma`` the
    fast path leaves text such as ``1.234`` (a possible thousands separator) to
    :func:`classify_cell`, which reports it.

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
        ``message`` and ``raw`` (the cell as text, for reports).
    """
    n = len(cells)
    kind = np.full(n, "empty", dtype=object)
    value = np.full(n, np.nan)
    unit = np.full(n, "", dtype=object)
    message = np.full(n, "", dtype=object)

    values = cells.to_numpy(dtype=object)
    is_none = pd.isna(cells).to_numpy()
    is_float = np.fromiter(
        (isinstance(v, (int, float)) and not isinstance(v, bool) for v in values),
        dtype=bool,
        count=n,
    )
    numeric = is_float & ~is_none
    if numeric.any():
        floats = values[numeric].astype(float)
        finite = np.isfinite(floats)
        idx = np.flatnonzero(numeric)
        kind[idx[finite]] = "number"
        value[idx[finite]] = floats[finite]
        # infinite numbers fall through to the cell-by-cell path
        numeric[idx[~finite]] = False
    is_str = np.fromiter((isinstance(v, str) for v in values), dtype=bool, count=n)
    if is_str.any():
        strings = pd.Series(values[is_str], dtype=object).astype(str)
        pattern = _PLAIN_NUMBER_DECIMAL_COMMA_RE if decimal_comma else _PLAIN_NUMBER_RE
        plain = strings.str.fullmatch(pattern).to_numpy(dtype=bool)
        idx = np.flatnonzero(is_str)
        kind[idx[plain]] = "number"
        value[idx[plain]] = strings[plain].astype(float).to_numpy()
        handled = np.zeros(n, dtype=bool)
        handled[idx[plain]] = True
    else:
        handled = np.zeros(n, dtype=bool)
    rest = np.flatnonzero(~numeric & ~handled & ~is_none)
    for i in rest:
        reading = classify_cell(values[i], decimal_comma=decimal_comma)
        kind[i] = reading.kind
        value[i] = reading.value
        unit[i] = reading.unit
        message[i] = reading.message
    raw = np.where(is_none, "", values.astype(str))
    return pd.DataFrame(
        {"kind": kind, "value": value, "unit": unit, "message": message, "raw": raw},
        index=cells.index,
    )
