"""Plain Python values for JSON, charts and spreadsheets (one conversion for all)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from datetime import date, datetime, time
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["jsonable", "plain_value"]


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


def format_p(p: float | None) -> str:
    """A p-value for reading: three significant digits (0.00404, 0.0425, 0.822),
    ``< 0.0001`` below that, ``—`` when missing. More digits are shown when three
    would round across 0.05, 0.01 or 0.001 (0.04996 reads 0.04996, not 0.0500)."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "—"
    if p < 0.0001:
        return "< 0.0001"
    for digits in range(3, 8):
        text = f"{p:.{digits}g}"
        shown = float(text)
        if not any((p < b) != (shown < b) for b in _P_BOUNDARIES):
            return text
    return f"{p:.8g}"
