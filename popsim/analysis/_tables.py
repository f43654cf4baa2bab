"""Input checks shared by the analysis modules (private).

Every public analysis function takes tidy tables; these helpers turn what a user passes into
the exact shape a function needs, or raise a `PopsimError` that says what is wrong and how
to fix it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import PopsimError, unknown
from ..values import CODES10


def rng_from(seed) -> np.random.Generator:
    """`None`, an int or a `numpy.random.Generator` -> a Generator (an int seeds it)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, (int, np.integer)):
        return np.random.default_rng(seed)
    raise PopsimError(f"seed/rng must be None, an int or a numpy Generator, got {type(seed).__name__}")


def check_count(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise PopsimError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_level(level: float) -> float:
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level < 1:
        raise PopsimError(f"level must be a confidence level strictly between 0 and 1 (e.g. 0.95), got {level!r}")
    return float(level)


def value_table(centered, *, name: str = "centered", min_rows: int = 2,
                require_all: bool = True) -> pd.DataFrame:
    """Validate a wide table of value scores: rows = agents, columns = value codes.

    Returns a float DataFrame with the value columns in circular order (index kept).
    """
    if not isinstance(centered, pd.DataFrame):
        raise PopsimError(f"{name} must be a pandas DataFrame with one row per agent and one column per "
                          f"value code ({' '.join(CODES10)}), got {type(centered).__name__}")
    cols = [str(c) for c in centered.columns]
    extra = [c for c in cols if c not in CODES10]
    if extra:
        raise unknown("value code", extra[0], CODES10,
                      hint=f"{name} must have only value-code columns; move agent ids into the index "
                           "(df.set_index('agent')).")
    missing = [c for c in CODES10 if c not in cols]
    if require_all and missing:
        raise PopsimError(f"{name} lacks the values {', '.join(missing)}; give one column for each of the "
                          f"10 values {' '.join(CODES10)}")
    present = [c for c in CODES10 if c in cols]
    if len(present) < 2:
        raise PopsimError(f"{name} needs at least 2 value columns, got {len(present)}")
    out = centered.copy()
    out.columns = cols
    raw = out[present]
    out = raw.apply(pd.to_numeric, errors="coerce").astype(float)
    bad = out.isna() & raw.notna()
    if bad.to_numpy().any():
        col = out.columns[bad.any(axis=0).to_numpy()][0]
        raise PopsimError(f"{name} column {col} holds non-numeric entries; give value scores as numbers")
    if len(out) < min_rows:
        raise PopsimError(f"{name} has {len(out)} agents; this analysis needs at least {min_rows}")
    empty = [c for c in present if out[c].isna().all()]
    if empty:
        raise PopsimError(f"{name} has no numbers for {', '.join(empty)} (NaN-only columns); "
                          "score the answers first or drop agents without answers")
    return out


def wide_answers(answers, *, name: str = "answers") -> pd.DataFrame:
    """A wide answer table (rows = agents, columns = items) from wide or long input.

    Long input has columns agent, item, answer (one row per agent and item).
    """
    if not isinstance(answers, pd.DataFrame):
        raise PopsimError(f"{name} must be a pandas DataFrame, got {type(answers).__name__}")
    if {"agent", "item", "answer"} <= set(answers.columns):
        dup = answers.duplicated(["agent", "item"])
        if dup.any():
            r = answers[dup].iloc[0]
            raise PopsimError(f"{name} has more than one answer of agent {r['agent']!r} to item {r['item']!r}; "
                              "keep one row per agent and item")
        answers = answers.pivot(index="agent", columns="item", values="answer")
        answers.columns.name = None
    out = answers.apply(pd.to_numeric, errors="coerce").astype(float)
    bad = out.isna() & answers.notna()
    if bad.to_numpy().any():
        col = out.columns[bad.any(axis=0).to_numpy()][0]
        raise PopsimError(f"{name} column {col!r} holds non-numeric answers; map answer labels to their codes")
    return out


def matrix(corr, *, name: str = "corr", min_size: int = 3) -> pd.DataFrame:
    """Validate a labelled correlation matrix (square, symmetric, finite, in [-1, 1]).

    A numpy array is labelled with the value codes when it is 10x10, else with 0..k-1.
    """
    if isinstance(corr, pd.DataFrame):
        m = corr.copy()
    else:
        a = np.asarray(corr, dtype=float)
        if a.ndim != 2:
            raise PopsimError(f"{name} must be a square correlation matrix, got an array of shape {a.shape}")
        labels = list(CODES10) if a.shape == (10, 10) else list(range(a.shape[0]))
        if a.shape[0] != a.shape[1]:
            raise PopsimError(f"{name} must be square, got shape {a.shape}")
        m = pd.DataFrame(a, index=labels, columns=labels)
    if m.shape[0] != m.shape[1]:
        raise PopsimError(f"{name} must be square (k x k), got shape {m.shape}")
    if set(m.index) != set(m.columns) or m.index.has_duplicates:
        raise PopsimError(f"{name} must have the same unique labels on rows and columns; got rows "
                          f"{list(m.index)} and columns {list(m.columns)}")
    if m.shape[0] < min_size:
        raise PopsimError(f"{name} is {m.shape[0]}x{m.shape[0]}; this analysis needs at least "
                          f"{min_size}x{min_size}")
    m = m.loc[:, list(m.index)].astype(float)
    a = m.to_numpy()
    off = ~np.eye(len(a), dtype=bool)
    if not np.isfinite(a[off]).all():
        rows, cols = np.where(~np.isfinite(a) & off)
        raise PopsimError(f"{name} has a missing correlation ({m.index[rows[0]]}, {m.columns[cols[0]]}); "
                          "a value with no variance across agents has no correlations: check that "
                          "agents differ on every value")
    if np.abs(a - a.T).max() > 1e-6:
        raise PopsimError(f"{name} is not symmetric; pass a correlation matrix, not a long table")
    if np.abs(a[off]).max() > 1 + 1e-9:
        raise PopsimError(f"{name} has entries outside [-1, 1]; pass correlations, not covariances")
    return m


def upper(m: pd.DataFrame | np.ndarray) -> np.ndarray:
    """The upper off-diagonal cells of a square matrix, row by row."""
    a = np.asarray(m, dtype=float)
    return a[np.triu_indices(len(a), 1)]


def aligned(sim: pd.DataFrame, human: pd.DataFrame, *, names=("sim", "human")) -> pd.DataFrame:
    """`sim` reordered to `human`'s labels (the two must have the same label set)."""
    if set(sim.index) != set(human.index):
        raise PopsimError(f"{names[0]} and {names[1]} must label the same variables; {names[0]} has "
                          f"{list(sim.index)}, {names[1]} has {list(human.index)}")
    order = list(human.index)
    return sim.loc[order, order]
