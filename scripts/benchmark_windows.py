"""Benchmark: windowing dated results into time points, and loading a dated export.

    python scripts/benchmark_windows.py [N_PATIENTS]   # default 10,000

Each patient has 20 results (hemoglobin, MCV, ferritin and TSAT, five each, from 40
days before the start to 220 days after, each with its own time of day) and a start
date. The windowing step (:func:`analytics.reading.dated.window_dated`: reading every
collection and start date, days since the start, duplicates, the windows 0, 2 and 6
months, every reason for a result not used) is timed on the results as the loader
hands them over, once with the dates as a workbook gives them (date-times) and once as
``dd/mm/yyyy hh:mm`` text. A whole dated CSV export is then loaded (in this process,
and as an upload is, in a child process): 4,999 patients × 20 results, the most rows a
sheet may have. Nothing is written to disk. The figures are recorded in the README.
"""

from __future__ import annotations

import datetime as dt
import io
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analytics.reading.dated import window_dated  # noqa: E402
from analytics.reading.grid import Grid  # noqa: E402
from analytics.reading.isolation import last_read_stats, load_cohort_isolated  # noqa: E402
from analytics.reading.loader import load_cohort  # noqa: E402
from analytics.reading.patient_table import ANCHOR  # noqa: E402
from analytics.reading.state import ReadState  # noqa: E402
from analytics.reading.window_rules import VisitWindows  # noqa: E402

LABS = (
    ("hgb", "HGB", 11.7),
    ("mcv", "MCV", 86.0),
    ("ferritin", "FERRITIN", 150.0),
    ("tsat", "% SATURATION", 20.0),
)
PER_PATIENT = 20
FIRST = dt.datetime(2015, 1, 5)


def results_frame(n_patients: int, seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(results, patients)`` as :func:`analytics.reading.dated.read_dated` hands them over."""
    rng = np.random.default_rng(seed)
    n = n_patients * PER_PATIENT
    patient = np.repeat(np.arange(n_patients), PER_PATIENT)
    lab = np.tile(np.repeat(np.arange(len(LABS)), PER_PATIENT // len(LABS)), n_patients)
    start_day = rng.integers(0, 2000, n_patients)
    day = rng.integers(-40, 220, n)
    minute = rng.integers(6 * 60, 20 * 60, n)
    starts = [FIRST + dt.timedelta(days=int(d)) for d in start_day]
    collected = [
        starts[p] + dt.timedelta(days=int(d), minutes=int(m))
        for p, d, m in zip(patient, day, minute, strict=True)
    ]
    ids = [f"P{p:05d}" for p in range(n_patients)]
    results = pd.DataFrame(
        {
            "patient_id": [ids[p] for p in patient],
            "analyte": [LABS[i][0] for i in lab],
            "name": [LABS[i][1] for i in lab],
            "value": np.round(np.array([LABS[i][2] for i in lab]) * rng.normal(1, 0.1, n), 1),
            "censored": "",
            "unit": "",
            "row": np.arange(n) + 2,
            "column": "Result",
        }
    )
    results["date"] = pd.Series(collected, dtype=object)
    patients = pd.DataFrame({ANCHOR: pd.Series(starts, index=ids, dtype=object)})
    return results, patients


def time_windowing(results: pd.DataFrame, patients: pd.DataFrame, label: str) -> None:
    state = ReadState(Grid(rows=[], kind="csv"))
    roles_date = _roles()
    started = time.perf_counter()
    _, _, windowed = window_dated(
        state, patients, results, roles_date, VisitWindows(), None, first=2
    )
    seconds = time.perf_counter() - started
    print(
        f"window {len(results):,} results of {len(patients):,} patients ({label}): "
        f"{seconds:.2f} s; {windowed.n_used:,} used, {windowed.n_rows - windowed.n_used:,} "
        f"excluded with their reason"
    )


def _roles():
    from analytics.reading.headers import ColumnRole

    return [
        ColumnRole("MRN", "patient_id"),
        ColumnRole("Test", "analyte"),
        ColumnRole("Result", "value"),
        ColumnRole("Collected", "date"),
        ColumnRole("Sirolimus start", "anchor"),
    ]


def export_bytes(n_patients: int) -> bytes:
    results, patients = results_frame(n_patients)
    starts = patients[ANCHOR]
    out = io.StringIO()
    out.write("MRN,Test,Result,Collected,Sirolimus start\n")
    for row in results.itertuples(index=False):
        out.write(
            f"{row.patient_id},{row.name},{row.value},{row.date:%d/%m/%Y %H:%M},"
            f"{starts[row.patient_id]:%d/%m/%Y}\n"
        )
    return out.getvalue().encode()


def main(argv: list[str]) -> int:
    n_patients = int(argv[0]) if argv else 10_000
    results, patients = results_frame(n_patients)
    time_windowing(results.copy(), patients, "dates as a workbook gives them")
    texts = results.assign(
        date=pd.Series([f"{d:%d/%m/%Y %H:%M}" for d in results["date"]], dtype=object)
    )
    anchor_texts = patients.assign(**{ANCHOR: [f"{d:%d/%m/%Y}" for d in patients[ANCHOR]]})
    time_windowing(texts, anchor_texts, "dd/mm/yyyy hh:mm text")
    data = export_bytes(4_999)
    started = time.perf_counter()
    cohort = load_cohort(data, "export.csv")
    seconds = time.perf_counter() - started
    report = cohort.report
    print(
        f"load a dated CSV export of {report.n_rows_in:,} rows ({len(data) / 1e6:.1f} MB): "
        f"{seconds:.2f} s; rows in {report.n_rows_in:,} = used {report.n_rows_used:,} + "
        f"excluded {len(report.excluded):,}"
    )
    load_cohort_isolated(data, "export.csv")
    stats = last_read_stats()
    print(f"  as an upload: {stats.seconds:.2f} s, reader's peak memory {stats.peak_rss_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
