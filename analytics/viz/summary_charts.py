"""Charts of results rather than of patients' values: the subgroups' forest plot and the
power curve."""

from __future__ import annotations

import math

import altair as alt
import numpy as np
import pandas as pd

from analytics.errors import AnalysisError
from analytics.viz.style import (
    HEIGHT,
    OKABE_ITO,
    WIDTH,
    ChartTitle,
    as_float,
    display_number,
    inline_data,
    padded,
    require_columns,
    with_unit,
    zero_rule,
)

__all__ = ["forest", "power_curve_chart"]


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
    require_columns(groups_frame, ("group", "n", "mean_change", "ci_low", "ci_high"), "forest")
    if groups_frame.empty:
        raise AnalysisError("There is no subgroup to show.")
    frame = _forest_frame(groups_frame, flip)
    labels = frame["label"].tolist()
    finite = np.concatenate([frame[c].dropna().to_numpy() for c in ("mean_change", "ci_low")])
    finite = np.concatenate([finite, frame["ci_high"].dropna().to_numpy(), [0.0]])
    x_domain = padded(float(finite.min()), float(finite.max()), 0.08)
    level = f"{confidence * 100:g} %"
    if flip:
        x_title = with_unit(f"Mean baseline − follow-up, {level} CI", unit)
        x_title += " — flipped: a fall is positive"
    else:
        x_title = with_unit(f"Mean change, follow-up − baseline, {level} CI", unit)
    x = alt.X("mean_change:Q", title=x_title, scale=alt.Scale(domain=x_domain, nice=False))
    y = alt.Y("label:N", sort=labels, title=None, axis=alt.Axis(labelFontSize=12))
    height = max(180, 56 * len(frame))
    base = alt.Chart(inline_data(frame))
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
    header = _estimate_header(f"Mean ({level} CI)" + (f", {unit}" if unit else ""))
    zero = zero_rule("x").mark_rule(color="#333333", strokeDash=[4, 3])
    return alt.layer(zero, intervals, points, text, header).properties(
        title=title.params(), width=WIDTH, height=height
    )


def _forest_frame(groups_frame: pd.DataFrame, flip: bool) -> pd.DataFrame:
    """One row per subgroup: its label with n, the plotted mean and CI, and the estimate
    in words (the CI limits swap when flipped)."""
    sign = -1.0 if flip else 1.0
    mean = as_float(groups_frame["mean_change"]) * sign
    low = as_float(groups_frame["ci_low"]) * sign
    high = as_float(groups_frame["ci_high"]) * sign
    if flip:
        low, high = high, low
    labels = [
        f"{group} (n = {int(n)})"
        for group, n in zip(groups_frame["group"], groups_frame["n"], strict=True)
    ]
    estimates = []
    for m, lo, hi in zip(mean, low, high, strict=True):
        if math.isnan(lo) or math.isnan(hi):
            estimates.append(f"{display_number(m)} (no CI: one patient)")
        else:
            estimates.append(f"{display_number(m)} ({display_number(lo)} to {display_number(hi)})")
    return pd.DataFrame(
        {
            "label": labels,
            "mean_change": mean.to_numpy(),
            "ci_low": low.to_numpy(),
            "ci_high": high.to_numpy(),
            "estimate": estimates,
        }
    )


def _estimate_header(text: str) -> alt.Chart:
    """The bold heading above the column of estimates at the right."""
    return (
        alt.Chart(inline_data(pd.DataFrame({"header": [text]})))
        .mark_text(align="left", dx=8, fontSize=11, fontWeight="bold", color="#333333")
        .encode(x=alt.value("width"), y=alt.value(-8), text="header:N")
    )


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
        alt.Chart(inline_data(data))
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
        alt.Chart(inline_data(targets))
        .mark_rule(color="#999999", strokeDash=[3, 3])
        .encode(y="power:Q")
    )
    rule_labels = (
        alt.Chart(inline_data(targets))
        .mark_text(align="right", dx=-4, dy=-5, color="#777777", fontSize=10)
        .encode(y="power:Q", x=alt.value("width"), text="label:N")
    )
    layers: list[alt.Chart] = [rules, rule_labels, line]
    if current is not None:
        marker = pd.DataFrame({"x": [float(current)], "label": [current_label]})
        layers.append(
            alt.Chart(inline_data(marker))
            .mark_rule(color=OKABE_ITO[1], strokeWidth=2)
            .encode(x="x:Q")
        )
        layers.append(
            alt.Chart(inline_data(marker))
            .mark_text(align="left", dx=4, dy=-12, color=OKABE_ITO[1], fontSize=11)
            .encode(x="x:Q", y=alt.value("height"), text="label:N")
        )
    return alt.layer(*layers).properties(title=title.params(), width=WIDTH, height=HEIGHT)
