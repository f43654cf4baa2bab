"""Sign and size of value-outcome relations: does a simulated correlation keep the human sign, and
does it lie inside the human 95% confidence interval?

Bisbee et al. (2024) found that many coefficients estimated on synthetic samples differ from the
human ones or flip sign; this is that check for every value x outcome pair with a human correlation.
Formulas and citations are in `docs/analysis.md`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as _st

from .. import datasets
from ..errors import PopsimError
from ._tables import check_level
from .behaviour import _cells

SIGN_COLUMNS = ("item", "value", "sim_n", "sim_r", "human_n", "human_r", "human_low", "human_high",
                "human_excludes_zero", "keeps_sign", "flips", "inside_ci")


def fisher_ci(r, n, *, level: float = 0.95):
    """The Fisher (1921) z interval of a correlation: tanh(atanh r -+ z_(1+level)/2 / sqrt(n - 3)).
    Numbers or arrays; n must exceed 3 (NaN otherwise)."""
    r = np.clip(np.asarray(r, dtype=float), -1 + 1e-12, 1 - 1e-12)
    n = np.asarray(n, dtype=float)
    z = _st.norm.ppf(0.5 + level / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = np.where(n > 3, z / np.sqrt(np.maximum(n - 3, 1e-12)), np.nan)
    lo, hi = np.tanh(np.arctanh(r) - half), np.tanh(np.arctanh(r) + half)
    return (float(lo), float(hi)) if np.ndim(lo) == 0 else (lo, hi)


def sign_check(sim: pd.DataFrame, human: pd.DataFrame | None = None, *, level: float = 0.95
               ) -> tuple[pd.DataFrame, dict]:
    """Check each simulated value x outcome correlation against the human one.

    Input: `sim` and `human` with columns item, value, n, r (`value_behaviour_correlations`);
    `human` defaults to the DE_ESS9 correlations of the reference pack. Pairs in both tables with
    both r finite and human n > 3 are checked.

    Returns (cells, summary):
      cells: item, value, sim_n, sim_r, human_n, human_r, human_low, human_high (Fisher z interval
        at `level` with the human n), human_excludes_zero, keeps_sign (sign(sim_r) == sign(human_r)),
        flips (the sign differs and the human interval excludes 0), inside_ci
      summary: n_pairs, share_keep_sign (over all pairs), n_human_nonzero (pairs whose human interval
        excludes 0), share_keep_sign_nonzero and share_flipped (over those pairs), share_inside_ci,
        level
    """
    level = check_level(level)
    s = _cells(sim, "sim")
    h = _cells(datasets.value_behavior_correlations() if human is None else human, "human")
    cells = s.merge(h, on=["item", "value"], suffixes=("_sim", "_human"))
    cells = cells.rename(columns={"n_sim": "sim_n", "r_sim": "sim_r", "n_human": "human_n", "r_human": "human_r"})
    cells = cells[np.isfinite(cells["sim_r"]) & np.isfinite(cells["human_r"]) & (cells["human_n"] > 3)]
    if cells.empty:
        raise PopsimError(f"sim and human share no (value, outcome) pair with both correlations defined; sim "
                          f"items: {sorted(s['item'].unique())}, human items: {sorted(h['item'].unique())}")
    cells = cells.reset_index(drop=True)
    lo, hi = fisher_ci(cells["human_r"].to_numpy(), cells["human_n"].to_numpy(), level=level)
    cells["human_low"], cells["human_high"] = lo, hi
    cells["human_excludes_zero"] = (lo > 0) | (hi < 0)
    cells["keeps_sign"] = np.sign(cells["sim_r"]) == np.sign(cells["human_r"])
    cells["flips"] = ~cells["keeps_sign"] & cells["human_excludes_zero"]
    cells["inside_ci"] = (cells["sim_r"] >= lo) & (cells["sim_r"] <= hi)
    nz = cells[cells["human_excludes_zero"]]
    summary = {"n_pairs": int(len(cells)), "share_keep_sign": float(cells["keeps_sign"].mean()),
               "n_human_nonzero": int(len(nz)),
               "share_keep_sign_nonzero": float(nz["keeps_sign"].mean()) if len(nz) else float("nan"),
               "share_flipped": float(nz["flips"].mean()) if len(nz) else float("nan"),
               "share_inside_ci": float(cells["inside_ci"].mean()), "level": level}
    return cells[list(SIGN_COLUMNS)], summary
