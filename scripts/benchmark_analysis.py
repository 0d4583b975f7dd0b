"""Benchmark: the paired comparison against SciPy, the whole view, and the memory of both.

Run ``make bench`` (or ``python scripts/benchmark_analysis.py [N_PATIENTS ...]``;
default 1,000, 10,000 and 99,997 patients). The cohorts are the plain files of
``benchmark_loader.py`` (MCV, month 0 against month 2).

- **paired**: :func:`analytics.stats.paired.paired_change` on the two columns (with
  their gaps and the patients' IDs) against the floor, SciPy's ``ttest_rel``,
  ``wilcoxon`` and ``shapiro`` on the complete pairs' arrays; they take turns and the
  medians are compared. The sign-flip test, the bootstrap, the power figures and the
  Bayes factor are computed when first read (``paired + deferred``: everything read).
- **whole view**: :func:`analytics.output.view.view_outputs`, everything the Paired
  tests and Charts pages show (tests, time course, subgroups, prevalence, tables and
  the figures' specs), median of 5.
- **memory**: in a fresh process that reads the file's bytes from standard input, the
  file read as the dashboard reads an upload (in a child process with memory and time
  limits, the cohort sent back) and the whole view computed: the process's peak
  resident memory, and the reader child's.

The figures are recorded in the README.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from scipy import stats

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from benchmark_loader import SIZES, make_rows, to_csv, to_xlsx  # noqa: E402

from analytics import load_cohort  # noqa: E402
from analytics.filters import CohortFilter  # noqa: E402
from analytics.output.view import view_outputs  # noqa: E402
from analytics.stats.paired import paired_change  # noqa: E402
from analytics.stats.paired_deferred import DEFERRED  # noqa: E402

ROUNDS = 5


def _median_turns(contenders: dict[str, object], rounds: int, repeat: int = 1) -> dict:
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, work in contenders.items():
            start = time.perf_counter()
            for _ in range(repeat):
                work()  # type: ignore[operator]
            times[name].append((time.perf_counter() - start) / repeat)
    return {name: statistics.median(values) for name, values in times.items()}


def paired_figures(cohort) -> tuple[float, float, float, int]:
    """(paired, floor, paired with every deferred part read, pairs)."""
    matrix = cohort.lab_matrix("mcv", "limit")
    baseline, follow_up = matrix[0.0].to_numpy(), matrix[2.0].to_numpy()
    ids = matrix.index.tolist()
    both = ~np.isnan(baseline) & ~np.isnan(follow_up)
    before, after = baseline[both], follow_up[both]

    def floor() -> None:
        stats.ttest_rel(after, before)
        stats.wilcoxon(after - before)
        stats.shapiro(after - before)

    def everything() -> None:
        result = paired_change(baseline, follow_up, ids)
        for name in DEFERRED:
            getattr(result, name)

    repeat = max(1, 20_000 // len(ids))
    medians = _median_turns(
        {"paired": lambda: paired_change(baseline, follow_up, ids), "floor": floor},
        rounds=ROUNDS * 4,
        repeat=repeat,
    )
    full = _median_turns({"everything": everything}, rounds=3)["everything"]
    return medians["paired"], medians["floor"], full, int(both.sum())


def view_seconds(cohort) -> float:
    def view() -> None:
        view_outputs(cohort, CohortFilter(), analyte="mcv", baseline=0, follow_up=2)

    view()  # the first view imports Altair and warms the caches
    return _median_turns({"view": view}, rounds=ROUNDS)["view"]


# Run in a fresh interpreter: read the file from stdin as an upload, compute the view.
_CHILD = """
import json, sys, time, warnings
warnings.simplefilter("ignore")
sys.path.insert(0, sys.argv[1])
from analytics.filters import CohortFilter
from analytics.output.view import view_outputs
from analytics.reading.isolation import last_read_stats, load_cohort_isolated, peak_rss_mb
data = sys.stdin.buffer.read()
start = time.perf_counter()
cohort = load_cohort_isolated(data, sys.argv[2])
loaded = time.perf_counter() - start
child = last_read_stats().peak_rss_mb
del data
view_outputs(cohort, CohortFilter(), analyte="mcv", baseline=0, follow_up=2)
print(json.dumps({"load_seconds": loaded, "peak_mb": peak_rss_mb(), "child_peak_mb": child}))
"""


def memory(data: bytes, name: str) -> dict[str, float]:
    """Peak memory of a fresh process that reads ``data`` as an upload (in the reader
    child) and computes the whole view, and of its reader child."""
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(ROOT), name],
        input=data,
        capture_output=True,
        check=True,
    )
    return json.loads(done.stdout)


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms" if seconds < 1 else f"{seconds:.2f} s"


def main() -> None:
    warnings.simplefilter("ignore")  # Shapiro-Wilk warns above 5,000 values
    sizes = [int(a) for a in sys.argv[1:]] or list(SIZES)
    print("Analysis, median of turns with the floor (wall clock):")
    views: list[float] = []
    for n in sizes:
        data = to_csv(make_rows(n))
        cohort = load_cohort(data, "bench.csv")
        paired, floor, full, pairs = paired_figures(cohort)
        views.append(view_seconds(cohort))
        print(
            f"  {n:7,d} patients ({pairs:,} pairs): paired {_ms(paired)} vs SciPy floor "
            f"{_ms(floor)} = {paired / floor:.2f}x; with every deferred part read "
            f"{_ms(full)}; whole view {_ms(views[-1])}"
        )
        for kind, file in (("csv", data), ("xlsx", to_xlsx(make_rows(n)))):
            m = memory(file, f"bench.{kind}")
            print(
                f"  {'':7s} {kind.upper():4s} as an upload, then the whole view: peak memory "
                f"{m['peak_mb']:,.0f} MB (reader child {m['child_peak_mb']:,.0f} MB, read in "
                f"{m['load_seconds']:.2f} s)"
            )


if __name__ == "__main__":
    main()
