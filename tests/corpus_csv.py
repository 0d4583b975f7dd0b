"""Hostile, broken and benign CSV files, built in memory.

Each :class:`Case` builds the bytes of one upload and says what loading it must give:
either a substring of the :class:`~analytics.errors.InputError` message, or a
:class:`Outcome` that checks the loaded cohort (patients, values, where the reader's
issues point, which rows were excluded and why).

Two base tables are used:

* ``DEMO6``: the first six patients of ``data/sirolimus_demo.csv`` (row 1 a title,
  row 2 blank, row 3 the header, rows 4 to 9 patients R01 to R06);
* ``SMALL``: a hand-written table (row 1 the header, rows 2 to 7 patients P1 to P6)
  with a ``Ferritin (µg/L)`` unit and a free-text ``note`` column.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

DEMO_PATH = Path(__file__).resolve().parent.parent / "data" / "sirolimus_demo.csv"
LONG = 200_000  # characters: more than the csv module's field limit of 131,072


def demo_lines(n_patients: int = 6) -> list[str]:
    """The demo file's title, blank and header rows and its first ``n_patients`` rows."""
    lines = DEMO_PATH.read_text(encoding="utf-8").split("\n")
    return lines[: 3 + n_patients]


SMALL_HEADER = "patient_id,sex,age,MCV (fL) 0,MCV (fL) 2,Ferritin (µg/L) 0,Ferritin (µg/L) 2,note"


def small_lines(n_patients: int = 6) -> list[str]:
    """``SMALL``: patient P3 has MCV 83.1 / 73.2 fL and ferritin 33 / 23 µg/L, and so on."""
    lines = [SMALL_HEADER]
    for i in range(1, n_patients + 1):
        sex = "F" if i % 2 else "M"
        d = i % 10
        lines.append(f"P{i},{sex},{50 + d},8{d}.1,7{d}.2,3{d},2{d},seen")
    return lines


def _nul_deep_in_file() -> bytes:
    lines = replaced(small_lines(150), 141, "P140", "P140\x00")
    data = text(lines).encode("utf-8")
    assert data.index(b"\x00") > 4096  # beyond the part checked for binary data
    return data


def text(lines: list[str], end: str = "\n") -> str:
    return end.join(lines) + end


def replaced(lines: list[str], row: int, old: str, new: str) -> list[str]:
    """``lines`` with the first ``old`` in physical row ``row`` (1-based) replaced."""
    out = list(lines)
    assert old in out[row - 1], (row, old)
    out[row - 1] = out[row - 1].replace(old, new, 1)
    return out


def physical_lines(data: bytes) -> int:
    """The number of lines a text editor shows (a last line without a line end counts)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        decoded = data.decode("utf-16", errors="replace")
    else:
        decoded = data.decode("latin-1")  # the bytes CR and LF are the same in every case here
    count = i = 0
    while i < len(decoded):
        if decoded[i] == "\r" and decoded[i + 1 : i + 2] == "\n":
            i += 1
        if decoded[i] in "\r\n":
            count += 1
        i += 1
    return count + (1 if decoded and decoded[-1] not in "\r\n" else 0)


@dataclass(frozen=True)
class Outcome:
    """What a file that loads must give.

    ``issues`` are ``(kind, row, column, words)``: an issue of that kind at that row
    and column whose message holds every one of ``words``; the reader's issues of
    the kinds listed must be exactly these. ``values`` are ``(patient, lab, time):
    value`` (None: no value). ``excluded`` maps row numbers to words in the reason.
    """

    n_patients: int
    ids: tuple[str, ...] = ()
    values: dict[tuple[str, str, float], float | None] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)  # patient: the row of its lab values
    issues: tuple[tuple[str, int, str, tuple[str, ...]], ...] = ()
    excluded: dict[int, str] = field(default_factory=dict)
    encoding: str = ""
    units: dict[str, str] = field(default_factory=dict)
    attributes: dict[tuple[str, str], object] = field(default_factory=dict)

    READER_KINDS = ("control_character", "undecodable_byte", "line_break_in_cell")

    def __call__(self, cohort) -> None:
        assert cohort.n_patients == self.n_patients, list(cohort.patients.index)
        if self.ids:
            assert tuple(cohort.patients.index) == self.ids
        labs = cohort.labs
        for (patient, lab, time), value in self.values.items():
            found = labs[
                (labs["patient_id"] == patient) & (labs["analyte"] == lab) & (labs["time"] == time)
            ]
            if value is None:
                assert found.empty, found
            else:
                assert found["value"].tolist() == [value], (patient, lab, time, found)
        for patient, row in self.rows.items():
            assert set(labs.loc[labs["patient_id"] == patient, "row"]) == {row}, patient
        found_issues = sorted(
            (i.kind, i.row, i.column, i.message)
            for i in cohort.report.issues
            if i.kind in self.READER_KINDS
        )
        assert len(found_issues) == len(self.issues), found_issues
        for (kind, row, column, words), issue in zip(
            sorted(self.issues, key=lambda e: (e[0], e[1], e[2])), found_issues, strict=True
        ):
            assert issue[:3] == (kind, row, column), (issue, kind, row, column)
            for word in words:
                assert word in issue[3], (word, issue[3])
        reasons = {e.row: e.reason for e in cohort.report.excluded}
        for row, words in self.excluded.items():
            assert words in reasons.get(row, ""), (row, reasons)
        if self.encoding:
            assert self.encoding in cohort.source.how_read, cohort.source.how_read
        for lab, unit in self.units.items():
            assert cohort.analytes[lab].unit == unit, cohort.analytes[lab]
        for (patient, column), value in self.attributes.items():
            assert cohort.patients.loc[patient, column] == value, cohort.patients.loc[patient]


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[], bytes]
    filename: str
    expect: str | Outcome


DEMO6_IDS = ("R01", "R02", "R03", "R04", "R05", "R06")
SMALL_IDS = ("P1", "P2", "P3", "P4", "P5", "P6")
UNCLOSED = (
    'a quotation mark (") opens a cell here and is never closed, so the rest of the file '
    "would be read as one cell. Remove the stray quote or close it, and save again."
)


def _utf8(lines: list[str], end: str = "\n") -> Callable[[], bytes]:
    return lambda: text(lines, end).encode("utf-8")


# --------------------------------------------------------------------------- benign

BENIGN = [
    Case(
        "demo file as shipped",
        DEMO_PATH.read_bytes,
        "sirolimus_demo.csv",
        Outcome(25, excluded={1: "title", 2: "empty row"}, encoding="UTF-8 encoding"),
    ),
    Case(
        "demo, six patients",
        _utf8(demo_lines()),
        "demo6.csv",
        Outcome(
            6,
            DEMO6_IDS,
            values={("R04", "mcv", 0.0): 94.3, ("R06", "hgb", 6.0): 15.1},
            rows={"R01": 4, "R06": 9},
        ),
    ),
    Case(
        "demo, Windows line ends and a UTF-8 byte-order mark",
        lambda: b"\xef\xbb\xbf" + text(demo_lines(), "\r\n").encode("utf-8"),
        "demo6.csv",
        Outcome(6, DEMO6_IDS, rows={"R06": 9}, encoding="UTF-8 (with BOM)"),
    ),
    Case(
        "demo, old Mac line ends (CR only)",
        _utf8(demo_lines(), "\r"),
        "demo6.csv",
        Outcome(6, DEMO6_IDS, rows={"R06": 9}),
    ),
    Case(
        "demo, UTF-16 with byte-order mark",
        lambda: text(demo_lines(), "\r\n").encode("utf-16"),
        "demo6.csv",
        Outcome(6, DEMO6_IDS, rows={"R06": 9}, encoding="UTF-16"),
    ),
    Case(
        "Windows-1252 file with µ and é",
        lambda: text(replaced(small_lines(), 4, "seen", "réévalué"), "\r\n").encode("cp1252"),
        "small.csv",
        Outcome(
            6,
            SMALL_IDS,
            units={"ferritin": "µg/L"},
            attributes={("P3", "note"): "réévalué"},
            encoding="Windows-1252",
        ),
    ),
    Case(
        "Excel sep=; line, semicolons and decimal commas",
        lambda: (
            "sep=;\n" + text([line.replace(",", ";") for line in small_lines()]).replace(".", ",")
        ).encode("utf-8"),
        "small.csv",
        Outcome(
            6,
            SMALL_IDS,
            values={("P2", "mcv", 0.0): 82.1},
            rows={"P1": 3, "P6": 8},
            excluded={1: "empty row above the header"},
        ),
    ),
    Case(
        # Excel writes an Alt+Enter cell quoted, with LF inside, in a CRLF file
        "legal quoted cells with line breaks (Excel Alt+Enter)",
        lambda: text(
            [
                SMALL_HEADER,
                "P1,F,51,81.1,71.2,31,21,seen",
                'P2,M,52,82.1,72.2,32,22,"first line\nsecond line"',
                "P3,F,53,83.1,73.2,33,23,seen",
                'P4,M,54,84.1,74.2,34,24,"one\r\ntwo\nthree, with a comma"',
                "P5,F,55,85.1,75.2,35,25,seen",
                'P6,M,56,86.1,76.2,36,26,"He said ""stop""\nthen went on"',
            ],
            "\r\n",
        ).encode("utf-8"),
        "small.csv",
        Outcome(
            6,
            SMALL_IDS,
            values={("P5", "mcv", 0.0): 85.1, ("P6", "ferritin", 2.0): 26.0},
            rows={"P2": 3, "P3": 5, "P4": 6, "P5": 9, "P6": 10},
            issues=(
                ("line_break_in_cell", 3, "note", ("row 3 to row 4", "row 4 of the file is")),
                ("line_break_in_cell", 6, "note", ("row 6 to row 8", "rows 7 to 8")),
                ("line_break_in_cell", 10, "note", ("row 10 to row 11",)),
            ),
            excluded={
                4: "a further line of the cell with line breaks that starts in row 3",
                7: "starts in row 6",
                8: "starts in row 6",
                11: "starts in row 10",
            },
            attributes={
                ("P2", "note"): "first line second line",
                ("P4", "note"): "one two three, with a comma",
                ("P6", "note"): 'He said "stop" then went on',
            },
        ),
    ),
    Case(
        "two cells with line breaks in one row: each located where it starts",
        _utf8(
            [
                "patient_id,diagnosis,MCV (fL) 0,MCV (fL) 2,note",
                "P1,PKD,80,81,ok",
                'P2,"PKD\n(biopsy)",82,83,"seen\nby two"',
                "P3,MCD,84,85,ok",
            ]
        ),
        "two.csv",
        Outcome(
            3,
            ("P1", "P2", "P3"),
            rows={"P2": 3, "P3": 6},
            issues=(
                ("line_break_in_cell", 3, "diagnosis", ("row 3 to row 4",)),
                ("line_break_in_cell", 4, "note", ("row 4 to row 5", "starts in row 3")),
            ),
            excluded={4: "starts in row 3", 5: "starts in row 3"},
        ),
    ),
    Case(
        "header cells wrapped onto two lines (quoted)",
        _utf8(['patient_id,"MCV (fL)\n0","MCV (fL)\n2"', "P1,80,81", "P2,82,83"]),
        "wrapped.csv",
        Outcome(
            2,
            ("P1", "P2"),
            values={("P2", "mcv", 2.0): 83.0},
            rows={"P1": 4, "P2": 5},
            issues=(
                ("line_break_in_cell", 1, "MCV (fL) 0", ("row 1 to row 2",)),
                ("line_break_in_cell", 2, "MCV (fL) 2", ("row 2 to row 3", "starts in row 1")),
            ),
            excluded={2: "starts in row 1", 3: "starts in row 1"},
        ),
    ),
    Case(
        "a title cell with line breaks above the header",
        _utf8(['"Sirolimus cohort\nexport of 2 May"', *small_lines()]),
        "small.csv",
        Outcome(
            6,
            SMALL_IDS,
            rows={"P1": 4, "P6": 9},
            issues=(("line_break_in_cell", 1, "patient_id", ("row 1 to row 2",)),),
            excluded={
                1: "title or note above the header row: 'Sirolimus cohort export of 2 May'",
                2: "a further line of the cell with line breaks that starts in row 1",
            },
        ),
    ),
    Case(
        'a quote inside an unquoted cell is text (5" tall)',
        _utf8(replaced(small_lines(), 3, "seen", 'cyst 5" wide')),
        "small.csv",
        Outcome(6, SMALL_IDS, rows={"P6": 7}, attributes={("P2", "note"): 'cyst 5" wide'}),
    ),
    Case(
        "a 100 KB cell of spaces is an empty cell",
        _utf8(replaced(demo_lines(), 6, "86.3", " " * 100_000)),
        "demo6.csv",
        Outcome(6, DEMO6_IDS, values={("R03", "mcv", 0.0): None, ("R03", "mcv", 2.0): 86.2}),
    ),
]

# --------------------------------------------------------------------------- quotes

QUOTES = [
    Case(
        "unclosed quote swallows the rest of the file",
        _utf8(replaced(demo_lines(), 7, ",IgA nephropathy,", ',"IgA nephropathy,')),
        "demo6.csv",
        "Row 7: " + UNCLOSED,
    ),
    Case(
        "unclosed quote in the last row",
        _utf8(replaced(demo_lines(), 9, ",PKD,", ',"PKD,')),
        "demo6.csv",
        "Row 9: " + UNCLOSED,
    ),
    Case(
        "unclosed quote on the second line of a row with a multi-line cell",
        _utf8(
            [
                "patient_id,note,MCV (fL) 0,remark",
                "P1,ok,80,ok",
                'P2,"two\nlines",82,"never closed',
                "P3,ok,84,ok",
            ]
        ),
        "x.csv",
        "Row 4: " + UNCLOSED,
    ),
    Case(
        "quote closed much later swallows whole rows",
        _utf8(
            replaced(
                replaced(demo_lines(), 5, ",MCD,", ',"MCD,'),
                8,
                ",Rejection,",
                ',Rejection",',
            )
        ),
        "demo6.csv",
        'Row 5: a quotation mark (") opens a cell here that is closed only in row 8, so '
        "rows 6 and 7, which look like rows of the table, would be read as part of that one "
        "cell.",
    ),
    Case(
        "quote closed on the far side of one swallowed row (small table)",
        _utf8(
            replaced(replaced(small_lines(), 3, ",seen", ',"seen'), 5, "P4,M", 'P4",M'),
        ),
        "small.csv",
        'Row 3: a quotation mark (") opens a cell here that is closed only in row 5, so '
        "row 4, which looks like a row of the table,",
    ),
    Case(
        "a stray quote that opens a cell longer than the field limit",
        _utf8(
            replaced(demo_lines(), 5, ",MCD,", ',"MCD,')[:5]
            + ["free text without delimiters" for _ in range(LONG // 28)]
        ),
        "demo6.csv",
        'Row 5: a cell is longer than 131,072 characters: a quotation mark (") opens it here',
    ),
]

# --------------------------------------------------------------------------- control characters

CONTROL_CHARACTERS = {
    "\x0b": "vertical tab",
    "\x0c": "form feed",
    "\x1c": "U+001C",
    "\x1d": "U+001D",
    "\x1e": "U+001E",
    "\x85": "next line",
    "\u2028": "line separator",
    "\u2029": "paragraph separator",
    "\x7f": "delete",
    "\x1a": "Ctrl+Z",
    "\x01": "U+0001",
    "\x9f": "U+009F",
}


def _control_case(char: str, name: str) -> Case:
    lines = replaced(small_lines(), 4, "P3", "P3" + char)  # a stray character after an ID
    lines = replaced(lines, 6, "85.1", char + "85.1")  # ... and before a number
    lines = replaced(lines, 7, "seen", f"see{char}n")  # ... and inside a word
    return Case(
        f"control character U+{ord(char):04X} in cells",
        _utf8(lines),
        "small.csv",
        Outcome(
            6,
            SMALL_IDS,
            values={("P3", "mcv", 0.0): 83.1, ("P5", "mcv", 0.0): 85.1},
            rows={"P3": 4, "P5": 6, "P6": 7},
            issues=(
                ("control_character", 4, "patient_id", (name, "replaced by a space", "'P3'")),
                ("control_character", 6, "MCV (fL) 0", (name, "'85.1'")),
                ("control_character", 7, "note", (name, "'see n'")),
            ),
            attributes={("P6", "note"): "see n"},
        ),
    )


CONTROLS = [_control_case(char, name) for char, name in CONTROL_CHARACTERS.items()] + [
    Case(
        "a control character inside a number does not glue its digits together",
        _utf8(replaced(small_lines(), 4, "83.1", "8\x0b3.1")),
        "small.csv",
        Outcome(
            6,
            SMALL_IDS,
            values={("P3", "mcv", 0.0): None, ("P3", "mcv", 2.0): 73.2},
            issues=(("control_character", 4, "MCV (fL) 0", ("vertical tab", "'8 3.1'")),),
        ),
    ),
    Case(
        "a NUL character deep in the file (after the binary check)",
        _nul_deep_in_file,
        "small.csv",
        Outcome(
            150,
            values={("P140", "mcv", 0.0): 80.1},
            rows={"P140": 141, "P150": 151},
            issues=(("control_character", 141, "patient_id", ("null character", "'P140'")),),
        ),
    ),
    Case(
        "control characters inside a quoted multi-line cell",
        _utf8(replaced(small_lines(), 4, ",seen", ',"seen\x0b\nagain"')),
        "small.csv",
        Outcome(
            6,
            SMALL_IDS,
            rows={"P4": 6},
            issues=(
                ("control_character", 4, "note", ("vertical tab",)),
                ("line_break_in_cell", 4, "note", ("row 4 to row 5",)),
            ),
            attributes={("P3", "note"): "seen again"},
        ),
    ),
    Case(
        "a Latin-1 file with a byte Windows-1252 leaves undefined",
        lambda: text(replaced(small_lines(), 3, "seen", "s\x81en")).encode("latin-1"),
        "small.csv",
        Outcome(
            6,
            SMALL_IDS,
            encoding="Latin-1",
            issues=(("control_character", 3, "note", ("U+0081",)),),
        ),
    ),
]

# --------------------------------------------------------------------------- encodings


def _mixed(lines: list[str], row: int, old: str, new: bytes, bom: bool = False) -> bytes:
    """UTF-8 ``lines`` with ``old`` in ``row`` replaced by raw (non-UTF-8) bytes."""
    encoded = [line.encode("utf-8") for line in lines]
    assert old.encode() in encoded[row - 1]
    encoded[row - 1] = encoded[row - 1].replace(old.encode(), new, 1)
    data = b"\n".join(encoded) + b"\n"
    return (b"\xef\xbb\xbf" if bom else b"") + data


def _mostly_cp1252(bom: bool) -> bytes:
    lines = small_lines()
    if bom:  # no UTF-8 character at all
        lines[0] = lines[0].replace("µ", "u")
    encoded = [line.encode("utf-8") for line in lines]
    for row in range(2, 8):
        encoded[row - 1] = encoded[row - 1].replace(b"seen", "réévalué été".encode("cp1252"))
    return (b"\xef\xbb\xbf" if bom else b"") + b"\n".join(encoded) + b"\n"


MIXED_NOTE = ("0xB5", "in Windows-1252 'µ'", "'s\ufffden'", "CSV UTF-8")

ENCODINGS = [
    Case(
        "UTF-8 file with one Windows-1252 µ in a note",
        lambda: _mixed(small_lines(), 4, "seen", b"s\xb5en"),
        "small.csv",
        Outcome(
            6,
            SMALL_IDS,
            units={"ferritin": "µg/L"},
            values={("P3", "ferritin", 0.0): 33.0},
            issues=(("undecodable_byte", 4, "note", MIXED_NOTE),),
            encoding="UTF-8 (some bytes not UTF-8)",
            attributes={("P3", "note"): "s\ufffden"},
        ),
    ),
    Case(
        "UTF-8 file with a BOM and one Windows-1252 µ in a note",
        lambda: _mixed(small_lines(), 4, "seen", b"s\xb5en", bom=True),
        "small.csv",
        Outcome(
            6,
            SMALL_IDS,
            units={"ferritin": "µg/L"},
            issues=(("undecodable_byte", 4, "note", MIXED_NOTE),),
            encoding="UTF-8 (with BOM; some bytes not UTF-8)",
        ),
    ),
    Case(
        "UTF-8 file with Windows-1252 bytes in a number and an ID",
        lambda: _mixed(
            replaced(small_lines(), 3, "P2", "P2\u00e9"), 5, "84.1", b"8\xb54.1\xa0\x81"
        ).replace("P2é".encode(), b"P2\xe9"),
        "small.csv",
        Outcome(
            6,
            ("P1", "P2\ufffd", "P3", "P4", "P5", "P6"),
            values={("P4", "mcv", 0.0): None, ("P4", "mcv", 2.0): 74.2},
            issues=(
                ("undecodable_byte", 3, "patient_id", ("0xE9", "'é'")),
                (
                    "undecodable_byte",
                    5,
                    "MCV (fL) 0",
                    ("0x81, 0xA0, 0xB5", "not a character in Windows-1252", "no-break space"),
                ),
            ),
        ),
    ),
    Case(
        "mostly Windows-1252 with a UTF-8 µ in the header",
        lambda: _mostly_cp1252(bom=False),
        "small.csv",
        "Row 2: the file mixes two text encodings: most of its accented characters and "
        "symbols are not UTF-8 (the first here: byte 0xE9, in Windows-1252 'é') but some "
        "are (the first in row 1)",
    ),
    Case(
        "a UTF-8 byte-order mark on a Windows-1252 file",
        lambda: _mostly_cp1252(bom=True),
        "small.csv",
        "Row 2: the file is marked as UTF-8 text, but many of its bytes are not UTF-8",
    ),
    Case(
        "UTF-16 cut off in the middle of a character",
        lambda: text(small_lines()).encode("utf-16")[:-1],
        "small.csv",
        "Row 7: the file is marked as UTF-16 text",
    ),
    Case(
        "UTF-16 with a broken character in row 4",
        lambda: (
            text(small_lines())
            .encode("utf-16")
            .replace("P3".encode("utf-16-le"), b"P\x00\x00\xdc", 1)
        ),
        "small.csv",
        "Row 4: the file is marked as UTF-16 text",
    ),
    Case(
        "binary data",
        lambda: b"\x00\x01\x02\x03" * 100,
        "x.csv",
        "it contains binary data",
    ),
]

# --------------------------------------------------------------------------- long lines

LONG_LINES = [
    Case(
        "a cell longer than the field limit",
        _utf8(replaced(demo_lines(), 5, "MCD", "x" * LONG)),
        "demo6.csv",
        "Row 5: a cell is longer than 131,072 characters, far more than a table cell holds "
        "(a missing closing quote, or not a table?)",
    ),
    Case(
        "a header row longer than the field limit and the sniffed prefix",
        _utf8(["patient_id,MCV 0," + "y" * LONG, "P1,80,", "P2,81,"]),
        "x.csv",
        "Row 1: a cell is longer than 131,072 characters",
    ),
    Case(
        "too many columns",
        _utf8(replaced(demo_lines(), 6, "R03,", "R03," + "," * 1000)),
        "demo6.csv",
        "The sheet has 1,032 columns (row 6)",
    ),
]

CASES: list[Case] = BENIGN + QUOTES + CONTROLS + ENCODINGS + LONG_LINES
