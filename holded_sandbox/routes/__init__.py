"""All Holded v1 routes the sandbox serves, by module."""

from __future__ import annotations

from ..routing import Router
from . import accounting, crm, documents, invoicing, projects, team


def build_router() -> Router:
    router = Router()
    for module in (invoicing, documents, crm, projects, team, accounting):
        module.register_routes(router)
    return router
