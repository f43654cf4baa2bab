"""General statistics: Benjamini-Hochberg q-values, Fisher's z test for two independent correlations,
Cronbach's alpha (bootstrap and across-seed intervals: `intervals.py`).

Formulas and citations are in `docs/analysis.md`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as _st
from statsmodels.stats.multitest import multipletests

from ..errors import PopsimError


def fdr_bh(pvalues) -> np.ndarray:
    """Benjamini-Hochberg (1995) q-values (FDR-adjusted p-values), in the input order.

    Input: a sequence of p-values in [0, 1]; NaN entries stay NaN and do not count in the family.
    Output: a float array of the same length (statsmodels `multipletests(method='fdr_bh')`).
    """
    p = np.asarray(pvalues, dtype=float).ravel()
    ok = np.isfinite(p)
    if ((p[ok] < 0) | (p[ok] > 1)).any():
        raise PopsimError("p-values must lie in [0, 1]; pass p-values, not test statistics")
    q = np.full(p.shape, np.nan)
    if ok.any():
        q[ok] = multipletests(p[ok], method="fdr_bh")[1]
    return q


def fisher_z_test(r1, n1, r2, n2):
    """Two-sided test that two correlations from independent samples are equal (Fisher 1921).

    z = (atanh(r1) - atanh(r2)) / sqrt(1/(n1-3) + 1/(n2-3)); p = 2 * (1 - Phi(|z|)).
    Correlations of exactly +-1 are clipped to +-(1 - 1e-12) so that z stays finite.
    Accepts numbers or equal-length arrays; returns (z, p) as floats or arrays accordingly.
    """
    r1a, r2a = np.asarray(r1, dtype=float), np.asarray(r2, dtype=float)
    n1a, n2a = np.asarray(n1, dtype=float), np.asarray(n2, dtype=float)
    for name, r in (("r1", r1a), ("r2", r2a)):
        if (np.abs(r[np.isfinite(r)]) > 1).any():
            raise PopsimError(f"{name} must be a correlation in [-1, 1]")
    for name, n in (("n1", n1a), ("n2", n2a)):
        if (n[np.isfinite(n)] <= 3).any():
            raise PopsimError(f"{name} must exceed 3 (the z test's variance is 1/(n-3)); give the sample sizes")
    lim = 1 - 1e-12
    z1, z2 = np.arctanh(np.clip(r1a, -lim, lim)), np.arctanh(np.clip(r2a, -lim, lim))
    z = (z1 - z2) / np.sqrt(1 / (n1a - 3) + 1 / (n2a - 3))
    p = 2 * _st.norm.sf(np.abs(z))
    if np.ndim(z) == 0:
        return float(z), float(p)
    return z, p


def cronbach_alpha(items: pd.DataFrame) -> float:
    """Cronbach's (1951) alpha of a scale: alpha = k/(k-1) * (1 - sum(var_i) / var(total)).

    Input: rows = respondents (agents), columns = the k items of one scale (numbers). Rows with a
    missing answer are dropped (listwise). Variances use ddof=1. Returns NaN if the total has no
    variance.
    """
    if not isinstance(items, pd.DataFrame):
        items = pd.DataFrame(np.asarray(items, dtype=float))
    x = items.apply(pd.to_numeric, errors="coerce").astype(float)
    k = x.shape[1]
    if k < 2:
        raise PopsimError(f"Cronbach's alpha needs at least 2 items (columns), got {k}")
    x = x.dropna()
    if len(x) < 2:
        raise PopsimError(f"Cronbach's alpha needs at least 2 respondents with all {k} items answered, "
                          f"got {len(x)}")
    total_var = x.sum(axis=1).var(ddof=1)
    if total_var == 0:
        return float("nan")
    return float(k / (k - 1) * (1 - x.var(ddof=1).sum() / total_var))
