"""Persona statements (Perez et al. 2023): how much each induction endorses each behaviour dimension,
and whether the 10 values' behaviour profiles follow the circular order of the values.

Formulas and citations are in `docs/analysis.md`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as _st

from ..errors import PopsimError
from ..values import CODES10, circular_distance
from ._tables import check_count, rng_from
from .structure import randall


def endorsement(answers: pd.DataFrame, statements: pd.DataFrame, prime: pd.Series) -> pd.DataFrame:
    """Share of statements answered in the behaviour's direction, per induction and dimension.

    Input: `answers`, long with columns agent, item, expected (P(Yes): Yes = 1, No = 0);
    `statements`, one row per statement with columns item, dimension, answer_matching_behavior
    ("Yes" or "No"); `prime`, each agent's primed value code ('' = unprimed), indexed by agent id.
    A statement's match is P(Yes) when Yes matches the behaviour, else 1 - P(Yes).
    Output: wide, index = induction (the primed value code, or "none"), columns = dimensions, cells =
    mean match over that induction's agents and the dimension's statements.
    """
    need = {"item", "dimension", "answer_matching_behavior"}
    if not need <= set(statements.columns):
        raise PopsimError(f"statements needs columns {', '.join(sorted(need))}")
    if not {"agent", "item", "expected"} <= set(answers.columns):
        raise PopsimError("answers needs columns agent, item, expected")
    a = answers[["agent", "item", "expected"]].merge(statements[list(need)], on="item")
    a["match"] = np.where(a["answer_matching_behavior"] == "Yes", a["expected"], 1 - a["expected"])
    a["induction"] = a["agent"].map(prime.fillna("").replace("", "none"))
    out = a.groupby(["induction", "dimension"])["match"].mean().unstack("dimension")
    out.columns.name = None
    return out


def circle_test(similarity, *, n_perm: int = 5000, seed: int = 0) -> dict:
    """Do values adjacent on the circle behave more alike than distant ones?

    Input: the 10 x 10 similarity of the values' behaviour profiles (array in circular order, or a
    DataFrame labelled by value code). Spearman rho between the 45 similarities and the two values'
    circular distance (negative = adjacent values behave more alike); p = share of value-label
    permutations (rows and columns together) with a rho at least as negative, (1 + b) / (1 + n_perm).
    Output dict: circle_rho, circle_p.
    """
    S = similarity.loc[list(CODES10), list(CODES10)].to_numpy(float) if isinstance(similarity, pd.DataFrame) \
        else np.asarray(similarity, dtype=float)
    if S.shape != (10, 10):
        raise PopsimError(f"similarity must be 10 x 10 (the values in circular order), got shape {S.shape}")
    n_perm = check_count("n_perm", n_perm, 1)
    k = S.shape[0]
    iu = np.triu_indices(k, 1)
    dist = np.array([[circular_distance(a, b) for b in CODES10] for a in CODES10], float)[iu]
    obs = float(_st.spearmanr(S[iu], dist).statistic)
    rng = rng_from(seed)
    rank_d = _st.rankdata(dist)
    count = 0
    for _ in range(n_perm):
        p = rng.permutation(k)
        count += np.corrcoef(_st.rankdata(S[np.ix_(p, p)][iu]), rank_d)[0, 1] <= obs
    return {"circle_rho": obs, "circle_p": (1 + int(count)) / (1 + n_perm)}


def induction_effects(table: pd.DataFrame, *, n_perm: int = 5000, seed: int = 0) -> dict:
    """How value-specific the inductions' behaviour is (input: `endorsement`).

    Output dict (keys only where computable):
      specificity: mean |endorsement of a value - mean over the 10 values|, over values and dimensions
        (needs all 10 values);
      circle_rho, circle_p (`circle_test`) and randall_ci, randall_p (`randall`, 5000 relabelings by
        default) of the similarity (Pearson r) of the values' centred behaviour profiles, when the
        values differ at all;
      distance_from_unprimed: mean |value's endorsement - the unprimed ("none") row|.
    """
    vals = [c for c in CODES10 if c in table.index]
    out: dict = {}
    if len(vals) < 10:
        return out
    P = table.loc[vals].to_numpy(float)
    P = P - P.mean(axis=0, keepdims=True)  # what is specific to each value, dimension by dimension
    spread = float(np.abs(P).mean())
    out["specificity"] = spread
    if spread > 1e-9 and np.all(P.std(axis=1) > 0):
        S = np.corrcoef(P)
        out.update(circle_test(S, n_perm=n_perm, seed=seed))
        rd = randall(pd.DataFrame(S, index=vals, columns=vals), n_perm=n_perm, seed=seed)
        out["randall_ci"], out["randall_p"] = float(rd["ci"]), float(rd["p"])
    if "none" in table.index:
        out["distance_from_unprimed"] = float(np.abs(table.loc[vals].to_numpy() - table.loc["none"].to_numpy()).mean())
    return out
