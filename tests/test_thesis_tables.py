"""The demo cohort reproduces the study's Tables 2, 3 and 5 through the command line.

Golden values: the thesis's printed tables (see data/README.md for the figures that
contradict each other). Each value is compared at the precision it was printed with.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analytics.cli import main

DEMO = Path(__file__).resolve().parent.parent / "data" / "sirolimus_demo.csv"


def _run(capsys, *args: str) -> dict:
    assert main([*args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _printed(value: float, printed: str) -> bool:
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    return round(value, decimals) == float(printed)


# cohort, lab, follow-up, n, baseline mean/SD, follow-up mean/SD, p as printed, p kind
PAIRED = [
    # thesis Table 2, retrospective hemoglobin, month 0 vs 2 and 0 vs 6
    ("retrospective", "hgb", "2", 20, "11.7", "1.65", "11.8", "1.75", "0.822", "p_two_sided"),
    ("retrospective", "hgb", "6", 20, "11.7", "1.65", "11.7", "1.88", "0.94", "p_two_sided"),
    # thesis Table 3, retrospective MCV
    ("retrospective", "mcv", "2", 20, "88.7", "7.24", "86.16", "4.97", "0.004", "p_two_sided"),
    ("retrospective", "mcv", "6", 20, "88.7", "7.24", "84.6", "7.12", "0.006", "p_two_sided"),
    # thesis Table 5, prospective MCV, % iron saturation (n = 4) and hepcidin
    ("prospective", "mcv", "2", 5, "84.4", "2.870", "82.1", "2.127", "0.197", "p_two_sided"),
    ("prospective", "tsat", "2", 4, "22.75", "8.22", "14.25", "5.32", "0.0425", "p_two_sided"),
    # hepcidin's printed p = 0.01 is only feasible as the one-sided p (thesis-tables.md)
    ("prospective", "hepcidin", "2", 5, "49.1", "19.2", "21.1", "3.6", "0.01", "p_less"),
]


@pytest.mark.parametrize(
    ("cohort", "lab", "follow_up", "n", "m0", "sd0", "m1", "sd1", "p", "p_key"),
    PAIRED,
    ids=[f"{c[0][:5]}-{c[1]}-{c[2]}" for c in PAIRED],
)
def test_paired_reproduces_printed_table(
    capsys, cohort, lab, follow_up, n, m0, sd0, m1, sd1, p, p_key
):
    out = _run(
        capsys, "paired", str(DEMO), "--cohort", cohort, "--analyte", lab, "--baseline", "0",
        "--follow-up", follow_up,
    )  # fmt: skip
    assert out["n_pairs"] == n
    assert _printed(out["baseline_mean"], m0)
    assert _printed(out["baseline_sd"], sd0)
    assert _printed(out["follow_up_mean"], m1)
    assert _printed(out["follow_up_sd"], sd1)
    assert _printed(out[p_key], p)


def test_tsat_reports_the_patient_without_values(capsys):
    out = _run(
        capsys, "paired", str(DEMO), "--cohort", "prospective", "--analyte", "TSAT",
        "--baseline", "0", "--follow-up", "2mo",
    )  # fmt: skip
    assert out["n_excluded"] == 1
    assert out["excluded"][0]["patient_id"] == "P03"


@pytest.mark.parametrize("lab", ["hgb", "ferritin"])
def test_prospective_hgb_and_ferritin_do_not_change(capsys, lab):
    # thesis text: no significant change in prospective Hgb at any time, nor in ferritin
    out = _run(capsys, "timecourse", str(DEMO), "--cohort", "prospective", "--analyte", lab)
    p_values = [c["p_raw"] for c in out["contrasts"]]
    assert len(p_values) == 3
    assert min(p_values) > 0.05


def test_timecourse_table_matches_table_3(capsys):
    out = _run(capsys, "timecourse", str(DEMO), "--cohort", "retrospective", "--analyte", "mcv")
    rows = {row["months"]: row for row in out["table"]}
    assert sorted(rows) == [0.0, 2.0, 6.0]  # the retrospective cohort's time points only
    assert _printed(rows[2.0]["mean"], "86.16")
    assert _printed(rows[6.0]["p vs baseline (two-sided)"], "0.006")
    assert out["n_complete"] == 20
    assert out["friedman_p"] is not None and out["anova_p_gg"] is not None


def test_power_cli_matches_pwr(capsys):
    # R pwr::pwr.t.test(d = 0.5, n = 20, sig.level = 0.05, type = "paired") -> 0.5645044
    out = _run(capsys, "power", "--n", "20", "--sd-change", "1", "--delta", "0.5")
    assert out["power_at_delta"] == pytest.approx(0.5645044, abs=1e-6)
    assert set(out) >= {"power_at_delta", "n_required", "mde", "mde_dz"}


PAIRED_KEYS = [
    "n_pairs",
    "n_excluded",
    "excluded",
    "baseline_mean",
    "baseline_sd",
    "follow_up_mean",
    "follow_up_sd",
    "mean_change",
    "sd_change",
    "se_change",
    "ci_low",
    "ci_high",
    "t",
    "df",
    "p_two_sided",
    "p_less",
    "p_greater",
    "r",
    "cohen_dz",
    "wilcoxon_statistic",
    "wilcoxon_p",
    "wilcoxon_method",
    "shapiro_w",
    "shapiro_p",
    "sign_flip_p",
    "mde_dz_80",
    "n_for_80_power",
    "filters",
]


def test_paired_json_has_every_documented_key(capsys):
    out = _run(
        capsys, "paired", str(DEMO), "--analyte", "mcv", "--baseline", "0", "--follow-up", "6",
        "--sex", "F",
    )  # fmt: skip
    assert [key for key in PAIRED_KEYS if key not in out] == []
    assert out["filters"].startswith("12 of 25 patients: female")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--analyte", "sodium", "--baseline", "0", "--follow-up", "2"], "No lab called"),
        (["--analyte", "mcv", "--baseline", "0", "--follow-up", "9"], "no values at month 9"),
        (["--analyte", "mcv", "--baseline", "0", "--follow-up", "0"], "two different times"),
        (
            ["--analyte", "mcv", "--baseline", "0", "--follow-up", "6", "--cohort", "prospective"],
            "pair",
        ),
    ],
)
def test_unusable_requests_exit_2_with_one_line(capsys, args, message):
    assert main(["paired", str(DEMO), *args]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
