"""The outcomes of a run for a study: every number of its record, flat (`metric -> value`).

Names (the `metric` column of a study's results):

- the headline metrics (`structure_r`, `randall_ci`, `items_js`, `behaviour_js`, `value_behaviour_r`,
  `validity_mean`, `game_mean_share`, `game_slope`, ...; `reporting.record.Headline`);
- `value_mean.<CODE>`: each value's measured centered mean (from the run's answers);
- `item_mean.<ITEM>`: each ESS-21 item's and each attitude question's mean answer (native codes);
- `item_js.<ITEM>`: the Jensen-Shannon distance of its answer distribution from the human one;
- `r.<CODE>.<ITEM>`: the value-attitude correlations (centered value x answer), and `r.<CODE>.<OUTCOME>` for a
  game's outcome;
- `twins.value_mean.<CODE>`, `twins.structure_r`: what the drawn twins show (runs with a transform);
- `outcome.<NAME>`: the scenario's own outcomes (its `model_reporters`, the last round's value).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import PopsimError
from ..reporting.record import Metrics


def _number(x) -> float | None:
    if isinstance(x, bool) or x is None:
        return None
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return x if np.isfinite(x) else None


def run_outcomes(run_folder: str | Path, metrics: Metrics | None = None) -> dict[str, float]:
    """Every outcome of a finished run folder (see the module's docstring for the names)."""
    folder = Path(run_folder)
    m = metrics or Metrics.load(folder)
    out: dict[str, float | None] = dict(m.headline.as_dict()) if m.headline else {}
    if m.values is not None and m.values.means:
        for r in m.values.means:
            out[f"value_mean.{r['value']}"] = r.get("sim_mean")
    for rows in ((m.items.table if m.items else None), (m.behaviour.items if m.behaviour else None)):
        for r in rows or []:
            out[f"item_mean.{r['item']}"] = r.get("sim_mean")
            out[f"item_js.{r['item']}"] = r.get("jensen_shannon")
    if m.behaviour is not None:
        for r in m.behaviour.value_behaviour or []:
            out[f"r.{r['value']}.{r['item']}"] = r.get("sim_r")
    if m.game is not None:
        for r in m.game.value_correlations or []:
            out[f"r.{r['value']}.{m.game.outcome}"] = r.get("r")
    if m.transform is not None and m.transform.realised is not None:
        rz = m.transform.realised
        out.update({f"twins.value_mean.{k}": v for k, v in (rz.value_mean or {}).items()})
        out["twins.structure_r"] = rz.structure_r
    declared = folder / "outcomes.parquet"
    if declared.is_file():
        try:
            last = pd.read_parquet(declared).iloc[-1:]
        except (OSError, ValueError) as exc:
            raise PopsimError(f"{declared} is damaged ({exc}); rerun that point (delete its folder)") from None
        for col in last.columns:
            if col not in ("round", "answered") and len(last):
                out[f"outcome.{col}"] = last[col].iloc[0]
    return {k: v for k, v in ((k, _number(v)) for k, v in out.items()) if v is not None}
