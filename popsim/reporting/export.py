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

from ..analysis.scores import _sim_shares, item_scales
from ..errors import PopsimError, unknown

SIMBENCH_COLUMNS = ("dataset_name", "Model", "item", "human_answer", "Response_Distribution")
#: the layouts `popsim export --format` writes
FORMATS = ("simbench",)


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


def run_label(identity: dict) -> str:
    """The default name of a run's simulator: popsim, the model (or the reference twins) and the prompt style."""
    if identity.get("policy") == "reference":
        return "popsim/reference-twins"
    return f"popsim/{identity.get('model') or identity.get('backend')}/{identity.get('prompt_style')}"


def export_run(run_folder: str | Path, out: str | Path, *, format: str = "simbench", label: str | None = None) -> Path:
    """Write a run's per-item simulated and human answer distributions in another tool's layout.

    `simbench`: `simbench_frame` of the items the run answered that have human shares (ESS-21 value items
    against the run's human sample, ESS round 9 attitude items against DE_ESS9), one dataset per instrument,
    as the run's fidelity card scores them. Bad input (an unknown format, an --out that is not a .pkl file,
    a run without such items) is refused before anything is written.
    """
    from ..population import parse_population
    from .card import scored_items
    from .run_folder import load_run

    if format not in FORMATS:
        raise unknown("export format", format, FORMATS)
    out = Path(out)
    if out.suffix != ".pkl" or out.is_dir():
        raise PopsimError(f"--out {out}: SimBench's scorer reads *.pkl files; give a file path ending in .pkl")
    run = load_run(run_folder)
    ident = run.config.get("identity", {})
    sample = parse_population(ident.get("population", "DE_ESS9"))[1]
    answers, human, names = scored_items(run, sample)
    answers = answers.dropna(subset=["answer"])
    if answers.empty:
        raise PopsimError(f"run {run.path} has no answers to items with human answer shares (the ESS-21 value items "
                          f"or the ESS round 9 attitude items; its scenario is {ident.get('scenario')}); export a "
                          "run of ess21, ess_attitudes or a scenario that asks those items")
    return write_simbench(simbench_frame(answers, human, model=label or run_label(ident), datasets=names), out)
