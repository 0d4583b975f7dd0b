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
