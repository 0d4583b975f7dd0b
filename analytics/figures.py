"""From a (filtered) cohort and display settings to a finished, titled chart.

:func:`make_figure` turns one of the :data:`CHARTS` into a :class:`Figure`: the Altair
chart (built by the ``charts_*`` modules from plain frames with safe field names), its
title, a file-name stem for downloads, and the patients left out of it with the
reason. The pages, the command line and the exports all call it, so a chart looks the
same wherever it is drawn.

:data:`THESIS_FIGURES` describes the six figures of the 2013 thesis; :func:`thesis_figure`
redraws one of them from a cohort (the demo cohort in practice), in the thesis's
orientation (baseline − follow-up, so a fall is a positive bar), saying so on the chart.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import altair as alt
import pandas as pd
from scipy import stats

from .analysis import SPLITS, Selection, paired_for, select, split_groups, subgroups_for
from .chart_style import ChartTitle
from .charts_change import change_bars
from .charts_paired import before_after, estimation_plot, mean_difference, qq_chart
from .charts_summary import forest, power_curve_chart
from .charts_time import patient_lines, trajectories
from .cohort import CENSORED_RULES, Cohort
from .errors import AnalysisError
from .filters import CohortFilter, FilteredCohort
from .filters import slug_part as _slug
from .labs import conventional_unit, format_time, unit_factor
from .paired import PairedResult
from .power import n_grid, power_curve_n
from .prevalence import Thresholds
from .settings import AnalysisSettings, ChartOptions

__all__ = [
    "CHARTS",
    "CHART_LABELS",
    "THESIS_FIGURES",
    "Figure",
    "FigureContext",
    "ThesisFigure",
    "draw",
    "make_figure",
    "patient_lines_figure",
    "thesis_figure",
    "thesis_figures",
    "times_slug",
]

_MIN_PAIRS = 2
_MIN_QQ_PAIRS = 3


@dataclass(frozen=True)
class Figure:
    """A finished chart.

    Attributes
    ----------
    name : str
        The chart's name (one of :data:`CHARTS`, or ``"patient-lines"``).
    chart : altair.Chart, LayerChart or HConcatChart
        The Vega-Lite specification, titled and subtitled.
    title : str
        The title line (lab, unit, times, n).
    filename_stem : str
        For downloads: lab, chart, times (``0-2mo``, ``0-2w``) and the active filters,
        only ``[a-z0-9_.-]``, e.g. ``mcv_change_0-2mo_pediatric_female``.
    missing : tuple of (patient_id, reason)
        Patients of the filtered cohort who are not in the chart, and why.
    """

    name: str
    chart: alt.TopLevelMixin
    title: str
    filename_stem: str
    missing: tuple[tuple[str, str], ...] = ()


# --------------------------------------------------------------------------------------
# Names and words
# --------------------------------------------------------------------------------------


def _time_token(months: float) -> tuple[str, str]:
    if months != 0 and (months * 4) % 1 == 0 and months % 1 != 0:
        return f"{months * 4:g}", "w"
    return f"{months:g}", "mo"


def times_slug(start: float, end: float) -> str:
    """``0-2mo``, ``0-2w``, ``2w-2mo``: the two times for a file name."""
    (a, unit_a), (b, unit_b) = _time_token(start), _time_token(end)
    if start == 0:
        unit_a = unit_b
    if end == 0:
        unit_b = unit_a
    return f"{a}-{b}{unit_a}" if unit_a == unit_b else f"{a}{unit_a}-{b}{unit_b}"


def _stem(*parts: str) -> str:
    stem = "_".join(part for part in parts if part)
    stem = re.sub(r"[^a-z0-9_.-]+", "_", stem.lower())
    return re.sub(r"_+", "_", stem).strip("_") or "chart"


def _lab_words(selection: Selection) -> str:
    return f"{selection.name} ({selection.unit})" if selection.unit else selection.name


def _patients(n: int) -> str:
    return f"{n} patient" if n == 1 else f"{n} patients"


def _subtitle(filtered: FilteredCohort, notes: Sequence[str]) -> str:
    return "\n".join([filtered.sentence, *(note for note in notes if note)])


def _censored_note(cohort: Cohort, analyte: str, rule: str) -> str:
    if cohort.n_censored(analyte) == 0:
        return ""
    text = CENSORED_RULES[rule]
    return text[0].upper() + text[1:] + "."


# --------------------------------------------------------------------------------------
# Data for the charts
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Pairs:
    frame: pd.DataFrame  # patient, baseline, follow_up, change
    missing: tuple[tuple[str, str], ...]


def _censored_cells(cohort: Cohort, analyte: str, rule: str) -> dict[tuple[str, float], str]:
    """(patient, time) -> '<5' for the censored values a rule leaves out."""
    if rule != "exclude":
        return {}
    labs = cohort.labs
    rows = labs[(labs["analyte"] == analyte) & (labs["censored"] != "")]
    return {
        (str(pid), float(time)): f"{mark}{value:g}"
        for pid, time, mark, value in zip(
            rows["patient_id"], rows["time"], rows["censored"], rows["value"], strict=True
        )
    }


def _pairs(cohort: Cohort, selection: Selection, censored: str) -> _Pairs:
    matrix = cohort.lab_matrix(selection.analyte, censored)
    baseline = matrix[selection.baseline]
    follow_up = matrix[selection.follow_up]
    missing = []
    censored_cells = _censored_cells(cohort, selection.analyte, censored)
    incomplete = matrix.index[baseline.isna() | follow_up.isna()]
    for patient in incomplete:
        gaps = [
            time
            for time, value in (
                (selection.baseline, baseline[patient]),
                (selection.follow_up, follow_up[patient]),
            )
            if math.isnan(value)
        ]
        if not gaps:
            continue
        words = " or ".join(format_time(time) for time in gaps)
        reason = f"no {words} {selection.name}"
        limits = [censored_cells.get((str(patient), float(t)), "") for t in gaps]
        limits = [limit for limit in limits if limit]
        if limits:
            reason += f" (censored value {', '.join(limits)} left out)"
        missing.append((str(patient), reason))
    keep = baseline.notna() & follow_up.notna()
    frame = pd.DataFrame(
        {
            "patient": [str(p) for p in matrix.index[keep]],
            "baseline": baseline[keep].to_numpy(dtype=float),
            "follow_up": follow_up[keep].to_numpy(dtype=float),
        }
    )
    frame["change"] = frame["follow_up"] - frame["baseline"]
    return _Pairs(frame, tuple(missing))


#: Above this many patients, per-patient lines are drawn for a random sample of them
#: (a chart of 10,000 lines is unreadable and takes a minute to render); every
#: statistic on the chart still uses all patients.
LINES_MAX = 200


def _thin(frame: pd.DataFrame, column: str = "patient") -> tuple[pd.DataFrame, str]:
    """At most :data:`LINES_MAX` patients' rows (fixed seed), and a note saying so."""
    patients = pd.unique(frame[column])
    if len(patients) <= LINES_MAX:
        return frame, ""
    chosen = set(pd.Series(patients).sample(LINES_MAX, random_state=20130601))
    note = (
        f"Lines: a random {LINES_MAX:,} of {len(patients):,} patients, for legibility; "
        "every statistic uses all of them."
    )
    return frame[frame[column].isin(chosen)], note


def _require_pairs(pairs: _Pairs, selection: Selection, chart: str, needed: int) -> None:
    n = len(pairs.frame)
    if n >= needed:
        return
    have = "No patient" if n == 0 else ("Only 1 patient" if n == 1 else f"Only {n} patients")
    verb = "has" if n <= 1 else "have"
    raise AnalysisError(
        f"{have} in this selection {verb} both a {format_time(selection.baseline)} and a "
        f"{format_time(selection.follow_up)} {selection.name} value; the {chart} needs at "
        f"least {needed}."
    )


def _threshold_rules(
    cohort: Cohort, selection: Selection, patients: Sequence[str], thresholds: Thresholds
) -> tuple[list[tuple[float, str]], str]:
    """Distinct clinical thresholds of the charted patients, labelled, and a note."""
    if selection.analyte not in ("mcv", "hgb"):
        return [], ""
    info = cohort.patients.reindex(list(patients))
    kind = "Microcytosis" if selection.analyte == "mcv" else "Anemia"
    sex_words = {"F": "female", "M": "male"}
    applied: dict[float, int] = {}
    for age, sex in zip(info["age"], info["sex"], strict=True):
        if age is None or (isinstance(age, float) and math.isnan(age)):
            continue
        if selection.analyte == "mcv":
            value = thresholds.microcytosis_threshold(float(age))
        else:
            value = thresholds.anemia_threshold(float(age), sex_words.get(sex))
        if value is not None:
            applied[float(value)] = applied.get(float(value), 0) + 1
    if not applied:
        return [], ""
    factor = unit_factor(selection.analyte, selection.unit)
    if factor is None:  # thresholds are in g/dL and fL: not drawn on an unknown unit
        return [], (
            f"No threshold drawn: {selection.name} is in '{selection.unit}', which cannot be "
            f"converted to {conventional_unit(selection.analyte)}."
        )
    applied = {value * factor: count for value, count in applied.items()}
    n = len(patients)
    unit = f" {selection.unit}" if selection.unit else ""
    rules = []
    for value in sorted(applied):
        label = f"{kind}: {selection.name} < {value:.4g}{unit}"
        if applied[value] != n:
            label += f" (applies to {applied[value]} of {n})"
        rules.append((value, label))
    source = "defaults" if thresholds.is_default() else "user-edited"
    note = (
        f"Dashed line{'s' if len(rules) > 1 else ''}: {kind.lower()} threshold for these "
        f"patients' age{' and sex' if selection.analyte == 'hgb' else ''} ({source}; "
        "reference ranges differ between laboratories)."
    )
    return rules, note


def _summary_by_time(long: pd.DataFrame, confidence: float) -> pd.DataFrame:
    rows = []
    for time, values in long.groupby("time")["value"]:
        array = values.to_numpy(dtype=float)
        n = len(array)
        mean = float(array.mean())
        low = high = math.nan
        if n >= 2:
            half = (
                float(stats.t.ppf(0.5 + confidence / 2.0, n - 1))
                * float(array.std(ddof=1))
                / math.sqrt(n)
            )
            low, high = mean - half, mean + half
        rows.append({"time": float(time), "n": n, "mean": mean, "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows)


def _long_values(cohort: Cohort, analyte: str, censored: str) -> tuple[pd.DataFrame, tuple]:
    matrix = cohort.lab_matrix(analyte, censored)
    name = cohort.analytes[analyte].name
    missing = tuple(
        (str(patient), f"no {name} value at any time")
        for patient in matrix.index[matrix.isna().all(axis=1)]
    )
    long = matrix.stack().rename("value").reset_index()
    long.columns = ["patient", "time", "value"]
    long["patient"] = long["patient"].astype(str)
    return long.dropna(subset=["value"]).reset_index(drop=True), missing


# --------------------------------------------------------------------------------------
# The charts
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FigureContext:
    """Everything a chart builder reads, handed to it explicitly.

    Attributes
    ----------
    filtered : FilteredCohort
        The patients and the sentence describing the filter (the subtitle's first line).
    selection : Selection
        The lab and its two times.
    analysis : AnalysisSettings
        Levels, censored rule, age cut-off and thresholds.
    options : ChartOptions
        Colour, order, direction, band and forest-plot subgroups.
    notes : tuple of str
        Extra subtitle lines (the thesis figures say they are redrawn).
    prefix : str
        Start of the file-name stem (``thesis-fig1``).
    paired : PairedResult, optional
        The paired result of ``selection`` under ``analysis`` when already computed.
    """

    filtered: FilteredCohort
    selection: Selection
    analysis: AnalysisSettings = field(default_factory=AnalysisSettings)
    options: ChartOptions = field(default_factory=ChartOptions)
    notes: tuple[str, ...] = ()
    prefix: str = ""
    paired: PairedResult | None = None

    @property
    def cohort(self) -> Cohort:
        return self.filtered.cohort

    def pairs(self, chart: str, needed: int) -> _Pairs:
        """The complete pairs; refused when fewer than ``needed``."""
        pairs = _pairs(self.cohort, self.selection, self.analysis.censored)
        _require_pairs(pairs, self.selection, chart, needed)
        return pairs

    def paired_result(self) -> PairedResult:
        """The paired result: the one given, else computed under :attr:`analysis`."""
        if self.paired is not None:
            return self.paired
        return paired_for(
            self.cohort,
            self.selection,
            alpha=self.analysis.alpha,
            confidence=self.analysis.confidence,
            censored=self.analysis.censored,
        )


@dataclass(frozen=True)
class _Drawing:
    """What a builder hands back; :func:`_finish` titles, names and wraps it."""

    text: str
    notes: Sequence[str]
    draw: Callable[[ChartTitle], alt.TopLevelMixin]
    missing: tuple[tuple[str, str], ...]
    stem_extra: Sequence[str] = ()
    times: tuple[float, float] | None = None  # default: baseline and follow-up


@dataclass(frozen=True)
class _ChartKind:
    label: str
    build: Callable[[FigureContext], _Drawing]


_REGISTRY: dict[str, _ChartKind] = {}


def _chart(name: str, label: str) -> Callable:
    """Register a builder under ``name`` (its place in :data:`CHARTS`) and menu ``label``."""

    def register(build: Callable[[FigureContext], _Drawing]) -> Callable:
        _REGISTRY[name] = _ChartKind(label, build)
        return build

    return register


def _finish(name: str, context: FigureContext, drawing: _Drawing) -> Figure:
    """The tail every chart shares: subtitle, censored note, title, file name."""
    selection = context.selection
    censored = _censored_note(context.cohort, selection.analyte, context.analysis.censored)
    subtitle = _subtitle(context.filtered, [*context.notes, *drawing.notes, censored])
    chart = drawing.draw(ChartTitle(drawing.text, subtitle))
    start, end = drawing.times or (selection.baseline, selection.follow_up)
    stem = _stem(
        context.prefix,
        _slug(selection.analyte) or "lab",
        name,
        times_slug(start, end),
        context.filtered.slug,
        *drawing.stem_extra,
    )
    return Figure(name, chart, drawing.text, stem, drawing.missing)


def _flipped(options: ChartOptions) -> str:
    return "flipped" if options.flip else ""


@_chart("change", "Change per patient (bars)")
def _change(context: FigureContext) -> _Drawing:
    selection, options = context.selection, context.options
    pairs = context.pairs("change chart", 1)
    data = pairs.frame
    color_title = None
    if options.color_by is not None:
        groups = split_groups(context.cohort, options.color_by, context.analysis.age_cutoff)
        data = data.assign(group=groups.reindex(data["patient"]).to_numpy())
        color_title = SPLITS[options.color_by]
    text = f"Change in {_lab_words(selection)}, {selection.times_label}, n = {_patients(len(data))}"
    return _Drawing(
        text,
        [],
        lambda title: change_bars(
            data,
            title,
            selection.unit,
            color_by="group" if options.color_by else None,
            color_title=color_title,
            sort=options.sort,
            flip=options.flip,
            band=options.band,
        ),
        pairs.missing,
        [
            f"by-{options.color_by}" if options.color_by else "",
            "waterfall" if options.sort else "",
            _flipped(options),
        ],
    )


@_chart("before-after", "Before and after (a line per patient)")
def _before_after(context: FigureContext) -> _Drawing:
    selection = context.selection
    pairs = context.pairs("before/after chart", 1)
    rules, rule_note = _threshold_rules(
        context.cohort, selection, pairs.frame["patient"].tolist(), context.analysis.thresholds
    )
    text = (
        f"{_lab_words(selection)} at {format_time(selection.baseline)} and "
        f"{format_time(selection.follow_up)}, n = {_patients(len(pairs.frame))}"
    )
    lines, thin_note = _thin(pairs.frame)
    return _Drawing(
        text,
        [rule_note, thin_note],
        lambda title: before_after(
            lines,
            title,
            selection.unit,
            threshold=rules or None,
            baseline_label=format_time(selection.baseline),
            follow_up_label=format_time(selection.follow_up),
            value_title=_lab_words(selection),
        ),
        pairs.missing,
    )


@_chart("trajectory", "Every time point (a line per patient, mean and CI)")
def _trajectory(context: FigureContext) -> _Drawing:
    selection, confidence = context.selection, context.analysis.confidence
    long, missing = _long_values(context.cohort, selection.analyte, context.analysis.censored)
    times = sorted(long["time"].unique())
    if len(times) < 2:
        raise AnalysisError(
            f"{selection.name} has values at fewer than 2 time points in this selection; "
            "a course over time needs at least 2."
        )
    summary = _summary_by_time(long, confidence)
    text = (
        f"{_lab_words(selection)} at every time point, {format_time(times[0])} to "
        f"{format_time(times[-1])}, n = {_patients(long['patient'].nunique())}"
    )
    summary_note = (
        f"Grey: each patient. Colour: mean and t-based {confidence * 100:g} % CI of the "
        "patients with a value at that time (n may differ between times)."
    )
    lines, thin_note = _thin(long)
    return _Drawing(
        text,
        [summary_note, thin_note],
        lambda title: trajectories(
            lines,
            summary,
            title,
            selection.unit,
            value_title=_lab_words(selection),
            confidence=confidence,
        ),
        missing,
        times=(times[0], times[-1]),
    )


@_chart("estimation", "Estimation plot (paired values and mean change)")
def _estimation(context: FigureContext) -> _Drawing:
    selection = context.selection
    pairs = context.pairs("estimation plot", _MIN_PAIRS)
    result = context.paired_result()
    text = (
        f"Change in {_lab_words(selection)}, {selection.times_label}: paired values and "
        f"mean change, n = {result.n_pairs} pairs"
    )
    note = (
        "Right: the mean change with its t-based CI, on the same scale as the left panel, "
        "zero level with the baseline mean."
    )
    lines, thin_note = _thin(pairs.frame)
    return _Drawing(
        text,
        [note, thin_note],
        lambda title: estimation_plot(
            lines,
            result,
            title,
            selection.unit,
            baseline_label=format_time(selection.baseline),
            follow_up_label=format_time(selection.follow_up),
            value_title=_lab_words(selection),
        ),
        pairs.missing,
    )


@_chart("mean-difference", "Change against level (mean-difference plot)")
def _mean_difference(context: FigureContext) -> _Drawing:
    selection, options = context.selection, context.options
    pairs = context.pairs("mean-difference plot", _MIN_PAIRS)
    text = (
        f"Change in {_lab_words(selection)} against its level, {selection.times_label}, "
        f"n = {len(pairs.frame)} pairs"
    )
    note = (
        "Lines: mean change and mean ± 1.96 SD of the changes (where about 95 % of changes "
        "fall if they are roughly normal)."
    )
    return _Drawing(
        text,
        [note],
        lambda title: mean_difference(
            pairs.frame,
            title,
            selection.unit,
            flip=options.flip,
            value_title=_lab_words(selection),
        ),
        pairs.missing,
        [_flipped(options)],
    )


@_chart("qq", "Normal Q–Q plot of the changes")
def _qq(context: FigureContext) -> _Drawing:
    selection = context.selection
    pairs = context.pairs("Q–Q plot", _MIN_QQ_PAIRS)
    result = context.paired_result()
    return _Drawing(
        f"Q–Q plot of the change in {selection.label()}, n = {result.n_pairs} pairs",
        ["Points near the dashed line (mean + SD × z) fit normally distributed changes."],
        lambda title: qq_chart(result.changes, title, selection.unit),
        pairs.missing,
    )


@_chart("forest", "Subgroups (forest plot)")
def _forest(context: FigureContext) -> _Drawing:
    selection, options, analysis = context.selection, context.options, context.analysis
    result = subgroups_for(
        context.cohort,
        selection,
        options.split,
        age_cutoff=analysis.age_cutoff,
        confidence=analysis.confidence,
        censored=analysis.censored,
    )
    frame = result.to_frame()
    split_words = SPLITS[options.split].lower()
    if frame.empty:
        raise AnalysisError(
            f"No patient has both {selection.name} values and a recorded "
            f"{split_words}; there is no subgroup to show."
        )
    text = (
        f"Change in {_lab_words(selection)}, {selection.times_label}, by "
        f"{split_words}: n = {_patients(int(frame['n'].sum()))}"
    )
    notes = [result.sentence(selection.name, selection.unit)]
    if options.flip and result.difference is not None:
        notes[0] += " (Computed on the changes as follow-up − baseline.)"
    if result.excluded_groups:
        notes.append(
            "Not compared: "
            + "; ".join(f"{group} ({why})" for group, why in result.excluded_groups)
        )
    return _Drawing(
        text,
        notes,
        lambda title: forest(
            frame, title, selection.unit, flip=options.flip, confidence=analysis.confidence
        ),
        tuple(result.excluded),
        [f"by-{options.split}", _flipped(options)],
    )


@_chart("power", "Power against number of pairs")
def _power(context: FigureContext) -> _Drawing:
    selection, alpha = context.selection, context.analysis.alpha
    pairs = context.pairs("power curve", _MIN_PAIRS)
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
        f"Power against number of pairs at the observed effect in {selection.label()} "
        f"(d_z = {dz:.2f}), n = {n} pairs"
    ).replace("= -", "= −")
    caveat = [
        f"Two-sided paired t-test at alpha = {alpha:g}, if the true effect equalled "
        "the observed d_z.",
        "The observed effect is itself uncertain at this n: a planning aid, not the study's power.",
    ]
    return _Drawing(
        text,
        caveat,
        lambda title: power_curve_chart(
            curve, "n", "Pairs (n)", title, current=n, current_label=f"this study: {n} pairs"
        ),
        pairs.missing,
    )


#: The charts :func:`make_figure` draws, in menu order (the command line uses these names).
CHARTS: tuple[str, ...] = tuple(_REGISTRY)

#: A plain name for each chart, for menus.
CHART_LABELS: dict[str, str] = {name: kind.label for name, kind in _REGISTRY.items()}


def _resolve(filtered: FilteredCohort, selection: Selection | None) -> Selection:
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
    return _finish(name, context, kind.build(context))


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
        _resolve(filtered, selection),
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
    long, missing = _long_values(cohort, key, censored)
    if long.empty:
        raise AnalysisError(f"No patient in this selection has a {info.name} value.")
    times = sorted(long["time"].unique())
    lab = f"{info.name} ({info.unit})" if info.unit else info.name
    text = (
        f"{lab} in each patient, {format_time(times[0])} to {format_time(times[-1])}, "
        f"n = {_patients(long['patient'].nunique())}"
    )
    subtitle = _subtitle(filtered, [*notes, _censored_note(cohort, key, censored)])
    chart = patient_lines(long, ChartTitle(text, subtitle), info.unit, value_title=lab)
    stem = _stem(
        stem_prefix,
        _slug(key) or "lab",
        "patient-lines",
        times_slug(times[0], times[-1]),
        filtered.slug,
    )
    return Figure("patient-lines", chart, text, stem, missing)


# --------------------------------------------------------------------------------------
# The thesis's figures
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThesisFigure:
    """One published figure: its caption and how to redraw it."""

    number: int
    caption: str
    cohort: str
    analyte: str
    baseline: float
    follow_up: float
    chart: str  # "change" or "patient-lines"
    color_by: str | None = None


#: The thesis's six figures with their published captions (thesis.txt, statistical
#: appendix). Figures 1-5: retrospective cohort, bars of baseline − follow-up per
#: patient; Figure 6: hepcidin of each prospective patient over time.
THESIS_FIGURES: tuple[ThesisFigure, ...] = (
    ThesisFigure(
        1, "Figure 1: Change in MCV 0 to 2 months.", "retrospective", "mcv", 0, 2, "change"
    ),
    ThesisFigure(
        2, "Figure 2: Difference in MCV at 0 and 6 months.", "retrospective", "mcv", 0, 6, "change"
    ),
    ThesisFigure(
        3,
        "Figure 3. Difference in Hemoglobin at 0 and 2 months.",
        "retrospective",
        "hgb",
        0,
        2,
        "change",
    ),
    ThesisFigure(
        4,
        "Figure 4. Difference in Hemoglobin at 0 and 6 months.",
        "retrospective",
        "hgb",
        0,
        6,
        "change",
    ),
    ThesisFigure(
        5,
        "Figure 5. Change in MCV from 0 to 6 months in men and women.",
        "retrospective",
        "mcv",
        0,
        6,
        "change",
        color_by="sex",
    ),
    ThesisFigure(
        6,
        "Figure 6. Change in hepcidin levels while on sirolimus.",
        "prospective",
        "hepcidin",
        0,
        2,
        "patient-lines",
    ),
)


def thesis_figure(number: int, cohort: Cohort) -> Figure:
    """Redraw thesis Figure ``number`` (1-6) from ``cohort``.

    Figures 1-5 keep the thesis's orientation, baseline − follow-up (a fall in MCV is
    a positive bar), and the chart says so; Figure 6 shows each prospective patient's
    hepcidin at every visit.

    Raises
    ------
    AnalysisError
        An unknown figure number, or a cohort without the patients or lab it needs.
    """
    spec = next((figure for figure in THESIS_FIGURES if figure.number == number), None)
    if spec is None:
        raise AnalysisError(f"The thesis has Figures 1 to 6, not Figure {number}.")
    filtered = CohortFilter(cohort=spec.cohort).apply(cohort)
    if filtered.n == 0:
        raise AnalysisError(
            f"Thesis Figure {number} needs patients of the {spec.cohort} cohort; this file has "
            "none (its cohort column must say so)."
        )
    prefix = f"thesis-fig{number}"
    redrawn = f"Thesis Figure {number}, redrawn from this file's values."
    if spec.chart == "patient-lines":
        return patient_lines_figure(
            filtered,
            spec.analyte,
            notes=[f"{redrawn} Each line is one patient."],
            stem_prefix=prefix,
        )
    selection = select(filtered.cohort, spec.analyte, spec.baseline, spec.follow_up)
    orientation = (
        f"As in the thesis, bars show baseline − follow-up: a fall in {selection.name} is a "
        "positive bar."
    )
    context = FigureContext(
        filtered,
        _resolve(filtered, selection),
        options=ChartOptions(flip=True, color_by=spec.color_by),
        notes=(f"{redrawn} {orientation}",),
        prefix=prefix,
    )
    return draw(spec.chart, context)


def thesis_figures(cohort: Cohort) -> list[tuple[Figure, str]]:
    """All six thesis figures from ``cohort``, each with its published caption."""
    return [(thesis_figure(spec.number, cohort), spec.caption) for spec in THESIS_FIGURES]
