"""Embedded backend internals: several sequences per llama.cpp decode call, and chunk boundaries.

1. Speed of `EmbeddedBackend(batch_sequences=k)` for k in 1 (sequential), 4, 8, 16 on the asks of a
   dominant-value population (value_prompt personas x ESS-21 items), in rounds whose order of k rotates;
   every round uses personas not seen before, and the KV caches are emptied before every timing.
   The option distributions of every k are compared with k = 1 (they must agree).
2. Tokens the model must evaluate when the engine hands the asks over in chunks of 64 (engine order:
   agent by agent) with the old order (all asks of a chunk sorted by tokens) and the new order
   (`prefix_order`: persona by persona, the cached persona first, the last ask's persona last),
   counted exactly from the token sequences (no model time), for unique-profile agents.

    .venv/bin/python benchmarks/bench_batching.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import header, median, model_asks, save  # noqa: E402

from popsim import prompts  # noqa: E402
from popsim.backends.embedded import EmbeddedBackend, common_prefix, prefix_order  # noqa: E402
from popsim.instruments import load_instrument  # noqa: E402
from popsim.values import CODES10  # noqa: E402


def persona_asks(prime: str | None, gender: str, items) -> list:
    inst = load_instrument("ess21")
    persona = prompts.persona_text("value_prompt", prime=prime)
    out = []
    for it in items:
        pres = prompts.present_options(it, "ascending")
        out.append(prompts.build_ask(persona, prompts.item_text(it, inst.instruction, inst.question, pres,
                                                                gender=gender), pres.labels))
    return out


def empty_kv(be: EmbeddedBackend) -> None:
    be.llm.reset()
    if be._seqs is not None:
        be._seqs.set_base([])


def speed(ks, rounds: int, personas_per_round: int, n_items: int, threads: int | None = None) -> dict:
    items = load_instrument("ess21").items[:n_items]
    backends = {k: EmbeddedBackend(batch_sequences=k, n_threads=threads) for k in ks}
    pool = [(p, g) for g in ("male", "female") for p in (*CODES10, None)]
    rates = {k: [] for k in ks}
    ratios = {k: [] for k in ks}
    max_diff = {k: 0.0 for k in ks}
    for r in range(rounds):
        chosen = pool[r * personas_per_round:(r + 1) * personas_per_round]
        asks = [a for p, g in chosen for a in persona_asks(p, g, items)]
        order = list(ks[r % len(ks):]) + list(ks[:r % len(ks)])
        secs, dists = {}, {}
        for k in order:
            empty_kv(backends[k])
            t = time.perf_counter()
            dists[k] = backends[k].option_distributions(asks)
            secs[k] = time.perf_counter() - t
        for k in ks:
            rates[k].append(len(asks) / secs[k])
            ratios[k].append(secs[ks[0]] / secs[k])
            diff = max(abs(a - b) for x, y in zip(dists[ks[0]], dists[k])
                       for a, b in zip(x.logprobs, y.logprobs) if np.isfinite(a) or np.isfinite(b))
            max_diff[k] = max(max_diff[k], diff)
        print(f"   round {r + 1}: {len(asks)} asks; " + ", ".join(f"k={k}: {len(asks) / secs[k]:.2f} asks/s"
                                                                   for k in ks), flush=True)
    out = {}
    for k in ks:
        out[k] = {"median_asks_per_s": median(rates[k]), "median_speedup_vs_k1": median(ratios[k]),
                  "speedups": ratios[k], "max_abs_logprob_diff_vs_k1": max_diff[k],
                  "tokens_evaluated": backends[k].tokens_evaluated, "decode_calls": backends[k].forward_passes}
        print(f"   k={k:>2}: median {out[k]['median_asks_per_s']:.2f} asks/s, median speedup vs sequential "
              f"x{out[k]['median_speedup_vs_k1']:.2f} (rounds: {', '.join(f'{x:.2f}' for x in ratios[k])}); "
              f"max |logprob difference| vs sequential {max_diff[k]:.1e}; decode calls {backends[k].forward_passes}")
    return out


# ------------------------------------------------------------------------ chunk boundaries (exact count)


def evaluated_tokens(sequence_of_prompts) -> int:
    """Tokens a KV cache evaluates for prompts given one after another, keeping the longest common prefix."""
    prev: list[int] = []
    total = 0
    for t in sequence_of_prompts:
        keep = min(common_prefix(prev, t), len(t) - 1)
        total += len(t) - keep
        prev = t
    return total


def chunk_boundaries(n_agents: int, chunk: int = 64) -> dict:
    from popsim.model import PopulationModel

    be = EmbeddedBackend()
    model = PopulationModel(n_agents=n_agents, strategy="empirical", prompt_style="profile", backend=be, rng=11)
    asks = model_asks(model)
    keys = list(dict.fromkeys(a.key for a in asks))  # the engine's order: first occurrence, agent by agent
    by_key = {a.key: a for a in asks}
    asks = [by_key[k] for k in keys]
    toks = [be.tokens(a) for a in asks]
    old, new = [], []
    for i in range(0, len(asks), chunk):
        idx = list(range(i, min(i + chunk, len(asks))))
        old += sorted((toks[j] for j in idx))
        cached = new[-1] if new else []
        for g in prefix_order([asks[j] for j in idx], [toks[j] for j in idx], cached):
            new += [toks[idx[j]] for j in g]
    whole = [toks[j] for g in prefix_order(asks, toks) for j in g]
    res = {"asks": len(asks), "chunk": chunk, "tokens_old_order": evaluated_tokens(old),
           "tokens_new_order": evaluated_tokens(new), "tokens_one_chunk": evaluated_tokens(whole),
           "tokens_no_reuse": sum(len(t) for t in toks)}
    print(f"   {n_agents} unique-profile agents x 21 items = {len(asks)} asks, engine chunks of {chunk}: tokens to "
          f"evaluate: old order {res['tokens_old_order']}, new order {res['tokens_new_order']}, all in one chunk "
          f"{res['tokens_one_chunk']}, without any prefix reuse {res['tokens_no_reuse']}")
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="k in 1 and 8, two rounds of one persona x 21 items")
    ap.add_argument("--threads", type=int, default=None, help="llama.cpp threads (default: all cores)")
    ap.add_argument("--rounds", type=int, default=None)
    args = ap.parse_args(argv)
    m = header("embedded backend: sequences per decode call; chunk boundaries", argv if argv is not None else sys.argv[1:])
    if args.quick:
        sp = speed((1, 8), rounds=args.rounds or 2, personas_per_round=1, n_items=21, threads=args.threads)
        cb = chunk_boundaries(12)
    else:
        sp = speed((1, 4, 8, 16), rounds=args.rounds or 4, personas_per_round=1, n_items=21, threads=args.threads)
        cb = chunk_boundaries(40)
    save("batching" + ("_quick" if args.quick else "") + (f"_threads{args.threads}" if args.threads else ""), {"machine": m, "speed": sp, "chunk_boundaries": cb})


if __name__ == "__main__":
    main()
