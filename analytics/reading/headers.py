"""Recognising what each column of a clinician's spreadsheet holds.

A header is read as a *role*: the patient ID, an attribute (sex, age, age group,
cohort, iron therapy, Epo, ...), a lab value at one time point (``MCV (fL) 2 months``),
a column of the long layout (lab, time, value, unit), a generic attribute, or
``ignore``. Users correct the recognition with ``COLUMN=ROLE`` strings, the same in
the app and on the command line (see :func:`parse_role`). The labs, their names and
units, and the time tokens come from :mod:`analytics.labs`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from analytics.labs import canonical_lab, format_time, lab_key, normalise_text, parse_time
from analytics.limits import LIMITS

__all__ = [
    "ATTRIBUTE_ROLES",
    "LONG_ROLES",
    "ROLE_LABELS",
    "ROLE_WORDS",
    "ColumnRole",
    "parse_role",
    "recognise_header",
    "role_text",
]


#: Patient attribute roles, with the header texts that mean them. Headers are compared
#: after :func:`role_text`: case, punctuation, a unit in brackets and hints such as
#: ``M/F`` or ``y/n`` are ignored, and ``#``, ``no``, ``nr`` and ``num`` read as ``number``.
ATTRIBUTE_ROLES: dict[str, tuple[str, ...]] = {
    "patient_id": (
        "patient",
        "patient id",
        "patient #",
        "patient no",
        "patient number",
        "patient nr",
        "patient code",
        "patient id no",
        "patient identifier",
        "pt",
        "pt id",
        "pt #",
        "id",
        "id #",
        "subject",
        "subject id",
        "subject #",
        "study id",
        "study #",
        "study code",
        "record id",
        "record #",
        "case",
        "case id",
        "case #",
        "participant",
        "participant id",
        "participant #",
        "#",
        "mrn",
        "mrn #",
        "mr #",
        "medical record",
        "medical record #",
        "medical record id",
        "hospital #",
        "hospital id",
        "hosp #",
        "hospital record #",
        "chart #",
        "unit #",
        "ur #",
        "urn",
    ),
    "sex": ("sex", "gender", "m/f", "f/m"),
    "age": ("age", "age years", "age yrs", "age y", "age at start"),
    "age_group": ("age group", "agegroup", "age category", "age cat"),
    "cohort": ("cohort", "study arm", "arm", "study group"),
    "iron": (
        "iron",
        "iron therapy",
        "oral iron",
        "iron supplement",
        "iron supplementation",
        "on iron",
        "iron tx",
    ),
    "epo": ("epo", "erythropoietin", "esa", "epo therapy", "on epo"),
    "reason_for_sirolimus": (
        "reason for sirolimus",
        "indication",
        "sirolimus indication",
        "reason for switch",
    ),
    "immunosuppressants": (
        "other immunosuppressant",
        "other immunosuppressants",
        "other immunosuppression",
        "immunosuppressants",
        "immunosuppression",
        "other immunos uppresants",
    ),
    "reason_for_transplant": (
        "reason for transplant",
        "cause of esrd",
        "primary disease",
        "etiology",
        "diagnosis",
    ),
}


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Roles also recognised from their words in any order: one of the first set
#: (``iron``) with any of the second (``On oral iron?``, ``Age at sirolimus start``).
ROLE_WORDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "sex": (frozenset({"sex", "gender"}), frozenset({"patient", "pt", "biological"})),
    "age": (
        frozenset({"age"}),
        _words(
            "at start baseline years year yrs yr y in of on the first sirolimus srl "
            "rapamycin transplant transplantation tx switch conversion inclusion entry "
            "enrolment enrollment study visit patient pt current"
        ),
    ),
    "iron": (
        frozenset({"iron"}),
        _words(
            "on oral po therapy tx treatment supplement supplements supplementation use "
            "taking receiving given current any prescribed tablets tabs pills "
            "replacement"
        ),
    ),
    "epo": (
        frozenset({"epo", "erythropoietin", "esa", "epoetin", "darbepoetin", "rhepo"}),
        _words("on therapy tx treatment use taking receiving given current any prescribed"),
    ),
}

#: Columns of the long layout (one row per lab value).
LONG_ROLES: dict[str, tuple[str, ...]] = {
    "analyte": (
        "lab",
        "analyte",
        "test",
        "lab test",
        "parameter",
        "test name",
        "test description",
        "lab name",
        "component",
        "component name",
        "observation",
        "investigation",
        "assay",
    ),
    "time": ("time", "month", "months", "time point", "timepoint", "visit"),
    "value": (
        "value",
        "result",
        "lab value",
        "result value",
        "numeric result",
        "observation value",
    ),
    "unit": ("unit", "units", "result unit", "result units", "uom", "unit of measure"),
    # dated results (see analytics.reading.dated): when a long table has no time column
    "date": (
        "date",
        "collected",
        "collection date",
        "collection date/time",
        "collected date",
        "date collected",
        "collected on",
        "collection datetime",
        "result date",
        "result date/time",
        "specimen date",
        "specimen collected",
        "specimen collection date",
        "sample date",
        "sample collected",
        "draw date",
        "date drawn",
        "date/time",
        "date time",
        "datetime",
        "observation date",
        "test date",
        "lab date",
    ),
    "anchor": (
        "sirolimus start",
        "sirolimus start date",
        "date sirolimus started",
        "start of sirolimus",
        "sirolimus started",
        "srl start",
        "srl start date",
        "rapamycin start",
        "start date",
        "date started",
        "drug start",
        "drug start date",
        "treatment start",
        "treatment start date",
        "index date",
        "anchor date",
        "conversion date",
        "date of conversion",
    ),
}

ROLE_LABELS: dict[str, str] = {
    "patient_id": "patient ID",
    "sex": "sex",
    "age": "age (years)",
    "age_group": "age group",
    "cohort": "cohort",
    "iron": "iron therapy",
    "epo": "Epo",
    "reason_for_sirolimus": "reason for sirolimus",
    "immunosuppressants": "other immunosuppressants",
    "reason_for_transplant": "reason for transplant",
    "analyte": "lab name (long layout)",
    "time": "time (long layout)",
    "value": "lab value (long layout)",
    "unit": "unit (long layout)",
    "date": "collection date",
    "anchor": "start date (day 0)",
    "attribute": "other patient attribute",
    "ignore": "ignored",
}

# Every pattern here is linear in the text it runs on: the unit in brackets cannot
# contain an opening bracket, so no two tries scan the same characters, and the
# surrounding spaces are left to the text normaliser. Header texts are also bounded
# (``max_header_chars``, see recognise_header); time tokens are read by analytics.labs.
_UNIT_RE = re.compile(r"[\(\[]([^\(\)\[\]]*)[\)\]]")
MAX_HEADER_CHARS = int(LIMITS["max_header_chars"].value)


@dataclass(frozen=True)
class ColumnRole:
    """What one column was recognised as.

    ``role`` is an attribute role (``patient_id``, ``sex``, ...), a long-layout role
    (``analyte``, ``time``, ``value``, ``unit``), ``lab``, ``attribute`` or ``ignore``.
    For ``lab`` columns, ``lab_key``, ``lab_name``, ``unit`` and ``time`` are set.
    ``known_lab`` is False for a lab name the dashboard has no synonym for (kept
    only if the column holds numbers).
    """

    column: str
    role: str
    lab_key: str = ""
    lab_name: str = ""
    unit: str = ""
    time: float | None = None
    known_lab: bool = True
    source: str = "recognised"

    def describe(self) -> str:
        """The role in plain words, e.g. ``MCV (fL) at month 2``."""
        if self.role == "lab":
            unit = f" ({self.unit})" if self.unit else ""
            return f"{self.lab_name}{unit} at {format_time(self.time or 0.0)}"
        return ROLE_LABELS.get(self.role, self.role)

    def as_role_string(self) -> str:
        """The ``ROLE`` part of a ``COLUMN=ROLE`` correction that reproduces this role."""
        if self.role == "lab":
            unit = f":{self.unit}" if self.unit else ""
            return f"lab:{self.lab_key}:{self.time:g}{unit}"
        return self.role


def _split_unit(header: str) -> tuple[str, str]:
    units = _UNIT_RE.findall(header)
    rest = _UNIT_RE.sub(" ", header) if units else header
    return rest, (units[-1].strip() if units else "")


def _name_words(text: str) -> tuple[list[str], bool]:
    """The words of a lab header without ``%`` signs after a word; True if there was one."""
    words, percent = [], False
    for word in text.split(" "):
        if word.endswith("%"):
            percent = True
            word = word.rstrip("%")
        if word:
            words.append(word)
    return words, percent


def _lab_from_header(header: str) -> ColumnRole | None:
    rest, unit = _split_unit(header)
    words, percent = _name_words(normalise_text(rest))
    if not words:
        return None
    unit = unit or ("%" if percent else "")
    # time at the end ("MCV 2 months"), then at the start ("month 2 MCV")
    for n_time in (3, 2, 1):
        candidates = (
            (words[:-n_time], words[-n_time:]),
            (words[n_time:], words[:n_time]),
        )
        for name_words, time_words in candidates:
            if not name_words:
                continue
            parsed = parse_time(" ".join(time_words))
            if parsed is None:
                continue
            name = " ".join(name_words)
            spec = canonical_lab(name)
            if spec is not None:
                return ColumnRole(header, "lab", spec.key, spec.name, unit or spec.unit, parsed[0])
            if _looks_like_lab_name(name):
                display = _display_name(rest, name_words)
                return ColumnRole(
                    header,
                    "lab",
                    lab_key(display),
                    display,
                    unit,
                    parsed[0],
                    known_lab=False,
                )
    return None


def _looks_like_lab_name(name: str) -> bool:
    text = role_text(name)
    if text in _all_attribute_synonyms() or _role_from_words(text) is not None:
        return False
    return bool(re.search(r"[a-z]", name)) and len(name) <= 40


def _display_name(original_rest: str, name_words: list[str]) -> str:
    """The lab's name as the user wrote it (case kept), without the time token."""
    original = re.sub(r"\s+", " ", original_rest.replace("_", " ")).strip()
    target = " ".join(name_words)
    # take the leading/trailing part of the original that normalises to the name
    tokens = [t for t in (t.rstrip("%") for t in original.split(" ")) if t]

    def same(part: list[str]) -> bool:
        return " ".join(_name_words(normalise_text(" ".join(part)))[0]) == target

    for i in range(len(tokens), 0, -1):
        if same(tokens[:i]):
            return " ".join(tokens[:i])
    for i in range(len(tokens)):
        if same(tokens[i:]):
            return " ".join(tokens[i:])
    return target


_HINT_WORDS = frozenset({"y/n", "yes/no", "m/f", "f/m", "0/1", "1/0", "1=yes", "yes=1"})
_NUMBER_WORDS = {"#": "number", "no": "number", "nr": "number", "num": "number"}


def role_text(header: str) -> str:
    """A header as compared with the role names: see :data:`ATTRIBUTE_ROLES`.

    Examples
    --------
    >>> role_text("On oral iron?"), role_text("Sex (M/F)"), role_text("Record #")
    ('on oral iron', 'sex', 'record number')
    >>> role_text("Patient No."), role_text("Iron therapy y/n")
    ('patient number', 'iron therapy')
    """
    if len(header) > MAX_HEADER_CHARS:
        return ""
    rest, _ = _split_unit(header)
    words = normalise_text(rest.replace("#", " # ")).split(" ")
    kept = [w for w in words if w not in _HINT_WORDS] or words  # "M/F" alone is a name
    return " ".join(_NUMBER_WORDS.get(w, w) for w in kept)


_ATTRIBUTE_SYNONYMS: dict[str, str] = {}


def _all_attribute_synonyms() -> dict[str, str]:
    if not _ATTRIBUTE_SYNONYMS:
        for role, synonyms in (*ATTRIBUTE_ROLES.items(), *LONG_ROLES.items()):
            for synonym in synonyms:
                _ATTRIBUTE_SYNONYMS[role_text(synonym)] = role
    return _ATTRIBUTE_SYNONYMS


def _role_from_words(text: str) -> str | None:
    """The role of :data:`ROLE_WORDS` whose words the header is made of, if any."""
    words = set(text.split(" "))
    for role, (core, filler) in ROLE_WORDS.items():
        if words & core and words <= core | filler:
            return role
    return None


def recognise_header(header: str) -> ColumnRole:
    """Recognise one header text; unknown headers become ``attribute``.

    Unknown lab names followed by a time token (``Na+ [mmol/L] 2``) are returned as
    labs with ``known_lab=False``; the loader keeps them as labs only when the
    column holds numbers.
    """
    if len(header) > MAX_HEADER_CHARS:  # a long text is not a header: nothing is tried on it
        return ColumnRole(header, "attribute")
    text = role_text(header)
    if not text:
        return ColumnRole(header, "ignore")
    role = _all_attribute_synonyms().get(text) or _role_from_words(text)
    if role is not None:
        return ColumnRole(header, role)
    lab = _lab_from_header(header)
    if lab is not None:
        return lab
    return ColumnRole(header, "attribute")


_SIMPLE_ROLES = frozenset({*ATTRIBUTE_ROLES, *LONG_ROLES, "attribute", "ignore"})


def parse_role(column: str, role: str) -> ColumnRole:
    """Parse the ``ROLE`` of a ``COLUMN=ROLE`` correction.

    ``ROLE`` is one of ``patient_id``, ``sex``, ``age``, ``age_group``, ``cohort``,
    ``iron``, ``epo``, ``reason_for_sirolimus``, ``immunosuppressants``,
    ``reason_for_transplant``, ``analyte``, ``time``, ``value``, ``unit``, ``date``,
    ``anchor``, ``attribute``, ``ignore``, or ``lab:LAB:TIME[:UNIT]`` (e.g. ``lab:mcv:2``,
    ``lab:hgb:2w:g/L``).

    Raises
    ------
    ValueError
        With a message listing what is accepted.
    """
    text = role.strip()
    lowered = text.lower().replace(" ", "_")
    aliases = {"id": "patient_id", "patient": "patient_id", "gender": "sex", "iron_therapy": "iron"}
    lowered = aliases.get(lowered, lowered)
    if lowered in _SIMPLE_ROLES:
        return ColumnRole(column, lowered, source="set by you")
    if lowered.startswith("lab:"):
        parts = text.split(":", 3)
        if len(parts) < 3:
            raise ValueError(f"'{role}': write a lab role as lab:LAB:TIME, e.g. lab:mcv:2")
        _, lab, when = parts[:3]
        unit = parts[3].strip() if len(parts) == 4 else ""
        parsed = parse_time(when)
        if parsed is None:
            raise ValueError(f"'{role}': '{when}' is not a time (e.g. 0, 2, 2w, month 6)")
        spec = canonical_lab(lab)
        if spec is not None:
            return ColumnRole(
                column,
                "lab",
                spec.key,
                spec.name,
                unit or spec.unit,
                parsed[0],
                source="set by you",
            )
        name = lab.strip()
        if not name:
            raise ValueError(f"'{role}': the lab name is empty")
        return ColumnRole(
            column,
            "lab",
            lab_key(name),
            name,
            unit,
            parsed[0],
            known_lab=False,
            source="set by you",
        )
    accepted = ", ".join(sorted(_SIMPLE_ROLES))
    raise ValueError(f"'{role}' is not a column role. Use one of {accepted}, or lab:LAB:TIME")
