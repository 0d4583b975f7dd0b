"""Power and sample size for the paired t-test, for the small-sample caveat.

A paired t-test is a one-sample t-test on the changes (follow-up − baseline), so
every calculation here uses :class:`statsmodels.stats.power.TTestPower` with the
standardised effect size Cohen's d_z = mean change / SD of change and ``nobs`` = the
number of complete pairs.

What is useful after a study has been run is the width of the confidence interval,
the minimum detectable effect for this number of patients and the number of patients
a meaningful change would need. Observed ("post-hoc") power is provided only on
request; see :data:`OBSERVED_POWER_CAVEAT`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import optimize, stats
from statsmodels.stats.power import TTestPower

from analytics.errors import AnalysisError
from analytics.stats.common import quantity_frame

__all__ = [
    "ALTERNATIVES",
    "OBSERVED_POWER_CAVEAT",
    "PowerResult",
    "check_power_above_alpha",
    "mde_dz",
    "n_grid",
    "n_required",
    "observed_power",
    "power_at",
    "power_curve_effect",
    "power_curve_n",
    "power_summary",
]

Alternative = Literal["two-sided", "less", "greater"]

#: Alternatives accepted everywhere, mapped to the names statsmodels uses.
ALTERNATIVES: dict[str, str] = {"two-sided": "two-sided", "less": "smaller", "greater": "larger"}

#: One sentence to show wherever observed power is shown.
OBSERVED_POWER_CAVEAT = (
    "Observed (post-hoc) power is a one-to-one function of the p-value "
    "(Hoenig & Heisey (2001)), so it adds nothing to the p-value and cannot show that "
    "a non-significant result was 'underpowered'; use the confidence interval and the "
    "minimum detectable effect instead."
)

_ENGINE = TTestPower()
#: Most doublings of the search bracket before a root search gives up.
MAX_DOUBLINGS = 200


def _check_alternative(alternative: str) -> str:
    if alternative not in ALTERNATIVES:
        choices = ", ".join(f'"{name}"' for name in ALTERNATIVES)
        raise AnalysisError(f'The alternative must be one of {choices}, not "{alternative}".')
    return alternative


def _check_probability(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating):
        raise AnalysisError(f"The {name} must be a number between 0 and 1, not {value!r}.")
    if not 0.0 < float(value) < 1.0:
        raise AnalysisError(f"The {name} must lie strictly between 0 and 1, not {value}.")
    return float(value)


def _check_n(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, int | float | np.integer | np.floating):
        raise AnalysisError(f"The number of pairs must be a whole number, not {n!r}.")
    if not math.isfinite(float(n)) or float(n) != int(n):
        raise AnalysisError(f"The number of pairs must be a whole number, not {n}.")
    if int(n) < 2:
        raise AnalysisError(
            f"A paired t-test needs at least 2 pairs; {int(n)} is too few to compute power."
        )
    return int(n)


def _check_dz(dz: float) -> float:
    if isinstance(dz, bool) or not isinstance(dz, int | float | np.integer | np.floating):
        raise AnalysisError(f"The effect size d_z must be a number, not {dz!r}.")
    if not math.isfinite(float(dz)):
        raise AnalysisError(f"The effect size d_z must be a finite number, not {dz}.")
    return float(dz)


def check_power_above_alpha(power: float, alpha: float) -> None:
    if power <= alpha:
        raise AnalysisError(
            f"The target power ({power}) must be larger than alpha ({alpha}): a test with "
            "no effect at all already rejects with probability alpha."
        )


def power_at(
    n: int, dz: float, alpha: float = 0.05, alternative: Alternative = "two-sided"
) -> float:
    """Power of the paired t-test with ``n`` pairs for a true effect ``dz``.

    Parameters
    ----------
    n : int
        Number of complete pairs (at least 2).
    dz : float
        True standardised mean change, Cohen's d_z = mean change / SD of change,
        signed as follow-up − baseline.
    alpha : float
        Significance level, in (0, 1).
    alternative : {"two-sided", "less", "greater"}
        "less" is the one-sided test for a fall (negative change), "greater" for a rise.

    Returns
    -------
    float
        Probability that the test rejects the null hypothesis of no mean change.

    Notes
    -----
    No missing data: ``n`` is already the number of complete pairs. Power is
    :math:`P(|T| > t_{1-\\alpha/2, n-1})` (two-sided) or the matching one-sided tail,
    where :math:`T` follows a noncentral t distribution with ``n - 1`` df and
    noncentrality :math:`d_z\\sqrt{n}` (statsmodels ``TTestPower``). For "less" the
    power is that of the lower tail, so a positive ``dz`` gives power below alpha.
    The two-sided power depends only on ``|dz|``.
    """
    n = _check_n(n)
    dz = _check_dz(dz)
    alpha = _check_probability(alpha, "significance level (alpha)")
    alternative = _check_alternative(alternative)
    effect = abs(dz) if alternative == "two-sided" else dz
    value = float(_ENGINE.power(effect, n, alpha, alternative=ALTERNATIVES[alternative]))
    if math.isnan(value):  # statsmodels' nct tail underflows for huge effects at tiny n
        value = _power_scipy(effect, n, alpha, alternative)
    return value


def _power_scipy(effect: float, n: int, alpha: float, alternative: str) -> float:
    """The TTestPower formula with scipy's noncentral t (fallback when it returns NaN).

    A tail far from the noncentrality underflows to NaN; its probability is 0.
    """
    df, ncp = n - 1, effect * math.sqrt(n)
    tail = alpha / 2.0 if alternative == "two-sided" else alpha
    parts = []
    if alternative in ("two-sided", "greater"):
        parts.append(float(stats.nct.sf(stats.t.isf(tail, df), df, ncp)))
    if alternative in ("two-sided", "less"):
        parts.append(float(stats.nct.cdf(stats.t.ppf(tail, df), df, ncp)))
    return float(min(1.0, sum(0.0 if math.isnan(part) else part for part in parts)))


def mde_dz(
    n: int, power: float = 0.8, alpha: float = 0.05, alternative: Alternative = "two-sided"
) -> float:
    """Minimum detectable effect (Cohen's d_z) with ``n`` pairs.

    Parameters
    ----------
    n : int
        Number of complete pairs (at least 2).
    power : float
        Target power, in (alpha, 1).
    alpha : float
        Significance level, in (0, 1).
    alternative : {"two-sided", "less", "greater"}
        For "two-sided" and "greater" the result is positive; for "less" (a fall) it
        is negative, keeping the sign convention follow-up − baseline.

    Returns
    -------
    float
        The d_z at which the test reaches ``power``.

    Notes
    -----
    No missing data: ``n`` is the number of complete pairs. Solves
    ``power_at(n, d) = power`` for ``d`` by Brent's method to full precision (the
    same root as ``TTestPower.solve_power``, whose default tolerance leaves the power
    off by about 1e-7).
    Reference: MDE d_z at 80 % power, alpha = 0.05 two-sided is 1.682 at n = 5,
    0.996 at n = 10 and 0.660 at n = 20.
    """
    n = _check_n(n)
    power = _check_probability(power, "target power")
    alpha = _check_probability(alpha, "significance level (alpha)")
    alternative = _check_alternative(alternative)
    check_power_above_alpha(power, alpha)
    # Solve for the size in the "greater" direction (power rises with it), then sign it.
    direction = "two-sided" if alternative == "two-sided" else "greater"

    def shortfall(size: float) -> float:
        return power_at(n, size, alpha, direction) - power

    high = 1.0
    for _ in range(MAX_DOUBLINGS):
        gap = shortfall(high)
        if not gap < 0:  # reached (or not a number: brentq below says so)
            break
        high *= 2.0
    else:
        raise AnalysisError(f"No effect size reaches {power:g} power with {n} pairs.")
    try:
        size = float(optimize.brentq(shortfall, 0.0, high, xtol=1e-14, rtol=1e-14, maxiter=500))
    except (RuntimeError, ValueError) as error:  # no convergence, or power not a number
        raise AnalysisError(
            f"The minimum detectable effect could not be computed for {n} pairs at {power:g} power."
        ) from error
    return -size if alternative == "less" else size


def n_required(
    dz: float, power: float = 0.8, alpha: float = 0.05, alternative: Alternative = "two-sided"
) -> int:
    """Number of pairs needed to detect a true effect ``dz`` with the given power.

    Parameters
    ----------
    dz : float
        True standardised mean change (follow-up − baseline) / SD of change.
    power : float
        Target power, in (alpha, 1).
    alpha : float
        Significance level, in (0, 1).
    alternative : {"two-sided", "less", "greater"}
        One-sided tests need ``dz`` in their direction ("less": negative).

    Returns
    -------
    int
        The smallest whole number of pairs (at least 2) whose power reaches ``power``:
        the ceiling of the continuous solution.

    Notes
    -----
    No missing data: the answer counts complete pairs; add the expected dropout.
    Power increases with ``n``, so the answer is found by doubling and then bisecting
    over whole numbers with :func:`power_at`; it equals ``ceil`` of statsmodels'
    ``solve_power(nobs=None)`` wherever that converges. d_z = 0.7 needs 19 pairs for
    80 % power at two-sided alpha = 0.05.
    """
    dz = _check_dz(dz)
    power = _check_probability(power, "target power")
    alpha = _check_probability(alpha, "significance level (alpha)")
    alternative = _check_alternative(alternative)
    check_power_above_alpha(power, alpha)
    if dz == 0:
        raise AnalysisError("A change of zero cannot be detected with any number of patients.")
    if (alternative == "less" and dz > 0) or (alternative == "greater" and dz < 0):
        direction = "fall" if alternative == "less" else "rise"
        raise AnalysisError(
            f"A one-sided test for a {direction} cannot detect a change in the other "
            f"direction (d_z = {dz})."
        )

    def reaches(n: int) -> bool:
        return power_at(n, dz, alpha, alternative) >= power

    if reaches(2):
        return 2
    low, high = 2, 4
    while not reaches(high):
        low, high = high, high * 2
        if high > 10**9:
            raise AnalysisError(f"d_z = {dz} is too small to be detected with any feasible n.")
    while high - low > 1:
        middle = (low + high) // 2
        if reaches(middle):
            high = middle
        else:
            low = middle
    return high


def observed_power(
    n: int, observed_dz: float, alpha: float = 0.05, alternative: Alternative = "two-sided"
) -> float:
    """Power computed at the observed effect size ("post-hoc" power).

    Observed (post-hoc) power is a one-to-one function of the p-value (Hoenig &
    Heisey (2001)), so it adds nothing to the p-value and cannot show that a
    non-significant result was 'underpowered'; use the confidence interval and the
    minimum detectable effect instead. Show it only on request, beside
    :data:`OBSERVED_POWER_CAVEAT` (this same sentence).

    Parameters
    ----------
    n : int
        Number of complete pairs.
    observed_dz : float
        The d_z of the study itself.
    alpha : float
        Significance level.
    alternative : {"two-sided", "less", "greater"}
        As in :func:`power_at`.

    Returns
    -------
    float
        ``power_at(n, observed_dz, alpha, alternative)``.

    Notes
    -----
    No missing data: ``n`` counts complete pairs. Same formula as :func:`power_at`.
    """
    return power_at(n, observed_dz, alpha, alternative)


def _ci_half_width(n: int, sd_change: float, alpha: float) -> float:
    return float(stats.t.ppf(1.0 - alpha / 2.0, n - 1) * sd_change / math.sqrt(n))


@dataclass(frozen=True)
class PowerResult:
    """What the study can and cannot detect, for one lab.

    Attributes
    ----------
    n, sd_change, delta, alpha, power, alternative
        The inputs: pairs, SD of change (lab units), the change worth detecting
        (lab units, follow-up − baseline), significance level, target power and
        alternative.
    power_at_delta : float
        Power with ``n`` pairs if the true mean change were ``delta``.
    n_required : int
        Pairs needed to reach ``power`` for ``delta`` at this SD of change.
    mde, mde_dz : float
        Minimum detectable change at ``power`` (lab units and d_z).
    mde_90, mde_dz_90 : float
        The same at 90 % power.
    ci_half_width : float
        Half width of the two-sided ``1 - alpha`` t confidence interval of the mean
        change, in lab units, at this n and SD.

    Examples
    --------
    Ten pairs, SD of change 1.23, a change of 1 worth detecting; the power
    cross-checked against SciPy's noncentral t:

    >>> from scipy import stats
    >>> result = power_summary(10, 1.23, 1.0)
    >>> result.n_required, round(result.power_at_delta, 3)
    (14, 0.63)
    >>> critical, shift = stats.t.ppf(0.975, 9), 1.0 / 1.23 * np.sqrt(10)
    >>> by_scipy = stats.nct.sf(critical, 9, shift) + stats.nct.cdf(-critical, 9, shift)
    >>> bool(np.isclose(result.power_at_delta, by_scipy))
    True
    """

    n: int
    sd_change: float
    delta: float
    alpha: float
    power: float
    alternative: str
    power_at_delta: float
    n_required: int
    mde: float
    mde_dz: float
    mde_90: float
    mde_dz_90: float
    ci_half_width: float

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary, unrounded."""
        return {
            "n": self.n,
            "sd_change": self.sd_change,
            "delta": self.delta,
            "alpha": self.alpha,
            "power": self.power,
            "alternative": self.alternative,
            "power_at_delta": self.power_at_delta,
            "n_required": self.n_required,
            "mde": self.mde,
            "mde_dz": self.mde_dz,
            "mde_90": self.mde_90,
            "mde_dz_90": self.mde_dz_90,
            "ci_half_width": self.ci_half_width,
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per quantity: ``quantity``, ``label``, ``value``."""
        labels = {
            "n": "Complete pairs",
            "sd_change": "SD of change",
            "delta": "Change worth detecting",
            "alpha": "Significance level (alpha)",
            "power": "Target power",
            "alternative": "Alternative hypothesis",
            "power_at_delta": "Power to detect that change with these pairs",
            "n_required": "Pairs needed to detect that change at the target power",
            "mde": "Smallest change detectable at the target power (lab units)",
            "mde_dz": "Smallest change detectable at the target power (d_z)",
            "mde_90": "Smallest change detectable at 90 % power (lab units)",
            "mde_dz_90": "Smallest change detectable at 90 % power (d_z)",
            "ci_half_width": f"Half width of the {1 - self.alpha:.0%} CI of the mean change",
        }
        data = self.to_dict()
        return quantity_frame([(key, label, data[key]) for key, label in labels.items()])


def power_summary(
    n: int,
    sd_change: float,
    delta: float,
    alpha: float = 0.05,
    power: float = 0.8,
    alternative: Alternative = "two-sided",
) -> PowerResult:
    """Power, sample size and minimum detectable effect for one lab.

    Parameters
    ----------
    n : int
        Number of complete pairs in the study.
    sd_change : float
        SD of the change (observed, or assumed), in lab units; must be > 0.
    delta : float
        The change a clinician calls meaningful, in lab units, signed as
        follow-up − baseline. Only its size matters for a two-sided test; for "less"
        it must be negative and for "greater" positive. Per-lab defaults (sizes):
        :func:`analytics.labs.default_change`.
    alpha : float
        Significance level.
    power : float
        Target power.
    alternative : {"two-sided", "less", "greater"}
        Alternative hypothesis.

    Returns
    -------
    PowerResult

    Notes
    -----
    No missing data: ``n`` counts complete pairs and ``sd_change`` is the SD of the
    complete-pair changes. With :math:`d_z = \\delta / SD_{change}`:
    ``power_at_delta = power_at(n, d_z)``, ``n_required = n_required(d_z)``,
    ``mde = mde_dz(n) * SD_change`` and
    ``ci_half_width = t_{1-alpha/2, n-1} * SD_change / sqrt(n)``.
    """
    n = _check_n(n)
    alpha = _check_probability(alpha, "significance level (alpha)")
    power = _check_probability(power, "target power")
    alternative = _check_alternative(alternative)
    sd_change = _check_dz(sd_change)
    if sd_change <= 0:
        raise AnalysisError(f"The SD of change must be above zero, not {sd_change}.")
    delta = _check_dz(delta)
    if delta == 0:
        raise AnalysisError("The change worth detecting must not be zero.")
    dz = delta / sd_change
    dz_80 = mde_dz(n, power, alpha, alternative)
    dz_90 = mde_dz(n, 0.9, alpha, alternative)
    return PowerResult(
        n=n,
        sd_change=sd_change,
        delta=delta,
        alpha=alpha,
        power=power,
        alternative=alternative,
        power_at_delta=power_at(n, dz, alpha, alternative),
        n_required=n_required(dz, power, alpha, alternative),
        mde=dz_80 * sd_change,
        mde_dz=dz_80,
        mde_90=dz_90 * sd_change,
        mde_dz_90=dz_90,
        ci_half_width=_ci_half_width(n, sd_change, alpha),
    )


def power_curve_n(
    dz: float,
    n_values: Iterable[int] | None = None,
    alpha: float = 0.05,
    alternative: Alternative = "two-sided",
) -> pd.DataFrame:
    """Power against the number of pairs, for a fixed effect d_z.

    Parameters
    ----------
    dz : float
        True effect size d_z.
    n_values : iterable of int, optional
        Numbers of pairs; default 2 to 40.
    alpha : float
        Significance level.
    alternative : {"two-sided", "less", "greater"}
        Alternative hypothesis.

    Returns
    -------
    pandas.DataFrame
        Columns ``n`` (int), ``cohen_dz`` (float), ``power`` (float).

    Notes
    -----
    No missing data. Each row is :func:`power_at`.
    """
    values = list(range(2, 41)) if n_values is None else [_check_n(n) for n in n_values]
    return pd.DataFrame(
        {
            "n": pd.Series(values, dtype="int64"),
            "cohen_dz": pd.Series([float(dz)] * len(values), dtype="float64"),
            "power": pd.Series(
                [power_at(n, dz, alpha, alternative) for n in values], dtype="float64"
            ),
        }
    )


def power_curve_effect(
    n: int,
    dz_values: Iterable[float] | None = None,
    alpha: float = 0.05,
    alternative: Alternative = "two-sided",
    sd_change: float | None = None,
) -> pd.DataFrame:
    """Power against the effect size, for a fixed number of pairs.

    Parameters
    ----------
    n : int
        Number of complete pairs.
    dz_values : iterable of float, optional
        Effect sizes; default 0 to 2 in steps of 0.05 (negative for "less").
    alpha : float
        Significance level.
    alternative : {"two-sided", "less", "greater"}
        Alternative hypothesis.
    sd_change : float, optional
        If given, a ``change`` column gives each effect in lab units (d_z × SD).

    Returns
    -------
    pandas.DataFrame
        Columns ``n``, ``cohen_dz``, ``power`` and, with ``sd_change``, ``change``.

    Notes
    -----
    No missing data. Each row is :func:`power_at`.
    """
    n = _check_n(n)
    if dz_values is None:
        grid = np.linspace(0.0, 2.0, 41)
        values = list(-grid if alternative == "less" else grid)
    else:
        values = [_check_dz(dz) for dz in dz_values]
    frame = pd.DataFrame(
        {
            "n": pd.Series([n] * len(values), dtype="int64"),
            "cohen_dz": pd.Series(values, dtype="float64"),
            "power": pd.Series(
                [power_at(n, dz, alpha, alternative) for dz in values], dtype="float64"
            ),
        }
    )
    if sd_change is not None:
        if not sd_change > 0:
            raise AnalysisError(f"The SD of change must be above zero, not {sd_change}.")
        frame["change"] = frame["cohen_dz"] * float(sd_change)
    return frame


def n_grid(n_now: int, n_needed: int | None, points: int = 200, cap: int = 100_000) -> list[int]:
    """Numbers of pairs for a power-against-n curve: from 2 past both the current n
    and the n needed, at most ``points`` values and never above ``cap``."""
    upper = max(40, 2 * int(n_now), int(n_needed or 0) + 10)
    upper = min(upper, cap)
    values = np.unique(np.linspace(2, upper, min(upper - 1, points)).round().astype(int))
    return [int(v) for v in values]
