"""Any OpenAI-compatible server (vLLM, Ollama, llama.cpp server, hosted APIs) as a backend.

Distribution-first: with `api="completions"` the prompt is rendered client-side (same text as the
embedded model reads) and option probabilities come from `logprobs` (top-k) of one-token completions,
walked exactly like the embedded model's logits (`scoring.walk_options`). With `api="chat"` the
server applies its own chat template and the first token's `top_logprobs` give the options (no
answer prefix can be prefilled there). When the server returns no logprobs, or the options cannot be
told apart from one token (0-10 scales on chat), k completions are sampled and parsed instead, and
every parse failure is counted.

The API key comes from the environment (`OPENAI_API_KEY` by default) or a file the user names;
it is never written anywhere. Several base URLs are served by least load.
"""

from __future__ import annotations

import math
import os
import random
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Sequence
from urllib.parse import urlparse

from ..asks import Ask, OptionDistribution
from ..errors import BackendUnavailable, PopsimError, unknown
from .chat_template import render_chat, resolve_template
from .scoring import parse_option, prefix_ambiguous, walk_options

APIS = ("chat", "completions")


def check_base_url(url: str) -> str:
    u = urlparse(url or "")
    if u.scheme not in ("http", "https") or not u.netloc:
        raise PopsimError(f"base URL {url!r} is not an http(s) URL; pass e.g. http://127.0.0.1:8000/v1")
    return url.rstrip("/")


def read_api_key(env: str = "OPENAI_API_KEY", key_file: str | None = None) -> str:
    """The key from `key_file` if given, else from the environment variable `env`; 'EMPTY' if neither."""
    if key_file:
        p = Path(key_file).expanduser()
        if not p.is_file():
            raise PopsimError(f"API key file {p} does not exist; pass a readable file or set ${env}")
        return p.read_text(encoding="utf-8").strip()
    return os.environ.get(env, "") or "EMPTY"


class OpenAIBackend:
    name = "openai"

    def __init__(self, base_url: str | Sequence[str] | None = None, model: str | None = None, *,
                 api: str = "chat", api_key_env: str = "OPENAI_API_KEY", api_key_file: str | None = None,
                 concurrency: int = 8, timeout: float = 60.0, max_retries: int = 6, backoff: float = 0.5,
                 max_backoff: float = 30.0, top_logprobs: int = 20, samples: int = 10,
                 sample_temperature: float = 1.0, chat_template: str | None = None,
                 error_budget: int = 25, check: bool = True):
        if not base_url:
            raise PopsimError("the openai backend needs --base-url (e.g. http://127.0.0.1:8000/v1)")
        if not model:
            raise PopsimError("the openai backend needs --model (the name the server serves)")
        if api not in APIS:
            raise unknown("API", api, APIS)
        if int(concurrency) < 1:
            raise PopsimError(f"concurrency must be at least 1, got {concurrency}")
        urls = [base_url] if isinstance(base_url, str) else list(base_url)
        urls = [u.strip() for part in urls for u in str(part).split(",") if u.strip()]
        self.base_urls = [check_base_url(u) for u in urls]
        self.model = str(model)
        self.api = api
        self.concurrency = int(concurrency)
        self.chunk_size = self.concurrency * 4
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        self.backoff = float(backoff)
        self.max_backoff = float(max_backoff)
        self.top_logprobs = int(top_logprobs)
        self.samples = int(samples)
        self.sample_temperature = float(sample_temperature)
        self.template_spec = chat_template or "chatml"
        self.template = resolve_template(chat_template) if api == "completions" else None
        self.error_budget = int(error_budget)
        self._key = read_api_key(api_key_env, api_key_file)
        self._lock = threading.Lock()
        self._load = defaultdict(int)
        self._clients = {}
        self.requests = 0
        self.retries = 0
        self.retry_reasons: dict[str, int] = defaultdict(int)
        self._consecutive_failures = 0
        if check:
            self.check()

    # ------------------------------------------------------------------ clients
    def _client(self, url: str):
        import openai

        with self._lock:
            if url not in self._clients:  # one client per server: its connection pool is reused by all threads
                self._clients[url] = openai.OpenAI(base_url=url, api_key=self._key, max_retries=0,
                                                   timeout=self.timeout)
            return self._clients[url]

    def _pick(self) -> str:
        with self._lock:
            url = min(self.base_urls, key=lambda u: self._load[u])
            self._load[url] += 1
            return url

    def _release(self, url: str):
        with self._lock:
            self._load[url] -= 1

    def check(self):
        """Fail early and clearly: every server reachable, and the model served where it lists models."""
        import openai

        for url in self.base_urls:
            try:
                served = [m.id for m in self._client(url).models.list(timeout=min(self.timeout, 15.0))]
            except openai.NotFoundError:
                continue  # a server without /models: the first ask will tell
            except openai.AuthenticationError as exc:
                raise BackendUnavailable(f"the server at {url} refused the API key (HTTP 401); set the right "
                                         "key in $OPENAI_API_KEY or pass --api-key-file") from exc
            except (openai.APIConnectionError, openai.APITimeoutError) as exc:
                raise BackendUnavailable(f"cannot reach an OpenAI-compatible server at {url} ({type(exc).__name__});"
                                         " start the server or fix --base-url") from exc
            except openai.APIError as exc:
                raise BackendUnavailable(f"the server at {url} answered /models with an error ({exc}); "
                                         "check --base-url (it usually ends in /v1)") from exc
            if served and self.model not in served:
                raise PopsimError(f"model {self.model!r} is not served at {url}; it serves: {', '.join(served)}. "
                                  "Pass one of these as --model")

    def fingerprint(self) -> dict:
        fp = {"method": "logprobs", "api": self.api, "top_logprobs": self.top_logprobs,
              "samples": self.samples, "sample_temperature": self.sample_temperature}
        if self.api == "completions":
            fp["template"] = self.template_spec if len(self.template_spec) < 40 else f"jinja:{hash(self.template)}"
        return fp

    def describe(self) -> dict:
        return {"backend": self.name, "model": self.model, "base_urls": self.base_urls, "api": self.api,
                "concurrency": self.concurrency, **self.fingerprint()}

    # ------------------------------------------------------------------ requests with retries
    def _request(self, fn):
        """Call `fn(client)` with exponential backoff and jitter; honours Retry-After."""
        import openai

        last = "unknown"
        for attempt in range(self.max_retries + 1):
            url = self._pick()
            try:
                with self._lock:
                    self.requests += 1
                return fn(self._client(url))
            except openai.RateLimitError as exc:
                last, wait = "HTTP 429", _retry_after(exc)
            except openai.APITimeoutError:
                last, wait = "timeout", None
            except openai.APIConnectionError as exc:
                last, wait = f"connection error ({type(exc.__cause__).__name__ if exc.__cause__ else 'reset'})", None
            except openai.InternalServerError as exc:
                last, wait = f"HTTP {exc.status_code}", _retry_after(exc)
            except openai.APIStatusError as exc:
                if exc.status_code in (408, 409) or exc.status_code >= 500:
                    last, wait = f"HTTP {exc.status_code}", _retry_after(exc)
                else:
                    raise _Final(f"HTTP {exc.status_code}: {str(exc)[:200]}") from exc
            except (openai.APIResponseValidationError, ValueError, KeyError, TypeError, AttributeError) as exc:
                last, wait = f"malformed response ({type(exc).__name__})", None
            finally:
                self._release(url)
            with self._lock:
                self.retries += 1
                self.retry_reasons[last.split(" (")[0]] += 1
            if attempt < self.max_retries:
                delay = min(self.max_backoff, self.backoff * 2 ** attempt) * random.uniform(0.5, 1.0)
                time.sleep(min(self.max_backoff, wait) if wait is not None else delay)
        raise _Final(f"gave up after {self.max_retries + 1} attempts: {last}")

    # ------------------------------------------------------------------ one ask
    def _completion_top(self, prompt: str) -> dict[str, float] | None:
        def call(c):
            r = c.completions.create(model=self.model, prompt=prompt, max_tokens=1, temperature=0.0,
                                     logprobs=self.top_logprobs)
            lp = r.choices[0].logprobs
            if lp is None or not lp.top_logprobs:
                return None
            top = lp.top_logprobs[0]
            return dict(top) if top else None

        return self._request(call)

    def _chat_top(self, ask: Ask) -> dict[str, float] | None:
        msgs = [{"role": m.role, "content": m.content} for m in ask.messages]

        def call(c):
            r = c.chat.completions.create(model=self.model, messages=msgs, max_tokens=1, temperature=0.0,
                                          logprobs=True, top_logprobs=self.top_logprobs)
            lp = r.choices[0].logprobs
            if lp is None or not lp.content:
                return None
            return _merge({t.token: t.logprob for t in lp.content[0].top_logprobs or []})

        return self._request(call)

    def _sample(self, ask: Ask) -> OptionDistribution:
        counts = [0] * len(ask.options)
        invalid = 0
        prompt = self._render(ask) if self.api == "completions" else None
        msgs = [{"role": m.role, "content": m.content} for m in ask.messages]
        for k in range(self.samples):
            def call(c, k=k):
                if prompt is not None:
                    r = c.completions.create(model=self.model, prompt=prompt, max_tokens=6,
                                             temperature=self.sample_temperature, seed=k + 1000 * ask.sample)
                    return r.choices[0].text
                r = c.chat.completions.create(model=self.model, messages=msgs, max_tokens=6,
                                              temperature=self.sample_temperature, seed=k + 1000 * ask.sample)
                return r.choices[0].message.content or ""

            text = self._request(call)
            i = parse_option(text, ask.options)
            if i is None:
                invalid += 1
            else:
                counts[i] += 1
        lps = tuple(math.log(c / self.samples) if c else -math.inf for c in counts)
        return OptionDistribution(options=ask.options, logprobs=lps, method="sample", n_samples=self.samples,
                                  n_invalid=invalid)

    def _render(self, ask: Ask) -> str:
        return render_chat(self.template, ask.messages) + ask.answer_prefix

    def _one(self, ask: Ask) -> OptionDistribution:
        try:
            if self.api == "completions":
                prompt = self._render(ask)
                no_logprobs = []

                def next_logprob(state):
                    top = self._completion_top(state)
                    if top is None:
                        no_logprobs.append(True)
                        top = {}
                    top = _merge(top)
                    return lambda text: top.get(text, -math.inf)

                lps = walk_options(ask.options, prompt, next_logprob, lambda s, t: s + t)
                if no_logprobs:
                    return self._sample(ask)
                dist = OptionDistribution(options=ask.options, logprobs=tuple(lps), method="logprobs")
            elif prefix_ambiguous(ask.options):
                dist = self._sample(ask)
            else:
                top = self._chat_top(ask)
                if top is None:
                    return self._sample(ask)
                lps = []
                for o in ask.options:
                    vals = [lp for tok, lp in top.items() if tok.strip() == o]
                    lps.append(float(_logsumexp(vals)) if vals else -math.inf)
                dist = OptionDistribution(options=ask.options, logprobs=tuple(lps), method="logprobs")
            self._consecutive_failures = 0
            return dist
        except _Final as exc:
            with self._lock:
                self._consecutive_failures += 1
            return OptionDistribution.missing(ask.options, str(exc))

    def option_distributions(self, asks: Sequence[Ask]) -> list[OptionDistribution]:
        if self._consecutive_failures >= self.error_budget:
            raise BackendUnavailable(self._down_message())
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            out = list(pool.map(self._one, asks))
        if self._consecutive_failures >= self.error_budget:
            raise BackendUnavailable(self._down_message(out))
        return out

    def _down_message(self, out=None) -> str:
        reasons = sorted({d.error for d in out or [] if d.error})[:2]
        return (f"the server at {', '.join(self.base_urls)} looks down: {self._consecutive_failures} asks in a row "
                f"failed after retries ({'; '.join(reasons) or 'see above'}). Stopped instead of retrying further; "
                "every answer received so far is cached, so rerunning the same command resumes")

    def complete(self, asks: Sequence[Ask], *, max_tokens: int = 16, temperature: float = 0.0) -> list[str]:
        def one(a: Ask) -> str:
            msgs = [{"role": m.role, "content": m.content} for m in a.messages]
            return self._request(lambda c: c.chat.completions.create(
                model=self.model, messages=msgs, max_tokens=max_tokens, temperature=temperature,
                seed=a.sample).choices[0].message.content or "")

        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(one, asks))


class _Final(Exception):
    """An ask that cannot be answered (after retries, or a non-retryable HTTP error)."""


def _retry_after(exc) -> float | None:
    try:
        headers = exc.response.headers
    except AttributeError:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        v = headers.get(name)
        if v:
            try:
                return max(0.0, float(v) * scale)
            except ValueError:
                return None
    return None


def _logsumexp(vals):
    m = max(vals)
    return m + math.log(sum(math.exp(v - m) for v in vals))


def _merge(top: dict[str, float]) -> dict[str, float]:
    """Top-logprob tokens by text; servers may list one text twice (different token ids)."""
    out: dict[str, list[float]] = defaultdict(list)
    for tok, lp in top.items():
        if lp is not None:
            out[tok].append(float(lp))
    return {t: _logsumexp(v) for t, v in out.items()}
