"""The building blocks of the HTML report: numbers for reading, escaped text, tables.

Presentation only: p-values and other numbers are rounded here for reading (see
:mod:`analytics.output.report`); every string is HTML-escaped; inline SVG figures are
checked for anything that could load or run.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from analytics.errors import AnalysisError
from analytics.plain import format_level, format_number, format_p

P_KEYS = frozenset(
    {
        "p_two_sided",
        "p_less",
        "p_greater",
        "wilcoxon_p",
        "shapiro_p",
        "sign_flip_p",
        "friedman_p",
        "anova_p",
        "anova_p_gg",
    }
)
PERCENT_KEYS = frozenset({"power", "power_at_delta", "confidence"})
#: The paired descriptives and the CI of the mean change, in the lab's own unit.
CHANGE_KEYS = (
    "baseline_mean",
    "baseline_sd",
    "baseline_se",
    "follow_up_mean",
    "follow_up_sd",
    "follow_up_se",
    "mean_change",
    "sd_change",
    "se_change",
    "ci_low",
    "ci_high",
)
#: Quantities in the lab's own unit (the unit is written after the number).
LAB_UNIT_KEYS = frozenset(
    {
        *CHANGE_KEYS,
        "bootstrap_ci_low",
        "bootstrap_ci_high",
        "delta",
        "mde",
        "mde_90",
        "ci_half_width",
    }
)
#: Decimals shown for quantities that are not in lab units (default 2).
DECIMALS = {"shapiro_w": 3, "epsilon_gg": 3, "wilcoxon_statistic": 1}


# --------------------------------------------------------------------------------------
# Display formatting (presentation only)
# --------------------------------------------------------------------------------------


def is_missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def fmt_p(p: float | None) -> str:
    """A p-value for reading (see :func:`analytics.plain.format_p`)."""
    return format_p(p)


def fmt_number(value: Any, decimals: int = 2) -> str:
    """A number for reading, with a true minus sign, to ``decimals`` decimals.

    Integers are shown whole; a number that would round to 0 is shown to two
    significant digits instead (0.0042), so nothing non-zero reads as 0
    (:func:`analytics.plain.format_number` with ``keep_small``).
    """
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return format_number(value, 0)
    return format_number(value, decimals, keep_small=True)


def escape(value: Any) -> str:
    """HTML-escape text; ``://`` is written as a character reference, so nothing in
    the file looks like a web address (it reads the same on screen)."""
    return html.escape(str(value), quote=True).replace("://", ":&#47;&#47;")


def value_text(key: str, value: Any) -> str:
    if is_missing(value):
        return "—"
    if key in P_KEYS:
        return fmt_p(float(value))
    if key in PERCENT_KEYS and isinstance(value, int | float):
        exact = key in ("confidence", "power")
        return format_level(value) if exact else f"{format_number(value * 100, 1)} %"
    if key == "alpha" and isinstance(value, int | float):
        return f"{value:g}"
    if isinstance(value, bool | int | float):
        return fmt_number(value, DECIMALS.get(key, 2))
    return str(value)


# --------------------------------------------------------------------------------------
# HTML building blocks
# --------------------------------------------------------------------------------------


def table(
    header: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[bool] | None = None
) -> str:
    """A table of already formatted (unescaped) cells."""
    numeric = list(numeric) if numeric is not None else [False] * len(header)

    def cls(position: int, cell: str = "") -> str:
        if numeric[position]:
            return ' class="num"'
        return ' class="nw"' if 0 < len(cell) <= 16 else ""

    head = "".join(f'<th scope="col"{cls(i)}>{escape(h)}</th>' for i, h in enumerate(header))
    body = "".join(
        "<tr>"
        + "".join(f"<td{cls(i, str(cell))}>{escape(cell)}</td>" for i, cell in enumerate(row))
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def kv_table(pairs: Sequence[tuple[str, str]], *, raw_values: bool = False) -> str:
    rows = "".join(
        f'<tr><th scope="row">{escape(key)}</th>'
        f"<td>{value if raw_values else escape(value)}</td></tr>"
        for key, value in pairs
    )
    return f'<table class="kv"><tbody>{rows}</tbody></table>'


def quantity_table(
    frame: pd.DataFrame,
    keys: Sequence[str] | None = None,
    *,
    skip_missing: bool = False,
    unit: str = "",
) -> str:
    """A ``quantity``/``label``/``value`` frame as a two-column table.

    Empty notes are always left out; with ``skip_missing``, every empty quantity.
    Quantities in lab units get ``unit`` after the number.
    """

    def text(key: str, value: Any) -> str:
        shown = value_text(key, value)
        if unit and key in LAB_UNIT_KEYS and not is_missing(value):
            shown += f" {unit}"
        return shown

    rows = frame if keys is None else frame[frame["quantity"].isin(keys)]
    if keys is not None:
        rows = rows.set_index("quantity").loc[[k for k in keys if k in set(rows["quantity"])]]
        rows = rows.reset_index()
    pairs = [
        (str(row.label), text(str(row.quantity), row.value))
        for row in rows.itertuples(index=False)
        if not (is_missing(row.value) and (skip_missing or str(row.quantity).endswith("note")))
    ]
    return kv_table(pairs)


def is_p_column(name: str) -> bool:
    lowered = name.lower()
    return lowered.startswith("p ") or lowered in ("p", "p_raw", "p_holm", "p_two_sided")


def frame_table(frame: pd.DataFrame, *, index: bool = False, decimals: int = 2) -> str:
    """A DataFrame as a table: p columns to 4 decimals, other numbers to ``decimals``."""
    if index:
        frame = frame.reset_index()
    header = [str(c) for c in frame.columns]
    numeric = []
    columns = []
    for name in frame.columns:
        series = frame[name]
        if pd.api.types.is_bool_dtype(series):
            columns.append(["yes" if v else "" for v in series])
            numeric.append(False)
        elif is_p_column(str(name)):
            columns.append([fmt_p(None if is_missing(v) else float(v)) for v in series])
            numeric.append(True)
        elif pd.api.types.is_integer_dtype(series):
            columns.append(["—" if is_missing(v) else str(int(v)) for v in series])
            numeric.append(True)
        elif pd.api.types.is_float_dtype(series):
            columns.append([fmt_number(v, decimals) for v in series])
            numeric.append(True)
        else:
            columns.append(["—" if is_missing(v) else str(v) for v in series])
            numeric.append(False)
    rows = [list(row) for row in zip(*columns, strict=True)] if columns else []
    return table(header, rows, numeric)


_FORBIDDEN_SVG = re.compile(r"<\s*(script|foreignobject|iframe|image|use)\b", re.IGNORECASE)


def inline_svg(svg: str, number: int) -> str:
    """vl-convert's SVG made fit to sit inside HTML next to other figures.

    Namespace declarations go (the HTML parser supplies them; they are web
    addresses), element ids get a per-figure prefix (two figures must not share a
    clip path), and the SVG is refused if it holds anything that could load or run.
    """
    svg = re.sub(r"^\s*<\?xml[^>]*>\s*", "", svg)
    svg = re.sub(r'\s+xmlns(?::\w+)?="[^"]*"', "", svg)
    if _FORBIDDEN_SVG.search(svg):
        raise AnalysisError("A figure contains an element a report may not embed.")
    prefix = f"fig{number}-"
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", svg)
    svg = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}{m.group(1)}"', svg)
    svg = svg.replace("://", ":&#47;&#47;")
    return svg.replace("<svg ", '<svg role="img" ', 1)


def grouped(excluded: Sequence[tuple[str, str]]) -> str:
    """``no month 1 value (3): R01, R02, R07; ...``: patients grouped by reason."""
    groups: dict[str, list[str]] = {}
    for patient, reason in excluded:
        groups.setdefault(reason, []).append(str(patient))
    return "; ".join(f"{reason} ({len(ids)}): {', '.join(ids)}" for reason, ids in groups.items())


def when(moment: datetime) -> str:
    offset = moment.strftime("%z")
    zone = f"UTC{offset[:3]}:{offset[3:]}" if offset else ""
    return f"{moment:%Y-%m-%d %H:%M} {zone}".strip()
