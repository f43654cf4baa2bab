"""Any OpenAI-compatible server (vLLM, Ollama, llama.cpp server, hosted APIs) as a backend.

Distribution-first: with `api="completions"` the prompt is rendered client-side (same text as the
embedded model reads) and option probabilities come from `logprobs` (top-k) of one-token completions,
walked exactly like the embedded model's logits (`scoring.walk_options`). With `api="chat"` the
server applies its own chat template and the first token's `top_logprobs` give the options (no
answer prefix can be prefilled there). When the server returns no logprobs, refuses them (HTTP 400/422
naming logprobs: the backend then samples for the rest of the run), or the options cannot be told
apart from one token (0-10 scales on chat), k completions are sampled and parsed instead, and every
parse failure is counted.

`batch_prompts=N` (completions only; or "auto" for 32) sends N asks per request as a list of prompts
(`prompt_lists.py`): tried out on the first request, with a fallback to one prompt per request for
servers that refuse lists or answer them wrongly.

The HTTP plumbing lives beside this file: `http.py` (the lean client, URLs, keys, redaction) and
`retries.py` (retries, Retry-After, error budget, load balancing over several base URLs, worker
threads). `stats()` counts requests, failed requests by reason, retries, failed and sampled asks, and
the tokens the server reported (`usage`).
"""

from __future__ import annotations

import math
import sys
import threading
import weakref
from collections import defaultdict
from typing import Callable, Sequence

from ..asks import Ask, OptionDistribution
from ..errors import BackendUnavailable, PopsimError, unknown
from . import tokens
from .chat_template import render_chat, resolve_template
from .http import Client, ConnectionFailed, Redactor, RequestTimeout, check_base_url, dumps, public_url, read_api_key
from .prompt_lists import PromptLists, check_batch_prompts, completion_top, merge_top
from .retries import LogprobsRefused, Retrier
from .scoring import parse_option, prefix_ambiguous, walk_options

APIS = ("chat", "completions")
__all__ = ["OpenAIBackend", "APIS", "check_base_url", "public_url", "read_api_key"]


class OpenAIBackend:
    name = "openai"

    def __init__(self, base_url: str | Sequence[str] | None = None, model: str | None = None, *,
                 api: str = "chat", api_key_env: str = "OPENAI_API_KEY", api_key_file: str | None = None,
                 concurrency: int = 8, timeout: float = 60.0, max_retries: int = 6, backoff: float = 0.5,
                 max_backoff: float = 30.0, max_retry_after: float = 120.0, top_logprobs: int = 20,
                 samples: int = 10, sample_temperature: float = 1.0, chat_template: str | None = None,
                 error_budget: int = 25, chunk_size: int | None = None, batch_prompts: int | str = 1,
                 check: bool = True, **unknown_options):
        if unknown_options:  # checked, not ignored: a typo must not silently mean the default
            from . import check_backend_options

            check_backend_options("openai", unknown_options)
        if not base_url:
            raise PopsimError("the openai backend needs --base-url (e.g. http://127.0.0.1:8000/v1)")
        if not model:
            raise PopsimError("the openai backend needs --model (the name the server serves)")
        if api not in APIS:
            raise unknown("API", api, APIS)
        for label, v, low in (("concurrency", concurrency, 1), ("max_retries", max_retries, 0),
                              ("error_budget", error_budget, 1), ("samples", samples, 1), ("timeout", timeout, 1e-3),
                              ("backoff", backoff, 0), ("max_backoff", max_backoff, 0),
                              ("max_retry_after", max_retry_after, 0)):
            if not float(v) >= low:
                raise PopsimError(f"{label} must be at least {low:g}, got {v}")
        batch = check_batch_prompts(batch_prompts, api)
        urls = [base_url] if isinstance(base_url, str) else list(base_url)
        urls = [u.strip() for part in urls for u in str(part).split(",") if u.strip()]
        self.base_urls = [check_base_url(u) for u in urls]
        self.public_urls = [public_url(u) for u in self.base_urls]
        self.model = str(model)
        self.api = api
        self.api_key_env = api_key_env
        self.concurrency = int(concurrency)
        self.batch_prompts = batch_prompts if batch_prompts == "auto" else batch
        self.chunk_size = int(chunk_size) if chunk_size else self.concurrency * max(16, 4 * batch)
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        self.backoff = float(backoff)
        self.max_backoff = float(max_backoff)
        self.max_retry_after = float(max_retry_after)
        self.top_logprobs = int(top_logprobs)
        self.samples = int(samples)
        self.sample_temperature = float(sample_temperature)
        self.template_spec = chat_template or "chatml"
        self.template = resolve_template(chat_template) if api == "completions" else None
        self.error_budget = int(error_budget)
        key = read_api_key(api_key_env, api_key_file)
        self.redact = Redactor(key, self.base_urls)
        self._http = Client(key, self.timeout)
        self._retry = Retrier(self._http, self.base_urls, self.redact, api_key_env=api_key_env,
                              max_retries=self.max_retries, backoff=self.backoff, max_backoff=self.max_backoff,
                              max_retry_after=self.max_retry_after, error_budget=self.error_budget,
                              concurrency=self.concurrency)
        weakref.finalize(self, self._retry.close)
        self._lists = PromptLists(self, batch) if batch > 1 else None
        self._lock = threading.Lock()
        self._sampling_only = False  # the server refused logprobs
        self.sampled: dict[str, int] = defaultdict(int)  # asks answered by sampling, by why
        self.usage = {"prompt_tokens": 0, "completion_tokens": 0, "requests_with_usage": 0}
        if check:
            self.check()

    @property
    def requests(self) -> int:
        """HTTP requests sent so far."""
        return self._retry.requests

    def close(self):
        """Stop the worker threads and close the HTTP connections (the backend is unusable afterwards)."""
        self._retry.close()
        self._http.close()

    def notice(self, text: str) -> None:
        """One line on stderr about something the run adapted to (never a secret)."""
        print(f"popsim: notice: {self.redact(text)}", file=sys.stderr, flush=True)

    def check(self):
        """Fail early and clearly: every server reachable, and the model served where it lists models."""
        for url, shown in zip(self.base_urls, self.public_urls):
            try:
                resp = self._http.request("GET", url, "/models", timeout=min(self.timeout, 15.0))
            except (RequestTimeout, ConnectionFailed) as exc:
                raise BackendUnavailable(f"cannot reach an OpenAI-compatible server at {shown} ({exc}); start the "
                                         "server or fix --base-url") from None
            if resp.status == 404:
                continue  # a server without /models: the first ask will tell
            if resp.status in (401, 403):
                raise BackendUnavailable(f"the server at {shown} refused the API key (HTTP {resp.status}); set "
                                         f"the right key in ${self.api_key_env} or pass --api-key-file")
            if resp.status != 200:
                raise BackendUnavailable(f"the server at {shown} answered /models with HTTP {resp.status} "
                                         f"({self.redact(resp.message())[:160]}); check --base-url (it usually ends "
                                         "in /v1)")
            try:
                served = [str(m["id"]) for m in resp.json()["data"]]
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                raise BackendUnavailable(f"the server at {shown} answered /models with something that is not an "
                                         f"OpenAI model list ({type(exc).__name__}); check --base-url") from None
            if served and self.model not in served:
                raise PopsimError(f"model {self.model!r} is not served at {shown}; it serves: {', '.join(served)}. "
                                  "Pass one of these as --model")

    def fingerprint(self) -> dict:
        # batch_prompts is left out on purpose: batched and single requests give the same numbers
        # (tests/test_prompt_lists.py)
        fp = {"method": "logprobs", "api": self.api, "top_logprobs": self.top_logprobs,
              "samples": self.samples, "sample_temperature": self.sample_temperature}
        if self.api == "completions":
            fp["template"] = self.template_spec if len(self.template_spec) < 40 else f"jinja:{hash(self.template)}"
        return fp

    def describe(self) -> dict:
        """The run record's backend entry (no secret); `faults` are `stats()` at the time of the call (the run
        record is made after the run, so they are the faults the run survived)."""
        out = {"backend": self.name, "model": self.model, "base_urls": list(self.public_urls), "api": self.api,
               "concurrency": self.concurrency,
               "retry": {"max_retries": self.max_retries, "backoff": self.backoff, "max_backoff": self.max_backoff,
                         "max_retry_after": self.max_retry_after, "timeout": self.timeout,
                         "error_budget": self.error_budget},
               **self.fingerprint(), "faults": self.stats()}
        out["usage"] = out["faults"].pop("usage")
        if self._lists is not None:
            out["batch_prompts"] = self._lists.describe()
        return out

    def stats(self) -> dict:
        """Faults met so far: requests, failed requests by reason, retries, failed and sampled asks."""
        st = self._retry.stats()
        with self._lock:
            st.update(sampled_asks=dict(self.sampled), sampling_only=self._sampling_only, usage=dict(self.usage))
        return st

    def count_tokens(self, asks: Sequence[Ask]) -> tuple[int, str]:
        """Prompt tokens of `asks` (one request each) and how they were counted: the server's tokenizer where it
        has a tokenize endpoint, else an estimate (`tokens.py`). Chat prompts are counted as ChatML text (the
        server's own template may add or drop a few tokens per ask)."""
        if not asks:
            return 0, "nothing to count"
        template = self.template if self.api == "completions" else resolve_template("chatml")
        texts = [render_chat(template, a.messages) + (a.answer_prefix if self.api == "completions" else "")
                 for a in asks]
        note = "" if self.api == "completions" else ", chat messages counted as ChatML text"
        found = tokens.server_counter(self._http, self.base_urls[0], self.model, texts[0])
        if found is None:
            return tokens.estimate(texts), f"{tokens.ESTIMATE} (the server has no tokenize endpoint){note}"
        count, name = found
        total, how = tokens.count_texts(texts, count, name=name, exact_up_to=tokens.EXACT_SERVER)
        return total, how + note

    # ------------------------------------------------------------------ requests
    def record_usage(self, answer: dict) -> None:
        u = answer.get("usage") if isinstance(answer, dict) else None
        if isinstance(u, dict):
            with self._lock:
                self.usage["prompt_tokens"] += int(u.get("prompt_tokens") or 0)
                self.usage["completion_tokens"] += int(u.get("completion_tokens") or 0)
                self.usage["requests_with_usage"] += 1

    def top_payload(self, prompt) -> bytes:
        """A one-token completion with top logprobs for `prompt` (a string, or a list of strings)."""
        return dumps({"model": self.model, "prompt": prompt, "max_tokens": 1, "temperature": 0.0,
                      "logprobs": self.top_logprobs})

    def _completion_top(self, prompt: str) -> dict[str, float] | None:
        def parse(r):
            self.record_usage(r)
            return completion_top(r["choices"][0])

        return self._retry.post("/completions", self.top_payload(prompt), parse, logprobs=True)

    def _chat_top(self, ask: Ask) -> dict[str, float] | None:
        body = dumps({"model": self.model, "messages": _messages(ask), "max_tokens": 1, "temperature": 0.0,
                      "logprobs": True, "top_logprobs": self.top_logprobs})

        def parse(r):
            self.record_usage(r)
            lp = r["choices"][0].get("logprobs")
            if not lp or not lp.get("content"):
                return None
            return merge_top({t["token"]: t["logprob"] for t in lp["content"][0].get("top_logprobs") or []})

        return self._retry.post("/chat/completions", body, parse, logprobs=True)

    def sample(self, ask: Ask, why: str) -> OptionDistribution:
        with self._lock:
            self.sampled[why] += 1
        counts = [0] * len(ask.options)
        invalid = 0
        prompt = self.render(ask) if self.api == "completions" else None
        msgs = _messages(ask)

        def parse(r):
            self.record_usage(r)
            c = r["choices"][0]
            return c["text"] if prompt is not None else (c["message"].get("content") or "")

        for k in range(self.samples):
            req = {"model": self.model, "max_tokens": 6, "temperature": self.sample_temperature,
                   "seed": k + 1000 * ask.sample}
            req.update({"prompt": prompt} if prompt is not None else {"messages": msgs})
            text = self._retry.post("/completions" if prompt is not None else "/chat/completions", dumps(req), parse)
            i = parse_option(text, ask.options)
            if i is None:
                invalid += 1
            else:
                counts[i] += 1
        lps = tuple(math.log(c / self.samples) if c else -math.inf for c in counts)
        return OptionDistribution(options=ask.options, logprobs=lps, method="sample", n_samples=self.samples,
                                  n_invalid=invalid)

    def render(self, ask: Ask) -> str:
        return render_chat(self.template, ask.messages) + ask.answer_prefix

    _render = render  # (the name the benchmarks used)

    # ------------------------------------------------------------------ one ask
    def distribution(self, ask: Ask, top_of: Callable[[str], dict | None] | None = None) -> OptionDistribution:
        """One ask's distribution; `top_of(prompt)` gives the top logprobs after a prompt (default: a request)."""
        if self._sampling_only:
            return self.sample(ask, "logprobs refused by the server")
        try:
            if self.api == "completions":
                top_of = top_of or self._completion_top
                no_logprobs = []

                def next_logprob(state):
                    top = top_of(state)
                    if top is None:
                        no_logprobs.append(True)
                        top = {}
                    top = merge_top(top)
                    return lambda text: top.get(text, -math.inf)

                lps = walk_options(ask.options, self.render(ask), next_logprob, _concat)
                if no_logprobs:
                    return self.sample(ask, "no logprobs in the answer")
                return OptionDistribution(options=ask.options, logprobs=tuple(lps), method="logprobs")
            if prefix_ambiguous(ask.options):
                return self.sample(ask, "options share a prefix (chat)")
            top = self._chat_top(ask)
            if top is None:
                return self.sample(ask, "no logprobs in the answer")
            lps = []
            for o in ask.options:
                vals = [lp for tok, lp in top.items() if tok.strip() == o]
                lps.append(float(_logsumexp(vals)) if vals else -math.inf)
            return OptionDistribution(options=ask.options, logprobs=tuple(lps), method="logprobs")
        except LogprobsRefused:
            self.refuse_logprobs()
            return self.sample(ask, "logprobs refused by the server")

    def refuse_logprobs(self) -> None:
        with self._lock:
            self._sampling_only = True  # a server that refuses logprobs once refuses them always

    def _one(self, ask: Ask) -> OptionDistribution:
        dist, reason = self._retry.settle(self.distribution, ask)
        return dist if reason is None else OptionDistribution.missing(ask.options, reason)

    def option_distributions(self, asks: Sequence[Ask], *,
                             on_answer: Callable[[int, OptionDistribution], None] | None = None
                             ) -> list[OptionDistribution]:
        """One distribution per ask (missing with its reason where the server failed), and `on_answer(i, d)` as
        each arrives. When the error budget runs out in a batch that still got answers, the batch is returned
        (the engine caches them) and the next call raises `BackendUnavailable`; a batch without a single answer
        raises at once."""
        if self._retry.down:
            raise BackendUnavailable(self._down_message())
        if self._lists is not None and not self._sampling_only and self._lists.active:
            out = self._lists.option_distributions(asks, on_answer)
        else:
            out = self._retry.map(self._one, asks, on_answer)
        if self._retry.down and not any(d.ok for d in out):
            raise BackendUnavailable(self._down_message())
        return out

    def _down_message(self) -> str:
        return self._retry.down_message(", ".join(self.public_urls))


def _messages(ask: Ask) -> list[dict]:
    return [{"role": m.role, "content": m.content} for m in ask.messages]


def _concat(state: str, text: str) -> str:
    return state + text


def _logsumexp(vals):
    m = max(vals)
    return m + math.log(sum(math.exp(v - m) for v in vals))

