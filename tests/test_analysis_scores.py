"""popsim.analysis.scores: distribution scores against hand computations and independent code.

SimBench's formula is that of `calculate_simbench_score.py` in SimBench's release repository
(tsor13/SimBench_release): per row TV = 0.5 sum |p - q| after normalising both; TV_Uniform = TV(human,
uniform of the same length); the dataset norm is the mean of TV_Uniform over the rows of a
dataset_name; the row score is 100 (1 - TV / norm); a model's score is the mean of its row scores.
OpinionQA's score is 1 - W1 / (K - 1) on the ordinal positions (Santurkar et al. 2023; tatsu-lab/
opinions_qa helpers.py normalises W1 by the largest possible W1, the distance between the end points).
"""

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import wasserstein_distance

from popsim.analysis import compare_distributions
from popsim.analysis.scores import answer_shares, distribution_scores, scores_matrix, summarise_scores
from popsim.errors import PopsimError


def shares(rows):
    return pd.DataFrame(rows, columns=["item", "answer", "share"])


def test_two_point_against_uniform_by_hand():
    # sim (.5, .5, 0, 0) vs human uniform over 4 options:
    # TV = .5 (.25 + .25 + .25 + .25) = .5; W1 = |.25| + |.5| + |.25| = 1 -> score 1 - 1/3 = 2/3;
    # JS: m = (.375, .375, .125, .125); KL(p||m) = log2(4/3) = .415037; KL(q||m) = .5 log2(2/3) + .5 = .207519;
    # divergence .311278, distance .557923
    sim = shares([("q", 1, .5), ("q", 2, .5)])
    human = shares([("q", c, .25) for c in (1, 2, 3, 4)])
    row = distribution_scores(sim, human).iloc[0]
    assert row["k"] == 4
    assert row["tv"] == pytest.approx(0.5)
    assert row["w1"] == pytest.approx(1.0)
    assert row["w1_score"] == pytest.approx(2 / 3)
    assert row["jensen_shannon"] == pytest.approx(0.557923, abs=1e-6)
    assert row["tv_uniform"] == pytest.approx(0.0)


def test_simbench_score_by_hand_two_datasets():
    # dataset A: a1 human (.7, .2, .1): TV_uniform = .5 (.36667 + .13333 + .23333) = .366667;
    #            a2 human (.5, .5): TV_uniform = 0 -> N_A = .183333
    #   a1 sim (.6, .3, .1): TV = .1 -> 100 (1 - .1 / .183333) = 45.4545; a2 sim (.4, .6): TV = .1 -> 45.4545
    # dataset B: b1 human (.25, .75): N_B = .25; sim (.5, .5): TV = .25 -> 0
    # SimBench score = mean over questions = (45.4545 + 45.4545 + 0) / 3 = 30.3030
    human = shares([("a1", 1, .7), ("a1", 2, .2), ("a1", 3, .1), ("a2", 1, .5), ("a2", 2, .5),
                    ("b1", 1, .25), ("b1", 2, .75)])
    sim = shares([("a1", 1, .6), ("a1", 2, .3), ("a1", 3, .1), ("a2", 1, .4), ("a2", 2, .6),
                  ("b1", 1, .5), ("b1", 2, .5)])
    out = distribution_scores(sim, human, datasets={"a1": "A", "a2": "A", "b1": "B"}).set_index("item")
    assert out.loc["a1", "tv_uniform"] == pytest.approx(0.366667, abs=1e-6)
    assert out.loc["a1", "simbench"] == pytest.approx(100 * (1 - 0.1 / 0.1833333), abs=1e-4)
    assert out.loc["a2", "simbench"] == pytest.approx(45.4545, abs=1e-4)
    assert out.loc["b1", "simbench"] == pytest.approx(0.0, abs=1e-9)
    summary = summarise_scores(out.reset_index())
    assert summary["simbench"] == pytest.approx(30.3030, abs=1e-4)
    assert summary["simbench_by_dataset"] == pytest.approx({"A": 45.4545, "B": 0.0}, abs=1e-4)
    assert summary["n_items"] == 3


def test_scores_match_scipy_on_random_distributions():
    # independent code: scipy's wasserstein_distance on positions 0..k-1 and jensenshannon(base=2)
    rng = np.random.default_rng(3)
    for k in (2, 4, 7, 11):
        p, q = rng.dirichlet(np.ones(k), size=5), rng.dirichlet(np.ones(k))
        p[0, 1] = 0  # a zero share
        p[0] /= p[0].sum()
        got = scores_matrix(p, q)
        pos = np.arange(k)
        for r in range(5):
            assert got["tv"][r] == pytest.approx(0.5 * np.abs(p[r] - q).sum())
            assert got["w1"][r] == pytest.approx(wasserstein_distance(pos, pos, p[r], q))
            assert got["w1_score"][r] == pytest.approx(1 - wasserstein_distance(pos, pos, p[r], q) / (k - 1))
            assert got["jensen_shannon"][r] == pytest.approx(jensenshannon(p[r], q, base=2), abs=1e-9)


def test_answers_in_and_js_agrees_with_compare_distributions():
    rng = np.random.default_rng(0)
    sim = pd.DataFrame({"agent": np.repeat(range(40), 2), "item": ["x", "y"] * 40,
                        "answer": rng.integers(1, 5, 80).astype(float)})
    sim.loc[3, "answer"] = np.nan  # no answer: left out
    human = shares([(i, c, s) for i in "xy" for c, s in zip((1, 2, 3, 4), (.1, .2, .3, .4))])
    ours = distribution_scores(sim, human).set_index("item")
    theirs = compare_distributions(sim, human, n_boot=10).set_index("item")
    assert ours.loc["x", "n"] == 40 and ours.loc["y", "n"] == 39
    np.testing.assert_allclose(ours["jensen_shannon"], theirs["jensen_shannon"], atol=1e-12)
    # W1 in code units equals scipy's on codes 1..4 (consecutive codes: positions = codes - 1)
    np.testing.assert_allclose(ours["w1"], theirs["wasserstein"], atol=1e-12)


def test_answer_shares_counts():
    a = pd.DataFrame({"agent": [1, 2, 3, 1, 2], "item": ["b", "b", "b", "a", "a"], "answer": [2, 2, 5, 1, np.nan]})
    out = answer_shares(a)
    assert list(out.columns) == ["item", "answer", "count", "share"]
    assert out[["item", "answer", "count"]].values.tolist() == [["b", 2.0, 2], ["b", 5.0, 1], ["a", 1.0, 1]]
    assert out["share"].tolist() == pytest.approx([2 / 3, 1 / 3, 1.0])


def test_sim_code_outside_the_human_options_extends_the_scale():
    # sim answers code 3, which the human table lacks: options become 1, 2, 3 (K = 3)
    out = distribution_scores(shares([("q", 3, 1.0)]), shares([("q", 1, .5), ("q", 2, .5)])).iloc[0]
    assert out["k"] == 3 and out["tv"] == pytest.approx(1.0)
    assert out["w1"] == pytest.approx(1.5) and out["w1_score"] == pytest.approx(1 - 1.5 / 2)


def test_errors():
    human = shares([("q", 1, 1.0)])
    with pytest.raises(PopsimError, match="no human shares for items r"):
        distribution_scores(shares([("r", 1, 1.0)]), human)
    with pytest.raises(PopsimError, match="shares table"):
        distribution_scores(pd.DataFrame({"x": [1]}), human)
    with pytest.raises(PopsimError, match="no answer"):
        answer_shares(pd.DataFrame({"agent": [1], "item": ["q"], "answer": [np.nan]}))
    with pytest.raises(PopsimError, match="distribution_scores returns"):
        summarise_scores(pd.DataFrame({"tv": [1.0]}))
