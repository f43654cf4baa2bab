"""The non-LLM pipeline at scale: sampling, answering, scoring, tables, analysis and report.

1. `--policy reference` (the synthetic human twins answer; no LLM) for N agents (100,000; --quick
   10,000) on ESS-21: wall time and peak memory (max RSS of a fresh process), per stage.
2. The LLM policy's own non-LLM work for a dominant-value population (h_np, value_prompt) of N agents:
   building N x 21 asks, hashing and deduplicating them, the cache, sampling the answers, tables.
   The model is the scripted test double (no LLM time), so all the time measured is popsim's.
3. The share of a run: these times against the LLM time of the same run size, extrapolated from the
   per-call costs measured by bench_unique.py / bench_dominant.py (read from benchmarks/results/ if
   present, else the --seconds-per-call value).

    .venv/bin/python benchmarks/bench_pipeline.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import RESULTS, header, save  # noqa: E402

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
kind, n, out = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
t0 = time.perf_counter()
res = {}
if kind == "reference":
    from popsim.reporting.runs import execute
    from popsim.reporting.report import build_report
    r = execute(out, scenario="ess21", policy="reference", n_agents=n, rng=3, progress=False, report=False)
    res["run_seconds"] = time.perf_counter() - t0  # population, answers, scores, tables
    t = time.perf_counter()
    build_report(out)
    res["report_seconds"] = time.perf_counter() - t
elif kind == "draw":
    from popsim.population import draw_population
    draw_population(n, strategy="empirical", rng=3)
elif kind == "dominant":  # a whole dominant-value run, its report included; the model's own time is taken out
    from popsim.backends.scripted import ScriptedBackend
    from popsim.cache import Cache
    from popsim.engine import Engine
    try:
        from popsim.reporting.report import build_report
        from popsim.reporting.runs import execute
    except ImportError:  # a baseline from before issue 11's layout (e.g. 38897ad, where issues 11-15 started)
        from popsim.report import build_report
        from popsim.runs import execute

    class Timed(ScriptedBackend):
        seconds = 0.0

        def option_distributions(self, asks, **kw):
            t = time.perf_counter()
            try:
                return super().option_distributions(asks, **kw)
            finally:
                Timed.seconds += time.perf_counter() - t

    res["import_seconds"] = time.perf_counter() - t0
    t = time.perf_counter()
    execute(out, scenario="ess21", n_agents=n, strategy="h_np", prompt_style="value_prompt",
            engine=Engine(Timed(), Cache(None)), rng=3, progress=False, report=False)
    res["run_seconds"] = time.perf_counter() - t  # population, agents, asks, engine, answers, tables, scores
    t = time.perf_counter()
    build_report(out)
    res["report_seconds"] = time.perf_counter() - t
    res["model_seconds"] = Timed.seconds
    res["outside_model_seconds"] = time.perf_counter() - t0 - res["import_seconds"] - Timed.seconds
elif kind == "llm_policy":
    from popsim.backends.scripted import ScriptedBackend
    from popsim.model import PopulationModel
    from popsim.reporting.runs import write_tables
    m = PopulationModel(n_agents=n, strategy="h_np", prompt_style="value_prompt", backend=ScriptedBackend(), rng=3)
    res["build_seconds"] = time.perf_counter() - t0
    t = time.perf_counter()
    m.run()
    res["step_seconds"] = time.perf_counter() - t
    res["engine"] = m.engine.stats.as_dict()
    out.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    write_tables(out, m)
    res["tables_seconds"] = time.perf_counter() - t
res["seconds"] = time.perf_counter() - t0
res["max_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(res))
"""


def child(kind: str, n: int, pythonpath: Path | None = None) -> dict:
    """One measurement in a fresh process (popsim from `pythonpath` if given, e.g. a baseline revision)."""
    env = {**os.environ, "PYTHONPATH": str(pythonpath)} if pythonpath else None
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run([sys.executable, "-c", CHILD, kind, str(n), str(Path(tmp) / "run")],
                             capture_output=True, text=True, cwd=Path(tmp) if pythonpath else
                             Path(__file__).resolve().parent.parent, env=env)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def measured_costs(default: float) -> dict:
    """Seconds per model call measured by the other benchmarks (full results preferred over --quick)."""
    costs = {"unique_s_per_call": default, "dominant_s_per_call": default, "source": "--seconds-per-call"}
    uniques = [RESULTS / n for n in ("unique.json", "unique_quick.json")]
    dominants = [RESULTS / n for n in ("dominant.json", "dominant_7items.json", "dominant_quick.json")]
    u = next((f for f in uniques if f.exists()), None)
    d = next((f for f in dominants if f.exists()), None)
    if u is not None and d is not None:
        costs["unique_s_per_call"] = json.loads(u.read_text())["summary"]["popsim_seconds_per_ask"]
        costs["dominant_s_per_call"] = json.loads(d.read_text())["summary"]["popsim_model_seconds_per_call"]
        costs["source"] = f"{u.name}, {d.name}"
    return costs


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="10,000 agents instead of 100,000")
    ap.add_argument("--agents", type=int, default=None)
    ap.add_argument("--seconds-per-call", type=float, default=0.25,
                    help="LLM seconds per model call when no benchmark results are stored")
    ap.add_argument("--baseline", default=None, metavar="REV",
                    help="only: a dominant-value run (with its report) outside the model, this checkout vs git "
                         "revision REV, side by side (A B B A ...)")
    ap.add_argument("--rounds", type=int, default=2, help="with --baseline: timings of each variant")
    args = ap.parse_args(argv)
    if args.baseline:
        return compare_baseline(args)
    n = args.agents or (10_000 if args.quick else 100_000)
    m = header(f"non-LLM pipeline, {n:,} agents, ESS-21", argv if argv is not None else sys.argv[1:])
    ref = child("reference", n)
    draw = child("draw", n)
    print(f"   reference policy: {ref['seconds']:.1f} s in all (drawing the population {draw['seconds']:.1f} s, "
          f"run + scores + tables {ref['run_seconds']:.1f} s, analysis + report {ref['report_seconds']:.1f} s); "
          f"peak memory {ref['max_rss_mib']:.0f} MiB", flush=True)
    llm = child("llm_policy", n)
    print(f"   LLM policy, non-LLM work ({llm['engine']['asks']:,} asks, {llm['engine']['unique']} distinct): "
          f"{llm['seconds']:.1f} s (population + model {llm['build_seconds']:.1f} s, asks + engine + sampling "
          f"{llm['step_seconds']:.1f} s, tables {llm['tables_seconds']:.1f} s); peak memory {llm['max_rss_mib']:.0f} MiB",
          flush=True)
    costs = measured_costs(args.seconds_per_call)
    items = 21
    unique_llm = n * items * costs["unique_s_per_call"]
    dominant_llm = llm["engine"]["unique"] * costs["dominant_s_per_call"]
    share = {
        "unique_profiles": {"llm_seconds": unique_llm, "non_llm_seconds": ref["seconds"],
                            "share": ref["seconds"] / (ref["seconds"] + unique_llm)},
        "dominant_value": {"llm_seconds": dominant_llm, "non_llm_seconds": llm["seconds"] + ref["report_seconds"],
                           "share": (llm["seconds"] + ref["report_seconds"])
                           / (llm["seconds"] + ref["report_seconds"] + dominant_llm)},
    }
    print(f"   LLM time of the same run size (per-call costs from {costs['source']}): unique profiles "
          f"{n * items:,} calls x {costs['unique_s_per_call']:.3f} s = {unique_llm / 3600:.1f} h -> non-LLM share "
          f"{share['unique_profiles']['share']:.3%}; dominant-value population {llm['engine']['unique']} calls x "
          f"{costs['dominant_s_per_call']:.3f} s = {dominant_llm:.0f} s -> non-LLM share "
          f"{share['dominant_value']['share']:.1%} (target < 5%)")
    save("pipeline" + ("_quick" if args.quick else ""), {"machine": m, "agents": n, "reference": ref, "draw": draw,
                                                         "llm_policy": llm, "costs": costs, "share": share})


def compare_baseline(args) -> None:
    """Seconds outside the model of one dominant-value run (population, agents, asks, answers, tables, scores,
    metrics, report and figures; the scripted double as the model, its time taken out), side by side."""
    from bench_report import extract

    n = args.agents or (10_000 if args.quick else 100_000)
    m = header(f"a dominant-value run of {n:,} agents outside the model: this checkout vs {args.baseline}",
               [sys.argv[0], *sys.argv[1:]])
    times: dict[str, list] = {"baseline": [], "current": []}
    with tempfile.TemporaryDirectory() as tmp:
        base = extract(args.baseline, Path(tmp) / "baseline")
        for folder in ("scenarios", "human_data"):  # packaged as popsim.scenarios, popsim.human_data
            extract(args.baseline, Path(tmp) / "data", folder)
            (Path(tmp) / "data" / folder).rename(base / "popsim" / folder)
        order = ["baseline", "current"]
        for i in range(args.rounds):
            for name in (order if i % 2 == 0 else order[::-1]):
                r = child("dominant", n, base if name == "baseline" else Path(__file__).resolve().parent.parent)
                times[name].append(r)
                print(f"   round {i + 1}: {name}: {r['outside_model_seconds']:.1f} s outside the model (run "
                      f"{r['run_seconds']:.1f} s, report {r['report_seconds']:.1f} s; model {r['model_seconds']:.2f} s)",
                      flush=True)
    from _common import median

    b = median([r["outside_model_seconds"] for r in times["baseline"]])
    c = median([r["outside_model_seconds"] for r in times["current"]])
    print(f"   median outside the model: baseline {b:.1f} s, this checkout {c:.1f} s: {b / c:.1f}x less "
          f"(target: 5x, 8 s or under)")
    save(f"pipeline_baseline_{n}", {"machine": m, "agents": n, "baseline": args.baseline, "runs": times,
                                     "median": {"baseline": b, "current": c}, "ratio": b / c})


if __name__ == "__main__":
    main()
