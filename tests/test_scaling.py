"""Scaling out does not change results: the same seed gives the same answers whatever the HTTP concurrency
and however many servers share the work (least load); every server gets a share of it.

Two instances of the suite's own OpenAI-compatible server (tests/fault_server.py, deterministic answers
from the prompt, no faults) on 127.0.0.1. (Batching on the embedded model: test_embedded_batching.py; the
Ray executor: test_sweep.py.)
"""

from __future__ import annotations

import pandas as pd

from popsim.backends import make_backend
from popsim.cache import Cache
from popsim.engine import Engine
from popsim.runs import execute

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
