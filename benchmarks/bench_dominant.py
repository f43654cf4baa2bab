"""Embedded backend, dominant-value populations: cost as the population grows, and the naive loop.

Population: strategy `h_np` (the 10 values as dominant value plus unprimed agents: 11 distinct
personas), `value_prompt` style, ESS-21 (gendered wording: at most 11 x 21 x 2 = 462 distinct asks).
popsim runs end to end for 10, 100, 1,000 and 10,000 agents, each with an empty answer cache, so the
model cost should stop growing once every persona x item x gender has been asked. Between these runs
(A B A B ...) the naive loop (full prompt, `create_completion(max_tokens=8)`, parse a number) answers
the items of one agent of the 1,000-agent population, with llama-cpp-python's prefix reuse and without
it; its cost at 1,000 agents is extrapolated from the measured cost per answer (it makes one call per
agent x item, whatever the population: 21,000 at 1,000 agents).

    .venv/bin/python benchmarks/bench_dominant.py [--quick] [--threads N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import TimedBackend, header, median, model_asks, naive_loop, save  # noqa: E402

from popsim.backends.embedded import EmbeddedBackend  # noqa: E402
from popsim.instruments import load_instrument  # noqa: E402
from popsim.model import PopulationModel  # noqa: E402

STRATEGY = "h_np"


def popsim_run(be, n_agents: int, seed: int, items) -> dict:
    timed = TimedBackend(be)
    passes, toks = be.forward_passes, be.tokens_evaluated
    t = time.perf_counter()
    model = PopulationModel(n_agents=n_agents, strategy=STRATEGY, prompt_style="value_prompt", backend=timed,
                            rng=seed, scenario_options={"items": items})
    built = time.perf_counter() - t
    model.run()
    seconds = time.perf_counter() - t
    st = model.engine.stats
    answers = model.answers_frame()
    return {"agents": n_agents, "answers": len(answers), "seconds": seconds, "model_seconds": timed.model_seconds,
            "build_seconds": built, "other_seconds": seconds - timed.model_seconds - built,
            "asks": st.asks, "distinct_asks": st.unique, "model_calls": st.calls,
            "decode_calls": be.forward_passes - passes, "tokens_evaluated": be.tokens_evaluated - toks,
            "personas": int(model.agents_frame()["prime"].nunique())}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="3 items, 10 -> 1,000 agents (a few minutes)")
    ap.add_argument("--threads", type=int, default=None, help="llama.cpp threads (default: all cores)")
    ap.add_argument("--items", type=int, default=None, help="first N ESS-21 items (default 21; --quick 3)")
    ap.add_argument("--sizes", default=None, help="population sizes, comma separated (must include 1000)")
    args = ap.parse_args(argv)
    inst = load_instrument("ess21")
    items = list(inst.item_ids[:args.items or (3 if args.quick else 21)])
    sizes = (10, 100, 1000) if args.quick else (10, 100, 1000, 10000)
    if args.sizes:
        sizes = tuple(int(x) for x in args.sizes.split(","))
    if 1000 not in sizes:
        ap.error("--sizes must include 1000 (the size the naive loop is compared at)")
    suffix = "_quick" if args.quick else ("" if len(items) == 21 else f"_{len(items)}items")
    m = header(f"embedded backend, dominant-value populations ({STRATEGY}, value_prompt, ESS-21: {len(items)} items)",
               argv if argv is not None else sys.argv[1:])
    be = EmbeddedBackend(n_threads=args.threads)
    print(f"   backend: {be.describe()}")
    ref_model = PopulationModel(n_agents=1000, strategy=STRATEGY, prompt_style="value_prompt", backend=be, rng=7,
                                scenario_options={"items": items})
    ref_asks = model_asks(ref_model)
    per_agent = len(items)
    naive, fresh, runs = [], [], []

    def naive_block(j):
        block = ref_asks[j * per_agent:(j + 1) * per_agent]  # agent j's items, in order
        be.llm.reset()
        naive.append(naive_loop(be, block, reuse_prefix=True, seed=j))
        be.llm.reset()
        fresh.append(naive_loop(be, block[:2], reuse_prefix=False, seed=j))
        print(f"   naive, agent {j}: {naive[-1]['answers'] / naive[-1]['seconds']:.2f} answers/s "
              f"({naive[-1]['parse_failures']} parse failures); without prefix reuse "
              f"{fresh[-1]['answers'] / fresh[-1]['seconds']:.3f} answers/s", flush=True)

    for j, n in enumerate(sizes):
        naive_block(j)
        be.llm.reset()
        if be._seqs is not None:
            be._seqs.set_base([])
        res = popsim_run(be, n, 7, items)
        runs.append(res)
        print(f"   popsim, {n} agents: {res['seconds']:.1f} s ({res['model_seconds']:.1f} s in the model, "
              f"{res['build_seconds']:.1f} s drawing the population, {res['other_seconds']:.1f} s the rest); "
              f"{res['asks']} asks, {res['distinct_asks']} distinct, {res['model_calls']} model calls, "
              f"{res['tokens_evaluated']} tokens evaluated", flush=True)
    naive_block(len(sizes))
    s_naive = median([x["seconds"] / x["answers"] for x in naive])
    s_fresh = median([x["seconds"] / x["answers"] for x in fresh])
    at = {r["agents"]: r for r in runs}
    k = 1000
    naive_k = s_naive * k * per_agent
    fresh_k = s_fresh * k * per_agent
    summary = {"items": len(items), "naive_seconds_per_answer": s_naive, "naive_no_reuse_seconds_per_answer": s_fresh,
               "naive_parse_failures": sum(x["parse_failures"] for x in naive + fresh),
               "naive_answers_measured": sum(x["answers"] for x in naive + fresh),
               "popsim_seconds_at_1000": at[k]["seconds"], "naive_seconds_at_1000_extrapolated": naive_k,
               "naive_no_reuse_seconds_at_1000_extrapolated": fresh_k,
               "ratio_at_1000": naive_k / at[k]["seconds"], "ratio_no_reuse_at_1000": fresh_k / at[k]["seconds"],
               "popsim_model_seconds_per_call": median([r["model_seconds"] / r["model_calls"] for r in runs]),
               "flat": {r["agents"]: {"seconds": round(r["seconds"], 1), "model_calls": r["model_calls"],
                                      "tokens": r["tokens_evaluated"]} for r in runs}}
    print(f"   naive: {s_naive:.3f} s per answer with prefix reuse, {s_fresh:.3f} s without (medians of "
          f"{len(naive)} blocks interleaved with the popsim runs); parse failures {summary['naive_parse_failures']} "
          f"of {summary['naive_answers_measured']}")
    print(f"   at 1,000 agents: popsim {at[k]['seconds']:.0f} s measured; naive {naive_k:.0f} s extrapolated "
          f"({k * per_agent} answers x {s_naive:.3f} s) -> x{summary['ratio_at_1000']:.0f}; without prefix reuse "
          f"{fresh_k:.0f} s -> x{summary['ratio_no_reuse_at_1000']:.0f} (target >= 100)")
    save("dominant" + suffix, {"machine": m, "runs": runs, "naive": naive,
                                                         "naive_no_reuse": fresh, "summary": summary})


if __name__ == "__main__":
    main()
