"""Value-behaviour relations: correlations between centered values and attitude/behaviour answers,
and their comparison with the human (ESS round 9, Germany) correlations.

Formulas and citations are in `docs/analysis.md`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import datasets
from ..errors import PopsimError
from ..values import CODES10
from ._tables import value_table, wide_answers
from .stats import fdr_bh, fisher_z_test

CELL_COLUMNS = ("item", "value", "n", "r")


def _pearson(x: np.ndarray, y: np.ndarray) -> tuple[int, float]:
    ok = np.isfinite(x) & np.isfinite(y)
    n = int(ok.sum())
    if n < 3:
        return n, float("nan")
    x, y = x[ok], y[ok]
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return n, float("nan")
    return n, float(np.corrcoef(x, y)[0, 1])


def value_behaviour_correlations(centered: pd.DataFrame, behaviour: pd.DataFrame) -> pd.DataFrame:
    """Pearson r between each value and each behaviour/attitude item, pairwise complete.

    Input:
      centered: wide, rows = agents (index = agent id), columns = the 10 value codes
      behaviour: the same agents' answers, wide (rows = agents, columns = items, ESS native
        codes) or long (columns agent, item, answer); matched to `centered` by agent id
    Output: long table, columns item, value, n (agents with both answers), r (NaN when n < 3 or
      either side has no variance); items in input order, values in circular order.
    """
    x = value_table(centered)
    b = wide_answers(behaviour, name="behaviour")
    common = x.index.intersection(b.index)
    if len(common) < 3:
        raise PopsimError(f"centered and behaviour share {len(common)} agent ids; they need at least 3 "
                          "agents in common (index both by agent id)")
    x, b = x.loc[common], b.loc[common]
    empty = [c for c in b.columns if b[c].isna().all()]
    if empty:
        raise PopsimError(f"behaviour has no answers for {', '.join(map(str, empty))}; drop those items")
    rows = []
    for item in b.columns:
        y = b[item].to_numpy()
        for v in x.columns:
            n, r = _pearson(x[v].to_numpy(), y)
            rows.append(dict(item=str(item), value=v, n=n, r=r))
    return pd.DataFrame(rows, columns=list(CELL_COLUMNS))


def _cells(df: pd.DataFrame, name: str) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame) or not set(CELL_COLUMNS) <= set(df.columns):
        raise PopsimError(f"{name} must be a DataFrame with columns item, value, n, r "
                          "(the output of value_behaviour_correlations)")
    bad = sorted(set(df["value"]) - set(CODES10))
    if bad:
        raise PopsimError(f"{name} has unknown value codes {bad}; use {' '.join(CODES10)}")
    if df.duplicated(["item", "value"]).any():
        raise PopsimError(f"{name} has more than one row for an (item, value) cell; keep one")
    return df[list(CELL_COLUMNS)].astype({"item": str, "value": str})


def compare_value_behaviour(sim: pd.DataFrame, human: pd.DataFrame | None = None, *,
                            alpha: float = 0.05) -> tuple[pd.DataFrame, dict]:
    """Compare simulated value-behaviour correlations with human ones, cell by cell.

    Input: `sim` and `human` with columns item, value, n, r; `human` defaults to the DE_ESS9
    weighted correlations of the reference pack (`datasets.value_behavior_correlations()`).
    Only (item, value) cells present in both are compared.

    Returns (cells, summary):
      cells: item, value, sim_n, sim_r, human_n, human_r, diff (= sim_r - human_r), z, p (Fisher
        z test for independent correlations), q (Benjamini-Hochberg over all compared cells),
        sign_agree (sim_r and human_r have the same sign)
      summary: n_cells (cells with both r finite), pearson_r (between sim_r and human_r over those
        cells), sign_agreement (share of cells with the same sign), n_significant (cells with
        q < alpha), alpha, mean_abs_diff
    """
    s = _cells(sim, "sim")
    h = _cells(datasets.value_behavior_correlations() if human is None else human, "human")
    cells = s.merge(h, on=["item", "value"], suffixes=("_sim", "_human"))
    if cells.empty:
        raise PopsimError(f"sim and human share no (item, value) cells; sim items: "
                          f"{sorted(s['item'].unique())}, human items: {sorted(h['item'].unique())}")
    cells = cells.rename(columns={"n_sim": "sim_n", "r_sim": "sim_r", "n_human": "human_n", "r_human": "human_r"})
    ok = cells[["sim_r", "human_r"]].notna().all(axis=1) & (cells["sim_n"] > 3) & (cells["human_n"] > 3)
    z = np.full(len(cells), np.nan)
    p = np.full(len(cells), np.nan)
    if ok.any():
        z[ok.to_numpy()], p[ok.to_numpy()] = fisher_z_test(cells.loc[ok, "sim_r"].to_numpy(),
                                                           cells.loc[ok, "sim_n"].to_numpy(),
                                                           cells.loc[ok, "human_r"].to_numpy(),
                                                           cells.loc[ok, "human_n"].to_numpy())
    cells["diff"] = cells["sim_r"] - cells["human_r"]
    cells["z"], cells["p"] = z, p
    cells["q"] = fdr_bh(p)
    cells["sign_agree"] = np.sign(cells["sim_r"]) == np.sign(cells["human_r"])
    both = cells[cells[["sim_r", "human_r"]].notna().all(axis=1)]
    if len(both) >= 3 and both["sim_r"].std() > 0 and both["human_r"].std() > 0:
        r = float(np.corrcoef(both["sim_r"], both["human_r"])[0, 1])
    else:
        r = float("nan")
    summary = dict(n_cells=len(both), pearson_r=r,
                   sign_agreement=float(both["sign_agree"].mean()) if len(both) else float("nan"),
                   n_significant=int((cells["q"] < alpha).sum()), alpha=alpha,
                   mean_abs_diff=float(both["diff"].abs().mean()) if len(both) else float("nan"))
    cols = ["item", "value", "sim_n", "sim_r", "human_n", "human_r", "diff", "z", "p", "q", "sign_agree"]
    return cells[cols], summary
