"""Option scoring shared by the embedded and completions backends: exact option probabilities
from next-token distributions, whatever the tokenizer.

An option is the text the model writes after the answer prefix, with or without a leading space
("Answer: 4" and "Answer:4" both mean 4). Its probability is the sum over its spellings of the
product of next-token probabilities along the spelling. When one option's spelling is a prefix of
another's ("1" and "10" on a 0-10 scale), the shorter option also needs the model to stop there:
P("1") = P(token "1") x (1 - P(next token continues towards "10")). The walk asks the model for
next-token distributions only where two spellings part, so a 1-6 scale costs one extra step (after
a space token) and Yes/No none.
"""

from __future__ import annotations

import math
from collections import defaultdict
from functools import lru_cache
from typing import Callable, Hashable, Sequence

#: branches with less probability than this are not expanded: at most this much mass per branch is
#: left out of the validity mass, and a forward pass is saved
MIN_BRANCH = 1e-3


def spellings(options: Sequence[str]) -> list[tuple[str, int]]:
    """(text, option index) for every spelling: the option and the option after one space."""
    out = []
    for i, o in enumerate(options):
        out.append((o, i))
        if not o.startswith(" "):
            out.append((" " + o, i))
    return out


def walk_options(
    options: Sequence[str],
    root: Hashable,
    next_logprob: Callable[[Hashable], Callable[[str], float]],
    extend: Callable[[Hashable, str], Hashable],
) -> list[float]:
    """Log-probability of each option as a complete answer.

    `next_logprob(state)` returns a lookup `text -> log P(next token has exactly this text)` (-inf or None when
    the model gives it no probability or, for top-k APIs, did not report it). `extend(state, text)`
    returns the state after that token. States are whatever the backend needs (token lists, prompt text).
    """
    probs = defaultdict(float)
    _walk(root, _root_targets(tuple(options)), 1.0, next_logprob, extend, probs)
    return [math.log(probs[i]) if probs[i] > 0 else -math.inf for i in range(len(options))]


@lru_cache(maxsize=1024)
def _root_targets(options: tuple[str, ...]) -> tuple:
    return tuple(spellings(options))


@lru_cache(maxsize=16384)
def _plan(targets: tuple) -> tuple:
    """What a walk step over `targets` does, the same for every ask with these options: the options complete
    here, and each candidate next token with the targets after it (and whether those are all complete)."""
    complete = tuple(i for rest, i in targets if rest == "")
    groups: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for rest, i in targets:  # candidate next tokens: every non-empty prefix of a pending spelling
        for k in range(1, len(rest) + 1):
            groups[rest[:k]].append((rest[k:], i))
    steps = []
    for text, sub in groups.items():
        done = all(r == "" for r, _ in sub)
        steps.append((text, tuple(sub), tuple(i for _, i in sub) if done else None))
    return complete, tuple(steps)


def _walk(state, targets, mass, next_logprob, extend, probs):
    complete, steps = _plan(targets)
    if not steps:
        for i in complete:
            probs[i] += mass
        return
    lookup = next_logprob(state)
    continuing = 0.0
    for text, sub, ends in steps:
        lp = lookup(text)
        if lp is None or lp == -math.inf or lp != lp:  # (NaN)
            continue
        p = math.exp(lp)
        continuing += p
        if mass * p < MIN_BRANCH:
            continue
        if ends is not None:  # every spelling ends with this token: no further state to evaluate
            for i in ends:
                probs[i] += mass * p
        else:
            _walk(extend(state, text), sub, mass * p, next_logprob, extend, probs)
    for i in complete:
        probs[i] += mass * max(0.0, 1.0 - continuing)


def prefix_ambiguous(options: Sequence[str]) -> bool:
    """True when one option is a proper prefix of another ("1" and "10"): a single next-token
    distribution cannot tell them apart."""
    return any(a != b and b.startswith(a) for a in options for b in options)


def parse_option(text: str, options: Sequence[str]) -> int | None:
    """Index of the option a free-text answer gives, or None when it gives none.

    Accepts 'Answer: 4', '4.', ' yes', '**No**'; takes the first option-like word and requires it to be
    exactly an option (so '10' is never read as '1').
    """
    import re

    if not text:
        return None
    t = text.strip()
    t = re.sub(r"^(answer|my answer|response)\s*[:\-]\s*", "", t, flags=re.IGNORECASE)
    m = re.search(r"[A-Za-z]+|\d+", t)
    if m is None:
        return None
    word = m.group(0)
    for i, o in enumerate(options):
        if word == o.strip() or word.lower() == o.strip().lower():
            return i
    return None
