"""Population samplers: the copula reproduces the human aggregates; strategies; custom profiles."""

import numpy as np
import pandas as pd
import pytest

from popsim import datasets
from popsim.errors import PopsimError
from popsim.instruments import score
from popsim.population import (RespondentSampler, allocate, calibrate_latent, draw_population, ordinal_correlation,
                               read_profiles, strategy_weights)
from popsim.population.copula import _hermite_coefficients
from popsim.values import CODES10, dominant_values


def test_hermite_series_matches_monte_carlo():
    """The exact series for the Pearson r of two discretised normals agrees with simulation."""
    pts, sh = np.arange(1, 7), np.array([0.05, 0.1, 0.2, 0.3, 0.25, 0.1])
    a, sd = _hermite_coefficients(pts, sh, 80)
    rng = np.random.default_rng(0)
    z = rng.multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], size=400_000)
    cuts = np.quantile(z[:, 0], np.cumsum(sh)[:-1])  # same marginal on both
    x = pts[np.searchsorted(cuts, z[:, 0])]
    y = pts[np.searchsorted(cuts, z[:, 1])]
    assert ordinal_correlation(np.array(0.6), a, a, sd, sd) == pytest.approx(np.corrcoef(x, y)[0, 1], abs=0.005)


def test_calibration_hits_the_target_correlation():
    marg = [(np.arange(1, 7), np.array([0.05, 0.1, 0.2, 0.3, 0.25, 0.1]))] * 2
    R = calibrate_latent(np.array([[1, 0.4], [0.4, 1]]), marg)
    a, sd = _hermite_coefficients(*marg[0], 80)
    assert R[0, 1] > 0.4  # latent correlations are larger than the observed ordinal ones
    assert ordinal_correlation(np.array(R[0, 1]), a, a, sd, sd) == pytest.approx(0.4, abs=1e-6)


@pytest.mark.parametrize("sample", ["DE_ESS9", "SE_ESS1-8", "US_GSS2012"])
def test_synthetic_respondents_reproduce_the_sample(sample):
    s = RespondentSampler(sample)
    x = s.draw(60_000, np.random.default_rng(1))
    # marginals: answer shares of each item (SE of a share at n = 60k is about 0.002)
    stats = datasets.item_stats(sample).set_index("item")
    for it in s.value_items:
        shares = x[it].value_counts(normalize=True).reindex(range(1, 7), fill_value=0).to_numpy()
        assert np.abs(shares - stats.loc[it, [f"p{i}" for i in range(1, 7)]].to_numpy(float)).max() < 0.012
    # item correlations and the centered value structure
    r = np.corrcoef(x.to_numpy(float).T)
    iu = np.triu_indices(len(s.variables), 1)
    assert np.abs(r[iu] - s.target[iu]).max() < 0.03
    cen = score(x[s.value_items], "ess21").centered
    human = datasets.value_correlation_matrix(sample)
    iu = np.triu_indices(10, 1)
    assert np.corrcoef(cen.corr().loc[list(CODES10), list(CODES10)].to_numpy()[iu], human.to_numpy()[iu])[0, 1] > 0.99


def test_de_sample_includes_behaviour_items():
    s = RespondentSampler("DE_ESS9")
    assert len(s.variables) == 35 and "rlgatnd" in s.behavior_items
    x = s.draw(20_000, np.random.default_rng(2))
    assert set(x["lrscale"].unique()) <= set(range(11))


def test_strategy_weights():
    top, tied = datasets.top_value_shares("DE_ESS9").set_index("top_value")["share"], None
    for name in ("uniform", "h_norm", "h_even", "h_np"):
        w = strategy_weights(name, "DE_ESS9")
        assert sum(w.values()) == pytest.approx(1.0, abs=1e-3)
    assert strategy_weights("uniform")["PO"] == pytest.approx(0.1)
    assert strategy_weights("h_np")[None] == pytest.approx(top["TIED"])
    w = strategy_weights("h_np", no_dominant_share=0.53)
    assert w[None] == 0.53 and sum(v for k, v in w.items() if k) == pytest.approx(0.47)
    he = strategy_weights("h_even")
    assert he["PO"] == pytest.approx(top["PO"] + top["TIED"] / 10)
    with pytest.raises(PopsimError, match="accuracy"):
        strategy_weights("model_specific")
    ms = strategy_weights("model_specific", accuracy={c: (1.0 if c == "BE" else 0.5) for c in CODES10})
    assert ms["BE"] / ms["UN"] == pytest.approx(2 * top["BE"] / top["UN"])


def test_allocate_is_exact_and_seeded():
    labels = allocate({"a": 0.5, "b": 0.3, None: 0.2}, 10, np.random.default_rng(0))
    assert sorted(map(str, labels)) == sorted(["a"] * 5 + ["b"] * 3 + ["None"] * 2)
    assert labels == allocate({"a": 0.5, "b": 0.3, None: 0.2}, 10, np.random.default_rng(0))


def test_dominant_value_agents_have_conditioned_twins():
    pop = draw_population(60, strategy="uniform", sample="SE_ESS1-8", rng=4)
    a = pop.agents
    assert (a["prime"] == a["top"]).all()  # every twin's single top value is its prime
    assert a["prime"].value_counts().to_dict() == {c: 6 for c in CODES10}
    npp = draw_population(40, strategy="h_np", rng=5).agents
    unprimed = npp[npp["prime"] == ""]
    assert len(unprimed) > 0 and (unprimed["top"] == "").all()  # no-prime agents are tied humans


def test_empirical_primes_are_the_twins_top_values_and_seeded():
    a = draw_population(50, strategy="empirical", rng=1).agents
    b = draw_population(50, strategy="empirical", rng=1).agents
    pd.testing.assert_frame_equal(a, b)
    assert (a["prime"] == a["top"]).all()
    assert not a.equals(draw_population(50, strategy="empirical", rng=2).agents)


def test_bad_population_inputs():
    with pytest.raises(PopsimError, match="unknown strategy 'h_xx'"):
        draw_population(5, strategy="h_xx")
    with pytest.raises(PopsimError, match="unknown population 'FR_ESS9'"):
        draw_population(5, sample="FR_ESS9")
    with pytest.raises(PopsimError, match="positive integer"):
        draw_population(0)


def test_custom_profiles_validated(tmp_path):
    good = pd.DataFrame([{c: 0.1 * i for i, c in enumerate(CODES10)}])
    assert len(read_profiles(good)) == 1
    pop = draw_population(1, strategy="custom", profiles=good, rng=0)
    assert pop.agents.loc[0, "top"] == "UN"
    cases = [
        (good.drop(columns=["UN"]), "lacks columns UN"),
        (good.assign(XX=1), "unknown column 'XX'"),
        (good.assign(SD="high"), "not a number"),
        (good.assign(SD=np.nan), "missing or not a number"),
        (good.assign(PO=9.0), "out of range"),
        (good.assign(prime="QQ"), "unknown value code 'QQ'"),
        (good.iloc[:0], "no rows"),
    ]
    for df, msg in cases:
        with pytest.raises(PopsimError, match=msg):
            read_profiles(df)
    f = tmp_path / "p.csv"
    f.write_bytes("SD,ST\n\xff\xfe".encode("latin-1"))
    with pytest.raises(PopsimError, match="not UTF-8"):
        read_profiles(f)
    with pytest.raises(PopsimError, match="does not exist"):
        read_profiles(tmp_path / "nope.csv")
