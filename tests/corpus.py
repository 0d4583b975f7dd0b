"""The corpus of hostile, broken and benign files, and a trial of the loader over it.

The files are built in memory by ``tests/corpus_csv.py`` and ``tests/corpus_xlsx.py``
(no opaque binaries in the repository); the tests assert each one's exact outcome.
Run as a script, this module writes them out or tries the loader on all of them and
on random mutants of the demo files, each read in a child process exactly as an
upload is (memory and time limits), and prints the figures:

    .venv/bin/python tests/corpus.py write OUTDIR
    .venv/bin/python tests/corpus.py trial [--mutants 2000] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__":
    sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from analytics.errors import InputError, ReadAborted  # noqa: E402
from analytics.reading.isolation import last_read_stats, run_isolated  # noqa: E402

SECONDS = 10  # a read that takes longer counts as a hang
DEMO_CSV = ROOT / "data" / "sirolimus_demo.csv"
DEMO_XLSX = ROOT / "data" / "sirolimus_demo.xlsx"


def load_in_child(data: bytes, filename: str) -> dict[str, object]:
    """What became of one file: read, refused (with the message) or a bug (with the trace).

    Runs in the child process. It calls the loader behind its last-resort boundary,
    so an exception the loader did not turn into an InputError itself is a bug.
    """
    from analytics.reading.loader import _read_cohort

    started = time.perf_counter()
    out: dict[str, object] = {}
    try:
        cohort = _read_cohort(data, filename, None, None, False)
        report = cohort.report
        out.update(
            outcome="read",
            rows_in=report.n_rows_in,
            rows_used=report.n_rows_used,
            rows_excluded=len(report.excluded),
        )
    except InputError as error:
        out.update(outcome="refused", message=str(error))
    except BaseException:
        out.update(outcome="bug", message=traceback.format_exc())
    out["seconds"] = time.perf_counter() - started
    return out


def rows_lost(result: dict[str, object]) -> bool:
    """True when a read file does not account for every input row."""
    if result["outcome"] != "read":
        return False
    return result["rows_in"] != result["rows_used"] + result["rows_excluded"]


@dataclass(frozen=True)
class Tried:
    name: str
    filename: str
    size: int
    result: dict[str, object]
    aborted: str  # "", or why the child was stopped: memory, time, crash
    peak_mb: float
    seconds: float


def try_file(name: str, data: bytes, filename: str) -> Tried:
    """Read one file as an upload is read, and say what became of it."""
    started = time.perf_counter()
    try:
        result = run_isolated(load_in_child, data, filename, seconds=SECONDS)
        aborted = ""
    except ReadAborted as error:
        result, aborted = {"outcome": "aborted", "message": str(error)}, error.reason
    stats = last_read_stats()
    peak = stats.peak_rss_mb if stats else 0.0
    return Tried(name, filename, len(data), result, aborted, peak, time.perf_counter() - started)


def corpus() -> list[tuple[str, bytes, str]]:
    """Every case of the corpus: (name, bytes, file name)."""
    from corpus_csv import CASES as CSV_CASES
    from corpus_xlsx import CASES as XLSX_CASES

    return [(f"csv/{c.name}", c.build(), c.filename) for c in CSV_CASES] + [
        (f"xlsx/{c.name}", c.build(), c.filename) for c in XLSX_CASES
    ]


_TOKENS = [b'"', b"\r", b"\n", b"\x00", b"\x0b", b"\xb5", b",", b";", b"<5", b"1e309", b"N/A"]


def mutant(seed: bytes, rng: random.Random) -> bytes:
    """The seed with 1 to 6 bytes flipped, inserted, deleted, repeated or tokens spliced in."""
    data = bytearray(seed)
    for _ in range(rng.randint(1, 6)):
        at = rng.randint(0, len(data))
        operation = rng.choice(["flip", "insert", "delete", "repeat", "token"])
        if operation == "flip" and at < len(data):
            data[at] = rng.randrange(256)
        elif operation == "insert":
            data[at:at] = rng.randbytes(rng.randint(1, 8))
        elif operation == "delete":
            del data[at : at + rng.randint(1, 64)]
        elif operation == "repeat":
            data[at:at] = data[at : at + rng.randint(1, 200)] * rng.randint(1, 50)
        else:
            data[at:at] = rng.choice(_TOKENS)
    return bytes(data)


def trial(n_mutants: int, seed: int) -> int:
    files = corpus()
    rng = random.Random(seed)
    seeds = [(DEMO_CSV.read_bytes(), "mutant.csv"), (DEMO_XLSX.read_bytes(), "mutant.xlsx")]
    for i in range(n_mutants):
        data, filename = seeds[i % 2]
        files.append((f"mutant/{i}", mutant(data, rng), filename))
    tried = [try_file(*file) for file in files]
    outcomes = Counter(t.result["outcome"] for t in tried)
    aborts = [t for t in tried if t.aborted in ("memory", "crash")]
    hangs = [t for t in tried if t.aborted == "time"]
    bugs = [t for t in tried if t.result["outcome"] == "bug"]
    lost = [t for t in tried if rows_lost(t.result)]
    slowest = max(tried, key=lambda t: t.seconds)
    heaviest = max(tried, key=lambda t: t.peak_mb)
    refused_xlsx = [
        t.result["seconds"]
        for t in tried
        if t.name.startswith("xlsx/") and t.result["outcome"] == "refused"
    ]
    print(f"files tried: {len(tried)} ({len(files) - n_mutants} corpus cases, {n_mutants} mutants)")
    print(f"outcomes: {dict(outcomes)}")
    print(f"aborts (memory or crash): {len(aborts)}  {[t.name for t in aborts][:10]}")
    print(f"hangs (over {SECONDS} s): {len(hangs)}  {[t.name for t in hangs][:10]}")
    print(f"untyped exceptions: {len(bugs)}  {[t.name for t in bugs][:10]}")
    print(f"silent row losses: {len(lost)}  {[t.name for t in lost][:10]}")
    print(f"slowest: {slowest.name} {slowest.seconds:.2f} s")
    print(f"peak child memory: {heaviest.peak_mb:,.0f} MB ({heaviest.name})")
    if refused_xlsx:
        print(
            f"hostile XLSX refusals: {len(refused_xlsx)}, slowest "
            f"{max(refused_xlsx) * 1000:.1f} ms, median "
            f"{sorted(refused_xlsx)[len(refused_xlsx) // 2] * 1000:.1f} ms (in the child)"
        )
    for t in bugs[:3]:
        print(f"\n--- {t.name}\n{t.result['message']}")
    return 1 if aborts or hangs or bugs or lost else 0


def write(outdir: Path) -> int:
    outdir.mkdir(parents=True, exist_ok=True)
    files = corpus()
    for name, data, filename in files:
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name)
        (outdir / f"{safe}__{filename}").write_bytes(data)
    print(f"{len(files)} files written to {outdir}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    out = commands.add_parser("write", help="write every corpus file to OUTDIR")
    out.add_argument("outdir", type=Path)
    run = commands.add_parser("trial", help="read every file as an upload; print the figures")
    run.add_argument("--mutants", type=int, default=2000)
    run.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.command == "write":
        return write(args.outdir)
    return trial(args.mutants, args.seed)


if __name__ == "__main__":
    import corpus  # run as the importable module: the child processes find its functions

    sys.exit(corpus.main())
