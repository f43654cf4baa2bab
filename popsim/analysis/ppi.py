"""Prediction-powered inference (Angelopoulos et al. 2023, Science 382:669; PPI++ power tuning,
Angelopoulos, Duchi & Zrnic 2023, arXiv:2311.01453) of each item's population mean.

A small labelled set of real respondents (their real answers Y and their agents' simulated answers
Yhat) plus a large simulated population (Yhat~ of N agents) estimate the human mean:

    theta = lam mean(Yhat~) + mean(Y - lam Yhat),
    se^2  = var(lam Yhat~) / N + var(Y - lam Yhat) / n,         (variances with ddof = 0)

with lam = cov(Y, Yhat) / ((1 + n/N) var(Yhat, Yhat~)) clipped to [0, 1] (lam = 1 is plain PPI,
lam = 0 the classical mean). The classical interval uses the labelled humans alone,
mean(Y) +- z sd(Y)/sqrt(n); the effective human sample size is the number of respondents a classical
interval would need to be as narrow as the PPI one: n_eff = var(Y) / se^2.

These are the estimators of `ppi_py` (the authors' package: `ppi_mean_pointestimate`, `ppi_mean_ci`,
`classical_mean_ci`), written out here so the default install does not need numba; `method="ppi_py"`
calls the package itself (extra `ppi`), and the tests check both agree. Details in `docs/analysis.md`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as _st

from ..errors import PopsimError
from ._tables import check_count, check_level

#: fewer labelled respondents than this and a normal-approximation interval is not trusted
MIN_LABELLED = 30
PPI_COLUMNS = ("item", "n_labelled", "n_unlabelled", "sim_mean", "ppi_mean", "ppi_low", "ppi_high", "ppi_se", "lam",
               "classical_mean", "classical_low", "classical_high", "classical_se", "effective_n", "gain")


def _ppi_own(y, yhat, yhat_u, lam, z):
    n, big_n = y.size, yhat_u.size
    if lam is None:
        cov = np.mean((y - y.mean()) * (yhat - yhat.mean()))
        var = np.var(np.concatenate([yhat, yhat_u]), ddof=1)
        lam = float(np.clip(cov / ((1 + n / big_n) * var), 0, 1)) if var > 0 else 0.0
    est = float(np.mean(lam * yhat_u) + np.mean(y - lam * yhat))
    se = float(np.sqrt(np.var(lam * yhat_u) / big_n + np.var(y - lam * yhat) / n))
    return est, est - z * se, est + z * se, se, lam


def _ppi_package(y, yhat, yhat_u, lam, z, alpha):
    try:
        import ppi_py
    except ImportError:  # pragma: no cover - depends on the install
        raise PopsimError("method='ppi_py' needs the authors' package; install the extra: "
                          "pip install 'popsim[ppi]'") from None
    est = float(np.ravel(ppi_py.ppi_mean_pointestimate(y, yhat, yhat_u, lam=lam))[0])
    lo, hi = (float(np.ravel(b)[0]) for b in ppi_py.ppi_mean_ci(y, yhat, yhat_u, alpha=alpha, lam=lam))
    if lam is None:  # the package tunes lam without returning it: recomputed by its formula for the record
        lam = _ppi_own(y, yhat, yhat_u, None, z)[4]
    return est, lo, hi, (hi - lo) / (2 * z), lam


def ppi_mean(y, yhat, yhat_unlabelled, *, level: float = 0.95, lam: float | None = None,
             method: str = "popsim", min_labelled: int = MIN_LABELLED) -> dict:
    """PPI estimate and CI of one population mean, next to the classical CI.

    y, yhat: the labelled respondents' real and simulated answers (same length, no NaN);
    yhat_unlabelled: the simulated answers of the large population. `lam=None` tunes lam (PPI++),
    `lam=1` is plain PPI. Returns n_labelled, n_unlabelled, sim_mean, ppi_mean, ppi_low, ppi_high,
    ppi_se, lam, classical_mean, classical_low, classical_high, classical_se, effective_n, gain
    (effective_n / n_labelled).
    """
    level = check_level(level)
    min_labelled = check_count("min_labelled", min_labelled, 2)
    y, yhat, yhat_u = (np.asarray(a, dtype=float).ravel() for a in (y, yhat, yhat_unlabelled))
    if y.shape != yhat.shape:
        raise PopsimError(f"y and yhat must pair each labelled respondent's real and simulated answer; got "
                          f"{y.size} and {yhat.size} values")
    if not (np.isfinite(y).all() and np.isfinite(yhat).all() and np.isfinite(yhat_u).all()):
        raise PopsimError("PPI inputs hold NaN; drop respondents or agents without an answer first")
    if y.size < min_labelled:
        raise PopsimError(f"only {y.size} labelled respondents; PPI's normal interval needs at least "
                          f"{min_labelled}: label more respondents (run more agents drawn from real respondents)")
    if yhat_u.size < 2:
        raise PopsimError("the simulated population has fewer than 2 answers; run more agents")
    if lam is not None and not 0 <= lam <= 1:
        raise PopsimError(f"lam must lie in [0, 1] (1 = plain PPI, 0 = classical), got {lam!r}")
    z = float(_st.norm.ppf(0.5 + level / 2))
    if method == "popsim":
        est, lo, hi, se, lam_used = _ppi_own(y, yhat, yhat_u, lam, z)
    elif method == "ppi_py":
        est, lo, hi, se, lam_used = _ppi_package(y, yhat, yhat_u, lam, z, 1 - level)
    else:
        raise PopsimError(f"unknown PPI method {method!r}; use 'popsim' or 'ppi_py'")
    n = y.size
    c_se = float(np.std(y) / np.sqrt(n))
    eff = float(np.var(y) / se**2) if se > 0 else float("nan")
    return {"n_labelled": int(n), "n_unlabelled": int(yhat_u.size), "sim_mean": float(yhat_u.mean()),
            "ppi_mean": est, "ppi_low": lo, "ppi_high": hi, "ppi_se": se, "lam": float(lam_used),
            "classical_mean": float(y.mean()), "classical_low": float(y.mean() - z * c_se),
            "classical_high": float(y.mean() + z * c_se), "classical_se": c_se,
            "effective_n": eff, "gain": eff / n}


def ppi_item_means(labelled: pd.DataFrame, unlabelled: pd.DataFrame, *, level: float = 0.95,
                   lam: float | None = None, method: str = "popsim", min_labelled: int = MIN_LABELLED
                   ) -> pd.DataFrame:
    """`ppi_mean` for every item.

    Input:
      labelled: long, columns respondent, item, human (the real answer), sim (the agent's simulated
        answer); rows with either missing are dropped
      unlabelled: long, columns agent, item, answer: the large simulated population
    Output: one row per item of `labelled` (input order), columns item plus those of `ppi_mean`.
    """
    if not isinstance(labelled, pd.DataFrame) or not {"respondent", "item", "human", "sim"} <= set(labelled.columns):
        raise PopsimError("labelled must be a DataFrame with columns respondent, item, human, sim (a real "
                          "respondent's answer and their agent's simulated answer); it needs respondent-level data")
    if not isinstance(unlabelled, pd.DataFrame) or not {"item", "answer"} <= set(unlabelled.columns):
        raise PopsimError("unlabelled must be a long answers table with columns agent, item, answer")
    lab = labelled.dropna(subset=["human", "sim"])
    rows = []
    for item in labelled["item"].astype(str).unique().tolist():
        g = lab[lab["item"].astype(str) == item]
        u = unlabelled.loc[unlabelled["item"].astype(str) == item, "answer"].dropna().to_numpy(float)
        if u.size == 0:
            raise PopsimError(f"the simulated population has no answers to item {item!r}; run that item")
        try:
            res = ppi_mean(g["human"].to_numpy(float), g["sim"].to_numpy(float), u, level=level, lam=lam,
                           method=method, min_labelled=min_labelled)
        except PopsimError as exc:
            raise PopsimError(f"item {item!r}: {exc}") from None
        rows.append({"item": item, **res})
    return pd.DataFrame(rows, columns=list(PPI_COLUMNS))
