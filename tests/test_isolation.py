"""Reading in a child process: crashes, memory and time limits cost only the upload."""

from __future__ import annotations

import ctypes
import io
import os
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sessions import declared_strings_workbook

from analytics import InputError, load_cohort
from analytics.errors import ReadAborted
from analytics.reading.isolation import (
    header_columns_isolated,
    last_read_stats,
    load_cohort_isolated,
    run_isolated,
)

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "sirolimus_demo.csv"
DEMO_XLSX = ROOT / "data" / "sirolimus_demo.xlsx"


def _calamine_read_unguarded(data: bytes) -> int:
    """Read a workbook with calamine directly, skipping every check done before it."""
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    sheet = workbook.get_sheet_by_name(workbook.sheet_names[0])
    return len(sheet.to_python())


def test_isolated_read_gives_the_same_cohort_as_the_loader():
    data = DEMO.read_bytes()
    here = load_cohort(data, DEMO.name)
    there = load_cohort_isolated(data, DEMO.name)
    pd.testing.assert_frame_equal(there.patients, here.patients)
    pd.testing.assert_frame_equal(there.labs, here.labs)
    assert there.report == here.report
    assert there.source == here.source
    stats = last_read_stats()
    assert stats is not None and stats.seconds > 0 and stats.peak_rss_mb > 0


def test_isolated_read_passes_sheet_and_mapping():
    data = DEMO_XLSX.read_bytes()
    here = load_cohort(data, DEMO_XLSX.name, sheet="cohort", mapping={"epo": "ignore"})
    there = load_cohort_isolated(data, DEMO_XLSX.name, sheet="cohort", mapping={"epo": "ignore"})
    assert there.patients["epo"].isna().all()
    pd.testing.assert_frame_equal(there.patients, here.patients)


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "empty.csv", "The file is empty."),
        (b"a,b\n1,2\n", "x.csv", "No patient ID column was found."),
    ],
)
def test_the_loaders_refusals_come_through_unchanged(data, name, message):
    with pytest.raises(InputError) as isolated:
        load_cohort_isolated(data, name)
    with pytest.raises(InputError) as direct:
        load_cohort(data, name)
    assert str(isolated.value) == str(direct.value)
    assert str(isolated.value).startswith(message)


@pytest.mark.parametrize(
    ("call", "reason", "message"),
    [
        # 3 GB of float64: Python's allocation fails -> MemoryError in the child
        (
            (np.ones, 3 * 2**30 // 8),
            "memory",
            r"needs more memory than the dashboard allows .*2,048 MB",
        ),
        # what a native reader does when an allocation fails under the limit
        ((os.abort,), "memory", "needs more memory than the dashboard allows"),
        ((ctypes.string_at, 0), "crash", r"the reader stopped \(it crashed, SIGSEGV\)"),
    ],
    ids=["memory-error", "abort", "segfault"],
)
def test_a_child_that_fails_is_refused_in_words(call, reason, message):
    with pytest.raises(ReadAborted, match=message) as raised:
        run_isolated(*call)
    assert raised.value.reason == reason
    assert isinstance(raised.value, InputError)  # the pages show every InputError


def test_a_child_that_takes_too_long_is_stopped():
    started = time.perf_counter()
    with pytest.raises(
        ReadAborted, match=r"took longer than the dashboard allows \(1 s\)"
    ) as raised:
        run_isolated(time.sleep, 30, seconds=1)
    assert raised.value.reason == "time"
    assert time.perf_counter() - started < 10


def test_calamine_aborting_on_a_declared_string_count_costs_only_the_child():
    # Without the checks made before parsing, this 2 KB workbook makes calamine
    # allocate ~100 GB for 4,294,967,295 declared strings and abort the process.
    bomb = declared_strings_workbook(4_294_967_295)
    assert len(bomb) < 3000
    with pytest.raises(ReadAborted, match="needs more memory than the dashboard allows"):
        run_isolated(_calamine_read_unguarded, bomb)
    # the same workbook declaring its true count reads
    assert run_isolated(_calamine_read_unguarded, declared_strings_workbook(1)) == 1


def test_other_reads_go_on_while_one_child_hangs():
    hung: list[BaseException] = []

    def hang() -> None:
        try:
            run_isolated(time.sleep, 20, seconds=8)
        except InputError as error:
            hung.append(error)

    thread = threading.Thread(target=hang)
    thread.start()
    try:
        time.sleep(0.5)
        started = time.perf_counter()
        cohort = load_cohort_isolated(DEMO.read_bytes(), DEMO.name)
        elapsed = time.perf_counter() - started
        assert cohort.n_patients == 25
        assert thread.is_alive(), "the hanging read should still be running"
        assert elapsed < 5
    finally:
        thread.join(30)
    assert hung and "took longer" in str(hung[0])


def test_header_columns_of_a_refused_file_are_read_in_a_child():
    assert header_columns_isolated(b"Subj,MCV start\nA,80\n", "x.csv") == ["Subj", "MCV start"]
    assert header_columns_isolated(declared_strings_workbook(4_294_967_295), "x.xlsx") == []
