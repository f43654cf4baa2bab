"""popsim.analysis.distributions against hand-checkable values."""

import numpy as np
import pandas as pd
import pytest

from popsim.analysis import attitude_item_shares, compare_distributions, value_item_shares
from popsim.errors import PopsimError


def test_two_point_distribution():
    # sim: every agent answers 1; human: half 1, half 2.
    # Wasserstein: move .5 of the mass by 1 step = 0.5.
    # JS: M = (.75, .25); KL(sim||M) = log2(1/.75) = 0.415037; KL(hum||M) = .5 log2(.5/.75) + .5 log2(.5/.25)
    #     = 0.207519; divergence = (0.415037 + 0.207519) / 2 = 0.311278; distance = sqrt = 0.557923
    sim = pd.DataFrame({"agent": range(8), "item": "q", "answer": 1})
    human = pd.DataFrame({"item": ["q", "q"], "answer": [1, 2], "share": [0.5, 0.5]})
    out = compare_distributions(sim, human, n_boot=50)
    assert list(out.columns) == ["item", "n", "sim_mean", "sim_low", "sim_high", "human_mean", "wasserstein",
                                 "jensen_shannon"]
    row = out.iloc[0]
    assert (row["item"], row["n"]) == ("q", 8)
    assert (row["sim_mean"], row["sim_low"], row["sim_high"]) == (1.0, 1.0, 1.0)
    assert row["human_mean"] == pytest.approx(1.5)
    assert row["wasserstein"] == pytest.approx(0.5)
    assert row["jensen_shannon"] == pytest.approx(0.557923, abs=1e-6)


def test_disjoint_and_identical_distributions():
    # all sim answers 6, all human answers 1: Wasserstein 5 scale points, JS distance 1 (disjoint supports)
    sim = pd.DataFrame({"agent": [1, 2, 1, 2], "item": ["far", "far", "same", "same"], "answer": [6, 6, 2, 4]})
    human = pd.DataFrame({"item": ["far", "same", "same", "same"], "answer": [1, 2, 3, 4],
                          "share": [1.0, 0.25, 0.0, 0.25]})  # 'same' shares renormalized to .5/.5
    out = compare_distributions(sim, human, n_boot=20).set_index("item")
    assert out.loc["far", "wasserstein"] == pytest.approx(5.0)
    assert out.loc["far", "jensen_shannon"] == pytest.approx(1.0)
    assert out.loc["same", "wasserstein"] == pytest.approx(0.0)
    assert out.loc["same", "jensen_shannon"] == pytest.approx(0.0, abs=1e-7)
    assert out.loc["same", "human_mean"] == pytest.approx(3.0)


def test_bootstrap_ci_of_the_mean_is_seeded_and_brackets_it():
    answers = np.random.default_rng(0).integers(1, 7, 60)
    sim = pd.DataFrame({"agent": range(60), "item": "ipcrtiv", "answer": answers})
    a = compare_distributions(sim, value_item_shares("DE_ESS9"), n_boot=200, seed=4)
    b = compare_distributions(sim, value_item_shares("DE_ESS9"), n_boot=200, seed=4)
    pd.testing.assert_frame_equal(a, b)
    assert a.loc[0, "sim_low"] < a.loc[0, "sim_mean"] < a.loc[0, "sim_high"]


def test_human_share_helpers():
    v = value_item_shares("SE_ESS1-8")
    assert list(v.columns) == ["item", "answer", "share"] and len(v) == 21 * 6
    np.testing.assert_allclose(v.groupby("item")["share"].sum(), 1.0, atol=5e-3)
    a = attitude_item_shares()
    assert list(a.columns) == ["item", "answer", "share"] and a["item"].nunique() == 14
    assert set(a.loc[a["item"] == "lrscale", "answer"]) == set(range(11))
    with pytest.raises(PopsimError, match="SE_ESS1-8 has no outcome answer shares"):
        attitude_item_shares("SE_ESS1-8")
    with pytest.raises(PopsimError, match="unknown sample 'XX_ESS9'"):
        attitude_item_shares("XX_ESS9")


def test_compare_distributions_errors():
    human = pd.DataFrame({"item": ["q"], "answer": [1], "share": [1.0]})
    with pytest.raises(PopsimError, match="no human shares for items r"):
        compare_distributions(pd.DataFrame({"agent": [1], "item": ["r"], "answer": [1]}), human)
    with pytest.raises(PopsimError, match="all NaN"):
        compare_distributions(pd.DataFrame({"agent": [1], "item": ["q"], "answer": [np.nan]}), human)
    with pytest.raises(PopsimError, match="non-numeric"):
        compare_distributions(pd.DataFrame({"agent": [1], "item": ["q"], "answer": ["yes"]}), human)
    with pytest.raises(PopsimError, match="columns agent, item, answer"):
        compare_distributions(pd.DataFrame({"item": ["q"], "answer": [1]}), human)


def test_bootstrap_ci_of_the_mean_is_the_resampling_bootstrap():
    """The CI from answer counts (Multinomial) matches resampling agents with replacement (the textbook
    percentile bootstrap) and the normal theory interval mean +- 1.96 sd / sqrt(n), within Monte Carlo error."""
    rng = np.random.default_rng(4)
    x = rng.choice([1, 2, 3, 4, 5, 6], size=400, p=[0.05, 0.1, 0.2, 0.3, 0.25, 0.1]).astype(float)
    sim = pd.DataFrame({"agent": np.arange(x.size), "item": "q", "answer": x})
    human = pd.DataFrame({"item": "q", "answer": [1, 2, 3, 4, 5, 6], "share": [1 / 6] * 6})
    row = compare_distributions(sim, human, n_boot=4000, seed=1).iloc[0]
    boots = x[rng.integers(0, x.size, (4000, x.size))].mean(axis=1)
    low, high = np.percentile(boots, [2.5, 97.5])
    half = 1.96 * x.std(ddof=1) / np.sqrt(x.size)
    assert abs(row["sim_low"] - low) < 0.02 and abs(row["sim_high"] - high) < 0.02
    assert abs(row["sim_low"] - (x.mean() - half)) < 0.02 and abs(row["sim_high"] - (x.mean() + half)) < 0.02
    assert row["sim_mean"] == x.mean() and row["n"] == 400


def _shares_by_groupby(table: pd.DataFrame) -> dict:
    """The human shares per item as the pandas groupby per item computed them (items in order of appearance)."""
    out = {}
    for item, g in table.groupby("item", sort=False):
        s = g.groupby("answer")["share"].sum().astype(float)
        out[str(item)] = s / s.sum()
    return out


def test_human_shares_equal_a_groupby_per_item_exactly():
    from popsim.analysis.distributions import _shares

    t = value_item_shares("DE_ESS9").sample(frac=1, random_state=3).assign(answer=lambda d: d["answer"].astype(float))
    for table in (value_item_shares("US_GSS2012").assign(answer=lambda d: d["answer"].astype(float)), t,
                  pd.concat([t, t.iloc[:40]]), t.assign(item=pd.factorize(t["item"])[0] + 100)):
        want, got = _shares_by_groupby(table), _shares(table)
        assert list(got) == list(want)
        for item in want:
            pd.testing.assert_series_equal(got[item], want[item], check_exact=True)


def test_empty_human_shares_name_the_missing_items():
    sim = pd.DataFrame({"agent": [0, 1], "item": ["ipcrtiv", "ipcrtiv"], "answer": [3, 4]})
    with pytest.raises(PopsimError, match="no human shares for items ipcrtiv"):
        compare_distributions(sim, pd.DataFrame({"item": [], "answer": [], "share": []}), n_boot=10)
