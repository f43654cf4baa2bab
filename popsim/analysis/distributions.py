"""Answer distributions: simulated answers against human answer shares, item by item.

Mean with a bootstrap CI, Wasserstein (earth mover's) distance and Jensen-Shannon distance
(Lin 1991). Formulas and citations are in `docs/analysis.md`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon
from scipy.stats import wasserstein_distance

from .. import datasets
from ..errors import PopsimError
from ._tables import check_count, check_level, rng_from
from .intervals import bootstrap_ci

COLUMNS = ("item", "n", "sim_mean", "sim_low", "sim_high", "human_mean", "wasserstein", "jensen_shannon")


def value_item_shares(sample: str = "DE_ESS9") -> pd.DataFrame:
    """Human answer shares of the ESS-21 value items (1 = not like me at all ... 6 = very much like me).

    Columns: item, answer (1..6), share; from `datasets.item_answer_shares(sample)`.
    """
    df = datasets.item_answer_shares(sample)
    return df[["item", "answer", "share"]].reset_index(drop=True)


def attitude_item_shares(sample: str = "DE_ESS9") -> pd.DataFrame:
    """Human answer shares (weighted) of a sample's outcomes: for DE_ESS9 the ESS round 9 attitude/behaviour
    items, in ESS native codes (see `datasets.behavior_items()` for each item's direction); for an imported
    sample its outcomes.

    Columns: item, answer (code), share; from `datasets.behavior_distributions(sample)`.
    """
    df = datasets.behavior_distributions(sample)
    if df.empty:
        raise PopsimError(f"sample {sample} has no outcome answer shares (shipped: DE_ESS9 only); compare with "
                          "DE_ESS9 or import a sample with its outcome columns")
    df = df.rename(columns={"code": "answer"})
    return df[["item", "answer", "share"]].reset_index(drop=True)


def _long_answers(sim_answers: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(sim_answers, pd.DataFrame) or not {"agent", "item", "answer"} <= set(sim_answers.columns):
        raise PopsimError("sim_answers must be a long DataFrame with columns agent, item, answer "
                          "(one row per agent and item)")
    df = sim_answers[["agent", "item", "answer"]].copy()
    num = pd.to_numeric(df["answer"], errors="coerce")
    if (num.isna() & df["answer"].notna()).any():
        raise PopsimError("sim_answers has non-numeric answers; map answer labels to their codes")
    df["answer"] = num.astype(float)
    return df


def _shares(human_shares: pd.DataFrame) -> dict[str, pd.Series]:
    if not isinstance(human_shares, pd.DataFrame) or not {"item", "answer", "share"} <= set(human_shares.columns):
        raise PopsimError("human_shares must be a DataFrame with columns item, answer, share "
                          "(see value_item_shares / attitude_item_shares)")
    df = human_shares[["item", "answer", "share"]].copy()
    df["answer"] = pd.to_numeric(df["answer"], errors="coerce")
    if df["answer"].isna().any():
        raise PopsimError("human_shares has missing or non-numeric answer codes; give numeric codes")
    df["answer"] = df["answer"].astype(float)
    df["share"] = pd.to_numeric(df["share"], errors="coerce")
    if df["share"].isna().any():
        raise PopsimError("human_shares has missing or non-numeric shares; give a number for every answer")
    # one sort for all items (items in order of first appearance, answers ascending within an item, equal
    # codes summed), not a pandas groupby per item: the card calls this hundreds of times in a study
    codes, items = pd.factorize(df["item"], sort=False)
    answer, share = df["answer"].to_numpy(float), df["share"].to_numpy(float)
    order = np.lexsort((answer, codes))
    codes, answer, share = codes[order], answer[order], share[order]
    starts = np.flatnonzero(np.r_[len(codes) > 0, (codes[1:] != codes[:-1]) | (answer[1:] != answer[:-1])])
    sums, group, answer = np.add.reduceat(share, starts) if len(starts) else share, codes[starts], answer[starts]
    bounds = np.searchsorted(group, np.arange(len(items) + 1))
    out = {}
    for k, item in enumerate(items):
        s = pd.Series(sums[bounds[k]:bounds[k + 1]], index=pd.Index(answer[bounds[k]:bounds[k + 1]], name="answer"),
                      name="share")
        if (s < 0).any() or s.sum() <= 0:
            raise PopsimError(f"human shares of item {item!r} must be non-negative numbers with a positive sum")
        out[str(item)] = s / s.sum()
    return out


def compare_distributions(sim_answers: pd.DataFrame, human_shares: pd.DataFrame, *, n_boot: int = 1000,
                          level: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Compare each item's simulated answer distribution with the human one.

    Input:
      sim_answers: long, columns agent, item, answer (numeric answer codes; NaN = no answer)
      human_shares: long, columns item, answer, share (shares per item are renormalized to 1)
    Output: one row per simulated item (input order), columns
      item, n (agents with an answer), sim_mean, sim_low, sim_high (percentile bootstrap CI of the
      mean over agents, `scipy.stats.bootstrap`, `n_boot` resamples, `level`: the mean is unbiased,
      the bootstrap distribution of a mean of 1-6 or 0-10 codes is near-symmetric, and a percentile
      interval stays inside the answer codes; BCa would add a jackknife of n means per item),
      human_mean (sum of answer x share),
      wasserstein (`scipy.stats.wasserstein_distance` between the two distributions on the answer
      codes, in answer-scale units), jensen_shannon (`scipy.spatial.distance.jensenshannon`,
      base 2: the square root of the JS divergence, 0 = identical ... 1 = disjoint, on the union
      of the answer codes of both sides).
    """
    n_boot = check_count("n_boot", n_boot, 1)
    level = check_level(level)
    sim = _long_answers(sim_answers)
    human = _shares(human_shares)
    items = [str(i) for i in sim["item"].unique().tolist()]
    missing = [i for i in items if i not in human]
    if missing:
        raise PopsimError(f"no human shares for items {', '.join(missing)}; pass shares for every simulated "
                          "item or drop those answers")
    gen = rng_from(seed)
    rows = []
    answers_of = {str(k): g.to_numpy() for k, g in sim["answer"].groupby(sim["item"].astype(str), sort=False)}
    for item in items:
        x = answers_of[item]
        x = x[~np.isnan(x)]
        if x.size == 0:
            raise PopsimError(f"item {item!r} has no simulated answers (all NaN); drop it or rerun it")
        hs = human[item]
        codes, counts = np.unique(x, return_counts=True)
        low, high = (x[0], x[0]) if x.size == 1 else bootstrap_ci(
            x, lambda d: d.mean(axis=-1), n_boot=n_boot, level=level, method="percentile", vectorized=True,
            rng=gen)[1:]
        support = np.union1d(hs.index.to_numpy(dtype=float), codes)
        p_sim = np.zeros(support.size)
        p_sim[np.searchsorted(support, codes)] = counts / x.size
        p_hum = hs.reindex(support, fill_value=0.0).to_numpy()
        rows.append(dict(item=item, n=int(x.size), sim_mean=float(x.mean()), sim_low=float(low),
                         sim_high=float(high), human_mean=float((hs.index.to_numpy(dtype=float) * hs).sum()),
                         wasserstein=float(wasserstein_distance(support, support, p_sim, p_hum)),
                         jensen_shannon=float(jensenshannon(p_sim, p_hum, base=2))))
    return pd.DataFrame(rows, columns=list(COLUMNS))
