"""Fault injection: the OpenAI-compatible backend against the suite's own failing HTTP server on 127.0.0.1.

Real sockets, the real openai client, no patching: the server answers 429 with Retry-After, 500/503,
drops connections, answers too late, truncates JSON, leaves out logprobs or gives no valid option.
A population run survives a 30% fault rate without losing an answer; retries back off exponentially
with jitter and wait at least Retry-After; a dead server stops the run after a bounded number of
requests; a server refusing logprobs is sampled instead.
"""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pandas as pd
import pytest

from popsim.asks import Ask, Message
from popsim.backends import make_backend
from popsim.cache import Cache
from popsim.engine import Engine
from popsim.errors import BackendUnavailable, PopsimError
from popsim.reporting.runs import execute

from fault_server import FAULT_KINDS, FaultServer, ask_key

pytestmark = [pytest.mark.reliability, pytest.mark.faults]

FAST = dict(backoff=0.01, max_backoff=0.2)  # retry quickly: the waits are tested on their own below


def backend(srv, **kw):
    opts = dict(base_url=srv.base_url, model="test-model", api="chat", concurrency=8, timeout=5.0, **FAST)
    opts.update(kw)
    return make_backend("openai", **opts)


def small_asks(n, tag="q"):
    return [Ask(messages=(Message("system", f"persona {tag}"), Message("user", f"{tag} item {i}")),
                options=tuple("123456")) for i in range(n)]


def key_of(ask):
    return ask_key([(m.role, m.content) for m in ask.messages])


def lost_answers(answers: pd.DataFrame) -> int:
    """Rows that are neither answered (a scale point, no error) nor missing with a reason."""
    answered = answers["answer"].notna() & answers["error"].isna()
    missing = answers["answer"].isna() & answers["error"].fillna("").str.len().gt(0)
    return int((~(answered | missing)).sum())


@pytest.mark.slow
def test_200_agents_at_30_percent_faults_lose_no_answer(tmp_path, capsys):
    """200 agents x 21 ESS items, distinct personas (profile style): 4,200 asks, ~8,000 requests, 30% failing."""
    cache = tmp_path / "c.sqlite"
    with FaultServer(model="hash", fault_rate=0.3, seed=11, retry_after=0.05, timeout_delay=1.0) as srv:
        be = backend(srv, concurrency=32, timeout=0.5)
        eng = Engine(be, Cache(cache))
        t0 = time.time()
        res = execute(tmp_path / "run", scenario="ess21", engine=eng, n_agents=200, strategy="empirical",
                      prompt_style="profile", rng=3, progress=False, report=True)
        seconds = time.time() - t0
        faults = {k: srv.counts[k] for k in FAULT_KINDS}
        requests = srv.counts["requests"]
    answers = pd.read_parquet(tmp_path / "run" / "answers.parquet")
    stats = be.stats()
    missing = int(answers["error"].notna().sum())
    assert len(answers) == 4200 and answers["prompt_hash"].nunique() == 4200  # really 4,200 distinct asks
    assert lost_answers(answers) == 0
    assert missing <= 15, answers["error"].value_counts()  # each needs 7 failures in a row (0.3^7 per chain)
    # every fault kind was injected, at the rate asked for, and survived
    assert min(faults.values()) >= 150 and 0.27 < sum(faults.values()) / requests < 0.33
    # the client saw what the server did: errors by reason (resets and timeouts seen as such)
    fr = stats["failed_requests"]
    assert fr["HTTP 429"] == faults["429"] and fr["HTTP 500"] == faults["500"] and fr["HTTP 503"] == faults["503"]
    assert fr["malformed response"] == faults["truncated"]
    assert fr["connection error"] >= faults["reset"] and fr["timeout"] >= 0.9 * faults["timeout"]
    # the client may count a few more: requests that died on a connection the server had already dropped (seen
    # by the client as connection errors or timeouts beyond the injected ones, never logged by the server)
    unseen = (fr["connection error"] - faults["reset"]) + max(0, fr["timeout"] - faults["timeout"])
    assert 0 <= stats["requests"] - requests <= unseen
    # no logprobs in an answer: sampled instead (method recorded); no valid option: validity 0, not an error
    assert (answers["method"] == "sample").sum() >= 0.9 * stats["sampled_asks"]["no logprobs in the answer"] > 100
    assert (answers["validity"] == 0).sum() >= 0.5 * faults["no_option"]  # (on sampling requests it does nothing)
    # the cache holds exactly the answered asks; the run record counts the failed ones
    assert Cache(cache).count() == 4200 - missing
    cfg = json.loads((tmp_path / "run" / "config.json").read_text())
    assert cfg["engine"]["calls"] == 4200 and cfg["engine"]["failed"] == missing
    assert cfg["backend"]["faults"]["failed_requests"] == fr  # the run record shows the faults it survived
    assert (tmp_path / "run" / "report.md").exists()

    # the same run again on a healthy server asks only what failed, and completes every answer
    with FaultServer(model="hash") as srv2:
        eng2 = Engine(backend(srv2), Cache(cache))
        execute(tmp_path / "run", scenario="ess21", engine=eng2, n_agents=200, strategy="empirical",
                prompt_style="profile", rng=3, progress=False, report=False)
        assert srv2.counts["requests"] >= missing
    assert eng2.stats.calls == missing and eng2.stats.hits == 4200 - missing
    again = pd.read_parquet(tmp_path / "run" / "answers.parquet")
    assert again["error"].isna().all()
    same = answers["error"].isna()
    pd.testing.assert_frame_equal(again[same].drop(columns="error").reset_index(drop=True),
                                  answers[same].drop(columns="error").reset_index(drop=True))
    with capsys.disabled():
        print(f"\n[faults] {requests} requests, {sum(faults.values())} faults {faults}; retried {stats['retried']}; "
              f"sampled {stats['sampled_asks']}; missing after retries {missing} of 4200 (re-asked by the rerun: "
              f"{eng2.stats.calls}); lost 0; {seconds:.1f} s")


@pytest.mark.parametrize("header,value,at_least", [
    ("Retry-After", 0.4, 0.4),  # seconds (popsim accepts fractions, as the openai client does)
    ("retry-after-ms", 0.4, 0.4),  # milliseconds (OpenAI's own header)
    ("Retry-After-Date", 2.0, 1.0),  # an HTTP date (one-second resolution)
])
def test_retries_after_429_wait_at_least_retry_after(header, value, at_least):
    with FaultServer(fail_first=1, kinds=("429",), retry_after=value, retry_after_header=header) as srv:
        be = backend(srv, backoff=0.001, max_backoff=0.001)  # without Retry-After the retry would come at once
        asks = small_asks(6)
        out = be.option_distributions(asks)
        gaps = []
        for a in asks:
            log = srv.requests_for(key_of(a))
            assert [f for _, f in log] == ["429", None]
            gaps.append(log[1][0] - log[0][0])
    assert all(d.ok for d in out)
    assert min(gaps) >= at_least, gaps
    assert max(gaps) < value * 1.1 + 0.5, gaps  # honoured, not exceeded by much
    assert be.stats()["failed_requests"] == {"HTTP 429": 6}


def test_a_retry_after_beyond_the_limit_fails_the_ask_at_once():
    with FaultServer(fail_first=1, kinds=("429",), retry_after=600) as srv:
        be = backend(srv, max_retry_after=30)
        t0 = time.time()
        out = be.option_distributions(small_asks(3))
        assert time.time() - t0 < 5 and srv.counts["requests"] == 3
    assert all(not d.ok for d in out)
    assert "asked to retry after 600 s, more than max_retry_after=30 s" in out[0].error


def test_backoff_is_exponential_with_jitter_and_capped():
    base, n = 0.1, 10
    with FaultServer(fail_first=4, kinds=("500", "503", "reset")) as srv:
        be = backend(srv, concurrency=n, backoff=base, max_backoff=1.0)
        asks = small_asks(n)
        out = be.option_distributions(asks)
        gaps = np.array([np.diff([t for t, _ in srv.requests_for(key_of(a))]) for a in asks])
    assert all(d.ok for d in out) and gaps.shape == (n, 4)
    for k in range(4):  # wait before retry k+1: base * 2^k * U(0.5, 1)
        assert gaps[:, k].min() >= base * 2**k * 0.5 - 0.005, (k, gaps[:, k])
        assert gaps[:, k].max() <= base * 2**k + 0.15, (k, gaps[:, k])
    means = gaps.mean(axis=0)  # each gap also holds one request's round trip, so the ratios are a bit under 2
    assert all(1.4 < means[k + 1] / means[k] < 2.6 for k in range(3)), means
    assert gaps[:, 3].std() > 0.005  # jittered: the asks do not retry in lockstep
    st = be.stats()
    assert st["retried"] == 4 * n and sum(st["failed_requests"].values()) == 4 * n
    with FaultServer(fail_first=3, kinds=("503",)) as srv:  # the cap
        be = backend(srv, concurrency=4, backoff=0.5, max_backoff=0.05)
        a = small_asks(1)[0]
        assert be.option_distributions([a])[0].ok
        assert max(np.diff([t for t, _ in srv.requests_for(key_of(a))])) < 0.05 + 0.1


def test_a_down_server_stops_the_run_after_a_bounded_number_of_requests(tmp_path):
    budget, retries, conc = 10, 3, 8
    with FaultServer(down=True) as srv:
        be = backend(srv, concurrency=conc, max_retries=retries, error_budget=budget)
        t0 = time.time()
        with pytest.raises(PopsimError) as err:  # BackendUnavailable (or RunInterrupted, if runs.py wraps it)
            execute(tmp_path / "run", scenario="ess21", engine=Engine(be, Cache(tmp_path / "c.sqlite")),
                    n_agents=200, prompt_style="profile", rng=1, progress=False)
        seconds, seen = time.time() - t0, srv.counts["requests"]
    msg = str(err.value)
    assert f"the server at {srv.base_url} looks down: {budget} asks in a row failed" in msg
    assert "HTTP 503" in msg and "rerun the same command to resume" in msg
    # one wave of asks used its retries, then one try per ask until the budget was spent; 4,200 asks were due
    assert seen <= conc * (retries + 1) + budget + conc, seen
    assert seconds < 10
    assert Cache(tmp_path / "c.sqlite").count() == 0
    with pytest.raises(BackendUnavailable):  # a spent budget stays spent: no more requests
        be.option_distributions(small_asks(3))
    assert srv.counts["requests"] == seen
    print(f"\n[down] {seen} requests before stopping ({4200 * (retries + 1)} without a budget); {seconds:.2f} s")


def test_a_server_dying_mid_run_keeps_what_it_answered_and_a_rerun_completes_it(tmp_path):
    cache = tmp_path / "c.sqlite"
    kw = dict(scenario="ess21", n_agents=20, prompt_style="profile", rng=2, progress=False, report=False)
    with FaultServer(down_after=150) as srv:
        be = backend(srv, concurrency=4, max_retries=2, error_budget=6)
        with pytest.raises(PopsimError, match="looks down"):
            execute(tmp_path / "a", engine=Engine(be, Cache(cache)), **kw)
    kept = Cache(cache).count()
    assert kept == 150  # every answer the server gave was committed, also in the batch where it died
    with FaultServer() as srv:
        eng = Engine(backend(srv), Cache(cache))
        execute(tmp_path / "a", engine=eng, **kw)
        assert srv.counts["requests"] == 420 - kept
    assert eng.stats.hits == kept and eng.stats.calls == 420 - kept
    with FaultServer() as srv:  # the uninterrupted run gives the same answers
        execute(tmp_path / "b", engine=Engine(backend(srv), Cache(tmp_path / "fresh.sqlite")), **kw)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "a" / "answers.parquet"),
                                  pd.read_parquet(tmp_path / "b" / "answers.parquet"))


def test_a_server_refusing_logprobs_is_sampled_instead():
    with FaultServer(refuse_logprobs=True) as srv:
        be = backend(srv, concurrency=4, samples=5)
        out = be.option_distributions(small_asks(12))
        refused = srv.counts["400 logprobs"]
    assert all(d.ok and d.method == "sample" and d.n_samples == 5 for d in out)
    for d in out:
        counts = np.exp(d.logprobs) * 5
        assert np.allclose(counts, np.round(counts)) and round(counts.sum()) + d.n_invalid == 5
    assert 1 <= refused <= 4  # learnt once (at most once per request in flight), not once per ask
    st = be.stats()
    assert st["sampling_only"] and st["sampled_asks"]["logprobs refused by the server"] == 12
    assert st["failed_asks"] == 0


def test_completions_api_walks_options_through_faults():
    """The completions path (two requests per 1-6 item: the options and the options after a space) under faults."""
    asks = small_asks(60, tag="c")
    with FaultServer() as srv:
        clean = backend(srv, api="completions").option_distributions(asks)
        needed = srv.counts["requests"]
    with FaultServer(fault_rate=0.3, seed=4, kinds=("429", "500", "503", "reset", "truncated"),
                     retry_after=0.02) as srv:
        be = backend(srv, api="completions")
        faulty = be.option_distributions(asks)
        injected = srv.counts["requests"] - needed
    assert needed >= 2 * len(asks) and injected > 20 and injected == sum(be.stats()["failed_requests"].values())
    for a, b in zip(clean, faulty):  # retry-only faults change nothing in the answers
        assert b.ok and b.method == "logprobs" and a == b
        assert math.isclose(b.validity_mass, a.validity_mass)


def test_a_run_where_every_ask_fails_still_writes_a_complete_record(tmp_path):
    """Budget not reached (it is larger than the run): every ask is marked missing with its reason; the run
    folder, scores and report are still written, and nothing is cached."""
    with FaultServer(fault_rate=1.0, kinds=("500",)) as srv:
        be = backend(srv, max_retries=1, error_budget=10_000)
        execute(tmp_path / "run", scenario="ess21", engine=Engine(be, Cache(tmp_path / "c.sqlite")), n_agents=3,
                rng=1, progress=False)
    answers = pd.read_parquet(tmp_path / "run" / "answers.parquet")
    assert len(answers) == 63 and lost_answers(answers) == 0
    assert answers["error"].str.startswith("HTTP 500: gave up after").all()
    # once two asks had failed every retry, the rest were tried once each
    assert (answers["error"] == "HTTP 500: gave up after 1 attempt (the asks before failed too)").sum() > 40
    assert srv.counts["requests"] < 63 + 2 * 8
    assert Cache(tmp_path / "c.sqlite").count() == 0
    assert (tmp_path / "run" / "report.md").exists()
    assert json.loads((tmp_path / "run" / "config.json").read_text())["engine"]["failure_reasons"] == {"HTTP 500": 63}
