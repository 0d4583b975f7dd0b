"""Benchmark: how long a large wide file takes to load (CSV and XLSX), and its memory.

Run ``make bench`` (or ``python scripts/benchmark_loader.py [N_PATIENTS ...]``;
default 10,000 and 99,997 patients, which with the three rows above the data is the
100,000-row limit). The files are generated in memory with the demo's columns and
realistic noise (``<5``, ``N/A``, blanks); a second, "odd" file has a problem in
almost every other cell (text, implausible values, spreadsheet errors, ``1e309``,
units that contradict the header, unreadable sexes and ages) and also gives the size
of ``validate --json``. Nothing is written to disk: each load runs in a fresh
subprocess that reads the file's bytes from standard input, so its time and peak
resident memory are the load's own; the same bytes are then read as an upload is
(in a child process with memory and time limits, the cohort sent back to the
caller), and that time and the reader's peak memory are printed too. The figures
are recorded in the README.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import xlsxwriter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LABS = [
    ("Hgb (g/dL)", 11.7, 1.7),
    ("MCV (fL)", 86.0, 6.0),
    ("TSAT (%)", 20.0, 8.0),
    ("Ferritin (ng/mL)", 150.0, 80.0),
    ("Hepcidin (ng/mL)", 35.0, 15.0),
]
TIMES = ["0", "2w", "1", "2", "6"]

# Cells of the "odd" file: each lab cell is one of these with the given probability,
# else a plain number. Every one is reported (a warning or a note) by the loader.
ODD_CELLS = (
    ("not a number", 0.06),
    ("12..5", 0.04),
    ("1,234", 0.04),
    ("#DIV/0!", 0.04),
    ("ND", 0.04),
    ("1e309", 0.04),
    ("9999", 0.06),
    ("11.7 mmol/L", 0.04),
    ("<censored>", 0.04),  # '<' followed by a random limit: many distinct texts
    ("N/A", 0.04),
)


def make_rows(n_patients: int, seed: int = 1, *, odd: bool = False) -> list[list[object]]:
    rng = np.random.default_rng(seed)
    header = ["patient_id", "cohort", "sex", "age", "iron_therapy", "epo"]
    header += [f"{lab} {t}" for lab, _, _ in LABS for t in TIMES]
    rows: list[list[object]] = [["Benchmark cohort (synthetic)"], [], header]
    odd_texts = [text for text, _ in ODD_CELLS]
    odd_edges = np.cumsum([p for _, p in ODD_CELLS])
    for i in range(n_patients):
        row: list[object] = [
            f"B{i:05d}",
            "retrospective" if i % 2 else "prospective",
            ("F" if rng.random() < 0.5 else "M") if not odd or i % 3 else "unknown sex",
            int(rng.integers(2, 80)) if not odd or i % 4 else "about 40",
            ("Yes" if rng.random() < 0.3 else "No") if not odd or i % 5 else "maybe",
            "No",
        ]
        for _lab, mean, sd in LABS:
            for _t in TIMES:
                u = rng.random()
                if odd and u < odd_edges[-1]:
                    text = odd_texts[int(np.searchsorted(odd_edges, u, side="right"))]
                    if text == "<censored>":
                        text = f"<{rng.integers(1, 5000) / 10:g}"
                    row.append(text)
                elif not odd and u < 0.02:
                    row.append("N/A")
                elif not odd and u < 0.03:
                    row.append("<5")
                elif not odd and u < 0.05:
                    row.append(None)
                else:
                    row.append(round(max(float(rng.normal(mean, sd)), 1.0), 1))
        rows.append(row)
    return rows


def to_csv(rows: list[list[object]]) -> bytes:
    lines = [
        ",".join("" if c is None else f'"{c}"' if "," in str(c) else str(c) for c in row)
        for row in rows
    ]
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


# Run in a fresh interpreter: read the file from stdin, load it, print one JSON line.
_CHILD = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[2])
from analytics import load_cohort
from analytics.cli import validation_dict
from analytics.plain import jsonable
data = sys.stdin.buffer.read()
start = time.perf_counter()
cohort = load_cohort(data, sys.argv[1])
seconds = time.perf_counter() - start
text = json.dumps(jsonable(validation_dict(cohort)), indent=2, ensure_ascii=False)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
if sys.platform == "darwin":
    peak /= 1024
report = cohort.report
# the dashboard's path: the same read in a child process with memory and time limits
from analytics.reading.isolation import last_read_stats, load_cohort_isolated
load_cohort_isolated(b"patient_id,MCV 0\\nP1,80\\n", "warm-up.csv")  # start the fork server
start = time.perf_counter()
load_cohort_isolated(data, sys.argv[1])
isolated = time.perf_counter() - start
print(json.dumps({
    "seconds": seconds, "peak_mb": peak, "patients": cohort.n_patients,
    "warnings": report.count("warning"), "notes": report.count("note"),
    "json_bytes": len(text.encode("utf-8")),
    "isolated_seconds": isolated, "isolated_peak_mb": last_read_stats().peak_rss_mb,
}))
"""


def measure(data: bytes, name: str) -> dict[str, float]:
    """Load ``data`` once in a fresh subprocess; its time, peak memory and report size."""
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, name, str(ROOT)],
        input=data,
        capture_output=True,
        check=True,
    )
    return json.loads(done.stdout)


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [10_000, 99_997]
    for n in sizes:
        for odd in (False, True):
            rows = make_rows(n, odd=odd)
            label = "odd cells" if odd else "plain"
            print(f"{n:,} patients ({label}), {len(rows):,} rows x {len(rows[2])} columns")
            for kind, data in (("csv", to_csv(rows)), ("xlsx", to_xlsx(rows))):
                m = measure(data, f"bench.{kind}")
                print(
                    f"  {kind.upper():5s} {len(data) / 1e6:5.1f} MB  load {m['seconds']:6.2f} s"
                    f"  peak RSS {m['peak_mb']:6,.0f} MB  {m['patients']:,} patients"
                    f"  {m['warnings']:,} warnings, {m['notes']:,} notes"
                    f"  validate --json {m['json_bytes'] / 1e3:,.0f} kB"
                    f"  as an upload {m['isolated_seconds']:6.2f} s"
                    f" (reader {m['isolated_peak_mb']:,.0f} MB)"
                )


if __name__ == "__main__":
    main()
