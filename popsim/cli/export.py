"""`popsim export`: a run's answer distributions in another tool's layout (SimBench's results pickle)."""

from __future__ import annotations

from .options import add_group, settings


def cmd_export(args) -> int:
    from ..reporting.export import export_run

    s = settings(args, ("export",))
    path = export_run(args.run, args.out, format=s["format"], label=s["label"])
    print(f"written: {path} ({s['format']}; score it with SimBench's calculate_simbench_score.py on its folder)")
    return 0


def register(sub) -> None:
    e = sub.add_parser("export", help="write a run's per-item answer distributions in another tool's layout",
                       description="Write the simulated and human answer distributions of a run's items in "
                                   "SimBench's results layout (a pickled DataFrame), so SimBench's own scorer gives "
                                   "the SimBench score popsim reports.")
    e.add_argument("run", help="run folder")
    add_group(e, "export")
    e.add_argument("--out", required=True, help="file to write (FILE.pkl)")
    e.set_defaults(func=cmd_export)
