"""The lab catalogue: everything the dashboard knows about each lab, in one place.

For each lab (:class:`Lab`): the header names it is recognised by, its conventional
unit and the other units it is converted from, the plausible range in each unit, the
default change a clinician would call meaningful, whether it is analysed on the ratio
(log) scale, and the thresholds it takes part in. The time tokens of headers
(``2 months``, ``2w``, ``baseline``) are read and written here too, so a header such as
``Hb (g/L) 2w`` is understood from this module alone.

Thresholds and default meaningful changes are stated in the conventional unit; a lab
given in another unit is compared after conversion, never silently in the wrong unit.
Conversion factors follow from the molar masses: hemoglobin (monomer) 16,114 g/mol,
so mmol/L = g/dL × 0.6206; hepcidin-25 2789 g/mol, so nmol/L = ng/mL ÷ 2.789; ferritin
445 kDa, so pmol/L = ng/mL × 2.247; iron 55.845 g/mol, so µmol/L = µg/dL × 0.179 (TIBC
is stated as iron bound); and g/L = g/dL × 10.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TypeVar

from analytics.limits import LIMITS

__all__ = [
    "LABS",
    "Lab",
    "canonical_lab",
    "conventional_unit",
    "default_change",
    "format_time",
    "implausible",
    "is_log_scale",
    "lab_key",
    "normalise_text",
    "normalise_unit",
    "parse_time",
    "plausible_range",
    "threshold_lab",
    "unit_factor",
]


_T = TypeVar("_T")


@dataclass(frozen=True)
class Lab:
    """One known lab and its facts.

    Units are written as on a lab report (``g/dL``, ``µmol/L``) and compared in the
    form :func:`normalise_unit` gives. ``conversions`` holds the value in each unit per
    one conventional unit (the conventional unit itself is 1). A meaningful change of
    a lab in ``%`` is in percentage points.

    Examples
    --------
    >>> hgb = LABS["hgb"]
    >>> hgb.name, hgb.unit, hgb.meaningful_change, hgb.thresholds
    ('Hemoglobin', 'g/dL', 1.0, ('anemia',))
    >>> hgb.equivalence_margin  # defaults to the meaningful change
    1.0
    >>> LABS["ferritin"].log_scale, LABS["mcv"].log_scale
    (True, False)
    """

    key: str
    name: str
    #: The short name the study's text uses (``Hgb``, ``TSAT``).
    short: str
    unit: str
    synonyms: tuple[str, ...]
    conversions: dict[str, float]
    plausible: dict[str, tuple[float, float]]
    #: unit -> ((low, high), hint): a value in that range suggests a mistaken unit or column.
    unit_hints: dict[str, tuple[tuple[float, float], str]] = field(default_factory=dict)
    #: Default change worth detecting, in the conventional unit; editable, not evidence.
    meaningful_change: float | None = None
    #: Right-skewed: the ratio (log) paired t-test is offered.
    log_scale: bool = False
    #: The prevalence thresholds judged on this lab.
    thresholds: tuple[str, ...] = ()
    #: Margin for equivalence tests, in the conventional unit (default: the meaningful change).
    equivalence_margin: float | None = None
    #: Within-subject biological variation CV_I (%), for the reference change value.
    cv_within: float | None = None
    #: Analytical variation CV_A (%); a laboratory should enter its own from quality control.
    cv_analytical: float | None = None
    #: Where ``cv_within`` and ``cv_analytical`` come from.
    cv_source: str | None = None

    def __post_init__(self) -> None:
        if self.equivalence_margin is None:
            object.__setattr__(self, "equivalence_margin", self.meaningful_change)

    def factor(self, unit: str) -> float | None:
        """Value in ``unit`` per one conventional unit (any spelling), None if unknown.

        Examples
        --------
        >>> LABS["hgb"].factor("G/L"), LABS["hgb"].factor("mg/dL")
        (10.0, None)
        """
        return _by_unit(self.conversions, unit)

    def plausible_range(self, unit: str) -> tuple[float, float] | None:
        """The plausible (low, high) in ``unit`` (any spelling), None if not known.

        Examples
        --------
        >>> LABS["iron"].plausible_range("umol/L")
        (2, 55)
        """
        return _by_unit(self.plausible, unit)

    def unit_hint(self, unit: str, value: float) -> str:
        """What a value outside the plausible range suggests (``""`` when nothing).

        Examples
        --------
        >>> LABS["hgb"].unit_hint("g/dL", 120), LABS["hgb"].unit_hint("g/dL", 400)
        ('looks like g/L, not g/dL', '')
        """
        hint = _by_unit(self.unit_hints, unit)
        if hint is not None and hint[0][0] <= value <= hint[0][1]:
            return hint[1]
        return ""


def _by_unit(table: dict[str, _T], unit: str) -> _T | None:
    wanted = normalise_unit(unit)
    for written, value in table.items():
        if normalise_unit(written) == wanted:
            return value
    return None


_IRON_UNITS = {"µg/dL": 1.0, "µmol/L": 0.179}

# Biological variation. Each within-subject CV is from a cited study of healthy adults;
# the analytical CV is the study's own where it measured one, else the "desirable"
# imprecision of half the within-subject CV (Fraser & Petersen, Clin Chem 1993;39:1447-53),
# a stand-in for the laboratory's own quality-control CV. The EFLM Biological Variation
# Database (biologicalvariation.eu) holds newer meta-analysed estimates; both CVs can be
# set for a view (AnalysisSettings, --cv-within and --cv-analytical).
_DESIRABLE_CVA = "CVa: desirable imprecision, ½ × CVi (Fraser & Petersen, Clin Chem 1993)"
_BV_RED_CELLS = (
    "CVi: 39 healthy adults sampled over 1 year (Arch Pathol Lab Med 1992;116:825-6, "
    f"PubMed 1497462); {_DESIRABLE_CVA}"
)
_BV_PILON = (
    "CVi: day-to-day, 13 healthy adults over 5 weeks (Pilon et al., Clin Chem 1981;27:78-82); "
    f"{_DESIRABLE_CVA}"
)
_BV_IRON = (
    "CVi and CVa: 21 healthy adults, weekly samples over 4 weeks (Cokluk et al., Clin Lab "
    "2021, doi:10.7754/Clin.Lab.2021.210102)"
)
_BV_HEPCIDIN = (
    "CVi: within-day within-subject, CVa: (pre)analytical, serum hepcidin-25 by mass "
    "spectrometry in 24 healthy adults (Kroot et al., Anal Biochem 2009, "
    "doi:10.1016/j.ab.2009.03.039); day-to-day variation may be larger"
)

LABS: dict[str, Lab] = {
    lab.key: lab
    for lab in (
        Lab(
            "hgb",
            "Hemoglobin",
            "Hgb",
            "g/dL",
            ("hgb", "hb", "hemoglobin", "haemoglobin"),
            conversions={"g/dL": 1.0, "g/L": 10.0, "mmol/L": 0.6206},
            plausible={"g/dL": (3, 25), "g/L": (30, 250), "mmol/L": (1.8, 15.5)},
            unit_hints={"g/dL": ((30, 250), "looks like g/L, not g/dL")},
            meaningful_change=1.0,
            thresholds=("anemia",),
            cv_within=2.8,
            cv_analytical=1.4,
            cv_source=_BV_RED_CELLS,
        ),
        Lab(
            "mcv",
            "MCV",
            "MCV",
            "fL",
            ("mcv", "mean corpuscular volume", "mean cell volume"),
            conversions={"fL": 1.0},
            plausible={"fL": (50, 130)},
            unit_hints={"fL": ((20, 37), "looks like MCH or MCHC, not MCV")},
            meaningful_change=3.0,
            thresholds=("microcytosis",),
            cv_within=1.1,
            cv_analytical=0.55,
            cv_source=_BV_RED_CELLS,
        ),
        Lab(
            "hepcidin",
            "Hepcidin",
            "hepcidin",
            "ng/mL",
            ("hepcidin", "hepcidin 25", "hepcidin-25"),
            conversions={"ng/mL": 1.0, "µg/L": 1.0, "nmol/L": 1 / 2.789},
            plausible={"ng/mL": (0.1, 500), "nmol/L": (0.03, 100)},
            meaningful_change=10.0,
            log_scale=True,
            cv_within=30.3,
            cv_analytical=28.6,
            cv_source=_BV_HEPCIDIN,
        ),
        Lab(
            "tsat",
            "Transferrin saturation",
            "TSAT",
            "%",
            (
                "tsat",
                "%iron saturation",
                "iron saturation",
                "% iron sat",
                "iron sat",
                "transferrin saturation",
                "tfsat",
                "% saturation",
                "transferrin sat",
            ),
            conversions={"%": 1.0},
            plausible={"%": (0, 100)},
            meaningful_change=5.0,
            cv_within=28.0,
            cv_analytical=14.0,
            cv_source=_BV_PILON,
        ),
        Lab(
            "ferritin",
            "Ferritin",
            "ferritin",
            "ng/mL",
            ("ferritin", "serum ferritin"),
            conversions={"ng/mL": 1.0, "µg/L": 1.0, "pmol/L": 2.247},
            plausible={"ng/mL": (1, 5000), "µg/L": (1, 5000), "pmol/L": (2.2, 11_300)},
            meaningful_change=50.0,
            log_scale=True,
            cv_within=14.5,
            cv_analytical=7.25,
            cv_source=_BV_PILON,
        ),
        Lab(
            "iron",
            "Serum iron",
            "iron",
            "µg/dL",
            ("iron", "serum iron", "fe"),
            conversions=_IRON_UNITS,
            plausible={"µg/dL": (10, 300), "µmol/L": (2, 55)},
            unit_hints={"µg/dL": ((2, 10), "looks like µmol/L, not µg/dL")},
            cv_within=27.3,
            cv_analytical=0.67,
            cv_source=_BV_IRON,
        ),
        Lab(
            "tibc",
            "TIBC",
            "TIBC",
            "µg/dL",
            ("tibc", "total iron binding capacity"),
            conversions=_IRON_UNITS,
            plausible={"µg/dL": (100, 700), "µmol/L": (18, 125)},
            cv_within=4.8,
            cv_analytical=2.4,
            cv_source=_BV_PILON,
        ),
        Lab(
            "retic",
            "Reticulocytes",
            "retic",
            "%",
            ("retic", "retics", "reticulocytes", "reticulocyte", "reticulocyte count"),
            conversions={"%": 1.0},
            plausible={"%": (0, 30)},
        ),
    )
}

# ------------------------------------------------------------------------------ names

_MAX_NAME_CHARS = int(LIMITS["max_header_chars"].value)


_PUNCTUATION_RE = re.compile(r"[_\-:?!;*\"'`\u2018\u2019\u201c\u201d]+")


def normalise_text(text: str) -> str:
    """Lower-case, punctuation to spaces, single spaces.

    ``_``, ``-``, ``:``, ``?``, ``!``, ``;``, ``*`` and quotation marks become spaces; so
    do ``.`` and ``,`` except as a decimal separator (a decimal comma becomes a point).

    Examples
    --------
    >>> normalise_text("  MCV_(fL).2.5 ")
    'mcv (fl) 2.5'
    >>> normalise_text("On oral iron?"), normalise_text("Hgb, 2,5 mo")
    ('on oral iron', 'hgb 2.5 mo')
    """
    text = str(text).strip().lower().replace("\u00a0", " ")
    text = re.sub(r"(?<=\d),(?=\d)", ".", text)
    text = re.sub(r"(?<!\d)[.,]|[.,](?!\d)", " ", text)
    text = _PUNCTUATION_RE.sub(" ", text)
    return re.sub(r"\s+", " ", text).strip()


def lab_key(name: str) -> str:
    """The key of a lab name: lower case without spaces, dashes or underscores.

    Examples
    --------
    >>> lab_key("Na+ Serum")
    'na+serum'
    """
    return re.sub(r"[\s\-_]+", "", name.lower())


def _compact_name(name: str) -> str:
    """A lab name compared without case, spaces, punctuation or ``%`` signs."""
    return lab_key(normalise_text(name)).replace("%", "")


_BY_COMPACT_NAME: dict[str, str] = {}


def canonical_lab(name: str) -> Lab | None:
    """The known lab a name refers to (case, spaces, punctuation, ``%`` ignored), or None.

    Examples
    --------
    >>> canonical_lab("Haemoglobin").key
    'hgb'
    >>> canonical_lab("% Iron Sat").key, canonical_lab("Iron Sat %").key
    ('tsat', 'tsat')
    >>> canonical_lab("sodium") is None
    True
    """
    if len(name) > _MAX_NAME_CHARS:  # no lab name is that long
        return None
    if not _BY_COMPACT_NAME:
        for lab in LABS.values():
            for written in (lab.key, *lab.synonyms):
                _BY_COMPACT_NAME.setdefault(_compact_name(written), lab.key)
    key = _BY_COMPACT_NAME.get(_compact_name(name))
    return LABS[key] if key is not None else None


def threshold_lab(kind: str) -> Lab:
    """The lab a prevalence threshold (``anemia``, ``microcytosis``) is judged on.

    Examples
    --------
    >>> threshold_lab("anemia").key, threshold_lab("microcytosis").key
    ('hgb', 'mcv')

    Raises
    ------
    KeyError
        When no lab takes part in a threshold of that kind.
    """
    for lab in LABS.values():
        if kind in lab.thresholds:
            return lab
    raise KeyError(kind)


def is_log_scale(analyte: str) -> bool:
    """True for the right-skewed labs analysed on the ratio (log) scale as well.

    Examples
    --------
    >>> is_log_scale("hepcidin"), is_log_scale("hgb"), is_log_scale("sodium")
    (True, False, False)
    """
    lab = LABS.get(analyte)
    return lab is not None and lab.log_scale


# ------------------------------------------------------------------------------ units


def normalise_unit(unit: str) -> str:
    """Comparable form of a unit: lower case, µ for u/mcg/μ, no spaces.

    Examples
    --------
    >>> normalise_unit(" umol/L "), normalise_unit("mcg/dL"), normalise_unit("g / dL")
    ('µmol/l', 'µg/dl', 'g/dl')
    """
    text = unit.strip().lower().replace(" ", "").replace("μ", "µ")
    text = re.sub(r"^(mcg|ug)", "µg", text)
    text = re.sub(r"^umol", "µmol", text)
    return text


def conventional_unit(analyte: str) -> str:
    """The unit thresholds and defaults are stated in (``""`` for an unknown lab).

    Examples
    --------
    >>> conventional_unit("hgb"), conventional_unit("sodium")
    ('g/dL', '')
    """
    lab = LABS.get(analyte)
    return lab.unit if lab else ""


def unit_factor(analyte: str, unit: str) -> float | None:
    """How many of ``unit`` make one conventional unit of the lab; None if unknown.

    An empty unit is taken as the conventional one (the loader fills in the
    conventional unit for a known lab whose header gives none).

    Examples
    --------
    >>> unit_factor("hgb", "g/L"), unit_factor("hgb", ""), unit_factor("hgb", "mg/dL")
    (10.0, 1.0, None)
    >>> unit_factor("iron", "umol/L")
    0.179
    """
    lab = LABS.get(analyte)
    if lab is None:
        return None
    if not unit.strip():
        return 1.0
    return lab.factor(unit)


def default_change(analyte: str, unit: str) -> float | None:
    """The default change worth detecting, in the lab's own unit (None if unknown).

    The defaults are in conventional units and converted: 1 g/dL of hemoglobin is
    10 g/L.

    Examples
    --------
    >>> default_change("hgb", "g/L"), default_change("mcv", "fL"), default_change("iron", "")
    (10.0, 3.0, None)
    """
    lab = LABS.get(analyte)
    factor = unit_factor(analyte, unit)
    if lab is None or lab.meaningful_change is None or factor is None:
        return None
    return lab.meaningful_change * factor


def plausible_range(analyte: str, unit: str) -> tuple[float, float] | None:
    """The plausible (low, high) for a lab in a unit, or None when not known.

    Outside it a value suggests a unit or column mistake.

    Examples
    --------
    >>> plausible_range("hgb", "g/L"), plausible_range("hgb", "mg/dL")
    ((30, 250), None)
    """
    lab = LABS.get(analyte)
    return lab.plausible_range(unit) if lab else None


def implausible(analyte: str, unit: str, value: float) -> str:
    """Why ``value`` is implausible for the lab and unit, or ``""`` when it is plausible.

    Examples
    --------
    >>> implausible("hgb", "g/dL", 12.5)
    ''
    >>> implausible("hgb", "g/dL", 120)
    '120 g/dL is outside the plausible range 3-25 g/dL; looks like g/L, not g/dL'
    """
    bounds = plausible_range(analyte, unit)
    if bounds is None:
        return ""
    low, high = bounds
    if low <= value <= high:
        return ""
    hint = LABS[analyte].unit_hint(unit, value)
    hint = f"; {hint}" if hint else ""
    return f"{value:g} {unit} is outside the plausible range {low:g}-{high:g} {unit}{hint}"


# ------------------------------------------------------------------------------ time tokens

# Every pattern here is linear in the text it runs on, and time tokens longer than
# ``max_value_chars`` are refused before any pattern is tried.
_MAX_TIME_CHARS = int(LIMITS["max_value_chars"].value)
_TIME_WORDS = {"baseline": 0.0, "pre": 0.0, "start": 0.0, "base": 0.0, "bl": 0.0}
_TIME_NUM = r"\d+(?:\.\d+)?"
_MONTH_UNITS = r"m|mo|mos|mon|mth|mths|month|months"
_WEEK_UNITS = r"w|wk|wks|week|weeks"
_TIME_PATTERNS = (
    re.compile(rf"^(?P<n>{_TIME_NUM})\s*(?P<u>{_MONTH_UNITS}|{_WEEK_UNITS})?$"),
    re.compile(rf"^(?P<u>{_MONTH_UNITS}|{_WEEK_UNITS})\s*(?P<n>{_TIME_NUM})$"),
)


def parse_time(token: str) -> tuple[float, str] | None:
    """Read a time token as months after sirolimus start.

    ``0``, ``baseline``, ``pre``, ``start`` are month 0; ``2``, ``2m``, ``2mo``,
    ``2 months``, ``month 2``, ``m2`` are month 2; ``2w``, ``2wk``, ``2 weeks``,
    ``week 2`` are 2 weeks, counted as 0.5 month (the study's convention: a month
    is 4 weeks).

    Returns
    -------
    (months, label) or None when the token is not a time.

    Examples
    --------
    >>> parse_time("baseline"), parse_time("month 2"), parse_time("2wk")
    ((0.0, 'baseline'), (2.0, 'month 2'), (0.5, '2 weeks'))
    >>> parse_time("two") is None
    True
    """
    if len(token) > _MAX_TIME_CHARS:  # never a time: no pattern is tried on it
        return None
    text = normalise_text(token)
    if text in _TIME_WORDS:
        return _TIME_WORDS[text], "baseline"
    for pattern in _TIME_PATTERNS:
        match = pattern.match(text)
        if match:
            number = float(match.group("n"))
            unit = match.group("u") or "m"
            if re.fullmatch(_WEEK_UNITS, unit):
                return number / 4.0, f"{number:g} weeks"
            return number, f"month {number:g}"
    return None


def format_time(months: float) -> str:
    """Plain label for a time in months: ``month 0``, ``2 weeks``, ``month 6``.

    A time that is a whole number of weeks but not of months is written in weeks.

    Examples
    --------
    >>> format_time(0), format_time(0.5), format_time(6), format_time(1.25)
    ('month 0', '2 weeks', 'month 6', '5 weeks')
    """
    if months != 0 and (months * 4) % 1 == 0 and months % 1 != 0:
        return f"{months * 4:g} weeks"
    return f"month {months:g}"
