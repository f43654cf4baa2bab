"""Shared fixtures: an isolated answer cache, a scripted backend, the real embedded model, a real llama.cpp server.

Test tiers are pytest markers (pyproject.toml): `slow` (the real model or a real server on more than a tiny input),
`browser` (the Solara page in headless Chromium), and the reliability tiers `faults`, `bad_input`, `interrupt`,
`load`, `secrets` and `properties` (all also marked `reliability`): e.g. `pytest -m "reliability and not load"`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """Never touch the user's cache or data folder: every test gets its own."""
    monkeypatch.setenv("POPSIM_CACHE", str(tmp_path / "answers.sqlite"))
    monkeypatch.setenv("POPSIM_DATA", str(tmp_path / "popsim_data"))  # imported samples: never the user's folder


@pytest.fixture
def scripted():
    """A scripted backend (deterministic option distributions from the prompt's hash; a test double, never
    evidence that the LLM path works)."""
    from popsim.backends.scripted import ScriptedBackend

    return ScriptedBackend()


@pytest.fixture(scope="session")
def embedded():
    """The real embedded model (SmolLM2-135M-Instruct through llama.cpp), loaded once."""
    from popsim.backends.embedded import EmbeddedBackend

    return EmbeddedBackend()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def llama_server(embedded):
    """llama-cpp-python's OpenAI-compatible server on 127.0.0.1, serving the same GGUF as `embedded`."""
    port = free_port()
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"popsim-llama-server-{port}.log"
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(embedded.path), "--host", "127.0.0.1",
           "--port", str(port), "--model_alias", "smollm2", "--n_ctx", "4096", "--logits_all", "true",
           "--n_threads", "2", "--verbose", "false"]
    with open(log, "w") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.time() + 90
    import urllib.request

    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited: {log.read_text()[-2000:]}")
        try:
            urllib.request.urlopen(f"{url}/models", timeout=1)
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        raise RuntimeError("llama_cpp.server did not start within 90 s")
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
