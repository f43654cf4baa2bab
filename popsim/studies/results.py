"""A study's results beyond the per-setting summary: the tidy table (CSV and Parquet), response slopes, Sobol or
Morris indices, response curves and a heat map, and their lines in summary.md.

Files a study folder gets (besides `summary.md`, `summary.csv`, `status.csv`, `runs/`):

- `results.csv`, `results.parquet`: one row per run x metric (`studies.outcomes`), with the run's settings
  (each transform key its own column, e.g. `shift.UN`), `design_point` for lhs/sobol/morris, metric, value;
- `slopes.csv`: per group, metric and parameter the OLS slope with its 95% CI (`responses.response_slopes`);
- `indices.csv` (sobol, morris): `designs.sensitivity_indices` per group (outcomes averaged over seeds);
- `responses.png`: the plotted outcomes against each parameter, groups side by side: the mean with a band
  spanning the seeds (continuous designs: the 95% CI over the runs in each of 6 bins);
  `heatmap.png` for two or more parameters (the first plotted outcome over the first two).

Parameters are the [ranges] and the numeric [grid] keys (transforms, temperature, shares); groups are the
other [grid] keys with several values (e.g. policy), drawn side by side; seeds are replicates.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..population.transforms import is_transform_key
from .designs import NUMERIC_SETTINGS, design_points, sensitivity_indices
from .responses import heat_map, response_figure, response_slopes

DEFAULT_PLOTS = ("structure_r", "behaviour_js", "value_behaviour_r", "game_mean_share")
MAX_PLOTS = 6


def flat_settings(point: dict) -> dict:
    """A point's settings as table columns: each transform key its own column."""
    out = {k: v for k, v in point.items() if k != "transforms"}
    out.update(point.get("transforms") or {})
    return out


def parameters(spec: dict) -> list[str]:
    """The study's continuous parameters: its [ranges], then numeric [grid] keys with several values."""
    out = list(spec.get("ranges") or {})
    for k, v in spec["grid"].items():
        if k not in out and (is_transform_key(k) or k in NUMERIC_SETTINGS) and len(set(v)) > 1:
            out.append(k)
    return out


def with_groups(spec: dict, table: pd.DataFrame) -> pd.DataFrame:
    """The table with a `group` column: the other [grid] keys with several values ('policy=llm'), or 'all'."""
    params = set(parameters(spec))
    keys = [k for k, v in spec["grid"].items() if k != "seed" and k not in params and len(v) > 1 and k in table]
    if not keys:
        return table.assign(group="all")
    return table.assign(group=table[keys].astype(str).apply(lambda r: ", ".join(f"{k}={r[k]}" for k in keys), axis=1))


def plot_metrics(spec: dict, table: pd.DataFrame) -> list[str]:
    """The outcomes drawn: the study's `outcomes`, else each shifted value's measured mean and a few headline
    metrics (those the runs have)."""
    have = set(table["metric"]) if len(table) else set()
    if spec.get("outcomes"):
        return [m for m in spec["outcomes"] if m in have][:MAX_PLOTS]
    shifted = [k.split(".", 1)[1] for k in parameters(spec) if k.startswith(("shift.", "shift_only.", "spread."))]
    wanted = [f"value_mean.{v}" for v in dict.fromkeys(shifted)] + list(DEFAULT_PLOTS)
    return [m for m in wanted if m in have][:MAX_PLOTS]


def write_results(root: Path, spec: dict, table: pd.DataFrame) -> list[str]:
    """Write the files above; return summary.md's lines about them."""
    table.to_csv(root / "results.csv", index=False)
    table.to_parquet(root / "results.parquet", index=False)
    params = parameters(spec)
    if table.empty or not params:
        return []
    t = with_groups(spec, table)
    design = spec.get("design", "grid")
    L = [f"## Response to {', '.join(params)}", "",
         f"Design `{design}`" + (f" over {', '.join(f'{k} in [{a:g}, {b:g}]' for k, (a, b) in spec['ranges'].items())}"
                                 f", {spec['samples']} samples (seed {spec.get('design_seed', 0)})" if spec.get("ranges")
                                 else "") + f"; {t['run'].nunique()} runs; groups: "
         + ", ".join(dict.fromkeys(t["group"])) + ".", ""]
    slopes = response_slopes(t.dropna(subset=params), params, by="group")
    slopes.to_csv(root / "slopes.csv", index=False)
    shown = plot_metrics(spec, t)
    if shown and not slopes.empty:
        s = slopes[slopes["metric"].isin(shown)].copy()
        s["slope (95% CI)"] = [f"{r.slope:+.3f} [{r.low:+.3f}, {r.high:+.3f}]" for r in s.itertuples()]
        L += ["Slope of each outcome per unit of each parameter (per human SD for a shift): OLS over the runs, all "
              "parameters jointly, 95% t interval (`slopes.csv` has every metric).", ""]
        L += _table(s[["group", "metric", "parameter", "slope (95% CI)", "n_runs"]])
    if design in ("sobol", "morris"):
        parts = []
        pts = design_points(design, spec["ranges"], spec["samples"], spec.get("design_seed", 0))
        for group, g in t.groupby("group", sort=False):
            idx = sensitivity_indices(design, spec["ranges"], pts, g.rename(columns={"design_point": "point"}),
                                      seed=spec.get("design_seed", 0))
            parts.append(idx.assign(group=group))
        indices = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        indices.to_csv(root / "indices.csv", index=False)
        if len(indices):
            s = indices[indices["metric"].isin(shown)].copy()
            what = ("first-order S1 and total-order ST Sobol indices (Saltelli scheme, 95% bootstrap CI)"
                    if design == "sobol" else "Morris mu* (95% bootstrap CI), mu and sigma")
            s["value (95% CI)"] = [f"{r.value:.3f}" + (f" [{r.low:.3f}, {r.high:.3f}]" if np.isfinite(r.conf) else "")
                                   for r in s.itertuples()]
            L += [f"Sensitivity: {what}, outcomes averaged over seeds at each design point (`indices.csv` has every "
                  "metric).", ""]
            L += _table(s[["group", "metric", "parameter", "index", "value (95% CI)"]])
    if shown:
        response_figure(t, params, shown, root / "responses.png", by="group")
        L += ["![responses](responses.png)", ""]
        if len(params) >= 2:
            heat_map(t, params[0], params[1], shown[0], root / "heatmap.png", by="group")
            L += ["![heat map](heatmap.png)", ""]
    return L


def _table(df: pd.DataFrame) -> list[str]:
    from ..reporting.markdown import table_lines

    return table_lines(df.reset_index(drop=True), digits=3)
