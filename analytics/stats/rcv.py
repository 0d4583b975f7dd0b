"""Which patients changed by more than biological and analytical variation allow?

A lab value moves from one sample to the next even when nothing has changed: the
patient's own day-to-day (within-subject) variation and the assay's (analytical)
variation. The reference change value (RCV) is the change that these two alone would
exceed only 5 % of the time. This module uses the log-normal, asymmetric RCV of
Fokkema et al. (Clin Chem 2006;52:327–8): with the coefficients of variation as
fractions,

    σ = √(ln(1 + CVa² + CVi²)),
    a rise is beyond the RCV when follow-up / baseline > exp(+z·√2·σ),
    a fall is beyond the RCV when follow-up / baseline < exp(−z·√2·σ),

z = 1.96 (95 %, two-sided). A rise must be larger than a fall, in percent, to count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from operator import attrgetter
from typing import Any

import numpy as np
import pandas as pd

from analytics.errors import AnalysisError
from analytics.plain import format_number
from analytics.stats.common import dataclass_dict, quantity_frame

__all__ = [
    "RCV_Z",
    "PatientChange",
    "RcvResult",
    "check_cv",
    "rcv_limits",
    "reference_change",
]

#: z of the 95 % two-sided reference change value, as Fokkema et al. use it.
RCV_Z = 1.96
#: Largest CV (%) accepted: beyond it the figure is surely a typing mistake.
_MAX_CV_PERCENT = 500.0


def check_cv(value: Any, name: str) -> float:
    """A CV in percent as a finite float from 0 to 500; refuses anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise AnalysisError(f"The {name} must be a number (a percentage), not {value!r}.")
    number = float(value)
    if not (math.isfinite(number) and 0 <= number <= _MAX_CV_PERCENT):
        raise AnalysisError(
            f"The {name} must be a percentage from 0 to {_MAX_CV_PERCENT:g}, not {value}."
        )
    return number


def rcv_limits(cv_analytical: float, cv_within: float, z: float = RCV_Z) -> tuple[float, float]:
    """The (rise, fall) reference change values in percent for CVs given in percent.

    Examples
    --------
    Hemoglobin with CVa 1.4 % and CVi 2.8 %:

    >>> rise, fall = rcv_limits(1.4, 2.8)
    >>> round(rise, 2), round(fall, 2)
    (9.06, -8.31)
    """
    a = check_cv(cv_analytical, "analytical CV") / 100.0
    i = check_cv(cv_within, "within-subject CV") / 100.0
    if a == 0 and i == 0:
        raise AnalysisError(
            "The analytical and the within-subject CV cannot both be 0: every change "
            "would then count as beyond the reference change value."
        )
    sigma = math.sqrt(math.log1p(a * a + i * i))
    spread = z * math.sqrt(2.0) * sigma
    return (math.exp(spread) - 1.0) * 100.0, (math.exp(-spread) - 1.0) * 100.0


@dataclass(frozen=True)
class PatientChange:
    """One patient's change in percent and whether it is beyond the RCV.

    ``beyond`` is ``"rise"``, ``"fall"`` or None. ``judged`` is False when the change
    could not be judged (a censored value whose true size decides it, or a value of 0
    or below); ``note`` then says why. ``percent_change`` is None when a value is 0 or
    below.
    """

    patient: str
    baseline: float
    follow_up: float
    percent_change: float | None
    beyond: str | None
    judged: bool
    note: str | None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary."""
        return dataclass_dict(self)


@dataclass(frozen=True)
class RcvResult:
    """The reference change value of a lab and each patient's change against it.

    Attributes
    ----------
    cv_analytical, cv_within : float
        Analytical and within-subject biological CV, in percent.
    source : str
        Where the CVs come from.
    z : float
        1.96 (95 %, two-sided).
    rise_limit_percent, fall_limit_percent : float
        A change above the first or below the second (negative) is beyond the RCV.
    patients : tuple of PatientChange
        Every complete pair, in input order.
    n_rise, n_fall, n_undecided
        Patients beyond the RCV upwards and downwards, and those whose change could
        not be judged (a censored or non-positive value).
    """

    cv_analytical: float
    cv_within: float
    source: str
    z: float
    rise_limit_percent: float
    fall_limit_percent: float
    patients: tuple[PatientChange, ...]
    n_rise: int
    n_fall: int
    n_undecided: int

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary (patients as a list of objects)."""
        return dataclass_dict(self)

    def to_frame(self) -> pd.DataFrame:
        """One row per patient: patient, baseline, follow-up, % change, beyond, note."""
        if not self.patients:
            return pd.DataFrame([])
        names = [f.name for f in fields(PatientChange)]
        # the table of each patient's to_dict, without the dataclass machinery once per
        # patient; to_dict writes an infinite number as None, which the table reads as NaN
        rows = list(map(attrgetter(*names), self.patients))
        frame = pd.DataFrame.from_records(rows, columns=names)
        for name in ("baseline", "follow_up", "percent_change"):
            if frame[name].dtype.kind == "f" and np.isinf(frame[name].to_numpy()).any():
                frame[name] = frame[name].where(~np.isinf(frame[name].to_numpy()), np.nan)
        return frame

    def summary_frame(self) -> pd.DataFrame:
        """One row per quantity: ``quantity``, ``label``, ``value``."""
        rows = [
            ("cv_analytical", "Analytical CV (%)", self.cv_analytical),
            ("cv_within", "Within-subject biological CV (%)", self.cv_within),
            ("source", "Source of the CVs", self.source),
            ("rise_limit_percent", "Reference change value, rise (%)", self.rise_limit_percent),
            ("fall_limit_percent", "Reference change value, fall (%)", self.fall_limit_percent),
            ("n_rise", "Patients with a rise beyond the RCV", self.n_rise),
            ("n_fall", "Patients with a fall beyond the RCV", self.n_fall),
            ("n_undecided", "Patients whose change could not be judged", self.n_undecided),
        ]
        return quantity_frame(rows)

    def count_sentence(self) -> str:
        """``2 of 5 patients changed beyond biological variation (RCV +3.47 % / −3.35 %).``

        Counted among the patients whose change could be judged; those that could not
        (a censored value, a value of 0) are counted after a semicolon.
        """
        rise = format_number(self.rise_limit_percent, digits=3, signed=True)
        fall = format_number(self.fall_limit_percent, digits=3, signed=True)
        judged = len(self.patients) - self.n_undecided
        text = (
            f"{self.n_rise + self.n_fall} of {judged} patients changed beyond biological "
            f"variation (RCV {rise} % / {fall} %)"
        )
        if self.n_undecided:
            text += f"; {self.n_undecided} could not be judged"
        return text + "."

    def sentence(self) -> str:
        """How many patients changed beyond biological variation, in words."""
        n = len(self.patients)
        rise = format_number(self.rise_limit_percent, digits=3)
        fall = format_number(-self.fall_limit_percent, digits=3)
        text = (
            f"{self.n_rise + self.n_fall} of {n} patients changed by more than biological and "
            f"analytical variation allow ({self.n_rise} rose by more than {rise} %, "
            f"{self.n_fall} fell by more than {fall} %; reference change value at 95 %, "
            f"CVa {self.cv_analytical:g} %, CVi {self.cv_within:g} %)"
        )
        if self.n_undecided:
            text += f"; {self.n_undecided} could not be judged (see the notes)"
        return text + "."


#: Where the true value lies for each censoring mark, as multiples of its limit.
_BOUNDS = {"<": (0.0, 1.0), ">": (1.0, math.inf)}


def _value_range(value: float, mark: str, limit: float) -> tuple[float, float]:
    """The range of true values: the value itself, or the side of its limit."""
    if not mark:
        return value, value
    low, high = _BOUNDS[mark]
    return low * limit, high * limit


def _ratio_range(
    values: tuple[float, float], marks: tuple[str, str], limits: tuple[float, float]
) -> tuple[float, float]:
    """The range the true follow-up / baseline ratio can lie in."""
    b_low, b_high = _value_range(values[0], marks[0], limits[0])
    f_low, f_high = _value_range(values[1], marks[1], limits[1])
    low = f_low / b_high if math.isfinite(b_high) else 0.0
    high = f_high / b_low if b_low > 0 else math.inf
    return low, high


def _censored_note(marks: tuple[str, str], judged: bool) -> str:
    which = " and ".join(
        name for name, mark in zip(("baseline", "follow-up"), marks, strict=True) if mark
    )
    values = "values are" if " and " in which else "value is"
    if judged:
        return (
            f"the {which} {values} censored (beyond a detection limit); the change passes "
            "the reference change value whatever the true value"
        )
    return (
        f"the {which} {values} censored (beyond a detection limit): the true change may "
        "or may not pass the reference change value, so it is not judged"
    )


def _classify(
    patient: str,
    values: tuple[float, float],
    marks: tuple[str, str],
    limits: tuple[float, float],
    up: float,
    down: float,
) -> PatientChange:
    baseline, follow_up = values
    if baseline <= 0 or follow_up <= 0:
        note = (
            "a value of 0 or below has no ratio: the log-normal reference change value "
            "needs values above 0"
        )
        return PatientChange(patient, baseline, follow_up, None, None, False, note)
    percent = (follow_up / baseline - 1.0) * 100.0
    low, high = _ratio_range(values, marks, limits)
    beyond = "rise" if low > up else "fall" if high < down else None
    judged = beyond is not None or (high <= up and low >= down)
    note = _censored_note(marks, judged) if any(marks) else None
    return PatientChange(patient, baseline, follow_up, percent, beyond, judged, note)


def _patients(
    ids: list[str],
    before: np.ndarray,
    after: np.ndarray,
    marks: list[Any],
    up: float,
    down: float,
) -> tuple[PatientChange, ...]:
    """Each pair classified: the measured pairs above 0 by whole arrays (the same
    arithmetic as :func:`_classify`), the others one by one."""
    plain = (before > 0) & (after > 0) & np.isfinite(before) & np.isfinite(after)
    plain &= np.fromiter((not (b[0] or f[0]) for b, f in marks), dtype=bool, count=len(ids))
    ratio = np.divide(after, before, out=np.ones_like(after), where=plain)
    percent = ((ratio - 1.0) * 100.0).tolist()
    beyond = np.where(ratio > up, "rise", np.where(ratio < down, "fall", "")).tolist()
    firsts, seconds = before.tolist(), after.tolist()
    out = []
    for i, (pid, is_plain) in enumerate(zip(ids, plain.tolist(), strict=True)):
        if is_plain:
            change = PatientChange(
                pid, firsts[i], seconds[i], percent[i], beyond[i] or None, True, None
            )
        else:
            (mark_b, limit_b), (mark_f, limit_f) = marks[i]
            limits = (float(limit_b), float(limit_f))
            change = _classify(pid, (firsts[i], seconds[i]), (mark_b, mark_f), limits, up, down)
        out.append(change)
    return tuple(out)


def reference_change(
    baseline: Any,
    follow_up: Any,
    patient_ids: Any,
    cv_analytical: float,
    cv_within: float,
    source: str,
    *,
    censored: Any = None,
) -> RcvResult:
    """Classify each patient's change against the log-normal reference change value.

    Parameters
    ----------
    baseline, follow_up : 1-D array-like of float
        The complete pairs (no missing values), as analysed.
    patient_ids : 1-D array-like of str
        One label per pair.
    cv_analytical, cv_within : float
        Analytical and within-subject biological CV, in percent.
    source : str
        Where the CVs come from (stated wherever the RCV is used).
    censored : sequence of ((mark, limit), (mark, limit)), optional
        Per pair, the censoring of the baseline and of the follow-up value: mark
        ``"<"`` or ``">"`` with the detection limit, or ``("", nan)`` for a measured
        value.

    Returns
    -------
    RcvResult

    Notes
    -----
    See the module docstring for the formula. Percent change = (follow-up / baseline
    − 1) × 100, from the values as analysed. A censored value (``<5``) is only known to
    lie below (or above) its limit: the patient is classed as beyond the RCV only when
    every true value consistent with the limits would be (baseline ``<5`` and
    follow-up 40 is a rise beyond an RCV of +150 %); otherwise ``beyond`` is None and
    the note says so. A value of 0 or below has no ratio and is not judged.

    Examples
    --------
    >>> result = reference_change([12.0, 12.0], [13.5, 11.9], ["A", "B"], 1.4, 2.8, "test")
    >>> [(p.patient, round(p.percent_change, 1), p.beyond) for p in result.patients]
    [('A', 12.5, 'rise'), ('B', -0.8, None)]
    """
    rise, fall = rcv_limits(cv_analytical, cv_within)
    up, down = 1.0 + rise / 100.0, 1.0 + fall / 100.0
    before = np.asarray(baseline, dtype=float)
    after = np.asarray(follow_up, dtype=float)
    ids = [str(label) for label in patient_ids]
    if not len(before) == len(after) == len(ids):
        raise AnalysisError("Baseline, follow-up and patient IDs must be of the same length.")
    measured = (("", math.nan), ("", math.nan))
    marks = list(censored) if censored is not None else [measured] * len(ids)
    if len(marks) != len(ids):
        raise AnalysisError("One censoring entry is needed per pair.")
    patients = _patients(ids, before, after, marks, up, down)
    return RcvResult(
        cv_analytical=float(cv_analytical),
        cv_within=float(cv_within),
        source=source,
        z=RCV_Z,
        rise_limit_percent=rise,
        fall_limit_percent=fall,
        patients=patients,
        n_rise=sum(1 for p in patients if p.beyond == "rise"),
        n_fall=sum(1 for p in patients if p.beyond == "fall"),
        n_undecided=sum(1 for p in patients if not p.judged),
    )


def biological_variation_table() -> str:
    """The README's table of biological variation and reference change values per lab.

    Made from the catalogue (:data:`analytics.labs.LABS`); a test keeps the README equal.

    Examples
    --------
    >>> print(biological_variation_table().splitlines()[2])  # doctest: +ELLIPSIS
    | Hemoglobin | 2.8 % | 1.4 % | +9.06 % | −8.31 % | CVi: 39 healthy adults ... |
    """
    from analytics.labs import LABS

    rows = [
        "| lab | within-subject CV (CVi) | analytical CV (CVa) | rise beyond | fall beyond "
        "| source |",
        "|---|---|---|---|---|---|",
    ]
    for lab in LABS.values():
        if lab.cv_within is None or lab.cv_analytical is None:
            continue
        rise, fall = rcv_limits(lab.cv_analytical, lab.cv_within)
        cells = (
            lab.name,
            f"{lab.cv_within:g} %",
            f"{lab.cv_analytical:g} %",
            f"{format_number(rise, digits=3, signed=True)} %",
            f"{format_number(fall, digits=3, signed=True)} %",
            lab.cv_source or "",
        )
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


if __name__ == "__main__":  # python -m analytics.stats.rcv prints the README's table
    print(biological_variation_table())
