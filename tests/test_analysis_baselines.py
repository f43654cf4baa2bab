"""popsim.analysis.baselines: floors, ceilings and baselines against exact computations."""

from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from popsim import datasets
from popsim.analysis import value_item_shares
from popsim.analysis.baselines import (fidelity_scale, independent_answers, multinomial_ceiling, naive_baselines,
                                       sampling_floor, split_half_ceiling)
from popsim.errors import PopsimError


def shares(rows):
    return pd.DataFrame(rows, columns=["item", "answer", "share"])


BINARY = shares([("b", 0, 0.3), ("b", 1, 0.7)])


def test_naive_baselines_by_hand():
    # human (.7, .2, .1): uniform TV = .366667; modal (1, 0, 0): TV = .3; modal W1 = |.3| + |.1| = .4 -> 1 - .4/2 = .8
    out = naive_baselines(shares([("q", 1, .7), ("q", 2, .2), ("q", 3, .1)])).set_index("baseline")
    assert out.loc["uniform", "tv"] == pytest.approx(0.366667, abs=1e-6)
    assert out.loc["uniform", "simbench"] == pytest.approx(0.0, abs=1e-9)  # SimBench's anchor: uniform scores 0
    assert out.loc["modal", "tv"] == pytest.approx(0.3)
    assert out.loc["modal", "w1_score"] == pytest.approx(0.8)
    assert out.loc["modal", "simbench"] == pytest.approx(100 * (1 - 0.3 / 0.366667), abs=1e-4)


def test_sampling_floor_matches_the_exact_binomial_expectation():
    # two options: TV = |phat - p|; E|phat - p| with phat ~ Binomial(n, p)/n, summed exactly over the pmf
    n, p = 25, 0.7
    k = np.arange(n + 1)
    exact = float((stats.binom.pmf(k, n, p) * np.abs(k / n - p)).sum())
    out = sampling_floor(BINARY, n, n_draws=20000, seed=1).iloc[0]
    assert out["n"] == n
    assert out["tv"] == pytest.approx(exact, abs=0.003)
    assert out["w1_score"] == pytest.approx(1 - exact, abs=0.003)  # W1 = TV on two adjacent options


def test_multinomial_ceiling_matches_the_exact_two_sample_expectation():
    # two independent Binomial(m, p)/m draws, m = human_n // 2 = 20: E|a - b| summed over both pmfs
    m = 20
    k = np.arange(m + 1)
    pmf = stats.binom.pmf(k, m, 0.7)  # share of option 1 (0.7)
    exact = float((pmf[:, None] * pmf[None, :] * np.abs(k[:, None] - k[None, :]) / m).sum())
    out = multinomial_ceiling(BINARY, 41, n_draws=20000, seed=2).iloc[0]
    assert out["n"] == m
    assert out["tv"] == pytest.approx(exact, abs=0.003)


def test_split_half_ceiling_by_enumerating_every_split():
    # 4 respondents: the 6 ways to pick half A are equally likely; each split's weighted shares scored
    # against the other half's, averaged (independent enumeration below)
    answers = np.array([1.0, 1.0, 2.0, 2.0])
    w = np.array([1.0, 1.0, 1.0, 3.0])
    tvs = []
    for a in combinations(range(4), 2):
        b = [i for i in range(4) if i not in a]
        pa = [w[list(a)][answers[list(a)] == c].sum() / w[list(a)].sum() for c in (1, 2)]
        pb = [w[b][answers[b] == c].sum() / w[b].sum() for c in (1, 2)]
        tvs.append(0.5 * sum(abs(x - y) for x, y in zip(pa, pb)))
    wide = pd.DataFrame({"q": answers}, index=["r1", "r2", "r3", "r4"])
    out = split_half_ceiling(wide, weights=pd.Series(w, index=wide.index), n_splits=6000, seed=3).iloc[0]
    assert out["n"] == 2
    assert out["tv"] == pytest.approx(np.mean(tvs), abs=0.01)
    # unweighted, from a long table: 2 of the 6 splits separate the answers (TV 1), the others TV 0
    long = pd.DataFrame({"respondent": ["r1", "r2", "r3", "r4"], "item": "q", "answer": answers})
    assert split_half_ceiling(long, n_splits=6000, seed=3).iloc[0]["tv"] == pytest.approx(1 / 3, abs=0.01)


def test_split_half_agrees_with_the_multinomial_stand_in_on_a_large_sample():
    # respondents drawn from the human shares: their split-half ceiling is what the stand-in computes
    h = value_item_shares("DE_ESS9")
    items = ["ipcrtiv", "imprich", "impsafe"]
    resp = independent_answers(h, 2000, items=items, seed=4).pivot(index="agent", columns="item", values="answer")
    sh = split_half_ceiling(resp, h, n_splits=200, seed=5).set_index("item")
    mc = multinomial_ceiling(h, 2000, items=items, n_draws=400, seed=6).set_index("item")
    for m in ("tv", "w1_score", "jensen_shannon"):
        np.testing.assert_allclose(sh.loc[items, m], mc.loc[items, m], rtol=0.15)


def test_independent_answers_marginals():
    h = value_item_shares("DE_ESS9")
    a = independent_answers(h, 5000, items=["ipcrtiv"], seed=0)
    assert list(a.columns) == ["agent", "item", "answer"] and len(a) == 5000
    got = a["answer"].value_counts(normalize=True).sort_index().to_numpy()
    np.testing.assert_allclose(got, h[h["item"] == "ipcrtiv"]["share"].to_numpy() / h[h["item"] == "ipcrtiv"]["share"].sum(),
                               atol=0.02)


def test_fidelity_scale_places_a_perfect_and_a_uniform_population():
    h = value_item_shares("DE_ESS9")
    n_h = datasets.item_stats("DE_ESS9").set_index("item")["n"]
    perfect = independent_answers(h, 200, seed=11)
    rng = np.random.default_rng(12)
    uniform = perfect.assign(answer=rng.integers(1, 7, len(perfect)).astype(float))
    a = fidelity_scale(perfect, h, human_n=n_h, datasets="ess21", twins=perfect, seed=0).set_index("metric")
    b = fidelity_scale(uniform, h, human_n=n_h, datasets="ess21", seed=0).set_index("metric")
    assert list(a.index) == ["tv", "simbench", "w1_score", "jensen_shannon"]
    assert a.loc["simbench", "best_naive"] == "uniform"
    assert a.loc["simbench", "uniform"] == pytest.approx(0.0, abs=1e-9)
    assert a.loc["tv", "ceiling_method"] == "multinomial n/2"
    for m in a.index:
        assert 0.85 < a.loc[m, "normalised"] < 1.15, m
        assert abs(b.loc[m, "normalised"]) < 0.1, m
        assert a.loc[m, "twins"] == pytest.approx(a.loc[m, "run"])
    assert np.isnan(b.loc["tv", "twins"])
    # the floor at 200 agents is worse than the human ceiling at n/2 = 1163
    assert a.loc["tv", "floor"] > a.loc["tv", "ceiling"]
    assert a.loc["tv", "normalised_ceiling"] < a.loc["tv", "normalised"]


def test_fidelity_scale_with_respondents_uses_the_split_half():
    h = value_item_shares("DE_ESS9")
    resp = independent_answers(h, 300, items=["ipcrtiv", "imprich"], seed=1).pivot(
        index="agent", columns="item", values="answer")
    sim = independent_answers(h, 50, items=["ipcrtiv", "imprich"], seed=2)
    out = fidelity_scale(sim, h, human_n=300, respondents=resp, seed=0)
    assert set(out["ceiling_method"]) == {"split-half"}


def test_errors():
    with pytest.raises(PopsimError, match="n must be an integer >= 1"):
        sampling_floor(BINARY, 0)
    with pytest.raises(PopsimError, match="no size for items b"):
        sampling_floor(BINARY, {"other": 3})
    with pytest.raises(PopsimError, match="at least 4 respondents"):
        split_half_ceiling(pd.DataFrame({"b": [0.0, 1.0]}))
    with pytest.raises(PopsimError, match="no answers to items zz"):
        split_half_ceiling(pd.DataFrame({"b": [0.0, 1.0, 1.0, 0.0]}), BINARY, items=["zz"])
    with pytest.raises(PopsimError, match="non-negative number per respondent"):
        split_half_ceiling(pd.DataFrame({"b": [0.0, 1.0, 1.0, 0.0]}), weights=[1, 1, -1, 1])
