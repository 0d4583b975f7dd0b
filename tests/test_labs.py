"""The lab catalogue: names, units, conversions, ranges, defaults and time tokens.

Golden values: every header synonym, conversion factor, plausible range, default
meaningful change and time token the dashboard has recognised so far. Changing one
changes what a clinician's file means, so each is spelled here with its source.
"""

from __future__ import annotations

import ast
import doctest
import math
import re
from pathlib import Path

import pytest

from analytics import labs
from analytics.lab_table import markdown_table
from analytics.labs import (
    LABS,
    canonical_lab,
    conventional_unit,
    default_change,
    format_time,
    implausible,
    is_log_scale,
    parse_time,
    plausible_range,
    threshold_lab,
    unit_factor,
)
from analytics.reading.headers import recognise_header

# --------------------------------------------------------------------------- names

# Every synonym the header reader accepts (the study's spreadsheets and the clinical
# guide's list of header spellings), with the lab it means.
SYNONYMS = [
    ("hgb", "hgb"),
    ("hb", "hgb"),
    ("hemoglobin", "hgb"),
    ("haemoglobin", "hgb"),
    ("mcv", "mcv"),
    ("mean corpuscular volume", "mcv"),
    ("mean cell volume", "mcv"),
    ("hepcidin", "hepcidin"),
    ("hepcidin 25", "hepcidin"),
    ("hepcidin-25", "hepcidin"),
    ("tsat", "tsat"),
    ("%iron saturation", "tsat"),
    ("iron saturation", "tsat"),
    ("% iron sat", "tsat"),
    ("iron sat", "tsat"),
    ("transferrin saturation", "tsat"),
    ("tfsat", "tsat"),
    ("% saturation", "tsat"),  # hospital systems' iron panel (% SATURATION)
    ("transferrin sat", "tsat"),
    ("ferritin", "ferritin"),
    ("serum ferritin", "ferritin"),
    ("iron", "iron"),
    ("serum iron", "iron"),
    ("fe", "iron"),
    ("tibc", "tibc"),
    ("total iron binding capacity", "tibc"),
    ("retic", "retic"),
    ("retics", "retic"),
    ("reticulocytes", "retic"),
    ("reticulocyte", "retic"),
    ("reticulocyte count", "retic"),
]

# Display name and conventional unit of each lab (the study's tables).
NAMES = {
    "hgb": ("Hemoglobin", "g/dL"),
    "mcv": ("MCV", "fL"),
    "hepcidin": ("Hepcidin", "ng/mL"),
    "tsat": ("Transferrin saturation", "%"),
    "ferritin": ("Ferritin", "ng/mL"),
    "iron": ("Serum iron", "µg/dL"),
    "tibc": ("TIBC", "µg/dL"),
    "retic": ("Reticulocytes", "%"),
}


@pytest.mark.parametrize(("synonym", "key"), SYNONYMS)
def test_every_synonym_names_its_lab(synonym, key):
    assert canonical_lab(synonym).key == key
    assert canonical_lab(synonym.upper()).key == key
    header = recognise_header(f"{synonym} 2")
    assert (header.role, header.lab_key, header.time) == ("lab", key, 2.0)


def test_the_synonym_list_is_complete():
    listed = {(key, synonym) for synonym, key in SYNONYMS}
    catalogue = {(spec.key, s) for spec in LABS.values() for s in spec.synonyms}
    assert catalogue == listed


def test_names_and_conventional_units():
    assert {key: (spec.name, spec.unit) for key, spec in LABS.items()} == NAMES
    for key, (_name, unit) in NAMES.items():
        assert conventional_unit(key) == unit
    assert conventional_unit("sodium") == ""
    assert canonical_lab("sodium") is None


# --------------------------------------------------------------------------- units

# Value in the unit per 1 conventional unit, from molar masses: hemoglobin monomer
# 16,114 g/mol (10 / 16.114 = 0.6206), hepcidin-25 2789.4 g/mol, ferritin 445 kDa
# (1000 / 445 = 2.247), iron 55.845 g/mol (10 / 55.845 = 0.179); 1 dL = 0.1 L.
CONVERSIONS = [
    ("hgb", "g/dL", 1.0, 1.0),
    ("hgb", "g/L", 10.0, 10.0),
    ("hgb", "mmol/L", 0.6206, 10 / 16.114),
    ("mcv", "fL", 1.0, 1.0),
    ("hepcidin", "ng/mL", 1.0, 1.0),
    ("hepcidin", "µg/L", 1.0, 1.0),
    ("hepcidin", "nmol/L", 1 / 2.789, 1 / 2.7894),
    ("ferritin", "ng/mL", 1.0, 1.0),
    ("ferritin", "µg/L", 1.0, 1.0),
    ("ferritin", "pmol/L", 2.247, 1000 / 445),
    ("tsat", "%", 1.0, 1.0),
    ("iron", "µg/dL", 1.0, 1.0),
    ("iron", "µmol/L", 0.179, 10 / 55.845),
    ("tibc", "µg/dL", 1.0, 1.0),
    ("tibc", "µmol/L", 0.179, 10 / 55.845),
    ("retic", "%", 1.0, 1.0),
]


@pytest.mark.parametrize(("lab", "unit", "factor", "from_molar_mass"), CONVERSIONS)
def test_every_conversion_factor(lab, unit, factor, from_molar_mass):
    assert unit_factor(lab, unit) == factor
    assert math.isclose(factor, from_molar_mass, rel_tol=1e-3)


@pytest.mark.parametrize(
    ("lab", "written", "factor"),
    [("hgb", "G/L", 10.0), ("iron", "umol/L", 0.179), ("ferritin", "mcg/L", 1.0), ("hgb", "", 1.0)],
)
def test_units_are_compared_normalised(lab, written, factor):
    assert unit_factor(lab, written) == factor


def test_unknown_units_and_labs_have_no_factor():
    assert unit_factor("hgb", "mg/dL") is None
    assert unit_factor("sodium", "mmol/L") is None
    listed = {(lab, unit) for lab, unit, _f, _m in CONVERSIONS}
    for spec in LABS.values():
        assert (spec.key, spec.unit) in listed


# --------------------------------------------------------------------------- plausible ranges

# Clinical reference ranges widened to what a real file can hold: outside them a value
# suggests a unit or column mistake (the loader's "implausible_value" warning).
PLAUSIBLE = [
    ("hgb", "g/dL", (3, 25)),
    ("hgb", "g/L", (30, 250)),
    ("hgb", "mmol/L", (1.8, 15.5)),
    ("mcv", "fL", (50, 130)),
    ("ferritin", "ng/mL", (1, 5000)),
    ("ferritin", "µg/L", (1, 5000)),
    ("ferritin", "pmol/L", (2.2, 11_300)),
    ("hepcidin", "ng/mL", (0.1, 500)),
    ("hepcidin", "nmol/L", (0.03, 100)),
    ("tsat", "%", (0, 100)),
    ("iron", "µg/dL", (10, 300)),
    ("iron", "µmol/L", (2, 55)),
    ("tibc", "µg/dL", (100, 700)),
    ("tibc", "µmol/L", (18, 125)),
    ("retic", "%", (0, 30)),
]


@pytest.mark.parametrize(("lab", "unit", "bounds"), PLAUSIBLE)
def test_every_plausible_range(lab, unit, bounds):
    assert plausible_range(lab, unit) == bounds
    low, high = bounds
    assert implausible(lab, unit, low) == ""
    assert implausible(lab, unit, high) == ""
    assert "outside the plausible range" in implausible(lab, unit, high * 2 + 1)


def test_no_range_for_unknown_lab_or_unit():
    assert plausible_range("hgb", "mg/dL") is None
    assert plausible_range("sodium", "mmol/L") is None
    assert implausible("sodium", "mmol/L", 1e6) == ""


@pytest.mark.parametrize(
    ("lab", "unit", "value", "hint"),
    [
        ("hgb", "g/dL", 120, "looks like g/L, not g/dL"),
        ("mcv", "fL", 30, "looks like MCH or MCHC, not MCV"),
        ("iron", "µg/dL", 5, "looks like µmol/L, not µg/dL"),
    ],
)
def test_unit_mistake_hints(lab, unit, value, hint):
    assert implausible(lab, unit, value).endswith(hint)


# --------------------------------------------------------------------------- defaults and flags

# The study's "change worth detecting" (README, Power page), in conventional units.
MEANINGFUL = {"mcv": 3.0, "hgb": 1.0, "hepcidin": 10.0, "tsat": 5.0, "ferritin": 50.0}


def test_meaningful_change_defaults():
    catalogue = {key: lab.meaningful_change for key, lab in LABS.items()}
    assert {key: d for key, d in catalogue.items() if d is not None} == MEANINGFUL
    for key, delta in MEANINGFUL.items():
        assert default_change(key, NAMES[key][1]) == delta
        # equivalence margins default to the meaningful change
        assert LABS[key].equivalence_margin == delta
    assert default_change("hgb", "g/L") == 10.0
    assert default_change("hgb", "mmol/L") == pytest.approx(0.6206)
    assert default_change("ferritin", "pmol/L") == pytest.approx(112.35)
    assert default_change("iron", "µg/dL") is None
    assert default_change("hgb", "mg/dL") is None


def test_log_scale_and_threshold_labs():
    # right-skewed labs, analysed on the ratio scale (hepcidin, ferritin)
    assert {key for key in LABS if is_log_scale(key)} == {"hepcidin", "ferritin"}
    assert not is_log_scale("sodium")
    # WHO 2011 anemia cut-offs are hemoglobin values; microcytosis is an MCV limit
    assert {kind: threshold_lab(kind).key for lab in LABS.values() for kind in lab.thresholds} == {
        "anemia": "hgb",
        "microcytosis": "mcv",
    }
    with pytest.raises(KeyError):
        threshold_lab("iron deficiency")


# --------------------------------------------------------------------------- time tokens

# Every token README "Using it with your own file" lists, with its month and label.
TIMES = [
    ("0", 0.0, "month 0"),
    ("baseline", 0.0, "baseline"),
    ("pre", 0.0, "baseline"),
    ("start", 0.0, "baseline"),
    ("base", 0.0, "baseline"),
    ("bl", 0.0, "baseline"),
    ("2", 2.0, "month 2"),
    ("2m", 2.0, "month 2"),
    ("2mo", 2.0, "month 2"),
    ("2 months", 2.0, "month 2"),
    ("month 2", 2.0, "month 2"),
    ("m2", 2.0, "month 2"),
    ("2mth", 2.0, "month 2"),
    ("2w", 0.5, "2 weeks"),
    ("2wk", 0.5, "2 weeks"),
    ("2 weeks", 0.5, "2 weeks"),
    ("week 2", 0.5, "2 weeks"),
    ("1.5", 1.5, "month 1.5"),
    ("6w", 1.5, "6 weeks"),
    ("Month_6", 6.0, "month 6"),
    ("-2", 2.0, "month 2"),  # "-" separates words in a header ("MCV-2"), so no negative times
]


@pytest.mark.parametrize(("token", "months", "label"), TIMES)
def test_time_tokens(token, months, label):
    assert parse_time(token) == (months, label)


@pytest.mark.parametrize("token", ["", "two", "2 days", "month", "2 m 3", "x" * 10_000])
def test_not_time_tokens(token):
    assert parse_time(token) is None


@pytest.mark.parametrize(
    ("months", "label"),
    [
        (0.0, "month 0"),
        (0.5, "2 weeks"),
        (0.25, "1 weeks"),
        (1.0, "month 1"),
        (1.25, "5 weeks"),
        (1.5, "6 weeks"),
        (2.0, "month 2"),
        (0.3, "month 0.3"),
        (12.0, "month 12"),
    ],
)
def test_format_time_round_trip(months, label):
    # a week is a quarter month (the study's convention); whole months are months
    assert format_time(months) == label
    assert parse_time(label)[0] == months


# --------------------------------------------------------------------------- README and pages

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
BEGIN, END = "<!-- lab table: begin -->\n", "\n<!-- lab table: end -->"


def test_readme_lab_table_is_the_catalogue():
    assert README.count(BEGIN) == 1 and README.count(END) == 1
    written = README.split(BEGIN)[1].split(END)[0]
    assert written == markdown_table(), "paste the output of: python -m analytics.lab_table"


def _sentence(start: str) -> str:
    """The README sentence that begins with ``start`` (line breaks joined)."""
    text = " ".join(README.split())
    assert text.count(start) == 1, start
    return start + text.split(start)[1].split(". ")[0]


def test_readme_names_the_conventional_units_and_the_conversions():
    sentence = _sentence("Thresholds and the default meaningful changes are stated in")
    units, conversions = re.findall(r"\(([^()]*)\)", sentence)
    # the units the defaults and thresholds are stated in, in catalogue order
    stated = [lab.unit for lab in LABS.values() if lab.meaningful_change or lab.thresholds]
    assert units.split(", ") == list(dict.fromkeys(stated))
    # every conversion that changes the number (µg/L is ng/mL), and only those
    listed = set()
    for part in conversions.split(", "):
        names, written = part.split(" in ")
        for name in names.split(" and "):
            listed |= {(canonical_lab(name).key, u) for u in written.split(" or ")}
    catalogue = {(lab.key, u) for lab in LABS.values() for u, f in lab.conversions.items()}
    assert listed == {(key, u) for key, u in catalogue if unit_factor(key, u) != 1.0}


def _defaults(text: str) -> dict[str, tuple[float, str]]:
    """``MCV 3 fL, Hgb 1 g/dL, ...`` read as {lab key: (value, unit)}."""
    found = {}
    for part in text.split(", "):
        name, value, unit = part.split(" ", 2)
        key = {lab.short: lab.key for lab in LABS.values()}[name]  # the study's short names
        found[key] = (float(value), unit)
    return found


def _catalogue_defaults() -> dict[str, tuple[float, str]]:
    return {
        k: (lab.meaningful_change, lab.unit) for k, lab in LABS.items() if lab.meaningful_change
    }


def test_readme_power_defaults_are_the_catalogue():
    match = re.search(r"change you call meaningful \(defaults: ([^)]*)\)", README)
    assert _defaults(match.group(1)) == _catalogue_defaults()


def test_power_page_defaults_are_the_catalogue():
    page = (ROOT / "pages" / "power.py").read_text(encoding="utf-8")
    joined = re.sub(r'"\s*\n\s*"', "", page)  # adjacent string literals as one text
    match = re.search(r"Defaults: ([^(]*?) \(converted", joined)
    assert _defaults(match.group(1)) == _catalogue_defaults()


def test_readme_time_tokens_parse_as_stated():
    sentence = _sentence("Time tokens:")
    groups = re.findall(r"((?:`[^`]+`(?:, )?)+) \(([^)]*)\)", sentence)
    assert len(groups) == 3
    stated = {"month 0": 0.0, "month 2": 2.0, "2 weeks = 0.5 month": 0.5}
    tokens = []
    for listed, meaning in groups:
        for token in re.findall(r"`([^`]+)`", listed):
            assert parse_time(token)[0] == stated[meaning], token
            tokens.append(token)
    assert set(tokens) <= {token for token, _m, _l in TIMES}


# --------------------------------------------------------------------------- the catalogue's home


def test_catalogue_examples_run():
    result = doctest.testmod(labs, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 20
    assert result.failed == 0


OLD_HOMES = {"columns", "units", "attributes", "power", "analysis"}


def _imports(path: Path) -> list[tuple[str, str]]:
    """(module, name) for every ``from analytics.X import name`` or ``from .X import name``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            module = node.module.removeprefix("analytics.")
            found += [(module, alias.name) for alias in node.names]
    return found


def test_lab_facts_are_imported_from_the_catalogue_only():
    public = set(labs.__all__) | {"LabSpec", "CLINICAL_DELTA_DEFAULTS", "PLAUSIBLE_RANGES"}
    public |= {"LOG_SCALE_LABS", "PREVALENCE_LABS", "default_delta", "CONVERSIONS"}
    sources = [p for p in ROOT.rglob("*.py") if ".venv" not in p.parts]
    assert len(sources) > 40
    wrong = [
        f"{path.relative_to(ROOT)}: {name} from {module}"
        for path in sources
        for module, name in _imports(path)
        if module in OLD_HOMES and name in public
    ]
    assert wrong == []
    assert not (ROOT / "analytics" / "units.py").exists()
