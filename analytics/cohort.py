"""The canonical cohort: patients, their lab values, and how the file was read.

Whatever the layout of the uploaded file (wide or long, CSV or XLSX), the loader
produces one :class:`Cohort`. Every analysis reads from it, so a patient or a lab
value means the same thing on every page and in every export.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .columns import LABS, ColumnRole, canonical_lab, format_time, parse_time
from .errors import AnalysisError

__all__ = [
    "CENSORED_RULES",
    "STANDARD_ATTRIBUTES",
    "Cohort",
    "ExcludedRow",
    "Issue",
    "LabInfo",
    "SourceInfo",
    "ValidationReport",
]

#: Patient attribute columns every cohort has (None where the file has no such column).
STANDARD_ATTRIBUTES = (
    "sex",
    "age",
    "age_group",
    "cohort",
    "iron",
    "epo",
    "reason_for_sirolimus",
    "immunosuppressants",
    "reason_for_transplant",
)

#: How censored values (``<5``, ``>1000``) enter analyses.
CENSORED_RULES = {
    "limit": "censored values (e.g. <5) entered at their limit",
    "half": "values below a detection limit entered at half the limit; above a limit, at the limit",
    "exclude": "censored values (e.g. <5) left out",
}


@dataclass(frozen=True)
class ExcludedRow:
    """An input row that was not used, and why."""

    row: int
    reason: str
    sheet: str = ""

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"row": self.row, "reason": self.reason}
        if self.sheet:
            out["sheet"] = self.sheet
        return out


@dataclass(frozen=True)
class Issue:
    """A problem or remark about the file, located by spreadsheet row and column."""

    severity: str  # "error", "warning" or "note"
    message: str
    row: int | None = None
    column: str | None = None
    sheet: str = ""
    #: A short key naming the sort of problem (e.g. ``"control_character"``), so that
    #: issues of one sort in one column can be counted together; ``""`` if none.
    kind: str = ""

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"row": self.row, "column": self.column, "message": self.message}
        if self.sheet:
            out["sheet"] = self.sheet
        return out

    def located(self) -> str:
        """``row 12, column 'MCV 2': message``."""
        where = []
        if self.sheet:
            where.append(f"sheet '{self.sheet}'")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        return f"{', '.join(where)}: {self.message}" if where else self.message


@dataclass(frozen=True)
class ValidationReport:
    """What happened to every input row and what to check in the file.

    ``n_rows_in == n_rows_used + len(excluded)`` always holds.
    """

    n_rows_in: int
    n_rows_used: int
    excluded: tuple[ExcludedRow, ...]
    issues: tuple[Issue, ...]
    header_row: int

    @property
    def errors(self) -> tuple[Issue, ...]:
        return tuple(i for i in self.issues if i.severity == "error")

    @property
    def warnings(self) -> tuple[Issue, ...]:
        return tuple(i for i in self.issues if i.severity == "warning")

    @property
    def notes(self) -> tuple[Issue, ...]:
        return tuple(i for i in self.issues if i.severity == "note")

    @property
    def ok(self) -> bool:
        return not self.errors

    def issues_frame(self) -> pd.DataFrame:
        """All issues as a table (severity, sheet, row, column, message)."""
        return pd.DataFrame(
            [
                {
                    "severity": i.severity,
                    "row": i.row,
                    "column": i.column or "",
                    "message": i.message,
                }
                for i in self.issues
            ],
            columns=["severity", "row", "column", "message"],
        ).astype({"row": "Int64"})

    def excluded_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [{"row": e.row, "sheet": e.sheet, "reason": e.reason} for e in self.excluded],
            columns=["row", "sheet", "reason"],
        )


@dataclass(frozen=True)
class SourceInfo:
    """Where the data came from: file name, checksum and how it was read."""

    filename: str
    sha256: str
    how_read: str
    layout: str  # "wide" or "long"
    sheet: str = ""
    sheets: tuple[str, ...] = ()
    is_demo: bool = False


@dataclass(frozen=True)
class LabInfo:
    """A lab in the cohort: canonical key, display name, unit and its time points."""

    key: str
    name: str
    unit: str
    times: tuple[float, ...]
    known: bool = True

    def label(self) -> str:
        return f"{self.name} ({self.unit})" if self.unit else self.name


@dataclass(frozen=True)
class Cohort:
    """Patients and their lab values.

    Attributes
    ----------
    patients
        One row per patient, indexed by ``patient_id`` (text). Columns: the
        :data:`STANDARD_ATTRIBUTES` (``sex`` "F"/"M", ``age`` in years,
        ``age_group`` "pediatric"/"adult" from the file, ``cohort``, ``iron`` and
        ``epo`` True/False, three text columns), then any other attribute columns
        of the file under their own header text. Missing values are None/NaN.
    labs
        One row per lab value: ``patient_id``, ``analyte`` (lab key), ``time``
        (months after sirolimus start), ``value``, ``censored`` ("" for a measured
        value, "<" or ">" for a value beyond a detection limit, ``value`` then
        holding the limit), ``unit``, ``row`` and ``column`` (where it was read).
    analytes
        The labs present, by key.
    """

    patients: pd.DataFrame
    labs: pd.DataFrame
    analytes: dict[str, LabInfo]
    report: ValidationReport
    source: SourceInfo
    mapping: tuple[ColumnRole, ...] = ()
    extra_attributes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def n_patients(self) -> int:
        return len(self.patients)

    def find_analyte(self, name: str) -> str:
        """The key of the lab called ``name`` (key, display name or synonym; any case).

        Raises
        ------
        AnalysisError
            When the cohort has no such lab; the message lists the labs it has.
        """
        wanted = name.strip().lower()
        for key, info in self.analytes.items():
            if wanted in (key.lower(), info.name.lower(), info.label().lower()):
                return key
        spec = canonical_lab(name)
        if spec is not None and spec.key in self.analytes:
            return spec.key
        available = ", ".join(info.name for info in self.analytes.values()) or "none"
        raise AnalysisError(f"No lab called '{name}' in this file. Labs present: {available}.")

    def find_time(self, analyte: str, token: str | float) -> float:
        """The time point (months) of ``analyte`` that ``token`` names (``2``, ``2w``, ...)."""
        info = self.analytes[analyte]
        parsed = (float(token), "") if isinstance(token, (int, float)) else parse_time(str(token))
        if parsed is None:
            raise AnalysisError(f"'{token}' is not a time point (e.g. 0, 2, 2w, month 6).")
        for time in info.times:
            if math.isclose(time, parsed[0]):
                return time
        available = ", ".join(format_time(t) for t in info.times)
        raise AnalysisError(
            f"{info.name} has no values at {format_time(parsed[0])}. Time points: {available}."
        )

    def lab_values(self, analyte: str, censored: str = "limit") -> pd.DataFrame:
        """The lab's values in long form with censored values handled by ``censored``.

        Parameters
        ----------
        censored
            ``"limit"``, ``"half"`` or ``"exclude"`` (see :data:`CENSORED_RULES`).
        """
        if censored not in CENSORED_RULES:
            raise AnalysisError(f"Unknown rule for censored values: {censored!r}.")
        rows = self.labs[self.labs["analyte"] == analyte]
        if censored == "exclude":
            return rows[rows["censored"] == ""]
        if censored == "half":
            rows = rows.copy()
            below = rows["censored"] == "<"
            rows.loc[below, "value"] = rows.loc[below, "value"] / 2.0
        return rows

    def lab_matrix(self, analyte: str, censored: str = "limit") -> pd.DataFrame:
        """Patients × time points of one lab (every patient of the cohort, NaN if missing).

        Columns are the lab's time points in months, ascending.
        """
        rows = self.lab_values(analyte, censored)
        matrix = rows.pivot_table(
            index="patient_id", columns="time", values="value", aggfunc="first"
        )
        times = list(self.analytes[analyte].times)
        matrix = matrix.reindex(index=self.patients.index, columns=times)
        matrix.columns = pd.Index([float(t) for t in times], name="time")
        return matrix.astype(float)

    def n_censored(self, analyte: str | None = None) -> int:
        rows = self.labs if analyte is None else self.labs[self.labs["analyte"] == analyte]
        return int((rows["censored"] != "").sum())

    def subset(self, patient_ids: pd.Index | list[str]) -> Cohort:
        """The same cohort restricted to ``patient_ids`` (order of the cohort kept)."""
        keep = self.patients.index.isin(list(patient_ids))
        patients = self.patients[keep]
        labs = self.labs[self.labs["patient_id"].isin(patients.index)]
        return replace(self, patients=patients, labs=labs)

    def value_counts_by_time(self) -> pd.DataFrame:
        """Number of lab values per lab (rows) and time point (columns)."""
        if self.labs.empty:
            return pd.DataFrame()
        counts = self.labs.groupby(["analyte", "time"]).size().unstack("time", fill_value=0)
        counts = counts.reindex(index=[k for k in self.analytes if k in counts.index])
        counts.index = [self.analytes[k].label() for k in counts.index]
        counts.index.name = "lab"
        counts.columns = [format_time(t) for t in counts.columns]
        return counts.astype(int)


def lab_info(key: str, name: str, unit: str, times: list[float], known: bool) -> LabInfo:
    """Build a :class:`LabInfo`, naming known labs by their canonical display name."""
    spec = LABS.get(key)
    display = spec.name if (spec is not None and known) else name
    return LabInfo(key, display, unit, tuple(sorted(set(times))), known)


def empty_labs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patient_id": pd.Series(dtype=object),
            "analyte": pd.Series(dtype=object),
            "time": pd.Series(dtype=float),
            "value": pd.Series(dtype=float),
            "censored": pd.Series(dtype=object),
            "unit": pd.Series(dtype=object),
            "row": pd.Series(dtype=np.int64),
            "column": pd.Series(dtype=object),
        }
    )
