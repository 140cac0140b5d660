"""v2 products, services and taxes over the v1 `products`, `services`, `taxes`.

Invariants: prices and costs are strings; a product's or service's `taxes` are tax keys
(`s_iva_21`) and its v1 `tax` rate follows the first IVA key sent; `for_sale`/`for_purchase`/
`has_stock` are booleans (v1 0/1). Products page 50 by default, 100 at most; taxes are one page.
Writes go through the v1 product and service rules (totals computed there). PUT is partial.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..model import TAXES, num
from ..routes.invoicing import product_resource, service_resource
from ..store import Record
from .bridge import v1_writes
from .fields import amount, as_bool, as_number, str_list
from .resource import V2Resource

if TYPE_CHECKING:
    from ..server import App

_V1_PRODUCTS = product_resource()
_V1_SERVICES = service_resource()
_IVA = {t["key"]: num(t["amount"]) for t in TAXES if t["group"] == "iva"}


def _taxes_of(rate: Any, purchase: bool = False) -> list[str]:
    return [f"{'p' if purchase else 's'}_iva_{int(num(rate)) if float(num(rate)).is_integer() else num(rate)}"]


def _common(body: dict[str, Any]) -> dict[str, Any]:
    """The v1 fields products and services share."""
    out: dict[str, Any] = {}
    for name, v1_name in (("name", "name"), ("description", "desc")):
        if name in body:
            out[v1_name] = "" if body[name] is None else str(body[name])
    if "cost" in body:
        out["cost"] = as_number(body["cost"], "cost")
    if "tags" in body:
        out["tags"] = str_list(body["tags"], "tags")
    if "taxes" in body:
        keys = [k for k in str_list(body["taxes"], "taxes") if k in _IVA]
        if keys:
            out["tax"] = _IVA[keys[0]]
    if body.get("tax") is not None:
        out["tax"] = as_number(body["tax"], "tax")
    return out


# --- products --------------------------------------------------------------------------------


def product_view(app: App, p: Record) -> dict[str, Any]:
    """A stored product as v2 reads it."""
    return {
        "id": p["id"],
        "name": p["name"],
        "kind": p["kind"],
        "description": p["desc"],
        "sku": p["sku"],
        "barcode": p["barcode"],
        "price": amount(p["price"]),
        "cost": amount(p["cost"]),
        "total": amount(p["total"]),
        "taxes": _taxes_of(p["tax"]),
        "tags": list(p["tags"]),
        "stock": p["stock"],
        "has_stock": bool(p["hasStock"]),
        "for_sale": bool(p["forSale"]),
        "for_purchase": bool(p["forPurchase"]),
        "archived": bool(p.get("_archived", False)),
        "variants": list(p["variants"]),
    }


def _product_body(body: dict[str, Any]) -> dict[str, Any]:
    out = _common(body)
    for name in ("kind", "sku", "barcode"):
        if name in body:
            out[name] = "" if body[name] is None else str(body[name])
    if "price" in body:
        out["price"] = as_number(body["price"], "price")
    if body.get("stock") is not None:
        out["stock"] = int(as_number(body["stock"], "stock"))
    return out


def _product_flags(body: dict[str, Any], record: Record) -> None:
    for name, key in (("for_sale", "forSale"), ("for_purchase", "forPurchase"), ("has_stock", "hasStock")):
        if name in body:
            record[key] = int(as_bool(body[name], name))
    if "archived" in body:
        record["_archived"] = as_bool(body["archived"], "archived")


create_product, update_product = v1_writes(_V1_PRODUCTS, _product_body, _product_flags)


PRODUCTS = V2Resource(
    path="/products",
    collection="products",
    scope="inventory:products",
    name="Product",
    view=product_view,
    create=create_product,
    update=update_product,
    default_limit=50,
    max_limit=100,
)


# --- services --------------------------------------------------------------------------------


def service_view(app: App, s: Record) -> dict[str, Any]:
    """A stored service as v2 reads it."""
    return {
        "id": s["id"],
        "name": s["name"],
        "description": s["desc"],
        "price": amount(s["subtotal"]),
        "cost": amount(s["cost"]),
        "total": amount(s["total"]),
        "tax": s["tax"],
        "taxes": _taxes_of(s["tax"]),
        "tags": list(s["tags"]),
        "sales_channel_id": s["salesChannelId"] or None,
        "code": s.get("_code", ""),
        "color": s.get("_color", ""),
        "duration": s.get("_duration"),
        "archived": bool(s.get("_archived", False)),
    }


def _service_body(body: dict[str, Any]) -> dict[str, Any]:
    out = _common(body)
    if "price" in body:
        out["subtotal"] = as_number(body["price"], "price")
    if "sales_channel_id" in body:
        out["salesChannelId"] = str(body["sales_channel_id"] or "")
    return out


def _service_extras(body: dict[str, Any], record: Record) -> None:
    for name in ("code", "color", "duration"):
        if name in body:
            record[f"_{name}"] = body[name]


create_service, update_service = v1_writes(_V1_SERVICES, _service_body, _service_extras)


SERVICES = V2Resource(
    path="/services",
    collection="services",
    scope="sales:services",
    name="Service",
    view=service_view,
    create=create_service,
    update=update_service,
    filters={"include_archived": lambda r, v: True},
)


# --- taxes -----------------------------------------------------------------------------------


def tax_view(app: App, t: Record) -> dict[str, Any]:
    """One tax of the account: amounts are strings (`"21"`), as Holded serves them."""
    return {k: t[k] for k in ("key", "name", "amount", "scope", "group", "type") if k in t}


TAXES_RESOURCE = V2Resource(
    path="/taxes",
    collection="taxes",
    scope="accounting:taxes",
    name="Tax",
    view=tax_view,
    ops="L",
    paginated=False,
)

RESOURCES = (PRODUCTS, SERVICES, TAXES_RESOURCE)
