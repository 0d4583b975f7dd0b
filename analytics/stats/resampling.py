"""The resampling parts of a paired comparison, computed when they are shown.

The sign-flip permutation test and the BCa bootstrap interval are the slow parts of
:func:`~analytics.stats.paired.paired_change` (about half a second together at 10,000
pairs). A dashboard page computes ``paired_change(..., resampling=False)`` for what it
always shows, and :func:`with_resampling` when the robustness checks are opened.
"""

from __future__ import annotations

from dataclasses import replace

from analytics.stats.paired import PairedResult, paired_change  # noqa: F401  (the doctest's)

__all__ = ["is_resampled", "with_resampling"]


def is_resampled(result: PairedResult) -> bool:
    """True when ``result`` has its sign-flip test and bootstrap interval (or computes
    them when read)."""
    deferred = result._deferred
    return deferred is None or not deferred.held


def with_resampling(result: PairedResult) -> PairedResult:
    """``result`` with the sign-flip test and the bootstrap interval computed.

    A result of ``paired_change(..., resampling=False)`` then equals the one
    :func:`paired_change` gives with the same arguments (the same pairs, draws and seed).

    Examples
    --------
    >>> baseline, follow_up = [80, 82, 85, 90, 88], [78, 80, 84, 86, 87]
    >>> later = with_resampling(paired_change(baseline, follow_up, resampling=False))
    >>> now = paired_change(baseline, follow_up)
    >>> (later.sign_flip_p, later.bootstrap_ci_low) == (now.sign_flip_p, now.bootstrap_ci_low)
    True
    """
    if is_resampled(result):
        return result
    released = replace(result, _deferred=result._deferred.released())
    # computed here, so that a cached copy carries them
    _ = (released.sign_flip_p, released.bootstrap_ci_low)
    return released
