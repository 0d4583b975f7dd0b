"""Benchmark: how long a 10,000-patient wide file takes to load (CSV and XLSX).

Run ``make bench`` (or ``python scripts/benchmark_loader.py [N_PATIENTS]``). The
files are generated in memory with the demo's columns and realistic noise
(``<5``, ``N/A``, blanks); nothing is written to disk. The target is under 3 s
per file on a 2-core machine; the figures are recorded in the README.
"""

from __future__ import annotations

import io
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import xlsxwriter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analytics import load_cohort

LABS = [
    ("Hgb (g/dL)", 11.7, 1.7),
    ("MCV (fL)", 86.0, 6.0),
    ("TSAT (%)", 20.0, 8.0),
    ("Ferritin (ng/mL)", 150.0, 80.0),
    ("Hepcidin (ng/mL)", 35.0, 15.0),
]
TIMES = ["0", "2w", "1", "2", "6"]


def make_rows(n_patients: int, seed: int = 1) -> list[list[object]]:
    rng = np.random.default_rng(seed)
    header = ["patient_id", "cohort", "sex", "age", "iron_therapy", "epo"]
    header += [f"{lab} {t}" for lab, _, _ in LABS for t in TIMES]
    rows: list[list[object]] = [["Benchmark cohort (synthetic)"], [], header]
    for i in range(n_patients):
        row: list[object] = [
            f"B{i:05d}",
            "retrospective" if i % 2 else "prospective",
            "F" if rng.random() < 0.5 else "M",
            int(rng.integers(2, 80)),
            "Yes" if rng.random() < 0.3 else "No",
            "No",
        ]
        for _lab, mean, sd in LABS:
            for _t in TIMES:
                u = rng.random()
                if u < 0.02:
                    row.append("N/A")
                elif u < 0.03:
                    row.append("<5")
                elif u < 0.05:
                    row.append(None)
                else:
                    row.append(round(max(float(rng.normal(mean, sd)), 1.0), 1))
        rows.append(row)
    return rows


def to_csv(rows: list[list[object]]) -> bytes:
    lines = [",".join("" if c is None else str(c) for c in row) for row in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def to_xlsx(rows: list[list[object]]) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    sheet = workbook.add_worksheet("cohort")
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            if cell is not None:
                sheet.write(r, c, cell)
    workbook.close()
    return buffer.getvalue()


def time_load(data: bytes, name: str, repeats: int = 3) -> tuple[float, int]:
    seconds = []
    patients = 0
    for _ in range(repeats):
        start = time.perf_counter()
        cohort = load_cohort(data, name)
        seconds.append(time.perf_counter() - start)
        patients = cohort.n_patients
    return statistics.median(seconds), patients


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    rows = make_rows(n)
    files = {"csv": to_csv(rows), "xlsx": to_xlsx(rows)}
    print(f"{n:,} patients, {len(rows[2])} columns ({len(LABS) * len(TIMES)} lab columns)")
    for kind, data in files.items():
        seconds, patients = time_load(data, f"bench.{kind}")
        print(
            f"{kind.upper():5s} {len(data) / 1e6:6.1f} MB  load median of 3: {seconds:5.2f} s"
            f"  ({patients:,} patients)  {'OK' if seconds < 3 else 'SLOWER THAN 3 s'}"
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if sys.platform == "darwin":
        peak_mb /= 1024
    print(f"peak resident memory of this process: {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
