"""Hostile and broken CSV files: every one loads right or fails with a message to act on.

The files are built in memory by tests/corpus_csv.py. Below the corpus are unit tests
of the line splitter, the decoder and the quote scanner, and input-bound checks of the
regular expressions the CSV reader applies to file text (a test that would hang fails
after 10 seconds instead).
"""

from __future__ import annotations

import re

import pytest
from corpus_csv import CASES, LONG, Case, Outcome, demo_lines, physical_lines, small_lines, text

import analytics.reading.csv_text as csv_reader
from analytics import load_cohort
from analytics.errors import InputError
from analytics.limits import LIMITS
from analytics.reading.upload import read_grid


def _small_limit(monkeypatch, name: str, value: float) -> None:
    limit = LIMITS[name]
    monkeypatch.setitem(LIMITS, name, type(limit)(limit.name, value, limit.unit, limit.help))


# --------------------------------------------------------------------------- the corpus


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_corpus_case(case: Case, within_10_seconds):
    data = case.build()
    if isinstance(case.expect, str):
        with pytest.raises(InputError) as raised:
            load_cohort(data, case.filename)
        message = str(raised.value)
        assert case.expect in message
        assert "Error" not in message and "field limit (" not in message  # no raw exception text
        return
    cohort = load_cohort(data, case.filename)
    report = cohort.report
    assert report.n_rows_in == report.n_rows_used + len(report.excluded)
    # every physical line is a row: the header row plus the rows in
    assert report.n_rows_in + 1 == physical_lines(data)
    case.expect(cohort)


def test_corpus_names_are_unique_and_cover_both_outcomes():
    names = [case.name for case in CASES]
    assert len(names) == len(set(names))
    assert any(isinstance(case.expect, str) for case in CASES)
    assert any(isinstance(case.expect, Outcome) for case in CASES)


def test_outcome_check_can_fail():
    good = next(case for case in CASES if case.name == "demo, six patients")
    cohort = load_cohort(good.build(), good.filename)
    with pytest.raises(AssertionError):
        Outcome(5)(cohort)
    with pytest.raises(AssertionError):
        Outcome(6, rows={"R01": 5})(cohort)
    with pytest.raises(AssertionError):
        Outcome(6, issues=(("control_character", 4, "patient_id", ()),))(cohort)


def test_unclosed_quote_message_in_full():
    lines = demo_lines()
    lines[3] = lines[3].replace(",Sarcoma,", ',"Sarcoma,')
    with pytest.raises(InputError) as raised:
        load_cohort(text(lines).encode(), "x.csv")
    assert str(raised.value) == (
        'Row 4: a quotation mark (") opens a cell here and is never closed, so the rest of '
        "the file would be read as one cell. Remove the stray quote or close it, and save again."
    )


def test_every_stray_separator_used_to_add_phantom_rows():
    """\\v \\f \\x1c-\\x1e \\x85 \\u2028 \\u2029 in cells: still 6 of 6 patients, rows physical."""
    lines = demo_lines()
    for row, char in zip(range(4, 10), "\x0b\x0c\x1c\x1d\x85\u2028", strict=True):
        lines[row - 1] = lines[row - 1].replace(",", char + ",", 3)
    cohort = load_cohort(text(lines).encode(), "x.csv")
    assert list(cohort.patients.index) == ["R01", "R02", "R03", "R04", "R05", "R06"]
    assert cohort.report.n_rows_in == 8  # rows 2 to 9
    assert set(cohort.labs.loc[cohort.labs["patient_id"] == "R06", "row"]) == {9}
    located = {(i.row, i.column) for i in cohort.report.issues if i.kind == "control_character"}
    columns = ("patient_id", "cohort", "sex")
    assert located == {(row, column) for row in range(4, 10) for column in columns}
    assert cohort.patients.loc["R04", "age"] == 47.0  # the cells after the character still align


def test_mixed_file_keeps_the_utf8_unit():
    data = text(small_lines()).encode("utf-8").replace(b"23,seen", b"23,\xb5g", 1)
    cohort = load_cohort(data, "x.csv")
    assert cohort.analytes["ferritin"].unit == "µg/L"
    assert "Âµ" not in " ".join(cohort.patients["note"].astype(str))
    (issue,) = [i for i in cohort.report.issues if i.kind == "undecodable_byte"]
    assert (issue.row, issue.column, issue.severity) == (4, "note", "warning")


# --------------------------------------------------------------------------- read_grid


def test_grid_rows_are_physical_with_continuation_rows():
    data = b'id,note,MCV 0\r\nP1,"a\r\nb\nc",80\r\nP2,ok,81\r\n'
    grid = read_grid(data, "x.csv")
    assert grid.rows == [
        ["id", "note", "MCV 0"],
        ["P1", "a\nb\nc", "80"],
        [],
        [],
        ["P2", "ok", "81"],
    ]
    assert grid.continuation_rows == {2: 1, 3: 1}
    assert [(i.kind, i.row, i.column, i.severity) for i in grid.issues] == [
        ("line_break_in_cell", 2, 1, "note")
    ]


def test_grid_issue_locations_for_control_characters_and_bytes():
    data = b"id,MCV 0,note\nP1,80\x0b,ok\nP2,81,s\xb5en \xc2\xb5g\n"
    grid = read_grid(data, "x.csv")
    assert grid.rows[1:] == [["P1", "80 ", "ok"], ["P2", "81", "s\ufffden µg"]]
    assert [(i.kind, i.row, i.column) for i in grid.issues] == [
        ("control_character", 2, 1),
        ("undecodable_byte", 3, 2),
    ]
    assert "0xB5" in grid.issues[1].message and "'µ'" in grid.issues[1].message


def test_row_limit_counts_continuation_rows(monkeypatch):
    _small_limit(monkeypatch, "max_rows", 5)
    ok = b'id,note,MCV 0\nP1,"a\nb",80\nP2,ok,81\nP3,ok,82\n'  # 5 physical rows
    assert len(read_grid(ok, "x.csv").rows) == 5
    over = b'id,note,MCV 0\nP1,ok,80\nP2,ok,81\nP3,"a\nb\nc",82\n'  # 6 physical rows
    with pytest.raises(InputError, match="more than 5 rows"):
        read_grid(over, "x.csv")


def test_row_limit_still_stops_at_the_first_row_too_many(monkeypatch):
    _small_limit(monkeypatch, "max_rows", 50)
    created: list[csv_reader._Lines] = []
    real = csv_reader._Lines

    def tracking(*args, **kwargs):
        created.append(real(*args, **kwargs))
        return created[-1]

    monkeypatch.setattr(csv_reader, "_Lines", tracking)
    with pytest.raises(InputError, match="more than 50 rows"):
        read_grid(b"id,MCV 0\n" + b"P,80\n" * 10_000, "x.csv")
    lines = created[-1]  # the reader's (the first ones were the delimiter sniffer's)
    assert lines.count == 51
    assert not lines.exhausted


# --------------------------------------------------------------------------- line splitting


def _reference_lines(string: str) -> list[str]:
    """Lines ending at CR LF, LF or CR, with their line ends, one character at a time."""
    out, current, i = [], "", 0
    while i < len(string):
        current += string[i]
        if string[i] == "\r" and string[i + 1 : i + 2] == "\n":
            current += "\n"
            i += 1
        if current[-1] in "\r\n":
            out.append(current)
            current = ""
        i += 1
    return out + ([current] if current else [])


SPLIT_TEXTS = [
    "",
    "a",
    "a\n",
    "a\r\nb\rc\nd",
    "\r\n\r\n\n\r\r",
    "a\x0bb\x0cc\x1cd\x1de\x1ef\x85g\u2028h\u2029i\n",
    "x\r" * 7 + "\n" + "y\r\n" * 5,
    "one long line without an end " * 50,
    "\ufeffa,b\r\nc,d\udcb5\r\n",
]


@pytest.mark.parametrize("block", [1, 2, 3, 5, 64, 1 << 18])
@pytest.mark.parametrize("string", SPLIT_TEXTS, ids=range(len(SPLIT_TEXTS)))
def test_lines_split_only_at_cr_and_lf(string, block):
    lines = csv_reader._Lines(string, block)
    assert list(lines) == _reference_lines(string)
    assert lines.count == len(_reference_lines(string)) and lines.exhausted


def test_lines_mark_suspect_lines():
    lines = csv_reader._Lines("ok\nbad\x0b\nok\nbyte\udcb5\r\nnel\x85\n", block=2)
    list(lines)
    assert lines.suspect == {2, 4, 5}


SUSPECT_RECORDS = [
    (["a", "b", "c"], []),
    (["a\x0b", "b", "c"], [0]),
    (["a", "b", "c\x00"], [2]),
    (["\x0b\x0c", "", "x\udcb5y\x85", "ok", "\u2028"], [0, 2, 4]),
    (["ok"] * 1000 + ["\x7f"], [1000]),
]


@pytest.mark.parametrize(("record", "columns"), SUSPECT_RECORDS)
def test_suspect_columns(record, columns):
    assert csv_reader._suspect_columns(record) == columns


# --------------------------------------------------------------------------- decoding

DECODED = [
    ("plain UTF-8", "µg/L é".encode(), "µg/L é", "UTF-8"),
    ("UTF-8 BOM", b"\xef\xbb\xbf\xc2\xb5", "µ", "UTF-8 (with BOM)"),
    ("Windows-1252", "µg/L é – €".encode("cp1252"), "µg/L é – €", "Windows-1252"),
    ("Latin-1", b"a\x81\xb5", "a\x81µ", "Latin-1"),
    ("mixed", b"\xc2\xb5 \xb5", "µ \udcb5", "UTF-8 (some bytes not UTF-8)"),
    ("BOM, stray byte", b"\xef\xbb\xbfa\xe9", "a\udce9", "UTF-8 (with BOM; some bytes not UTF-8)"),
    ("UTF-16 LE", "µ,é".encode("utf-16"), "µ,é", "UTF-16"),
    ("UTF-16 BE", b"\xfe\xff" + "µ".encode("utf-16-be"), "µ", "UTF-16"),
]


@pytest.mark.parametrize(
    ("data", "decoded", "encoding"), [d[1:] for d in DECODED], ids=[d[0] for d in DECODED]
)
def test_decode(data, decoded, encoding):
    assert csv_reader._decode(data) == (decoded, encoding)


REFUSED = [
    ("UTF-16 cut off", "a\nb".encode("utf-16")[:-1], "Row 2: the file is marked as UTF-16"),
    ("mostly cp1252", "µ\n".encode() + "é".encode("cp1252") * 20, "Row 2: the file mixes"),
    ("BOM on cp1252", b"\xef\xbb\xbfa\n" + b"\xe9" * 20, "Row 2: the file is marked as UTF-8"),
]


@pytest.mark.parametrize(("data", "message"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_decode_refuses(data, message):
    with pytest.raises(InputError, match=re.escape(message)):
        csv_reader._decode(data)


def test_decode_keeps_a_few_stray_bytes_below_the_refusal_threshold():
    few = "µ\n".encode() + "é".encode("cp1252") * 10  # 10 stray bytes, 1 UTF-8 character
    assert csv_reader._decode(few)[1] == "UTF-8 (some bytes not UTF-8)"


# --------------------------------------------------------------------------- quotes

OPEN_QUOTES = [
    (['a,"open\n', "more\n"], 1),
    (['a,"closed",b,"open\n', "c\n"], 1),
    (['a,"two\n', 'lines",b,"open\n', "x\n"], 2),
    (['a,"doubled "" quote\n', 'still",b,"x""y\n'], 2),
    (['a,5" tall,"open\n'], 1),
]


@pytest.mark.parametrize(("lines", "row"), OPEN_QUOTES)
def test_open_quote_row(lines, row):
    assert csv_reader._open_quote_row(lines, 1, ",") == row
    assert csv_reader._open_quote_row(lines, 10, ",") == row + 9


# --------------------------------------------------------------------------- input bounds


HOSTILE_CELLS = [
    " " * 100_000,
    "1,5" + " " * 100_000 + "x,",
    "1.5" + " " * 100_000 + "1",
    "<" + " " * 100_000 + "1,5",
    "1" * 100_000 + ",",
    "1,5 " + "g" * 100_000 + ";",
]


@pytest.mark.parametrize("cell", HOSTILE_CELLS, ids=range(len(HOSTILE_CELLS)))
def test_decimal_comma_sniffing_is_bounded(cell, within_10_seconds):
    rows = [["id", "MCV 0"]] + [[f"P{i}", cell] for i in range(50)]
    assert csv_reader._sniff_decimal_comma(rows, ";") is False
    assert csv_reader._sniff_decimal_comma([["1,5"], ["2,5 g/dL"], [cell]], ";") is True


@pytest.mark.parametrize("cell", HOSTILE_CELLS, ids=range(len(HOSTILE_CELLS)))
def test_long_cells_read_in_linear_time(cell, within_10_seconds):
    quoted = '"' + cell.replace('"', '""') + '"'
    data = (
        "id;note;MCV 0\nP;ok;80\nQ;ok;81\n" + "".join(f"P{i};{quoted};80\n" for i in range(20))
    ).encode()
    grid = read_grid(data, "x.csv")
    assert grid.delimiter == ";" and len(grid.rows) == 23
    assert all(row[1] == (cell if cell.strip() else None) for row in grid.rows[3:])


def test_sniffing_reads_a_bounded_prefix(monkeypatch):
    seen: list[int] = []
    real = csv_reader._typical_width

    def recording(lines, delimiter):
        seen.append(sum(map(len, lines)))
        return real(lines, delimiter)

    monkeypatch.setattr(csv_reader, "_typical_width", recording)
    huge = "id;MCV 0\n" + "P1;80\n" * 100_000
    assert csv_reader._sniff_delimiter(huge) == (";", 2)
    assert max(seen) <= csv_reader._SNIFF_CHARS
    # the first line alone is longer than the prefix: still sniffed, no field-limit error
    assert csv_reader._sniff_delimiter("a," + "x" * LONG)[0] == ","


def test_a_regular_expression_on_a_huge_line_stays_linear(within_10_seconds):
    line = "x" * 5_000_000  # no line end: the last-line branch of _LINE_RE
    assert csv_reader._LINE_RE.findall(line) == [line]
    assert csv_reader._SUSPECT_RE.search(line + "\udcb5").start() == len(line)


def test_a_control_character_in_every_cell_keeps_the_report_small():
    # 2,000 patients x 3 lab cells, each with a vertical tab: 6,000 warnings counted,
    # only the first few per column kept (limit issues_kept_per_group)
    keep = int(LIMITS["issues_kept_per_group"].value)
    lines = ["patient_id,MCV 0,MCV 2,Hgb 0"]
    lines += [f"P{i},80\x0b,79\x0b,11\x0b" for i in range(1, 2001)]
    data = ("\n".join(lines) + "\n").encode()
    grid = read_grid(data, "x.csv")
    assert len(grid.issues) == 3 * keep
    assert sorted(grid.omitted_issues) == [
        ("warning", "control_character", column, 2000 - keep) for column in (1, 2, 3)
    ]
    report = load_cohort(data, "x.csv").report
    groups = {g.column: g for g in report.issue_groups() if g.kind == "control_character"}
    assert {column: g.count for column, g in groups.items()} == {
        "MCV 0": 2000,
        "MCV 2": 2000,
        "Hgb 0": 2000,
    }
    assert all(len(g.issues) == keep for g in groups.values())
