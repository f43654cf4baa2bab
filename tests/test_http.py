"""The lean HTTP client of the OpenAI-compatible backend (`popsim/backends/http.py`) on real sockets: the forms
an answer can take (chunked, gzip, connection close, 100 Continue, HTTP/1.0), keep-alive reuse and stale
connections, TLS with the system's trust settings, HTTP proxies (absolute form and CONNECT), the debug log.
"""

from __future__ import annotations

import gzip
import json
import logging
import shutil
import socket
import ssl
import subprocess
import threading

import pytest

from popsim.backends import http
from popsim.backends.http import Client, ConnectionFailed

BODY = json.dumps({"object": "list", "data": [{"id": "m"}]}).encode()


class Listener:
    """A socket on 127.0.0.1 whose every connection is served by `_serve` on its own thread."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def close(self):
        self.sock.close()


class RawServer(Listener):
    """Answers each request with `reply(request_line)` bytes; counts connections; TLS if given."""

    def __init__(self, reply, *, tls: ssl.SSLContext | None = None, close_after: int | None = None):
        self.reply, self.tls, self.close_after = reply, tls, close_after
        self.lines = []
        super().__init__()

    def _serve(self, conn):
        if self.tls:
            try:
                conn = self.tls.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError):
                return conn.close()
        f = conn.makefile("rb")
        served = 0
        while True:
            line = f.readline()
            if not line:
                break
            n = 0
            while (h := f.readline()) not in (b"\r\n", b""):
                if h.lower().startswith(b"content-length:"):
                    n = int(h.split(b":")[1])
            f.read(n)
            self.lines.append(line.decode().strip())
            conn.sendall(self.reply(line.decode()))
            served += 1
            if self.close_after and served >= self.close_after:
                break
        conn.close()


def ok(body: bytes = BODY, *, head: str = "HTTP/1.1 200 OK", extra: str = "") -> bytes:
    return f"{head}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode() + body


def chunked(body: bytes) -> bytes:
    parts = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(body[i:i + 7]), body[i:i + 7]) for i in range(0, len(body), 7))
    return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + parts + b"0\r\nX-Trailer: 1\r\n\r\n"


@pytest.mark.parametrize("reply", [
    lambda line: ok(),
    lambda line: chunked(BODY),
    lambda line: ok(gzip.compress(BODY), extra="Content-Encoding: gzip\r\n"),
    lambda line: b"HTTP/1.1 100 Continue\r\n\r\n" + ok(),
    lambda line: b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" + BODY,  # length by closing
], ids=["length", "chunked", "gzip", "100-continue", "http1.0-close"])
def test_every_form_of_answer_reads_the_same(reply):
    close = "1.0" in reply("").decode("latin-1").split()[0]  # an answer whose end is the connection's end
    srv = RawServer(reply, close_after=1 if close else None)
    c = Client("sk-x", timeout=5)
    for _ in range(3):
        r = c.request("POST", f"http://127.0.0.1:{srv.port}/v1", "/models", b"{}")
        assert r.status == 200 and r.json() == json.loads(BODY)
    assert srv.lines == ["POST /v1/models HTTP/1.1"] * 3
    assert srv.connections == (3 if close else 1)  # keep-alive connections reused
    srv.close()


def test_a_connection_the_server_closed_while_idle_is_not_reused():
    import time

    srv = RawServer(lambda line: ok(), close_after=1)  # the server closes every connection after one answer
    c = Client("EMPTY", timeout=5)
    for _ in range(4):
        assert c.request("GET", f"http://127.0.0.1:{srv.port}/v1", "/models").status == 200
        time.sleep(0.1)  # idle: the server's close has arrived
    assert srv.connections == 4
    srv.close()


def test_errors_come_back_with_the_servers_message_and_drops_as_connection_failures():
    srv = RawServer(lambda line: ok(b'{"error": {"message": "no such model"}}', head="HTTP/1.1 404 Not Found"))
    r = Client("EMPTY", timeout=5).request("GET", f"http://127.0.0.1:{srv.port}/v1", "/x")
    assert r.status == 404 and r.message() == "no such model"
    srv.close()
    srv = RawServer(lambda line: b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"half", close_after=1)
    with pytest.raises(ConnectionFailed, match="IncompleteRead"):
        Client("EMPTY", timeout=5).request("GET", f"http://127.0.0.1:{srv.port}/v1", "/x")
    srv.close()
    with pytest.raises(ConnectionFailed, match="ConnectionRefusedError"):
        Client("EMPTY", timeout=5).request("GET", "http://127.0.0.1:9/v1", "/x")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 (made with the openssl command)."""
    if not shutil.which("openssl"):
        pytest.skip("the openssl command is not installed")
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem")],
                   check=True, capture_output=True)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(d / "cert.pem", d / "key.pem")
    return d / "cert.pem", ctx


def test_https_trusts_what_the_system_trusts(certificate, monkeypatch):
    cert, ctx = certificate
    srv = RawServer(lambda line: ok(), tls=ctx)
    url = f"https://127.0.0.1:{srv.port}/v1"
    monkeypatch.setattr(http, "_TLS", None)
    with pytest.raises(ConnectionFailed, match="TLS certificate not trusted"):
        Client("EMPTY", timeout=5).request("GET", url, "/models")
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the system's way to trust one more certificate
    monkeypatch.setattr(http, "_TLS", None)
    c = Client("EMPTY", timeout=5)
    assert [c.request("GET", url, "/models").status for _ in range(3)] == [200] * 3
    assert srv.connections == 2  # the refused handshake, then one kept-alive connection
    monkeypatch.setattr(http, "_TLS", None)
    srv.close()


class Proxy(Listener):
    """A forward proxy: absolute-form requests are forwarded, CONNECT opens a tunnel."""

    def __init__(self):
        self.seen: list[str] = []
        super().__init__()

    def _serve(self, conn):
        f = conn.makefile("rb")
        line = f.readline().decode()
        head = [line]
        while (h := f.readline()) not in (b"\r\n", b""):
            head.append(h.decode())
        self.seen.append(line.strip())
        method, target, _ = line.split()
        if method == "CONNECT":
            host, port = target.rsplit(":", 1)
            up = socket.create_connection((host, int(port)))
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            threading.Thread(target=_pipe, args=(up, conn), daemon=True).start()
            _pipe(conn, up)
            return
        host, port = target.split("/")[2].rsplit(":", 1)
        path = "/" + target.split("/", 3)[3]
        up = socket.create_connection((host, int(port)))
        up.sendall(f"{method} {path} HTTP/1.1\r\n".encode() + "".join(head[1:]).encode() + b"\r\n")
        conn.sendall(up.recv(65536))
        up.close()
        conn.close()


def _pipe(a, b):
    try:
        while data := a.recv(65536):
            b.sendall(data)
    except OSError:
        pass


def test_proxies_from_the_environment(certificate, monkeypatch):
    cert, ctx = certificate
    plain, tls, proxy = RawServer(lambda line: ok()), RawServer(lambda line: ok(), tls=ctx), Proxy()
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy.port}")
    monkeypatch.setenv("NO_PROXY", "")
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    monkeypatch.setattr(http, "_TLS", None)
    assert Client("EMPTY", timeout=5).request("GET", f"http://127.0.0.1:{plain.port}/v1", "/models").status == 200
    assert Client("EMPTY", timeout=5).request("GET", f"https://127.0.0.1:{tls.port}/v1", "/models").status == 200
    assert proxy.seen == [f"GET http://127.0.0.1:{plain.port}/v1/models HTTP/1.1", f"CONNECT 127.0.0.1:{tls.port} HTTP/1.1"]
    assert plain.lines == tls.lines == ["GET /v1/models HTTP/1.1"]
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # bypassed
    assert Client("EMPTY", timeout=5).request("GET", f"http://127.0.0.1:{plain.port}/v1", "/models").status == 200
    assert len(proxy.seen) == 2
    monkeypatch.setattr(http, "_TLS", None)
    for s in (plain, tls, proxy):
        s.close()


def test_the_debug_log_names_requests_without_the_key(monkeypatch, caplog):
    srv = RawServer(lambda line: ok())
    monkeypatch.setenv("OPENAI_LOG", "debug")
    with caplog.at_level(logging.DEBUG, logger="popsim.http"):
        Client("sk-secret-key-123", timeout=5).request("POST", f"http://user:pw@127.0.0.1:{srv.port}/v1", "/completions",
                                                       b"{}")
    lines = [r.getMessage() for r in caplog.records if r.name == "popsim.http"]
    assert lines and lines[0].startswith(f"POST http://127.0.0.1:{srv.port}/v1/completions -> HTTP 200")
    assert "sk-secret" not in " ".join(lines) and "pw" not in " ".join(lines)
    srv.close()
