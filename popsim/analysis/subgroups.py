"""Subgroups: value means, value structure and answer distributions of the simulated population per
demographic subgroup (gender, age band, education, country), each next to the human subgroup's figure.

The human side comes from respondent-level data (an imported sample), weighted where weights exist. A
subgroup is compared only where it has at least `min_agents` agents and `min_respondents` respondents; the
others are left out (too few to say anything).

Groups are given as tables: one row per agent (or respondent), one column per grouping variable, a label per
cell (None/NaN = unknown, left out of that variable); groups come in the order of the human table's categories
(a categorical column) or of their first appearance. Weighted human means use weights w: mean = sum w x /
sum w, SE = weighted SD / sqrt(n_eff) with Kish's n_eff = (sum w)^2 / sum w^2.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import PopsimError
from ..values import CODES10
from ._tables import upper, value_table
from .distributions import compare_distributions

MEANS = ("variable", "group", "value", "sim_n", "sim_mean", "sim_low", "sim_high", "human_n", "human_mean",
         "human_low", "human_high")
STRUCTURE = ("variable", "group", "sim_n", "human_n", "structure_r")
DISTRIBUTIONS = ("variable", "group", "item", "sim_n", "human_n", "sim_mean", "human_mean", "wasserstein",
                 "jensen_shannon")


def _groups(groups: pd.DataFrame, index, name: str) -> pd.DataFrame:
    if not isinstance(groups, pd.DataFrame):
        raise PopsimError(f"{name} must be a DataFrame with one row per agent/respondent and one column per grouping "
                          f"variable (e.g. gender, age_band), got {type(groups).__name__}")
    return groups.reindex(index)


def _pairs(sim_groups: pd.DataFrame, human_groups: pd.DataFrame, min_agents: int, min_respondents: int):
    """(variable, label, sim mask, human mask) of every subgroup with enough agents and respondents."""
    for var in [c for c in sim_groups.columns if c in human_groups.columns]:
        h = human_groups[var]
        labels = list(h.cat.categories) if isinstance(h.dtype, pd.CategoricalDtype) else pd.unique(h.dropna())
        s, h = sim_groups[var].astype(object), h.astype(object)
        for label in [x for x in labels if x is not None]:
            ms, mh = (s == label).to_numpy(), (h == label).to_numpy()
            if ms.sum() >= min_agents and mh.sum() >= min_respondents:
                yield var, label, ms, mh


def _weights(weights, index) -> np.ndarray:
    return np.ones(len(index)) if weights is None else pd.Series(weights).reindex(index).to_numpy(float)


def _wmean_ci(x: np.ndarray, w: np.ndarray) -> tuple[float, float, float]:
    ok = ~np.isnan(x)
    x, w = x[ok], w[ok]
    if x.size < 2 or w.sum() <= 0:
        return float("nan"), float("nan"), float("nan")
    m = float(np.sum(w * x) / w.sum())
    sd = np.sqrt(np.sum(w * (x - m) ** 2) / w.sum() * x.size / (x.size - 1))
    se = sd / np.sqrt(w.sum() ** 2 / np.sum(w**2))
    return m, m - 1.96 * se, m + 1.96 * se


def subgroup_means(sim, sim_groups: pd.DataFrame, human, human_groups: pd.DataFrame, *, human_weights=None,
                   min_agents: int = 20, min_respondents: int = 50) -> pd.DataFrame:
    """Mean centered value per subgroup, simulated (normal 95% CI) next to human (weighted, 95% CI).

    Input: `sim` (index agent) and `human` (index respondent): centered value scores, columns SD..UN;
    `sim_groups`/`human_groups`: group labels with the same index; `human_weights`: respondent -> weight.
    Output columns: variable, group, value, sim_n, sim_mean, sim_low, sim_high, human_n, human_mean,
    human_low, human_high (one row per subgroup and value).
    """
    s, h = value_table(sim, name="sim"), value_table(human, name="human")
    sg, hg = _groups(sim_groups, s.index, "sim_groups"), _groups(human_groups, h.index, "human_groups")
    w = _weights(human_weights, h.index)
    rows = []
    for var, label, ms, mh in _pairs(sg, hg, min_agents, min_respondents):
        for c in CODES10:
            sm, slo, shi = _wmean_ci(s.loc[ms, c].to_numpy(float), np.ones(int(ms.sum())))
            hm, hlo, hhi = _wmean_ci(h.loc[mh, c].to_numpy(float), w[mh])
            rows.append(dict(variable=var, group=label, value=c, sim_n=int(ms.sum()), sim_mean=sm, sim_low=slo,
                             sim_high=shi, human_n=int(mh.sum()), human_mean=hm, human_low=hlo, human_high=hhi))
    return pd.DataFrame(rows, columns=list(MEANS))


def _wcorr(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    ok = ~np.isnan(x).any(axis=1)
    x, w = x[ok], w[ok]
    m = (w[:, None] * x).sum(axis=0) / w.sum()
    d = x - m
    cov = (w[:, None] * d).T @ d
    sd = np.sqrt(np.diag(cov))
    with np.errstate(invalid="ignore", divide="ignore"):
        return cov / np.outer(sd, sd)


def subgroup_structure(sim, sim_groups: pd.DataFrame, human, human_groups: pd.DataFrame, *, human_weights=None,
                       min_agents: int = 30, min_respondents: int = 100) -> pd.DataFrame:
    """Per subgroup: Pearson r between the simulated and the human 10x10 centered value correlations (45
    cells; human weighted). Output columns: variable, group, sim_n, human_n, structure_r (NaN when a value
    does not vary within the group)."""
    s, h = value_table(sim, name="sim"), value_table(human, name="human")
    sg, hg = _groups(sim_groups, s.index, "sim_groups"), _groups(human_groups, h.index, "human_groups")
    w = _weights(human_weights, h.index)
    rows = []
    for var, label, ms, mh in _pairs(sg, hg, min_agents, min_respondents):
        a = upper(_wcorr(s.loc[ms, list(CODES10)].to_numpy(float), np.ones(int(ms.sum()))))
        b = upper(_wcorr(h.loc[mh, list(CODES10)].to_numpy(float), w[mh]))
        r = float(np.corrcoef(a, b)[0, 1]) if np.isfinite(a).all() and np.isfinite(b).all() else float("nan")
        rows.append(dict(variable=var, group=label, sim_n=int(ms.sum()), human_n=int(mh.sum()), structure_r=r))
    return pd.DataFrame(rows, columns=list(STRUCTURE))


def subgroup_distributions(sim_answers: pd.DataFrame, sim_groups: pd.DataFrame, human_answers: pd.DataFrame,
                           human_groups: pd.DataFrame, *, human_weights=None, min_agents: int = 20,
                           min_respondents: int = 50, n_boot: int = 200, seed: int = 0) -> pd.DataFrame:
    """Per subgroup and item: the simulated answer distribution against the human subgroup's (weighted shares).

    Input: `sim_answers` long (agent, item, answer); `human_answers` wide (index respondent, one column per
    item, NaN = no answer); group tables indexed by agent / respondent.
    Output columns: variable, group, item, sim_n, human_n, sim_mean, human_mean, wasserstein, jensen_shannon
    (as `compare_distributions`).
    """
    if not {"agent", "item", "answer"} <= set(sim_answers.columns):
        raise PopsimError("sim_answers must be long with columns agent, item, answer")
    items = [i for i in sim_answers["item"].unique().tolist() if i in human_answers.columns]
    agents = pd.Index(pd.unique(sim_answers["agent"]))
    sg, hg = _groups(sim_groups, agents, "sim_groups"), _groups(human_groups, human_answers.index, "human_groups")
    w = _weights(human_weights, human_answers.index)
    rows = []
    for var, label, ms, mh in _pairs(sg, hg, min_agents, min_respondents):
        sub = sim_answers[sim_answers["agent"].isin(agents[ms]) & sim_answers["item"].isin(items)]
        shares = []
        for it in items:
            x, wx = human_answers.loc[mh, it].to_numpy(float), w[mh]
            ok = ~np.isnan(x)
            codes = np.unique(x[ok])
            shares += [dict(item=it, answer=c, share=float(wx[ok][x[ok] == c].sum())) for c in codes]
        comp = compare_distributions(sub, pd.DataFrame(shares), n_boot=n_boot, seed=seed)
        counts = human_answers.loc[mh, items].notna().sum()
        for r in comp.itertuples():
            rows.append(dict(variable=var, group=label, item=r.item, sim_n=int(r.n), human_n=int(counts[r.item]),
                             sim_mean=r.sim_mean, human_mean=r.human_mean, wasserstein=r.wasserstein,
                             jensen_shannon=r.jensen_shannon))
    return pd.DataFrame(rows, columns=list(DISTRIBUTIONS))
