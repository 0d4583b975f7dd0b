"""Identifiers: which columns identify patients, and patients labelled P01 … Pnn in outputs.

A chart-review file with record numbers as patient IDs (7-digit and ``H1234567``),
initials and dates of birth: none of those values may reach any byte of a figure,
table, export, report or command-line output unless pseudonymisation is turned off
(and then they do, so the searches can fail).
"""

from __future__ import annotations

import doctest
import io
import json
import re
import shlex
import zipfile

import pandas as pd
import pytest
from app_session import open_section, started_app

import analytics.reading.identifiers as identifiers_module
from analytics import load_cohort
from analytics.cli import main
from analytics.filters import CohortFilter
from analytics.output.commands import commands, validate_command
from analytics.output.view import view_outputs
from analytics.pseudonyms import key_frame, labels_sentence, pseudonymise
from analytics.reading.identifiers import (
    header_identifier_kind,
    pseudonym_labels,
    value_identifier_kind,
)
from analytics.viz.figures import CHARTS

MRNS = ["4827163", "H1234567", "5930218", "7716402", "H7654321", "6021934", "3318805", "H2468013"]
INITIALS = ["JQD", "MKL", "ARW", "TPB", "SEG", "LNV", "CFH", "YOZ"]
DOBS = ["1961-04-12", "1975-07-03", "1980-11-02", "1955-01-30",
        "1990-06-18", "1968-09-21", "1972-12-05", "1984-02-27"]  # fmt: skip
SECRETS = MRNS + INITIALS + DOBS
HEADER = (
    "MRN,Pt Initials,DOB,Sex (M/F),Age at start,EPO,Hgb pre,Hgb 2 mo,MCV pre,MCV 2 mo,"
    "Hepcidin (ng/mL) baseline,Hepcidin (ng/mL) 2 mo,notes"
)
# Lab values made up for these tests (any plausible values do).
LABS = [
    ("M", 58, "no", 12.1, 11.2, 88, 82, 21, 12, "ok"),
    ("F", 44, "no", 11.5, 10.9, 90, 84, "<5", 8, ""),
    ("F", 39, "yes", 13.0, 12.1, 86, 81, 30, "n/a", "lost"),
    ("M", 64, "no", 12.8, 12.2, 91, 85, 17, 9, ""),
    ("F", 29, "yes", 10.9, 10.1, 87, 83, 25, 14, ""),
    ("M", 51, "no", 13.4, 12.5, 89, 84, 19, 11, ""),
    ("F", 47, "no", 12.0, 11.6, 92, 86, 23, 15, ""),
    ("M", 36, "yes", 14.1, 13.0, 85, 80, 28, 16, ""),
]


def _chart_review(ids: list[str] = MRNS) -> bytes:
    """The chart-review CSV: a title row, then one row per patient, the first one twice."""
    rows = [
        ",".join(str(v) for v in (pid, initials, dob, *labs))
        for pid, initials, dob, labs in zip(ids, INITIALS, DOBS, LABS, strict=True)
    ]
    return "\n".join(["Chart review, sirolimus 2019", HEADER, *rows, rows[0]]).encode()


def _study_codes() -> bytes:
    """The same file with study codes R01 … R08 under 'patient_id' instead of record numbers."""
    codes = [f"R{i:02d}" for i in range(1, 9)]
    return _chart_review(codes).replace(b"MRN,", b"patient_id,")


MAP = ["--map", "MRN=patient_id"]
LAB = ["--analyte", "mcv", "--baseline", "0", "--follow-up", "2"]


@pytest.fixture(scope="module")
def chart_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("identifiers") / "chart_review.csv"
    path.write_bytes(_chart_review())
    return path


@pytest.fixture(scope="module")
def read():
    return load_cohort(_chart_review(), "chart_review.csv", mapping={"MRN": "patient_id"})


# --------------------------------------------------------------------------- searching


def _found(text: str, secrets: list[str] = SECRETS) -> set[str]:
    """The secrets that appear in ``text`` as a whole token.

    Bounded by characters that cannot continue a base64 run or a number, so that an
    embedded image cannot hide or fake a match.
    """
    return {
        s for s in secrets if re.search(rf"(?<![A-Za-z0-9+/]){re.escape(s)}(?![A-Za-z0-9+/])", text)
    }


def _archive_text(data: bytes) -> str:
    """Every member of a zip (a ZIP bundle, an XLSX), unpacked, zips inside zips too."""
    parts = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            member = archive.read(name)
            if member[:2] == b"PK":
                parts.append(_archive_text(member))
            else:
                parts.append(member.decode("utf-8", errors="replace"))
    return "\n".join(parts)


# --------------------------------------------------------------------------- detection


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        ("Pt Initials", "initials"),
        ("Initials", "initials"),
        ("name", "name"),
        ("Patient name", "name"),
        ("Patient's name", "name"),
        ("Surname", "name"),
        ("First Name", "name"),
        ("DOB", "birth_date"),
        ("D.O.B.", "birth_date"),
        ("Date of birth", "birth_date"),
        ("Birth date", "birth_date"),
        ("MRN", "record_number"),
        ("Medical record number", "record_number"),
        ("Medical Record No.", "record_number"),
        ("Record #", "record_number"),
        ("Hospital number", "record_number"),
        ("Hospital No", "record_number"),
        ("NHS number", "record_number"),
        ("Phone", "phone"),
        ("Phone (mobile)", "phone"),
        ("Telephone number", "phone"),
        ("Home address", "address"),
        ("Postcode", "address"),
        ("e-mail", "email"),
        # not identifiers
        ("Record ID", None),
        ("Patient ID", None),
        ("patient_id", None),
        ("Pt #", None),
        ("Sex (M/F)", None),
        ("Age at start", None),
        ("Year of birth", None),
        ("Birth weight", None),
        ("Drug name", None),
        ("Hgb pre", None),
        ("MCV 2 mo", None),
        ("notes", None),
    ],
)
def test_headers_that_name_an_identifier(header, kind):
    assert header_identifier_kind(header) == kind


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("4827163", "record_number"),
        ("H1234567", "record_number"),
        ("943 476 5919", "record_number"),
        ("JD", "initials"),
        ("J.Q.D.", "initials"),
        ("1970-03-15", "date"),
        ("15/03/1970", "date"),
        ("15 Mar 1970", "date"),
        ("+44 20 7946 0000", "phone"),
        ("(555) 123-4567", "phone"),
        ("12 High Street", "address"),
        ("SW1A 1AA", "address"),
        ("Jane Doe", "name"),
        ("DOE, Jane", "name"),
        ("jane.doe@example.org", "email"),
        # study codes, lab values and clinical words
        ("R01", None),
        ("P3", None),
        ("12", None),
        ("SIR-012", None),
        ("11.7", None),
        ("<5", None),
        ("M", None),
        ("Lupus Nephritis", None),
        ("Polycystic Kidney Disease", None),
        ("yes", None),
    ],
)
def test_values_that_look_like_an_identifier(value, kind):
    assert value_identifier_kind(value) == kind


def test_docstring_examples_run():
    failures, tried = doctest.testmod(identifiers_module)
    assert tried > 0 and failures == 0


def test_the_chart_review_columns_are_warned_about_by_name(read):
    warned = {w.column: w.message for w in read.report.warnings if w.kind == "identifier_column"}
    assert set(warned) == {"MRN", "Pt Initials", "DOB"}
    assert "look like direct identifiers" in warned["MRN"]
    assert "P01 … P08" in warned["MRN"]
    assert "initials" in warned["Pt Initials"] and "left out" in warned["Pt Initials"]
    assert "dates of birth" in warned["DOB"]
    assert not _found(" ".join(warned.values()))  # the warnings quote no value
    assert read.identifiers.columns == (("Pt Initials", "initials"), ("DOB", "birth_date"))


def _csv(header: str, rows: list[str]) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def test_columns_are_judged_by_their_values_too():
    names = ["Jane Doe", "John Smith", "DOE, Mary", "Ann O'Neil", "Peter J. Brown"]
    rows = [
        f'S{i},"{name}",+44 20 7946 000{i},{i}2 Mill Lane,{dob},TAC,8{i},7{i}'
        for i, name, dob in zip(range(1, 6), names, DOBS, strict=False)
    ]
    cohort = load_cohort(_csv("id,who,contact,home,seen,drug,MCV 0,MCV 2", rows), "x.csv")
    assert dict(cohort.identifiers.columns) == {
        "who": "name",
        "contact": "phone",
        "home": "address",
        "seen": "date",
    }
    assert not cohort.identifiers.direct  # S1 … S5 are study codes
    messages = [w.message for w in cohort.report.warnings if w.column == "contact"]
    assert messages and "by its values: 5 of the 5 looked at" in messages[0]


def test_a_repeated_code_is_not_initials():
    rows = [f"{i},{'TAC' if i % 2 else 'CSA'},8{i},7{i}" for i in range(1, 7)]
    cohort = load_cohort(_csv("id,CNI,MCV 0,MCV 2", rows), "x.csv")
    assert cohort.identifiers.columns == ()
    assert not [w for w in cohort.report.warnings if w.kind == "identifier_column"]


@pytest.mark.parametrize(
    ("header", "ids", "direct"),
    [
        ("patient_id", [f"R{i:02d}" for i in range(1, 26)], False),
        ("patient_id", [str(i) for i in range(1, 26)], False),
        ("id", ["P1", "P2", "P3", "P4"], False),
        ("study id", ["SIR-001", "SIR-002", "SIR-003"], False),
        ("id", ["4827163", "5930218", "7716402"], True),  # 7-digit record numbers
        ("id", ["H1234567", "H7654321", "H2468013"], True),  # hospital numbers
        ("id", ["R01", "R02", "4827163"], True),  # one record number is one too many
        ("id", ["Jane Doe", "John Smith", "Mary Jones"], True),  # names
        ("MRN", ["R01", "R02", "R03"], True),  # the header says so
    ],
)
def test_the_patient_id_column_is_a_direct_identifier_or_a_study_code(header, ids, direct):
    rows = [f"{pid},{80 + i},{78 + i}" for i, pid in enumerate(ids)]
    mapping = {header: "patient_id"} if header == "MRN" else None
    cohort = load_cohort(_csv(f"{header},MCV 0,MCV 2", rows), "x.csv", mapping=mapping)
    assert cohort.identifiers.direct is direct
    labels = list(pseudonymise(cohort, "auto").patients.index)
    assert labels == (pseudonym_labels(len(ids)) if direct else ids)


# --------------------------------------------------------------------------- the cohort


def test_pseudonyms_follow_file_order_and_the_key_maps_back(read):
    cohort = pseudonymise(read, "auto")
    assert list(cohort.patients.index) == ["P01", "P02", "P03", "P04", "P05", "P06", "P07", "P08"]
    assert set(cohort.labs["patient_id"]) == set(cohort.patients.index)
    key = key_frame(cohort)
    assert list(key.columns) == ["patient", "patient ID in the file (MRN)"]
    assert key.values.tolist() == [[f"P{i:02d}", m] for i, m in enumerate(MRNS, start=1)]
    # the same patient's values under the label as under the ID
    before = read.lab_matrix("mcv").loc["H1234567"].tolist()
    assert cohort.lab_matrix("mcv").loc["P02"].tolist() == before
    assert "Pt Initials" not in cohort.patients and "DOB" not in cohort.patients
    assert "notes" in cohort.patients  # other columns stay
    assert cohort.identifiers.mode == "auto"


def test_the_validation_report_names_patients_by_label(read):
    assert any("4827163" in e.reason for e in read.report.excluded)  # the duplicate row
    cohort = pseudonymise(read, "auto")
    reasons = [e.reason for e in cohort.report.excluded]
    assert "exact duplicate of row 3 (patient P01)" in reasons
    text = " ".join(reasons + [i.message for i in cohort.report.issues])
    text += " ".join(i.message for g in cohort.report.groups for i in g.issues)
    assert not _found(text)


def test_no_keeps_everything_and_yes_relabels_study_codes(read):
    kept = pseudonymise(read, "no")
    assert list(kept.patients.index) == MRNS
    assert list(kept.patients["Pt Initials"]) == INITIALS
    assert "Pseudonymisation is off" in labels_sentence(kept)
    codes = [f"R{i:02d}" for i in range(1, 9)]
    under_mrn = load_cohort(_chart_review(codes), "codes.csv", mapping={"MRN": "patient_id"})
    auto = pseudonymise(under_mrn, "auto")
    assert list(auto.patients.index) == pseudonym_labels(8)  # the header names record numbers
    yes = pseudonymise(load_cohort(_study_codes(), "codes.csv"), "yes")
    assert list(yes.patients.index) == pseudonym_labels(8)
    assert labels_sentence(yes).endswith(
        "as asked; the identifier columns 'Pt Initials' and 'DOB' are left out."
    )


def test_auto_keeps_study_codes_and_says_so():
    cohort = pseudonymise(load_cohort(_study_codes(), "codes.csv"), "auto")
    assert list(cohort.patients.index) == [f"R{i:02d}" for i in range(1, 9)]
    assert cohort.identifiers.pseudonyms == ()
    assert labels_sentence(cohort) == (
        "Patients are labelled with the file's patient IDs (column 'patient_id'): they look "
        "like study codes; the identifier columns 'Pt Initials' and 'DOB' are left out."
    )


# --------------------------------------------------------------------------- outputs


def _run(args: list[str], capsys) -> str:
    assert main(args) == 0, capsys.readouterr().err
    return capsys.readouterr().out


@pytest.fixture(scope="module")
def outputs_of(tmp_path_factory, chart_file):
    """Every output of the chart-review file under a pseudonymisation choice, as text."""
    made: dict[str, dict[str, str]] = {}

    def make(mode: str) -> dict[str, str]:
        if mode in made:
            return made[mode]
        out = tmp_path_factory.mktemp(f"out_{mode}")
        flags = [str(chart_file), *MAP, "--pseudonymise", mode]
        texts: dict[str, str] = {}
        for name, args in {
            "zip, one lab": ["export", *flags, *LAB, "-o", str(out / "one.zip")],
            "zip, all labs": ["export", *flags, "-o", str(out / "all.zip")],
            "xlsx": ["export", *flags, *LAB, "-o", str(out / "tables.xlsx")],
            "csv": ["export", *flags, *LAB, "-o", str(out / "paired.csv")],
            "csv, all labs": ["export", *flags, "-o", str(out / "all.csv")],
            "report": ["report", *flags, *LAB, "-o", str(out / "report.html")],
            "report, all labs": ["report", *flags, "-o", str(out / "all.html")],
            "svg": ["figure", *flags, *LAB, "--chart", "change", "--format", "svg",
                    "-o", str(out / "change.svg")],
        }.items():  # fmt: skip
            assert main(args) == 0
            path = args[-1]
            with open(path, "rb") as file:
                data = file.read()
            texts[name] = _archive_text(data) if path.endswith((".zip", ".xlsx")) else data.decode()
        made[mode] = texts
        return texts

    return make


@pytest.mark.parametrize(
    "output",
    ["zip, one lab", "zip, all labs", "xlsx", "csv", "csv, all labs", "report",
     "report, all labs", "svg"],
)  # fmt: skip
def test_no_identifier_reaches_an_export_report_or_figure(outputs_of, output, capsys):
    texts = outputs_of("auto")
    capsys.readouterr()
    assert texts[output]
    assert not _found(texts[output])
    if output.startswith(("zip", "report", "svg")):
        assert "P01" in texts[output]


@pytest.mark.parametrize("output", ["zip, one lab", "xlsx", "report", "svg"])
def test_with_pseudonymisation_off_the_identifiers_are_there(outputs_of, output, capsys):
    texts = outputs_of("no")
    capsys.readouterr()
    assert set(MRNS) <= _found(texts[output])


def test_the_data_pages_patients_table_and_its_downloads_leave_identifiers_out(read):
    from analytics.output.files import table_csv, tables_xlsx
    from ui.tables import patients_table

    def downloads(cohort) -> str:
        table = patients_table(cohort).reset_index()
        csv = table_csv(table).decode("utf-8-sig")
        return csv + _archive_text(tables_xlsx({"patients": table}))

    assert not _found(downloads(pseudonymise(read, "auto")))
    assert set(SECRETS) <= _found(downloads(pseudonymise(read, "no")))


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_figures_are_drawn_from_a_spec_without_identifiers(
    chart_file, tmp_path, monkeypatch, capsys, fmt
):
    """PNG and PDF text is drawn as glyphs: search the chart spec that was rendered."""
    import analytics.cli as cli

    rendered: list[str] = []
    real = cli.chart_bytes

    def spy(chart, *args, **kwargs):
        rendered.append(json.dumps(chart.to_dict()))
        return real(chart, *args, **kwargs)

    monkeypatch.setattr(cli, "chart_bytes", spy)
    for chart in CHARTS:
        out = tmp_path / f"{chart}.{fmt}"
        args = ["figure", str(chart_file), *MAP, *LAB, "--chart", chart, "--format", fmt]
        _run([*args, "-o", str(out)], capsys)
        assert not _found(out.read_bytes().decode("latin-1"))
    assert len(rendered) == len(CHARTS)
    assert not _found(" ".join(rendered))
    assert "P02" in rendered[0]
    args = ["figure", str(chart_file), *MAP, *LAB, "--chart", "change", "--format", fmt]
    _run([*args, "--pseudonymise", "no", "-o", str(tmp_path / f"off.{fmt}")], capsys)
    assert set(MRNS) <= _found(rendered[-1])


@pytest.mark.parametrize(
    "command",
    [
        ["validate", "--json"],
        ["validate"],
        ["cohort", "--json"],
        ["cohort"],
        ["paired", *LAB, "--json"],
        ["paired", *LAB],
        ["timecourse", "--analyte", "hepcidin", "--json"],
        ["timecourse", "--analyte", "mcv"],
    ],
)
def test_no_identifier_in_the_command_line_output(chart_file, capsys, command):
    args = [command[0], str(chart_file), *MAP, *command[1:]]
    printed = _run(args, capsys)
    assert not _found(printed)
    if command[0] == "validate" or command == ["paired", *LAB, "--json"]:
        assert "P01" in printed
    off = _run([*args, "--pseudonymise", "no"], capsys)
    if command[0] == "validate" or command == ["paired", *LAB, "--json"]:
        assert _found(off)  # the duplicate row names its patient; a list of IDs


def test_validate_json_tells_what_was_found(chart_file, capsys):
    out = json.loads(_run(["validate", str(chart_file), *MAP, "--json"], capsys))
    assert out["identifiers"] == {
        "patient_id_column": "MRN",
        "direct_identifier": True,
        "reason": "the header 'MRN' says they are record numbers",
        "pseudonymise": "auto",
        "pseudonymised": True,
        "identifier_columns": [
            {"column": "Pt Initials", "kind": "initials"},
            {"column": "DOB", "kind": "birth_date"},
        ],
    }


def test_the_key_is_written_only_on_request(chart_file, tmp_path, capsys):
    key = tmp_path / "key.csv"
    _run(["validate", str(chart_file), *MAP, "--write-key", str(key)], capsys)
    frame = pd.read_csv(key, dtype=str, encoding="utf-8-sig")
    assert frame.values.tolist() == [[f"P{i:02d}", m] for i, m in enumerate(MRNS, start=1)]
    study = tmp_path / "study.csv"
    study.write_bytes(_study_codes())
    assert main(["validate", str(study), "--write-key", str(tmp_path / "none.csv")]) == 2
    assert "no key to write" in capsys.readouterr().err
    assert not (tmp_path / "none.csv").exists()


def test_the_reproduce_commands_carry_the_choice(read, tmp_path, monkeypatch, capsys):
    auto = pseudonymise(read, "auto")
    assert "--pseudonymise" not in validate_command(auto)
    off = pseudonymise(read, "no")
    lines = commands(off, CohortFilter(), selection=view_outputs(off, CohortFilter(),
                     analyte="mcv", baseline=0, follow_up=2).selection)  # fmt: skip
    assert all("--pseudonymise no" in line for line in lines)
    paired = shlex.split(next(line for line in lines if " paired " in line))
    path = tmp_path / "chart_review.csv"
    path.write_bytes(_chart_review())
    monkeypatch.chdir(tmp_path)
    out = json.loads(_run(paired[3:], capsys))
    assert set(MRNS) <= set(out["patient_ids"]) | {p["patient_id"] for p in out["excluded"]}


# --------------------------------------------------------------------------- the Data page


def _upload_chart_review(at) -> None:
    at.file_uploader(key="upload").set_value(("chart_review.csv", _chart_review(), "text/csv"))
    at.run()  # `MRN` is read as the patient ID without a correction
    assert not at.exception, at.exception


def _page_text(at) -> str:
    """Everything the page shows: text elements, tables and chart specs with their data."""
    parts = [str(getattr(el, "value", "")) for el in at.main]
    parts += [df.value.to_csv() for df in at.dataframe]
    parts += [str(el.proto) for el in at.get("vega_lite_chart")]
    return "\n".join(parts)


def test_data_page_says_how_patients_are_labelled_and_keeps_the_key_in_an_expander():
    at = started_app()
    _upload_chart_review(at)
    notices = [i.value for i in at.info]
    assert any(
        n.startswith("Patients are labelled P01 … P08 in file order in every figure")
        for n in notices
    ), notices
    assert at.selectbox(key="pseudonymise_choice").value == "auto"
    expander = next(e for e in at.expander if e.label.startswith("Key: which patient"))
    key_table = expander.dataframe[0].value
    assert key_table.iloc[:, 1].tolist() == MRNS
    assert "dl_pseudonym_key" in {b.key for b in expander.get("download_button")}
    # outside the key, the page shows no identifier: not in the patients table either
    outside = [df.value.to_csv() for df in at.dataframe if df not in expander.dataframe]
    assert not _found("\n".join(outside))
    for page in ("pages/cohort.py", "pages/paired_tests.py", "pages/charts.py"):
        at.switch_page(page).run()
        assert not at.exception, at.exception
        if page == "pages/paired_tests.py":
            open_section(at, "robustness")  # leave-one-out: a row per patient
        shown = _page_text(at)
        assert page == "pages/cohort.py" or "P01" in shown, page
        assert not _found(shown), page


def test_data_page_choice_turns_pseudonymisation_off_on_every_page():
    at = started_app()
    _upload_chart_review(at)
    at.selectbox(key="pseudonymise_choice").set_value("no").run()
    assert not at.exception, at.exception
    assert any(w.value.startswith("Pseudonymisation is off") for w in at.warning)
    assert not [e for e in at.expander if e.label.startswith("Key: which patient")]
    at.switch_page("pages/paired_tests.py").run()
    assert not at.exception, at.exception
    open_section(at, "robustness")  # leave-one-out: a row per patient
    assert "H1234567" in _found(_page_text(at))
    reproduce = "\n".join(c.value for c in at.code)
    assert "--pseudonymise no" in reproduce
    at.switch_page("pages/data.py").run()
    assert at.selectbox(key="pseudonymise_choice").value == "no"
