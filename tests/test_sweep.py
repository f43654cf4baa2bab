"""Sensitivity studies: grids, parallel runs, resume, CIs across seeds, Ray, bad study files."""

import json

import pandas as pd
import pytest

from popsim.errors import PopsimError
from popsim.studies.sweep import load_study, run_sweep

REF = {"name": "ref", "scenario": "ess_attitudes", "fixed": {"n_agents": 40, "policy": "reference"},
       "grid": {"strategy": ["uniform", "h_np", "empirical"], "prompt_style": ["value_prompt", "none"],
                "seed": [1, 2, 3]}}


def test_reference_sweep_runs_in_parallel_and_resumes(tmp_path):
    out = tmp_path / "ref"
    summary = run_sweep(REF, out=out, workers=2, progress=False)
    status = pd.read_csv(out / "status.csv")
    assert len(status) == 18 and (status["status"] == "done").all()
    res = pd.read_csv(out / "results.csv")
    assert {"run", "strategy", "prompt_style", "seed", "metric", "value"} <= set(res.columns)
    summ = pd.read_csv(out / "summary.csv")
    s = summ[(summ["metric"] == "structure_r") & (summ["strategy"] == "empirical")]
    assert (s["n_seeds"] == 3).all() and (s["low"] < s["mean"]).all() and (s["mean"] < s["high"]).all()
    text = summary.read_text()
    assert "structure_r" in text and "behaviour_js" in text and "[" in text  # means with CIs
    assert (out / "summary.png").stat().st_size > 5000
    # the reviewers' baseline: strategies side by side, style and sampling held constant
    table = summ[summ["metric"] == "structure_r"].pivot(index="strategy", columns="prompt_style", values="mean")
    assert set(table.index) == {"uniform", "h_np", "empirical"}
    run_sweep(REF, out=out, workers=2, progress=False)
    assert (pd.read_csv(out / "status.csv")["status"] == "reused").all()


@pytest.mark.slow
def test_embedded_sweep_strategy_by_style_by_seeds(tmp_path):
    """The real embedded model: strategy x prompt style x 2 seeds, a few items so it stays quick."""
    study = {"name": "emb", "scenario": "ess21", "scenario_options": {"items": ["imprich", "ipeqopt", "impsafe"]},
             "fixed": {"n_agents": 3, "backend": "embedded"},
             "grid": {"strategy": ["uniform", "h_np"], "prompt_style": ["value_prompt", "none"], "seed": [1, 2]}}
    out = tmp_path / "emb"
    run_sweep(study, out=out, workers=1, progress=False, cache=tmp_path / "c.sqlite")
    status = pd.read_csv(out / "status.csv")
    assert (status["status"] == "done").all(), status["error"].dropna().tolist()
    res = pd.read_csv(out / "results.csv")
    assert set(res["metric"]) >= {"validity_mean"} and res[res["metric"] == "validity_mean"]["value"].gt(0.5).all()
    cfg = json.loads(next((out / "runs").glob("*none*/config.json")).read_text())
    assert cfg["backend"]["model"] == "SmolLM2-135M-Instruct.Q4_1"


@pytest.mark.slow
def test_ray_executor_same_results_as_processes(tmp_path):
    pytest.importorskip("ray")
    small = {**REF, "grid": {"strategy": ["uniform", "h_np"], "seed": [1, 2]}}
    run_sweep(small, out=tmp_path / "p", workers=2, progress=False)
    run_sweep(small, out=tmp_path / "r", workers=2, executor="ray", progress=False)
    a = pd.read_csv(tmp_path / "p" / "results.csv").sort_values(["run", "metric"]).reset_index(drop=True)
    b = pd.read_csv(tmp_path / "r" / "results.csv").sort_values(["run", "metric"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize("text,msg", [
    ("name = 'x'\nscenaro = 'ess21'\n", "unknown key in"),
    ("[fixed]\nn_agent = 3\n", "unknown setting in [fixed]"),
    ("[grid]\nstrategy = 'uniform'\n", "must be a non-empty list"),
    ("[grid]\nstrategy = ['uniform', 'h_nq']\n", "unknown strategy 'h_nq'"),
    ("[fixed]\nn_agents = 0\n", "n_agents = 0: --agents must be a whole number of at least 1"),
    ("[fixed]\ntemperature = 3\n", "temperature = 3: --temperature must be a number between 0 and 2"),
    ("[fixed]\nfemale_share = 1.5\n", "--female-share must be a number between 0 and 1"),
    ("[fixed]\nbackend = 'gpt'\n", "unknown backend 'gpt'"),
    ("[fixed]\nstrategy = 'uniform'\n[grid]\nstrategy = ['h_np']\n", "both fixed and in the grid"),
    ("[fixed\nx = 1\n", "not valid TOML"),
    ("fixed = 3\n", "must be a table"),
])
def test_bad_study_files(tmp_path, text, msg):
    f = tmp_path / "study.toml"
    f.write_text(text)
    with pytest.raises(PopsimError, match=msg.replace("[", r"\[").replace("]", r"\]")):
        load_study(f)


def test_non_utf8_and_missing_study(tmp_path):
    f = tmp_path / "s.toml"
    f.write_bytes(b"name = '\xff\xfe'\n")
    with pytest.raises(PopsimError, match="not UTF-8"):
        load_study(f)
    with pytest.raises(PopsimError, match="does not exist"):
        load_study(tmp_path / "none.toml")
