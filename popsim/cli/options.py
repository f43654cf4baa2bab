"""The command line's options, built from `popsim.parameters` (one argparse group per concern), and the
keyword arguments of a run made from them."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..errors import PopsimError

EXIT_USAGE = 2


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage dump
        self.exit(EXIT_USAGE, f"popsim: error: {message} (see '{self.prog} --help')\n")


def key_value(text: str) -> tuple[str, object]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    k, v = text.split("=", 1)
    try:
        val: object = json.loads(v)
    except json.JSONDecodeError:
        val = v
    return k.strip(), val


#: titles of the argument groups, one per concern (the parameters themselves live in `popsim.parameters`)
GROUP_TITLES = {"population": "population", "network": "network", "scenario": "scenario",
                "data": "where samples are stored", "import": "reading the file",
                "prompts": "answering (policy and prompts)", "backend": "backend (where answers come from)",
                "run": "run", "cost": "cost (what --dry-run prints; the run record)", "sweep": "executing the runs",
                "replicate": "the replication", "report": "report", "export": "export",
                "page": "serving the page"}


def add_group(p: argparse.ArgumentParser, group: str, *, skip: tuple[str, ...] = (), defaults: dict | None = None):
    """The options of one group of `popsim.parameters`: read as text, checked after parsing (`settings`), so
    the same bad value gets the same message from the command line, the page and study files."""
    from ..parameters import groups

    g = p.add_argument_group(GROUP_TITLES[group])
    for prm in groups()[group]:
        if prm.name in skip or not prm.flag.startswith("--"):
            continue
        default = (defaults or {}).get(prm.name, prm.default)
        if prm.kind is bool:
            g.add_argument(prm.flag, dest=prm.name, action="store_true", help=prm.help.replace("%", "%%"))
            continue
        notes = [prm.expects()] if prm.expects() != "a text" else []
        notes += [f"default {default}"] if default is not None else []
        metavar = prm.metavar or {int: "N", float: "X"}.get(prm.kind, prm.flag.lstrip("-").split("-")[-1].upper())
        g.add_argument(prm.flag, dest=prm.name, default=default, metavar=metavar,
                       action="append" if prm.repeat else "store",
                       help=(f"{prm.help} ({'; '.join(notes)})" if notes else prm.help).replace("%", "%%"))
    return g


def settings(args, groups_used: tuple[str, ...], *, skip: tuple[str, ...] = ()) -> dict:
    """The checked values of every parameter of the groups a command accepts."""
    from ..parameters import check, groups

    return {prm.name: check(prm.name, getattr(args, prm.name)) for group in groups_used for prm in groups()[group]
            if prm.name not in skip and hasattr(args, prm.name)}


def backend_options(s: dict) -> dict:
    """The backend's own options among the settings; an option given for another backend is refused (it would
    be dropped silently otherwise)."""
    from ..parameters import BACKEND_OPTIONS, PARAMETERS, RAY_OPTIONS

    mine = BACKEND_OPTIONS[s["backend"]]
    for name in (n for opts in BACKEND_OPTIONS.values() for n in opts):
        if name not in mine and s.get(name) != PARAMETERS[name].default:
            users = [b for b, opts in BACKEND_OPTIONS.items() if name in opts]
            raise PopsimError(f"{PARAMETERS[name].flag} applies to --backend {' or '.join(users)}, not "
                              f"{s['backend']}; drop it or choose that backend")
    opts = {k: s[k] for k in mine if s.get(k) is not None}
    if s.get("ray_workers"):
        opts.update({k: s[k] for k in RAY_OPTIONS if s.get(k) is not None})
    elif s.get("ray_address"):
        raise PopsimError("--ray-address needs --ray-workers N (how many model workers to start on the cluster)")
    return opts


def cache_path(s: dict) -> Path:
    from ..cache import default_cache_path

    if s.get("cache"):
        return Path(s["cache"])
    path = default_cache_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def model_kwargs(s: dict, args) -> dict:
    """`PopulationModel` keywords from the checked settings of a run-like command."""
    accuracy = None
    if s.get("accuracy_from"):
        from ..studies.demo import accuracy_from_run

        accuracy = accuracy_from_run(s["accuracy_from"])
    model = {k: s[k] for k in ("n_agents", "population", "strategy", "no_dominant_share", "female_share", "transforms",
                               "profiles", "country", "network", "policy", "prompt_style", "template_variant",
                               "option_order", "temperature", "backend") if k in s}
    if getattr(args, "network_option", None):
        model["network_options"] = dict(args.network_option)
    return dict(model, accuracy=accuracy,
                rng=s["seed"] if s.get("seed") is not None else 0, backend_options=backend_options(s),
                cache_path=cache_path(s), refresh=args.refresh, progress=not args.no_progress)


def add_run_flags(p: argparse.ArgumentParser, *, out_default: str | None = None) -> None:
    """--out, --overwrite, --refresh, --no-progress (behaviour of a command, not settings of a run)."""
    g = p.add_argument_group("output")
    if out_default is None:
        g.add_argument("--out", required=True, help="run folder to write")
    else:
        g.add_argument("--out", default=out_default, help=f"folder to write (default {out_default})")
    g.add_argument("--overwrite", action="store_true", help="replace what --out holds instead of reusing it")
    g.add_argument("--refresh", action="store_true", help="ignore cached answers and ask the model again")
    g.add_argument("--no-progress", action="store_true", help="no progress bars")
