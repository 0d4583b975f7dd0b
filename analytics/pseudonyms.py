"""Patients labelled ``P01`` … ``Pnn``, identifier columns left out: at the cohort level.

:func:`pseudonymise` turns the cohort the loader read into the cohort every page,
figure, table, export, report and command-line output is made from. When the
patient IDs look like direct identifiers (see :mod:`analytics.reading.identifiers`)
or when asked, the patients are relabelled ``P01`` … ``Pnn`` in file order, in the
patients table, in the lab values and in the validation report; the identifier
columns (names, initials, dates of birth, phone numbers, addresses ...) are dropped.
Because it happens once, on the cohort, no output can forget it.

The key from label to the file's patient ID stays on the cohort
(``cohort.identifiers.pseudonyms``): the Data page shows it in the session and
writes it to a file only when asked; ``validate --write-key`` does the same on the
command line.

The choices (``--pseudonymise`` on the command line, the same on the Data page):

``auto`` (default)
    relabel when the IDs look like direct identifiers; leave identifier columns out;
``yes``
    always relabel; leave identifier columns out;
``no``
    keep the file's IDs and every column (for a file that is already de-identified,
    or to check the values against the file).
"""

from __future__ import annotations

import re
from dataclasses import replace

import pandas as pd

from analytics.cohort import Cohort, Issue, IssueGroup, ValidationReport
from analytics.errors import AnalysisError
from analytics.reading.identifiers import pseudonym_labels, pseudonym_range

__all__ = ["PSEUDONYMISE_CHOICES", "key_frame", "labels_sentence", "pseudonymise"]

#: The pseudonymisation choices, with what each does.
PSEUDONYMISE_CHOICES: dict[str, str] = {
    "auto": "Automatic: P01 … Pnn when the patient IDs look like record numbers or names",
    "yes": "Always P01 … Pnn",
    "no": "The file's patient IDs, identifier columns kept (pseudonymisation off)",
}

# How the loader's messages name a patient: "patient 'X'" and "(patient X)".
_QUOTED_RE = re.compile(r"patient '([^'\n]{0,300})'")
_BRACKETED_RE = re.compile(r"\(patient ([^()\n]{0,300})\)")


def pseudonymise(cohort: Cohort, mode: str = "auto") -> Cohort:
    """The cohort as every output shows it under the pseudonymisation ``mode``.

    Parameters
    ----------
    cohort
        A cohort as the loader read it.
    mode
        ``"auto"``, ``"yes"`` or ``"no"`` (see :data:`PSEUDONYMISE_CHOICES`).

    Returns
    -------
    Cohort
        With patients relabelled ``P01`` … ``Pnn`` in file order (``yes``, or
        ``auto`` when the IDs look like direct identifiers) and the key in
        ``identifiers.pseudonyms``; without the identifier columns (``auto``,
        ``yes``); ``identifiers.mode`` records the choice.
    """
    if mode not in PSEUDONYMISE_CHOICES:
        choices = ", ".join(PSEUDONYMISE_CHOICES)
        raise AnalysisError(f"Unknown pseudonymisation '{mode}'; use one of {choices}.")
    found = cohort.identifiers
    if found.mode:
        raise AnalysisError("This cohort has already been pseudonymised.")
    if mode == "no":
        return replace(cohort, identifiers=replace(found, mode=mode))
    dropped = tuple(c for c in found.column_names if c in cohort.patients.columns)
    patients = cohort.patients.drop(columns=list(dropped))
    labs = cohort.labs
    report = _without_identifier_cells(cohort.report, set(found.column_names))
    pseudonyms: tuple[tuple[str, str], ...] = ()
    windowed = cohort.windowed
    if mode == "yes" or found.direct:
        originals = [str(pid) for pid in patients.index]
        labels = pseudonym_labels(len(originals))
        key = dict(zip(originals, labels, strict=True))
        patients = patients.set_axis(pd.Index(labels, name=patients.index.name), axis=0)
        labs = labs.assign(patient_id=labs["patient_id"].map(key))
        report = _relabelled(report, key)
        pseudonyms = tuple(zip(labels, originals, strict=True))
        if windowed is not None:
            windowed = windowed.relabelled(key, lambda text: _relabel_text(text, key))
    return replace(
        cohort,
        patients=patients,
        labs=labs,
        report=report,
        windowed=windowed,
        extra_attributes=tuple(c for c in cohort.extra_attributes if c not in dropped),
        identifiers=replace(found, mode=mode, pseudonyms=pseudonyms),
    )


def key_frame(cohort: Cohort) -> pd.DataFrame:
    """The key: each label and the patient ID it stands for (empty when not relabelled)."""
    found = cohort.identifiers
    column = f"patient ID in the file ({found.id_column})" if found.id_column else "patient ID"
    return pd.DataFrame(list(found.pseudonyms), columns=["patient", column], dtype=object)


def labels_sentence(cohort: Cohort) -> str:
    """One plain sentence: how patients are labelled and what happened to identifier columns."""
    found = cohort.identifiers
    names = [f"'{c}'" for c in found.column_names]
    columns = ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + (names[-1:] or [""])[0]
    what = "the identifier column" if len(names) == 1 else "the identifier columns"
    verb = ("is" if len(names) == 1 else "are") + (
        " left out" if found.mode in ("auto", "yes") else " kept"
    )
    columns_part = f"; {what} {columns} {verb}" if names else ""
    everywhere = "in every figure, table, export and report"
    if found.pseudonymised:
        why = f"because {found.direct_reason}" if found.direct else "as asked"
        labels = pseudonym_range(cohort.n_patients)
        return f"Patients are labelled {labels} in file order {everywhere}, {why}{columns_part}."
    ids = f"the file's patient IDs (column '{found.id_column}')"
    if found.mode == "no":
        although = f", although {found.direct_reason}" if found.direct else ""
        return (
            f"Pseudonymisation is off: patients are labelled with {ids} {everywhere}"
            f"{although}{columns_part}."
        )
    if found.direct:  # a cohort straight from the loader
        return (
            f"Patients are labelled with {ids}, although {found.direct_reason}: they are not "
            f"pseudonymised{columns_part}."
        )
    return f"Patients are labelled with {ids}: they look like study codes{columns_part}."


# --------------------------------------------------------------------------- the report


def _relabel_text(text: str, key: dict[str, str]) -> str:
    """The loader's message with each patient it names given by label."""
    if "patient" not in text:
        return text

    def quoted(match: re.Match[str]) -> str:
        return f"patient '{key.get(match.group(1), 'not shown')}'"

    def bracketed(match: re.Match[str]) -> str:
        return f"(patient {key.get(match.group(1), 'not shown')})"

    return _BRACKETED_RE.sub(bracketed, _QUOTED_RE.sub(quoted, text))


def _rebuilt(report: ValidationReport, issue_text, reason_text) -> ValidationReport:
    """The report with each kept issue's message and each excluded row's reason rewritten."""
    fixed: dict[int, Issue] = {}

    def fix(issue: Issue) -> Issue:
        new = fixed.get(id(issue))
        if new is None:
            message = issue_text(issue)
            new = issue if message == issue.message else replace(issue, message=message)
            fixed[id(issue)] = new
        return new

    issues = tuple(fix(i) for i in report.issues)
    groups = tuple(
        IssueGroup(g.severity, g.kind, g.column, g.sheet, g.count, tuple(fix(i) for i in g.issues))
        for g in report.groups
    )
    excluded = []
    for row in report.excluded:
        reason = reason_text(row.reason)
        excluded.append(row if reason == row.reason else replace(row, reason=reason))
    return replace(report, issues=issues, groups=groups, excluded=tuple(excluded))


def _relabelled(report: ValidationReport, key: dict[str, str]) -> ValidationReport:
    return _rebuilt(
        report,
        lambda issue: _relabel_text(issue.message, key),
        lambda reason: _relabel_text(reason, key),
    )


def _without_identifier_cells(report: ValidationReport, columns: set[str]) -> ValidationReport:
    """Messages about cells of identifier columns, without the cells' text."""
    if not columns:
        return report

    def text(issue: Issue) -> str:
        if issue.column not in columns or issue.kind == "identifier_column":
            return issue.message
        what = issue.kind.replace("_", " ") or issue.severity
        return f"{what} (the cell is not shown: this column holds identifiers)"

    return _rebuilt(report, text, lambda reason: reason)
