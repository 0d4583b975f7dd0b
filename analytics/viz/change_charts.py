"""Change per patient: one bar each (in data order or as a waterfall), or a histogram.

Change is follow-up − baseline; ``flip=True`` plots baseline − follow-up, as the thesis
did. Very large cohorts are summarised: above :data:`HISTOGRAM_ABOVE` patients the bars
become a histogram of the changes.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from analytics.errors import AnalysisError
from analytics.viz.censored import censored_overlay, censored_rows, hollow_when_censored, pair_marks
from analytics.viz.style import (
    HEIGHT,
    OKABE_ITO,
    WIDTH,
    ChartTitle,
    as_float,
    band_layer,
    change_axis_title,
    group_labels,
    group_scale,
    inline_data,
    padded,
    zero_rule,
)

__all__ = ["HIDE_LABELS_ABOVE", "HISTOGRAM_ABOVE", "change_bars"]

#: Above this many patients the patient IDs under a bar chart are hidden.
HIDE_LABELS_ABOVE = 150
#: Above this many patients the per-patient bar chart becomes a histogram of changes.
HISTOGRAM_ABOVE = 2000


def _change_frame(
    data: pd.DataFrame, flip: bool, color_by: str | None, what: str = "change"
) -> pd.DataFrame:
    if "patient" not in data.columns:
        raise AnalysisError(f"The {what} chart needs a 'patient' column.")
    if "change" in data.columns:
        change = as_float(data["change"])
    elif {"baseline", "follow_up"} <= set(data.columns):
        change = as_float(data["follow_up"]) - as_float(data["baseline"])
    else:
        raise AnalysisError(
            f"The {what} chart needs a 'change' column or 'baseline' and 'follow_up' columns."
        )
    frame = pd.DataFrame({"patient": data["patient"].astype(str).to_numpy()})
    for column in ("baseline", "follow_up"):
        if column in data.columns:
            frame[column] = as_float(data[column]).to_numpy()
    frame["change"] = change.to_numpy()
    frame["y"] = -frame["change"] if flip else frame["change"]
    frame["censored"] = pair_marks(data.reset_index(drop=True)).to_numpy()
    if "beyond" in data.columns:
        frame["beyond"] = data["beyond"].fillna("").astype(str).to_numpy()
    if color_by is not None:
        if color_by not in data.columns:
            raise AnalysisError(f"There is no column '{color_by}' to colour the bars by.")
        frame["group"] = group_labels(data[color_by].reset_index(drop=True)).to_numpy()
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
    censored_label: str = "",
    rcv_label: str = "",
) -> alt.LayerChart:
    """One bar per patient: the change from baseline to follow-up.

    Parameters
    ----------
    data : pandas.DataFrame
        ``patient`` (ID label) and ``change`` (follow-up − baseline), or ``baseline``
        and ``follow_up`` from which the change is computed; optionally the column
        named by ``color_by``, and ``baseline_censored`` / ``follow_up_censored`` (the
        file's mark of a censored value, e.g. ``<5``, else ""). Rows without a change
        are left out.
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
    censored_label : str
        Legend entry of the censored patients' marks, naming the rule in use (see
        :func:`analytics.viz.censored.legend_label`).
    rcv_label : str
        Legend entry of the mark above (or below) each bar whose change is beyond the
        reference change value: ``data`` then has ``beyond`` (``rise``, ``fall`` or "").

    Returns
    -------
    altair.LayerChart

    Notes
    -----
    Above :data:`HIDE_LABELS_ABOVE` patients the patient IDs are hidden; above
    :data:`HISTOGRAM_ABOVE` the chart becomes a histogram of the changes (binned here,
    so the spec stays small) and the subtitle says so.

    A patient with a censored value (``<5``) has a light, outlined bar, a hollow ring
    at its end (so a patient censored at both times, a zero change, is still seen) and
    the file's marks as a label (``<5 → <5``, ``from <5``, ``to >1000``).
    """
    frame = _change_frame(data, flip, color_by)
    axis_title = change_axis_title(unit, flip)
    legend_title = color_title or "Group"
    notes = [] if band is None else [_band_note(band, unit)]
    n = len(frame)
    if n > HISTOGRAM_ABOVE:
        n_censored = len(censored_rows(frame))
        if n_censored:
            notes.append(
                f"{n_censored:,} patients have a value beyond a detection limit, counted at "
                f"the value entered ({censored_label or 'see the rule above'})."
            )
        return _change_histogram(frame, title, axis_title, legend_title, band, notes)

    order = _bar_order(frame, sort)
    width, x_axis = _patient_axis(order, sort)
    if n > HIDE_LABELS_ABOVE:
        notes.append(f"{n:,} patients: patient IDs are hidden; hover over a bar to see one.")
    y_domain, rcv_rows = _bar_domain(frame, band)
    x = alt.X("patient:N", sort=order, axis=x_axis)
    y = alt.Y("y:Q", title=axis_title, scale=alt.Scale(domain=y_domain, nice=True))
    bars = (
        alt.Chart(inline_data(frame))
        .mark_bar(strokeWidth=1.5)
        .encode(
            x=x,
            y=y,
            color=_group_colour(frame, legend_title, legend=alt.Legend(orient="right")),
            stroke=_group_colour(frame, legend_title, alt.Stroke, legend=None),
            tooltip=_bar_tooltip(frame, axis_title, legend_title),
            **hollow_when_censored(),
        )
    )
    marks = censored_overlay(
        frame,
        x,
        y,
        censored_label or "Hollow: beyond a detection limit",
        text=n <= HIDE_LABELS_ABOVE,
        tooltip=[alt.Tooltip("patient:N", title="Patient")],
    )
    layers = [*band_layer(band, "y"), bars, zero_rule("y"), *marks]
    if not rcv_rows.empty:
        layers.append(_beyond_layer(rcv_rows, x, axis_title, rcv_label))
    return alt.layer(*layers).properties(title=title.params(*notes), width=width, height=HEIGHT)


def _bar_order(frame: pd.DataFrame, sort: bool) -> list[str]:
    """The patients in the order of the bars (file order, or largest first), with each
    patient's position written into ``frame["rank"]``."""
    order = (
        frame.sort_values("y", ascending=False, kind="stable")["patient"].tolist()
        if sort
        else frame["patient"].tolist()
    )
    frame["rank"] = frame["patient"].map({patient: i + 1 for i, patient in enumerate(order)})
    return order


def _bar_domain(frame: pd.DataFrame, band: float | None) -> tuple[list[float], pd.DataFrame]:
    """The y range of the bars (with the band and the RCV markers) and the marker rows.

    A little headroom, so the longest bar does not touch the frame as if cut off.
    """
    extent = [float(frame["y"].min()), float(frame["y"].max()), 0.0]
    if band is not None:
        extent += [-float(band), float(band)]
    offset = 0.07 * max(max(extent) - min(extent), 1e-9)
    rcv_rows = _beyond_rows(frame, offset)
    if not rcv_rows.empty:
        extent += rcv_rows["marker"].tolist()
    return padded(min(extent), max(extent), 0.04), rcv_rows


def _beyond_rows(frame: pd.DataFrame, offset: float) -> pd.DataFrame:
    """The patients beyond the reference change value, with their marker's height just
    past the end of the bar (above a bar that goes up, below one that goes down)."""
    if "beyond" not in frame.columns:
        return frame.iloc[0:0]
    rows = frame[frame["beyond"].isin(["rise", "fall"])].copy()
    rows["marker"] = rows["y"] + np.where(rows["y"] >= 0, offset, -offset)
    return rows


def _beyond_layer(rows: pd.DataFrame, x: Any, axis_title: str, label: str) -> alt.Chart:
    """A black diamond at each patient beyond the RCV, with one legend entry."""
    legend = alt.Legend(title=None, orient="bottom", labelLimit=0)
    return (
        alt.Chart(inline_data(rows.assign(rcv_legend=label)))
        .mark_point(filled=True, color="black", size=45)
        .encode(
            x=x,
            y=alt.Y("marker:Q", title=axis_title),
            shape=alt.Shape(
                "rcv_legend:N", scale=alt.Scale(domain=[label], range=["diamond"]), legend=legend
            ),
            tooltip=[
                alt.Tooltip("patient:N", title="Patient"),
                alt.Tooltip("beyond:N", title="Beyond the RCV"),
            ],
        )
    )


def _band_note(band: float, unit: str) -> str:
    """The subtitle line explaining the grey band; refuses a band that is not positive."""
    if not band > 0:
        raise AnalysisError("The band of a meaningful change must be a positive number.")
    return (
        f"Grey band: changes within ± {band:g}{' ' + unit if unit else ''}, smaller than "
        "a clinically meaningful change."
    )


def _patient_axis(order: list[str], sort: bool) -> tuple[int, alt.Axis]:
    """The chart width and the patient axis: IDs shown (turned upright when crowded), or
    hidden above :data:`HIDE_LABELS_ABOVE` patients."""
    n = len(order)
    if n > HIDE_LABELS_ABOVE:
        hidden = f"Patients (n = {n:,}; IDs hidden"
        x_title = hidden + (", sorted by change)" if sort else ")")
        return 800, alt.Axis(labels=False, ticks=False, title=x_title)
    longest = max(len(patient) for patient in order)
    width = max(WIDTH, min(14 * n, 1800))
    angle = 0 if n * (7 * longest + 6) <= width else -90
    x_title = "Patient, sorted by change (waterfall)" if sort else "Patient"
    return width, alt.Axis(labelAngle=angle, title=x_title, labelOverlap=False)


def _bar_tooltip(frame: pd.DataFrame, axis_title: str, legend_title: str) -> list[alt.Tooltip]:
    tooltip = [alt.Tooltip("patient:N", title="Patient")]
    for column, label in (("baseline", "Baseline"), ("follow_up", "Follow-up")):
        if column in frame.columns:
            tooltip.append(alt.Tooltip(f"{column}:Q", title=label, format=".2f"))
    tooltip.append(alt.Tooltip("y:Q", title=axis_title, format=".2f"))
    if "group" in frame.columns:
        tooltip.append(alt.Tooltip("group:N", title=legend_title))
    if len(censored_rows(frame)):
        tooltip.append(alt.Tooltip("censored:N", title="Censored (as in the file)"))
    return tooltip


def _group_colour(
    frame: pd.DataFrame, legend_title: str, channel: Any = alt.Color, **legend: Any
) -> Any:
    """Colour (or outline, ``channel=alt.Stroke``) by the ``group`` column when there is
    one, else every bar in blue."""
    if "group" not in frame.columns:
        return alt.value(OKABE_ITO[0])
    return channel(
        "group:N", title=legend_title, scale=group_scale(frame["group"].tolist()), **legend
    )


def _change_histogram(
    frame: pd.DataFrame,
    title: ChartTitle,
    axis_title: str,
    legend_title: str,
    band: float | None,
    notes: list[str],
) -> alt.LayerChart:
    """Patients counted by size of change, stacked by group in legend order."""
    binned = _histogram_counts(frame)
    n = len(frame)
    notes = [
        f"{n:,} patients are too many for one bar each: this histogram shows how many "
        "patients had each size of change.",
        *notes,
    ]
    bars = (
        alt.Chart(inline_data(binned))
        .mark_bar(stroke="white", strokeWidth=0.5)
        .encode(
            x=alt.X("bin_start:Q", title=axis_title),
            x2="bin_end:Q",
            y=alt.Y("top:Q", title="Patients"),
            y2="bottom:Q",
            color=_group_colour(frame, legend_title),
            tooltip=[
                alt.Tooltip("bin_start:Q", title="From", format=".2f"),
                alt.Tooltip("bin_end:Q", title="To", format=".2f"),
                alt.Tooltip("count:Q", title="Patients"),
                *([alt.Tooltip("group:N", title=legend_title)] if "group" in frame else []),
            ],
        )
    )
    layers = [*band_layer(band, "x"), bars, zero_rule("x")]
    return alt.layer(*layers).properties(title=title.params(*notes), width=WIDTH, height=HEIGHT)


def _histogram_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per non-empty (bin, group): its edges, count and stacked bottom and top."""
    values = frame["y"].to_numpy(dtype=float)
    edges = np.histogram_bin_edges(values, bins="auto")
    if len(edges) - 1 > 60:
        edges = np.histogram_bin_edges(values, bins=60)
    groups = frame["group"] if "group" in frame.columns else pd.Series(["All"] * len(frame))
    rows = []
    stacked = np.zeros(len(edges) - 1, dtype=int)  # groups stacked in legend order
    for label in group_scale(list(groups)).domain if "group" in frame else ["All"]:
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
    return pd.DataFrame(rows)
