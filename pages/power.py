"""Power: what this number of patients can and cannot detect."""

import streamlit as st

from analytics.errors import AnalysisError
from analytics.labs import default_change
from analytics.output.commands import power_command
from analytics.output.files import file_stem
from analytics.stats.power import power_summary
from analytics.viz.figure_base import times_slug
from ui import power_view
from ui.selection import paired_or_stop
from ui.shell import escape_md, page_view
from ui.views import reproduce
from ui.widgets import persistent_number, persistent_selectbox

view = page_view()

st.title("Power")
st.write(
    "How precisely the current patients pin down a change, the smallest change they could "
    "reliably detect, and how many patients a study would need. Paired t-test on the "
    "changes (follow-up − baseline), effect size d_z = change / SD of change."
)
MODES = {"data": "From the data (lab and times below)", "plan": "Planning (enter the numbers)"}
mode = persistent_selectbox("Mode", list(MODES), "power_mode", format_func=MODES.get)

alpha, n, sd_change, unit, lab, default_delta, observed_dz = 0.05, 10, 1.0, "", "the lab", 1.0, None
stem = "planning"
if mode == "data":
    st.text(view.filtered.sentence)
    settings, result = paired_or_stop(view)
    selection = settings.selection
    alpha, n, sd_change = settings.alpha, result.n_pairs, result.sd_change
    unit, lab, observed_dz = selection.unit, selection.name, result.cohen_dz
    default_delta = default_change(selection.analyte, selection.unit) or round(sd_change, 1)
    stem = file_stem(
        selection.analyte,
        "power",
        times_slug(selection.baseline, selection.follow_up),
        view.filtered.slug,
    )
    st.caption(
        escape_md(f"{selection.label()}: {n} pairs, observed SD of change {sd_change:.3g} {unit}.")
    )
else:
    cols = st.columns(3)
    n = int(
        persistent_number(
            "Pairs (n)",
            "plan_n",
            default=10,
            container=cols[0],
            min_value=2,
            max_value=10_000,
            step=1,
        )
    )
    sd_change = persistent_number(
        "SD of the change", "plan_sd", default=3.5, container=cols[1], min_value=0.001, step=0.5
    )
    alpha = persistent_selectbox(
        "Significance level (alpha)",
        [0.01, 0.05, 0.10],
        "plan_alpha",
        default=0.05,
        container=cols[2],
    )
    default_delta = 3.0

delta = st.number_input(
    f"Change worth detecting{f' ({escape_md(unit)})' if unit else ''}",
    min_value=0.001,
    value=float(default_delta),
    step=0.5,
    key=f"delta_{mode}_{lab}",
    help="The smallest change you would call clinically meaningful. Defaults: MCV 3 fL, "
    "Hgb 1 g/dL, hepcidin 10 ng/mL, TSAT 5 %, ferritin 50 ng/mL (converted when the file "
    "uses another unit, e.g. 10 g/L).",
)
try:
    power = power_summary(n, sd_change, delta, alpha=alpha)
except AnalysisError as error:
    st.warning(escape_md(str(error)))
    st.stop()
power_view.headline(power, unit, lab)
power_view.curves(power, unit, view.filtered.sentence if mode == "data" else "Planning mode", stem)
power_view.summary_table(power, stem)
if observed_dz is not None:
    power_view.observed(power, observed_dz)

reproduce(view, lines=[power_command(n, sd_change, delta, alpha)])
