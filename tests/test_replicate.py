"""`popsim replicate` at a tiny scale (scripted double: tests the plan, the analysis and the report;
the real model's numbers are in the README and the closing notes)."""

import json
import shutil

import pandas as pd
import pytest

from popsim.cli import main
from popsim.analysis import circle_test
from popsim.studies.replicate import SCALES, count_plan, replicate
from popsim.values import CODES10, circular_distance


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("rep")
    cache = root / "cache.sqlite"
    report = replicate(out=root / "r", scale="tiny", backend="scripted", cache_path=cache, progress=False)
    return root / "r", cache, report


def test_report_answers_each_question(tiny):
    root, _, report = tiny
    text = report.read_text()
    for heading in ("## RQ1", "## RQ2", "## RQ3", "## Robustness", "## Side by side with the paper"):
        assert heading in text
    assert "second-hand" in text and "0.83" in text  # the paper's H-NP figure, labelled
    res = json.loads((root / "replicate.json").read_text())
    strategies = {r["strategy"] for r in res["rq3"]}
    assert strategies == {"uniform", "h_norm", "h_even", "h_np", "empirical", "model_specific"}
    assert {r["policy"] for r in res["rq3"]} == {"llm", "reference"}
    assert set(res["robustness"]) == {"base", "descending", "random", "male", "female", "variant1", "variant2"}
    assert res["rq1"]["value_prompt"]["circle_p"] is not None and "circle_q" in res["rq1"]["value_prompt"]
    # the reference twins are the human-like ceiling: their structure agreement beats the random double's
    ref = [r for r in res["rq3"] if r["policy"] == "reference" and r["metric"] == "structure_r"]
    llm = [r for r in res["rq3"] if r["policy"] == "llm" and r["metric"] == "structure_r"]
    assert min(r["mean"] for r in ref) > max(r["mean"] for r in llm)


def test_rerun_makes_no_model_calls_and_report_rebuilds_from_folder(tiny, capsys):
    root, cache, _ = tiny
    shutil.rmtree(root / "runs" / "rq2-values")  # a lost run folder is rebuilt from the cache alone
    replicate(out=root, scale="tiny", backend="scripted", cache_path=cache, progress=False)
    cfg = json.loads((root / "runs" / "rq2-values" / "config.json").read_text())
    assert cfg["engine"]["calls"] == 0 and cfg["engine"]["hits"] > 0
    before = (root / "report.md").read_text()
    (root / "report.md").unlink()
    assert main(["report", str(root)]) == 0
    after = (root / "report.md").read_text()
    assert after.split("## RQ1")[1] == before.split("## RQ1")[1]


def test_overwrite_redoes_every_run_from_the_cache(tiny, capsys):
    root, cache, _ = tiny
    stamps = {p.name: (p / "config.json").stat().st_mtime_ns for p in (root / "runs").iterdir()}
    assert main(["replicate", "--scale", "tiny", "--backend", "scripted", "--out", str(root), "--cache", str(cache),
                 "--overwrite", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "model calls: 0," in out  # every answer from the cache
    assert all((root / "runs" / n / "config.json").stat().st_mtime_ns > t for n, t in stamps.items())  # all redone
    eng = json.loads((root / "replicate.json").read_text())["engine"]
    assert eng["calls"] == 0 and eng["hits"] > 0 and eng["asks"] >= eng["hits"]


def test_circle_test_on_a_perfect_circumplex():
    S = [[1 - circular_distance(a, b) / 5 for b in CODES10] for a in CODES10]
    res = circle_test(__import__("numpy").array(S), n_perm=999)
    assert res["circle_rho"] == pytest.approx(-1.0) and res["circle_p"] < 0.01


def test_dry_run_counts_calls_before_and_after_dedup():
    t = count_plan("tiny")
    assert (t["distinct"] <= t["asks"]).all() and t["distinct_new"].sum() < t["asks"].sum()
    rq3 = t[t["run"].str.startswith("rq3-uniform")]
    # later seeds reuse the same 10 personas: mostly cache hits (only new prime x gender pairs are new)
    assert rq3["distinct_new"].iloc[1:].sum() < rq3["distinct_new"].iloc[0]
    ms = t[t["run"].str.startswith("rq3-model_specific")]
    assert ms["distinct_new"].sum() == 0
    assert set(SCALES) == {"tiny", "small", "paper"}
