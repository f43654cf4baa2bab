"""Secrets: a recognisable fake API key goes through everything popsim does with a server, and must never
appear in a written file (run folders, caches, comparisons, figures) or in anything printed.

The suite's server can demand the key, refuse it with a 401 that echoes the Authorization header back (as
careless proxies do), and echo that header in every error body; a base URL can carry credentials.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from popsim.backends import make_backend

from cli_run import run_cli
from fault_server import FaultServer

pytestmark = [pytest.mark.reliability, pytest.mark.secrets]

EXE = Path(sys.executable).parent / "popsim"


def fake_key() -> str:
    return f"sk-popsim-FAKE-{secrets.token_hex(12)}"


def cli(argv, capsys):
    """(exit status, everything printed): the key must appear in neither stream."""
    code, out, err = run_cli(argv, capsys)
    return code, out + err


def files_holding(root: Path, needle: str) -> list[Path]:
    written = [p for p in root.rglob("*") if p.is_file()]
    assert written, f"nothing written under {root}"
    return [p for p in written if needle.encode() in p.read_bytes()]


def run_args(srv_url, tmp_path, name, *extra):
    return ["run", "ess21", "--agents", "3", "--backend", "openai", "--base-url", srv_url, "--model", "test-model",
            "--cache", tmp_path / "c.sqlite", "--out", tmp_path / name, "--no-progress", *extra]


def test_the_key_is_used_but_never_written_or_printed(tmp_path, capsys, monkeypatch):
    key = fake_key()
    monkeypatch.setenv("OPENAI_API_KEY", key)
    printed = []
    # the server demands the key, echoes the Authorization header in every error body, and fails 30% of requests
    with FaultServer(api_key=key, echo_auth=True, fault_rate=0.3, retry_after=0.01,
                     kinds=("429", "500", "503", "truncated", "no_logprobs")) as srv:
        for name, style in (("a", "value_prompt"), ("b", "profile")):
            code, out = cli(run_args(srv.base_url, tmp_path, name, "--style", style), capsys)
            assert code == 0, out
            printed.append(out)
        assert srv.counts["401"] == 0 and srv.counts["500"] > 0  # the key was sent, and error bodies echoed it
    for argv in (["report", tmp_path / "a"], ["compare", tmp_path / "a", tmp_path / "b", "--out", tmp_path / "cmp.md"]):
        code, out = cli(argv, capsys)
        assert code == 0, out
        printed.append(out)

    # refused keys: at /models (the start-up check) and at every ask (/models open)
    with FaultServer(api_key="sk-the-right-one", echo_auth=True) as srv:
        code, out = cli(run_args(srv.base_url, tmp_path, "refused"), capsys)
        assert code == 2 and "refused the API key (HTTP 401)" in out and "$OPENAI_API_KEY" in out
        printed.append(out)
        assert srv.counts["401"] == 1
    with FaultServer(api_key="sk-the-right-one", models_need_key=False, echo_auth=True) as srv:
        code, out = cli(run_args(srv.base_url, tmp_path, "refused2") + ["--cache", tmp_path / "new.sqlite"], capsys)
        # (exit 2 today; 3, "popsim: stopped:", once runs.execute turns BackendUnavailable mid-run into RunInterrupted)
        assert code in (2, 3) and "stopped the run: HTTP 401: the server refused the API key" in out
        printed.append(out)
        assert srv.counts["401"] <= 8  # neither retried nor tried by other asks: a refused key stays refused
    # a 4xx whose body (echoing the header) becomes an ask's recorded error
    with FaultServer(echo_auth=True) as srv:
        be = make_backend("openai", base_url=srv.base_url, model="no-such-model", check=False)
        from popsim.asks import Ask, Message

        d = be.option_distributions([Ask(messages=(Message("user", "q"),), options=("1", "2"))])[0]
        assert not d.ok and "HTTP 404" in d.error and "Bearer [redacted]" in d.error
        printed.append(d.error + repr(be.stats()) + repr(be.describe()))

    leaks = files_holding(tmp_path, key)
    assert not leaks, leaks
    for text in printed:
        assert key not in text
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) > 20


def test_credentials_in_a_base_url_are_not_shown(tmp_path, capsys, monkeypatch):
    key = fake_key()
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with FaultServer() as srv:
        url = srv.base_url.replace("http://", f"http://user:{key}@")
        for u in (url, srv.base_url + "?api-key=" + key):
            be = make_backend("openai", base_url=u, model="test-model", check=False)
            assert key not in repr(be.describe()) and be.describe()["base_urls"] == [srv.base_url]
        code, out = cli(run_args(url, tmp_path, "a"), capsys)
        assert code == 0, out
    # the server is gone: the error names the server without the credentials
    code, out = cli(run_args(url, tmp_path, "b"), capsys)
    assert code == 2 and f"cannot reach an OpenAI-compatible server at {srv.base_url}" in out
    assert key not in out
    assert not files_holding(tmp_path, key)


def test_a_key_file_is_read_and_its_key_never_written(tmp_path, capsys, monkeypatch):
    key = fake_key()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-this-one")
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "key.txt").write_text(key + "\n")
    with FaultServer(api_key=key) as srv:
        code, out = cli(run_args(srv.base_url, tmp_path, "a", "--api-key-file", tmp_path / "secret" / "key.txt"), capsys)
        assert code == 0, out
        assert srv.counts["401"] == 0
    assert key not in out
    assert files_holding(tmp_path, key) == [tmp_path / "secret" / "key.txt"]


@pytest.mark.slow
def test_a_real_popsim_process_with_openai_debug_logging(tmp_path):
    """A subprocess (so that sys.argv is `popsim ...` and goes into config.json) with the openai client's debug log on."""
    key = fake_key()
    env = dict(os.environ, OPENAI_API_KEY=key, OPENAI_LOG="debug", POPSIM_CACHE=str(tmp_path / "c.sqlite"))
    with FaultServer(api_key=key, echo_auth=True, fault_rate=0.2, kinds=("500", "429"), retry_after=0.01) as srv:
        res = subprocess.run([str(EXE), *map(str, run_args(srv.base_url, tmp_path, "a"))], capture_output=True,
                             text=True, env=env, timeout=300)
        assert res.returncode == 0, res.stderr[-2000:]
        assert "DEBUG" in res.stderr  # the log was on
    assert key not in res.stdout + res.stderr
    assert not files_holding(tmp_path, key)


def test_the_recorded_command_hides_url_credentials(tmp_path):
    key = fake_key()
    env = dict(os.environ, POPSIM_CACHE=str(tmp_path / "c.sqlite"))
    env.pop("OPENAI_API_KEY", None)
    with FaultServer(model="hash") as srv:
        url = srv.base_url.replace("http://", f"http://user:{key}@")  # credentials in the URL (as proxies want them)
        res = subprocess.run([str(EXE), "run", "ess21", "--agents", "2", "--backend", "openai", "--base-url", url,
                              "--model", "test-model", "--scenario-option", 'items=["ipcrtiv"]', "--out",
                              str(tmp_path / "a"), "--no-progress"], capture_output=True, text=True, env=env,
                             timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert key not in res.stdout + res.stderr
    assert not files_holding(tmp_path, key)
    command = json.loads((tmp_path / "a" / "config.json").read_text())["command"]
    assert f"--base-url {srv.base_url}" in command  # recorded, without the credentials


def test_helper_servers_bind_to_loopback():
    """The suite's servers listen on 127.0.0.1 only; the Solara entry point defaults to it too."""
    with FaultServer() as srv:
        assert srv.httpd.server_address[0] == "127.0.0.1"
    conftest = (Path(__file__).parent / "conftest.py").read_text()
    assert '"--host", "127.0.0.1"' in conftest  # the llama.cpp server fixture
    app = Path(__file__).parent.parent / "app.py"
    if app.exists():
        assert '["--host", "127.0.0.1", *sys.argv[1:]]' in app.read_text()
