"""One generic CRUD implementation, parameterised per resource.

Every Holded collection route (list, create, get, update, delete) goes through `register`; a
resource only says how to build a record, how to apply an update and how to filter a list.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..fakedata import money
from ..model import num, to01
from ..routing import Request, Response, Router, created, deleted, fail, not_found, raw_json, updated
from ..store import Record, dumps, object_id

if TYPE_CHECKING:
    from ..server import App

PAGE_SIZE = 500
Converter = Callable[[Any], Any]


def text(value: Any) -> str:
    return "" if value is None else str(value)


def integer(value: Any) -> int:
    return int(num(value))


def amount(value: Any) -> float:
    return money(num(value))


def string_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value] if isinstance(value, list) else []


def anything(value: Any) -> Any:
    return copy.deepcopy(value)


def boolean(value: Any) -> bool:
    return bool(to01(value))


def merge(value: Any) -> Any:
    """Marker converter: nested objects are merged key by key (partial update inside them too)."""
    return copy.deepcopy(value)


def apply_fields(record: Record, body: dict[str, Any], fields: dict[str, Converter]) -> None:
    """Partial update: only the fields present in the body change; unknown keys are ignored."""
    for key, convert in fields.items():
        if key not in body:
            continue
        if convert is merge and isinstance(record.get(key), dict) and isinstance(body[key], dict):
            record[key] = {**record[key], **{k: str(v) if k == "postalCode" else v for k, v in body[key].items()}}
        else:
            record[key] = convert(body[key])


@dataclass
class Resource:
    module: str
    path: str  # e.g. "/contacts" or "/documents/{docType}"
    collection: str | Callable[[Request], str | Response]
    create: Callable[[App, Request], Record | Response] | None = None
    update: Callable[[App, Request, Record], Response | None] | None = None
    guard: Callable[[App, Request, Record], Response | None] | None = None  # before update and delete
    filter: Callable[[App, Request, list[Record]], list[Record]] | None = None
    view: Callable[[App, Record], dict[str, Any]] | None = None  # computed read view (not cached)
    answer: Callable[[App, Record], Response] | None = None  # create answer (default: Created envelope)
    on_delete: Callable[[App, Record], Response | None] | None = None  # e.g. bookings are cancelled, not removed
    wrap: str | None = None  # list envelope key (team employees)
    paged: bool = True  # False: Holded ignores `page` here and answers every record, whatever the page
    ops: str = "LCGUD"  # list, create, get, update, delete


def collection_of(res: Resource, req: Request) -> str | Response:
    return res.collection(req) if callable(res.collection) else res.collection


def list_response(app: App, req: Request, coll: str, records: list[Record], res: Resource | None = None) -> Response:
    if req.paged and (res is None or res.paged):
        start = (req.page() - 1) * PAGE_SIZE
        page = records[start : start + PAGE_SIZE]
    else:
        page = records
    if res is not None and res.view is not None:
        body = dumps([res.view(app, r) for r in page])
    else:
        body = app.store.array_bytes(coll, page)
    if res is not None and res.wrap:
        body = b'{"' + res.wrap.encode() + b'":' + body + b"}"
    return raw_json(body)


def record_response(app: App, coll: str, record: Record, res: Resource | None = None) -> Response:
    if res is not None and res.view is not None:
        return raw_json(dumps(res.view(app, record)))
    return raw_json(app.store.encoded(coll, record))


def register(router: Router, res: Resource) -> None:
    base = f"/{res.module}/v1{res.path}"
    item = base + "/{id}"

    def do_list(app: App, req: Request) -> Response:
        coll = collection_of(res, req)
        if isinstance(coll, Response):
            return coll
        records = app.store.all(coll)
        if res.filter is not None:
            records = res.filter(app, req, records)
        return list_response(app, req, coll, records, res)

    def do_create(app: App, req: Request) -> Response:
        coll = collection_of(res, req)
        if isinstance(coll, Response):
            return coll
        assert res.create is not None
        record = res.create(app, req)
        if isinstance(record, Response):
            return record
        app.store.save(coll, record)
        if res.answer is not None:
            resp = res.answer(app, record)
            resp.created = True
            return resp
        return created(record["id"])

    def found(app: App, req: Request) -> tuple[str, Record] | Response:
        coll = collection_of(res, req)
        if isinstance(coll, Response):
            return coll
        record = app.store.get(coll, req.params["id"])
        return (coll, record) if record is not None else not_found()

    def do_get(app: App, req: Request) -> Response:
        hit = found(app, req)
        return hit if isinstance(hit, Response) else record_response(app, hit[0], hit[1], res)

    def do_update(app: App, req: Request) -> Response:
        hit = found(app, req)
        if isinstance(hit, Response):
            return hit
        coll, record = hit
        if not isinstance(req.body, dict):
            return fail("Invalid body")
        stop = res.guard(app, req, record) if res.guard else None
        stop = stop or (res.update(app, req, record) if res.update else None)
        if stop is not None:
            return stop
        app.store.save(coll, record)
        return updated(record["id"])

    def do_delete(app: App, req: Request) -> Response:
        hit = found(app, req)
        if isinstance(hit, Response):
            return hit
        coll, record = hit
        stop = res.guard(app, req, record) if res.guard else None
        if stop is not None:
            return stop
        if res.on_delete is not None:
            return res.on_delete(app, record) or deleted(record["id"])
        app.store.delete(coll, record["id"])
        return deleted(record["id"])

    for op, method, path, handler in (
        ("L", "GET", base, do_list),
        ("C", "POST", base, do_create),
        ("G", "GET", item, do_get),
        ("U", "PUT", item, do_update),
        ("D", "DELETE", item, do_delete),
    ):
        if op in res.ops:
            router.add(method, path, handler)


def simple(
    module: str,
    path: str,
    coll: str,
    fields: dict[str, Converter],
    defaults: dict[str, Any],
    required: tuple[str, ...] = (),
    derive: Callable[[Record], Any] | None = None,
    **extra: Any,
) -> Resource:
    """A resource whose create is `defaults` + the sent fields and whose update is partial.

    `derive` recomputes server-side fields (e.g. a product's total from price and tax) after both.
    """

    def create(app: App, req: Request) -> Record | Response:
        body = req.body if isinstance(req.body, dict) else {}
        for name in required:
            if body.get(name) in (None, ""):
                return fail(f"{name} needed")
        record = {"id": object_id(), **copy.deepcopy(defaults)}
        apply_fields(record, body, fields)
        if derive is not None:
            derive(record)
        return record

    def update(app: App, req: Request, record: Record) -> Response | None:
        apply_fields(record, req.body, fields)
        if derive is not None:
            derive(record)
        return None

    return Resource(module, path, coll, create=extra.pop("create", create), update=extra.pop("update", update), **extra)
