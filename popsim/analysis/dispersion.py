"""Dispersion: is the simulated population as spread out as the human one?

Per item and per value, the ratio SD(simulated answers) / SD(human answers) with a bootstrap CI,
and the between-agent spread of value profiles against the human one (Twin-2K-500 reports simulated
populations under-dispersed). Formulas and citations are in `docs/analysis.md`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import PopsimError
from ._tables import check_count, check_level, rng_from, value_table
from .scores import answer_shares, item_scales
from .intervals import bootstrap_ci

RATIO_COLUMNS = ("n", "sim_sd", "human_sd", "ratio", "low", "high")


def _sd_of_counts(counts: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Sample SD (ddof = 1) of each row of answer counts over `codes`."""
    counts = np.atleast_2d(counts).astype(float)
    n = counts.sum(axis=1)
    mean = counts @ codes / n
    ss = counts @ codes**2 - n * mean**2
    return np.sqrt(np.clip(ss, 0, None) / np.maximum(n - 1, 1))


def _percentiles(x: np.ndarray, level: float) -> tuple[float, float]:
    x = x[np.isfinite(x)]
    if x.size == 0:
        return float("nan"), float("nan")
    lo, hi = np.percentile(x, [50 * (1 - level), 50 * (1 + level)])
    return float(lo), float(hi)


def dispersion_items(sim_answers: pd.DataFrame, human_shares: pd.DataFrame, *, human_n, n_boot: int = 1000,
                     level: float = 0.95, seed=0) -> pd.DataFrame:
    """SD of the simulated answers / SD of the human answers, per item.

    Input: sim_answers long (agent, item, answer); human_shares (item, answer, share); human_n the
    human sample size (an int, or item -> n). SDs are sample SDs (ddof = 1) of the answer codes.
    The CI is a percentile bootstrap of the ratio: both sides redrawn as multinomial counts (the
    simulated answers' own shares at the run's n, the human shares at human_n; the same as resampling
    agents and respondents with replacement).
    Output: item, n, sim_sd, human_sd, ratio, low, high.
    """
    n_boot = check_count("n_boot", n_boot, 1)
    level = check_level(level)
    sim = answer_shares(sim_answers)
    items = sim["item"].unique().tolist()
    extra = {i: g["answer"].to_numpy(float) for i, g in sim.groupby("item")}
    gen = rng_from(seed)
    rows = []
    for s in item_scales(human_shares, items, extra=extra):
        g = sim[sim["item"] == s.item]
        counts = pd.Series(g["count"].to_numpy(float), index=g["answer"].to_numpy(float)).reindex(
            s.codes, fill_value=0.0).to_numpy()
        if isinstance(human_n, (dict, pd.Series)) and s.item not in human_n:
            raise PopsimError(f"human_n has no sample size for item {s.item!r}; give one for every item")
        nh = check_count(f"human_n of {s.item}", int(human_n[s.item]) if isinstance(human_n, (dict, pd.Series))
                         else human_n, 2)
        ph = s.human / s.human.sum()
        sim_sd = float(_sd_of_counts(counts, s.codes)[0])
        hum_sd = float(_sd_of_counts(ph * nh, s.codes)[0])
        bs = _sd_of_counts(gen.multinomial(int(counts.sum()), counts / counts.sum(), size=n_boot), s.codes)
        bh = _sd_of_counts(gen.multinomial(nh, ph, size=n_boot), s.codes)
        with np.errstate(divide="ignore", invalid="ignore"):
            lo, hi = _percentiles(bs / bh, level)
        rows.append(dict(item=s.item, n=int(counts.sum()), sim_sd=sim_sd, human_sd=hum_sd,
                         ratio=sim_sd / hum_sd if hum_sd > 0 else float("nan"), low=lo, high=hi))
    return pd.DataFrame(rows, columns=["item", *RATIO_COLUMNS])


def _human_sd(human_sd, values: list[str]) -> pd.Series:
    if isinstance(human_sd, pd.DataFrame):
        if not {"value", "centered_sd"} <= set(human_sd.columns):
            raise PopsimError("human_sd must be a Series value -> SD or a value_stats table (value, centered_sd)")
        human_sd = human_sd.set_index("value")["centered_sd"]
    s = pd.Series(human_sd, dtype=float)
    lacking = [v for v in values if v not in s.index]
    if lacking:
        raise PopsimError(f"human_sd has no SD for {', '.join(lacking)}; give one for every value")
    return s.reindex(values)


def dispersion_values(centered: pd.DataFrame, human_sd, *, human_n: int, n_boot: int = 1000, level: float = 0.95,
                      seed=0) -> pd.DataFrame:
    """SD of the simulated centered value scores / the human SD, per value.

    Input: centered (rows = agents, columns = value codes); human_sd a Series value -> SD or a
    `datasets.value_stats(sample)` table (its centered_sd); human_n the human sample size.
    CI: percentile bootstrap over agents for the simulated SD, times the human SD's sampling error
    drawn from its normal-theory distribution (log SD ~ N(log s, 1 / (2 (n - 1)))), as the human
    side has aggregates only.
    Output: value, n, sim_sd, human_sd, ratio, low, high.
    """
    n_boot = check_count("n_boot", n_boot, 1)
    level = check_level(level)
    human_n = check_count("human_n", human_n, 3)
    x = value_table(centered, min_rows=3, require_all=False)
    hs = _human_sd(human_sd, list(x.columns))
    gen = rng_from(seed)
    rows = []
    for v in x.columns:
        a = x[v].dropna().to_numpy(float)
        sd = float(a.std(ddof=1)) if a.size > 1 else float("nan")
        idx = gen.integers(0, a.size, (n_boot, a.size))
        step = max(1, 1_000_000 // a.size)  # resamples at once: a[idx].std(axis=1) row by row, in memory a cache holds
        boot = np.concatenate([a[idx[r:r + step]].std(axis=1, ddof=1) for r in range(0, n_boot, step)])
        hboot = hs[v] * np.exp(gen.normal(0, np.sqrt(1 / (2 * (human_n - 1))), n_boot))
        lo, hi = _percentiles(boot / hboot, level)
        rows.append(dict(value=v, n=int(a.size), sim_sd=sd, human_sd=float(hs[v]), ratio=sd / float(hs[v]),
                         low=lo, high=hi))
    return pd.DataFrame(rows, columns=["value", *RATIO_COLUMNS])


def profile_spread(centered: pd.DataFrame, human_sd, *, n_boot: int = 1000, level: float = 0.95, seed=0) -> dict:
    """Between-agent spread of value profiles: the root mean squared Euclidean distance of the agents'
    centered profiles from the mean profile, sqrt(sum_v var_v) (the RMS distance between two agents is
    sqrt(2) times it), against the same from the human SDs.

    Returns n, sim_spread, human_spread, ratio, low, high (percentile bootstrap over agents,
    `scipy.stats.bootstrap` through `bootstrap_ci`; the human spread's own sampling error, about
    1/sqrt(2 n) relative, is not included).
    """
    n_boot = check_count("n_boot", n_boot, 1)
    level = check_level(level)
    x = value_table(centered, min_rows=3).dropna()
    if len(x) < 3:
        raise PopsimError(f"centered has {len(x)} agents with all 10 values; the spread needs at least 3")
    hs = _human_sd(human_sd, list(x.columns))
    a = x.to_numpy(float)
    human = float(np.sqrt((hs.to_numpy() ** 2).sum()))
    sim, lo, hi = bootstrap_ci(a, lambda d: np.sqrt(d.var(axis=-2, ddof=1).sum(axis=-1)), n_boot=n_boot, level=level,
                               vectorized=True, rng=rng_from(seed),
                               moments=lambda mean, cov: np.sqrt(np.einsum("...ii->...i", cov).sum(axis=-1)))
    lo, hi = lo / human, hi / human
    return {"n": int(len(a)), "sim_spread": sim, "human_spread": human, "ratio": sim / human, "low": lo, "high": hi}


def dispersion_summary(table: pd.DataFrame) -> dict:
    """Geometric mean of the ratios of a dispersion table (the `dispersion_ratio` of the card), the
    share of rows whose CI lies wholly below 1 (under-dispersed) and wholly above 1."""
    r = table["ratio"].to_numpy(float)
    ok = np.isfinite(r) & (r > 0)
    return {"n": int(ok.sum()), "dispersion_ratio": float(np.exp(np.log(r[ok]).mean())) if ok.any() else float("nan"),
            "share_under": float((table["high"] < 1).mean()), "share_over": float((table["low"] > 1).mean())}
