"""OpenAI-compatible path against a real local server: throughput vs concurrency, and popsim's share of
the server's best rate on the same requests.

Starts llama-cpp-python's server (as tests/conftest.py does) serving the embedded GGUF. The asks are
those of a dominant-value population (value_prompt personas x ESS-21 items), rendered client-side
exactly as popsim's `--api completions` sends them (one-token completions with top-20 logprobs).

1. A minimal client (http.client, one keep-alive connection per thread, no retries, no parsing
   beyond json.loads) fires the same requests with 1, 2, 4, 8, 16 in flight: the server's rate.
2. At the best concurrency, raw client and popsim (`Engine(OpenAIBackend(...)).resolve(asks)`: dedupe,
   cache, retries, option walk, cache writes) alternate A B B A ...; popsim's rate / the raw rate.

    .venv/bin/python benchmarks/bench_http.py [--quick]
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import header, llama_server, median, save  # noqa: E402

from popsim import prompts  # noqa: E402
from popsim.backends.embedded import find_model_file  # noqa: E402
from popsim.backends.openai_compat import OpenAIBackend  # noqa: E402
from popsim.engine import Engine  # noqa: E402
from popsim.instruments import load_instrument  # noqa: E402
from popsim.values import CODES10  # noqa: E402


def build_asks(n_personas: int, n_items: int, offset: int = 0) -> list:
    inst = load_instrument("ess21")
    pool = [(p, g) for g in ("male", "female") for p in (*CODES10, None)]
    out = []
    for prime, gender in pool[offset:offset + n_personas]:
        persona = prompts.persona_text("value_prompt", prime=prime)
        for it in inst.items[:n_items]:
            pres = prompts.present_options(it, "ascending")
            out.append(prompts.build_ask(persona, prompts.item_text(it, inst.instruction, inst.question, pres,
                                                                    gender=gender), pres.labels))
    return out


def raw_rate(url: str, bodies: list[bytes], concurrency: int) -> dict:
    """Fire POST /completions bodies with `concurrency` in flight; requests/s."""
    u = urlparse(url)
    local = threading.local()

    def one(body: bytes):
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=300)
        conn.request("POST", u.path + "/completions", body=body, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        data = resp.read()
        if resp.status != 200:
            raise RuntimeError(f"HTTP {resp.status}: {data[:200]!r}")
        return json.loads(data)["choices"][0]["logprobs"]["top_logprobs"][0]

    t = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        out = list(pool.map(one, bodies))
    seconds = time.perf_counter() - t
    return {"requests": len(bodies), "seconds": seconds, "rate": len(bodies) / seconds, "ok": sum(1 for o in out if o)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer asks and rounds (a few minutes)")
    ap.add_argument("--threads", type=int, default=2, help="server threads (default 2)")
    args = ap.parse_args(argv)
    m = header("OpenAI-compatible path: llama-cpp-python server on 127.0.0.1", argv if argv is not None else sys.argv[1:])
    levels = (1, 2, 4, 8, 16)
    n_personas, n_items, rounds = (1, 10, 2) if args.quick else (2, 21, 3)
    with llama_server(str(find_model_file()), n_threads=args.threads) as url:
        be = OpenAIBackend(url, "smollm2", api="completions", concurrency=8, top_logprobs=20)
        asks = build_asks(n_personas, n_items)
        bodies = [json.dumps({"model": "smollm2", "prompt": be._render(a), "max_tokens": 1, "temperature": 0.0,
                              "logprobs": 20}).encode() for a in asks]
        raw_rate(url, bodies[:2], 1)  # warm up
        sweep = {}
        for c in levels:
            sweep[c] = raw_rate(url, bodies, c)
            print(f"   raw client, {c:>2} in flight: {sweep[c]['rate']:.2f} requests/s", flush=True)
        best = max(levels, key=lambda c: sweep[c]["rate"])
        pairs = []
        for r in range(rounds):
            # fresh asks each round (the engine would otherwise answer from its cache); raw gets the same
            asks_r = build_asks(n_personas, n_items, offset=(r + 1) * n_personas)
            bodies_r = [json.dumps({"model": "smollm2", "prompt": be._render(a), "max_tokens": 1, "temperature": 0.0,
                                    "logprobs": 20}).encode() for a in asks_r]
            popsim_be = OpenAIBackend(url, "smollm2", api="completions", concurrency=best, top_logprobs=20)
            res = {}

            def run_popsim():
                eng = Engine(popsim_be)
                t = time.perf_counter()
                dists = eng.resolve(asks_r)
                s = time.perf_counter() - t
                return {"asks": len(asks_r), "requests": popsim_be.requests, "seconds": s, "rate": len(asks_r) / s,
                        "failed": sum(1 for d in dists if not d.ok)}

            steps = [("raw", lambda: raw_rate(url, bodies_r, best)), ("popsim", run_popsim)]
            for name, fn in (steps if r % 2 == 0 else steps[::-1]):
                res[name] = fn()
            res["fraction"] = res["popsim"]["rate"] / res["raw"]["rate"]
            res["fraction_per_request"] = (res["popsim"]["requests"] / res["popsim"]["seconds"]) / res["raw"]["rate"]
            pairs.append(res)
            print(f"   round {r + 1}: raw {res['raw']['rate']:.2f} asks/s, popsim {res['popsim']['rate']:.2f} asks/s "
                  f"({res['popsim']['requests']} requests for {len(asks_r)} asks) -> {res['fraction']:.0%}", flush=True)
    summary = {"best_concurrency": best, "raw_rates": {c: sweep[c]["rate"] for c in levels},
               "fraction_of_best": median([p["fraction"] for p in pairs]),
               "fraction_of_best_per_request": median([p["fraction_per_request"] for p in pairs]),
               "raw_rate_best": median([p["raw"]["rate"] for p in pairs]),
               "popsim_rate": median([p["popsim"]["rate"] for p in pairs])}
    print(f"   best concurrency {best}; popsim end to end = {summary['fraction_of_best']:.0%} of the server's best rate "
          f"in asks/s ({summary['fraction_of_best_per_request']:.0%} in requests/s) (target >= 90%)")
    save("http" + ("_quick" if args.quick else ""), {"machine": m, "sweep": sweep, "pairs": pairs, "summary": summary})


if __name__ == "__main__":
    main()
