"""popsim.analysis.dispersion against hand computations."""

import numpy as np
import pandas as pd
import pytest

from popsim import datasets
from popsim.analysis.dispersion import dispersion_items, dispersion_summary, dispersion_values, profile_spread
from popsim.errors import PopsimError
from popsim.values import CODES10


def test_item_ratio_by_hand():
    # sim answers 1..5 once each: sample SD = sqrt(2.5) = 1.581139
    # human uniform over 1..5, n = 1001: population variance 2, sample variance 2 * 1001/1000 -> SD 1.415628
    sim = pd.DataFrame({"agent": range(5), "item": "q", "answer": [1, 2, 3, 4, 5]})
    human = pd.DataFrame({"item": "q", "answer": [1, 2, 3, 4, 5], "share": [0.2] * 5})
    row = dispersion_items(sim, human, human_n=1001, n_boot=500, seed=0).iloc[0]
    assert row["n"] == 5
    assert row["sim_sd"] == pytest.approx(np.sqrt(2.5))
    assert row["human_sd"] == pytest.approx(np.sqrt(2 * 1001 / 1000))
    assert row["ratio"] == pytest.approx(np.sqrt(2.5) / np.sqrt(2.002))
    assert row["low"] < row["ratio"] < row["high"]


def test_under_dispersed_population_is_flagged():
    # everyone answers 3 or 4 against a human spread over 1..6: ratio far below 1, CI below 1
    rng = np.random.default_rng(1)
    sim = pd.DataFrame({"agent": range(300), "item": "ipcrtiv", "answer": rng.integers(3, 5, 300)})
    human = datasets.item_answer_shares("DE_ESS9")[["item", "answer", "share"]]
    t = dispersion_items(sim, human, human_n={"ipcrtiv": 2321}, seed=1)
    assert t.loc[0, "high"] < 1
    s = dispersion_summary(t)
    assert s["share_under"] == 1.0 and s["share_over"] == 0.0 and s["dispersion_ratio"] == pytest.approx(t.loc[0, "ratio"])


def test_geometric_mean_summary():
    t = pd.DataFrame({"ratio": [0.5, 2.0, 1.0], "low": [0.4, 1.5, 0.8], "high": [0.6, 2.5, 1.2]})
    s = dispersion_summary(t)
    assert s["dispersion_ratio"] == pytest.approx(1.0)
    assert s["share_under"] == pytest.approx(1 / 3) and s["share_over"] == pytest.approx(1 / 3)


def centered(n=200, scale=1.0, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.normal(0, scale, (n, 10)), columns=list(CODES10))


def test_value_ratios_and_profile_spread():
    x = centered()
    hs = pd.Series(0.5, index=list(CODES10))
    t = dispersion_values(x, hs, human_n=2326, n_boot=300, seed=0)
    assert list(t.columns) == ["value", "n", "sim_sd", "human_sd", "ratio", "low", "high"]
    np.testing.assert_allclose(t["sim_sd"], x.std(ddof=1).to_numpy())
    np.testing.assert_allclose(t["ratio"], x.std(ddof=1).to_numpy() / 0.5)
    assert (t["low"] < t["ratio"]).all() and (t["ratio"] < t["high"]).all()
    # spread: sqrt(sum of the 10 variances); human sqrt(10 * .25)
    sp = profile_spread(x, datasets.value_stats("DE_ESS9").assign(centered_sd=0.5), n_boot=300, seed=0)
    assert sp["sim_spread"] == pytest.approx(np.sqrt(x.var(ddof=1).sum()))
    assert sp["human_spread"] == pytest.approx(np.sqrt(2.5))
    assert sp["low"] < sp["ratio"] < sp["high"] and sp["n"] == 200


def test_errors():
    x = centered()
    with pytest.raises(PopsimError, match="no SD for"):
        dispersion_values(x, pd.Series({"SD": 1.0}), human_n=100)
    with pytest.raises(PopsimError, match="human_n must be"):
        dispersion_values(x, pd.Series(1.0, index=list(CODES10)), human_n=2)
    sim = pd.DataFrame({"agent": [1, 2], "item": "q", "answer": [1, 2]})
    with pytest.raises(PopsimError, match="no sample size for item 'q'"):
        dispersion_items(sim, pd.DataFrame({"item": "q", "answer": [1, 2], "share": [.5, .5]}), human_n={"z": 3})
