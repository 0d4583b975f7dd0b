"""What the evidence beyond the p-value needs to know about the lab and the file.

The equivalence margin (the settings' own, else the lab's default in the file's unit),
the biological variation for the reference change value (the settings' CVs, else the
catalogue's, with their source), and which values of a comparison are censored, so the
reference change value judges a ``<5`` as what it is. :func:`analytics.analysis.paired_for`
calls these; the statistics themselves are in :mod:`analytics.stats.equivalence`,
:mod:`analytics.stats.bayes` and :mod:`analytics.stats.rcv`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from analytics.cohort import Cohort
from analytics.errors import AnalysisError
from analytics.labs import LABS, format_time, unit_factor
from analytics.stats.rcv import RcvResult, reference_change

if TYPE_CHECKING:
    from analytics.analysis import Selection
    from analytics.settings import AnalysisSettings
    from analytics.stats.paired import PairedResult

__all__ = [
    "censored_left_out",
    "censored_words",
    "censoring_of_pairs",
    "evidence_lines",
    "margin_for",
    "name_censored",
    "rcv_for",
]


def margin_for(selection: Selection, analysis: AnalysisSettings) -> tuple[float | None, str | None]:
    """The equivalence margin in the file's unit, or None with the reason.

    The settings' margin when given (it is in the file's unit); else the lab's default
    (``Lab.equivalence_margin``, stated in the conventional unit) converted.
    """
    if analysis.margin is not None:
        return float(analysis.margin), None
    lab = LABS.get(selection.analyte)
    unit = f" (in {selection.unit})" if selection.unit else ""
    if lab is None or lab.equivalence_margin is None:
        return None, (
            f"No default equivalence margin is known for {selection.name}: give the change "
            f"too small to matter{unit} (--margin) for the equivalence test."
        )
    factor = unit_factor(selection.analyte, selection.unit)
    if factor is None:
        return None, (
            f"The default equivalence margin is {lab.equivalence_margin:g} {lab.unit}, and this "
            f"file's unit '{selection.unit}' cannot be converted: give a margin{unit} (--margin)."
        )
    return lab.equivalence_margin * factor, None


def _variation(
    selection: Selection, analysis: AnalysisSettings
) -> tuple[float | None, float | None, str]:
    """(CVa, CVi, source): the settings' CVs where set, else the catalogue's."""
    lab = LABS.get(selection.analyte)
    cv_a = analysis.cv_analytical
    cv_i = analysis.cv_within
    catalogue = lab.cv_source if lab is not None and lab.cv_source else ""
    if cv_a is not None and cv_i is not None:
        return cv_a, cv_i, "CVa and CVi set by you"
    mine = []
    if cv_a is None:
        cv_a = lab.cv_analytical if lab is not None else None
    else:
        mine.append("CVa set by you")
    if cv_i is None:
        cv_i = lab.cv_within if lab is not None else None
    else:
        mine.append("CVi set by you")
    return cv_a, cv_i, "; ".join([*mine, catalogue] if catalogue else mine)


def censoring_of_pairs(
    cohort: Cohort, selection: Selection, patient_ids: tuple[str, ...]
) -> list[tuple[tuple[str, float], tuple[str, float]]]:
    """For each patient, the (mark, limit) of the baseline and of the follow-up value.

    Mark ``"<"`` or ``">"`` for a censored value with its detection limit, ``""`` and
    NaN for a measured one.
    """
    labs = cohort.lab_values(selection.analyte, "limit")
    censored = labs[labs["censored"] != ""]
    measured = ("", math.nan)
    if censored.empty:  # the usual case: nothing to look up
        return [(measured, measured)] * len(patient_ids)
    # per time, per patient: the last censored value read wins
    at: dict[float, dict[str, tuple[str, float]]] = {
        selection.baseline: {},
        selection.follow_up: {},
    }
    rows = zip(
        censored["patient_id"].tolist(),
        censored["time"].to_numpy(dtype=float).tolist(),
        censored["censored"].tolist(),
        censored["value"].to_numpy(dtype=float).tolist(),
        strict=True,
    )
    for pid, time, mark, limit in rows:
        if time in at:
            at[time][str(pid)] = (str(mark), limit)
    first, second = at[selection.baseline], at[selection.follow_up]
    return [(first.get(pid, measured), second.get(pid, measured)) for pid in patient_ids]


def censored_left_out(
    cohort: Cohort, analyte: str, times: list[float]
) -> dict[str, list[tuple[float, str]]]:
    """Per patient, the censored values of ``analyte`` at ``times``: (time, ``<5 at month 2``).

    What the ``exclude`` rule leaves out, for naming every one of them.
    """
    labs = cohort.lab_values(analyte, "limit")
    rows = labs[(labs["censored"] != "") & labs["time"].isin(times)].sort_values("time")
    named: dict[str, list[tuple[float, str]]] = {}
    for pid, time, mark, value in zip(
        rows["patient_id"], rows["time"], rows["censored"], rows["value"], strict=True
    ):
        text = f"{mark}{value:g} at {format_time(time)}"
        named.setdefault(str(pid), []).append((float(time), text))
    return named


def name_censored(
    excluded: tuple[tuple[str, str], ...],
    named: dict[str, list[tuple[float, str]]],
    times: list[float] | None = None,
) -> tuple[tuple[str, str], ...]:
    """``excluded`` with each patient's censored values left out named in the reason.

    Only the values at ``times`` (all when None) are named.
    """
    out = []
    for pid, why in excluded:
        values = [text for time, text in named.get(pid, []) if times is None or time in times]
        out.append((pid, f"{why}; {censored_words(values)}" if values else why))
    return tuple(out)


def censored_words(values: list[str]) -> str:
    """``censored value <5 at month 2 left out`` (or ``values ... and ...``).

    Examples
    --------
    >>> censored_words(["<5 at month 0", "<5 at month 2"])
    'censored values <5 at month 0 and <5 at month 2 left out'
    """
    noun = "value" if len(values) == 1 else "values"
    return f"censored {noun} {' and '.join(values)} left out"


def rcv_for(
    cohort: Cohort,
    selection: Selection,
    analysis: AnalysisSettings,
    pairs: tuple[tuple[float, ...], tuple[float, ...], tuple[str, ...]],
) -> tuple[RcvResult | None, str | None]:
    """Each patient's change against the reference change value, or None with the reason.

    ``pairs`` is (baseline values, follow-up values, patient IDs) of the complete pairs
    as analysed (after the censored rule).
    """
    cv_a, cv_i, source = _variation(selection, analysis)
    if cv_a is None or cv_i is None:
        missing = " and ".join(
            name
            for name, value in (("analytical CV", cv_a), ("within-subject CV", cv_i))
            if value is None
        )
        return None, (
            f"No {missing} is known for {selection.name}: give it (--cv-analytical, "
            "--cv-within, in %) for a reference change value."
        )
    baseline, follow_up, ids = pairs
    try:
        result = reference_change(
            baseline,
            follow_up,
            ids,
            cv_a,
            cv_i,
            source,
            censored=censoring_of_pairs(cohort, selection, ids),
        )
    except AnalysisError as problem:
        return None, f"Reference change value not computed: {problem}"
    return result, None


def evidence_lines(result: PairedResult) -> list[str]:
    """Equivalence, Bayes factor and reference change value in plain lines, with the
    patients beyond the reference change value (or not judged) one per line."""
    equivalence, bayes, rcv = result.equivalence, result.bayes, result.rcv
    lines = [
        "Equivalence: " + (equivalence.verdict if equivalence else str(result.equivalence_note))
    ]
    if bayes is not None:
        lines.append(f"Bayes factor: {bayes.verdict} BF10 at {bayes.robustness_line()}.")
    lines.append("Reference change value: " + (rcv.sentence() if rcv else str(result.rcv_note)))
    if rcv is not None:
        lines.append(f"  CVs: {rcv.source}")
        for patient in rcv.patients:
            if patient.beyond or patient.note:
                note = f" ({patient.note})" if patient.note else ""
                lines.append(f"  {patient.patient}: {patient.beyond or 'not beyond'}{note}")
    return lines
