"""popsim.analysis.stats against hand-computed values."""

import math

import numpy as np
import pandas as pd
import pytest

from popsim.analysis import bootstrap_ci, cronbach_alpha, fdr_bh, fisher_z_test
from popsim.errors import PopsimError


def test_bootstrap_ci_two_point_sample():
    # Resampling x = [0, 1] gives means 0, .5, 1 with probabilities .25, .5, .25 (binomial), so the 2.5th
    # percentile of the bootstrap distribution is 0 and the 97.5th is 1.
    assert bootstrap_ci(np.array([0.0, 1.0]), np.mean, n_boot=2000, rng=1) == (0.5, 0.0, 1.0)


def test_bootstrap_ci_constant_data_and_dataframe_rows():
    assert bootstrap_ci([3.0] * 10, np.mean, n_boot=50, rng=0) == (3.0, 3.0, 3.0)
    # rows of a DataFrame are resampled together: y = 2x in every row keeps r = 1 in every resample
    df = pd.DataFrame({"x": np.arange(20.0), "y": 2 * np.arange(20.0)})
    est, low, high = bootstrap_ci(df, lambda d: d["x"].corr(d["y"]), n_boot=100, rng=0)
    assert (est, low, high) == pytest.approx((1.0, 1.0, 1.0))


def test_bootstrap_ci_is_seeded():
    x = np.random.default_rng(5).normal(size=50)
    assert bootstrap_ci(x, np.median, n_boot=200, rng=7) == bootstrap_ci(x, np.median, n_boot=200, rng=7)


@pytest.mark.parametrize("kwargs", [dict(level=1.5), dict(n_boot=0)])
def test_bootstrap_ci_rejects_bad_settings(kwargs):
    with pytest.raises(PopsimError):
        bootstrap_ci(np.arange(5.0), np.mean, **kwargs)


def test_bootstrap_ci_needs_two_rows():
    with pytest.raises(PopsimError, match="at least 2"):
        bootstrap_ci(np.array([1.0]), np.mean)


def test_fdr_bh_hand_computation():
    # p = .01 .04 .03 .005 -> sorted .005 .01 .03 .04, times m/rank (4/1 4/2 4/3 4/4) = .02 .02 .04 .04,
    # running minimum from the largest keeps them; back in input order: .02 .04 .04 .02.
    # The NaN is kept and not counted in the family (m = 4).
    q = fdr_bh([0.01, 0.04, 0.03, 0.005, np.nan])
    np.testing.assert_allclose(q[:4], [0.02, 0.04, 0.04, 0.02])
    assert np.isnan(q[4])


def test_fdr_bh_monotone_step_up():
    # p = .02 .03: .02*2/1 = .04 but the step-up minimum with .03*2/2 = .03 makes both .03
    np.testing.assert_allclose(fdr_bh([0.02, 0.03]), [0.03, 0.03])
    with pytest.raises(PopsimError):
        fdr_bh([0.5, 1.2])


def test_fisher_z_test_hand_computation():
    # z = (atanh .5 - atanh .3) / sqrt(1/100 + 1/100) = (0.549306 - 0.309520) / 0.141421 = 1.69555
    # p = 2 (1 - Phi(1.69555)) = 0.08997
    z, p = fisher_z_test(0.5, 103, 0.3, 103)
    assert z == pytest.approx(1.69555, abs=1e-5)
    assert p == pytest.approx(0.08997, abs=1e-5)
    assert fisher_z_test(0.2, 50, 0.2, 80) == (0.0, 1.0)


def test_fisher_z_test_arrays_and_errors():
    z, p = fisher_z_test(np.array([0.5, 0.3]), np.array([103, 103]), np.array([0.3, 0.5]), np.array([103, 103]))
    np.testing.assert_allclose(z, [1.69555, -1.69555], atol=1e-5)
    np.testing.assert_allclose(p, [0.08997, 0.08997], atol=1e-5)
    with pytest.raises(PopsimError, match="exceed 3"):
        fisher_z_test(0.5, 3, 0.3, 100)
    with pytest.raises(PopsimError, match="correlation"):
        fisher_z_test(1.5, 30, 0.3, 100)


def test_cronbach_alpha_hand_computation():
    # Items (1,2,3,4), (1,3,3,5), (2,2,4,4): variances 5/3, 8/3, 4/3 (sum 17/3); totals 4, 7, 10, 13 have
    # variance 15. alpha = 3/2 * (1 - (17/3)/15) = 3/2 * 28/45 = 14/15.
    items = pd.DataFrame({"a": [1, 2, 3, 4], "b": [1, 3, 3, 5], "c": [2, 2, 4, 4]})
    assert cronbach_alpha(items) == pytest.approx(14 / 15)
    # a row with a missing answer is dropped (listwise)
    with_gap = pd.concat([items, pd.DataFrame({"a": [6], "b": [np.nan], "c": [1]})], ignore_index=True)
    assert cronbach_alpha(with_gap) == pytest.approx(14 / 15)


def test_cronbach_alpha_parallel_items_and_errors():
    x = np.array([1.0, 3, 2, 5, 4])
    assert cronbach_alpha(pd.DataFrame({"a": x, "b": x, "c": x})) == pytest.approx(1.0)
    assert math.isnan(cronbach_alpha(pd.DataFrame({"a": [2, 2, 2], "b": [3, 3, 3]})))
    with pytest.raises(PopsimError, match="2 items"):
        cronbach_alpha(pd.DataFrame({"a": x}))
    with pytest.raises(PopsimError, match="2 respondents"):
        cronbach_alpha(pd.DataFrame({"a": [1.0, np.nan], "b": [2.0, 3.0]}))
