"""A small router plus the request/response types and Holded's answer shapes."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .store import dumps

if TYPE_CHECKING:
    from .server import App

JSON_TYPE = "application/json; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"

# What api.holded.com serves for a path it does not know: its web app's 404 page, with HTTP 200.
HOLDED_404_HTML = b"""<!DOCTYPE html>
<html lang="es">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Holded - P\xc3\xa1gina no encontrada</title>
<link rel="icon" href="https://www.holded.com/favicon.ico">
<style>body{font-family:Inter,Helvetica,Arial,sans-serif;background:#f7f7fb;color:#1f2937;text-align:center;
padding-top:12vh}h1{font-size:96px;margin:0;color:#ef4444}a{color:#ef4444}</style>
</head>
<body>
<div id="app">
<h1>404</h1>
<h2>Vaya, esta p\xc3\xa1gina no existe</h2>
<p>La p\xc3\xa1gina que buscas no existe o ha sido movida.</p>
<p><a href="https://app.holded.com/">Volver a Holded</a></p>
</div>
</body>
</html>
"""


@dataclass
class Request:
    method: str
    path: str  # path under /api, e.g. "/invoicing/v1/contacts"
    query: dict[str, str]
    body: Any
    headers: dict[str, str]
    params: dict[str, str] = field(default_factory=dict)
    credential: str | None = None
    paged: bool = True  # False: this route ignores `page` (the `ignore_page` switch)

    def page(self) -> int:
        if not self.paged:
            return 1
        try:
            return max(1, int(self.query.get("page", "1")))
        except ValueError:
            return 1


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)
    transport: str = "send"  # "send" | "reset" (close, no answer) | "truncate" (half the body, then close)
    created: bool = False  # a create that was applied (counts in stats, eligible for lost_create)


Handler = Callable[["App", Request], Response]


def json_response(obj: Any, status: int = 200) -> Response:
    return Response(status, dumps(obj))


def raw_json(body: bytes, status: int = 200) -> Response:
    return Response(status, body)


def created(rid: str, **extra: Any) -> Response:
    resp = json_response({"status": 1, "info": "Created", "id": rid, **extra}, 201)
    resp.created = True
    return resp


def updated(rid: str) -> Response:
    return json_response({"status": 1, "info": "Updated", "id": rid})


def deleted(rid: str) -> Response:
    return json_response({"status": 1, "info": "Successfully deleted", "id": rid})


def fail(info: str) -> Response:
    """Holded's logical failure: status 0 in the body, HTTP 200."""
    return json_response({"status": 0, "info": info})


def not_found() -> Response:
    return json_response({"status": 0, "info": "Not found"}, 404)


def html_404() -> Response:
    return Response(200, HOLDED_404_HTML, HTML_TYPE)


class Router:
    """Path templates like "/crm/v1/leads/{id}/stages"; literal segments beat parameters."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], int, Handler]] = []

    def add(self, method: str, template: str, handler: Handler) -> None:
        pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
        self._routes.append((method.upper(), re.compile(f"^{pattern}$"), template.count("{"), handler))

    def match(self, method: str, path: str) -> tuple[Handler | None, dict[str, str]]:
        best: tuple[int, Handler, dict[str, str]] | None = None
        for route_method, regex, nparams, handler in self._routes:
            if route_method != method:
                continue
            found = regex.match(path)
            if found and (best is None or nparams < best[0]):
                best = (nparams, handler, found.groupdict())
        return (best[1], best[2]) if best else (None, {})
