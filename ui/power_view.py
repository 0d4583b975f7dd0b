"""Sections of the Power page."""

from __future__ import annotations

import streamlit as st

from analytics.output.files import file_stem
from analytics.stats.power import (
    OBSERVED_POWER_CAVEAT,
    PowerResult,
    n_grid,
    observed_power,
    power_curve_effect,
    power_curve_n,
)
from analytics.viz.style import ChartTitle
from analytics.viz.summary_charts import power_curve_chart
from ui.charts import chart_spec, show_spec
from ui.downloads import chart_buttons
from ui.format import fmt_num
from ui.shell import escape_md
from ui.tables import show_table


def headline(result: PowerResult, unit: str, lab: str) -> None:
    """What the current sample can and cannot show, in the lab's units."""
    unit, lab = escape_md(unit), escape_md(lab)  # both come from the file's headers
    u = f" {unit}" if unit else ""
    cols = st.columns(4)
    cols[0].metric(
        f"{1 - result.alpha:.0%} CI half-width",
        f"± {fmt_num(result.ci_half_width)}{u}",
        help=f"Half the width of the {1 - result.alpha:.0%} CI of the mean change with "
        f"{result.n} pairs and this SD of change.",
    )
    cols[1].metric(
        "Detectable, 80 % power",
        f"{fmt_num(result.mde)}{u}",
        help=f"d_z = {fmt_num(result.mde_dz)}",
    )
    cols[2].metric(
        "Detectable, 90 % power",
        f"{fmt_num(result.mde_90)}{u}",
        help=f"d_z = {fmt_num(result.mde_dz_90)}",
    )
    cols[3].metric(
        f"Pairs needed for {fmt_num(abs(result.delta))}{u}",
        result.n_required,
        help=f"To detect a change of {fmt_num(abs(result.delta))}{u} with "
        f"{result.power:.0%} power at alpha {result.alpha}.",
    )
    st.write(
        f"With {result.n} pairs and an SD of change of {fmt_num(result.sd_change)}{u}, the "
        f"mean change in {lab} is pinned down to about ± {fmt_num(result.ci_half_width)}{u}. "
        f"A true change smaller than {fmt_num(result.mde)}{u} would be missed more than one "
        f"time in five. Detecting a change of {fmt_num(abs(result.delta))}{u} with "
        f"{result.power:.0%} power needs {result.n_required} pairs; with {result.n} pairs the "
        f"power for it is {result.power_at_delta:.0%}."
    )


@st.cache_resource(scope="session", max_entries=32, show_spinner=False)
def _curves(result: PowerResult, unit: str, subtitle: str) -> tuple:
    """The two curves' tables, charts and finished specs, drawn once per input."""
    dz = abs(result.delta) / result.sd_change
    u = f" {unit}" if unit else ""
    by_n = power_curve_n(dz, n_grid(result.n, result.n_required), result.alpha, result.alternative)
    by_effect = power_curve_effect(
        result.n, None, result.alpha, result.alternative, sd_change=result.sd_change
    )
    title = ChartTitle(
        f"Power against pairs, for a change of {fmt_num(abs(result.delta))}{u}"
        f" (d_z = {fmt_num(dz)})",
        subtitle,
    )
    chart_n = power_curve_chart(by_n, "n", "Pairs (n)", title, current=result.n)
    title = ChartTitle(f"Power against the true change, n = {result.n} pairs", subtitle)
    x = "change" if "change" in by_effect else "cohen_dz"
    chart_effect = power_curve_chart(
        by_effect.assign(change=by_effect[x].abs()),
        "change",
        f"True mean change ({unit})" if unit else "True mean change",
        title,
        current=abs(result.delta),
        current_label="meaningful",
    )
    return by_n, by_effect, (chart_n, chart_spec(chart_n)), (chart_effect, chart_spec(chart_effect))


def curves(result: PowerResult, unit: str, subtitle: str, stem: str) -> None:
    by_n, by_effect, (chart_n, spec_n), (chart_effect, spec_effect) = _curves(
        result, unit, subtitle
    )
    left, right = st.columns(2)
    with left:
        show_spec(spec_n)
        chart_buttons(chart_n, file_stem(stem, "power_vs_n"), "power_n")
    with right:
        show_spec(spec_effect)
        chart_buttons(chart_effect, file_stem(stem, "power_vs_change"), "power_change")
    with st.expander("The tables behind the curves"):
        left, right = st.columns(2)
        with left:
            show_table(by_n.round(4), download=(file_stem(stem, "power_vs_n"), by_n))
        with right:
            show_table(by_effect.round(4), download=(file_stem(stem, "power_vs_change"), by_effect))


def observed(result: PowerResult, observed_dz: float) -> None:
    if st.checkbox("Show observed (post-hoc) power", key="show_observed_power"):
        value = observed_power(result.n, observed_dz, result.alpha, result.alternative)
        st.write(f"Observed power at the observed d_z = {fmt_num(observed_dz)}: {value:.0%}.")
        st.caption(OBSERVED_POWER_CAVEAT)


def summary_table(result: PowerResult, stem: str) -> None:
    with st.expander("Every power quantity"):
        frame = result.to_frame()
        show_table(frame.astype({"value": str}), download=(file_stem(stem, "power"), frame))
