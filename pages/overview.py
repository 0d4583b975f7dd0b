"""Overview (the home page): did the headline labs change, per patient, and how much can
so few patients tell?"""

import streamlit as st

from ui import overview
from ui.guards import require_patients
from ui.shell import page_view
from ui.views import reproduce

view = page_view()

st.title("Overview")
overview.data_in_use(view)
st.text(view.filtered.sentence)
require_patients(view, "see the overview")

labs = overview.pick_labs(view)
st.caption(
    "Each bar is one patient's change (follow-up − baseline, so a fall is negative). Baseline "
    "is the lab's first time point, follow-up the time with the most patients measured at "
    "both; the Paired tests page has every time point and test."
)
if not labs:
    st.info("Choose at least one lab above.")
    st.stop()
analysis = overview.analysis_settings(view)
cards = overview.show_labs(view, labs, analysis)
lines = overview.overview_commands(view, cards, analysis)
if lines:
    reproduce(view, lines=lines)
