"""From a (filtered) cohort and display settings to a finished, titled chart.

:func:`make_figure` turns one of the :data:`CHARTS` into a :class:`Figure`: the Altair
chart (built by the ``charts_*`` modules from plain frames with safe field names), its
title, a file-name stem for downloads, and the patients left out of it with the
reason. The pages, the command line and the exports all call it, so a chart looks the
same wherever it is drawn.

Each chart has a builder registered with ``@_chart(name, label)``: it reads a
:class:`FigureContext` and hands back a :class:`Drawing`, which :func:`finish` titles
and names (:mod:`analytics.viz.figure_base`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from analytics.analysis import SPLITS, Selection, select, split_groups, subgroups_for
from analytics.errors import AnalysisError
from analytics.evidence import rcv_for
from analytics.filters import FilteredCohort
from analytics.filters import slug_part as _slug
from analytics.flow import patient_flow
from analytics.labs import format_time
from analytics.plain import format_number
from analytics.settings import AnalysisSettings, ChartOptions
from analytics.stats.paired import PairedResult
from analytics.viz.censored import legend_label, pair_marks
from analytics.viz.change_charts import change_bars
from analytics.viz.figure_base import (
    Drawing,
    Figure,
    FigureContext,
    censored_label,
    censored_note,
    file_stem,
    finish,
    lab_words,
    patients_words,
    subtitle_text,
    times_slug,
    trajectory_notes,
)
from analytics.viz.figure_data import (
    complete_cases,
    long_values,
    summary_by_time,
    thin_lines,
    threshold_rules,
)
from analytics.viz.flow_chart import flow_chart
from analytics.viz.paired_charts import before_after, estimation_plot, mean_difference, qq_chart
from analytics.viz.power_figure import power_drawing
from analytics.viz.style import ChartTitle
from analytics.viz.summary_charts import forest
from analytics.viz.time_charts import patient_lines, trajectories

if TYPE_CHECKING:
    import altair as alt
    import pandas as pd

__all__ = [
    "CHARTS",
    "CHART_LABELS",
    "draw",
    "make_figure",
    "patient_lines_figure",
    "resolve_selection",
]

_MIN_PAIRS = 2
_MIN_QQ_PAIRS = 3


# --------------------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _ChartKind:
    label: str
    build: Callable[[FigureContext], Drawing]


_REGISTRY: dict[str, _ChartKind] = {}


def _chart(name: str, label: str) -> Callable:
    """Register a builder under ``name`` (its place in :data:`CHARTS`) and menu ``label``."""

    def register(build: Callable[[FigureContext], Drawing]) -> Callable:
        _REGISTRY[name] = _ChartKind(label, build)
        return build

    return register


def _flipped(options: ChartOptions) -> str:
    return "flipped" if options.flip else ""


def _line_drawing(
    text: str,
    note: str | Sequence[str],
    frame: pd.DataFrame,
    draw: Callable[[pd.DataFrame, ChartTitle], alt.TopLevelMixin],
    missing: tuple[tuple[str, str], ...],
    **more: Any,
) -> Drawing:
    """A drawing with a line per patient, thinned as :func:`thin_lines` says (and notes)."""
    lines, thin_note = thin_lines(frame)
    notes = [note] if isinstance(note, str) else list(note)
    return Drawing(text, [*notes, thin_note], lambda title: draw(lines, title), missing, **more)


def _axis_labels(selection: Selection) -> dict[str, str]:
    """The two times and the lab, as the paired charts name them on their axes."""
    return {
        "baseline_label": format_time(selection.baseline),
        "follow_up_label": format_time(selection.follow_up),
        "value_title": lab_words(selection),
    }


#: Legend entry of the change chart's mark for a change beyond the RCV (the subtitle
#: gives the RCV itself, so the legend stays narrow enough for a journal column).
RCV_LEGEND = "Beyond biological variation (RCV)"


def _with_rcv(context: FigureContext, data: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """``data`` with ``beyond`` (rise, fall or blank) against the reference change value,
    and the subtitle line giving the RCV; unchanged, and no line, when the lab has no CVs."""
    if context.paired is not None:
        rcv = context.paired.rcv
    else:
        values = (
            tuple(data["baseline"].astype(float)),
            tuple(data["follow_up"].astype(float)),
            tuple(data["patient"].astype(str)),
        )
        rcv, _ = rcv_for(context.cohort, context.selection, context.analysis, values)
    if rcv is None:
        return data, ""
    beyond = {p.patient: p.beyond or "" for p in rcv.patients}
    rise = format_number(rcv.rise_limit_percent, digits=3, signed=True)
    fall = format_number(rcv.fall_limit_percent, digits=3, signed=True)
    note = (
        f"Diamonds: beyond the RCV, {rise} % / {fall} % "
        f"(CVa {rcv.cv_analytical:g} %, CVi {rcv.cv_within:g} %)"
    )
    return data.assign(beyond=data["patient"].astype(str).map(beyond).fillna("")), note


@_chart("change", "Change per patient (bars)")
def _change(context: FigureContext) -> Drawing:
    selection, options = context.selection, context.options
    pairs = context.pairs("change chart", 1)
    data = pairs.frame
    color_title = None
    if options.color_by is not None:
        groups = split_groups(context.cohort, options.color_by, context.analysis.age_cutoff)
        data = data.assign(group=groups.reindex(data["patient"]).to_numpy())
        color_title = SPLITS[options.color_by]
    text = (
        f"Change in {lab_words(selection)}, {selection.times_label}, "
        f"n = {patients_words(len(data))}"
    )
    data, rcv_note = _with_rcv(context, data)
    return Drawing(
        text,
        [rcv_note] if rcv_note else [],
        lambda title: change_bars(
            data,
            title,
            selection.unit,
            color_by="group" if options.color_by else None,
            color_title=color_title,
            sort=options.sort,
            flip=options.flip,
            band=options.band,
            censored_label=censored_label(context, data),
            rcv_label=RCV_LEGEND if rcv_note else "",
        ),
        pairs.missing,
        [
            f"by-{options.color_by}" if options.color_by else "",
            "waterfall" if options.sort else "",
            _flipped(options),
        ],
    )


@_chart("before-after", "Before and after (a line per patient)")
def _before_after(context: FigureContext) -> Drawing:
    selection = context.selection
    pairs = context.pairs("before/after chart", 1)
    rules, rule_note = threshold_rules(
        context.cohort, selection, pairs.frame["patient"].tolist(), context.analysis.thresholds
    )
    text = (
        f"{lab_words(selection)} at {format_time(selection.baseline)} and "
        f"{format_time(selection.follow_up)}, n = {patients_words(len(pairs.frame))}"
    )
    return _line_drawing(
        text,
        rule_note,
        pairs.frame,
        lambda lines, title: before_after(
            lines,
            title,
            selection.unit,
            threshold=rules or None,
            censored_label=censored_label(context, pairs.frame),
            **_axis_labels(selection),
        ),
        pairs.missing,
    )


@_chart("trajectory", "Every time point (a line per patient, mean and CI)")
def _trajectory(context: FigureContext) -> Drawing:
    selection, confidence = context.selection, context.analysis.confidence
    long, missing = long_values(context.cohort, selection.analyte, context.analysis.censored)
    times = sorted(long["time"].unique())
    if len(times) < 2:
        raise AnalysisError(
            f"{selection.name} has values at fewer than 2 time points in this selection; "
            "a course over time needs at least 2."
        )
    if context.options.complete_cases:
        long, incomplete = complete_cases(long, selection.name)
        missing = (*missing, *incomplete)
        if long.empty:
            raise AnalysisError(
                f"No patient in this selection has {selection.name} values at every time "
                f"point ({', '.join(format_time(t) for t in times)}), so there is no "
                "complete case to draw; filter to patients followed at the same times (for "
                "example one cohort), or untick 'complete cases only'."
            )
    summary = summary_by_time(long, confidence)
    text = (
        f"{lab_words(selection)} at every time point, {format_time(times[0])} to "
        f"{format_time(times[-1])}, n = {patients_words(long['patient'].nunique())}"
    )
    return _line_drawing(
        text,
        trajectory_notes(long, confidence, context.options.complete_cases),
        long,
        lambda lines, title: trajectories(
            lines,
            summary,
            title,
            selection.unit,
            value_title=lab_words(selection),
            confidence=confidence,
            censored_label=censored_label(context, long),
        ),
        missing,
        stem_extra=["complete-cases" if context.options.complete_cases else ""],
        times=(times[0], times[-1]),
    )


@_chart("estimation", "Estimation plot (paired values and mean change)")
def _estimation(context: FigureContext) -> Drawing:
    selection = context.selection
    pairs = context.pairs("estimation plot", _MIN_PAIRS)
    result = context.paired_result()
    text = (
        f"Change in {lab_words(selection)}, {selection.times_label}: paired values and "
        f"mean change, n = {result.n_pairs} pairs"
    )
    note = (
        "Right: the mean change with its t-based CI, on the same scale as the left panel, "
        "zero level with the baseline mean."
    )
    return _line_drawing(
        text,
        note,
        pairs.frame,
        lambda lines, title: estimation_plot(
            lines,
            result,
            title,
            selection.unit,
            censored_label=censored_label(context, pairs.frame),
            **_axis_labels(selection),
        ),
        pairs.missing,
    )


@_chart("mean-difference", "Change against level (mean-difference plot)")
def _mean_difference(context: FigureContext) -> Drawing:
    selection, options = context.selection, context.options
    pairs = context.pairs("mean-difference plot", _MIN_PAIRS)
    text = (
        f"Change in {lab_words(selection)} against its level, {selection.times_label}, "
        f"n = {len(pairs.frame)} pairs"
    )
    note = (
        "Lines: mean change and mean ± 1.96 SD of the changes (where about 95 % of changes "
        "fall if they are roughly normal)."
    )
    return Drawing(
        text,
        [note],
        lambda title: mean_difference(
            pairs.frame,
            title,
            selection.unit,
            flip=options.flip,
            value_title=lab_words(selection),
            censored_label=censored_label(context, pairs.frame),
        ),
        pairs.missing,
        [_flipped(options)],
    )


@_chart("qq", "Normal Q–Q plot of the changes")
def _qq(context: FigureContext) -> Drawing:
    selection = context.selection
    pairs = context.pairs("Q–Q plot", _MIN_QQ_PAIRS)
    result = context.paired_result()
    marks = dict(zip(pairs.frame["patient"], pair_marks(pairs.frame), strict=True))
    return Drawing(
        f"Q–Q plot of the change in {selection.label()}, n = {result.n_pairs} pairs",
        ["Points near the dashed line (mean + SD × z) fit normally distributed changes."],
        lambda title: qq_chart(
            result.changes,
            title,
            selection.unit,
            censored=[marks.get(str(patient), "") for patient in result.patient_ids],
            censored_label=censored_label(context, pairs.frame),
        ),
        pairs.missing,
    )


@_chart("forest", "Subgroups (forest plot)")
def _forest(context: FigureContext) -> Drawing:
    selection, options, analysis = context.selection, context.options, context.analysis
    result = subgroups_for(context.cohort, selection, options.split, analysis)
    frame = result.to_frame()
    split_words = SPLITS[options.split].lower()
    if frame.empty:
        raise AnalysisError(
            f"No patient has both {selection.name} values and a recorded "
            f"{split_words}; there is no subgroup to show."
        )
    text = (
        f"Change in {lab_words(selection)}, {selection.times_label}, by "
        f"{split_words}: n = {patients_words(int(frame['n'].sum()))}"
    )
    notes = [result.sentence(selection.name, selection.unit)]
    if options.flip and result.difference is not None:
        notes[0] += " (Computed on the changes as follow-up − baseline.)"
    if result.excluded_groups:
        notes.append(
            "Not compared: "
            + "; ".join(f"{group} ({why})" for group, why in result.excluded_groups)
        )
    return Drawing(
        text,
        notes,
        lambda title: forest(
            frame, title, selection.unit, flip=options.flip, confidence=analysis.confidence
        ),
        tuple(result.excluded),
        [f"by-{options.split}", _flipped(options)],
    )


@_chart("power", "Power against number of pairs")
def _power(context: FigureContext) -> Drawing:
    return power_drawing(context, _MIN_PAIRS)


@_chart("flow", "Patient flow (from the file to the pairs analysed)")
def _flow(context: FigureContext) -> Drawing:
    selection = context.selection
    flow = patient_flow(context.filtered, selection, context.analysis.censored)
    text = (
        f"Patient flow, {lab_words(selection)}, {selection.times_label}: "
        f"{flow.n_analysed} of {flow.n_in_file} analysed"
    )
    note = "Grey: patients at each step; blue: the complete pairs the tests use."
    return Drawing(text, [note], lambda title: flow_chart(flow, title), ())


#: The charts :func:`make_figure` draws, in menu order (the command line uses these names).
CHARTS: tuple[str, ...] = tuple(_REGISTRY)

#: A plain name for each chart, for menus.
CHART_LABELS: dict[str, str] = {name: kind.label for name, kind in _REGISTRY.items()}


def resolve_selection(filtered: FilteredCohort, selection: Selection | None) -> Selection:
    cohort = filtered.cohort
    if cohort.n_patients == 0:
        raise AnalysisError(f"No patient is left to chart ({filtered.sentence}).")
    if not cohort.analytes:
        raise AnalysisError("This file has no lab values to chart.")
    if selection is None:
        return select(cohort, next(iter(cohort.analytes)), None, None)
    if selection.analyte not in cohort.analytes:
        raise AnalysisError(f"This file has no lab called '{selection.name}'.")
    return selection


def draw(name: str, context: FigureContext) -> Figure:
    """Draw the chart ``name`` (one of :data:`CHARTS`) from an explicit context."""
    kind = _REGISTRY.get(name)
    if kind is None:
        raise AnalysisError(f"Unknown chart '{name}'; choose one of {', '.join(CHARTS)}.")
    return finish(name, context, kind.build(context))


def make_figure(
    name: str,
    filtered: FilteredCohort,
    selection: Selection | None,
    *,
    analysis: AnalysisSettings | None = None,
    options: ChartOptions | None = None,
    paired: PairedResult | None = None,
) -> Figure:
    """Draw the chart ``name`` (one of :data:`CHARTS`) for a lab and two time points.

    Parameters
    ----------
    name : str
        One of :data:`CHARTS`.
    filtered : FilteredCohort
        The patients to chart and the sentence describing the filter (the subtitle).
    selection : Selection or None
        The lab and its baseline and follow-up times; None takes the cohort's first
        lab from its first to its last time point. The trajectory chart uses only the
        lab (every time point).
    analysis : AnalysisSettings, optional
        Levels, censored rule, age cut-off and thresholds; defaults as there.
    options : ChartOptions, optional
        Display settings; defaults as in :class:`ChartOptions`.
    paired : PairedResult, optional
        The paired result of ``selection`` under ``analysis``, when the caller has it
        already (it is then not computed again for the estimation, Q–Q and power charts).

    Returns
    -------
    Figure

    Raises
    ------
    AnalysisError
        Unknown chart; no patient left; fewer than 2 complete pairs (3 for the Q–Q
        plot); no subgroup for the forest plot; no observed change for the power curve.
        The message is written for a clinician.
    """
    if name not in _REGISTRY:
        raise AnalysisError(f"Unknown chart '{name}'; choose one of {', '.join(CHARTS)}.")
    context = FigureContext(
        filtered,
        resolve_selection(filtered, selection),
        analysis or AnalysisSettings(),
        options or ChartOptions(),
        paired=paired,
    )
    return draw(name, context)


def patient_lines_figure(
    filtered: FilteredCohort,
    analyte: str,
    analysis: AnalysisSettings | None = None,
    *,
    notes: Sequence[str] = (),
    stem_prefix: str = "",
) -> Figure:
    """Each patient's values of ``analyte`` over every time point, one colour each.

    Used for thesis Figure 6 (hepcidin in the five prospective patients); best for
    up to eight patients (the palette's size).
    """
    censored = (analysis or AnalysisSettings()).censored
    cohort = filtered.cohort
    if cohort.n_patients == 0:
        raise AnalysisError(f"No patient is left to chart ({filtered.sentence}).")
    key = cohort.find_analyte(analyte)
    info = cohort.analytes[key]
    long, missing = long_values(cohort, key, censored)
    if long.empty:
        raise AnalysisError(f"No patient in this selection has a {info.name} value.")
    times = sorted(long["time"].unique())
    lab = f"{info.name} ({info.unit})" if info.unit else info.name
    text = (
        f"{lab} in each patient, {format_time(times[0])} to {format_time(times[-1])}, "
        f"n = {patients_words(long['patient'].nunique())}"
    )
    subtitle = subtitle_text(filtered, [*notes, censored_note(cohort, key, censored)])
    chart = patient_lines(
        long,
        ChartTitle(text, subtitle),
        info.unit,
        value_title=lab,
        censored_label=legend_label(long["censored"], censored),
    )
    stem = file_stem(
        stem_prefix,
        _slug(key) or "lab",
        "patient-lines",
        times_slug(times[0], times[-1]),
        filtered.slug,
    )
    return Figure("patient-lines", chart, text, stem, missing)
