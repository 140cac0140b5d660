"""The v2 front door: tokens, the account's rate windows, faults, dispatch and answer headers.

Order for a v2 request (path under /api starting with /v2): script (already taken by the server),
auth (401/403 problem), latency, account windows (429 problem with Retry-After and X-RateLimit-*),
the per-credential token bucket fault, error / reset / html faults, route (404 problem), permission
(403 problem naming it), JSON body (400), the handler under the store lock, then the X-RateLimit-*
headers of the tightest window on the answer, then lost create / truncate.

Invariants: every v2 error is a problem+json (`problems.py`); a request refused by a window is not
counted; v1 requests are counted in the same windows (`v1_quota`), and a `pat_` token on a v1 route
answers `400 {"status":0,"info":"Invalid key"}` (`v1_rejects`).
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from email.utils import formatdate
from typing import TYPE_CHECKING, Any

from ..routing import Request, Response, html_404, json_response
from .auth import DEFAULT_TOKEN, TokenBook, is_v2_token, require_permission
from .problems import Problem, problem
from .quota import V1_USAGE_KEY, AccountQuota
from .resource import Route
from .routes import build_v2_router

if TYPE_CHECKING:
    from ..server import App

SERVER_ERRORS = [500, 502, 503, 504]


def is_v2_path(path: str) -> bool:
    """True for an API v2 path (under /api): `/v2` or `/v2/...`."""
    return path == "/v2" or path.startswith("/v2/")


class V2Api:
    """Holded API v2 over the sandbox's store: `App` holds one and hands it every `/api/v2` request."""

    def __init__(self, api_token: str | None = DEFAULT_TOKEN) -> None:
        self.tokens = TokenBook(api_token)
        self.quota = AccountQuota()
        self.router, self.routes = build_v2_router()

    # --- hooks on the v1 path --------------------------------------------------------------

    @staticmethod
    def v1_rejects(headers: dict[str, str]) -> Response | None:
        """A v2 token on a v1 route: `400 {"status":0,"info":"Invalid key"}` (observed live)."""
        auth = headers.get("authorization", "")
        bearer = auth[7:] if auth.lower().startswith("bearer ") else ""
        if is_v2_token(headers.get("key")) or is_v2_token(bearer):
            return json_response({"status": 0, "info": "Invalid key"}, 400)
        return None

    def v1_quota(self, app: App) -> Response | None:
        """Count a v1 call in the account's windows; its v1-shaped 429 when a window is full."""
        faults = app.faults
        verdict = self.quota.consume(faults.rate_limit_per_minute, faults.rate_limit_per_month, V1_USAGE_KEY)
        if verdict.refused is None:
            return None
        resp = json_response({"status": 0, "info": "Too many requests"}, 429)
        resp.headers.update(verdict.headers)
        resp.headers["Retry-After"] = _retry_after(app, verdict.retry_after)
        return resp

    # --- v2 requests -----------------------------------------------------------------------

    def handle(
        self, app: App, method: str, path: str, query: dict[str, str], headers: dict[str, str], raw: bytes
    ) -> Response:
        """Answer one v2 request (path under /api, e.g. `/v2/contacts`)."""
        faults = app.faults
        try:
            token = self.tokens.authenticate(headers)
        except Problem as exc:
            return exc.response()
        delay = faults.latency()
        if delay:
            time.sleep(delay)
        handler, params = self.router.match(method, path)
        usage = handler.usage if isinstance(handler, Route) else "api_v2_unknown_1"
        verdict = self.quota.consume(faults.rate_limit_per_minute, faults.rate_limit_per_month, usage)
        if verdict.refused is not None:
            app._fired("rate_limit")
            resp = problem(429, f"Rate limit exceeded for the {verdict.refused} window.")
            resp.headers.update(verdict.headers)
            resp.headers["Retry-After"] = _retry_after(app, verdict.retry_after)
            return resp
        retry = faults.throttle(f"pat:{token.value}")
        if retry is not None:
            app._fired("rate_limit")
            resp = problem(429, "Too many requests.")
            resp.headers.update(retry)
            return resp
        for name, fault in (("error_rate", "error"), ("reset_rate", "reset"), ("html_rate", "html")):
            if faults.roll(name):
                app._fired(fault)
                if fault == "error":
                    status = faults.choice(SERVER_ERRORS)
                    return problem(status, "The server could not answer.")
                return Response(0, b"", transport="reset") if fault == "reset" else html_404()
        resp = self._dispatch(app, method, path, query, headers, raw, handler, params, token)
        resp.headers.update(verdict.headers)
        return resp

    def _dispatch(
        self,
        app: App,
        method: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        raw: bytes,
        handler: Any,
        params: dict[str, str],
        token: Any,
    ) -> Response:
        if not isinstance(handler, Route):
            return problem(404, f"No route {method} /api{path}.")
        try:
            require_permission(token, handler.permission)
            body = _json_body(raw)
            req = Request(method, path, query, body, headers, params, f"pat:{token.value}")
            with app.store.lock:
                return handler(app, req)
        except Problem as exc:
            return exc.response()
        except Exception:  # a sandbox bug must not look like a network fault: answer 500 and say why
            traceback.print_exc(file=sys.stderr)
            return problem(500, "Sandbox internal error (see its stderr).")


def _json_body(raw: bytes) -> Any:
    text = raw.decode("utf-8", "replace").strip()
    if not text:
        return {}
    try:
        return json.loads(text)
    except ValueError:
        raise Problem(400, "The request body is not valid JSON.") from None


def _retry_after(app: App, seconds: int) -> str:
    if app.faults.retry_after_format == "http-date":
        return formatdate(time.time() + seconds, usegmt=True)
    return str(seconds)
