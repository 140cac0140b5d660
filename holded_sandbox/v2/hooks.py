"""`POST /v2/webhooks`: registering Holded's signed webhooks through API v2 (`developers:webhooks.write`).

Holded's reference does not list it; one live report does (shared/holded-api/v2/README.md, "Webhooks":
`POST /api/v2/webhooks {url, events[], version, description}` answers the signing secret once). Nothing
reports a list or a delete, so v2 serves neither: a rehearsal lists and removes registrations through
the control routes (`/__sandbox__/webhooks`). Both feed the same hub (`app.webhooks`), so deliveries
follow the store whichever route registered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..routing import Request, Response
from ..webhooks import WebhookError, v2_create
from .problems import Problem
from .resource import Extra, V2Resource, json_answer

if TYPE_CHECKING:
    from ..server import App


def create(app: App, req: Request, res: V2Resource) -> Response:
    """`201 {"id", "secret": "whsec_..."}`; a refused registration is a 422 naming the field."""
    try:
        return json_answer(v2_create(app.webhooks, req.body), 201)
    except WebhookError as exc:
        raise Problem(422, str(exc)) from None


WEBHOOKS = V2Resource(
    path="/webhooks",
    collection="",
    scope="developers:webhooks",
    name="Webhook",
    view=lambda app, record: record,
    ops="",
    extra=(Extra("POST", "", "create", create),),
)
RESOURCES = (WEBHOOKS,)
