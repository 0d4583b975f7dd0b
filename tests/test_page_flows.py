"""AppTest tests of the pages' flows: failed uploads and their correction, the sheet
choice, the empty-filter message, and the Paired tests page showing the view's results."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import xlsxwriter
from app_session import TIMEOUT, XLSX_MIME, open_section, sidebar_text, started_app
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
DEMO_CSV = ROOT / "data" / "sirolimus_demo.csv"
ODD = b"Subj,MCV start,MCV 2 months\nA,80,78\nB,82,79\nC,85,80\n"
NO_ID = b"sex,MCV 0\nF,80\n"


def _upload(at: AppTest, name: str, data: bytes, mime: str = "text/csv") -> None:
    at.file_uploader(key="upload").set_value((name, data, mime)).run()
    assert not at.exception, at.exception


def _errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


# --------------------------------------------------------------------------- Data page


def test_failed_upload_keeps_the_data_in_use_and_lists_the_file_columns():
    at = started_app()
    _upload(at, "odd.csv", ODD)
    assert _errors(at)[0].startswith("**odd\\.csv could not be used.** No patient ID column")
    assert "Still showing the data in use before this upload." in [c.value for c in at.caption]
    assert {"Subj", "MCV start", "MCV 2 months"} <= {t.value for t in at.text}
    assert at.selectbox(key="fix_role_0").value == "attribute"
    assert "Demo cohort" in sidebar_text(at)


def test_wrong_correction_is_explained_and_the_correction_can_be_fixed():
    at = started_app()
    _upload(at, "odd.csv", ODD)
    at.selectbox(key="fix_role_1").set_value("ignore").run()  # no ID and one lab column less
    at.button(key="fix_apply").click().run()
    assert not at.exception, at.exception
    errors = _errors(at)
    assert len(errors) == 2
    assert "could not be used" in errors[0]
    assert errors[1].startswith("No patient ID column")
    assert "Demo cohort" in sidebar_text(at)
    at.selectbox(key="fix_role_0").set_value("patient_id").run()
    at.button(key="fix_apply").click().run()
    assert not at.exception, at.exception
    assert _errors(at) == []
    assert "3 of 3 patients" in sidebar_text(at)
    assert not [s for s in at.selectbox if str(s.key).startswith("fix_")]
    assert "--map 'MCV start=ignore' --map Subj=patient_id" in [c.value for c in at.code]


def test_failed_upload_stays_explained_after_visiting_another_page():
    at = started_app()
    _upload(at, "bad.csv", NO_ID)
    at.switch_page("pages/cohort.py").run()
    at.switch_page("pages/data.py").run()
    assert not at.exception, at.exception
    assert "bad\\.csv could not be used" in _errors(at)[0]
    assert {"sex", "MCV 0"} <= {t.value for t in at.text}
    assert at.selectbox(key="fix_role_0").value == "sex"


def test_opening_the_demo_clears_a_failed_upload():
    at = started_app()
    assert at.button(key="open_demo").disabled
    _upload(at, "odd.csv", ODD)
    at.selectbox(key="fix_role_0").set_value("patient_id").run()
    at.button(key="fix_apply").click().run()
    _upload(at, "bad.csv", NO_ID)
    assert "bad\\.csv could not be used" in _errors(at)[0]
    assert "odd.csv" in sidebar_text(at)
    at.button(key="open_demo").click().run()
    assert not at.exception, at.exception
    assert _errors(at) == []
    assert not [s for s in at.selectbox if str(s.key).startswith("fix_")]
    assert "Demo cohort" in sidebar_text(at)
    assert at.button(key="open_demo").disabled


def test_file_that_no_longer_reads_falls_back_to_the_demo_and_says_so_once():
    from ui.shell import Dataset

    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    at.session_state["dataset"] = Dataset(NO_ID, "gone.csv")
    at.run()
    assert not at.exception, at.exception
    assert any("No patient ID column" in e for e in _errors(at))
    assert "Demo cohort" in sidebar_text(at)
    at.run()
    assert _errors(at) == []


def _two_sheet_workbook() -> bytes:
    rows = list(csv.reader(io.StringIO(DEMO_CSV.read_text(encoding="utf-8"))))
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer)
    for name, end in (("all", None), ("first ten", 11)):
        sheet = book.add_worksheet(name)
        for r, row in enumerate(rows[:end]):
            for c, value in enumerate(row):
                sheet.write(r, c, value)
    book.close()
    return buffer.getvalue()


def test_another_sheet_can_be_chosen():
    at = started_app()
    _upload(at, "two.xlsx", _two_sheet_workbook(), XLSX_MIME)
    assert at.selectbox(key="sheet_choice").value == "all"
    assert "25 of 25 patients" in sidebar_text(at)
    at.selectbox(key="sheet_choice").set_value("first ten").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="sheet_choice").value == "first ten"
    assert "two.xlsx · sheet first ten" in sidebar_text(at)
    assert "25 of 25 patients" not in sidebar_text(at)
    assert _errors(at) == []


def test_single_sheet_file_offers_no_sheet_choice():
    at = started_app()
    assert not [s for s in at.selectbox if s.key == "sheet_choice"]


def _pick_role(at: AppTest, column: str, role: str) -> None:
    """Pick ``role`` for ``column`` under Columns, then apply."""
    from ui.shell import escape_md

    picker = next(s for s in at.selectbox if s.label == f"What {escape_md(column)} holds")
    picker.set_value(role).run()
    at.button(key="col_apply").click().run()
    assert not at.exception, at.exception


def _role_of(at: AppTest, column: str) -> str:
    from ui.shell import escape_md

    return next(s for s in at.selectbox if s.label == f"What {escape_md(column)} holds").value


def test_column_role_corrected_with_its_picker_rereads_the_file():
    at = started_app()
    _pick_role(at, "epo", "ignore")
    assert _errors(at) == []
    assert _role_of(at, "epo") == "ignore"
    assert "epo (corrected)" in [t.value for t in at.text]
    assert "--map epo=ignore" in at.code[-1].value
    assert "Demo cohort" in sidebar_text(at)


def test_column_role_that_cannot_be_used_is_explained_and_the_file_kept():
    at = started_app()
    _pick_role(at, "patient_id", "ignore")
    errors = _errors(at)
    assert len(errors) == 1
    assert errors[0].startswith("No patient ID column was found")
    assert "--map" not in at.code[-1].value
    assert "25 of 25 patients" in sidebar_text(at)


# --------------------------------------------------------------------------- empty filters

EMPTY_MESSAGES = {
    "pages/overview.py": "Widen them to see the overview.",
    "pages/cohort.py": "Widen them to see the cohort.",
    "pages/paired_tests.py": "Widen them to run the tests.",
    "pages/power.py": "Widen them to run the tests.",
    "pages/charts.py": "Widen them to draw charts.",
}


@pytest.mark.parametrize("path", list(EMPTY_MESSAGES))
def test_page_says_when_no_patient_matches_and_stops(path):
    at = started_app()
    at.selectbox(key="flt_cohort").set_value("prospective").run()
    at.selectbox(key="flt_age_group").set_value("Adult").run()
    at.switch_page(path).run()
    assert not at.exception, at.exception
    assert [w.value for w in at.warning] == [
        "No patient matches the filters in the sidebar. " + EMPTY_MESSAGES[path]
    ]
    assert "0 of 25 patients" in at.main.text[0].value
    assert len(at.main.dataframe) == 0
    assert len(at.get("vega_lite_chart")) == 0
    assert len(at.main.get("expander")) == 0  # the page stopped: no reproduce block


# --------------------------------------------------------------------------- Paired tests


def _paired_page(cohort: str = "retrospective") -> AppTest:
    at = started_app()
    at.selectbox(key="flt_cohort").set_value(cohort).run()
    at.switch_page("pages/paired_tests.py").run()
    assert not at.exception, at.exception
    return at


def _demo():
    from analytics.reading.loader import load_cohort
    from ui.shell import DEMO_FILE

    return load_cohort(DEMO_FILE.read_bytes(), DEMO_FILE.name, is_demo=True)


def _download_keys(at: AppTest) -> set[str]:
    return {button.key for button in at.get("download_button")}


def test_subgroups_tab_follows_its_split():
    at = open_section(_paired_page(), "subgroups")
    assert at.selectbox(key="sel_split").value == "sex"
    assert {"dl_subgroups_sex_csv", "dl_subgroups_sex_xlsx"} <= _download_keys(at)
    at.selectbox(key="sel_split").set_value("iron").run()
    assert not at.exception, at.exception
    keys = _download_keys(at)
    assert {"dl_subgroups_iron_csv", "dl_subgroup_contrasts_iron_csv"} <= keys
    assert "dl_subgroups_sex_csv" not in keys
    groups = at.dataframe[-2].value
    assert set(groups["group"]) == {"On iron", "Not on iron"}
    assert groups["n"].sum() == 20


def test_subgroups_tab_says_why_it_cannot_compare():
    at = open_section(_paired_page("prospective"), "subgroups")
    at.selectbox(key="sel_split").set_value("cohort").run()
    assert not at.exception, at.exception
    info = [i.value for i in at.info]
    assert any(text.startswith("Comparing the change between subgroups needs") for text in info)
    assert not any(key.startswith("dl_subgroups_") for key in _download_keys(at))


def test_paired_page_shows_the_views_leave_one_out():
    from analytics.filters import CohortFilter
    from analytics.output.view import view_outputs
    from ui.format import display_frame

    at = open_section(_paired_page(), "robustness")
    outputs = view_outputs(
        _demo(), CohortFilter(cohort="retrospective"), analyte="mcv", baseline=0, follow_up=2
    )
    expected = display_frame(outputs.tables["mcv_leave_one_out"])
    shown = [d.value for d in at.dataframe if list(d.value.columns) == list(expected.columns)]
    assert len(shown) == 1
    assert shown[0].reset_index(drop=True).equals(expected.reset_index(drop=True))


def test_paired_page_compares_subgroups_only_in_the_view(monkeypatch):
    """The page compares the subgroups of its split once, when that section is shown."""
    import analytics.analysis
    from analytics.filters import CohortFilter
    from analytics.output.view import view_outputs

    calls = []
    original = analytics.analysis.subgroup_contrast

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(analytics.analysis, "subgroup_contrast", counted)
    at = started_app()
    at.selectbox(key="flt_sex").set_value("Male").run()
    at.switch_page("pages/paired_tests.py").run()
    assert not at.exception, at.exception
    assert not calls  # the Subgroups section is not open: nothing compared
    open_section(at, "subgroups")
    assert len(calls) == 1  # the section's split (the forest plot is the Charts page's)
    outputs = view_outputs(_demo(), CohortFilter(sex="M"), analyte="mcv", baseline=0, follow_up=2)
    # men only: no second sex to compare, said as the downloads' view says it
    [why] = [p.removeprefix("subgroups: ") for p in outputs.problems if p.startswith("subgroups")]
    assert any(why in info.value.replace("\\", "") for info in at.info)
