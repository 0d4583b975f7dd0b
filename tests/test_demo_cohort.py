"""The synthetic demo cohort: committed files, generator and the published thesis figures.

Reads data/sirolimus_demo.csv with pandas and data/sirolimus_demo.xlsx with python_calamine
directly (no project loader) and checks them against data/make_demo.py and against the
figures printed in the thesis (Tables 1-5 and the statements in its text).
"""

import csv
import importlib.util
import math
import re
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest
from python_calamine import CalamineWorkbook, SheetVisibleEnum
from scipy import stats

DATA = Path(__file__).resolve().parent.parent / "data"
CSV_PATH = DATA / "sirolimus_demo.csv"
XLSX_PATH = DATA / "sirolimus_demo.xlsx"
TITLE = (
    "Sirolimus demo cohort - SYNTHETIC lab values built to reproduce the published summary "
    "tables (Tables 2, 3, 5); patient attributes as published (Tables 1, 4)"
)
HEADER = [
    "patient_id",
    "cohort",
    "sex",
    "age",
    "age_group",
    "reason_for_transplant",
    "reason_for_sirolimus",
    "other_immunosuppressants",
    "iron_therapy",
    "epo",
    "Hgb (g/dL) 0",
    "Hgb (g/dL) 2w",
    "Hgb (g/dL) 1",
    "Hgb (g/dL) 2",
    "Hgb (g/dL) 6",
    "MCV (fL) 0",
    "MCV (fL) 2w",
    "MCV (fL) 1",
    "MCV (fL) 2",
    "MCV (fL) 6",
    "TSAT (%) 0",
    "TSAT (%) 2w",
    "TSAT (%) 1",
    "TSAT (%) 2",
    "Ferritin (ng/mL) 0",
    "Ferritin (ng/mL) 2w",
    "Ferritin (ng/mL) 1",
    "Ferritin (ng/mL) 2",
    "Hepcidin (ng/mL) 0",
    "Hepcidin (ng/mL) 2w",
    "Hepcidin (ng/mL) 1",
    "Hepcidin (ng/mL) 2",
]
HGB, MCV, TSAT, FERRITIN, HEPCIDIN = (
    "Hgb (g/dL)",
    "MCV (fL)",
    "TSAT (%)",
    "Ferritin (ng/mL)",
    "Hepcidin (ng/mL)",
)
RETRO, PROSP = "retrospective", "prospective"
RETRO_IDS = [f"R{k:02d}" for k in range(1, 21)]
PROSP_IDS = [f"P{k:02d}" for k in range(1, 6)]


# --------------------------------------------------------------------------------------------
# Fixtures and helpers
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def make_demo() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_demo_under_test", DATA / "make_demo.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    """The committed CSV as pandas reads it (text "N/A" kept as text, empty cells NaN)."""
    return pd.read_csv(CSV_PATH, skiprows=2, keep_default_na=False, na_values=[""])


def _canonical(value: object) -> object:
    """One cell as None (empty), float (number) or str (text), whatever the source."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return None
    if isinstance(value, bool):
        raise TypeError(f"unexpected boolean cell {value!r}")
    if isinstance(value, int | float):
        return float(value)
    text = str(value)
    return float(text) if re.fullmatch(r"-?\d+(\.\d+)?", text) else text


def _grid(rows: list[list[object]]) -> list[list[object]]:
    width = len(HEADER)
    out = []
    for row in rows:
        cells = [_canonical(v) for v in row]
        assert len(cells) <= width
        out.append(cells + [None] * (width - len(cells)))
    return out


def _csv_grid() -> list[list[object]]:
    with CSV_PATH.open(encoding="utf-8", newline="") as handle:
        return _grid(list(csv.reader(handle)))


def _xlsx_grid() -> list[list[object]]:
    workbook = CalamineWorkbook.from_path(str(XLSX_PATH))
    return _grid(workbook.get_sheet_by_name("cohort").to_python(skip_empty_area=False))


def _frame_grid(frame: pd.DataFrame) -> list[list[object]]:
    return _grid([[TITLE], [], list(frame.columns), *frame.itertuples(index=False)])


def _values(table: pd.DataFrame, cohort: str, column: str) -> pd.Series:
    rows = table[table["cohort"] == cohort].set_index("patient_id")
    return pd.to_numeric(rows[column], errors="coerce").astype(float)


def _ttest(table: pd.DataFrame, cohort: str, lab: str, month: str, alternative: str):
    pair = pd.concat(
        [_values(table, cohort, f"{lab} 0"), _values(table, cohort, f"{lab} {month}")], axis=1
    ).dropna()
    return stats.ttest_rel(pair.iloc[:, 1], pair.iloc[:, 0], alternative=alternative)


# --------------------------------------------------------------------------------------------
# Files: layout, formatting, CSV == XLSX == build_demo_frame(), reproducibility
# --------------------------------------------------------------------------------------------


def test_csv_bytes_layout():
    raw = CSV_PATH.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), "no BOM"
    assert b"\r" not in raw, "\\n line endings only"
    lines = raw.decode("utf-8").split("\n")
    assert lines[0] == f'"{TITLE}"'  # one cell, quoted because the title holds commas
    assert lines[1] == ""
    assert lines[2] == ",".join(HEADER)
    assert lines[-1] == "" and len(lines) == 3 + 25 + 1


def test_csv_numbers_have_lab_precision_and_no_float_noise():
    one_decimal = re.compile(r"\d+\.\d")
    integer = re.compile(r"\d+")
    with CSV_PATH.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))[3:]
    checked = 0
    for row in rows:
        for name, cell in zip(HEADER, row, strict=True):
            if cell in ("", "N/A") or (name in HEADER[:10] and name != "age"):
                continue
            whole = name == "age" or name.startswith((TSAT, FERRITIN))
            assert (integer if whole else one_decimal).fullmatch(cell), (row[0], name, cell)
            checked += 1
    assert checked == 25 + 20 * 6 + 5 * 20 - 4  # age + retro labs + prospective labs - N/A


def test_xlsx_sheets():
    workbook = CalamineWorkbook.from_path(str(XLSX_PATH))
    meta = {m.name: m.visible for m in workbook.sheets_metadata}
    assert workbook.sheet_names == ["cohort", "about"]
    assert meta == {"cohort": SheetVisibleEnum.Visible, "about": SheetVisibleEnum.Hidden}
    about = " ".join(
        str(cell) for row in workbook.get_sheet_by_name("about").to_python() for cell in row
    )
    assert "SYNTHETIC" in about and "make_demo.py" in about


def test_xlsx_cell_types():
    rows = CalamineWorkbook.from_path(str(XLSX_PATH)).get_sheet_by_name("cohort").to_python()
    assert rows[0][0] == TITLE and all(cell == "" for cell in rows[0][1:] + rows[1])
    assert rows[2] == HEADER
    for row in rows[3:]:
        for name, cell in zip(HEADER, row, strict=True):
            if (name in HEADER[:10] and name != "age") or cell in ("", "N/A"):
                assert isinstance(cell, str)
            else:
                assert isinstance(cell, float), (row[0], name, cell)  # a number, not text


def test_csv_and_xlsx_hold_the_same_cells():
    assert _csv_grid() == _xlsx_grid()


def test_files_equal_build_demo_frame(make_demo):
    frame = make_demo.build_demo_frame()
    assert list(frame.columns) == HEADER
    assert _frame_grid(frame) == _csv_grid()
    assert _frame_grid(frame) == _xlsx_grid()


def test_write_demo_reproduces_the_committed_bytes(make_demo, tmp_path):
    csv_path, xlsx_path = make_demo.write_demo(tmp_path)
    assert csv_path.read_bytes() == CSV_PATH.read_bytes()
    assert xlsx_path.read_bytes() == XLSX_PATH.read_bytes()


def test_search_reproduces_the_embedded_values(make_demo):
    assert make_demo.search_lab_values() == make_demo.LAB_VALUES


def test_verify_rejects_a_broken_table(make_demo):
    frame = make_demo.build_demo_frame()
    frame.loc[frame["patient_id"] == "R01", "MCV (fL) 2"] += 5.0  # R01 MCV now rises by month 2
    with pytest.raises(ValueError, match="MCV 0->2 risers"):
        make_demo.verify(frame)


# --------------------------------------------------------------------------------------------
# Published figures at printed precision
# --------------------------------------------------------------------------------------------

# (cohort, lab, month, statistic, printed value, decimals printed)
PUBLISHED_FIGURES = [
    # thesis Table 2, month 0 row
    (RETRO, HGB, "0", "n", 20, 0),
    (RETRO, HGB, "0", "mean", 11.7, 1),
    (RETRO, HGB, "0", "sd", 1.65, 2),
    # thesis Table 2, month 2 row
    (RETRO, HGB, "2", "n", 20, 0),
    (RETRO, HGB, "2", "mean", 11.8, 1),
    (RETRO, HGB, "2", "sd", 1.75, 2),
    (RETRO, HGB, "2", "p", 0.822, 3),
    # thesis Table 2, month 6 row
    (RETRO, HGB, "6", "n", 20, 0),
    (RETRO, HGB, "6", "mean", 11.7, 1),
    (RETRO, HGB, "6", "sd", 1.88, 2),
    (RETRO, HGB, "6", "p", 0.94, 2),
    # thesis Table 3, month 0 row
    (RETRO, MCV, "0", "n", 20, 0),
    (RETRO, MCV, "0", "mean", 88.7, 1),
    (RETRO, MCV, "0", "sd", 7.24, 2),
    # thesis Table 3, month 2 row
    (RETRO, MCV, "2", "n", 20, 0),
    (RETRO, MCV, "2", "mean", 86.16, 2),
    (RETRO, MCV, "2", "sd", 4.97, 2),
    (RETRO, MCV, "2", "p", 0.004, 3),
    # thesis Table 3, month 6 row
    (RETRO, MCV, "6", "n", 20, 0),
    (RETRO, MCV, "6", "mean", 84.6, 1),
    (RETRO, MCV, "6", "sd", 7.12, 2),
    (RETRO, MCV, "6", "p", 0.006, 3),
    # thesis Table 5, MCV month 0 row
    (PROSP, MCV, "0", "n", 5, 0),
    (PROSP, MCV, "0", "mean", 84.4, 1),
    (PROSP, MCV, "0", "sd", 2.870, 3),
    (PROSP, MCV, "0", "se", 1.284, 3),
    # thesis Table 5, MCV month 2 row (its SE 0.957 is not SD/sqrt(5) = 0.951: not tested)
    (PROSP, MCV, "2", "n", 5, 0),
    (PROSP, MCV, "2", "mean", 82.1, 1),
    (PROSP, MCV, "2", "sd", 2.127, 3),
    (PROSP, MCV, "2", "p", 0.197, 3),
    # thesis Table 5, % iron saturation month 0 row (printed N = 5, but SD/SE = 2.0: n = 4)
    (PROSP, TSAT, "0", "n", 4, 0),
    (PROSP, TSAT, "0", "mean", 22.75, 2),
    (PROSP, TSAT, "0", "sd", 8.22, 2),
    (PROSP, TSAT, "0", "se", 4.11, 2),
    # thesis Table 5, % iron saturation month 2 row
    (PROSP, TSAT, "2", "n", 4, 0),
    (PROSP, TSAT, "2", "mean", 14.25, 2),
    (PROSP, TSAT, "2", "sd", 5.32, 2),
    (PROSP, TSAT, "2", "se", 2.66, 2),
    (PROSP, TSAT, "2", "p", 0.0425, 4),
    # thesis Table 5, hepcidin month 0 row
    (PROSP, HEPCIDIN, "0", "n", 5, 0),
    (PROSP, HEPCIDIN, "0", "mean", 49.1, 1),
    (PROSP, HEPCIDIN, "0", "sd", 19.2, 1),
    (PROSP, HEPCIDIN, "0", "se", 8.58, 2),
    # thesis Table 5, hepcidin month 2 row (p is one-sided: two-sided 0.01 is infeasible)
    (PROSP, HEPCIDIN, "2", "n", 5, 0),
    (PROSP, HEPCIDIN, "2", "mean", 21.1, 1),
    (PROSP, HEPCIDIN, "2", "sd", 3.6, 1),
    (PROSP, HEPCIDIN, "2", "se", 1.61, 2),
    (PROSP, HEPCIDIN, "2", "p_less", 0.01, 2),
]


@pytest.mark.parametrize(
    ("cohort", "lab", "month", "statistic", "printed", "decimals"),
    PUBLISHED_FIGURES,
    ids=[f"{c[:5]}-{lab.split()[0]}-{m}-{s}" for c, lab, m, s, _, _ in PUBLISHED_FIGURES],
)
def test_published_figure(table, cohort, lab, month, statistic, printed, decimals):
    values = _values(table, cohort, f"{lab} {month}").dropna()
    n = len(values)
    computed = {
        "n": lambda: n,
        "mean": lambda: values.mean(),
        "sd": lambda: values.std(ddof=1),
        "se": lambda: values.std(ddof=1) / math.sqrt(n),
        "p": lambda: _ttest(table, cohort, lab, month, "two-sided").pvalue,
        "p_less": lambda: _ttest(table, cohort, lab, month, "less").pvalue,
    }[statistic]()
    assert round(float(computed), decimals) == printed, computed


def test_hepcidin_two_sided_p_is_not_the_printed_one(table):
    # thesis Table 5, hepcidin row: read two-sided, p would be twice the one-sided 0.01
    two_sided = _ttest(table, PROSP, HEPCIDIN, "2", "two-sided").pvalue
    assert round(two_sided, 2) != 0.01


# --------------------------------------------------------------------------------------------
# Statements in the text and appendix
# --------------------------------------------------------------------------------------------

# thesis appendix (Figures 1 and 2): MCV rose 0->2 only in patients 6 and 17, 0->6 only in
# patients 10, 12 and 14; it fell in all the others.
MCV_RISERS = {"2": {"R06", "R17"}, "6": {"R10", "R12", "R14"}}


@pytest.mark.parametrize("month", ["2", "6"])
@pytest.mark.parametrize("patient", RETRO_IDS)
def test_mcv_direction_per_patient(table, patient, month):
    change = _values(table, RETRO, f"{MCV} {month}") - _values(table, RETRO, f"{MCV} 0")
    if patient in MCV_RISERS[month]:
        assert change[patient] > 0
    else:
        assert change[patient] < 0


@pytest.mark.parametrize("month", ["2", "6"])
def test_retrospective_hgb_changes_are_small(table, month):
    # thesis appendix (Figures 3 and 4): differences of at most about 1-2.5 g/dL
    change = _values(table, RETRO, f"{HGB} {month}") - _values(table, RETRO, f"{HGB} 0")
    assert change.abs().max() <= 2.5 + 1e-9


@pytest.mark.parametrize("month", ["2w", "1", "2"])
@pytest.mark.parametrize("lab", [HGB, FERRITIN])
def test_prospective_hgb_and_ferritin_do_not_change(table, lab, month):
    # thesis Results text: no significant change in prospective Hgb at any time point;
    # ferritin "showed no change"
    assert _ttest(table, PROSP, lab, month, "two-sided").pvalue > 0.2


@pytest.mark.parametrize("month", ["2w", "1", "2"])
def test_hepcidin_falls_in_every_prospective_patient(table, month):
    # thesis Results text and Figure 1: hepcidin decreased in all patients
    change = _values(table, PROSP, f"{HEPCIDIN} {month}") - _values(table, PROSP, f"{HEPCIDIN} 0")
    assert len(change) == 5 and (change < 0).all()


def test_mean_hepcidin_declines_over_time(table):
    # thesis Figure 6: hepcidin declines while on sirolimus
    means = [_values(table, PROSP, f"{HEPCIDIN} {m}").mean() for m in ["0", "2w", "1", "2"]]
    assert means == sorted(means, reverse=True) and len(set(means)) == 4


@pytest.mark.parametrize("lab", [MCV, TSAT])
@pytest.mark.parametrize("month", ["2w", "1"])
def test_prospective_intermediate_visits_lie_between(table, lab, month):
    v0, v2 = _values(table, PROSP, f"{lab} 0"), _values(table, PROSP, f"{lab} 2")
    v = _values(table, PROSP, f"{lab} {month}")
    slack = 1.0 if lab == MCV else 2.0
    low, high = v0.combine(v2, min) - slack, v0.combine(v2, max) + slack
    assert ((v >= low) & (v <= high) | v.isna()).all()


# --------------------------------------------------------------------------------------------
# Which cells are filled; plausible values
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("patient", RETRO_IDS + PROSP_IDS)
def test_filled_cells_per_patient(table, patient):
    row = table.set_index("patient_id").loc[patient]
    if patient.startswith("R"):
        filled = {f"{lab} {m}" for lab in (HGB, MCV) for m in ("0", "2", "6")}
    else:
        labs = (HGB, MCV, FERRITIN, HEPCIDIN) + (() if patient == "P03" else (TSAT,))
        filled = {f"{lab} {m}" for lab in labs for m in ("0", "2w", "1", "2")}
    for column in HEADER[10:]:
        if patient == "P03" and column.startswith(TSAT):
            assert row[column] == "N/A"  # no TSAT measured for this patient
        elif column in filled:
            assert not pd.isna(pd.to_numeric(row[column], errors="coerce")), column
        else:
            assert pd.isna(row[column]), column


@pytest.mark.parametrize(
    ("lab", "low", "high"),
    [(HGB, 8, 16), (MCV, 70, 105), (TSAT, 5, 50), (FERRITIN, 10, 600), (HEPCIDIN, 2, 100)],
)
def test_values_are_clinically_plausible(table, lab, low, high):
    columns = [c for c in HEADER if c.startswith(lab)]
    values = pd.concat([pd.to_numeric(table[c], errors="coerce") for c in columns]).dropna()
    assert len(values) > 0
    assert values.between(low, high).all()


# --------------------------------------------------------------------------------------------
# Patient attributes as published (thesis Tables 1 and 4)
# --------------------------------------------------------------------------------------------

# patient_id | cohort | sex | age | age_group | reason_for_transplant | reason_for_sirolimus |
# other_immunosuppressants | iron_therapy | epo
_ATTRIBUTE_TABLE = """
# thesis Table 1 (retrospective chart review), patients 1-10: the adult group
R01 | retrospective | M | 62 | adult | PKD | Sarcoma | Tac+Pred | No | No
R02 | retrospective | F | 39 | adult | MCD | Rejection | Cellcept+Tac | No | No
R03 | retrospective | M | 47 | adult | Unknown | Rejection | Tac+Pred | No | No
R04 | retrospective | M | 47 | adult | IgA nephropathy | Basal cell Ca | Tac+Pred | No | No
R05 | retrospective | M | 75 | adult | ESRD unknown | Rejection | Tac | No | No
R06 | retrospective | F | 53 | adult | PKD | Basal cell Ca | CSA+Pred | No | No
R07 | retrospective | F | 56 | adult | VUR | Basal cell Ca | Pred | No | No
R08 | retrospective | F | 73 | adult | Goodpasture disease | Rejection | Tac+Pred | No | No
R09 | retrospective | F | 46 | adult | MPGN | Rejection | Tac+Pred | No | No
R10 | retrospective | F | 48 | adult | ESRD unknown | Rejection | CSA+Pred | No | No
# thesis Table 1, patients 11-20: the pediatric group
R11 | retrospective | F | 18 | pediatric | VUR | Rejection | Tac+Pred | Yes | Yes
R12 | retrospective | M | 11 | pediatric | VUR | Rejection | Tac+Pred | Yes | No
R13 | retrospective | F | 20 | pediatric | FSGS | Rejection | Tac+Pred | Yes | No
R14 | retrospective | F | 20 | pediatric | Hydronephrosis | Rejection | Tac+Pred | Yes | No
R15 | retrospective | M | 8 | pediatric | PKD | Rejection | Cellcept+Pred | Yes | No
R16 | retrospective | M | 13 | pediatric | Renal dysplasia | Rejection | Tac+Pred | No | No
R17 | retrospective | M | 20 | pediatric | Unknown | Rejection | Myfortic+Pred | No | No
R18 | retrospective | F | 22 | pediatric | Glomerulonephritis | Rejection | Tac+Pred | No | No
R19 | retrospective | M | 21 | pediatric | Unknown | Rejection | Tac+Pred | No | No
R20 | retrospective | M | 12 | pediatric | PUV | Rejection | Tac+Pred | Yes | No
# thesis Table 4 (prospective study), patients 1-5 ("Myfrotic" misprint read as Myfortic)
P01 | prospective | F | 20 | pediatric | Bilateral VUR | Rejection | Tac+Pred | No | No
P02 | prospective | M | 15 | pediatric | Bilateral VUR | Rejection | Cellcept+Pred | Yes | No
P03 | prospective | M | 13 | pediatric | Glomerulonephritis ANCA+ | Rejection | Tac+Pred | No | No
P04 | prospective | F | 17 | pediatric | ESRD, unknown cause | Rejection | Tac+Pred | Yes | No
P05 | prospective | M | 14 | pediatric | ESRD, unknown cause | Rejection | Myfortic+Pred | No | No
"""
ATTRIBUTES = [
    tuple(int(v) if v.isdigit() else v for v in (f.strip() for f in line.split("|")))
    for line in _ATTRIBUTE_TABLE.strip().splitlines()
    if not line.startswith("#")
]


def test_patients_in_published_order(table):
    assert [row[0] for row in ATTRIBUTES] == RETRO_IDS + PROSP_IDS
    assert list(table["patient_id"]) == RETRO_IDS + PROSP_IDS


@pytest.mark.parametrize("expected", ATTRIBUTES, ids=[row[0] for row in ATTRIBUTES])
@pytest.mark.parametrize("source", ["csv", "xlsx"])
def test_patient_attributes(table, source, expected):
    if source == "csv":
        row = table.set_index("patient_id").loc[expected[0]]
        actual = (expected[0], *row[HEADER[1:10]].tolist())
    else:
        rows = CalamineWorkbook.from_path(str(XLSX_PATH)).get_sheet_by_name("cohort").to_python()
        actual = next(tuple(r[:10]) for r in rows[3:] if r[0] == expected[0])
    assert actual[:3] == expected[:3]
    assert actual[3] == expected[3] and float(actual[3]).is_integer()
    assert actual[4:] == expected[4:]


# (description, cohort, column, value, expected count) -- counts stated in the thesis text
ATTRIBUTE_COUNTS = [
    ("10 females", RETRO, "sex", "F", 10),  # thesis Results, retrospective paragraph
    ("10 males", RETRO, "sex", "M", 10),
    ("10 pediatric cases", RETRO, "age_group", "pediatric", 10),
    ("rejection n=16 of 20", RETRO, "reason_for_sirolimus", "Rejection", 16),
    ("6 of 20 on iron", RETRO, "iron_therapy", "Yes", 6),
    ("one on erythropoietin", RETRO, "epo", "Yes", 1),
    ("2 females", PROSP, "sex", "F", 2),  # thesis Results, prospective paragraph
    ("3 males", PROSP, "sex", "M", 3),
    ("2 patients on iron", PROSP, "iron_therapy", "Yes", 2),
    ("no patients on erythropoietin", PROSP, "epo", "Yes", 0),
]


@pytest.mark.parametrize(
    ("description", "cohort", "column", "value", "count"),
    ATTRIBUTE_COUNTS,
    ids=[row[0] for row in ATTRIBUTE_COUNTS],
)
def test_attribute_counts_match_thesis_text(table, description, cohort, column, value, count):
    assert int((table.loc[table["cohort"] == cohort, column] == value).sum()) == count


def test_pediatric_sexes(table):
    # thesis Results: 10 pediatric cases, 4 females and 6 males
    pediatric = table[(table["cohort"] == RETRO) & (table["age_group"] == "pediatric")]
    assert pediatric["sex"].value_counts().to_dict() == {"M": 6, "F": 4}


# --------------------------------------------------------------------------------------------
# Arithmetic claims made in data/README.md
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "mean"),
    [
        ("retrospective", 35.55),  # Table 1 ages; the text prints 38.4
        ("pediatric", 16.5),  # thesis Results: average age of the pediatric patients
        ("prospective", 15.8),  # thesis Results: prospective average age
    ],
)
def test_average_ages(table, rows, mean):
    if rows == "pediatric":
        ages = table.loc[(table["cohort"] == RETRO) & (table["age_group"] == "pediatric"), "age"]
    else:
        ages = table.loc[table["cohort"] == rows, "age"]
    assert round(float(ages.mean()), 2) == mean


def test_patients_outside_the_stated_age_range(table):
    # Methods: inclusion 2-60 years; three retrospective patients are older (kept as published)
    outside = table.loc[~table["age"].between(2, 60), ["patient_id", "age"]]
    assert outside.values.tolist() == [["R01", 62], ["R05", 75], ["R08", 73]]


@pytest.mark.parametrize(
    ("sd", "se"),
    [(1.65, 0.36), (1.88, 0.41), (7.24, 1.58), (4.97, 1.08), (7.12, 1.55)],  # Tables 2 and 3
)
def test_retrospective_printed_se_implies_n_21(sd, se):
    assert round((sd / se) ** 2) == 21


def test_two_sided_hepcidin_p_is_infeasible():
    # Table 5 hepcidin: smallest SD of differences allowed by the printed SDs (with rounding)
    # versus the largest one compatible with a two-sided p < 0.015 at the largest mean change.
    smallest_sd_diff = 19.15 - 3.65
    largest_for_two_sided = (49.15 - 21.05) * math.sqrt(5) / stats.t.isf(0.015 / 2, 4)
    largest_for_one_sided = (49.15 - 21.05) * math.sqrt(5) / stats.t.isf(0.015, 4)
    assert largest_for_two_sided < smallest_sd_diff < largest_for_one_sided
