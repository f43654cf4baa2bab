"""Value structure: correlation matrix, higher-order scores, MDS maps, angular order around the
circle, and the RANDALL/RTHOR randomization test of a hypothesized circular order.

Formulas and citations are in `docs/analysis.md`.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
from sklearn.manifold import MDS, ClassicalMDS

from ..errors import PopsimError, unknown
from ..values import CODES10, HIGHER_ORDER
from ._tables import check_count, matrix, rng_from, value_table

MDS_METHODS = ("classical", "smacof")


def correlation_matrix(centered: pd.DataFrame, *, min_periods: int = 3) -> pd.DataFrame:
    """10x10 Pearson correlations between value scores, rows and columns in circular order.

    Input: wide table, rows = agents, columns = the 10 value codes (e.g. `score(...).centered`).
    Correlations are pairwise complete (each cell uses the agents with both values); a cell with
    fewer than `min_periods` such agents, or a value without variance, is NaN.
    Output: DataFrame indexed and columned by SD ST HE AC PO SE CO TR BE UN.
    """
    x = value_table(centered, min_rows=min_periods)
    return x.corr(method="pearson", min_periods=min_periods).loc[list(CODES10), list(CODES10)]


def higher_order_scores(centered: pd.DataFrame) -> pd.DataFrame:
    """The four higher-order values as the mean of their basic values, one row per agent.

    Groups (`popsim.values.HIGHER_ORDER`, hedonism with Openness to Change as in the ESS key):
    Openness to Change = SD ST HE, Self-Enhancement = AC PO, Conservation = SE CO TR,
    Self-Transcendence = BE UN. An agent missing one of a group's values gets NaN for that group.
    Output columns: the four group names, same index as the input.
    """
    x = value_table(centered, min_rows=1)
    return pd.DataFrame({g: x[list(codes)].mean(axis=1, skipna=False) for g, codes in HIGHER_ORDER.items()},
                        index=x.index)


def distances(corr) -> pd.DataFrame:
    """Dissimilarities d = sqrt(2 (1 - r)) of a correlation matrix (the distance between
    standardized variables, up to a constant)."""
    m = matrix(corr)
    d = np.sqrt(np.clip(2 * (1 - m.to_numpy()), 0, None))
    np.fill_diagonal(d, 0.0)
    return pd.DataFrame(d, index=m.index, columns=m.columns)


def _flip(x: np.ndarray) -> np.ndarray:
    """Fix the arbitrary sign of each axis: the coordinate largest in size is positive."""
    signs = np.sign(x[np.abs(x).argmax(axis=0), range(x.shape[1])])
    signs[signs == 0] = 1
    return x * signs


def mds(corr, *, method: str = "classical", n_components: int = 2, seed: int = 0) -> pd.DataFrame:
    """Multidimensional scaling of a correlation matrix on distances sqrt(2 (1 - r)).

    method: "classical" (Torgerson scaling, `sklearn.manifold.ClassicalMDS`) or "smacof" (metric
    SMACOF, `sklearn.manifold.MDS`, started from the classical solution; `seed` only matters when
    the classical solution does not span n_components dimensions (a matrix that is not positive
    semidefinite, or of too low rank): then SMACOF keeps the best of 4 random starts drawn from
    `seed`). The sign of each
    axis is fixed so that its largest coordinate is positive.

    Output: one row per variable; columns value, x, y (x, y, z for 3 components; dim1..dimK
    beyond). `out.attrs` holds "eigenvalues" (classical) or "stress" (SMACOF, Stress-1).
    """
    if method not in MDS_METHODS:
        raise unknown("MDS method", method, MDS_METHODS)
    d = distances(corr)
    k = len(d)
    n_components = check_count("n_components", n_components, 1)
    if n_components >= k:
        raise PopsimError(f"n_components must be below the number of variables ({k}), got {n_components}")
    model = ClassicalMDS(n_components=n_components, metric="precomputed")
    with np.errstate(invalid="ignore"):  # negative eigenvalues are handled below
        x = model.fit_transform(d.to_numpy())
    eigenvalues = [float(e) for e in model.eigenvalues_]
    tol = 1e-9 * max(abs(e) for e in eigenvalues)
    x = np.nan_to_num(x)  # an eigenvalue that is zero up to rounding gives a flat (zero) axis
    if method == "classical":
        if min(eigenvalues) < -tol:
            raise PopsimError(f"the matrix has negative eigenvalues among its first n_components={n_components} "
                              "dimensions; it is not a valid (positive semidefinite) correlation matrix: lower "
                              "n_components, use method='smacof', or compute the correlations from complete "
                              "cases")
        attrs = {"eigenvalues": eigenvalues}
    else:
        # start from the classical solution when it spans all n_components dimensions (a flat axis
        # would stay flat under SMACOF), else keep the best of 4 random starts drawn from `seed`
        full = min(eigenvalues) > tol
        model = MDS(n_components=n_components, metric_mds=True, metric="precomputed", init="random",
                    n_init=1 if full else 4, random_state=seed, normalized_stress=True)
        x = model.fit_transform(d.to_numpy(), init=x if full else None)
        attrs = {"stress": float(model.stress_)}
    x = _flip(np.asarray(x, dtype=float))
    names = ["x", "y", "z"][:n_components] if n_components <= 3 else [f"dim{i + 1}" for i in range(n_components)]
    out = pd.DataFrame(x, columns=names)
    out.insert(0, "value", list(d.index))
    out.attrs.update(attrs)
    return out


def _circular_mismatch(order: list, theory: list) -> int:
    k = len(theory)
    pos = {v: i for i, v in enumerate(order)}
    return sum(min(abs(pos[v] - i), k - abs(pos[v] - i)) for i, v in enumerate(theory))


def angular_order(coords: pd.DataFrame) -> list[str]:
    """Variables ordered by their angle around the centroid of a 2-D configuration.

    Input: DataFrame with columns value, x, y (the output of `mds`; a table indexed by value
    with columns x, y works too). The sequence starts at SD (else at the first value present in
    circular order, else at the first row). Of the two directions around the circle, the one
    whose positions differ least from the theoretical order SD ST HE AC PO SE CO TR BE UN (sum of
    circular displacements) is returned, so the sequence reads like the theory wherever the data
    allow; counterclockwise wins ties.
    """
    if not isinstance(coords, pd.DataFrame):
        raise PopsimError(f"coords must be a DataFrame with columns value, x, y; got {type(coords).__name__}")
    c = coords if "value" in coords.columns else coords.rename_axis("value").reset_index()
    if not {"x", "y"} <= set(c.columns):
        raise PopsimError("coords needs columns x and y (the output of popsim.analysis.mds)")
    if c["value"].duplicated().any() or len(c) < 3:
        raise PopsimError("coords needs at least 3 rows with distinct values")
    xy = c[["x", "y"]].to_numpy(dtype=float)
    if not np.isfinite(xy).all():
        raise PopsimError("coords has missing coordinates")
    xy = xy - xy.mean(axis=0)
    labels = list(c["value"])
    ccw = [labels[i] for i in np.argsort(np.arctan2(xy[:, 1], xy[:, 0]), kind="stable")]
    theory = [v for v in CODES10 if v in labels]
    start = theory[0] if theory else labels[0]

    def rotate(seq):
        i = seq.index(start)
        return seq[i:] + seq[:i]

    a, b = rotate(ccw), rotate(ccw[::-1])
    if len(theory) == len(labels) and _circular_mismatch(b, theory) < _circular_mismatch(a, theory):
        return [str(v) for v in b]
    return [str(v) for v in a]


def _predictions(k: int) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (a, b) into the upper-triangle cells with circular distance(a) < distance(b):
    the circular model predicts r[a] > r[b]."""
    i, j = np.triu_indices(k, 1)
    step = np.abs(i - j)
    dist = np.minimum(step, k - step)
    a, b = np.where(dist[:, None] < dist[None, :])
    return a, b


def correspondence_indices(matrices: np.ndarray) -> np.ndarray:
    """RANDALL correspondence index of many k x k matrices at once (rows/columns already in the
    hypothesized circular order), e.g. for a bootstrap: shape (B, k, k) -> (B,)."""
    m = np.asarray(matrices, dtype=float)
    k = m.shape[-1]
    a, b = _predictions(k)
    iu = np.triu_indices(k, 1)
    cells = m[:, iu[0], iu[1]]
    diff = cells[:, a] - cells[:, b]
    return ((diff > 0).sum(axis=1) - (diff < 0).sum(axis=1)) / len(a)


def correlation_batch(x: np.ndarray) -> np.ndarray:
    """Pearson correlation matrices of many data sets at once: (..., n, k) -> (..., k, k).

    A variable without variance in a data set gives NaN in its row and column (as `np.corrcoef`)."""
    x = np.asarray(x, dtype=float)
    x = x - x.mean(axis=-2, keepdims=True)
    return covariance_correlation(np.swapaxes(x, -1, -2) @ x)


def covariance_correlation(cov: np.ndarray) -> np.ndarray:
    """Correlation matrices from covariance matrices (..., k, k); NaN in the row and column of a zero variance."""
    sd = np.sqrt(np.einsum("...ii->...i", cov))
    with np.errstate(invalid="ignore", divide="ignore"):
        return cov / sd[..., :, None] / sd[..., None, :]


def randall(corr, order=CODES10, *, n_perm: int = 5000, seed: int = 0) -> dict:
    """RANDALL / RTHOR randomization test of a hypothesized circular order (Hubert & Arabie 1987;
    Tracey 1997).

    The circular model predicts that of two correlations, the one between variables closer on
    the circle (fewer steps apart along `order`) is larger. Every pair of cells with different
    circular distances is one prediction (800 for 10 variables). CI = (agreements - violations)
    / predictions; ties count in neither. p = share of relabelings of the variables (permuting
    rows and columns together) whose CI is >= the observed one: all k! relabelings when
    k! <= n_perm (exact, identity included), else n_perm random ones with p = (1 + count) /
    (1 + n_perm).

    Input: a correlation matrix labelled by variable (DataFrame, or a 10x10 array in circular
    order); `order`: the hypothesized circular sequence of at least 4 of its labels.
    Output: dict with ci, agreements, violations, ties, predictions, p, n_perm.
    """
    m = matrix(corr, min_size=4)
    order = list(order)
    bad = [v for v in order if v not in m.index]
    if bad:
        raise unknown("variable", bad[0], [str(v) for v in m.index], hint="`order` must name rows of corr.")
    if len(set(order)) != len(order) or len(order) < 4:
        raise PopsimError(f"order must list at least 4 distinct variables of corr, got {order}")
    n_perm = check_count("n_perm", n_perm, 1)
    r = m.loc[order, order].to_numpy()
    k = len(order)
    a, b = _predictions(k)
    iu = np.triu_indices(k, 1)

    def scores(perms: np.ndarray) -> np.ndarray:
        cells = r[perms[:, iu[0]], perms[:, iu[1]]]
        diff = cells[:, a] - cells[:, b]
        return (diff > 0).sum(axis=1) - (diff < 0).sum(axis=1)

    cells = r[iu]
    diff = cells[a] - cells[b]
    agree, viol = int((diff > 0).sum()), int((diff < 0).sum())
    observed = agree - viol
    if math.factorial(k) <= n_perm:
        perms = np.array(list(itertools.permutations(range(k))))
        net = scores(perms)
        p, used = float(np.mean(net >= observed)), len(perms)
    else:
        gen = rng_from(seed)
        count = 0
        for start in range(0, n_perm, 1000):
            perms = gen.permuted(np.tile(np.arange(k), (min(1000, n_perm - start), 1)), axis=1)
            count += int((scores(perms) >= observed).sum())
        p, used = (1 + count) / (1 + n_perm), n_perm
    return dict(ci=observed / len(a), agreements=agree, violations=viol, ties=len(a) - agree - viol,
                predictions=len(a), p=p, n_perm=used)


def randall_interval(centered: pd.DataFrame, order=CODES10, *, n_boot: int = 500, level: float = 0.95,
                     seed: int = 0) -> dict:
    """Bootstrap CI (over agents) of the RANDALL correspondence index of the agents' value correlations.

    Input: wide value scores (rows = agents; agents with a missing value are dropped); `order`: the
    hypothesized circular sequence (default the theoretical order of the 10 values).
    Method "expected" of `bootstrap_ci` with kind "correlation": the index lies in [-1, 1] and, like
    any statistic of an estimated correlation matrix, sampling noise lowers it (noise breaks predicted
    orderings), so resampled indices sit below the observed one; the percentile interval then
    excludes its own estimate and BCa is undefined or degenerate (see `docs/analysis.md`). The
    interval is for the index a population of this many agents gives in expectation; it contains
    the estimate and stays inside [-1, 1]. Resamples with a constant value are left out.
    Output dict: ci (the index on all agents), low, high, n_boot, method.
    """
    from .intervals import bootstrap_ci

    x = value_table(centered, min_rows=4).dropna()
    order = [v for v in order]
    bad = [v for v in order if v not in x.columns]
    if bad:
        raise unknown("value", bad[0], list(x.columns), hint="`order` must name value columns of centered.")
    if len(x) < 4:
        raise PopsimError(f"randall_interval needs at least 4 agents with every value scored, got {len(x)}")
    a = x[order].to_numpy()

    def of_correlations(m):
        out = correspondence_indices(m.reshape(-1, *m.shape[-2:])).reshape(m.shape[:-2])
        return np.where(np.isfinite(m).all(axis=(-2, -1)), out, np.nan)

    est, low, high = bootstrap_ci(a, lambda data: of_correlations(correlation_batch(data)), n_boot=n_boot, level=level,
                                  method="expected", kind="correlation", vectorized=True,
                                  moments=lambda mean, cov: of_correlations(covariance_correlation(cov)), rng=seed)
    return dict(ci=est, low=low, high=high, n_boot=n_boot, method="bootstrap expected (Fisher z basic)")
