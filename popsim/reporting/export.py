"""Exports of a run's answer distributions in other tools' layouts.

SimBench (Hu et al. 2025): a pickled DataFrame, one row per question, with the columns SimBench's
`calculate_simbench_score.py` reads: `dataset_name`, `Model`, `human_answer` (a dict option -> human
share; the scorer takes `list(human_answer.values())` as the human distribution) and
`Response_Distribution` (the simulated shares in the same option order). Run on a folder holding
the file, SimBench's scorer gives the `simbench` score popsim reports for the same items
(`popsim.analysis.distribution_scores` / `summarise_scores`). `item` is kept as an extra column
(the scorer ignores it).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..analysis.fidelity import _sim_shares, item_scales
from ..errors import PopsimError

SIMBENCH_COLUMNS = ("dataset_name", "Model", "item", "human_answer", "Response_Distribution")


def _label(code: float) -> str:
    return str(int(code)) if float(code).is_integer() else str(code)


def simbench_frame(sim, human_shares: pd.DataFrame, *, model: str, datasets=None) -> pd.DataFrame:
    """SimBench's results layout for the simulated items.

    Input: sim, a long answers table (agent, item, answer) or a shares table (item, answer, share);
    human_shares (item, answer, share; every option listed); model, the `Model` name; datasets, a dict
    item -> dataset name or one name for all (SimBench normalises TV within a dataset).
    Output: columns dataset_name, Model, item, human_answer (dict answer code as text -> human share,
    codes ascending, the options of `distribution_scores`), Response_Distribution (list of simulated
    shares, same order).
    """
    if not isinstance(model, str) or not model:
        raise PopsimError("model must be a non-empty name for SimBench's Model column")
    shares = _sim_shares(sim)
    extra = {i: s.index.to_numpy(float) for i, s in shares.items()}
    rows = []
    for s in item_scales(human_shares, list(shares), datasets=datasets, extra=extra):
        p = s.shares(shares[s.item])
        h = s.human / s.human.sum()
        rows.append({"dataset_name": s.dataset, "Model": model, "item": s.item,
                     "human_answer": {_label(c): float(x) for c, x in zip(s.codes, h)},
                     "Response_Distribution": [float(x) for x in p / p.sum()]})
    return pd.DataFrame(rows, columns=list(SIMBENCH_COLUMNS))


def write_simbench(frame: pd.DataFrame, path: str | Path) -> Path:
    """Pickle a `simbench_frame` to `path` (a .pkl file; SimBench's scorer reads every *.pkl of a folder)."""
    path = Path(path)
    if path.suffix != ".pkl":
        raise PopsimError(f"--out {path}: SimBench's scorer reads only *.pkl files; name the file FILE.pkl")
    if path.exists() and path.is_dir():
        raise PopsimError(f"--out {path} is a folder; give a file path ending in .pkl")
    missing = [c for c in SIMBENCH_COLUMNS if c not in frame.columns]
    if missing:
        raise PopsimError(f"the frame lacks SimBench's columns {', '.join(missing)}; build it with simbench_frame")
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_pickle(path)
    return path
