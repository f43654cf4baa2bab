"""The `popsim` command line.

Every user error prints one line (`popsim: error: what is wrong; how to fix it`) and exits with
status 2; nothing already cached is lost. `popsim COMMAND --help` documents every command.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .errors import PopsimError, RunInterrupted

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage dump
        self.exit(EXIT_USAGE, f"popsim: error: {message} (see '{self.prog} --help')\n")


def _kv(text: str) -> tuple[str, object]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    k, v = text.split("=", 1)
    try:
        val: object = json.loads(v)
    except json.JSONDecodeError:
        val = v
    return k.strip(), val


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


def _temperature(text: str) -> float:
    try:
        t = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0.0 <= t <= 2.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 2, got {t}")
    return t


def _share(text: str) -> float:
    try:
        t = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0.0 <= t < 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {t}")
    return t


def add_population_args(p: argparse.ArgumentParser, *, agents_default: int = 30):
    g = p.add_argument_group("population")
    g.add_argument("--agents", type=_positive_int, default=agents_default, help="number of agents (default %(default)s)")
    g.add_argument("--population", default="DE_ESS9",
                   help="reference sample the profiles come from: SE_ESS1-8, DE_ESS9, US_GSS2012 (default %(default)s)")
    g.add_argument("--strategy", default="empirical",
                   help="empirical, uniform, h_norm, h_even, h_np, model_specific, custom (default %(default)s)")
    g.add_argument("--no-dominant-share", type=_share, default=None,
                   help="h_np: share of unprimed agents (default: the sample's tied-top share; 0.53 = Witte et al. 2020)")
    g.add_argument("--profiles", default=None, help="custom: CSV of profiles (columns SD..UN, optional gender, prime)")
    g.add_argument("--accuracy-from", default=None, help="model_specific: a previous run folder with a manipulation check")
    g.add_argument("--network", default="none",
                   help="none, complete, small_world, scale_free, value_homophily, or an edge-list file")
    g.add_argument("--network-option", type=_kv, action="append", default=[], metavar="KEY=VALUE",
                   help="e.g. k=6, p=0.2, m=3, strength=5")


def add_model_args(p: argparse.ArgumentParser):
    g = p.add_argument_group("model and prompts")
    g.add_argument("--policy", default="llm", help="llm (value-prompted model) or reference (synthetic human twin)")
    g.add_argument("--style", default="value_prompt",
                   help="prompt style: value_prompt, value_anchor, profile, name_only, none (default %(default)s)")
    g.add_argument("--variant", type=int, default=0, help="persona template variant (paraphrase) of the style")
    g.add_argument("--option-order", default="ascending", help="ascending, descending or random (default %(default)s)")
    g.add_argument("--temperature", type=_temperature, default=1.0,
                   help="sampling temperature applied to the option distribution, 0..2 (default %(default)s)")
    g.add_argument("--backend", default="embedded", help="embedded (default), openai, scripted")
    g.add_argument("--model-path", default=None, help="embedded: a .gguf file instead of the bundled SmolLM2-135M")
    g.add_argument("--base-url", default=None,
                   help="openai: server URL(s), comma separated for several (e.g. http://127.0.0.1:8000/v1)")
    g.add_argument("--model", default=None, help="openai: the model name the server serves")
    g.add_argument("--api", default="chat", help="openai: chat (default) or completions (exact option scoring)")
    g.add_argument("--chat-template", default=None, help="openai --api completions: chatml or a Jinja template file")
    g.add_argument("--api-key-env", default="OPENAI_API_KEY", help="environment variable holding the API key")
    g.add_argument("--api-key-file", default=None, help="file holding the API key (instead of the environment)")
    g.add_argument("--concurrency", type=_positive_int, default=8, help="openai: requests in flight (default 8)")
    g.add_argument("--ray-workers", type=_positive_int, default=None,
                   help="serve the backend from N Ray actors (a local Ray instance, or the cluster of --ray-address)")
    g.add_argument("--ray-address", default=None, help="with --ray-workers: the Ray cluster's HOST:PORT")
    g.add_argument("--seed", type=int, default=None, help="seed of the population and of every agent's draws")
    g.add_argument("--cache", default=None, help="answer cache file (default $POPSIM_CACHE or ~/.cache/popsim/answers.sqlite)")
    g.add_argument("--refresh", action="store_true", help="ignore cached answers and ask the model again")
    g.add_argument("--no-progress", action="store_true", help="no progress bars")


def backend_options(args) -> dict:
    opts: dict = {}
    if args.backend == "embedded" and args.model_path:
        opts = {"model_path": args.model_path}
    elif args.backend == "openai":
        opts = {"base_url": args.base_url, "model": args.model, "api": args.api, "chat_template": args.chat_template,
                "api_key_env": args.api_key_env, "api_key_file": args.api_key_file, "concurrency": args.concurrency}
    if getattr(args, "ray_workers", None):
        opts.update(ray_workers=args.ray_workers, ray_address=args.ray_address)
    elif getattr(args, "ray_address", None):
        raise PopsimError("--ray-address needs --ray-workers N (how many model workers to start on the cluster)")
    return opts


def model_kwargs(args) -> dict:
    from .cache import default_cache_path

    cache = Path(args.cache) if args.cache else default_cache_path()
    if not args.cache:
        cache.parent.mkdir(parents=True, exist_ok=True)
    accuracy = None
    if getattr(args, "accuracy_from", None):
        from .studies.demo import accuracy_from_run

        accuracy = accuracy_from_run(args.accuracy_from)
    return dict(n_agents=args.agents, population=args.population, strategy=args.strategy,
                prompt_style=args.style, policy=args.policy, temperature=args.temperature,
                option_order=args.option_order, template_variant=args.variant, network=args.network,
                network_options=dict(args.network_option), no_dominant_share=args.no_dominant_share,
                profiles=args.profiles, accuracy=accuracy, rng=args.seed if args.seed is not None else 0,
                backend=args.backend, backend_options=backend_options(args), cache_path=cache,
                refresh=args.refresh, progress=not args.no_progress)


# ------------------------------------------------------------------------------ commands


def cmd_run(args) -> int:
    from .reporting.runs import execute

    kwargs = model_kwargs(args)
    scenario_options = dict(args.scenario_option)
    if args.rounds is not None:
        scenario_options["rounds"] = args.rounds
    res = execute(args.out, scenario=args.scenario, overwrite=args.overwrite, scenario_options=scenario_options,
                  **kwargs)
    eng = res.config.get("engine") or {}
    if eng:
        print(f"model calls: {eng['calls']}, cache hits: {eng['hits']}, distinct asks: {eng['unique']}, "
              f"failed: {eng['failed']}")
    print(f"report: {res.report}")
    return 0


def cmd_demo(args) -> int:
    from .studies.demo import run_demo

    kwargs = model_kwargs(args)
    path = run_demo(args.out, overwrite=args.overwrite, **kwargs)
    print(f"report: {path}")
    return 0


def cmd_prompts(args) -> int:
    from . import prompts

    if args.action == "list":
        for name, st in prompts.STYLES.items():
            print(f"{name:13s} {len(st.templates)} variant(s)  {st.source}")
        return 0
    if not args.style:
        raise PopsimError("name a style: popsim prompts show value_prompt (popsim prompts list shows all)")
    print(prompts.show(args.style, args.variant, prime=args.prime))
    return 0


def cmd_report(args) -> int:
    from .reporting.report import build_report

    path = Path(args.run)
    if (path / "replicate.json").exists():
        from .studies.replicate import rebuild

        print(f"report: {rebuild(path)}")
        return 0
    if (path / "study.json").exists():
        from .studies.sweep import rebuild as rebuild_sweep

        print(f"summary: {rebuild_sweep(path)}")
        return 0
    build_report(path)
    print(f"report: {path / 'report.md'}")
    return 0


def cmd_compare(args) -> int:
    from .reporting.report import compare_runs

    table, path = compare_runs([Path(r) for r in args.runs], out=Path(args.out) if args.out else None)
    print(table)
    print(f"written: {path}")
    return 0


def cmd_datasets(args) -> int:
    import pandas as pd

    from .datasets import list_datasets

    with pd.option_context("display.max_colwidth", 60, "display.width", 200):
        print(list_datasets()[["name", "sample", "n", "description"]].to_string(index=False))
    return 0


def cmd_sweep(args) -> int:
    from .studies.sweep import run_sweep

    path = run_sweep(args.study, out=args.out, workers=args.workers, executor=args.executor,
                     address=args.address, progress=not args.no_progress)
    print(f"summary: {path}")
    return 0


def cmd_replicate(args) -> int:
    from .studies.replicate import count_plan, replicate

    if args.dry_run:
        t = count_plan(args.scale, seeds=args.seeds)
        print(t.to_string(index=False))
        print(f"total: {int(t['asks'].sum())} asks, {int(t['distinct_new'].sum())} distinct model calls after "
              "deduplication (before any cache hits)")
        return 0
    path = replicate(out=args.out, scale=args.scale, backend=args.backend, backend_options=backend_options(args),
                     cache_path=args.cache, seeds=args.seeds, progress=not args.no_progress, overwrite=args.overwrite)
    eng = json.loads((path.parent / "replicate.json").read_text(encoding="utf-8")).get("engine") or {}
    if eng:
        print(f"asks: {eng['asks']}, model calls: {eng['calls']}, cache hits: {eng['hits']}, failed: {eng['failed']}")
    print(f"report: {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="popsim", description="Simulate human populations with value-prompted LLM agents and compare "
                                           "them with human survey data.")
    sub = p.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    r = sub.add_parser("run", help="run a scenario on a population and write a run folder",
                       description="Run a scenario (ess21, pvq40, pvq_rr, ess_attitudes, dictator, charity_game, "
                                   "public_goods, persona_statements, or a .py file) and write a run folder.")
    r.add_argument("scenario", help="scenario name or path of a scenario .py file")
    r.add_argument("--out", required=True, help="run folder to write")
    r.add_argument("--overwrite", action="store_true", help="replace a different run in --out")
    r.add_argument("--rounds", type=_positive_int, default=None, help="rounds of a repeated game")
    r.add_argument("--scenario-option", type=_kv, action="append", default=[], metavar="KEY=VALUE")
    add_population_args(r)
    add_model_args(r)
    r.set_defaults(func=cmd_run)

    d = sub.add_parser("demo", help="the main job: a small complete study on the embedded model",
                       description="30 agents from DE_ESS9 answer the ESS-21 under value_prompt and none, next to "
                                   "their synthetic human twins; one report.")
    d.add_argument("--out", default="runs/demo", help="folder to write (default %(default)s)")
    d.add_argument("--overwrite", action="store_true")
    add_population_args(d)
    add_model_args(d)
    d.set_defaults(func=cmd_demo, seed=7)

    pr = sub.add_parser("prompts", help="show the exact prompt templates of a style")
    pr.add_argument("action", choices=["show", "list"])
    pr.add_argument("style", nargs="?")
    pr.add_argument("--variant", type=int, default=None, help="only this paraphrase variant")
    pr.add_argument("--prime", default="PO", help="value code to fill the templates with (default PO)")
    pr.set_defaults(func=cmd_prompts)

    rp = sub.add_parser("report", help="rebuild report.md, metrics.json and figures from a run folder (or a sweep or "
                                       "replicate folder)")
    rp.add_argument("run")
    rp.set_defaults(func=cmd_report)

    c = sub.add_parser("compare", help="side-by-side table of the headline metrics of runs")
    c.add_argument("runs", nargs="+")
    c.add_argument("--out", default=None, help="file to write (default: compare.md beside the first run)")
    c.set_defaults(func=cmd_compare)

    ds = sub.add_parser("datasets", help="list the human reference datasets with their sources")
    ds.set_defaults(func=cmd_datasets)

    sw = sub.add_parser("sweep", help="a sensitivity study over a grid of settings (TOML)")
    sw.add_argument("study", help="study TOML file")
    sw.add_argument("--out", default=None, help="folder (default: the study's out, else runs/<study name>)")
    sw.add_argument("--workers", type=int, default=None, help="parallel local processes (default: cores)")
    sw.add_argument("--executor", default="process", help="process (default) or ray")
    sw.add_argument("--address", default=None, help="ray: cluster address (default: start a local instance)")
    sw.add_argument("--no-progress", action="store_true")
    sw.set_defaults(func=cmd_sweep)

    rep = sub.add_parser("replicate", help="the paper's three research questions with baselines, one report")
    rep.add_argument("--scale", default="small", help="small (minutes on a laptop) or paper (GPU server)")
    rep.add_argument("--out", default="runs/replicate")
    rep.add_argument("--overwrite", action="store_true")
    rep.add_argument("--seeds", type=int, default=None, help="seeds per population strategy")
    rep.add_argument("--dry-run", action="store_true", help="count the model calls (before/after deduplication), ask nothing")
    add_model_args(rep)
    rep.set_defaults(func=cmd_replicate)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.func(args)
    except RunInterrupted as exc:
        print(f"popsim: stopped: {' '.join(str(exc).split())}", file=sys.stderr)
        return 130 if "interrupted" in str(exc) else 3
    except PopsimError as exc:
        print(f"popsim: error: {' '.join(str(exc).split())}", file=sys.stderr)  # one line, whatever it quotes
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("popsim: interrupted; answers received so far are cached: rerun the same command to resume",
              file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
