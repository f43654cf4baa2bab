"""Bad input, tried systematically through the command line: population CSVs, options, scenario files,
key and template files, study TOMLs, damaged caches and run folders.

Each must give one line `popsim: error: ...` naming the input and the fix, exit status 2, no traceback;
and nothing already stored may be lost (the shared cache keeps its rows, a damaged run folder keeps its
files).
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pandas as pd
import pytest

from popsim.cli import main

from cli_run import run_cli

pytestmark = [pytest.mark.reliability, pytest.mark.bad_input]

CODES = "SD ST HE AC PO SE CO TR BE UN".split()
HDR = ",".join(CODES)
ROW = ",".join(["0.1"] * 10)
ROW9 = ",".join(["0.1"] * 9)


def assert_one_line_error(code, err, *patterns):
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2, err
    assert "Traceback" not in err and len(lines) == 1, err
    assert lines[0].startswith("popsim: error:"), lines[0]
    for p in patterns:
        assert p in lines[0], lines[0]


def rows(cache: Path) -> tuple[int, str]:
    with closing(sqlite3.connect(cache)) as c:
        n = c.execute("SELECT COUNT(*) FROM answers").fetchone()[0]
        digest = hashlib.sha256(repr(c.execute("SELECT key, answer FROM answers ORDER BY key").fetchall()).encode())
        return n, digest.hexdigest()


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """A cache with answers in it and a finished run folder (the scripted double: this is about input, not models)."""
    d = tmp_path_factory.mktemp("stored")
    code = main(["run", "ess21", "--agents", "4", "--backend", "scripted", "--seed", "1", "--cache", str(d / "c.sqlite"),
                 "--out", str(d / "run"), "--no-progress"])
    assert code == 0
    import gc

    gc.collect()  # the CLI's cache connection: closed, so the file is complete on its own
    with closing(sqlite3.connect(d / "c.sqlite")) as c:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return d


def params(cases, name=lambda c: c[0]):
    """Plain tuples become pytest.param with an id; pytest.param entries (with marks) pass through."""
    return [c if hasattr(c, "marks") else pytest.param(*c, id=name(c)) for c in cases]


def write(tmp_path, name, data, encoding="utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
    return p



# (id, file contents or None for 'the path is a folder', encoding, expected fragments)
PROFILES = [
    ("missing column", ",".join(CODES[:-1]) + "\n" + ROW9 + "\n", "utf-8", ["lacks columns UN", "all 10 centered"]),
    ("unknown column", HDR + ",POW\n" + ROW + ",1\n", "utf-8", ["unknown column 'POW'", "allowed: SD"]),
    ("empty cell", HDR + "\n" + ROW9 + ",\n", "utf-8", ["column UN row 1 is missing or not a number"]),
    ("nan", HDR + "\n" + ROW9 + ",nan\n", "utf-8", ["column UN row 1 is missing or not a number"]),
    ("inf", HDR + "\n" + ROW9 + ",inf\n", "utf-8", ["column UN row 1 = inf is out of range", "[-5, 5]"]),
    ("out of range", HDR + "\n" + ROW9 + ",7.5\n", "utf-8", ["column UN row 1 = 7.5 is out of range"]),
    ("not a number", HDR + "\n" + ROW9 + ",high\n", "utf-8", ["column UN row 1 is missing or not a number ('high')"]),
    ("unknown value code", HDR + ",prime\n" + ROW + ",POW\n", "utf-8",
     ["column prime row 1", "unknown value code 'POW'", "did you mean 'PO'"]),
    ("bad gender", HDR + ",gender\n" + ROW + ",x\n", "utf-8", ["gender 'x' is not male or female"]),
    ("empty file", "", "utf-8", ["is not a readable CSV", "fix the file"]),
    ("header only", HDR + "\n", "utf-8", ["has no rows", "one row per agent"]),
    ("latin-1", HDR + ",gender\n" + ROW + ",mäle\n", "latin-1", ["is not UTF-8 text", "save it as UTF-8"]),
    ("utf-16", HDR + "\n" + ROW + "\n", "utf-16", ["is not UTF-8 text"]),
    ("semicolons", HDR.replace(",", ";") + "\n" + ROW.replace(",", ";") + "\n", "utf-8", ["unknown column"]),
    ("a folder", None, "", ["does not exist", "pass a CSV"]),
    ("binary", bytes(range(256)) * 8, "", ["is not UTF-8 text"]),
    ("NUL bytes", HDR + "\n" + ROW.replace("0.1", "0\x001") + "\n", "utf-8", ["column SD row 1 is missing or not a number"]),
    ("ragged rows", HDR + "\n" + ROW + ",1,2\n" + ROW + ",1,2\n", "utf-8", ["row 1 has 12 fields, the header has 10"]),
    ("a message spanning lines", HDR + ",gender\n" + ROW + ',"ma\nle"\n', "utf-8", ["gender 'ma\\nle'"]),
]


@pytest.mark.parametrize("name,data,encoding,fragments",
                         params(PROFILES))
def test_bad_population_csv(name, data, encoding, fragments, stored, tmp_path, capsys):
    path = tmp_path if data is None else write(tmp_path, "profiles.csv", data, encoding or "utf-8")
    before = rows(stored / "c.sqlite")
    code, _, err = run_cli(["run", "ess21", "--strategy", "custom", "--profiles", path, "--backend", "scripted",
                        "--cache", stored / "c.sqlite", "--out", tmp_path / "o", "--no-progress"], capsys)
    assert_one_line_error(code, err, *fragments)
    if data is not None:
        assert str(path) in err  # the message names the file
    assert rows(stored / "c.sqlite") == before


OPTIONS = [
    (["--scenario-option", "colour=red"], ["scenario 'ess21' does not take these options", "colour"]),
    (["--scenario-option", 'items=["xx"]'], ["unknown item 'xx'"]),
    (["--rounds", "3"], ["does not take these options", "rounds"]),
    (["--network", "small_world", "--network-option", "q=1"], ["network 'small_world' takes no option 'q'", "k, p"]),
    (["--network-option", "k"], ["expected KEY=VALUE"]),
    (["--variant", "9"], ["template variants 0..2, got 9"]),
    (["--strategy", "h_np", "--no-dominant-share", "1.5"], ["--no-dominant-share must be a number in [0, 1), got 1.5"]),
    (["--agents", "abc"], ["--agents must be a whole number of at least 1, got abc"]),
    (["--seed", "abc"], ["--seed"]),
    (["--strategy", "model_specific", "--accuracy-from", "{tmp}/nope"], ["run folder", "does not exist"]),
    (["--strategy", "custom"], ["needs profiles", "--profiles"]),
    (["--backend", "openai", "--base-url", "http://127.0.0.1:9/v1", "--model", "m", "--api", "responses"],
     ["unknown API 'responses'"]),
    (["--backend", "openai", "--base-url", "http://127.0.0.1:9/v1", "--model", "m", "--api-key-file", "{tmp}/key.txt"],
     ["API key file", "does not exist"]),
    (["--policy", "reference", "--scenario-option", "instrument=pvq40"], ["reference policy has no human data"]),
    (["--ray-address", "127.0.0.1:9"], ["--ray-address needs --ray-workers N"]),
    (["--ray-workers", "0"], ["--ray-workers must be a whole number of at least 1, got 0"]),
    (["--ray-workers", "1", "--ray-address", "127.0.0.1:9"], ["cannot reach the Ray cluster at 127.0.0.1:9",
                                                             "check --ray-address"]),
    (["--network", "small_world", "--network-option", "k=abc"], ["network option k='abc'", "a whole number"]),
    (["--network", "small_world", "--network-option", "k=2.5"], ["network option k=2.5", "a whole number"]),
    (["--network", "small_world", "--network-option", "p=lots"], ["network option p='lots'", "a number"]),
]


@pytest.mark.parametrize("extra,fragments", params(OPTIONS, lambda c: " ".join(c[0])[:40]))
def test_bad_options(extra, fragments, stored, tmp_path, capsys):
    before = rows(stored / "c.sqlite")
    extra = [str(a).replace("{tmp}", str(tmp_path)) for a in extra]
    code, _, err = run_cli(["run", "ess21", "--agents", "3", "--backend", "scripted", "--cache", stored / "c.sqlite",
                        "--out", tmp_path / "o", "--no-progress", *extra], capsys)
    assert_one_line_error(code, err, *fragments)
    assert rows(stored / "c.sqlite") == before


def test_key_and_template_files(tmp_path, capsys):
    base = ["run", "ess21", "--agents", "2", "--backend", "openai", "--base-url", "http://127.0.0.1:9/v1", "--model",
            "m", "--out", tmp_path / "o", "--no-progress"]
    for data, fragment in ((b"sk-\xe9\xe9", "is not UTF-8 text"), (b"", "it is empty"),
                           (b"sk-one sk-two\n", "several words")):
        key = write(tmp_path, "key.txt", data)
        code, _, err = run_cli(base + ["--api-key-file", key], capsys)
        assert_one_line_error(code, err, f"API key file {key}", fragment)
    code, _, err = run_cli(base + ["--api", "completions", "--chat-template", tmp_path / "nope.jinja"], capsys)
    assert_one_line_error(code, err, "neither a built-in (chatml) nor a file")


def test_non_utf8_chat_template(tmp_path, capsys):
    tpl = write(tmp_path, "t.jinja", "{{ 'é' }}", "latin-1")
    code, _, err = run_cli(["run", "ess21", "--backend", "openai", "--base-url", "http://127.0.0.1:9/v1", "--model", "m",
                        "--api", "completions", "--chat-template", tpl, "--out", tmp_path / "o"], capsys)
    assert_one_line_error(code, err, str(tpl), "UTF-8")


SCENARIO_OK_HEAD = "from popsim.scenario import Scenario\nclass S(Scenario):\n    name = 's'\n"
SCENARIOS = [
    ("syntax error", "def (:\n", "utf-8", ["has a syntax error at line 1"]),
    ("raises on import", "raise RuntimeError('boom at import')\n", "utf-8", ["raised RuntimeError when loaded: boom"]),
    ("latin-1", "# é\nx = 'é'\n", "latin-1", ["line 2"]),
    ("no Scenario class", "x = 1\n", "utf-8", ["no Scenario subclass defined in it", "TEMPLATE.py"]),
    ("raises in __init__", SCENARIO_OK_HEAD + "    def __init__(self):\n        raise RuntimeError('boom')\n",
     "utf-8", ["S() raised RuntimeError: boom"]),
    ("raises in questions", SCENARIO_OK_HEAD + "    def questions(self, model, r):\n        return 1 / 0\n",
     "utf-8", ["questions() raised ZeroDivisionError"]),
    ("questions returns None", SCENARIO_OK_HEAD + "    def questions(self, model, r):\n        return None\n",
     "utf-8", ["questions() must return a list of popsim.policy.Question, got NoneType"]),
    ("raises in apply", SCENARIO_OK_HEAD + "    def questions(self, model, r):\n        return []\n"
     "    def apply(self, model, r, answers):\n        raise KeyError('payoff')\n", "utf-8",
     ["apply() raised KeyError"]),
]


@pytest.mark.parametrize("name,text,encoding,fragments",
                         params(SCENARIOS))
def test_bad_scenario_file(name, text, encoding, fragments, stored, tmp_path, capsys):
    path = write(tmp_path, "my_scenario.py", text, encoding)
    before = rows(stored / "c.sqlite")
    code, _, err = run_cli(["run", path, "--agents", "2", "--backend", "scripted", "--cache", stored / "c.sqlite",
                        "--out", tmp_path / "o", "--no-progress"], capsys)
    assert_one_line_error(code, err, *fragments)
    assert str(path) in err
    assert rows(stored / "c.sqlite") == before


def _edit_sqlite(sql):
    def edit(path):
        with closing(sqlite3.connect(path)) as c:
            c.execute(sql)
            c.commit()
    return edit


CACHES = [
    ("garbage", lambda p: p.write_bytes(b"garbage" * 1000), ["not a readable popsim cache", "left as it is"]),
    ("truncated", lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]), ["not a readable popsim cache"]),
    ("header only", lambda p: p.write_bytes(b"SQLite format 3\x00 and then nothing"), ["not a readable popsim cache"]),
    ("another program's", lambda p: (p.unlink(), _edit_sqlite("CREATE TABLE t (x)")(p)), ["another program"]),
    ("newer schema", _edit_sqlite("UPDATE popsim_meta SET value='99'"), ["has schema 99, this popsim reads 1"]),
    ("no schema row", _edit_sqlite("DELETE FROM popsim_meta"), ["has schema ?"]),
    ("a folder", None, ["is a folder"]),
    ("schema not a number", _edit_sqlite("UPDATE popsim_meta SET value='abc'"), ["has schema abc"]),
]


@pytest.mark.parametrize("name,damage,fragments",
                         params(CACHES))
def test_damaged_cache_is_refused_and_left_as_it_is(name, damage, fragments, stored, tmp_path, capsys):
    cache = tmp_path / "c.sqlite"
    if damage is None:
        cache.mkdir()
    else:
        shutil.copy(stored / "c.sqlite", cache)
        damage(cache)
    before = cache.read_bytes() if cache.is_file() else None
    code, _, err = run_cli(["run", "ess21", "--agents", "4", "--backend", "scripted", "--seed", "1", "--cache", cache,
                        "--out", tmp_path / "o", "--no-progress"], capsys)
    assert_one_line_error(code, err, str(cache), *fragments)
    if before is not None:
        assert cache.read_bytes() == before  # refused, not "repaired"


def test_damaged_rows_in_a_cache_are_asked_again(stored, tmp_path, capsys):
    cache = tmp_path / "c.sqlite"
    shutil.copy(stored / "c.sqlite", cache)
    n, _ = rows(cache)
    _edit_sqlite("UPDATE answers SET answer='{not json' WHERE rowid IN (SELECT rowid FROM answers LIMIT 5)")(cache)
    code, out, err = run_cli(["run", "ess21", "--agents", "4", "--backend", "scripted", "--seed", "1", "--cache", cache,
                          "--out", tmp_path / "o", "--no-progress"], capsys)
    assert code == 0 and "Traceback" not in err, err
    assert "model calls: 5," in out  # the five damaged answers, asked again
    assert rows(cache) == rows(stored / "c.sqlite") and rows(cache)[0] == n  # and written back as they were


def _rewrite(name, data):
    return lambda d: (d / name).write_bytes(data)


RUN_DAMAGE = [
    ("no config.json", lambda d: (d / "config.json").unlink(), ["not a complete run folder (missing config.json)"]),
    ("no agents.parquet", lambda d: (d / "agents.parquet").unlink(), ["missing agents.parquet"]),
    ("config truncated", lambda d: (d / "config.json").write_text((d / "config.json").read_text()[:60]),
     ["config.json is damaged", "rerun the command"]),
    ("config not UTF-8", _rewrite("config.json", b'{"x": "\xe9"}'), ["config.json is damaged"]),
    ("answers truncated", lambda d: (d / "answers.parquet").write_bytes((d / "answers.parquet").read_bytes()[:100]),
     ["answers.parquet is damaged", "cached answers make that fast"]),
    ("answers empty", _rewrite("answers.parquet", b""), ["answers.parquet is damaged"]),
    ("scores garbage", _rewrite("scores.parquet", b"garbage"), ["scores.parquet is damaged"]),
    ("config {}", _rewrite("config.json", b"{}"), ["config.json is damaged", "not a popsim run record"]),
    ("config a list", _rewrite("config.json", b"[1, 2]"), ["config.json is damaged", "not a popsim run record"]),
    ("answers without columns", lambda d: pd.DataFrame({"x": [1]}).to_parquet(d / "answers.parquet"),
     ["answers.parquet is damaged (no column agent, round, item, answer)"]),
    ("figures is a file", lambda d: (shutil.rmtree(d / "figures"), (d / "figures").write_text("x")),
     ["figures is a file", "move it away"]),
]


@pytest.mark.parametrize("name,damage,fragments",
                         params(RUN_DAMAGE))
def test_report_and_compare_on_a_damaged_run_folder(name, damage, fragments, stored, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(stored / "run", run)
    damage(run)
    kept = {p.relative_to(run): p.read_bytes() for p in run.rglob("*") if p.is_file()}
    code, _, err = run_cli(["report", run], capsys)
    assert_one_line_error(code, err, str(run), *fragments)
    assert {p.relative_to(run): p.read_bytes() for p in run.rglob("*") if p.is_file()} == kept  # nothing deleted
    if name != "figures is a file":  # (compare draws no figures)
        code, _, err = run_cli(["compare", stored / "run", run, "--out", tmp_path / "cmp.md"], capsys)
        assert_one_line_error(code, err, str(run))


STUDY_OK = 'scenario = "ess21"\n[fixed]\nn_agents = 2\nbackend = "scripted"\n[grid]\nseed = [1]\n'
STUDIES = [
    ("not TOML", STUDY_OK + "[grid\n", "utf-8", ["is not valid TOML"]),
    ("binary", "\x00\x01", "utf-8", ["is not valid TOML"]),
    ("latin-1", "# é\n" + STUDY_OK, "latin-1", ["is not UTF-8 text"]),
    ("unknown key", "colour = 1\n" + STUDY_OK, "utf-8", ["'colour'", "choose one of"]),
    ("unknown setting", STUDY_OK.replace("n_agents = 2", "n_agents = 2\nagents = 3"), "utf-8",
     ["unknown setting in [fixed]", "'agents' (did you mean 'n_agents'?)"]),
    ("grid value not a list", STUDY_OK.replace("seed = [1]", "seed = 1"), "utf-8", ["[grid] seed must be a non-empty list"]),
    ("fixed and in grid", STUDY_OK.replace("seed = [1]", "seed = [1]\nn_agents = [2]"), "utf-8",
     ["n_agents is both fixed and in the grid"]),
    ("agents not a number", STUDY_OK.replace("n_agents = 2", 'n_agents = "ten"'), "utf-8",
     ["n_agents = 'ten': --agents must be a whole number of at least 1, got ten"]),
    ("unknown strategy", STUDY_OK.replace("[grid]", '[grid]\nstrategy = ["h_nq"]'), "utf-8", ["unknown strategy 'h_nq'"]),
    ("fixed not a table", "fixed = [1]\n", "utf-8", ["[fixed] must be a table of settings"]),
    ("unknown backend option", STUDY_OK.replace('"scripted"', '"openai"')
     + '[backend_options]\nbas_url = "http://127.0.0.1:9/v1"\nmodel = "m"\n', "utf-8",
     ["[backend_options]", "bas_url", "did you mean 'base_url'"]),
]


@pytest.mark.parametrize("name,text,encoding,fragments",
                         params(STUDIES))
def test_bad_study_toml(name, text, encoding, fragments, tmp_path, capsys):
    study = write(tmp_path, "study.toml", text, encoding)
    code, _, err = run_cli(["sweep", study, "--workers", "1", "--no-progress", "--out", tmp_path / "o"], capsys)
    assert_one_line_error(code, err, *fragments)
    assert not (tmp_path / "o" / "runs").exists()  # nothing ran


def test_unknown_backend_options_are_refused_by_name():
    from popsim.backends import make_backend
    from popsim.errors import PopsimError

    with pytest.raises(PopsimError, match="unknown openai backend option 'bas_url' \\(did you mean 'base_url'\\?\\)"):
        make_backend("openai", bas_url="http://127.0.0.1:9/v1", model="m")


def test_a_population_too_large_for_memory(tmp_path, capsys):
    code, _, err = run_cli(["run", "ess21", "--policy", "reference", "--agents", "1000000000", "--out", tmp_path / "o",
                        "--no-progress"], capsys)
    assert_one_line_error(code, err, "--agents 1,000,000,000 needs about", "GiB of memory", "use at most about")
