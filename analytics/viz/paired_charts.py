"""Charts of the paired values: before/after lines, estimation, mean-difference and Q–Q plots.

Each takes ``patient``, ``baseline`` and ``follow_up`` (or, for the Q–Q plot, the
changes); only complete pairs are drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
from scipy import stats

from analytics.errors import AnalysisError
from analytics.viz.censored import censored_overlay, pair_marks
from analytics.viz.style import (
    GREY,
    HEIGHT,
    OKABE_ITO,
    WIDTH,
    ChartTitle,
    change_axis_title,
    display_number,
    inline_data,
    padded,
    patient_frame,
    with_unit,
    zero_rule,
)

__all__ = ["before_after", "estimation_plot", "mean_difference", "qq_chart"]

_DIRECTION_COLOURS = {"Fell": OKABE_ITO[1], "Rose": OKABE_ITO[0], "No change": GREY}
_HOLLOW = "Hollow: beyond a detection limit"


# --------------------------------------------------------------------------------------
# Before / after slope plot
# --------------------------------------------------------------------------------------


def _pairs_frame(data: pd.DataFrame, what: str) -> pd.DataFrame:
    frame = patient_frame(data, ("baseline", "follow_up"), what)
    for column in ("baseline_censored", "follow_up_censored"):
        marks = data[column] if column in data.columns else pd.Series([""] * len(data))
        frame[column] = marks.fillna("").astype(str).to_numpy()
    frame = frame.dropna(subset=["baseline", "follow_up"]).reset_index(drop=True)
    if frame.empty:
        raise AnalysisError("No patient has both a baseline and a follow-up value to chart.")
    frame["change"] = frame["follow_up"] - frame["baseline"]
    frame["censored"] = pair_marks(frame).to_numpy()
    return frame


def _direction(change: float) -> str:
    if change > 0:
        return "Rose"
    if change < 0:
        return "Fell"
    return "No change"


def _slope_frame(pairs: pd.DataFrame, baseline_label: str, follow_up_label: str) -> pd.DataFrame:
    """Two rows per patient (baseline, follow-up) with the change's direction."""
    long = pd.DataFrame(
        {
            "patient": np.repeat(pairs["patient"].to_numpy(), 2),
            "x": [baseline_label, follow_up_label] * len(pairs),
            "y": np.column_stack([pairs["baseline"], pairs["follow_up"]]).ravel(),
            "change": np.repeat(pairs["change"].to_numpy(), 2),
            "censored": np.column_stack(
                [pairs["baseline_censored"], pairs["follow_up_censored"]]
            ).ravel(),
        }
    )
    long["direction"] = long["change"].map(_direction)
    return long


def _slope_layers(
    pairs: pd.DataFrame,
    baseline_label: str,
    follow_up_label: str,
    value_title: str,
    domain: list[float],
    unit: str,
    legend_orient: str = "right",
    censored_label: str = "",
) -> list[alt.Chart]:
    """Lines from baseline to follow-up, one per patient, coloured by direction; a
    censored value (``<5``) is a hollow ring labelled with the file's mark."""
    long = _slope_frame(pairs, baseline_label, follow_up_label)
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
    base = alt.Chart(inline_data(long))
    lines = base.mark_line(strokeWidth=1.5, opacity=opacity).encode(
        x=x, y=y, detail="patient:N", color=colour, tooltip=tooltip
    )
    points = base.mark_circle(size=40, opacity=min(1.0, opacity + 0.1)).encode(
        x=x, y=y, color=colour, tooltip=tooltip
    )
    rings = censored_overlay(
        long,
        x,
        y,
        censored_label or _HOLLOW,
        text=n <= 50,
        dy=0,
        dx=9,
        tooltip=tooltip[:3],
    )
    return [lines, points, *rings]


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
    censored_label: str = "",
) -> alt.LayerChart:
    """Slope plot: a line per patient from the baseline value to the follow-up value.

    Parameters
    ----------
    data : pandas.DataFrame
        ``patient``, ``baseline``, ``follow_up``; rows missing either value are left out.
        Optionally ``baseline_censored`` and ``follow_up_censored``: the file's mark of
        a censored value (``<5``), drawn as a hollow ring with the mark beside it.
    title, unit
        As for :func:`analytics.viz.change_charts.change_bars`.
    threshold : float or sequence of (value, label), optional
        A clinical threshold (e.g. microcytosis MCV < 80 fL, anemia Hgb < 12 g/dL) drawn
        as a dashed rule labelled ``threshold_label``; the region below a single
        threshold is shaded. Several (value, label) pairs draw several rules (e.g.
        different cut-offs for women and men).
    baseline_label, follow_up_label : str
        Names of the two times on the x axis (e.g. "month 0", "month 2").
    value_title : str, optional
        Y-axis title; default "Value (unit)".
    censored_label : str
        Legend entry of the hollow rings, naming the rule for censored values.

    Returns
    -------
    altair.LayerChart
        Lines and points coloured by direction (rose / fell), plus the thresholds.
    """
    pairs = _pairs_frame(data, "before/after")
    rules = _thresholds(threshold, threshold_label)
    value_title = value_title or with_unit("Value", unit)
    values = np.concatenate([pairs["baseline"].to_numpy(), pairs["follow_up"].to_numpy()])
    low = min([float(values.min()), *(value for value, _ in rules)])
    high = max([float(values.max()), *(value for value, _ in rules)])
    domain = padded(low, high)
    width = 360
    layers: list[alt.Chart] = []
    if len(rules) == 1:
        shade = pd.DataFrame({"top": [rules[0][0]]})
        layers.append(
            alt.Chart(inline_data(shade))
            .mark_rect(color="#888888", opacity=0.12)
            .encode(y=alt.Y("top:Q", scale=alt.Scale(domain=domain)), y2=alt.value("height"))
        )
    layers += _slope_layers(
        pairs,
        baseline_label,
        follow_up_label,
        value_title,
        domain,
        unit,
        censored_label=censored_label,
    )
    if rules:
        marks = pd.DataFrame({"threshold": [v for v, _ in rules], "label": [t for _, t in rules]})
        layers.append(
            alt.Chart(inline_data(marks))
            .mark_rule(color="#444444", strokeDash=[6, 4], strokeWidth=1.5)
            .encode(y="threshold:Q")
        )
        layers.append(
            alt.Chart(inline_data(marks))
            .mark_text(align="left", dx=6, color="#333333", fontSize=11)
            .encode(y="threshold:Q", x=alt.value("width"), text="label:N")
        )
    return alt.layer(*layers).properties(title=title.params(), width=width, height=HEIGHT)


# --------------------------------------------------------------------------------------
# Estimation plot (Gardner–Altman)
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
    censored_label: str = "",
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
        As for :func:`analytics.viz.change_charts.change_bars`.

    Notes
    -----
    The right panel's axis is the change, on the same scale as the left panel and
    shifted so that zero change lies level with the baseline mean: the mean change
    then sits level with the follow-up mean. Change is never flipped here.
    """
    pairs = _pairs_frame(data, "estimation")
    value_title = value_title or with_unit("Value", unit)
    # the means of every pair (the drawn lines may be a sample of them in a large cohort)
    baseline_mean = float(getattr(result, "baseline_mean", pairs["baseline"].mean()))
    follow_up_mean = float(getattr(result, "follow_up_mean", pairs["follow_up"].mean()))
    values = np.concatenate([pairs["baseline"].to_numpy(), pairs["follow_up"].to_numpy()])
    # the right panel shares this scale shifted by the baseline mean: room for every change
    changes = baseline_mean + pairs["change"].to_numpy()
    low = min(float(values.min()), float(changes.min()), baseline_mean + float(result.ci_low))
    high = max(float(values.max()), float(changes.max()), baseline_mean + float(result.ci_high))
    low, high = min(low, baseline_mean), max(high, baseline_mean)
    domain = padded(low, high)
    change_domain = [domain[0] - baseline_mean, domain[1] - baseline_mean]

    left_layers = _slope_layers(
        pairs,
        baseline_label,
        follow_up_label,
        value_title,
        domain,
        unit,
        legend_orient="top",
        censored_label=censored_label,
    )
    means = pd.DataFrame(
        {"x": [baseline_label, follow_up_label], "mean": [baseline_mean, follow_up_mean]}
    )
    left_layers.append(_dashed_level(means, "mean", domain))
    left = alt.layer(*left_layers).properties(width=300, height=HEIGHT)
    right = _mean_change_panel(pairs, result, unit, change_domain, censored_label)
    return (
        alt.hconcat(left, right, spacing=10)
        .resolve_scale(y="independent", color="independent")
        .properties(title=title.params())
    )


def _dashed_level(frame: pd.DataFrame, field: str, domain: list[float]) -> alt.Chart:
    """A dashed horizontal rule at each value of ``field``, on a y scale of ``domain``."""
    return (
        alt.Chart(inline_data(frame))
        .mark_rule(color="#555555", strokeDash=[4, 3])
        .encode(y=alt.Y(f"{field}:Q", scale=alt.Scale(domain=domain)))
    )


_MEAN_CHANGE = "Mean change"


def _mean_change_summary(result: Any, unit: str, level: str) -> pd.DataFrame:
    """One row: the mean change, its CI and a two-line label saying both."""
    mean_change = float(result.mean_change)
    ci_low, ci_high = float(result.ci_low), float(result.ci_high)
    return pd.DataFrame(
        {
            "x": [_MEAN_CHANGE],
            "mean_change": [mean_change],
            "ci_low": [ci_low],
            "ci_high": [ci_high],
            "label": [
                f"Mean {display_number(mean_change)}{' ' + unit if unit else ''}\n"
                f"{level} CI {display_number(ci_low)} to {display_number(ci_high)}"
            ],
        }
    )


def _mean_change_panel(
    pairs: pd.DataFrame, result: Any, unit: str, change_domain: list[float], censored_label: str
) -> alt.LayerChart:
    """The estimation plot's right panel: each change (grey; hollow when a value was
    censored), the mean change and its CI."""
    level = f"{float(result.confidence) * 100:g} %"
    change_title = with_unit(f"Mean change, follow-up − baseline, {level} CI", unit)
    y_change = alt.Y(
        "change:Q",
        title=change_title,
        scale=alt.Scale(domain=change_domain, nice=False, zero=False),
        axis=alt.Axis(orient="right", grid=False),
    )
    x_change = alt.X("x:N", title=None, axis=alt.Axis(labelAngle=0, labelFontSize=12))
    individual = pd.DataFrame(
        {"x": _MEAN_CHANGE, "change": pairs["change"], "censored": pairs["censored"]}
    )
    dots = (
        alt.Chart(inline_data(individual))
        .mark_circle(size=30, color=GREY, opacity=0.6)
        .encode(x=x_change, y=y_change, tooltip=[alt.Tooltip("change:Q", format=".2f")])
    )
    rings = censored_overlay(
        individual, x_change, y_change, censored_label or _HOLLOW, text=False, size=40
    )
    summary_chart = alt.Chart(inline_data(_mean_change_summary(result, unit, level)))
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
    zero = _dashed_level(pd.DataFrame({"zero": [0.0]}), "zero", change_domain)
    return alt.layer(zero, dots, *rings, interval, point, label).properties(
        width=190, height=HEIGHT
    )


# --------------------------------------------------------------------------------------
# Mean-difference plot (Tukey / Bland–Altman)
# --------------------------------------------------------------------------------------


def mean_difference(
    data: pd.DataFrame,
    title: ChartTitle,
    unit: str,
    *,
    flip: bool = False,
    value_title: str | None = None,
    censored_label: str = "",
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
    censored_label : str
        Legend entry of the hollow rings on patients with a censored value (marked as
        in :func:`before_after`).

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
            "censored": pairs["censored"],
        }
    )
    mean = float(frame["y"].mean())
    sd = float(frame["y"].std(ddof=1))
    axis_title = change_axis_title(unit, flip)
    x_title = "Mean of baseline and follow-up" + (f", {value_title}" if value_title else "")
    x_title = with_unit(x_title, unit) if not value_title else x_title
    y_domain = padded(
        min(float(frame["y"].min()), mean - 1.96 * sd, 0.0),
        max(float(frame["y"].max()), mean + 1.96 * sd, 0.0),
        0.08,
    )
    points = _difference_points(frame, x_title, axis_title, y_domain)
    rings = censored_overlay(
        frame, "x:Q", "y:Q", censored_label or _HOLLOW, text=len(frame) <= 50, dy=-12
    )
    rules, labels = _limit_layers(mean, sd, unit)
    zero = zero_rule("y").mark_rule(color="#BBBBBB", strokeWidth=1)
    return alt.layer(zero, rules, points, *rings, labels).properties(
        title=title.params(), width=WIDTH, height=HEIGHT
    )


def _difference_points(
    frame: pd.DataFrame, x_title: str, axis_title: str, y_domain: list[float]
) -> alt.Chart:
    """A point per patient: the change (y) against the mean of the two values (x)."""
    x_domain = padded(float(frame["x"].min()), float(frame["x"].max()))
    return (
        alt.Chart(inline_data(frame))
        .mark_circle(size=60, color=OKABE_ITO[0], opacity=0.85)
        .encode(
            x=alt.X("x:Q", title=x_title, scale=alt.Scale(domain=x_domain, nice=True)),
            y=alt.Y("y:Q", title=axis_title, scale=alt.Scale(domain=y_domain, nice=False)),
            tooltip=[
                alt.Tooltip("patient:N", title="Patient"),
                alt.Tooltip("x:Q", title="Mean of the two values", format=".2f"),
                alt.Tooltip("y:Q", title=axis_title, format=".2f"),
            ],
        )
    )


def _limit_layers(mean: float, sd: float, unit: str) -> tuple[alt.Chart, alt.Chart]:
    """The mean change and mean ± 1.96 SD as rules, and their labels at the right."""
    u = f" {unit}" if unit else ""
    limits = pd.DataFrame(
        {
            "y": [mean + 1.96 * sd, mean, mean - 1.96 * sd],
            "label": [
                f"+1.96 SD: {display_number(mean + 1.96 * sd)}{u}",
                f"Mean: {display_number(mean)}{u}",
                f"−1.96 SD: {display_number(mean - 1.96 * sd)}{u}",
            ],
            "kind": ["limit", "mean", "limit"],
        }
    )
    kinds = ["mean", "limit"]
    rule_data = alt.Chart(inline_data(limits))
    rules = rule_data.mark_rule(strokeWidth=1.5).encode(
        y="y:Q",
        color=alt.Color(
            "kind:N", scale=alt.Scale(domain=kinds, range=[OKABE_ITO[1], "#666666"]), legend=None
        ),
        strokeDash=alt.StrokeDash(
            "kind:N", scale=alt.Scale(domain=kinds, range=[[1, 0], [6, 4]]), legend=None
        ),
    )
    labels = rule_data.mark_text(align="left", dx=6, fontSize=11, color="#333333").encode(
        y="y:Q", x=alt.value("width"), text="label:N"
    )
    return rules, labels


# --------------------------------------------------------------------------------------
# Normal Q–Q plot of the changes
# --------------------------------------------------------------------------------------


def qq_chart(
    changes: Sequence[float] | np.ndarray,
    title: ChartTitle,
    unit: str,
    *,
    censored: Sequence[str] | None = None,
    censored_label: str = "",
) -> alt.LayerChart:
    """Normal Q–Q plot of the changes with the line mean + SD × z.

    ``censored`` (one per change, in the same order: the file's marks, e.g. ``from <5``,
    or "") draws the changes that involve a censored value as hollow rings.

    Notes
    -----
    Theoretical quantiles use Blom's plotting positions (i − 0.375) / (n + 0.25),
    as R's ``qqnorm`` does for n > 10 and SPSS does throughout. Points close to the
    line are consistent with normally distributed changes; at n = 5 to 10 a Q–Q
    plot (like Shapiro–Wilk) can show only gross departures.
    """
    raw = np.asarray(changes, dtype=float)
    order = np.argsort(raw, kind="stable")
    values = raw[order]
    n = len(values)
    positions = (np.arange(1, n + 1) - 0.375) / (n + 0.25)
    theoretical = stats.norm.ppf(positions)
    marks = np.asarray(list(censored) if censored is not None else [""] * n, dtype=object)
    data = pd.DataFrame({"z": theoretical, "change": values, "censored": marks[order]})
    mean, sd = float(values.mean()), float(values.std(ddof=1)) if n > 1 else 0.0
    ends = np.array([theoretical.min() - 0.3, theoretical.max() + 0.3]) if n else np.array([])
    line = pd.DataFrame({"z": ends, "change": mean + sd * ends})
    y_title = f"Observed change ({unit})" if unit else "Observed change"
    points = (
        alt.Chart(inline_data(data))
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
        alt.Chart(inline_data(line))
        .mark_line(color="#777777", strokeDash=[4, 4])
        .encode(x="z:Q", y="change:Q")
    )
    rings = censored_overlay(data, "z:Q", "change:Q", censored_label or _HOLLOW, text=n <= 50)
    return alt.layer(reference, points, *rings).properties(
        title=title.params(), width=WIDTH, height=HEIGHT
    )
