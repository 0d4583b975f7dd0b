"""Altair chart specifications (no rendering here; pages and exports render them).

Every chart is built from in-memory data with safe internal field names (``x``,
``y``, ``patient``, ...): a lab called ``Na+ [mmol/L]`` appears only in titles and
axis labels, never as a Vega-Lite field name (``.``, ``[``, ``]`` and ``:`` in a
field name draw nothing). Every chart carries a title naming the lab, times, unit
and n, and the plain-words filter sentence as subtitle.

Data enter the specs as inline records (``{"values": [...]}``), which Altair passes
through without its 5,000-row check, so no chart raises ``MaxRowsError`` whatever the
cohort size (no ``alt.data_transformers`` setting is touched); very large cohorts are
summarised instead (a histogram of changes above :data:`HISTOGRAM_ABOVE` patients).

Change is follow-up − baseline everywhere. ``flip=True`` (where offered) plots
baseline − follow-up, as the thesis did, and the axis title says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
from scipy import stats

from .errors import AnalysisError
from .plain import plain_value

__all__ = [
    "HIDE_LABELS_ABOVE",
    "HISTOGRAM_ABOVE",
    "OKABE_ITO",
    "ChartTitle",
    "before_after",
    "change_axis_title",
    "change_bars",
    "estimation_plot",
    "forest",
    "mean_difference",
    "patient_lines",
    "power_curve_chart",
    "qq_chart",
    "trajectories",
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

#: Above this many patients the patient IDs under a bar chart are hidden.
HIDE_LABELS_ABOVE = 150
#: Above this many patients the per-patient bar chart becomes a histogram of changes.
HISTOGRAM_ABOVE = 2000

#: Fixed colours for labels that recur across charts. The thesis's Figure 5 drew women
#: in red and men in blue; vermillion and blue keep that reading and stay colour-blind safe.
_KNOWN_COLOURS = {"Female": OKABE_ITO[1], "Male": OKABE_ITO[0]}
_NOT_RECORDED = "Not recorded"
_GREY = "#999999"
_LIGHT_GREY = "#BBBBBB"
_DIRECTION_COLOURS = {"Fell": OKABE_ITO[1], "Rose": OKABE_ITO[0], "No change": _GREY}


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


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def _inline(frame: pd.DataFrame) -> dict[str, list[dict[str, Any]]]:
    """The frame as inline records, ``{"values": [...]}``; fields are the column names.

    Altair passes a ``values`` dict through without its 5,000-row check (and without
    validating every record, which ``alt.InlineData`` does and which takes seconds for
    thousands of rows); ``to_dict`` still gathers it into the spec's ``datasets``.
    """
    columns = [str(column) for column in frame.columns]
    records = [
        {column: plain_value(value) for column, value in zip(columns, row, strict=True)}
        for row in frame.itertuples(index=False, name=None)
    ]
    return {"values": records}


def _with_unit(text: str, unit: str) -> str:
    return f"{text} ({unit})" if unit else text


def change_axis_title(unit: str, flip: bool = False) -> str:
    """Axis title for a change: ``Change, follow-up − baseline (fL)`` or the flipped form."""
    if flip:
        return _with_unit("Baseline − follow-up", unit) + " — flipped: a fall is positive"
    return _with_unit("Change, follow-up − baseline", unit)


def _fmt(value: float, digits: int = 2) -> str:
    """Display only: signed with a true minus sign."""
    return f"{value:.{digits}f}".replace("-", "−")


def _group_labels(values: pd.Series) -> pd.Series:
    return values.map(
        lambda v: (
            _NOT_RECORDED
            if v is None or (isinstance(v, float) and math.isnan(v)) or str(v).strip() == ""
            else str(v)
        )
    )


def _group_scale(labels: Sequence[str]) -> alt.Scale:
    """Colour scale: known labels keep their colour, others take Okabe–Ito in order."""
    present = sorted({label for label in labels if label != _NOT_RECORDED})
    domain = present + ([_NOT_RECORDED] if _NOT_RECORDED in labels else [])
    used = {_KNOWN_COLOURS[label] for label in present if label in _KNOWN_COLOURS}
    free = [colour for colour in OKABE_ITO if colour not in used] or list(OKABE_ITO)
    colours, position = [], 0
    for label in domain:
        if label == _NOT_RECORDED:
            colours.append(_GREY)
        elif label in _KNOWN_COLOURS:
            colours.append(_KNOWN_COLOURS[label])
        else:
            colours.append(free[position % len(free)])
            position += 1
    return alt.Scale(domain=domain, range=colours)


def _require_columns(frame: pd.DataFrame, needed: Sequence[str], what: str) -> None:
    missing = [column for column in needed if column not in frame.columns]
    if missing:
        raise AnalysisError(f"The {what} chart needs the columns {', '.join(missing)}.")


def _padded(low: float, high: float, share: float = 0.06) -> list[float]:
    span = high - low
    pad = share * span if span > 0 else max(abs(high) * 0.05, 1.0)
    return [low - pad, high + pad]


def _band_layer(band: float | None, axis: str) -> list[alt.Chart]:
    """A grey band from −band to +band along ``axis`` ("x" or "y"); none without a band."""
    if band is None:
        return []
    shade = pd.DataFrame({"low": [-float(band)], "high": [float(band)]})
    return [
        alt.Chart(_inline(shade))
        .mark_rect(color="#888888", opacity=0.18)
        .encode(**{axis: "low:Q", f"{axis}2": "high:Q"})
    ]


def _zero_rule(channel: str = "y") -> alt.Chart:
    data = _inline(pd.DataFrame({"zero": [0.0]}))
    encoding = {channel: alt.X("zero:Q") if channel == "x" else alt.Y("zero:Q")}
    return alt.Chart(data).mark_rule(color="#333333", strokeWidth=1).encode(**encoding)


def _time_axis(times: Sequence[float], title: str) -> alt.Axis:
    """Month axis with a tick at every time point; quarter months read as weeks."""
    values = sorted({float(t) for t in times})
    parts = []
    for time in values:
        if time != 0 and (time * 4) % 1 == 0 and time % 1 != 0:
            parts.append(f"datum.value == {time!r} ? '{time * 4:g} wk' : ")
    label_expr = "".join(parts) + "datum.label" if parts else None
    kwargs: dict[str, Any] = {"values": values, "title": title, "grid": False, "format": "~g"}
    if label_expr is not None:
        kwargs["labelExpr"] = label_expr
    return alt.Axis(**kwargs)


# --------------------------------------------------------------------------------------
# Q–Q plot and power curve
# --------------------------------------------------------------------------------------


def qq_chart(changes: list[float] | np.ndarray, title: ChartTitle, unit: str) -> alt.LayerChart:
    """Normal Q–Q plot of the changes with the line mean + SD × z.

    Notes
    -----
    Theoretical quantiles use Blom's plotting positions (i − 0.375) / (n + 0.25),
    as R's ``qqnorm`` does for n > 10 and SPSS does throughout. Points close to the
    line are consistent with normally distributed changes; at n = 5 to 10 a Q–Q
    plot (like Shapiro–Wilk) can show only gross departures.
    """
    values = np.sort(np.asarray(changes, dtype=float))
    n = len(values)
    positions = (np.arange(1, n + 1) - 0.375) / (n + 0.25)
    theoretical = stats.norm.ppf(positions)
    data = pd.DataFrame({"z": theoretical, "change": values})
    mean, sd = float(values.mean()), float(values.std(ddof=1)) if n > 1 else 0.0
    ends = np.array([theoretical.min() - 0.3, theoretical.max() + 0.3]) if n else np.array([])
    line = pd.DataFrame({"z": ends, "change": mean + sd * ends})
    y_title = f"Observed change ({unit})" if unit else "Observed change"
    points = (
        alt.Chart(_inline(data))
        .mark_circle(size=70, color=OKABE_ITO[0])
        .encode(
            x=alt.X("z:Q", title="Normal quantile (z)"),
            y=alt.Y("change:Q", title=y_title),
            tooltip=[
                alt.Tooltip("z:Q", format=".2f", title="z"),
                alt.Tooltip("change:Q", format=".2f", title="change"),
            ],
        )
    )
    reference = (
        alt.Chart(_inline(line))
        .mark_line(color="#777777", strokeDash=[4, 4])
        .encode(x="z:Q", y="change:Q")
    )
    return (reference + points).properties(title=title.params(), width=WIDTH, height=HEIGHT)


def power_curve_chart(
    curve: pd.DataFrame,
    x: str,
    x_title: str,
    title: ChartTitle,
    current: float | None = None,
    current_label: str = "this study",
) -> alt.LayerChart:
    """Power against ``x`` (``n`` or ``cohen_dz``/``change``) with 80 % and 90 % lines.

    ``current`` marks the study's own value of ``x`` with a vertical rule.
    """
    data = pd.DataFrame({"x": curve[x].astype(float), "power": curve["power"].astype(float)})
    y_scale = alt.Scale(domain=[0, 1], clamp=True, nice=False)
    line = (
        alt.Chart(_inline(data))
        .mark_line(color=OKABE_ITO[0], strokeWidth=2, clip=True)
        .encode(
            x=alt.X("x:Q", title=x_title),
            y=alt.Y("power:Q", title="Power", scale=y_scale, axis=alt.Axis(format="%")),
            tooltip=[
                alt.Tooltip("x:Q", title=x_title, format=".2f"),
                alt.Tooltip("power:Q", format=".1%"),
            ],
        )
    )
    targets = pd.DataFrame({"power": [0.8, 0.9], "label": ["80 % power", "90 % power"]})
    rules = (
        alt.Chart(_inline(targets))
        .mark_rule(color="#999999", strokeDash=[3, 3])
        .encode(y="power:Q")
    )
    rule_labels = (
        alt.Chart(_inline(targets))
        .mark_text(align="right", dx=-4, dy=-5, color="#777777", fontSize=10)
        .encode(y="power:Q", x=alt.value("width"), text="label:N")
    )
    layers: list[alt.Chart] = [rules, rule_labels, line]
    if current is not None:
        marker = pd.DataFrame({"x": [float(current)], "label": [current_label]})
        layers.append(
            alt.Chart(_inline(marker)).mark_rule(color=OKABE_ITO[1], strokeWidth=2).encode(x="x:Q")
        )
        layers.append(
            alt.Chart(_inline(marker))
            .mark_text(align="left", dx=4, dy=-12, color=OKABE_ITO[1], fontSize=11)
            .encode(x="x:Q", y=alt.value("height"), text="label:N")
        )
    return alt.layer(*layers).properties(title=title.params(), width=WIDTH, height=HEIGHT)


# --------------------------------------------------------------------------------------
# 1. One bar per patient (or a histogram for very large cohorts)
# --------------------------------------------------------------------------------------


def _change_frame(
    data: pd.DataFrame, flip: bool, color_by: str | None, what: str = "change"
) -> pd.DataFrame:
    if "patient" not in data.columns:
        raise AnalysisError(f"The {what} chart needs a 'patient' column.")
    if "change" in data.columns:
        change = pd.to_numeric(data["change"], errors="coerce").astype(float)
    elif {"baseline", "follow_up"} <= set(data.columns):
        change = pd.to_numeric(data["follow_up"], errors="coerce").astype(float) - pd.to_numeric(
            data["baseline"], errors="coerce"
        ).astype(float)
    else:
        raise AnalysisError(
            f"The {what} chart needs a 'change' column or 'baseline' and 'follow_up' columns."
        )
    frame = pd.DataFrame({"patient": data["patient"].astype(str).to_numpy()})
    for column in ("baseline", "follow_up"):
        if column in data.columns:
            frame[column] = pd.to_numeric(data[column], errors="coerce").astype(float).to_numpy()
    frame["change"] = change.to_numpy()
    frame["y"] = -frame["change"] if flip else frame["change"]
    if color_by is not None:
        if color_by not in data.columns:
            raise AnalysisError(f"There is no column '{color_by}' to colour the bars by.")
        frame["group"] = _group_labels(data[color_by].reset_index(drop=True)).to_numpy()
    frame = frame[frame["change"].notna()].reset_index(drop=True)
    if frame.empty:
        raise AnalysisError("No patient has both a baseline and a follow-up value to chart.")
    return frame


def change_bars(
    data: pd.DataFrame,
    title: ChartTitle,
    unit: str,
    *,
    color_by: str | None = None,
    color_title: str | None = None,
    sort: bool = False,
    flip: bool = False,
    band: float | None = None,
) -> alt.LayerChart:
    """One bar per patient: the change from baseline to follow-up.

    Parameters
    ----------
    data : pandas.DataFrame
        ``patient`` (ID label) and ``change`` (follow-up − baseline), or ``baseline``
        and ``follow_up`` from which the change is computed; optionally the column
        named by ``color_by``. Rows without a change are left out.
    title : ChartTitle
        Title (lab, times, unit, n) and the filter sentence.
    unit : str
        The lab's unit, for the axis title.
    color_by : str, optional
        Column of ``data`` holding each patient's subgroup; the bars are coloured by
        it (missing values are "Not recorded") with a legend titled ``color_title``.
    sort : bool
        False: patients in data order. True: a waterfall, bars sorted by the plotted
        value, largest first.
    flip : bool
        Plot baseline − follow-up (the thesis's orientation: a fall is positive).
    band : float, optional
        Shade ± ``band`` (lab units) around zero: changes smaller than a clinically
        meaningful one.

    Returns
    -------
    altair.LayerChart

    Notes
    -----
    Above :data:`HIDE_LABELS_ABOVE` patients the patient IDs are hidden; above
    :data:`HISTOGRAM_ABOVE` the chart becomes a histogram of the changes (binned here,
    so the spec stays small) and the subtitle says so.
    """
    frame = _change_frame(data, flip, color_by)
    axis_title = change_axis_title(unit, flip)
    legend_title = color_title or "Group"
    notes = []
    if band is not None:
        if not band > 0:
            raise AnalysisError("The band of a meaningful change must be a positive number.")
        notes.append(
            f"Grey band: changes within ± {band:g}{' ' + unit if unit else ''}, smaller than "
            "a clinically meaningful change."
        )
    n = len(frame)
    if n > HISTOGRAM_ABOVE:
        return _change_histogram(frame, title, axis_title, legend_title, band, notes)

    show_labels = n <= HIDE_LABELS_ABOVE
    order = (
        frame.sort_values("y", ascending=False, kind="stable")["patient"].tolist()
        if sort
        else frame["patient"].tolist()
    )
    frame["rank"] = frame["patient"].map({patient: i + 1 for i, patient in enumerate(order)})
    if show_labels:
        longest = max(len(patient) for patient in order)
        width = max(WIDTH, min(14 * n, 1800))
        angle = 0 if n * (7 * longest + 6) <= width else -90
        x_title = "Patient, sorted by change (waterfall)" if sort else "Patient"
        x_axis = alt.Axis(labelAngle=angle, title=x_title, labelOverlap=False)
    else:
        width = 800
        hidden = f"Patients (n = {n:,}; IDs hidden"
        x_title = hidden + (", sorted by change)" if sort else ")")
        x_axis = alt.Axis(labels=False, ticks=False, title=x_title)
        notes.append(f"{n:,} patients: patient IDs are hidden; hover over a bar to see one.")
    tooltip = [alt.Tooltip("patient:N", title="Patient")]
    for column, label in (("baseline", "Baseline"), ("follow_up", "Follow-up")):
        if column in frame.columns:
            tooltip.append(alt.Tooltip(f"{column}:Q", title=label, format=".2f"))
    tooltip.append(alt.Tooltip("y:Q", title=axis_title, format=".2f"))
    if "group" in frame.columns:
        tooltip.append(alt.Tooltip("group:N", title=legend_title))
        colour: Any = alt.Color(
            "group:N",
            title=legend_title,
            scale=_group_scale(frame["group"].tolist()),
            legend=alt.Legend(orient="right"),
        )
    else:
        colour = alt.value(OKABE_ITO[0])
    # a little headroom, so the longest bar does not touch the frame as if cut off
    extent = [float(frame["y"].min()), float(frame["y"].max()), 0.0]
    if band is not None:
        extent += [-float(band), float(band)]
    y_domain = _padded(min(extent), max(extent), 0.04)
    bars = (
        alt.Chart(_inline(frame))
        .mark_bar()
        .encode(
            x=alt.X("patient:N", sort=order, axis=x_axis),
            y=alt.Y("y:Q", title=axis_title, scale=alt.Scale(domain=y_domain, nice=True)),
            color=colour,
            tooltip=tooltip,
        )
    )
    layers = [*_band_layer(band, "y"), bars, _zero_rule("y")]
    return alt.layer(*layers).properties(title=title.params(*notes), width=width, height=HEIGHT)


def _change_histogram(
    frame: pd.DataFrame,
    title: ChartTitle,
    axis_title: str,
    legend_title: str,
    band: float | None,
    notes: list[str],
) -> alt.LayerChart:
    values = frame["y"].to_numpy(dtype=float)
    edges = np.histogram_bin_edges(values, bins="auto")
    if len(edges) - 1 > 60:
        edges = np.histogram_bin_edges(values, bins=60)
    groups = frame["group"] if "group" in frame.columns else pd.Series(["All"] * len(frame))
    rows = []
    stacked = np.zeros(len(edges) - 1, dtype=int)  # groups stacked in legend order
    for label in _group_scale(list(groups)).domain if "group" in frame else ["All"]:
        counts, _ = np.histogram(values[(groups == label).to_numpy()], bins=edges)
        for i, count in enumerate(counts):
            if count:
                rows.append(
                    {
                        "bin_start": edges[i],
                        "bin_end": edges[i + 1],
                        "group": label,
                        "count": int(count),
                        "bottom": int(stacked[i]),
                        "top": int(stacked[i] + count),
                    }
                )
        stacked += counts
    binned = pd.DataFrame(rows)
    n = len(frame)
    notes = [
        f"{n:,} patients are too many for one bar each: this histogram shows how many "
        "patients had each size of change.",
        *notes,
    ]
    if "group" in frame.columns:
        colour: Any = alt.Color(
            "group:N", title=legend_title, scale=_group_scale(frame["group"].tolist())
        )
    else:
        colour = alt.value(OKABE_ITO[0])
    bars = (
        alt.Chart(_inline(binned))
        .mark_bar(stroke="white", strokeWidth=0.5)
        .encode(
            x=alt.X("bin_start:Q", title=axis_title),
            x2="bin_end:Q",
            y=alt.Y("top:Q", title="Patients"),
            y2="bottom:Q",
            color=colour,
            tooltip=[
                alt.Tooltip("bin_start:Q", title="From", format=".2f"),
                alt.Tooltip("bin_end:Q", title="To", format=".2f"),
                alt.Tooltip("count:Q", title="Patients"),
                *([alt.Tooltip("group:N", title=legend_title)] if "group" in frame else []),
            ],
        )
    )
    layers = [*_band_layer(band, "x"), bars, _zero_rule("x")]
    return alt.layer(*layers).properties(title=title.params(*notes), width=WIDTH, height=HEIGHT)


# --------------------------------------------------------------------------------------
# 2. Before / after slope plot
# --------------------------------------------------------------------------------------


def _pairs_frame(data: pd.DataFrame, what: str) -> pd.DataFrame:
    _require_columns(data, ("patient", "baseline", "follow_up"), what)
    frame = pd.DataFrame(
        {
            "patient": data["patient"].astype(str).to_numpy(),
            "baseline": pd.to_numeric(data["baseline"], errors="coerce").astype(float).to_numpy(),
            "follow_up": pd.to_numeric(data["follow_up"], errors="coerce").astype(float).to_numpy(),
        }
    )
    frame = frame.dropna(subset=["baseline", "follow_up"]).reset_index(drop=True)
    if frame.empty:
        raise AnalysisError("No patient has both a baseline and a follow-up value to chart.")
    frame["change"] = frame["follow_up"] - frame["baseline"]
    return frame


def _direction(change: float) -> str:
    if change > 0:
        return "Rose"
    if change < 0:
        return "Fell"
    return "No change"


def _slope_layers(
    pairs: pd.DataFrame,
    baseline_label: str,
    follow_up_label: str,
    value_title: str,
    domain: list[float],
    unit: str,
    legend_orient: str = "right",
) -> list[alt.Chart]:
    """Lines from baseline to follow-up, one per patient, coloured by direction."""
    long = pd.DataFrame(
        {
            "patient": np.repeat(pairs["patient"].to_numpy(), 2),
            "x": [baseline_label, follow_up_label] * len(pairs),
            "y": np.column_stack([pairs["baseline"], pairs["follow_up"]]).ravel(),
            "change": np.repeat(pairs["change"].to_numpy(), 2),
        }
    )
    long["direction"] = long["change"].map(_direction)
    n = len(pairs)
    opacity = 0.85 if n <= 50 else max(0.08, 40.0 / n)
    present = [d for d in _DIRECTION_COLOURS if d in set(long["direction"])]
    colour = alt.Color(
        "direction:N",
        title="From baseline",
        scale=alt.Scale(domain=present, range=[_DIRECTION_COLOURS[d] for d in present]),
        legend=alt.Legend(orient=legend_orient),
    )
    x = alt.X(
        "x:N",
        sort=[baseline_label, follow_up_label],
        title=None,
        axis=alt.Axis(labelAngle=0, labelFontSize=12),
        scale=alt.Scale(paddingOuter=0.3),
    )
    y = alt.Y("y:Q", title=value_title, scale=alt.Scale(domain=domain, zero=False, nice=False))
    tooltip = [
        alt.Tooltip("patient:N", title="Patient"),
        alt.Tooltip("x:N", title="Time"),
        alt.Tooltip("y:Q", title=value_title, format=".2f"),
        alt.Tooltip("change:Q", title=change_axis_title(unit), format=".2f"),
    ]
    base = alt.Chart(_inline(long))
    lines = base.mark_line(strokeWidth=1.5, opacity=opacity).encode(
        x=x, y=y, detail="patient:N", color=colour, tooltip=tooltip
    )
    points = base.mark_circle(size=40, opacity=min(1.0, opacity + 0.1)).encode(
        x=x, y=y, color=colour, tooltip=tooltip
    )
    return [lines, points]


def _thresholds(
    threshold: float | Sequence[tuple[float, str]] | None, threshold_label: str
) -> list[tuple[float, str]]:
    if threshold is None:
        return []
    if isinstance(threshold, int | float | np.number):
        return [(float(threshold), threshold_label)]
    return [(float(value), str(label)) for value, label in threshold]


def before_after(
    data: pd.DataFrame,
    title: ChartTitle,
    unit: str,
    *,
    threshold: float | Sequence[tuple[float, str]] | None = None,
    threshold_label: str = "",
    baseline_label: str = "Baseline",
    follow_up_label: str = "Follow-up",
    value_title: str | None = None,
) -> alt.LayerChart:
    """Slope plot: a line per patient from the baseline value to the follow-up value.

    Parameters
    ----------
    data : pandas.DataFrame
        ``patient``, ``baseline``, ``follow_up``; rows missing either value are left out.
    title, unit
        As for :func:`change_bars`.
    threshold : float or sequence of (value, label), optional
        A clinical threshold (e.g. microcytosis MCV < 80 fL, anemia Hgb < 12 g/dL) drawn
        as a dashed rule labelled ``threshold_label``; the region below a single
        threshold is shaded. Several (value, label) pairs draw several rules (e.g.
        different cut-offs for women and men).
    baseline_label, follow_up_label : str
        Names of the two times on the x axis (e.g. "month 0", "month 2").
    value_title : str, optional
        Y-axis title; default "Value (unit)".

    Returns
    -------
    altair.LayerChart
        Lines and points coloured by direction (rose / fell), plus the thresholds.
    """
    pairs = _pairs_frame(data, "before/after")
    rules = _thresholds(threshold, threshold_label)
    value_title = value_title or _with_unit("Value", unit)
    values = np.concatenate([pairs["baseline"].to_numpy(), pairs["follow_up"].to_numpy()])
    low = min([float(values.min()), *(value for value, _ in rules)])
    high = max([float(values.max()), *(value for value, _ in rules)])
    domain = _padded(low, high)
    width = 360
    layers: list[alt.Chart] = []
    if len(rules) == 1:
        shade = pd.DataFrame({"top": [rules[0][0]]})
        layers.append(
            alt.Chart(_inline(shade))
            .mark_rect(color="#888888", opacity=0.12)
            .encode(y=alt.Y("top:Q", scale=alt.Scale(domain=domain)), y2=alt.value("height"))
        )
    layers += _slope_layers(pairs, baseline_label, follow_up_label, value_title, domain, unit)
    if rules:
        marks = pd.DataFrame({"threshold": [v for v, _ in rules], "label": [t for _, t in rules]})
        layers.append(
            alt.Chart(_inline(marks))
            .mark_rule(color="#444444", strokeDash=[6, 4], strokeWidth=1.5)
            .encode(y="threshold:Q")
        )
        layers.append(
            alt.Chart(_inline(marks))
            .mark_text(align="left", dx=6, color="#333333", fontSize=11)
            .encode(y="threshold:Q", x=alt.value("width"), text="label:N")
        )
    return alt.layer(*layers).properties(title=title.params(), width=width, height=HEIGHT)


# --------------------------------------------------------------------------------------
# 3. Trajectories over every time point, and 7. one coloured line per patient
# --------------------------------------------------------------------------------------


def _long_frame(long_data: pd.DataFrame, what: str) -> pd.DataFrame:
    _require_columns(long_data, ("patient", "time", "value"), what)
    frame = pd.DataFrame(
        {
            "patient": long_data["patient"].astype(str).to_numpy(),
            "time": pd.to_numeric(long_data["time"], errors="coerce").astype(float).to_numpy(),
            "value": pd.to_numeric(long_data["value"], errors="coerce").astype(float).to_numpy(),
        }
    )
    frame = frame.dropna().sort_values(["patient", "time"], kind="stable").reset_index(drop=True)
    if frame.empty:
        raise AnalysisError("No patient has a value of this lab to chart.")
    return frame


MONTHS_TITLE = "Months after starting sirolimus"


def trajectories(
    long_data: pd.DataFrame,
    summary: pd.DataFrame,
    title: ChartTitle,
    unit: str,
    *,
    value_title: str | None = None,
    confidence: float = 0.95,
    time_title: str = MONTHS_TITLE,
) -> alt.LayerChart:
    """Each patient's values over time (grey) with the mean and its CI at each time.

    Parameters
    ----------
    long_data : pandas.DataFrame
        One row per value: ``patient``, ``time`` (months), ``value``.
    summary : pandas.DataFrame
        One row per time point: ``time``, ``mean``, ``ci_low``, ``ci_high`` (and
        optionally ``n``); CI limits may be missing (a time with one value).
    title, unit
        As for :func:`change_bars`.
    value_title : str, optional
        Y-axis title; default "Value (unit)".
    confidence : float
        Level of the intervals, for the legend.

    Returns
    -------
    altair.LayerChart
    """
    frame = _long_frame(long_data, "trajectory")
    _require_columns(summary, ("time", "mean", "ci_low", "ci_high"), "trajectory summary")
    columns = ["time", "mean", "ci_low", "ci_high"] + (["n"] if "n" in summary.columns else [])
    means = summary[columns].copy()
    value_title = value_title or _with_unit("Value", unit)
    each = "Each patient"
    mean_label = f"Mean ± {confidence * 100:g} % CI"
    frame["series"] = each
    means["series"] = mean_label
    colour = alt.Color(
        "series:N",
        title=None,
        scale=alt.Scale(domain=[each, mean_label], range=[_LIGHT_GREY, OKABE_ITO[0]]),
        legend=alt.Legend(orient="top"),
    )
    x = alt.X("time:Q", axis=_time_axis(frame["time"].unique(), time_title))
    y = alt.Y("value:Q", title=value_title, scale=alt.Scale(zero=False))
    n = frame["patient"].nunique()
    opacity = 0.9 if n <= 50 else max(0.1, 45.0 / n)
    patients = alt.Chart(_inline(frame))
    lines = patients.mark_line(strokeWidth=1.2, opacity=opacity).encode(
        x=x,
        y=y,
        detail="patient:N",
        color=colour,
        tooltip=[
            alt.Tooltip("patient:N", title="Patient"),
            alt.Tooltip("time:Q", title="Month"),
            alt.Tooltip("value:Q", title=value_title, format=".2f"),
        ],
    )
    dots = patients.mark_circle(size=18, opacity=opacity).encode(x=x, y=y, color=colour)
    summary_tooltip = [
        alt.Tooltip("time:Q", title="Month"),
        alt.Tooltip("mean:Q", title="Mean", format=".2f"),
        alt.Tooltip("ci_low:Q", title="CI low", format=".2f"),
        alt.Tooltip("ci_high:Q", title="CI high", format=".2f"),
    ] + ([alt.Tooltip("n:Q", title="n")] if "n" in means.columns else [])
    mean_data = alt.Chart(_inline(means))
    mean_line = mean_data.mark_line(strokeWidth=3).encode(
        x="time:Q", y=alt.Y("mean:Q"), color=colour, tooltip=summary_tooltip
    )
    mean_points = mean_data.mark_point(filled=True, size=70).encode(
        x="time:Q", y="mean:Q", color=colour, tooltip=summary_tooltip
    )
    bars = mean_data.mark_rule(strokeWidth=2.5).encode(
        x="time:Q", y="ci_low:Q", y2="ci_high:Q", color=colour
    )
    return alt.layer(lines, dots, bars, mean_line, mean_points).properties(
        title=title.params(), width=WIDTH, height=HEIGHT
    )


def patient_lines(
    long_data: pd.DataFrame,
    title: ChartTitle,
    unit: str,
    *,
    value_title: str | None = None,
    time_title: str = MONTHS_TITLE,
) -> alt.LayerChart:
    """One coloured line per patient over every time point (thesis Figure 6).

    Parameters
    ----------
    long_data : pandas.DataFrame
        ``patient``, ``time`` (months), ``value``.
    title, unit, value_title
        As for :func:`trajectories`.

    Notes
    -----
    Colours follow the Okabe–Ito palette in patient order; beyond eight patients they
    repeat, so use :func:`trajectories` for larger groups.
    """
    frame = _long_frame(long_data, "patient lines")
    value_title = value_title or _with_unit("Value", unit)
    patients = list(dict.fromkeys(frame["patient"]))
    colours = [OKABE_ITO[i % len(OKABE_ITO)] for i in range(len(patients))]
    colour = alt.Color(
        "patient:N", title="Patient", scale=alt.Scale(domain=patients, range=colours)
    )
    x = alt.X("time:Q", axis=_time_axis(frame["time"].unique(), time_title))
    y = alt.Y("value:Q", title=value_title, scale=alt.Scale(zero=False))
    tooltip = [
        alt.Tooltip("patient:N", title="Patient"),
        alt.Tooltip("time:Q", title="Month"),
        alt.Tooltip("value:Q", title=value_title, format=".2f"),
    ]
    base = alt.Chart(_inline(frame))
    line_colour = alt.Color(
        "patient:N", scale=alt.Scale(domain=patients, range=colours), legend=None
    )
    lines = base.mark_line(strokeWidth=2).encode(x=x, y=y, color=line_colour, tooltip=tooltip)
    points = base.mark_point(filled=True, size=70, opacity=1).encode(
        x=x,
        y=y,
        color=colour,
        shape=alt.Shape("patient:N", title="Patient", scale=alt.Scale(domain=patients)),
        tooltip=tooltip,
    )
    return (
        alt.layer(lines, points)
        .resolve_scale(color="independent", shape="independent")
        .properties(title=title.params(), width=WIDTH, height=HEIGHT)
    )


# --------------------------------------------------------------------------------------
# 4. Estimation plot (Gardner–Altman)
# --------------------------------------------------------------------------------------


def estimation_plot(
    data: pd.DataFrame,
    result: Any,
    title: ChartTitle,
    unit: str,
    *,
    baseline_label: str = "Baseline",
    follow_up_label: str = "Follow-up",
    value_title: str | None = None,
) -> alt.HConcatChart:
    """Gardner–Altman plot: the paired values and, beside them, the mean change and CI.

    Parameters
    ----------
    data : pandas.DataFrame
        ``patient``, ``baseline``, ``follow_up`` (complete pairs are used).
    result : PairedResult
        Supplies ``mean_change``, ``ci_low``, ``ci_high`` and ``confidence``
        (follow-up − baseline).
    title, unit
        As for :func:`change_bars`.

    Notes
    -----
    The right panel's axis is the change, on the same scale as the left panel and
    shifted so that zero change lies level with the baseline mean: the mean change
    then sits level with the follow-up mean. Change is never flipped here.
    """
    pairs = _pairs_frame(data, "estimation")
    value_title = value_title or _with_unit("Value", unit)
    # the means of every pair (the drawn lines may be a sample of them in a large cohort)
    baseline_mean = float(getattr(result, "baseline_mean", pairs["baseline"].mean()))
    follow_up_mean = float(getattr(result, "follow_up_mean", pairs["follow_up"].mean()))
    mean_change = float(result.mean_change)
    ci_low, ci_high = float(result.ci_low), float(result.ci_high)
    values = np.concatenate([pairs["baseline"].to_numpy(), pairs["follow_up"].to_numpy()])
    low = min(float(values.min()), baseline_mean + ci_low, baseline_mean)
    high = max(float(values.max()), baseline_mean + ci_high, baseline_mean)
    domain = _padded(low, high)
    change_domain = [domain[0] - baseline_mean, domain[1] - baseline_mean]
    left_width, right_width = 300, 190

    left_layers = _slope_layers(
        pairs, baseline_label, follow_up_label, value_title, domain, unit, legend_orient="top"
    )
    means = pd.DataFrame(
        {"x": [baseline_label, follow_up_label], "mean": [baseline_mean, follow_up_mean]}
    )
    left_layers.append(
        alt.Chart(_inline(means))
        .mark_rule(color="#555555", strokeDash=[4, 3])
        .encode(y=alt.Y("mean:Q", scale=alt.Scale(domain=domain)))
    )
    left = alt.layer(*left_layers).properties(width=left_width, height=HEIGHT)

    level = f"{float(result.confidence) * 100:g} %"
    category = "Mean change"
    individual = pd.DataFrame({"x": category, "change": pairs["change"]})
    summary = pd.DataFrame(
        {
            "x": [category],
            "mean_change": [mean_change],
            "ci_low": [ci_low],
            "ci_high": [ci_high],
            "label": [
                f"Mean {_fmt(mean_change)}{' ' + unit if unit else ''}\n"
                f"{level} CI {_fmt(ci_low)} to {_fmt(ci_high)}"
            ],
        }
    )
    change_title = _with_unit(f"Mean change, follow-up − baseline, {level} CI", unit)
    y_change = alt.Y(
        "change:Q",
        title=change_title,
        scale=alt.Scale(domain=change_domain, nice=False, zero=False),
        axis=alt.Axis(orient="right", grid=False),
    )
    x_change = alt.X("x:N", title=None, axis=alt.Axis(labelAngle=0, labelFontSize=12))
    dots = (
        alt.Chart(_inline(individual))
        .mark_circle(size=30, color=_GREY, opacity=0.6)
        .encode(x=x_change, y=y_change, tooltip=[alt.Tooltip("change:Q", format=".2f")])
    )
    summary_chart = alt.Chart(_inline(summary))
    interval = summary_chart.mark_rule(color=OKABE_ITO[1], strokeWidth=3).encode(
        x=x_change, y=alt.Y("ci_low:Q", scale=alt.Scale(domain=change_domain)), y2="ci_high:Q"
    )
    point = summary_chart.mark_point(filled=True, size=140, color=OKABE_ITO[1]).encode(
        x=x_change,
        y=alt.Y("mean_change:Q", scale=alt.Scale(domain=change_domain)),
        tooltip=[
            alt.Tooltip("mean_change:Q", title="Mean change", format=".2f"),
            alt.Tooltip("ci_low:Q", title=f"{level} CI low", format=".2f"),
            alt.Tooltip("ci_high:Q", title=f"{level} CI high", format=".2f"),
        ],
    )
    label = summary_chart.mark_text(
        align="center", baseline="top", lineBreak="\n", fontSize=11, color="#333333"
    ).encode(x=x_change, y=alt.value(6), text="label:N")
    zero = pd.DataFrame({"zero": [0.0]})
    zero_rule = (
        alt.Chart(_inline(zero))
        .mark_rule(color="#555555", strokeDash=[4, 3])
        .encode(y=alt.Y("zero:Q", scale=alt.Scale(domain=change_domain)))
    )
    right = alt.layer(zero_rule, dots, interval, point, label).properties(
        width=right_width, height=HEIGHT
    )
    return (
        alt.hconcat(left, right, spacing=10)
        .resolve_scale(y="independent", color="independent")
        .properties(title=title.params())
    )


# --------------------------------------------------------------------------------------
# 5. Mean-difference (Tukey / Bland–Altman)
# --------------------------------------------------------------------------------------


def mean_difference(
    data: pd.DataFrame,
    title: ChartTitle,
    unit: str,
    *,
    flip: bool = False,
    value_title: str | None = None,
) -> alt.LayerChart:
    """Change against the mean of each patient's two values, with mean ± 1.96 SD.

    Parameters
    ----------
    data : pandas.DataFrame
        ``patient``, ``baseline``, ``follow_up`` (complete pairs are used; at least 2).
    flip : bool
        Plot baseline − follow-up instead of follow-up − baseline.
    value_title : str, optional
        Lab name for the x-axis title ("Mean of baseline and follow-up, <lab>").

    Notes
    -----
    The limits are mean change ± 1.96 × SD of the changes (SD with n − 1): the range
    expected to hold about 95 % of patients' changes if the changes are roughly normal.
    A trend in the points suggests the change depends on the starting level.
    """
    pairs = _pairs_frame(data, "mean-difference")
    if len(pairs) < 2:
        raise AnalysisError("A mean-difference plot needs at least 2 patients with both values.")
    y_values = -pairs["change"] if flip else pairs["change"]
    frame = pd.DataFrame(
        {
            "patient": pairs["patient"],
            "x": (pairs["baseline"] + pairs["follow_up"]) / 2.0,
            "y": y_values,
        }
    )
    mean = float(frame["y"].mean())
    sd = float(frame["y"].std(ddof=1))
    u = f" {unit}" if unit else ""
    limits = pd.DataFrame(
        {
            "y": [mean + 1.96 * sd, mean, mean - 1.96 * sd],
            "label": [
                f"+1.96 SD: {_fmt(mean + 1.96 * sd)}{u}",
                f"Mean: {_fmt(mean)}{u}",
                f"−1.96 SD: {_fmt(mean - 1.96 * sd)}{u}",
            ],
            "kind": ["limit", "mean", "limit"],
        }
    )
    axis_title = change_axis_title(unit, flip)
    x_title = "Mean of baseline and follow-up" + (f", {value_title}" if value_title else "")
    x_title = _with_unit(x_title, unit) if not value_title else x_title
    y_domain = _padded(
        min(float(frame["y"].min()), mean - 1.96 * sd, 0.0),
        max(float(frame["y"].max()), mean + 1.96 * sd, 0.0),
        0.08,
    )
    y = alt.Y("y:Q", title=axis_title, scale=alt.Scale(domain=y_domain, nice=False))
    points = (
        alt.Chart(_inline(frame))
        .mark_circle(size=60, color=OKABE_ITO[0], opacity=0.85)
        .encode(
            x=alt.X(
                "x:Q",
                title=x_title,
                scale=alt.Scale(
                    domain=_padded(float(frame["x"].min()), float(frame["x"].max())), nice=True
                ),
            ),
            y=y,
            tooltip=[
                alt.Tooltip("patient:N", title="Patient"),
                alt.Tooltip("x:Q", title="Mean of the two values", format=".2f"),
                alt.Tooltip("y:Q", title=axis_title, format=".2f"),
            ],
        )
    )
    rule_data = alt.Chart(_inline(limits))
    rules = rule_data.mark_rule(strokeWidth=1.5).encode(
        y="y:Q",
        color=alt.Color(
            "kind:N",
            scale=alt.Scale(domain=["mean", "limit"], range=[OKABE_ITO[1], "#666666"]),
            legend=None,
        ),
        strokeDash=alt.StrokeDash(
            "kind:N", scale=alt.Scale(domain=["mean", "limit"], range=[[1, 0], [6, 4]]), legend=None
        ),
    )
    labels = rule_data.mark_text(align="left", dx=6, fontSize=11, color="#333333").encode(
        y="y:Q", x=alt.value("width"), text="label:N"
    )
    zero = _zero_rule("y").mark_rule(color="#BBBBBB", strokeWidth=1)
    return alt.layer(zero, rules, points, labels).properties(
        title=title.params(), width=WIDTH, height=HEIGHT
    )


# --------------------------------------------------------------------------------------
# 6. Forest plot of subgroups
# --------------------------------------------------------------------------------------


def forest(
    groups_frame: pd.DataFrame,
    title: ChartTitle,
    unit: str,
    *,
    flip: bool = False,
    confidence: float = 0.95,
) -> alt.LayerChart:
    """Each subgroup's mean change with its CI, and a zero line.

    Parameters
    ----------
    groups_frame : pandas.DataFrame
        One row per subgroup, as ``SubgroupResult.to_frame()`` gives it: ``group``,
        ``n``, ``mean_change``, ``ci_low``, ``ci_high`` (CI missing for a group of one).
    flip : bool
        Plot baseline − follow-up (the CI limits swap).
    confidence : float
        Level of the intervals, for the axis title.

    Notes
    -----
    The estimate and interval of each row are also printed at the right, so the
    chart reads without hovering.
    """
    _require_columns(groups_frame, ("group", "n", "mean_change", "ci_low", "ci_high"), "forest")
    if groups_frame.empty:
        raise AnalysisError("There is no subgroup to show.")
    sign = -1.0 if flip else 1.0
    mean = pd.to_numeric(groups_frame["mean_change"], errors="coerce").astype(float) * sign
    low = pd.to_numeric(groups_frame["ci_low"], errors="coerce").astype(float) * sign
    high = pd.to_numeric(groups_frame["ci_high"], errors="coerce").astype(float) * sign
    if flip:
        low, high = high, low
    labels = [
        f"{group} (n = {int(n)})"
        for group, n in zip(groups_frame["group"], groups_frame["n"], strict=True)
    ]
    estimates = []
    for m, lo, hi in zip(mean, low, high, strict=True):
        if math.isnan(lo) or math.isnan(hi):
            estimates.append(f"{_fmt(m)} (no CI: one patient)")
        else:
            estimates.append(f"{_fmt(m)} ({_fmt(lo)} to {_fmt(hi)})")
    frame = pd.DataFrame(
        {
            "label": labels,
            "mean_change": mean.to_numpy(),
            "ci_low": low.to_numpy(),
            "ci_high": high.to_numpy(),
            "estimate": estimates,
        }
    )
    finite = np.concatenate([frame[c].dropna().to_numpy() for c in ("mean_change", "ci_low")])
    finite = np.concatenate([finite, frame["ci_high"].dropna().to_numpy(), [0.0]])
    x_domain = _padded(float(finite.min()), float(finite.max()), 0.08)
    level = f"{confidence * 100:g} %"
    if flip:
        x_title = _with_unit(f"Mean baseline − follow-up, {level} CI", unit)
        x_title += " — flipped: a fall is positive"
    else:
        x_title = _with_unit(f"Mean change, follow-up − baseline, {level} CI", unit)
    x = alt.X("mean_change:Q", title=x_title, scale=alt.Scale(domain=x_domain, nice=False))
    y = alt.Y("label:N", sort=labels, title=None, axis=alt.Axis(labelFontSize=12))
    height = max(180, 56 * len(frame))
    base = alt.Chart(_inline(frame))
    tooltip = [
        alt.Tooltip("label:N", title="Subgroup"),
        alt.Tooltip("estimate:N", title=f"Mean change ({level} CI)"),
    ]
    intervals = base.mark_rule(strokeWidth=2.5, color=OKABE_ITO[0]).encode(
        x=alt.X("ci_low:Q", scale=alt.Scale(domain=x_domain)), x2="ci_high:Q", y=y
    )
    points = base.mark_point(
        filled=True, size=110, shape="square", color=OKABE_ITO[0], opacity=1
    ).encode(x=x, y=y, tooltip=tooltip)
    text = base.mark_text(align="left", dx=8, fontSize=11, color="#333333").encode(
        y=y, x=alt.value("width"), text="estimate:N"
    )
    header = (
        alt.Chart(
            _inline(
                pd.DataFrame({"header": [f"Mean ({level} CI)" + (f", {unit}" if unit else "")]})
            )
        )
        .mark_text(align="left", dx=8, fontSize=11, fontWeight="bold", color="#333333")
        .encode(x=alt.value("width"), y=alt.value(-8), text="header:N")
    )
    zero = _zero_rule("x").mark_rule(color="#333333", strokeDash=[4, 3])
    return alt.layer(zero, intervals, points, text, header).properties(
        title=title.params(), width=WIDTH, height=height
    )
