"""Benchmark: loading a wide file (CSV and XLSX) against the bare readers, and its memory.

Run ``make bench`` (or ``python scripts/benchmark_loader.py [N_PATIENTS ...]``; default
1,000, 10,000 and 99,997 patients, which with the three rows above the data is the
100,000-row limit). The files are generated in memory with the demo's columns and
realistic noise (``<5``, ``N/A``, blanks); an "odd" file has a problem in almost every
other cell (text, implausible values, spreadsheet errors, ``1e309``, units that
contradict the header, unreadable sexes and ages).

Each figure is printed beside its floor, measured in the same run: the loader and the
floor take turns, five times each, and the medians are compared. The floors are

- **read**: ``pd.read_csv(engine="pyarrow")`` / ``pd.read_excel(engine="calamine")``;
- **read + classify**: that read and a vectorised classification of the 25 lab columns
  written on top (strip, ``<``/``>`` censoring, ``N/A`` -> NaN, ``to_numeric``), which
  gives exactly the loader's lab values (checked here on the plain files).

The exponent is the slope of log(time) against log(cells) over the sizes. Then each
plain file is loaded once in a fresh subprocess that reads it from standard input (its
peak resident memory is the load's own, including ``validate --json``), and once as an
upload is read (in a child process with memory and time limits, the cohort sent back);
the child's peak memory is printed too. The figures are recorded in the README.
"""

from __future__ import annotations

import gc
import io
import json
import math
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analytics import load_cohort  # noqa: E402

LABS = [
    ("Hgb (g/dL)", 11.7, 1.7),
    ("MCV (fL)", 86.0, 6.0),
    ("TSAT (%)", 20.0, 8.0),
    ("Ferritin (ng/mL)", 150.0, 80.0),
    ("Hepcidin (ng/mL)", 35.0, 15.0),
]
TIMES = ["0", "2w", "1", "2", "6"]
LAB_COLUMNS = [f"{lab} {t}" for lab, _, _ in LABS for t in TIMES]
SIZES = (1_000, 10_000, 99_997)
ROUNDS = 5

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
    header = ["patient_id", "cohort", "sex", "age", "iron_therapy", "epo", *LAB_COLUMNS]
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


# --------------------------------------------------------------------------- floors

_MISSING = ["N/A", "NA", "n/a", "na", "-", ".", "—"]


def classify(frame: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The lab columns' values and censoring (0, 1 for <, 2 for >): the floor's classify."""
    out = {}
    for column in LAB_COLUMNS:
        cells = frame[column]
        values = pd.to_numeric(cells, errors="coerce").to_numpy(dtype=float, copy=True)
        censored = np.zeros(len(cells), dtype=np.int8)
        texts = cells[np.isnan(values) & cells.notna().to_numpy()].astype("str").str.strip()
        if len(texts):
            first = texts.str[:1]
            marked = first.isin(["<", ">"]).to_numpy()
            number = texts.where(~marked, texts.str[1:].str.strip())
            number = number.where(~number.isin(_MISSING))
            at = frame.index.get_indexer(texts.index)
            values[at] = pd.to_numeric(number, errors="coerce").to_numpy(dtype=float)
            censored[at] = np.where(marked, np.where(first == "<", 1, 2), 0)
        out[column] = (values, censored)
    return out


def read_csv_floor(data: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data), engine="pyarrow", skiprows=2)


def read_xlsx_floor(data: bytes) -> pd.DataFrame:
    return pd.read_excel(io.BytesIO(data), engine="calamine", skiprows=2)


def check_floor(data: bytes, name: str, read: Callable[[bytes], pd.DataFrame]) -> None:
    """The floor gives exactly the loader's lab values (else its figure means nothing)."""
    frame = read(data)
    floor = classify(frame)
    labs = load_cohort(data, name).labs
    for column, (values, censored) in floor.items():
        mine = labs[labs["column"] == column]
        at = (mine["row"].to_numpy() - 4).astype(int)  # file rows 4.. are frame rows 0..
        expected = np.full(len(frame), np.nan)
        expected[at] = mine["value"].to_numpy()
        marks = np.zeros(len(frame), dtype=np.int8)
        marks[at] = mine["censored"].map({"": 0, "<": 1, ">": 2}).to_numpy()
        same = np.array_equal(values, expected, equal_nan=True) and np.array_equal(censored, marks)
        if not same:
            raise SystemExit(f"the floor's classify differs from the loader in {column}")


# --------------------------------------------------------------------------- timing


def timed(work: Callable[[], object]) -> float:
    gc.collect()
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def race(contenders: dict[str, Callable[[], object]], rounds: int = ROUNDS) -> dict[str, float]:
    """Median wall-clock seconds of each, the contenders taking turns ``rounds`` times."""
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, work in contenders.items():
            times[name].append(timed(work))
    return {name: statistics.median(values) for name, values in times.items()}


def exponent(cells: list[int], seconds: list[float]) -> float:
    """The slope of log(time) against log(cells): 1.0 is linear."""
    return float(np.polyfit(np.log(cells), np.log(seconds), 1)[0])


# Run in a fresh interpreter: read the file from stdin, load it, print one JSON line.
_CHILD = """
import json, sys, time
sys.path.insert(0, sys.argv[2])
from analytics import load_cohort
from analytics.cli import validation_dict
from analytics.plain import jsonable
data = sys.stdin.buffer.read()
start = time.perf_counter()
cohort = load_cohort(data, sys.argv[1])
seconds = time.perf_counter() - start
text = json.dumps(jsonable(validation_dict(cohort)), indent=2, ensure_ascii=False)
from analytics.reading.isolation import last_read_stats, load_cohort_isolated, peak_rss_mb
peak = peak_rss_mb()
report = cohort.report
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


def in_subprocess(data: bytes, name: str) -> dict[str, float]:
    """Load ``data`` once in a fresh subprocess; its time, peak memory and report size."""
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, name, str(ROOT)],
        input=data,
        capture_output=True,
        check=True,
    )
    return json.loads(done.stdout)


# --------------------------------------------------------------------------- report


def _s(seconds: float) -> str:
    return f"{seconds:.3f} s" if seconds < 1 else f"{seconds:.2f} s"


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or list(SIZES)
    readers = {"csv": read_csv_floor, "xlsx": read_xlsx_floor}
    loads: dict[str, list[float]] = {"csv": [], "xlsx": [], "csv odd": [], "xlsx odd": []}
    cells: list[int] = []
    print("Loading, median of 5 turns with the floors (wall clock):")
    print(
        f"{'file':10s} {'patients':>9s} {'loader':>9s} {'read':>9s} {'ratio':>6s}"
        f" {'read+classify':>14s} {'ratio':>6s}"
    )
    files: dict[tuple[int, str], bytes] = {}
    for n in sizes:
        cells.append((n + 3) * len(make_rows(1)[2]))
        for odd in (False, True):
            rows = make_rows(n, odd=odd)
            for kind in ("csv", "xlsx"):
                data = to_csv(rows) if kind == "csv" else to_xlsx(rows)
                name, read = f"bench.{kind}", readers[kind]
                if not odd:
                    check_floor(data, name, read)
                    files[(n, kind)] = data
                medians = race(
                    {
                        "loader": lambda data=data, name=name: load_cohort(data, name),
                        "read": lambda data=data, read=read: read(data),
                        "floor": lambda data=data, read=read: classify(read(data)),
                    }
                )
                label = f"{kind.upper()}{' odd' if odd else ''}"
                loads[kind + (" odd" if odd else "")].append(medians["loader"])
                print(
                    f"{label:10s} {n:9,d} {_s(medians['loader']):>9s} {_s(medians['read']):>9s}"
                    f" {medians['loader'] / medians['read']:5.1f}x"
                    f" {_s(medians['floor']):>14s} {medians['loader'] / medians['floor']:5.1f}x"
                )
    if len(sizes) > 1:
        slopes = ", ".join(f"{k.upper()} {exponent(cells, t):.2f}" for k, t in loads.items())
        print(f"exponent of the loader's time in cells ({', '.join(map(str, cells))}): {slopes}")
    print("\nOne load in a fresh process (peak memory), and as an upload (the reader child):")
    for (n, kind), data in files.items():
        m = in_subprocess(data, f"bench.{kind}")
        print(
            f"  {kind.upper():5s} {n:7,d} patients {len(data) / 1e6:5.1f} MB:"
            f" load {_s(m['seconds'])}, peak RSS {m['peak_mb']:,.0f} MB;"
            f" as an upload {_s(m['isolated_seconds'])}"
            f" (reader child {m['isolated_peak_mb']:,.0f} MB);"
            f" {m['warnings']:,} warnings, {m['notes']:,} notes,"
            f" validate --json {m['json_bytes'] / 1e3:,.0f} kB"
        )
    if not math.isfinite(sum(loads["csv"])):
        raise SystemExit("a load failed")


if __name__ == "__main__":
    main()
