"""Game outcomes: shares of the endowment per round and per agent, their trend over rounds, and how
each value of the agents' profiles relates to what they give.

Used by the run report and the page alike (one computation). Formulas: `docs/analysis.md`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as _st

from ..errors import PopsimError
from ..values import CODES10
from ._tables import value_table
from .intervals import bootstrap_ci
from .stats import fdr_bh

ROUND_COLUMNS = ("round", "mean_share", "sd_share", "n")
VALUE_COLUMNS = ("value", "r", "p", "q", "expected_sign", "sign_ok")


def game_shares(answers: pd.DataFrame, outcome: str, endowment: float = 1.0) -> pd.DataFrame:
    """The outcome item's answers as shares of the endowment.

    Input: long answers with columns agent, round (0-based), item, answer; `outcome`: the item id
    of the game's decision (e.g. "give"); `endowment`: the amount the answer is a part of (> 0).
    Output: columns agent, round (0-based, as in the input), share (= answer / endowment).
    """
    if not isinstance(answers, pd.DataFrame) or not {"agent", "round", "item", "answer"} <= set(answers.columns):
        raise PopsimError("answers must be a long DataFrame with columns agent, round, item, answer")
    endowment = float(endowment)
    if not endowment > 0:
        raise PopsimError(f"endowment must be a positive amount, got {endowment!r}")
    a = answers[answers["item"] == outcome]
    return pd.DataFrame({"agent": a["agent"].to_numpy(), "round": a["round"].to_numpy(),
                         "share": pd.to_numeric(a["answer"], errors="coerce").to_numpy(float) / endowment})


def per_round_shares(shares: pd.DataFrame) -> pd.DataFrame:
    """Mean share per round over the agents who answered.

    Input: columns round (0-based), share (`game_shares`). Output: columns round (1-based), mean_share,
    sd_share (SD over agents, ddof = 1; NaN with one agent), n (agents with a share), one row per round.
    """
    out = shares.groupby("round")["share"].agg(mean_share="mean", sd_share="std", n="count").reset_index()
    out["round"] = out["round"] + 1
    return out[list(ROUND_COLUMNS)]


def share_trend(per_round: pd.DataFrame) -> float:
    """Least-squares slope of mean_share on round (change per round; `numpy.polyfit`, degree 1).
    NaN with fewer than 2 rounds. Input: `per_round_shares`."""
    pr = per_round.dropna(subset=["mean_share"])
    if len(pr) < 2:
        return float("nan")
    return float(np.polyfit(pr["round"].to_numpy(float), pr["mean_share"].to_numpy(float), 1)[0])


def agent_shares(shares: pd.DataFrame) -> pd.Series:
    """Each agent's mean share over the rounds (index = agent id, name share; agents without a share
    are left out)."""
    return shares.groupby("agent")["share"].mean().dropna().rename("share")


def mean_share(shares: pd.DataFrame, *, n_boot: int = 500, level: float = 0.95,
               seed: int = 0) -> tuple[float, float, float]:
    """Mean over agents of each agent's mean share, with a BCa bootstrap CI over agents (the mean is
    unbiased, and BCa corrects the skew of shares piled up near 0 or 1; it stays inside the data's
    range). Returns (mean, low, high); NaN for fewer than 2 agents."""
    x = agent_shares(shares).to_numpy()
    if x.size < 2:
        m = float(x.mean()) if x.size else float("nan")
        return m, float("nan"), float("nan")
    return bootstrap_ci(x, lambda d: d.mean(axis=-1), n_boot=n_boot, level=level, method="BCa", vectorized=True, rng=seed)


def value_share_correlations(profiles: pd.DataFrame, share: pd.Series, expected_signs: dict | None = None
                             ) -> pd.DataFrame:
    """Pearson r of each value of the agents' profiles with their mean share.

    Input: `profiles`, the agents' value profiles (column agent or index = agent id, and the 10 value
    columns, e.g. agents.parquet); `share`, each agent's mean share (`agent_shares`);
    `expected_signs`: value code -> +1 / -1 (the published direction) or 0 (no claim).
    Output: one row per value (circular order), columns value, r, p (two-sided, `scipy.stats.pearsonr`;
    NaN with fewer than 3 agents or no variance), q (Benjamini-Hochberg over the values with a p),
    expected_sign, sign_ok (r has the expected sign; None where no sign is expected or r is NaN).
    """
    prof = profiles.set_index("agent") if "agent" in profiles.columns else profiles
    prof = value_table(prof[[c for c in prof.columns if c in CODES10]], name="profiles", min_rows=1)
    prof = prof.reindex(share.index)
    expected_signs = expected_signs or {}
    y = share.to_numpy(float)
    rows = []
    for c in CODES10:
        x = prof[c].to_numpy(float)
        ok = np.isfinite(x) & np.isfinite(y)
        if ok.sum() >= 3 and np.std(x[ok]) > 0 and np.std(y[ok]) > 0:
            r, p = (float(v) for v in _st.pearsonr(x[ok], y[ok]))
        else:
            r, p = float("nan"), float("nan")
        exp = int(expected_signs.get(c, 0))
        rows.append({"value": c, "r": r, "p": p, "expected_sign": exp,
                     "sign_ok": (bool(np.sign(r) == exp) if exp and np.isfinite(r) else None)})
    t = pd.DataFrame(rows)
    t["q"] = fdr_bh(t["p"].to_numpy())
    return t[list(VALUE_COLUMNS)]


def signs_as_expected(correlations: pd.DataFrame) -> tuple[int, int]:
    """(values whose r has the published sign, values with a published sign) of `value_share_correlations`."""
    marked = correlations[correlations["expected_sign"] != 0]
    return int(marked["sign_ok"].fillna(False).astype(bool).sum()), int(len(marked))
