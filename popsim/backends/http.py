"""HTTP for the OpenAI-compatible backend: base URLs and keys as they may be shown, and a lean client.

`Client` speaks HTTP/1.1 over pooled keep-alive connections (one pool per server, shared by all threads),
with TLS (the system's trust store, `SSL_CERT_FILE` honoured), the `HTTP(S)_PROXY`/`NO_PROXY` settings
(absolute-form requests through an HTTP proxy, a CONNECT tunnel for https), chunked and gzip bodies.
It is a few dozen lines of socket code instead of a general client because the general ones cost
more CPU per request than a fast server spends answering it (`benchmarks/bench_client.py`: ~150 us per
request with `http.client`, ~30 us here). It sends, reads and reports; retries, backoff and the
error budget are `retries.py`'s.

The API key is sent as `Authorization: Bearer KEY` and is cut out of every message built from a
server's answer (`Redactor`); URLs are shown without user:password and query (`public_url`).
`OPENAI_LOG=debug` (or `POPSIM_HTTP_LOG=debug`) logs one line per request to stderr, without headers.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import select
import socket
import ssl
import threading
import time
import zlib
from pathlib import Path
from urllib.parse import unquote, urlparse, urlunparse
from urllib.request import getproxies_environment, proxy_bypass_environment

from ..errors import PopsimError

import json

try:  # a fast JSON parser when installed (a dependency of popsim); the standard one otherwise
    import orjson

    def loads(data: bytes):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:  # NaN, Infinity: not JSON, but some servers write them
            return json.loads(data)

    def dumps(obj) -> bytes:
        return orjson.dumps(obj)
except ImportError:  # pragma: no cover
    loads = json.loads

    def dumps(obj) -> bytes:
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()

log = logging.getLogger("popsim.http")


def check_base_url(url: str) -> str:
    u = urlparse(url or "")
    if u.scheme not in ("http", "https") or not u.netloc:
        raise PopsimError(f"base URL {public_url(url)!r} is not an http(s) URL; pass e.g. http://127.0.0.1:8000/v1")
    return url.rstrip("/")


def public_url(url: str) -> str:
    """`url` as it may be shown and written: no user:password@, no query (keys travel there too)."""
    try:
        u = urlparse(str(url or ""))
        host = u.hostname or ""
        port = u.port
    except ValueError:
        return "<unparseable URL>"
    if not u.scheme or not host:
        return re.sub(r"[^/@\s]+@", "", str(url or "")).split("?")[0]
    if ":" in host:
        host = f"[{host}]"
    return urlunparse((u.scheme, host + (f":{port}" if port else ""), u.path, "", "", ""))


def read_api_key(env: str = "OPENAI_API_KEY", key_file: str | None = None) -> str:
    """The key from `key_file` if given, else from the environment variable `env`; 'EMPTY' if neither."""
    if key_file:
        p = Path(key_file).expanduser()
        if not p.is_file():
            raise PopsimError(f"API key file {p} does not exist; pass a readable file or set ${env}")
        try:
            key = p.read_text(encoding="utf-8").strip()
        except UnicodeDecodeError:
            raise PopsimError(f"API key file {p} is not UTF-8 text; write the key alone on one line") from None
        except OSError as exc:
            raise PopsimError(f"API key file {p} cannot be read ({exc.strerror}); check its permissions") from None
        if not key or len(key.split()) != 1:
            raise PopsimError(f"API key file {p} must hold the key alone on one line "
                              f"({'it is empty' if not key else 'it holds several words'})")
        return key
    return os.environ.get(env, "") or "EMPTY"


class Redactor:
    """`redact(text)`: `text` without the API key, bearer tokens or URL credentials (for every message and record)."""

    def __init__(self, key: str, base_urls: list[str]):
        self._key = key
        self._urls = [(u, public_url(u)) for u in base_urls]

    def __call__(self, text: object) -> str:
        text = str(text)
        if self._key and self._key != "EMPTY" and len(self._key) >= 4:
            text = text.replace(self._key, "[redacted]")
        text = re.sub(r"(?i)\b(bearer\s+)[^\s'\",}\]]+", r"\1[redacted]", text)
        for url, shown in self._urls:
            text = text.replace(url, shown)
        return re.sub(r"(https?://)[^/@\s]+@", r"\1", text)


class RequestTimeout(Exception):
    """No answer within the timeout (connecting or reading)."""


class ConnectionFailed(Exception):
    """The connection could not be made or broke before a whole answer came (`kind`: what happened)."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


class Response:
    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int, headers: dict[str, str], body: bytes):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return loads(self.body)

    def message(self) -> str:
        """The server's error message: the JSON `error.message` if there is one, else the body's text."""
        try:
            data = loads(self.body)
        except ValueError:
            return self.body[:500].decode("utf-8", "replace")
        err = data.get("error", data) if isinstance(data, dict) else data
        if isinstance(err, dict):
            return str(err.get("message") or err.get("error") or err)
        return str(err)


class _Conn:
    __slots__ = ("sock", "rfile")

    def __init__(self, sock):
        self.sock, self.rfile = sock, sock.makefile("rb", buffering=65536)

    def close(self):
        for c in (self.rfile, self.sock):
            try:
                c.close()
            except OSError:
                pass

    def stale(self) -> bool:
        """An idle keep-alive connection that the server closed (or wrote to) is not reused."""
        try:
            return bool(select.select([self.sock], [], [], 0)[0])
        except (OSError, ValueError):
            return True


class _Origin:
    """One server (scheme, host, port): how to reach it and the request head every request shares."""

    def __init__(self, url: str, key: str, timeout: float):
        u = urlparse(url)
        self.tls = u.scheme == "https"
        self.host, self.port = u.hostname or "", u.port or (443 if self.tls else 80)
        self.prefix = u.path.rstrip("/")
        self.query = f"?{u.query}" if u.query else ""
        self.timeout = timeout
        host = f"[{self.host}]" if ":" in self.host else self.host
        netloc = host if u.port is None else f"{host}:{u.port}"
        auth = f"Bearer {key}"
        if u.username and (not key or key == "EMPTY"):  # credentials in the URL, and no key: HTTP basic auth
            cred = f"{unquote(u.username)}:{unquote(u.password or '')}".encode()
            auth = f"Basic {base64.b64encode(cred).decode()}"
        self.proxy = _proxy_for(u.scheme, self.host)
        self.absolute = f"{u.scheme}://{netloc}" if self.proxy and not self.tls else ""
        head = [f"Host: {netloc}", "User-Agent: popsim", "Accept: application/json", f"Authorization: {auth}"]
        if self.absolute and self.proxy.username:
            head.append(f"Proxy-Authorization: {_basic(self.proxy)}")
        self.head = ("\r\n".join(head) + "\r\n").encode("latin-1")
        self.idle: list[_Conn] = []

    def connect(self) -> _Conn:
        target = (self.proxy.hostname, self.proxy.port or 80) if self.proxy else (self.host, self.port)
        sock = socket.create_connection(target, timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            if self.proxy and self.tls:
                _tunnel(sock, self.host, self.port, self.proxy)
            if self.tls:
                sock = _tls_context().wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
        return _Conn(sock)


class Client:
    """Pooled keep-alive HTTP/1.1 connections to a few servers, shared by all threads."""

    def __init__(self, key: str, timeout: float):
        self._key, self.timeout = key, float(timeout)
        self._lock = threading.Lock()
        self._origins: dict[str, _Origin] = {}
        self._debug = os.environ.get("OPENAI_LOG", "").lower() == "debug" or \
            os.environ.get("POPSIM_HTTP_LOG", "").lower() == "debug"
        if self._debug and not log.handlers:
            h = logging.StreamHandler()
            h.setFormatter(logging.Formatter("[%(name)s %(levelname)s] %(message)s"))
            log.addHandler(h)
            log.setLevel(logging.DEBUG)

    def _origin(self, base: str) -> _Origin:
        o = self._origins.get(base)
        if o is None:
            with self._lock:
                o = self._origins.setdefault(base, _Origin(base, self._key, self.timeout))
        return o

    def request(self, method: str, base: str, path: str, body: bytes | None = None, *,
                timeout: float | None = None) -> Response:
        """`method` `base` + `path` with a JSON `body`; any status comes back as a `Response`. Raises
        `RequestTimeout` or `ConnectionFailed` when no whole answer came."""
        o = self._origin(base)
        conn = None
        with self._lock:
            while o.idle:
                c = o.idle.pop()
                if not c.stale():
                    conn = c
                    break
                c.close()
        t0 = time.perf_counter() if self._debug else 0.0
        keep = False
        try:
            if conn is None:
                conn = o.connect()
            conn.sock.settimeout(timeout or self.timeout)
            line = f"{method} {o.absolute}{o.prefix}{path}{o.query} HTTP/1.1\r\n".encode("latin-1")
            if body is None:
                conn.sock.sendall(line + o.head + b"\r\n")
            else:
                conn.sock.sendall(line + o.head + b"Content-Type: application/json\r\nContent-Length: "
                                  + str(len(body)).encode() + b"\r\n\r\n" + body)
            resp, keep = _read_response(conn.rfile)
        except TimeoutError:
            raise RequestTimeout("timeout") from None
        except ssl.SSLCertVerificationError as exc:
            raise ConnectionFailed(f"TLS certificate not trusted: {exc.verify_message}; set SSL_CERT_FILE") from None
        except (OSError, EOFError) as exc:
            raise ConnectionFailed(type(exc).__name__) from None
        finally:
            if conn is not None:
                if keep:
                    with self._lock:
                        o.idle.append(conn)
                else:
                    conn.close()
        if self._debug:
            log.debug("%s %s%s -> HTTP %d (%d bytes, %.1f ms)", method, public_url(base), path, resp.status,
                      len(resp.body), 1000 * (time.perf_counter() - t0))
        return resp

    def close(self):
        with self._lock:
            origins, self._origins = list(self._origins.values()), {}
        for o in origins:
            for c in o.idle:
                c.close()
            o.idle.clear()


def _read_response(rfile) -> tuple[Response, bool]:
    """One response (after any 1xx); whether the connection may carry the next request."""
    while True:
        line = rfile.readline(65537)
        if not line:
            raise ConnectionFailed("RemoteDisconnected")
        parts = line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
            raise ConnectionFailed("BadStatusLine")
        status = int(parts[1])
        headers: dict[str, str] = {}
        while True:
            h = rfile.readline(65537)
            if h in (b"\r\n", b"\n"):
                break
            if not h:
                raise ConnectionFailed("IncompleteRead")
            k, _, v = h.decode("latin-1").partition(":")
            k, v = k.strip().lower(), v.strip()
            headers[k] = f"{headers[k]}, {v}" if k in headers else v
        if not 100 <= status < 200:
            break
    keep = parts[0] == b"HTTP/1.1" and "close" not in headers.get("connection", "").lower()
    if status in (204, 304):
        body = b""
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        body = _read_chunked(rfile)
    elif "content-length" in headers:
        n = int(headers["content-length"])
        body = rfile.read(n)
        if len(body) < n:
            raise ConnectionFailed("IncompleteRead")
    else:
        body, keep = rfile.read(), False
    enc = headers.get("content-encoding", "").lower()
    if enc in ("gzip", "deflate"):
        try:
            body = zlib.decompress(body, 47 if enc == "gzip" else 15)
        except zlib.error:
            raise ConnectionFailed("bad gzip body") from None
    return Response(status, headers, body), keep


def _read_chunked(rfile) -> bytes:
    parts = []
    while True:
        line = rfile.readline(65537)
        if not line:
            raise ConnectionFailed("IncompleteRead")
        n = int(line.split(b";")[0].strip() or b"0", 16)
        if n == 0:
            while rfile.readline(65537) not in (b"\r\n", b"\n", b""):  # trailers
                pass
            return b"".join(parts)
        data = rfile.read(n + 2)
        if len(data) < n + 2:
            raise ConnectionFailed("IncompleteRead")
        parts.append(data[:n])


def _proxy_for(scheme: str, host: str):
    """The proxy (a parsed URL) that `HTTP(S)_PROXY`/`NO_PROXY` name for this server, or None."""
    proxies = getproxies_environment()
    url = proxies.get(scheme)
    if not url or proxy_bypass_environment(host, proxies):
        return None
    p = urlparse(url if "://" in url else f"http://{url}")
    return p if p.hostname else None


def _basic(p) -> str:
    return "Basic " + base64.b64encode(f"{unquote(p.username)}:{unquote(p.password or '')}".encode()).decode()


def _tunnel(sock, host: str, port: int, proxy) -> None:
    """CONNECT host:port through an HTTP proxy (for https servers behind one)."""
    auth = f"Proxy-Authorization: {_basic(proxy)}\r\n" if proxy.username else ""
    sock.sendall(f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n{auth}\r\n".encode("latin-1"))
    rfile = sock.makefile("rb", buffering=0)
    status = rfile.readline(65537).split(None, 2)
    while rfile.readline(65537) not in (b"\r\n", b"\n", b""):
        pass
    if len(status) < 2 or status[1] != b"200":
        raise ConnectionFailed(f"proxy refused CONNECT ({b' '.join(status[1:]).decode('latin-1').strip()})")


_TLS: ssl.SSLContext | None = None


def _tls_context() -> ssl.SSLContext:
    global _TLS
    if _TLS is None:
        _TLS = ssl.create_default_context()
    return _TLS
