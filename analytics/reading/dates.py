"""Dates as hospital systems export them: Excel dates, ISO text, ``dd/mm/yyyy`` or ``mm/dd/yyyy``.

A cell is read as a calendar day and, when it has one, a time of day:

- an Excel date or date-time (the spreadsheet reader gives a ``date``/``datetime``);
- an Excel serial day number in a cell not formatted as a date (``45123``, days since
  1899-12-30, for the years 1950 to 2100), or a compact ``20230105``;
- ISO text, ``2023-01-05``, ``2023-01-05T08:30``, ``2023/01/05 08:30:00``;
- a month name, ``05-JAN-2023``, ``5 Jan 23``, ``Jan 5, 2023``, ``January 5 2023``;
- day and month as numbers, ``05/01/2023``, ``5.1.2023``, ``05-01-23``: day first
  (``dmy``) or month first (``mdy``). A first number above 12 settles day first, a
  second above 12 month first; when no date of the file settles it and a date reads
  differently either way, the user is asked (:class:`~analytics.errors.NeedsAnswer`),
  never guessed for.

Two-digit years are 2000–2068 for ``00``–``68`` and 1969–1999 for ``69``–``99`` (as
``strptime`` reads ``%y``). A time of day may follow (``08:30``, ``8:30:15``,
``8:30 PM``); a time zone (``Z``, ``+01:00``) is ignored: the day is the one written.

Every pattern here is anchored, has no nested repetition and runs only on cells of at
most ``max_value_chars`` characters, so no cell can make a read hang. Each distinct
cell is read once.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.errors import NeedsAnswer
from analytics.limits import LIMITS
from analytics.reading.attributes import cell_text, is_missing_text
from analytics.reading.cells import shown

__all__ = ["DATE_ORDERS", "DateCells", "read_dates", "settle_order"]

#: The day/month orders a user can choose, with what each means.
DATE_ORDERS = {
    "dmy": "day/month/year (05/01/2023 is 5 January 2023)",
    "mdy": "month/day/year (05/01/2023 is May 1, 2023)",
}

_MAX_CHARS = int(LIMITS["max_value_chars"].value)
_EXCEL_EPOCH = dt.date(1899, 12, 30).toordinal()
_FIRST_YEAR, _LAST_YEAR = 1900, 2100
#: Excel serial day numbers read as dates: 1950-01-01 to 2100-12-31.
_SERIALS = (
    dt.date(1950, 1, 1).toordinal() - _EXCEL_EPOCH,
    dt.date(2100, 12, 31).toordinal() - _EXCEL_EPOCH,
)
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}

_TIME = (
    r"(?:(?:[ t]+|, ?)(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,]\d{1,9})?)?"
    r" ?(?P<ampm>am|pm|a\.m\.|p\.m\.)?)?(?: ?(?:z|utc|[+-]\d{2}:?\d{2}))?"
)
_YEAR_FIRST_RE = re.compile(
    rf"(?P<y>\d{{4}})(?P<sep>[-/.])(?P<m>\d{{1,2}})(?P=sep)(?P<d>\d{{1,2}}){_TIME}"
)
_NUMERIC_RE = re.compile(
    rf"(?P<a>\d{{1,2}})(?P<sep>[-/.])(?P<b>\d{{1,2}})(?P=sep)(?P<y>\d{{4}}|\d{{2}}){_TIME}"
)
_DAY_NAMED_RE = re.compile(
    rf"(?P<d>\d{{1,2}})[- ]?(?P<mon>[a-z]{{3,9}})\.?[- ,]{{0,2}}(?P<y>\d{{4}}|\d{{2}}){_TIME}"
)
_NAMED_DAY_RE = re.compile(rf"(?P<mon>[a-z]{{3,9}})\.? (?P<d>\d{{1,2}}),? (?P<y>\d{{4}}){_TIME}")
_COMPACT_RE = re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})")
_SERIAL_RE = re.compile(r"\d{5}(?:\.\d+)?")

# A cell read: ("day", ordinal, seconds) | ("dm", first, second, year, seconds, text)
# | ("empty",) | ("bad", message). Seconds are -1 when the cell has no time of day.
_Token = tuple


@dataclass(frozen=True)
class DateCells:
    """A column's cells read as dates, one entry per cell.

    ``day`` holds the calendar day as a proleptic Gregorian ordinal
    (:meth:`datetime.date.toordinal`) and -1 where the cell is not a date;
    ``seconds`` the time of day in seconds, -1 where none was given; ``problem`` why
    a non-empty cell is not a date (``""`` for a date or an empty cell); ``empty`` the
    cells with nothing in them (blank, ``N/A``).
    """

    day: np.ndarray
    seconds: np.ndarray
    problem: tuple[str, ...]
    empty: np.ndarray


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        return year + (2000 if year <= 68 else 1900)
    return year


def _seconds(match: re.Match[str]) -> int | None:
    """The time of day of the match in seconds, -1 without one, None when impossible."""
    if match.group("h") is None:
        return -1
    hour, minute = int(match.group("h")), int(match.group("mi"))
    second = int(match.group("s") or 0)
    ampm = (match.group("ampm") or "").replace(".", "")
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    return hour * 3600 + minute * 60 + second


def _ordinal(year: int, month: int, day: int) -> int | None:
    if not _FIRST_YEAR <= year <= _LAST_YEAR:
        return None
    try:
        return dt.date(year, month, day).toordinal()
    except ValueError:
        return None


def _day_token(year: int, month: int, day: int, seconds: int | None, text: str) -> _Token:
    ordinal = _ordinal(year, month, day)
    if ordinal is None or seconds is None:
        return ("bad", f"'{shown(text)}' is not a date (no such day or time)")
    return ("day", ordinal, seconds)


def _read_number(value: float, text: str) -> _Token:
    """A number in a date column: an Excel serial day, or ``yyyymmdd`` written as a number."""
    if not math.isfinite(value):
        return ("bad", f"'{shown(text)}' is not a date")
    if 19000101 <= value <= 21001231 and value.is_integer():
        number = int(value)
        token = _day_token(number // 10000, number // 100 % 100, number % 100, -1, text)
        if token[0] == "day":
            return token
    if _SERIALS[0] <= value <= _SERIALS[1]:
        whole = math.floor(value)
        seconds = round((value - whole) * 86400)
        return ("day", _EXCEL_EPOCH + whole, min(seconds, 86399) if value != whole else -1)
    return (
        "bad",
        f"'{shown(text)}' is not a date (as an Excel day number it is not between 1950 and 2100)",
    )


def _read_text(raw: str) -> _Token:
    text = cell_text(raw)
    if not text or is_missing_text(text):
        return ("empty",)
    if len(text) > _MAX_CHARS:
        return ("bad", f"a text of {len(text):,} characters is not a date")
    lowered = text.lower()
    if _SERIAL_RE.fullmatch(lowered):
        return _read_number(float(lowered), text)
    match = _YEAR_FIRST_RE.fullmatch(lowered) or _COMPACT_RE.fullmatch(lowered)
    if match:
        seconds = _seconds(match) if "h" in match.groupdict() else -1
        year, month, day = int(match.group("y")), int(match.group("m")), int(match.group("d"))
        return _day_token(year, month, day, seconds, text)
    match = _NUMERIC_RE.fullmatch(lowered)
    if match:
        first, second = int(match.group("a")), int(match.group("b"))
        seconds = _seconds(match)
        if seconds is None:
            return ("bad", f"'{shown(text)}' is not a date (no such time of day)")
        return ("dm", first, second, _year(match.group("y")), seconds, text)
    match = _DAY_NAMED_RE.fullmatch(lowered) or _NAMED_DAY_RE.fullmatch(lowered)
    if match and match.group("mon") in _MONTHS:
        month = _MONTHS[match.group("mon")]
        year = _year(match.group("y"))
        return _day_token(year, month, int(match.group("d")), _seconds(match), text)
    return ("bad", f"'{shown(text)}' is not a date (e.g. 2023-01-05, 05/01/2023, 05-Jan-2023)")


def _read_cell(raw: object) -> _Token:
    if raw is None or raw is pd.NaT or (isinstance(raw, float) and math.isnan(raw)):
        return ("empty",)
    if isinstance(raw, np.datetime64):
        if np.isnat(raw):
            return ("empty",)
        raw = pd.Timestamp(raw)
    if isinstance(raw, pd.Timestamp):
        if pd.isna(raw):
            return ("empty",)
        raw = raw.to_pydatetime()
    if isinstance(raw, dt.datetime):
        seconds = raw.hour * 3600 + raw.minute * 60 + raw.second
        return ("day", raw.date().toordinal(), seconds)
    if isinstance(raw, dt.date):
        return ("day", raw.toordinal(), -1)
    if isinstance(raw, dt.time):
        return ("bad", f"'{raw}' is a time of day without a date")
    if isinstance(raw, bool):
        return ("bad", f"'{raw}' is not a date")
    if isinstance(raw, int | float | np.integer | np.floating):
        return _read_number(float(raw), cell_text(raw))
    return _read_text(str(raw))


def _tokens(cells: Sequence[object]) -> list[_Token]:
    """Each cell read once per distinct value (and type: 1 and True differ)."""
    seen: dict[tuple[type, object], _Token] = {}
    out = []
    for raw in cells:
        try:
            key = (type(raw), raw)
            token = seen.get(key)
            if token is None:
                token = seen[key] = _read_cell(raw)
        except TypeError:  # an unhashable cell
            token = _read_cell(raw)
        out.append(token)
    return out


@dataclass(frozen=True)
class _Column:
    name: str
    rows: Sequence[object]
    tokens: list[_Token]


def _evidence(columns: Sequence[_Column]) -> tuple[tuple | None, tuple | None, tuple | None]:
    """The first cell that reads only day first, only month first, and either way."""
    day_first = month_first = either = None
    for column in columns:
        for row, token in zip(column.rows, column.tokens, strict=True):
            if token[0] != "dm":
                continue
            first, second, text = token[1], token[2], token[5]
            if 12 < first <= 31 and second <= 12 and day_first is None:
                day_first = (text, row, column.name)
            elif 12 < second <= 31 and first <= 12 and month_first is None:
                month_first = (text, row, column.name)
            elif first <= 12 and second <= 12 and first != second and either is None:
                either = (text, row, column.name)
    return day_first, month_first, either


def _located(found: tuple) -> str:
    """Where a cell is, without its text or a patient's ID (the note goes into outputs)."""
    _, place, column = found
    where = f"row {place}" if not isinstance(place, str) else "a date"
    return f"{where} of column '{column}'"


def _where(found: tuple) -> str:
    text, place, column = found
    where = place if isinstance(place, str) else f"row {place}"
    return f"'{shown(text)}' in column '{column}' ({where})"


def settle_order(
    columns: Sequence[tuple[str, Sequence[object], Sequence[object]]], chosen: str = ""
) -> tuple[str, str, list[list[_Token]]]:
    """The day/month order of the dates of ``columns``, how it was settled, and their tokens.

    Parameters
    ----------
    columns
        ``(column name, places, cells)`` of every date column of the file; a place is
        a row number or a text naming where the cell is (``patient 'R01'``).
    chosen
        ``"dmy"`` or ``"mdy"`` as the user chose it; ``""`` to settle it from the data.

    Returns
    -------
    (order, note, tokens)
        ``order`` is ``"dmy"``, ``"mdy"`` or ``""`` (no date needs one); ``note`` says
        in words how it was settled.

    Raises
    ------
    NeedsAnswer
        (``question="date_order"``) when the data cannot tell and a date reads
        differently either way, or when some dates read only day first and others
        only month first.
    """
    read = [_Column(name, rows, _tokens(cells)) for name, rows, cells in columns]
    tokens = [column.tokens for column in read]
    if chosen:
        return chosen, f"dates read as {DATE_ORDERS[chosen]}, as chosen", tokens
    day_first, month_first, either = _evidence(read)
    ask = (
        " Say how the dates are written: on the Data page with the date order picker; on the "
        "command line with --date-order dmy (day/month/year) or --date-order mdy "
        "(month/day/year)."
    )
    if day_first and month_first:
        raise NeedsAnswer(
            f"The dates mix two orders: {_where(day_first)} has the day first, "
            f"{_where(month_first)} the month first.{ask} Dates that do not fit the order "
            "chosen are then listed as unreadable.",
            "date_order",
            day_first[2],
        )
    if day_first:
        note = f"dates read day first: {_located(day_first)} has a first number above 12"
        return "dmy", note, tokens
    if month_first:
        note = f"dates read month first: {_located(month_first)} has a second number above 12"
        return "mdy", note, tokens
    if either:
        raise NeedsAnswer(
            f"The dates can be read day first or month first, and nothing in the file tells "
            f"which: {_where(either)} is either {_spelled(either[0], 'dmy')} or "
            f"{_spelled(either[0], 'mdy')}.{ask}",
            "date_order",
            either[2],
        )
    return "", "", tokens


def _spelled(text: str, order: str) -> str:
    token = _read_text(text)
    first, second, year = token[1], token[2], token[3]
    day, month = (first, second) if order == "dmy" else (second, first)
    try:
        return dt.date(year, month, day).strftime("%d %B %Y").lstrip("0")
    except ValueError:
        return "no date"


def read_dates(tokens: list[_Token], order: str) -> DateCells:
    """The cells of one column (as :func:`settle_order` read them) as days and times."""
    n = len(tokens)
    day = np.full(n, -1, dtype=np.int64)
    seconds = np.full(n, -1, dtype=np.int64)
    empty = np.zeros(n, dtype=bool)
    problem = [""] * n
    for i, token in enumerate(tokens):
        kind = token[0]
        if kind == "day":
            day[i], seconds[i] = token[1], token[2]
        elif kind == "empty":
            empty[i] = True
        elif kind == "bad":
            problem[i] = token[1]
        else:
            first, second, year, secs, text = token[1:]
            d, m = (first, second) if order != "mdy" else (second, first)
            ordinal = _ordinal(year, m, d) if order or first == second else None
            if ordinal is None:
                how = DATE_ORDERS.get(order, "either order").split(" (")[0]
                problem[i] = f"'{shown(text)}' is not a date read as {how}"
            else:
                day[i], seconds[i] = ordinal, secs
    return DateCells(day, seconds, tuple(problem), empty)


def day_text(ordinal: int) -> str:
    """An ordinal day as ISO text (``2023-01-05``)."""
    return dt.date.fromordinal(int(ordinal)).isoformat()
