"""Reading CSV text into a :class:`~analytics.reading.grid.Grid`, line by physical line.

The encoding (UTF-8 with or without BOM, UTF-16 with BOM, cp1252/latin-1), the
delimiter (``,`` ``;`` tab) and the decimal comma are sniffed from a bounded
prefix. Rows are physical lines (ending at ``\r\n``, ``\n`` or ``\r`` only), so the
row numbers in every message are the lines of the file: a quoted cell with line
breaks is read as one cell of the row where it starts, and its further lines are
kept as empty continuation rows. Control characters and bytes that are not UTF-8
are replaced inside their cell and reported with row and column
(:attr:`~analytics.reading.grid.Grid.issues`); a quotation mark that is never closed, or
that swallows rows, is refused naming the row where it opens.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections import Counter
from collections.abc import Iterator

from analytics.errors import InputError
from analytics.limits import LIMITS
from analytics.reading.grid import CellIssue, Grid, IssueBuffer, Rows

__all__ = ["read_csv"]


# Characters that do not belong in a table cell: the C0 controls but tab, CR and LF;
# DEL; the C1 controls U+0080-U+009F (NEL U+0085 among them); the Unicode line and
# paragraph separators. str.splitlines() breaks lines at several of them; here they
# stay inside their cell and are replaced by a space, with a warning.
_CONTROL_CHARS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029"
_CONTROL_RE = re.compile(f"[{_CONTROL_CHARS}]")
# U+DC80-U+DCFF: what the "surrogateescape" error handler decodes a byte that is not
# UTF-8 to (0xB5 becomes U+DCB5); :func:`read_csv` shows each one as U+FFFD.
_ESCAPED_BYTE_RE = re.compile("[\udc80-\udcff]")
_SUSPECT_RE = re.compile(f"[{_CONTROL_CHARS}\udc80-\udcff]")
# The ASCII bytes that are never suspect (printable, tab, CR, LF): deleting them from an
# ASCII chunk's bytes is a faster test than the regular expression.
_PLAIN_ASCII = bytes([9, 10, 13, *range(32, 127)])
# A character decoded from a valid UTF-8 multi-byte sequence (not ASCII, not an escape).
_UTF8_CHAR_RE = re.compile("[^\x00-\x7f\udc80-\udcff]")
_CONTROL_NAMES = {
    "\x00": "null character",
    "\x0b": "vertical tab",
    "\x0c": "form feed",
    "\x1a": "Ctrl+Z end-of-file mark",
    "\x1b": "escape",
    "\x7f": "delete",
    "\x85": "next line",
    "\u2028": "line separator",
    "\u2029": "paragraph separator",
}
_SPECIAL_CP1252 = {0xA0: "a no-break space", 0xAD: "a soft hyphen"}
# A file whose undecodable bytes are at least this many, and more than this many
# times its UTF-8 characters, is refused rather than read as UTF-8 (see _decode).
_MIXED_MIN_BYTES = 20
_MIXED_RATIO = 10


def _decode(data: bytes) -> tuple[str, str]:
    """The text of a CSV file and the name of its encoding.

    * A UTF-8 byte-order mark: UTF-8. A UTF-16 byte-order mark: UTF-16, and bytes
      that are not UTF-16 are an :class:`InputError` naming the row.
    * Valid UTF-8 throughout: UTF-8.
    * Not valid UTF-8 and not a single valid UTF-8 multi-byte sequence (every byte
      above 0x7F stands alone): a genuine Windows-1252 export (Latin-1 if it has
      bytes Windows-1252 leaves undefined). Read as such: no character is lost.
    * Valid UTF-8 sequences *and* bytes that are not UTF-8 (a UTF-8 file with a few
      characters typed or pasted in Windows-1252), or a UTF-8 byte-order mark with
      such bytes: UTF-8, each undecodable byte kept as a stand-in U+DC80 + byte
      ("surrogateescape"), which :func:`read_csv` shows as U+FFFD and reports per
      cell with the byte and what it would be in Windows-1252. Reading the whole file
      as Windows-1252 instead would turn every UTF-8 character into mojibake in
      silence (``µg/L`` into ``Âµg/L``).
    * Refused, naming the first bad row: at least 20 undecodable bytes and more than
      ten times as many as UTF-8 characters. Such a file is mostly in another
      encoding with a few UTF-8 characters (or characters that only look like UTF-8),
      so neither reading shows its cells right, and the clinician is asked to save it
      as "CSV UTF-8".

    The returned text may hold the U+DC80-U+DCFF stand-ins (UTF-8 only).
    """
    if data.startswith(b"\xef\xbb\xbf"):
        body = data[3:]
        try:
            return body.decode("utf-8"), "UTF-8 (with BOM)"
        except UnicodeDecodeError:
            text = body.decode("utf-8", "surrogateescape")
        return _partly_utf8(text, "UTF-8 (with BOM; some bytes not UTF-8)", marked=True)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _decode_utf16(data), "UTF-16"
    if b"\x00" in data[:4096]:
        raise InputError("This does not look like a text (CSV) file: it contains binary data.")
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", "surrogateescape")
    if _UTF8_CHAR_RE.search(text) is None:  # no valid multi-byte sequence at all
        del text
        try:
            return data.decode("cp1252"), "Windows-1252"
        except UnicodeDecodeError:
            return data.decode("latin-1"), "Latin-1"
    return _partly_utf8(text, "UTF-8 (some bytes not UTF-8)", marked=False)


def _count_up_to(pattern: re.Pattern[str], text: str, cap: int) -> int:
    return sum(1 for _ in itertools.islice(pattern.finditer(text), cap))


def _partly_utf8(text: str, label: str, *, marked: bool) -> tuple[str, str]:
    """UTF-8 text with undecodable bytes, or an :class:`InputError` (see :func:`_decode`)."""
    cap = 1000
    n_utf8 = _count_up_to(_UTF8_CHAR_RE, text, cap)
    n_bad = _count_up_to(_ESCAPED_BYTE_RE, text, _MIXED_RATIO * cap + 1)
    if n_bad < _MIXED_MIN_BYTES or n_bad <= _MIXED_RATIO * n_utf8:
        return text, label
    first = _ESCAPED_BYTE_RE.search(text)
    assert first is not None
    row = _row_at(text, first.start())
    byte = ord(first.group()) - 0xDC00
    here = f"the first here: byte 0x{byte:02X}, {_cp1252_guess(byte)}"
    if marked or n_utf8 == 0:
        problem = (
            f"the file is marked as UTF-8 text, but many of its bytes are not UTF-8 ({here}), "
            "so it was probably saved in another encoding"
        )
    else:
        utf8 = _UTF8_CHAR_RE.search(text)
        assert utf8 is not None
        problem = (
            "the file mixes two text encodings: most of its accented characters and "
            f"symbols are not UTF-8 ({here}) but some are (the first in row "
            f"{_row_at(text, utf8.start()):,}), so no single reading shows every cell right"
        )
    raise InputError(
        f"Row {row:,}: {problem}. In Excel, use Save As > 'CSV UTF-8', and upload that file."
    )


def _decode_utf16(data: bytes) -> str:
    try:
        return data.decode("utf-16")
    except UnicodeDecodeError as error:
        before = data[: error.start].decode("utf-16", errors="replace")
        row = _row_at(before, len(before))
        raise InputError(
            f"Row {row:,}: the file is marked as UTF-16 text (it starts with a UTF-16 "
            f"byte-order mark), but from byte {error.start:,} on it is not UTF-16 (cut off, "
            "or another file joined to it?). In Excel, use Save As > 'CSV UTF-8', and "
            "upload that file."
        ) from None


def _cp1252_guess(byte: int) -> str:
    """What a byte that is not UTF-8 would be in Windows-1252, in words."""
    if byte in _SPECIAL_CP1252:
        return f"in Windows-1252 {_SPECIAL_CP1252[byte]}"
    try:
        return f"in Windows-1252 '{bytes([byte]).decode('cp1252')}'"
    except UnicodeDecodeError:
        return "not a character in Windows-1252 either"


def _count_breaks(text: str) -> int:
    """The line breaks (``\\r\\n``, ``\\n``, ``\\r``) in ``text``."""
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def _row_at(text: str, position: int) -> int:
    """The 1-based physical row of ``text`` that holds ``position``."""
    return _count_breaks(text[:position]) + 1


_BREAK_RE = re.compile("[\r\n]")
# One physical line with its line end, or a last line without one. Linear: the
# character class and the line end cannot match the same character.
_LINE_RE = re.compile("[^\r\n]*(?:\r\n|[\r\n])|[^\r\n]+")
_LINE_BLOCK_CHARS = 1 << 18


class _Lines:
    """The physical lines of ``text``, each with its line end, counted as they are read.

    A line ends only at ``\\r\\n``, ``\\n`` or ``\\r``. (``str.splitlines()`` also
    breaks at ``\\v``, ``\\f``, ``\\x1c``-``\\x1e``, U+0085, U+2028 and U+2029; a stray
    one inside a cell would add a phantom row and shift every row below it.) The text
    is split a block of about 256 K characters at a time, so a reader that stops early
    (at the row limit) has split only a block beyond its last line.

    ``count`` is the number of lines handed out so far, ``suspect`` the numbers of
    those holding a control character or an undecodable byte (see :data:`_SUSPECT_RE`),
    ``exhausted`` whether the text has run out.
    """

    def __init__(self, text: str, block: int = _LINE_BLOCK_CHARS) -> None:
        self.text = text
        self.block = block
        self.count = 0
        self.suspect: set[int] = set()
        self.exhausted = False

    def __iter__(self) -> Iterator[str]:
        for chunk in _line_blocks(self.text, self.block):
            if not _has_suspect(chunk):
                # nothing splitlines() breaks at but "\r\n", "\n" and "\r"
                for line in chunk.splitlines(keepends=True):
                    self.count += 1
                    yield line
            else:
                for line in _LINE_RE.findall(chunk):
                    self.count += 1
                    if _SUSPECT_RE.search(line) is not None:
                        self.suspect.add(self.count)
                    yield line
        self.exhausted = True


def _has_suspect(chunk: str) -> bool:
    """Whether ``chunk`` holds a control character or an undecodable byte."""
    if chunk.isascii():
        return bool(chunk.encode("ascii").translate(None, _PLAIN_ASCII))
    return _SUSPECT_RE.search(chunk) is not None


def _line_blocks(text: str, block: int) -> Iterator[str]:
    """``text`` in pieces of about ``block`` characters, each cut just after a line end."""
    start, n = 0, len(text)
    while start < n:
        cut = n
        if n - start > 2 * block:
            found = _BREAK_RE.search(text, start + block)
            if found is not None:
                cut = found.end()
                if found.group() == "\r" and text.startswith("\n", cut):
                    cut += 1  # never between the two characters of "\r\n"
        yield text[start:cut]
        start = cut


def _iter_lines(text: str, block: int = _LINE_BLOCK_CHARS) -> Iterator[str]:
    """The physical lines of ``text`` with their line ends (see :class:`_Lines`)."""
    return iter(_Lines(text, block))


_SNIFF_CHARS = 1 << 16  # less than the csv module's field limit: no cell is too long here
_SNIFF_LINES = 60


def _sniff_delimiter(text: str) -> tuple[str, int]:
    """The delimiter, and the typical number of cells in a row.

    Read from the first 60 lines within the first 64 K characters of ``text``.
    An Excel ``sep=;`` first line names the delimiter.
    """
    head = itertools.islice(_iter_lines(text[:_SNIFF_CHARS]), _SNIFF_LINES)
    lines = [line for line in head if line.strip()]
    first = lines[0].rstrip("\r\n") if lines else ""
    if first.lower().startswith("sep=") and len(first) == 5:
        return first[4], _typical_width(lines[1:], first[4])[0]
    best, best_score, best_width = ",", -1, 0
    for delimiter in (",", ";", "\t"):
        width, agree = _typical_width(lines, delimiter)
        if not agree:
            continue
        score = agree * 1000 + width
        if score > best_score:
            best, best_score, best_width = delimiter, score, width
    return best, best_width


def _typical_width(lines: list[str], delimiter: str) -> tuple[int, int]:
    """The most common number of cells among rows of more than one, and how many have it."""
    try:
        multi = [n for n in map(len, csv.reader(lines, delimiter=delimiter)) if n > 1]
    except csv.Error:
        return 0, 0
    if not multi:
        return 0, 0
    return Counter(multi).most_common(1)[0]


# Matched on a stripped cell of at most _NUMBER_CHARS characters: a short input, and
# no two parts of the pattern can match the same characters, so no backtracking blow-up.
_DECIMAL_COMMA_RE = re.compile(r"[<>]?\s*[+-]?\d+,\d+(?:\s*[^\d,;\s][^\d,;]*)?")
_DECIMAL_POINT_RE = re.compile(r"[<>]?\s*[+-]?\d+\.\d+(?:\s*[^\d,;\s][^\d,;]*)?")
_NUMBER_CHARS = 100


def _sniff_decimal_comma(rows: list[list[object]], delimiter: str) -> bool:
    if delimiter == ",":
        return False
    comma = point = 0
    for row in rows[:500]:
        for cell in row:
            if isinstance(cell, str):
                text = cell.strip()
                if len(text) > _NUMBER_CHARS:
                    continue
                if _DECIMAL_COMMA_RE.fullmatch(text):
                    comma += 1
                elif _DECIMAL_POINT_RE.fullmatch(text):
                    point += 1
    return comma > point


def read_csv(data: bytes) -> Grid:
    """Read CSV bytes into a grid of physical rows.

    ``rows[i]`` is always physical line ``i + 1`` of the file. A record whose quoted
    cell holds line breaks is a row at its first line; its further lines are empty
    rows listed in :attr:`Grid.continuation_rows`, and each such cell gets a note. A
    quotation mark that is never closed, or that swallows lines looking like rows of
    the table, is an :class:`InputError` naming the row where it opened. Control
    characters and undecodable bytes in a cell are replaced (by a space, by U+FFFD)
    and reported with row and column in :attr:`Grid.issues`.
    """
    text, encoding = _decode(data)
    text = text.lstrip("\ufeff")
    delimiter, width = _sniff_delimiter(text)
    # a line inside a quoted cell with this many delimiters looks like a row of the table
    row_like = max(width - 2, 2)
    lines = _Lines(text)
    source = iter(lines)
    first = next(source, None)
    # a "sep=;" line (Excel's hint) is kept as an empty row 1, so row numbers still match
    head = [] if first is None else ["" if first.lower().startswith("sep=") else first]
    feed = itertools.chain(head, source)
    max_rows = int(LIMITS["max_rows"].value)
    max_columns = int(LIMITS["max_columns"].value)
    too_many_rows = f"The sheet has more than {max_rows:,} rows; at most {max_rows:,} are read."
    rows: Rows = []
    issues = IssueBuffer()
    continuation: dict[int, int] = {}
    suspect = lines.suspect
    try:
        # the limits are checked row by row: a huge file stops at the first row too many
        for record in csv.reader(feed, delimiter=delimiter, strict=False):
            start = len(rows) + 1  # the physical row where this record starts
            if start > max_rows:
                raise InputError(too_many_rows)
            if len(record) > max_columns and not lines.exhausted:
                raise InputError(
                    f"The sheet has {len(record):,} columns (row {start:,}); "
                    f"at most {max_columns:,} are read."
                )
            end = lines.count  # the physical row where it ends
            if end == start and not lines.exhausted and not (suspect and start in suspect):
                rows.append([cell if cell.strip() else None for cell in record])
                continue
            if lines.exhausted:  # the csv module ran out of lines inside a quoted cell
                raise _unclosed_quote(record, start)
            record = _inspect_record(record, start, end, suspect, delimiter, row_like, issues)
            rows.append([cell if cell.strip() else None for cell in record])
            for index in range(start, end):
                rows.append([])
                continuation[index] = start - 1
            if len(rows) > max_rows:
                raise InputError(too_many_rows)
    except csv.Error as error:  # e.g. a field larger than the csv module's limit
        raise _csv_error(error, text, len(rows) + 1, lines.count, delimiter) from None
    return Grid(
        rows=rows,
        kind="csv",
        encoding=encoding,
        delimiter=delimiter,
        decimal_comma=_sniff_decimal_comma(rows, delimiter),
        issues=tuple(issues.kept),
        omitted_issues=issues.omitted(),
        continuation_rows=continuation,
    )


def _inspect_record(
    record: list[str],
    start: int,
    end: int,
    suspect: set[int],
    delimiter: str,
    row_like: int,
    issues: IssueBuffer,
) -> list[str]:
    """Clean and check a record that spans lines or holds suspect characters.

    Each cell is located at the physical row where it starts (``start`` plus the line
    breaks of the cells before it).
    """
    if end == start:  # one line: only suspect characters to clean
        cleaned = list(record)
        for column in _suspect_columns(record):
            cleaned[column] = _clean_cell(record[column], start, column, issues)
        return cleaned
    check = any(n in suspect for n in range(start, end + 1))
    out: list[str] = []
    row = start
    for column, cell in enumerate(record):
        if check and _SUSPECT_RE.search(cell) is not None:
            cell = _clean_cell(cell, row, column, issues)
        breaks = _count_breaks(cell) if "\n" in cell or "\r" in cell else 0
        if breaks:
            cell = cell.replace("\r\n", "\n").replace("\r", "\n")
            _check_swallowed(cell, row, delimiter, row_like)
            belongs = f" (part of the row that starts in row {start:,})" if row > start else ""
            issues.append(
                CellIssue(
                    "line_break_in_cell",
                    f"this cell holds line breaks inside quotation marks{belongs}: its text "
                    f"runs from row {row:,} to row {row + breaks:,} and was read as one cell, "
                    f"as Excel does; {_rows_text(row + 1, row + breaks)} of the file "
                    f"{'are' if breaks > 1 else 'is'} part of it",
                    row,
                    column,
                    "note",
                )
            )
            row += breaks
        out.append(cell)
    return out


def _suspect_columns(record: list[str]) -> list[int]:
    """The cells of a one-line record that hold a suspect character.

    The cells are joined by "\n" (which a one-line record's cells cannot hold) and
    searched once per cell found, skipping to the next cell after each hit.
    """
    joined = "\n".join(record)
    columns: list[int] = []
    pos = column = 0
    while (found := _SUSPECT_RE.search(joined, pos)) is not None:
        column += joined.count("\n", pos, found.start())
        columns.append(column)
        pos = joined.find("\n", found.end()) + 1
        if pos == 0:
            break
        column += 1
    return columns


def _rows_text(first: int, last: int) -> str:
    return f"row {first:,}" if first == last else f"rows {first:,} to {last:,}"


def _clean_cell(cell: str, row: int, column: int, issues: IssueBuffer) -> str:
    """Show undecodable bytes as U+FFFD and replace control characters by a space."""
    escaped = sorted({ord(c) - 0xDC00 for c in _ESCAPED_BYTE_RE.findall(cell)})
    controls = sorted(set(_CONTROL_RE.findall(cell)))
    cell = _CONTROL_RE.sub(" ", _ESCAPED_BYTE_RE.sub("\ufffd", cell))
    preview = " ".join(cell.split())
    preview = preview if len(preview) <= 40 else preview[:39] + "…"
    if escaped:
        shown = ", ".join(f"0x{b:02X}" for b in escaped[:5])
        guesses = "; ".join(f"0x{b:02X} is {_cp1252_guess(b)}" for b in escaped[:5])
        if len(escaped) == 1:
            what = f"a byte that is not UTF-8 text ({shown}) is shown as '\ufffd'"
        else:
            what = f"bytes that are not UTF-8 text ({shown}) are shown as '\ufffd'"
        issues.append(
            CellIssue(
                "undecodable_byte",
                f"{what}, so the cell reads '{preview}' ({guesses}: the file probably "
                "mixes two encodings). Retype the character in this cell, "
                "or save the file from Excel as 'CSV UTF-8' and upload it again",
                row,
                column,
            )
        )
    if controls:
        names = ", ".join(
            f"U+{ord(c):04X} {_CONTROL_NAMES.get(c, 'control character')}" for c in controls[:5]
        )
        what = (
            f"an invisible control character ({names}) was"
            if len(controls) == 1
            else f"invisible control characters ({names}) were"
        )
        issues.append(
            CellIssue(
                "control_character",
                f"{what} replaced by a space, so the cell reads '{preview}'; check this cell "
                "in the file and delete the character if the value should read differently",
                row,
                column,
            )
        )
    return cell


def _check_swallowed(cell: str, row: int, delimiter: str, row_like: int) -> None:
    """Refuse a quoted cell whose further lines look like rows of the table.

    A further line of the cell (the last one only up to the closing quote) holding
    ``row_like`` delimiters or more (the typical row's delimiters minus one, at least
    2) is most likely a row that a stray quotation mark swallowed.
    """
    lines = cell.split("\n")
    swallowed = [row + i for i, line in enumerate(lines) if i and line.count(delimiter) >= row_like]
    if not swallowed:
        return
    last = row + len(lines) - 1
    looks = "which looks like a row" if len(swallowed) == 1 else "which look like rows"
    raise InputError(
        f'Row {row:,}: a quotation mark (") opens a cell here that is closed only in row '
        f"{last:,}, so {_rows_listed(swallowed)}, {looks} of the table, would be read as "
        "part of that one cell. Remove the stray quote (or close it where the cell should "
        "end), and save again."
    )


def _rows_listed(numbers: list[int]) -> str:
    """``row 6``, ``rows 6 and 8``, ``rows 6 to 9``, ``rows 6, 8, 10 and 3 more``."""
    if len(numbers) == 1:
        return f"row {numbers[0]:,}"
    if len(numbers) > 2 and numbers[-1] - numbers[0] == len(numbers) - 1:
        return f"rows {numbers[0]:,} to {numbers[-1]:,}"
    shown = [f"{n:,}" for n in numbers[:8]]
    if len(numbers) > 8:
        return f"rows {', '.join(shown)} and {len(numbers) - 8:,} more"
    return f"rows {', '.join(shown[:-1])} and {shown[-1]}"


def _unclosed_quote(record: list[str], start: int) -> InputError:
    # the cell still open is the record's last; it opened where the cells before it end
    row = start + sum(_count_breaks(cell) for cell in record[:-1])
    return InputError(
        f'Row {row:,}: a quotation mark (") opens a cell here and is never closed, so the '
        "rest of the file would be read as one cell. Remove the stray quote or close it, "
        "and save again."
    )


def _csv_error(error: csv.Error, text: str, start: int, end: int, delimiter: str) -> InputError:
    """A clinician's message for what the csv module raised in rows ``start`` to ``end``."""
    if "field larger than field limit" not in str(error):
        return InputError(
            f"Row {end:,}: the CSV file could not be read ({error}). Open it in Excel, save "
            "it again as CSV, and upload it again."
        )
    limit = csv.field_size_limit()
    if end > start:  # a quoted cell ran over several lines
        record = list(itertools.islice(_iter_lines(text), start - 1, end))
        opened = _open_quote_row(record, start, delimiter)
        return InputError(
            f"Row {opened:,}: a cell is longer than {limit:,} characters: a quotation mark "
            f'(") opens it here and it is still not closed in row {end:,} (a missing closing '
            "quote, or not a table?). Remove the stray quote or close it, and save again."
        )
    return InputError(
        f"Row {end:,}: a cell is longer than {limit:,} characters, far more than a table "
        "cell holds (a missing closing quote, or not a table?). Check that this is the file "
        "you meant to upload, saved from Excel as CSV."
    )


def _open_quote_row(lines: list[str], start: int, delimiter: str) -> int:
    """The row where the quoted cell still open at the end of ``lines`` opened.

    ``lines`` are one record's physical lines from row ``start``, read as the csv module
    reads them (``strict=False``: a quote opens a cell only as its first character).
    Each step is a ``str.find``, so a long record is scanned in linear time.
    """
    text = "".join(lines)
    pos = 0
    while pos < len(text):
        if text.startswith('"', pos):  # a quoted cell: find its closing quote
            opened, pos = pos, pos + 1
            while True:
                close = text.find('"', pos)
                if close < 0:
                    return start + _row_at(text, opened) - 1
                if not text.startswith('"', close + 1):
                    break
                pos = close + 2  # a doubled quote inside the cell
            pos = close + 1
        found = text.find(delimiter, pos)  # the rest of the cell is read as it is
        if found < 0:
            break
        pos = found + 1
    return start
