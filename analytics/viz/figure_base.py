"""What every figure shares: the finished :class:`Figure`, the :class:`FigureContext` a
chart builder reads, the :class:`Drawing` it hands back, and :func:`finish`, the one tail
that titles a drawing and names its file.

File names (``filename_stem``) are lab, chart, times (``0-2mo``, ``0-2w``) and the
active filters, only ``[a-z0-9_.-]``: :func:`times_slug` and :func:`file_stem`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import altair as alt
import pandas as pd

from analytics.analysis import Selection, paired_for
from analytics.cohort import CENSORED_RULES, Cohort
from analytics.filters import FilteredCohort
from analytics.filters import slug_part as _slug
from analytics.settings import AnalysisSettings, ChartOptions
from analytics.stats.paired import PairedResult
from analytics.viz.censored import legend_label
from analytics.viz.figure_data import (
    Pairs,
    complete_pairs,
    counts_by_time,
    require_pairs,
    same_patients_throughout,
)
from analytics.viz.style import ChartTitle

__all__ = [
    "Drawing",
    "Figure",
    "FigureContext",
    "censored_label",
    "censored_note",
    "file_stem",
    "finish",
    "lab_words",
    "patients_words",
    "subtitle_text",
    "times_slug",
    "trajectory_notes",
]


@dataclass(frozen=True)
class Figure:
    """A finished chart.

    Attributes
    ----------
    name : str
        The chart's name (one of :data:`analytics.viz.figures.CHARTS`, or ``"patient-lines"``).
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


def file_stem(*parts: str) -> str:
    """The non-empty parts joined by ``_``, lower case, only ``[a-z0-9_.-]``."""
    stem = "_".join(part for part in parts if part)
    stem = re.sub(r"[^a-z0-9_.-]+", "_", stem.lower())
    return re.sub(r"_+", "_", stem).strip("_") or "chart"


def lab_words(selection: Selection) -> str:
    """``MCV (fL)``: the lab's name with its unit, for titles."""
    return f"{selection.name} ({selection.unit})" if selection.unit else selection.name


def patients_words(n: int) -> str:
    """``1 patient``, ``5 patients``."""
    return f"{n} patient" if n == 1 else f"{n} patients"


def subtitle_text(filtered: FilteredCohort, notes: Sequence[str]) -> str:
    """The filter sentence, then each non-empty note, one a line."""
    return "\n".join([filtered.sentence, *(note for note in notes if note)])


def censored_note(cohort: Cohort, analyte: str, rule: str) -> str:
    """How censored values (``<5``) are treated, when the lab has any; else empty."""
    if cohort.n_censored(analyte) == 0:
        return ""
    text = CENSORED_RULES[rule]
    return text[0].upper() + text[1:] + "."


def trajectory_notes(long: pd.DataFrame, confidence: float, complete: bool) -> list[str]:
    """Who the mean line is made of: the same patients throughout, or not (and n each time)."""
    summary = (
        f"Grey: each patient. Colour: mean and t-based {confidence * 100:g} % CI of the "
        "patients with a value at that time (n under each time)."
    )
    if same_patients_throughout(long):
        n = long["patient"].nunique()
        which = "complete cases only" if complete else "every patient has every time point"
        return [summary, f"The same {patients_words(n)} at every time ({which})."]
    return [
        summary,
        f"Different patients at each time: {counts_by_time(long)}.",
        "The mean line compares different groups of patients; choose complete cases only "
        "to follow the same patients.",
    ]


# --------------------------------------------------------------------------------------
# What a builder reads and hands back, and the tail every chart shares
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

    def pairs(self, chart: str, needed: int) -> Pairs:
        """The complete pairs; refused when fewer than ``needed``."""
        pairs = complete_pairs(self.cohort, self.selection, self.analysis.censored)
        require_pairs(pairs, self.selection, chart, needed)
        return pairs

    def paired_result(self) -> PairedResult:
        """The paired result: the one given, else computed under :attr:`analysis`."""
        if self.paired is not None:
            return self.paired
        return paired_for(self.cohort, self.selection, self.analysis)


@dataclass(frozen=True)
class Drawing:
    """What a builder hands back; :func:`finish` titles, names and wraps it."""

    text: str
    notes: Sequence[str]
    draw: Callable[[ChartTitle], alt.TopLevelMixin]
    missing: tuple[tuple[str, str], ...]
    stem_extra: Sequence[str] = ()
    times: tuple[float, float] | None = None  # default: baseline and follow-up


def finish(name: str, context: FigureContext, drawing: Drawing) -> Figure:
    """The tail every chart shares: subtitle, censored note, title, file name."""
    selection = context.selection
    censored = censored_note(context.cohort, selection.analyte, context.analysis.censored)
    subtitle = subtitle_text(context.filtered, [*context.notes, *drawing.notes, censored])
    chart = drawing.draw(ChartTitle(drawing.text, subtitle))
    start, end = drawing.times or (selection.baseline, selection.follow_up)
    stem = file_stem(
        context.prefix,
        _slug(selection.analyte) or "lab",
        name,
        times_slug(start, end),
        context.filtered.slug,
        *drawing.stem_extra,
    )
    return Figure(name, chart, drawing.text, stem, drawing.missing)


def censored_label(context: FigureContext, frame: pd.DataFrame) -> str:
    """The hollow marks' legend entry for the censored values in ``frame`` (pairs, or
    values over time)."""
    if "baseline_censored" in frame:
        marks = [*frame["baseline_censored"].tolist(), *frame["follow_up_censored"].tolist()]
    else:
        marks = frame["censored"].tolist() if "censored" in frame else []
    return legend_label(marks, context.analysis.censored)
