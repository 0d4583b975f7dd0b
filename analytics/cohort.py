"""The canonical cohort: patients, their lab values, and how the file was read.

Whatever the layout of the uploaded file (wide or long, CSV or XLSX), the loader
produces one :class:`Cohort`. Every analysis reads from it, so a patient or a lab
value means the same thing on every page and in every export.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analytics.errors import AnalysisError
from analytics.labs import LABS, canonical_lab, format_time, parse_time
from analytics.limits import LIMITS
from analytics.packed import pack_frame
from analytics.reading.headers import ColumnRole
from analytics.reading.identifiers import Identifiers
from analytics.reading.windows import WindowedResults

__all__ = [
    "CENSORED_RULES",
    "STANDARD_ATTRIBUTES",
    "Cohort",
    "ExcludedRow",
    "Issue",
    "IssueGroup",
    "IssueLog",
    "LabInfo",
    "SourceInfo",
    "ValidationReport",
    "in_labels",
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
    """An input row that was not used, and why.

    ``kind`` is a short key naming the reason (``"empty_row"``, ``"summary_row"``,
    ``"no_patient_id"``, ``"duplicate_row"`` ...), so excluded rows can be counted by
    reason; ``""`` if none.
    """

    row: int
    reason: str
    sheet: str = ""
    kind: str = ""

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
        if self.kind:
            out["kind"] = self.kind
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


_SEVERITIES = ("error", "warning", "note")


@dataclass(frozen=True)
class IssueGroup:
    """All issues of one severity and kind in one column (and sheet), counted.

    ``issues`` holds the first of them (at most ``issues_kept_per_group``), in the
    order they were found; ``count`` counts all of them; ``first_rows`` are the rows
    of the kept ones.
    """

    severity: str
    kind: str
    column: str | None
    sheet: str
    count: int
    issues: tuple[Issue, ...]

    @property
    def first_rows(self) -> tuple[int, ...]:
        return tuple(i.row for i in self.issues if i.row is not None)

    @property
    def example(self) -> str:
        """The message of the first issue of the group."""
        return self.issues[0].message if self.issues else ""

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "severity": self.severity,
            "kind": self.kind,
            "column": self.column,
            "count": self.count,
            "first_rows": list(self.first_rows),
            "example": self.example,
        }
        if self.sheet:
            out["sheet"] = self.sheet
        return out


class IssueLog:
    """Collects issues while a file is read, keeping memory bounded.

    Issues are grouped by (severity, kind, column, sheet); of each group the first
    ``keep`` are kept whole and the rest only counted. :meth:`add_many` records a
    whole column's worth of one kind at once, building only the kept messages.
    """

    def __init__(self, keep: int | None = None) -> None:
        self.keep = int(LIMITS["issues_kept_per_group"].value) if keep is None else keep
        self._groups: dict[tuple[str, str, str | None, str], list] = {}
        self._order = 0

    def _group(self, key: tuple[str, str, str | None, str]) -> list:
        group = self._groups.get(key)
        if group is None:  # [count, kept [(order, issue)], order of the group]
            group = self._groups[key] = [0, [], len(self._groups)]
        return group

    def add(self, issue: Issue) -> None:
        group = self._group((issue.severity, issue.kind, issue.column, issue.sheet))
        group[0] += 1
        if len(group[1]) < self.keep:
            group[1].append((self._order, issue))
            self._order += 1

    def record(
        self,
        severity: str,
        kind: str,
        message: str,
        row: int | None = None,
        column: str | None = None,
        sheet: str = "",
    ) -> None:
        """Like :meth:`add`, building the :class:`Issue` only if it is kept."""
        group = self._group((severity, kind, column, sheet))
        group[0] += 1
        if len(group[1]) < self.keep:
            group[1].append((self._order, Issue(severity, message, row, column, sheet, kind)))
            self._order += 1

    def add_many(
        self,
        severity: str,
        kind: str,
        column: str | None,
        rows: Sequence[int],
        message: Callable[[int], str],
        sheet: str = "",
    ) -> None:
        """Record one issue per row in ``rows``; ``message(i)`` is the i-th one's text.

        Only the messages of the issues kept are built.
        """
        if len(rows) == 0:
            return
        group = self._group((severity, kind, column, sheet))
        room = max(self.keep - len(group[1]), 0)
        for i in range(min(room, len(rows))):
            issue = Issue(severity, message(i), int(rows[i]), column, sheet, kind)
            group[1].append((self._order, issue))
            self._order += 1
        group[0] += len(rows)

    def room(self, severity: str, kind: str, column: str | None, sheet: str = "") -> int:
        """How many more issues of the group would be kept whole (the rest only counted)."""
        group = self._groups.get((severity, kind, column, sheet))
        return max(self.keep - (len(group[1]) if group is not None else 0), 0)

    def count_more(
        self, severity: str, kind: str, column: str | None, n: int, sheet: str = ""
    ) -> None:
        """Count ``n`` more issues of a group whose messages were not kept."""
        if n > 0:
            self._group((severity, kind, column, sheet))[0] += n

    def issues(self) -> tuple[Issue, ...]:
        """The kept issues, in the order they were found."""
        kept = [pair for _, issues, _ in self._groups.values() for pair in issues]
        return tuple(issue for _, issue in sorted(kept, key=lambda pair: pair[0]))

    def groups(self) -> tuple[IssueGroup, ...]:
        """The groups: errors, then warnings, then notes; within each, as first found."""
        rank = {s: i for i, s in enumerate(_SEVERITIES)}
        ordered = sorted(self._groups.items(), key=lambda kv: (rank.get(kv[0][0], 3), kv[1][2]))
        return tuple(
            IssueGroup(*key, count, tuple(issue for _, issue in kept))
            for key, (count, kept, _) in ordered
        )


@dataclass(frozen=True)
class ValidationReport:
    """What happened to every input row and what to check in the file.

    ``n_rows_in == n_rows_used + len(excluded)`` always holds.

    ``issues`` holds the individual issues kept: of each (severity, kind, column)
    group at most ``issues_kept_per_group``, so a file with a million odd cells has
    a short report. ``groups`` (see :meth:`issue_groups`) counts them all; use
    :meth:`count` for totals, not ``len(warnings)``.
    """

    n_rows_in: int
    n_rows_used: int
    excluded: tuple[ExcludedRow, ...]
    issues: tuple[Issue, ...]
    header_row: int
    groups: tuple[IssueGroup, ...] = ()

    def __post_init__(self) -> None:
        if self.issues and not self.groups:  # built from a plain list of issues
            log = IssueLog(keep=len(self.issues))
            for issue in self.issues:
                log.add(issue)
            object.__setattr__(self, "groups", log.groups())

    @property
    def errors(self) -> tuple[Issue, ...]:
        return tuple(i for i in self.issues if i.severity == "error")

    @property
    def warnings(self) -> tuple[Issue, ...]:
        return tuple(i for i in self.issues if i.severity == "warning")

    @property
    def notes(self) -> tuple[Issue, ...]:
        return tuple(i for i in self.issues if i.severity == "note")

    def count(self, severity: str | None = None) -> int:
        """How many issues (of one severity, or all) were found, kept or not."""
        return sum(g.count for g in self.groups if severity in (None, g.severity))

    @property
    def ok(self) -> bool:
        return self.count("error") == 0

    def issue_groups(self) -> tuple[IssueGroup, ...]:
        """One entry per severity, kind and column: the count, first rows and an example."""
        return self.groups

    def issue_groups_frame(self) -> pd.DataFrame:
        """The groups as a table (severity, column, kind, count, first rows, example)."""
        return pd.DataFrame(
            [
                {
                    "severity": g.severity,
                    "column": g.column or "",
                    "kind": g.kind,
                    "count": g.count,
                    "first rows": ", ".join(str(r) for r in g.first_rows),
                    "example": g.example,
                }
                for g in self.groups
            ],
            columns=["severity", "column", "kind", "count", "first rows", "example"],
        )

    def issues_frame(self) -> pd.DataFrame:
        """The kept issues as a table (severity, row, column, message)."""
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
    identifiers
        The identifier columns and whether the patient IDs look like direct
        identifiers; after :func:`analytics.pseudonyms.pseudonymise`, the choice
        applied and the key from label to patient ID.
    windowed
        For dated results (a long table with collection dates), how each result was
        windowed into time points (:class:`~analytics.reading.windows.WindowedResults`);
        ``labs`` then also has ``day``, the value's day since the patient's start.
        None for other files.
    """

    patients: pd.DataFrame
    labs: pd.DataFrame
    analytes: dict[str, LabInfo]
    report: ValidationReport
    source: SourceInfo
    mapping: tuple[ColumnRole, ...] = ()
    extra_attributes: tuple[str, ...] = field(default_factory=tuple)
    identifiers: Identifiers = field(default_factory=Identifiers)
    windowed: WindowedResults | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled with its lab table packed (:mod:`analytics.packed`): about a fifth of
        the size, for the reader child sending it back and for caches."""
        state = {item.name: getattr(self, item.name) for item in fields(self)}
        state["labs"] = pack_frame(self.labs)
        return _unpickle_cohort, (state,)

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

        Columns are the lab's time points in months, ascending; the values as
        :meth:`lab_values` gives them.
        """
        if censored not in CENSORED_RULES:
            raise AnalysisError(f"Unknown rule for censored values: {censored!r}.")
        labs = self.labs
        rows = np.flatnonzero((labs["analyte"] == analyte).to_numpy(dtype=bool))
        if censored == "exclude":
            rows = rows[(labs["censored"] == "").to_numpy(dtype=bool)[rows]]
        values = labs["value"].to_numpy(dtype=float)[rows]
        if censored == "half":
            below = (labs["censored"] == "<").to_numpy(dtype=bool)[rows]
            values = np.where(below, values / 2.0, values)
        times = [float(t) for t in self.analytes[analyte].times]
        # placed by position (a pivot table gives the same, a hundred times slower): the
        # first value of a patient and time wins, as the pivot's "first" does
        patient = self._lab_positions()[rows]
        time = pd.Index(times).get_indexer(labs["time"].to_numpy(dtype=float)[rows])
        found = np.flatnonzero((patient >= 0) & (time >= 0))
        cell = patient[found] * len(times) + time[found]
        found = found[np.unique(cell, return_index=True)[1]]  # the first row of each cell
        matrix = np.full((len(self.patients), len(times)), np.nan)
        matrix[patient[found], time[found]] = values[found]
        return pd.DataFrame(matrix, index=self.patients.index, columns=pd.Index(times, name="time"))

    def n_censored(self, analyte: str | None = None) -> int:
        rows = self.labs if analyte is None else self.labs[self.labs["analyte"] == analyte]
        return int((rows["censored"] != "").sum())

    def subset(self, patient_ids: pd.Index | list[str]) -> Cohort:
        """The same cohort restricted to ``patient_ids`` (order of the cohort kept)."""
        wanted = patient_ids.tolist() if isinstance(patient_ids, pd.Index) else list(patient_ids)
        return self.subset_mask(in_labels(self.patients.index, wanted))

    def subset_mask(self, keep: Any) -> Cohort:
        """The same cohort restricted to the patients where ``keep`` (one bool per
        patient, in the cohort's order) is true."""
        keep = np.asarray(keep, dtype=bool)
        positions = self._lab_positions()
        kept_rows = positions >= 0  # a row of no patient (-1) is never kept
        kept_rows[kept_rows] = keep[positions[kept_rows]]
        subset = replace(self, patients=self.patients[keep], labs=self.labs[kept_rows])
        # the kept rows' patients at their new places: no second look-up by ID
        subset.__dict__[_POSITIONS] = (np.cumsum(keep) - 1)[positions[kept_rows]]
        return subset

    def _lab_positions(self) -> np.ndarray:
        """Per row of ``labs`` (by position), the place of its patient in ``patients``
        (-1 for none); looked up once per cohort (a cohort is never changed)."""
        found = self.__dict__.get(_POSITIONS)
        if found is None:
            found = self.patients.index.get_indexer(self.labs["patient_id"])
            self.__dict__[_POSITIONS] = found
        return found

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


#: Where a cohort keeps its patients' places per lab row (not a field: never pickled).
_POSITIONS = "_lab_patient_positions"


def in_labels(values: Any, wanted: Sequence[object]) -> np.ndarray:
    """True where ``values`` (texts: a Series, an Index or an array) are among
    ``wanted`` (pyarrow's set look-up: pandas' ``isin`` on text builds one pyarrow
    scalar per wanted value, ten times slower).

    Examples
    --------
    >>> in_labels(pd.Index(["P1", "P2", None]), ["P2", "P3"]).tolist()
    [False, True, False]
    """
    try:
        column = pa.array(np.asarray(values, dtype=object), from_pandas=True, type=pa.string())
        found = pc.is_in(column, value_set=pa.array([str(w) for w in wanted], type=pa.string()))
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not all texts: pandas' own look-up
        return np.asarray(pd.Index(values).isin(list(wanted)), dtype=bool)
    return np.asarray(found.fill_null(False), dtype=bool)


def _unpickle_cohort(state: dict[str, Any]) -> Cohort:
    return Cohort(**{**state, "labs": state["labs"].unpack()})


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
