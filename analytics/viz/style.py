"""What every chart spec shares: palette, sizes, titles, inline data, axes and layers.

Every chart is built from in-memory data with safe internal field names (``x``,
``y``, ``patient``, ...): a lab called ``Na+ [mmol/L]`` appears only in titles and
axis labels, never as a Vega-Lite field name (``.``, ``[``, ``]`` and ``:`` in a
field name draw nothing). Every chart carries a title naming the lab, times, unit
and n, and the plain-words filter sentence as subtitle (:class:`ChartTitle`).

Data enter the specs as inline records (:func:`inline_data`), which Altair passes
through without its 5,000-row check, so no chart raises ``MaxRowsError`` whatever the
cohort size (no ``alt.data_transformers`` setting is touched), and which the copies
Altair makes while layering share instead of copying record by record.

Change is follow-up − baseline everywhere. ``flip=True`` (where offered) plots
baseline − follow-up, as the thesis did, and the axis title says so
(:func:`change_axis_title`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
from altair.utils.schemapi import debug_mode

from analytics.errors import AnalysisError
from analytics.plain import plain_value
from analytics.viz import altair_speed  # noqa: F401 (installs Altair's schema cache)

__all__ = [
    "GREY",
    "HEIGHT",
    "LIGHT_GREY",
    "OKABE_ITO",
    "WIDTH",
    "ChartTitle",
    "as_float",
    "band_layer",
    "change_axis_title",
    "display_number",
    "group_labels",
    "group_scale",
    "inline_data",
    "padded",
    "patient_frame",
    "require_columns",
    "time_axis",
    "with_unit",
    "zero_rule",
]

#: Colour-blind-safe palette (Okabe & Ito 2008).
OKABE_ITO = (
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#CC79A7",
    "#E69F00",
    "#56B4E9",
    "#F0E442",
    "#000000",
)
WIDTH = 560
HEIGHT = 320

#: Fixed colours for labels that recur across charts. The thesis's Figure 5 drew women
#: in red and men in blue; vermillion and blue keep that reading and stay colour-blind safe.
_KNOWN_COLOURS = {"Female": OKABE_ITO[1], "Male": OKABE_ITO[0]}
_NOT_RECORDED = "Not recorded"
GREY = "#999999"
LIGHT_GREY = "#BBBBBB"


@dataclass(frozen=True)
class ChartTitle:
    """What a chart is about: its title line and the filter sentence beneath.

    A subtitle with line breaks (``"\\n"``) is shown as several lines: the filter
    sentence first, then any notes.
    """

    text: str
    subtitle: str = ""

    def params(self, *notes: str) -> alt.TitleParams:
        lines = [line for line in self.subtitle.split("\n") if line] if self.subtitle else []
        lines += [note for note in notes if note]
        return alt.TitleParams(
            text=self.text, subtitle=lines, anchor="start", fontSize=14, subtitleFontSize=11
        )


class _InlineRecords(alt.InlineData):
    """Inline records that copies of a chart share instead of copying.

    Altair deep-copies every subchart, record by record, each time charts are layered
    or concatenated (half a million copies for a 10,000-patient figure); the records of
    a figure are never changed once made, so every copy may share them.
    """

    def __deepcopy__(self, memo: object = None) -> _InlineRecords:
        return self


def inline_data(frame: pd.DataFrame) -> alt.InlineData:
    """The frame as inline records (``values``); fields are the column names.

    Made without validating every record (which ``alt.InlineData`` does by default and
    which takes seconds for thousands of rows) and passed through without the 5,000-row
    check; ``to_dict`` still gathers it into the spec's ``datasets``, exactly as a
    ``{"values": [...]}`` dict.
    """
    columns = [str(column) for column in frame.columns]
    cells = [_plain_column(frame.iloc[:, position]) for position in range(len(columns))]
    records = [dict(zip(columns, row, strict=True)) for row in zip(*cells, strict=True)]
    if not columns:  # rows without fields
        records = [{} for _ in range(len(frame))]
    with debug_mode(False):
        return _InlineRecords(values=records)


def _plain_column(column: pd.Series) -> list[Any]:
    """:func:`~analytics.plain.plain_value` of every cell, a column of numbers at once."""
    dtype = column.dtype
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        values = column.to_numpy()
        out = values.tolist()
        for position in np.flatnonzero(~np.isfinite(values)).tolist():
            out[position] = None  # NaN and infinity
        return out
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":
        return column.to_numpy().tolist()  # Python ints and bools
    return [plain_value(value) for value in column.tolist()]


def with_unit(text: str, unit: str) -> str:
    return f"{text} ({unit})" if unit else text


def change_axis_title(unit: str, flip: bool = False) -> str:
    """Axis title for a change: ``Change, follow-up − baseline (fL)`` or the flipped form."""
    if flip:
        return with_unit("Baseline − follow-up", unit) + " — flipped: a fall is positive"
    return with_unit("Change, follow-up − baseline", unit)


def display_number(value: float, digits: int = 2) -> str:
    """Display only: signed with a true minus sign."""
    return f"{value:.{digits}f}".replace("-", "−")


def group_labels(values: pd.Series) -> pd.Series:
    return values.map(
        lambda v: (
            _NOT_RECORDED
            if v is None or (isinstance(v, float) and math.isnan(v)) or str(v).strip() == ""
            else str(v)
        )
    )


def group_scale(labels: Sequence[str]) -> alt.Scale:
    """Colour scale: known labels keep their colour, others take Okabe–Ito in order."""
    present = sorted({label for label in labels if label != _NOT_RECORDED})
    domain = present + ([_NOT_RECORDED] if _NOT_RECORDED in labels else [])
    used = {_KNOWN_COLOURS[label] for label in present if label in _KNOWN_COLOURS}
    free = [colour for colour in OKABE_ITO if colour not in used] or list(OKABE_ITO)
    colours, position = [], 0
    for label in domain:
        if label == _NOT_RECORDED:
            colours.append(GREY)
        elif label in _KNOWN_COLOURS:
            colours.append(_KNOWN_COLOURS[label])
        else:
            colours.append(free[position % len(free)])
            position += 1
    return alt.Scale(domain=domain, range=colours)


def require_columns(frame: pd.DataFrame, needed: Sequence[str], what: str) -> None:
    missing = [column for column in needed if column not in frame.columns]
    if missing:
        raise AnalysisError(f"The {what} chart needs the columns {', '.join(missing)}.")


def as_float(values: pd.Series) -> pd.Series:
    """The values as floats; what does not read as a number becomes missing."""
    return pd.to_numeric(values, errors="coerce").astype(float)


def patient_frame(data: pd.DataFrame, columns: Sequence[str], what: str) -> pd.DataFrame:
    """``patient`` as text and each of ``columns`` as floats, in a fresh frame.

    Refused, naming the ``what`` chart, when ``data`` lacks any of them.
    """
    require_columns(data, ("patient", *columns), what)
    frame = pd.DataFrame({"patient": data["patient"].astype(str).to_numpy()})
    for column in columns:
        frame[column] = as_float(data[column]).to_numpy()
    return frame


def padded(low: float, high: float, share: float = 0.06) -> list[float]:
    span = high - low
    pad = share * span if span > 0 else max(abs(high) * 0.05, 1.0)
    return [low - pad, high + pad]


def band_layer(band: float | None, axis: str) -> list[alt.Chart]:
    """A grey band from −band to +band along ``axis`` ("x" or "y"); none without a band."""
    if band is None:
        return []
    shade = pd.DataFrame({"low": [-float(band)], "high": [float(band)]})
    return [
        alt.Chart(inline_data(shade))
        .mark_rect(color="#888888", opacity=0.18)
        .encode(**{axis: "low:Q", f"{axis}2": "high:Q"})
    ]


def zero_rule(channel: str = "y") -> alt.Chart:
    data = inline_data(pd.DataFrame({"zero": [0.0]}))
    encoding = {channel: alt.X("zero:Q") if channel == "x" else alt.Y("zero:Q")}
    return alt.Chart(data).mark_rule(color="#333333", strokeWidth=1).encode(**encoding)


def time_axis(
    times: Sequence[float], title: str, counts: dict[float, int] | None = None
) -> alt.Axis:
    """Month axis with a tick at every time point; quarter months read as weeks.

    With ``counts`` (time -> patients), each tick label gets a second line ``n = 25``.
    """
    values = sorted({float(t) for t in times})
    parts = []
    for time in values:
        week = time != 0 and (time * 4) % 1 == 0 and time % 1 != 0
        label = f"'{time * 4:g} wk'" if week else "datum.label"
        if counts is not None and time in counts:
            label = f"[{label}, 'n = {int(counts[time])}']"
        if label != "datum.label":
            parts.append(f"datum.value == {time!r} ? {label} : ")
    label_expr = "".join(parts) + "datum.label" if parts else None
    kwargs: dict[str, Any] = {"values": values, "title": title, "grid": False, "format": "~g"}
    if label_expr is not None:
        kwargs["labelExpr"] = label_expr
    return alt.Axis(**kwargs)
