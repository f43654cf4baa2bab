"""Individual-level fidelity: how well each agent's answers match its own human respondent's answers.

For agents that are real respondents (strategy `respondents`), every agent has a "truth": the answers its
respondent gave to the items the agent answered. Three predictors of that truth are scored per agent:

- `agent`: the agent's own (simulated) answers;
- `population mean`: every item's mean answer over the population's respondents (rounded to the nearest
  answer code for exact accuracy), the same for everybody: knows the population, nothing of the person;
- `random respondent`: the answers of a random other respondent of the same subgroup (seeded; a different
  person, not merely a different agent).

Scores per agent, over the items both the predictor and the truth answered: exact-answer accuracy (share of
items answered identically), mean absolute error in shares of each item's answer range (0 = identical,
1 = opposite ends; items with different scales mix fairly), and the per-person Pearson correlation across
items of the range-scaled answers (NaN with fewer than 3 items or no variation). Park et al. (2024) divide
accuracy by human test-retest agreement (0.85 on the GSS); surveys such as the ESS have no retest, so the
two baselines stand in: a simulation is informative about individuals to the extent that it beats them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import PopsimError
from ._tables import check_count, rng_from, wide_answers
from .intervals import bootstrap_ci

PREDICTORS = ("agent", "population mean", "random respondent")
PER_AGENT = ("agent", "predictor", "n_items", "accuracy", "mae", "r")
SUMMARY = ("predictor", "n_agents", "accuracy", "accuracy_low", "accuracy_high", "mae", "mae_low", "mae_high", "r",
           "r_low", "r_high", "n_r")


def person_scores(pred: pd.DataFrame, truth: pd.DataFrame, low: pd.Series, high: pd.Series) -> pd.DataFrame:
    """Per row (agent): n_items, accuracy, mae (range-scaled), r (across items, range-scaled); wide inputs
    with the same index and columns (items); NaN = not answered."""
    span = (high - low).replace(0, np.nan)
    p = ((pred - low) / span).to_numpy(float)
    t = ((truth - low) / span).to_numpy(float)
    both = ~np.isnan(p) & ~np.isnan(t)
    n = both.sum(axis=1)
    same = np.where(both, np.isclose(pred.to_numpy(float), truth.to_numpy(float)), False).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        acc = same / n
        mae = np.where(both, np.abs(p - t), 0.0).sum(axis=1) / n
        pm = np.where(both, p, 0.0).sum(axis=1, keepdims=True) / n[:, None]
        tm = np.where(both, t, 0.0).sum(axis=1, keepdims=True) / n[:, None]
        dp, dt = np.where(both, p - pm, 0.0), np.where(both, t - tm, 0.0)
        r = (dp * dt).sum(axis=1) / np.sqrt((dp**2).sum(axis=1) * (dt**2).sum(axis=1))
    r = np.where((n >= 3) & np.isfinite(r), r, np.nan)
    return pd.DataFrame({"n_items": n, "accuracy": acc, "mae": mae, "r": r}, index=pred.index)


def _random_other(truth: pd.DataFrame, respondent: pd.Series, group: pd.Series, gen) -> pd.DataFrame:
    """For each agent, the truth of a random agent of the same group whose respondent is another person (any
    group when its own has none)."""
    agents = truth.index.to_numpy()
    resp = respondent.reindex(agents).to_numpy()
    grp = group.reindex(agents).astype(str).to_numpy()
    picks = np.empty(len(agents), dtype=int)
    for i in range(len(agents)):
        pool = np.flatnonzero((grp == grp[i]) & (resp != resp[i]))
        if pool.size == 0:
            pool = np.flatnonzero(resp != resp[i])
        if pool.size == 0:
            raise PopsimError("every agent is the same respondent; the random-respondent baseline needs at least "
                              "two different respondents")
        picks[i] = pool[gen.integers(pool.size)]
    out = truth.iloc[picks].copy()
    out.index = truth.index
    return out


def individual_fidelity(sim, truth, *, respondent: pd.Series | None = None, group: pd.Series | None = None,
                        scales: dict | None = None, n_boot: int = 1000, seed=0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score the agents' answers against their own respondents' answers, next to two baselines.

    Input:
      sim, truth: the agents' answers and their respondents' answers, long (agent, item, answer) or wide
        (index agent, one column per item); only agents and items in both count.
      respondent: agent -> respondent id (default: each agent its own person); group: agent -> subgroup label
        for the random-respondent baseline (default: one group); scales: item -> (lowest, highest) answer code
        (default: the lowest and highest code seen in sim or truth).
    Output (per_agent, summary):
      per_agent: agent, predictor (agent, population mean, random respondent), n_items, accuracy, mae, r
      summary: one row per predictor: n_agents, accuracy, mae, r (means over agents; r over agents where it
        is defined, n_r of them), each with a percentile bootstrap 95% CI over agents (`n_boot` resamples,
        `bootstrap_ci`).
    """
    n_boot = check_count("n_boot", n_boot, 1)
    s, t = wide_answers(sim, name="sim"), wide_answers(truth, name="truth")
    agents = s.index.intersection(t.index)
    items = [c for c in s.columns if c in t.columns]
    if len(agents) < 2 or not items:
        raise PopsimError(f"sim and truth share {len(agents)} agents and {len(items)} items; individual fidelity "
                          "needs agents that are respondents (strategy respondents) and their answers to the same items")
    s, t = s.loc[agents, items], t.loc[agents, items]
    if scales:
        low = pd.Series({i: float(scales[i][0]) for i in items})
        high = pd.Series({i: float(scales[i][1]) for i in items})
    else:
        both = pd.concat([s, t])
        low, high = both.min(), both.max()
    respondent = pd.Series(agents, index=agents) if respondent is None else respondent
    group = pd.Series("all", index=agents) if group is None else group
    gen = rng_from(seed)
    mean = t.mean(axis=0)
    codes = {i: np.unique(t[i].dropna().to_numpy()) for i in items}
    rounded = {i: codes[i][np.abs(codes[i] - mean[i]).argmin()] if codes[i].size else np.nan for i in items}
    # exact accuracy needs an answer code; the error and correlation use the mean itself
    pm_exact = pd.DataFrame({i: np.full(len(agents), rounded[i]) for i in items}, index=agents)
    pm = pd.DataFrame({i: np.full(len(agents), mean[i]) for i in items}, index=agents)
    pm_scores = person_scores(pm, t, low, high)
    pm_scores["accuracy"] = person_scores(pm_exact, t, low, high)["accuracy"]
    per = {"agent": person_scores(s, t, low, high), "population mean": pm_scores,
           "random respondent": person_scores(_random_other(t, respondent, group, gen), t, low, high)}
    rows = [df.assign(predictor=name).rename_axis("agent").reset_index() for name, df in per.items()]
    per_agent = pd.concat(rows, ignore_index=True)[list(PER_AGENT)]
    summary = []
    for name, df in per.items():
        row = {"predictor": name, "n_agents": int(len(df))}
        for col in ("accuracy", "mae", "r"):
            x = df[col].dropna().to_numpy(float)
            row[col], row[f"{col}_low"], row[f"{col}_high"] = _mean_ci(x, n_boot, gen)
        row["n_r"] = int(df["r"].notna().sum())
        summary.append(row)
    return per_agent, pd.DataFrame(summary, columns=list(SUMMARY))


def _mean_ci(x: np.ndarray, n_boot: int, gen) -> tuple[float, float, float]:
    """Mean over agents with its percentile bootstrap 95% interval (`intervals.bootstrap_ci`)."""
    if x.size < 2:
        return (float(x[0]) if x.size else float("nan")), float("nan"), float("nan")
    return bootstrap_ci(x, lambda d: d.mean(axis=-1), n_boot=n_boot, vectorized=True, rng=gen)
