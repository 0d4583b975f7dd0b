"""Hostile and benign Excel files, built in memory (no binary file is committed).

:data:`CASES` lists each file with what loading it must give: the substring of the
message it is refused with, or a check of the loaded cohort. Several of the hostile
files make python-calamine allocate hundreds of gigabytes and abort the process if
they reach it: they must be refused by :mod:`analytics.reading.xlsx` first.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import xlsxwriter

DEMO = Path(__file__).resolve().parent.parent / "data" / "sirolimus_demo.xlsx"

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"

#: What ``load_cohort`` must give: a substring of the refusal message, or a check
#: of the loaded cohort (it raises AssertionError when something is wrong).
Expect = str | Callable[[object], None]


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[], bytes]
    filename: str
    expect: Expect

    @property
    def refused(self) -> bool:
        return isinstance(self.expect, str)


# --------------------------------------------------------------------------- zip writer


@dataclass(frozen=True)
class Member:
    """One zip member; the ``declared_*`` fields make the headers lie."""

    name: str
    content: bytes
    method: int = zipfile.ZIP_DEFLATED
    declared_size: int | None = None
    declared_crc: int | None = None
    declared_compressed: int | None = None
    flags: int = 0


def write_zip(members: list[Member]) -> bytes:
    """A zip archive written field by field, so that its headers can be made to lie."""
    out = io.BytesIO()
    directory = io.BytesIO()
    for member in members:
        name = member.name.encode("utf-8")
        if member.method == zipfile.ZIP_DEFLATED:
            packer = zlib.compressobj(9, zlib.DEFLATED, -15)
            raw = packer.compress(member.content) + packer.flush()
        else:
            raw = member.content
        crc = zlib.crc32(member.content) if member.declared_crc is None else member.declared_crc
        size = len(member.content) if member.declared_size is None else member.declared_size
        compressed = len(raw) if member.declared_compressed is None else member.declared_compressed
        fields = (20, member.flags | 0x800, member.method, 0, 0x21, crc, compressed, size)
        offset = out.tell()
        out.write(struct.pack("<4sHHHHHIII", b"PK\x03\x04", *fields))
        out.write(struct.pack("<HH", len(name), 0) + name + raw)
        directory.write(struct.pack("<4sH", b"PK\x01\x02", 20))
        directory.write(struct.pack("<HHHHHIII", *fields))
        directory.write(struct.pack("<HHHHHII", len(name), 0, 0, 0, 0, 0, offset) + name)
    start = out.tell()
    listing = directory.getvalue()
    out.write(listing)
    n = len(members)
    out.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, n, n, len(listing), start, 0))
    return out.getvalue()


# --------------------------------------------------------------------------- workbook parts

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/></Types>'
)
PACKAGE_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PACKAGE_REL_NS}">'
    f'<Relationship Id="rId1" Type="{REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)

#: A small cohort: header row and two patients, as XML rows of inline strings/numbers.
COHORT_ROWS = (
    '<row r="1"><c r="A1" t="inlineStr"><is><t>patient_id</t></is></c>'
    '<c r="B1" t="inlineStr"><is><t>MCV 0</t></is></c>'
    '<c r="C1" t="inlineStr"><is><t>MCV 2</t></is></c></row>'
    '<row r="2"><c r="A2" t="inlineStr"><is><t>P1</t></is></c>'
    '<c r="B2"><v>80</v></c><c r="C2"><v>78</v></c></row>'
    '<row r="3"><c r="A3" t="inlineStr"><is><t>P2</t></is></c>'
    '<c r="B3"><v>90</v></c><c r="C3"><v>85</v></c></row>'
)


def sheet_xml(rows: str, before: str = "", after: str = "") -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN_NS}">'
        f"{before}<sheetData>{rows}</sheetData>{after}</worksheet>"
    )


def workbook(
    sheets: list[tuple[str, str]] | None = None,
    *,
    shared_strings: str | None = None,
    targets: list[str] | None = None,
    extra: list[Member] | None = None,
) -> bytes:
    """A hand-written workbook: ``sheets`` are ``(name, sheet XML)``."""
    sheets = sheets or [("cohort", sheet_xml(COHORT_ROWS))]
    targets = targets or [f"worksheets/sheet{i + 1}.xml" for i in range(len(sheets))]
    entries = "".join(
        f'<sheet name="{name}" sheetId="{i + 1}" r:id="rId{i + 1}"/>'
        for i, (name, _) in enumerate(sheets)
    )
    book = (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN_NS}" '
        f'xmlns:r="{REL_NS}"><sheets>{entries}</sheets></workbook>'
    )
    rels = "".join(
        f'<Relationship Id="rId{i + 1}" Type="{REL_NS}/worksheet" Target="{target}"/>'
        for i, target in enumerate(targets)
    )
    if shared_strings is not None:
        rels += (
            f'<Relationship Id="rIdS" Type="{REL_NS}/sharedStrings" Target="sharedStrings.xml"/>'
        )
    members = [
        Member("[Content_Types].xml", CONTENT_TYPES.encode()),
        Member("_rels/.rels", PACKAGE_RELS.encode()),
        Member("xl/workbook.xml", book.encode()),
        Member(
            "xl/_rels/workbook.xml.rels",
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PACKAGE_REL_NS}">'
            f"{rels}</Relationships>".encode(),
        ),
    ]
    members += [
        Member(f"xl/{target}", xml.encode())
        for target, (_, xml) in zip(targets, sheets, strict=True)
    ]
    if shared_strings is not None:
        members.append(Member("xl/sharedStrings.xml", shared_strings.encode()))
    return write_zip(members + (extra or []))


def _parts(data: bytes) -> list[Member]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [Member(i.filename, archive.read(i)) for i in archive.infolist()]


def _replace(data: bytes, name: str, **changes: object) -> bytes:
    """The archive with one member's declared fields (or content) changed."""
    members = []
    for member in _parts(data):
        if member.name == name:
            member = Member(**{**member.__dict__, **changes})
        members.append(member)
    return write_zip(members)


def _far(rows: str) -> Callable[[], bytes]:
    return lambda: workbook([("cohort", sheet_xml(COHORT_ROWS + rows))])


# --------------------------------------------------------------------------- benign files


def _openpyxl_workbook(with_formula: bool = False) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "cohort"
    sheet.append(["patient_id", "sex", "MCV 0", "MCV 2"])
    sheet.append(["P1", "F", 80.0, 78.0])
    sheet.append(["P2", "M", 90.0, "=C3-5" if with_formula else 85.0])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _xlsxwriter_workbook(*, cached: bool = True, image: bool = False) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("cohort")
    for row, values in enumerate([["patient_id", "MCV 0", "MCV 2"], ["P1", 80, 78], ["P2", 90]]):
        sheet.write_row(row, 0, values)
    # xlsxwriter saves the result given here as the formula's cached value
    sheet.write_formula("C3", "=B3-5", None, 85 if cached else "")
    if image:
        sheet.insert_image("E2", "dot.png", {"image_data": io.BytesIO(_PNG)})
    book.close()
    return buffer.getvalue()


# the smallest valid PNG: one transparent pixel
_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def _xlsm_with_macro_part() -> bytes:
    data = workbook()
    members = []
    for member in _parts(data):
        if member.name == "xl/_rels/workbook.xml.rels":
            text = member.content.decode().replace(
                "</Relationships>",
                '<Relationship Id="rIdV" Type="http://schemas.microsoft.com/office/2006/'
                'relationships/vbaProject" Target="vbaProject.bin"/></Relationships>',
            )
            member = Member(member.name, text.encode())
        members.append(member)
    members.append(Member("xl/vbaProject.bin", _OLE + bytes(range(256)) * 8))
    return write_zip(members)


def _quirky_but_legal() -> bytes:
    # single quotes, spaces around '=', a namespace prefix, rows and cells without r
    rows = (
        "<x:row r = '1'><x:c t='inlineStr'><x:is><x:t>patient_id</x:t></x:is></x:c>"
        "<x:c t='inlineStr'><x:is><x:t>MCV 0</x:t></x:is></x:c>"
        "<x:c t='inlineStr'><x:is><x:t>MCV 2</x:t></x:is></x:c></x:row>"
        "<x:row><x:c t='inlineStr'><x:is><x:t>P1</x:t></x:is></x:c><x:c><x:v>80</x:v></x:c>"
        "<x:c><x:v>78</x:v></x:c></x:row>"
    )
    xml = (
        f"<?xml version='1.0'?><x:worksheet xmlns:x='{MAIN_NS}'>"
        f"<x:dimension ref='A1:C2'/><x:sheetData>{rows}</x:sheetData></x:worksheet>"
    )
    return workbook([("cohort", xml)])


def _sparse_at_limit() -> bytes:
    # cells at A1.. and CV50000: 100 columns x 50,000 rows = exactly the 5,000,000 cell limit
    rows = COHORT_ROWS + '<row r="50000"><c r="CV50000"><v>1</v></c></row>'
    return workbook([("cohort", sheet_xml(rows))])


def _formula_without_value() -> bytes:
    rows = COHORT_ROWS.replace('<c r="C3"><v>85</v></c>', '<c r="C3"><f>SUM(B3:B3)-5</f></c>')
    rows = rows.replace('<c r="B2"><v>80</v></c>', '<c r="B2"><f>40*2</f><v/></c>')
    other = sheet_xml('<row r="1"><c r="A1"><f>1+1</f></c></row>')
    return workbook([("cohort", sheet_xml(rows)), ("notes", other)])


# --------------------------------------------------------------------------- checks


def _issue(kind: str, row: int | None, column: str | None) -> Callable[[object], None]:
    def check(cohort: object) -> None:
        found = [(i.row, i.column) for i in cohort.report.issues if i.kind == kind]
        assert (row, column) in found, found

    return check


def _patients(*ids: str) -> Callable[[object], None]:
    def check(cohort: object) -> None:
        assert sorted(cohort.patients.index.astype(str)) == sorted(ids)
        assert not [i for i in cohort.report.issues if i.kind == "formula_without_value"]

    return check


def _demo(cohort: object) -> None:
    assert len(cohort.patients) == 25
    assert cohort.source.sheet
    assert not [i for i in cohort.report.issues if i.kind == "formula_without_value"]


def _formula_cells(cohort: object) -> None:
    found = sorted(
        (i.row, i.column, i.severity, i.message)
        for i in cohort.report.issues
        if i.kind == "formula_without_value"
    )
    message = (
        "formula without a saved result, read as empty: open the file in Excel, let it "
        "calculate, and save it again"
    )
    # B2 (<v/>) and C3 (no <v>) of the sheet read; the sheet 'notes' is not reported
    assert found == [(2, "MCV 0", "warning", message), (3, "MCV 2", "warning", message)]
    assert cohort.lab_matrix("mcv").isna().sum().sum() == 2


def _openpyxl_formula(cohort: object) -> None:
    _issue("formula_without_value", 3, "MCV 2")(cohort)


def _sparse(cohort: object) -> None:
    assert sorted(cohort.patients.index.astype(str)) == ["P1", "P2"]


# --------------------------------------------------------------------------- hostile files

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _compound_file(*streams: str) -> bytes:
    """Enough of an Office compound file: its magic and UTF-16LE directory entry names."""
    header = _OLE + bytes(504)
    entries = b"".join(
        name.encode("utf-16-le").ljust(64, b"\x00") + bytes(64) for name in ("Root Entry", *streams)
    )
    return header + entries.ljust(512, b"\x00")


def _unique_count(attribute: str, value: str = "4294967295") -> Callable[[], bytes]:
    sst = f'<sst xmlns="{MAIN_NS}" {attribute}="{value}"><si><t>x</t></si></sst>'
    return lambda: workbook(shared_strings=sst)


def _nested_sst() -> bytes:
    sst = f'<wrap><sst xmlns="{MAIN_NS}" uniqueCount="4294967295"><si><t>x</t></si></sst></wrap>'
    return workbook(shared_strings=sst)


def _lying_size() -> bytes:
    # 20 MB of blanks in the sheet, compressed to ~20 KB, declared as 2 KB
    rows = COHORT_ROWS + " " * (20 * 1024 * 1024)
    data = workbook([("cohort", sheet_xml(rows))])
    return _replace(data, "xl/worksheets/sheet1.xml", declared_size=2048)


def _too_small() -> bytes:
    return _replace(workbook(), "xl/worksheets/sheet1.xml", declared_size=900_000)


def _bad_crc() -> bytes:
    return _replace(workbook(), "xl/worksheets/sheet1.xml", declared_crc=0x1234)


def _cut_short_part() -> bytes:
    data = workbook([("cohort", sheet_xml(COHORT_ROWS + "<!-- " + "x" * 5000 + " -->"))])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        size = archive.getinfo("xl/worksheets/sheet1.xml").compress_size
    return _replace(data, "xl/worksheets/sheet1.xml", declared_compressed=size // 2)


def _bzip2_part() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member in _parts(workbook()):
            method = zipfile.ZIP_BZIP2 if member.name.endswith("sheet1.xml") else 8
            archive.writestr(member.name, member.content, compress_type=method)
    return buffer.getvalue()


def _encrypted_member() -> bytes:
    return _replace(workbook(), "xl/worksheets/sheet1.xml", flags=0x1)


def _duplicate_part() -> bytes:
    members = _parts(workbook())
    return write_zip([*members, Member("XL/worksheets/Sheet1.xml", members[-1].content)])


def _honest_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for member in _parts(workbook()):
            archive.writestr(member.name, member.content)
        for i in range(4):
            archive.writestr(f"xl/media/blank{i}.xml", b" " * (100 * 1024 * 1024))
    return buffer.getvalue()


def _ratio_bomb() -> bytes:
    extra = [Member("xl/worksheets/sheet2.xml", b" " * (4 * 1024 * 1024))]
    return workbook(extra=extra)


def _many_parts() -> bytes:
    extra = [Member(f"xl/media/p{i}.txt", b"", method=0) for i in range(10_001)]
    return workbook(extra=extra)


def _zip_of(*names: str, mimetype: bytes | None = None) -> Callable[[], bytes]:
    def build() -> bytes:
        members = [Member(name, b"<a/>") for name in names]
        if mimetype is not None:
            members.insert(0, Member("mimetype", mimetype, method=zipfile.ZIP_STORED))
        return write_zip(members)

    return build


def _with_dtd(part: str) -> Callable[[], bytes]:
    laughs = '<!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    if part == "sharedStrings":
        sst = f'<?xml version="1.0"?>{laughs}<sst xmlns="{MAIN_NS}"><si><t>&b;</t></si></sst>'
        return lambda: workbook(shared_strings=sst)
    xml = sheet_xml(COHORT_ROWS).replace(
        "<worksheet", '<!DOCTYPE worksheet SYSTEM "x.dtd"><worksheet'
    )
    return lambda: workbook([("cohort", xml)])


def _stray_sheet_part() -> bytes:
    far = sheet_xml('<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')
    return workbook(extra=[Member("xl/worksheets/sheet9.xml", far.encode())])


def _sheet_target_without_xml_name() -> bytes:
    far = sheet_xml(COHORT_ROWS + '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')
    return workbook([("cohort", far)], targets=["worksheets/data.bin"])


def _truncated() -> bytes:
    data = DEMO.read_bytes()
    return data[: len(data) // 2]


FAR = "has cells out to row 1,048,576, column 16,384 (XFD): more than the 5,000,000 cells"
FAR_ROW = '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
TEXTS = "table of texts (xl/sharedStrings.xml)"
SAVE = "Open it in Excel and save it again as .xlsx"

CASES: list[Case] = [
    # ---- benign controls: the guards must not refuse good files
    Case("demo_workbook", DEMO.read_bytes, "sirolimus_demo.xlsx", _demo),
    Case("openpyxl_workbook", _openpyxl_workbook, "cohort.xlsx", _patients("P1", "P2")),
    Case("cached_formula_values", _xlsxwriter_workbook, "cohort.xlsx", _patients("P1", "P2")),
    Case("image_part", lambda: _xlsxwriter_workbook(image=True), "c.xlsx", _patients("P1", "P2")),
    Case("macro_part", _xlsm_with_macro_part, "cohort.xlsm", _patients("P1", "P2")),
    Case("quirky_legal_xml", _quirky_but_legal, "cohort.xlsx", _patients("P1")),
    Case("sparse_at_cell_limit", _sparse_at_limit, "cohort.xlsx", _sparse),
    Case(
        "sparse_over_cell_limit",
        lambda: workbook(
            [("cohort", sheet_xml(COHORT_ROWS + '<row r="50000"><c r="CW50000"/></row>'))]
        ),
        "x.xlsx",
        "row 50,000, column 101 (CW): more than the 5,000,000 cells",
    ),
    # ---- formula cells saved without a result: read, and reported cell by cell
    Case("formula_without_value", _formula_without_value, "cohort.xlsx", _formula_cells),
    Case("openpyxl_formula", lambda: _openpyxl_workbook(True), "c.xlsx", _openpyxl_formula),
    # ---- what calamine would pre-allocate from
    Case("unique_count", _unique_count("uniqueCount"), "x.xlsx", f"{TEXTS} declares 4,294,967,295"),
    Case("count", _unique_count("count"), "x.xlsx", f"{TEXTS} declares 4,294,967,295"),
    Case("unique_count_spaces", _unique_count("uniqueCount", " 9999999999 "), "x.xlsx", TEXTS),
    Case("nested_sst", _nested_sst, "x.xlsx", f"{TEXTS} declares 4,294,967,295"),
    # ---- far cells, in every quoting, spacing and prefix
    Case("far_double_quotes", _far(FAR_ROW), "x.xlsx", f"The sheet 'cohort' {FAR}"),
    Case("far_single_quotes", _far(FAR_ROW.replace('"', "'")), "x.xlsx", FAR),
    Case("far_spaces", _far(FAR_ROW.replace("r=", "r = ")), "x.xlsx", FAR),
    Case("far_lowercase", _far(FAR_ROW.replace("XFD", "xfd")), "x.xlsx", FAR),
    Case(
        "far_prefixed_elements",
        lambda: workbook(
            [
                (
                    "cohort",
                    f'<x:worksheet xmlns:x="{MAIN_NS}"><x:sheetData>'
                    + FAR_ROW.replace("<", "<x:").replace("<x:/", "</x:")
                    + "</x:sheetData></x:worksheet>",
                )
            ]
        ),
        "x.xlsx",
        FAR,
    ),
    Case("far_prefixed_attribute", _far(FAR_ROW.replace(" r=", " x:r=")), "x.xlsx", FAR),
    Case(
        "far_dimension",
        lambda: workbook([("cohort", sheet_xml(COHORT_ROWS, '<dimension ref="A1:XFD1048576"/>'))]),
        "x.xlsx",
        FAR,
    ),
    Case(
        "far_cells_without_r",
        # E1,000,000 then a cell without r: column F, 6,000,000 cells
        _far('<row r="1000000"><c r="E1000000"><v>1</v></c><c><v>1</v></c></row>'),
        "x.xlsx",
        "row 1,000,000, column 6 (F): more than",
    ),
    Case(
        "far_rows_without_r",
        # 3 columns to row 1,666,666 are within the limit; a row without r makes one too many
        _far('<row r="1666666"><c r="A1666666"><v>1</v></c></row><row><c><v>1</v></c></row>'),
        "x.xlsx",
        "row 1,666,667, column 3 (C): more than",
    ),
    Case("far_stray_part", _stray_sheet_part, "x.xlsx", f"in part xl/worksheets/sheet9.xml {FAR}"),
    Case("far_sheet_not_xml_named", _sheet_target_without_xml_name, "x.xlsx", FAR),
    # ---- XML that no Excel part has
    Case("dtd_in_sheet", _with_dtd("sheet"), "x.xlsx", "declares a document type (DTD)"),
    Case("entities_in_texts", _with_dtd("sharedStrings"), "x.xlsx", "declares a document type"),
    Case(
        "malformed_sheet",
        lambda: workbook([("cohort", sheet_xml(COHORT_ROWS)[:-5])]),
        "x.xlsx",
        "part xl/worksheets/sheet1.xml is not well-formed XML",
    ),
    # ---- zip parts that lie
    Case("lying_size", _lying_size, "x.xlsx", "sheet1.xml is larger than the file says"),
    Case("smaller_than_declared", _too_small, "x.xlsx", "sheet1.xml is smaller than the file says"),
    Case("bad_checksum", _bad_crc, "x.xlsx", "sheet1.xml fails its checksum"),
    Case("part_cut_short", _cut_short_part, "x.xlsx", "sheet1.xml is cut short"),
    Case("bzip2_part", _bzip2_part, "x.xlsx", "compressed in a way Excel does not use (method 12)"),
    Case("encrypted_member", _encrypted_member, "x.xlsx", "protected with a password"),
    Case("duplicate_part", _duplicate_part, "x.xlsx", "Sheet1.xml appears twice"),
    Case("honest_zip_bomb", _honest_bomb, "x.xlsx", "would expand to 400 MB (limit 300 MB)"),
    Case("ratio_bomb", _ratio_bomb, "x.xlsx", "compressed"),
    Case("too_many_parts", _many_parts, "x.xlsx", "more than 10,000 parts"),
    # ---- other files
    Case("truncated_zip", _truncated, "x.xlsx", "it is incomplete"),
    Case(
        "password_workbook",
        lambda: _compound_file("EncryptionInfo", "EncryptedPackage"),
        "x.xlsx",
        "protected with a password",
    ),
    Case("old_xls", lambda: _compound_file("Workbook"), "x.xls", "old Excel (.xls) file"),
    Case("xls_renamed_xlsx", lambda: _compound_file("Book"), "x.xlsx", "old Excel (.xls) file"),
    Case("word_doc", lambda: _compound_file("WordDocument"), "x.xlsx", "old-format Office"),
    Case(
        "ods",
        _zip_of("content.xml", mimetype=b"application/vnd.oasis.opendocument.spreadsheet"),
        "x.xlsx",
        "OpenDocument spreadsheet (.ods",
    ),
    Case("ods_by_name", lambda: b"id,MCV 0\n1,80\n", "cohort.ods", "OpenDocument spreadsheet"),
    Case(
        "numbers",
        _zip_of("Index/Document.iwa", "Metadata/Properties.plist"),
        "x.xlsx",
        "Apple Numbers",
    ),
    Case("numbers_by_name", lambda: b"\x00\x01", "cohort.numbers", "Apple Numbers"),
    Case("xlsb", _zip_of("[Content_Types].xml", "xl/workbook.bin"), "x.xlsb", "binary workbook"),
    Case("zip_not_workbook", _zip_of("word/document.xml"), "x.xlsx", "not an Excel workbook"),
    Case("text_named_xlsx", lambda: b"id,MCV 0\n1,80\n", "x.xlsx", "not a workbook inside"),
]
