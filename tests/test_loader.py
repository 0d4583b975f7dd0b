"""Reading clinicians' spreadsheets: every token, every layout, every row accounted for."""

from __future__ import annotations

import io
import json
import math
import zipfile

import pandas as pd
import pytest
import xlsxwriter

from analytics import InputError, load_cohort
from analytics.cli import main
from analytics.labs import parse_time
from analytics.reading.cells import classify_cell
from analytics.reading.headers import recognise_header

# --------------------------------------------------------------------------- cells

# Every token of the clinical guide's list "Values clinicians' spreadsheets contain".
TOKENS = [
    ("11.7", "number", 11.7, ""),
    ("11,7", "number", 11.7, ""),
    (" 11.7 ", "number", 11.7, ""),
    ("11.7 g/dL", "number", 11.7, "g/dL"),
    ("11,7 g/dL", "number", 11.7, "g/dL"),
    ("85 fL", "number", 85.0, "fL"),
    ("22 %", "number", 22.0, "%"),
    ("<5", "below", 5.0, ""),
    ("< 5", "below", 5.0, ""),
    ("<0,5", "below", 0.5, ""),
    ("≤5", "below", 5.0, ""),
    (">1000", "above", 1000.0, ""),
    ("> 1000", "above", 1000.0, ""),
    ("N/A", "not_available", math.nan, ""),
    ("NA", "not_available", math.nan, ""),
    ("n/a", "not_available", math.nan, ""),
    ("—", "not_available", math.nan, ""),
    ("-", "not_available", math.nan, ""),
    (".", "not_available", math.nan, ""),
    ("", "empty", math.nan, ""),
    ("   ", "empty", math.nan, ""),
    (None, "empty", math.nan, ""),
    ("ND", "error", math.nan, ""),
    ("#DIV/0!", "error", math.nan, ""),
    ("#N/A", "error", math.nan, ""),
    ("#VALUE!", "error", math.nan, ""),
    ("abc", "invalid", math.nan, ""),
    ("12..5", "invalid", math.nan, ""),
    ("1,234", "invalid", math.nan, ""),  # thousands or decimal? ambiguous -> reported
    (11.7, "number", 11.7, ""),
    (85, "number", 85.0, ""),
    (float("nan"), "empty", math.nan, ""),
    (True, "invalid", math.nan, ""),
]


@pytest.mark.parametrize(("raw", "kind", "value", "unit"), TOKENS)
def test_cell_token(raw, kind, value, unit):
    reading = classify_cell(raw)
    assert reading.kind == kind
    if math.isnan(value):
        assert math.isnan(reading.value)
    else:
        assert reading.value == pytest.approx(value)
    assert reading.unit == unit
    if kind in ("error", "invalid"):
        assert reading.message  # every unreadable cell says why


def test_decimal_comma_file_reads_three_decimals():
    assert classify_cell("1,234", decimal_comma=True).value == pytest.approx(1.234)


# --------------------------------------------------------------------------- headers

HEADERS = [
    ("MCV_0", "mcv", 0.0, "fL"),
    ("MCV (fL) baseline", "mcv", 0.0, "fL"),
    ("MCV (fL) 2 months", "mcv", 2.0, "fL"),
    ("Hb 2mo", "hgb", 2.0, "g/dL"),
    ("Hepcidin (ng/mL) 2 mo", "hepcidin", 2.0, "ng/mL"),
    ("Ferritin (µg/L) 0", "ferritin", 0.0, "µg/L"),
    ("%Iron Saturation 2", "tsat", 2.0, "%"),
    ("hemoglobin-6", "hgb", 6.0, "g/dL"),
    ("Haemoglobin month 2", "hgb", 2.0, "g/dL"),
    ("MCV m2", "mcv", 2.0, "fL"),
    ("MCV.2", "mcv", 2.0, "fL"),
    ("TSAT 2w", "tsat", 0.5, "%"),
    ("TSAT 2wk", "tsat", 0.5, "%"),
    ("Hgb 2 weeks", "hgb", 0.5, "g/dL"),
    ("Hgb week 2", "hgb", 0.5, "g/dL"),
    ("ferritin pre", "ferritin", 0.0, "ng/mL"),
    ("serum iron start", "iron", 0.0, "µg/dL"),
    ("transferrin saturation 6", "tsat", 6.0, "%"),
    ("TIBC 0", "tibc", 0.0, "µg/dL"),
    ("retic 1", "retic", 1.0, "%"),
    ("Hgb 0.5", "hgb", 0.5, "g/dL"),
    ("baseline MCV", "mcv", 0.0, "fL"),
]


@pytest.mark.parametrize(("header", "key", "time", "unit"), HEADERS)
def test_lab_header_recognised(header, key, time, unit):
    role = recognise_header(header)
    assert (role.role, role.lab_key, role.time, role.unit) == ("lab", key, time, unit)


ROLES = [
    ("patient", "patient_id"),
    ("Patient ID", "patient_id"),
    ("patient #", "patient_id"),
    ("Study ID", "patient_id"),
    ("subject", "patient_id"),
    ("Gender", "sex"),
    ("Age (years)", "age"),
    ("age_group", "age_group"),
    ("Cohort", "cohort"),
    ("Iron", "iron"),
    ("oral iron", "iron"),
    ("Erythropoietin", "epo"),
    ("Reason for Sirolimus", "reason_for_sirolimus"),
    ("Other immunosuppressants", "immunosuppressants"),
    ("Cause of ESRD", "reason_for_transplant"),
    ("comments", "attribute"),
]


@pytest.mark.parametrize(("header", "role"), ROLES)
def test_attribute_header_recognised(header, role):
    assert recognise_header(header).role == role


@pytest.mark.parametrize(
    ("token", "months"),
    [
        ("0", 0.0),
        ("baseline", 0.0),
        ("pre", 0.0),
        ("start", 0.0),
        ("2", 2.0),
        ("2m", 2.0),
        ("2mo", 2.0),
        ("2 months", 2.0),
        ("month 2", 2.0),
        ("m2", 2.0),
        ("2w", 0.5),
        ("2wk", 0.5),
        ("2 weeks", 0.5),
        ("week 2", 0.5),
        ("6", 6.0),
        ("4 weeks", 1.0),
    ],
)
def test_time_tokens(token, months):
    assert parse_time(token)[0] == months


# --------------------------------------------------------------------------- one cohort, many files

PATIENTS = [
    # id, sex, age, iron, epo, MCV 0, MCV 2, Hgb 0, Hgb 2, hepcidin 0, hepcidin 2
    ("P1", "F", 12.0, True, False, 84.5, 82.1, 11.7, 11.2, 40.0, 20.5),
    ("P2", "M", 15.0, False, False, 88.0, 85.3, 12.9, None, 55.2, 23.0),
    ("P3", "M", 40.5, False, True, 91.2, 86.0, 13.4, 12.8, None, 18.9),
]
LABS = [
    ("mcv", 0.0),
    ("mcv", 2.0),
    ("hgb", 0.0),
    ("hgb", 2.0),
    ("hepcidin", 0.0),
    ("hepcidin", 2.0),
]


def _canonical(cohort) -> tuple[pd.DataFrame, pd.DataFrame]:
    patients = cohort.patients[["sex", "age", "iron", "epo"]].copy()
    labs = (
        cohort.labs[["patient_id", "analyte", "time", "value", "censored"]]
        .sort_values(["patient_id", "analyte", "time"])
        .reset_index(drop=True)
    )
    return patients, labs


def _expected() -> tuple[pd.DataFrame, pd.DataFrame]:
    patients = pd.DataFrame(
        [(p[1], p[2], p[3], p[4]) for p in PATIENTS],
        columns=["sex", "age", "iron", "epo"],
        index=pd.Index([p[0] for p in PATIENTS], name="patient_id"),
    ).astype({"sex": object, "iron": object, "epo": object})
    rows = []
    for p in PATIENTS:
        for (key, time), value in zip(LABS, p[5:], strict=True):
            if value is not None:
                rows.append((p[0], key, time, value, ""))
    labs = pd.DataFrame(rows, columns=["patient_id", "analyte", "time", "value", "censored"])
    return patients, labs.sort_values(["patient_id", "analyte", "time"]).reset_index(drop=True)


def _wide_utf8_csv() -> bytes:
    lines = ["patient_id,sex,age,iron,epo,MCV_0,MCV_2,Hgb_0,Hgb_2,Hepcidin_0,Hepcidin_2"]
    for p in PATIENTS:
        cells = [p[0], p[1], f"{p[2]:g}", "yes" if p[3] else "no", "yes" if p[4] else "no"]
        cells += ["" if v is None else f"{v:g}" for v in p[5:]]
        lines.append(",".join(cells))
    return ("\n".join(lines) + "\n").encode("utf-8")


def _wide_cp1252_semicolon_csv() -> bytes:
    header = (
        "Patient #;Gender;Age (years);Oral iron;Erythropoietin;MCV (fL) baseline;"
        "MCV (fL) 2 months;Hb (g/dL) 0;Hb (g/dL) 2mo;Hepcidin (ng/mL) 0;"
        "Hepcidin (ng/mL) 2 mo;Comentário"
    )
    lines = ["Étude sirolimus – export;;;;", header]
    sex_words = {"F": "Female ", "M": " male"}
    for p in PATIENTS:
        cells = [
            p[0],
            sex_words[p[1]],
            f"{p[2]:g}".replace(".", ","),
            "Y" if p[3] else "N",
            "TRUE" if p[4] else "FALSE",
        ]
        cells += ["N/A" if v is None else f"{v:g}".replace(".", ",") for v in p[5:]]
        cells.append("é")
        lines.append(";".join(cells))
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def _xlsx(sheets: list[tuple[str, list[list[object]], bool]]) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    first_visible = next(name for name, _, hidden in sheets if not hidden)
    for name, rows, hidden in sheets:
        sheet = workbook.add_worksheet(name)
        if name == first_visible:
            sheet.activate()  # xlsxwriter will not hide the active sheet
        for r, row in enumerate(rows):
            for c, cell in enumerate(row):
                if cell is not None:
                    sheet.write(r, c, cell)
        if hidden:
            sheet.hide()
    workbook.close()
    return buffer.getvalue()


def _wide_xlsx_with_title_rows() -> bytes:
    rows: list[list[object]] = [
        ["Sirolimus cohort, exported 2013"],
        [],
        [
            "Patient",
            "Sex",
            "Age",
            "Iron therapy",
            "Epo",
            "MCV 0",
            "MCV 2",
            "Hgb 0",
            "Hgb 2",
            "Hepcidin 0",
            "Hepcidin 2",
        ],
    ]
    for p in PATIENTS:
        rows.append(
            [
                p[0],
                p[1].lower(),
                p[2],
                "Yes" if p[3] else "No",
                1 if p[4] else 0,
                *["#N/A" if v is None else v for v in p[5:]],
            ]
        )
    decoy = [["patient_id", "MCV_0"], ["X9", 70.0]]
    # the first sheet is hidden: the loader must read the first *visible* one
    return _xlsx([("old", decoy, True), ("cohort", rows, False)])


def _long_xlsx() -> bytes:
    names = {"mcv": "MCV", "hgb": "Hb", "hepcidin": "Hepcidin"}
    labs: list[list[object]] = [["Subject", "Lab", "Time", "Value", "Unit"]]
    for p in PATIENTS:
        for (key, time), value in zip(LABS, p[5:], strict=True):
            labs.append(
                [
                    p[0],
                    names[key],
                    "baseline" if time == 0 else f"{time:g}mo",
                    "N/A" if value is None else value,
                    "",
                ]
            )
    attributes: list[list[object]] = [["Patient ID", "Sex", "Age", "Iron", "EPO"]]
    for p in PATIENTS:
        attributes.append([p[0], p[1], p[2], "yes" if p[3] else "no", "yes" if p[4] else "no"])
    return _xlsx([("labs", labs, False), ("patients", attributes, False)])


def _long_csv() -> bytes:
    lines = ["patient id\tsex\tage\tiron\tepo\tanalyte\ttime\tvalue"]
    names = {"mcv": "mcv", "hgb": "hemoglobin", "hepcidin": "hepcidin"}
    for p in PATIENTS:
        for (key, time), value in zip(LABS, p[5:], strict=True):
            if value is not None:
                lines.append(
                    "\t".join(
                        [
                            p[0],
                            p[1],
                            f"{p[2]:g}",
                            "yes" if p[3] else "no",
                            "yes" if p[4] else "no",
                            names[key],
                            f"{time:g}",
                            f"{value:g}",
                        ]
                    )
                )
    return ("\n".join(lines) + "\n").encode("utf-8-sig")


SAME_COHORT = [
    ("wide.csv", _wide_utf8_csv),
    ("wide_cp1252.csv", _wide_cp1252_semicolon_csv),
    ("wide_titles.xlsx", _wide_xlsx_with_title_rows),
    ("long.xlsx", _long_xlsx),
    ("long.tsv", _long_csv),
]


@pytest.mark.parametrize(("filename", "make"), SAME_COHORT, ids=[s[0] for s in SAME_COHORT])
def test_same_cohort_from_every_layout(filename, make):
    cohort = load_cohort(make(), filename)
    patients, labs = _canonical(cohort)
    expected_patients, expected_labs = _expected()
    pd.testing.assert_frame_equal(patients, expected_patients, check_dtype=False)
    pd.testing.assert_frame_equal(labs, expected_labs, check_dtype=False)
    report = cohort.report
    assert report.n_rows_in == report.n_rows_used + len(report.excluded)
    assert report.ok


def test_cp1252_file_reports_how_it_was_read():
    cohort = load_cohort(_wide_cp1252_semicolon_csv(), "x.csv")
    assert "Windows-1252" in cohort.source.how_read
    assert "semicolon" in cohort.source.how_read
    assert "decimal comma" in cohort.source.how_read
    assert cohort.patients["Comentário"].tolist() == ["é", "é", "é"]
    # the title row is listed, not silently dropped
    assert cohort.report.excluded[0].row == 1


def test_hidden_first_sheet_is_not_read():
    cohort = load_cohort(_wide_xlsx_with_title_rows(), "x.xlsx")
    assert cohort.source.sheet == "cohort"
    assert "X9" not in cohort.patients.index


def test_hidden_sheet_can_be_chosen():
    cohort = load_cohort(_wide_xlsx_with_title_rows(), "x.xlsx", sheet="old")
    assert list(cohort.patients.index) == ["X9"]


# --------------------------------------------------------------------------- rows and warnings


def _csv(text: str) -> bytes:
    return text.encode("utf-8")


def test_every_row_is_accounted_for():
    text = (
        "My title\n"
        "id,sex,MCV 0,MCV 2\n"
        "1,F,80,78\n"
        ",,,\n"
        ",F,81,79\n"  # no ID
        "1,F,80,78\n"  # exact duplicate
        "2,M,82,80,99\n"  # one cell more than the header
        "3,M,<50,N/A\n"
    )
    cohort = load_cohort(_csv(text), "x.csv")
    report = cohort.report
    assert report.n_rows_in == 7
    assert report.n_rows_used == 2
    reasons = {e.row: e.reason for e in report.excluded}
    assert set(reasons) == {1, 4, 5, 6, 7}
    assert "title" in reasons[1]
    assert "empty" in reasons[4]
    assert "no patient ID" in reasons[5]
    assert "duplicate of row 3" in reasons[6]
    assert "more cells than the header" in reasons[7]
    censored = cohort.labs[cohort.labs["censored"] == "<"]
    assert censored[["patient_id", "value"]].values.tolist() == [["3", 50.0]]


def test_warnings_name_row_and_column():
    text = "id,MCV 0,Hgb 0,TSAT 0\n1,abc,11,20\n2,85,#DIV/0!,30\n3,20,120,25\n"
    report = load_cohort(_csv(text), "x.csv").report
    located = {(w.row, w.column) for w in report.warnings}
    assert (2, "MCV 0") in located  # 'abc'
    assert (3, "Hgb 0") in located  # '#DIV/0!'
    assert (4, "MCV 0") in located  # 20 fL: implausible (MCH?)
    assert (4, "Hgb 0") in located  # 120 g/dL: looks like g/L
    g_per_l = next(w for w in report.warnings if (w.row, w.column) == (4, "Hgb 0"))
    assert "g/L" in g_per_l.message


def test_tsat_fraction_is_flagged():
    text = "id,TSAT 0\n1,0.2\n2,0.3\n3,0.15\n"
    warnings = load_cohort(_csv(text), "x.csv").report.warnings
    assert any("fraction" in w.message for w in warnings)


def test_identifier_columns_are_warned_about():
    text = "id,Name,DOB,MCV 0\n1,Jane Doe,2001-01-01,85\n"
    warnings = load_cohort(_csv(text), "x.csv").report.warnings
    assert {w.column for w in warnings if "identifier" in w.message} == {"Name", "DOB"}


def test_unknown_lab_with_time_is_kept_when_numeric():
    text = "id,Na+ [mmol/L] 0,Na+ [mmol/L] 2,note 1\n1,140,138,fine\n2,137,139,ok\n"
    cohort = load_cohort(_csv(text), "x.csv")
    assert list(cohort.analytes) == ["na+"]
    assert cohort.analytes["na+"].unit == "mmol/L"
    assert "note 1" in cohort.patients.columns  # text column stays an attribute


def test_mapping_correction():
    text = "Pt,Visit0 MCV,x2\nA,80,78\nB,82,79\n"
    cohort = load_cohort(
        _csv(text),
        "x.csv",
        mapping={"Pt": "patient_id", "Visit0 MCV": "lab:mcv:0", "x2": "lab:mcv:2"},
    )
    assert cohort.lab_matrix("mcv").values.tolist() == [[80.0, 78.0], [82.0, 79.0]]


# --------------------------------------------------------------------------- unusable input

UNUSABLE = [
    ("empty.csv", b"", "empty"),
    ("noid.csv", b"sex,MCV 0\nF,80\n", "No patient ID column"),
    ("nolab.csv", b"id,sex\n1,F\n", "No lab values"),
    ("norows.csv", b"id,MCV 0\n", "no patient rows"),
    ("conflict.csv", b"id,MCV 0\n1,80\n1,81\n", "conflicting"),
    ("binary.csv", b"\x00\x01\x02\x03" * 10, "binary"),
    ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, ".xls"),
    ("broken.xlsx", b"PK\x03\x04garbage", "not a valid Excel"),
    ("map.csv", b"id,MCV 0\n1,80\n", "no such column"),
]


@pytest.mark.parametrize(("filename", "data", "message"), UNUSABLE, ids=[u[0] for u in UNUSABLE])
def test_unusable_input_is_one_typed_error(filename, data, message):
    mapping = {"nope": "sex"} if filename == "map.csv" else None
    with pytest.raises(InputError, match=message):
        load_cohort(data, filename, mapping=mapping)


def test_zip_bomb_is_refused_before_parsing():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", "<a>" + " " * (20 * 1024 * 1024) + "</a>")
    with pytest.raises(InputError, match=r"expand|compressed"):
        load_cohort(buffer.getvalue(), "bomb.xlsx")


# --------------------------------------------------------------------------- command line


def test_cli_validate_json(tmp_path, capsys):
    path = tmp_path / "c.csv"
    path.write_bytes(_wide_utf8_csv())
    assert main(["validate", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is True
    assert out["n_patients"] == 3
    assert out["n_rows_in"] == out["n_rows_used"] + len(out["excluded"])
    assert out["analytes"] == {"mcv": [0.0, 2.0], "hgb": [0.0, 2.0], "hepcidin": [0.0, 2.0]}
    assert isinstance(out["errors"], list) and isinstance(out["warnings"], list)


def test_cli_unusable_file_exits_2_without_traceback(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"sex,MCV 0\nF,80\n")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "No patient ID column" in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_cli_map_option(tmp_path, capsys):
    path = tmp_path / "c.csv"
    path.write_bytes(b"Pt,x0\nA,80\n")
    assert (
        main(["validate", str(path), "--map", "Pt=patient_id", "--map", "x0=lab:mcv:0", "--json"])
        == 0
    )
    assert json.loads(capsys.readouterr().out)["analytes"] == {"mcv": [0.0]}


# --------------------------------------------------------------------------- review regressions


def _rows_add_up(report) -> None:
    assert report.n_rows_in == report.n_rows_used + len(report.excluded)


SUMMARY_LABELS = [
    "Mean",
    "mean:",
    "AVERAGE",
    "Average:",
    "SD",
    "sd:",
    "SE",
    "Median",
    "Min",
    "Max",
    "Total",
    "TOTAL:",
    "n",
    "N",
    "p",
    "p-value",
    "P-value:",
    "Sum",
    "Mean ± SD",
]


@pytest.mark.parametrize("label", SUMMARY_LABELS)
def test_summary_row_is_not_a_patient_wide(label):
    text = f"id,sex,MCV 0,MCV 2\nP1,F,80,78\nP2,M,90,88\n{label},,85,83\n"
    cohort = load_cohort(_csv(text), "x.csv")
    assert list(cohort.patients.index) == ["P1", "P2"]
    assert set(cohort.labs["patient_id"]) == {"P1", "P2"}
    reasons = {e.row: e.reason for e in cohort.report.excluded}
    assert reasons == {4: f"summary row ('{label}'), not a patient"}
    _rows_add_up(cohort.report)


def test_summary_rows_are_not_patients_and_never_conflict():
    # two cohorts, each with its own Mean / SD rows: the second 'Mean' would otherwise be a
    # "duplicate patient with conflicting values", and a lone 'Mean' would enter the t-test
    text = (
        "id,cohort,MCV 0,MCV 2\n"
        "P1,a,80,78\nP2,a,90,88\nMean:,a,85,83\nSD,a,7.1,7.1\n\n"
        "P3,b,82,80\nP4,b,84,81\nMean,b,83,80.5\nSD,b,1.4,0.7\nn,b,2,2\np-value,,0.5,0.4\n"
    )
    cohort = load_cohort(_csv(text), "x.csv")
    assert list(cohort.patients.index) == ["P1", "P2", "P3", "P4"]
    assert cohort.lab_matrix("mcv").loc["P1"].tolist() == [80.0, 78.0]
    summary = {e.row: e.reason for e in cohort.report.excluded if "summary row" in e.reason}
    assert summary == {
        4: "summary row ('Mean:'), not a patient",
        5: "summary row ('SD'), not a patient",
        9: "summary row ('Mean'), not a patient",
        10: "summary row ('SD'), not a patient",
        11: "summary row ('n'), not a patient",
        12: "summary row ('p-value'), not a patient",
    }
    _rows_add_up(cohort.report)


def test_summary_row_letter_patients_stay_patients():
    # patients coded by letter: 'N' and 'P' between other patients are patients, but an
    # 'n' (count) under the data is not
    ids = list("MNOPQ")
    text = "id,MCV 0\n" + "".join(f"{p},{80 + i}\n" for i, p in enumerate(ids)) + "n,5\n"
    cohort = load_cohort(_csv(text), "x.csv")
    assert list(cohort.patients.index) == ids
    assert [e.reason for e in cohort.report.excluded] == ["summary row ('n'), not a patient"]
    _rows_add_up(cohort.report)


def test_summary_row_is_not_a_patient_long():
    lines = ["patient\tanalyte\ttime\tvalue"]
    lines += ["P1\tMCV\t0\t80", "P1\tMCV\t2\t78", "P2\tMCV\t0\t90", "P2\tMCV\t2\t88"]
    lines += ["Mean\tMCV\t0\t85", "Mean\tMCV\t2\t83", "SD\tMCV\t0\t7.1", "N\tMCV\t0\t2"]
    cohort = load_cohort(_csv("\n".join(lines) + "\n"), "long.tsv")
    assert cohort.source.layout == "long"
    assert list(cohort.patients.index) == ["P1", "P2"]
    assert set(cohort.labs["patient_id"]) == {"P1", "P2"}
    reasons = {e.row: e.reason for e in cohort.report.excluded}
    assert reasons == {
        6: "summary row ('Mean'), not a patient",
        7: "summary row ('Mean'), not a patient",
        8: "summary row ('SD'), not a patient",
        9: "summary row ('N'), not a patient",
    }
    _rows_add_up(cohort.report)


def test_summary_row_is_not_a_patient_on_attribute_sheet():
    labs = [["Subject", "Lab", "Time", "Value"], ["P1", "MCV", 0, 80.0], ["P2", "MCV", 0, 90.0]]
    attributes = [["Patient ID", "Sex", "Age"], ["P1", "F", 30], ["P2", "M", 50]]
    attributes += [["Mean", None, 40], ["SD", None, 14.1]]
    data = _xlsx([("labs", labs, False), ("patients", attributes, False)])
    cohort = load_cohort(data, "long.xlsx")
    assert list(cohort.patients.index) == ["P1", "P2"]
    summary = [(e.sheet, e.row, e.reason) for e in cohort.report.excluded]
    assert summary == [
        ("patients", 4, "summary row ('Mean'), not a patient"),
        ("patients", 5, "summary row ('SD'), not a patient"),
    ]
    _rows_add_up(cohort.report)


def test_dot_thousands_in_decimal_comma_file_is_ambiguous():
    # 'a dot followed by exactly 3 digits' in a decimal-comma file may be 1234, not 1.234
    text = "id;Hgb 0;Ferritin 0\nP1;11,7;1.234\nP2;12,5;12.5\nP3;13,1;85,0\n"
    cohort = load_cohort(_csv(text), "x.csv")
    assert cohort.source.how_read.endswith("decimal comma")
    ferritin = cohort.lab_matrix("ferritin")[0.0]
    assert math.isnan(ferritin["P1"])  # neither 1.234 nor 1234
    assert ferritin["P2"] == pytest.approx(12.5)  # a dot and 1-2 decimals stays a number
    assert ferritin["P3"] == pytest.approx(85.0)
    warning = next(w for w in cohort.report.warnings if (w.row, w.column) == (2, "Ferritin 0"))
    assert "thousands separator" in warning.message and "1.234" in warning.message


@pytest.mark.parametrize(
    ("raw", "kind", "value"),
    [
        ("1.234", "invalid", math.nan),
        (" 1.234 ", "invalid", math.nan),
        ("<1.234", "invalid", math.nan),
        ("12.500", "invalid", math.nan),
        ("12.5", "number", 12.5),
        ("12.25", "number", 12.25),
        ("0.125", "number", 0.125),  # a thousands group never follows a lone 0
        ("1234.567", "number", 1234.567),
        ("1,234", "number", 1.234),
    ],
)
def test_dot_thousands_in_decimal_comma_file_cell_and_fast_path_agree(raw, kind, value):
    from analytics.reading.cells import classify_column

    cell = classify_cell(raw, decimal_comma=True)
    column = classify_column(pd.Series([raw, "11,7"], dtype=object), decimal_comma=True)
    assert cell.kind == column["kind"].iloc[0] == kind
    if math.isnan(value):
        assert math.isnan(cell.value) and math.isnan(column["value"].iloc[0])
        assert "thousands separator" in cell.message
        assert cell.message == column["message"].iloc[0]
    else:
        assert cell.value == pytest.approx(value) == column["value"].iloc[0]
    # in a decimal-point file the dot is a decimal point, as before
    expected = {"1,234": "invalid", "<1.234": "below"}.get(raw, "number")
    assert classify_column(pd.Series([raw], dtype=object))["kind"].iloc[0] == expected


@pytest.fixture
def calamine_calls(monkeypatch):
    """Record which sheets calamine opens and converts to Python (reader imports it lazily)."""
    import python_calamine

    real = python_calamine.CalamineWorkbook
    calls: list[tuple[str, str, int | None]] = []

    class Sheet:
        def __init__(self, sheet, name):
            self._sheet, self._name = sheet, name

        def __getattr__(self, attribute):
            return getattr(self._sheet, attribute)

        def to_python(self, *args, **kwargs):
            calls.append(("to_python", self._name, kwargs.get("nrows")))
            return self._sheet.to_python(*args, **kwargs)

    class Workbook:
        def __init__(self, workbook):
            self._workbook = workbook

        @classmethod
        def from_filelike(cls, filelike):
            return cls(real.from_filelike(filelike))

        @property
        def sheets_metadata(self):
            return self._workbook.sheets_metadata

        def get_sheet_by_name(self, name):
            calls.append(("open", name, None))
            return Sheet(self._workbook.get_sheet_by_name(name), name)

    monkeypatch.setattr(python_calamine, "CalamineWorkbook", Workbook)
    return calls


def _small_limit(monkeypatch, name: str, value: float) -> None:
    import dataclasses

    from analytics.limits import LIMITS

    monkeypatch.setitem(LIMITS, name, dataclasses.replace(LIMITS[name], value=value))


def _sheet_with_data_at_row(row: int) -> list[list[object]]:
    # a header and two patients starting at spreadsheet row `row`, empty rows above
    block = [["patient_id", "MCV 0"], ["P1", 80.0], ["P2", 90.0]]
    return [[] for _ in range(row - 1)] + block


def test_xlsx_size_checked_before_cells_are_converted(calamine_calls, monkeypatch):
    _small_limit(monkeypatch, "max_rows", 10)
    # calamine's height is 3 (the used area), but the grid kept from row 1 has 12 rows
    data = _xlsx([("cohort", _sheet_with_data_at_row(10), False)])
    with pytest.raises(InputError, match=r"'cohort' has 12 rows \(counting from row 1\)"):
        load_cohort(data, "x.xlsx")
    assert calamine_calls == [("open", "cohort", None)]  # refused before to_python
    # within the limit (rows 8-10), the same layout is read, row numbers intact
    cohort = load_cohort(_xlsx([("cohort", _sheet_with_data_at_row(8), False)]), "x.xlsx")
    assert cohort.report.header_row == 8
    assert cohort.labs["row"].tolist() == [9, 10]


def test_xlsx_too_many_columns_checked_before_cells_are_converted(calamine_calls, monkeypatch):
    _small_limit(monkeypatch, "max_columns", 5)
    rows = [["patient_id", "MCV 0", *[None] * 6, "note"], ["P1", 80.0]]
    with pytest.raises(InputError, match=r"'cohort' has 9 columns"):
        load_cohort(_xlsx([("cohort", rows, False)]), "x.xlsx")
    assert [c for c in calamine_calls if c[0] == "to_python"] == []


def test_xlsx_other_sheets_read_lazily_and_size_checked(calamine_calls, monkeypatch):
    from analytics.reading.upload import read_grid

    labs = [["Subject", "Lab", "Time", "Value"], ["P1", "MCV", 0, 80.0], ["P2", "MCV", 0, 90.0]]
    notes = [["Notes"], ["exported from the lab system"]] + [[f"line {i}"] for i in range(20)]
    attributes = _sheet_with_data_at_row(1)
    attributes[0] = ["Patient ID", "Sex"]
    attributes[1:] = [["P1", "F"], ["P2", "M"]]
    data = _xlsx([("labs", labs, False), ("notes", notes, False), ("patients", attributes, False)])

    grid = read_grid(data, "x.xlsx")
    assert calamine_calls == [("open", "labs", None), ("to_python", "labs", None)]
    assert list(grid.other_sheets) == ["notes", "patients"]  # names only: nothing read yet
    assert len(calamine_calls) == 2
    assert grid.other_sheets["patients"][1] == ["P1", "F"]  # read on demand

    calamine_calls.clear()
    cohort = load_cohort(data, "x.xlsx")
    converted = [(name, nrows) for what, name, nrows in calamine_calls if what == "to_python"]
    # 'notes' has no patient ID header: only its top rows were looked at
    assert converted == [("labs", None), ("notes", 30), ("patients", 30), ("patients", None)]
    assert cohort.patients["sex"].tolist() == ["F", "M"]

    # an attribute sheet over the row limit is size-checked and skipped, with a warning
    _small_limit(monkeypatch, "max_rows", 40)  # more than the 30 header-search rows
    attributes += [[] for _ in range(40)] + [["P9", "F"]]
    data = _xlsx([("labs", labs, False), ("patients", attributes, False)])
    calamine_calls.clear()
    cohort = load_cohort(data, "x.xlsx")
    assert ("to_python", "patients", None) not in calamine_calls
    assert cohort.patients["sex"].isna().all()
    assert any(
        "sheet 'patients' were not read" in w.message and "44 rows" in w.message
        for w in cohort.report.warnings
    )
    _rows_add_up(cohort.report)


def test_csv_row_limit_stops_reading_early(monkeypatch):
    import analytics.reading.csv_text as reader

    parsed: list[list[str]] = []  # the rows the csv module produced for the last reader
    real_reader = reader.csv.reader

    def counting_reader(*args, **kwargs):
        parsed.clear()  # the delimiter sniffer reads the first lines with readers of its own
        for row in real_reader(*args, **kwargs):
            parsed.append(row)
            yield row

    monkeypatch.setattr(reader.csv, "reader", counting_reader)
    _small_limit(monkeypatch, "max_rows", 50)
    text = "id,MCV 0\n" + "".join(f"P{i},{80 + i % 10}\n" for i in range(10_000))
    with pytest.raises(InputError, match=r"more than 50 rows"):
        load_cohort(_csv(text), "x.csv")
    assert len(parsed) == 51  # stopped at the first row too many, not after 10,001

    _small_limit(monkeypatch, "max_columns", 4)
    text = "id,MCV 0\nP1,80\nP2,81,1,2,3\n" + "P3,82\n" * 1000
    with pytest.raises(InputError, match=r"5 columns \(row 3\)"):
        load_cohort(_csv(text), "x.csv")
    assert len(parsed) == 3

    _small_limit(monkeypatch, "max_columns", 1000)
    ok = "id,MCV 0\n" + "".join(f"P{i},{80 + i % 10}\n" for i in range(50 - 1))
    assert load_cohort(_csv(ok), "x.csv").n_patients == 49  # exactly at the limit
