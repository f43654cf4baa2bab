"""`popsim run` and `popsim demo`: one population answering a scenario, written as a run folder."""

from __future__ import annotations

from ..errors import PopsimError
from .options import add_group, add_run_flags, key_value, model_kwargs, settings

RUN_GROUPS = ("population", "network", "scenario", "prompts", "backend", "run", "cost", "report")
#: the demo runs the ESS-21 (no network, no scenario choice) under its own three arms (no style or policy), and
#: compares every agent with its synthetic human twin (custom profiles have none)
DEMO_GROUPS = ("population", "prompts", "backend", "run")
DEMO_SKIP = ("policy", "prompt_style", "profiles", "transforms")


def cmd_run(args) -> int:
    from ..reporting.runs import execute

    s = settings(args, RUN_GROUPS)
    kwargs = model_kwargs(s, args)
    scenario_options = dict(args.scenario_option)
    if s.get("rounds") is not None:
        scenario_options["rounds"] = s["rounds"]
    check_ppi_request(s)
    if args.dry_run:
        from ..studies.costs import plan_lines, plan_run

        kwargs.pop("progress")
        plan = plan_run(scenario=s["scenario"], scenario_options=scenario_options, name=f"run {s['scenario']}",
                        **kwargs)
        print("\n".join(plan_lines([plan], s.get("price_per_mtok"))))
        return 0
    res = execute(args.out, scenario=s["scenario"], overwrite=args.overwrite, scenario_options=scenario_options,
                  price_per_mtok=s.get("price_per_mtok"), ppi_labelled=s.get("ppi_labelled"), **kwargs)
    eng = res.config.get("engine") or {}
    if eng:
        print(f"model calls: {eng['calls']}, cache hits: {eng['hits']}, distinct asks: {eng['unique']}, "
              f"failed: {eng['failed']}")
    print(f"report: {res.report}")
    return 0


def check_ppi_request(s: dict) -> None:
    """--ppi-labelled needs agents that are real respondents and leaves some agents unlabelled (before anything
    runs; the population itself is checked by the model: a shipped sample has no respondents)."""
    n = s.get("ppi_labelled")
    if n is None:
        return
    if s.get("strategy") != "respondents":
        raise PopsimError(f"--ppi-labelled needs agents that are real respondents, and --strategy is {s.get('strategy')}; "
                          "add --strategy respondents with a sample that has respondent-level data (popsim data "
                          "import FILE --name NAME)")
    from ..population import parse_population
    from ..samples import load_sample

    sample = parse_population(s["population"])[1]
    if not load_sample(sample).has_respondents:
        raise PopsimError(f"--ppi-labelled needs a sample with respondent-level data, and {sample} is shipped with "
                          "aggregates only; import your survey (popsim data import FILE --name NAME) and pass "
                          "--population NAME")
    if n >= s["n_agents"]:
        raise PopsimError(f"--ppi-labelled {n} leaves no simulated population among --agents {s['n_agents']}; label "
                          f"fewer respondents than agents (e.g. a fifth: {max(30, s['n_agents'] // 5)})")


def cmd_demo(args) -> int:
    from ..studies.demo import run_demo

    s = settings(args, DEMO_GROUPS, skip=DEMO_SKIP)
    if s["strategy"] == "custom":
        raise PopsimError("the demo compares every agent with its synthetic human twin, and custom profiles have "
                          "none; run custom profiles with popsim run --strategy custom --profiles FILE")
    path = run_demo(args.out, overwrite=args.overwrite, **model_kwargs(s, args))
    print(f"report: {path}")
    return 0


def register(sub) -> None:
    r = sub.add_parser("run", help="run a scenario on a population and write a run folder",
                       description="Run a scenario (a built-in name or a .py file) on a population and write a run "
                                   "folder with its report.")
    r.add_argument("scenario", help="scenario name (ess21, pvq40, pvq_rr, ess_attitudes, dictator, charity_game, "
                                    "public_goods, persona_statements) or path of a scenario .py file")
    add_group(r, "population")
    g = add_group(r, "network")
    g.add_argument("--network-option", type=key_value, action="append", default=[], metavar="KEY=VALUE",
                   help="network option, e.g. k=6, p=0.2, m=3, strength=5 (repeatable)")
    g = add_group(r, "scenario")
    g.add_argument("--scenario-option", type=key_value, action="append", default=[], metavar="KEY=VALUE",
                   help="scenario option, e.g. items='[\"ipcrtiv\"]' (repeatable)")
    add_group(r, "prompts")
    add_group(r, "backend")
    add_group(r, "run")
    g = add_group(r, "cost")
    g.add_argument("--dry-run", action="store_true", help="print the distinct asks after dedupe and cache, their "
                                                           "prompt tokens and (with --price-per-mtok) the cost; ask "
                                                           "nothing, write nothing")
    add_group(r, "report")
    add_run_flags(r)
    r.set_defaults(func=cmd_run)

    d = sub.add_parser("demo", help="the main job: a small complete study on the embedded model",
                       description="Agents from DE_ESS9 answer the ESS-21 under value_prompt and none, next to their "
                                   "synthetic human twins; one report comparing the three arms.")
    add_group(d, "population", skip=DEMO_SKIP)
    add_group(d, "prompts", skip=DEMO_SKIP)
    add_group(d, "backend")
    add_group(d, "run", defaults={"seed": 7})
    add_run_flags(d, out_default="runs/demo")
    d.set_defaults(func=cmd_demo)
