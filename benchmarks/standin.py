"""An instant stand-in OpenAI-compatible server: fixed top logprobs for every prompt, no model.

A bare ASGI app under uvicorn (uvloop and httptools when installed: as fast as this machine allows), for
measuring the client side alone (`bench_client.py`). It answers

- `GET /v1/models`;
- `POST /v1/completions`: a string `prompt` or a list of prompts, one choice per prompt with its `index`
  (as vLLM, llama.cpp's server and OpenAI's completions endpoint do), each with top logprobs;
- `POST /v1/chat/completions`: one choice whose first token has top logprobs;

with a `usage` block (prompt tokens estimated as characters / 4, one completion token per prompt).
The top logprobs are those of a model that answers a 1-6 scale after "Answer: " with a digit, so
popsim's option walk needs exactly one request per ask, as the raw client sends.

    python benchmarks/standin.py --port 8765          # serve until stopped
"""

from __future__ import annotations

import argparse
import json

try:
    import orjson

    dumps = orjson.dumps
    loads = orjson.loads
except ImportError:  # pragma: no cover - the plain library is slower but equivalent
    def dumps(obj):
        return json.dumps(obj, separators=(",", ":")).encode()

    loads = json.loads

MODEL = "standin"
#: the next-token distribution after "Answer: " (20 entries, as `top_logprobs=20` asks); the lone space is too
#: unlikely for the option walk to follow it
TOP = {"4": -0.92, "5": -1.21, "3": -1.63, "6": -2.05, "2": -2.61, "1": -3.22, "\n": -4.4, "I": -4.9,
       "The": -5.3, "Yes": -5.8, "No": -6.1, "7": -6.6, "0": -7.0, " 4": -7.3, "It": -7.7, "A": -8.0, "My": -8.4,
       "This": -8.8, "We": -9.5, " ": -12.5}
CHAT_TOP = [{"token": t, "logprob": v, "bytes": None} for t, v in TOP.items()]
MODELS = dumps({"object": "list", "data": [{"id": MODEL, "object": "model", "owned_by": "standin"}]})
_LP = {"tokens": ["4"], "token_logprobs": [TOP["4"]], "top_logprobs": [TOP],
       "text_offset": [0]}


def completion_body(prompts: list[str]) -> bytes:
    choices = [{"index": i, "text": "4", "logprobs": _LP, "finish_reason": "length"} for i in range(len(prompts))]
    pt = sum(len(p) // 4 for p in prompts)
    return dumps({"id": "cmpl-standin", "object": "text_completion", "created": 0, "model": MODEL,
                  "choices": choices, "usage": {"prompt_tokens": pt, "completion_tokens": len(prompts),
                                                "total_tokens": pt + len(prompts)}})


def chat_body(messages: list[dict]) -> bytes:
    pt = sum(len(m.get("content") or "") for m in messages) // 4
    lp = {"content": [{"token": "4", "logprob": TOP["4"], "bytes": None, "top_logprobs": CHAT_TOP}]}
    return dumps({"id": "chatcmpl-standin", "object": "chat.completion", "created": 0, "model": MODEL,
                  "choices": [{"index": 0, "message": {"role": "assistant", "content": "4"}, "logprobs": lp,
                               "finish_reason": "length"}],
                  "usage": {"prompt_tokens": pt, "completion_tokens": 1, "total_tokens": pt + 1}})


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            msg = await receive()
            if msg["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif msg["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = b""
    more = True
    while more:
        msg = await receive()
        body += msg.get("body", b"")
        more = msg.get("more_body", False)
    path = scope["path"].rstrip("/")
    status, data = 200, None
    if scope["method"] == "GET" and path.endswith("/models"):
        data = MODELS
    elif scope["method"] == "POST" and path.endswith("/completions"):
        try:
            req = loads(body)
            if path.endswith("/chat/completions"):
                data = chat_body(req["messages"])
            else:
                prompt = req["prompt"]
                data = completion_body(prompt if isinstance(prompt, list) else [prompt])
        except (ValueError, KeyError, TypeError) as exc:
            status, data = 400, dumps({"error": {"message": f"bad request: {exc}"}})
    if data is None:
        status, data = 404, dumps({"error": {"message": "not found"}})
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})


def serve(port: int, host: str = "127.0.0.1") -> None:
    import importlib.util

    import uvicorn

    fast = {"loop": "uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
            "http": "httptools" if importlib.util.find_spec("httptools") else "h11"}
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, lifespan="on", **fast)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    args = ap.parse_args()
    serve(args.port, args.host)
