"""Commands that read and show: `prompts`, `report`, `compare`, `datasets`, and `page` (serve the Solara page)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..errors import PopsimError
from .options import add_group, settings


def cmd_prompts(args) -> int:
    from .. import prompts
    from ..parameters import check

    if args.action == "list":
        for name, st in prompts.STYLES.items():
            print(f"{name:13s} {len(st.templates)} variant(s)  {st.source}")
        return 0
    if not args.style:
        raise PopsimError("name a style: popsim prompts show value_prompt (popsim prompts list shows all)")
    variant = None if args.variant is None else check("template_variant", args.variant)
    print(prompts.show(check("prompt_style", args.style), variant, prime=args.prime))
    return 0


def cmd_report(args) -> int:
    from ..reporting.report import build_report

    path = Path(args.run)
    n = settings(args, ("report",)).get("ppi_labelled")
    for marker, kind in (("replicate.json", "replication"), ("study.json", "study")):
        if n is not None and (path / marker).exists():
            raise PopsimError(f"--ppi-labelled applies to one run folder, and {path} holds a {kind}; pass one of its "
                              "runs (runs/NAME) instead")
    if (path / "replicate.json").exists():
        from ..studies.replicate import rebuild

        print(f"report: {rebuild(path)}")
        return 0
    if (path / "study.json").exists():
        from ..studies.sweep import rebuild as rebuild_sweep

        print(f"summary: {rebuild_sweep(path)}")
        return 0
    build_report(path, ppi_labelled=n)
    print(f"report: {path / 'report.md'}")
    return 0


def cmd_compare(args) -> int:
    from ..reporting.report import compare_runs

    table, path = compare_runs([Path(r) for r in args.runs], out=Path(args.out) if args.out else None)
    print(table)
    print(f"written: {path}")
    return 0


def cmd_datasets(args) -> int:
    import pandas as pd

    from ..datasets import list_datasets

    with pd.option_context("display.max_colwidth", 60, "display.width", 200):
        print(list_datasets()[["name", "sample", "n", "description"]].to_string(index=False))
    return 0


def page_command(host: str, port: int) -> list[str]:
    """The command that serves the installed page (`popsim.page.app`) with Solara."""
    return [sys.executable, "-m", "solara", "run", "popsim.page.app", "--host", host, "--port", str(port),
            "--production"]


def cmd_page(args) -> int:
    from ..page.assets import ensure_assets

    s = settings(args, ("page",))
    try:
        ensure_assets()
    except RuntimeError as exc:
        raise PopsimError(f"the page cannot get its browser assets ({exc})") from None
    print(f"popsim page: serving http://{s['host']}:{s['port']}/ (Ctrl-C stops it)", flush=True)
    os.execv(sys.executable, page_command(s["host"], s["port"]))
    return 0  # pragma: no cover (execv does not return)


def register(sub) -> None:
    pr = sub.add_parser("prompts", help="show the exact prompt templates of a style")
    pr.add_argument("action", choices=["show", "list"])
    pr.add_argument("style", nargs="?", help="a prompt style (popsim prompts list)")
    pr.add_argument("--variant", default=None, help="only this paraphrase variant")
    pr.add_argument("--prime", default="PO", help="value code to fill the templates with (default PO)")
    pr.set_defaults(func=cmd_prompts)

    rp = sub.add_parser("report", help="rebuild report.md, metrics.json and figures from a run folder (or a sweep or "
                                       "replicate folder)")
    rp.add_argument("run")
    add_group(rp, "report")
    rp.set_defaults(func=cmd_report)

    c = sub.add_parser("compare", help="side-by-side table of the headline metrics of runs")
    c.add_argument("runs", nargs="+")
    c.add_argument("--out", default=None, help="file to write (default: compare.md beside the first run)")
    c.set_defaults(func=cmd_compare)

    ds = sub.add_parser("datasets", help="list the human reference datasets with their sources")
    ds.set_defaults(func=cmd_datasets)

    pg = sub.add_parser("page", help="serve the Solara page of the installed popsim (then open the printed address)")
    add_group(pg, "page")
    pg.set_defaults(func=cmd_page)
