"""popsim.analysis.signs: sign and size of value-outcome relations, checked by hand (Fisher 1921 z interval)."""

import math

import numpy as np
import pandas as pd
import pytest

from popsim.analysis.signs import fisher_ci, sign_check
from popsim.errors import PopsimError


def cells(rows):
    return pd.DataFrame(rows, columns=["item", "value", "n", "r"])


def test_fisher_ci_by_hand():
    # r = .3, n = 103: atanh(.3) = .309520, half width 1.959964 / sqrt(100) = .1959964: tanh(.113524) = .1130,
    # tanh(.505516) = .4664
    lo, hi = fisher_ci(0.3, 103)
    assert lo == pytest.approx(math.tanh(math.atanh(0.3) - 0.1959964), abs=1e-7)
    assert hi == pytest.approx(math.tanh(math.atanh(0.3) + 0.1959964), abs=1e-7)
    assert round(lo, 4) == 0.1130 and round(hi, 4) == 0.4664


def test_sign_check_cells_and_shares():
    human = cells([("a", "SD", 103, 0.30),    # CI .113 to .466: excludes 0
                   ("a", "PO", 103, -0.30),   # CI -.466 to -.113
                   ("b", "SD", 103, 0.05),    # CI -.146 to .242: includes 0
                   ("b", "PO", 3, 0.40)])     # human n <= 3: not checked
    sim = cells([("a", "SD", 50, 0.20),       # keeps sign, inside
                 ("a", "PO", 50, 0.10),       # flips (human CI excludes 0)
                 ("b", "SD", 50, -0.10),      # other sign, but human CI includes 0: not a flip; inside
                 ("b", "PO", 50, 0.40)])
    out, summary = sign_check(sim, human)
    t = out.set_index(["item", "value"])
    assert len(t) == 3
    assert t.loc[("a", "SD"), ["keeps_sign", "flips", "inside_ci"]].tolist() == [True, False, True]
    assert t.loc[("a", "PO"), ["keeps_sign", "flips", "inside_ci"]].tolist() == [False, True, False]
    assert t.loc[("b", "SD"), ["keeps_sign", "flips", "inside_ci", "human_excludes_zero"]].tolist() == \
        [False, False, True, False]
    assert summary == pytest.approx({"n_pairs": 3, "share_keep_sign": 1 / 3, "n_human_nonzero": 2,
                                     "share_keep_sign_nonzero": 0.5, "share_flipped": 0.5,
                                     "share_inside_ci": 2 / 3, "level": 0.95})


def test_default_human_is_the_reference_pack():
    # the DE_ESS9 cells themselves: every sign kept, every r inside its own interval
    from popsim import datasets

    human = datasets.value_behavior_correlations()[["item", "value", "n", "r"]]
    out, summary = sign_check(human)
    assert summary["n_pairs"] == len(human) and summary["share_keep_sign"] == 1.0
    assert summary["share_inside_ci"] == 1.0 and summary["share_flipped"] == 0.0
    assert np.all(out["human_low"] <= out["human_r"])


def test_errors():
    with pytest.raises(PopsimError, match="no \\(value, outcome\\) pair"):
        sign_check(cells([("zz", "SD", 50, 0.1)]), cells([("a", "SD", 100, 0.2)]))
    with pytest.raises(PopsimError, match="columns item, value, n, r"):
        sign_check(pd.DataFrame({"x": [1]}))
    with pytest.raises(PopsimError, match="level"):
        sign_check(cells([("a", "SD", 50, 0.1)]), cells([("a", "SD", 100, 0.2)]), level=95)
