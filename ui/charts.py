"""Drawing an analytics chart on a page exactly as it is exported."""

from __future__ import annotations

from typing import Any

import streamlit as st

#: Room above the title: Streamlit's chart frame clips the first title line otherwise.
_PADDING = {"left": 5, "right": 5, "top": 16, "bottom": 5}


def show_chart(chart: Any) -> None:
    """The chart at the page's width, without Streamlit's theme (as in the downloads)."""
    st.altair_chart(chart.properties(padding=_PADDING), width="stretch", theme=None)


def chart_spec(chart: Any) -> dict[str, Any]:
    """The finished Vega-Lite spec of ``chart`` as :func:`show_chart` draws it, to cache."""
    return chart.properties(padding=_PADDING).to_dict(validate=False)


def show_spec(spec: dict[str, Any], *, key: str | None = None) -> None:
    """Draw a spec made by :func:`chart_spec` (no Altair work on a rerun)."""
    st.vega_lite_chart(spec=spec, width="stretch", theme=None, key=key)


#: The Charts page's choice of chart, in the order of :data:`analytics.viz.figures.CHARTS`
#: (a test keeps the two equal), and every chart at once.
CHART_CHOICES = {
    "change": "Change per patient",
    "before-after": "Before and after",
    "trajectory": "Every time point",
    "estimation": "Estimation plot",
    "mean-difference": "Mean-difference",
    "qq": "Q–Q plot",
    "forest": "Subgroups (forest)",
    "power": "Power",
    "flow": "Patient flow",
    "all": "Every chart",
}
CHART_KEY = "chart_shown"


def chart_choice() -> tuple[str, ...]:
    """The charts to draw: the one chosen (the change bars at first), or every chart."""
    from analytics.viz.figures import CHART_LABELS, CHARTS
    from ui.widgets import persistent_radio

    chosen = persistent_radio(
        "Chart",
        list(CHART_CHOICES),
        CHART_KEY,
        default="change",
        format_func=CHART_CHOICES.get,
        help="One chart at a time redraws at once when a filter changes; every chart "
        "takes a moment longer. Download all (ZIP) holds every chart in any case.",
    )
    if chosen == "all":
        return CHARTS
    st.caption(CHART_LABELS[chosen])
    return (chosen,)
