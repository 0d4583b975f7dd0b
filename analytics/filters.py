"""Patient filters that know how to describe themselves.

One :class:`CohortFilter` yields both the patients kept (:meth:`CohortFilter.apply`)
and the plain-words sentence that stands above every table, chart and export
(:meth:`CohortFilter.describe`), so the two can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .cohort import Cohort
from .errors import AnalysisError
from .limits import LIMITS

__all__ = ["AGE_GROUPS", "CohortFilter", "FilteredCohort", "age_groups"]

AGE_GROUPS = ("pediatric", "adult")
_DEFAULT_CUTOFF = float(LIMITS["default_age_cutoff"].value)


def age_groups(patients: pd.DataFrame, cutoff: float = _DEFAULT_CUTOFF) -> pd.Series:
    """Each patient's age group: the file's ``age_group`` where given, else age < cutoff.

    Notes
    -----
    "Pediatric" in a transplant study is often a care setting rather than an age
    (the thesis's pediatric patients are aged 8-22), so a group written in the file
    always wins; the cut-off only fills in patients without one. Patients with
    neither an age group nor an age get None.
    """
    from_file = patients["age_group"]
    by_age = patients["age"].map(
        lambda age: None if pd.isna(age) else ("pediatric" if age < cutoff else "adult")
    )
    return from_file.where(from_file.notna(), by_age).astype(object)


@dataclass(frozen=True)
class FilteredCohort:
    """A cohort after filtering, with the sentence that describes the filter."""

    cohort: Cohort
    n_total: int
    sentence: str

    @property
    def n(self) -> int:
        return self.cohort.n_patients


@dataclass(frozen=True)
class CohortFilter:
    """Which patients to analyse. ``None`` means "all" for that attribute.

    Attributes
    ----------
    cohort
        A value of the file's ``cohort`` column (case-insensitive).
    age_group
        ``"pediatric"`` or ``"adult"`` (see :func:`age_groups`).
    age_cutoff
        Age in years below which a patient without a recorded age group is pediatric.
    sex
        ``"F"`` or ``"M"``.
    iron, epo
        True (on therapy) or False (not on it).
    """

    cohort: str | None = None
    age_group: str | None = None
    age_cutoff: float = _DEFAULT_CUTOFF
    sex: str | None = None
    iron: bool | None = None
    epo: bool | None = None

    def __post_init__(self) -> None:
        if self.age_group is not None and self.age_group not in AGE_GROUPS:
            raise AnalysisError(f"Age group must be pediatric or adult, not '{self.age_group}'.")
        if self.sex is not None and self.sex not in ("F", "M"):
            raise AnalysisError(f"Sex must be F or M, not '{self.sex}'.")
        if not 0 < self.age_cutoff < 120:
            raise AnalysisError("The age cut-off must be between 0 and 120 years.")

    @property
    def is_active(self) -> bool:
        return any(
            v is not None for v in (self.cohort, self.age_group, self.sex, self.iron, self.epo)
        )

    def mask(self, patients: pd.DataFrame) -> pd.Series:
        """True for the patients the filter keeps; unknown values are not kept."""
        keep = pd.Series(True, index=patients.index)
        if self.cohort is not None:
            keep &= patients["cohort"].map(
                lambda v: v is not None and str(v).lower() == self.cohort.lower()
            )
        if self.age_group is not None:
            keep &= age_groups(patients, self.age_cutoff) == self.age_group
        if self.sex is not None:
            keep &= patients["sex"] == self.sex
        for name in ("iron", "epo"):
            wanted = getattr(self, name)
            if wanted is not None:
                keep &= patients[name].map(lambda v, w=wanted: v is not None and bool(v) == w)
        return keep.astype(bool)

    def phrases(self, patients: pd.DataFrame | None = None) -> list[str]:
        """The active filters as short phrases (``female``, ``on iron therapy``, ...)."""
        out = []
        if self.cohort is not None:
            out.append(f"{self.cohort} cohort")
        if self.age_group is not None:
            source = ""
            if patients is not None:
                has_file_group = patients["age_group"].notna()
                if has_file_group.all():
                    source = " (age group from the file)"
                elif has_file_group.any():
                    source = f" (age group from the file, else age < {self.age_cutoff:g} y)"
                else:
                    source = (
                        f" (age < {self.age_cutoff:g} y)"
                        if self.age_group == "pediatric"
                        else (f" (age ≥ {self.age_cutoff:g} y)")
                    )
            out.append(f"{self.age_group}{source}")
        if self.sex is not None:
            out.append("female" if self.sex == "F" else "male")
        if self.iron is not None:
            out.append("on iron therapy" if self.iron else "not on iron therapy")
        if self.epo is not None:
            out.append("on Epo" if self.epo else "not on Epo")
        return out

    def unknown_counts(self, patients: pd.DataFrame) -> dict[str, int]:
        """Patients left out only because the filtered attribute is not recorded."""
        counts = {}
        checks = {
            "cohort": (self.cohort, patients["cohort"]),
            "age group": (self.age_group, age_groups(patients, self.age_cutoff)),
            "sex": (self.sex, patients["sex"]),
            "iron therapy": (self.iron, patients["iron"]),
            "Epo": (self.epo, patients["epo"]),
        }
        for label, (wanted, values) in checks.items():
            if wanted is not None:
                missing = int(values.isna().sum())
                if missing:
                    counts[label] = missing
        return counts

    def describe(self, patients: pd.DataFrame) -> str:
        """``"9 of 25 patients: pediatric (age group from the file), female"``."""
        n_total = len(patients)
        n = int(self.mask(patients).sum())
        noun = "patient" if n_total == 1 else "patients"
        if not self.is_active:
            return f"All {n_total} {noun} (no filter)"
        sentence = f"{n} of {n_total} {noun}: {', '.join(self.phrases(patients))}"
        unknown = self.unknown_counts(patients)
        if unknown:
            parts = [f"{count} with no recorded {label}" for label, count in unknown.items()]
            sentence += f" ({'; '.join(parts)} left out)"
        return sentence

    def apply(self, cohort: Cohort) -> FilteredCohort:
        """The filtered cohort and its sentence."""
        keep = self.mask(cohort.patients)
        return FilteredCohort(
            cohort=cohort.subset(cohort.patients.index[keep]),
            n_total=cohort.n_patients,
            sentence=self.describe(cohort.patients),
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "cohort": self.cohort,
            "age_group": self.age_group,
            "age_cutoff": self.age_cutoff,
            "sex": self.sex,
            "iron": self.iron,
            "epo": self.epo,
        }
