"""The command line: bad input gives one line and exit status 2; reruns are identical and free."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from popsim.cli import main

from fault_server import FaultServer


def run_cli(argv, capsys):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse errors
        code = exc.code
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def assert_one_line_error(code, err, pattern):
    assert code == 2, err
    lines = [l for l in err.splitlines() if l.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("popsim: error:") and "Traceback" not in err
    assert pattern in lines[0], lines[0]


BAD = [
    (["run", "ess22", "--out", "{tmp}/o"], "unknown scenario 'ess22' (did you mean 'ess21'?)"),
    (["run", "ess21", "--strategy", "h_nq", "--out", "{tmp}/o"], "unknown strategy 'h_nq'"),
    (["run", "ess21", "--style", "valueprompt", "--out", "{tmp}/o"], "unknown prompt style 'valueprompt'"),
    (["run", "ess21", "--backend", "gpt", "--out", "{tmp}/o"], "unknown backend 'gpt'"),
    (["run", "ess21", "--population", "XX_ESS9", "--out", "{tmp}/o"], "unknown population 'XX_ESS9'"),
    (["prompts", "show", "value_prompt", "--prime", "POW"], "unknown value code 'POW'"),
    (["run", "ess21", "--agents", "0", "--out", "{tmp}/o"], "must be a whole number of at least 1, got"),
    (["run", "ess21", "--agents", "-3", "--out", "{tmp}/o"], "must be a whole number of at least 1, got"),
    (["run", "ess21", "--temperature", "2.5", "--out", "{tmp}/o"], "--temperature must be a number between 0 and 2, got 2.5"),
    (["run", "ess21", "--backend", "openai", "--base-url", "http://127.0.0.1:9/v1", "--model", "m",
      "--out", "{tmp}/o"], "cannot reach an OpenAI-compatible server"),
    (["run", "ess21", "--backend", "openai", "--base-url", "localhost:8000", "--model", "m", "--out", "{tmp}/o"],
     "is not an http(s) URL"),
    (["run", "ess21", "--cache", "{tmp}/missing/dir/c.sqlite", "--backend", "scripted", "--out", "{tmp}/o"],
     "folder of the cache file"),
    (["run", "ess21", "--option-order", "upside", "--backend", "scripted", "--out", "{tmp}/o"], "unknown option order"),
    (["run", "ess21", "--network", "ring", "--backend", "scripted", "--out", "{tmp}/o"], "unknown network 'ring'"),
    (["report", "{tmp}/no-such-run"], "does not exist"),
]


@pytest.mark.parametrize("argv,pattern", BAD, ids=[b[1][:30] for b in BAD])
def test_bad_input_is_one_line_and_exit_2(argv, pattern, tmp_path, capsys):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    code, out, err = run_cli(argv, capsys)
    assert_one_line_error(code, err, pattern)


def test_unknown_model_on_a_real_server(tmp_path, capsys):
    with FaultServer(model="hash") as srv:
        code, _, err = run_cli(["run", "ess21", "--backend", "openai", "--base-url", srv.base_url, "--model", "nope",
                                "--out", str(tmp_path / "o")], capsys)
    assert_one_line_error(code, err, "model 'nope' is not served")


def test_corrupt_cache_is_refused_and_kept(tmp_path, capsys):
    cache = tmp_path / "c.sqlite"
    cache.write_bytes(b"garbage" * 1000)
    code, _, err = run_cli(["run", "ess21", "--backend", "scripted", "--cache", str(cache), "--out",
                            str(tmp_path / "o")], capsys)
    assert_one_line_error(code, err, "not a readable popsim cache")
    assert cache.read_bytes() == b"garbage" * 1000


def test_out_folder_holding_another_run(tmp_path, capsys):
    out, cache = str(tmp_path / "o"), str(tmp_path / "c.sqlite")
    base = ["run", "ess21", "--agents", "3", "--backend", "scripted", "--cache", cache, "--out", out, "--no-progress"]
    assert run_cli(base + ["--seed", "1"], capsys)[0] == 0
    rows = __import__("popsim.cache", fromlist=["Cache"]).Cache(cache).count()
    code, _, err = run_cli(base + ["--seed", "2"], capsys)
    assert_one_line_error(code, err, "holds another run (seed: 1 -> 2)")
    assert __import__("popsim.cache", fromlist=["Cache"]).Cache(cache).count() == rows  # nothing lost
    assert run_cli(base + ["--seed", "2", "--overwrite"], capsys)[0] == 0


def test_same_command_twice_identical_answers_and_zero_calls(tmp_path, capsys):
    """The real embedded model: the second run asks nothing and writes the same answers."""
    cache = str(tmp_path / "c.sqlite")
    argv = ["run", "ess21", "--agents", "3", "--strategy", "h_np", "--backend", "embedded", "--seed", "7", "--cache",
            cache, "--no-progress"]
    code, out1, err = run_cli(argv + ["--out", str(tmp_path / "a")], capsys)
    assert code == 0, err
    code, out2, err = run_cli(argv + ["--out", str(tmp_path / "b")], capsys)
    assert code == 0, err
    assert "model calls: 0," in out2 and "model calls: 0," not in out1
    a = pd.read_parquet(tmp_path / "a" / "answers.parquet")
    b = pd.read_parquet(tmp_path / "b" / "answers.parquet")
    pd.testing.assert_frame_equal(a, b)
    assert (tmp_path / "a" / "report.md").exists()
    cfg = json.loads((tmp_path / "b" / "config.json").read_text())
    assert cfg["engine"]["calls"] == 0 and cfg["engine"]["hits"] == cfg["engine"]["unique"] > 0
    assert cfg["backend"]["model"] == "SmolLM2-135M-Instruct.Q4_1"


def test_prompts_show_prints_the_exact_text(capsys):
    code, out, _ = run_cli(["prompts", "show", "value_prompt"], capsys)
    assert code == 0
    assert "Imagine that you are a person who greatly values power. You value social status and prestige, " \
           "control or dominance over people and resources." in out
    code, out, _ = run_cli(["prompts", "list"], capsys)
    assert code == 0 and "name_only" in out and "profile" in out


def test_entry_point_has_no_traceback(tmp_path):
    exe = Path(sys.executable).parent / "popsim"
    res = subprocess.run([str(exe), "run", "ess21", "--agents", "0", "--out", str(tmp_path / "o")],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "Traceback" not in res.stderr and res.stderr.count("\n") == 1
    res = subprocess.run([str(exe), "run", "--help"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and "--strategy" in res.stdout


def test_api_key_is_never_written(tmp_path, capsys, monkeypatch):
    key = "sk-popsim-test-4f1d9c2b7e"
    monkeypatch.setenv("OPENAI_API_KEY", key)
    with FaultServer(model="hash") as srv:
        code, out, err = run_cli(["run", "ess21", "--agents", "3", "--backend", "openai", "--base-url", srv.base_url,
                                  "--model", "test-model", "--cache", str(tmp_path / "c.sqlite"), "--out",
                                  str(tmp_path / "o"), "--no-progress"], capsys)
    assert code == 0, err
    assert key not in out + err
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(written) > 5
    for p in written:
        assert key.encode() not in p.read_bytes(), p
