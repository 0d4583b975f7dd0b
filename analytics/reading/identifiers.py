"""Columns that identify patients: names, initials, record numbers, birth dates, ...

The dashboard is meant for de-identified research data, but chart-review workbooks
often carry a record number as the patient ID and a few identifying columns beside
the labs. This module judges each column by its header and by its values:

- an attribute column is an *identifier column* when its header names a kind of
  identifier (``Pt Initials``, ``DOB``, ``patient name``, ``phone``, ``address`` ...)
  or when most of its values look like one (2–3 upper-case letters, ``Jane Doe``,
  ``1970-03-15``, ``+44 20 7946 0000``, ``12 High Street``, long record numbers);
- the patient-ID column is a *direct identifier* when its header names a record
  number (``MRN``, ``medical record number``, ``record #``, ``hospital number``,
  ``NHS number`` ...), or any of its values looks like one (6 or more digits, with
  or without a few letters: ``4827163``, ``H1234567``), or most of them look like
  names, initials, dates, phone numbers or e-mail addresses. Study codes such as
  ``R01``, ``P3``, ``SIR-012`` or ``1`` … ``25`` are not.

The loader records one warning per identifier column and one for a patient-ID
column that is a direct identifier (kind ``identifier_column``), and keeps the
findings in :class:`Identifiers` on the cohort; :mod:`analytics.pseudonyms` then
labels the patients ``P01`` … ``Pnn`` and leaves the identifier columns out.

Every check is linear in the text it reads, and only a bounded sample of each
attribute column (:data:`SAMPLE_VALUES` values, each at most
:data:`MAX_VALUE_CHARS` characters) is looked at.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analytics.limits import LIMITS

if TYPE_CHECKING:  # the cohort module holds Identifiers: no import at run time
    from analytics.cohort import IssueLog
    from analytics.reading.headers import ColumnRole

__all__ = [
    "IDENTIFIER_KINDS",
    "Identifiers",
    "find_identifiers",
    "header_identifier_kind",
    "looks_like_identifier",
    "pseudonym_labels",
    "pseudonym_range",
    "value_identifier_kind",
]

#: Kinds of identifier, with the words that describe a column of them.
IDENTIFIER_KINDS: dict[str, str] = {
    "record_number": "record numbers",
    "name": "patients' names",
    "initials": "patients' initials",
    "birth_date": "dates of birth",
    "date": "full dates",
    "phone": "phone numbers",
    "address": "addresses",
    "email": "e-mail addresses",
}

#: Values of an attribute column looked at (the first non-empty ones).
SAMPLE_VALUES = 500
#: Longer cells are not taken for any kind of identifier.
MAX_VALUE_CHARS = 100
#: Share of an attribute column's values that must look like one kind of identifier.
COLUMN_SHARE = 0.8
#: Share of the patient IDs that must look like names, initials, dates ... (of record
#: numbers one is enough: its patient's label would give them away).
ID_SHARE = 0.5

_MAX_HEADER_CHARS = int(LIMITS["max_header_chars"].value)


@dataclass(frozen=True)
class Identifiers:
    """What the loader found about identifiers, and how the cohort was labelled.

    Attributes
    ----------
    id_column
        The header of the patient-ID column.
    direct_reason
        Why the patient IDs look like direct identifiers (e.g. "the header 'MRN'
        names a record number"); ``""`` when they look like study codes.
    columns
        ``(column, kind)`` of each identifier column (kinds of
        :data:`IDENTIFIER_KINDS`), in file order.
    mode
        The pseudonymisation applied (``"auto"``, ``"yes"``, ``"no"``), ``""`` while
        none was (a cohort straight from the loader).
    pseudonyms
        ``(label, patient ID in the file)`` for every patient when the patients were
        relabelled ``P01`` … ``Pnn``; empty otherwise. This is the key: it is shown only
        on the Data page and written to a file only on request.
    """

    id_column: str = ""
    direct_reason: str = ""
    columns: tuple[tuple[str, str], ...] = ()
    mode: str = ""
    pseudonyms: tuple[tuple[str, str], ...] = ()

    @property
    def direct(self) -> bool:
        """True when the patient IDs look like direct identifiers."""
        return bool(self.direct_reason)

    @property
    def pseudonymised(self) -> bool:
        """True when the patients are labelled ``P01`` … ``Pnn``."""
        return bool(self.pseudonyms)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column for column, _ in self.columns)

    def to_dict(self) -> dict[str, object]:
        """The findings without the key (for JSON and settings files)."""
        return {
            "patient_id_column": self.id_column,
            "direct_identifier": self.direct,
            "reason": self.direct_reason,
            "pseudonymise": self.mode or "auto",
            "pseudonymised": self.pseudonymised,
            "identifier_columns": [{"column": c, "kind": k} for c, k in self.columns],
        }


def pseudonym_labels(n: int) -> list[str]:
    """``P01`` … ``Pnn`` for ``n`` patients (at least two digits, more when needed).

    Examples
    --------
    >>> pseudonym_labels(3), pseudonym_labels(100)[-1]
    (['P01', 'P02', 'P03'], 'P100')
    """
    width = max(2, len(str(n)))
    return [f"P{i:0{width}d}" for i in range(1, n + 1)]


def pseudonym_range(n: int) -> str:
    """``P01 … P14`` for 14 patients, ``P01`` for one."""
    labels = pseudonym_labels(max(n, 1))
    return labels[0] if len(labels) == 1 else f"{labels[0]} … {labels[-1]}"


# --------------------------------------------------------------------------- headers

_WORD_RE = re.compile(r"[a-z0-9#]+")
_QUALIFIERS = frozenset({"patient", "patients", "pt", "pts", "subject", "client", "person"})
_NAME_WORDS = frozenset(
    {"name", "names", "surname", "surnames", "forename", "forenames"}
    | {"firstname", "lastname", "fullname", "givenname", "familyname"}
)
_NAME_QUALIFIERS = frozenset({"first", "last", "given", "family", "full", "middle", "maiden"})
_INITIALS_WORDS = frozenset({"initials", "initial", "inits", "init"})
_RECORD_WORDS = frozenset({"mrn", "mrns", "nhs", "ssn", "chi", "urn", "mrno"})
_NUMBER_WORDS = frozenset({"no", "nr", "num", "number", "#"})
_PHONE_WORDS = frozenset({"phone", "telephone", "tel", "mobile", "cellphone", "fax", "phones"})
_ADDRESS_WORDS = frozenset({"address", "street", "postcode", "zip", "zipcode", "residence"})
_EMAIL_WORDS = frozenset({"email", "mail", "emails"})


def _header_words(header: str) -> list[str]:
    """The header's words, lower case, apostrophes dropped, leading 'patient'/'pt' removed."""
    words = _WORD_RE.findall(header.lower().replace("'", "").replace("\u2019", ""))
    while len(words) > 1 and words[0] in _QUALIFIERS:
        words = words[1:]
    return words


#: Record-number headers of two words: the first word, and the words that may follow it.
_RECORD_PAIRS: dict[str, frozenset[str]] = {
    "record": _NUMBER_WORDS,
    "hospital": _NUMBER_WORDS | {"id"},
    "hosp": _NUMBER_WORDS | {"id"},
    "mr": _NUMBER_WORDS,
    "unit": _NUMBER_WORDS,
    "ur": _NUMBER_WORDS,
    "chart": _NUMBER_WORDS,
}
_RECORD_PHRASES = ("medical record", "social security", "insurance number", "health card")


def _record_header(words: Sequence[str]) -> bool:
    """``MRN``, ``medical record number``, ``record #``, ``hospital no``, ``NHS number`` ..."""
    if any(w in _RECORD_WORDS for w in words):
        return True
    text = " ".join(words)
    if any(phrase in text for phrase in _RECORD_PHRASES):
        return True
    return any(
        second in _RECORD_PAIRS.get(first, ()) for first, second in itertools.pairwise(words)
    )


def header_identifier_kind(header: str) -> str | None:
    """The kind of identifier a header names (``"name"``, ``"birth_date"`` ...), else None.

    Examples
    --------
    >>> header_identifier_kind("Pt Initials"), header_identifier_kind("D.O.B.")
    ('initials', 'birth_date')
    >>> header_identifier_kind("Medical Record No."), header_identifier_kind("Hgb pre")
    ('record_number', None)
    """
    if len(header) > _MAX_HEADER_CHARS:  # a long text is not a header: nothing is tried
        return None
    words = _header_words(header)
    if not words:
        return None
    found = set(words)
    if _record_header(words):
        return "record_number"
    if "dob" in found or "birthdate" in found or "birthday" in found or words == ["d", "o", "b"]:
        return "birth_date"
    if ("birth" in found and ("date" in found or words == ["birth"])) or "born" in found:
        return "birth_date"
    if found & _NAME_WORDS and found <= _NAME_WORDS | _NAME_QUALIFIERS | {"and", "of"}:
        return "name"
    if found <= _INITIALS_WORDS:
        return "initials"
    if found & _PHONE_WORDS or "contact number" in " ".join(words):
        return "phone"
    if found & _ADDRESS_WORDS or "post code" in " ".join(words) or "postal code" in " ".join(words):
        return "address"
    if found & _EMAIL_WORDS and len(words) <= 3:
        return "email"
    return None


def looks_like_identifier(header: str) -> bool:
    """True for headers that name a direct identifier (names, MRN, birth dates, ...)."""
    return header_identifier_kind(header) is not None


# --------------------------------------------------------------------------- values

_DATE_RES = (
    re.compile(r"\d{4}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"),
    re.compile(r"\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})"),
    re.compile(r"\d{1,2}[ -][A-Za-z]{3,9}[ ,-]+\d{4}"),
    re.compile(r"[A-Za-z]{3,9} \d{1,2},? \d{4}"),
)
_PHONE_RE = re.compile(r"\+?[\d ().-]+")
_INITIALS_RE = re.compile(r"[A-Z]\.?[A-Z]\.?(?:[A-Z]\.?)?")
_NAME_TOKEN_RE = re.compile(r"[A-Z][A-Za-z'\u2019-]+|[A-Z]\.")
_POSTCODE_RE = re.compile(r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}")
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")
_STREET_WORDS = frozenset(
    {"street", "st", "road", "rd", "avenue", "ave", "lane", "ln", "drive", "dr", "way"}
    | {"boulevard", "blvd", "court", "ct", "place", "pl", "close", "crescent", "terrace"}
    | {"square", "sq", "gardens", "parkway", "highway", "hwy", "rue", "strasse", "str"}
)
#: Words that make two capitalised words a diagnosis or a drug, not a name.
_NOT_NAME_WORDS = frozenset(
    {"disease", "syndrome", "kidney", "renal", "failure", "transplant", "nephritis"}
    | {"nephropathy", "glomerulonephritis", "cancer", "tumour", "tumor", "carcinoma"}
    | {"lupus", "diabetes", "hypertension", "polycystic", "reflux", "unknown", "other"}
    | {"none", "yes", "no", "male", "female", "patient", "pediatric", "adult", "not", "on"}
    | {"off", "retrospective", "prospective", "cohort", "group", "arm", "control"}
)
_NOT_NAME_ENDINGS = ("itis", "osis", "pathy", "emia", "aemia", "oma", "ism", "mab", "mus")


def _digits(text: str) -> int:
    return sum(c.isdigit() for c in text)


def _is_date(text: str) -> bool:
    return any(pattern.fullmatch(text) for pattern in _DATE_RES)


def _is_record_number(text: str) -> bool:
    """6 or more digits, with at most 4 letters and spaces, dashes or slashes between."""
    if _digits(text) < 6 or sum(c.isalpha() for c in text) > 4:
        return False
    return all(c.isalnum() or c in " -/" for c in text)


def _is_name(text: str) -> bool:
    """``Jane Doe``, ``DOE, Jane``, ``Mary J. Smith``: 2–4 capitalised words."""
    tokens = text.replace(",", " ").split()
    if not 2 <= len(tokens) <= 4 or text.count(",") > 1:
        return False
    for token in tokens:
        if not _NAME_TOKEN_RE.fullmatch(token):
            return False
        lowered = token.lower().strip(".")
        if lowered in _NOT_NAME_WORDS or lowered.endswith(_NOT_NAME_ENDINGS):
            return False
    return sum(len(t) > 2 for t in tokens) >= 2


def _is_address(text: str) -> bool:
    if _POSTCODE_RE.fullmatch(text):
        return True
    tokens = text.lower().replace(",", " ").replace(".", " ").split()
    return (
        len(tokens) >= 3
        and tokens[0][:1].isdigit()
        and any(token in _STREET_WORDS for token in tokens[1:])
    )


def value_identifier_kind(text: str) -> str | None:
    """The kind of identifier one cell looks like, else None.

    Examples
    --------
    >>> [value_identifier_kind(v) for v in ("H1234567", "JD", "1970-03-15", "R01", "12")]
    ['record_number', 'initials', 'date', None, None]
    """
    if not text or len(text) > MAX_VALUE_CHARS:
        return None
    if "@" in text:
        return "email" if _EMAIL_RE.fullmatch(text) else None
    if _is_date(text):
        return "date"
    if _is_record_number(text) and "+" not in text and "(" not in text:
        return "record_number"
    if _PHONE_RE.fullmatch(text) and 7 <= _digits(text) <= 15:
        return "phone"
    if _INITIALS_RE.fullmatch(text):
        return "initials"
    if _is_address(text):
        return "address"
    if _is_name(text):
        return "name"
    return None


def _sample(values: Iterable[object]) -> list[str]:
    """The first :data:`SAMPLE_VALUES` non-empty values, as text."""
    out: list[str] = []
    for value in values:
        if value is None or (isinstance(value, float) and value != value):
            continue
        text = str(value).strip()
        if text:
            out.append(text)
            if len(out) >= SAMPLE_VALUES:
                break
    return out


def _kind_by_values(values: Sequence[str]) -> tuple[str, int] | None:
    """The kind most values look like, and how many, when it is :data:`COLUMN_SHARE` of them.

    At least 3 values, and half of those of the kind distinct (identifiers differ
    from patient to patient; a repeated ``TAC`` is a drug, not initials).
    """
    if len(values) < 3:
        return None
    kinds = [value_identifier_kind(v) for v in values]
    counts = Counter(k for k in kinds if k is not None)
    if not counts:
        return None
    kind, n = counts.most_common(1)[0]
    distinct = len({v for v, k in zip(values, kinds, strict=True) if k == kind})
    if n >= COLUMN_SHARE * len(values) and distinct >= 0.5 * n:
        return kind, n
    return None


# --------------------------------------------------------------------------- the cohort


def _record_like(texts: pd.Series) -> np.ndarray:
    """Which texts have 6 or more digits and at most ``max_value_chars`` characters.

    Counted by pyarrow for ASCII texts (where its digits are Python's), by Python's
    ``re`` for the others (which may hold other scripts' digits).
    """
    values = texts.to_numpy(dtype=object)
    try:
        arrow = pa.array(values, type=pa.string())
    except (pa.ArrowException, UnicodeError):  # not one text pyarrow takes: all by Python
        arrow = pa.array([""] * len(values), type=pa.string())
        ascii_ = np.zeros(len(values), dtype=bool)
    else:
        ascii_ = pc.string_is_ascii(arrow).to_numpy(zero_copy_only=False)
    digits = np.array(pc.count_substring_regex(arrow, r"\d"), dtype=np.int64)
    length = np.array(pc.utf8_length(arrow), dtype=np.int64)
    for i in np.flatnonzero(~ascii_):
        digits[i] = len(_DIGIT_RE.findall(values[i]))
        length[i] = len(values[i])
    return (digits >= 6) & (length <= MAX_VALUE_CHARS)


_DIGIT_RE = re.compile(r"\d")


def _direct_reason(id_column: str, ids: pd.Index) -> str:
    """Why the patient IDs look like direct identifiers, or ``""``."""
    kind = header_identifier_kind(id_column)
    if kind is not None:
        return f"the header '{id_column}' says they are {IDENTIFIER_KINDS[kind]}"
    texts = pd.Series(ids.astype(str), dtype=object)
    candidates = texts[_record_like(texts)]
    n_records = sum(_is_record_number(t) for t in candidates)
    if n_records:
        return (
            f"{n_records} of {len(texts)} patient IDs look like record numbers, "
            "with 6 or more digits"
        )
    sample = _sample(texts)
    kinds = Counter(value_identifier_kind(t) for t in sample)
    kinds.pop(None, None)
    if sample and kinds:
        kind, n = kinds.most_common(1)[0]
        if n >= ID_SHARE * len(sample):
            return f"{n} of {len(sample)} patient IDs look like {IDENTIFIER_KINDS[kind]}"
    return ""


def _column_kind(role: ColumnRole, patients: pd.DataFrame) -> tuple[str, str] | None:
    """``(kind, how it was seen)`` for an identifier column, else None."""
    kind = header_identifier_kind(role.column)
    if kind is not None:
        return kind, "by its header"
    if role.role != "attribute" or role.column not in patients:
        return None
    values = _sample(patients[role.column])
    found = _kind_by_values(values)
    if found is None:
        return None
    kind, n = found
    return kind, f"by its values: {n} of the {len(values)} looked at"


def find_identifiers(
    roles: Sequence[ColumnRole], patients: pd.DataFrame, log: IssueLog
) -> Identifiers:
    """Judge every column; record a warning for each identifier; return the findings.

    ``patients`` is the loader's patients table (indexed by patient ID, the other
    attribute columns under their header text).
    """
    id_column = next(r.column for r in roles if r.role == "patient_id")
    reason = _direct_reason(id_column, patients.index)
    if reason:
        log.record(
            "warning",
            "identifier_column",
            f"the patient IDs look like direct identifiers: {reason}; by default patients "
            f"are labelled {pseudonym_range(len(patients))} in file order in every figure, "
            "table, export and report",
            column=id_column,
        )
    columns: list[tuple[str, str]] = []
    for role in roles:
        if role.role not in ("attribute", "ignore"):
            continue
        found = _column_kind(role, patients)
        if found is None:
            continue
        kind, how = found
        columns.append((role.column, kind))
        kept_out = (
            "it is not read (ignored)"
            if role.role == "ignore"
            else "by default it is left out of every figure, table, export and report"
        )
        log.record(
            "warning",
            "identifier_column",
            f"this column looks like an identifier: {IDENTIFIER_KINDS[kind]} (judged {how}); "
            f"{kept_out}",
            column=role.column,
        )
    return Identifiers(id_column, reason, tuple(columns))
