"""Patient characteristics in the layout of the thesis's Tables 1 and 4, summarised."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.cohort import Cohort
from analytics.filters import age_groups
from analytics.limits import LIMITS

__all__ = ["Characteristics", "characteristics"]

_CATEGORICAL = (
    ("reason_for_sirolimus", "Reason for sirolimus"),
    ("immunosuppressants", "Other immunosuppressants"),
)


@dataclass(frozen=True)
class Characteristics:
    """Counts and summaries per cohort column (each cohort, then "All patients").

    ``groups`` maps a column name to a dict of raw numbers (no rounding); use
    :meth:`to_frame` for the display table.
    """

    groups: dict[str, dict[str, object]]
    age_cutoff: float

    def to_dict(self) -> dict[str, object]:
        return {"age_cutoff": self.age_cutoff, "groups": self.groups}

    def to_frame(self) -> pd.DataFrame:
        """The table as text cells: rows are characteristics, columns are groups."""
        columns = {name: _format_group(group) for name, group in self.groups.items()}
        order = list(columns["All patients"])
        frame = pd.DataFrame(columns).reindex(order)
        frame.index.name = "characteristic"
        empty = pd.Series(
            [
                "0 (0 %)" if r.endswith("n (%)") else ("0" if r.endswith(", n") else "—")
                for r in frame.index
            ],
            index=frame.index,
        )
        return frame.apply(lambda column: column.fillna(empty))


def _pct(count: int, n: int) -> str:
    return f"{count} ({100 * count / n:.0f} %)" if n else "0"


def _format_group(group: dict[str, object]) -> dict[str, str]:
    n = int(group["n"])
    rows: dict[str, str] = {"Patients, n": str(n)}
    rows["Female, n (%)"] = _pct(int(group["female"]), n)
    rows["Male, n (%)"] = _pct(int(group["male"]), n)
    if group["sex_unknown"]:
        rows["Sex not recorded, n"] = str(group["sex_unknown"])
    if group["age_n"]:
        sd = group["age_sd"]
        sd_text = f" ± {sd:.1f}" if sd is not None else ""
        rows["Age, years, mean ± SD"] = f"{group['age_mean']:.1f}{sd_text}"
        rows["Age, years, range"] = f"{group['age_min']:g}–{group['age_max']:g}"
    if group["age_unknown"]:
        rows["Age not recorded, n"] = str(group["age_unknown"])
    rows["Pediatric, n (%)"] = _pct(int(group["pediatric"]), n)
    rows["Adult, n (%)"] = _pct(int(group["adult"]), n)
    for key, label in (("iron", "On iron therapy"), ("epo", "On Epo")):
        rows[f"{label}, n (%)"] = _pct(int(group[f"{key}_yes"]), n)
        if group[f"{key}_unknown"]:
            what = {"iron": "Iron therapy", "epo": "Epo"}[key]
            rows[f"{what} not recorded, n"] = str(group[f"{key}_unknown"])
    for key, title in _CATEGORICAL:
        for value, count in dict(group[key]).items():
            rows[f"{title}: {value}, n (%)"] = _pct(int(count), n)
    return rows


def _summarise(patients: pd.DataFrame, cutoff: float) -> dict[str, object]:
    ages = patients["age"].dropna().astype(float)
    groups = age_groups(patients, cutoff)
    summary: dict[str, object] = {
        "n": len(patients),
        "female": int((patients["sex"] == "F").sum()),
        "male": int((patients["sex"] == "M").sum()),
        "sex_unknown": int(patients["sex"].isna().sum()),
        "age_n": len(ages),
        "age_mean": float(ages.mean()) if len(ages) else None,
        "age_sd": float(ages.std(ddof=1)) if len(ages) > 1 else None,
        "age_min": float(ages.min()) if len(ages) else None,
        "age_max": float(ages.max()) if len(ages) else None,
        "age_unknown": int(patients["age"].isna().sum()),
        "pediatric": int((groups == "pediatric").sum()),
        "adult": int((groups == "adult").sum()),
        "iron_yes": int(patients["iron"].map(lambda v: v is True or v is np.True_).sum()),
        "iron_unknown": int(patients["iron"].isna().sum()),
        "epo_yes": int(patients["epo"].map(lambda v: v is True or v is np.True_).sum()),
        "epo_unknown": int(patients["epo"].isna().sum()),
    }
    for key, _ in _CATEGORICAL:
        counts = patients[key].dropna().value_counts()
        ranked = sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))
        summary[key] = {str(k): int(v) for k, v in ranked}
    return summary


def characteristics(
    cohort: Cohort, age_cutoff: float = float(LIMITS["default_age_cutoff"].value)
) -> Characteristics:
    """Summarise patients per cohort (one column each) and overall.

    Notes
    -----
    Age is summarised as mean ± SD (sample SD, n − 1) over patients with a recorded
    age; the age group is the file's where given, else age below ``age_cutoff``.
    Percentages are of all patients in the column, unknowns included in the
    denominator and counted separately.
    """
    patients = cohort.patients
    groups: dict[str, dict[str, object]] = {}
    cohorts = [c for c in patients["cohort"].dropna().unique()]
    if len(cohorts) > 1 or (cohorts and patients["cohort"].isna().any()):
        for name in sorted(cohorts, key=str):
            groups[str(name)] = _summarise(  # the cohort's name as written in the file
                patients[patients["cohort"] == name], age_cutoff
            )
    groups["All patients"] = _summarise(patients, age_cutoff)
    return Characteristics(groups, age_cutoff)
