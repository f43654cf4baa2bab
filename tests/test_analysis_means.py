"""popsim.analysis.means against hand-computed values."""

import math

import pandas as pd
import pytest

from popsim.analysis import profile_agreement, value_means
from popsim.errors import PopsimError
from popsim.values import CODES10


def test_value_means_normal_interval_and_profile_agreement():
    x = pd.DataFrame({c: [float(i), float(i) + 1, float(i) + 2] for i, c in enumerate(CODES10)})
    human = {c: 2.0 * i for i, c in enumerate(CODES10)}
    t = value_means(x, human)
    assert list(t.columns) == ["value", "sim_mean", "low", "high", "human_mean"]
    # value i: scores i, i+1, i+2 -> mean i+1, SD 1, SE 1/sqrt(3) = 0.577350, half-width 1.131607
    row = t.set_index("value").loc["ST"]
    assert row["sim_mean"] == 2.0 and row["low"] == pytest.approx(2 - 1.131607, abs=1e-6)
    assert row["high"] == pytest.approx(2 + 1.131607, abs=1e-6) and row["human_mean"] == 2.0
    # sim_mean = i + 1, human = 2 i: perfectly linear (r = 1); |diff| = |1 - i|, mean over i = 0..9 = 3.7
    p = profile_agreement(t)
    assert p["means_r"] == pytest.approx(1.0) and p["means_abs_diff"] == pytest.approx(3.7)
    flat = t.assign(sim_mean=1.0)
    assert math.isnan(profile_agreement(flat)["means_r"])
    with pytest.raises(PopsimError, match="lacks SD"):
        value_means(x, {c: 0.0 for c in CODES10[1:]})
