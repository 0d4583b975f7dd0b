"""Columns that look like a role they were not given: a warning each, never silence.

A header the loader does not recognise is kept as an ordinary patient attribute. When
its name or its cells suggest one of the roles the analyses use — yes/no cells under a
name with "iron" in it, an Epo-like name, cells that are all M or F, numbers under a
lab's name without a time point — the validation report says so, names the column and
says how to give it the role (on the Data page, or ``--map`` on the command line). A
column the user set to ``attribute`` is left alone: that is the way to keep it as it is.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from analytics.labs import Lab, canonical_lab
from analytics.reading.attributes import is_missing_text, is_sex_text, is_yes_no_text
from analytics.reading.cells import classify_column
from analytics.reading.headers import ROLE_LABELS, ROLE_WORDS, ColumnRole, role_text
from analytics.reading.state import ReadState

__all__ = ["named_lab", "role_hint", "warn_unassigned_roles"]

#: Share of a column's filled cells that must fit a role for the column to look like it.
_YES_NO_SHARE = 0.8
_SEX_SHARE = 0.9
_NUMBER_SHARE = 0.5
#: A yes/no or M/F column has few distinct texts (``Y``, ``no``, ``Male``, ``f`` ...).
_FEW_TEXTS = 12
#: Words saying that a number under a lab's name is not the lab's value.
_NOT_A_VALUE = frozenset(
    {
        "dose",
        "doses",
        "dosage",
        "mg",
        "duration",
        "days",
        "weeks",
        "date",
        "dates",
        "cumulative",
        "total",
        "started",
        "stopped",
    }
)
_EPO_WORDS = ROLE_WORDS["epo"][0]
_KEEP = 'to keep it as it is and silence this warning, pick "other patient attribute"'


def _how(column: str, role: str) -> str:
    label = ROLE_LABELS.get(role, "lab value")
    return (
        f'pick "{label}" for it under Columns on the Data page, or on the command line '
        f'--map "{column}={role}"'
    )


def _share(counts: pd.Series, test) -> float:
    """The share of the filled cells (counted per distinct text) that pass ``test``."""
    total = int(counts.sum())
    if not total:
        return 0.0
    return int(sum(n for text, n in counts.items() if test(text))) / total


def named_lab(header: str) -> Lab | None:
    """The known lab named by some run of the header's words (longest runs first).

    Examples
    --------
    >>> named_lab("Iron Sat % (pre)").key, named_lab("Hgb nadir").key
    ('tsat', 'hgb')
    >>> named_lab("On oral iron?") is None  # "iron" alone is the iron-therapy word
    True
    """
    words = [w.strip("%") for w in role_text(header).split(" ") if w.strip("%")]
    for size in range(min(len(words), 4), 0, -1):
        for start in range(len(words) - size + 1):
            run = words[start : start + size]
            lab = canonical_lab(" ".join(run))
            # "iron" alone is the iron-therapy word; serum iron is "serum iron" or "fe"
            if lab is not None and run != ["iron"]:
                return lab
    return None


def role_hint(
    column: str,
    counts: pd.Series,
    taken: set[str],
    *,
    decimal_comma: bool = False,
) -> str:
    """Why the attribute ``column`` looks like a role it was not given (``""`` if not).

    ``counts`` holds how many patients have each filled cell text of the column;
    ``taken`` the roles other columns already have.
    """
    words = role_text(column).split(" ")
    few = 0 < len(counts) <= _FEW_TEXTS
    yes_no = few and _share(counts, is_yes_no_text) >= _YES_NO_SHARE
    if "iron" in words and yes_no and "iron" not in taken:
        return (
            "its cells are yes/no and its name mentions iron, but it was kept as an "
            "ordinary attribute, so the iron-therapy filter and tables do not use it; if "
            f"it says whether the patient was on iron therapy, {_how(column, 'iron')}; {_KEEP}"
        )
    if set(words) & _EPO_WORDS and "epo" not in taken:
        cells = "its cells are yes/no and " if yes_no else ""
        return (
            f"{cells}its name suggests Epo, but it was kept as an ordinary attribute, so "
            "the Epo filter and tables do not use it; if it says whether the patient had "
            f"Epo (yes/no), {_how(column, 'epo')}; {_KEEP}"
        )
    sex_like = few and int(counts.sum()) >= 2 and _share(counts, is_sex_text) >= _SEX_SHARE
    if "sex" not in taken and sex_like:
        return (
            "its cells are all M/F (male/female), but it was kept as an ordinary attribute "
            "and the file has no sex column, so the sex filter and the sex-specific anemia "
            f"thresholds do not use it; if it is the patient's sex, {_how(column, 'sex')}; "
            f"{_KEEP}"
        )
    if yes_no or set(words) & _NOT_A_VALUE:
        return ""
    lab = named_lab(column)
    if lab is None:
        return ""
    cells = pd.Series(list(counts.index), dtype=object)
    kinds = classify_column(cells, decimal_comma=decimal_comma)["kind"].to_numpy()
    numbers = int(
        counts.to_numpy()[(kinds == "number") | (kinds == "below") | (kinds == "above")].sum()
    )
    if numbers / int(counts.sum()) < _NUMBER_SHARE:
        return ""
    how = _how(column, f"lab:{lab.key}:0")
    return (
        f"it holds numbers and its name names {lab.name}, but no time point, so it was kept "
        f"as an ordinary attribute, not as lab values; if these are {lab.name} values, add "
        f"the time to the header (e.g. '{column} 0' for month 0) or {how} (the time after "
        f"the second colon); {_KEEP}"
    )


def warn_unassigned_roles(
    state: ReadState, roles: Sequence[ColumnRole], patients: pd.DataFrame
) -> None:
    """A ``looks_like_role`` warning for each attribute column that looks like a role."""
    taken = {r.role for r in roles}
    for role in roles:
        if role.role != "attribute" or role.source == "set by you":
            continue
        if role.column not in patients.columns:
            continue
        filled = patients[role.column].dropna()
        counts = filled.value_counts(sort=False)
        counts = counts[[not is_missing_text(str(text)) for text in counts.index]]
        if counts.empty:
            continue
        hint = role_hint(role.column, counts, taken, decimal_comma=state.grid.decimal_comma)
        if hint:
            state.warn(hint, column=role.column, kind="looks_like_role")
