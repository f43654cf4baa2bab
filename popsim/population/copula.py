"""The Gaussian copula behind synthetic respondents: ordinal marginals cut from latent normals whose
correlations are calibrated so that the *observed* Pearson correlations of the drawn answers equal a target.

Each item's answer shares are its marginal (thresholds on a latent normal); the latent correlations are
calibrated pair by pair (Hermite series of the bivariate normal, `ordinal_correlation`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


def _thresholds(shares: np.ndarray) -> np.ndarray:
    cum = np.cumsum(np.asarray(shares, float) / np.sum(shares))[:-1]
    return stats.norm.ppf(np.clip(cum, 1e-12, 1 - 1e-12))


def _hermite_coefficients(points: np.ndarray, shares: np.ndarray, n_terms: int) -> tuple[np.ndarray, float]:
    """alpha_n (n = 1..n_terms) of X = step(Z) in the normalised Hermite basis, and SD(X)."""
    p = np.asarray(shares, float) / np.sum(shares)
    x = np.asarray(points, float)
    sd = float(np.sqrt(p @ x**2 - (p @ x) ** 2))
    tau = _thresholds(p)
    dx = np.diff(x)
    phi = stats.norm.pdf(tau)
    # normalised probabilists' Hermite h_m = He_m / sqrt(m!)
    h_prev, h = np.zeros_like(tau), np.ones_like(tau)
    alpha = np.empty(n_terms)
    for n in range(1, n_terms + 1):
        m = n - 1  # alpha_n = sum_k dx_k h_{n-1}(tau_k) phi(tau_k) / sqrt(n)
        alpha[n - 1] = np.sum(dx * h * phi) / np.sqrt(n)
        h_prev, h = h, (tau * h - np.sqrt(m) * h_prev) / np.sqrt(m + 1)
    return alpha, sd


def ordinal_correlation(rho: np.ndarray, alpha_a: np.ndarray, alpha_b: np.ndarray, sd_a, sd_b) -> np.ndarray:
    """Pearson r of two ordinal variables cut from a bivariate normal with correlation rho (exact series)."""
    n = np.arange(1, alpha_a.shape[-1] + 1)
    powers = np.asarray(rho)[..., None] ** n
    return np.sum(powers * alpha_a * alpha_b, axis=-1) / (sd_a * sd_b)


def calibrate_latent(target: np.ndarray, marginals: list[tuple[np.ndarray, np.ndarray]],
                     n_terms: int = 80) -> np.ndarray:
    """Latent correlation matrix whose discretised Pearson correlations equal `target`."""
    k = len(marginals)
    coefs = [_hermite_coefficients(pts, sh, n_terms) for pts, sh in marginals]
    A = np.stack([c[0] for c in coefs])
    sd = np.array([c[1] for c in coefs])
    iu = np.triu_indices(k, 1)
    aa, ab = A[iu[0]], A[iu[1]]
    sa, sb = sd[iu[0]], sd[iu[1]]
    goal = target[iu]
    lo, hi = np.full(goal.shape, -0.999), np.full(goal.shape, 0.999)
    for _ in range(60):  # bisection: r(rho) is increasing in rho
        mid = (lo + hi) / 2
        r = ordinal_correlation(mid, aa, ab, sa, sb)
        below = r < goal
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    R = np.eye(k)
    R[iu] = (lo + hi) / 2
    R[(iu[1], iu[0])] = R[iu]
    return nearest_correlation(R)


def nearest_correlation(R: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Clip negative eigenvalues and rescale to unit diagonal (positive definite)."""
    w, V = np.linalg.eigh((R + R.T) / 2)
    if w.min() >= eps:
        return R
    C = (V * np.maximum(w, eps)) @ V.T
    d = np.sqrt(np.diag(C))
    return C / np.outer(d, d)


@dataclass(frozen=True)
class Marginal:
    points: np.ndarray
    shares: np.ndarray
