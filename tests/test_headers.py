"""Columns as clinicians name them, and columns that look like a role they were not given."""

from __future__ import annotations

import json
import re

import pytest
from clinic_export import HEADERS, LAB_COLUMNS, ON_EPO, ON_IRON, PATIENTS, clinic_csv, clinic_xlsx

from analytics import load_cohort, parse_mapping
from analytics.cli import main
from analytics.filters import CohortFilter
from analytics.labs import canonical_lab
from analytics.reading.headers import parse_role, recognise_header


def _csv(text: str) -> bytes:
    return text.encode("utf-8")


# --------------------------------------------------------------------------- header names

PATIENT_ID_HEADERS = [
    "MRN",
    "mrn",
    "MRN #",
    "MR#",
    "medical record number",
    "Medical Record No.",
    "record #",
    "Record No",
    "record no.",
    "pt id",
    "Pt. ID",
    "pt #",
    "Pt#",
    "patient no.",
    "Patient Number",
    "Patient Nr",
    "hospital number",
    "Hosp. No.",
    "Hospital #",
    "study id",
    "Subject #",
    "Case No.",
]


@pytest.mark.parametrize("header", PATIENT_ID_HEADERS)
def test_patient_id_as_clinicians_name_it(header):
    assert recognise_header(header).role == "patient_id"


ATTRIBUTE_HEADERS = [
    ("On oral iron?", "iron"),
    ("on iron?", "iron"),
    ("Oral iron (Y/N)", "iron"),
    ("Iron therapy y/n", "iron"),
    ("Iron supplementation?", "iron"),
    ("Taking oral iron", "iron"),
    ("EPO", "epo"),
    ("On EPO?", "epo"),
    ("ESA (y/n)", "epo"),
    ("Sex (M/F)", "sex"),
    ("Sex M/F", "sex"),
    ("M/F", "sex"),
    ("Iron pills", "iron"),
    ("Gender:", "sex"),
    ("Age at start (yrs)", "age"),
    ("Age at start", "age"),
    ("Age at sirolimus start", "age"),
    ("Age at transplant (years)", "age"),
    ("Age group", "age_group"),
    # identifiers and free text keep no role (identifier warnings are another matter)
    ("Pt Initials", "attribute"),
    ("Initials", "attribute"),
    ("DOB", "attribute"),
    ("Date of birth", "attribute"),
    ("Notes", "attribute"),
    ("IV iron", "attribute"),  # not oral iron: a warning asks (see below)
    ("Iron Sat %", "attribute"),  # a lab without a time: a warning asks
    ("Serum iron", "attribute"),
    ("Epo dose (IU/week)", "attribute"),
]


@pytest.mark.parametrize(("header", "role"), ATTRIBUTE_HEADERS)
def test_attribute_header_with_punctuation(header, role):
    assert recognise_header(header).role == role


LAB_HEADERS = [
    ("Iron Sat % pre", "tsat", 0.0, "%"),
    ("Iron Sat (%) 2 mo", "tsat", 2.0, "%"),
    ("TSAT% 2", "tsat", 2.0, "%"),
    ("% iron sat 6", "tsat", 6.0, "%"),
    ("Hgb pre", "hgb", 0.0, "g/dL"),
    ("Hgb, pre", "hgb", 0.0, "g/dL"),
    ("Hgb 2 mo", "hgb", 2.0, "g/dL"),
    ("Hgb? 2 mo", "hgb", 2.0, "g/dL"),
    ("MCV 2 mo", "mcv", 2.0, "fL"),
    ("MCV pre", "mcv", 0.0, "fL"),
    ("Hepcidin (ng/mL) baseline", "hepcidin", 0.0, "ng/mL"),
    ("Hepcidin (ng/mL) 2 mo", "hepcidin", 2.0, "ng/mL"),
    ("Hb 2,5 mo", "hgb", 2.5, "g/dL"),  # a decimal comma in the time
    ("iron 0", "iron", 0.0, "µg/dL"),  # serum iron: a lab name followed by a time
]


@pytest.mark.parametrize(("header", "key", "time", "unit"), LAB_HEADERS)
def test_lab_header_with_punctuation(header, key, time, unit):
    role = recognise_header(header)
    assert (role.role, role.lab_key, role.time, role.unit, role.known_lab) == (
        "lab",
        key,
        time,
        unit,
        True,
    )


def test_unknown_lab_with_a_percent_sign_keeps_its_name_and_takes_percent_as_unit():
    role = recognise_header("Neutrophils % 2")
    assert (role.lab_name, role.unit, role.time, role.known_lab) == ("Neutrophils", "%", 2.0, False)


@pytest.mark.parametrize("name", ["Iron Sat %", "iron sat", "%Iron Saturation", "TSAT %", "tsat%"])
def test_tsat_names_with_percent_signs(name):
    assert canonical_lab(name).key == "tsat"


def test_long_layout_lab_named_iron_sat_percent_is_tsat():
    text = "pt id,lab,time,value\nA,Iron Sat %,0,22\nA,Iron Sat %,2,18\nB,Iron Sat %,0,30\n"
    cohort = load_cohort(_csv(text), "long.csv")
    assert list(cohort.analytes) == ["tsat"]
    assert cohort.lab_matrix("tsat").loc["A"].tolist() == [22.0, 18.0]


def test_study_id_wins_over_a_record_number_for_the_patient_id():
    for text in ("MRN,Study ID,MCV 0\n4410021,S1,80\n", "Study ID,MRN,MCV 0\nS1,4410021,80\n"):
        cohort = load_cohort(_csv(text), "x.csv")
        assert list(cohort.patients.index) == ["S1"]
        taken = [w for w in cohort.report.warnings if w.kind == "role_already_taken"]
        assert [w.column for w in taken] == ["MRN"]


def test_patient_id_set_by_the_user_wins_over_a_recognised_one():
    text = "Study ID,Code,MCV 0\nS1,C1,80\n"
    cohort = load_cohort(_csv(text), "x.csv", mapping={"Code": "patient_id"})
    assert list(cohort.patients.index) == ["C1"]


# --------------------------------------------------------------------------- the clinic's file

CLINIC = [("chart_review.xlsx", clinic_xlsx), ("chart_review.csv", clinic_csv)]


@pytest.fixture(params=CLINIC, ids=[c[0] for c in CLINIC])
def clinic(request):
    name, make = request.param
    return load_cohort(make(), name)


def test_clinic_file_columns_get_their_roles_without_any_mapping(clinic):
    roles = {r.column: r for r in clinic.mapping}
    assert list(roles) == list(HEADERS)
    simple = {c: roles[c].role for c in HEADERS if c not in LAB_COLUMNS}
    assert simple == {
        "MRN": "patient_id",
        "Pt Initials": "attribute",
        "DOB": "attribute",
        "Sex (M/F)": "sex",
        "Age at start": "age",
        "On oral iron?": "iron",
        "EPO": "epo",
        "Notes": "attribute",
    }
    labs = {c: (roles[c].lab_key, roles[c].time, roles[c].unit) for c in LAB_COLUMNS}
    assert labs == LAB_COLUMNS
    assert all(roles[c].role == "lab" and roles[c].known_lab for c in LAB_COLUMNS)


def test_clinic_file_rows_and_title(clinic):
    report = clinic.report
    assert report.header_row == 2
    assert [e.kind for e in report.excluded] == ["above_header"]
    assert clinic.n_patients == len(PATIENTS)
    assert report.n_rows_in == report.n_rows_used + len(report.excluded)


def test_clinic_file_iron_and_epo_filters_select_the_patients_on_them(clinic):
    on_iron = CohortFilter(iron=True).apply(clinic)
    assert set(on_iron.cohort.patients.index) == ON_IRON
    assert on_iron.n == 6  # the six "Y" rows of tests/clinic_export.py
    assert set(CohortFilter(epo=True).apply(clinic).cohort.patients.index) == ON_EPO
    assert CohortFilter(iron=False).apply(clinic).n == len(PATIENTS) - 6


def test_clinic_file_cells(clinic):
    patients = clinic.patients
    first = patients.loc["4410021"]
    assert (first["sex"], first["age"], first["iron"], first["epo"]) == ("M", 62.0, True, False)
    hepcidin = clinic.labs[clinic.labs["analyte"] == "hepcidin"]
    censored = hepcidin[hepcidin["censored"] == "<"]
    # '<5' in rows 4 (month 2), 6 (months 0 and 2) and 12 (month 2) of the sheet
    assert sorted(zip(censored["patient_id"], censored["time"], strict=True)) == [
        ("4410388", 2.0),
        ("4412950", 0.0),
        ("4412950", 2.0),
        ("4416743", 2.0),
    ]
    assert set(censored["value"]) == {5.0}
    hgb = clinic.lab_matrix("hgb")
    assert hgb.loc["4413314"].isna().tolist() == [False, True]  # 'n/a' at month 2
    assert hgb.loc["4410021"].tolist() == [12.4, 11.7]  # '12,4' and '11,7' in the CSV


def test_clinic_file_keeps_initials_and_birth_dates_out_of_any_role(clinic):
    roles = {r.column: r.role for r in clinic.mapping}
    assert roles["Pt Initials"] == roles["DOB"] == "attribute"
    assert not [w for w in clinic.report.warnings if w.kind == "looks_like_role"]


def test_clinic_file_twins_read_the_same_lab_values():
    def labs(cohort):
        frame = cohort.labs[["patient_id", "analyte", "time", "value", "censored"]]
        return frame.sort_values(["patient_id", "analyte", "time"]).reset_index(drop=True)

    xlsx = load_cohort(clinic_xlsx(), "chart_review.xlsx")
    csv = load_cohort(clinic_csv(), "chart_review.csv")
    assert "Windows-1252 encoding, semicolon-separated, decimal comma" in csv.source.how_read
    assert labs(xlsx).equals(labs(csv))


def test_clinic_csv_validates_on_the_command_line_without_map(tmp_path, capsys):
    path = tmp_path / "chart_review.csv"
    path.write_bytes(clinic_csv())
    assert main(["validate", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n_patients"] == len(PATIENTS)
    assert out["analytes"]["tsat"] == [0.0]


# --------------------------------------------------------------------------- looks like a role

LOOKS_LIKE = [
    # (file, column, words the warning must contain, the --map it advises)
    ("id,IV iron,MCV 0\n1,yes,80\n2,no,82\n3,,81\n", "IV iron", "iron therapy", "IV iron=iron"),
    ("id,Iron IV (1/0),MCV 0\n1,1,80\n2,0,82\n", "Iron IV (1/0)", "iron therapy", "=iron"),
    ("id,Epo dose (IU/wk),MCV 0\n1,4000,80\n2,,82\n", "Epo dose (IU/wk)", "Epo", "=epo"),
    ("id,Aranesp or EPO used,MCV 0\n1,Y,80\n2,N,82\n", "Aranesp or EPO used", "Epo", "=epo"),
    ("id,MF,MCV 0\n1,M,80\n2,f,82\n3,F,81\n", "MF", "sex", "MF=sex"),
    ("id,Gndr,MCV 0\n1,male,80\n2,female,82\n", "Gndr", "sex", "Gndr=sex"),
    ("id,Ferritin,MCV 0\n1,120,80\n2,<15,82\n", "Ferritin", "Ferritin", "Ferritin=lab:ferritin:0"),
    ("id,Iron Sat %,MCV 0\n1,22,80\n2,19,82\n", "Iron Sat %", "Transferrin", "=lab:tsat:0"),
    ("id,Hgb nadir,MCV 0\n1,9.8,80\n2,10.1,82\n", "Hgb nadir", "Hemoglobin", "=lab:hgb:0"),
]


@pytest.mark.parametrize(("text", "column", "words", "advice"), LOOKS_LIKE)
def test_column_that_looks_like_a_role_is_a_warning(text, column, words, advice):
    warnings = load_cohort(_csv(text), "x.csv").report.warnings
    hints = [w for w in warnings if w.kind == "looks_like_role"]
    assert [w.column for w in hints] == [column]
    assert words in hints[0].message
    assert advice in hints[0].message
    assert "Columns on the Data page" in hints[0].message


def _advised_mapping(message: str) -> dict[str, str]:
    """The ``--map "COLUMN=ROLE"`` a warning advises, as the loader takes it."""
    found = re.search(r'--map "([^"]+)"', message)
    assert found, message
    return parse_mapping([found.group(1)])


@pytest.mark.parametrize(("text", "column", "words", "advice"), LOOKS_LIKE)
def test_following_the_advice_gives_the_role_and_silences_the_warning(text, column, words, advice):
    hint = next(
        w for w in load_cohort(_csv(text), "x.csv").report.warnings if w.kind == "looks_like_role"
    )
    mapping = _advised_mapping(hint.message)
    assert list(mapping) == [column]
    cohort = load_cohort(_csv(text), "x.csv", mapping=mapping)
    assert not [w for w in cohort.report.warnings if w.kind == "looks_like_role"]
    role = next(r for r in cohort.mapping if r.column == column)
    advised = parse_role(column, mapping[column])
    assert (role.role, role.lab_key, role.time) == (advised.role, advised.lab_key, advised.time)
    quiet = load_cohort(_csv(text), "x.csv", mapping={column: "attribute"})
    assert not [w for w in quiet.report.warnings if w.kind == "looks_like_role"]


def test_iv_iron_yes_no_becomes_the_iron_filter_when_assigned():
    text = "id,IV iron,MCV 0\n1,yes,80\n2,no,82\n3,yes,81\n"
    cohort = load_cohort(_csv(text), "x.csv", mapping={"IV iron": "iron"})
    assert set(CohortFilter(iron=True).apply(cohort).cohort.patients.index) == {"1", "3"}


QUIET = [
    # names and cells that must not be taken for a role
    "id,Pt Initials,DOB,Notes,MCV 0\n1,J.D.,1961-03-14,fine,80\n2,M.F.,1975-11-02,,82\n",
    "id,Diabetes,MCV 0\n1,yes,80\n2,no,82\n",  # yes/no, but nothing to do with a role
    "id,Sex,Donor sex,MCV 0\n1,F,M,80\n2,M,F,82\n",  # the file has its sex column
    "id,Oral iron,IV iron,MCV 0\n1,yes,no,80\n2,no,yes,82\n",  # iron therapy is taken
    "id,IV iron dose (mg),MCV 0\n1,200,80\n2,0,82\n",  # a dose, not a lab value
    "id,Ferritin comment,MCV 0\n1,see note,80\n2,high,82\n",  # text under a lab's name
    "id,Iron studies sent?,MCV 0\n1,see note,80\n2,pending,82\n",
]


@pytest.mark.parametrize("text", QUIET)
def test_column_that_does_not_look_like_a_role_gets_no_warning(text):
    warnings = load_cohort(_csv(text), "x.csv").report.warnings
    assert not [w for w in warnings if w.kind == "looks_like_role"]
