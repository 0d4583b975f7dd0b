"""The timeline of dated results: each patient's results on days since the start.

One row per patient; every result of the lab is a dot at its day since the patient's
start date (day 0); the visit windows are shaded and named above; the value used at
each time point is a filled dot, a result not used a hollow one (its reason in the
tooltip). This is how a clinician checks that the windows picked the values they
would have picked by hand.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd

from analytics.errors import AnalysisError
from analytics.reading.windows import OUTCOMES, WindowedResults
from analytics.viz.style import GREY, OKABE_ITO, WIDTH, ChartTitle, inline_data

__all__ = ["NOT_USED", "USED", "timeline_chart", "timeline_frame"]

USED = "value used at a time point"
NOT_USED = "not used"
_ROW_HEIGHT = 24
_WINDOW_FILL = "#56B4E9"


def timeline_frame(
    windowed: WindowedResults, analyte: str, patients: Sequence[str]
) -> pd.DataFrame:
    """The chart's points: the lab's results of ``patients`` that have a day.

    Columns ``patient``, ``day``, ``value``, ``status`` (:data:`USED` or
    :data:`NOT_USED`), ``time`` (the time point used at, ``""`` if none), ``reason``
    and ``row``.
    """
    results = windowed.results
    chosen = results[
        (results["analyte"] == analyte)
        & results["patient_id"].isin(list(patients))
        & results["day"].notna()
    ]
    labels = {rule.time: rule.label for rule in windowed.rules}
    used = chosen["outcome"] == "used"
    value = chosen["value"].map(lambda v: f"{v:g}")
    censored = chosen["censored"].fillna("")
    return pd.DataFrame(
        {
            "patient": chosen["patient_id"].astype(str).to_numpy(),
            "day": chosen["day"].astype(int).to_numpy(),
            "value": (censored + value).to_numpy(),
            "status": [USED if u else NOT_USED for u in used],
            "time": [
                labels.get(t, "") if u else "" for t, u in zip(chosen["time"], used, strict=True)
            ],
            "reason": [
                r if r else OUTCOMES["used"] for r in chosen["reason"].fillna("").to_numpy()
            ],
            "row": chosen["row"].astype(int).to_numpy(),
        }
    )


def _windows_frame(windowed: WindowedResults) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "start": [rule.from_day - 0.5 for rule in windowed.rules],
            "end": [rule.to_day + 0.5 for rule in windowed.rules],
            "middle": [(rule.from_day + rule.to_day) / 2 for rule in windowed.rules],
            "label": [rule.label for rule in windowed.rules],
        }
    )


def _window_layers(windows: pd.DataFrame, x_scale: alt.Scale) -> list[alt.Chart]:
    """The windows shaded and named above, and the start day as a dashed line."""
    shaded = (
        alt.Chart(inline_data(windows))
        .mark_rect(color=_WINDOW_FILL, opacity=0.16)
        .encode(x=alt.X("start:Q", scale=x_scale, title=None), x2="end:Q")
    )
    start = (
        alt.Chart(inline_data(pd.DataFrame({"day": [0]})))
        .mark_rule(color="#333333", strokeDash=[4, 3])
        .encode(x=alt.X("day:Q", scale=x_scale))
    )
    names = (
        alt.Chart(inline_data(windows))
        .mark_text(baseline="bottom", dy=-4, fontSize=11, color="#333333")
        .encode(x=alt.X("middle:Q", scale=x_scale), y=alt.value(0), text="label:N")
    )
    return [shaded, start, names]


def _dots(points: pd.DataFrame, order: list[str], x_scale: alt.Scale, lab_name: str) -> alt.Chart:
    """Every result: filled when used at a time point, hollow when not."""
    statuses = [USED, NOT_USED]
    return (
        alt.Chart(inline_data(points))
        .mark_point(size=70, strokeWidth=1.5, opacity=1)
        .encode(
            x=alt.X("day:Q", title="Days since the start date (day 0)", scale=x_scale),
            y=alt.Y("patient:N", sort=order, title="Patient"),
            color=alt.Color(
                "status:N",
                scale=alt.Scale(domain=statuses, range=[OKABE_ITO[0], GREY]),
                legend=alt.Legend(title=None, orient="bottom"),
            ),
            fill=alt.Fill(
                "status:N",
                scale=alt.Scale(domain=statuses, range=[OKABE_ITO[0], "#FFFFFF"]),
                legend=None,
            ),
            tooltip=[
                alt.Tooltip("patient:N", title="patient"),
                alt.Tooltip("day:Q", title="day"),
                alt.Tooltip("value:N", title=lab_name),
                alt.Tooltip("time:N", title="used at"),
                alt.Tooltip("reason:N", title="outcome"),
                alt.Tooltip("row:Q", title="row in the file"),
            ],
        )
    )


def timeline_chart(
    windowed: WindowedResults,
    analyte: str,
    lab_name: str,
    patients: Sequence[str],
) -> alt.LayerChart:
    """The timeline of one lab for ``patients`` (in that order, one row each).

    Raises
    ------
    AnalysisError
        When none of the patients has a result of the lab with a day since the start.
    """
    points = timeline_frame(windowed, analyte, patients)
    # the values used are drawn last, on top of a result not used on the same day
    points = points.sort_values("status", key=lambda s: s == USED, kind="stable")
    if points.empty:
        raise AnalysisError(f"None of these patients has a dated {lab_name} result to show.")
    order = [p for p in patients if p in set(points["patient"])]
    windows = _windows_frame(windowed)
    low = min(float(points["day"].min()), float(windows["start"].min())) - 5
    high = max(float(points["day"].max()), float(windows["end"].max())) + 5
    x_scale = alt.Scale(domain=[low, high], nice=False)
    layers = [*_window_layers(windows, x_scale), _dots(points, order, x_scale, lab_name)]
    title = ChartTitle(
        f"{lab_name}: every result by day since the start ({len(order)} patients)",
        "Shaded: the visit windows. Filled: the value used at each time point; hollow: not "
        "used (hover for why).",
    )
    height = max(_ROW_HEIGHT * len(order), 60)
    return (
        alt.layer(*layers)
        .properties(width=WIDTH + 160, height=height, title=title.params())
        .configure_view(stroke=None)
    )
