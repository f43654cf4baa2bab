"""Run folders: execute a run and write everything it depends on (reading one back: `run_folder.py`).

A run folder holds:
- `config.json`: every resolved setting, the backend and model, package versions, git revision,
  engine statistics (never an API key);
- `agents.parquet`: agent, gender, prime, top, mrat, the 10 centered values of the agent's profile;
- `responses.parquet`: the synthetic human twin's answers (what the reference policy gives);
- `answers.parquet`: agent x item x round: sampled answer, expected answer, option distribution in
  scale order, option order shown, validity mass, prompt hash, method, error;
- `scores.parquet`: agent, basis (sampled / expected), value, raw, centered, mrat;
- `outcomes.parquet`: per-round outcomes of the scenario (Mesa DataCollector model reporters);
- `metrics.json`, `report.md`, `figures/*.png` (see `report.py`).
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import PopsimError, RunInterrupted
from ..instruments import load_instrument, score
from .run_folder import RUN_FILES, Run, load_run  # noqa: F401  (re-exported: popsim.reporting.runs.load_run)

#: settings that define what a run is (a folder holding a run with other values is another run)
IDENTITY = ("scenario", "n_agents", "population", "strategy", "prompt_style", "policy", "temperature",
            "option_order", "template_variant", "network", "seed", "backend", "model", "scenario_options",
            "network_options", "no_dominant_share", "country", "female_share", "transforms")


def versions() -> dict:
    out = {"python": platform.python_version()}
    for pkg in ("popsim", "mesa", "numpy", "pandas", "scipy", "llama_cpp_python", "openai", "networkx"):
        try:
            out[pkg] = metadata.version(pkg.replace("_", "-"))
        except metadata.PackageNotFoundError:
            pass
    return out


def git_revision() -> str | None:
    here = Path(__file__).resolve().parent.parent
    try:
        rev = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=5)
        if rev.returncode == 0:
            dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
                                   capture_output=True, text=True, timeout=5).stdout.strip()
            return rev.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        pass
    return None


def prepare_out(out: Path, identity: dict, *, overwrite: bool = False) -> None:
    """Create `out`, or accept it when it holds the same run (a rerun); refuse another run's folder."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise PopsimError(f"--out {out} is a file; pass a folder path")
    cfg = out / "config.json"
    if cfg.exists() and not overwrite:
        try:
            old = json.loads(cfg.read_text(encoding="utf-8")).get("identity", {})
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise PopsimError(f"--out {out} holds a damaged config.json; pass a new --out (or --overwrite to "
                              "replace that run)") from None
        if old != identity:
            diff = [k for k in sorted(set(old) | set(identity)) if old.get(k) != identity.get(k)]
            shown = ", ".join(f"{k}: {old.get(k)!r} -> {identity.get(k)!r}" for k in diff[:3])
            raise PopsimError(f"--out {out} holds another run ({shown}); pass a new --out, or --overwrite to "
                              "replace it")
    elif out.exists() and any(out.iterdir()) and not cfg.exists() and not overwrite:
        raise PopsimError(f"--out {out} is a non-empty folder that holds no popsim run; pass a new or empty folder")
    out.mkdir(parents=True, exist_ok=True)


def run_identity(model, scenario_options: dict | None = None, network_options: dict | None = None) -> dict:
    """What defines a run (a folder holding a run with other values holds another run)."""
    desc = model.backend_record()
    identity = {**{k: v for k, v in model.settings.items() if k in IDENTITY}, "scenario": model.scenario.name,
                "backend": desc.get("backend"), "model": desc.get("model"),
                "scenario_options": scenario_options or {}, "network_options": network_options or {},
                "country": model.country}
    if not identity.get("transforms"):  # untransformed runs keep the identity they always had
        identity.pop("transforms", None)
    return json.loads(json.dumps(identity, default=str))


def recorded_command(argv: list[str]) -> str:
    """The command line as written to the run record: URLs without user:password@ and query (keys travel there)."""
    import shlex

    def clean(arg: str) -> str:
        if "://" not in arg:
            return arg
        from ..backends.http import public_url

        head, sep, url = arg.rpartition("=") if arg.startswith("--") and "=" in arg.split("://")[0] else ("", "", arg)
        return head + sep + ",".join(public_url(u) for u in url.split(","))

    return shlex.join(clean(str(a)) for a in argv)


def run_record(model, started: float, *, identity: dict, refresh: bool = False, command: str | None = None,
               price_per_mtok: tuple[float, float] | None = None) -> dict:
    """The config.json of a run: every resolved setting, backend, engine statistics, the tokens the server reported
    (`usage`) and their cost at `price_per_mtok`, versions, git revision (never an API key: backends describe
    themselves without secrets)."""

    backend = model.backend_record()
    usage = backend.get("usage") if isinstance(backend, dict) else None
    return json.loads(json.dumps({
        "identity": identity,
        "settings": model.settings,
        "scenario": model.scenario.describe(),
        "population": model.population.record,
        "backend": backend,
        "cache": str(model.engine.cache.path) if model.engine and model.engine.cache.path else None,
        "refresh": refresh,
        "engine": model.engine.stats.as_dict() if model.engine else {},
        "usage": usage,
        "cost": run_cost(usage, price_per_mtok),
        "prompt_style": model.settings["prompt_style"],
        "versions": versions(),
        "git": git_revision(),
        "command": command,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
        "seconds": round(time.time() - started, 2),
    }, default=str))


def run_cost(usage: dict | None, price: tuple[float, float] | None) -> dict | None:
    """The run record's cost: the tokens the server reported (`usage`) at the price per million tokens."""
    if not price:
        return None
    out: dict = {"price_per_mtok": {"prompt": price[0], "completion": price[1]}}
    if not usage:
        return {**out, "usd": None, "note": "the backend reported no token usage (a local model costs no tokens)"}
    usd = (usage.get("prompt_tokens", 0) * price[0] + usage.get("completion_tokens", 0) * price[1]) / 1e6
    return {**out, "prompt_tokens": usage.get("prompt_tokens", 0),
            "completion_tokens": usage.get("completion_tokens", 0), "usd": round(usd, 6)}


@dataclass
class RunResult:
    path: Path
    config: dict
    metrics: dict = field(default_factory=dict)

    @property
    def report(self) -> Path:
        return self.path / "report.md"


def execute(out: str | Path, *, scenario: str = "ess21", backend: str = "embedded",
            backend_options: dict | None = None, cache_path: Any = None, refresh: bool = False,
            overwrite: bool = False, progress: bool = True, report: bool = True, figures: bool = True,
            engine: Any = None, price_per_mtok: tuple[float, float] | None = None,
            ppi_labelled: int | None = None, **model_kwargs) -> RunResult:
    """Run a scenario on a population and write the run folder. Returns the folder and its metrics.
    `ppi_labelled`: the report's prediction-powered inference labels this many respondents (`build_report`)."""
    from ..model import PopulationModel

    out = Path(out)
    started = time.time()
    model = PopulationModel(scenario=scenario, backend=backend, backend_options=backend_options,
                            cache_path=cache_path, refresh=refresh, progress=progress, engine=engine, **model_kwargs)
    identity = run_identity(model, model_kwargs.get("scenario_options"), model_kwargs.get("network_options"))
    prepare_out(out, identity, overwrite=overwrite)
    try:
        model.run()
    except KeyboardInterrupt:
        stats = model.engine.stats.line() if model.engine else ""
        raise RunInterrupted(f"interrupted; every answer received so far is in the cache ({stats}). Rerun the same "
                             "command to resume without asking those questions again") from None
    command = recorded_command(sys.argv) if sys.argv and sys.argv[0].endswith("popsim") else None
    config = run_record(model, started, identity=identity, refresh=refresh, command=command,
                        price_per_mtok=price_per_mtok)
    write_tables(out, model)
    (out / "config.json").write_text(json.dumps(config, indent=2, default=str), encoding="utf-8")
    result = RunResult(out, config)
    if report:
        from .report import build_report

        result.metrics = build_report(out, figures=figures, ppi_labelled=ppi_labelled)
    return result


def write_tables(out: Path, model) -> None:
    agents = model.agents_frame()
    agents.to_parquet(out / "agents.parquet", index=False)
    model.population.responses.to_parquet(out / "responses.parquet", index=False)
    answers = model.answers_frame()
    answers.to_parquet(out / "answers.parquet", index=False)
    outcomes = model.datacollector.get_model_vars_dataframe()
    outcomes.to_parquet(out / "outcomes.parquet", index=False)
    choices = model.datacollector.get_table_dataframe("choices")
    if len(choices):
        choices.to_parquet(out / "choices.parquet", index=False)
    if model.scenario.instrument:
        inst = load_instrument(model.scenario.instrument)
        if set(inst.item_ids) <= set(answers["item"]):  # Schwartz scoring needs the whole instrument
            score_answers(answers, model.scenario.instrument).to_parquet(out / "scores.parquet", index=False)


def score_answers(answers: pd.DataFrame, instrument: str) -> pd.DataFrame:
    """Long scores table from an answers table: agent, basis, value, raw, centered, mrat."""
    inst = load_instrument(instrument)
    items = answers[answers["item"].isin(inst.item_ids)]
    frames = []
    for basis, col in (("sampled", "answer"), ("expected", "expected")):
        wide = items.pivot_table(index="agent", columns="item", values=col, aggfunc="first")
        wide = wide.reindex(columns=list(inst.item_ids))
        sc = score(wide, inst)
        long = sc.to_long().rename(columns={"respondent": "agent"})
        long.insert(1, "basis", basis)
        frames.append(long)
    out = pd.concat(frames, ignore_index=True)
    out["agent"] = out["agent"].astype(int)
    return out
