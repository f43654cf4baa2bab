"""popsim.analysis.manipulation against hand-checkable values."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from popsim.analysis import manipulation_check, profile_recovery, reliability
from popsim.errors import PopsimError
from popsim.instruments import load_instrument
from popsim.values import CODES10


def population():
    """3 agents primed with SD (SD scores 1, 2, 3), 3 unprimed (SD scores 0, 1, 2); every other value
    is -1, except that the third SD-primed agent has ST = 5 (its top value is not SD)."""
    x = pd.DataFrame(-1.0, index=[f"a{i}" for i in range(6)], columns=list(CODES10))
    x["SD"] = [1.0, 2.0, 3.0, 0.0, 1.0, 2.0]
    x.loc["a2", "ST"] = 5.0
    prime = pd.Series(["SD", "SD", "SD", "", "", ""], index=x.index)
    return x, prime


def test_manipulation_check_hand_computed():
    # means 2 vs 1: diff 1; both SDs are 1, pooled SD 1: d = 1.
    # Welch: t = 1 / sqrt(1/3 + 1/3) = 1.224745 with df = 4: p = 2 * P(T4 > 1.224745) = 0.2879
    # hit rate: SD is the single top value of 2 of the 3 primed agents
    x, prime = population()
    out = manipulation_check(x, prime, n_boot=200, seed=0)
    assert list(out.columns) == ["value", "baseline", "n_primed", "n_unprimed", "mean_primed", "mean_unprimed",
                                 "diff", "d", "low", "high", "p", "q", "hit_rate"]
    row = out.iloc[0]
    assert (row["value"], row["baseline"], row["n_primed"], row["n_unprimed"]) == ("SD", "unprimed", 3, 3)
    assert (row["mean_primed"], row["mean_unprimed"], row["diff"], row["d"]) == pytest.approx((2, 1, 1, 1))
    assert row["p"] == pytest.approx(2 * stats.t.sf(1 / np.sqrt(2 / 3), 4))
    assert row["p"] == pytest.approx(0.2879, abs=1e-4)
    assert row["q"] == pytest.approx(row["p"])  # a family of one
    assert row["hit_rate"] == pytest.approx(2 / 3)
    # bootstrap means lie in [1, 3] and [0, 2], so the CI of the difference lies within [-1, 3]
    assert -1 <= row["low"] < 1 < row["high"] <= 3


def test_manipulation_check_without_unprimed_agents_uses_other_primes():
    x, prime = population()
    prime = pd.Series(["SD", "SD", "SD", "UN", "UN", "UN"], index=x.index)
    out = manipulation_check(x, prime, n_boot=50, seed=0).set_index("value")
    assert list(out.index) == ["SD", "UN"]
    assert set(out["baseline"]) == {"other primes"}
    assert out.loc["SD", "diff"] == pytest.approx(1.0)
    # UN is -1 for everyone: no difference and no variance, so d and p are undefined
    assert out.loc["UN", "diff"] == 0 and np.isnan(out.loc["UN", "d"]) and np.isnan(out.loc["UN", "p"])
    assert out.loc["UN", "hit_rate"] == 0.0


def test_manipulation_check_is_seeded():
    rng = np.random.default_rng(2)
    x = pd.DataFrame(rng.normal(size=(40, 10)), columns=list(CODES10))
    prime = pd.Series(rng.choice(["SD", "PO", ""], 40))
    a = manipulation_check(x, prime, n_boot=100, seed=9)
    pd.testing.assert_frame_equal(a, manipulation_check(x, prime, n_boot=100, seed=9))


def test_manipulation_check_errors():
    x, prime = population()
    with pytest.raises(PopsimError, match="unknown primed value 'power'"):
        manipulation_check(x, prime.replace("SD", "power"))
    with pytest.raises(PopsimError, match="no agent is primed"):
        manipulation_check(x, pd.Series("", index=x.index))
    with pytest.raises(PopsimError, match="no baseline"):
        manipulation_check(x, pd.Series("SD", index=x.index))
    with pytest.raises(PopsimError, match="fewer than 2 agents"):
        manipulation_check(x.iloc[:4], pd.Series(["SD", "", "", ""], index=x.index[:4]))
    with pytest.raises(PopsimError, match="lacks"):
        manipulation_check(x, prime.iloc[:3])


def test_profile_recovery_known_r():
    induced = pd.DataFrame([np.arange(10.0), np.arange(10.0), np.zeros(10)], columns=list(CODES10),
                           index=["a", "b", "c"])
    measured = pd.DataFrame([2 * np.arange(10.0) + 1, -np.arange(10.0), np.arange(10.0)],
                            columns=list(CODES10), index=["a", "b", "c"])
    per_agent, summary = profile_recovery(induced, measured)
    assert list(per_agent.columns) == ["agent", "n", "r"]
    assert per_agent["r"].iloc[:2].tolist() == pytest.approx([1.0, -1.0])
    assert np.isnan(per_agent["r"].iloc[2])  # a flat induced profile has no r
    assert summary["n_agents"] == 3 and summary["n_valid"] == 2
    assert summary["mean_r"] == pytest.approx(0.0) and summary["share_positive"] == 0.5
    with pytest.raises(PopsimError, match="no agent ids"):
        profile_recovery(induced, measured.set_axis(["x", "y", "z"]))


def test_reliability_of_ess21_items():
    # every value's items are identical (alpha 1), except UN whose 3 items are the textbook example
    # (1,2,3,4), (1,3,3,5), (2,2,4,4) with alpha = 14/15 (see test_analysis_stats)
    key = load_instrument("ess21").key(10)
    base = np.array([1.0, 2.0, 3.0, 4.0])
    answers = pd.DataFrame({item: base for ids in key.values() for item in ids})
    for item, col in zip(key["UN"], ([1, 2, 3, 4], [1, 3, 3, 5], [2, 2, 4, 4])):
        answers[item] = np.array(col, dtype=float)
    out = reliability(answers).set_index("value")
    assert list(out.index) == list(CODES10)
    assert out.loc["UN", "n_items"] == 3 and out.loc["SD", "n_items"] == 2
    assert out.loc["UN", "alpha"] == pytest.approx(14 / 15)
    np.testing.assert_allclose(out.drop(index="UN")["alpha"], 1.0)
    with pytest.raises(PopsimError, match="lack items"):
        reliability(answers.drop(columns=key["SD"][0]))
    with pytest.raises(PopsimError, match="no value key"):
        reliability(answers, "ess_attitudes")


def test_human_reliability_from_the_reference_pack():
    from popsim.analysis import human_reliability

    t = human_reliability("DE_ESS9").set_index("value")
    assert list(t.index) == list(CODES10) and t.loc["UN", "n_items"] == 3
    # TR = ipmodst, imptrad: SDs 1.1872, 1.4152, r = .118 (human_data item stats, DE_ESS9); item variances
    # 1.409444 + 2.002791 = 3.412235, covariance .118 x 1.1872 x 1.4152 = .198257, total variance 3.808749:
    # alpha = 2 (1 - 3.412235 / 3.808749) = 0.208210
    assert t.loc["TR", "alpha"] == pytest.approx(0.208210, abs=2e-6)
    with pytest.raises(PopsimError, match="ess21 only"):
        human_reliability("DE_ESS9", "pvq40")
