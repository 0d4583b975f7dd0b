"""The parts of a paired comparison computed when first looked at, then kept.

The paired t-test, the Wilcoxon and Shapiro–Wilk tests and the d_z interval come at
once with :func:`~analytics.stats.paired.paired_change`, in about the time SciPy takes
for those tests on the arrays. The rest costs far more at a large cohort (the sign-flip
test and the bootstrap draw tens of millions of random numbers at 10,000 pairs; the
power figures and the Bayes factor solve and integrate numerically) and is often not
shown at all. So each of these groups is computed the first time one of its quantities
is read, from the same changes, settings and seed, and kept with the result: the
numbers are those an immediate computation gives.

The groups: the Wilcoxon test's note (``wilcoxon_note``: what R would print, from two
more rankings), the values of the pairs (``baseline_values``, ``follow_up_values``), the
sign-flip test (``sign_flip_p``, ``sign_flip_method``), the bootstrap
interval (``bootstrap_ci_low``, ``bootstrap_ci_high``, ``bootstrap_note``), the power
figures (``mde_dz_80``, ``n_for_80_power``), the Bayes factor (``bayes``) and the ratio
(log) t-test (``ratio``, ``ratio_note``). Copies of a result (``dataclasses.replace``,
pickling) share or carry what was computed.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from analytics.errors import AnalysisError
from analytics.stats import power as power_analysis
from analytics.stats.bayes import bayes_factor
from analytics.stats.common import Pairs
from analytics.stats.ratio import ratio_from_pairs
from analytics.stats.robust import RankedChanges, bootstrap_bca, sign_flip, signed_rank_note

__all__ = ["DEFERRED", "Deferred", "pairs_for_80_power"]

#: group -> its quantities, in the order a paired result lists them
_GROUPS: dict[str, tuple[str, ...]] = {
    "wilcoxon_note": ("wilcoxon_note",),
    "pair_values": ("baseline_values", "follow_up_values"),
    "sign_flip": ("sign_flip_p", "sign_flip_method"),
    "bootstrap": ("bootstrap_ci_low", "bootstrap_ci_high", "bootstrap_note"),
    "power": ("mde_dz_80", "n_for_80_power"),
    "bayes": ("bayes",),
    "ratio": ("ratio", "ratio_note"),
}
_GROUP_OF = {name: group for group, names in _GROUPS.items() for name in names}
#: Every quantity computed when first read.
DEFERRED = tuple(_GROUP_OF)


def pairs_for_80_power(cohen_dz: float, alpha: float) -> int | None:
    """Pairs for 80 % two-sided power at the observed d_z; None when d_z is (near) 0."""
    try:
        return power_analysis.n_required(abs(cohen_dz), 0.8, alpha)
    except AnalysisError:
        return None


class Deferred:
    """The inputs of the deferred groups of one paired comparison, and what was computed."""

    def __init__(
        self,
        *,
        pairs: Pairs,
        changes: np.ndarray,
        t: float,
        cohen_dz: float,
        alpha: float,
        confidence: float,
        n_permutations: int,
        n_bootstrap: int,
        seed: int,
        prior_scale: float,
        log_scale_available: bool,
        ranked: RankedChanges,
        wilcoxon_p: float,
    ) -> None:
        self._pairs = pairs
        self._changes = changes
        self._t = t
        self._cohen_dz = cohen_dz
        self._alpha = alpha
        self._confidence = confidence
        self._n_permutations = n_permutations
        self._n_bootstrap = n_bootstrap
        self._seed = seed
        self._prior_scale = prior_scale
        self._log_scale = log_scale_available
        self._ranked = ranked
        self._wilcoxon_p = wilcoxon_p
        self._values: dict[str, Any] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> Any:
        """The quantity ``name``, computing its group the first time."""
        if name not in self._values:
            with self._lock:  # two sessions reading at once compute it once
                if name not in self._values:
                    group = _GROUP_OF[name]
                    values = getattr(self, f"_{group}")()
                    self._values.update(zip(_GROUPS[group], values, strict=True))
        return self._values[name]

    def hold_resampling(self, note: str) -> None:
        """Show the sign-flip test and the bootstrap as not computed yet (``note``).

        A page that does not show them fills them so; :meth:`released` gives the
        copy that computes them, from the same changes and seed, when they are shown.
        """
        method = sign_flip(np.zeros(len(self._changes)), self._n_permutations, self._seed)[1]
        self._values.update(
            sign_flip_p=None,
            sign_flip_method=method,
            bootstrap_ci_low=None,
            bootstrap_ci_high=None,
            bootstrap_note=note,
        )
        self._held = True

    @property
    def held(self) -> bool:
        """True while the resampling parts are placeholders (:meth:`hold_resampling`)."""
        return getattr(self, "_held", False)

    def released(self) -> Deferred:
        """A copy whose resampling placeholders are dropped: computed when read."""
        copy = Deferred.__new__(Deferred)
        copy.__dict__.update(self.__dict__)
        held = (*_GROUPS["sign_flip"], *_GROUPS["bootstrap"])
        copy._values = {k: v for k, v in self._values.items() if k not in held}
        copy._held = False
        copy._lock = threading.Lock()
        return copy

    def computed(self) -> tuple[str, ...]:
        """The quantities computed so far (for tests and the benchmark)."""
        return tuple(self._values)

    def _wilcoxon_note(self) -> tuple[Any, ...]:
        return (signed_rank_note(self._ranked, self._wilcoxon_p, self._alpha),)

    def _pair_values(self) -> tuple[Any, ...]:
        return tuple(self._pairs.baseline.tolist()), tuple(self._pairs.follow_up.tolist())

    def _sign_flip(self) -> tuple[Any, ...]:
        return sign_flip(self._changes, self._n_permutations, self._seed)

    def _bootstrap(self) -> tuple[Any, ...]:
        return bootstrap_bca(self._changes, self._confidence, self._n_bootstrap, self._seed)

    def _power(self) -> tuple[Any, ...]:
        mde = power_analysis.mde_dz(len(self._changes), 0.8, self._alpha)
        return mde, pairs_for_80_power(self._cohen_dz, self._alpha)

    def _bayes(self) -> tuple[Any, ...]:
        return (bayes_factor(self._t, len(self._changes), self._prior_scale),)

    def _ratio(self) -> tuple[Any, ...]:
        if not self._log_scale:
            return None, None
        try:
            return ratio_from_pairs(self._pairs, self._confidence), None
        except AnalysisError as problem:
            return None, f"Ratio (log) t-test not computed: {problem}"

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
