"""Did the value prime work? Manipulation check, recovery of induced value profiles, and the
internal consistency (Cronbach's alpha) of each value's items.

Formulas and citations are in `docs/analysis.md`.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats as _st

from .. import datasets
from ..errors import PopsimError
from ..instruments import load_instrument
from ..values import CODES10, dominant_values
from ._tables import check_count, check_level, rng_from, value_table, wide_answers
from .intervals import mean_difference_ci
from .stats import cronbach_alpha, fdr_bh

CHECK_COLUMNS = ("value", "baseline", "n_primed", "n_unprimed", "mean_primed", "mean_unprimed", "diff", "d",
                 "low", "high", "p", "q", "hit_rate")


def _primes(prime, index: pd.Index) -> pd.Series:
    if not isinstance(prime, pd.Series):
        prime = pd.Series(list(prime), index=index) if len(prime) == len(index) else None
    if prime is None:
        raise PopsimError("prime must be a Series indexed like centered (or a list of the same length)")
    missing = index.difference(prime.index)
    if len(missing):
        raise PopsimError(f"prime lacks {len(missing)} agents of centered (e.g. {missing[0]!r}); "
                          "index prime by the same agent ids")
    p = prime.reindex(index)
    p = p.where(p.notna(), "").astype(str).str.strip()
    bad = sorted(set(p) - set(CODES10) - {""})
    if bad:
        raise PopsimError(f"unknown primed value {bad[0]!r}; use a value code ({' '.join(CODES10)}) or '' "
                          "for unprimed agents")
    return p


def manipulation_check(centered: pd.DataFrame, prime, *, n_boot: int = 1000, level: float = 0.95,
                       seed: int = 0) -> pd.DataFrame:
    """Do agents primed with a value score higher on it than the baseline agents?

    Input:
      centered: wide, rows = agents, columns = the 10 value codes (centered scores)
      prime: Series indexed like `centered`: the primed value code of each agent, '' (or NaN)
        for unprimed agents
    Baseline: the unprimed agents when there are any (baseline = "unprimed"); otherwise, for each
    value, the agents primed with any other value (baseline = "other primes").

    Output: one row per primed value (circular order), columns
      value, baseline, n_primed, n_unprimed (size of the baseline group), mean_primed,
      mean_unprimed (mean centered score on that value), diff (primed - baseline), d (Cohen's d:
      diff / pooled SD), low, high (BCa bootstrap CI of diff, `scipy.stats.bootstrap` resampling
      agents within each group: a difference of means is unbiased, and BCa corrects for skewed
      scores in small groups), p (Welch's two-sided t test), q (Benjamini-Hochberg over the rows), hit_rate
      (share of primed agents whose single top centered value is the primed one; a tied top is
      not a hit). d, CI and p are NaN when a group has fewer than 2 agents.
    """
    x = value_table(centered)
    p = _primes(prime, x.index)
    n_boot = check_count("n_boot", n_boot, 1)
    level = check_level(level)
    primed_codes = [c for c in CODES10 if (p == c).any()]
    if not primed_codes:
        raise PopsimError("no agent is primed with a value; prime holds only '' (unprimed)")
    unprimed = p == ""
    baseline = "unprimed" if unprimed.any() else "other primes"
    if baseline == "other primes" and len(primed_codes) < 2:
        raise PopsimError("all agents are primed with the same value and none is unprimed; there is no "
                          "baseline to compare with: add unprimed agents or other primes")
    top = pd.Series(dominant_values(x.fillna(-np.inf).to_numpy()), index=x.index)
    gen = rng_from(seed)
    rows = []
    for v in primed_codes:
        in_group = p == v
        base = unprimed if baseline == "unprimed" else ~in_group
        a = x.loc[in_group, v].dropna().to_numpy()
        b = x.loc[base, v].dropna().to_numpy()
        row = dict(value=v, baseline=baseline, n_primed=a.size, n_unprimed=b.size,
                   mean_primed=float(a.mean()) if a.size else np.nan,
                   mean_unprimed=float(b.mean()) if b.size else np.nan,
                   hit_rate=float((top[in_group] == v).mean()))
        row["diff"] = row["mean_primed"] - row["mean_unprimed"]
        row.update(d=np.nan, low=np.nan, high=np.nan, p=np.nan)
        if a.size >= 2 and b.size >= 2:
            pooled = np.sqrt(((a.size - 1) * a.var(ddof=1) + (b.size - 1) * b.var(ddof=1)) / (a.size + b.size - 2))
            row["d"] = float(row["diff"] / pooled) if pooled > 0 else np.nan
            row["low"], row["high"] = mean_difference_ci(a, b, n_boot=n_boot, level=level, method="BCa", rng=gen)
            if pooled > 0:
                with warnings.catch_warnings():  # identical groups: scipy warns and returns NaN, which we keep
                    warnings.simplefilter("ignore", RuntimeWarning)
                    row["p"] = float(_st.ttest_ind(a, b, equal_var=False).pvalue)
        rows.append(row)
    out = pd.DataFrame(rows)
    if not ((out["n_primed"] >= 2) & (out["n_unprimed"] >= 2)).any():
        raise PopsimError("every primed group or its baseline has fewer than 2 agents; simulate more agents")
    out["q"] = fdr_bh(out["p"].to_numpy())
    return out[list(CHECK_COLUMNS)]


def profile_recovery(induced: pd.DataFrame, measured: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """How well does each agent's measured value profile reproduce the profile it was given?

    Input: two wide tables, rows = agents (same ids), columns = value codes: the induced
    (target, e.g. sampled) profiles and the measured (scored) centered profiles.
    Returns (per_agent, summary):
      per_agent: columns agent, n (values present in both), r (Pearson r across the values;
        NaN if n < 3 or a profile is flat)
      summary: n_agents, n_valid (finite r), mean_r, median_r, fisher_mean_r (tanh of the mean
        atanh r, |r| clipped below 1), share_positive (share of valid r > 0)
    """
    a = value_table(induced, name="induced", min_rows=1, require_all=False)
    b = value_table(measured, name="measured", min_rows=1, require_all=False)
    common = a.index.intersection(b.index)
    cols = [c for c in CODES10 if c in a.columns and c in b.columns]
    if len(common) == 0:
        raise PopsimError("induced and measured share no agent ids; index both by agent id")
    if len(cols) < 3:
        raise PopsimError(f"induced and measured share {len(cols)} value columns; a profile r needs >= 3")
    av, bv = a.loc[common, cols].to_numpy(), b.loc[common, cols].to_numpy()
    rs, ns = [], []
    for x, y in zip(av, bv):
        ok = np.isfinite(x) & np.isfinite(y)
        ns.append(int(ok.sum()))
        if ok.sum() >= 3 and np.ptp(x[ok]) > 0 and np.ptp(y[ok]) > 0:
            rs.append(float(np.corrcoef(x[ok], y[ok])[0, 1]))
        else:
            rs.append(np.nan)
    per_agent = pd.DataFrame({"agent": list(common), "n": ns, "r": rs})
    r = per_agent["r"].dropna().to_numpy()
    lim = 1 - 1e-12
    summary = dict(n_agents=len(per_agent), n_valid=int(r.size),
                   mean_r=float(r.mean()) if r.size else np.nan,
                   median_r=float(np.median(r)) if r.size else np.nan,
                   fisher_mean_r=float(np.tanh(np.arctanh(np.clip(r, -lim, lim)).mean())) if r.size else np.nan,
                   share_positive=float((r > 0).mean()) if r.size else np.nan)
    return per_agent, summary


def reliability(answers_wide: pd.DataFrame, instrument: str = "ess21", *, level: int = 10) -> pd.DataFrame:
    """Cronbach's alpha of each value's items.

    Input: answers, wide (rows = agents, columns = the instrument's item ids, e.g. ipcrtiv) or
    long (columns agent, item, answer); `instrument`: ess21, pvq40 or pvq_rr; `level`: 10 or 19.
    Output: one row per value of the instrument's key (circular order), columns value, n_items,
    alpha (NaN for single-item values; listwise deletion within each value's items).
    """
    inst = load_instrument(instrument)
    if inst.kind != "values":
        raise PopsimError(f"instrument {instrument!r} has no value key; use ess21, pvq40 or pvq_rr")
    x = wide_answers(answers_wide, name="answers_wide")
    key = inst.key(level)
    missing = [i for ids in key.values() for i in ids if i not in x.columns]
    if missing:
        raise PopsimError(f"answers lack items {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''} "
                          f"of {instrument}; give one column per item id")
    rows = []
    for value, ids in key.items():
        alpha = cronbach_alpha(x[ids]) if len(ids) >= 2 else np.nan
        rows.append(dict(value=value, n_items=len(ids), alpha=alpha))
    return pd.DataFrame(rows, columns=["value", "n_items", "alpha"])


def human_reliability(sample: str, instrument: str = "ess21") -> pd.DataFrame:
    """Cronbach's alpha of each value's ESS-21 items in a human sample of the reference pack, exactly
    from the item SDs and correlations: alpha = k/(k-1) (1 - sum var_i / var_total), with the item
    covariances r_ij sd_i sd_j and var_total the sum of all of them.

    Output: one row per value (circular order), columns value, n_items, alpha. Only the ESS-21 has
    human item statistics in the pack.
    """
    if instrument != "ess21":
        raise PopsimError(f"human item statistics exist for the ess21 only, not {instrument!r}")
    sd = datasets.item_stats(sample).set_index("item")["sd"]
    r = datasets.item_correlation_matrix(sample)
    rows = []
    for value, items in load_instrument("ess21").key().items():
        s = sd[items].to_numpy(float)
        cov = r.loc[items, items].to_numpy(float) * np.outer(s, s)
        k = len(items)
        rows.append(dict(value=value, n_items=k, alpha=float(k / (k - 1) * (1 - np.trace(cov) / cov.sum()))))
    return pd.DataFrame(rows, columns=["value", "n_items", "alpha"])
