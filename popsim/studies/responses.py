"""Response of a study's outcomes to its parameters: slopes with CIs, response curves and heat maps.

Input is the tidy results table of a study (one row per run x metric): the parameter columns, `seed`,
`metric`, `value`, and optionally a grouping column (e.g. `policy`) drawn side by side.
"""

from __future__ import annotations


import numpy as np
import pandas as pd
from scipy import stats

SLOPE_COLUMNS = ["group", "metric", "parameter", "slope", "se", "low", "high", "n_runs", "r2"]


def response_slopes(results: pd.DataFrame, params: list[str], by: str | None = None) -> pd.DataFrame:
    """Per group and metric: the OLS slope of the outcome on each parameter (all parameters jointly, runs as
    observations, seeds included), with its 95% t interval. Columns `SLOPE_COLUMNS`; slopes are in outcome
    units per parameter unit (per human SD for a shift)."""
    rows = []
    groups = results.groupby(by, sort=False) if by else [("all", results)]
    for group, g in groups:
        for metric, m in g.groupby("metric", sort=False):
            m = m.dropna(subset=["value", *params])
            X = np.column_stack([np.ones(len(m))] + [m[p].to_numpy(float) for p in params])
            y = m["value"].to_numpy(float)
            dof = len(y) - X.shape[1]
            if dof < 1 or np.linalg.matrix_rank(X) < X.shape[1]:
                continue
            beta, *_ = np.linalg.lstsq(X, y, rcond=None)
            resid = y - X @ beta
            s2 = float(resid @ resid) / dof
            cov = s2 * np.linalg.inv(X.T @ X)
            tq = stats.t.ppf(0.975, dof)
            r2 = 1 - float(resid @ resid) / float(((y - y.mean()) ** 2).sum()) if y.std() > 0 else float("nan")
            for j, p in enumerate(params, start=1):
                se = float(np.sqrt(cov[j, j]))
                rows.append({"group": group, "metric": metric, "parameter": p, "slope": float(beta[j]), "se": se,
                             "low": float(beta[j] - tq * se), "high": float(beta[j] + tq * se), "n_runs": len(y),
                             "r2": r2})
    return pd.DataFrame(rows, columns=SLOPE_COLUMNS)


def _mean_band(df: pd.DataFrame, x: str) -> pd.DataFrame:
    """Mean of the outcome at each x with its band. Grid levels: each seed's mean at x (the other parameters
    averaged within the seed), the band spanning the seeds (lowest to highest); continuous designs: x in 6
    quantile bins, the band the 95% t interval of the bin's mean over its runs."""
    d = df[[x, "seed", "value"]].dropna()
    binned = d[x].nunique() > 12
    if binned:
        bins = pd.qcut(d[x], 6, duplicates="drop")
        per = d.assign(**{x: bins.map(lambda b: b.mid).astype(float)})
    else:
        per = d.groupby([x, "seed"], as_index=False)["value"].mean()
    out = []
    for xv, g in per.groupby(x, sort=True):
        v = g["value"].to_numpy(float)
        n, m = len(v), float(v.mean())
        if binned:
            half = float(stats.t.ppf(0.975, n - 1) * v.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
            low, high = m - half, m + half
        else:
            low, high = float(v.min()), float(v.max())
        out.append({x: xv, "mean": m, "low": low, "high": high, "n": n})
    return pd.DataFrame(out)


def response_figure(results: pd.DataFrame, params: list[str], metrics: list[str], path,
                    by: str | None = None, title: str = ""):
    """Rows = metrics, columns = parameters: the outcome against the parameter (mean with a 95% band across
    seeds, other parameters averaged), one line per group side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(metrics), len(params), figsize=(3.4 * len(params), 2.5 * len(metrics)),
                             squeeze=False)
    groups = list(dict.fromkeys(results[by])) if by else [None]
    for i, metric in enumerate(metrics):
        sub = results[results["metric"] == metric]
        for j, p in enumerate(params):
            ax = axes[i][j]
            for k, grp in enumerate(groups):
                g = sub if grp is None else sub[sub[by] == grp]
                if g.empty:
                    continue
                band = _mean_band(g, p)
                line = ax.plot(band[p], band["mean"], "o-", ms=3, label=str(grp) if grp is not None else None)[0]
                ax.fill_between(band[p], band["low"], band["high"], color=line.get_color(), alpha=0.2, lw=0)
            ax.set_xlabel(p, fontsize=8)
            ax.set_ylabel(metric, fontsize=8)
            ax.tick_params(labelsize=7)
            if by and i == 0 and j == 0:
                ax.legend(fontsize=7, title=by, title_fontsize=7)
    fig.suptitle(title or "Outcome vs parameter (other parameters averaged): mean, band across seeds\n"
                 "(continuous designs: 95% CI over the runs in each of 6 bins)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def heat_map(results: pd.DataFrame, x: str, y: str, metric: str, path, by: str | None = None):
    """Mean outcome over two parameters (one panel per group): grid levels as they are, continuous designs
    binned into 6 x 6 quantile cells."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sub = results[results["metric"] == metric].copy()
    for p in (x, y):
        if sub[p].nunique() > 12:
            sub[p] = pd.cut(sub[p], 5).map(lambda b: b.mid).astype(float).round(2)
    groups = list(dict.fromkeys(sub[by])) if by else [None]
    fig, axes = plt.subplots(1, len(groups), figsize=(3.8 * len(groups), 3.2), squeeze=False, layout="constrained")
    tables = [(sub if g is None else sub[sub[by] == g]).pivot_table(index=y, columns=x, values="value", aggfunc="mean")
              for g in groups]
    values = np.concatenate([t.to_numpy(float).ravel() for t in tables] + [np.array([np.nan])])
    lo, hi = (np.nanmin(values), np.nanmax(values)) if np.isfinite(values).any() else (0.0, 1.0)
    for ax, grp, t in zip(axes[0], groups, tables):
        im = ax.imshow(t.to_numpy(), origin="lower", aspect="auto", vmin=lo, vmax=hi, cmap="viridis")
        ax.set_xticks(range(t.shape[1]), [f"{v:g}" for v in t.columns], fontsize=7)
        ax.set_yticks(range(t.shape[0]), [f"{v:g}" for v in t.index], fontsize=7)
        ax.set_xlabel(x, fontsize=8)
        ax.set_ylabel(y, fontsize=8)
        ax.set_title(f"{metric}" + (f" ({by} = {grp})" if grp is not None else ""), fontsize=8)
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
