"""The sandbox's API v2 against Holded's v2 catalogue (../shared/holded-api/v2/).

`endpoints.md` lists every v2 operation (method, path, query parameters, body fields, permission
scope); `README.md` lists the fields of the main objects. Checked here: every route the sandbox
serves exists in the catalogue (contacts excepted: the catalogue has no contacts section, so they
follow the README's contact fields and the contacts spec it cites; webhook registration too: the README
has it, the list and delete are the sandbox's), with the catalogue's permission
scope where one is known; every list filter the sandbox honours is a catalogue query parameter;
every catalogue body field is accepted on create and update; every answer has the v2 shapes (cursor
envelope, ids, days, instants, string amounts) and the README's fields; v1 and v2 list the same ids.
Skipped, with the reason, when ../shared is not there (a fresh clone).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import requests

from holded_sandbox.testing import running_sandbox
from holded_sandbox.v2.routes import RESOURCES

V2_DIR = Path(__file__).resolve().parents[2] / "shared" / "holded-api" / "v2"
ENDPOINTS = V2_DIR / "endpoints.md"
if not ENDPOINTS.is_file():
    pytest.skip(f"Holded's v2 catalogue is missing: expected {ENDPOINTS} (the shared/ folder)", allow_module_level=True)

OPERATION = re.compile(r"^(GET|POST|PUT|DELETE|PATCH)\s+/api/v2(\S*)(?:\s+\?(\S+))?(?:\s+\{([^}]*)\})?\s*$")
SECTION = re.compile(r"^#\s+(\w+)\s+—\s+scope:\s+(.*)$")
SCOPE = re.compile(r"([a-z-]+:[a-z-]+)\.(?:read|write)")


def _shape(path: str) -> str:
    return re.sub(r"\{\w+\}", "{}", path)


def _catalogue() -> dict[tuple[str, str], dict[str, Any]]:
    ops: dict[tuple[str, str], dict[str, Any]] = {}
    scopes: set[str] = set()
    for line in ENDPOINTS.read_text().splitlines():
        section = SECTION.match(line.strip())
        if section:
            scopes = set(SCOPE.findall(section.group(2))) if "not seen" not in section.group(2) else set()
            continue
        found = OPERATION.match(line.strip())
        if found:
            method, path, query, body = found.groups()
            ops[(method, _shape(path))] = {
                "query": set((query or "").split(",")) - {""},
                "body": set((body or "").split(",")) - {""},
                "scopes": scopes,
            }
    return ops


CATALOGUE = _catalogue()
# The catalogue has no contacts section: these follow shared/holded-api/v2/README.md (Contact) and the
# contacts spec it cites (francodesystems/n8n-nodes-holded spec/contacts-v2.md).
CONTACT_ROUTES = {
    ("GET", "/contacts"), ("POST", "/contacts"), ("GET", "/contacts/{}"), ("PUT", "/contacts/{}"),
    ("DELETE", "/contacts/{}"), ("GET", "/contacts/search"), ("POST", "/contacts/bulk-delete"),
}  # fmt: skip
CONTACT_QUERY = {"phone", "mobile", "email", "custom_id", "code", "name"}
CONTACT_BODY = {"name", "code", "vat_number", "trade_name", "is_person", "email", "phone", "mobile", "website",
                "type", "bill_address", "custom_fields", "defaults", "contact_persons"}  # fmt: skip
# Webhook registration is not in endpoints.md: README.md ("Webhooks") has `POST /api/v2/webhooks` with
# `developers:webhooks.write` [SHOP]; nothing reports a list or a delete, so v2 serves neither.
WEBHOOK_ROUTES = {("POST", "/webhooks")}
# Fields the v2 README lists per object (shared/holded-api/v2/README.md, "Shapes").
README_FIELDS = {
    "/contacts": "id custom_id name code vat_number trade_name is_person email mobile phone type iban swift group_id "
    "tags bill_address client_record supplier_record defaults shipping_addresses notes contact_persons "
    "custom_fields website social_networks created_at updated_at",
    "/invoices": "id document_number contact_id contact_name description date due_date subtotal discount total tax "
    "currency status draft approved_at accounting_date tags notes language currency_change custom_fields "
    "project_id pipeline_id warehouse_id payments_total payments_pending payments_refunds payments_detail lines",
    "/leads": "id user_id funnel_id contact_id contact_name name person_id value potential due_date stage_id status "
    "custom_fields events tasks created_at updated_at",
    "/funnels": "id name stages labels created_at updated_at",
    "/events": "id name contact_id kind description start_date end_date status tags location lead_id funnel_id "
    "created_at updated_at",
    "/projects": "id name description contact_id start_date due_date tags archived status number_of_tasks "
    "completed_tasks billable users",
    "/employees": "id holded_user_id name last_name email phone mobile code job_title current_contract terminated",
    "/taxes": "key name amount",
}
FREE_FORM = (".custom_fields", ".defaults", ".social_networks", ".bill_address")  # no shape rule inside these
LINE_FIELDS = set(
    [
        "line_id",
        "name",
        "description",
        "price",
        "units",
        "discount",
        "tax",
        "taxes",
        "product_id",
        "service_id",
        "sku",
        "account",
        "retention",
    ]
)
NO_MODIFICATION_TIME = {"/invoices", "/projects", "/employees"}  # README: no updated_at there
MONEY = {"subtotal", "total", "tax", "price", "cost", "amount", "payments_total", "payments_pending", "value",
         "potential", "balance", "debit", "credit"}  # fmt: skip
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")


def _served() -> list[tuple[str, str, str]]:
    from holded_sandbox.v2.frame import V2Api

    return [(method, _shape(path.removeprefix("/v2")), permission) for method, path, permission in V2Api().routes]


SERVED = _served()


@pytest.fixture(scope="module")
def sb():
    with running_sandbox(scale=0.05, seed=3) as server:
        yield server


def _v2(sb, method: str, path: str, **kwargs: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {sb.api_token}"}
    return requests.request(method, f"{sb.base_url}/v2{path}", headers=headers, timeout=30, **kwargs)


def test_the_catalogue_is_read():
    assert len(CATALOGUE) >= 250, "expected endpoints.md to list about 315 v2 operations"


@pytest.mark.parametrize(("method", "path", "permission"), SERVED, ids=[f"{m} {p}" for m, p, _ in SERVED])
def test_every_served_route_is_in_the_catalogue_with_its_scope(method, path, permission):
    if (method, path) in CONTACT_ROUTES:
        assert (method, path) not in CATALOGUE, "endpoints.md now lists contacts: check them against it"
        assert permission == f"contacts:contacts.{'read' if method == 'GET' else 'write'}"
        return
    if (method, path) in WEBHOOK_ROUTES:
        assert (method, path) not in CATALOGUE, "endpoints.md now lists webhooks: check them against it"
        assert permission == f"developers:webhooks.{'read' if method == 'GET' else 'write'}"
        return
    assert (method, path) in CATALOGUE, f"{method} /api/v2{path} is not a Holded v2 operation"
    scopes = CATALOGUE[(method, path)]["scopes"]
    if scopes:
        assert permission.rsplit(".", 1)[0] in scopes, f"{permission} is not the catalogue's {scopes}"


def test_the_main_resources_are_all_served():
    served = {(m, p) for m, p, _ in SERVED}
    for base in ("/invoices", "/sales-receipts", "/credit-notes", "/estimates", "/proformas", "/sales-orders",
                 "/waybills", "/purchases", "/funnels", "/leads", "/events", "/projects", "/tasks", "/employees",
                 "/products", "/services", "/payments"):  # fmt: skip
        for op in (
            ("GET", base),
            ("POST", base),
            ("GET", base + "/{}"),
            ("PUT", base + "/{}"),
            ("DELETE", base + "/{}"),
        ):
            assert op in served and op in CATALOGUE, op
    for op in (("GET", "/taxes"), ("GET", "/ledger-entries"), ("GET", "/accounting-accounts"), ("GET", "/usage"),
               ("PUT", "/leads/{}/stage"), ("PUT", "/leads/{}/dates"), ("POST", "/invoices/{}/approve"),
               ("DELETE", "/invoices"), ("GET", "/treasury/accounts"), ("GET", "/numbering-series/{}")):  # fmt: skip
        assert op in served, op


@pytest.mark.parametrize("res", [r for r in RESOURCES if "L" in r.ops], ids=lambda r: r.path)
def test_list_filters_are_catalogue_query_parameters(res):
    allowed = CONTACT_QUERY if res.path == "/contacts" else CATALOGUE[("GET", _shape(res.path))]["query"]
    assert set(res.filters) | set(res.required_query) <= allowed


def _value(name: str, ids: dict[str, str]) -> Any:
    """A plausible value for a catalogue body field, by its name."""
    if name in ids:
        return ids[name]
    if name.endswith("date") or name == "date_of_birth":
        return "2024-01-01"
    table: dict[str, Any] = {
        "items": [{"name": "Línea", "price": 10, "units": 2, "tax": 21}], "tags": ["conformidad"],
        "custom_fields": [{"field": "f", "value": "v"}], "stages": [{"name": "Uno"}, {"name": "Dos"}],
        "taxes": ["s_iva_21"], "team_ids": ["t1"], "lists": [], "variants": [], "pack_items": [],
        "bill_address": {"city": "Madrid"}, "defaults": {"due_days": 10}, "contact_persons": [{"name": "Ana"}],
        "is_person": False, "has_stock": True, "for_sale": True, "for_purchase": True, "billable": True,
        "allow_notifications": True, "archived": False, "status": 0, "kind": "simple", "email": "c@x.es",
        "currency": "EUR", "language": "es", "name": "Conformidad", "last_name": "Pruebas", "tax": 21,
        "date_time": "2030-01-02T10:00:00Z", "timezone": "Europe/Madrid",
    }  # fmt: skip
    if name in table:
        return table[name]
    if name.endswith("_id"):
        return "5f0000000000000000000001"  # an id the account does not have: references are not checked
    if name in {"value", "potential", "price", "cost", "amount", "discount", "currency_change", "stock", "duration",
                "account_number", "account_num"}:  # fmt: skip
        return 1
    return "conformidad"


def _ids(sb) -> dict[str, str]:
    first = {path: _v2(sb, "GET", path, params={"limit": 1}).json()["items"][0] for path in
             ("/contacts", "/funnels", "/projects", "/booking-locations")}  # fmt: skip
    return {
        "location_id": first["/booking-locations"]["id"],
        "service_id": first["/booking-locations"]["service_ids"][0],
        "contact_id": first["/contacts"]["id"],
        "funnel_id": first["/funnels"]["id"],
        "stage_id": first["/funnels"]["stages"][0]["id"],
        "project_id": first["/projects"]["id"],
        "type": "client",
    }


WRITABLE = [r for r in RESOURCES if "C" in r.ops and "U" in r.ops]


@pytest.mark.parametrize("res", WRITABLE, ids=lambda r: r.path)
def test_every_catalogue_body_field_is_accepted_on_create_and_update(sb, res):
    ids = _ids(sb)
    if res.path == "/payments":
        ids["type"] = "income"
    base = _shape(res.path)
    fields = CONTACT_BODY if base == "/contacts" else CATALOGUE[("POST", base)]["body"]
    resp = _v2(sb, "POST", res.path, json={f: _value(f, ids) for f in fields})
    assert resp.status_code == 201 and OBJECT_ID.match(resp.json()["id"]), resp.text
    rid = resp.json()["id"]
    fields = CONTACT_BODY if base == "/contacts" else CATALOGUE[("PUT", base + "/{}")]["body"]
    resp = _v2(sb, "PUT", f"{res.path}/{rid}", json={f: _value(f, ids) for f in fields})
    assert resp.status_code == 200, resp.text
    assert resp.json() == ({"status": 1} if base == "/contacts" else {"id": rid})


def _check_shapes(where: str, obj: Any) -> None:
    if isinstance(obj, list):
        for item in obj:
            _check_shapes(where, item)
        return
    if not isinstance(obj, dict):
        return
    if where.endswith(FREE_FORM):
        return
    for key, value in obj.items():
        at = f"{where}.{key}"
        if key in ("created_at", "updated_at", "approved_at") and value is not None:
            assert INSTANT.match(value), f"{at}: {value!r} is not an ISO instant"
        elif key in ("date", "due_date", "accounting_date") and value is not None and "ledger" not in where:
            assert DAY.match(value), f"{at}: {value!r} is not YYYY-MM-DD"
        elif key in MONEY and "taxes" not in where and not (key == "tax" and ".lines" in where):
            assert isinstance(value, str | int), f"{at}: {value!r}"
            if isinstance(value, str) and key != "amount":
                assert re.match(r"^-?\d+\.\d{2}$", value), f"{at}: {value!r} is not a 2-decimal amount string"
        elif (key == "id" or key.endswith("_id")) and isinstance(value, str) and value and key != "custom_id":
            assert OBJECT_ID.match(value) or "ledger" in where or key == "line_id", f"{at}: {value!r}"
        _check_shapes(at, value)


LISTS = [r for r in RESOURCES if "L" in r.ops]


@pytest.mark.parametrize("res", LISTS, ids=lambda r: r.path)
def test_list_and_get_answers_have_the_v2_shapes_and_the_readme_fields(sb, res):
    resp = _v2(sb, "GET", res.path, params={"limit": 3})
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("application/json")
    page = resp.json()
    assert set(page) == {"items", "cursor", "has_more"} and page["items"], res.path
    assert page["cursor"] == (page["items"][-1]["id"] if page["has_more"] else None)
    _check_shapes(res.path, page["items"])
    wanted = set(README_FIELDS.get(res.path, "id").split())
    for item in page["items"]:
        assert wanted <= set(item), f"{res.path}: missing {sorted(wanted - set(item))}"
        if res.path in NO_MODIFICATION_TIME:
            assert "updated_at" not in item
        for line in item.get("lines", []) if res.path not in ("/ledger-entries",) else []:
            assert set(line) >= LINE_FIELDS and OBJECT_ID.match(line["line_id"])
    if "G" in res.ops:
        one = _v2(sb, "GET", f"{res.path}/{page['items'][0]['id']}").json()
        assert one == page["items"][0]  # lists carry the same view as get


def test_extra_lists_have_the_v2_shapes(sb):
    for path, params in (("/ledger-entries", {"start_date": "2024-01-01", "end_date": "2024-03-31"}),
                         ("/accounting-accounts", {}), ("/contacts/search", {"name": "a"}),
                         ("/numbering-series/invoices", {})):  # fmt: skip
        page = _v2(sb, "GET", path, params={**params, "limit": 5}).json()
        assert set(page) == {"items", "cursor", "has_more"} and page["items"], path
        _check_shapes(path.replace("-entries", "ledger"), page["items"])


SAME_COLLECTION = [
    ("/contacts", "/invoicing/v1/contacts", None), ("/invoices", "/invoicing/v1/documents/invoice", None),
    ("/estimates", "/invoicing/v1/documents/estimate", None), ("/purchases", "/invoicing/v1/documents/purchase", None),
    ("/funnels", "/crm/v1/funnels", None), ("/leads", "/crm/v1/leads", None), ("/events", "/crm/v1/events", None),
    ("/projects", "/projects/v1/projects", None), ("/tasks", "/projects/v1/tasks", None),
    ("/employees", "/team/v1/employees", "employees"), ("/products", "/invoicing/v1/products", None),
    ("/services", "/invoicing/v1/services", None), ("/payments", "/invoicing/v1/payments", None),
    ("/treasury/accounts", "/invoicing/v1/treasury", None),
]  # fmt: skip


@pytest.mark.parametrize(("v2_path", "v1_path", "wrap"), SAME_COLLECTION, ids=[p for p, _, _ in SAME_COLLECTION])
def test_v1_and_v2_list_the_same_ids(sb, v2_path, v1_path, wrap):
    v1 = requests.get(f"{sb.base_url}{v1_path}", headers={"key": sb.api_key}, timeout=30).json()
    v1_ids = {r["id"] for r in (v1[wrap] if wrap else v1)}
    v2_ids: set[str] = set()
    cursor = None
    while True:
        page = _v2(sb, "GET", v2_path, params={"limit": 100, **({"cursor": cursor} if cursor else {})}).json()
        v2_ids |= {item["id"] for item in page["items"]}
        if not page["has_more"]:
            break
        cursor = page["cursor"]
    assert v2_ids == v1_ids and v1_ids
