"""Tables as a person reads them: 12 significant digits in files, headers in words, blanks
blank on the pages; the analyses and the command line's JSON keep full precision."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from app_session import open_section, started_app
from python_calamine import CalamineWorkbook

import analytics
from analytics.analysis import paired_for, select
from analytics.cli import main
from analytics.filters import CohortFilter
from analytics.output.files import table_csv, tables_xlsx
from analytics.output.headers import COLUMN_LABELS, human_headers
from analytics.output.view import view_outputs
from analytics.plain import export_value

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "sirolimus_demo.csv"
LAB = ["--analyte", "mcv", "--baseline", "0", "--follow-up", "2"]
NUMBER = re.compile(r"(?<![\w.])-?(\d+\.\d+)(?:e-?\d+)?(?![\w.])")


def significant_digits(decimal: str) -> int:
    """Significant digits of ``12.30`` -> 4, ``0.000123`` -> 3 (leading zeros do not count)."""
    return len(decimal.replace(".", "").lstrip("0"))


@pytest.fixture(scope="module")
def demo() -> analytics.Cohort:
    return analytics.load_cohort(DEMO.read_bytes(), DEMO.name, is_demo=True)


@pytest.fixture(scope="module")
def view(demo):
    return view_outputs(demo, CohortFilter(), analyte="mcv", baseline=0, follow_up=2, charts=())


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (-12.299999999999999, -12.3),  # 12 significant digits of it: -12.3000000000
        (78.9 - 79.0, -0.1),  # -0.09999999999999432 in binary floating point
        (3.3380230947283263, 3.33802309473),  # an SD of change, cut at 12 digits
        (0.000123456789012345, 0.000123456789012),  # small p: digits, not decimals
        (1.0e-20, 1.0e-20),
        (25, 25),  # integers untouched
        (True, True),
        (float("nan"), None),
    ],
)
def test_exported_numbers_have_12_significant_digits(value, written):
    assert export_value(value) == written


def test_csv_and_xlsx_cells_are_rounded_but_stay_numbers():
    frame = pd.DataFrame({"mean_change": [-12.299999999999999, 1 / 3]})
    assert table_csv(frame) == b"\xef\xbb\xbfmean change\r\n-12.3\r\n0.333333333333\r\n"
    rows = (
        CalamineWorkbook.from_filelike(io.BytesIO(tables_xlsx({"t": frame})))
        .get_sheet_by_index(0)
        .to_python()
    )
    assert rows == [["mean change"], [-12.3], [0.333333333333]]


def test_no_float_noise_in_any_table_of_the_zip(view):
    archive = zipfile.ZipFile(io.BytesIO(view.bundle()))
    tables = [n for n in archive.namelist() if n.endswith(".csv")]
    assert "tables/mcv_pairs.csv" in tables
    longest = {}
    for name in tables:
        text = archive.read(name).decode("utf-8-sig")
        longest[name] = max((significant_digits(m) for m in NUMBER.findall(text)), default=0)
    assert max(longest.values()) == 12, longest  # SDs, CIs and p-values: cut at 12 digits
    pairs = archive.read("tables/mcv_pairs.csv").decode("utf-8-sig").splitlines()
    assert pairs[1].startswith("R01,79.0,78.9,-0.1,")  # R01: MCV 79.0 → 78.9 fL


def test_every_exported_header_is_in_words(view):
    """No table in a download has a programmer's name (``welch_t``, ``n_pairs``) as header."""
    archive = zipfile.ZipFile(io.BytesIO(view.bundle()))
    for name in (n for n in archive.namelist() if n.endswith(".csv")):
        header = archive.read(name).decode("utf-8-sig").splitlines()[0].split(",")
        assert not [h for h in header if "_" in h], (name, header)
    contrasts = archive.read("tables/mcv_subgroup_contrasts.csv").decode("utf-8-sig")
    assert contrasts.startswith("group A,group B,n (A),n (B),difference in mean change (A − B)")
    assert "Welch t" in contrasts and "Mann–Whitney U" in contrasts


def test_a_table_of_quantities_keeps_its_key_last(view):
    text = table_csv(view.tables["mcv_paired_test"]).decode("utf-8-sig")
    assert text.splitlines()[:2] == ["quantity,value,key", "Complete pairs,25,n_pairs"]


def test_headers_are_the_same_when_renamed_twice(view):
    for stem, frame in view.tables.items():
        once = human_headers(frame)
        assert list(human_headers(once).columns) == list(once.columns), stem
    assert not set(COLUMN_LABELS.values()) & set(COLUMN_LABELS)


def test_the_json_keeps_full_precision(demo, capsys):
    assert main(["paired", str(DEMO), *LAB, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    result = paired_for(demo, select(demo, "mcv", 0, 2))
    assert out["sd_change"] == result.sd_change  # every binary digit
    assert export_value(result.sd_change) != result.sd_change  # which a file would cut


# --------------------------------------------------------------------------- on the pages


def _cells(frame: pd.DataFrame) -> list[object]:
    return [*frame.index, *frame.to_numpy().ravel()]


def test_patients_table_shows_blanks_blank():
    at = started_app()
    at.switch_page("pages/data.py").run()
    assert not at.exception, at.exception
    patients = next(d.value for d in at.dataframe if "sex" in d.value.columns)
    assert patients.index.name == "patient"
    cells = _cells(patients)
    assert not [c for c in cells if c is None or (isinstance(c, float) and c != c)]
    assert not [c for c in cells if str(c) in ("None", "nan", "NaN", "<NA>")]
    # R01 has no 2-week hemoglobin (the retrospective cohort was measured at 0, 2, 6)
    assert patients.loc["R01", "Hemoglobin 2 weeks"] == ""
    assert patients.loc["R01", "Hemoglobin month 0"] == 11.4  # a complete column stays numbers


def test_subgroups_tab_shows_headers_in_words():
    at = started_app()
    at.switch_page("pages/paired_tests.py").run()
    assert not at.exception, at.exception
    open_section(at, "subgroups")
    headers = {str(c) for d in at.dataframe for c in d.value.columns}
    assert {"Welch t", "Mann–Whitney U", "mean change", "pairs"} <= headers
    assert not [h for h in headers if "_" in h and h != "Cohen's d_z"]
