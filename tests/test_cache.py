"""popsim.cache: keys, the canonical text of an ask, bad cache files refused and left alone, concurrent writers."""

import multiprocessing as mp
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from popsim.asks import Ask, Message
from popsim.backends.scripted import ScriptedBackend
from popsim.cache import Cache
from popsim.engine import Engine
from popsim.errors import PopsimError

from sample_asks import asks



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


