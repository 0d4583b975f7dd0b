"""Drawing an analytics chart on a page exactly as it is exported."""

from __future__ import annotations

from typing import Any

import streamlit as st

#: Room above the title: Streamlit's chart frame clips the first title line otherwise.
_PADDING = {"left": 5, "right": 5, "top": 16, "bottom": 5}


def show_chart(chart: Any) -> None:
    """The chart at the page's width, without Streamlit's theme (as in the downloads)."""
    st.altair_chart(chart.properties(padding=_PADDING), width="stretch", theme=None)
