"""Sensitivity studies: a grid of settings x seeds, run in parallel, summarised with CIs across seeds.

A study is a TOML file (or a dict for `run_sweep`):

    name = "strategies"               # the folder name under runs/ unless `out` is given
    scenario = "ess_attitudes"        # any scenario name or file
    [fixed]                           # settings shared by every run (PopulationModel keywords)
    n_agents = 30
    population = "DE_ESS9"
    backend = "embedded"
    [grid]                            # every combination is one setting; `seed` lists the replicates
    strategy = ["uniform", "h_np", "empirical"]
    prompt_style = ["value_prompt", "none"]
    seed = [1, 2, 3]
    [backend_options]                 # optional, e.g. base_url and model for backend = "openai"
    [scenario_options]                # optional, e.g. rounds = 5

Transform keys ("shift.UN", "spread", ...) go in [fixed] and [grid] like any setting; `design = "lhs" | "sobol" |
"morris"` (or "grid") samples continuous `[ranges]` with `samples` and `design_seed` (`designs.py`); `outcomes`
names the metrics summary.md draws. The outputs beyond the per-setting summary are described in `results.py`.

Each run is a complete run folder under `OUT/runs/` (its report without figures, to save time:
`popsim report RUN` draws them). Rerunning a sweep reuses finished runs (same
settings) and cached answers. `results.csv` is tidy (one row per run x metric); `summary.md` and
`summary.png` give each metric per setting with a 95% CI across seeds (`analysis.summarize_seeds`: a t
interval on the metric's unbounded scale, e.g. Fisher z for correlations). Runs execute
in parallel local processes by default, or on a Ray cluster (`executor="ray"`) with the same code.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import PopsimError, unknown
from ..parameters import MODEL_KEYS, check
from ..population.transforms import is_transform_key
from .designs import check_study_design, check_study_transforms, model_kwargs, study_points
from .outcomes import run_outcomes
from .results import flat_settings, write_results
from ..reporting.markdown import table_lines
from ..reporting.record import Metrics
from ..reporting.report import build_report

STUDY_KEYS = {"name", "scenario", "out", "fixed", "grid", "backend_options", "scenario_options", "network_options",
              "cache", "workers", "description", "executor", "address", "design", "ranges", "samples", "design_seed",
              "outcomes"}
SUMMARY_METRICS = ("structure_r", "randall_ci", "items_js", "behaviour_js", "value_behaviour_r", "validity_mean",
                   "manipulation_diff_expected", "game_mean_share", "simbench_score", "simbench_normalised",
                   "dispersion_ratio")
EXECUTORS = ("process", "ray")


# ------------------------------------------------------------------------------------------ study files


def load_study(source: str | Path | dict) -> dict:
    """Read and validate a study (TOML path or dict). Errors name the key and the fix."""
    if isinstance(source, dict):
        study, where = dict(source), "the study"
    else:
        path = Path(source)
        where = str(path)
        if not path.is_file():
            raise PopsimError(f"study file {path} does not exist; pass a TOML file (see `popsim sweep --help`)")
        try:
            study = tomllib.loads(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            raise PopsimError(f"study file {path} is not UTF-8 text; save it as UTF-8") from None
        except tomllib.TOMLDecodeError as exc:
            raise PopsimError(f"study file {path} is not valid TOML ({exc}); fix that line") from None
        study.setdefault("name", path.stem)
    extra = sorted(set(study) - STUDY_KEYS)
    if extra:
        raise unknown(f"key in {where}:", extra[0], sorted(STUDY_KEYS))
    for section in ("fixed", "grid", "ranges", "backend_options", "scenario_options", "network_options"):
        if section in study and not isinstance(study[section], dict):
            raise PopsimError(f"{where}: [{section}] must be a table of settings, got {study[section]!r}")
    fixed, grid = study.get("fixed", {}), study.get("grid", {})
    for section, table in (("fixed", fixed), ("grid", grid)):
        bad = sorted(k for k in table if k not in MODEL_KEYS and not is_transform_key(k))
        if bad:
            raise unknown(f"setting in [{section}] of {where}:", bad[0], sorted(MODEL_KEYS),
                          hint="Transforms too: shift.<VALUE>, shift_only.<VALUE>, spread, coupling, mix.<SAMPLE>.")
    for k, v in grid.items():
        if not isinstance(v, list) or not v:
            raise PopsimError(f"{where}: [grid] {k} must be a non-empty list, e.g. {k} = [{v!r}]")
    both = sorted(set(fixed) & set(grid))
    if both:
        raise PopsimError(f"{where}: {both[0]} is both fixed and in the grid; keep one")
    study["fixed"], study["grid"] = fixed, grid
    study.setdefault("scenario", fixed.pop("scenario", "ess21"))
    if "seed" not in grid and "seed" not in fixed:
        grid["seed"] = [0]
    from ..backends import check_backend_options

    check_study_design(study, where)
    for point in points(study):
        validate_point(point, where)
    check_study_transforms(study, where)
    for backend in {str(p.get("backend", "embedded")) for p in points(study)}:
        try:
            check_backend_options(backend, study.get("backend_options") or {})
        except PopsimError as exc:
            raise PopsimError(f"{where}: [backend_options]: {exc}") from None
    return study


def points(study: dict) -> list[dict]:
    """Every run of a (validated) study: `PopulationModel` keywords, the design's points crossed with the grid
    (`designs.study_points`; `designs.model_kwargs(point)` drops the `design_point` index)."""
    return study_points(study["fixed"], study["grid"], design=study.get("design", "grid"), ranges=study.get("ranges"),
                        samples=study.get("samples"), seed=study.get("design_seed", 0),
                        scenario=study.get("scenario", "ess21"))


def validate_point(p: dict, where: str) -> None:
    """Cheap checks of every setting before anything runs: the same check as the command line's and the page's
    (`popsim.parameters`), the message prefixed with the study file."""
    for key, value in p.items():
        if key == "design_point":
            continue
        try:
            check(key, value)
        except PopsimError as exc:
            raise PopsimError(f"{where}: {key} = {value!r}: {exc}") from None


def slug(point: dict) -> str:
    keys = ("scenario", "policy", "strategy", "prompt_style", "population", "n_agents", "seed")
    parts = [str(point.get(k)) for k in keys if point.get(k) is not None]
    h = hashlib.sha256(json.dumps(point, sort_keys=True, default=str).encode()).hexdigest()[:8]
    name = "-".join(parts).replace("/", "_").replace(".py", "")
    return f"{name}-{h}"


# ------------------------------------------------------------------------------------------ running one point


def run_point(task: dict) -> dict:
    """Run (or reuse, unless `task["redo"]`) one setting; never raises for a user error (the error is recorded)."""
    from ..reporting.runs import execute

    out = Path(task["out"])
    point = dict(task["point"])
    started = time.time()
    if not task.get("redo") and (out / "metrics.json").exists() and (out / "config.json").exists():
        return {"id": out.name, "status": "reused", "seconds": 0.0, "error": None}
    kwargs = model_kwargs(point)
    seed = kwargs.pop("seed", 0)
    scenario = kwargs.pop("scenario", "ess21")
    backend = kwargs.pop("backend", "embedded")
    bopts = dict(task.get("backend_options") or {})
    if backend == "embedded" and task.get("threads"):
        bopts.setdefault("n_threads", task["threads"])
    try:
        execute(out, scenario=scenario, backend=backend, backend_options=bopts, cache_path=task.get("cache"),
                refresh=bool(task.get("refresh")), progress=False, overwrite=True, rng=seed, figures=False,
                price_per_mtok=task.get("price_per_mtok"), scenario_options=task.get("scenario_options") or {},
                network_options=task.get("network_options") or {}, **kwargs)
        return {"id": out.name, "status": "done", "seconds": round(time.time() - started, 2), "error": None}
    except PopsimError as exc:
        return {"id": out.name, "status": "failed", "seconds": round(time.time() - started, 2), "error": str(exc)}


def _executor_map(tasks: list[dict], *, executor: str, workers: int, address: str | None, progress: bool):
    if executor not in EXECUTORS:
        raise unknown("executor", executor, EXECUTORS)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(tasks), desc="sweep runs", unit="run", file=sys.stderr)
    results = []
    try:
        if executor == "ray":
            results = _ray_map(tasks, workers=workers, address=address, bar=bar)
        elif workers <= 1:
            for t in tasks:
                results.append(run_point(t))
                bar and bar.update(1)
        else:
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor, as_completed

            with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as pool:
                futs = [pool.submit(run_point, t) for t in tasks]
                for f in as_completed(futs):
                    results.append(f.result())
                    bar and bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return results


def _ray_map(tasks, *, workers, address, bar):
    try:
        import ray
    except ImportError:
        raise PopsimError("the ray executor needs Ray: pip install 'popsim[ray]' (or ray)") from None
    from ..backends.ray_pool import init_ray

    started_here = init_ray(address, workers)
    remote = ray.remote(num_cpus=1)(run_point)
    pending = [remote.remote(t) for t in tasks]
    results = []
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        results.append(ray.get(done[0]))
        bar and bar.update(1)
    if started_here and address is None:
        ray.shutdown()
    return results


# ------------------------------------------------------------------------------------------ the sweep


def run_sweep(study: str | Path | dict, *, out: str | Path | None = None, workers: int | None = None,
              executor: str = "process", address: str | None = None, progress: bool = True,
              cache: str | Path | None = None, price_per_mtok: tuple[float, float] | None = None) -> Path:
    spec = load_study(study)
    root = Path(out or spec.get("out") or Path("runs") / spec.get("name", "sweep"))
    root.mkdir(parents=True, exist_ok=True)
    workers = int(workers or spec.get("workers") or os.cpu_count() or 1)
    if executor not in EXECUTORS:
        raise unknown("executor", executor, EXECUTORS)
    record = {**spec, "workers": workers, "executor": executor, "address": address}
    (root / "study.json").write_text(json.dumps(record, indent=2, default=str), encoding="utf-8")
    from ..cache import default_cache_path

    cache_path = Path(cache or spec.get("cache") or default_cache_path())
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    pts = points(spec)
    threads = max(1, (os.cpu_count() or 1) // max(1, workers))
    tasks = [{"out": str(root / "runs" / slug(p)), "point": p, "cache": str(cache_path), "threads": threads,
              "price_per_mtok": price_per_mtok,
              "backend_options": spec.get("backend_options"), "scenario_options": spec.get("scenario_options"),
              "network_options": spec.get("network_options")} for p in pts]
    results = _executor_map(tasks, executor=executor, workers=workers, address=address, progress=progress)
    status = pd.DataFrame(results)
    status.to_csv(root / "status.csv", index=False)
    _summarise(root, spec, pts, status)
    failed = status[status["status"] == "failed"]
    if len(failed):
        print(f"sweep: {len(failed)} of {len(status)} runs failed; see {root / 'status.csv'} "
              f"(first: {failed['error'].iloc[0]})", file=sys.stderr)
    return root / "summary.md"


def rebuild(root: str | Path) -> Path:
    """Regenerate the results table, summary and figure of a finished sweep from its folder alone."""
    root = Path(root)
    spec = json.loads((root / "study.json").read_text())
    pts = points(spec)
    status = pd.read_csv(root / "status.csv") if (root / "status.csv").exists() else pd.DataFrame(
        {"id": [], "status": [], "error": []})
    _summarise(root, spec, pts, status)
    return root / "summary.md"


def _summarise(root: Path, spec: dict, pts: list[dict], status: pd.DataFrame) -> None:
    from .. import analysis

    table = collect(root, pts)
    grid = spec.get("design", "grid") == "grid"
    by = [k for k in spec["grid"] if k != "seed"] + ([] if grid else ["design_point"])
    summary = analysis.summarize_seeds(table, by)
    summary.to_csv(root / "summary.csv", index=False)
    extra = write_results(root, spec, table)  # results.csv/.parquet, slopes, indices, response figures
    text = summary_markdown(spec, summary if grid else pd.DataFrame(), status)
    (root / "summary.md").write_text(text + "\n\n" + "\n".join(extra), encoding="utf-8")
    if len(summary) and grid:
        summary_figure(summary, by, root / "summary.png")


def collect(root: Path, pts: list[dict]) -> pd.DataFrame:
    """Tidy results: one row per run x outcome (`outcomes.run_outcomes`), with the run's settings."""
    rows = []
    for p in pts:
        d = root / "runs" / slug(p)
        if not (d / "metrics.json").exists():
            continue
        try:
            m = Metrics.load(d)
        except PopsimError:  # a record of an older popsim: rebuilt from the run's own tables
            m = build_report(d, figures=False)
        settings = flat_settings(p)
        rows += [{"run": d.name, **settings, "metric": k, "value": v} for k, v in run_outcomes(d, m).items()]
    return pd.DataFrame(rows)


def summary_markdown(spec: dict, summary: pd.DataFrame, status: pd.DataFrame) -> str:
    by = [k for k in spec["grid"] if k != "seed"]
    L = [f"# Sweep: {spec.get('name', 'study')}", "",
         f"Scenario `{spec['scenario']}`; fixed: {', '.join(f'{k}={v}' for k, v in spec['fixed'].items()) or 'none'}; "
         f"grid: {', '.join(f'{k} = {v}' for k, v in spec['grid'].items())}. Runs: {len(status)} "
         f"({(status['status'] == 'done').sum()} run now, {(status['status'] == 'reused').sum()} reused, "
         f"{(status['status'] == 'failed').sum()} failed).", "",
         "Each cell: mean over seeds with a 95% t interval across seeds, on the Fisher z scale for correlations and "
         "the logit scale for shares and distances in [0, 1], so it stays in range (`popsim.analysis.METRIC_KINDS`). "
         "Metrics: structure_r = Pearson r of the "
         "45 centered value correlations vs the human sample (noise ceiling 0.94-0.97); randall_ci = circular-order "
         "correspondence index (DE_ESS9: 0.797); items_js / behaviour_js = mean Jensen-Shannon distance of the value "
         "item / attitude item answer distributions from the human ones (0 = same); value_behaviour_r = cell-wise r "
         "of value x attitude correlations vs DE_ESS9; validity_mean = probability on valid options; "
         "manipulation_diff_expected = primed minus baseline on the primed value (scale points); simbench_score = "
         "SimBench score of the answer distributions (100 = human shares, 0 = uniform; docs/analysis.md section 10), "
         "simbench_normalised = 0 at the best naive baseline, 1 at a perfect simulator of the run's size; "
         "dispersion_ratio = SD of simulated / human answers (geometric mean over items).", ""]
    if spec.get("design", "grid") != "grid":  # one setting per design point: the response section below
        return "\n".join(L[:3] + ["Per design point (mean over seeds): `summary.csv`."])
    if summary.empty:
        return "\n".join(L + ["No run finished."])
    metrics = [m for m in SUMMARY_METRICS if m in set(summary["metric"])]
    wide = []
    for key, g in summary.groupby(by, sort=False, dropna=False) if by else [((), summary)]:
        row = dict(zip(by, key if isinstance(key, tuple) else (key,)))
        for m in metrics:
            r = g[g["metric"] == m]
            if len(r):
                r = r.iloc[0]
                row[m] = (f"{r['mean']:.3f} [{r['low']:.3f}, {r['high']:.3f}]" if np.isfinite(r["low"])
                          else f"{r['mean']:.3f}")
        row["seeds"] = int(g["n_seeds"].max())
        wide.append(row)
    L += table_lines(pd.DataFrame(wide), digits=None, missing="")  # settings as given; a metric a run lacks: blank
    L += ["![summary](summary.png)", "", "Tidy results: `results.csv` (one row per run x metric); per setting: "
          "`summary.csv`; run folders: `runs/`."]
    return "\n".join(L)


def summary_figure(summary: pd.DataFrame, by: list[str], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = [m for m in SUMMARY_METRICS if m in set(summary["metric"])]
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.6 * len(metrics), 3.4), squeeze=False)
    x_key = by[0] if by else None
    line_key = by[1] if len(by) > 1 else None
    for ax, m in zip(axes[0], metrics):
        s = summary[summary["metric"] == m]
        groups = s.groupby(line_key, sort=False) if line_key else [(None, s)]
        xs = list(dict.fromkeys(s[x_key])) if x_key else [0]
        for j, (lab, g) in enumerate(groups):
            if x_key:
                g = g.groupby(x_key, sort=False).first().reindex(xs)
            pos = np.arange(len(xs)) + (j - 0.5) * 0.12
            err = np.vstack([g["mean"] - g["low"], g["high"] - g["mean"]])
            ax.errorbar(pos, g["mean"], yerr=np.nan_to_num(err), fmt="o-", capsize=3, label=str(lab) if lab else None)
        ax.set_xticks(range(len(xs)), [str(x) for x in xs], rotation=30, fontsize=8)
        ax.set_title(m, fontsize=9)
        if line_key:
            ax.legend(fontsize=7, title=line_key, title_fontsize=7)
    fig.suptitle("Mean over seeds with 95% CI", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
