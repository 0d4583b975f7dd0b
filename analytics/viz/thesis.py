"""The six figures of the 2013 thesis, redrawn from a cohort.

:data:`THESIS_FIGURES` describes them with their published captions; :func:`thesis_figure`
redraws one from a cohort, in the thesis's orientation (baseline − follow-up, so a fall
is a positive bar), saying so on the chart. Only the demo cohort, or a file with the
study's cohorts, labs and time points, can be redrawn: :func:`thesis_gaps` says what a
file lacks, and :func:`thesis_figure` refuses it in those words.
"""

from __future__ import annotations

from dataclasses import dataclass

from analytics.analysis import select
from analytics.cohort import Cohort
from analytics.errors import AnalysisError
from analytics.filters import CohortFilter
from analytics.labs import LABS, format_time
from analytics.settings import ChartOptions
from analytics.viz.figure_base import Figure, FigureContext
from analytics.viz.figures import draw, patient_lines_figure, resolve_selection

__all__ = ["THESIS_FIGURES", "ThesisFigure", "thesis_figure", "thesis_figures", "thesis_gaps"]


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


def _spec(number: int) -> ThesisFigure:
    spec = next((figure for figure in THESIS_FIGURES if figure.number == number), None)
    if spec is None:
        raise AnalysisError(f"The thesis has Figures 1 to 6, not Figure {number}.")
    return spec


def _gaps_of(spec: ThesisFigure, cohort: Cohort) -> list[str]:
    """What ``cohort`` lacks for one figure: its cohort, its lab, or a time point."""
    if cohort.patients["cohort"].isna().all():
        return ["a cohort column (the study's retrospective and prospective cohorts)"]
    patients = CohortFilter(cohort=spec.cohort).apply(cohort).cohort
    if patients.n_patients == 0:
        return [f"patients of the {spec.cohort} cohort"]
    name = LABS[spec.analyte].name
    labs = patients.labs[patients.labs["analyte"] == spec.analyte]
    if labs.empty:
        return [f"{name} values in the {spec.cohort} cohort"]
    have = set(labs["time"].astype(float))
    return [
        f"{name} values at {format_time(time)} in the {spec.cohort} cohort"
        for time in (float(spec.baseline), float(spec.follow_up))
        if time not in have
    ]


def thesis_gaps(cohort: Cohort, numbers: tuple[int, ...] | None = None) -> list[str]:
    """What ``cohort`` lacks to redraw the thesis figures ``numbers`` (default all six).

    Each gap names a cohort, a lab or a time point the file lacks ("MCV values at month 6
    in the retrospective cohort"), once; empty when every figure can be drawn.
    """
    wanted = numbers or tuple(spec.number for spec in THESIS_FIGURES)
    gaps: list[str] = []
    for number in wanted:
        gaps += [gap for gap in _gaps_of(_spec(number), cohort) if gap not in gaps]
    return gaps


def thesis_figure(number: int, cohort: Cohort) -> Figure:
    """Redraw thesis Figure ``number`` (1-6) from ``cohort``.

    Figures 1-5 keep the thesis's orientation, baseline − follow-up (a fall in MCV is
    a positive bar), and the chart says so; Figure 6 shows each prospective patient's
    hepcidin at every visit. The subtitle says whether the values are the demo's
    (synthetic) or the file's.

    Raises
    ------
    AnalysisError
        An unknown figure number, or a cohort without the patients, lab or time points
        the figure needs (each one named).
    """
    spec = _spec(number)
    gaps = _gaps_of(spec, cohort)
    if gaps:
        raise AnalysisError(
            f"Thesis Figure {number} cannot be redrawn from this file: it lacks {'; '.join(gaps)}."
        )
    filtered = CohortFilter(cohort=spec.cohort).apply(cohort)
    prefix = f"thesis-fig{number}"
    source = "the demo cohort's synthetic values" if cohort.source.is_demo else "this file's values"
    redrawn = f"Thesis Figure {number}, redrawn from {source}."
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
        resolve_selection(filtered, selection),
        options=ChartOptions(flip=True, color_by=spec.color_by),
        notes=(f"{redrawn} {orientation}",),
        prefix=prefix,
    )
    return draw(spec.chart, context)


def thesis_figures(cohort: Cohort) -> list[tuple[Figure, str]]:
    """All six thesis figures from ``cohort``, each with its published caption.

    Raises :class:`AnalysisError` naming every gap (:func:`thesis_gaps`) when the cohort
    lacks any cohort, lab or time point of the study: all six or none.
    """
    gaps = thesis_gaps(cohort)
    if gaps:
        raise AnalysisError(
            "The study's figures cannot be redrawn from this file: it lacks "
            + "; ".join(gaps)
            + "."
        )
    return [(thesis_figure(spec.number, cohort), spec.caption) for spec in THESIS_FIGURES]
