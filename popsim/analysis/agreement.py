"""Agreement between two correlation matrices (simulated vs human, or human vs human).

Pearson r and Spearman rho over the off-diagonal cells, the Mantel permutation p (Mantel 1967),
Tucker's congruence coefficient (Tucker 1951) and the Procrustes disparity of the 2-D classical
MDS maps with its permutation p. Formulas and citations are in `docs/analysis.md`.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from scipy import stats as _st
from scipy.spatial import procrustes

from .. import datasets
from ..errors import PopsimError, unknown
from ..values import CODES10
from ._tables import aligned, check_count, matrix, rng_from, upper, value_table
from .structure import correlation_batch, covariance_correlation, mds

#: the columns of `matrix_agreement`'s result, in table order
METRICS = ("n_cells", "pearson_r", "spearman_rho", "mantel_p", "tucker_phi", "procrustes_disparity",
           "procrustes_p", "n_perm")


def matrix_agreement(sim, human, *, n_perm: int = 2000, seed: int = 0) -> dict:
    """Compare two correlation matrices over the same variables.

    Input: two labelled correlation matrices (DataFrames with the same labels, e.g. the value
    codes; 10x10 arrays are read in circular order). `sim` is reordered to `human`'s labels.

    Output dict:
      n_cells: number of off-diagonal cells compared (45 for 10 variables)
      pearson_r, spearman_rho: correlation of the two matrices' off-diagonal cells
      mantel_p: share of n_perm relabelings of `sim` (rows and columns permuted together) with
        a Pearson r >= the observed one, (1 + count) / (1 + n_perm)
      tucker_phi: congruence sum(x y) / sqrt(sum x^2 sum y^2) over the same cells
      procrustes_disparity: `scipy.spatial.procrustes` disparity (sum of squared differences
        after standardizing, translating, rotating/reflecting and scaling) of the 2-D classical
        MDS configurations on distances sqrt(2 (1 - r))
      procrustes_p: share of the same relabelings with disparity <= the observed one
      n_perm: number of relabelings used
    """
    h = matrix(human, name="human")
    s = aligned(matrix(sim, name="sim"), h)
    n_perm = check_count("n_perm", n_perm, 1)
    x, y = upper(s), upper(h)
    for name, v in (("sim", x), ("human", y)):
        if np.ptp(v) == 0:
            raise PopsimError(f"the {name} matrix has the same correlation in every cell; there is no "
                              "pattern to compare")
    r = float(np.corrcoef(x, y)[0, 1])
    rho = float(_st.spearmanr(x, y).statistic)
    phi = float(x @ y / np.sqrt((x @ x) * (y @ y)))

    k = len(h)
    xs = mds(s, method="classical")[["x", "y"]].to_numpy()
    xh = mds(h, method="classical")[["x", "y"]].to_numpy()
    try:
        disparity = float(procrustes(xh, xs)[2])
    except ValueError as exc:  # a configuration collapsed to one point
        raise PopsimError(f"cannot compare the MDS maps: {exc}; check that the matrices vary") from exc

    gen = rng_from(seed)
    sa = s.to_numpy()
    iu = np.triu_indices(k, 1)
    perms = gen.permuted(np.tile(np.arange(k), (n_perm, 1)), axis=1)
    cells = sa[perms[:, iu[0]], perms[:, iu[1]]]
    cz = (cells - cells.mean(axis=1, keepdims=True)) / cells.std(axis=1, keepdims=True)
    yz = (y - y.mean()) / y.std()
    r_perm = cz @ yz / len(y)
    mantel_p = (1 + int((r_perm >= r - 1e-12).sum())) / (1 + n_perm)
    # permuting a matrix's labels permutes the rows of its classical MDS configuration
    d_perm = _procrustes_disparities(xh, xs, perms)
    procrustes_p = (1 + int((d_perm <= disparity + 1e-12).sum())) / (1 + n_perm)
    return dict(n_cells=len(y), pearson_r=r, spearman_rho=rho, mantel_p=mantel_p, tucker_phi=phi,
                procrustes_disparity=disparity, procrustes_p=procrustes_p, n_perm=n_perm)


def aligned_maps(sim, human) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The 2-D classical MDS maps of two correlation matrices, superimposed for drawing.

    `scipy.spatial.procrustes(human_map, sim_map)`: both maps are centred and scaled to unit norm,
    and the simulated map is rotated, reflected and scaled onto the human one (Gower 1975); the
    same transformation the disparity of `matrix_agreement` is measured after.
    Output: (sim_xy, human_xy), each with columns value, x, y, rows in the matrices' label order.
    """
    h = matrix(human, name="human")
    s = aligned(matrix(sim, name="sim"), h)
    sim_xy, hum_xy = mds(s), mds(h)
    try:
        a, b, _ = procrustes(hum_xy[["x", "y"]].to_numpy(), sim_xy[["x", "y"]].to_numpy())
    except ValueError as exc:
        raise PopsimError(f"cannot align the MDS maps: {exc}; check that the matrices vary") from exc
    return (pd.DataFrame({"value": sim_xy["value"], "x": b[:, 0], "y": b[:, 1]}),
            pd.DataFrame({"value": hum_xy["value"], "x": a[:, 0], "y": a[:, 1]}))


def _procrustes_disparities(fixed: np.ndarray, moving: np.ndarray, perms: np.ndarray) -> np.ndarray:
    """`scipy.spatial.procrustes(fixed, moving[p])[2]` for every row p of `perms`, vectorized.

    After centring and scaling both configurations to unit norm (row permutations change neither),
    the disparity is 1 - (sum of the singular values of fixed' moving[p])^2 (Gower 1975).
    """
    a = fixed - fixed.mean(axis=0)
    a = a / np.linalg.norm(a)
    b = moving - moving.mean(axis=0)
    b = b / np.linalg.norm(b)
    cross = np.einsum("ki,pkj->pij", a, b[perms])
    sv = np.linalg.svd(cross, compute_uv=False)
    return 1.0 - sv.sum(axis=1) ** 2


def _check_samples(samples) -> list[str]:
    samples = [samples] if isinstance(samples, str) else list(samples)
    for s in samples:
        if s not in datasets.SAMPLES:
            raise unknown("sample", s, datasets.SAMPLES)
    if not samples:
        raise PopsimError(f"give at least one human sample of {', '.join(datasets.SAMPLES)}")
    return samples


def _check_scoring(scoring: str) -> str:
    if scoring not in ("centered", "raw"):
        raise unknown("scoring", scoring, ("centered", "raw"))
    return scoring


def noise_ceiling(scoring: str = "centered", *, samples=datasets.SAMPLES, n_perm: int = 2000,
                  seed: int = 0) -> pd.DataFrame:
    """Human-to-human agreement of the value correlation matrices: the ceiling for any
    simulated-vs-human comparison.

    One row per pair of human samples (SE_ESS1-8, DE_ESS9, US_GSS2012 by default), using the
    `scoring` ("centered" or "raw") matrices of the reference pack.
    Columns: sample_a, sample_b, then the `matrix_agreement` metrics (n_cells, pearson_r,
    spearman_rho, mantel_p, tucker_phi, procrustes_disparity, procrustes_p, n_perm).
    """
    scoring = _check_scoring(scoring)
    samples = _check_samples(samples)
    if len(samples) < 2:
        raise PopsimError("noise_ceiling needs at least two human samples")
    rows = []
    for a, b in itertools.combinations(samples, 2):
        res = matrix_agreement(datasets.value_correlation_matrix(a, scoring),
                               datasets.value_correlation_matrix(b, scoring), n_perm=n_perm, seed=seed)
        rows.append(dict(sample_a=a, sample_b=b, **res))
    return pd.DataFrame(rows, columns=["sample_a", "sample_b", *METRICS])


def agreement_table(sim, samples=datasets.SAMPLES, *, scoring: str = "centered", n_perm: int = 2000,
                    seed: int = 0) -> pd.DataFrame:
    """A simulated value correlation matrix against each human sample.

    Input: `sim`, a 10x10 value correlation matrix (`correlation_matrix(...)`), computed with the
    same `scoring` as the human matrices it is compared with (centered scores -> "centered").
    Output: one row per human sample; columns sample, then the `matrix_agreement` metrics.
    """
    scoring = _check_scoring(scoring)
    rows = [dict(sample=s, **matrix_agreement(sim, datasets.value_correlation_matrix(s, scoring),
                                              n_perm=n_perm, seed=seed))
            for s in _check_samples(samples)]
    return pd.DataFrame(rows, columns=["sample", *METRICS])


def agreement_interval(centered: pd.DataFrame, human, *, n_boot: int = 500, level: float = 0.95,
                       seed: int = 0) -> dict:
    """Bootstrap CI (over agents) of the structure r: the Pearson r between the 45 off-diagonal
    cells of the agents' value correlation matrix and those of `human`.

    Input: wide value scores (rows = agents, the 10 value columns; agents with a missing value are
    dropped) and a 10x10 human correlation matrix (e.g. `datasets.value_correlation_matrix`).
    Method "expected" of `bootstrap_ci` with kind "correlation" (Fisher z). Sampling noise in the
    simulated matrix attenuates r (noise in the cells is uncorrelated with the human pattern), and a
    resample adds that noise again, so resampled r sit below the observed r: with the percentile
    interval a 1,500-agent population at r = 0.994 got 0.979-0.992, and BCa, whose bias correction
    puts its limits beyond the largest resampled r, returned the degenerate 0.9949-0.9949 (9,999
    resamples). The interval here is for the r a population of this many agents gives in
    expectation (what a mean over seeds estimates too): it contains the estimate and stays inside
    [-1, 1]; on simulated populations of 40-1,500 agents it covered that expectation in 79-95% of
    data sets, the percentile interval in 14-97% (`benchmarks/coverage_intervals.py`,
    `docs/analysis.md`). Resamples with a constant value are left out.
    Output dict: pearson_r (on all agents), low, high, n_boot, method.
    """
    from .intervals import bootstrap_ci

    x = value_table(centered, min_rows=4).dropna()
    if len(x) < 4:
        raise PopsimError(f"agreement_interval needs at least 4 agents with every value scored, got {len(x)}")
    h = matrix(human, name="human")
    order = list(h.index) if set(h.index) == set(x.columns) else None
    if order is None:
        raise PopsimError(f"human must be labelled by the value codes {' '.join(CODES10)}")
    y = upper(h.loc[order, order])
    yz = (y - y.mean()) / y.std()
    iu = np.triu_indices(len(order), 1)
    a = x[order].to_numpy()

    def pearson(m):
        c = m[..., iu[0], iu[1]]
        cz = (c - c.mean(axis=-1, keepdims=True)) / c.std(axis=-1, keepdims=True)
        return (cz * yz).mean(axis=-1)

    est, low, high = bootstrap_ci(a, lambda data: pearson(correlation_batch(data)), n_boot=n_boot, level=level,
                                  method="expected", kind="correlation", vectorized=True,
                                  moments=lambda mean, cov: pearson(covariance_correlation(cov)), rng=seed)
    return dict(pearson_r=est, low=low, high=high, n_boot=n_boot, method="bootstrap expected (Fisher z basic)")
