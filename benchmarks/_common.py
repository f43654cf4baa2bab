"""Helpers shared by the benchmark scripts: machine facts, timing, the naive baseline, a local server.

Benchmarks print ratios measured side by side in one run (blocks interleaved A B B A ...), because the
machine is shared: absolute times move with the load, ratios much less.
"""

from __future__ import annotations

import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def machine() -> dict:
    """CPU model, cores, memory, load average, llama-cpp-python version."""
    info = {"python": platform.python_version(), "cores": os.cpu_count()}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        m = re.search(r"Model name:\s*(.+)", out)
        info["cpu"] = m.group(1).strip() if m else platform.processor()
    except (OSError, subprocess.SubprocessError):
        info["cpu"] = platform.processor()
    try:
        info["mem_gib"] = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError):
        pass
    info["load_avg_1m_at_start"] = round(os.getloadavg()[0], 2)
    try:
        from importlib import metadata

        info["llama_cpp_python"] = metadata.version("llama-cpp-python")
    except Exception:  # noqa: BLE001
        pass
    return info


def header(title: str, argv=None) -> dict:
    m = machine()
    print(f"== {title}")
    print(f"   machine: {m.get('cpu')}, {m['cores']} cores, {m.get('mem_gib')} GiB; load average at start "
          f"{m['load_avg_1m_at_start']} (the machine is shared: compare ratios, not absolute times)")
    print(f"   command: {' '.join([Path(sys.executable).name] + (argv or sys.argv))}")
    return m


def median(xs):
    xs = [x for x in xs if x == x]
    return statistics.median(xs) if xs else float("nan")


def save(name: str, payload: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")
    print(f"   results written to {path.relative_to(HERE.parent)}")
    return path


class Timer:
    def __init__(self):
        self.seconds = 0.0

    def __enter__(self):
        self._t = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._t


# ------------------------------------------------------------------------------ popsim's asks


def model_asks(model) -> list:
    """The asks popsim's LLM policy makes for the model's first round, in the order it makes them
    (one per agent x item; the same code path as `LLMPolicy.answer`)."""
    from popsim import prompts

    pol = model.policy
    out = []
    personas = {}
    for q in model.scenario.questions(model, 0):
        a = q.agent
        if a.unique_id not in personas:
            personas[a.unique_id] = pol.persona(a)
        pres = prompts.present_options(q.item, pol.option_order, a.answer_rng)
        text = prompts.item_text(q.item, q.instruction, q.question, pres, gender=a.gender, country=pol.country)
        out.append(prompts.build_ask(personas[a.unique_id], text, pres.labels))
    return out


class TimedBackend:
    """Forwards to a backend and adds up the time spent inside `option_distributions` (model time)."""

    def __init__(self, backend):
        self._b = backend
        self.model_seconds = 0.0

    def __getattr__(self, name):
        return getattr(self._b, name)

    def option_distributions(self, asks, *, on_answer=None):
        t = time.perf_counter()
        try:
            return self._b.option_distributions(asks, on_answer=on_answer)
        finally:
            self.model_seconds += time.perf_counter() - t


# ------------------------------------------------------------------------------ the naive baseline


def naive_loop(backend, asks, *, max_tokens: int = 8, reuse_prefix: bool = True, seed: int = 0) -> dict:
    """What a user of plain llama.cpp or an LLM-survey tool does: build the full prompt of every agent x
    item, generate a short answer, parse a number. One sampled answer per ask (no distribution).

    `reuse_prefix=True` is llama-cpp-python's default behaviour (`create_completion` keeps the KV cache of
    the longest prefix shared with the previous prompt); False resets the context before every prompt
    (a client whose prompts do not follow each other, or a server without a prompt cache).
    """
    from popsim.backends.scoring import parse_option

    llm = backend.llm
    fails = 0
    texts = []
    t = time.perf_counter()
    for k, a in enumerate(asks):
        if not reuse_prefix:
            llm.reset()
        out = llm.create_completion(backend.render(a), max_tokens=max_tokens, temperature=1.0, seed=seed + k)
        text = out["choices"][0]["text"]
        texts.append(text)
        if parse_option(text, a.options) is None:
            fails += 1
    seconds = time.perf_counter() - t
    return {"answers": len(asks), "seconds": seconds, "parse_failures": fails, "examples": texts[:3]}


# ------------------------------------------------------------------------------ a local server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(cmd: list[str], url: str, name: str, *, timeout: float = 180, log: Path | None = None):
    """Start the server `cmd` and yield `url` once its /models answers; stop it afterwards."""
    out = open(log, "w") if log else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT if log else subprocess.DEVNULL)
    try:
        deadline = time.time() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited" + (f": {log.read_text()[-2000:]}" if log else ""))
            try:
                urllib.request.urlopen(f"{url}/models", timeout=2).read()
                break
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError(f"{name} did not start within {timeout:.0f} s") from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        if log:
            out.close()


@contextmanager
def llama_server(model_path: str, *, n_threads: int = 2, python: str = sys.executable):
    """llama-cpp-python's OpenAI-compatible server on 127.0.0.1 (as tests/conftest.py starts it)."""
    port = free_port()
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"popsim-bench-server-{port}.log"
    cmd = [python, "-m", "llama_cpp.server", "--model", str(model_path), "--host", "127.0.0.1", "--port", str(port),
           "--model_alias", "smollm2", "--n_ctx", "4096", "--logits_all", "true", "--n_threads", str(n_threads),
           "--verbose", "false"]
    with serving(cmd, f"http://127.0.0.1:{port}/v1", "llama_cpp.server", log=log) as url:
        yield url
