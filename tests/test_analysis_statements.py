"""popsim.analysis.statements against hand-computed values."""

import numpy as np
import pandas as pd
import pytest

from popsim.analysis import circle_test, endorsement, induction_effects
from popsim.errors import PopsimError
from popsim.values import CODES10, circular_distance


def test_endorsement_matches_the_behaviour_direction():
    statements = pd.DataFrame({"item": ["s1", "s2", "s3"], "dimension": ["risk", "risk", "care"],
                               "answer_matching_behavior": ["Yes", "No", "Yes"]})
    # agent 1 primed SD: P(Yes) .9 .2 .5 -> matches .9, .8 (No matches), .5; agent 2 unprimed: .6 .6 .1 -> .6 .4 .1
    answers = pd.DataFrame({"agent": [1, 1, 1, 2, 2, 2], "item": ["s1", "s2", "s3"] * 2,
                            "expected": [0.9, 0.2, 0.5, 0.6, 0.6, 0.1]})
    t = endorsement(answers, statements, pd.Series({1: "SD", 2: ""}))
    assert t.loc["SD", "risk"] == pytest.approx(0.85) and t.loc["SD", "care"] == pytest.approx(0.5)
    assert t.loc["none", "risk"] == pytest.approx(0.5) and t.loc["none", "care"] == pytest.approx(0.1)
    with pytest.raises(PopsimError, match="statements needs"):
        endorsement(answers, statements.drop(columns="dimension"), pd.Series({1: "SD", 2: ""}))


def test_circle_test_on_a_perfect_circumplex_and_a_labelled_frame():
    S = np.array([[1 - circular_distance(a, b) / 5 for b in CODES10] for a in CODES10])
    res = circle_test(pd.DataFrame(S, index=list(CODES10), columns=list(CODES10)), n_perm=199)
    assert res["circle_rho"] == pytest.approx(-1.0) and res["circle_p"] == pytest.approx(1 / 200)
    with pytest.raises(PopsimError, match="10 x 10"):
        circle_test(np.eye(3))


def test_induction_effects_of_circular_profiles():
    # value i's profile over 10 dimensions peaks at dimension i and falls with circular distance, so values
    # adjacent on the circle have similar profiles: rho = -1 with the circular distance and RANDALL = 1
    prof = np.array([[1 - circular_distance(a, b) / 5 for b in CODES10] for a in CODES10]) * 0.5
    table = pd.DataFrame(prof, index=list(CODES10), columns=[f"d{i}" for i in range(10)])
    table.loc["none"] = 0.25
    out = induction_effects(table, n_perm=199)
    assert out["circle_rho"] < -0.9 and out["circle_p"] == pytest.approx(1 / 200)
    assert out["randall_ci"] == pytest.approx(1.0)
    # each column holds .5 .4 .4 .3 .3 .2 .2 .1 .1 0 (mean .25): |deviations| .25 .15 .15 .05 .05 .05 .05 .15 .15
    # .25, mean .13; the unprimed row is .25 everywhere, so its distance is the same .13
    assert out["specificity"] == pytest.approx(0.13)
    assert out["distance_from_unprimed"] == pytest.approx(0.13)
    flat = table * 0 + 0.5
    assert "circle_rho" not in induction_effects(flat) and induction_effects(flat)["specificity"] == 0
    assert induction_effects(table.drop(index="SD")) == {}
