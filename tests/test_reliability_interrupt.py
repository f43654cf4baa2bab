"""Interruption: `popsim run` killed (SIGKILL) or stopped (Ctrl-C) mid-way, then run again.

The run is a real `popsim` process talking to the suite's HTTP server on 127.0.0.1. The rerun of the
same command finishes with exactly the answers of an uninterrupted run and asks no question whose answer
was already cached (the server logs every request; the run record counts cache hits and model calls).
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pandas as pd
import pytest

from fault_server import FaultServer, ask_key

pytestmark = [pytest.mark.reliability, pytest.mark.interrupt]

EXE = Path(sys.executable).parent / "popsim"
AGENTS = 60
ASKS = AGENTS * 21


def command(srv, cache, out):
    return [str(EXE), "run", "ess21", "--agents", str(AGENTS), "--style", "profile", "--seed", "5",
            "--backend", "openai", "--api", "chat", "--base-url", srv.base_url, "--model", "test-model",
            "--concurrency", "4", "--cache", str(cache), "--out", str(out), "--no-progress"]


def cached_rows(cache: Path) -> int:
    if not cache.exists():
        return 0
    try:
        with closing(sqlite3.connect(cache, timeout=5)) as c:
            return c.execute("SELECT COUNT(*) FROM answers").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


def cached_request_keys(cache: Path) -> set[str]:
    with closing(sqlite3.connect(cache)) as c:
        return {ask_key(json.loads(a)["m"]) for (a,) in c.execute("SELECT ask FROM answers")}


def wait_for_rows(proc, cache, n, timeout=120):
    deadline = time.time() + timeout
    while cached_rows(cache) < n:
        assert proc.poll() is None, f"the run ended before it could be interrupted: {proc.communicate()}"
        assert time.time() < deadline, "no answers were cached in time"
        time.sleep(0.05)


def run_to_end(srv, cache, out):
    res = subprocess.run(command(srv, cache, out), capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    return res


@pytest.mark.slow
def test_sigkill_mid_run_then_the_same_command_finishes_without_asking_again(tmp_path):
    cache, out = tmp_path / "c.sqlite", tmp_path / "run"
    # retry-only faults (429 with Retry-After) keep the run honest without changing any answer
    with FaultServer(fault_rate=0.1, kinds=("429",), retry_after=0.02, seed=3) as srv:
        proc = subprocess.Popen(command(srv, cache, out), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for_rows(proc, cache, 300)
        proc.kill()  # SIGKILL: no handler, no cleanup
        proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        kept = cached_rows(cache)
        keys = cached_request_keys(cache)
        assert len(keys) == kept and 300 <= kept < ASKS
        first = len(srv.log)
        res = run_to_end(srv, cache, out)
        asked_again = {k for _, k, _ in srv.log[first:]}
    assert not asked_again & keys  # no cached question was asked again
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["engine"]["hits"] == kept and cfg["engine"]["calls"] == ASKS - kept
    assert f"model calls: {ASKS - kept}, cache hits: {kept}," in res.stdout
    with FaultServer() as srv:
        run_to_end(srv, tmp_path / "fresh.sqlite", tmp_path / "uninterrupted")
    resumed = pd.read_parquet(out / "answers.parquet")
    pd.testing.assert_frame_equal(resumed, pd.read_parquet(tmp_path / "uninterrupted" / "answers.parquet"))
    assert resumed["error"].isna().all() and len(resumed) == ASKS
    print(f"\n[sigkill] killed with {kept} of {ASKS} answers cached; the rerun asked {ASKS - kept}, none twice")


@pytest.mark.slow
def test_ctrl_c_stops_at_once_says_how_to_resume_and_the_rerun_resumes(tmp_path):
    cache, out = tmp_path / "c.sqlite", tmp_path / "run"
    with FaultServer() as srv:
        proc = subprocess.Popen(command(srv, cache, out), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for_rows(proc, cache, 64)
        with srv.lock:  # from now on every request hangs for 30 s: Ctrl-C must not wait for them
            srv.fault_rate, srv.kinds, srv.timeout_delay = 1.0, ("timeout",), 30.0
        time.sleep(0.5)
        t0 = time.time()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        seconds = time.time() - t0
        kept = cached_rows(cache)
        with srv.lock:
            srv.fault_rate = 0.0
        res = run_to_end(srv, cache, out)
    assert proc.returncode == 130
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert "Traceback" not in err and len(lines) == 1, err
    assert lines[0].startswith("popsim: stopped: interrupted; every answer received so far is in the cache")
    assert "Rerun the same command to resume without asking those questions again" in lines[0]
    assert seconds < 5, seconds  # requests in flight are dropped, not waited for
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["engine"]["hits"] == kept >= 64 and cfg["engine"]["calls"] == ASKS - kept
    assert "model calls:" in res.stdout
    print(f"\n[sigint] exit 130 after {seconds:.2f} s with requests hanging; {kept} answers kept; message: {lines[0]}")
