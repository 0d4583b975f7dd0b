"""The Data page's column pickers: a role per column, and lab, time and unit for lab columns."""

from __future__ import annotations

import re

import pytest
from app_session import XLSX_MIME, sidebar_text, started_app
from clinic_export import HEADERS, ON_IRON, PATIENTS, clinic_csv, clinic_xlsx
from streamlit.testing.v1 import AppTest

from analytics import load_cohort
from analytics.reading.headers import parse_role, recognise_header
from ui.column_editor import MENU, PAGE_SIZE, Pick, corrections, lab_choices, pick_of, unit_choices


def _upload(at: AppTest, name: str, data: bytes, mime: str = "text/csv") -> None:
    at.file_uploader(key="upload").set_value((name, data, mime)).run()
    assert not at.exception, at.exception


def _errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def _click(at: AppTest, key: str) -> None:
    at.button(key=key).click().run()
    assert not at.exception, at.exception


def _patients_table(at: AppTest):
    return at.dataframe[-1].value  # the Patients table closes the Data page


def _role_keys(at: AppTest, prefix: str) -> list[str]:
    return [s.key for s in at.selectbox if re.fullmatch(rf"{prefix}_role_\d+", str(s.key))]


# --------------------------------------------------------------------------- a refused upload

TRANSPLANT_IDS = b"Transplant ID,MCV 0,MCV 2\nT-101,80,78\nT-102,82,79\nT-103,85,80\n"


def test_file_with_an_unrecognised_id_header_loads_after_choosing_its_id_column():
    at = started_app()
    _upload(at, "ids.csv", TRANSPLANT_IDS)
    assert _errors(at)[0].startswith("**ids\\.csv could not be used.** No patient ID column")
    assert at.selectbox(key="fix_role_0").value == "attribute"
    assert at.selectbox(key="fix_lab_1").value == "mcv"  # the lab columns as recognised
    assert at.selectbox(key="fix_time_2").value == 2.0
    at.selectbox(key="fix_role_0").set_value("patient_id").run()
    _click(at, "fix_apply")
    assert _errors(at) == []
    assert "ids.csv" in sidebar_text(at)
    assert "3 of 3 patients" in sidebar_text(at)
    assert list(_patients_table(at).index) == ["T-101", "T-102", "T-103"]
    assert at.selectbox(key="col_role_0").value == "patient_id"
    assert "--map 'Transplant ID=patient_id'" in at.code[-1].value  # the reproduce command


def test_refused_upload_read_again_without_the_id_is_explained_and_can_be_fixed():
    at = started_app()
    _upload(at, "ids.csv", TRANSPLANT_IDS)
    _click(at, "fix_apply")  # nothing chosen: the same refusal, said again
    assert len(_errors(at)) == 2
    assert _errors(at)[1].startswith("No patient ID column was found")
    assert "Demo cohort" in sidebar_text(at)
    at.selectbox(key="fix_role_0").set_value("patient_id").run()
    _click(at, "fix_apply")
    assert _errors(at) == []


# --------------------------------------------------------------------------- a loaded file

UNKNOWN_LAB = b"id,MCV 0,MCV 2,Sat idx 0\nA,80,78,21\nB,82,79,30\nC,85,80,18\n"


def test_unknown_lab_column_becomes_tsat_at_month_0_after_picking():
    at = started_app()
    _upload(at, "labs.csv", UNKNOWN_LAB)
    assert at.selectbox(key="col_role_3").value == "lab"
    assert at.selectbox(key="col_lab_3").value == "Sat idx"  # the file's own name
    assert "Sat idx month 0" in _patients_table(at).columns
    at.selectbox(key="col_lab_3").set_value("tsat").run()
    assert at.selectbox(key="col_unit_3_tsat").value == "%"
    assert at.selectbox(key="col_time_3").value == 0.0
    _click(at, "col_apply")
    assert _errors(at) == []
    table = _patients_table(at)
    assert table["Transferrin saturation month 0"].tolist() == [21.0, 30.0, 18.0]
    assert "Sat idx month 0" not in table.columns
    assert at.selectbox(key="col_lab_3").value == "tsat"
    assert "--map 'Sat idx 0=lab:tsat:0:%'" in at.code[-1].value


def test_lab_column_without_a_time_is_flagged_and_picked_as_a_lab():
    data = b"id,MCV 0,MCV 2,Iron Sat %\nA,80,78,21\nB,82,79,30\nC,85,80,18\n"
    at = started_app()
    _upload(at, "sat.csv", data)
    assert "Iron Sat % \u26a0" in [t.value for t in at.text]  # the warning's column, marked
    assert any("no time point" in w for w in _warnings_text(at))
    at.selectbox(key="col_role_3").set_value("lab").run()
    assert at.selectbox(key="col_lab_3").value == "tsat"  # the lab its name names
    at.selectbox(key="col_time_3").set_value(0.5).run()
    _click(at, "col_apply")
    assert "Transferrin saturation 2 weeks" in _patients_table(at).columns
    assert "Iron Sat % (corrected)" in [t.value for t in at.text]
    assert not any("no time point" in w for w in _warnings_text(at))


def _warnings_text(at: AppTest) -> list[str]:
    """Every message of the validation report's tables."""
    texts = []
    for frame in (d.value for d in at.dataframe):
        for column in ("example (first of them)", "message"):
            if column in frame:
                texts += [str(v) for v in frame[column]]
    return texts


def test_unit_picked_for_hemoglobin_in_g_per_l_ends_the_implausible_warnings():
    data = b"id,Hb 0,Hb 2\nA,121,118\nB,134,125\nC,109,104\n"
    at = started_app()
    _upload(at, "gl.csv", data)
    assert any("looks like g/L" in w for w in _warnings_text(at))
    assert at.selectbox(key="col_unit_1_hgb").options == ["g/dL", "g/L", "mmol/L"]
    at.selectbox(key="col_unit_1_hgb").set_value("g/L").run()
    at.selectbox(key="col_unit_2_hgb").set_value("g/L").run()
    _click(at, "col_apply")
    assert not any("looks like g/L" in w for w in _warnings_text(at))
    assert "--map 'Hb 0=lab:hgb:0:g/L' --map 'Hb 2=lab:hgb:2:g/L'" in at.code[-1].value


def test_picks_survive_another_page_and_undo_forgets_the_corrections():
    at = started_app()
    at.selectbox(key="col_role_9").set_value("ignore").run()  # the demo's epo column
    at.switch_page("pages/cohort.py").run()
    at.switch_page("pages/data.py").run()
    assert at.selectbox(key="col_role_9").value == "ignore"  # not applied, still chosen
    _click(at, "col_apply")
    assert "--map epo=ignore" in at.code[-1].value
    assert "Epo" not in _patients_table(at).columns
    _click(at, "col_undo")
    assert at.selectbox(key="col_role_9").value == "epo"
    assert "--map" not in at.code[-1].value
    assert "Epo" in _patients_table(at).columns


def test_a_wide_file_is_paged_and_picks_on_every_page_apply():
    n_labs = PAGE_SIZE + 4
    header = ",".join(["id", *(f"Lab{i} 0" for i in range(1, n_labs + 1))])
    rows = [",".join([pid, *(str(10 + i) for i in range(n_labs))]) for pid in ("A", "B")]
    at = started_app()
    _upload(at, "wide.csv", "\n".join([header, *rows]).encode())
    assert _role_keys(at, "col") == [f"col_role_{i}" for i in range(PAGE_SIZE)]
    at.selectbox(key="col_role_1").set_value("ignore").run()
    at.selectbox(key="col_page").set_value(PAGE_SIZE).run()
    assert _role_keys(at, "col") == [f"col_role_{i}" for i in range(PAGE_SIZE, n_labs + 1)]
    at.selectbox(key=f"col_role_{n_labs}").set_value("ignore").run()
    _click(at, "col_apply")
    command = at.code[-1].value
    assert "--map 'Lab1 0=ignore'" in command
    assert f"--map 'Lab{n_labs} 0=ignore'" in command


# --------------------------------------------------------------------------- the clinic's file


@pytest.mark.parametrize(
    ("name", "make", "mime"),
    [("chart_review.xlsx", clinic_xlsx, XLSX_MIME), ("chart_review.csv", clinic_csv, "text/csv")],
)
def test_clinic_export_loads_with_its_roles_and_the_iron_filter_works(name, make, mime):
    at = started_app()
    _upload(at, name, make(), mime)
    assert _errors(at) == []
    picked = {h: at.selectbox(key=f"col_role_{i}").value for i, h in enumerate(HEADERS)}
    assert picked["MRN"] == "patient_id"
    assert picked["On oral iron?"] == "iron"
    assert picked["Pt Initials"] == picked["DOB"] == picked["Notes"] == "attribute"
    assert at.selectbox(key="col_lab_13").value == "tsat"  # Iron Sat % pre
    assert f"{len(PATIENTS)} of {len(PATIENTS)} patients" in sidebar_text(at)
    at.selectbox(key="flt_iron").set_value("On iron therapy").run()
    assert not at.exception, at.exception
    assert f"{len(ON_IRON)} of {len(PATIENTS)} patients" in sidebar_text(at)


# --------------------------------------------------------------------------- the mapping


def test_picks_that_say_what_the_column_was_read_as_are_no_correction():
    header_roles = [recognise_header(h) for h in ("id", "Na+ [mmol/L] 2", "MCV (fL) 0", "x")]
    picks = {i: pick_of(role) for i, role in enumerate(header_roles)}
    assert corrections(header_roles, picks) == {}
    picks[1] = Pick("lab", "Na+", 2.0, "mmol/L")
    picks[3] = Pick("ignore")
    assert corrections(header_roles, picks) == {"x": "ignore"}


@pytest.mark.parametrize(
    ("pick", "role"),
    [
        (Pick("lab", "tsat", 0.0, "%"), "lab:tsat:0:%"),
        (Pick("lab", "hgb", 0.5, "g/L"), "lab:hgb:0.5:g/L"),
        (Pick("lab", "Na: serum", 2.0, ""), "lab:Na serum:2"),
        (Pick("iron"), "iron"),
    ],
)
def test_a_pick_is_the_role_the_command_line_takes(pick, role):
    assert pick.role_string() == role
    parsed = parse_role("c", role)
    assert (parsed.role, parsed.time) == (pick.role, pick.time if pick.role == "lab" else None)


def test_lab_and_unit_choices_come_from_the_catalogue_and_the_column():
    unknown = recognise_header("Na+ [mmol/L] 2")
    assert lab_choices(unknown)[:3] == ["hgb", "mcv", "hepcidin"]
    assert lab_choices(unknown)[-1] == "Na+"
    assert lab_choices(recognise_header("Hgb 0"))[-1] == "retic"  # a known lab adds no name
    assert unit_choices("hepcidin", "") == ["ng/mL", "µg/L", "nmol/L"]
    assert unit_choices("hgb", "mg/dL") == ["g/dL", "g/L", "mmol/L", "mg/dL"]
    assert unit_choices("Na+", "mmol/L") == ["mmol/L"]


def test_every_role_a_warning_tells_to_pick_is_in_the_menu():
    files = [
        "id,IV iron,MCV 0\n1,yes,80\n2,no,82\n",
        "id,Epo dose,MCV 0\n1,4000,80\n2,,82\n",
        "id,MF,MCV 0\n1,M,80\n2,F,82\n",
        "id,Ferritin,MCV 0\n1,120,80\n2,85,82\n",
    ]
    told = set()
    for text in files:
        for warning in load_cohort(text.encode(), "x.csv").report.warnings:
            told |= set(re.findall(r'pick "([^"]+)"', warning.message))
    assert told == {"iron therapy", "Epo", "sex", "lab value", "other patient attribute"}
    assert told <= set(MENU.values())
