"""Charts: per-patient change and every other view of one lab, with downloads."""

import streamlit as st

from analytics.analysis import SPLITS
from analytics.errors import AnalysisError
from analytics.settings import ChartOptions
from analytics.stats.power import OBSERVED_POWER_CAVEAT
from ui.charts import chart_choice, show_spec
from ui.downloads import figure_buttons, figure_size_choice, view_buttons
from ui.excluded import show_excluded
from ui.parts import Drawn, Failed, figure_part, pair_reasons_part, paired_part, view_of
from ui.selection import selection_page
from ui.shell import escape_md
from ui.views import current_analysis, full_view, reproduce
from ui.widgets import persistent_checkbox, persistent_number, persistent_selectbox

view, settings = selection_page("Charts", "draw charts")

COLOURS = {"none": "No colour", **{key: f"By {label.lower()}" for key, label in SPLITS.items()}}
row = st.columns(5)
color_by = persistent_selectbox(
    "Bar colour", list(COLOURS), "chart_color", format_func=COLOURS.get, container=row[0]
)
order = persistent_selectbox(
    "Bar order",
    ["patient", "sorted"],
    "chart_order",
    container=row[1],
    format_func={"patient": "Patient order", "sorted": "Sorted (waterfall)"}.get,
)
direction = persistent_selectbox(
    "Bar direction",
    ["follow-up", "thesis"],
    "chart_direction",
    container=row[2],
    format_func={
        "follow-up": "Follow-up − baseline",
        "thesis": "Baseline − follow-up (as the study)",
    }.get,
)
band = persistent_number(
    "Meaningful change band (0 = none)",
    "chart_band",
    default=0.0,
    container=row[3],
    min_value=0.0,
    step=0.5,
)
split = persistent_selectbox(
    "Forest plot subgroups",
    list(SPLITS),
    "chart_split",
    default="sex",
    format_func=SPLITS.get,
    container=row[4],
)
row = st.columns(2)
complete_cases = persistent_checkbox(
    "Trajectories: complete cases only",
    "chart_complete_cases",
    container=row[0],
    help="Only the patients with a value at every time point, so the mean line follows "
    "the same patients throughout.",
)
observed_power = persistent_checkbox(
    "Power curve at the observed effect (post-hoc power)",
    "chart_observed_power",
    container=row[1],
    help="By default the power curve is for the meaningful change (the band, else the "
    "lab's default). " + OBSERVED_POWER_CAVEAT,
)
if observed_power:
    row[1].caption(OBSERVED_POWER_CAVEAT)
figure_size_choice()

analysis = current_analysis(view, settings)
options = ChartOptions(
    color_by=None if color_by == "none" else color_by,
    sort=order == "sorted",
    flip=direction == "thesis",
    band=band or None,
    split=split,
    complete_cases=complete_cases,
    observed_power=observed_power,
)
key = (view.dataset, view.filter, settings.selection, analysis)
try:
    pair = paired_part(*key)
except AnalysisError as error:
    st.warning(escape_md(str(error)))
    st.stop()
view_buttons(lambda: full_view(view, settings, analysis, options), stem=settings.selection.analyte)

patients = view.filtered.cohort.patients
reasons = pair_reasons_part(*key)
drawn = [figure_part(*key, name, options) for name in chart_choice()]
for part in drawn:
    if not isinstance(part, Drawn):
        continue
    show_spec(part.spec)
    figure_buttons(part.figure, part.figure.name)
    show_excluded(part.figure.missing, patients, reasons, what="Not in this chart")
    st.divider()
for part in drawn:
    if isinstance(part, Failed):
        st.info(escape_md(part.reason))
reproduce(view, view_of(*key, pair=pair, options=options), chart="change")
