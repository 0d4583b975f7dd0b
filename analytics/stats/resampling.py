"""The resampling parts of a paired comparison, computed when they are shown.

The sign-flip permutation test and the BCa bootstrap interval are the slow parts of
:func:`~analytics.stats.paired.paired_change` (about half a second together at 10,000
pairs). A dashboard page computes ``paired_change(..., resampling=False)`` for what it
always shows, and :func:`with_resampling` when the robustness checks are opened.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from analytics.stats.paired import (
    DEFAULT_BOOTSTRAP,
    DEFAULT_PERMUTATIONS,
    NOT_RESAMPLED,
    PairedResult,
    paired_change,  # noqa: F401  (the doctest's)
)
from analytics.stats.robust import DEFAULT_SEED, bootstrap_bca, sign_flip

__all__ = ["is_resampled", "with_resampling"]


def is_resampled(result: PairedResult) -> bool:
    """True when ``result`` has its sign-flip test and bootstrap interval."""
    return result.bootstrap_note != NOT_RESAMPLED


def with_resampling(
    result: PairedResult,
    *,
    n_permutations: int = DEFAULT_PERMUTATIONS,
    n_bootstrap: int = DEFAULT_BOOTSTRAP,
    seed: int = DEFAULT_SEED,
) -> PairedResult:
    """``result`` with the sign-flip test and the bootstrap interval computed.

    A result of ``paired_change(..., resampling=False)`` then equals the one
    :func:`paired_change` gives with the same arguments (the same pairs, draws and seed).

    Examples
    --------
    >>> baseline, follow_up = [80, 82, 85, 90, 88], [78, 80, 84, 86, 87]
    >>> later = with_resampling(paired_change(baseline, follow_up, resampling=False))
    >>> later == paired_change(baseline, follow_up)
    True
    """
    if is_resampled(result):
        return result
    changes = np.array(result.changes, dtype=float)
    sign_flip_p, sign_flip_method = sign_flip(changes, int(n_permutations), int(seed))
    low, high, note = bootstrap_bca(changes, result.confidence, int(n_bootstrap), int(seed))
    return replace(
        result,
        sign_flip_p=sign_flip_p,
        sign_flip_method=sign_flip_method,
        bootstrap_ci_low=low,
        bootstrap_ci_high=high,
        bootstrap_note=note,
    )
