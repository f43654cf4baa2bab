"""Distribution scores on the field's scales: total variation, the SimBench score, OpinionQA's
Wasserstein score and the Jensen-Shannon distance, per item and averaged.

- total variation TV(p, q) = 1/2 sum_i |p_i - q_i|;
- SimBench (Hu et al. 2025), exactly as its `calculate_simbench_score.py` computes it: per question
  100 (1 - TV / N_d), where N_d is the mean over the questions of the same dataset d of
  TV(uniform, human), then the mean over all questions;
- OpinionQA (Santurkar et al. 2023): 1 - W1 / (K - 1), W1 the Wasserstein-1 distance on the option
  positions 1..K of the ordered scale;
- Jensen-Shannon distance, base 2, as `compare_distributions` computes it (scipy's `jensenshannon`).

Formulas, citations and the sources of the human shares are in `docs/analysis.md`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import PopsimError
from .distributions import _long_answers, _shares

#: the scores, and whether a higher value is better
METRICS: dict[str, bool] = {"tv": False, "simbench": True, "w1_score": True, "jensen_shannon": False}
SCORE_COLUMNS = ("item", "dataset", "k", "n", "tv", "tv_uniform", "simbench", "w1", "w1_score", "jensen_shannon")


@dataclass(frozen=True)
class ItemScale:
    """One item's ordered options (codes), the human shares over them and the item's dataset."""

    item: str
    dataset: str
    codes: np.ndarray
    human: np.ndarray

    @property
    def k(self) -> int:
        return int(self.codes.size)

    def shares(self, table: dict[float, float] | pd.Series) -> np.ndarray:
        s = pd.Series(table, dtype=float)
        return s.reindex(self.codes, fill_value=0.0).to_numpy(float)


def answer_shares(answers: pd.DataFrame) -> pd.DataFrame:
    """Share of each answer per item, from a long answers table.

    Input: columns agent, item, answer (numeric codes; NaN = no answer, left out).
    Output: columns item, answer, count, share (share = count / answers to the item), items in
    input order, answers ascending.
    """
    df = _long_answers(answers).dropna(subset=["answer"])
    if df.empty:
        raise PopsimError("answers holds no answer (all NaN); rerun the items or drop them")
    df["item"] = df["item"].astype(str)
    order = {k: i for i, k in enumerate(df["item"].unique().tolist())}
    out = df.groupby(["item", "answer"]).size().rename("count").reset_index()
    out["share"] = out["count"] / out.groupby("item")["count"].transform("sum")
    out["_o"] = out["item"].map(order)
    return out.sort_values(["_o", "answer"]).drop(columns="_o").reset_index(drop=True)


def _sim_shares(sim) -> dict[str, pd.Series]:
    """Item -> shares Series from a shares table (item, answer, share) or a long answers table."""
    if isinstance(sim, pd.DataFrame) and {"agent", "item", "answer"} <= set(sim.columns):
        sim = answer_shares(sim)
    if not isinstance(sim, pd.DataFrame) or not {"item", "answer", "share"} <= set(sim.columns):
        raise PopsimError("sim must be a shares table (item, answer, share) or a long answers table "
                          "(agent, item, answer)")
    return _shares(sim)


def item_scales(human_shares: pd.DataFrame, items=None, *, datasets=None, extra: dict | None = None
                ) -> list[ItemScale]:
    """The ordered option sets of `items` (default: all human items) with the human shares.

    The options of an item are the codes the human table lists (zero shares included) plus any
    code in `extra[item]` (e.g. a code only the simulation gave), in ascending order.
    `datasets`: a dict item -> dataset name, or a single name for all items (default "items").
    """
    human = _shares(human_shares)
    items = list(human) if items is None else [str(i) for i in items]
    missing = [i for i in items if i not in human]
    if missing:
        raise PopsimError(f"no human shares for items {', '.join(missing)}; pass shares for every simulated "
                          "item or drop those answers")
    out = []
    for item in items:
        codes = human[item].index.to_numpy(float)
        if extra and item in extra:
            codes = np.union1d(codes, np.asarray(extra[item], dtype=float))
        name = datasets.get(item, "items") if isinstance(datasets, dict) else (datasets or "items")
        out.append(ItemScale(item, str(name), codes, human[item].reindex(codes, fill_value=0.0).to_numpy(float)))
    return out


def scores_matrix(p: np.ndarray, q: np.ndarray) -> dict[str, np.ndarray]:
    """TV, W1 on positions 0..K-1, the OpinionQA score and the JS distance (base 2) of each row of `p`
    (shape (R, K), each row a distribution) against `q`: one distribution (K,) or one per row (R, K)."""
    p = np.atleast_2d(np.asarray(p, dtype=float))
    p = p / p.sum(axis=1, keepdims=True)
    q = np.asarray(q, dtype=float)
    q = q / q.sum(axis=-1, keepdims=True)
    k = q.shape[-1]
    tv = 0.5 * np.abs(p - q).sum(axis=1)
    w1 = np.abs(np.cumsum(p - q, axis=1)[:, :-1]).sum(axis=1)
    m = 0.5 * (p + q)
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_p = np.where(p > 0, p * np.log2(p / m), 0.0).sum(axis=1)
        kl_q = np.where(q > 0, q * np.log2(q / m), 0.0).sum(axis=-1)
    js = np.sqrt(np.clip(0.5 * (kl_p + kl_q), 0.0, None))
    w1_score = 1 - w1 / (k - 1) if k > 1 else np.ones_like(w1)
    return {"tv": tv, "w1": w1, "w1_score": w1_score, "jensen_shannon": js}


def simbench_norms(scales: list[ItemScale]) -> dict[str, float]:
    """N_d per dataset: the mean over its items (with more than one option) of TV(uniform, human)."""
    tvu = pd.DataFrame({"dataset": [s.dataset for s in scales],
                        "tv_uniform": [_tv_uniform(s) for s in scales]})
    return tvu.groupby("dataset")["tv_uniform"].mean().to_dict()


def _tv_uniform(s: ItemScale) -> float:
    if s.k <= 1:
        return float("nan")
    return float(0.5 * np.abs(s.human / s.human.sum() - 1.0 / s.k).sum())


def simbench_from_tv(tv, dataset: str, norms: dict[str, float]):
    """100 (1 - TV / N_d); NaN when N_d is missing or not positive (as SimBench's script does)."""
    n = norms.get(dataset, float("nan"))
    if not np.isfinite(n) or n <= 0:
        return np.full(np.shape(tv), np.nan) if np.ndim(tv) else float("nan")
    return 100 * (1 - np.asarray(tv, dtype=float) / n) if np.ndim(tv) else 100 * (1 - float(tv) / n)


def distribution_scores(sim, human_shares: pd.DataFrame, *, datasets=None) -> pd.DataFrame:
    """Score each simulated item's answer distribution against the human one.

    Input:
      sim: a long answers table (agent, item, answer) or a shares table (item, answer, share)
      human_shares: long, columns item, answer, share; it must list every option of an item's scale
        (zero shares included): the options set K, the uniform distribution and the option order
      datasets: dict item -> dataset (SimBench normalises within a dataset), or one name for all
    Output: one row per simulated item, columns
      item, dataset, k (options), n (simulated answers; NaN for a shares table without counts),
      tv, tv_uniform (TV between uniform and human), simbench (100 (1 - tv / N_d)), w1 (on positions
      0..k-1), w1_score (1 - w1 / (k - 1)), jensen_shannon (distance, base 2).
    """
    sim_tab = sim
    if isinstance(sim, pd.DataFrame) and {"agent", "item", "answer"} <= set(sim.columns):
        sim_tab = answer_shares(sim)
    shares = _sim_shares(sim_tab)
    counts = (sim_tab.groupby(sim_tab["item"].astype(str))["count"].sum()
              if isinstance(sim_tab, pd.DataFrame) and "count" in sim_tab else pd.Series(dtype=float))
    extra = {i: s.index.to_numpy(float) for i, s in shares.items()}
    scales = item_scales(human_shares, list(shares), datasets=datasets, extra=extra)
    norms = simbench_norms(scales)
    rows = []
    for s in scales:
        sc = scores_matrix(s.shares(shares[s.item]), s.human)
        tv = float(sc["tv"][0])
        rows.append(dict(item=s.item, dataset=s.dataset, k=s.k, n=counts.get(s.item, np.nan), tv=tv,
                         tv_uniform=_tv_uniform(s), simbench=simbench_from_tv(tv, s.dataset, norms),
                         w1=float(sc["w1"][0]), w1_score=float(sc["w1_score"][0]),
                         jensen_shannon=float(sc["jensen_shannon"][0])))
    return pd.DataFrame(rows, columns=list(SCORE_COLUMNS))


def summarise_scores(per_item: pd.DataFrame) -> dict:
    """Averages over items of a `distribution_scores` table: n_items, tv, simbench (the SimBench
    score: mean of the per-item scores), w1_score, jensen_shannon; `simbench_by_dataset` too."""
    if not isinstance(per_item, pd.DataFrame) or not set(METRICS) <= set(per_item.columns):
        raise PopsimError("per_item must be the table distribution_scores returns")
    out = {"n_items": int(len(per_item))}
    out.update({m: float(per_item[m].mean()) for m in METRICS})
    out["simbench_by_dataset"] = {k: float(v) for k, v in per_item.groupby("dataset")["simbench"].mean().items()}
    return out
