"""Patient flow of one lab comparison, drawn as a flow diagram is: a bar per step with its
count, and between two steps, in grey, how many left there and why.

Built from a :class:`~analytics.flow.PatientFlow`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import altair as alt
import pandas as pd

from analytics.viz.style import GREY, OKABE_ITO, ChartTitle, inline_data

if TYPE_CHECKING:
    from analytics.flow import PatientFlow

__all__ = ["flow_chart"]

#: Height of one row (a step, or the patients left between two steps), in pixels.
ROW_HEIGHT = 24
#: Width of the bars' panel, in pixels.
BAR_WIDTH = 240
#: Rows of patients left out start with this mark (their axis label is hidden).
_LEFT = "−"


def _rows(flow: PatientFlow) -> pd.DataFrame:
    """One row per step (kind "step") and per group left out between steps ("left")."""
    rows = []
    last = len(flow.steps) - 1
    for i, step in enumerate(flow.steps):
        if step.left_out:
            rows.append({"row": f"{_LEFT} {step.left_out}", "kind": "left", "n": 0, "last": False})
        rows.append({"row": step.label, "kind": "step", "n": step.n, "last": i == last})
    return pd.DataFrame(rows)


def flow_chart(flow: PatientFlow, title: ChartTitle, lines: tuple[str, ...] = ()) -> alt.LayerChart:
    """Bars of the patients at each step, the ones left out written between them.

    ``lines``, when given, is the title on several lines (it fits beside another chart).
    """
    frame = _rows(flow)
    order = frame["row"].tolist()
    top = max(int(frame["n"].max()), 1)
    y = alt.Y(
        "row:N",
        sort=order,
        title=None,
        axis=alt.Axis(
            ticks=False,
            domain=False,
            labelLimit=220,
            labelExpr=f"indexof(datum.label, '{_LEFT}') == 0 ? '' : datum.label",
        ),
    )
    x_scale = alt.Scale(domain=[0, top * 1.12], nice=False)
    base = alt.Chart(inline_data(frame)).encode(y=y)
    steps = base.transform_filter("datum.kind == 'step'")
    bars = steps.mark_bar(height=ROW_HEIGHT * 0.7).encode(
        x=alt.X(
            "n:Q",
            title="Patients",
            scale=x_scale,
            axis=alt.Axis(tickMinStep=1, format="d", grid=False),
        ),
        color=alt.condition("datum.last", alt.value(OKABE_ITO[0]), alt.value(GREY)),
        tooltip=[alt.Tooltip("row:N", title="Step"), alt.Tooltip("n:Q", title="Patients")],
    )
    counts = steps.mark_text(align="left", dx=4, fontSize=12).encode(
        x=alt.X("n:Q", scale=x_scale), text=alt.Text("n:Q", format="d")
    )
    left_out = (
        base.transform_filter("datum.kind == 'left'")
        .mark_text(align="left", dx=6, fontSize=11, fontStyle="italic", color="#555555")
        .encode(x=alt.value(0), text="row:N")
    )
    # a height in steps, not pixels: Streamlit keeps it when it stretches the width
    return alt.layer(bars, counts, left_out).properties(
        title=title.params(), width=BAR_WIDTH, height=alt.Step(ROW_HEIGHT)
    )
