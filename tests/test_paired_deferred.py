"""The paired comparison's deferred parts and its fast resampling give the plain results.

The sign-flip test, the bootstrap, the power figures, the Bayes factor and the ratio
t-test of a paired result are computed when first read (analytics/stats/paired_deferred.py):
they must equal what a direct call of each computation gives, survive copies and
pickling, and not run until read. The sign-flip test draws its signs from the raw bits
of the generator and the BCa interval uses an O(n) jackknife: they are compared here
with numpy's ``integers`` and with scipy's ``bootstrap(method="BCa")``.
"""

from __future__ import annotations

import pickle
from dataclasses import replace

import numpy as np
import pytest
from scipy import stats

from analytics.stats import paired_deferred, robust
from analytics.stats.bayes import bayes_factor
from analytics.stats.paired import paired_change
from analytics.stats.power import mde_dz

RNG = np.random.default_rng(11)
BASELINE = np.round(RNG.normal(86, 6, 240), 1)
FOLLOW_UP = np.round(BASELINE + RNG.normal(-1.5, 3, 240), 1)
OPTIONS = {"n_bootstrap": 499, "n_permutations": 4000, "log_scale_available": True}


@pytest.fixture
def result():
    return paired_change(BASELINE, FOLLOW_UP, **OPTIONS)


def test_deferred_quantities_are_not_computed_until_read(result, monkeypatch):
    calls = []
    monkeypatch.setattr(
        paired_deferred, "sign_flip", lambda *a: calls.append("sign flip") or (0.5, "x")
    )
    fresh = paired_change(BASELINE, FOLLOW_UP, **OPTIONS)
    assert calls == [] and fresh._deferred.computed() == ()
    assert fresh.mean_change == result.mean_change and fresh.wilcoxon_p == result.wilcoxon_p
    assert fresh.sign_flip_p == 0.5 and calls == ["sign flip"]
    fresh.sign_flip_method  # noqa: B018 (read again: not computed again)
    assert calls == ["sign flip"]
    assert set(fresh._deferred.computed()) == {"sign_flip_p", "sign_flip_method"}


def test_deferred_quantities_equal_the_direct_computations(result):
    changes = FOLLOW_UP - BASELINE
    p, method = robust.sign_flip(changes, 4000, robust.DEFAULT_SEED)
    assert (result.sign_flip_p, result.sign_flip_method) == (p, method)
    low, high, note = robust.bootstrap_bca(changes, 0.95, 499, robust.DEFAULT_SEED)
    assert (result.bootstrap_ci_low, result.bootstrap_ci_high, result.bootstrap_note) == (
        low,
        high,
        note,
    )
    assert result.mde_dz_80 == mde_dz(240, 0.8, 0.05)
    assert result.bayes == bayes_factor(result.t, 240)
    assert result.ratio is not None and result.ratio_note is None


def test_copies_and_pickles_carry_the_deferred_quantities(result):
    copied = replace(result, censored_note="note")
    assert copied.sign_flip_p == result.sign_flip_p
    assert result._deferred.computed()  # computed once, through the copy
    restored = pickle.loads(pickle.dumps(result))
    assert restored.bootstrap_ci_low == result.bootstrap_ci_low
    assert restored.to_dict() == result.to_dict()


def test_to_dict_lists_every_quantity_in_its_place(result):
    keys = list(result.to_dict())
    assert "_deferred" not in keys
    after_shapiro = keys[keys.index("shapiro_p") + 1 : keys.index("shapiro_p") + 8]
    assert after_shapiro == [
        "sign_flip_p",
        "sign_flip_method",
        "bootstrap_ci_low",
        "bootstrap_ci_high",
        "bootstrap_note",
        "mde_dz_80",
        "n_for_80_power",
    ]
    assert keys[keys.index("patient_ids") + 1 : keys.index("patient_ids") + 3] == [
        "ratio",
        "ratio_note",
    ]


def test_a_power_target_below_alpha_is_still_refused_at_once():
    with pytest.raises(Exception, match="must be larger than alpha"):
        paired_change(BASELINE, FOLLOW_UP, alpha=0.85)


@pytest.mark.parametrize("counts", [(10,), (7, 4), (1, 1, 1), (999, 2, 3001)])
def test_fast_signs_are_numpys_bounded_integers(counts):
    plain, fast = np.random.default_rng(5), robust._Signs(np.random.default_rng(5))
    for count in counts:
        expected = plain.integers(0, 2, size=count)
        assert np.array_equal(fast.draw(count), expected.astype(float))


def _plain_sign_flip(changes: np.ndarray, n_permutations: int, seed: int) -> float:
    """The test as first written: numpy's integers and a matrix product."""
    magnitudes = np.abs(changes)
    threshold = abs(float(changes.sum())) - 1e-10 * float(magnitudes.sum())
    signs = np.random.default_rng(seed).integers(0, 2, size=(n_permutations, len(changes)))
    hits = int(np.count_nonzero(np.abs((signs * 2 - 1) @ magnitudes) >= threshold))
    return (hits + 1) / (n_permutations + 1)


@pytest.mark.parametrize("decimals", [None, 1, 0])
def test_monte_carlo_sign_flip_equals_the_plain_computation(decimals):
    rng = np.random.default_rng(decimals or 3)
    changes = rng.normal(-0.4, 3, 333)
    changes = changes if decimals is None else np.round(changes, decimals)
    p, _method = robust.sign_flip(changes, 3000, 7)
    assert p == _plain_sign_flip(changes, 3000, 7)


@pytest.mark.parametrize("n", [5, 60, 1500])
def test_bca_interval_equals_scipys(n):
    rng = np.random.default_rng(n)
    changes = np.round(rng.gamma(2.0, 2.0, n) - 3.0, 1)
    low, high, note = robust.bootstrap_bca(changes, 0.95, 999, 42)
    reference = stats.bootstrap(
        (changes,), np.mean, n_resamples=999, method="BCa", rng=np.random.default_rng(42)
    ).confidence_interval
    assert "BCa" in note
    assert low == pytest.approx(reference.low, rel=1e-12)
    assert high == pytest.approx(reference.high, rel=1e-12)
