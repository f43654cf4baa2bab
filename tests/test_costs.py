"""Cost before you run (`popsim run|sweep ... --dry-run`, `popsim/studies/costs.py`) and after (the tokens the server
reported and their cost in the run record): the dry run's counts are what the real run then asks."""

from __future__ import annotations

import json

import pytest

from popsim.reporting.record import Metrics

from cli_run import run_cli
from fault_server import FaultServer


def dry(argv, capsys) -> dict:
    code, out, err = run_cli([str(a) for a in argv], capsys)
    assert code == 0, err
    assert out.splitlines()[0] == "dry run: nothing was asked and nothing written"
    return {"out": out, "runs": [ln for ln in out.splitlines() if ": " in ln and " asks (" in ln]}


def test_a_dry_run_counts_what_the_run_then_asks(tmp_path, capsys):
    cache = tmp_path / "c.sqlite"
    base = ["run", "ess21", "--agents", 40, "--strategy", "h_np", "--backend", "scripted", "--seed", 2, "--cache",
            cache, "--out", tmp_path / "r"]
    d = dry(base + ["--dry-run", "--price-per-mtok", "0.5,2"], capsys)
    assert not cache.exists() and not (tmp_path / "r").exists()  # nothing written, not even the cache file
    line = d["runs"][0]
    assert line.startswith("run ess21: 840 asks (1 round), ") and ", 0 in the cache, " in line
    code, out, err = run_cli([str(a) for a in base + ["--no-progress"]], capsys)
    assert code == 0, err
    calls = json.loads((tmp_path / "r" / "config.json").read_text())["engine"]["calls"]
    assert f"{calls:,} distinct after dedupe" in line and f"{calls:,} to ask" in line
    assert "estimate: 4 characters per token (no model)" in d["out"] and "cost: $" in d["out"]
    again = dry(base + ["--dry-run"], capsys)["runs"][0]  # the cache holds every answer now
    assert f"{calls:,} in the cache, 0 to ask, 0 prompt tokens" in again


def test_a_dry_run_on_the_embedded_model_counts_with_its_tokenizer(tmp_path, capsys, embedded):
    d = dry(["run", "ess21", "--agents", 5, "--strategy", "h_np", "--scenario-option", 'items=["ipcrtiv","imprich"]',
             "--cache", tmp_path / "c.sqlite", "--out", tmp_path / "r", "--dry-run"], capsys)
    assert "prompt tokens counted with the model's tokenizer (SmolLM2-135M-Instruct.Q4_1)" in d["out"]
    assert "cost: pass --price-per-mtok" in d["out"]


def test_a_dry_run_asks_a_server_nothing_and_a_real_run_records_usage_and_cost(tmp_path, capsys):
    with FaultServer() as srv:
        common = ["run", "ess21", "--agents", 3, "--style", "profile", "--backend", "openai", "--base-url",
                  srv.base_url, "--model", "test-model", "--api", "completions", "--cache", tmp_path / "c.sqlite",
                  "--out", tmp_path / "r", "--price-per-mtok", "2,8"]
        d = dry(common + ["--dry-run"], capsys)
        assert srv.counts["requests"] == 0  # /models only (and /tokenize, which this server lacks)
        assert "estimate: 4 characters per token (the server has no tokenize endpoint)" in d["out"]
        code, out, err = run_cli([str(a) for a in common + ["--no-progress", "--batch-prompts", "auto"]], capsys)
        assert code == 0, err
    cfg = json.loads((tmp_path / "r" / "config.json").read_text())
    usage, cost = cfg["usage"], cfg["cost"]
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] >= 63
    assert cost["usd"] == pytest.approx((usage["prompt_tokens"] * 2 + usage["completion_tokens"] * 8) / 1e6)
    assert cfg["backend"]["batch_prompts"]["state"] == "on"
    run = Metrics.load(tmp_path / "r").run  # the typed record carries them
    assert run.usage == usage and run.cost == cost
    assert "tokens the server reported" in (tmp_path / "r" / "report.md").read_text()


def test_a_sweep_dry_run_counts_asks_shared_between_runs_once(tmp_path, capsys):
    study = tmp_path / "s.toml"
    study.write_text('name = "s"\nscenario = "ess21"\n[fixed]\nn_agents = 6\nbackend = "scripted"\n'
                     'strategy = "h_np"\n[grid]\nseed = [1, 2]\nprompt_style = ["value_prompt", "none"]\n')
    cache = tmp_path / "c.sqlite"
    d = dry(["sweep", study, "--dry-run", "--price-per-mtok", "1"], capsys)
    assert len(d["runs"]) == 4 and "asked by an earlier run" in d["out"]  # seed 2 shares the personas of seed 1
    total = next(ln for ln in d["out"].splitlines() if ln.startswith("total: "))
    code, _, err = run_cli(["sweep", str(study), "--out", str(tmp_path / "s"), "--workers", "1", "--no-progress"],
                           capsys)
    assert code == 0, err
    asked = sum(json.loads(p.read_text())["engine"]["calls"] for p in (tmp_path / "s" / "runs").glob("*/config.json"))
    assert f", {asked:,} to ask, " in total
    assert not cache.exists()


@pytest.mark.parametrize("argv,msg", [
    (["--price-per-mtok", "1,2,3"], "--price-per-mtok must be IN or IN,OUT"),
    (["--price-per-mtok", "-1"], "got '-1'"),
    (["--price-per-mtok", "cheap"], "got 'cheap'"),
    (["--price-per-mtok", "1,"], "got '1,'"),
    (["--batch-prompts", "lots"], "--batch-prompts must be a whole number from 1 to 2048 or auto, got 'lots'"),
    (["--batch-prompts", "0"], "got '0'"),
    (["--batch-prompts", "2.5"], "got '2.5'"),
    (["--backend", "openai", "--base-url", "http://127.0.0.1:9/v1", "--model", "m", "--batch-prompts", "8"],
     "batch_prompts needs api='completions'"),
])
def test_bad_cost_and_batching_values_are_one_line_errors(tmp_path, capsys, argv, msg):
    for cmd in (["run", "ess21", "--out", str(tmp_path / "r")], ["run", "ess21", "--out", str(tmp_path / "r"),
                                                                  "--dry-run"]):
        code, out, err = run_cli(cmd + argv, capsys)
        assert code == 2 and msg in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "r").exists()
    if argv[0] == "--price-per-mtok":
        code, _, err = run_cli(["sweep", "no-such-study.toml", "--dry-run"] + argv, capsys)
        assert code == 2 and msg in err
