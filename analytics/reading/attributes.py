"""Reading patient attribute cells (sex, age, age group, yes/no, text)."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from analytics.limits import LIMITS
from analytics.reading.cells import shown as _shown

__all__ = [
    "cell_text",
    "cell_texts",
    "is_missing_text",
    "is_sex_text",
    "is_yes_no_text",
    "parse_age",
    "parse_age_group",
    "parse_sex",
    "parse_text",
    "parse_yes_no",
    "read_age",
]

_SEX = {
    "m": "M",
    "male": "M",
    "man": "M",
    "boy": "M",
    "f": "F",
    "female": "F",
    "woman": "F",
    "girl": "F",
}
_YES = {"yes", "y", "true", "1", "1.0", "ja", "oui", "si", "x", "on"}
_NO = {"no", "n", "false", "0", "0.0", "nein", "non", "off", "none"}
_MISSING = {"", "n/a", "na", "nd", "-", "—", "–", ".", "unknown", "unk", "?", "nan", "null"}
_AGE_GROUPS = {
    "pediatric": "pediatric",
    "paediatric": "pediatric",
    "pediatrics": "pediatric",
    "paediatrics": "pediatric",
    "peds": "pediatric",
    "ped": "pediatric",
    "child": "pediatric",
    "children": "pediatric",
    "adult": "adult",
    "adults": "adult",
}


_MAX_VALUE_CHARS = int(LIMITS["max_value_chars"].value)


def cell_text(raw: object) -> str:
    """A cell as one line of text: spaces collapsed, ``""`` for empty, ``3`` for ``3.0``."""
    if type(raw) is str:
        text = raw.strip()
        if "  " not in text and "\u00a0" not in text and "\n" not in text and "\t" not in text:
            return text
    if raw is None or (isinstance(raw, float) and math.isnan(raw)):
        return ""
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return re.sub(r"\s+", " ", str(raw).replace("\u00a0", " ")).strip()


#: The ASCII characters Python's ``str.strip()`` removes.
_ASCII_STRIPPED = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"


def cell_texts(cells: Sequence[object]) -> list[str]:
    """:func:`cell_text` of each cell; a column of texts is read by pyarrow at once.

    pyarrow strips and checks the ASCII texts (where its stripping is Python's); a text
    that is not ASCII or holds runs of spaces, tabs or line breaks goes to
    :func:`cell_text`, as does every cell that is not a text.
    """
    try:
        texts = pa.array(cells, type=pa.string())
    except (pa.ArrowException, UnicodeError):  # numbers, dates ... (or a lone surrogate)
        return [cell_text(cell) for cell in cells]
    stripped = pc.utf8_trim(texts, _ASCII_STRIPPED)
    odd = pc.invert(pc.string_is_ascii(texts))
    for inside in ("  ", "\n", "\t"):
        odd = pc.or_(odd, pc.match_substring(stripped, inside))
    out = stripped.fill_null("").to_pylist()
    for i in np.flatnonzero(odd.fill_null(False).to_numpy(zero_copy_only=False)):
        out[i] = cell_text(cells[i])
    return out


def is_yes_no_text(text: str) -> bool:
    """True for a cell text read as yes or no (``Y``, ``no``, ``1``, ``false`` ...)."""
    return text.strip().lower() in _YES | _NO


def is_sex_text(text: str) -> bool:
    """True for a cell text read as a sex (``M``, ``female`` ...)."""
    return text.strip().lower() in _SEX


def is_missing_text(text: str) -> bool:
    """True for a cell text read as missing (``n/a``, ``-``, ``unknown`` ...)."""
    return text.strip().lower() in _MISSING


def parse_text(raw: object) -> str | None:
    """A text attribute with stray spaces removed; None when empty."""
    text = cell_text(raw)
    return text or None


def parse_sex(raw: object) -> tuple[str | None, str]:
    """``M``/``F`` from M/F/male/female in any case; returns (value, problem)."""
    text = cell_text(raw).lower()
    if text in _MISSING:
        return None, ""
    if text in _SEX:
        return _SEX[text], ""
    return None, f"sex '{_shown(cell_text(raw))}' not recognised (use M or F); left blank"


def parse_yes_no(raw: object, what: str) -> tuple[bool | None, str]:
    """True/False from yes/no/y/n/true/false/1/0; returns (value, problem)."""
    if isinstance(raw, bool):
        return raw, ""
    text = cell_text(raw).lower()
    if text in _MISSING:
        return None, ""
    if text in _YES:
        return True, ""
    if text in _NO:
        return False, ""
    return None, f"{what} '{_shown(cell_text(raw))}' not recognised (use yes or no); left blank"


_AGE_RE = re.compile(r"^(\d+(?:[.,]\d+)?)\s*(?:y|yr|yrs|year|years)?$")
_NON_FINITE = frozenset(f"{s}{w}" for s in ("", "+", "-") for w in ("inf", "infinity", "nan"))


def read_age(raw: object) -> tuple[float | None, str, str]:
    """Age in years; returns (value, kind, problem), kind and problem ``""`` when fine.

    ``kind`` names the sort of problem: ``"age_not_a_number"``, ``"age_not_finite"``
    (``inf``, ``nan`` as text, an infinite number) or ``"age_out_of_range"``. Texts
    longer than ``max_value_chars`` are not a number of years; no pattern is tried.
    """
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        try:
            value = float(raw)
        except OverflowError:  # an integer beyond floating point
            value = math.inf
        if math.isnan(value):
            return None, "", ""
        if math.isinf(value):
            problem = "age is an infinite number, not a number of years; left blank"
            return None, "age_not_finite", problem
    else:
        text = cell_text(raw).lower()
        if text in _NON_FINITE:
            return (
                None,
                "age_not_finite",
                f"age '{cell_text(raw)}' is not a finite number; left blank",
            )
        if text in _MISSING:
            return None, "", ""
        match = _AGE_RE.match(text) if len(text) <= _MAX_VALUE_CHARS else None
        if match is None:
            return (
                None,
                "age_not_a_number",
                f"age '{_shown(cell_text(raw))}' is not a number of years; left blank",
            )
        value = float(match.group(1).replace(",", "."))
    if not 0 <= value <= 120:
        return None, "age_out_of_range", f"age {value:g} is outside 0-120 years; left blank"
    return value, "", ""


def parse_age(raw: object) -> tuple[float | None, str]:
    """Age in years from ``12``, ``12.5``, ``12,5`` or ``12 years``; returns (value, problem)."""
    value, _kind, problem = read_age(raw)
    return value, problem


def parse_age_group(raw: object) -> tuple[str | None, str]:
    """``pediatric``/``adult``; returns (value, problem)."""
    text = cell_text(raw).lower()
    if text in _MISSING:
        return None, ""
    if text in _AGE_GROUPS:
        return _AGE_GROUPS[text], ""
    shown = _shown(cell_text(raw))
    return None, f"age group '{shown}' not recognised (use pediatric or adult); left blank"
