"""A run folder read back (`load_run`): its record and tables, checked, for reports, comparisons and the page.

Written by `runs.execute`; what each file holds is listed in `runs.py`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import PopsimError
from ..values import CODES10

#: the files without which a folder is not a run
RUN_FILES = ("config.json", "agents.parquet", "answers.parquet")


@dataclass
class Run:
    """A run folder read back: tables and records (what reports, comparisons and the page use)."""

    path: Path
    config: dict
    agents: pd.DataFrame
    answers: pd.DataFrame
    scores: pd.DataFrame | None
    responses: pd.DataFrame | None
    outcomes: pd.DataFrame | None
    choices: pd.DataFrame | None

    @property
    def label(self) -> str:
        i = self.config.get("identity", {})
        return f"{self.path.name} ({i.get('scenario')}, {i.get('prompt_style') if i.get('policy') == 'llm' else 'reference'})"

    def centered(self, basis: str = "sampled") -> pd.DataFrame:
        """agents x 10 centered value scores measured in this run."""
        if self.scores is None:
            raise PopsimError(f"run {self.path} measured no values (scenario {self.config['identity']['scenario']})")
        s = self.scores[self.scores["basis"] == basis]
        return s.pivot(index="agent", columns="value", values="centered")[list(CODES10)]


def load_run(path: str | Path) -> Run:
    path = Path(path)
    if not path.is_dir():
        raise PopsimError(f"run folder {path} does not exist; pass the --out folder of a finished run")
    missing = [f for f in RUN_FILES if not (path / f).exists()]
    if missing:
        raise PopsimError(f"{path} is not a complete run folder (missing {', '.join(missing)}); rerun the "
                          "command that made it (cached answers make that fast)")
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PopsimError(f"{path / 'config.json'} is damaged ({exc}); rerun the command that made the run") from exc
    if not isinstance(config, dict) or not isinstance(config.get("identity"), dict) \
            or not isinstance(config.get("scenario"), dict):
        raise PopsimError(f"{path / 'config.json'} is damaged (not a popsim run record: it lacks the run's identity "
                          "and scenario); rerun the command that made the run")

    def read(name, columns=()):
        f = path / name
        if not f.exists():
            return None
        try:
            table = pd.read_parquet(f)
        except Exception as exc:  # pyarrow raises several types for truncated files
            raise PopsimError(f"{f} is damaged ({type(exc).__name__}); rerun the command that made the run "
                              "(cached answers make that fast)") from exc
        lacking = [c for c in columns if c not in table.columns]
        if lacking:
            raise PopsimError(f"{f} is damaged (no column {', '.join(lacking)}); rerun the command that made the run "
                              "(cached answers make that fast)")
        return table

    return Run(path=path, config=config, agents=read("agents.parquet", ("agent",)),
               answers=read("answers.parquet", ("agent", "round", "item", "answer")),
               scores=read("scores.parquet"), responses=read("responses.parquet"),
               outcomes=read("outcomes.parquet"), choices=read("choices.parquet"))
