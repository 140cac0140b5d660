"""Test-only control routes under /__sandbox__/ (no auth, no faults, not counted in stats).

Reset and fill rewrite data without webhook events; `webhooks` registers, lists and removes webhooks.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .routing import Response, json_response
from .seed import FILLABLE
from .webhooks import WebhookError

if TYPE_CHECKING:
    from .server import App


def handle(app: App, method: str, route: str, raw: bytes) -> Response:
    try:
        body: Any = json.loads(raw or b"{}")
    except ValueError:
        return _error("body must be JSON")
    if not isinstance(body, dict):
        return _error("body must be a JSON object")
    route = route.strip("/")
    if route == "faults" and method == "GET":
        return json_response(app.faults.as_dict())
    if route == "faults" and method in ("PUT", "PATCH"):
        try:
            app.faults.update(**body)
        except (ValueError, TypeError) as exc:
            return _error(str(exc))
        return json_response(app.faults.as_dict())
    if route == "stats" and method == "GET":
        return json_response(app.stats())
    if route == "stats" and method == "DELETE":
        app.reset_stats()
        return json_response(app.stats())
    if route == "reset" and method == "POST":
        try:
            seed = int(body.get("seed", app.seed))
            scale = float(body.get("scale", app.scale))
        except (TypeError, ValueError):
            return _error("seed must be an integer and scale a number")
        if scale <= 0:
            return _error("scale must be > 0")
        app.reseed(seed, scale)
        return json_response({"seed": seed, "scale": scale, "counts": app.store.counts()})
    if route == "fill" and method == "POST":
        collection = str(body.get("collection", "")).removeprefix("documents/")
        try:
            count = int(body.get("count", 0))
        except (TypeError, ValueError):
            return _error("count must be an integer")
        if collection not in FILLABLE or count < 0:
            return _error(f"collection must be one of {sorted(FILLABLE)} and count >= 0")
        with app.store.lock, app.store.unobserved():
            app.seeder().fill(collection, count)
            app.cache.clear()
        return json_response({"collection": collection, "count": len(app.store.coll(collection).records)})
    if route == "tokens" and method == "POST":  # an API v2 token with just these permissions
        permissions = body.get("permissions")
        if not isinstance(permissions, list):
            return _error("permissions must be a list such as ['contacts:contacts.read']")
        try:
            token = app.v2.tokens.mint(permissions)
        except ValueError as exc:
            return _error(str(exc))
        return json_response({"token": token.value, "permissions": sorted(token.permissions)}, 201)
    if route == "usage" and method == "GET":
        return json_response(app.v2.quota.report(app.faults.rate_limit_per_month))
    if route == "usage" and method == "DELETE":  # forget the account's minute and month counts
        app.v2.quota.clear()
        return json_response(app.v2.quota.report(app.faults.rate_limit_per_month))
    if route == "webhooks" or route.startswith("webhooks/"):
        return _webhooks(app, method, route.removeprefix("webhooks").strip("/"), body)
    if route == "" and method == "GET":
        routes = ["faults", "stats", "reset", "fill", "tokens", "usage", "webhooks"]
        return json_response({"seed": app.seed, "scale": app.scale, "routes": routes})
    return json_response({"error": f"no control route {method} /__sandbox__/{route}"}, 404)


def _webhooks(app: App, method: str, webhook_id: str, body: dict[str, Any]) -> Response:
    """POST registers `{url, events?, version?, description?}`; GET lists (or shows one); DELETE removes one."""
    hub = app.webhooks
    if not webhook_id and method == "POST":
        try:
            hook = hub.register(body.get("url"), body.get("events"), body.get("version"), body.get("description"))
        except WebhookError as exc:
            return _error(str(exc))
        return json_response(hook.as_dict(), 201)
    if not webhook_id and method == "GET":
        return json_response({"accountId": hub.account_id, "webhooks": hub.list()})
    view = hub.describe(webhook_id) if webhook_id else None
    if view is not None and method == "GET":
        return json_response(view)
    if view is not None and method == "DELETE":
        hub.remove(webhook_id)
        return json_response({"id": webhook_id, "deleted": True})
    if webhook_id and method in ("GET", "DELETE"):
        return json_response({"error": f"no webhook {webhook_id}"}, 404)
    return json_response({"error": f"no control route {method} /__sandbox__/webhooks/{webhook_id}"}, 404)


def _error(message: str) -> Response:
    return json_response({"error": message}, 400)
