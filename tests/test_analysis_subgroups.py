"""Subgroups: value means, structure and answer distributions per group, against hand-worked numbers."""

import numpy as np
import pandas as pd
import pytest

from popsim.analysis.subgroups import subgroup_distributions, subgroup_means, subgroup_structure
from popsim.values import CODES10


def frame(n, seed, shift=0.0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.normal(shift, 1, (n, 10)), columns=list(CODES10))


def test_means_weighted_and_thresholds():
    sim, human = frame(60, 1), frame(200, 2)
    sg = pd.DataFrame({"gender": ["female"] * 30 + ["male"] * 30})
    hg = pd.DataFrame({"gender": ["female"] * 100 + ["male"] * 90 + [None] * 10})
    w = pd.Series(np.r_[np.full(100, 2.0), np.ones(100)])
    t = subgroup_means(sim, sg, human, hg, human_weights=w, min_agents=20, min_respondents=50)
    assert set(t["group"]) == {"female", "male"} and len(t) == 20
    f = t[(t["group"] == "female") & (t["value"] == "SD")].iloc[0]
    assert f["sim_mean"] == pytest.approx(sim["SD"].iloc[:30].mean())
    assert f["human_mean"] == pytest.approx(human["SD"].iloc[:100].mean())  # equal weights within the group
    m = t[(t["group"] == "male") & (t["value"] == "SD")].iloc[0]
    assert m["human_n"] == 90 and m["sim_low"] < m["sim_mean"] < m["sim_high"]
    # weighted: a group mixing weights 2 and 1
    hg2 = pd.DataFrame({"gender": ["all"] * 200})
    t2 = subgroup_means(sim, pd.DataFrame({"gender": ["all"] * 60}), human, hg2, human_weights=w)
    x = human["UN"].to_numpy()
    assert t2.set_index("value").loc["UN", "human_mean"] == pytest.approx((2 * x[:100].sum() + x[100:].sum()) / 300)
    # too few agents: the group is left out
    assert subgroup_means(sim, sg, human, hg, min_agents=31).empty


def test_structure_and_distributions():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(400, 10)) @ np.linalg.cholesky(0.5 * np.eye(10) + 0.5).T
    sim, human = pd.DataFrame(base[:200], columns=list(CODES10)), pd.DataFrame(base[200:], columns=list(CODES10))
    g = pd.DataFrame({"age_band": ["under 30"] * 100 + ["60-74"] * 100})
    s = subgroup_structure(sim, g, human, g, min_agents=50, min_respondents=50)
    assert len(s) == 2 and (s["sim_n"] == 100).all()
    assert np.isfinite(s["structure_r"]).all()
    answers = pd.DataFrame({"agent": np.repeat(np.arange(200), 1), "item": "q", "answer": np.tile([1, 2, 3, 4], 50)})
    human_ans = pd.DataFrame({"q": np.r_[np.full(100, 1.0), np.full(100, 4.0)]})
    d = subgroup_distributions(answers, g, human_ans, g, min_agents=50, min_respondents=50, n_boot=20)
    young = d.set_index("group").loc["under 30"]
    assert young["human_mean"] == 1.0 and young["sim_mean"] == pytest.approx(2.5) and young["human_n"] == 100
    assert young["wasserstein"] == pytest.approx(1.5)  # shares 1/4 each on 1..4 against all on 1
