"""Altair chart specifications (no rendering here; pages and exports render them).

Every chart is built from in-memory data with safe internal field names (``x``,
``y``, ``patient``, ...): a lab called ``Na+ [mmol/L]`` appears only in titles and
axis labels, never as a Vega-Lite field name (``.``, ``[``, ``]`` and ``:`` in a
field name draw nothing). Every chart carries a title naming the lab, times, unit
and n, and the plain-words filter sentence as subtitle.
"""

from __future__ import annotations

from dataclasses import dataclass

import altair as alt
import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["OKABE_ITO", "ChartTitle", "power_curve_chart", "qq_chart"]

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


@dataclass(frozen=True)
class ChartTitle:
    """What a chart is about: its title line and the filter sentence beneath."""

    text: str
    subtitle: str = ""

    def params(self) -> alt.TitleParams:
        subtitle = [self.subtitle] if self.subtitle else []
        return alt.TitleParams(
            text=self.text, subtitle=subtitle, anchor="start", fontSize=14, subtitleFontSize=11
        )


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
        alt.Chart(data)
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
        alt.Chart(line).mark_line(color="#777777", strokeDash=[4, 4]).encode(x="z:Q", y="change:Q")
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
        alt.Chart(data)
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
    rules = alt.Chart(targets).mark_rule(color="#999999", strokeDash=[3, 3]).encode(y="power:Q")
    rule_labels = (
        alt.Chart(targets)
        .mark_text(align="right", dy=-5, color="#777777", fontSize=10)
        .encode(y="power:Q", x=alt.value(WIDTH - 4), text="label:N")
    )
    layers: list[alt.Chart] = [rules, rule_labels, line]
    if current is not None:
        marker = pd.DataFrame({"x": [float(current)], "label": [current_label]})
        layers.append(
            alt.Chart(marker).mark_rule(color=OKABE_ITO[1], strokeWidth=2).encode(x="x:Q")
        )
        layers.append(
            alt.Chart(marker)
            .mark_text(align="left", dx=4, color=OKABE_ITO[1], fontSize=11)
            .encode(x="x:Q", y=alt.value(HEIGHT - 12), text="label:N")
        )
    return alt.layer(*layers).properties(title=title.params(), width=WIDTH, height=HEIGHT)
