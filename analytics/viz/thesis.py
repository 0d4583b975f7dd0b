"""The six figures of the 2013 thesis, redrawn from a cohort.

:data:`THESIS_FIGURES` describes them with their published captions; :func:`thesis_figure`
redraws one from a cohort (the demo cohort in practice), in the thesis's orientation
(baseline − follow-up, so a fall is a positive bar), saying so on the chart.
"""

from __future__ import annotations

from dataclasses import dataclass

from analytics.analysis import select
from analytics.cohort import Cohort
from analytics.errors import AnalysisError
from analytics.filters import CohortFilter
from analytics.settings import ChartOptions
from analytics.viz.figure_base import Figure, FigureContext
from analytics.viz.figures import draw, patient_lines_figure, resolve_selection

__all__ = ["THESIS_FIGURES", "ThesisFigure", "thesis_figure", "thesis_figures"]


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
        resolve_selection(filtered, selection),
        options=ChartOptions(flip=True, color_by=spec.color_by),
        notes=(f"{redrawn} {orientation}",),
        prefix=prefix,
    )
    return draw(spec.chart, context)


def thesis_figures(cohort: Cohort) -> list[tuple[Figure, str]]:
    """All six thesis figures from ``cohort``, each with its published caption."""
    return [(thesis_figure(spec.number, cohort), spec.caption) for spec in THESIS_FIGURES]
