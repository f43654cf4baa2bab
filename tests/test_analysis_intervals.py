"""popsim.analysis.intervals: bootstrap intervals within a run, t intervals across seeds that keep to the
metric's range, and the one table of metric kinds."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from popsim import datasets
from popsim.analysis import (METRIC_KINDS, agreement_interval, bootstrap_ci, mean_difference_ci, randall_interval,
                             seed_interval, summarize_seeds)
from popsim.errors import PopsimError
from popsim.reporting.evaluation import headline
from popsim.values import CODES10


def test_across_seeds_correlations_near_one_stay_inside_minus_one_one():
    # The old t interval of 0.987, 0.99, 0.95: mean 0.975667, SD 0.022279, t(.975, 2) = 4.302653, half-width
    # 4.302653 * 0.022279 / sqrt(3) = 0.055345 -> [0.920321, 1.031012], above 1.
    values = [0.987, 0.99, 0.95]
    m, sd = np.mean(values), np.std(values, ddof=1)
    half = stats.t.ppf(0.975, 2) * sd / math.sqrt(3)
    assert m + half > 1
    mean, low, high = seed_interval(values, "correlation")
    assert mean == pytest.approx(0.975667, abs=1e-6)
    assert -1 < low < mean < high < 1
    # on the Fisher z scale: atanh(0.975667) = 2.198430, the half-width carried by 1 / (1 - m^2) = 20.8012:
    # 2.198430 -+ 0.055344 * 20.8012 = [1.047208, 3.349652] -> tanh = [0.780722, 0.997539]
    assert (low, high) == pytest.approx((0.780722, 0.997539), abs=2e-6)
    for vals in ([0.987, 0.99, 0.995], [0.999, 0.9999, 0.99], [-0.99, -0.95, -0.999], [0.2, 0.99, 0.6]):
        mean, low, high = seed_interval(vals, "correlation")
        assert -1 < low <= mean <= high < 1, vals


def test_across_seeds_proportions_positive_and_unbounded():
    mean, low, high = seed_interval([0.001, 0.01, 0.02], "proportion")
    assert 0 < low < mean < high < 1
    mean, low, high = seed_interval([0.0, 2.0, 1.0], "positive")
    assert 0 < low < mean == 1.0 < high
    # unbounded: the textbook t interval. 1, 2, 3: mean 2, SD 1, 2 +- 4.302653 / sqrt(3) = 2 +- 2.484138
    assert seed_interval([1, 2, 3]) == pytest.approx((2.0, -0.484138, 4.484138), abs=1e-6)
    assert seed_interval([0.7, 0.7, 0.7], "correlation") == pytest.approx((0.7, 0.7, 0.7))
    assert seed_interval([1.0, 1.0], "proportion") == (1.0, 1.0, 1.0)
    m, low, high = seed_interval([0.5], "correlation")
    assert m == 0.5 and math.isnan(low) and math.isnan(high)
    with pytest.raises(PopsimError, match="metric kind"):
        seed_interval([1, 2], "ratio")


def test_every_headline_metric_has_a_kind():
    numeric = {k for k in headline({"answers": {}}) if k != "game_signs"}  # game_signs is text ("3/5")
    assert numeric <= set(METRIC_KINDS), sorted(numeric - set(METRIC_KINDS))
    assert METRIC_KINDS["structure_r"] == "correlation" and METRIC_KINDS["items_js"] == "proportion"
    assert METRIC_KINDS["randall_ci"] == "correlation" and METRIC_KINDS["game_slope"] == "unbounded"


def test_summarize_seeds_uses_the_kind_of_each_metric():
    table = pd.DataFrame({"strategy": ["a"] * 6, "seed": [1, 2, 3] * 2,
                          "metric": ["means_r"] * 3 + ["game_slope"] * 3,
                          "value": [0.987, 0.99, 0.95, 1.0, 2.0, 3.0]})
    s = summarize_seeds(table, ["strategy"]).set_index("metric")
    assert list(s.columns) == ["strategy", "kind", "n_seeds", "mean", "sd", "low", "high"]
    assert s.loc["means_r", "kind"] == "correlation" and s.loc["means_r", "high"] < 1
    assert s.loc["means_r", ["mean", "low", "high"]].tolist() == pytest.approx(
        seed_interval([0.987, 0.99, 0.95], "correlation"))
    assert s.loc["game_slope", ["low", "high"]].tolist() == pytest.approx([-0.484138, 4.484138], abs=1e-6)
    assert summarize_seeds(pd.DataFrame(), ["strategy"]).empty


def test_bootstrap_ci_bca_is_scipys_on_the_same_resamples():
    x = np.random.default_rng(2).exponential(size=40)
    est, low, high = bootstrap_ci(x, lambda d: d.mean(axis=-1), n_boot=999, method="BCa", vectorized=True, rng=3)
    ref = stats.bootstrap((x,), np.mean, n_resamples=999, method="BCa", batch=100, rng=np.random.default_rng(3))
    assert est == x.mean()
    assert (low, high) == pytest.approx(tuple(ref.confidence_interval))
    # the same resamples through a plain (not vectorized) statistic
    assert bootstrap_ci(x, np.mean, n_boot=999, method="BCa", rng=3) == pytest.approx((est, low, high))
    with pytest.raises(PopsimError, match="bootstrap method"):
        bootstrap_ci(x, np.mean, method="studentized")


def test_expected_interval_of_a_mean_is_the_percentile_interval():
    # for an unbiased statistic with a symmetric bootstrap distribution, the basic interval around the
    # bootstrap mean and the percentile interval agree up to Monte Carlo error
    x = np.random.default_rng(4).normal(size=200)
    _, lo_e, hi_e = bootstrap_ci(x, lambda d: d.mean(axis=-1), n_boot=4000, method="expected", vectorized=True, rng=1)
    _, lo_p, hi_p = bootstrap_ci(x, lambda d: d.mean(axis=-1), n_boot=4000, method="percentile", vectorized=True,
                                 rng=1)
    assert abs(lo_e - lo_p) < 0.01 and abs(hi_e - hi_p) < 0.01


def _population(n, seed):
    """n agents whose 10 values correlate like DE_ESS9 (centered): the structure r of a big sample is 1."""
    h = datasets.value_correlation_matrix("DE_ESS9", "centered").loc[list(CODES10), list(CODES10)].to_numpy()
    w, v = np.linalg.eigh(h)
    c = v @ np.diag(np.clip(w, 1e-6, None)) @ v.T
    d = np.sqrt(np.diag(c))
    x = np.random.default_rng(seed).multivariate_normal(np.zeros(10), c / np.outer(d, d), size=n)
    return pd.DataFrame(x, columns=list(CODES10))


def test_structure_interval_contains_its_estimate_where_the_percentile_interval_did_not():
    cen = _population(300, 5)
    human = datasets.value_correlation_matrix("DE_ESS9", "centered")
    res = agreement_interval(cen, human, n_boot=300, seed=0)
    assert res["low"] <= res["pearson_r"] <= res["high"] <= 1
    # the old method on the same resamples: sampling noise attenuates every resampled r, so the
    # percentile interval lies below the estimate
    iu = np.triu_indices(10, 1)
    h = human.loc[list(CODES10), list(CODES10)].to_numpy()[iu]
    est, low, high = bootstrap_ci(cen.to_numpy(), lambda d: np.corrcoef(np.corrcoef(d.T)[iu], h)[0, 1],
                                  n_boot=300, method="percentile", rng=0)
    assert est == pytest.approx(res["pearson_r"])
    assert high < est
    assert agreement_interval(cen, human, n_boot=300, seed=0) == res  # seeded


def test_randall_interval_brackets_the_index():
    cen = _population(200, 6)
    res = randall_interval(cen, n_boot=300, seed=1)
    assert -1 <= res["low"] <= res["ci"] <= res["high"] <= 1
    with pytest.raises(PopsimError, match="needs at least 4"):
        randall_interval(cen.head(3))


def test_mean_difference_ci():
    rng = np.random.default_rng(0)
    a, b = rng.normal(1.0, 1.0, 400), rng.normal(0.0, 1.0, 400)
    low, high = mean_difference_ci(a, b, n_boot=2000, rng=0)
    # close to the normal-theory interval diff -+ 1.96 sqrt(var_a / n_a + var_b / n_b)
    d, se = a.mean() - b.mean(), math.sqrt(a.var(ddof=1) / 400 + b.var(ddof=1) / 400)
    assert abs(low - (d - 1.96 * se)) < 0.02 and abs(high - (d + 1.96 * se)) < 0.02
    assert mean_difference_ci([1.0, 1.0, 1.0], [0.0, 0.0], n_boot=50, rng=0) == (1.0, 1.0)
    with pytest.raises(PopsimError, match="at least 2"):
        mean_difference_ci([1.0], [0.0, 1.0])


def test_resample_moments_equal_those_of_the_resampled_rows():
    from popsim.analysis.intervals import resample_moments

    rng = np.random.default_rng(5)
    x = rng.normal(2.0, 1.5, (400, 4))
    x[:, 3] = np.round(x[:, 3])  # a discrete column
    idx = rng.integers(0, 400, (7, 3, 400))
    mean, cov = resample_moments(x)(idx)
    d = x[idx]
    assert np.allclose(mean, d.mean(axis=-2), rtol=0, atol=1e-12)
    want = np.einsum("...ni,...nj->...ij", d - d.mean(axis=-2, keepdims=True), d - d.mean(axis=-2, keepdims=True)) / 399
    assert np.allclose(cov, want, rtol=1e-10, atol=1e-12)
    same = resample_moments(np.array([[1.0, 2.0], [1.0, 5.0], [3.0, 5.0]]))(np.array([[0, 1, 0], [1, 2, 2]]))[1]
    assert same[0, 0, 0] == 0 and same[0, 0, 1] == 0 and same[1, 1, 1] == 0 and same[0, 1, 1] > 0


def test_an_interval_from_moments_equals_the_one_from_resampled_rows():
    x = np.random.default_rng(8).normal(size=(300, 3))
    stat = lambda d: np.sqrt(d.var(axis=-2, ddof=1).sum(axis=-1))
    rows = bootstrap_ci(x, stat, vectorized=True, n_boot=300, rng=4)
    sums = bootstrap_ci(x, stat, vectorized=True, n_boot=300, rng=4,
                        moments=lambda mean, cov: np.sqrt(np.einsum("...ii->...i", cov).sum(axis=-1)))
    assert rows[0] == sums[0] and np.allclose(rows, sums, rtol=1e-12, atol=0)
