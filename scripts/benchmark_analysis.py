"""Benchmark: one full view (the Paired tests and Charts pages) on a large cohort.

Run ``make bench`` (or ``python scripts/benchmark_analysis.py [N_PATIENTS]``). Uses
the same generated cohort as ``benchmark_loader.py``; figures go in the README.
"""

from __future__ import annotations

import resource
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchmark_loader import make_rows, to_csv

from analytics import load_cohort
from analytics.filters import CohortFilter
from analytics.output.figure_files import chart_bytes
from analytics.output.view import view_outputs


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    warnings.simplefilter("ignore")  # Shapiro-Wilk warns above 5,000 values
    cohort = load_cohort(to_csv(make_rows(n)), "bench.csv")
    start = time.perf_counter()
    outputs = view_outputs(cohort, CohortFilter(), analyte="mcv", baseline=0, follow_up=2)
    print(
        f"{n:,} patients: paired test with robustness, time course, subgroups and "
        f"{len(outputs.figures)} figures in {time.perf_counter() - start:.2f} s"
    )
    for figure in outputs.figures:
        start = time.perf_counter()
        chart_bytes(figure.chart, "png")
        print(f"  PNG (300 dpi) of {figure.name}: {time.perf_counter() - start:.2f} s")
    start = time.perf_counter()
    report = outputs.report_html()
    print(f"HTML report: {time.perf_counter() - start:.2f} s, {len(report) / 1e6:.1f} MB")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if sys.platform == "darwin":
        peak_mb /= 1024
    print(f"peak resident memory of this process: {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
