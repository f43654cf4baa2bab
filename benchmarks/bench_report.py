"""`popsim report` time on a reference run, this checkout vs a baseline git revision, side by side.

Makes one reference run (no LLM: the synthetic human twins answer) of `--agents` agents answering the
ESS-21 and the ESS attitude questions (DE_ESS9), then rebuilds its report (metrics.json, report.md and
every figure) with `popsim report RUN` in fresh processes, alternating the baseline package (extracted
from `--baseline` with `git archive`) and this checkout (A B B A ...). Prints the median of each and
their ratio; both rebuild the same run folder, so only the evaluation code differs.

    .venv/bin/python benchmarks/bench_report.py [--baseline REV] [--agents 500] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import header, median, save  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def extract(rev: str, into: Path, folder: str = "popsim") -> Path:
    """The `popsim` package (or another folder) of git revision `rev`, unpacked under `into` (for PYTHONPATH)."""
    blob = subprocess.run(["git", "-C", str(ROOT), "archive", rev, folder], capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(blob)) as tar:
        tar.extractall(into, filter="data")
    return into


def report_seconds(run: Path, pythonpath: Path) -> float:
    """`popsim report RUN` in a fresh process importing popsim from `pythonpath` (run from the run folder's
    parent, so that the current directory does not shadow it)."""
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    code = (f"import sys, popsim; assert popsim.__file__.startswith({str(pythonpath)!r}), popsim.__file__; "
            "from popsim.cli import main; sys.exit(main())")
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, "report", str(run)], env=env, check=True, capture_output=True,
                   cwd=run.parent)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", default="HEAD", help="git revision to compare with (default HEAD)")
    ap.add_argument("--agents", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=3, help="timings of each variant")
    args = ap.parse_args()
    machine = header(f"popsim report on a {args.agents}-agent reference run: this checkout vs {args.baseline}")
    sys.path.insert(0, str(ROOT))
    from popsim.reporting.runs import execute

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        run = tmp / "run"
        execute(run, scenario="ess_attitudes", backend="scripted", policy="reference", population="DE_ESS9",
                n_agents=args.agents, rng=1, progress=False, report=False)
        base = extract(args.baseline, tmp / "baseline")
        times = {"baseline": [], "current": []}
        order = ["baseline", "current"]
        for i in range(args.rounds):
            for name in (order if i % 2 == 0 else order[::-1]):
                times[name].append(report_seconds(run, base if name == "baseline" else ROOT))
                print(f"   round {i + 1}: {name} {times[name][-1]:.2f} s", flush=True)
    b, c = median(times["baseline"]), median(times["current"])
    print(f"   median: baseline ({args.baseline}) {b:.2f} s, this checkout {c:.2f} s, ratio current/baseline "
          f"{c / b:.2f}")
    save("report", {"machine": machine, "agents": args.agents, "baseline": args.baseline, "seconds": times,
                    "median": {"baseline": b, "current": c}, "ratio": c / b})


if __name__ == "__main__":
    main()
