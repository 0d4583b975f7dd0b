"""The column-wise readers give what the cell-by-cell ones give.

``read_cells`` (a lab column at once, as a frame or one reading a cell) against
``classify_cell`` (one cell), and the worksheet check of ``xlsx_fast`` (RE2 and numpy
over the bytes) against the full expat scan of ``xlsx_xml``, on seeded mixtures and
mutants. The fast check may hand a part to the full scan; when it answers itself, it
answers the same.
"""

from __future__ import annotations

import datetime
import io
import math
import random
import zipfile

import numpy as np
import pandas as pd
import pytest

from analytics.errors import InputError
from analytics.reading import xlsx_fast
from analytics.reading.cell_columns import read_cells, read_table
from analytics.reading.cells import classify_cell, classify_column
from analytics.reading.xlsx_xml import _MAX_FORMULA_ISSUES, _PartScan

# ---------------------------------------------------------------------------- cells

ATOMS = [
    *("1", "1.5", " 2 ", "+3", "-4", ".5", "5.", "1e3", "1E-2", "1e309", "-1e400", "inf"),
    *("NaN", "nan", "-inf", "Infinity", "<5", "< 5", "<=5", ">1000", ">= 10", "≤3", "≥ 7"),
    *("<1.234", "1,234", "1,5", "11,7", ",5", "1,2e3", "+1,234", "12,345", "1,2345", "N/A"),
    *("n/a", " NA ", "—", "–", "-", ".", "none", "Not Done", "ND", "n.d.", "#DIV/0!", "#REF!"),
    *("11.7 g/dL", "11.7g/dL", "12 mmol/L", "5 %", "7%", "yes", "TRUE", "12..5", "abc"),
    *("\u00a012", "12\u00a0", "1\u00a02", "x" * 70, "  ", "", "0", "-0", "00012", "1_000"),
    *("１２", "12\t", "\v12", "\x0c5", "\x1c5", "1e12", "1.0000000001e12", "-1e12", "9999"),
    *("1e-400", "4.9e-324", "<1e309", "<-5", ">+5", "< -0.5", "<.5", "<5 g/dL", "NA5", "<"),
    *("<>5", "5<", " " * 70 + "5", "5" * 70, "<" + "5" * 66, "1.234,5", "<1,234", "\u20085"),
    *("5\u3000", "mİssing", "n/Ａ", "\x85N/A", "N/A\x85", "<\u00a05", "1.", "+.5", "-.5e-3"),
    *(",5e3", "+", "e5", "5e", "5e+", "0x10", "1/2", "½"),
]
OBJECTS = [
    *(1.5, 2, -3, 0, 1e13, 1e12, -1e12, float("inf"), float("nan"), float("-inf"), 10**400),
    *(True, False, datetime.datetime(2020, 1, 2), datetime.date(2020, 1, 1), np.float64(3.5)),
    *(np.int64(4), np.nan, pd.Timestamp("2020-01-01"), 2.5e-300),
]


def _cell(rng: random.Random) -> object:
    u = rng.random()
    if u < 0.55:
        return rng.choice(ATOMS)
    if u < 0.65:
        return None
    if u < 0.8:
        return rng.choice(OBJECTS)
    return "".join(rng.choice("0123456789.,eE+-< >%gdLN/A") for _ in range(rng.randint(1, 8)))


@pytest.mark.parametrize("seed", range(3))
def test_a_column_reads_as_its_cells(seed: int) -> None:
    rng = random.Random(seed)
    for trial in range(60):
        cells = [_cell(rng) for _ in range(rng.randint(0, 150))]
        if trial % 2:
            cells = [c for c in cells if c is None or type(c) is str]  # a CSV's column
        for decimal_comma in (False, True):
            series = pd.Series(cells, dtype=object, index=np.arange(len(cells)) + 7)
            got = classify_column(series, decimal_comma=decimal_comma)
            readings = read_cells(series.to_numpy(), decimal_comma=decimal_comma).readings()
            for i, cell in enumerate(cells):
                one = classify_cell(cell, decimal_comma=decimal_comma)
                row = got.iloc[i]
                value = row["value"]
                assert (one.value == value) or (math.isnan(one.value) and math.isnan(value))
                reading = readings[i]
                assert (reading.kind, reading.unit, reading.message, reading.problem) == (
                    one.kind,
                    one.unit,
                    one.message,
                    one.problem,
                ), repr(cell)
                assert repr(reading.value) == repr(one.value)  # -0.0 and NaN too
                assert (one.kind, one.unit, one.message, one.problem) == (
                    row["kind"],
                    row["unit"],
                    row["message"],
                    row["problem"],
                ), repr(cell)


@pytest.mark.parametrize("seed", range(3))
def test_a_table_reads_as_its_columns_one_after_another(seed: int) -> None:
    """read_table visits the cells row by row; it gives what read_cells gives for the
    columns laid end to end (every field, the flagged cells in the same order)."""
    rng = random.Random(seed)
    for trial in range(40):
        n, width = rng.randint(0, 40), rng.randint(1, 6)
        cells = [[_cell(rng) for _ in range(width)] for _ in range(n)]
        if trial % 2:
            cells = [[c if c is None or type(c) is str else "x" for c in row] for row in cells]
        if trial % 5 == 0 and n:
            cells[-1][0] = "\ud800"  # a lone surrogate: texts pyarrow cannot take
        table = np.empty((n, width), dtype=object)
        table[:] = cells if n else table
        for decimal_comma in (False, True):
            by_rows = read_table(table, decimal_comma=decimal_comma)
            by_columns = read_cells(table.ravel(order="F"), decimal_comma=decimal_comma)
            assert by_rows.kind.tolist() == by_columns.kind.tolist()
            assert [repr(v) for v in by_rows.value] == [repr(v) for v in by_columns.value]
            for name in ("at", "raw", "unit", "message", "problem"):
                mine, theirs = getattr(by_rows, name), getattr(by_columns, name)
                assert [repr(v) for v in mine] == [repr(v) for v in theirs], name


# ---------------------------------------------------------------------------- sheets

HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://'
    b'schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:C3"/><sheetData>'
)
TAIL = b'</sheetData><pageMargins left="0.7"/></worksheet>'
HEADS = [
    HEAD,
    HEAD.replace(b"UTF-8", b"ISO-8859-1"),
    b"\xef\xbb\xbf" + HEAD,
    HEAD.replace(b"<dimension", b"<!-- x --><dimension"),
    b"<worksheet><sheetData>",
]
CELLS = [
    b'<row r="1" spans="1:3"><c r="A1" t="s"><v>0</v></c><c r="B1" s="1" t="s"><v>1</v></c>'
    b'</row><row r="2" spans="1:3"><c r="A2"><v>1.5</v></c><c r="C2" t="s"><v>2</v></c></row>',
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>id</t></is></c><c r="B1" t="inlineStr"><is>'
    b'<t>\xc3\xa9t\xc3\xa9</t></is></c></row><row r="3" ht="30" customHeight="1"><c r="A3" '
    b't="n"><v>3</v></c><c r="B3"><v /></c></row>',
    b'\n  <row r="2" customFormat="false" ht="12.8" hidden="false" outlineLevel="0">\n    '
    b'<c r="A2" s="0" t="s">\n      <v>0</v>\n    </c>\n    <c r="AB2" s="0" t="n"><v>12</v>'
    b'</c>\n  </row>\n  <row r="10"/>\n',
    b'<row r="5" x14ac:dyDescent="0.25"><c r="A5" s="2"/><c r="Z5" t="s" cm="1"><v>7</v></c></row>',
    b'<row r="1"><c r="A1"><f>1+1</f><v>2</v></c><c r="B1"><f>A1</f></c></row>',
    b"",
]
TOKENS = [
    *(b"<", b">", b'"', b"'", b"&", b"&amp;", b"&#0;", b"&#65;", b" ", b"\n", b"\r", b"\t"),
    *(b"\x00", b"\x0c", b"\x7f", b"\xff", b"\xc3\xa9", b"\xc3", b"\xef\xbf\xbe", b"]]>", b"]"),
    *(b"\xed\xa0\x80", b"<!--", b"-->", b"<![CDATA[", b"<?pi?>", b' s="1"', b' r="A1"'),
    *(b' r="B7"', b' x:r="5"', b' ht="3"', b"/", b"=", b"<v>", b"</v>", b"<f>1</f>", b"</c>"),
    *(b'<c r="B2">', b'<row r="9">', b"</row>", b"Z", b"9", b"0", b"XFD", b"ZZZZ", b"a"),
    *(b"<is><t>a</t></is>", b"<sheetData>", b"</sheetData>", b"<x:sheetData>", b' t="s"'),
    *(b' cm="1"', b' xml:space="preserve"', b"<t>", b"</t>", b"<is>", b"</is>", b"1048576"),
    *(b'<row r="1048576"><c r="XFD1048576"/></row>', b'<c r="C1"/>', b"<r>", b"<v/>", b"<c/>"),
]


def _full(content: bytes, max_cells: int) -> tuple[object, ...]:
    scan = _PartScan("x.xml", "x", max_cells)
    try:
        scan.feed(content, final=True)
    except InputError as error:
        return ("refused", str(error))
    return (scan.far_row, scan.far_column, scan.formula_cells, scan.n_formula_cells)


def _fast(content: bytes, max_cells: int) -> tuple[object, ...] | None:
    scan = xlsx_fast.fast_scan(
        bytearray(content),
        lambda: _PartScan("x.xml", "x", max_cells),
        max_cells,
        _MAX_FORMULA_ISSUES,
    )
    if scan is None:
        return None
    return (scan.far_row, scan.far_column, scan.formula_cells, scan.n_formula_cells)


def _mutant(rng: random.Random) -> bytes:
    cells = bytearray(rng.choice(CELLS))
    for _ in range(rng.choice([0, 1, 1, 2, 3])):
        at = rng.randint(0, len(cells))
        u = rng.random()
        if u < 0.5:
            cells[at:at] = rng.choice(TOKENS)
        elif u < 0.6 and cells:
            cells[min(at, len(cells) - 1)] = rng.randrange(256)
        elif u < 0.85:
            del cells[at : at + rng.randint(1, 6)]
        else:
            start = rng.randint(0, len(cells))
            cells[at:at] = cells[start : start + rng.randint(1, 40)]
    return rng.choice(HEADS) + bytes(cells) + TAIL


@pytest.mark.parametrize("seed", range(4))
def test_the_fast_sheet_check_answers_as_the_full_scan(seed: int) -> None:
    rng = random.Random(seed)
    answered = 0
    for _ in range(1500):
        content = _mutant(rng)
        for max_cells in (5_000_000, 40):
            fast = _fast(content, max_cells)
            if fast is not None:
                answered += 1
                assert fast == _full(content, max_cells), content
    assert answered > 300  # the fast check answers for most readable mutants


def _writers() -> dict[str, bytes]:
    import openpyxl
    import xlsxwriter

    rows = [["id", "Hb", "CRP", "note"], ["p1", 11.5, "<5", "été"], ["p2", None, 3, "x"]]
    out = {}
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("cohort")
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            if cell is not None:
                sheet.write(r, c, cell)
    book.close()
    out["xlsxwriter"] = buffer.getvalue()
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    book.active.row_dimensions[3].height = 30
    buffer = io.BytesIO()
    book.save(buffer)
    out["openpyxl"] = buffer.getvalue()
    return out


@pytest.mark.parametrize("writer", ["xlsxwriter", "openpyxl"])
def test_sheets_as_libraries_write_them_take_the_regular_path(writer: str) -> None:
    data = _writers()[writer]
    content = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    begin = content.index(b"<sheetData>") + len(b"<sheetData>")
    close = content.rindex(b"</sheetData>")
    assert xlsx_fast._regular(bytearray(content), begin, close)
    assert _fast(content, 5_000_000) == _full(content, 5_000_000)


@pytest.mark.parametrize(
    "cells",
    [
        b'<row r="1" ht="3" ht="4"><c r="A1"><v>1</v></c></row>',  # an attribute twice
        b'<row r="1" x:r="9"><c r="A1"><v>1</v></c></row>',  # a prefixed r
        b'<row r="1"><c r="A1"><v>1&#0;</v></c></row>',  # a reference to no character
        b'<row r="1"><c r="A1"><v>1]]>2</v></c></row>',
        b'<row r="1"><c r="A1"><v>\x0c</v></c></row>',  # a control character
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>\xff</t></is></c></row>',  # not UTF-8
        b'<row r="1"><c r="A1"><v>1</v></c></row><!-- <row r="9"> -->',
        b'<row r="2" a="->" ht="1" ht="2"><c r="A2"/></row>',  # a ">" in a value
        b'<row r="1"><c r="A1"><f>1</f></c></row>',  # a formula: the numpy path
        b'<row r="1"><c r="A1"><f>1</f><c r="C1"/><v>2</v></c></row>',  # a cell in a cell
        b'<row r="1"><c r="A1"><v><f>1</f>2</v></c></row>',  # a formula in a value
    ],
)
def test_cells_off_the_regular_grammar_are_not_taken_as_regular(cells: bytes) -> None:
    content = bytearray(HEAD + cells + TAIL)
    assert not xlsx_fast._regular(content, len(HEAD), len(HEAD) + len(cells))
    fast = _fast(bytes(content), 5_000_000)
    assert fast is None or fast == _full(bytes(content), 5_000_000)


def test_cells_in_a_comment_are_not_read_as_the_sheet() -> None:
    cells = b'<row r="7"><c r="C7"><v>1</v></c></row>'
    content = HEAD.replace(b"<sheetData>", b"<!-- <sheetData>") + cells + TAIL + b"-->"
    content = content.replace(b"</worksheet>-->", b"--></worksheet>")
    assert _fast(content, 5_000_000) is None  # the full scan decides
