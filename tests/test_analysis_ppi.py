"""popsim.analysis.ppi: prediction-powered inference checked by hand and against the authors' package
(ppi_py, Angelopoulos et al. 2023; installed by the `test` extra through the `ppi` extra)."""

import numpy as np
import pandas as pd
import pytest

from popsim.analysis.ppi import ppi_item_means, ppi_mean
from popsim.errors import PopsimError


def data(n=120, big_n=3000, bias=0.4, noise=0.6, seed=0):
    rng = np.random.default_rng(seed)
    truth = rng.normal(3.0, 1.0, n + big_n)
    yhat = truth + bias + rng.normal(0, noise, n + big_n)
    return truth[:n], yhat[:n], yhat[n:]


def test_plain_ppi_by_hand():
    # lam = 1: theta = mean(yhat~) + mean(y - yhat); se^2 = var0(yhat~)/N + var0(y - yhat)/n
    y = np.array([1.0, 2.0, 3.0, 4.0])
    yhat = np.array([1.5, 2.5, 2.5, 4.5])
    yu = np.array([2.0, 3.0, 4.0, 3.0, 2.0, 4.0])
    # mean(yu) = 3; y - yhat = (-.5, -.5, .5, -.5): mean -.25, var0 .1875; var0(yu) = 2/3
    r = ppi_mean(y, yhat, yu, lam=1.0, min_labelled=4)
    assert r["ppi_mean"] == pytest.approx(2.75)
    assert r["ppi_se"] == pytest.approx(np.sqrt((2 / 3) / 6 + 0.1875 / 4))
    assert r["ppi_low"] == pytest.approx(2.75 - 1.959964 * r["ppi_se"], abs=1e-6)
    # classical: mean 2.5, sd0 = sqrt(1.25), se = sqrt(1.25)/2
    assert r["classical_mean"] == pytest.approx(2.5)
    assert r["classical_se"] == pytest.approx(np.sqrt(1.25) / 2)
    assert r["effective_n"] == pytest.approx(1.25 / r["ppi_se"] ** 2)
    assert r["gain"] == pytest.approx(r["effective_n"] / 4)


@pytest.mark.parametrize("lam", [None, 1.0, 0.3, 0.0])
def test_agrees_with_ppi_py(lam):
    ppi_py = pytest.importorskip("ppi_py", reason="the authors' package comes with the ppi extra (and the test extra)")
    y, yhat, yu = data()
    ours = ppi_mean(y, yhat, yu, lam=lam)
    est = float(np.ravel(ppi_py.ppi_mean_pointestimate(y, yhat, yu, lam=lam))[0])
    lo, hi = (float(np.ravel(b)[0]) for b in ppi_py.ppi_mean_ci(y, yhat, yu, alpha=0.05, lam=lam))
    assert ours["ppi_mean"] == pytest.approx(est, abs=1e-10)
    assert (ours["ppi_low"], ours["ppi_high"]) == pytest.approx((lo, hi), abs=1e-10)
    clo, chi = ppi_py.classical_mean_ci(y, alpha=0.05)
    assert (ours["classical_low"], ours["classical_high"]) == pytest.approx((float(clo), float(chi)), abs=1e-10)
    via = ppi_mean(y, yhat, yu, lam=lam, method="ppi_py")
    assert via["ppi_mean"] == pytest.approx(ours["ppi_mean"], abs=1e-10)
    assert via["lam"] == pytest.approx(ours["lam"])
    if lam == 0.0:  # lam = 0 is the classical estimate with the classical interval
        assert ours["ppi_mean"] == pytest.approx(ours["classical_mean"])
        assert ours["effective_n"] == pytest.approx(len(y))


def test_good_predictions_are_worth_more_humans():
    y, yhat, yu = data(noise=0.3)
    good = ppi_mean(y, yhat, yu)
    y2, yhat2, yu2 = data(noise=3.0)
    poor = ppi_mean(y2, yhat2, yu2)
    assert good["effective_n"] > 3 * len(y)  # a biased but well-correlated simulation still helps
    assert good["ppi_high"] - good["ppi_low"] < good["classical_high"] - good["classical_low"]
    assert poor["lam"] < 0.2 and poor["gain"] < 1.2  # power tuning falls back towards the classical estimate
    # the rectifier removes the simulation's bias: the simulated mean is off by .4, the PPI estimate is not
    assert abs(good["sim_mean"] - 3.0) > 0.3 and abs(good["ppi_mean"] - 3.0) < 0.15


def test_item_table():
    y, yhat, yu = data(n=60, big_n=500)
    lab = pd.DataFrame({"respondent": np.tile(np.arange(60), 2), "item": np.repeat(["a", "b"], 60),
                        "human": np.concatenate([y, y + 1]), "sim": np.concatenate([yhat, yhat + 1])})
    lab.loc[0, "human"] = np.nan  # a respondent without an answer is dropped from that item
    unl = pd.DataFrame({"agent": np.tile(np.arange(500), 2), "item": np.repeat(["a", "b"], 500),
                        "answer": np.concatenate([yu, yu + 1])})
    t = ppi_item_means(lab, unl).set_index("item")
    assert list(t.index) == ["a", "b"]
    assert t.loc["a", "n_labelled"] == 59 and t.loc["b", "n_labelled"] == 60
    assert t.loc["b", "n_unlabelled"] == 500
    assert t.loc["b", "ppi_mean"] == pytest.approx(ppi_mean(y + 1, yhat + 1, yu + 1)["ppi_mean"])


def test_bad_input():
    y, yhat, yu = data(n=10)
    with pytest.raises(PopsimError, match="only 10 labelled respondents; .* at least 30"):
        ppi_mean(y, yhat, yu)
    with pytest.raises(PopsimError, match="pair each labelled"):
        ppi_mean(y, yhat[:5], yu, min_labelled=2)
    with pytest.raises(PopsimError, match="hold NaN"):
        ppi_mean(np.r_[y, np.nan], np.r_[yhat, 1.0], yu, min_labelled=2)
    with pytest.raises(PopsimError, match="lam must lie"):
        ppi_mean(y, yhat, yu, lam=2.0, min_labelled=2)
    with pytest.raises(PopsimError, match="unknown PPI method"):
        ppi_mean(y, yhat, yu, method="x", min_labelled=2)
    with pytest.raises(PopsimError, match="respondent-level data"):
        ppi_item_means(pd.DataFrame({"item": ["a"], "answer": [1]}), pd.DataFrame({"item": ["a"], "answer": [1]}))
    lab = pd.DataFrame({"respondent": range(10), "item": "a", "human": y, "sim": yhat})
    with pytest.raises(PopsimError, match="item 'a': only 10 labelled"):
        ppi_item_means(lab, pd.DataFrame({"agent": range(5), "item": "a", "answer": yu[:5]}))
    with pytest.raises(PopsimError, match="no answers to item 'a'"):
        ppi_item_means(lab, pd.DataFrame({"agent": [1], "item": ["b"], "answer": [1.0]}))
