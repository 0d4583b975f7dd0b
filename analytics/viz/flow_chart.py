"""Patient flow of one lab comparison: a bar per step, from the file to the pairs analysed.

Left, the patients still in at each step (the bar and its count); right, in the same
row, how many left at that step and why. Built from a
:class:`~analytics.flow.PatientFlow`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import altair as alt
import pandas as pd

from analytics.viz.style import GREY, OKABE_ITO, ChartTitle, inline_data

if TYPE_CHECKING:
    from analytics.flow import PatientFlow

__all__ = ["flow_chart"]

#: Height of one step's row, in pixels.
ROW_HEIGHT = 30


def flow_chart(flow: PatientFlow, title: ChartTitle) -> alt.HConcatChart:
    """Bars of the patients at each step, with the ones left out beside them."""
    frame = pd.DataFrame(
        {
            "step": [step.label for step in flow.steps],
            "n": [step.n for step in flow.steps],
            "left_out": [f"− {step.left_out}" if step.left_out else "" for step in flow.steps],
            "last": [i == len(flow.steps) - 1 for i in range(len(flow.steps))],
        }
    )
    order = frame["step"].tolist()
    height = ROW_HEIGHT * len(frame)
    y = alt.Y("step:N", sort=order, title=None, axis=alt.Axis(labelLimit=260, ticks=False))
    top = max(int(frame["n"].max()), 1)
    base = alt.Chart(inline_data(frame)).encode(y=y)
    bars = base.mark_bar(height=ROW_HEIGHT * 0.62).encode(
        x=alt.X(
            "n:Q",
            title="Patients",
            scale=alt.Scale(domain=[0, top * 1.15], nice=False),
            axis=alt.Axis(tickMinStep=1, format="d"),
        ),
        color=alt.condition("datum.last", alt.value(OKABE_ITO[0]), alt.value(GREY)),
        tooltip=[
            alt.Tooltip("step:N", title="Step"),
            alt.Tooltip("n:Q", title="Patients"),
            alt.Tooltip("left_out:N", title="Left out here"),
        ],
    )
    counts = base.mark_text(align="left", dx=4, fontSize=12).encode(
        x=alt.X("n:Q"), text=alt.Text("n:Q", format="d")
    )
    left = alt.layer(bars, counts).properties(width=220, height=height)
    notes = (
        alt.Chart(inline_data(frame))
        .mark_text(align="left", fontSize=11, color="#555555")
        .encode(y=alt.Y("step:N", sort=order, axis=None), x=alt.value(0), text="left_out:N")
        .properties(width=240, height=height)
    )
    return (
        alt.hconcat(left, notes, spacing=14)
        .properties(title=title.params())
        .configure_view(strokeWidth=0)
    )
