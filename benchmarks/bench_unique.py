"""Embedded backend, unique profiles: popsim vs the naive loop, answers per second, side by side.

Population: `empirical` agents drawn from DE_ESS9, `profile` prompt style (every agent has its own
10-value persona, so nothing deduplicates), ESS-21. In each round a fresh block of agents is
answered three ways, in rotating order, on the same llama.cpp model:

- popsim: `PopulationModel(...).run()` end to end (population, prompts, engine, backend, sampling);
- naive: for every agent x item, `llm.create_completion(full prompt, max_tokens=8)` and parse a number
  (llama-cpp-python's default keeps the KV cache of the prefix shared with the previous prompt);
- naive without prefix reuse: the same on a sample of the asks, with the context reset before each
  prompt (what a client pays whose prompts do not follow each other, or a server without a prompt cache).

    .venv/bin/python benchmarks/bench_unique.py [--quick] [--threads N]
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
from popsim.model import PopulationModel  # noqa: E402


def popsim_run(be, n_agents: int, seed: int) -> dict:
    timed = TimedBackend(be)
    t = time.perf_counter()
    model = PopulationModel(n_agents=n_agents, strategy="empirical", prompt_style="profile", backend=timed, rng=seed)
    model.run()
    seconds = time.perf_counter() - t
    answers = model.answers_frame()
    return {"answers": len(answers), "seconds": seconds, "model_seconds": timed.model_seconds,
            "calls": model.engine.stats.calls, "missing": int(answers["error"].notna().sum())}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="2 rounds of 1 agent (a few minutes)")
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--agents", type=int, default=None, help="agents per round")
    ap.add_argument("--threads", type=int, default=None, help="llama.cpp threads (default: all cores)")
    args = ap.parse_args(argv)
    rounds = args.rounds or (2 if args.quick else 3)
    n_agents = args.agents or (1 if args.quick else 2)
    n_fresh = 3 if args.quick else 6  # naive-without-reuse sample per round
    m = header("embedded backend, unique profiles (empirical DE_ESS9, profile style, ESS-21)",
               argv if argv is not None else sys.argv[1:])
    be = EmbeddedBackend(n_threads=args.threads)
    print(f"   backend: {be.describe()}")
    rows = []
    for r in range(rounds):
        seed = 1000 + r
        asks = model_asks(PopulationModel(n_agents=n_agents, strategy="empirical", prompt_style="profile",
                                          backend=be, rng=seed))
        sample = asks[:: max(1, len(asks) // n_fresh)][:n_fresh]
        res = {}
        steps = [("popsim", lambda: popsim_run(be, n_agents, seed)),
                 ("naive", lambda: naive_loop(be, asks, reuse_prefix=True, seed=seed)),
                 ("naive_no_reuse", lambda: naive_loop(be, sample, reuse_prefix=False, seed=seed))]
        k = r % len(steps)
        for name, fn in steps[k:] + steps[:k]:
            be.llm.reset()
            if be._seqs is not None:
                be._seqs.set_base([])
            res[name] = fn()
            res[name]["rate"] = res[name]["answers"] / res[name]["seconds"]
        res["ratio_vs_naive"] = res["popsim"]["rate"] / res["naive"]["rate"]
        res["ratio_vs_naive_no_reuse"] = res["popsim"]["rate"] / res["naive_no_reuse"]["rate"]
        rows.append(res)
        print(f"   round {r + 1} ({n_agents} agents, {len(asks)} answers): popsim {res['popsim']['rate']:.2f}/s, "
              f"naive {res['naive']['rate']:.2f}/s ({res['naive']['parse_failures']} parse failures), naive without "
              f"reuse {res['naive_no_reuse']['rate']:.3f}/s -> x{res['ratio_vs_naive']:.2f}, "
              f"x{res['ratio_vs_naive_no_reuse']:.2f}", flush=True)
    summary = {
        "popsim_answers_per_s": median([x["popsim"]["rate"] for x in rows]),
        "naive_answers_per_s": median([x["naive"]["rate"] for x in rows]),
        "naive_no_reuse_answers_per_s": median([x["naive_no_reuse"]["rate"] for x in rows]),
        "ratio_vs_naive": median([x["ratio_vs_naive"] for x in rows]),
        "ratio_vs_naive_no_reuse": median([x["ratio_vs_naive_no_reuse"] for x in rows]),
        "naive_parse_failures": sum(x["naive"]["parse_failures"] + x["naive_no_reuse"]["parse_failures"] for x in rows),
        "naive_answers": sum(x["naive"]["answers"] + x["naive_no_reuse"]["answers"] for x in rows),
        "popsim_model_share": median([x["popsim"]["model_seconds"] / x["popsim"]["seconds"] for x in rows]),
        "popsim_seconds_per_ask": median([x["popsim"]["seconds"] / x["popsim"]["calls"] for x in rows]),
    }
    print(f"   median: popsim {summary['popsim_answers_per_s']:.2f} answers/s; naive {summary['naive_answers_per_s']:.2f}"
          f" answers/s; naive without prefix reuse {summary['naive_no_reuse_answers_per_s']:.3f} answers/s")
    print(f"   ratio (median of rounds): x{summary['ratio_vs_naive']:.2f} vs naive, "
          f"x{summary['ratio_vs_naive_no_reuse']:.2f} vs naive without prefix reuse (target >= 3)")
    print(f"   naive parse failures: {summary['naive_parse_failures']} of {summary['naive_answers']}; popsim time in "
          f"the model: {summary['popsim_model_share']:.0%}")
    save("unique" + ("_quick" if args.quick else ""), {"machine": m, "rounds": rows, "summary": summary})


if __name__ == "__main__":
    main()
