"""Holm's correction, the paired p-value and procedure KN (Kim and Nelson 2001) for picking the best."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from sim.analysis.selection import (
    KimNelson,
    Selection,
    better_is_lower,
    holm,
    holm_significant,
    kn_constants,
    paired_p_value,
    select_best,
)

# ---------------------------------------------------------------- paired p-value


def test_paired_p_value_matches_scipy_ttest_rel():
    rng = np.random.default_rng(1)
    for n in (2, 3, 10, 40):
        a = rng.normal(0.3, 1, n)
        b = rng.normal(0.0, 1, n) + 0.5 * a
        assert paired_p_value(a - b) == pytest.approx(stats.ttest_rel(a, b).pvalue, rel=1e-10)


def test_paired_p_value_drops_nan_pairs_and_handles_degenerate_cases():
    a = np.array([1.0, 2.5, np.nan, 4.0, 3.0])
    b = np.array([0.5, 2.0, 1.0, np.nan, 1.0])
    keep = ~np.isnan(a - b)
    assert paired_p_value(a - b) == pytest.approx(stats.ttest_rel(a[keep], b[keep]).pvalue, rel=1e-10)
    assert math.isnan(paired_p_value(np.array([1.0, np.nan])))
    assert math.isnan(paired_p_value(np.array([])))
    assert paired_p_value(np.array([2.0, 2.0, 2.0])) == 0.0
    assert paired_p_value(np.zeros(4)) == 1.0


# ---------------------------------------------------------------- Holm


def test_holm_hand_computed_example():
    # sorted: 0.005*4=0.02, 0.01*3=0.03, 0.03*2=0.06, 0.04*1=0.04 -> running max 0.02, 0.03, 0.06, 0.06
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    assert holm_significant([0.01, 0.04, 0.03, 0.005]).tolist() == [True, False, False, True]
    assert holm_significant([0.01, 0.04, 0.03, 0.005], alpha=0.061).tolist() == [True, True, True, True]
    # strictly below alpha, like an interval that must exclude 0 and not merely touch it
    assert holm_significant([0.01, 0.04, 0.03, 0.005], alpha=0.06).tolist() == [True, False, False, True]


def test_holm_cap_nan_and_single():
    np.testing.assert_allclose(holm([0.5, 0.6]), [1.0, 1.0])
    adjusted = holm([0.01, np.nan, 0.04])  # m = 2: the NaN is not counted
    np.testing.assert_allclose(adjusted, [0.02, np.nan, 0.04])
    assert holm_significant([0.01, np.nan, 0.04]).tolist() == [True, False, True]
    np.testing.assert_allclose(holm([0.2]), [0.2])
    assert holm([]).shape == (0,)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        holm([0.1, 1.5])


def test_holm_is_monotone_bounded_and_matches_the_step_down_rule():
    rng = np.random.default_rng(2)
    for _ in range(200):
        m = int(rng.integers(1, 9))
        p = rng.uniform(0, 0.2, m) ** rng.uniform(0.5, 2)
        adjusted = holm(p)
        assert (adjusted >= p - 1e-15).all()
        assert (adjusted <= 1).all()
        order = np.argsort(p)
        assert (np.diff(adjusted[order]) >= -1e-15).all()  # same order as the raw p-values
        for alpha in (0.01, 0.05, 0.1):
            # step-down: reject the j-th smallest while every smaller one met p < alpha / (m - j)
            passed = np.cumprod(p[order] * (m - np.arange(m)) < alpha).astype(bool)
            expected = np.zeros(m, dtype=bool)
            expected[order] = passed
            assert holm_significant(p, alpha).tolist() == expected.tolist()


# ---------------------------------------------------------------- KN constants and one screening step


def test_kn_constants_by_hand():
    # k=2, n0=2, alpha=0.05: (0.1)^(-2) = 100 -> eta = 49.5, h2 = 2 * 49.5 * 1 = 99
    assert kn_constants(2, 2, 0.05) == pytest.approx((49.5, 99.0))
    # k=3, n0=3, alpha=0.1: (0.1)^(-1) = 10 -> eta = 4.5, h2 = 2 * 4.5 * 2 = 18
    assert kn_constants(3, 3, 0.1) == pytest.approx((4.5, 18.0))
    # k=5, n0=10, alpha=0.05: 0.025^(-2/9) = 2.26993..., eta = 0.63497, h2 = 11.4294
    assert kn_constants(5, 10, 0.05) == pytest.approx((0.6349672651536731, 11.429410772766115), rel=1e-12)
    with pytest.raises(ValueError, match="k >= 2"):
        kn_constants(1, 10, 0.05)
    with pytest.raises(ValueError, match="alpha"):
        kn_constants(2, 10, 0.6)


@pytest.mark.parametrize(("delta", "eliminated"), [(9.0, True), (5.0, False)])
def test_first_screening_uses_w_by_hand(delta, eliminated):
    # systems 0: (0, 2), 1: (1, 5); differences (-1, -3): S2 = 2; means 1 and 3; h2 = 99 (k=2, n0=2)
    # W(2) = delta / 4 * (99 * 2 / delta^2 - 2): 1.0 for delta=9 (3 > 1 + 1: out), 7.4 for delta=5 (kept)
    first = np.array([[0.0, 1.0], [2.0, 5.0]])
    for minimise, loser in ((True, 1), (False, 0)):
        kn = KimNelson(2, 2, 0.05, delta, minimise=minimise)
        kn.start(first)
        assert kn.done is eliminated
        assert kn.survivors == ([1 - loser] if eliminated else [0, 1])
        if eliminated:
            out = kn.result().systems[loser]
            assert (out.eliminated_at, out.eliminated_by, out.replications) == (2, 1 - loser, 2)


# ---------------------------------------------------------------- KN under the slippage configuration

K, N0, ALPHA, DELTA, BEST = 5, 10, 0.05, 0.5, 2


def slippage(seed: int, corr: float = 0.0, minimise: bool = True, sign: float = 1.0, **kw) -> Selection:
    """Normal systems, sd 1, best (index BEST) at 0, others at DELTA; corr = common noise share; values times sign."""
    rng = np.random.default_rng(seed)
    mu = np.full(K, DELTA)
    mu[BEST] = 0.0

    def sample(systems: list[int], r: int) -> dict[int, float]:
        x = sign * (mu + math.sqrt(corr) * rng.standard_normal() + math.sqrt(1 - corr) * rng.standard_normal(K))
        return {i: float(x[i]) for i in systems}

    return select_best(sample, K, N0, ALPHA, DELTA, minimise=minimise, **kw)


FAST, SLOW = 150, 2000
"""Macro-repetitions of the whole procedure: a quick check on every run, a tight one with -m slow."""


def macro(n: int, corr: float = 0.0) -> list[Selection]:
    return [slippage(1000 + m, corr=corr) for m in range(n)]


@pytest.fixture(scope="module")
def independent() -> list[Selection]:
    return macro(FAST)


@pytest.fixture(scope="module")
def crn() -> list[Selection]:
    return macro(FAST, corr=0.5)


def pcs_floor(n: int, errors: float) -> float:
    """``errors`` standard errors of a PCS estimate from n repetitions below the promised 1 - alpha."""
    return 1 - ALPHA - errors * math.sqrt(ALPHA * (1 - ALPHA) / n)


def test_probability_of_correct_selection_holds_in_slippage_configuration(independent, crn):
    for runs in (independent, crn):
        assert all(s.guarantee and s.ended_by == "one survivor" for s in runs)
        pcs = np.mean([s.best == BEST for s in runs])
        assert pcs >= pcs_floor(FAST, 3), pcs  # a loose bound: few repetitions


@pytest.mark.slow
@pytest.mark.parametrize("corr", [0.0, 0.5])
def test_probability_of_correct_selection_over_many_repetitions(corr):
    runs = macro(SLOW, corr)
    pcs = np.mean([s.best == BEST for s in runs])
    assert pcs >= pcs_floor(SLOW, 2), pcs


def test_common_random_numbers_need_fewer_replications(independent, crn):
    # variance of differences halves (2 -> 1) with half the noise common to all systems
    ind = np.mean([s.total_replications for s in independent])
    cor = np.mean([s.total_replications for s in crn])
    assert cor < 0.75 * ind, (cor, ind)


def test_no_selection_runs_past_the_bound_known_after_the_first_stage(independent, crn):
    for s in (*independent, *crn):
        assert s.n0 <= s.stages <= s.most_stages


def test_clearly_inferior_system_is_eliminated_at_n0_and_never_sampled_again():
    rng = np.random.default_rng(3)
    asked: list[tuple[int, ...]] = []

    def sample(systems: list[int], r: int) -> dict[int, float]:
        asked.append(tuple(systems))
        x = np.array([0.0, 0.0, 100.0]) + rng.standard_normal(3)
        return {i: float(x[i]) for i in systems}

    sel = select_best(sample, 3, 5, 0.05, 1.0, max_replications=30)
    worst = sel.systems[2]
    assert (worst.eliminated_at, worst.replications) == (5, 5)
    assert worst.eliminated_by in (0, 1)
    assert worst.mean > 90
    assert all(2 not in a for a in asked[5:])


def test_most_stages_by_hand():
    # k=2, n0=2, alpha=0.05: h2 = 99; S2 of the differences (-1, -3) = 2; delta = 3: ceil(99 * 2 / 9) = 22
    kn = KimNelson(2, 2, 0.05, 3.0)
    assert kn.most_stages == 2  # before the first stage nothing is known beyond n0
    kn.start(np.array([[0.0, 1.0], [2.0, 5.0]]))
    assert kn.most_stages == 22
    # a huge zone: W is 0 from the start, the bound is n0
    assert KimNelson(2, 2, 0.05, 1e6).most_stages == 2


def test_maximising_is_the_mirror_of_minimising():
    low = slippage(7)
    high = slippage(7, minimise=False, sign=-1.0)  # same draws, negated: the best is the highest
    assert (low.best, low.stages, low.total_replications) == (high.best, high.stages, high.total_replications)
    for a, b in zip(low.systems, high.systems, strict=True):
        assert (a.replications, a.eliminated_at, a.eliminated_by) == (b.replications, b.eliminated_at, b.eliminated_by)
        assert a.mean == pytest.approx(-b.mean)
    assert not high.minimise
    assert high.survivors == (BEST,)


def test_same_seed_same_selection():
    assert slippage(11) == slippage(11)
    assert slippage(11, corr=0.5) == slippage(11, corr=0.5)


def test_cap_ends_without_guarantee():
    sel = slippage(5, max_replications=15)  # too few for delta = 0.5 with unit variance
    assert sel.ended_by == "cap"
    assert not sel.guarantee
    assert sel.stages == 15
    assert len(sel.survivors) > 1
    assert sel.best in sel.survivors
    assert all(sel.systems[i].replications == 15 and sel.systems[i].eliminated_at is None for i in sel.survivors)


# ---------------------------------------------------------------- edge cases and the interface


def test_zero_variance_strictly_worse_goes_at_once_and_a_duplicate_goes_as_identical():
    first = np.tile([1.0, 1.0, 2.0], (4, 1))
    kn = KimNelson(3, 4, 0.05, 0.1, max_replications=7)
    kn.start(first)
    sel = kn.result()
    # 2 is worse with zero variance: out at n0; 1 gave 0's values in every replication: a duplicate of 0
    assert (sel.ended_by, sel.guarantee, sel.stages, sel.best, sel.survivors) == ("one survivor", True, 4, 0, (0,))
    assert (sel.systems[2].eliminated_at, sel.systems[2].eliminated_by, sel.systems[2].identical) == (4, 0, False)
    assert (sel.systems[1].eliminated_at, sel.systems[1].eliminated_by, sel.systems[1].identical) == (4, 0, True)
    # without a cap too: the identical pair ends at once instead of looping forever
    uncapped = select_best(lambda systems, r: dict.fromkeys(systems, 1.0), 2, 4, 0.05, 0.1)
    assert (uncapped.ended_by, uncapped.guarantee, uncapped.stages, uncapped.best) == ("one survivor", True, 4, 0)


def test_duplicates_of_a_noisy_system_go_and_the_rest_runs_as_without_them():
    rng = np.random.default_rng(7)
    noise = rng.normal(size=(400, 3))

    def sample(systems, r):  # system 1 is system 0 again (a change that does not touch the row)
        values = {0: 10 + noise[r, 0], 1: 10 + noise[r, 0], 2: 10.3 + noise[r, 1]}
        return {i: values[i] for i in systems}

    with_copy = select_best(sample, 3, 10, 0.05, 0.5)
    assert with_copy.systems[1].identical
    assert with_copy.systems[1].eliminated_at == 10
    assert with_copy.systems[1].eliminated_by == 0

    def without(systems, r):
        values = sample([0, 2], r)
        return {i: values[[0, 2][i]] for i in systems}

    alone = select_best(without, 2, 10, 0.05, 0.5)
    # the copy costs nothing past the first stage: 0 and 2 then meet as they would alone
    assert with_copy.best == alone.best == 0
    assert with_copy.systems[2].eliminated_by == 0
    assert alone.systems[1].eliminated_by == 0
    assert with_copy.systems[1].replications == 10  # the copy cost the first stage only


def test_equal_means_that_are_not_duplicates_survive_until_cap():
    first = np.array([[1.0, 2.0], [3.0, 2.0], [2.0, 2.0]])
    kn = KimNelson(2, 3, 0.05, 0.1, max_replications=5)
    kn.start(first)
    assert kn.survivors == [0, 1]  # equal means 2.0, differences with variance: W > 0
    while not kn.done:
        kn.add({0: 2.0, 1: 2.0})
    sel = kn.result()
    assert (sel.ended_by, sel.guarantee, sel.stages, sel.survivors) == ("cap", False, 5, (0, 1))
    assert not any(s.identical for s in sel.systems)
    # constant but different: W = 0, the worse mean goes at n0
    split = select_best(lambda systems, r: {i: 1.0 + 0.001 * i for i in systems}, 2, 4, 0.05, 10.0)
    assert (split.best, split.guarantee, split.systems[1].eliminated_at) == (0, True, 4)


def test_single_system_is_trivially_best():
    calls = []
    sel = select_best(lambda s, r: calls.append(r) or dict.fromkeys(s, 3.0), 1, 3, 0.05, 1.0)
    assert (sel.best, sel.guarantee, sel.ended_by, sel.total_replications) == (0, True, "single system", 3)
    assert calls == [0, 1, 2]


def test_add_accepts_dict_survivor_array_or_full_array():
    rng = np.random.default_rng(4)
    data = rng.normal([0, 0.4, 1.5, 0.2], 1, size=(300, 4))

    def run(form: str) -> Selection:
        kn = KimNelson(4, 5, 0.05, 0.5)
        kn.start(data[:5])
        while not kn.done:
            row, alive = data[kn.replications], kn.survivors
            kn.add({i: row[i] for i in alive} if form == "dict" else row[alive] if form == "survivors" else row)
        return kn.result()

    assert run("dict") == run("survivors") == run("full")


def test_invalid_input_is_refused():
    with pytest.raises(ValueError, match="n0 >= 2"):
        KimNelson(3, 1, 0.05, 1.0)
    with pytest.raises(ValueError, match="delta"):
        KimNelson(3, 5, 0.05, 0.0)
    with pytest.raises(ValueError, match="max_replications"):
        KimNelson(3, 5, 0.05, 1.0, max_replications=4)
    first = np.zeros((5, 3))
    first[2, 1] = np.nan
    with pytest.raises(ValueError, match="system 1 .* replication 2"):
        KimNelson(3, 5, 0.05, 1.0).start(first)
    with pytest.raises(ValueError, match="n0 x k"):
        KimNelson(3, 5, 0.05, 1.0).start(np.zeros((4, 3)))
    kn = KimNelson(3, 5, 0.05, 1.0)
    with pytest.raises(RuntimeError):
        kn.add({0: 1.0})
    kn.start(np.random.default_rng(5).normal(size=(5, 3)))
    with pytest.raises(RuntimeError):
        kn.result()
    with pytest.raises(ValueError, match="surviving"):
        kn.add({0: 1.0})
    with pytest.raises(ValueError, match="system 2 has a non-finite"):
        kn.add({0: 1.0, 1: 1.0, 2: math.nan})
    with pytest.raises(ValueError, match="system 0 in replication 1"):
        select_best(lambda s, r: {} if r == 1 else dict.fromkeys(s, 0.0), 2, 3, 0.05, 1.0)


@pytest.mark.parametrize(
    ("metric", "lower"),
    [
        ("wait_mean_min", True),
        ("wait_p95_min", True),
        ("time_in_system_mean_min", True),
        ("throughput_per_day", False),
        ("persons_per_day", False),
        ("wagons_per_day", False),
        ("delay_cost_per_day", True),  # a cost counted per day is still a cost
        ("co2_kg", True),
    ],
)
def test_which_way_is_better(metric, lower):
    assert better_is_lower(metric) is lower


def test_a_kpi_of_unknown_direction_is_refused():
    with pytest.raises(ValueError, match="higher or a lower utilisation is better"):
        better_is_lower("utilisation")


def test_every_compared_kpi_has_a_known_better_direction():
    from sim.analysis.comparison import METRICS

    unknown = []
    for metric in METRICS:
        try:
            better_is_lower(metric)
        except ValueError:
            unknown.append(metric)
    assert unknown == []  # a KPI added to the comparison must say which way is better
