"""Finding the header row below any title rows, and naming columns by their letter."""

from __future__ import annotations

from collections.abc import Mapping

from analytics.errors import InputError
from analytics.limits import LIMITS
from analytics.reading.headers import recognise_header

__all__ = ["column_letter", "find_header"]


def column_letter(index: int) -> str:
    """The spreadsheet letter of the column at ``index`` (0 is ``A``, 26 is ``AA``)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _names_a_column(cell: str, overrides: Mapping[str, str]) -> bool:
    if cell.strip() in overrides:
        return True
    role = recognise_header(cell)
    return role.role not in ("attribute", "ignore") and (role.role != "lab" or role.known_lab)


def _header_score(
    row: list[object], overrides: Mapping[str, str], known: dict[str, bool] | None = None
) -> int:
    """How many cells of the row name a column the loader knows (or the user mapped);
    ``known``: the answers for texts already seen (data rows repeat their texts)."""
    known = {} if known is None else known
    score = 0
    for cell in row:
        if isinstance(cell, str) and cell.strip():
            names = known.get(cell)
            if names is None:
                names = known[cell] = _names_a_column(cell, overrides)
            score += names
    return score


def find_header(rows: list[list[object]], overrides: Mapping[str, str]) -> int:
    """The index of the header row: among the first rows, the one naming most known columns.

    Without any known column name, the first row with at least two texts.

    Raises
    ------
    InputError
        When none of the first rows can be a header.
    """
    limit = int(LIMITS["header_search_rows"].value)
    best, best_score = -1, 0
    known: dict[str, bool] = {}
    for index, row in enumerate(rows[:limit]):
        non_empty = sum(1 for c in row if c is not None and str(c).strip())
        if non_empty < 2:
            continue
        score = _header_score(row, overrides, known)
        if score > best_score:
            best, best_score = index, score
    if best >= 0:
        return best
    for index, row in enumerate(rows[:limit]):
        if sum(1 for c in row if isinstance(c, str) and c.strip()) >= 2:
            return index
    raise InputError(
        "No header row was found: the first rows hold no column names. "
        "Put one row of column names (patient ID, sex, age, lab columns) above the data."
    )
