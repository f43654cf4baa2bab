"""Prompt tokens before a run: the model's own tokenizer where popsim can reach it, else an estimate said as such.

The embedded model counts with its llama.cpp tokenizer; an OpenAI-compatible server with the tokenize endpoint
it offers (vLLM `/tokenize`, llama.cpp's server `/tokenize`, llama-cpp-python's `/extras/tokenize`); anything
else is estimated at 4 characters per token. Many prompts are counted on a random sample and scaled by their
characters (said so in the description).
"""

from __future__ import annotations

import math
import random
from typing import Callable, Sequence

EXACT_LOCAL = 20_000  # prompts counted one by one with a local tokenizer; beyond, a sample
EXACT_SERVER = 2_000  # ... with a server's endpoint (one request each)
SAMPLE = 500
CHARS_PER_TOKEN = 4.0
ESTIMATE = f"estimate: {CHARS_PER_TOKEN:g} characters per token"


def estimate(texts: Sequence[str]) -> int:
    return sum(math.ceil(len(t) / CHARS_PER_TOKEN) for t in texts)


def count_texts(texts: Sequence[str], count_one: Callable[[str], int], *, name: str, exact_up_to: int,
                seed: int = 0) -> tuple[int, str]:
    """(tokens, how they were counted): every text with `count_one`, or a sample of them scaled by characters."""
    if len(texts) <= exact_up_to:
        return sum(count_one(t) for t in texts), name
    pick = random.Random(seed).sample(range(len(texts)), SAMPLE)
    tokens, chars = sum(count_one(texts[i]) for i in pick), sum(len(texts[i]) for i in pick)
    total = round(tokens / max(chars, 1) * sum(len(t) for t in texts))
    return total, f"{name} on {SAMPLE} of {len(texts):,} prompts, scaled by characters (an estimate)"


#: (path from the server's root, request body, name) of the tokenize endpoints popsim knows
_FORMS = (
    ("/tokenize", lambda model, text: {"model": model, "prompt": text}, "the server's tokenizer (/tokenize)"),
    ("/tokenize", lambda model, text: {"content": text, "add_special": True}, "the server's tokenizer (/tokenize)"),
    ("/extras/tokenize", lambda model, text: {"model": model, "input": text},
     "the server's tokenizer (/extras/tokenize)"),
)


def server_counter(client, base_url: str, model: str, probe: str) -> tuple[Callable[[str], int], str] | None:
    """A function counting the tokens of a text with the server's own tokenize endpoint, and its name; None when
    the server has none that answers (`client`: an `http.Client`)."""
    from .http import ConnectionFailed, RequestTimeout, dumps

    root = base_url[:-3] if base_url.endswith("/v1") else base_url
    for path, body, name in _FORMS:
        def count(text: str, path=path, body=body) -> int:
            r = client.request("POST", root, path, dumps(body(model, text)), timeout=30.0)
            if r.status != 200:
                raise ValueError(f"HTTP {r.status}")
            data = r.json()
            return int(data["count"]) if isinstance(data.get("count"), int) else len(data["tokens"])

        try:
            count(probe)
        except (ValueError, KeyError, TypeError, AttributeError, RequestTimeout, ConnectionFailed):
            continue
        return count, name
    return None
