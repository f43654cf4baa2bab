"""Requests that survive a failing server: retries, Retry-After, an error budget, load balancing, fault
statistics, and the worker threads that keep `concurrency` requests in flight (docs/reliability.md).

HTTP 429/408/409/5xx, timeouts, dropped connections and malformed bodies are retried (`max_retries`)
after `backoff * 2**attempt * U(0.5, 1)` s (at most `max_backoff`), or after at least the server's
Retry-After. An ask that still fails is `Final` (its reason is recorded; it is never cached). Once two
asks in a row failed every retry, later asks get one try each until one is answered; `error_budget`
failed asks in a row (or a refused key, or no quota) stop everything: `down`. Several base URLs are
served by least load.
"""

from __future__ import annotations

import email.utils
import math
import queue
import random
import threading
import time
from collections import defaultdict
from typing import Callable, Sequence

from .http import Client, ConnectionFailed, RequestTimeout


class Final(Exception):
    """An ask that cannot be answered (after retries, or a non-retryable HTTP error)."""


class LogprobsRefused(Exception):
    """The server rejects requests for logprobs (HTTP 400/422 naming them)."""


class ListRefused(Exception):
    """A request with a list of prompts was refused with a status that a single prompt may not meet."""


#: statuses that may mean "not a list of prompts" while batching is being tried out, and once it works
PROBE_REFUSALS = frozenset({400, 404, 405, 413, 415, 422, 500, 501})
LIST_REFUSALS = frozenset({400, 413, 422})


class Retrier:
    def __init__(self, client: Client, base_urls: Sequence[str], redact: Callable[[object], str], *,
                 api_key_env: str, max_retries: int, backoff: float, max_backoff: float, max_retry_after: float,
                 error_budget: int, concurrency: int):
        self.client, self.base_urls, self.redact = client, list(base_urls), redact
        self.api_key_env, self.max_retries, self.error_budget = api_key_env, max_retries, error_budget
        self.backoff, self.max_backoff, self.max_retry_after = backoff, max_backoff, max_retry_after
        self.concurrency = concurrency
        self.lock = threading.Lock()
        self._load = {u: 0 for u in self.base_urls}
        self.stop = threading.Event()  # set when the caller was interrupted: retries end at once
        self.down = False  # the error budget is spent, or the server refused the key or the account
        self.fatal: str | None = None  # why every further ask would fail too (key refused, no quota)
        self.requests = 0  # HTTP requests sent
        self.retries = 0  # failed requests that were tried again
        self.retry_reasons: dict[str, int] = defaultdict(int)  # failed requests by reason
        self.failed_asks = 0
        self.failure_reasons: dict[str, int] = defaultdict(int)
        self.consecutive = 0  # asks in a row that failed every retry
        self._workers: Workers | None = None

    # ------------------------------------------------------------------ one request, retried
    def _pick(self) -> str:
        with self.lock:
            url = min(self.base_urls, key=self._load.__getitem__)
            self._load[url] += 1
            self.requests += 1
            return url

    def post(self, path: str, body: bytes, parse: Callable, *, logprobs: bool = False,
             refusals: frozenset = frozenset()):
        """POST `body` to `path` of the least-loaded server and return `parse(answer JSON)`, retrying with
        exponential backoff and jitter (at least Retry-After). `refusals`: statuses raised as `ListRefused`."""
        last = "unknown"
        for attempt in range(self.max_retries + 1):
            if self.down or self.stop.is_set():
                raise Final("not sent: " + ("the server looks down (error budget spent)" if self.down
                                            else "the run was stopped"))
            if attempt and self.consecutive >= 2:  # the asks before this one failed every retry too
                raise Final(f"{last}: gave up after {attempt} attempt{'s' * (attempt > 1)} (the asks before "
                            "failed too)")
            url = self._pick()
            wait = None
            try:
                resp = self.client.request("POST", url, path, body)
                code = resp.status
                if 200 <= code < 300:
                    return parse(resp.json())
                message = self.redact(resp.message())
                if code == 429 and b"insufficient_quota" in resp.body:
                    raise self.stop_all("HTTP 429: the account has no quota left (insufficient_quota); retrying "
                                        "cannot help")
                if code in (401, 403):
                    raise self.stop_all(f"HTTP {code}: the server refused the API key; set the right key in "
                                        f"${self.api_key_env} or pass --api-key-file")
                if logprobs and code in (400, 422) and "logprob" in message.lower():
                    raise LogprobsRefused(f"HTTP {code}: {message[:160]}")
                if code in refusals:
                    raise ListRefused(f"HTTP {code}: {message[:160]}")
                if code in (408, 409, 429) or code >= 500:
                    last, wait = f"HTTP {code}", retry_after(resp.headers)
                else:
                    raise Final(f"HTTP {code}: {message[:200]}")
            except RequestTimeout:
                last = "timeout"
            except ConnectionFailed as exc:
                last = f"connection error ({exc.kind})"
            except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
                last = f"malformed response ({type(exc).__name__})"
            finally:
                with self.lock:
                    self._load[url] -= 1
            with self.lock:
                self.retry_reasons[last.split(" (")[0]] += 1
                if attempt < self.max_retries:
                    self.retries += 1
            if attempt < self.max_retries:
                delay = min(self.max_backoff, self.backoff * 2 ** attempt) * random.uniform(0.5, 1.0)
                if wait is not None and wait > self.max_retry_after:
                    raise Final(f"{last}: the server asked to retry after {wait:.0f} s, more than max_retry_after="
                                f"{self.max_retry_after:g} s")
                if wait is not None and wait > 0:
                    delay = wait * random.uniform(1.0, 1.1)  # at least what the server asked; spread the herd
                self.stop.wait(delay)
        raise Final(f"{last}: gave up after {self.max_retries + 1} attempts")

    def stop_all(self, reason: str) -> Final:
        """A refusal that every further ask would meet too: no more requests (the budget is spent at once)."""
        with self.lock:
            self.down = True
            self.fatal = self.fatal or reason
        return Final(reason)

    # ------------------------------------------------------------------ the error budget
    def settle(self, fn: Callable, x, *, asks: int = 1):
        """`(fn(x), None)`, or `(None, reason)` when its requests failed for good: `asks` failed asks, one more
        failure in a row against the error budget."""
        try:
            value = fn(x)
        except Final as exc:
            reason = self.redact(exc)
            with self.lock:
                self.failed_asks += asks
                self.failure_reasons[reason.split(":")[0]] += asks
                if not reason.startswith("not sent"):
                    self.consecutive += 1
                    if self.consecutive >= self.error_budget:
                        self.down = True
            return None, reason
        with self.lock:
            self.consecutive = 0
        return value, None

    def stats(self) -> dict:
        with self.lock:
            return {"requests": self.requests, "failed_requests": dict(self.retry_reasons),
                    "retried": self.retries, "failed_asks": self.failed_asks,
                    "failed_ask_reasons": dict(self.failure_reasons), "stopped_as_down": self.down}

    def down_message(self, shown: str) -> str:
        tail = ("every answer received so far is cached: rerun the same command to resume once the server "
                "answers")
        if self.fatal:
            return f"the server at {shown} stopped the run: {self.fatal}. Then {tail}"
        with self.lock:
            reasons = sorted(((n, r) for r, n in self.failure_reasons.items() if not r.startswith("not sent")),
                             reverse=True)[:2]
            sent = self.requests
        why = "; ".join(f"{r} x{n}" for n, r in reasons) or "see above"
        return (f"the server at {shown} looks down: {self.error_budget} asks in a row failed ({why}; {sent} requests "
                f"in all, up to {self.max_retries + 1} per ask). Stopped instead of retrying further; {tail}")

    # ------------------------------------------------------------------ concurrency
    def map(self, fn: Callable, items: Sequence, on_result: Callable | None = None) -> list:
        """`fn` over `items` on `concurrency` worker threads; results in order, and `on_result(i, result)` as
        each finishes (on the worker's thread). Interrupted (Ctrl-C): pending items are skipped and running
        ones stop retrying, so the caller regains control at once."""
        if self.stop.is_set():
            self.stop = threading.Event()
        with self.lock:
            if self._workers is None:
                self._workers = Workers(self.concurrency)
            workers = self._workers
        job = _Job(fn, items, on_result)
        if not job.remaining:
            return []
        workers.run(job)
        try:
            job.done.wait()
        except BaseException:
            job.cancelled = True
            self.stop.set()
            raise
        if job.error is not None:
            self.stop.set()
            raise job.error
        return job.results

    def close(self):
        with self.lock:
            workers, self._workers = self._workers, None
        if workers is not None:
            workers.close()


class _Job:
    __slots__ = ("fn", "items", "on_result", "results", "remaining", "done", "cancelled", "error", "lock")

    def __init__(self, fn, items, on_result):
        self.fn, self.items, self.on_result = fn, list(items), on_result
        self.results: list = [None] * len(self.items)
        self.remaining = len(self.items)
        self.done = threading.Event()
        self.cancelled = False
        self.error: BaseException | None = None
        self.lock = threading.Lock()

    def do(self, i: int) -> None:
        if not (self.cancelled or self.error is not None):
            try:
                r = self.results[i] = self.fn(self.items[i])
                if self.on_result is not None:
                    self.on_result(i, r)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                with self.lock:
                    if self.error is None:
                        self.error = exc
                self.done.set()
        with self.lock:
            self.remaining -= 1
            if self.remaining == 0:
                self.done.set()


class Workers:
    """A fixed set of daemon worker threads. Unlike a ThreadPoolExecutor they do not hold up the exit of
    an interrupted run: a request in flight is dropped (and asked again by the rerun)."""

    def __init__(self, n: int):
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._loop, name=f"popsim-http-{i}", daemon=True) for i in range(n)]
        for t in self._threads:
            t.start()

    def _loop(self):
        get = self._queue.get
        while True:
            item = get()
            if item is None:
                return
            job, i = item
            del item
            job.do(i)
            del job  # an idle worker keeps no backend alive

    def run(self, job: _Job) -> None:
        put = self._queue.put
        for i in range(len(job.items)):
            put((job, i))

    def close(self):
        for _ in self._threads:
            self._queue.put(None)


def retry_after(headers: dict[str, str]) -> float | None:
    """Seconds from retry-after-ms, or Retry-After in seconds or as an HTTP date; None if absent or unreadable."""
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
