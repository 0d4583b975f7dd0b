"""Hostile Excel files are refused before calamine sees them, with a message to act on.

The files come from ``corpus_xlsx.CASES``. A refused file is loaded with calamine
replaced by a tripwire: were a guard to miss a file that makes calamine abort the
process, this test fails instead of taking the test run down with it.
"""

from __future__ import annotations

import dataclasses
import io
import zipfile
import zlib

import pytest
from corpus_xlsx import (
    CASES,
    COHORT_ROWS,
    DEMO,
    MAIN_NS,
    Case,
    Member,
    sheet_xml,
    workbook,
    write_zip,
)

from analytics import InputError, load_cohort
from analytics.limits import LIMITS
from analytics.reading import xlsx, xlsx_package
from analytics.reading.upload import read_grid

REFUSED = [c for c in CASES if c.refused]
READ = [c for c in CASES if not c.refused]

# what a clinician must never be shown
RAW_WORDS = (
    "BadZipFile",
    "CRC-32",
    "zlib",
    "expat",
    "XmlError",
    "CalamineError",
    "Exception",
    "Error:",
    "Traceback",
)


@pytest.fixture
def calamine_calls(monkeypatch) -> list[str]:
    """calamine replaced by a tripwire that records being reached."""
    import python_calamine

    calls: list[str] = []

    class Tripwire:
        @classmethod
        def from_filelike(cls, filelike):
            calls.append("from_filelike")
            raise RuntimeError("calamine was reached")

    monkeypatch.setattr(python_calamine, "CalamineWorkbook", Tripwire)
    return calls


def _small_limit(monkeypatch, name: str, value: float) -> None:
    monkeypatch.setitem(LIMITS, name, dataclasses.replace(LIMITS[name], value=value))


@pytest.mark.parametrize("case", REFUSED, ids=[c.name for c in REFUSED])
def test_hostile_file_is_refused_before_calamine(case: Case, calamine_calls):
    with pytest.raises(InputError) as caught:
        load_cohort(case.build(), case.filename)
    message = str(caught.value)
    assert case.expect in message
    assert calamine_calls == []
    assert not [word for word in RAW_WORDS if word in message]


@pytest.mark.parametrize("case", READ, ids=[c.name for c in READ])
def test_good_file_is_read(case: Case):
    case.expect(load_cohort(case.build(), case.filename))


def test_corpus_names_are_unique_and_cover_both_outcomes():
    assert len({c.name for c in CASES}) == len(CASES)
    assert REFUSED and READ


# --------------------------------------------------------------------------- guards


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("A1", (1, 1)),
        ("XFD1048576", (1048576, 16384)),
        ("xfd1", (1, 16384)),
        ("AA10", (10, 27)),
        ("5", (5, 0)),
        ("A99999999999", (99999999999, 1)),
        ("", None),
        ("A", None),
        ("A0", None),
        ("1A", None),
        ("A 1", None),
        ("Ａ1", None),
        ("A1:B2", None),
    ],
)
def test_cell_reference_parsed_as_calamine_does(value, expected):
    assert xlsx._parse_ref(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12", 12),
        (" 12 ", 12),
        ("+7", 7),
        ("4294967295", 4294967295),
        ("9" * 40, 10**15),
        ("x", 0),
        ("", 0),
    ],
)
def test_declared_count(value, expected):
    assert xlsx._declared_count(value) == expected


def _member(data: bytes, name: str) -> zipfile.ZipInfo:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.getinfo(name)


def test_inflation_is_chunked_and_stops_just_past_a_lying_size():
    content = b"\x00" * (30 * 1024 * 1024)
    data = write_zip([Member("xl/big.xml", content, declared_size=4096)])
    member = _member(data, "xl/big.xml")
    total = xlsx_package.PartTotal(limit=10**12)
    sizes = []
    with pytest.raises(InputError, match="larger than the file says"):
        for chunk in xlsx_package.stream_member(data, member, total):
            sizes.append(len(chunk))
    assert sizes == []  # refused within the first chunk, before any byte is parsed
    assert total.count <= 4096 + xlsx_package.OUT_CHUNK  # not the 30 MB the part holds


def test_honest_part_streams_whole_in_bounded_chunks():
    content = bytes(range(256)) * 20_000
    data = write_zip([Member("xl/part.xml", content)])
    chunks = list(
        xlsx_package.stream_member(
            data, _member(data, "xl/part.xml"), xlsx_package.PartTotal(10**9)
        )
    )
    assert b"".join(chunks) == content
    assert max(len(c) for c in chunks) <= xlsx_package.OUT_CHUNK


def test_real_total_is_counted_against_the_limit():
    data = write_zip([Member("xl/part.xml", b"x" * 5000)])
    with pytest.raises(InputError, match="expands to more than"):
        list(
            xlsx_package.stream_member(
                data, _member(data, "xl/part.xml"), xlsx_package.PartTotal(limit=1000)
            )
        )


def test_rebuilt_archive_holds_the_same_parts():
    data = DEMO.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.infolist()
        original = {m.filename: archive.read(m) for m in members}
    clean = xlsx_package.rebuild(data, members)
    with zipfile.ZipFile(io.BytesIO(clean)) as archive:
        assert archive.testzip() is None
        assert {m.filename: archive.read(m) for m in archive.infolist()} == original
    assert read_grid(data, "demo.xlsx").rows == read_grid(clean, "demo.xlsx").rows


def test_rebuilt_archive_stores_the_checked_bytes_of_the_parts_given():
    data = DEMO.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.infolist()
        original = {m.filename: archive.read(m) for m in members}
    inflated = xlsx_package.InflatedParts(budget=len(original["xl/workbook.xml"]))
    inflated.keep("xl/workbook.xml", bytearray(original["xl/workbook.xml"]))
    inflated.keep("xl/styles.xml", bytearray(original["xl/styles.xml"]))  # over the budget
    assert list(inflated) == ["xl/workbook.xml"]
    clean = xlsx_package.rebuild(data, members, inflated)
    with zipfile.ZipFile(io.BytesIO(clean)) as archive:
        assert archive.testzip() is None
        assert {m.filename: archive.read(m) for m in archive.infolist()} == original
        stored = {m.filename for m in archive.infolist() if m.compress_type == zipfile.ZIP_STORED}
    assert "xl/workbook.xml" in stored and "xl/styles.xml" not in stored
    assert read_grid(data, "demo.xlsx").rows == read_grid(clean, "demo.xlsx").rows


def test_calamine_gets_the_parts_checked_stored_within_the_budget(monkeypatch):
    import python_calamine

    handed: list[bytes] = []
    real = python_calamine.CalamineWorkbook

    class Recorder:
        @classmethod
        def from_filelike(cls, filelike):
            handed.append(filelike.getvalue())
            return real.from_filelike(filelike)

    monkeypatch.setattr(python_calamine, "CalamineWorkbook", Recorder)
    read = {}
    for budget in (0, 64 * 1024 * 1024):
        monkeypatch.setattr(xlsx_package, "STORED_BUDGET", budget)
        read[budget] = read_grid(DEMO.read_bytes(), "demo.xlsx").rows
    types = []
    for clean in handed:
        with zipfile.ZipFile(io.BytesIO(clean)) as archive:
            types.append(archive.getinfo("xl/worksheets/sheet1.xml").compress_type)
    assert types == [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED]
    assert read[0] == read[64 * 1024 * 1024] and len(read[0]) > 20


def test_far_cells_in_a_sheet_not_read_are_refused_naming_it(calamine_calls):
    far = sheet_xml('<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')
    data = workbook([("cohort", sheet_xml(COHORT_ROWS)), ("notes", far)])
    with pytest.raises(InputError, match="The sheet 'notes' has cells out to row 1,048,576"):
        load_cohort(data, "x.xlsx")


def test_real_number_of_shared_strings_is_counted(monkeypatch, calamine_calls):
    _small_limit(monkeypatch, "max_cells", 10)
    strings = "".join(f"<si><t>{i}</t></si>" for i in range(11))
    sst = f'<sst xmlns="{MAIN_NS}">{strings}</sst>'
    with pytest.raises(InputError, match="holds at least 11 entries: more than the 10 cells"):
        load_cohort(workbook(shared_strings=sst), "x.xlsx")


def test_dtd_refused_in_a_part_calamine_never_reads(calamine_calls):
    core = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "e">]><x>&e;</x>'
    data = workbook(extra=[Member("docProps/core.xml", core.encode())])
    with pytest.raises(InputError, match=r"part docProps/core\.xml declares a document type"):
        load_cohort(data, "x.xlsx")


def test_formula_cells_beyond_the_listed_ones_are_counted():
    n = xlsx._MAX_FORMULA_ISSUES + 50
    formulas = "".join(f'<row r="{r}"><c r="A{r}"><f>1+1</f></c></row>' for r in range(4, 4 + n))
    grid = read_grid(workbook([("cohort", sheet_xml(COHORT_ROWS + formulas))]), "x.xlsx")
    assert [(i.row, i.column) for i in grid.issues[:2]] == [(4, 0), (5, 0)]
    assert len(grid.issues) == xlsx._MAX_FORMULA_ISSUES + 1
    assert grid.issues[-1].row is None
    assert grid.issues[-1].message.startswith("50 more formula cells without a saved result")


def test_declared_sizes_still_refuse_an_honest_bomb_without_inflating(monkeypatch):
    def no_inflating(*args, **kwargs):
        raise AssertionError("inflated")

    monkeypatch.setattr(xlsx_package, "_inflate", no_inflating)
    big = zlib.compress(b"")  # any bytes: only the declared size matters here
    data = write_zip([Member("xl/a.xml", big, method=0, declared_size=400 * 1024 * 1024)])
    with pytest.raises(InputError, match="would expand to 400 MB"):
        read_grid(data, "x.xlsx")


@pytest.mark.parametrize(
    ("data", "filename", "expected"),
    [
        (b"PK\x03\x04rest", "x.xlsx", True),
        (b"PK\x03\x04rest", "upload", True),
        (b"PK\x03\x04rest", "x.csv", False),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "x.csv", True),
        (b"id,MCV 0\n", "x.ods", True),
        (b"id,MCV 0\n", "x.XLSX", True),
        (b"id,MCV 0\n", "x.csv", False),
        (b"id,MCV 0\n", "x.txt", False),
    ],
)
def test_which_files_are_read_as_workbooks(data, filename, expected):
    assert xlsx.is_workbook(data, filename) is expected


def test_what_calamine_refuses_is_said_in_plain_words():
    # well-formed XML that calamine cannot read: a cell reference with no row
    rows = COHORT_ROWS + '<row r="4"><c r="A"><v>1</v></c></row>'
    with pytest.raises(InputError) as caught:
        load_cohort(workbook([("cohort", sheet_xml(rows))]), "x.xlsx")
    message = str(caught.value)
    assert message.startswith("The Excel file could not be read: it is damaged")
    assert not [word for word in RAW_WORDS if word in message]


def test_xml_declaring_an_unknown_encoding_is_a_damaged_file():
    # found by tests/test_fuzz.py: expat raised LookupError("unknown encoding: ATF-8")
    with zipfile.ZipFile(io.BytesIO(DEMO.read_bytes())) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(b"UTF-8", b"ATF-8", 1)
    assert b"ATF-8" in parts["xl/workbook.xml"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    with pytest.raises(InputError, match="declares a text encoding Excel never writes"):
        load_cohort(buffer.getvalue(), "mutant.xlsx")
