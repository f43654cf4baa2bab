"""Every aggregate table of a sample, computed from its respondents by the rules of `human_data/README.md`.

Input: the scored respondents (value items on 1 = not like me at all ... 6 = very much like me, NaN for no
answer), their weights (ones when unweighted), outcomes in their own codes, demographics. Output: the
tables a shipped sample has, with the same columns as the files in `human_data/`, plus `demographics`:

- value_stats: sample, value, raw_mean, raw_sd, centered_mean, centered_sd (weighted)
- value_correlations: sample, scoring (centered, raw), value_a, value_b, r (weighted Pearson, pairwise)
- item_stats: sample, item, value, n, mean, sd, p1..p6 (n unweighted; mean, sd, shares weighted)
- item_correlations: sample, item_a, item_b, r (weighted Pearson; missing answers mean-imputed)
- top_value_shares: sample, top_value (a value code or TIED), share (weighted)
- sample_sizes: sample, n_scored, mrat_mean, mrat_sd
- behavior_distributions: sample, item, code, share (outcomes; weighted share of each code)
- value_behavior_correlations: sample, item, value, n, r (centered value x outcome, weighted, pairwise)
- joint_item_correlations: sample, var_a, var_b, n, r (value items and outcomes, weighted, pairwise)
- demographics: sample, variable (gender, age_band, education, country), level, n, share

Weighted mean = sum w x / sum w; weighted SD = sqrt(sum w (x - m)^2 / sum w * n / (n - 1)) (equals the
ordinary SD for equal weights); weighted Pearson r = weighted covariance / product of weighted SDs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from ..instruments import Instrument, Scores
from ..values import CODES10, dominant_values

#: age bands of the demographic marginals and subgroups: [lower, upper) in years
AGE_BANDS = ((0, 30, "under 30"), (30, 45, "30-44"), (45, 60, "45-59"), (60, 75, "60-74"), (75, 200, "75+"))


def wmean(x: np.ndarray, w: np.ndarray) -> float:
    ok = ~np.isnan(x)
    return float(np.sum(w[ok] * x[ok]) / np.sum(w[ok])) if ok.any() and np.sum(w[ok]) > 0 else float("nan")


def wsd(x: np.ndarray, w: np.ndarray) -> float:
    ok = ~np.isnan(x)
    n = int(ok.sum())
    if n < 2 or np.sum(w[ok]) <= 0:
        return float("nan")
    m = np.sum(w[ok] * x[ok]) / np.sum(w[ok])
    return float(np.sqrt(np.sum(w[ok] * (x[ok] - m) ** 2) / np.sum(w[ok]) * n / (n - 1)))


def pairwise(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted pairwise-complete Pearson matrix of the columns of x (NaN = missing), and the pair counts.
    (Thin products, k x n by n x k: one BLAS thread is fastest, and many threads crawl on a busy machine.)"""
    with threadpool_limits(1, user_api="blas"):
        return _pairwise(x, w)


def _pairwise(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    present = ~np.isnan(x)
    m = present.astype(float)  # float matrices: the products below run in BLAS
    x0 = np.where(present, x, 0.0)
    xw = x0 * w[:, None]
    sw = (m * w[:, None]).T @ m  # sum of weights over rows where both a and b are present
    sx = xw.T @ m  # [a, b]: sum of w x_a over rows where both are present
    sxx = (x0 * xw).T @ m
    sxy = xw.T @ x0
    with np.errstate(invalid="ignore", divide="ignore"):
        ma, mb = sx / sw, sx.T / sw
        cov = sxy / sw - ma * mb
        va, vb = sxx / sw - ma**2, sxx.T / sw - mb**2
        r = cov / np.sqrt(va * vb)
    r = np.clip(r, -1.0, 1.0)
    np.fill_diagonal(r, np.where(np.diag(sw) > 0, 1.0, np.nan))
    return r, np.rint(m.T @ m).astype(np.int64)


def _long(r: np.ndarray, names: list[str], a: str, b: str, n: np.ndarray | None = None) -> pd.DataFrame:
    k = len(names)
    out = pd.DataFrame({a: np.repeat(names, k), b: np.tile(names, k)})
    if n is not None:
        out["n"] = n.reshape(-1)
    out["r"] = r.reshape(-1)
    return out


def _with_sample(df: pd.DataFrame, sample: str) -> pd.DataFrame:
    df.insert(0, "sample", sample)
    return df


def value_tables(sample: str, items: pd.DataFrame, scores: Scores, w: np.ndarray, inst: Instrument) -> dict:
    """value_stats, value_correlations, item_stats, item_correlations, top_value_shares, sample_sizes."""
    raw, cen = scores.raw.reindex(columns=list(CODES10)), scores.centered.reindex(columns=list(CODES10))
    stats = [dict(value=c, raw_mean=wmean(raw[c].to_numpy(float), w), raw_sd=wsd(raw[c].to_numpy(float), w),
                  centered_mean=wmean(cen[c].to_numpy(float), w), centered_sd=wsd(cen[c].to_numpy(float), w))
             for c in CODES10]
    corr = []
    for scoring, frame in (("centered", cen), ("raw", raw)):
        r, _ = pairwise(frame.to_numpy(float), w)
        corr.append(_long(r, list(CODES10), "value_a", "value_b").assign(scoring=scoring))
    corr = pd.concat(corr, ignore_index=True)[["scoring", "value_a", "value_b", "r"]]

    ids = list(inst.item_ids)
    x = items[ids].to_numpy(float)
    points = np.asarray(inst.items[0].scale.points, float)
    rows = []
    for j, it in enumerate(inst.items):
        col = x[:, j]
        ok = ~np.isnan(col)
        shares = [float(np.sum(w[ok] * (col[ok] == p)) / np.sum(w[ok])) if ok.any() else float("nan") for p in points]
        rows.append(dict(item=it.id, value=it.value10, n=int(ok.sum()), mean=wmean(col, w), sd=wsd(col, w),
                         **{f"p{int(p)}": s for p, s in zip(points, shares)}))
    means = np.array([wmean(x[:, j], w) for j in range(x.shape[1])])
    imputed = np.where(np.isnan(x), means[None, :], x)
    r_items, _ = pairwise(imputed, w)

    cen_ok = cen.notna().all(axis=1).to_numpy()
    top = dominant_values(cen.to_numpy(float)[cen_ok])
    wt = w[cen_ok] / w[cen_ok].sum()
    tops = [dict(top_value=c, share=float(wt[top == c].sum())) for c in CODES10]
    tops.append(dict(top_value="TIED", share=float(wt[top == ""].sum())))
    mrat = scores.mrat.to_numpy(float)
    return {
        "value_stats": _with_sample(pd.DataFrame(stats), sample),
        "value_correlations": _with_sample(corr, sample),
        "item_stats": _with_sample(pd.DataFrame(rows), sample),
        "item_correlations": _with_sample(_long(r_items, ids, "item_a", "item_b"), sample),
        "top_value_shares": _with_sample(pd.DataFrame(tops), sample),
        "sample_sizes": pd.DataFrame([dict(sample=sample, n_scored=int(len(items)), mrat_mean=wmean(mrat, w),
                                           mrat_sd=wsd(mrat, w))]),
    }


def outcome_tables(sample: str, items: pd.DataFrame, centered: pd.DataFrame, outcomes: pd.DataFrame,
                   w: np.ndarray, codes: dict[str, list[float]]) -> dict:
    """behavior_distributions, value_behavior_correlations, joint_item_correlations (empty dict: no outcomes).
    `codes`: outcome -> the codes of its scale (shares of 0 are kept for codes nobody gave)."""
    if outcomes.shape[1] == 0:
        return {}
    dist = []
    for v in outcomes.columns:
        y = outcomes[v].to_numpy(float)
        ok = ~np.isnan(y)
        for code in codes[v]:
            dist.append(dict(item=v, code=_code(code), share=float(np.sum(w[ok] * (y[ok] == code)) / np.sum(w[ok]))))
    vb = []
    both = np.column_stack([centered[list(CODES10)].to_numpy(float), outcomes.to_numpy(float)])
    r, n = pairwise(both, w)
    for j, v in enumerate(outcomes.columns):
        for i, c in enumerate(CODES10):
            vb.append(dict(item=v, value=c, n=int(n[i, 10 + j]), r=float(r[i, 10 + j])))
    names = list(items.columns) + list(outcomes.columns)
    rj, nj = pairwise(np.column_stack([items.to_numpy(float), outcomes.to_numpy(float)]), w)
    return {"behavior_distributions": _with_sample(pd.DataFrame(dist), sample),
            "value_behavior_correlations": _with_sample(pd.DataFrame(vb), sample),
            "joint_item_correlations": _with_sample(_long(rj, names, "var_a", "var_b", nj), sample)}


def _code(code: float):
    return int(code) if float(code).is_integer() else float(code)


def age_band(age: pd.Series) -> pd.Series:
    out = pd.Series(None, index=age.index, dtype="object")
    for lo, hi, label in AGE_BANDS:
        out[(age >= lo) & (age < hi)] = label
    return out


def level_order(level: str) -> tuple:
    """Sort key of demographic levels: education in ES-ISCED or years order (others alphabetically after)."""
    from .clean import ES_ISCED, YEAR_BANDS

    known = list(ES_ISCED.values()) + [f"{b} of education" for _, b in YEAR_BANDS] + ["16 or more years of education"]
    return (known.index(level), "") if level in known else (len(known), level)


def demographic_table(sample: str, demo: pd.DataFrame, w: np.ndarray) -> pd.DataFrame:
    """Marginal shares of gender, age band, education and country (weighted; n unweighted)."""
    rows = []
    cols = {"gender": demo.get("gender"), "age_band": age_band(demo["age"]) if "age" in demo else None,
            "education": demo.get("education"), "country": demo.get("country")}
    for var, s in cols.items():
        if s is None:
            continue
        ok = s.notna().to_numpy()
        if not ok.any():
            continue
        total = w[ok].sum()
        levels = [lvl for _, _, lvl in AGE_BANDS] if var == "age_band" else sorted(s[ok].astype(str).unique(), key=level_order)
        for level in levels:
            hit = ok & (s.astype(str) == level).to_numpy()
            if var == "age_band" and not hit.any():
                continue
            rows.append(dict(variable=var, level=level, n=int(hit.sum()), share=float(w[hit].sum() / total)))
    return _with_sample(pd.DataFrame(rows, columns=["variable", "level", "n", "share"]), sample)
