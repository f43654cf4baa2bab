"""A scripted test double: deterministic option distributions without a model.

For unit tests of the logic around backends (engine, cache, agents, analysis) and for demos of the
plumbing. It is never evidence that the LLM path works; the run record names it plainly.
"""

from __future__ import annotations

import hashlib
import math
from typing import Callable, Sequence

import numpy as np

from ..asks import Ask, OptionDistribution


def hashed_logprobs(ask: Ask, mass: float = 0.9) -> list[float]:
    """Pseudo-random but deterministic option probabilities from the ask's content hash."""
    seed = int(hashlib.sha256(ask.canonical().encode()).hexdigest()[:16], 16)
    p = np.random.default_rng(seed).dirichlet(np.ones(len(ask.options)))
    return [math.log(mass * x) for x in p]


class ScriptedBackend:
    name = "scripted"
    chunk_size = 256

    def __init__(self, responder: Callable[[Ask], Sequence[float]] | None = None, *, model: str = "hash",
                 fail: Callable[[Ask], str | None] | None = None):
        """`responder(ask)` returns option probabilities (any scale; normalised to sum to 0.9)."""
        self.responder = responder
        self.model = model if responder is None else getattr(responder, "__name__", model)
        self.fail = fail
        self.calls = 0

    def fingerprint(self) -> dict:
        return {"method": "scripted", "model": self.model}

    def describe(self) -> dict:
        return {"backend": self.name, "model": self.model, "note": "test double, not a language model"}

    def count_tokens(self, asks: Sequence[Ask]) -> tuple[int, str]:
        from .tokens import ESTIMATE, estimate

        return estimate([" ".join(m.content for m in a.messages) for a in asks]), f"{ESTIMATE} (no model)"

    def option_distributions(self, asks: Sequence[Ask], *,
                             on_answer: Callable[[int, OptionDistribution], None] | None = None
                             ) -> list[OptionDistribution]:
        out = []
        for a in asks:
            self.calls += 1
            reason = self.fail(a) if self.fail else None
            if reason:
                out.append(OptionDistribution.missing(a.options, reason))
                if on_answer is not None:
                    on_answer(len(out) - 1, out[-1])
                continue
            if self.responder is None:
                lps = hashed_logprobs(a)
            else:
                p = np.asarray(self.responder(a), dtype=float)
                p = 0.9 * p / p.sum()
                lps = [math.log(x) if x > 0 else -math.inf for x in p]
            out.append(OptionDistribution(options=a.options, logprobs=tuple(lps), method="logprobs"))
            if on_answer is not None:
                on_answer(len(out) - 1, out[-1])
        return out
