"""Build the deterministic *synthetic* demo cohort for the sirolimus dashboard.

The thesis this dashboard serves (Upadhyay, UCLA MSc 2013) never published per-patient lab
values, only summary tables.  This script writes a 25-patient wide table whose patient
attributes are copied from thesis Tables 1 and 4 and whose lab values are SYNTHETIC: they were
found by a seeded integer search so that, after rounding the way a lab reports them, they
reproduce the published means, SDs and paired t-test p-values of Tables 2, 3 and 5 (and the
Table 5 SEs that SD/sqrt(n) can reach) at the printed precision.

    python data/make_demo.py            # write data/sirolimus_demo.csv and .xlsx
    python data/make_demo.py --out DIR  # write them elsewhere
    python data/make_demo.py --search   # re-run the search, print a LAB_VALUES literal to paste

The lab values are embedded below (``LAB_VALUES``) so the output never depends on the random
number generator of an installed numpy; ``search_lab_values()`` is the deterministic search
that produced them (seeded ``numpy.random.Generator`` per block, greedy integer moves,
deterministic retries).  Every published figure is re-checked by ``verify()`` whenever the
table is built, and building raises ``ValueError`` if any check fails.

Importable: ``build_demo_frame()`` returns the table, ``write_demo(directory)`` writes it.
"""

import argparse
import csv
import io
import math
from collections.abc import Callable, Sequence
from datetime import datetime
from itertools import permutations
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import xlsxwriter
from scipy import stats

# --------------------------------------------------------------------------------------------
# Layout
# --------------------------------------------------------------------------------------------

TITLE = (
    "Sirolimus demo cohort - SYNTHETIC lab values built to reproduce the published summary "
    "tables (Tables 2, 3, 5); patient attributes as published (Tables 1, 4)"
)
CSV_NAME = "sirolimus_demo.csv"
XLSX_NAME = "sirolimus_demo.xlsx"
SHEET_NAME = "cohort"
ABOUT_SHEET_NAME = "about"
NA_TEXT = "N/A"
NO_TSAT_PATIENT = "P03"
XLSX_CREATED = datetime(2000, 1, 1, 0, 0, 0)  # fixed placeholder: reproducible bytes

PATIENT_COLUMNS = [
    "patient_id",
    "cohort",
    "sex",
    "age",
    "age_group",
    "reason_for_transplant",
    "reason_for_sirolimus",
    "other_immunosuppressants",
    "iron_therapy",
    "epo",
]

HGB, MCV, TSAT, FERRITIN, HEPCIDIN = (
    "Hgb (g/dL)",
    "MCV (fL)",
    "TSAT (%)",
    "Ferritin (ng/mL)",
    "Hepcidin (ng/mL)",
)
# lab -> (decimals reported, time points in the file); "2w" = 2 weeks = 0.5 month
LABS = {
    HGB: (1, ("0", "2w", "1", "2", "6")),
    MCV: (1, ("0", "2w", "1", "2", "6")),
    TSAT: (0, ("0", "2w", "1", "2")),
    FERRITIN: (0, ("0", "2w", "1", "2")),
    HEPCIDIN: (1, ("0", "2w", "1", "2")),
}
LAB_COLUMNS = [f"{lab} {t}" for lab, (_, times) in LABS.items() for t in times]
COLUMNS = PATIENT_COLUMNS + LAB_COLUMNS
DECIMALS = {f"{lab} {t}": dec for lab, (dec, times) in LABS.items() for t in times}
DECIMALS["age"] = 0

RETRO_TIMES = ("0", "2", "6")
PROSP_TIMES = ("0", "2w", "1", "2")
COHORT_LABS = {
    "retrospective": (HGB, MCV),
    "prospective": (HGB, MCV, TSAT, FERRITIN, HEPCIDIN),
}

# Plausible clinical ranges (checked for every value).
RANGES = {
    HGB: (8.0, 16.0),
    MCV: (70.0, 105.0),
    TSAT: (5, 50),
    FERRITIN: (10, 600),
    HEPCIDIN: (2.0, 100.0),
}

# --------------------------------------------------------------------------------------------
# Patient attributes as published.  Table 1 (retrospective, patients 1-10 adult, 11-20
# pediatric) and Table 4 (prospective).  Spelling follows the tidied transcription of the
# tables; the raw thesis's "Mycfortic"/"Myfrotic" typos are written "Myfortic".
# id, sex, age, reason for transplant / cause of ESRD, reason for sirolimus,
# other immunosuppressants, iron, Epo
# --------------------------------------------------------------------------------------------

_TABLE_1 = [
    ("M", 62, "PKD", "Sarcoma", "Tac+Pred", "No", "No"),
    ("F", 39, "MCD", "Rejection", "Cellcept+Tac", "No", "No"),
    ("M", 47, "Unknown", "Rejection", "Tac+Pred", "No", "No"),
    ("M", 47, "IgA nephropathy", "Basal cell Ca", "Tac+Pred", "No", "No"),
    ("M", 75, "ESRD unknown", "Rejection", "Tac", "No", "No"),
    ("F", 53, "PKD", "Basal cell Ca", "CSA+Pred", "No", "No"),
    ("F", 56, "VUR", "Basal cell Ca", "Pred", "No", "No"),
    ("F", 73, "Goodpasture disease", "Rejection", "Tac+Pred", "No", "No"),
    ("F", 46, "MPGN", "Rejection", "Tac+Pred", "No", "No"),
    ("F", 48, "ESRD unknown", "Rejection", "CSA+Pred", "No", "No"),
    ("F", 18, "VUR", "Rejection", "Tac+Pred", "Yes", "Yes"),
    ("M", 11, "VUR", "Rejection", "Tac+Pred", "Yes", "No"),
    ("F", 20, "FSGS", "Rejection", "Tac+Pred", "Yes", "No"),
    ("F", 20, "Hydronephrosis", "Rejection", "Tac+Pred", "Yes", "No"),
    ("M", 8, "PKD", "Rejection", "Cellcept+Pred", "Yes", "No"),
    ("M", 13, "Renal dysplasia", "Rejection", "Tac+Pred", "No", "No"),
    ("M", 20, "Unknown", "Rejection", "Myfortic+Pred", "No", "No"),
    ("F", 22, "Glomerulonephritis", "Rejection", "Tac+Pred", "No", "No"),
    ("M", 21, "Unknown", "Rejection", "Tac+Pred", "No", "No"),
    ("M", 12, "PUV", "Rejection", "Tac+Pred", "Yes", "No"),
]
_TABLE_4 = [
    ("F", 20, "Bilateral VUR", "Rejection", "Tac+Pred", "No", "No"),
    ("M", 15, "Bilateral VUR", "Rejection", "Cellcept+Pred", "Yes", "No"),
    ("M", 13, "Glomerulonephritis ANCA+", "Rejection", "Tac+Pred", "No", "No"),
    ("F", 17, "ESRD, unknown cause", "Rejection", "Tac+Pred", "Yes", "No"),
    ("M", 14, "ESRD, unknown cause", "Rejection", "Myfortic+Pred", "No", "No"),
]


def _patients() -> list[dict[str, object]]:
    """Patient attribute rows in file order: R01-R20 (Table 1), then P01-P05 (Table 4)."""
    rows = []
    for prefix, cohort, table in (("R", "retrospective", _TABLE_1), ("P", "prospective", _TABLE_4)):
        for number, (sex, age, *text) in enumerate(table, start=1):
            adult = cohort == "retrospective" and number <= 10
            head = (f"{prefix}{number:02d}", cohort, sex, age, "adult" if adult else "pediatric")
            rows.append(dict(zip(PATIENT_COLUMNS, (*head, *text), strict=True)))
    return rows


RETRO_IDS = [f"R{k:02d}" for k in range(1, 21)]
PROSP_IDS = [f"P{k:02d}" for k in range(1, 6)]

# Thesis appendix: MCV rose from month 0 to 2 only in patients 6 and 17, and from month 0 to 6
# only in patients 10, 12 and 14; it fell in every other patient.
MCV_RISE_0_TO_2 = frozenset({"R06", "R17"})
MCV_RISE_0_TO_6 = frozenset({"R10", "R12", "R14"})

# --------------------------------------------------------------------------------------------
# The synthetic lab values: patient -> lab -> values at the cohort's time points
# (retrospective: months 0, 2, 6; prospective: months 0, 2w, 1, 2; None = no TSAT measured).
# Produced by search_lab_values(); regenerate with `python data/make_demo.py --search`.
# --------------------------------------------------------------------------------------------

LAB_VALUES: dict[str, dict[str, tuple[float, ...] | None]] = {
    "R01": {HGB: (11.4, 12.4, 10.6), MCV: (79.0, 78.9, 77.8)},
    "R02": {HGB: (11.0, 12.7, 9.9), MCV: (89.0, 83.6, 75.6)},
    "R03": {HGB: (8.5, 10.5, 8.5), MCV: (86.3, 86.2, 76.8)},
    "R04": {HGB: (13.1, 11.4, 11.9), MCV: (94.3, 89.5, 92.5)},
    "R05": {HGB: (9.9, 9.6, 10.3), MCV: (87.4, 85.6, 87.2)},
    "R06": {HGB: (12.7, 12.7, 15.1), MCV: (83.8, 87.6, 83.7)},
    "R07": {HGB: (12.7, 13.7, 13.5), MCV: (78.6, 78.5, 77.8)},
    "R08": {HGB: (12.5, 12.0, 12.1), MCV: (84.6, 84.4, 84.0)},
    "R09": {HGB: (10.3, 8.6, 11.0), MCV: (104.0, 96.5, 97.9)},
    "R10": {HGB: (10.7, 11.0, 9.7), MCV: (89.3, 89.0, 90.0)},
    "R11": {HGB: (13.1, 12.9, 14.0), MCV: (86.3, 84.9, 86.0)},
    "R12": {HGB: (9.5, 9.5, 10.6), MCV: (76.9, 76.8, 78.0)},
    "R13": {HGB: (9.1, 8.5, 9.0), MCV: (91.3, 83.9, 80.3)},
    "R14": {HGB: (13.3, 13.9, 11.2), MCV: (94.4, 93.0, 95.9)},
    "R15": {HGB: (12.5, 12.6, 10.9), MCV: (98.2, 91.8, 83.2)},
    "R16": {HGB: (11.7, 11.8, 12.8), MCV: (84.5, 83.8, 76.9)},
    "R17": {HGB: (13.4, 14.6, 14.6), MCV: (82.4, 82.9, 81.8)},
    "R18": {HGB: (14.8, 12.9, 12.7), MCV: (87.9, 86.4, 87.7)},
    "R19": {HGB: (12.6, 13.4, 14.0), MCV: (97.0, 91.0, 82.0)},
    "R20": {HGB: (11.7, 10.9, 12.5), MCV: (97.9, 88.9, 97.8)},
    "P01": {
        HGB: (12.7, 12.5, 12.4, 12.7),
        MCV: (83.4, 83.0, 81.5, 81.9),
        TSAT: (20, 14, 11, 10),
        FERRITIN: (113, 108, 95, 146),
        HEPCIDIN: (38.0, 25.5, 20.9, 16.5),
    },
    "P02": {
        HGB: (9.8, 10.4, 9.1, 10.8),
        MCV: (84.9, 84.9, 84.1, 85.0),
        TSAT: (18, 13, 13, 10),
        FERRITIN: (185, 139, 133, 160),
        HEPCIDIN: (64.2, 51.8, 36.9, 22.8),
    },
    "P03": {
        HGB: (11.1, 11.3, 11.2, 10.0),
        MCV: (80.3, 81.5, 81.4, 81.7),
        TSAT: None,
        FERRITIN: (97, 122, 117, 63),
        HEPCIDIN: (29.0, 23.2, 25.1, 22.6),
    },
    "P04": {
        HGB: (11.0, 9.8, 11.9, 10.3),
        MCV: (85.5, 83.8, 82.0, 79.1),
        TSAT: (18, 16, 16, 16),
        FERRITIN: (373, 366, 351, 356),
        HEPCIDIN: (40.0, 33.0, 21.3, 18.3),
    },
    "P05": {
        HGB: (12.5, 12.5, 11.3, 12.7),
        MCV: (88.1, 85.3, 83.7, 82.8),
        TSAT: (35, 30, 21, 21),
        FERRITIN: (182, 194, 204, 209),
        HEPCIDIN: (74.3, 52.1, 38.4, 25.3),
    },
}

# --------------------------------------------------------------------------------------------
# Published figures and their printed precision (the single source for verify())
# --------------------------------------------------------------------------------------------


class Published(NamedTuple):
    """One row of thesis Tables 2, 3, 5: cohort, lab, month, n, mean, SD and p vs month 0.

    Each number is a (value, decimals printed) pair; p is None for the baseline row.  ``se`` is
    the printed standard error where SD/sqrt(n) can reproduce it, else None (the retrospective
    SEs imply n = (SD/SE)^2 = 21, and 0.957 for prospective MCV month 2 implies n = 4.94).
    """

    source: str
    cohort: str
    lab: str
    time: str
    n: int
    mean: tuple[float, int]
    sd: tuple[float, int]
    se: tuple[float, int] | None
    p: tuple[float, int] | None
    alternative: str = "two-sided"


PUBLISHED = [
    Published("Table 2", "retrospective", HGB, "0", 20, (11.7, 1), (1.65, 2), None, None),
    Published("Table 2", "retrospective", HGB, "2", 20, (11.8, 1), (1.75, 2), None, (0.822, 3)),
    Published("Table 2", "retrospective", HGB, "6", 20, (11.7, 1), (1.88, 2), None, (0.94, 2)),
    Published("Table 3", "retrospective", MCV, "0", 20, (88.7, 1), (7.24, 2), None, None),
    Published("Table 3", "retrospective", MCV, "2", 20, (86.16, 2), (4.97, 2), None, (0.004, 3)),
    Published("Table 3", "retrospective", MCV, "6", 20, (84.6, 1), (7.12, 2), None, (0.006, 3)),
    Published("Table 5", "prospective", MCV, "0", 5, (84.4, 1), (2.870, 3), (1.284, 3), None),
    Published("Table 5", "prospective", MCV, "2", 5, (82.1, 1), (2.127, 3), None, (0.197, 3)),
    Published("Table 5", "prospective", TSAT, "0", 4, (22.75, 2), (8.22, 2), (4.11, 2), None),
    Published(
        "Table 5", "prospective", TSAT, "2", 4, (14.25, 2), (5.32, 2), (2.66, 2), (0.0425, 4)
    ),
    Published("Table 5", "prospective", HEPCIDIN, "0", 5, (49.1, 1), (19.2, 1), (8.58, 2), None),
    # Two-sided p = 0.01 is infeasible with these SDs; the printed p is a one-sided p.
    Published(
        "Table 5",
        "prospective",
        HEPCIDIN,
        "2",
        5,
        (21.1, 1),
        (3.6, 1),
        (1.61, 2),
        (0.01, 2),
        "less",
    ),
]

# Text-only statements: prospective Hgb and ferritin do not change (p > this at every time).
NO_CHANGE_MIN_P = 0.2


# --------------------------------------------------------------------------------------------
# Deterministic search
# --------------------------------------------------------------------------------------------

SEED = 20130601


class Window(NamedTuple):
    lo: float
    hi: float

    def penalty(self, value: float) -> float:
        if value < self.lo:
            return (self.lo - value) / (self.hi - self.lo)
        if value > self.hi:
            return (value - self.hi) / (self.hi - self.lo)
        return 0.0


_MARGIN = 0.04  # keep targets this fraction of the half-width inside each rounding window


def _printed(value: float, decimals: int) -> Window:
    """Values that round to ``value`` at ``decimals`` places, minus a safety margin."""
    half = 0.5 * 10.0**-decimals * (1.0 - _MARGIN)
    return Window(value - half, value + half)


def _sd_window(sd: float, sd_decimals: int, se: float, se_decimals: int, n: int) -> Window:
    """SDs that round to ``sd`` and whose SD/sqrt(n) rounds to the printed SE ``se``."""
    by_sd, by_se = _printed(sd, sd_decimals), _printed(se, se_decimals)
    root = math.sqrt(n)
    return Window(max(by_sd.lo, by_se.lo * root), min(by_sd.hi, by_se.hi * root))


def _t_window(p: float, decimals: int, df: int, alternative: str, sign: int) -> Window:
    """Paired t (follow-up minus baseline) whose p-value rounds to ``p``."""
    lo_p, hi_p = _printed(p, decimals)
    if alternative == "less":  # p = P(T <= t)
        return Window(float(stats.t.ppf(lo_p, df)), float(stats.t.ppf(hi_p, df)))
    t_small, t_big = float(stats.t.isf(hi_p / 2, df)), float(stats.t.isf(lo_p / 2, df))
    return Window(t_small, t_big) if sign > 0 else Window(-t_big, -t_small)


def _t_at_most(p_min: float, df: int) -> Window:
    """|t| small enough that the two-sided p stays at or above ``p_min``."""
    t_max = float(stats.t.isf(p_min / 2, df))
    return Window(-t_max, t_max)


def _mean_sd(values: Sequence[int], unit: float) -> tuple[float, float]:
    n, s = len(values), sum(values)
    q = sum(v * v for v in values)
    return s / n * unit, math.sqrt((n * q - s * s) / (n * (n - 1))) * unit


def _paired_t(base: Sequence[int], follow: Sequence[int]) -> float:
    d = [f - b for b, f in zip(base, follow, strict=True)]
    n, s = len(d), sum(d)
    num = n * sum(x * x for x in d) - s * s
    if num == 0:
        return math.copysign(math.inf, s) if s else 0.0
    return (s / n) / math.sqrt(num / (n * (n - 1)) / n)


class Block(NamedTuple):
    """Integer search problem: n patients x len(start) time points, values in ``unit`` steps."""

    unit: float
    value_range: tuple[float, float]
    start: list[tuple[float, float, float]]  # per time point: mean, SD, correlation with t0
    means: dict[int, Window]
    sds: dict[int, Window]
    ts: dict[int, Window]  # paired t of time point j minus time point 0
    row_rule: Callable[[int, list[int]], float]  # per-patient penalty (integer units)
    n: int


def _start(block: Block, rng: np.random.Generator) -> list[list[int]]:
    """Continuous values with the target mean/SD/correlation, rounded; columns of ints."""
    n = block.n

    def standardise(v: np.ndarray) -> np.ndarray:
        v = v - v.mean()
        return v / v.std(ddof=1)

    z0 = standardise(rng.standard_normal(n))
    cols = []
    lo, hi = (round(b / block.unit) for b in block.value_range)
    for mean, sd, r in block.start:
        w = rng.standard_normal(n)
        w = standardise(w - (w @ z0) / (z0 @ z0) * z0)
        x = mean + sd * (r * z0 + math.sqrt(max(0.0, 1 - r * r)) * w)
        cols.append([min(hi, max(lo, round(v / block.unit))) for v in x])
    return cols


def _penalty(block: Block, cols: list[list[int]]) -> float:
    total = 0.0
    for j, col in enumerate(cols):
        if j in block.means or j in block.sds:
            mean, sd = _mean_sd(col, block.unit)
            if j in block.means:
                total += block.means[j].penalty(mean)
            if j in block.sds:
                total += block.sds[j].penalty(sd)
        if j in block.ts:
            total += block.ts[j].penalty(_paired_t(cols[0], col))
    lo, hi = (round(b / block.unit) for b in block.value_range)
    for i in range(block.n):
        row = [col[i] for col in cols]
        total += block.row_rule(i, row)
        total += sum(max(0, lo - v) + max(0, v - hi) for v in row)
    return total


def _fit(block: Block, seed: tuple[int, ...], attempts: int = 20, steps: int = 30000):
    """Greedy integer search: random +-step moves (single cell, or mean-preserving pair),
    accepted when the penalty does not grow; deterministic restarts from new draws."""
    rng = np.random.default_rng(seed)
    k = len(block.start)
    for _ in range(attempts):
        cols = _start(block, rng)
        pen = _penalty(block, cols)
        moves = rng.integers(0, 1 << 30, size=(steps, 5))
        for kind, j, i, i2, step in moves.tolist():
            if pen == 0.0:
                return cols
            j, i, i2 = j % k, i % block.n, i2 % block.n
            delta = (1, -1, 2, -2, 3, -3)[step % 6]
            col = cols[j]
            col[i] += delta
            paired = kind % 2 == 1 and i2 != i
            if paired:
                col[i2] -= delta
            new = _penalty(block, cols)
            if new <= pen:
                pen = new
            else:
                col[i] -= delta
                if paired:
                    col[i2] += delta
        if pen == 0.0:
            return cols
    raise RuntimeError(f"search did not converge for seed {seed}")


def _between(v0: float, v2: float, frac: float, jitter: float, unit: float, rng) -> float:
    value = v0 + frac * (v2 - v0) + jitter * float(rng.standard_normal())
    return round(round(value / unit) * unit, 1 if unit < 1 else 0)


def _as_values(col: list[int], unit: float) -> list[float]:
    return [round(v * unit, 1) if unit < 1 else int(v) for v in col]


def _retro_hgb() -> list[list[float]]:
    def row_rule(i: int, row: list[int]) -> float:  # |change| <= 2.5 g/dL
        return sum(max(0, abs(v - row[0]) - 25) for v in row[1:])

    block = Block(
        unit=0.1,
        value_range=(8.5, 15.5),  # inside RANGES, away from the edges
        start=[(11.70, 1.65, 1.0), (11.76, 1.75, 0.83), (11.71, 1.88, 0.79)],
        means={0: _printed(11.7, 1), 1: _printed(11.8, 1), 2: _printed(11.7, 1)},
        sds={0: _printed(1.65, 2), 1: _printed(1.75, 2), 2: _printed(1.88, 2)},
        # month 6 vs 0: either sign of t gives the same p; aim at a small rise (mean 11.7 both)
        ts={
            1: _t_window(0.822, 3, 19, "two-sided", +1),
            2: _t_window(0.94, 2, 19, "two-sided", +1),
        },
        row_rule=row_rule,
        n=20,
    )
    return [_as_values(c, 0.1) for c in _fit(block, (SEED, 1))]


def _retro_mcv() -> list[list[float]]:
    rises = (MCV_RISE_0_TO_2, MCV_RISE_0_TO_6)

    def row_rule(i: int, row: list[int]) -> float:
        pen = 0
        # no change beyond 9 fL by month 2 or 15 fL by month 6 (SD of changes 3.5 and 5.9)
        for rise, v, limit in zip(rises, row[1:], (90, 150), strict=True):
            d = v - row[0]
            pen += max(0, 1 - d) if RETRO_IDS[i] in rise else max(0, d + 1)
            pen += max(0, abs(d) - limit)
        return pen

    block = Block(
        unit=0.1,
        value_range=(72.0, 104.0),  # inside RANGES, away from the edges
        start=[(88.7, 7.24, 1.0), (86.16, 4.97, 0.90), (84.6, 7.12, 0.66)],
        means={0: _printed(88.7, 1), 1: _printed(86.16, 2), 2: _printed(84.6, 1)},
        sds={0: _printed(7.24, 2), 1: _printed(4.97, 2), 2: _printed(7.12, 2)},
        ts={
            1: _t_window(0.004, 3, 19, "two-sided", -1),
            2: _t_window(0.006, 3, 19, "two-sided", -1),
        },
        row_rule=row_rule,
        n=20,
    )
    return [_as_values(c, 0.1) for c in _fit(block, (SEED, 2))]


def _column_candidates(
    mean: float, sd: float, mean_w: Window, sd_w: Window, unit: float, lab: str, rng, draws: int
) -> np.ndarray:
    """Rounded draws of 5 values standardised to (mean, sd) whose rounded mean and SD still
    fall in their windows (rows of integer units)."""
    n = 5
    z = rng.standard_normal((draws, n))
    z -= z.mean(axis=1, keepdims=True)
    z /= z.std(axis=1, ddof=1, keepdims=True)
    x = np.rint((mean + sd * z) / unit).astype(np.int64)
    s = x.sum(axis=1)
    q = n * (x * x).sum(axis=1) - s * s
    means, sds = s / n * unit, np.sqrt(q / (n * (n - 1))) * unit
    lo, hi = (round(b / unit) for b in RANGES[lab])
    ok = (means >= mean_w.lo) & (means <= mean_w.hi) & (sds >= sd_w.lo) & (sds <= sd_w.hi)
    ok &= (x.min(axis=1) >= lo) & (x.max(axis=1) <= hi)
    return x[ok]


_PERMS_5 = np.array(list(permutations(range(5))))


def _fit_pair(
    base: np.ndarray, follow: np.ndarray, t_w: Window, row_ok: Callable[[np.ndarray], np.ndarray]
) -> tuple[list[int], list[int]]:
    """First (baseline vector, follow-up vector in some patient order) whose paired t lies in
    ``t_w`` and whose per-patient differences pass ``row_ok`` (5 patients, exhaustive over
    the 120 orders)."""
    n = 5
    for a in base:
        d = follow[:, _PERMS_5] - a  # candidates x orders x patients
        s = d.sum(axis=-1)
        q = n * (d * d).sum(axis=-1) - s * s
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (s / n) / np.sqrt(q / (n * (n - 1)) / n)
        hits = np.argwhere((t >= t_w.lo) & (t <= t_w.hi) & row_ok(d))
        if len(hits):
            ci, pi = hits[0]
            return a.tolist(), follow[ci][_PERMS_5[pi]].tolist()
    raise RuntimeError("no pairing meets the paired-t window")


def _prosp_mcv(rng: np.random.Generator) -> list[list[float]]:
    pair_rng = np.random.default_rng((SEED, 3))
    base = _column_candidates(
        84.4, 2.870, _printed(84.4, 1), _sd_window(2.870, 3, 1.284, 3, 5), 0.1, MCV, pair_rng, 20000
    )
    follow = _column_candidates(
        82.1, 2.127, _printed(82.1, 1), _printed(2.127, 3), 0.1, MCV, pair_rng, 20000
    )
    t_w = _t_window(0.197, 3, 4, "two-sided", -1)
    v0, v2 = (
        _as_values(c, 0.1)
        for c in _fit_pair(base, follow, t_w, lambda d: (np.abs(d) <= 80).all(axis=-1))
    )
    for _ in range(1000):  # intermediate values near each patient's month 0 -> 2 segment
        w2 = [_between(a, b, 0.35, 0.6, 0.1, rng) for a, b in zip(v0, v2, strict=True)]
        m1 = [_between(a, b, 0.70, 0.6, 0.1, rng) for a, b in zip(v0, v2, strict=True)]
        pairs = zip(v0 * 2, v2 * 2, w2 + m1, strict=True)
        if all(_near_segment(a, b, x, 1.0) for a, b, x in pairs):
            return [v0, w2, m1, v2]
    raise RuntimeError("no intermediate MCV values found")


def _near_segment(a: float, b: float, x: float, slack: float) -> bool:
    return min(a, b) - slack <= x <= max(a, b) + slack


def _prosp_hepcidin(rng: np.random.Generator) -> list[list[float]]:
    pair_rng = np.random.default_rng((SEED, 4))
    base = _column_candidates(
        49.1,
        19.2,
        _printed(49.1, 1),
        _sd_window(19.2, 1, 8.58, 2, 5),
        0.1,
        HEPCIDIN,
        pair_rng,
        2000,
    )
    follow = _column_candidates(
        21.1, 3.6, _printed(21.1, 1), _sd_window(3.6, 1, 1.61, 2, 5), 0.1, HEPCIDIN, pair_rng, 2000
    )
    t_w = _t_window(0.01, 2, 4, "less", -1)  # one-sided: follow-up minus baseline < 0
    # falls by at least 3 ng/mL in every patient
    v0, v2 = (
        _as_values(c, 0.1) for c in _fit_pair(base, follow, t_w, lambda d: (d <= -30).all(axis=-1))
    )
    for _ in range(1000):  # below baseline at 2 weeks and 1 month, declining on average
        w2 = [_between(a, b, 0.45, 2.5, 0.1, rng) for a, b in zip(v0, v2, strict=True)]
        m1 = [_between(a, b, 0.75, 2.5, 0.1, rng) for a, b in zip(v0, v2, strict=True)]
        below = all(x <= a - 1.0 for a, x in zip(v0 * 2, w2 + m1, strict=True))
        means = [sum(c) / 5 for c in (v0, w2, m1, v2)]
        if below and means == sorted(means, reverse=True) and min(w2 + m1) >= 2.0:
            return [v0, w2, m1, v2]
    raise RuntimeError("no intermediate hepcidin values found")


def _prosp_tsat(rng: np.random.Generator) -> list[list[int]]:
    """TSAT for the 4 patients with TSAT, by exhaustive construction.

    Integer values with mean 22.75 (sum 91) and 14.25 (sum 57); SD 8.22 needs a sum of
    squares of 2273 and SD 5.32 one of 897; the paired p of 0.0425 needs a sum of squared
    differences of 364 (SD of differences exactly 5.0, t = 3.40).  Every such pairing in
    which TSAT falls in all four patients is listed; the seeded generator picks one.
    """
    lo, hi = RANGES[TSAT]

    def quadruples(total: int, squares: int) -> list[tuple[int, ...]]:
        out = set()
        for a in range(lo, hi + 1):
            for b in range(a, hi + 1):
                for c in range(b, hi + 1):
                    d = total - a - b - c
                    if c <= d <= hi and a * a + b * b + c * c + d * d == squares:
                        out.update(permutations((a, b, c, d)))
        return sorted(out)

    options = [
        (x0, x2)
        for x0 in quadruples(91, 2273)
        for x2 in quadruples(57, 897)
        if sum((b - a) ** 2 for a, b in zip(x0, x2, strict=True)) == 364
        and all(b < a for a, b in zip(x0, x2, strict=True))
    ]
    x0, x2 = (list(v) for v in options[int(rng.integers(len(options)))])
    for _ in range(1000):
        w2 = [int(_between(a, b, 0.40, 1.5, 1, rng)) for a, b in zip(x0, x2, strict=True)]
        m1 = [int(_between(a, b, 0.75, 1.5, 1, rng)) for a, b in zip(x0, x2, strict=True)]
        if all(_near_segment(a, b, x, 2) for a, b, x in zip(x0 * 2, x2 * 2, w2 + m1, strict=True)):
            return [x0, w2, m1, x2]
    raise RuntimeError("no intermediate TSAT values found")


def _no_change_block(lab: str, unit: float, start, seed: tuple[int, ...], max_step: int):
    """Four time points with no significant change vs time 0 (aiming for p >= 0.3)."""

    def row_rule(i: int, row: list[int]) -> float:
        return sum(max(0, abs(v - row[0]) - max_step) for v in row[1:])

    block = Block(
        unit=unit,
        value_range=RANGES[lab],
        start=start,
        means={},
        sds={},
        ts={j: _t_at_most(0.3, 4) for j in (1, 2, 3)},
        row_rule=row_rule,
        n=5,
    )
    return [_as_values(c, unit) for c in _fit(block, seed)]


def search_lab_values() -> dict[str, dict[str, tuple[float, ...] | None]]:
    """Deterministically search synthetic lab values meeting every published constraint."""
    values: dict[str, dict[str, tuple[float, ...] | None]] = {
        pid: {} for pid in RETRO_IDS + PROSP_IDS
    }
    for lab, cols in ((HGB, _retro_hgb()), (MCV, _retro_mcv())):
        for i, pid in enumerate(RETRO_IDS):
            values[pid][lab] = tuple(c[i] for c in cols)

    rng = np.random.default_rng((SEED, 9))
    hgb = _no_change_block(
        HGB,
        0.1,
        [(11.4, 1.2, 1.0), (11.3, 1.2, 0.85), (11.2, 1.25, 0.8), (11.3, 1.3, 0.8)],
        (SEED, 5),
        15,
    )
    ferritin = _no_change_block(
        FERRITIN,
        1,
        [(190, 110, 1.0), (186, 106, 0.97), (180, 104, 0.96), (187, 108, 0.96)],
        (SEED, 6),
        120,
    )
    prosp = {
        HGB: hgb,
        MCV: _prosp_mcv(rng),
        FERRITIN: ferritin,
        HEPCIDIN: _prosp_hepcidin(rng),
    }
    tsat = _prosp_tsat(rng)
    with_tsat = [pid for pid in PROSP_IDS if pid != NO_TSAT_PATIENT]
    for i, pid in enumerate(PROSP_IDS):
        for lab in (HGB, MCV, TSAT, FERRITIN, HEPCIDIN):
            if lab == TSAT:
                values[pid][lab] = (
                    tuple(c[with_tsat.index(pid)] for c in tsat) if pid in with_tsat else None
                )
            else:
                values[pid][lab] = tuple(c[i] for c in prosp[lab])
    return values


# --------------------------------------------------------------------------------------------
# Table, verification, writers
# --------------------------------------------------------------------------------------------


def _frame_from(values: dict[str, dict[str, tuple[float, ...] | None]]) -> pd.DataFrame:
    records = []
    for patient in _patients():
        row: dict[str, object] = dict.fromkeys(COLUMNS, np.nan)
        row.update(patient)
        times = RETRO_TIMES if patient["cohort"] == "retrospective" else PROSP_TIMES
        for lab in COHORT_LABS[str(patient["cohort"])]:
            labs = values[str(patient["patient_id"])][lab]
            for k, t in enumerate(times):
                row[f"{lab} {t}"] = NA_TEXT if labs is None else float(labs[k])
        records.append(row)
    frame = pd.DataFrame.from_records(records, columns=COLUMNS)
    for col in LAB_COLUMNS:
        if not col.startswith(TSAT):  # TSAT holds the text "N/A" for one patient
            frame[col] = frame[col].astype("float64")
    frame["age"] = frame["age"].astype("int64")
    return frame


def _numeric(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(frame[column].replace(NA_TEXT, np.nan), errors="raise").astype(float)


def verify(frame: pd.DataFrame) -> list[str]:
    """Every constraint the demo must meet; returns the achieved statistics as text lines.

    Raises ValueError listing all failures.
    """
    failures: list[str] = []
    report: list[str] = []

    def check(ok: bool, message: str) -> None:
        if not ok:
            failures.append(message)

    def cohort_rows(cohort: str) -> pd.DataFrame:
        return frame[frame["cohort"] == cohort]

    check(list(frame.columns) == COLUMNS, "columns differ from the layout")
    check(list(frame["patient_id"]) == RETRO_IDS + PROSP_IDS, "patient ids/order differ")

    for row in PUBLISHED:
        data = cohort_rows(row.cohort)
        follow = _numeric(data, f"{row.lab} {row.time}")
        base = _numeric(data, f"{row.lab} 0")
        n = int(follow.notna().sum())
        mean, sd = follow.mean(), follow.std(ddof=1)
        line = f"{row.source} {row.cohort} {row.lab} month {row.time}: n={n} mean={mean:.4f}"
        line += f" SD={sd:.4f}"
        check(n == row.n, f"{line}: n should be {row.n}")
        check(round(mean, row.mean[1]) == row.mean[0], f"{line}: mean should be {row.mean[0]}")
        check(round(sd, row.sd[1]) == row.sd[0], f"{line}: SD should be {row.sd[0]}")
        if row.se is not None:
            se = sd / math.sqrt(n)
            line += f" SE={se:.4f}"
            check(round(se, row.se[1]) == row.se[0], f"{line}: SE should be {row.se[0]}")
        if row.p is not None:
            pair = pd.concat([base, follow], axis=1).dropna()
            p = float(
                stats.ttest_rel(
                    pair.iloc[:, 1], pair.iloc[:, 0], alternative=row.alternative
                ).pvalue
            )
            line += f" p={p:.5f} ({row.alternative})"
            check(round(p, row.p[1]) == row.p[0], f"{line}: p should be {row.p[0]}")
        report.append(line)

    # Retrospective: Hgb changes within 2.5 g/dL; MCV directions as in the thesis appendix.
    retro = cohort_rows("retrospective").set_index("patient_id")
    for t in ("2", "6"):
        change = _numeric(retro, f"{HGB} {t}") - _numeric(retro, f"{HGB} 0")
        check(bool((change.abs() <= 2.5 + 1e-9).all()), f"Hgb 0->{t} change beyond 2.5 g/dL")
    for t, rise in (("2", MCV_RISE_0_TO_2), ("6", MCV_RISE_0_TO_6)):
        change = _numeric(retro, f"{MCV} {t}") - _numeric(retro, f"{MCV} 0")
        check(set(change[change > 0].index) == set(rise), f"MCV 0->{t} risers != {sorted(rise)}")
        check(bool((change != 0).all()), f"MCV 0->{t} has a zero change")

    # Prospective: hepcidin below baseline for everyone at every visit, declining on average;
    # Hgb and ferritin without significant change.
    prosp = cohort_rows("prospective")
    hep0 = _numeric(prosp, f"{HEPCIDIN} 0")
    for t in ("2w", "1", "2"):
        check(bool((_numeric(prosp, f"{HEPCIDIN} {t}") < hep0).all()), f"hepcidin {t} >= month 0")
    hep_means = [_numeric(prosp, f"{HEPCIDIN} {t}").mean() for t in PROSP_TIMES]
    check(hep_means == sorted(hep_means, reverse=True), "mean hepcidin does not decline")
    for lab in (HGB, FERRITIN):
        for t in ("2w", "1", "2"):
            p = float(
                stats.ttest_rel(_numeric(prosp, f"{lab} {t}"), _numeric(prosp, f"{lab} 0")).pvalue
            )
            report.append(f"Table 5 text prospective {lab} month {t} vs 0: p={p:.3f}")
            check(p > NO_CHANGE_MIN_P, f"prospective {lab} {t}: p={p:.3f} <= {NO_CHANGE_MIN_P}")
    # MCV and TSAT at 2 weeks and 1 month lie near each patient's month 0 -> 2 segment.
    for lab, slack in ((MCV, 1.0), (TSAT, 2.0)):
        v0, v2 = _numeric(prosp, f"{lab} 0"), _numeric(prosp, f"{lab} 2")
        for t in ("2w", "1"):
            v = _numeric(prosp, f"{lab} {t}")
            inside = v.isna() | (
                (v >= v0.combine(v2, min) - slack) & (v <= v0.combine(v2, max) + slack)
            )
            check(bool(inside.all()), f"prospective {lab} {t} not between months 0 and 2")
    tsat_cells = frame.loc[
        frame["patient_id"] == NO_TSAT_PATIENT, [f"{TSAT} {t}" for t in PROSP_TIMES]
    ]
    check((tsat_cells == NA_TEXT).all(axis=None), f"{NO_TSAT_PATIENT} TSAT cells must be N/A")

    # Which cells are filled, ranges and reporting precision.
    for _, rec in frame.iterrows():
        times = RETRO_TIMES if rec["cohort"] == "retrospective" else PROSP_TIMES
        labs = COHORT_LABS[rec["cohort"]]
        for col in LAB_COLUMNS:
            lab, t = col.rsplit(" ", 1)
            value = rec[col]
            filled = lab in labs and t in times
            if value == NA_TEXT:
                check(rec["patient_id"] == NO_TSAT_PATIENT and lab == TSAT, f"N/A in {col}")
                continue
            if not filled:
                check(pd.isna(value), f"{rec['patient_id']} {col} should be empty")
                continue
            lo, hi = RANGES[lab]
            ok = not pd.isna(value) and lo <= value <= hi and round(value, DECIMALS[col]) == value
            check(ok, f"{rec['patient_id']} {col}={value} out of range or precision")

    if failures:
        raise ValueError("demo cohort fails its checks:\n  " + "\n  ".join(failures))
    return report


def build_demo_frame() -> pd.DataFrame:
    """The demo table (one row per patient, columns ``COLUMNS``), verified."""
    frame = _frame_from(LAB_VALUES)
    verify(frame)
    return frame


def _cell_text(column: str, value: object) -> str:
    if isinstance(value, str):
        return value
    if pd.isna(value):
        return ""
    return f"{float(value):.{DECIMALS.get(column, 0)}f}"


def _rows(frame: pd.DataFrame) -> list[list[object]]:
    """Cells row by row (title, blank, header, patients); None = empty cell."""
    rows: list[list[object]] = [[TITLE], [], list(COLUMNS)]
    for rec in frame.itertuples(index=False):
        cells: list[object] = []
        for col, value in zip(COLUMNS, rec, strict=True):
            if isinstance(value, str):
                cells.append(value)
            elif pd.isna(value):
                cells.append(None)
            else:
                as_float = round(float(value), DECIMALS.get(col, 0))
                cells.append(int(as_float) if DECIMALS.get(col, 0) == 0 else as_float)
        rows.append(cells)
    return rows


def csv_text(frame: pd.DataFrame) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([TITLE])
    writer.writerow([])
    writer.writerow(COLUMNS)
    for rec in frame.itertuples(index=False):
        writer.writerow(_cell_text(c, v) for c, v in zip(COLUMNS, rec, strict=True))
    return buffer.getvalue()


ABOUT_LINES = [
    "About this workbook",
    "",
    "Patient attributes (sex, age, diagnoses, immunosuppressants, iron, Epo) are copied from",
    "Tables 1 and 4 of the 2013 UCLA MSc thesis on sirolimus-induced microcytic anaemia.",
    "ALL LAB VALUES ARE SYNTHETIC. The thesis published only summary statistics.",
    "The values were found by a seeded, deterministic integer search (data/make_demo.py) so that,",
    "rounded as a lab reports them, they reproduce the published means, SDs and paired t-test",
    "p-values of Tables 2, 3 and 5 at the printed precision (hepcidin p as a one-sided p).",
    "They are demonstration data: do not use them for any clinical or scientific conclusion.",
    "See data/README.md for the column meanings and the published figures that cannot be met.",
]


def write_xlsx(frame: pd.DataFrame, path: Path) -> None:
    workbook = xlsxwriter.Workbook(
        str(path), {"strings_to_formulas": False, "in_memory": True}
    )  # in_memory: fixed zip timestamps
    workbook.set_properties(
        {
            "title": "Sirolimus demo cohort (synthetic lab values)",
            "subject": "Synthetic demo data reproducing published summary tables",
            "author": "data/make_demo.py",
            "comments": "Generated by data/make_demo.py; lab values are synthetic.",
            "created": XLSX_CREATED,
        }
    )
    bold = workbook.add_format({"bold": True})
    sheet = workbook.add_worksheet(SHEET_NAME)
    for r, cells in enumerate(_rows(frame)):
        for c, value in enumerate(cells):
            if value is None:
                continue
            if isinstance(value, str):
                sheet.write_string(r, c, value, bold if r == 2 else None)
            else:
                sheet.write_number(r, c, value)
    sheet.set_column(0, len(COLUMNS) - 1, 14)
    sheet.freeze_panes(3, 1)
    about = workbook.add_worksheet(ABOUT_SHEET_NAME)
    for r, line in enumerate(ABOUT_LINES):
        if line:
            about.write_string(r, 0, line)
    about.hide()
    workbook.close()


def write_demo(directory: str | Path) -> tuple[Path, Path]:
    """Write ``sirolimus_demo.csv`` and ``sirolimus_demo.xlsx`` into ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    frame = build_demo_frame()
    csv_path, xlsx_path = directory / CSV_NAME, directory / XLSX_NAME
    csv_path.write_bytes(csv_text(frame).encode("utf-8"))
    write_xlsx(frame, xlsx_path)
    return csv_path, xlsx_path


def format_lab_values(values: dict[str, dict[str, tuple[float, ...] | None]]) -> str:
    """Python source for the LAB_VALUES literal."""
    names = {HGB: "HGB", MCV: "MCV", TSAT: "TSAT", FERRITIN: "FERRITIN", HEPCIDIN: "HEPCIDIN"}

    def entry(lab: str, vals: tuple[float, ...] | None) -> str:
        text = "None" if vals is None else "(" + ", ".join(repr(v) for v in vals) + ")"
        return f"{names[lab]}: {text}"

    lines = ["LAB_VALUES: dict[str, dict[str, tuple[float, ...] | None]] = {"]
    for pid, labs in values.items():
        if pid.startswith("R"):
            lines.append(
                f'    "{pid}": {{' + ", ".join(entry(k, v) for k, v in labs.items()) + "},"
            )
        else:
            lines.append(f'    "{pid}": {{')
            lines.extend(f"        {entry(k, v)}," for k, v in labs.items())
            lines.append("    },")
    lines.append("}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=Path(__file__).resolve().parent, type=Path)
    parser.add_argument("--search", action="store_true", help="print the searched LAB_VALUES")
    args = parser.parse_args(argv)
    if args.search:
        values = search_lab_values()
        for line in verify(_frame_from(values)):
            print("#", line)
        print(format_lab_values(values))
        return
    for line in verify(_frame_from(LAB_VALUES)):
        print(line)
    csv_path, xlsx_path = write_demo(args.out)
    print(f"wrote {csv_path} and {xlsx_path}")


if __name__ == "__main__":
    main()
