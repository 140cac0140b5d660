"""The HTTP server: keep-alive HTTP/1.1, auth, fault injection, dispatch, stats.

`SandboxServer.start()` starts the HTTP thread and the webhook delivery thread; `stop()` stops both.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import control
from .faults import Faults
from .oauth import OAuthSettings, TokenIssuer
from .routes import build_router
from .routing import Request, Response, fail, html_404, json_response
from .seed import Seeder
from .store import Store
from .v2 import DEFAULT_TOKEN, V2Api, is_v2_path
from .webhooks import WebhookHub, account_id_for

MODULES = ("invoicing", "crm", "projects", "team", "accounting")
SERVER_ERRORS = [500, 502, 503, 504]
REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


class App:
    """Everything behind the socket: data, faults, credentials, routing and counters."""

    def __init__(
        self,
        seed: int,
        scale: float,
        api_key: str,
        faults: Faults,
        oauth: OAuthSettings,
        bearer_token: str | None,
        api_token: str | None = DEFAULT_TOKEN,
    ) -> None:
        self.seed, self.scale = seed, scale
        self.api_key = api_key
        self.bearer_token = bearer_token
        self.faults = faults
        self.oauth = oauth
        self.tokens = TokenIssuer(oauth)
        self.store = Store()
        self.router = build_router()
        self.v2 = V2Api(api_token)  # API v2 over the same store: tokens, rate windows, its own routes
        self.cache: dict[str, Any] = {}  # derived views (e.g. the daily ledger), keyed by store.version
        self._stats_lock = threading.Lock()
        self._by_status: Counter[str] = Counter()
        self._faults_fired: Counter[str] = Counter()
        self._total = 0
        self._creates = 0
        self.webhooks = WebhookHub(self.store, faults, account_id_for(seed))
        self.reseed(seed, scale)

    def reseed(self, seed: int, scale: float) -> None:
        """Regenerate all data; webhooks stay registered and get no events for it."""
        with self.store.lock, self.store.unobserved():
            self.seed, self.scale = seed, scale
            Seeder(self.store, seed, scale).run()
            self.cache.clear()

    def derived(self, name: str, build: Callable[[], Any]) -> Any:
        """A view computed from the data, rebuilt only after a write (cached on store.version)."""
        hit = self.cache.get(name)
        if hit is None or hit[0] != self.store.version:
            hit = self.cache[name] = (self.store.version, build())
        return hit[1]

    def seeder(self) -> Seeder:
        """A seeder for `fill`: deterministic per (seed, call count)."""
        self._fills = getattr(self, "_fills", 0) + 1
        return Seeder(self.store, hash((self.seed, self._fills)) & 0xFFFFFFFF, self.scale)

    # --- stats ----------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        with self._stats_lock:
            return {
                "counts": self.store.counts(),
                "requests": {"total": self._total, "by_status": dict(self._by_status)},
                "creates": self._creates,
                "token_grants": self.tokens.grants,
                "faults": dict(self._faults_fired),
            }

    def reset_stats(self) -> None:
        with self._stats_lock:
            self._by_status.clear()
            self._faults_fired.clear()
            self._total = self._creates = 0

    def _count(self, resp: Response) -> None:
        with self._stats_lock:
            self._total += 1
            self._by_status["reset" if resp.transport == "reset" else str(resp.status)] += 1
            self._creates += int(resp.created)

    def _fired(self, kind: str) -> None:
        with self._stats_lock:
            self._faults_fired[kind] += 1

    # --- request handling -----------------------------------------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Response:
        parts = urlsplit(target)
        path = parts.path.rstrip("/") or "/"
        # Repeated keys (customId=a&customId=b or customId[]=...) are joined with commas.
        query: dict[str, str] = {}
        for key, values in parse_qs(parts.query, keep_blank_values=True).items():
            key = key.removesuffix("[]")
            query[key] = ",".join(([query[key]] if key in query else []) + values)
        if path.startswith("/__sandbox__"):
            return control.handle(self, method, path[len("/__sandbox__") :], body)
        if path == "/oauth/token" and method == "POST":
            resp = self.tokens.token_endpoint(headers, body)
        elif path.startswith("/api/"):
            resp = self._api(method, path[len("/api") :], query, headers, body)
        else:
            resp = html_404()
        self._count(resp)
        return resp

    def _credential(self, headers: dict[str, str]) -> tuple[str | None, str]:
        key = headers.get("key")
        if key is not None:
            return (f"key:{key}", "") if key == self.api_key else (None, "Unauthorized: invalid API key")
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            token = auth[7:].strip()
            if self.bearer_token and token == self.bearer_token:
                return f"bearer:{token}", ""
            owner, expired = self.tokens.owner_of(token)
            if owner and not expired:
                return owner, ""
            return None, "Unauthorized: access token expired" if owner else "Unauthorized: invalid access token"
        return None, "Unauthorized: invalid API key"

    def _api(self, method: str, path: str, query: dict[str, str], headers: dict[str, str], raw: bytes) -> Response:
        faults = self.faults
        entry = faults.take_script(path, method)
        if entry is not None and entry.get("kind") not in ("truncate", "lost_create", "slow"):
            self._fired("script")
            return _scripted(entry)
        if is_v2_path(path):
            return self._broken(entry, method, self.v2.handle(self, method, path, query, headers, raw))
        rejected = self.v2.v1_rejects(headers)  # a v2 token (pat_...) on a v1 route
        if rejected is not None:
            return rejected
        credential, problem = self._credential(headers)
        if credential is None:
            return json_response({"status": 0, "info": problem}, 401)
        delay = faults.latency()
        if delay:
            time.sleep(delay)
        module = path.split("/")[1] if path.count("/") >= 1 else ""
        over_quota = self.v2.v1_quota(self)  # the account's minute / month windows, shared with v2
        if over_quota is not None:
            self._fired("rate_limit")
            return over_quota
        retry_after = faults.throttle(credential)
        if retry_after is not None:
            self._fired("rate_limit")
            resp = json_response({"status": 0, "info": "Too many requests"}, 429)
            resp.headers.update(retry_after)
            return resp
        if module in MODULES and module in faults.denied_modules:
            self._fired("denied_module")
            return json_response({"status": 0, "info": f"Your plan does not include access to the {module} API"}, 403)
        for name, fault in (("error_rate", "error"), ("reset_rate", "reset"), ("html_rate", "html")):
            if faults.roll(name):
                self._fired(fault)
                return _scripted({"status": faults.choice(SERVER_ERRORS)} if fault == "error" else {"kind": fault})
        handler, params = self.router.match(method, path)
        if handler is None:
            return html_404()
        body, error = _parse_body(headers, raw)
        if error:
            return json_response({"status": 0, "info": error}, 400)
        req = Request(method, path, query, body, headers, params, credential, paged=not faults.ignores_page(path))
        try:
            with self.store.lock:
                resp = handler(self, req)
        except Exception:  # a sandbox bug must not look like a network fault: answer 500 and say why
            traceback.print_exc(file=sys.stderr)
            return json_response({"status": 0, "info": "Sandbox internal error (see its stderr)"}, 500)
        return self._broken(entry, method, resp)

    def _broken(self, entry: dict[str, Any] | None, method: str, resp: Response) -> Response:
        """After a request was handled: a scripted or random truncate / lost create breaks its answer."""
        if resp.transport != "send":
            return resp
        if entry is not None and entry.get("kind") == "slow":  # answered as usual, `delay_ms` late: the data is
            self._fired("script")  # read now, so a change made meanwhile is not in the (older) answer
            time.sleep(float(entry.get("delay_ms", 1000)) / 1000)
            return resp
        if entry is not None:  # scripted truncate / lost_create: applied, then the answer is broken
            self._fired("script")
            resp.transport = "truncate" if entry["kind"] == "truncate" else "reset"
        elif resp.created and method == "POST" and self.faults.roll("lost_create_rate"):
            self._fired("lost_create")
            resp.transport = "reset"
        elif self.faults.roll("truncate_rate"):
            self._fired("truncate")
            resp.transport = "truncate"
        return resp


def _scripted(entry: dict[str, Any]) -> Response:
    kind = entry.get("kind")
    if kind == "reset":
        return Response(0, b"", transport="reset")
    if kind == "html":
        return html_404()
    if kind == "status0":
        return fail("Forced failure")
    status = int(entry.get("status", 500))
    body = entry.get("body")
    if body is None:
        resp = json_response({"status": 0, "info": REASONS.get(status, "Error")}, status)
    elif isinstance(body, str):
        ctype = "text/html; charset=utf-8" if body.lstrip().startswith("<") else "text/plain; charset=utf-8"
        resp = Response(status, body.encode(), ctype)
    else:
        resp = json_response(body, status)
    resp.headers.update({str(k): str(v) for k, v in (entry.get("headers") or {}).items()})
    return resp


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _parse_body(headers: dict[str, str], raw: bytes) -> tuple[Any, str]:
    text = raw.decode("utf-8", "replace").strip()
    if not text:
        return {}, ""
    if "form-urlencoded" in headers.get("content-type", "") and not text.startswith(("{", "[")):
        return {k: v[-1] for k, v in parse_qs(text).items()}, ""
    try:
        return json.loads(text), ""
    except ValueError:
        return None, "Invalid JSON body"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nginx"
    sys_version = ""
    timeout = 120  # idle keep-alive connections are dropped after this

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests and benchmarks hammer it
        pass

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self) -> None:
        body = self._read_body()  # always consumed, or the next keep-alive request would be garbage
        headers = {k.lower(): v for k, v in self.headers.items()}
        app: App = self.server.app  # type: ignore[attr-defined]
        resp = app.handle(self.command, self.path, headers, body)
        if resp.transport == "reset":
            self._drop()
            return
        head = [f"HTTP/1.1 {resp.status} {_reason(resp.status)}", f"Server: {self.server_version}",
                f"Date: {self.date_time_string()}", f"Content-Type: {resp.content_type}",
                f"Content-Length: {len(resp.body)}"]  # fmt: skip
        head += [f"{key}: {value}" for key, value in resp.headers.items()]
        if self.close_connection:
            head.append("Connection: close")
        payload = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
        if resp.transport == "truncate":  # headers announce the full length; half the body follows
            self.wfile.write(payload + resp.body[: len(resp.body) // 2])
            self._drop()
            return
        self.wfile.write(payload + resp.body)  # one write: no Nagle/delayed-ACK stall between head and body

    def _drop(self) -> None:
        """Close the connection abruptly (RST) without (further) answer."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connections: set[socket.socket] = set()  # open keep-alive connections, closed on stop
        self._conn_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._conn_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._conn_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._conn_lock:
            open_now = list(self.connections)
        for conn in open_now:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class SandboxServer:
    """A local Holded API v1 and v2 emulator. `with SandboxServer(port=0) as sb: requests.get(sb.base_url + ...)`.

    v1 answers `<base_url>/<module>/v1/...` with the `key` header; v2 answers `<base_url>/v2/...` with
    `Authorization: Bearer <api_token>` (or a token minted with `mint_token`), over the same records.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 1,
        scale: float = 1.0,
        api_key: str = "sandbox-api-key",
        faults: Faults | None = None,
        oauth: OAuthSettings | None = None,
        bearer_token: str | None = "sandbox-bearer-token",
        api_token: str | None = DEFAULT_TOKEN,
    ) -> None:
        self.host = host
        self._port = port
        self.api_key = api_key
        self.bearer_token = bearer_token
        self.api_token = api_token  # the API v2 token (pat_...) holding every permission
        self.app = App(seed, scale, api_key, faults or Faults(), oauth or OAuthSettings(), bearer_token, api_token)
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> SandboxServer:
        if self._httpd is not None:
            return self
        httpd = _Server((self.host, self._port), _Handler)
        httpd.app = self.app  # type: ignore[attr-defined]
        self._httpd = httpd
        self._port = httpd.server_address[1]
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self._thread.name = f"holded-sandbox-{self._port}"
        self._thread.start()
        self.app.webhooks.start()
        return self

    def stop(self) -> None:
        """Stop serving, then stop delivering webhooks (idempotent; queued deliveries are dropped)."""
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
            httpd.close_connections()  # idle keep-alive handlers would otherwise linger until their timeout
            if self._thread is not None:
                self._thread.join(timeout=5)
        self.app.webhooks.stop()

    def serve_forever(self) -> None:
        """Blocking variant for the CLI."""
        self.start()
        assert self._thread is not None
        while self._thread.is_alive():
            self._thread.join(timeout=0.5)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- public attributes ----------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._port

    @property
    def root_url(self) -> str:
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self._port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/api"

    @property
    def token_url(self) -> str:
        return f"{self.root_url}/oauth/token"

    @property
    def control_url(self) -> str:
        return f"{self.root_url}/__sandbox__"

    @property
    def faults(self) -> Faults:
        return self.app.faults

    @property
    def store(self) -> Store:
        return self.app.store

    @property
    def webhooks(self) -> WebhookHub:
        """The registered webhooks and their delivery worker (see webhooks.py)."""
        return self.app.webhooks

    @property
    def oauth(self) -> OAuthSettings:
        return self.app.oauth

    @property
    def seed(self) -> int:
        return self.app.seed

    @property
    def scale(self) -> float:
        return self.app.scale

    def stats(self) -> dict[str, Any]:
        return self.app.stats()

    def mint_token(self, permissions: list[str]) -> str:
        """A new v2 token holding exactly `permissions` (e.g. `["contacts:contacts.read"]`)."""
        return self.app.v2.tokens.mint(permissions).value

    def reset(self, seed: int | None = None, scale: float | None = None) -> None:
        self.app.reseed(self.app.seed if seed is None else seed, self.app.scale if scale is None else scale)
