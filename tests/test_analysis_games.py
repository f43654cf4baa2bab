"""popsim.analysis.games against hand-computed values (the run report and the page both use these)."""

import math

import numpy as np
import pandas as pd
import pytest

from popsim.analysis import (agent_shares, game_shares, mean_share, per_round_shares, share_trend, signs_as_expected,
                             value_share_correlations)
from popsim.errors import PopsimError
from popsim.values import CODES10


def answers():
    # 3 agents x 2 rounds of "give" out of 10 (and an unrelated item that must be ignored):
    # round 0: 2, 4, 6 -> shares .2 .4 .6 (mean .4, SD .2); round 1: 1, 2, 3 -> .1 .2 .3 (mean .2, SD .1)
    rows = [(a, r, "give", v) for r, vals in enumerate([(2, 4, 6), (1, 2, 3)]) for a, v in zip((1, 2, 3), vals)]
    rows.append((1, 0, "other", 9))
    return pd.DataFrame(rows, columns=["agent", "round", "item", "answer"])


def test_per_round_means_and_trend():
    shares = game_shares(answers(), "give", 10)
    assert list(shares.columns) == ["agent", "round", "share"] and len(shares) == 6
    pr = per_round_shares(shares)
    assert list(pr.columns) == ["round", "mean_share", "sd_share", "n"]
    assert pr["round"].tolist() == [1, 2] and pr["n"].tolist() == [3, 3]
    np.testing.assert_allclose(pr["mean_share"], [0.4, 0.2])
    np.testing.assert_allclose(pr["sd_share"], [0.2, 0.1])
    assert share_trend(pr) == pytest.approx(-0.2)  # two points: the slope is their difference
    assert math.isnan(share_trend(pr.head(1)))
    # agent means .15 .3 .45; mean .3
    np.testing.assert_allclose(agent_shares(shares).to_numpy(), [0.15, 0.3, 0.45])
    m, low, high = mean_share(shares, n_boot=200, seed=0)
    assert m == pytest.approx(0.3) and 0.15 <= low <= m <= high <= 0.45
    assert mean_share(shares, n_boot=200, seed=0) == (m, low, high)
    with pytest.raises(PopsimError, match="endowment"):
        game_shares(answers(), "give", 0)


def test_value_share_correlations_signs_and_fdr():
    agents = pd.DataFrame({"agent": [1, 2, 3, 4]} | {c: [0.0, 0.0, 1.0, 1.0] for c in CODES10})
    agents["UN"] = [1.0, 2.0, 3.0, 4.0]   # rises with the share: r = 1
    agents["PO"] = [4.0, 3.0, 2.0, 1.0]   # falls: r = -1
    agents["SE"] = [1.0, 1.0, 1.0, 1.0]   # constant: r undefined
    share = pd.Series([0.1, 0.2, 0.3, 0.4], index=[1, 2, 3, 4])
    t = value_share_correlations(agents, share, {"UN": 1, "PO": 1, "SE": -1})
    assert list(t.columns) == ["value", "r", "p", "q", "expected_sign", "sign_ok"]
    t = t.set_index("value")
    assert t.loc["UN", "r"] == pytest.approx(1.0) and t.loc["PO", "r"] == pytest.approx(-1.0)
    assert math.isnan(t.loc["SE", "r"]) and math.isnan(t.loc["SE", "q"])
    assert t.loc["UN", "sign_ok"] is True and t.loc["PO", "sign_ok"] is False and t.loc["SE", "sign_ok"] is None
    assert t.loc["BE", "sign_ok"] is None and t.loc["BE", "expected_sign"] == 0
    # SD..: r of (0,0,1,1) with (.1,.2,.3,.4) = 0.894427, t = r sqrt(2 / (1 - r^2)) = 2.828427, p = 0.105573
    assert t.loc["SD", "r"] == pytest.approx(0.894427, abs=1e-6) and t.loc["SD", "p"] == pytest.approx(0.105573, abs=1e-6)
    assert signs_as_expected(t.reset_index()) == (1, 3)
