"""Confidence intervals: bootstrap over agents (one run) and across seeds (several runs).

Every interval a report shows comes from here. Within a run, agents are resampled with
`scipy.stats.bootstrap`; across seeds, the mean of a metric gets a t interval on the scale where
the metric is unbounded (Fisher z for correlations, logit for proportions, log for positive
numbers), so no interval leaves the metric's range. `METRIC_KINDS` is the one table saying which
kind each headline metric is. Methods, their choice per statistic and citations: `docs/analysis.md`.
"""

from __future__ import annotations

import contextlib
import warnings
from typing import Callable

import numpy as np
import pandas as pd
from scipy import stats as _st
from threadpoolctl import threadpool_limits

from ..errors import PopsimError, unknown
from ._tables import check_count, check_level, rng_from

#: the range of each kind of metric and the transform that makes it unbounded
KINDS = ("correlation", "proportion", "positive", "unbounded")
#: headline metrics (metrics.json "headline") -> kind; a metric not listed is "unbounded"
METRIC_KINDS: dict[str, str] = {
    # Pearson r and other indices in [-1, 1]: Fisher z (atanh); atanh(x) = logit((1 + x) / 2) / 2
    "means_r": "correlation", "profile_r": "correlation", "structure_r": "correlation",
    "structure_r_low": "correlation", "structure_r_high": "correlation", "tucker_phi": "correlation",
    "value_behaviour_r": "correlation", "randall_ci": "correlation",
    # shares and distances in [0, 1]: logit
    "validity_mean": "proportion", "hit_rate": "proportion", "procrustes": "proportion", "items_js": "proportion",
    "behaviour_js": "proportion", "value_behaviour_sign": "proportion", "game_mean_share": "proportion",
    # non-negative numbers: log
    "means_abs_diff": "positive", "missing": "positive", "manipulation_significant": "positive",
    # differences and slopes: no bound
    "manipulation_diff_expected": "unbounded", "manipulation_d": "unbounded", "game_slope": "unbounded",
    # the fidelity card: the SimBench score is at most 100 and unbounded below, normalised scores are unbounded,
    # OpinionQA's score, distances and shares lie in [0, 1], SD ratios are positive
    "simbench_score": "unbounded", "simbench_floor": "unbounded", "simbench_ceiling": "unbounded",
    "simbench_normalised": "unbounded", "w1_normalised": "unbounded",
    "w1_score": "proportion", "w1_floor": "proportion", "tv_distance": "proportion", "js_distance": "proportion",
    "value_outcome_keep_sign": "proportion", "value_outcome_flipped": "proportion",
    "value_outcome_inside_ci": "proportion",
    "dispersion_ratio": "positive", "value_dispersion_ratio": "positive", "profile_spread_ratio": "positive",
    "individual_accuracy_gain": "unbounded", "ppi_effective_n": "positive", "ppi_gain": "positive",
}
BOOTSTRAP_METHODS = ("percentile", "BCa", "expected")
#: BCa's jackknife evaluates the statistic n times (quadratic for a mean); above this many agents in a
#: sample the percentile interval is used instead (BCa's corrections shrink as 1 / sqrt(n))
BCA_MAX_N = 5000
_BATCH_CELLS = 20_000_000  # values held per batch of resamples (memory: 8 bytes each)
_EPS = 1e-9  # values exactly at a bound are moved this far inside before a transform


#: kinds of a study's per-item outcomes by name prefix (`studies.outcomes`): value-outcome correlations, distances
PREFIX_KINDS: dict[str, str] = {"r.": "correlation", "item_js.": "proportion", "twins.structure_r": "correlation"}


def metric_kind(metric: str) -> str:
    """The kind of a metric (`METRIC_KINDS`, then `PREFIX_KINDS`; "unbounded" for a metric not listed)."""
    if metric in METRIC_KINDS:
        return METRIC_KINDS[metric]
    return next((k for p, k in PREFIX_KINDS.items() if metric.startswith(p)), "unbounded")


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise unknown("metric kind", kind, KINDS)
    return kind


def to_unbounded(x, kind: str) -> np.ndarray:
    """The transform of `kind`: atanh (correlation), logit (proportion), log (positive), identity."""
    x = np.asarray(x, dtype=float)
    if kind == "correlation":
        return np.arctanh(np.clip(x, -1 + _EPS, 1 - _EPS))
    if kind == "proportion":
        p = np.clip(x, _EPS, 1 - _EPS)
        return np.log(p / (1 - p))
    if kind == "positive":
        return np.log(np.clip(x, _EPS, None))
    return x


def from_unbounded(z, kind: str) -> np.ndarray:
    """The inverse of `to_unbounded`."""
    z = np.asarray(z, dtype=float)
    if kind == "correlation":
        return np.tanh(z)
    if kind == "proportion":
        return 1 / (1 + np.exp(-z))
    if kind == "positive":
        return np.exp(z)
    return z


def _slope(m: float, kind: str) -> float:
    """d to_unbounded / dx at m (the delta method's factor)."""
    if kind == "correlation":
        return 1 / (1 - m * m)
    if kind == "proportion":
        return 1 / (m * (1 - m))
    if kind == "positive":
        return 1 / m
    return 1.0


def _rows(x):
    """(take(idx) for row indices, number of rows) of an array or a table."""
    if isinstance(x, (pd.DataFrame, pd.Series)):
        return (lambda idx: x.iloc[idx]), len(x)
    a = np.asarray(x)
    if a.ndim == 0:
        raise PopsimError("bootstrap_ci needs an array or table with one row per agent, got a scalar")
    return (lambda idx: a[idx]), len(a)


def _bootstrap(data, statistic, **kwargs):
    """`scipy.stats.bootstrap`, quiet where BCa is undefined or a resample's statistic is NaN (the callers
    fall back to the percentile interval, or leave such resamples out, and document it)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", _st.DegenerateDataWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        return _st.bootstrap(data, statistic, **kwargs)


def _one_blas_thread():
    """BLAS on one thread: the small matrix products of `resample_moments` took 0.4 s for an interval of 20,000
    agents on one thread and 0.6-7 s on several threads of a busy 2-core machine."""
    return threadpool_limits(1, "blas")


def resample_moments(x: np.ndarray) -> Callable:
    """For rows (agents) x of shape (n, k): a function of resampled row numbers idx, shape (..., m), giving each
    resample's column means (..., k) and covariance matrix (..., k, k) (ddof=1), as `x[idx]` would give them.

    Computed from how often each row is drawn (counts, b x n) times the rows' values and their products
    (centred on the column means of x, which leaves covariances unchanged and keeps the sums small):
    one matrix product per batch of resamples instead of a copy of m rows per resample."""
    x = np.asarray(x, dtype=float)
    if x.ndim != 2:
        raise PopsimError(f"bootstrap_ci(moments=...) needs a 2-D array, rows = agents; got shape {x.shape}")
    n, k = x.shape
    centre = x.mean(axis=0)
    z = x - centre
    iu = np.triu_indices(k)
    per_row = np.concatenate([z.T, z.T[iu[0]] * z.T[iu[1]]])  # (k + k (k + 1) / 2) x n
    scale = np.maximum((z * z).mean(axis=0), np.finfo(float).tiny)

    def sums(idx):
        idx = np.asarray(idx)
        lead, m = idx.shape[:-1], idx.shape[-1]
        flat = idx.reshape(-1, m)
        b = len(flat)
        s = np.empty((b, per_row.shape[0]))
        step = max(1, _BATCH_CELLS // 4 // n)  # resamples counted at once
        counts = np.empty((min(step, b), n))
        for r in range(0, b, step):
            part = flat[r:r + step]
            for j, row in enumerate(part):
                counts[j] = np.bincount(row, minlength=n)
            s[r:r + len(part)] = (per_row @ counts[:len(part)].T).T / m
        mean = s[:, :k]
        prod = np.empty((b, k, k))
        prod[:, iu[0], iu[1]] = s[:, k:]
        prod[:, iu[1], iu[0]] = s[:, k:]
        cov = (prod - mean[:, :, None] * mean[:, None, :]) * (m / (m - 1))
        # a column drawn with one value only: its variance and covariances exactly 0, as x[idx] gives them (the
        # sums leave rounding of about 1e-16 of the scale; a real resample's variance is far above 1e-10 of it)
        diag = np.einsum("bii->bi", cov)
        flat_col = np.abs(diag) <= 1e-10 * scale
        cov = np.where(flat_col[:, :, None] | flat_col[:, None, :], 0.0, cov)
        return (mean + centre).reshape(*lead, k), cov.reshape(*lead, k, k)

    return sums


def bootstrap_ci(x, statistic: Callable, *, n_boot: int = 1000, level: float = 0.95, method: str = "percentile",
                 kind: str = "unbounded", vectorized: bool = False, moments: Callable | None = None,
                 rng=None) -> tuple[float, float, float]:
    """Bootstrap confidence interval of `statistic(x)`, resampling rows (agents) with `scipy.stats.bootstrap`.

    Parameters
    ----------
    x : numpy array or pandas DataFrame/Series, rows = agents
    statistic : callable taking an object like `x` (its rows resampled) and returning a number; with
        `vectorized=True` (numpy `x` only) it takes an array of shape (..., *x.shape), extra leading
        batch axes, and returns one number per batch element, shape (...): e.g. for a 1-D `x`,
        `lambda d: d.mean(axis=-1)`
    n_boot : number of bootstrap resamples
    level : confidence level of the two-sided interval
    method : "percentile" (Efron & Tibshirani 1993, ch. 13), "BCa" (bias-corrected and accelerated,
        Efron 1987; falls back to the percentile interval where BCa is undefined, every resample on one
        side of the estimate, or where some resamples gave NaN, and above `BCA_MAX_N` agents), or "expected" (the basic interval, Davison & Hinkley 1997 eq. 5.6, of
        the statistic's expected value at this number of agents, on the scale of `kind`: see
        `docs/analysis.md`; for statistics that sampling noise biases, such as correlations of
        correlation matrices, where the other two can exclude their own estimate)
    kind : the statistic's range for method "expected" (`KINDS`); the interval stays inside it
    moments : for a 2-D numpy `x` whose statistic depends on the columns' means and covariance matrix only
        (variances, correlations): the statistic of a batch of those, `moments(means, cov)` with shapes (b, k),
        (b, k, k) (covariance with ddof=1) returning shape (b,). Each resample's statistic is then computed
        from per-agent sums weighted by the number of times each agent is drawn (`resample_moments`), without
        copying the resampled rows: the same resamples, the same numbers up to rounding, far less time for many
        agents. `statistic(x)` still gives the estimate.
    rng : None (unseeded), an int seed, or a `numpy.random.Generator`; an int makes it reproducible

    Returns
    -------
    (estimate, low, high): `statistic(x)` on the full data and the interval. Resamples on which the
    statistic is NaN are left out. Data whose every resample gives the estimate give (est, est, est).
    """
    n_boot = check_count("n_boot", n_boot, 1)
    level = check_level(level)
    if method not in BOOTSTRAP_METHODS:
        raise unknown("bootstrap method", method, BOOTSTRAP_METHODS)
    kind = _check_kind(kind)
    take, n = _rows(x)
    if n < 2:
        raise PopsimError(f"bootstrap_ci needs at least 2 rows (agents) to resample, got {n}")
    estimate = float(statistic(x))
    if moments is not None:
        sums = resample_moments(np.asarray(x, dtype=float))

        def stat(idx, axis=-1):
            return moments(*sums(idx))
    elif vectorized:
        def stat(idx, axis=-1):
            return statistic(take(idx))
    else:
        def stat(idx):
            return float(statistic(take(idx)))
    width = int(np.prod(np.shape(x)[1:], dtype=int)) if vectorized else 1
    batch = max(1, min(100, _BATCH_CELLS // max(1, n * width)))
    bca = method == "BCa" and n <= BCA_MAX_N
    direct = vectorized and not isinstance(x, (pd.DataFrame, pd.Series)) and np.ndim(x) == 1
    # a 1-D array is resampled by scipy itself (the same draws as resampling its row numbers, one copy fewer)
    with _one_blas_thread() if moments is not None else contextlib.nullcontext():
        res = _bootstrap((np.asarray(x),) if direct else (np.arange(n),),
                         (lambda d, axis=-1: statistic(d)) if direct else stat, n_resamples=n_boot,
                         vectorized=vectorized or moments is not None, batch=batch,
                         method="BCa" if bca else "percentile", confidence_level=level, rng=rng_from(rng))
    boots = np.asarray(res.bootstrap_distribution, dtype=float)
    finite = boots[np.isfinite(boots)]
    if finite.size == 0:
        raise PopsimError("the statistic was NaN on every bootstrap resample; check that the data vary")
    if np.ptp(finite) == 0:
        return estimate, float(min(estimate, finite[0])), float(max(estimate, finite[0]))
    tail = [50 * (1 - level), 50 * (1 + level)]
    if method == "expected":
        z, ze = to_unbounded(finite, kind), to_unbounded(estimate, kind)
        zl, zh = np.percentile(z, tail)
        low, high = from_unbounded([ze + z.mean() - zh, ze + z.mean() - zl], kind)
        return estimate, float(low), float(high)
    low, high = res.confidence_interval
    if finite.size < boots.size or not (np.isfinite(low) and np.isfinite(high)):
        low, high = np.percentile(finite, tail)
    return estimate, float(low), float(high)


def mean_difference_ci(a, b, *, n_boot: int = 1000, level: float = 0.95, method: str = "BCa",
                       rng=None) -> tuple[float, float]:
    """Bootstrap CI of mean(a) - mean(b), resampling within each group (`scipy.stats.bootstrap`, two
    independent samples). `method`: "BCa" (default) or "percentile"; BCa falls back to the percentile
    interval where it is undefined and when a group has more than `BCA_MAX_N` agents. Returns (low, high); (diff, diff) when no resample varies."""
    level = check_level(level)
    n_boot = check_count("n_boot", n_boot, 1)
    if method not in ("percentile", "BCa"):
        raise unknown("bootstrap method", method, ("percentile", "BCa"))
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.size < 2 or b.size < 2:
        raise PopsimError("mean_difference_ci needs at least 2 values in each group")

    def diff(x, y, axis=-1):
        return x.mean(axis=axis) - y.mean(axis=axis)

    if max(a.size, b.size) > BCA_MAX_N:
        method = "percentile"
    res = _bootstrap((a, b), diff, n_resamples=n_boot, vectorized=True, paired=False,
                     batch=max(1, min(200, _BATCH_CELLS // (a.size + b.size))), method=method,
                     confidence_level=level, rng=rng_from(rng))
    boots = np.asarray(res.bootstrap_distribution, dtype=float)
    if np.ptp(boots) == 0:
        return float(boots[0]), float(boots[0])
    low, high = res.confidence_interval
    if not (np.isfinite(low) and np.isfinite(high)):
        low, high = np.percentile(boots, [50 * (1 - level), 50 * (1 + level)])
    return float(low), float(high)


def seed_interval(values, kind: str = "unbounded", *, level: float = 0.95) -> tuple[float, float, float]:
    """Mean of a metric over seeds (independent runs) with a t interval that respects the metric's range.

    The interval is mean +- t(level, n-1) * SE on the scale of `kind` (`to_unbounded`), centred on the
    transformed mean, with the SE carried over by the delta method (SE * derivative of the transform at
    the mean), then mapped back: for "unbounded" this is the textbook t interval; for the others it
    stays inside (-1, 1), (0, 1) or (0, inf) and always contains the mean.
    Returns (mean, low, high); low and high are NaN with fewer than 2 values, equal to the mean when
    the values do not vary. NaN values are dropped.
    """
    kind = _check_kind(kind)
    level = check_level(level)
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    n = v.size
    m = float(v.mean()) if n else float("nan")
    if n < 2:
        return m, float("nan"), float("nan")
    sd = float(v.std(ddof=1))
    if sd == 0:
        return m, m, m
    half = float(_st.t.ppf((1 + level) / 2, n - 1)) * sd / np.sqrt(n)
    if kind == "unbounded":
        return m, m - half, m + half
    z = float(to_unbounded(m, kind))
    low, high = from_unbounded([z - half * _slope(m, kind), z + half * _slope(m, kind)], kind)
    return m, float(low), float(high)


def summarize_seeds(table: pd.DataFrame, by: list[str], *, level: float = 0.95) -> pd.DataFrame:
    """Per setting and metric: the mean over seeds with a `level` interval (`seed_interval`).

    Input: tidy, one row per run x metric, columns `by` (the settings), metric, value.
    Output: columns `by` (those present), metric, kind (`METRIC_KINDS`), n_seeds, mean, sd (across
    seeds), low, high; groups in input order. Empty input gives an empty table.
    """
    if table.empty:
        return pd.DataFrame()
    if not {"metric", "value"} <= set(table.columns):
        raise PopsimError("table must be tidy with columns metric and value (one row per run x metric)")
    keys = [k for k in by if k in table] + ["metric"]
    rows = []
    for key, g in table.groupby(keys, dropna=False, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        metric = key[-1]
        v = pd.to_numeric(g["value"], errors="coerce").dropna().to_numpy(float)
        kind = metric_kind(str(metric))
        m, low, high = seed_interval(v, kind, level=level)
        rows.append({**dict(zip(keys, key)), "kind": kind, "n_seeds": int(v.size), "mean": m,
                     "sd": float(v.std(ddof=1)) if v.size > 1 else float("nan"), "low": low, "high": high})
    return pd.DataFrame(rows)
