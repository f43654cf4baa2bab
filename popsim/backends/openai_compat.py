"""Any OpenAI-compatible server (vLLM, Ollama, llama.cpp server, hosted APIs) as a backend.

Distribution-first: with `api="completions"` the prompt is rendered client-side (same text as the
embedded model reads) and option probabilities come from `logprobs` (top-k) of one-token completions,
walked exactly like the embedded model's logits (`scoring.walk_options`). With `api="chat"` the
server applies its own chat template and the first token's `top_logprobs` give the options (no
answer prefix can be prefilled there). When the server returns no logprobs, refuses them (HTTP 400/422
naming logprobs: the backend then samples for the rest of the run), or the options cannot be told
apart from one token (0-10 scales on chat), k completions are sampled and parsed instead, and every
parse failure is counted.

Faults (docs/reliability.md): HTTP 429/408/409/5xx, timeouts, dropped connections and malformed bodies
are retried (`max_retries`) after `backoff * 2**attempt * U(0.5, 1)` s (at most `max_backoff`), or after
at least the server's Retry-After. An ask that still fails comes back missing with its reason (never
cached). Once two asks in a row failed every retry, later asks get one try each until one is answered;
`error_budget` failed asks in a row (or a refused key) stop the backend: `BackendUnavailable`. `stats()`
counts requests, failed requests by reason, retries, failed and sampled asks.

The API key comes from the environment (`OPENAI_API_KEY` by default) or a file the user names; it is
never written anywhere and is cut out of every message built from a server's answer (proxies may echo
the Authorization header). URLs are shown without user:password and query. Several base URLs are
served by least load.
"""

from __future__ import annotations

import email.utils
import math
import os
import queue
import random
import re
import threading
import time
import weakref
from collections import defaultdict
from concurrent.futures import Future
from pathlib import Path
from typing import Sequence
from urllib.parse import urlparse, urlunparse

from ..asks import Ask, OptionDistribution
from ..errors import BackendUnavailable, PopsimError, unknown
from .chat_template import render_chat, resolve_template
from .scoring import parse_option, prefix_ambiguous, walk_options

APIS = ("chat", "completions")


def check_base_url(url: str) -> str:
    u = urlparse(url or "")
    if u.scheme not in ("http", "https") or not u.netloc:
        raise PopsimError(f"base URL {public_url(url)!r} is not an http(s) URL; pass e.g. http://127.0.0.1:8000/v1")
    return url.rstrip("/")


def public_url(url: str) -> str:
    """`url` as it may be shown and written: no user:password@, no query (keys travel there too)."""
    try:
        u = urlparse(str(url or ""))
        host = u.hostname or ""
        port = u.port
    except ValueError:
        return "<unparseable URL>"
    if not u.scheme or not host:
        return re.sub(r"[^/@\s]+@", "", str(url or "")).split("?")[0]
    if ":" in host:
        host = f"[{host}]"
    return urlunparse((u.scheme, host + (f":{port}" if port else ""), u.path, "", "", ""))


def read_api_key(env: str = "OPENAI_API_KEY", key_file: str | None = None) -> str:
    """The key from `key_file` if given, else from the environment variable `env`; 'EMPTY' if neither."""
    if key_file:
        p = Path(key_file).expanduser()
        if not p.is_file():
            raise PopsimError(f"API key file {p} does not exist; pass a readable file or set ${env}")
        try:
            key = p.read_text(encoding="utf-8").strip()
        except UnicodeDecodeError:
            raise PopsimError(f"API key file {p} is not UTF-8 text; write the key alone on one line") from None
        except OSError as exc:
            raise PopsimError(f"API key file {p} cannot be read ({exc.strerror}); check its permissions") from None
        if not key or len(key.split()) != 1:
            raise PopsimError(f"API key file {p} must hold the key alone on one line "
                              f"({'it is empty' if not key else 'it holds several words'})")
        return key
    return os.environ.get(env, "") or "EMPTY"


class OpenAIBackend:
    name = "openai"

    def __init__(self, base_url: str | Sequence[str] | None = None, model: str | None = None, *,
                 api: str = "chat", api_key_env: str = "OPENAI_API_KEY", api_key_file: str | None = None,
                 concurrency: int = 8, timeout: float = 60.0, max_retries: int = 6, backoff: float = 0.5,
                 max_backoff: float = 30.0, max_retry_after: float = 120.0, top_logprobs: int = 20,
                 samples: int = 10, sample_temperature: float = 1.0, chat_template: str | None = None,
                 error_budget: int = 25, chunk_size: int | None = None, check: bool = True, **unknown_options):
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
        urls = [base_url] if isinstance(base_url, str) else list(base_url)
        urls = [u.strip() for part in urls for u in str(part).split(",") if u.strip()]
        self.base_urls = [check_base_url(u) for u in urls]
        self.public_urls = [public_url(u) for u in self.base_urls]
        self.model = str(model)
        self.api = api
        self.api_key_env = api_key_env
        self.concurrency = int(concurrency)
        self.chunk_size = int(chunk_size) if chunk_size else self.concurrency * 16
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
        self._key = read_api_key(api_key_env, api_key_file)
        self._lock = threading.Lock()
        self._load = defaultdict(int)
        self._clients = {}
        self._workers: _Workers | None = None
        self._stop = threading.Event()  # set when the caller was interrupted: retries end at once
        self._down = False  # the error budget is spent, or the server refused the key or the account
        self._fatal: str | None = None  # why every further ask would fail too (key refused, no quota)
        self._sampling_only = False  # the server refused logprobs
        self.requests = 0  # HTTP requests sent
        self.retries = 0  # failed requests that were tried again
        self.retry_reasons: dict[str, int] = defaultdict(int)  # failed requests by reason
        self.failed_asks = 0
        self.failure_reasons: dict[str, int] = defaultdict(int)
        self.sampled: dict[str, int] = defaultdict(int)  # asks answered by sampling, by why
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

    def _pool(self) -> "_Workers":
        with self._lock:
            if self._workers is None:
                self._workers = _Workers(self.concurrency)
                weakref.finalize(self, self._workers.close)
            return self._workers

    def close(self):
        """Stop the worker threads and close the HTTP connections (the backend is unusable afterwards)."""
        with self._lock:
            workers, self._workers = self._workers, None
            clients, self._clients = list(self._clients.values()), {}
        if workers is not None:
            workers.close()
        for c in clients:
            c.close()

    def redact(self, text: object) -> str:
        """`text` without the API key, bearer tokens or URL credentials (for every message and record)."""
        text = str(text)
        if self._key and self._key != "EMPTY" and len(self._key) >= 4:
            text = text.replace(self._key, "[redacted]")
        text = re.sub(r"(?i)\b(bearer\s+)[^\s'\",}\]]+", r"\1[redacted]", text)
        for url, shown in zip(self.base_urls, self.public_urls):
            text = text.replace(url, shown)
        return re.sub(r"(https?://)[^/@\s]+@", r"\1", text)

    def check(self):
        """Fail early and clearly: every server reachable, and the model served where it lists models."""
        import openai

        for url, shown in zip(self.base_urls, self.public_urls):
            try:
                served = [m.id for m in self._client(url).models.list(timeout=min(self.timeout, 15.0))]
            except openai.NotFoundError:
                continue  # a server without /models: the first ask will tell
            except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
                raise BackendUnavailable(f"the server at {shown} refused the API key (HTTP {exc.status_code}); set "
                                         f"the right key in ${self.api_key_env} or pass --api-key-file") from None
            except (openai.APIConnectionError, openai.APITimeoutError) as exc:
                raise BackendUnavailable(f"cannot reach an OpenAI-compatible server at {shown} ({type(exc).__name__});"
                                         " start the server or fix --base-url") from None
            except openai.APIStatusError as exc:
                raise BackendUnavailable(f"the server at {shown} answered /models with HTTP {exc.status_code} "
                                         f"({self.redact(_body(exc))[:160]}); check --base-url (it usually ends in "
                                         "/v1)") from None
            except (openai.APIError, ValueError, TypeError, AttributeError) as exc:
                raise BackendUnavailable(f"the server at {shown} answered /models with something that is not an "
                                         f"OpenAI model list ({type(exc).__name__}); check --base-url") from None
            if served and self.model not in served:
                raise PopsimError(f"model {self.model!r} is not served at {shown}; it serves: {', '.join(served)}. "
                                  "Pass one of these as --model")

    def fingerprint(self) -> dict:
        fp = {"method": "logprobs", "api": self.api, "top_logprobs": self.top_logprobs,
              "samples": self.samples, "sample_temperature": self.sample_temperature}
        if self.api == "completions":
            fp["template"] = self.template_spec if len(self.template_spec) < 40 else f"jinja:{hash(self.template)}"
        return fp

    def describe(self) -> dict:
        """The run record's backend entry (no secret); `faults` are `stats()` at the time of the call (the run
        record is made after the run, so they are the faults the run survived)."""
        return {"backend": self.name, "model": self.model, "base_urls": list(self.public_urls), "api": self.api,
                "concurrency": self.concurrency,
                "retry": {"max_retries": self.max_retries, "backoff": self.backoff, "max_backoff": self.max_backoff,
                          "max_retry_after": self.max_retry_after, "timeout": self.timeout,
                          "error_budget": self.error_budget},
                **self.fingerprint(), "faults": self.stats()}

    def stats(self) -> dict:
        """Faults met so far: requests, failed requests by reason, retries, failed and sampled asks."""
        with self._lock:
            return {"requests": self.requests, "failed_requests": dict(self.retry_reasons),
                    "retried": self.retries, "failed_asks": self.failed_asks,
                    "failed_ask_reasons": dict(self.failure_reasons), "sampled_asks": dict(self.sampled),
                    "sampling_only": self._sampling_only, "stopped_as_down": self._down}

    # ------------------------------------------------------------------ requests with retries
    def _request(self, fn, *, logprobs: bool = False):
        """Call `fn(client)`, retrying with exponential backoff and jitter; honours Retry-After."""
        import openai

        last = "unknown"
        for attempt in range(self.max_retries + 1):
            if self._down or self._stop.is_set():
                raise _Final("not sent: " + ("the server looks down (error budget spent)" if self._down
                                             else "the run was stopped"))
            if attempt and self._consecutive_failures >= 2:  # the asks before this one failed every retry too
                raise _Final(f"{last}: gave up after {attempt} attempt{'s' * (attempt > 1)} (the asks before "
                             "failed too)")
            url = self._pick()
            wait = None
            try:
                with self._lock:
                    self.requests += 1
                return fn(self._client(url))
            except openai.APITimeoutError:
                last = "timeout"
            except openai.APIConnectionError as exc:
                last = f"connection error ({type(exc.__cause__).__name__ if exc.__cause__ else 'reset'})"
            except openai.APIStatusError as exc:
                code, body = exc.status_code, self.redact(_body(exc))
                if code == 429 and "insufficient_quota" in str(getattr(exc, "body", "")):
                    raise self._stop_all("HTTP 429: the account has no quota left (insufficient_quota); retrying "
                                         "cannot help") from None
                if code in (401, 403):
                    raise self._stop_all(f"HTTP {code}: the server refused the API key; set the right key in "
                                         f"${self.api_key_env} or pass --api-key-file") from None
                if logprobs and code in (400, 422) and "logprob" in body.lower():
                    raise _LogprobsRefused(f"HTTP {code}: {body[:160]}") from None
                if code in (408, 409, 429) or code >= 500:
                    last, wait = f"HTTP {code}", _retry_after(exc)
                else:
                    raise _Final(f"HTTP {code}: {body[:200]}") from None
            except (openai.APIResponseValidationError, ValueError, KeyError, TypeError, AttributeError,
                    IndexError) as exc:
                last = f"malformed response ({type(exc).__name__})"
            finally:
                self._release(url)
            with self._lock:
                self.retry_reasons[last.split(" (")[0]] += 1
                if attempt < self.max_retries:
                    self.retries += 1
            if attempt < self.max_retries:
                delay = min(self.max_backoff, self.backoff * 2 ** attempt) * random.uniform(0.5, 1.0)
                if wait is not None and wait > self.max_retry_after:
                    raise _Final(f"{last}: the server asked to retry after {wait:.0f} s, more than max_retry_after="
                                 f"{self.max_retry_after:g} s")
                if wait is not None and wait > 0:
                    delay = wait * random.uniform(1.0, 1.1)  # at least what the server asked; spread the herd
                self._stop.wait(delay)
        raise _Final(f"{last}: gave up after {self.max_retries + 1} attempts")

    def _stop_all(self, reason: str) -> "_Final":
        """A refusal that every further ask would meet too: no more requests (the budget is spent at once)."""
        with self._lock:
            self._down = True
            self._fatal = self._fatal or reason
        return _Final(reason)

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

        return self._request(call, logprobs=True)

    def _chat_top(self, ask: Ask) -> dict[str, float] | None:
        msgs = [{"role": m.role, "content": m.content} for m in ask.messages]

        def call(c):
            r = c.chat.completions.create(model=self.model, messages=msgs, max_tokens=1, temperature=0.0,
                                          logprobs=True, top_logprobs=self.top_logprobs)
            lp = r.choices[0].logprobs
            if lp is None or not lp.content:
                return None
            return _merge({t.token: t.logprob for t in lp.content[0].top_logprobs or []})

        return self._request(call, logprobs=True)

    def _sample(self, ask: Ask, why: str) -> OptionDistribution:
        with self._lock:
            self.sampled[why] += 1
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

    def _distribution(self, ask: Ask) -> OptionDistribution:
        if self._sampling_only:
            return self._sample(ask, "logprobs refused by the server")
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
                    return self._sample(ask, "no logprobs in the answer")
                return OptionDistribution(options=ask.options, logprobs=tuple(lps), method="logprobs")
            if prefix_ambiguous(ask.options):
                return self._sample(ask, "options share a prefix (chat)")
            top = self._chat_top(ask)
            if top is None:
                return self._sample(ask, "no logprobs in the answer")
            lps = []
            for o in ask.options:
                vals = [lp for tok, lp in top.items() if tok.strip() == o]
                lps.append(float(_logsumexp(vals)) if vals else -math.inf)
            return OptionDistribution(options=ask.options, logprobs=tuple(lps), method="logprobs")
        except _LogprobsRefused:
            with self._lock:
                self._sampling_only = True  # a server that refuses logprobs once refuses them always
            return self._sample(ask, "logprobs refused by the server")

    def _one(self, ask: Ask) -> OptionDistribution:
        try:
            dist = self._distribution(ask)
        except _Final as exc:
            reason = self.redact(exc)
            with self._lock:
                self.failed_asks += 1
                self.failure_reasons[reason.split(":")[0]] += 1
                if not reason.startswith("not sent"):
                    self._consecutive_failures += 1
                    if self._consecutive_failures >= self.error_budget:
                        self._down = True
            return OptionDistribution.missing(ask.options, reason)
        with self._lock:
            self._consecutive_failures = 0
        return dist

    def _map(self, fn, items: Sequence) -> list:
        """`fn` over `items` on the worker threads, in order. Interrupted (Ctrl-C): pending items are
        cancelled and running ones stop retrying, so the caller regains control at once."""
        if self._stop.is_set():
            self._stop = threading.Event()
        pool = self._pool()
        futures = [pool.submit(fn, x) for x in items]
        try:
            return [f.result() for f in futures]
        except BaseException:
            self._stop.set()
            for f in futures:
                f.cancel()
            raise

    def option_distributions(self, asks: Sequence[Ask]) -> list[OptionDistribution]:
        """One distribution per ask (missing with its reason where the server failed). When the error budget
        runs out in a batch that still got answers, the batch is returned (the engine caches them) and the next
        call raises `BackendUnavailable`; a batch without a single answer raises at once."""
        if self._down:
            raise BackendUnavailable(self._down_message())
        out = self._map(self._one, asks)
        if self._down and not any(d.ok for d in out):
            raise BackendUnavailable(self._down_message())
        return out

    def _down_message(self) -> str:
        tail = ("every answer received so far is cached: rerun the same command to resume once the server "
                "answers")
        if self._fatal:
            return f"the server at {', '.join(self.public_urls)} stopped the run: {self._fatal}. Then {tail}"
        with self._lock:
            reasons = sorted(((n, r) for r, n in self.failure_reasons.items() if not r.startswith("not sent")),
                             reverse=True)[:2]
            sent = self.requests
        why = "; ".join(f"{r} x{n}" for n, r in reasons) or "see above"
        return (f"the server at {', '.join(self.public_urls)} looks down: {self.error_budget} asks in a row failed "
                f"({why}; {sent} requests in all, up to {self.max_retries + 1} per ask). Stopped instead of retrying "
                f"further; {tail}")

    def complete(self, asks: Sequence[Ask], *, max_tokens: int = 16, temperature: float = 0.0) -> list[str]:
        def one(a: Ask) -> str:
            msgs = [{"role": m.role, "content": m.content} for m in a.messages]
            return self._request(lambda c: c.chat.completions.create(
                model=self.model, messages=msgs, max_tokens=max_tokens, temperature=temperature,
                seed=a.sample).choices[0].message.content or "")

        try:
            return self._map(one, asks)
        except _Final as exc:
            raise BackendUnavailable(f"the server at {', '.join(self.public_urls)} could not complete a prompt: "
                                     f"{self.redact(exc)}") from None


class _Final(Exception):
    """An ask that cannot be answered (after retries, or a non-retryable HTTP error)."""


class _LogprobsRefused(Exception):
    """The server rejects requests for logprobs (HTTP 400/422 naming them)."""


class _Workers:
    """A fixed set of daemon worker threads. Unlike a ThreadPoolExecutor they do not hold up the exit of
    an interrupted run: a request in flight is dropped (and asked again by the rerun)."""

    def __init__(self, n: int):
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._loop, name=f"popsim-openai-{i}", daemon=True)
                         for i in range(n)]
        for t in self._threads:
            t.start()

    def _loop(self):
        while True:
            item = self._queue.get()
            if item is None:
                return
            fut, fn, arg = item
            del item
            if fut.set_running_or_notify_cancel():
                try:
                    fut.set_result(fn(arg))
                except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
                    fut.set_exception(exc)
            del fut, fn, arg  # an idle worker keeps no backend alive

    def submit(self, fn, arg) -> Future:
        fut: Future = Future()
        self._queue.put((fut, fn, arg))
        return fut

    def close(self):
        for _ in self._threads:
            self._queue.put(None)


def _body(exc) -> str:
    """The server's error message of an APIStatusError (its JSON `message` if there is one)."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or body)
    return str(body if body is not None else (getattr(exc, "message", "") or exc))


def _retry_after(exc) -> float | None:
    """Seconds from retry-after-ms, or Retry-After in seconds or as an HTTP date; None if absent or unreadable."""
    try:
        headers = exc.response.headers
    except AttributeError:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        v = headers.get(name)
        try:
            x = float(v) * scale
            return None if math.isnan(x) else max(0.0, x)
        except (TypeError, ValueError):
            pass
    try:  # RFC 9110 also allows an HTTP date
        return max(0.0, email.utils.parsedate_to_datetime(headers.get("retry-after")).timestamp() - time.time())
    except (TypeError, ValueError, OverflowError):
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
