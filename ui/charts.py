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
