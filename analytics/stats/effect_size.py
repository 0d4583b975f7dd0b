"""Effect size of a paired change: the confidence interval of Cohen's d_z.

Cohen's d_z = mean change / SD of change; its interval inverts the noncentral t
distribution of the observed t (exact under normality).
"""

from __future__ import annotations

import math

from scipy import optimize, special

from analytics.errors import AnalysisError

__all__ = ["MAX_BRACKET_STEPS", "dz_interval"]


#: Most times the bracket of a root is widened before the search gives up.
MAX_BRACKET_STEPS = 200


def dz_interval(t: float, n: int, confidence: float) -> tuple[float, float]:
    """CI of d_z by inverting the noncentral t distribution of the observed t.

    Raises :class:`AnalysisError` when ``t`` is not finite or no root is bracketed
    within :data:`MAX_BRACKET_STEPS` widenings (each doubles the step).
    """
    if not math.isfinite(t):
        raise AnalysisError(
            "The confidence interval of d_z cannot be computed: the t statistic is not a "
            "finite number (the changes are too large or not numbers)."
        )
    df = n - 1
    tail = (1.0 - confidence) / 2.0
    unbracketed = AnalysisError(
        f"The confidence interval of d_z could not be computed for t = {t:g} on {df} "
        "degrees of freedom."
    )

    def solve(target: float) -> float:
        # nctdtr(df, ncp, t) = P(T <= t | ncp) falls as ncp rises.
        def gap(ncp: float) -> float:
            cdf = float(special.nctdtr(df, ncp, t))
            if math.isnan(cdf):  # underflow far in a tail
                cdf = 0.0 if ncp > t else 1.0
            return cdf - target

        width = 2.0 + abs(t) / 2.0
        low, high = t - width, t + width
        for _ in range(MAX_BRACKET_STEPS):
            if gap(low) >= 0:
                break
            low -= width
            width *= 2
        else:
            raise unbracketed
        for _ in range(MAX_BRACKET_STEPS):
            if gap(high) <= 0:
                break
            high += width
            width *= 2
        else:
            raise unbracketed
        if not (math.isfinite(low) and math.isfinite(high)):
            raise unbracketed
        try:
            return float(optimize.brentq(gap, low, high, xtol=1e-12, rtol=1e-12, maxiter=500))
        except (RuntimeError, ValueError) as error:  # no convergence, or no sign change
            raise unbracketed from error

    ncp_low = solve(1.0 - tail)
    ncp_high = solve(tail)
    return ncp_low / math.sqrt(n), ncp_high / math.sqrt(n)
