"""Rounding for display. Computation stays at full precision in ``analytics``.

Every number goes through the one formatter, :func:`analytics.plain.format_number`.
"""

from __future__ import annotations

import math

import pandas as pd

from analytics.output.headers import human_headers
from analytics.plain import format_number, format_p


def missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt_p(p: float | None) -> str:
    """p to three significant digits, never rounded across 0.05 (see analytics.plain)."""
    return format_p(p)


def fmt_num(value: float | None, decimals: int = 2) -> str:
    """``decimals`` decimals with a true minus sign; ``—`` when missing."""
    return format_number(value, decimals)


def fmt_signed(value: float | None, decimals: int = 2) -> str:
    """A change: as :func:`fmt_num` with a plus sign on a rise."""
    return format_number(value, decimals, signed=True)


def _is_p_column(name: object) -> bool:
    text = str(name).lower()
    return (
        text in ("p", "p_raw", "p_holm")
        or text.startswith(("p ", "p_", "p-"))
        or (text.endswith("_p") or " p " in f" {text} ")
    )


def p_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if _is_p_column(c)]


def _cell_text(value: object, decimals: int, blank: str = "—") -> str:
    if missing(value) or value is pd.NA:
        return blank
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return fmt_num(value, decimals)
    return str(value)


def display_frame(frame: pd.DataFrame, decimals: int = 2) -> pd.DataFrame:
    """Numbers rounded for reading: p-values as :func:`fmt_p`, others to ``decimals``.

    A number that could not be computed reads ``—``; a text cell with nothing in it
    (a note, a reason) stays blank. Headers as a person reads them.
    """
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_bool_dtype(out[column]):
            out[column] = out[column].map({True: "yes", False: ""})
            continue
        series = out[column]
        if column in p_columns(out) or "p value" in str(column).lower():
            out[column] = series.map(fmt_p)
        elif pd.api.types.is_float_dtype(series):
            out[column] = series.map(lambda v: fmt_num(v, decimals))
        elif pd.api.types.is_integer_dtype(series) and series.isna().any():
            out[column] = series.map(lambda v: "—" if pd.isna(v) else str(int(v)))
        elif series.dtype == object or str(series.dtype) in ("str", "string"):
            present = [v for v in series if not (missing(v) or v is pd.NA)]
            blank = "" if all(isinstance(v, str) for v in present) else "—"
            out[column] = series.map(lambda v, blank=blank: _cell_text(v, decimals, blank))
    return human_headers(out, keys=False)
