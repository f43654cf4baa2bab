"""Load: a large reference population fits in memory, and the embedded model does not grow while it answers.

In the suite (kept short): 10,000 reference agents in a `popsim run` subprocess, its peak RSS checked
against a bound derived from the measured 100,000-agent run; 250 real embedded-model asks in batches with
flat RSS. The full figures are measured by hand with this file as a script (see docs/reliability.md):

    python tests/test_reliability_load.py agents 100000     # peak RSS of popsim run ... --policy reference
    python tests/test_reliability_load.py asks 10000 [THREADS]   # RSS across 10,000 embedded asks
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.reliability, pytest.mark.load]

#: peak RSS allowed for a reference-policy run of n agents: the interpreter, libraries and report, plus a
#: per-agent share (measured: 10,000 agents 609-973 MB; 100,000 agents 2,278 MB), with room to spare
BASE_MB, PER_AGENT_KB = 800, 36

#: the child's peak RSS is its own memory's high-water mark (VmHWM), not getrusage's ru_maxrss: Linux carries
#: ru_maxrss over from the forked parent through exec, so a child of a 1.5 GB pytest process reports 1.5 GB
#: however little it uses (measured: ru_maxrss 1,513 MB, VmHWM 13 MB for an empty child of such a parent)
_CHILD = """
import sys, time
from popsim.cli import main
t = time.time()
code = main(sys.argv[1:])
hwm = [ln for ln in open("/proc/self/status") if ln.startswith("VmHWM:")][0].split()[1]
print("LOAD", code, round(time.time() - t, 1), int(hwm) // 1024, flush=True)
"""


def run_popsim(argv: list[str]) -> dict:
    """`popsim ARGV` in a fresh process: exit code, seconds, the child's own peak RSS (MB), stderr."""
    res = subprocess.run([sys.executable, "-c", _CHILD, *argv], capture_output=True, text=True, timeout=1800,
                         env=dict(os.environ, PYTHONUNBUFFERED="1"))
    line = [ln for ln in res.stdout.splitlines() if ln.startswith("LOAD ")]
    assert line, res.stderr[-3000:]
    _, code, seconds, peak = line[-1].split()
    return {"exit": int(code), "seconds": float(seconds), "peak_mb": int(peak), "stderr": res.stderr}


def run_reference_population(n: int, out: Path, *, report: bool = True) -> dict:
    """`popsim run ess21 --policy reference --agents n` in a fresh process: exit code, seconds, peak RSS (MB)."""
    return {"agents": n, **run_popsim(["run", "ess21", "--policy", "reference", "--agents", str(n), "--seed", "1",
                                       "--out", str(out), "--no-progress", "--overwrite"])}


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def embedded_asks(n: int, batch: int = 50):
    """n short, distinct asks (Yes/No: one forward pass each), in batches; yields the RSS after every batch."""
    from popsim.asks import Ask, Message

    for b in range(n // batch):
        yield [Ask(messages=(Message("system", f"You are person number {b}."),
                             Message("user", f"Statement {i}: I like to try new things. Is this true for you? "
                                             "Answer Yes or No.")), options=("Yes", "No")) for i in range(batch)]


def measure_embedded(backend, n: int, batch: int = 50) -> dict:
    import gc

    rss, t0 = [], time.time()
    for asks in embedded_asks(n, batch):
        dists = backend.option_distributions(asks)
        assert all(d.ok and d.validity_mass > 0 for d in dists)
        del dists
        gc.collect()
        rss.append(rss_mb())
    return {"asks": n, "seconds": round(time.time() - t0, 1), "rss_mb": [round(x, 1) for x in rss]}


def test_the_peak_measured_is_the_childs_own():
    """A parent holding 800 MB does not lend its memory to the child's figure (ru_maxrss would: 800+ MB)."""
    held = bytearray(800 * 2**20)
    held[::4096] = b"\x01" * len(held[::4096])  # touch every page: resident
    r = run_popsim(["datasets"])
    assert r["exit"] == 0, r["stderr"][-2000:]
    assert r["peak_mb"] < 400, r
    del held


@pytest.mark.slow
def test_a_large_reference_population_fits_in_memory(tmp_path):
    n = int(os.environ.get("POPSIM_LOAD_AGENTS", 10_000))
    r = run_reference_population(n, tmp_path / "run")
    assert r["exit"] == 0, r["stderr"][-2000:]
    import pandas as pd

    answers = pd.read_parquet(tmp_path / "run" / "answers.parquet", columns=["agent", "answer"])
    assert len(answers) == 21 * n and answers["agent"].nunique() == n and answers["answer"].notna().all()
    assert (tmp_path / "run" / "report.md").exists()
    bound = BASE_MB + PER_AGENT_KB * n / 1024
    assert r["peak_mb"] < bound, r
    print(f"\n[load] {n} reference agents: peak RSS {r['peak_mb']} MB (bound {bound:.0f} MB), {r['seconds']} s")


@pytest.mark.slow
def test_embedded_asks_do_not_grow_memory():
    from popsim.backends.embedded import EmbeddedBackend

    # one thread: on a shared 2-core machine llama.cpp's second thread spin-waits for the busy core (6x slower)
    be = EmbeddedBackend(n_threads=1)
    be.option_distributions(next(embedded_asks(25, 25)))  # warm up: model, vocabulary, first buffers
    r = measure_embedded(be, 125, batch=25)  # (by hand: 10,000 asks, see the module's docstring)
    rss = r["rss_mb"]
    assert max(rss) - rss[0] < 15, rss  # no growth across 5 batches of 25 (what is allocated once is there at 1)
    print(f"\n[embedded] {r['asks']} asks in {r['seconds']} s; RSS by batch {rss[0]}..{max(rss)} MB")


if __name__ == "__main__":  # the full measurements, by hand
    what, n = sys.argv[1], int(sys.argv[2])
    if what == "agents":
        import tempfile

        with tempfile.TemporaryDirectory() as d:
            r = run_reference_population(n, Path(d) / "run")
        r.pop("stderr")
        print(json.dumps(r))
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from popsim.backends.embedded import EmbeddedBackend

        be = EmbeddedBackend(n_threads=int(sys.argv[3]) if len(sys.argv) > 3 else None)
        be.option_distributions(next(embedded_asks(50)))
        start = rss_mb()
        r = measure_embedded(be, n)
        rss = r["rss_mb"]
        print(json.dumps({"asks": n, "seconds": r["seconds"], "asks_per_s": round(n / r["seconds"], 1),
                          "rss_after_warmup_mb": round(start, 1), "rss_first_batch_mb": rss[0],
                          "rss_last_batch_mb": rss[-1], "rss_max_mb": max(rss),
                          "rss_every_20th_batch": rss[::20]}))
