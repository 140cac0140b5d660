"""Every v2 resource the sandbox serves, in one list: the router is built from it.

Adding a resource is one declaration in its module and one line here.
"""

from __future__ import annotations

from ..routing import Router
from . import contacts, documents, usage
from .resource import V2Resource, register

RESOURCES: tuple[V2Resource, ...] = (*contacts.RESOURCES, *documents.RESOURCES, *usage.RESOURCES)


def build_v2_router() -> tuple[Router, list[tuple[str, str, str]]]:
    """The v2 router and the (method, path, permission) of every route it serves."""
    router = Router()
    served: list[tuple[str, str, str]] = []
    for res in RESOURCES:
        served += register(router, res)
    return router, served
