"""The Charts page's power curve: for a change the clinician calls meaningful, by default.

Observed ("post-hoc") power, the power at the observed effect, is a one-to-one
function of the p-value (:data:`analytics.stats.power.OBSERVED_POWER_CAVEAT`): it is
drawn only when asked for (``ChartOptions(observed_power=True)``, ``--observed-power``),
with that caveat on the chart.
"""

from __future__ import annotations

import math
import textwrap

from analytics.errors import AnalysisError
from analytics.labs import default_change
from analytics.stats.power import (
    OBSERVED_POWER_CAVEAT,
    n_grid,
    power_curve_effect,
    power_curve_n,
    power_summary,
)
from analytics.viz.figure_base import Drawing, FigureContext
from analytics.viz.summary_charts import power_curve_chart

__all__ = ["power_drawing"]


def power_drawing(context: FigureContext, min_pairs: int) -> Drawing:
    """Power against pairs for the meaningful change (the band, else the lab's default),
    with the observed SD of change; at the observed effect only when
    :attr:`ChartOptions.observed_power <analytics.settings.ChartOptions>` asks for it."""
    selection, alpha = context.selection, context.analysis.alpha
    pairs = context.pairs("power curve", min_pairs)
    result = context.paired_result()
    if context.options.observed_power:
        return _observed_power(context, pairs.missing)
    if not result.sd_change > 0:
        raise AnalysisError(
            f"Every patient's {selection.name} changed by the same amount, so there is no SD "
            "of the change to compute power with."
        )
    delta = context.options.band or default_change(selection.analyte, selection.unit)
    if delta is None:
        return _power_by_change(context, pairs.missing)
    n, dz = result.n_pairs, abs(delta) / result.sd_change
    summary = power_summary(n, result.sd_change, abs(delta), alpha=alpha)
    curve = power_curve_n(dz, n_grid(n, summary.n_required), alpha)
    unit = f" {selection.unit}" if selection.unit else ""
    text = (
        f"Power against number of pairs for a change of {abs(delta):g}{unit} in "
        f"{selection.name}, {selection.times_label} (d_z = {dz:.2f}), n = {n} pairs"
    )
    source = (
        "the meaningful change entered (the band)"
        if context.options.band
        else f"the default meaningful change for {selection.name}"
    )
    notes = [
        f"Two-sided paired t-test at alpha = {alpha:g} for a true change of {abs(delta):g}"
        f"{unit} ({source}), with the observed SD of change {result.sd_change:.3g}{unit}.",
        f"{summary.n_required:,} pairs give 80 % power; this study's {n} give "
        f"{summary.power_at_delta * 100:.0f} %. This is not the power at the observed change.",
    ]
    return Drawing(
        text,
        notes,
        lambda title: power_curve_chart(
            curve, "n", "Pairs (n)", title, current=n, current_label=f"this study: {n} pairs"
        ),
        pairs.missing,
    )


def _power_by_change(context: FigureContext, missing: tuple[tuple[str, str], ...]) -> Drawing:
    """Power of these pairs against the true change, for a lab with no meaningful change
    known (and none entered): where the curve crosses 80 % is the detectable change."""
    selection, alpha = context.selection, context.analysis.alpha
    result = context.paired_result()
    n, sd = result.n_pairs, result.sd_change
    summary = power_summary(n, sd, sd, alpha=alpha)
    mde, top = summary.mde, max(2.0, 1.3 * summary.mde_dz)
    curve = power_curve_effect(n, [top * i / 60 for i in range(61)], alpha, sd_change=sd)
    unit = f" {selection.unit}" if selection.unit else ""
    text = f"Power against the true change in {selection.label()}, n = {n} pairs"
    notes = [
        f"Two-sided paired t-test at alpha = {alpha:g} with the observed SD of change "
        f"{sd:.3g}{unit}: a true change of {mde:.3g}{unit} is detected with 80 % power.",
        "No meaningful change is known for this lab: enter one (the band) to see the pairs "
        "it needs. This is not the power at the observed change.",
    ]
    x_title = f"True mean change ({selection.unit})" if selection.unit else "True mean change"
    return Drawing(
        text,
        notes,
        lambda title: power_curve_chart(
            curve.assign(change=curve["change"].abs()), "change", x_title, title, current=None
        ),
        missing,
        ["by-change"],
    )


def _observed_power(context: FigureContext, missing: tuple[tuple[str, str], ...]) -> Drawing:
    """The power curve at the observed d_z (post-hoc power): only when asked for."""
    selection, alpha = context.selection, context.analysis.alpha
    result = context.paired_result()
    dz = float(result.cohen_dz)
    if not math.isfinite(dz) or dz == 0:
        raise AnalysisError(
            f"The mean change in {selection.name} is zero, so there is no observed effect to "
            "draw a power curve for; use the Power page with a change worth detecting."
        )
    n = result.n_pairs
    curve = power_curve_n(abs(dz), n_grid(n, result.n_for_80_power), alpha)
    text = (
        f"Observed (post-hoc) power against number of pairs, at the observed effect in "
        f"{selection.label()} (d_z = {dz:.2f}), n = {n} pairs"
    ).replace("= -", "= −")
    notes = [
        f"Two-sided paired t-test at alpha = {alpha:g}, if the true effect equalled the "
        "observed d_z.",
        *_wrapped(OBSERVED_POWER_CAVEAT),
    ]
    return Drawing(
        text,
        notes,
        lambda title: power_curve_chart(
            curve, "n", "Pairs (n)", title, current=n, current_label=f"this study: {n} pairs"
        ),
        missing,
        ["observed"],
    )


def _wrapped(text: str, width: int = 110) -> list[str]:
    """``text`` as subtitle lines of at most about ``width`` characters."""
    return textwrap.wrap(text, width)
