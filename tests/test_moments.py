"""Exact answer moments of an ordinal Gaussian copula (population/moments.py) against simulation."""

import numpy as np
import pytest

from popsim.population import RespondentSampler
from popsim.population.copula import Marginal
from popsim.population.moments import answer_covariance, answer_means, cuts_of, latent_means


def test_moments_at_the_calibrated_copula_are_its_targets():
    """At the sample's own latent matrix the exact answer correlations are the calibration targets
    (joint_item_correlations.csv for DE_ESS9) and the means those of the answer shares."""
    s = RespondentSampler("DE_ESS9")
    cuts = cuts_of(s.marginals)
    C = answer_covariance(np.zeros(len(s.variables)), s.latent, cuts)
    sd = np.sqrt(np.diag(C))
    assert np.abs(C / np.outer(sd, sd) - s.target).max() < 1e-6
    means = [float(m.points @ (m.shares / m.shares.sum())) for m in s.marginals]
    assert answer_means(np.zeros(len(s.variables)), np.ones(len(s.variables)), cuts) == pytest.approx(means, abs=1e-9)


def test_moments_with_shifted_and_scaled_latents_match_simulation():
    """Non-zero latent means, non-unit variances and a correlation: exact moments vs 400,000 draws."""
    marg = (Marginal(np.arange(1, 7), np.array([0.05, 0.1, 0.2, 0.3, 0.25, 0.1])),
            Marginal(np.arange(0, 11), np.full(11, 1 / 11)))
    cuts = cuts_of(marg)
    nu = np.array([0.4, -0.3])
    cov = np.array([[0.6, 0.5], [0.5, 1.7]])
    rng = np.random.default_rng(0)
    z = rng.multivariate_normal(nu, cov, size=400_000)
    x = np.column_stack([m.points[np.searchsorted(cuts.tau[j, : len(m.points) - 1], z[:, j])]
                         for j, m in enumerate(marg)]).astype(float)
    assert answer_means(nu, np.sqrt(np.diag(cov)), cuts) == pytest.approx(x.mean(axis=0), abs=0.01)
    assert answer_covariance(nu, cov, cuts) == pytest.approx(np.cov(x.T), rel=0.02)
    back, saturated = latent_means(x.mean(axis=0), np.sqrt(np.diag(cov)), cuts)
    assert back == pytest.approx(nu, abs=0.01) and not saturated.any()
    _, saturated = latent_means(np.array([6.0, 5.0]), np.sqrt(np.diag(cov)), cuts)
    assert saturated.tolist() == [True, False]  # 6 is the end of the first scale: unreachable
