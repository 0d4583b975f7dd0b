"""Plain values for JSON, charts and spreadsheets, and numbers as text for reading.

One conversion for all (:func:`jsonable`), and one formatter for every number a person
reads (:func:`format_number`, :func:`format_interval`, :func:`format_p`,
:func:`format_level`): the pages, the report and the sentences of the results.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from datetime import date, datetime, time
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "EXPORT_DIGITS",
    "MISSING",
    "export_value",
    "format_interval",
    "format_level",
    "format_number",
    "format_p",
    "jsonable",
    "plain_value",
]

#: How a missing number reads.
MISSING = "—"


def plain_value(value: Any) -> Any:
    """A scalar as None, bool, int, float or str: numpy/pandas scalars unwrapped,
    NaN, infinity and NA as None, dates as ISO text, sequences joined with ``; ``."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, str):
        return str(value)
    if isinstance(value, datetime | date | time | pd.Timestamp):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return "; ".join(str(item) for item in value)
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


#: Significant digits of every number written into a CSV or XLSX table: enough for any
#: lab value or statistic, and no float noise (−12.3, not −12.299999999999999). The
#: analyses and the command line's JSON keep full precision.
EXPORT_DIGITS = 12


def export_value(value: Any) -> Any:
    """A cell as written to a spreadsheet file: :func:`plain_value`, with a float cut
    to :data:`EXPORT_DIGITS` significant digits.

    >>> export_value(-12.299999999999999), export_value(3.3380230947283263), export_value(7)
    (-12.3, 3.33802309473, 7)
    """
    value = plain_value(value)
    if isinstance(value, float):
        return float(f"{value:.{EXPORT_DIGITS}g}")
    return value


def jsonable(value: Any) -> Any:
    """Recursively JSON-ready: result objects (via ``to_dict``), dicts, lists, scalars."""
    if is_dataclass(value) and not isinstance(value, type):
        to_dict = getattr(value, "to_dict", None)
        if callable(to_dict):
            return to_dict()
        return {f.name: jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    return plain_value(value)


#: Significance levels a displayed p-value must never appear to cross by rounding.
_P_BOUNDARIES = (0.05, 0.01, 0.001)


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float | np.floating) and math.isnan(value)


def format_number(
    value: Any,
    decimals: int = 2,
    *,
    digits: int | None = None,
    signed: bool = False,
    keep_small: bool = False,
) -> str:
    """A number for reading: ``decimals`` decimals, or ``digits`` significant digits.

    The sign convention, everywhere: a true minus sign (−) on a negative number; with
    ``signed`` (changes and differences, so a rise and a fall read apart at a glance)
    a plus sign on a positive one; no sign on a number that reads as zero. Missing and
    non-finite values read ``—``. With ``digits`` there is never scientific notation.
    With ``keep_small``, a number that would round to zero is shown to two significant
    digits instead (0.0042), so nothing non-zero reads as 0.

    Examples
    --------
    >>> format_number(-2.456), format_number(1.5, signed=True), format_number(0.7, digits=3)
    ('−2.46', '+1.50', '0.700')
    >>> format_number(0.0042, keep_small=True), format_number(-0.001), format_number(None)
    ('0.0042', '0.00', '—')
    """
    if _missing(value):
        return MISSING
    number = float(value)
    if not math.isfinite(number):
        return MISSING
    if digits is not None:
        if number == 0:
            return "0"
        decimals = max(0, digits - 1 - math.floor(math.log10(abs(number))))
    elif keep_small and 0 < abs(number) < 0.5 * 10**-decimals:
        decimals = 1 - math.floor(math.log10(abs(number)))
    text = f"{number:.{decimals}f}"
    if float(text) == 0:
        return text.lstrip("-")
    if signed and number > 0:
        text = "+" + text
    return text.replace("-", "−")


def format_interval(low: Any, high: Any, decimals: int = 2, **options: Any) -> str:
    """A confidence interval as "low to high", each end as :func:`format_number` with
    the same options; ``—`` when either end is missing.

    >>> format_interval(-5.478, -1.19, digits=3, signed=True)
    '−5.48 to −1.19'
    """
    if _missing(low) or _missing(high):
        return MISSING
    return (
        f"{format_number(low, decimals, **options)} to {format_number(high, decimals, **options)}"
    )


def format_level(level: float) -> str:
    """A confidence or significance level as a percentage: 0.95 reads "95 %"."""
    return f"{level * 100:g} %"


def format_p(p: float | None, *, prefix: bool = False) -> str:
    """A p-value for reading: three significant digits (0.00404, 0.0425, 0.822),
    ``< 0.0001`` below that, ``—`` when missing. More digits are shown when three
    would round across 0.05, 0.01 or 0.001 (0.04996 reads 0.04996, not 0.0500).
    With ``prefix``, as in a sentence: "p = 0.00404", "p < 0.0001"."""
    text = _p_digits(p)
    if not prefix:
        return text
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def _p_digits(p: float | None) -> str:
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return MISSING
    if p < 0.0001:
        return "< 0.0001"
    for digits in range(3, 8):
        text = f"{p:.{digits}g}"
        shown = float(text)
        if not any((p < b) != (shown < b) for b in _P_BOUNDARIES):
            return text
    return f"{p:.8g}"
