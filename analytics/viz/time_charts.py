"""Charts over every time point: each patient's course with the mean and CI, or one
coloured line per patient."""

from __future__ import annotations

import altair as alt
import pandas as pd

from analytics.errors import AnalysisError
from analytics.viz.censored import CENSORED, censored_overlay
from analytics.viz.style import (
    HEIGHT,
    LIGHT_GREY,
    OKABE_ITO,
    WIDTH,
    ChartTitle,
    inline_data,
    patient_frame,
    require_columns,
    time_axis,
    with_unit,
)

__all__ = ["MONTHS_TITLE", "patient_lines", "trajectories"]


def _long_frame(long_data: pd.DataFrame, what: str) -> pd.DataFrame:
    frame = patient_frame(long_data, ("time", "value"), what)
    marks = long_data[CENSORED] if CENSORED in long_data.columns else pd.Series([""] * len(frame))
    frame[CENSORED] = marks.fillna("").astype(str).to_numpy()
    frame = frame.dropna(subset=["time", "value"])
    frame = frame.sort_values(["patient", "time"], kind="stable").reset_index(drop=True)
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
    censored_label: str = "",
) -> alt.LayerChart:
    """Each patient's values over time (grey) with the mean and its CI at each time.

    Parameters
    ----------
    long_data : pandas.DataFrame
        One row per value: ``patient``, ``time`` (months), ``value``; optionally
        ``censored``, the file's mark of a censored value (``<5``, else ""), drawn as a
        hollow ring.
    summary : pandas.DataFrame
        One row per time point: ``time``, ``mean``, ``ci_low``, ``ci_high`` (and
        optionally ``n``, printed under each time's tick as "n = 25"); CI limits may be
        missing (a time with one value).
    title, unit
        As for :func:`analytics.viz.change_charts.change_bars`.
    value_title : str, optional
        Y-axis title; default "Value (unit)".
    confidence : float
        Level of the intervals, for the legend.
    censored_label : str
        Legend entry of the hollow rings, naming the rule for censored values.

    Returns
    -------
    altair.LayerChart
    """
    frame = _long_frame(long_data, "trajectory")
    require_columns(summary, ("time", "mean", "ci_low", "ci_high"), "trajectory summary")
    columns = ["time", "mean", "ci_low", "ci_high"] + (["n"] if "n" in summary.columns else [])
    means = summary[columns].copy()
    value_title = value_title or with_unit("Value", unit)
    each = "Each patient"
    mean_label = f"Mean ± {confidence * 100:g} % CI"
    frame["series"] = each
    means["series"] = mean_label
    colour = alt.Color(
        "series:N",
        title=None,
        scale=alt.Scale(domain=[each, mean_label], range=[LIGHT_GREY, OKABE_ITO[0]]),
        legend=alt.Legend(orient="top"),
    )
    counts = (
        {float(t): int(k) for t, k in zip(means["time"], means["n"], strict=True)}
        if "n" in means.columns
        else None
    )
    x = alt.X("time:Q", axis=time_axis(frame["time"].unique(), time_title, counts))
    y = alt.Y("value:Q", title=value_title, scale=alt.Scale(zero=False))
    n = frame["patient"].nunique()
    opacity = 0.9 if n <= 50 else max(0.1, 45.0 / n)
    patients = alt.Chart(inline_data(frame))
    lines = patients.mark_line(strokeWidth=1.2, opacity=opacity).encode(
        x=x,
        y=y,
        detail="patient:N",
        color=colour,
        tooltip=_value_tooltip(value_title),
    )
    dots = patients.mark_circle(size=18, opacity=opacity).encode(x=x, y=y, color=colour)
    rings = censored_overlay(
        frame,
        x,
        y,
        censored_label or "Hollow: beyond a detection limit",
        text=n <= 50,
        dy=0,
        dx=8,
        size=50,
        tooltip=_value_tooltip(value_title)[:2],
    )
    layers = [lines, dots, *rings, *_mean_layers(means, colour)]
    return alt.layer(*layers).properties(title=title.params(), width=WIDTH, height=HEIGHT)


def _value_tooltip(value_title: str) -> list[alt.Tooltip]:
    return [
        alt.Tooltip("patient:N", title="Patient"),
        alt.Tooltip("time:Q", title="Month"),
        alt.Tooltip("value:Q", title=value_title, format=".2f"),
    ]


def _mean_layers(means: pd.DataFrame, colour: alt.Color) -> list[alt.Chart]:
    """The CI at each time as a rule, then the line and points of the means."""
    summary_tooltip = [
        alt.Tooltip("time:Q", title="Month"),
        alt.Tooltip("mean:Q", title="Mean", format=".2f"),
        alt.Tooltip("ci_low:Q", title="CI low", format=".2f"),
        alt.Tooltip("ci_high:Q", title="CI high", format=".2f"),
    ] + ([alt.Tooltip("n:Q", title="n")] if "n" in means.columns else [])
    mean_data = alt.Chart(inline_data(means))
    mean_line = mean_data.mark_line(strokeWidth=3).encode(
        x="time:Q", y=alt.Y("mean:Q"), color=colour, tooltip=summary_tooltip
    )
    mean_points = mean_data.mark_point(filled=True, size=70).encode(
        x="time:Q", y="mean:Q", color=colour, tooltip=summary_tooltip
    )
    bars = mean_data.mark_rule(strokeWidth=2.5).encode(
        x="time:Q", y="ci_low:Q", y2="ci_high:Q", color=colour
    )
    return [bars, mean_line, mean_points]


def patient_lines(
    long_data: pd.DataFrame,
    title: ChartTitle,
    unit: str,
    *,
    value_title: str | None = None,
    time_title: str = MONTHS_TITLE,
    censored_label: str = "",
) -> alt.LayerChart:
    """One coloured line per patient over every time point (thesis Figure 6).

    Parameters
    ----------
    long_data : pandas.DataFrame
        ``patient``, ``time`` (months), ``value``, optionally ``censored``.
    title, unit, value_title, censored_label
        As for :func:`trajectories`.

    Notes
    -----
    Colours follow the Okabe–Ito palette in patient order; beyond eight patients they
    repeat, so use :func:`trajectories` for larger groups.
    """
    frame = _long_frame(long_data, "patient lines")
    value_title = value_title or with_unit("Value", unit)
    patients = list(dict.fromkeys(frame["patient"]))
    colours = [OKABE_ITO[i % len(OKABE_ITO)] for i in range(len(patients))]
    colour = alt.Color(
        "patient:N", title="Patient", scale=alt.Scale(domain=patients, range=colours)
    )
    x = alt.X("time:Q", axis=time_axis(frame["time"].unique(), time_title))
    y = alt.Y("value:Q", title=value_title, scale=alt.Scale(zero=False))
    tooltip = _value_tooltip(value_title)
    base = alt.Chart(inline_data(frame))
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
    rings = censored_overlay(
        frame,
        x,
        y,
        censored_label or "Hollow: beyond a detection limit",
        dy=0,
        dx=9,
        tooltip=tooltip[:2],
    )
    return (
        alt.layer(lines, points, *rings)
        .resolve_scale(color="independent", shape="independent")
        .properties(title=title.params(), width=WIDTH, height=HEIGHT)
    )
