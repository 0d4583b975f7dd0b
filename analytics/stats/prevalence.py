"""Prevalence of anemia and of microcytosis, with exact confidence intervals.

Each patient is classified against an age- (and, for anemia from age 15, sex-)
specific threshold: WHO 2011 haemoglobin cut-offs for anemia and age-specific lower
limits of MCV for microcytosis. The thresholds are editable defaults: reference
ranges differ between laboratories, and every result says which were used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, Literal

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from analytics.errors import AnalysisError
from analytics.labs import LABS
from analytics.plain import format_level
from analytics.stats.common import (
    check_level,
    dataclass_dict,
    describe_excluded,
    float_array,
    patient_labels,
    quantity_frame,
)

__all__ = [
    "KINDS",
    "PatientAssessment",
    "PrevalenceResult",
    "Thresholds",
    "prevalence",
    "prevalence_by_time",
]

Kind = Literal["anemia", "microcytosis"]

#: What each kind of prevalence measures: (lab, unit), from the labs' thresholds.
KINDS: dict[str, tuple[str, str]] = {
    kind: (lab.short, lab.unit) for lab in LABS.values() for kind in lab.thresholds
}

_MALE = {"m", "male", "man", "boy"}
_FEMALE = {"f", "female", "woman", "girl"}


@dataclass(frozen=True)
class Thresholds:
    """Editable thresholds for anemia (Hgb, g/dL) and microcytosis (MCV, fL).

    Age bands are half-open, in years: ``[0.5, 5)``, ``[5, 12)``, ``[12, 15)``,
    ``≥ 15`` for anemia; ``[0.5, 2)``, ``[2, 6)``, ``[6, 12)``, ``[12, 18)``, ``≥ 18``
    for MCV. Below 6 months no threshold applies. A patient is affected when the
    value is strictly below the threshold.

    Defaults: WHO 2011 haemoglobin cut-offs for non-pregnant people (6–59 months 11.0;
    5–11 years 11.5; 12–14 years 12.0; women ≥ 15 years 12.0; men ≥ 15 years 13.0) and
    MCV lower limits (2.5th percentile) 6 months–2 years 73, 2–6 years 75, 6–12 years
    78, 12–18 years 80, adults 80 fL.
    """

    anemia_6_59_months: float = 11.0
    anemia_5_11_years: float = 11.5
    anemia_12_14_years: float = 12.0
    anemia_women: float = 12.0
    anemia_men: float = 13.0
    mcv_6_months_2_years: float = 73.0
    mcv_2_6_years: float = 75.0
    mcv_6_12_years: float = 78.0
    mcv_12_18_years: float = 80.0
    mcv_adults: float = 80.0

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise AnalysisError(
                    f"Threshold {field.name} must be a positive number, not {value!r}."
                )

    def is_default(self) -> bool:
        """True when every threshold is the published default."""
        return self == Thresholds()

    def anemia_threshold(self, age: float, sex: str | None) -> float | None:
        """Hgb cut-off (g/dL) for this age (years) and sex ("male"/"female").

        None when no cut-off applies: under 6 months, or 15 and over without a sex.
        """
        if age < 0.5:
            return None
        if age < 5:
            return self.anemia_6_59_months
        if age < 12:
            return self.anemia_5_11_years
        if age < 15:
            return self.anemia_12_14_years
        return {"male": self.anemia_men, "female": self.anemia_women}.get(sex or "")

    def microcytosis_threshold(self, age: float) -> float | None:
        """MCV lower limit (fL) for this age (years); None under 6 months."""
        if age < 0.5:
            return None
        for upper, limit in (
            (2, self.mcv_6_months_2_years),
            (6, self.mcv_2_6_years),
            (12, self.mcv_6_12_years),
            (18, self.mcv_12_18_years),
        ):
            if age < upper:
                return limit
        return self.mcv_adults

    def describe(self, kind: Kind | None = None) -> str:
        """One sentence naming the thresholds and their source (for captions and exports)."""
        t = {field.name: _fmt_threshold(getattr(self, field.name)) for field in fields(self)}
        source = (
            "WHO 2011 haemoglobin cut-offs"
            if self.is_default()
            else "user-edited; the defaults are the WHO 2011 haemoglobin cut-offs"
        )
        anemia = (
            f"Anemia: Hgb below {t['anemia_6_59_months']} g/dL at 6–59 months, "
            f"{t['anemia_5_11_years']} at 5–11 years, {t['anemia_12_14_years']} at 12–14 years, "
            f"{t['anemia_women']} in women and {t['anemia_men']} in men aged 15 or more "
            f"({source}; pregnancy not considered)."
        )
        edited = "" if self.is_default() else "; user-edited"
        microcytosis = (
            f"Microcytosis: MCV below {t['mcv_6_months_2_years']} fL at 6 months–2 years, "
            f"{t['mcv_2_6_years']} at 2–6 years, {t['mcv_6_12_years']} at 6–12 years, "
            f"{t['mcv_12_18_years']} at 12–18 years and {t['mcv_adults']} in adults "
            f"(age-specific lower limits{edited})."
        )
        if kind == "anemia":
            return anemia
        if kind == "microcytosis":
            return microcytosis
        return f"{anemia} {microcytosis}"


def _fmt_threshold(value: float) -> str:
    """Display only: 11 -> "11.0", 11.25 -> "11.25" (never hides an edited decimal)."""
    return f"{value:.1f}" if float(value).is_integer() else f"{value:g}"


@dataclass(frozen=True)
class PatientAssessment:
    """One patient's classification; ``reason`` is set when the patient was excluded."""

    patient_id: str
    age: float | None
    sex: str | None
    value: float | None
    threshold: float | None
    affected: bool | None
    reason: str | None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary."""
        return dataclass_dict(self)


@dataclass(frozen=True)
class PrevalenceResult:
    """Prevalence of anemia or microcytosis with an exact confidence interval.

    Attributes
    ----------
    kind, lab, unit
        "anemia" (Hgb, g/dL) or "microcytosis" (MCV, fL).
    n_patients, n_assessed, n_affected
        Patients given, classified, and below their threshold.
    proportion, confidence, ci_low, ci_high, ci_method
        n_affected / n_assessed and its exact Clopper–Pearson interval.
    excluded : tuple of (patient_id, reason)
        Patients who could not be classified.
    affected_patient_ids : tuple of str
        Patients below their threshold.
    patients : tuple of PatientAssessment
        Every patient, classified or not.
    thresholds_description : str
        :meth:`Thresholds.describe` for this kind.

    Examples
    --------
    Five patients, the exact interval cross-checked against SciPy:

    >>> from scipy import stats
    >>> result = prevalence([10.0, 12.5, 11.0, 13.5, 9.0], [3, 8, 20, 30, 40], list("mffmf"))
    >>> result.n_affected, result.n_assessed, result.affected_patient_ids
    (3, 5, ('1', '3', '5'))
    >>> exact = stats.binomtest(3, 5).proportion_ci(0.95, method="exact")
    >>> bool(np.allclose([result.ci_low, result.ci_high], [exact.low, exact.high]))
    True
    """

    kind: str
    lab: str
    unit: str
    n_patients: int
    n_assessed: int
    n_affected: int
    proportion: float
    confidence: float
    ci_low: float
    ci_high: float
    ci_method: str
    excluded: tuple[tuple[str, str], ...]
    affected_patient_ids: tuple[str, ...]
    patients: tuple[PatientAssessment, ...]
    thresholds_description: str

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary, unrounded."""
        return dataclass_dict(self)

    def to_frame(self) -> pd.DataFrame:
        """One row per quantity: ``quantity``, ``label``, ``value``."""
        level = format_level(self.confidence)
        rows = [
            ("n_assessed", "Patients assessed", self.n_assessed),
            ("n_affected", f"Patients with {self.kind}", self.n_affected),
            ("proportion", f"Proportion with {self.kind}", self.proportion),
            ("ci_low", f"{level} CI, lower ({self.ci_method})", self.ci_low),
            ("ci_high", f"{level} CI, upper ({self.ci_method})", self.ci_high),
            ("excluded", "Excluded patients", describe_excluded(self.excluded) or "none"),
            ("thresholds_description", "Thresholds", self.thresholds_description),
        ]
        return quantity_frame(rows)

    def patients_frame(self) -> pd.DataFrame:
        """One row per patient: id, age, sex, value, threshold, affected, reason."""
        return pd.DataFrame([patient.to_dict() for patient in self.patients])

    def sentence(self) -> str:
        """A short plain reading, e.g. "3 of 10 patients (30 %, 95 % CI 6.7 to 65 %) ..."."""
        noun = "patient" if self.n_assessed == 1 else "patients"
        text = (
            f"{self.n_affected} of {self.n_assessed} {noun} had {self.kind} "
            f"({self.proportion * 100:.0f} %, {format_level(self.confidence)} CI "
            f"{self.ci_low * 100:.1f} to {self.ci_high * 100:.1f} %, exact)"
        )
        if self.excluded:
            text += f"; {len(self.excluded)} not assessed: {describe_excluded(self.excluded)}"
        return text + "."


# --------------------------------------------------------------------------------------


def _sex(value: Any) -> tuple[str | None, str | None]:
    """(normalised sex, problem): ("male", None), (None, "no sex recorded"), ..."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None, "no sex recorded"
    text = str(value).strip().lower()
    if not text:
        return None, "no sex recorded"
    if text in _MALE:
        return "male", None
    if text in _FEMALE:
        return "female", None
    return None, f"sex {str(value).strip()!r} not recognised"


def _assess_one(
    label: str,
    value: float,
    age: float,
    raw_sex: Any,
    kind: str,
    thresholds: Thresholds,
    judge: _Judge | None = None,
) -> PatientAssessment:
    """One patient's assessment (``judge``: the sexes and thresholds read so far)."""
    lab = KINDS[kind][0]
    sex, sex_problem = judge.sex(raw_sex) if judge is not None else _sex(raw_sex)
    shown_value = None if value != value else float(value)  # NaN: no value
    shown_age = None if age != age else float(age)
    if shown_value is None:
        return PatientAssessment(label, shown_age, sex, None, None, None, f"no {lab} value")
    if shown_age is None:
        return PatientAssessment(label, None, sex, shown_value, None, None, "no age")
    if shown_age < 0:
        reason = f"age {shown_age:g} is below zero"
        return PatientAssessment(label, shown_age, sex, shown_value, None, None, reason)
    if judge is not None:
        threshold = judge.threshold(shown_age, sex)
    elif kind == "anemia":
        threshold = thresholds.anemia_threshold(shown_age, sex)
    else:
        threshold = thresholds.microcytosis_threshold(shown_age)
    if threshold is None:
        reason = (
            f"{sex_problem}, needed from age 15"
            if kind == "anemia" and shown_age >= 15
            else "younger than 6 months: no threshold"
        )
        return PatientAssessment(label, shown_age, sex, shown_value, None, None, reason)
    return PatientAssessment(
        label, shown_age, sex, shown_value, threshold, bool(shown_value < threshold), None
    )


def _aligned(
    values: Any, ages: Any, sexes: Any, patient_ids: Any
) -> tuple[tuple[str, ...], Any, Any]:
    """Ages and sexes in the order of ``values`` (by index if all are Series)."""
    if sexes is None:
        sexes = [None] * len(values)
    if isinstance(values, pd.Series) and patient_ids is None:
        try:
            if isinstance(ages, pd.Series):
                ages = ages.reindex(values.index)
            if isinstance(sexes, pd.Series):
                sexes = sexes.reindex(values.index)
        except ValueError as problem:
            raise AnalysisError(
                "A patient appears more than once in the ages or sexes; each must appear once."
            ) from problem
    for name, column in (("ages", ages), ("sexes", sexes)):
        if np.ndim(column) != 1 or len(column) != len(values):
            raise AnalysisError(f"There are {len(values)} values but the {name} do not match them.")
    ids = patient_labels(patient_ids, len(values), values)
    return ids, ages, sexes


def _assess(
    values: Any, ages: Any, sexes: Any, kind: str, thresholds: Thresholds, patient_ids: Any
) -> tuple[PatientAssessment, ...]:
    if kind not in KINDS:
        raise AnalysisError(f'The kind must be "anemia" or "microcytosis", not {kind!r}.')
    if not isinstance(thresholds, Thresholds):
        raise AnalysisError("Thresholds must be a Thresholds object.")
    ids, ages, sexes = _aligned(values, ages, sexes, patient_ids)
    numbers = float_array(values, KINDS[kind][0], ids)
    years = float_array(ages, "age", ids)
    sex_list = sexes.tolist() if hasattr(sexes, "tolist") else list(sexes)
    judge = _Judge(kind, thresholds)
    return tuple(
        map(judge.assess, ids, numbers.tolist(), years.tolist(), sex_list)  # C-level loop
    )


class _Judge:
    """:func:`_assess_one` for one kind and thresholds, each distinct sex and age-and-sex
    read once (a cohort has a few of each, and thousands of patients)."""

    def __init__(self, kind: str, thresholds: Thresholds) -> None:
        self.kind, self.thresholds = kind, thresholds
        self._sexes: dict[tuple[type, Any], tuple[str | None, str | None]] = {}
        self._limits: dict[tuple[float, str | None], float | None] = {}

    def sex(self, raw_sex: Any) -> tuple[str | None, str | None]:
        key = (type(raw_sex), raw_sex)
        try:
            return self._sexes[key]
        except KeyError:
            found = self._sexes[key] = _sex(raw_sex)
            return found
        except TypeError:  # a cell that cannot be a key: read it alone
            return _sex(raw_sex)

    def threshold(self, age: float, sex: str | None) -> float | None:
        key = (age, sex)
        if key not in self._limits:
            if self.kind == "anemia":
                self._limits[key] = self.thresholds.anemia_threshold(age, sex)
            else:
                self._limits[key] = self.thresholds.microcytosis_threshold(age)
        return self._limits[key]

    def assess(self, label: str, value: float, age: float, raw_sex: Any) -> PatientAssessment:
        return _assess_one(label, value, age, raw_sex, self.kind, self.thresholds, self)


def _result(
    patients: tuple[PatientAssessment, ...], kind: str, thresholds: Thresholds, confidence: float
) -> PrevalenceResult:
    assessed = [p for p in patients if p.reason is None]
    affected = tuple(p.patient_id for p in assessed if p.affected)
    n, k = len(assessed), len(affected)
    low, high = proportion_confint(k, n, alpha=1.0 - confidence, method="beta")
    return PrevalenceResult(
        kind=kind,
        lab=KINDS[kind][0],
        unit=KINDS[kind][1],
        n_patients=len(patients),
        n_assessed=n,
        n_affected=k,
        proportion=k / n,
        confidence=confidence,
        ci_low=float(low),
        ci_high=float(high),
        ci_method="exact Clopper–Pearson",
        excluded=tuple((p.patient_id, p.reason) for p in patients if p.reason is not None),
        affected_patient_ids=affected,
        patients=patients,
        thresholds_description=thresholds.describe(kind),  # type: ignore[arg-type]
    )


def prevalence(
    values: Any,
    ages: Any,
    sexes: Any,
    kind: Kind = "anemia",
    thresholds: Thresholds | None = None,
    *,
    patient_ids: Any = None,
    confidence: float = 0.95,
) -> PrevalenceResult:
    """Prevalence of anemia or microcytosis at one time point.

    Parameters
    ----------
    values : 1-D array-like of float
        Hgb (g/dL) for anemia, MCV (fL) for microcytosis; NaN for missing.
    ages : 1-D array-like of float
        Age in years.
    sexes : 1-D array-like or None
        "M"/"F"/"male"/"female" (case and spaces ignored); needed for anemia from
        age 15 only. None when not available.
    kind : {"anemia", "microcytosis"}
        What to count.
    thresholds : Thresholds, optional
        Default :class:`Thresholds` (WHO 2011 and age-specific MCV limits).
    patient_ids : 1-D array-like, optional
        Patient labels; default the index of ``values`` if it is a Series, else 1..n.
        When ``values``, ``ages`` and ``sexes`` are Series and no IDs are given,
        ``ages`` and ``sexes`` are aligned to ``values`` by index.
    confidence : float
        Confidence level of the interval.

    Returns
    -------
    PrevalenceResult

    Raises
    ------
    AnalysisError
        No patient can be assessed; unknown kind; non-numeric values or ages.

    Notes
    -----
    Missing data: a patient without a value, without an age, younger than 6 months,
    or (anemia, age ≥ 15) without a recognised sex is excluded and listed with the
    reason; the proportion is over the patients assessed.

    Proportion :math:`\\hat p = k/n`; exact Clopper–Pearson interval
    :math:`[B(a/2; k, n-k+1), B(1-a/2; k+1, n-k)]` with :math:`B` the beta quantile
    (statsmodels ``proportion_confint(method="beta")``, as R's ``binom.test``).
    """
    confidence = check_level(confidence, "confidence level")
    thresholds = Thresholds() if thresholds is None else thresholds
    patients = _assess(values, ages, sexes, kind, thresholds, patient_ids)
    if not any(p.reason is None for p in patients):
        reasons = describe_excluded([(p.patient_id, p.reason or "") for p in patients])
        raise AnalysisError(
            f"No patient could be assessed for {kind}. {reasons or 'There are no patients.'}"
        )
    return _result(patients, kind, thresholds, confidence)


class _Groups:
    """The patients of :func:`prevalence_by_time` judged once per distinct age and sex
    (what :func:`_assess_one` gives a patient depends on the value only through whether
    there is one and whether it is below the threshold)."""

    def __init__(
        self,
        values: pd.DataFrame,
        ages: Any,
        sexes: Any,
        kind: str,
        thresholds: Thresholds,
    ) -> None:
        self.ok = False
        if kind not in KINDS or not isinstance(thresholds, Thresholds) or values.shape[1] == 0:
            return  # _assess refuses these, as before
        first = values.iloc[:, 0]
        try:
            self.ids, ages, sexes = _aligned(first, ages, sexes, None)
            years = float_array(ages, "age", self.ids)
        except AnalysisError:
            return  # _assess says so, as before
        sex_list = sexes.tolist() if hasattr(sexes, "tolist") else list(sexes)
        keys = [(year, type(sex), sex) for year, sex in zip(years.tolist(), sex_list, strict=True)]
        try:
            self.codes, distinct = pd.factorize(pd.Series(keys, dtype=object))
        except TypeError:  # a sex cell that cannot be a key
            return
        judge = _Judge(kind, thresholds)
        # judged with a value present: a threshold (assessed) or a reason (excluded)
        self.judged = [judge.assess("", 0.0, year, sex) for year, _, sex in distinct]
        self.lab, self.ok = KINDS[kind][0], True

    def at(self, column: pd.Series) -> tuple[int, int, list[tuple[str, str]] | None]:
        """(assessed, affected, excluded with reasons) at one time (None: not grouped)."""
        if not self.ok:
            return 0, 0, None
        values = float_array(column, self.lab, self.ids)
        limits = np.array(
            [np.nan if j.threshold is None else j.threshold for j in self.judged], dtype=float
        )[self.codes]
        present = ~np.isnan(values)
        judged = ~np.isnan(limits)
        assessed = present & judged
        affected = assessed & (values < np.where(judged, limits, np.inf))
        reasons = [j.reason for j in self.judged]
        excluded = [
            (self.ids[i], reasons[code] if present[i] else f"no {self.lab} value")
            for i, code in zip(
                np.flatnonzero(~assessed).tolist(), self.codes[~assessed].tolist(), strict=True
            )
        ]
        return int(assessed.sum()), int(affected.sum()), excluded


def prevalence_by_time(
    values_by_time: pd.DataFrame,
    ages: pd.Series,
    sexes: pd.Series | None,
    kind: Kind = "anemia",
    thresholds: Thresholds | None = None,
    *,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Prevalence at each time point, for a chart or table.

    Parameters
    ----------
    values_by_time : pandas.DataFrame
        Patients (index) × time points (columns); NaN for missing.
    ages, sexes : pandas.Series
        Indexed by patient, aligned to ``values_by_time`` by index; ``sexes`` may be
        None for microcytosis.
    kind, thresholds, confidence
        As in :func:`prevalence`.

    Returns
    -------
    pandas.DataFrame
        One row per time: ``time``, ``n_assessed``, ``n_affected``, ``proportion``,
        ``ci_low``, ``ci_high`` (NaN where nobody could be assessed), ``n_excluded``,
        ``excluded`` (text) and ``thresholds`` (the description).

    Notes
    -----
    Missing data: per time point, as in :func:`prevalence` (the patients assessed can
    differ between times). Ages are used as given at every time point.
    """
    if not isinstance(values_by_time, pd.DataFrame):
        raise AnalysisError(
            "Prevalence by time needs a table: one row per patient, one column per time."
        )
    confidence = check_level(confidence, "confidence level")
    thresholds = Thresholds() if thresholds is None else thresholds
    index = values_by_time.index
    ages = ages.reindex(index) if isinstance(ages, pd.Series) else ages
    sexes = sexes.reindex(index) if isinstance(sexes, pd.Series) else sexes
    rows = []
    groups = _Groups(values_by_time, ages, sexes, kind, thresholds)
    for time in values_by_time.columns:
        assessed, affected, excluded = groups.at(values_by_time[time])
        row: dict[str, Any] = {"time": time}
        if excluded is None:  # not one assessment per distinct patient group
            patients = _assess(values_by_time[time], ages, sexes, kind, thresholds, None)
            excluded = [(p.patient_id, p.reason) for p in patients if p.reason is not None]
            assessed = len(patients) - len(excluded)
            affected = sum(1 for p in patients if p.reason is None and p.affected)
        if assessed:
            low, high = proportion_confint(
                affected, assessed, alpha=1.0 - confidence, method="beta"
            )
            row.update(
                n_assessed=assessed,
                n_affected=affected,
                proportion=affected / assessed,
                ci_low=float(low),
                ci_high=float(high),
            )
        else:
            row.update(n_assessed=0, n_affected=0, proportion=np.nan, ci_low=np.nan, ci_high=np.nan)
        row.update(
            n_excluded=len(excluded),
            excluded=describe_excluded(excluded),
            thresholds=thresholds.describe(kind),
        )
        rows.append(row)
    return pd.DataFrame(rows)
