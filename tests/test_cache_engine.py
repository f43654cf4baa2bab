"""Cache and engine: deduplication, cache before use, zero calls on a rerun, refresh, bad cache files."""

import multiprocessing as mp
import sqlite3
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from popsim.asks import Ask, Message
from popsim.backends.scripted import ScriptedBackend
from popsim.cache import Cache
from popsim.engine import Engine
from popsim.errors import PopsimError


def asks(n_personas=11, n_items=21):
    return [Ask(messages=(Message("system", f"persona {p}"), Message("user", f"item {i}")), options=tuple("123456"))
            for p in range(n_personas) for i in range(n_items)]


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


def test_keys_depend_on_backend_model_and_settings():
    a = asks(1, 1)[0]
    e1 = Engine(ScriptedBackend(model="m1"))
    e2 = Engine(ScriptedBackend(model="m2"))
    assert e1.key(a) != e2.key(a)


def test_corrupt_and_foreign_cache_files_are_refused_and_left_alone(tmp_path):
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(PopsimError, match="not a readable popsim cache.*left as it is"):
        Cache(bad)
    assert bad.read_bytes() == b"this is not sqlite at all" * 100
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(PopsimError, match="another program"):
        Cache(other)
    with pytest.raises(PopsimError, match="folder of the cache file .* does not exist"):
        Cache(tmp_path / "nope" / "c.sqlite")
    with pytest.raises(PopsimError, match="is a folder"):
        Cache(tmp_path)


def test_truncated_cache_is_refused(tmp_path):
    path = tmp_path / "c.sqlite"
    c = Cache(path)
    Engine(ScriptedBackend(), c).resolve(asks(20, 21))
    c.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    c.close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(PopsimError, match="not a readable popsim cache"):
        Cache(path)


def _writer(path, start):
    be = ScriptedBackend()
    eng = Engine(be, Cache(path))
    batch = [Ask(messages=(Message("user", f"w{start} q{i}"),), options=("1", "2")) for i in range(300)]
    for i in range(0, 300, 10):
        eng.resolve(batch[i:i + 10])


def test_concurrent_writers_lose_no_rows(tmp_path):
    """A sweep's processes share one cache file (WAL mode): no corruption, no lost rows."""
    path = tmp_path / "shared.sqlite"
    Cache(path).close()
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(path), k)) for k in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    c = Cache(path)
    assert c.count() == 1200
    assert c.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@given(st.lists(st.tuples(st.sampled_from(["system", "user", "assistant"]), st.text(max_size=60)), min_size=1,
                max_size=3),
       st.lists(st.text(min_size=1, max_size=4), min_size=2, max_size=5, unique=True), st.text(max_size=10),
       st.integers(0, 10**6))
@settings(max_examples=400, deadline=None)
def test_the_canonical_text_of_an_ask_is_the_json_it_always_was(messages, options, prefix, sample):
    """Cache keys hash `Ask.canonical()`: written out by hand for speed, it must stay byte for byte the JSON the
    standard encoder gives (every cache written before would otherwise be missed)."""
    import json

    a = Ask(messages=tuple(Message(r, c) for r, c in messages), options=tuple(options), answer_prefix=prefix,
            sample=sample)
    want = json.dumps({"m": [list(m) for m in messages], "o": options, "p": prefix, "s": sample},
                      ensure_ascii=False, separators=(",", ":"))
    assert a.canonical() == want
    assert a.canonical() == want  # again, with the persona's encoding reused


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
