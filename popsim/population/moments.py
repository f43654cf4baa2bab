"""Exact moments of the answers of an ordinal Gaussian copula with any latent means and covariance.

A variable's answer is a step function of its latent normal z_j ~ N(nu_j, s_j^2): answer k when
tau_{k-1} < z_j <= tau_k (the thresholds of the sample's answer shares, `copula._thresholds`). With
u_j = (z_j - nu_j) / s_j standard normal, the answer is a step function of u_j with thresholds
(tau - nu_j) / s_j, so

- its mean is points[0] + sum_k (points[k+1] - points[k]) * (1 - Phi((tau_k - nu_j) / s_j));
- the covariance of two answers is sum_n alpha_j,n alpha_k,n rho_jk^n, with alpha the normalised Hermite
  coefficients of each step function (`copula._hermite_coefficients`) and rho_jk the latent correlation
  (Mehler's expansion of the bivariate normal; the series the copula is calibrated with).

These give the expected value means, SDs and correlations of a transformed population without drawing
it, and the latent means that give each answer a target mean (`latent_means`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from .copula import Marginal, _thresholds

N_TERMS = 80


@dataclass(frozen=True, eq=False)
class Cuts:
    """The thresholds, steps between answer points and first point of each variable, padded to a common
    width (padding steps are 0)."""

    tau: np.ndarray
    dx: np.ndarray
    first: np.ndarray


def cuts_of(marginals: tuple[Marginal, ...]) -> Cuts:
    width = max(len(m.points) for m in marginals) - 1
    tau = np.zeros((len(marginals), width))
    dx = np.zeros((len(marginals), width))
    first = np.empty(len(marginals))
    for j, m in enumerate(marginals):
        t = _thresholds(m.shares)
        tau[j, : len(t)] = t
        dx[j, : len(t)] = np.diff(np.asarray(m.points, float))
        first[j] = float(m.points[0])
    return Cuts(tau, dx, first)


def answer_means(nu: np.ndarray, sd: np.ndarray, cuts: Cuts) -> np.ndarray:
    """Expected answer of each variable when its latent normal has mean `nu` and SD `sd`."""
    u = (cuts.tau - np.asarray(nu, float)[:, None]) / np.asarray(sd, float)[:, None]
    return cuts.first + np.sum(cuts.dx * special.ndtr(-u), axis=1)


def latent_means(target: np.ndarray, sd: np.ndarray, cuts: Cuts,
                 bound: float = 6.0) -> tuple[np.ndarray, np.ndarray]:
    """Latent mean of each variable whose expected answer is `target` (bisection; the mean is monotone in
    nu), and a flag per variable whose target lies beyond `bound` latent SDs (the answer saturates at the
    end of its scale: the returned mean stops at the bound)."""
    sd = np.asarray(sd, float)
    target = np.asarray(target, float)
    lo, hi = -bound * sd, bound * sd
    for _ in range(60):
        mid = (lo + hi) / 2
        below = answer_means(mid, sd, cuts) < target
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    nu = (lo + hi) / 2
    low, high = answer_means(-bound * sd, sd, cuts), answer_means(bound * sd, sd, cuts)
    saturated = (target <= low + 1e-9) | (target >= high - 1e-9)
    return nu, saturated


def answer_covariance(nu: np.ndarray, cov: np.ndarray, cuts: Cuts, n_terms: int = N_TERMS) -> np.ndarray:
    """Covariance matrix of the answers when the latent normals are N(nu, cov)."""
    sd = np.sqrt(np.diag(cov))
    dx = cuts.dx
    u = np.clip((cuts.tau - np.asarray(nu, float)[:, None]) / sd[:, None], -40.0, 40.0)
    phi, sf = np.exp(-u * u / 2) / np.sqrt(2 * np.pi), special.ndtr(-u)
    # alpha_n = sum_k dx_k h_{n-1}(u_k) phi(u_k) / sqrt(n), h_m = He_m / sqrt(m!) (as copula._hermite_coefficients)
    A = np.empty((len(dx), n_terms))
    h_prev, h = np.zeros_like(u), np.ones_like(u)
    for n in range(1, n_terms + 1):
        m = n - 1
        A[:, n - 1] = np.sum(dx * h * phi, axis=1) / np.sqrt(n)
        h_prev, h = h, (u * h - np.sqrt(m) * h_prev) / np.sqrt(m + 1)
    # exact variance: answer = first + sum_k dx_k [u > u_k]
    both = special.ndtr(-np.maximum(u[:, :, None], u[:, None, :]))
    var = np.einsum("jk,jl,jkl->j", dx, dx, both - sf[:, :, None] * sf[:, None, :])
    rho = np.clip(cov / np.outer(sd, sd), -1.0, 1.0)
    C, power = np.zeros_like(rho), np.ones_like(rho)
    for n in range(n_terms):
        power *= rho
        C += np.outer(A[:, n], A[:, n]) * power
    np.fill_diagonal(C, var)
    return C


def centering_matrix(items: list[str], key: dict[str, list[str]], codes: tuple[str, ...],
                     n_variables: int) -> np.ndarray:
    """Rows = values, columns = variables: centered value = mean of its items - mean of all value items
    (MRAT), as a linear map of the answers (zero weight on non-value variables)."""
    A = np.zeros((len(codes), n_variables))
    k = len(items)
    pos = {it: j for j, it in enumerate(items)}
    for v, code in enumerate(codes):
        A[v, :k] = -1.0 / k
        for it in key[code]:
            A[v, pos[it]] += 1.0 / len(key[code])
    return A
