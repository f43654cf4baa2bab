"""popsim.engine: deduplication, the cache before use, zero calls on a rerun, commits as answers arrive, plans;
and its durability: a process killed (SIGKILL, no cleanup) at a random point of a run has stored every
answer that it received more than about a second before the kill (`cache.COMMIT_INTERVAL` = 0.5 s), whatever the
backend: a real `popsim run` against the suite's HTTP server, and the real embedded model. The random kill point
is printed (and can be fixed with POPSIM_KILL_SEED) so a failure can be replayed.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from contextlib import closing
from pathlib import Path

import pytest

from popsim.backends.scripted import ScriptedBackend
from popsim.cache import Cache
from popsim.engine import Engine

from fault_server import FaultServer, ask_key
from sample_asks import asks

EXE = Path(sys.executable).parent / "popsim"
MARGIN = 1.0  # seconds: an answer received earlier than this before the kill must be in the cache



def test_dedupe_costs_personas_times_items_whatever_the_population():
    be = ScriptedBackend()
    eng = Engine(be, Cache(None))
    population = asks() * 50  # 50 agents per persona
    dists = eng.resolve(population)
    assert len(dists) == len(population)
    assert be.calls == 11 * 21 and eng.stats.calls == 231 and eng.stats.unique == 231
    assert dists[0] == dists[231]  # same ask, same answer


def test_second_run_calls_the_model_zero_times(tmp_path):
    path = tmp_path / "c.sqlite"
    be = ScriptedBackend()
    first = Engine(be, Cache(path)).resolve(asks(3, 5))
    be2 = ScriptedBackend()
    eng2 = Engine(be2, Cache(path))
    second = eng2.resolve(asks(3, 5))
    assert be2.calls == 0 and eng2.stats.hits == 15
    assert first == second
    eng3 = Engine(be2, Cache(path), refresh=True)
    eng3.resolve(asks(3, 5))
    assert be2.calls == 15


def test_answers_are_committed_within_a_second_of_arriving(tmp_path):
    """A backend that reports each answer as it comes (`on_answer`): every answer is in the file (committed,
    seen by another connection) at most about a second later, long before its chunk ends (what makes a run
    killed mid-chunk resumable); the file holds them all when `resolve` returns."""
    path = tmp_path / "c.sqlite"
    late = []

    class Slow(ScriptedBackend):
        chunk_size = 1000  # one chunk: only the time bound can commit anything before the end

        def option_distributions(self, batch, *, on_answer=None):
            out, times = [], []
            for i, a in enumerate(batch):
                time.sleep(0.04)
                out.append(super().option_distributions([a])[0])
                on_answer(i, out[-1])
                times.append(time.monotonic())
                stored = sqlite3.connect(path).execute("SELECT COUNT(*) FROM answers").fetchone()[0]
                due = sum(t < times[-1] - 1.0 for t in times)  # answered more than a second ago
                if stored < due:
                    late.append((i, stored, due))
            return out

    eng = Engine(Slow(), Cache(path))
    eng.resolve(asks(3, 30))
    assert not late, late[:5]
    assert Cache(path).count() == 90 and eng.stats.calls == 90


def test_answers_are_committed_chunk_by_chunk(tmp_path):
    """A backend without `on_answer`: a chunk's answers are in the file before the next chunk is asked."""
    path = tmp_path / "c.sqlite"
    seen = []

    class Watching(ScriptedBackend):
        chunk_size = 4

        def option_distributions(self, batch):
            seen.append(sqlite3.connect(path).execute("SELECT COUNT(*) FROM answers").fetchone()[0])
            return super().option_distributions(batch)

    Engine(Watching(), Cache(path)).resolve(asks(1, 12))
    assert seen == [0, 4, 8]


def test_failed_asks_are_not_cached(tmp_path):
    path = tmp_path / "c.sqlite"
    be = ScriptedBackend(fail=lambda a: "HTTP 503: down" if "item 0" in a.messages[-1].content else None)
    eng = Engine(be, Cache(path))
    out = eng.resolve(asks(2, 3))
    assert sum(not d.ok for d in out) == 2 and eng.stats.failed == 2
    assert eng.stats.reasons == {"HTTP 503": 2}
    assert Cache(path).count() == 4


def test_a_plan_counts_distinct_asks_cache_hits_and_tokens_without_asking(tmp_path):
    path = tmp_path / "c.sqlite"
    population = asks(4, 5) * 10  # 10 agents per persona: 200 asks, 20 distinct
    Engine(ScriptedBackend(), Cache(path)).resolve(asks(4, 5)[:8])  # 8 of them answered before
    be = ScriptedBackend()
    plan = Engine(be, Cache(path)).plan(population)
    assert (plan.asks, plan.distinct, plan.cached, plan.to_ask) == (200, 20, 8, 12) and be.calls == 0
    assert plan.prompt_tokens == 12 * 4 and plan.tokens_how.startswith("estimate: 4 characters per token")
    assert plan.cost(2.0, 8.0) == pytest.approx((48 * 2.0 + 12 * 8.0) / 1e6)  # one completion token per call
    assert plan.cost(1.0) == pytest.approx(60 / 1e6)
    assert Engine(be, Cache(path), refresh=True).plan(population).to_ask == 20


def kill_rng() -> tuple[int, random.Random]:
    seed = int(os.environ.get("POPSIM_KILL_SEED", random.SystemRandom().randrange(10**6)))
    return seed, random.Random(seed)


def cached_asks(cache: Path) -> list[dict]:
    with closing(sqlite3.connect(cache)) as c:
        return [json.loads(a) for (a,) in c.execute("SELECT ask FROM answers")]


@pytest.mark.slow
def test_sigkill_of_an_http_run_keeps_every_answer_older_than_a_second(tmp_path):
    seed, rng = kill_rng()
    cache = tmp_path / "c.sqlite"
    with FaultServer(model="hash", latency=0.02) as srv:
        cmd = [str(EXE), "run", "ess21", "--agents", "60", "--style", "profile", "--seed", "8", "--backend", "openai",
               "--api", "chat", "--base-url", srv.base_url, "--model", "test-model", "--concurrency", "4",
               "--cache", str(cache), "--out", str(tmp_path / "run"), "--no-progress"]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while not srv.sent:  # the run is under way once the first answer went out
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(rng.uniform(1.3, 3.5))  # (an answer older than MARGIN must exist)
        assert proc.poll() is None, "the run ended before the kill: slow the server down"
        proc.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        proc.communicate(timeout=30)
        with srv.lock:
            sent = list(srv.sent)
    assert proc.returncode == -signal.SIGKILL
    stored = {ask_key(a["m"]) for a in cached_asks(cache)}
    due = {key for t, key in sent if t < killed - MARGIN}
    answered = {key for _, key in sent}
    lost = due - stored
    print(f"\n[kill seed {seed}] {len(answered)} answers sent, {len(due)} more than {MARGIN} s before the kill, "
          f"{len(stored)} in the cache, {len(lost)} of the due ones lost")
    assert due, "killed too early to test anything"
    assert not lost
    assert stored <= answered  # nothing stored that the server did not answer


_CHILD = """
import hashlib, sys, time
from popsim.backends.embedded import EmbeddedBackend
from popsim.cache import Cache
from popsim.engine import Engine
from popsim.reporting.runs import execute

log = open(sys.argv[2], "a", buffering=1)

class Logged(EmbeddedBackend):
    def option_distributions(self, asks, *, on_answer=None):
        def arrived(i, d):
            on_answer(i, d)  # the engine has it now
            log.write(f"{time.time()} {hashlib.sha256(asks[i].canonical().encode()).hexdigest()}\\n")
        return super().option_distributions(asks, on_answer=arrived)

execute(sys.argv[3], engine=Engine(Logged(n_threads=1), Cache(sys.argv[1])), scenario="ess21", n_agents=12,
        prompt_style="profile", rng=3, progress=False, report=False)
"""


@pytest.mark.slow
def test_sigkill_of_an_embedded_run_keeps_every_answer_older_than_a_second(tmp_path):
    """The issue's case: 12 agents, `profile` style, the embedded model (252 asks, one engine chunk of 128
    first): before, a kill mid-chunk left 0 answers in the cache."""
    seed, rng = kill_rng()
    cache, log = tmp_path / "c.sqlite", tmp_path / "answered.log"
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(_CHILD), str(cache), str(log), str(tmp_path / "run")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    want = rng.randint(4, 20)  # answers before the kill
    deadline = time.monotonic() + 240
    while not log.exists() or len(log.read_text().splitlines()) < want:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the embedded model answered too slowly"
        time.sleep(0.05)
    time.sleep(rng.uniform(1.2, 2.5))  # (an answer older than MARGIN must exist)
    proc.send_signal(signal.SIGKILL)
    killed = time.time()
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    answered = [line.split() for line in log.read_text().splitlines()]
    due = {key for t, key in answered if float(t) < killed - MARGIN}
    stored = {hashlib.sha256(json.dumps(a, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()
              for a in cached_asks(cache)}
    lost = due - stored
    print(f"\n[kill seed {seed}] {len(answered)} answers, {len(due)} more than {MARGIN} s before the kill, "
          f"{len(stored)} in the cache, {len(lost)} of the due ones lost")
    assert due and not lost
    assert stored <= {key for _, key in answered}
