"""Golden-output tests for every download: figures, CSV, XLSX, settings, the ZIP bundle."""

from __future__ import annotations

import hashlib
import io
import json
import re
import struct
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

import analytics
from analytics.analysis import select
from analytics.errors import AnalysisError
from analytics.filters import CohortFilter
from analytics.output.figure_files import PNG_WIDTHS_PX, chart_bytes, png_size
from analytics.output.files import (
    VERSIONED_PACKAGES,
    bundle_zip,
    file_stem,
    safe_cell,
    settings_dict,
    settings_json,
    sheet_name,
    table_csv,
    tables_xlsx,
)
from analytics.settings import AnalysisSettings
from analytics.stats.power import power_summary
from analytics.stats.prevalence import Thresholds
from analytics.viz.paired_charts import qq_chart
from analytics.viz.style import ChartTitle

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "sirolimus_demo.csv"
WHEN = datetime(2025, 11, 25, 17, 40, 5, tzinfo=UTC)

# Changes of six patients (fL); any small set does for the rendering tests.
CHANGES = [-2.5, -1.0, 0.5, -3.2, 1.1, -0.4]


@pytest.fixture(scope="module")
def chart():
    return qq_chart(CHANGES, ChartTitle("Q–Q plot of the change in MCV (fL)", "6 patients"), "fL")


@pytest.fixture(scope="module")
def svg_size(chart) -> tuple[int, int]:
    svg = chart_bytes(chart, "svg").decode("utf-8")
    match = re.search(r'<svg[^>]*\bwidth="(\d+)"[^>]*\bheight="(\d+)"', svg)
    assert match, svg[:200]
    return int(match.group(1)), int(match.group(2))


# ------------------------------------------------------------------------------ figures


@pytest.mark.parametrize(
    ("fmt", "magic"),
    [("png", (b"\x89PNG\r\n\x1a\n",)), ("svg", (b"<svg", b"<?xml")), ("pdf", (b"%PDF-",))],
)
def test_chart_bytes_start_with_the_magic_number_of_their_format(chart, fmt, magic):
    assert chart_bytes(chart, fmt).startswith(magic)


def test_png_at_300_dpi_is_the_chart_size_times_300_over_72(chart, svg_size):
    # vl-convert renders one Vega pixel as one point (1/72 in) and floors the
    # scaled size: a 605 × 399 chart becomes floor(605 × 300/72) = 2520 pixels wide.
    png = chart_bytes(chart, "png")
    width, height = svg_size
    assert png_size(png) == (width * 300 // 72, height * 300 // 72)


def test_png_records_300_dpi_in_its_phys_chunk(chart):
    png = chart_bytes(chart, "png")
    at = png.index(b"pHYs")
    x, y, unit = struct.unpack(">IIB", png[at + 4 : at + 13])
    # 300 dots per inch = 300 / 0.0254 m = 11811 pixels per metre (unit 1 = metre)
    assert (x, y, unit) == (11811, 11811, 1)


@pytest.mark.parametrize("width_px", PNG_WIDTHS_PX)
def test_selectable_png_width_is_exact(chart, width_px):
    width, height = png_size(chart_bytes(chart, "png", width_px=width_px))
    assert width == width_px
    assert 0.4 * width_px < height < 1.2 * width_px


def test_narrow_png_is_laid_out_not_shrunk(chart, svg_size):
    # At 1200 px (4 in) the plot is narrowed and the fonts keep their size, so the
    # figure is taller relative to its width than the 8-inch original scaled down.
    width, height = png_size(chart_bytes(chart, "png", width_px=1200))
    natural_width, natural_height = svg_size
    assert height / width > natural_height / natural_width + 0.05


def test_chart_bytes_accepts_a_vega_lite_dict(chart):
    assert chart_bytes(chart.to_dict(), "svg").startswith(b"<svg")


@pytest.mark.parametrize(
    ("fmt", "options"),
    [("gif", {}), ("png", {"width_px": 10}), ("png", {"ppi": 0})],
)
def test_bad_figure_requests_are_refused(chart, fmt, options):
    with pytest.raises(AnalysisError):
        chart_bytes(chart, fmt, **options)


# ------------------------------------------------------------------------ formula safety


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+SUM(A1)", "'+SUM(A1)"),
        ("-2+3", "'-2+3"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("＝1", "'＝1"),
        ("＋1", "'＋1"),
        ("－1", "'－1"),
        ("＠x", "'＠x"),
        ("-", "'-"),  # decided: a lone hyphen is text and is escaped like any other
        ("-2.5", "'-2.5"),  # text that looks like a number is still text
        ("a=b", "a=b"),
        ("R01", "R01"),
        ("−2.5", "−2.5"),  # U+2212 minus sign: not a formula trigger
        ("", ""),
    ],
)
def test_safe_cell_escapes_text_that_starts_a_formula(value, expected):
    assert safe_cell(value) == expected


@pytest.mark.parametrize("value", [-2.5, -2, np.float64(-0.25), np.int64(-3), True, None])
def test_safe_cell_leaves_numbers_and_non_text_alone(value):
    assert safe_cell(value) is value


def hostile_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patient_id": ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx", "＝1", "P08"],
            "@reason": [
                "Rejection",
                "-",
                "＋1",
                "＠x",
                "－1",
                '=HYPERLINK("x")',
                "a=b",
                "µg/dL – ≥ 5",
            ],
            "change": [-2.5, 1.25, -0.5, 3.0, None, 0.0, 10.0, -1.0],
            "age": pd.array([12, 8, None, 40, 51, 22, 9, 63], dtype="Int64"),
            "iron": [True, False, True, False, True, False, True, False],
        }
    )


# The exact CSV, byte for byte: BOM, comma, CRLF, quotes only where needed, headers in
# words (patient_id, age and iron as the tables name them for reading) and the escaped
# header "@reason", numbers unquoted (negative ones as numbers), empty cells for the
# missing change and age.
HOSTILE_CSV = (
    "\ufeff"
    "patient,'@reason,change,age (y),iron therapy\r\n"
    "'=1+1,Rejection,-2.5,12,TRUE\r\n"
    "'+SUM(A1),'-,1.25,8,FALSE\r\n"
    "'-2+3,'＋1,-0.5,,TRUE\r\n"
    "'@cmd,'＠x,3.0,40,FALSE\r\n"
    "'\tx,'－1,,51,TRUE\r\n"
    '"\'\rx","\'=HYPERLINK(""x"")",0.0,22,FALSE\r\n'
    "'＝1,a=b,10.0,9,TRUE\r\n"
    "P08,µg/dL – ≥ 5,-1.0,63,FALSE\r\n"
)


def test_csv_of_hostile_cells_is_exactly_the_golden_text():
    assert table_csv(hostile_table()) == HOSTILE_CSV.encode("utf-8")


def test_csv_writes_a_named_index_and_drops_a_plain_row_number():
    frame = pd.DataFrame({"value": [1.5, -2.0]}, index=pd.Index(["=a", "b"], name="lab"))
    assert table_csv(frame) == b"\xef\xbb\xbflab,value\r\n'=a,1.5\r\nb,-2.0\r\n"
    assert table_csv(frame.reset_index(drop=True)) == b"\xef\xbb\xbfvalue\r\n1.5\r\n-2.0\r\n"


# Expected cells when read back: text escaped, numbers as numbers, missing as empty.
HOSTILE_CELLS = [
    ["patient", "'@reason", "change", "age (y)", "iron therapy"],
    ["'=1+1", "Rejection", -2.5, 12, True],
    ["'+SUM(A1)", "'-", 1.25, 8, False],
    ["'-2+3", "'＋1", -0.5, None, True],
    ["'@cmd", "'＠x", 3.0, 40, False],
    ["'\tx", "'－1", None, 51, True],
    ["'\rx", '\'=HYPERLINK("x")', 0.0, 22, False],
    ["'＝1", "a=b", 10.0, 9, True],
    ["P08", "µg/dL – ≥ 5", -1.0, 63, False],
]


@pytest.fixture(scope="module")
def hostile_xlsx() -> bytes:
    return tables_xlsx({"Hostile [cells]: a/b?": hostile_table(), "History": hostile_table()})


def test_xlsx_read_back_with_calamine_has_escaped_text_and_real_numbers(hostile_xlsx):
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(hostile_xlsx))
    assert workbook.sheet_names == ["Hostile (cells)- a-b-", "History_"]
    rows = workbook.get_sheet_by_index(0).to_python()
    cells = [[None if value == "" else value for value in row] for row in rows]
    assert cells == HOSTILE_CELLS
    for row in rows[1:]:
        assert isinstance(row[2], float) or row[2] == ""  # a number, or empty
        assert isinstance(row[4], bool)


def test_xlsx_read_back_with_openpyxl_has_no_formula_and_typed_cells(hostile_xlsx):
    workbook = openpyxl.load_workbook(io.BytesIO(hostile_xlsx))
    sheet = workbook.worksheets[0]
    # openpyxl does not decode the OOXML escape _x000D_ XlsxWriter writes for "\r"
    # (Excel and calamine do), so the carriage-return cell reads back encoded here.
    expected = [
        [v.replace("\r", "_x000D_") if isinstance(v, str) else v for v in row]
        for row in HOSTILE_CELLS
    ]
    assert [[cell.value for cell in row] for row in sheet.iter_rows()] == expected
    types = {cell.data_type for sheet in workbook.worksheets for row in sheet for cell in row}
    assert "f" not in types
    assert [cell.data_type for cell in sheet[2]] == ["s", "s", "n", "n", "b"]
    assert sheet["A1"].font.b is True
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["B"].width >= len('\'=HYPERLINK("x")')


def test_xlsx_bytes_are_deterministic_and_carry_the_created_date():
    frame = hostile_table()
    assert tables_xlsx({"a": frame}) == tables_xlsx({"a": frame})
    dated = tables_xlsx({"a": frame}, created=WHEN)
    with zipfile.ZipFile(io.BytesIO(dated)) as archive:
        core = archive.read("docProps/core.xml").decode("utf-8")
    assert "2025-11-25T17:40:05Z" in core


@pytest.mark.parametrize(
    ("name", "taken", "expected"),
    [
        ("MCV [fL] 0:2", (), "MCV (fL) 0-2"),
        ("a/b\\c*d?e", (), "a-b-c-d-e"),
        ("x" * 40, (), "x" * 31),
        ("'quoted'", (), "quoted"),
        ("history", (), "history_"),
        ("", (), "Sheet"),
        ("Results", ("results",), "Results (2)"),
        ("y" * 31, ("y" * 31, "y" * 27 + " (2)"), "y" * 27 + " (3)"),
    ],
)
def test_sheet_names_are_valid_and_unique(name, taken, expected):
    assert sheet_name(name, taken) == expected


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (("MCV (fL)", "month 0 → 2", "Q–Q"), "mcv_fl_month_0_2_q_q"),
        (("Hämoglobin", 0.5), "hamoglobin_0.5"),
        (("µg/dL",), "ug_dl"),
        (("..", "/etc/passwd"), "etc_passwd"),
        (("CON",), "con_"),
        (("", None), "file"),
        (("a" * 100,), "a" * 80),
    ],
)
def test_file_stem_is_a_safe_slug(parts, expected):
    stem = file_stem(*parts)
    assert stem == expected
    assert re.fullmatch(r"[a-z0-9_.-]+", stem)


# ------------------------------------------------------------------------------ settings


@pytest.fixture(scope="module")
def demo():
    cohort = analytics.load_cohort(DEMO.read_bytes(), DEMO.name)
    cohort_filter = CohortFilter(sex="F")
    filtered = cohort_filter.apply(cohort)
    selection = select(filtered.cohort, "mcv", 0, 2)
    return cohort, cohort_filter, filtered, selection


SETTINGS_KEYS = {
    "exported_at",
    "app",
    "data",
    "column_mapping",
    "filters",
    "lab",
    "times",
    "alpha",
    "confidence",
    "censored_values",
    "thresholds",
    "power",
    "versions",
}


@pytest.fixture(scope="module")
def settings(demo) -> dict:
    cohort, cohort_filter, filtered, selection = demo
    power = power_summary(12, 3.3, -3.0)
    data = settings_json(
        cohort,
        filtered=filtered,
        cohort_filter=cohort_filter,
        selection=selection,
        analysis=AnalysisSettings(censored="half", thresholds=Thresholds()),
        power=power,
        generated_at=WHEN,
    )
    assert data.endswith(b"\n")
    return json.loads(data.decode("utf-8"))


def test_settings_json_has_every_key(settings):
    assert set(settings) == SETTINGS_KEYS


def test_settings_json_records_the_file_and_its_checksum(settings):
    assert settings["data"]["file"] == "sirolimus_demo.csv"
    assert settings["data"]["sha256"] == hashlib.sha256(DEMO.read_bytes()).hexdigest()
    assert settings["data"]["n_rows_in"] == (
        settings["data"]["n_rows_used"] + settings["data"]["n_rows_excluded"]
    )


def test_settings_json_records_choices_in_numbers_and_words(settings):
    assert settings["exported_at"] == "2025-11-25T17:40:05+00:00"
    assert settings["filters"]["settings"]["sex"] == "F"
    assert settings["filters"]["sentence"].startswith("12 of 25 patients: female")
    assert settings["lab"] == {"key": "mcv", "name": "MCV", "unit": "fL"}
    assert settings["times"]["baseline_months"] == 0.0
    assert settings["times"]["follow_up_months"] == 2.0
    assert (settings["alpha"], settings["confidence"]) == (0.05, 0.95)
    assert settings["censored_values"]["rule"] == "half"
    assert settings["thresholds"]["anemia_men"] == 13.0
    assert settings["power"]["change_worth_detecting"] == -3.0
    mapping = {entry["column"]: entry["role"] for entry in settings["column_mapping"]}
    assert mapping["MCV (fL) 2"] == "lab:mcv:2:fL"


def test_settings_json_records_every_version(settings):
    versions = settings["versions"]
    assert set(versions) == {"app", "python", *VERSIONED_PACKAGES}
    assert versions["app"] == analytics.__version__
    assert versions["python"] == ".".join(map(str, sys.version_info[:3]))
    assert all(isinstance(versions[name], str) for name in VERSIONED_PACKAGES)


def test_recording_versions_does_not_import_streamlit():
    code = (
        "import sys; from analytics.output.files import versions; v = versions(); "
        "assert v['streamlit']; print('streamlit' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_settings_refuse_an_unknown_censored_rule(demo):
    with pytest.raises(AnalysisError):
        settings_dict(demo[0], analysis=AnalysisSettings(censored="drop"))


# ---------------------------------------------------------------------------------- ZIP


@pytest.fixture(scope="module")
def bundle(chart) -> tuple[bytes, list]:
    second = qq_chart([1.0, -0.5, 2.0, 0.25], ChartTitle("Q–Q plot of the change in Hgb"), "g/dL")
    tables = {
        "MCV paired result": pd.DataFrame({"quantity": ["t"], "value": [-3.69]}),
        "leave-one-out": hostile_table(),
    }
    settings = settings_json({"exported_at": WHEN.isoformat(), "note": "test"})
    figures = [("Q–Q MCV", chart), ("qq hgb", second)]
    data = bundle_zip(figures, tables, settings, "MCV, month 0 → 2", generated_at=WHEN)
    return data, [figures, tables, settings]


BUNDLE_MEMBERS = [
    "README.txt",
    "settings.json",
    "figures/q_q_mcv.png",
    "figures/q_q_mcv.svg",
    "figures/qq_hgb.png",
    "figures/qq_hgb.svg",
    "tables/mcv_paired_result.csv",
    "tables/mcv_paired_result.xlsx",
    "tables/leave-one-out.csv",
    "tables/leave-one-out.xlsx",
]


def test_bundle_members_are_exactly_the_expected_list(bundle):
    with zipfile.ZipFile(io.BytesIO(bundle[0])) as archive:
        assert archive.namelist() == BUNDLE_MEMBERS
        # ZIP stores seconds in steps of 2: 17:40:05 is kept as 17:40:04
        assert {info.date_time for info in archive.infolist()} == {(2025, 11, 25, 17, 40, 4)}
        assert archive.testzip() is None


def test_bundle_members_hold_what_their_names_say(bundle):
    data, (_, _, settings) = bundle
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert json.loads(archive.read("settings.json")) == json.loads(settings)
        assert archive.read("figures/qq_hgb.png").startswith(b"\x89PNG")
        assert archive.read("figures/qq_hgb.svg").startswith(b"<svg")
        assert archive.read("tables/leave-one-out.csv") == HOSTILE_CSV.encode("utf-8")
        workbook = CalamineWorkbook.from_filelike(
            io.BytesIO(archive.read("tables/leave-one-out.xlsx"))
        )
        assert workbook.sheet_names == ["leave-one-out"]


def test_bundle_readme_names_every_member(bundle):
    with zipfile.ZipFile(io.BytesIO(bundle[0])) as archive:
        readme = archive.read("README.txt").decode("utf-8")
    assert readme.startswith("MCV, month 0 → 2\n")
    for member in BUNDLE_MEMBERS:
        assert re.search(rf"^{re.escape(member)}\s+\S", readme, flags=re.MULTILINE), member
    assert "Q–Q plot of the change in Hgb" in readme  # figure described by its title


def test_bundle_is_byte_for_byte_reproducible(bundle):
    data, (figures, tables, settings) = bundle
    again = bundle_zip(figures, tables, settings, "MCV, month 0 → 2", generated_at=WHEN)
    assert again == data


def test_bundle_refuses_two_files_of_the_same_name(chart):
    with pytest.raises(AnalysisError, match="Two files"):
        bundle_zip([("QQ", chart), ("qq", chart)], {}, b"{}", "")
