"""The one v2 resource declaration and the generic handlers every resource goes through.

A resource says where it lives (`path`), which store collection it reads (`collection`, the v1 one:
same records, same ids), its permission `scope`, how a stored (v1-shaped) record reads in v2
(`view`), how a v2 body becomes a record (`create`) or changes one (`update`), its list filters,
page sizes and extra routes. `register` turns that into routes; no resource writes its own CRUD.

Invariants:
- Reads never change the store. Writes go through the v1 record shape, so v1 sees them at once.
- Answers: list `{"items","cursor","has_more"}`, get the view, create `201 {"id"}`, update
  `{"id"}` (or `{"status": 1}` where Holded answers that), delete `204` with no body.
- Each route carries the permission it needs (`<scope>.read` for GET, `<scope>.write` otherwise)
  and the key it is counted under in `/usage` (`api_<area>_<resource>_<action>_1`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..routing import Request, Response, Router
from ..store import Record, dumps
from . import paging
from .fields import body_object
from .problems import Problem, bad_request

if TYPE_CHECKING:
    from ..server import App

View = Callable[["App", Record], dict[str, Any]]
Create = Callable[["App", dict[str, Any]], Record]
Update = Callable[["App", dict[str, Any], Record], None]
Guard = Callable[["App", Record, str], None]
Filter = Callable[[Record, str], bool]
Order = Callable[[Request, list[Record]], list[Record] | None]
Run = Callable[["App", Request], Response]


@dataclass(frozen=True)
class Route:
    """A v2 route handler with the permission it needs and its `/usage` key."""

    permission: str
    usage: str
    run: Run

    def __call__(self, app: App, req: Request) -> Response:
        return self.run(app, req)


@dataclass(frozen=True)
class Extra:
    """A route beside the CRUD ones: `Extra("POST", "/{id}/approve", "approve", handler)`.

    The handler gets the resource too; `suffix` is appended to the resource path.
    """

    method: str
    suffix: str
    action: str
    handler: Callable[[App, Request, V2Resource], Response]
    permission: str | None = None  # default: <scope>.read for GET, <scope>.write otherwise


@dataclass(frozen=True)
class V2Resource:
    """One v2 resource over one store collection (see the module docstring)."""

    path: str  # "/contacts"
    collection: str  # store collection (v1 name): "contacts", "invoice", "leads"...
    scope: str  # permission scope without the access: "contacts:contacts"
    name: str  # for messages: "Contact"
    view: View
    create: Create | None = None
    update: Update | None = None
    guard: Guard | None = None  # before update and delete (e.g. approved documents); raises Problem
    filters: Mapping[str, Filter] = field(default_factory=dict)  # query parameter -> predicate
    required_query: tuple[str, ...] = ()
    default_limit: int = 50
    max_limit: int = 100
    paginated: bool = True
    order: Order | None = None  # ordering other than ascending id (None from it: ascending id)
    update_answer: str = "id"  # "id" -> {"id": ...}; "status" -> {"status": 1}
    ops: str = "LCGUD"  # list, create, get, update, delete
    extra: tuple[Extra, ...] = ()

    def permission(self, method: str) -> str:
        """`<scope>.read` for GET, `<scope>.write` for any write."""
        return f"{self.scope}.{'read' if method == 'GET' else 'write'}"

    def usage_key(self, action: str) -> str:
        """`api_contacts_contacts_list_1`: how `/usage` names this route's calls."""
        area, _, resource = self.scope.partition(":")
        return f"api_{area}_{resource}_{action}_1".replace("-", "_")


def json_answer(obj: Any, status: int = 200) -> Response:
    """A JSON answer (v2 errors are problems; this is for successes)."""
    return Response(status, dumps(obj))


def created(rid: str) -> Response:
    """`201 {"id"}` for an applied create."""
    resp = json_answer({"id": rid}, 201)
    resp.created = True
    return resp


def no_content() -> Response:
    """`204` with no body."""
    return Response(204, b"")


def record_of(app: App, res: V2Resource, rid: str) -> Record:
    """The stored record or a 404 problem."""
    record = app.store.get(res.collection, rid)
    if record is None:
        raise Problem(404, f"{res.name} not found.")
    return record


def list_answer(app: App, req: Request, res: V2Resource, keep: paging.Predicate | None = None) -> Response:
    """A page of the resource as `{"items","cursor","has_more"}` (filters from the query applied)."""
    for name in res.required_query:
        if not req.query.get(name):
            raise bad_request(f"{name} is required.")
    predicates = [(res.filters[k], v) for k, v in req.query.items() if k in res.filters and v != ""]
    if keep is not None:
        predicates.append((lambda r, _v: keep(r), ""))

    def wanted(record: Record) -> bool:
        return all(test(record, value) for test, value in predicates)

    keep_fn = wanted if predicates else None
    if not res.paginated:
        records = [r for r in paging.by_id(app, res.collection)[0] if keep_fn is None or keep_fn(r)]
        return json_answer({"items": [res.view(app, r) for r in records], "cursor": None, "has_more": False})
    ordered = None
    if res.order is not None:
        base = [r for r in paging.by_id(app, res.collection)[0] if keep_fn is None or keep_fn(r)]
        ordered = res.order(req, base)
    if ordered is None:
        page, more = paging.page_by_id(app, req, res.collection, keep_fn, res.default_limit, res.max_limit)
    else:
        page, more = paging.page_of(req, ordered, res.default_limit, res.max_limit)
    return json_answer(paging.envelope([res.view(app, r) for r in page], page, more))


def _handlers(res: V2Resource) -> dict[str, tuple[str, str, str, Run]]:
    def do_list(app: App, req: Request) -> Response:
        return list_answer(app, req, res)

    def do_create(app: App, req: Request) -> Response:
        assert res.create is not None
        record = res.create(app, body_object(req.body))
        app.store.save(res.collection, record)
        return created(record["id"])

    def do_get(app: App, req: Request) -> Response:
        return json_answer(res.view(app, record_of(app, res, req.params["id"])))

    def do_update(app: App, req: Request) -> Response:
        assert res.update is not None
        record = record_of(app, res, req.params["id"])
        if res.guard is not None:
            res.guard(app, record, "PUT")
        res.update(app, body_object(req.body), record)
        app.store.save(res.collection, record)
        return json_answer({"status": 1} if res.update_answer == "status" else {"id": record["id"]})

    def do_delete(app: App, req: Request) -> Response:
        record = record_of(app, res, req.params["id"])
        if res.guard is not None:
            res.guard(app, record, "DELETE")
        app.store.delete(res.collection, record["id"])
        return no_content()

    item = res.path + "/{id}"
    return {
        "L": ("GET", res.path, "list", do_list),
        "C": ("POST", res.path, "create", do_create),
        "G": ("GET", item, "get", do_get),
        "U": ("PUT", item, "update", do_update),
        "D": ("DELETE", item, "delete", do_delete),
    }


def register(router: Router, res: V2Resource) -> list[tuple[str, str, str]]:
    """Add the resource's routes under `/v2`; returns (method, path, permission) of each."""
    added = []
    for op, (method, path, action, run) in _handlers(res).items():
        if op in res.ops:
            route = Route(res.permission(method), res.usage_key(action), run)
            router.add(method, "/v2" + path, route)
            added.append((method, "/v2" + path, route.permission))
    for extra in res.extra:

        def run(app: App, req: Request, extra: Extra = extra) -> Response:
            return extra.handler(app, req, res)

        permission = extra.permission or res.permission(extra.method)
        router.add(extra.method, "/v2" + res.path + extra.suffix, Route(permission, res.usage_key(extra.action), run))
        added.append((extra.method, "/v2" + res.path + extra.suffix, permission))
    return added
