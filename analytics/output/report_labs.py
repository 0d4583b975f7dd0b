"""The report of every lab: each lab with two or more time points against its baseline.

``report FILE -o report.html`` without ``--analyte`` writes this report. Which times
are compared is decided the way a biostatistician plans it without a prespecified
endpoint:

* **Baseline** is each lab's first time point (before sirolimus).
* **The primary follow-up** is the later time with the most patients measured at
  both times (complete pairs): the comparison that rests on the most patients and is
  least shaped by who happened to be measured. A tie goes to the later time (the
  longer exposure). That comparison gets the full paired result and the figures.
* **Every other time** is compared with baseline too, in the lab's table of time
  points, with Holm's adjustment across those contrasts (the lab's family).
* The primary comparisons of the labs are a family of their own: the summary table
  gives their raw p and Holm-adjusted p across the labs.

The report says so in its opening lines. The same building blocks as the one-lab
report are used (:mod:`analytics.output.report`, :mod:`analytics.output.report_html`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from analytics.analysis import Selection, thesis_table
from analytics.cohort import Cohort
from analytics.errors import AnalysisError
from analytics.filters import FilteredCohort
from analytics.labs import format_time
from analytics.output.figure_files import chart_bytes
from analytics.output.report import (
    _characteristics_section,
    _generated,
    _not_included_section,
    _versions_section,
    file_sections,
    html_document,
)
from analytics.output.report_html import (
    escape,
    fmt_number,
    fmt_p,
    frame_table,
    inline_svg,
    quantity_table,
    table,
)
from analytics.plain import format_interval, format_level
from analytics.stats.characteristics import Characteristics
from analytics.stats.common import holm_adjust
from analytics.stats.paired import PairedResult
from analytics.stats.timecourse import TimecourseResult

__all__ = ["RULE", "LabSection", "labs_report", "most_paired_follow_up"]

#: How the report chooses its comparisons, in the words it prints.
RULE = (
    "Each lab with at least two time points is compared with its first time point "
    "(baseline). The primary follow-up is the later time with the most patients measured "
    "at both times (a tie goes to the later time): it gets the full paired result and the "
    "figures. Every other time against baseline is in the lab's table of time points, "
    "Holm-adjusted within the lab; the labs' primary comparisons are Holm-adjusted "
    "together in the summary."
)

#: The quantities of the paired result shown for each lab (the one-lab report has all).
_LAB_KEYS = (
    "n_pairs",
    "n_excluded",
    "baseline_mean",
    "follow_up_mean",
    "mean_change",
    "sd_change",
    "ci_low",
    "ci_high",
    "t",
    "df",
    "p_two_sided",
    "cohen_dz",
    "wilcoxon_p",
    "wilcoxon_note",
)


def most_paired_follow_up(cohort: Cohort, analyte: str, censored: str = "limit") -> float:
    """The later time with the most complete pairs against the lab's first time.

    Ties go to the later time. ``censored`` is the rule for values beyond a detection
    limit (with ``"exclude"`` they do not make a pair).

    >>> from analytics import load_cohort
    >>> cohort = load_cohort(b"id,MCV 0,MCV 2,MCV 6\\nA,80,79,78\\nB,82,80,\\n", "m.csv")
    >>> most_paired_follow_up(cohort, "mcv")
    2.0
    """
    matrix = cohort.lab_matrix(analyte, censored)
    times = list(matrix.columns)
    if len(times) < 2:
        raise AnalysisError(f"{analyte} has one time point only: nothing to compare.")
    has_baseline = matrix[times[0]].notna()
    pairs = {time: int((has_baseline & matrix[time].notna()).sum()) for time in times[1:]}
    return max(reversed(times[1:]), key=lambda time: pairs[time])


@dataclass(frozen=True)
class LabSection:
    """One lab's part of the report: its primary comparison, time points and figures."""

    selection: Selection
    paired: PairedResult
    timecourse: TimecourseResult | None
    figures: tuple[tuple[str, Any], ...]
    #: The figures' file-name stems, in the same order (for the ZIP).
    stems: tuple[str, ...] = ()


def _reasons(excluded: Sequence[tuple[str, str]]) -> str:
    """``no month 1 value: 20 patients``: patients left out, counted by reason."""
    counts: dict[str, int] = {}
    for _, reason in excluded:
        counts[reason] = counts.get(reason, 0) + 1
    return "; ".join(
        f"{reason}: {n} patient{'s' if n != 1 else ''}" for reason, n in counts.items()
    )


def _summary(sections: Sequence[LabSection]) -> str:
    p_values = [section.paired.p_two_sided for section in sections]
    holm = holm_adjust(np.array(p_values)).tolist()
    rows = []
    for section, adjusted in zip(sections, holm, strict=True):
        selection, paired = section.selection, section.paired
        unit = f" {selection.unit}" if selection.unit else ""
        rows.append(
            [
                selection.name,
                selection.times_label,
                str(paired.n_pairs),
                fmt_number(paired.mean_change, 2) + unit,
                format_interval(paired.ci_low, paired.ci_high, 2, keep_small=True),
                fmt_p(paired.p_two_sided),
                fmt_p(float(adjusted)),
            ]
        )
    level = format_level(sections[0].paired.confidence)
    header = ["lab", "baseline → follow-up", "pairs", "mean change", f"{level} CI"]
    header += ["p (two-sided)", "p (Holm, across the labs)"]
    return (
        '<section id="summary"><h2>Every lab at a glance</h2>'
        + table(header, rows, [False, False, True, True, True, True, True])
        + f'<p class="note">Change = follow-up − baseline, so a fall is negative. Holm family: '
        f"the {len(sections)} primary comparisons listed.</p></section>"
    )


def _contrasts(timecourse: TimecourseResult, unit: str) -> str:
    rows = [
        [
            c.label,
            str(c.n_pairs),
            fmt_number(c.mean_change, 2),
            format_interval(c.ci_low, c.ci_high, 2, keep_small=True),
            fmt_p(c.p_raw),
            fmt_p(c.p_holm),
            _reasons(c.excluded) or (c.note or ""),
        ]
        for c in timecourse.contrasts
    ]
    level = format_level(timecourse.confidence)
    header = ["time", "pairs", f"mean change{unit}", f"{level} CI", "p (raw)", "p (Holm)"]
    numeric = [False, True, True, True, True, True, False]
    return table([*header, "not in this contrast"], rows, numeric) + (
        f'<p class="note">Holm family: {escape(timecourse.family)}.</p>'
    )


def _lab_section(section: LabSection, first_figure: int) -> str:
    selection, paired = section.selection, section.paired
    unit = f" ({selection.unit})" if selection.unit else ""
    title = f"{selection.name}{unit}: {selection.times_label}"
    parts = [
        f'<section id="lab-{escape(selection.analyte)}"><h2>{escape(title)}</h2>',
        f'<p class="result">{escape(paired.sentence(selection.name, selection.unit))}</p>',
        f'<p class="note">Follow-up {escape(format_time(selection.follow_up))}: the time '
        f"with the most patients measured at baseline and then ({paired.n_pairs} pairs).</p>",
        quantity_table(paired.to_frame(), _LAB_KEYS, unit=selection.unit),
    ]
    if section.timecourse is not None:
        parts.append(f"<h3>Every time point against {escape(format_time(selection.baseline))}</h3>")
        parts.append(frame_table(thesis_table(section.timecourse).drop(columns=["months"])))
        parts.append(_contrasts(section.timecourse, unit))
    for number, (caption, chart) in enumerate(section.figures, start=first_figure):
        svg = chart_bytes(chart, "svg").decode("utf-8")
        parts.append(
            f'<figure id="figure-{number}">{inline_svg(svg, number)}'
            f"<figcaption>Figure {number}. {escape(caption)}</figcaption></figure>"
        )
    parts.append("</section>")
    return "".join(parts)


def labs_report(
    cohort: Cohort,
    filtered: FilteredCohort,
    *,
    settings: Mapping[str, Any],
    sections: Sequence[LabSection],
    characteristics: Characteristics | None = None,
    generated_at: datetime | None = None,
    not_included: Sequence[str] = (),
) -> bytes:
    """Every lab against its baseline as one self-contained HTML file (UTF-8 bytes).

    ``sections`` are the labs compared (see :data:`RULE`), in the file's order;
    ``not_included`` names the labs and figures left out and why.
    """
    generated = _generated(generated_at, settings)
    title = "Sirolimus lab-value report: every lab against baseline"
    labs = ", ".join(section.selection.name for section in sections) or "none"
    body = [
        "<header>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">{escape(filtered.sentence)} · {escape(cohort.source.filename)} · '
        f"generated {escape(generated)}</p>",
        f'<p class="lead">Labs compared: {escape(labs)}.</p>',
        f'<p class="note">{escape(RULE)}</p>',
        "</header>",
        *file_sections(cohort, filtered, settings),
    ]
    if characteristics is not None:
        body.append(_characteristics_section(characteristics))
    if sections:
        body.append(_summary(sections))
    number = 1
    for section in sections:
        body.append(_lab_section(section, number))
        number += len(section.figures)
    if not_included:
        body.append(_not_included_section(not_included))
    body.append(_versions_section(settings, generated))
    return html_document(title, body)
