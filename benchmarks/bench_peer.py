"""popsim vs an LLM-survey peer (EDSL) administering the same questionnaire to the same personas through
the same local server (llama-cpp-python's, serving the embedded GGUF).

EDSL is installed in its own virtualenv, never the project's:

    python3 -m venv /tmp/peer && /tmp/peer/bin/pip install edsl==1.0.9 openai
    .venv/bin/python benchmarks/bench_peer.py [--quick] [--peer-python /tmp/peer/bin/python]

EDSL agents get the persona as their instruction; each ESS-21 item is a QuestionMultipleChoice with the
six answer labels; the model is EDSL's `openai_compatible` service pointed at the local server (remote
cache and remote inference off). EDSL generates an answer (max_tokens 200) and validates it;
popsim (`--api chat`, the default) reads the first token's top logprobs. Rounds alternate (A B B A) with
fresh personas each round; the answers/s ratio is the median over rounds.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import header, llama_server, median, save  # noqa: E402

from popsim import prompts  # noqa: E402
from popsim.backends.embedded import find_model_file  # noqa: E402
from popsim.backends.openai_compat import OpenAIBackend  # noqa: E402
from popsim.engine import Engine  # noqa: E402
from popsim.instruments import load_instrument  # noqa: E402
from popsim.values import CODES10  # noqa: E402

HERE = Path(__file__).resolve().parent


def questionnaire(primes, n_items):
    inst = load_instrument("ess21")
    items = inst.items[:n_items]
    personas = [prompts.persona_text("value_prompt", prime=p) for p in primes]
    asks = []
    for persona in personas:
        for it in items:
            pres = prompts.present_options(it, "ascending")
            asks.append(prompts.build_ask(persona, prompts.item_text(it, inst.instruction, inst.question, pres),
                                          pres.labels))
    spec = {"personas": personas,
            "items": [{"text": f"{inst.instruction}\n\nDescription: {it.text('male')}\n\n{inst.question}",
                       "options": [it.scale.label(p) for p in it.scale.points]} for it in items]}
    return asks, spec


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--peer-python", default="/tmp/peer/bin/python")
    ap.add_argument("--concurrency", type=int, default=4, help="popsim's requests in flight")
    args = ap.parse_args(argv)
    m = header("popsim vs EDSL through the same local server", argv if argv is not None else sys.argv[1:])
    if not Path(args.peer_python).exists():
        print(f"   {args.peer_python} does not exist: install EDSL as the docstring says")
        return
    n_personas, n_items, rounds = (1, 2, 2) if args.quick else (2, 3, 2)
    pool = list(CODES10)
    rows = []
    with llama_server(str(find_model_file())) as url, tempfile.TemporaryDirectory() as tmp:
        for r in range(rounds):
            primes = pool[r * n_personas:(r + 1) * n_personas]
            asks, spec = questionnaire(primes, n_items)
            spec_path = Path(tmp) / f"spec{r}.json"
            spec_path.write_text(json.dumps(spec), encoding="utf-8")
            res = {}

            def run_popsim():
                be = OpenAIBackend(url, "smollm2", api="chat", concurrency=args.concurrency)
                t = time.perf_counter()
                dists = Engine(be).resolve(asks)
                s = time.perf_counter() - t
                return {"answers": len(asks), "seconds": s, "failures": sum(1 for d in dists if not d.ok),
                        "validity_mass": median([d.validity_mass for d in dists])}

            def run_peer():
                out = subprocess.run([args.peer_python, str(HERE / "peer_edsl.py"), "--base-url", url, "--spec",
                                      str(spec_path)], capture_output=True, text=True, timeout=3600)
                if out.returncode != 0:
                    raise RuntimeError(f"EDSL run failed: {out.stderr[-2000:]}")
                return json.loads(out.stdout.strip().splitlines()[-1])

            steps = [("popsim", run_popsim), ("edsl", run_peer)]
            for name, fn in (steps if r % 2 == 0 else steps[::-1]):
                res[name] = fn()
                res[name]["rate"] = res[name]["answers"] / res[name]["seconds"]
            res["ratio"] = res["popsim"]["rate"] / res["edsl"]["rate"]
            rows.append(res)
            print(f"   round {r + 1}: popsim {res['popsim']['rate']:.2f} answers/s (median validity mass "
                  f"{res['popsim']['validity_mass']:.2f}); EDSL {res['edsl']['rate']:.3f} answers/s "
                  f"({res['edsl']['failures']} of {res['edsl']['answers']} without a valid answer) -> x{res['ratio']:.1f}",
                  flush=True)
    summary = {"ratio": median([x["ratio"] for x in rows]),
               "popsim_answers_per_s": median([x["popsim"]["rate"] for x in rows]),
               "edsl_answers_per_s": median([x["edsl"]["rate"] for x in rows]),
               "edsl_failures": sum(x["edsl"]["failures"] for x in rows),
               "edsl_answers": sum(x["edsl"]["answers"] for x in rows),
               "edsl_version": rows[0]["edsl"].get("edsl") if rows else None}
    print(f"   median: popsim x{summary['ratio']:.1f} EDSL's answers/s; EDSL gave no valid answer "
          f"{summary['edsl_failures']} times of {summary['edsl_answers']}")
    save("peer" + ("_quick" if args.quick else ""), {"machine": m, "rounds": rows, "summary": summary})


if __name__ == "__main__":
    main()
