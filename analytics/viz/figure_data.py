"""The data behind the figures, read from a cohort: complete pairs, values over time,
thresholds to draw, and the patients left out of a chart with the reason.

Every function here returns plain frames (``patient``, ``baseline``, ``follow_up``,
``change``; or ``patient``, ``time``, ``value``) for the chart specs to draw.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analytics.analysis import Selection
from analytics.cohort import Cohort
from analytics.errors import AnalysisError
from analytics.labs import conventional_unit, format_time, unit_factor
from analytics.stats.prevalence import Thresholds

__all__ = [
    "LINES_MAX",
    "Pairs",
    "censored_cells",
    "censored_flag",
    "complete_cases",
    "complete_pairs",
    "counts_by_time",
    "long_values",
    "require_pairs",
    "same_patients_throughout",
    "summary_by_time",
    "thin_lines",
    "threshold_rules",
]


@dataclass(frozen=True)
class Pairs:
    """The patients with both values, and those without one with the reason."""

    frame: pd.DataFrame  # patient, baseline, follow_up, change
    missing: tuple[tuple[str, str], ...]


def censored_cells(cohort: Cohort, analyte: str) -> dict[tuple[str, float], str]:
    """(patient, time) -> the file's mark (``<5``, ``>1000``) of each censored value."""
    labs = cohort.labs
    rows = labs[(labs["analyte"] == analyte) & (labs["censored"] != "")]
    return {
        (str(pid), float(time)): f"{mark}{value:g}"
        for pid, time, mark, value in zip(
            rows["patient_id"], rows["time"], rows["censored"], rows["value"], strict=True
        )
    }


def censored_marks(cohort: Cohort, analyte: str, rule: str) -> dict[tuple[str, float], str]:
    """(patient, time) -> '<5' for the censored values a rule leaves out."""
    return censored_cells(cohort, analyte) if rule == "exclude" else {}


def drawn_marks(cohort: Cohort, analyte: str, rule: str) -> dict[tuple[str, float], str]:
    """(patient, time) -> '<5' for the censored values a rule lets into the charts."""
    return {} if rule == "exclude" else censored_cells(cohort, analyte)


def censored_flag(times: Sequence[tuple[float, str]]) -> str:
    """The tables' ``censored`` column: which time(s) were censored, blank when none.

    >>> censored_flag([(0.0, "<5"), (2.0, ""), (6.0, "<5")])
    'month 0 <5; month 6 <5'
    """
    return "; ".join(f"{format_time(time)} {mark}" for time, mark in times if mark)


def complete_pairs(cohort: Cohort, selection: Selection, censored: str) -> Pairs:
    """Each patient's baseline and follow-up values of the selected lab, and the change;
    a patient missing either is listed with the reason (naming a censored value left out).

    The frame also says which values were censored (``baseline_censored``,
    ``follow_up_censored``: the file's mark, e.g. ``<5``, or ""; ``censored``: the
    times, e.g. ``month 0 <5``), for the hollow marks of the charts."""
    matrix = cohort.lab_matrix(selection.analyte, censored)
    baseline = matrix[selection.baseline]
    follow_up = matrix[selection.follow_up]
    missing = []
    left_out = censored_marks(cohort, selection.analyte, censored)
    no_baseline, no_follow_up = baseline.isna().to_numpy(), follow_up.isna().to_numpy()
    incomplete = np.flatnonzero(no_baseline | no_follow_up)
    labels = matrix.index.to_numpy(dtype=object)[incomplete]
    worded: dict[tuple[bool, bool], tuple[list[float], str]] = {}  # one per pattern of gaps
    for patient, first, second in zip(
        labels, no_baseline[incomplete].tolist(), no_follow_up[incomplete].tolist(), strict=True
    ):
        if (first, second) not in worded:
            pattern = ((selection.baseline, first), (selection.follow_up, second))
            times = [time for time, gone in pattern if gone]
            words = " or ".join(format_time(time) for time in times)
            worded[first, second] = (times, f"no {words} {selection.name}")
        gaps, reason = worded[first, second]
        if not left_out:
            missing.append((str(patient), reason))
            continue
        limits = [left_out.get((str(patient), float(t)), "") for t in gaps]
        limits = [limit for limit in limits if limit]
        if limits:
            reason += f" (censored value {', '.join(limits)} left out)"
        missing.append((str(patient), reason))
    keep = baseline.notna() & follow_up.notna()
    patients = list(map(str, matrix.index[keep].tolist()))
    frame = pd.DataFrame(
        {
            "patient": patients,
            "baseline": baseline[keep].to_numpy(dtype=float),
            "follow_up": follow_up[keep].to_numpy(dtype=float),
        }
    )
    frame["change"] = frame["follow_up"] - frame["baseline"]
    marks = drawn_marks(cohort, selection.analyte, censored)
    if marks:
        before = [marks.get((p, selection.baseline), "") for p in patients]
        after = [marks.get((p, selection.follow_up), "") for p in patients]
    else:  # nothing censored: no look-up per patient
        before = after = [""] * len(patients)
    frame["baseline_censored"] = before
    frame["follow_up_censored"] = after
    frame["censored"] = [
        censored_flag([(selection.baseline, b), (selection.follow_up, f)]) if b or f else ""
        for b, f in zip(before, after, strict=True)
    ]
    return Pairs(frame, tuple(missing))


#: Above this many patients, per-patient lines are drawn for a random sample of them
#: (a chart of 10,000 lines is unreadable and takes a minute to render); every
#: statistic on the chart still uses all patients.
LINES_MAX = 200


def thin_lines(frame: pd.DataFrame, column: str = "patient") -> tuple[pd.DataFrame, str]:
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


def require_pairs(pairs: Pairs, selection: Selection, chart: str, needed: int) -> None:
    """Refuse, in words for a clinician, a ``chart`` with fewer than ``needed`` pairs."""
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


def threshold_rules(
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


def summary_by_time(long: pd.DataFrame, confidence: float) -> pd.DataFrame:
    """Per time point: n, mean and t-based CI (missing for a time with one value)."""
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


def long_values(cohort: Cohort, analyte: str, censored: str) -> tuple[pd.DataFrame, tuple]:
    """Every value of ``analyte`` as ``patient``, ``time``, ``value``, ``censored`` (the
    file's mark of a censored value, e.g. ``<5``, else "") rows, and the patients with
    no value at any time."""
    matrix = cohort.lab_matrix(analyte, censored)
    name = cohort.analytes[analyte].name
    missing = tuple(
        (str(patient), f"no {name} value at any time")
        for patient in matrix.index[matrix.isna().all(axis=1)]
    )
    long = matrix.stack().rename("value").reset_index()
    long.columns = ["patient", "time", "value"]
    long["patient"] = long["patient"].astype(str)
    long = long.dropna(subset=["value"]).reset_index(drop=True)
    marks = drawn_marks(cohort, analyte, censored)
    long["censored"] = [
        marks.get((p, float(t)), "")
        for p, t in zip(long["patient"].tolist(), long["time"].tolist(), strict=True)
    ]
    return long, missing


def counts_by_time(long: pd.DataFrame) -> str:
    """``25 at month 0, 5 at 2 weeks, 20 at month 6``: patients with a value at each time.

    >>> long = pd.DataFrame({"patient": ["A", "B", "A"], "time": [0.0, 0.0, 0.5]})
    >>> counts_by_time(long)
    '2 at month 0, 1 at 2 weeks'
    """
    counts = long.groupby("time")["patient"].nunique().sort_index()
    return ", ".join(f"{int(n)} at {format_time(float(t))}" for t, n in counts.items())


def same_patients_throughout(long: pd.DataFrame) -> bool:
    """True when every time point has values from the same patients."""
    groups = [frozenset(patients) for _, patients in long.groupby("time")["patient"]]
    return len(set(groups)) <= 1


def complete_cases(
    long: pd.DataFrame, name: str
) -> tuple[pd.DataFrame, tuple[tuple[str, str], ...]]:
    """Only the patients with a value at every time point of ``long``, and the others
    with the times they lack (``no MCV value at month 6; complete cases only``)."""
    times = sorted(long["time"].unique())
    present = long.groupby("patient")["time"].apply(lambda t: set(t.tolist()))
    left_out = []
    for patient, have in present.items():
        lacking = [format_time(t) for t in times if t not in have]
        if lacking:
            left_out.append(
                (str(patient), f"no {name} value at {', '.join(lacking)}; complete cases only")
            )
    keep = {patient for patient, have in present.items() if len(have) == len(times)}
    return long[long["patient"].isin(keep)].reset_index(drop=True), tuple(left_out)
