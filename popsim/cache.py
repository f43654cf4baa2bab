"""SQLite store of every backend answer, keyed by backend, model, decoding settings and prompt.

Answers are written (and committed) before they are used, so an interrupted run resumes without
asking again. WAL mode and a busy timeout let a sweep's parallel processes share one cache file.
The prompt of every answer is stored with it, so a cache is a complete, auditable record of what the
model was asked. Failed asks are never cached: a rerun asks them again.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Iterable, Sequence

from .asks import Ask, OptionDistribution
from .errors import PopsimError

SCHEMA_VERSION = 1
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


def answer_key(backend: str, model: str, settings: dict, ask: Ask) -> str:
    head = json.dumps([backend, model, settings], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{head}|{ask.key}".encode()).hexdigest()


class Cache:
    """`Cache(path)`; `get_many(keys)`, `put_many(rows)`; `Cache(None)` keeps answers in memory only."""

    def __init__(self, path: str | os.PathLike | None = None, *, create: bool = True):
        self.path = Path(path).expanduser() if path is not None else None
        self.hits = 0
        self.writes = 0
        self.damaged = 0  # stored rows that were not a readable answer: treated as not cached, asked again
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
            for k, ans in self.conn.execute(q, chunk):
                try:
                    out[k] = OptionDistribution.from_json(ans)
                except (ValueError, TypeError, KeyError, AttributeError):  # a damaged row: ask again, overwrite it
                    self.damaged += 1
        self.hits += len(out)
        return out

    def put_many(self, rows: Iterable[tuple[str, str, str, dict, Ask, OptionDistribution]]) -> int:
        """rows: (key, backend, model, settings, ask, answer). Committed before returning."""
        now = time.time()
        data = [(k, b, m, json.dumps(s, sort_keys=True), a.canonical(), d.to_json(), now)
                for k, b, m, s, a, d in rows if d.ok]
        if not data:
            return 0
        with self.conn:  # one transaction
            self.conn.executemany("INSERT OR REPLACE INTO answers VALUES (?,?,?,?,?,?,?)", data)
        self.writes += len(data)
        return len(data)

    def count(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM answers").fetchone()[0])

    def close(self):
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
