"""The zip package of an uploaded workbook, checked without trusting its headers.

What the file is (a password-protected workbook, an old .xls, an OpenDocument or
Numbers file, a zip that holds no workbook, a truncated zip: each has its own
message); the zip's declared sizes (an honest "zip bomb" is refused at once); every
part inflated for real, in bounded chunks, whatever its headers claim (its real
size, compression ratio and checksum checked as it streams); and a clean copy of the
archive rebuilt from the checked parts for the spreadsheet reader. The XML inside
the parts is checked by :mod:`analytics.reading.xlsx`.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from analytics.errors import InputError
from analytics.limits import LIMITS

_MB = 1024 * 1024

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_WORKBOOK_EXTENSIONS = (".xlsx", ".xlsm", ".xltx", ".xltm", ".xlsb", ".xls", ".ods", ".numbers")

#: Most parts (zip members) in one workbook; an ordinary workbook has a few dozen.
MAX_PARTS = 10_000
#: Compressed bytes handed to zlib at a time, and most bytes it may inflate at once.
IN_CHUNK = 64 * 1024
OUT_CHUNK = 1024 * 1024

SAVE_AGAIN = "Open it in Excel and save it again as .xlsx, then upload that file."

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


def damaged(what: str) -> InputError:
    return InputError(f"The Excel file is damaged: {what}. {SAVE_AGAIN}")


# --------------------------------------------------------------------------- what file


def is_workbook(data: bytes, filename: str) -> bool:
    """Whether the file is to be read (or refused) as a workbook rather than as CSV text."""
    lowered = filename.lower()
    if data[:8] == _OLE_MAGIC or lowered.endswith(_WORKBOOK_EXTENSIONS):
        return True
    return data[:4] in _ZIP_MAGICS and not lowered.endswith(".csv")


def refuse_other_formats(data: bytes, lowered: str) -> None:
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


def open_zip(data: bytes) -> list[zipfile.ZipInfo]:
    # zipfile builds one object per central-directory entry: bound their number
    # first (each entry starts with this signature; counting is linear)
    if data.count(b"PK\x01\x02") > MAX_PARTS:
        raise InputError(
            f"The Excel file has more than {MAX_PARTS:,} parts; it looks malicious and "
            "was not opened."
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.infolist()
    except zipfile.BadZipFile as error:
        if b"PK\x05\x06" not in data[-(1 << 16) - 22 :]:
            raise InputError(_TRUNCATED) from error
        raise damaged("its table of contents cannot be read") from error
    except (OSError, ValueError, EOFError, struct.error, NotImplementedError) as error:
        raise damaged("its table of contents cannot be read") from error


def normalise_name(name: str) -> str:
    """A part's name as calamine looks it up: case-insensitive, ``/`` separated."""
    return name.replace("\\", "/").lower()


def refuse_non_xlsx_zip(members: list[zipfile.ZipInfo], data: bytes) -> None:
    names = {normalise_name(m.filename): m for m in members}
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


def check_declared_sizes(members: list[zipfile.ZipInfo]) -> None:
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
        name = normalise_name(member.filename)
        if name in seen:
            raise damaged(f"the part {member.filename} appears twice")
        seen.add(name)
        if member.flag_bits & 0x1:
            raise InputError(_PASSWORD)
        if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise damaged(
                f"the part {member.filename} is compressed in a way Excel does not use "
                f"(method {member.compress_type})"
            )


def _raw_bytes(data: bytes, member: zipfile.ZipInfo) -> memoryview:
    """The member's compressed bytes, as stored after its local header."""
    offset = member.header_offset
    header = data[offset : offset + 30]
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise damaged(f"the part {member.filename} cannot be found in the file")
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    start = offset + 30 + name_length + extra_length
    end = start + member.compress_size
    if end > len(data):
        raise damaged(f"the part {member.filename} is cut short")
    return memoryview(data)[start:end]


def _inflate(raw: memoryview, member: zipfile.ZipInfo) -> Iterator[bytes]:
    """The member's content in chunks of at most ``OUT_CHUNK`` bytes.

    Nothing here trusts the declared size: the caller counts what comes out.
    """
    if member.compress_type == zipfile.ZIP_STORED:
        for start in range(0, len(raw), OUT_CHUNK):
            yield bytes(raw[start : start + OUT_CHUNK])
        return
    inflater = zlib.decompressobj(-15)
    try:
        for start in range(0, len(raw), IN_CHUNK):
            pending: bytes | memoryview = raw[start : start + IN_CHUNK]
            while pending and not inflater.eof:
                out = inflater.decompress(pending, OUT_CHUNK)
                pending = inflater.unconsumed_tail
                if out:
                    yield out
            if inflater.eof:
                break
        while not inflater.eof:  # output still held back by the chunk limit
            out = inflater.decompress(b"", OUT_CHUNK)
            if not out:
                break
            yield out
    except zlib.error as error:
        raise damaged(f"the part {member.filename} cannot be decompressed") from error
    if not inflater.eof:
        raise damaged(f"the part {member.filename} is cut short")


def _read_member(data: bytes, member: zipfile.ZipInfo, most: int) -> bytes:
    """At most ``most`` bytes of a small member (used before the full checks)."""
    out = b""
    for chunk in _inflate(_raw_bytes(data, member), member):
        out += chunk
        if len(out) >= most:
            break
    return out[:most]


@dataclass
class PartTotal:
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


def stream_member(data: bytes, member: zipfile.ZipInfo, total: PartTotal) -> Iterator[bytes]:
    """The member's content, checked against its declared size and checksum as it streams."""
    size = crc = 0
    for chunk in _inflate(_raw_bytes(data, member), member):
        size += len(chunk)
        total.add(len(chunk))
        if size > member.file_size:
            raise damaged(f"the part {member.filename} is larger than the file says")
        crc = zlib.crc32(chunk, crc)
        yield chunk
    if size != member.file_size:
        raise damaged(f"the part {member.filename} is smaller than the file says")
    if crc != member.CRC:
        raise damaged(f"the part {member.filename} fails its checksum")


#: Bytes of checked parts handed to calamine as they are (stored, not compressed), so
#: that it does not inflate them again (a tenth of its reading time); beyond this the
#: parts go compressed, so that a large sheet is not held expanded twice in memory.
STORED_BUDGET = 32 * _MB


class InflatedParts(dict[str, bytearray]):
    """Parts inflated for the checks, by name, kept up to ``budget`` bytes in all."""

    def __init__(self, budget: int | None = None) -> None:
        super().__init__()
        self.budget = STORED_BUDGET if budget is None else budget
        self.size = 0

    def keep(self, name: str, content: bytearray) -> None:
        """Keep the part's bytes if they fit in what is left of the budget."""
        if self.size + len(content) <= self.budget:
            self[name] = content
            self.size += len(content)


def rebuild(
    data: bytes, members: list[zipfile.ZipInfo], inflated: dict[str, bytearray] | None = None
) -> bytes:
    """A fresh archive of the checked parts, with consistent headers: the same compressed
    bytes, or for a part in ``inflated`` (by name) the very bytes checked, stored.

    calamine's zip reader then sees exactly the parts checked here, whatever the
    original file's headers, extra fields, comments or leading bytes said.
    """
    out = io.BytesIO()
    directory = io.BytesIO()
    for member in members:
        name = member.filename.encode("utf-8")
        content = inflated.get(member.filename) if inflated else None
        raw = _raw_bytes(data, member) if content is None else content
        fields = (
            20,  # version needed to extract
            0x800,  # UTF-8 names
            member.compress_type if content is None else zipfile.ZIP_STORED,
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
