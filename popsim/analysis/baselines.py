"""Where a distribution score stands: the sampling floor of a perfect simulator of the run's size, the
human split-half ceiling, naive baselines, and the run placed between them.

- floor: the expected score of a perfect simulator with the run's number of agents: multinomial
  draws of that size from the human shares, scored like the run;
- ceiling: the human split-half ceiling (two random halves of the respondents scored against each
  other) where respondent-level data exist, else its multinomial stand-in (two draws of half the
  human n);
- baselines: uniform answers, everyone giving the human modal answer, human marginal shares drawn
  independently per item (for marginal scores this equals the floor in expectation: it matters for
  structure and dispersion), the run's reference twins;
- normalised: (run - best naive baseline) / (floor - best naive baseline), the best naive baseline
  being the better of uniform and modal; 0 = no better than naive, 1 = as good as a perfect simulator
  of this size. `normalised_ceiling` uses the ceiling instead of the floor.

Formulas and citations are in `docs/analysis.md`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import PopsimError
from ._tables import check_count, rng_from, wide_answers
from .scores import (METRICS, ItemScale, distribution_scores, item_scales, scores_matrix, simbench_from_tv,
                     simbench_norms)

ITEM_COLUMNS = ("item", "dataset", "n", "tv", "simbench", "w1_score", "jensen_shannon")
SCALE_COLUMNS = ("metric", "higher_is_better", "run", "floor", "ceiling", "ceiling_method", "uniform", "modal",
                 "independent", "twins", "best_naive", "best_naive_value", "normalised", "normalised_ceiling")
NAIVE = ("uniform", "modal")


def _sizes(n, items: list[str], name: str) -> dict[str, int]:
    """An int for every item, or a mapping item -> int (dict or Series)."""
    if isinstance(n, (dict, pd.Series)):
        lacking = [i for i in items if i not in n]
        if lacking:
            raise PopsimError(f"{name} has no size for items {', '.join(lacking)}; give a count for every item")
        return {i: check_count(f"{name}[{i}]", int(n[i]), 1) for i in items}
    return {i: check_count(name, n, 1) for i in items}


def _expected(scale: ItemScale, p: np.ndarray, q: np.ndarray, norms: dict, n) -> dict:
    sc = scores_matrix(p, q)
    tv = float(sc["tv"].mean())
    return dict(item=scale.item, dataset=scale.dataset, n=n, tv=tv, simbench=simbench_from_tv(tv, scale.dataset, norms),
                w1_score=float(sc["w1_score"].mean()), jensen_shannon=float(sc["jensen_shannon"].mean()))


def sampling_floor(human_shares: pd.DataFrame, n, *, items=None, datasets=None, n_draws: int = 200,
                   seed=0) -> pd.DataFrame:
    """The expected score of a perfect simulator with `n` agents (an int, or item -> int).

    Each of `n_draws` replicates draws Multinomial(n, human shares) per item and scores the drawn
    shares against the human shares. Output: one row per item, columns item, dataset, n, tv, simbench,
    w1_score, jensen_shannon (means over the replicates; the SimBench norm N_d is the human one).
    """
    n_draws = check_count("n_draws", n_draws, 1)
    scales = item_scales(human_shares, items, datasets=datasets)
    sizes = _sizes(n, [s.item for s in scales], "n")
    norms = simbench_norms(scales)
    gen = rng_from(seed)
    rows = [_expected(s, gen.multinomial(sizes[s.item], s.human / s.human.sum(), size=n_draws), s.human, norms,
                      sizes[s.item]) for s in scales]
    return pd.DataFrame(rows, columns=list(ITEM_COLUMNS))


def multinomial_ceiling(human_shares: pd.DataFrame, human_n, *, items=None, datasets=None, n_draws: int = 200,
                        seed=0) -> pd.DataFrame:
    """The stand-in for the split-half ceiling without respondent-level data: two independent
    Multinomial(human_n // 2, human shares) draws per item, scored against each other, averaged over
    `n_draws` replicates. Columns as `sampling_floor` (n = the half size)."""
    n_draws = check_count("n_draws", n_draws, 1)
    scales = item_scales(human_shares, items, datasets=datasets)
    sizes = _sizes(human_n, [s.item for s in scales], "human_n")
    norms = simbench_norms(scales)
    gen = rng_from(seed)
    rows = []
    for s in scales:
        half = max(1, sizes[s.item] // 2)
        p = s.human / s.human.sum()
        a, b = gen.multinomial(half, p, size=n_draws), gen.multinomial(half, p, size=n_draws)
        rows.append(_expected(s, a, b, norms, half))
    return pd.DataFrame(rows, columns=list(ITEM_COLUMNS))


def split_half_ceiling(respondents: pd.DataFrame, human_shares: pd.DataFrame | None = None, *, weights=None,
                       items=None, datasets=None, n_splits: int = 100, seed=0) -> pd.DataFrame:
    """The human split-half ceiling from respondent-level answers.

    Input:
      respondents: wide (rows = respondents, columns = items, numeric codes, NaN = missing) or long
        (columns respondent, item, answer)
      human_shares: the shares defining each item's options and the SimBench norm N_d (default: the
        respondents' own weighted shares)
      weights: optional survey weights, a Series indexed like the respondents (or an array)
    Each of `n_splits` random splits halves the respondents; each half's (weighted) shares are scored
    against the other half's. Output: columns as `sampling_floor` (n = the half size), means over splits.
    """
    n_splits = check_count("n_splits", n_splits, 1)
    if isinstance(respondents, pd.DataFrame) and {"respondent", "item", "answer"} <= set(respondents.columns):
        respondents = respondents.rename(columns={"respondent": "agent"})
    wide = wide_answers(respondents, name="respondents")
    if len(wide) < 4:
        raise PopsimError(f"respondents has {len(wide)} rows; a split-half ceiling needs at least 4 respondents")
    w = np.ones(len(wide)) if weights is None else np.asarray(
        weights.reindex(wide.index) if isinstance(weights, pd.Series) else weights, dtype=float)
    if w.shape != (len(wide),) or not np.isfinite(w).all() or (w < 0).any():
        raise PopsimError("weights must give one non-negative number per respondent; fix the weight column")
    if human_shares is None:
        long = wide.stack().dropna().rename("answer").reset_index()
        long.columns = ["agent", "item", "answer"]
        long["w"] = long["agent"].map(dict(zip(wide.index, w)))
        human_shares = long.groupby(["item", "answer"])["w"].sum().rename("share").reset_index()
    items = [str(c) for c in wide.columns] if items is None else [str(i) for i in items]
    wide.columns = [str(c) for c in wide.columns]
    lacking = [i for i in items if i not in wide.columns]
    if lacking:
        raise PopsimError(f"respondents have no answers to items {', '.join(lacking)}; drop those items")
    extra = {i: np.unique(wide[i].dropna().to_numpy(float)) for i in items}
    scales = item_scales(human_shares, items, datasets=datasets, extra=extra)
    norms = simbench_norms(scales)
    gen = rng_from(seed)
    n = len(wide)
    half = np.zeros((n_splits, n))
    for r in range(n_splits):
        half[r, gen.permutation(n)[: n // 2]] = 1.0
    rows = []
    for s in scales:
        x = wide[s.item].to_numpy(float)
        onehot = (x[:, None] == s.codes[None, :]) * w[:, None]
        a, b = half @ onehot, (1 - half) @ onehot
        ok = (a.sum(axis=1) > 0) & (b.sum(axis=1) > 0)
        if not ok.any():
            raise PopsimError(f"item {s.item!r} has too few answers to split in halves; drop it")
        rows.append(_expected(s, a[ok], b[ok], norms, n // 2))
    return pd.DataFrame(rows, columns=list(ITEM_COLUMNS))


def naive_baselines(human_shares: pd.DataFrame, *, items=None, datasets=None) -> pd.DataFrame:
    """The scores of uniform answers and of everyone giving the human modal answer (exact shares, no
    sampling; the lowest code wins a tie for the mode). Columns: baseline, then those of `sampling_floor`
    (n = NaN)."""
    scales = item_scales(human_shares, items, datasets=datasets)
    norms = simbench_norms(scales)
    rows = []
    for s in scales:
        modal = np.zeros(s.k)
        modal[int(np.argmax(s.human))] = 1.0
        for name, p in (("uniform", np.full(s.k, 1.0 / s.k)), ("modal", modal)):
            rows.append({"baseline": name, **_expected(s, p, s.human, norms, np.nan)})
    return pd.DataFrame(rows, columns=["baseline", *ITEM_COLUMNS])


def independent_answers(human_shares: pd.DataFrame, n_agents: int, *, items=None, seed=0) -> pd.DataFrame:
    """A population answering each item independently from the human marginal shares.

    Output: long answers, columns agent (0..n_agents-1), item, answer. The marginals are the human ones
    up to sampling; every correlation between items is zero in expectation.
    """
    n_agents = check_count("n_agents", n_agents, 1)
    gen = rng_from(seed)
    frames = []
    for s in item_scales(human_shares, items):
        draws = gen.choice(s.codes, size=n_agents, p=s.human / s.human.sum())
        frames.append(pd.DataFrame({"agent": np.arange(n_agents), "item": s.item, "answer": draws}))
    return pd.concat(frames, ignore_index=True)


def _mean_scores(per_item: pd.DataFrame) -> dict[str, float]:
    return {m: float(per_item[m].mean()) for m in METRICS}


def fidelity_scale(sim_answers: pd.DataFrame, human_shares: pd.DataFrame, *, human_n, datasets=None,
                   twins: pd.DataFrame | None = None, respondents: pd.DataFrame | None = None, weights=None,
                   n_draws: int = 200, seed=0) -> pd.DataFrame:
    """The run's averaged distribution scores next to the floor, the ceiling and the baselines.

    Input:
      sim_answers: long answers of the run (agent, item, answer); the run's items are scored
      human_shares: item, answer, share (every option listed); human_n: the human sample size (an int,
        or item -> n) for the multinomial stand-in of the ceiling
      twins: long answers of the run's reference twins (optional); respondents (+ weights): human
        respondent-level answers (optional) for the split-half ceiling
    Output: one row per metric (tv, simbench, w1_score, jensen_shannon), columns metric, higher_is_better,
      run, floor, ceiling, ceiling_method ('split-half' or 'multinomial n/2'), uniform, modal,
      independent, twins (NaN without twins), best_naive (name), best_naive_value, normalised
      ((run - best naive) / (floor - best naive)), normalised_ceiling (the same with the ceiling).
    """
    run_items = distribution_scores(sim_answers, human_shares, datasets=datasets)
    items = list(run_items["item"])
    n_run = {r.item: int(r.n) for r in run_items.itertuples()}
    gen = rng_from(seed)
    floor = sampling_floor(human_shares, n_run, items=items, datasets=datasets, n_draws=n_draws, seed=gen)
    if respondents is not None:
        ceiling = split_half_ceiling(respondents, human_shares, weights=weights, items=items, datasets=datasets,
                                     n_splits=max(20, n_draws // 2), seed=gen)
        method = "split-half"
    else:
        ceiling = multinomial_ceiling(human_shares, human_n, items=items, datasets=datasets, n_draws=n_draws,
                                      seed=gen)
        method = "multinomial n/2"
    naive = naive_baselines(human_shares, items=items, datasets=datasets)
    indep = independent_answers(human_shares, max(n_run.values()), items=items, seed=gen)
    indep = indep[indep["agent"] < indep["item"].map(n_run)]  # each item with the run's number of answers
    refs = {"run": _mean_scores(run_items), "floor": _mean_scores(floor), "ceiling": _mean_scores(ceiling),
            **{b: _mean_scores(naive[naive["baseline"] == b]) for b in NAIVE},
            "independent": _mean_scores(distribution_scores(indep, human_shares, datasets=datasets))}
    refs["twins"] = (_mean_scores(distribution_scores(twins[twins["item"].isin(items)], human_shares,
                                                      datasets=datasets))
                     if twins is not None else {m: float("nan") for m in METRICS})
    rows = []
    for m, higher in METRICS.items():
        sign = 1 if higher else -1
        best = max(NAIVE, key=lambda b: sign * refs[b][m])
        b = refs[best][m]
        row = {"metric": m, "higher_is_better": higher, **{k: v[m] for k, v in refs.items()},
               "ceiling_method": method, "best_naive": best, "best_naive_value": b}
        row["normalised"] = _between(refs["run"][m], b, refs["floor"][m])
        row["normalised_ceiling"] = _between(refs["run"][m], b, refs["ceiling"][m])
        rows.append(row)
    return pd.DataFrame(rows, columns=list(SCALE_COLUMNS))


def _between(x: float, zero: float, one: float) -> float:
    return float((x - zero) / (one - zero)) if np.isfinite(one - zero) and abs(one - zero) > 1e-12 else float("nan")

