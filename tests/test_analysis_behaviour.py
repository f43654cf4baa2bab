"""popsim.analysis.behaviour against hand-checkable values."""

import numpy as np
import pandas as pd
import pytest

from popsim import datasets
from popsim.analysis import compare_value_behaviour, value_behaviour_correlations
from popsim.errors import PopsimError
from popsim.values import CODES10


def centered():
    idx = [f"a{i}" for i in range(5)]
    base = {c: [0.1, -0.2, 0.3, 0.0, -0.4] for c in CODES10}
    base["SD"] = [1.0, 2.0, 3.0, 4.0, 5.0]
    base["PO"] = [5.0, 4.0, 3.0, 2.0, 1.0]
    return pd.DataFrame(base, index=idx)


def test_value_behaviour_correlations_known_cells():
    x = centered()
    # rows in reverse agent order: a0 answers 2, a1 4, ... a4 10 (matched by agent id, not by position)
    beh = pd.DataFrame({"polintr": [10.0, 8.0, 6.0, 4.0, 2.0], "pray": [1.0, 1.0, 1.0, 1.0, 1.0]},
                       index=list(reversed(x.index)))
    out = value_behaviour_correlations(x, beh)
    assert list(out.columns) == ["item", "value", "n", "r"]
    assert len(out) == 20 and list(out["value"][:10]) == list(CODES10)
    cell = out.set_index(["item", "value"])
    assert cell.loc[("polintr", "SD"), "r"] == pytest.approx(1.0)
    assert cell.loc[("polintr", "PO"), "r"] == pytest.approx(-1.0)
    assert cell.loc[("polintr", "SD"), "n"] == 5
    assert np.isnan(cell.loc[("pray", "SD"), "r"])  # no variance in the answers


def test_value_behaviour_correlations_pairwise_and_long_input():
    x = centered()
    long = pd.DataFrame({"agent": x.index, "item": "polintr", "answer": [2.0, 4.0, 6.0, 8.0, np.nan]})
    out = value_behaviour_correlations(x, long).set_index(["item", "value"])
    assert out.loc[("polintr", "SD"), "n"] == 4
    assert out.loc[("polintr", "SD"), "r"] == pytest.approx(1.0)


def test_value_behaviour_correlations_errors():
    x = centered()
    with pytest.raises(PopsimError, match="agent ids"):
        value_behaviour_correlations(x, pd.DataFrame({"pray": [1.0, 2.0, 3.0]}, index=["z1", "z2", "z3"]))
    with pytest.raises(PopsimError, match="no answers for pray"):
        value_behaviour_correlations(x, pd.DataFrame({"pray": np.nan}, index=x.index))
    with pytest.raises(PopsimError, match="unknown value code"):
        value_behaviour_correlations(x.rename(columns={"SD": "SDT"}), pd.DataFrame({"pray": 1.0}, index=x.index))


def test_compare_value_behaviour_identical_tables():
    human = datasets.value_behavior_correlations()
    cells, summary = compare_value_behaviour(human[["item", "value", "n", "r"]])
    assert len(cells) == 140
    assert (cells["diff"] == 0).all() and (cells["z"] == 0).all()
    np.testing.assert_allclose(cells["q"], 1.0)
    assert summary["pearson_r"] == pytest.approx(1.0)
    assert summary["n_significant"] == 0 and summary["n_cells"] == 140
    # a cell whose r is exactly 0 has sign 0 on both sides, which agrees
    assert summary["sign_agreement"] == 1.0


def test_compare_value_behaviour_hand_computed_cells():
    # cell 1: z = (atanh .5 - atanh .3) / sqrt(1/100 + 1/100) = 1.69555, p = 0.08997
    # cell 2: z = (atanh -.2 - atanh .3) / sqrt(1/100 + 1/100) = (-0.202733 - 0.309520) / 0.141421
    #           = -3.62218, p = 0.000292
    # BH over the two: q2 = 2 * 0.000292 = 0.000584, q1 = 0.08997; only cell 2 has q < .05
    sim = pd.DataFrame({"item": ["x", "x"], "value": ["SD", "UN"], "n": [103, 103], "r": [0.5, -0.2]})
    human = pd.DataFrame({"item": ["x", "x", "y"], "value": ["SD", "UN", "SD"], "n": [103, 103, 50],
                          "r": [0.3, 0.3, 0.1]})
    cells, summary = compare_value_behaviour(sim, human)
    assert list(cells.columns) == ["item", "value", "sim_n", "sim_r", "human_n", "human_r", "diff", "z", "p",
                                   "q", "sign_agree"]
    np.testing.assert_allclose(cells["z"], [1.69555, -3.62218], atol=1e-5)
    np.testing.assert_allclose(cells["p"], [0.08997, 0.000292], atol=2e-6)
    np.testing.assert_allclose(cells["q"], [0.08997, 0.000584], atol=4e-6)
    assert list(cells["sign_agree"]) == [True, False]
    assert summary["n_cells"] == 2 and summary["n_significant"] == 1
    assert summary["sign_agreement"] == 0.5
    assert summary["mean_abs_diff"] == pytest.approx((0.2 + 0.5) / 2)


def test_compare_value_behaviour_errors():
    sim = pd.DataFrame({"item": ["nothere"], "value": ["SD"], "n": [50], "r": [0.1]})
    with pytest.raises(PopsimError, match="share no"):
        compare_value_behaviour(sim)
    with pytest.raises(PopsimError, match="unknown value codes"):
        compare_value_behaviour(sim.assign(value="XX"))
    with pytest.raises(PopsimError, match="columns item, value, n, r"):
        compare_value_behaviour(sim.drop(columns="n"))
