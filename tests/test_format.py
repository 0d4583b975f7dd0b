"""How p-values read: three significant digits, never rounded across a significance level."""

import pytest

from analytics.plain import format_p


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (0.004042306, "0.00404"),  # thesis Table 3 month 2 (printed 0.004)
        (0.005533, "0.00553"),  # thesis Table 3 month 6 (printed 0.006)
        (0.0424613, "0.0425"),  # thesis Table 5 TSAT (printed 0.0425)
        (0.822228, "0.822"),  # thesis Table 2 month 2 (printed 0.822)
        (0.04996, "0.04996"),  # 3 digits would read 0.0500: not significant at a glance
        (0.0500, "0.05"),
        (0.000099, "< 0.0001"),
        (None, "—"),
        (float("nan"), "—"),
    ],
)
def test_format_p(p, text):
    assert format_p(p) == text


# Sentences and on-screen numbers as they read before the formatters were merged into one
# (values computed by this code on the inputs below; the statistics behind them are
# checked against R and SciPy in test_paired, test_subgroups and test_prevalence).


def test_ratio_sentence_text():
    from analytics.stats.paired import ratio_paired_t

    result = ratio_paired_t([49.0, 70.0, 25.0, 60.0, 41.5], [20.0, 25.0, 17.0, 24.0, 19.5])
    assert result.sentence("Hepcidin") == (
        "Hepcidin at follow-up was on average 0.451 times its baseline value (geometric mean "
        "ratio; 95 % CI 0.331 to 0.615, a typical 54.9 % fall; ratio paired t = −7.14, df = 4, "
        "p = 0.00204)"
    )


def test_paired_sentence_with_an_interval_across_zero():
    from analytics.stats.paired import paired_change

    rise = paired_change([10, 11, 12, 13], [10.5, 11.2, 12.9, 12.8])
    assert rise.sentence("Hgb", "g/dL") == (
        "Hgb rose by 0.350 g/dL on average (95 % CI 0.391 g/dL fall to 1.09 g/dL rise; "
        "paired t = 1.50, df = 3, p = 0.23)."
    )


def test_subgroup_sentence_text():
    from analytics.stats.subgroups import subgroup_contrast

    groups = ["adult"] * 3 + ["pediatric"] * 3
    fall = subgroup_contrast([3.0, 1.0, 2.5, -1.0, -2.0, -0.5], groups)
    assert fall.sentence("MCV", "fL") == (
        "Difference in the mean change of MCV, pediatric minus adult: −3.33 fL (95 % CI "
        "−5.48 to −1.19 fL; Welch t = −4.47, df = 3.7, p = 0.0134)."
    )
    # A difference in change carries its sign either way, as changes do on the pages.
    rise = subgroup_contrast([-3.0, -1.0, -2.5, 1.0, 2.0, 0.5], groups)
    assert rise.sentence("MCV", "fL") == (
        "Difference in the mean change of MCV, pediatric minus adult: +3.33 fL (95 % CI "
        "+1.19 to +5.48 fL; Welch t = 4.47, df = 3.7, p = 0.0134)."
    )


def test_prevalence_sentence_text():
    from analytics.stats.prevalence import prevalence

    result = prevalence([10.0, 12.5, 11.0, 13.5, 9.0], [3, 8, 20, 30, 40], list("mffmf"))
    assert result.sentence() == "3 of 5 patients had anemia (60 %, 95 % CI 14.7 to 94.7 %, exact)."


@pytest.mark.parametrize(
    ("value", "decimals", "plain", "signed"),
    [
        (-2.456, 2, "−2.46", "−2.46"),
        (1.5, 2, "1.50", "+1.50"),
        (1.5, 0, "2", "+2"),
        (None, 2, "—", "—"),
        (float("nan"), 2, "—", "—"),
    ],
)
def test_screen_numbers(value, decimals, plain, signed):
    from ui.format import fmt_num, fmt_signed

    assert fmt_num(value, decimals) == plain
    assert fmt_signed(value, decimals) == signed
