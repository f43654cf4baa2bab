"""SQLite store of every backend answer, keyed by backend, model, decoding settings and prompt.

Answers are written (and committed) before they are used, so an interrupted run resumes without
asking again. While a backend answers, a `CacheWriter` commits what has arrived in small transactions
at most `COMMIT_INTERVAL` seconds apart, so even a process killed mid-chunk loses at most the last
second of answers. WAL mode and a busy timeout let a sweep's parallel processes share one cache file.
The prompt of every answer is stored with it, so a cache is a complete, auditable record of what the
model was asked. Failed asks are never cached: a rerun asks them again.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Iterable, Sequence

from .asks import Ask, OptionDistribution
from .errors import PopsimError

SCHEMA_VERSION = 1
COMMIT_INTERVAL = 0.5  # seconds between the commits of answers arriving while a backend works
FLUSH_ROWS = 256  # ... or sooner, once this many are waiting
_SCHEMA = """
CREATE TABLE IF NOT EXISTS popsim_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS answers (
    key TEXT PRIMARY KEY,
    backend TEXT NOT NULL,
    model TEXT NOT NULL,
    settings TEXT NOT NULL,
    ask TEXT NOT NULL,
    answer TEXT NOT NULL,
    created REAL NOT NULL
);
"""


def default_cache_path() -> Path:
    """`$POPSIM_CACHE` if set, else `~/.cache/popsim/answers.sqlite`."""
    env = os.environ.get("POPSIM_CACHE")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "popsim" / "answers.sqlite"


def key_head(backend: str, model: str, settings: dict) -> str:
    """What every cache key of one backend, model and settings starts from."""
    return json.dumps([backend, model, settings], sort_keys=True, separators=(",", ":"))


def key_from(head: str, canonical: str) -> str:
    """The cache key of an ask from `key_head(...)` and the ask's `canonical()` text."""
    ask_hash = hashlib.sha256(canonical.encode("utf-8")).hexdigest()  # = Ask.key
    return hashlib.sha256(f"{head}|{ask_hash}".encode()).hexdigest()


def answer_key(backend: str, model: str, settings: dict, ask: Ask) -> str:
    return key_from(key_head(backend, model, settings), ask.canonical())


class Cache:
    """`Cache(path)`; `get_many(keys)`, `put_many(rows)`; `Cache(None)` keeps answers in memory only."""

    def __init__(self, path: str | os.PathLike | None = None, *, create: bool = True):
        self.path = Path(path).expanduser() if path is not None else None
        self.hits = 0
        self.writes = 0
        self.damaged = 0  # stored rows that were not a readable answer: treated as not cached, asked again
        self._lock = threading.Lock()  # one connection, used by the engine and its writer thread
        target = ":memory:"
        if self.path is not None:
            if self.path.is_dir():
                raise PopsimError(f"cache path {self.path} is a folder; pass a file path such as "
                                  f"{self.path / 'answers.sqlite'}")
            if not self.path.exists():
                if not create:
                    raise PopsimError(f"cache file {self.path} does not exist; check the path or leave out --cache")
                if not self.path.parent.exists():
                    raise PopsimError(f"the folder of the cache file {self.path} does not exist; create it or "
                                      "pass another --cache path")
            target = str(self.path)
        try:
            self.conn = sqlite3.connect(target, timeout=60.0, isolation_level=None, check_same_thread=False)
            self.conn.execute("PRAGMA busy_timeout = 60000")
            self._check_or_create()  # before WAL mode: switching it rewrites the header of a file we must not touch
            if self.path is not None:
                self.conn.execute("PRAGMA journal_mode = WAL")
                self.conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.DatabaseError as exc:
            raise PopsimError(f"cache file {self.path} is not a readable popsim cache ({exc}); it was left as "
                              "it is: move it away or pass another --cache path") from exc

    def _check_or_create(self):
        tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if tables and "answers" not in tables:
            raise PopsimError(f"{self.path} is an SQLite file of another program (tables: {', '.join(sorted(tables))});"
                              " it was left as it is: pass another --cache path")
        if not tables:
            with self.conn:
                self.conn.executescript(_SCHEMA)
                self.conn.execute("INSERT OR REPLACE INTO popsim_meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        row = self.conn.execute("SELECT value FROM popsim_meta WHERE key='schema'").fetchone()
        if row is None or str(row[0]).strip() != str(SCHEMA_VERSION):
            raise PopsimError(f"cache {self.path} has schema {row[0] if row else '?'}, this popsim reads "
                              f"{SCHEMA_VERSION}; pass another --cache path")
        # a truncated or damaged file often opens fine; read its pages once to find out now, not mid-run
        check = self.conn.execute("PRAGMA quick_check(1)").fetchone()[0]
        if check != "ok":
            raise sqlite3.DatabaseError(f"integrity check failed: {check}")

    def get_many(self, keys: Sequence[str]) -> dict[str, OptionDistribution]:
        out: dict[str, OptionDistribution] = {}
        keys = list(keys)
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            q = f"SELECT key, answer FROM answers WHERE key IN ({','.join('?' * len(chunk))})"
            with self._lock:
                rows = self.conn.execute(q, chunk).fetchall()
            for k, ans in rows:
                try:
                    out[k] = OptionDistribution.from_json(ans)
                except (ValueError, TypeError, KeyError, AttributeError):  # a damaged row: ask again, overwrite it
                    self.damaged += 1
        self.hits += len(out)
        return out

    def put_many(self, rows: Iterable[tuple[str, str, str, dict, Ask, OptionDistribution]]) -> int:
        """rows: (key, backend, model, settings, ask, answer). Committed before returning."""
        now = time.time()
        return self.write([(k, b, m, json.dumps(s, sort_keys=True), a.canonical(), d.to_json(), now)
                           for k, b, m, s, a, d in rows if d.ok])

    def write(self, rows: Sequence[tuple]) -> int:
        """Stored rows (key, backend, model, settings JSON, ask canonical text, answer JSON, time) in one
        transaction, committed before returning."""
        if not rows:
            return 0
        with self._lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                self.conn.executemany("INSERT OR REPLACE INTO answers VALUES (?,?,?,?,?,?,?)", rows)
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.writes += len(rows)
        return len(rows)

    def writer(self, interval: float = COMMIT_INTERVAL) -> "CacheWriter":
        """A writer that commits added rows at most `interval` seconds after they were added (use with `with`)."""
        return CacheWriter(self, interval)

    def count(self) -> int:
        with self._lock:
            return int(self.conn.execute("SELECT COUNT(*) FROM answers").fetchone()[0])

    def close(self):
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class CacheWriter:
    """Rows added from any thread are committed by a background thread every `interval` seconds (when there
    are any), by `flush()`, and when the `with` block ends (also on an error or Ctrl-C)."""

    def __init__(self, cache: Cache, interval: float = COMMIT_INTERVAL):
        self.cache, self.interval = cache, float(interval)
        self._rows: list[tuple] = []
        self._lock = threading.Lock()  # guards the pending rows
        self._flushing = threading.Lock()  # a flush returns only when everything added before it is committed
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="popsim-cache-writer", daemon=True)
        self.commits = 0

    def add(self, row: tuple) -> None:
        with self._lock:
            self._rows.append(row)
            if len(self._rows) == FLUSH_ROWS:  # many answers at once: commit them now, beside the backend's work
                self._wake.set()

    def flush(self) -> None:
        with self._flushing:
            with self._lock:
                rows, self._rows = self._rows, []
            if rows:
                try:
                    self.cache.write(rows)
                except BaseException:
                    with self._lock:
                        self._rows[:0] = rows  # not lost: the next flush tries again
                    raise
                self.commits += 1

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - the rows stay pending: the caller's flush tries again and raises
                pass

    def __enter__(self) -> "CacheWriter":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join()
        self.flush()
