"""Every v2 resource the sandbox serves, in one list: the router is built from it.

Adding a resource is one declaration in its module and one line here.
"""

from __future__ import annotations

from ..routing import Router
from . import accounting, bookings, catalog, contacts, crm, documents, hooks, settings, times, treasury, usage, work
from .resource import V2Resource, register

# In the priority order: what the connector's unified models stand on first.
RESOURCES: tuple[V2Resource, ...] = (
    *contacts.RESOURCES,
    *documents.RESOURCES,
    *crm.RESOURCES,
    *bookings.RESOURCES,
    *work.RESOURCES,
    *times.RESOURCES,
    *catalog.RESOURCES,
    *treasury.RESOURCES,
    *accounting.RESOURCES,
    *settings.RESOURCES,
    *usage.RESOURCES,
    *hooks.RESOURCES,
)


def build_v2_router() -> tuple[Router, list[tuple[str, str, str]]]:
    """The v2 router and the (method, path, permission) of every route it serves."""
    router = Router()
    served: list[tuple[str, str, str]] = []
    for res in RESOURCES:
        served += register(router, res)
    return router, served
