"""Cache and engine: deduplication, cache before use, zero calls on a rerun, refresh, bad cache files."""

import multiprocessing as mp
import sqlite3

import pytest

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


def test_answers_are_committed_chunk_by_chunk(tmp_path):
    """A chunk's answers are in the file before the next chunk is asked (what makes a killed run resumable)."""
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
