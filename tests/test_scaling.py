"""Scaling out does not change results: the same seed gives the same answers whatever the HTTP concurrency,
however many servers share the work (least load; every server gets a share of it), however many prompts go in
one request (`batch_prompts`) and whichever executor runs a sweep's runs.

Two instances of the suite's own OpenAI-compatible server (tests/fault_server.py, deterministic answers
from the prompt, no faults) on 127.0.0.1; and the embedded model on two Ray actors of a local Ray instance.
(Batching on the embedded model: test_embedded_batching.py; sweeps on Ray: test_sweep.py.)
"""

from __future__ import annotations

import json
import time

import pandas as pd
import pytest

from popsim.asks import Ask, Message
from popsim.backends import make_backend
from popsim.cache import Cache
from popsim.engine import Engine
from popsim.reporting.runs import execute

from fault_server import FaultServer


def run(tmp_path, name, urls, concurrency):
    be = make_backend("openai", base_url=",".join(urls), model="test-model", api="chat", concurrency=concurrency,
                      timeout=10.0)
    execute(tmp_path / name, scenario="ess21", engine=Engine(be, Cache(tmp_path / f"{name}.sqlite")), n_agents=30,
            prompt_style="profile", rng=4, progress=False, report=False)
    return pd.read_parquet(tmp_path / name / "answers.parquet")


def test_same_answers_whatever_the_concurrency_and_number_of_servers(tmp_path):
    with FaultServer(model="hash") as one:
        serial = run(tmp_path, "serial", [one.base_url], concurrency=1)
        assert one.counts["requests"] == 30 * 21  # one request per distinct ask (30 profiles x 21 items)
    with FaultServer(model="hash") as a, FaultServer(model="hash") as b:
        spread = run(tmp_path, "spread", [a.base_url, b.base_url], concurrency=8)
        got = (a.counts["requests"], b.counts["requests"])
    assert sum(got) == 30 * 21 and min(got) >= 0.25 * sum(got), got  # both servers worked, nothing asked twice
    pd.testing.assert_frame_equal(serial, spread)
    assert serial["answer"].notna().all() and (serial["method"] == "logprobs").all()


def test_one_population_on_ray_workers_gives_the_local_answers(tmp_path):
    """One population's model calls spread over 2 Ray actors, each running the embedded model in its own process:
    the same answers as the local embedded backend, every ask answered once, both actors used."""
    pytest.importorskip("ray")
    kw = dict(scenario="ess21", scenario_options={"items": ["imprich", "ipeqopt", "impsafe", "ipshabt"]}, n_agents=8,
              prompt_style="profile", rng=5, progress=False, report=False)
    execute(tmp_path / "local", backend="embedded", cache_path=tmp_path / "local.sqlite", **kw)
    pool = make_backend("embedded", ray_workers=2)
    try:
        execute(tmp_path / "ray", engine=Engine(pool, Cache(tmp_path / "ray.sqlite")), **kw)
        assert pool.workers == 2 and min(pool.load) >= 8 and sum(pool.load) == 8 * 4, pool.load
        record = json.loads((tmp_path / "ray" / "config.json").read_text())["backend"]
        assert record["ray"]["workers"] == 2 and record["backend"] == "embedded"
        # answers are handed over as they arrive on the actors, not when the whole share is done (the engine
        # stores them at once: a run killed mid-chunk keeps them)
        fresh = [Ask(messages=(Message("system", f"You are person {p}."), Message("user", f"Do you like {w}? Answer "
                                                                                           "Yes or No.")),
                     options=("Yes", "No")) for p in range(2) for w in ("tea", "art", "dogs", "rain", "maps", "jazz")]
        seen = []
        dists = pool.option_distributions(fresh, on_answer=lambda i, d: seen.append((time.monotonic(), i, d)))
        end = time.monotonic()
        assert sorted(i for _, i, _ in seen) == list(range(len(fresh))) and all(dists[i] == d for _, i, d in seen)
        assert min(t for t, _, _ in seen) < end - 0.3, [round(end - t, 2) for t, _, _ in seen]
    finally:
        pool.close()
    local = pd.read_parquet(tmp_path / "local" / "answers.parquet")
    spread = pd.read_parquet(tmp_path / "ray" / "answers.parquet")
    pd.testing.assert_frame_equal(local, spread)
    assert (local["validity"] > 0.5).all()


def run_completions(tmp_path, name, urls, concurrency, batch):
    be = make_backend("openai", base_url=",".join(urls), model="test-model", api="completions",
                      concurrency=concurrency, timeout=10.0, batch_prompts=batch)
    execute(tmp_path / name, scenario="ess21", engine=Engine(be, Cache(tmp_path / f"{name}.sqlite")), n_agents=20,
            prompt_style="profile", rng=6, progress=False, report=False)
    return pd.read_parquet(tmp_path / name / "answers.parquet"), be


def test_same_answers_whatever_the_prompt_batching(tmp_path):
    """One prompt per request, lists of 16 over two servers at concurrency 8, and "auto": the same answers."""
    with FaultServer() as one:
        serial, _ = run_completions(tmp_path, "serial", [one.base_url], 1, 1)
    with FaultServer() as a, FaultServer() as b:
        lists, be = run_completions(tmp_path, "lists", [a.base_url, b.base_url], 8, 16)
        got = (a.counts["list requests"], b.counts["list requests"])
    assert be.describe()["batch_prompts"]["state"] == "on" and min(got) > 0, got
    with FaultServer() as c:
        auto, be = run_completions(tmp_path, "auto", [c.base_url], 4, "auto")
    assert be.describe()["batch_prompts"]["size"] == 32
    pd.testing.assert_frame_equal(serial, lists)
    pd.testing.assert_frame_equal(serial, auto)
    assert serial["answer"].notna().all() and (serial["method"] == "logprobs").all()


@pytest.mark.slow
def test_same_answers_whatever_the_sweep_executor_with_prompt_lists(tmp_path):
    """A sweep whose runs send lists of prompts, on local processes and on Ray: the answers of one prompt per
    request, run by run."""
    pytest.importorskip("ray")
    from popsim.studies.sweep import run_sweep

    with FaultServer() as srv:
        study = {"name": "lists", "scenario": "ess21", "scenario_options": {"items": ["imprich", "ipeqopt", "impsafe"]},
                 "fixed": {"n_agents": 6, "backend": "openai", "prompt_style": "profile"}, "grid": {"seed": [1, 2]},
                 "backend_options": {"base_url": srv.base_url, "model": "test-model", "api": "completions"}}
        run_sweep(study, out=tmp_path / "one", workers=2, progress=False, cache=tmp_path / "one.sqlite")
        lists = {**study, "backend_options": {**study["backend_options"], "batch_prompts": 8}}
        run_sweep(lists, out=tmp_path / "p", workers=2, progress=False, cache=tmp_path / "p.sqlite")
        run_sweep(lists, out=tmp_path / "r", workers=2, executor="ray", progress=False, cache=tmp_path / "r.sqlite")
        assert srv.counts["list requests"] > 0
    runs = sorted(p.name for p in (tmp_path / "one" / "runs").iterdir())
    assert len(runs) == 2
    for name in runs:
        want = pd.read_parquet(tmp_path / "one" / "runs" / name / "answers.parquet")
        for other in ("p", "r"):
            pd.testing.assert_frame_equal(want, pd.read_parquet(tmp_path / other / "runs" / name / "answers.parquet"))
