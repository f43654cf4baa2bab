"""The population's mean value profile against a human one.

Formulas are in `docs/analysis.md`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import PopsimError
from ..values import CODES10
from ._tables import value_table

MEANS_COLUMNS = ("value", "sim_mean", "low", "high", "human_mean")


def value_means(centered: pd.DataFrame, human_means) -> pd.DataFrame:
    """Per value: the agents' mean centered score with a normal-theory 95% CI next to the human mean.

    Input: wide value scores (rows = agents, the 10 value columns); `human_means`: value code ->
    human mean centered score (dict or Series, e.g. a sample's `centered_mean` column).
    Output: one row per value (circular order), columns value, sim_mean, low, high (mean -+ 1.96
    SD / sqrt(n) over the agents with that value scored; the mean of many agents is near-normal, and
    the interval is symmetric about it; NaN with fewer than 2 agents), human_mean.
    """
    x = value_table(centered, min_rows=1)
    human = pd.Series(human_means, dtype=float)
    missing = [c for c in CODES10 if c not in human.index]
    if missing:
        raise PopsimError(f"human_means lacks {', '.join(missing)}; give a mean for each of the 10 values")
    rows = []
    for c in CODES10:
        v = x[c].dropna().to_numpy(float)
        m = float(v.mean()) if len(v) else float("nan")
        se = float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else float("nan")
        rows.append({"value": c, "sim_mean": m, "low": m - 1.96 * se, "high": m + 1.96 * se,
                     "human_mean": float(human[c])})
    return pd.DataFrame(rows, columns=list(MEANS_COLUMNS))


def profile_agreement(means: pd.DataFrame) -> dict:
    """How closely the mean value profile follows the human one (input: `value_means`, columns
    sim_mean and human_mean).

    Output dict: means_r (Pearson r over the values; NaN when either profile is flat),
    means_abs_diff (mean |sim_mean - human_mean|, scale points).
    """
    if not {"sim_mean", "human_mean"} <= set(means.columns):
        raise PopsimError("means needs columns sim_mean and human_mean (the output of value_means)")
    t = means[["sim_mean", "human_mean"]].astype(float).dropna()
    r = (float(np.corrcoef(t["sim_mean"], t["human_mean"])[0, 1])
         if len(t) >= 3 and t["sim_mean"].std() > 0 and t["human_mean"].std() > 0 else float("nan"))
    return {"means_r": r, "means_abs_diff": float((t["sim_mean"] - t["human_mean"]).abs().mean()) if len(t)
            else float("nan")}
