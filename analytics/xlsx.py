"""Reading an uploaded Excel workbook without trusting it.

An .xlsx file is a zip archive of XML parts. Before python-calamine sees a byte of
it, every part is checked here:

1. What the file is: a password-protected workbook, an old .xls, an OpenDocument
   (.ods) or Apple Numbers file, a zip that holds no workbook, a truncated zip ...
   each gets its own message.
2. The zip's declared sizes (refuses an honest "zip bomb" at once), then every part
   is inflated for real, in bounded chunks, whatever its headers claim: the real
   total, size, compression ratio and checksum of each part are checked as they
   stream, so a part that lies about its size is stopped a megabyte past its claim.
3. The same chunks are fed to expat (linear time): no part may declare a DTD or
   entities; every worksheet's farthest cell (from ``<dimension>``, ``<row r>`` and
   ``<c r>``, in any quoting or namespace prefix, and counting rows and cells
   without ``r`` as calamine does) must stay within the cell limit, because calamine
   allocates the whole rectangle; and no shared-string table may declare more
   entries than the cell limit, because calamine reserves memory for them up front.
4. calamine then reads a clean copy of the archive rebuilt from the parts just
   checked (the same compressed bytes, fresh headers), so it sees only consistent,
   bounded parts.

Formula cells saved without a result (calamine reads them as empty) are reported
as :class:`~analytics.reader.CellIssue` of kind ``"formula_without_value"``.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from xml.parsers import expat

from .errors import InputError
from .limits import LIMITS
from .reader import CellIssue, Grid, LazySheets, Rows

__all__ = ["is_workbook", "read_workbook"]

_MB = 1024 * 1024

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_WORKBOOK_EXTENSIONS = (".xlsx", ".xlsm", ".xltx", ".xltm", ".xlsb", ".xls", ".ods", ".numbers")

#: Most parts (zip members) in one workbook; an ordinary workbook has a few dozen.
_MAX_PARTS = 10_000
#: Compressed bytes handed to zlib at a time, and most bytes it may inflate at once.
_IN_CHUNK = 64 * 1024
_OUT_CHUNK = 1024 * 1024
#: Formula cells without a saved result listed one by one; the rest are counted.
_MAX_FORMULA_ISSUES = 200

_SAVE_AGAIN = "Open it in Excel and save it again as .xlsx, then upload that file."

_PASSWORD = (
    "This workbook is protected with a password, so it cannot be read. In Excel, remove "
    "the password (File > Info > Protect Workbook > Encrypt with Password, delete the "
    "password, OK), save it, and upload it again."
)
_OLD_XLS = "This is an old Excel (.xls) file. Open it in Excel and save it as .xlsx or CSV."
_OLD_OFFICE = (
    "This is an old-format Office file (such as .xls or .doc), not an .xlsx workbook. If it "
    "is an Excel file, open it in Excel and save it as .xlsx or CSV."
)
_ODS = (
    "This is an OpenDocument spreadsheet (.ods, from LibreOffice or OpenOffice). Open it "
    "there and save it as Excel 2007-365 (.xlsx) or as CSV, then upload that file."
)
_NUMBERS = (
    "This is an Apple Numbers file. In Numbers, choose File > Export To > Excel (or CSV), "
    "then upload that file."
)
_XLSB = (
    "This is an Excel binary workbook (.xlsb). Open it in Excel and save it as "
    "Excel Workbook (.xlsx) or CSV, then upload that file."
)
_NOT_A_WORKBOOK = (
    "This is a zip archive but not an Excel workbook: it holds no worksheet. "
    "Upload the .xlsx or CSV file itself."
)
_NOT_ZIP = (
    "This is not a valid Excel (.xlsx) file: it is not a workbook inside (perhaps another "
    "kind of file renamed .xlsx). Open it in Excel and save it as .xlsx or CSV."
)
_TRUNCATED = (
    "This is not a valid Excel (.xlsx) file: it is incomplete, as happens when a download "
    "or copy is cut short. Download or copy it again; if Excel opens it, save it again "
    "as .xlsx."
)
_FORMULA_WITHOUT_VALUE = (
    "formula without a saved result, read as empty: open the file in Excel, let it "
    "calculate, and save it again"
)


def _damaged(what: str) -> InputError:
    return InputError(f"The Excel file is damaged: {what}. {_SAVE_AGAIN}")


# --------------------------------------------------------------------------- what file


def is_workbook(data: bytes, filename: str) -> bool:
    """Whether the file is to be read (or refused) as a workbook rather than as CSV text."""
    lowered = filename.lower()
    if data[:8] == _OLE_MAGIC or lowered.endswith(_WORKBOOK_EXTENSIONS):
        return True
    return data[:4] in _ZIP_MAGICS and not lowered.endswith(".csv")


def _refuse_other_formats(data: bytes, lowered: str) -> None:
    """Refuse, with a specific message, what is not an .xlsx/.xlsm zip at all."""
    if data[:8] == _OLE_MAGIC:
        # an Office compound file: a workbook encrypted with a password is one, with
        # an "EncryptedPackage" stream; so is an old .xls, with a "Workbook"/"Book"
        # stream. Directory entry names are UTF-16LE; the search is bounded by the
        # upload size limit and linear.
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise InputError(_PASSWORD)
        if any(name.encode("utf-16-le") in data for name in ("Workbook", "Book")):
            raise InputError(_OLD_XLS)
        raise InputError(_OLD_OFFICE)
    if data[:4] not in _ZIP_MAGICS:
        if lowered.endswith(".ods"):
            raise InputError(_ODS)
        if lowered.endswith(".numbers"):
            raise InputError(_NUMBERS)
        if lowered.endswith(".xls"):
            raise InputError(_OLD_XLS)
        raise InputError(_NOT_ZIP)
    if lowered.endswith(".ods"):
        raise InputError(_ODS)
    if lowered.endswith(".numbers"):
        raise InputError(_NUMBERS)


def _open_zip(data: bytes) -> list[zipfile.ZipInfo]:
    # zipfile builds one object per central-directory entry: bound their number
    # first (each entry starts with this signature; counting is linear)
    if data.count(b"PK\x01\x02") > _MAX_PARTS:
        raise InputError(
            f"The Excel file has more than {_MAX_PARTS:,} parts; it looks malicious and "
            "was not opened."
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.infolist()
    except zipfile.BadZipFile as error:
        if b"PK\x05\x06" not in data[-(1 << 16) - 22 :]:
            raise InputError(_TRUNCATED) from error
        raise _damaged("its table of contents cannot be read") from error
    except (OSError, ValueError, EOFError, struct.error, NotImplementedError) as error:
        raise _damaged("its table of contents cannot be read") from error


def _normalise(name: str) -> str:
    """A part's name as calamine looks it up: case-insensitive, ``/`` separated."""
    return name.replace("\\", "/").lower()


def _refuse_non_xlsx_zip(members: list[zipfile.ZipInfo], data: bytes) -> None:
    names = {_normalise(m.filename): m for m in members}
    mimetype = names.get("mimetype")
    if mimetype is not None and mimetype.file_size < 200:
        raw = _read_member(data, mimetype, 200)
        if raw.startswith(b"application/vnd.oasis.opendocument"):
            raise InputError(_ODS)
    if any(name.endswith(".iwa") for name in names):
        raise InputError(_NUMBERS)
    if any(name.startswith("xl/") and name.endswith(".bin") for name in names) and not any(
        name.endswith("workbook.xml") for name in names
    ):
        raise InputError(_XLSB)
    if not any(name.startswith("xl/") for name in names):
        raise InputError(_NOT_A_WORKBOOK)


# --------------------------------------------------------------------------- zip parts


def _check_declared_sizes(members: list[zipfile.ZipInfo]) -> None:
    """The cheap checks on what the zip declares (refuse an honest zip bomb at once)."""
    limit_mb = LIMITS["max_xlsx_uncompressed_mb"].value
    max_ratio = LIMITS["max_xlsx_compression_ratio"].value
    total = sum(member.file_size for member in members)
    if total > limit_mb * _MB:
        raise InputError(
            f"The Excel file would expand to {total / _MB:,.0f} MB (limit {limit_mb:.0f} MB); "
            "it was not opened."
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > _MB and ratio > max_ratio:
            raise InputError(
                f"The Excel file has a part compressed {ratio:,.0f}-fold "
                f"({member.filename}); it looks malicious and was not opened."
            )
    seen: set[str] = set()
    for member in members:
        name = _normalise(member.filename)
        if name in seen:
            raise _damaged(f"the part {member.filename} appears twice")
        seen.add(name)
        if member.flag_bits & 0x1:
            raise InputError(_PASSWORD)
        if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _damaged(
                f"the part {member.filename} is compressed in a way Excel does not use "
                f"(method {member.compress_type})"
            )


def _raw_bytes(data: bytes, member: zipfile.ZipInfo) -> memoryview:
    """The member's compressed bytes, as stored after its local header."""
    offset = member.header_offset
    header = data[offset : offset + 30]
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise _damaged(f"the part {member.filename} cannot be found in the file")
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    start = offset + 30 + name_length + extra_length
    end = start + member.compress_size
    if end > len(data):
        raise _damaged(f"the part {member.filename} is cut short")
    return memoryview(data)[start:end]


def _inflate(raw: memoryview, member: zipfile.ZipInfo) -> Iterator[bytes]:
    """The member's content in chunks of at most ``_OUT_CHUNK`` bytes.

    Nothing here trusts the declared size: the caller counts what comes out.
    """
    if member.compress_type == zipfile.ZIP_STORED:
        for start in range(0, len(raw), _OUT_CHUNK):
            yield bytes(raw[start : start + _OUT_CHUNK])
        return
    inflater = zlib.decompressobj(-15)
    try:
        for start in range(0, len(raw), _IN_CHUNK):
            pending: bytes | memoryview = raw[start : start + _IN_CHUNK]
            while pending and not inflater.eof:
                out = inflater.decompress(pending, _OUT_CHUNK)
                pending = inflater.unconsumed_tail
                if out:
                    yield out
            if inflater.eof:
                break
        while not inflater.eof:  # output still held back by the chunk limit
            out = inflater.decompress(b"", _OUT_CHUNK)
            if not out:
                break
            yield out
    except zlib.error as error:
        raise _damaged(f"the part {member.filename} cannot be decompressed") from error
    if not inflater.eof:
        raise _damaged(f"the part {member.filename} is cut short")


def _read_member(data: bytes, member: zipfile.ZipInfo, most: int) -> bytes:
    """At most ``most`` bytes of a small member (used before the full checks)."""
    out = b""
    for chunk in _inflate(_raw_bytes(data, member), member):
        out += chunk
        if len(out) >= most:
            break
    return out[:most]


@dataclass
class _Total:
    """The real number of bytes inflated so far, across all parts."""

    limit: int
    count: int = 0

    def add(self, n: int) -> None:
        self.count += n
        if self.count > self.limit:
            raise InputError(
                f"The Excel file expands to more than {self.limit / _MB:,.0f} MB (the limit); "
                "it was not opened."
            )


def _stream_member(data: bytes, member: zipfile.ZipInfo, total: _Total) -> Iterator[bytes]:
    """The member's content, checked against its declared size and checksum as it streams."""
    size = crc = 0
    for chunk in _inflate(_raw_bytes(data, member), member):
        size += len(chunk)
        total.add(len(chunk))
        if size > member.file_size:
            raise _damaged(f"the part {member.filename} is larger than the file says")
        crc = zlib.crc32(chunk, crc)
        yield chunk
    if size != member.file_size:
        raise _damaged(f"the part {member.filename} is smaller than the file says")
    if crc != member.CRC:
        raise _damaged(f"the part {member.filename} fails its checksum")


# --------------------------------------------------------------------------- XML parts


_LOCAL_NAMES: dict[str, str] = {}


def _local(name: str) -> str:
    """``"x:row"`` -> ``"row"`` (element and attribute names compared without prefix)."""
    local = _LOCAL_NAMES.get(name)
    if local is None:
        local = name.rpartition(":")[2]
        if len(_LOCAL_NAMES) < 4096:  # the names an ordinary workbook uses, kept
            _LOCAL_NAMES[name] = local
    return local


_REF_RE = re.compile(r"([A-Za-z]*)([0-9]+)")
_COLUMN_NUMBERS: dict[str, int] = {}


def _parse_ref(value: str) -> tuple[int, int] | None:
    """``"XFD1048576"`` -> ``(1048576, 16384)`` (1-based; column 0 when absent).

    The grammar is calamine's: letters of either case, then digits. None when the
    value does not parse (calamine then refuses the sheet itself). Matched on the
    attribute's value only, never on the XML.
    """
    match = _REF_RE.fullmatch(value)
    if match is None:
        return None
    letters, row = match.group(1), int(match.group(2))
    column = _COLUMN_NUMBERS.get(letters)
    if column is None:
        column = 0
        for letter in letters.upper():
            column = column * 26 + (ord(letter) - 64)
        if len(letters) <= 3:
            _COLUMN_NUMBERS[letters] = column
    return (row, column) if row >= 1 else None


def _declared_count(value: str) -> int:
    """A count attribute as calamine might read it (0 when there is no number)."""
    digits = value.strip().lstrip("+")
    end = 0
    while end < len(digits) and digits[end].isascii() and digits[end].isdigit():
        end += 1
    if end > 15:
        return 10**15
    return int(digits[:end]) if end else 0


def _column_letters(number: int) -> str:
    letters = ""
    while number > 0 and len(letters) < 8:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


@dataclass
class _PartScan:
    """Everything learnt from one XML part, fed in chunks to expat.

    Rows and cells are placed as calamine places them: a ``<row>`` or ``<c>`` without
    ``r`` continues from the previous one (calamine reads only the unprefixed ``r``);
    the extent also counts any prefixed ``r``, to be safe.
    """

    name: str
    sheet_label: str
    max_cells: int
    #: Relationship targets (``.rels`` parts): ``{id: (type, target)}``.
    relationships: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: Worksheets named in a workbook part: ``[(name, relationship id)]``.
    sheets: list[tuple[str, str]] = field(default_factory=list)
    has_sheet_data: bool = False
    far_row: int = 0
    far_column: int = 0
    formula_cells: list[tuple[int, int]] = field(default_factory=list)
    n_formula_cells: int = 0
    _row: int = 0  # 0-based, as calamine counts
    _column: int = 0
    _cell: tuple[int, int] | None = None
    _cell_formula: bool = False
    _cell_value: bool = False
    _in_value: bool = False
    _in_strings: bool = False
    _n_strings: int = 0

    def __post_init__(self) -> None:
        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartDoctypeDeclHandler = self._doctype
        parser.EntityDeclHandler = self._entity
        parser.ExternalEntityRefHandler = self._external
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._text
        self._parser = parser

    def feed(self, chunk: bytes, final: bool = False) -> None:
        try:
            self._parser.Parse(chunk, final)
        except expat.ExpatError as error:
            raise _damaged(
                f"its part {self.name} is not well-formed XML (line {error.lineno:,})"
            ) from error
        except LookupError as error:  # <?xml encoding="..."?> names an unknown encoding
            raise _damaged(
                f"its part {self.name} declares a text encoding Excel never writes"
            ) from error

    # ---- refusals
    def _doctype(self, *_: object) -> None:
        raise InputError(
            f"The Excel file's part {self.name} declares a document type (DTD), which Excel "
            f"never writes; it may be malicious and was not opened. {_SAVE_AGAIN}"
        )

    def _entity(self, *_: object) -> None:
        self._doctype()

    def _external(self, *_: object) -> int:
        self._doctype()
        return 0

    def _too_far(self, row: int, column: int) -> None:
        self.far_row = max(self.far_row, row)
        self.far_column = max(self.far_column, column)
        if self.far_row * max(self.far_column, 1) > self.max_cells:
            letters = _column_letters(self.far_column)
            raise InputError(
                f"The sheet {self.sheet_label} has cells out to row {self.far_row:,}, column "
                f"{self.far_column:,} ({letters}): more than the {self.max_cells:,} cells read "
                "from one sheet. Delete stray cells far from the data (select the empty rows "
                "and columns after the table and delete them) and save again."
            )

    def _too_many_strings(self, count: int, what: str) -> None:
        if count > self.max_cells:
            raise InputError(
                f"The workbook's table of texts ({self.name}) {what} {count:,} entries: more "
                f"than the {self.max_cells:,} cells read from one sheet. It may be damaged or "
                f"malicious and was not opened. {_SAVE_AGAIN}"
            )

    # ---- elements (the cell path first: it runs for every cell of every sheet)
    def _start(self, name: str, attributes: dict[str, str]) -> None:
        local = _LOCAL_NAMES.get(name) or _local(name)
        if local == "c":
            if self.has_sheet_data:
                self._cell_start(attributes)
        elif local == "v":
            if self._cell is not None:
                self._in_value = True
        elif local == "row":
            if self.has_sheet_data:
                self._row_start(attributes)
        elif local == "f":
            if self._cell is not None:
                self._cell_formula = True
        elif local == "is":
            if self._cell is not None:
                self._cell_value = True
        else:
            self._other_start(local, attributes)

    def _prefixed_r(self, attributes: dict[str, str], is_cell: bool) -> None:
        """A prefixed ``r`` (``x:r``) is ignored by calamine, but counted in the extent."""
        for key, value in attributes.items():
            if key[-2:] == ":r":
                ref = _parse_ref(value)
                if ref is not None:
                    self._too_far(ref[0], ref[1] if is_cell else 0)

    def _row_start(self, attributes: dict[str, str]) -> None:
        exact = attributes.get("r")
        if exact is not None:
            ref = _parse_ref(exact)
            if ref is not None:
                self._row = ref[0] - 1
        if len(attributes) > 1 or exact is None:
            self._prefixed_r(attributes, False)
        if self._row >= self.far_row:
            self._too_far(self._row + 1, 0)

    def _cell_start(self, attributes: dict[str, str]) -> None:
        exact = attributes.get("r")
        ref = _parse_ref(exact) if exact is not None else None
        if len(attributes) > 1 or exact is None:
            self._prefixed_r(attributes, True)
        if ref is not None and ref[1] >= 1:
            row, column = ref[0] - 1, ref[1] - 1
            self._column = column
        else:
            row, column = self._row, self._column
        if row >= self.far_row or column >= self.far_column:
            self._too_far(row + 1, column + 1)
        self._cell = (row + 1, column)
        self._cell_formula = self._cell_value = self._in_value = False

    def _other_start(self, local: str, attributes: dict[str, str]) -> None:
        if local == "sheetData":
            self.has_sheet_data = True
        elif local == "dimension":
            for key, value in attributes.items():
                if _local(key) == "ref":
                    for part in value.split(":"):
                        ref = _parse_ref(part)
                        if ref is not None:
                            self._too_far(*ref)
        elif local == "sst":
            self._in_strings = True
            for key, value in attributes.items():
                if _local(key) in ("count", "uniqueCount"):
                    self._too_many_strings(_declared_count(value), "declares")
        elif local == "si" and self._in_strings:
            self._n_strings += 1
            self._too_many_strings(self._n_strings, "holds at least")
        elif local == "Relationship":
            get = {_local(k): v for k, v in attributes.items()}.get
            if len(self.relationships) < _MAX_PARTS:
                self.relationships[get("Id", "")] = (get("Type", ""), get("Target", ""))
        elif local == "sheet" and len(self.sheets) < _MAX_PARTS:
            sheet_name = attributes.get("name", "")
            rel_id = next((v for k, v in attributes.items() if _local(k) == "id"), "")
            self.sheets.append((sheet_name, rel_id))

    def _text(self, text: str) -> None:
        if self._in_value and text:
            self._cell_value = True

    def _end(self, name: str) -> None:
        local = _LOCAL_NAMES.get(name) or _local(name)
        if local == "v":
            self._in_value = False
        elif local == "c" and self._cell is not None:
            if self._cell_formula and not self._cell_value:
                self.n_formula_cells += 1
                if len(self.formula_cells) < _MAX_FORMULA_ISSUES:
                    self.formula_cells.append(self._cell)
            self._cell = None
            self._column += 1
        elif local == "row" and self.has_sheet_data:
            self._row += 1
            self._column = 0


#: Relationship types (last segment) of the parts calamine reads as XML.
_XML_RELATIONSHIPS = {
    "worksheet",
    "chartsheet",
    "dialogsheet",
    "xlMacrosheet",
    "xlIntlMacrosheet",
    "sharedStrings",
    "styles",
}


def _is_xml_name(name: str) -> bool:
    return name.endswith((".xml", ".rels", ".vml"))


@dataclass
class _Checked:
    """What the checks of a workbook's parts found, for reading it afterwards."""

    clean: bytes
    #: normalised part name -> formula cells without a value (1-based row, 0-based column)
    formula_cells: dict[str, list[tuple[int, int]]]
    formula_counts: dict[str, int]
    #: sheet name -> normalised part name, resolved as calamine resolves it
    sheet_parts: dict[str, str]


def _office_directory(relationships: dict[str, tuple[str, str]]) -> str:
    """The folder of the workbook part (``"xl/"``), from the package relationships."""
    for rel_type, target in relationships.values():
        if rel_type.endswith("/relationships/officeDocument"):
            folder = target[: target.rfind("/") + 1] if "/" in target else ""
            return folder.removeprefix("/")
    return "xl/"


def _target_path(folder: str, target: str) -> str:
    return _normalise(target[1:] if target.startswith("/") else folder + target)


def _check_parts(data: bytes, members: list[zipfile.ZipInfo]) -> _Checked:
    """Inflate and check every part (see the module's description); rebuild the archive."""
    max_cells = int(LIMITS["max_cells"].value)
    total = _Total(int(LIMITS["max_xlsx_uncompressed_mb"].value * _MB))
    by_name = {_normalise(m.filename): m for m in members}
    folder = "xl/"
    labels: dict[str, str] = {}
    scans: dict[str, _PartScan] = {}

    def scan_xml(member: zipfile.ZipInfo) -> _PartScan:
        name = _normalise(member.filename)
        label = labels.get(name, f"in part {member.filename}")
        part = _PartScan(member.filename, label, max_cells)
        for chunk in _stream_member(data, member, total):
            part.feed(chunk)
        part.feed(b"", final=True)
        scans[name] = part
        done.add(name)
        return part

    def scan_other(member: zipfile.ZipInfo) -> None:
        for _ in _stream_member(data, member, total):
            pass
        done.add(_normalise(member.filename))

    # the parts that say where the sheets are come first, so that the messages
    # about the other parts can name the sheet
    done: set[str] = set()
    package = by_name.get("_rels/.rels")
    if package is not None:
        folder = _office_directory(scan_xml(package).relationships)
    workbook_rels: dict[str, tuple[str, str]] = {}
    rels = by_name.get(_normalise(f"{folder}_rels/workbook.xml.rels"))
    if rels is not None and _normalise(rels.filename) not in done:
        workbook_rels = scan_xml(rels).relationships
    sheets: list[tuple[str, str]] = []
    workbook = by_name.get(_normalise(f"{folder}workbook.xml"))
    if workbook is not None and _normalise(workbook.filename) not in done:
        sheets = scan_xml(workbook).sheets
    # parts calamine parses as XML whatever their name: sheets, texts and styles
    xml_targets = {
        _target_path(folder, target)
        for rel_type, target in workbook_rels.values()
        if rel_type.rpartition("/")[2] in _XML_RELATIONSHIPS
    }
    sheet_parts: dict[str, str] = {}
    for sheet_name, rel_id in sheets:
        if rel_id in workbook_rels:
            path = _target_path(folder, workbook_rels[rel_id][1])
            sheet_parts.setdefault(sheet_name, path)
            labels.setdefault(path, f"'{sheet_name}'")
    for member in members:
        name = _normalise(member.filename)
        if name in done:
            continue
        if _is_xml_name(name) or name in xml_targets:
            scan_xml(member)
        else:
            scan_other(member)
    return _Checked(
        clean=_rebuild(data, members),
        formula_cells={n: s.formula_cells for n, s in scans.items() if s.formula_cells},
        formula_counts={n: s.n_formula_cells for n, s in scans.items() if s.n_formula_cells},
        sheet_parts=sheet_parts,
    )


def _rebuild(data: bytes, members: list[zipfile.ZipInfo]) -> bytes:
    """A fresh archive of the checked parts: same compressed bytes, consistent headers.

    calamine's zip reader then sees exactly the parts checked here, whatever the
    original file's headers, extra fields, comments or leading bytes said.
    """
    out = io.BytesIO()
    directory = io.BytesIO()
    for member in members:
        name = member.filename.encode("utf-8")
        raw = _raw_bytes(data, member)
        fields = (
            20,  # version needed to extract
            0x800,  # UTF-8 names
            member.compress_type,
            0,  # time
            0x21,  # date: 1980-01-01
            member.CRC,
            len(raw),
            member.file_size,
            len(name),
            0,  # extra field length
        )
        offset = out.tell()
        out.write(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", *fields))
        out.write(name)
        out.write(raw)
        directory.write(
            struct.pack("<4sH", b"PK\x01\x02", 20)
            + struct.pack("<HHHHHIIIHH", *fields)
            + struct.pack("<HHHII", 0, 0, 0, 0, offset)
        )
        directory.write(name)
    start = out.tell()
    listing = directory.getvalue()
    out.write(listing)
    n = len(members)
    out.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, n, n, len(listing), start, 0))
    return out.getvalue()


# --------------------------------------------------------------------------- reading


def _unreadable(error: BaseException) -> InputError:
    # what calamine says (an XML or zip error in Rust's words) means nothing to a
    # clinician; it stays on the exception chain for whoever debugs
    return InputError(
        "The Excel file could not be read: it is damaged, or written in a way this "
        f"reader does not follow. {_SAVE_AGAIN}"
    )


@contextmanager
def _calamine_errors() -> Iterator[None]:
    """Turn whatever calamine raises for a damaged file into one :class:`InputError`."""
    try:
        yield
    except InputError:
        raise
    except Exception as error:  # calamine raises several types for damaged files
        raise _unreadable(error) from error
    except BaseException as error:
        # a Rust panic inside calamine surfaces as pyo3's PanicException, which
        # derives from BaseException and would pass every ``except Exception``
        if type(error).__name__ == "PanicException":
            raise _unreadable(error) from error
        raise


def _grid_size(sheet: Any) -> tuple[int, int]:
    """Rows and columns of the grid ``to_python(skip_empty_area=False)`` returns.

    calamine's ``height`` and ``width`` count only the used area, from the first to
    the last non-empty cell, and ``total_height``/``total_width`` are the 0-based
    index of the last row/column (one less than a count; 0 both for one cell in A1
    and for an empty sheet). The grid read here keeps the empty rows above and the
    empty columns left of the data, so that ``rows[i]`` is spreadsheet row ``i + 1``:
    it has ``end + 1`` rows and columns. A single cell in row 1,048,576 has a height
    of 1 but makes a grid of 1,048,576 rows.
    """
    end = sheet.end
    if end is None:
        return 0, 0
    return int(end[0]) + 1, int(end[1]) + 1


def _check_sheet_size(name: str, n_rows: int, n_columns: int) -> None:
    max_rows = int(LIMITS["max_rows"].value)
    max_columns = int(LIMITS["max_columns"].value)
    if n_rows > max_rows:
        raise InputError(
            f"The sheet '{name}' has {n_rows:,} rows (counting from row 1); "
            f"at most {max_rows:,} are read."
        )
    if n_columns > max_columns:
        raise InputError(
            f"The sheet '{name}' has {n_columns:,} columns (counting from column A); "
            f"at most {max_columns:,} are read."
        )


def _sheet_rows(workbook: Any, name: str, nrows: int | None = None) -> Rows:
    """Read one sheet (or its first ``nrows`` rows), checking its size first."""
    with _calamine_errors():
        sheet = workbook.get_sheet_by_name(name)
        n_rows, n_columns = _grid_size(sheet)
        # checked before to_python: the Python objects cost far more than calamine's cells
        _check_sheet_size(name, n_rows if nrows is None else min(n_rows, nrows), n_columns)
        raw = sheet.to_python(skip_empty_area=False, nrows=nrows)
    return [[None if (isinstance(c, str) and not c.strip()) else c for c in row] for row in raw]


def _formula_issues(checked: _Checked, sheet: str) -> tuple[CellIssue, ...]:
    part = checked.sheet_parts.get(sheet, "")
    cells = checked.formula_cells.get(part, [])
    issues = [
        CellIssue("formula_without_value", _FORMULA_WITHOUT_VALUE, row, column)
        for row, column in cells
    ]
    rest = checked.formula_counts.get(part, 0) - len(cells)
    if rest > 0:
        issues.append(
            CellIssue(
                "formula_without_value",
                f"{rest:,} more formula cells without a saved result, read as empty (not "
                "listed one by one): open the file in Excel, let it calculate, and save it again",
            )
        )
    return tuple(issues)


def read_workbook(data: bytes, filename: str, sheet: str | None = None) -> Grid:
    """Check an uploaded workbook's every part, then read one sheet with calamine.

    Raises
    ------
    InputError
        A file that is not an .xlsx/.xlsm workbook, is damaged, protected with a
        password, too large when expanded, or would make calamine exhaust memory.
    """
    _refuse_other_formats(data, filename.lower())
    members = _open_zip(data)
    _refuse_non_xlsx_zip(members, data)
    _check_declared_sizes(members)
    checked = _check_parts(data, members)
    with _calamine_errors():
        from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

        workbook = CalamineWorkbook.from_filelike(io.BytesIO(checked.clean))
        metadata = list(workbook.sheets_metadata)
        worksheets = [m for m in metadata if m.typ == SheetTypeEnum.WorkSheet]
        visible = [m.name for m in worksheets if m.visible == SheetVisibleEnum.Visible]
        hidden = tuple(m.name for m in worksheets if m.visible != SheetVisibleEnum.Visible)
    if sheet is None:
        if not visible:
            raise InputError("The workbook has no visible worksheet.")
        sheet = visible[0]
    elif sheet not in [m.name for m in worksheets]:
        names = ", ".join(visible) or "none"
        raise InputError(f"There is no sheet '{sheet}' in the workbook (sheets: {names}).")
    rows = _sheet_rows(workbook, sheet)
    others = LazySheets(
        tuple(name for name in visible if name != sheet),
        lambda name, nrows: _sheet_rows(workbook, name, nrows),
    )
    return Grid(
        rows=rows,
        kind="xlsx",
        sheet=sheet,
        sheets=tuple(visible),
        hidden_sheets=hidden,
        other_sheets=others,
        issues=_formula_issues(checked, sheet),
    )
