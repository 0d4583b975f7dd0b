"""Mutation fuzzing of the loader: no untyped exception, no run over 10 s, no crash.

Mutants of the demo files (bytes flipped, inserted, deleted or repeated; hostile
tokens spliced in; for the workbook, the XML parts inside the zip mutated and the
zip rebuilt) are read one by one in a child process, as uploads are. Each must end
in a cohort or in an :class:`~analytics.errors.InputError` raised by the loader
itself: any other exception, a child that dies, or a read over 10 s fails the test.
Hypothesis runs with a fixed seed (``derandomize``) and no example database, so
every run tries the same files.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from corpus import SECONDS, load_in_child, rows_lost
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.errors import ReadAborted
from analytics.reading.isolation import run_isolated

ROOT = Path(__file__).resolve().parent.parent
DEMO_CSV = (ROOT / "data" / "sirolimus_demo.csv").read_bytes()
DEMO_XLSX = (ROOT / "data" / "sirolimus_demo.xlsx").read_bytes()

TOKENS = [
    b'"',
    b'""',
    b"\r",
    b"\n",
    b"\r\n",
    b"\x00",
    b"\x0b",
    b"\x1e",
    b"\xc2\x85",
    b"\xe2\x80\xa8",
    b"\xb5",
    b"\xef\xbb\xbf",
    b",",
    b";",
    b"\t",
    b"<5",
    b">1000",
    b"1e309",
    b"-1e308",
    b"inf",
    b"NaN",
    b"N/A",
    b"#DIV/0!",
    b"11,7",
    b"1.234,5",
    b"=1+1",
    b"(" * 5000,
    b" " * 5000,
    b"9" * 400,
    b"Mean",
    b"MCV (fL) 2",
    b"patient_id",
]
XML_TOKENS = [
    b"<",
    b">",
    b'"',
    b"'",
    b"&amp;",
    b"&#0;",
    b'<c r="XFD1048576"><v>1</v></c>',
    b"<c r='XFD1048576'><v>1</v></c>",
    b'<row r="1048576">',
    b'<dimension ref="A1:XFD1048576"/>',
    b'uniqueCount="4294967295"',
    b"<f>SUM(A1)</f>",
    b'<!DOCTYPE x [<!ENTITY a "aaaa">]>',
    b"<![CDATA[x]]>",
    b'<c r="A1" t="s"><v>999999</v></c>',
    b'<c r="A1" t="e"><v>#N/A</v></c>',
    b'<c r="A1" t="d"><v>not a date</v></c>',
]


@st.composite
def mutated(draw: st.DrawFn, seed: bytes, tokens: list[bytes]) -> bytes:
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        operation = draw(st.sampled_from(["flip", "insert", "delete", "repeat", "token"]))
        if operation == "flip" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif operation == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif operation == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif operation == "repeat":
            piece = data[at : at + draw(st.integers(1, 200))]
            data[at:at] = piece * draw(st.integers(1, 50))
        else:
            data[at:at] = draw(st.sampled_from(tokens))
    return bytes(data)


def _parts(workbook: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(workbook)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


XLSX_PARTS = _parts(DEMO_XLSX)


@st.composite
def mutated_workbook(draw: st.DrawFn) -> bytes:
    parts = dict(XLSX_PARTS)
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from(sorted(parts)))
        parts[name] = draw(mutated(parts[name], XML_TOKENS + TOKENS))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _check(data: bytes, filename: str) -> None:
    try:
        result = run_isolated(load_in_child, data, filename, seconds=SECONDS)
    except ReadAborted as aborted:
        pytest.fail(f"{filename} mutant ({len(data)} bytes): the read was {aborted.reason}-aborted")
    assert result["outcome"] != "bug", (
        f"{filename} mutant ({len(data)} bytes):\n{result['message']}"
    )
    assert not rows_lost(result), f"{filename} mutant ({len(data)} bytes): rows lost: {result}"


FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@FUZZ
@given(mutated(DEMO_CSV, TOKENS))
def test_csv_mutants_are_read_or_refused(data: bytes) -> None:
    _check(data, "mutant.csv")


@FUZZ
@given(mutated(DEMO_XLSX, TOKENS))
def test_xlsx_byte_mutants_are_read_or_refused(data: bytes) -> None:
    _check(data, "mutant.xlsx")


@FUZZ
@given(mutated_workbook())
def test_xlsx_part_mutants_are_read_or_refused(data: bytes) -> None:
    _check(data, "mutant.xlsx")
