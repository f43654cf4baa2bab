"""`popsim sweep` and `popsim replicate`: studies made of many runs."""

from __future__ import annotations

import json

from .options import add_group, add_run_flags, backend_options, settings

SWEEP_GROUPS = ("sweep", "cost")
REPLICATE_GROUPS = ("replicate", "backend", "run")
#: replicate draws its own seeds per strategy (--seeds)
REPLICATE_SKIP = ("seed",)


def cmd_sweep(args) -> int:
    from ..studies.sweep import run_sweep

    s = settings(args, SWEEP_GROUPS)
    if args.dry_run:
        from ..studies.costs import plan_lines, plan_study

        print("\n".join(plan_lines(plan_study(args.study), s.get("price_per_mtok"))))
        return 0
    path = run_sweep(args.study, out=args.out, workers=s["workers"], executor=s["executor"], address=s["address"],
                     progress=not args.no_progress, price_per_mtok=s.get("price_per_mtok"))
    print(f"summary: {path}")
    return 0


def cmd_replicate(args) -> int:
    from ..studies.replicate import count_plan, replicate

    s = settings(args, REPLICATE_GROUPS, skip=REPLICATE_SKIP)
    if args.dry_run:
        t = count_plan(s["scale"], seeds=s["seeds"])
        print(t.to_string(index=False))
        print(f"total: {int(t['asks'].sum())} asks, {int(t['distinct_new'].sum())} distinct model calls after "
              "deduplication (before any cache hits)")
        return 0
    path = replicate(out=args.out, scale=s["scale"], backend=s["backend"], backend_options=backend_options(s),
                     cache_path=s.get("cache"), seeds=s["seeds"], progress=not args.no_progress,
                     overwrite=args.overwrite, refresh=args.refresh)
    eng = json.loads((path.parent / "replicate.json").read_text(encoding="utf-8")).get("engine") or {}
    if eng:
        print(f"asks: {eng['asks']}, model calls: {eng['calls']}, cache hits: {eng['hits']}, failed: {eng['failed']}")
    print(f"report: {path}")
    return 0


def register(sub) -> None:
    sw = sub.add_parser("sweep", help="a sensitivity study over a grid of settings (TOML)")
    sw.add_argument("study", help="study TOML file")
    sw.add_argument("--out", default=None, help="folder (default: the study's out, else runs/<study name>)")
    add_group(sw, "sweep")
    g = add_group(sw, "cost")
    g.add_argument("--dry-run", action="store_true", help="print every run's distinct asks after dedupe and cache "
                                                           "(shared between runs counted once), prompt tokens and "
                                                           "(with --price-per-mtok) the cost; run nothing")
    sw.add_argument("--no-progress", action="store_true", help="no progress bars")
    sw.set_defaults(func=cmd_sweep)

    rep = sub.add_parser("replicate", help="the paper's three research questions with baselines, one report")
    g = add_group(rep, "replicate")
    g.add_argument("--dry-run", action="store_true", help="count the model calls (before/after deduplication), "
                                                           "ask nothing")
    add_group(rep, "backend")
    add_group(rep, "run", skip=REPLICATE_SKIP)
    add_run_flags(rep, out_default="runs/replicate")
    rep.set_defaults(func=cmd_replicate)
