"""Building blocks shared by the statistics modules.

Checking inputs (levels, patient labels, numeric columns, complete pairs), the
one-sample t summary of a vector of changes, mid-ranks with ties, and the
``quantity``/``label``/``value`` frame and JSON dictionary every result returns.
Every refusal is an :class:`~analytics.errors.AnalysisError` worded for a clinician.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from analytics.errors import AnalysisError
from analytics.limits import LIMITS
from analytics.plain import jsonable

__all__ = [
    "MAX_ABS_VALUE",
    "Pairs",
    "TSummary",
    "all_identical",
    "check_level",
    "check_same_patients",
    "complete_pairs",
    "dataclass_dict",
    "describe_excluded",
    "doubled_midranks",
    "float_array",
    "holm_adjust",
    "midranks_and_ties",
    "patient_labels",
    "quantity_frame",
    "refuse_identical",
    "require_pairs",
    "sorted_tie_runs",
    "t_summary",
    "tie_groups",
]

#: Values larger than this in size are refused: their sums and squares could overflow.
MAX_ABS_VALUE = float(LIMITS["max_abs_value"].value)


def dataclass_dict(result: Any) -> dict[str, Any]:
    return {f.name: jsonable(getattr(result, f.name)) for f in fields(result)}


def check_level(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating):
        raise AnalysisError(f"The {name} must be a number between 0 and 1, not {value!r}.")
    if not 0.0 < float(value) < 1.0:
        raise AnalysisError(f"The {name} must lie strictly between 0 and 1, not {value}.")
    return float(value)


def _labels_given(patient_ids: Any) -> list[str] | tuple[str, ...]:
    """The given labels as text; refuses what is not one column of labels.

    A list of texts is taken as it is, without making an array of it (``np.ndim``
    would) or converting each label.
    """
    if isinstance(patient_ids, list | tuple):
        types = set(map(type, patient_ids))  # (C-level: the few types of the labels)
        if types <= {str}:
            return patient_ids
        if all(issubclass(t, str | int | float | np.generic) for t in types):
            return list(map(str, patient_ids))
    if np.ndim(patient_ids) != 1:
        raise AnalysisError("Patient IDs must be a single column of labels.")
    return list(map(str, patient_ids))


def patient_labels(patient_ids: Any, n: int, *templates: Any) -> tuple[str, ...]:
    """Patient labels as strings: given, else a Series index, else 1..n."""
    unique = None
    if patient_ids is None:
        series = [t for t in templates if isinstance(t, pd.Series)]
        if series:
            index = series[0].index
            ids = index.tolist()
            if not pd.api.types.is_string_dtype(index.dtype):
                ids = list(map(str, ids))
            else:
                unique = index.is_unique  # (hashed in C)
        else:
            ids = list(map(str, range(1, n + 1)))
    else:
        ids = _labels_given(patient_ids)
    if len(ids) != n:
        raise AnalysisError(f"There are {len(ids)} patient IDs for {n} values; they must match.")
    if unique if unique is not None else len(set(ids)) == len(ids):
        return tuple(ids)
    seen: set[str] = set()
    for label in ids:  # the first one seen twice
        if label in seen:
            raise AnalysisError(
                f"Patient {label} appears more than once; each row must be one patient."
            )
        seen.add(label)
    return tuple(ids)


def float_array(values: Any, name: str, ids: Sequence[str] | None = None) -> np.ndarray:
    """1-D float array with NaN for missing; refuses text that is not a number."""
    if isinstance(values, pd.DataFrame) or np.ndim(values) != 1:
        raise AnalysisError(f"The {name} values must be a single column of numbers.")
    if isinstance(values, pd.Series) and values.dtype.kind == "f":  # already numbers
        array = values.to_numpy(dtype=float, na_value=np.nan, copy=True)
    elif isinstance(values, np.ndarray) and values.dtype.kind == "f":
        array = np.array(values, dtype=float)
    else:
        array = _numbers(values, name, ids)
    infinite = np.isinf(array)
    if infinite.any():
        position = int(np.flatnonzero(infinite)[0])
        who = f"patient {ids[position]}" if ids is not None else f"row {position + 1}"
        raise AnalysisError(f"The {name} value for {who} is infinite; fix or blank it.")
    huge = np.abs(array) > MAX_ABS_VALUE  # NaN compares False
    if huge.any():
        position = int(np.flatnonzero(huge)[0])
        who = f"patient {ids[position]}" if ids is not None else f"row {position + 1}"
        raise AnalysisError(
            f"The {name} value for {who} ({array[position]:g}) is larger than "
            f"{MAX_ABS_VALUE:.0e} in size, too large to compute with; check the unit and "
            "the column."
        )
    return array


def _numbers(values: Any, name: str, ids: Sequence[str] | None) -> np.ndarray:
    """The values as floats (NaN for missing); refuses text that is not a number."""
    original = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    original = original.reset_index(drop=True)
    numbers = pd.to_numeric(original, errors="coerce")
    bad = numbers.isna() & original.notna()
    if bad.any():
        position = int(np.flatnonzero(bad.to_numpy())[0])
        who = f"patient {ids[position]}" if ids is not None else f"row {position + 1}"
        raise AnalysisError(
            f"The {name} value {original.iloc[position]!r} for {who} is not a number; "
            "fix or blank it."
        )
    return numbers.to_numpy(dtype=float, na_value=np.nan)


def check_same_patients(baseline: Any, follow_up: Any) -> None:
    if (
        isinstance(baseline, pd.Series)
        and isinstance(follow_up, pd.Series)
        and not baseline.index.equals(follow_up.index)
    ):
        raise AnalysisError(
            "The baseline and follow-up columns list different patients (or a different "
            "order); align them by patient before comparing."
        )


@dataclass(frozen=True)
class Pairs:
    """Complete pairs in input order, and the patients left out with the reason."""

    baseline: np.ndarray
    follow_up: np.ndarray
    ids: tuple[str, ...]
    excluded: tuple[tuple[str, str], ...]


def complete_pairs(baseline: Any, follow_up: Any, patient_ids: Any) -> Pairs:
    check_same_patients(baseline, follow_up)
    if np.ndim(baseline) != 1 or np.ndim(follow_up) != 1:
        raise AnalysisError("Baseline and follow-up must each be a single column of numbers.")
    if len(baseline) != len(follow_up):
        raise AnalysisError(
            f"There are {len(baseline)} baseline values but {len(follow_up)} follow-up values; "
            "each patient needs one of each (blank where missing)."
        )
    ids = patient_labels(patient_ids, len(baseline), baseline, follow_up)
    before = float_array(baseline, "baseline", ids)
    after = float_array(follow_up, "follow-up", ids)
    no_before, no_after = np.isnan(before), np.isnan(after)
    missing = np.flatnonzero(no_before | no_after)
    reasons = ("no baseline or follow-up value", "no baseline value", "no follow-up value")
    which = np.where(no_before & no_after, 0, np.where(no_before, 1, 2))[missing]
    labels, why = map(ids.__getitem__, missing.tolist()), map(reasons.__getitem__, which.tolist())
    excluded = tuple(zip(labels, why, strict=True))  # (C-level: no Python step per patient)
    keep = ~(no_before | no_after)
    return Pairs(
        baseline=before[keep],
        follow_up=after[keep],
        ids=tuple(itertools.compress(ids, keep.tolist())),
        excluded=excluded,
    )


def describe_excluded(excluded: Sequence[tuple[str, str]]) -> str:
    return "; ".join(f"{label} ({reason})" for label, reason in excluded)


def require_pairs(n: int, excluded: Sequence[tuple[str, str]], what: str = "value") -> None:
    if n >= 2:
        return
    have = "No patient has" if n == 0 else "Only 1 patient has"
    message = (
        f"{have} both a baseline and a follow-up {what}; a paired comparison needs at least 2."
    )
    if excluded:
        message += f" Excluded: {describe_excluded(excluded)}."
    raise AnalysisError(message)


def all_identical(changes: np.ndarray, scale: float) -> bool:
    spread = float(np.max(changes) - np.min(changes))
    return spread <= 1e-12 * max(scale, 1.0)


def refuse_identical(changes: np.ndarray, scale: float, what: str = "changed by") -> None:
    if not all_identical(changes, scale):
        return
    n = len(changes)
    amount = float(changes[0])
    if amount == 0 or abs(amount) <= 1e-12 * max(scale, 1.0):
        detail = f"None of the {n} patients changed"
    else:
        detail = f"All {n} patients {what} exactly the same amount ({amount:g})"
    raise AnalysisError(
        f"{detail}, so the SD of change is 0 and no t-test, confidence interval or effect "
        "size can be computed. Check the data; if it is right, report the change as it is."
    )


@dataclass(frozen=True)
class TSummary:
    """One-sample t on a vector of changes."""

    n: int
    mean: float
    sd: float
    se: float
    t: float
    df: int
    p_two_sided: float
    p_less: float
    p_greater: float
    ci_low: float
    ci_high: float


def t_summary(changes: np.ndarray, confidence: float, scale: float | None = None) -> TSummary:
    """Paired t on complete-pair changes; refuses n < 2 and SD = 0."""
    changes = np.asarray(changes, dtype=float)
    n = len(changes)
    require_pairs(n, ())
    scale = float(np.max(np.abs(changes))) if scale is None else scale
    refuse_identical(changes, scale)
    mean = float(np.mean(changes))
    sd = float(np.std(changes, ddof=1))
    se = sd / math.sqrt(n)
    df = n - 1
    t = mean / se
    if not all(math.isfinite(x) for x in (mean, sd, t)):  # sums or squares overflowed
        raise AnalysisError(
            "The changes are too large to compute with (their mean or SD is not a finite "
            "number); check the unit and the column of the values."
        )
    # scipy's t distribution is these functions (stats.t.ppf, .cdf, .sf): called directly,
    # without the distribution's argument checks, which cost more than the test itself
    quantile = float(special.stdtrit(df, 0.5 + confidence / 2.0))
    return TSummary(
        n=n,
        mean=mean,
        sd=sd,
        se=se,
        t=t,
        df=df,
        p_two_sided=float(min(1.0, 2.0 * special.stdtr(df, -abs(t)))),
        p_less=float(special.stdtr(df, t)),
        p_greater=float(special.stdtr(df, -t)),
        ci_low=mean - quantile * se,
        ci_high=mean + quantile * se,
    )


def holm_adjust(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment, as R's ``p.adjust(p, "holm")``.

    (statsmodels' ``multipletests(method="holm")`` gives the same numbers but runs a
    full garbage collection on every call, a tenth of a second in a large session.)
    """
    p = np.asarray(p, dtype=float)
    order = np.argsort(p, kind="stable")
    steps = (len(p) - np.arange(len(p))) * p[order]
    adjusted = np.empty_like(p)
    adjusted[order] = np.minimum(np.maximum.accumulate(steps), 1.0)
    return adjusted


def quantity_frame(rows: Sequence[tuple[str, str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "quantity": [key for key, _, _ in rows],
            "label": [label for _, label, _ in rows],
            "value": pd.Series([value for _, _, value in rows], dtype=object),
        }
    )


# --------------------------------------------------------------------------------------
# Mid-ranks with ties (Wilcoxon, Mann–Whitney)
# --------------------------------------------------------------------------------------


def sorted_tie_runs(values: np.ndarray, tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """Stable sort order of ``values`` and the start of each run of ties in it.

    Neighbours in sorted order that differ by <= ``tolerance`` are tied (chained).
    """
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    breaks = np.flatnonzero(np.diff(ordered) > tolerance) + 1
    return order, np.concatenate(([0], breaks)).astype(np.int64)


def tie_groups(magnitudes: np.ndarray, tolerance: float) -> list[np.ndarray]:
    """Indices of sorted ``magnitudes`` grouped where neighbours differ by <= tolerance."""
    magnitudes = np.asarray(magnitudes, dtype=float)
    if len(magnitudes) == 0:
        return []
    order, starts = sorted_tie_runs(magnitudes, tolerance)
    return np.split(order, starts[1:])


def doubled_midranks(groups: list[np.ndarray], m: int) -> np.ndarray:
    ranks = np.zeros(m, dtype=np.int64)
    if not groups:
        return ranks
    sizes = np.array([len(group) for group in groups], dtype=np.int64)
    last = np.cumsum(sizes)
    first = last - sizes + 1
    ranks[np.concatenate(groups)] = np.repeat(first + last, sizes)  # twice the mid-rank
    return ranks


def midranks_and_ties(values: np.ndarray, tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """Twice the mid-ranks of ``values`` (integers) and the sizes of the tie groups (> 1).

    The same ranks as ``doubled_midranks(tie_groups(values, tolerance), len(values))``
    without building one array per group.
    """
    values = np.asarray(values, dtype=float)
    m = len(values)
    ranks = np.zeros(m, dtype=np.int64)
    if m == 0:
        return ranks, np.zeros(0, dtype=np.int64)
    order, starts = sorted_tie_runs(values, tolerance)
    sizes = np.diff(np.append(starts, m))
    doubled = 2 * starts + sizes + 1  # first + last rank, 1-based: (s + 1) + (s + size)
    ranks[order] = np.repeat(doubled, sizes)
    return ranks, sizes[sizes > 1]
