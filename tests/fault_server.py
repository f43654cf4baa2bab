"""A small OpenAI-compatible HTTP server of the test suite's own, on 127.0.0.1, that fails on purpose.

It answers /v1/models, /v1/completions and /v1/chat/completions over real sockets. The answers come
from the real embedded model (`model="embedded"`: llama.cpp in-process, the same GGUF) or from a cheap
deterministic stand-in (`model="hash"`) when a test exercises the HTTP machinery at volume. With
`fault_rate` > 0 a seeded share of requests fails in one of the `kinds`:

- `429`: HTTP 429 with a Retry-After header (`retry_after` seconds; `retry_after_header="retry-after-ms"` or
  `"Retry-After-Date"` for the other two forms);  `500`, `503`: server errors;
- `reset`: the connection is closed without an answer;  `timeout`: the answer comes too late;
- `truncated`: half a JSON body;  `no_logprobs`: a valid answer without logprobs;
- `no_option`: top logprobs that contain no valid option.

`down=True` makes every completion request fail with 503 (a server that is plainly down; /models still
answers, as a server whose engine died often does); `down_after=n` does so from the n+1-th request on.
`fail_first=k` fails the first k attempts of every distinct request in one of `kinds` (deterministic
retries, to time backoff). `refuse_logprobs=True` answers HTTP 400 to requests for logprobs (some hosted
APIs); `api_key="..."` answers 401 to any other key, echoing the Authorization header it got in the body
(as careless proxies do; `models_need_key=False` leaves /models open, so that the asks meet the 401);
`echo_auth=True` adds the Authorization header to every error body. Every request is logged as (time, request key, fault) in `log`; `request_key`
gives the key a test computes for an ask. Every answer is logged as (time it was sent, request key) in `sent`;
`latency=s` makes every answer take s seconds.

A list of prompts to /v1/completions is answered one choice per prompt, each with its `index` (as vLLM and
OpenAI do), unless `prompt_lists` says otherwise (from the `lists_ok_for`+1-th list request on):
`"refuse"`: HTTP 400 (a server that takes one prompt only); `"assert"`: HTTP 500, as llama-cpp-python's server
answers; `"first"`: one choice, for the first prompt; `"short"`: one choice fewer than prompts; `"shuffled"`:
the choices in reverse order with their right indexes (legal); `"misindexed"`: every choice with index 0;
`"reversed"`: each choice carries another prompt's answer under the index of its own position (mixed up).
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import sys
import math
import random
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FAULT_KINDS = ("429", "500", "503", "reset", "timeout", "truncated", "no_logprobs", "no_option")
LIST_BEHAVIOURS = ("accept", "refuse", "assert", "first", "short", "shuffled", "misindexed", "reversed")


class _Model:
    """Next-token top logprobs and short generations for a prompt."""

    def __init__(self, kind: str):
        self.kind = kind
        self.lock = threading.Lock()
        if kind == "embedded":
            from popsim.backends.embedded import EmbeddedBackend

            self.backend = EmbeddedBackend()
            self.llm = self.backend.llm

    def render(self, messages) -> str:
        from popsim.asks import Message
        from popsim.backends.chat_template import render_chat

        if self.kind == "embedded":
            return render_chat(self.backend._template, [Message(m["role"], m["content"]) for m in messages])
        return "".join(f"{m['content']}\n" for m in messages)  # the stand-in's "template"

    def top(self, prompt: str, k: int) -> dict[str, float]:
        if self.kind == "embedded":
            import numpy as np

            with self.lock:
                toks = self.llm.tokenize(prompt.encode(), add_bos=True, special=True)
                lp = self.backend._logprobs_after(toks)
            ids = np.argsort(-lp)[:k]
            return {self.llm.detokenize([int(i)]).decode("utf-8", errors="ignore"): float(lp[i]) for i in ids}
        # stand-in: digits, Yes/No and junk with probabilities from the prompt's hash
        h = int(hashlib.sha256(prompt.encode()).hexdigest()[:12], 16)
        rnd = random.Random(h)
        toks = [str(i) for i in range(11)] + ["Yes", "No", " ", "The", "I"]
        w = [rnd.random() + (0.3 if t.strip() else 0.0) for t in toks]
        z = sum(w)
        top = sorted(((t, math.log(x / z)) for t, x in zip(toks, w)), key=lambda kv: -kv[1])
        return dict(top[:k])

    def generate(self, prompt: str, max_tokens: int, temperature: float, seed: int) -> str:
        if self.kind == "embedded":
            with self.lock:
                out = self.llm.create_completion(prompt, max_tokens=max_tokens, temperature=temperature, seed=seed)
            return out["choices"][0]["text"]
        top = self.top(prompt, 20)
        rnd = random.Random(seed * 7919 + len(prompt))
        toks, lps = zip(*top.items())
        return rnd.choices(toks, weights=[math.exp(x) for x in lps])[0]


class FaultServer:
    def __init__(self, *, model: str = "hash", name: str = "test-model", fault_rate: float = 0.0,
                 kinds: tuple[str, ...] = FAULT_KINDS, seed: int = 0, retry_after: float = 0.05,
                 retry_after_header: str = "Retry-After", timeout_delay: float = 3.0, down: bool = False,
                 down_after: int | None = None, fail_first: int = 0, logprobs: bool = True,
                 refuse_logprobs: bool = False, api_key: str | None = None, models_need_key: bool = True,
                 echo_auth: bool = False, prompt_lists: str = "accept", lists_ok_for: int = 0, latency: float = 0.0):
        unknown = set(kinds) - set(FAULT_KINDS)
        assert not unknown, f"unknown fault kinds {unknown}"
        assert prompt_lists in LIST_BEHAVIOURS, prompt_lists
        self.prompt_lists, self.lists_ok_for = prompt_lists, lists_ok_for
        self.latency = latency  # seconds each answer takes (a server at a known pace)
        self.model = _Model(model)
        self.name = name
        self.fault_rate = fault_rate
        self.kinds = kinds
        self.rng = random.Random(seed)
        self.retry_after = retry_after
        self.retry_after_header = retry_after_header
        self.timeout_delay = timeout_delay
        self.down = down
        self.down_after = down_after
        self.fail_first = fail_first
        self.logprobs = logprobs
        self.refuse_logprobs = refuse_logprobs
        self.api_key = api_key
        self.models_need_key = models_need_key
        self.echo_auth = echo_auth
        self.counts: Counter = Counter()
        self.log: list[tuple[float, str, str | None]] = []  # (time, request key, fault)
        self.sent: list[tuple[float, str]] = []  # (time the answer was written, request key)
        self._attempts: Counter = Counter()
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall

            def log_message(self, *a):
                pass

            def _send(self, code: int, body: dict | bytes, headers: dict | None = None):
                if server.echo_auth and code >= 400 and isinstance(body, dict):
                    body["error"]["message"] += f" (request had Authorization: {self.headers.get('Authorization')})"
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _refuse_key(self) -> bool:
                """401 (echoing the Authorization header it got, as careless proxies do) unless the key is right."""
                got = self.headers.get("Authorization", "")
                if server.api_key is None or got == f"Bearer {server.api_key}":
                    return False
                with server.lock:
                    server.counts["401"] += 1
                self._send(401, {"error": {"message": f"Incorrect API key provided: {got}",
                                           "type": "invalid_request_error", "code": "invalid_api_key"}})
                return True

            def do_GET(self):
                if server.models_need_key and self._refuse_key():
                    return
                if self.path.rstrip("/").endswith("/models"):
                    return self._send(200, {"object": "list", "data": [{"id": server.name, "object": "model"}]})
                self._send(404, {"error": {"message": "not found"}})

            def do_POST(self):
                n = int(self.headers.get("Content-Length", 0))
                try:
                    req = json.loads(self.rfile.read(n) or b"{}")
                except ValueError:
                    return self._send(400, {"error": {"message": "body is not JSON"}})
                if not self.path.rstrip("/").endswith("/completions"):
                    return self._send(404, {"error": {"message": f"no route {self.path}"}})
                chat = self.path.rstrip("/").endswith("/chat/completions")
                key = request_key(req, chat)
                if server.api_key is not None and self.headers.get("Authorization") != f"Bearer {server.api_key}":
                    with server.lock:
                        server.counts["requests"] += 1
                        server.log.append((time.monotonic(), key, "401"))
                    return self._refuse_key()
                fault = server._fault(key)
                with server.lock:
                    server.counts["requests"] += 1
                    if fault:
                        server.counts[fault] += 1
                    server.log.append((time.monotonic(), key, fault))
                if fault == "429":
                    name, value = server.retry_after_header, f"{server.retry_after:g}"
                    if name.lower() == "retry-after-ms":
                        value = f"{server.retry_after * 1000:g}"
                    elif name.lower() == "retry-after-date":  # an HTTP date, as RFC 9110 also allows
                        name, value = "Retry-After", email.utils.formatdate(time.time() + server.retry_after,
                                                                            usegmt=True)
                    return self._send(429, {"error": {"message": "rate limited"}}, {name: value})
                if fault in ("500", "503"):
                    return self._send(int(fault), {"error": {"message": "server error"}})
                if fault == "reset":
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                if fault == "timeout":
                    time.sleep(server.timeout_delay)
                elif server.latency:
                    time.sleep(server.latency)
                if req.get("model") != server.name:
                    return self._send(404, {"error": {"message": f"model {req.get('model')} not found"}})
                if server.refuse_logprobs and req.get("logprobs"):
                    with server.lock:
                        server.counts["400 logprobs"] += 1
                    return self._send(400, {"error": {"message": "logprobs are not supported with this model",
                                                      "type": "invalid_request_error", "param": "logprobs"}})
                prompt = server.model.render(req["messages"]) if chat else req["prompt"]
                if isinstance(prompt, list):
                    how = server._list_behaviour()
                    if how in ("refuse", "assert"):
                        code, msg = (400, "prompt must be a string") if how == "refuse" else (500, "AssertionError")
                        return self._send(code, {"error": {"message": msg, "type": "invalid_request_error"}})
                    body = server._list_answer(req, prompt, fault, how)
                else:
                    body = server._answer(req, prompt, chat, fault)
                if fault == "truncated":
                    raw = json.dumps(body).encode()
                    return self._send(200, raw[: len(raw) // 2])
                self._send(200, body)
                with server.lock:
                    server.sent.append((time.monotonic(), key))

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                # a client that timed out has gone: writing to it fails, which is the point of the fault
                if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
                    super().handle_error(request, client_address)

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def _fault(self, key: str) -> str | None:
        with self.lock:
            if self.down or (self.down_after is not None and self.counts["requests"] >= self.down_after):
                return "503"
            if self.fail_first:
                self._attempts[key] += 1
                if self._attempts[key] <= self.fail_first:
                    return self.rng.choice(self.kinds)
                return None
            if self.fault_rate and self.rng.random() < self.fault_rate:
                return self.rng.choice(self.kinds)
        return None

    def _list_behaviour(self) -> str:
        with self.lock:
            self.counts["list requests"] += 1
            return "accept" if self.counts["list requests"] <= self.lists_ok_for else self.prompt_lists

    def _list_answer(self, req: dict, prompts: list, fault: str | None, how: str) -> dict:
        choices = [dict(self._answer(req, p, False, fault)["choices"][0], index=i) for i, p in enumerate(prompts)]
        if how == "first":
            choices = choices[:1]
        elif how == "short":
            choices = choices[:-1]
        elif how == "shuffled":
            choices = choices[::-1]
        elif how == "misindexed":
            choices = [dict(c, index=0) for c in choices]
        elif how == "reversed":
            choices = [dict(c, index=i) for i, c in enumerate(choices[::-1])]
        tokens = sum(len(p) // 4 for p in prompts)
        return {"id": "cmpl-test", "object": "text_completion", "created": 0, "model": self.name, "choices": choices,
                "usage": {"prompt_tokens": tokens, "completion_tokens": len(prompts),
                          "total_tokens": tokens + len(prompts)}}

    def requests_for(self, key: str) -> list[tuple[float, str | None]]:
        """(time, fault) of every request with this key, in order of arrival."""
        with self.lock:
            return [(t, f) for t, k, f in self.log if k == key]

    def _answer(self, req: dict, prompt: str, chat: bool, fault: str | None) -> dict:
        want = req.get("top_logprobs") if chat else req.get("logprobs")
        want_lp = bool(req.get("logprobs")) and self.logprobs and fault != "no_logprobs"
        max_tokens = int(req.get("max_tokens") or 16)
        if want_lp and max_tokens == 1:
            top = self.model.top(prompt, int(want or 5))
            if fault == "no_option":
                top = {"The": -0.5, "I": -1.5, "It": -2.0}
            text = max(top, key=top.get)
        else:
            top = None
            text = self.model.generate(prompt, max_tokens, float(req.get("temperature", 1.0)),
                                       int(req.get("seed") or 0))
        if chat:
            lp = None
            if top is not None:
                lp = {"content": [{"token": text, "logprob": top[text], "bytes": None,
                                   "top_logprobs": [{"token": t, "logprob": v, "bytes": None} for t, v in top.items()]}]}
            return {"id": "chatcmpl-test", "object": "chat.completion", "created": 0, "model": self.name,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "logprobs": lp,
                                 "finish_reason": "length"}]}
        lp = None
        if top is not None:
            lp = {"tokens": [text], "token_logprobs": [top[text]], "top_logprobs": [top], "text_offset": [0]}
        return {"id": "cmpl-test", "object": "text_completion", "created": 0, "model": self.name,
                "choices": [{"index": 0, "text": text, "logprobs": lp, "finish_reason": "length"}],
                "usage": {"prompt_tokens": len(prompt) // 4, "completion_tokens": 1,
                          "total_tokens": len(prompt) // 4 + 1}}

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def request_key(req: dict, chat: bool) -> str:
    """What identifies a request's question: the messages (chat) or the prompt (completions), and the
    decoding settings, hashed. Tests compute it from an ask with `ask_key`."""
    what = [[m.get("role"), m.get("content")] for m in req.get("messages") or []] if chat else req.get("prompt")
    head = [what, req.get("max_tokens"), req.get("seed"), bool(req.get("logprobs"))]
    return hashlib.sha256(json.dumps(head, sort_keys=True).encode()).hexdigest()[:24]


def ask_key(messages) -> str:
    """The request key of a chat ask's one-token logprob request (`messages`: pairs of role, content)."""
    return request_key({"messages": [{"role": r, "content": c} for r, c in messages], "max_tokens": 1,
                        "seed": None, "logprobs": True}, chat=True)
