"""Between a step's asks and a backend: deduplicate, look up the cache, ask only the misses.

`Engine.resolve(asks)` returns one `OptionDistribution` per ask, in order. Identical asks are asked
once (a population primed with 11 personas costs 11 x items asks whatever its size); cached answers
are reused; misses go to the backend in chunks (batched for the embedded model, concurrent for HTTP).
Answers are stored as they arrive: a `CacheWriter` commits them at most `cache.COMMIT_INTERVAL`
seconds apart while the backend works (as each arrives for backends that report answers through
`on_answer`, else chunk by chunk), and all of them are committed before `resolve` returns (or raises):
no answer is used before it is stored.
"""

from __future__ import annotations

import inspect
import json
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

from .asks import Ask, OptionDistribution
from .cache import COMMIT_INTERVAL, Cache, key_from, key_head


@dataclass
class EngineStats:
    asks: int = 0  # asks received (with duplicates)
    unique: int = 0  # distinct asks
    hits: int = 0  # answered from the cache
    calls: int = 0  # asks sent to the backend (model calls)
    failed: int = 0  # asks the backend could not answer (marked missing, not cached)
    reasons: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"asks": self.asks, "unique": self.unique, "hits": self.hits, "calls": self.calls,
                "failed": self.failed, "failure_reasons": dict(self.reasons)}

    def line(self) -> str:
        return (f"asks {self.asks}, distinct {self.unique}, cache hits {self.hits}, "
                f"model calls {self.calls}, failed {self.failed}")


@dataclass
class Plan:
    """What a run would ask, before it asks anything (`Engine.plan`): `asks` with duplicates, `distinct` after
    dedupe, `cached` of those already answered, `to_ask` = model calls left, `prompt_tokens` of those calls (one
    request each; an option walk that must look past a space token costs a second one) and `tokens_how` (the
    tokenizer used, or "estimate: ...")."""

    asks: int
    distinct: int
    cached: int
    to_ask: int
    prompt_tokens: int
    tokens_how: str
    shared: int = 0  # distinct asks an earlier run of the same study asks already (the cache shares them)

    def cost(self, price_in: float, price_out: float | None = None) -> float:
        """The price of the calls left at `price_in` (and `price_out`, default the same) per million prompt
        (completion) tokens: one completion token per call."""
        out = price_in if price_out is None else price_out
        return (self.prompt_tokens * price_in + self.to_ask * out) / 1e6

    def as_dict(self) -> dict:
        return {"asks": self.asks, "distinct": self.distinct, "cached": self.cached, "shared": self.shared,
                "to_ask": self.to_ask, "prompt_tokens": self.prompt_tokens, "tokens_how": self.tokens_how}


class Engine:
    """`Engine(backend, cache)`; `resolve(asks)`. `refresh=True` ignores (and overwrites) cached answers."""

    def __init__(self, backend, cache: Cache | None = None, *, refresh: bool = False, progress: bool = False,
                 on_progress: Callable[[int, int], None] | None = None, commit_interval: float = COMMIT_INTERVAL):
        self.backend = backend
        self.cache = cache if cache is not None else Cache(None)
        self.refresh = refresh
        self.progress = progress
        self.on_progress = on_progress
        self.commit_interval = commit_interval
        self.stats = EngineStats()
        self.settings = backend.fingerprint()
        self._head = key_head(backend.name, backend.model, self.settings)
        self._settings_json = json.dumps(self.settings, sort_keys=True)
        try:
            self._streams = "on_answer" in inspect.signature(backend.option_distributions).parameters
        except (TypeError, ValueError):
            self._streams = False

    def key(self, ask: Ask) -> str:
        return key_from(self._head, ask.canonical())

    def _keys(self, asks: Sequence[Ask]) -> tuple[list[str], dict[str, str]]:
        """The cache key of every ask, and each distinct ask's canonical text (stored with its answer)."""
        by_object: dict[int, str] = {}  # the policy passes identical asks as one object: hash it once
        texts: dict[str, str] = {}
        keys = []
        for a in asks:
            k = by_object.get(id(a))
            if k is None:
                text = a.canonical()
                k = by_object[id(a)] = key_from(self._head, text)
                texts[k] = text
            keys.append(k)
        return keys, texts

    def plan(self, asks: Sequence[Ask], *, planned: set[str] | None = None) -> Plan:
        """What `resolve(asks)` would cost, without asking: distinct asks, cache hits, prompt tokens of the rest
        (the backend's `count_tokens`: its tokenizer, or an estimate it names). `planned`: the keys earlier runs
        of a study will ask (counted as `shared`, not asked again); this plan's own are added to it."""
        keys, _ = self._keys(asks)
        unique: dict[str, Ask] = dict(zip(keys, asks))
        found = set() if self.refresh else set(self.cache.get_many(list(unique)))
        shared = {k for k in unique if k not in found and planned is not None and k in planned}
        todo = [a for k, a in unique.items() if k not in found and k not in shared]
        if planned is not None:
            planned.update(k for k in unique if k not in found)
        count = getattr(self.backend, "count_tokens", None)
        if count is not None:
            tokens, how = count(todo)
        else:
            from .backends.tokens import ESTIMATE, estimate

            tokens, how = estimate([a.canonical() for a in todo]), ESTIMATE
        return Plan(asks=len(asks), distinct=len(unique), cached=len(found), to_ask=len(todo), prompt_tokens=tokens,
                    tokens_how=how, shared=len(shared))

    def resolve(self, asks: Sequence[Ask], *, desc: str = "asking the model",
                repeats: Sequence[int] | None = None) -> list[OptionDistribution]:
        """One distribution per ask, in order. `repeats[i]`: how many agents ask `asks[i]` (for the statistics,
        when a caller passes each shared ask once)."""
        keys, texts = self._keys(asks)
        unique: dict[str, Ask] = dict(zip(keys, asks))
        self.stats.asks += len(asks) if repeats is None else int(sum(repeats))
        self.stats.unique += len(unique)
        found = {} if self.refresh else self.cache.get_many(list(unique))
        self.stats.hits += len(found)
        todo = [k for k in unique if k not in found]
        # one persona's asks next to each other (in order of first appearance): a backend that keeps the KV
        # cache of a shared prefix, or a server's prefix cache, evaluates each persona once per run
        first: dict[tuple, int] = {}
        todo.sort(key=lambda k: first.setdefault(unique[k].messages[:-1], len(first)))
        if todo:
            found.update(self._ask(todo, unique, texts, desc))
        return [found[k] for k in keys]

    def _ask(self, todo: list[str], unique: dict[str, Ask], texts: dict[str, str],
             desc: str) -> dict[str, OptionDistribution]:
        out: dict[str, OptionDistribution] = {}
        bar = None
        if self.progress:
            from tqdm import tqdm

            bar = tqdm(total=len(todo), desc=desc, unit="ask", file=sys.stderr, leave=False)
        size = max(1, int(getattr(self.backend, "chunk_size", 64)))
        row_head = (self.backend.name, self.backend.model, self._settings_json)
        try:
            with self.cache.writer(self.commit_interval) as writer:
                for i in range(0, len(todo), size):
                    chunk = todo[i:i + size]
                    asks = [unique[k] for k in chunk]
                    got: list = [None] * len(chunk)

                    def store(j: int, d: OptionDistribution, chunk=chunk, got=got) -> None:
                        text = d.to_json()
                        # what is used is exactly what was stored: the run and its resumption see identical numbers
                        got[j] = OptionDistribution.from_json(text)
                        if d.ok:
                            writer.add((chunk[j], *row_head, texts[chunk[j]], text, time.time()))

                    if self._streams:
                        dists = self.backend.option_distributions(asks, on_answer=store)
                    else:
                        dists = self.backend.option_distributions(asks)
                    for j, d in enumerate(dists):
                        if got[j] is None:  # not reported through on_answer
                            store(j, d)
                    if not self._streams:
                        writer.flush()  # answers that came as a chunk: stored before the next chunk is asked
                    self.stats.calls += len(chunk)
                    for k, d in zip(chunk, got):
                        if not d.ok:
                            self.stats.failed += 1
                            reason = (d.error or "unknown").split(":")[0]
                            self.stats.reasons[reason] = self.stats.reasons.get(reason, 0) + 1
                        out[k] = d
                    if bar is not None:
                        bar.update(len(chunk))
                    if self.on_progress is not None:
                        self.on_progress(min(i + size, len(todo)), len(todo))
        finally:
            if bar is not None:
                bar.close()
        return out
