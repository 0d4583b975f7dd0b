"""Many browser sessions on one server at once, each with its own file.

Used by ``tests/test_concurrency.py`` (a few sessions, in ``make test``) and
``scripts/load_test.py`` (20 sessions, figures in the README). Not a test module.

Each session is a fresh Playwright browser context (its own Streamlit session): it
opens the app, goes to the Data page and uploads a file of its own (the demo cohort
cut to a different number of patients, under its own name), checks that the sidebar
names that file and its patient count, then visits every page through the sidebar,
checking on each that no exception is shown and that the sidebar still shows its own
file and count. One extra session can upload a hostile workbook at the same time; it
must get a refusal on the Data page while the others carry on.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from browser import APP_IDLE, CHROMIUM_ARGS, ROOT, find_chromium, is_outside

from ui.shell import PAGES

DEMO = ROOT / "data" / "sirolimus_demo.csv"
TIMEOUT_MS = 120_000  # for a script run to finish on a loaded 2-core machine
CHECK_MS = 15_000  # for a text to appear once the run is over


@dataclass(frozen=True)
class SessionFile:
    name: str
    data: bytes
    n_patients: int


@dataclass
class SessionResult:
    name: str
    seconds: float = 0.0
    pages: int = 0
    errors: list[str] = field(default_factory=list)


def session_files(count: int) -> list[SessionFile]:
    """``count`` different cohort files: the demo cut to 25, 24, ... patients (at least 6)."""
    lines = DEMO.read_bytes().decode("utf-8").splitlines(keepends=True)
    header_at = next(i for i, line in enumerate(lines) if line.startswith("patient_id,"))
    head, patients = lines[: header_at + 1], lines[header_at + 1 :]
    files = []
    for i in range(count):
        keep = max(len(patients) - i, 6)
        files.append(
            SessionFile(f"cohort_{i + 1:02d}.csv", "".join(head + patients[:keep]).encode(), keep)
        )
    return files


def declared_strings_workbook(unique_count: int = 4_294_967_295) -> bytes:
    """A 2 KB workbook whose shared-strings table declares ``unique_count`` strings.

    Read naively, 4,294,967,295 declared strings make calamine try to allocate about
    100 GB and abort the whole process.
    """
    ns = "http://schemas.openxmlformats.org"
    rel = f"{ns}/officeDocument/2006/relationships"
    parts = {
        "[Content_Types].xml": (
            f'<Types xmlns="{ns}/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats'
            '-officedocument.spreadsheetml.sheet.main+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{ns}/package/2006/relationships"><Relationship Id="rId1" '
            f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{ns}/spreadsheetml/2006/main" xmlns:r="{rel}"><sheets>'
            '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{ns}/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>"
        ),
        "xl/worksheets/sheet1.xml": (
            f'<worksheet xmlns="{ns}/spreadsheetml/2006/main"><sheetData><row r="1">'
            '<c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>'
        ),
        "xl/sharedStrings.xml": (
            f'<sst xmlns="{ns}/spreadsheetml/2006/main" count="1" '
            f'uniqueCount="{unique_count}"><si><t>patient</t></si></sst>'
        ),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, '<?xml version="1.0" encoding="UTF-8"?>' + text)
    return buffer.getvalue()


async def _idle(page: Any, settle_ms: int = 250) -> None:
    await page.wait_for_selector(APP_IDLE, state="attached", timeout=TIMEOUT_MS)
    await page.wait_for_timeout(settle_ms)
    await page.wait_for_selector(APP_IDLE, state="attached", timeout=TIMEOUT_MS)


DATA_PAGE = next(spec for spec in PAGES if spec.url_path == "data")


async def _upload(page: Any, name: str, data: bytes, mime: str) -> None:
    """Upload on the Data page (the home page is the Overview, without an uploader)."""
    nav = page.get_by_test_id("stSidebarNav")
    await nav.get_by_role("link", name=DATA_PAGE.title, exact=True).click()
    await _idle(page)
    dropzone = page.get_by_test_id("stFileUploaderDropzoneInput")
    await dropzone.set_input_files({"name": name, "mimeType": mime, "buffer": data})
    await _idle(page)


async def _check(
    page: Any, result: SessionResult, where: str, expected: list[str], wait_ms: int = CHECK_MS
) -> None:
    """No exception; the sidebar shows this session's file and count, and no other file."""
    exceptions = await page.get_by_test_id("stException").count()
    if exceptions:
        result.errors.append(f"{where}: {exceptions} exception(s) shown")
    bar = page.get_by_test_id("stSidebar")
    for text in expected:
        try:
            await bar.get_by_text(text, exact=True).wait_for(timeout=wait_ms)
        except Exception:  # a timeout: record it, go on with the tour
            result.errors.append(f"{where}: sidebar does not show {text!r}")
    shown = await bar.inner_text()
    others = sorted(set(re.findall(r"cohort_\d\d\.csv", shown)) - {expected[0]})
    if others:
        result.errors.append(f"{where}: sidebar shows another session's file {others}")


async def _one_session(browser: Any, url: str, file: SessionFile, outside: list[str]) -> Any:
    result = SessionResult(file.name)
    started = time.perf_counter()
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    context.on("request", lambda r: outside.append(r.url) if is_outside(r.url) else None)
    try:
        page = await context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        await page.goto(url)
        await _idle(page)
        await _upload(page, file.name, file.data, "text/csv")
        expected = [file.name, f"{file.n_patients} of {file.n_patients} patients"]
        # the upload's read and rerun can queue behind other sessions' work
        await _check(page, result, "after upload", expected, wait_ms=TIMEOUT_MS)
        nav = page.get_by_test_id("stSidebarNav")
        i = PAGES.index(DATA_PAGE)
        for spec in [*PAGES[i + 1 :], *PAGES[: i + 1]]:  # every page, ending on Data
            await nav.get_by_role("link", name=spec.title, exact=True).click()
            await _idle(page)
            await _check(page, result, spec.title, expected)
            result.pages += 1
    except Exception as error:  # a timeout or a closed page: the session failed
        result.errors.append(f"{type(error).__name__}: {str(error).splitlines()[0]}")
    finally:
        await context.close()
    result.seconds = time.perf_counter() - started
    return result


async def _hostile_session(browser: Any, url: str, data: bytes) -> SessionResult:
    result = SessionResult("hostile.xlsx")
    started = time.perf_counter()
    context = await browser.new_context()
    try:
        page = await context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        await page.goto(url)
        await _idle(page)
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        await _upload(page, "hostile.xlsx", data, mime)
        await page.get_by_text("hostile.xlsx could not be used.").wait_for(timeout=TIMEOUT_MS)
        if await page.get_by_test_id("stException").count():
            result.errors.append("an exception was shown after the hostile upload")
        result.pages = 1
    except Exception as error:
        result.errors.append(f"{type(error).__name__}: {str(error).splitlines()[0]}")
    finally:
        await context.close()
    result.seconds = time.perf_counter() - started
    return result


def server_memory_mb(leader_pid: int) -> float:
    """Resident memory (MB) of the server process and every process in its group."""
    total_kb = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.getpgid(int(entry)) != leader_pid:
                continue
            status = Path(f"/proc/{entry}/status").read_text()
        except (OSError, ProcessLookupError):
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total_kb += int(line.split()[1])
    return total_kb / 1024


@dataclass
class LoadRun:
    results: list[SessionResult]
    seconds: float
    peak_server_mb: float
    outside: list[str]

    @property
    def errors(self) -> list[str]:
        return [f"{r.name}: {e}" for r in self.results for e in r.errors]


async def _run(url: str, n_sessions: int, hostile: bool, leader_pid: int | None) -> LoadRun:
    from playwright.async_api import async_playwright

    outside: list[str] = []
    peak = [0.0]
    done = asyncio.Event()

    async def sample_memory() -> None:
        while leader_pid and not done.is_set():
            peak[0] = max(peak[0], server_memory_mb(leader_pid))
            await asyncio.sleep(0.5)

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=find_chromium(), headless=True, args=list(CHROMIUM_ARGS)
        )
        started = time.perf_counter()
        sampler = asyncio.create_task(sample_memory())
        jobs = [_one_session(browser, url, f, outside) for f in session_files(n_sessions)]
        if hostile:
            jobs.append(_hostile_session(browser, url, declared_strings_workbook()))
        results = list(await asyncio.gather(*jobs))
        done.set()
        await sampler
        seconds = time.perf_counter() - started
        await browser.close()
    return LoadRun(results, seconds, peak[0], outside)


def run_sessions(
    url: str, n_sessions: int, *, hostile: bool = True, leader_pid: int | None = None
) -> LoadRun:
    """Run ``n_sessions`` sessions (plus one hostile upload) at once against ``url``."""
    return asyncio.run(_run(url, n_sessions, hostile, leader_pid))
