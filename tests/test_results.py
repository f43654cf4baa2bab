"""Studies over transforms and designs, end to end on the reference twins (no LLM): the results table with every
outcome, slopes, indices and figures (studies/results.py, studies/outcomes.py), resuming an interrupted study,
and the study file's bad inputs."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from popsim import datasets
from popsim.errors import PopsimError
from popsim.studies.designs import n_points
from popsim.studies.outcomes import run_outcomes
from popsim.studies.sweep import load_study, points, run_sweep

from cli_run import run_cli

UN_SD = float(datasets.value_stats("DE_ESS9").set_index("value").loc["UN", "centered_sd"])
ROOT = Path(__file__).resolve().parent.parent


def test_morris_study_of_two_shifts(tmp_path):
    """Morris over shift.UN and shift.SE on [-1, 1] (2 trajectories, 6 points): every run's outcomes in tidy
    CSV and Parquet, mu* per outcome, response curves and a heat map. Shifting UN moves the measured UN mean by
    about its human SD per unit, so the elementary effect over the full range (2 SDs) is about 2 x 0.62."""
    study = {"name": "m", "scenario": "ess_attitudes", "design": "morris", "samples": 2, "design_seed": 3,
             "ranges": {"shift.UN": [-1.0, 1.0], "shift.SE": [-1.0, 1.0]}, "fixed": {"n_agents": 100, "policy": "reference"}}
    spec = load_study(study)
    pts = points(spec)
    assert len(pts) == n_points("morris", 2, 2) == 6
    assert all(set(p["transforms"]) == {"shift.UN", "shift.SE"} and "design_point" in p for p in pts)
    summary = run_sweep(study, out=tmp_path / "m", workers=1, progress=False)
    out = tmp_path / "m"
    csv, pq = pd.read_csv(out / "results.csv"), pd.read_parquet(out / "results.parquet")
    assert len(csv) == len(pq) and list(csv.columns) == list(pq.columns)
    assert {"shift.UN", "shift.SE", "design_point", "metric", "value"} <= set(csv.columns)
    metrics = set(csv["metric"])
    assert {"value_mean.UN", "item_mean.imueclt", "r.UN.imueclt", "twins.value_mean.UN", "twins.structure_r",
            "structure_r", "behaviour_js"} <= metrics
    idx = pd.read_csv(out / "indices.csv").set_index(["metric", "parameter", "index"])["value"]
    assert idx[("value_mean.UN", "shift.UN", "mu_star")] == pytest.approx(2 * UN_SD, rel=0.2)
    assert idx[("value_mean.UN", "shift.SE", "mu_star")] < 0.25 * idx[("value_mean.UN", "shift.UN", "mu_star")]
    assert (out / "responses.png").stat().st_size > 10_000 and (out / "heatmap.png").stat().st_size > 5_000
    text = summary.read_text()
    assert "Morris mu*" in text and "![responses](responses.png)" in text and "value_mean.UN" in text


def test_grid_study_with_groups_side_by_side(tmp_path):
    """A grid over shift.UN with two populations as groups: slopes per group; the transform is a column."""
    study = {"name": "g", "scenario": "ess21", "fixed": {"n_agents": 80, "policy": "reference"},
             "grid": {"shift.UN": [-1.0, 1.0], "population": ["DE_ESS9", "SE_ESS1-8"], "seed": [1, 2]},
             "outcomes": ["value_mean.UN", "value_mean.BE"]}
    run_sweep(study, out=tmp_path / "g", workers=1, progress=False)
    slopes = pd.read_csv(tmp_path / "g" / "slopes.csv")
    un = slopes[(slopes["metric"] == "value_mean.UN")].set_index("group")
    assert set(un.index) == {"population=DE_ESS9", "population=SE_ESS1-8"}
    assert un.loc["population=DE_ESS9", "low"] < UN_SD * 1.1 and un.loc["population=DE_ESS9", "high"] > UN_SD * 0.9
    summ = pd.read_csv(tmp_path / "g" / "summary.csv")
    assert {"shift.UN", "population", "metric", "mean", "low", "high"} <= set(summ.columns)
    assert "population=SE_ESS1-8" in (tmp_path / "g" / "summary.md").read_text()


def test_outcomes_of_a_run_include_the_scenario_s_own(tmp_path):
    """A public goods game on the scripted double declares its outcomes (model reporters): outcome.<name>."""
    from popsim.reporting.runs import execute

    execute(tmp_path / "r", scenario="public_goods", backend="scripted", n_agents=8, rng=1, figures=False,
            progress=False, scenario_options={"rounds": 2}, transforms={"shift.BE": 0.5})
    out = run_outcomes(tmp_path / "r")
    assert {"outcome.mean_share", "outcome.r_UN", "game_mean_share", "r.UN.contribution",
            "twins.value_mean.BE"} <= set(out)
    assert out["outcome.mean_share"] == pytest.approx(pd.read_parquet(tmp_path / "r" / "outcomes.parquet")
                                                     ["mean_share"].iloc[-1])


def test_an_interrupted_study_resumes_without_redoing_finished_points(tmp_path):
    """popsim sweep stopped by Ctrl-C (SIGINT) after some runs finished: the rerun reuses each finished run
    (its files untouched) and runs only the rest."""
    study = tmp_path / "s.toml"
    study.write_text('name = "s"\nscenario = "ess21"\n[fixed]\nn_agents = 40\npolicy = "reference"\n'
                     '[grid]\n"shift.UN" = [-1.0, 0.0, 1.0]\nseed = [1, 2]\n', encoding="utf-8")
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "popsim.cli", "sweep", str(study), "--out", str(out), "--workers", "1",
                             "--no-progress"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.time() + 240
    while len(list(out.glob("runs/*/metrics.json"))) < 2:
        assert proc.poll() is None and time.time() < deadline, proc.stderr.read().decode()[-2000:] if proc.stderr else ""
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)
    proc.wait(timeout=60)
    finished = {p.parent.name: p.stat().st_mtime_ns for p in out.glob("runs/*/metrics.json")}
    assert 2 <= len(finished) < 6
    run_sweep(study, out=out, workers=1, progress=False)
    status = pd.read_csv(out / "status.csv").set_index("id")["status"]
    assert len(status) == 6 and set(status[list(finished)]) == {"reused"}
    assert (status == "done").sum() == 6 - len(finished)
    assert {k: (out / "runs" / k / "metrics.json").stat().st_mtime_ns for k in finished} == finished


@pytest.mark.parametrize("change, msg", [
    ({"design": "latin"}, r"unknown design 'latin'"),
    ({"design": "sobol"}, r"design = \"sobol\" needs \[ranges\]"),
    ({"design": "sobol", "ranges": {"shift.UN": [-1, 1]}}, r"need samples = N"),
    ({"design": "sobol", "ranges": {"shift.UN": [-1, 1]}, "samples": 12}, r"must be a power of 2"),
    ({"design": "morris", "ranges": {"shift.UN": [-1, 1]}, "samples": 1}, r"too few for a morris design"),
    ({"design": "lhs", "ranges": {"shift.UN": [1, -1]}, "samples": 4}, r"shift.UN = \[1, -1\] is reversed"),
    ({"design": "lhs", "ranges": {"shift.UN": [0, 0]}, "samples": 4}, r"is empty"),
    ({"grid": {"shfit.UN": [0, 1]}}, r"unknown setting in \[grid\] .*'shfit.UN'"),
    ({"grid": {"shift.XX": [0, 1]}}, r"unknown value code 'XX'"),
    ({"grid": {"shift.UN": [0, 4]}}, r"shift.UN = 4 is outside -3..3"),
    ({"fixed": {"n_agents": 5, "policy": "reference", "spread": 3.0}}, r"at spread = 3: .*cannot show that spread"),
    ({"fixed": {"n_agents": 5, "policy": "reference", "strategy": "custom"}, "grid": {"shift.UN": [1.0]}},
     r"custom strategy"),
    ({"fixed": {"n_agents": 5, "policy": "llm", "prompt_style": "none"}, "grid": {"coupling": [0.5]}},
     r"style 'none' states no values"),
    ({"design": "lhs", "ranges": {"shift.UN": [-1, 1]}, "samples": 4, "grid": {"shift.UN": [0.5]}},
     r"both in \[ranges\] and in \[fixed\] or \[grid\]"),
    ({"fixed": {"n_agents": 5, "policy": "reference", "mix.DE_ESS9": 0.5, "mix.SE_ESS1-8": 0.4}},
     r"sum to 0.9"),
    ({"scenario": "ess_attitudes", "fixed": {"n_agents": 5, "policy": "reference", "mix.DE_ESS9": 0.5,
                                             "mix.SE_ESS1-8": 0.5}}, r"not every sample of the mixture"),
])
def test_bad_study_designs_are_one_line_errors_before_anything_runs(tmp_path, change, msg):
    study = {"name": "bad", "scenario": "ess21", "fixed": {"n_agents": 5, "policy": "reference"}, **change}
    with pytest.raises(PopsimError, match=msg) as exc:
        load_study(study)
    assert "\n" not in str(exc.value)


def test_a_bad_study_file_exits_2_from_the_command_line(tmp_path, capsys):
    f = tmp_path / "s.toml"
    f.write_text('design = "sobol"\nsamples = 16\n[ranges]\n"shift.UN" = [1.5, -1]\n', encoding="utf-8")
    code, out, err = run_cli(["sweep", f, "--out", tmp_path / "o"], capsys)
    assert code == 2 and err.startswith("popsim: error: ") and "reversed" in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()
