"""`/v2/webhooks`: registering Holded's signed webhooks through API v2 (`developers:webhooks.write`).

Holded's catalogue has only the create (shared/holded-api/v2/README.md, "Webhooks": `POST
/api/v2/webhooks {url, events[], version, description}` answers the signing secret once); the list and
the delete are the sandbox's, so a rehearsal can clean up. The registrations are `app.webhooks`'s, the
same hub `POST /__sandbox__/webhooks` feeds, so deliveries follow the store whichever route registered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..routing import Request, Response
from ..webhooks import WebhookError, v2_create, v2_delete, v2_list
from .problems import Problem
from .resource import Extra, V2Resource, json_answer, no_content

if TYPE_CHECKING:
    from ..server import App


def create(app: App, req: Request, res: V2Resource) -> Response:
    """`201 {"id", "secret": "whsec_..."}`; a refused registration is a 422 naming the field."""
    try:
        return json_answer(v2_create(app.webhooks, req.body), 201)
    except WebhookError as exc:
        raise Problem(422, str(exc)) from None


def listing(app: App, req: Request, res: V2Resource) -> Response:
    return json_answer({"items": v2_list(app.webhooks), "cursor": None, "has_more": False})


def delete(app: App, req: Request, res: V2Resource) -> Response:
    if not v2_delete(app.webhooks, req.params["id"]):
        raise Problem(404, f"Webhook {req.params['id']} not found.")
    return no_content()


WEBHOOKS = V2Resource(
    path="/webhooks",
    collection="",
    scope="developers:webhooks",
    name="Webhook",
    view=lambda app, record: record,
    ops="",
    extra=(
        Extra("POST", "", "create", create),
        Extra("GET", "", "list", listing),
        Extra("DELETE", "/{id}", "delete", delete),
    ),
)
RESOURCES = (WEBHOOKS,)
