"""Checks a page makes before it analyses anything."""

from __future__ import annotations

import streamlit as st

from ui.shell import View


def require_patients(view: View, to: str) -> None:
    """Stop the page with a message when the sidebar filters leave no patient.

    ``to`` ends the advice "Widen them to ...", e.g. ``"run the tests"``.
    """
    if view.filtered.n == 0:
        st.warning(f"No patient matches the filters in the sidebar. Widen them to {to}.")
        st.stop()
