"""The client side of the OpenAI-compatible path at GPU-server speed (issue 15, parts 1-3).

Starts the instant stand-in server (`standin.py`: fixed top logprobs, no model; uvicorn on 127.0.0.1, in
its own process) and measures, side by side in one run (variants rotate A B C ... then reversed), on
1,260 distinct asks per round (60 agents with their own `profile` persona x 21 ESS-21 items; new agents
every round, so nothing is answered from an earlier round):

- raw: a minimal `http.client` loop, 8 in flight (one keep-alive connection per thread), one prompt
  per request, the body built with `json.dumps` and the answer read with `json.loads`;
- popsim: `Engine(OpenAIBackend(api=..., concurrency=8), cache).resolve(asks)` (dedupe, cache, retries,
  option walk, cache writes), without a cache file (`Cache(None)`, in memory) and with one (SQLite on disk);
- popsim with `batch_prompts=N` (completions only): N asks per request;
- popsim answering the same asks again from the warm cache file.

For each: asks/s (wall) and CPU per ask (this process's user + system time, all threads; the server
runs in another process), and the ratios to the raw client. Targets: popsim's CPU per ask within 1.5x
of the raw client's; with prompt batching at least 5x the raw client's asks/s.

    .venv/bin/python benchmarks/bench_client.py [--quick] [--rounds R] [--batch N] [--api completions,chat]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import resource
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import free_port, header, median, model_asks, save, serving  # noqa: E402

from popsim.backends.chat_template import CHATML, render_chat  # noqa: E402
from popsim.backends.openai_compat import OpenAIBackend  # noqa: E402
from popsim.cache import Cache  # noqa: E402
from popsim.engine import Engine  # noqa: E402
from popsim.model import PopulationModel  # noqa: E402

CONCURRENCY = 8
AGENTS, ITEMS = 60, 21  # 1,260 distinct asks per round


def round_asks(seed: int) -> list:
    """60 agents with their own `profile` persona x the 21 ESS-21 items: 1,260 distinct asks."""
    m = PopulationModel(n_agents=AGENTS, scenario="ess21", prompt_style="profile", backend="scripted", rng=seed)
    asks = model_asks(m)
    assert len({a.key for a in asks}) == len(asks) == AGENTS * ITEMS
    return asks


# ------------------------------------------------------------------------------ the stand-in server


def standin() -> "contextlib.AbstractContextManager[str]":
    """The stand-in server in its own process; yields its base URL."""
    port = free_port()
    cmd = [sys.executable, str(Path(__file__).with_name("standin.py")), "--port", str(port)]
    return serving(cmd, f"http://127.0.0.1:{port}/v1", "the stand-in server", timeout=60)


# ------------------------------------------------------------------------------ the two clients


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def measure(fn) -> dict:
    c, t = cpu_seconds(), time.perf_counter()
    n, extra = fn()
    wall, cpu = time.perf_counter() - t, cpu_seconds() - c
    assert extra.pop("check")(), "an answer was missing or not read from logprobs"  # checked outside the timing
    return {"asks": n, "seconds": wall, "asks_per_s": n / wall, "cpu_ms_per_ask": 1000 * cpu / n, **extra}


def raw_client(url: str, api: str, asks: list) -> tuple[int, dict]:
    """One prompt per request, 8 in flight, one keep-alive connection per thread; nothing else."""
    u = urlparse(url)
    path = u.path + ("/completions" if api == "completions" else "/chat/completions")
    local = threading.local()
    if api == "completions":
        payloads = [{"model": "standin", "prompt": render_chat(CHATML, a.messages) + a.answer_prefix, "max_tokens": 1,
                     "temperature": 0.0, "logprobs": 20} for a in asks]
    else:
        payloads = [{"model": "standin", "messages": [{"role": m.role, "content": m.content} for m in a.messages],
                     "max_tokens": 1, "temperature": 0.0, "logprobs": True, "top_logprobs": 20} for a in asks]

    def one(payload):
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        conn.request("POST", path, body=json.dumps(payload), headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        data = resp.read()
        if resp.status != 200:
            raise RuntimeError(f"HTTP {resp.status}: {data[:200]!r}")
        choice = json.loads(data)["choices"][0]
        if api == "completions":
            return choice["logprobs"]["top_logprobs"][0]
        return {t["token"]: t["logprob"] for t in choice["logprobs"]["content"][0]["top_logprobs"]}

    def run():
        with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
            out = list(pool.map(one, payloads))
        return len(asks), {"requests": len(asks), "check": lambda: all(out)}

    return run


def popsim_client(url: str, api: str, asks: list, cache_path: Path | None, batch: int = 1):
    opts = {"batch_prompts": batch} if batch != 1 else {}
    backend = OpenAIBackend(url, "standin", api=api, concurrency=CONCURRENCY, top_logprobs=20, **opts)

    eng = Engine(backend, Cache(cache_path))  # opening the cache file is once per run, not per ask: not timed

    def run():
        try:
            dists = eng.resolve(asks)
            st = backend.stats()
            return len(asks), {"requests": st["requests"], "calls": eng.stats.calls, "hits": eng.stats.hits,
                               "check": lambda: all(d.ok and d.method == "logprobs" for d in dists)}
        finally:
            backend.close()

    return run


# ------------------------------------------------------------------------------ where the time goes


def breakdown(url: str) -> dict:
    """CPU microseconds per ask of each step popsim takes (one thread, 1,260 asks), and per request of an
    `http.client` request vs popsim's HTTP client on the stand-in."""
    import math

    import standin

    from popsim.asks import OptionDistribution
    from popsim.backends.http import Client
    from popsim.backends.prompt_lists import merge_top
    from popsim.backends.scoring import walk_options
    from popsim.cache import key_from, key_head

    asks = round_asks(4242)
    texts = {id(a): a.canonical() for a in asks}
    head = key_head("openai", "standin", {"api": "completions"})
    top = merge_top(standin.TOP)
    body = standin.completion_body(["x"] * 32)
    d = OptionDistribution(options=tuple("123456"), logprobs=(-1.0, -2.0, -3.0, -4.0, -0.5, -0.1))
    dj = d.to_json()
    steps = {"canonical text": lambda a: a.canonical(), "cache key": lambda a: key_from(head, texts[id(a)]),
             "render (ChatML)": lambda a: render_chat(CHATML, a.messages) + a.answer_prefix,
             "parse 1/32 of a list answer": None, "option walk": lambda a: walk_options(a.options, "p", lambda s: top.get,
                                                                                     lambda s, x: s + x),
             "answer JSON round trip": lambda a: OptionDistribution.from_json(d.to_json())}
    out = {}
    for name, fn in steps.items():
        c = cpu_seconds()
        if fn is None:
            for _ in range(len(asks) // 32):
                json_loads(body)
        else:
            for a in asks:
                fn(a)
        out[name] = 1e6 * (cpu_seconds() - c) / len(asks)
    cache = Cache(None)
    rows = [(key_from(head, texts[id(a)]), "openai", "standin", "{}", texts[id(a)], dj, 0.0) for a in asks]
    c = cpu_seconds()
    cache.write(rows)
    out["SQLite insert (in memory)"] = 1e6 * (cpu_seconds() - c) / len(asks)
    u = urlparse(url)
    payload = json.dumps({"model": "standin", "prompt": "x" * 1800, "max_tokens": 1, "logprobs": 20}).encode()
    conn, lean = http.client.HTTPConnection(u.hostname, u.port), Client("EMPTY", 30)
    for name, send in (("per request: http.client", lambda: (conn.request("POST", u.path + "/completions", payload,
                                                                            {"Content-Type": "application/json"}),
                                                               conn.getresponse().read())),
                       ("per request: popsim's HTTP client", lambda: lean.request("POST", url, "/completions", payload))):
        send()
        c = cpu_seconds()
        for _ in range(2000):
            send()
        out[name] = 1e6 * (cpu_seconds() - c) / 2000
    assert not math.isnan(sum(out.values()))
    return out


def json_loads(data: bytes):
    from popsim.backends.http import loads

    return loads(data)


# ------------------------------------------------------------------------------ main


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="2 rounds per API instead of 5")
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--batch", type=int, default=32, help="prompts per request for the batched variant (default 32)")
    ap.add_argument("--api", default="completions,chat", help="which APIs to measure (default both)")
    ap.add_argument("--breakdown", action="store_true", help="also: CPU microseconds of each step popsim takes")
    args = ap.parse_args(argv)
    rounds = args.rounds or (2 if args.quick else 5)
    m = header("Client overhead against an instant stand-in server on 127.0.0.1",
               [sys.argv[0], *(argv if argv is not None else sys.argv[1:])])
    apis = [a.strip() for a in args.api.split(",") if a.strip()]
    results: dict = {"machine": m, "rounds": rounds, "concurrency": CONCURRENCY, "batch": args.batch, "apis": {}}
    tmp = Path(tempfile.mkdtemp(prefix="popsim-bench-client-"))
    with standin() as url:
        if args.breakdown:
            results["breakdown_us"] = breakdown(url)
            for name, us in results["breakdown_us"].items():
                print(f"   {name:<36}{us:8.1f} us{'' if name.startswith('per request') else ' per ask'}")
        warm = round_asks(999)[:200]
        for api in apis:
            measure(raw_client(url, api, warm))  # warm up: connections, imports, the server's first requests
            measure(popsim_client(url, api, warm, None))
            per_round = []
            for r in range(rounds):
                asks = round_asks(1000 * (apis.index(api) + 1) + r)
                variants = {"raw": lambda: raw_client(url, api, asks),
                            "popsim": lambda: popsim_client(url, api, asks, None),
                            "popsim+cache": lambda: popsim_client(url, api, asks, tmp / f"{api}{r}.sqlite")}
                if api == "completions" and args.batch > 1:
                    variants["popsim batch"] = lambda: popsim_client(url, api, asks, None, args.batch)
                    variants["popsim batch+cache"] = lambda: popsim_client(url, api, asks, tmp / f"{api}{r}b.sqlite",
                                                                          args.batch)
                names = list(variants)
                order = names if r % 2 == 0 else names[::-1]
                res = {}
                for name in order:
                    res[name] = measure(variants[name]())
                res["popsim warm cache"] = measure(popsim_client(url, api, asks, tmp / f"{api}{r}.sqlite"))
                per_round.append(res)
                line = ", ".join(f"{k} {v['asks_per_s']:,.0f}/s {v['cpu_ms_per_ask']:.3f} ms" for k, v in res.items())
                print(f"   {api} round {r + 1}: {line}", flush=True)
            results["apis"][api] = summarize(per_round)
            print_summary(api, results["apis"][api])
    results["load_avg_1m_at_end"] = round(os.getloadavg()[0], 2)
    print(f"   load average at end {results['load_avg_1m_at_end']}")
    save("client" + ("_quick" if args.quick else ""), results)


def summarize(per_round: list[dict]) -> dict:
    out = {"rounds": per_round, "variants": {}}
    for name in per_round[0]:
        rows = [r[name] for r in per_round]
        v = {"asks_per_s": median([x["asks_per_s"] for x in rows]),
             "cpu_ms_per_ask": median([x["cpu_ms_per_ask"] for x in rows]),
             "requests_per_ask": median([x["requests"] / x["asks"] for x in rows if "requests" in x])}
        if name != "raw":  # ratios per round (side by side), then their median
            v["speed_vs_raw"] = median([r[name]["asks_per_s"] / r["raw"]["asks_per_s"] for r in per_round])
            v["cpu_vs_raw"] = median([r[name]["cpu_ms_per_ask"] / r["raw"]["cpu_ms_per_ask"] for r in per_round])
        out["variants"][name] = v
    return out


def print_summary(api: str, s: dict) -> None:
    print(f"   == {api}: medians over {len(s['rounds'])} rounds of {AGENTS * ITEMS:,} asks")
    print(f"   {'client':<22}{'asks/s':>10}{'CPU ms/ask':>12}{'requests/ask':>14}{'speed/raw':>11}{'CPU/raw':>9}")
    for name, v in s["variants"].items():
        speed = f"{v['speed_vs_raw']:.2f}x" if "speed_vs_raw" in v else "-"
        cpu = f"{v['cpu_vs_raw']:.2f}x" if "cpu_vs_raw" in v else "-"
        print(f"   {name:<22}{v['asks_per_s']:>10,.0f}{v['cpu_ms_per_ask']:>12.3f}{v['requests_per_ask']:>14.3f}"
              f"{speed:>11}{cpu:>9}")


if __name__ == "__main__":
    main()
