"""Individual-level fidelity: hand-worked agents, the two baselines, bad input."""

import numpy as np
import pandas as pd
import pytest

from popsim.analysis.fidelity import individual_fidelity, person_scores
from popsim.errors import PopsimError


def test_person_scores_by_hand():
    """Agent a: truth 1, 3, 6 and answers 1, 4, 6 on 1..6: two of three exact; errors 0, 1/5, 0 of the range
    (mean 1/15); r across items of (0, .4, 1) and (0, .6, 1)."""
    truth = pd.DataFrame({"i1": [1, 2], "i2": [3, 5], "i3": [6, np.nan]}, index=["a", "b"], dtype=float)
    pred = pd.DataFrame({"i1": [1, 2], "i2": [4, 5], "i3": [6, 4]}, index=["a", "b"], dtype=float)
    low, high = pd.Series(1.0, index=truth.columns), pd.Series(6.0, index=truth.columns)
    s = person_scores(pred, truth, low, high)
    assert s.loc["a", "n_items"] == 3 and s.loc["a", "accuracy"] == pytest.approx(2 / 3)
    assert s.loc["a", "mae"] == pytest.approx(1 / 15)
    assert s.loc["a", "r"] == pytest.approx(np.corrcoef([0, 0.4, 1], [0, 0.6, 1])[0, 1])
    # b answered 2 items in common (i3 missing in truth): accuracy 1, r undefined with fewer than 3 items
    assert s.loc["b", "n_items"] == 2 and s.loc["b", "accuracy"] == 1 and np.isnan(s.loc["b", "r"])


def test_baselines_and_summary():
    truth = pd.DataFrame({"i1": [1, 6, 2, 5], "i2": [2, 5, 3, 6], "i3": [6, 1, 5, 2]}, index=[0, 1, 2, 3], dtype=float)
    long = truth.rename_axis("agent").reset_index().melt(id_vars="agent", var_name="item", value_name="answer")
    per, summary = individual_fidelity(long, long, scales={i: (1, 6) for i in truth}, n_boot=200, seed=1)
    s = summary.set_index("predictor")
    assert list(s.index) == ["agent", "population mean", "random respondent"]
    assert s.loc["agent", ["accuracy", "mae", "r"]].tolist() == pytest.approx([1.0, 0.0, 1.0])  # agents = their people
    # the population means are 3.5, 4, 3.5: errors |x - mean| / 5; exact only where the nearest code given to
    # the mean (i1: 2 or 5 -> first nearest 2; i2: 3 or 5 -> 3; i3: 2 or 5 -> 2) is the person's answer
    mean = truth.mean().to_numpy()
    assert s.loc["population mean", "mae"] == pytest.approx((np.abs(truth.to_numpy() - mean) / 5).mean())
    hits = truth.to_numpy() == np.array([2, 3, 2])
    assert s.loc["population mean", "accuracy"] == pytest.approx(hits.mean(axis=1).mean())
    r0 = np.corrcoef(truth.iloc[0], mean)[0, 1]
    assert per.query("predictor == 'population mean' and agent == 0")["r"].item() == pytest.approx(r0)
    # random respondent within groups {0, 1} and {2, 3}: each agent gets the other one's answers
    groups = pd.Series(["x", "x", "y", "y"], index=truth.index)
    per, summary = individual_fidelity(long, long, group=groups, scales={i: (1, 6) for i in truth}, n_boot=50)
    rr = per[per["predictor"] == "random respondent"].set_index("agent")
    other = truth.loc[[1, 0, 3, 2]].to_numpy()
    assert rr["mae"].to_numpy() == pytest.approx((np.abs(truth.to_numpy() - other) / 5).mean(axis=1))
    # the same respondent behind two agents is never its own "random other"
    same = pd.Series([7, 7, 8, 8], index=truth.index)
    per, _ = individual_fidelity(long, long, respondent=same, n_boot=50, seed=3)
    rr = per[per["predictor"] == "random respondent"].set_index("agent")
    assert (rr["accuracy"] < 1).all()


def test_bad_input():
    t = pd.DataFrame({"agent": [0], "item": ["i1"], "answer": [1]})
    with pytest.raises(PopsimError, match="share 1 agents"):
        individual_fidelity(t, t)
    with pytest.raises(PopsimError, match="non-numeric"):
        individual_fidelity(t.assign(answer="x"), t)
