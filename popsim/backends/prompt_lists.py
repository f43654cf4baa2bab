"""Many asks per request: a list of prompts to an OpenAI-compatible completions endpoint.

vLLM, llama.cpp's server and OpenAI's completions endpoint take `"prompt": [p0, p1, ...]` and answer
one choice per prompt, each with its `index`. With `batch_prompts=N` the asks of a chunk go in groups
of N: each group's option walks run side by side (the roots of all N asks in one request, then every
further step the walks need, e.g. after a space token, in one more), on the backend's worker threads.

Tried out first. The first list request is the probe: a server that refuses it (HTTP 4xx, or 500/501
where a single prompt goes through), answers fewer or more choices than prompts, choices without the
indexes 0..N-1, or another answer for a prompt in the list than for the same prompt alone, is asked
one prompt per request for the rest of the run, with a one-line notice, recorded in `describe()`.
Later list answers are checked the same way (count and indexes); a list refused with 400/413/422 (say,
one prompt too long) is asked one prompt at a time, so each ask gets its own answer or error. No answer
is ever taken from a list whose shape is wrong.
"""

from __future__ import annotations

import math
import threading
from typing import Any, Callable, Sequence

from ..asks import Ask, OptionDistribution
from ..errors import PopsimError
from .retries import LIST_REFUSALS, PROBE_REFUSALS, ListRefused, LogprobsRefused
from .scoring import walk_options


AUTO = 32  # prompts per request for batch_prompts="auto"
MAX = 2048  # OpenAI's completions endpoint takes at most 2,048 prompts per request
#: a prompt answered in a list and alone must agree this closely on its 5 most likely tokens (GPU servers
#: compute a batch with other kernels than a single prompt: differences of ~1e-3 are normal)
AGREE = 0.05


def check_batch_prompts(value, api: str) -> int:
    """Prompts per request (`"auto"`: 32 where the server takes lists); a whole number from 1 to 2,048."""
    if value == "auto":
        n = AUTO
    else:
        try:
            n = int(value) if not isinstance(value, (bool, float)) else None
        except (TypeError, ValueError):
            n = None
        if n is None or not 1 <= n <= MAX:
            raise PopsimError(f"batch_prompts must be a whole number from 1 to {MAX} or 'auto', got {value!r}; "
                              "e.g. --batch-prompts 32")
    if n > 1 and api != "completions":
        raise PopsimError("batch_prompts needs api='completions' (a chat request carries one conversation); pass "
                          "--api completions or leave batch_prompts at 1")
    return n


class BadShape(Exception):
    """A list answer whose choices do not match the prompts one to one."""


class PromptLists:
    def __init__(self, backend: Any, n: int):
        """`backend`: the OpenAI-compatible backend that owns these lists (its requests and single-prompt path;
        not imported here, so the dependency runs one way: openai_compat -> prompt_lists)."""
        self.b, self.n = backend, n
        self.state = "untried"  # "on" once the probe passed, "off" after a fallback
        self.reason: str | None = None
        self._lock = threading.Lock()
        self._probe_lock = threading.Lock()
        self.list_requests = 0
        self.prompts_in_lists = 0
        self.split_lists = 0  # lists refused with 400/413/422 and asked one prompt at a time

    @property
    def active(self) -> bool:
        return self.state != "off"

    def describe(self) -> dict:
        with self._lock:
            return {"size": self.n, "state": self.state, "fallback": self.reason, "list_requests": self.list_requests,
                    "prompts_in_lists": self.prompts_in_lists, "lists_asked_one_by_one": self.split_lists}

    def option_distributions(self, asks: Sequence[Ask], on_answer: Callable | None) -> list[OptionDistribution]:
        out: list = [None] * len(asks)
        groups = [list(range(i, min(i + self.n, len(asks)))) for i in range(0, len(asks), self.n)]

        def run(idx: list[int]) -> None:
            part = [asks[i] for i in idx]
            dists, reason = self.b._retry.settle(self._group, part, asks=len(part))
            if reason is not None:
                dists = [OptionDistribution.missing(a.options, reason) for a in part]
            for i, d in zip(idx, dists):
                out[i] = d
                if on_answer is not None:
                    on_answer(i, d)

        self.b._retry.map(run, groups)
        return out

    # ------------------------------------------------------------------ one group of asks
    def _group(self, asks: list[Ask]) -> list[OptionDistribution]:
        """The asks' option walks side by side; every step they need asked as one list."""
        b = self.b
        roots = [b.render(a) for a in asks]
        known: dict[str, dict | None] = {}  # prompt -> its top logprobs (None: the server gave none)
        walks: list = [None] * len(asks)  # (log-probabilities, whether logprobs were missing) once complete
        todo = list(range(len(asks)))
        try:
            while todo:
                pending: dict[str, None] = {}
                for j in list(todo):
                    if roots[j] not in known:  # the first step of every walk: ask the roots first
                        pending[roots[j]] = None
                        continue
                    unknown: list = []
                    missing: list = []
                    lps = walk_options(asks[j].options, roots[j], _reader(known, pending, unknown, missing), _concat)
                    if not unknown:  # this ask's walk is complete
                        walks[j] = (lps, bool(missing))
                        todo.remove(j)
                if not pending:
                    break
                tops = self._tops(list(pending))
                if tops is None:  # this group one prompt per request
                    return [b._one(a) for a in asks]
                known.update(zip(pending, (None if t is None else merge_top(t) for t in tops)))
        except LogprobsRefused:
            b.refuse_logprobs()
            return [b._one(a) for a in asks]
        out = []
        for a, (lps, missing) in zip(asks, walks):
            if missing:
                d, reason = b._retry.settle(lambda x: b.sample(x, "no logprobs in the answer"), a)
                out.append(d if reason is None else OptionDistribution.missing(a.options, reason))
            else:
                out.append(OptionDistribution(options=a.options, logprobs=tuple(lps), method="logprobs"))
        return out

    def _tops(self, prompts: list[str]) -> list[dict | None] | None:
        """Top logprobs after each prompt, in lists of at most N; None when this group must go one by one."""
        out: list = []
        for i in range(0, len(prompts), self.n):
            part = prompts[i:i + self.n]
            if len(part) == 1:
                out.append(self.b._completion_top(part[0]))
                continue
            tops = self._list(part)
            if tops is None:
                return None
            out.extend(tops)
        return out

    def _list(self, prompts: list[str]) -> list[dict | None] | None:
        if self.state == "untried":
            with self._probe_lock:  # one probe at a time; the others wait for its verdict
                if self.state == "untried":
                    return self._probe(prompts)
        if self.state == "off":
            return None
        try:
            return self._send(prompts, LIST_REFUSALS)
        except ListRefused:
            with self._lock:
                self.split_lists += 1
            return None
        except BadShape as exc:
            self.fall_back(f"answered {exc}")
            return None

    def _probe(self, prompts: list[str]) -> list[dict | None] | None:
        try:
            try:
                tops = self._send(prompts, PROBE_REFUSALS)
            except ListRefused:
                self.b._completion_top(prompts[0])  # a single prompt goes through (or the server is failing)
                tops = self._send(prompts, PROBE_REFUSALS)  # not a passing fault: the list again
        except ListRefused as exc:
            self.fall_back(f"refused a list of prompts ({exc})")
            return None
        except BadShape as exc:
            self.fall_back(f"answered {exc}")
            return None
        alone = self.b._completion_top(prompts[-1])
        gap = disagreement(alone, tops[-1])
        if gap > AGREE:
            self.fall_back("answered a prompt in a list differently from the same prompt alone (log-probabilities "
                           f"{gap:.3g} apart: choices out of order?)")
            return None
        with self._lock:
            self.state = "on"
        return tops

    def _send(self, prompts: list[str], refusals: frozenset) -> list[dict | None]:
        n = len(prompts)

        def parse(r):
            self.b.record_usage(r)
            choices = r["choices"]
            if len(choices) != n:
                raise BadShape(f"{len(choices)} choice{'s' * (len(choices) != 1)} for a list of {n} prompts")
            index = [c.get("index") for c in choices]
            if any(type(i) is not int for i in index) or sorted(index) != list(range(n)):
                raise BadShape(f"a list of {n} prompts with choices not indexed 0..{n - 1}")
            out: list = [None] * n
            for c in choices:
                out[c["index"]] = completion_top(c)
            return out

        tops = self.b._retry.post("/completions", self.b.top_payload(prompts), parse, logprobs=True,
                                  refusals=refusals)
        with self._lock:
            self.list_requests += 1
            self.prompts_in_lists += n
        return tops

    def fall_back(self, reason: str) -> None:
        with self._lock:
            if self.state == "off":
                return
            self.state, self.reason = "off", reason
        self.b.notice(f"the server at {', '.join(self.b.public_urls)} {reason}; sending one prompt per request from "
                      "now on (batch_prompts=1)")


def completion_top(choice: dict) -> dict[str, float] | None:
    """The top logprobs of a completion choice's first token (None when the server gave none)."""
    lp = choice.get("logprobs")
    if not lp or not lp.get("top_logprobs"):
        return None
    return lp["top_logprobs"][0] or None


def merge_top(top: dict[str, float]) -> dict[str, float]:
    """Top-logprob tokens by text as floats, without the tokens the server gave no number."""
    return {t: float(lp) for t, lp in top.items() if lp is not None}


def disagreement(a: dict | None, b: dict | None) -> float:
    """How far two top-logprob answers for the same prompt are apart: the largest difference over the 5 most
    likely tokens of `a` (inf when `b` lacks one of them, or only one of the two has logprobs)."""
    if a is None or b is None:
        return 0.0 if a is None and b is None else math.inf
    top = sorted(a, key=a.get, reverse=True)[:5]
    return max((abs(a[t] - b[t]) if t in b else math.inf for t in top), default=0.0)


def _reader(known: dict, pending: dict, unknown: list, missing: list):
    """`next_logprob` for `walk_options` from the (merged) answers known so far: unknown states are noted (in
    `pending` for the group, in `unknown` for this walk) and read as nothing for now; states the server gave no
    logprobs for are noted as missing."""

    def next_logprob(state):
        if state not in known:
            pending[state] = None
            unknown.append(state)
            return _nothing
        top = known[state]
        if top is None:
            missing.append(state)
            return _nothing
        return top.get  # (None for a token the server did not list)

    return next_logprob


def _nothing(text: str) -> float:
    return -math.inf


def _concat(state: str, text: str) -> str:
    return state + text
