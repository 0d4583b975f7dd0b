"""Summary rows under the data (``Mean``, ``SD``, ``Total``, ``n`` ...): not patients.

Clinicians often put summary rows below the patients, with the label in the
patient-ID column. :func:`summary_rows` tells which rows are such; the loader
excludes them with :func:`summary_reason`, never reading them as patients.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["summary_reason", "summary_rows"]

# Labels of summary rows in the patient-ID column (compared in lower case, without a
# trailing colon). "Strong" labels are never patient IDs; "weak" ones (``n``, ``p``,
# ``SD``, ``SE`` ...) could be a patient's letter or initials, so they count as summary
# rows only next to another summary row or below the last patient (see summary_rows).
_SUMMARY_STRONG = frozenset(
    {
        "mean",
        "means",
        "average",
        "avg",
        "avg.",
        "median",
        "total",
        "totals",
        "grand total",
        "subtotal",
        "sum",
        "count",
        "stdev",
        "st dev",
        "st. dev.",
        "std dev",
        "std. dev",
        "std. dev.",
        "std deviation",
        "standard deviation",
        "standard error",
        "s.d.",
        "s.e.",
        "s.e.m.",
        "minimum",
        "maximum",
        "range",
        "iqr",
        "p-value",
        "p value",
        "pvalue",
        "p-val",
        "p val",
    }
)
_SUMMARY_WEAK = frozenset({"n", "p", "sd", "se", "sem", "std", "min", "max"})
_SUMMARY_WORDS = _SUMMARY_STRONG | _SUMMARY_WEAK
_WORDS = pa.array(sorted(_SUMMARY_WORDS), type=pa.string())
_SUMMARY_SPLIT_RE = re.compile(r"\s*(?:±|\+/-|\+-|/|\(|\)|,|–|-)\s*")
_SUMMARY_COUNT_RE = re.compile(r"^n\s*[=:]\s*\d+$")


def _summary_label(text: str) -> str:
    """``"strong"``, ``"weak"`` or ``""``: is this ID-column text a summary label?"""
    if not text or len(text) > 40 or not text[0].isalpha():  # fast: most IDs
        return ""
    label = text.lower().rstrip(":").strip()
    if label in _SUMMARY_STRONG:
        return "strong"
    if label in _SUMMARY_WEAK:
        return "weak"
    if label[0] == "n" and _SUMMARY_COUNT_RE.match(label):  # "n = 93"
        return "strong"
    if label.isalnum():
        return ""
    parts = [part for part in _SUMMARY_SPLIT_RE.split(label) if part]
    if len(parts) > 1 and all(part in _SUMMARY_WORDS for part in parts):  # "Mean ± SD"
        return "strong"
    return ""


def _labels(ids: list[str]) -> list[str]:
    """:func:`_summary_label` of each ID; most IDs (ASCII letters and digits only, and no
    summary word) are settled at once by pyarrow, the rest one by one."""
    kinds = [""] * len(ids)
    if not ids:
        return kinds
    try:
        texts = pa.array(ids, type=pa.string())
    except (pa.ArrowException, UnicodeError):  # not one text pyarrow takes: all by Python
        return [_summary_label(text) for text in ids]
    plain = pc.and_(pc.string_is_ascii(texts), pc.ascii_is_alnum(texts))
    word = pc.is_in(pc.ascii_lower(texts), value_set=_WORDS)
    settled = pc.and_not(plain, word).fill_null(False).to_numpy(zero_copy_only=False)
    for i in np.flatnonzero(~settled):
        kinds[i] = _summary_label(ids[i])
    return kinds


def summary_rows(ids: list[str]) -> list[bool]:
    """Which rows are summary rows (``Mean``, ``SD``, ``Total`` ...), not patients.

    Parameters
    ----------
    ids
        The text of each data row's patient-ID cell, top to bottom (``""`` if empty).

    Returns
    -------
    list of bool
        True for a summary row. A label such as ``Mean``, ``Average``, ``Median``,
        ``Total``, ``Sum``, ``p-value`` or ``Mean ± SD`` (any case, optional trailing
        colon) always is one. A short label that could also be a patient's letter or
        initials (``n``, ``N``, ``p``, ``SD``, ``SE``, ``SEM``, ``Min``, ``Max``) is one
        when no patient row follows it or when the nearest row above or below with a
        different ID is itself a summary row; so patients ``M``, ``N``, ``O`` stay
        patients, while ``Mean`` / ``SD`` / ``n`` under the data do not.
    """
    kinds = _labels(ids)
    flags = [kind == "strong" for kind in kinds]
    if "weak" not in kinds:
        return flags
    n = len(ids)
    last_patient = max((i for i in range(n) if ids[i] and not kinds[i]), default=-1)

    def neighbour(i: int, step: int) -> str:
        j = i + step
        while 0 <= j < n and (not ids[j] or ids[j] == ids[i]):
            j += step
        return kinds[j] if 0 <= j < n else ""

    for i, kind in enumerate(kinds):
        if kind == "weak":
            flags[i] = i > last_patient or bool(neighbour(i, -1) or neighbour(i, 1))
    return flags


def summary_reason(patient_id: str) -> str:
    """Why a summary row is excluded, as listed in the report."""
    return f"summary row ('{patient_id}'), not a patient"
