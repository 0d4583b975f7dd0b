"""Who is analysed and who is not: the patient flow of one lab, and excluded patients
summarised in a line.

A paired comparison leaves out every patient without both values. Listing twenty
patient IDs in a headline hides the reason, which is usually one fact about a group
("the retrospective cohort has no hepcidin values"). :func:`summarise_excluded`
groups the patients left out by reason and says, when they share it, which cohort
they belong to; :func:`patient_flow` counts the patients at each step from the file to
the complete pairs analysed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from analytics.labs import format_time

if TYPE_CHECKING:  # kept light: the overview imports this module before the statistics
    from analytics.analysis import Selection
    from analytics.cohort import Cohort
    from analytics.filters import FilteredCohort

__all__ = [
    "ExcludedGroup",
    "FlowStep",
    "PatientFlow",
    "excluded_sentence",
    "in_sentence",
    "pair_reasons",
    "patient_flow",
    "summarise_excluded",
]

#: Up to this many patients in a group, their IDs are named in the line itself.
NAMED_UP_TO = 3


def in_sentence(name: str) -> str:
    """A lab's name inside a sentence: ``Hepcidin`` reads ``hepcidin``; ``MCV`` and
    names with other characters (``Na+``) stay as they are.

    >>> in_sentence("Hepcidin"), in_sentence("Transferrin saturation"), in_sentence("MCV")
    ('hepcidin', 'transferrin saturation', 'MCV')
    """
    words = name.split()
    plain = all(word.isalpha() for word in words) and name[1:] == name[1:].lower()
    return name[0].lower() + name[1:] if words and plain else name


def _patients(n: int) -> str:
    return f"{n} patient" if n == 1 else f"{n} patients"


@dataclass(frozen=True)
class ExcludedGroup:
    """Patients left out for one reason.

    Attributes
    ----------
    reason : str
        Plain words that follow "N patients", e.g. ``"without hepcidin values"``.
    patients : tuple of str
        Their IDs, in cohort order.
    cohort : str or None
        The cohort they all belong to, when they share one and the selection holds
        more than one cohort (otherwise saying so would tell nothing).
    whole_cohort : bool
        True when they are every patient of ``cohort`` in the selection.
    """

    reason: str
    patients: tuple[str, ...]
    cohort: str | None = None
    whole_cohort: bool = False

    def sentence(self) -> str:
        """``20 patients without hepcidin values: the retrospective cohort``.

        Examples
        --------
        >>> ExcludedGroup("without MCV at month 2", ("R07",)).sentence()
        '1 patient without MCV at month 2: R07'
        >>> ExcludedGroup("without hepcidin values", ("R01", "R02"), "retro", True).sentence()
        '2 patients without hepcidin values: the retro cohort'
        """
        head = f"{_patients(len(self.patients))} {self.reason}"
        if self.cohort is not None and self.whole_cohort:
            return f"{head}: the {self.cohort} cohort"
        named = ", ".join(self.patients) if len(self.patients) <= NAMED_UP_TO else ""
        if self.cohort is not None:
            place = f"all in the {self.cohort} cohort"
            return f"{head}: {named} ({place})" if named else f"{head}, {place}"
        return f"{head}: {named}" if named else head


def _cohort_of(patients: pd.DataFrame) -> pd.Series:
    """Each patient's cohort as text ('' when not recorded)."""
    if "cohort" not in patients.columns:
        return pd.Series("", index=patients.index, dtype=object)
    return patients["cohort"].map(
        lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v).strip()
    )


def summarise_excluded(
    excluded: Sequence[tuple[str, str]],
    patients: pd.DataFrame,
    reasons: Mapping[str, str] | None = None,
) -> tuple[ExcludedGroup, ...]:
    """Group the patients left out of an analysis by reason, and by cohort where shared.

    Parameters
    ----------
    excluded : sequence of (patient_id, reason)
        As the analyses list them (``PairedResult.excluded``, ``Figure.missing``).
    patients : pandas.DataFrame
        The patients of the selection (the filtered cohort's ``patients``): their
        ``cohort`` column names the group a reason applies to.
    reasons : mapping of patient_id to words, optional
        Plain reasons that replace the listed ones (:func:`pair_reasons`); a patient
        not in it keeps the listed reason, in brackets.

    Returns
    -------
    tuple of ExcludedGroup
        In the order each reason first appears.

    Examples
    --------
    >>> patients = pd.DataFrame({"cohort": ["a", "a", "b"]}, index=["P1", "P2", "P3"])
    >>> groups = summarise_excluded([("P1", "no baseline value"), ("P2", "no baseline value")],
    ...                             patients)
    >>> [group.sentence() for group in groups]
    ['2 patients (no baseline value): the a cohort']
    """
    reasons = reasons or {}
    by_reason: dict[str, list[str]] = {}
    for patient, why in excluded:
        words = reasons.get(str(patient)) or f"({why})"
        by_reason.setdefault(words, []).append(str(patient))
    cohorts = _cohort_of(patients)
    known = cohorts[cohorts != ""]
    several = known.nunique() > 1
    groups = []
    for words, ids in by_reason.items():
        shared = {cohorts.get(pid, "") for pid in ids}
        cohort = next(iter(shared)) if several and len(shared) == 1 and "" not in shared else None
        whole = cohort is not None and int((cohorts == cohort).sum()) == len(ids)
        groups.append(ExcludedGroup(words, tuple(ids), cohort, whole))
    return tuple(groups)


def excluded_sentence(groups: Sequence[ExcludedGroup], what: str = "Not analysed") -> str:
    """The groups in one line: ``Not analysed — 20 patients without hepcidin values: ...``.

    Empty when nobody was left out.
    """
    if not groups:
        return ""
    return f"{what} — " + "; ".join(group.sentence() for group in groups) + "."


def pair_reasons(cohort: Cohort, selection: Selection, censored: str) -> dict[str, str]:
    """Why each patient of ``cohort`` lacks a complete pair, in plain words.

    ``without hepcidin values`` (none at any time), ``without MCV at month 0 or
    month 2``, ``without MCV at month 2``, or ``with a censored MCV value left out``
    (the censored rule "exclude" removed a value the file has). Patients with a
    complete pair are not in the result.
    """
    name = in_sentence(selection.name)
    start, end = format_time(selection.baseline), format_time(selection.follow_up)
    recorded = cohort.lab_matrix(selection.analyte, "limit")
    used = recorded if censored == "limit" else cohort.lab_matrix(selection.analyte, censored)
    lacking = (used[selection.baseline].isna() | used[selection.follow_up].isna()).to_numpy()
    no_start = recorded[selection.baseline].isna().to_numpy()
    no_end = recorded[selection.follow_up].isna().to_numpy()
    nothing = recorded.isna().all(axis=1).to_numpy()
    words = np.select(
        [nothing, no_start & no_end, no_start, no_end],
        [
            f"without {name} values",
            f"without {name} at {start} or {end}",
            f"without {name} at {start}",
            f"without {name} at {end}",
        ],
        default=f"with a censored {name} value left out",
    )
    ids = recorded.index.astype(str).to_numpy()
    return dict(zip(ids[lacking], words[lacking], strict=True))


@dataclass(frozen=True)
class FlowStep:
    """One step of the patient flow: its label, the patients still in, who left here."""

    label: str
    n: int
    left_out: str = ""


@dataclass(frozen=True)
class PatientFlow:
    """The patients of one lab comparison, step by step from the file to the analysis.

    Attributes
    ----------
    selection : Selection
        The lab and its two times.
    steps : tuple of FlowStep
        In the file → after the filters → with the baseline value → with the follow-up
        value too → analysed (complete pairs, after the censored-value rule).
    """

    selection: Selection
    steps: tuple[FlowStep, ...]

    @property
    def n_analysed(self) -> int:
        return self.steps[-1].n

    @property
    def n_in_file(self) -> int:
        return self.steps[0].n

    def to_frame(self) -> pd.DataFrame:
        """``step``, ``patients``, ``left out here``: one row per step."""
        return pd.DataFrame(
            {
                "step": [step.label for step in self.steps],
                "patients": [step.n for step in self.steps],
                "left out here": [step.left_out for step in self.steps],
            }
        )


def patient_flow(filtered: FilteredCohort, selection: Selection, censored: str) -> PatientFlow:
    """Count the patients at each step, from the file to the complete pairs analysed.

    A value beyond a detection limit (``<5``) counts as a value until the last step,
    where the censored rule "exclude" may leave it out.

    Examples
    --------
    >>> from analytics import load_cohort
    >>> from analytics.analysis import select
    >>> from analytics.filters import CohortFilter
    >>> cohort = load_cohort(b"id,sex,MCV 0,MCV 2\\nA,F,80,79\\nB,F,82,\\nC,F,,83\\nD,M,80,78\\n",
    ...                      "mcv.csv")
    >>> filtered = CohortFilter(sex="F").apply(cohort)
    >>> flow = patient_flow(filtered, select(cohort, "mcv", 0, 2), "limit")
    >>> [(step.label, step.n) for step in flow.steps]  # doctest: +NORMALIZE_WHITESPACE
    [('In the file', 4), ('After the filters', 3), ('With MCV at month 0', 2),
     ('With MCV at month 2 too', 1), ('Analysed (complete pairs)', 1)]
    """
    cohort = filtered.cohort
    name = in_sentence(selection.name)
    start, end = format_time(selection.baseline), format_time(selection.follow_up)
    recorded = cohort.lab_matrix(selection.analyte, "limit")
    has_start = recorded[selection.baseline].notna()
    has_both = has_start & recorded[selection.follow_up].notna()
    used = recorded if censored == "limit" else cohort.lab_matrix(selection.analyte, censored)
    analysed = int((used[selection.baseline].notna() & used[selection.follow_up].notna()).sum())
    counts = [filtered.n_total, filtered.n, int(has_start.sum()), int(has_both.sum()), analysed]
    labels = [
        ("In the file", ""),
        ("After the filters", "not matching the filters"),
        (f"With {name} at {start}", f"without {name} at {start}"),
        (f"With {name} at {end} too", f"without {name} at {end}"),
        ("Analysed (complete pairs)", "with a censored value left out"),
    ]
    steps = []
    for i, ((label, why), n) in enumerate(zip(labels, counts, strict=True)):
        left = counts[i - 1] - n if i else 0
        steps.append(FlowStep(label, n, f"{left} {why}" if left else ""))
    return PatientFlow(selection, tuple(steps))
